#!/bin/sh
# remote_dns resolve against our own SOCKS5 server speaking Tor's extensions
# (faultsocks.py --mode tor; no Tor network here):
#  - getaddrinfo asks the proxy (RESOLVE, 0xF0) and returns the real address,
#    IPv4 and IPv6; a name the proxy cannot resolve is EAI_NONAME;
#  - a connect to that address goes through the proxy as the address;
#  - gethostbyaddr and getnameinfo of a real address ask the proxy
#    (RESOLVE_PTR, 0xF1); an address it cannot name is answered numerically
#    (EAI_NONAME under NI_NAMEREQD);
#  - a proxy answering "command not supported" (REP 7) gives EAI_FAIL and a
#    log line naming Tor's RESOLVE.
. "$(dirname "$0")/lib.sh"
sfy_init
conf=$SFY_TMP/tor.conf

start_fault tor
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT" "remote_dns resolve"
out=$(timeout 30 "$SOCKSIFY" -f "$conf" "$PYTHON" - \
	2>"$SFY_TMP/client.err" <<'PY'
import socket
def gai(name, family):
    try:
        return sorted({a[4][0] for a in socket.getaddrinfo(
            name, 80, family, socket.SOCK_STREAM)})
    except socket.gaierror as e:
        return "gaierror %d" % e.errno
def gni(addr, flags):
    try:
        return socket.getnameinfo((addr, 80), flags)[0]
    except socket.gaierror as e:
        return "gaierror %d" % e.errno
print("v4:", gai("known.socksify.test", socket.AF_INET))
print("v6:", gai("six.socksify.test", socket.AF_INET6))
print("unknown:", gai("unknown.socksify.test", socket.AF_INET),
      socket.EAI_NONAME)
print("byaddr:", socket.gethostbyaddr("198.18.7.7")[0])
print("nameinfo:", gni("198.18.7.7", socket.NI_NAMEREQD))
print("nameinfo unknown:", gni("198.18.9.9", 0),
      gni("198.18.9.9", socket.NI_NAMEREQD), socket.EAI_NONAME)
c = socket.create_connection(("known.socksify.test", 80), timeout=5)
c.sendall(b"tor-echo")
print("echo:", c.recv(100))
c.close()
PY
) || fail "client: $out $(cat "$SFY_TMP/client.err")"
printf '%s\n' "$out" | sed 's/^/    /' >&2
expect_contains "RESOLVE, IPv4" "$out" "v4: ['198.18.7.7']"
expect_contains "RESOLVE, IPv6" "$out" "v6: ['2001:db8::7']"
expect_contains "RESOLVE of an unknown name" "$out" "unknown: gaierror -2 -2"
expect_contains "gethostbyaddr by RESOLVE_PTR" "$out" \
	"byaddr: known.socksify.test"
expect_contains "getnameinfo by RESOLVE_PTR" "$out" \
	"nameinfo: known.socksify.test"
expect_contains "getnameinfo of an unknown address" "$out" \
	"nameinfo unknown: 198.18.9.9 gaierror -2 -2"
expect_contains "connect to the resolved address" "$out" "echo: b'tor-echo'"
grep -q "socks5 request ver=5 cmd=240 rsv=0 atyp=3 host=known.socksify.test port=0" \
	"$FAULT_REC" || fail "no RESOLVE request: $(cat "$FAULT_REC")"
grep -q "socks5 request ver=5 cmd=241 rsv=0 atyp=1 host=198.18.7.7 port=0" \
	"$FAULT_REC" || fail "no RESOLVE_PTR request: $(cat "$FAULT_REC")"
grep -q "socks5 request ver=5 cmd=1 rsv=0 atyp=1 host=198.18.7.7 port=80" \
	"$FAULT_REC" || fail "the connect did not name the real address"
say "RESOLVE, RESOLVE_PTR, connect by the real address: ok"

start_fault rep --rep 7
write_conf "$conf" "proxy socks5://127.0.0.1:$FAULT_PORT" "remote_dns resolve"
out=$(timeout 30 "$SOCKSIFY" -f "$conf" "$PYTHON" -c '
import socket
try:
    socket.getaddrinfo("known.socksify.test", 80)
    print("resolved")
except socket.gaierror as e:
    print("gaierror", e.errno, socket.EAI_FAIL)
' 2>"$SFY_TMP/client.err") || fail "client: $out"
expect_contains "command not supported" "$out" "gaierror -4 -4"
grep -q "does not support Tor's RESOLVE command" "$SFY_TMP/client.err" ||
	fail "no log line naming RESOLVE: $(cat "$SFY_TMP/client.err")"
say "a proxy without RESOLVE: EAI_FAIL, logged"
sfy_pass
