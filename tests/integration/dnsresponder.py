#!/usr/bin/env python3
"""dnsresponder.py - a tiny authoritative-for-everything DNS server (UDP).

Binds --listen (127.0.0.1) at --port (0 = any; written to --port-file once
bound). Every A query, for any name, is answered with --answer (TTL 60);
other query types get an empty NOERROR answer. Each query adds one line to
--record:

    query name=target.socksify.test type=1 from=127.0.0.1:40123

so a test can check both the name asked and who asked (through danted the
peer is danted's relay socket). Python 3 standard library only.
"""

import argparse
import os
import socket
import struct
import sys


def parse_question(msg):
    """Return (name, qtype, end offset) of the first question, or None."""
    if len(msg) < 12:
        return None
    qdcount = struct.unpack("!H", msg[4:6])[0]
    if qdcount < 1:
        return None
    labels = []
    pos = 12
    while pos < len(msg):
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n > 63 or pos + n > len(msg):
            return None
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    return ".".join(labels), qtype, pos + 4


def answer(msg, question, address):
    """Build the response to msg (whose first question is question)."""
    name, qtype, end = question
    ident = msg[0:2]
    rd = msg[2] & 0x01
    flags = struct.pack("!BB", 0x84 | rd, 0x00)  # QR AA (RD copied), NOERROR
    ancount = 1 if qtype == 1 else 0
    head = ident + flags + struct.pack("!HHHH", 1, ancount, 0, 0)
    body = msg[12:end]
    if ancount:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4)
        body += socket.inet_aton(address)
    return head + body


def main():
    p = argparse.ArgumentParser(description="tiny DNS responder")
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--answer", default="198.18.99.7")
    args = p.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.listen, args.port))
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    with open(args.record, "a") as rec:
        while True:
            msg, peer = sock.recvfrom(65535)
            question = parse_question(msg)
            if question is None:
                rec.write("malformed len=%d from=%s:%d\n"
                          % (len(msg), peer[0], peer[1]))
                rec.flush()
                continue
            rec.write("query name=%s type=%d from=%s:%d\n"
                      % (question[0], question[1], peer[0], peer[1]))
            rec.flush()
            sock.sendto(answer(msg, question, args.answer), peer)


if __name__ == "__main__":
    sys.exit(main())
