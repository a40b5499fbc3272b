#!/bin/sh
# A proxy password given with -x reaches the proxy but nothing else: not the
# program's environment or command line, not its parent's command line, not
# an error message. It travels in a private file (SOCKSIFY_PROXY_FILE) that
# is removed when the run ends. microsocks checks the password.
. "$(dirname "$0")/lib.sh"
sfy_init
need microsocks curl
user=bob
pw=S3cr3t-$$-$(date +%N)
start_http
start_microsocks "$user" "$pw"
ms_pid=${SFY_PIDS##* } # its command line holds the password, by design
url=http://127.0.0.1:$HTTP_PORT/
conf=$SFY_TMP/direct-none.conf
write_conf "$conf" "direct none"

# no_secret WHAT FILE — FILE must not hold the password.
no_secret() {
	if grep -q -- "$pw" "$2"; then
		fail "$1 shows the password: $(cat "$2")"
	fi
}

# The program (sh) prints its environment, its command line and its
# parent's, and the proxy file's mode; curl, a child, fetches through the
# proxy with the credentials.
sfy -f "$conf" -x "socks5h://$user:$pw@127.0.0.1:$MS_PORT" sh -c '
	env
	printf "cmdline: "; tr "\0" " " </proc/$$/cmdline; echo
	printf "parent: "; tr "\0" " " </proc/$PPID/cmdline; echo
	printf "file: %s\n" "$SOCKSIFY_PROXY_FILE"
	printf "mode: %s\n" "$(stat -c %a "$SOCKSIFY_PROXY_FILE")"
	curl -sS --max-time 10 "$1"' sh "$url" >"$SFY_TMP/run.out" \
	2>"$SFY_TMP/run.err" || fail "the run failed: $(cat "$SFY_TMP/run.err")"
grep -q "$HTTP_TOKEN" "$SFY_TMP/run.out" ||
	fail "no page through the proxy: $(cat "$SFY_TMP/run.out" "$SFY_TMP/run.err")"
no_secret "environment or command lines" "$SFY_TMP/run.out"
no_secret "stderr" "$SFY_TMP/run.err"
grep -q '^SOCKSIFY_PROXY=' "$SFY_TMP/run.out" &&
	fail "SOCKSIFY_PROXY still exported"
grep -q '^cmdline: sh -c' "$SFY_TMP/run.out" ||
	fail "no command line printed: $(cat "$SFY_TMP/run.out")"
expect_eq "proxy file mode" "$(sed -n 's/^mode: //p' "$SFY_TMP/run.out")" 600
file=$(sed -n 's/^file: //p' "$SFY_TMP/run.out")
[ -n "$file" ] || fail "no SOCKSIFY_PROXY_FILE in the run"
n=0
while [ -e "$file" ] && [ $n -lt 30 ]; do
	sleep 0.1
	n=$((n + 1))
done
[ -e "$file" ] && fail "$file left behind after the run"
say "password: authenticated, in no environment or command line, file removed"

# While a run is under way no process of the machine but microsocks shows
# the password in its command line or environment: not the program, not
# the reaper that will remove the file. (grep reads the password from a
# file: on its own command line it would find itself.)
printf '%s\n' "$pw" >"$SFY_TMP/pw.pattern"
sfy -f "$conf" -x "socks5h://$user:$pw@127.0.0.1:$MS_PORT" \
	sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1"; exec sleep 2' sh \
	"$SFY_TMP/ready" 2>"$SFY_TMP/bg.err" &
track $!
wait_file "$SFY_TMP/ready"
found=$(grep -a -l -F -f "$SFY_TMP/pw.pattern" /proc/[0-9]*/cmdline \
	/proc/[0-9]*/environ 2>/dev/null | grep -v "^/proc/$ms_pid/")
[ -z "$found" ] || fail "the password is visible in $found"
say "during a run: the password is in no process's cmdline or environ"

# The wrapper itself starts again without -x URL before its real work: a
# stand-in helper records the command line of the wrapper that runs it.
printf '%s\n' '#!/bin/sh' \
	'tr "\0" " " </proc/$PPID/cmdline >"$SFY_TMP_OUT"' 'exit 1' \
	>"$SFY_TMP/helper.sh"
chmod 755 "$SFY_TMP/helper.sh"
SFY_TMP_OUT=$SFY_TMP/wrapper.cmdline SOCKSIFY_HELPER=$SFY_TMP/helper.sh \
	sfy -v -x "socks5h://$user:$pw@127.0.0.1:$MS_PORT" true 2>/dev/null
expect_contains "the wrapper's command line" \
	"$(cat "$SFY_TMP/wrapper.cmdline")" "socksify -v true"
no_secret "the wrapper's command line" "$SFY_TMP/wrapper.cmdline"
say "the wrapper's command line lost -x URL before its real work"

# The password did authenticate: a wrong one fails (closed, not direct).
if sfy -f "$conf" -x "socks5h://$user:wrong@127.0.0.1:$MS_PORT" \
	curl -sS --max-time 10 "$url" >"$SFY_TMP/wrong.out" 2>&1; then
	fail "a wrong password fetched the page"
fi
grep -q "$HTTP_TOKEN" "$SFY_TMP/wrong.out" && fail "page fetched anyway"

# Errors on a command line or in a file that hold the password never show
# it, but still show where the mistake is.
status=0
sfy -x "socks5h://$user:$pw@127.0.0.1:$MS_PORT" --bogus="$user:$pw@h" \
	true 2>"$SFY_TMP/opt.err" || status=$?
expect_eq "unknown option status" "$status" 125
no_secret "the unknown option error" "$SFY_TMP/opt.err"
grep -q "unknown option '--bogus=$user:\*\*\*@h'" "$SFY_TMP/opt.err" ||
	fail "unknown option not named: $(cat "$SFY_TMP/opt.err")"
status=0
sfy "socks5h://$user:$pw@127.0.0.1:$MS_PORT" curl 2>"$SFY_TMP/cmd.err" ||
	status=$?
expect_eq "missing command status" "$status" 127
no_secret "the command-not-found error" "$SFY_TMP/cmd.err"
bad=$SFY_TMP/bad.conf
write_conf "$bad" "direct $user:$pw@host"
status=0
sfy -f "$bad" -x "socks5h://$user:$pw@127.0.0.1:$MS_PORT" true \
	2>"$SFY_TMP/conf.err" || status=$?
expect_eq "bad network status" "$status" 125
no_secret "the config error" "$SFY_TMP/conf.err"
grep -q "bad.conf:1: bad match '$user:\*\*\*@host'" "$SFY_TMP/conf.err" ||
	fail "config error not precise: $(cat "$SFY_TMP/conf.err")"
say "errors: no password, the place named"
sfy_pass
