#!/bin/sh
# The execl family gathers its argument list itself (preload/exec.c): a
# short list in a small array, a long one (up to 4096 arguments) in a large
# one, more fail with E2BIG. execlist execs itself with 64 and 65 arguments
# (either side of the boundary; the 65 through execle, whose envp follows
# the list), 4096 (through execlp, found in PATH) and 4097.
. "$(dirname "$0")/lib.sh"
sfy_init
[ -x "$PROGS/execlist" ] || fail "no $PROGS/execlist (run make)"
conf=$SFY_TMP/exec.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:9" "direct none"

run() { # N: execlist's output
	PATH=$PROGS:$PATH sfy -f "$conf" "$PROGS/execlist" "$1" 2>&1
}

out=$(run 64) || fail "64: $out"
expect_eq "64 arguments (execl)" "$out" "argc 64 FOO=(unset)"
out=$(run 65) || fail "65: $out"
expect_eq "65 arguments (execle)" "$out" "argc 65 FOO=bar"
out=$(run 4096) || fail "4096: $out"
expect_eq "4096 arguments (execlp)" "$out" "argc 4096 FOO=(unset)"
if out=$(run 4097); then
	fail "4097 arguments: exec succeeded: $out"
fi
expect_eq "4097 arguments" "$out" "exec failed: Argument list too long"
say "64, 65 and 4096 arguments exec'd; 4097 fail with E2BIG"
sfy_pass
