/* test_socks4.c — SOCKS4 / SOCKS4a request encoder and reply parser. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "socks4.h"

/* The example of the SOCKS4 protocol text: CONNECT 198.51.100.7:80 with
 * user id "fred". */
START_TEST(request_socks4)
{
	static const uint8_t want[] = {4, 1,   0x00, 0x50, 198, 51, 100,
				       7, 'f', 'r',  'e',  'd', 0};
	struct endpoint ep = {.kind = ENDPOINT_IPV4, .port = 80};
	uint8_t buf[SOCKS4_REQUEST_MAX];

	memcpy(ep.u.ipv4, want + 4, 4);
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf),
					      SOCKS4_CMD_CONNECT, &ep, "fred",
					      4),
			 sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(request_socks4_no_user)
{
	static const uint8_t want[] = {4, 2, 0x1f, 0x90, 10, 0, 0, 1, 0};
	struct endpoint ep = {.kind = ENDPOINT_IPV4, .port = 8080};
	uint8_t buf[SOCKS4_REQUEST_MAX];

	memcpy(ep.u.ipv4, want + 4, 4);
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf), SOCKS4_CMD_BIND,
					      &ep, NULL, 0),
			 sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(socks4_build_request(buf, sizeof(want) - 1,
					      SOCKS4_CMD_BIND, &ep, NULL, 0),
			 -ENOSPC);
}
END_TEST

/* SOCKS4a: DSTIP 0.0.0.1, user id, NUL, host name, NUL. */
START_TEST(request_socks4a)
{
	static const uint8_t want[] = {4,   1,	 0x01, 0xbb, 0,	  0,   0,   1,
				       'u', 0,	 'e',  'x',  'a', 'm', 'p', 'l',
				       'e', '.', 'o',  'r',  'g', 0};
	struct endpoint ep;
	uint8_t buf[SOCKS4_REQUEST_MAX];

	ck_assert_int_eq(endpoint_set_name(&ep, "example.org", 11, 443), 0);
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf),
					      SOCKS4_CMD_CONNECT, &ep, "u", 1),
			 sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(request_errors)
{
	struct endpoint v6 = {.kind = ENDPOINT_IPV6, .port = 1};
	struct endpoint v4 = {.kind = ENDPOINT_IPV4, .port = 1};
	struct endpoint name;
	uint8_t buf[SOCKS4_REQUEST_MAX];
	char user[256];

	memset(user, 'u', sizeof(user));
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf),
					      SOCKS4_CMD_CONNECT, &v6, NULL, 0),
			 -EAFNOSUPPORT);
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf),
					      SOCKS4_CMD_CONNECT, &v4, user,
					      256),
			 -ENAMETOOLONG);
	ck_assert_int_eq(
	    socks4_build_request(buf, sizeof(buf), 3, &v4, NULL, 0), -EINVAL);
	/* Longest: 255-byte user and 255-byte name fit the maximum. */
	endpoint_set_name(&name, user, 255, 1);
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf),
					      SOCKS4_CMD_CONNECT, &name, user,
					      255),
			 SOCKS4_REQUEST_MAX);
	memset(name.u.name, 'n', sizeof(name.u.name));
	ck_assert_int_eq(socks4_build_request(buf, sizeof(buf),
					      SOCKS4_CMD_CONNECT, &name, NULL,
					      0),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(reply_split)
{
	static const uint8_t reply[] = {0, 0x5a, 0x04, 0x38, 127, 0, 0, 1, 'x'};
	struct endpoint bound;
	uint8_t status = 0;
	size_t have, need = 0;

	for (have = 0; have < SOCKS4_REPLY_LEN; have++) {
		ck_assert_int_eq(
		    socks4_parse_reply(reply, have, &need, &status, &bound), 0);
		ck_assert_uint_eq(need, SOCKS4_REPLY_LEN);
	}
	ck_assert_int_eq(
	    socks4_parse_reply(reply, sizeof(reply), &need, &status, &bound),
	    SOCKS4_REPLY_LEN);
	ck_assert_uint_eq(status, SOCKS4_GRANTED);
	ck_assert_int_eq(bound.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(bound.port, 1080);
	ck_assert_uint_eq(bound.u.ipv4[0], 127);
	ck_assert_uint_eq(bound.u.ipv4[3], 1);
}
END_TEST

START_TEST(reply_versions)
{
	static const uint8_t vn4[] = {4, 0x5b, 0, 0, 0, 0, 0, 0};
	static const uint8_t vn5[] = {5, 0x5a, 0, 0, 0, 0, 0, 0};
	struct endpoint bound;
	uint8_t status = 0;
	size_t need;

	ck_assert_int_eq(socks4_parse_reply(vn4, 8, &need, &status, &bound), 8);
	ck_assert_uint_eq(status, 0x5b);
	ck_assert_int_eq(socks4_parse_reply(vn5, 1, &need, &status, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks4_parse_reply(vn5, 8, &need, &status, &bound),
			 -EPROTO);
}
END_TEST

/* Every status byte: the four defined ones map to their errno, the rest to
 * EPROTO with one shared message. */
START_TEST(status_mapping)
{
	uint8_t st = (uint8_t)_i;
	int want;

	switch (st) {
	case 0x5a:
		want = 0;
		break;
	case 0x5b:
		want = ECONNREFUSED;
		break;
	case 0x5c:
		want = EACCES;
		break;
	case 0x5d:
		want = EPERM;
		break;
	default:
		want = EPROTO;
		break;
	}
	ck_assert_int_eq(socks4_reply_errno(st), want);
	ck_assert_ptr_nonnull(socks4_reply_message(st));
	if (want == EPROTO)
		ck_assert_str_eq(socks4_reply_message(st),
				 socks4_reply_message(0));
	else
		ck_assert_str_ne(socks4_reply_message(st),
				 socks4_reply_message(0));
}
END_TEST

static Suite *socks4_suite(void)
{
	Suite *s = suite_create("socks4");
	TCase *tc = tcase_create("codec");
	TCase *codes = tcase_create("status codes");

	tcase_add_test(tc, request_socks4);
	tcase_add_test(tc, request_socks4_no_user);
	tcase_add_test(tc, request_socks4a);
	tcase_add_test(tc, request_errors);
	tcase_add_test(tc, reply_split);
	tcase_add_test(tc, reply_versions);
	tcase_add_loop_test(codes, status_mapping, 0, 256);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, codes);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(socks4_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
