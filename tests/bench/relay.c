/* relay — a TCP relay that adds a fixed one-way delay, for `make bench`.
 *
 * Usage: relay PORT_FILE TARGET_IP TARGET_PORT DELAY_MS
 *
 * Listens on 127.0.0.1 (a port the kernel picks, written to PORT_FILE), and
 * relays every accepted connection to TARGET_IP:TARGET_PORT. Each chunk read
 * from either side is held until (time it was read + DELAY_MS) and then
 * written to the other side: absolute deadlines, order kept, so a round trip
 * through the relay costs 2 * DELAY_MS however the bytes are chunked. An EOF
 * is forwarded (as shutdown(SHUT_WR)) with the same delay. `tc netem` is not
 * available on the bench machines; this stands in for it.
 *
 * The TCP handshake to the relay itself is not delayed (the kernel completes
 * it), so a client's connect() to the relay costs no round trip: what the
 * bench counts are SOCKS round trips.
 *
 * One thread, ppoll() with a nanosecond timeout until the next deadline.
 * Runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN     512
#define CHUNK_MAX    65536
#define QUEUE_LIMIT  (1 << 20) /* stop reading a side past this backlog */

/* One chunk waiting for its deadline; len 0 marks the EOF. */
struct chunk {
	struct chunk *next;
	int64_t due_ns;
	size_t len, off;
	unsigned char data[];
};

/* One direction of a relayed connection: bytes read from `from` wait in
 * the queue, then go to `to`. */
struct direction {
	int from, to;
	struct chunk *head, *tail;
	size_t queued;
	int read_eof, done;
};

struct conn {
	int used;
	struct direction dir[2];
};

static struct conn conns[MAX_CONN];
static int64_t delay_ns;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Append a chunk of len bytes (0: EOF) read now to d's queue. Returns 0, or
 * -1 when out of memory. */
static int enqueue(struct direction *d, const unsigned char *buf, size_t len)
{
	struct chunk *c = malloc(sizeof *c + len);

	if (!c)
		return -1;
	c->next = NULL;
	c->due_ns = now_ns() + delay_ns;
	c->len = len;
	c->off = 0;
	memcpy(c->data, buf, len);
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += len;
	return 0;
}

static void drop_queue(struct direction *d)
{
	struct chunk *c = d->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	d->head = d->tail = NULL;
	d->queued = 0;
}

static void close_conn(struct conn *c)
{
	drop_queue(&c->dir[0]);
	drop_queue(&c->dir[1]);
	close(c->dir[0].from);
	close(c->dir[0].to);
	c->used = 0;
}

/* Read what `from` has into the queue. Returns 0, or -1 on a read error
 * (the connection is then dropped). */
static int pump_in(struct direction *d)
{
	unsigned char buf[CHUNK_MAX];
	ssize_t n = read(d->from, buf, sizeof buf);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		d->read_eof = 1;
	return enqueue(d, buf, (size_t)n);
}

/* Write every chunk whose deadline has passed. Returns 0, or -1 when the
 * receiving side is gone. A partial write leaves the rest for POLLOUT. */
static int pump_out(struct direction *d, int64_t now)
{
	struct chunk *c;

	while ((c = d->head) && c->due_ns <= now) {
		if (c->len == 0) {
			shutdown(d->to, SHUT_WR);
			d->done = 1;
		} else {
			ssize_t n = write(d->to, c->data + c->off,
					  c->len - c->off);
			if (n < 0)
				return errno == EAGAIN || errno == EINTR ? 0
									  : -1;
			c->off += (size_t)n;
			d->queued -= (size_t)n;
			if (c->off < c->len)
				return 0;
		}
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		free(c);
	}
	return 0;
}

/* Accept one client and connect it (blocking; the target is on loopback)
 * to the target; both sockets then become non-blocking. */
