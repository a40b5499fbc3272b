/* syscall.c — calls that reach the kernel around the usual libc entry
 * points, routed back through our hooks:
 *
 * - syscall(): libuv (and so dig, node) sends and receives datagrams with
 *   syscall(SYS_sendmmsg/SYS_recvmmsg), and some programs close descriptors
 *   with syscall(SYS_close_range). Socket calls, close_range, dup2 and dup3
 *   go to the matching hook; any other number (plain close included) goes
 *   to libc untouched.
 * - The _FORTIFY_SOURCE variants (__read_chk, __recv_chk, __recvfrom_chk):
 *   a fortified program calls these instead of read/recv/recvfrom. They keep
 *   their buffer check and then take our hook.
 *
 * libc's syscall() is found with dlsym on first use, on its own rather than
 * through real_init(): a number we pass on needs nothing else from the table.
 * The library itself never calls syscall() (tests/check-selfbind.sh checks
 * common/); its own file calls go through real_sys_io. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"

typedef long syscall_fn(long number, ...);

/* glibc's report of a fortify check failure (it aborts). */
extern void __chk_fail(void) __attribute__((noreturn));

SOCKSIFY_EXPORT long syscall(long number, ...);
SOCKSIFY_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len,
				   size_t buflen);
SOCKSIFY_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len,
				   size_t buflen, int flags);
SOCKSIFY_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
				       size_t buflen, int flags,
				       struct sockaddr *sa, socklen_t *salen);

/* libc's syscall(); two threads racing here both store the same value. */
static syscall_fn *syscall_next(void)
{
	static _Atomic(syscall_fn *) next;
	syscall_fn *fn = atomic_load_explicit(&next, memory_order_acquire);

	if (!fn) {
		fn = (syscall_fn *)dlsym(RTLD_NEXT, "syscall");
		if (!fn || fn == syscall)
			abort(); /* no libc below us: nothing sane to do */
		atomic_store_explicit(&next, fn, memory_order_release);
	}
	return fn;
}

/* Descriptor calls by number. Returns 1 and sets *ret when number is one
 * of them. */
static int syscall_route_fds(long number, const long a[6], long *ret)
{
	switch (number) {
	case SYS_close_range:
		*ret = close_range((unsigned int)a[0], (unsigned int)a[1],
				   (int)a[2]);
		return 1;
	case SYS_dup3:
		*ret = dup3((int)a[0], (int)a[1], (int)a[2]);
		return 1;
#ifdef SYS_dup2
	case SYS_dup2:
		*ret = dup2((int)a[0], (int)a[1]);
		return 1;
#endif
	}
	return 0;
}

/* Sending calls by number (see syscall_route_fds). */
static int syscall_route_send(long number, const long a[6], long *ret)
{
	switch (number) {
	case SYS_connect:
		*ret = connect((int)a[0], (const struct sockaddr *)a[1],
			       (socklen_t)a[2]);
		return 1;
	case SYS_sendto:
		*ret = sendto((int)a[0], (const void *)a[1], (size_t)a[2],
			      (int)a[3], (const struct sockaddr *)a[4],
			      (socklen_t)a[5]);
		return 1;
	case SYS_sendmsg:
		*ret = sendmsg((int)a[0], (const struct msghdr *)a[1],
			       (int)a[2]);
		return 1;
	case SYS_sendmmsg:
		*ret = sendmmsg((int)a[0], (struct mmsghdr *)a[1],
				(unsigned int)a[2], (int)a[3]);
		return 1;
	}
	return 0;
}

/* Receiving calls by number (see syscall_route_fds). */
static int syscall_route_recv(long number, const long a[6], long *ret)
{
	switch (number) {
	case SYS_recvfrom:
		*ret = recvfrom((int)a[0], (void *)a[1], (size_t)a[2],
				(int)a[3], (struct sockaddr *)a[4],
				(socklen_t *)a[5]);
		return 1;
	case SYS_recvmsg:
		*ret = recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
		return 1;
	case SYS_recvmmsg:
		*ret = recvmmsg((int)a[0], (struct mmsghdr *)a[1],
				(unsigned int)a[2], (int)a[3],
				(struct timespec *)a[4]);
		return 1;
	}
	return 0;
}

/* Like libc's, this reads six arguments whatever the number takes: the
 * unused ones are whatever the registers hold, and are never looked at. */
long syscall(long number, ...)
{
	va_list ap;
	long a[6], ret;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (syscall_route_send(number, a, &ret) ||
	    syscall_route_recv(number, a, &ret) ||
	    syscall_route_fds(number, a, &ret))
		return ret;
	return syscall_next()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The fortified forms: the same buffer check as libc, then our hook. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__chk_fail();
	return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *sa, socklen_t *salen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, sa, salen);
}
