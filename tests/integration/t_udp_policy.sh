#!/bin/sh
# UDP policy: "udp block", a SOCKS4 proxy (cannot carry UDP), and rules
# with a "udp" qualifier refuse with EACCES and send nothing; "udp direct"
# and "direct ... udp" rules go around danted (the echo server sees the
# client's own socket, danted logs nothing); "udp auto"/"udp proxy" with
# one SOCKS5 proxy go through danted. A datagram from a direct-route source
# reaches the program, one from elsewhere does not.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
start_danted_udp
start_udp_echo
ECHO1=$UECHO_PORT
ECHO1_REC=$UECHO_REC
start_udp_echo
ECHO2=$UECHO_PORT
ECHO2_REC=$UECHO_REC
conf=$SFY_TMP/policy.conf
proxy="proxy socks5h://127.0.0.1:$DANTED_PORT"

# probe CONF PORT — one datagram by sendto and one by connect+send to
# 127.0.0.1:PORT through socksify. Prints per attempt either
# "ATTEMPT EACCES"-style errno names or "ATTEMPT echo LOCALPORT".
probe() {
	sfy -f "$1" "$PYTHON" - "$2" <<'PY'
import errno, socket, sys
dest = ("127.0.0.1", int(sys.argv[1]))
for attempt in ("sendto", "connect+send"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(3)
    try:
        if attempt == "sendto":
            u.sendto(b"probe", dest)
        else:
            u.connect(dest)
            u.send(b"probe")
        data = u.recv(100)
        print(attempt, "echo" if data == b"probe" else data, u.getsockname()[1])
    except OSError as e:
        print(attempt, errno.errorcode.get(e.errno, e.errno))
    u.close()
PY
}

# expect_refused WHAT CONF PORT — both attempts EACCES, nothing reached
# the echo server on PORT, danted relayed nothing to it.
expect_refused() {
	rec=$ECHO1_REC
	[ "$3" = "$ECHO2" ] && rec=$ECHO2_REC
	lines=$(wc -l <"$rec")
	relayed=$(danted_udp_to "$3")
	out=$(probe "$2" "$3" 2>"$SFY_TMP/probe.err")
	expect_eq "$1" "$out" "sendto EACCES
connect+send EACCES"
	sleep 0.3
	expect_eq "$1: datagrams at the echo server" "$(wc -l <"$rec")" "$lines"
	expect_eq "$1: datagrams relayed by danted" "$(danted_udp_to "$3")" \
		"$relayed"
	say "$1: refused, nothing sent"
}

# expect_direct WHAT CONF PORT — both attempts echo, the echo server saw
# the client's own ports, danted relayed nothing to PORT.
expect_direct() {
	rec=$ECHO1_REC
	[ "$3" = "$ECHO2" ] && rec=$ECHO2_REC
	relayed=$(danted_udp_to "$3")
	out=$(probe "$2" "$3" 2>"$SFY_TMP/probe.err") ||
		fail "$1: $(cat "$SFY_TMP/probe.err")"
	p1=$(printf '%s\n' "$out" | sed -n 's/^sendto echo //p')
	p2=$(printf '%s\n' "$out" | sed -n 's/^connect+send echo //p')
	[ -n "$p1" ] && [ -n "$p2" ] || fail "$1: $out"
	grep -q "^from 127.0.0.1:$p1 len=5\$" "$rec" ||
		fail "$1: the echo server did not see the client's port $p1"
	grep -q "^from 127.0.0.1:$p2 len=5\$" "$rec" ||
		fail "$1: the echo server did not see the client's port $p2"
	sleep 0.3
	expect_eq "$1: datagrams relayed by danted" "$(danted_udp_to "$3")" \
		"$relayed"
	say "$1: direct, around danted"
}

# expect_proxied WHAT CONF PORT — both attempts echo through danted.
expect_proxied() {
	rec=$ECHO1_REC
	[ "$3" = "$ECHO2" ] && rec=$ECHO2_REC
	lines=$(wc -l <"$rec")
	relayed=$(danted_udp_to "$3")
	out=$(probe "$2" "$3" 2>"$SFY_TMP/probe.err") ||
		fail "$1: $(cat "$SFY_TMP/probe.err")"
	case $out in
	"sendto echo "*"
connect+send echo "*) ;;
	*) fail "$1: $out $(cat "$SFY_TMP/probe.err")" ;;
	esac
	got=$(wait_count $((relayed + 2)) danted_udp_to "$3")
	expect_eq "$1: datagrams relayed by danted" "$got" $((relayed + 2))
	expect_peers_danted "$1" "$rec" "$lines" "$3"
	say "$1: through danted"
}

write_conf "$conf" "$proxy" "direct none"
expect_proxied "default policy (auto, one SOCKS5 proxy)" "$conf" "$ECHO1"
write_conf "$conf" "$proxy" "direct none" "udp auto"
expect_proxied "udp auto" "$conf" "$ECHO1"
write_conf "$conf" "$proxy" "direct none" "udp proxy"
expect_proxied "udp proxy" "$conf" "$ECHO1"
write_conf "$conf" "$proxy" "direct none" "udp block"
expect_refused "udp block" "$conf" "$ECHO1"
write_conf "$conf" "$proxy" "direct none" "udp direct"
expect_direct "udp direct" "$conf" "$ECHO1"

