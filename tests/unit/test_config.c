/* test_config.c — config file parsing (every key, every error with its
 * "file:line:" prefix), derived settings, the file search order, the
 * environment overrides and the exposed-password check. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "gssmsg.h"
#include "config_internal.h"
#include "fakedns.h"
#include "libc_io.h"

static struct config cfg;

static int parse(const char *text)
{
	config_defaults(&cfg);
	return config_parse(&cfg, text, strlen(text), "t.conf");
}

/* Parse and finish; both must succeed. */
static void parse_ok(const char *text)
{
	ck_assert_msg(parse(text) == 0, "%s", cfg.error);
	ck_assert_msg(config_finish(&cfg) == 0, "%s", cfg.error);
	ck_assert(cfg.valid);
}

START_TEST(async_handshakes_limit)
{
	config_defaults(&cfg);
	ck_assert_uint_eq(cfg.async_handshakes, 512);
	parse_ok("async_handshakes 1");
	ck_assert_uint_eq(cfg.async_handshakes, 1);
	parse_ok("async_handshakes 65535");
	ck_assert_uint_eq(cfg.async_handshakes, 65535);
	ck_assert_int_eq(parse("async_handshakes 0"), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:1: async_handshakes must be a "
				    "number from 1 to 65535");
	ck_assert_int_eq(parse("async_handshakes 65536"), -EINVAL);
	ck_assert_int_eq(parse("async_handshakes many"), -EINVAL);
	ck_assert_int_eq(parse("async_handshakes"), -EINVAL);
}
END_TEST

START_TEST(async_connect_switch)
{
	parse_ok("async_connect off");
	ck_assert(!cfg.async_connect);
	parse_ok("async_connect on");
	ck_assert(cfg.async_connect);
	ck_assert_int_eq(parse("async_connect maybe"), -EINVAL);
	ck_assert(!cfg.valid);
	ck_assert_int_eq(parse("async_connect"), -EINVAL);
}
END_TEST

START_TEST(fastopen_switch)
{
	parse_ok("async_connect on");
	ck_assert(cfg.fastopen); /* the default */
	parse_ok("fastopen off");
	ck_assert(!cfg.fastopen);
	parse_ok("fastopen on");
	ck_assert(cfg.fastopen);
	ck_assert_int_eq(parse("fastopen maybe"), -EINVAL);
	ck_assert_int_eq(parse("fastopen"), -EINVAL);
}
END_TEST

START_TEST(guard_switch)
{
	config_defaults(&cfg);
	ck_assert(cfg.guard);
	parse_ok("guard off");
	ck_assert(!cfg.guard);
	parse_ok("guard on");
	ck_assert(cfg.guard);
	ck_assert_int_eq(parse("guard sometimes"), -EINVAL);
	ck_assert(!cfg.valid);
}
END_TEST

static const char *proxy_text(unsigned i)
{
	static char buf[1024];

	return proxyurl_format(&cfg.proxies[i], buf, sizeof(buf));
}

START_TEST(defaults)
{
	config_defaults(&cfg);
	ck_assert(cfg.valid);
	ck_assert_uint_eq(cfg.proxy_count, 1);
	ck_assert_str_eq(proxy_text(0), "socks5h://127.0.0.1:1080");
	ck_assert_int_eq(cfg.remote_dns_mode, REMOTE_DNS_AUTO);
	ck_assert(cfg.remote_dns);
	ck_assert_int_eq(cfg.fake_ipv4.family, AF_INET);
	ck_assert_uint_eq(cfg.fake_ipv4.prefix, 4);
	ck_assert_uint_eq(cfg.fake_ipv4.addr[0], 240);
	ck_assert_int_eq(cfg.fake_ipv6.family, AF_INET6);
	ck_assert_uint_eq(cfg.fake_ipv6.prefix, 48);
	ck_assert_uint_eq(cfg.fake_ipv6.addr[0], 0xfd);
	ck_assert_uint_eq(cfg.fake_ipv6.addr[5], 0x73);
	ck_assert_uint_eq(cfg.fake_entries, 16777216);
	ck_assert_uint_eq(cfg.rule_count, 0);
	ck_assert(cfg.default_direct);
	ck_assert_uint_eq(cfg.connect_timeout_ms, 10000);
	ck_assert_uint_eq(cfg.handshake_timeout_ms, 10000);
	ck_assert(cfg.async_connect);
	ck_assert_int_eq(cfg.log_level, LOG_ERROR);
	ck_assert(!cfg.log_level_set);
	ck_assert_str_eq(cfg.source, "");
	ck_assert(!cfg.world_readable_secret);
	ck_assert_int_eq(cfg.udp_mode, UDP_AUTO);
	ck_assert(!cfg.proxies[0].pipeline);
	ck_assert_int_eq(cfg.bind_mode, BIND_MODE_AUTO);
	ck_assert_int_eq(cfg.bind_peer, BIND_PEER_LAST);
	ck_assert_int_eq(config_finish(&cfg), 0);
	ck_assert(config_bind_usable(&cfg));
	ck_assert(cfg.remote_dns);
	ck_assert_int_eq(cfg.udp_mode, UDP_PROXY);
}
END_TEST

START_TEST(every_key)
{
	parse_ok("# a comment\n"
		 "   # an indented comment\n"
		 "\n"
		 "proxy socks5://a:b@10.0.0.1:1 # trailing comment\n"
		 "proxy\tsocks5h://[::1]:2 pipeline\n"
		 "remote_dns on\n"
		 "fake_ipv4 10.64.0.0/10\n"
		 "fake_ipv6 fd00:1::/64\n"
		 "fake_entries 1000\n"
		 "direct 192.168.0.0/16\n"
		 "direct ::1 port 22\n"
		 "block * port 25-26\n"
		 "direct 10.0.0.0/8 port 53 udp\n"
		 "udp direct\n"
		 "connect_timeout 2.5\n"
		 "handshake_timeout 750ms\n"
		 "log_level debug\n");
	ck_assert_uint_eq(cfg.proxy_count, 2);
	ck_assert_str_eq(proxy_text(0), "socks5://a@10.0.0.1:1");
	ck_assert_str_eq(cfg.proxies[0].password, "b");
	ck_assert_str_eq(proxy_text(1), "socks5h://[::1]:2");
	ck_assert(!cfg.proxies[0].pipeline);
	ck_assert(cfg.proxies[1].pipeline);
	ck_assert_int_eq(cfg.remote_dns_mode, REMOTE_DNS_ON);
	ck_assert(cfg.remote_dns);
	ck_assert_uint_eq(cfg.fake_ipv4.addr[1], 64);
	ck_assert_uint_eq(cfg.fake_ipv4.prefix, 10);
	ck_assert_uint_eq(cfg.fake_ipv6.prefix, 64);
	ck_assert_uint_eq(cfg.fake_entries, 1000);
	ck_assert_uint_eq(cfg.rule_count, 4);
	ck_assert_int_eq(cfg.rules[0].action, RULE_DIRECT);
	ck_assert_uint_eq(cfg.rules[0].net.prefix, 16);
	ck_assert_uint_eq(cfg.rules[0].port_min, 0);
	ck_assert_uint_eq(cfg.rules[0].port_max, 65535);
	ck_assert_int_eq(cfg.rules[1].net.family, AF_INET6);
	ck_assert_uint_eq(cfg.rules[1].port_min, 22);
	ck_assert_uint_eq(cfg.rules[1].port_max, 22);
	ck_assert_int_eq(cfg.rules[2].action, RULE_BLOCK);
	ck_assert_int_eq(cfg.rules[2].net.family, AF_UNSPEC);
	ck_assert_uint_eq(cfg.rules[2].port_min, 25);
	ck_assert_uint_eq(cfg.rules[2].port_max, 26);
	ck_assert_int_eq(cfg.rules[2].proto, RULE_PROTO_ANY);
	ck_assert_int_eq(cfg.rules[3].action, RULE_DIRECT);
	ck_assert_uint_eq(cfg.rules[3].port_min, 53);
	ck_assert_int_eq(cfg.rules[3].proto, RULE_PROTO_UDP);
	ck_assert_int_eq(cfg.udp_mode, UDP_DIRECT);
	ck_assert(!cfg.default_direct);
	ck_assert_uint_eq(cfg.connect_timeout_ms, 2500);
	ck_assert_uint_eq(cfg.handshake_timeout_ms, 750);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert(cfg.log_level_set);
}
END_TEST

