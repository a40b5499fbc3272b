#!/usr/bin/env python3
"""faultsocks.py - a scriptable, misbehaving SOCKS4/4a/5 server for tests.

It listens on --listen (127.0.0.1 by default) at --port (0 = any; the port
is written to --port-file once it listens), answers every connection the way
--mode says, and appends one line per event
to --record so that tests can check what the client actually sent, e.g.

    socks5 greeting methods=00,02
    socks5 auth user=alice pass=secret
    socks5 request cmd=1 atyp=3 host=target.socksify.test port=80
    socks4 request cmd=1 ip=0.0.0.1 user=root host=target.socksify.test port=80

Modes (SOCKS5 unless said otherwise):
  ok          succeed, then --serve (echo by default)
  rep         reply REP=--rep after the request, then close
  badver      reply with VER=4
  badrsv      reply with RSV=1 (REP 0)
  badatyp     reply with ATYP=9
  truncate    send 4 bytes of a success reply, then close
  hang        read the request and never answer (until --hang seconds)
  hanggreet   read the greeting and never answer
  closegreet  close right after reading the greeting
  noaccept    answer the greeting with 0xFF (no acceptable methods)
  badmethod   choose a method the client did not offer
  authfail    ask for username/password, then reject any
  auth        ask for username/password, accept only --user/--pass
  split       success reply one byte at a time, --delay seconds apart
  banner      success reply and --banner text in one send, then serve
  udp         like ok, and UDP ASSOCIATE is served by a relay of our own
              (see udp_associate); --relay-zero replies BND.ADDR 0.0.0.0
  tor         Tor's RESOLVE (0xF0) and RESOLVE_PTR (0xF1) for the names
              in TOR_NAMES (REP 4 for others); CONNECT as in ok;
              username/password chosen when offered, any accepted
  bindname    BIND with both replies naming hosts: proxy.socksify.test:4242
              first, then (after --delay) peer.socksify.test:5555; then
              sends "bindname-hello" and records the line it gets back
  gssapi      RFC 1961 (method 0x01) with the fake tokens of
              tests/integration/fakegss.c: expects "FAKE-AP-REQ:<name>",
              answers "FAKE-AP-REP", then takes the protection level
              wrapped as "FAKE-WRAP:<octet>" and answers the same one
              (records "gssapi token=..." and "gssapi protection=N");
              then CONNECT as in ok, UDP ASSOCIATE as in udp, BIND as
              in bindname. --gss
              changes its answer: abort
              (after the first token), abortprot (after the protection
              level), level1 (answers integrity), truncate (half a token,
              then close), badver (version 2 frame); --gss-rounds N wants
              N context tokens (FAKE-AP-REQ, then FAKE-MORE-k)
SOCKS4 connections get a reply with status --rep4 (0x5a = granted) in modes
ok/rep4/banner; in other modes they get the same fault where one applies.
--serve echo: echo bytes back; --serve relay --target HOST:PORT: relay to a
fixed loopback target (e.g. an HTTP server) whatever the request named.
Python 3 standard library only.
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time

ARGS = None
LOCK = threading.Lock()
REQUEST = threading.local()  # the host of this thread's SOCKS5 request


def record(line):
    """Append one line to the record file (thread-safe, flushed)."""
    with LOCK:
        with open(ARGS.record, "a") as f:
            f.write(line + "\n")


def recv_exact(sock, n):
    """Read exactly n bytes; raise EOFError when the peer closes first."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_until_nul(sock, limit=1024):
    """Read a NUL-terminated string (SOCKS4 user id / host name)."""
    buf = b""
    while len(buf) < limit:
        c = recv_exact(sock, 1)
        if c == b"\0":
            return buf
        buf += c
    raise EOFError("string too long")


def serve(sock, first=b""):
    """After a successful handshake: echo, or relay to the fixed target."""
    if ARGS.serve == "relay":
        host, port = ARGS.target.rsplit(":", 1)
        up = socket.create_connection((host, int(port)), 5)
        pump = threading.Thread(target=copy, args=(up, sock), daemon=True)
        pump.start()
        if first:
            up.sendall(first)
        copy(sock, up)
        pump.join(30)
        up.close()
        return
    if first:
        sock.sendall(first)
    while True:
        data = sock.recv(65536)
        if not data:
            return
        sock.sendall(data)


