# lib.sh — helpers shared by the integration tests (sourced, POSIX sh + bash
# features avoided where easy; the tests run under /bin/sh or bash).
#
# A test sources this file, calls sfy_init, starts the servers it needs with
# the start_* helpers (each records its PID; danted, which forks children,
# runs in a process group of its own whose PGID is recorded), and ends with
# sfy_pass or a failing assertion. Everything started is killed by PID or
# PGID when the test ends, is interrupted, or dies of SIGHUP or SIGPIPE;
# network namespaces, veth links and throw-away users are removed too.
#
# Network rule: loopback only, or 198.18.0.0/15 inside a namespace the test
# creates itself.

set -u

SFY_TOP=$(cd "$(dirname "$0")/../.." && pwd -P)
SFY_BUILD=${SOCKSIFY_BUILD:-build}
case $SFY_BUILD in
/*) ;;
*) SFY_BUILD=$SFY_TOP/$SFY_BUILD ;;
esac
SOCKSIFY_LIBRARY=${SOCKSIFY_LIBRARY:-$SFY_BUILD/libsocksify.so}
SOCKSIFY_HELPER=${SOCKSIFY_HELPER:-$SFY_BUILD/socksify-helper}
export SOCKSIFY_LIBRARY SOCKSIFY_HELPER
SOCKSIFY=$SFY_TOP/tools/socksify
PROGS=$SFY_BUILD/progs
FAULTSOCKS=$SFY_TOP/tests/integration/faultsocks.py
PYTHON=${PYTHON:-python3}

# Names only the proxy (in its private mount namespace) can resolve.
TARGET_NAME=target.socksify.test
ECHO_NAME=echo.socksify.test

SFY_PIDS=""
SFY_PGIDS=""
SFY_NETNS=""
SFY_LINKS=""
SFY_USERS=""
SFY_TMP=""

# Print a message to stderr, prefixed with the test's name.
say() {
	printf '%s: %s\n' "${SFY_NAME:-test}" "$*" >&2
}

# Fail the test now: show the message and the logs of the servers started.
fail() {
	say "FAIL: $*"
	if [ -n "$SFY_TMP" ] && [ -z "${SFY_QUIET_FAIL:-}" ]; then
		for f in "$SFY_TMP"/*.log; do
			[ -s "$f" ] || continue
			printf -- '--- %s (last 25 lines)\n' "$f" >&2
			tail -n 25 "$f" >&2
		done
	fi
	exit 1
}

# Skip is reserved for tests that cannot apply on this machine; a missing tool
# is a failure (the set-up installs everything).
skip() {
	say "SKIP: $*"
	exit 77
}

sfy_pass() {
	say "ok"
	exit 0
}

# Kill every recorded process group and PID (TERM, then KILL after a
# bounded wait), remove namespaces, links, users and the temp dir.
sfy_cleanup() {
	status=$?
	trap - EXIT INT TERM HUP PIPE
	for pgid in $SFY_PGIDS; do
		stop_group "$pgid"
	done
	for pid in $SFY_PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $SFY_PIDS; do
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 20 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in $SFY_NETNS; do
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	for link in $SFY_LINKS; do
		ip link del "$link" 2>/dev/null
	done
	for u in $SFY_USERS; do
		userdel "$u" 2>/dev/null
	done
	if [ -n "$SFY_TMP" ] && [ -z "${SFY_KEEP:-}" ]; then
		rm -rf "$SFY_TMP"
	fi
	exit "$status"
}

# Set up the test: name, temp dir, traps, and checks that the build exists.
sfy_init() {
	SFY_NAME=$(basename "$0" .sh)
	[ "$(id -u)" = 0 ] || fail "must run as root"
	SFY_TMP=$(mktemp -d "/tmp/sfy-$SFY_NAME.XXXXXX") || fail "mktemp"
	chmod 755 "$SFY_TMP"
	trap sfy_cleanup EXIT
	trap 'exit 130' INT TERM
	trap 'exit 129' HUP
	trap 'exit 141' PIPE
	[ -f "$SOCKSIFY_LIBRARY" ] || fail "no $SOCKSIFY_LIBRARY (run make)"
	[ -x "$SOCKSIFY" ] || fail "no $SOCKSIFY"
	need "$PYTHON"
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
		ALL_PROXY no_proxy NO_PROXY SOCKSIFY_PROXY SOCKSIFY_CONF \
		SOCKSIFY_LOG SOCKSIFY_LOG_FILE
	export XDG_CONFIG_HOME=$SFY_TMP/xdg
}

# need TOOL... — fail when a tool is missing.
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || fail "required tool '$t' missing"
	done
}

# stop_pid PID — stop one server early (it stays in the cleanup list; a
# second kill of a reaped PID is harmless within one short test).
stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Remember a PID for cleanup.
track() {
	SFY_PIDS="$SFY_PIDS $1"
}

# Remember a process group (its leader's PID) for cleanup.
track_group() {
	SFY_PGIDS="$SFY_PGIDS $1"
}

# stop_group PGID — TERM the whole process group, wait (2 s at most) until
# none of it is left, then KILL what is; reaps the leader when it is our
# child. A stopped group is continued so that it can die of the TERM.
stop_group() {
	kill -TERM "-$1" 2>/dev/null || return 0
	kill -CONT "-$1" 2>/dev/null
	n=0
	while group_alive "$1" && [ $n -lt 20 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -KILL "-$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# group_alive PGID — whether a process of the group still runs (zombies,
# such as our own unreaped child, do not count).
group_alive() {
	for st in /proc/[0-9]*/stat; do
		case $(sed -n 's/^.*) \([A-Z]\) [0-9]* \([0-9]*\) .*/\2 \1/p' \
			"$st" 2>/dev/null) in
		"$1 Z" | "$1 X") ;;
		"$1 "*) return 0 ;;
		esac
	done
	return 1
}