START_TEST(line_endings_and_blanks)
{
	parse_ok("log_level warn\r\n\r\n  \t\v\f\r\nconnect_timeout 3");
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
	ck_assert_uint_eq(cfg.connect_timeout_ms, 3000);
	parse_ok("");
	parse_ok("\n\n\n");
}
END_TEST

START_TEST(proxy_lines_replace_default)
{
	parse_ok("proxy socks4a://id@192.0.2.1:9\n");
	ck_assert_uint_eq(cfg.proxy_count, 1);
	ck_assert_str_eq(proxy_text(0), "socks4a://id@192.0.2.1:9");
	ck_assert(cfg.remote_dns);
	/* '#' inside a word is not a comment: it reaches the URL parser. */
	ck_assert_int_eq(parse("proxy socks5h://u:pa#ss@h\n"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "percent-encode"));
	parse_ok("proxy socks5h://u:pa%23ss@h\n");
	ck_assert_str_eq(cfg.proxies[0].password, "pa#ss");
}
END_TEST

START_TEST(chain_limit)
{
	char text[1024] = "";
	int i;

	for (i = 0; i < CONFIG_MAX_PROXIES; i++)
		sprintf(text + strlen(text), "proxy socks5://10.0.0.%d\n", i);
	parse_ok(text);
	ck_assert_uint_eq(cfg.proxy_count, CONFIG_MAX_PROXIES);
	ck_assert_str_eq(proxy_text(7), "socks5://10.0.0.7:1080");
	strcat(text, "proxy socks5://10.0.0.99\n");
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:9: more than 8 proxies");
}
END_TEST

START_TEST(rule_limit)
{
	static char text[64 * 40];
	int i;

	text[0] = '\0';
	for (i = 0; i < CONFIG_MAX_RULES; i++)
		sprintf(text + strlen(text), "block 10.0.%d.0/24\n", i);
	parse_ok(text);
	ck_assert_uint_eq(cfg.rule_count, CONFIG_MAX_RULES);
	ck_assert(cfg.default_direct); /* only block lines */
	strcat(text, "direct none\n"); /* adds no rule */
	parse_ok(text);
	strcat(text, "direct *\n");
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:66: more than 64 rules");
}
END_TEST

START_TEST(direct_lines_drop_default)
{
	parse_ok("block 10.0.0.0/8\n");
	ck_assert(cfg.default_direct);
	parse_ok("direct none\n");
	ck_assert(!cfg.default_direct);
	ck_assert_uint_eq(cfg.rule_count, 0);
	parse_ok("direct 10.0.0.0/8 port 1-2\n");
	ck_assert(!cfg.default_direct);
	ck_assert_uint_eq(cfg.rule_count, 1);
}
END_TEST

static const struct {
	const char *text;
	unsigned ms;
} good_times[] = {
    {"10", 10000},   {"2.5", 2500},	{"0.001", 1},		{"1ms", 1},
    {"500ms", 500},  {"3600", 3600000}, {"3600000ms", 3600000}, {"10s", 10000},
    {"1.25s", 1250}, {"0.0019", 1},	{"007", 7000},
};

START_TEST(times_good)
{
	char text[64];

	snprintf(text, sizeof(text), "connect_timeout %s\n",
		 good_times[_i].text);
	parse_ok(text);
	ck_assert_uint_eq(cfg.connect_timeout_ms, good_times[_i].ms);
	snprintf(text, sizeof(text), "handshake_timeout %s\n",
		 good_times[_i].text);
	parse_ok(text);
	ck_assert_uint_eq(cfg.handshake_timeout_ms, good_times[_i].ms);
}
END_TEST

static const char *const bad_times[] = {
    "0",   "0ms", "0.0005",	"3600.001", "3600001ms", "1.5ms",
    "1e3", ".5",  "5.",		"-1",	    "10m",	 "10 s",
    "1,5", "ms",  "9999999999", "10sec",    "1.2.3",
};

START_TEST(times_bad)
{
	char text[64];

	snprintf(text, sizeof(text), "\nconnect_timeout %s\n", bad_times[_i]);
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_msg(strncmp(cfg.error, "t.conf:2: ", 10) == 0, "%s",
		      cfg.error);
	ck_assert(!cfg.valid);
}
END_TEST

