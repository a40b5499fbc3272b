#!/bin/sh
# danted with username/password (RFC 1929) checked against a throw-away system
# user. The password holds '@' and '%' so the URL must be percent-decoded.
# A wrong password must fail the fetch, log an error, and reach nothing.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl
add_user
SOCKS_PASS=p@ss%w-$(date +%N)
printf '%s:%s\n' "$SOCKS_USER" "$SOCKS_PASS" | chpasswd || fail chpasswd
enc_pass=$(printf '%s' "$SOCKS_PASS" | sed 's/%/%25/g; s/@/%40/g')
start_http
start_danted username
url=http://127.0.0.1:$HTTP_PORT/

good=$SFY_TMP/good.conf
write_conf "$good" \
	"proxy socks5h://$SOCKS_USER:$enc_pass@127.0.0.1:$DANTED_PORT" \
	"direct none"
expect_via_danted "curl, right password" "$HTTP_PORT" \
	sfy -f "$good" curl -sS --max-time 20 "$url"
expect_via_danted "python3, right password (-x)" "$HTTP_PORT" \
	sfy -x "socks5://$SOCKS_USER:$enc_pass@127.0.0.1:$DANTED_PORT" \
	-f "$good" "$PYTHON" -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$url"

bad=$SFY_TMP/bad.conf
write_conf "$bad" \
	"proxy socks5h://$SOCKS_USER:wrong-password@127.0.0.1:$DANTED_PORT" \
	"direct none"
requests_before=$(grep -c 'GET /' "$SFY_TMP/http.log")
before=$(danted_connects_to "$HTTP_PORT")
if sfy -f "$bad" curl -sS --max-time 20 "$url" >"$SFY_TMP/bad.out" \
	2>"$SFY_TMP/bad.err"; then
	fail "curl succeeded with a wrong password"
fi
grep -q 'socksify\[[0-9]*\]' "$SFY_TMP/bad.err" ||
	fail "no socksify error line on stderr: $(cat "$SFY_TMP/bad.err")"
grep -q 'wrong-password' "$SFY_TMP/bad.err" &&
	fail "the password was logged: $(cat "$SFY_TMP/bad.err")"
grep -q "$HTTP_TOKEN" "$SFY_TMP/bad.out" && fail "page fetched anyway"
sleep 0.3
expect_eq "danted relayed nothing" "$(danted_connects_to "$HTTP_PORT")" "$before"
expect_eq "the target saw no request" \
	"$(grep -c 'GET /' "$SFY_TMP/http.log")" "$requests_before"
grep -qi 'username\|password\|authenticat' "$DANTED_LOG" ||
	fail "danted logged no authentication failure"
say "wrong password: refused, logged, nothing reached the target"
sfy_pass
