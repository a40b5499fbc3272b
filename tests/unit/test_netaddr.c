/* test_netaddr.c — CIDR parsing, matching, sizes and port ranges. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"

static const struct {
	const char *text;
	int family;
	unsigned prefix;
	uint8_t addr[16];
} good_nets[] = {
    {"*", AF_UNSPEC, 0, {0}},
    {"10.0.0.0/8", AF_INET, 8, {10}},
    {"192.0.2.7", AF_INET, 32, {192, 0, 2, 7}},
    {"0.0.0.0/0", AF_INET, 0, {0}},
    {"172.16.0.0/12", AF_INET, 12, {172, 16}},
    {"198.18.0.0/15", AF_INET, 15, {198, 18}},
    {"::1/128", AF_INET6, 128, {[15] = 1}},
    {"::1", AF_INET6, 128, {[15] = 1}},
    {"fd00::/8", AF_INET6, 8, {0xfd}},
    {"::/0", AF_INET6, 0, {0}},
    {"2001:db8::/32", AF_INET6, 32, {0x20, 0x01, 0x0d, 0xb8}},
    /* IPv4-mapped prefixes become the IPv4 prefix they mean. */
    {"::ffff:10.0.0.0/104", AF_INET, 8, {10}},
    {"::ffff:192.0.2.1", AF_INET, 32, {192, 0, 2, 1}},
};

START_TEST(parse_good)
{
	struct netmask net;

	ck_assert_int_eq(netmask_parse(&net, good_nets[_i].text), 0);
	ck_assert_int_eq(net.family, good_nets[_i].family);
	ck_assert_uint_eq(net.prefix, good_nets[_i].prefix);
	ck_assert_mem_eq(net.addr, good_nets[_i].addr, 16);
}
END_TEST

static const char *const bad_nets[] = {
    "",
    "10.0.0.0/33",
    "10.0.0.1/8",
    "10.0.0.0/",
    "10.0.0.0/x",
    "10.0.0.0/-1",
    "10.0.0/8",
    "1.2.3.4.5",
    "::1/129",
    "fd00::1/8",
    "**",
    "example.com",
    " 10.0.0.0/8",
    "10.0.0.0/8 ",
    "10.0.0.0/08x",
    "10.0.0.0/0008",
    "::ffff:10.0.0.1/104",
    "300.0.0.0/8",
    "1.2.3.4/+8",
    "/8",
};

START_TEST(parse_bad)
{
	struct netmask net;

	ck_assert_msg(netmask_parse(&net, bad_nets[_i]) == -EINVAL,
		      "accepted '%s'", bad_nets[_i]);
}
END_TEST

static struct endpoint ip(const char *text)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_parse_ip(&ep, text), 0);
	return ep;
}

static bool contains(const char *net_text, const char *ip_text)
{
	struct netmask net;
	struct endpoint ep = ip(ip_text);

	ck_assert_int_eq(netmask_parse(&net, net_text), 0);
	return netmask_contains(&net, &ep);
}

START_TEST(contains_ipv4)
{
	ck_assert(contains("10.0.0.0/8", "10.255.1.2"));
	ck_assert(!contains("10.0.0.0/8", "11.0.0.0"));
	ck_assert(!contains("10.0.0.0/8", "9.255.255.255"));
	ck_assert(contains("172.16.0.0/12", "172.31.255.255"));
	ck_assert(!contains("172.16.0.0/12", "172.32.0.0"));
	ck_assert(contains("192.0.2.7", "192.0.2.7"));
	ck_assert(!contains("192.0.2.7", "192.0.2.6"));
	ck_assert(contains("0.0.0.0/0", "203.0.113.9"));
	ck_assert(!contains("0.0.0.0/0", "::1"));
	ck_assert(contains("::ffff:10.0.0.0/104", "10.1.2.3"));
}
END_TEST

