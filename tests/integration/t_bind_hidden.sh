#!/bin/sh
# Hidden BIND descriptors under pressure: a BIND made by another library's
# constructor, before socksify's own constructors ran (the first hook sets
# the library up), and a program that dup2()s its own pipes onto every
# descriptor socksify hid for a BIND, the helper's eventfd included: ours
# move away, nothing of ours reaches the program's pipes, and a second
# BIND still works.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted cc
DANTED_BIND=1 start_danted none
conf=$SFY_TMP/bind.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" "bind on"

# A library whose constructor listens (through a BIND): it runs before ours.
cat >"$SFY_TMP/early.c" <<'C'
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
__attribute__((constructor)) static void early(void)
{
	struct sockaddr_in any = {.sin_family = AF_INET};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(s, (struct sockaddr *)&any, sizeof any) == 0 &&
	    listen(s, 1) == 0)
		fprintf(stderr, "early: listening\n");
}
C
printf 'int main(void) { return 0; }\n' >"$SFY_TMP/main.c"
cc -shared -fPIC -o "$SFY_TMP/libearly.so" "$SFY_TMP/early.c" ||
	fail "cannot build libearly.so"
cc -o "$SFY_TMP/earlymain" "$SFY_TMP/main.c" -Wl,--no-as-needed \
	-L"$SFY_TMP" -learly \
	-Wl,-rpath,"$SFY_TMP" || fail "cannot build earlymain"
"$SOCKSIFY" -f "$conf" "$SFY_TMP/earlymain" 2>"$SFY_TMP/early.err"
rc=$?
expect_eq "early BIND exit status" "$rc" 0
expect_contains "early BIND" "$(cat "$SFY_TMP/early.err")" "early: listening"
binds=$(wait_count 1 grep -c 'tcp/bind \[' "$DANTED_LOG")
expect_gt "BINDs danted granted" "$binds" 0

out=$("$SOCKSIFY" -f "$conf" "$SFY_BUILD/progs/bindmove" 2>"$SFY_TMP/move.err")
rc=$?
expect_eq "bindmove exit status" "$rc" 0
moved=$(printf '%s\n' "$out" | sed -n 's/^moved //p')
# The BIND's control connection and the helper's eventfd at least.
expect_gt "hidden descriptors the program replaced" "${moved:-0}" 1
expect_contains "nothing of ours in the program's pipes" "$out" "leaked 0"
sfy_pass
