/* send.c — the send hooks: write(), writev(), send(), sendto(), sendmsg(),
 * sendmmsg().
 *
 * Each hook is thin: it passes the asynchronous-handshake gate (io_gate,
 * one atomic load when no handshake is in flight), then decides what the
 * send must do (send_plan) and goes to libc, through the UDP association
 * (udp_send.c), or through connect()'s path.
 *
 * A send without a destination on a descriptor with no UDP state costs one
 * lock-free flag load. A send with an IP destination on an unknown socket
 * classifies it once (getsockopt); a UDP socket is then remembered in
 * fdtab. SCTP and other uncarried protocols may reach direct routes only; a
 * TCP send with MSG_FASTOPEN and a destination is a connect in disguise and
 * takes connect()'s path. */
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdtab.h"
#include "hook_io.h"
#include "gssapi.h"
#include "hooks.h"
#include "real.h"
#include "udp.h"
#include "udp_io.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024 /* the kernel's cap on sendmmsg's count */
#endif
/* A send without a destination takes the UDP path on these sockets: a
 * proxied peer, or an open datagram (whose pieces need no address). */
#define SEND_UDP_NO_ADDRESS (FDTAB_UDP_PEER | FDTAB_UDP_OPEN)

/* What a send must do. */
enum send_plan {
	PLAN_REAL,   /* the real call, unchanged */
	PLAN_UDP,    /* through the association (the plan's udp target) */
	PLAN_STREAM, /* TCP fast open just proxied: send without address */
	PLAN_FAIL,   /* refused: the -errno is in the plan */
};

struct send_target {
	struct udp_target udp;
	int error; /* -errno with PLAN_FAIL */
};

/* Non-UDP sockets with an IP destination: the foundation's rules (TCP fast
 * open through the proxy, uncarried protocols to direct routes only). */
static enum send_plan send_plan_other(int fd, enum socket_class class,
				      int domain, int flags, const void *sa,
				      socklen_t len, struct send_target *t)
{
	enum stream_outcome outcome;
	bool nonblocking;

	if (class == SOCKET_OTHER)
		return PLAN_REAL;
	if (class == SOCKET_TCP) {
		if (!(flags & MSG_FASTOPEN))
			return PLAN_REAL;
		/* Data follows at once: the handshake may not be deferred. */
		t->error = stream_connect(fd, domain, sa, len, false, &outcome,
					  &nonblocking);
		if (t->error < 0)
			return PLAN_FAIL;
		return outcome == STREAM_PROXIED ? PLAN_STREAM : PLAN_REAL;
	}
	if (endpoint_from_sockaddr(&t->udp.dest, sa, len) < 0 ||
	    hook_uncarried_allowed(fd, hook_class_name(class), &t->udp.dest))
		return PLAN_REAL;
	t->error = -EACCES;
	return PLAN_FAIL;
}

/* A UDP socket of family sending to sa (or its recorded peer). */
static enum send_plan send_plan_udp(int fd, int family, const void *sa,
				    socklen_t len, struct send_target *t)
{
	int rc = udp_send_prepare(fd, family, sa, len, &t->udp);

	if (rc == HOOK_PASS)
		return PLAN_REAL;
	t->error = rc;
	return rc < 0 ? PLAN_FAIL : PLAN_UDP;
}

/* Decide what a send on fd with destination sa must do. */
static enum send_plan send_plan(int fd, int flags, const void *sa,
				socklen_t len, struct send_target *t)
{
	uint32_t f = fdtab_flags(fd);
	enum socket_class class;
	int domain;

	t->udp.e.flags = 0;
	if (f & (FDTAB_UDP_ANY | FDTAB_UDP_SOCKET)) {
		if (fdtab_get_unchecked(fd, &t->udp.e) < 0)
			return PLAN_REAL;
		return send_plan_udp(fd, t->udp.e.udp.family, sa, len, t);
	}
	if (!io_ip_destination(sa, len))
		return PLAN_REAL;
	class = hook_socket_class(fd, &domain);
	if (class != SOCKET_UDP)
		return send_plan_other(fd, class, domain, flags, sa, len, t);
	udp_note_socket(fd, domain);
	return send_plan_udp(fd, domain, sa, len, t);
}

/* sendmsg()'s work; sendmmsg() calls it per message. Returns the
 * program's byte count or -errno. */
static ssize_t send_one(int fd, const struct msghdr *msg, int flags)
{
	struct send_target t;
	struct msghdr copy;
	ssize_t n;

	switch (send_plan(fd, flags, msg->msg_name, msg->msg_namelen, &t)) {
	case PLAN_FAIL:
		return t.error;
	case PLAN_STREAM:
		copy = *msg;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		n = real.sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
		return n < 0 ? -errno : n;
	case PLAN_UDP:
		n = udp_send_msg(fd, &t.udp, msg, flags);
		if (n != HOOK_PASS)
			return n;
		break; /* a stale entry, now forgotten */
	case PLAN_REAL:
		break;
	}
	n = real.sendmsg(fd, msg, flags);
	return n < 0 ? -errno : n;
}

