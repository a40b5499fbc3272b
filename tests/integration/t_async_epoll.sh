#!/bin/sh
# Asynchronous connects and the program's epoll sets (issue 14): a socket
# registered in an epoll set before connect() keeps its registration, masked
# while the handshake runs and given back after it, whether the set and the
# registration were made in this image or before an exec (the library of
# the new image never saw them: the fdinfo scan, with the sets found among
# the open descriptors, still finds them). An asynchronous connect of a
# socket made by socket() and registered after connect(), or in one set
# before it, reads no /proc/self/fdinfo at all (counted under strace),
# while a socket in two sets and the exec case do (the fallback is still
# there; the second set must stay quiet during the handshake too). Through danted behind a relay adding
# 20 ms each way, so that a registration left unmasked would report the
# socket ready while the handshake runs.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted strace
for p in epollpre asyncconn; do
	[ -x "$PROGS/$p" ] || fail "no $PROGS/$p (run make)"
done
start_echo
start_danted none
pf=$SFY_TMP/relay.port
"$PYTHON" "$SFY_TOP/tests/integration/delayrelay.py" \
	--listen-port-file "$pf" --to "127.0.0.1:$DANTED_PORT" --delay-ms 20 \
	>"$SFY_TMP/relay.log" 2>&1 &
track $!
wait_file "$pf"
conf=$SFY_TMP/async.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$(cat "$pf")" "direct none"

# traced NAME PROG ARGS... — PROG through socksify under strace (openat
# only); must print ok. Sets OPENS to how many fdinfo files it opened.
traced() {
	name=$1
	shift
	trace=$SFY_TMP/$name.strace
	out=$(timeout 60 strace -f -qq -e trace=openat -o "$trace" \
		"$SOCKSIFY" -f "$conf" "$@" 2>&1) || fail "$name: $out"
	expect_contains "$name" "$out" "ok"
	OPENS=$(grep -c '/proc/self/fdinfo/' "$trace")
	say "$name: $(echo "$out" | tail -n 1); fdinfo opens: $OPENS"
}

for mode in after before two exec; do
	traced "epollpre $mode" "$PROGS/epollpre" 127.0.0.1 "$ECHO_PORT" "$mode"
	case $mode in
	after | before) expect_eq "no scan: $mode" "$OPENS" 0 ;;
	two | exec) expect_gt "the scan: $mode" "$OPENS" 0 ;;
	esac
done
traced "asyncconn et, 50 connects" "$PROGS/asyncconn" 127.0.0.1 \
	"$ECHO_PORT" 50 et
expect_eq "no scan in 50 connects" "$OPENS" 0
traced "asyncconn pre, 50 connects" "$PROGS/asyncconn" 127.0.0.1 \
	"$ECHO_PORT" 50 pre
expect_eq "no scan in 50 connects registered before" "$OPENS" 0
sfy_pass
