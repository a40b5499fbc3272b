/* test_handshake.c — the handshake state machine over a socketpair, against
 * a scripted peer thread that answers normally, byte by byte, coalesced with
 * application data, truncated, corrupted, late, or not at all; unpipelined and
 * pipelined, counting send() calls and round trips. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "handshake.h"
#include "peer.h"
#include "socks4.h"
#include "socks5.h"

/* ---- socket_io on real libc, counting calls and round trips ---- */

static unsigned recv_calls; /* calls that returned data */
static size_t recv_largest_ask;
static unsigned send_calls;   /* calls that sent data */
static unsigned pollin_waits; /* every wait for the proxy to answer */
static unsigned round_trips;  /* waits for an answer after sending */
static int sent_since_wait;

/* Counts the calls that returned data (not those that found none yet). */
static ssize_t counting_recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t n = recv(fd, buf, len, flags);

	if (n > 0)
		recv_calls++;
	if (len > recv_largest_ask)
		recv_largest_ask = len;
	return n;
}

static ssize_t counting_send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t n = send(fd, buf, len, flags);

	if (n > 0) {
		send_calls++;
		sent_since_wait = 1;
	}
	return n;
}

/* A wait for input after something was sent is one round trip; a wait with
 * nothing sent since the last one is the same round trip trickling in. */
static int counting_poll(struct pollfd *fds, nfds_t count, int timeout_ms)
{
	if (count == 1 && (fds[0].events & POLLIN)) {
		pollin_waits++;
		round_trips += (unsigned)sent_since_wait;
		sent_since_wait = 0;
	}
	return poll(fds, count, timeout_ms);
}

static const struct socket_io io = {
    .connect = connect,
    .send = counting_send,
    .recv = counting_recv,
    .poll = counting_poll,
    .getsockopt = getsockopt,
};

/* ---- the scripted peer (peer.h), with this file's counters zeroed ---- */

static int peer_begin(struct peer *p, const struct peer_step *steps)
{
	recv_calls = 0;
	recv_largest_ask = 0;
	send_calls = 0;
	pollin_waits = 0;
	round_trips = 0;
	sent_since_wait = 0;
	return peer_start(p, steps);
}

/* ---- fixtures ---- */

static struct proxy proxy_socks5(int with_auth)
{
	struct proxy p;

	memset(&p, 0, sizeof(p));
	p.type = PROXY_SOCKS5H;
	endpoint_parse_ip(&p.addr, "127.0.0.1");
	p.addr.port = 1080;
	if (with_auth) {
		p.has_auth = true;
		p.user_len = 4;
		memcpy(p.user, "user", 5);
		p.password_len = 6;
		memcpy(p.password, "secret", 7);
	}
	return p;
}

static struct proxy proxy_socks4(enum proxy_type type, const char *user)
{
	struct proxy p = proxy_socks5(0);

	p.type = type;
	if (user) {
		p.has_auth = true;
		p.user_len = (uint8_t)strlen(user);
		memcpy(p.user, user, p.user_len + 1);
	}
	return p;
}

static struct endpoint dest_ipv4(void)
{
	struct endpoint ep = {.kind = ENDPOINT_IPV4, .port = 80};

	memcpy(ep.u.ipv4, (uint8_t[]){198, 18, 0, 9}, 4);
	return ep;
}

static struct endpoint dest_name(void)
{
	struct endpoint ep;

	endpoint_set_name(&ep, "example.com", 11, 443);
	return ep;
}

static uint64_t deadline_in(unsigned ms)
{
	return netio_now_ms() + ms;
}

static const uint8_t greet_none[] = {5, 1, 0};
static const uint8_t greet_auth[] = {5, 2, 0, 2};
static const uint8_t method_none[] = {5, 0};
static const uint8_t method_auth[] = {5, 2};
static const uint8_t auth_req[] = {1,	4,   'u', 's', 'e', 'r', 6,
				   's', 'e', 'c', 'r', 'e', 't'};
static const uint8_t auth_ok[] = {1, 0};
static const uint8_t req_ipv4[] = {5, 1, 0, 1, 198, 18, 0, 9, 0, 80};
static const uint8_t req_name[] = {5,	1,   0,	  3,   11,   'e',
				   'x', 'a', 'm', 'p', 'l',  'e',
				   '.', 'c', 'o', 'm', 0x01, 0xbb};
static const uint8_t reply_ok[] = {5, 0, 0, 1, 10, 1, 2, 3, 0x1f, 0x90};

/* Run a handshake against steps and check what the peer received. */
static int run_against(const struct peer_step *steps, const struct proxy *p,
		       const struct endpoint *dest, enum handshake_cmd cmd,
		       struct handshake *hs, struct peer *peer)
{
	int client = peer_begin(peer, steps);
	int rc;

	handshake_init(hs, p, dest, cmd);
	rc = handshake_run(hs, &io, client, deadline_in(2000));
	peer_finish(peer, client);
	return rc;
}

static void assert_sent(const struct peer *peer, const uint8_t *a, size_t alen,
			const uint8_t *b, size_t blen)
{
	ck_assert_uint_eq(peer->got_len, alen + blen);
	ck_assert_mem_eq(peer->got, a, alen);
	if (blen)
		ck_assert_mem_eq(peer->got + alen, b, blen);
}

/* ---- SOCKS5 success paths ---- */

