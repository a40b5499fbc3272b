#!/bin/sh
# The routing model: host-name rules (a domain direct with real DNS, a
# domain refused at lookup, a domain through a three-proxy chain danted →
# microsocks → our server, the rest through the default proxy), --explain,
# a failover group whose first member is black-holed and second refuses,
# remembered across the processes of one run, a race group, failover on
# the proxy's own failure but not on the destination's, races in
# parallel on blocking sockets (black hole, slow member, faster second;
# t_route_race.sh has non-blocking and static ones), an IPv6 hop, an
# HTTP CONNECT member, and round-robin over two proxies across 16 threads
# and across processes.
#
# The client runs in a network namespace whose resolv.conf names a DNS
# responder on the host side of the veth: a name that socksify resolves
# locally shows up in its record, a name sent to the proxy does not.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
sfy_init
need danted microsocks curl ip tinyproxy
[ -x "$PROGS/threads" ] || fail "no $PROGS/threads (run make)"
make_netns
mkdir -p "/etc/netns/$NS" || fail "mkdir /etc/netns/$NS"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$HOST_ADDR" \
	>"/etc/netns/$NS/resolv.conf"
start_dns "$HOST_ADDR" "$HOST_ADDR" 53
start_http
start_danted none "$HOST_ADDR"
start_microsocks

# A second web server on the host side of the veth: the one a direct
# connection reaches (the DNS responder answers every name with it).
DIRECT_DIR=$SFY_TMP/direct-www
mkdir -p "$DIRECT_DIR"
DIRECT_TOKEN=direct-$$-$(date +%s%N)
printf '%s\n' "$DIRECT_TOKEN" >"$DIRECT_DIR/index.html"
DIRECT_PORT=$(free_port)
"$PYTHON" -m http.server -b "$HOST_ADDR" -d "$DIRECT_DIR" "$DIRECT_PORT" \
	>"$SFY_TMP/direct-http.log" 2>&1 &
track $!
wait_port "$HOST_ADDR" "$DIRECT_PORT"

start_fault ok --serve relay --target "127.0.0.1:$HTTP_PORT"
LAST_REC=$FAULT_REC
LAST_PORT=$FAULT_PORT
conf=$SFY_TMP/route.conf
write_conf "$conf" "proxy socks5h://$HOST_ADDR:$DANTED_PORT" \
	"chain three socks5://$HOST_ADDR:$DANTED_PORT socks5://127.0.0.1:$MS_PORT socks5h://127.0.0.1:$FAULT_PORT" \
	"direct .direct.test" \
	"block ads.blocked.test" \
	"route *.chain.test via three" \
	"direct none"
dns_asked() {
	grep -c "$1" "$DNS_REC" | tr -d ' '
}
ns_curl() {
	in_ns "$SOCKSIFY" -f "$conf" curl -sS --max-time 20 "$@"
}

# The test can fail: without the rule the name would be faked and sent to
# danted, which cannot resolve it.
out=$(ns_curl "http://www.direct.test:$DIRECT_PORT/") ||
	fail "direct name: curl failed: $out"
expect_eq "direct name: page of the direct server" "$out" "$DIRECT_TOKEN"
expect_gt "direct name: asked the DNS server" "$(dns_asked www.direct.test)" 0
expect_eq "direct name: danted never saw it" \
	"$(danted_connects_to "$DIRECT_PORT")" 0
say "direct .direct.test: real DNS, direct connection"

# A static program (under the supervisor, which answers its DNS): the
# direct name is forwarded to the real nameserver, and the connect to its
# real address is direct too.
STATICDNS=$SFY_BUILD/progs_static/staticdns
[ -x "$STATICDNS" ] || fail "$STATICDNS missing (run make)"
out=$(in_ns "$SOCKSIFY" -f "$conf" "$STATICDNS" get static.direct.test \
	"$DIRECT_PORT" 2>&1) || fail "static direct name: failed: $out"
expect_contains "static direct name: page of the direct server" "$out" \
	"$DIRECT_TOKEN"