/* Each error: the text, and the exact message expected. */
static const struct {
	const char *text;
	const char *error;
} bad_files[] = {
    {"bogus 1\n", "t.conf:1: unknown key 'bogus'"},
    {"\n# x\n\nProxy socks5h://h\n", "t.conf:4: unknown key 'Proxy'"},
    {"socks5h://u:pw@h\n",
     "t.conf:1: unknown key (settings are written \"key value\"; a "
     "proxy is \"proxy URL\")"},
    {"proxy\n", "t.conf:1: missing value for proxy"},
    {"proxy # socks5h://h\n", "t.conf:1: missing value for proxy"},
    {"proxy socks5h://a socks5h://b\n",
     "t.conf:1: expected \"proxy URL [pipeline] [gssapi] "
     "[gssapi-service=NAME] [gssapi-protection=LEVEL]\""},
    {"log_level\n", "t.conf:1: missing value for log_level"},
    {"log_level info warn\n", "t.conf:1: too many values for log_level"},
    {"log_level verbose\n",
     "t.conf:1: log_level must be none, error, warn, info or debug"},
    {"log_level INFO\n",
     "t.conf:1: log_level must be none, error, warn, info or debug"},
    {"remote_dns yes\n",
     "t.conf:1: remote_dns must be auto, on, off or resolve"},
    {"proxy https://h:1\n",
     "t.conf:1: bad proxy URL: unsupported scheme: use socks4, socks4a, "
     "socks5, socks5h or http"},
    {"log_level info\nproxy 127.0.0.1:1080\n",
     "t.conf:2: bad proxy URL: missing scheme: expected "
     "socks5h://host:port"},
    {"proxy socks5h://h:70000\n",
     "t.conf:1: bad proxy URL: bad port: expected 1..65535"},
    {"direct 10.0.0.0/33\n",
     "t.conf:1: bad match '10.0.0.0/33': expected *, an address, a CIDR "
     "prefix or a host name (host.example, .example, *.example)"},
    {"block exa*mple.com\n",
     "t.conf:1: bad match 'exa*mple.com': expected *, an address, a CIDR "
     "prefix or a host name (host.example, .example, *.example)"},
    {"block none\n",
     "t.conf:1: bad match 'none': expected *, an address, a CIDR "
     "prefix or a host name (host.example, .example, *.example)"},
    {"block 1.2.3\n",
     "t.conf:1: bad match '1.2.3': expected *, an address, a CIDR "
     "prefix or a host name (host.example, .example, *.example)"},
    {"direct 10.0.0.0/8 port 70000\n",
     "t.conf:1: bad port '70000': expected P or P-Q within 0..65535"},
    {"direct 10.0.0.0/8 port 9-1\n",
     "t.conf:1: bad port '9-1': expected P or P-Q within 0..65535"},
    {"direct 10.0.0.0/8 ports 80\n",
     "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"direct 10.0.0.0/8 port\n",
     "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"block * port 1 2\n", "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"block * port 1 udp 2\n", "t.conf:1: too many values for block"},
    {"block * sctp\n", "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"block * UDP\n", "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"block * tcp udp\n", "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"block * udp port 53\n",
     "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"block * port 53 tcp,udp\n",
     "t.conf:1: expected MATCH [port P|P-Q] [tcp|udp]"},
    {"direct * port udp\n",
     "t.conf:1: bad port 'udp': expected P or P-Q within 0..65535"},
    {"direct udp\n",
     "t.conf:1: bad match 'udp': expected *, an address, a CIDR "
     "prefix or a host name (host.example, .example, *.example)"},
    {"direct none udp\n",
     "t.conf:1: bad match 'none': expected *, an address, a CIDR "
     "prefix or a host name (host.example, .example, *.example)"},
    {"direct .corp.example port 22\n",
     "t.conf:1: a direct host-name rule takes no port or transport: the "
     "name is resolved before either is known"},
    {"udp\n", "t.conf:1: missing value for udp"},
    {"udp on\n", "t.conf:1: udp must be auto, proxy, direct or block"},
    {"udp Proxy\n", "t.conf:1: udp must be auto, proxy, direct or block"},
    {"udp proxy block\n", "t.conf:1: too many values for udp"},
    {"proxy socks5h://h pipelined\n",
     "t.conf:1: expected \"proxy URL [pipeline] [gssapi] "
     "[gssapi-service=NAME] [gssapi-protection=LEVEL]\""},
    {"proxy socks5h://h PIPELINE\n",
     "t.conf:1: expected \"proxy URL [pipeline] [gssapi] "
     "[gssapi-service=NAME] [gssapi-protection=LEVEL]\""},
    {"proxy pipeline socks5h://h\n",
     "t.conf:1: bad proxy URL: missing scheme: expected "
     "socks5h://host:port"},
    {"proxy socks5h://h pipeline pipeline\n",
     "t.conf:1: a proxy option is given twice"},
    {"proxy socks5h://h gssapi gssapi-service=a gssapi-service=b\n",
     "t.conf:1: a proxy option is given twice"},
    {"proxy socks5h://h gssapi pipeline gssapi-protection=clear gssapi "
     "pipeline\n",
     "t.conf:1: too many values for proxy"},
    {"proxy socks5h://h gssapi-protection=secret\n",
     "t.conf:1: gssapi-protection: expected clear, integrity or "
     "confidentiality"},
    {"proxy socks5h://h gssapi-protection=\n",
     "t.conf:1: gssapi-protection: expected clear, integrity or "
     "confidentiality"},
    {"proxy socks5h://h gssapi-service=\n",
     "t.conf:1: gssapi-service: expected a service name of 1 to 63 "
     "letters, digits, '.', '_' or '-'"},
    {"proxy socks5h://h gssapi-service=a/b\n",
     "t.conf:1: gssapi-service: expected a service name of 1 to 63 "
     "letters, digits, '.', '_' or '-'"},
    {"proxy socks5h://h gssapi-delegate\n",
     "t.conf:1: unknown GSS-API option (expected gssapi, "
     "gssapi-service=NAME or gssapi-protection=LEVEL)"},
    {"proxy socks4a://h gssapi\n",
     "t.conf:1: gssapi needs a socks5:// or socks5h:// proxy"},
    {"proxy http://h gssapi\n",
     "t.conf:1: gssapi needs a socks5:// or socks5h:// proxy"},
    {"chain c socks5h://a gssapi socks4://b gssapi\n",
     "t.conf:1: gssapi needs a socks5:// or socks5h:// proxy"},
    {"chain c socks5h://a gssapi gssapi\n",
     "t.conf:1: a proxy option is given twice"},
    {"chain c gssapi socks5h://a\n",
     "t.conf:1: expected \"chain NAME URL [pipeline] [gssapi ...] "
     "[URL ...]\""},
    {"direct\n", "t.conf:1: missing value for direct"},
    {"fake_entries 15\n",
     "t.conf:1: fake_entries must be a number from 16 to 16777216"},
    {"fake_entries 16777217\n",
     "t.conf:1: fake_entries must be a number from 16 to 16777216"},
    {"fake_entries 1k\n",
     "t.conf:1: fake_entries must be a number from 16 to 16777216"},
    {"fake_ipv4 fd00::/64\n",
     "t.conf:1: fake_ipv4 needs an IPv4 prefix like 240.0.0.0/4"},
    {"fake_ipv6 10.0.0.0/8\n",
     "t.conf:1: fake_ipv6 needs an IPv6 prefix like fd5c:6f63:6b73::/48"},
    {"fake_ipv4 *\n",
     "t.conf:1: fake_ipv4 needs an IPv4 prefix like 240.0.0.0/4"},
    {"fake_ipv4 10.0.0.0/28\n",
     "t.conf:1: fake_ipv4 range too small: it must hold 16 names"},
    {"fake_ipv6 fd00::/124\n",
     "t.conf:1: fake_ipv6 range too small: it must hold 16 names"},
    {"fake_ipv4 127.16.0.0/12\n",
     "t.conf:1: fake_ipv4 range must not overlap loopback"},
    {"fake_ipv4 0.0.0.0/1\n",
     "t.conf:1: fake_ipv4 range must not overlap loopback"},
    {"fake_ipv6 ::/112\n",
     "t.conf:1: fake_ipv6 range must not overlap loopback"},
    {"connect_timeout 0\n",
     "t.conf:1: bad time '0': seconds (\"2.5\") or milliseconds "
     "(\"500ms\"), 1ms to 1 hour"},
    {"log_level debug#x\n",
     "t.conf:1: log_level must be none, error, warn, info or debug"},
    {"block 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
     "t.conf:1: too many values"},
};

START_TEST(errors)
{
	ck_assert_int_eq(parse(bad_files[_i].text), -EINVAL);
	ck_assert_str_eq(cfg.error, bad_files[_i].error);
	ck_assert(!cfg.valid);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert_str_eq(cfg.error, bad_files[_i].error);
}
END_TEST

START_TEST(long_line_and_nul)
{
	static char text[5000];
	static const char with_nul[] = "log_level info\nlog_level\0 x\n";

	memset(text, ' ', sizeof(text));
	memcpy(text, "log_level info\n", 15);
	text[sizeof(text) - 1] = '\0';
	ck_assert_int_eq(parse(text), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:2: line longer than 4095 bytes");
	config_defaults(&cfg);
	ck_assert_int_eq(
	    config_parse(&cfg, with_nul, sizeof(with_nul) - 1, "t.conf"),
	    -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:2: NUL byte in line");
	/* Only len bytes are read: a line cut at len is complete. */
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, "log_level infoXXX", 14, "t.conf"),
			 0);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
}
END_TEST

START_TEST(errors_never_quote_passwords)
{
	static const char *const texts[] = {
	    "proxy socks4://u:SECRETPW@h\n",
	    "proxy socks5h://u:SECRETPW@h:0\n",
	    "socks5h://u:SECRETPW@h\n",
	    "u:SECRETPW@h\n",
	    "proxy socks5h://u:SECRETPW@h extra\n",
	    "proxy socks5h://u@h SECRETPW\n",
	    "proxy socks5h://u:SECRETPW@h pipeline extra\n",
	    "proxy socks5h://u:SECRETPW%@h\n",
	    "direct alice:SECRETPW@host\n",
	    "block SECRETPW@host port 22\n",
	    "direct 10.0.0.0/8 port u:SECRETPW@h\n",
	    "connect_timeout socks5h://u:SECRETPW@h\n",
	    "handshake_timeout u:SECRETPW@h\n",
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		ck_assert_int_eq(parse(texts[i]), -EINVAL);
		ck_assert_msg(!strstr(cfg.error, "SECRET"), "leaked: %s",
			      cfg.error);
	}
}
END_TEST

/* A value that holds user information is still quoted, its password
 * hidden, so the line can be found and fixed. */
START_TEST(errors_quote_values_redacted)
{
	ck_assert_int_eq(parse("direct alice:S3cr3t@host\n"), -EINVAL);
	ck_assert_str_eq(cfg.error,
			 "t.conf:1: bad match 'alice:***@host': expected *, "
			 "an address, a CIDR prefix or a host name "
			 "(host.example, .example, *.example)");
	ck_assert_int_eq(parse("block * port S3cr3t@host\n"), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:1: bad port '***@host': expected "
				    "P or P-Q within 0..65535");
}
END_TEST

/* remote_dns mode × last proxy type: the resulting type and flag. */
static const struct {
	const char *mode, *url;
	const char *want_url; /* NULL: error */
	bool remote;
} dns_cases[] = {
    {"auto", "socks5h://h", "socks5h://h:1080", true},
    {"auto", "socks5://h", "socks5://h:1080", false},
    {"auto", "socks4a://h", "socks4a://h:1080", true},
    {"auto", "socks4://h", "socks4://h:1080", false},
    {"on", "socks5h://h", "socks5h://h:1080", true},
    {"on", "socks5://h", "socks5h://h:1080", true},
    {"on", "socks4a://h", "socks4a://h:1080", true},
    {"on", "socks4://h", NULL, false},
    {"off", "socks5h://h", "socks5://h:1080", false},
    {"off", "socks5://h", "socks5://h:1080", false},
    {"off", "socks4a://h", "socks4://h:1080", false},
    {"off", "socks4://h", "socks4://h:1080", false},
};

