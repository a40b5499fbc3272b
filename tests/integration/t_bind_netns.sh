#!/bin/sh
# BIND from a network namespace whose only reachable address is danted's
# (198.18.X.1). The remote side (an FTP server, a peer process) is on the
# host's loopback, which the namespace cannot reach: the only way in for the
# remote side is danted's BIND address, and the only way out for the client
# is the connection to danted.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl ip
make_netns
DANTED_BIND=1 start_danted none "$HOST_ADDR"
start_ftp
proxy=socks5h://$HOST_ADDR:$DANTED_PORT
url=ftp://$TARGET_NAME:$FTP_PORT/file.txt

# Without socksify the namespace reaches neither the server nor its name.
in_ns curl -sS --max-time 5 "ftp://127.0.0.1:$FTP_PORT/file.txt" \
	>/dev/null 2>&1 && fail "the namespace reaches the host's loopback"

conf=$SFY_TMP/bind.conf
write_conf "$conf" "proxy $proxy" "bind on"
BIND_IN_NS=1
expect_bind_once "bindtest in the namespace" "$conf"
expect_bind_once "bindtest in the namespace, listen() without bind()" \
	"$conf" unbound
conf4=$SFY_TMP/bind4.conf
write_conf "$conf4" "proxy socks4://$HOST_ADDR:$DANTED_PORT" "bind on"
expect_bind_once "bindtest in the namespace, SOCKS4" "$conf4"

# Active FTP by a name only danted resolves: the BIND names the server
# (bind_peer last), the data connection comes back through danted.
expect_ftp "curl -P - (EPRT) from the namespace" "$conf" "$url" -P - --eprt
expect_ftp "curl -P - (PORT) from the namespace" "$conf" "$url" -P - \
	--disable-eprt
grep -q "tcp/bind \[: .* $TARGET_NAME\.0\$" "$DANTED_LOG" ||
	grep -q "tcp/bind \[: .* 127\.0\.0\.1\.0\$" "$DANTED_LOG" ||
	fail "no BIND request named the FTP server (bind_peer last)"
grep -q '<- EPRT |1|127.0.0.1|[0-9]*|' "$FTP_LOG" || fail "no EPRT seen"
grep -q '<- PORT 127,0,0,1,[0-9]*,[0-9]*' "$FTP_LOG" || fail "no PORT seen"
sfy_pass
