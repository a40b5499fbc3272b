/* test_tunnel_http.c — HTTP CONNECT hops in the chain machine, through both
 * of its drivers (tunnel_open() blocking, tunnel_run_step() from an event
 * loop), over a socketpair answered by the scripted peer: the request
 * bytes, replies in one piece or a byte at a time, bytes after the reply
 * left for the next hop or the application, HTTP and SOCKS hops mixed in
 * both orders, refusals, malformed replies, BIND and UDP refused. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "peer.h"
#include "tunnel.h"

static int pretend_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd;
	(void)sa;
	(void)len;
	return 0;
}

static const struct socket_io pair_io = {
    .connect = pretend_connect,
    .send = send,
    .recv = recv,
    .poll = poll,
    .getsockopt = getsockopt,
};

static const struct sockaddr_in unused_sin = {.sin_family = AF_INET};

/* Peer steps for text (without its NUL). */
#define SEND_TEXT(t)                                                           \
	{                                                                      \
		PEER_SEND, (const uint8_t *)(t), sizeof(t) - 1                 \
	}
#define SEND_TEXT_SLOW(t)                                                      \
	{                                                                      \
		PEER_SEND_SLOW, (const uint8_t *)(t), sizeof(t) - 1            \
	}
#define READ_TEXT(t) READ(sizeof(t) - 1)

static const char req_name[] = "CONNECT example.com:443 HTTP/1.1\r\n"
			       "Host: example.com:443\r\n\r\n";
static const char req_name_auth[] =
    "CONNECT example.com:443 HTTP/1.1\r\n"
    "Host: example.com:443\r\n"
    "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n";
static const char req_hop2[] = "CONNECT 127.0.0.2:1081 HTTP/1.1\r\n"
			       "Host: 127.0.0.2:1081\r\n\r\n";
static const char req_v6[] = "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n"
			     "Host: [2001:db8::1]:8443\r\n\r\n";
static const char ok_head[] = "HTTP/1.1 200 Connection established\r\n"
			      "Proxy-Agent: test\r\n\r\n";
static const char ok_head_app[] = "HTTP/1.1 200 Connection established\r\n"
				  "Proxy-Agent: test\r\n\r\nAPP";
/* The HTTP hop's reply and, in the same write, the SOCKS5 method reply
 * the next hop awaits: the HTTP hop must leave it. */
static const char ok_head_socks[] = "HTTP/1.0 200 OK\r\n\r\n\x05";
static const uint8_t greet[] = {5, 1, 0};
static const uint8_t method_none_rest[] = {0};
static const uint8_t method_none[] = {5, 0};
static const uint8_t req_final[] = {5,	 1,   0,   3,	11,   'e',
				    'x', 'a', 'm', 'p', 'l',  'e',
				    '.', 'c', 'o', 'm', 0x01, 0xbb};
static const uint8_t reply_final[] = {5, 0, 0, 1, 10, 9, 8, 7, 0x30, 0x39};
static const uint8_t req_socks_hop2[] = {5, 1, 0,    1,	  127, 0,
					 0, 2, 0x04, 0x39}; /* 127.0.0.2:1081 */
static const uint8_t reply_hop1[] = {5, 0, 0, 1, 127, 0, 0, 1, 0, 1};

enum driver {
	DRIVE_BLOCKING,
	DRIVE_STEPPED,
	DRIVERS,
};

static void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 2000;
	cfg->handshake_timeout_ms = 2000;
	cfg->valid = true;
}

static struct proxy *add_proxy(struct config *cfg, enum proxy_type type,
			       const char *ip, uint16_t port)
{
	struct proxy *p = &cfg->proxies[cfg->proxy_count++];

	memset(p, 0, sizeof(*p));
	p->type = type;
	ck_assert_int_eq(endpoint_parse_ip(&p->addr, ip), 0);
	p->addr.port = port;
	return p;
}

static struct endpoint dest_name(void)
{
	struct endpoint ep;

	endpoint_set_name(&ep, "example.com", 11, 443);
	return ep;
}

/* The machine stepped only when poll() says the socket is ready. */
static int drive_stepped(const struct config *cfg, int fd,
			 const struct endpoint *dest, enum handshake_cmd cmd,
			 struct tunnel_result *res)
{
	struct tunnel_run run;
	struct pollfd pfd = {.fd = fd};
	int rc;

	tunnel_run_init(&run, cfg, dest, cmd, netio_now_ms());
	rc = tunnel_run_connect(&run, &pair_io, fd,
				(const struct sockaddr *)&unused_sin,
				sizeof(unused_sin));
	while (rc == 0) {
		rc = tunnel_run_step(&run, &pair_io, fd, netio_now_ms(),
				     &pfd.events);
		if (rc != -EAGAIN)
			break;
		ck_assert(pfd.events == POLLIN || pfd.events == POLLOUT);
		poll(&pfd, 1, netio_remaining_ms(tunnel_run_deadline(&run)));
		rc = 0;
	}
	*res = run.res;
	return rc;
}

