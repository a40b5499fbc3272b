#!/bin/sh
# The first connect of a process made when no descriptor is free cannot
# read the configuration file: that connect is refused (EACCES, logged, no
# direct connection), and a later one, with descriptors free again, reads
# the file and goes through the proxy. A real config error stays an error
# and is read once.
. "$(dirname "$0")/lib.sh"
sfy_init
need microsocks
start_microsocks

# start_target ADDR — a target that greets each connection with the source
# port it sees, and records it in TARGET_LOG: a direct connection would
# show the client's own port. Sets TARGET_PORT.
start_target() {
	TARGET_PORT=$(free_port)
	"$PYTHON" - "$1" "$TARGET_PORT" "$TARGET_LOG" \
		>"$SFY_TMP/target-$1.out" 2>&1 <<'PY' &
import socketserver, sys
addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class Greet(socketserver.BaseRequestHandler):
    def handle(self):
        peer = self.request.getpeername()[1]
        with open(log, "a") as f:
            f.write("%d\n" % peer)
        self.request.sendall(b"PEER %d\n" % peer)
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server((addr, port), Greet).serve_forever()
PY
	track $!
	wait_port "$1" "$TARGET_PORT"
	# wait_port's own connection was logged; count from here.
	sleep 0.2
	: >"$TARGET_LOG"
}
TARGET_LOG=$SFY_TMP/target.log
start_target 127.0.0.1

conf=$SFY_TMP/fc.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$MS_PORT" "direct none"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$conf \
	"$PROGS/firstconnect" 127.0.0.1 "$TARGET_PORT" 2>"$SFY_TMP/fc.err") ||
	fail "firstconnect failed: $(cat "$SFY_TMP/fc.err")"
first=$(printf '%s\n' "$out" | sed -n 's/^FIRST //p')
second=$(printf '%s\n' "$out" | sed -n 's/^SECOND //p')
path=$(printf '%s\n' "$out" | sed -n 's/^PATH //p')
expect_eq "first connect, no descriptor free" "$first" EACCES
expect_eq "second connect, descriptors free" "$second" OK
expect_eq "second connect's path" "$path" proxied
expect_contains "its log" "$(cat "$SFY_TMP/fc.err")" "tries again"
expect_eq "third connect" "$(printf '%s\n' "$out" | sed -n 's/^AGAIN //p')" OK
# The third connection may still be on its way to the target.
n=0
while [ "$(wc -l <"$TARGET_LOG")" -lt 2 ] && [ $n -lt 30 ]; do
	sleep 0.1
	n=$((n + 1))
done
expect_eq "connections the target saw" "$(wc -l <"$TARGET_LOG")" 2
say "no descriptor at the first connect: refused, then proxied: ok"

# The same with 8 threads whose first calls after the refusal race to
# load the configuration: each one must get it, whole.
: >"$TARGET_LOG"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$conf \
	"$PROGS/firstconnect" -t 8 127.0.0.1 "$TARGET_PORT" \
	2>"$SFY_TMP/fct.err") ||
	fail "firstconnect -t 8 failed: $(cat "$SFY_TMP/fct.err")"
expect_eq "threads: first connect" \
	"$(printf '%s\n' "$out" | sed -n 's/^FIRST //p')" EACCES
expect_eq "threads: then" \
	"$(printf '%s\n' "$out" | sed -n 's/^THREADS //p')" "proxied=8 of 8"
say "8 threads loading the configuration at once: all proxied: ok"

# No file, the proxy named by a host name in SOCKSIFY_PROXY: the file needs
# no descriptor, the name's lookup does (/etc/hosts, a DNS socket). The
# target is off loopback (loopback goes direct without a file): on the
# host side of a test namespace's link.
make_netns
lo_port=$TARGET_PORT
start_target "$HOST_ADDR"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_PROXY=socks5://localhost:$MS_PORT \
	"$PROGS/firstconnect" "$HOST_ADDR" "$TARGET_PORT" \
	2>"$SFY_TMP/fcn.err") ||
	fail "firstconnect (proxy name) failed: $(cat "$SFY_TMP/fcn.err")"
expect_eq "proxy name, first connect" \
	"$(printf '%s\n' "$out" | sed -n 's/^FIRST //p')" EACCES
expect_eq "proxy name, second connect" \
	"$(printf '%s\n' "$out" | sed -n 's/^SECOND //p')" OK
expect_eq "proxy name, second connect's path" \
	"$(printf '%s\n' "$out" | sed -n 's/^PATH //p')" proxied
expect_contains "proxy name, its log" "$(cat "$SFY_TMP/fcn.err")" \
	"resolve a proxy's host name"
say "proxy's host name unresolved at the first connect: refused, then proxied: ok"
TARGET_PORT=$lo_port

