/* async_io.c — the data calls and getsockopt(SO_ERROR) while asynchronous
 * handshakes are in flight: a socket in its handshake answers EAGAIN (or
 * makes a blocking call wait for the end), a failed one reports its error
 * once. With no handshake in flight each hook checks one counter and goes
 * on to libc.
 *
 * Merge note: when other hooks of these calls exist (UDP), they call
 * async_io_check() first instead. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "async.h"
#include "real.h"

/* 0 to go on to libc (errno untouched), or -1 with errno set. */
static int async_io_check(int fd, int flags)
{
	int rc;

	async_real_init();
	if (async_idle())
		return 0;
	rc = async_io_gate(fd, flags & MSG_DONTWAIT);
	if (rc == 0)
		return 0;
	errno = -rc;
	return -1;
}

SOCKSIFY_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (async_io_check(fd, 0) < 0)
		return -1;
	return async_real.read(fd, buf, len);
}

SOCKSIFY_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	if (async_io_check(fd, 0) < 0)
		return -1;
	return async_real.write(fd, buf, len);
}

SOCKSIFY_EXPORT ssize_t readv(int fd, const struct iovec *iov, int count)
{
	if (async_io_check(fd, 0) < 0)
		return -1;
	return async_real.readv(fd, iov, count);
}

SOCKSIFY_EXPORT ssize_t writev(int fd, const struct iovec *iov, int count)
{
	if (async_io_check(fd, 0) < 0)
		return -1;
	return async_real.writev(fd, iov, count);
}

SOCKSIFY_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (async_io_check(fd, flags) < 0)
		return -1;
	return real.recv(fd, buf, len, flags);
}

SOCKSIFY_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
				 struct sockaddr *sa, socklen_t *salen)
{
	if (async_io_check(fd, flags) < 0)
		return -1;
	return async_real.recvfrom(fd, buf, len, flags, sa, salen);
}

SOCKSIFY_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (async_io_check(fd, flags) < 0)
		return -1;
	return async_real.recvmsg(fd, msg, flags);
}

SOCKSIFY_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (async_io_check(fd, flags) < 0)
		return -1;
	return real.send(fd, buf, len, flags);
}

/* sendto and sendmsg are hooked in udp.c, which calls this first. */
int async_io_check_send(int fd, int flags)
{
	return async_io_check(fd, flags);
}

/* SO_ERROR of a socket in (or after a failed) asynchronous handshake. */
SOCKSIFY_EXPORT int getsockopt(int fd, int level, int name, void *val,
			       socklen_t *len)
{
	int saved_errno = errno;
	int err;

	async_real_init();
	if (async_idle() || level != SOL_SOCKET || name != SO_ERROR || !val ||
	    !len || *len < sizeof(int) || !async_so_error(fd, &err))
		return real.getsockopt(fd, level, name, val, len);
	memcpy(val, &err, sizeof err);
	*len = sizeof err;
	errno = saved_errno;
	return 0;
}
