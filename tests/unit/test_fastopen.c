/* test_fastopen.c — the proxy chain started with TCP Fast Open
 * (tunnel_run_fastopen) and driven blocking (tunnel_run_finish), through a
 * socket_io table that records every call and can make the optimistic
 * first send() find the connect still under way (EAGAIN) or failed, the
 * sendto() find Fast Open off, or poll() sleep. A scripted proxy (peer.h)
 * answers on a socketpair; one case runs against a real loopback listener
 * on a blocking socket. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "peer.h"
#include "tunnel.h"

/* ---- the recording table ---- */

enum start_mode {
	START_IN_PROGRESS, /* sendto: EINPROGRESS (no cookie yet) */
	START_NO_FASTOPEN, /* sendto: EOPNOTSUPP (Fast Open off) */
	START_CONNECTED,   /* sendto: 0 (the socket was connected) */
	START_COOKIE,	   /* sendto: the data went in the SYN (sent here) */
};

static struct {
	enum start_mode start;
	size_t syn_max;	      /* START_COOKIE: at most this much in the SYN */
	int recv_error;	      /* the first recv() fails with this (0: no) */
	unsigned send_eagain; /* first sends that find the connect going on */
	int send_error;	      /* then fail with this (0: really send) */
	int poll_sleeps;      /* poll() waits out its timeout, ready never */
	char calls[64];	      /* T sendto, S send, P poll, R recv, C, G */
	size_t count;
} fake;

static void record(char c)
{
	if (fake.count + 1 < sizeof(fake.calls))
		fake.calls[fake.count++] = c;
}

static ssize_t fake_sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *sa, socklen_t salen)
{
	(void)sa, (void)salen;
	record('T');
	ck_assert(flags & MSG_FASTOPEN);
	ck_assert(flags & MSG_DONTWAIT);
	if (fake.start == START_CONNECTED)
		return 0;
	if (fake.start == START_COOKIE && len > 0)
		return send(fd, buf, len < fake.syn_max ? len : fake.syn_max,
			    MSG_DONTWAIT);
	errno = fake.start == START_NO_FASTOPEN ? EOPNOTSUPP : EINPROGRESS;
	return -1;
}

static ssize_t fake_send(int fd, const void *buf, size_t len, int flags)
{
	record('S');
	if (fake.send_eagain > 0) {
		fake.send_eagain--;
		errno = EAGAIN;
		return -1;
	}
	if (fake.send_error) {
		errno = fake.send_error;
		return -1;
	}
	return send(fd, buf, len, flags | MSG_DONTWAIT);
}

static ssize_t fake_recv(int fd, void *buf, size_t len, int flags)
{
	record('R');
	if (fake.recv_error) {
		errno = fake.recv_error;
		fake.recv_error = 0;
		return -1;
	}
	return recv(fd, buf, len, flags | MSG_DONTWAIT);
}

static int fake_poll(struct pollfd *fds, nfds_t count, int timeout_ms)
{
	record('P');
	if (fake.poll_sleeps)
		return poll(NULL, 0, timeout_ms);
	return poll(fds, count, timeout_ms);
}

static int fake_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	(void)fd, (void)sa, (void)len;
	record('C');
	return 0;
}

static int fake_getsockopt(int fd, int level, int name, void *val,
			   socklen_t *len)
{
	record('G');
	return getsockopt(fd, level, name, val, len);
}

static const struct socket_io fake_io = {
    .connect = fake_connect,
    .send = fake_send,
    .recv = fake_recv,
    .poll = fake_poll,
    .getsockopt = fake_getsockopt,
    .sendto = fake_sendto,
};

/* The same with a recv() that waits itself (recv_waits, as
 * preload/recv_wait.c's): it waits in poll() until the run's wait deadline
 * (tunnel_run_wait_deadline, asked at each call as recv_wait.c does), then
 * reads without waiting. Records W for such a recv. */
