#!/bin/sh
# run.sh — the stress suite (make stress): every case of cases.sh at full
# size, through danted on loopback. Takes a few minutes; prints the numbers
# the README quotes (also kept in build/stress/numbers).
#
#   2,000 non-blocking connects at once past 512 handshake slots
#   400 connects at RLIMIT_NOFILE 256 (0-2 descriptors free each time),
#       non-blocking and blocking
#   danted restarted under 100 open connections and 100+4 handshakes
#   a signal storm on 8 connecting threads for 10 s, with and without
#       SA_RESTART
#   a 120 s soak at 20 connects/s (make soak runs the 10-minute one)
. "$(dirname "$0")/../integration/lib.sh"
. "$SFY_TOP/tests/stress/cases.sh"
sfy_init
STRESS_LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
stress_setup 900
start=$(date +%s)
case_many 2000 512 120
case_emfile 400 256
case_restart 100 100
case_signals 8 10
case_soak 20 120 10
mkdir -p "$SFY_BUILD/stress"
{
	echo "stress run $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
		"load average before: $STRESS_LOAD_BEFORE"
	cat "$SFY_TMP/numbers"
	echo "took $(($(date +%s) - start)) s; load average after:" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$SFY_BUILD/stress/numbers"
cat "$SFY_BUILD/stress/numbers"
sfy_pass
