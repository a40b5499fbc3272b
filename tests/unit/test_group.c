/* test_group.c — connection plans over chains and groups: failover order,
 * down members skipped and retried after down_time, all members down,
 * round-robin (also from many threads at once), random, nested groups;
 * the shared health table; which failures are the proxy's. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group.h"
#include "libc_io.h"

static struct config cfg;
static struct health *h;

static void setup_text(const char *text)
{
	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, text, strlen(text), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
	ck_assert_int_eq(health_attach(&libc_sys_io, NULL, &h), 0);
}

static const char conf[] = "chain a socks5h://10.0.0.1\n"	  /* 1 */
			   "chain b socks5h://10.0.0.2\n"	  /* 2 */
			   "chain c socks5h://10.0.0.3\n"	  /* 3 */
			   "group fo failover a b c\n"		  /* 0 */
			   "group rr round-robin a b c\n"	  /* 1 */
			   "group rnd random a b c\n"		  /* 2 */
			   "group nest failover rr default fo\n"; /* 3 */

static const struct route_target group_fo = {TARGET_GROUP, 0};
static const struct route_target group_rr = {TARGET_GROUP, 1};
static const struct route_target group_rnd = {TARGET_GROUP, 2};
static const struct route_target group_nest = {TARGET_GROUP, 3};

START_TEST(single_chain)
{
	struct group_plan plan;

	setup_text(conf);
	group_plan(&cfg, h, (struct route_target){TARGET_CHAIN, 2}, 1000,
		   &plan);
	ck_assert_uint_eq(plan.count, 1);
	ck_assert_uint_eq(plan.chains[0], 2);
	health_mark_down(h, 2, 5000);
	group_plan(&cfg, h, (struct route_target){TARGET_CHAIN, 2}, 1000,
		   &plan);
	ck_assert_uint_eq(plan.count, 1); /* alone and down: tried anyway */
	ck_assert(plan.all_down);
}
END_TEST

START_TEST(failover_skips_down)
{
	struct group_plan plan;

	setup_text(conf);
	group_plan(&cfg, h, group_fo, 1000, &plan);
	ck_assert_uint_eq(plan.count, 3);
	ck_assert_uint_eq(plan.chains[0], 1);
	ck_assert_uint_eq(plan.chains[2], 3);
	health_mark_down(h, 1, 1000 + cfg.down_time_ms);
	group_plan(&cfg, h, group_fo, 1000, &plan);
	ck_assert_uint_eq(plan.count, 2);
	ck_assert_uint_eq(plan.chains[0], 2);
	ck_assert(!plan.all_down);
	/* After down_time the member is tried again, first. */
	group_plan(&cfg, h, group_fo, 1000 + cfg.down_time_ms, &plan);
	ck_assert_uint_eq(plan.count, 3);
	ck_assert_uint_eq(plan.chains[0], 1);
	health_mark_down(h, 1, 9000);
	health_mark_up(h, 1);
	ck_assert(!health_is_down(h, 1, 1000));
}
END_TEST

START_TEST(all_down_retries_all)
{
	struct group_plan plan;

	setup_text(conf);
	for (unsigned i = 1; i <= 3; i++)
		health_mark_down(h, i, 5000);
	group_plan(&cfg, h, group_fo, 1000, &plan);
	ck_assert(plan.all_down);
	ck_assert_uint_eq(plan.count, 3);
	ck_assert_uint_eq(plan.chains[0], 1);
	ck_assert_uint_eq(plan.chains[1], 2);
}
END_TEST

START_TEST(round_robin_turns)
{
	struct group_plan plan;
	unsigned seen[4] = {0};

	setup_text(conf);
	for (unsigned i = 0; i < 9; i++) {
		group_plan(&cfg, h, group_rr, 1000, &plan);
		ck_assert_uint_eq(plan.count, 3);
		ck_assert_uint_eq(plan.chains[0], 1 + i % 3);
		/* The rest follow, wrapping: a failover within the turn. */
		ck_assert_uint_eq(plan.chains[1], 1 + (i + 1) % 3);
		seen[plan.chains[0]]++;
	}
	ck_assert_uint_eq(seen[1], 3);
	health_mark_down(h, 2, 5000);
	for (unsigned i = 0; i < 6; i++) {
		group_plan(&cfg, h, group_rr, 1000, &plan);
		ck_assert_uint_eq(plan.count, 2);
		ck_assert_uint_ne(plan.chains[0], 2);
		ck_assert_uint_ne(plan.chains[1], 2);
	}
}
END_TEST

