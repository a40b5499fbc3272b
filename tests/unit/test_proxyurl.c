/* test_proxyurl.c — proxy URLs: every scheme, hosts, ports, credentials,
 * and the reasons given for bad ones. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proxyurl.h"

static const struct {
	const char *url;
	enum proxy_type type;
	const char *host; /* endpoint_format() of the address */
	const char *user, *password;
	const char *printed; /* proxyurl_format() */
} good_urls[] = {
    {"socks5h://127.0.0.1:1080", PROXY_SOCKS5H, "127.0.0.1:1080", NULL, NULL,
     "socks5h://127.0.0.1:1080"},
    {"socks5://10.1.2.3:9050/", PROXY_SOCKS5, "10.1.2.3:9050", NULL, NULL,
     "socks5://10.1.2.3:9050"},
    {"socks4://proxy.example:1", PROXY_SOCKS4, "proxy.example:1", NULL, NULL,
     "socks4://proxy.example:1"},
    {"socks4a://proxy.example", PROXY_SOCKS4A, "proxy.example:1080", NULL, NULL,
     "socks4a://proxy.example:1080"},
    {"SOCKS5H://Proxy-1.Example_Net:65535", PROXY_SOCKS5H,
     "Proxy-1.Example_Net:65535", NULL, NULL,
     "socks5h://Proxy-1.Example_Net:65535"},
    {"socks5h://[::1]:1081", PROXY_SOCKS5H, "[::1]:1081", NULL, NULL,
     "socks5h://[::1]:1081"},
    {"socks5h://[2001:db8::7]", PROXY_SOCKS5H, "[2001:db8::7]:1080", NULL, NULL,
     "socks5h://[2001:db8::7]:1080"},
    {"socks5h://[::ffff:127.0.0.1]:5", PROXY_SOCKS5H, "127.0.0.1:5", NULL, NULL,
     "socks5h://127.0.0.1:5"},
    {"socks5h://alice:secret@127.0.0.1:1080", PROXY_SOCKS5H, "127.0.0.1:1080",
     "alice", "secret", "socks5h://alice@127.0.0.1:1080"},
    {"socks5://a%40b:p%3Aw%2F%23%25@[::1]:2", PROXY_SOCKS5, "[::1]:2", "a@b",
     "p:w/#%", "socks5://a%40b@[::1]:2"},
    {"socks5h://u:p@ss@host", PROXY_SOCKS5H, "host:1080", "u", "p@ss",
     "socks5h://u@host:1080"},
    {"socks5h://%c3%a9:%20x%7e@h", PROXY_SOCKS5H, "h:1080", "\xc3\xa9", " x~",
     "socks5h://%C3%A9@h:1080"},
    {"socks4://user-id@192.0.2.1:1080", PROXY_SOCKS4, "192.0.2.1:1080",
     "user-id", NULL, "socks4://user-id@192.0.2.1:1080"},
    {"socks4a://me@h.example:4", PROXY_SOCKS4A, "h.example:4", "me", NULL,
     "socks4a://me@h.example:4"},
    {"socks5h://localhost", PROXY_SOCKS5H, "localhost:1080", NULL, NULL,
     "socks5h://localhost:1080"},
    {"http://127.0.0.1:3128", PROXY_HTTP, "127.0.0.1:3128", NULL, NULL,
     "http://127.0.0.1:3128"},
    {"HTTP://proxy.example/", PROXY_HTTP, "proxy.example:1080", NULL, NULL,
     "http://proxy.example:1080"},
    {"http://[::1]:8080", PROXY_HTTP, "[::1]:8080", NULL, NULL,
     "http://[::1]:8080"},
    {"http://bob:p%3As%40ss@[2001:db8::1]:3128", PROXY_HTTP,
     "[2001:db8::1]:3128", "bob", "p:s@ss", "http://bob@[2001:db8::1]:3128"},
    {"http://bob@h:1", PROXY_HTTP, "h:1", "bob", NULL, "http://bob@h:1"},
    {"http://bob:@h:1", PROXY_HTTP, "h:1", "bob", NULL, "http://bob@h:1"},
};

START_TEST(parse_good)
{
	struct proxy p;
	char err[128] = "unchanged", host[ENDPOINT_TEXT_MAX], out[1024];

	ck_assert_msg(proxyurl_parse(&p, good_urls[_i].url, err, sizeof(err)) ==
			  0,
		      "%s: %s", good_urls[_i].url, err);
	ck_assert_int_eq(p.type, good_urls[_i].type);
	ck_assert_str_eq(endpoint_format(&p.addr, host, sizeof(host)),
			 good_urls[_i].host);
	ck_assert_int_eq(p.has_auth, good_urls[_i].user != NULL);
	if (good_urls[_i].user) {
		ck_assert_str_eq(p.user, good_urls[_i].user);
		ck_assert_uint_eq(p.user_len, strlen(good_urls[_i].user));
	}
	if (good_urls[_i].password) {
		ck_assert_str_eq(p.password, good_urls[_i].password);
		ck_assert_uint_eq(p.password_len,
				  strlen(good_urls[_i].password));
	} else {
		ck_assert_uint_eq(p.password_len, 0);
	}
	ck_assert_str_eq(proxyurl_format(&p, out, sizeof(out)),
			 good_urls[_i].printed);
}
END_TEST

