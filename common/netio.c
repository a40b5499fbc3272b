/* netio.c — deadline-bounded waiting and connecting through a socket_io
 * table. errno is read after a failed call through the table (that is how
 * the table's functions report), never written. */
#include "netio.h"

#include <errno.h>
#include <time.h>

uint64_t netio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int netio_remaining_ms(uint64_t deadline_ms)
{
	uint64_t now = netio_now_ms();
	uint64_t left;

	if (now >= deadline_ms)
		return 0;
	left = deadline_ms - now;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* Poll until ready. The loop ends: every pass either returns or retries
 * after EINTR with less time left, and once the deadline has passed poll()
 * gets 0 ms and returns at once. */
int netio_wait(const struct socket_io *io, int fd, short events,
	       uint64_t deadline_ms)
{
	struct pollfd pfd;
	int n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = io->poll(&pfd, 1, netio_remaining_ms(deadline_ms));
		if (n > 0)
			return 0;
		if (n == 0) {
			if (netio_now_ms() >= deadline_ms)
				return -ETIMEDOUT;
			continue; /* woke early; wait for the rest */
		}
		if (errno != EINTR)
			return errno ? -errno : -EIO;
	}
}

/* Read the socket's pending error after an asynchronous connect. */
static int netio_socket_error(const struct socket_io *io, int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (io->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno ? -errno : -EIO;
	return -err;
}

/* An interrupted connect() goes on in the background, like EINPROGRESS, so
 * both are waited for. Anything else, EALREADY and EISCONN included (the
 * socket was already connecting or connected before we were asked), is
 * returned as it is: that connection is not ours to take over. */
int netio_connect(const struct socket_io *io, int fd, const struct sockaddr *sa,
		  socklen_t len, uint64_t deadline_ms)
{
	int rc;

	if (io->connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return errno ? -errno : -EIO;
	rc = netio_wait(io, fd, POLLOUT, deadline_ms);
	if (rc < 0)
		return rc;
	return netio_socket_error(io, fd);
}
