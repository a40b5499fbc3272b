/* test_match.c — host-name patterns: exact names, domains (".example" and
 * "*.example"), case, trailing dots, and the texts refused. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"

static bool fits(const char *pattern, const char *name)
{
	struct host_pattern p;

	ck_assert_int_eq(match_host_parse(&p, pattern), 0);
	return match_host(&p, name, strlen(name));
}

START_TEST(exact_name)
{
	ck_assert(fits("host.example", "host.example"));
	ck_assert(fits("host.example", "HOST.Example"));
	ck_assert(fits("Host.EXAMPLE", "host.example."));
	ck_assert(!fits("host.example", "www.host.example"));
	ck_assert(!fits("host.example", "ost.example"));
	ck_assert(!fits("host.example", "host.example.org"));
	ck_assert(!fits("host.example", "xhost.example"));
	ck_assert(fits("localhost", "localhost"));
}
END_TEST

START_TEST(domain_suffix)
{
	ck_assert(fits(".example", "example"));
	ck_assert(fits(".example", "a.example"));
	ck_assert(fits(".example", "a.b.EXAMPLE."));
	ck_assert(!fits(".example", "badexample"));
	ck_assert(!fits(".example", "example.org"));
	ck_assert(fits("*.corp.example", "corp.example"));
	ck_assert(fits("*.corp.example", "git.corp.example"));
	ck_assert(!fits("*.corp.example", "corp.example.org"));
	ck_assert(!fits("*.corp.example", "xcorp.example"));
}
END_TEST

START_TEST(parse_form)
{
	struct host_pattern p;

	ck_assert_int_eq(match_host_parse(&p, "*.A-b_c.Example"), 0);
	ck_assert_str_eq(p.name, "a-b_c.example");
	ck_assert(p.domain);
	ck_assert(match_host_is_set(&p));
	ck_assert_int_eq(match_host_parse(&p, "x1.example"), 0);
	ck_assert(!p.domain);
}
END_TEST

static const char *const refused[] = {
    "",	     ".",	   "*.",	  "*",		"a..b",	     "a.",
    "a b",   "a*.example", "*example",	  "**.example", "a/b",	     "10.0.0.1",
    "1.2.3", "300",	   "example.123", "a:b",	"..example",
};

START_TEST(parse_refused)
{
	struct host_pattern p;

	ck_assert_int_eq(match_host_parse(&p, refused[_i]), -EINVAL);
	ck_assert(!match_host_is_set(&p));
}
END_TEST

START_TEST(too_long)
{
	char text[300];
	struct host_pattern p;

	for (size_t i = 0; i < sizeof text - 1; i++)
		text[i] = i % 10 == 9 ? '.' : 'a';
	text[sizeof text - 1] = '\0';
	ck_assert_int_eq(match_host_parse(&p, text), -EINVAL);
	text[253] = '\0'; /* ends "aaa" after the dot at 249 */
	ck_assert_int_eq(match_host_parse(&p, text), 0);
	ck_assert(match_host(&p, text, strlen(text)));
}
END_TEST

START_TEST(empty_pattern_never_fits)
{
	struct host_pattern p;

	memset(&p, 0, sizeof p);
	ck_assert(!match_host(&p, "example", 7));
	ck_assert(!match_host(&p, "", 0));
	ck_assert_int_eq(match_host_parse(&p, "example"), 0);
	ck_assert(!match_host(&p, NULL, 0));
	ck_assert(!match_host(&p, "", 0));
	ck_assert(!match_host(&p, ".", 1));
}
END_TEST

static Suite *match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, exact_name);
	tcase_add_test(tc, domain_suffix);
	tcase_add_test(tc, parse_form);
	tcase_add_loop_test(tc, parse_refused, 0,
			    sizeof refused / sizeof refused[0]);
	tcase_add_test(tc, too_long);
	tcase_add_test(tc, empty_pattern_never_fits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(match_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
