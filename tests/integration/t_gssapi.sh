#!/bin/sh
# GSSAPI (RFC 1961) against a real server: Dante built with GSSAPI from
# Debian's source (tests/build-dante-gssapi.sh), a throw-away Kerberos realm
# (lib_gssapi.sh), socksmethod gssapi with clear protection. alice (with a
# ticket) passes and danted logs her principal; no ticket gives EACCES and a
# log line naming kinit; mallory is refused by danted's rules; a wrong
# service name fails cleanly; integrity/confidentiality are refused before
# any byte; -x with SOCKSIFY_GSSAPI=1, a GSSAPI first hop of a chain,
# socksify doctor, BIND and UDP ASSOCIATE work.
# Every failure case targets 127.0.0.1, where a direct connection would
# succeed, and asserts that the target saw no request (nothing leaked).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_gssapi.sh"
sfy_init
need curl
need_dante_gssapi 90
start_kdc
start_http
start_danted_gssapi clear
name_url=http://$TARGET_NAME:$HTTP_PORT/
ip_url=http://127.0.0.1:$HTTP_PORT/
proxy=socks5h://$KRB_HOST:$DANTED_PORT

# The realm and the server, checked with Dante's own GSSAPI client first, so
# that a broken set-up is not mistaken for a fault of socksify.
krb_login alice
out=$(dante_client curl -sS --max-time 10 "$name_url" 2>&1) ||
	fail "Dante's own GSSAPI client failed (realm or server broken): $out"
expect_contains "Dante's own client" "$out" "$HTTP_TOKEN"
say "reference: Dante's own GSSAPI client passes"

# alice_connects — how many connects danted relayed for alice's principal.
alice_connects() {
	grep -c "pass([0-9]*): tcp/connect \[: gssapi/clear%alice@$KRB_REALM@" \
		"$DANTED_LOG"
}

# danted_talkers — how many client connections (distinct source ports)
# sent danted at least one byte (danted logs a connection that sent nothing
# as "error after reading 0 bytes").
danted_talkers() {
	grep -v 'after reading 0 bytes' "$DANTED_LOG" |
		grep -oE "127\.0\.0\.1\.[0-9]+ 127\.0\.0\.1\.$DANTED_PORT" |
		sort -u | wc -l
}

# expect_refused WHAT ERRNO PATTERN CONF — connect_errno to 127.0.0.1:HTTP
# through CONF must fail with ERRNO, socksify must log a line matching
# PATTERN (grep -E), and the target must see no request.
expect_refused() {
	what=$1
	want=$2
	pattern=$3
	rconf=$4
	requests=$(grep -c 'GET /' "$SFY_TMP/http.log")
	out=$(sfy -f "$rconf" "$PROGS/connect_errno" -t 10000 127.0.0.1 \
		"$HTTP_PORT" 2>"$SFY_TMP/refused.err")
	expect_eq "$what: connect()" "$(printf '%s\n' "$out" | head -n 1)" "$want"
	grep -qE "$pattern" "$SFY_TMP/refused.err" ||
		fail "$what: no log line matching '$pattern': $(cat "$SFY_TMP/refused.err")"
	# And a real program: curl fails, and nothing reaches the target.
	if sfy -q -f "$rconf" curl -sS --max-time 10 "$ip_url" \
		>"$SFY_TMP/refused.out" 2>/dev/null; then
		fail "$what: curl succeeded"
	fi
	# (A request that got through would be in the log already: the
	# server logs it before it answers.)
	expect_eq "$what: requests the target saw" \
		"$(grep -c 'GET /' "$SFY_TMP/http.log")" "$requests"
	say "$what: $want, logged, nothing reached the target"
}

conf=$SFY_TMP/gss.conf
write_conf "$conf" "proxy $proxy gssapi" "direct none"

# 1. With a ticket: through danted, which names the principal.
before=$(alice_connects)
expect_via_danted "curl as alice" "$HTTP_PORT" \
	sfy -f "$conf" curl -sS --max-time 10 "$name_url"
expect_eq "danted logged alice's principal" "$(alice_connects)" $((before + 1))
before=$(alice_connects)
expect_via_danted "curl as alice to 127.0.0.1" "$HTTP_PORT" \
	sfy -f "$conf" curl -sS --max-time 10 "$ip_url"
expect_eq "danted logged alice's principal" "$(alice_connects)" $((before + 1))

# 2. -x with SOCKSIFY_GSSAPI=1 (no config file proxy).
write_conf "$SFY_TMP/empty.conf" "direct none"
before=$(alice_connects)
expect_via_danted "-x with SOCKSIFY_GSSAPI=1" "$HTTP_PORT" \
	env SOCKSIFY_GSSAPI=1 "$SOCKSIFY" -x "$proxy" -f "$SFY_TMP/empty.conf" \
	curl -sS --max-time 10 "$name_url"
expect_eq "danted logged alice's principal (-x)" "$(alice_connects)" \
	$((before + 1))

# 3. A GSSAPI proxy as the first hop of a chain: danted (as alice) is asked
# for microsocks, never for the target (microsocks resolves no test names,
# so the chain is asked for 127.0.0.1).
start_microsocks
write_conf "$SFY_TMP/chain.conf" "proxy $proxy gssapi" \
	"proxy socks5h://127.0.0.1:$MS_PORT" "direct none"
before=$(danted_connects_to "$MS_PORT")
direct=$(danted_connects_to "$HTTP_PORT")
out=$(sfy -f "$SFY_TMP/chain.conf" curl -sS --max-time 10 "$ip_url" \
	2>"$SFY_TMP/chain.err") || fail "chain: $(cat "$SFY_TMP/chain.err")"
