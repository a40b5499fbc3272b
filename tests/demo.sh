#!/bin/sh
# make demo: start microsocks and a web server on loopback, then fetch a page
# through `socksify curl` and show socksify's routing decision. Everything
# started here is stopped on exit (by recorded PID).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pids=
cleanup() {
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	i=0
	while ! python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 50 ] || { echo "demo: port $1 did not open" >&2; exit 1; }
		sleep 0.1
	done
}

proxy_port=$(free_port)
web_port=$(free_port)
echo "hello through the proxy" >"$tmp/index.html"
microsocks -i 127.0.0.1 -p "$proxy_port" >"$tmp/microsocks.log" 2>&1 &
pids="$pids $!"
(cd "$tmp" && exec python3 -m http.server -b 127.0.0.1 "$web_port") >/dev/null 2>&1 &
pids="$pids $!"
wait_port "$proxy_port"
wait_port "$web_port"

# Loopback normally goes direct; this demo config sends it through the proxy.
printf 'proxy socks5h://127.0.0.1:%s\ndirect none\n' "$proxy_port" >"$tmp/demo.conf"
echo "\$ socksify -v -f demo.conf curl http://127.0.0.1:$web_port/"
"$top/tools/socksify" -v -f "$tmp/demo.conf" curl -sS "http://127.0.0.1:$web_port/"
