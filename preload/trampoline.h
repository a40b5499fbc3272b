/* trampoline.h — the library's own system calls under the guard.
 *
 * The guard's filter (common/supervise.c, supervise_guard_build) sends a
 * connect() or a send with a destination to the supervisor unless it was
 * made from the trampoline page at GUARD_PAGE_ADDR (common/guardpage.h).
 * trampoline_map() puts a small stub there, read and execute only; the
 * trampoline_* calls below make their system call through it, so the
 * library's connects (already routed by the hooks) cost no round trip.
 *
 * Each call keeps libc's convention: the result, or -1 with errno set;
 * errno untouched on success. Unlike libc's, they are no cancellation
 * points while blocked in the kernel: a pending cancellation is acted on
 * only on entry (README, "The guard"). All are async-signal-safe. */
#ifndef SOCKSIFY_TRAMPOLINE_H
#define SOCKSIFY_TRAMPOLINE_H

#include <sys/socket.h>
#include <sys/types.h>

/* Map the stub (once per process image: a fork child shares it, exec
 * drops it). Returns 0 when the page holds our stub, -errno otherwise
 * (-EEXIST: something else is mapped there; -ENOSYS: an architecture
 * without a stub). Not thread-safe: real_init()'s once-routine calls it. */
int trampoline_map(void);

/* Whether this process is under a seccomp filter (PR_GET_SECCOMP says 2):
 * the guard's, or a container's, either of which the stub is fine with. */
int trampoline_filtered(void);

/* A raw system call through the page: the kernel's result (-errno on
 * failure). Only after trampoline_map() returned 0. */
long trampoline_syscall(long nr, long a1, long a2, long a3, long a4, long a5,
			long a6);

int trampoline_connect(int fd, const struct sockaddr *sa, socklen_t len);
ssize_t trampoline_sendto(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *sa, socklen_t salen);
ssize_t trampoline_sendmsg(int fd, const struct msghdr *msg, int flags);
int trampoline_sendmmsg(int fd, struct mmsghdr *vec, unsigned int count,
			int flags);

#endif
