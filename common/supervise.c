/* supervise.c — the seccomp filter program and the remote sockaddr readers
 * of the supervisor. Pure: no system call of its own. */
#include <errno.h>
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

/* The program, instruction by instruction; a jump's offsets count from the
 * next instruction. */
long supervise_filter_build(struct sock_filter *out, size_t cap, uint32_t arch)
{
	const struct sock_filter prog[] = {
	    /* 0 */ LOAD(SECCOMP_DATA_ARCH),
	    /* 1 */ JEQ(arch, 1, 0),
	    /* 2 */ RET_ERRNO(ENOSYS),
	    /* 3 */ LOAD(SECCOMP_DATA_NR),
	    /* 4 */ JSET(SUPERVISE_X32_BIT, 0, 1),
	    /* 5 */ RET_ERRNO(ENOSYS),
	    /* 6 */ JEQ(SYS_connect, 10, 0),	    /* -> 17 */
	    /* 7 */ JEQ(SYS_sendmsg, 9, 0),	    /* -> 17 */
	    /* 8 */ JEQ(SYS_sendmmsg, 8, 0),	    /* -> 17 */
	    /* 9 */ JEQ(SYS_getpeername, 7, 0),	    /* -> 17 */
	    /* 10 */ JEQ(SYS_io_uring_setup, 7, 0), /* -> 18 */
	    /* 11 */ JEQ(SYS_sendto, 1, 0),	    /* -> 13 */
	    /* 12 */ JEQ(SYS_recvfrom, 0, 6),	    /* -> 19 */
	    /* sendto, recvfrom: notify only when they name an address
	     * (arg 4: the destination, or where to put the source). */
	    /* 13 */ LOAD(SECCOMP_DATA_ARG_LO(4)),
	    /* 14 */ JEQ(0, 0, 2), /* -> 17 */
	    /* 15 */ LOAD(SECCOMP_DATA_ARG_HI(4)),
	    /* 16 */ JEQ(0, 2, 0), /* -> 19 */
	    /* 17 */ RET_NOTIFY,
	    /* 18 */ RET_ERRNO(ENOSYS),
	    /* 19 */ RET_ALLOW,
	};
	size_t n = sizeof prog / sizeof prog[0];

	if (n > cap)
		return -ENOSPC;
	memcpy(out, prog, sizeof prog);
	return (long)n;
}

/* The architecture check that opens supervise_filter_build()'s program
 * (load, compare, refuse): the guard's prologue goes right after it. No
 * jump crosses that point; the check's own lands on its first instruction. */
#define SUPERVISE_ARCH_CHECK 3

#define SECCOMP_DATA_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define SECCOMP_DATA_IP_HI                                                     \
	(offsetof(struct seccomp_data, instruction_pointer) + 4)
#define AND(k) stmt(BPF_ALU | BPF_AND | BPF_K, (uint32_t)(k))

long supervise_guard_build(struct sock_filter *out, size_t cap, uint32_t arch,
			   uint64_t page)
{
	const struct sock_filter prologue[SUPERVISE_GUARD_PROLOGUE] = {
	    /* 0 */ LOAD(SECCOMP_DATA_IP_HI),
	    /* 1 */ JEQ(page >> 32, 0, 4), /* -> the rest */
	    /* 2 */ LOAD(SECCOMP_DATA_IP_LO),
	    /* 3 */ AND(~(GUARD_PAGE_SIZE - 1u)),
	    /* 4 */ JEQ((uint32_t)page, 0, 1), /* -> the rest */
	    /* 5 */ RET_ALLOW,
	};
	long n = supervise_filter_build(out, cap, arch);

	if (n < 0)
		return n;
	if ((size_t)n + SUPERVISE_GUARD_PROLOGUE > cap)
		return -ENOSPC;
	memmove(out + SUPERVISE_ARCH_CHECK + SUPERVISE_GUARD_PROLOGUE,
		out + SUPERVISE_ARCH_CHECK,
		(size_t)(n - SUPERVISE_ARCH_CHECK) * sizeof(*out));
	memcpy(out + SUPERVISE_ARCH_CHECK, prologue, sizeof prologue);
	return n + SUPERVISE_GUARD_PROLOGUE;
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
