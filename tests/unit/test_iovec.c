/* test_iovec.c — iovec strings: totals, gather/scatter at offsets, and
 * iovec_move checked against memmove on a flat copy for random splits. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iovec.h"

#define STR_MAX 256

/* Split buf[0..len) into up to max iovecs of random sizes (zero-length
 * ones included). Returns the count. */
static size_t random_split(char *buf, size_t len, struct iovec *iov, size_t max,
			   unsigned *seed)
{
	size_t n = 0, off = 0;

	while (off < len && n + 1 < max) {
		size_t part = (size_t)rand_r(seed) % (len - off + 1);

		if (rand_r(seed) % 4 == 0)
			part = 0;
		iov[n].iov_base = buf + off;
		iov[n++].iov_len = part;
		off += part;
	}
	iov[n].iov_base = buf + off;
	iov[n++].iov_len = len - off;
	return n;
}

START_TEST(total_counts_and_saturates)
{
	char a[3], b[5];
	struct iovec iov[] = {{a, 3}, {NULL, 0}, {b, 5}};
	struct iovec huge[] = {{a, SIZE_MAX - 1}, {b, 5}};

	ck_assert_uint_eq(iovec_total(iov, 3), 8);
	ck_assert_uint_eq(iovec_total(iov, 0), 0);
	ck_assert_uint_eq(iovec_total(huge, 2), SIZE_MAX);
}
END_TEST

START_TEST(copy_out_and_in_cross_boundaries)
{
	char a[3] = "abc", b[1] = "d", c[4] = "efgh", out[16];
	struct iovec iov[] = {{a, 3}, {NULL, 0}, {b, 1}, {c, 4}};

	ck_assert_uint_eq(iovec_copy_out(iov, 4, 2, out, 4), 4);
	ck_assert_mem_eq(out, "cdef", 4);
	/* Past the end: only what exists. */
	ck_assert_uint_eq(iovec_copy_out(iov, 4, 6, out, 10), 2);
	ck_assert_mem_eq(out, "gh", 2);
	ck_assert_uint_eq(iovec_copy_out(iov, 4, 8, out, 10), 0);
	ck_assert_uint_eq(iovec_copy_in(iov, 4, 1, "XYZW", 4), 4);
	ck_assert_mem_eq(a, "aXY", 3);
	ck_assert_mem_eq(b, "Z", 1);
	ck_assert_mem_eq(c, "Wfgh", 4);
	ck_assert_uint_eq(iovec_copy_in(iov, 4, 7, "12345", 5), 1);
	ck_assert_mem_eq(c, "Wfg1", 4);
}
END_TEST

START_TEST(move_clips_at_the_end)
{
	char a[4] = "abcd", b[4] = "efgh";
	struct iovec iov[] = {{a, 4}, {b, 4}};

	/* 6 bytes from offset 0 to offset 5: only 3 fit. */
	ck_assert_uint_eq(iovec_move(iov, 2, 5, 0, 6), 3);
	ck_assert_mem_eq(a, "abcd", 4);
	ck_assert_mem_eq(b, "eabc", 4);
	ck_assert_uint_eq(iovec_move(iov, 2, 8, 0, 1), 0);
	ck_assert_uint_eq(iovec_move(iov, 2, 0, 8, 1), 0);
	ck_assert_uint_eq(iovec_move(iov, 2, 1, 1, 0), 0);
}
END_TEST

/* One random case: a string of random length split at random, a move with
 * random offsets and length, compared with memmove on a flat copy. */
START_TEST(move_matches_memmove)
{
	unsigned seed = 0x5eed0000u + (unsigned)_i;

	for (int round = 0; round < 200; round++) {
		char buf[STR_MAX], flat[STR_MAX];
		struct iovec iov[12];
		size_t len = 1 + (size_t)rand_r(&seed) % (STR_MAX - 1);
		size_t count = random_split(buf, len, iov, 12, &seed);
		size_t dst = (size_t)rand_r(&seed) % len;
		size_t src = (size_t)rand_r(&seed) % len;
		size_t n = (size_t)rand_r(&seed) % (len + 1), want = n;

		for (size_t i = 0; i < len; i++)
			buf[i] = (char)rand_r(&seed);
		memcpy(flat, buf, len);
		if (want > len - dst)
			want = len - dst;
		if (want > len - src)
			want = len - src;
		memmove(flat + dst, flat + src, want);
		ck_assert_uint_eq(iovec_move(iov, count, dst, src, n), want);
		ck_assert_mem_eq(buf, flat, len);
	}
}
END_TEST

static Suite *iovec_suite(void)
{
	Suite *s = suite_create("iovec");
	TCase *tc = tcase_create("iovec");

	tcase_add_test(tc, total_counts_and_saturates);
	tcase_add_test(tc, copy_out_and_in_cross_boundaries);
	tcase_add_test(tc, move_clips_at_the_end);
	tcase_add_loop_test(tc, move_matches_memmove, 0, 50);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(iovec_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
