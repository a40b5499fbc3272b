#!/bin/sh
# measure.sh — issue 6's number: 20 concurrent non-blocking connects (curl
# --parallel, 20 pages) through danted behind a 40 ms RTT relay, socksify
# (async on, async off) against curl speaking SOCKS itself (the floor),
# alternating, 7 rounds, medians; and the longest event-loop stall seen by
# asyncconn (connect() duration and handler time). Prints markdown.
# Run as root from the repository: sh tests/async/measure.sh
. "$(dirname "$0")/../integration/lib.sh"
sfy_init
need danted curl
# An HTTP responder with a deep accept queue (http.server's backlog of 5
# drops SYNs at 20 concurrent connects, which would measure retransmits).
HTTP_PORT=$(free_port)
"$PYTHON" - "$HTTP_PORT" >"$SFY_TMP/http.log" 2>&1 <<'PY' &
import asyncio, sys
async def serve(r, w):
    await r.readuntil(b"\r\n\r\n")
    w.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    await w.drain()
    w.close()
async def main():
    s = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]),
                                   backlog=512)
    await s.serve_forever()
asyncio.run(main())
PY
track $!
wait_port 127.0.0.1 "$HTTP_PORT"
start_danted none
pf=$SFY_TMP/relay.port
"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" --listen-port-file "$pf" \
	--to "127.0.0.1:$DANTED_PORT" --delay-ms 20 >"$SFY_TMP/relay.log" 2>&1 &
track $!
wait_file "$pf"
RELAY=$(cat "$pf")
on=$SFY_TMP/on.conf
off=$SFY_TMP/off.conf
write_conf "$on" "proxy socks5h://127.0.0.1:$RELAY" "direct none"
write_conf "$off" "proxy socks5h://127.0.0.1:$RELAY" "direct none" \
	"async_connect off"
set --
i=0
while [ $i -lt 20 ]; do
	set -- "$@" "http://127.0.0.1:$HTTP_PORT/index.html?$i"
	i=$((i + 1))
done
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
: >"$SFY_TMP/floor" ; : >"$SFY_TMP/on" ; : >"$SFY_TMP/off"
for round in 1 2 3 4 5 6 7; do
	t=$(date +%s%N)
	curl -s --parallel --parallel-immediate --parallel-max 20 --socks5-hostname "127.0.0.1:$RELAY" "$@" >/dev/null || fail floor
	ms "$t" >>"$SFY_TMP/floor"
	t=$(date +%s%N)
	"$SOCKSIFY" -f "$on" curl -s --parallel --parallel-immediate --parallel-max 20 "$@" >/dev/null || fail on
	ms "$t" >>"$SFY_TMP/on"
	t=$(date +%s%N)
	"$SOCKSIFY" -f "$off" curl -s --parallel --parallel-immediate --parallel-max 20 "$@" >/dev/null || fail off
	ms "$t" >>"$SFY_TMP/off"
done
med() { sort -n "$1" | sed -n 4p; }
f=$(med "$SFY_TMP/floor"); a=$(med "$SFY_TMP/on"); s=$(med "$SFY_TMP/off")
echo "| 20 concurrent curl fetches, 40 ms RTT | median ms | ratio to floor |"
echo "|---|---|---|"
echo "| curl --socks5-hostname (floor) | $f | 1.00 |"
echo "| socksify, async_connect on | $a | $(echo "scale=2; $a / $f" | bc) |"
echo "| socksify, async_connect off | $s | $(echo "scale=2; $s / $f" | bc) |"
start_echo
for m in et poll; do
	for c in "$on" "$off"; do
		out=$("$SOCKSIFY" -f "$c" "$PROGS/asyncconn" 127.0.0.1 "$ECHO_PORT" 20 $m 2>&1)
		echo "asyncconn $m ($(basename "$c" .conf)): $out"
	done
done
sfy_pass