static struct tunnel_run *waiting_run;

static ssize_t fake_recv_waiting(int fd, void *buf, size_t len, int flags)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint64_t now = netio_now_ms();
	uint64_t deadline = tunnel_run_wait_deadline(waiting_run, now);

	record('W');
	if (deadline > now)
		poll(&pfd, 1, (int)(deadline - now));
	return recv(fd, buf, len, flags | MSG_DONTWAIT);
}

static const struct socket_io fake_waiting_io = {
    .connect = fake_connect,
    .send = fake_send,
    .recv = fake_recv_waiting,
    .poll = fake_poll,
    .getsockopt = fake_getsockopt,
    .sendto = fake_sendto,
    .recv_waits = true,
};

/* ---- fixtures ---- */

static const struct sockaddr_in unused_sin = {.sin_family = AF_INET};
#define UNUSED_SA ((const struct sockaddr *)&unused_sin)

static const uint8_t greet[] = {5, 1, 0};
static const uint8_t method_none[] = {5, 0};
/* CONNECT 10.1.2.3:80 */
static const uint8_t request[] = {5, 1, 0, 1, 10, 1, 2, 3, 0, 80};
static const uint8_t reply_ok[] = {5, 0, 0, 1, 10, 9, 8, 7, 0x30, 0x39};
/* The reply, then the application's first bytes in the same write. */
static const uint8_t reply_and_data[] = {5, 0,	  0,	1,   10,  9,  8,
					 7, 0x30, 0x39, 'A', 'P', 'P'};
static const uint8_t reply_refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};

static struct config cfg;

static void setup(void)
{
	memset(&fake, 0, sizeof(fake));
	memset(&cfg, 0, sizeof(cfg));
	cfg.connect_timeout_ms = 2000;
	cfg.handshake_timeout_ms = 2000;
	cfg.valid = true;
	cfg.proxy_count = 1;
	cfg.proxies[0].type = PROXY_SOCKS5;
	ck_assert_int_eq(endpoint_parse_ip(&cfg.proxies[0].addr, "127.0.0.1"),
			 0);
	cfg.proxies[0].addr.port = 1080;
}

static struct endpoint dest_ip(void)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_parse_ip(&ep, "10.1.2.3"), 0);
	ep.port = 80;
	return ep;
}

/* The blocking run as preload/connect.c makes it: Fast Open start, then
 * tunnel_run_finish(). *phase receives the run's phase after the start. */
static int open_fast(int fd, struct tunnel_result *res,
		     enum tunnel_phase *phase)
{
	struct endpoint d = dest_ip();
	struct tunnel_run tr;
	int rc;

	tunnel_run_init(&tr, &cfg, &d, HANDSHAKE_CONNECT, netio_now_ms());
	rc = tunnel_run_fastopen(&tr, &fake_io, fd, UNUSED_SA,
				 sizeof(unused_sin));
	if (phase)
		*phase = tr.phase;
	if (rc == 0)
		rc = tunnel_run_finish(&tr, &fake_io, fd);
	*res = tr.res;
	return rc;
}

/* open_fast() through fake_waiting_io. */
static int open_fast_waiting(int fd, struct tunnel_result *res)
{
	struct endpoint d = dest_ip();
	struct tunnel_run tr;
	int rc;

	tunnel_run_init(&tr, &cfg, &d, HANDSHAKE_CONNECT, netio_now_ms());
	waiting_run = &tr;
	rc = tunnel_run_fastopen(&tr, &fake_waiting_io, fd, UNUSED_SA,
				 sizeof(unused_sin));
	if (rc == 0)
		rc = tunnel_run_finish(&tr, &fake_waiting_io, fd);
	*res = tr.res;
	waiting_run = NULL;
	return rc;
}

/* A refusal worded and counted as the connect's, not the hop's. */
static void assert_refused_connecting(const struct tunnel_result *res)
{
	ck_assert(!res->negotiating);
	ck_assert_str_eq(res->why,
			 "connecting to the proxy failed: connection refused "
			 "(is the proxy running at that address? check with: "
			 "socksify doctor)");
}

