#!/bin/sh
# SOCKS4 against danted (a real server), SOCKS4a against our recording
# server (danted 1.4.2 does not implement 4a: it tries to connect to 0.0.0.x,
# checked by hand with curl --socks4a), both with "direct none".
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl wget
start_http
start_danted none
url=http://127.0.0.1:$HTTP_PORT/

conf=$SFY_TMP/s4.conf
write_conf "$conf" "proxy socks4://127.0.0.1:$DANTED_PORT" "direct none"
expect_via_danted "curl, socks4" "$HTTP_PORT" \
	sfy -f "$conf" curl -sS --max-time 20 "$url"
expect_via_danted "wget, socks4 (-x)" "$HTTP_PORT" \
	sfy -f "$conf" -x "socks4://127.0.0.1:$DANTED_PORT" \
	wget -q -T 20 -t 1 -O - "$url"

# SOCKS4a: a name only the proxy knows goes out as DSTIP 0.0.0.x + name.
start_fault ok --serve relay --target "127.0.0.1:$HTTP_PORT"
conf=$SFY_TMP/s4a.conf
write_conf "$conf" "proxy socks4a://127.0.0.1:$FAULT_PORT" "direct none"
out=$(sfy -f "$conf" curl -sS --max-time 20 \
	"http://$TARGET_NAME:$HTTP_PORT/") || fail "curl via socks4a failed"
expect_contains "curl via socks4a" "$out" "$HTTP_TOKEN"
rec=$(grep '^socks4 request' "$FAULT_REC")
expect_contains "socks4a request" "$rec" "host=$TARGET_NAME port=$HTTP_PORT"
case $rec in
*"ip=0.0.0.0 "* | *"ip=0.0.0."[1-9]*) ;;
*) fail "socks4a DSTIP is not 0.0.0.x: $rec" ;;
esac

# SOCKS4 (no a) with an IPv4 literal sends the address, never a name.
start_fault ok --serve relay --target "127.0.0.1:$HTTP_PORT"
write_conf "$conf" "proxy socks4://127.0.0.1:$FAULT_PORT" "direct none"
out=$(sfy -f "$conf" curl -sS --max-time 20 "$url") ||
	fail "curl via socks4 (fault server) failed"
expect_contains "socks4 request" "$(cat "$FAULT_REC")" \
	"ip=127.0.0.1 user="
sfy_pass
