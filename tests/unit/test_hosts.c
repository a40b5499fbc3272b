/* test_hosts.c — hosts(5) lookups: families, aliases, comments, case. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"

static const char sample[] =
    "# /etc/hosts for the tests\n"
    "127.0.0.1\tlocalhost\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "\n"
    "   # indented comment 192.0.2.99 commented\n"
    "192.0.2.10  Lab.Example.net lab  # trailing comment fake.example\n"
    "192.0.2.11\tlab.example.net\r\n"
    "2001:db8::10 lab.example.net lab6\n"
    "192.0.2.10 lab\n"
    "not-an-address broken.example\n"
    "300.1.1.1 broken.example\n"
    "192.0.2.12\n"
    "fe80::1%eth0 scoped.example\n"
    "198.51.100.7 last.example";

static size_t lookup(const char *name, int family, struct endpoint *out,
		     size_t max)
{
	return hosts_lookup(sample, strlen(sample), name, family, out, max);
}

static void assert_ip(const struct endpoint *ep, const char *text)
{
	struct endpoint want;

	memset(&want, 0, sizeof(want));
	if (inet_pton(AF_INET, text, want.u.ipv4) == 1) {
		want.kind = ENDPOINT_IPV4;
		ck_assert_mem_eq(ep->u.ipv4, want.u.ipv4, 4);
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, want.u.ipv6), 1);
		want.kind = ENDPOINT_IPV6;
		ck_assert_mem_eq(ep->u.ipv6, want.u.ipv6, 16);
	}
	ck_assert_int_eq(ep->kind, want.kind);
	ck_assert_int_eq(ep->port, 0);
}

START_TEST(ipv4_canonical_name)
{
	struct endpoint out[4];

	ck_assert_uint_eq(lookup("localhost", AF_INET, out, 4), 1);
	assert_ip(&out[0], "127.0.0.1");
}
END_TEST

START_TEST(ipv6_aliases)
{
	struct endpoint out[4];

	ck_assert_uint_eq(lookup("ip6-loopback", AF_INET6, out, 4), 1);
	assert_ip(&out[0], "::1");
	ck_assert_uint_eq(lookup("localhost", AF_INET6, out, 4), 1);
	assert_ip(&out[0], "::1");
	ck_assert_uint_eq(lookup("ip6-loopback", AF_INET, out, 4), 0);
}
END_TEST

START_TEST(unspec_ipv4_first_file_order)
{
	struct endpoint out[8];

	ck_assert_uint_eq(lookup("lab.example.net", AF_UNSPEC, out, 8), 3);
	assert_ip(&out[0], "192.0.2.10");
	assert_ip(&out[1], "192.0.2.11");
	assert_ip(&out[2], "2001:db8::10");
	ck_assert_uint_eq(lookup("localhost", AF_UNSPEC, out, 8), 2);
	assert_ip(&out[0], "127.0.0.1");
	assert_ip(&out[1], "::1");
}
END_TEST

START_TEST(case_insensitive_and_trailing_dot)
{
	struct endpoint out[4];

	ck_assert_uint_eq(lookup("LAB.EXAMPLE.NET", AF_INET, out, 4), 2);
	assert_ip(&out[0], "192.0.2.10");
	ck_assert_uint_eq(lookup("lab.example.net.", AF_INET, out, 4), 2);
	ck_assert_uint_eq(lookup("LocalHost", AF_INET, out, 4), 1);
}
END_TEST

START_TEST(aliases_and_duplicates)
{
	struct endpoint out[4];

	/* "lab" appears on two lines with the same address: one result. */
	ck_assert_uint_eq(lookup("lab", AF_INET, out, 4), 1);
	assert_ip(&out[0], "192.0.2.10");
	ck_assert_uint_eq(lookup("lab6", AF_UNSPEC, out, 4), 1);
	assert_ip(&out[0], "2001:db8::10");
}
END_TEST

START_TEST(comments_and_bad_lines)
{
	struct endpoint out[4];

	ck_assert_uint_eq(lookup("commented", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("fake.example", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("comment", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("broken.example", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("#", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("192.0.2.12", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("", AF_UNSPEC, out, 4), 0);
}
END_TEST

START_TEST(partial_names_do_not_match)
{
	struct endpoint out[4];

	ck_assert_uint_eq(lookup("local", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("localhostx", AF_UNSPEC, out, 4), 0);
	ck_assert_uint_eq(lookup("example.net", AF_UNSPEC, out, 4), 0);
}
END_TEST

START_TEST(last_line_without_newline)
{
	struct endpoint out[4];

	ck_assert_uint_eq(lookup("last.example", AF_INET, out, 4), 1);
	assert_ip(&out[0], "198.51.100.7");
}
END_TEST

START_TEST(max_is_respected)
{
	struct endpoint out[3];

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(lookup("lab.example.net", AF_UNSPEC, out, 1), 1);
	assert_ip(&out[0], "192.0.2.10");
	ck_assert_int_eq(((unsigned char *)&out[1])[0], 0xaa);
	ck_assert_uint_eq(lookup("lab.example.net", AF_UNSPEC, out, 0), 0);
}
END_TEST

/* The length bounds the text: a name after len is not seen. */
START_TEST(length_bounds_text)
{
	static const char text[] = "10.0.0.1 a.example\n10.0.0.2 b.example\n";
	struct endpoint out[2];
	size_t first_line = strlen("10.0.0.1 a.example\n");

	ck_assert_uint_eq(
	    hosts_lookup(text, first_line, "b.example", AF_INET, out, 2), 0);
	ck_assert_uint_eq(
	    hosts_lookup(text, first_line, "a.example", AF_INET, out, 2), 1);
	/* Cut in the middle of a name: "a.exa" is not "a.example". */
	ck_assert_uint_eq(hosts_lookup(text, 14, "a.example", AF_INET, out, 2),
			  0);
}
END_TEST

static Suite *hosts_suite(void)
{
	Suite *s = suite_create("hosts");
	TCase *tc = tcase_create("hosts");

	tcase_add_test(tc, ipv4_canonical_name);
	tcase_add_test(tc, ipv6_aliases);
	tcase_add_test(tc, unspec_ipv4_first_file_order);
	tcase_add_test(tc, case_insensitive_and_trailing_dot);
	tcase_add_test(tc, aliases_and_duplicates);
	tcase_add_test(tc, comments_and_bad_lines);
	tcase_add_test(tc, partial_names_do_not_match);
	tcase_add_test(tc, last_line_without_newline);
	tcase_add_test(tc, max_is_respected);
	tcase_add_test(tc, length_bounds_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(hosts_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
