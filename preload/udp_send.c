/* udp_send.c — sending through a UDP association, behind the send hooks
 * in send.c (sendto(), sendmsg(), sendmmsg(), and send(), write(), writev()
 * on a UDP socket connect()ed to a proxied peer): udp_send_prepare()
 * decides, udp_send_msg() sends (both declared in udp_io.h).
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
 * send then joins (its header would go to that destination). */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hook_io.h"
#include "hooks.h"
#include "log.h"
#include "real.h"
#include "socks5_udp.h"
#include "state.h"
#include "udp.h"
#include "udp_io.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024 /* the kernel's cap on iovecs */
#endif
#define UDP_IOV_SMALL 16 /* iovecs kept on the common path's stack */

int udp_send_prepare(int fd, int family, const void *sa, socklen_t len,
		     struct udp_target *t)
{
	struct route_target via;
	int way, rc;

	t->piece = (t->e.flags & (FDTAB_UDP_OPEN | FDTAB_UDP_ASSOC)) ==
		   (FDTAB_UDP_OPEN | FDTAB_UDP_ASSOC);
	if (t->piece)
		return 0; /* the open datagram's destination stands */
	if (io_ip_destination(sa, len)) {
		if (endpoint_from_sockaddr(&t->dest, sa, len) < 0)
			return HOOK_PASS; /* short: the kernel's EINVAL */
	} else if (!sa && (t->e.flags & FDTAB_UDP_PEER)) {
		t->dest = t->e.dest;
	} else {
		return HOOK_PASS;
	}
	way = udp_route(fd, &t->dest, &via);
	if (way == UDP_WAY_DIRECT)
		return HOOK_PASS;
	rc = way < 0 ? way : udp_assoc_ensure(fd, family, &via, &t->e);
	if (rc == 0)
		rc = udp_assoc_alive(fd, &t->e);
	return rc;
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
static ssize_t send_wrapped_in(int fd, const struct udp_target *t,
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
send_wrapped_long(int fd, const struct udp_target *t, const struct msghdr *msg,
		  int flags, uint8_t *hdr, size_t hlen)
{
	struct iovec space[UIO_MAXIOV];

	return send_wrapped_in(fd, t, msg, flags, hdr, hlen, space);
}

/* One wrapped datagram: msg's name is ignored (t says where). Returns the
 * program's byte count or -errno. */
static ssize_t send_wrapped(int fd, const struct udp_target *t,
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
static ssize_t send_piece(int fd, const struct udp_target *t,
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
static void send_track_cork(int fd, const struct udp_target *t, int flags,
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

/* A whole datagram or its first piece, or a later piece (t->piece). */
ssize_t udp_send_msg(int fd, const struct udp_target *t,
		     const struct msghdr *msg, int flags)
{
	ssize_t n = t->piece ? send_piece(fd, t, msg, flags)
			     : send_wrapped(fd, t, msg, flags);

	send_track_cork(fd, t, flags, n);
	if (n == -ENOTSOCK) {
		udp_forget(fd); /* a stale entry */
		return HOOK_PASS;
	}
	return n;
}
