/* async_io.c — the gate of the data calls while asynchronous handshakes
 * are in flight: a socket in its handshake answers EAGAIN (or makes a
 * blocking call wait for the end), a failed one reports its error once.
 * With no handshake in flight each hook checks one counter and goes on to
 * libc. The data hooks themselves live in udp_send.c and udp_recv.c, which
 * call async_io_check() first. */
#include <errno.h>
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