# SOCKS4 cannot carry UDP: refused, never leaked (danted speaks SOCKS4 too).
for scheme in socks4 socks4a; do
	write_conf "$conf" "proxy $scheme://127.0.0.1:$DANTED_PORT" "direct none"
	expect_refused "$scheme proxy" "$conf" "$ECHO1"
	write_conf "$conf" "proxy $scheme://127.0.0.1:$DANTED_PORT" \
		"direct none" "udp auto"
	expect_refused "$scheme proxy, udp auto" "$conf" "$ECHO1"
done

# "udp proxy" with a SOCKS4 proxy is a configuration error: the wrapper
# refuses to start the program at all.
write_conf "$conf" "proxy socks4://127.0.0.1:$DANTED_PORT" "direct none" \
	"udp proxy"
out=$(sfy -f "$conf" "$PYTHON" -c 'print("program ran")' 2>&1)
rc=$?
expect_eq "udp proxy with socks4: exit status" "$rc" 125
case $out in
*"program ran"*) fail "udp proxy with socks4: the program ran: $out" ;;
esac
say "udp proxy with socks4: refused as a configuration error"

# Rules with a transport qualifier apply to UDP only (TCP is unaffected).
write_conf "$conf" "$proxy" "direct none" \
	"block 127.0.0.1/32 port $ECHO1 udp"
expect_refused "block NET port P udp" "$conf" "$ECHO1"
expect_proxied "other port under block NET port P udp" "$conf" "$ECHO2"
write_conf "$conf" "$proxy" "direct none" "block * port $ECHO1 udp"
expect_refused "block * port P udp" "$conf" "$ECHO1"
expect_proxied "other port under block * port P udp" "$conf" "$ECHO2"
write_conf "$conf" "$proxy" "direct 127.0.0.1/32 port $ECHO1 udp"
expect_direct "direct NET port P udp" "$conf" "$ECHO1"
expect_proxied "other port under direct NET port P udp" "$conf" "$ECHO2"
write_conf "$conf" "$proxy" "direct 127.0.0.1/32 port $ECHO1 tcp"
expect_proxied "direct NET port P tcp (UDP still proxied)" "$conf" "$ECHO1"

# Datagrams from a direct-route source are delivered; from other sources
# (not the relay, not direct) they are dropped. 127.0.0.2 is direct here,
# 127.0.0.3 is not; an unsocksified helper sends from each (the guard,
# which its filter would carry, is off for it).
write_conf "$conf" "$proxy" "direct 127.0.0.2/32"
out=$(SOCKSIFY_GUARD=off sfy -q -f "$conf" "$PYTHON" - "$ECHO1" <<'PY'
import errno, os, socket, subprocess, sys, time
dest = ("127.0.0.1", int(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"hello", dest)
print("first", s.recvfrom(100) == (b"hello", dest))
port = s.getsockname()[1]
env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
subprocess.run([sys.executable, "-c", """
import socket, sys
for src in ("127.0.0.3", "127.0.0.2"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((src, 0))
    u.sendto(b"from " + src.encode(), ("127.0.0.1", int(sys.argv[1])))
""", str(port)], env=env, check=True)
time.sleep(0.2)
data, src = s.recvfrom(100)
print("got", data.decode(), src[0])
s.settimeout(None)
try:
    print("then", s.recv(100, socket.MSG_DONTWAIT))
except OSError as e:
    print("then", errno.errorcode[e.errno])
PY
) || fail "direct-source check: $out"
expect_eq "datagrams from other sources" "$out" "first True
got from 127.0.0.2 127.0.0.2
then EAGAIN"
say "a direct source is delivered, a foreign one dropped"

# One sendmmsg() to a proxied, a direct and a proxied destination.
[ -x "$PROGS/udpclient" ] || fail "no $PROGS/udpclient (run make)"
start_udp_echo 127.0.0.2
lines=$(wc -l <"$ECHO1_REC")
relayed=$(danted_udp_to "$ECHO1")
out=$(sfy -f "$conf" "$PROGS/udpclient" mixed 127.0.0.1 "$ECHO1" \
	"$UECHO_PORT" 127.0.0.2 2>&1) || fail "sendmmsg to mixed routes: $out"
expect_eq "sendmmsg to mixed routes" "$out" "ok sendmmsg to mixed routes"
got=$(wait_count $((relayed + 2)) danted_udp_to "$ECHO1")
expect_eq "sendmmsg: datagrams relayed by danted" "$got" $((relayed + 2))
expect_peers_danted "sendmmsg, proxied part" "$ECHO1_REC" "$lines" "$ECHO1"
expect_eq "sendmmsg: datagrams danted relayed to the direct one" \
	"$(danted_udp_to "$UECHO_PORT")" 0
expect_eq "sendmmsg: datagrams at the direct echo server" "$(uecho_count)" 1
say "sendmmsg to mixed routes: proxied via danted, direct around it"
sfy_pass
