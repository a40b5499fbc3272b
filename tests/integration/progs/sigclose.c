/* sigclose — close descriptors from a signal handler while non-blocking
 * proxied connects run (t_async_epoll_close.sh). socksify's bookkeeping for
 * such a close takes locks that the interrupted connect() may hold, or be
 * taking or letting go, in the same thread; it must not wait on them, and
 * what the close means must still reach the records.
 *
 * Usage: sigclose ADDR PORT [ROUNDS [WHAT]]
 * In each of ROUNDS rounds (default 1), 200 victims are made, then
 * non-blocking connects to ADDR:PORT (an IPv4 literal: it only names a
 * destination to the proxy) run while a SIGALRM every 300 µs closes one
 * victim from the handler, 99 in all; the rest close at the end of the
 * round. WHAT (default sets):
 *   sets   the victims are epoll sets holding one end of a pipe; each
 *          connect's socket is registered in two of them first, so that
 *          connect() scans them;
 *   socks  the victims are sockets whose own non-blocking connect (their
 *          handshake: the proxy never answers) runs while the handler
 *          closes them;
 *   dups   as socks, but the handler dup()s the victim, closes the
 *          victim, then closes the copy;
 *   lowdups as socks, but the handler dup2()s the victim onto a lower
 *          number (one of 99 kept open on /dev/null for it) and closes
 *          the victim: the copy keeps the handshake, so at the end of the
 *          round none of the copies may be writable yet (poll, no wait);
 *          "stale=S" counts those that were.
 * Prints "done closes=N fds=M [stale=S]": N = 99 × ROUNDS, M = how many more
 * descriptors are open at the end than at the start, a quarter second
 * after the last close (a handshake whose sockets were all closed gives up
 * its own copy at once; socksify's handshake thread keeps 2 while it
 * lingers). */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NVICTIMS 200

enum what { SETS, SOCKS, DUPS, LOWDUPS };

static enum what what;
static int victims[NVICTIMS];
/* lowdups: spares[i] receives victims[i + 101]; below every victim. */
static int spares[NVICTIMS - 101];
static int stale;
static volatile sig_atomic_t victim = NVICTIMS - 1, closes;

static void on_alarm(int sig)
{
	(void)sig;
	if (victim > 100) {
		if (what == DUPS) {
			int copy = dup(victims[victim]);

			close(victims[victim]);
			close(copy);
		} else if (what == LOWDUPS) {
			dup2(victims[victim], spares[victim - 101]);
			close(victims[victim]);
		} else {
			close(victims[victim]);
		}
		victim--;
		closes++;
	}
}

/* Open descriptors of the process. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", "..", the directory's own */
}

static int connect_nb(const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (s >= 0)
		connect(s, (const struct sockaddr *)to, sizeof *to);
	return s;
}

/* lowdups: the copies the handler made are still in their handshake
 * (the proxy never answers), so none is writable; each goes back to
 * /dev/null for the next round. */
static void spares_check(void)
{
	for (int i = NVICTIMS - 102; i >= victim - 100 && i >= 0; i--) {
		struct pollfd p = {.fd = spares[i], .events = POLLOUT};

		if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
			stale++;
	}
	for (int i = 0; i < NVICTIMS - 101; i++) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (null >= 0 && null != spares[i]) {
			dup2(null, spares[i]);
			close(null);
		}
	}
}

/* The victims of a round. */
static int victims_make(const struct sockaddr_in *to, int pipe_end)
{
	for (int i = 0; i < NVICTIMS; i++) {
		struct epoll_event ev = {.events = EPOLLIN};

		if (what == SETS) {
			victims[i] = epoll_create1(0);
			if (victims[i] >= 0)
				epoll_ctl(victims[i], EPOLL_CTL_ADD, pipe_end,
					  &ev);
		} else {
			victims[i] = connect_nb(to);
		}
		if (victims[i] < 0)
			return -1;
	}
	return 0;
}

/* One round: connect until the handler has closed 99 victims, stop the
 * timer, close the rest. */
static int round_run(const struct sockaddr_in *to, int pipe_end)
{
	struct itimerval every = {{0, 300}, {0, 300}}, off = {{0, 0}, {0, 0}};

	if (victims_make(to, pipe_end) < 0)
		return -1;
	victim = NVICTIMS - 1;
	setitimer(ITIMER_REAL, &every, NULL);
	/* Bounded: about 300 to 700 connects a round here. */
	for (int n = 0; n < 100000 && victim > 100; n++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct epoll_event ev = {.events = EPOLLOUT};

		if (what == SETS) {
			epoll_ctl(victims[0], EPOLL_CTL_ADD, s, &ev);
			epoll_ctl(victims[1], EPOLL_CTL_ADD, s, &ev);
		}
		connect(s, (const struct sockaddr *)to, sizeof *to);
		close(s);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	for (int i = 0; i <= victim; i++)
		close(victims[i]);
	if (what == LOWDUPS)
		spares_check();
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	struct timespec settle = {0, 250 * 1000 * 1000};
	int pipefd[2], before, rounds = argc > 3 ? atoi(argv[3]) : 1;
	const char *w = argc > 4 ? argv[4] : "sets";

	what = !strcmp(w, "socks")     ? SOCKS
	       : !strcmp(w, "dups")    ? DUPS
	       : !strcmp(w, "lowdups") ? LOWDUPS
				       : SETS;
	if (argc < 3 || argc > 5 || rounds < 1 ||
	    (what == SETS && strcmp(w, "sets") != 0) ||
	    inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: sigclose ADDR PORT [ROUNDS "
				"[sets|socks|dups|lowdups]]\n");
		return 2;
	}
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (pipe(pipefd) < 0)
		return 1;
	for (int i = 0; what == LOWDUPS && i < NVICTIMS - 101; i++)
		if ((spares[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			return 1;
	before = open_fds();
	sigaction(SIGALRM, &sa, NULL);
	for (int r = 0; r < rounds; r++)
		if (round_run(&to, pipefd[0]) < 0)
			return 1;
	nanosleep(&settle, NULL);
	printf("done closes=%d fds=%d", (int)closes, open_fds() - before);
	if (what == LOWDUPS)
		printf(" stale=%d", stale);
	printf("\n");
	return 0;
}
