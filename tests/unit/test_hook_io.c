/* test_hook_io.c — the helpers the data hooks share (preload/hook_io.h):
 * the edge that sets errno once and keeps the program's errno on success,
 * the gate that asks about a handshake only while one is in flight, and
 * which destinations are IP ones. async.c is replaced here by a counter
 * and a recording stub. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/un.h>

#include "hook_io.h"

/* async.c's side, scripted. */
_Atomic int async_live;
static int gate_calls, gate_fd, gate_answer;
static bool gate_dontwait;

int async_io_gate(int fd, bool dontwait)
{
	gate_calls++;
	gate_fd = fd;
	gate_dontwait = dontwait;
	errno = EAGAIN; /* driving a handshake leaves errno changed */
	return gate_answer;
}

/* preload/real.c's side: the table is not used here. */
struct real_functions real;
void real_init(void)
{
}
void preload_register(void)
{
}

static void gate_reset(int live, int answer)
{
	async_live = live;
	gate_calls = 0;
	gate_fd = -1;
	gate_dontwait = false;
	gate_answer = answer;
}

START_TEST(return_sets_errno_only_on_failure)
{
	errno = EINTR;
	ck_assert_int_eq(hook_return(7), 7);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(hook_return(-ECONNREFUSED), -1);
	ck_assert_int_eq(errno, ECONNREFUSED);
}
END_TEST

START_TEST(io_return_keeps_the_programs_errno)
{
	errno = ENOTCONN; /* left behind by work on the way */
	ck_assert_int_eq(io_return(12, EINTR), 12);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(io_return(0, 0), 0);
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(io_return(-EAGAIN, EINTR), -1);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

/* A call that goes on after the gate drove a handshake finds the errno the
 * program had; a call that must fail gets the gate's error. */
START_TEST(enter_keeps_errno_when_the_call_goes_on)
{
	gate_reset(1, 0);
	errno = EINTR;
	ck_assert_int_eq(io_enter(5, 0), 0);
	ck_assert_int_eq(gate_calls, 1);
	ck_assert_int_eq(errno, EINTR);
	gate_reset(1, -EAGAIN);
	ck_assert_int_eq(io_enter(5, MSG_DONTWAIT), -EAGAIN);
	ck_assert(gate_dontwait);
}
END_TEST

START_TEST(gate_is_free_when_idle)
{
	gate_reset(0, -EAGAIN);
	ck_assert_int_eq(io_gate(5, MSG_DONTWAIT), 0);
	ck_assert_int_eq(gate_calls, 0);
}
END_TEST

START_TEST(gate_asks_while_a_handshake_runs)
{
	gate_reset(1, -EAGAIN);
	ck_assert_int_eq(io_gate(5, MSG_DONTWAIT | MSG_PEEK), -EAGAIN);
	ck_assert_int_eq(gate_calls, 1);
	ck_assert_int_eq(gate_fd, 5);
	ck_assert(gate_dontwait);
	gate_reset(1, 0);
	ck_assert_int_eq(io_gate(6, MSG_PEEK), 0);
	ck_assert_int_eq(gate_fd, 6);
	ck_assert(!gate_dontwait);
	gate_reset(0, 0);
}
END_TEST

START_TEST(ip_destinations)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	ck_assert(io_ip_destination(&sin, sizeof sin));
	ck_assert(io_ip_destination(&sin6, sizeof sin6));
	ck_assert(!io_ip_destination(&sun, sizeof sun));
	ck_assert(!io_ip_destination(NULL, sizeof sin));
	ck_assert(!io_ip_destination(&sin, 1)); /* shorter than the family */
}
END_TEST

static Suite *hook_io_suite(void)
{
	Suite *s = suite_create("hook_io");
	TCase *tc = tcase_create("hook_io");

	tcase_add_test(tc, return_sets_errno_only_on_failure);
	tcase_add_test(tc, io_return_keeps_the_programs_errno);
	tcase_add_test(tc, enter_keeps_errno_when_the_call_goes_on);
	tcase_add_test(tc, gate_is_free_when_idle);
	tcase_add_test(tc, gate_asks_while_a_handshake_runs);
	tcase_add_test(tc, ip_destinations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(hook_io_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
