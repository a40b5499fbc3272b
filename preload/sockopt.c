/* sockopt.c — the getsockopt() and setsockopt() hooks.
 *
 * getsockopt(SO_ERROR) on a socket in (or after a failed) asynchronous
 * handshake is answered from the handshake's record (async_connect.c): 0
 * while it
 * runs, its error once after a failure. With no handshake in flight the
 * hook checks one counter and goes on to libc.
 *
 * setsockopt(): socksify follows one option, UDP_CORK on UDP sockets,
 * because a corked datagram through the proxy must carry one SOCKS5 UDP
 * header, not one per send (udp_send.c). Every other call costs one compare
 * of level and name before libc's own setsockopt. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "async.h"
#include "hooks.h"
#include "real.h"
#include "udp.h"

#ifndef SOL_UDP
#define SOL_UDP IPPROTO_UDP
#endif

/* True when getsockopt(fd, level, name, val, len) asks for SO_ERROR into
 * room for an int. */
static bool sockopt_is_so_error(int level, int name, const void *val,
				const socklen_t *len)
{
	return level == SOL_SOCKET && name == SO_ERROR && val && len &&
	       *len >= sizeof(int);
}

SOCKSIFY_EXPORT int getsockopt(int fd, int level, int name, void *val,
			       socklen_t *len)
{
	int saved_errno = errno;
	int err;

	real_init();
	if (async_idle() || !sockopt_is_so_error(level, name, val, len))
		return real.getsockopt(fd, level, name, val, len);
	err = async_so_error(fd);
	if (err == HOOK_PASS)
		return real.getsockopt(fd, level, name, val, len);
	memcpy(val, &err, sizeof err);
	*len = sizeof err;
	errno = saved_errno;
	return 0;
}

/* The option's value as the kernel reads it: an int, non-zero for on.
 * Only called after the kernel accepted the call, so len >= sizeof(int). */
static bool sockopt_cork_value(const void *val)
{
	int on;

	memcpy(&on, val, sizeof on);
	return on != 0;
}

SOCKSIFY_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			       socklen_t len)
{
	int saved_errno, rc;

	real_init();
	if (level != SOL_UDP || name != UDP_CORK)
		return real.setsockopt(fd, level, name, val, len);
	saved_errno = errno;
	rc = real.setsockopt(fd, level, name, val, len);
	if (rc < 0)
		return rc;
	udp_note_cork(fd, sockopt_cork_value(val));
	errno = saved_errno;
	return rc;
}