/* ---- cases ---- */

/* The floor: Fast Open start, greeting, poll, method, request, poll, and
 * the reply in two reads (its head, then the rest of an IPv4 address).
 * The application's bytes after the reply stay in the socket. */
START_TEST(eight_calls_and_nothing_past_the_reply)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND_LATE(method_none),
	    READ(sizeof(request)),
	    SEND_LATE(reply_and_data),
	    END(),
	};
	struct tunnel_result res;
	struct peer peer;
	char app[8] = {0};
	int client = peer_start(&peer, steps);

	ck_assert_int_eq(open_fast(client, &res, NULL), 0);
	fake.calls[fake.count] = '\0';
	ck_assert_str_eq(fake.calls, "TSPRSPRR");
	ck_assert_uint_eq(res.bound.port, 0x3039);
	ck_assert_int_eq(recv(client, app, sizeof(app), MSG_DONTWAIT), 3);
	ck_assert_str_eq(app, "APP");
	peer_finish(&peer, client);
	ck_assert_mem_eq(peer.got, greet, sizeof(greet));
	ck_assert_mem_eq(peer.got + sizeof(greet), request, sizeof(request));
}
END_TEST

/* The first send finds the connect still under way: wait for POLLOUT and
 * send again; nothing else changes. */
START_TEST(optimistic_send_finds_eagain)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND(method_none),
	    READ(sizeof(request)),
	    SEND(reply_ok),
	    END(),
	};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	fake.send_eagain = 2;
	ck_assert_int_eq(open_fast(client, &res, NULL), 0);
	fake.calls[fake.count] = '\0';
	ck_assert_str_eq(fake.calls, "TSPSPSPRSPRR");
	ck_assert_uint_eq(res.bound.port, 0x3039);
	peer_finish(&peer, client);
}
END_TEST

/* A refused connect surfaces through the first send (at once, or after
 * EAGAIN and a poll that saw POLLERR): it is the connect's failure, worded
 * as one, not the proxy's answer. */
START_TEST(refused_surfaces_through_send)
{
	const struct peer_step steps[] = {END()};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	fake.send_eagain = (unsigned)_i;
	fake.send_error = ECONNREFUSED;
	ck_assert_int_eq(open_fast(client, &res, NULL), -ECONNREFUSED);
	ck_assert_int_eq(res.hop, 0);
	assert_refused_connecting(&res);
	peer_finish(&peer, client);
}
END_TEST

/* Once the greeting went out, a failure is the hop's. */
START_TEST(refusal_after_the_greeting_is_the_hops)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND(method_none),
	    READ(sizeof(request)),
	    SEND(reply_refused),
	    END(),
	};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	ck_assert_int_eq(open_fast(client, &res, NULL), -ECONNREFUSED);
	ck_assert(res.negotiating);
	ck_assert_int_eq(res.hop, 0);
	peer_finish(&peer, client);
}
END_TEST

/* Replies that trickle in one byte at a time still end exactly at the
 * reply's last byte. */
START_TEST(partial_replies)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND_SLOW(method_none),
	    READ(sizeof(request)),
	    SEND_SLOW(reply_ok),
	    SEND(method_none), /* the application's: must stay unread */
	    END(),
	};
	struct tunnel_result res;
	struct peer peer;
	uint8_t app[4];
	int client = peer_start(&peer, steps);
	struct pollfd pfd = {.fd = client, .events = POLLIN};

	ck_assert_int_eq(open_fast(client, &res, NULL), 0);
	ck_assert_uint_eq(res.bound.port, 0x3039);
	ck_assert_int_eq(poll(&pfd, 1, 2000), 1);
	ck_assert_int_eq(recv(client, app, sizeof(app), 0), 2);
	ck_assert_mem_eq(app, method_none, 2);
	peer_finish(&peer, client);
}
END_TEST

