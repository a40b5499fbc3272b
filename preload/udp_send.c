/* udp_send.c — the send family: sendto(), sendmsg(), sendmmsg(), and
 * send(), write(), writev() on a UDP socket connect()ed to a proxied peer.
 *
 * A datagram routed via the proxy leaves as ONE sendmsg() to the relay
 * whose iovec list is [SOCKS5 UDP header, the program's own iovecs]: no
 * copy, no allocation, the program's ancillary data passed on. The kernel
 * sees the wrapped size, so an oversized datagram fails with its EMSGSIZE.
 * The program is told its own byte count (the kernel's minus the header).
 *
 * Corked datagrams (MSG_MORE, or UDP_CORK on: see sockopt.c): the kernel
 * appends each send to one pending datagram, so only its first piece may
 * carry a header. A proxied send that leaves the datagram pending marks
 * the fd FDTAB_UDP_OPEN; while it is set, every send is a headerless piece
 * to the relay whatever destination it names (the kernel, too, sends a
 * corked datagram to its first destination), and the program is told the
 * kernel's count unchanged. The send that ends the datagram (no MSG_MORE,
 * UDP_CORK off), a failed send (the kernel drops the pending data) and
 * UDP_CORK set to 0 clear the mark. The whole datagram's size, one header
 * included, is what the kernel checks, so its EMSGSIZE stays right.
 * Not followed: a corked datagram to a DIRECT destination that a proxied
 * send then joins (its header would go to that destination).
 *
 * Other sockets: a send without a destination on a descriptor with no UDP
 * state costs one lock-free flag load. A send with an IP destination on an
 * unknown socket classifies it once (getsockopt); a UDP socket is then
 * remembered in fdtab. SCTP and other uncarried protocols may reach direct
 * routes only; a TCP send with MSG_FASTOPEN and a destination is a connect
 * in disguise and takes connect()'s path. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "async.h"
#include "hooks.h"
#include "log.h"
#include "real.h"
#include "socks5_udp.h"
#include "state.h"
#include "udp.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024 /* the kernel's cap on iovecs and sendmmsg's count */
#endif
#define UDP_IOV_SMALL 16
/* A send without a destination takes the UDP path on these sockets: a
 * proxied peer, or an open datagram (whose pieces need no address). */
#define SEND_UDP_NO_ADDRESS (FDTAB_UDP_PEER | FDTAB_UDP_OPEN)

/* What a send must do. */
enum send_plan {
	PLAN_REAL,   /* the real call, unchanged */
	PLAN_WRAP,   /* through the association (plan's entry and dest) */
	PLAN_PIECE,  /* a later piece of an open datagram: relay, no header */
	PLAN_STREAM, /* TCP fast open just proxied: send without address */
	PLAN_FAIL,   /* refused: the -errno is in the plan */
};

struct send_target {
	struct fdtab_entry e;
	struct endpoint dest;
	int error; /* -errno with PLAN_FAIL */
};

/* True when sa is an IPv4 or IPv6 destination worth a look. */
static bool send_ip_destination(const void *sa, socklen_t len)
{
	const struct sockaddr *addr = sa;

	return addr && len >= sizeof addr->sa_family &&
	       (addr->sa_family == AF_INET || addr->sa_family == AF_INET6);
}

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
		t->error = stream_connect(fd, domain, sa, len, false, &outcome,
					  &nonblocking);
		if (t->error < 0)
			return PLAN_FAIL;
		return outcome == STREAM_PROXIED ? PLAN_STREAM : PLAN_REAL;
	}
	if (endpoint_from_sockaddr(&t->dest, sa, len) < 0 ||
	    hook_uncarried_allowed(fd, hook_class_name(class), &t->dest))
		return PLAN_REAL;
	t->error = -EACCES;
	return PLAN_FAIL;
}