expect_gt "static direct name: asked the DNS server" \
	"$(dns_asked static.direct.test)" 0
expect_eq "static direct name: danted never saw it" \
	"$(danted_connects_to "$DIRECT_PORT")" 0
say "direct .direct.test, static program: real DNS, direct connection"

ns_curl "http://ads.blocked.test:$HTTP_PORT/" >/dev/null 2>&1
expect_eq "blocked name: curl cannot resolve it" "$?" 6
expect_eq "blocked name: no DNS query" "$(dns_asked ads.blocked.test)" 0
say "block ads.blocked.test: the lookup fails, nothing sent"

before=$(danted_connects_to "$HTTP_PORT")
out=$(ns_curl "http://$TARGET_NAME:$HTTP_PORT/") ||
	fail "default chain: curl failed: $out"
expect_eq "default chain: page" "$out" "$HTTP_TOKEN"
expect_eq "default chain: no DNS query" "$(dns_asked "$TARGET_NAME")" 0
expect_eq "default chain: danted asked for the target" \
	"$(wait_count $((before + 1)) danted_connects_to "$HTTP_PORT")" \
	$((before + 1))
say "other names: the default proxy (danted), name sent to it"

out=$(ns_curl "http://web.chain.test:$HTTP_PORT/") ||
	fail "chain: curl failed: $out"
expect_eq "chain: page" "$out" "$HTTP_TOKEN"
expect_eq "chain: no DNS query" "$(dns_asked web.chain.test)" 0
expect_eq "chain: danted asked for microsocks" \
	"$(wait_count 1 danted_connects_to "$MS_PORT")" 1
grep -q "atyp=3 host=web.chain.test port=$HTTP_PORT" "$LAST_REC" ||
	fail "chain: the last hop did not get the name: $(cat "$LAST_REC")"
say "*.chain.test: danted → microsocks → last hop, name at the last hop"

# --explain says the same without connecting.
out=$(sfy -f "$conf" --explain web.chain.test:80) || fail "--explain: $out"
expect_contains "--explain: the rule" "$out" \
	"rule: line 5: route .chain.test via three"
expect_contains "--explain: the hops" "$out" \
	"chain three: socks5://$HOST_ADDR:$DANTED_PORT -> socks5://127.0.0.1:$MS_PORT -> socks5h://127.0.0.1:$LAST_PORT"
out=$(sfy -f "$conf" --explain ads.blocked.test) || fail "--explain: $out"
expect_contains "--explain: a blocked name" "$out" \
	"lookup: refused (EAI_NONAME)"
say "--explain: rule and hops"

# Failover: the first member is black-holed (packets to 198.19.255.1 leave
# on a veth whose other end drops them), the second refuses (nothing listens on the
# namespace's 127.0.0.1:9), the third is danted. The first connect waits out
# connect_timeout once; the second process of the same run goes straight to
# danted, because the members are marked down in the run's shared table.
in_ns ip link add sfyhole type veth peer name sfysink || fail "hole link"
in_ns ip link set sfyhole up || fail "hole up"
in_ns ip link set sfysink up || fail "sink up"
in_ns ip addr add 198.19.255.254/24 dev sfyhole || fail "hole addr"
# A fixed neighbour: the SYN leaves on the veth, and the other end, which
# has no address, drops it without a word.
in_ns ip neigh add 198.19.255.1 lladdr 02:00:00:00:00:01 dev sfyhole ||
	fail "hole neighbour"
log=$SFY_TMP/failover.log
write_conf "$conf" "proxy socks5h://$HOST_ADDR:$DANTED_PORT" \
	"connect_timeout 1" \
	"group fo failover socks5h://198.19.255.1:1080 socks5h://127.0.0.1:9 default" \
	"route .socksify.test via fo" "direct none"