# Remote DNS: the process's first hooked call is a lookup of a name only
# the proxy can resolve (a microsocks in a mount namespace whose
# /etc/hosts knows it), made with no descriptor free. /etc/hosts cannot be
# read then, and it may map the name: the lookup fails (EAI_SYSTEM,
# EMFILE, logged) rather than hand out a fake address, as libc's own
# lookup fails there. Once descriptors are free the same lookup gets a
# fake address and the connect by name goes through microsocks.
MS_NS_PORT=$(free_port)
setsid unshare -m sh -c \
	'mount --bind "$1" /etc/hosts && exec microsocks -i 127.0.0.1 -p "$2"' \
	microsocks "$(proxy_hosts_file)" "$MS_NS_PORT" \
	>"$SFY_TMP/microsocks-ns.log" 2>&1 &
track_group $!
wait_port 127.0.0.1 "$MS_NS_PORT"
getent hosts "$TARGET_NAME" >/dev/null &&
	fail "$TARGET_NAME resolves locally; the test would prove nothing"
session=$$-firstdns
shm=/dev/shm/socksify-$(id -u)-$session
rm -f "$shm" "$shm-health"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_SESSION=$session \
	SOCKSIFY_PROXY=socks5h://127.0.0.1:$MS_NS_PORT \
	"$PROGS/firstconnect" -n "$TARGET_NAME" "$TARGET_PORT" \
	2>"$SFY_TMP/fcd.err") ||
	fail "firstconnect -n failed: $(cat "$SFY_TMP/fcd.err")"
field() { printf '%s\n' "$out" | sed -n "s/^$1 //p"; }
expect_eq "remote DNS, first lookup, no descriptor free" "$(field FIRST)" \
	EAI_SYSTEM/EMFILE
expect_contains "remote DNS, its log" "$(cat "$SFY_TMP/fcd.err")" \
	"cannot read /etc/hosts: Too many open files; refused"
expect_eq "remote DNS, next lookup" "$(field LOOKUP)" OK
addr=$(field ADDR)
case $addr in
24[0-9].* | 25[0-5].*) ;;
*) fail "remote DNS: '$addr' is not a fake address: $out" ;;
esac
expect_eq "remote DNS, connect by name" "$(field SECOND)" OK
expect_eq "remote DNS, its path" "$(field PATH)" proxied
rm -f "$shm" "$shm-health"
say "remote DNS, no descriptor at the first lookup: EAI_SYSTEM, then proxied by name: ok"

# The session's fake-DNS table (a file, unlike the anonymous memory used
# without a session) found no descriptor at the first lookup: the faultopen
# shim, after the library in LD_PRELOAD, fails the file's open with EMFILE
# until the program removes a flag file (/etc/hosts is read as usual).
# That lookup fails (EAI_FAIL, logged; no private table to fall back to,
# which would hand out other fake addresses), the next maps the session's
# file, gets a fake address and connects through microsocks by name;
# another process of the session reads the name back from that address.
FAULTOPEN=$SFY_BUILD/faultopen/libfaultopen.so
[ -f "$FAULTOPEN" ] || fail "no $FAULTOPEN (run make)"
flag=$SFY_TMP/fakedns.fault
: >"$flag"
lookups='
import os, socket, sys
name, port, flag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
codes = {socket.EAI_FAIL: "EAI_FAIL", socket.EAI_SYSTEM: "EAI_SYSTEM"}
def lookup():
    try:
        return socket.getaddrinfo(name, port, socket.AF_INET,
                                  socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror as e:
        return codes.get(e.errno, "EAI_%d" % e.errno)
print("FIRST", lookup())
os.remove(flag)
addr = lookup()
print("ADDR", addr)
s = socket.create_connection((addr, port), timeout=15)
peer = s.makefile().readline().split()[1]
print("PATH", "proxied" if peer != str(s.getsockname()[1]) else "direct")
'
out=$(LD_PRELOAD="$SOCKSIFY_LIBRARY $FAULTOPEN" \
	FAULTOPEN_SUFFIX=/socksify-$(id -u)-$session FAULTOPEN_WHILE=$flag \
	SOCKSIFY_SESSION=$session SOCKSIFY_PROXY=socks5h://127.0.0.1:$MS_NS_PORT \
	"$PYTHON" -c "$lookups" "$TARGET_NAME" "$TARGET_PORT" "$flag" \
	2>"$SFY_TMP/fcf.err") ||
	fail "remote DNS, table unmapped: $out $(cat "$SFY_TMP/fcf.err")"
expect_eq "remote DNS, table unmapped at the first lookup" "$(field FIRST)" \
	EAI_FAIL
addr=$(field ADDR)
case $addr in
24[0-9].* | 25[0-5].*) ;;
*) fail "remote DNS: '$addr' is not a fake address: $out" ;;
esac
expect_eq "remote DNS, table mapped later, its path" "$(field PATH)" proxied
expect_contains "remote DNS, table unmapped, its log" \
	"$(cat "$SFY_TMP/fcf.err")" "host name lookups fail until a later one maps it"
case $(cat "$SFY_TMP/fcf.err") in
*"table private"*)
	fail "remote DNS: fell back to a private table: $(cat "$SFY_TMP/fcf.err")"
	;;