/* A UDP socket of family sending to sa (or its recorded peer). */
static enum send_plan send_plan_udp(int fd, int family, const void *sa,
				    socklen_t len, struct send_target *t)
{
	int way;

	if (send_ip_destination(sa, len)) {
		if (endpoint_from_sockaddr(&t->dest, sa, len) < 0)
			return PLAN_REAL; /* short: the kernel's EINVAL */
	} else if (!sa && (t->e.flags & FDTAB_UDP_PEER)) {
		t->dest = t->e.dest;
	} else {
		return PLAN_REAL;
	}
	way = udp_route(fd, &t->dest);
	if (way == UDP_WAY_DIRECT)
		return PLAN_REAL;
	t->error = way < 0 ? way : udp_assoc_ensure(fd, family, &t->e);
	if (t->error == 0)
		t->error = udp_assoc_alive(fd, &t->e);
	return t->error < 0 ? PLAN_FAIL : PLAN_WRAP;
}

/* Decide what a send on fd with destination sa must do. */
static enum send_plan send_plan(int fd, int flags, const void *sa,
				socklen_t len, struct send_target *t)
{
	uint32_t f = fdtab_flags(fd);
	enum socket_class class;
	int domain;

	t->e.flags = 0;
	if (f & (FDTAB_UDP_ANY | FDTAB_UDP_SOCKET)) {
		if (fdtab_get_unchecked(fd, &t->e) < 0)
			return PLAN_REAL;
		if ((t->e.flags & (FDTAB_UDP_OPEN | FDTAB_UDP_ASSOC)) ==
		    (FDTAB_UDP_OPEN | FDTAB_UDP_ASSOC))
			return PLAN_PIECE;
		return send_plan_udp(fd, t->e.udp.family, sa, len, t);
	}
	if (!send_ip_destination(sa, len))
		return PLAN_REAL;
	class = hook_socket_class(fd, &domain);
	if (class != SOCKET_UDP)
		return send_plan_other(fd, class, domain, flags, sa, len, t);
	udp_note_socket(fd, domain);
	return send_plan_udp(fd, domain, sa, len, t);
}

/* The header for dest: a fake address goes as its name. Returns the
 * header's length or -errno (logged). */
static long send_header(int fd, const struct endpoint *dest, uint8_t *hdr)
{
	struct endpoint name;
	char text[ENDPOINT_TEXT_MAX];

	if (!socksify_is_fake(dest))
		return socks5_udp_build_header(hdr, SOCKS5_UDP_HEADER_MAX,
					       dest);
	if (socksify_unfake(dest, &name))
		return socks5_udp_build_header(hdr, SOCKS5_UDP_HEADER_MAX,
					       &name);
	log_error("fd %d: UDP to %s refused: a fake address with no name", fd,
		  endpoint_format(dest, text, sizeof text));
	return -EHOSTUNREACH;
}

/* Send msg's data behind hdr to the relay, building the iovec list in
 * space (room for msg_iovlen + 1). Returns the program's byte count or
 * -errno. */
static ssize_t send_wrapped_in(int fd, const struct send_target *t,
			       const struct msghdr *msg, int flags,
			       uint8_t *hdr, size_t hlen, struct iovec *space)
{
	struct msghdr out = *msg;
	ssize_t n;

	space[0].iov_base = hdr;
	space[0].iov_len = hlen;
	if (msg->msg_iovlen)
		memcpy(space + 1, msg->msg_iov,
		       msg->msg_iovlen * sizeof(struct iovec));
	out.msg_name = (void *)&t->e.udp.relay;
	out.msg_namelen = t->e.udp.relay_len;
	out.msg_iov = space;
	out.msg_iovlen = msg->msg_iovlen + 1;
	n = real.sendmsg(fd, &out, flags);
	if (n < 0)
		return -errno;
	return n >= (ssize_t)hlen ? n - (ssize_t)hlen : 0;
}

/* The same for long iovec lists, kept off the common path's stack. */
static __attribute__((noinline)) ssize_t
send_wrapped_long(int fd, const struct send_target *t, const struct msghdr *msg,
		  int flags, uint8_t *hdr, size_t hlen)
{
	struct iovec space[UIO_MAXIOV];

	return send_wrapped_in(fd, t, msg, flags, hdr, hlen, space);
}