START_TEST(socks5_no_auth_ipv4)
{
	const struct peer_step steps[] = {READ(3), SEND(method_none), READ(10),
					  SEND(reply_ok), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	assert_sent(&peer, greet_none, sizeof(greet_none), req_ipv4,
		    sizeof(req_ipv4));
	ck_assert_int_eq(hs.state, HS_DONE);
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(hs.bound.port, 8080);
	ck_assert_uint_eq(hs.bound.u.ipv4[3], 3);
	ck_assert_uint_eq(hs.method, SOCKS5_METHOD_NONE);
}
END_TEST

START_TEST(socks5_userpass_name)
{
	const struct peer_step steps[] = {
	    READ(4),	   SEND(method_auth),	   READ(sizeof(auth_req)),
	    SEND(auth_ok), READ(sizeof(req_name)), SEND(reply_ok),
	    END(),
	};
	struct proxy p = proxy_socks5(1);
	struct endpoint d = dest_name();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_uint_eq(peer.got_len, sizeof(greet_auth) + sizeof(auth_req) +
					    sizeof(req_name));
	ck_assert_mem_eq(peer.got, greet_auth, sizeof(greet_auth));
	ck_assert_mem_eq(peer.got + 4, auth_req, sizeof(auth_req));
	ck_assert_mem_eq(peer.got + 4 + sizeof(auth_req), req_name,
			 sizeof(req_name));
}
END_TEST

/* With credentials, the proxy may still pick "no authentication". */
START_TEST(socks5_auth_offered_none_chosen)
{
	const struct peer_step steps[] = {READ(4), SEND(method_none), READ(10),
					  SEND(reply_ok), END()};
	struct proxy p = proxy_socks5(1);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	assert_sent(&peer, greet_auth, sizeof(greet_auth), req_ipv4,
		    sizeof(req_ipv4));
}
END_TEST

START_TEST(socks5_byte_by_byte)
{
	static const uint8_t reply_v6[] = {5, 0, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0,
					   0, 0, 0, 0, 0,    0, 0, 0, 1, 0, 53};
	static const uint8_t reply_nm[] = {5,	0,   0,	  3,	4,   'b',
					   'n', 'd', '1', 0x12, 0x34};
	const struct peer_step steps6[] = {
	    READ(4),
	    SEND_SLOW(method_auth),
	    READ(sizeof(auth_req)),
	    SEND_SLOW(auth_ok),
	    READ(10),
	    SEND_SLOW(reply_v6),
	    END(),
	};
	const struct peer_step stepsn[] = {READ(3), SEND_SLOW(method_none),
					   READ(10), SEND_SLOW(reply_nm),
					   END()};
	struct proxy pa = proxy_socks5(1), pn = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps6, &pa, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_IPV6);
	ck_assert_uint_eq(hs.bound.u.ipv6[0], 0xfd);
	ck_assert_uint_eq(hs.bound.port, 53);
	ck_assert_int_eq(
	    run_against(stepsn, &pn, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_NAME);
	ck_assert_str_eq(hs.bound.u.name, "bnd1");
	ck_assert_uint_eq(hs.bound.port, 0x1234);
}
END_TEST

/* Reply and the first application bytes arrive in one segment: the
 * handshake must leave those bytes in the socket, and ask recv() only for
 * what is sure to be SOCKS (2 bytes, then the shortest reply, 8, then the
 * rest: 3 calls in all). */
START_TEST(socks5_coalesced_app_data)
{
	static const uint8_t reply_app[] = {
	    5,	 0,   0,   3,	4,   'h', 'o', 's', 't', 0,   80, 'H',
	    'T', 'T', 'P', '/', '1', '.', '1', ' ', '2', '0', '0'};
	const struct peer_step steps[] = {READ(3), SEND(method_none), READ(10),
					  SEND(reply_app), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	char app[64];
	ssize_t n;
	int client = peer_begin(&peer, steps);

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(handshake_run(&hs, &io, client, deadline_in(2000)), 0);
	ck_assert_uint_le(recv_calls, 3);
	ck_assert_uint_le(recv_largest_ask, 8);
	ck_assert_str_eq(hs.bound.u.name, "host");
	ck_assert_int_eq(netio_wait(&io, client, POLLIN, deadline_in(1000)), 0);
	n = recv(client, app, sizeof(app), 0);
	ck_assert_int_eq(n, 12);
	ck_assert_mem_eq(app, "HTTP/1.1 200", 12);
	peer_finish(&peer, client);
}
END_TEST

START_TEST(socks5_bind_and_udp_commands)
{
	static const uint8_t req_bind[] = {5, 2, 0, 1, 198, 18, 0, 9, 0, 80};
	static const uint8_t req_udp[] = {5, 3, 0, 1, 198, 18, 0, 9, 0, 80};
	const struct peer_step steps[] = {READ(3), SEND(method_none), READ(10),
					  SEND(reply_ok), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(run_against(steps, &p, &d, HANDSHAKE_BIND, &hs, &peer),
			 0);
	assert_sent(&peer, greet_none, 3, req_bind, sizeof(req_bind));
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_UDP_ASSOCIATE, &hs, &peer), 0);
	assert_sent(&peer, greet_none, 3, req_udp, sizeof(req_udp));
}
END_TEST

/* Tor's RESOLVE: a name in, the address in the reply's BND.ADDR; and
 * RESOLVE_PTR: an address in, the name (ATYP 3) in the reply; a proxy
 * without them answers "command not supported". */
START_TEST(socks5_tor_resolve_commands)
{
	static const uint8_t req_resolve[] = {5,   0xf0, 0,   3,   11,	'e',
					      'x', 'a',	 'm', 'p', 'l', 'e',
					      '.', 'c',	 'o', 'm', 0,	0};
	static const uint8_t reply_addr[] = {5,	  0,   0,  1, 93,
					     184, 216, 34, 0, 0};
	static const uint8_t req_ptr[] = {5, 0xf1, 0, 1, 198, 18, 0, 9, 0, 0};
	static const uint8_t reply_name[] = {5,	  0,   0,   3,	 5, 'h',
					     '.', 't', 'o', 'r', 0, 0};
	static const uint8_t reply_unsupported[] = {5, 7, 0, 1, 0,
						    0, 0, 0, 0, 0};
	const struct peer_step resolve[] = {READ(3), SEND(method_none),
					    READ(sizeof(req_resolve)),
					    SEND(reply_addr), END()};
	const struct peer_step ptr[] = {READ(3), SEND(method_none),
					READ(sizeof(req_ptr)), SEND(reply_name),
					END()};
	const struct peer_step refused[] = {READ(3), SEND(method_none),
					    READ(sizeof(req_resolve)),
					    SEND(reply_unsupported), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint name = dest_name(), addr = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	name.port = 0;
	addr.port = 0;
	ck_assert_int_eq(
	    run_against(resolve, &p, &name, HANDSHAKE_RESOLVE, &hs, &peer), 0);
	assert_sent(&peer, greet_none, 3, req_resolve, sizeof(req_resolve));
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_IPV4);
	ck_assert_mem_eq(hs.bound.u.ipv4, "\x5d\xb8\xd8\x22", 4);
	ck_assert_int_eq(
	    run_against(ptr, &p, &addr, HANDSHAKE_RESOLVE_PTR, &hs, &peer), 0);
	assert_sent(&peer, greet_none, 3, req_ptr, sizeof(req_ptr));
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_NAME);
	ck_assert_str_eq(hs.bound.u.name, "h.tor");
	ck_assert_int_eq(
	    run_against(refused, &p, &name, HANDSHAKE_RESOLVE, &hs, &peer),
	    -socks5_reply_errno(7));
}
END_TEST

