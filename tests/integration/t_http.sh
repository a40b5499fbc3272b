#!/bin/sh
# HTTP CONNECT proxies (http://): Debian's tinyproxy alone (a dynamic and
# a static program), with Basic authentication, by address and by name
# (remote DNS), in chains with danted on either side and of three hops
# (danted, tinyproxy, microsocks); our faulthttp.py for what tinyproxy
# never does: early data right after the reply (must reach the program: no
# byte past the head is read), a reply a byte at a time, refusals and
# malformed replies mapped to errno, a proxy on [::1]; UDP and BIND
# refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
sfy_init
need tinyproxy danted microsocks curl
start_http
start_tinyproxy
conf=$SFY_TMP/http.conf
url=http://127.0.0.1:$HTTP_PORT/
named=http://$TARGET_NAME:$HTTP_PORT/

# --- tinyproxy ------------------------------------------------------------
write_conf "$conf" "proxy http://127.0.0.1:$TINY_PORT" "direct none"
out=$(sfy -f "$conf" curl -sS --max-time 20 "$url") || fail "fetch via tinyproxy"
expect_contains "by address via tinyproxy" "$out" "$HTTP_TOKEN"
expect_eq "tinyproxy got the CONNECT" \
	"$(tiny_connects_to "127.0.0.1:$HTTP_PORT")" 1
out=$(sfy -x "http://127.0.0.1:$TINY_PORT" curl -sS --max-time 20 "$named") ||
	fail "fetch by name via tinyproxy (-x)"
expect_contains "by name via tinyproxy" "$out" "$HTTP_TOKEN"
expect_gt "tinyproxy was given the name" \
	"$(tiny_connects_to "$TARGET_NAME:$HTTP_PORT")" 0
closed=$(free_port)
out=$(sfy -f "$conf" "$PROGS/connect_errno" 127.0.0.1 "$closed" 2>/dev/null)
expect_eq "tinyproxy cannot connect (500)" "$out" ECONNABORTED
out=$(sfy -f "$conf" "$PROGS/connect_errno" -n 127.0.0.1 "$closed" 2>/dev/null)
expect_eq "tinyproxy cannot connect (500), non-blocking" "$out" ECONNABORTED
say "tinyproxy: ok"

# A static program: the supervisor runs the same chain machine.
STATIC=$SFY_BUILD/progs_static/staticnet
if "$SOCKSIFY_HELPER" preflight "$STATIC" >/dev/null 2>&1 ||
	[ $? = 4 ]; then
	before=$(tiny_connects_to "127.0.0.1:$HTTP_PORT")
	out=$(sfy -f "$conf" "$STATIC" get 127.0.0.1 "$HTTP_PORT") ||
		fail "static program via tinyproxy"
	expect_contains "static program via tinyproxy" "$out" "$HTTP_TOKEN"
	expect_eq "tinyproxy got the static program's CONNECT" \
		"$(tiny_connects_to "127.0.0.1:$HTTP_PORT")" $((before + 1))
	say "static program via tinyproxy: ok"
else
	say "no supervisor here: static case left out"
fi

plain_tiny=$TINY_PORT
plain_log=$TINY_LOG
start_tinyproxy alice 's3cret'
write_conf "$conf" "proxy http://alice:s3cret@127.0.0.1:$TINY_PORT" \
	"direct none"
out=$(sfy -f "$conf" curl -sS --max-time 20 "$named") ||
	fail "fetch via tinyproxy with Basic auth"
expect_contains "tinyproxy with Basic auth" "$out" "$HTTP_TOKEN"
write_conf "$conf" "proxy http://alice:wrong@127.0.0.1:$TINY_PORT" \
	"direct none"
out=$(sfy -f "$conf" "$PROGS/connect_errno" "$TARGET_NAME" "$HTTP_PORT" \
	2>"$SFY_TMP/cmd.err")
expect_eq "tinyproxy, wrong password" "$out" EACCES
expect_contains "the refusal is logged" "$(cat "$SFY_TMP/cmd.err")" "401"
grep -q wrong "$SFY_TMP/cmd.err" && fail "the password was logged"
say "tinyproxy with Basic auth: ok"
TINY_PORT=$plain_tiny
TINY_LOG=$plain_log

# --- chains ---------------------------------------------------------------
start_danted none
write_conf "$conf" "proxy http://127.0.0.1:$TINY_PORT" \
	"proxy socks5h://127.0.0.1:$DANTED_PORT"
out=$(sfy -f "$conf" curl -sS --max-time 20 "$named") || fail "http → socks"
expect_contains "chain tinyproxy → danted" "$out" "$HTTP_TOKEN"
# (curl may race an IPv4 and an IPv6 fake address: at least one each.)
expect_gt "tinyproxy was asked for danted" \
	"$(tiny_connects_to "127.0.0.1:$DANTED_PORT")" 0
expect_gt "danted reached the target" \
	"$(wait_count 1 danted_connects_to "$HTTP_PORT")" 0
named_before=$(tiny_connects_to "$TARGET_NAME:$HTTP_PORT")
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" \
	"proxy http://127.0.0.1:$TINY_PORT"
out=$(sfy -f "$conf" curl -sS --max-time 20 "$named") || fail "socks → http"
expect_contains "chain danted → tinyproxy" "$out" "$HTTP_TOKEN"
expect_gt "danted was asked for tinyproxy" \
	"$(wait_count 1 danted_connects_to "$TINY_PORT")" 0
expect_gt "tinyproxy was given the name" \
	"$(tiny_connects_to "$TARGET_NAME:$HTTP_PORT")" "$named_before"
