/* udp_recv.c — receiving on a socket with UDP state, behind the receive
 * hooks in recv.c (recvmsg(), recvfrom(), recv(), read(), readv(),
 * recvmmsg() all come to udp_recv_msg(), declared in udp_io.h).
 *
 * One recvmsg() per datagram, straight into the program's buffers: the
 * iovec list is [head scratch, the program's iovecs, tail scratch]. The
 * head is sized to the header length guessed (the last one this thread
 * saw; 10 at first), so the payload usually lands where the program wants
 * it. When the real header is longer or shorter, the payload is moved into
 * place inside the same iovec string (rare: a source of another address
 * type). The tail gives room for the bytes a longer header pushed out, so
 * lengths and MSG_TRUNC come out exactly as the kernel would report them
 * for the unwrapped datagram. Nothing is ever written past the program's
 * buffers.
 *
 * What is delivered:
 *  - from the relay, a well-formed header with FRAG 0, or the last of a
 *    sequence of fragments (see "Fragments" below): the payload, with
 *    the inner source as the sender (IPv4 as ::ffff:a.b.c.d on an AF_INET6
 *    socket; a name as its fake address; a socket connect()ed to a proxied
 *    peer takes only its peer's datagrams, as the kernel would);
 *  - from anyone else, when UDP to that source is routed direct (and the
 *    socket is not connect()ed through the proxy): the datagram unchanged.
 * Everything else is dropped silently and the next datagram read: a
 * blocking socket keeps waiting, a non-blocking one (or MSG_DONTWAIT)
 * reports EAGAIN once nothing is queued. A datagram dropped under MSG_PEEK
 * is consumed first. Dropped too: a name source when remote DNS is off or
 * the fake table is full, an IPv6 source on an AF_INET socket.
 *
 * Fragments (FRAG != 0, RFC 1928 section 7) are copied out of the received
 * string into a reassembly queue (common/udpfrag.c: one per association
 * and source, positions 1, 2, ... in order, the high bit on the last, a
 * 5-second timer, 64 KiB each, UDPFRAG_QUEUES in the process) and count as
 * dropped until the last one comes; then the whole datagram is copied into
 * the program's buffers and delivered as one. The table is static (no
 * malloc in a hook) and guarded by a try-lock holding the locker's pid: a
 * receive that finds it busy (another thread, or a signal handler
 * interrupting the holder) drops its fragment, which loses that datagram
 * but never blocks; a child after fork() takes over a lock its parent's
 * thread held. Dropped as well: a fragment read under MSG_PEEK, and one
 * the program's buffers could not hold whole (its sequence ends there). */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "iovec.h"
#include "log.h"
#include "real.h"
#include "socks5_udp.h"
#include "state.h"
#include "udp.h"
#include "udp_io.h"
#include "udpassoc.h"
#include "udpfrag.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024
#endif
#define RECV_IOV_SMALL	16
#define RECV_HEADER_MAX SOCKS5_UDP_HEADER_MAX
/* What recv_relayed() and recv_direct() return for a datagram to drop. */
#define RECV_DROP (-1)

/* Header length this thread saw last: the guess for its next datagram. */
static __thread unsigned recv_guess __attribute__((tls_model("initial-exec"))) =
    SOCKS5_UDP_HEADER_IPV4;

/* One receive in progress. */
struct recv_state {
	int fd;
	int flags;
	const struct fdtab_entry *e;
	struct msghdr *msg; /* the program's */
	struct iovec *iov;  /* head, the program's iovecs, tail */
	size_t iov_count;
	size_t head; /* bytes of head scratch (the guess) */
	size_t room; /* the program's buffer space */
	uint8_t scratch[2 * RECV_HEADER_MAX];
	struct sockaddr_storage from;
	struct sockaddr_storage src; /* what the program will see */
	socklen_t src_len;
	struct endpoint relayed; /* the relay's header: source and FRAG */
	uint8_t frag;
};

/* The reassembly queues of the process, and their try-lock (0, or the pid
 * of the process whose thread holds it). */
