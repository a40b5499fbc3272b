#!/bin/sh
# UDP through danted's UDP ASSOCIATE, on loopback. The config says
# "direct none", so datagrams to the loopback echo and DNS servers must be
# relayed by danted. Proof for every case: danted logs each datagram it
# relays, and the servers record who sent them: always danted's relay
# socket, never the client's own socket.
# Clients: dig (its own resolver), nc -u (by address and by name), socat
# (connected and sendto), python3 (sendto/recvfrom, sendmsg/recvmsg,
# connect+send/recv, read/write, MSG_TRUNC/PEEK/DONTWAIT, non-blocking,
# epoll, EMSGSIZE with the header counted, foreign datagrams dropped, no
# control fd across exec, an exec'd child on the inherited socket,
# re-connect and AF_UNSPEC, close ending the association, 1,000 round
# trips), and udpclient (sendmmsg/recvmmsg, two sockets, fork with either
# side closing, closing every fd, close_range, dup2 over the hidden control
# connection).
. "$(dirname "$0")/lib.sh"
sfy_init
need danted dig nc socat
[ -x "$PROGS/udpclient" ] || fail "no $PROGS/udpclient (run make)"
start_danted_udp
start_udp_echo
UECHO2_PORT=$UECHO_PORT
UECHO2_REC=$UECHO_REC
start_udp_echo
start_dns
conf=$SFY_TMP/udp.conf
write_conf "$conf" "proxy socks5h://127.0.0.1:$DANTED_PORT" "direct none"

# Control: the same datagram without socksify reaches the echo server from
# the client's own socket and danted does not see it.
before=$(danted_udp_to "$UECHO_PORT")
out=$("$PYTHON" - "$UECHO_PORT" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"plain", ("127.0.0.1", int(sys.argv[1])))
print(s.recv(100).decode(), s.getsockname()[1])
PY
) || fail "plain UDP round trip"
expect_eq "plain UDP peer" "$(tail -n 1 "$UECHO_REC")" \
	"from 127.0.0.1:${out#plain } len=5"
sleep 0.3
expect_eq "plain UDP bypasses danted" "$(danted_udp_to "$UECHO_PORT")" "$before"

# dig: its own resolver, straight to the responder's port.
rec_before=$(wc -l <"$DNS_REC")
out=$(sfy -f "$conf" dig @127.0.0.1 -p "$DNS_PORT" +tries=1 +time=5 +short \
	"$TARGET_NAME" 2>&1) || fail "dig: $out"
expect_eq "dig answer" "$out" "$DNS_ANSWER"
grep -q "query name=$TARGET_NAME type=1" "$DNS_REC" ||
	fail "the responder saw no query for $TARGET_NAME"
expect_peers_danted "dig" "$DNS_REC" "$rec_before" "$DNS_PORT"
say "dig @127.0.0.1 -p $DNS_PORT: ok (via danted)"

expect_udp_via_danted "nc -u" 1 sh -c \
	'printf "nc-udp-hello\n" | "$1" -f "$2" nc -u -w 2 127.0.0.1 "$3"' \
	nc "$SOCKSIFY" "$conf" "$UECHO_PORT"
expect_eq "nc -u output" "$UDP_OUT" "nc-udp-hello"
expect_udp_via_danted "nc -u by name" 1 sh -c \
	'printf "nc-by-name\n" | "$1" -f "$2" nc -u -w 2 "$4" "$3"' \
	nc "$SOCKSIFY" "$conf" "$UECHO_PORT" "$ECHO_NAME"
expect_eq "nc -u by name output" "$UDP_OUT" "nc-by-name"
expect_udp_via_danted "socat UDP (connected)" 1 sh -c \
	'printf "socat-hello\n" | "$1" -f "$2" socat -t 2 -T 5 - "UDP4:127.0.0.1:$3"' \
	socat "$SOCKSIFY" "$conf" "$UECHO_PORT"
