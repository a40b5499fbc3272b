/* stressconn — the client (and echo server) of the stress suite
 * (tests/stress/, t_stress.sh). Every loop is bounded in count and time.
 *
 * usage:
 *   stressconn echo PORTFILE SECONDS
 *       an epoll echo server on 127.0.0.1 (a free port, written to
 *       PORTFILE) for at most SECONDS. Each connection first gets a line
 *       "P<port>" naming the peer's port as the server sees it, then its
 *       bytes back.
 *   stressconn many PORT N SECONDS
 *       N non-blocking connects at once, then one echo on each.
 *   stressconn emfile PORT N LIMIT nb|nbepoll|block
 *       RLIMIT_NOFILE = LIMIT; N connects, each made with only 0, 1 or 2
 *       descriptors left free. A connect must end (0, EINPROGRESS then a
 *       result, or EMFILE/ENFILE), a non-blocking one must not block
 *       (connect() under SLOW_MS), and afterwards the process holds exactly
 *       the descriptors it held before. nbepoll: non-blocking, with an
 *       (empty) epoll set of the program's open.
 *   stressconn restart PORT HOLD INFLIGHT DIR
 *       HOLD connections opened and echoed, then "DIR/held"; waits for
 *       "DIR/stopped" (the proxy is frozen), starts INFLIGHT non-blocking
 *       and 4 blocking connects, writes "DIR/inflight"; waits for
 *       "DIR/restarted". Every held connection must then fail cleanly,
 *       every in-flight connect end, and 100 new ones succeed.
 *   stressconn signals PORT THREADS SECONDS restart|norestart
 *       THREADS workers (even: blocking, odd: non-blocking) connect, echo
 *       and close in a loop (at most WORKER_RATE a second each) while a
 *       storm of SIGUSR1 hits them (handler
 *       with or without SA_RESTART). Every connect must end correctly.
 *   stressconn soak PORT RATE SECONDS INTERVAL
 *       RATE connects a second (alternately blocking and non-blocking),
 *       each echoed and closed; every INTERVAL seconds the descriptors
 *       (/proc/self/fd), RSS and threads are sampled. "Flat": every
 *       sample from the reference one on (the first at or after 60 s, or
 *       after half the run when it is shorter) has the reference's
 *       descriptors and threads exactly, and RSS at most RSS_SLACK_KB
 *       above the reference's.
 *
 * Every connection also checks it was proxied: the port the echo server
 * saw (its "P" line) must differ from the client's own (getsockname);
 * equal ports mean a direct connection, which fails the run.
 *
 * Output: one summary line per mode ("NAME: k=v ..."), exit 0 when every
 * rule held, 1 otherwise. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOW_MS	      50   /* a non-blocking connect() taking longer blocked */
#define IO_TIMEOUT_MS 8000 /* one echo's bound */
#define RSS_SLACK_KB  1024 /* soak: RSS may exceed the reference by this */
#define MAX_CONNS     20000
#define MAX_SAMPLES   1000
#define WORKER_RATE   50 /* signals: connects a second per thread, at most */

static struct sockaddr_in target;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int remaining(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- what the process holds ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* A "Name:  value" line of /proc/self/status, or -1. */
static long status_value(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- one connection ---- */

/* Wait (to deadline) for fd to be readable and read up to max bytes.
 * Returns the count read (> 0), or -ETIMEDOUT, -ECONNRESET (end of
 * stream) or -errno. */
static ssize_t read_ready(int fd, char *buf, size_t max, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, remaining(deadline));
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? -ETIMEDOUT : -errno;
		n = read(fd, buf, max);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		return n;
	}
}

/* Read the server's "P<port>\n" line and compare with our own port:
 * returns 0 (proxied), -EXDEV (direct), or -errno. */
