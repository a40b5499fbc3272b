/* accept.c — the accept() and accept4() hooks: the connection of a BIND
 * (bind.c) is handed to the program here, in place of the local wake-up
 * connection that made its listener readable.
 *
 * Any entry our table holds for the number accept() returns is stale (its
 * old file was closed behind our back), so the registry forgets it
 * (fdreg_fresh, as socket() does).
 *
 * Cost: while no BIND exists, one atomic load, then libc's call. */
#include <errno.h>
#include <fcntl.h>

#include "bind.h"
#include "fdreg.h"
#include "fdtab.h"
#include "hooks.h"
#include "real.h"

/* Copy the kernel's answer from (from_len bytes) to the program's sa/len
 * the way accept() would have. */
static void accept_copy_address(const struct sockaddr_storage *from,
				socklen_t from_len, struct sockaddr *sa,
				socklen_t *len)
{
	socklen_t want;

	if (!sa || !len)
		return;
	want = *len < from_len ? *len : from_len;
	for (socklen_t i = 0; i < want; i++)
		((char *)sa)[i] = ((const char *)from)[i];
	*len = from_len;
}

/* Set O_NONBLOCK on fd as SOCK_NONBLOCK in flags says, leaving the other
 * status flags as they are. Returns 0 or -errno. */
static int accept_set_nonblock(int fd, int flags)
{
	int fl = real.fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = (flags & SOCK_NONBLOCK) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return real.fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

/* The peer accept() reports for a BIND on a socket of family domain: the
 * address the proxy's second reply named, or, when that reply named a host
 * (or an address the family cannot express), the family's unspecified
 * address with the port the reply gave. The caller's address is then
 * always filled, and getpeername() gives the same answer. */
static struct endpoint accept_shown_peer(const struct endpoint *peer,
					 int domain)
{
	struct sockaddr_storage ss;
	struct endpoint shown;

	if (endpoint_to_sockaddr(peer, domain, &ss) > 0)
		return *peer;
	endpoint_parse_ip(&shown, domain == AF_INET6 ? "::" : "0.0.0.0");
	shown.port = peer->port;
	return shown;
}

/* Put the BIND's control connection on descriptor fd (the wake-up
 * connection just accepted, which goes), with the flags accept4() was
 * given. Returns 0 or -errno; on failure fd is closed. */
static int accept_handover(int fd, struct bind_handover *h, int flags)
{
	struct fdtab_entry entry = {.flags = FDTAB_PROXIED, .dest = h->peer};
	int rc = 0;

	if (h->error)
		rc = -h->error;
	else if (real.dup3(h->ctrl, fd, flags & SOCK_CLOEXEC ? O_CLOEXEC : 0) <
		 0)
		rc = -errno;
	else
		rc = accept_set_nonblock(fd, flags);
	bind_release(h);
	if (rc < 0) {
		real.close(fd);
		return rc;
	}
	/* getpeername() answers with the remote host, not the proxy. */
	fdtab_set(fd, &entry);
	return 0;
}

/* Both hooks: accept, and when it is our wake-up call, hand over. */
static int accept_common(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int saved_errno = errno, domain = AF_INET, rc, got;
	struct sockaddr_storage from;
	socklen_t from_len = sizeof from, domain_len = sizeof domain;
	struct bind_handover h;

	bind_helper_ensure();
	got = real.accept4(fd, (struct sockaddr *)&from, &from_len, flags);
	if (got < 0)
		return -1;
	if (!bind_take(fd, (struct sockaddr *)&from, from_len, &h)) {
		fdreg_fresh(got);
		accept_copy_address(&from, from_len, sa, len);
		errno = saved_errno;
		return got;
	}
	real.getsockopt(got, SOL_SOCKET, SO_DOMAIN, &domain, &domain_len);
	if (domain != AF_INET6)
		domain = AF_INET;
	h.peer = accept_shown_peer(&h.peer, domain);
	/* Fill the caller's address first: should that fail, the handover
	 * fails with it and nothing is left half done. */
	if (!h.error && sa && len) {
		rc = endpoint_copy_sockaddr(&h.peer, domain, sa, len);
		if (rc < 0)
			h.error = -rc;
	}
	rc = accept_handover(got, &h, flags);
	if (rc < 0)
		return (int)hook_return(rc);
	errno = saved_errno;
	return got;
}

SOCKSIFY_EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	real_init();
	if (!bind_active())
		return fdreg_fresh(real.accept(fd, sa, len));
	return accept_common(fd, sa, len, 0);
}

SOCKSIFY_EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len,
			    int flags)
{
	real_init();
	if (!bind_active())
		return fdreg_fresh(real.accept4(fd, sa, len, flags));
	return accept_common(fd, sa, len, flags);
}