# pgid_of PID — the process group of PID (from /proc), or nothing.
pgid_of() {
	sed 's/^.*) [^ ]* [0-9]* \([0-9]*\).*/\1/' "/proc/$1/stat" 2>/dev/null
}

# Print a TCP port that is free on 127.0.0.1 now.
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port HOST PORT [TRIES] — wait until a TCP connect succeeds (100 ms
# steps, 50 tries by default). Runs in the host's namespace, unproxied.
wait_port() {
	"$PYTHON" - "$1" "$2" "${3:-50}" <<'EOF' || fail "nothing listens on $1:$2"
import socket, sys, time
host, port, tries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(tries):
    try:
        socket.create_connection((host, port), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# wait_file FILE [TRIES] — wait until FILE exists and is not empty.
wait_file() {
	n=0
	while [ ! -s "$1" ] && [ $n -lt "${2:-50}" ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$1" ] || fail "$1 never appeared"
}

# The hosts file used inside the proxy's private mount namespace: the only
# place where the test names resolve.
proxy_hosts_file() {
	f=$SFY_TMP/proxy-hosts
	if [ ! -f "$f" ]; then
		cat /etc/hosts >"$f"
		printf '127.0.0.1 %s %s\n' "$TARGET_NAME" "$ECHO_NAME" >>"$f"
	fi
	printf '%s\n' "$f"
}

# start_http [DIR] — serve DIR (default: a fresh dir holding index.html with
# a unique token) on 127.0.0.1. Sets HTTP_PORT, HTTP_TOKEN, HTTP_DIR.
start_http() {
	HTTP_DIR=${1:-$SFY_TMP/www}
	mkdir -p "$HTTP_DIR"
	HTTP_TOKEN=token-$$-$(date +%s%N)
	printf '%s\n' "$HTTP_TOKEN" >"$HTTP_DIR/index.html"
	HTTP_PORT=$(free_port)
	"$PYTHON" -m http.server -b 127.0.0.1 -d "$HTTP_DIR" "$HTTP_PORT" \
		>"$SFY_TMP/http.log" 2>&1 &
	track $!
	wait_port 127.0.0.1 "$HTTP_PORT"
}

# start_echo — a threaded TCP echo server on 127.0.0.1. Sets ECHO_PORT.
start_echo() {
	ECHO_PORT=$(free_port)
	"$PYTHON" - "$ECHO_PORT" >"$SFY_TMP/echo.log" 2>&1 <<'EOF' &
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128
Server(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
EOF
	track $!
	wait_port 127.0.0.1 "$ECHO_PORT"
}

# start_silent [BACKLOG] [KEEP] — a server on 127.0.0.1 that accepts and
# never answers (a proxy that hangs in the handshake, or a sink), in one
# thread. It holds the last KEEP connections (default: all), closing the
# oldest beyond them. Sets SILENT_PORT.
start_silent() {
	SILENT_PORT=$(free_port)
	"$PYTHON" - "$SILENT_PORT" "${1:-128}" "${2:-0}" >"$SFY_TMP/silent.log" 2>&1 <<'EOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(int(sys.argv[2]))
keep = int(sys.argv[3])
held = []
while True:
    held.append(s.accept()[0])
    if keep and len(held) > keep:
        held.pop(0).close()
EOF
	track $!
	wait_port 127.0.0.1 "$SILENT_PORT"
}

# start_danted [none|username] [INTERNAL_ADDR] — danted in a private mount
# namespace whose /etc/hosts knows the test names. Sets DANTED_PORT,
# DANTED_LOG. Clients are allowed from loopback and 198.18.0.0/15. With
# DANTED_BIND=1 it also allows BIND, and the remote side's connections to a
# BIND address (bindreply), from anywhere. DANTED_NAME (default danted)
# names its files in $SFY_TMP (NAME.conf, NAME.log, NAME.pid, NAME.out),
# so that several can run side by side: start one, keep its DANTED_PORT and
# DANTED_LOG, set another name, start the next. It runs in a session and
# process group of its own (setsid; DANTED_PGID, its leader's PID, is the
# group): stop_danted and restart_danted act on the whole group, its
# children included.
start_danted() {
	method=${1:-none}
	internal=${2:-127.0.0.1}
	dname=${DANTED_NAME:-danted}
	DANTED_PORT=$(free_port)
	DANTED_LOG=$SFY_TMP/$dname.log
	conf=$SFY_TMP/$dname.conf
	hosts=$(proxy_hosts_file)
	cat >"$conf" <<EOF
logoutput: $DANTED_LOG
internal: $internal port = $DANTED_PORT
external: 127.0.0.1
clientmethod: none
socksmethod: $method
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 15
timeout.io: 60
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: error
}
client pass {
  from: 198.18.0.0/15 to: 0.0.0.0/0
  log: error
}
socks pass {
  from: 0.0.0.0/0 to: 127.0.0.0/8
  command: connect
  log: connect disconnect error
}
$(danted_bind_rule)
$(danted_udp_rules)
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: connect error
}
EOF
	: >"$DANTED_LOG"
	DANTED_CONF=$conf
	DANTED_INTERNAL=$internal
	launch_danted
}

# launch_danted — (re)start danted with DANTED_CONF on DANTED_INTERNAL:
# DANTED_PORT, in a new session (a background job of a non-interactive
# shell leads no group, so setsid does not fork and $! is the group's
# leader). Sets DANTED_PGID.
launch_danted() {
	dname=${DANTED_NAME:-danted}
	setsid unshare -m sh -c \
		'mount --bind "$1" /etc/hosts && exec danted -f "$2" -p "$3"' \
		danted "$(proxy_hosts_file)" "$DANTED_CONF" \
		"$SFY_TMP/$dname.pid" >>"$SFY_TMP/$dname.out" 2>&1 &
	DANTED_PGID=$!
	track_group "$DANTED_PGID"
	wait_port "$DANTED_INTERNAL" "$DANTED_PORT"
	[ "$(pgid_of "$DANTED_PGID")" = "$DANTED_PGID" ] ||
		fail "danted ($DANTED_PGID) does not lead its process group"
}

# stop_danted [PGID] — stop danted's whole process group (default: the
# last one started).
stop_danted() {
	stop_group "${1:-$DANTED_PGID}"
}

# restart_danted — stop the last danted's group and start it again with the
# same configuration and port (its log goes on).
restart_danted() {
	stop_danted
	launch_danted
}

# The socks rule for BIND (DANTED_BIND=1), or nothing.
danted_bind_rule() {
	[ "${DANTED_BIND:-}" = 1 ] || return 0
	cat <<EOF
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: bind bindreply
  log: connect disconnect error
}
EOF
}

# The socks rules for UDP ASSOCIATE and its replies (DANTED_UDP=1), or
# nothing; each association and each relayed datagram is logged.
danted_udp_rules() {
	[ "${DANTED_UDP:-}" = 1 ] || return 0
	cat <<EOF
socks pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  command: udpassociate
  log: connect disconnect error iooperation
}
socks pass {
  from: 198.18.0.0/15 to: 0.0.0.0/0
  command: udpassociate
  log: connect disconnect error iooperation
}
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: udpreply
  log: connect disconnect error iooperation
}
EOF
}