/* A buffer and destination as a msghdr for send_one(). */
static ssize_t send_buffer(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *sa, socklen_t salen)
{
	struct iovec iov = {(void *)buf, len};
	struct msghdr msg = {.msg_name = (void *)sa,
			     .msg_namelen = sa ? salen : 0,
			     .msg_iov = &iov,
			     .msg_iovlen = 1};

	return send_one(fd, &msg, flags);
}

/* sendto(), and send() as sendto() with no address (as the kernel does
 * it). */
static ssize_t sendto_hook(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *sa, socklen_t salen)
{
	int saved_errno = errno;
	int rc;
	bool mine;

	/* The GSS-API library talking to its KDC during a handshake. */
	if (gssapi_bypass())
		return real.sendto(fd, buf, len, flags, sa, salen);
	rc = io_enter(fd, flags);
	mine = io_mine(fd, SEND_UDP_NO_ADDRESS);
	if (rc == 0 && !mine && !sa)
		return real.sendto(fd, buf, len, flags, sa, salen);
	return io_return(rc < 0 ? rc
				: send_buffer(fd, buf, len, flags, sa, salen),
			 saved_errno);
}

SOCKSIFY_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			       const struct sockaddr *sa, socklen_t salen)
{
	return sendto_hook(fd, buf, len, flags, sa, salen);
}

SOCKSIFY_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto_hook(fd, buf, len, flags, NULL, 0);
}

/* write() and writev() work on every kind of descriptor, so what is not
 * ours goes to the real write()/writev(), never to a socket call. */
SOCKSIFY_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	int saved_errno = errno;
	int rc = io_enter(fd, 0);
	bool mine = io_mine(fd, SEND_UDP_NO_ADDRESS);

	if (rc == 0 && !mine)
		return real.write(fd, buf, len);
	return io_return(rc < 0 ? rc : send_buffer(fd, buf, len, 0, NULL, 0),
			 saved_errno);
}

SOCKSIFY_EXPORT ssize_t writev(int fd, const struct iovec *iov, int count)
{
	int saved_errno = errno;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov,
			     .msg_iovlen = count < 0 ? 0 : (size_t)count};
	int rc = io_enter(fd, 0);
	bool mine = io_mine(fd, SEND_UDP_NO_ADDRESS);

	if (rc == 0 && (!mine || count < 0))
		return real.writev(fd, iov, count);
	return io_return(rc < 0 ? rc : send_one(fd, &msg, 0), saved_errno);
}

SOCKSIFY_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int saved_errno = errno;
	int rc;
	bool mine;

	if (gssapi_bypass())
		return real.sendmsg(fd, msg, flags);
	rc = io_enter(fd, flags);
	mine = io_mine(fd, SEND_UDP_NO_ADDRESS);
	if (rc == 0 && (!msg || (!mine && !msg->msg_name)))
		return real.sendmsg(fd, msg, flags);
	return io_return(rc < 0 ? rc : send_one(fd, msg, flags), saved_errno);
}

/* True when any of vec[0..count) names an IP destination. */
static bool mmsg_any_addressed(const struct mmsghdr *vec, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (io_ip_destination(vec[i].msg_hdr.msg_name,
				      vec[i].msg_hdr.msg_namelen))
			return true;
	return false;
}

/* One message at a time, with sendmmsg's rule: an error is reported only
 * when nothing was sent; otherwise the count so far. Returns that count or
 * -errno. */
static int mmsg_each(int fd, struct mmsghdr *vec, unsigned count, int flags)
{
	unsigned i;

	for (i = 0; i < count; i++) {
		ssize_t n = send_one(fd, &vec[i].msg_hdr, flags);

		if (n < 0)
			return i > 0 ? (int)i : (int)n;
		vec[i].msg_len = (unsigned)n;
	}
	return (int)i;
}

SOCKSIFY_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int count,
			     int flags)
{
	int saved_errno = errno;
	int rc = io_enter(fd, flags);
	bool mine = io_mine(fd, SEND_UDP_NO_ADDRESS);

	if (rc < 0)
		return (int)hook_return(rc); /* a handshake in flight */
	if (!vec)
		return real.sendmmsg(fd, vec, count, flags);
	count = count > UIO_MAXIOV ? UIO_MAXIOV : count;
	if (!mine && !mmsg_any_addressed(vec, count))
		return real.sendmmsg(fd, vec, count, flags);
	return (int)io_return(mmsg_each(fd, vec, count, flags), saved_errno);
}
