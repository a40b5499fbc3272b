/* async_poll.c — poll, ppoll, select and pselect while handshakes run: a
 * descriptor whose handshake runs is replaced, for the wait, by an eventfd
 * that turns readable when the handshake ends; then the wait is made again
 * with the real descriptor and the time left. Other descriptors are polled
 * as given. With no handshake in flight each hook checks one counter. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "async.h"
#include "hooks.h"
#include "netio.h"
#include "real.h"

#define POLL_STACK  64	 /* entries waited on without malloc */
#define POLL_ROUNDS 1000 /* bound on re-waits; one per ended handshake */

/* A wait's deadline in netio_now_ms() time; UINT64_MAX for none. */
static uint64_t wait_deadline(const struct timespec *ts)
{
	if (!ts)
		return UINT64_MAX;
	return netio_now_ms() + (uint64_t)ts->tv_sec * 1000u +
	       ((uint64_t)ts->tv_nsec + 999999u) / 1000000u;
}

static struct timespec *wait_left(uint64_t deadline, struct timespec *ts)
{
	int ms;

	if (deadline == UINT64_MAX)
		return NULL;
	ms = netio_remaining_ms(deadline);
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
	return ts;
}

/* Copy fds into work, substituting running handshakes (tokens[i] >= 0).
 * Returns how many were substituted. */
static int poll_substitute(const struct pollfd *fds, nfds_t n,
			   struct pollfd *work, int *tokens)
{
	int subs = 0;

	for (nfds_t i = 0; i < n; i++) {
		work[i] = fds[i];
		work[i].revents = 0;
		tokens[i] = -1;
		if (fds[i].fd < 0)
			continue;
		int efd = async_poll_substitute(fds[i].fd, &tokens[i]);

		if (efd == ASYNC_POLL_NEVER) {
			work[i].fd = -1; /* poll skips it: never ready */
		} else if (efd >= 0) {
			work[i].fd = efd;
			work[i].events = POLLIN;
			subs++;
		}
	}
	return subs;
}

/* Release the references; true when a substituted entry fired (a
 * handshake ended: the wait must be made again). */
static bool poll_release(struct pollfd *work, nfds_t n, const int *tokens)
{
	bool ended = false;

	for (nfds_t i = 0; i < n; i++) {
		if (tokens[i] < 0)
			continue;
		ended |= work[i].revents != 0;
		work[i].revents = 0;
		async_poll_release(tokens[i]);
	}
	return ended;
}

/* One wait with substitutions. Returns the count of ready entries or
 * -errno; *again is set when a handshake ended and the wait must be made
 * again. */
static int poll_once(struct pollfd *fds, nfds_t n, struct pollfd *work,
		     int *tokens, const struct timespec *ts,
		     const sigset_t *mask, bool *again)
{
	int rc, count = 0;

	poll_substitute(fds, n, work, tokens);
	rc = real.ppoll(work, n, ts, mask);
	if (rc < 0)
		rc = -errno;
	*again = poll_release(work, n, tokens) && rc > 0;
	if (rc < 0 || *again)
		return rc;
	for (nfds_t i = 0; i < n; i++) {
		fds[i].revents = work[i].revents;
		count += work[i].revents != 0;
	}
	return count;
}

/* The wait, with fds of running handshakes waiting for their end.
 * Returns the count of ready entries or -errno. */
static int poll_async(struct pollfd *fds, nfds_t n, const struct timespec *ts,
		      const sigset_t *mask)
{
	struct pollfd stack_work[POLL_STACK], *work = stack_work;
	int stack_tokens[POLL_STACK], *tokens = stack_tokens;
	uint64_t deadline = wait_deadline(ts);
	struct timespec left;
	bool again = true;
	int rc = 0;

	if (n > POLL_STACK) {
		work = malloc(n * sizeof *work);
		tokens = malloc(n * sizeof *tokens);
		if (!work || !tokens) {
			free(work);
			free(tokens);
			return -ENOMEM;
		}
	}
	for (int round = 0; again && round < POLL_ROUNDS; round++)
		rc = poll_once(fds, n, work, tokens, wait_left(deadline, &left),
			       mask, &again);
	if (n > POLL_STACK) {
		free(work);
		free(tokens);
	}
	return again ? 0 : rc;
}

