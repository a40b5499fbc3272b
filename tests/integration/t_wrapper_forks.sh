#!/bin/sh
# The wrapper forks nothing: under strace, "socksify -x URL -- /bin/true"
# makes no clone before it execs the helper; with SOCKSIFY_GUARD=off (no
# supervisor for a dynamic program) the whole run, with and without the
# helper and library found by the wrapper itself, is exactly the exec chain
# wrapper -> helper -> program, with no clone, fork or vfork, and the
# program runs with the library preloaded. A script without "#!" runs with
# /bin/sh. A password in -x adds one exec (the wrapper starts itself again,
# see README "Passwords") and the helper's reaper (two forks, so that the
# program the helper becomes never has it as a child).
. "$(dirname "$0")/lib.sh"
sfy_init
need strace

# trace WHAT ARGS... — run socksify ARGS under strace into $SFY_TMP/st.
trace() {
	what=$1
	shift
	strace -f -qq -e trace=clone,clone3,fork,vfork,execve -o "$SFY_TMP/st" \
		"$SOCKSIFY" "$@" >"$SFY_TMP/out" 2>"$SFY_TMP/err" ||
		fail "$what: socksify failed: $(cat "$SFY_TMP/err")"
}
forks() {
	grep -cE '(clone|clone3|fork|vfork)\(' "$SFY_TMP/st"
}
execs() {
	grep -E 'execve\(' "$SFY_TMP/st" | grep -v ENOENT |
		sed 's/^[0-9]* *execve("\([^"]*\)".*/\1/'
}

url=socks5h://127.0.0.1:1080
# By default a dynamic program runs under the guard, whose supervisor the
# helper forks (README "the guard"): the wrapper forks nothing before it
# execs the helper.
trace "default" -x "$url" -- /bin/true
expect_eq "default: no fork before the helper" \
	"$(sed -n '/execve("[^"]*socksify-helper"/q;p' "$SFY_TMP/st" |
		grep -cE '(clone|clone3|fork|vfork)\(')" 0
grep -q "execve(\"$SOCKSIFY_HELPER\"" "$SFY_TMP/st" ||
	fail "default: the wrapper did not exec the helper"
# Without the guard the whole run is the exec chain and nothing else.
SOCKSIFY_GUARD=off
export SOCKSIFY_GUARD
trace "env lookup" -q -x "$url" -- /bin/true
expect_eq "no fork (helper and library from the environment)" "$(forks)" 0
expect_eq "exec chain" "$(execs | tr '\n' ' ')" \
	"$SOCKSIFY $SOCKSIFY_HELPER /bin/true "

# The wrapper finding the helper and the library itself, a program by PATH.
(
	unset SOCKSIFY_HELPER SOCKSIFY_LIBRARY
	trace "own lookup" -q -x "$url" sh -c 'printf "%s\n" "$LD_PRELOAD"'
)
expect_eq "no fork (own lookup)" "$(forks)" 0
expect_eq "own lookup: exec count" "$(execs | wc -l)" 3
expect_eq "own lookup: the library preloaded" "$(cat "$SFY_TMP/out")" \
	"$SOCKSIFY_LIBRARY"

trace "password" -q -x "socks5h://u:pw@127.0.0.1:1080" -- \
	sh -c 'read -r c </proc/$$/task/$$/children; echo "[$c]"'
expect_eq "password: exec count (the wrapper restarts once)" \
	"$(execs | wc -l)" 4
expect_eq "password: only the reaper's double fork" "$(forks)" 2
expect_eq "password: the program has no child (the reaper is not its)" \
	"$(cat "$SFY_TMP/out")" "[]"
# A script without "#!" runs with /bin/sh, as the shell's exec would.
printf 'echo "script $1 $LD_PRELOAD"\n' >"$SFY_TMP/noshebang"
chmod 755 "$SFY_TMP/noshebang"
out=$("$SOCKSIFY" -x "$url" "$SFY_TMP/noshebang" arg) ||
	fail "a script without #! did not run"
expect_eq "script without #!" "$out" "script arg $SOCKSIFY_LIBRARY"
sfy_pass
