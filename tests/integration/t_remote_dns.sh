#!/bin/sh
# Remote DNS: names resolvable ONLY by the proxy. danted runs in a private
# mount namespace whose /etc/hosts maps target.socksify.test to 127.0.0.1;
# the client cannot resolve the name itself. Every resolver call socksify
# hooks must answer with a fake address that leads back to the name, and a
# connect to it must send the NAME (ATYP 3 / SOCKS4a), never an address.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl wget nc getent
[ -x "$PROGS/resolve" ] || fail "no $PROGS/resolve (run make)"
start_http
start_danted none
url=http://$TARGET_NAME:$HTTP_PORT/

if getent hosts "$TARGET_NAME" >/dev/null; then
	fail "$TARGET_NAME resolves locally; the test would prove nothing"
fi

# The issue's acceptance command, exactly: -x only, no config file.
expect_via_danted "socksify -x socks5h:// curl http://NAME/" "$HTTP_PORT" \
	sfy -x "socks5h://127.0.0.1:$DANTED_PORT" curl -sS --max-time 20 "$url"
expect_via_danted "wget by name" "$HTTP_PORT" \
	sfy -x "socks5h://127.0.0.1:$DANTED_PORT" wget -q -T 20 -t 1 -O - "$url"
expect_via_danted "nc by name" "$HTTP_PORT" sh -c \
	'printf "GET / HTTP/1.0\r\n\r\n" | "$1" -x "$2" nc -N -w 20 "$3" "$4"' \
	nc "$SOCKSIFY" "socks5h://127.0.0.1:$DANTED_PORT" "$TARGET_NAME" \
	"$HTTP_PORT"
expect_via_danted "python3 urllib by name" "$HTTP_PORT" \
	sfy -x "socks5h://127.0.0.1:$DANTED_PORT" "$PYTHON" -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$url"
grep -q "$TARGET_NAME" "$DANTED_LOG" ||
	say "note: danted logs the resolved address, not the name"

# Every hooked resolver call answers from the fake ranges (defaults
# 240.0.0.0/4 and fd5c:6f63:6b73::/48) and reverses back to the name.
out=$(sfy -x "socks5h://127.0.0.1:$DANTED_PORT" "$PROGS/resolve" \
	"$TARGET_NAME") || fail "resolver calls failed: $out"
printf '%s\n' "$out" | while read -r call value; do
	case $call in
	getaddrinfo4 | getaddrinfo_a | gethostbyname | gethostbyname_r)
		case $value in
		24[0-9].* | 25[0-5].*) ;;
		*) echo "$call: $value is not a fake IPv4 address" ;;
		esac
		;;
	getaddrinfo6 | gethostbyname2_6 | gethostbyname2_r6)
		case $value in
		fd5c:6f63:6b73:*) ;;
		*) echo "$call: $value is not a fake IPv6 address" ;;
		esac
		;;
	getnameinfo | gethostbyaddr)
		[ "$value" = "$TARGET_NAME" ] ||
			echo "$call: $value is not $TARGET_NAME"
		;;
	esac
done >"$SFY_TMP/resolve.bad"
[ -s "$SFY_TMP/resolve.bad" ] && fail "$(cat "$SFY_TMP/resolve.bad")
full output:
$out"
v4=$(printf '%s\n' "$out" | sed -n 's/^getaddrinfo4 //p')
expect_eq "gethostbyname agrees with getaddrinfo" \
	"$(printf '%s\n' "$out" | sed -n 's/^gethostbyname //p')" "$v4"
say "resolver hooks: fake addresses, reverse lookups give the name"