START_TEST(contains_ipv6)
{
	ck_assert(contains("::1/128", "::1"));
	ck_assert(!contains("::1/128", "::2"));
	ck_assert(contains("fd00::/8", "fdff:1::5"));
	ck_assert(!contains("fd00::/8", "fe80::1"));
	ck_assert(contains("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!contains("2001:db8::/33", "2001:db8:8000::1"));
	ck_assert(!contains("::/0", "127.0.0.1"));
	ck_assert(!contains("::/96", "1.2.3.4")); /* families never mix */
}
END_TEST

START_TEST(contains_any_and_names)
{
	struct netmask any;
	struct endpoint name;

	ck_assert_int_eq(netmask_parse(&any, "*"), 0);
	ck_assert(contains("*", "1.2.3.4"));
	ck_assert(contains("*", "2001:db8::1"));
	ck_assert_int_eq(endpoint_set_name(&name, "example.com", 11, 80), 0);
	ck_assert(!netmask_contains(&any, &name));
}
END_TEST

static uint32_t size_of(const char *text)
{
	struct netmask net;

	ck_assert_int_eq(netmask_parse(&net, text), 0);
	return netmask_size(&net);
}

START_TEST(sizes)
{
	ck_assert_uint_eq(size_of("192.0.2.1"), 1);
	ck_assert_uint_eq(size_of("192.0.2.0/24"), 256);
	ck_assert_uint_eq(size_of("240.0.0.0/4"), 1u << 28);
	ck_assert_uint_eq(size_of("128.0.0.0/1"), 1u << 31);
	ck_assert_uint_eq(size_of("0.0.0.0/0"), UINT32_MAX);
	ck_assert_uint_eq(size_of("fd00::/120"), 256);
	ck_assert_uint_eq(size_of("fd00::/97"), 1u << 31);
	ck_assert_uint_eq(size_of("fd00::/96"), UINT32_MAX);
	ck_assert_uint_eq(size_of("fd5c:6f63:6b73::/48"), UINT32_MAX);
	ck_assert_uint_eq(size_of("*"), UINT32_MAX);
}
END_TEST

static const struct {
	const char *text;
	uint16_t lo, hi;
} good_ports[] = {
    {"80", 80, 80},	     {"0", 0, 0},
    {"65535", 65535, 65535}, {"6000-6010", 6000, 6010},
    {"1-65535", 1, 65535},   {"443-443", 443, 443},
};

START_TEST(ports_good)
{
	uint16_t lo = 1, hi = 1;

	ck_assert_int_eq(portrange_parse(good_ports[_i].text, &lo, &hi), 0);
	ck_assert_uint_eq(lo, good_ports[_i].lo);
	ck_assert_uint_eq(hi, good_ports[_i].hi);
}
END_TEST

static const char *const bad_ports[] = {
    "",	   "65536", "-1",  "80-",    "-80",  "10-5",	 "8o",
    "80 ", "1-2-3", "+80", "100000", "0x50", "80-65536",
};

START_TEST(ports_bad)
{
	uint16_t lo = 7, hi = 9;

	ck_assert_msg(portrange_parse(bad_ports[_i], &lo, &hi) == -EINVAL,
		      "accepted '%s'", bad_ports[_i]);
	ck_assert_uint_eq(lo, 7);
	ck_assert_uint_eq(hi, 9);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

START_TEST(hex_digits)
{
	ck_assert_int_eq(netaddr_hex_digit('0'), 0);
	ck_assert_int_eq(netaddr_hex_digit('9'), 9);
	ck_assert_int_eq(netaddr_hex_digit('a'), 10);
	ck_assert_int_eq(netaddr_hex_digit('F'), 15);
	ck_assert_int_eq(netaddr_hex_digit('g'), -1);
	ck_assert_int_eq(netaddr_hex_digit('/'), -1);
	ck_assert_int_eq(netaddr_hex_digit(':'), -1);
	ck_assert_int_eq(netaddr_hex_digit('\0'), -1);
}
END_TEST

static Suite *netaddr_suite(void)
{
	Suite *s = suite_create("netaddr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, parse_good, 0, COUNT(good_nets));
	tcase_add_loop_test(tc, parse_bad, 0, COUNT(bad_nets));
	tcase_add_test(tc, contains_ipv4);
	tcase_add_test(tc, contains_ipv6);
	tcase_add_test(tc, contains_any_and_names);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, hex_digits);
	tcase_add_loop_test(tc, ports_good, 0, COUNT(good_ports));
	tcase_add_loop_test(tc, ports_bad, 0, COUNT(bad_ports));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(netaddr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
