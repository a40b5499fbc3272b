/* asyncburst.c — N non-blocking connects issued at once from one thread,
 * each socket put in one epoll set (edge-triggered), then an epoll loop
 * until every connect is over. Measures the time spent inside connect().
 * Used by tests/bench/asyncburst.sh (issue 14).
 *
 * usage: asyncburst HOST PORT N [after|before]
 *   after (default): register each socket after its connect(); before:
 *   register it before (the library then has to find the registration).
 * Prints "n N ok K failed F; connect() total MS ms, mean US us, max US us;
 * all over after MS ms". Exits 1 unless every connect succeeded. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 16384
#define EVENTS	  256
#define LOOP_MS	  60000 /* the epoll loop gives up after a minute */

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int add(int epfd, int fd)
{
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.fd = fd};

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Start one connect; adds its time inside connect() to *total, *max.
 * Returns the socket, or -1. */
static int start_one(int epfd, const struct sockaddr_in *to, int before,
		     long *total, long *max)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	long t0, dt;
	int rc;

	if (fd < 0 || (before && add(epfd, fd) < 0))
		return -1;
	t0 = now_ns();
	rc = connect(fd, (const struct sockaddr *)to, sizeof *to);
	dt = now_ns() - t0;
	*total += dt;
	if (dt > *max)
		*max = dt;
	if (rc < 0 && errno != EINPROGRESS)
		return -1;
	if (!before && add(epfd, fd) < 0)
		return -1;
	return fd;
}

/* The epoll loop: each socket's first event ends its connect. */
static void loop(int epfd, int n, int *ok, int *failed)
{
	struct epoll_event evs[EVENTS];
	long until = now_ns() + LOOP_MS * 1000000L;

	while (*ok + *failed < n && now_ns() < until) {
		int got = epoll_wait(epfd, evs, EVENTS, 1000);

		for (int i = 0; i < got; i++) {
			int err = 0;
			socklen_t len = sizeof err;

			getsockopt(evs[i].data.fd, SOL_SOCKET, SO_ERROR, &err,
				   &len);
			if (err)
				(*failed)++;
			else
				(*ok)++;
			epoll_ctl(epfd, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	static int fds[MAX_CONNS];
	long total = 0, max = 0, t0;
	int n, before, epfd, ok = 0, failed = 0;

	if (argc < 4)
		return fprintf(stderr, "usage: asyncburst HOST PORT N "
				       "[after|before]\n"),
		       2;
	n = atoi(argv[3]);
	before = argc > 4 && strcmp(argv[4], "before") == 0;
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (n < 1 || n > MAX_CONNS ||
	    inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		return fprintf(stderr, "asyncburst: bad arguments\n"), 2;
	epfd = epoll_create1(0);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		fds[i] = start_one(epfd, &to, before, &total, &max);
		if (fds[i] < 0)
			failed++;
	}
	loop(epfd, n, &ok, &failed);
	printf("n %d ok %d failed %d; connect() total %ld ms, mean %ld us, "
	       "max %ld us; all over after %ld ms\n",
	       n, ok, failed, total / 1000000, total / 1000 / n, max / 1000,
	       (now_ns() - t0) / 1000000);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ok == n ? 0 : 1;
}
