/* test_tunnel.c — also the netio suite (deadlines, EINTR, connect) that
 * the tunnel is built on. Proxy chains over a socketpair (both hops answered by
 * one scripted peer), and the TCP connect to the first proxy against loopback
 * listeners on 127.0.0.1: success, refused, timeout. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"
#include "socks5.h"
#include "tunnel.h"

/* A socketpair is already "connected": connect() on it just succeeds. */
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

static unsigned send_calls;

static ssize_t counting_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t n = send(fd, buf, len, flags);

	if (n > 0)
		send_calls++;
	return n;
}

/* pair_io that counts the send() calls that sent data. */
static const struct socket_io counting_pair_io = {
    .connect = pretend_connect,
    .send = counting_send,
    .recv = recv,
    .poll = poll,
    .getsockopt = getsockopt,
};

static const struct socket_io real_io = {
    .connect = connect,
    .send = send,
    .recv = recv,
    .poll = poll,
    .getsockopt = getsockopt,
};

static void set_nonblocking(int fd)
{
	ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
			 0);
}

/* A TCP socket bound to 127.0.0.1 on a kernel-chosen port, its address in
 * *sin. listening: listen() with the given backlog, else left unlistened
 * (so a connect to it is refused, and the port stays ours). */
static int loopback_socket(struct sockaddr_in *sin, int listening, int backlog)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	if (listening)
		ck_assert_int_eq(listen(fd, backlog), 0);
	return fd;
}

static int tcp_client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	set_nonblocking(fd);
	return fd;
}

/* ---- fixtures ---- */

static void add_proxy(struct config *cfg, enum proxy_type type, const char *ip,
		      uint16_t port)
{
	struct proxy *p = &cfg->proxies[cfg->proxy_count++];

	memset(p, 0, sizeof(*p));
	p->type = type;
	ck_assert_int_eq(endpoint_parse_ip(&p->addr, ip), 0);
	p->addr.port = port;
}

static void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 2000;
	cfg->handshake_timeout_ms = 2000;
	cfg->valid = true;
}

static struct endpoint dest_name(void)
{
	struct endpoint ep;

	endpoint_set_name(&ep, "example.com", 11, 443);
	return ep;
}

static const struct sockaddr_in unused_sin = {.sin_family = AF_INET};
#define UNUSED_SA ((const struct sockaddr *)&unused_sin)

static const uint8_t greet[] = {5, 1, 0};
static const uint8_t method_none[] = {5, 0};
/* hop 1 asks proxy 1 for proxy 2 at 127.0.0.2:1081 */
static const uint8_t req_hop2[] = {5, 1, 0, 1, 127, 0, 0, 2, 0x04, 0x39};
static const uint8_t reply_hop1[] = {5, 0, 0, 1, 127, 0, 0, 1, 0, 1};
static const uint8_t req_final[] = {5,	 1,   0,   3,	11,   'e',
				    'x', 'a', 'm', 'p', 'l',  'e',
				    '.', 'c', 'o', 'm', 0x01, 0xbb};
static const uint8_t reply_final[] = {5, 0, 0, 1, 10, 9, 8, 7, 0x30, 0x39};
static const uint8_t reply_refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};

static void chain_of_two(struct config *cfg)
{
	config_init(cfg);
	add_proxy(cfg, PROXY_SOCKS5, "127.0.0.1", 1080);
	add_proxy(cfg, PROXY_SOCKS5H, "127.0.0.2", 1081);
}

/* ---- chains over a socketpair ---- */

