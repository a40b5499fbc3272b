/* test_udpassoc.c — UDP association set-up against a scripted SOCKS5 peer
 * on a socketpair (wildcard relay, refusal, name relay, chains), the
 * effective UDP policy, the request's local address, and relay matching. */
#include <arpa/inet.h>
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

#include "udpassoc.h"

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

/* The peer: reads the greeting (3 bytes) and the request (req_len), checks
 * nothing, answers with method 0 and then reply. */
struct peer {
	int fd;
	const uint8_t *reply;
	size_t reply_len, req_len;
	uint8_t req[64];
	pthread_t thread;
};

static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	static const uint8_t method[] = {5, 0};
	uint8_t greeting[3];

	if (read_exact(p->fd, greeting, 3) < 0 ||
	    write(p->fd, method, 2) != 2 ||
	    read_exact(p->fd, p->req, p->req_len) < 0)
		return NULL;
	if (write(p->fd, p->reply, p->reply_len) != (ssize_t)p->reply_len)
		return NULL;
	return NULL;
}

static struct config one_proxy(const char *url)
{
	struct config cfg;
	char err[200];

	config_defaults(&cfg);
	ck_assert_int_eq(proxyurl_parse(&cfg.proxies[0], url, err, sizeof err),
			 0);
	cfg.proxy_count = 1;
	return cfg;
}

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

/* Run udpassoc_open() against a peer answering reply. */
static int run(const struct config *cfg, const struct endpoint *local,
	       const uint8_t *reply, size_t reply_len, size_t req_len,
	       struct udpassoc_result *res, struct peer *p)
{
	struct sockaddr_in proxy = v4("127.0.0.9", 1080);
	int sv[2], rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(p, 0, sizeof *p);
	p->fd = sv[1];
	p->reply = reply;
	p->reply_len = reply_len;
	p->req_len = req_len;
	ck_assert_int_eq(pthread_create(&p->thread, NULL, peer_main, p), 0);
	rc = udpassoc_open(&pair_io, cfg, 0, sv[0], (struct sockaddr *)&proxy,
			   sizeof proxy, local, res);
	close(sv[0]);
	pthread_join(p->thread, NULL);
	close(sv[1]);
	return rc;
}

START_TEST(wildcard_relay_is_the_proxy)
{
	static const uint8_t reply[] = {5, 0, 0, 1, 0, 0, 0, 0, 0x1f, 0x90};
	static const uint8_t want_req[] = {5, 3, 0, 1, 0, 0, 0, 0, 0x30, 0x39};
	struct config cfg = one_proxy("socks5h://127.0.0.9:1080");
	struct sockaddr_in6 local6 = {.sin6_family = AF_INET6,
				      .sin6_port = htons(12345)};
	struct udpassoc_result res;
	struct endpoint local;
	struct peer p;

	/* A dual-stack wildcard asks an IPv4 proxy for 0.0.0.0. */
	ck_assert_int_eq(udpassoc_request_dest((struct sockaddr *)&local6,
					       sizeof local6, &local),
			 0);
	ck_assert_int_eq(run(&cfg, &local, reply, sizeof reply, 10, &res, &p),
			 0);
	ck_assert_mem_eq(p.req, want_req, sizeof want_req);
	ck_assert_int_eq(res.relay.kind, ENDPOINT_IPV4);
	ck_assert_int_eq(res.relay.u.ipv4[0], 127);
	ck_assert_int_eq(res.relay.u.ipv4[3], 9);
	ck_assert_int_eq(res.relay.port, 8080);
}
END_TEST

START_TEST(explicit_relay_kept)
{
	static const uint8_t reply[] = {5, 0, 0, 1, 127, 0, 0, 5, 0, 53};
	struct config cfg = one_proxy("socks5://127.0.0.9:1080");
	struct sockaddr_in sin = v4("127.0.0.1", 4000);
	struct udpassoc_result res;
	struct endpoint local;
	struct peer p;

	ck_assert_int_eq(
	    udpassoc_request_dest((struct sockaddr *)&sin, sizeof sin, &local),
	    0);
	ck_assert_int_eq(run(&cfg, &local, reply, sizeof reply, 10, &res, &p),
			 0);
	ck_assert_int_eq(p.req[4], 127);
	ck_assert_int_eq(p.req[8] << 8 | p.req[9], 4000);
	ck_assert_int_eq(res.relay.u.ipv4[3], 5);
	ck_assert_int_eq(res.relay.port, 53);
}
END_TEST

