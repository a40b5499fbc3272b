/* test_endpoint.c — socket address and text conversions of endpoints. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"

START_TEST(from_sockaddr_ipv4)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(8080)};
	struct endpoint ep;
	static const uint8_t want[4] = {192, 0, 2, 7};

	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	ck_assert_int_eq(
	    endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(ep.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(ep.port, 8080);
	ck_assert_mem_eq(ep.u.ipv4, want, 4);
}
END_TEST

START_TEST(from_sockaddr_ipv6)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons(443)};
	struct endpoint ep;

	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	ck_assert_int_eq(
	    endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin6, sizeof(sin6)),
	    0);
	ck_assert_int_eq(ep.kind, ENDPOINT_IPV6);
	ck_assert_uint_eq(ep.port, 443);
	ck_assert_mem_eq(ep.u.ipv6, &sin6.sin6_addr, 16);
}
END_TEST

/* ::ffff:a.b.c.d must be routed exactly like IPv4. */
START_TEST(from_sockaddr_v4mapped)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons(80)};
	struct endpoint ep;
	static const uint8_t want[4] = {198, 18, 0, 1};

	inet_pton(AF_INET6, "::ffff:198.18.0.1", &sin6.sin6_addr);
	ck_assert_int_eq(
	    endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin6, sizeof(sin6)),
	    0);
	ck_assert_int_eq(ep.kind, ENDPOINT_IPV4);
	ck_assert_mem_eq(ep.u.ipv4, want, 4);
	ck_assert_uint_eq(ep.port, 80);
}
END_TEST

START_TEST(from_sockaddr_errors)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_storage ss = {.ss_family = AF_UNIX};
	struct endpoint ep;

	ck_assert_int_eq(endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin,
						sizeof(sin) - 1),
			 -EINVAL);
	ck_assert_int_eq(
	    endpoint_from_sockaddr(&ep, (struct sockaddr *)&ss, sizeof(ss)),
	    -EAFNOSUPPORT);
	ck_assert_int_eq(endpoint_from_sockaddr(&ep, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(to_sockaddr_roundtrip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct endpoint ep, back;
	char text[64];

	ck_assert_int_eq(endpoint_parse_ip(&ep, "127.0.0.1"), 0);
	ep.port = 1080;
	ck_assert_uint_eq(endpoint_to_sockaddr(&ep, AF_INET, &ss),
			  sizeof(*sin));
	ck_assert_uint_eq(ntohs(sin->sin_port), 1080);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	ck_assert_uint_eq(endpoint_to_sockaddr(&ep, AF_INET6, &ss),
			  sizeof(*sin6));
	inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
	ck_assert_str_eq(text, "::ffff:127.0.0.1");
	ck_assert_int_eq(endpoint_from_sockaddr(&back, (struct sockaddr *)&ss,
						sizeof(*sin6)),
			 0);
	ck_assert(endpoint_equal(&ep, &back));
}
END_TEST

START_TEST(to_sockaddr_impossible)
{
	struct sockaddr_storage ss;
	struct endpoint ep;

	ck_assert_int_eq(endpoint_parse_ip(&ep, "::1"), 0);
	ck_assert_uint_eq(endpoint_to_sockaddr(&ep, AF_INET, &ss), 0);
	ck_assert_int_eq(endpoint_set_name(&ep, "example.com", 11, 80), 0);
	ck_assert_uint_eq(endpoint_to_sockaddr(&ep, AF_INET, &ss), 0);
	ck_assert_uint_eq(endpoint_to_sockaddr(&ep, AF_INET6, &ss), 0);
}
END_TEST

START_TEST(set_name_limits)
{
	char name[300];
	struct endpoint ep;

	memset(name, 'a', sizeof(name));
	ck_assert_int_eq(endpoint_set_name(&ep, name, 255, 1), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_NAME);
	ck_assert_uint_eq(ep.name_len, 255);
	ck_assert_uint_eq(strlen(ep.u.name), 255);
	ck_assert_int_eq(endpoint_set_name(&ep, name, 256, 1), -ENAMETOOLONG);
	ck_assert_int_eq(endpoint_set_name(&ep, name, 0, 1), -EINVAL);
	ck_assert_int_eq(endpoint_set_name(&ep, "a\0b", 3, 1), -EINVAL);
}
END_TEST

START_TEST(name_check)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_set_name(&ep, "example.org", 11, 80), 0);
	ck_assert_int_eq(endpoint_name_check(&ep), 0);
	ep.name_len = 0;
	ck_assert_int_eq(endpoint_name_check(&ep), -EINVAL);
	/* No NUL within the buffer: longer than a length byte holds. */
	memset(ep.u.name, 'a', sizeof(ep.u.name));
	ep.name_len = 255;
	ck_assert_int_eq(endpoint_name_check(&ep), -ENAMETOOLONG);
}
END_TEST

