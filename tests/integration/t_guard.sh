#!/bin/sh
# The guard (issue 10): dynamic programs under the supervisor's filter. With
# the proxy pointed at a dead port and the target reachable directly, a
# connect by inline-assembly `syscall`, a UDP sendto by the same, an
# io_uring connect, and the same from a shell two levels down must not
# reach the target with the guard on; with the guard off (environment or
# config) they do, which shows the probes can see a leak. With a live
# proxy, the raw connect is carried through danted, and the library's own
# connects pay no round trip to the supervisor.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
need curl
RAW=$PROGS/rawconnect
URING=$PROGS/uringconnect
[ -x "$RAW" ] || fail "$RAW missing (run make)"
"$SOCKSIFY_HELPER" preflight /bin/true >/dev/null 2>"$SFY_TMP/pf.err"
[ $? = 5 ] || skip "no guard here: $(cat "$SFY_TMP/pf.err")"
[ "$("$RAW" 127.0.0.1 1)" = unsupported ] && skip "rawconnect: not x86-64"
start_http
start_danted none
dead=$(free_port)
conf=$SFY_TMP/dead.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$dead" "direct none"
write_conf "$SFY_TMP/off.conf" "proxy socks5://127.0.0.1:$dead" \
	"direct none" "guard off"
live=$SFY_TMP/live.conf
write_conf "$live" "proxy socks5://127.0.0.1:$DANTED_PORT" "direct none"

# How many requests the web server has answered.
http_hits() {
	grep -c '"GET / ' "$SFY_TMP/http.log"
}

out=$(sfy -v -f "$conf" /bin/true 2>&1)
expect_contains "-v names the mode" "$out" "mode: library+guard"
# Turned off: a warning (without -v), and the mode is the library's.
out=$(SOCKSIFY_GUARD=off "$SOCKSIFY" -f "$conf" /bin/true 2>&1)
expect_contains "guard off warns" "$out" "warning: guard off"
out=$(sfy -v -f "$SFY_TMP/off.conf" /bin/true 2>&1)
expect_contains "guard off in the config: mode" "$out" \
	"mode: library (LD_PRELOAD)"
out=$(sfy -q -f "$SFY_TMP/off.conf" /bin/true 2>&1)
expect_eq "guard off, -q: no warning" "$out" ""

# no_leak WHAT WANT CMD... — CMD prints WANT (its errno), and the target
# saw nothing.
no_leak() {
	what=$1
	want=$2
	shift 2
	before=$(http_hits)
	out=$("$@" 2>"$SFY_TMP/cmd.err")
	expect_eq "$what (guard on)" "$out" "$want"
	sleep 0.2
	expect_eq "$what: nothing reached the target" "$(http_hits)" "$before"
}

# leaks WHAT CMD... — without the guard CMD reaches the target directly.
leaks() {
	what=$1
	shift
	before=$(http_hits)
	out=$("$@" 2>"$SFY_TMP/cmd.err")
	expect_contains "$what (guard off): leaks" "$out" "$HTTP_TOKEN"
	after=$(wait_count $((before + 1)) http_hits)
	expect_eq "$what (guard off): the target saw it" "$after" \
		$((before + 1))
}

no_leak "raw connect" ECONNREFUSED \
	sfy -q -f "$conf" "$RAW" 127.0.0.1 "$HTTP_PORT"
leaks "raw connect" env SOCKSIFY_GUARD=off \
	"$SOCKSIFY" -q -f "$conf" "$RAW" 127.0.0.1 "$HTTP_PORT"
leaks "raw connect, guard off in the config" \
	sfy -q -f "$SFY_TMP/off.conf" "$RAW" 127.0.0.1 "$HTTP_PORT"
say "raw connect: caught by the guard, leaks without it"

# Exec'd children keep the filter: a shell running a shell running it.
no_leak "raw connect two shells down" ECONNREFUSED \
	sfy -q -f "$conf" sh -c "sh -c '$RAW 127.0.0.1 $HTTP_PORT'"
leaks "raw connect two shells down" env SOCKSIFY_GUARD=off \
	"$SOCKSIFY" -q -f "$conf" sh -c "sh -c '$RAW 127.0.0.1 $HTTP_PORT'"