def copy(src, dst):
    """Copy src to dst until EOF, then half-close dst."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def hang(sock):
    """Hold the connection without answering until the client goes away."""
    sock.settimeout(ARGS.hang)
    try:
        while sock.recv(4096):
            pass
    except OSError:
        pass


def success_reply():
    """A SOCKS5 success reply: VER 5, REP 0, RSV 0, IPv4 127.0.0.1:4242."""
    return bytes([5, 0, 0, 1, 127, 0, 0, 1]) + struct.pack("!H", 4242)


def socks5_greeting(sock):
    """Read VER NMETHODS METHODS (VER already read). Returns the methods."""
    n = recv_exact(sock, 1)[0]
    methods = list(recv_exact(sock, n))
    record("socks5 greeting methods=" + ",".join("%02x" % m for m in methods))
    return methods


def socks5_auth(sock):
    """RFC 1929 sub-negotiation; returns (user, password)."""
    ver = recv_exact(sock, 1)[0]
    ulen = recv_exact(sock, 1)[0]
    user = recv_exact(sock, ulen).decode("latin-1")
    plen = recv_exact(sock, 1)[0]
    pw = recv_exact(sock, plen).decode("latin-1")
    record("socks5 auth ver=%d user=%s pass=%s" % (ver, user, pw))
    return user, pw


def socks5_request(sock):
    """Read VER CMD RSV ATYP DST.ADDR DST.PORT and record it."""
    ver, cmd, rsv, atyp = recv_exact(sock, 4)
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, recv_exact(sock, 4))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, recv_exact(sock, 16))
    elif atyp == 3:
        host = recv_exact(sock, recv_exact(sock, 1)[0]).decode("latin-1")
    else:
        host = "?"
    port = struct.unpack("!H", recv_exact(sock, 2))[0]
    record("socks5 request ver=%d cmd=%d rsv=%d atyp=%d host=%s port=%d"
           % (ver, cmd, rsv, atyp, host, port))
    REQUEST.host = host
    return cmd


def gss_read(sock):
    """One RFC 1961 frame: returns (mtyp, token); mtyp 0xff has none."""
    ver, mtyp = recv_exact(sock, 2)
    if ver != 1:
        record("gssapi bad version %d" % ver)
        raise EOFError("bad GSS-API frame version")
    if mtyp == 0xFF:
        return mtyp, b""
    n = struct.unpack("!H", recv_exact(sock, 2))[0]
    return mtyp, recv_exact(sock, n)


def gss_frame(mtyp, token):
    return bytes([1, mtyp]) + struct.pack("!H", len(token)) + token


def gss_context(sock):
    """The context tokens. Returns False when the mode stops here."""
    for k in range(1, ARGS.gss_rounds + 1):
        mtyp, token = gss_read(sock)
        record("gssapi token=%s" % token.decode("latin-1"))
        if mtyp != 1:
            return False
        if ARGS.gss == "abort":
            sock.sendall(b"\x01\xff")
            return False
        if ARGS.gss == "truncate":
            sock.sendall(gss_frame(1, b"FAKE-AP-REP")[:7])
            return False
        if ARGS.gss == "badver":
            sock.sendall(b"\x02" + gss_frame(1, b"FAKE-AP-REP")[1:])
            return False
        last = k == ARGS.gss_rounds
        sock.sendall(gss_frame(1, b"FAKE-AP-REP" if last
                               else b"FAKE-MORE-%d" % k))
    return True


def gss_protection(sock):
    """The protection level sub-negotiation (RFC 1961 section 4)."""
    mtyp, token = gss_read(sock)
    if mtyp != 2 or not token.startswith(b"FAKE-WRAP:") or len(token) != 11:
        record("gssapi bad protection message %d %r" % (mtyp, token))
        return False
    level = token[10]
    record("gssapi protection=%d" % level)
    if ARGS.gss == "abortprot":
        sock.sendall(b"\x01\xff")
        return False
    if ARGS.gss == "level1":
        level = 1
    sock.sendall(gss_frame(2, b"FAKE-WRAP:" + bytes([level])))
    return True


def choose_method(sock, methods):
    """Answer the greeting as the mode says. Returns False to stop here."""
    mode = ARGS.mode
    if mode == "gssapi":
        if 1 not in methods:
            sock.sendall(b"\x05\xff")
            return False
        sock.sendall(b"\x05\x01")
        return gss_context(sock) and gss_protection(sock)
    if mode == "noaccept":
        sock.sendall(b"\x05\xff")
        return False
    if mode == "badmethod":
        unoffered = [m for m in (0x02, 0x01, 0x80, 0x00) if m not in methods]
        sock.sendall(bytes([5, unoffered[0]]))
        return False
    if mode in ("authfail", "auth"):
        if 2 not in methods:
            sock.sendall(b"\x05\xff")
            return False
        sock.sendall(b"\x05\x02")
        user, pw = socks5_auth(sock)
        good = mode == "auth" and user == ARGS.user and pw == ARGS.password
        sock.sendall(b"\x01\x00" if good else b"\x01\x01")
        return good
    if mode == "tor" and 2 in methods:
        # Tor takes username/password when offered (any: it isolates
        # streams by them) and records them here.
        sock.sendall(b"\x05\x02")
        socks5_auth(sock)
        sock.sendall(b"\x01\x00")
        return True
    if 0 not in methods:
        sock.sendall(b"\x05\xff")
        return False
    sock.sendall(b"\x05\x00")
    return True


def socks5_reply(sock):
    """Send the mode's reply to a CONNECT request."""
    mode = ARGS.mode
    ok = success_reply()
    if mode == "rep":
        sock.sendall(bytes([5, ARGS.rep, 0, 1, 0, 0, 0, 0, 0, 0]))
    elif mode == "badver":
        sock.sendall(bytes([4]) + ok[1:])
    elif mode == "badrsv":
        sock.sendall(ok[:2] + b"\x01" + ok[3:])
    elif mode == "badatyp":
        sock.sendall(bytes([5, 0, 0, 9]) + ok[4:])
    elif mode == "tor":
        sock.sendall(ok)
        serve(sock)
    elif mode == "truncate":
        sock.sendall(ok[:4])
    elif mode == "hang":
        hang(sock)
    elif mode == "split":
        for i in range(len(ok)):
            sock.sendall(ok[i:i + 1])
            time.sleep(ARGS.delay)
        serve(sock)
    elif mode == "banner":
        sock.sendall(ok + ARGS.banner.encode())
        serve(sock)
    else:
        sock.sendall(ok)
        serve(sock)


