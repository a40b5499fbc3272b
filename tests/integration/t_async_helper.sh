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
conf=$SFY_TMP/helper.conf
write_conf "$conf" "proxy socks5://127.0.0.1:$DANTED_PORT" "direct none"

prog='
import os, select, socket, sys, time
port = int(sys.argv[1])
mine = set()

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

def connect():
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
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

def wait_threads(n):
    for _ in range(100):
        if threads() == n:
            return True
        time.sleep(0.1)
    return False

base = threads()
print("first", connect(), "threads", threads() - base)
print("ends when idle", wait_threads(base))
print("second", connect(), "threads", threads() - base)

# Close every descriptor this program did not open (it opened none yet
# beyond 0-2): the library s own refuse with EBADF.
refused = 0
for fd in sorted(links()):
    if fd > 2:
        try:
            os.close(fd)
        except OSError:
            refused += 1
print("closed all, refused some", refused > 0)
ep = select.epoll()
print("after close-all", connect())
print("program epoll set untouched", ep.poll(0.2) == [])

# dup2 onto the helper s epoll set and eventfd: they move, the numbers
# become the program s.
own = {ep.fileno()}
for fd, link in sorted(links().items()):
    if fd > 2 and fd not in own and link.startswith("anon_inode:"):
        os.dup2(0, fd)
        own.add(fd)
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (os.fstat(0).st_dev, os.fstat(0).st_ino):
            print("dup2 onto", fd, "did not take")
print("after dup2", connect())
print("ends when idle again", wait_threads(base))
'
before=$(danted_connects_to "$ECHO_PORT")
out=$(timeout 90 "$SOCKSIFY" -f "$conf" "$PYTHON" -c "$prog" "$ECHO_PORT" 2>&1) ||
	fail "helper program failed: $out"
expect_eq "handshake thread" "$out" "first echo threads 1
ends when idle True
second echo threads 1
closed all, refused some True
after close-all echo
program epoll set untouched True
after dup2 echo
ends when idle again True"
after=$(wait_count $((before + 4)) danted_connects_to "$ECHO_PORT")
[ "$after" -ge $((before + 4)) ] ||
	fail "danted relayed $((after - before)) of 4 connects"
say "handshake thread: ends when idle, its descriptors survive close-all and dup2"
sfy_pass
