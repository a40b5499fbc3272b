/* test_route.c — routing decisions: rule order, ports, IPv6, IPv4-mapped
 * addresses, the default loopback rules, fake addresses, invalid configs,
 * and rules that apply to one transport only. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static struct config cfg;

/* Defaults plus the given file text, which must parse. */
static void setup_text(const char *text)
{
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, text, strlen(text), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
}

static struct endpoint ep(const char *ip_text, uint16_t port)
{
	struct endpoint e;

	ck_assert_int_eq(endpoint_parse_ip(&e, ip_text), 0);
	e.port = port;
	return e;
}

static enum route_decision classify(const char *ip_text, uint16_t port)
{
	struct endpoint e = ep(ip_text, port);

	return route_classify(&cfg, &e, false);
}

static enum route_decision classify_fake(const char *ip_text, uint16_t port)
{
	struct endpoint e = ep(ip_text, port);

	return route_classify(&cfg, &e, true);
}

START_TEST(defaults)
{
	setup_text("");
	ck_assert_int_eq(classify("127.0.0.1", 80), ROUTE_DIRECT);
	ck_assert_int_eq(classify("127.255.255.254", 1), ROUTE_DIRECT);
	ck_assert_int_eq(classify("::1", 22), ROUTE_DIRECT);
	ck_assert_int_eq(classify("::2", 22), ROUTE_PROXY);
	ck_assert_int_eq(classify("128.0.0.1", 80), ROUTE_PROXY);
	ck_assert_int_eq(classify("10.0.0.1", 80), ROUTE_PROXY);
	ck_assert_int_eq(classify("2001:db8::1", 443), ROUTE_PROXY);
}
END_TEST

START_TEST(first_match_wins)
{
	setup_text("block 10.1.0.0/16\n"
		   "direct 10.0.0.0/8\n"
		   "block 10.0.0.0/8\n");
	ck_assert_int_eq(classify("10.1.2.3", 80), ROUTE_BLOCK);
	ck_assert_int_eq(classify("10.2.0.1", 80), ROUTE_DIRECT);
	ck_assert_int_eq(classify("11.0.0.1", 80), ROUTE_PROXY);
	/* A direct line in the file drops the loopback default. */
	ck_assert_int_eq(classify("127.0.0.1", 80), ROUTE_PROXY);
	ck_assert_int_eq(classify("::1", 80), ROUTE_PROXY);
}
END_TEST

START_TEST(file_rules_before_default_loopback)
{
	setup_text("block 127.0.0.0/8 port 25\n");
	ck_assert(cfg.default_direct);
	ck_assert_int_eq(classify("127.0.0.1", 25), ROUTE_BLOCK);
	ck_assert_int_eq(classify("127.0.0.1", 26), ROUTE_DIRECT);
}
END_TEST

START_TEST(direct_none)
{
	setup_text("direct none\n");
	ck_assert_int_eq(classify("127.0.0.1", 80), ROUTE_PROXY);
	ck_assert_int_eq(classify("::1", 80), ROUTE_PROXY);
}
END_TEST

START_TEST(ports)
{
	setup_text("direct 192.0.2.0/24 port 22\n"
		   "block * port 6000-6010\n"
		   "direct * port 8080\n");
	ck_assert_int_eq(classify("192.0.2.9", 22), ROUTE_DIRECT);
	ck_assert_int_eq(classify("192.0.2.9", 23), ROUTE_PROXY);
	ck_assert_int_eq(classify("192.0.2.9", 21), ROUTE_PROXY);
	ck_assert_int_eq(classify("198.51.100.1", 5999), ROUTE_PROXY);
	ck_assert_int_eq(classify("198.51.100.1", 6000), ROUTE_BLOCK);
	ck_assert_int_eq(classify("2001:db8::1", 6005), ROUTE_BLOCK);
	ck_assert_int_eq(classify("198.51.100.1", 6010), ROUTE_BLOCK);
	ck_assert_int_eq(classify("198.51.100.1", 6011), ROUTE_PROXY);
	ck_assert_int_eq(classify("2001:db8::1", 8080), ROUTE_DIRECT);
}
END_TEST