def udp_header(atyp, host, port):
    """The RFC 1928 section 7 header (FRAG 0) for atyp/host/port."""
    if atyp == 1:
        addr = socket.inet_aton(host)
    elif atyp == 4:
        addr = socket.inet_pton(socket.AF_INET6, host)
    else:
        name = host.encode("latin-1")
        addr = bytes([len(name)]) + name
    return bytes([0, 0, 0, atyp]) + addr + struct.pack("!H", port)


def udp_parse(data):
    """Split a wrapped datagram: (frag, atyp, host, port, payload) or None."""
    if len(data) < 4 or data[0:2] != b"\0\0":
        return None
    frag, atyp = data[2], data[3]
    if atyp == 1 and len(data) >= 10:
        host, pos = socket.inet_ntoa(data[4:8]), 8
    elif atyp == 4 and len(data) >= 22:
        host, pos = socket.inet_ntop(socket.AF_INET6, data[4:20]), 20
    elif atyp == 3 and len(data) >= 5 and len(data) >= 7 + data[4]:
        host, pos = data[5:5 + data[4]].decode("latin-1"), 5 + data[4]
    else:
        return None
    port = struct.unpack("!H", data[pos:pos + 2])[0]
    return frag, atyp, host, port, data[pos + 2:]


def udp_bad_burst(relay, peer, header):
    """Malformed datagrams a client must drop, then nothing else: a short
    one, FRAG 1, RSV 1, ATYP 9, and a good one from a foreign socket."""
    relay.sendto(b"\0\0", peer)
    relay.sendto(header[:2] + b"\x01" + header[3:] + b"frag", peer)
    relay.sendto(b"\0\x01" + header[2:] + b"rsv", peer)
    relay.sendto(b"\0\0\0\x09" + header[4:] + b"atyp", peer)
    other = socket.socket(relay.family, socket.SOCK_DGRAM)
    other.bind((ARGS.listen, 0))
    other.sendto(header + b"foreign", peer)
    other.close()