# The resolver helpers' own self-test (progs/resolver.c), under the
# wrapper; it sends no packet.
if [ -x "$PROGS/resolver" ]; then
	out=$(sfy -x socks5h://127.0.0.1:1 "$PROGS/resolver" selftest 2>&1) ||
		fail "resolver selftest: $(printf '%s\n' "$out" | grep -v '^ok')"
	say "resolver selftest: $(printf '%s\n' "$out" | tail -n 1)"
fi

# Numeric literals and names from the local hosts file are never faked.
out=$(sfy -x "socks5h://127.0.0.1:$DANTED_PORT" "$PROGS/resolve" 127.0.0.2 |
	sed -n 's/^getaddrinfo4 //p')
expect_eq "a numeric literal" "$out" 127.0.0.2
out=$(sfy -x "socks5h://127.0.0.1:$DANTED_PORT" "$PYTHON" -c '
import socket
print(socket.getaddrinfo("127.0.0.3", 80, socket.AF_INET, socket.SOCK_STREAM,
      0, socket.AI_NUMERICHOST)[0][4][0])')
expect_eq "AI_NUMERICHOST" "$out" 127.0.0.3
out=$(sfy -x "socks5h://127.0.0.1:$DANTED_PORT" "$PROGS/resolve" localhost |
	sed -n 's/^getaddrinfo4 //p')
expect_eq "localhost (from /etc/hosts)" "$out" 127.0.0.1

# /etc/hosts there but not readable now (no descriptor free: the faultopen
# shim fails its open with EMFILE while a flag file exists): the lookup
# fails with that error instead of taking the name for one the file does
# not map (before, localhost got a fake address and went to the proxy);
# once the file can be opened again, the same process gets its address.
FAULTOPEN=$SFY_BUILD/faultopen/libfaultopen.so
[ -f "$FAULTOPEN" ] || fail "no $FAULTOPEN (run make)"
hconf=$SFY_TMP/hostsfault.conf
write_conf "$hconf" "proxy socks5h://127.0.0.1:$DANTED_PORT"
flag=$SFY_TMP/hosts.fault
: >"$flag"
hosts_faulted() {
	LD_PRELOAD="$SOCKSIFY_LIBRARY $FAULTOPEN" FAULTOPEN_SUFFIX=/etc/hosts \
		FAULTOPEN_WHILE=$flag SOCKSIFY_CONF=$hconf "$@"
}
out=$(hosts_faulted "$PYTHON" -c '
import os, socket, sys
def gai():
    try:
        return socket.getaddrinfo("localhost", 80, socket.AF_INET,
                                  socket.SOCK_STREAM)[0][4][0]
    except OSError as e:
        return "errno=%s" % e.errno
print("faulted", gai())
os.remove(sys.argv[1])
print("after", gai())' "$flag" 2>"$SFY_TMP/hostsfault.err") ||
	fail "hosts fault: lookups failed: $out $(cat "$SFY_TMP/hostsfault.err")"
expect_eq "getaddrinfo localhost while /etc/hosts cannot be opened" "$out" \
	"faulted errno=24
after 127.0.0.1"
expect_contains "its log" "$(cat "$SFY_TMP/hostsfault.err")" \
	"resolve localhost: cannot read /etc/hosts: Too many open files; refused"
: >"$flag"
out=$(hosts_faulted "$PROGS/resolve" localhost 2>/dev/null)
expect_eq "getaddrinfo, gethostbyname localhost while /etc/hosts cannot be opened" \
	"$(printf '%s\n' "$out" | grep -E '^(getaddrinfo4|gethostbyname) ')" \
	"getaddrinfo4 ERROR System error
gethostbyname ERROR Host name lookup failure"
rm -f "$flag"
say "/etc/hosts unreadable for now: lookups fail (EMFILE, TRY_AGAIN), no fake address"

# /etc/hosts is kept between lookups while it stays the same (its own file
# in a mount namespace, settled for 3 s first): with no descriptor free the
# names read before still resolve; an edit is read by the next lookup, and
# a file changed just now is read again every time (a same-size edit in
# the same clock tick could not leave a stale copy); an edit that cannot be
# read fails the lookup.
ehosts=$SFY_TMP/edit-hosts
printf '198.18.7.1 edited.test\n' >"$ehosts"
sleep 3.2
out=$(unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' \
	sh "$ehosts" env LD_PRELOAD="$SOCKSIFY_LIBRARY $FAULTOPEN" \
	FAULTOPEN_SUFFIX=/etc/hosts FAULTOPEN_WHILE="$flag" SOCKSIFY_CONF="$hconf" \
	"$PYTHON" -c '
import os, socket, sys
hosts, flag = sys.argv[1], sys.argv[2]
def gai():
    try:
        return socket.getaddrinfo("edited.test", 80, socket.AF_INET,
                                  socket.SOCK_STREAM)[0][4][0]
    except OSError as e:
        return "errno=%s" % e.errno
def edit(addr):
    with open(hosts, "r+") as f:
        f.write("%s edited.test\n" % addr)
print("read", gai())
open(flag, "w").close()
print("kept", gai())
os.remove(flag)
edit("198.18.7.2")
print("edited", gai())
edit("198.18.7.3")
print("again", gai())
open(flag, "w").close()
edit("198.18.7.4")
print("unreadable", gai())
os.remove(flag)' "$ehosts" "$flag" 2>"$SFY_TMP/hostskept.err") ||
	fail "hosts kept: lookups failed: $out $(cat "$SFY_TMP/hostskept.err")"
expect_eq "/etc/hosts kept, edited, unreadable" "$out" "read 198.18.7.1
kept 198.18.7.1
edited 198.18.7.2
again 198.18.7.3
unreadable errno=24"
rm -f "$flag"
say "/etc/hosts kept while unchanged (resolves with no descriptor free), edits read at once"

# The name goes to the proxy as ATYP 3 (domain), for both fake families.
start_fault ok
conf=$SFY_TMP/fault.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -4 -s by-name-4 "$TARGET_NAME" 4711)
expect_eq "connect by name (IPv4 fake)" "$out" "OK
ECHO by-name-4"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -6 -s by-name-6 "$ECHO_NAME" 4712)
expect_eq "connect by name (IPv6 fake)" "$out" "OK
ECHO by-name-6"
grep -q "atyp=3 host=$TARGET_NAME port=4711" "$FAULT_REC" ||
	fail "name not sent as ATYP 3: $(cat "$FAULT_REC")"
grep -q "atyp=3 host=$ECHO_NAME port=4712" "$FAULT_REC" ||
	fail "IPv6-faked name not sent as ATYP 3: $(cat "$FAULT_REC")"
grep -q 'atyp=[14] ' "$FAULT_REC" &&
	fail "an address was sent instead of a name: $(cat "$FAULT_REC")"
say "fault server recorded ATYP 3 with the name"

# With local DNS (socks5://) the name is resolved by libc: it fails here,
# and nothing reaches the proxy.
: >"$FAULT_REC"
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT"
out=$(sfy -f "$conf" "$PROGS/connect_errno" "$TARGET_NAME" 4713)
case $out in
EAI*) ;;
*) fail "socks5:// (local DNS) resolved $TARGET_NAME: $out" ;;
esac
[ -s "$FAULT_REC" ] && fail "local DNS failure still reached the proxy: $(cat "$FAULT_REC")"
# remote_dns on forces names through a socks5:// proxy.
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT" "remote_dns on"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s forced "$TARGET_NAME" 4714)
expect_eq "remote_dns on" "$out" "OK
ECHO forced"
grep -q "atyp=3 host=$TARGET_NAME port=4714" "$FAULT_REC" ||
	fail "remote_dns on: name not sent: $(cat "$FAULT_REC")"
# One name, one address: case and a trailing dot do not matter; AI_PASSIVE
# with no name is left to libc.
out=$(sfy -f "$conf" "$PYTHON" -c '
import socket, sys
f = lambda n: socket.getaddrinfo(n, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
n = sys.argv[1]
print(f(n) == f(n.upper()) == f(n + "."))
print(socket.getaddrinfo(None, 80, socket.AF_INET, socket.SOCK_STREAM, 0,
      socket.AI_PASSIVE)[0][4])' "$TARGET_NAME")
expect_eq "case, trailing dot, AI_PASSIVE" "$out" "True
('0.0.0.0', 80)"

# Names of 253 bytes (DNS's longest, with or without the root dot) go out
# whole; 254 bytes, an empty label ("a..") or a byte no host name holds are
# refused with EAI_NONAME before anything is sent.
label=$(printf '%063d' 0 | tr 0 a)
n253=$label.$label.$label.$(printf '%061d' 0 | tr 0 a)
: >"$FAULT_REC"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s long "$n253" 4715)
expect_eq "a 253-byte name" "$out" "OK
ECHO long"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s long. "$n253." 4715)
expect_eq "a 253-byte name and the root dot" "$out" "OK
ECHO long."
grep -q "atyp=3 host=$n253 port=4715" "$FAULT_REC" ||
	fail "253-byte name not sent whole: $(cat "$FAULT_REC")"
grep -q "atyp=3 host=$n253[.]" "$FAULT_REC" &&
	fail "the root dot reached the proxy: $(cat "$FAULT_REC")"
nonames="Name or service not known" # glibc's EAI_NONAME text
: >"$FAULT_REC"
for bad in "${n253}x" "$TARGET_NAME.." "a..$TARGET_NAME" "a b.test" \
	"user@$TARGET_NAME"; do
	out=$(sfy -f "$conf" "$PROGS/connect_errno" "$bad" 4716 2>/dev/null)
	expect_eq "refused name '$(printf '%.20s' "$bad")...'" "$out" \
		"EAI $nonames"
done
[ -s "$FAULT_REC" ] && fail "a refused name reached the proxy: $(cat "$FAULT_REC")"

# A full name map refuses new names (never a direct lookup) and keeps the
# names it has.
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" "fake_entries 16"
: >"$FAULT_REC"
out=$(sfy -f "$conf" "$PYTHON" -c '
import socket
ok = failed = 0
for i in range(20):
    try:
        socket.getaddrinfo("n%d.socksify.test" % i, 80, socket.AF_INET)
        ok += 1
    except socket.gaierror:
        failed += 1
s = socket.create_connection(("n0.socksify.test", 4717), 10)
s.sendall(b"still\n")
print(ok, failed, s.recv(10))' 2>/dev/null)
expect_eq "fake_entries 16, 20 names" "$out" "16 4 b'still\n'"
grep -q "atyp=3 host=n0.socksify.test port=4717" "$FAULT_REC" ||
	fail "map full: old name not sent: $(cat "$FAULT_REC")"

# A long run does not run out of names (it did after 65,536): 70,000
# names in one process, all distinct addresses; a later process of the run
# finds the last one at the same address (the grown map is shared).
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT"
out=$(sfy -f "$conf" sh -c '
"$1" -c "
import socket
seen = set()
failed = 0
for i in range(70000):
    try:
        a = socket.getaddrinfo(\"n%d.many.socksify.test\" % i, 80,
                               socket.AF_INET, socket.SOCK_STREAM)
        seen.add(a[0][4][0])
    except socket.gaierror:
        failed += 1
print(len(seen), failed, a[0][4][0])"
getent ahostsv4 n69999.many.socksify.test | head -n 1 | cut -d " " -f 1
' sh "$PYTHON" 2>&1)
set -- $out
[ $# = 4 ] || fail "70,000 names: $out"
expect_eq "70,000 names: distinct addresses, failures" "$1 $2" "70000 0"
expect_eq "the last name, from another process of the run" "$4" "$3"

# A custom fake range is honoured.
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" \
	"fake_ipv4 100.64.0.0/10"
out=$(sfy -f "$conf" "$PROGS/resolve" "$TARGET_NAME" |
	sed -n 's/^getaddrinfo4 //p')
case $out in
100.6[4-9].* | 100.[7-9][0-9].* | 100.1[01][0-9].* | 100.12[0-7].*) ;;
*) fail "fake_ipv4 100.64.0.0/10 not used: '$out'" ;;
esac
sfy_pass
