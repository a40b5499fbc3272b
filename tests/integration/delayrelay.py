#!/usr/bin/env python3
"""delayrelay.py — a TCP relay that holds every chunk for a fixed one-way
delay (absolute deadlines: arrival + D, order kept), both directions, so a
proxy behind it sits one RTT of 2*D away. Loopback only.

usage: delayrelay.py --listen-port-file FILE --to HOST:PORT --delay-ms D
"""
import argparse
import asyncio


async def pump(reader, writer, delay, loop):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            loop.call_at(loop.time() + delay, writer.write, data)
    except (ConnectionError, OSError):
        pass
    loop.call_at(loop.time() + delay, close_write, writer)


def close_write(writer):
    try:
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError, RuntimeError):
        pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen-port-file", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    delay = a.delay_ms / 1000.0
    loop = asyncio.get_running_loop()

    async def handle(cr, cw):
        try:
            sr, sw = await asyncio.open_connection(host, int(port))
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, sw, delay, loop),
                             pump(sr, cw, delay, loop))
        await asyncio.sleep(delay + 0.01)
        cw.close()
        sw.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
    with open(a.listen_port_file + ".tmp", "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    import os
    os.rename(a.listen_port_file + ".tmp", a.listen_port_file)
    async with server:
        await server.serve_forever()


asyncio.run(main())
