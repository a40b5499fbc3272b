/* sockopt.c — the getsockopt() and setsockopt() hooks.
 *
 * getsockopt(SO_ERROR) on a socket in (or after a failed) asynchronous
 * handshake is answered from the handshake's record (async_connect.c): 0
 * while it
 * runs, its error once after a failure. With no handshake in flight the
 * hook checks one counter and goes on to libc.
 *
 * setsockopt(): socksify follows two options. UDP_CORK on UDP sockets,
 * because a corked datagram through the proxy must carry one SOCKS5 UDP
 * header, not one per send (udp_send.c); and SO_RCVTIMEO, because a
 * blocking connect() borrows the receive timeout while it waits for the
 * proxy unless the program set one (connect.c). Every other call costs a
 * compare of level and name before libc's own setsockopt. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#include "async.h"
#include "fdtab.h"
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

/* SO_RCVTIMEO under either of its names (the 64-bit time one, and the
 * old one that SO_RCVTIMEO means where time_t is 64 bits). */
static bool sockopt_is_rcvtimeo(int name)
{
#ifdef SO_RCVTIMEO_NEW
	if (name == SO_RCVTIMEO_NEW)
		return true;
#endif
#ifdef SO_RCVTIMEO_OLD
	if (name == SO_RCVTIMEO_OLD)
		return true;
#endif
	return name == SO_RCVTIMEO;
}

/* Record that the program chose fd's receive timeout: only a socket
 * whose facts socket() recorded has an entry to mark. */
static void sockopt_note_rcvtimeo(int fd)
{
	uint32_t facts = fdtab_flags(fd);
	int saved_errno;

	if (!(facts & FDTAB_SOCK_KIND) || (facts & FDTAB_SOCK_RCVTIMEO))
		return;
	saved_errno = errno;
	fdtab_claim(fd, FDTAB_SOCK_RCVTIMEO);
	errno = saved_errno;
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
	if (level == SOL_SOCKET && sockopt_is_rcvtimeo(name)) {
		/* Noted before the call: a timeout the kernel refused is
		 * left alone too. */
		sockopt_note_rcvtimeo(fd);
		return real.setsockopt(fd, level, name, val, len);
	}
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