/* True when one of fds has a record (a lock-free look first). */
static bool poll_concerned(const struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (fds[i].fd >= 0 && async_not_connected(fds[i].fd))
			return true;
	return false;
}

SOCKSIFY_EXPORT int ppoll(struct pollfd *fds, nfds_t n,
			  const struct timespec *ts, const sigset_t *mask)
{
	real_init();
	if (async_idle() || !poll_concerned(fds, n))
		return real.ppoll(fds, n, ts, mask);
	return (int)hook_return(poll_async(fds, n, ts, mask));
}

SOCKSIFY_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct timespec ts = {.tv_sec = timeout_ms / 1000,
			      .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};

	real_init();
	if (async_idle() || !poll_concerned(fds, n))
		return real.poll(fds, n, timeout_ms);
	return (int)hook_return(
	    poll_async(fds, n, timeout_ms < 0 ? NULL : &ts, NULL));
}

/* ---- select: converted to a poll when it concerns a handshake ---- */

static bool select_concerned(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) ||
		     (e && FD_ISSET(fd, e))) &&
		    async_not_connected(fd))
			return true;
	return false;
}

/* The sets as poll entries; returns how many. */
static nfds_t select_to_poll(int nfds, fd_set *r, fd_set *w, fd_set *e,
			     struct pollfd *fds)
{
	nfds_t n = 0;

	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
		short ev = (short)((r && FD_ISSET(fd, r) ? POLLIN : 0) |
				   (w && FD_ISSET(fd, w) ? POLLOUT : 0) |
				   (e && FD_ISSET(fd, e) ? POLLPRI : 0));

		if (ev)
			fds[n++] = (struct pollfd){.fd = fd, .events = ev};
	}
	return n;
}

/* Back to sets the way the kernel's select reports. Returns the count of
 * bits set, or -EBADF for a closed descriptor. */
static int poll_to_select(const struct pollfd *fds, nfds_t n, fd_set *r,
			  fd_set *w, fd_set *e)
{
	int count = 0;

	if (r)
		FD_ZERO(r);
	if (w)
		FD_ZERO(w);
	if (e)
		FD_ZERO(e);
	for (nfds_t i = 0; i < n; i++) {
		short rev = fds[i].revents;
		int fd = fds[i].fd;

		if (rev & POLLNVAL)
			return -EBADF;
		if ((fds[i].events & POLLIN) &&
		    (rev & (POLLIN | POLLHUP | POLLERR)))
			FD_SET(fd, r), count++;
		if ((fds[i].events & POLLOUT) && (rev & (POLLOUT | POLLERR)))
			FD_SET(fd, w), count++;
		if ((fds[i].events & POLLPRI) && (rev & POLLPRI))
			FD_SET(fd, e), count++;
	}
	return count;
}

/* Returns the count of bits set or -errno. */
static int select_async(int nfds, fd_set *r, fd_set *w, fd_set *e,
			const struct timespec *ts, const sigset_t *mask)
{
	struct pollfd fds[FD_SETSIZE];
	nfds_t n = select_to_poll(nfds, r, w, e, fds);
	int rc = poll_async(fds, n, ts, mask);

	if (rc < 0)
		return rc;
	return poll_to_select(fds, n, r, w, e);
}

SOCKSIFY_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
			   struct timeval *tv)
{
	struct timespec ts;
	uint64_t deadline;
	int rc;

	real_init();
	if (async_idle() || !select_concerned(nfds, r, w, e))
		return real.select(nfds, r, w, e, tv);
	if (tv) {
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000L;
	}
	deadline = wait_deadline(tv ? &ts : NULL);
	rc = select_async(nfds, r, w, e, tv ? &ts : NULL, NULL);
	if (tv && wait_left(deadline, &ts)) { /* Linux reports the time left */
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return (int)hook_return(rc);
}

SOCKSIFY_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
			    const struct timespec *ts, const sigset_t *mask)
{
	real_init();
	if (async_idle() || !select_concerned(nfds, r, w, e))
		return real.pselect(nfds, r, w, e, ts, mask);
	return (int)hook_return(select_async(nfds, r, w, e, ts, mask));
}
