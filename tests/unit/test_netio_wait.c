/* test_netio_wait.c — netio_rcvtimeo_plan(): when a recv() may wait for
 * the proxy in the kernel with SO_RCVTIMEO standing in for the deadline,
 * and with what timeout. The promise checked: a wait started at any time,
 * bounded by the timeout in force (the one set now, or the one kept), ends
 * before the deadline even when the kernel fires it an eighth of its
 * length plus a 10 ms tick late; a timeout is never all zero (that would
 * mean none at all); a timeout set for a later deadline is not kept. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "netio.h"

#define MS 1000u
/* The coarsest kernel tick (HZ=100) the margin must cover. */
#define TICK_US (10u * MS)

/* The latest the kernel may deliver a receive timeout of t microseconds,
 * counted from the recv(): a tick, and an eighth of t (its timer wheel's
 * coarser levels round a long timeout up by that much at most). */
static uint64_t fires_by(uint64_t t)
{
	return t + t / 8 + TICK_US;
}

static uint64_t tv_us(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

START_TEST(first_wait_sets_margin_before_deadline)
{
	struct timeval tv;

	ck_assert_int_eq(netio_rcvtimeo_plan(1000 * MS, 3000 * MS, 0, 0, &tv),
			 NETIO_RCVTIMEO_SET);
	/* 7/8 of the 1.98 s left before the margin. */
	ck_assert_uint_eq(tv_us(&tv),
			  (2000 * MS - NETIO_RCVTIMEO_MARGIN_US) / 8 * 7);
	ck_assert_int_eq(tv.tv_sec, 1);
	ck_assert_uint_le(fires_by(tv_us(&tv)), 2000 * MS);
}
END_TEST

START_TEST(near_or_past_deadline_no_wait)
{
	struct timeval tv;
	const uint64_t d = 5000 * MS, m = NETIO_RCVTIMEO_MARGIN_US;

	ck_assert_int_eq(netio_rcvtimeo_plan(d, d, 0, 0, &tv),
			 NETIO_RCVTIMEO_NONE);
	ck_assert_int_eq(netio_rcvtimeo_plan(d + 1, d, 0, 0, &tv),
			 NETIO_RCVTIMEO_NONE);
	ck_assert_int_eq(netio_rcvtimeo_plan(d - m, d, 0, 0, &tv),
			 NETIO_RCVTIMEO_NONE);
	/* One microsecond of room: a timeout of one microsecond, not 0. */
	ck_assert_int_eq(netio_rcvtimeo_plan(d - m - 1, d, 0, 0, &tv),
			 NETIO_RCVTIMEO_SET);
	ck_assert_uint_eq(tv_us(&tv), 1);
	/* A deadline inside the margin of the clock's start. */
	ck_assert_int_eq(netio_rcvtimeo_plan(0, m, 0, 0, &tv),
			 NETIO_RCVTIMEO_NONE);
}
END_TEST

START_TEST(recent_timeout_kept_stale_one_set_again)
{
	struct timeval tv;
	const uint64_t d = 10000 * MS, set = 1000 * MS;
	const uint64_t stale = NETIO_RCVTIMEO_STALE_US;

	ck_assert_int_eq(netio_rcvtimeo_plan(set + stale - 1, d, set, d, &tv),
			 NETIO_RCVTIMEO_KEEP);
	ck_assert_int_eq(netio_rcvtimeo_plan(set + stale, d, set, d, &tv),
			 NETIO_RCVTIMEO_SET);
	ck_assert_uint_eq(tv_us(&tv),
			  (d - NETIO_RCVTIMEO_MARGIN_US - set - stale) / 8 * 7);
	/* A set time in the future (a clock that went back) is not trusted. */
	ck_assert_int_eq(netio_rcvtimeo_plan(set - 1, d, set, d, &tv),
			 NETIO_RCVTIMEO_SET);
	/* A timeout set for a later deadline (the connect's, before a Fast
	 * Open run was confirmed) is set again at once, even a fresh one;
	 * one set for an earlier deadline still does. */
	ck_assert_int_eq(netio_rcvtimeo_plan(set + 1, d, set, d + 1, &tv),
			 NETIO_RCVTIMEO_SET);
	ck_assert_int_eq(netio_rcvtimeo_plan(set + 1, d, set, d - 1, &tv),
			 NETIO_RCVTIMEO_KEEP);
}
END_TEST

/* Random runs of waits: every wait, with the timeout in force fired as
 * late as the kernel may, ends before the deadline, also after the
 * deadline moved earlier; and the last waits leave the deadline's last
 * stretch to poll() (NONE). */
START_TEST(every_wait_ends_before_deadline)
{
	unsigned seed = 12345;

	for (int run = 0; run < 2000; run++) {
		uint64_t now = 1 + (uint64_t)rand_r(&seed) % (1000 * MS);
		uint64_t d = now + (uint64_t)rand_r(&seed) % (3000 * MS);
		uint64_t set_at = 0, set_for = 0, in_force = 0;
		int waits = 0;

		for (;;) {
			struct timeval tv;
			enum netio_rcvtimeo p =
			    netio_rcvtimeo_plan(now, d, set_at, set_for, &tv);

			if (p == NETIO_RCVTIMEO_NONE) {
				ck_assert_uint_ge(
				    now + NETIO_RCVTIMEO_MARGIN_US, d);
				break;
			}
			if (p == NETIO_RCVTIMEO_SET) {
				ck_assert_uint_gt(tv_us(&tv), 0);
				set_at = now;
				set_for = d;
				in_force = tv_us(&tv);
			}
			ck_assert_uint_ne(set_at, 0);
			ck_assert_uint_le(now + fires_by(in_force), d);
			/* The wait ends early (data, a signal) or times out
			 * (as late as the kernel may fire it). */
			now += 1 + (uint64_t)rand_r(&seed) %
				       (fires_by(in_force) + 1);
			/* Now and then the deadline moves earlier (a Fast
			 * Open run confirmed), never before now. */
			if (rand_r(&seed) % 8 == 0 && d > now + 1)
				d -= (uint64_t)rand_r(&seed) % (d - now);
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