START_TEST(refused_and_unusable_relays)
{
	static const uint8_t refused[] = {5, 7, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t port0[] = {5, 0, 0, 1, 1, 2, 3, 4, 0, 0};
	static const uint8_t name[] = {5, 0, 0, 3, 1, 'r', 0, 9};
	struct config cfg = one_proxy("socks5://127.0.0.9:1080");
	struct sockaddr_in sin = v4("127.0.0.1", 4000);
	struct udpassoc_result res;
	struct endpoint local;
	struct peer p;

	udpassoc_request_dest((struct sockaddr *)&sin, sizeof sin, &local);
	ck_assert_int_lt(
	    run(&cfg, &local, refused, sizeof refused, 10, &res, &p), 0);
	ck_assert_ptr_nonnull(res.why);
	ck_assert_int_eq(run(&cfg, &local, port0, sizeof port0, 10, &res, &p),
			 -EPROTO);
	ck_assert_int_eq(run(&cfg, &local, name, sizeof name, 10, &res, &p),
			 -EPROTO);
}
END_TEST

START_TEST(only_single_socks5)
{
	struct config cfg = one_proxy("socks4a://127.0.0.9:1080");
	struct udpassoc_result res;
	struct endpoint local = {.kind = ENDPOINT_IPV4};

	ck_assert_int_eq(udpassoc_mode(&cfg), UDP_BLOCK);
	ck_assert_int_eq(
	    udpassoc_open(&pair_io, &cfg, 0, -1, NULL, 0, &local, &res),
	    -EOPNOTSUPP);
	cfg = one_proxy("socks5h://127.0.0.9:1080");
	ck_assert_int_eq(udpassoc_mode(&cfg), UDP_PROXY);
	cfg.proxies[1] = cfg.proxies[0];
	cfg.proxy_count = 2;
	ck_assert_int_eq(udpassoc_mode(&cfg), UDP_BLOCK);
	cfg.udp_mode = UDP_DIRECT;
	ck_assert_int_eq(udpassoc_mode(&cfg), UDP_DIRECT);
}
END_TEST

/* Route choice for UDP: a config with chains and groups, finished. */
static struct config routed(const char *text)
{
	struct config cfg;

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, text, strlen(text), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
	return cfg;
}

static const char routes_conf[] =
    "proxy socks5h://127.0.0.1:1080\n"
    "chain a socks5h://127.0.0.1:1081\n"
    "chain pair socks5h://127.0.0.1:1082 socks5h://127.0.0.1:1083\n"
    "chain web http://127.0.0.1:3128\n"
    "chain old socks4a://127.0.0.1:1084\n"
    "chain b socks5h://127.0.0.1:1085\n"
    "group g failover pair web a b\n"
    "group none failover pair web old\n"
    "group outer round-robin none g\n";

/* The index of chain or group name in cfg. */
static struct route_target target_named(const struct config *cfg,
					const char *name)
{
	unsigned i;

	for (i = 1; i < cfg->chain_count; i++)
		if (strcmp(cfg->chains[i].name, name) == 0)
			return (struct route_target){TARGET_CHAIN, i};
	for (i = 0; i < cfg->group_count; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return (struct route_target){TARGET_GROUP, i};
	ck_abort_msg("no chain or group %s", name);
	return (struct route_target){TARGET_CHAIN, 0};
}

/* Which chain an association for target would use, health h. */
static int pick(const struct config *cfg, struct health *h,
		struct route_target target)
{
	struct group_plan plan;

	group_plan(cfg, h, target, 1000, &plan);
	return udpassoc_pick_chain(cfg, &plan, target);
}

START_TEST(target_mode_per_chain)
{
	struct config cfg = routed(routes_conf);
	struct route_target def = {TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};

	ck_assert(cfg.udp_auto);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, def), UDP_PROXY);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "a")),
			 UDP_PROXY);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "pair")),
			 UDP_BLOCK);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "web")),
			 UDP_BLOCK);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "old")),
			 UDP_BLOCK);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "g")),
			 UDP_PROXY);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "none")),
			 UDP_BLOCK);
	ck_assert_int_eq(
	    udpassoc_target_mode(&cfg, target_named(&cfg, "outer")), UDP_PROXY);
	/* An explicit policy wins over the chain. */
	cfg.udp_mode = UDP_DIRECT;
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "a")),
			 UDP_DIRECT);
	cfg = routed("udp block\nchain a socks5h://127.0.0.1:1081\n");
	ck_assert(!cfg.udp_auto);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "a")),
			 UDP_BLOCK);
}
END_TEST

