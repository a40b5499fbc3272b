#!/usr/bin/env python3
"""faulthttp.py - a scriptable, misbehaving HTTP CONNECT proxy for tests.

It listens on --listen (127.0.0.1 by default) at a free port, written to
--port-file once it listens, reads each request head (up to the empty line)
and appends one line per request to --record:

    CONNECT target.socksify.test:80 auth=YWxpY2U6czNjcmV0

(auth=- when there was no Proxy-Authorization header). Then it answers as
--mode says:

  ok       "200 Connection established", then echo every byte back
  early    the 200 head and "EARLY <token>\\n" in one send, then echo: a
           client that reads past the head would lose the line
  slow     the 200 head one byte at a time (--delay seconds apart), then
           echo
  status   "HTTP/1.1 --status Reason" with a small body, then close
  auth     200 when Proxy-Authorization is Basic base64(--user:--pass),
           407 with Proxy-Authenticate otherwise
  garbage  a SOCKS5 reply (05 00) instead of HTTP, then close
  huge     a 200 status line, then headers without end (32 KiB), then hang
  cut      half a head, then close
  byport   the port the CONNECT names picks: 1 garbage, 2 cut, 3 huge,
           4 slow, 100..599 that status, any other ok
Python 3 standard library only.
"""

import argparse
import base64
import os
import socket
import sys
import threading
import time

OK_HEAD = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: faulthttp\r\n\r\n"
REASONS = {400: "Bad Request", 403: "Forbidden", 407: "Proxy Authentication Required",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


def read_head(conn):
    """Read one byte at a time up to the empty line (bounded)."""
    data = b""
    while not data.endswith(b"\r\n\r\n") and len(data) < 65536:
        b = conn.recv(1)
        if not b:
            return None
        data += b
    return data.decode("latin-1")


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            return
        conn.sendall(data)


def record(args, line):
    with open(args.record, "a") as f:
        f.write(line + "\n")


def auth_of(head):
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "proxy-authorization":
            parts = value.split()
            return parts[1] if len(parts) == 2 else value.strip()
    return "-"


def status_reply(code):
    body = b"denied\n"
    extra = ""
    if code == 407:
        extra = 'Proxy-Authenticate: Basic realm="faulthttp"\r\n'
    head = "HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\n\r\n" % (
        code, REASONS.get(code, "Status"), extra, len(body))
    return head.encode() + body


def mode_of_port(args, port):
    """byport: the behaviour the destination port asks for."""
    named = {1: "garbage", 2: "cut", 3: "huge", 4: "slow"}
    if port in named:
        return named[port]
    if 100 <= port <= 599:
        args.status = port
        return "status"
    return "ok"


def answer(conn, args, auth, port):
    mode = args.mode
    if mode == "byport":
        mode = mode_of_port(argparse.Namespace(**vars(args)), port)
        if mode == "status":
            conn.sendall(status_reply(port))
            return
    if mode == "auth":
        want = base64.b64encode(("%s:%s" % (args.user, args.password)).encode()).decode()
        mode = "ok" if auth == want else "deny"
    if mode == "ok":
        conn.sendall(OK_HEAD)
        echo(conn)
    elif mode == "early":
        conn.sendall(OK_HEAD + b"EARLY " + args.token.encode() + b"\n")
        echo(conn)
    elif mode == "slow":
        for i in range(len(OK_HEAD)):
            conn.sendall(OK_HEAD[i:i + 1])
            time.sleep(args.delay)
        echo(conn)
    elif mode == "status":
        conn.sendall(status_reply(args.status))
    elif mode == "deny":
        conn.sendall(status_reply(407))
    elif mode == "garbage":
        conn.sendall(b"\x05\x00")
    elif mode == "huge":
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 32768)
        time.sleep(10)
    elif mode == "cut":
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Half: ")


def serve(conn, args):
    try:
        conn.settimeout(20)
        head = read_head(conn)
        if head is None:
            return
        first = head.split("\r\n", 1)[0]
        parts = first.split()
        target = parts[1] if len(parts) == 3 and parts[0] == "CONNECT" else "?" + first
        record(args, "CONNECT %s auth=%s" % (target, auth_of(head)))
        port = target.rpartition(":")[2]
        answer(conn, args, auth_of(head), int(port) if port.isdigit() else 0)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port-file", required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--mode", default="ok")
    p.add_argument("--status", type=int, default=502)
    p.add_argument("--user", default="alice")
    p.add_argument("--pass", dest="password", default="s3cret")
    p.add_argument("--token", default="token")
    p.add_argument("--delay", type=float, default=0.005)
    args = p.parse_args()
    family = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.listen, 0))
    srv.listen(64)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, args.port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
