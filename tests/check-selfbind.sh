#!/bin/sh
# check-selfbind.sh — common/ code must never call one of the library's own
# hooks by accident.
#
# Inside libsocksify.so, a call from common/ to read, write, close, syscall
# or any other name the library exports binds to our own hook of that name,
# not to libc. common/ reaches libc through tables passed in (struct
# socket_io, struct sys_io) instead; this check fails when an object built
# for the library leaves such a name undefined.
#
# Usage: tests/check-selfbind.sh [BUILD_DIR]   (default: build)
set -eu

build=${1:-build}
lib=$build/libsocksify.so
objects=$(find "$build/common" -name '*.o' 2>/dev/null | sort)

if [ ! -f "$lib" ] || [ -z "$objects" ]; then
	echo "check-selfbind: build $lib first" >&2
	exit 2
fi

# Names that must never be called from common/: everything the library
# exports, plus the raw calls named here in case a hook is ever unexported.
forbidden=$(mktemp)
trap 'rm -f "$forbidden"' EXIT
{
	nm -D --defined-only "$lib" | awk '{ print $NF }'
	printf '%s\n' syscall read write close
} | sort -u >"$forbidden"

status=0
for obj in $objects; do
	bad=$(nm -u "$obj" | awk '{ print $NF }' | sed 's/@.*//' |
		grep -xF -f "$forbidden" || true)
	if [ -n "$bad" ]; then
		echo "check-selfbind: $obj calls our own hooks:" $bad >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "check-selfbind: common/ calls none of our hooks"
exit $status