static int check_banner(int fd, uint64_t deadline)
{
	char buf[16];
	size_t got = 0;
	struct sockaddr_in me;
	socklen_t len = sizeof me;

	while (got < sizeof buf - 1) {
		ssize_t n = read_ready(fd, buf + got, 1, deadline);

		if (n < 0)
			return (int)n;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	if (buf[0] != 'P')
		return -EPROTO;
	if (getsockname(fd, (struct sockaddr *)&me, &len) == 0 &&
	    ntohs(me.sin_port) == atoi(buf + 1))
		return -EXDEV;
	return 0;
}

/* Write line, read it back (the banner first, unless it was read
 * already). Returns 0 or -errno. */
static int echo_line(int fd, const char *line, bool banner)
{
	uint64_t deadline = now_ms() + IO_TIMEOUT_MS;
	size_t len = strlen(line), got = 0, sent = 0;
	char back[64];
	int rc = banner ? check_banner(fd, deadline) : 0;

	if (rc < 0)
		return rc;
	while (sent < len) {
		ssize_t n = send(fd, line + sent, len - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			if (poll(&p, 1, remaining(deadline)) == 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		sent += (size_t)n;
	}
	while (got < len) {
		ssize_t n = read_ready(fd, back + got, len - got, deadline);

		if (n < 0)
			return (int)n;
		got += (size_t)n;
	}
	return memcmp(back, line, len) == 0 ? 0 : -EPROTO;
}

static int echo_once(int fd, const char *line)
{
	return echo_line(fd, line, true);
}

/* Wait for a connect in progress and return its result (0 or -errno). */
static int wait_connected(int fd, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0, r;

	do
		r = poll(&p, 1, remaining(deadline));
	while (r < 0 && errno == EINTR && remaining(deadline) > 0);
	if (r <= 0)
		return r == 0 ? -ETIMEDOUT : -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/* The errors a connect may end with when the proxy or the process fails
 * cleanly. */
static bool clean_failure(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case EPIPE:
	case ETIMEDOUT:
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EPROTO:
		return true;
	default:
		return false;
	}
}

/* Counts of errno values seen, printed as " E=n". */
struct errs {
	int n[256];
};

static void errs_add(struct errs *e, int err)
{
	if (err < 0)
		err = -err;
	e->n[err > 0 && err < 256 ? err : 0]++;
}

static void errs_print(const struct errs *e)
{
	for (int i = 0; i < 256; i++)
		if (e->n[i])
			printf(" %s=%d", i ? strerrorname_np(i) : "other",
			       e->n[i]);
}

/* A whole connect + echo + close, blocking or not. Returns 0 or -errno;
 * *took_us is how long connect() itself took. */
static int round_trip(bool nonblocking, unsigned id, uint64_t *took_us)
{
	char line[48];
	uint64_t t0;
	int fd, rc = 0;

	fd = socket(
	    AF_INET,
	    SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -errno;
	t0 = now_us();
	if (connect(fd, (struct sockaddr *)&target, sizeof target) < 0)
		rc = -errno;
	if (took_us)
		*took_us = now_us() - t0;
	/* POSIX: a connect interrupted by a signal (EINTR) goes on
	 * asynchronously, as EINPROGRESS does. */
	if (rc == -EINPROGRESS || rc == -EINTR)
		rc = wait_connected(fd, now_ms() + IO_TIMEOUT_MS);
	if (rc == 0) {
		snprintf(line, sizeof line, "line %u\n", id);
		rc = echo_once(fd, line);
	}
	close(fd);
	return rc;
}

/* ---- echo server ---- */

static int serve_echo(const char *portfile, int seconds)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	struct epoll_event ev = {.events = EPOLLIN}, evs[256];
	int one = 1, ls, ep;
	FILE *f;

	raise_nofile(65536);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ls < 0 || ep < 0)
		return 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(ls, 4096) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &len) < 0)
		return 1;
	ev.data.fd = ls;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	f = fopen(portfile, "we");
	if (!f)
		return 1;
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	while (remaining(end) > 0) {
		int n = epoll_wait(ep, evs, 256, remaining(end));

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			char buf[4096];
			ssize_t got;

			if (fd == ls) {
				struct sockaddr_in peer;
				socklen_t pl = sizeof peer;
				int c;

				/* Bounded: the backlog empties. */
				while ((c = accept4(
					    ls, (struct sockaddr *)&peer, &pl,
					    SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
				       0) {
					struct epoll_event cev = {
					    .events = EPOLLIN, .data.fd = c};

					got = snprintf(buf, sizeof buf, "P%d\n",
						       ntohs(peer.sin_port));
					if (send(c, buf, (size_t)got,
						 MSG_NOSIGNAL) != got ||
					    epoll_ctl(ep, EPOLL_CTL_ADD, c,
						      &cev) < 0)
						close(c);
					pl = sizeof peer;
				}
				continue;
			}
			got = read(fd, buf, sizeof buf);
			if (got > 0 && send(fd, buf, (size_t)got,
					    MSG_NOSIGNAL | MSG_DONTWAIT) == got)
				continue;
			if (got < 0 && errno == EAGAIN)
				continue;
			close(fd); /* also leaves the epoll set */
		}
	}
	return 0;
}

/* ---- many: N non-blocking connects at once ---- */

struct conn {
	int fd;
	int phase; /* 0 connecting, 1 echoing, 2 done */
	int err;
};

/* Drive every connection in phase 0 to its end (bounded by deadline):
 * SO_ERROR, then an echo. Returns how many were still unfinished. */
static int drive(struct conn *c, int n, uint64_t deadline)
{
	struct pollfd *p = calloc((size_t)n, sizeof *p);
	int *map = calloc((size_t)n, sizeof *map);
	int left = 0;

	if (!p || !map)
		abort();
	while (remaining(deadline) > 0) {
		int k = 0, r;

		for (int i = 0; i < n; i++)
			if (c[i].phase == 0) {
				p[k].fd = c[i].fd;
				p[k].events = POLLOUT;
				p[k].revents = 0;
				map[k++] = i;
			}
		if (k == 0)
			break;
		r = poll(p, (nfds_t)k, remaining(deadline));
		if (r < 0 && errno != EINTR)
			break;
		for (int j = 0; r > 0 && j < k; j++) {
			struct conn *cc = &c[map[j]];
			char line[48];

			if (!p[j].revents)
				continue;
			cc->err = wait_connected(cc->fd, now_ms());
			if (cc->err == 0) {
				snprintf(line, sizeof line, "many %d\n",
					 map[j]);
				cc->err = echo_once(cc->fd, line);
			}
			cc->phase = 2;
		}
	}
	for (int i = 0; i < n; i++)
		if (c[i].phase == 0) {
			c[i].err = -ETIME; /* hung */
			left++;
		}
	free(p);
	free(map);
	return left;
}

static int run_many(int n, int seconds)
{
	struct conn *c = calloc((size_t)n, sizeof *c);
	uint64_t deadline = now_ms() + (uint64_t)seconds * 1000, t0,
		 slowest = 0;
	uint64_t start = now_ms();
	int ok = 0, failed = 0, hung, direct = 0, unclean = 0;
	struct errs errs = {{0}};

	if (!c || n > MAX_CONNS)
		return 1;
	raise_nofile((rlim_t)n * 3 + 64);
	for (int i = 0; i < n; i++) {
		c[i].fd = socket(AF_INET,
				 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c[i].fd < 0) {
			c[i].err = -errno;
			c[i].phase = 2;
			continue;
		}
		t0 = now_us();
		if (connect(c[i].fd, (struct sockaddr *)&target,
			    sizeof target) < 0 &&
		    errno != EINPROGRESS)
			c[i].err = -errno, c[i].phase = 2;
		if (now_us() - t0 > slowest)
			slowest = now_us() - t0;
	}
	hung = drive(c, n, deadline);
	for (int i = 0; i < n; i++) {
		if (c[i].err == 0)
			ok++;
		else {
			failed++;
			errs_add(&errs, c[i].err);
			direct += c[i].err == -EXDEV;
			unclean +=
			    !clean_failure(-c[i].err) && c[i].err != -ETIME;
		}
		if (c[i].fd >= 0)
			close(c[i].fd);
	}
	printf("many: n=%d ok=%d failed=%d hung=%d direct=%d unclean=%d "
	       "max_connect_us=%llu ms=%llu",
	       n, ok, failed, hung, direct, unclean,
	       (unsigned long long)slowest,
	       (unsigned long long)(now_ms() - start));
	errs_print(&errs);
	printf("\n");
	free(c);
	return failed == 0 ? 0 : 1;
}

/* ---- emfile: connects with the descriptor table (nearly) full ---- */

static int run_emfile(int n, int limit, bool nonblocking, bool epoll)
{
	struct rlimit rl;
	struct conn *c = calloc((size_t)n, sizeof *c);
	int *fillers = calloc((size_t)limit, sizeof(int)), base, after = -1,
	    ok = 0, clean = 0, unclean = 0;
	int blocked = 0, sock_emfile = 0, direct = 0, hung, ep;
	uint64_t slowest = 0;
	struct errs errs = {{0}};

	if (!c || !fillers)
		return 1;
	/* One connect first, as a program's would be: the library reads its
	 * configuration at the first connect, and one that cannot (EMFILE)
	 * refuses every connection of the process (see the README). */
	if (round_trip(nonblocking, 0, NULL) < 0)
		return printf("emfile: the first connect failed\n"), 1;
	/* An epoll set of the program's: the library looks into it at each
	 * non-blocking connect (a descriptor more). */
	ep = epoll ? epoll_create1(EPOLL_CLOEXEC) : -1;
	base = count_fds();
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1;
	rl.rlim_cur = (rlim_t)limit;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1;
	for (int i = 0; i < n; i++) {
		int nfill = 0, keep = i % 3, flags = SOCK_STREAM | SOCK_CLOEXEC;
		uint64_t t0, took;

		c[i].phase = 2;
		c[i].fd = socket(AF_INET,
				 flags | (nonblocking ? SOCK_NONBLOCK : 0), 0);
		if (c[i].fd < 0) {
			/* Table full of our connections: end the oldest
			 * pending ones first. */
			sock_emfile++;
			for (int j = 0; j < i; j++)
				if (c[j].fd >= 0 && c[j].phase == 2) {
					close(c[j].fd);
					c[j].fd = -1;
				}
			c[i].err = -EMFILE;
			continue;
		}
		/* Leave only keep descriptors free (bounded: the table has
		 * limit entries). */
		while (nfill < limit) {
			int f = fcntl(c[i].fd, F_DUPFD_CLOEXEC, 0);

			if (f < 0)
				break;
			fillers[nfill++] = f;
		}
		for (int k = 0; k < keep && nfill > 0; k++)
			close(fillers[--nfill]);
		t0 = now_us();
		c[i].err = connect(c[i].fd, (struct sockaddr *)&target,
				   sizeof target) < 0
			       ? -errno
			       : 0;
		took = now_us() - t0;
		while (nfill > 0)
			close(fillers[--nfill]);
		if (took > slowest)
			slowest = took;
		if (nonblocking && took > SLOW_MS * 1000)
			blocked++;
		if (c[i].err == -EINPROGRESS)
			c[i].phase = 0;
		else if (c[i].err == 0) {
			char line[48];

			snprintf(line, sizeof line, "emfile %d\n", i);
			c[i].err = echo_once(c[i].fd, line);
		}
		/* The connections stay open: the table fills up. */
		if (i % 8 == 7)
			drive(c, i + 1, now_ms() + IO_TIMEOUT_MS);
	}
	hung = drive(c, n, now_ms() + 2 * IO_TIMEOUT_MS);
	for (int i = 0; i < n; i++) {
		if (c[i].err == 0)
			ok++;
		else if (clean_failure(-c[i].err))
			clean++, errs_add(&errs, c[i].err);
		else
			unclean++, errs_add(&errs, c[i].err);
		direct += c[i].err == -EXDEV;
		if (c[i].fd >= 0)
			close(c[i].fd);
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	/* Descriptors the library let go of asynchronously: give it a
	 * moment (bounded). */
	for (int t = 0; t < 20 && (after = count_fds()) != base; t++)
		sleep_ms(100);
	printf("emfile: n=%d limit=%d mode=%s ok=%d failed_clean=%d "
	       "unclean=%d hung=%d blocked=%d direct=%d socket_emfile=%d "
	       "max_connect_us=%llu fds_before=%d fds_after=%d",
	       n, limit, nonblocking ? (epoll ? "nbepoll" : "nb") : "block", ok,
	       clean, unclean, hung, blocked, direct, sock_emfile,
	       (unsigned long long)slowest, base, after);
	errs_print(&errs);
	printf("\n");
	if (ep >= 0)
		close(ep);
	free(c);
	free(fillers);
	return unclean == 0 && hung == 0 && blocked == 0 && direct == 0 &&
		       after == base && ok > 0
		   ? 0
		   : 1;
}

/* ---- restart: the proxy restarted under open and starting
 * connections ---- */

static bool wait_file(const char *dir, const char *name, int seconds)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	for (int i = 0; i < seconds * 20; i++) {
		if (stat(path, &st) == 0)
			return true;
		sleep_ms(50);
	}
	return false;
}

static void touch_file(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "we");
	if (f)
		fclose(f);
}