START_TEST(parse_ip)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_parse_ip(&ep, "10.1.2.3"), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(ep.port, 0);
	ck_assert_int_eq(endpoint_parse_ip(&ep, "fe80::1"), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_IPV6);
	ck_assert_int_eq(endpoint_parse_ip(&ep, "example.com"), -EINVAL);
	ck_assert_int_eq(endpoint_parse_ip(&ep, "1.2.3"), -EINVAL);
	ck_assert_int_eq(endpoint_parse_ip(&ep, "[::1]"), -EINVAL);
	ck_assert_int_eq(endpoint_parse_ip(&ep, ""), -EINVAL);
}
END_TEST

START_TEST(format)
{
	struct endpoint ep;
	char buf[ENDPOINT_TEXT_MAX];
	char small[6];

	endpoint_parse_ip(&ep, "192.0.2.1");
	ep.port = 80;
	ck_assert_str_eq(endpoint_format(&ep, buf, sizeof(buf)),
			 "192.0.2.1:80");
	endpoint_parse_ip(&ep, "::1");
	ep.port = 1080;
	ck_assert_str_eq(endpoint_format(&ep, buf, sizeof(buf)), "[::1]:1080");
	endpoint_set_name(&ep, "example.org", 11, 443);
	ck_assert_str_eq(endpoint_format(&ep, buf, sizeof(buf)),
			 "example.org:443");
	ck_assert_str_eq(endpoint_format(&ep, small, sizeof(small)), "examp");
}
END_TEST

START_TEST(equal)
{
	struct endpoint a, b;

	endpoint_set_name(&a, "Example.COM", 11, 80);
	endpoint_set_name(&b, "example.com", 11, 80);
	ck_assert(endpoint_equal(&a, &b));
	b.port = 81;
	ck_assert(!endpoint_equal(&a, &b));
	endpoint_parse_ip(&a, "1.2.3.4");
	endpoint_parse_ip(&b, "1.2.3.4");
	ck_assert(endpoint_equal(&a, &b));
	endpoint_parse_ip(&b, "1.2.3.5");
	ck_assert(!endpoint_equal(&a, &b));
	endpoint_parse_ip(&b, "::1.2.3.4");
	ck_assert(!endpoint_equal(&a, &b));
}
END_TEST

/* The kernel's rules for getpeername()/accept(): truncate to *len, report
 * the full length; IPv4 on an AF_INET6 socket is v4-mapped. */
START_TEST(copy_sockaddr_truncates_like_the_kernel)
{
	struct endpoint ep;
	struct sockaddr_in6 six;
	struct sockaddr_in four;
	uint8_t small[4] = {0xaa, 0xaa, 0xaa, 0xaa};
	socklen_t len = sizeof four;
	sa_family_t family;

	ck_assert_int_eq(endpoint_parse_ip(&ep, "192.0.2.7"), 0);
	ep.port = 8080;
	ck_assert_int_eq(endpoint_copy_sockaddr(&ep, AF_INET,
						(struct sockaddr *)&four, &len),
			 0);
	ck_assert_uint_eq(len, sizeof four);
	ck_assert_uint_eq(ntohs(four.sin_port), 8080);
	ck_assert_uint_eq(ntohl(four.sin_addr.s_addr), 0xc0000207);

	len = sizeof six;
	ck_assert_int_eq(endpoint_copy_sockaddr(&ep, AF_INET6,
						(struct sockaddr *)&six, &len),
			 0);
	ck_assert_uint_eq(len, sizeof six);
	ck_assert(IN6_IS_ADDR_V4MAPPED(&six.sin6_addr));

	len = sizeof small; /* only 4 bytes fit: the rest is not touched */
	ck_assert_int_eq(endpoint_copy_sockaddr(&ep, AF_INET,
						(struct sockaddr *)small, &len),
			 0);
	ck_assert_uint_eq(len, sizeof four);
	memcpy(&family, small, sizeof family);
	ck_assert_uint_eq(family, AF_INET);
	ck_assert_uint_eq(small[2] << 8 | small[3], 8080); /* network order */

	len = 0;
	ck_assert_int_eq(endpoint_copy_sockaddr(&ep, AF_INET, NULL, &len), 0);
	ck_assert_uint_eq(len, sizeof four);
	ck_assert_int_eq(endpoint_copy_sockaddr(&ep, AF_INET, NULL, NULL),
			 -EFAULT);

	ck_assert_int_eq(endpoint_parse_ip(&ep, "2001:db8::1"), 0);
	len = sizeof four;
	ck_assert_int_eq(endpoint_copy_sockaddr(&ep, AF_INET,
						(struct sockaddr *)&four, &len),
			 -EAFNOSUPPORT);
}
END_TEST

static Suite *endpoint_suite(void)
{
	Suite *s = suite_create("endpoint");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, from_sockaddr_ipv4);
	tcase_add_test(tc, from_sockaddr_ipv6);
	tcase_add_test(tc, from_sockaddr_v4mapped);
	tcase_add_test(tc, from_sockaddr_errors);
	tcase_add_test(tc, to_sockaddr_roundtrip);
	tcase_add_test(tc, to_sockaddr_impossible);
	tcase_add_test(tc, set_name_limits);
	tcase_add_test(tc, name_check);
	tcase_add_test(tc, parse_ip);
	tcase_add_test(tc, format);
	tcase_add_test(tc, equal);
	tcase_add_test(tc, copy_sockaddr_truncates_like_the_kernel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(endpoint_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
