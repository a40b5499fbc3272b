/* benchcli — the measuring client of `make bench`.
 *
 * Usage: benchcli MODE [-x PROXY_IP:PORT [-u USER -p PASS] [-P]] [-n N]
 *                 [-c CONC] [-t SECONDS] TARGET_IP PORT
 *
 * Without -x the client connects to TARGET with plain libc calls, so that a
 * socksifier (ours or a peer) preloaded into it does the proxying. With -x
 * it speaks SOCKS5 itself (RFC 1928, RFC 1929 with -u/-p) to the proxy: the
 * "floor" every socksifier is compared with; -P sends greeting, auth and
 * request in one write (pipelined), otherwise each waits for its reply.
 *
 * Modes (one line of key=value results on stdout per sample):
 *   rtt   N times: connect (timed), then three 1-byte echo round trips (the
 *         fastest is reported); connect_ms / echo_ms is the round trips
 *         spent before connect() returned
 *   par   CONC non-blocking connects at once from one poll() loop, each
 *         followed by a 1-byte echo: wall_ms until all echoed; stall_ms,
 *         the longest stretch outside poll() (the first one is the burst
 *         of CONC connect() calls), i.e. the longest time the event loop
 *         could not react; call_ms, the longest single non-poll call
 *   loop  N sequential connect/echo/close cycles: wall and CPU (user+sys of
 *         this process, getrusage) for the loop alone
 *   bulk  read from TARGET until EOF: bytes and MiB/s
 *   udp   request/response datagrams (64 bytes) to a UDP echo server for up
 *         to N datagrams or SECONDS: rate and loss; each waits up to 100 ms
 *         for its answer. With -x, SOCKS5 UDP ASSOCIATE (RFC 1928 §7)
 *
 * The bench's targets serve only the proxy, so a contender that went direct
 * fails (error=...) rather than looking fast.
 * Exit status: 0 ok, 2 usage, 3 a connection or transfer failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct options {
	const char *mode;
	struct sockaddr_in target, proxy;
	int use_proxy, pipeline;
	const char *user, *pass;
	int count, conc;
	double seconds;
};

static struct options opt = { .count = 1, .conc = 20, .seconds = 5 };

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Print the failure as one error=... line (no spaces: report.py splits on
 * them) and exit 3. */
static void die(const char *what)
{
	char msg[128];
	char *p;

	snprintf(msg, sizeof msg, "%s:%s", what, strerror(errno));
	for (p = msg; *p; p++)
		*p = *p == ' ' ? '_' : *p;
	printf("error=%s\n", msg);
	fflush(stdout);
	exit(3);
}

static int parse_ipport(const char *s, struct sockaddr_in *a)
{
	char ip[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof ip)
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = 0;
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, ip, &a->sin_addr) == 1 ? 0 : -1;
}

/* Read exactly n bytes. Returns 0, or -1 on error or EOF. */
static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r == 0 || (r < 0 && errno != EINTR))
			return -1;
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n) == (ssize_t)n ? 0 : -1;
}

/*
 * SOCKS5 greeting (RFC 1928 §3), username/password (RFC 1929 §2) and
 * request (RFC 1928 §4) for an IPv4 destination:
 *   +-----+----------+----------+
 *   | VER | NMETHODS | METHODS  |   05 01 00|02
 *   +-----+-----+-------+------+----------+
 *   | VER | ULEN | UNAME | PLEN | PASSWD   |  01 ...
 *   +-----+-----+-------+------+----------+------+
 *   | VER | CMD | RSV | ATYP | DST.ADDR | DST.PORT |  05 cmd 00 01 a4 p2
 *   +-----+-----+-----+------+----------+----------+
 * Writes the three parts into buf at offsets *greet_len and *auth_len and
 * returns the total length.
 */
static size_t build_handshake(unsigned char *buf, int cmd,
			      const struct sockaddr_in *dst, size_t *greet_len,
			      size_t *auth_len)
{
	size_t n = 0, ul, pl;

	buf[n++] = 5;
	buf[n++] = 1;
	buf[n++] = opt.user ? 2 : 0;
	*greet_len = n;
	if (opt.user) {
		ul = strlen(opt.user);
		pl = strlen(opt.pass);
		buf[n++] = 1;
		buf[n++] = (unsigned char)ul;
		memcpy(buf + n, opt.user, ul);
		n += ul;
		buf[n++] = (unsigned char)pl;
		memcpy(buf + n, opt.pass, pl);
		n += pl;
	}
	*auth_len = n - *greet_len;
	buf[n++] = 5;
	buf[n++] = (unsigned char)cmd;
	buf[n++] = 0;
	buf[n++] = 1;
	memcpy(buf + n, &dst->sin_addr, 4);
	n += 4;
	memcpy(buf + n, &dst->sin_port, 2);
	return n + 2;
}