struct blocker {
	pthread_t tid;
	int rc;
	uint64_t took_ms;
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	uint64_t t0 = now_ms();

	b->rc = round_trip(false, 7, NULL);
	b->took_ms = now_ms() - t0;
	return NULL;
}

static int run_restart(int hold, int inflight, const char *dir)
{
	struct conn *h = calloc((size_t)hold, sizeof *h);
	struct conn *f = calloc((size_t)inflight, sizeof *f);
	struct blocker b[4];
	int held_clean = 0, held_bad = 0, inf_ok = 0, inf_clean = 0;
	int inf_bad = 0, inf_hung, b_bad = 0, fresh_ok = 0, rc = 0;
	struct errs herrs = {{0}}, ferrs = {{0}}, nerrs = {{0}};

	if (!h || !f)
		return 1;
	raise_nofile(65536);
	for (int i = 0; i < hold; i++) {
		char line[48];

		h[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (h[i].fd < 0 || connect(h[i].fd, (struct sockaddr *)&target,
					   sizeof target) < 0) {
			printf("restart: held connect %d failed: %s\n", i,
			       strerror(errno));
			return 1;
		}
		snprintf(line, sizeof line, "held %d\n", i);
		if (echo_once(h[i].fd, line) < 0) {
			printf("restart: held echo %d failed\n", i);
			return 1;
		}
	}
	touch_file(dir, "held");
	if (!wait_file(dir, "stopped", 30))
		return printf("restart: never told stopped\n"), 1;
	for (int i = 0; i < inflight; i++) {
		f[i].fd = socket(AF_INET,
				 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (f[i].fd < 0 || (connect(f[i].fd, (struct sockaddr *)&target,
					    sizeof target) < 0 &&
				    errno != EINPROGRESS))
			f[i].err = -errno, f[i].phase = 2;
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&b[i].tid, NULL, blocker_main, &b[i]);
	sleep_ms(200); /* the blocking ones are inside connect() */
	touch_file(dir, "inflight");
	if (!wait_file(dir, "restarted", 30))
		return printf("restart: never told restarted\n"), 1;
	/* Every held connection must fail (EOF or an error) now. */
	for (int i = 0; i < hold; i++) {
		int e = echo_line(h[i].fd, "after\n", false);

		if (e == -EPROTO || e == 0 || e == -ETIMEDOUT)
			held_bad++; /* still talking, or stuck */
		else
			held_clean++;
		errs_add(&herrs, e);
		close(h[i].fd);
	}
	inf_hung = drive(f, inflight, now_ms() + 2 * IO_TIMEOUT_MS);
	for (int i = 0; i < inflight; i++) {
		if (f[i].err == 0)
			inf_ok++;
		else if (clean_failure(-f[i].err))
			inf_clean++;
		else
			inf_bad++;
		errs_add(&ferrs, f[i].err);
		if (f[i].fd >= 0)
			close(f[i].fd);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(b[i].tid, NULL);
		if (b[i].rc != 0 && !clean_failure(-b[i].rc))
			b_bad++;
		errs_add(&ferrs, b[i].rc);
	}
	for (int i = 0; i < 100; i++) {
		int e = round_trip(i % 2, (unsigned)i, NULL);

		if (e == 0)
			fresh_ok++;
		else
			errs_add(&nerrs, e);
	}
	printf("restart: held=%d held_failed_clean=%d held_bad=%d "
	       "inflight=%d inflight_ok=%d inflight_failed_clean=%d "
	       "inflight_bad=%d inflight_hung=%d blocking_bad=%d "
	       "new_ok=%d/100 |held:",
	       hold, held_clean, held_bad, inflight, inf_ok, inf_clean, inf_bad,
	       inf_hung, b_bad, fresh_ok);
	errs_print(&herrs);
	printf(" |inflight:");
	errs_print(&ferrs);
	printf(" |new:");
	errs_print(&nerrs);
	printf("\n");
	if (held_bad || inf_bad || inf_hung || b_bad || fresh_ok != 100)
		rc = 1;
	free(h);
	free(f);
	return rc;
}

/* ---- signals: a storm during handshakes ---- */

static atomic_ulong sig_count;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add_explicit(&sig_count, 1, memory_order_relaxed);
}

struct worker {
	pthread_t tid;
	int index;
	uint64_t end_ms;
	unsigned connects, ok, eintr, failed, unclean;
	uint64_t slowest_us;
	struct errs errs;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	uint64_t next = now_ms();

	/* Bounded: until end_ms, and at most 100,000 connects, paced at
	 * WORKER_RATE a second (faster, the loopback runs out of ephemeral
	 * ports: every connect leaves sockets in TIME-WAIT). */
	while (now_ms() < w->end_ms && w->connects < 100000) {
		bool nb = w->index % 2;
		uint64_t took = 0;
		int rc, fd;

		if (now_ms() < next)
			sleep_ms((unsigned)(next - now_ms()));
		next += 1000 / WORKER_RATE;

		w->connects++;
		if (!nb) {
			/* Blocking: see whether connect() itself says
			 * EINTR (then the connection goes on). */
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				w->failed++;
				continue;
			}
			uint64_t t0 = now_us();
			rc = connect(fd, (struct sockaddr *)&target,
				     sizeof target) < 0
				 ? -errno
				 : 0;
			took = now_us() - t0;
			if (rc == -EINTR) {
				w->eintr++;
				rc = wait_connected(fd,
						    now_ms() + IO_TIMEOUT_MS);
			}
			if (rc == 0)
				rc = echo_once(fd, "sig\n");
			close(fd);
		} else {
			rc = round_trip(true, (unsigned)w->connects, &took);
		}
		if (took > w->slowest_us)
			w->slowest_us = took;
		if (rc == 0)
			w->ok++;
		else {
			w->failed++;
			errs_add(&w->errs, rc);
			w->unclean += !clean_failure(-rc);
		}
	}
	return NULL;
}

