/* test_udpfrag.c — reassembly of SOCKS5 UDP fragments: in order, reordered,
 * incomplete, timed out, restarted by a lower position, oversized, the
 * bound on queues, duplicates, sources and owners kept apart. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "udpfrag.h"

static struct udpfrag_table *table;
static struct endpoint src_a, src_b;

static void setup(void)
{
	table = malloc(sizeof *table);
	ck_assert_ptr_nonnull(table);
	udpfrag_init(table);
	memset(&src_a, 0, sizeof src_a);
	src_a.kind = ENDPOINT_IPV4;
	memcpy(src_a.u.ipv4, "\x7f\x00\x00\x01", 4);
	src_a.port = 53;
	src_b = src_a;
	src_b.port = 54;
}

static void teardown(void)
{
	free(table);
}

/* Add the text s as the fragment frag of owner 3 from src at now. */
static enum udpfrag_verdict add_at(const struct endpoint *src, uint8_t frag,
				   const char *s, uint64_t now,
				   struct udpfrag_queue **done)
{
	struct iovec iov = {(void *)s, strlen(s)};
	enum udpfrag_why why;

	return udpfrag_add(table, 3, src, frag, &iov, 1, 0, strlen(s), now,
			   done, &why);
}

static enum udpfrag_verdict add(uint8_t frag, const char *s,
				struct udpfrag_queue **done)
{
	return add_at(&src_a, frag, s, 1000, done);
}

/* The whole datagram in done is s. */
static void expect_whole(struct udpfrag_queue *done, const char *s)
{
	ck_assert_ptr_nonnull(done);
	ck_assert_uint_eq(done->len, strlen(s));
	ck_assert_mem_eq(done->data, s, strlen(s));
	udpfrag_release(done);
	ck_assert_uint_eq(udpfrag_busy(table), 0);
}

START_TEST(in_order_is_whole)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(1, "hel", &done), UDPFRAG_HELD);
	ck_assert_ptr_null(done);
	ck_assert_int_eq(add(2, "lo ", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(3 | UDPFRAG_END, "world", &done), UDPFRAG_DONE);
	ck_assert(endpoint_equal(&done->src, &src_a));
	expect_whole(done, "hello world");
}
END_TEST

START_TEST(single_fragment_is_whole)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(1 | UDPFRAG_END, "one", &done), UDPFRAG_DONE);
	expect_whole(done, "one");
}
END_TEST

START_TEST(reordered_is_dropped)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(2, "lo ", &done), UDPFRAG_DROPPED);
	ck_assert_int_eq(add(1, "hel", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(3 | UDPFRAG_END, "world", &done), UDPFRAG_DROPPED);
	ck_assert_uint_eq(udpfrag_busy(table), 0);
	/* and a later, good sequence still goes through */
	ck_assert_int_eq(add(1, "a", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(2 | UDPFRAG_END, "b", &done), UDPFRAG_DONE);
	expect_whole(done, "ab");
}
END_TEST

START_TEST(incomplete_never_delivered)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(1, "part", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(2, "part", &done), UDPFRAG_HELD);
	ck_assert_uint_eq(udpfrag_busy(table), 1);
	ck_assert_ptr_null(done);
}
END_TEST

START_TEST(lower_position_restarts)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(1, "old", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(2, "old", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(1, "new", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(2 | UDPFRAG_END, "er", &done), UDPFRAG_DONE);
	expect_whole(done, "newer");
}
END_TEST

START_TEST(first_position_again_restarts)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(1, "lone", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(1, "x", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(2 | UDPFRAG_END, "y", &done), UDPFRAG_DONE);
	expect_whole(done, "xy");
}
END_TEST

START_TEST(timer_abandons)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add_at(&src_a, 1, "a", 1000, &done), UDPFRAG_HELD);
	/* just inside the timer: still whole */
	ck_assert_int_eq(add_at(&src_a, 2 | UDPFRAG_END, "b",
				1000 + UDPFRAG_TIMEOUT_MS - 1, &done),
			 UDPFRAG_DONE);
	expect_whole(done, "ab");
	ck_assert_int_eq(add_at(&src_a, 1, "a", 1000, &done), UDPFRAG_HELD);
	ck_assert_int_eq(add_at(&src_a, 2 | UDPFRAG_END, "b",
				1000 + UDPFRAG_TIMEOUT_MS, &done),
			 UDPFRAG_DROPPED);
	ck_assert_uint_eq(udpfrag_busy(table), 0);
	ck_assert_uint_ge(UDPFRAG_TIMEOUT_MS, 5000);
}
END_TEST

START_TEST(oversized_abandons)
{
	struct udpfrag_queue *done;
	char *big = malloc(UDPFRAG_MAX + 1);
	enum udpfrag_why why;
	struct iovec iov = {big, UDPFRAG_MAX};

	ck_assert_ptr_nonnull(big);
	memset(big, 'x', UDPFRAG_MAX);
	big[UDPFRAG_MAX] = '\0';
	/* exactly the limit in two fragments is whole */
	ck_assert_int_eq(udpfrag_add(table, 3, &src_a, 1, &iov, 1, 0,
				     UDPFRAG_MAX - 1, 1000, &done, &why),
			 UDPFRAG_HELD);
	ck_assert_int_eq(add(2 | UDPFRAG_END, "y", &done), UDPFRAG_DONE);
	ck_assert_uint_eq(done->len, UDPFRAG_MAX);
	udpfrag_release(done);
	/* one byte more is dropped, and so is the rest of the sequence */
	ck_assert_int_eq(udpfrag_add(table, 3, &src_a, 1, &iov, 1, 0,
				     UDPFRAG_MAX, 1000, &done, &why),
			 UDPFRAG_HELD);
	ck_assert_int_eq(
	    udpfrag_add(table, 3, &src_a, 2, &iov, 1, 0, 1, 1000, &done, &why),
	    UDPFRAG_DROPPED);
	ck_assert_int_eq(why, UDPFRAG_OVERSIZED);
	ck_assert_int_eq(add(3 | UDPFRAG_END, "z", &done), UDPFRAG_DROPPED);
	ck_assert_uint_eq(udpfrag_busy(table), 0);
	free(big);
}
END_TEST

