/* epollclose.c — an epoll set closed while the asynchronous handshake of a
 * socket registered in it runs, and its number reused at once: the end of
 * the handshake must not act on whatever holds the number then. Used by
 * t_async_epoll_close.sh through socksify, with a proxy slow enough that
 * the handshake is still in flight after the reuse.
 *
 * usage: epollclose HOST PORT MODE (the t_async_epoll_close.sh race
 * runs fresh, fresh2 and dup through a race group whose second member
 * wins: the end then registers the moved socket again)
 * Set C (interest EPOLLOUT, data DATA_C) is made first, set A (interest
 * IN|OUT, data DATA_A) second, so C has the lower number; the socket is
 * registered in A, and in C unless MODE is fresh. After connect() says
 * EINPROGRESS, A's number is reused while the handshake runs:
 *   fresh, fresh2: close(A), B = epoll_create1 (fresh: in A only);
 *   other: close(A), B = open("/dev/null");
 *   dup: close(A), B = dup(C);  range: close_range(A, A, 0), B = dup(C);
 *   dup2, dup3: B = dup2/dup3(C, A), which closes A.
 * B must get A's number. Then, once the handshake is over (poll), a set B
 * made by epoll_create1 must hold nothing (epoll_wait quiet, EPOLL_CTL_DEL
 * says ENOENT); C (and B, its copy) must report the socket writable with
 * C's own data, not A's; /dev/null must still read EOF; the socket must
 * be connected (SO_ERROR 0, getpeername) and a line written must come
 * back (an echo server). Prints "ok". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define DATA_A	    UINT64_C(0xa0a0a0a0)
#define DATA_C	    UINT64_C(0xc0c0c0c0)
#define WAIT_ROUNDS 100 /* of 100 ms */

static int die(const char *what)
{
	fprintf(stderr, "epollclose: %s: %s\n", what, strerror(errno));
	return 1;
}

static int say(const char *what)
{
	fprintf(stderr, "epollclose: %s\n", what);
	return 1;
}

static int add(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Reuse A's number as MODE says. Returns the new descriptor, or -1. */
static int reuse(const char *mode, int a, int c)
{
	if (!strcmp(mode, "dup2"))
		return dup2(c, a);
	if (!strcmp(mode, "dup3"))
		return dup3(c, a, O_CLOEXEC);
	if (!strcmp(mode, "range")) {
		if (close_range((unsigned)a, (unsigned)a, 0) < 0)
			return -1;
	} else if (close(a) < 0) {
		return -1;
	}
	if (!strcmp(mode, "fresh") || !strcmp(mode, "fresh2"))
		return epoll_create1(EPOLL_CLOEXEC);
	if (!strcmp(mode, "other"))
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	return dup(c);
}

/* The handshake is over: what B and C hold. Returns 0 or 1. */
static int check_sets(const char *mode, int b, int c, int fd)
{
	struct epoll_event ev;
	char byte;

	if (!strcmp(mode, "fresh") || !strcmp(mode, "fresh2")) {
		if (epoll_wait(b, &ev, 1, 50) != 0)
			return say("the new set B reports something");
		if (epoll_ctl(b, EPOLL_CTL_DEL, fd, NULL) == 0)
			return say("the new set B holds the socket");
		if (errno != ENOENT)
			return die("EPOLL_CTL_DEL in the new set B");
	}
	if (!strcmp(mode, "other") && read(b, &byte, 1) != 0)
		return die("/dev/null in A's number");
	if (!strcmp(mode, "fresh"))
		return 0;
	if (epoll_wait(c, &ev, 1, 1000) != 1)
		return say("no event in C");
	if (ev.data.u64 != DATA_C || !(ev.events & EPOLLOUT)) {
		fprintf(stderr,
			"epollclose: C reports events %#x data %#llx, "
			"want EPOLLOUT and %#llx (A's data: %#llx)\n",
			ev.events, (unsigned long long)ev.data.u64,
			(unsigned long long)DATA_C, (unsigned long long)DATA_A);
		return 1;
	}
	return 0;
}

/* The socket is connected end to end. Returns 0 or 1. */
static int check_socket(int fd)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer, elen = sizeof(int);
	struct pollfd in = {.fd = fd, .events = POLLIN};
	char got[8] = "";
	int err = -1;
	size_t have = 0;
	ssize_t n;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err)
		return errno = err, die("SO_ERROR");
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		return die("getpeername");
	if (write(fd, "hello\n", 6) != 6)
		return die("write");
	for (int i = 0; i < WAIT_ROUNDS && have < 6; i++) {
		if (poll(&in, 1, 100) < 0)
			return die("poll");
		n = read(fd, got + have, 6 - have);
		if (n < 0 && errno != EAGAIN)
			return die("read");
		if (n > 0)
			have += (size_t)n;
	}
	if (have != 6 || memcmp(got, "hello\n", 6) != 0)
		return die("no echo");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer;
	struct pollfd out;
	const char *mode;
	int a, b, c, fd;

	if (argc != 4)
		return fprintf(stderr, "usage: epollclose HOST PORT MODE\n"), 2;
	mode = argv[3];
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return die("address");
	c = epoll_create1(EPOLL_CLOEXEC);
	a = epoll_create1(EPOLL_CLOEXEC);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c < 0 || a < 0 || fd < 0)
		return die("epoll_create1/socket");
	if (strcmp(mode, "fresh") && add(c, fd, EPOLLOUT, DATA_C) < 0)
		return die("epoll_ctl C");
	if (add(a, fd, EPOLLIN | EPOLLOUT, DATA_A) < 0)
		return die("epoll_ctl A");
	if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0 ||
	    errno != EINPROGRESS)
		return die("connect did not say EINPROGRESS");
	b = reuse(mode, a, c);
	if (b != a)
		return fprintf(stderr, "epollclose: %s gave %d, not %d\n", mode,
			       b, a),
		       1;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 ||
	    errno != ENOTCONN)
		return die("the handshake was over before the reuse");
	out = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&out, 1, WAIT_ROUNDS * 100) != 1)
		return die("the connect did not end");
	if (check_sets(mode, b, c, fd) || check_socket(fd))
		return 1;
	puts("ok");
	return 0;
}
