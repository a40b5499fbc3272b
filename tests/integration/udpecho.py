#!/usr/bin/env python3
"""udpecho.py - a UDP echo server for the integration tests.

Binds --listen (127.0.0.1) at --port (0 = any; the port is written to
--port-file once bound) and sends every datagram back to its sender,
prefixed with --prefix (empty by default). Each datagram received adds one
line to --record:

    from 127.0.0.1:40123 len=5

so a test can tell who really sent it: through danted the peer is danted's
relay socket, not the client's own socket. A datagram "STATS" is answered
with "count=N" (datagrams received so far, this one excluded) without being
echoed. A datagram starting with "FROMOTHER " is answered from a second,
unrelated socket (used to check that the client ignores other sources).
Python 3 standard library only.
"""

import argparse
import os
import socket
import sys


def main():
    p = argparse.ArgumentParser(description="UDP echo server")
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--prefix", default="")
    args = p.parse_args()

    family = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((args.listen, args.port))
    other = socket.socket(family, socket.SOCK_DGRAM)
    other.bind((args.listen, 0))
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    prefix = args.prefix.encode()
    count = 0
    with open(args.record, "a") as rec:
        while True:
            data, peer = sock.recvfrom(65535)
            if data == b"STATS":
                sock.sendto(b"count=%d" % count, peer)
                continue
            count += 1
            rec.write("from %s:%d len=%d\n" % (peer[0], peer[1], len(data)))
            rec.flush()
            if data.startswith(b"FROMOTHER "):
                other.sendto(b"other " + data, peer)
                continue
            sock.sendto(prefix + data, peer)


if __name__ == "__main__":
    sys.exit(main())