esac
[ -f "$shm" ] || fail "remote DNS: the session's table file was never made"
back=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_SESSION=$session \
	SOCKSIFY_PROXY=socks5h://127.0.0.1:$MS_NS_PORT getent hosts "$addr")
expect_eq "remote DNS, the address's name in another process" \
	"$(printf '%s\n' "$back" | awk '{print $2}')" "$TARGET_NAME"
rm -f "$shm" "$shm-health"
say "remote DNS, the session's table unmapped at the first lookup: EAI_FAIL, then shared: ok"

# The health table of a failover group (its file beside the fake-DNS map,
# shared by the run's processes) found no descriptor when the
# configuration loaded: the faultopen shim, after the library in
# LD_PRELOAD, fails its open with EMFILE until the program removes a flag
# file. That process's first connection goes without down marks (the
# refusing member is tried and logged "(marked down)", but not
# remembered); its second, after the flag is gone, maps the session's file
# and marks the member down there; its third skips it; and another
# process of the session skips it too. Before, the first process fell
# back for good to a private table, and the other tried the member again.
session=$$-firsthealth
shm=/dev/shm/socksify-$(id -u)-$session
rm -f "$shm" "$shm-health"
hconf=$SFY_TMP/health.conf
write_conf "$hconf" "proxy socks5://127.0.0.1:$MS_PORT" \
	"group hf failover socks5://127.0.0.1:9 default" \
	"route 127.0.0.1 port $TARGET_PORT via hf" "direct none"
flag=$SFY_TMP/health.fault
: >"$flag"
hlog=$SFY_TMP/health.log
: >"$hlog"
: >"$TARGET_LOG"
connects='
import os, socket, sys
port, flag = int(sys.argv[1]), sys.argv[2]
def path():
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    peer = s.makefile().readline().split()[1]
    local = s.getsockname()[1]
    s.close()
    return "proxied" if peer != str(local) else "direct"
for i, step in enumerate(sys.argv[3:]):
    if step == "unflag":
        os.remove(flag)
        continue
    before = open(os.environ["SOCKSIFY_LOG_FILE"]).read().count("(marked down)")
    result = path()
    after = open(os.environ["SOCKSIFY_LOG_FILE"]).read().count("(marked down)")
    print(step, result, "marked=%d" % (after - before))
'
out=$(LD_PRELOAD="$SOCKSIFY_LIBRARY $FAULTOPEN" FAULTOPEN_SUFFIX=-health \
	FAULTOPEN_WHILE=$flag SOCKSIFY_SESSION=$session SOCKSIFY_CONF=$hconf \
	SOCKSIFY_LOG=info SOCKSIFY_LOG_FILE=$hlog \
	"$PYTHON" -c "$connects" "$TARGET_PORT" "$flag" FIRST unflag SECOND \
	THIRD 2>&1) || fail "health: connects failed: $out $(cat "$hlog")"
expect_eq "health, one process" "$out" "FIRST proxied marked=1
SECOND proxied marked=1
THIRD proxied marked=0"
expect_contains "health, its log" "$(cat "$hlog")" \
	"proxy health table cannot be mapped now (Too many open files)"
expect_contains "health, its log" "$(cat "$hlog")" \
	"proxy health table mapped after"
[ -f "$shm-health" ] || fail "health: the session's file was never made"
: >"$hlog"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_SESSION=$session \
	SOCKSIFY_CONF=$hconf SOCKSIFY_LOG=info SOCKSIFY_LOG_FILE=$hlog \
	"$PYTHON" -c "$connects" "$TARGET_PORT" "$flag" OTHER 2>&1) ||
	fail "health: connect failed: $out $(cat "$hlog")"
expect_eq "health, another process of the session" "$out" \
	"OTHER proxied marked=0"
rm -f "$shm" "$shm-health"
say "health table unmapped at load: no marks, then the session's file, shared: ok"

# A real config error: every connect refused, the error read once (the
# first connect finds no descriptor; the second reads the error; the third
# must not read the file again).
bad=$SFY_TMP/bad.conf
write_conf "$bad" "proxy socks5://127.0.0.1:$MS_PORT" "no-such-key 1"
: >"$TARGET_LOG"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$bad \
	"$PROGS/firstconnect" 127.0.0.1 "$TARGET_PORT" 2>"$SFY_TMP/bad.err") ||
	fail "firstconnect failed: $(cat "$SFY_TMP/bad.err")"
expect_eq "config error, first connect" \
	"$(printf '%s\n' "$out" | sed -n 's/^FIRST //p')" EACCES
expect_eq "config error, second connect" \
	"$(printf '%s\n' "$out" | sed -n 's/^SECOND //p')" EACCES
expect_eq "config error, third connect" \
	"$(printf '%s\n' "$out" | sed -n 's/^AGAIN //p')" EACCES
expect_eq "config error loads" \
	"$(grep -c 'every connection will be refused' "$SFY_TMP/bad.err")" 1
expect_eq "connections the target saw" "$(wc -l <"$TARGET_LOG")" 0
say "config error: refused every time, read once: ok"
sfy_pass