# danted_count PATTERN — how many danted log lines show a passed connect
# to a destination matching PATTERN (a grep -E regex, e.g. '\.8080$').
danted_count() {
	grep -E 'pass\([0-9]+\): tcp/connect \[' "$DANTED_LOG" |
		grep -cE -- "$1"
}

# danted_connects_to PORT — how many connects danted relayed to port PORT
# (of 127.0.0.1 or of a name it resolved).
danted_connects_to() {
	danted_count "-> [^ ]+ [^ ]+\.$1\$"
}

# danted_bindreplies — how many remote connections danted passed to a BIND
# address (one "tcp/bindreply [" line each).
danted_bindreplies() {
	grep -c 'pass([0-9]*): tcp/bindreply \[' "$DANTED_LOG"
}

# start_ftp — an anonymous, read-only FTP server (pyftpdlib) on 127.0.0.1
# serving a fresh dir with file.txt: a unique token line, then 32 MiB. The
# size matters: through a proxy, a small file's "226 Transfer complete" can
# overtake the BIND's second reply, and curl then gives up (exit 8) before
# it accepts; a file larger than every buffer on the way keeps the server
# busy until the data connection is accepted. Sets FTP_PORT, FTP_TOKEN,
# FTP_SIZE, FTP_LOG.
start_ftp() {
	ftp_python=$PYTHON
	"$ftp_python" -c 'import pyftpdlib' 2>/dev/null || ftp_python=/usr/bin/python3
	"$ftp_python" -c 'import pyftpdlib' 2>/dev/null ||
		fail "python3-pyftpdlib missing (tests/install-deps.sh)"
	ftp_dir=$SFY_TMP/ftp
	mkdir -p "$ftp_dir"
	FTP_TOKEN=ftp-token-$$-$(date +%s%N)
	{
		printf '%s\n' "$FTP_TOKEN"
		head -c 33554432 /dev/zero | tr '\0' x
	} >"$ftp_dir/file.txt"
	FTP_SIZE=$(wc -c <"$ftp_dir/file.txt")
	FTP_PORT=$(free_port)
	FTP_LOG=$SFY_TMP/ftp.log
	"$ftp_python" -m pyftpdlib -D -i 127.0.0.1 -p "$FTP_PORT" -d "$ftp_dir" \
		>"$FTP_LOG" 2>&1 &
	track $!
	wait_port 127.0.0.1 "$FTP_PORT"
}

