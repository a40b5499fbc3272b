/* test_addrinfo.c — Check suite for common/addrinfo.c: numeric-host
 * detection, socket-type expansion and service rules (compared with this
 * machine's glibc, which resolves numeric hosts without any lookup), node
 * layout (freed by glibc's own freeaddrinfo), and hostent filling. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "addrinfo.h"

/* A service table for tests that must not depend on /etc/services. */
static int fake_services(const char *service, const char *proto)
{
	if (!strcmp(service, "web") && !strcmp(proto, "tcp"))
		return 8080;
	if (!strcmp(service, "both") &&
	    (!strcmp(proto, "tcp") || !strcmp(proto, "udp")))
		return 53;
	return -1;
}

/* The system's service table, as the preload hook uses it. */
static int system_services(const char *service, const char *proto)
{
	struct servent se, *found = NULL;
	char buf[1024];

	if (getservbyname_r(service, proto, &se, buf, sizeof buf, &found) ||
	    !found)
		return -1;
	return ntohs((uint16_t)found->s_port);
}

static struct endpoint ip(const char *text, uint16_t port)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_parse_ip(&ep, text), 0);
	ep.port = port;
	return ep;
}

static const struct {
	const char *text;
	bool numeric;
} numeric_cases[] = {
    {"1.2.3.4", true},	    {"127.1", true},	  {"0x7f000001", true},
    {"017.1", true},	    {"4294967295", true}, {"1.2.65535", true},
    {"::1", true},	    {"fe80::1%lo", true}, {"::ffff:1.2.3.4", true},
    {"4294967296", false},  {"1.2.3.4.", false},  {"1.2.3.4 ", false},
    {"0x", false},	    {"08", false},	  {"1.256.3.4", false},
    {"1.2.3.4.5", false},   {"1.2.65536", false}, {"", false},
    {"example.com", false}, {"fe80::1%", false},  {"abc:def", false},
    {"1..2", false},
};

START_TEST(numeric_host_matches_inet_aton_forms)
{
	ck_assert_msg(addrinfo_is_numeric_host(numeric_cases[_i].text) ==
			  numeric_cases[_i].numeric,
		      "%s", numeric_cases[_i].text);
}
END_TEST

/* glibc itself must agree: AI_NUMERICHOST succeeds exactly for numerics. */
START_TEST(numeric_host_agrees_with_glibc)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *res = NULL;
	int rc = getaddrinfo(numeric_cases[_i].text, NULL, &hints, &res);

	ck_assert_msg((rc == 0) == numeric_cases[_i].numeric, "%s: %d",
		      numeric_cases[_i].text, rc);
	if (res)
		freeaddrinfo(res);
}
END_TEST

START_TEST(numeric_host_null_is_not_numeric)
{
	ck_assert(!addrinfo_is_numeric_host(NULL));
}
END_TEST

START_TEST(fake_range_membership)
{
	struct netmask v4, v6, none = {.family = AF_UNSPEC};
	struct endpoint in4 = ip("240.0.0.5", 0), out4 = ip("10.0.0.1", 0);
	struct endpoint in6 = ip("fd5c:6f63:6b73::5", 0), out6 = ip("::1", 0);
	struct endpoint name;

	ck_assert_int_eq(netmask_parse(&v4, "240.0.0.0/4"), 0);
	ck_assert_int_eq(netmask_parse(&v6, "fd5c:6f63:6b73::/48"), 0);
	ck_assert_int_eq(endpoint_set_name(&name, "a.test", 6, 0), 0);
	ck_assert(addrinfo_is_fake(&v4, &v6, &in4));
	ck_assert(addrinfo_is_fake(&v4, &v6, &in6));
	ck_assert(!addrinfo_is_fake(&v4, &v6, &out4));
	ck_assert(!addrinfo_is_fake(&v4, &v6, &out6));
	ck_assert(!addrinfo_is_fake(&v4, &v6, &name));
	/* A missing range (AF_UNSPEC) must not match everything. */
	ck_assert(!addrinfo_is_fake(&none, &none, &out4));
	ck_assert(!addrinfo_is_fake(&none, &none, &in6));
}
END_TEST