/* One wrapped datagram: msg's name is ignored (t says where). Returns the
 * program's byte count or -errno. */
static ssize_t send_wrapped(int fd, const struct send_target *t,
			    const struct msghdr *msg, int flags)
{
	uint8_t hdr[SOCKS5_UDP_HEADER_MAX];
	struct iovec small[UDP_IOV_SMALL + 1];
	long hlen = send_header(fd, &t->dest, hdr);

	if (hlen < 0)
		return hlen;
	if (msg->msg_iovlen >= UIO_MAXIOV)
		return -EMSGSIZE;
	if (msg->msg_iovlen <= UDP_IOV_SMALL)
		return send_wrapped_in(fd, t, msg, flags, hdr, (size_t)hlen,
				       small);
	return send_wrapped_long(fd, t, msg, flags, hdr, (size_t)hlen);
}

/* A later piece of fd's open datagram: msg's data alone to the relay (its
 * name is ignored). Returns the kernel's byte count or -errno. */
static ssize_t send_piece(int fd, const struct send_target *t,
			  const struct msghdr *msg, int flags)
{
	struct msghdr out = *msg;
	ssize_t n;

	out.msg_name = (void *)&t->e.udp.relay;
	out.msg_namelen = t->e.udp.relay_len;
	n = real.sendmsg(fd, &out, flags);
	return n < 0 ? -errno : n;
}

/* After a proxied send on fd that returned n: mark the datagram open when
 * the kernel keeps it pending (MSG_MORE or UDP_CORK), or closed when it
 * went out or was dropped. Costs nothing for an ordinary datagram. */
static void send_track_cork(int fd, const struct send_target *t, int flags,
			    ssize_t n)
{
	bool was_open = t->e.flags & FDTAB_UDP_OPEN;
	bool open = n >= 0 &&
		    ((flags & MSG_MORE) || (fdtab_flags(fd) & FDTAB_UDP_CORK));

	if (open && !was_open)
		fdtab_claim(fd, FDTAB_UDP_OPEN);
	else if (!open && was_open)
		fdtab_unflag(fd, FDTAB_UDP_OPEN);
}

/* A send through the association: a whole datagram or its first piece
 * (PLAN_WRAP), or a later piece (PLAN_PIECE). Returns the program's byte
 * count or -errno. */
static ssize_t send_proxied(int fd, enum send_plan plan,
			    const struct send_target *t,
			    const struct msghdr *msg, int flags)
{
	ssize_t n = plan == PLAN_PIECE ? send_piece(fd, t, msg, flags)
				       : send_wrapped(fd, t, msg, flags);

	send_track_cork(fd, t, flags, n);
	return n;
}

/* sendmsg()'s work, -errno style; sendmmsg() calls it per message. A stale
 * entry (ENOTSOCK) is forgotten and the real call made. */
static ssize_t send_one(int fd, const struct msghdr *msg, int flags)
{
	struct send_target t;
	struct msghdr copy;
	enum send_plan plan;
	ssize_t n;

	plan = send_plan(fd, flags, msg->msg_name, msg->msg_namelen, &t);
	switch (plan) {
	case PLAN_FAIL:
		return t.error;
	case PLAN_STREAM:
		copy = *msg;
		copy.msg_name = NULL;
		copy.msg_namelen = 0;
		n = real.sendmsg(fd, &copy, flags & ~MSG_FASTOPEN);
		return n < 0 ? -errno : n;
	case PLAN_WRAP:
	case PLAN_PIECE:
		n = send_proxied(fd, plan, &t, msg, flags);
		if (n != -ENOTSOCK)
			return n;
		udp_forget(fd);
		break;
	case PLAN_REAL:
		break;
	}
	n = real.sendmsg(fd, msg, flags);
	return n < 0 ? -errno : n;
}