# bind_peer_run ADDRFILE TOKEN — the remote side of a BIND test: wait for
# ADDRFILE ("IP PORT", written by bindtest), connect there, send TOKEN and
# print the answer. Runs unproxied, in the host's namespace.
bind_peer_run() {
	"$PYTHON" - "$1" "$2" <<'EOF'
import os, socket, sys, time
path, token = sys.argv[1], sys.argv[2]
for _ in range(300):
    if os.path.exists(path):
        break
    time.sleep(0.1)
ip, port = open(path).read().split()
s = socket.create_connection((ip, int(port)), 10)
s.settimeout(20)
s.sendall(token.encode() + b"\n")
answer = s.makefile("rb").readline().decode().strip()
print(s.getsockname()[1], answer)
EOF
}

# expect_bind_once WHAT CONF [unbound] — bindtest listens under socksify
# (inside $NS when BIND_IN_NS=1), bind_peer_run connects from the host to
# the address bindtest's getsockname() reported. The line must cross both
# ways, that address must be danted's BIND address, accept() must name the
# peer as danted saw it, and danted must log one more bindreply.
expect_bind_once() {
	bind_what=$1
	bind_conf=$2
	shift 2
	BIND_N=$((${BIND_N:-0} + 1))
	addr=$SFY_TMP/bind$BIND_N.addr
	token=bind-token-$BIND_N-$(date +%N)
	before=$(danted_bindreplies)
	if [ "${BIND_IN_NS:-}" = 1 ]; then
		in_ns "$SOCKSIFY" -f "$bind_conf" "$PROGS/bindtest" once "$addr" "$@" \
			>"$SFY_TMP/bindtest.out" 2>"$SFY_TMP/bindtest.err" &
	else
		"$SOCKSIFY" -f "$bind_conf" "$PROGS/bindtest" once "$addr" "$@" \
			>"$SFY_TMP/bindtest.out" 2>"$SFY_TMP/bindtest.err" &
	fi
	bind_pid=$!
	track $bind_pid
	got=$(bind_peer_run "$addr" "$token")
	wait $bind_pid
	rc=$?
	[ $rc = 0 ] || fail "$bind_what: bindtest exit $rc: $(cat "$SFY_TMP/bindtest.err")"
	expect_eq "$bind_what: answer through the BIND" "${got#* }" "got $token"
	out=$(cat "$SFY_TMP/bindtest.out")
	expect_contains "$bind_what: data through the BIND" "$out" "line $token"
	expect_contains "$bind_what: accept()'s peer" "$out" "peer 127.0.0.1 ${got%% *}"
	read -r ip port <"$addr"
	grep -q "tcp/bind \[: .* -> $ip\.$port " "$DANTED_LOG" ||
		fail "$bind_what: $ip:$port is not an address danted bound"
	after=$(wait_count $((before + 1)) danted_bindreplies)
	expect_eq "$bind_what: connections danted passed to a BIND" "$after" \
		$((before + 1))
	say "$bind_what: ok (via danted's BIND at $ip:$port)"
}

