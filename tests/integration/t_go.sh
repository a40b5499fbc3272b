#!/bin/sh
# Go programs under the supervisor (issue 10), from a network namespace
# whose only reachable host is the proxy's (198.18.X.1). The URL's name
# resolves only at danted. A DNS server that records every query listens on
# 198.18.X.1 port 53, named by the namespace's resolv.conf and made a direct
# destination, so a query that got past the supervisor would reach it:
# Go's own resolver must be answered by the supervisor (a fake address
# whose name goes to danted). Cases: a static Go binary (CGO_ENABLED=0),
# one GET, and 20 parallel GETs from one process; an MX/TXT lookup, refused
# cleanly; the cgo build (dynamic; its connects are Go's raw system calls)
# started by a static program, so under the supervisor's filter. With
# remote DNS off, the queries go to the nameserver direct.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted ip
GOSTATIC=$SFY_BUILD/progs_go/gohttp-static
GOCGO=$SFY_BUILD/progs_go/gohttp-cgo
STATIC=$SFY_BUILD/progs_static/staticdns
[ -x "$GOSTATIC" ] || skip "no Go test programs (golang-go not installed)"
"$SOCKSIFY_HELPER" preflight "$GOSTATIC" >/dev/null 2>"$SFY_TMP/pf.err"
[ $? = 4 ] || skip "no supervisor here: $(cat "$SFY_TMP/pf.err")"
make_netns
start_http
start_danted none "$HOST_ADDR"
start_dns 198.18.99.7 "$HOST_ADDR" 53
mkdir -p "/etc/netns/$NS"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$HOST_ADDR" \
	>"/etc/netns/$NS/resolv.conf"
conf=$SFY_TMP/go.conf
write_conf "$conf" "proxy socks5h://$HOST_ADDR:$DANTED_PORT" \
	"direct $HOST_ADDR port 53"
url=http://$TARGET_NAME:$HTTP_PORT/
queries() { wc -l <"$DNS_REC" | tr -d ' '; }
gosfy() { in_ns "$SOCKSIFY" -f "$conf" "$@"; }

# Controls: the namespace reaches the nameserver without socksify (so a
# leak would show), and cannot reach the web server.
out=$(in_ns "$GOSTATIC" resolve "$TARGET_NAME" 2>&1)
expect_eq "control: Go's resolver reaches the nameserver" "$out" 198.18.99.7
in_ns "$GOSTATIC" get "http://127.0.0.1:$HTTP_PORT/" >/dev/null 2>&1 &&
	fail "control: the namespace reached the web server directly"
dns_before=$(queries)

expect_via_danted "static Go GET by name" "$HTTP_PORT" gosfy "$GOSTATIC" \
	get "$url"
peer=$(sed -n 's/^peer //p' "$SFY_TMP/cmd.err")
case $peer in
24[0-9].* | 25[0-5].* | \[fd5c:6f63:6b73:*) ;;
*) fail "Go's RemoteAddr is '$peer', not the fake address it dialled" ;;
esac
say "Go's RemoteAddr (getpeername): $peer, not the proxy"

# 20 parallel requests from one Go process.
before20=$(danted_connects_to "$HTTP_PORT")
out=$(gosfy "$GOSTATIC" parallel "$url" 20 2>&1) || fail "parallel: $out"
expect_eq "20 parallel GETs" "$out" "ok 20"
# Go's dialer races the fake IPv6 address against the IPv4 one when a
# connect takes over 300 ms (RFC 8305), so a busy machine may see more.
after20=$(wait_count $((before20 + 20)) danted_connects_to "$HTTP_PORT")
[ "$after20" -ge $((before20 + 20)) ] ||
	fail "20 parallel: danted relayed $((after20 - before20)) connects"
say "20 parallel GETs from one Go process: ok (via danted)"

# MX and TXT: refused by the supervisor, cleanly (an error, no hang).
start=$(date +%s)
out=$(SOCKSIFY_LOG=warn gosfy "$GOSTATIC" mx "$TARGET_NAME" \
	2>"$SFY_TMP/mx.err") ||
	fail "MX lookup: exit $?: $out $(cat "$SFY_TMP/mx.err")"
expect_eq "MX/TXT refused" "$out" refused
[ $(($(date +%s) - start)) -lt 10 ] || fail "MX lookup took too long"
expect_contains "MX refusal logged" "$(cat "$SFY_TMP/mx.err")" \
	"only A, AAAA and PTR are answered"
say "MX/TXT: refused cleanly"

# The cgo build, exec'd by a static program: under the filter.
expect_via_danted "cgo Go GET by name (under the filter)" "$HTTP_PORT" \
	gosfy "$STATIC" exec "$GOCGO" get "$url"
# Run by socksify itself: the guard puts it under the filter (issue 10).
expect_via_danted "cgo Go GET by name (the guard)" "$HTTP_PORT" \
	gosfy "$GOCGO" get "$url"

sleep 0.3
expect_eq "no query reached the nameserver" "$(queries)" "$dns_before"
say "no DNS packet left the namespace"

# Remote DNS off, no rule for the nameserver: Go's queries go to it direct,
# as libc's resolver's do under the library.
write_conf "$SFY_TMP/local.conf" "proxy socks5://$HOST_ADDR:$DANTED_PORT"
out=$(in_ns "$SOCKSIFY" -f "$SFY_TMP/local.conf" "$GOSTATIC" resolve \
	"$TARGET_NAME" 2>&1)
expect_eq "remote DNS off: the nameserver's answer" "$out" 198.18.99.7
[ "$(queries)" -gt "$dns_before" ] || fail "remote DNS off: no query seen"
say "remote DNS off: Go's queries reach the nameserver, direct"
sfy_pass
