#!/bin/sh
# The library's name in LD_PRELOAD. A relative SOCKSIFY_LIBRARY (or
# `supervise LIBRARY`) reaches the program's LD_PRELOAD as an absolute
# path: under the guard (the supervisor sets it), without the guard, and
# in shell mode's LD_PRELOAD. So a program that changes directory and then
# runs another still preloads it (the loader would otherwise look the
# relative name up from the new directory, say "cannot be preloaded" and
# run that program without socksify). A library that does not exist is
# refused (125, the reason on stderr) before the program starts.
. "$(dirname "$0")/lib.sh"
sfy_init
conf=$SFY_TMP/socksify.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$(free_port)" "direct none"
lib_dir=$(dirname "$SOCKSIFY_LIBRARY")
lib_abs=$(realpath "$SOCKSIFY_LIBRARY")
guard=on
"$SOCKSIFY_HELPER" preflight /bin/true >/dev/null 2>&1
[ $? = 5 ] || guard=off

# A program that changes directory, then runs sh, which prints the first
# word of its LD_PRELOAD and how many of its mappings are the library.
probe='cd / && exec sh -c '\''set -- $LD_PRELOAD; echo "$1"
	grep -c libsocksify.so /proc/$$/maps'\'

# relative_run GUARD — run the probe with SOCKSIFY_LIBRARY relative to the
# current directory; check what the program after the cd saw.
relative_run() {
	out=$(cd "$lib_dir" && SOCKSIFY_GUARD=$1 \
		SOCKSIFY_LIBRARY=./libsocksify.so \
		"$SOCKSIFY" -q -f "$conf" sh -c "$probe" 2>"$SFY_TMP/err")
	rc=$?
	expect_eq "guard $1: exit status" "$rc" 0
	if grep -q "cannot be preloaded" "$SFY_TMP/err"; then
		fail "guard $1: the loader lost the library: $(cat "$SFY_TMP/err")"
	fi
	expect_eq "guard $1: LD_PRELOAD after cd /" \
		"$(echo "$out" | sed -n 1p)" "$lib_abs"
	expect_gt "guard $1: the library mapped after cd /" \
		"$(echo "$out" | sed -n 2p)" 0
	say "guard $1: a relative library reaches LD_PRELOAD as $lib_abs"
}

relative_run off
if [ $guard = on ]; then
	relative_run on
else
	say "no guard here: the supervisor's part not run"
fi

# `socksify-helper supervise LIBRARY` (the supervisor without `run`).
if [ $guard = on ]; then
	out=$(cd "$lib_dir" && SOCKSIFY_CONF=$conf "$SOCKSIFY_HELPER" \
		supervise ./libsocksify.so sh -c "$probe" 2>"$SFY_TMP/err")
	expect_eq "supervise: LD_PRELOAD after cd /" \
		"$(echo "$out" | sed -n 1p)" "$lib_abs"
	say "supervise: the library's path made absolute"
fi

# Shell mode exports LD_PRELOAD for every later command, wherever the
# shell goes.
out=$(cd "$lib_dir" && SOCKSIFY_CONF=$conf \
	SOCKSIFY_LIBRARY=./libsocksify.so "$SOCKSIFY_HELPER" shell on 2>&1)
expect_contains "shell on: LD_PRELOAD" "$out" "LD_PRELOAD='$lib_abs'"
say "shell on: the library's path made absolute"

# A library that is not there: refused, the program not run.
for g in off $guard; do
	out=$(SOCKSIFY_GUARD=$g SOCKSIFY_LIBRARY=$SFY_TMP/none/libsocksify.so \
		"$SOCKSIFY" -q -f "$conf" sh -c 'echo ran' 2>"$SFY_TMP/err")
	rc=$?
	expect_eq "guard $g, no library: exit status" "$rc" 125
	expect_eq "guard $g, no library: the program did not run" "$out" ""
	expect_contains "guard $g, no library: the reason" \
		"$(cat "$SFY_TMP/err")" "$SFY_TMP/none/libsocksify.so"
done
say "a library that does not exist is refused (125)"

sfy_pass