#define THREADS		 16
#define PLANS_PER_THREAD 300

static void *rr_thread(void *arg)
{
	unsigned *counts = arg;
	struct group_plan plan;

	for (unsigned i = 0; i < PLANS_PER_THREAD; i++) {
		group_plan(&cfg, h, group_rr, 1000, &plan);
		counts[plan.chains[0]]++;
	}
	return NULL;
}

START_TEST(round_robin_threads)
{
	pthread_t t[THREADS];
	unsigned counts[THREADS][4];
	unsigned total[4] = {0};

	setup_text(conf);
	memset(counts, 0, sizeof counts);
	for (unsigned i = 0; i < THREADS; i++)
		ck_assert_int_eq(
		    pthread_create(&t[i], NULL, rr_thread, counts[i]), 0);
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		for (unsigned c = 1; c <= 3; c++)
			total[c] += counts[i][c];
	}
	/* One shared counter: exactly even over the three members. */
	for (unsigned c = 1; c <= 3; c++)
		ck_assert_uint_eq(total[c], THREADS * PLANS_PER_THREAD / 3);
}
END_TEST

START_TEST(random_spreads)
{
	struct group_plan plan;
	unsigned seen[4] = {0};

	setup_text(conf);
	for (unsigned i = 0; i < 300; i++) {
		group_plan(&cfg, h, group_rnd, 1000, &plan);
		ck_assert_uint_eq(plan.count, 3);
		seen[plan.chains[0]]++;
	}
	for (unsigned c = 1; c <= 3; c++)
		ck_assert_uint_gt(seen[c], 50);
	health_mark_down(h, 3, 5000);
	for (unsigned i = 0; i < 50; i++) {
		group_plan(&cfg, h, group_rnd, 1000, &plan);
		ck_assert_uint_eq(plan.count, 2);
		ck_assert_uint_ne(plan.chains[0], 3);
	}
}
END_TEST

START_TEST(nested_groups)
{
	struct group_plan plan;

	setup_text(conf);
	group_plan(&cfg, h, group_nest, 1000, &plan);
	/* rr (a b c from its turn), then default; fo adds nothing new. */
	ck_assert_uint_eq(plan.count, 4);
	ck_assert_uint_eq(plan.chains[0], 1);
	ck_assert_uint_eq(plan.chains[3], CONFIG_DEFAULT_CHAIN);
	group_plan(&cfg, h, group_nest, 1000, &plan);
	ck_assert_uint_eq(plan.chains[0], 2);
}
END_TEST

START_TEST(no_health_table)
{
	struct group_plan plan;

	setup_text(conf);
	health_mark_down(NULL, 1, 5000);
	ck_assert(!health_is_down(NULL, 1, 1000));
	group_plan(&cfg, NULL, group_rr, 1000, &plan);
	ck_assert_uint_eq(plan.count, 3);
}
END_TEST

START_TEST(shared_file)
{
	char path[] = "/tmp/test_group_XXXXXX";
	struct health *a, *b;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(health_attach(&libc_sys_io, path, &a), 0);
	ck_assert_int_eq(health_attach(&libc_sys_io, path, &b), 0);
	health_mark_down(a, 4, 7000);
	ck_assert(health_is_down(b, 4, 6999));
	ck_assert(!health_is_down(b, 4, 7000));
	chmod(path, 0644);
	ck_assert_int_eq(health_attach(&libc_sys_io, path, &b), -EPERM);
	unlink(path);
}
END_TEST

START_TEST(race_head_start)
{
	struct group_plan plan;

	setup_text("chain a socks5h://10.0.0.1\n"
		   "chain b socks5h://10.0.0.2\n"
		   "group r race a b default\n"
		   "group f failover a b\n"
		   "race_delay 100ms\n");
	group_plan(&cfg, h, (struct route_target){TARGET_GROUP, 0}, 1000,
		   &plan);
	ck_assert(plan.race);
	ck_assert_uint_eq(group_connect_ms(&cfg, &plan, 0), 100);
	ck_assert_uint_eq(group_connect_ms(&cfg, &plan, 1), 100);
	ck_assert_uint_eq(group_connect_ms(&cfg, &plan, 2), 0); /* the last */
	group_plan(&cfg, h, (struct route_target){TARGET_GROUP, 1}, 1000,
		   &plan);
	ck_assert(!plan.race);
	ck_assert_uint_eq(group_connect_ms(&cfg, &plan, 0), 0);
}
END_TEST

