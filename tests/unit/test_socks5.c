/* test_socks5.c — RFC 1928 / RFC 1929 encoders and parsers, byte-exact. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

static struct endpoint ep_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			       uint16_t port)
{
	struct endpoint ep = {.kind = ENDPOINT_IPV4, .port = port};

	ep.u.ipv4[0] = a;
	ep.u.ipv4[1] = b;
	ep.u.ipv4[2] = c;
	ep.u.ipv4[3] = d;
	return ep;
}

START_TEST(greeting_no_auth)
{
	static const uint8_t methods[] = {SOCKS5_METHOD_NONE};
	static const uint8_t want[] = {0x05, 0x01, 0x00};
	uint8_t buf[16];

	ck_assert_int_eq(socks5_build_greeting(buf, sizeof(buf), methods, 1),
			 sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(greeting_with_userpass)
{
	static const uint8_t methods[] = {SOCKS5_METHOD_NONE,
					  SOCKS5_METHOD_USERPASS};
	static const uint8_t want[] = {0x05, 0x02, 0x00, 0x02};
	uint8_t buf[16];

	ck_assert_int_eq(socks5_build_greeting(buf, sizeof(buf), methods, 2),
			 sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(socks5_build_greeting(buf, 3, methods, 2), -ENOSPC);
	ck_assert_int_eq(socks5_build_greeting(buf, sizeof(buf), methods, 0),
			 -EINVAL);
}
END_TEST

START_TEST(parse_method)
{
	static const uint8_t ok[] = {0x05, 0x02};
	static const uint8_t bad[] = {0x04, 0x00};
	uint8_t method = 0x77;
	size_t need = 0;

	ck_assert_int_eq(socks5_parse_method(ok, 0, &need, &method), 0);
	ck_assert_uint_eq(need, 2);
	ck_assert_int_eq(socks5_parse_method(ok, 1, &need, &method), 0);
	ck_assert_uint_eq(need, 2);
	ck_assert_uint_eq(method, 0x77);
	ck_assert_int_eq(socks5_parse_method(ok, 2, &need, &method), 2);
	ck_assert_uint_eq(method, SOCKS5_METHOD_USERPASS);
	ck_assert_int_eq(socks5_parse_method(bad, 1, &need, &method), -EPROTO);
	ck_assert_int_eq(socks5_parse_method(bad, 2, &need, &method), -EPROTO);
}
END_TEST

/* RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD. */
START_TEST(auth_request)
{
	static const uint8_t want[] = {0x01, 0x04, 'u', 's', 'e', 'r', 0x06,
				       's',  'e',  'c', 'r', 'e', 't'};
	uint8_t buf[600];
	char longname[256];

	ck_assert_int_eq(
	    socks5_build_auth(buf, sizeof(buf), "user", 4, "secret", 6),
	    sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(
	    socks5_build_auth(buf, sizeof(want) - 1, "user", 4, "secret", 6),
	    -ENOSPC);
	memset(longname, 'x', sizeof(longname));
	ck_assert_int_eq(
	    socks5_build_auth(buf, sizeof(buf), longname, 255, longname, 255),
	    3 + 255 + 255);
	ck_assert_uint_eq(buf[1], 255);
	ck_assert_uint_eq(buf[2 + 255], 255);
	ck_assert_int_eq(
	    socks5_build_auth(buf, sizeof(buf), longname, 256, "p", 1),
	    -EINVAL);
	ck_assert_int_eq(
	    socks5_build_auth(buf, sizeof(buf), "u", 1, longname, 256),
	    -EINVAL);
	ck_assert_int_eq(socks5_build_auth(buf, sizeof(buf), "", 0, "p", 1),
			 -EINVAL);
	ck_assert_int_eq(socks5_build_auth(buf, sizeof(buf), "u", 1, "", 0),
			 -EINVAL);
}
END_TEST

START_TEST(auth_reply)
{
	static const uint8_t ok[] = {0x01, 0x00};
	static const uint8_t denied[] = {0x01, 0x01};
	static const uint8_t badver[] = {0x05, 0x00};
	uint8_t status = 0x55;
	size_t need = 0;

	ck_assert_int_eq(socks5_parse_auth_reply(ok, 1, &need, &status), 0);
	ck_assert_uint_eq(need, 2);
	ck_assert_int_eq(socks5_parse_auth_reply(ok, 2, &need, &status), 2);
	ck_assert_uint_eq(status, 0);
	ck_assert_int_eq(socks5_parse_auth_reply(denied, 2, &need, &status), 2);
	ck_assert_uint_eq(status, 1);
	ck_assert_int_eq(socks5_parse_auth_reply(badver, 2, &need, &status),
			 -EPROTO);
}
END_TEST

START_TEST(request_ipv4)
{
	static const uint8_t want[] = {0x05, 0x01, 0x00, 0x01, 192,
				       0,    2,	   10,	 0x00, 0x50};
	struct endpoint ep = ep_ipv4(192, 0, 2, 10, 80);
	uint8_t buf[SOCKS5_REQUEST_MAX];

	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	ck_assert_int_eq(socks5_build_request(buf, sizeof(want) - 1,
					      SOCKS5_CMD_CONNECT, &ep),
			 -ENOSPC);
}
END_TEST

START_TEST(request_ipv6)
{
	static const uint8_t want[] = {
	    0x05, 0x01, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0,	  0,	0,
	    0,	  0,	0,    0,    0,	  0,	0,    0,    0x01, 0x01, 0xbb};
	struct endpoint ep = {.kind = ENDPOINT_IPV6, .port = 443};
	uint8_t buf[SOCKS5_REQUEST_MAX];

	memcpy(ep.u.ipv6, want + 4, 16);
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(request_domain)
{
	static const uint8_t want[] = {5,   1,	 0,   3,   11,	 'e',
				       'x', 'a', 'm', 'p', 'l',	 'e',
				       '.', 'c', 'o', 'm', 0x01, 0xbb};
	struct endpoint ep;
	uint8_t buf[SOCKS5_REQUEST_MAX];

	ck_assert_int_eq(endpoint_set_name(&ep, "example.com", 11, 443), 0);
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(request_commands)
{
	struct endpoint ep = ep_ipv4(0, 0, 0, 0, 0);
	uint8_t buf[SOCKS5_REQUEST_MAX];

	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_BIND, &ep), 10);
	ck_assert_uint_eq(buf[1], 0x02);
	ck_assert_int_eq(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_UDP_ASSOCIATE, &ep),
			 10);
	ck_assert_uint_eq(buf[1], 0x03);
	ck_assert_int_eq(socks5_build_request(buf, sizeof(buf), 0x09, &ep),
			 -EINVAL);
	ck_assert_int_eq(socks5_build_request(buf, sizeof(buf), 0xf2, &ep),
			 -EINVAL);
	/* Tor's RESOLVE_PTR takes an address; RESOLVE a name (or address) */
	ck_assert_int_eq(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_TOR_RESOLVE_PTR, &ep),
			 10);
	ck_assert_uint_eq(buf[1], 0xf1);
	ck_assert_int_eq(endpoint_set_name(&ep, "a.onion", 7, 0), 0);
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_TOR_RESOLVE, &ep),
	    3 + 2 + 7 + 2);
	ck_assert_uint_eq(buf[1], 0xf0);
	ck_assert_uint_eq(buf[3], SOCKS5_ATYP_DOMAIN);
	ck_assert_int_eq(socks5_build_request(buf, sizeof(buf),
					      SOCKS5_CMD_TOR_RESOLVE_PTR, &ep),
			 -EINVAL);
}
END_TEST

