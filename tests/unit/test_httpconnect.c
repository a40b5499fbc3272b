/* test_httpconnect.c — the HTTP CONNECT request encoder (authority forms,
 * Basic authentication, names that could inject lines) and the reply head
 * parser (in any pieces, stopping at the head's end, malformed and
 * oversized heads), and the status → errno table. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "httpconnect.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct endpoint ip_endpoint(const char *ip, uint16_t port)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_parse_ip(&ep, ip), 0);
	ep.port = port;
	return ep;
}

START_TEST(request_name)
{
	static const char want[] = "CONNECT example.org:443 HTTP/1.1\r\n"
				   "Host: example.org:443\r\n\r\n";
	struct endpoint ep;
	char buf[HTTPCONNECT_REQUEST_MAX];

	ck_assert_int_eq(endpoint_set_name(&ep, "example.org", 11, 443), 0);
	ck_assert_int_eq(
	    httpconnect_build_request(buf, sizeof(buf), &ep, NULL, 0, NULL, 0),
	    strlen(want));
	ck_assert_str_eq(buf, want);
	ck_assert_int_eq(
	    httpconnect_build_request(buf, strlen(want), &ep, NULL, 0, NULL, 0),
	    -ENOSPC);
}
END_TEST

START_TEST(request_addresses)
{
	struct endpoint v4 = ip_endpoint("198.18.0.7", 80);
	struct endpoint v6 = ip_endpoint("2001:db8::1", 8443);
	char buf[HTTPCONNECT_REQUEST_MAX];

	ck_assert_int_gt(
	    httpconnect_build_request(buf, sizeof(buf), &v4, NULL, 0, NULL, 0),
	    0);
	ck_assert_str_eq(buf, "CONNECT 198.18.0.7:80 HTTP/1.1\r\n"
			      "Host: 198.18.0.7:80\r\n\r\n");
	ck_assert_int_gt(
	    httpconnect_build_request(buf, sizeof(buf), &v6, NULL, 0, NULL, 0),
	    0);
	ck_assert_str_eq(buf, "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n"
			      "Host: [2001:db8::1]:8443\r\n\r\n");
}
END_TEST

/* RFC 7617 section 2's example: Aladdin / open sesame. */
START_TEST(request_basic_auth)
{
	struct endpoint ep = ip_endpoint("127.0.0.1", 7);
	char buf[HTTPCONNECT_REQUEST_MAX];

	ck_assert_int_gt(httpconnect_build_request(buf, sizeof(buf), &ep,
						   "Aladdin", 7, "open sesame",
						   11),
			 0);
	ck_assert_str_eq(buf, "CONNECT 127.0.0.1:7 HTTP/1.1\r\n"
			      "Host: 127.0.0.1:7\r\n"
			      "Proxy-Authorization: Basic "
			      "QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
	/* An empty password is "user:". */
	ck_assert_int_gt(
	    httpconnect_build_request(buf, sizeof(buf), &ep, "u", 1, "", 0), 0);
	ck_assert_ptr_nonnull(strstr(buf, "Basic dTo=\r\n"));
}
END_TEST

/* The longest request fits HTTPCONNECT_REQUEST_MAX. */
START_TEST(request_longest)
{
	char name[ENDPOINT_NAME_MAX + 1], secret[256];
	char buf[HTTPCONNECT_REQUEST_MAX];
	struct endpoint ep;

	memset(name, 'a', ENDPOINT_NAME_MAX);
	memset(secret, 0xff, 255);
	ck_assert_int_eq(endpoint_set_name(&ep, name, ENDPOINT_NAME_MAX, 65535),
			 0);
	ck_assert_int_gt(httpconnect_build_request(buf, sizeof(buf), &ep,
						   secret, 255, secret, 255),
			 0);
}
END_TEST

START_TEST(request_refused)
{
	static const char *const bad[] = {
	    "a b", "a\r\nX-Evil: 1", "user@host", "a/b", "a:80", "h\x01",
	    "a?b", "[::1]",	     "h%20",
	};
	struct endpoint ep;
	char buf[HTTPCONNECT_REQUEST_MAX];
	size_t i;

	for (i = 0; i < COUNT(bad); i++) {
		ck_assert_int_eq(
		    endpoint_set_name(&ep, bad[i], strlen(bad[i]), 80), 0);
		ck_assert_int_eq(httpconnect_build_request(
				     buf, sizeof(buf), &ep, NULL, 0, NULL, 0),
				 -EINVAL);
	}
	ep = ip_endpoint("127.0.0.1", 0);
	ck_assert_int_eq(
	    httpconnect_build_request(buf, sizeof(buf), &ep, NULL, 0, NULL, 0),
	    -EINVAL);
	memset(&ep, 0, sizeof(ep));
	ep.port = 80;
	ck_assert_int_eq(
	    httpconnect_build_request(buf, sizeof(buf), &ep, NULL, 0, NULL, 0),
	    -EINVAL);
}
END_TEST

START_TEST(base64_vectors)
{
	/* RFC 4648 section 10. */
	static const char *const want[] = {
	    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[16];
	size_t i;

	for (i = 0; i < COUNT(want); i++) {
		ck_assert_int_eq(httpconnect_base64(out, sizeof(out),
						    (const uint8_t *)"foobar",
						    i),
				 strlen(want[i]));
		ck_assert_str_eq(out, want[i]);
	}
	ck_assert_int_eq(
	    httpconnect_base64(out, 8, (const uint8_t *)"foobar", 6), -ENOSPC);
}
END_TEST

/* Feed text in pieces of `piece` bytes; return the total taken, or the
 * error. */
static long feed_pieces(struct httpconnect_reply *r, const char *text,
			size_t len, size_t piece)
{
	size_t at = 0;
	long n;

	httpconnect_reply_init(r);
	while (at < len && !r->done) {
		size_t chunk = len - at < piece ? len - at : piece;

		n = httpconnect_reply_feed(r, (const uint8_t *)text + at,
					   chunk);
		if (n < 0)
			return n;
		at += (size_t)n;
	}
	return (long)at;
}

static const char reply_200[] = "HTTP/1.1 200 Connection established\r\n"
				"Proxy-Agent: tinyproxy/1.11.1\r\n"
				"\r\n";

/* Whatever the pieces, the parser stops after the empty line: the early
 * data after it is not taken. */
START_TEST(reply_in_pieces)
{
	char text[sizeof(reply_200) + 16];
	struct httpconnect_reply r;
	size_t head = strlen(reply_200);

	memcpy(text, reply_200, head);
	memcpy(text + head, "SSH-2.0-x\r\n", 11);
	ck_assert_int_eq(feed_pieces(&r, text, head + 11, (size_t)_i), head);
	ck_assert(r.done);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.status_line, "HTTP/1.1 200 Connection established");
	ck_assert_int_eq(httpconnect_reply_feed(&r, (const uint8_t *)"x", 1),
			 0);
}
END_TEST

START_TEST(reply_forms)
{
	static const struct {
		const char *text;
		int status;
	} forms[] = {
	    {"HTTP/1.0 200\r\n\r\n", 200},
	    {"HTTP/1.1 204 \r\n\r\n", 204},
	    {"HTTP/1.1 200 OK\n\n", 200}, /* bare LF ends lines too */
	    {"HTTP/1.1 407 Proxy Authentication Required\r\n"
	     "Proxy-Authenticate: Basic realm=\"x\"\r\n"
	     "Content-Length: 5\r\n\r\n",
	     407},
	    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 200},
	    {"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\tmore\r\n\r\n", 200},
	};
	struct httpconnect_reply r;
	size_t i;

	for (i = 0; i < COUNT(forms); i++) {
		size_t len = strlen(forms[i].text);

		ck_assert_int_eq(feed_pieces(&r, forms[i].text, len, len), len);
		ck_assert_msg(r.done, "%s", forms[i].text);
		ck_assert_int_eq(r.status, forms[i].status);
	}
}
END_TEST

