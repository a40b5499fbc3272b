/* syscall.c — calls that reach the kernel around the usual libc entry
 * points, routed back through our hooks:
 *
 * - syscall(): libuv (and so dig, node) sends and receives datagrams with
 *   syscall(SYS_sendmmsg/SYS_recvmmsg), and some programs close descriptors
 *   with syscall(SYS_close_range). Socket calls, close_range, dup2 and dup3
 *   go to the matching hook; any other number (plain close included) goes
 *   to libc untouched.
 *
 * (The _FORTIFY_SOURCE forms __read_chk, __recv_chk and __recvfrom_chk sit
 * beside their plain hooks in recv.c.)
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

#include "hooks.h"
#include "real.h"

typedef long syscall_fn(long number, ...);

/* Arguments libc's syscall() reads, whatever the number takes. */
#define SYSCALL_ARGS 6

SOCKSIFY_EXPORT long syscall(long number, ...);

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

/* Descriptor calls by number: the hook's result when number is one of
 * them (libc's convention: -1 with errno set on failure), else HOOK_PASS. */
static long syscall_route_fds(long number, const long a[SYSCALL_ARGS])
{
	switch (number) {
	case SYS_close_range:
		return close_range((unsigned int)a[0], (unsigned int)a[1],
				   (int)a[2]);
	case SYS_dup3:
		return dup3((int)a[0], (int)a[1], (int)a[2]);
#ifdef SYS_dup2
	case SYS_dup2:
		return dup2((int)a[0], (int)a[1]);
#endif
	}
	return HOOK_PASS;
}

/* Sending calls by number (see syscall_route_fds). */
static long syscall_route_send(long number, const long a[SYSCALL_ARGS])
{
	switch (number) {
	case SYS_connect:
		return connect((int)a[0], (const struct sockaddr *)a[1],
			       (socklen_t)a[2]);
	case SYS_sendto:
		return sendto((int)a[0], (const void *)a[1], (size_t)a[2],
			      (int)a[3], (const struct sockaddr *)a[4],
			      (socklen_t)a[5]);
	case SYS_sendmsg:
		return sendmsg((int)a[0], (const struct msghdr *)a[1],
			       (int)a[2]);
	case SYS_sendmmsg:
		return sendmmsg((int)a[0], (struct mmsghdr *)a[1],
				(unsigned int)a[2], (int)a[3]);
	}
	return HOOK_PASS;
}

/* Receiving calls by number (see syscall_route_fds). */
static long syscall_route_recv(long number, const long a[SYSCALL_ARGS])
{
	switch (number) {
	case SYS_recvfrom:
		return recvfrom((int)a[0], (void *)a[1], (size_t)a[2],
				(int)a[3], (struct sockaddr *)a[4],
				(socklen_t *)a[5]);
	case SYS_recvmsg:
		return recvmsg((int)a[0], (struct msghdr *)a[1], (int)a[2]);
	case SYS_recvmmsg:
		return recvmmsg((int)a[0], (struct mmsghdr *)a[1],
				(unsigned int)a[2], (int)a[3],
				(struct timespec *)a[4]);
	}
	return HOOK_PASS;
}

/* Like libc's, this reads six arguments whatever the number takes: the
 * unused ones are whatever the registers hold, and are never looked at. */
long syscall(long number, ...)
{
	va_list ap;
	long a[SYSCALL_ARGS], ret;

	va_start(ap, number);
	for (int i = 0; i < SYSCALL_ARGS; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	ret = syscall_route_send(number, a);
	if (ret == HOOK_PASS)
		ret = syscall_route_recv(number, a);
	if (ret == HOOK_PASS)
		ret = syscall_route_fds(number, a);
	if (ret != HOOK_PASS)
		return ret;
	return syscall_next()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
