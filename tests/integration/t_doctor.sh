#!/bin/sh
# socksify doctor: every check against real proxies, the verdicts and the
# exit status. danted with BIND and UDP allowed (every check passes: TCP,
# methods, CONNECT by address and by name, a UDP datagram round trip to
# an echo service, BIND, pipelining, the leak self-test); microsocks (no
# UDP relay, no BIND, no pipelining: exit 1 while the config sends UDP
# through it, 0 with "udp block"); "udp block" and "udp direct" skip the
# UDP check (no association, no datagram); a dead port (refused, with the fix); a
# port that accepts but never answers (the handshake fails); a
# wrong password (auth fails) and the right one, for SOCKS5 and for an
# HTTP proxy (tinyproxy: 401); --json parses and agrees
# with the exit status; a chain of two (each hop, and a CONNECT through
# both); the leak test failing when the library hooks nothing; a doctor
# started under the library (it leaves it); a config
# error names FILE:LINE; and the library's log line for a refused proxy
# points at `socksify doctor`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_http.sh"
sfy_init
need danted microsocks tinyproxy

# doctor OUTFILE ARGS... — run the doctor, keep its output, print status.
doctor() {
	out=$1
	shift
	"$SOCKSIFY" doctor "$@" >"$out" 2>"$out.err"
	echo $?
}

# line FILE VERDICT CHECK — the output has "VERDICT URL: CHECK:" once.
line() {
	grep -qE "^$2 +[^ ]+: $3: " "$1" ||
		fail "no '$2 ... $3' line in: $(cat "$1")"
}

json_ok() {
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["checks"], list) and d["checks"], "no checks"
for c in d["checks"]:
    assert c["verdict"] in ("pass", "fail", "warn", "skip"), c
print("true" if d["ok"] else "false")' "$1" || fail "doctor --json: not JSON: $(cat "$1")"
}

start_echo
# A UDP echo service on the same port as the TCP one: the datagram round
# trip goes to the target too.
start_udp_echo 127.0.0.1 --port "$ECHO_PORT"
target=localhost:$ECHO_PORT

# danted with everything allowed: all pass.
DANTED_BIND=1 DANTED_UDP=1 start_danted
url=socks5h://127.0.0.1:$DANTED_PORT
rc=$(doctor "$SFY_TMP/danted.out" -x "$url" --target "$target")
expect_eq "doctor against danted: exit status ($(cat "$SFY_TMP/danted.out"))" \
	"$rc" 0
for check in tcp methods connect-address connect-name bind pipelining \
	leak-test; do
	line "$SFY_TMP/danted.out" ok "$check"
done
grep -q "^ok .*: udp: .*came back" "$SFY_TMP/danted.out" ||
	fail "no UDP round trip through danted: $(cat "$SFY_TMP/danted.out")"
if grep -qE '^(FAIL|warn) ' "$SFY_TMP/danted.out"; then
	fail "danted: a check did not pass: $(cat "$SFY_TMP/danted.out")"
fi
# The CONNECTs crossed danted (by address and by name).
expect_gt "danted connects to the echo port" \
	"$(danted_connects_to "$ECHO_PORT")" 1
[ -s "$UECHO_REC" ] || fail "the UDP echo service saw no datagram"
rc=$(doctor "$SFY_TMP/danted.json" -x "$url" --target "$target" --json)
expect_eq "doctor --json against danted" "$rc" 0
expect_eq "danted JSON ok" "$(json_ok "$SFY_TMP/danted.json")" true
say "danted: all pass"

# "udp block" (or "udp direct") in the config: UDP never goes through the
# proxy, so the doctor neither asks for an association nor waits for a
# datagram; the udp line says why it was not checked.
for mode in block direct; do
	conf=$SFY_TMP/udp-$mode.conf
	write_conf "$conf" "proxy $url" "udp $mode"
	sessions=$(danted_udp_sessions)
	echoes=$(uecho_count)
	rc=$(doctor "$SFY_TMP/udp-$mode.out" -f "$conf" --target "$target")
	expect_eq "doctor, danted with udp $mode: exit status" "$rc" 0
	grep -q "^skip .*: udp: .*'udp $mode'" "$SFY_TMP/udp-$mode.out" ||
		fail "udp $mode: no skipped udp line: $(cat "$SFY_TMP/udp-$mode.out")"
	expect_eq "udp $mode: UDP associations at danted" \
		"$(danted_udp_sessions)" "$sessions"
	expect_eq "udp $mode: datagrams at the echo service" \
		"$(uecho_count)" "$echoes"
