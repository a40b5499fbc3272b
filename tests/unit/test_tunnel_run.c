/* test_tunnel_run.c — the resumable proxy chain over a socketpair: the test
 * plays the proxy step by step, checking that every step returns at once
 * with what it waits for, that the server's first bytes stay unread, and
 * that refusals and deadlines end the run. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "tunnel.h"

static int io_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return connect(fd, sa, len);
}

static ssize_t io_send(int fd, const void *buf, size_t len, int flags)
{
	return send(fd, buf, len, flags | MSG_DONTWAIT);
}

static ssize_t io_recv(int fd, void *buf, size_t len, int flags)
{
	return recv(fd, buf, len, flags | MSG_DONTWAIT);
}

static int io_getsockopt(int fd, int level, int name, void *val,
			 socklen_t *len)
{
	return getsockopt(fd, level, name, val, len);
}

static const struct socket_io io = {
    .connect = io_connect,
    .send = io_send,
    .recv = io_recv,
    .poll = poll,
    .getsockopt = io_getsockopt,
};

static struct config cfg;
static struct endpoint dest;
static struct tunnel_run tr;
static int sv[2]; /* sv[0]: the program's side; sv[1]: the proxy */

static void setup(void)
{
	config_defaults(&cfg);
	ck_assert_int_eq(endpoint_set_name(&dest, "example.com", 11, 80), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	tunnel_run_init(&tr, &cfg, &dest, HANDSHAKE_CONNECT, 1000);
}

static void teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

/* The proxy reads exactly want (with a bound) and compares. */
static void proxy_expect(const void *want, size_t len)
{
	unsigned char buf[64];

	ck_assert_uint_le(len, sizeof buf);
	ck_assert_int_eq(recv(sv[1], buf, len, MSG_WAITALL), (int)len);
	ck_assert_mem_eq(buf, want, len);
}

static int step(uint64_t now, short *events)
{
	*events = 0;
	return tunnel_run_step(&tr, &io, sv[0], now, events);
}

START_TEST(runs_to_the_end_without_blocking)
{
	static const uint8_t greeting[] = {5, 1, 0};
	static const uint8_t request[] = {5, 1, 0, 3, 11, 'e', 'x', 'a', 'm',
					  'p', 'l', 'e', '.', 'c', 'o', 'm',
					  0, 80};
	static const uint8_t reply[] = {5, 0, 0, 1, 1, 2, 3, 4, 0, 9,
					'S', 'S', 'H', '-'};
	char banner[8];
	short ev;

	ck_assert_int_eq(step(1001, &ev), -EAGAIN);
	ck_assert_int_eq(ev, POLLIN);
	ck_assert_int_eq(tr.phase, TUNNEL_HOP);
	proxy_expect(greeting, sizeof greeting);
	ck_assert_int_eq(step(1002, &ev), -EAGAIN); /* nothing came yet */
	ck_assert_int_eq(send(sv[1], "\5\0", 2, 0), 2);
	ck_assert_int_eq(step(1003, &ev), -EAGAIN);
	ck_assert_int_eq(ev, POLLIN);
	proxy_expect(request, sizeof request);
	ck_assert_int_eq(send(sv[1], reply, sizeof reply, 0), sizeof reply);
	ck_assert_int_eq(step(1004, &ev), 0);
	ck_assert_int_eq(tr.phase, TUNNEL_DONE);
	ck_assert_int_eq(tr.res.hop, -1);
	ck_assert_uint_eq(tr.res.bound.port, 9);
	/* The server's banner is the application's. */
	ck_assert_int_eq(recv(sv[0], banner, sizeof banner, MSG_DONTWAIT), 4);
	ck_assert_mem_eq(banner, "SSH-", 4);
	ck_assert_int_eq(step(99999, &ev), 0);
}
END_TEST

START_TEST(refusal_is_mapped)
{
	static const uint8_t refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
	unsigned char skip[64];
	short ev;

	ck_assert_int_eq(step(1001, &ev), -EAGAIN);
	ck_assert_int_eq(send(sv[1], "\5\0", 2, 0), 2);
	ck_assert_int_eq(step(1002, &ev), -EAGAIN);
	ck_assert_int_gt(recv(sv[1], skip, sizeof skip, 0), 0);
	ck_assert_int_eq(send(sv[1], refused, sizeof refused, 0),
			 sizeof refused);
	ck_assert_int_eq(step(1003, &ev), -ECONNREFUSED);
	ck_assert_int_eq(tr.phase, TUNNEL_FAILED);
	ck_assert_ptr_nonnull(tr.res.why);
	ck_assert_int_eq(step(1004, &ev), -ECONNREFUSED);
}
END_TEST

START_TEST(handshake_deadline)
{
	short ev;

	ck_assert_int_eq(step(1001, &ev), -EAGAIN);
	ck_assert_uint_eq(tunnel_run_deadline(&tr),
			  1001 + cfg.handshake_timeout_ms);
	ck_assert_int_eq(step(1001 + cfg.handshake_timeout_ms - 1, &ev),
			 -EAGAIN);
	ck_assert_int_eq(step(1001 + cfg.handshake_timeout_ms, &ev),
			 -ETIMEDOUT);
	ck_assert_str_eq(tr.res.why, "the proxy's handshake timed out");
}
END_TEST

START_TEST(proxy_closes)
{
	short ev;

	ck_assert_int_eq(step(1001, &ev), -EAGAIN);
	ck_assert_int_eq(shutdown(sv[1], SHUT_RDWR), 0);
	ck_assert_int_eq(step(1002, &ev), -ECONNRESET);
}
END_TEST

START_TEST(connect_deadline)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	short ev;

	/* An unconnected TCP socket never polls writable as "connected":
	 * it shows POLLHUP, which counts as a failed connect. */
	ck_assert_int_ge(s, 0);
	ev = 0;
	ck_assert_int_eq(tunnel_run_step(&tr, &io, s, 1001, &ev),
			 -ECONNREFUSED);
	close(s);
	tunnel_run_init(&tr, &cfg, &dest, HANDSHAKE_CONNECT, 1000);
	ck_assert_uint_eq(tunnel_run_deadline(&tr),
			  1000 + cfg.connect_timeout_ms);
}
END_TEST

START_TEST(no_proxy)
{
	short ev;

	cfg.proxy_count = 0;
	tunnel_run_init(&tr, &cfg, &dest, HANDSHAKE_CONNECT, 0);
	ck_assert_int_eq(step(1, &ev), -EINVAL);
}
END_TEST

static Suite *tunnel_run_suite(void)
{
	Suite *s = suite_create("tunnel_run");
	TCase *tc = tcase_create("steps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, runs_to_the_end_without_blocking);
	tcase_add_test(tc, refusal_is_mapped);
	tcase_add_test(tc, handshake_deadline);
	tcase_add_test(tc, proxy_closes);
	tcase_add_test(tc, connect_deadline);
	tcase_add_test(tc, no_proxy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tunnel_run_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
