#!/bin/sh
# GSS-API (RFC 1961) against our fault server's "gssapi" mode, with the fake
# GSS-API library (tests/integration/fakegss/) loaded in place of
# libgssapi_krb5.so.2 through SOCKSIFY_GSSAPI_LIBRARY: the framing, one and
# three context rounds, CONNECT, UDP ASSOCIATE and BIND, the protection
# level, the service name, -x with SOCKSIFY_GSSAPI, a proxy that aborts,
# truncates, answers another level or a bad frame, no ticket, a missing
# library, levels refused before a byte is sent, the library's own "KDC"
# lookup and connection reaching libc unproxied, a static program under
# the seccomp supervisor, and the doctor's lines. Fast (no Kerberos); the
# real one is t_gssapi.sh.
. "$(dirname "$0")/lib.sh"
sfy_init
[ -x "$PROGS/connect_errno" ] || fail "no $PROGS/connect_errno (run make)"
FAKEGSS=$SFY_BUILD/fakegss/libfakegss.so
[ -f "$FAKEGSS" ] || fail "no $FAKEGSS (run make)"
export SOCKSIFY_GSSAPI_LIBRARY="$FAKEGSS"
DEST=127.0.0.1
DEST_PORT=4321
conf=$SFY_TMP/gss.conf

# run WANT [connect_errno options] — one run through socksify; the first
# line of its output must be WANT.
run() {
	want=$1
	shift
	out=$(timeout 20 "$SOCKSIFY" -f "$conf" "$PROGS/connect_errno" "$@" \
		"$DEST" "$DEST_PORT" 2>"$SFY_TMP/run.err")
	first=$(printf '%s\n' "$out" | head -n 1)
	[ "$first" = "$want" ] || fail "$CASE $*: got '$out', want '$want';" \
		"stderr: $(cat "$SFY_TMP/run.err")"
}

# gss_proxy [WORDS] — config for the fault server (already started).
gss_proxy() {
	write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT gssapi $*" \
		"direct none" "handshake_timeout 2s" "log_level warn"
}

recorded() {
	grep -c "$1" "$FAULT_REC"
}

# --- success, blocking and non-blocking ------------------------------------
CASE=clear
start_fault gssapi
gss_proxy
run OK -s ping-gss
expect_contains "$CASE echo" "$out" "ECHO ping-gss"
run OK -n -s ping-gss-nb
expect_contains "$CASE echo, non-blocking" "$out" "ECHO ping-gss-nb"
expect_eq "$CASE greetings" "$(recorded 'greeting methods=01$')" 2
expect_eq "$CASE tokens" \
	"$(recorded 'gssapi token=FAKE-AP-REQ:rcmd@127.0.0.1$')" 2
expect_eq "$CASE protection" "$(recorded 'gssapi protection=0$')" 2
expect_eq "$CASE requests" "$(recorded "request .*port=$DEST_PORT")" 2
say "gssapi clear: tokens, protection level and request (both paths)"

# The service name, and credentials in the URL offering both methods.
CASE=service
write_conf "$conf" \
	"proxy socks5h://u:p@127.0.0.1:$FAULT_PORT gssapi gssapi-service=socks" \
	"direct none" "log_level warn"
run OK -s svc
expect_eq "$CASE token" \
	"$(recorded 'gssapi token=FAKE-AP-REQ:socks@127.0.0.1$')" 1
expect_eq "$CASE greeting" "$(recorded 'greeting methods=01,02$')" 1
say "gssapi-service=socks asks for socks@127.0.0.1; user:pass adds 0x02"

# -x with the environment.
CASE=env
write_conf "$conf" "direct none" "log_level warn"
out=$(SOCKSIFY_GSSAPI=1 SOCKSIFY_GSSAPI_SERVICE=HTTP \
	SOCKSIFY_GSSAPI_PROTECTION=clear timeout 20 "$SOCKSIFY" -f "$conf" \
	-x "socks5h://127.0.0.1:$FAULT_PORT" "$PROGS/connect_errno" -s env \
	"$DEST" "$DEST_PORT" 2>"$SFY_TMP/run.err")
expect_contains "$CASE" "$out" "ECHO env"
expect_eq "$CASE token" "$(recorded 'token=FAKE-AP-REQ:HTTP@127.0.0.1$')" 1
say "-x with SOCKSIFY_GSSAPI=1 and SOCKSIFY_GSSAPI_SERVICE"
stop_pid "$FAULT_PID"

# Three context rounds.
CASE=rounds
start_fault gssapi --gss-rounds 3
gss_proxy
run OK -s three
expect_eq "$CASE token 3" "$(recorded 'token=FAKE-AP-REQ-2:rcmd@')" 1
expect_eq "$CASE protection" "$(recorded 'gssapi protection=0$')" 1
stop_pid "$FAULT_PID"
say "three context rounds"

# The library's own name lookup and connection ("KDC") bypass socksify:
# with "direct none" and remote DNS they would otherwise be proxied too.
CASE=kdc
start_echo
start_fault gssapi
gss_proxy
FAKEGSS_KDC=localhost:$ECHO_PORT run OK -s kdc
expect_eq "$CASE greetings" "$(recorded 'greeting')" 1
stop_pid "$FAULT_PID"
say "the GSS-API library's lookups and connections go to libc"