/* The winner of a race becomes the member the group's next plans start
 * at (shared in h), wrapping over the others; a nested group counts as
 * one member. */
START_TEST(race_winner_preferred)
{
	const struct route_target race = {TARGET_GROUP, 1};
	struct group_plan plan;

	setup_text("chain a socks5h://10.0.0.1\n"
		   "chain b socks5h://10.0.0.2\n"
		   "chain c socks5h://10.0.0.3\n"
		   "group bc failover b c\n"
		   "group r race a bc default\n");
	group_plan(&cfg, h, race, 1000, &plan);
	ck_assert_uint_eq(plan.count, 4);
	ck_assert_uint_eq(plan.chains[0], 1);
	ck_assert_uint_eq(plan.member[2], 1); /* c came from bc */
	group_race_won(h, &plan, 2);	      /* c won: member bc */
	ck_assert_uint_eq(health_preferred(h, 1), 1);
	group_plan(&cfg, h, race, 1000, &plan);
	ck_assert_uint_eq(plan.count, 4);
	ck_assert_uint_eq(plan.chains[0], 2); /* bc: b, c */
	ck_assert_uint_eq(plan.chains[1], 3);
	ck_assert_uint_eq(plan.chains[2], 0); /* default */
	ck_assert_uint_eq(plan.chains[3], 1); /* a, wrapped */
	ck_assert_uint_eq(plan.member[3], 0);
	health_mark_down(h, 2, 5000); /* b down: skipped, members kept */
	group_plan(&cfg, h, race, 1000, &plan);
	ck_assert_uint_eq(plan.count, 3);
	ck_assert_uint_eq(plan.chains[0], 3);
	ck_assert_uint_eq(plan.member[0], 1);
	ck_assert_uint_eq(plan.member[2], 0);
}
END_TEST

static const struct {
	int err;
	bool negotiating;
	int hop;
	unsigned hops;
	bool proxy_failed;
} blame[] = {
    {ECONNREFUSED, false, 0, 1, true}, /* the proxy's port is closed */
    {ETIMEDOUT, false, 0, 1, true},    /* black-holed proxy */
    {ETIMEDOUT, true, 0, 1, true},     /* handshake timed out */
    {ECONNRESET, true, 0, 1, true},    /* reset mid-handshake */
    {ECONNABORTED, true, 0, 1, true},  /* general failure */
    {EACCES, true, 0, 1, true},	       /* authentication, ruleset */
    {EPROTO, true, 0, 1, true},	       /* garbage */
    {ECONNREFUSED, true, 0, 1, false}, /* destination refused */
    {EHOSTUNREACH, true, 0, 1, false}, /* destination unreachable */
    {ENETUNREACH, true, 1, 2, false},  /* ... at the last hop */
    {EHOSTUNREACH, true, 0, 2, true},  /* hop 2 unreachable from hop 1 */
    {EHOSTUNREACH, false, 0, 1, true}, /* no route to the proxy */
};

START_TEST(who_failed)
{
	struct tunnel_result res = {.hop = blame[_i].hop,
				    .negotiating = blame[_i].negotiating};

	ck_assert(group_proxy_failed(blame[_i].err, &res, blame[_i].hops) ==
		  blame[_i].proxy_failed);
}
END_TEST

static Suite *group_suite(void)
{
	Suite *s = suite_create("group");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, single_chain);
	tcase_add_test(tc, failover_skips_down);
	tcase_add_test(tc, all_down_retries_all);
	tcase_add_test(tc, round_robin_turns);
	tcase_add_test(tc, round_robin_threads);
	tcase_add_test(tc, random_spreads);
	tcase_add_test(tc, nested_groups);
	tcase_add_test(tc, no_health_table);
	tcase_add_test(tc, shared_file);
	tcase_add_test(tc, race_head_start);
	tcase_add_test(tc, race_winner_preferred);
	tcase_add_loop_test(tc, who_failed, 0, sizeof blame / sizeof blame[0]);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(group_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
