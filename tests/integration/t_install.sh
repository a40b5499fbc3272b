#!/bin/sh
# After "make install PREFIX=…" the installed wrapper finds the installed
# library and helper by itself (no SOCKSIFY_LIBRARY/SOCKSIFY_HELPER) and the
# acceptance fetch works through danted.
. "$(dirname "$0")/lib.sh"
sfy_init
need make danted curl
prefix=$SFY_TMP/prefix
build=${SOCKSIFY_BUILD:-build}
make -s -C "$SFY_TOP" B="$build" install PREFIX="$prefix" \
	>"$SFY_TMP/install.log" 2>&1 ||
	fail "make install failed: $(tail -n 20 "$SFY_TMP/install.log")"
[ -x "$prefix/bin/socksify" ] || fail "no $prefix/bin/socksify"
start_http
start_danted none
unset SOCKSIFY_LIBRARY SOCKSIFY_HELPER
out=$("$prefix/bin/socksify" --version) || fail "installed --version failed"
expect_contains "installed --version" "$out" "1.0.0"
# Through a symlink too, the way packages often install commands.
ln -s "$prefix/bin/socksify" "$SFY_TMP/socksify-link"
for wrapper in "$prefix/bin/socksify" "$SFY_TMP/socksify-link"; do
	out=$("$wrapper" -x "socks5h://127.0.0.1:$DANTED_PORT" "$PYTHON" -c '
import os; print(os.environ["LD_PRELOAD"])') || fail "$wrapper failed"
	expect_eq "$wrapper preloads the installed library" "$out" \
		"$prefix/lib/socksify/libsocksify.so"
	expect_via_danted "installed $wrapper, by name" "$HTTP_PORT" \
		"$wrapper" -x "socks5h://127.0.0.1:$DANTED_PORT" \
		curl -sS --max-time 20 "http://$TARGET_NAME:$HTTP_PORT/"
done
sfy_pass