say "sh -c 'sh -c ...': the filter is inherited"

# UDP by raw sendto: refused (UDP is not carried by the supervisor). To
# another port than the proxy's, which is let through.
udp=$(free_port)
out=$(sfy -q -f "$conf" "$RAW" -u 127.0.0.1 "$udp")
expect_eq "raw UDP sendto (guard on)" "$out" EACCES
out=$(SOCKSIFY_GUARD=off "$SOCKSIFY" -q -f "$conf" "$RAW" -u 127.0.0.1 "$udp")
expect_eq "raw UDP sendto (guard off)" "$out" ok
say "raw UDP sendto: refused by the guard"

if [ -x "$URING" ]; then
	no_leak "io_uring connect" "setup ENOSYS" \
		sfy -q -f "$conf" "$URING" 127.0.0.1 "$HTTP_PORT"
	leaks "io_uring connect" env SOCKSIFY_GUARD=off \
		"$SOCKSIFY" -q -f "$conf" "$URING" 127.0.0.1 "$HTTP_PORT"
	say "io_uring: io_uring_setup fails with ENOSYS under the guard"
else
	say "io_uring part skipped: uringconnect not built (no liburing-dev)"
fi

# With a live proxy the supervisor carries the raw connect (-vv: the
# supervisor names each call it is notified of).
SOCKSIFY_LOG_FILE=$SFY_TMP/raw.log expect_via_danted "raw connect" \
	"$HTTP_PORT" sfy -vv -f "$live" "$RAW" 127.0.0.1 "$HTTP_PORT"
log=$(cat "$SFY_TMP/raw.log")
expect_contains "raw connect: the supervisor carried it" "$log" \
	"via the proxy: ok (supervised)"
expect_contains "raw connect: notified" "$log" "system call 42 on an IP socket"

# The library's own connects go through the trampoline page: carried by
# the library, no word from the supervisor.
: >"$SFY_TMP/lib.log"
SOCKSIFY_LOG_FILE=$SFY_TMP/lib.log expect_via_danted "library connect" \
	"$HTTP_PORT" sfy -vv -f "$live" curl -sS "http://127.0.0.1:$HTTP_PORT/"
log=$(cat "$SFY_TMP/lib.log")
expect_contains "library connect: logged by the library" "$log" "via"
case $log in
*"on an IP socket"* | *supervised*) fail "the library's connect went to the supervisor: $log" ;;
esac
say "the library's connects pass the filter (no supervisor round trip)"

# Remote DNS off: libc's own resolver queries resolv.conf's nameserver
# itself (a connect and send inside libc, which reach the supervisor); they
# are let through, as without the guard. From a namespace whose
# resolv.conf names a responder on the host side of its veth.
need ip getent
make_netns
mkdir -p "/etc/netns/$NS"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$HOST_ADDR" \
	>"/etc/netns/$NS/resolv.conf"
start_dns "$HOST_ADDR" "$HOST_ADDR" 53
write_conf "$SFY_TMP/local-dns.conf" "proxy socks5://127.0.0.1:$dead" \
	"remote_dns off"
out=$(in_ns "$SOCKSIFY" -q -f "$SFY_TMP/local-dns.conf" getent ahostsv4 \
	local.socksify.test)
expect_contains "remote DNS off: libc's lookup answered" "$out" "$HOST_ADDR"
grep -q "name=local.socksify.test" "$DNS_REC" ||
	fail "remote DNS off: the nameserver saw no query"
say "remote DNS off: libc's queries to the nameserver go through"

# Remote DNS on, the proxy named by a host name only that nameserver knows
# (it answers every name with the host side, where a second danted
# listens): the supervisor looks it up, outside the filter, and hands the
# library the address (SOCKSIFY_PROXY_RESOLVED); libc's own query from the
# program would be refused by the guard.
start_danted none "$HOST_ADDR"
expect_via_danted "proxy by host name" "$HTTP_PORT" in_ns "$SOCKSIFY" -q \
	-x "socks5h://proxy.socksify.test:$DANTED_PORT" curl -sS --max-time 10 \
	"http://$TARGET_NAME:$HTTP_PORT/"
sfy_pass
