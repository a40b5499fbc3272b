#!/bin/sh
# Check the symbols libsocksify.so exports against the committed list.
#
#   tests/check-exports.sh LIST LIBRARY OBJECT...
#
# LIST (preload/exports.txt) names every exported symbol, one a line, sorted;
# lines starting with # are comments. Fails, naming the symbols, when
#   - the library's dynamic symbols (nm -D --defined-only) are not exactly
#     LIST: an unexpected export appeared, or a hook disappeared;
#   - one of them carries a symbol version (it would no longer interpose on
#     libc's unversioned lookups the same way);
#   - the objects' default-visibility definitions (the SOCKSIFY_EXPORT
#     functions) are not exactly LIST: the version script would silently
#     hide a hook that is missing from LIST.
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 LIST LIBRARY OBJECT..." >&2
	exit 2
fi
list=$1
lib=$2
shift 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
status=0

# Print the lines only in the first file (sorted), after a heading.
report() { # heading file1 file2
	comm -23 "$2" "$3" >"$tmp/diff"
	if [ -s "$tmp/diff" ]; then
		echo "check-exports: $1:" >&2
		sed 's/^/	/' "$tmp/diff" >&2
		status=1
	fi
}

grep -v -e '^#' -e '^[[:space:]]*$' "$list" >"$tmp/list"
if ! sort -c -u "$tmp/list" 2>/dev/null; then
	echo "check-exports: $list is not sorted or has duplicates" >&2
	status=1
fi
sort -u -o "$tmp/list" "$tmp/list"

nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sort -u >"$tmp/lib"
if grep '@' "$tmp/lib" >"$tmp/versioned"; then
	echo "check-exports: versioned symbols in $lib:" >&2
	sed 's/^/	/' "$tmp/versioned" >&2
	status=1
fi
report "exported by $lib but not in $list" "$tmp/lib" "$tmp/list"
report "in $list but not exported by $lib" "$tmp/list" "$tmp/lib"

# readelf -sW: Num: Value Size Type Bind Vis Ndx Name
for obj in "$@"; do
	readelf -sW "$obj"
done | awk '($5 == "GLOBAL" || $5 == "WEAK") && $6 == "DEFAULT" &&
	    $7 != "UND" && NF >= 8 { print $8 }' | sort -u >"$tmp/objects"
report "default visibility in the objects but not in $list" \
	"$tmp/objects" "$tmp/list"
report "in $list but not defined with default visibility in the objects" \
	"$tmp/list" "$tmp/objects"

if [ "$status" -eq 0 ]; then
	echo "check-exports: $(wc -l <"$tmp/list") symbols, as listed in $list"
fi
exit "$status"
