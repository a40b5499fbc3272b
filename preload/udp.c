/* udp.c — sendto(), sendmsg() and sendmmsg() with an explicit destination.
 *
 * UDP is not carried through the proxy yet, so a datagram (or SCTP message)
 * to anything the config does not route direct is refused with EACCES and a
 * log line, never sent direct: this is what stops programs with their own
 * resolver from leaking DNS queries.
 *
 * A TCP send with MSG_FASTOPEN and a destination is a connect in disguise;
 * it takes connect()'s path, then the data goes out on the proxied stream.
 *
 * Cost: a send without a destination, or to a non-IP address, goes straight
 * to libc. Otherwise classifying the socket costs one getsockopt for a
 * non-socket and two for a UDP socket. */
#include <errno.h>
#include <limits.h>

#include "async.h"
#include "hooks.h"
#include "real.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024 /* the kernel's cap on sendmmsg's count */
#endif

/* True when sa is an IPv4 or IPv6 destination worth a look. */
static bool send_ip_destination(const void *sa, socklen_t len)
{
	const struct sockaddr *addr = sa;

	return addr && len >= sizeof addr->sa_family &&
	       (addr->sa_family == AF_INET || addr->sa_family == AF_INET6);
}

/* May a datagram of class go to sa? Refusals are logged. An address too
 * short to read is left for the kernel to reject. */
static bool send_allowed(int fd, enum socket_class class, const void *sa,
			 socklen_t len)
{
	struct endpoint dest;

	if (!send_ip_destination(sa, len) ||
	    endpoint_from_sockaddr(&dest, sa, len) < 0)
		return true;
	return hook_uncarried_allowed(fd, hook_class_name(class), &dest);
}

/* MSG_FASTOPEN on TCP: connect (through the proxy when the route says so).
 * Returns 1 when the proxy now carries the stream (send without the flag and
 * without the address), 0 when the caller should make the real call as is,
 * -1 with errno set on refusal or failure. */
static int send_fastopen(int fd, int domain, const struct sockaddr *sa,
			 socklen_t len)
{
	enum stream_outcome outcome;
	bool nonblocking;
	int rc;

	rc = stream_connect(fd, domain, sa, len, &outcome, &nonblocking);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return outcome == STREAM_PROXIED;
}

/* What a send with destination sa must do first. Returns 1 when the stream
 * was just proxied (see send_fastopen), 0 to pass on unchanged, -1 refused
 * with errno set. */
static int send_check(int fd, int flags, const void *sa, socklen_t len)
{
	enum socket_class class;
	int domain;

	if (!send_ip_destination(sa, len))
		return 0;
	class = hook_socket_class(fd, &domain);
	switch (class) {
	case SOCKET_OTHER:
		return 0;
	case SOCKET_TCP:
		if (!(flags & MSG_FASTOPEN))
			return 0;
		return send_fastopen(fd, domain, sa, len);
	case SOCKET_UDP:
	case SOCKET_UNCARRIED:
		break;
	}
	if (send_allowed(fd, class, sa, len))
		return 0;
	errno = EACCES;
	return -1;
}

SOCKSIFY_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			       const struct sockaddr *sa, socklen_t salen)
{
	int saved_errno = errno;
	int rc;

	real_init();
	if (async_io_check_send(fd, flags) < 0)
		return -1;
	rc = send_check(fd, flags, sa, salen);
	if (rc < 0)
		return -1;
	errno = saved_errno;
	if (rc == 1)
		return real.sendto(fd, buf, len, flags & ~MSG_FASTOPEN, NULL,
				   0);
	return real.sendto(fd, buf, len, flags, sa, salen);
}

SOCKSIFY_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int saved_errno = errno;
	struct msghdr copy;
	int rc;

	real_init();
	if (async_io_check_send(fd, flags) < 0)
		return -1;
	if (!msg)
		return real.sendmsg(fd, msg, flags);
	rc = send_check(fd, flags, msg->msg_name, msg->msg_namelen);
	if (rc < 0)
		return -1;
	errno = saved_errno;
	if (rc == 0)
		return real.sendmsg(fd, msg, flags);
	copy = *msg;
	copy.msg_name = NULL;
	copy.msg_namelen = 0;
	return real.sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
}

/* Index of the first message in vec[0..count) that names an IP
 * destination, or count. */
static unsigned mmsg_first_addressed(const struct mmsghdr *vec, unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		if (send_ip_destination(vec[i].msg_hdr.msg_name,
					vec[i].msg_hdr.msg_namelen))
			break;
	return i;
}

/* Index of the first datagram that may not leave, or count. */
static unsigned mmsg_first_refused(int fd, enum socket_class class,
				   const struct mmsghdr *vec, unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		if (!send_allowed(fd, class, vec[i].msg_hdr.msg_name,
				  vec[i].msg_hdr.msg_namelen))
			break;
	return i;
}

/* Datagrams: send those before the first refused one. As with a failing
 * sendmmsg, the error is reported only when nothing was sent. */
static int mmsg_datagrams(int fd, enum socket_class class, struct mmsghdr *vec,
			  unsigned count, int flags)
{
	unsigned allowed = mmsg_first_refused(fd, class, vec, count);

	if (allowed == 0) {
		errno = EACCES;
		return -1;
	}
	return real.sendmmsg(fd, vec, allowed, flags);
}

SOCKSIFY_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int count,
			     int flags)
{
	int saved_errno = errno;
	enum socket_class class;
	unsigned first;
	int domain, rc;

	real_init();
	if (!vec)
		return real.sendmmsg(fd, vec, count, flags);
	count = count > UIO_MAXIOV ? UIO_MAXIOV : count;
	first = mmsg_first_addressed(vec, count);
	if (first == count)
		return real.sendmmsg(fd, vec, count, flags);
	class = hook_socket_class(fd, &domain);
	errno = saved_errno;
	if (class == SOCKET_UDP || class == SOCKET_UNCARRIED)
		return mmsg_datagrams(fd, class, vec, count, flags);
	if (class != SOCKET_TCP || !(flags & MSG_FASTOPEN))
		return real.sendmmsg(fd, vec, count, flags);
	rc = send_fastopen(fd, domain, vec[first].msg_hdr.msg_name,
			   vec[first].msg_hdr.msg_namelen);
	if (rc < 0)
		return -1;
	errno = saved_errno;
	return real.sendmmsg(fd, vec, count,
			     rc ? flags & ~MSG_FASTOPEN : flags);
}