START_TEST(auto_follows_the_route_not_the_default)
{
	/* The default chain cannot carry UDP (udp auto becomes block for
	 * it), but a route's single SOCKS5 chain can. */
	struct config cfg = routed("proxy http://127.0.0.1:3128\n"
				   "chain a socks5h://127.0.0.1:1081\n");
	struct route_target def = {TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};

	ck_assert_int_eq(cfg.udp_mode, UDP_BLOCK);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, def), UDP_BLOCK);
	ck_assert_int_eq(udpassoc_mode(&cfg), UDP_BLOCK);
	ck_assert_int_eq(udpassoc_target_mode(&cfg, target_named(&cfg, "a")),
			 UDP_PROXY);
}
END_TEST

START_TEST(pick_first_live_single_socks5)
{
	struct config cfg = routed(routes_conf);
	static struct health h; /* all zero: everything up */
	unsigned a = target_named(&cfg, "a").index;
	unsigned b = target_named(&cfg, "b").index;

	memset(&h, 0, sizeof h);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "a")), (int)a);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "g")), (int)a);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "pair")),
			 -EOPNOTSUPP);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "none")),
			 -EOPNOTSUPP);
	/* a is down: the next member that carries UDP. */
	health_mark_down(&h, a, 5000);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "g")), (int)b);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "outer")), (int)b);
	/* Both down (other members up): the first of them all the same. */
	health_mark_down(&h, b, 5000);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "g")), (int)a);
	/* Back up once down_time has passed. */
	health_mark_up(&h, a);
	ck_assert_int_eq(pick(&cfg, &h, target_named(&cfg, "g")), (int)a);
}
END_TEST

START_TEST(open_through_a_named_chain)
{
	struct config cfg = routed(routes_conf);
	struct udpassoc_result res;
	struct endpoint local = {.kind = ENDPOINT_IPV4};

	/* Not a carrier: refused before any I/O. */
	ck_assert_int_eq(udpassoc_open(&pair_io, &cfg,
				       target_named(&cfg, "pair").index, -1,
				       NULL, 0, &local, &res),
			 -EOPNOTSUPP);
	ck_assert_int_eq(udpassoc_open(&pair_io, &cfg,
				       target_named(&cfg, "web").index, -1,
				       NULL, 0, &local, &res),
			 -EOPNOTSUPP);
}
END_TEST

START_TEST(relay_sockaddr_and_matching)
{
	struct endpoint relay4 = {.kind = ENDPOINT_IPV4, .port = 9};
	struct endpoint relay6 = {.kind = ENDPOINT_IPV6, .port = 9};
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct sockaddr_in from = v4("127.0.0.1", 9), other = from;
	int len;

	relay4.u.ipv4[0] = 127;
	relay4.u.ipv4[3] = 1;
	relay6.u.ipv6[15] = 1;
	len = udpassoc_relay_sockaddr(&relay4, AF_INET6, &ss);
	ck_assert_int_eq(len, sizeof(struct sockaddr_in6));
	ck_assert(IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr));
	ck_assert_int_eq(udpassoc_relay_sockaddr(&relay6, AF_INET, &ss),
			 -EAFNOSUPPORT);
	len = udpassoc_relay_sockaddr(&relay4, AF_INET, &ss);
	ck_assert_int_eq(len, sizeof(struct sockaddr_in));
	ck_assert(udpassoc_is_relay((struct sockaddr *)&from, sizeof from,
				    (struct sockaddr *)&ss, (socklen_t)len));
	other.sin_port = htons(10);
	ck_assert(!udpassoc_is_relay((struct sockaddr *)&other, sizeof other,
				     (struct sockaddr *)&ss, (socklen_t)len));
	other = v4("127.0.0.2", 9);
	ck_assert(!udpassoc_is_relay((struct sockaddr *)&other, sizeof other,
				     (struct sockaddr *)&ss, (socklen_t)len));
	ck_assert(!udpassoc_is_relay((struct sockaddr *)&from, 2,
				     (struct sockaddr *)&ss, (socklen_t)len));
}
END_TEST

static Suite *udpassoc_suite(void)
{
	Suite *s = suite_create("udpassoc");
	TCase *tc = tcase_create("udpassoc");

	tcase_add_test(tc, wildcard_relay_is_the_proxy);
	tcase_add_test(tc, explicit_relay_kept);
	tcase_add_test(tc, refused_and_unusable_relays);
	tcase_add_test(tc, only_single_socks5);
	tcase_add_test(tc, relay_sockaddr_and_matching);
	tcase_add_test(tc, target_mode_per_chain);
	tcase_add_test(tc, auto_follows_the_route_not_the_default);
	tcase_add_test(tc, pick_first_live_single_socks5);
	tcase_add_test(tc, open_through_a_named_chain);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(udpassoc_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
