/* epollpre.c — one non-blocking connect whose socket was put in an epoll
 * set before connect(), in this image or in the image before an exec (the
 * library of this image then never saw the set made nor the socket
 * registered). Used by t_async_epoll.sh through socksify.
 *
 * usage: epollpre HOST PORT MODE
 *   MODE: after (register after connect: the common case), before (register
 *         before connect), two (before, in two sets: the second must stay
 *         quiet while the handshake runs, then report), exec (make the set and
 * register, then exec this program, which connects: "child EPFD FD HOST PORT")
 * The connect must say EINPROGRESS; the set must report nothing for the
 * socket until the SOCKS handshake is over (getpeername then works), then
 * a line written must come back (an echo server). Prints "ok". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_ROUNDS 100 /* of 100 ms */
#define QUIET_MS    15	/* the handshake takes two 40 ms round trips */

static int second = -1; /* mode two's other set */

static int die(const char *what)
{
	fprintf(stderr, "epollpre: %s: %s\n", what, strerror(errno));
	return 1;
}

static int add(int epfd, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
				 .data.fd = fd};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Wait for an event of fd in epfd. Returns its events, or 0. */
static unsigned wait_event(int epfd)
{
	struct epoll_event ev;

	for (int i = 0; i < WAIT_ROUNDS; i++)
		if (epoll_wait(epfd, &ev, 1, 100) == 1)
			return ev.events;
	return 0;
}

/* True when epfd reports something within QUIET_MS. */
static int wait_quiet(int epfd)
{
	struct epoll_event ev;

	return epoll_wait(epfd, &ev, 1, QUIET_MS) != 0;
}

/* The connect, the wait, the echo. */
static int run(int epfd, int fd, const char *host, const char *port,
	       int register_after)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct sockaddr_in peer;
	socklen_t plen = sizeof peer;
	char got[16] = "";
	ssize_t n;

	to.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1)
		return die("address");
	if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0 ||
	    errno != EINPROGRESS)
		return die("connect did not say EINPROGRESS");
	if (register_after && add(epfd, fd) < 0)
		return die("epoll_ctl");
	if (second >= 0 && wait_quiet(second))
		return die("the second set reported the socket early");
	if (!(wait_event(epfd) & EPOLLOUT))
		return die("no EPOLLOUT");
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		return die("ready while the handshake runs (getpeername)");
	if (second >= 0 && !(wait_event(second) & EPOLLOUT))
		return die("no EPOLLOUT in the second set");
	if (write(fd, "hello\n", 6) != 6)
		return die("write");
	for (int i = 0; i < WAIT_ROUNDS && strlen(got) < 6; i++) {
		n = read(fd, got + strlen(got), 6 - strlen(got));
		if (n < 0 && errno != EAGAIN)
			return die("read");
		if (n <= 0)
			wait_event(epfd);
	}
	if (strcmp(got, "hello\n") != 0)
		return die("no echo");
	puts("ok");
	return 0;
}

int main(int argc, char **argv)
{
	char epstr[16], fdstr[16];
	int epfd, fd;

	if (argc == 6 && strcmp(argv[1], "child") == 0)
		return run(atoi(argv[2]), atoi(argv[3]), argv[4], argv[5], 0);
	if (argc != 4)
		return fprintf(stderr, "usage: epollpre HOST PORT MODE\n"), 2;
	epfd = epoll_create1(0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (epfd < 0 || fd < 0)
		return die("epoll_create1/socket");
	if (strcmp(argv[3], "after") == 0)
		return run(epfd, fd, argv[1], argv[2], 1);
	if (add(epfd, fd) < 0)
		return die("epoll_ctl");
	if (strcmp(argv[3], "two") == 0) {
		second = epoll_create1(0);
		if (second < 0 || add(second, fd) < 0)
			return die("second set");
	}
	if (strcmp(argv[3], "before") == 0 || strcmp(argv[3], "two") == 0)
		return run(epfd, fd, argv[1], argv[2], 0);
	snprintf(epstr, sizeof epstr, "%d", epfd);
	snprintf(fdstr, sizeof fdstr, "%d", fd);
	execl("/proc/self/exe", argv[0], "child", epstr, fdstr, argv[1],
	      argv[2], (char *)NULL);
	return die("exec");
}
