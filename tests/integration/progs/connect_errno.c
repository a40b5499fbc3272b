/* connect_errno — connect to HOST PORT and print what connect() reported,
 * as an errno name ("OK", "ECONNREFUSED", ...), so that integration tests can
 * assert the exact error socksify maps a proxy failure to.
 *
 * Usage: connect_errno [-i] [-m] [-n] [-4|-6] [-r] [-s TEXT] [-t MS] HOST PORT
 *   -n       non-blocking connect: expect 0 or EINPROGRESS, wait for
 *            writability, then read SO_ERROR; also checks that the file
 *            status flags are exactly what they were before connect()
 *   -4, -6   address family for getaddrinfo (default: any)
 *   -i       interrupt connect() with a caught SIGALRM every 2 ms (no
 *            SA_RESTART); on EINTR, wait as POSIX says: the connection
 *            goes on asynchronously
 *   -r       after connecting, read one line and print "READ <line>"
 *   -s TEXT  after connecting, send TEXT and print "ECHO <reply>"
 *   -t MS    poll timeout in milliseconds (default 15000)
 *   -m       after the result line, print "TOOK <ms>": how long connect()
 *            itself took (monotonic clock), for deadline checks
 * Prints the result on stdout's first line. Exit status: 0 connected, 1
 * connect failed, 2 usage or local error, 3 flags changed, 4 I/O failed. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct options {
	int nonblock;
	int interrupt;
	int family;
	int read_line;
	const char *send_text;
	int timeout_ms;
	int measure;
	const char *host, *port;
};

static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "E?";
}

static int parse_args(int argc, char **argv, struct options *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->family = AF_UNSPEC;
	o->timeout_ms = 15000;
	while ((c = getopt(argc, argv, "imn46rs:t:")) != -1) {
		switch (c) {
		case 'm':
			o->measure = 1;
			break;
		case 'i':
			o->interrupt = 1;
			break;
		case 'n':
			o->nonblock = 1;
			break;
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'r':
			o->read_line = 1;
			break;
		case 's':
			o->send_text = optarg;
			break;
		case 't':
			o->timeout_ms = atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	if (argc - optind != 2)
		return -1;
	o->host = argv[optind];
	o->port = argv[optind + 1];
	return 0;
}

/* Wait for the non-blocking connect to finish. Returns 0 or an errno. */
static int finish_connect(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof err;
	int n = poll(&p, 1, timeout_ms);

	if (n == 0)
		return ETIMEDOUT;
	if (n < 0)
		return errno;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Start (on) or stop a 2 ms interval timer whose SIGALRM interrupts
 * blocking calls (no SA_RESTART). */
static void interrupter(int on)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	struct itimerval it = {0};

	if (on) {
		sigaction(SIGALRM, &sa, NULL);
		it.it_interval.tv_usec = 2000;
		it.it_value.tv_usec = 2000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Connect as the options say. Returns 0 or an errno; 3 (as -3) when the
 * file status flags did not survive. */
static int do_connect(int fd, const struct addrinfo *ai,
		      const struct options *o)
{
	int before = fcntl(fd, F_GETFL), after, err = 0;

	if (o->nonblock) {
		before |= O_NONBLOCK;
		fcntl(fd, F_SETFL, before);
	}
	if (o->interrupt)
		interrupter(1);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		err = errno;
	if (o->interrupt) {
		interrupter(0);
		fprintf(stderr, "%d signals during connect\n", (int)alarms);
	}
	after = fcntl(fd, F_GETFL);
	if (after != before) {
		fprintf(stderr, "flags changed: %#x -> %#x\n", before, after);
		return -3;
	}
	if ((o->nonblock && err == EINPROGRESS) || err == EINTR) {
		fprintf(stderr, "connect: %s\n", errno_name(err));
		err = finish_connect(fd, o->timeout_ms);
	}
	return err;
}

/* Read until a newline or EOF (bounded by timeout). Returns length or -1. */
static int read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? (int)n : -1;
}

static int after_connect(int fd, const struct options *o)
{
	char buf[4096];

	if (o->read_line) {
		if (read_line(fd, buf, sizeof buf, o->timeout_ms) < 0)
			return 4;
		printf("READ %s\n", buf);
	}
	if (o->send_text) {
		size_t len = strlen(o->send_text);

		if (write(fd, o->send_text, len) != (ssize_t)len ||
		    write(fd, "\n", 1) != 1)
			return 4;
		if (read_line(fd, buf, sizeof buf, o->timeout_ms) < 0)
			return 4;
		printf("ECHO %s\n", buf);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	struct timespec t0, t1;
	int fd, rc;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: connect_errno [-i] [-m] [-n] [-4|-6] "
				"[-r] [-s TEXT] [-t MS] HOST PORT\n");
		return 2;
	}
	hints.ai_family = o.family;
	rc = getaddrinfo(o.host, o.port, &hints, &ai);
	if (rc != 0) {
		printf("EAI %s\n", gai_strerror(rc));
		return 2;
	}
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		printf("socket %s\n", errno_name(errno));
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = do_connect(fd, ai, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	freeaddrinfo(ai);
	if (rc == -3) {
		printf("FLAGS-CHANGED\n");
		return 3;
	}
	printf("%s\n", rc ? errno_name(rc) : "OK");
	if (o.measure)
		printf("TOOK %ld\n",
		       (long)((t1.tv_sec - t0.tv_sec) * 1000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000000));
	fflush(stdout);
	if (rc)
		return 1;
	rc = after_connect(fd, &o);
	close(fd);
	return rc;
}
