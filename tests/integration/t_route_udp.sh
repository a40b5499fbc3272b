#!/bin/sh
# UDP ASSOCIATE and BIND follow the route rules. Two danted instances on
# loopback: A is the default chain, B is reached through a route rule (UDP
# through a failover group whose first member, a chain of two proxies,
# cannot carry UDP, so its single SOCKS5 member B must be used). One
# program, under socksify:
#   - a datagram to echo 1 (no rule) goes through A, one to echo 2 (route
#     via the group) through B, each on a socket of its own; each danted's
#     log must show its datagram and not the other's;
#   - the same socket that talks to echo 1 through A sends to echo 2: that
#     route is another group, so the send fails with EACCES and a log line,
#     and echo 2 gets nothing more (not direct, not through A);
#   - on the socket of echo 2, a datagram to echo 3 (a direct rule) goes
#     direct, from that socket's own port;
#   - a TCP connection through route B (to the TCP echo server), then a
#     listener (bind auto): its BIND must be made by B, not by A, and the
#     remote side's connection must arrive through it.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
DANTED_BIND=1
DANTED_UDP=1
DANTED_NAME=danted-a
start_danted
A_PORT=$DANTED_PORT
A_LOG=$DANTED_LOG
DANTED_NAME=danted-b
start_danted
B_PORT=$DANTED_PORT
B_LOG=$DANTED_LOG
DANTED_BIND=
DANTED_UDP=
start_echo
start_udp_echo
E1_PORT=$UECHO_PORT
E1_REC=$UECHO_REC
start_udp_echo
E2_PORT=$UECHO_PORT
E2_REC=$UECHO_REC
start_udp_echo
E3_PORT=$UECHO_PORT
E3_REC=$UECHO_REC

conf=$SFY_TMP/route-udp.conf
write_conf "$conf" \
	"proxy socks5h://127.0.0.1:$A_PORT" \
	"chain b socks5h://127.0.0.1:$B_PORT" \
	"chain pair socks5h://127.0.0.1:$A_PORT socks5h://127.0.0.1:$B_PORT" \
	"group udpb failover pair b" \
	"direct 127.0.0.1 port $E3_PORT udp" \
	"route 127.0.0.1 port $E2_PORT udp via udpb" \
	"route 127.0.0.1 port $ECHO_PORT tcp via b"

# The explanation agrees before anything is sent.
out=$(sfy -f "$conf" --explain "127.0.0.1:$E2_PORT" udp 2>&1) ||
	fail "--explain: $out"
expect_contains "--explain udp via the group" "$out" \
	"chain b: socks5h://127.0.0.1:$B_PORT"

addr=$SFY_TMP/route-bind.addr
token=route-bind-$$-$(date +%N)
sfy -f "$conf" "$PYTHON" - "$E1_PORT" "$E2_PORT" "$E3_PORT" "$ECHO_PORT" \
	"$addr" >"$SFY_TMP/route-udp.out" 2>"$SFY_TMP/route-udp.err" <<'PY' &
import errno, socket, sys
e1, e2, e3, echo = (int(p) for p in sys.argv[1:5])
addr_file = sys.argv[5]

def udp_round(sock, port, data):
    sock.sendto(data, ("127.0.0.1", port))
    got, src = sock.recvfrom(100)
    assert got == data, (got, data)
    assert src == ("127.0.0.1", port), src

s1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s1.settimeout(5)
udp_round(s1, e1, b"to-a")
s2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s2.settimeout(5)
udp_round(s2, e2, b"to-b")
print("udp ok")
try:
    s1.sendto(b"wrong-route", ("127.0.0.1", e2))
    print("wrong route sent")
except OSError as e:
    print("wrong route", errno.errorcode.get(e.errno, e.errno))
s2.sendto(b"direct", ("127.0.0.1", e3))
print("direct from", s2.getsockname()[1])