/* Return n from a hook: -errno becomes -1 with errno set; success leaves
 * errno as the program had it. */
static ssize_t send_result(ssize_t n, int saved_errno)
{
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	errno = saved_errno;
	return n;
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

SOCKSIFY_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			       const struct sockaddr *sa, socklen_t salen)
{
	int saved_errno = errno;

	real_init();
	if (async_io_check(fd, flags) < 0)
		return -1; /* a handshake in flight */
	if (!sa && !(fdtab_flags(fd) & SEND_UDP_NO_ADDRESS))
		return real.sendto(fd, buf, len, flags, sa, salen);
	return send_result(send_buffer(fd, buf, len, flags, sa, salen),
			   saved_errno);
}

SOCKSIFY_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	int saved_errno = errno;

	real_init();
	if (async_io_check(fd, flags) < 0)
		return -1; /* a handshake in flight */
	if (!(fdtab_flags(fd) & SEND_UDP_NO_ADDRESS))
		return real.send(fd, buf, len, flags);
	return send_result(send_buffer(fd, buf, len, flags, NULL, 0),
			   saved_errno);
}

SOCKSIFY_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	int saved_errno = errno;

	real_init();
	if (async_io_check(fd, 0) < 0)
		return -1; /* a handshake in flight */
	if (!(fdtab_flags(fd) & SEND_UDP_NO_ADDRESS))
		return real.write(fd, buf, len);
	return send_result(send_buffer(fd, buf, len, 0, NULL, 0), saved_errno);
}

SOCKSIFY_EXPORT ssize_t writev(int fd, const struct iovec *iov, int count)
{
	int saved_errno = errno;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov};

	real_init();
	if (async_io_check(fd, 0) < 0)
		return -1; /* a handshake in flight */
	if (!(fdtab_flags(fd) & SEND_UDP_NO_ADDRESS) || count < 0)
		return real.writev(fd, iov, count);
	msg.msg_iovlen = (size_t)count;
	return send_result(send_one(fd, &msg, 0), saved_errno);
}

SOCKSIFY_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	int saved_errno = errno;

	real_init();
	if (async_io_check(fd, flags) < 0)
		return -1; /* a handshake in flight */
	if (!msg ||
	    (!msg->msg_name && !(fdtab_flags(fd) & SEND_UDP_NO_ADDRESS)))
		return real.sendmsg(fd, msg, flags);
	return send_result(send_one(fd, msg, flags), saved_errno);
}

/* True when any of vec[0..count) names an IP destination. */
static bool mmsg_any_addressed(const struct mmsghdr *vec, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (send_ip_destination(vec[i].msg_hdr.msg_name,
					vec[i].msg_hdr.msg_namelen))
			return true;
	return false;
}

/* One message at a time, with sendmmsg's rule: an error is reported only
 * when nothing was sent; otherwise the count so far. */
static int mmsg_each(int fd, struct mmsghdr *vec, unsigned count, int flags,
		     int saved_errno)
{
	unsigned i;

	for (i = 0; i < count; i++) {
		ssize_t n = send_one(fd, &vec[i].msg_hdr, flags);

		if (n < 0) {
			if (i > 0)
				break;
			errno = (int)-n;
			return -1;
		}
		vec[i].msg_len = (unsigned)n;
	}
	errno = saved_errno;
	return (int)i;
}

SOCKSIFY_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int count,
			     int flags)
{
	int saved_errno = errno;
	uint32_t f;

	real_init();
	if (async_io_check(fd, flags) < 0)
		return -1; /* a handshake in flight */
	if (!vec)
		return real.sendmmsg(fd, vec, count, flags);
	count = count > UIO_MAXIOV ? UIO_MAXIOV : count;
	f = fdtab_flags(fd);
	if (!(f & SEND_UDP_NO_ADDRESS) && !mmsg_any_addressed(vec, count))
		return real.sendmmsg(fd, vec, count, flags);
	return mmsg_each(fd, vec, count, flags, saved_errno);
}
