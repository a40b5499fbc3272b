/* test_supervise.c — the supervisor's filter program, run on a small
 * classic-BPF interpreter for the opcodes it uses, and the readers of socket
 * addresses in another process's memory (a buffer here). */
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "supervise.h"

#define ARCH AUDIT_ARCH_X86_64

static struct sock_filter prog[SUPERVISE_FILTER_MAX];
static long prog_len;

static void setup(void)
{
	prog_len = supervise_filter_build(prog, SUPERVISE_FILTER_MAX, ARCH);
	ck_assert_int_gt(prog_len, 0);
}

/* Run the filter on data: LD|W|ABS, JEQ, JSET and RET|K are all it uses. */
static uint32_t run(const struct seccomp_data *data)
{
	const unsigned char *bytes = (const unsigned char *)data;
	uint32_t acc = 0;
	long pc = 0;

	while (pc < prog_len) {
		const struct sock_filter *f = &prog[pc++];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			ck_assert_uint_le(f->k + 4, sizeof(*data));
			memcpy(&acc, bytes + f->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += acc == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (acc & f->k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			ck_abort_msg("unexpected opcode %#x", f->code);
		}
	}
	ck_abort_msg("ran off the end");
	return 0;
}

static uint32_t verdict(int nr, uint64_t arg4)
{
	struct seccomp_data d = {.nr = nr, .arch = ARCH};

	d.args[4] = arg4;
	return run(&d);
}

START_TEST(connect_is_notified)
{
	ck_assert_uint_eq(verdict(SYS_connect, 0), SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_sendmsg, 0), SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_sendmmsg, 0), SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_getpeername, 0), SECCOMP_RET_USER_NOTIF);
}
END_TEST

/* recvfrom: only when it asks for the source address (arg 4). */
START_TEST(recvfrom_only_with_an_address)
{
	ck_assert_uint_eq(verdict(SYS_recvfrom, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(SYS_recvfrom, 0x7fff12345678ull),
			  SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_recvfrom, 0x100000000ull),
			  SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_recvmsg, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(SYS_getsockname, 0), SECCOMP_RET_ALLOW);
}
END_TEST

START_TEST(sendto_only_with_a_destination)
{
	ck_assert_uint_eq(verdict(SYS_sendto, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(SYS_sendto, 0x7fff12345678ull),
			  SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_sendto, 0x100000000ull),
			  SECCOMP_RET_USER_NOTIF);
	ck_assert_uint_eq(verdict(SYS_sendto, 0x1000), SECCOMP_RET_USER_NOTIF);
}
END_TEST

START_TEST(others_allowed)
{
	ck_assert_uint_eq(verdict(SYS_read, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(SYS_socket, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(SYS_recvfrom, 0), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(verdict(SYS_write, 7), SECCOMP_RET_ALLOW);
}
END_TEST

START_TEST(bypasses_closed)
{
	struct seccomp_data d = {.nr = SYS_connect, .arch = AUDIT_ARCH_I386};

	ck_assert_uint_eq(verdict(SYS_io_uring_setup, 0),
			  SECCOMP_RET_ERRNO | ENOSYS);
	ck_assert_uint_eq(run(&d), SECCOMP_RET_ERRNO | ENOSYS);
	d.arch = ARCH;
	d.nr = 0x40000000 | SYS_connect; /* x32 */
	ck_assert_uint_eq(run(&d), SECCOMP_RET_ERRNO | ENOSYS);
}
END_TEST

START_TEST(no_room)
{
	struct sock_filter small[4];

	ck_assert_int_eq(supervise_filter_build(small, 4, ARCH), -ENOSPC);
}
END_TEST

/* ---- remote memory: a buffer at a pretend address ---- */

#define BASE 0x10000u

static unsigned char memory[512];
static size_t memory_len;

static long mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	(void)ctx;
	if (addr < BASE || addr - BASE >= memory_len)
		return -EFAULT;
	if (addr - BASE + len > memory_len)
		len = memory_len - (addr - BASE);
	memcpy(buf, memory + (addr - BASE), len);
	return (long)len;
}

static const struct supervise_mem mem = {.read = mem_read, .ctx = NULL};

static struct sockaddr_in sin_at(size_t offset)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(8080)};

	sin.sin_addr.s_addr = htonl(0x7f000001);
	memcpy(memory + offset, &sin, sizeof sin);
	return sin;
}

