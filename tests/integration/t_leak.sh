#!/bin/sh
# Leak test. The client runs in a network namespace whose only reachable
# address is the host end of a veth pair (198.18.X.1), where danted listens;
# the target is on the host's loopback (unreachable from the namespace) under
# a name only danted can resolve. The namespace's resolv.conf points at
# 198.18.X.1:53, where a trap listens, so a lookup that slipped past
# socksify would be seen. Every packet on the veth is captured (AF_PACKET):
# anything that is not the TCP connection to danted is a leak.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl wget dig ip
start_http
make_netns
mkdir -p "/etc/netns/$NS"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$HOST_ADDR" \
	>"/etc/netns/$NS/resolv.conf"
start_danted none "$HOST_ADDR"

# The DNS trap: anything arriving on UDP or TCP port 53 is recorded.
TRAP=$SFY_TMP/trap.rec
: >"$TRAP"
"$PYTHON" - "$HOST_ADDR" "$TRAP" >"$SFY_TMP/trap.log" 2>&1 <<'PY' &
import socket, sys, threading
addr, rec = sys.argv[1], sys.argv[2]
def note(what):
    with open(rec, "a") as f:
        f.write(what + "\n")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, 53))
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, 53))
t.listen(8)
def tcp():
    while True:
        c, peer = t.accept()
        note("tcp from %s:%d" % peer)
        c.close()
threading.Thread(target=tcp, daemon=True).start()
while True:
    data, peer = u.recvfrom(4096)
    note("udp from %s:%d %d bytes" % (peer[0], peer[1], len(data)))
PY
track $!
wait_port "$HOST_ADDR" 53
: >"$TRAP" # forget our own readiness probe

# The capture: one line per IP packet crossing the veth.
CAP=$SFY_TMP/capture.txt
"$PYTHON" - "$HOST_IF" "$CAP" >"$SFY_TMP/capture.log" 2>&1 <<'PY' &
import socket, struct, sys
ifname, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
with open(out, "w") as f:
    f.write("ready\n")
    f.flush()
    while True:
        frame = s.recv(65535)
        kind = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if kind == 0x0800:
            proto = ip[9]
            src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
            l4 = ip[(ip[0] & 15) * 4:]
            ports = struct.unpack("!HH", l4[:4]) if proto in (6, 17) else (0, 0)
            f.write("ipv4 %d %s %d %s %d\n" % (proto, src, ports[0], dst, ports[1]))
        elif kind == 0x86DD:
            nxt = ip[6]
            f.write("ipv6 %d\n" % nxt)
        f.flush()
PY
CAP_PID=$!
track $CAP_PID
wait_file "$CAP"

url=http://$TARGET_NAME:$HTTP_PORT/
proxy=socks5h://$HOST_ADDR:$DANTED_PORT
# Without socksify the namespace can neither resolve nor reach the target.
in_ns curl -sS --max-time 5 "$url" >/dev/null 2>&1 &&
	fail "the namespace fetched the target without socksify; test is void"
in_ns curl -sS --max-time 5 "http://127.0.0.1:$HTTP_PORT/" >/dev/null 2>&1 &&
	fail "the namespace reaches the host's loopback; test is void"
grep -q "udp from $NS_ADDR" "$TRAP" ||
	fail "the trap did not see the unproxied lookup; it would miss a leak"
say "control: unproxied curl leaked a DNS query and the trap saw it"
: >"$TRAP"
sleep 0.3
start_line=$(wc -l <"$CAP")

# The name has a fake IPv6 and a fake IPv4 address: on a loaded machine a
# handshake can outlast curl's happy-eyeballs delay (200 ms), and curl then
# opens a second (also proxied) connection, which the count below would
# take for a stray one. One family at a time keeps the count exact.
expect_via_danted "curl by name from the namespace" "$HTTP_PORT" \
	in_ns "$SOCKSIFY" -x "$proxy" curl -sS --max-time 20 \
	--happy-eyeballs-timeout-ms 20000 "$url"
