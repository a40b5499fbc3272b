#!/bin/bash
# run.sh — `make bench`: socksify side by side with the peers
# (proxychains4, torsocks, Dante's socksify) and with a client that speaks
# SOCKS5 itself (the floor). See tests/bench/README.md for what each case
# measures.
#
# Environment: B (build dir, default build; make passes it), BENCH_ROUNDS
# (rounds of alternation, default 5), BENCH_DELAY_MS (one-way delay of the
# relay, default 20), BENCH_BULK_MIB (case 9's download, default 256),
# BENCH_OUT (result file; default
# tests/bench/results/YYYY-MM-DD-HOST.md), BENCH_CASES (e.g. "1 3", default
# all), BENCH_KEEP=1 (keep the temp dir).
#
# Everything runs inside two network namespaces this script creates: the
# clients and proxies on loopback and 198.18.0.2, the targets (in the second
# one) on 198.18.0.1, joined by a veth pair; nothing else is reachable. Every server started
# is killed by its recorded PID; the namespace, the throw-away user and the
# temp dir are removed at exit.

set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd -P)
HERE=$TOP/tests/bench
BUILD=${B:-build}
case $BUILD in
/*) ;;
*) BUILD=$TOP/$BUILD ;;
esac
ROUNDS=${BENCH_ROUNDS:-5}
DELAY_MS=${BENCH_DELAY_MS:-20}
CASES=${BENCH_CASES:-1 2 3 4 5 6 7 8 9}
BULK_MIB=${BENCH_BULK_MIB:-256}
TARGET=198.18.1.1
PROXY_OUT=198.18.0.3
# Case 8's dead proxy: packets to it leave on the veth to a MAC nobody has.
BLACKHOLE=198.18.2.1

say() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

# ---- outside: create the namespace and run this script inside it ----

if [ "${BENCH_INSIDE:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || die "must run as root (network namespace, danted)"
	command -v ip >/dev/null || die "iproute2 (ip) is needed"
	[ -f "$BUILD/libsocksify.so" ] || die "no $BUILD/libsocksify.so (run make)"
	NS=sfybench-$$
	SRV_NS=sfybench-$$-srv
	trap 'ip netns del "$NS" 2>/dev/null; ip netns del "$SRV_NS" 2>/dev/null' EXIT
	trap 'exit 130' INT TERM
	# Two namespaces joined by a veth pair: the clients and proxies in
	# $NS (198.18.0.2, and 198.18.0.3 for danted's outgoing side), the
	# targets in $SRV_NS ($TARGET). Host routes only: Dante's client
	# sends local addresses and the networks of local interfaces direct,
	# so the targets must be in neither.
	ip netns add "$NS" && ip netns add "$SRV_NS" &&
		ip -n "$NS" link add sfyb0 type veth peer name sfyb1 netns "$SRV_NS" &&
		ip -n "$NS" addr add 198.18.0.2/32 dev sfyb0 &&
		ip -n "$NS" addr add "$PROXY_OUT/32" dev sfyb0 &&
		ip -n "$SRV_NS" addr add "$TARGET/32" dev sfyb1 &&
		ip -n "$NS" link set sfyb0 up && ip -n "$SRV_NS" link set sfyb1 up &&
		ip -n "$NS" link set lo up && ip -n "$SRV_NS" link set lo up &&
		ip -n "$NS" route add "$TARGET/32" dev sfyb0 src 198.18.0.2 &&
		ip -n "$SRV_NS" route add 198.18.0.0/24 dev sfyb1 &&
		ip -n "$NS" route add "$BLACKHOLE/32" dev sfyb0 &&
		ip -n "$NS" neigh add "$BLACKHOLE" lladdr 02:00:00:00:00:01 \
			dev sfyb0 ||
		die "cannot create the network namespaces"
	BENCH_INSIDE=1 SRV_NS=$SRV_NS B=$BUILD ip netns exec "$NS" bash "$0" "$@"
	exit $?
fi

# ---- inside the namespace ----

PIDS=""
BENCH_USER=""
TMP=$(mktemp -d /tmp/sfy-bench.XXXXXX) || die mktemp
chmod 755 "$TMP"

cleanup() {
	status=$?
	trap - EXIT INT TERM
	for pid in $PIDS; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $PIDS; do
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 20 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "$BENCH_USER" ] && userdel "$BENCH_USER" 2>/dev/null
	[ -z "${BENCH_KEEP:-}" ] && rm -rf "$TMP"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

track() {
	PIDS="$PIDS $1"
}

# wait_file FILE — wait (5 s at most) until FILE is not empty.
wait_file() {
	n=0
	while [ ! -s "$1" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$1" ] || die "$1 never appeared"
}

# wait_tcp PORT — wait (5 s at most) until 127.0.0.1:PORT accepts.
wait_tcp() {
	n=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		[ $n -lt 50 ] || die "nothing listens on 127.0.0.1:$1"
		sleep 0.1
		n=$((n + 1))
	done
}

free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

setup_net() {
	# Thousands of short connections: widen the port range, reuse
	# TIME_WAIT ports (both per namespace).
	sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
	sysctl -qw net.ipv4.tcp_tw_reuse=1
	# No TIME_WAIT sockets at all: thousands of them to one destination
	# make each later connect() search for a free port in the kernel, so
	# whichever contender ran later would be charged more system time.
	sysctl -qw net.ipv4.tcp_max_tw_buckets=0
	ip netns exec "$SRV_NS" sysctl -qw net.ipv4.tcp_max_tw_buckets=0
}

build_tools() {
	cc=${CC:-cc}
	flags="-std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow"
	flags="$flags -Wstrict-prototypes -Wmissing-prototypes"
	BIN=$TMP/bin
	mkdir -p "$BIN"
	$cc $flags -o "$BIN/relay" "$HERE/relay.c" &&
		$cc $flags -o "$BIN/benchsrv" "$HERE/benchsrv.c" -lpthread &&
		$cc $flags -o "$BIN/benchcli" "$HERE/benchcli.c" &&
		$cc $flags -o "$BIN/spawnrun" "$HERE/spawnrun.c" &&
		$cc $flags -shared -fPIC -o "$BIN/empty.so" "$HERE/empty.c" ||
		die "cannot compile the bench tools"
	# Case 9's third contender: the same client linked statically, which
	# socksify runs under its seccomp supervisor (needs libc.a).
	HAVE_STATIC=0
	if $cc $flags -static -o "$BIN/benchcli-static" "$HERE/benchcli.c" \
		2>"$TMP/static.err"; then
		HAVE_STATIC=1
	else
		say "cannot link benchcli statically (libc6-dev's libc.a?): case 9 runs without it"
	fi
	build_gobench
}

# Case 7's Go client (static: CGO_ENABLED=0), with Debian's golang-go and
# golang-golang-x-net-dev (its SOCKS5 dialer); case 7 is skipped without.
build_gobench() {
	HAVE_GO=0
	command -v go >/dev/null || {
		say "golang-go not installed: case 7 skipped"
		return
	}
	mkdir -p "$TMP/go"
	if (cd "$HERE/gobench" && GO111MODULE=off GOFLAGS= GOPROXY=off \
		GOPATH="$TMP/go:/usr/share/gocode" HOME="$TMP/go" \
		GOCACHE="$TOP/build/go/cache" CGO_ENABLED=0 \
		go build -o "$BIN/gobench" main.go) 2>"$TMP/gobench.err"; then
		HAVE_GO=1
	else
		say "cannot build the Go client (golang-golang-x-net-dev?): case 7 skipped"
	fi
}

# start_server NAME MODE IP [BYTES] — benchsrv in the targets' namespace,
# serving only danted's outgoing address (so that a contender that went
# direct fails) unless ONLY_FROM is set empty; sets PORT_<NAME>.
start_server() {
	pf=$TMP/$1.port
	BENCHSRV_ONLY_FROM=${ONLY_FROM-$PROXY_OUT} \
		ip netns exec "$SRV_NS" "$BIN/benchsrv" "$2" "$pf" "$3" ${4:+"$4"} \
		>"$TMP/$1.log" 2>&1 &
	track $!
	wait_file "$pf"
	eval "PORT_$1=\$(cat \"\$pf\")"
}

# start_relay NAME TARGET_IP TARGET_PORT MS — delay relay to the target.
start_relay() {
	pf=$TMP/$1.port
	"$BIN/relay" "$pf" "$2" "$3" "$4" >"$TMP/$1.log" 2>&1 &
	track $!
	wait_file "$pf"
	eval "PORT_$1=\$(cat \"\$pf\")"
}

# start_danted NAME METHOD — danted on 127.0.0.1 with CONNECT and UDP;
# sets PORT_<NAME>.
start_danted() {
	port=$(free_port)
	cat >"$TMP/$1.conf" <<EOF
logoutput: $TMP/$1.log
internal: 127.0.0.1 port = $port
external: $PROXY_OUT
clientmethod: none
socksmethod: $2
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 15
timeout.io: 120
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  log: error
}
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: connect udpassociate bindreply udpreply
  log: error
}
EOF
	danted -f "$TMP/$1.conf" -p "$TMP/$1.pid" >"$TMP/$1.out" 2>&1 &
	track $!
	wait_tcp "$port"
	eval "PORT_$1=$port"
}

add_user() {
	BENCH_USER=sfyb$$
	BENCH_PASS=pw-$(date +%N)
	useradd -M -s /usr/sbin/nologin "$BENCH_USER" || die "useradd"
	printf '%s:%s\n' "$BENCH_USER" "$BENCH_PASS" | chpasswd ||
		die "chpasswd"
}

# ---- peers ----

HAVE_PC=0 HAVE_TS=0 HAVE_DANTE=0
DANTE_SOCKSIFY=/usr/bin/socksify

find_peers() {
	if command -v proxychains4 >/dev/null; then
		HAVE_PC=1
	else
		say "proxychains4 not installed: skipped (tests/bench/install-deps.sh)"
	fi
	if command -v torsocks >/dev/null; then
		HAVE_TS=1
	else
		say "torsocks not installed: skipped (tests/bench/install-deps.sh)"
	fi
	if [ -x "$DANTE_SOCKSIFY" ] && grep -q libdsocks "$DANTE_SOCKSIFY"; then
		HAVE_DANTE=1
	else
		say "Dante's socksify (dante-client) not installed: skipped (tests/bench/install-deps.sh)"
	fi
}

# peer_confs KIND PORT [USER PASS] — config files of every peer for one
# proxy (KIND names them).
peer_confs() {
	cat >"$TMP/pc-$1.conf" <<EOF
strict_chain
quiet_mode
tcp_read_time_out 15000
tcp_connect_time_out 8000
[ProxyList]
socks5 127.0.0.1 $2 ${3:-} ${4:-}
EOF
	{
		printf 'TorAddress 127.0.0.1\nTorPort %s\n' "$2"
		printf 'AllowOutboundLocalhost 1\n'
		[ $# -ge 4 ] && printf 'SOCKS5Username %s\nSOCKS5Password %s\n' "$3" "$4"
	} >"$TMP/ts-$1.conf"
	cat >"$TMP/dante-$1.conf" <<EOF
logoutput: $TMP/dante-client.log
route {
  from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = $2
  proxyprotocol: socks_v5
  command: connect udpassociate
  protocol: tcp udp
  method: $([ $# -ge 4 ] && echo username || echo none)
}
EOF
	eval "PROXY_$1=$2"
	if [ $# -ge 4 ]; then
		eval "URL_$1=socks5://$3:$4@127.0.0.1:$2"
		eval "AUTH_$1=\"-u $3 -p $4\""
	else
		eval "URL_$1=socks5://127.0.0.1:$2"
		eval "AUTH_$1="
	fi
}

# contenders CASE_KIND — the contender names for a case, installed only.
contenders() {
	list="floor"
	[ "$1" = rtt ] && list="$list floor-pipelined"
	list="$list socksify"
	case $1 in rtt | par | loop) list="$list socksify-pipeline" ;; esac
	# The guard's cost on the library path: the same run without it.
	[ "$1" = loop ] && list="$list socksify-noguard"
	[ $HAVE_PC = 1 ] && [ "$1" != udp ] && list="$list proxychains4"
	[ $HAVE_TS = 1 ] && [ "$1" != udp ] && list="$list torsocks"
	[ $HAVE_DANTE = 1 ] && list="$list dante"
	printf '%s\n' "$list"
}

# rotate N WORD... — the words, starting at the (N mod count)-th: each
# round starts with another contender, so none is always first or last.
rotate() {
	k=$1
	shift
	k=$((k % $#))
	i=0
	for w in "$@"; do
		[ $i -ge $k ] && printf '%s ' "$w"
		i=$((i + 1))
	done
	i=0
	for w in "$@"; do
		[ $i -lt $k ] && printf '%s ' "$w"
		i=$((i + 1))
	done
	printf '\n'
}

# run_one CONTENDER KIND TIMEOUT MODE ARGS... — run benchcli MODE as
# CONTENDER against proxy KIND; prints its output lines.
run_one() {
	who=$1 kind=$2 limit=$3 mode=$4
	shift 4
	eval "port=\$PROXY_$kind url=\$URL_$kind auth=\$AUTH_$kind"
	cli="$BIN/benchcli"
	case $who in
	floor) set -- "$cli" "$mode" -x "127.0.0.1:$port" $auth "$@" ;;
	floor-pipelined)
		set -- "$cli" "$mode" -x "127.0.0.1:$port" -P $auth "$@" ;;
	socksify)
		set -- env SOCKSIFY_PIPELINE=0 "$TOP/tools/socksify" -q -x "$url" \
			"$cli" "$mode" "$@" ;;
	socksify-static)
		set -- env SOCKSIFY_PIPELINE=0 "$TOP/tools/socksify" -q -x "$url" \
			"$BIN/benchcli-static" "$mode" "$@" ;;
	socksify-noguard)
		set -- env SOCKSIFY_PIPELINE=0 SOCKSIFY_GUARD=off \
			"$TOP/tools/socksify" -q -x "$url" "$cli" "$mode" "$@" ;;
	socksify-race)
		set -- env SOCKSIFY_PIPELINE=0 "$TOP/tools/socksify" -q \
			-f "$TMP/race.conf" "$cli" "$mode" "$@" ;;
	socksify-rules)
		set -- env SOCKSIFY_PIPELINE=0 "$TOP/tools/socksify" -q \
			-f "$TMP/rules.conf" "$cli" "$mode" "$@" ;;
	socksify-pipeline)
		set -- env SOCKSIFY_PIPELINE=1 "$TOP/tools/socksify" -q -x "$url" \
			"$cli" "$mode" "$@" ;;
	proxychains4)
		set -- proxychains4 -q -f "$TMP/pc-$kind.conf" "$cli" "$mode" "$@" ;;
	torsocks)
		set -- env TORSOCKS_CONF_FILE="$TMP/ts-$kind.conf" torsocks \
			"$cli" "$mode" "$@" ;;
	dante)
		set -- env SOCKS_CONF="$TMP/dante-$kind.conf" \
			SOCKS_USERNAME="${BENCH_USER:-x}" \
			SOCKS_PASSWORD="${BENCH_PASS:-x}" \
			"$DANTE_SOCKSIFY" "$cli" "$mode" "$@" ;;
	esac
	timeout -k 2 "$limit" "$@" 2>>"$TMP/client.err"
	rc=$?
	[ $rc = 0 ] || printf 'error=exit-%s\n' "$rc"
}

# sample CASE CONTENDER KIND TIMEOUT MODE ARGS... — run once, append its
# lines (tagged with case and contender) to the samples file.
sample() {
	c=$1 who=$2
	shift 2
	run_one "$who" "$@" | while IFS= read -r line; do
		printf '%s\t%s\t%s\n' "$c" "$who" "$line"
	done >>"$SAMPLES"
}

# ---- the cases ----

case_1() {
	say "case 1: connection set-up round trips (relay ${DELAY_MS} ms one way)"
	for r in $(seq "$ROUNDS"); do
		for who in $(rotate "$r" $(contenders rtt)); do
			sample 1-none "$who" relay_none 30 rtt -n 3 "$TARGET" "$PORT_echo"
			sample 1-user "$who" relay_user 30 rtt -n 3 "$TARGET" "$PORT_echo"
		done
	done
	# The relay's own accuracy: echo straight through it, no proxy.
	"$BIN/benchcli" rtt -n 5 127.0.0.1 "$PORT_relay_echo" |
		sed 's/^/relay\tcheck\t/' >>"$SAMPLES"
}

case_2() {
	say "case 2: 20 concurrent non-blocking connects through the delayed proxy"
	for r in $(seq "$ROUNDS"); do
		for who in $(rotate "$r" $(contenders par)); do
			sample 2 "$who" relay_none 60 par -c 20 -t 30 "$TARGET" "$PORT_echo"
		done
	done
}

case_3() {
	say "case 3: process start-up"
	per=$((200 / ROUNDS))
	for r in $(seq "$ROUNDS"); do
		start_sample 3 true "$per" /bin/true
		start_sample 3 empty-preload "$per" env LD_PRELOAD="$BIN/empty.so" /bin/true
		start_sample 3 libsocksify-preload "$per" \
			env LD_PRELOAD="$BUILD/libsocksify.so" /bin/true
		start_sample 3 socksify "$per" "$TOP/tools/socksify" -q \
			-x "$URL_none" /bin/true
		# Exported, not through env(1): its exec would be counted.
		(
			export SOCKSIFY_GUARD=off
			start_sample 3 socksify-noguard "$per" \
				"$TOP/tools/socksify" -q -x "$URL_none" /bin/true
		)
		[ $HAVE_PC = 1 ] && start_sample 3 proxychains4 "$per" \
			proxychains4 -q -f "$TMP/pc-none.conf" /bin/true
		[ $HAVE_TS = 1 ] && start_sample 3 torsocks "$per" \
			env TORSOCKS_CONF_FILE="$TMP/ts-none.conf" torsocks /bin/true
		[ $HAVE_DANTE = 1 ] && start_sample 3 dante "$per" \
			env SOCKS_CONF="$TMP/dante-none.conf" "$DANTE_SOCKSIFY" /bin/true
	done
	case_3_loaded
}

# The same start-ups on a loaded machine: a CPU hog (a shell spinning) runs
# beside them, so that a launcher's forks and scheduling delays show.
case_3_loaded() {
	say "case 3, loaded: process start-up beside a CPU hog"
	sh -c 'while :; do :; done' &
	hog=$!
	for r in $(seq "$ROUNDS"); do
		start_sample 3-loaded true "$per" /bin/true
		start_sample 3-loaded empty-preload "$per" \
			env LD_PRELOAD="$BIN/empty.so" /bin/true
		start_sample 3-loaded socksify "$per" "$TOP/tools/socksify" -q \
			-x "$URL_none" /bin/true
		(
			export SOCKSIFY_GUARD=off
			start_sample 3-loaded socksify-noguard "$per" \
				"$TOP/tools/socksify" -q -x "$URL_none" /bin/true
		)
		[ $HAVE_PC = 1 ] && start_sample 3-loaded proxychains4 "$per" \
			proxychains4 -q -f "$TMP/pc-none.conf" /bin/true
	done
	kill "$hog"
	wait "$hog" 2>/dev/null
}

start_sample() {
	c=$1 who=$2
	shift 2
	{ timeout -k 2 120 "$BIN/spawnrun" "$@" || echo "error=exit-$?"; } |
		sed "s/^/$c\t$who\t/" >>"$SAMPLES"
}

case_4() {
	say "case 4: per-connection CPU ($LOOP_N connect/echo/close cycles, no delay)"
	for r in $(seq "$LOOP_ROUNDS"); do
		for who in $(rotate "$r" $(contenders loop)); do
			sample 4 "$who" none 120 loop -n "$LOOP_N" "$TARGET" "$PORT_echo"
		done
	done
}

case_5() {
	say "case 5: bulk TCP throughput (1 GiB through danted)"
	for r in $(seq "$BULK_ROUNDS"); do
		for who in $(rotate "$r" $(contenders bulk)); do
			sample 5 "$who" none 120 bulk "$TARGET" "$PORT_source"
		done
	done
}

case_6() {
	say "case 6: UDP request/response through danted"
	for r in $(seq "$BULK_ROUNDS"); do
		for who in $(rotate "$r" $(contenders udp)); do
			sample 6 "$who" none 30 udp -n 20000 -t 3 "$TARGET" "$PORT_udp"
		done
	done
}

# Case 8: a race group whose first member is black-holed, against the live
# proxy alone (each run is a new socksify run, so its first connect meets
# the black hole); the first of 20 sequential blocking connects apart from
# the other 19. And 64 rules that do not match against none (case 4's loop).
case_8() {
	say "case 8: race group with a black-holed first member; 64 rules"
	printf '%s\n' "proxy $URL_relay_none" \
		"group rg race socks5h://$BLACKHOLE:1080 default" \
		"route $TARGET via rg" >"$TMP/race.conf"
	: >"$TMP/rules.conf"
	for i in $(seq 64); do
		printf 'route .r%s.example via default\n' "$i" >>"$TMP/rules.conf"
	done
	printf 'proxy %s\n' "$URL_none" >>"$TMP/rules.conf"
	for r in $(seq "$ROUNDS"); do
		for who in $(rotate "$r" socksify socksify-race); do
			run_one "$who" relay_none 60 rtt -n 20 "$TARGET" \
				"$PORT_echo" | awk -v w="$who" '{
				printf "%s\t%s\t%s\n",
					NR == 1 ? "8-first" : "8-rest", w, $0 }' \
				>>"$SAMPLES"
			sample 8-par "$who" relay_none 60 par -c 20 -t 30 \
				"$TARGET" "$PORT_echo"
		done
		sample 8-rules socksify none 120 loop -n "$LOOP_N" "$TARGET" \
			"$PORT_echo"
		sample 8-rules socksify-rules none 120 loop -n "$LOOP_N" \
			"$TARGET" "$PORT_echo"
	done
}

# Case 9: one proxied TCP download of BULK_MIB MiB through danted, the
# floor against socksify's two paths: a dynamic client with the library
# preloaded (the guard on, the default) and a static one under the seccomp
# supervisor. After connect() both leave the data path to the kernel.
case_9() {
	say "case 9: bulk TCP throughput, library vs supervisor ($BULK_MIB MiB through danted)"
	list="floor socksify"
	[ "$HAVE_STATIC" = 1 ] && list="$list socksify-static"
	for r in $(seq "$ROUNDS"); do
		for who in $(rotate "$r" $list); do
			sample 9 "$who" none 120 bulk "$TARGET" "$PORT_source9"
		done
	done
}

# go_sample CASE CONTENDER KIND TIMEOUT MODE ARGS... — gobench MODE, either
# dialing SOCKS5 itself (go-socks5) or under socksify's supervisor.
go_sample() {
	c=$1 who=$2 kind=$3 limit=$4 mode=$5
	shift 5
	eval "port=\$PROXY_$kind url=\$URL_$kind"
	case $who in
	go-socks5) set -- "$BIN/gobench" "$mode" -x "127.0.0.1:$port" "$@" ;;
	go-supervised) set -- "$TOP/tools/socksify" -q -x "$url" \
		"$BIN/gobench" "$mode" "$@" ;;
	esac
	{ timeout -k 2 "$limit" "$@" 2>>"$TMP/client.err" ||
		echo "error=exit-$?"; } | sed "s/^/$c\t$who\t/" >>"$SAMPLES"
}

case_7() {
	[ "$HAVE_GO" = 1 ] || return 0
	say "case 7: a static Go client under the supervisor vs Go's own SOCKS5 dialer"
	for r in $(seq "$ROUNDS"); do
		for who in $(rotate "$r" go-socks5 go-supervised); do
			go_sample 7-conn "$who" none 120 conn -n 1000 "$TARGET" \
				"$PORT_echo"
			go_sample 7-par "$who" relay_none 60 par -c 20 "$TARGET" \
				"$PORT_echo"
		done
	done
}

machine() {
	ver() {
		dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not installed"
	}
	printf -- '- host: %s\n' "$(hostname)"
	printf -- '- cpu: %s, nproc %s\n' \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
		"$(nproc)"
	printf -- '- kernel: %s\n' "$(uname -sr)"
	printf -- '- compiler: %s\n' "$(${CC:-cc} --version | head -n1)"
	printf -- '- socksify: %s (%s)\n' \
		"$(cd "$TOP" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
		"$(cd "$TOP" && git status --porcelain 2>/dev/null | grep -q . && echo 'with uncommitted changes' || echo clean)"
	printf -- '- danted (dante-server) %s, Dante socksify (dante-client) %s, proxychains4 %s, torsocks %s, curl %s\n' \
		"$(ver dante-server)" "$(ver dante-client)" "$(ver proxychains4)" \
		"$(ver torsocks)" "$(ver curl)"
	printf -- '- rounds %s, relay delay %s ms one way, loop %s x %s, bulk/udp rounds %s, case 9 download %s MiB\n' \
		"$ROUNDS" "$DELAY_MS" "$LOOP_N" "$LOOP_ROUNDS" "$BULK_ROUNDS" "$BULK_MIB"
}

main() {
	command -v danted >/dev/null ||
		die "danted (dante-server) is needed: tests/install-deps.sh"
	command -v python3 >/dev/null || die "python3 is needed"
	setup_net
	build_tools
	find_peers
	LOOP_N=${BENCH_LOOP_N:-3000}
	LOOP_ROUNDS=${BENCH_LOOP_ROUNDS:-3}
	BULK_ROUNDS=${BENCH_BULK_ROUNDS:-3}
	SAMPLES=$TMP/samples.tsv
	: >"$SAMPLES"
	export XDG_CONFIG_HOME=$TMP/xdg
	export SOCKSIFY_LIBRARY=$BUILD/libsocksify.so
	export SOCKSIFY_HELPER=$BUILD/socksify-helper
	unset SOCKSIFY_PROXY SOCKSIFY_CONF SOCKSIFY_LOG SOCKSIFY_LOG_FILE SOCKSIFY_GUARD \
		http_proxy https_proxy all_proxy ALL_PROXY LD_PRELOAD

	start_server echo tcp-echo "$TARGET"
	ONLY_FROM= start_server echo_open tcp-echo "$TARGET"
	start_server source tcp-source "$TARGET" 1073741824
	start_server source9 tcp-source "$TARGET" $((BULK_MIB * 1048576))
	start_server udp udp-echo "$TARGET"
	add_user
	start_danted dnone none
	start_danted duser username
	start_relay relay_dnone 127.0.0.1 "$PORT_dnone" "$DELAY_MS"
	start_relay relay_duser 127.0.0.1 "$PORT_duser" "$DELAY_MS"
	start_relay relay_echo "$TARGET" "$PORT_echo_open" "$DELAY_MS"
	peer_confs none "$PORT_dnone"
	peer_confs relay_none "$PORT_relay_dnone"
	peer_confs relay_user "$PORT_relay_duser" "$BENCH_USER" "$BENCH_PASS"

	started=$(date +%s)
	for c in $CASES; do
		"case_$c"
	done
	elapsed=$(($(date +%s) - started))

	out=${BENCH_OUT:-$HERE/results/$(date +%F)-$(hostname).md}
	mkdir -p "$(dirname "$out")"
	{
		printf '# socksify bench, %s\n\n' "$(date '+%F %H:%M')"
		machine
		printf -- '- wall time of the cases: %s s\n\n' "$elapsed"
		python3 "$HERE/report.py" "$SAMPLES"
	} >"$TMP/report.md" || die "report failed"
	# Written elsewhere first: a new result file under the work tree would
	# make machine()'s git status call the run's tree modified.
	cp "$TMP/report.md" "$out" || die "cannot write $out"
	cat "$out"
	say "results written to $out"
	[ -n "${BENCH_KEEP:-}" ] && say "samples kept in $SAMPLES"
	return 0
}

main "$@"
