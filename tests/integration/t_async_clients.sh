#!/bin/sh
# Real event loops through asynchronous handshakes, danted behind a 20 ms
# relay: curl --parallel (poll), python asyncio (epoll), python selectors
# with select and poll, node (libuv). Each fetches 20 pages at once and
# checks every body; danted must log every connect.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl node
start_http
start_danted none
pf=$SFY_TMP/relay.port
"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" --listen-port-file "$pf" \
	--to "127.0.0.1:$DANTED_PORT" --delay-ms 20 >"$SFY_TMP/relay.log" 2>&1 &
track $!
wait_file "$pf"
conf=$SFY_TMP/clients.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$(cat "$pf")" "direct none"
url=http://127.0.0.1:$HTTP_PORT/index.html

# client WHAT CMD... — must print HTTP_TOKEN 20 times; danted +20 connects.
client() {
	what=$1
	shift
	before=$(danted_connects_to "$HTTP_PORT")
	out=$(timeout 60 "$SOCKSIFY" -f "$conf" "$@" 2>"$SFY_TMP/cmd.err") ||
		fail "$what: $(cat "$SFY_TMP/cmd.err")"
	n=$(printf '%s\n' "$out" | grep -c "$HTTP_TOKEN")
	expect_eq "$what: bodies" "$n" 20
	after=$(wait_count $((before + 20)) danted_connects_to "$HTTP_PORT")
	expect_eq "$what: connects via danted" "$after" $((before + 20))
	say "$what: 20 pages via danted"
}

set --
i=0
while [ $i -lt 20 ]; do
	set -- "$@" "$url?$i"
	i=$((i + 1))
done
client "curl --parallel" curl -s --parallel --parallel-immediate --parallel-max 20 "$@"

client "python asyncio" "$PYTHON" - "$HTTP_PORT" <<'PY'
import asyncio, sys
port = int(sys.argv[1])
async def get(i):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"GET /index.html?%d HTTP/1.0\r\n\r\n" % i)
    data = await r.read()
    w.close()
    return data.split(b"\r\n\r\n", 1)[1].decode()
async def main():
    for body in await asyncio.gather(*(get(i) for i in range(20))):
        print(body.strip())
asyncio.run(main())
PY

for sel in SelectSelector PollSelector; do
	client "python selectors.$sel" "$PYTHON" - "$HTTP_PORT" "$sel" <<'PY'
import errno, selectors, socket, sys
port, kind = int(sys.argv[1]), sys.argv[2]
sel = getattr(selectors, kind)()
bufs = {}
for i in range(20):
    s = socket.socket()
    s.setblocking(False)
    assert s.connect_ex(("127.0.0.1", port)) == errno.EINPROGRESS
    sel.register(s, selectors.EVENT_WRITE, i)
    bufs[s] = b""
left = 20
while left:
    for key, ev in sel.select(10):
        s = key.fileobj
        if ev & selectors.EVENT_WRITE:
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            assert err == 0, err
            s.send(b"GET /index.html HTTP/1.0\r\n\r\n")
            sel.modify(s, selectors.EVENT_READ, key.data)
            continue
        chunk = s.recv(65536)
        if chunk:
            bufs[s] += chunk
            continue
        sel.unregister(s)
        print(bufs[s].split(b"\r\n\r\n", 1)[1].decode().strip())
        s.close()
        left -= 1
PY
done

client "node" node - "$HTTP_PORT" <<'JS'
const http = require("http");
const port = Number(process.argv[2]);
const agent = new http.Agent({ maxSockets: 20 });
let left = 20;
for (let i = 0; i < 20; i++) {
  http.get({ host: "127.0.0.1", port, path: "/index.html?" + i, agent }, (res) => {
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => {
      console.log(body.trim());
      if (--left === 0) process.exit(0);
    });
  }).on("error", (e) => { console.error(e); process.exit(1); });
}
JS
sfy_pass
