#!/bin/sh
# microsocks (a strict server: one recv() is one message) without and with
# username/password. microsocks has no log of its own, so the proof that the
# proxy was crossed is a target microsocks can reach but the client can not:
# the client runs in a network namespace whose only way out is the proxy.
. "$(dirname "$0")/lib.sh"
sfy_init
need microsocks curl ip
start_http
make_netns

# microsocks listens on the host side of the veth; the target is on the
# host's loopback, which the namespace cannot reach directly.
run_ms() {
	MS_PORT=$(free_port)
	microsocks -i "$HOST_ADDR" -p "$MS_PORT" "$@" \
		>"$SFY_TMP/microsocks.log" 2>&1 &
	track $!
	wait_port "$HOST_ADDR" "$MS_PORT"
}

url=http://127.0.0.1:$HTTP_PORT/
# Without socksify the namespace cannot fetch the page.
if in_ns curl -sS --max-time 5 "$url" >/dev/null 2>&1; then
	fail "the namespace reaches the target directly; test is void"
fi

run_ms
conf=$SFY_TMP/ms.conf
write_conf "$conf" "proxy socks5://$HOST_ADDR:$MS_PORT" "direct none"
out=$(in_ns "$SOCKSIFY" -f "$conf" curl -sS --max-time 20 "$url") ||
	fail "curl via microsocks failed"
expect_contains "curl via microsocks" "$out" "$HTTP_TOKEN"
out=$(in_ns "$SOCKSIFY" -f "$conf" "$PYTHON" -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' \
	"$url") || fail "python3 via microsocks failed"
expect_contains "python3 via microsocks" "$out" "$HTTP_TOKEN"
say "microsocks, no auth: ok"

user=msuser
pass=ms-pass-$(date +%N)
run_ms -u "$user" -P "$pass"
conf=$SFY_TMP/ms-auth.conf
write_conf "$conf" "proxy socks5://$user:$pass@$HOST_ADDR:$MS_PORT" \
	"direct none"
out=$(in_ns "$SOCKSIFY" -f "$conf" curl -sS --max-time 20 "$url") ||
	fail "curl via microsocks with auth failed"
expect_contains "curl via microsocks -u/-P" "$out" "$HTTP_TOKEN"
out=$(in_ns "$SOCKSIFY" -f "$conf" wget -q -T 20 -t 1 -O - "$url") ||
	fail "wget via microsocks with auth failed"
expect_contains "wget via microsocks -u/-P" "$out" "$HTTP_TOKEN"
say "microsocks, -u/-P: ok"

conf=$SFY_TMP/ms-bad.conf
write_conf "$conf" "proxy socks5://$user:nope@$HOST_ADDR:$MS_PORT" \
	"direct none"
if in_ns "$SOCKSIFY" -f "$conf" curl -sS --max-time 20 "$url" \
	>/dev/null 2>&1; then
	fail "curl succeeded with a wrong microsocks password"
fi
# No credentials at all against a server that requires them.
conf=$SFY_TMP/ms-none.conf
write_conf "$conf" "proxy socks5://$HOST_ADDR:$MS_PORT" "direct none"
out=$(in_ns "$SOCKSIFY" -f "$conf" "$PROGS/connect_errno" 127.0.0.1 \
	"$HTTP_PORT")
expect_eq "no credentials for a server requiring them" "$out" EACCES
say "microsocks, wrong or missing password: refused"
sfy_pass
