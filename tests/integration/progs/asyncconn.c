/* asyncconn.c — N non-blocking connects at once, driven by a real event
 * loop, checking what a program must see of each connect in progress and
 * after it. Used by t_async*.sh through socksify.
 *
 * usage: asyncconn HOST PORT N MODE [EXPECT]
 *   MODE: lt et oneshot etoneshot pre (epoll registration before connect,
 *         ET) poll select threads (4 threads, own epoll, ET) dup fork reuse
 *   EXPECT: echo (default; write a line, read it back), banner:TEXT (the
 *         server speaks first), refused, timeout (the connect must fail so)
 * Prints "ok N, max connect() US us, max stall US us, total MS ms". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256

struct conn {
	int fd;
	int phase; /* 0 connecting, 1 reading, 2 done */
	char want[64];
	char got[64];
	size_t got_len;
};

static struct sockaddr_in target;
static const char *mode;
static const char *expect = "echo";
static int nconns;
static _Atomic long max_connect_us, max_stall_us;

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void note_max(_Atomic long *slot, long v)
{
	long cur = *slot;

	while (v > cur && !atomic_compare_exchange_weak(slot, &cur, v))
		;
}

static void __attribute__((noreturn)) die(const char *what, int i)
{
	fprintf(stderr, "asyncconn %s: conn %d: %s: %s\n", mode, i, what,
		strerror(errno));
	exit(1);
}

static int expected_error(void)
{
	if (strcmp(expect, "refused") == 0)
		return ECONNREFUSED;
	if (strcmp(expect, "timeout") == 0)
		return ETIMEDOUT;
	return 0;
}

/* Checks on a connect in progress: no readiness, EAGAIN, ENOTCONN. */
static void check_in_progress(int fd, int i)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN | POLLOUT};
	struct sockaddr_in peer;
	socklen_t len = sizeof peer;
	char c;

	if (poll(&pfd, 1, 0) != 0)
		die("poll shows readiness during the handshake", i);
	if (read(fd, &c, 1) != -1 || errno != EAGAIN)
		die("read during the handshake is not EAGAIN", i);
	if (write(fd, "x", 1) != -1 || errno != EAGAIN)
		die("write during the handshake is not EAGAIN", i);
	if (getpeername(fd, (struct sockaddr *)&peer, &len) != -1 ||
	    errno != ENOTCONN)
		die("getpeername during the handshake is not ENOTCONN", i);
}

/* Start conn i; returns its fd (maybe a duplicate, in dup mode). */
static int start(struct conn *c, int i, int epfd, uint32_t flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct epoll_event ev = {.events = EPOLLOUT | flags,
				 .data.u32 = (uint32_t)i};
	long t;

	if (fd < 0)
		die("socket", i);
	if (epfd >= 0 && strcmp(mode, "pre") == 0 &&
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl before connect", i);
	t = now_us();
	if (connect(fd, (struct sockaddr *)&target, sizeof target) == 0 ||
	    errno != EINPROGRESS)
		die("connect did not return EINPROGRESS", i);
	note_max(&max_connect_us, now_us() - t);
	if (i == 0)
		check_in_progress(fd, i);
	if (strcmp(mode, "dup") == 0) {
		int copy = i % 2 ? dup(fd) : fcntl(fd, F_DUPFD, 100);

		if (copy < 0 || close(fd) < 0)
			die("dup", i);
		fd = copy;
	}
	c->fd = fd;
	c->phase = 0;
	c->got_len = 0;
	if (strncmp(expect, "banner:", 7) == 0)
		snprintf(c->want, sizeof c->want, "%s", expect + 7);
	else
		snprintf(c->want, sizeof c->want, "ping-%d\n", i);
	if (epfd >= 0 && strcmp(mode, "pre") != 0 &&
	    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl", i);
	return fd;
}

/* The socket turned writable: the connect's result. Returns the events to
 * wait for next (0: finished). */
static short on_connected(struct conn *c, int i)
{
	int err = 0;
	socklen_t len = sizeof err;
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		die("getsockopt", i);
	if (expected_error()) {
		if (err != expected_error()) {
			errno = err;
			die("connect did not fail as expected", i);
		}
		c->phase = 2;
		return 0;
	}
	if (err) {
		errno = err;
		die("connect failed", i);
	}
	if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) < 0 ||
	    peer.sin_port != target.sin_port)
		die("getpeername after connect", i);
	if (strcmp(expect, "echo") == 0 &&
	    write(c->fd, c->want, strlen(c->want)) != (ssize_t)strlen(c->want))
		die("write", i);
	c->phase = 1;
	return POLLIN;
}

