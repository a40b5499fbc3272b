#!/bin/sh
# libresolv under remote DNS: res_query, res_search, res_querydomain,
# res_send, their res_n* forms and the __res_* names are answered by
# socksify, and no DNS packet leaves the program. The client runs in a
# network namespace whose resolv.conf names a DNS server it CAN reach
# directly (dnsresponder.py on the host side of the veth), so any query that
# went around the library would show up in the server's record.
. "$(dirname "$0")/lib.sh"
sfy_init
[ -x "$PROGS/resq" ] || fail "no $PROGS/resq (run make)"
APT_HELPER=/usr/lib/apt/apt-helper
make_netns

mkdir -p "/etc/netns/$NS" || fail "mkdir /etc/netns/$NS"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$HOST_ADDR" \
	>"/etc/netns/$NS/resolv.conf"
record=$SFY_TMP/dns.record
: >"$record"
"$PYTHON" "$DNSRESPONDER" --listen "$HOST_ADDR" --port 53 \
	--port-file "$SFY_TMP/dns.port" --record "$record" &
track $!
wait_file "$SFY_TMP/dns.port" || fail "dnsresponder did not start"

queries() {
	wc -l <"$record" | tr -d ' '
}
NAME=target.socksify.test

# The test can fail: without socksify the same program reaches the server.
in_ns "$PROGS/resq" "$NAME" >"$SFY_TMP/direct.out" 2>&1
n=$(wait_count 1 queries)
expect_gt "queries the server saw without socksify" "$n" 0
grep -q "^res_query A ok 198.18.99.7" "$SFY_TMP/direct.out" ||
	fail "direct resq did not get the server's answer: $(cat "$SFY_TMP/direct.out")"
say "without socksify: $n queries reached the server"

# With remote DNS off (socks5://) every call is libc's, untouched.
before=$(queries)
in_ns "$SOCKSIFY" -x socks5://127.0.0.1:1 "$PROGS/resq" "$NAME" \
	>"$SFY_TMP/off.out" 2>&1
n=$(wait_count $((before + 1)) queries)
expect_gt "queries with remote DNS off" "$n" "$before"
say "remote DNS off: libc's resolver used ($((n - before)) queries)"

# With remote DNS on: every answer is local and nothing reaches the server.
before=$(queries)
in_ns "$SOCKSIFY" -x socks5h://127.0.0.1:1 "$PROGS/resq" "$NAME" \
	>"$SFY_TMP/resq.out" 2>"$SFY_TMP/resq.err" ||
	fail "resq failed: $(cat "$SFY_TMP/resq.err")"
out=$(cat "$SFY_TMP/resq.out")
calls="res_query res_search res_querydomain res_send res_nquery res_nsearch
res_nquerydomain res_nsend __res_query __res_send"
for call in $calls; do
	a=$(printf '%s\n' "$out" | sed -n "s/^$call A ok //p")
	case $a in
	24[0-9].* | 25[0-5].*) ;;
	*) fail "$call A: '$a' is not a fake IPv4 address
$out" ;;
	esac
	aaaa=$(printf '%s\n' "$out" | sed -n "s/^$call AAAA ok //p")
	case $aaaa in
	fd5c:6f63:6b73:*) ;;
	*) fail "$call AAAA: '$aaaa' is not a fake IPv6 address" ;;
	esac
	expect_eq "$call PTR of $a" \
		"$(printf '%s\n' "$out" | sed -n "s/^$call PTR ok //p")" "$NAME"
	for type in SRV MX; do
		got=$(printf '%s\n' "$out" | sed -n "s/^$call $type //p")
		case $call:$got in
		*send:rcode=5) ;; # REFUSED, as a server would say
		*send:*) fail "$call $type: '$got', want rcode=5 (REFUSED)" ;;
		*:"fail h_errno=3") ;; # NO_RECOVERY
		*) fail "$call $type: '$got', want fail h_errno=3" ;;
		esac
	done
done
expect_eq "one address for the name in every call" \
	"$(printf '%s\n' "$out" | sed -n 's/^[a-z_]* A ok //p' | sort -u |
		wc -l | tr -d ' ')" 1
gai=$(in_ns "$SOCKSIFY" -x socks5h://127.0.0.1:1 sh -c \
	'"$1" "$2" >/dev/null; getent ahostsv4 "$2"' sh "$PROGS/resq" "$NAME" |
	awk 'NR == 1 { print $1 }')
case $gai in
24[0-9].* | 25[0-5].*) ;;
*) fail "getaddrinfo gave '$gai', not a fake address" ;;
esac
say "A, AAAA from the fake map, PTR round-trips, SRV/MX refused"
grep -q "refused" "$SFY_TMP/resq.err" ||
	say "note: refusals are logged at warning level (not shown by default)"

# apt's SRV lookup goes through res_search: it must not reach the server.
if [ -x "$APT_HELPER" ]; then
	if in_ns "$SOCKSIFY" -x socks5h://127.0.0.1:1 "$APT_HELPER" \
		srv-lookup "_http._tcp.$NAME" >"$SFY_TMP/apt.out" 2>&1; then
		fail "apt-helper srv-lookup succeeded: $(cat "$SFY_TMP/apt.out")"
	fi
	say "apt-helper srv-lookup under socksify: failed cleanly"
else
	say "note: no $APT_HELPER, apt's SRV lookup not tried"
fi

sleep 0.5
after=$(queries)
[ "$after" = "$before" ] || fail "the DNS server received $((after - before)) queries under socksify:
$(tail -n $((after - before)) "$record")"
say "the DNS server received nothing under socksify"

# And apt-helper without socksify does reach it (the check above can fail).
if [ -x "$APT_HELPER" ]; then
	in_ns "$APT_HELPER" srv-lookup "_http._tcp.$NAME" >/dev/null 2>&1
	n=$(wait_count $((after + 1)) queries)
	expect_gt "apt-helper without socksify reaches the server" "$n" \
		"$after"
fi
sfy_pass
