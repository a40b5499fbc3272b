/* udp_io.h — the datagram machinery behind the data hooks: receiving
 * through an association (udp_recv.c) and sending through one
 * (udp_send.c). The hooks themselves (recv.c, send.c) decide when to come
 * here. Internal to preload/. */
#ifndef SOCKSIFY_UDP_IO_H
#define SOCKSIFY_UDP_IO_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "endpoint.h"
#include "fdtab.h"

/* recvmsg()'s work on fd, which has UDP state: one datagram delivered
 * unwrapped into msg (see udp_recv.c). Returns the call's result (a byte
 * count) or -errno, or HOOK_PASS when the real call must be made after all
 * (no entry, or a stale one, which is then forgotten). */
ssize_t udp_recv_msg(int fd, struct msghdr *msg, int flags);

/* Where a send through the association goes. */
struct udp_target {
	struct fdtab_entry e; /* fd's entry (flags 0 for a new UDP socket) */
	struct endpoint dest; /* the datagram's destination */
	bool piece;	      /* a later piece of an open (corked) datagram */
};

/* Decide for a send from UDP socket fd (of family) to sa/len, or to its
 * recorded peer when sa is NULL; t->e holds fd's entry. Returns 0 when the
 * send goes through the association (t filled, the association set up and
 * alive), HOOK_PASS when the real call is right, or -errno when refused
 * (logged). */
int udp_send_prepare(int fd, int family, const void *sa, socklen_t len,
		     struct udp_target *t);

/* Send msg (its name ignored) through the association udp_send_prepare()
 * chose. Returns the program's byte count, -errno, or HOOK_PASS when fd
 * turned out stale (its entry is then forgotten: make the real call). */
ssize_t udp_send_msg(int fd, const struct udp_target *t,
		     const struct msghdr *msg, int flags);

#endif
