/* test_proxyaddr.c — where the first proxy lives (common/proxyaddr.c): an
 * address as it is, a host name through the resolver it is given (the
 * first address of each family kept), a failed lookup, and the socket
 * address each family of socket gets. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "proxyaddr.h"

/* A scripted resolver: 192.0.2.7, 192.0.2.8, 2001:db8::7 (or an error). */
static int resolver_error;
static struct sockaddr_in v4[2];
static struct sockaddr_in6 v6;
static struct addrinfo answers[3];

static int fake_getaddrinfo(const char *node, const char *service,
			    const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	if (resolver_error)
		return resolver_error;
	for (int i = 0; i < 2; i++) {
		v4[i].sin_family = AF_INET;
		v4[i].sin_addr.s_addr = htonl(0xc0000207u + (uint32_t)i);
		answers[i].ai_addr = (struct sockaddr *)&v4[i];
		answers[i].ai_addrlen = sizeof v4[i];
		answers[i].ai_next = &answers[i + 1];
	}
	v6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr);
	answers[2].ai_addr = (struct sockaddr *)&v6;
	answers[2].ai_addrlen = sizeof v6;
	answers[2].ai_next = NULL;
	*res = &answers[0];
	return 0;
}

static void fake_freeaddrinfo(struct addrinfo *res)
{
	(void)res;
}

static const struct proxy_resolver resolver = {fake_getaddrinfo,
					       fake_freeaddrinfo};

START_TEST(an_address_is_kept_as_it_is)
{
	struct proxy_addresses pa;
	struct endpoint addr;
	struct sockaddr_storage ss;

	ck_assert_int_eq(endpoint_parse_ip(&addr, "127.0.0.1"), 0);
	addr.port = 1080;
	ck_assert_int_eq(proxyaddr_find(&pa, &addr, &resolver), 0);
	ck_assert(pa.have_ipv4);
	ck_assert(!pa.have_ipv6);
	ck_assert(proxyaddr_is(&pa, &addr));
	ck_assert_int_eq(proxyaddr_sockaddr(&pa, AF_INET, &ss),
			 (int)sizeof(struct sockaddr_in));
	/* An AF_INET6 socket reaches it as ::ffff:127.0.0.1. */
	ck_assert_int_eq(proxyaddr_sockaddr(&pa, AF_INET6, &ss),
			 (int)sizeof(struct sockaddr_in6));
}
END_TEST

START_TEST(a_name_keeps_the_first_of_each_family)
{
	struct proxy_addresses pa;
	struct endpoint addr, other;

	ck_assert_int_eq(endpoint_set_name(&addr, "proxy.test", 10, 1080), 0);
	resolver_error = 0;
	ck_assert_int_eq(proxyaddr_find(&pa, &addr, &resolver), 0);
	ck_assert(pa.have_ipv4 && pa.have_ipv6);
	ck_assert_int_eq(endpoint_parse_ip(&other, "192.0.2.7"), 0);
	other.port = 1080;
	ck_assert(proxyaddr_is(&pa, &other));
	other.port = 1081;
	ck_assert(!proxyaddr_is(&pa, &other));
	ck_assert_int_eq(endpoint_parse_ip(&other, "192.0.2.8"), 0);
	other.port = 1080;
	ck_assert(!proxyaddr_is(&pa, &other)); /* not the first IPv4 one */
	ck_assert_int_eq(endpoint_parse_ip(&other, "2001:db8::7"), 0);
	other.port = 1080;
	ck_assert(proxyaddr_is(&pa, &other));
}
END_TEST

START_TEST(a_failed_lookup_leaves_nothing)
{
	struct proxy_addresses pa;
	struct endpoint addr;
	struct sockaddr_storage ss;

	ck_assert_int_eq(endpoint_set_name(&addr, "proxy.test", 10, 1080), 0);
	resolver_error = EAI_NONAME;
	ck_assert_int_eq(proxyaddr_find(&pa, &addr, &resolver), EAI_NONAME);
	resolver_error = 0;
	ck_assert(!pa.have_ipv4 && !pa.have_ipv6);
	ck_assert_int_eq(proxyaddr_sockaddr(&pa, AF_INET, &ss), -EHOSTUNREACH);
}
END_TEST