/* ---- SOCKS5 failures ---- */

START_TEST(socks5_truncated_reply)
{
	static const uint8_t part[] = {5, 0, 0};
	const struct peer_step steps[] = {READ(3), SEND(method_none), READ(10),
					  SEND(part), CLOSE()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer),
	    -ECONNRESET);
	ck_assert_str_eq(hs.why,
			 "proxy closed the connection during the handshake");
	ck_assert_int_eq(hs.state, HS_FAILED);
}
END_TEST

START_TEST(socks5_closed_after_greeting)
{
	const struct peer_step steps[] = {READ(3), CLOSE()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer),
	    -ECONNRESET);
}
END_TEST

struct corrupt_case {
	int auth;		/* offer username/password */
	const uint8_t *method;	/* method selection sent */
	const uint8_t *auth_st; /* auth reply, when reached */
	const uint8_t *reply;	/* 10-byte reply, when reached */
	int err;
	const char *why;
};

static const uint8_t m_v4[] = {4, 0}, m_gss[] = {5, 1}, m_ff[] = {5, 0xff},
		     a_fail[] = {1, 1}, a_ver[] = {5, 0};
static const uint8_t r_ver[] = {4, 0, 0, 1, 0, 0, 0, 0, 0, 0};
static const uint8_t r_rsv[] = {5, 0, 7, 1, 0, 0, 0, 0, 0, 0};
static const uint8_t r_atyp[] = {5, 0, 0, 5, 0, 0, 0, 0, 0, 0};
static const uint8_t r_empty[] = {5, 0, 0, 3, 0, 0, 0, 0, 0, 0};

static const struct corrupt_case corrupt_cases[] = {
    {0, m_v4, NULL, NULL, EPROTO,
     "proxy answered the greeting with a version other than SOCKS5"},
    {0, method_auth, NULL, NULL, EPROTO,
     "proxy chose an authentication method we did not offer"},
    {1, m_gss, NULL, NULL, EPROTO,
     "proxy chose an authentication method we did not offer"},
    {0, m_ff, NULL, NULL, EACCES,
     "proxy accepts none of our authentication methods"},
    {1, method_auth, a_fail, NULL, EACCES,
     "proxy rejected the username/password"},
    {1, method_auth, a_ver, NULL, EPROTO,
     "proxy's username/password reply has a wrong version"},
    {0, method_none, NULL, r_ver, EPROTO,
     "proxy's reply has a version other than SOCKS5"},
    {0, method_none, NULL, r_rsv, EPROTO,
     "proxy's reply has a non-zero reserved byte"},
    {0, method_none, NULL, r_atyp, EPROTO,
     "proxy's reply has an unknown address type"},
    {0, method_none, NULL, r_empty, EPROTO,
     "proxy's reply holds an empty host name"},
};

/* Build the peer's script for one corrupt case into steps. */
static void corrupt_script(const struct corrupt_case *c,
			   struct peer_step *steps)
{
	int i = 0;

	steps[i++] = (struct peer_step){PEER_READ, NULL, c->auth ? 4 : 3};
	steps[i++] = (struct peer_step){PEER_SEND, c->method, 2};
	if (c->auth_st) {
		steps[i++] = (struct peer_step)READ(sizeof(auth_req));
		steps[i++] = (struct peer_step){PEER_SEND, c->auth_st, 2};
	}
	if (c->reply) {
		steps[i++] = (struct peer_step)READ(10);
		steps[i++] = (struct peer_step){PEER_SEND, c->reply, 10};
	}
	steps[i] = (struct peer_step)END();
}

START_TEST(socks5_corrupt)
{
	const struct corrupt_case *c = &corrupt_cases[_i];
	struct peer_step steps[8];
	struct proxy p = proxy_socks5(c->auth);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	short ev = 0;
	size_t sent_before_reply;

	corrupt_script(c, steps);
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), -c->err);
	ck_assert_str_eq(hs.why, c->why);
	ck_assert_int_eq(hs.error, c->err);
	/* Failure is sticky. */
	ck_assert_int_eq(handshake_step(&hs, &io, -1, &ev), -c->err);
	/* Nothing beyond the failing exchange was sent. */
	sent_before_reply = (c->auth ? 4 : 3) +
			    (c->auth_st ? sizeof(auth_req) : 0) +
			    (c->reply ? 10 : 0);
	ck_assert_uint_eq(peer.got_len, sent_before_reply);
}
END_TEST