START_TEST(ipv6_rules)
{
	setup_text("direct fd00::/8\n"
		   "block 2001:db8::/32 port 25\n"
		   "direct 0.0.0.0/0\n");
	ck_assert_int_eq(classify("fd12::1", 80), ROUTE_DIRECT);
	ck_assert_int_eq(classify("fe80::1", 80), ROUTE_PROXY);
	ck_assert_int_eq(classify("2001:db8::5", 25), ROUTE_BLOCK);
	ck_assert_int_eq(classify("2001:db8::5", 26), ROUTE_PROXY);
	/* 0.0.0.0/0 covers every IPv4 address and no IPv6 one. */
	ck_assert_int_eq(classify("203.0.113.1", 1), ROUTE_DIRECT);
	ck_assert_int_eq(classify("2001:db9::1", 1), ROUTE_PROXY);
}
END_TEST

/* Dual-stack programs connect AF_INET6 sockets to ::ffff:a.b.c.d; the
 * endpoint conversion turns those into IPv4 and IPv4 rules apply. */
START_TEST(v4_mapped)
{
	struct sockaddr_in6 sin6;
	struct endpoint e;

	setup_text("block 10.0.0.0/8\n");
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(80);
	ck_assert_int_eq(
	    inet_pton(AF_INET6, "::ffff:10.9.8.7", &sin6.sin6_addr), 1);
	ck_assert_int_eq(
	    endpoint_from_sockaddr(&e, (struct sockaddr *)&sin6, sizeof(sin6)),
	    0);
	ck_assert_int_eq(route_classify(&cfg, &e, false), ROUTE_BLOCK);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	endpoint_from_sockaddr(&e, (struct sockaddr *)&sin6, sizeof(sin6));
	ck_assert_int_eq(route_classify(&cfg, &e, false), ROUTE_DIRECT);
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
	endpoint_from_sockaddr(&e, (struct sockaddr *)&sin6, sizeof(sin6));
	ck_assert_int_eq(route_classify(&cfg, &e, false), ROUTE_PROXY);
}
END_TEST

START_TEST(fake_addresses)
{
	setup_text("direct 240.0.0.0/4\n"
		   "direct * port 80\n"
		   "block 240.0.0.0/4 port 443\n"
		   "block * port 25\n");
	/* Direct rules never apply; neither do block rules for networks. */
	ck_assert_int_eq(classify_fake("240.0.0.1", 80), ROUTE_PROXY);
	ck_assert_int_eq(classify_fake("240.0.0.1", 443), ROUTE_PROXY);
	ck_assert_int_eq(classify_fake("fd5c:6f63:6b73::1", 22), ROUTE_PROXY);
	ck_assert_int_eq(classify_fake("240.0.0.1", 25), ROUTE_BLOCK);
	ck_assert_int_eq(classify_fake("fd5c:6f63:6b73::1", 25), ROUTE_BLOCK);
	/* The same address, not fake, follows the rules. */
	ck_assert_int_eq(classify("240.0.0.1", 443), ROUTE_DIRECT);
	/* A fake address in loopback's place is still never direct. */
	config_defaults(&cfg);
	ck_assert_int_eq(classify_fake("127.0.0.1", 80), ROUTE_PROXY);
}
END_TEST

START_TEST(names_go_to_the_proxy)
{
	struct endpoint name;

	setup_text("direct * port 80\nblock * port 25\n");
	ck_assert_int_eq(endpoint_set_name(&name, "example.org", 11, 80), 0);
	ck_assert_int_eq(route_classify(&cfg, &name, false), ROUTE_PROXY);
	name.port = 25;
	ck_assert_int_eq(route_classify(&cfg, &name, false), ROUTE_BLOCK);
}
END_TEST

