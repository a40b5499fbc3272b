#!/bin/sh
# Shell mode: after `eval "$(socksify -x URL --shell on)"` a command the
# shell runs later is socksified (a name only the proxy can resolve is
# fetched, and danted logs the connect), `socksify show` says on; after
# `eval "$(socksify --shell off)"` the same command is not (the name does
# not resolve, danted logs nothing more), `show` says off and LD_PRELOAD is
# as before. For bash, dash and zsh (each when installed; dash at least).
# A configuration file name that needs quoting comes through intact. A
# password in the URL is refused: it would stay in the shell's environment.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted curl dash
start_http
start_danted none
url=http://$TARGET_NAME:$HTTP_PORT/
proxy=socks5h://127.0.0.1:$DANTED_PORT

# The script each shell runs: on, fetch, show, off, fetch, show; prints
# one word per step to compare.
script='
LD_PRELOAD=/nonexistent-before.so; export LD_PRELOAD
eval "$("$SOCKSIFY" -x "$PROXY" --shell on)" || { echo on-failed; exit 1; }
curl -sS --max-time 20 "$URL" 2>/dev/null || echo fetch1-failed
"$SOCKSIFY" show >/dev/null 2>&1 && echo show-on || echo show-off
eval "$("$SOCKSIFY" --shell off)"
curl -sS --max-time 5 "$URL" >/dev/null 2>&1 && echo fetch2-worked || echo fetch2-failed
"$SOCKSIFY" show >/dev/null 2>&1 && echo show-on || echo show-off
echo "preload=$LD_PRELOAD proxy=${SOCKSIFY_PROXY-unset} session=${SOCKSIFY_SESSION-unset}"
'
shells=dash
for sh in bash zsh; do
	command -v "$sh" >/dev/null 2>&1 && shells="$shells $sh"
done
for sh in $shells; do
	before=$(danted_connects_to "$HTTP_PORT")
	out=$(SOCKSIFY=$SOCKSIFY PROXY=$proxy URL=$url "$sh" -c "$script" \
		2>"$SFY_TMP/$sh.err") || fail "$sh: exit $?: $out $(cat "$SFY_TMP/$sh.err")"
	want="$HTTP_TOKEN
show-on
fetch2-failed
show-off
preload=/nonexistent-before.so proxy=unset session=unset"
	expect_eq "$sh: on, fetch, show, off, fetch, show" "$out" "$want"
	after=$(wait_count $((before + 1)) danted_connects_to "$HTTP_PORT")
	expect_eq "$sh: connects danted relayed" "$after" $((before + 1))
	say "$sh: ok"
done

# A configuration file whose name needs quoting (a quote, a space, a $):
# the exported name is exactly the file's, and the fetch goes through it.
conf="$SFY_TMP/it's a \$HOME.conf"
printf 'proxy %s\n' "$proxy" >"$conf"
before=$(danted_connects_to "$HTTP_PORT")
out=$(SOCKSIFY=$SOCKSIFY CONF=$conf URL=$url dash -c '
eval "$("$SOCKSIFY" -f "$CONF" --shell on)" || exit 1
[ "$SOCKSIFY_CONF" = "$CONF" ] || echo "conf=$SOCKSIFY_CONF"
curl -sS --max-time 20 "$URL"' 2>"$SFY_TMP/conf.err") ||
	fail "-f with a quoted name: $out $(cat "$SFY_TMP/conf.err")"
expect_eq "-f with a quoted name" "$out" "$HTTP_TOKEN"
after=$(wait_count $((before + 1)) danted_connects_to "$HTTP_PORT")
expect_eq "-f with a quoted name: connects danted relayed" "$after" \
	$((before + 1))

# A password is refused, and nothing is printed for eval.
out=$("$SOCKSIFY" -x "socks5h://alice:secret@127.0.0.1:$DANTED_PORT" \
	--shell on 2>"$SFY_TMP/pw.err") && fail "a password was accepted"
expect_eq "nothing to eval with a password" "$out" ""
expect_contains "password refusal says why" "$(cat "$SFY_TMP/pw.err")" \
	"configuration file"
# A configuration error refuses "on" too.
printf 'bogus line\n' >"$SFY_TMP/bad.conf"
out=$("$SOCKSIFY" -f "$SFY_TMP/bad.conf" --shell on 2>"$SFY_TMP/bad.err") &&
	fail "a bad configuration was accepted"
expect_contains "config error names the line" "$(cat "$SFY_TMP/bad.err")" \
	"bad.conf:1"
sfy_pass
