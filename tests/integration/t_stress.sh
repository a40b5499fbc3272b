#!/bin/sh
# The stress cases of tests/stress/ (make stress), each in a small size
# that fits make check (a few seconds): 300 non-blocking connects at once
# past 64 asynchronous handshake slots; connects at the descriptor limit
# (EMFILE) through a slow relay; danted restarted under 20 open connections
# and 20+4 handshakes in flight; a signal storm with and without
# SA_RESTART; a 4 s soak sampled every second.
. "$(dirname "$0")/lib.sh"
. "$SFY_TOP/tests/stress/cases.sh"
sfy_init
stress_setup 60
case_many 300 64 20
case_emfile 24 64
case_restart 20 20
case_signals 4 1
case_soak 40 4 1
sfy_pass
