/* supervise.h — the pure parts of the seccomp supervisor (tools/supervisor.c)
 * that carries statically linked programs: the filter program and the
 * reading of socket addresses out of another process's memory.
 *
 * The filter sends connect() to the supervisor (user notification), and
 * sendto() with a destination, sendmsg() and sendmmsg() too, so that UDP to
 * a destination that is not direct can be refused, getpeername() and
 * recvfrom() with a source address, so that a socket the supervisor
 * connected elsewhere shows the peer the program asked for; io_uring_setup()
 * fails with ENOSYS (its submissions would go around every check); a system
 * call of another architecture (i386, x32) fails with ENOSYS. Everything else
 * is allowed. */
#ifndef SOCKSIFY_SUPERVISE_H
#define SOCKSIFY_SUPERVISE_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for the filter supervise_filter_build() writes. */
#define SUPERVISE_FILTER_MAX 32

/* Write the filter for the native architecture (AUDIT_ARCH_* value arch)
 * into out[0..cap). Returns the number of instructions, or -ENOSPC. */
long supervise_filter_build(struct sock_filter *out, size_t cap, uint32_t arch);

/* Another process's memory, read through a function the caller gives
 * (process_vm_readv in the supervisor, a buffer in tests). read returns
 * the number of bytes copied (possibly fewer than asked) or -errno. */
struct supervise_mem {
	long (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
};

/* Read a socket address of len bytes at addr (a system call's arguments)
 * into ss. A length beyond sizeof(*ss) is clamped (the kernel refuses
 * it anyway); a NULL address or a length of 0 reads nothing. Returns the
 * number of bytes read (0 for none), -EFAULT when the memory cannot be read
 * in full, -EINVAL for a negative length. */
long supervise_read_sockaddr(const struct supervise_mem *mem, uint64_t addr,
			     uint64_t len, struct sockaddr_storage *ss);

/* Read the destination of sendmsg(): the msghdr at msg_addr, then its
 * msg_name. Returns supervise_read_sockaddr()'s result (0 when the message
 * names no destination), or -EFAULT when the msghdr cannot be read. */
long supervise_read_msg_name(const struct supervise_mem *mem, uint64_t msg_addr,
			     struct sockaddr_storage *ss);

/* Whether the msghdr of sendmsg() at msg_addr names a destination (msg_name
 * set and msg_namelen not 0; the kernel ignores a name of length 0), read
 * from its first two fields only. Returns 1 or 0, or -EFAULT when they
 * cannot be read. */
int supervise_msg_has_name(const struct supervise_mem *mem, uint64_t msg_addr);

/* The number of instructions the guard's question adds. */
#define SUPERVISE_GUARD_EXTRA 5

/* Room for the filter supervise_guard_build() writes. */
#define SUPERVISE_GUARD_FILTER_MAX                                             \
	(SUPERVISE_FILTER_MAX + SUPERVISE_GUARD_EXTRA)

/* The guard's filter: supervise_filter_build()'s, where a call that would
 * be notified is first allowed when it comes from the page at page
 * (GUARD_PAGE_ADDR, a multiple of GUARD_PAGE_SIZE): the library's own
 * calls, which must not pay a round trip to the supervisor. Every other
 * call is judged on its number (and arguments) alone, as by the
 * supervisor's filter, so the kernel can cache the verdict for the calls
 * neither filter watches. Returns the number of instructions, or
 * -ENOSPC. */
long supervise_guard_build(struct sock_filter *out, size_t cap, uint32_t arch,
			   uint64_t page);

#endif
