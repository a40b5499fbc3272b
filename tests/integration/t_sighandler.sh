#!/bin/sh
# Hooked calls made from a signal handler that interrupted its own thread
# inside one of socksify's locks (close, dup2, getsockname... are
# async-signal-safe: a program may make them there). The handler must not
# wait on a lock its own thread holds: before the fix the process hung on
# itself in about three runs of four. Here: getsockname() of a proxied
# socket from a SIGALRM handler every 200 µs while 3000 blocking proxied
# connects each note the proxy's outside address (bind auto, the default).
# The asynchronous handshakes' locks are exercised by
# t_async_epoll_close.sh (sigclose). Our fault server stands in for the
# proxy (it echoes; 198.18.0.1 is only named to it).
. "$(dirname "$0")/lib.sh"
sfy_init
[ -x "$PROGS/signame" ] || fail "no $PROGS/signame (run make)"
start_fault ok
write_conf "$SFY_TMP/conf" "proxy socks5://127.0.0.1:$FAULT_PORT" \
	"direct none"
out=$(timeout -s KILL 60 "$SOCKSIFY" -f "$SFY_TMP/conf" \
	"$PROGS/signame" 198.18.0.1 80 3000 2>"$SFY_TMP/signame.err") ||
	fail "signame: '$out' (hung, or failed): $(tail -n 3 "$SFY_TMP/signame.err")"
case $out in
"done ok=3000 calls="*" bad=0") ;;
*) fail "signame: $out" ;;
esac
calls=${out#*calls=}
calls=${calls%% *}
[ "$calls" -ge 100 ] ||
	fail "signame: only $calls handler calls: the test did not test ($out)"
say "getsockname from a signal handler: $out"
stop_pid "$FAULT_PID"
sfy_pass