START_TEST(invalid_config_blocks_everything)
{
	static const char bad[] = "direct *\nnonsense 1\n";
	struct endpoint none;

	memset(&none, 0, sizeof(none));
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, bad, strlen(bad), "t.conf"),
			 -EINVAL);
	ck_assert_int_eq(classify("127.0.0.1", 80), ROUTE_BLOCK);
	ck_assert_int_eq(classify("10.0.0.1", 80), ROUTE_BLOCK);
	ck_assert_int_eq(classify_fake("240.0.0.1", 80), ROUTE_BLOCK);
	ck_assert_int_eq(route_classify(NULL, &none, false), ROUTE_BLOCK);
	config_defaults(&cfg);
	ck_assert_int_eq(route_classify(&cfg, &none, false), ROUTE_BLOCK);
}
END_TEST

static enum route_decision classify_as(const char *ip_text, uint16_t port,
				       enum rule_proto proto, bool is_fake)
{
	struct endpoint e = ep(ip_text, port);

	return route_classify_proto(&cfg, &e, is_fake, proto);
}

/* A rule with a transport word is skipped for the other transport, so the
 * next rule (or the default) decides; one without applies to both. */
START_TEST(proto_qualified_rules)
{
	setup_text("direct 10.0.0.0/8 port 53 udp\n"
		   "block 10.0.0.0/8 port 53 tcp\n"
		   "block * port 123 udp\n"
		   "direct 192.0.2.0/24 tcp\n"
		   "block 192.0.2.0/24\n"
		   "direct 198.51.100.0/24\n");
	ck_assert_int_eq(classify_as("10.1.1.1", 53, RULE_PROTO_UDP, false),
			 ROUTE_DIRECT);
	ck_assert_int_eq(classify_as("10.1.1.1", 53, RULE_PROTO_TCP, false),
			 ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("10.1.1.1", 54, RULE_PROTO_UDP, false),
			 ROUTE_PROXY);
	ck_assert_int_eq(classify_as("2001:db8::1", 123, RULE_PROTO_UDP, false),
			 ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("2001:db8::1", 123, RULE_PROTO_TCP, false),
			 ROUTE_PROXY);
	ck_assert_int_eq(classify_as("192.0.2.1", 80, RULE_PROTO_TCP, false),
			 ROUTE_DIRECT);
	ck_assert_int_eq(classify_as("192.0.2.1", 80, RULE_PROTO_UDP, false),
			 ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("198.51.100.7", 9, RULE_PROTO_TCP, false),
			 ROUTE_DIRECT);
	ck_assert_int_eq(classify_as("198.51.100.7", 9, RULE_PROTO_UDP, false),
			 ROUTE_DIRECT);
	/* route_classify() is the TCP form. */
	ck_assert_int_eq(classify("10.1.1.1", 53), ROUTE_BLOCK);
	ck_assert_int_eq(classify("192.0.2.1", 80), ROUTE_DIRECT);
	ck_assert_int_eq(classify("2001:db8::1", 123), ROUTE_PROXY);
}
END_TEST

/* A UDP-only direct line still drops the loopback default for both
 * transports, as any direct line does. */
START_TEST(proto_direct_line_drops_default)
{
	setup_text("direct 10.0.0.0/8 udp\n");
	ck_assert_int_eq(classify_as("127.0.0.1", 53, RULE_PROTO_UDP, false),
			 ROUTE_PROXY);
	ck_assert_int_eq(classify_as("127.0.0.1", 53, RULE_PROTO_TCP, false),
			 ROUTE_PROXY);
	ck_assert_int_eq(classify_as("10.0.0.1", 53, RULE_PROTO_TCP, false),
			 ROUTE_PROXY);
	setup_text("block ::1 port 5353 udp\n");
	ck_assert_int_eq(classify_as("::1", 5353, RULE_PROTO_UDP, false),
			 ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("::1", 5353, RULE_PROTO_TCP, false),
			 ROUTE_DIRECT);
	ck_assert_int_eq(classify_as("::1", 5354, RULE_PROTO_UDP, false),
			 ROUTE_DIRECT);
}
END_TEST

