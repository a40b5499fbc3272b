#!/bin/sh
# tsan.sh — run the ThreadSanitizer build (make check-tsan builds it in
# $TSAN_B, default build/tsan): the unit suites that start threads, then the
# threaded programs through socksify and danted with the TSan library:
# threads (16 threads x 20 connects, by address and by a fake name),
# asyncconn (every mode: epoll, poll, select, threads, dup, fork), stressconn
# (600 non-blocking connects past 64 slots, a signal storm on 8 threads).
# Every report is kept in $TSAN_B/reports/; the last line counts them:
# "tsan: N passed, M failed" (a run with a report, or that failed, fails).
#
# Suppressions (tests/stress/tsan.supp) are only for what is provably not
# ours; each is explained there. Two settings are not suppressions:
# - "guard off": the guard maps its trampoline page at a fixed address
#   (common/guardpage.h) inside TSan's shadow memory, and TSan stops the
#   process ("mmap at bad address"); the guard is a seccomp filter and
#   adds no thread of its own, so the threads run the same without it.
# - symbolize=0: the symbolizer TSan starts would inherit LD_PRELOAD with
#   the TSan library, where it cannot load; tsan_symbolize.py puts names
#   and lines into the reports afterwards.
. "$(dirname "$0")/../integration/lib.sh"
sfy_init
need danted
TSAN_B=${TSAN_B:-build/tsan}
case $TSAN_B in
/*) ;;
*) TSAN_B=$SFY_TOP/$TSAN_B ;;
esac
[ -f "$TSAN_B/libsocksify.so" ] || fail "no $TSAN_B/libsocksify.so (make check-tsan)"
reports=$TSAN_B/reports
rm -rf "$reports"
mkdir -p "$reports"
TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 symbolize=0 \
suppressions=$SFY_TOP/tests/stress/tsan.supp"
export TSAN_OPTIONS
passed=0
failed=0

# tsan_run NAME CMD... — run CMD with TSan reports going to
# $reports/NAME.*; it must exit 0 and report nothing.
tsan_run() {
	tname=$1
	shift
	TSAN_OPTIONS="$TSAN_OPTIONS log_path=$reports/$tname" \
		timeout -k 5 300 "$@" >"$SFY_TMP/$tname.out" 2>&1
	trc=$?
	n=$(cat "$reports/$tname".* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer')
	if [ "$trc" = 0 ] && [ "$n" = 0 ]; then
		passed=$((passed + 1))
		say "$tname: ok"
	else
		failed=$((failed + 1))
		say "$tname: FAILED (exit $trc, $n reports): $(tail -n 3 \
			"$SFY_TMP/$tname.out")"
	fi
}

for t in ${TSAN_UNITS:-}; do
	case $t in
	/*) ;;
	*) t=$SFY_TOP/$t ;;
	esac
	tsan_run "$(basename "$t")" "$t"
done

start_echo
start_danted none
"$SFY_BUILD/stress/stressconn" echo "$SFY_TMP/echo.port" 600 \
	>"$SFY_TMP/stressecho.log" 2>&1 &
track $!
wait_file "$SFY_TMP/echo.port"
sport=$(cat "$SFY_TMP/echo.port")
conf=$SFY_TMP/tsan.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none" \
	"guard off" "async_handshakes 64"
SOCKSIFY_LIBRARY=$TSAN_B/libsocksify.so
export SOCKSIFY_LIBRARY

tsan_run threads-addr "$SOCKSIFY" -f "$conf" "$TSAN_B/progs/threads" 127.0.0.1 \
	"$ECHO_PORT" 16 20
tsan_run threads-name "$SOCKSIFY" -f "$conf" "$TSAN_B/progs/threads" "$ECHO_NAME" \
	"$ECHO_PORT" 16 20
# asyncconn checks what the program sees while a handshake runs; under
# TSan the program is slow enough for danted to finish first, so its
# handshakes go through a relay that adds 40 ms of round trip.
"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
	--listen-port-file "$SFY_TMP/relay.port" \
	--to "127.0.0.1:$DANTED_PORT" --delay-ms 20 >"$SFY_TMP/relay.log" 2>&1 &
track $!
wait_file "$SFY_TMP/relay.port"
slow=$SFY_TMP/slow.conf
write_conf "$slow" "proxy socks5h://127.0.0.1:$(cat "$SFY_TMP/relay.port")" \
	"direct none" "guard off"
for m in lt et oneshot pre poll select threads dup fork reuse; do
	tsan_run "asyncconn-$m" "$SOCKSIFY" -f "$slow" \
		"$TSAN_B/progs/asyncconn" 127.0.0.1 "$ECHO_PORT" 100 $m
done
tsan_run stressconn-many "$SOCKSIFY" -f "$conf" "$TSAN_B/stress/stressconn" many \
	"$sport" 600 120
tsan_run stressconn-signals "$SOCKSIFY" -f "$conf" "$TSAN_B/stress/stressconn" \
	signals "$sport" 8 5 norestart

ls "$reports" >"$SFY_TMP/report-files"
[ -s "$SFY_TMP/report-files" ] &&
	"$PYTHON" "$SFY_TOP/tests/stress/tsan_symbolize.py" "$TSAN_B" \
		"$reports"/*
say "reports kept in $reports: $(wc -l <"$SFY_TMP/report-files" | tr -d ' ') files"
for f in "$reports"/*; do
	[ -f "$f" ] || continue
	grep -h -A2 '^WARNING: ThreadSanitizer' "$f" |
		sed "s|^|$(basename "$f"): |" >&2
done
echo "tsan: $passed passed, $failed failed"
[ "$failed" = 0 ] || exit 1
sfy_pass