/* A connect that never completes: the first send finds EAGAIN until the
 * connect deadline, whatever the (longer) handshake timeout. */
START_TEST(connect_deadline_while_unconfirmed)
{
	const struct peer_step steps[] = {END()};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);
	uint64_t start = netio_now_ms(), took;

	cfg.connect_timeout_ms = 60;
	cfg.handshake_timeout_ms = 5000;
	fake.send_eagain = ~0u;
	fake.poll_sleeps = 1;
	ck_assert_int_eq(open_fast(client, &res, NULL), -ETIMEDOUT);
	took = netio_now_ms() - start;
	ck_assert_uint_ge(took, 55);
	ck_assert_uint_lt(took, 1000);
	ck_assert(!res.negotiating);
	ck_assert_str_eq(res.why, "connecting to the proxy timed out");
	peer_finish(&peer, client);
}
END_TEST

/* Once the greeting is out the handshake deadline runs, not the
 * connect's: a silent proxy is given handshake_timeout, whether the
 * connect deadline is shorter or longer, and whether the run waits in
 * poll() or inside recv() (there the run is confirmed in the middle of its
 * step, and the wait is bounded from then on). Cases: 0 and 1 poll, 2 and
 * 3 wait in recv; even ones have the shorter connect deadline. */
START_TEST(handshake_deadline_after_the_greeting)
{
	const struct peer_step steps[] = {READ(sizeof(greet)), END()};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);
	uint64_t start = netio_now_ms(), took;
	int rc;

	cfg.connect_timeout_ms = _i % 2 ? 5000 : 30;
	cfg.handshake_timeout_ms = 300;
	rc = _i < 2 ? open_fast(client, &res, NULL)
		    : open_fast_waiting(client, &res);
	ck_assert_int_eq(rc, -ETIMEDOUT);
	took = netio_now_ms() - start;
	ck_assert_uint_ge(took, 290);
	ck_assert_uint_lt(took, 2000);
	ck_assert(res.negotiating);
	ck_assert_str_eq(res.why, "the proxy's handshake timed out");
	peer_finish(&peer, client);
}
END_TEST

/* Where recv() waits itself, a sent message is followed by its reply's
 * recv() at once: no poll() at all, still nothing read past the reply. */
START_TEST(waiting_recv_needs_no_poll)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND_LATE(method_none),
	    READ(sizeof(request)),
	    SEND_LATE(reply_and_data),
	    END(),
	};
	struct tunnel_result res;
	struct peer peer;
	char app[8] = {0};
	int client = peer_start(&peer, steps);

	ck_assert_int_eq(open_fast_waiting(client, &res), 0);
	fake.calls[fake.count] = '\0';
	ck_assert_str_eq(fake.calls, "TSWSWW");
	ck_assert_uint_eq(res.bound.port, 0x3039);
	ck_assert_int_eq(recv(client, app, sizeof(app), MSG_DONTWAIT), 3);
	ck_assert_str_eq(app, "APP");
	peer_finish(&peer, client);
}
END_TEST

/* A kernel with the proxy's cookie puts the greeting in the SYN: no send
 * of it afterwards, its reply awaited at once; whatever the SYN could not
 * hold (case 1: one byte) is sent as usual. The pipelined opening (case 2:
 * greeting and request) goes whole. */