expect_eq "socat UDP output" "$UDP_OUT" "socat-hello"
expect_udp_via_danted "socat UDP-SENDTO" 1 sh -c \
	'printf "socat-sendto\n" | "$1" -f "$2" socat -t 2 -T 5 - "UDP4-SENDTO:127.0.0.1:$3"' \
	socat "$SOCKSIFY" "$conf" "$UECHO_PORT"
expect_eq "socat UDP-SENDTO output" "$UDP_OUT" "socat-sendto"

# python3: every call, checked against what the kernel does for the
# unwrapped datagram. One line per check; any FAIL fails the test. Its
# unsocksified spoofer (below) must send direct: no guard for this run.
expect_udp_via_danted "python3 datagram calls" 24 \
	env SOCKSIFY_GUARD=off "$SOCKSIFY" -q -f "$conf" "$PYTHON" - "$UECHO_PORT" "$DANTED_LOG" "$UECHO2_PORT" <<'PY'
import ctypes, errno, os, select, socket, subprocess, sys, time
DEST = ("127.0.0.1", int(sys.argv[1]))
DEST2 = ("127.0.0.1", int(sys.argv[3]))
bad = 0
def check(what, cond, detail=""):
    global bad
    print(("ok " if cond else "FAIL ") + what + ("" if cond else ": " + str(detail)))
    bad += 0 if cond else 1
def ready(s, t=3):
    return bool(select.select([s], [], [], t)[0])
def err(fn):
    try:
        fn()
        return "no error"
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)
def dontwait(sock):
    """recv(MSG_DONTWAIT) on the socket in blocking mode (a python timeout
    would poll first): the errno name, or what it read."""
    t = sock.gettimeout()
    sock.settimeout(None)
    try:
        return sock.recv(100, socket.MSG_DONTWAIT)
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)
    finally:
        sock.settimeout(t)

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"sendto-1", DEST)
data, src = s.recvfrom(1000)
check("sendto/recvfrom", (data, src) == (b"sendto-1", DEST), (data, src))
s.sendmsg([b"send", b"msg"], [], 0, DEST)
data, anc, flags, src = s.recvmsg(1000)
check("sendmsg/recvmsg", (data, src, flags & socket.MSG_TRUNC) ==
      (b"sendmsg", DEST, 0), (data, src, flags))
s.sendto(b"T" * 100, DEST)
data, anc, flags, src = s.recvmsg(10)
check("recvmsg truncates", data == b"T" * 10 and flags & socket.MSG_TRUNC and
      src == DEST, (data, flags, src))
s.sendto(b"U" * 100, DEST)
buf = bytearray(10)
n = s.recv_into(buf, 10, socket.MSG_TRUNC) if ready(s) else -1
check("recv MSG_TRUNC returns the real length", n == 100 and buf == b"U" * 10,
      (n, buf))
s.sendto(b"V" * 30, DEST)
data, src = s.recvfrom(7)
check("recvfrom short buffer", (data, src) == (b"V" * 7, DEST), (data, src))
s.sendto(b"peek-me", DEST)
ready(s)
check("MSG_PEEK", s.recv(100, socket.MSG_PEEK) == b"peek-me")
check("MSG_PEEK recvfrom", s.recvfrom(100, socket.MSG_PEEK) == (b"peek-me", DEST))
check("after MSG_PEEK", s.recvfrom(100) == (b"peek-me", DEST))
check("MSG_DONTWAIT when empty", dontwait(s) == "EAGAIN", dontwait(s))
s.setblocking(False)
check("non-blocking recv when empty", err(lambda: s.recv(100)) == "EAGAIN")
check("non-blocking recvfrom when empty", err(lambda: s.recvfrom(100)) == "EAGAIN")
check("non-blocking recvmsg when empty", err(lambda: s.recvmsg(100)) == "EAGAIN")
s.sendto(b"nb", DEST)
check("non-blocking: poll sees the reply", ready(s))
check("MSG_DONTWAIT with a datagram waiting",
      s.recv(100, socket.MSG_DONTWAIT | socket.MSG_PEEK) == b"nb")
