/* test_guard.c — the guard's filter (supervise_guard_build): the calls the
 * filter watches are allowed when made from the trampoline page; from
 * anywhere else every call meets the supervisor's verdict unchanged; and a
 * call the filter does not watch is judged on its number alone (no load of
 * the instruction pointer or an argument), which is what lets the kernel
 * cache the verdict. Run on a small classic-BPF interpreter for the opcodes
 * the filter uses. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/syscall.h>

#include "guardpage.h"
#include "supervise.h"

#define ARCH AUDIT_ARCH_X86_64

static struct sock_filter prog[SUPERVISE_GUARD_FILTER_MAX];
static long prog_len;
/* Set by run() when the program read more than the number and the
 * architecture. */
static bool read_more;

static void setup(void)
{
	prog_len = supervise_guard_build(prog, SUPERVISE_GUARD_FILTER_MAX, ARCH,
					 GUARD_PAGE_ADDR);
	ck_assert_int_gt(prog_len, 0);
}

/* LD|W|ABS, ALU AND, JEQ, JSET and RET|K: all the filter uses. */
static uint32_t run_program(const struct sock_filter *insns, long len,
			    const struct seccomp_data *data)
{
	const unsigned char *bytes = (const unsigned char *)data;
	uint32_t acc = 0;
	long pc = 0;

	read_more = false;
	while (pc < len) {
		const struct sock_filter *f = &insns[pc++];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			ck_assert_uint_le(f->k + 4, sizeof(*data));
			if (f->k != offsetof(struct seccomp_data, nr) &&
			    f->k != offsetof(struct seccomp_data, arch))
				read_more = true;
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
		ck_assert_int_le(pc, len);
	}
	ck_abort_msg("ran off the end");
	return 0;
}

static uint32_t run(const struct seccomp_data *data)
{
	return run_program(prog, prog_len, data);
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

/* Off the page the guard says what the supervisor's filter says, for
 * every call number, with and without a destination in argument 4. */
START_TEST(same_verdicts_elsewhere)
{
	struct sock_filter plain[SUPERVISE_FILTER_MAX];
	long n = supervise_filter_build(plain, SUPERVISE_FILTER_MAX, ARCH);
	const uint64_t arg4s[] = {0, 0x1000, 0x100000000ull};

	ck_assert_int_eq(prog_len, n + SUPERVISE_GUARD_EXTRA);
	for (int nr = 0; nr < 512; nr++)
		for (size_t i = 0; i < sizeof arg4s / sizeof arg4s[0]; i++) {
			struct seccomp_data d = {.nr = nr, .arch = ARCH};

			d.instruction_pointer = libc_ip;
			d.args[4] = arg4s[i];
			ck_assert_uint_eq(run(&d), run_program(plain, n, &d));
		}
}
END_TEST

/* The kernel caches ALLOW for a call number when the filter reaches it
 * from the number and the architecture alone. Every call but the six the
 * filter watches must get there without reading the instruction pointer
 * or an argument, from the page or not. (The guard used to ask for the
 * instruction pointer first, so no call was cached.) */
START_TEST(unwatched_calls_judged_on_number)
{
	const int watched[] = {SYS_connect,	SYS_sendmsg, SYS_sendmmsg,
			       SYS_getpeername, SYS_sendto,  SYS_recvfrom};
	const uint64_t ips[] = {libc_ip, GUARD_PAGE_ADDR};

	for (int nr = 0; nr < 512; nr++) {
		bool is_watched = false;

		for (size_t w = 0; w < sizeof watched / sizeof watched[0]; w++)
			is_watched |= nr == watched[w];
		if (is_watched)
			continue;
		for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
			uint32_t v = verdict_at(nr, ips[i], ARCH);

			ck_assert_msg(!read_more,
				      "call %d: verdict needs more than its "
				      "number",
				      nr);
			ck_assert_uint_eq(v, nr == SYS_io_uring_setup
						 ? (SECCOMP_RET_ERRNO | ENOSYS)
						 : SECCOMP_RET_ALLOW);
		}
	}
	/* And a watched one does read more (the test can tell). */
	verdict_at(SYS_connect, libc_ip, ARCH);
	ck_assert(read_more);
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
	tcase_add_test(tc, same_verdicts_elsewhere);
	tcase_add_test(tc, unwatched_calls_judged_on_number);
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