START_TEST(hints_checked_like_glibc)
{
	struct addrinfo h = {.ai_family = AF_UNIX};

	ck_assert_int_eq(addrinfo_check_hints(NULL), 0);
	ck_assert_int_eq(addrinfo_check_hints(&h), EAI_FAMILY);
	h.ai_family = AF_INET6;
	ck_assert_int_eq(addrinfo_check_hints(&h), 0);
	h.ai_flags = 0x10000;
	ck_assert_int_eq(addrinfo_check_hints(&h), EAI_BADFLAGS);
	h.ai_flags = AI_CANONNAME | AI_NUMERICSERV | AI_ADDRCONFIG | AI_ALL;
	ck_assert_int_eq(addrinfo_check_hints(&h), 0);
}
END_TEST

/* Hints and services whose answers are compared with glibc's for a numeric
 * host. Includes every error path glibc reaches before resolving a name. */
static const struct {
	int socktype, protocol, flags;
	const char *service;
} glibc_cases[] = {
    {0, 0, 0, NULL},
    {0, 0, 0, "80"},
    {0, 0, 0, ""},
    {0, 0, 0, "domain"},
    {0, 0, 0, "http"},
    {0, 0, 0, "no-such-service"},
    {0, 0, AI_NUMERICSERV, "http"},
    {0, 0, AI_NUMERICSERV, "443"},
    {SOCK_STREAM, 0, 0, "ssh"},
    {SOCK_DGRAM, 0, 0, "ssh"},
    {SOCK_DGRAM, 0, 0, "domain"},
    {SOCK_STREAM, IPPROTO_UDP, 0, "80"},
    {SOCK_RAW, 0, 0, "80"},
    {SOCK_RAW, 0, 0, NULL},
    {SOCK_RAW, 55, 0, NULL},
    {0, IPPROTO_UDP, 0, "80"},
    {0, IPPROTO_SCTP, 0, "80"},
    {SOCK_SEQPACKET, 0, 0, "80"},
    {99, 0, 0, "80"},
    {0, 99, 0, "80"},
    {SOCK_STREAM, 0, 0, "65536"},
};

static void assert_same_node(const struct addrinfo *a, const struct addrinfo *b)
{
	ck_assert_int_eq(a->ai_family, b->ai_family);
	ck_assert_int_eq(a->ai_socktype, b->ai_socktype);
	ck_assert_int_eq(a->ai_protocol, b->ai_protocol);
	ck_assert_int_eq(a->ai_flags, b->ai_flags);
	ck_assert_uint_eq(a->ai_addrlen, b->ai_addrlen);
	ck_assert_mem_eq(a->ai_addr, b->ai_addr, a->ai_addrlen);
}

static void compare_with_glibc(int index, const char *host, int family)
{
	struct addrinfo hints = {.ai_family = family};
	struct addrinfo *ours = NULL, *theirs = NULL, *a, *b;
	struct endpoint ep = ip(host, 0);
	int rc_ours, rc_glibc;

	hints.ai_socktype = glibc_cases[index].socktype;
	hints.ai_protocol = glibc_cases[index].protocol;
	hints.ai_flags = glibc_cases[index].flags;
	rc_glibc =
	    getaddrinfo(host, glibc_cases[index].service, &hints, &theirs);
	rc_ours = addrinfo_build(&ep, 1, glibc_cases[index].service, &hints,
				 host, system_services, &ours);
	/* glibc caps a port above 65535 silently; we refuse it. */
	if (glibc_cases[index].service &&
	    !strcmp(glibc_cases[index].service, "65536")) {
		ck_assert_int_eq(rc_ours, EAI_SERVICE);
		freeaddrinfo(theirs);
		return;
	}
	ck_assert_msg(rc_ours == rc_glibc, "case %d: ours %d glibc %d", index,
		      rc_ours, rc_glibc);
	for (a = ours, b = theirs; a && b; a = a->ai_next, b = b->ai_next)
		assert_same_node(a, b);
	ck_assert_msg(!a && !b, "case %d: lists differ in length", index);
	if (theirs)
		freeaddrinfo(theirs);
	if (ours)
		freeaddrinfo(ours); /* glibc's own free must accept ours */
}

