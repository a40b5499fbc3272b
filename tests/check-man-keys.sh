#!/bin/sh
# check-man-keys.sh — fail when a configuration key of common/config_keys.c
# has no entry in doc/socksify.conf.5.
#
# The keys are the names in the config_keys[] table (its rows start with
# {"name", ...}); an entry is an .It line of the man page naming the key
# with Ic (".It Ic guard Cm on | off", or ", Ic fake_ipv6" on the line of
# another key). Run from the top of the tree (make check-man does), or give
# the two files: tests/check-man-keys.sh [CONFIG_KEYS_C [MAN_PAGE]]
set -u

keys_c=${1:-common/config_keys.c}
man=${2:-doc/socksify.conf.5}

for f in "$keys_c" "$man"; do
	if [ ! -r "$f" ]; then
		echo "check-man-keys: cannot read $f" >&2
		exit 2
	fi
done

# The table alone, from its "config_keys[] =" line to the "};" closing it,
# comments removed; then every quoted name that opens a row.
keys=$(sed -n '/config_keys\[\][[:space:]]*=/,/^[[:space:]]*};/p' "$keys_c" |
	sed -e 's://.*$::' -e 's:/\*.*\*/::g' |
	grep -o '{[[:space:]]*"[a-z0-9_]*"' |
	sed 's/^{[[:space:]]*"//; s/"$//')

if [ -z "$keys" ]; then
	echo "check-man-keys: no keys found in $keys_c (has its table changed?)" >&2
	exit 2
fi

# The words following Ic on the page's .It lines.
documented=$(grep '^\.It' "$man" |
	grep -o 'Ic[[:space:]][[:space:]]*[a-z0-9_]*' |
	sed 's/^Ic[[:space:]]*//')

missing=0
count=0
for key in $keys; do
	count=$((count + 1))
	if ! printf '%s\n' "$documented" | grep -qx "$key"; then
		echo "check-man-keys: key '$key' ($keys_c) is not described in $man" >&2
		missing=$((missing + 1))
	fi
done

if [ "$missing" -gt 0 ]; then
	echo "check-man-keys: $missing of $count keys missing from $man" >&2
	exit 1
fi
echo "  MAN    $count configuration keys all in $man"