# UDP ASSOCIATE: the control connection authenticates with GSS-API, then
# datagrams go through the relay.
CASE=udp
start_fault gssapi
gss_proxy
out=$(timeout 20 "$SOCKSIFY" -f "$conf" "$PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"gss-datagram", ("127.0.0.1", 4321))
print(s.recvfrom(100)[0].decode())' 2>"$SFY_TMP/run.err")
expect_eq "$CASE echo" "$out" gss-datagram
expect_eq "$CASE protection" "$(recorded 'gssapi protection=0$')" 1
expect_eq "$CASE associate" "$(recorded 'request .*cmd=3')" 1
expect_eq "$CASE relayed" "$(recorded 'udp relay .*port=4321 len=12')" 1
stop_pid "$FAULT_PID"
say "UDP ASSOCIATE over a GSS-API control connection"

# BIND: the hidden control connection authenticates with GSS-API, then the
# proxy's two replies and the peer's line arrive through it.
CASE=bind
start_fault gssapi --delay 0.1
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT gssapi" \
	"direct none" "bind on" "log_level warn"
out=$(timeout 20 "$SOCKSIFY" -f "$conf" "$PROGS/bindtest" once \
	"$SFY_TMP/bind.addr" 2>"$SFY_TMP/run.err") ||
	fail "$CASE: bindtest failed: $out $(cat "$SFY_TMP/run.err")"
expect_eq "$CASE peer" "$out" "peer 0.0.0.0 5555
line bindname-hello"
expect_eq "$CASE protection" "$(recorded 'gssapi protection=0$')" 1
expect_eq "$CASE request" "$(recorded 'request .*cmd=2')" 1
stop_pid "$FAULT_PID"
say "BIND over a GSS-API control connection"

# A static program: the seccomp supervisor runs the same handshake.
STATIC=$SFY_BUILD/progs_static/staticnet
supervised=0
if [ -x "$STATIC" ]; then
	"$SOCKSIFY_HELPER" preflight "$STATIC" >/dev/null 2>&1
	[ $? = 4 ] && supervised=1 # 4: it runs under the supervisor
fi
if [ $supervised = 1 ]; then
	CASE=static
	start_fault gssapi
	gss_proxy
	out=$(timeout 20 "$SOCKSIFY" -q -f "$conf" "$STATIC" errno "$DEST" \
		"$DEST_PORT" 2>"$SFY_TMP/run.err")
	expect_eq "$CASE" "$out" ok
	expect_eq "$CASE protection" "$(recorded 'gssapi protection=0$')" 1
	stop_pid "$FAULT_PID"
	say "a static program under the supervisor"
else
	say "no supervisor here: static case skipped"
fi

# The doctor names the method, and says what to do without a ticket.
CASE=doctor
start_fault gssapi
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT gssapi"
out=$(timeout 30 "$SOCKSIFY" doctor -f "$conf" --target "$DEST:$DEST_PORT" \
	2>&1)
expect_contains "$CASE" "$out" "methods: GSS-API offered and accepted"
out=$(FAKEGSS_NO_CRED=1 timeout 30 "$SOCKSIFY" doctor -f "$conf" \
	--target "$DEST:$DEST_PORT" 2>&1)
expect_contains "$CASE, no ticket" "$out" \
	"gssapi: no Kerberos ticket for the GSS-API proxy (run kinit) (asked for rcmd@127.0.0.1); fix: get a Kerberos ticket with kinit"
stop_pid "$FAULT_PID"
say "doctor: the methods line, and kinit without a ticket"

# --- failures ---------------------------------------------------------------
# gss_fail WANT FAULT-OPTIONS — blocking and non-blocking.
gss_fail() {
	want=$1
	shift
	CASE="$*"
	start_fault gssapi "$@"
	gss_proxy
	run "$want"
	run "$want" -n
	stop_pid "$FAULT_PID"
	say "proxy $*: $want"
}
gss_fail EACCES --gss abort
gss_fail EACCES --gss abortprot
gss_fail EPROTONOSUPPORT --gss level1
gss_fail ECONNRESET --gss truncate
gss_fail EPROTO --gss badver

# No ticket: EACCES, and a log line naming kinit.
CASE=nocred
start_fault gssapi
gss_proxy
FAKEGSS_NO_CRED=1 run EACCES
expect_contains "$CASE log" "$(cat "$SFY_TMP/run.err")" "kinit"
expect_eq "$CASE tokens" "$(recorded 'gssapi token')" 0
say "no ticket: EACCES, log names kinit"

# No library: ENOPKG, naming the Debian package.
CASE=nolib
SOCKSIFY_GSSAPI_LIBRARY=$SFY_TMP/none.so run ENOPKG
expect_contains "$CASE log" "$(cat "$SFY_TMP/run.err")" "libgssapi-krb5-2"
say "missing library: ENOPKG, log names libgssapi-krb5-2"

# Integrity and confidentiality: refused before a byte is sent.
for level in integrity confidentiality; do
	CASE=$level
	: >"$FAULT_REC"
	gss_proxy "gssapi-protection=$level"
	run EPROTONOSUPPORT
	expect_contains "$CASE log" "$(cat "$SFY_TMP/run.err")" "not supported"
	expect_eq "$CASE bytes" "$(recorded greeting)" 0
done
say "integrity/confidentiality: EPROTONOSUPPORT before any byte"

sfy_pass
