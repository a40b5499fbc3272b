#!/bin/sh
# Asynchronous handshakes (issue 6): 20 non-blocking connects at once through
# danted behind a relay adding 20 ms each way, driven by raw epoll (LT, ET,
# ONESHOT, ET+ONESHOT, registration before connect), poll, select, 4 threads
# with their own epoll, dup, fork and close-with-reuse; a banner server;
# refused targets; an expired deadline. asyncconn checks, for each connect,
# that nothing is ready, read/write say EAGAIN and getpeername ENOTCONN
# while it runs, and that no SOCKS byte reaches the program. With
# async_connect off the same program must fail (connect() blocks).
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
[ -x "$PROGS/asyncconn" ] || fail "no $PROGS/asyncconn (run make)"
start_echo
start_danted none

# start_relay TARGET_PORT — the delay relay; sets RELAY_PORT.
start_relay() {
	pf=$SFY_TMP/relay$1.port
	"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
		--listen-port-file "$pf" --to "127.0.0.1:$1" --delay-ms 20 \
		>"$SFY_TMP/relay.log" 2>&1 &
	track $!
	wait_file "$pf"
	RELAY_PORT=$(cat "$pf")
}
start_relay "$DANTED_PORT"
conf=$SFY_TMP/async.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$RELAY_PORT" "direct none"

# run_async WHAT ARGS... — asyncconn through socksify must print "ok".
run_async() {
	what=$1
	shift
	out=$(timeout 60 "$SOCKSIFY" -f "$conf" "$PROGS/asyncconn" "$@" 2>&1) ||
		fail "$what: $out"
	expect_contains "$what" "$out" "ok "
	say "$what: $out"
}

before=$(danted_connects_to "$ECHO_PORT")
for mode in lt et oneshot etoneshot pre poll select dup reuse fork; do
	run_async "$mode" 127.0.0.1 "$ECHO_PORT" 20 "$mode"
done
run_async threads 127.0.0.1 "$ECHO_PORT" 20 threads
# fork makes 40 connects, reuse 40 (20 closed at once), threads 80.
after=$(wait_count $((before + 9 * 20 + 20 + 80)) danted_connects_to "$ECHO_PORT")
[ "$after" -ge $((before + 9 * 20 + 20 + 80)) ] ||
	fail "danted relayed $((after - before)) connects"

# A server that speaks first: its banner must arrive whole, after the
# SOCKS reply, and nothing of the SOCKS exchange with it.
BANNER_PORT=$(free_port)
"$PYTHON" - "$BANNER_PORT" >"$SFY_TMP/banner.log" 2>&1 <<'PY' &
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(128)
def serve(c):
    c.sendall(b"220 banner-first\n")
    c.recv(100)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
track $!
wait_port 127.0.0.1 "$BANNER_PORT"
run_async "banner, et" 127.0.0.1 "$BANNER_PORT" 20 et "banner:220 banner-first
"
run_async "banner, poll" 127.0.0.1 "$BANNER_PORT" 20 poll "banner:220 banner-first
"

# Refused by the target (danted replies "connection refused").
closed=$(free_port)
run_async "refused, et" 127.0.0.1 "$closed" 5 et refused
run_async "refused, select" 127.0.0.1 "$closed" 5 select refused

# A proxy that accepts and never answers: the deadline ends it.
start_silent
tconf=$SFY_TMP/timeout.conf
write_conf "$tconf" "proxy socks5h://127.0.0.1:$SILENT_PORT" "direct none" \
	"handshake_timeout 300ms"
start=$(date +%s%N)
out=$(timeout 30 "$SOCKSIFY" -f "$tconf" "$PROGS/asyncconn" 127.0.0.1 \
	"$ECHO_PORT" 5 et timeout 2>&1) || fail "deadline: $out"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 5000 ] || fail "deadline: took $ms ms"
say "deadline: $out"

# The switch: with async_connect off, connect() runs the handshake itself,
# so asyncconn's in-progress checks must fail (this proves they can).
write_conf "$conf" "proxy socks5h://127.0.0.1:$RELAY_PORT" "direct none" \
	"async_connect off"
if out=$(timeout 60 "$SOCKSIFY" -f "$conf" "$PROGS/asyncconn" 127.0.0.1 \
	"$ECHO_PORT" 3 et 2>&1); then
	fail "async_connect off: the in-progress checks passed: $out"
fi
expect_contains "async_connect off" "$out" "during the handshake"
say "async_connect off: synchronous, as asked"

# A pool of 2 slots (async_handshakes 2) and 6 connects at once: those
# beyond the limit run synchronously (connect() returns 0, connected),
# every connection still works, and the log says so once, not once per
# connect.
write_conf "$conf" "proxy socks5h://127.0.0.1:$RELAY_PORT" "direct none" \
	"async_handshakes 2"
out=$(SOCKSIFY_LOG=warn timeout 60 "$SOCKSIFY" -f "$conf" \
	"$PROGS/asyncconn" 127.0.0.1 "$ECHO_PORT" 6 et 2>&1)
expect_contains "async_handshakes 2" "$out" "ok 6,"
expect_eq "pool-full warnings" \
	"$(printf '%s\n' "$out" | grep -c 'all 2 asynchronous handshake slots are busy')" 1
say "async_handshakes 2: the rest synchronous, said once"
sfy_pass
