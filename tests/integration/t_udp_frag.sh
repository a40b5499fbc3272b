#!/bin/sh
# UDP fragments (RFC 1928 section 7) from our own relay (faultsocks.py
# --mode udp, udp_frag_burst()), each burst followed by a standalone
# "marker" datagram:
#  - 1, 2, 3|end: the program reads the whole datagram once, then the marker;
#  - a 60 kB datagram in three fragments arrives whole and intact;
#  - 2, 1, 3|end (reordered): nothing but the marker;
#  - 1, 2 and no end (incomplete): nothing but the marker, and a later
#    sequence still goes through;
#  - 1, 2 of one reply then 1, 2|end of another (abandoned): only the second;
#  - 1, 2, 2, 3|end (a duplicate): the whole datagram once;
#  - a socket connect()ed to the destination gets whole datagrams too.
. "$(dirname "$0")/lib.sh"
sfy_init
start_udp_echo
conf=$SFY_TMP/frag.conf

start_fault udp
write_conf "$conf" "proxy socks5h://127.0.0.1:$FAULT_PORT" "direct none"
out=$(timeout 30 "$SOCKSIFY" -f "$conf" "$PYTHON" - "$UECHO_PORT" \
	2>"$SFY_TMP/client.err" <<'PY'
import socket, sys
dest = ("127.0.0.1", int(sys.argv[1]))
def burst(sock, what, connected=False):
    """Send what, read until the marker: the payloads read before it."""
    if connected:
        sock.send(what)
    else:
        sock.sendto(what, dest)
    got = []
    for _ in range(10):
        data, src = sock.recvfrom(70000)
        if src != dest:
            return got + [b"wrong source %r" % (src,)]
        if data == b"marker " + what:
            return got
        got.append(data)
    return got + [b"no marker"]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
print("inorder:", burst(s, b"FRAG-INORDER"))
big = burst(s, b"FRAG-BIG")
print("big:", len(big), big == [bytes(range(256)) * 234 + b"end"])
print("reorder:", burst(s, b"FRAG-REORDER"))
print("incomplete:", burst(s, b"FRAG-INCOMPLETE"))
print("after incomplete:", burst(s, b"FRAG-INORDER"))
print("abandon:", burst(s, b"FRAG-ABANDON"))
print("dup:", burst(s, b"FRAG-DUP"))
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(5)
c.connect(dest)
print("connected:", burst(c, b"FRAG-INORDER", True))
PY
) || fail "client: $out $(cat "$SFY_TMP/client.err")"
printf '%s\n' "$out" | sed 's/^/    /' >&2
expect_contains "in order" "$out" "inorder: [b'whole FRAG-INORDER']"
expect_contains "60 kB whole" "$out" "big: 1 True"
expect_contains "reordered dropped" "$out" "reorder: []"
expect_contains "incomplete dropped" "$out" "incomplete: []"
expect_contains "a sequence after an incomplete one" "$out" \
	"after incomplete: [b'whole FRAG-INORDER']"
expect_contains "abandoned sequence" "$out" \
	"abandon: [b'second FRAG-ABANDON']"
expect_contains "duplicate fragment" "$out" "dup: [b'whole FRAG-DUP']"
expect_contains "connected socket" "$out" \
	"connected: [b'whole FRAG-INORDER']"
expect_eq "datagrams that went direct to the echo server" "$(uecho_count)" 0
say "fragments: in order, 60 kB, reordered, incomplete, abandoned, duplicate: ok"
sfy_pass