start=$(date +%s%N)
out=$(in_ns env SOCKSIFY_LOG_FILE="$log" "$SOCKSIFY" -v -f "$conf" sh -c \
	"curl -sS --max-time 20 http://$TARGET_NAME:$HTTP_PORT/ &&
	 curl -sS --max-time 20 http://$TARGET_NAME:$HTTP_PORT/") ||
	fail "failover: curl failed: $out $(cat "$log")"
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "failover: two pages" "$out" "$HTTP_TOKEN
$HTTP_TOKEN"
expect_eq "failover: black-holed member tried once" \
	"$(grep -c '198.19.255.1:1080.*timed out (marked down)' "$log")" 1
expect_eq "failover: refusing member tried once" \
	"$(grep -c '127.0.0.1:9[: ].*(marked down)' "$log")" 1
expect_eq "failover: both pages through danted" \
	"$(grep -c "via socks5h://$HOST_ADDR:$DANTED_PORT.*: ok" "$log")" 2
grep -q "via socks5h://$HOST_ADDR:$DANTED_PORT (chain default of group fo, rule line 4): ok" "$log" ||
	fail "failover: the log does not name the group: $(cat "$log")"
[ "$ms" -lt 5000 ] || fail "failover took $ms ms (connect_timeout is 1 s)"
say "failover: black hole and refusal skipped once per run (${ms} ms)"

# Race: the black-holed member gets race_delay (300 ms), not the 10 s
# connect_timeout, before danted is started beside it; danted wins and the
# black hole is closed as the loser (curl's connects are non-blocking: the
# race runs in the background). A later process of the run goes straight
# to danted, the group's preferred member now.
log=$SFY_TMP/race.log
write_conf "$conf" "proxy socks5h://$HOST_ADDR:$DANTED_PORT" \
	"connect_timeout 10" "race_delay 300ms" \
	"group rc race socks5h://198.19.255.1:1080 default" \
	"route .socksify.test via rc" "direct none"
start=$(date +%s%N)
out=$(in_ns env SOCKSIFY_LOG_FILE="$log" "$SOCKSIFY" -v -f "$conf" sh -c \
	"curl -sS --max-time 20 http://$TARGET_NAME:$HTTP_PORT/ &&
	 curl -sS --max-time 20 http://$TARGET_NAME:$HTTP_PORT/") ||
	fail "race: curl failed: $out $(cat "$log")"
ms=$((($(date +%s%N) - start) / 1000000))
expect_eq "race: two pages" "$out" "$HTTP_TOKEN
$HTTP_TOKEN"
expect_eq "race: black-holed member tried once" \
	"$(grep -c '198.19.255.1:1080' "$log")" 1
grep -q '198.19.255.1:1080.*slower, closed' "$log" ||
	fail "race: the black hole was not closed as the loser: $(cat "$log")"
[ "$ms" -lt 4000 ] || fail "race took $ms ms (race_delay is 300 ms)"
say "race: black hole given 300 ms once (${ms} ms for two fetches)"

# Race in parallel, blocking sockets (the race runs inside connect()).
# ms_since START — milliseconds since START (date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}
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
# A slow member: the delay relay (in the namespace) holds every chunk
# 150 ms each way in front of a second server, so its TCP connect is at
# once but each handshake round trip takes 300 ms.
start_fault ok --listen "$HOST_ADDR"
SLOW_REC=$FAULT_REC
pf=$SFY_TMP/slowrelay.port
# The relay's own PID (ip netns exec may not be it) is killed at the end.
in_ns sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$SFY_TMP/slowrelay.pid" \
	"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
	--listen-port-file "$pf" --to "$HOST_ADDR:$FAULT_PORT" --delay-ms 150 \
	>"$SFY_TMP/slowrelay.log" 2>&1 &
track $!
wait_file "$pf"
track "$(cat "$SFY_TMP/slowrelay.pid")"
SLOW_PORT=$(cat "$pf")
race_run() {
	in_ns env SOCKSIFY_LOG_FILE="$log" "$SOCKSIFY" -v -f "$conf" \
		"$PROGS/connect_errno" -s blocking "$1" 4700
}
# 1. Black-holed first member: the live one is started after race_delay
# and wins; the next connect starts at the winner (no race_delay again).
log=$SFY_TMP/race-hole.log
race_conf 300ms "socks5h://198.19.255.1:1080 socks5h://$HOST_ADDR:$LIVE_PORT"
start=$(date +%s%N)
out=$(race_run a.rg.test) || fail "race hole: $out $(cat "$log")"
ms=$(ms_since "$start")
expect_eq "race hole: echo" "$out" "OK
ECHO blocking"
[ "$ms" -ge 300 ] && [ "$ms" -lt 2500 ] ||
	fail "race hole: $ms ms (race_delay 300 ms, connect_timeout 10 s)"
grep -q "198.19.255.1:1080.*slower, closed" "$log" ||
	fail "race hole: the black hole was not closed as the loser: $(cat "$log")"
say "race hole: blocking connect in $ms ms"
# 2. A slow but live first member and a black-holed second one: the slow
# one still wins (the race keeps it going), in its own time, not the
# black hole's connect timeout.
race_conf 100ms "socks5h://127.0.0.1:$SLOW_PORT socks5h://198.19.255.1:1080"
start=$(date +%s%N)
out=$(race_run b.rg.test) || fail "race slow: $out $(cat "$log")"
ms=$(ms_since "$start")
expect_eq "race slow: echo" "$out" "OK
ECHO blocking"
grep -q "host=b.rg.test port=4700" "$SLOW_REC" ||
	fail "race slow: the slow member did not carry it: $(cat "$SLOW_REC")"
[ "$ms" -lt 4000 ] || fail "race slow: $ms ms (connect_timeout is 10 s)"
say "race slow: the slow member won in $ms ms"
# 3. A slow first member and a live second one: the first to open wins,
# so the live one, well before the slow one's handshake (2 x 300 ms).
race_conf 100ms "socks5h://127.0.0.1:$SLOW_PORT socks5h://$HOST_ADDR:$LIVE_PORT"
: >"$SLOW_REC"
start=$(date +%s%N)
out=$(race_run c.rg.test) || fail "race fast: $out $(cat "$log")"
ms=$(ms_since "$start")
expect_eq "race fast: echo" "$out" "OK
ECHO blocking"
grep -q "host=c.rg.test port=4700" "$LIVE_REC" ||
	fail "race fast: the live member did not carry it: $(cat "$LIVE_REC")"
[ "$ms" -lt 550 ] || fail "race fast: $ms ms: the slow member was awaited"
say "race fast: the second member won in $ms ms"

# Failover on a blocking socket (the handshake runs inside connect()):
# general failure (REP 1) is the proxy's own, so the next member is tried;
# "host unreachable" (REP 4) blames the destination: no failover, the
# program gets EHOSTUNREACH and the next member is never asked.
start_fault rep --rep 1
GF_PORT=$FAULT_PORT
start_fault rep --rep 4
HU_PORT=$FAULT_PORT
HU_REC=$FAULT_REC
start_fault ok
OK_REC=$FAULT_REC
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" \
	"group gf failover socks5h://127.0.0.1:$GF_PORT default" \
	"group hu failover socks5h://127.0.0.1:$HU_PORT default" \
	"route .gf.test via gf" "route .hu.test via hu"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s blocking x.gf.test 4600)
expect_eq "blocking failover after a general failure" "$out" "OK
ECHO blocking"
grep -q "atyp=3 host=x.gf.test port=4600" "$OK_REC" ||
	fail "the next member did not get the name: $(cat "$OK_REC")"
out=$(sfy -f "$conf" "$PROGS/connect_errno" x.hu.test 4601)
expect_eq "host unreachable: no failover" "$out" EHOSTUNREACH
grep -q "host=x.hu.test" "$HU_REC" || fail "first member not asked"
grep -q "host=x.hu.test" "$OK_REC" &&
	fail "failed over on a destination's fault: $(cat "$OK_REC")"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -n -s nonblocking y.gf.test 4602)