START_TEST(socktypes_match_glibc_ipv4)
{
	compare_with_glibc(_i, "192.0.2.7", AF_INET);
}
END_TEST

START_TEST(socktypes_match_glibc_ipv6)
{
	compare_with_glibc(_i, "2001:db8::7", AF_UNSPEC);
}
END_TEST

START_TEST(socktypes_default_expansion)
{
	struct addrinfo_socktype t[ADDRINFO_MAX_TYPES];
	size_t n;

	ck_assert_int_eq(addrinfo_socktypes(NULL, "80", NULL, t, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(t[0].socktype, SOCK_STREAM);
	ck_assert_int_eq(t[0].protocol, IPPROTO_TCP);
	ck_assert_int_eq(t[1].socktype, SOCK_DGRAM);
	ck_assert_int_eq(t[1].protocol, IPPROTO_UDP);
	ck_assert_int_eq(t[2].socktype, SOCK_RAW);
	ck_assert_int_eq(t[2].protocol, 0);
	ck_assert_uint_eq(t[0].port, 80);
	ck_assert_uint_eq(t[2].port, 80);
}
END_TEST

START_TEST(socktypes_named_service_uses_lookup)
{
	struct addrinfo_socktype t[ADDRINFO_MAX_TYPES];
	struct addrinfo h = {.ai_flags = AI_NUMERICSERV};
	size_t n;

	ck_assert_int_eq(addrinfo_socktypes(NULL, "web", fake_services, t, &n),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(t[0].port, 8080);
	ck_assert_int_eq(addrinfo_socktypes(NULL, "both", fake_services, t, &n),
			 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(t[1].socktype, SOCK_DGRAM);
	ck_assert_int_eq(
	    addrinfo_socktypes(NULL, "nothing", fake_services, t, &n),
	    EAI_SERVICE);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(addrinfo_socktypes(NULL, "web", NULL, t, &n),
			 EAI_SERVICE);
	ck_assert_int_eq(addrinfo_socktypes(&h, "web", fake_services, t, &n),
			 EAI_NONAME);
}
END_TEST

static const struct endpoint *two_addresses(void)
{
	static struct endpoint eps[2];

	eps[0] = ip("240.0.0.5", 0);
	eps[1] = ip("fd5c:6f63:6b73::5", 0);
	return eps;
}

START_TEST(build_layout_and_order)
{
	struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res, *ai;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	int i = 0;

	ck_assert_int_eq(addrinfo_build(two_addresses(), 2, "443", &hints,
					"x.test", NULL, &res),
			 0);
	ck_assert_str_eq(res->ai_canonname, "x.test");
	for (ai = res; ai; ai = ai->ai_next, i++) {
		/* One block: the address sits right after the node. */
		ck_assert_ptr_eq(ai->ai_addr, (void *)(ai + 1));
		ck_assert_int_eq(ai->ai_family, i < 3 ? AF_INET : AF_INET6);
		ck_assert_int_eq(ai->ai_flags, AI_CANONNAME);
		if (i > 0)
			ck_assert_ptr_null(ai->ai_canonname);
	}
	ck_assert_int_eq(i, 6);
	sin = (const struct sockaddr_in *)res->ai_addr;
	ck_assert_uint_eq(res->ai_addrlen, sizeof *sin);
	ck_assert_uint_eq(ntohs(sin->sin_port), 443);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xf0000005u);
	sin6 = (const struct sockaddr_in6 *)
		   res->ai_next->ai_next->ai_next->ai_addr;
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 443);
	ck_assert_uint_eq(sin6->sin6_addr.s6_addr[15], 5);
	addrinfo_free(res);
}
END_TEST

START_TEST(build_family_filters)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM},
			*res;
	struct endpoint v4 = ip("240.0.0.9", 0);
	const struct sockaddr_in6 *sin6;

	ck_assert_int_eq(
	    addrinfo_build(two_addresses(), 2, NULL, &hints, NULL, NULL, &res),
	    0);
	ck_assert_int_eq(res->ai_family, AF_INET);
	ck_assert_ptr_null(res->ai_next);
	addrinfo_free(res);

	hints.ai_family = AF_INET6;
	ck_assert_int_eq(addrinfo_build(two_addresses() + 1, 1, NULL, &hints,
					NULL, NULL, &res),
			 0);
	ck_assert_int_eq(res->ai_family, AF_INET6);
	addrinfo_free(res);

	/* An IPv4 address for AF_INET6 becomes ::ffff:a.b.c.d. */
	ck_assert_int_eq(addrinfo_build(&v4, 1, NULL, &hints, NULL, NULL, &res),
			 0);
	sin6 = (const struct sockaddr_in6 *)res->ai_addr;
	ck_assert(IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
	ck_assert_uint_eq(sin6->sin6_addr.s6_addr[12], 240);
	addrinfo_free(res);

	hints.ai_family = AF_INET;
	ck_assert_int_eq(addrinfo_build(two_addresses() + 1, 1, NULL, &hints,
					NULL, NULL, &res),
			 EAI_NONAME);
	ck_assert_ptr_null(res);
}
END_TEST

START_TEST(build_errors_leave_no_list)
{
	struct addrinfo hints = {.ai_family = AF_PACKET}, *res = (void *)1;

	ck_assert_int_eq(
	    addrinfo_build(two_addresses(), 2, NULL, &hints, NULL, NULL, &res),
	    EAI_FAMILY);
	ck_assert_ptr_null(res);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_RAW;
	ck_assert_int_eq(
	    addrinfo_build(two_addresses(), 2, "80", &hints, NULL, NULL, &res),
	    EAI_SERVICE);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(
	    addrinfo_build(two_addresses(), 0, NULL, NULL, NULL, NULL, &res),
	    EAI_NONAME);
}
END_TEST

START_TEST(free_accepts_glibc_list)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_CANONNAME},
			*res;

	ck_assert_int_eq(getaddrinfo("127.0.0.1", "80", &hints, &res), 0);
	ck_assert_ptr_nonnull(res->ai_canonname);
	addrinfo_free(res); /* ASan and valgrind check this */
}
END_TEST

