#!/bin/sh
# asyncburst.sh — issue 14's asynchronous-connect measurement: N (default
# 2000, ASYNCBURST_N) non-blocking connects issued at once from one thread
# through microsocks on loopback, each socket in one epoll set, registered
# after connect() (the common case) and before it (the library must find
# the registration: the fdinfo scan). Prints asyncburst's time inside
# connect() (ASYNCBURST_ROUNDS rounds, default 3), then the system calls
# per connect under strace -f -c (the whole process: program, hooks and the
# handshake thread, and the seccomp guard's supervisor, which sees every
# connect()), the same with SOCKSIFY_GUARD=off, and the same program
# without socksify (the floor). ASYNCBURST_KEEP=DIR keeps the summaries.
# Root (lib.sh's rules); everything on loopback, killed by recorded PID.
. "$(dirname "$0")/../integration/lib.sh"
sfy_init
need microsocks strace
N=${ASYNCBURST_N:-2000}
ROUNDS=${ASYNCBURST_ROUNDS:-3}
[ -x "$PROGS/asyncburst" ] || fail "no $PROGS/asyncburst (run make)"
ulimit -n 65536 2>/dev/null || ulimit -n 20000

# A sink that accepts and holds connections (the last 6000), in one thread.
start_silent 4096 6000
SINK_PORT=$SILENT_PORT
start_microsocks
conf=$SFY_TMP/burst.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$MS_PORT" "direct none" \
	"async_handshakes $((N + 16))"

for mode in after before; do
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		out=$(timeout 120 "$SOCKSIFY" -f "$conf" "$PROGS/asyncburst" \
			127.0.0.1 "$SINK_PORT" "$N" "$mode" 2>&1) ||
			fail "$mode: $out"
		say "$mode, round $r: $out"
		r=$((r + 1))
	done
done

# calls TRACE — total calls and openat of /proc/self/fdinfo in an strace -c
# summary, per connect.
calls() {
	awk -v n="$N" '$NF == "total" { t = $4 }
		$NF == "openat" { o = $4 }
		END { printf "%.1f system calls per connect (openat: %d)", t / n, o }' "$1"
}
for mode in after before; do
	trace=$SFY_TMP/$mode.strace
	timeout 300 strace -f -c -o "$trace" "$SOCKSIFY" -f "$conf" \
		"$PROGS/asyncburst" 127.0.0.1 "$SINK_PORT" "$N" "$mode" \
		>/dev/null 2>&1 || fail "strace $mode"
	say "strace -f -c, $mode: $(calls "$trace")"
done
trace=$SFY_TMP/noguard.strace
SOCKSIFY_GUARD=off timeout 300 strace -f -c -o "$trace" "$SOCKSIFY" \
	-f "$conf" "$PROGS/asyncburst" 127.0.0.1 "$SINK_PORT" "$N" after \
	>/dev/null 2>&1 || fail "strace noguard"
say "strace -f -c, after, SOCKSIFY_GUARD=off: $(calls "$trace")"
trace=$SFY_TMP/floor.strace
timeout 300 strace -f -c -o "$trace" "$PROGS/asyncburst" 127.0.0.1 \
	"$SINK_PORT" "$N" after >/dev/null 2>&1 || fail "strace floor"
say "strace -f -c, no socksify (direct to the sink): $(calls "$trace")"
[ -n "${ASYNCBURST_KEEP:-}" ] && cp "$SFY_TMP"/*.strace "$ASYNCBURST_KEEP"/
sfy_pass
