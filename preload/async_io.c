/* async_io.c — the gate of the data calls, and getsockopt(SO_ERROR), while asynchronous
 * handshakes are in flight: a socket in its handshake answers EAGAIN (or
 * makes a blocking call wait for the end), a failed one reports its error
 * once. With no handshake in flight each hook checks one counter and goes
 * on to libc.
 *
 * The data hooks themselves live in udp_send.c and udp_recv.c, which call
 * async_io_check() first; getsockopt(SO_ERROR) is answered here. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "async.h"
#include "real.h"

int async_io_check(int fd, int flags)
{
	int rc;

	if (async_idle())
		return 0;
	real_init();
	rc = async_io_gate(fd, flags & MSG_DONTWAIT);
	if (rc == 0)
		return 0;
	errno = -rc;
	return -1;
}

/* SO_ERROR of a socket in (or after a failed) asynchronous handshake. */
SOCKSIFY_EXPORT int getsockopt(int fd, int level, int name, void *val,
			       socklen_t *len)
{
	int saved_errno = errno;
	int err;

	real_init();
	if (async_idle() || level != SOL_SOCKET || name != SO_ERROR || !val ||
	    !len || *len < sizeof(int) || (err = async_so_error(fd)) == HOOK_PASS)
		return real.getsockopt(fd, level, name, val, len);
	memcpy(val, &err, sizeof err);
	*len = sizeof err;
	errno = saved_errno;
	return 0;
}