done
say "udp block, udp direct: the UDP check is skipped"

# microsocks: CONNECT only.
start_microsocks
url=socks5h://127.0.0.1:$MS_PORT
rc=$(doctor "$SFY_TMP/ms.out" -x "$url" --target "$target")
expect_eq "doctor against microsocks: exit status" "$rc" 1
line "$SFY_TMP/ms.out" ok connect-address
line "$SFY_TMP/ms.out" ok connect-name
line "$SFY_TMP/ms.out" FAIL udp
line "$SFY_TMP/ms.out" warn bind
line "$SFY_TMP/ms.out" warn pipelining
grep -q "^FAIL .*: udp: .*fix: .*udp block" "$SFY_TMP/ms.out" ||
	fail "microsocks: the UDP failure names no fix"
# With UDP blocked in the config, nothing needed is missing.
conf=$SFY_TMP/ms.conf
write_conf "$conf" "proxy $url" "udp block"
rc=$(doctor "$SFY_TMP/ms2.out" -f "$conf" --target "$target" --json)
expect_eq "doctor, microsocks with udp block: exit status" "$rc" 0
expect_eq "microsocks JSON ok" "$(json_ok "$SFY_TMP/ms2.out")" true
say "microsocks: no UDP, no BIND, no pipelining"

# A dead port.
dead=$(free_port)
rc=$(doctor "$SFY_TMP/dead.out" -x "socks5h://127.0.0.1:$dead")
expect_eq "doctor against a dead port: exit status" "$rc" 1
grep -q "^FAIL .*: tcp: cannot connect: Connection refused; fix: .*start the proxy" \
	"$SFY_TMP/dead.out" || fail "dead port: $(cat "$SFY_TMP/dead.out")"
rc=$(doctor "$SFY_TMP/dead.json" -x "socks5h://127.0.0.1:$dead" --json)
expect_eq "doctor --json, dead port" "$rc" 1
expect_eq "dead port JSON ok" "$(json_ok "$SFY_TMP/dead.json")" false
# The library's own log line for the same refusal points at the doctor.
"$SOCKSIFY" -x "socks5h://127.0.0.1:$dead" "$PYTHON" -c '
import socket
try:
    socket.create_connection(("198.18.0.9", 80), 5)
except OSError:
    pass' 2>"$SFY_TMP/refused.err"
expect_contains "library log for a refused proxy" \
	"$(cat "$SFY_TMP/refused.err")" "check with: socksify doctor"
say "dead port: refused, with the fix"

# A port that accepts connections but never answers: one failed
# "handshake" line (nothing claimed about methods or credentials).
silent_pf=$SFY_TMP/silent.port
"$PYTHON" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)' "$silent_pf" &
track $!
wait_file "$silent_pf"
conf=$SFY_TMP/silent.conf
write_conf "$conf" "proxy socks5h://u:p@127.0.0.1:$(cat "$silent_pf")" \
	"handshake_timeout 1"
rc=$(doctor "$SFY_TMP/silent.out" -f "$conf")
expect_eq "doctor against a silent port: exit status" "$rc" 1
line "$SFY_TMP/silent.out" ok tcp
line "$SFY_TMP/silent.out" FAIL handshake
if grep -qE ': (methods|auth): ' "$SFY_TMP/silent.out"; then
	fail "silent port: methods or auth judged: $(cat "$SFY_TMP/silent.out")"
fi
say "silent port: the handshake fails, nothing else is claimed"

# A wrong password, then the right one.
start_microsocks doctor right-pass
url=socks5h://doctor:wrong-pass@127.0.0.1:$MS_PORT
rc=$(doctor "$SFY_TMP/pw.out" -x "$url" --target "$target")
expect_eq "doctor with a wrong password: exit status" "$rc" 1
grep -q "^FAIL .*: auth: .*rejected.*fix: .*password" "$SFY_TMP/pw.out" ||
	fail "wrong password: $(cat "$SFY_TMP/pw.out")"
if grep -q "wrong-pass" "$SFY_TMP/pw.out" "$SFY_TMP/pw.out.err"; then
	fail "the doctor printed the password"
