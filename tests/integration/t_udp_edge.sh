#!/bin/sh
# UDP edge cases through danted (username authentication, UDP enabled):
# scattered receive buffers, ancillary data, dup()ed sockets, MSG_MORE and
# UDP_CORK (one datagram, one header), a reused fd number, SOCK_NONBLOCK,
# an AF_INET6 socket to a v4-mapped address, threads racing on a socket's
# first datagram, 100 sockets at once. Then the failures: a proxy that
# refuses UDP ASSOCIATE, a proxy that is not there, wrong credentials: every
# send fails with an errno and nothing reaches the echo server.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
add_user
start_danted_udp 127.0.0.1 username
start_udp_echo
conf=$SFY_TMP/edge.conf
write_conf "$conf" \
	"proxy socks5h://$SOCKS_USER:$SOCKS_PASS@127.0.0.1:$DANTED_PORT" \
	"direct none"

expect_udp_via_danted "edge cases (username auth)" 30 \
	sfy -f "$conf" "$PYTHON" - "$UECHO_PORT" <<'PY'
import errno, os, select, socket, sys, threading
DEST = ("127.0.0.1", int(sys.argv[1]))
SO_TIMESTAMP, IP_PKTINFO, UDP_CORK = 29, 8, 1
bad = 0
def check(what, cond, detail=""):
    global bad
    print(("ok " if cond else "FAIL ") + what + ("" if cond else ": %r" % (detail,)))
    bad += 0 if cond else 1
def round_trip(sock, msg, to=DEST):
    try:
        sock.sendto(msg, to)
        return sock.recvfrom(1000)
    except OSError as e:
        return repr(e)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"0123456789abcdef", DEST)
b1, b2 = bytearray(3), bytearray(100)
n, anc, flags, src = s.recvmsg_into([b1, b2])
check("recvmsg_into two buffers", (n, bytes(b1), bytes(b2[:n - 3]), src) ==
      (16, b"012", b"3456789abcdef", DEST), (n, b1, b2[:20], src))
b1, b2 = bytearray(3), bytearray(4)
s.sendto(b"0123456789abcdef", DEST)
n, anc, flags, src = s.recvmsg_into([b1, b2])
check("recvmsg_into, truncated", (n, bytes(b1), bytes(b2),
      bool(flags & socket.MSG_TRUNC)) == (7, b"012", b"3456", True),
      (n, b1, b2, flags))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
s.sendto(b"timestamp", DEST)
data, anc, flags, src = s.recvmsg(100, 256)
check("SO_TIMESTAMP control message", data == b"timestamp" and
      any(a[:2] == (socket.SOL_SOCKET, SO_TIMESTAMP) for a in anc), anc)
s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
s.sendto(b"pktinfo", DEST)
data, anc, flags, src = s.recvmsg(100, 256)
check("IP_PKTINFO control message", data == b"pktinfo" and
      any(a[:2] == (socket.IPPROTO_IP, IP_PKTINFO) for a in anc), anc)
d = socket.socket(fileno=os.dup(s.fileno()))
d.settimeout(3)
check("a dup()ed fd", round_trip(d, b"via-dup") == (b"via-dup", DEST))
d.close()
check("the original after closing the dup",
      round_trip(s, b"original") == (b"original", DEST))

# MSG_MORE and UDP_CORK: the kernel sends one datagram, so the relay must
# get one header followed by all the pieces.
try:
    s.sendto(b"more-", socket.MSG_MORE, DEST)
    s.sendto(b"corked", DEST)
    got = s.recvfrom(100)
except OSError as e:
    got = repr(e)
check("MSG_MORE: one datagram", got == (b"more-corked", DEST), got)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(3)
c.connect(DEST)
try:
    c.setsockopt(socket.IPPROTO_UDP, UDP_CORK, 1)
    c.send(b"udp-")
    c.send(b"cork")
    c.setsockopt(socket.IPPROTO_UDP, UDP_CORK, 0)
    got = c.recvfrom(100)
except OSError as e:
    got = repr(e)
check("UDP_CORK: one datagram", got == (b"udp-cork", DEST), got)
c.close()

fd = s.fileno()
s.close()
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.settimeout(3)
check("a new socket on a reused fd number (%d, %d)" % (fd, r.fileno()),
      round_trip(r, b"reused") == (b"reused", DEST))
r.close()
f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK |
                  socket.SOCK_CLOEXEC)
