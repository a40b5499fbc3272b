#!/bin/sh
# How the supervisor starts (issue 13): it shares the helper's memory until
# the program's exec hands that memory over, so it carries on with the
# config the helper loaded: under strace, a run under the guard opens the
# config file exactly as often as a run without it, and a static program's
# run opens it once. And, as before: the exit status passes through, the
# supervisor is in a session of its own, nobody's child in the tree, and
# leaves with the program tree; a program that cannot be executed is
# reported (126, or 127 for a missing interpreter) and no supervisor is
# left behind; a signal to the run's process group spares the supervisor.
# For a dynamic program under the guard and for a static one.
. "$(dirname "$0")/lib.sh"
sfy_init
need strace pgrep setsid
"$SOCKSIFY_HELPER" preflight /bin/true >/dev/null 2>"$SFY_TMP/pf.err"
[ $? = 5 ] || skip "no guard here: $(cat "$SFY_TMP/pf.err")"
STATIC=$SFY_BUILD/progs_static/staticnet
[ -x "$STATIC" ] || fail "$STATIC missing (run make)"
dead=$(free_port)
conf=$SFY_TMP/socksify.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$dead" "direct none"
marker=sfy-start-$$-$(date +%N)

# conf_opens CMD... — how many times the run of CMD opens the config file.
conf_opens() {
	strace -f -qq -e trace=open,openat -o "$SFY_TMP/open.trace" "$@" \
		>/dev/null 2>&1
	grep -c "\"$conf\"" "$SFY_TMP/open.trace"
}

# One load for helper and supervisor: the guard adds no read of the config.
on=$(conf_opens "$SOCKSIFY" -q -f "$conf" /bin/true)
off=$(SOCKSIFY_GUARD=off conf_opens "$SOCKSIFY" -q -f "$conf" /bin/true)
expect_gt "the config is read at all" "$off" 0
expect_eq "guard on reads the config as often as guard off" "$on" "$off"
expect_eq "static program: the config read once" \
	"$(conf_opens "$SOCKSIFY" -q -f "$conf" "$STATIC" exit 0)" 1
say "the supervisor takes the helper's config (no second load)"

# The exit status passes through (the program is the process the caller
# started: same PID).
sfy -q -f "$conf" sh -c 'exit 37'
expect_eq "exit status (guard)" $? 37
sfy -q -f "$conf" "$STATIC" exit 38
expect_eq "exit status (static)" $? 38
rc=$( (sfy -q -f "$conf" sh -c 'kill -KILL $$'; echo $?) 2>/dev/null)
expect_eq "killed by a signal (guard)" "$rc" 137
say "exit status passed through"

# A signal to the run's process group (Ctrl-C's SIGINT, or a group kill;
# SIGTERM here, which no caller ignores) reaches the program, not the
# supervisor: in a session of its own once it has the memory, the signal
# blocked and dropped before. The program, ignoring it, still has its
# supervisor afterwards (running, not a zombie). setsid(1): the group is
# the run's alone.
out=$(setsid -w "$SOCKSIFY" -q -f "$conf" sh -c 'trap "" TERM
	kill -TERM 0
	sleep 0.3
	awk "/^State:/ {print \$2}" "/proc/$SOCKSIFY_SUPERVISOR_PID/status"')
case $out in
S | R) ;;
*) fail "the supervisor after a SIGTERM to the group: state '$out'" ;;
esac
say "a signal to the process group leaves the supervisor alone"

# running PID — whether process PID runs (a zombie has exited: reaping it
# is init's business).
running() {
	case $(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) in
	"" | Z | X) return 1 ;;
	esac
}

# gone PID — wait (up to 4 s) until process PID has exited; prints "gone"
# or "alive".
gone() {
	n=0
	while running "$1" && [ $n -lt 40 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if running "$1"; then echo alive; else echo gone; fi
}

# The supervisor lives while the program tree does (a child of the program
# outlives it by a second and a half) and leaves with it. It is not the
# program's child and has a session of its own (no terminal signal).
out=$(sfy -q -f "$conf" sh -c \
	'(sleep 1.5) </dev/null >/dev/null 2>&1 &
	echo "$$ $SOCKSIFY_SUPERVISOR_PID"' "$marker")
program=${out% *}
sup=${out#* }
[ -n "$sup" ] && [ "$sup" != "$program" ] || fail "no supervisor PID: '$out'"
running "$sup" || fail "supervisor $sup gone while the tree lives"
ppid=$(awk '/^PPid:/ {print $2}' "/proc/$sup/status")
[ "$ppid" != "$program" ] || fail "the supervisor is the program's child"
expect_eq "the supervisor's own session" \
	"$(ps -o sid= -p "$sup" | tr -d ' ')" "$sup"
expect_contains "the supervisor is the run's" \
	"$(tr '\0' ' ' <"/proc/$sup/cmdline")" "$marker"
expect_eq "the supervisor leaves with the tree" "$(gone "$sup")" gone
say "the supervisor lives as long as the program tree"

# A program the kernel will not execute (no execute bit: EACCES, even for
# root) is reported, 126, and its supervisor leaves at once.
noexec=$SFY_TMP/$marker-script
printf 'echo ran\n' >"$noexec"
chmod 644 "$noexec"
cp "$STATIC" "$SFY_TMP/$marker-static"
chmod 644 "$SFY_TMP/$marker-static"
# ... and one whose interpreter is missing (ENOENT: 127).
nointerp=$SFY_TMP/$marker-nointerp
printf '#!%s/none\necho ran\n' "$SFY_TMP" >"$nointerp"
chmod 755 "$nointerp"
for prog in "$noexec" "$SFY_TMP/$marker-static" "$nointerp"; do
	out=$(sfy -v -f "$conf" "$prog" 2>&1)
	rc=$?
	want=126 why="Permission denied"
	[ "$prog" = "$nointerp" ] && want=127 why="No such file or directory"
	expect_eq "$prog: exit status" $rc $want
	expect_contains "$prog: under the supervisor" "$out" "seccomp supervisor"
	expect_contains "$prog: reported" "$out" "$why"
	case $out in *ran*) fail "$prog ran" ;; esac
	n=0
	while pgrep -f "socksify-helper run .*$marker" >/dev/null &&
		[ $n -lt 30 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	expect_eq "$prog: no supervisor left" \
		"$(pgrep -f "socksify-helper run .*$marker" | wc -l)" 0
done
say "a program that cannot be executed: reported (126, 127), no supervisor left"
sfy_pass