/* Names and fake addresses: only "block * ..." rules can refuse them, and
 * a transport word limits that to its transport. */
START_TEST(proto_names_and_fakes)
{
	struct endpoint name;

	setup_text("direct * port 53 udp\n"
		   "block * port 53 tcp\n"
		   "block * port 443 udp\n"
		   "block 240.0.0.0/4 port 80 udp\n"
		   "block * port 25\n");
	ck_assert_int_eq(endpoint_set_name(&name, "example.org", 11, 443), 0);
	ck_assert_int_eq(
	    route_classify_proto(&cfg, &name, false, RULE_PROTO_UDP),
	    ROUTE_BLOCK);
	ck_assert_int_eq(
	    route_classify_proto(&cfg, &name, false, RULE_PROTO_TCP),
	    ROUTE_PROXY);
	name.port = 53;
	ck_assert_int_eq(
	    route_classify_proto(&cfg, &name, false, RULE_PROTO_UDP),
	    ROUTE_PROXY); /* never direct */
	ck_assert_int_eq(
	    route_classify_proto(&cfg, &name, false, RULE_PROTO_TCP),
	    ROUTE_BLOCK);
	name.port = 25;
	ck_assert_int_eq(
	    route_classify_proto(&cfg, &name, false, RULE_PROTO_UDP),
	    ROUTE_BLOCK);
	ck_assert_int_eq(
	    route_classify_proto(&cfg, &name, false, RULE_PROTO_TCP),
	    ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("240.0.0.9", 443, RULE_PROTO_UDP, true),
			 ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("240.0.0.9", 443, RULE_PROTO_TCP, true),
			 ROUTE_PROXY);
	ck_assert_int_eq(
	    classify_as("fd5c:6f63:6b73::9", 53, RULE_PROTO_UDP, true),
	    ROUTE_PROXY);
	ck_assert_int_eq(
	    classify_as("fd5c:6f63:6b73::9", 53, RULE_PROTO_TCP, true),
	    ROUTE_BLOCK);
	/* A network block rule never applies to a fake address. */
	ck_assert_int_eq(classify_as("240.0.0.9", 80, RULE_PROTO_UDP, true),
			 ROUTE_PROXY);
	ck_assert_int_eq(classify_as("240.0.0.9", 80, RULE_PROTO_UDP, false),
			 ROUTE_BLOCK);
}
END_TEST

START_TEST(proto_invalid_config_blocks)
{
	static const char bad[] = "direct * udp\nnonsense 1\n";

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, bad, strlen(bad), "t.conf"),
			 -EINVAL);
	ck_assert_int_eq(classify_as("127.0.0.1", 53, RULE_PROTO_UDP, false),
			 ROUTE_BLOCK);
	ck_assert_int_eq(classify_as("10.0.0.1", 53, RULE_PROTO_UDP, false),
			 ROUTE_BLOCK);
	ck_assert_int_eq(
	    route_classify_proto(NULL, NULL, false, RULE_PROTO_UDP),
	    ROUTE_BLOCK);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(route_name(ROUTE_DIRECT), "direct");
	ck_assert_str_eq(route_name(ROUTE_PROXY), "proxy");
	ck_assert_str_eq(route_name(ROUTE_BLOCK), "block");
}
END_TEST

/* route_select() with the name behind a fake address. */
static enum route_decision select_named(const char *ip_text, uint16_t port,
					const char *name, enum rule_proto proto,
					struct route_choice *choice)
{
	struct endpoint e = ep(ip_text, port);

	return route_select(&cfg, &e, name, name != NULL, proto, choice);
}

