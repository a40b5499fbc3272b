#!/bin/sh
# Pipelined SOCKS5 handshakes (greeting, auth and request in one write).
# danted reads the stream in order and accepts them; microsocks takes each
# recv() for one message and does not. Checks:
#  - `socksify --probe` says yes for danted (exit 0), no for microsocks
#    (exit 1), and cannot tell when nothing listens (exit 2); never shows a
#    password;
#  - SOCKSIFY_PIPELINE=1 and "proxy URL pipeline" fetch a page through
#    danted, without and with username/password, and danted logs it;
#  - under strace, the handshake is ONE send() before connect() returns when
#    pipelined, and two without (the control run), so the assertions fail if
#    pipelining is not used;
#  - pipelined against microsocks, a connect fails with an error within the
#    handshake timeout and nothing reaches the target (no direct fallback).
. "$(dirname "$0")/lib.sh"
sfy_init
need danted microsocks curl strace
add_user
start_http
# One danted for both: a client offering only "none" gets none, one offering
# only username/password must log in.
start_danted "username none"
start_microsocks
url=http://127.0.0.1:$HTTP_PORT/
dante=127.0.0.1:$DANTED_PORT
auth=$SOCKS_USER:$SOCKS_PASS

# probe URL WANT_STATUS NEEDLE — run --probe, check status and output.
probe() {
	out=$(sfy --probe "$1" 2>&1)
	rc=$?
	expect_eq "--probe $1: exit status ($out)" "$rc" "$2"
	expect_contains "--probe $1" "$out" "$3"
	case $out in
	*"$SOCKS_PASS"*) fail "--probe printed the password: $out" ;;
	esac
}

probe "socks5h://$dante" 0 "accepts pipelined handshakes"
probe "socks5h://$auth@$dante" 0 "accepts pipelined handshakes"
probe "socks5://127.0.0.1:$MS_PORT" 1 "does not accept pipelined handshakes"
probe "socks5://127.0.0.1:$(free_port)" 2 "cannot connect"
say "--probe: danted yes, microsocks no, nothing listening: cannot tell"

# handshake_sends TRACE — the handshake's send() calls in an strace log of
# connect_errno: the library sends with MSG_NOSIGNAL, the program sends
# nothing itself. The Fast Open start of the connect (a sendto of no data
# with MSG_FASTOPEN) carries nothing and is not counted. Prints "COUNT
# FIRST-PAYLOAD".
handshake_sends() {
	grep -E 'send(to|msg)?\(.*MSG_NOSIGNAL' "$1" | grep -v MSG_FASTOPEN \
		>"$1.sends"
	printf '%s %s\n' "$(wc -l <"$1.sends")" \
		"$(head -n 1 "$1.sends" | sed 's/^[^"]*"//; s/".*//')"
}

# traced_connect NAME CONF [ENV...] — connect_errno to the target through
# CONF under strace; must print OK. Prints handshake_sends' result.
traced_connect() {
	name=$1
	conf=$2
	shift 2
	trace=$SFY_TMP/$name.strace
	# The library's own calls are counted: without the guard's supervisor
	# process, whose threads would split strace's lines ("unfinished").
	res=$(env SOCKSIFY_GUARD=off "$@" strace -f -o "$trace" -e trace=network,poll \
		"$SOCKSIFY" -f "$conf" "$PROGS/connect_errno" 127.0.0.1 \
		"$HTTP_PORT" 2>"$SFY_TMP/$name.err")
	expect_eq "$name: connect_errno ($(cat "$SFY_TMP/$name.err"))" \
		"$res" OK
	handshake_sends "$trace"
}

plain=$SFY_TMP/plain.conf
write_conf "$plain" "proxy socks5h://$dante" "direct none"
piped=$SFY_TMP/piped.conf
write_conf "$piped" "proxy socks5h://$dante pipeline" "direct none"
plain_auth=$SFY_TMP/plain-auth.conf
write_conf "$plain_auth" "proxy socks5h://$auth@$dante" "direct none"

