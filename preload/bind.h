/* bind.h — listening TCP sockets through the proxy (SOCKS BIND), shared by
 * bind.c (bind, listen, getsockname hooks and the state), accept.c, connect.c
 * and fdops.c. Internal to preload/. Everything here is cheap (one atomic
 * load) while no BIND exists. */
#ifndef SOCKSIFY_BIND_H
#define SOCKSIFY_BIND_H

#include <stdbool.h>
#include <sys/socket.h>

#include "endpoint.h"

/* What accept() needs to hand a BIND's connection to the program. The
 * descriptors are internal (hidden.h); bind_release() closes
 * whatever of them is still open. */
struct bind_handover {
	int ctrl;	      /* the control connection: the data stream */
	int wake;	      /* our side of the wake-up connection */
	int error;	      /* positive errno of a failed second reply */
	struct endpoint peer; /* the remote host, from the second reply */
};

/* True while any BIND state exists. */
bool bind_active(void);

/* Make sure the helper thread runs while BINDs wait (after fork() the child
 * has none until a hook calls this). */
void bind_helper_ensure(void);

/* When the connection just accepted on listen_fd, from `from`, is the
 * wake-up call of listen_fd's BIND, detach that BIND into *h and return
 * true. The caller owns h afterwards (see bind_release). */
bool bind_take(int listen_fd, const struct sockaddr *from, socklen_t len,
	       struct bind_handover *h);

/* Close the internal descriptors left in h (set to -1 as they go). */
void bind_release(struct bind_handover *h);

/* The program closes, replaces or connects fd: drop its BIND, if any. */
void bind_forget(int fd);
/* Drop the BINDs of every listener in [lo, hi]. */
void bind_forget_range(unsigned lo, unsigned hi);

/* A proxied TCP connection on fd through cfg->chains[chain] succeeded:
 * target (what the proxy was asked for) becomes the last peer for
 * "bind_peer last", bound (the CONNECT reply's BND) the proxy's outside
 * address, and chain the one later BINDs go through. */
void bind_note_connect(int fd, const struct endpoint *target,
		       const struct endpoint *bound, unsigned chain);

/* bind_note_connect() when the caller knows the address fd is connected
 * to (the first proxy's, which it connected to): no getpeername(). */
void bind_note_connect_via(int fd, const struct endpoint *target,
			   const struct endpoint *bound, unsigned chain,
			   const struct endpoint *first_proxy);

/* Register with the descriptor registry (fdops.c, at load). */
void bind_register(void);

#endif
