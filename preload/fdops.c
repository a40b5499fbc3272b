/* fdops.c — the descriptor hooks: close(), close_range(), closefrom(),
 * dup(), dup2(), dup3(), fcntl(F_DUPFD*, F_SETFL), ioctl(FIONBIO), socket()
 * and socketpair(). Each
 * decides, tells the descriptor registry (common/fdreg.h), which tells
 * every subsystem holding per-descriptor state, and calls libc; the result
 * and errno are libc's, except that close() of one of our hidden
 * descriptors (common/hidden.h) fails with EBADF.
 *
 * Registration is here too, at load: the subsystems in the order of their
 * locks (see "Lock order" below), and the registry's fork handlers.
 *
 * Lock order. A thread that holds more than one of socksify's locks took
 * them in this order, and fork() takes them all in it (prepare) and lets
 * them go in the reverse order (parent, child):
 *   0. sets_lock (preload/async_epoll.c), a read-write lock — the epoll
 *      sets named in handshake records: shared from a connect's first look
 *      at its socket's registrations until its record holds them,
 *      exclusive around the real close of a noted epoll set (with
 *      async_lock, taken after the registry was told);
 *   1. async_lock (preload/async_record.c) — the asynchronous handshakes;
 *      held while a finished handshake tells bind.c (bind_note_connect);
 *   2. bind_lock (preload/bind.c) — the pending BINDs.
 * fdtab and the hidden descriptors take no lock; UDP holds none. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "async.h"
#include "bind.h"
#include "fdreg.h"
#include "fdtab.h"
#include "hidden.h"
#include "hooks.h"
#include "real.h"
#include "resolve.h"
#include "state.h"
#include "udp.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* After a successful duplication: to is a copy of from. errno stays as
 * libc left it (the registry looks at the socket's inode). */
static void fdops_copy(int from, int to)
{
	int saved_errno = errno;

	async_epoll_copied(from, to);
	fdreg_copied(from, to);
	errno = saved_errno;
}

/* The program's close() of one of our descriptors fails as if it were not
 * open: it never was, as far as the program knows. */
SOCKSIFY_EXPORT int close(int fd)
{
	int rc;

	real_init();
	async_epoll_forget(fd);
	rc = fdreg_close(fd);
	if (rc < 0)
		return (int)hook_return(rc);
	if (!async_epoll_is_set(fd) ||
	    !async_epoll_sets_closing((unsigned)fd, (unsigned)fd))
		return real.close(fd);
	rc = real.close(fd);
	async_epoll_sets_closed();
	return rc;
}

/* Close [lo, hi] with flags, forgetting the entries; flags' UNSHARE goes
 * with the first real call only (*unshared records it). */
static int close_segment(unsigned lo, unsigned hi, int flags, bool *unshared)
{
	int rc;

	fdtab_clear_range(lo, hi);
	rc = real.close_range(
	    lo, hi, *unshared ? flags & ~(int)CLOSE_RANGE_UNSHARE : flags);
	if (rc == 0)
		*unshared = true;
	return rc;
}

/* close_range() around our hidden descriptors: the range is cut into the
 * pieces between them (the registry was told already). */
static int close_range_split(unsigned first, unsigned last, int flags)
{
	bool unshared = !(flags & CLOSE_RANGE_UNSHARE);
	unsigned lo = first;
	int hidden, rc = 0;

	while (rc == 0 && lo <= last && (hidden = hidden_next(lo, last)) >= 0) {
		if ((unsigned)hidden > lo)
			rc = close_segment(lo, (unsigned)hidden - 1, flags,
					   &unshared);
		if ((unsigned)hidden == last)
			return rc == 0 && !unshared ? unshare(CLONE_FILES) : rc;
		lo = (unsigned)hidden + 1;
	}
	if (rc == 0 && lo <= last)
		rc = close_segment(lo, last, flags, &unshared);
	if (rc == 0 && !unshared)
		rc = unshare(CLONE_FILES);
	return rc;
}

/* CLOSE_RANGE_CLOEXEC only marks descriptors close-on-exec: they stay open,
 * and so does what we know about them (ours are close-on-exec already). */
