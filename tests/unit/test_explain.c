/* test_explain.c — the text of --explain: names (fake, direct, refused at
 * lookup), addresses, ports, IPv6, UDP, groups with their plan, bad
 * input, an invalid configuration. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"

static struct config cfg;
static char text[EXPLAIN_TEXT_MAX];

static const char conf[] =
    "proxy socks5h://127.0.0.1:1080\n"
    "chain corp socks5://10.0.0.1 socks5h://[2001:db8::1]:1081\n"
    "group egress round-robin socks5h://10.9.9.9 corp\n"
    "direct .lan\n"
    "block ads.example\n"
    "route *.corp.example via corp\n"
    "route 10.0.0.0/8 port 22-23 tcp via egress\n"
    "route fd00::/8 via egress\n";

static int explain(const char *dest, const char *transport)
{
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, conf, strlen(conf), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
	return explain_route(&cfg, dest, transport, text, sizeof text);
}

static void has(const char *needle)
{
	ck_assert_msg(strstr(text, needle), "'%s' not in:\n%s", needle, text);
}

START_TEST(name_through_chain)
{
	ck_assert_int_eq(explain("WWW.corp.example:443", NULL), 0);
	has("destination: WWW.corp.example:443 tcp\n");
	has("lookup: a fake address (remote DNS)");
	has("rule: line 6: route .corp.example via corp\n");
	has("decision: proxy\n");
	has("chain corp: socks5://10.0.0.1:1080 -> "
	    "socks5h://[2001:db8::1]:1081\n");
}
END_TEST

/* A GSS-API hop names the service it asks for and its protection. */
START_TEST(gssapi_hops)
{
	static const char gss_conf[] =
	    "proxy socks5h://proxy.example:1080 gssapi\n"
	    "chain k socks5h://[2001:db8::7]:1080 gssapi-service=socks "
	    "socks5h://10.0.0.2 gssapi-protection=integrity\n"
	    "route *.k.example via k\n";

	config_defaults(&cfg);
	ck_assert_int_eq(
	    config_parse(&cfg, gss_conf, strlen(gss_conf), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
	ck_assert_int_eq(
	    explain_route(&cfg, "www.example:80", NULL, text, sizeof text), 0);
	has("chain default: socks5h://proxy.example:1080 (GSS-API: "
	    "rcmd@proxy.example, protection clear)\n");
	ck_assert_int_eq(
	    explain_route(&cfg, "a.k.example:80", NULL, text, sizeof text), 0);
	has("chain k: socks5h://[2001:db8::7]:1080 (GSS-API: "
	    "socks@2001:db8::7, protection clear) -> socks5h://10.0.0.2:1080 "
	    "(GSS-API: rcmd@10.0.0.2, protection integrity: not supported, "
	    "connections fail)\n");
}
END_TEST

START_TEST(name_direct_and_blocked)
{
	ck_assert_int_eq(explain("nas.lan", "tcp"), 0);
	has("lookup: local DNS (direct rule)");
	has("rule: line 4: direct .lan\n");
	has("decision: direct");
	ck_assert_int_eq(explain("ads.example:80", NULL), 0);
	has("lookup: refused (EAI_NONAME)");
	has("rule: line 5: block ads.example\n");
}
END_TEST

START_TEST(address_through_group)
{
	ck_assert_int_eq(explain("10.1.2.3:22", NULL), 0);
	has("rule: line 7: route 10.0.0.0/8 port 22-23 tcp via egress\n");
	has("via: group egress (round-robin");
	has("  1. chain socks5h://10.9.9.9:1080: socks5h://10.9.9.9:1080\n");
	has("  2. chain corp: ");
	ck_assert_int_eq(explain("10.1.2.3:24", NULL), 0);
	has("rule: none matches: the default chain");
	has("chain default: socks5h://127.0.0.1:1080\n");
	ck_assert_int_eq(explain("[fd00::5]:443", NULL), 0);
	has("rule: line 8: route fd00::/8 via egress\n");
	ck_assert_int_eq(explain("fd00::5", NULL), 0);
	has("destination: [fd00::5]:0 tcp\n");
}
END_TEST

START_TEST(udp)
{
	ck_assert_int_eq(explain("10.1.2.3:22", "udp"), 0);
	has("rule: none matches");
	has("decision: UDP through default (UDP ASSOCIATE");
	has("chain default: socks5h://127.0.0.1:1080\n");
	/* A group: its member that is a single socks5 proxy. */
	ck_assert_int_eq(explain("[fd00::5]:53", "udp"), 0);
	has("rule: line 8: route fd00::/8 via egress\n");
	has("decision: UDP through egress (UDP ASSOCIATE");
	has("chain socks5h://10.9.9.9:1080: socks5h://10.9.9.9:1080\n");
	/* A chain of two cannot carry UDP. */
	ck_assert_int_eq(explain("www.corp.example:53", "udp"), 0);
	has("decision: UDP refused (EACCES): udp block, or no single socks5 "
	    "proxy in corp\n");
}
END_TEST

START_TEST(bad_input)
{
	ck_assert_int_eq(explain("host:99999", NULL), -EINVAL);
	has("bad destination");
	ck_assert_int_eq(explain("[::1", NULL), -EINVAL);
	ck_assert_int_eq(explain("", NULL), -EINVAL);
	ck_assert_int_eq(explain("host:", NULL), -EINVAL);
	ck_assert_int_eq(explain("host", "sctp"), -EINVAL);
	has("transport must be tcp or udp");
}
END_TEST

START_TEST(invalid_config)
{
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, "bogus\n", 6, "t.conf"), -EINVAL);
	ck_assert_int_eq(
	    explain_route(&cfg, "example.org:80", NULL, text, sizeof text), 0);
	has("decision: refused: configuration error: t.conf:1: unknown key");
}
END_TEST

START_TEST(small_buffer)
{
	char small[16];

	config_defaults(&cfg);
	ck_assert_int_eq(
	    explain_route(&cfg, "example.org:80", NULL, small, sizeof small),
	    0);
	ck_assert_uint_eq(strlen(small), sizeof small - 1);
}
END_TEST

static Suite *explain_suite(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, name_through_chain);
	tcase_add_test(tc, gssapi_hops);
	tcase_add_test(tc, name_direct_and_blocked);
	tcase_add_test(tc, address_through_group);
	tcase_add_test(tc, udp);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, invalid_config);
	tcase_add_test(tc, small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(explain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
