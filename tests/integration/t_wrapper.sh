#!/bin/sh
# The wrapper and the hooks' user-visible behaviour: configuration errors
# stop the run, setuid programs are refused, LD_PRELOAD is prepended, help,
# version, -q/-v and log files, getpeername, IPv4-mapped IPv6, non-blocking
# connect, and the config file search order.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl
start_http
start_danted none
url=http://127.0.0.1:$HTTP_PORT/
marker=$SFY_TMP/marker
conf=$SFY_TMP/good.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none"

# bad_config WHAT WANT_IN_STDERR SOCKSIFY_ARGS... — must exit non-zero,
# say WANT on stderr, and not run the command (which would touch marker).
bad_config() {
	what=$1
	want=$2
	shift 2
	rm -f "$marker"
	if sfy "$@" touch "$marker" 2>"$SFY_TMP/err"; then
		fail "$what: socksify exited 0"
	fi
	[ -e "$marker" ] && fail "$what: the command ran anyway"
	grep -qF -- "$want" "$SFY_TMP/err" ||
		fail "$what: '$want' not in: $(cat "$SFY_TMP/err")"
	say "$what: refused ($(head -n 1 "$SFY_TMP/err"))"
}
bad=$SFY_TMP/bad.conf
write_conf "$bad" "# a comment" "" "frobnicate yes"
bad_config "unknown key" "$bad:3:" -f "$bad"
write_conf "$bad" "proxy ftp://127.0.0.1:3128"
bad_config "bad proxy URL" "$bad:1:" -f "$bad"
write_conf "$bad" "proxy socks5://127.0.0.1:1080" "direct 10.0.0.0/33"
bad_config "bad CIDR" "$bad:2:" -f "$bad"
write_conf "$bad" "proxy socks5://127.0.0.1:1080" "connect_timeout soon"
bad_config "bad timeout" "$bad:2:" -f "$bad"
bad_config "missing file" "$SFY_TMP/nonexistent.conf" \
	-f "$SFY_TMP/nonexistent.conf"
write_conf "$bad" "proxy socks5://127.0.0.1:1080"
chmod 000 "$bad"
# root reads any file; drop to nobody so the file is really unreadable.
if command -v setpriv >/dev/null; then
	rm -f "$marker"
	chmod 777 "$SFY_TMP"
	if setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SOCKSIFY" -f "$bad" sh -c "touch $marker" 2>"$SFY_TMP/err"; then
		fail "unreadable config: socksify exited 0"
	fi
	[ -e "$marker" ] && fail "unreadable config: the command ran"
	grep -qF "$bad" "$SFY_TMP/err" ||
		fail "unreadable config: no file name in: $(cat "$SFY_TMP/err")"
	chmod 755 "$SFY_TMP"
	say "unreadable config: refused"
fi
chmod 600 "$bad"
bad_config "bad -x URL" "" -x "socks9://nowhere"
SOCKSIFY_PROXY=not-a-url bad_config "bad SOCKSIFY_PROXY" ""
SOCKSIFY_LOG=loud bad_config "bad SOCKSIFY_LOG" "" -f "$conf"

# A library preloaded by hand with a bad config fails every connection
# rather than going direct (loopback would be direct by default).
write_conf "$bad" "proxy socks5://127.0.0.1:1080" "bogus line"
requests=$(grep -c 'GET /' "$SFY_TMP/http.log")
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$bad \
	"$PROGS/connect_errno" 127.0.0.1 "$HTTP_PORT" 2>/dev/null)
[ "$out" = OK ] && fail "hand-preloaded library with a bad config connected"
[ -z "$out" ] && fail "hand-preloaded connect_errno printed nothing"
expect_eq "no request reached the target" \
	"$(grep -c 'GET /' "$SFY_TMP/http.log")" "$requests"
say "hand-preloaded with a bad config: connect fails ($out)"

# setuid/setgid programs are refused (the loader would drop the preload).
cp "$(command -v touch)" "$SFY_TMP/suid-touch"
chmod 4755 "$SFY_TMP/suid-touch"
rm -f "$marker"
sfy -f "$conf" "$SFY_TMP/suid-touch" "$marker" 2>"$SFY_TMP/err" &&
	fail "setuid program: socksify exited 0"
