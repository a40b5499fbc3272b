#!/bin/sh
# The session's fake-DNS map file (/dev/shm/socksify-UID-SESSION) cannot be
# taken away by another user: the session id is the program's PID and 128
# random bits, so no one can create the file first; and when the shared
# map is unusable all the same, the fallback to a private table is logged
# at error level (shown by default). No proxy is contacted: only names are
# resolved, each by its own exec'd getent process. The map file also fits
# a small /dev/shm.
. "$(dirname "$0")/lib.sh"
sfy_init
need getent mkfifo chown
id nobody >/dev/null 2>&1 || fail "no user nobody"
conf=$SFY_TMP/session.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:1"
uid=$(id -u)
planted=""

# plant PATH — a file of another user (nobody) where a map file could be.
plant() {
	: >"$1" && chown nobody "$1" && chmod 600 "$1" || fail "plant $1"
	planted="$planted $1"
}

unplant() {
	for f in $planted; do
		rm -f "$f"
	done
	planted=""
}

# The id: PID-32 hex digits, the PID being the program's, new every run.
one=$(sfy -f "$conf" sh -c 'echo "$$ $SOCKSIFY_SESSION"')
two=$(sfy -f "$conf" sh -c 'echo "$$ $SOCKSIFY_SESSION"')
for run in "$one" "$two"; do
	pid=${run%% *}
	session=${run#* }
	printf '%s\n' "$session" | grep -Eqx "$pid-[0-9a-f]{32}" ||
		fail "session id '$session' is not '$pid-' and 32 hex digits"
done
[ "${one#* }" != "${two#* }" ] || fail "two runs got one session id: $one"
say "session ids: ${one#* }, ${two#* }"

# Another user plants files where a PID-and-time id would put the map
# (the program's PID is known before it starts; every second around now).
# The run's processes must still share one map: two names resolved by two
# exec'd processes get two addresses, and the first name keeps its own.
mkfifo "$SFY_TMP/go"
(
	read -r _ <"$SFY_TMP/go"
	exec "$SOCKSIFY" -f "$conf" sh -c '
for n in a.session.test b.session.test a.session.test; do
	getent ahostsv4 "$n" | head -n 1 | cut -d " " -f 1
done' >"$SFY_TMP/shared.out" 2>"$SFY_TMP/shared.err"
) &
run=$!
now=$(date +%s)
for t in $(seq $((now - 2)) $((now + 10))); do
	plant "/dev/shm/socksify-$uid-$run-$t"
done
echo go >"$SFY_TMP/go"
wait "$run"
status=$?
unplant
[ "$status" = 0 ] || fail "run with planted files: status $status: $(cat "$SFY_TMP/shared.err")"
set -- $(cat "$SFY_TMP/shared.out")
[ $# = 3 ] || fail "want three addresses, got: $*"
[ "$1" != "$2" ] || fail "two names, one address $1: the map was not shared"
expect_eq "a name's address in a later process" "$3" "$1"
[ -s "$SFY_TMP/shared.err" ] &&
	fail "unexpected messages: $(cat "$SFY_TMP/shared.err")"
say "planted files did not take sharing away: a=$1 b=$2"

# A map file that is not ours (the library preloaded by hand with a known
# session): the private fallback works and says so at the default level.
session=planted-$$
plant "/dev/shm/socksify-$uid-$session"
out=$(LD_PRELOAD=$SOCKSIFY_LIBRARY SOCKSIFY_CONF=$conf \
	SOCKSIFY_SESSION=$session getent ahostsv4 c.session.test 2>&1)
unplant
expect_contains "fallback, logged" "$out" \
	"socksify-$uid-$session unusable (Operation not permitted): falling back"
case $out in
*24[0-9].* | *25[0-5].*) ;;
*) fail "no fake address from the private table: $out" ;;
esac
say "fallback logged: $(printf '%s\n' "$out" | grep unusable)"
# A small /dev/shm (64 MiB in containers; 4 MiB here, in a mount namespace
# of our own): the map file is cut down to half the free space, and a run
# that fills it gets EAI_MEMORY for new names, never SIGBUS.
need unshare mount stat
out=$(unshare -m sh -c '
mount -t tmpfs -o size=4m tmpfs /dev/shm || exit 99
"$1" -f "$2" "$3" -c "
import socket
ok = failed = 0
for i in range(20000):
    try:
        socket.getaddrinfo(\"n%d.small.socksify.test\" % i, 80, socket.AF_INET)
        ok += 1
    except socket.gaierror:
        failed += 1
print(ok, failed)" 2>/dev/null
echo "$?"
stat -c %s /dev/shm/socksify-*' sh "$SOCKSIFY" "$conf" "$PYTHON")
set -- $out
[ $# = 4 ] || fail "small /dev/shm: $out"
expect_eq "small /dev/shm: exit status" "$3" 0
[ "$1" -ge 16 ] && [ "$2" -gt 0 ] && [ $(($1 + $2)) = 20000 ] ||
	fail "small /dev/shm: $1 names answered, $2 refused"
[ "$4" -le 2097152 ] || fail "small /dev/shm: a map file of $4 bytes"
say "4 MiB /dev/shm: $1 names fit, $2 refused, file $4 bytes"
sfy_pass