/* Each defect has its own explanation; only cases 1 and 2 (two kinds of
 * unoffered method) are the same defect. */
START_TEST(socks5_corrupt_whys_distinct)
{
	size_t i, j, n = sizeof(corrupt_cases) / sizeof(corrupt_cases[0]);

	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (i == 1 && j == 2)
				ck_assert_str_eq(corrupt_cases[i].why,
						 corrupt_cases[j].why);
			else
				ck_assert_str_ne(corrupt_cases[i].why,
						 corrupt_cases[j].why);
		}
	}
}
END_TEST

/* Every REP code over the wire: mapped errno and its message as why. */
START_TEST(socks5_reply_codes)
{
	uint8_t reply[10] = {5, (uint8_t)_i, 0, 1, 0, 0, 0, 0, 0, 0};
	const struct peer_step steps[] = {READ(3), SEND(method_none), READ(10),
					  SEND(reply), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer),
	    -socks5_reply_errno((uint8_t)_i));
	ck_assert_uint_eq(hs.reply, _i);
	if (_i != 0)
		ck_assert_str_eq(hs.why, socks5_reply_message((uint8_t)_i));
}
END_TEST

START_TEST(socks5_silent_proxy_times_out)
{
	const struct peer_step steps[] = {READ(3), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	int client = peer_begin(&peer, steps);
	uint64_t start = netio_now_ms(), took;

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(handshake_run(&hs, &io, client, start + 200),
			 -ETIMEDOUT);
	took = netio_now_ms() - start;
	ck_assert_uint_ge(took, 190);
	ck_assert_uint_lt(took, 1000);
	ck_assert_int_eq(hs.state, HS_FAILED);
	ck_assert_str_eq(hs.why, "the proxy's handshake timed out");
	peer_finish(&peer, client);
}
END_TEST

/* Ending a handshake from outside: a failed wait is worded apart from a
 * timeout, later steps repeat it, and an ended handshake keeps its end. */
START_TEST(abandon_ends_once)
{
	const struct peer_step steps[] = {READ(3), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	short ev = 0;
	int client = peer_begin(&peer, steps);

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(handshake_step(&hs, &io, client, &ev), -EAGAIN);
	ck_assert_int_eq(handshake_abandon(&hs, EIO), -EIO);
	ck_assert_str_eq(hs.why, "waiting for the proxy failed");
	ck_assert_int_eq(handshake_step(&hs, &io, client, &ev), -EIO);
	ck_assert_int_eq(handshake_abandon(&hs, ETIMEDOUT), -EIO);
	ck_assert_str_eq(hs.why, "waiting for the proxy failed");
	peer_finish(&peer, client);
}
END_TEST

/* Driving step by step: -EAGAIN with the right event between messages. */
START_TEST(step_reports_events)
{
	const struct peer_step steps[] = {READ(3), END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	short ev = 0;
	int client = peer_begin(&peer, steps);

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(hs.state, HS_SEND_GREETING);
	ck_assert_int_eq(handshake_step(&hs, &io, client, &ev), -EAGAIN);
	ck_assert_int_eq(ev, POLLIN);
	ck_assert_int_eq(hs.state, HS_RECV_METHOD);
	ck_assert_str_eq(handshake_state_name(hs.state), "recv-method");
	ck_assert_int_eq(handshake_step(&hs, &io, client, &ev), -EAGAIN);
	ck_assert_int_eq(hs.state, HS_RECV_METHOD);
	peer_finish(&peer, client);
	ck_assert_str_eq(handshake_state_name(HS_DONE), "done");
	ck_assert_str_eq(handshake_state_name((enum handshake_state)99),
			 "unknown");
}
END_TEST

/* A name the length byte cannot carry is refused before anything is sent. */
START_TEST(socks5_name_too_long_sends_nothing)
{
	const struct peer_step steps[] = {END()};
	struct proxy p = proxy_socks5(0);
	struct endpoint d = dest_name();
	struct handshake hs;
	struct peer peer;

	memset(d.u.name, 'a', sizeof(d.u.name)); /* no terminating NUL */
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer),
	    -ENAMETOOLONG);
	ck_assert_uint_eq(peer.got_len, 0);
	ck_assert_ptr_nonnull(hs.why);
}
END_TEST

/* ---- SOCKS4 / SOCKS4a ---- */

START_TEST(socks4_connect_with_user)
{
	static const uint8_t want[] = {4, 1,   0,   80,	 198, 18, 0,
				       9, 'f', 'r', 'e', 'd', 0};
	static const uint8_t granted[] = {0, 0x5a, 0, 0, 0, 0, 0, 0};
	const struct peer_step steps[] = {READ(sizeof(want)),
					  SEND_SLOW(granted), END()};
	struct proxy p = proxy_socks4(PROXY_SOCKS4, "fred");
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	assert_sent(&peer, want, sizeof(want), NULL, 0);
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_IPV4);
}
END_TEST