[ -e "$marker" ] && fail "setuid program was run"
grep -qi setuid "$SFY_TMP/err" || fail "no setuid message: $(cat "$SFY_TMP/err")"
chmod 2755 "$SFY_TMP/suid-touch"
sfy -f "$conf" "$SFY_TMP/suid-touch" "$marker" 2>/dev/null &&
	fail "setgid program: socksify exited 0"
[ -e "$marker" ] && fail "setgid program was run"
say "setuid and setgid programs refused"

# A statically linked program cannot take the preload: without the seccomp
# supervisor (SOCKSIFY_SUPERVISOR=off stands for a kernel without it; see
# t_static.sh for the supervisor) it is refused (exit 126), never run
# unproxied. It would create the marker if it ran.
printf '#include <fcntl.h>\nint main(int c, char **v) { (void)c; return open(v[1], O_CREAT | O_WRONLY, 0600) < 0; }\n' \
	>"$SFY_TMP/static.c"
cc -static -o "$SFY_TMP/static-touch" "$SFY_TMP/static.c" ||
	fail "cannot build a static test program"
rm -f "$marker"
SOCKSIFY_SUPERVISOR=off sfy -f "$conf" "$SFY_TMP/static-touch" "$marker" \
	2>"$SFY_TMP/err"
expect_eq "static program: exit status" "$?" 126
[ -e "$marker" ] && fail "static program was run"
grep -q "statically linked" "$SFY_TMP/err" ||
	fail "no static message: $(cat "$SFY_TMP/err")"
say "statically linked program refused"

# LD_PRELOAD is prepended; the earlier value stays and is loaded.
other=$(ldconfig -p |
	sed -n 's/^[[:space:]]*libutil\.so\.1 .*=> //p' | head -n 1)