static void accept_one(int lfd, const struct sockaddr_in *target)
{
	int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int ufd, i;

	if (cfd < 0)
		return;
	for (i = 0; i < MAX_CONN && conns[i].used; i++)
		;
	ufd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (i == MAX_CONN || ufd < 0 ||
	    connect(ufd, (const struct sockaddr *)target, sizeof *target) < 0) {
		if (ufd >= 0)
			close(ufd);
		close(cfd);
		return;
	}
	fcntl(ufd, F_SETFL, fcntl(ufd, F_GETFL) | O_NONBLOCK);
	set_nodelay(cfd);
	set_nodelay(ufd);
	memset(&conns[i], 0, sizeof conns[i]);
	conns[i].used = 1;
	conns[i].dir[0].from = cfd;
	conns[i].dir[0].to = ufd;
	conns[i].dir[1].from = ufd;
	conns[i].dir[1].to = cfd;
}

/* The poll events direction d wants on its two ends. */
static void want_events(const struct direction *d, short *ev_from,
			short *ev_to)
{
	if (!d->read_eof && d->queued < QUEUE_LIMIT)
		*ev_from |= POLLIN;
	if (d->head && d->head->off > 0)
		*ev_to |= POLLOUT; /* a partial write is pending */
}

/* Fill pfd[1..] from the connections; map[k] is the conn of pfd[1 + 2k].
 * Returns the earliest deadline among queued chunks, or -1. */
static int64_t build_poll(struct pollfd *pfd, int *map, int *npfd)
{
	int64_t next = -1;
	int i, n = 1;

	for (i = 0; i < MAX_CONN; i++) {
		struct conn *c = &conns[i];
		short ev0 = 0, ev1 = 0;
		int k;

		if (!c->used)
			continue;
		want_events(&c->dir[0], &ev0, &ev1);
		want_events(&c->dir[1], &ev1, &ev0);
		/* An fd with nothing to wait for is left out, so that a
		 * half-closed side cannot make ppoll() spin. */
		pfd[n] = (struct pollfd){ .fd = ev0 ? c->dir[0].from : -1,
					  .events = ev0 };
		pfd[n + 1] = (struct pollfd){ .fd = ev1 ? c->dir[1].from : -1,
					      .events = ev1 };
		map[(n - 1) / 2] = i;
		n += 2;
		for (k = 0; k < 2; k++) {
			struct chunk *h = c->dir[k].head;
			if (h && h->off == 0 && (next < 0 || h->due_ns < next))
				next = h->due_ns;
		}
	}
	*npfd = n;
	return next;
}

/* Handle poll results and due chunks of one connection. */
static void service(struct conn *c, const struct pollfd *p, int64_t now)
{
	int k, bad = 0;

	for (k = 0; k < 2; k++) {
		struct direction *d = &c->dir[k];

		if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    !d->read_eof && d->queued < QUEUE_LIMIT)
			bad |= pump_in(d) < 0;
	}
	for (k = 0; k < 2; k++)
		bad |= pump_out(&c->dir[k], now) < 0;
	if (bad || (c->dir[0].done && c->dir[1].done))
		close_conn(c);
}

static int listen_loopback(const char *port_file)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FILE *f;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(fd, 256) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("relay: listen");
		exit(1);
	}
	f = fopen(port_file, "w");
	if (!f || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f)) {
		perror("relay: port file");
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[1 + 2 * MAX_CONN];
	static int map[MAX_CONN];
	struct sockaddr_in target = { .sin_family = AF_INET };
	int lfd, npfd, k;

	if (argc != 5 || inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) {
		fprintf(stderr, "usage: relay PORT_FILE TARGET_IP PORT MS\n");
		return 2;
	}
	target.sin_port = htons((uint16_t)atoi(argv[3]));
	delay_ns = (int64_t)(atof(argv[4]) * 1e6);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_loopback(argv[1]);
	for (;;) {
		int64_t next = build_poll(pfd, map, &npfd), now;
		struct timespec ts, *tp = NULL;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		if (next >= 0) {
			int64_t wait = next - now_ns();
			if (wait < 0)
				wait = 0;
			ts.tv_sec = wait / 1000000000;
			ts.tv_nsec = wait % 1000000000;
			tp = &ts;
		}
		if (ppoll(pfd, (nfds_t)npfd, tp, NULL) < 0 && errno != EINTR)
			return 1;
		now = now_ns();
		for (k = 1; k < npfd; k += 2)
			service(&conns[map[(k - 1) / 2]], &pfd[k], now);
		if (pfd[0].revents & POLLIN)
			accept_one(lfd, &target);
	}
}
