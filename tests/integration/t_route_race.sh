#!/bin/sh
# Races in parallel where the program does not run them itself: behind a
# non-blocking connect (async_connect on: the helper thread races the
# members on extra sockets) and for a static program under the seccomp
# supervisor (it races on its copy of the program's socket and on extra
# sockets, and installs an extra winner with SECCOMP_IOCTL_NOTIF_ADDFD).
# Members: a black hole (a veth neighbour nobody answers), a live server,
# a slow one (every handshake round trip 300 ms), one whose TCP connect is
# slower than race_delay (its first SYN goes to a wrong neighbour
# address; the retransmission 1 s later gets through), refusing ones.
# t_route.sh has the same races on blocking sockets.
. "$(dirname "$0")/lib.sh"
sfy_init
need ip
[ -x "$PROGS/connect_errno" ] || fail "no $PROGS/connect_errno (run make)"
STATICNET=$SFY_BUILD/progs_static/staticnet
[ -x "$STATICNET" ] || fail "no $STATICNET (run make)"
make_netns
start_http

# The black hole: 198.19.255.1 on a veth in the namespace whose other end
# has no address and drops every frame.
in_ns ip link add sfyhole type veth peer name sfysink || fail "hole link"
in_ns ip link set sfyhole up || fail "hole up"
in_ns ip link set sfysink up || fail "sink up"
in_ns ip addr add 198.19.255.254/24 dev sfyhole || fail "hole addr"
in_ns ip neigh add 198.19.255.1 lladdr 02:00:00:00:00:01 dev sfyhole ||
	fail "hole neighbour"

# ms_since START — milliseconds since START (date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}
conf=$SFY_TMP/race.conf
# race_conf DELAY MEMBER... — a race group "rg" for .rg.test.
race_conf() {
	d=$1
	shift
	write_conf "$conf" "proxy socks5h://127.0.0.1:1" "connect_timeout 10" \
		"race_delay $d" "group rg race $*" "route .rg.test via rg" \
		"direct none"
}
start_fault ok --listen "$HOST_ADDR"
LIVE_PORT=$FAULT_PORT
LIVE_REC=$FAULT_REC
# The slow member: the delay relay (in the namespace) holds every chunk
# 150 ms each way in front of a second server.
start_fault ok --listen "$HOST_ADDR"
pf=$SFY_TMP/slowrelay.port
in_ns sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$SFY_TMP/slowrelay.pid" \
	"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
	--listen-port-file "$pf" --to "$HOST_ADDR:$FAULT_PORT" --delay-ms 150 \
	>"$SFY_TMP/slowrelay.log" 2>&1 &
track $!
wait_file "$pf"
track "$(cat "$SFY_TMP/slowrelay.pid")"
SLOW_PORT=$(cat "$pf")

# Behind non-blocking connects (as curl and event loops): the helper
# thread starts the next member on an extra socket after race_delay, and
# an extra socket that wins is moved onto the program's descriptor.
race_run_nb() {
	in_ns env SOCKSIFY_LOG_FILE="$log" "$SOCKSIFY" -v -f "$conf" \
		"$PROGS/connect_errno" -n -t 20000 -s nonblocking "$1" 4700
}
# 1. Black-holed first member, live second: the live one wins on its extra
# socket, the black hole is closed as the loser, not waited out.
log=$SFY_TMP/race-nb-hole.log
race_conf 300ms "socks5h://198.19.255.1:1080 socks5h://$HOST_ADDR:$LIVE_PORT"
start=$(date +%s%N)
out=$(race_run_nb d.rg.test) || fail "race nb hole: $out $(cat "$log")"
ms=$(ms_since "$start")
expect_eq "race nb hole: echo" "$out" "OK
ECHO nonblocking"
[ "$ms" -ge 300 ] && [ "$ms" -lt 2500 ] ||
	fail "race nb hole: $ms ms (race_delay 300 ms, connect_timeout 10 s)"
grep -q "198.19.255.1:1080.*slower, closed" "$log" ||
	fail "race nb hole: the black hole was not closed as the loser: $(cat "$log")"
