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
Prints "count N max M p95 P" and then the calls of the connect with the most
calls, one a line. Exit status 2 when no connect was found.
"""
import re
import sys

LINE = re.compile(r'^(\d+)\s+(?:<\.\.\. )?(\w+)(\(| resumed>)')


def connects(lines, ignored):
    main = None
    inside = None
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
            else:
                found.append(inside)
                inside = None
        elif inside is not None and name not in ignored:
            inside.append(line.split(None, 1)[1].rstrip()[:120])
    return found[1:]


def main():
    with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
        found = connects(f.read().splitlines(), set(sys.argv[2:]))
    if not found:
        print('count 0')
        return 2
    sizes = sorted(len(c) for c in found)
    p95 = sizes[min(len(sizes) - 1, (len(sizes) * 95) // 100)]
    print('count %d max %d p95 %d' % (len(sizes), sizes[-1], p95))
    for call in max(found, key=len):
        print(call)
    return 0


if __name__ == '__main__':
    sys.exit(main())