check("non-blocking recvfrom", s.recvfrom(100) == (b"nb", DEST))
s.setblocking(True)
s.settimeout(3)
check("zero-length datagram", s.sendto(b"", DEST) == 0 and
      s.recvfrom(10) == (b"", DEST))

# Sizes: the program's limit is 65507 minus the 10-byte header.
for size in (1400, 1500, 4000, 65507 - 10):
    blob = os.urandom(size)
    sent = s.sendto(blob, DEST)
    try:
        data, src = s.recvfrom(70000)
    except OSError as e:
        data, src = b"", str(e)
    check("%d-byte datagram" % size, sent == size and data == blob and
          src == DEST, (sent, len(data), src))
check("65498-byte datagram is EMSGSIZE",
      err(lambda: s.sendto(b"x" * (65507 - 9), DEST)) == "EMSGSIZE")
check("65507-byte datagram is EMSGSIZE",
      err(lambda: s.sendto(b"x" * 65507, DEST)) == "EMSGSIZE")

# Datagrams from anyone but the relay are dropped: an unsocksified sender
# writes straight to our socket's port; the next thing we read must be the
# echo server's reply.
port = s.getsockname()[1]
env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
subprocess.run([sys.executable, "-c", """
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    u.sendto(b"SPOOFED", ("127.0.0.1", int(sys.argv[1])))
""", str(port)], env=env, check=True)
time.sleep(0.2)
s.sendto(b"after-spoof", DEST)
check("foreign datagrams dropped", s.recvfrom(100) == (b"after-spoof", DEST))
check("no foreign datagram left", dontwait(s) == "EAGAIN")

# epoll sees the reply; the hidden control connection is not inherited by
# an exec'd program (python's own sockets are close-on-exec, so any socket
# a child sees was leaked), and a socksified child that inherits the UDP
# socket itself can use it.
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN)
s.sendto(b"epoll", DEST)
check("epoll", ep.poll(3) == [(s.fileno(), select.EPOLLIN)])
check("after epoll", s.recvfrom(100) == (b"epoll", DEST))
ep.close()
ls = subprocess.run("ls -l /proc/self/fd", shell=True, close_fds=False,
                    stdout=subprocess.PIPE).stdout.decode()