START_TEST(remote_dns_modes)
{
	char text[128];

	snprintf(text, sizeof(text), "remote_dns %s\nproxy %s\n",
		 dns_cases[_i].mode, dns_cases[_i].url);
	ck_assert_int_eq(parse(text), 0);
	if (!dns_cases[_i].want_url) {
		ck_assert_int_eq(config_finish(&cfg), -EINVAL);
		ck_assert_str_eq(cfg.error, "remote_dns on: socks4 cannot "
					    "carry host names; use socks4a");
		ck_assert(!cfg.valid);
		return;
	}
	ck_assert_int_eq(config_finish(&cfg), 0);
	ck_assert_str_eq(proxy_text(0), dns_cases[_i].want_url);
	ck_assert_int_eq(cfg.remote_dns, dns_cases[_i].remote);
	ck_assert_int_eq(proxy_sends_names(&cfg.proxies[0]),
			 dns_cases[_i].remote);
}
END_TEST

/* remote_dns resolve: names go to the proxy (socks5 becomes socks5h), and
 * the default chain must end in SOCKS5 (RESOLVE is a SOCKS5 command). */
START_TEST(remote_dns_resolve_mode)
{
	parse_ok("remote_dns resolve\nproxy socks5://10.0.0.1\n");
	ck_assert_int_eq(cfg.remote_dns_mode, REMOTE_DNS_RESOLVE);
	ck_assert(cfg.remote_dns);
	ck_assert_str_eq(proxy_text(0), "socks5h://10.0.0.1:1080");
	ck_assert_int_eq(parse("remote_dns resolve\nproxy socks4a://h\n"), 0);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert_str_eq(cfg.error, "remote_dns resolve needs a SOCKS5 proxy "
				    "(Tor's RESOLVE command) at the end of "
				    "the default chain");
	ck_assert_int_eq(parse("remote_dns resolve\nproxy http://h:8080\n"), 0);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert_int_eq(parse("remote_dns resolve\nproxy socks4://h\n"), 0);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
}
END_TEST

START_TEST(remote_dns_looks_at_last_proxy)
{
	parse_ok("remote_dns on\nproxy socks4://10.0.0.1\n"
		 "proxy socks5://10.0.0.2\n");
	ck_assert_int_eq(cfg.proxies[0].type, PROXY_SOCKS4);
	ck_assert_int_eq(cfg.proxies[1].type, PROXY_SOCKS5H);
}
END_TEST

START_TEST(chain_consistency)
{
	parse_ok("proxy socks4a://10.0.0.1\nproxy socks5h://next.example\n");
	parse_ok("proxy socks4://10.0.0.1\nproxy socks5h://10.0.0.2\n");
	ck_assert_int_eq(parse("proxy socks4://10.0.0.1\n"
			       "proxy socks5h://next.example\n"),
			 0);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert_str_eq(cfg.error, "proxy 1 is socks4: it cannot reach the "
				    "host name of proxy 2; use socks4a");
	ck_assert_int_eq(parse("proxy socks4a://10.0.0.1\n"
			       "proxy socks5h://[::1]\n"),
			 0);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert_str_eq(cfg.error, "proxy 1 is socks4: it cannot reach the "
				    "IPv6 address of proxy 2");
}
END_TEST

/* An http:// proxy takes names and reaches any next hop (IPv6, names);
 * remote_dns off keeps its type and only turns off the fake addresses;
 * bind on needs a SOCKS proxy last, bind auto does without BIND. */
START_TEST(http_proxies)
{
	parse_ok("proxy http://u:pw@10.0.0.1:3128\n");
	ck_assert_int_eq(cfg.proxies[0].type, PROXY_HTTP);
	ck_assert(cfg.remote_dns);
	ck_assert_str_eq(cfg.proxies[0].password, "pw");
	parse_ok("remote_dns on\nproxy http://[::1]:8080\n");
	ck_assert(cfg.remote_dns);
	parse_ok("remote_dns off\nproxy http://10.0.0.1\n");
	ck_assert(!cfg.remote_dns);
	ck_assert_int_eq(cfg.proxies[0].type, PROXY_HTTP);
	parse_ok("proxy http://10.0.0.1\nproxy socks5h://[::1]\n"
		 "proxy http://next.example:3128\n");
	ck_assert_uint_eq(cfg.proxy_count, 3);
	parse_ok("bind on\nproxy http://10.0.0.1\nproxy socks5h://h\n");
	ck_assert_int_eq(parse("bind on\nproxy http://10.0.0.1:3128\n"), 0);
	ck_assert_int_eq(config_finish(&cfg), -EINVAL);
	ck_assert_str_eq(cfg.error,
			 "bind on needs a SOCKS proxy last in the chain: an "
			 "http proxy cannot accept connections for us (HTTP "
			 "CONNECT has no BIND)");
	/* bind auto (the default): no error, listeners stay local. */
	parse_ok("proxy http://10.0.0.1:3128\n");
	ck_assert_int_eq(cfg.bind_mode, BIND_MODE_AUTO);
	ck_assert(!config_bind_usable(&cfg));
	parse_ok("proxy http://10.0.0.1\nproxy socks5h://h\n");
	ck_assert(config_bind_usable(&cfg));
	/* A route's chain with a SOCKS proxy last can BIND (bind.c picks
	 * the chain per listener). */
	parse_ok("proxy http://10.0.0.1:3128\nchain s socks5h://h\n");
	ck_assert(config_bind_usable(&cfg));
	parse_ok("proxy http://10.0.0.1:3128\nchain w http://h\n");
	ck_assert(!config_bind_usable(&cfg));
	ck_assert_int_eq(parse("proxy https://10.0.0.1\n"), -EINVAL);
}
END_TEST

/* Every index below fake_entries has an address in both ranges. */
static void assert_last_index_fits(void)
{
	struct endpoint ep;

	ck_assert_int_eq(
	    fakedns_index_to_addr(&cfg.fake_ipv4, cfg.fake_entries - 1, &ep),
	    0);
	ck_assert_int_eq(
	    fakedns_index_to_addr(&cfg.fake_ipv6, cfg.fake_entries - 1, &ep),
	    0);
}

START_TEST(fake_entries_capped_by_ranges)
{
	/* 32 addresses: neither the network's nor the last one is used. */
	parse_ok("fake_ipv4 10.0.0.0/27\n");
	ck_assert_uint_eq(cfg.fake_entries, 30);
	assert_last_index_fits();
	parse_ok("fake_ipv6 fd00::/120\nfake_entries 100\n");
	ck_assert_uint_eq(cfg.fake_entries, 100);
	parse_ok("fake_ipv6 fd00::/120\nfake_entries 1000\n");
	ck_assert_uint_eq(cfg.fake_entries, 254);
	assert_last_index_fits();
	parse_ok("fake_entries 16777216\n");
	ck_assert_uint_eq(cfg.fake_entries, 16777216);
	assert_last_index_fits();
}
END_TEST

START_TEST(log_level_names)
{
	static const char *const names[] = {"none", "error", "warn", "info",
					    "debug"};
	enum log_level level;
	int i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(config_parse_log_level(names[i], &level), 0);
		ck_assert_int_eq(level, (enum log_level)i);
	}
	ck_assert_int_eq(config_parse_log_level("", &level), -EINVAL);
	ck_assert_int_eq(config_parse_log_level("warning", &level), -EINVAL);
	ck_assert_int_eq(config_parse_log_level(NULL, &level), -EINVAL);
}
END_TEST

/* Rules with and without a transport word. */
static const struct {
	const char *text;
	enum rule_action action;
	uint16_t port_min, port_max;
	enum rule_proto proto;
} rule_cases[] = {
    {"direct 10.0.0.0/8\n", RULE_DIRECT, 0, 65535, RULE_PROTO_ANY},
    {"direct 10.0.0.0/8 udp\n", RULE_DIRECT, 0, 65535, RULE_PROTO_UDP},
    {"direct 10.0.0.0/8 tcp\n", RULE_DIRECT, 0, 65535, RULE_PROTO_TCP},
    {"block * port 53 udp\n", RULE_BLOCK, 53, 53, RULE_PROTO_UDP},
    {"block * port 53\ttcp # comment\n", RULE_BLOCK, 53, 53, RULE_PROTO_TCP},
    {"block ::1 port 1-2 tcp\n", RULE_BLOCK, 1, 2, RULE_PROTO_TCP},
    {"direct * port 0-65535 udp\n", RULE_DIRECT, 0, 65535, RULE_PROTO_UDP},
};

