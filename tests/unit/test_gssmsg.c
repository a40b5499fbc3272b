/* test_gssmsg.c — RFC 1961 message framing: byte-exact encoding, parsing
 * at every length, the abort, and malformed input. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gssmsg.h"

START_TEST(build_context_token)
{
	static const uint8_t token[] = {0x60, 0x82, 0x01};
	static const uint8_t want[] = {1, 1, 0, 3, 0x60, 0x82, 0x01};
	uint8_t buf[16];

	ck_assert_int_eq(gssmsg_build(buf, sizeof(buf), GSSMSG_TYPE_CONTEXT,
				      token, sizeof(token)),
			 sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(build_limits)
{
	static uint8_t big[GSSMSG_TOKEN_MAX + 1];
	static uint8_t buf[GSSMSG_MAX + 1];

	ck_assert_int_eq(gssmsg_build(buf, sizeof(buf), GSSMSG_TYPE_PROTECTION,
				      big, GSSMSG_TOKEN_MAX),
			 GSSMSG_MAX);
	ck_assert_uint_eq(buf[2], 0xff);
	ck_assert_uint_eq(buf[3], 0xff);
	ck_assert_int_eq(gssmsg_build(buf, sizeof(buf), GSSMSG_TYPE_CONTEXT,
				      big, sizeof(big)),
			 -EMSGSIZE);
	ck_assert_int_eq(gssmsg_build(buf, 5, GSSMSG_TYPE_CONTEXT, big, 2),
			 -ENOSPC);
	ck_assert_int_eq(
	    gssmsg_build(buf, sizeof(buf), GSSMSG_TYPE_ABORT, big, 0), -EINVAL);
	ck_assert_int_eq(gssmsg_build(buf, 4, GSSMSG_TYPE_CONTEXT, NULL, 0), 4);
}
END_TEST

/* Every prefix of a message asks for more, within the message; the whole
 * message (and more bytes after it) parses to exactly its length. */
START_TEST(parse_every_prefix)
{
	static const uint8_t msg[] = {1, 2, 0, 3, 'a', 'b', 'c', 9, 9};
	const size_t len = 7;
	struct gssmsg m;
	size_t need, k;

	for (k = 0; k < len; k++) {
		need = 0;
		ck_assert_int_eq(gssmsg_parse(msg, k, &need, &m), 0);
		ck_assert_uint_gt(need, k);
		ck_assert_uint_le(need, len);
	}
	ck_assert_int_eq(gssmsg_parse(msg, sizeof(msg), &need, &m), len);
	ck_assert_uint_eq(m.type, GSSMSG_TYPE_PROTECTION);
	ck_assert_uint_eq(m.token_len, 3);
	ck_assert_mem_eq(m.token, "abc", 3);
	ck_assert_ptr_eq(m.token, msg + 4);
}
END_TEST

START_TEST(parse_empty_token)
{
	static const uint8_t msg[] = {1, 1, 0, 0};
	struct gssmsg m;
	size_t need;

	ck_assert_int_eq(gssmsg_parse(msg, sizeof(msg), &need, &m), 4);
	ck_assert_uint_eq(m.token_len, 0);
}
END_TEST

/* The abort is two octets: nothing after them is taken. */
START_TEST(parse_abort)
{
	static const uint8_t msg[] = {1, 0xff, 0, 5};
	struct gssmsg m;
	size_t need = 0;

	ck_assert_int_eq(gssmsg_parse(msg, 1, &need, &m), 0);
	ck_assert_uint_eq(need, 2);
	ck_assert_int_eq(gssmsg_parse(msg, sizeof(msg), &need, &m), 2);
	ck_assert_uint_eq(m.type, GSSMSG_TYPE_ABORT);
	ck_assert_uint_eq(m.token_len, 0);
}
END_TEST

static const uint8_t malformed[][4] = {
    {0, 1, 0, 0},    /* version 0 */
    {5, 1, 0, 0},    /* a SOCKS5 byte */
    {1, 0, 0, 0},    /* type 0 */
    {1, 3, 0, 0},    /* type 3: per-message data, never in a handshake */
    {1, 0xfe, 0, 0}, /* unknown type */
};

START_TEST(parse_malformed)
{
	struct gssmsg m;
	size_t need = 0;

	ck_assert_int_eq(gssmsg_parse(malformed[_i], 4, &need, &m), -EPROTO);
	ck_assert_int_eq(gssmsg_parse(malformed[_i], 2, &need, &m), -EPROTO);
}
END_TEST

START_TEST(protection_names)
{
	uint8_t level = 9;

	ck_assert_str_eq(gssmsg_protection_name(0), "clear");
	ck_assert_str_eq(gssmsg_protection_name(1), "integrity");
	ck_assert_str_eq(gssmsg_protection_name(2), "confidentiality");
	ck_assert_str_eq(gssmsg_protection_name(3), "unknown");
	ck_assert_int_eq(gssmsg_protection_parse("confidentiality", &level), 0);
	ck_assert_uint_eq(level, 2);
	ck_assert_int_eq(gssmsg_protection_parse("clear", &level), 0);
	ck_assert_uint_eq(level, 0);
	ck_assert_int_eq(gssmsg_protection_parse("Clear", &level), -EINVAL);
	ck_assert_int_eq(gssmsg_protection_parse("", &level), -EINVAL);
	ck_assert_uint_eq(level, 0);
}
END_TEST

static Suite *gssmsg_suite(void)
{
	Suite *s = suite_create("gssmsg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, build_context_token);
	tcase_add_test(tc, build_limits);
	tcase_add_test(tc, parse_every_prefix);
	tcase_add_test(tc, parse_empty_token);
	tcase_add_test(tc, parse_abort);
	tcase_add_loop_test(tc, parse_malformed, 0,
			    sizeof(malformed) / sizeof(malformed[0]));
	tcase_add_test(tc, protection_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gssmsg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
