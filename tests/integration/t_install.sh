#!/bin/sh
# After "make install PREFIX=…" the installed wrapper finds the installed
# library and helper by itself (no SOCKSIFY_LIBRARY/SOCKSIFY_HELPER) and the
# acceptance fetch works through danted; the man pages and completions are
# installed; a LIBDIR elsewhere (Debian's multiarch directory) is found by
# the installed wrapper; "make uninstall" leaves no file and no socksify
# directory behind.
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
for f in share/man/man1/socksify.1 share/man/man5/socksify.conf.5 \
	share/bash-completion/completions/socksify \
	share/zsh/site-functions/_socksify share/doc/socksify/socksify.conf.example; do
	[ -f "$prefix/$f" ] || fail "make install did not install $f"
done
# The installed completions load; bash's offers on/off after --shell and
# the subcommands as a first word.
out=$(bash -c '. "$1"; COMP_WORDS=(socksify --shell ""); COMP_CWORD=2
_socksify; echo "${COMPREPLY[*]}"' bash \
	"$prefix/share/bash-completion/completions/socksify") ||
	fail "bash completion failed"
expect_eq "bash completion after --shell" "$out" "on off"
out=$(bash -c '. "$1"; COMP_WORDS=(socksify do); COMP_CWORD=1
_socksify; echo "${COMPREPLY[*]}"' bash \
	"$prefix/share/bash-completion/completions/socksify")
expect_contains "bash completion of a first word" "$out" "doctor"
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$prefix/share/zsh/site-functions/_socksify" ||
		fail "zsh completion does not parse"
fi
# Shell mode from the installed tree: the helper finds the library beside it.
out=$("$prefix/bin/socksify" --shell on) || fail "installed --shell on failed"
expect_contains "installed --shell on preloads the installed library" "$out" \
	"LD_PRELOAD='$prefix/lib/socksify/libsocksify.so'"

# uninstall removes every file install wrote.
uninstall() {
	make -s -C "$SFY_TOP" B="$build" uninstall "$@" \
		>"$SFY_TMP/uninstall.log" 2>&1 ||
		fail "make uninstall failed: $(tail -n 20 "$SFY_TMP/uninstall.log")"
}
uninstall PREFIX="$prefix"
left=$(find "$prefix" ! -type d; find "$prefix" -name '*socksify*')
expect_eq "files and socksify directories left by uninstall" "$left" ""

# A library directory of its own, as the Debian package has it.
libdir=$prefix/lib/x86_64-linux-gnu/socksify
make -s -C "$SFY_TOP" B="$build" install PREFIX="$prefix" LIBDIR="$libdir" \
	>"$SFY_TMP/install.log" 2>&1 ||
	fail "make install LIBDIR= failed: $(tail -n 20 "$SFY_TMP/install.log")"
[ ! -e "$prefix/lib/socksify" ] || fail "LIBDIR= still wrote lib/socksify"
out=$("$prefix/bin/socksify" -x "socks5h://127.0.0.1:$DANTED_PORT" "$PYTHON" -c '
import os; print(os.environ["LD_PRELOAD"])') || fail "LIBDIR= wrapper failed"
expect_eq "the wrapper preloads LIBDIR's library" "$out" "$libdir/libsocksify.so"
expect_via_danted "installed with LIBDIR=" "$HTTP_PORT" \
	"$prefix/bin/socksify" -x "socks5h://127.0.0.1:$DANTED_PORT" \
	curl -sS --max-time 20 "http://$TARGET_NAME:$HTTP_PORT/"
uninstall PREFIX="$prefix" LIBDIR="$libdir"
left=$(find "$prefix" ! -type d; find "$prefix" -name '*socksify*')
expect_eq "left by uninstall LIBDIR=" "$left" ""
sfy_pass
