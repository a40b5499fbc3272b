/* trampoline.c — the guard's trampoline page (see trampoline.h).
 *
 * The page is mapped writable with MAP_FIXED_NOREPLACE (never over
 * anything: a kernel that does not know the flag takes the address as a
 * hint, and a page elsewhere is given back), the stub is written, and the
 * page becomes read+execute before any call goes through it; it is never
 * writable again. The stub takes the system call number and six arguments
 * in the C calling convention and moves them where the kernel wants them.
 *
 * Thread safety: trampoline_map() runs once, inside real_init()'s
 * pthread_once; afterwards the page is read-only and the calls share
 * nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "guardpage.h"
#include "trampoline.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#if defined(__x86_64__)
/* nr in rdi, arguments in rsi, rdx, rcx, r8, r9 and on the stack; the
 * kernel wants nr in rax and arguments in rdi, rsi, rdx, r10, r8, r9.
 * Called and returned from as any function, so a shadow stack is kept. */
static const unsigned char trampoline_stub[] = {
    0xf3, 0x0f, 0x1e, 0xfa,	  /* endbr64 (a no-op without CET's IBT) */
    0x48, 0x89, 0xf8,		  /* mov  %rdi,%rax */
    0x48, 0x89, 0xf7,		  /* mov  %rsi,%rdi */
    0x48, 0x89, 0xd6,		  /* mov  %rdx,%rsi */
    0x48, 0x89, 0xca,		  /* mov  %rcx,%rdx */
    0x4d, 0x89, 0xc2,		  /* mov  %r8,%r10 */
    0x4d, 0x89, 0xc8,		  /* mov  %r9,%r8 */
    0x4c, 0x8b, 0x4c, 0x24, 0x08, /* mov  0x8(%rsp),%r9 */
    0x0f, 0x05,			  /* syscall */
    0xc3,			  /* ret */
};
#define TRAMPOLINE_HAS_STUB 1
#else
#define TRAMPOLINE_HAS_STUB 0
#endif

typedef long (*trampoline_fn)(long nr, long a1, long a2, long a3, long a4,
			      long a5, long a6);

static int trampoline_state = -ENOENT; /* 0 once mapped */

int trampoline_filtered(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}

#if TRAMPOLINE_HAS_STUB
static int trampoline_install(void)
{
	void *want = (void *)(uintptr_t)GUARD_PAGE_ADDR;
	void *page =
	    mmap(want, GUARD_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (page == MAP_FAILED)
		return -errno;
	if (page != want) {
		munmap(page, GUARD_PAGE_SIZE);
		return -EEXIST;
	}
	memcpy(page, trampoline_stub, sizeof trampoline_stub);
	if (mprotect(page, GUARD_PAGE_SIZE, PROT_READ | PROT_EXEC) != 0) {
		int err = -errno;

		munmap(page, GUARD_PAGE_SIZE);
		return err;
	}
	return 0;
}
#else
static int trampoline_install(void)
{
	return -ENOSYS;
}
#endif

int trampoline_map(void)
{
	int saved = errno;

	if (trampoline_state != 0)
		trampoline_state = trampoline_install();
	errno = saved;
	return trampoline_state;
}

long trampoline_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
			long a6)
{
	trampoline_fn fn = (trampoline_fn)(uintptr_t)GUARD_PAGE_ADDR;

	return fn(nr, a1, a2, a3, a4, a5, a6);
}

/* libc's convention from the kernel's: -1 and errno for -4095..-1. */
static long trampoline_result(long rc)
{
	if (rc < 0 && rc > -4096) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

int trampoline_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	pthread_testcancel();
	return (int)trampoline_result(trampoline_syscall(
	    SYS_connect, fd, (long)(uintptr_t)sa, (long)len, 0, 0, 0));
}

ssize_t trampoline_sendto(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *sa, socklen_t salen)
{
	pthread_testcancel();
	return trampoline_result(
	    trampoline_syscall(SYS_sendto, fd, (long)(uintptr_t)buf, (long)len,
			       flags, (long)(uintptr_t)sa, (long)salen));
}

ssize_t trampoline_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	pthread_testcancel();
	return trampoline_result(trampoline_syscall(
	    SYS_sendmsg, fd, (long)(uintptr_t)msg, flags, 0, 0, 0));
}

int trampoline_sendmmsg(int fd, struct mmsghdr *vec, unsigned int count,
			int flags)
{
	pthread_testcancel();
	return (int)trampoline_result(trampoline_syscall(
	    SYS_sendmmsg, fd, (long)(uintptr_t)vec, (long)count, flags, 0, 0));
}