START_TEST(greeting_in_the_syn)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND_LATE(method_none),
	    READ(sizeof(request)),
	    SEND_LATE(reply_ok),
	    END(),
	};
	/* Pipelined, whether the reply is there at the method's recv() is
	 * the peer's timing: only "nothing sent after the SYN" is sure. */
	static const char *const want[] = {"TPRSPRR", "TSPRSPRR", NULL};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	fake.start = START_COOKIE;
	fake.syn_max = _i == 1 ? 1 : 64;
	cfg.proxies[0].pipeline = _i == 2;
	ck_assert_int_eq(open_fast(client, &res, NULL), 0);
	fake.calls[fake.count] = '\0';
	if (want[_i])
		ck_assert_str_eq(fake.calls, want[_i]);
	else
		ck_assert(strncmp(fake.calls, "TP", 2) == 0 &&
			  !strchr(fake.calls, 'S'));
	ck_assert_uint_eq(res.bound.port, 0x3039);
	peer_finish(&peer, client);
	ck_assert_mem_eq(peer.got, greet, sizeof(greet));
	ck_assert_mem_eq(peer.got + sizeof(greet), request, sizeof(request));
}
END_TEST

/* With the greeting in the SYN, the connect is not known to be through
 * until the proxy answers: a refusal found by the first recv() is the
 * connect's, worded as such, and so is its deadline. */
START_TEST(greeting_in_the_syn_then_refused)
{
	const struct peer_step steps[] = {READ(sizeof(greet)), END()};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	fake.start = START_COOKIE;
	fake.syn_max = 64;
	fake.recv_error = ECONNREFUSED;
	ck_assert_int_eq(open_fast(client, &res, NULL), -ECONNREFUSED);
	assert_refused_connecting(&res);
	peer_finish(&peer, client);
}
END_TEST

/* Fast Open off in the kernel: nothing happened, the run is as it was. */
START_TEST(no_fastopen_leaves_the_run_untouched)
{
	const struct peer_step steps[] = {END()};
	struct tunnel_result res;
	struct peer peer;
	enum tunnel_phase phase;
	int client = peer_start(&peer, steps);

	fake.start = START_NO_FASTOPEN;
	ck_assert_int_eq(open_fast(client, &res, &phase), -EOPNOTSUPP);
	ck_assert_int_eq(phase, TUNNEL_CONNECTING);
	fake.calls[fake.count] = '\0';
	ck_assert_str_eq(fake.calls, "T");
	peer_finish(&peer, client);
}
END_TEST