START_TEST(socks4a_name_coalesced)
{
	static const uint8_t want[] = {4,   1,	 0x01, 0xbb, 0,	  0,   0,
				       1,   0,	 'e',  'x',  'a', 'm', 'p',
				       'l', 'e', '.',  'c',  'o', 'm', 0};
	static const uint8_t granted_app[] = {0, 0x5a, 0,   0,	 0,  0,
					      0, 0,    'O', 'K', '!'};
	const struct peer_step steps[] = {READ(sizeof(want)), SEND(granted_app),
					  END()};
	struct proxy p = proxy_socks4(PROXY_SOCKS4A, NULL);
	struct endpoint d = dest_name();
	struct handshake hs;
	struct peer peer;
	char app[8];
	int client = peer_begin(&peer, steps);

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(hs.state, HS_SEND_REQUEST);
	ck_assert_int_eq(handshake_run(&hs, &io, client, deadline_in(2000)), 0);
	ck_assert_uint_le(recv_largest_ask, SOCKS4_REPLY_LEN);
	ck_assert_int_eq(netio_wait(&io, client, POLLIN, deadline_in(1000)), 0);
	ck_assert_int_eq(recv(client, app, sizeof(app), 0), 3);
	ck_assert_mem_eq(app, "OK!", 3);
	peer_finish(&peer, client);
	assert_sent(&peer, want, sizeof(want), NULL, 0);
}
END_TEST

START_TEST(socks4_refusals)
{
	static const uint8_t st[] = {0x5b, 0x5c, 0x5d, 0x11};
	static const int err[] = {ECONNREFUSED, EACCES, EPERM, EPROTO};
	uint8_t reply[8] = {0};
	const struct peer_step steps[] = {READ(9), SEND(reply), END()};
	struct proxy p = proxy_socks4(PROXY_SOCKS4, NULL);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	size_t i;

	for (i = 0; i < sizeof(st); i++) {
		reply[1] = st[i];
		ck_assert_int_eq(
		    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer),
		    -err[i]);
		ck_assert_str_eq(hs.why, socks4_reply_message(st[i]));
	}
}
END_TEST

START_TEST(socks4_bad_version)
{
	static const uint8_t reply[] = {5, 0x5a, 0, 0, 0, 0, 0, 0};
	const struct peer_step steps[] = {READ(9), SEND(reply), END()};
	struct proxy p = proxy_socks4(PROXY_SOCKS4, NULL);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), -EPROTO);
	ck_assert_str_eq(hs.why,
			 "proxy's reply is not a SOCKS4 reply (wrong version)");
}
END_TEST

/* IPv6 and UDP cannot be asked of SOCKS4: refused with nothing sent. */
START_TEST(socks4_unsupported_sends_nothing)
{
	const struct peer_step steps[] = {END()};
	struct proxy p = proxy_socks4(PROXY_SOCKS4A, NULL);
	struct endpoint v6 = {.kind = ENDPOINT_IPV6, .port = 80};
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	v6.u.ipv6[15] = 1;
	ck_assert_int_eq(
	    run_against(steps, &p, &v6, HANDSHAKE_CONNECT, &hs, &peer),
	    -EAFNOSUPPORT);
	ck_assert_uint_eq(peer.got_len, 0);
	ck_assert_str_eq(hs.why, "SOCKS4 cannot carry an IPv6 destination");
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_UDP_ASSOCIATE, &hs, &peer),
	    -EOPNOTSUPP);
	ck_assert_uint_eq(peer.got_len, 0);
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_RESOLVE, &hs, &peer),
	    -EOPNOTSUPP);
	ck_assert_uint_eq(peer.got_len, 0);
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_RESOLVE_PTR, &hs, &peer),
	    -EOPNOTSUPP);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

/* ---- pipelining: greeting (+ auth) + request in one write ---- */

static const uint8_t greet_pipe_auth[] = {5, 1, 2};
static const uint8_t answers_none[] = {5,  0, 5, 0, 0,	  1,
				       10, 1, 2, 3, 0x1f, 0x90};
static const uint8_t answers_auth[] = {5, 2,  1, 0, 5, 0,    0,
				       1, 10, 1, 2, 3, 0x1f, 0x90};

static struct proxy proxy_pipelined(int with_auth)
{
	struct proxy p = proxy_socks5(with_auth);

	p.pipeline = true;
	return p;
}

