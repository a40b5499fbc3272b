#!/bin/sh
# Statically linked programs under the seccomp supervisor (issue 10, first
# part): connects by IP through danted, a refused route (EACCES), a
# non-blocking connect, 10 parallel connects from threads, UDP to a
# destination that is not direct refused, a fake address from a dynamic
# program of the same run, the exit status passed through, and no
# supervisor left once the program is gone.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
STATIC=$SFY_BUILD/progs_static/staticnet
[ -x "$STATIC" ] || fail "$STATIC missing (run make)"
"$SOCKSIFY_HELPER" preflight "$STATIC" >/dev/null 2>"$SFY_TMP/pf.err"
[ $? = 4 ] || skip "no supervisor here: $(cat "$SFY_TMP/pf.err")"
start_http
start_danted none
conf=$SFY_TMP/socksify.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none" \
	"block 127.0.0.2"

# The run's mode is named with -v.
out=$(sfy -v -f "$conf" "$STATIC" exit 0 2>&1)
expect_contains "-v names the mode" "$out" "mode: seccomp supervisor"

expect_via_danted "static connect by IP" "$HTTP_PORT" \
	sfy -f "$conf" "$STATIC" get 127.0.0.1 "$HTTP_PORT"
expect_via_danted "static non-blocking connect" "$HTTP_PORT" \
	sfy -f "$conf" "$STATIC" nonblock 127.0.0.1 "$HTTP_PORT"

# A config file and a log file named relative to the caller's directory
# (the supervisor leaves for / only once it has read and opened them).
in_tmp() { (cd "$SFY_TMP" && "$@"); }
SOCKSIFY_LOG_FILE=sv.log expect_via_danted "static, relative -f" \
	"$HTTP_PORT" in_tmp sfy -v -f socksify.conf "$STATIC" get 127.0.0.1 \
	"$HTTP_PORT"
expect_contains "relative SOCKSIFY_LOG_FILE" "$(cat "$SFY_TMP/sv.log")" \
	"via the proxy: ok (supervised)"

# A refused route: EACCES, and nothing reaches danted.
before=$(danted_connects_to "$HTTP_PORT")
out=$(sfy -q -f "$conf" "$STATIC" errno 127.0.0.2 "$HTTP_PORT")
expect_eq "blocked destination" "$out" EACCES
sleep 0.3
expect_eq "blocked: danted saw nothing" "$(danted_connects_to "$HTTP_PORT")" \
	"$before"
say "refused route: EACCES"

# A destination danted cannot reach: the SOCKS reply's errno.
dead=$(free_port)
out=$(sfy -q -f "$conf" "$STATIC" errno 127.0.0.1 "$dead")
expect_eq "proxy refuses" "$out" ECONNREFUSED

# A direct route: the kernel's own connect.
write_conf "$SFY_TMP/direct.conf" "proxy socks5h://127.0.0.1:$DANTED_PORT"
before=$(danted_connects_to "$HTTP_PORT")
out=$(sfy -f "$SFY_TMP/direct.conf" "$STATIC" get 127.0.0.1 "$HTTP_PORT") ||
	fail "direct: exit $?"
expect_contains "direct fetch" "$out" "$HTTP_TOKEN"
sleep 0.3
expect_eq "direct: danted saw nothing" "$(danted_connects_to "$HTTP_PORT")" \
	"$before"
say "direct route: ok, around danted"

# Ten threads connecting at once.
before=$(danted_connects_to "$HTTP_PORT")
out=$(sfy -f "$conf" "$STATIC" threads 127.0.0.1 "$HTTP_PORT" 10 2>&1) ||
	fail "threads: $out"
expect_eq "10 threads" "$out" "ok 10"
after=$(wait_count $((before + 10)) danted_connects_to "$HTTP_PORT")
expect_eq "10 threads via danted" "$after" $((before + 10))
say "10 parallel connects: ok (via danted)"