static const char names_conf[] =
    "chain corp socks5h://10.0.0.1\n"
    "chain web socks5h://10.0.0.2\n"
    "group both failover corp web\n"
    "direct .lan\n"			       /* rule 0 */
    "block ads.example\n"		       /* rule 1 */
    "route git.corp.example port 22 via web\n" /* rule 2 */
    "route *.corp.example via corp\n"	       /* rule 3 */
    "block .corp.example port 25\n"	       /* rule 4: after 3 */
    "route 10.9.0.0/16 via both\n"	       /* rule 5 */
    "route fd00::/8 port 443 tcp via web\n"    /* rule 6 */
    "route * port 8080 via both\n";	       /* rule 7 */

START_TEST(names_pick_chains)
{
	struct route_choice c;

	setup_text(names_conf);
	ck_assert_int_eq(select_named("240.0.0.5", 443, "www.corp.example",
				      RULE_PROTO_TCP, &c),
			 ROUTE_PROXY);
	ck_assert_int_eq(c.rule, 3);
	ck_assert_int_eq(c.via.kind, TARGET_CHAIN);
	ck_assert_uint_eq(c.via.index, 1);
	ck_assert_int_eq(select_named("240.0.0.5", 22, "GIT.corp.example.",
				      RULE_PROTO_TCP, &c),
			 ROUTE_PROXY);
	ck_assert_int_eq(c.rule, 2);
	ck_assert_uint_eq(c.via.index, 2);
	/* First match wins: rule 3 comes before the block on port 25. */
	select_named("240.0.0.5", 25, "mail.corp.example", RULE_PROTO_TCP, &c);
	ck_assert_int_eq(c.rule, 3);
	ck_assert_int_eq(
	    select_named("240.0.0.6", 80, "ads.example", RULE_PROTO_TCP, &c),
	    ROUTE_BLOCK);
	ck_assert_int_eq(c.rule, 1);
	/* A name no rule fits: the default chain; a fake never goes direct,
	 * even when its name fits a direct rule. */
	ck_assert_int_eq(
	    select_named("240.0.0.7", 80, "other.example", RULE_PROTO_TCP, &c),
	    ROUTE_PROXY);
	ck_assert_int_eq(c.rule, ROUTE_RULE_NONE);
	ck_assert_uint_eq(c.via.index, CONFIG_DEFAULT_CHAIN);
	ck_assert_int_eq(
	    select_named("240.0.0.8", 80, "nas.lan", RULE_PROTO_TCP, &c),
	    ROUTE_PROXY);
	ck_assert_int_eq(c.rule, ROUTE_RULE_NONE);
	/* "*" fits names and addresses alike. */
	select_named("240.0.0.7", 8080, "other.example", RULE_PROTO_TCP, &c);
	ck_assert_int_eq(c.rule, 7);
	ck_assert_int_eq(c.via.kind, TARGET_GROUP);
}
END_TEST

START_TEST(addresses_pick_chains)
{
	struct route_choice c;

	setup_text(names_conf);
	ck_assert_int_eq(select_named("10.9.1.1", 80, NULL, RULE_PROTO_TCP, &c),
			 ROUTE_PROXY);
	ck_assert_int_eq(c.rule, 5);
	ck_assert_int_eq(c.via.kind, TARGET_GROUP);
	select_named("fd01::1", 443, NULL, RULE_PROTO_TCP, &c);
	ck_assert_int_eq(c.rule, 6);
	select_named("fd01::1", 443, NULL, RULE_PROTO_UDP, &c);
	ck_assert_int_eq(c.rule, ROUTE_RULE_NONE);
	select_named("fd01::1", 444, NULL, RULE_PROTO_TCP, &c);
	ck_assert_int_eq(c.rule, ROUTE_RULE_NONE);
	/* A fake address in an address rule's range is not that address. */
	select_named("10.9.1.1", 80, "x.example", RULE_PROTO_TCP, &c);
	ck_assert_int_eq(c.rule, ROUTE_RULE_NONE);
	/* Host rules never fit a bare address. */
	select_named("10.0.0.99", 443, NULL, RULE_PROTO_TCP, &c);
	ck_assert_int_eq(c.rule, ROUTE_RULE_NONE);
}
END_TEST

