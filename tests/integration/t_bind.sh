#!/bin/sh
# BIND on loopback, through danted: a program that binds, listens, polls
# and accepts (bindtest), the same with SOCKS4 and without bind(), active
# FTP with curl (EPRT and PORT), 100 BIND cycles with the descriptor count
# checked, and bind off (and loopback under bind on) leaving listeners
# alone. The default, bind auto, is t_bind_auto.sh's.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl
DANTED_BIND=1 start_danted none
start_ftp
proxy=127.0.0.1:$DANTED_PORT

conf=$SFY_TMP/bind5.conf
write_conf "$conf" "proxy socks5://$proxy" "bind on"
expect_bind_once "SOCKS5 BIND, bound listener" "$conf"
expect_bind_once "SOCKS5 BIND, listen() without bind()" "$conf" unbound
conf4=$SFY_TMP/bind4.conf
write_conf "$conf4" "proxy socks4://$proxy" "bind on" "bind_peer zeros"
expect_bind_once "SOCKS4 BIND" "$conf4"

# Active FTP: the control connection goes through danted ("direct none":
# the server is on loopback), the data connection comes back through a
# BIND that names the server (bind_peer last).
ftp=$SFY_TMP/ftp.conf
write_conf "$ftp" "proxy socks5://$proxy" "bind on" "direct none"
url=ftp://127.0.0.1:$FTP_PORT/file.txt
expect_ftp "curl -P - (EPRT)" "$ftp" "$url" -P - --eprt
expect_ftp "curl -P - (PORT)" "$ftp" "$url" -P - --disable-eprt
write_conf "$ftp" "proxy socks4://$proxy" "bind on" "direct none"
expect_ftp "curl -P - over SOCKS4 (PORT)" "$ftp" "$url" -P - --disable-eprt
grep -q "tcp/bind \[: .* 127\.0\.0\.1\.0\$" "$DANTED_LOG" ||
	fail "no BIND request named the FTP server (bind_peer last)"
# What curl advertised is danted's BIND address (pyftpdlib -D logs it).
grep -q '<- EPRT |1|127.0.0.1|[0-9]*|' "$FTP_LOG" || fail "no EPRT seen"
grep -q '<- PORT 127,0,0,1,[0-9]*,[0-9]*' "$FTP_LOG" || fail "no PORT seen"
eprt_port=$(sed -n 's/.*<- EPRT |1|127.0.0.1|\([0-9]*\)|.*/\1/p' "$FTP_LOG" |
	head -n 1)
grep -q "tcp/bind \[: .* -> 127\.0\.0\.1\.$eprt_port " "$DANTED_LOG" ||
	fail "EPRT port $eprt_port is not one danted bound"

# 100 cycles; the peer is bindtest itself, connecting (direct, loopback)
# to the BIND address it was given.
before=$(danted_bindreplies)
out=$("$SOCKSIFY" -f "$conf" "$PROGS/bindtest" cycles 100 2>"$SFY_TMP/cmd.err") ||
	fail "100 BIND cycles: $(cat "$SFY_TMP/cmd.err")"
set -- $out
expect_eq "open descriptors after 100 BIND cycles" "$3" "$2"
after=$(wait_count $((before + 80)) danted_bindreplies)
expect_eq "connections danted passed to a BIND in 100 cycles" "$after" \
	$((before + 80))
say "100 cycles: ok ($2 descriptors before and after)"

# bind off and loopback listeners: untouched, no BIND.
before=$(grep -c 'tcp/bind \[' "$DANTED_LOG")
write_conf "$SFY_TMP/off.conf" "proxy socks5://$proxy" "bind off"
check='
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
s.listen(1)
c = socket.create_connection(("127.0.0.1", s.getsockname()[1]), 5)
a, peer = s.accept()
print(s.getsockname()[0], peer == c.getsockname())'
out=$("$SOCKSIFY" -f "$SFY_TMP/off.conf" "$PYTHON" -c "$check" 127.0.0.1)
expect_eq "bind off: a listener stays local" "$out" "127.0.0.1 True"
out=$("$SOCKSIFY" -f "$SFY_TMP/off.conf" "$PYTHON" -c "$check" 0.0.0.0)
expect_eq "bind off: a wildcard listener stays local" "$out" "0.0.0.0 True"
out=$("$SOCKSIFY" -f "$conf" "$PYTHON" -c "$check" 127.0.0.1)
expect_eq "bind on: a loopback listener stays local" "$out" "127.0.0.1 True"
expect_eq "BIND requests for local listeners" \
	"$(grep -c 'tcp/bind \[' "$DANTED_LOG")" "$before"
sfy_pass
