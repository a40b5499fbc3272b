/* supervise.c — the seccomp filter program and the remote sockaddr readers
 * of the supervisor. Pure: no system call of its own. */
#include <errno.h>
#include <stdbool.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>

#include "guardpage.h"
#include "supervise.h"

/* x32 system calls carry this bit in their number on x86-64. */
#define SUPERVISE_X32_BIT 0x40000000u

#define SECCOMP_DATA_NR	  offsetof(struct seccomp_data, nr)
#define SECCOMP_DATA_ARCH offsetof(struct seccomp_data, arch)
/* The low 32 bits of argument i (little-endian) and the high ones. */
#define SECCOMP_DATA_ARG_LO(i) offsetof(struct seccomp_data, args[i])
#define SECCOMP_DATA_ARG_HI(i) (offsetof(struct seccomp_data, args[i]) + 4)

static struct sock_filter stmt(uint16_t code, uint32_t k)
{
	struct sock_filter f = {.code = code, .jt = 0, .jf = 0, .k = k};

	return f;
}

static struct sock_filter jump(uint16_t code, uint32_t k, uint8_t jt,
			       uint8_t jf)
{
	struct sock_filter f = {.code = code, .jt = jt, .jf = jf, .k = k};

	return f;
}

#define LOAD(off)	stmt(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(off))
#define RET(value)	stmt(BPF_RET | BPF_K, (uint32_t)(value))
#define JEQ(k, jt, jf)	jump(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(k), jt, jf)
#define JSET(k, jt, jf) jump(BPF_JMP | BPF_JSET | BPF_K, (uint32_t)(k), jt, jf)
#define RET_ERRNO(e)	RET(SECCOMP_RET_ERRNO | ((e)&SECCOMP_RET_DATA))
#define RET_NOTIFY	RET(SECCOMP_RET_USER_NOTIF)
#define RET_ALLOW	RET(SECCOMP_RET_ALLOW)

#define SECCOMP_DATA_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SECCOMP_DATA_IP_HI                                                     \
	(offsetof(struct seccomp_data, instruction_pointer) + 4)
#define AND(k) stmt(BPF_ALU | BPF_AND | BPF_K, (uint32_t)(k))

/* The program, instruction by instruction; a jump's offsets count from the
 * next instruction. With page (the guard's), a call that would be notified
 * is first asked where it comes from: from the page, it is allowed. That
 * question comes after the system call number, never before it, so that
 * every call the filter does not watch is allowed on its number alone: the
 * kernel then caches the verdict per number and runs no filter at all for
 * read, write, poll and the rest (seccomp's action cache). */