/* Read a SOCKS5 reply (RFC 1928 §6); its IPv4 BND address goes to *bnd.
 * Returns 0, or -1 on failure or a non-zero REP. */
static int read_reply(int fd, struct sockaddr_in *bnd)
{
	unsigned char r[262];
	size_t rest, at = 4;

	if (read_full(fd, r, 4) < 0 || r[0] != 5 || r[1] != 0)
		return -1;
	if (r[3] == 1)
		rest = 6;
	else if (r[3] == 4)
		rest = 18;
	else if (r[3] == 3 && read_full(fd, r + 4, 1) == 0)
		rest = (size_t)r[4] + 2, at = 5;
	else
		return -1;
	if (read_full(fd, r + at, rest) < 0)
		return -1;
	if (bnd && r[3] == 1) {
		bnd->sin_family = AF_INET;
		memcpy(&bnd->sin_addr, r + 4, 4);
		memcpy(&bnd->sin_port, r + 8, 2);
	}
	return 0;
}

/* The SOCKS5 handshake on connected fd, blocking, pipelined with -P.
 * Returns 0 or -1. */
static int socks5(int fd, int cmd, const struct sockaddr_in *dst,
		  struct sockaddr_in *bnd)
{
	unsigned char buf[600], r[2];
	size_t gl, al, total = build_handshake(buf, cmd, dst, &gl, &al);

	if (opt.pipeline && write_full(fd, buf, total) < 0)
		return -1;
	if (!opt.pipeline && write_full(fd, buf, gl) < 0)
		return -1;
	if (read_full(fd, r, 2) < 0 || r[0] != 5 || r[1] != buf[2])
		return -1;
	if (al) {
		if (!opt.pipeline && write_full(fd, buf + gl, al) < 0)
			return -1;
		if (read_full(fd, r, 2) < 0 || r[1] != 0)
			return -1;
	}
	if (!opt.pipeline && write_full(fd, buf + gl + al, total - gl - al))
		return -1;
	return read_reply(fd, bnd);
}

/* A connected TCP socket to the target (via our own SOCKS5 with -x). */
static int open_tcp(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	const struct sockaddr_in *to = opt.use_proxy ? &opt.proxy : &opt.target;

	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)to, sizeof *to) < 0)
		die("connect");
	if (opt.use_proxy && socks5(fd, 1, &opt.target, NULL) < 0)
		die("socks5 handshake");
	return fd;
}

static double echo_once(int fd)
{
	double t0 = now_ms();
	char c = 'x';

	if (write_full(fd, &c, 1) < 0 || read_full(fd, &c, 1) < 0)
		die("echo");
	return now_ms() - t0;
}

static void mode_rtt(void)
{
	int i, k;

	for (i = 0; i < opt.count; i++) {
		double t0 = now_ms(), conn_ms, best = 1e9;
		int fd = open_tcp();

		conn_ms = now_ms() - t0;
		for (k = 0; k < 3; k++) {
			double e = echo_once(fd);
			best = e < best ? e : best;
		}
		printf("connect_ms=%.3f echo_ms=%.3f\n", conn_ms, best);
		close(fd);
	}
}

static double cpu_ms(const struct rusage *a, const struct rusage *b,
		     int sys)
{
	const struct timeval *x = sys ? &a->ru_stime : &a->ru_utime;
	const struct timeval *y = sys ? &b->ru_stime : &b->ru_utime;

	return (y->tv_sec - x->tv_sec) * 1e3 + (y->tv_usec - x->tv_usec) / 1e3;
}

static void mode_loop(void)
{
	struct rusage r0, r1;
	double t0;
	int i;

	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ms();
	for (i = 0; i < opt.count; i++) {
		int fd = open_tcp();

		echo_once(fd);
		close(fd);
	}
	t0 = now_ms() - t0;
	getrusage(RUSAGE_SELF, &r1);
	printf("conns=%d wall_ms=%.1f user_ms=%.1f sys_ms=%.1f\n", opt.count,
	       t0, cpu_ms(&r0, &r1, 0), cpu_ms(&r0, &r1, 1));
}

static void mode_bulk(void)
{
	static char buf[262144];
	long long total = 0;
	double t0 = now_ms();
	int fd = open_tcp();
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno != EINTR)
			die("read");
		if (n > 0)
			total += n;
	}
	t0 = (now_ms() - t0) / 1e3;
	if (total == 0) {
		errno = ECONNRESET;
		die("bulk: nothing received");
	}
	printf("bytes=%lld secs=%.3f mib_s=%.1f\n", total, t0,
	       total / 1048576.0 / t0);
	close(fd);
}

/* ---- par: many non-blocking connects from one poll() loop ---- */

enum par_state { P_CONNECTING, P_GREET, P_REPLY, P_ECHO, P_DONE };