static const struct {
	const char *url;
	const char *reason; /* a substring of the error text */
} bad_urls[] = {
    {"", "empty"},
    {"127.0.0.1:1080", "expected socks5h://host:port"},
    {"user:pw@127.0.0.1:1080", "expected socks5h://host:port"},
    {"https://127.0.0.1:8080", "scheme"},
    {"http://a%3Ab:pw@host", "cannot hold ':'"},
    {"http://:pw@host", "empty user"},
    {"http://u:p%00@host", "percent"},
    {"socks://127.0.0.1", "scheme"},
    {"socks5hh://127.0.0.1", "scheme"},
    {"socks5h://", "missing host"},
    {"socks5h://:1080", "missing host"},
    {"socks5h://127.0.0.1:", "port"},
    {"socks5h://127.0.0.1:0", "port"},
    {"socks5h://127.0.0.1:65536", "port"},
    {"socks5h://127.0.0.1:10x", "port"},
    {"socks5h://127.0.0.1:-1", "port"},
    {"socks5h://127.0.0.1:1080/path", "path"},
    {"socks5h://127.0.0.1:1080?q", "path"},
    {"socks5h://127.0.0.1:1080#f", "path"},
    {"socks5h://127.0.0.1:1080//", "path"},
    {"socks5h://::1:1080", "brackets"},
    {"socks5h://[::1", "]"},
    {"socks5h://[::1]x", "after ']'"},
    {"socks5h://[127.0.0.1]:1", "IPv6"},
    {"socks5h://[fe80::1%25eth0]:1", "IPv6"},
    {"socks5h://[]:1", "missing host"},
    {"socks5h://1.2.3:1080", "IPv4"},
    {"socks5h://999.1.1.1", "IPv4"},
    {"socks5h://bad host", "character"},
    {"socks5h://h\xc3\xa9", "character"},
    {"socks5h://@host", "empty user"},
    {"socks5h://:pw@host", "empty user"},
    {"socks5h://user@host", "password"},
    {"socks5h://user:@host", "empty password"},
    {"socks5h://us%4:pw@host", "percent"},
    {"socks5h://us%zz:pw@host", "percent"},
    {"socks5h://u:pw%@host", "percent"},
    {"socks5h://u:p%00w@host", "percent"},
    {"socks4://u:pw@host", "socks4 has no password"},
    {"socks4a://u:@host", "socks4 has no password"},
    {"socks4://@host", "empty user"},
};

START_TEST(parse_bad)
{
	struct proxy p;
	char err[128] = "";

	ck_assert_int_eq(proxyurl_parse(&p, bad_urls[_i].url, err, sizeof(err)),
			 -EINVAL);
	ck_assert_msg(strstr(err, bad_urls[_i].reason) != NULL,
		      "'%s': reason '%s' lacks '%s'", bad_urls[_i].url, err,
		      bad_urls[_i].reason);
	ck_assert(!p.has_auth);
	ck_assert_uint_eq(p.password_len, 0);
}
END_TEST

/* Build "socks5h://U:P@h" with user and password of the given lengths. */
static void long_credentials(char *url, size_t user_len, size_t pass_len)
{
	strcpy(url, "socks5h://");
	memset(url + strlen(url), 'u', user_len);
	url[10 + user_len] = ':';
	memset(url + 11 + user_len, 'p', pass_len);
	strcpy(url + 11 + user_len + pass_len, "@h");
}