START_TEST(rule_protocols)
{
	parse_ok(rule_cases[_i].text);
	ck_assert_uint_eq(cfg.rule_count, 1);
	ck_assert_int_eq(cfg.rules[0].action, rule_cases[_i].action);
	ck_assert_uint_eq(cfg.rules[0].port_min, rule_cases[_i].port_min);
	ck_assert_uint_eq(cfg.rules[0].port_max, rule_cases[_i].port_max);
	ck_assert_int_eq(cfg.rules[0].proto, rule_cases[_i].proto);
	/* Any direct line, whatever its transport, drops the loopback
	 * default; a block line does not. */
	ck_assert_int_eq(cfg.default_direct,
			 rule_cases[_i].action == RULE_BLOCK);
}
END_TEST

/* udp mode × chain: the mode config_finish() settles on, or its error. */
static const struct {
	const char *text;
	enum udp_mode want; /* when error is NULL */
	const char *error;
} udp_cases[] = {
    {"", UDP_PROXY, NULL},
    {"udp auto\nproxy socks5h://h\n", UDP_PROXY, NULL},
    {"udp auto\nproxy socks5://h\n", UDP_PROXY, NULL},
    {"udp auto\nproxy socks4://h\n", UDP_BLOCK, NULL},
    {"udp auto\nproxy socks4a://h\n", UDP_BLOCK, NULL},
    {"proxy socks5://10.0.0.1\nproxy socks5h://h\n", UDP_BLOCK, NULL},
    {"proxy socks4a://10.0.0.1\nproxy socks5h://h\n", UDP_BLOCK, NULL},
    {"udp proxy\n", UDP_PROXY, NULL},
    {"udp proxy\nproxy socks5://h\n", UDP_PROXY, NULL},
    {"proxy socks5h://u:pw@h\nudp proxy\n", UDP_PROXY, NULL},
    {"udp proxy\nproxy socks4://h\n", 0,
     "udp proxy needs a single socks5 proxy: SOCKS4 has no UDP"},
    {"udp proxy\nproxy socks4a://h\n", 0,
     "udp proxy needs a single socks5 proxy: SOCKS4 has no UDP"},
    {"udp proxy\nproxy socks5://10.0.0.1\nproxy socks5h://h\n", 0,
     "udp proxy needs a single socks5 proxy: UDP cannot cross a proxy "
     "chain"},
    {"udp proxy\nproxy socks5://10.0.0.1\nproxy socks4a://h\n", 0,
     "udp proxy needs a single socks5 proxy: UDP cannot cross a proxy "
     "chain"},
    {"udp direct\nproxy socks4://h\n", UDP_DIRECT, NULL},
    {"udp direct\nproxy socks5://10.0.0.1\nproxy socks5h://h\n", UDP_DIRECT,
     NULL},
    {"udp block\n", UDP_BLOCK, NULL},
    {"udp block\nproxy socks4://h\n", UDP_BLOCK, NULL},
    {"udp direct\nudp auto\n", UDP_PROXY, NULL}, /* the last line wins */
    {"proxy http://h:3128\n", UDP_BLOCK, NULL},
    {"udp direct\nproxy http://h:3128\n", UDP_DIRECT, NULL},
    {"udp proxy\nproxy http://h:3128\n", 0,
     "udp proxy needs a single socks5 proxy: an http proxy has no UDP "
     "(HTTP CONNECT is TCP only)"},
};

START_TEST(udp_modes)
{
	ck_assert_msg(parse(udp_cases[_i].text) == 0, "%s", cfg.error);
	if (udp_cases[_i].error) {
		ck_assert_int_eq(config_finish(&cfg), -EINVAL);
		ck_assert_str_eq(cfg.error, udp_cases[_i].error);
		ck_assert(!cfg.valid);
		return;
	}
	ck_assert_msg(config_finish(&cfg) == 0, "%s", cfg.error);
	ck_assert_int_eq(cfg.udp_mode, udp_cases[_i].want);
	/* Finishing again keeps the settled mode. */
	ck_assert_int_eq(config_finish(&cfg), 0);
	ck_assert_int_eq(cfg.udp_mode, udp_cases[_i].want);
}
END_TEST

START_TEST(pipeline_per_proxy)
{
	parse_ok("proxy socks5://10.0.0.1 pipeline\n"
		 "proxy socks4a://10.0.0.2\n"
		 "proxy socks5h://u:pw@h:9 pipeline # comment\n");
	ck_assert_uint_eq(cfg.proxy_count, 3);
	ck_assert(cfg.proxies[0].pipeline);
	ck_assert(!cfg.proxies[1].pipeline);
	ck_assert(cfg.proxies[2].pipeline);
	ck_assert_str_eq(proxy_text(2), "socks5h://u@h:9");
	ck_assert_str_eq(cfg.proxies[2].password, "pw");
	parse_ok("proxy socks5h://h\n");
	ck_assert(!cfg.proxies[0].pipeline);
}
END_TEST

/* The GSS-API words after a URL, in any order, with "pipeline" among them;
 * a gssapi-* word alone turns GSS-API on. */
START_TEST(gssapi_words)
{
	parse_ok(
	    "proxy socks5h://proxy.example:1080 gssapi\n"
	    "proxy socks5h://h:2 gssapi gssapi-protection=confidentiality\n"
	    "proxy socks5://10.0.0.1 pipeline gssapi-service=socks\n"
	    "proxy socks5h://plain\n");
	ck_assert_uint_eq(cfg.proxy_count, 4);
	ck_assert(cfg.proxies[0].gssapi);
	ck_assert_str_eq(cfg.proxies[0].gssapi_service, "");
	ck_assert_uint_eq(cfg.proxies[0].gssapi_protection,
			  GSSMSG_PROTECT_CLEAR);
	ck_assert(cfg.proxies[1].gssapi);
	ck_assert_uint_eq(cfg.proxies[1].gssapi_protection,
			  GSSMSG_PROTECT_CONFIDENTIALITY);
	ck_assert(cfg.proxies[2].gssapi && cfg.proxies[2].pipeline);
	ck_assert_str_eq(cfg.proxies[2].gssapi_service, "socks");
	ck_assert(!cfg.proxies[3].gssapi);
	ck_assert(config_uses_gssapi(&cfg));
	parse_ok("chain c socks5h://a:1 gssapi-protection=integrity "
		 "socks5h://b:2 pipeline socks5h://c:3 gssapi pipeline\n"
		 "proxy socks5h://d\n");
	ck_assert(config_uses_gssapi(&cfg));
	ck_assert(!cfg.proxies[0].gssapi);
	parse_ok("proxy socks5h://d\n");
	ck_assert(!config_uses_gssapi(&cfg));
}
END_TEST