START_TEST(hostent_fill_fits_and_aligns)
{
	char storage[512];
	struct hostent he;
	int off;

	/* Every misalignment of the caller's buffer must work. */
	for (off = 0; off < 8; off++) {
		ck_assert_int_eq(addrinfo_fill_hostent(
				     &he, storage + off, sizeof storage - off,
				     "x.test", AF_INET, two_addresses(), 2),
				 1);
		ck_assert_str_eq(he.h_name, "x.test");
		ck_assert_ptr_null(he.h_aliases[0]);
		ck_assert_int_eq(he.h_addrtype, AF_INET);
		ck_assert_int_eq(he.h_length, 4);
		ck_assert_uint_eq((uint8_t)he.h_addr_list[0][0], 240);
		ck_assert_uint_eq((uint8_t)he.h_addr_list[0][3], 5);
		ck_assert_ptr_null(he.h_addr_list[1]);
		ck_assert_uint_eq((uintptr_t)he.h_addr_list % sizeof(char *),
				  0);
	}
}
END_TEST

START_TEST(hostent_fill_erange_at_exact_boundary)
{
	/* Aligned: 3 pointers + one IPv6 address + "x.test\0". */
	size_t need = 3 * sizeof(char *) + 16 + 7;
	char *buf = malloc(need);
	struct hostent he;

	ck_assert_int_eq(addrinfo_fill_hostent(&he, buf, need - 1, "x.test",
					       AF_INET6, two_addresses() + 1,
					       1),
			 -ERANGE);
	ck_assert_int_eq(addrinfo_fill_hostent(&he, buf, need, "x.test",
					       AF_INET6, two_addresses() + 1,
					       1),
			 1);
	ck_assert_uint_eq((uint8_t)he.h_addr_list[0][0], 0xfd);
	ck_assert_int_eq(he.h_length, 16);
	free(buf);
}
END_TEST

