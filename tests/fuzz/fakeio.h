/* fakeio.h — a socket_io (netio.h) over memory for the fuzz targets that
 * drive a negotiation machine: the proxy's bytes are the fuzzer's, and so
 * is what every call does (take it all, take a fuzzer-chosen piece, fail
 * with EAGAIN or EINTR). Once the schedule is used up every call takes
 * what it can, and the end of the proxy's bytes is a closed connection,
 * so a machine that makes progress always ends. */
#ifndef SOCKSIFY_FAKEIO_H
#define SOCKSIFY_FAKEIO_H

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "netio.h"

#define FAKEIO_SENT_MAX 4096

struct fakeio {
	struct fuzz_input schedule; /* one byte a call */
	const uint8_t *proxy;	    /* what the proxy sends */
	size_t proxy_len, taken;    /* taken: bytes the machine received */
	uint8_t sent[FAKEIO_SENT_MAX];
	size_t sent_len;
	unsigned again; /* EAGAIN failures so far */
	unsigned sends; /* send() calls that sent something */
	unsigned calls;
};

static struct fakeio fakeio;

/* The schedule's say for one call of at most len bytes: how many bytes
 * (> 0), or -1 with errno set. */
static ssize_t fakeio_plan(size_t len)
{
	uint8_t b;

	fakeio.calls++;
	if (fakeio.schedule.len == 0)
		return (ssize_t)len;
	b = fuzz_byte(&fakeio.schedule);
	switch (b & 3) {
	case 1:
		fakeio.again++;
		errno = EAGAIN;
		return -1;
	case 2:
		errno = EINTR;
		return -1;
	case 3:
		if ((size_t)(b >> 2) + 1 < len)
			return (b >> 2) + 1;
		return (ssize_t)len;
	default:
		return (ssize_t)len;
	}
}

static ssize_t fakeio_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t n;

	(void)fd;
	(void)flags;
	FUZZ_CHECK(len > 0);
	n = fakeio_plan(len);
	if (n < 0)
		return n;
	FUZZ_CHECK(fakeio.sent_len + (size_t)n <= sizeof(fakeio.sent));
	memcpy(fakeio.sent + fakeio.sent_len, buf, (size_t)n);
	fakeio.sent_len += (size_t)n;
	fakeio.sends++;
	return n;
}

static ssize_t fakeio_recv(int fd, void *buf, size_t len, int flags)
{
	size_t left = fakeio.proxy_len - fakeio.taken;
	ssize_t n;

	(void)fd;
	FUZZ_CHECK((flags & ~MSG_PEEK) == 0);
	FUZZ_CHECK(len > 0);
	n = fakeio_plan(len);
	if (n < 0)
		return n;
	if ((size_t)n > left)
		n = (ssize_t)left;
	memcpy(buf, fakeio.proxy + fakeio.taken, (size_t)n);
	if (!(flags & MSG_PEEK))
		fakeio.taken += (size_t)n;
	return n;
}

/* The machines never wait themselves (their drivers do); a look without
 * waiting (timeout 0) finds the connection ready. */
static int fakeio_poll(struct pollfd *fds, nfds_t count, int timeout_ms)
{
	nfds_t i;

	FUZZ_CHECK(timeout_ms == 0);
	for (i = 0; i < count; i++)
		fds[i].revents = fds[i].events;
	return (int)count;
}

static int fakeio_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd;
	(void)sa;
	(void)len;
	FUZZ_CHECK(!"a step connected");
	return -1;
}

static int fakeio_getsockopt(int fd, int level, int name, void *val,
			     socklen_t *len)
{
	(void)fd;
	/* SO_ERROR: the connect to the first proxy succeeded. */
	if (level == SOL_SOCKET && name == SO_ERROR && *len >= sizeof(int)) {
		memset(val, 0, sizeof(int));
		*len = sizeof(int);
		return 0;
	}
	errno = ENOPROTOOPT;
	return -1;
}

static const struct socket_io fakeio_io = {
    .connect = fakeio_connect,
    .send = fakeio_send,
    .recv = fakeio_recv,
    .poll = fakeio_poll,
    .getsockopt = fakeio_getsockopt,
};

/* Input: one byte n, n schedule bytes, then the proxy's bytes. */
static void fakeio_start(struct fuzz_input *in)
{
	size_t n = fuzz_byte(in);

	memset(&fakeio, 0, sizeof(fakeio));
	if (n > in->len)
		n = in->len;
	fakeio.schedule.data = in->data;
	fakeio.schedule.len = n;
	fakeio.proxy = in->data + n;
	fakeio.proxy_len = in->len - n;
}

/* Why a step may wait (return -EAGAIN): the schedule said EAGAIN, or the
 * step sent a message and now waits for the answer (POLLIN) instead of
 * looking for it at once. A step that waits must have raised this. */
static unsigned fakeio_waits(void)
{
	return fakeio.again + fakeio.sends;
}

/* An upper bound on the steps a machine that progresses needs: every
 * step but the last one waits on an EAGAIN of the schedule, or after a
 * send (add fakeio.sends). */
static size_t fakeio_step_bound(void)
{
	return fakeio.schedule.len + 2;
}

#endif