static int open_chain(int driver, const struct config *cfg, int fd,
		      const struct endpoint *dest, enum handshake_cmd cmd,
		      struct tunnel_result *res)
{
	memset(res, 0xa5, sizeof(*res));
	if (driver == DRIVE_BLOCKING)
		return tunnel_open(&pair_io, cfg, fd,
				   (const struct sockaddr *)&unused_sin,
				   sizeof(unused_sin), dest, cmd, res);
	return drive_stepped(cfg, fd, dest, cmd, res);
}

/* Read what the peer sent after the chain was open. */
static void expect_app(int client, const char *want)
{
	char app[16];
	size_t len = strlen(want);

	ck_assert_int_eq(
	    netio_wait(&pair_io, client, POLLIN, netio_now_ms() + 1000), 0);
	ck_assert_int_eq(recv(client, app, sizeof(app), 0), (ssize_t)len);
	ck_assert_mem_eq(app, want, len);
}

/* One HTTP hop; the reply and the application's first bytes come in one
 * write: the bytes after the head reach the application. */
START_TEST(http_one_hop)
{
	const struct peer_step steps[] = {
	    READ_TEXT(req_name),
	    SEND_TEXT(ok_head_app),
	    END(),
	};
	struct endpoint dest = dest_name();
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_CONNECT, &res), 0);
	ck_assert_int_eq(res.hop, -1);
	ck_assert_ptr_null(res.why);
	ck_assert_int_eq(res.bound.kind, ENDPOINT_NONE);
	expect_app(client, "APP");
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, sizeof(req_name) - 1);
	ck_assert_mem_eq(peer.got, req_name, sizeof(req_name) - 1);
}
END_TEST

/* Basic credentials, an IPv6 destination, a reply one byte per write. */
START_TEST(http_auth_v6_slow)
{
	const struct peer_step steps[] = {
	    READ_TEXT(req_name_auth),
	    SEND_TEXT_SLOW(ok_head),
	    READ_TEXT(req_v6),
	    SEND_TEXT_SLOW(ok_head),
	    END(),
	};
	struct endpoint dest = dest_name(), v6;
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	struct proxy *p;
	int client;

	config_init(&cfg);
	p = add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	p->has_auth = true;
	strcpy(p->user, "alice");
	p->user_len = 5;
	strcpy(p->password, "s3cret");
	p->password_len = 6;
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_CONNECT, &res), 0);
	/* The same proxy asked again on the same stream, as a two-hop chain
	 * through one HTTP proxy would: the first head was read exactly. */
	ck_assert_int_eq(endpoint_parse_ip(&v6, "2001:db8::1"), 0);
	v6.port = 8443;
	p->has_auth = false;
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &v6, HANDSHAKE_CONNECT, &res), 0);
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len,
			  sizeof(req_name_auth) - 1 + sizeof(req_v6) - 1);
	ck_assert_mem_eq(peer.got, req_name_auth, sizeof(req_name_auth) - 1);
	ck_assert_mem_eq(peer.got + sizeof(req_name_auth) - 1, req_v6,
			 sizeof(req_v6) - 1);
}
END_TEST

/* HTTP, then SOCKS5h: the HTTP hop leaves the first byte of the SOCKS
 * method reply, which came in its write, to the SOCKS hop. */
START_TEST(http_then_socks)
{
	const struct peer_step steps[] = {
	    READ_TEXT(req_hop2),
	    SEND_TEXT(ok_head_socks),
	    READ(sizeof(greet)),
	    SEND(method_none_rest),
	    READ(sizeof(req_final)),
	    SEND(reply_final),
	    END(),
	};
	struct endpoint dest = dest_name();
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	add_proxy(&cfg, PROXY_SOCKS5H, "127.0.0.2", 1081);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_CONNECT, &res), 0);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.bound.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(res.bound.port, 12345);
	ck_assert_mem_eq(peer.got, req_hop2, sizeof(req_hop2) - 1);
	ck_assert_mem_eq(peer.got + sizeof(req_hop2) - 1, greet, sizeof(greet));
	ck_assert_mem_eq(peer.got + sizeof(req_hop2) - 1 + sizeof(greet),
			 req_final, sizeof(req_final));
}
END_TEST

/* SOCKS5, then HTTP asked for the name. */
START_TEST(socks_then_http)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND(method_none),
	    READ(10),
	    SEND(reply_hop1),
	    READ_TEXT(req_name),
	    SEND_TEXT(ok_head_app),
	    END(),
	};
	struct endpoint dest = dest_name();
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	add_proxy(&cfg, PROXY_SOCKS5, "127.0.0.1", 1080);
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.2", 1081);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_CONNECT, &res), 0);
	expect_app(client, "APP");
	peer_finish(&peer, client);
	ck_assert_int_eq(res.bound.kind, ENDPOINT_NONE);
	ck_assert_mem_eq(peer.got + 3, req_socks_hop2, sizeof(req_socks_hop2));
	ck_assert_mem_eq(peer.got + 13, req_name, sizeof(req_name) - 1);
}
END_TEST

struct http_failure {
	const char *name;
	struct peer_step steps[4];
	int rc;
	const char *why; /* a substring of res.why */
};

