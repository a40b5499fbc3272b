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

/* The way into a data hook on fd with MSG_* flags: real_init(), then the
 * gate. Returns -errno when the gate fails, 0 when fd has none of the fdtab
 * flags in mine (the caller makes the real call), 1 when it has (the caller
 * takes socksify's path). */
static inline int io_enter(int fd, int flags, uint32_t mine)
{
	int rc;

	real_init();
	rc = io_gate(fd, flags);
	if (rc < 0)
		return rc; /* a handshake in flight */
	return (fdtab_flags(fd) & mine) != 0;
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