f.sendto(b"flags", DEST)
select.select([f], [], [], 3)
check("SOCK_NONBLOCK|SOCK_CLOEXEC socket", f.recvfrom(100) == (b"flags", DEST))
f.close()
v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
v6.settimeout(3)
mapped = ("::ffff:127.0.0.1", DEST[1])
got = round_trip(v6, b"mapped", mapped)
check("AF_INET6 socket to ::ffff:127.0.0.1", got == (b"mapped", mapped + (0, 0)),
      got)
v6.close()

# Eight threads send the first datagrams of one socket at the same time.
t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
errors = []
def sender(i):
    try:
        for k in range(10):
            t.sendto(b"thread %d %d" % (i, k), DEST)
    except OSError as e:
        errors.append(e)
threads = [threading.Thread(target=sender, args=(i,)) for i in range(8)]
for th in threads:
    th.start()
for th in threads:
    th.join()
t.settimeout(2)
seen = set()
try:
    while len(seen) < 80:
        seen.add(t.recv(100))
except socket.timeout:
    pass
# danted may drop a few of a burst; losing most means a broken association.
check("8 threads racing on the first datagram", not errors and len(seen) >= 40,
      (errors[:2], len(seen)))
t.close()

socks = []
try:
    for i in range(100):
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        m.settimeout(3)
        m.sendto(b"many %d" % i, DEST)
        socks.append(m)
    good = sum(1 for i, m in enumerate(socks)
               if m.recvfrom(100) == (b"many %d" % i, DEST))
except OSError as e:
    good = repr(e)
check("100 sockets at once", good == 100, good)
for m in socks:
    m.close()
PY
# (FAIL lines are reported at the end, after the failure cases ran.)
EDGE_OUT=$UDP_OUT
grep -q "username%$SOCKS_USER@" "$DANTED_LOG" ||
	say "note: danted's log does not name the user"
say "edge cases: $(printf '%s\n' "$EDGE_OUT" | grep -c '^ok') checks ok"

# Failures: each send fails with an errno; nothing reaches the echo server.
# probe_fails WHAT CONF — two attempts on one socket.
probe_fails() {
	lines=$(uecho_count)
	out=$(timeout 30 "$SOCKSIFY" -f "$2" "$PYTHON" - "$UECHO_PORT" \
		2>"$SFY_TMP/probe.err" <<'PY'
import errno, socket, sys
dest = ("127.0.0.1", int(sys.argv[1]))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
for attempt in (1, 2):
    try:
        u.sendto(b"should-fail", dest)
        print(attempt, "sent", u.recv(100))
    except OSError as e:
        print(attempt, errno.errorcode.get(e.errno, e.errno))
PY
)
	case $out in
	"1 E"*"
2 E"*) ;;
	*) fail "$1: $out $(cat "$SFY_TMP/probe.err")" ;;
	esac
	sleep 0.2
	expect_eq "$1: datagrams at the echo server" "$(uecho_count)" "$lines"
	say "$1: $(printf '%s' "$out" | tr '\n' ' ')"
}
write_conf "$SFY_TMP/wrong.conf" \
	"proxy socks5h://$SOCKS_USER:wrong@127.0.0.1:$DANTED_PORT" "direct none"
probe_fails "wrong password" "$SFY_TMP/wrong.conf"
noport=$(free_port)
write_conf "$SFY_TMP/down.conf" "proxy socks5h://127.0.0.1:$noport" \
	"direct none"
probe_fails "no proxy listening" "$SFY_TMP/down.conf"
start_fault rep --rep 7
write_conf "$SFY_TMP/rep7.conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" \
	"direct none"
probe_fails "UDP ASSOCIATE answered 'command not supported'" \
	"$SFY_TMP/rep7.conf"
grep -q "request ver=5 cmd=3" "$FAULT_REC" ||
	fail "the fault server got no UDP ASSOCIATE: $(cat "$FAULT_REC")"
# danted configured for TCP only (lib.sh's start_danted) refuses UDP.
start_danted none
write_conf "$SFY_TMP/tcponly.conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" \
	"direct none"
probe_fails "danted without udpassociate" "$SFY_TMP/tcponly.conf"
grep -q "udpassociate" "$DANTED_LOG" ||
	fail "danted (TCP only) logged no refused UDP ASSOCIATE"
printf '%s\n' "$EDGE_OUT" | grep FAIL && fail "edge checks failed"
sfy_pass
