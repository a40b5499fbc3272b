/* async.h — asynchronous SOCKS handshakes for non-blocking connect() (issue
 * 6). Internal to preload/.
 *
 * connect() on a non-blocking proxied TCP socket starts the TCP connect to
 * the proxy and returns EINPROGRESS; one lazily started helper thread drives
 * the handshake on a private duplicate of the socket. Meanwhile the
 * program's own descriptor looks like a TCP connect in progress:
 *  - its registrations in the program's epoll sets are kept with the
 *    readiness bits masked out (those made before connect() are found in
 *    /proc/self/fdinfo of every epoll set, unless the socket is known to be
 *    in none (async_epoll.c); later ones pass through our epoll_ctl hook),
 *    and restored with EPOLL_CTL_MOD at the end, which
 *    makes the kernel evaluate and queue the event (edge-triggered waiters
 *    are woken);
 *  - poll/ppoll/select/pselect wait on an eventfd in its place;
 *  - read/write and friends return EAGAIN (or wait, when blocking);
 *  - getsockopt(SO_ERROR) gives 0 while it runs, the mapped error once
 *    after a failure; getpeername gives ENOTCONN.
 * On failure the socket is dissolved (connect to AF_UNSPEC), so it polls
 * OUT|HUP like a failed connect, and the first read/write or SO_ERROR
 * reports the error once.
 *
 * Cost when no handshake is in flight: async_idle() — one atomic load — at
 * the top of every hook that cares. */
#ifndef SOCKSIFY_ASYNC_H
#define SOCKSIFY_ASYNC_H

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "endpoint.h"
#include "group.h"
#include "tunnel.h"
#include "hooks.h"

/* Records alive (running, or failed with the error not yet reported). */
extern _Atomic int async_live;

static inline bool async_idle(void)
{
	return atomic_load_explicit(&async_live, memory_order_acquire) == 0;
}

/* Start the asynchronous path on the program's socket fd, through the
 * first chain of plan (path: its hops and the plan's deadline limit); when
 * it fails for a reason of its own the next chains are tried in turn, in
 * the background too (domain: fd's family, for their addresses); choice
 * is the rule's, for the log. race: the plan's chains race in parallel
 * instead, each after the first on an extra socket (async_race.c; the
 * caller checked that fd is not bound to a local address). proxy/len
 * is the first chain's first proxy's address in fd's family; asked is what the
 * program asked for (recorded for getpeername), target what the proxy is asked
 * for. Returns ASYNC_STARTED when started (connect() must return
 * -1/EINPROGRESS), 0 when it cannot be done asynchronously (the caller takes
 * the synchronous path), or -errno when the TCP connect to the proxy failed
 * at once or the process has no descriptor left for the background
 * handshake (-EMFILE, -ENFILE: a non-blocking connect fails rather than
 * blocking). */
#define ASYNC_STARTED 1
int async_connect_start(int fd, const struct config *cfg,
			const struct route_choice *choice,
			const struct group_plan *plan,
			const struct tunnel_path *path, int domain,
			const struct sockaddr *proxy, socklen_t len,
			const struct endpoint *asked,
			const struct endpoint *target, bool race);

/* What connect() on fd must do before anything else: 0 (nothing to do:
 * no record, or a failed record which is now forgotten), or -EALREADY while
 * a handshake runs on fd. */
int async_connect_again(int fd);

/* The gate of the data calls on fd: 0 to go on to libc, or -errno to fail
 * with (EAGAIN while the handshake runs and the call must not block, the
 * failed handshake's error once). A blocking call waits for the end.
 * dontwait: the call's flags asked for MSG_DONTWAIT. */
int async_io_gate(int fd, bool dontwait);

/* getsockopt(SO_ERROR) on fd: HOOK_PASS to ask the kernel, or the value
 * to report (0 while the handshake runs or after it succeeded, the failed
 * handshake's positive errno once). */
int async_so_error(int fd);

/* True while fd's handshake runs or failed unreported (getpeername must say
 * ENOTCONN). */
bool async_not_connected(int fd);

/* Descriptor bookkeeping: fd is about to close; to became a copy of from. */
void async_fd_closing(int fd);
void async_fd_closing_range(unsigned first, unsigned last);
void async_fd_copied(int from, int to);

/* Around every hold of sets_lock, async_lock, and bind_lock (which the
 * handshake thread takes while it holds async_lock): enter before the lock
 * is asked for, leave after it is let go. While any is counted, a signal
 * handler notes its calls instead of waiting for async_lock
 * (async_internal.h); the last leave applies what it noted. */
