#!/bin/sh
# 16 threads × 20 connects at once through socksify and danted to an echo
# server, each checking its echo; first by address ("direct none"), then by a
# name only danted can resolve (fake DNS from every thread at once).
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
[ -x "$PROGS/threads" ] || fail "no $PROGS/threads (run make)"
start_echo
start_danted none
conf=$SFY_TMP/threads.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none"

before=$(danted_connects_to "$ECHO_PORT")
out=$(sfy -f "$conf" "$PROGS/threads" 127.0.0.1 "$ECHO_PORT" 16 20 2>&1) ||
	fail "threads by address: $out"
expect_contains "threads by address" "$out" "320 ok, 0 failed"
after=$(wait_count $((before + 320)) danted_connects_to "$ECHO_PORT")
expect_eq "connects relayed by danted" "$after" $((before + 320))
say "by address: $out, all 320 through danted"

out=$(sfy -f "$conf" "$PROGS/threads" "$ECHO_NAME" "$ECHO_PORT" 16 20 2>&1) ||
	fail "threads by name: $out"
expect_contains "threads by name" "$out" "320 ok, 0 failed"
after=$(wait_count $((before + 640)) danted_connects_to "$ECHO_PORT")
expect_eq "connects relayed by danted" "$after" $((before + 640))
say "by name: $out, all 320 through danted"
sfy_pass
