#!/bin/sh
# An epoll set closed while the asynchronous handshake of a socket
# registered in it runs (issue 14): its number is reused at once, by a
# new epoll set, by a file, or by a copy of another set holding the same
# socket (dup, dup2, dup3, after close or close_range); the end of the
# handshake must leave whatever holds the number alone. A new set must
# hold nothing; the copy must keep its own set's interest and data (the
# closed set's restored through the reused number overwrote them). The
# connect completes and echoes each time. Through microsocks behind a
# relay adding 150 ms each way, so that the handshake (two round trips)
# is still running after the reuse.
. "$(dirname "$0")/lib.sh"
sfy_init
need microsocks
[ -x "$PROGS/epollclose" ] || fail "no $PROGS/epollclose (run make)"
start_echo
start_microsocks
pf=$SFY_TMP/relay.port
"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
	--listen-port-file "$pf" --to "127.0.0.1:$MS_PORT" --delay-ms 150 \
	>"$SFY_TMP/relay.log" 2>&1 &
track $!
wait_file "$pf"
conf=$SFY_TMP/close.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$(cat "$pf")" "direct none"

for mode in fresh fresh2 other dup range dup2 dup3; do
	out=$(timeout 60 "$SOCKSIFY" -f "$conf" "$PROGS/epollclose" \
		127.0.0.1 "$ECHO_PORT" "$mode" 2>&1) || fail "$mode: $out"
	expect_contains "$mode" "$out" "ok"
	say "$mode: ok"
done
sfy_pass