expect_contains "chain gssapi → microsocks" "$out" "$HTTP_TOKEN"
expect_eq "danted was asked for microsocks" \
	"$(wait_count $((before + 1)) danted_connects_to "$MS_PORT")" $((before + 1))
grep -q "gssapi/clear%alice@$KRB_REALM@.* 127\.0\.0\.1\.$MS_PORT\$" \
	"$DANTED_LOG" || fail "danted did not log alice asking for microsocks"
expect_eq "danted never asked for the target" \
	"$(danted_connects_to "$HTTP_PORT")" "$direct"
say "chain: GSSAPI first hop → microsocks: ok"

# 4. socksify doctor against the real server: the method line and a
# CONNECT that works (UDP and BIND are not asked for, to keep it short).
write_conf "$SFY_TMP/doctor.conf" "proxy $proxy gssapi" "udp block" \
	"bind off" "direct none"
out=$(timeout 30 "$SOCKSIFY" doctor -f "$SFY_TMP/doctor.conf" \
	--target "127.0.0.1:$HTTP_PORT" 2>&1) ||
	fail "doctor: exit $?: $out"
expect_contains "doctor" "$out" "methods: GSS-API offered and accepted (protection clear)"
expect_contains "doctor" "$out" "connect-address: CONNECT 127.0.0.1:$HTTP_PORT works"
say "doctor: GSS-API accepted, CONNECT works"

# 5. BIND and UDP ASSOCIATE as alice, clear protection.
write_conf "$SFY_TMP/bind.conf" "proxy $proxy gssapi" "bind on" "direct none"
expect_bind_once "BIND as alice" "$SFY_TMP/bind.conf"
grep -q "tcp/bind \[: gssapi/clear%alice@$KRB_REALM@" "$DANTED_LOG" ||
	fail "danted did not log alice's BIND"
start_udp_echo
write_conf "$SFY_TMP/udp.conf" "proxy $proxy gssapi" "udp proxy" "direct none"
out=$(sfy -f "$SFY_TMP/udp.conf" "$PYTHON" - "$UECHO_PORT" 2>"$SFY_TMP/udp.err" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"gss-datagram", ("127.0.0.1", int(sys.argv[1])))
print(s.recvfrom(100)[0].decode())
PY
) || fail "UDP as alice: $(cat "$SFY_TMP/udp.err")"
expect_eq "UDP as alice: the echo" "$out" gss-datagram
expect_gt "UDP as alice: datagrams danted relayed" \
	"$(wait_count 1 danted_udp_to "$UECHO_PORT")" 0
grep -q "udp/udpassociate \[: gssapi/clear%alice@$KRB_REALM@" "$DANTED_LOG" ||
	fail "danted did not log alice's UDP association"
say "UDP ASSOCIATE as alice: ok (via danted)"

relayed=$(danted_connects_to "$HTTP_PORT")

# 6. Integrity and confidentiality: not supported by the client, refused
# before any byte goes to the proxy (danted reads nothing).
for level in integrity confidentiality; do
	talkers=$(danted_talkers)
	write_conf "$SFY_TMP/$level.conf" \
		"proxy $proxy gssapi gssapi-protection=$level" "direct none"
	expect_refused "gssapi-protection=$level" EPROTONOSUPPORT \
		"$level.*not supported" "$SFY_TMP/$level.conf"
	sleep 0.2
	expect_eq "$level: connections that sent danted a byte" "$(danted_talkers)" "$talkers"
done
talkers=$(danted_talkers)
out=$(SOCKSIFY_GSSAPI=1 SOCKSIFY_GSSAPI_PROTECTION=confidentiality \
	"$SOCKSIFY" -q -x "$proxy" -f "$SFY_TMP/empty.conf" \
	"$PROGS/connect_errno" -t 10000 127.0.0.1 "$HTTP_PORT" 2>/dev/null)
expect_eq "-x, SOCKSIFY_GSSAPI_PROTECTION=confidentiality" \
	"$(printf '%s\n' "$out" | head -n 1)" EPROTONOSUPPORT
sleep 0.2
expect_eq "-x confidentiality: connections that sent danted a byte" "$(danted_talkers)" \
	"$talkers"

# 7. No ticket at all: EACCES, and the log tells to run kinit.
krb_logout
expect_refused "no ticket" EACCES 'kinit' "$conf"
out=$(timeout 30 "$SOCKSIFY" doctor -f "$SFY_TMP/doctor.conf" \
	--target "127.0.0.1:$HTTP_PORT" 2>&1)
expect_contains "doctor, no ticket" "$out" \
	"gssapi: no Kerberos ticket for the GSS-API proxy (run kinit) (asked for rcmd@$KRB_HOST)"

# 8. A user danted's rules refuse: the handshake passes, the request does
# not; danted logs the block with mallory's principal.
krb_login mallory
expect_refused "mallory (refused by danted)" EACCES \
	"proxy's rules do not allow" "$conf"
grep -q "block([0-9]*): tcp/connect .*gssapi/clear%mallory@$KRB_REALM@" \
	"$DANTED_LOG" || fail "danted logged no block for mallory"

# 9. A wrong service name: no such principal in the realm, a clean failure.
krb_login alice
write_conf "$SFY_TMP/service.conf" \
	"proxy $proxy gssapi gssapi-service=nosuch" "direct none"
expect_refused "gssapi-service=nosuch" EACCES 'nosuch/127\.0\.0\.1' \
	"$SFY_TMP/service.conf"

expect_eq "danted relayed nothing to the target in the failure cases" \
	"$(danted_connects_to "$HTTP_PORT")" "$relayed"
sfy_pass