expect_eq "non-blocking failover" "$out" "OK
ECHO nonblocking"
say "failover: general failure fails over, host unreachable does not"

# IPv6 hops: a chain whose proxy is [::1] carries AF_INET6 sockets; an
# AF_INET socket cannot reach it, so a group goes on to its IPv4 member
# (without marking the IPv6 one down: it is the socket's family).
start_fault ok --listen ::1
V6_REC=$FAULT_REC
V6_PORT=$FAULT_PORT
start_fault ok
V4_REC=$FAULT_REC
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" \
	"chain v6 socks5h://[::1]:$V6_PORT" \
	"group mixed failover v6 default" \
	"route .v6.test via mixed"
# One run, so that a down mark would be seen by the third connect.
out=$(sfy -f "$conf" sh -c "
	\"$PROGS/connect_errno\" -6 -s six a.v6.test 4700
	\"$PROGS/connect_errno\" -4 -s four b.v6.test 4701
	\"$PROGS/connect_errno\" -6 -s again c.v6.test 4702")
expect_eq "IPv6, IPv4, IPv6 sockets" "$out" "OK
ECHO six
OK
ECHO four
OK
ECHO again"
grep -q "host=a.v6.test port=4700" "$V6_REC" ||
	fail "the [::1] proxy did not get the name: $(cat "$V6_REC")"
