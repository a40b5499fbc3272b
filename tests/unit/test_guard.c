/* test_guard.c — the guard's filter (supervise_guard_build): system calls
 * made from the trampoline page are allowed, whatever they are; the same
 * calls from anywhere else meet the supervisor's filter unchanged. Run on
 * a small classic-BPF interpreter for the opcodes the filter uses. */
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>

#include "guardpage.h"
#include "supervise.h"

#define ARCH AUDIT_ARCH_X86_64

static struct sock_filter prog[SUPERVISE_GUARD_FILTER_MAX];
static long prog_len;

static void setup(void)
{
	prog_len = supervise_guard_build(prog, SUPERVISE_GUARD_FILTER_MAX, ARCH,
					 GUARD_PAGE_ADDR);
	ck_assert_int_gt(prog_len, 0);
}

/* LD|W|ABS, ALU AND, JEQ, JSET and RET|K: all the filter uses. */
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
		case BPF_ALU | BPF_AND | BPF_K:
			acc &= f->k;
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
		ck_assert_int_le(pc, prog_len);
	}
	ck_abort_msg("ran off the end");
	return 0;
}

static uint32_t verdict_at(int nr, uint64_t ip, uint32_t arch)
{
	struct seccomp_data d = {.nr = nr, .arch = arch};

	d.instruction_pointer = ip;
	d.args[4] = 0x1000; /* a sendto destination */
	return run(&d);
}

static const uint64_t libc_ip = 0x7f1234567890ull;

START_TEST(from_the_page_allowed)
{
	const uint64_t ips[] = {GUARD_PAGE_ADDR, GUARD_PAGE_ADDR + 2,
				GUARD_PAGE_ADDR + GUARD_PAGE_SIZE - 1};

	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		ck_assert_uint_eq(verdict_at(SYS_connect, ips[i], ARCH),
				  SECCOMP_RET_ALLOW);
		ck_assert_uint_eq(verdict_at(SYS_sendto, ips[i], ARCH),
				  SECCOMP_RET_ALLOW);
		ck_assert_uint_eq(verdict_at(SYS_sendmsg, ips[i], ARCH),
				  SECCOMP_RET_ALLOW);
		ck_assert_uint_eq(verdict_at(SYS_sendmmsg, ips[i], ARCH),
				  SECCOMP_RET_ALLOW);
	}
}
END_TEST

START_TEST(elsewhere_supervised)
{
	/* Next to the page, the same low or high half, or libc. */
	const uint64_t ips[] = {
	    libc_ip,
	    GUARD_PAGE_ADDR - 1,
	    GUARD_PAGE_ADDR + GUARD_PAGE_SIZE,
	    GUARD_PAGE_ADDR & 0xffffffffull,
	    (GUARD_PAGE_ADDR & ~0xffffffffull) | 0x12345000ull,
	    GUARD_PAGE_ADDR ^ (1ull << 40),
	};

	for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
		ck_assert_uint_eq(verdict_at(SYS_connect, ips[i], ARCH),
				  SECCOMP_RET_USER_NOTIF);
		ck_assert_uint_eq(verdict_at(SYS_sendto, ips[i], ARCH),
				  SECCOMP_RET_USER_NOTIF);
		ck_assert_uint_eq(verdict_at(SYS_io_uring_setup, ips[i], ARCH),
				  SECCOMP_RET_ERRNO | ENOSYS);
		ck_assert_uint_eq(verdict_at(SYS_read, ips[i], ARCH),
				  SECCOMP_RET_ALLOW);
	}
}
END_TEST

/* The architecture check still comes first: an i386 call from the page is
 * refused like any other. */
START_TEST(arch_checked_first)
{
	ck_assert_uint_eq(
	    verdict_at(SYS_connect, GUARD_PAGE_ADDR, AUDIT_ARCH_I386),
	    SECCOMP_RET_ERRNO | ENOSYS);
}
END_TEST

/* The rest of the program is the supervisor's, instruction for
 * instruction. */
START_TEST(same_filter_behind)
{
	struct sock_filter plain[SUPERVISE_FILTER_MAX];
	long n = supervise_filter_build(plain, SUPERVISE_FILTER_MAX, ARCH);

	ck_assert_int_eq(prog_len, n + SUPERVISE_GUARD_PROLOGUE);
	ck_assert(memcmp(prog, plain, 3 * sizeof(*prog)) == 0);
	ck_assert(memcmp(prog + 3 + SUPERVISE_GUARD_PROLOGUE, plain + 3,
			 (size_t)(n - 3) * sizeof(*prog)) == 0);
}
END_TEST

START_TEST(no_room)
{
	struct sock_filter small[SUPERVISE_FILTER_MAX];

	ck_assert_int_eq(
	    supervise_guard_build(small, 20, ARCH, GUARD_PAGE_ADDR), -ENOSPC);
}
END_TEST

static Suite *guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("filter");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, from_the_page_allowed);
	tcase_add_test(tc, elsewhere_supervised);
	tcase_add_test(tc, arch_checked_first);
	tcase_add_test(tc, same_filter_behind);
	tcase_add_test(tc, no_room);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guard_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