# Pages fetched, and danted's log shows each connection.
expect_via_danted "curl, SOCKSIFY_PIPELINE=1, no auth" "$HTTP_PORT" \
	env SOCKSIFY_PIPELINE=1 "$SOCKSIFY" -f "$plain" \
	curl -sS --max-time 20 "$url"
expect_via_danted "curl, SOCKSIFY_PIPELINE=1, username/password" \
	"$HTTP_PORT" env SOCKSIFY_PIPELINE=1 "$SOCKSIFY" -f "$plain_auth" \
	curl -sS --max-time 20 "$url"
expect_via_danted "curl, 'proxy URL pipeline' in the file" "$HTTP_PORT" \
	sfy -f "$piped" curl -sS --max-time 20 "$url"
grep -q "username%$SOCKS_USER@" "$DANTED_LOG" ||
	fail "danted logged no session of user $SOCKS_USER"

# The write count before connect() returns. IPv4 request: 10 bytes, greeting
# offering one method: 3; auth: 3 + user + password.
alen=$((3 + ${#SOCKS_USER} + ${#SOCKS_PASS}))
set -- $(traced_connect plain "$plain" SOCKSIFY_PIPELINE=0)
expect_eq "unpipelined: send() calls in the handshake" "$1" 2
set -- $(traced_connect plain-auth "$plain_auth" SOCKSIFY_PIPELINE=0)
expect_eq "unpipelined with auth: send() calls in the handshake" "$1" 3
set -- $(traced_connect piped "$piped")
expect_eq "pipelined (file): send() calls in the handshake" "$1" 1
case $2 in
'\5\1\0\5\1\0\1\177\0\0\1'*) ;;
*) fail "pipelined (file): not greeting + request to 127.0.0.1: $2" ;;
esac
grep -qE "MSG_NOSIGNAL.*= 13\$" "$SFY_TMP/piped.strace.sends" ||
	fail "pipelined send is not greeting + request (13 bytes): $(cat "$SFY_TMP/piped.strace.sends")"
set -- $(traced_connect piped-auth "$plain_auth" SOCKSIFY_PIPELINE=1)
expect_eq "pipelined with auth: send() calls in the handshake" "$1" 1
expect_contains "pipelined with auth: greeting offers username only" \
	"$2" '\5\1\2\1'
grep -qE "MSG_NOSIGNAL.*= $((3 + alen + 10))\$" \
	"$SFY_TMP/piped-auth.strace.sends" ||
	fail "pipelined send is not greeting + auth + request ($((3 + alen + 10)) bytes)"
say "strace: pipelined = 1 send before connect() returns, unpipelined = 2 (3 with auth)"

# Pipelined against microsocks: an error within the handshake timeout, and
# the target sees nothing. The same set-up unpipelined works (control).
ms=$SFY_TMP/ms.conf
write_conf "$ms" "proxy socks5://127.0.0.1:$MS_PORT" "direct none" \
	"handshake_timeout 2"
out=$(sfy -f "$ms" "$PROGS/connect_errno" 127.0.0.1 "$HTTP_PORT")
expect_eq "microsocks, unpipelined" "$out" OK
requests=$(grep -c 'GET /' "$SFY_TMP/http.log")
start=$(date +%s)
out=$(SOCKSIFY_PIPELINE=1 sfy -q -f "$ms" "$PROGS/connect_errno" 127.0.0.1 \
	"$HTTP_PORT")
took=$(($(date +%s) - start))
expect_eq "microsocks, pipelined: connect error" "$out" ETIMEDOUT
[ "$took" -le 4 ] || fail "microsocks, pipelined: took ${took}s (timeout 2s)"
if SOCKSIFY_PIPELINE=1 sfy -q -f "$ms" curl -sS --max-time 20 "$url" \
	>"$SFY_TMP/ms.out" 2>&1; then
	fail "curl through microsocks succeeded pipelined: $(cat "$SFY_TMP/ms.out")"
fi
sleep 0.3
expect_eq "microsocks, pipelined: requests at the target" \
	"$(grep -c 'GET /' "$SFY_TMP/http.log")" "$requests"
say "microsocks, pipelined: ETIMEDOUT in ${took}s, nothing reached the target"
sfy_pass