START_TEST(bind_settings)
{
	parse_ok("bind on\nbind_peer zeros\n");
	ck_assert_int_eq(cfg.bind_mode, BIND_MODE_ON);
	ck_assert(config_bind_usable(&cfg));
	ck_assert_int_eq(cfg.bind_peer, BIND_PEER_ZEROS);
	parse_ok("bind on\nbind off\nbind_peer zeros\nbind_peer last\n");
	ck_assert_int_eq(cfg.bind_mode, BIND_MODE_OFF);
	ck_assert(!config_bind_usable(&cfg));
	ck_assert_int_eq(cfg.bind_peer, BIND_PEER_LAST);
	parse_ok("bind off\nbind auto\n");
	ck_assert_int_eq(cfg.bind_mode, BIND_MODE_AUTO);
	ck_assert(config_bind_usable(&cfg));
	ck_assert_int_eq(parse("bind yes\n"), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:1: bind must be auto, on or off");
	ck_assert_int_eq(parse("bind_peer any\n"), -EINVAL);
	ck_assert_str_eq(cfg.error,
			 "t.conf:1: bind_peer must be last or zeros");
	ck_assert_int_eq(parse("bind\n"), -EINVAL);
	ck_assert_str_eq(cfg.error, "t.conf:1: missing value for bind");
}
END_TEST

/* --- Files: search order, reading, environment. -------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/socksify-test-config-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Write text to tmpdir/rel (creating parent directories) with mode. The
 * full path goes to out. */
static void write_file(const char *rel, const char *text, mode_t mode,
		       char *out)
{
	char path[512], *slash;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	for (slash = path + strlen(tmpdir) + 1; (slash = strchr(slash, '/'));
	     slash++) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
	if (out)
		strcpy(out, path);
}

static void remove_tree(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* tmpdir/rel in one of 8 rotating buffers, so that a few results can be
 * held at once (as struct config_env fields). */
static const char *under(const char *rel)
{
	static char bufs[8][512];
	static unsigned next;
	char *buf = bufs[next++ % 8];

	snprintf(buf, sizeof(bufs[0]), "%s/%s", tmpdir, rel);
	return buf;
}

START_TEST(search_order)
{
	char explicit_path[512], xdg[512], home[512], sys[512], found[512];
	struct config_env env = {0};

	make_tmpdir();
	write_file("explicit.conf", "log_level info\n", 0600, explicit_path);
	write_file("xdg/socksify/socksify.conf", "", 0600, NULL);
	write_file("home/.config/socksify/socksify.conf", "", 0600, NULL);
	write_file("etc/socksify.conf", "", 0600, sys);
	strcpy(xdg, under("xdg"));
	strcpy(home, under("home"));
	env.system_conf = sys;
	env.xdg_config_home = xdg;
	env.home = home;
	env.conf_file = explicit_path;
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 1);
	ck_assert_str_eq(found, explicit_path);
	env.conf_file = "";
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 1);
	ck_assert_str_eq(found, under("xdg/socksify/socksify.conf"));
	env.xdg_config_home = "relative/ignored";
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 1);
	ck_assert_str_eq(found, under("home/.config/socksify/socksify.conf"));
	env.xdg_config_home = NULL;
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 1);
	ck_assert_str_eq(found, under("home/.config/socksify/socksify.conf"));
	/* An XDG directory without our file falls through to /etc, not to
	 * ~/.config. */
	env.xdg_config_home = under("home/.config/../../xdg-empty");
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 1);
	ck_assert_str_eq(found, sys);
	env.xdg_config_home = NULL;
	env.home = NULL;
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 1);
	ck_assert_str_eq(found, sys);
	env.system_conf = under("etc/missing.conf");
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), 0);
	env.conf_file = under("nope.conf");
	ck_assert_int_eq(config_find_file(&env, found, sizeof(found)), -ENOENT);
	ck_assert_int_eq(config_find_file(&env, found, 8), -ENAMETOOLONG);
	remove_tree();
}
END_TEST

START_TEST(load_from_search_path)
{
	char home[512];
	struct config_env env = {0};

	make_tmpdir();
	write_file("home/.config/socksify/socksify.conf",
		   "proxy socks5://192.0.2.5:7000\nlog_level warn\n", 0644,
		   NULL);
	strcpy(home, under("home"));
	env.home = home;
	env.system_conf = under("etc/none.conf");
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(cfg.valid);
	ck_assert_str_eq(cfg.source,
			 under("home/.config/socksify/socksify.conf"));
	ck_assert_str_eq(proxy_text(0), "socks5://192.0.2.5:7000");
	ck_assert(!cfg.remote_dns);
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
	ck_assert(!cfg.world_readable_secret); /* no password */
	/* Nothing found: built-in defaults. */
	env.home = under("elsewhere");
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_str_eq(cfg.source, "");
	ck_assert_str_eq(proxy_text(0), "socks5h://127.0.0.1:1080");
	ck_assert(cfg.remote_dns);
	remove_tree();
}
END_TEST

START_TEST(load_errors)
{
	char conf[512], want[700];
	struct config_env env = {0};

	make_tmpdir();
	env.system_conf = under("etc/none.conf");
	env.conf_file = under("missing.conf");
	errno = 1234;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_int_eq(errno, 1234);
	ck_assert(!cfg.valid);
	snprintf(want, sizeof(want),
		 "%s: cannot read: No such file or directory",
		 under("missing.conf"));
	ck_assert_str_eq(cfg.error, want);
	/* A directory cannot be read as a file. */
	env.conf_file = tmpdir;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmpdir);
	ck_assert_str_eq(cfg.error, want);
	/* Parse errors carry the file's path and the line. */
	write_file("bad.conf", "log_level info\n\nproxy ftp://h\n", 0600, conf);
	env.conf_file = conf;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: bad proxy URL: unsupported scheme: use socks4, "
		 "socks4a, socks5, socks5h or http",
		 conf);
	ck_assert_str_eq(cfg.error, want);
	ck_assert_str_eq(cfg.source, conf);
	/* A whole-config error names the file without a line. */
	write_file("dns.conf", "remote_dns on\nproxy socks4://h\n", 0600, conf);
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: remote_dns on: socks4 cannot carry host names; use "
		 "socks4a",
		 conf);
	ck_assert_str_eq(cfg.error, want);
	remove_tree();
}
END_TEST

/* The file is opened, read and closed through the table config_load() is
 * given, never by libc directly: a table whose read fails is what the
 * error reports, and every descriptor it opened is closed. */
static int table_opened, table_closed;

static int table_openat(int dirfd, const char *path, int flags, ...)
{
	int fd = openat(dirfd, path, flags);

	if (fd >= 0)
		table_opened++;
	return fd;
}

static ssize_t table_read_fails(int fd, void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
	errno = EIO;
	return -1;
}

static int table_close(int fd)
{
	table_closed++;
	return close(fd);
}

START_TEST(load_goes_through_the_table)
{
	static const struct sys_io failing_io = {
	    .openat = table_openat,
	    .read = table_read_fails,
	    .write = write,
	    .close = table_close,
	    .fstat = fstat,
	};
	char conf[512], want[700];
	struct config_env env = {0};

	make_tmpdir();
	write_file("good.conf", "log_level info\n", 0600, conf);
	env.conf_file = conf;
	table_opened = table_closed = 0;
	ck_assert_int_eq(config_load(&cfg, &env, &failing_io), -EINVAL);
	snprintf(want, sizeof(want), "%s: cannot read: %s", conf,
		 strerror(EIO));
	ck_assert_str_eq(cfg.error, want);
	ck_assert_int_eq(table_opened, 1);
	ck_assert_int_eq(table_closed, 1);
	remove_tree();
}
END_TEST

/* A file that cannot be opened for want of a descriptor or memory makes a
 * transient error (the library loads again later); any other failure, and
 * every mistake in the settings, does not. */
static int table_open_errno;

static int table_openat_fails(int dirfd, const char *path, int flags, ...)
{
	(void)dirfd;
	(void)path;
	(void)flags;
	errno = table_open_errno;
	return -1;
}

START_TEST(load_error_transient)
{
	static const struct sys_io no_fd_io = {
	    .openat = table_openat_fails,
	    .read = read,
	    .write = write,
	    .close = close,
	    .fstat = fstat,
	};
	static const int transient[] = {EMFILE, ENFILE, ENOMEM};
	char conf[512], url[512];
	struct config_env env = {0};
	size_t i;

	make_tmpdir();
	write_file("good.conf", "log_level info\n", 0600, conf);
	write_file("p.url", "socks5://127.0.0.1:1\n", 0600, url);
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++) {
		table_open_errno = transient[i];
		env = (struct config_env){.conf_file = conf};
		ck_assert_int_eq(config_load(&cfg, &env, &no_fd_io), -EINVAL);
		ck_assert(cfg.error_transient);
		env = (struct config_env){.proxy_file = url, .system_conf = ""};
		ck_assert_int_eq(config_load(&cfg, &env, &no_fd_io), -EINVAL);
		ck_assert(cfg.error_transient);
	}
	table_open_errno = EACCES;
	env = (struct config_env){.conf_file = conf};
	ck_assert_int_eq(config_load(&cfg, &env, &no_fd_io), -EINVAL);
	ck_assert(!cfg.error_transient);
	/* The same load works once the descriptor is there. */
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.error_transient);
	/* Not transient: a read error, a missing file, a bad line. */
	ck_assert_int_eq(config_load(&cfg, &env,
				     &(const struct sys_io){
					 .openat = openat,
					 .read = table_read_fails,
					 .write = write,
					 .close = close,
					 .fstat = fstat,
				     }),
			 -EINVAL);
	ck_assert(!cfg.error_transient);
	env.conf_file = under("missing.conf");
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert(!cfg.error_transient);
	write_file("bad.conf", "no-such-key 1\n", 0600, conf);
	env.conf_file = conf;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert(!cfg.error_transient);
	remove_tree();
}
END_TEST

