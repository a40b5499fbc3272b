#!/bin/sh
# run-all.sh — run every tests/integration/t_*.sh, one after the other.
#
# Prints PASS/FAIL/SKIP per test (with the test's output when it failed) and
# a last line "integration: N passed, M failed". Exits non-zero if any test
# failed. Must run as root (namespaces, danted, throw-away users).
# Environment: SOCKSIFY_BUILD (default build) says where libsocksify.so and
# the test programs are; SFY_TESTS="t_a t_b" runs only those tests;
# SFY_TEST_TIMEOUT bounds each test (seconds, default 120).

set -u
here=$(cd "$(dirname "$0")" && pwd -P)
limit=${SFY_TEST_TIMEOUT:-120}
passed=0
failed=0
skipped=0

if [ "$(id -u)" != 0 ]; then
	echo "integration tests must run as root" >&2
	echo "integration: 0 passed, 1 failed"
	exit 1
fi

if [ -n "${SFY_TESTS:-}" ]; then
	tests=""
	for t in $SFY_TESTS; do
		tests="$tests $here/${t%.sh}.sh"
	done
else
	tests=$(ls "$here"/t_*.sh)
fi

out=$(mktemp /tmp/sfy-run-all.XXXXXX)
for t in $tests; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	timeout -k 5 "$limit" sh "$t" >"$out" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name: $(tail -n 1 "$out")"
		skipped=$((skipped + 1))
		;;
	*)
		[ $rc = 124 ] && echo "$name: timed out after ${limit}s" >>"$out"
		echo "FAIL $name (${secs}s, status $rc)"
		sed 's/^/    /' "$out"
		failed=$((failed + 1))
		;;
	esac
done
rm -f "$out"
[ $skipped -gt 0 ] && echo "($skipped skipped)"
echo "integration: $passed passed, $failed failed"
[ $failed -eq 0 ]
