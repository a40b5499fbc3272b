#!/bin/sh
# exec while an asynchronous handshake is in flight (issue 6): the helper
# thread that drives it vanishes with the old image, so every exec entry
# point must first wait for the handshake to end. asyncexec starts a
# non-blocking connect through danted behind a relay adding 200 ms each way
# (so the handshake surely runs at exec time), execs itself through each of
# execve, execv, execvp, execvpe, execl, execlp, execle, fexecve, execveat,
# and the exec'd image checks that it inherited a connected, clean tunnel
# (a line comes back from the echo server, no SOCKS byte before it). A vfork
# child's exec must not wait. The same with a raw syscall(SYS_execve), which
# no hook sees, must fail: the check can tell.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
[ -x "$PROGS/asyncexec" ] || fail "no $PROGS/asyncexec (run make)"
start_echo
start_danted none

pf=$SFY_TMP/relay.port
"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
	--listen-port-file "$pf" --to "127.0.0.1:$DANTED_PORT" --delay-ms 200 \
	>"$SFY_TMP/relay.log" 2>&1 &
track $!
wait_file "$pf"
RELAY_PORT=$(cat "$pf")
conf=$SFY_TMP/exec.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$RELAY_PORT" "direct none"

for via in execve execv execvp execvpe execl execlp execle fexecve \
	execveat vfork posix_spawn posix_spawnp system popen; do
	out=$(timeout 30 "$SOCKSIFY" -f "$conf" "$PROGS/asyncexec" 127.0.0.1 \
		"$ECHO_PORT" "$via" 2>&1) || fail "$via: $out"
	expect_contains "$via" "$out" "ok $via"
	say "$via: $out"
done

# Bypassing the hooks, the exec'd image gets the socket mid-handshake.
if out=$(timeout 30 "$SOCKSIFY" -f "$conf" "$PROGS/asyncexec" 127.0.0.1 \
	"$ECHO_PORT" raw 2>&1); then
	fail "raw execve: the child found a clean tunnel: $out"
fi
expect_contains "raw execve" "$out" "not a clean tunnel"
say "raw execve (no hook): the child saw the handshake, as expected"
sfy_pass
