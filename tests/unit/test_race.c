/* test_race.c — the race of a group's chains (race.c) over socketpairs:
 * a silent first lane and an answering second one started after the
 * delay, a first lane that answers before the delay (no second lane), a
 * lane that fails at once (the next starts without waiting), every lane
 * failing, a failure that ends the race, and race_finish() closing the
 * losers' extra sockets (never lane 0's, never the winner's). */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "race.h"

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

/* What each lane's proxy does. */
enum peer { PEER_SILENT, PEER_ANSWERS, PEER_CLOSED };

struct fixture {
	struct config cfg;
	struct endpoint dest;
	enum peer peer[RACE_LANES_MAX];
	int far[RACE_LANES_MAX]; /* the proxies' ends */
	unsigned starts, failures;
	int failed_rc[RACE_LANES_MAX];
	bool slower[RACE_LANES_MAX]; /* told so by race_finish() */
	int closed[RACE_LANES_MAX];  /* the fds race_finish() closed */
	unsigned nclosed;
	bool go_on; /* what failed() answers */
};

/* SOCKS5: method "no authentication", then success, bound 0.0.0.0:0. */
static const unsigned char answer[] = {5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0};

static int fx_start(void *ctx, unsigned at, struct race_lane *lane)
{
	struct fixture *fx = ctx;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int sv[2];

	fx->starts++;
	ck_assert_int_eq(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	lane->fd = sv[0];
	fx->far[at] = sv[1];
	if (fx->peer[at] == PEER_ANSWERS)
		ck_assert_int_eq(write(sv[1], answer, sizeof answer),
				 sizeof answer);
	if (fx->peer[at] == PEER_CLOSED) {
		close(sv[1]);
		fx->far[at] = -1;
	}
	return race_lane_connect(lane, &pair_io, &fx->cfg, 1, 0, &fx->dest,
				 (struct sockaddr *)&sa, sizeof sa);
}

static bool fx_failed(void *ctx, unsigned at, struct race_lane *lane, int rc)
{
	struct fixture *fx = ctx;

	(void)lane;
	fx->failures++;
	fx->failed_rc[at] = rc;
	return fx->go_on;
}

static struct fixture fx;

static void fx_slower(void *ctx, unsigned at)
{
	struct fixture *f = ctx;

	ck_assert(!f->slower[at]);
	f->slower[at] = true;
}

static int fx_close(int fd)
{
	fx.closed[fx.nclosed++] = fd;
	return close(fd);
}

static const struct race_ops fx_ops = {.start = fx_start,
				       .failed = fx_failed,
				       .slower = fx_slower,
				       .close = fx_close};
static struct race_lane lanes[RACE_LANES_MAX];

static void setup(void)
{
	static const char text[] = "proxy socks5://10.0.0.9\n"
				   "chain a socks5://10.0.0.1\n"
				   "connect_timeout 2\n"
				   "handshake_timeout 2\n";
	struct sockaddr_in dest = {.sin_family = AF_INET,
				   .sin_port = htons(80),
				   .sin_addr.s_addr = htonl(0x01020304)};

	memset(&fx, 0, sizeof fx);
	memset(lanes, 0, sizeof lanes);
	config_defaults(&fx.cfg);
	ck_assert_int_eq(config_parse(&fx.cfg, text, strlen(text), "t.conf"),
			 0);
	ck_assert_int_eq(config_finish(&fx.cfg), 0);
	ck_assert_int_eq(endpoint_from_sockaddr(
			     &fx.dest, (struct sockaddr *)&dest, sizeof dest),
			 0);
	fx.go_on = true;
	for (unsigned i = 0; i < RACE_LANES_MAX; i++)
		fx.far[i] = lanes[i].fd = -1;
}

static void teardown(void)
{
	for (unsigned i = 0; i < RACE_LANES_MAX; i++) {
		if (fx.far[i] >= 0)
			close(fx.far[i]);
		if (lanes[i].fd >= 0)
			close(lanes[i].fd);
	}
}

/* The silent first lane keeps running while the second one, started
 * after the delay, opens first and wins. */
START_TEST(second_wins_after_delay)
{
	uint64_t t0 = netio_now_ms(), took;
	int win;

	fx.peer[0] = PEER_SILENT;
	fx.peer[1] = PEER_ANSWERS;
	win = race_run(&fx_ops, &fx, &pair_io, lanes, 2, 100);
	took = netio_now_ms() - t0;
	ck_assert_int_eq(win, 1);
	ck_assert_int_eq(lanes[1].run.phase, TUNNEL_DONE);
	ck_assert(lanes[0].running); /* the loser is the caller's to close */
	ck_assert_uint_eq(fx.failures, 0);
	ck_assert_uint_ge(took, 100);
	ck_assert_uint_lt(took, 1500);
}
END_TEST

/* A first lane that opens within the delay wins alone. */
START_TEST(first_wins_alone)
{
	fx.peer[0] = PEER_ANSWERS;
	fx.peer[1] = PEER_ANSWERS;
	ck_assert_int_eq(race_run(&fx_ops, &fx, &pair_io, lanes, 2, 1000), 0);
	ck_assert_uint_eq(fx.starts, 1);
}
END_TEST

/* A lane that fails starts the next one at once, not after the delay. */
START_TEST(failure_starts_next_at_once)
{
	uint64_t t0 = netio_now_ms();

	fx.peer[0] = PEER_CLOSED;
	fx.peer[1] = PEER_ANSWERS;
	ck_assert_int_eq(race_run(&fx_ops, &fx, &pair_io, lanes, 2, 5000), 1);
	ck_assert_uint_lt(netio_now_ms() - t0, 1000);
	ck_assert_uint_eq(fx.failures, 1);
	ck_assert_int_lt(fx.failed_rc[0], 0);
}
END_TEST

/* Every lane fails: the last failure is the answer. */
START_TEST(all_fail)
{
	fx.peer[0] = PEER_CLOSED;
	fx.peer[1] = PEER_CLOSED;
	fx.peer[2] = PEER_CLOSED;
	ck_assert_int_eq(race_run(&fx_ops, &fx, &pair_io, lanes, 3, 5000),
			 fx.failed_rc[2]);
	ck_assert_uint_eq(fx.failures, 3);
	ck_assert_int_lt(fx.failed_rc[2], 0);
}
END_TEST

/* A failure that failed() stops (the destination's) ends the race. */
START_TEST(failure_that_stops)
{
	fx.peer[0] = PEER_CLOSED;
	fx.peer[1] = PEER_ANSWERS;
	fx.go_on = false;
	ck_assert_int_eq(race_run(&fx_ops, &fx, &pair_io, lanes, 2, 0),
			 fx.failed_rc[0]);
	ck_assert_uint_eq(fx.starts, 1);
}
END_TEST

/* Lanes 0 and 1 silent, 2 the winner: race_finish() tells of 0 and 1,
 * closes lane 1's extra socket but neither lane 0's (the program's) nor
 * the winner's. */
START_TEST(finish_closes_losers)
{
	int fd0, fd2;

	fx.peer[2] = PEER_ANSWERS;
	ck_assert_int_eq(race_run(&fx_ops, &fx, &pair_io, lanes, 3, 50), 2);
	fd0 = lanes[0].fd;
	fd2 = lanes[2].fd;
	race_finish(&fx_ops, &fx, lanes, 3, 2);
	ck_assert(fx.slower[0] && fx.slower[1] && !fx.slower[2]);
	ck_assert_uint_eq(fx.nclosed, 1);
	ck_assert_int_ge(fx.closed[0], 0);
	ck_assert_int_eq(lanes[1].fd, -1);
	ck_assert(!lanes[0].running && !lanes[1].running);
	ck_assert_int_eq(lanes[0].fd, fd0);
	ck_assert_int_eq(lanes[2].fd, fd2);
	ck_assert_int_eq(lanes[2].run.phase, TUNNEL_DONE);
}
END_TEST

/* No winner: the failed lanes are not "slower", and every extra socket
 * is closed; lanes that never started have none. */
START_TEST(finish_without_winner)
{
	int fd0;

	fx.peer[0] = PEER_CLOSED;
	fx.peer[1] = PEER_CLOSED;
	fx.go_on = false;
	ck_assert_int_lt(race_run(&fx_ops, &fx, &pair_io, lanes, 3, 0), 0);
	fd0 = lanes[0].fd;
	race_finish(&fx_ops, &fx, lanes, 3, -1);
	ck_assert(!fx.slower[0] && !fx.slower[1] && !fx.slower[2]);
	ck_assert_uint_eq(fx.nclosed, 0); /* only lane 0 started */
	ck_assert_int_eq(lanes[0].fd, fd0);
	ck_assert_int_eq(lanes[2].fd, -1);
}
END_TEST

static Suite *race_suite(void)
{
	Suite *s = suite_create("race");
	TCase *tc = tcase_create("race");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_wins_after_delay);
	tcase_add_test(tc, first_wins_alone);
	tcase_add_test(tc, failure_starts_next_at_once);
	tcase_add_test(tc, all_fail);
	tcase_add_test(tc, failure_that_stops);
	tcase_add_test(tc, finish_closes_losers);
	tcase_add_test(tc, finish_without_winner);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(race_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