START_TEST(environment_overrides)
{
	char conf[512];
	struct config_env env = {0};

	make_tmpdir();
	write_file("a.conf",
		   "proxy socks5://10.0.0.1\nproxy socks5://10.0.0.2\n"
		   "log_level debug\n",
		   0600, conf);
	env.conf_file = conf;
	env.proxy_url = "socks4a://[::1]:9";
	env.log_level = "warn";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_uint_eq(cfg.proxy_count, 1);
	ck_assert_str_eq(proxy_text(0), "socks4a://[::1]:9");
	ck_assert(cfg.remote_dns);
	ck_assert_int_eq(cfg.log_level, LOG_WARN);
	env.proxy_url = "socks5h://u:SECRETPW@h:0";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_PROXY: bad proxy URL: bad port: "
				    "expected 1..65535");
	env.proxy_url = NULL;
	env.log_level = "loud";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_LOG: unknown level 'loud' (use "
				    "none, error, warn, info or debug)");
	env.log_level = "u:SECRETPW@h";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error,
			 "SOCKSIFY_LOG: unknown level 'u:***@h' (use "
			 "none, error, warn, info or debug)");
	/* A valid env level still applies when the file is broken. */
	write_file("a.conf", "oops\n", 0600, conf);
	env.log_level = "none";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_int_eq(cfg.log_level, LOG_NONE);
	ck_assert_ptr_nonnull(strstr(cfg.error, ":1: unknown key 'oops'"));
	remove_tree();
}
END_TEST

/* SOCKSIFY_PIPELINE after the file and after -x; the udp errors carry the
 * file's name. */
START_TEST(environment_pipeline_and_udp)
{
	char conf[512], want[700];
	struct config_env env = {0};
	static const char *const bad[] = {"2",	"yes", "true", "01",
					  " 1", "1 ",  "-1"};
	size_t i;

	make_tmpdir();
	write_file("p.conf",
		   "proxy socks5://10.0.0.1 pipeline\nproxy socks5h://h\n",
		   0600, conf);
	env.conf_file = conf;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(cfg.proxies[0].pipeline);
	ck_assert(!cfg.proxies[1].pipeline);
	ck_assert_int_eq(cfg.udp_mode, UDP_BLOCK); /* a chain */
	env.pipeline = "0";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(cfg.proxies[0].pipeline);
	ck_assert(!cfg.proxies[1].pipeline);
	env.pipeline = "";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.proxies[1].pipeline);
	env.pipeline = "1";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_uint_eq(cfg.proxy_count, 2);
	ck_assert(cfg.proxies[0].pipeline);
	ck_assert(cfg.proxies[1].pipeline);
	/* -x replaces the chain; "1" still pipelines it, "0" does not. */
	env.proxy_url = "socks5h://127.0.0.1:9050";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_uint_eq(cfg.proxy_count, 1);
	ck_assert(cfg.proxies[0].pipeline);
	ck_assert_int_eq(cfg.udp_mode, UDP_PROXY); /* one socks5 now */
	env.pipeline = "0";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.proxies[0].pipeline);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		env.pipeline = bad[i];
		errno = 4321;
		ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io),
				 -EINVAL);
		ck_assert_int_eq(errno, 4321);
		ck_assert(!cfg.valid);
		ck_assert_str_eq(cfg.error,
				 "SOCKSIFY_PIPELINE: expected 0 or 1");
	}
	/* An explicit "udp proxy" meeting -x socks4: a whole-config error. */
	write_file("u.conf", "udp proxy\n", 0600, conf);
	env.pipeline = NULL;
	env.proxy_url = "socks4a://127.0.0.1:1";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: udp proxy needs a single socks5 proxy: SOCKS4 has no "
		 "UDP",
		 conf);
	ck_assert_str_eq(cfg.error, want);
	env.proxy_url = NULL;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_int_eq(cfg.udp_mode, UDP_PROXY);
	remove_tree();
}
END_TEST

static const struct {
	const char *text;
	mode_t mode;
	bool exposed;
} secret_cases[] = {
    {"proxy socks5h://u:pw@h\n", 0600, false},
    {"proxy socks5h://u:pw@h\n", 0644, true},
    {"proxy socks5h://u:pw@h\n", 0640, true},
    {"proxy socks5h://u:pw@h\n", 0604, true},
    {"proxy socks5h://u:pw@h\n", 0400, false},
    {"proxy socks5h://u:pw@h\n", 0622, false},
    {"proxy socks5h://h\n", 0644, false},
    {"proxy socks4://userid@h\n", 0644, false},
    {"proxy socks5://h\nproxy socks5h://u:pw@h2\n", 0644, true},
};

START_TEST(world_readable_secret)
{
	char conf[512];
	struct config_env env = {0};

	make_tmpdir();
	write_file("s.conf", secret_cases[_i].text, secret_cases[_i].mode,
		   conf);
	env.conf_file = conf;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_int_eq(cfg.world_readable_secret, secret_cases[_i].exposed);
	/* -x replaces the chain, but the file still holds the password. */
	env.proxy_url = "socks5h://127.0.0.1:1";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_int_eq(cfg.world_readable_secret, secret_cases[_i].exposed);
	remove_tree();
}
END_TEST

/* The shipped example must load as it is (everything commented: the
 * defaults) and with every "#key value" line enabled. Tests run from the
 * top of the source tree. */
/* A scripted environment: each variable's value is its own name, but
 * HOME is unset. */
static const char *env_by_name(const char *name)
{
	return strcmp(name, "HOME") == 0 ? NULL : name;
}

/* Load with SOCKSIFY_PROXY_FILE naming tmpdir/rel; the error never holds
 * the file's text. Returns config_load()'s result. */
static int load_proxy_file(const char *rel)
{
	struct config_env env = {.proxy_file = under(rel), .system_conf = ""};
	int rc = config_load(&cfg, &env, &libc_sys_io);

	ck_assert_msg(!strstr(cfg.error, "SECRET"), "leaked: %s", cfg.error);
	return rc;
}

/* The file's error for rel, which must fail. */
static const char *proxy_file_error(const char *rel)
{
	ck_assert_int_eq(load_proxy_file(rel), -EINVAL);
	ck_assert(!cfg.valid);
	return cfg.error;
}

START_TEST(proxy_file)
{
	struct config_env env = {.system_conf = ""};
	char path[512], url[CONFIG_PROXY_URL_MAX];

	make_tmpdir();
	write_file("p.url", " socks5h://u:SECRETPW@127.0.0.1:2080\n", 0600,
		   path);
	ck_assert_int_eq(load_proxy_file("p.url"), 0);
	ck_assert_uint_eq(cfg.proxy_count, 1);
	ck_assert_str_eq(proxy_text(0), "socks5h://u@127.0.0.1:2080");
	ck_assert_str_eq(cfg.proxies[0].password, "SECRETPW");
	/* Both variables: which one was meant? */
	env.proxy_file = path;
	env.proxy_url = "socks5h://127.0.0.1:1";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_PROXY and SOCKSIFY_PROXY_FILE "
				    "are both set: set only one");
	/* Someone else may own it (checked here without root). */
	ck_assert_int_eq(config_file_read_proxy(&cfg, path, geteuid() + 1,
						&libc_sys_io, url, sizeof(url)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "owned by another user"));
	ck_assert_int_eq(config_file_read_proxy(&cfg, path, geteuid(),
						&libc_sys_io, url, sizeof(url)),
			 0);
	ck_assert_str_eq(url, "socks5h://u:SECRETPW@127.0.0.1:2080");
	ck_assert_int_eq(symlink(path, under("link.url")), 0);
	ck_assert_ptr_nonnull(
	    strstr(proxy_file_error("link.url"), "cannot read"));
	write_file("open.url", "socks5h://u:SECRETPW@h\n", 0640, NULL);
	ck_assert_ptr_nonnull(
	    strstr(proxy_file_error("open.url"), "other users can read"));
	write_file("two.url", "socks5h://u:SECRETPW@h\nsocks5h://h\n", 0600,
		   NULL);
	ck_assert_ptr_nonnull(strstr(proxy_file_error("two.url"), "one line"));
	write_file("empty.url", "\n", 0600, NULL);
	ck_assert_ptr_nonnull(strstr(proxy_file_error("empty.url"), "empty"));
	write_file("bad.url", "socks5h://u:SECRETPW@h:0", 0600, NULL);
	ck_assert_ptr_nonnull(strstr(proxy_file_error("bad.url"),
				     "SOCKSIFY_PROXY_FILE: bad proxy URL: bad "
				     "port"));
	ck_assert_ptr_nonnull(
	    strstr(proxy_file_error("none.url"), "cannot read"));
	ck_assert_ptr_nonnull(strstr(proxy_file_error("."), "not a regular"));
	remove_tree();
}
END_TEST

