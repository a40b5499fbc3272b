#!/bin/sh
# fork(): the child uses the parent's proxied socket, resolves a fresh name
# (a fake address) and connects to it through the proxy; the parent then
# connects to the child's fake address and must resolve the name to the
# same address (the map is shared across fork), with the wrapper and with
# the library preloaded by hand. A vfork or clone(CLONE_VM) child leaves
# the parent's socket alone. Also: a shell script that
# execs curl twice under one socksify run sees one consistent map.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl getent
[ -x "$PROGS/forktest" ] || fail "no $PROGS/forktest (run make)"
start_echo
start_danted none
conf=$SFY_TMP/fork.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none"

before=$(danted_connects_to "$ECHO_PORT")
out=$(sfy -f "$conf" "$PROGS/forktest" 127.0.0.1 "$ECHO_PORT" "$ECHO_NAME" \
	2>&1) || fail "forktest: $out"
expect_contains "forktest" "$out" "parent: first socket ok"
expect_contains "forktest" "$out" "child: connect by name ok"
expect_contains "forktest" "$out" "parent: connect to child's address ok"
after=$(wait_count $((before + 3)) danted_connects_to "$ECHO_PORT")
expect_eq "connects relayed by danted (first, child's, parent's)" \
	"$after" $((before + 3))
printf '%s\n' "$out" | sed 's/^/    /' >&2

# The same with the library preloaded by hand (no wrapper, so no session
# file): the map must still be shared between parent and child even though
# the parent resolved nothing before fork().
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$conf "$PROGS/forktest" \
	127.0.0.1 "$ECHO_PORT" "$ECHO_NAME" 2>&1) ||
	fail "forktest, preloaded by hand: $out"
expect_contains "forktest, preloaded by hand" "$out" \
	"parent: connect to child's address ok"

# A child sharing our memory (vfork, clone with CLONE_VM) closes the
# parent's proxied socket and opens another on its number: its descriptors
# are its own, so the parent's socket must still read as connected to the
# echo server, not to the proxy (preload/vmchild.c tells the registry).
[ -x "$PROGS/vforkpeer" ] || fail "no $PROGS/vforkpeer (run make)"
for mode in vfork clone; do
	out=$(sfy -f "$conf" "$PROGS/vforkpeer" 127.0.0.1 "$ECHO_PORT" \
		"$mode" 2>&1) || fail "vforkpeer $mode: $out"
	expect_contains "vforkpeer $mode" "$out" "socket after the child ok"
	out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$conf \
		"$PROGS/vforkpeer" 127.0.0.1 "$ECHO_PORT" "$mode" 2>&1) ||
		fail "vforkpeer $mode, preloaded by hand: $out"
	expect_contains "vforkpeer $mode, preloaded by hand" "$out" \
		"socket after the child ok"
done
say "vfork and clone(CLONE_VM) children left the parent's socket alone"

# exec'd processes of one run share the map: a name resolved by one process
# is known to the next one by its fake address.
start_http
out=$(sfy -f "$conf" sh -c '
addr=$(getent ahostsv4 "$1" | head -n 1 | cut -d " " -f 1)
echo "addr=$addr"
curl -sS --max-time 20 "http://$addr:$2/"' sh "$TARGET_NAME" "$HTTP_PORT" \
	2>&1) || fail "fetch by a fake address from a sibling process: $out"
expect_contains "fetch by a sibling's fake address" "$out" "$HTTP_TOKEN"
say "exec'd processes share one name map: $(printf '%s' "$out" | head -n 1)"
sfy_pass
