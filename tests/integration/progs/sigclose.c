/* sigclose — close epoll sets from a signal handler while non-blocking
 * proxied connects look for the socket's registrations
 * (t_async_epoll_close.sh). socksify's close() of an epoll set takes locks that
 * the interrupted connect() may already hold in the same thread; it must not
 * wait on them.
 *
 * Usage: sigclose ADDR PORT [ROUNDS]
 * In each of ROUNDS rounds (default 1): 200 epoll sets each hold one end
 * of a pipe; each of up to 3000 non-blocking connects to ADDR:PORT (an
 * IPv4 literal: it only names a destination to the proxy) is registered
 * in two sets first, so that connect() scans them. A SIGALRM every 300 µs
 * closes one set from the handler, 99 in all. The handler can land
 * anywhere in the hooks, including the few instructions in which a lock
 * is being taken or let go; more rounds, more chances. Prints
 * "done closes=N" (N = 99 × ROUNDS). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define NSETS 200

static int sets[NSETS];
static volatile sig_atomic_t victim = NSETS - 1, closes;

static void on_alarm(int sig)
{
	(void)sig;
	if (victim > 100) {
		close(sets[victim]);
		victim--;
		closes++;
	}
}

/* One round: make the sets, connect until the handler has closed 99 of
 * them, stop the timer, close the rest. */
static int round_run(const struct sockaddr_in *to, int pipe_end)
{
	struct itimerval every = {{0, 300}, {0, 300}}, off = {{0, 0}, {0, 0}};

	for (int i = 0; i < NSETS; i++) {
		struct epoll_event ev = {.events = EPOLLIN};

		sets[i] = epoll_create1(0);
		if (sets[i] < 0)
			return -1;
		epoll_ctl(sets[i], EPOLL_CTL_ADD, pipe_end, &ev);
	}
	victim = NSETS - 1;
	setitimer(ITIMER_REAL, &every, NULL);
	for (int n = 0; n < 3000 && victim > 100; n++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		struct epoll_event ev = {.events = EPOLLOUT};

		epoll_ctl(sets[0], EPOLL_CTL_ADD, s, &ev);
		epoll_ctl(sets[1], EPOLL_CTL_ADD, s, &ev);
		connect(s, (const struct sockaddr *)to, sizeof *to);
		close(s);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	for (int i = 0; i <= victim; i++)
		close(sets[i]);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	int pipefd[2], rounds = argc > 3 ? atoi(argv[3]) : 1;

	if (argc < 3 || argc > 4 || rounds < 1 ||
	    inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "usage: sigclose ADDR PORT [ROUNDS]\n");
		return 2;
	}
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (pipe(pipefd) < 0)
		return 1;
	sigaction(SIGALRM, &sa, NULL);
	for (int r = 0; r < rounds; r++)
		if (round_run(&to, pipefd[0]) < 0)
			return 1;
	printf("done closes=%d\n", (int)closes);
	return 0;
}