struct par_conn {
	int fd;
	enum par_state state;
	size_t have, need;
	unsigned char buf[64];
};

static double call_max, stall_max;

/* Time one non-poll call of the event loop (connect, send, recv...): it
 * should return at once, the loop is frozen meanwhile. */
static void call_note(double t0)
{
	double d = now_ms() - t0;

	if (d > call_max)
		call_max = d;
}

/* Note the time since the loop last left poll() (or started): the longest
 * such stretch is how long the program could not react to any event. */
static void stall_note(double since)
{
	double d = now_ms() - since;

	if (d > stall_max)
		stall_max = d;
}

static int par_send(struct par_conn *c, const void *buf, size_t n,
		    enum par_state next, size_t need)
{
	double t0 = now_ms();
	int rc = write_full(c->fd, buf, n);

	call_note(t0);
	c->state = next;
	c->have = 0;
	c->need = need;
	return rc;
}

/* Advance c after its connect completed or its expected bytes arrived.
 * Returns 0, or -1 on failure. */
static int par_advance(struct par_conn *c)
{
	unsigned char hs[600];
	size_t gl, al;

	switch (c->state) {
	case P_CONNECTING:
		if (!opt.use_proxy)
			return par_send(c, "x", 1, P_ECHO, 1);
		build_handshake(hs, 1, &opt.target, &gl, &al);
		return par_send(c, hs, gl, P_GREET, 2);
	case P_GREET:
		build_handshake(hs, 1, &opt.target, &gl, &al);
		return par_send(c, hs + gl + al, 10, P_REPLY, 10);
	case P_REPLY:
		if (c->buf[1] != 0 || c->buf[3] != 1)
			return -1;
		return par_send(c, "x", 1, P_ECHO, 1);
	case P_ECHO:
		c->state = P_DONE;
		return 0;
	case P_DONE:
		break;
	}
	return -1;
}

/* Handle readiness of one connection. Returns 0, or -1 on failure. */
static int par_event(struct par_conn *c, short revents)
{
	double t0 = now_ms();
	int err = 0;
	socklen_t len = sizeof err;
	ssize_t n;

	if (c->state == P_CONNECTING) {
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		call_note(t0);
		return err ? -1 : par_advance(c);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	n = read(c->fd, c->buf + c->have, c->need - c->have);
	call_note(t0);
	if (n <= 0)
		return -1;
	c->have += (size_t)n;
	return c->have < c->need ? 0 : par_advance(c);
}

static void par_start(struct par_conn *c)
{
	const struct sockaddr_in *to = opt.use_proxy ? &opt.proxy : &opt.target;
	double t0 = now_ms();
	int rc, one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		die("socket");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	rc = connect(c->fd, (const struct sockaddr *)to, sizeof *to);
	call_note(t0);
	if (rc < 0 && errno != EINPROGRESS)
		die("connect");
	c->state = P_CONNECTING;
}

static void mode_par(void)
{
	static struct par_conn conns[1024];
	struct pollfd pfd[1024];
	int n = opt.conc > 1024 ? 1024 : opt.conc, i, left = n;
	double t0 = now_ms(), deadline = t0 + opt.seconds * 1e3, awake = t0;

	for (i = 0; i < n; i++)
		par_start(&conns[i]);
	while (left > 0 && now_ms() < deadline) {
		stall_note(awake);
		for (i = 0; i < n; i++) {
			pfd[i].fd = conns[i].state == P_DONE ? -1 : conns[i].fd;
			pfd[i].events = conns[i].state == P_CONNECTING ? POLLOUT
								       : POLLIN;
		}
		if (poll(pfd, (nfds_t)n, 100) < 0 && errno != EINTR)
			die("poll");
		awake = now_ms();
		for (i = 0; i < n; i++) {
			if (!pfd[i].revents || conns[i].state == P_DONE)
				continue;
			if (par_event(&conns[i], pfd[i].revents) < 0)
				die("par connection");
			left -= conns[i].state == P_DONE;
		}
	}
	if (left > 0) {
		errno = ETIMEDOUT;
		die("par");
	}
	for (i = 0; i < n; i++)
		close(conns[i].fd);
	printf("conns=%d wall_ms=%.1f call_ms=%.2f stall_ms=%.2f\n", n,
	       now_ms() - t0, call_max, stall_max);
}

/* ---- udp: request/response datagrams ---- */

struct udp_path {
	int fd, ctl;
	struct sockaddr_in relay;
};

/* With -x: a control connection and UDP ASSOCIATE; the relay address
 * 0.0.0.0 in the reply means "the proxy's own address". */
static void udp_associate(struct udp_path *u)
{
	struct sockaddr_in any = { .sin_family = AF_INET };

	u->ctl = socket(AF_INET, SOCK_STREAM, 0);
	if (u->ctl < 0 || connect(u->ctl, (struct sockaddr *)&opt.proxy,
				  sizeof opt.proxy) < 0)
		die("udp control connect");
	if (socks5(u->ctl, 3, &any, &u->relay) < 0)
		die("udp associate");
	if (u->relay.sin_addr.s_addr == 0)
		u->relay.sin_addr = opt.proxy.sin_addr;
	if (getenv("BENCHCLI_DEBUG"))
		fprintf(stderr, "relay %s:%u\n", inet_ntoa(u->relay.sin_addr),
			ntohs(u->relay.sin_port));
}

/*
 * A UDP request header (RFC 1928 §7) for an IPv4 destination:
 *   +-----+------+------+----------+----------+----------+
 *   | RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *   +-----+------+------+----------+----------+----------+
 *     00 00  00     01      a4          p2
 */
static size_t udp_wrap(unsigned char *out, const void *data, size_t n)
{
	memset(out, 0, 3);
	out[3] = 1;
	memcpy(out + 4, &opt.target.sin_addr, 4);
	memcpy(out + 8, &opt.target.sin_port, 2);
	memcpy(out + 10, data, n);
	return n + 10;
}

static int udp_send(const struct udp_path *u, uint32_t seq)
{
	unsigned char data[64] = { 0 }, pkt[80];
	size_t n;

	memcpy(data, &seq, sizeof seq);
	if (!opt.use_proxy)
		return sendto(u->fd, data, sizeof data, 0,
			      (const struct sockaddr *)&opt.target,
			      sizeof opt.target) < 0
			       ? -1
			       : 0;
	n = udp_wrap(pkt, data, sizeof data);
	return sendto(u->fd, pkt, n, 0, (const struct sockaddr *)&u->relay,
		      sizeof u->relay) < 0
		       ? -1
		       : 0;
}

/* Wait up to 100 ms for the answer to seq (older answers are skipped).
 * Returns 1 when it came, 0 when lost. */
static int udp_wait(const struct udp_path *u, uint32_t seq)
{
	unsigned char buf[2048];
	double end = now_ms() + 100;
	size_t hdr = opt.use_proxy ? 10 : 0;
	uint32_t got;

	while (now_ms() < end) {
		struct pollfd p = { .fd = u->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)(end - now_ms()) + 1) <= 0)
			continue;
		n = recv(u->fd, buf, sizeof buf, 0);
		if (n < (ssize_t)(hdr + sizeof got))
			continue;
		memcpy(&got, buf + hdr, sizeof got);
		if (got == seq)
			return 1;
	}
	return 0;
}