SOCKSIFY_EXPORT int close_range(unsigned int first, unsigned int last,
				int flags)
{
	int rc = 0, saved_errno;
	bool sets;

	real_init();
	if (!real.close_range) {
		errno = ENOSYS;
		return -1;
	}
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		async_epoll_forget_range(first, last);
	if ((flags & CLOSE_RANGE_CLOEXEC) || !fdreg_close_range(first, last))
		rc = 1;
	/* UNSHARE closes in the caller's new table only: the helper's
	 * (everyone else's) keeps the sets. */
	sets = !(flags & (CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) &&
	       first <= last && async_epoll_sets_closing(first, last);
	if (rc)
		rc = real.close_range(first, last, flags);
	else
		rc = close_range_split(first, last, flags);
	if (sets) {
		saved_errno = errno;
		async_epoll_sets_closed();
		errno = saved_errno;
	}
	return rc;
}

/* closefrom() once the registry was told (split: it holds hidden
 * descriptors in the range). */
static void closefrom_real(int lowfd, bool split)
{
	if (real.close_range && !split) {
		real.close_range((unsigned)lowfd, ~0U, 0);
		return;
	}
	if (real.close_range && close_range_split((unsigned)lowfd, ~0U, 0) == 0)
		return;
	if (real.closefrom)
		real.closefrom(lowfd);
}

/* glibc's closefrom() calls close_range() internally, past our hook, so it
 * is replaced here; without close_range (old kernels) libc's own is used. */
SOCKSIFY_EXPORT void closefrom(int lowfd)
{
	int saved_errno = errno;
	bool split, sets;

	real_init();
	if (lowfd < 0)
		lowfd = 0;
	async_epoll_forget_range((unsigned)lowfd, ~0U);
	split = real.close_range && fdreg_close_range((unsigned)lowfd, ~0U);
	sets = async_epoll_sets_closing((unsigned)lowfd, ~0U);
	closefrom_real(lowfd, split);
	if (sets)
		async_epoll_sets_closed();
	errno = saved_errno;
}

SOCKSIFY_EXPORT int dup(int fd)
{
	int copy;

	real_init();
	copy = real.dup(fd);
	if (copy >= 0)
		fdops_copy(fd, copy);
	return copy;
}

/* Before dup2() or dup3() onto fd2. Returns 1 when one of our hidden
 * descriptors moved away from fd2, 0 when none was there (errno as the
 * program had it either way), or -1 with errno set when one of ours is at
 * fd2 and cannot move now (fdreg_replacing): the program's call must then
 * fail without being made. *sets: fd2 is an epoll set the call replaces
 * (async_epoll_sets_closing: the caller ends with async_epoll_sets_closed).
 * The call replaces fd2 only when it works, i.e. fd is open and not fd2. */
static int dup_onto_before(int fd, int fd2, bool *sets)
{
	int saved_errno = errno;
	int moved = fdreg_replacing(fd, fd2);

	*sets = false;
	if (moved < 0) {
		errno = -moved;
		return -1;
	}
	*sets = fd != fd2 && async_epoll_is_set(fd2) &&
		real.fcntl(fd, F_GETFD) >= 0 &&
		async_epoll_sets_closing((unsigned)fd2, (unsigned)fd2);
	errno = saved_errno;
	return moved;
}

/* After dup2() or dup3() onto fd2: a copy, unless fd2 is fd (dup2(fd, fd)
 * changes nothing, and dup3(fd, fd) fails). When the call failed after ours
 * moved away, fd2 still holds our stale reference: it goes, as the program
 * expected its number to be replaced. */
static int dup_onto_after(int fd, int fd2, bool moved, bool sets, int rc)
{
	int saved_errno = errno;

	if (sets)
		async_epoll_sets_closed();
	if (rc >= 0 && fd != fd2)
		fdops_copy(fd, fd2);
	if (rc < 0 && moved)
		real.close(fd2);
	errno = saved_errno;
	return rc;
}

SOCKSIFY_EXPORT int dup2(int fd, int fd2)
{
	bool sets;
	int moved;

	real_init();
	moved = dup_onto_before(fd, fd2, &sets);
	if (moved < 0)
		return -1;
	return dup_onto_after(fd, fd2, moved > 0, sets, real.dup2(fd, fd2));
}

SOCKSIFY_EXPORT int dup3(int fd, int fd2, int flags)
{
	bool sets;
	int moved;

	real_init();
	moved = dup_onto_before(fd, fd2, &sets);
	if (moved < 0)
		return -1;
	return dup_onto_after(fd, fd2, moved > 0, sets,
			      real.dup3(fd, fd2, flags));
}

/* F_SETFL on a socket whose facts we hold: keep its blocking flag right.
 * Only this descriptor's entry learns it; another of the same open file
 * keeps the old flag, which connect() tolerates (fdreg.h). */
static void fcntl_note_flags(int fd, long flags)
{
	uint32_t facts = fdtab_flags(fd);
	int saved_errno;

	if (!(facts & FDTAB_SOCK_KIND) ||
	    !(facts & FDTAB_SOCK_NONBLOCK) == !(flags & O_NONBLOCK))
		return;
	saved_errno = errno;
	if (flags & O_NONBLOCK)
		fdtab_claim(fd, FDTAB_SOCK_NONBLOCK);
	else
		fdtab_unflag(fd, FDTAB_SOCK_NONBLOCK);
	errno = saved_errno;
}

/* After a successful fcntl: F_DUPFD and F_DUPFD_CLOEXEC made a copy;
 * F_SETFL set the flags in arg. */
static int fcntl_after(int fd, int cmd, void *arg, int rc)
{
	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fdops_copy(fd, rc);
	if (rc >= 0 && cmd == F_SETFL)
		fcntl_note_flags(fd, (long)(intptr_t)arg);
	return rc;
}

/* fcntl is variadic; like libc, read the optional argument as a pointer
 * (wide enough for an int or a pointer on every ABI) and pass it on. */
SOCKSIFY_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	real_init();
	return fcntl_after(fd, cmd, arg, real.fcntl_plain(fd, cmd, arg));
}