# expect_ftp WHAT CONF URL CURL_OPTIONS... — curl fetches URL (file.txt of
# start_ftp) in active mode under socksify; the data connection must come
# through a BIND of danted.
expect_ftp() {
	bind_what=$1
	bind_conf=$2
	url=$3
	shift 3
	before=$(danted_bindreplies)
	if [ "${BIND_IN_NS:-}" = 1 ]; then
		in_ns "$SOCKSIFY" -f "$bind_conf" curl -sS --max-time 30 "$@" \
			-o "$SFY_TMP/ftp.out" "$url" 2>"$SFY_TMP/cmd.err"
	else
		"$SOCKSIFY" -f "$bind_conf" curl -sS --max-time 30 "$@" \
			-o "$SFY_TMP/ftp.out" "$url" 2>"$SFY_TMP/cmd.err"
	fi
	rc=$?
	[ $rc = 0 ] || fail "$bind_what: curl exit $rc: $(cat "$SFY_TMP/cmd.err")"
	expect_eq "$bind_what: file" "$(head -n 1 "$SFY_TMP/ftp.out")" "$FTP_TOKEN"
	expect_eq "$bind_what: file size" "$(wc -c <"$SFY_TMP/ftp.out")" \
		"$FTP_SIZE"
	after=$(wait_count $((before + 1)) danted_bindreplies)
	expect_eq "$bind_what: connections danted passed to a BIND" "$after" \
		$((before + 1))
	say "$bind_what: ok (data connection via danted's BIND)"
}

