/* fdops.c — descriptor bookkeeping: close() and close_range() forget a
 * descriptor's state; dup(), dup2(), dup3() and fcntl(F_DUPFD*) give the new
 * descriptor a copy of it. Every call goes on to libc unchanged, and its
 * result and errno are returned as libc gave them.
 *
 * The entry is cleared before the real close: once libc closes the number,
 * another thread may get it back from socket() and record a new entry that a
 * later clear would wipe. Entries also carry the socket's inode, so a stale
 * one is never believed. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "bind.h"
#include "fdtab.h"
#include "real.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Give to a copy of from's entry after a successful duplication, keeping
 * errno as libc left it (the copy looks at the socket's inode). */
static void fdops_copy(int from, int to)
{
	int saved_errno = errno;

	fdtab_copy(from, to);
	errno = saved_errno;
}

/* True when fd is one of socksify's own descriptors (FDTAB_INTERNAL). */
static bool fdops_internal(int fd)
{
	struct fdtab_entry entry;

	return fdtab_get(fd, &entry) == 0 && (entry.flags & FDTAB_INTERNAL);
}

/* The program's close() of one of our descriptors fails as if it were not
 * open: it never was, as far as the program knows. */
SOCKSIFY_EXPORT int close(int fd)
{
	real_init();
	if (fdops_internal(fd)) {
		errno = EBADF;
		return -1;
	}
	bind_forget(fd);
	fdtab_clear(fd);
	return real.close(fd);
}

/* CLOSE_RANGE_CLOEXEC only marks descriptors close-on-exec: they stay open,
 * and so does what we know about them. */
SOCKSIFY_EXPORT int close_range(unsigned int first, unsigned int last,
				int flags)
{
	real_init();
	if (!real.close_range) {
		errno = ENOSYS;
		return -1;
	}
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last) {
		bind_forget_range(first, last);
		fdtab_clear_range(first, last);
	}
	return real.close_range(first, last, flags);
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

/* dup2(fd, fd) changes nothing, and neither does our table. */
SOCKSIFY_EXPORT int dup2(int fd, int fd2)
{
	int rc;

	real_init();
	if (fd != fd2)
		bind_forget(fd2);
	rc = real.dup2(fd, fd2);
	if (rc >= 0 && fd != fd2)
		fdops_copy(fd, fd2);
	return rc;
}

SOCKSIFY_EXPORT int dup3(int fd, int fd2, int flags)
{
	int rc;

	real_init();
	if (fd != fd2)
		bind_forget(fd2);
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