static void mode_udp(void)
{
	struct udp_path u = { .ctl = -1 };
	int sent = 0, recvd = 0;
	double t0, end;

	u.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (u.fd < 0)
		die("socket");
	if (opt.use_proxy)
		udp_associate(&u);
	t0 = now_ms();
	end = t0 + opt.seconds * 1e3;
	while (sent < opt.count && now_ms() < end) {
		if (udp_send(&u, (uint32_t)sent) < 0)
			die("sendto");
		sent++;
		recvd += udp_wait(&u, (uint32_t)(sent - 1));
	}
	t0 = (now_ms() - t0) / 1e3;
	printf("sent=%d recvd=%d secs=%.3f dgram_s=%.1f loss=%.4f\n", sent,
	       recvd, t0, recvd / t0, sent ? (sent - recvd) / (double)sent : 0);
	if (u.ctl >= 0)
		close(u.ctl);
}

static void usage(void)
{
	fprintf(stderr, "usage: benchcli rtt|par|loop|bulk|udp [-x IP:PORT "
			"[-u USER -p PASS] [-P]] [-n N] [-c CONC] [-t SECS] "
			"TARGET_IP PORT\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int c;

	if (argc < 2)
		usage();
	opt.mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "x:u:p:Pn:c:t:")) != -1) {
		switch (c) {
		case 'x':
			if (parse_ipport(optarg, &opt.proxy) < 0)
				usage();
			opt.use_proxy = 1;
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'p':
			opt.pass = optarg;
			break;
		case 'P':
			opt.pipeline = 1;
			break;
		case 'n':
			opt.count = atoi(optarg);
			break;
		case 'c':
			opt.conc = atoi(optarg);
			break;
		case 't':
			opt.seconds = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || (opt.user && !opt.pass))
		usage();
	opt.target.sin_family = AF_INET;
	opt.target.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &opt.target.sin_addr) != 1)
		usage();
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(opt.mode, "rtt") == 0)
		mode_rtt();
	else if (strcmp(opt.mode, "par") == 0)
		mode_par();
	else if (strcmp(opt.mode, "loop") == 0)
		mode_loop();
	else if (strcmp(opt.mode, "bulk") == 0)
		mode_bulk();
	else if (strcmp(opt.mode, "udp") == 0)
		mode_udp();
	else
		usage();
	return 0;
}