say "race nb hole: non-blocking connect in $ms ms"
# 2. A slow first member (handshake 2 x 300 ms) and a live second one: the
# second opens first and wins; the slow one is closed, not marked down.
log=$SFY_TMP/race-nb-fast.log
race_conf 100ms "socks5h://127.0.0.1:$SLOW_PORT socks5h://$HOST_ADDR:$LIVE_PORT"
: >"$LIVE_REC"
start=$(date +%s%N)
out=$(race_run_nb e.rg.test) || fail "race nb fast: $out $(cat "$log")"
ms=$(ms_since "$start")
expect_eq "race nb fast: echo" "$out" "OK
ECHO nonblocking"
grep -q "host=e.rg.test port=4700" "$LIVE_REC" ||
	fail "race nb fast: the live member did not carry it: $(cat "$LIVE_REC")"
[ "$ms" -lt 550 ] || fail "race nb fast: $ms ms: the slow member was awaited"
grep -q "127.0.0.1:$SLOW_PORT.*marked down" "$log" &&
	fail "race nb fast: the slow member was marked down: $(cat "$log")"
say "race nb fast: the second member won in $ms ms"
# 3. A first member whose TCP connect is slower than race_delay (its first
# SYN goes to a wrong neighbour address; the retransmission 1 s later gets
# through) and a black-holed second: the first still wins, in its own time,
# not the black hole's connect timeout, and is not marked down.
# Its address is on the host side of the namespace's veth (it leaves with
# the veth), unique per test run through make_netns's $third.
SLOWSYN_ADDR=198.19.$third.1
ip addr add "$SLOWSYN_ADDR/32" dev "$HOST_IF" || fail "slow-SYN address"
in_ns ip route add "$SLOWSYN_ADDR/32" dev "$NS_IF" || fail "slow-SYN route"
start_fault ok --listen "$SLOWSYN_ADDR"
SLOWSYN_PORT=$FAULT_PORT
SLOWSYN_REC=$FAULT_REC
HOST_MAC=$(cat "/sys/class/net/$HOST_IF/address")
log=$SFY_TMP/race-nb-slowsyn.log
race_conf 100ms "socks5h://$SLOWSYN_ADDR:$SLOWSYN_PORT socks5h://198.19.255.1:1080"
# slow_syn_arm — the next SYN to SLOWSYN_ADDR is lost (a wrong neighbour
# address for 0.4 s); sets fixer, the PID that puts the right one back.
slow_syn_arm() {
	in_ns ip neigh replace "$SLOWSYN_ADDR" lladdr 02:00:00:00:00:02 \
		dev "$NS_IF" nud permanent || fail "slow-SYN neighbour"
	(
		sleep 0.4
		in_ns ip neigh replace "$SLOWSYN_ADDR" lladdr "$HOST_MAC" \
			dev "$NS_IF" nud permanent
	) &
	fixer=$!
}
slow_syn_arm
start=$(date +%s%N)
out=$(race_run_nb f.rg.test) || fail "race nb slow SYN: $out $(cat "$log")"
ms=$(ms_since "$start")
wait "$fixer"
expect_eq "race nb slow SYN: echo" "$out" "OK
ECHO nonblocking"
grep -q "host=f.rg.test port=4700" "$SLOWSYN_REC" ||
	fail "race nb slow SYN: the slow member did not carry it: $(cat "$SLOWSYN_REC")"
[ "$ms" -ge 900 ] && [ "$ms" -lt 4000 ] ||
	fail "race nb slow SYN: $ms ms (SYN retransmitted after 1 s, connect_timeout 10 s)"
grep -q "$SLOWSYN_ADDR:$SLOWSYN_PORT.*marked down" "$log" &&
	fail "race nb slow SYN: the slow member was marked down: $(cat "$log")"