START_TEST(queues_are_bounded)
{
	struct udpfrag_queue *done;
	struct endpoint src = src_a;

	/* more sequences than queues: the oldest ones are abandoned */
	for (unsigned i = 0; i < UDPFRAG_QUEUES + 2; i++) {
		src.port = (uint16_t)(100 + i);
		ck_assert_int_eq(add_at(&src, 1, "x", 1000 + i, &done),
				 UDPFRAG_HELD);
		ck_assert_uint_le(udpfrag_busy(table), UDPFRAG_QUEUES);
	}
	src.port = 100;
	ck_assert_int_eq(add_at(&src, 2 | UDPFRAG_END, "y", 2000, &done),
			 UDPFRAG_DROPPED);
	src.port = (uint16_t)(100 + UDPFRAG_QUEUES + 1);
	ck_assert_int_eq(add_at(&src, 2 | UDPFRAG_END, "y", 2000, &done),
			 UDPFRAG_DONE);
	ck_assert_mem_eq(done->data, "xy", 2);
}
END_TEST

START_TEST(duplicate_ignored)
{
	struct udpfrag_queue *done;
	enum udpfrag_why why;
	char bb[] = "bb";
	struct iovec iov = {bb, 2};

	ck_assert_int_eq(add(1, "a", &done), UDPFRAG_HELD);
	ck_assert_int_eq(add(2, "b", &done), UDPFRAG_HELD);
	ck_assert_int_eq(
	    udpfrag_add(table, 3, &src_a, 2, &iov, 1, 0, 2, 1000, &done, &why),
	    UDPFRAG_DROPPED);
	ck_assert_int_eq(why, UDPFRAG_DUPLICATE);
	ck_assert_int_eq(add(3 | UDPFRAG_END, "c", &done), UDPFRAG_DONE);
	expect_whole(done, "abc");
}
END_TEST

START_TEST(sources_and_owners_apart)
{
	struct udpfrag_queue *done;
	enum udpfrag_why why;
	char b2[] = "B2";
	struct iovec iov = {b2, 2};

	ck_assert_int_eq(add_at(&src_a, 1, "A1", 1000, &done), UDPFRAG_HELD);
	ck_assert_int_eq(add_at(&src_b, 1, "B1", 1000, &done), UDPFRAG_HELD);
	/* another owner's position 2 from src_b has no sequence */
	ck_assert_int_eq(udpfrag_add(table, 4, &src_b, 2 | UDPFRAG_END, &iov, 1,
				     0, 2, 1000, &done, &why),
			 UDPFRAG_DROPPED);
	ck_assert_int_eq(add_at(&src_b, 2 | UDPFRAG_END, "B2", 1000, &done),
			 UDPFRAG_DONE);
	ck_assert_mem_eq(done->data, "B1B2", 4);
	udpfrag_release(done);
	ck_assert_int_eq(add_at(&src_a, 2 | UDPFRAG_END, "A2", 1000, &done),
			 UDPFRAG_DONE);
	expect_whole(done, "A1A2");
	ck_assert_int_eq(add_at(&src_a, 1, "A1", 1000, &done), UDPFRAG_HELD);
	udpfrag_forget(table, 3);
	ck_assert_uint_eq(udpfrag_busy(table), 0);
}
END_TEST

START_TEST(not_a_position)
{
	struct udpfrag_queue *done;

	ck_assert_int_eq(add(0, "x", &done), UDPFRAG_DROPPED);
	ck_assert_int_eq(add(UDPFRAG_END, "x", &done), UDPFRAG_DROPPED);
	ck_assert_int_eq(add(127 | UDPFRAG_END, "x", &done), UDPFRAG_DROPPED);
	ck_assert_uint_eq(udpfrag_busy(table), 0);
}
END_TEST

START_TEST(gathers_from_iovecs)
{
	struct udpfrag_queue *done;
	enum udpfrag_why why;
	char one[] = "HDRab", two[] = "cd";
	struct iovec iov[] = {{one, 5}, {two, 2}};

	ck_assert_int_eq(udpfrag_add(table, 3, &src_a, 1 | UDPFRAG_END, iov, 2,
				     3, 4, 1000, &done, &why),
			 UDPFRAG_DONE);
	expect_whole(done, "abcd");
}
END_TEST

static Suite *udpfrag_suite(void)
{
	Suite *s = suite_create("udpfrag");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, in_order_is_whole);
	tcase_add_test(tc, single_fragment_is_whole);
	tcase_add_test(tc, reordered_is_dropped);
	tcase_add_test(tc, incomplete_never_delivered);
	tcase_add_test(tc, lower_position_restarts);
	tcase_add_test(tc, first_position_again_restarts);
	tcase_add_test(tc, timer_abandons);
	tcase_add_test(tc, oversized_abandons);
	tcase_add_test(tc, queues_are_bounded);
	tcase_add_test(tc, duplicate_ignored);
	tcase_add_test(tc, sources_and_owners_apart);
	tcase_add_test(tc, not_a_position);
	tcase_add_test(tc, gathers_from_iovecs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(udpfrag_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
