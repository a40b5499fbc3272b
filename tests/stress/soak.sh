#!/bin/sh
# soak.sh — the soak (make soak): SOAK_RATE connects a second (default 20,
# alternately blocking and non-blocking, each echoed through danted and
# closed) for SOAK_SECONDS (default 600). The client samples its
# descriptors (/proc/self/fd), RSS and threads every SOAK_INTERVAL seconds
# (default 10) and requires them flat: from the sample at 60 s on, the
# descriptors and threads exactly as then and RSS at most 1 MiB above it
# (stressconn.c). Samples go to build/stress/soak.samples, the summary to
# build/stress/soak.numbers.
. "$(dirname "$0")/../integration/lib.sh"
. "$SFY_TOP/tests/stress/cases.sh"
sfy_init
seconds=${SOAK_SECONDS:-600}
rate=${SOAK_RATE:-20}
load=$(cut -d' ' -f1-3 /proc/loadavg)
stress_setup $((seconds + 120))
mkdir -p "$SFY_BUILD/stress"
SOAK_KEEP=$SFY_BUILD/stress/soak.samples
case_soak "$rate" "$seconds" "${SOAK_INTERVAL:-10}"
{
	echo "soak $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load" \
		"average before: $load, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "danted relayed $(danted_connects_to "$STRESS_ECHO_PORT") connects"
	cat "$SFY_TMP/numbers"
} >"$SFY_BUILD/stress/soak.numbers"
cat "$SFY_BUILD/stress/soak.numbers"
sfy_pass