static int run_signals(int threads, int seconds, bool restart)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct worker *w = calloc((size_t)threads, sizeof *w);
	uint64_t end = now_ms() + (uint64_t)seconds * 1000;
	unsigned connects = 0, ok = 0, eintr = 0, failed = 0, unclean = 0;
	unsigned long sent = 0;
	uint64_t slowest = 0;
	struct errs errs = {{0}};

	if (!w)
		return 1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < threads; i++) {
		w[i].index = i;
		w[i].end_ms = end;
		pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
	}
	/* The storm: every worker gets a signal every 200 us or so, until
	 * the end (bounded by time). */
	while (now_ms() < end) {
		for (int i = 0; i < threads; i++)
			if (pthread_kill(w[i].tid, SIGUSR1) == 0)
				sent++;
		usleep(200);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		connects += w[i].connects;
		ok += w[i].ok;
		eintr += w[i].eintr;
		failed += w[i].failed;
		unclean += w[i].unclean;
		if (w[i].slowest_us > slowest)
			slowest = w[i].slowest_us;
		for (int e = 0; e < 256; e++)
			errs.n[e] += w[i].errs.n[e];
	}
	printf("signals: %s threads=%d connects=%u ok=%u failed=%u unclean=%u "
	       "eintr_from_connect=%u signals_sent=%lu handled=%lu "
	       "max_connect_us=%llu",
	       restart ? "SA_RESTART" : "no-SA_RESTART", threads, connects, ok,
	       failed, unclean, eintr, sent, atomic_load(&sig_count),
	       (unsigned long long)slowest);
	errs_print(&errs);
	printf("\n");
	free(w);
	return failed == 0 && connects > 0 ? 0 : 1;
}

