/* test_config_routes.c — the routing keys: chain, group, route, widened
 * direct/block MATCH, down_time, race_delay, and their FILE:LINE errors. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>

#include "config.h"

static struct config cfg;

static int parse(const char *text)
{
	config_defaults(&cfg);
	if (config_parse(&cfg, text, strlen(text), "t.conf") < 0)
		return -EINVAL;
	return config_finish(&cfg);
}

START_TEST(chains_and_groups)
{
	const struct proxy *hops;
	unsigned count;
	char buf[CONFIG_URL_TEXT_MAX];

	ck_assert_int_eq(
	    parse("proxy socks5h://127.0.0.1:1080\n"
		  "chain two socks5://10.0.0.1:1 pipeline socks5h://[::1]:2\n"
		  "chain one socks4a://u@10.0.0.3\n"
		  "group g failover two socks5h://10.0.0.9:9 one\n"
		  "group outer round-robin g default\n"
		  "route .corp.example via g\n"
		  "route 10.1.0.0/16 port 22-23 tcp via two\n"
		  "down_time 5\nrace_delay 100ms\n"),
	    0);
	ck_assert_uint_eq(cfg.chain_count, 4); /* default, two, one, URL */
	hops = config_chain_hops(&cfg, 1, &count);
	ck_assert_uint_eq(count, 2);
	ck_assert(hops[0].pipeline);
	ck_assert(!hops[1].pipeline);
	ck_assert_int_eq(hops[1].addr.kind, ENDPOINT_IPV6);
	hops = config_chain_hops(&cfg, CONFIG_DEFAULT_CHAIN, &count);
	ck_assert_ptr_eq(hops, cfg.proxies);
	ck_assert_uint_eq(cfg.group_count, 2);
	ck_assert_int_eq(cfg.groups[0].mode, GROUP_FAILOVER);
	ck_assert_uint_eq(cfg.groups[0].member_count, 3);
	ck_assert_uint_eq(cfg.groups[0].members[1].index, 3);
	ck_assert_str_eq(
	    config_target_name(&cfg, cfg.groups[0].members[1], buf, sizeof buf),
	    "socks5h://10.0.0.9:9");
	ck_assert_int_eq(cfg.groups[1].mode, GROUP_ROUND_ROBIN);
	ck_assert_int_eq(cfg.groups[1].members[0].kind, TARGET_GROUP);
	ck_assert_int_eq(cfg.groups[1].members[1].kind, TARGET_CHAIN);
	ck_assert_uint_eq(cfg.groups[1].members[1].index, 0);
	ck_assert_uint_eq(cfg.rule_count, 2);
	ck_assert_int_eq(cfg.rules[0].action, RULE_VIA);
	ck_assert_str_eq(cfg.rules[0].host.name, "corp.example");
	ck_assert(cfg.rules[0].host.domain);
	ck_assert_uint_eq(cfg.rules[0].line, 6);
	ck_assert_int_eq(cfg.rules[0].via.kind, TARGET_GROUP);
	ck_assert_int_eq(cfg.rules[1].via.kind, TARGET_CHAIN);
	ck_assert_uint_eq(cfg.rules[1].via.index, 1);
	ck_assert_uint_eq(cfg.rules[1].port_min, 22);
	ck_assert_uint_eq(cfg.rules[1].port_max, 23);
	ck_assert_int_eq(cfg.rules[1].proto, RULE_PROTO_TCP);
	ck_assert_uint_eq(cfg.down_time_ms, 5000);
	ck_assert_uint_eq(cfg.race_delay_ms, 100);
	ck_assert_str_eq(
	    config_target_name(&cfg, cfg.rules[0].via, buf, sizeof buf), "g");
}
END_TEST

START_TEST(defaults)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert_uint_eq(cfg.chain_count, 1);
	ck_assert_uint_eq(cfg.group_count, 0);
	ck_assert_uint_eq(cfg.down_time_ms, 30000);
	ck_assert_uint_eq(cfg.race_delay_ms, 250);
}
END_TEST

START_TEST(host_rules)
{
	ck_assert_int_eq(parse("direct .lan\nblock *.ads.example\n"
			       "block tracker.example port 443 udp\n"),
			 0);
	ck_assert_uint_eq(cfg.rule_count, 3);
	ck_assert_int_eq(cfg.rules[0].net.family, AF_UNSPEC);
	ck_assert_str_eq(cfg.rules[0].host.name, "lan");
	ck_assert(cfg.rules[1].host.domain);
	ck_assert(!cfg.rules[2].host.domain);
	ck_assert_int_eq(cfg.rules[2].proto, RULE_PROTO_UDP);
	ck_assert(!cfg.default_direct);
}
END_TEST