grep -q "host=b.v6.test port=4701" "$V4_REC" ||
	fail "the IPv4 member did not get the name: $(cat "$V4_REC")"
grep -q "host=c.v6.test port=4702" "$V6_REC" ||
	fail "the [::1] member was marked down: $(cat "$V6_REC")"
say "IPv6 hop: AF_INET6 sockets through [::1], AF_INET ones to the next member"

# An HTTP CONNECT proxy as a group member: the refusing SOCKS member is
# skipped, tinyproxy carries the connection (by address: a route rule for
# 127.0.0.1 on the web server's port).
start_tinyproxy
write_conf "$conf" "proxy socks5h://127.0.0.1:1" \
	"group hf failover socks5h://127.0.0.1:9 http://127.0.0.1:$TINY_PORT" \
	"route 127.0.0.1 port $HTTP_PORT via hf" "direct none"
out=$(sfy -f "$conf" curl -sS --max-time 20 "http://127.0.0.1:$HTTP_PORT/") ||
	fail "http member: curl failed: $out"
expect_eq "http member: page" "$out" "$HTTP_TOKEN"
expect_eq "http member: tinyproxy asked" \
	"$(wait_count 1 tiny_connects_to "127.0.0.1:$HTTP_PORT")" 1
say "failover to an HTTP CONNECT member (tinyproxy)"

# Round-robin over two of our servers (echo), across 16 threads of one
# process, then across 4 processes of one run: the turns are shared, so the
# split is exact.
start_fault ok
RR1=$FAULT_REC
P1=$FAULT_PORT
start_fault ok
RR2=$FAULT_REC
P2=$FAULT_PORT
write_conf "$conf" "proxy socks5h://127.0.0.1:1" \
	"group rr round-robin socks5h://127.0.0.1:$P1 socks5h://127.0.0.1:$P2" \
	"route .rr.test via rr"
requests() {
	grep -c 'socks5 request' "$1" | tr -d ' '
}
sfy -f "$conf" "$PROGS/threads" echo.rr.test 7 16 4 >"$SFY_TMP/rr.out" 2>&1 ||
	fail "round-robin threads: $(tail -5 "$SFY_TMP/rr.out")"
expect_eq "round-robin threads: first server" "$(requests "$RR1")" 32
expect_eq "round-robin threads: second server" "$(requests "$RR2")" 32
: >"$RR1"
: >"$RR2"
sfy -f "$conf" sh -c "for i in 1 2 3 4; do
	\"$PROGS/threads\" echo.rr.test 7 1 4 >\"$SFY_TMP/rr\$i.out\" 2>&1 &
done; wait" || fail "round-robin processes"
expect_eq "round-robin processes: first server" "$(requests "$RR1")" 8
expect_eq "round-robin processes: second server" "$(requests "$RR2")" 8
say "round-robin: 32/32 over 16 threads, 8/8 over 4 processes"
sfy_pass