START_TEST(reply_malformed)
{
	static const char *const bad[] = {
	    "SSH-2.0-OpenSSH\r\n\r\n",
	    "HTTP/2 200\r\n\r\n",
	    "HTTP/1.1 20\r\n\r\n",
	    "HTTP/1.1 2000\r\n\r\n",
	    "HTTP/1.1 099 x\r\n\r\n",
	    "HTTP/1.1  200\r\n\r\n",
	    "http/1.1 200\r\n\r\n",
	    "\x05\x00",
	    "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	    "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
	    "HTTP/1.1 200 OK\rX: 1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n",
	    "\r\nHTTP/1.1 200 OK\r\n\r\n",
	};
	struct httpconnect_reply r;
	size_t i;

	for (i = 0; i < COUNT(bad); i++)
		ck_assert_msg(feed_pieces(&r, bad[i], strlen(bad[i]), 3) ==
				  -EPROTO,
			      "accepted: %s", bad[i]);
	/* A NUL byte in a header. */
	ck_assert_int_eq(
	    feed_pieces(&r, "HTTP/1.1 200 OK\r\nX: \0\r\n\r\n", 25, 25),
	    -EPROTO);
}
END_TEST

/* A head that never ends is refused once it passes HTTPCONNECT_HEAD_MAX,
 * however it arrives. */
