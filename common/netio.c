/* netio.c — deadline-bounded waiting and connecting through a socket_io
 * table, and the blocking driver of resumable jobs. errno is read after a
 * failed call through the table (that is how the table's functions report),
 * never written. */
#include "netio.h"

#include <errno.h>
#include <limits.h>
#include <time.h>

#define NETIO_MS_PER_S	1000u
#define NETIO_NS_PER_MS 1000000u
#define NETIO_US_PER_S	1000000u
#define NETIO_NS_PER_US 1000u

uint64_t netio_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NETIO_MS_PER_S +
	       (uint64_t)ts.tv_nsec / NETIO_NS_PER_MS;
}

uint64_t netio_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NETIO_US_PER_S +
	       (uint64_t)ts.tv_nsec / NETIO_NS_PER_US;
}

enum netio_rcvtimeo netio_rcvtimeo_plan(uint64_t now_us, uint64_t deadline_us,
					uint64_t set_at_us, uint64_t set_for_us,
					struct timeval *tv)
{
	uint64_t left;

	if (deadline_us <= NETIO_RCVTIMEO_MARGIN_US ||
	    now_us >= deadline_us - NETIO_RCVTIMEO_MARGIN_US)
		return NETIO_RCVTIMEO_NONE;
	if (set_at_us != 0 && now_us >= set_at_us &&
	    now_us - set_at_us < NETIO_RCVTIMEO_STALE_US &&
	    deadline_us >= set_for_us)
		return NETIO_RCVTIMEO_KEEP;
	left = (deadline_us - NETIO_RCVTIMEO_MARGIN_US - now_us) / 8 * 7;
	if (left == 0)
		left = 1;
	tv->tv_sec = (time_t)(left / NETIO_US_PER_S);
	tv->tv_usec = (suseconds_t)(left % NETIO_US_PER_S);
	return NETIO_RCVTIMEO_SET;
}

int netio_remaining_ms(uint64_t deadline_ms)
{
	uint64_t now = netio_now_ms();
	uint64_t left;

	if (now >= deadline_ms)
		return 0;
	left = deadline_ms - now;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* The errno of a failed call through the table, as -errno (-EIO when the
 * function failed without saying why). */
static int netio_last_error(void)
{
	return errno ? -errno : -EIO;
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
			return netio_last_error();
	}
}

int netio_connect_start(const struct socket_io *io, int fd,
			const struct sockaddr *sa, socklen_t len)
{
	if (io->connect(fd, sa, len) == 0)
		return 0;
	if (errno == EINPROGRESS || errno == EINTR)
		return -EINPROGRESS;
	return netio_last_error();
}

/* A sendto() of no data that succeeds sent nothing and connected nothing:
 * the kernel does that on a socket that is connected already. One that
 * returns a count put that much data in the SYN. */
int netio_fastopen_start(const struct socket_io *io, int fd,
			 const struct sockaddr *sa, socklen_t len,
			 const void *data, size_t dlen, size_t *sent)
{
	ssize_t n;

	if (sent)
		*sent = 0;
	if (!io->sendto)
		return -EOPNOTSUPP;
	n = io->sendto(fd, dlen ? data : NULL, sent ? dlen : 0,
		       MSG_FASTOPEN | MSG_DONTWAIT | MSG_NOSIGNAL, sa, len);
	if (n > 0 && sent) {
		*sent = (size_t)n;
		return -EINPROGRESS;
	}
	if (n >= 0)
		return -EISCONN;
	if (errno == EINPROGRESS || errno == EAGAIN || errno == EINTR)
		return -EINPROGRESS;
	return netio_last_error();
}

int netio_connect_result(const struct socket_io *io, int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0;
	int n = io->poll(&pfd, 1, 0);

	if (n == 0 || (n < 0 && errno == EINTR))
		return -EAGAIN;
	if (n < 0)
		return netio_last_error();
	if (io->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return netio_last_error();
	if (err == 0 && (pfd.revents & (POLLERR | POLLHUP)))
		err = ECONNREFUSED;
	return -err;
}

/* Each pass waits (bounded by the deadline) and reads the outcome; a poll
 * that woke without the socket being ready passes again. */
int netio_connect(const struct socket_io *io, int fd, const struct sockaddr *sa,
		  socklen_t len, uint64_t deadline_ms)
{
	int rc = netio_connect_start(io, fd, sa, len);

	if (rc != -EINPROGRESS)
		return rc;
	do {
		rc = netio_wait(io, fd, POLLOUT, deadline_ms);
		if (rc < 0)
			return rc;
		rc = netio_connect_result(io, fd);
	} while (rc == -EAGAIN);
	return rc;
}

/* Bounded: a wait ends by the deadline, and a step at or after the deadline
 * either finishes or fails with -ETIMEDOUT (the job's contract). The
 * deadline is asked anew each pass, since a job may have one per phase. */
int netio_drive(const struct netio_job *ops, void *job,
		const struct socket_io *io, int fd)
{
	short events = POLLIN;
	int rc;

	for (;;) {
		rc = ops->step(job, io, fd, netio_now_ms(), &events);
		if (rc != -EAGAIN)
			return rc;
		rc = netio_wait(io, fd, events, ops->deadline(job));
		if (rc < 0 && rc != -ETIMEDOUT)
			return ops->abandon(job, -rc);
	}
}