START_TEST(credential_lengths)
{
	char url[1024], err[128];
	struct proxy p;

	long_credentials(url, 255, 255);
	ck_assert_int_eq(proxyurl_parse(&p, url, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.user_len, 255);
	ck_assert_uint_eq(p.password_len, 255);
	long_credentials(url, 256, 1);
	ck_assert_int_eq(proxyurl_parse(&p, url, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "user name"));
	long_credentials(url, 1, 256);
	ck_assert_int_eq(proxyurl_parse(&p, url, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "password"));
	/* 255 decoded bytes written as 765 characters of escapes. */
	strcpy(url, "socks5h://u:");
	for (int i = 0; i < 255; i++)
		strcat(url, "%41");
	strcat(url, "@h");
	ck_assert_int_eq(proxyurl_parse(&p, url, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.password_len, 255);
	ck_assert_int_eq(p.password[254], 'A');
}
END_TEST

START_TEST(host_name_length)
{
	char url[600], err[128];
	struct proxy p;

	strcpy(url, "socks5h://");
	memset(url + 10, 'a', 255);
	strcpy(url + 265, ":9");
	ck_assert_int_eq(proxyurl_parse(&p, url, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.addr.name_len, 255);
	ck_assert_uint_eq(p.addr.port, 9);
	strcpy(url + 10, "a");
	memset(url + 10, 'a', 256);
	strcpy(url + 266, ":9");
	ck_assert_int_eq(proxyurl_parse(&p, url, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "255"));
}
END_TEST

/* No error text may quote the user or the password. */
START_TEST(errors_never_quote_secrets)
{
	static const char *const urls[] = {
	    "socks4://usr:SECRETPW@host",
	    "socks5h://usr:SECRETPW@host:99999",
	    "socks5h://usr:SECRETPW@host/x",
	    "socks5h://usr:SECRETPW%zz@host",
	    "ftp://usr:SECRETPW@host",
	    "usr:SECRETPW@host",
	    "socks5h://usr:SECRETPW@[::1",
	};
	char err[256];
	struct proxy p;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		ck_assert_int_eq(proxyurl_parse(&p, urls[i], err, sizeof(err)),
				 -EINVAL);
		ck_assert_msg(!strstr(err, "SECRET") && !strstr(err, "usr"),
			      "leaked: %s", err);
	}
}
END_TEST

START_TEST(small_error_buffer)
{
	char err[8];
	struct proxy p;

	ck_assert_int_eq(proxyurl_parse(&p, "x", err, sizeof(err)), -EINVAL);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert_int_eq(proxyurl_parse(&p, "x", NULL, 0), -EINVAL);
}
END_TEST

START_TEST(kind_predicates)
{
	struct proxy p = {.type = PROXY_SOCKS4};

	ck_assert(!proxy_sends_names(&p) && !proxy_is_socks5(&p));
	p.type = PROXY_SOCKS4A;
	ck_assert(proxy_sends_names(&p) && !proxy_is_socks5(&p));
	p.type = PROXY_SOCKS5;
	ck_assert(!proxy_sends_names(&p) && proxy_is_socks5(&p));
	p.type = PROXY_SOCKS5H;
	ck_assert(proxy_sends_names(&p) && proxy_is_socks5(&p));
	ck_assert(!proxy_is_http(&p));
	p.type = PROXY_HTTP;
	ck_assert(proxy_sends_names(&p) && !proxy_is_socks5(&p) &&
		  proxy_is_http(&p));
}
END_TEST

START_TEST(format_truncates)
{
	struct proxy p;
	char buf[12];

	ck_assert_int_eq(
	    proxyurl_parse(&p, "socks5h://u:pw@example.org", NULL, 0), 0);
	ck_assert_str_eq(proxyurl_format(&p, buf, sizeof(buf)), "socks5h://u");
}
END_TEST

/* Text as a user may have typed it, and what an error message shows. */
static const struct {
	const char *text, *shown;
} redact_cases[] = {
    {"socks5h://alice:S3cr3t@host:1080", "socks5h://alice:***@host:1080"},
    {"alice:S3cr3t@host", "alice:***@host"},
    {"S3cr3t@host", "***@host"},
    {"socks5://S3cr3t@h", "socks5://***@h"},
    {"a:pa@ss:S3cr3t@h", "a:***@h"},
    {"u:S3cr3t@", "u:***@"},
    /* A "://" after a secret is no scheme's (fuzz_config found it). */
    {"a:S3cr3t@://u:S3cr3t@h", "a:***@h"},
    {"a b://u:S3cr3t@h", "a b://u:***@h"},
    {"://u:S3cr3t@h", "://u:***@h"},
    {"@host", "***@host"},
    {"10.0.0.0/33", "10.0.0.0/33"},
    {"[::1]:1080", "[::1]:1080"},
    {"", ""},
};

START_TEST(redact)
{
	char buf[64];

	ck_assert_str_eq(
	    proxyurl_redact(redact_cases[_i].text, buf, sizeof(buf)),
	    redact_cases[_i].shown);
	ck_assert_ptr_null(strstr(buf, "S3cr3t"));
}
END_TEST

/* A buffer too small cuts the redacted text, never shows the secret. */
START_TEST(redact_truncates)
{
	char buf[10];

	ck_assert_str_eq(
	    proxyurl_redact("socks5h://u:S3cr3t@h", buf, sizeof(buf)),
	    "socks5h:/");
	ck_assert_str_eq(proxyurl_redact("u:S3cr3t@host", buf, 6), "u:***");
	buf[0] = 'x';
	ck_assert_ptr_eq(proxyurl_redact("u:S3cr3t@h", buf, 0), buf);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *proxyurl_suite(void)
{
	Suite *s = suite_create("proxyurl");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, parse_good, 0, COUNT(good_urls));
	tcase_add_loop_test(tc, parse_bad, 0, COUNT(bad_urls));
	tcase_add_test(tc, credential_lengths);
	tcase_add_test(tc, host_name_length);
	tcase_add_test(tc, errors_never_quote_secrets);
	tcase_add_test(tc, small_error_buffer);
	tcase_add_test(tc, kind_predicates);
	tcase_add_test(tc, format_truncates);
	tcase_add_loop_test(tc, redact, 0, COUNT(redact_cases));
	tcase_add_test(tc, redact_truncates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proxyurl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
