#!/bin/sh
# UDP against our own SOCKS5 server (faultsocks.py --mode udp), which runs
# its own relay and records every wrapped datagram it gets:
#  - a relay address of 0.0.0.0 in the reply means the proxy's address;
#  - malformed datagrams, a lone fragment (FRAG 1, never completed: see
#    t_udp_frag.sh) and datagrams from a socket other than
#    the relay are dropped: the program reads only the good one;
#  - the largest datagram for each header size (IPv4 10, IPv6 22, name
#    7 + length) goes through, one byte more is EMSGSIZE;
#  - an AF_INET6 socket reaches an IPv6 destination via the IPv4 relay;
#  - a reply from another source reaches an unconnected socket with that
#    source, and is dropped by a connected one (as the kernel does);
#  - a destination given by name (remote DNS, fake address) is sent as
#    ATYP 3 and the name-typed reply shows the fake address as its source;
#  - when the proxy drops the control connection, later sends fail with an
#    errno and nothing goes direct (an echo server at the destination would
#    see it).
. "$(dirname "$0")/lib.sh"
sfy_init
start_udp_echo
conf=$SFY_TMP/fault.conf

start_fault udp --relay-zero --hang 10
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" "direct none"
out=$(timeout 30 "$SOCKSIFY" -f "$conf" "$PYTHON" - "$UECHO_PORT" "$ECHO_NAME" \
	2>"$SFY_TMP/client.err" <<'PY'
import errno, socket, sys, time
dest = ("127.0.0.1", int(sys.argv[1]))
def err(fn):
    try:
        fn()
        return "no error"
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"zero-relay", dest)
print("relay 0.0.0.0:", s.recvfrom(100) == (b"zero-relay", dest))
s.sendto(b"BAD-then-good", dest)
got = s.recvfrom(100)
print("after bad datagrams:", got == (b"BAD-then-good", dest), got)
time.sleep(0.2)
s.settimeout(None)
print("nothing else:", err(lambda: s.recv(100, socket.MSG_DONTWAIT)))
s.settimeout(3)
s.sendto(b"FROMOTHER-1", dest)
other = ("127.0.0.1", dest[1] + 1)
got = s.recvfrom(100)
print("other source, unconnected:", got == (b"other FROMOTHER-1", other), got)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(3)
c.connect(dest)
c.send(b"FROMOTHER-2")
c.send(b"peer")
got = c.recvfrom(100)
print("other source, connected:", got == (b"peer", dest), got)
c.close()
fake = socket.getaddrinfo(sys.argv[2], 7777, socket.AF_INET,
                          socket.SOCK_DGRAM)[0][4]
s.sendto(b"by-name", fake)
got = s.recvfrom(100)
print("by name:", got == (b"by-name", fake), got[1] == fake)
def size_limit(sock, to, limit):
    """The largest payload must round-trip, one byte more is EMSGSIZE."""
    blob = b"L" * limit
    sock.sendto(blob, to)
    ok = sock.recvfrom(70000)[0] == blob
    return ok, err(lambda: sock.sendto(blob + b"L", to))
print("name limit:", size_limit(s, fake, 65507 - 7 - len(sys.argv[2])))
print("ipv4 limit:", size_limit(s, dest, 65507 - 10))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.settimeout(3)
dest6 = ("::1", 7778, 0, 0)
s6.sendto(b"v6-hello", dest6)
got = s6.recvfrom(100)
print("ipv6:", got == (b"v6-hello", dest6), got)
print("ipv6 limit:", size_limit(s6, dest6, 65507 - 22))
s6.close()
s.sendto(b"DROP", dest)
time.sleep(1)
print("send after drop:", err(lambda: [s.sendto(b"after-drop-x", dest)
                                        for _ in range(3)]))
PY
) || fail "client: $out $(cat "$SFY_TMP/client.err")"
printf '%s\n' "$out" | sed 's/^/    /' >&2
expect_contains "relay address 0.0.0.0" "$out" "relay 0.0.0.0: True"
expect_contains "bad datagrams dropped" "$out" "after bad datagrams: True"
expect_contains "no bad datagram delivered" "$out" "nothing else: EAGAIN"
expect_contains "reply from another source" "$out" \
	"other source, unconnected: True"
expect_contains "connected socket drops other sources" "$out" \
	"other source, connected: True"
expect_contains "name-typed destination" "$out" "by name: True True"
expect_contains "largest name-typed datagram" "$out" "name limit: (True, 'EMSGSIZE')"
expect_contains "largest IPv4 datagram" "$out" "ipv4 limit: (True, 'EMSGSIZE')"
expect_contains "IPv6 destination" "$out" "ipv6: True"
expect_contains "largest IPv6 datagram" "$out" "ipv6 limit: (True, 'EMSGSIZE')"
grep -q "udp relay frag=0 atyp=4 host=::1 port=7778 len=8 " "$FAULT_REC" ||
	fail "the relay got no ATYP 4 datagram for [::1]:7778"
grep -q "udp relay frag=0 atyp=3 host=$ECHO_NAME port=7777 len=7 " \
	"$FAULT_REC" || fail "the relay got no ATYP 3 datagram for $ECHO_NAME"
grep -q "udp relay frag=0 atyp=1 host=127.0.0.1 port=$UECHO_PORT len=10 " \
	"$FAULT_REC" || fail "the relay got no wrapped datagram for the echo port"
case $out in
*"send after drop: no error"*)
	fail "sends still succeed after the proxy dropped the association" ;;
*"send after drop: E"*) ;;
*) fail "send after drop: no errno: $out" ;;
esac
expect_eq "datagrams that went direct to the echo server" "$(uecho_count)" 0
grep -q "udp control closed" "$FAULT_REC" || fail "the relay never got DROP"
late=$(sed -n '/udp control closed/,$p' "$FAULT_REC" | grep -c 'udp relay')
[ "$late" -le 1 ] ||
	fail "$late datagrams went to the relay after the control connection dropped"
say "0.0.0.0 relay, malformed/foreign datagrams, names, control drop: ok"
sfy_pass