/* Read what came; returns true once the whole expected text is in. */
static bool on_readable(struct conn *c, int i)
{
	size_t want = strlen(c->want);
	ssize_t n;

	for (;;) {
		n = read(c->fd, c->got + c->got_len, want - c->got_len);
		if (n > 0) {
			c->got_len += (size_t)n;
			if (c->got_len == want)
				break;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return false;
		die(n == 0 ? "early EOF" : "read", i);
	}
	if (memcmp(c->got, c->want, want) != 0) {
		errno = EPROTO;
		die("wrong bytes (SOCKS bytes leaked, or data lost)", i);
	}
	c->phase = 2;
	return true;
}

/* One event for conn i; returns true when it finished. */
static bool handle(struct conn *c, int i, short revents)
{
	short next;

	if (c->phase == 0) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return false;
		next = on_connected(c, i);
		if (!next)
			return true;
		return on_readable(c, i) && true;
	}
	if (c->phase == 1 && (revents & (POLLIN | POLLERR | POLLHUP)))
		return on_readable(c, i);
	return false;
}

static short from_epoll(uint32_t e)
{
	return (
	    short)((e & EPOLLIN ? POLLIN : 0) | (e & EPOLLOUT ? POLLOUT : 0) |
		   (e & EPOLLERR ? POLLERR : 0) | (e & EPOLLHUP ? POLLHUP : 0));
}

static uint32_t epoll_flags(void)
{
	if (strcmp(mode, "lt") == 0)
		return 0;
	if (strcmp(mode, "oneshot") == 0)
		return EPOLLONESHOT;
	if (strcmp(mode, "etoneshot") == 0)
		return EPOLLET | EPOLLONESHOT;
	return EPOLLET;
}