/* A 255-byte name is the longest; the request then is the maximum size. */
START_TEST(request_name_limits)
{
	struct endpoint ep;
	uint8_t buf[SOCKS5_REQUEST_MAX];
	char name[256];

	memset(name, 'n', sizeof(name));
	ck_assert_int_eq(endpoint_set_name(&ep, name, 255, 1), 0);
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    SOCKS5_REQUEST_MAX);
	ck_assert_uint_eq(buf[4], 255);
	/* A name not terminated within its buffer is too long to send. */
	memset(ep.u.name, 'n', sizeof(ep.u.name));
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    -ENAMETOOLONG);
	ep.name_len = 0;
	ep.u.name[0] = '\0';
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    -EINVAL);
	ep.kind = ENDPOINT_NONE;
	ck_assert_int_eq(
	    socks5_build_request(buf, sizeof(buf), SOCKS5_CMD_CONNECT, &ep),
	    -EINVAL);
}
END_TEST

/* Feed the parser one more byte at a time: it must ask for 5, then the
 * exact total, and never consume more than the reply. */
static void parse_bytewise(const uint8_t *reply, size_t len)
{
	struct endpoint bound;
	uint8_t rep = 0xee;
	size_t have, need = 0;
	long n;

	for (have = 0; have < len; have++) {
		n = socks5_parse_reply(reply, have, &need, &rep, &bound);
		ck_assert_int_eq(n, 0);
		ck_assert_uint_gt(need, have);
		ck_assert_uint_le(need, len);
		ck_assert_uint_eq(need, have < 5 ? 5 : len);
	}
	n = socks5_parse_reply(reply, len, &need, &rep, &bound);
	ck_assert_int_eq(n, (long)len);
}