START_TEST(an_ipv6_proxy_is_out_of_reach_of_ipv4_sockets)
{
	struct proxy_addresses pa;
	struct endpoint addr;
	struct sockaddr_storage ss;

	ck_assert_int_eq(endpoint_parse_ip(&addr, "::1"), 0);
	addr.port = 1080;
	ck_assert_int_eq(proxyaddr_find(&pa, &addr, &resolver), 0);
	ck_assert_int_eq(proxyaddr_sockaddr(&pa, AF_INET, &ss), -EAFNOSUPPORT);
	ck_assert_int_eq(proxyaddr_sockaddr(&pa, AF_INET6, &ss),
			 (int)sizeof(struct sockaddr_in6));
}
END_TEST

/* The text the helper hands the library under the guard, and back. */
START_TEST(text_round_trip)
{
	struct proxy_addresses pa, back;
	struct endpoint addr, other;
	char text[128];

	ck_assert_int_eq(endpoint_set_name(&addr, "proxy.test", 10, 1080), 0);
	resolver_error = 0;
	ck_assert_int_eq(proxyaddr_find(&pa, &addr, &resolver), 0);
	ck_assert_int_gt(proxyaddr_to_text(&pa, &addr, text, sizeof text), 0);
	ck_assert_str_eq(text, "proxy.test 192.0.2.7 2001:db8::7");
	ck_assert_int_eq(proxyaddr_from_text(&back, &addr, text), 0);
	ck_assert(back.have_ipv4 && back.have_ipv6);
	ck_assert(endpoint_equal(&back.ipv4, &pa.ipv4));
	ck_assert(endpoint_equal(&back.ipv6, &pa.ipv6));
	/* One family only. */
	ck_assert_int_eq(proxyaddr_from_text(&back, &addr, "proxy.test - ::1"),
			 0);
	ck_assert(!back.have_ipv4 && back.have_ipv6);
	ck_assert_uint_eq(back.ipv6.port, 1080);
	/* Too small a buffer, an address for no name. */
	ck_assert_int_eq(proxyaddr_to_text(&pa, &addr, text, 12), -ENOSPC);
	ck_assert_int_eq(endpoint_parse_ip(&other, "192.0.2.7"), 0);
	ck_assert_int_eq(proxyaddr_to_text(&pa, &other, text, sizeof text),
			 -EINVAL);
}
END_TEST

START_TEST(text_refused)
{
	static const char *const bad[] = {
	    "other.test 192.0.2.7 -", /* another name */
	    "proxy.test - -",	      /* nothing */
	    "proxy.test ::1 -",	      /* families swapped */
	    "proxy.test 192.0.2.7",   /* short */
	    "proxy.test 192.0.2.7 - x", "proxy.test 300.0.0.1 -", "",
	};
	struct proxy_addresses pa;
	struct endpoint addr;

	ck_assert_int_eq(endpoint_set_name(&addr, "proxy.test", 10, 1080), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(proxyaddr_from_text(&pa, &addr, bad[i]),
				 -EINVAL);
		ck_assert(!pa.have_ipv4 && !pa.have_ipv6);
	}
}
END_TEST

static Suite *proxyaddr_suite(void)
{
	Suite *s = suite_create("proxyaddr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, an_address_is_kept_as_it_is);
	tcase_add_test(tc, a_name_keeps_the_first_of_each_family);
	tcase_add_test(tc, a_failed_lookup_leaves_nothing);
	tcase_add_test(tc, an_ipv6_proxy_is_out_of_reach_of_ipv4_sockets);
	tcase_add_test(tc, text_round_trip);
	tcase_add_test(tc, text_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(proxyaddr_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? 1 : 0;
}
