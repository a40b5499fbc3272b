#!/bin/sh
# Real clients (curl, wget, nc, python3) through tools/socksify and danted
# without authentication. The target is on loopback and the config says
# "direct none", so every fetch must appear in danted's log.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl wget nc
start_http
start_danted none
conf=$SFY_TMP/socksify.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none"
url=http://127.0.0.1:$HTTP_PORT/

expect_via_danted curl "$HTTP_PORT" sfy -f "$conf" curl -sS --max-time 20 "$url"
expect_via_danted "curl (SOCKSIFY_CONF)" "$HTTP_PORT" \
	env SOCKSIFY_CONF="$conf" "$SOCKSIFY" curl -sS --max-time 20 "$url"
expect_via_danted wget "$HTTP_PORT" \
	sfy -f "$conf" wget -q -T 20 -t 1 -O - "$url"
expect_via_danted "nc -N" "$HTTP_PORT" sh -c \
	'printf "GET / HTTP/1.0\r\n\r\n" | "$1" -f "$2" nc -N -w 20 127.0.0.1 "$3"' \
	nc "$SOCKSIFY" "$conf" "$HTTP_PORT"
expect_via_danted "python3 socket" "$HTTP_PORT" sfy -f "$conf" "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 20)
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode())' "$HTTP_PORT"
expect_via_danted "python3 urllib" "$HTTP_PORT" sfy -f "$conf" "$PYTHON" -c '
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())' "$url"

# A larger body arrives intact (no byte lost or duplicated around the
# handshake).
head -c 4194304 /dev/urandom >"$HTTP_DIR/big.bin"
want=$(sha256sum <"$HTTP_DIR/big.bin")
sfy -f "$conf" curl -sS --max-time 60 -o "$SFY_TMP/big.curl" "${url}big.bin" ||
	fail "curl big.bin"
expect_eq "4 MiB via curl" "$(sha256sum <"$SFY_TMP/big.curl")" "$want"
sfy -f "$conf" wget -q -T 60 -t 1 -O "$SFY_TMP/big.wget" "${url}big.bin" ||
	fail "wget big.bin"
expect_eq "4 MiB via wget" "$(sha256sum <"$SFY_TMP/big.wget")" "$want"
say "4 MiB downloads intact"

# The same fetch without socksify must not show up in danted's log: the
# count above really measures socksify's traffic.
before=$(danted_connects_to "$HTTP_PORT")
curl -sS --max-time 20 "$url" >/dev/null || fail "plain curl failed"
sleep 0.3
expect_eq "plain curl bypasses danted" "$(danted_connects_to "$HTTP_PORT")" "$before"
sfy_pass