static struct udpfrag_table frag_table;
static atomic_int frag_lock;

/* Lay out st->iov around the program's iovecs. */
static void recv_layout(struct recv_state *st, struct iovec *space)
{
	size_t n = st->msg->msg_iovlen;

	st->head = recv_guess;
	space[0].iov_base = st->scratch;
	space[0].iov_len = st->head;
	if (n)
		memcpy(space + 1, st->msg->msg_iov, n * sizeof(struct iovec));
	space[n + 1].iov_base = st->scratch + RECV_HEADER_MAX;
	space[n + 1].iov_len = RECV_HEADER_MAX - st->head;
	st->iov = space;
	st->iov_count = n + 2;
	st->room = iovec_total(st->msg->msg_iov, n);
}

/* The source ep as the program's socket family sees it, in st->src.
 * Returns false when it cannot be expressed (drop the datagram). */
static bool recv_source(struct recv_state *st, const struct endpoint *ep)
{
	const struct config *cfg = socksify_config();
	struct endpoint fake = *ep;
	struct fakedns *table;
	long index;

	if (ep->kind == ENDPOINT_NAME) {
		table = socksify_fakedns();
		if (!cfg->remote_dns || !table)
			return false;
		index = fakedns_lookup(table, ep->u.name, ep->name_len);
		if (index < 0 ||
		    fakedns_index_to_addr(st->e->udp.family == AF_INET
					      ? &cfg->fake_ipv4
					      : &cfg->fake_ipv6,
					  (uint32_t)index, &fake) < 0)
			return false;
		fake.port = ep->port;
	}
	st->src_len = endpoint_to_sockaddr(&fake, st->e->udp.family, &st->src);
	return st->src_len > 0;
}

/* A socket connect()ed to a proxied peer takes only that peer's datagrams.
 * A peer that is a fake address (sent as a name) matches any source on its
 * port, since the relay names the resolved address; the program sees the
 * peer. */
static bool recv_from_peer(struct recv_state *st, const struct endpoint *src)
{
	const struct endpoint *peer = &st->e->dest;

	if (!(st->e->flags & FDTAB_UDP_PEER))
		return true;
	if (endpoint_equal(src, peer))
		return true;
	if (!socksify_is_fake(peer) || src->port != peer->port)
		return false;
	st->src_len = endpoint_to_sockaddr(peer, st->e->udp.family, &st->src);
	return st->src_len > 0;
}

/* Parse a relayed datagram's header (copied out of the received string).
 * Returns its length, or RECV_DROP. */
static long recv_relayed(struct recv_state *st, size_t got)
{
	uint8_t hdr[RECV_HEADER_MAX];
	size_t have = iovec_copy_out(st->iov, st->iov_count, 0, hdr,
				     got < sizeof hdr ? got : sizeof hdr);
	struct endpoint src;
	long hlen = socks5_udp_parse_fragment(hdr, have, &src, &st->frag);

	if (hlen < 0 || !recv_source(st, &src) || !recv_from_peer(st, &src))
		return RECV_DROP;
	st->relayed = src;
	recv_guess = (unsigned)hlen;
	return hlen;
}

/* A datagram from outside the relay: delivered unchanged when UDP to its
 * source is routed direct. Returns 0 (no header) or RECV_DROP. */
static long recv_direct(struct recv_state *st, socklen_t from_len)
{
	struct endpoint src;

	if (st->e->flags & FDTAB_UDP_PEER)
		return RECV_DROP;
	if (endpoint_from_sockaddr(&src, (struct sockaddr *)&st->from,
				   from_len) < 0 ||
	    udp_route_silent(&src) != UDP_WAY_DIRECT) {
		log_debug("fd %d: datagram dropped (not from the relay, not "
			  "a direct source)",
			  st->fd);
		return RECV_DROP;
	}
	memcpy(&st->src, &st->from, from_len);
	st->src_len = from_len;
	return 0;
}

/* Fill the program's msghdr for a datagram delivered: the source address
 * (cut to its room, the full length reported) and the flags, MSG_TRUNC
 * when the payload did not fit. */