START_TEST(pipelined_no_auth_one_write)
{
	const struct peer_step steps[] = {READ(3 + 10), SEND(method_none),
					  SEND(reply_ok), END()};
	struct proxy p = proxy_pipelined(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_uint_eq(send_calls, 1);
	assert_sent(&peer, greet_none, sizeof(greet_none), req_ipv4,
		    sizeof(req_ipv4));
	ck_assert_int_eq(hs.state, HS_DONE);
	ck_assert(hs.replied);
	ck_assert_uint_eq(hs.bound.port, 8080);
	ck_assert_uint_le(round_trips, 1);
}
END_TEST

/* With credentials the greeting offers username/password alone: the auth
 * request follows it in the same write. */
START_TEST(pipelined_auth_one_write)
{
	const struct peer_step steps[] = {
	    READ(sizeof(greet_pipe_auth) + sizeof(auth_req) + sizeof(req_name)),
	    SEND(method_auth),
	    SEND(auth_ok),
	    SEND(reply_ok),
	    END(),
	};
	struct proxy p = proxy_pipelined(1);
	struct endpoint d = dest_name();
	struct handshake hs;
	struct peer peer;
	size_t at = sizeof(greet_pipe_auth);

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_uint_eq(send_calls, 1);
	ck_assert_uint_eq(peer.got_len,
			  at + sizeof(auth_req) + sizeof(req_name));
	ck_assert_mem_eq(peer.got, greet_pipe_auth, at);
	ck_assert_mem_eq(peer.got + at, auth_req, sizeof(auth_req));
	ck_assert_mem_eq(peer.got + at + sizeof(auth_req), req_name,
			 sizeof(req_name));
	ck_assert_uint_eq(hs.method, SOCKS5_METHOD_USERPASS);
	ck_assert_uint_eq(hs.bound.port, 8080);
}
END_TEST

/* All answers in one segment, followed by application bytes: two recv()
 * calls in all (method [+ status] + the shortest reply, then the rest of
 * the IPv4 reply), and the application bytes stay in the socket. */
START_TEST(pipelined_answers_coalesced)
{
	uint8_t chunk[64];
	const uint8_t *answers = _i ? answers_auth : answers_none;
	size_t alen = _i ? sizeof(answers_auth) : sizeof(answers_none);
	struct peer_step steps[] = {READ(_i ? 3 + 13 + 10 : 3 + 10),
				    {PEER_SEND, chunk, alen + 4},
				    END()};
	struct proxy p = proxy_pipelined(_i);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	char app[8];
	int client;

	memcpy(chunk, answers, alen);
	memcpy(chunk + alen, "APP!", 4);
	client = peer_begin(&peer, steps);
	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(handshake_run(&hs, &io, client, deadline_in(2000)), 0);
	ck_assert_uint_eq(recv_calls, 2);
	ck_assert_uint_eq(send_calls, 1);
	ck_assert_uint_eq(hs.bound.port, 8080);
	ck_assert_int_eq(netio_wait(&io, client, POLLIN, deadline_in(1000)), 0);
	ck_assert_int_eq(recv(client, app, sizeof(app), 0), 4);
	ck_assert_mem_eq(app, "APP!", 4);
	peer_finish(&peer, client);
}
END_TEST

/* The shortest reply (a one-letter BND name) with application bytes right
 * behind it: the read-ahead stops exactly at the reply's end. */
START_TEST(pipelined_shortest_reply_keeps_app_data)
{
	static const uint8_t chunk[] = {5,   0, 5,  0,	 0,   3,  1,
					'h', 0, 80, 'A', 'P', 'P'};
	const struct peer_step steps[] = {READ(13), SEND(chunk), END()};
	struct proxy p = proxy_pipelined(0);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	char app[8];
	int client = peer_begin(&peer, steps);

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	ck_assert_int_eq(handshake_run(&hs, &io, client, deadline_in(2000)), 0);
	ck_assert_uint_eq(recv_calls, 1);
	ck_assert_str_eq(hs.bound.u.name, "h");
	ck_assert_int_eq(netio_wait(&io, client, POLLIN, deadline_in(1000)), 0);
	ck_assert_int_eq(recv(client, app, sizeof(app), 0), 3);
	ck_assert_mem_eq(app, "APP", 3);
	peer_finish(&peer, client);
}
END_TEST

START_TEST(pipelined_byte_by_byte)
{
	const struct peer_step steps[] = {READ(3 + 13 + 10),
					  SEND_SLOW(answers_auth), END()};
	struct proxy p = proxy_pipelined(1);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_uint_eq(send_calls, 1);
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_IPV4);
	ck_assert_uint_eq(hs.bound.u.ipv4[3], 3);
	ck_assert_uint_eq(hs.bound.port, 8080);
}
END_TEST

/* A proxy that picks "no authentication" although only username/password
 * was offered would read our auth bytes as a request. */
START_TEST(pipelined_auth_ignored)
{
	const struct peer_step steps[] = {READ(3 + 13 + 10), SEND(method_none),
					  END()};
	struct proxy p = proxy_pipelined(1);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), -EPROTO);
	ck_assert_str_eq(hs.why, "proxy ignored the pipelined authentication");
	ck_assert(!hs.replied);
	ck_assert_uint_eq(peer.got_len, 3 + 13 + 10);
}
END_TEST

/* Pipelined, every defect is caught with the same error and explanation as
 * unpipelined; the peer gets the pipelined bytes and nothing more. */
START_TEST(pipelined_corrupt)
{
	const struct corrupt_case *c = &corrupt_cases[_i];
	struct peer_step steps[6];
	struct proxy p = proxy_pipelined(c->auth);
	struct endpoint d = dest_ipv4();
	size_t sent = (c->auth ? 3 + sizeof(auth_req) : 3) + 10;
	struct handshake hs;
	struct peer peer;
	int i = 0;

	steps[i++] = (struct peer_step)READ(sent);
	steps[i++] = (struct peer_step){PEER_SEND, c->method, 2};
	if (c->auth_st)
		steps[i++] = (struct peer_step){PEER_SEND, c->auth_st, 2};
	if (c->reply)
		steps[i++] = (struct peer_step){PEER_SEND, c->reply, 10};
	steps[i] = (struct peer_step)END();
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), -c->err);
	ck_assert_str_eq(hs.why, c->why);
	ck_assert_uint_eq(send_calls, 1);
	ck_assert_uint_eq(peer.got_len, sent);
}
END_TEST

/* Round trips spent before the handshake completes, against a peer that
 * answers each of its turns late in one write. */
struct rtt_case {
	int auth, pipeline;
	const struct peer_step *steps;
	unsigned round_trips, sends, waits;
};

static const struct peer_step rtt_plain_none[] = {
    READ(3), SEND_LATE(method_none), READ(10), SEND_LATE(reply_ok), END()};
static const struct peer_step rtt_plain_auth[] = {
    READ(4),  SEND_LATE(method_auth), READ(13), SEND_LATE(auth_ok),
    READ(10), SEND_LATE(reply_ok),    END()};
static const struct peer_step rtt_pipe_none[] = {
    READ(3 + 10), SEND_LATE(answers_none), END()};
static const struct peer_step rtt_pipe_auth[] = {
    READ(3 + 13 + 10), SEND_LATE(answers_auth), END()};
/* An in-order server answering message by message: still one round trip,
 * though the answers trickle in over three waits. */
static const struct peer_step rtt_pipe_in_order[] = {
    READ(3),  SEND_LATE(method_auth), READ(13), SEND_LATE(auth_ok),
    READ(10), SEND_LATE(reply_ok),    END()};

