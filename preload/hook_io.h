/* hook_io.h — what the data hooks (recv.c, send.c) share: the gate that
 * holds a call back while an asynchronous handshake runs on its socket, and
 * the edge that turns an internal result into libc's while keeping the
 * program's errno on success (also used by getpeername in peer.c).
 * Internal to preload/. */
#ifndef SOCKSIFY_HOOK_IO_H
#define SOCKSIFY_HOOK_IO_H

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "async.h"
#include "fdtab.h"
#include "hooks.h"
#include "real.h"

/* The gate of a data call on fd with MSG_* flags (0 for read/write):
 * 0 to go on, or -errno to fail with (EAGAIN while fd's handshake runs and
 * the call must not block, a failed handshake's error once). A blocking
 * call waits for the handshake's end. With no handshake in flight it costs
 * one atomic load. */
static inline int io_gate(int fd, int flags)
{
	if (async_idle())
		return 0;
	return async_io_gate(fd, (flags & MSG_DONTWAIT) != 0);
}

/* The entry of every data hook: real_init(), then the gate of a handshake
 * in flight on fd (io_gate). Returns 0 to go on, or -errno when the call
 * must fail; when it goes on, errno is as the program had it (driving a
 * handshake may have changed it). */
static inline int io_enter(int fd, int flags)
{
	int saved_errno = errno;
	int rc;

	real_init();
	rc = io_gate(fd, flags);
	if (rc == 0)
		errno = saved_errno;
	return rc;
}

/* True when fd has any of the fdtab flags in mask (socksify's path). */
static inline bool io_mine(int fd, uint32_t mask)
{
	return (fdtab_flags(fd) & mask) != 0;
}

/* True when sa (len bytes) is an IPv4 or IPv6 destination worth a look. */
static inline bool io_ip_destination(const void *sa, socklen_t len)
{
	const struct sockaddr *addr = sa;

	return addr && len >= sizeof addr->sa_family &&
	       (addr->sa_family == AF_INET || addr->sa_family == AF_INET6);
}

/* hook_return() for a hook that did work of its own on the way: a success
 * puts back the errno the program had (saved_errno), since the work may
 * have changed it. */
static inline long io_return(long rc, int saved_errno)
{
	if (rc >= 0)
		errno = saved_errno;
	return hook_return(rc);
}

#endif