static const char head_407[] =
    "HTTP/1.1 407 Proxy Authentication Required\r\n"
    "Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 4\r\n\r\nbody";
static const char head_403[] = "HTTP/1.1 403 Forbidden\r\n\r\n";
static const char head_502[] = "HTTP/1.0 502 Bad Gateway\r\n\r\n";
static const char head_504[] = "HTTP/1.1 504 Gateway Timeout\r\n\r\n";
static const char head_socks[] = "\x05\x00";
static const char head_bad_header[] = "HTTP/1.1 200 OK\r\nbroken\r\n\r\n";
static const char head_cut[] = "HTTP/1.1 200 OK\r\nX: 1\r\n";

static const struct http_failure http_failures[] = {
    {"407", {READ_TEXT(req_name), SEND_TEXT(head_407), END()}, -EACCES, "407"},
    {"403", {READ_TEXT(req_name), SEND_TEXT(head_403), END()}, -EACCES, "403"},
    {"502",
     {READ_TEXT(req_name), SEND_TEXT(head_502), END()},
     -ECONNREFUSED,
     "502"},
    {"504",
     {READ_TEXT(req_name), SEND_TEXT(head_504), END()},
     -ETIMEDOUT,
     "504"},
    {"not HTTP",
     {READ_TEXT(req_name), SEND_TEXT(head_socks), END()},
     -EPROTO,
     "not an HTTP"},
    {"bad header",
     {READ_TEXT(req_name), SEND_TEXT(head_bad_header), END()},
     -EPROTO,
     "malformed header"},
    {"closed mid-head",
     {READ_TEXT(req_name), SEND_TEXT(head_cut), CLOSE()},
     -ECONNRESET,
     "closed the connection"},
    {"silent", {READ_TEXT(req_name), END()}, -ETIMEDOUT, "timed out"},
};

#define HTTP_FAILURES (int)(sizeof(http_failures) / sizeof(http_failures[0]))

START_TEST(http_fails)
{
	const struct http_failure *c = &http_failures[_i / DRIVERS];
	struct endpoint dest = dest_name();
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	cfg.handshake_timeout_ms = 200;
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	client = peer_start(&peer, c->steps);
	ck_assert_msg(open_chain(_i % DRIVERS, &cfg, client, &dest,
				 HANDSHAKE_CONNECT, &res) == c->rc,
		      "%s (driver %d)", c->name, _i % DRIVERS);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.hop, 0);
	ck_assert_msg(strstr(res.why, c->why), "%s: %s", c->name, res.why);
}
END_TEST

/* An oversized head is refused once it passes HTTPCONNECT_HEAD_MAX. */
START_TEST(http_head_too_long)
{
	static uint8_t head[HTTPCONNECT_HEAD_MAX + 100];
	const struct peer_step steps[] = {
	    READ_TEXT(req_name),
	    {PEER_SEND, head, sizeof(head)},
	    END(),
	};
	struct endpoint dest = dest_name();
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	memset(head, 'x', sizeof(head));
	memcpy(head, "HTTP/1.1 200 OK\r\nX: ", 20);
	config_init(&cfg);
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_CONNECT, &res),
	    -EPROTO);
	peer_finish(&peer, client);
	ck_assert_ptr_nonnull(strstr(res.why, "too long"));
}
END_TEST

/* BIND and UDP ASSOCIATE cannot go to an HTTP proxy: refused before a
 * byte is sent. */
START_TEST(http_refuses_bind_udp)
{
	const struct peer_step steps[] = {END()};
	struct endpoint dest = dest_name();
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_BIND, &res),
	    -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(res.why, "BIND"));
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_UDP_ASSOCIATE, &res),
	    -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(res.why, "UDP"));
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

/* A name that would add lines to the request is never sent. */
START_TEST(http_refuses_unsafe_name)
{
	const struct peer_step steps[] = {END()};
	struct endpoint dest;
	struct config cfg;
	struct tunnel_result res;
	struct peer peer;
	int client;

	endpoint_set_name(&dest, "a\r\nX: y", 7, 80);
	config_init(&cfg);
	add_proxy(&cfg, PROXY_HTTP, "127.0.0.1", 3128);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(
	    open_chain(_i, &cfg, client, &dest, HANDSHAKE_CONNECT, &res),
	    -EINVAL);
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

static Suite *tunnel_http_suite(void)
{
	Suite *s = suite_create("tunnel_http");
	TCase *tc = tcase_create("http hops");

	tcase_add_loop_test(tc, http_one_hop, 0, DRIVERS);
	tcase_add_loop_test(tc, http_auth_v6_slow, 0, DRIVERS);
	tcase_add_loop_test(tc, http_then_socks, 0, DRIVERS);
	tcase_add_loop_test(tc, socks_then_http, 0, DRIVERS);
	tcase_add_loop_test(tc, http_fails, 0, HTTP_FAILURES * DRIVERS);
	tcase_add_loop_test(tc, http_head_too_long, 0, DRIVERS);
	tcase_add_loop_test(tc, http_refuses_bind_udp, 0, DRIVERS);
	tcase_add_loop_test(tc, http_refuses_unsafe_name, 0, DRIVERS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tunnel_http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