START_TEST(hostent_fill_no_address_of_family)
{
	char buf[256];
	struct hostent he = {.h_name = NULL};

	ck_assert_int_eq(addrinfo_fill_hostent(&he, buf, sizeof buf, "x",
					       AF_INET, two_addresses() + 1, 1),
			 0);
	ck_assert_ptr_null(he.h_name);
	ck_assert_int_eq(addrinfo_fill_hostent(&he, buf, sizeof buf, "x",
					       AF_UNIX, two_addresses(), 2),
			 0);
	/* For AF_INET6 an IPv4 address is written as ::ffff:a.b.c.d. */
	ck_assert_int_eq(addrinfo_fill_hostent(&he, buf, sizeof buf, "x",
					       AF_INET6, two_addresses(), 1),
			 1);
	ck_assert_uint_eq((uint8_t)he.h_addr_list[0][10], 0xff);
	ck_assert_uint_eq((uint8_t)he.h_addr_list[0][12], 240);
}
END_TEST

static void *static_from_thread(void *arg)
{
	(void)arg;
	return addrinfo_static_hostent("other.test", AF_INET, two_addresses(),
				       2);
}

START_TEST(hostent_static_is_per_thread)
{
	char longest[ENDPOINT_NAME_MAX + 1];
	struct endpoint many[ADDRINFO_MAX_ADDRS];
	struct hostent *mine, *theirs;
	pthread_t t;
	int i;

	mine = addrinfo_static_hostent("x.test", AF_INET, two_addresses(), 2);
	ck_assert_ptr_nonnull(mine);
	ck_assert_int_eq(pthread_create(&t, NULL, static_from_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(t, (void **)&theirs), 0);
	ck_assert_ptr_ne(mine, theirs);
	ck_assert_str_eq(mine->h_name, "x.test");
	/* The largest answer fits. */
	memset(longest, 'a', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';
	for (i = 0; i < ADDRINFO_MAX_ADDRS; i++)
		many[i] = ip("2001:db8::1", 0);
	mine = addrinfo_static_hostent(longest, AF_INET6, many,
				       ADDRINFO_MAX_ADDRS);
	ck_assert_ptr_nonnull(mine);
	ck_assert_ptr_nonnull(mine->h_addr_list[ADDRINFO_MAX_ADDRS - 1]);
	ck_assert_ptr_null(mine->h_addr_list[ADDRINFO_MAX_ADDRS]);
	ck_assert_ptr_null(
	    addrinfo_static_hostent("x", AF_INET, two_addresses() + 1, 1));
}
END_TEST

static Suite *addrinfo_suite(void)
{
	Suite *s = suite_create("addrinfo");
	TCase *tc = tcase_create("core");
	int ncases = sizeof numeric_cases / sizeof numeric_cases[0];
	int gcases = sizeof glibc_cases / sizeof glibc_cases[0];

	tcase_add_loop_test(tc, numeric_host_matches_inet_aton_forms, 0,
			    ncases);
	tcase_add_loop_test(tc, numeric_host_agrees_with_glibc, 0, ncases);
	tcase_add_test(tc, numeric_host_null_is_not_numeric);
	tcase_add_test(tc, fake_range_membership);
	tcase_add_test(tc, hints_checked_like_glibc);
	tcase_add_loop_test(tc, socktypes_match_glibc_ipv4, 0, gcases);
	tcase_add_loop_test(tc, socktypes_match_glibc_ipv6, 0, gcases);
	tcase_add_test(tc, socktypes_default_expansion);
	tcase_add_test(tc, socktypes_named_service_uses_lookup);
	tcase_add_test(tc, build_layout_and_order);
	tcase_add_test(tc, build_family_filters);
	tcase_add_test(tc, build_errors_leave_no_list);
	tcase_add_test(tc, free_accepts_glibc_list);
	tcase_add_test(tc, hostent_fill_fits_and_aligns);
	tcase_add_test(tc, hostent_fill_erange_at_exact_boundary);
	tcase_add_test(tc, hostent_fill_no_address_of_family);
	tcase_add_test(tc, hostent_static_is_per_thread);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(addrinfo_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