say "race nb slow SYN: the slow member won in $ms ms"
# 4. Every member refuses: the race ends at once with the last refusal.
log=$SFY_TMP/race-nb-refused.log
race_conf 300ms "socks5h://127.0.0.1:9 socks5h://127.0.0.1:7"
start=$(date +%s%N)
out=$(race_run_nb r.rg.test)
ms=$(ms_since "$start")
expect_eq "race nb all refused" "$out" ECONNREFUSED
[ "$ms" -lt 2000 ] || fail "race nb all refused: $ms ms"
say "race nb all refused: ECONNREFUSED in $ms ms"
# 5. An event loop with epoll registrations made before connect (edge
# triggered), 4 connects at once through a black-holed first member: each
# winner is moved onto the program's descriptor and registered again.
log=$SFY_TMP/race-nb-epoll.log
race_conf 200ms "socks5h://198.19.255.1:1080 socks5h://$HOST_ADDR:$LIVE_PORT"
echo "route 127.0.0.1 port 4800 via rg" >>"$conf"
out=$(in_ns env SOCKSIFY_LOG_FILE="$log" timeout 30 "$SOCKSIFY" -v \
	-f "$conf" "$PROGS/asyncconn" 127.0.0.1 4800 4 pre 2>&1) ||
	fail "race nb epoll: $out $(cat "$log")"
expect_contains "race nb epoll" "$out" "ok 4"
say "race nb epoll: $out"

# The same races for a static program under the seccomp supervisor: the
# supervisor races the members on its copy of the program's socket and on
# extra sockets, and installs an extra winner in the program's place
# (SECCOMP_IOCTL_NOTIF_ADDFD). staticnet connects by address.
SDEST=198.19.250.9
# static_race NAME CONNECT-MODE PORT — staticnet through the race group.
static_race() {
	echo "route $SDEST port $3 via rg" >>"$conf"
	log=$SFY_TMP/race-static-$1.log
	start=$(date +%s%N)
	out=$(in_ns env SOCKSIFY_LOG_FILE="$log" timeout 30 "$SOCKSIFY" -v \
		-f "$conf" "$STATICNET" "$2" "$SDEST" "$3" 2>&1) ||
		fail "race static $1: $out $(cat "$log")"
	ms=$(ms_since "$start")
}
# S1. Black-holed first member, live second.
race_conf 300ms "socks5h://198.19.255.1:1080 socks5h://$HOST_ADDR:$LIVE_PORT"
: >"$LIVE_REC"
static_race hole errno 4901
expect_eq "race static hole" "$out" ok
grep -q "port=4901" "$LIVE_REC" ||
	fail "race static hole: the live member did not carry it: $(cat "$LIVE_REC")"
[ "$ms" -ge 300 ] && [ "$ms" -lt 2500 ] ||
	fail "race static hole: $ms ms (race_delay 300 ms, connect_timeout 10 s)"
grep -q "198.19.255.1:1080.*slower, closed" "$log" ||
	fail "race static hole: the black hole was not closed as the loser: $(cat "$log")"
say "race static hole: the live member won in $ms ms"
# S2. A first member whose TCP connect is slower than race_delay, a
# black-holed second: the first wins in its own time, not marked down.
race_conf 100ms "socks5h://$SLOWSYN_ADDR:$SLOWSYN_PORT socks5h://198.19.255.1:1080"
slow_syn_arm
static_race slowsyn errno 4902
wait "$fixer"
expect_eq "race static slow SYN" "$out" ok
grep -q "port=4902" "$SLOWSYN_REC" ||
	fail "race static slow SYN: the slow member did not carry it: $(cat "$SLOWSYN_REC")"
[ "$ms" -ge 900 ] && [ "$ms" -lt 4000 ] ||
	fail "race static slow SYN: $ms ms (SYN retransmitted after 1 s, connect_timeout 10 s)"
say "race static slow SYN: the slow member won in $ms ms"
# S3. A slow first member (handshake) and a live second on a non-blocking
# socket: the second wins on its extra socket, which the program then
# uses (that member relays to the web server).
start_fault ok --listen "$HOST_ADDR" --serve relay --target "127.0.0.1:$HTTP_PORT"
race_conf 100ms "socks5h://127.0.0.1:$SLOW_PORT socks5h://$HOST_ADDR:$FAULT_PORT"
static_race fast nonblock 4903
expect_contains "race static fast: the page over the winner" "$out" "$HTTP_TOKEN"
grep -q "port=4903" "$FAULT_REC" ||
	fail "race static fast: the live member did not carry it: $(cat "$FAULT_REC")"
[ "$ms" -lt 1000 ] || fail "race static fast: $ms ms: the slow member was awaited"
grep -q "127.0.0.1:$SLOW_PORT.*slower, closed" "$log" ||
	fail "race static fast: the slow member was not closed as the loser: $(cat "$log")"
say "race static fast: the second member won in $ms ms"
