/* test_netio_wait.c — netio_rcvtimeo_plan(): when a recv() may wait for
 * the proxy in the kernel with SO_RCVTIMEO standing in for the deadline,
 * and with what timeout. The promise checked: a wait started at any time,
 * bounded by the timeout in force (the one set now, or the one kept), ends
 * before the deadline even after the kernel rounds it up by a 10 ms tick;
 * a timeout is never all zero (that would mean none at all). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "netio.h"

#define MS 1000u
/* The coarsest kernel tick (HZ=100) the margin must cover. */
#define TICK_US (10u * MS)

static uint64_t tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

START_TEST(first_wait_sets_margin_before_deadline)
{
	struct timeval tv;

	ck_assert_int_eq(netio_rcvtimeo_plan(1000 * MS, 3000 * MS, 0, &tv),
			 NETIO_RCVTIMEO_SET);
	ck_assert_uint_eq(tv_us(&tv), 2000 * MS - NETIO_RCVTIMEO_MARGIN_US);
	ck_assert_int_eq(tv.tv_sec, 1);
	ck_assert_int_eq(tv.tv_usec, 1000000 - NETIO_RCVTIMEO_MARGIN_US);
}
END_TEST

START_TEST(near_or_past_deadline_no_wait)
{
	struct timeval tv;
	const uint64_t d = 5000 * MS;

	ck_assert_int_eq(netio_rcvtimeo_plan(d, d, 0, &tv),
			 NETIO_RCVTIMEO_NONE);
	ck_assert_int_eq(netio_rcvtimeo_plan(d + 1, d, 0, &tv),
			 NETIO_RCVTIMEO_NONE);
	ck_assert_int_eq(
	    netio_rcvtimeo_plan(d - NETIO_RCVTIMEO_MARGIN_US, d, 0, &tv),
	    NETIO_RCVTIMEO_NONE);
	/* One microsecond of room: a timeout of one microsecond, not 0. */
	ck_assert_int_eq(
	    netio_rcvtimeo_plan(d - NETIO_RCVTIMEO_MARGIN_US - 1, d, 0, &tv),
	    NETIO_RCVTIMEO_SET);
	ck_assert_uint_eq(tv_us(&tv), 1);
	/* A deadline inside the margin of the clock's start. */
	ck_assert_int_eq(
	    netio_rcvtimeo_plan(0, NETIO_RCVTIMEO_MARGIN_US, 0, &tv),
	    NETIO_RCVTIMEO_NONE);
}
END_TEST

START_TEST(recent_timeout_kept_stale_one_set_again)
{
	struct timeval tv;
	const uint64_t d = 10000 * MS, set = 1000 * MS;

	ck_assert_int_eq(
	    netio_rcvtimeo_plan(set + NETIO_RCVTIMEO_STALE_US - 1, d, set, &tv),
	    NETIO_RCVTIMEO_KEEP);
	ck_assert_int_eq(
	    netio_rcvtimeo_plan(set + NETIO_RCVTIMEO_STALE_US, d, set, &tv),
	    NETIO_RCVTIMEO_SET);
	ck_assert_uint_eq(tv_us(&tv), d - NETIO_RCVTIMEO_MARGIN_US - set -
					  NETIO_RCVTIMEO_STALE_US);
	/* A set time in the future (a clock that went back) is not trusted. */
	ck_assert_int_eq(netio_rcvtimeo_plan(set - 1, d, set, &tv),
			 NETIO_RCVTIMEO_SET);
}
END_TEST

/* Random runs of waits: every wait, with the timeout in force, ends before
 * the deadline after a tick of rounding; and the last waits leave the
 * deadline's last stretch to poll() (NONE). */
START_TEST(every_wait_ends_before_deadline)
{
	unsigned seed = 12345;

	for (int run = 0; run < 2000; run++) {
		uint64_t now = 1 + (uint64_t)rand_r(&seed) % (1000 * MS);
		uint64_t d = now + (uint64_t)rand_r(&seed) % (3000 * MS);
		uint64_t set_at = 0, in_force = 0;
		int waits = 0;

		for (;;) {
			struct timeval tv;
			enum netio_rcvtimeo p =
			    netio_rcvtimeo_plan(now, d, set_at, &tv);

			if (p == NETIO_RCVTIMEO_NONE) {
				ck_assert_uint_ge(
				    now + NETIO_RCVTIMEO_MARGIN_US, d);
				break;
			}
			if (p == NETIO_RCVTIMEO_SET) {
				ck_assert_uint_gt(tv_us(&tv), 0);
				set_at = now;
				in_force = tv_us(&tv);
			}
			ck_assert_uint_ne(set_at, 0);
			ck_assert_uint_le(now + in_force + TICK_US, d);
			/* The wait ends early (data, a signal) or times out. */
			now += 1 + (uint64_t)rand_r(&seed) % (in_force + 1);
			ck_assert_int_lt(++waits, 100000);
		}
	}
}
END_TEST

static Suite *netio_wait_suite(void)
{
	Suite *s = suite_create("netio_wait");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, first_wait_sets_margin_before_deadline);
	tcase_add_test(tc, near_or_past_deadline_no_wait);
	tcase_add_test(tc, recent_timeout_kept_stale_one_set_again);
	tcase_add_test(tc, every_wait_ends_before_deadline);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(netio_wait_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