[ -f "$other" ] || fail "cannot find a harmless library to preload ($other)"
out=$(LD_PRELOAD=$other sfy -f "$conf" "$PYTHON" -c '
import os
print(os.environ["LD_PRELOAD"])
maps = open("/proc/self/maps").read()
print("socksify-mapped" if "libsocksify.so" in maps else "socksify-missing")
print("other-mapped" if os.path.basename(os.environ["LD_PRELOAD"].split()[-1]) in maps else "other-missing")')
expect_eq "LD_PRELOAD prepended" "$out" "$SOCKSIFY_LIBRARY $other
socksify-mapped
other-mapped"

# --help, --version, unknown option, no command.
out=$(sfy --help) || fail "--help exited non-zero"
expect_contains "--help" "$out" "Usage"
expect_contains "--help" "$out" "--proxy"
out=$(sfy --version) || fail "--version exited non-zero"
expect_contains "--version" "$out" "1.0.0"
sfy --no-such-option true 2>/dev/null && fail "unknown option accepted"
sfy 2>/dev/null && fail "no command accepted"
say "--help, --version, bad usage: ok"

# Logging: quiet on success by default; -v one line per decision on stderr
# (never stdout); -q silences even errors; SOCKSIFY_LOG_FILE.
out=$(sfy -f "$conf" "$PROGS/connect_errno" 127.0.0.1 "$HTTP_PORT" \
	2>"$SFY_TMP/err")
expect_eq "default: stdout" "$out" OK
[ -s "$SFY_TMP/err" ] && fail "default level logged on success: $(cat "$SFY_TMP/err")"
out=$(sfy -v -f "$conf" "$PROGS/connect_errno" 127.0.0.1 "$HTTP_PORT" \
	2>"$SFY_TMP/err")
expect_eq "-v: stdout untouched" "$out" OK
grep -q "^socksify\[[0-9]*\]" "$SFY_TMP/err" ||
	fail "-v logged nothing: $(cat "$SFY_TMP/err")"
grep -q "127.0.0.1.*$HTTP_PORT\|$HTTP_PORT.*127.0.0.1" "$SFY_TMP/err" ||
	fail "-v line does not name the destination: $(cat "$SFY_TMP/err")"
grep -q "$DANTED_PORT" "$SFY_TMP/err" ||
	fail "-v line does not name the proxy: $(cat "$SFY_TMP/err")"
say "-v: $(head -n 1 "$SFY_TMP/err")"
dead=$(free_port)
out=$(sfy -x "socks5://127.0.0.1:$dead" -f "$conf" "$PROGS/connect_errno" \
	127.0.0.1 "$HTTP_PORT" 2>"$SFY_TMP/err")
grep -q "^socksify\[" "$SFY_TMP/err" ||
	fail "a failure was not logged by default: $(cat "$SFY_TMP/err")"
out=$(sfy -q -x "socks5://127.0.0.1:$dead" -f "$conf" \
	"$PROGS/connect_errno" 127.0.0.1 "$HTTP_PORT" 2>"$SFY_TMP/err")
expect_eq "-q: the failure is still reported to the program" "$out" ECONNREFUSED
[ -s "$SFY_TMP/err" ] && fail "-q still logged: $(cat "$SFY_TMP/err")"
logf=$SFY_TMP/sfy.log
out=$(SOCKSIFY_LOG_FILE=$logf SOCKSIFY_LOG=info sfy -f "$conf" \
	"$PROGS/connect_errno" 127.0.0.1 "$HTTP_PORT" 2>"$SFY_TMP/err")
expect_eq "log file: stdout" "$out" OK
[ -s "$SFY_TMP/err" ] && fail "SOCKSIFY_LOG_FILE set but stderr used: $(cat "$SFY_TMP/err")"
grep -q "^socksify\[[0-9]*\]" "$logf" || fail "nothing in SOCKSIFY_LOG_FILE"
say "-q, -v, SOCKSIFY_LOG, SOCKSIFY_LOG_FILE: ok"

# getpeername() gives the destination asked for, not the proxy.
start_fault ok
fconf=$SFY_TMP/fault.conf
write_conf "$fconf" "proxy socks5h://127.0.0.1:$FAULT_PORT" "direct none"
out=$(sfy -f "$fconf" "$PYTHON" -c '
import socket
s = socket.create_connection(("127.0.0.9", 4444), 10)
print(s.getpeername())
s6 = socket.socket(socket.AF_INET6)
s6.connect(("::1", 4445))
print(s6.getpeername()[:2])
d = s.dup()
print("dup", d.getpeername())
fd = s.fileno()
s.close()
d.close()
a, b = socket.socketpair()
print("fd reused", fd in (a.fileno(), b.fileno()), repr(a.getpeername()))')
expect_eq "getpeername" "$out" "('127.0.0.9', 4444)
('::1', 4445)
dup ('127.0.0.9', 4444)
fd reused True ''"
grep -q 'atyp=1 host=127.0.0.9 port=4444' "$FAULT_REC" ||
	fail "getpeername test did not cross the proxy: $(cat "$FAULT_REC")"

# IPv4-mapped IPv6 on an AF_INET6 socket is proxied like IPv4, fake
# addresses included.
before=$(danted_connects_to "$HTTP_PORT")
out=$(sfy -f "$conf" "$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET6)
s.settimeout(20)
s.connect(("::ffff:127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(s.makefile("rb").read().decode())' "$HTTP_PORT") ||
	fail "mapped IPv4 connect failed"
expect_contains "::ffff:127.0.0.1 fetch" "$out" "$HTTP_TOKEN"
after=$(wait_count $((before + 1)) danted_connects_to "$HTTP_PORT")
expect_eq "::ffff:127.0.0.1 went through danted" "$after" $((before + 1))
out=$(sfy -f "$fconf" "$PYTHON" -c '
import socket
fake = socket.getaddrinfo("mapped.socksify.test", 80, socket.AF_INET)[0][4][0]
s = socket.socket(socket.AF_INET6)
s.settimeout(10)
s.connect(("::ffff:" + fake, 4446))
s.sendall(b"x\n")
print(fake, s.recv(10))')
expect_contains "::ffff:FAKE" "$out" "b'x\\n'"
grep -q 'atyp=3 host=mapped.socksify.test port=4446' "$FAULT_REC" ||
	fail "::ffff:FAKE did not send the name: $(cat "$FAULT_REC")"
say "IPv4-mapped IPv6: proxied, fake addresses included"

# Non-blocking connect the POSIX way.
before=$(danted_connects_to "$HTTP_PORT")
out=$(sfy -f "$conf" "$PYTHON" -c '
import errno, select, socket, sys
s = socket.socket()
s.setblocking(False)
rc = s.connect_ex(("127.0.0.1", int(sys.argv[1])))
print("connect", "0" if rc == 0 else errno.errorcode[rc])
_, w, _ = select.select([], [s], [], 20)
print("writable", bool(w))
print("SO_ERROR", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
print("still non-blocking", not s.getblocking())
s.setblocking(True)
s.settimeout(20)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
print(s.makefile("rb").read().decode())' "$HTTP_PORT") ||
	fail "non-blocking python connect failed: $out"
case $out in
"connect 0"* | "connect EINPROGRESS"*) ;;
*) fail "non-blocking connect: $out" ;;
esac
expect_contains "non-blocking" "$out" "writable True
SO_ERROR 0
still non-blocking True"
expect_contains "non-blocking fetch" "$out" "$HTTP_TOKEN"
after=$(wait_count $((before + 1)) danted_connects_to "$HTTP_PORT")
expect_eq "non-blocking connect went through danted" "$after" $((before + 1))
say "non-blocking connect: $(printf '%s' "$out" | head -n 1), SO_ERROR 0"

# Config search: $XDG_CONFIG_HOME/socksify/socksify.conf without -f;
# SOCKSIFY_PROXY replaces its proxy.
mkdir -p "$XDG_CONFIG_HOME/socksify"
write_conf "$XDG_CONFIG_HOME/socksify/socksify.conf" \
	"proxy socks5h://127.0.0.1:$FAULT_PORT" "direct none"
: >"$FAULT_REC"
out=$(sfy "$PROGS/connect_errno" 127.0.0.1 4447)
expect_eq "XDG config" "$out" OK
grep -q 'port=4447' "$FAULT_REC" || fail "XDG config not used"
before=$(danted_connects_to "$HTTP_PORT")
out=$(SOCKSIFY_PROXY=socks5h://127.0.0.1:$DANTED_PORT sfy curl -sS \
	--max-time 20 "$url") || fail "SOCKSIFY_PROXY run failed"
expect_contains "SOCKSIFY_PROXY" "$out" "$HTTP_TOKEN"
after=$(wait_count $((before + 1)) danted_connects_to "$HTTP_PORT")
expect_eq "SOCKSIFY_PROXY used (direct none kept from the file)" "$after" \
	$((before + 1))
# Without "direct none", loopback stays direct by default.
write_conf "$XDG_CONFIG_HOME/socksify/socksify.conf" \
	"proxy socks5h://127.0.0.1:$DANTED_PORT"
before=$(danted_connects_to "$HTTP_PORT")
out=$(sfy curl -sS --max-time 20 "$url") || fail "default-direct fetch failed"
sleep 0.3
expect_eq "loopback direct by default" "$(danted_connects_to "$HTTP_PORT")" \
	"$before"
say "config search order and default loopback direct: ok"

# Not everything is proxied: AF_UNIX is untouched, and UDP to a direct
# destination (loopback, by default) is still sent.
out=$(sfy -x "socks5h://127.0.0.1:$DANTED_PORT" "$PYTHON" -c '
import os, socket, sys
path = os.path.join(sys.argv[1], "unix.sock")
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(1)
c = socket.socket(socket.AF_UNIX)
c.connect(path)
print("unix ok")
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
r.settimeout(5)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"direct-udp", r.getsockname())
print(r.recv(100).decode())' "$SFY_TMP") || fail "AF_UNIX / direct UDP: $out"
expect_eq "AF_UNIX and direct UDP" "$out" "unix ok
direct-udp"

# A password in a config others can read draws a warning.
pw=$SFY_TMP/pw.conf
write_conf "$pw" "proxy socks5h://u:secretpw@127.0.0.1:$DANTED_PORT" \
	"direct none"
chmod 644 "$pw"
sfy -f "$pw" true 2>"$SFY_TMP/err"
grep -qi 'warn\|readable\|permission' "$SFY_TMP/err" ||
	fail "no warning for a world-readable password: $(cat "$SFY_TMP/err")"
grep -q secretpw "$SFY_TMP/err" && fail "the password was printed"
say "world-readable password: warned"
sfy_pass
