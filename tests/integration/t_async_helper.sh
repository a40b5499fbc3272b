#!/bin/sh
# The handshake thread (async_connect on, the default) lives only while it
# has work: it ends once no handshake has run for a second, and the next
# non-blocking connect starts another. Its epoll set and eventfd are the
# library's hidden descriptors: a program that closes every descriptor it
# did not open, or dup2()s onto one of their numbers, keeps non-blocking
# connects working and its own files its own. Before, the thread stayed
# for the life of the process on two low-numbered descriptors: closing
# them made every later non-blocking connect fail with EINVAL, and a
# number reused by the program's own epoll set would have had the
# library's sockets added to it.
. "$(dirname "$0")/lib.sh"
sfy_init
need danted
start_echo
start_danted none
# A proxy that accepts and never answers: a connect routed through it keeps
# a handshake running (and so the thread up) for as long as the test needs.
start_silent
HOLD_PORT=$(free_port)
conf=$SFY_TMP/helper.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" \
	"chain hold socks5://127.0.0.1:$SILENT_PORT" \
	"route 127.0.0.1 port $HOLD_PORT via hold" "direct none"

prog='
import os, select, socket, sys, time
port, hold_port = int(sys.argv[1]), int(sys.argv[2])

def threads():
    return len(os.listdir("/proc/self/task"))

def links():
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            out[int(name)] = os.readlink("/proc/self/fd/" + name)
        except OSError:
            pass
    return out

def start(p):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", p))
    except BlockingIOError:
        pass
    return s

def connect():
    s = start(port)
    select.select([], [s], [], 15)
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if err:
        s.close()
        return "error %s" % os.strerror(err)
    s.setblocking(True)
    s.settimeout(15)
    s.sendall(b"ping")
    data = s.recv(16)
    s.close()
    return "echo" if data == b"ping" else "bad reply %r" % data

def ends(n):
    for _ in range(50):
        if threads() == n:
            return True
        time.sleep(0.1)
    return False

base = threads()
hold = start(hold_port)
print("holding, threads", threads() - base)
print("first", connect())

# Close every descriptor this program did not open: the library s own
# refuse with EBADF.
refused = 0
for fd in sorted(links()):
    if fd > 2 and fd != hold.fileno():
        try:
            os.close(fd)
        except OSError:
            refused += 1
print("closed all, refused some", refused > 0)
ep = select.epoll()
print("after close-all", connect())
print("program epoll set untouched", ep.poll(0.2) == [])

# dup2 onto the thread s epoll set and eventfd: they move, the numbers
# become the program s.
own = {ep.fileno(), hold.fileno()}
found = []
for fd, link in sorted(links().items()):
    if fd > 2 and fd not in own and link.startswith("anon_inode:"):
        found.append(link)
        os.dup2(0, fd)
        if os.path.samestat(os.fstat(fd), os.fstat(0)) is not True:
            print("dup2 onto", fd, "did not take")
print("dup2 onto", " ".join(sorted(found)))
print("after dup2", connect(), "threads", threads() - base)

# The held handshake given up: the thread ends about a second later (not
# at that handshake s old deadline), and the next connect starts another.
hold.close()
print("ends when idle", ends(base))
print("again", connect())
print("ends when idle again", ends(base))
'
before=$(danted_connects_to "$ECHO_PORT")
out=$(timeout 90 "$SOCKSIFY" -f "$conf" "$PYTHON" -c "$prog" "$ECHO_PORT" \
	"$HOLD_PORT" 2>&1) || fail "helper program failed: $out"
expect_eq "handshake thread" "$out" "holding, threads 1
first echo
closed all, refused some True
after close-all echo
program epoll set untouched True
dup2 onto anon_inode:[eventfd] anon_inode:[eventpoll]
after dup2 echo threads 1
ends when idle True
again echo
ends when idle again True"
after=$(wait_count $((before + 4)) danted_connects_to "$ECHO_PORT")
[ "$after" -ge $((before + 4)) ] ||
	fail "danted relayed $((after - before)) of 4 connects"
say "handshake thread: ends when idle, its descriptors survive close-all and dup2"
sfy_pass