static void recv_fill_msg(struct recv_state *st, bool trunc, int kernel_flags)
{
	struct msghdr *msg = st->msg;

	if (msg->msg_name) {
		socklen_t want = msg->msg_namelen < st->src_len
				     ? msg->msg_namelen
				     : st->src_len;

		memcpy(msg->msg_name, &st->src, want);
		msg->msg_namelen = st->src_len;
	}
	msg->msg_flags = (kernel_flags & ~MSG_TRUNC) | (trunc ? MSG_TRUNC : 0);
}

/* Move the payload (after hlen header bytes of the got received) to the
 * program's buffers and fill its msghdr. full is the wrapped datagram's
 * length when known (MSG_TRUNC asked), else got. Returns what the call
 * returns. */
static ssize_t recv_deliver(struct recv_state *st, size_t got, size_t full,
			    size_t hlen, int kernel_flags)
{
	size_t payload = got - hlen;
	size_t copied = payload < st->room ? payload : st->room;
	bool trunc = payload > st->room || (kernel_flags & MSG_TRUNC);

	if (copied && hlen != st->head)
		iovec_move(st->iov, st->iov_count, st->head, hlen, copied);
	recv_fill_msg(st, trunc, kernel_flags);
	if (st->flags & MSG_TRUNC)
		return (ssize_t)(full - hlen);
	return (ssize_t)copied;
}

/* Take the fragment table's lock without waiting: false when it is busy.
 * A lock held by another pid is a parent's, left by fork(): taken over. */
static bool frag_trylock(void)
{
	int me = (int)getpid();
	int seen = 0;

	if (atomic_compare_exchange_strong(&frag_lock, &seen, me))
		return true;
	if (seen == me)
		return false;
	return atomic_compare_exchange_strong(&frag_lock, &seen, me);
}