def udp_frag_burst(relay, peer, header, payload):
    """Fragmented replies (RFC 1928 section 7) for a payload starting
    "FRAG-": the reply b"whole " + payload cut in three (in the middle of
    the payload a big reply of 3 x 20000 bytes when it is "FRAG-BIG"),
    sent as FRAG-INORDER: 1, 2, 3|0x80; FRAG-REORDER: 2, 1, 3|0x80;
    FRAG-INCOMPLETE: 1, 2; FRAG-ABANDON: 1, 2 of an old reply, then 1,
    2|0x80 of b"second " + payload; FRAG-DUP: 1, 2, 2, 3|0x80; then a
    standalone b"marker " + payload, so a client sees what came before
    it. Returns True when it handled the payload."""
    whole = b"whole " + payload
    if payload == b"FRAG-BIG":
        whole = bytes(range(256)) * 234 + b"end"
    third = (len(whole) + 2) // 3
    parts = [whole[:third], whole[third:2 * third], whole[2 * third:]]
    plans = {
        b"FRAG-INORDER": [(1, 0), (2, 1), (0x83, 2)],
        b"FRAG-BIG": [(1, 0), (2, 1), (0x83, 2)],
        b"FRAG-REORDER": [(2, 1), (1, 0), (0x83, 2)],
        b"FRAG-INCOMPLETE": [(1, 0), (2, 1)],
        b"FRAG-DUP": [(1, 0), (2, 1), (2, 1), (0x83, 2)],
    }
    if payload == b"FRAG-ABANDON":
        second = b"second " + payload
        sends = [(1, parts[0]), (2, parts[1]),
                 (1, second[:5]), (0x82, second[5:])]
    elif payload in plans:
        sends = [(frag, parts[i]) for frag, i in plans[payload]]
    else:
        return False
    for frag, data in sends:
        relay.sendto(header[:2] + bytes([frag]) + header[3:] + data, peer)
        time.sleep(0.01)
    relay.sendto(header + b"marker " + payload, peer)
    return True


def udp_associate(sock):
    """UDP ASSOCIATE served by our own relay on --listen. Every datagram
    is recorded ("udp relay frag=F atyp=A host=H port=P len=N from=IP:PORT")
    and echoed back as if from its destination. Payload "DROP" closes the
    control connection instead; payload starting "BAD" is preceded by
    udp_bad_burst(); payload starting "FROMOTHER" comes back as "other "
    + payload from the destination's port + 1; payload starting "FRAG-"
    comes back in fragments (udp_frag_burst()). The relay lives until the control connection ends, or
    (after DROP) until --hang seconds pass."""
    family = socket.AF_INET6 if ":" in ARGS.listen else socket.AF_INET
    relay = socket.socket(family, socket.SOCK_DGRAM)
    relay.bind((ARGS.listen, 0))
    port = relay.getsockname()[1]
    if ARGS.relay_zero or family == socket.AF_INET6:
        addr = b"\0\0\0\0"
    else:
        addr = socket.inet_aton(ARGS.listen)
    sock.sendall(bytes([5, 0, 0, 1]) + addr + struct.pack("!H", port))
    record("udp associate relay port=%d" % port)
    done = threading.Event()

    def watch():
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
        done.set()
    threading.Thread(target=watch, daemon=True).start()
    relay.settimeout(0.2)
    deadline = None
    while not (done.is_set() and deadline is None):
        if deadline is not None and time.time() > deadline:
            break
        try:
            data, peer = relay.recvfrom(65535)
        except socket.timeout:
            continue
        parsed = udp_parse(data)
        if parsed is None:
            record("udp relay malformed len=%d" % len(data))
            continue
        frag, atyp, host, dport, payload = parsed
        record("udp relay frag=%d atyp=%d host=%s port=%d len=%d from=%s:%d"
               % (frag, atyp, host, dport, len(payload), peer[0], peer[1]))
        header = udp_header(atyp, host, dport)
        if payload == b"DROP":
            sock.shutdown(socket.SHUT_RDWR)
            record("udp control closed")
            deadline = time.time() + ARGS.hang
            continue
        if payload.startswith(b"BAD"):
            udp_bad_burst(relay, peer, header)
        if payload.startswith(b"FRAG-") and \
                udp_frag_burst(relay, peer, header, payload):
            continue
        if payload.startswith(b"FROMOTHER"):
            header = udp_header(atyp, host, (dport + 1) & 0xFFFF)
            payload = b"other " + payload
        relay.sendto(header + payload, peer)
    relay.close()


def bind_named_peer(sock):
    """BIND whose replies name the bound address and the peer by host
    name (ATYP 3): the client must still give getsockname() and accept()
    usable addresses. A line each way proves the connection was handed
    over."""
    for name, port in ((b"proxy.socksify.test", 4242),
                       (b"peer.socksify.test", 5555)):
        sock.sendall(bytes([5, 0, 0, 3, len(name)]) + name +
                     struct.pack("!H", port))
        time.sleep(ARGS.delay)
    sock.sendall(b"bindname-hello\n")
    line = b""
    while not line.endswith(b"\n") and len(line) < 256:
        chunk = sock.recv(256)
        if not chunk:
            break
        line += chunk
    record("bind answer %s" % line.decode("latin-1").strip())


# What mode "tor" knows: RESOLVE (0xF0) name -> address, RESOLVE_PTR
# (0xF1) address -> name; anything else fails with REP 4 as Tor's does.
TOR_NAMES = {"known.socksify.test": "198.18.7.7",
             "six.socksify.test": "2001:db8::7"}