# add_user — a throw-away system user for danted's "username" method.
# Sets SOCKS_USER and SOCKS_PASS; the user is deleted at cleanup.
add_user() {
	need useradd chpasswd userdel
	SOCKS_USER=sfy$$$(date +%N | cut -c1-4)
	SOCKS_PASS=pw-$(date +%N)
	useradd -M -s /usr/sbin/nologin "$SOCKS_USER" ||
		fail "useradd $SOCKS_USER"
	SFY_USERS="$SFY_USERS $SOCKS_USER"
	printf '%s:%s\n' "$SOCKS_USER" "$SOCKS_PASS" | chpasswd ||
		fail "chpasswd"
}

# start_microsocks [USER PASS] — microsocks on 127.0.0.1. Sets MS_PORT.
start_microsocks() {
	need microsocks
	MS_PORT=$(free_port)
	if [ $# -ge 2 ]; then
		microsocks -i 127.0.0.1 -p "$MS_PORT" -u "$1" -P "$2" \
			>"$SFY_TMP/microsocks.log" 2>&1 &
	else
		microsocks -i 127.0.0.1 -p "$MS_PORT" \
			>"$SFY_TMP/microsocks.log" 2>&1 &
	fi
	track $!
	wait_port 127.0.0.1 "$MS_PORT"
}

# start_fault MODE [OPTIONS...] — our fault-injecting SOCKS server. Sets
# FAULT_PORT and FAULT_REC (what it received, one line per request).
start_fault() {
	FAULT_N=$((${FAULT_N:-0} + 1))
	FAULT_REC=$SFY_TMP/fault$FAULT_N.rec
	pf=$SFY_TMP/fault$FAULT_N.port
	: >"$FAULT_REC"
	"$PYTHON" "$FAULTSOCKS" --port-file "$pf" --record "$FAULT_REC" \
		--mode "$@" >"$SFY_TMP/fault$FAULT_N.log" 2>&1 &
	FAULT_PID=$!
	track $FAULT_PID
	wait_file "$pf"
	FAULT_PORT=$(cat "$pf")
}

# write_conf FILE LINES... — a socksify config, one argument per line.
write_conf() {
	f=$1
	shift
	: >"$f"
	for line in "$@"; do
		printf '%s\n' "$line" >>"$f"
	done
	chmod 600 "$f"
}

# expect_eq WHAT GOT WANT
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# expect_contains WHAT TEXT NEEDLE
expect_contains() {
	case $2 in
	*"$3"*) ;;
	*) fail "$1: '$3' not found in: $2" ;;
	esac
}

# expect_gt WHAT GOT MIN — numeric GOT > MIN
expect_gt() {
	[ "$2" -gt "$3" ] 2>/dev/null || fail "$1: got $2, want > $3"
}