START_TEST(read_sockaddr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;

	memory_len = sizeof memory;
	sin = sin_at(16);
	ck_assert_int_eq(
	    supervise_read_sockaddr(&mem, BASE + 16, sizeof sin, &ss),
	    sizeof sin);
	ck_assert_mem_eq(&ss, &sin, sizeof sin);
	/* No address, or length 0: nothing read. */
	ck_assert_int_eq(supervise_read_sockaddr(&mem, 0, sizeof sin, &ss), 0);
	ck_assert_int_eq(supervise_read_sockaddr(&mem, BASE, 0, &ss), 0);
	/* Negative length (as the kernel's int). */
	ck_assert_int_eq(supervise_read_sockaddr(&mem, BASE, 0xffffffffu, &ss),
			 -EINVAL);
	/* Too long: clamped to the storage. */
	ck_assert_int_eq(supervise_read_sockaddr(&mem, BASE, 4000, &ss),
			 sizeof ss);
	/* Unreadable, or cut short by the end of the memory. */
	ck_assert_int_eq(supervise_read_sockaddr(&mem, 0x500, 16, &ss),
			 -EFAULT);
	ck_assert_int_eq(supervise_read_sockaddr(&mem, BASE + 500, 16, &ss),
			 -EFAULT);
}
END_TEST

START_TEST(read_msg_name)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct msghdr msg = {0};

	memory_len = sizeof memory;
	sin = sin_at(256);
	msg.msg_name = (void *)(uintptr_t)(BASE + 256);
	msg.msg_namelen = sizeof sin;
	memcpy(memory, &msg, sizeof msg);
	ck_assert_int_eq(supervise_read_msg_name(&mem, BASE, &ss), sizeof sin);
	ck_assert_mem_eq(&ss, &sin, sizeof sin);
	/* A message without a destination. */
	msg.msg_name = NULL;
	memcpy(memory, &msg, sizeof msg);
	ck_assert_int_eq(supervise_read_msg_name(&mem, BASE, &ss), 0);
	/* An unreadable msghdr. */
	ck_assert_int_eq(supervise_read_msg_name(&mem, 0, &ss), -EFAULT);
	memory_len = sizeof msg - 1;
	ck_assert_int_eq(supervise_read_msg_name(&mem, BASE, &ss), -EFAULT);
}
END_TEST

START_TEST(msg_has_name)
{
	struct msghdr msg = {0};

	memory_len = sizeof memory;
	msg.msg_name = (void *)(uintptr_t)(BASE + 256);
	msg.msg_namelen = sizeof(struct sockaddr_in);
	memcpy(memory, &msg, sizeof msg);
	ck_assert_int_eq(supervise_msg_has_name(&mem, BASE), 1);
	/* A name of length 0 is no name. */
	msg.msg_namelen = 0;
	memcpy(memory, &msg, sizeof msg);
	ck_assert_int_eq(supervise_msg_has_name(&mem, BASE), 0);
	/* No name (the common case: AF_UNIX, connected sockets). */
	msg.msg_name = NULL;
	msg.msg_namelen = sizeof(struct sockaddr_in);
	memcpy(memory, &msg, sizeof msg);
	ck_assert_int_eq(supervise_msg_has_name(&mem, BASE), 0);
	/* Only the head is read: a msghdr cut short after msg_namelen. */
	memory_len = offsetof(struct msghdr, msg_namelen) + sizeof(socklen_t);
	ck_assert_int_eq(supervise_msg_has_name(&mem, BASE), 0);
	/* Unreadable. */
	ck_assert_int_eq(supervise_msg_has_name(&mem, 0), -EFAULT);
	memory_len = offsetof(struct msghdr, msg_namelen);
	ck_assert_int_eq(supervise_msg_has_name(&mem, BASE), -EFAULT);
}
END_TEST

static Suite *supervise_suite(void)
{
	Suite *s = suite_create("supervise");
	TCase *tc = tcase_create("filter");
	TCase *mtc = tcase_create("memory");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, connect_is_notified);
	tcase_add_test(tc, sendto_only_with_a_destination);
	tcase_add_test(tc, recvfrom_only_with_an_address);
	tcase_add_test(tc, others_allowed);
	tcase_add_test(tc, bypasses_closed);
	tcase_add_test(tc, no_room);
	tcase_add_test(mtc, read_sockaddr);
	tcase_add_test(mtc, read_msg_name);
	tcase_add_test(mtc, msg_has_name);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, mtc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(supervise_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
