#!/bin/sh
# Proxy chains ("proxy" repeated) and a proxy given by an IPv6 address.
# danted → microsocks: danted must be asked for microsocks (never the
# target), and the target must be reached. danted → our server: the name
# goes only to the last hop; the first hop only sees the second's address.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted microsocks curl
start_http
start_danted none
start_microsocks
url=http://127.0.0.1:$HTTP_PORT/
conf=$SFY_TMP/chain.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" \
	"proxy socks5://127.0.0.1:$MS_PORT" "direct none"
before=$(danted_connects_to "$MS_PORT")
out=$(sfy -f "$conf" curl -sS --max-time 20 "$url") || fail "chain fetch failed"
expect_contains "danted → microsocks" "$out" "$HTTP_TOKEN"
after=$(wait_count $((before + 1)) danted_connects_to "$MS_PORT")
expect_eq "danted was asked for microsocks" "$after" $((before + 1))
expect_eq "danted never asked for the target" \
	"$(danted_connects_to "$HTTP_PORT")" 0
say "chain danted → microsocks: ok"

start_fault ok --serve relay --target "127.0.0.1:$HTTP_PORT"
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" \
	"proxy socks5h://127.0.0.1:$FAULT_PORT"
out=$(sfy -f "$conf" curl -sS --max-time 20 \
	"http://$TARGET_NAME:$HTTP_PORT/") || fail "chain by name failed"
expect_contains "chain by name" "$out" "$HTTP_TOKEN"
expect_eq "danted was asked for the second hop" \
	"$(wait_count 1 danted_connects_to "$FAULT_PORT")" 1
grep -q "atyp=3 host=$TARGET_NAME port=$HTTP_PORT" "$FAULT_REC" ||
	fail "last hop did not get the name: $(cat "$FAULT_REC")"
grep -q "$TARGET_NAME" "$DANTED_LOG" &&
	fail "the first hop saw the name: $(grep "$TARGET_NAME" "$DANTED_LOG")"
say "chain by name: the name went only to the last hop"

# A proxy on an IPv6 address: socks5h://[::1]:PORT. The handshake runs on
# the program's own socket, so only an AF_INET6 socket can reach it.
start_fault ok --listen ::1
write_conf "$conf" "proxy socks5h://[::1]:$FAULT_PORT" "direct none"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s over-v6 ::1 4500)
expect_eq "proxy at [::1]" "$out" "OK
ECHO over-v6"
grep -q 'atyp=4 host=::1 port=4500' "$FAULT_REC" ||
	fail "[::1] proxy got no request: $(cat "$FAULT_REC")"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -6 -s name-over-v6 \
	"$TARGET_NAME" 4501)
expect_eq "name (IPv6 fake) via the proxy at [::1]" "$out" "OK
ECHO name-over-v6"
grep -q "atyp=3 host=$TARGET_NAME port=4501" "$FAULT_REC" ||
	fail "[::1] proxy did not get the name: $(cat "$FAULT_REC")"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -4 127.0.0.1 4502 2>/dev/null)
expect_eq "AF_INET socket, IPv6 proxy: refused, not sent direct" "$out" \
	EAFNOSUPPORT
say "proxy at [::1]: ok"
sfy_pass
