/* test_isolate.c — the "isolate" key and isolate_apply(): SOCKS5 proxies
 * without credentials get "socksify-TAG", URL credentials and other proxy
 * kinds are left alone, a second call (a fork child) replaces ours. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_internal.h"
#include "isolate.h"

static struct config cfg;

static void parse_ok(const char *text)
{
	config_defaults(&cfg);
	ck_assert_msg(config_parse(&cfg, text, strlen(text), "t.conf") == 0,
		      "%s", cfg.error);
	ck_assert_msg(config_finish(&cfg) == 0, "%s", cfg.error);
}

START_TEST(key_values)
{
	config_defaults(&cfg);
	ck_assert_int_eq(cfg.isolate, ISOLATE_OFF);
	parse_ok("isolate pid\nproxy socks5h://127.0.0.1:9050\n");
	ck_assert_int_eq(cfg.isolate, ISOLATE_PID);
	parse_ok("isolate run\nproxy socks5h://127.0.0.1:9050\n");
	ck_assert_int_eq(cfg.isolate, ISOLATE_RUN);
	parse_ok("isolate off\nproxy socks5h://127.0.0.1:9050\n");
	ck_assert_int_eq(cfg.isolate, ISOLATE_OFF);
	config_defaults(&cfg);
	ck_assert_int_lt(config_parse(&cfg, "isolate yes\n", 12, "t.conf"), 0);
	ck_assert_str_eq(cfg.error,
			 "t.conf:1: isolate must be off, pid or run");
}
END_TEST

START_TEST(off_changes_nothing)
{
	parse_ok("proxy socks5h://127.0.0.1:9050\n");
	ck_assert_uint_eq(isolate_apply(&cfg, "pid-1"), 0);
	ck_assert(!cfg.proxies[0].has_auth);
}
END_TEST

START_TEST(socks5_without_credentials)
{
	parse_ok("isolate pid\nproxy socks5h://127.0.0.1:9050\n");
	ck_assert_uint_eq(isolate_apply(&cfg, "pid-42"), 1);
	ck_assert(cfg.proxies[0].has_auth);
	ck_assert_str_eq(cfg.proxies[0].user, "socksify-pid-42");
	ck_assert_uint_eq(cfg.proxies[0].user_len, 15);
	ck_assert_str_eq(cfg.proxies[0].password, ISOLATE_PASSWORD);
	ck_assert_uint_eq(cfg.proxies[0].password_len,
			  strlen(ISOLATE_PASSWORD));
	/* a fork child: its own pid replaces ours */
	ck_assert_uint_eq(isolate_apply(&cfg, "pid-43"), 1);
	ck_assert_str_eq(cfg.proxies[0].user, "socksify-pid-43");
}
END_TEST

START_TEST(url_credentials_and_other_kinds_kept)
{
	parse_ok("isolate run\nproxy socks5h://alice:secret@127.0.0.1:9050\n"
		 "chain tor socks4a://10.0.0.1 socks5h://10.0.0.2\n"
		 "chain web http://10.0.0.3:8080\n");
	ck_assert_uint_eq(isolate_apply(&cfg, "run-abc"), 1);
	ck_assert_str_eq(cfg.proxies[0].user, "alice");
	ck_assert_str_eq(cfg.proxies[0].password, "secret");
	ck_assert_uint_eq(cfg.chain_hop_count, 3);
	ck_assert(!cfg.chain_hops[0].has_auth);
	ck_assert_str_eq(cfg.chain_hops[1].user, "socksify-run-abc");
	ck_assert(!cfg.chain_hops[2].has_auth);
}
END_TEST

START_TEST(long_tag_cut)
{
	char tag[400];

	memset(tag, 'x', sizeof tag - 1);
	tag[sizeof tag - 1] = '\0';
	parse_ok("isolate pid\nproxy socks5h://127.0.0.1:9050\n");
	ck_assert_uint_eq(isolate_apply(&cfg, tag), 1);
	ck_assert_uint_eq(cfg.proxies[0].user_len, PROXY_CREDENTIAL_MAX);
	ck_assert_uint_eq(strlen(cfg.proxies[0].user), PROXY_CREDENTIAL_MAX);
}
END_TEST

static Suite *isolate_suite(void)
{
	Suite *s = suite_create("isolate");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, key_values);
	tcase_add_test(tc, off_changes_nothing);
	tcase_add_test(tc, socks5_without_credentials);
	tcase_add_test(tc, url_credentials_and_other_kinds_kept);
	tcase_add_test(tc, long_tag_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(isolate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