static void frag_unlock(void)
{
	atomic_store(&frag_lock, 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Copy the whole datagram in q to the program's buffers and fill its
 * msghdr, as recv_deliver() does. Returns what the call returns. */
static ssize_t frag_deliver(struct recv_state *st,
			    const struct udpfrag_queue *q, int kernel_flags)
{
	struct msghdr *msg = st->msg;
	size_t copied =
	    iovec_copy_in(msg->msg_iov, msg->msg_iovlen, 0, q->data, q->len);
	bool trunc = q->len > copied;

	recv_fill_msg(st, trunc, kernel_flags);
	if (st->flags & MSG_TRUNC)
		return (ssize_t)q->len;
	return (ssize_t)copied;
}

/* A fragment (FRAG != 0) of got bytes with an hlen-byte header, the whole
 * wrapped datagram being n bytes: queued, or the last one completing a
 * datagram, which is delivered. Returns the call's result, or RECV_DROP. */
static ssize_t recv_fragment(struct recv_state *st, size_t got, size_t n,
			     size_t hlen, int kernel_flags)
{
	struct udpfrag_queue *done = NULL;
	enum udpfrag_why why = UDPFRAG_OK;
	enum udpfrag_verdict verdict;
	ssize_t rc = RECV_DROP;

	if (st->flags & MSG_PEEK)
		return RECV_DROP;
	if (n > got || (kernel_flags & MSG_TRUNC)) {
		log_debug("fd %d: UDP fragment dropped (larger than the "
			  "buffers)",
			  st->fd);
		return RECV_DROP;
	}
	if (!frag_trylock()) {
		log_debug("fd %d: UDP fragment dropped (reassembly busy)",
			  st->fd);
		return RECV_DROP;
	}
	verdict = udpfrag_add(&frag_table, st->e->udp.id, &st->relayed,
			      st->frag, st->iov, st->iov_count, hlen,
			      got - hlen, now_ms(), &done, &why);
	if (verdict == UDPFRAG_DONE) {
		rc = frag_deliver(st, done, kernel_flags);
		udpfrag_release(done);
	}
	frag_unlock();
	if (verdict == UDPFRAG_DROPPED)
		log_debug("fd %d: UDP fragment %u: %s", st->fd,
			  (unsigned)st->frag, udpfrag_why_text(why));
	return rc;
}

/* Consume a dropped datagram that was only peeked at. */
static void recv_consume(int fd, int flags)
{
	char byte;

	real.recv(fd, &byte, 1,
		  (flags & ~(MSG_PEEK | MSG_TRUNC)) | MSG_DONTWAIT);
}

/* One kernel receive. Returns >= 0 (the call's result), -errno, or
 * -EAGAIN... as the kernel says; *drop says the datagram was dropped. */
static ssize_t recv_once(struct recv_state *st, bool *drop)
{
	struct msghdr km = *st->msg;
	ssize_t n;
	size_t got, total = iovec_total(st->iov, st->iov_count);
	long hlen;

	st->frag = 0;
	km.msg_name = &st->from;
	km.msg_namelen = sizeof st->from;
	km.msg_iov = st->iov;
	km.msg_iovlen = st->iov_count;
	n = real.recvmsg(st->fd, &km, st->flags);
	if (n < 0)
		return -errno;
	got = (size_t)n < total ? (size_t)n : total;
	if (udpassoc_is_relay((struct sockaddr *)&st->from, km.msg_namelen,
			      (const struct sockaddr *)&st->e->udp.relay,
			      st->e->udp.relay_len))
		hlen = recv_relayed(st, got);
	else
		hlen = recv_direct(st, km.msg_namelen);
	*drop = hlen < 0 || (size_t)hlen > got;
	if (*drop)
		return 0;
	st->msg->msg_controllen = km.msg_controllen;
	if (hlen > 0 && st->frag != 0) {
		n = recv_fragment(st, got, (size_t)n, (size_t)hlen,
				  km.msg_flags);
		*drop = n == RECV_DROP;
		return *drop ? 0 : n;
	}
	return recv_deliver(st, got, (size_t)n, (size_t)hlen, km.msg_flags);
}

/* Receive until a datagram is delivered or the kernel reports an error
 * (EAGAIN included). Returns the call's result or -errno. */
static ssize_t recv_loop(struct recv_state *st, struct iovec *space)
{
	size_t controllen = st->msg->msg_controllen;

	for (;;) {
		bool drop = false;
		ssize_t n;

		recv_layout(st, space);
		st->msg->msg_controllen = controllen;
		n = recv_once(st, &drop);
		if (!drop)
			return n;
		if (st->flags & MSG_PEEK)
			recv_consume(st->fd, st->flags);
	}
}

static __attribute__((noinline)) ssize_t recv_loop_long(struct recv_state *st)
{
	struct iovec space[UIO_MAXIOV + 2];

	return recv_loop(st, space);
}

/* recvmsg()'s work on a socket with UDP state: the call's result, -errno,
 * or HOOK_PASS when fd has no entry. */
static ssize_t recv_udp(int fd, struct msghdr *msg, int flags)
{
	struct iovec small[RECV_IOV_SMALL + 2];
	struct recv_state st;
	struct fdtab_entry e;
	int rc;

	if (fdtab_get_unchecked(fd, &e) < 0)
		return HOOK_PASS; /* no entry after all */
	if (!(e.flags & FDTAB_UDP_ASSOC)) {
		rc = udp_assoc_ensure(fd, e.udp.family, NULL, &e);
		if (rc < 0)
			return rc;
	}
	if (msg->msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	st.fd = fd;
	st.flags = flags;
	st.e = &e;
	st.msg = msg;
	if (msg->msg_iovlen <= RECV_IOV_SMALL)
		return recv_loop(&st, small);
	return recv_loop_long(&st);
}

ssize_t udp_recv_msg(int fd, struct msghdr *msg, int flags)
{
	ssize_t n = recv_udp(fd, msg, flags);

	if (n == -ENOTSOCK) {
		udp_forget(fd); /* a stale entry */
		return HOOK_PASS;
	}
	return n;
}
