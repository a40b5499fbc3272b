/* fdops.c — descriptor bookkeeping: close() and close_range() forget a
 * descriptor's state; dup(), dup2(), dup3() and fcntl(F_DUPFD*) give the new
 * descriptor a copy of it; socket(), socketpair(), accept() and accept4()
 * clear whatever a stale entry says about the numbers they return. Every
 * call goes on to libc, and its result and errno are returned as libc gave
 * them.
 *
 * Our hidden UDP control descriptors (FDTAB_INTERNAL) are protected: close()
 * of one fails with EBADF and closes nothing, close_range() and closefrom()
 * skip them, dup2()/dup3() onto one moves ours out of the way first.
 * Closing a UDP socket that owns an association closes its control fd.
 *
 * The entry is cleared before the real close: once libc closes the number,
 * another thread may get it back from socket() and record a new entry that a
 * later clear would wipe. Entries also carry the socket's inode, so a stale
 * one is never believed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include <sched.h>

#include "async.h"
#include "bind.h"
#include "fdtab.h"
#include "hooks.h"
#include "real.h"
#include "udp.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* Give to a copy of from's entry after a successful duplication, keeping
 * errno as libc left it (the copy looks at the socket's inode). */
static void fdops_copy(int from, int to)
{
	int saved_errno = errno;

	/* A handshake in flight has no fdtab entry yet: tell async.c first. */
	if ((fdtab_flags(from) | fdtab_flags(to)) || !async_idle()) {
		if (hook_in_vfork_child())
			return; /* a vfork child: hands off our tables */
		if (!async_idle())
			async_fd_copied(from, to);
		fdtab_copy(from, to);
	}
	errno = saved_errno;
}

/* The program's close() of one of our descriptors fails as if it were not
 * open: it never was, as far as the program knows. */
SOCKSIFY_EXPORT int close(int fd)
{
	uint32_t flags;

	real_init();
	flags = fdtab_flags(fd);
	if ((flags || bind_active() || !async_idle()) &&
	    hook_in_vfork_child())
		return real.close(fd); /* a vfork child: hands off our tables */
	if (flags & FDTAB_INTERNAL) {
		errno = EBADF; /* not the program's descriptor */
		return -1;
	}
	if (!async_idle())
		async_fd_closing(fd);
	if (flags & FDTAB_UDP_ASSOC)
		udp_release(fd);
	bind_forget(fd);
	fdtab_clear(fd);
	return real.close(fd);
}

/* Close [lo, hi] with flags, forgetting the entries; flags' UNSHARE goes
 * with the first real call only (*unshared records it). */
static int close_segment(unsigned lo, unsigned hi, int flags, bool *unshared)
{
	int rc;

	fdtab_clear_range(lo, hi);
	rc = real.close_range(lo, hi, *unshared ? flags & ~(int)CLOSE_RANGE_UNSHARE
						: flags);
	if (rc == 0)
		*unshared = true;
	return rc;
}

/* close_range() around our hidden descriptors: the range is cut into the
 * pieces between them. Associations owned by sockets in the range end. */
static int close_range_split(unsigned first, unsigned last, int flags)
{
	bool unshared = !(flags & CLOSE_RANGE_UNSHARE);
	unsigned lo = first;
	int hidden, rc = 0;

	udp_release_range(first, last);
	bind_forget_range(first, last);
	if (!async_idle())
		async_fd_closing_range(first, last);
	while (rc == 0 && lo <= last &&
	       (hidden = fdtab_next(lo, last, FDTAB_INTERNAL)) >= 0) {
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
	real_init();
	if (!real.close_range) {
		errno = ENOSYS;
		return -1;
	}
	if ((flags & CLOSE_RANGE_CLOEXEC) || first > last ||
	    ((fdtab_next(first, last, ~0u) >= 0 || bind_active() ||
	      !async_idle()) &&
	     hook_in_vfork_child()))
		return real.close_range(first, last, flags);
	return close_range_split(first, last, flags);
}

/* glibc's closefrom() calls close_range() internally, past our hook, so it
 * is replaced here; without close_range (old kernels) libc's own is used. */
SOCKSIFY_EXPORT void closefrom(int lowfd)
{
	int saved_errno = errno;

	real_init();
	if (lowfd < 0)
		lowfd = 0;
	if (real.close_range &&
	    (fdtab_next((unsigned)lowfd, ~0U, ~0u) >= 0 || bind_active() ||
	     !async_idle()) &&
	    hook_in_vfork_child()) {
		real.close_range((unsigned)lowfd, ~0U, 0);
		errno = saved_errno;
		return;
	}
	if (real.close_range &&
	    close_range_split((unsigned)lowfd, ~0U, 0) == 0) {
		errno = saved_errno;
		return;
	}
	errno = saved_errno;
	if (real.closefrom)
		real.closefrom(lowfd);
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

/* Before fd2 is replaced: move our hidden fd away from it, or end the
 * association of the socket that goes (not in a vfork child). */
static void fdops_before_dup_onto(int fd, int fd2)
{
	uint32_t flags = fdtab_flags(fd2);

	if (fd == fd2 ||
	    (!(flags & (FDTAB_INTERNAL | FDTAB_UDP_ASSOC)) && !bind_active() &&
	     async_idle()) ||
	    hook_in_vfork_child())
		return;
	/* fd2 really closes only when the dup succeeds, i.e. fd is open. */
	if (!async_idle() && real.fcntl(fd, F_GETFD) >= 0)
		async_fd_closing(fd2);
	if (flags & FDTAB_BIND_CONTROL)
		bind_relocate_internal(fd2);
	else if (flags & FDTAB_INTERNAL)
		udp_relocate_internal(fd2);
	else if (flags & FDTAB_UDP_ASSOC)
		udp_release(fd2);
	bind_forget(fd2); /* the program replaces a BIND listener */
}

/* dup2(fd, fd) changes nothing, and neither does our table. */
SOCKSIFY_EXPORT int dup2(int fd, int fd2)
{
	int rc;

	real_init();
	fdops_before_dup_onto(fd, fd2);
	rc = real.dup2(fd, fd2);
	if (rc >= 0 && fd != fd2)
		fdops_copy(fd, fd2);
	return rc;
}

SOCKSIFY_EXPORT int dup3(int fd, int fd2, int flags)
{
	int rc;

	real_init();
	fdops_before_dup_onto(fd, fd2);
	rc = real.dup3(fd, fd2, flags);
	if (rc >= 0)
		fdops_copy(fd, fd2);
	return rc;
}

/* After a successful fcntl: F_DUPFD and F_DUPFD_CLOEXEC made a copy. */
static int fcntl_after(int fd, int cmd, int rc)
{
	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		fdops_copy(fd, rc);
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
	return fcntl_after(fd, cmd, real.fcntl_plain(fd, cmd, arg));
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
	return fcntl_after(fd, cmd, real.fcntl(fd, cmd, arg));
}

/* A descriptor the kernel just handed out: any entry for its number is
 * stale (its old file was closed behind our back). Cheap when empty. */
static int fdops_fresh(int fd)
{
	if (fd >= 0)
		fdtab_clear(fd);
	return fd;
}

SOCKSIFY_EXPORT int socket(int domain, int type, int protocol)
{
	real_init();
	return fdops_fresh(real.socket(domain, type, protocol));
}

SOCKSIFY_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	int rc;

	real_init();
	rc = real.socketpair(domain, type, protocol, sv);
	if (rc == 0) {
		fdops_fresh(sv[0]);
		fdops_fresh(sv[1]);
	}
	return rc;
}
