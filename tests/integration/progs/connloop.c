/* connloop — COUNT TCP connects to an IPv4 literal, for counting what one
 * connect() costs (t_floor.sh). Each connect() is fenced by getppid()
 * calls, a cheap system call the program makes nowhere else, so that a
 * trace (strace) shows exactly which calls happened inside connect().
 *
 * Usage: connloop [-n] [-f] [-e] ADDR PORT COUNT
 *   -n  non-blocking sockets (SOCK_NONBLOCK): connect() may say EINPROGRESS;
 *       then wait for writability and read SO_ERROR (outside the fence)
 *   -f  the same, but made non-blocking with ioctl(FIONBIO) after socket()
 *       (as CPython's setblocking(False) and libuv do)
 *   -e  after connecting, send one byte and read it back (an echo server)
 * Prints "OK COUNT INPROGRESS" when every connect succeeded, INPROGRESS
 * being how many said EINPROGRESS. Exit status: 0 ok, 1 a connect or the
 * echo failed, 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Wait for a non-blocking connect's outcome: 0 or the error. */
static int wait_connected(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&pfd, 1, 15000) != 1)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* One byte there and back. Returns 0 or -1. */
static int echo_byte(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char c = 'x', got = 0;

	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
		return -1;
	if (poll(&pfd, 1, 15000) != 1 || recv(fd, &got, 1, 0) != 1)
		return -1;
	return got == c ? 0 : -1;
}

static long in_progress;

/* One connect, fenced. nonblock: 1 SOCK_NONBLOCK, 2 ioctl(FIONBIO).
 * Returns 0 or the errno. */
static int connect_once(const struct sockaddr_in *sin, int nonblock, int echo)
{
	int fd = socket(AF_INET,
			SOCK_STREAM | (nonblock == 1 ? SOCK_NONBLOCK : 0), 0);
	int rc, on = 1, err = 0;

	if (fd < 0)
		return errno;
	if (nonblock == 2 && ioctl(fd, FIONBIO, &on) < 0)
		return errno;
	getppid();
	rc = connect(fd, (const struct sockaddr *)sin, sizeof *sin);
	err = rc < 0 ? errno : 0;
	getppid();
	if (err == EINPROGRESS && nonblock) {
		in_progress++;
		err = wait_connected(fd);
	}
	if (err == 0 && echo && echo_byte(fd) < 0)
		err = EIO;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int nonblock = 0, echo = 0, c, err;
	long count;

	while ((c = getopt(argc, argv, "nfe")) != -1) {
		if (c == 'n')
			nonblock = 1;
		else if (c == 'f')
			nonblock = 2;
		else if (c == 'e')
			echo = 1;
		else
			return 2;
	}
	if (argc - optind != 3 ||
	    inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
		return 2;
	sin.sin_port = htons((unsigned short)atoi(argv[optind + 1]));
	count = atol(argv[optind + 2]);
	if (count <= 0 || count > 1000000)
		return 2;
	for (long i = 0; i < count; i++) {
		err = connect_once(&sin, nonblock, echo);
		if (err) {
			printf("FAIL %ld %s\n", i, strerror(err));
			return 1;
		}
	}
	printf("OK %ld %ld\n", count, in_progress);
	return 0;
}