/* An epoll loop over n conns; bounded by a 20 s wall clock. */
static void run_epoll(struct conn *conns, int n)
{
	uint32_t flags = epoll_flags();
	int epfd = epoll_create1(EPOLL_CLOEXEC), left = n;
	long end = now_us() + 20000000L;
	struct epoll_event evs[64];

	if (epfd < 0)
		die("epoll_create1", -1);
	for (int i = 0; i < n; i++)
		start(&conns[i], i, epfd, flags);
	while (left > 0) {
		int k = epoll_wait(epfd, evs, 64, 1000);
		long t = now_us();

		if (t > end)
			die("timed out waiting for events", -1);
		for (int j = 0; j < k; j++) {
			int i = (int)evs[j].data.u32;
			struct conn *c = &conns[i];
			struct epoll_event ev = {.data.u32 = (uint32_t)i};

			if (handle(c, i, from_epoll(evs[j].events))) {
				close(c->fd);
				left--;
				continue;
			}
			ev.events =
			    (c->phase == 0 ? EPOLLOUT : EPOLLIN) | flags;
			if ((flags & EPOLLONESHOT || c->phase == 1) &&
			    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
				die("epoll_ctl MOD", i);
		}
		note_max(&max_stall_us, now_us() - t);
	}
	close(epfd);
}

static void run_poll(struct conn *conns, int n)
{
	struct pollfd pfds[MAX_CONNS];
	long end = now_us() + 20000000L;
	int left = n;

	for (int i = 0; i < n; i++) {
		start(&conns[i], i, -1, 0);
		pfds[i] = (struct pollfd){.fd = conns[i].fd, .events = POLLOUT};
	}
	while (left > 0) {
		int k = poll(pfds, (nfds_t)n, 1000);
		long t = now_us();

		if (k < 0 || t > end)
			die("poll", -1);
		for (int i = 0; i < n; i++) {
			if (pfds[i].fd < 0 || !pfds[i].revents)
				continue;
			if (handle(&conns[i], i, pfds[i].revents)) {
				close(conns[i].fd);
				pfds[i].fd = -1;
				left--;
			} else {
				pfds[i].events =
				    conns[i].phase ? POLLIN : POLLOUT;
			}
		}
		note_max(&max_stall_us, now_us() - t);
	}
}

static void run_select(struct conn *conns, int n)
{
	long end = now_us() + 20000000L;
	int left = n;

	for (int i = 0; i < n; i++)
		start(&conns[i], i, -1, 0);
	while (left > 0) {
		fd_set r, w;
		struct timeval tv = {1, 0};
		int maxfd = -1;
		long t;

		FD_ZERO(&r);
		FD_ZERO(&w);
		for (int i = 0; i < n; i++) {
			if (conns[i].phase == 2)
				continue;
			FD_SET(conns[i].fd, conns[i].phase ? &r : &w);
			if (conns[i].fd > maxfd)
				maxfd = conns[i].fd;
		}
		if (select(maxfd + 1, &r, &w, NULL, &tv) < 0 || now_us() > end)
			die("select", -1);
		t = now_us();
		for (int i = 0; i < n; i++) {
			short rev =
			    (short)((FD_ISSET(conns[i].fd, &r) ? POLLIN : 0) |
				    (FD_ISSET(conns[i].fd, &w) ? POLLOUT : 0));

			if (conns[i].phase == 2 || !rev)
				continue;
			if (handle(&conns[i], i, rev)) {
				close(conns[i].fd);
				left--;
			}
		}
		note_max(&max_stall_us, now_us() - t);
	}
}

static void *thread_main(void *arg)
{
	run_epoll(arg, nconns);
	return NULL;
}

static void run_threads(void)
{
	static struct conn conns[4][MAX_CONNS];
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, thread_main, conns[i]) != 0)
			die("pthread_create", i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

/* Connects closed at once: their numbers are reused by the real ones. */
static void close_some(int n)
{
	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (connect(fd, (struct sockaddr *)&target, sizeof target) ==
			0 ||
		    errno != EINPROGRESS)
			die("connect to be closed", i);
		if (close(fd) < 0)
			die("close mid-handshake", i);
	}
}

int main(int argc, char **argv)
{
	static struct conn conns[MAX_CONNS];
	long t0 = now_us();

	if (argc < 5)
		return 2;
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1)
		return 2;
	nconns = atoi(argv[3]);
	mode = argv[4];
	if (argc > 5)
		expect = argv[5];
	if (nconns < 1 || nconns > MAX_CONNS)
		return 2;
	if (strcmp(mode, "reuse") == 0) {
		close_some(nconns);
		mode = "et";
	}
	if (strcmp(mode, "poll") == 0)
		run_poll(conns, nconns);
	else if (strcmp(mode, "select") == 0)
		run_select(conns, nconns);
	else if (strcmp(mode, "threads") == 0)
		run_threads();
	else if (strcmp(mode, "fork") == 0) {
		pid_t pid;
		int status;

		mode = "et";
		for (int i = 0; i < nconns; i++)
			start(&conns[i], i, -1, 0);
		pid = fork();
		if (pid == 0)
			_exit(7); /* the child must come into being and exit */
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 7)
			die("fork child", -1);
		for (int i = 0; i < nconns; i++)
			close(conns[i].fd);
		run_epoll(conns,
			  nconns); /* then a normal round in the parent */
	} else
		run_epoll(conns, nconns);
	printf("ok %d, max connect() %ld us, max stall %ld us, total %ld ms\n",
	       nconns, (long)max_connect_us, (long)max_stall_us,
	       (now_us() - t0) / 1000);
	return 0;
}