/* ioctl(FIONBIO) sets or clears O_NONBLOCK as F_SETFL does (CPython's
 * socket.setblocking and libuv use it): the socket's recorded blocking
 * flag follows. Every other request passes untouched. Like libc, the
 * optional argument is read as a pointer. */
SOCKSIFY_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	real_init();
	rc = real.ioctl(fd, request, arg);
	if (rc == 0 && request == FIONBIO && arg)
		fcntl_note_flags(fd, *(const int *)arg ? O_NONBLOCK : 0);
	return rc;
}

/* fcntl64 is what programs built with 64-bit file offsets call. */
SOCKSIFY_EXPORT int fcntl64(int fd, int cmd, ...);
SOCKSIFY_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	real_init();
	return fcntl_after(fd, cmd, arg, real.fcntl(fd, cmd, arg));
}

/* What socket()'s arguments say about the socket (FDTAB_SOCK_*), or 0 when
 * it is not an IPv4/IPv6 socket socksify looks at again (raw ones). The
 * kernel's default protocol of an IP stream is TCP. */
static uint32_t socket_facts(int domain, int type, int protocol)
{
	int kind = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	uint32_t facts;

	if (domain != AF_INET && domain != AF_INET6)
		return 0;
	if (kind == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP ||
				    protocol == IPPROTO_MPTCP))
		facts = FDTAB_SOCK_TCP;
	else if (kind == SOCK_DGRAM)
		facts = FDTAB_SOCK_UDP;
	else if (kind == SOCK_RAW)
		return 0;
	else
		facts = FDTAB_SOCK_UNCARRIED;
	if (domain == AF_INET6)
		facts |= FDTAB_SOCK_INET6;
	if (type & SOCK_NONBLOCK)
		facts |= FDTAB_SOCK_NONBLOCK;
	return facts;
}

/* An IP socket's entry records what its arguments say (fdreg.h), so that
 * connect() and the send hooks ask the kernel nothing about it. */
SOCKSIFY_EXPORT int socket(int domain, int type, int protocol)
{
	int saved_errno, fd;
	uint32_t facts;

	real_init();
	fd = real.socket(domain, type, protocol);
	facts = socket_facts(domain, type, protocol);
	if (fd < 0 || facts == 0)
		return fdreg_fresh(fd);
	saved_errno = errno;
	fdreg_fresh_socket(fd, facts);
	async_epoll_fresh_socket(fd); /* a new socket is in no epoll set */
	errno = saved_errno;
	return fd;
}

SOCKSIFY_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	int rc;

	real_init();
	rc = real.socketpair(domain, type, protocol, sv);
	if (rc == 0) {
		fdreg_fresh(sv[0]);
		fdreg_fresh(sv[1]);
	}
	return rc;
}

/* ---- registration ---- */

static int fdops_dup_from(int fd, int floor)
{
	int moved = real.fcntl(fd, F_DUPFD_CLOEXEC, floor);

	return moved < 0 ? -errno : moved;
}

static void fdops_close_quietly(int fd)
{
	real.close(fd);
}

static unsigned long fdops_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return (unsigned long)rl.rlim_cur;
}

static const struct hidden_io fdops_hidden_io = {
    .dup_from = fdops_dup_from,
    .close = fdops_close_quietly,
    .fd_limit = fdops_fd_limit,
};

/* Once, from real_init() (which every hook calls first, so this is done
 * even when another library's constructor calls a hook before ours runs):
 * the subsystems in lock order, then the fork handlers. pthread_atfork runs
 * prepare handlers in the reverse order of registration, so the state's
 * handler (which may load the configuration and the fake-DNS map, and so
 * make a connect) runs before the registry's takes the locks. */
void preload_register(void)
{
	hidden_init(&fdops_hidden_io);
	resolve_register(); /* a leaf lock: its prepare handler runs last */
	async_register();   /* lock order 1 */
	udp_register();
	bind_register(); /* lock order 2 */
	pthread_atfork(fdreg_fork_prepare, fdreg_fork_parent, fdreg_fork_child);
	pthread_atfork(socksify_before_fork, NULL, socksify_after_fork_child);
}

/* At load, so that the fork handlers exist before the program's threads:
 * no thread, no descriptor. */
__attribute__((constructor)) static void fdops_at_load(void)
{
	real_init();
}
