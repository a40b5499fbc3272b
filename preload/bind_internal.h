/* bind_internal.h — what the two halves of the BIND code share: bind.c (the
 * bind, listen and getsockname hooks and the table of pending BINDs) and
 * bind_helper.c (the helper thread that waits for second replies). Internal
 * to those two files; everyone else uses bind.h.
 *
 * Thread safety: the table (bind_list_first() and every entry's fields) is
 * read and written only with bind_lock held (bind_lock_acquire). Functions
 * marked "lock held" must be called with it held. */
#ifndef SOCKSIFY_BIND_INTERNAL_H
#define SOCKSIFY_BIND_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint.h"
#include "handshake.h"

enum bind_phase {
	BIND_BOUND,	/* BIND granted; the socket does not listen yet */
	BIND_LISTENING, /* the helper waits for the second reply */
	BIND_ARRIVED,	/* second reply in (or failed); wake-up sent */
};

struct bind_listener {
	struct bind_listener *next;
	int fd; /* the program's listening socket */
	uint64_t inode;
	int family;
	int ctrl;		   /* hidden control connection to the proxy */
	int wake;		   /* hidden wake-up connection, or -1 */
	struct endpoint wake_addr; /* its local address */
	enum bind_phase phase;
	int error;	      /* positive errno of the second reply */
	struct endpoint bnd;  /* what getsockname() reports */
	struct endpoint peer; /* the remote host, once arrived */
	struct handshake hs;  /* receives the second reply */
};

/* bind.c: the table and its lock. */
void bind_lock_acquire(void);
void bind_lock_release(void);
/* True in a signal handler that interrupted this thread inside bind_lock
 * (taking, holding or letting it go): the caller does without the lock
 * (bind.c says how). */
bool bind_reentered(void);
/* The first entry of the table, to walk it by ->next (lock held). */
struct bind_listener *bind_list_first(void);
/* Move fd out of the program's way and mark it internal (hidden.h);
 * returns the fd to use. */
int bind_hide(int fd);
/* True when ep is 0.0.0.0 or ::. */
bool bind_is_wildcard(const struct endpoint *ep);

/* bind_helper.c: tell the helper the table changed, starting it when needed
 * (lock held). */
void bind_helper_kick(void);
/* bind_helper.c: when from is the helper's own wake-up eventfd (hidden
 * too), it now lives at to; returns true (lock held). */
bool bind_helper_moved(int from, int to);
/* bind_helper.c: the fork handlers (the registry calls them, fdreg.h). */
void bind_fork_prepare(void);
void bind_fork_parent(void);
void bind_fork_child(void);

#endif