/* A socket that was connected already: EISCONN, and not a byte sent. */
START_TEST(connected_socket_is_eisconn)
{
	const struct peer_step steps[] = {END()};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	fake.start = START_CONNECTED;
	ck_assert_int_eq(open_fast(client, &res, NULL), -EISCONN);
	fake.calls[fake.count] = '\0';
	ck_assert_str_eq(fake.calls, "T");
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

/* A request the hop cannot make fails as the hop's, as after a connect. */
START_TEST(request_that_cannot_be_made)
{
	const struct peer_step steps[] = {END()};
	struct tunnel_result res;
	struct peer peer;
	int client = peer_start(&peer, steps);

	cfg.proxies[0].type = PROXY_SOCKS4;
	memset(&cfg.proxies[0].addr, 0, sizeof(cfg.proxies[0].addr));
	ck_assert_int_eq(endpoint_parse_ip(&cfg.proxies[0].addr, "::1"), 0);
	{
		struct endpoint d;
		struct tunnel_run tr;

		ck_assert_int_eq(endpoint_parse_ip(&d, "2001:db8::1"), 0);
		d.port = 80;
		tunnel_run_init(&tr, &cfg, &d, HANDSHAKE_CONNECT,
				netio_now_ms());
		ck_assert_int_eq(tunnel_run_fastopen(&tr, &fake_io, client,
						     UNUSED_SA,
						     sizeof(unused_sin)),
				 0);
		ck_assert_int_eq(tunnel_run_finish(&tr, &fake_io, client),
				 -EAFNOSUPPORT);
		res = tr.res;
	}
	ck_assert(res.negotiating);
	ck_assert_str_eq(res.why, "SOCKS4 cannot carry an IPv6 destination");
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

/* ---- the kernel's side, on loopback ---- */

static ssize_t dontwait_send(int fd, const void *buf, size_t len, int flags)
{
	return send(fd, buf, len, flags | MSG_DONTWAIT);
}

static ssize_t dontwait_recv(int fd, void *buf, size_t len, int flags)
{
	return recv(fd, buf, len, flags | MSG_DONTWAIT);
}

static const struct socket_io kernel_io = {
    .connect = connect,
    .send = dontwait_send,
    .recv = dontwait_recv,
    .poll = poll,
    .getsockopt = getsockopt,
    .sendto = sendto,
};

/* A TCP socket on 127.0.0.1 at a kernel-chosen port (*sin), listening or
 * not (then a connect to it is refused). */
static int loopback_socket(struct sockaddr_in *sin, int listening)
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
		ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

/* A blocking socket stays blocking, and the whole chain opens (or the
 * refusal is the connect's) without a fcntl. Skipped where the kernel
 * has Fast Open off for clients. */
START_TEST(loopback_blocking_socket)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet)),
	    SEND(method_none),
	    READ(sizeof(request)),
	    SEND(reply_ok),
	    END(),
	};
	struct endpoint d = dest_ip();
	struct sockaddr_in sin;
	struct tunnel_run tr;
	struct peer peer;
	int lfd = loopback_socket(&sin, _i == 0);
	int client = socket(AF_INET, SOCK_STREAM, 0);
	int rc;

	tunnel_run_init(&tr, &cfg, &d, HANDSHAKE_CONNECT, netio_now_ms());
	rc = tunnel_run_fastopen(&tr, &kernel_io, client,
				 (struct sockaddr *)&sin, sizeof(sin));
	if (rc == -EOPNOTSUPP) {
		close(client);
		close(lfd);
		return; /* net.ipv4.tcp_fastopen without the client bit */
	}
	ck_assert_int_eq(rc, 0);
	if (_i == 0)
		peer_start_listener(&peer, lfd, steps);
	rc = tunnel_run_finish(&tr, &kernel_io, client);
	ck_assert_int_eq(fcntl(client, F_GETFL) & O_NONBLOCK, 0);
	if (_i == 0) {
		ck_assert_int_eq(rc, 0);
		peer_finish(&peer, client);
	} else {
		ck_assert_int_eq(rc, -ECONNREFUSED);
		ck_assert(!tr.res.negotiating);
		close(client);
	}
	close(lfd);
}
END_TEST

static Suite *fastopen_suite(void)
{
	Suite *s = suite_create("fastopen");
	TCase *fake_tc = tcase_create("recorded calls");
	TCase *kernel = tcase_create("loopback");

	tcase_add_checked_fixture(fake_tc, setup, NULL);
	tcase_add_test(fake_tc, eight_calls_and_nothing_past_the_reply);
	tcase_add_test(fake_tc, optimistic_send_finds_eagain);
	tcase_add_loop_test(fake_tc, refused_surfaces_through_send, 0, 3);
	tcase_add_test(fake_tc, refusal_after_the_greeting_is_the_hops);
	tcase_add_test(fake_tc, partial_replies);
	tcase_add_test(fake_tc, connect_deadline_while_unconfirmed);
	tcase_add_loop_test(fake_tc, handshake_deadline_after_the_greeting, 0,
			    4);
	tcase_add_test(fake_tc, waiting_recv_needs_no_poll);
	tcase_add_loop_test(fake_tc, greeting_in_the_syn, 0, 3);
	tcase_add_test(fake_tc, greeting_in_the_syn_then_refused);
	tcase_add_test(fake_tc, no_fastopen_leaves_the_run_untouched);
	tcase_add_test(fake_tc, connected_socket_is_eisconn);
	tcase_add_test(fake_tc, request_that_cannot_be_made);
	tcase_add_checked_fixture(kernel, setup, NULL);
	tcase_add_loop_test(kernel, loopback_blocking_socket, 0, 2);
	suite_add_tcase(s, fake_tc);
	suite_add_tcase(s, kernel);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fastopen_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