fi
url=socks5h://doctor:right-pass@127.0.0.1:$MS_PORT
doctor "$SFY_TMP/pw2.out" -x "$url" --target "$target" >/dev/null
line "$SFY_TMP/pw2.out" ok auth
line "$SFY_TMP/pw2.out" ok connect-address
say "password: wrong one refused, right one accepted"

# An HTTP CONNECT proxy (tinyproxy, Basic authentication): no UDP, BIND or
# pipelining to check; a wrong password is a 401 (tinyproxy) or 407, the
# right one passes.
start_tinyproxy doctor right-pass
rc=$(doctor "$SFY_TMP/http.out" \
	-x "http://doctor:wrong-pass@127.0.0.1:$TINY_PORT" --target "$target")
expect_eq "doctor, HTTP proxy, wrong password: exit status" "$rc" 1
grep -q "^FAIL .*: auth: .*40[17].*fix: .*password" "$SFY_TMP/http.out" ||
	fail "HTTP wrong password: $(cat "$SFY_TMP/http.out")"
rc=$(doctor "$SFY_TMP/http2.out" \
	-x "http://doctor:right-pass@127.0.0.1:$TINY_PORT" --target "$target")
expect_eq "doctor, HTTP proxy: exit status ($(cat "$SFY_TMP/http2.out"))" \
	"$rc" 0
for check in auth connect-address connect-name; do
	line "$SFY_TMP/http2.out" ok "$check"
done
for check in udp bind pipelining; do
	line "$SFY_TMP/http2.out" skip "$check"
done
say "HTTP CONNECT: a wrong password refused, the rest passes"

# A chain of two proxies (danted, then microsocks): each hop's lines and
# one CONNECT through both.
conf=$SFY_TMP/chain.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" \
	"proxy socks5h://doctor:right-pass@127.0.0.1:$MS_PORT" "udp block"
rc=$(doctor "$SFY_TMP/chain.out" -f "$conf" --target "$target")
expect_eq "doctor, a chain: exit status ($(cat "$SFY_TMP/chain.out"))" \
	"$rc" 0
grep -q "^ok   chain default: connect-chain: CONNECT through all 2 hops" \
	"$SFY_TMP/chain.out" || fail "chain: $(cat "$SFY_TMP/chain.out")"
expect_eq "chain: tcp lines, one per hop" \
	"$(grep -c '^ok .*: tcp: reachable' "$SFY_TMP/chain.out")" 2
say "chain: each hop and the whole chain"

# The leak test fails when the library does not carry the program: a
# library that hooks nothing (libc itself) in its place.
libc=$(ldd /bin/true | awk '/libc\.so/ { print $3 }')
[ -f "$libc" ] || fail "cannot find libc.so for the leak test's control"
rc=$(SOCKSIFY_LIBRARY=$libc doctor "$SFY_TMP/noleak.out" \
	-x "socks5h://127.0.0.1:$DANTED_PORT")
expect_eq "doctor with a library that does not hook: exit status" "$rc" 1
line "$SFY_TMP/noleak.out" FAIL leak-test
say "leak test: fails without the library"

# Run from a socksified shell (the library preloaded, logging every
# decision): the doctor leaves the library before its first connect, so
# the library logs nothing (the leak test's child logs errors only).
rc=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_LOG=debug \
	doctor "$SFY_TMP/preloaded.out" -x "socks5h://127.0.0.1:$DANTED_PORT")
expect_eq "doctor under the library: exit status ($(cat "$SFY_TMP/preloaded.out"))" \
	"$rc" 0
line "$SFY_TMP/preloaded.out" ok tcp
if grep -q 'socksify\[' "$SFY_TMP/preloaded.out.err"; then
	fail "the doctor ran under the library: $(cat "$SFY_TMP/preloaded.out.err")"
fi
say "socksified shell: the doctor checks directly"

# A configuration error: FILE:LINE, exit 1, JSON too.
bad=$SFY_TMP/bad.conf
write_conf "$bad" "proxy $url" "no_such_key 1"
rc=$(doctor "$SFY_TMP/bad.out" -f "$bad")
expect_eq "doctor with a bad config: exit status" "$rc" 1
expect_contains "config error" "$(cat "$SFY_TMP/bad.out")" "bad.conf:2:"
doctor "$SFY_TMP/bad.json" -f "$bad" --json >/dev/null
"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is False and "bad.conf:2:" in d["config_error"]' \
	"$SFY_TMP/bad.json" || fail "config error JSON: $(cat "$SFY_TMP/bad.json")"
say "config error: FILE:LINE"

sfy_pass