START_TEST(reply_ipv4_split)
{
	static const uint8_t reply[] = {5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90};
	struct endpoint bound;
	uint8_t rep = 0xee;
	size_t need;

	parse_bytewise(reply, sizeof(reply));
	ck_assert_int_eq(
	    socks5_parse_reply(reply, sizeof(reply), &need, &rep, &bound), 10);
	ck_assert_uint_eq(rep, 0);
	ck_assert_int_eq(bound.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(bound.port, 8080);
	ck_assert_uint_eq(bound.u.ipv4[0], 10);
	ck_assert_uint_eq(bound.u.ipv4[3], 1);
}
END_TEST

START_TEST(reply_ipv6_split)
{
	uint8_t reply[22] = {5, 0, 0, 4};
	struct endpoint bound;
	uint8_t rep;
	size_t need;

	reply[4] = 0x20;
	reply[19] = 0x99;
	reply[20] = 0x04;
	reply[21] = 0x38;
	parse_bytewise(reply, sizeof(reply));
	ck_assert_int_eq(
	    socks5_parse_reply(reply, sizeof(reply), &need, &rep, &bound), 22);
	ck_assert_int_eq(bound.kind, ENDPOINT_IPV6);
	ck_assert_mem_eq(bound.u.ipv6, reply + 4, 16);
	ck_assert_uint_eq(bound.port, 1080);
}
END_TEST

START_TEST(reply_domain_split_and_coalesced)
{
	static const uint8_t reply[] = {5,   0,	  0,	3,    4,   'h', 'o',
					's', 't', 0x00, 0x35, 'A', 'P', 'P'};
	size_t reply_len = sizeof(reply) - 3; /* app data follows */
	struct endpoint bound;
	uint8_t rep;
	size_t need;

	parse_bytewise(reply, reply_len);
	ck_assert_int_eq(
	    socks5_parse_reply(reply, sizeof(reply), &need, &rep, &bound),
	    (long)reply_len);
	ck_assert_int_eq(bound.kind, ENDPOINT_NAME);
	ck_assert_uint_eq(bound.name_len, 4);
	ck_assert_str_eq(bound.u.name, "host");
	ck_assert_uint_eq(bound.port, 53);
}
END_TEST

START_TEST(reply_nonzero_rep_is_parsed)
{
	static const uint8_t reply[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
	struct endpoint bound;
	uint8_t rep = 0;
	size_t need;

	ck_assert_int_eq(
	    socks5_parse_reply(reply, sizeof(reply), &need, &rep, &bound), 10);
	ck_assert_uint_eq(rep, 5);
}
END_TEST

START_TEST(reply_malformed)
{
	static const uint8_t badver[] = {4, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t badrsv[] = {5, 0, 1, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t badatyp[] = {5, 0, 0, 2, 0, 0, 0, 0, 0, 0};
	static const uint8_t emptyname[] = {5, 0, 0, 3, 0, 0, 0};
	struct endpoint bound;
	uint8_t rep;
	size_t need;

	ck_assert_int_eq(socks5_parse_reply(badver, 1, &need, &rep, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks5_parse_reply(badver, 10, &need, &rep, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks5_parse_reply(badrsv, 3, &need, &rep, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks5_parse_reply(badrsv, 10, &need, &rep, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks5_parse_reply(badatyp, 4, &need, &rep, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks5_parse_reply(badatyp, 10, &need, &rep, &bound),
			 -EPROTO);
	ck_assert_int_eq(socks5_parse_reply(emptyname, 4, &need, &rep, &bound),
			 0);
	ck_assert_int_eq(socks5_parse_reply(emptyname, 5, &need, &rep, &bound),
			 -EPROTO);
}
END_TEST

/* A name with a NUL byte inside is not the name it claims to be (the UDP
 * path rejects it too): the reply is a protocol error, for CONNECT and BIND
 * alike, wherever the NUL sits. */
START_TEST(reply_domain_with_nul)
{
	static const uint8_t inner[] = {5, 0, 0, 3, 4, 'h', 0, 's', 't', 0, 53};
	static const uint8_t first[] = {5, 0, 0, 3, 4, 0, 'o', 's', 't', 0, 53};
	static const uint8_t last[] = {5, 0, 0, 3, 4, 'h', 'o', 's', 0, 0, 53};
	struct endpoint bound;
	uint8_t rep;
	size_t need;

	ck_assert_int_eq(
	    socks5_parse_reply(inner, sizeof(inner), &need, &rep, &bound),
	    -EPROTO);
	ck_assert_int_eq(
	    socks5_parse_reply(first, sizeof(first), &need, &rep, &bound),
	    -EPROTO);
	ck_assert_int_eq(
	    socks5_parse_reply(last, sizeof(last), &need, &rep, &bound),
	    -EPROTO);
	/* Short of the whole name it still asks for more. */
	ck_assert_int_eq(socks5_parse_reply(inner, 7, &need, &rep, &bound), 0);
	ck_assert_uint_eq(need, sizeof(inner));
}
END_TEST

static const int rep_errno_table[] = {
    [0x00] = 0,		  [0x01] = ECONNABORTED, [0x02] = EACCES,
    [0x03] = ENETUNREACH, [0x04] = EHOSTUNREACH, [0x05] = ECONNREFUSED,
    [0x06] = ETIMEDOUT,	  [0x07] = EOPNOTSUPP,	 [0x08] = EAFNOSUPPORT,
};

/* Every code 0x00..0xff: the table above, EPROTO beyond it; each defined
 * code has its own message and the undefined ones share one. */
START_TEST(reply_code_mapping)
{
	uint8_t rep = (uint8_t)_i;
	const char *msg = socks5_reply_message(rep);
	int want = _i < 9 ? rep_errno_table[_i] : EPROTO;

	ck_assert_int_eq(socks5_reply_errno(rep), want);
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 0);
	if (_i < 9 && _i > 0)
		ck_assert_str_ne(msg, socks5_reply_message((uint8_t)(_i - 1)));
	if (_i >= 9)
		ck_assert_str_eq(msg, socks5_reply_message(0xff));
}
END_TEST

static Suite *socks5_suite(void)
{
	Suite *s = suite_create("socks5");
	TCase *enc = tcase_create("encode");
	TCase *dec = tcase_create("parse");
	TCase *codes = tcase_create("reply codes");

	tcase_add_test(enc, greeting_no_auth);
	tcase_add_test(enc, greeting_with_userpass);
	tcase_add_test(enc, auth_request);
	tcase_add_test(enc, request_ipv4);
	tcase_add_test(enc, request_ipv6);
	tcase_add_test(enc, request_domain);
	tcase_add_test(enc, request_commands);
	tcase_add_test(enc, request_name_limits);
	tcase_add_test(dec, parse_method);
	tcase_add_test(dec, auth_reply);
	tcase_add_test(dec, reply_ipv4_split);
	tcase_add_test(dec, reply_ipv6_split);
	tcase_add_test(dec, reply_domain_split_and_coalesced);
	tcase_add_test(dec, reply_nonzero_rep_is_parsed);
	tcase_add_test(dec, reply_malformed);
	tcase_add_test(dec, reply_domain_with_nul);
	tcase_add_loop_test(codes, reply_code_mapping, 0, 256);
	suite_add_tcase(s, enc);
	suite_add_tcase(s, dec);
	suite_add_tcase(s, codes);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(socks5_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