# make_netns — a network namespace with a veth pair: the namespace side is
# 198.18.X.2/30, the host side 198.18.X.1/30, no default route (only the host
# side is reachable). Sets NS, NS_IF, HOST_IF, NS_ADDR, HOST_ADDR.
make_netns() {
	need ip
	id=$(($$ % 60000))
	NS=sfy-$$-$(date +%N | cut -c1-4)
	HOST_IF=sfh$id
	NS_IF=sfn$id
	# A /30 no other test uses now (bounded search).
	third=$(($$ % 250 + 1))
	n=0
	while ip -4 addr show | grep -q "inet 198\.18\.$third\." &&
		[ $n -lt 250 ]; do
		third=$((third % 250 + 1))
		n=$((n + 1))
	done
	HOST_ADDR=198.18.$third.1
	NS_ADDR=198.18.$third.2
	ip netns add "$NS" || fail "ip netns add"
	SFY_NETNS="$SFY_NETNS $NS"
	ip link add "$HOST_IF" type veth peer name "$NS_IF" ||
		fail "ip link add veth"
	SFY_LINKS="$SFY_LINKS $HOST_IF"
	ip link set "$NS_IF" netns "$NS" || fail "move veth"
	ip addr add "$HOST_ADDR/30" dev "$HOST_IF" || fail "host addr"
	ip link set "$HOST_IF" up || fail "host link up"
	ip netns exec "$NS" ip addr add "$NS_ADDR/30" dev "$NS_IF" ||
		fail "ns addr"
	ip netns exec "$NS" ip link set "$NS_IF" up || fail "ns link up"
	ip netns exec "$NS" ip link set lo up || fail "ns lo up"
}

# in_ns CMD... — run a command inside the test namespace.
in_ns() {
	ip netns exec "$NS" "$@"
}

# sfy [SOCKSIFY OPTIONS] [--] CMD... — run through the wrapper.
sfy() {
	"$SOCKSIFY" "$@"
}

# wait_count EXPECTED CMD... — wait (up to 3 s) until CMD prints a number
# >= EXPECTED; prints the last number seen.
wait_count() {
	want=$1
	shift
	n=0
	while :; do
		got=$("$@")
		if [ "$got" -ge "$want" ] || [ $n -ge 30 ]; then
			break
		fi
		sleep 0.1
		n=$((n + 1))
	done
	printf '%s\n' "$got"
}

# expect_via_danted WHAT PORT CMD... — CMD must succeed, print HTTP_TOKEN,
# and danted must log one more relayed connect to PORT than before.
expect_via_danted() {
	what=$1
	port=$2
	shift 2
	before=$(danted_connects_to "$port")
	out=$("$@" 2>"$SFY_TMP/cmd.err")
	rc=$?
	[ $rc = 0 ] || fail "$what: exit $rc: $(cat "$SFY_TMP/cmd.err")"
	expect_contains "$what: output" "$out" "$HTTP_TOKEN"
	after=$(wait_count $((before + 1)) danted_connects_to "$port")
	expect_eq "$what: connects danted relayed to port $port" \
		"$after" $((before + 1))
	say "$what: ok (via danted)"
}

# --- UDP (issue 3) ---------------------------------------------------------

UDPECHO=$SFY_TOP/tests/integration/udpecho.py
DNSRESPONDER=$SFY_TOP/tests/integration/dnsresponder.py

# start_danted_udp [INTERNAL_ADDR [none|username]] — danted that also
# relays UDP: UDP ASSOCIATE from loopback and 198.18.0.0/15 clients, and the
# replies back. Each association and each relayed datagram is logged.
# Sets DANTED_PORT, DANTED_LOG.
start_danted_udp() {
	DANTED_UDP=1
	start_danted "${2:-none}" "${1:-127.0.0.1}"
	DANTED_UDP=
}

# danted_udp_lines PATTERN — how many danted log lines about UDP match
# PATTERN (a grep -E regex).
danted_udp_lines() {
	grep -E 'udp' "$DANTED_LOG" | grep -cE -- "$1"
}