START_TEST(chain_two_hops)
{
	const struct peer_step steps[] = {
	    READ(3),
	    SEND(method_none),
	    READ(10),
	    SEND(reply_hop1),
	    READ(3),
	    SEND(method_none),
	    READ(sizeof(req_final)),
	    SEND(reply_final),
	    END(),
	};
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	int client;

	chain_of_two(&cfg);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(tunnel_open(&pair_io, &cfg, client, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 0);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.hop, -1);
	ck_assert_ptr_null(res.why);
	ck_assert_int_eq(res.bound.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(res.bound.u.ipv4[0], 10);
	ck_assert_uint_eq(res.bound.port, 12345);
	ck_assert_uint_eq(peer.got_len, 3 + 10 + 3 + sizeof(req_final));
	ck_assert_mem_eq(peer.got, greet, 3);
	ck_assert_mem_eq(peer.got + 3, req_hop2, 10);
	ck_assert_mem_eq(peer.got + 13, greet, 3);
	ck_assert_mem_eq(peer.got + 16, req_final, sizeof(req_final));
}
END_TEST

/* Both hops pipelined: one write per hop. The peer answers both hops, and
 * sends application bytes, all in one write as soon as it has hop 1's
 * messages: hop 1 must read exactly its own replies, leaving hop 2's, and
 * hop 2 exactly its own, leaving the application's. */
START_TEST(chain_pipelined_two_hops)
{
	static const uint8_t answers[] = {
	    5,	 0,   5,  0, 0, 1, 127, 0, 0, 1, 0,    1,    /* hop 1 */
	    5,	 0,   5,  0, 0, 1, 10,	9, 8, 7, 0x30, 0x39, /* hop 2 */
	    'A', 'P', 'P'};
	const struct peer_step steps[] = {
	    READ(3 + 10),
	    SEND(answers),
	    READ(3 + sizeof(req_final)),
	    END(),
	};
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	char app[8];
	int client;

	chain_of_two(&cfg);
	cfg.proxies[0].pipeline = true;
	cfg.proxies[1].pipeline = true;
	send_calls = 0;
	client = peer_start(&peer, steps);
	ck_assert_int_eq(tunnel_open(&counting_pair_io, &cfg, client, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 0);
	ck_assert_uint_eq(send_calls, 2);
	ck_assert_uint_eq(res.bound.u.ipv4[0], 10);
	ck_assert_uint_eq(res.bound.port, 12345);
	ck_assert_int_eq(
	    netio_wait(&pair_io, client, POLLIN, netio_now_ms() + 1000), 0);
	ck_assert_int_eq(recv(client, app, sizeof(app), 0), 3);
	ck_assert_mem_eq(app, "APP", 3);
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, 3 + 10 + 3 + sizeof(req_final));
	ck_assert_mem_eq(peer.got, greet, 3);
	ck_assert_mem_eq(peer.got + 3, req_hop2, 10);
	ck_assert_mem_eq(peer.got + 13, greet, 3);
	ck_assert_mem_eq(peer.got + 16, req_final, sizeof(req_final));
}
END_TEST

START_TEST(chain_second_hop_refuses)
{
	const struct peer_step steps[] = {
	    READ(3),
	    SEND(method_none),
	    READ(10),
	    SEND(reply_hop1),
	    READ(3),
	    SEND(method_none),
	    READ(sizeof(req_final)),
	    SEND(reply_refused),
	    END(),
	};
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	int client;

	chain_of_two(&cfg);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(tunnel_open(&pair_io, &cfg, client, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 -ECONNREFUSED);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.hop, 1);
	ck_assert_str_eq(res.why, socks5_reply_message(5));
}
END_TEST

/* The handshake deadline covers all hops: hop 2 never answering fails at
 * hop index 1 with ETIMEDOUT, in about handshake_timeout_ms. */
START_TEST(chain_deadline_covers_all_hops)
{
	const struct peer_step steps[] = {
	    READ(3),	      SEND(method_none), READ(10),
	    SEND(reply_hop1), READ(3),		 END(),
	};
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	uint64_t start;
	int client;

	chain_of_two(&cfg);
	cfg.handshake_timeout_ms = 200;
	client = peer_start(&peer, steps);
	start = netio_now_ms();
	ck_assert_int_eq(tunnel_open(&pair_io, &cfg, client, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 -ETIMEDOUT);
	ck_assert_uint_lt(netio_now_ms() - start, 1000);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.hop, 1);
	ck_assert_ptr_nonnull(res.why);
}
END_TEST

/* A local-DNS proxy (socks5://) cannot be handed a name: refused before
 * anything is sent. */
START_TEST(name_to_local_dns_proxy)
{
	const struct peer_step steps[] = {END()};
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	add_proxy(&cfg, PROXY_SOCKS5, "127.0.0.1", 1080);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(tunnel_open(&pair_io, &cfg, client, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 -EHOSTUNREACH);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.hop, 0);
	ck_assert_ptr_nonnull(res.why);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

/* The same holds for an intermediate hop whose next proxy is a name. */
START_TEST(name_of_next_proxy_to_socks4)
{
	const struct peer_step steps[] = {END()};
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	int client;

	config_init(&cfg);
	add_proxy(&cfg, PROXY_SOCKS4, "127.0.0.1", 1080);
	add_proxy(&cfg, PROXY_SOCKS5H, "127.0.0.2", 1081);
	endpoint_set_name(&cfg.proxies[1].addr, "proxy2.test", 11, 1081);
	client = peer_start(&peer, steps);
	ck_assert_int_eq(tunnel_open(&pair_io, &cfg, client, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 -EHOSTUNREACH);
	peer_finish(&peer, client);
	ck_assert_int_eq(res.hop, 0);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

START_TEST(no_proxy_configured)
{
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;

	config_init(&cfg);
	ck_assert_int_eq(tunnel_open(&pair_io, &cfg, -1, UNUSED_SA,
				     sizeof(unused_sin), &d, HANDSHAKE_CONNECT,
				     &res),
			 -EINVAL);
	ck_assert_ptr_nonnull(res.why);
}
END_TEST

/* ---- TCP connect to the first proxy, on 127.0.0.1 ---- */

START_TEST(loopback_proxy_success)
{
	const struct peer_step steps[] = {
	    READ(3),
	    SEND(method_none),
	    READ(sizeof(req_final)),
	    SEND(reply_final),
	    END(),
	};
	struct sockaddr_in sin;
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	struct peer peer;
	int lfd = loopback_socket(&sin, 1, 4);
	int client = tcp_client();

	config_init(&cfg);
	add_proxy(&cfg, PROXY_SOCKS5H, "127.0.0.1", ntohs(sin.sin_port));
	peer_start_listener(&peer, lfd, steps);
	ck_assert_int_eq(tunnel_open(&real_io, &cfg, client,
				     (struct sockaddr *)&sin, sizeof(sin), &d,
				     HANDSHAKE_CONNECT, &res),
			 0);
	peer_finish(&peer, client);
	close(lfd);
	ck_assert_uint_eq(res.bound.port, 12345);
	ck_assert_uint_eq(peer.got_len, 3 + sizeof(req_final));
	ck_assert_mem_eq(peer.got + 3, req_final, sizeof(req_final));
}
END_TEST

START_TEST(loopback_proxy_refused)
{
	struct sockaddr_in sin;
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	int bound = loopback_socket(&sin, 0, 0); /* bound, not listening */
	int client = tcp_client();

	config_init(&cfg);
	add_proxy(&cfg, PROXY_SOCKS5H, "127.0.0.1", ntohs(sin.sin_port));
	ck_assert_int_eq(tunnel_open(&real_io, &cfg, client,
				     (struct sockaddr *)&sin, sizeof(sin), &d,
				     HANDSHAKE_CONNECT, &res),
			 -ECONNREFUSED);
	ck_assert_int_eq(res.hop, 0);
	ck_assert_str_eq(res.why, "connecting to the proxy failed");
	close(client);
	close(bound);
}
END_TEST

/* A listener whose accept queue is full drops further SYNs, so the connect
 * hangs: tunnel_open must give up at connect_timeout_ms. */
START_TEST(loopback_proxy_connect_timeout)
{
	struct sockaddr_in sin;
	struct config cfg;
	struct endpoint d = dest_name();
	struct tunnel_result res;
	int lfd = loopback_socket(&sin, 1, 0);
	int fillers[4], i, client, rc;
	uint64_t start;

	for (i = 0; i < 4; i++) {
		fillers[i] = tcp_client();
		connect(fillers[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(50000); /* let the fillers' handshakes complete */
	config_init(&cfg);
	cfg.connect_timeout_ms = 200;
	add_proxy(&cfg, PROXY_SOCKS5H, "127.0.0.1", ntohs(sin.sin_port));
	client = tcp_client();
	start = netio_now_ms();
	rc = tunnel_open(&real_io, &cfg, client, (struct sockaddr *)&sin,
			 sizeof(sin), &d, HANDSHAKE_CONNECT, &res);
	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_uint_ge(netio_now_ms() - start, 190);
	ck_assert_uint_lt(netio_now_ms() - start, 1500);
	ck_assert_str_eq(res.why, "connecting to the proxy timed out");
	ck_assert_int_eq(res.hop, 0);
	close(client);
	for (i = 0; i < 4; i++)
		close(fillers[i]);
	close(lfd);
}
END_TEST

/* ---- netio: the deadline helpers under the tunnel ---- */

static int poll_interruptions;

/* poll() that fails with EINTR the first poll_interruptions times. */
static int interrupted_poll(struct pollfd *fds, nfds_t count, int timeout_ms)
{
	if (poll_interruptions > 0) {
		poll_interruptions--;
		errno = EINTR;
		return -1;
	}
	return poll(fds, count, timeout_ms);
}

/* connect() that starts the connection but reports EINTR, as when a
 * signal arrives during a blocking connect. */
static int interrupted_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	connect(fd, sa, len);
	errno = EINTR;
	return -1;
}

static const struct socket_io interrupted_io = {
    .connect = interrupted_connect,
    .send = send,
    .recv = recv,
    .poll = interrupted_poll,
    .getsockopt = getsockopt,
};

START_TEST(netio_remaining)
{
	uint64_t now = netio_now_ms();
	int left = netio_remaining_ms(now + 5000);

	ck_assert_int_eq(netio_remaining_ms(now - 1), 0);
	ck_assert_int_eq(netio_remaining_ms(0), 0);
	ck_assert_int_gt(left, 4000);
	ck_assert_int_le(left, 5000);
}
END_TEST

START_TEST(netio_wait_ready_timeout_eintr)
{
	int sv[2];
	uint64_t start;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	start = netio_now_ms();
	ck_assert_int_eq(netio_wait(&real_io, sv[0], POLLIN, start + 100),
			 -ETIMEDOUT);
	ck_assert_uint_ge(netio_now_ms() - start, 95);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	ck_assert_int_eq(
	    netio_wait(&real_io, sv[0], POLLIN, netio_now_ms() + 1000), 0);
	poll_interruptions = 3;
	ck_assert_int_eq(
	    netio_wait(&interrupted_io, sv[0], POLLIN, netio_now_ms() + 1000),
	    0);
	ck_assert_int_eq(poll_interruptions, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(netio_connect_cases)
{
	struct sockaddr_in sin;
	int lfd = loopback_socket(&sin, 1, 4);
	int fd = tcp_client();
	uint64_t deadline = netio_now_ms() + 1000;

	poll_interruptions = 1;
	ck_assert_int_eq(netio_connect(&interrupted_io, fd,
				       (struct sockaddr *)&sin, sizeof(sin),
				       deadline),
			 0);
	/* A socket that is already connected is not ours to take over. (Linux
	 * reports a finished non-blocking connect once more with 0 on the
	 * next connect(); that call is made here directly.) */
	connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	ck_assert_int_eq(netio_connect(&real_io, fd, (struct sockaddr *)&sin,
				       sizeof(sin), deadline),
			 -EISCONN);
	close(fd);
	close(lfd);
}
END_TEST

static Suite *tunnel_suite(void)
{
	Suite *s = suite_create("tunnel");
	TCase *chain = tcase_create("chain");
	TCase *tcp = tcase_create("loopback connect");
	TCase *netio = tcase_create("netio");

	tcase_add_test(chain, chain_two_hops);
	tcase_add_test(chain, chain_pipelined_two_hops);
	tcase_add_test(chain, chain_second_hop_refuses);
	tcase_add_test(chain, chain_deadline_covers_all_hops);
	tcase_add_test(chain, name_to_local_dns_proxy);
	tcase_add_test(chain, name_of_next_proxy_to_socks4);
	tcase_add_test(chain, no_proxy_configured);
	tcase_add_test(tcp, loopback_proxy_success);
	tcase_add_test(tcp, loopback_proxy_refused);
	tcase_add_test(tcp, loopback_proxy_connect_timeout);
	suite_add_tcase(s, chain);
	tcase_add_test(netio, netio_remaining);
	tcase_add_test(netio, netio_wait_ready_timeout_eintr);
	tcase_add_test(netio, netio_connect_cases);
	suite_add_tcase(s, tcp);
	suite_add_tcase(s, netio);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tunnel_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