void async_held_enter(void);
void async_held_leave(void);

/* Register with the descriptor registry (fdops.c, at load): the calls
 * above, and the fork handlers. */
void async_register(void);

/* Wait until no handshake is in flight (each ends by its deadline), so
 * that an exec'd image inherits only connected or failed sockets. Callers
 * check async_idle() first; never call it from a vfork child. */
void async_wait_settled(void);

/* epoll_ctl for fd while its handshake runs: HOOK_PASS to pass the call to
 * libc, else 0 or -errno. */
int async_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);

/* ---- between async.c, async_epoll.c and async_poll.c ---- */

/* One registration of the program's socket in a program's epoll set. */
struct async_reg {
	int epfd, tfd;
	struct epoll_event ev; /* the program's own interest */
};

/* Readiness bits removed while a handshake runs. */
#define ASYNC_EPOLL_READINESS                                                  \
	(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLRDNORM |            \
	 EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG)

/* Record epfd as an epoll set (from the epoll_create hooks). */
void async_epoll_note(int epfd);

/* What the library knows of the program's socket fd: it is in no epoll
 * set (fresh_socket, from the socket() hook), or it may be (forget*: fd was
 * named to epoll_ctl, duplicated or closed; every descriptor at fork). */
void async_epoll_fresh_socket(int fd);
void async_epoll_forget(int fd);
void async_epoll_forget_range(unsigned first, unsigned last);
void async_epoll_forget_all(void);
bool async_epoll_clean(int fd);
/* to became a copy of from (dup and friends): both forgotten; when from is
 * an epoll set, the registrations kept for clean sockets stop being used. */
void async_epoll_copied(int from, int to);

/* The program's descriptors [first, last] are about to close (close,
 * close_range, closefrom, or dup2/dup3 onto one): when one of them is a
 * noted epoll set, its registrations leave every record, and the locks
 * (sets_lock, then async_lock) stay held until async_epoll_sets_closed(),
 * which the caller calls right after the real call; returns true then.
 * False (nothing held) when none is a noted set, or in a vfork child. */
bool async_epoll_sets_closing(unsigned first, unsigned last);
/* fd is a noted epoll set (one bit: the cheap test first). */
bool async_epoll_is_set(int fd);
void async_epoll_sets_closed(void);

/* Held (shared) by a connect from its first look at the socket's epoll
 * registrations until its record holds them. */
void async_epoll_hold(void);
void async_epoll_release(void);

/* sets_lock across fork (before async_lock; async.c's fork handlers). */
void async_epoll_fork_prepare(void);
void async_epoll_fork_parent(void);
void async_epoll_fork_child(void);

/* From async_epoll_sets_closing() (sets_lock held): take async_lock and
 * drop every record's registrations in the sets [first, last];
 * async_sets_closed() lets async_lock go. */
void async_sets_closing(unsigned first, unsigned last);
void async_sets_closed(void);
/* The same from a signal handler that interrupted the subsystem (no lock
 * taken): applied when its thread lets async_lock go. */
void async_sets_closing_deferred(unsigned first, unsigned last);
/* True when fd is no epoll set known here: a registration recorded in it
 * before that was in a set closed since (by a signal handler: the others
 * cannot close one while a connect or the records hold it). */
bool async_epoll_set_gone(int fd);

/* Mask the registrations of the program's socket fd made before its
 * connect(): none when fd is clean, else found by
 * async_epoll_mask_existing() (the scan). Same returns. */
int async_epoll_mask_socket(int fd, struct async_reg *regs, int cap);

/* Find the registrations of the socket with inode ino in every known epoll
 * set and mask them. Fills regs (up to cap) and returns how many, or -errno
 * when one cannot be masked (those already masked are restored). */
int async_epoll_mask_existing(unsigned long ino, struct async_reg *regs,
			      int cap);

/* Give each registration its own interest back (errors ignored: a set or a
 * descriptor may be gone). */
void async_epoll_restore(const struct async_reg *regs, int count);

/* For the poll hooks: when fd's handshake runs, take a reference on its
 * record and return an eventfd that turns readable at its end; else -1.
 * *token receives what async_poll_release() needs. ASYNC_POLL_NEVER (no
 * reference taken) from a signal handler that interrupted the subsystem:
 * fd may be in its handshake, and is not ready while the handler runs. */
#define ASYNC_POLL_NEVER (-2)
int async_poll_substitute(int fd, int *token);
void async_poll_release(int token);

#endif