def tor_command(sock, cmd):
    """Answer Tor's RESOLVE or RESOLVE_PTR for this request's host."""
    host = REQUEST.host
    fail = bytes([5, 4, 0, 1, 0, 0, 0, 0, 0, 0])
    if cmd == 0xF0 and host in TOR_NAMES:
        addr = TOR_NAMES[host]
        if ":" in addr:
            body = b"\x04" + socket.inet_pton(socket.AF_INET6, addr)
        else:
            body = b"\x01" + socket.inet_aton(addr)
        sock.sendall(b"\x05\x00\x00" + body + b"\0\0")
        return
    names = {v: k for k, v in TOR_NAMES.items()}
    if cmd == 0xF1 and host in names:
        name = names[host].encode()
        sock.sendall(b"\x05\x00\x00\x03" + bytes([len(name)]) + name +
                     b"\0\0")
        return
    sock.sendall(fail)


def handle_socks5(sock):
    methods = socks5_greeting(sock)
    if ARGS.mode == "closegreet":
        return
    if ARGS.mode == "hanggreet":
        hang(sock)
        return
    if not choose_method(sock, methods):
        return
    cmd = socks5_request(sock)
    if ARGS.mode in ("udp", "gssapi") and cmd == 3:
        udp_associate(sock)
        return
    if ARGS.mode == "tor" and cmd in (0xF0, 0xF1):
        tor_command(sock, cmd)
        return
    if ARGS.mode in ("bindname", "gssapi") and cmd == 2:
        bind_named_peer(sock)
        return
    socks5_reply(sock)


def handle_socks4(sock):
    """SOCKS4/4a: VN CD DSTPORT DSTIP USERID NUL [HOST NUL]."""
    cmd = recv_exact(sock, 1)[0]
    port = struct.unpack("!H", recv_exact(sock, 2))[0]
    ip = socket.inet_ntoa(recv_exact(sock, 4))
    user = recv_until_nul(sock).decode("latin-1")
    host = ""
    if ip.startswith("0.0.0.") and ip != "0.0.0.0":
        host = recv_until_nul(sock).decode("latin-1")
    record("socks4 request cmd=%d ip=%s user=%s host=%s port=%d"
           % (cmd, ip, user, host, port))
    mode = ARGS.mode
    reply = bytes([0, ARGS.rep4]) + b"\0" * 6
    if mode == "hang":
        hang(sock)
    elif mode == "truncate":
        sock.sendall(reply[:3])
    elif mode == "badver":
        sock.sendall(b"\x05" + reply[1:])
    elif mode == "split":
        for i in range(len(reply)):
            sock.sendall(reply[i:i + 1])
            time.sleep(ARGS.delay)
        serve(sock)
    elif mode == "banner":
        sock.sendall(reply + ARGS.banner.encode())
        serve(sock)
    else:
        sock.sendall(reply)
        if ARGS.rep4 == 0x5a:
            serve(sock)


def handle(sock):
    try:
        sock.settimeout(ARGS.hang + 5)
        first = sock.recv(1)
        if not first:
            return  # a port probe: connected and closed, nothing to record
        ver = first[0]
        if ver == 5:
            handle_socks5(sock)
        elif ver == 4:
            handle_socks4(sock)
        else:
            record("unknown version %d" % ver)
    except (OSError, EOFError) as e:
        record("connection error: %s" % e)
    finally:
        sock.close()


def main():
    global ARGS
    p = argparse.ArgumentParser(description="fault-injecting SOCKS server")
    p.add_argument("--mode", default="ok")
    p.add_argument("--rep", type=lambda s: int(s, 0), default=1)
    p.add_argument("--rep4", type=lambda s: int(s, 0), default=0x5a)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--delay", type=float, default=0.05)
    p.add_argument("--banner", default="BANNER-FROM-SERVER\n")
    p.add_argument("--serve", choices=("echo", "relay"), default="echo")
    p.add_argument("--target", default="")
    p.add_argument("--hang", type=float, default=30.0)
    p.add_argument("--relay-zero", action="store_true")
    p.add_argument("--gss", default="ok",
                   choices=("ok", "abort", "abortprot", "level1",
                            "truncate", "badver"))
    p.add_argument("--gss-rounds", type=int, default=1)
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    ARGS = p.parse_args()

    family = socket.AF_INET6 if ":" in ARGS.listen else socket.AF_INET
    srv = socket.socket(family)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ARGS.listen, ARGS.port))
    srv.listen(128)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