START_TEST(name_endpoints)
{
	struct route_choice c;
	struct endpoint e;

	setup_text(names_conf);
	ck_assert_int_eq(endpoint_set_name(&e, "a.corp.example", 14, 443), 0);
	ck_assert_int_eq(
	    route_select(&cfg, &e, NULL, false, RULE_PROTO_TCP, &c),
	    ROUTE_PROXY);
	ck_assert_int_eq(c.rule, 3);
}
END_TEST

static enum route_decision lookup(const char *name, int *rule)
{
	struct route_choice c;
	enum route_decision d = route_lookup(&cfg, name, strlen(name), &c);

	*rule = c.rule;
	return d;
}

START_TEST(lookups)
{
	int rule;

	setup_text(names_conf);
	ck_assert_int_eq(lookup("nas.lan", &rule), ROUTE_DIRECT);
	ck_assert_int_eq(rule, 0);
	ck_assert_int_eq(lookup("LAN.", &rule), ROUTE_DIRECT);
	ck_assert_int_eq(lookup("ads.example", &rule), ROUTE_BLOCK);
	ck_assert_int_eq(rule, 1);
	ck_assert_int_eq(lookup("www.ads.example", &rule), ROUTE_PROXY);
	ck_assert_int_eq(rule, ROUTE_RULE_NONE);
	/* A fitting rule with a port leaves it to the connect. */
	ck_assert_int_eq(lookup("git.corp.example", &rule), ROUTE_PROXY);
	ck_assert_int_eq(rule, ROUTE_RULE_NONE);
	ck_assert_int_eq(lookup("www.corp.example", &rule), ROUTE_PROXY);
	ck_assert_int_eq(rule, 3);
	/* "*" and address rules do not decide lookups. */
	ck_assert_int_eq(lookup("example.org", &rule), ROUTE_PROXY);
	ck_assert_int_eq(rule, ROUTE_RULE_NONE);
	cfg.valid = false;
	ck_assert_int_eq(lookup("nas.lan", &rule), ROUTE_BLOCK);
}
END_TEST

START_TEST(direct_star_and_fakes)
{
	struct route_choice c;

	setup_text("direct * port 22\nblock * port 23\n");
	ck_assert_int_eq(
	    select_named("240.0.0.1", 22, "h.example", RULE_PROTO_TCP, &c),
	    ROUTE_PROXY);
	ck_assert_int_eq(
	    select_named("240.0.0.1", 23, "h.example", RULE_PROTO_TCP, &c),
	    ROUTE_BLOCK);
	ck_assert_int_eq(
	    select_named("192.0.2.1", 22, NULL, RULE_PROTO_TCP, &c),
	    ROUTE_DIRECT);
}
END_TEST

static Suite *route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, first_match_wins);
	tcase_add_test(tc, file_rules_before_default_loopback);
	tcase_add_test(tc, direct_none);
	tcase_add_test(tc, ports);
	tcase_add_test(tc, ipv6_rules);
	tcase_add_test(tc, v4_mapped);
	tcase_add_test(tc, fake_addresses);
	tcase_add_test(tc, names_go_to_the_proxy);
	tcase_add_test(tc, invalid_config_blocks_everything);
	tcase_add_test(tc, proto_qualified_rules);
	tcase_add_test(tc, proto_direct_line_drops_default);
	tcase_add_test(tc, proto_names_and_fakes);
	tcase_add_test(tc, proto_invalid_config_blocks);
	tcase_add_test(tc, names);
	tcase_add_test(tc, names_pick_chains);
	tcase_add_test(tc, addresses_pick_chains);
	tcase_add_test(tc, name_endpoints);
	tcase_add_test(tc, lookups);
	tcase_add_test(tc, direct_star_and_fakes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(route_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