expect_via_danted "wget by name from the namespace" "$HTTP_PORT" \
	in_ns "$SOCKSIFY" -x "$proxy" wget -q -T 20 -t 1 -O - "$url"
expect_via_danted "python3 by name from the namespace" "$HTTP_PORT" \
	in_ns "$SOCKSIFY" -x "$proxy" "$PYTHON" -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$url"

# TCP Fast Open connects inside sendto()/sendmsg(), without connect(): it
# must be proxied too (or refused), never sent direct.
for how in sendto sendmsg; do
	expect_via_danted "TCP Fast Open via $how" "$HTTP_PORT" \
		in_ns "$SOCKSIFY" -x "$proxy" "$PYTHON" -c '
import socket, sys
how, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
addr = socket.getaddrinfo(name, port, socket.AF_INET)[0][4]
req = b"GET / HTTP/1.0\r\n\r\n"
s = socket.socket()
s.settimeout(20)
if how == "sendto":
    s.sendto(req, socket.MSG_FASTOPEN, addr)
else:
    s.sendmsg([req], [], socket.MSG_FASTOPEN, addr)
print(s.makefile("rb").read().decode())' "$how" "$TARGET_NAME" "$HTTP_PORT"
done
out=$(in_ns "$SOCKSIFY" -x "$proxy" "$PYTHON" -c '
import socket, sys
s = socket.socket()
s.settimeout(5)
try:
    s.sendto(b"x", socket.MSG_FASTOPEN, (sys.argv[1], 53))
    print("sent", s.recv(10))
except OSError as e:
    print("refused", e.errno)' "$HOST_ADDR")
case $out in
refused*) ;;
*) fail "TCP Fast Open to the trap: $out" ;;
esac

# Tools with their own resolver: their UDP must be refused, not sent.
out=$(in_ns "$SOCKSIFY" -x "$proxy" dig +tries=1 +time=1 "$TARGET_NAME" 2>&1)
expect_contains "dig (resolv.conf server) under socksify" "$out" \
	"no servers could be reached"
out=$(in_ns "$SOCKSIFY" -x "$proxy" dig +tries=1 +time=1 "@$HOST_ADDR" \
	"$TARGET_NAME" 2>&1)
expect_contains "dig @server under socksify" "$out" \
	"no servers could be reached"
out=$(in_ns "$SOCKSIFY" -x "$proxy" "$PYTHON" -c '
import errno, socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for attempt in ("sendto", "connect+send"):
    try:
        if attempt == "sendto":
            u.sendto(b"leak", (sys.argv[1], 53))
        else:
            u.connect((sys.argv[1], 53))
            u.send(b"leak")
        print(attempt, "SENT")
    except OSError as e:
        print(attempt, errno.errorcode[e.errno])' "$HOST_ADDR")
expect_eq "python3 UDP under socksify" "$out" "sendto EACCES
connect+send EACCES"
sleep 0.5
stop_pid "$CAP_PID"

[ -s "$TRAP" ] && fail "DNS leaked to the trap: $(cat "$TRAP")"
tail -n +"$((start_line + 1))" "$CAP" >"$SFY_TMP/capture.run"
to_proxy=$(grep -c "^ipv4 6 $NS_ADDR [0-9]* $HOST_ADDR $DANTED_PORT\$" \
	"$SFY_TMP/capture.run")
expect_gt "packets to danted seen by the capture" "$to_proxy" 5
leaks=$(grep '^ipv' "$SFY_TMP/capture.run" |
	grep -v "^ipv4 6 $NS_ADDR [0-9]* $HOST_ADDR $DANTED_PORT\$" |
	grep -v "^ipv4 6 $HOST_ADDR $DANTED_PORT $NS_ADDR [0-9]*\$" |
	grep -v '^ipv6 \(0\|58\)$')
[ -z "$leaks" ] || fail "traffic other than the proxy connection left the" \
	"namespace: $leaks"
say "capture: $to_proxy packets to danted, nothing else left the namespace"
sfy_pass