c = socket.create_connection(("127.0.0.1", echo), 5)
c.sendall(b"tcp-b\n")
assert c.recv(100) == b"tcp-b\n"
print("tcp ok")
l = socket.socket()
l.bind(("0.0.0.0", 0))
l.listen(1)
ip, port = l.getsockname()
with open(addr_file + ".tmp", "w") as f:
    f.write("%s %d\n" % (ip, port))
import os
os.rename(addr_file + ".tmp", addr_file)
l.settimeout(10)
conn, peer = l.accept()
conn.settimeout(10)
line = conn.makefile("rb").readline()
conn.sendall(b"got " + line)
print("bind ok", line.decode().strip())
PY
prog=$!
track $prog
got=$(bind_peer_run "$addr" "$token")
wait $prog
rc=$?
out=$(cat "$SFY_TMP/route-udp.out")
err=$(cat "$SFY_TMP/route-udp.err")
[ $rc = 0 ] || fail "program exit $rc: $out $err"
expect_contains "UDP round trips" "$out" "udp ok"

# Each danted relayed its own destination's datagram and not the other's.
DANTED_LOG=$A_LOG
a1=$(wait_count 1 danted_udp_to "$E1_PORT")
a2=$(danted_udp_to "$E2_PORT")
DANTED_LOG=$B_LOG
b2=$(wait_count 1 danted_udp_to "$E2_PORT")
b1=$(danted_udp_to "$E1_PORT")
expect_eq "datagrams A relayed to echo 1 (the default chain)" "$a1" 1
expect_eq "datagrams B relayed to echo 1" "$b1" 0
expect_eq "datagrams B relayed to echo 2 (route via the group)" "$b2" 1
expect_eq "datagrams A relayed to echo 2" "$a2" 0
DANTED_LOG=$A_LOG
expect_peers_danted "echo 1 via A" "$E1_REC" 0 "$E1_PORT"
DANTED_LOG=$B_LOG
expect_peers_danted "echo 2 via B" "$E2_REC" 0 "$E2_PORT"
say "UDP: echo 1 via danted A, echo 2 via danted B: ok"

# The wrong-route datagram on the shared socket: EACCES, logged, not sent.
expect_contains "a datagram to another route on one socket" "$out" \
	"wrong route EACCES"
expect_contains "its log line" "$err" "association goes via default"
sleep 0.3
expect_eq "datagrams echo 2 received" "$(wc -l <"$E2_REC" | tr -d ' ')" 1
say "UDP: another route on the same socket refused (EACCES): ok"

# A direct destination on a proxied socket goes direct, from its own port.
sport=$(printf '%s\n' "$out" | sed -n 's/^direct from //p')
[ -n "$sport" ] || fail "no direct send: $out"
n=$(wait_count 1 sh -c 'wc -l <"$1" | tr -d " "' sh "$E3_REC")
expect_eq "datagrams echo 3 received" "$n" 1
expect_eq "echo 3's peer" "$(tail -n 1 "$E3_REC")" \
	"from 127.0.0.1:$sport len=6"
say "UDP: a direct rule on the same socket goes direct: ok"

# BIND: made by B, the route of the last proxied TCP connection.
expect_contains "TCP through route b" "$out" "tcp ok"
DANTED_LOG=$B_LOG
expect_eq "TCP connects B relayed to the echo server" \
	"$(danted_connects_to "$ECHO_PORT")" 1
expect_eq "answer through the BIND" "${got#* }" "got $token"
expect_contains "data through the BIND" "$out" "bind ok $token"
read -r ip port <"$addr"
grep -q "tcp/bind \[: .* -> $ip\.$port " "$B_LOG" ||
	fail "BIND: $ip:$port is not an address danted B bound: $(cat "$B_LOG")"
expect_eq "connections B passed to a BIND" \
	"$(wait_count 1 danted_bindreplies)" 1
grep -q 'tcp/bind \[' "$A_LOG" && fail "danted A made a BIND"
say "BIND through route b (danted B at $ip:$port): ok"
sfy_pass
