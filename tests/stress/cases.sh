# cases.sh — the stress cases, sourced after tests/integration/lib.sh by
# tests/stress/run.sh and soak.sh (full size) and by
# tests/integration/t_stress.sh (small, inside make check). Each case takes
# its sizes as arguments, runs build/stress/stressconn through socksify
# against danted and stressconn's own echo server, checks what it printed,
# and says its numbers (a line "NAME: ..." on stderr, kept in
# $SFY_TMP/numbers). Every wait is bounded; everything is stopped by PID or
# process group.

STRESSCONN=$SFY_BUILD/stress/stressconn
DELAYRELAY=$SFY_TOP/tests/integration/delayrelay.py

# stress_setup [ECHO_SECONDS] — the echo server (alive ECHO_SECONDS, 900 by
# default), danted, and the config $STRESS_CONF (every connect through
# danted, nothing direct). Sets STRESS_ECHO_PORT.
stress_setup() {
	need danted
	[ -x "$STRESSCONN" ] || fail "no $STRESSCONN (run make)"
	"$STRESSCONN" echo "$SFY_TMP/echo.port" "${1:-900}" \
		>"$SFY_TMP/stressecho.log" 2>&1 &
	track $!
	wait_file "$SFY_TMP/echo.port"
	STRESS_ECHO_PORT=$(cat "$SFY_TMP/echo.port")
	start_danted none
	STRESS_CONF=$SFY_TMP/stress.conf
	write_conf "$STRESS_CONF" "proxy socks5://127.0.0.1:$DANTED_PORT" \
		"direct none"
	: >"$SFY_TMP/numbers"
}

# numbers LINE — say a result line and keep it.
numbers() {
	printf '%s\n' "$*" >>"$SFY_TMP/numbers"
	say "$*"
}

# field LINE KEY — the value of KEY=value in a stressconn summary line.
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# errs_of LINE — the errno counts at the end of an emfile summary.
errs_of() {
	printf '%s\n' "$1" | sed 's/.*fds_after=[-0-9]* *//'
}

# stress_run NAME CONF ARGS... — stressconn ARGS under socksify with CONF;
# its summary (the line starting "NAME:") in RUN_OUT, its stderr (the
# library's warnings and errors: SOCKSIFY_LOG=warn)
# in $SFY_TMP/NAME.err, its status in RUN_RC.
stress_run() {
	rname=$1
	rconf=$2
	shift 2
	RUN_OUT=$(SOCKSIFY_LOG=warn sfy -f "$rconf" "$STRESSCONN" "$@" \
		2>"$SFY_TMP/$rname.err")
	RUN_RC=$?
	printf '%s\n' "$RUN_OUT" >"$SFY_TMP/$rname.out"
	RUN_OUT=$(printf '%s\n' "$RUN_OUT" | grep "^$rname:" | tail -n 1)
	[ -n "$RUN_OUT" ] ||
		fail "$rname: no summary (exit $RUN_RC): $(tail -n 5 \
			"$SFY_TMP/$rname.err")"
}

# case_many N SLOTS SECONDS — N non-blocking connects at once from one
# process with SLOTS asynchronous handshake slots (N > SLOTS): all must
# succeed through danted, and the "slots are busy" warning appear once.
case_many() {
	conf=$SFY_TMP/many.conf
	write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" \
		"direct none" "async_handshakes $2"
	before=$(danted_connects_to "$STRESS_ECHO_PORT")
	stress_run many "$conf" many "$STRESS_ECHO_PORT" "$1" "$3"
	[ $RUN_RC = 0 ] || fail "many: $RUN_OUT"
	expect_eq "many: connects that succeeded" "$(field "$RUN_OUT" ok)" "$1"
	told=$(grep -c 'asynchronous handshake slots are busy' \
		"$SFY_TMP/many.err")
	expect_eq "many: 'slots are busy' warnings" "$told" 1
	after=$(wait_count $((before + $1)) danted_connects_to \
		"$STRESS_ECHO_PORT")
	expect_eq "many: connects danted relayed" $((after - before)) "$1"
	numbers "many: $1 non-blocking connects at once, $2 slots:" \
		"$(field "$RUN_OUT" ok) ok through danted, slots warning" \
		"once, slowest connect() $(field "$RUN_OUT" max_connect_us) us," \
		"$(field "$RUN_OUT" ms) ms in all"
}

