#!/bin/sh
# "bind auto", the default: active FTP (curl -P -, EPRT and PORT) works
# through danted with no bind line; a port-0 wildcard listener in a process
# with a proxied connection gets a BIND; a fixed-port server in the same
# kind of process, and a port-0 listener in a process with no proxied
# connection, stay local; "bind off" leaves even the callback local; an
# HTTP proxy last (no BIND) leaves it local too, with no error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
sfy_init
need danted curl tinyproxy
DANTED_BIND=1 start_danted none
start_ftp
start_tinyproxy
proxy=127.0.0.1:$DANTED_PORT

# Active FTP with no bind line ("direct none": the server is on loopback,
# so the control connection goes through danted).
conf=$SFY_TMP/auto.conf
write_conf "$conf" "proxy socks5://$proxy" "direct none"
url=ftp://127.0.0.1:$FTP_PORT/file.txt
expect_ftp "bind auto: curl -P - (EPRT)" "$conf" "$url" -P - --eprt
expect_ftp "bind auto: curl -P - (PORT)" "$conf" "$url" -P - --disable-eprt

# listen.py PROXIED PORT: with PROXIED=1, first a proxied connection (to
# the FTP server, through danted); then a listener on 0.0.0.0:PORT. Prints
# the listener's address as getsockname() tells it and, for a local
# listener, whether a connection to it (through danted: "direct none") is
# accepted and carries a byte.
cat >"$SFY_TMP/listen.py" <<'EOF'
import socket, sys
if sys.argv[1] == "1":
    ctl = socket.create_connection(("127.0.0.1", int(sys.argv[3])), 10)
    ctl.recv(100)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2])))
s.listen(1)
host, port = s.getsockname()[:2]
if host == "0.0.0.0":
    c = socket.create_connection(("127.0.0.1", port), 5)
    a, peer = s.accept()
    c.sendall(b"x")
    print(host, a.recv(1) == b"x")
else:
    print(host, "bound")
EOF
listen() {
	"$SOCKSIFY" -f "$1" "$PYTHON" "$SFY_TMP/listen.py" "$2" "$3" \
		"$FTP_PORT" 2>"$SFY_TMP/cmd.err" ||
		fail "listen.py $2 $3: $(cat "$SFY_TMP/cmd.err")"
}
binds() {
	grep -c 'tcp/bind \[' "$DANTED_LOG"
}

before=$(binds)
out=$(listen "$conf" 1 0)
expect_eq "bind auto: port-0 listener after a proxied connect" "$out" \
	"127.0.0.1 bound"
expect_eq "bind auto: BIND requests for the callback" "$(binds)" \
	$((before + 1))

before=$(binds)
fixed=$(free_port)
out=$(listen "$conf" 1 "$fixed")
expect_eq "bind auto: fixed-port server stays local" "$out" "0.0.0.0 True"
out=$(listen "$conf" 0 0)
expect_eq "bind auto: port-0 listener, nothing proxied, stays local" \
	"$out" "0.0.0.0 True"
write_conf "$SFY_TMP/off.conf" "proxy socks5://$proxy" "direct none" \
	"bind off"
out=$(listen "$SFY_TMP/off.conf" 1 0)
expect_eq "bind off: port-0 listener after a proxied connect stays local" \
	"$out" "0.0.0.0 True"
expect_eq "BIND requests for local listeners" "$(binds)" "$before"

# An HTTP proxy last: no BIND to ask for, so no error and a local listener.
write_conf "$SFY_TMP/http.conf" "proxy http://127.0.0.1:$TINY_PORT" \
	"direct none"
out=$(listen "$SFY_TMP/http.conf" 1 0)
expect_eq "bind auto, http proxy: port-0 listener stays local" "$out" \
	"0.0.0.0 True"
[ "$(tiny_connects_to "127.0.0.1:$FTP_PORT")" -ge 1 ] ||
	fail "the control connection did not cross tinyproxy"
sfy_pass