/* SOCKSIFY_GSSAPI and its two companions after -x. */
START_TEST(environment_gssapi)
{
	struct config_env env = {0};

	env.proxy_url = "socks5h://proxy.example:1080";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.proxies[0].gssapi);
	env.gssapi_service = "socks";
	env.gssapi_protection = "integrity";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.proxies[0].gssapi);
	ck_assert_str_eq(cfg.proxies[0].gssapi_service, "");
	env.gssapi = "1";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(cfg.proxies[0].gssapi);
	ck_assert_str_eq(cfg.proxies[0].gssapi_service, "socks");
	ck_assert_uint_eq(cfg.proxies[0].gssapi_protection,
			  GSSMSG_PROTECT_INTEGRITY);
	env.gssapi_protection = "secret";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_GSSAPI_PROTECTION: expected "
				    "clear, integrity or confidentiality");
	env.gssapi_protection = NULL;
	env.gssapi_service = "a b";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cfg.error, "SOCKSIFY_GSSAPI_SERVICE"));
	env.gssapi_service = NULL;
	env.gssapi = "yes";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_GSSAPI: expected 0 or 1");
	env.gssapi = "1";
	env.proxy_url = "socks4a://proxy.example:1080";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_GSSAPI needs socks5:// or "
				    "socks5h:// proxies");
}
END_TEST

/* SOCKSIFY_FASTOPEN overrides the file's fastopen either way. */
START_TEST(environment_fastopen)
{
	struct config_env env = {0};
	char conf[512];

	make_tmpdir();
	write_file("f.conf", "fastopen off\n", 0600, conf);
	env.conf_file = conf;
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.fastopen);
	env.fastopen = "1";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(cfg.fastopen);
	env.fastopen = "";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.fastopen);
	env.conf_file = NULL;
	env.fastopen = "0";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert(!cfg.fastopen);
	env.fastopen = "on";
	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), -EINVAL);
	ck_assert_str_eq(cfg.error, "SOCKSIFY_FASTOPEN: expected 0 or 1");
}
END_TEST

START_TEST(environment_read_names_each_variable)
{
	struct config_env env;

	memset(&env, 0xff, sizeof(env));
	config_env_read(&env, env_by_name);
	ck_assert_str_eq(env.conf_file, "SOCKSIFY_CONF");
	ck_assert_str_eq(env.proxy_url, "SOCKSIFY_PROXY");
	ck_assert_str_eq(env.log_level, "SOCKSIFY_LOG");
	ck_assert_str_eq(env.pipeline, "SOCKSIFY_PIPELINE");
	ck_assert_str_eq(env.fastopen, "SOCKSIFY_FASTOPEN");
	ck_assert_str_eq(env.gssapi, "SOCKSIFY_GSSAPI");
	ck_assert_str_eq(env.gssapi_service, "SOCKSIFY_GSSAPI_SERVICE");
	ck_assert_str_eq(env.gssapi_protection, "SOCKSIFY_GSSAPI_PROTECTION");
	ck_assert_str_eq(env.xdg_config_home, "XDG_CONFIG_HOME");
	ck_assert_str_eq(env.proxy_file, "SOCKSIFY_PROXY_FILE");
	ck_assert_ptr_null(env.home);
	ck_assert_ptr_null(env.system_conf);
}
END_TEST

START_TEST(example_file)
{
	static char text[64 * 1024], enabled[64 * 1024];
	struct config_env env = {.conf_file = "socksify.conf.example"};
	size_t len, i, n = 0;
	FILE *f;

	ck_assert_int_eq(config_load(&cfg, &env, &libc_sys_io), 0);
	ck_assert_str_eq(cfg.source, "socksify.conf.example");
	ck_assert_uint_eq(cfg.rule_count, 0);
	ck_assert(cfg.default_direct);
	ck_assert_int_eq(cfg.udp_mode, UDP_PROXY);
	f = fopen("socksify.conf.example", "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	for (i = 0; i < len; i++) {
		bool line_start = i == 0 || text[i - 1] == '\n';

		if (line_start && text[i] == '#' && i + 1 < len &&
		    text[i + 1] >= 'a' && text[i + 1] <= 'z')
			continue;
		enabled[n++] = text[i];
	}
	config_defaults(&cfg);
	ck_assert_msg(config_parse(&cfg, enabled, n, "example") == 0, "%s",
		      cfg.error);
	ck_assert_int_eq(config_finish(&cfg), 0);
	ck_assert_uint_eq(cfg.rule_count, 12);
	ck_assert_int_eq(cfg.rules[8].action, RULE_DIRECT);
	ck_assert_str_eq(cfg.rules[8].host.name, "corp.example");
	ck_assert_int_eq(cfg.rules[11].action, RULE_VIA);
	ck_assert_int_eq(cfg.rules[11].via.kind, TARGET_GROUP);
	ck_assert_uint_eq(cfg.group_count, 2);
	ck_assert_uint_eq(cfg.down_time_ms, 30000);
	ck_assert_uint_eq(cfg.race_delay_ms, 250);
	ck_assert_int_eq(cfg.rules[6].proto, RULE_PROTO_UDP);
	ck_assert_uint_eq(cfg.rules[6].port_min, 53);
	ck_assert_int_eq(cfg.rules[7].action, RULE_BLOCK);
	ck_assert_int_eq(cfg.rules[7].proto, RULE_PROTO_UDP);
	ck_assert_int_eq(cfg.rules[0].proto, RULE_PROTO_ANY);
	ck_assert_int_eq(cfg.udp_mode, UDP_PROXY);
	ck_assert(!cfg.proxies[0].pipeline);
	ck_assert(!cfg.default_direct);
	ck_assert_uint_eq(cfg.fake_ipv4.prefix, 4);
	ck_assert_uint_eq(cfg.fake_ipv6.prefix, 48);
	ck_assert_str_eq(proxy_text(0), "socks5h://127.0.0.1:1080");
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	TCase *files = tcase_create("files");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, line_endings_and_blanks);
	tcase_add_test(tc, proxy_lines_replace_default);
	tcase_add_test(tc, chain_limit);
	tcase_add_test(tc, rule_limit);
	tcase_add_test(tc, direct_lines_drop_default);
	tcase_add_loop_test(tc, times_good, 0, COUNT(good_times));
	tcase_add_loop_test(tc, times_bad, 0, COUNT(bad_times));
	tcase_add_loop_test(tc, errors, 0, COUNT(bad_files));
	tcase_add_test(tc, long_line_and_nul);
	tcase_add_test(tc, errors_never_quote_passwords);
	tcase_add_test(tc, errors_quote_values_redacted);
	tcase_add_loop_test(tc, remote_dns_modes, 0, COUNT(dns_cases));
	tcase_add_test(tc, remote_dns_looks_at_last_proxy);
	tcase_add_test(tc, remote_dns_resolve_mode);
	tcase_add_test(tc, chain_consistency);
	tcase_add_test(tc, http_proxies);
	tcase_add_test(tc, fake_entries_capped_by_ranges);
	tcase_add_test(tc, log_level_names);
	tcase_add_test(tc, async_connect_switch);
	tcase_add_test(tc, fastopen_switch);
	tcase_add_test(tc, environment_fastopen);
	tcase_add_test(tc, async_handshakes_limit);
	tcase_add_loop_test(tc, rule_protocols, 0, COUNT(rule_cases));
	tcase_add_loop_test(tc, udp_modes, 0, COUNT(udp_cases));
	tcase_add_test(tc, pipeline_per_proxy);
	tcase_add_test(tc, gssapi_words);
	tcase_add_test(tc, bind_settings);
	tcase_add_test(tc, guard_switch);
	suite_add_tcase(s, tc);
	tcase_add_test(files, search_order);
	tcase_add_test(files, load_from_search_path);
	tcase_add_test(files, load_errors);
	tcase_add_test(files, load_goes_through_the_table);
	tcase_add_test(files, load_error_transient);
	tcase_add_test(files, environment_overrides);
	tcase_add_test(files, environment_pipeline_and_udp);
	tcase_add_test(files, environment_gssapi);
	tcase_add_loop_test(files, world_readable_secret, 0,
			    COUNT(secret_cases));
	tcase_add_test(files, example_file);
	tcase_add_test(files, environment_read_names_each_variable);
	tcase_add_test(files, proxy_file);
	suite_add_tcase(s, files);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
