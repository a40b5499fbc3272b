#!/bin/sh
# Stream isolation for Tor (isolate pid|run), against faultsocks.py --mode
# tor, which takes username/password when offered and records them:
#  - isolate pid: a parent and its fork child connect with different
#    usernames (socksify-pid-PID), a second connect of one process reuses
#    its own;
#  - isolate run: two processes of one run send the same username;
#  - credentials in the proxy URL are sent unchanged;
#  - isolate off (default): no username/password is offered.
. "$(dirname "$0")/lib.sh"
sfy_init
conf=$SFY_TMP/isolate.conf

# run_client — two connects in this process, one in a fork child.
run_client() {
	timeout 30 "$SOCKSIFY" -f "$conf" "$PYTHON" -c '
import os, socket
def hello():
    c = socket.create_connection(("198.18.7.7", 80), timeout=5)
    c.sendall(b"x")
    c.recv(10)
    c.close()
hello()
hello()
pid = os.fork()
if pid == 0:
    hello()
    os._exit(0)
os.waitpid(pid, 0)
print("done")
' 2>"$SFY_TMP/client.err" || fail "client: $(cat "$SFY_TMP/client.err")"
}

# users — the distinct usernames the proxy got, one per line.
users() {
	sed -n 's/^socks5 auth ver=1 user=\([^ ]*\) pass=.*/\1/p' "$FAULT_REC" |
		sort | uniq -c | sed 's/^ *//'
}

start_fault tor
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT" "isolate pid"
run_client
got=$(users)
printf '%s\n' "$got" | sed 's/^/    pid: /' >&2
expect_eq "usernames with isolate pid" \
	"$(printf '%s\n' "$got" | grep -c ' socksify-pid-[0-9]*$')" 2
expect_eq "connects of the parent share its username" \
	"$(printf '%s\n' "$got" | awk '$1 == 2' | wc -l)" 1
grep -q "pass=socksify" "$FAULT_REC" || fail "no isolation password"

start_fault tor
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT" "isolate run"
run_client
got=$(users)
printf '%s\n' "$got" | sed 's/^/    run: /' >&2
expect_eq "one username with isolate run" \
	"$(printf '%s\n' "$got" | grep -c ' socksify-run-')" 1
expect_contains "all three connects" "$got" "3 socksify-run-"

start_fault tor
write_conf "$conf" "proxy socks5://alice:secret@127.0.0.1:$FAULT_PORT" \
	"isolate pid"
run_client
expect_eq "URL credentials kept" "$(users)" "3 alice"

start_fault tor
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT"
run_client
expect_eq "no username without isolate" "$(users)" ""
grep -q "socks5 request ver=5 cmd=1" "$FAULT_REC" ||
	fail "no connect went through the proxy"
say "isolate pid, run, URL credentials, off: ok"
sfy_pass
