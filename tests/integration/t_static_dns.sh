#!/bin/sh
# A static program's own DNS under the supervisor (issue 10): static glibc
# reads /etc/resolv.conf and queries the nameserver itself. Here the
# nameserver is a recording responder on loopback (a direct destination),
# put into a private mount namespace's /etc/resolv.conf, so a query that got
# past the supervisor would reach it. With remote DNS the supervisor must
# answer every query itself (UDP and TCP) with a fake address whose name
# then goes to danted, and getpeername() must show that address, not the
# proxy's. With remote DNS off the query goes to the nameserver, direct.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted unshare mount
STATIC=$SFY_BUILD/progs_static/staticdns
[ -x "$STATIC" ] || fail "$STATIC missing (run make)"
"$SOCKSIFY_HELPER" preflight "$STATIC" >/dev/null 2>"$SFY_TMP/pf.err"
[ $? = 4 ] || skip "no supervisor here: $(cat "$SFY_TMP/pf.err")"
start_http
start_danted none
start_dns 198.18.99.7 127.0.0.54 53
printf 'nameserver 127.0.0.54\noptions timeout:1 attempts:1\n' \
	>"$SFY_TMP/resolv.conf"
# in_resolv CMD... — CMD with our resolv.conf (RESOLV, default
# $SFY_TMP/resolv.conf) as /etc/resolv.conf.
in_resolv() {
	unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift &&
		exec "$@"' sh "${RESOLV:-$SFY_TMP/resolv.conf}" "$@"
}
conf=$SFY_TMP/socksify.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT"
queries() { wc -l <"$DNS_REC" | tr -d ' '; }

# The set-up can fail: without socksify the query reaches the nameserver.
out=$(in_resolv "$STATIC" resolve "$TARGET_NAME") ||
	fail "unsupervised lookup failed: $out"
expect_eq "unsupervised lookup: the nameserver's answer" "$out" 198.18.99.7
[ "$(queries)" -ge 1 ] || fail "the nameserver recorded nothing"
dns_before=$(queries)

# getaddrinfo (A and AAAA over UDP, glibc's connected socket) + connect.
expect_via_danted "static getaddrinfo + connect by name" "$HTTP_PORT" \
	in_resolv "$SOCKSIFY" -f "$conf" "$STATIC" get "$TARGET_NAME" "$HTTP_PORT"
peer=$(sed -n 's/^peer //p' "$SFY_TMP/cmd.err")
case $peer in
24[0-9].* | 25[0-5].* | fd5c:6f63:6b73:*) ;;
*) fail "getpeername shows '$peer', not the fake address connected to" ;;
esac
say "getpeername: the fake address ($peer), not the proxy"
out=$(in_resolv "$SOCKSIFY" -f "$conf" "$STATIC" resolve "$TARGET_NAME") ||
	fail "supervised lookup: $out"
expect_contains "A answered with a fake address" "$out" "$peer"
expect_contains "AAAA answered with a fake address" "$out" "fd5c:6f63:6b73:"

# DNS over TCP (RES_OPTIONS=use-vc): the same fake address.
out=$(in_resolv "$SOCKSIFY" -f "$conf" "$STATIC" tcp "$TARGET_NAME") ||
	fail "lookup over TCP: $out"
expect_contains "over TCP: the same fake address" "$out" "$peer"
# An IPv6 nameserver (nothing listens on [::1]:53): the responder on ::1.
printf 'nameserver ::1\noptions timeout:1 attempts:1\n' >"$SFY_TMP/resolv6.conf"
out=$(RESOLV=$SFY_TMP/resolv6.conf in_resolv "$SOCKSIFY" -f "$conf" "$STATIC" \
	resolve "$TARGET_NAME") || fail "IPv6 nameserver: $out"
expect_contains "IPv6 nameserver: the same fake address" "$out" "$peer"

# A query made by hand on a connected UDP socket: the reply seems to come
# from the nameserver (glibc and Go may check), getpeername shows it too.
out=$(in_resolv "$SOCKSIFY" -f "$conf" "$STATIC" query 127.0.0.54 \
	"$TARGET_NAME") || fail "query by hand: $out"
expect_contains "recvfrom: the reply's source" "$out" "from 127.0.0.54 53"
expect_contains "getpeername: the nameserver" "$out" "peer 127.0.0.54 53"
expect_contains "one answer" "$out" "answers 1"
say "UDP query by hand: source and peer are the nameserver's"
sleep 0.3
expect_eq "remote DNS: nothing reached the nameserver" "$(queries)" "$dns_before"
say "static DNS (UDP and TCP) answered by the supervisor, no packet out"

# Remote DNS off: the query goes to the nameserver (direct), as the
# library's would.
write_conf "$SFY_TMP/local.conf" "proxy socks5://127.0.0.1:$DANTED_PORT"
out=$(in_resolv "$SOCKSIFY" -f "$SFY_TMP/local.conf" "$STATIC" resolve \
	"$TARGET_NAME") || fail "local DNS: $out"
expect_eq "local DNS: the nameserver's answer" "$out" 198.18.99.7
[ "$(queries)" -gt "$dns_before" ] || fail "local DNS: the nameserver saw nothing"
say "remote DNS off: the nameserver answers, direct"
sfy_pass