static const struct rtt_case rtt_cases[] = {
    {0, 0, rtt_plain_none, 2, 2, 2},	{1, 0, rtt_plain_auth, 3, 3, 3},
    {0, 1, rtt_pipe_none, 1, 1, 1},	{1, 1, rtt_pipe_auth, 1, 1, 1},
    {1, 1, rtt_pipe_in_order, 1, 1, 3},
};

START_TEST(round_trips_counted)
{
	const struct rtt_case *c = &rtt_cases[_i];
	struct proxy p = proxy_socks5(c->auth);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	p.pipeline = c->pipeline;
	ck_assert_int_eq(
	    run_against(c->steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	ck_assert_uint_eq(round_trips, c->round_trips);
	ck_assert_uint_eq(send_calls, c->sends);
	ck_assert_uint_eq(pollin_waits, c->waits);
}
END_TEST

/* SOCKS4 has one message: the pipeline flag changes nothing. */
START_TEST(socks4_pipeline_flag_unchanged)
{
	static const uint8_t want[] = {4, 1, 0, 80, 198, 18, 0, 9, 0};
	static const uint8_t granted[] = {0, 0x5a, 0, 0, 0, 0, 0, 0};
	const struct peer_step steps[] = {READ(sizeof(want)),
					  SEND_LATE(granted), END()};
	struct proxy p = proxy_socks4(PROXY_SOCKS4, NULL);
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;

	p.pipeline = true;
	ck_assert_int_eq(
	    run_against(steps, &p, &d, HANDSHAKE_CONNECT, &hs, &peer), 0);
	assert_sent(&peer, want, sizeof(want), NULL, 0);
	ck_assert_uint_eq(round_trips, 1);
	ck_assert_uint_eq(recv_calls, 1);
}
END_TEST

/* ---- BIND: the first reply, then the second one (RFC 1928 section 6) ---- */

/* SOCKS5: BND 198.18.0.1:4000 (first), then the peer 198.18.0.9:5555
 * (second), then the peer's first bytes. */
#define S5_FIRST	  5, 0, 0, 1, 198, 18, 0, 1, 0x0f, 0xa0
#define S5_SECOND	  5, 0, 0, 1, 198, 18, 0, 9, 0x15, 0xb3
#define S5_SECOND_NAME	  5, 0, 0, 3, 4, 'p', 'e', 'e', 'r', 0x15, 0xb3
#define S5_SECOND_REFUSED 5, 5, 0, 1, 0, 0, 0, 0, 0, 0
/* SOCKS4: BND 198.18.0.1:4000, then 198.18.0.9:5555. */
#define S4_FIRST	  0, 0x5a, 0x0f, 0xa0, 198, 18, 0, 1
#define S4_SECOND	  0, 0x5a, 0x15, 0xb3, 198, 18, 0, 9
#define S4_SECOND_REFUSED 0, 0x5b, 0, 0, 0, 0, 0, 0
#define APP		  'D', 'A', 'T', 'A'

static const uint8_t s5_first[] = {S5_FIRST};
static const uint8_t s5_second_app[] = {S5_SECOND, APP};
static const uint8_t s5_both_app[] = {S5_FIRST, S5_SECOND, APP};
static const uint8_t s5_both_name_app[] = {S5_FIRST, S5_SECOND_NAME, APP};
static const uint8_t s5_refused[] = {S5_SECOND_REFUSED};
static const uint8_t s4_first[] = {S4_FIRST};
static const uint8_t s4_second_app[] = {S4_SECOND, APP};
static const uint8_t s4_both_app[] = {S4_FIRST, S4_SECOND, APP};
static const uint8_t s4_refused[] = {S4_SECOND_REFUSED};

struct bind_case {
	bool socks4;
	struct peer_step steps[6];
	int second_rc;	  /* what the second reply's run returns */
	bool peer_named;  /* the second reply names the peer "peer" */
	bool app_follows; /* "DATA" must still be in the socket */
};

static const struct bind_case bind_cases[] = {
    /* Each reply in its own write, the second late. */
    {false,
     {READ(3), SEND(method_none), READ(10), SEND(s5_first),
      SEND_LATE(s5_second_app), END()},
     0,
     false,
     true},
    /* Both replies and data coalesced into one write. */
    {false,
     {READ(3), SEND(method_none), READ(10), SEND(s5_both_app), END()},
     0,
     false,
     true},
    {false,
     {READ(3), SEND(method_none), READ(10), SEND(s5_both_name_app), END()},
     0,
     true,
     true},
    /* Split: every byte in its own write. */
    {false,
     {READ(3), SEND(method_none), READ(10), SEND_SLOW(s5_both_app), END()},
     0,
     false,
     true},
    {false,
     {READ(3), SEND(method_none), READ(10), SEND(s5_first),
      SEND_LATE(s5_refused), END()},
     -ECONNREFUSED,
     false,
     false},
    /* The proxy gives up on the remote host by closing. */
    {false,
     {READ(3), SEND(method_none), READ(10), SEND(s5_first), CLOSE()},
     -ECONNRESET,
     false,
     false},
    {true,
     {READ(9), SEND(s4_first), SEND_LATE(s4_second_app), END()},
     0,
     false,
     true},
    {true, {READ(9), SEND(s4_both_app), END()}, 0, false, true},
    {true, {READ(9), SEND_SLOW(s4_both_app), END()}, 0, false, true},
    {true,
     {READ(9), SEND(s4_first), SEND_LATE(s4_refused), END()},
     -ECONNREFUSED,
     false,
     false},
};

/* The remote peer's endpoint as the second reply gives it. */
static void assert_bind_peer(const struct handshake *hs, bool named)
{
	static const uint8_t peer_ip[] = {198, 18, 0, 9};

	ck_assert_uint_eq(hs->bound.port, 5555);
	if (named) {
		ck_assert_int_eq(hs->bound.kind, ENDPOINT_NAME);
		ck_assert_str_eq(hs->bound.u.name, "peer");
		return;
	}
	ck_assert_int_eq(hs->bound.kind, ENDPOINT_IPV4);
	ck_assert_mem_eq(hs->bound.u.ipv4, peer_ip, 4);
}

/* Read exactly len bytes from the non-blocking client (a slow peer sends
 * them one at a time). */
static void read_app(int client, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		ck_assert_int_eq(
		    netio_wait(&io, client, POLLIN, deadline_in(1000)), 0);
		n = recv(client, buf + got, len - got, 0);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
}

START_TEST(bind_two_replies)
{
	static const uint8_t bnd_ip[] = {198, 18, 0, 1};
	const struct bind_case *c = &bind_cases[_i];
	struct proxy p =
	    c->socks4 ? proxy_socks4(PROXY_SOCKS4, NULL) : proxy_socks5(0);
	struct endpoint zeros = {.kind = ENDPOINT_IPV4};
	struct handshake hs;
	struct peer peer;
	char app[16];
	int client = peer_begin(&peer, c->steps);

	handshake_init(&hs, &p, &zeros, HANDSHAKE_BIND);
	ck_assert_int_eq(handshake_run(&hs, &io, client, deadline_in(2000)), 0);
	ck_assert_int_eq(hs.bound.kind, ENDPOINT_IPV4);
	ck_assert_mem_eq(hs.bound.u.ipv4, bnd_ip, 4);
	ck_assert_uint_eq(hs.bound.port, 4000);
	handshake_init_bind_reply(&hs, &p);
	ck_assert_int_eq(handshake_run(&hs, &io, client, deadline_in(2000)),
			 c->second_rc);
	if (c->second_rc == 0)
		assert_bind_peer(&hs, c->peer_named);
	if (c->app_follows) {
		read_app(client, app, 4);
		ck_assert_mem_eq(app, "DATA", 4);
	}
	peer_finish(&peer, client);
	if (c->socks4)
		ck_assert_uint_eq(peer.got[1], SOCKS4_CMD_BIND);
	else
		ck_assert_uint_eq(peer.got[3 + 1], SOCKS5_CMD_BIND);
}
END_TEST

/* A second-reply machine sends nothing and is waiting for input. */
START_TEST(bind_reply_waits_without_sending)
{
	const struct peer_step steps[] = {END()};
	struct proxy p = proxy_socks5(0);
	struct handshake hs;
	struct peer peer;
	short events = 0;
	int client = peer_begin(&peer, steps);

	handshake_init_bind_reply(&hs, &p);
	ck_assert_int_eq(handshake_step(&hs, &io, client, &events), -EAGAIN);
	ck_assert_int_eq(events, POLLIN);
	peer_finish(&peer, client);
	ck_assert_uint_eq(peer.got_len, 0);
}
END_TEST

static Suite *handshake_suite(void)
{
	Suite *s = suite_create("handshake");
	TCase *ok = tcase_create("socks5 success");
	TCase *bad = tcase_create("socks5 failures");
	TCase *v4 = tcase_create("socks4");
	TCase *pipe = tcase_create("pipelining");
	TCase *bind = tcase_create("bind");

	tcase_add_test(ok, socks5_no_auth_ipv4);
	tcase_add_test(ok, socks5_userpass_name);
	tcase_add_test(ok, socks5_auth_offered_none_chosen);
	tcase_add_test(ok, socks5_byte_by_byte);
	tcase_add_test(ok, socks5_coalesced_app_data);
	tcase_add_test(ok, socks5_bind_and_udp_commands);
	tcase_add_test(ok, socks5_tor_resolve_commands);
	tcase_add_test(ok, step_reports_events);
	tcase_add_test(bad, socks5_truncated_reply);
	tcase_add_test(bad, socks5_closed_after_greeting);
	tcase_add_loop_test(bad, socks5_corrupt, 0,
			    sizeof(corrupt_cases) / sizeof(corrupt_cases[0]));
	tcase_add_test(bad, socks5_corrupt_whys_distinct);
	tcase_add_loop_test(bad, socks5_reply_codes, 0, 12);
	tcase_add_test(bad, socks5_silent_proxy_times_out);
	tcase_add_test(bad, abandon_ends_once);
	tcase_add_test(bad, socks5_name_too_long_sends_nothing);
	tcase_add_test(v4, socks4_connect_with_user);
	tcase_add_test(v4, socks4a_name_coalesced);
	tcase_add_test(v4, socks4_refusals);
	tcase_add_test(v4, socks4_bad_version);
	tcase_add_test(v4, socks4_unsupported_sends_nothing);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	tcase_add_test(pipe, pipelined_no_auth_one_write);
	tcase_add_test(pipe, pipelined_auth_one_write);
	tcase_add_loop_test(pipe, pipelined_answers_coalesced, 0, 2);
	tcase_add_test(pipe, pipelined_shortest_reply_keeps_app_data);
	tcase_add_test(pipe, pipelined_byte_by_byte);
	tcase_add_test(pipe, pipelined_auth_ignored);
	tcase_add_loop_test(pipe, pipelined_corrupt, 0,
			    sizeof(corrupt_cases) / sizeof(corrupt_cases[0]));
	tcase_add_loop_test(pipe, round_trips_counted, 0,
			    sizeof(rtt_cases) / sizeof(rtt_cases[0]));
	tcase_add_test(pipe, socks4_pipeline_flag_unchanged);
	suite_add_tcase(s, v4);
	suite_add_tcase(s, pipe);
	tcase_add_loop_test(bind, bind_two_replies, 0,
			    sizeof(bind_cases) / sizeof(bind_cases[0]));
	tcase_add_test(bind, bind_reply_waits_without_sending);
	suite_add_tcase(s, bind);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handshake_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