check("no socket leaks across exec", "socket:" not in ls, ls)
s.set_inheritable(True)
child = subprocess.run([sys.executable, "-c", """
import socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
s.settimeout(3)
s.sendto(b"exec-child", (sys.argv[2], int(sys.argv[3])))
print(s.recvfrom(100))
""", str(s.fileno()), DEST[0], str(DEST[1])], close_fds=False,
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
check("exec'd child uses the inherited socket",
      child.stdout.decode().strip() == str((b"exec-child", DEST)),
      child.stdout.decode())
s.set_inheritable(False)
s.sendto(b"after-child", DEST)
check("parent after the child", s.recvfrom(100) == (b"after-child", DEST))

# connect(): records the peer; send/recv, write/read then work.
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(3)
c.connect(DEST)
check("getpeername after connect", c.getpeername() == DEST, c.getpeername())
c.send(b"connected-send")
check("connect+send/recv", c.recv(100) == b"connected-send")
os.write(c.fileno(), b"connected-write")
ready(c)
check("write/read", os.read(c.fileno(), 100) == b"connected-write")
c.send(b"connected-from")
check("recvfrom on a connected socket", c.recvfrom(100) == (b"connected-from", DEST))
c.sendmsg([b"connected-msg"])
check("sendmsg without address", c.recvmsg(100)[0] == b"connected-msg")
check("connected: 65498 bytes is EMSGSIZE",
      err(lambda: c.send(b"x" * 65498)) == "EMSGSIZE")
check("connected: send after EMSGSIZE", c.send(b"still") == 5 and
      c.recv(10) == b"still")

# Connected-socket semantics as the kernel has them: not connected,
# re-connect to another peer, disconnect with AF_UNSPEC.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(3)
check("getpeername when not connected", err(u.getpeername) == "ENOTCONN")
check("send when not connected", err(lambda: u.send(b"x")) == "EDESTADDRREQ")
u.connect(DEST)
u.send(b"peer")
check("connected: the peer's reply", u.recvfrom(100) == (b"peer", DEST))
u.connect(DEST2)
check("re-connect: getpeername", u.getpeername() == DEST2, u.getpeername())
u.send(b"second-peer")
check("re-connect: send/recv", u.recvfrom(100) == (b"second-peer", DEST2))
libc = ctypes.CDLL(None, use_errno=True)
unspec = (ctypes.c_ubyte * 16)()  # sa_family 0: AF_UNSPEC disconnects
rc = libc.connect(u.fileno(), unspec, 16)
check("connect(AF_UNSPEC)", rc == 0, ctypes.get_errno())
check("after AF_UNSPEC: getpeername", err(u.getpeername) == "ENOTCONN")
check("after AF_UNSPEC: send", err(lambda: u.send(b"x")) == "EDESTADDRREQ")
u.sendto(b"after-unspec", DEST)
check("after AF_UNSPEC: sendto", u.recvfrom(100) == (b"after-unspec", DEST))
u.close()
# First use on a non-blocking socket: the datagram is sent, not EAGAIN.
n = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
n.setblocking(False)
check("non-blocking first sendto",
      err(lambda: n.sendto(b"nb-first", DEST)) == "no error")
check("non-blocking first: reply", bool(select.select([n], [], [], 3)[0]) and
      n.recvfrom(100) == (b"nb-first", DEST))
n.close()

# Closing the socket ends the association: danted logs its end.
log = sys.argv[2]
def ended():
    return sum(1 for l in open(log) if "udp/udpassociate ]:" in l)
before = ended()
c.close()
for _ in range(30):
    if ended() > before:
        break
    time.sleep(0.1)
check("close() ends the association", ended() > before, ended())
s.close()
sys.exit(1 if bad else 0)
PY
printf '%s\n' "$UDP_OUT" | grep FAIL && fail "python3 checks failed"
expect_peers_danted "python3, second echo server" "$UECHO2_REC" 0 \
	"$UECHO2_PORT"
say "python3: $(printf '%s\n' "$UDP_OUT" | grep -c '^ok') checks ok"

# 1,000 request/response round trips on one socket, none lost.
expect_udp_via_danted "1,000 round trips" 1000 \
	sfy -f "$conf" "$PYTHON" - "$UECHO_PORT" <<'PY'
import socket, sys
dest = ("127.0.0.1", int(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
lost = 0
for i in range(1000):
    msg = b"seq %d" % i
    s.sendto(msg, dest)
    try:
        while True:
            data, src = s.recvfrom(100)
            if data == msg and src == dest:
                break
    except socket.timeout:
        lost += 1
print("lost", lost)
sys.exit(1 if lost else 0)
PY
expect_eq "1,000 round trips" "$UDP_OUT" "lost 0"

for mode in mmsg foreign two fork forkclose closeall closerange dup2; do
	sessions=$(danted_udp_sessions)
	# foreign's unsocksified spoofer must send direct: no guard for it.
	guard=on
	[ "$mode" = foreign ] && guard=off
	expect_udp_via_danted "udpclient $mode" 2 \
		env SOCKSIFY_GUARD=$guard "$SOCKSIFY" -q -f "$conf" \
		"$PROGS/udpclient" "$mode" 127.0.0.1 "$UECHO_PORT" "$UECHO_PORT"
	printf '%s\n' "$UDP_OUT" | grep FAIL && fail "udpclient $mode"
	case $mode in
	two)
		expect_eq "associations for two sockets" \
			"$(danted_udp_sessions)" $((sessions + 2))
		;;
	dup2)
		expect_contains "dup2 over the hidden control connection" \
			"$UDP_OUT" "ok dup2 over a hidden fd"
		;;
	*)
		expect_eq "associations for one socket ($mode)" \
			"$(danted_udp_sessions)" $((sessions + 1))
		;;
	esac
done
sfy_pass
