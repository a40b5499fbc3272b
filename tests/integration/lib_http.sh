# lib_http.sh — helpers for the HTTP CONNECT proxy tests (sourced after
# lib.sh): Debian's tinyproxy and our misbehaving faulthttp.py.

FAULTHTTP=$SFY_TOP/tests/integration/faulthttp.py

# start_tinyproxy [USER PASS] — tinyproxy on 127.0.0.1 (foreground, its own
# config in the test's temp dir), in a private mount namespace whose
# /etc/hosts knows the test names, with Basic authentication when USER and
# PASS are given. CONNECT may reach any port (no ConnectPort line). Sets
# TINY_PORT and TINY_LOG.
start_tinyproxy() {
	need tinyproxy
	TINY_N=$((${TINY_N:-0} + 1))
	TINY_PORT=$(free_port)
	TINY_LOG=$SFY_TMP/tinyproxy$TINY_N.log
	conf=$SFY_TMP/tinyproxy$TINY_N.conf
	hosts=$(proxy_hosts_file)
	cat >"$conf" <<EOF2
Port $TINY_PORT
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 30
DisableViaHeader Yes
PidFile "$SFY_TMP/tinyproxy$TINY_N.pid"
LogLevel Info
LogFile "$TINY_LOG"
EOF2
	[ $# -ge 2 ] && printf 'BasicAuth %s %s\n' "$1" "$2" >>"$conf"
	: >"$TINY_LOG"
	chmod 666 "$TINY_LOG"
	unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec tinyproxy -d -c "$2"' \
		tinyproxy "$hosts" "$conf" >"$SFY_TMP/tinyproxy$TINY_N.out" 2>&1 &
	track $!
	wait_port 127.0.0.1 "$TINY_PORT"
}

# tiny_connects_to HOST:PORT — how many CONNECT requests for HOST:PORT
# tinyproxy logged.
tiny_connects_to() {
	grep -cF "CONNECT $1 HTTP/1.1" "$TINY_LOG"
}

# start_faulthttp MODE [OPTIONS...] — faulthttp.py in MODE. Sets
# FH_PORT and FH_REC (one line per request received).
start_faulthttp() {
	FH_N=$((${FH_N:-0} + 1))
	FH_REC=$SFY_TMP/faulthttp$FH_N.rec
	pf=$SFY_TMP/faulthttp$FH_N.port
	: >"$FH_REC"
	"$PYTHON" "$FAULTHTTP" --port-file "$pf" --record "$FH_REC" \
		--mode "$@" >"$SFY_TMP/faulthttp$FH_N.log" 2>&1 &
	track $!
	wait_file "$pf"
	FH_PORT=$(cat "$pf")
}