START_TEST(reply_oversized)
{
	static char text[HTTPCONNECT_HEAD_MAX + 64];
	struct httpconnect_reply r;
	size_t len = sizeof(text);

	memset(text, 'a', sizeof(text));
	memcpy(text, "HTTP/1.1 200 OK\r\nX: ", 20);
	ck_assert_int_eq(feed_pieces(&r, text, len, 1000), -EPROTO);
	ck_assert_int_eq(r.total, HTTPCONNECT_HEAD_MAX);
	/* Just under the limit is fine. */
	memcpy(text + HTTPCONNECT_HEAD_MAX - 4, "\r\n\r\n", 4);
	ck_assert_int_eq(feed_pieces(&r, text, len, 1000),
			 HTTPCONNECT_HEAD_MAX);
	ck_assert(r.done);
}
END_TEST

START_TEST(status_mapping)
{
	static const struct {
		int status, err;
	} want[] = {
	    {200, 0},
	    {299, 0},
	    {400, EPROTO},
	    {403, EACCES},
	    {404, EHOSTUNREACH},
	    {405, EOPNOTSUPP},
	    {407, EACCES},
	    {418, EACCES},
	    {500, ECONNABORTED},
	    {502, ECONNREFUSED},
	    {503, ECONNREFUSED},
	    {504, ETIMEDOUT},
	    {599, ECONNABORTED},
	    {301, EPROTO},
	    {101, EPROTO},
	};
	size_t i;

	for (i = 0; i < COUNT(want); i++) {
		ck_assert_int_eq(httpconnect_status_errno(want[i].status),
				 want[i].err);
		ck_assert_ptr_nonnull(
		    httpconnect_status_message(want[i].status));
	}
}
END_TEST

static Suite *httpconnect_suite(void)
{
	Suite *s = suite_create("httpconnect");
	TCase *req = tcase_create("request");
	TCase *rep = tcase_create("reply");

	tcase_add_test(req, request_name);
	tcase_add_test(req, request_addresses);
	tcase_add_test(req, request_basic_auth);
	tcase_add_test(req, request_longest);
	tcase_add_test(req, request_refused);
	tcase_add_test(req, base64_vectors);
	tcase_add_loop_test(rep, reply_in_pieces, 1, (int)sizeof(reply_200));
	tcase_add_test(rep, reply_forms);
	tcase_add_test(rep, reply_malformed);
	tcase_add_test(rep, reply_oversized);
	tcase_add_test(rep, status_mapping);
	suite_add_tcase(s, req);
	suite_add_tcase(s, rep);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(httpconnect_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