static const struct {
	const char *text, *error;
} bad[] = {
    {"route .x via nowhere\n",
     "t.conf:1: unknown chain or group 'nowhere' (define it above this "
     "line)"},
    {"route .x via g\ngroup g failover default\n",
     "t.conf:1: unknown chain or group 'g' (define it above this line)"},
    {"chain a socks5h://h\nchain a socks5h://i\n",
     "t.conf:2: 'a' is already defined"},
    {"chain a socks5h://h\ngroup a failover default\n",
     "t.conf:2: 'a' is already defined"},
    {"chain default socks5h://h\n",
     "t.conf:1: 'default' is already defined (the chain of the proxy "
     "lines)"},
    {"group g failover g\n", "t.conf:1: group 'g' cannot contain itself"},
    {"group g failover default default\n",
     "t.conf:1: member 2 repeats member 1"},
    {"group g fastest default\n",
     "t.conf:1: group mode must be failover, race, round-robin or random"},
    {"group g failover\n", "t.conf:1: missing value for group"},
    {"chain c\n", "t.conf:1: missing value for chain"},
    {"chain c pipeline\n",
     "t.conf:1: expected \"chain NAME URL [pipeline] [gssapi ...] "
     "[URL ...]\""},
    {"chain c socks5h://h bogus\n",
     "t.conf:1: bad proxy URL: missing scheme: expected "
     "socks5h://host:port"},
    {"chain b/d socks5h://h\n",
     "t.conf:1: bad name: 1 to 31 letters, digits, '.', '-' or '_'"},
    {"route .x port 9-1 via default\n",
     "t.conf:1: bad port '9-1': expected P or P-Q within 0..65535"},
    {"route .x port 70000 via default\n",
     "t.conf:1: bad port '70000': expected P or P-Q within 0..65535"},
    {"route .x default\n", "t.conf:1: missing value for route"},
    {"route .x to default\n",
     "t.conf:1: expected \"route MATCH [port P|P-Q] [tcp|udp] via NAME\""},
    {"route .x udp tcp via default\n",
     "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"route a*b via default\n",
     "t.conf:1: bad match 'a*b': expected *, an address, a CIDR prefix or "
     "a host name (host.example, .example, *.example)"},
    {"route .x via socks5h://u:secret@h\n", "t.conf:1: unknown chain or group"},
    {"down_time 0\n",
     "t.conf:1: bad time '0': seconds (\"2.5\") or milliseconds "
     "(\"500ms\"), 1ms to 1 hour"},
    {"chain c socks5://10.0.0.1\n",
     "t.conf: remote DNS is on but chain c cannot carry host names; use "
     "socks5h:// or socks4a://"},
    {"group g failover socks5://10.0.0.1\n",
     "t.conf: remote DNS is on but socks5://10.0.0.1:1080 cannot carry "
     "host names; use socks5h:// or socks4a://"},
    {"remote_dns on\nchain c socks4://10.0.0.1\n",
     "t.conf: remote_dns on: socks4 cannot carry host names; use socks4a "
     "in chain c"},
    {"chain c socks4://10.0.0.1 socks5h://[::1]\n",
     "t.conf: proxy 1 of chain c is socks4: it cannot reach the IPv6 "
     "address of proxy 2"},
};

START_TEST(errors)
{
	config_defaults(&cfg);
	snprintf(cfg.source, sizeof cfg.source, "t.conf");
	if (config_parse(&cfg, bad[_i].text, strlen(bad[_i].text), "t.conf") ==
	    0)
		ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert(!cfg.valid);
	ck_assert_str_eq(cfg.error, bad[_i].error);
}
END_TEST

START_TEST(password_never_quoted)
{
	ck_assert_int_eq(parse("route a:s3cret@h via default\n"), -EINVAL);
	ck_assert_ptr_null(strstr(cfg.error, "s3cret"));
	ck_assert_int_eq(parse("route .x via a:s3cret@h\n"), -EINVAL);
	ck_assert_ptr_null(strstr(cfg.error, "s3cret"));
	ck_assert_int_eq(parse("route .x port s3cret@h via default\n"),
			 -EINVAL);
	ck_assert_ptr_null(strstr(cfg.error, "s3cret"));
	ck_assert_int_eq(parse("group g failover socks5h://u:s3cret@h:x\n"),
			 -EINVAL);
	ck_assert_ptr_null(strstr(cfg.error, "s3cret"));
	ck_assert_int_eq(parse("route .x via socks5h://u:s3cret@h\n"), -EINVAL);
	ck_assert_ptr_null(strstr(cfg.error, "s3cret"));
}
END_TEST

START_TEST(limits)
{
	char text[4096];
	size_t len = 0;
	unsigned i;

	for (i = 0; i < CONFIG_MAX_GROUPS + 1; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
					"group g%u failover default\n", i);
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:17: more than 16 groups");
	len = 0;
	for (i = 0; i < CONFIG_MAX_CHAINS; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
					"chain c%u socks5h://h\n", i);
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:16: more than 15 chains");
}
END_TEST

static Suite *config_routes_suite(void)
{
	Suite *s = suite_create("config_routes");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, chains_and_groups);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, host_rules);
	tcase_add_loop_test(tc, errors, 0, sizeof bad / sizeof bad[0]);
	tcase_add_test(tc, password_never_quoted);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_routes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