# case_emfile N LIMIT — N connects (non-blocking, non-blocking with an
# epoll set of the program's, then blocking) with RLIMIT_NOFILE at LIMIT and
# 0-2 descriptors free at each connect. The non-blocking ones go through a
# relay that adds 50 ms of round trip in front of danted, so that a
# handshake run inside a non-blocking connect() shows as one that blocked.
case_emfile() {
	pf=$SFY_TMP/relay.port
	"$PYTHON" "$DELAYRELAY" --listen-port-file "$pf" \
		--to "127.0.0.1:$DANTED_PORT" --delay-ms 25 \
		>"$SFY_TMP/relay.log" 2>&1 &
	track $!
	wait_file "$pf"
	conf=$SFY_TMP/emfile.conf
	write_conf "$conf" "proxy socks5://127.0.0.1:$(cat "$pf")" \
		"direct none"
	for m in nb nbepoll block; do
		# Blocking connects need no relay to show what they do.
		[ $m = block ] && conf=$STRESS_CONF
		stress_run emfile "$conf" emfile "$STRESS_ECHO_PORT" "$1" "$2" $m
		[ $RUN_RC = 0 ] || fail "emfile ($m): $RUN_OUT"
		numbers "emfile ($m): $1 connects at RLIMIT_NOFILE $2:" \
			"$(field "$RUN_OUT" ok) ok," \
			"$(field "$RUN_OUT" failed_clean) failed cleanly" \
			"($(errs_of "$RUN_OUT"); socket() itself said EMFILE" \
			"$(field "$RUN_OUT" socket_emfile) times)," \
			"0 hung, 0 blocked, 0 direct," \
			"descriptors $(field "$RUN_OUT" fds_before) before and" \
			"$(field "$RUN_OUT" fds_after) after"
	done
}

# case_restart HOLD INFLIGHT — HOLD connections open and INFLIGHT
# non-blocking (+ 4 blocking) handshakes under way while danted's whole
# process group is frozen, then stopped and started again on its port.
case_restart() {
	dir=$SFY_TMP/restart
	mkdir -p "$dir"
	sfy -f "$STRESS_CONF" "$STRESSCONN" restart "$STRESS_ECHO_PORT" "$1" \
		"$2" "$dir" >"$SFY_TMP/restart.out" 2>"$SFY_TMP/restart.err" &
	rpid=$!
	track $rpid
	wait_file_bounded "$dir/held" 600 || fail "restart: never held"
	kill -STOP "-$DANTED_PGID"
	: >"$dir/stopped"
	wait_file_bounded "$dir/inflight" 300 || fail "restart: no inflight"
	restart_danted
	: >"$dir/restarted"
	wait $rpid
	rc=$?
	RUN_OUT=$(grep '^restart:' "$SFY_TMP/restart.out" | tail -n 1)
	[ $rc = 0 ] || fail "restart (exit $rc): $RUN_OUT"
	held=$(printf '%s\n' "$RUN_OUT" | sed 's/.*|held: *\([^|]*\) |.*/\1/')
	numbers "restart: $1 open connections all failed cleanly" \
		"($held), $2+4 handshakes in flight ended" \
		"(ok $(field "$RUN_OUT" inflight_ok), failed cleanly" \
		"$(field "$RUN_OUT" inflight_failed_clean)), 100/100 new" \
		"connects after the restart"
}

# wait_file_bounded FILE TENTHS — whether FILE appeared within TENTHS
# tenths of a second.
wait_file_bounded() {
	n=0
	while [ ! -e "$1" ] && [ $n -lt "$2" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -e "$1" ]
}

# case_signals THREADS SECONDS — a storm of SIGUSR1 on THREADS connecting
# threads, with and without SA_RESTART.
case_signals() {
	for r in restart norestart; do
		stress_run signals "$STRESS_CONF" signals "$STRESS_ECHO_PORT" \
			"$1" "$2" $r
		[ $RUN_RC = 0 ] || fail "signals ($r): $RUN_OUT"
		numbers "signals ($r): $(field "$RUN_OUT" connects) connects" \
			"by $1 threads in $2 s, $(field "$RUN_OUT" ok) ok," \
			"$(field "$RUN_OUT" handled) signals handled," \
			"connect() said EINTR $(field "$RUN_OUT" \
				eintr_from_connect) times, slowest" \
			"$(field "$RUN_OUT" max_connect_us) us"
	done
}

# case_soak RATE SECONDS INTERVAL — RATE connects a second for SECONDS,
# sampled every INTERVAL s; the samples must be flat (stressconn.c says
# exactly what that means).
case_soak() {
	stress_run soak "$STRESS_CONF" soak "$STRESS_ECHO_PORT" "$1" "$2" "$3"
	cp "$SFY_TMP/soak.out" "${SOAK_KEEP:-$SFY_TMP/soak.samples}" 2>/dev/null
	[ $RUN_RC = 0 ] || fail "soak: $RUN_OUT"
	numbers "$RUN_OUT"
}