static long filter_build(struct sock_filter *out, size_t cap, uint32_t arch,
			 bool guard, uint64_t page)
{
	/* What the guard adds in front of RET_NOTIFY: jumps over it grow. */
	const uint8_t g = guard ? SUPERVISE_GUARD_EXTRA : 0;
	const struct sock_filter head[] = {
	    /* 0 */ LOAD(SECCOMP_DATA_ARCH),
	    /* 1 */ JEQ(arch, 1, 0),
	    /* 2 */ RET_ERRNO(ENOSYS),
	    /* 3 */ LOAD(SECCOMP_DATA_NR),
	    /* 4 */ JSET(SUPERVISE_X32_BIT, 0, 1),
	    /* 5 */ RET_ERRNO(ENOSYS),
	    /* 6 */ JEQ(SYS_connect, 10, 0),		/* -> 17 */
	    /* 7 */ JEQ(SYS_sendmsg, 9, 0),		/* -> 17 */
	    /* 8 */ JEQ(SYS_sendmmsg, 8, 0),		/* -> 17 */
	    /* 9 */ JEQ(SYS_getpeername, 7, 0),		/* -> 17 */
	    /* 10 */ JEQ(SYS_io_uring_setup, 7 + g, 0), /* -> ENOSYS */
	    /* 11 */ JEQ(SYS_sendto, 1, 0),		/* -> 13 */
	    /* 12 */ JEQ(SYS_recvfrom, 0, 6 + g),	/* -> ALLOW */
	    /* sendto, recvfrom: notify only when they name an address
	     * (arg 4: the destination, or where to put the source). */
	    /* 13 */ LOAD(SECCOMP_DATA_ARG_LO(4)),
	    /* 14 */ JEQ(0, 0, 2), /* -> 17 */
	    /* 15 */ LOAD(SECCOMP_DATA_ARG_HI(4)),
	    /* 16 */ JEQ(0, 2 + g, 0), /* -> ALLOW */
	};
	/* 17: the guard's question (SUPERVISE_GUARD_EXTRA instructions), or
	 * straight to RET_NOTIFY. */
	const struct sock_filter from_page[SUPERVISE_GUARD_EXTRA] = {
	    LOAD(SECCOMP_DATA_IP_HI),  JEQ(page >> 32, 0, 3), /* -> NOTIFY */
	    LOAD(SECCOMP_DATA_IP_LO),  AND(~(GUARD_PAGE_SIZE - 1u)),
	    JEQ((uint32_t)page, 2, 0), /* -> ALLOW */
	};
	const struct sock_filter tail[] = {
	    RET_NOTIFY,
	    RET_ERRNO(ENOSYS),
	    RET_ALLOW,
	};
	const size_t nhead = sizeof head / sizeof head[0];
	size_t n = nhead + g + sizeof tail / sizeof tail[0];

	if (n > cap)
		return -ENOSPC;
	memcpy(out, head, sizeof head);
	if (guard)
		memcpy(out + nhead, from_page, sizeof from_page);
	memcpy(out + nhead + g, tail, sizeof tail);
	return (long)n;
}

long supervise_filter_build(struct sock_filter *out, size_t cap, uint32_t arch)
{
	return filter_build(out, cap, arch, false, 0);
}

long supervise_guard_build(struct sock_filter *out, size_t cap, uint32_t arch,
			   uint64_t page)
{
	return filter_build(out, cap, arch, true, page);
}

long supervise_read_sockaddr(const struct supervise_mem *mem, uint64_t addr,
			     uint64_t len, struct sockaddr_storage *ss)
{
	long got;

	memset(ss, 0, sizeof(*ss));
	/* The kernel takes the length as an int. */
	if ((int32_t)(uint32_t)len < 0)
		return -EINVAL;
	len = (uint32_t)len;
	if (addr == 0 || len == 0)
		return 0;
	if (len > sizeof(*ss))
		len = sizeof(*ss);
	got = mem->read(mem->ctx, addr, ss, (size_t)len);
	if (got < 0)
		return got;
	return (uint64_t)got == len ? got : -EFAULT;
}

long supervise_read_msg_name(const struct supervise_mem *mem, uint64_t msg_addr,
			     struct sockaddr_storage *ss)
{
	struct msghdr msg;
	long got;

	memset(ss, 0, sizeof(*ss));
	if (msg_addr == 0)
		return -EFAULT;
	got = mem->read(mem->ctx, msg_addr, &msg, sizeof msg);
	if (got != (long)sizeof msg)
		return got < 0 ? got : -EFAULT;
	return supervise_read_sockaddr(mem, (uint64_t)(uintptr_t)msg.msg_name,
				       msg.msg_namelen, ss);
}

int supervise_msg_has_name(const struct supervise_mem *mem, uint64_t msg_addr)
{
	/* msg_name and msg_namelen only: the head of the msghdr. */
	const size_t head = offsetof(struct msghdr, msg_namelen) +
			    sizeof(((struct msghdr *)0)->msg_namelen);
	struct msghdr msg;
	long got;

	if (msg_addr == 0)
		return -EFAULT;
	got = mem->read(mem->ctx, msg_addr, &msg, head);
	if (got != (long)head)
		return got < 0 ? (int)got : -EFAULT;
	return msg.msg_name != NULL && msg.msg_namelen != 0;
}
