/* peer.c — the getpeername() hook: a proxied socket's peer is the
 * destination the program asked for, not the proxy; a UDP socket connect()ed
 * to a proxied peer answers with that peer. */
#include <errno.h>
#include <string.h>

#include "async.h"
#include "hook_io.h"
#include "fdtab.h"
#include "real.h"

/* Write ep as the socket's own family into sa the way the kernel does:
 * truncated to *len, with *len set to the full length. An IPv4 destination
 * on an AF_INET6 socket comes back as ::ffff:a.b.c.d. Returns 0 or -errno. */
static int peer_write(int fd, const struct endpoint *ep, struct sockaddr *sa,
		      socklen_t *len)
{
	socklen_t domain_len = sizeof(int);
	int domain, rc;

	if (real.getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &domain_len) <
	    0)
		return -errno;
	rc = endpoint_copy_sockaddr(ep, domain, sa, len);
	return rc == -EAFNOSUPPORT ? -ENOTCONN : rc; /* not for a recorded IP */
}

/* fd's recorded peer (entry is its fdtab entry, proxied or with a UDP
 * peer). Returns 0 or -errno. */
static int peer_recorded(int fd, const struct fdtab_entry *entry,
			 struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage proxy;
	socklen_t proxy_len = sizeof proxy;

	/* A UDP socket connect()ed to a proxied peer is never kernel-connected:
	 * the recorded peer is the answer. A proxied stream must still be
	 * connected to the proxy, or the answer is the kernel's ENOTCONN. */
	if (!(entry->flags & FDTAB_UDP_PEER) &&
	    real.getpeername(fd, (struct sockaddr *)&proxy, &proxy_len) < 0)
		return -errno;
	return peer_write(fd, &entry->dest, sa, len);
}

/* A proxied socket answers with the recorded destination; any other
 * descriptor goes to libc untouched. */
SOCKSIFY_EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	int saved_errno = errno;
	struct fdtab_entry entry;

	real_init();
	/* A handshake that runs, or failed: not connected. */
	if (!async_idle() && async_not_connected(fd))
		return (int)hook_return(-ENOTCONN);
	if (fdtab_get(fd, &entry) < 0 ||
	    !(entry.flags & (FDTAB_PROXIED | FDTAB_UDP_PEER)))
		return real.getpeername(fd, sa, len);
	return (int)io_return(peer_recorded(fd, &entry, sa, len), saved_errno);
}