# start_udp_echo [LISTEN_ADDR] [udpecho options] — our UDP echo server.
# Sets UECHO_PORT, UECHO_REC (one line per datagram: "from IP:PORT len=N")
# and UECHO_PID.
start_udp_echo() {
	UECHO_N=$((${UECHO_N:-0} + 1))
	UECHO_REC=$SFY_TMP/uecho$UECHO_N.rec
	pf=$SFY_TMP/uecho$UECHO_N.port
	: >"$UECHO_REC"
	addr=${1:-127.0.0.1}
	[ $# -gt 0 ] && shift
	"$PYTHON" "$UDPECHO" --listen "$addr" --port-file "$pf" \
		--record "$UECHO_REC" "$@" >"$SFY_TMP/uecho$UECHO_N.log" 2>&1 &
	UECHO_PID=$!
	track $UECHO_PID
	wait_file "$pf"
	UECHO_PORT=$(cat "$pf")
}

# start_dns [ANSWER [ADDR [PORT]]] — the DNS responder on ADDR (default
# 127.0.0.1) at PORT (default any free one): every A query gets ANSWER
# (default 198.18.99.7). Sets DNS_PORT, DNS_REC, DNS_ANSWER.
start_dns() {
	DNS_ANSWER=${1:-198.18.99.7}
	DNS_REC=$SFY_TMP/dns.rec
	pf=$SFY_TMP/dns.port
	: >"$DNS_REC"
	"$PYTHON" "$DNSRESPONDER" --port-file "$pf" --record "$DNS_REC" \
		--answer "$DNS_ANSWER" --listen "${2:-127.0.0.1}" \
		--port "${3:-0}" >"$SFY_TMP/dns.log" 2>&1 &
	track $!
	wait_file "$pf"
	DNS_PORT=$(cat "$pf")
}

# uecho_count — datagrams the UDP echo server has received so far.
uecho_count() {
	wc -l <"$UECHO_REC" | tr -d ' '
}

# danted_udp_to PORT — how many datagrams danted relayed from a client to
# port PORT (one log line each: "udp/udpassociate -: ... -> EXT DEST.PORT").
danted_udp_to() {
	grep -cE -- "udp/udpassociate -: .* -> [^ ]+ [^ ]+\.$1 \(" "$DANTED_LOG"
}

# danted_udp_sessions — how many UDP associations danted has begun.
danted_udp_sessions() {
	grep -c 'udp/udpassociate \[:' "$DANTED_LOG"
}

# expect_peers_danted WHAT RECORD SKIP PORT — every datagram in RECORD
# (a udpecho.py or dnsresponder.py record) after its first SKIP lines must
# have come from a socket danted used to relay to PORT (on any loopback
# address), and there must be at
# least one such datagram: the server never saw the client itself.
expect_peers_danted() {
	peers=$(tail -n +"$(($3 + 1))" "$2" |
		sed -n 's/.*from[= ]\([0-9.]*:[0-9]*\).*/\1/p' | sort -u)
	[ -n "$peers" ] || fail "$1: the server received nothing"
	for p in $peers; do
		grep -qE -- "-> ${p%:*}\.${p##*:} [0-9.]+\.$4 \(" \
			"$DANTED_LOG" ||
			fail "$1: the server got a datagram from $p, which is" \
				"not a socket danted relayed from"
	done
}

# expect_udp_via_danted WHAT MIN CMD... — CMD must succeed (its output is
# left in UDP_OUT), danted must have relayed at least MIN more datagrams to
# the UDP echo server, and every datagram the echo server got meanwhile must
# have come from danted.
expect_udp_via_danted() {
	what=$1
	min=$2
	shift 2
	rec_before=$(uecho_count)
	before=$(danted_udp_to "$UECHO_PORT")
	UDP_OUT=$("$@" 2>"$SFY_TMP/cmd.err")
	rc=$?
	[ $rc = 0 ] || fail "$what: exit $rc: $UDP_OUT $(cat "$SFY_TMP/cmd.err")"
	after=$(wait_count $((before + min)) danted_udp_to "$UECHO_PORT")
	[ "$after" -ge $((before + min)) ] ||
		fail "$what: danted relayed $((after - before)) datagrams to" \
			"the echo server, want >= $min; output: $UDP_OUT"
	expect_peers_danted "$what" "$UECHO_REC" "$rec_before" "$UECHO_PORT"
	say "$what: ok ($((after - before)) datagrams via danted)"
}
