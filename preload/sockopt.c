/* sockopt.c — the setsockopt() hook. socksify follows one option: UDP_CORK
 * on UDP sockets, because a corked datagram through the proxy must carry
 * one SOCKS5 UDP header, not one per send (udp_send.c). Every other call
 * costs one compare of level and name before libc's own setsockopt. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "real.h"
#include "udp.h"

#ifndef SOL_UDP
#define SOL_UDP IPPROTO_UDP
#endif

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