/* ---- soak: a steady rate, the process's resources sampled ---- */

struct sample {
	int t, fds, threads;
	long rss_kb;
};

static void take_sample(struct sample *s, int t)
{
	s->t = t;
	s->fds = count_fds();
	s->rss_kb = status_value("VmRSS");
	s->threads = (int)status_value("Threads");
}

static int run_soak(int rate, int seconds, int interval)
{
	static struct sample s[MAX_SAMPLES];
	uint64_t start = now_ms(), next_sample = start, next_connect = start;
	uint64_t end = start + (uint64_t)seconds * 1000;
	unsigned connects = 0, ok = 0, ns = 0;
	int ref = -1, flat = 1, maxfds = 0, maxthr = 0, ref_at;
	long maxrss = 0;
	struct errs errs = {{0}};

	ref_at = seconds >= 120 ? 60 : seconds / 2;
	/* Bounded by time, and by rate * seconds connects. */
	while (now_ms() < end &&
	       connects < (unsigned)rate * (unsigned)seconds) {
		if (now_ms() >= next_sample && ns < MAX_SAMPLES) {
			take_sample(&s[ns],
				    (int)((now_ms() - start + 500) / 1000));
			printf("soak-sample: t=%d fds=%d rss_kb=%ld threads=%d "
			       "connects=%u ok=%u\n",
			       s[ns].t, s[ns].fds, s[ns].rss_kb, s[ns].threads,
			       connects, ok);
			fflush(stdout);
			ns++;
			next_sample += (uint64_t)interval * 1000;
		}
		if (now_ms() < next_connect) {
			sleep_ms((unsigned)(next_connect - now_ms()));
			continue;
		}
		next_connect += 1000 / (uint64_t)rate;
		int e = round_trip(connects % 2, connects, NULL);

		connects++;
		if (e == 0)
			ok++;
		else
			errs_add(&errs, e);
	}
	if (ns < MAX_SAMPLES) {
		take_sample(&s[ns], (int)((now_ms() - start + 500) / 1000));
		printf("soak-sample: t=%d fds=%d rss_kb=%ld threads=%d "
		       "connects=%u ok=%u\n",
		       s[ns].t, s[ns].fds, s[ns].rss_kb, s[ns].threads,
		       connects, ok);
		ns++;
	}
	for (unsigned i = 0; i < ns; i++) {
		if (ref < 0 && s[i].t >= ref_at)
			ref = (int)i;
		if (s[i].fds > maxfds)
			maxfds = s[i].fds;
		if (s[i].threads > maxthr)
			maxthr = s[i].threads;
		if (s[i].rss_kb > maxrss)
			maxrss = s[i].rss_kb;
	}
	if (ref < 0)
		ref = (int)ns - 1;
	for (unsigned i = (unsigned)ref; i < ns; i++)
		if (s[i].fds != s[ref].fds || s[i].threads != s[ref].threads ||
		    s[i].rss_kb > s[ref].rss_kb + RSS_SLACK_KB)
			flat = 0;
	printf("soak: seconds=%d rate=%d connects=%u ok=%u failed=%u "
	       "samples=%u ref_t=%d fds=%d/%d/%d rss_kb=%ld/%ld/%ld "
	       "threads=%d/%d/%d flat=%s",
	       seconds, rate, connects, ok, connects - ok, ns, s[ref].t,
	       s[0].fds, s[ns - 1].fds, maxfds, s[0].rss_kb, s[ns - 1].rss_kb,
	       maxrss, s[0].threads, s[ns - 1].threads, maxthr,
	       flat ? "yes" : "no");
	errs_print(&errs);
	printf("\n");
	return flat && ok == connects && connects > 0 ? 0 : 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: see the comment at the top of stressconn.c\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "echo") == 0 && argc == 4)
		return serve_echo(argv[2], atoi(argv[3]));
	if (argc < 3)
		return usage();
	target.sin_family = AF_INET;
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	if (strcmp(mode, "many") == 0 && argc == 5)
		return run_many(atoi(argv[3]), atoi(argv[4]));
	if (strcmp(mode, "emfile") == 0 && argc == 6)
		return run_emfile(atoi(argv[3]), atoi(argv[4]),
				  strcmp(argv[5], "block") != 0,
				  strcmp(argv[5], "nbepoll") == 0);
	if (strcmp(mode, "restart") == 0 && argc == 6)
		return run_restart(atoi(argv[3]), atoi(argv[4]), argv[5]);
	if (strcmp(mode, "signals") == 0 && argc == 6)
		return run_signals(atoi(argv[3]), atoi(argv[4]),
				   strcmp(argv[5], "restart") == 0);
	if (strcmp(mode, "soak") == 0 && argc == 6)
		return run_soak(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	return usage();
}
