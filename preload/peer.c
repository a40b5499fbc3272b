/* peer.c — the getpeername() hook: a proxied socket's peer is the
 * destination the program asked for, not the proxy; a UDP socket connect()ed
 * to a proxied peer answers with that peer. */
#include <errno.h>
#include <string.h>

#include "async.h"
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

/* A UDP socket connect()ed to a proxied peer: never kernel-connected, so
 * the recorded peer is the answer. */
static int peer_udp(int fd, const struct fdtab_entry *entry,
		    struct sockaddr *sa, socklen_t *len, int saved_errno)
{
	int rc = peer_write(fd, &entry->dest, sa, len);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	errno = saved_errno;
	return 0;
}

/* A proxied socket answers with the recorded destination once the kernel
 * confirms it is still connected (to the proxy); any other descriptor goes
 * to libc untouched. */
SOCKSIFY_EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	int saved_errno = errno;
	struct sockaddr_storage proxy;
	socklen_t proxy_len = sizeof proxy;
	struct fdtab_entry entry;
	int rc;

	real_init();
	if (!async_idle() && async_not_connected(fd)) {
		errno = ENOTCONN; /* its handshake runs, or failed */
		return -1;
	}
	if (fdtab_get(fd, &entry) < 0 ||
	    !(entry.flags & (FDTAB_PROXIED | FDTAB_UDP_PEER)))
		return real.getpeername(fd, sa, len);
	if (entry.flags & FDTAB_UDP_PEER)
		return peer_udp(fd, &entry, sa, len, saved_errno);
	/* Still connected to the proxy? Otherwise the kernel's ENOTCONN. */
	if (real.getpeername(fd, (struct sockaddr *)&proxy, &proxy_len) < 0)
		return -1;
	rc = peer_write(fd, &entry.dest, sa, len);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	errno = saved_errno;
	return 0;
}