# UDP to a destination routed through the proxy: refused, not sent.
out=$(sfy -q -f "$conf" "$STATIC" udp 127.0.0.1 "$dead")
expect_eq "UDP not direct" "$out" EACCES
out=$(sfy -q -f "$SFY_TMP/direct.conf" "$STATIC" udp 127.0.0.1 "$dead")
expect_eq "UDP direct" "$out" ok
say "UDP: refused unless direct"

# sendmmsg: every message's destination is judged. The first is direct, the
# second is not: the whole call is refused and nothing reaches 127.0.0.5.
write_conf "$SFY_TMP/mmsg.conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" \
	"direct 127.0.0.1/32"
uport=$(free_port)
"$PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.5", int(sys.argv[1])))
s.settimeout(5)
print(s.recv(100).decode())' "$uport" >"$SFY_TMP/udp5.out" &
lpid=$!
sleep 0.3
out=$(sfy -q -f "$SFY_TMP/mmsg.conf" "$STATIC" mmsg 127.0.0.1 127.0.0.5 \
	"$uport")
expect_eq "sendmmsg, the second message not direct" "$out" EACCES
# An IPv4 socket takes a destination of family AF_UNSPEC as AF_INET.
out=$(sfy -q -f "$SFY_TMP/mmsg.conf" "$STATIC" unspec 127.0.0.5 "$uport")
expect_eq "sendto AF_UNSPEC, not direct" "$out" EACCES
"$PYTHON" -c '
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"end",
	("127.0.0.5", int(sys.argv[1])))' "$uport"
wait $lpid
expect_eq "sendmmsg, AF_UNSPEC: nothing reached 127.0.0.5" \
	"$(cat "$SFY_TMP/udp5.out")" end
say "sendmmsg: every destination judged; AF_UNSPEC judged as AF_INET"

# A fake address handed out by a dynamic program the static one runs (it
# gets the library through LD_PRELOAD, and the session's name map): the
# supervisor maps it back to the name, which only danted can resolve.
expect_via_danted "static connect to a fake address" "$HTTP_PORT" \
	sfy -v -f "$conf" "$STATIC" via "$HTTP_PORT" "$PYTHON" -c '
import socket, sys
print(socket.gethostbyname(sys.argv[1]))' "$TARGET_NAME"
expect_contains "the name went to danted" "$(cat "$SFY_TMP/cmd.err")" \
	"$TARGET_NAME:$HTTP_PORT via the proxy: ok (supervised)"
say "fake address from the session map: ok (the name reached danted)"

# The exit status passes through unchanged, and no supervisor outlives the
# program.
sfy -f "$conf" "$STATIC" exit 37
expect_eq "exit status" $? 37
# The supervisor runs while the program tree does (here a child of the
# program outlives it by a second), and leaves with it.
marker=sfy-static-$$-$(date +%N)
sfy -f "$conf" "$STATIC" via "$HTTP_PORT" sh -c \
	"(sleep 1.5) </dev/null >/dev/null 2>&1 & echo 127.0.0.1" \
	"$marker" >/dev/null 2>&1
expect_eq "supervisor while the tree lives" \
	"$(pgrep -f "socksify-helper run .*$marker" | wc -l)" 1
n=0
while pgrep -f "socksify-helper run .*$marker" >/dev/null && [ $n -lt 40 ]; do
	sleep 0.1
	n=$((n + 1))
done
expect_eq "no supervisor left" "$(pgrep -f "socksify-helper run .*$marker" | wc -l)" 0
say "the supervisor leaves with the program tree"

# The caller's stderr is let go once the program exits, though a child it
# left behind (stdio on /dev/null) keeps the supervisor running: a caller
# that reads the output, stderr too, is not held up by that child.
start=$(date +%s%N)
out=$(sfy -f "$conf" "$STATIC" via "$HTTP_PORT" sh -c \
	"(sleep 3) </dev/null >/dev/null 2>&1 & echo 127.0.0.1" 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
expect_contains "stderr let go: output" "$out" "$HTTP_TOKEN"
[ $ms -lt 2000 ] || fail "\$(...) waited ${ms} ms for a child of the program"
say "stderr let go when the program exits (${ms} ms)"
sfy_pass
