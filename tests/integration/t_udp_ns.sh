#!/bin/sh
# UDP from a network namespace whose only reachable address is danted's
# (198.18.X.1, the host end of a veth pair). The echo and DNS servers are on
# the host's loopback, which the namespace cannot reach: a datagram that
# arrives there was relayed by danted (its log and the servers' records
# say so too). Clients: dig @server, dig with resolv.conf (port 53), nc -u,
# socat, python3 (sendto/recvfrom, connect+send/recv, sendmsg/recvmsg, a
# large datagram) and udpclient (sendmmsg/recvmmsg, two sockets, fork).
. "$(dirname "$0")/lib.sh"
sfy_init
need danted dig nc socat ip
[ -x "$PROGS/udpclient" ] || fail "no $PROGS/udpclient (run make)"
make_netns
start_danted_udp "$HOST_ADDR"
start_udp_echo
# A DNS server on port 53 of a host loopback address the namespace's
# resolv.conf names (the namespace's own 127.0.0.99 has nothing on it).
DNS_ADDR=127.0.0.99
start_dns 198.18.99.8 "$DNS_ADDR" 53
mkdir -p "/etc/netns/$NS"
printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$DNS_ADDR" \
	>"/etc/netns/$NS/resolv.conf"
conf=$SFY_TMP/ns.conf
write_conf "$conf" "proxy socks5h://$HOST_ADDR:$DANTED_PORT" "direct none"

# Controls: without socksify nothing answers from inside the namespace.
out=$(in_ns dig +tries=1 +time=1 +short "$TARGET_NAME" 2>&1) &&
	case $out in *198.18.99.8*) fail "the namespace reached the DNS" \
		"server without socksify; test is void" ;; esac
out=$(in_ns "$PYTHON" - "$UECHO_PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
try:
    s.sendto(b"control", ("127.0.0.1", int(sys.argv[1])))
    print(s.recv(100))
except OSError as e:
    print("unreachable", e)
PY
)
expect_contains "unproxied UDP from the namespace" "$out" "unreachable"
expect_eq "datagrams at the echo server after the controls" "$(uecho_count)" 0
: >"$DNS_REC"

# dig through the resolv.conf server (port 53) and with @server -p.
out=$(in_ns "$SOCKSIFY" -f "$conf" dig +tries=1 +time=5 +short \
	"$TARGET_NAME" 2>&1) || fail "dig (resolv.conf): $out"
expect_eq "dig (resolv.conf) answer" "$out" "198.18.99.8"
expect_peers_danted "dig (resolv.conf)" "$DNS_REC" 0 53
lines=$(wc -l <"$DNS_REC")
out=$(in_ns "$SOCKSIFY" -f "$conf" dig "@$DNS_ADDR" -p 53 +tries=1 +time=5 \
	+short "$ECHO_NAME" 2>&1) || fail "dig @server: $out"
expect_eq "dig @server answer" "$out" "198.18.99.8"
grep -q "query name=$ECHO_NAME type=1" "$DNS_REC" ||
	fail "the DNS server saw no query for $ECHO_NAME"
expect_peers_danted "dig @server" "$DNS_REC" "$lines" 53
say "dig from the namespace: ok (via danted)"

expect_udp_via_danted "nc -u from the namespace" 1 sh -c \
	'printf "ns-nc\n" | ip netns exec "$4" "$1" -f "$2" nc -u -w 2 127.0.0.1 "$3"' \
	nc "$SOCKSIFY" "$conf" "$UECHO_PORT" "$NS"
expect_eq "nc -u output" "$UDP_OUT" "ns-nc"
expect_udp_via_danted "nc -u by name from the namespace" 1 sh -c \
	'printf "ns-nc-name\n" | ip netns exec "$4" "$1" -f "$2" nc -u -w 2 "$5" "$3"' \
	nc "$SOCKSIFY" "$conf" "$UECHO_PORT" "$NS" "$ECHO_NAME"
expect_eq "nc -u by name output" "$UDP_OUT" "ns-nc-name"
expect_udp_via_danted "socat from the namespace" 1 sh -c \
	'printf "ns-socat\n" | ip netns exec "$4" "$1" -f "$2" socat -t 2 -T 5 - "UDP4:127.0.0.1:$3"' \
	socat "$SOCKSIFY" "$conf" "$UECHO_PORT" "$NS"
expect_eq "socat output" "$UDP_OUT" "ns-socat"

expect_udp_via_danted "python3 from the namespace" 6 \
	in_ns "$SOCKSIFY" -f "$conf" "$PYTHON" - "$UECHO_PORT" <<'PY'
import os, socket, sys
dest = ("127.0.0.1", int(sys.argv[1]))
bad = 0
def check(what, cond, detail=""):
    global bad
    print(("ok " if cond else "FAIL ") + what + ("" if cond else ": %r" % (detail,)))
    bad += 0 if cond else 1
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"ns-sendto", dest)
got = s.recvfrom(100)
check("sendto/recvfrom", got == (b"ns-sendto", dest), got)
s.sendmsg([b"ns-", b"sendmsg"], [], 0, dest)
data, anc, flags, src = s.recvmsg(100)
check("sendmsg/recvmsg", (data, src) == (b"ns-sendmsg", dest), (data, src))
for size in (1472, 8000, 65497):
    blob = os.urandom(size)
    s.sendto(blob, dest)
    try:
        data, src = s.recvfrom(70000)
    except OSError as e:
        data, src = b"", e
    check("%d-byte datagram" % size, (data, src) == (blob, dest), (len(data), src))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(5)
c.connect(dest)
c.send(b"ns-connected")
check("connect+send/recv", c.recv(100) == b"ns-connected")
check("getpeername", c.getpeername() == dest, c.getpeername())
sys.exit(1 if bad else 0)
PY
printf '%s\n' "$UDP_OUT" | grep FAIL && fail "python3 checks failed"

for mode in mmsg two fork; do
	expect_udp_via_danted "udpclient $mode from the namespace" 2 \
		in_ns "$SOCKSIFY" -f "$conf" "$PROGS/udpclient" "$mode" \
		127.0.0.1 "$UECHO_PORT" "$UECHO_PORT"
	printf '%s\n' "$UDP_OUT" | grep FAIL && fail "udpclient $mode"
done
sfy_pass