say "chains http → socks, socks → http: ok"

# Three hops: danted → tinyproxy → microsocks.
start_microsocks
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" \
	"proxy http://127.0.0.1:$TINY_PORT" "proxy socks5://127.0.0.1:$MS_PORT" \
	"direct none"
before=$(danted_connects_to "$TINY_PORT")
out=$(sfy -f "$conf" curl -sS --max-time 20 "$url") || fail "three hops"
expect_contains "chain danted → tinyproxy → microsocks" "$out" "$HTTP_TOKEN"
expect_eq "danted was asked for tinyproxy" \
	"$(wait_count $((before + 1)) danted_connects_to "$TINY_PORT")" \
	$((before + 1))
expect_eq "tinyproxy was asked for microsocks" \
	"$(tiny_connects_to "127.0.0.1:$MS_PORT")" 1
say "three hops socks → http → socks: ok"

# --- faulthttp ------------------------------------------------------------
token=early-$$-$(date +%N)
start_faulthttp early --token "$token"
write_conf "$conf" "proxy http://127.0.0.1:$FH_PORT" "direct none"
for mode in "" -n; do
	out=$(sfy -f "$conf" "$PROGS/connect_errno" $mode -r -s "hi$mode" \
		127.0.0.1 4600)
	expect_eq "early data after the head ($mode)" "$out" "OK
READ EARLY $token
ECHO hi$mode"
done
grep -q '^CONNECT 127.0.0.1:4600 auth=-$' "$FH_REC" ||
	fail "CONNECT request: $(cat "$FH_REC")"
say "early data reaches the program: ok"

start_faulthttp auth --user alice --pass 's3:c/r@t'
write_conf "$conf" "proxy http://alice:s3%3Ac%2Fr%40t@127.0.0.1:$FH_PORT" \
	"direct none"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s auth "$TARGET_NAME" 4602)
expect_eq "Basic auth, percent-decoded" "$out" "OK
ECHO auth"
grep -q "^CONNECT $TARGET_NAME:4602 auth=YWxpY2U6czM6Yy9yQHQ=\$" "$FH_REC" ||
	fail "auth request: $(cat "$FH_REC")"

# One server; the port asked for picks its answer (faulthttp.py byport).
start_faulthttp byport
write_conf "$conf" "proxy http://127.0.0.1:$FH_PORT" "direct none"
# Blocking connects; the non-blocking (helper thread) path for a few.
for c in 407:EACCES 403:EACCES 404:EHOSTUNREACH 405:EOPNOTSUPP \
	500:ECONNABORTED 502:ECONNREFUSED 504:ETIMEDOUT 302:EPROTO \
	1:EPROTO 2:ECONNRESET 3:EPROTO -n:407:EACCES -n:1:EPROTO \
	-n:2:ECONNRESET -n:3:EPROTO; do
	mode=
	case $c in -n:*) mode=-n c=${c#-n:} ;; esac
	out=$(sfy -f "$conf" "$PROGS/connect_errno" $mode 127.0.0.1 \
		"${c%%:*}" 2>/dev/null)
	expect_eq "port ${c%%:*} ($mode)" "$out" "${c#*:}"
done
out=$(sfy -f "$conf" "$PROGS/connect_errno" -n -s slow 127.0.0.1 4)
expect_eq "a reply a byte at a time" "$out" "OK
ECHO slow"
sfy -f "$conf" "$PROGS/connect_errno" 127.0.0.1 407 >/dev/null \
	2>"$SFY_TMP/cmd.err"
expect_contains "the cause is logged" "$(cat "$SFY_TMP/cmd.err")" \
	"authentication required"
say "refusals and malformed replies: ok"

# A proxy on [::1], an IPv6 destination and a name over an AF_INET6 socket.
start_faulthttp ok --listen ::1
write_conf "$conf" "proxy http://[::1]:$FH_PORT" "direct none"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -s v6 ::1 4604)
expect_eq "proxy at [::1], IPv6 destination" "$out" "OK
ECHO v6"
grep -q '^CONNECT \[::1\]:4604 ' "$FH_REC" || fail "v6: $(cat "$FH_REC")"
out=$(sfy -f "$conf" "$PROGS/connect_errno" -6 -s v6name "$TARGET_NAME" 4605)
expect_eq "name over an AF_INET6 socket" "$out" "OK
ECHO v6name"
grep -q "^CONNECT $TARGET_NAME:4605 " "$FH_REC" || fail "v6 name: $(cat "$FH_REC")"
say "IPv6: ok"

# --- what HTTP cannot do --------------------------------------------------
write_conf "$conf" "proxy http://127.0.0.1:$TINY_PORT" "udp proxy"
sfy -f "$conf" true 2>"$SFY_TMP/cmd.err"
expect_eq "udp proxy with an http proxy: config error" "$?" 125
expect_contains "udp error" "$(cat "$SFY_TMP/cmd.err")" "http proxy has no UDP"
write_conf "$conf" "proxy http://127.0.0.1:$TINY_PORT" "bind on"
sfy -f "$conf" true 2>"$SFY_TMP/cmd.err"
expect_eq "bind on with an http proxy: config error" "$?" 125
expect_contains "bind error" "$(cat "$SFY_TMP/cmd.err")" "no BIND"
out=$(sfy --probe "http://127.0.0.1:$TINY_PORT")
expect_contains "--probe" "$out" "nothing to pipeline"
say "UDP, BIND, --probe: ok"
sfy_pass
