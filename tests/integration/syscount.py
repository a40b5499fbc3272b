"""syscount.py — system calls inside each fenced connect() of connloop.

Reads an `strace -f` log (one line per call, each starting with the thread
id). connloop calls getppid() right before and right after each connect();
the calls its main thread makes between two such fences are that connect's.
Counting starts at connloop's execve (the wrapper and the shell before it
call getppid too). The first connect is left out: it loads the
configuration.

Usage: syscount.py TRACE [IGNORED-CALL...]
Calls named after TRACE are not counted (futex: a lock another thread held
for a moment, which varies from run to run).
Prints "count N max M p95 P rearms R" and then the calls of the connect with
the most calls, one a line. Exit status 2 when no connect was found.

A receive timeout set again inside one connect (SO_RCVTIMEO to a value
other than none, after it was set once) is not counted: socksify sets it
again only when more than 5 ms have passed since it was set (a slow or
busy machine), to keep the handshake's deadline. R counts them, in all
connects.
"""
import re
import sys

LINE = re.compile(r'^(\d+)\s+(?:<\.\.\. )?(\w+)(\(| resumed>)')
RCVTIMEO = re.compile(r'setsockopt\(\d+, SOL_SOCKET, SO_RCVTIMEO\w*, "([^"]*)"')


def connects(lines, ignored):
    """The calls of each connect, and how many timeouts were set again."""
    main = None
    inside = None
    armed = False
    rearms = 0
    found = []
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        tid, name, how = m.groups()
        if name == 'execve' and 'connloop"' in line:
            main, inside = tid, None
            continue
        if tid != main or how != '(':
            continue  # another thread, or the end of an interrupted call
        if name == 'getppid':
            if inside is None:
                inside = []
                armed = False
            else:
                found.append(inside)
                inside = None
            continue
        if inside is None or name in ignored:
            continue
        timeout = RCVTIMEO.search(line)
        if timeout and set(timeout.group(1).split('\\0')) != {''}:
            if armed:
                rearms += 1
                continue
            armed = True
        inside.append(line.split(None, 1)[1].rstrip()[:120])
    return found[1:], rearms


def main():
    with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
        found, rearms = connects(f.read().splitlines(), set(sys.argv[2:]))
    if not found:
        print('count 0')
        return 2
    sizes = sorted(len(c) for c in found)
    p95 = sizes[min(len(sizes) - 1, (len(sizes) * 95) // 100)]
    print('count %d max %d p95 %d rearms %d' %
          (len(sizes), sizes[-1], p95, rearms))
    for call in max(found, key=len):
        print(call)
    return 0


if __name__ == '__main__':
    sys.exit(main())
