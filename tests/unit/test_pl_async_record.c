/* test_pl_async_record.c — the bookkeeping of asynchronous handshakes
 * (preload/async_record.c): records, the descriptor map, aliases, the
 * pool's limits, the settle wait and the fork child's clean-up. Links
 * preload objects without hooks (see the Makefile's test_pl_ rule). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "async_internal.h"
#include "fdtab.h"
#include "libc_io.h"
#include "log.h"
#include "real.h"

/* real_init() finishes with the library's registration (preload/fdops.c),
 * which this suite does not link: nothing to register here. */
void preload_register(void)
{
}

static const struct endpoint asked = {.kind = ENDPOINT_IPV4, .port = 80};

/* The pool's size as configured (async_handshakes) for every test: not the
 * default, so that the pool is seen to follow it. The first claim of the
 * process maps the pool (tests may share one process: CK_FORK=no). */
#define TEST_RECORDS 37

/* Lines the log wrote to fd 2, counted, the last one kept. */
static int log_lines;
static char log_last[600];

static ssize_t counting_write(int fd, const void *buf, size_t len)
{
	size_t keep = len < sizeof(log_last) - 1 ? len : sizeof(log_last) - 1;

	if (fd == 2) {
		log_lines++;
		memcpy(log_last, buf, keep);
		log_last[keep] = '\0';
	}
	return (ssize_t)len;
}

static const struct sys_io counting_io = {
    .openat = openat,
    .read = read,
    .write = counting_write,
    .close = close,
    .fstat = fstat,
};

static void setup(void)
{
	real_init();
}

/* End rec however it stands (lock held). */
static void release(struct async_rec *rec)
{
	if (rec->state == REC_RUNNING)
		rec_settled();
	rec_free(rec);
}

/* The record the map gives for fd, checked under the lock, or NULL. */
static struct async_rec *lookup(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);

	if (rec)
		async_lock_release();
	return rec;
}

START_TEST(claim_maps_descriptor_and_counts)
{
	struct async_rec *rec;

	ck_assert(async_idle());
	async_lock_acquire();
	rec = rec_claim(7, &asked, TEST_RECORDS);
	async_lock_release();
	ck_assert_ptr_nonnull(rec);
	ck_assert_int_eq(rec->state, REC_RUNNING);
	ck_assert_int_eq(rec->nalias, 1);
	ck_assert_int_eq(rec->priv, -1);
	ck_assert(endpoint_equal(&rec->asked, &asked));
	ck_assert(!async_idle());
	ck_assert_ptr_eq(lookup(7), rec);
	ck_assert_ptr_null(lookup(8));
	async_lock_acquire();
	release(rec);
	async_lock_release();
	ck_assert(async_idle());
	ck_assert_ptr_null(lookup(7));
}
END_TEST

START_TEST(claim_refuses_bad_descriptors)
{
	async_lock_acquire();
	ck_assert_ptr_null(rec_claim(-1, &asked, TEST_RECORDS));
	ck_assert_ptr_null(rec_claim((int)FDTAB_MAX_FD, &asked, TEST_RECORDS));
	async_lock_release();
	ck_assert(async_idle());
}
END_TEST

START_TEST(aliases_follow_duplicates)
{
	struct async_rec *rec;

	async_lock_acquire();
	rec = rec_claim(10, &asked, TEST_RECORDS);
	ck_assert(rec_add_alias(rec, 11));
	ck_assert(rec_add_alias(rec, 11)); /* already there */
	ck_assert_int_eq(rec->nalias, 2);
	async_lock_release();
	ck_assert_ptr_eq(lookup(11), rec);
	async_lock_acquire();
	ck_assert_int_eq(rec_remove_alias(rec, 12), -1);
	ck_assert_int_eq(rec_remove_alias(rec, 10), 1);
	async_lock_release();
	ck_assert_ptr_null(lookup(10));
	ck_assert_ptr_eq(lookup(11), rec);
	async_lock_acquire();
	ck_assert_int_eq(rec_remove_alias(rec, 11), 0);
	release(rec);
	async_lock_release();
}
END_TEST

START_TEST(aliases_are_bounded)
{
	struct async_rec *rec;

	async_lock_acquire();
	rec = rec_claim(100, &asked, TEST_RECORDS);
	for (int i = 1; i < ASYNC_ALIASES; i++)
		ck_assert(rec_add_alias(rec, 100 + i));
	ck_assert(!rec_add_alias(rec, 100 + ASYNC_ALIASES));
	async_lock_release();
	ck_assert_ptr_null(lookup(100 + ASYNC_ALIASES));
	async_lock_acquire();
	release(rec);
	async_lock_release();
	for (int i = 0; i < ASYNC_ALIASES; i++)
		ck_assert_ptr_null(lookup(100 + i));
}
END_TEST

START_TEST(removing_alias_drops_its_registrations)
{
	struct async_rec *rec;

	async_lock_acquire();
	rec = rec_claim(20, &asked, TEST_RECORDS);
	rec_add_alias(rec, 21);
	rec->regs[0] = (struct async_reg){.epfd = 5, .tfd = 20};
	rec->regs[1] = (struct async_reg){.epfd = 5, .tfd = 21};
	rec->regs[2] = (struct async_reg){.epfd = 6, .tfd = 20};
	rec->nregs = 3;
	rec_remove_alias(rec, 20);
	ck_assert_int_eq(rec->nregs, 1);
	ck_assert_int_eq(rec->regs[0].tfd, 21);
	release(rec);
	async_lock_release();
}
END_TEST

/* Claim every record of the pool (lock held), for descriptors from 1000;
 * one more claim must fail. */
static void fill_pool(struct async_rec **recs)
{
	for (int i = 0; i < TEST_RECORDS; i++) {
		recs[i] = rec_claim(1000 + i, &asked, TEST_RECORDS);
		ck_assert_ptr_nonnull(recs[i]);
	}
	ck_assert_uint_eq(async_rec_count(), TEST_RECORDS);
	ck_assert_ptr_null(rec_claim(5000, &asked, TEST_RECORDS));
}

START_TEST(pool_is_bounded_and_slots_are_reused)
{
	static struct async_rec *recs[TEST_RECORDS];
	uint32_t gen;

	log_set_io(&counting_io);
	log_setup(LOG_WARN, NULL);
	log_lines = 0;
	async_lock_acquire();
	fill_pool(recs);
	/* A later capacity does not resize the pool. */
	ck_assert_ptr_null(rec_claim(5001, &asked, TEST_RECORDS * 2));
	ck_assert_int_eq(log_lines, 1); /* told once, not at every connect */
	ck_assert_ptr_nonnull(strstr(log_last, "all 37 asynchronous handshake "
					       "slots are busy"));
	ck_assert_ptr_nonnull(strstr(log_last, "async_handshakes"));
	gen = recs[3]->gen;
	release(recs[3]);
	recs[3] = rec_claim(5000, &asked, TEST_RECORDS);
	ck_assert_ptr_nonnull(recs[3]);
	ck_assert_uint_eq(recs[3]->gen, gen + 1);
	for (int i = 0; i < TEST_RECORDS; i++)
		release(recs[i]);
	async_lock_release();
	ck_assert(async_idle());
	/* A fork child is another process: it is told again. */
	async_record_after_fork_child(NULL);
	async_lock_acquire();
	fill_pool(recs);
	for (int i = 0; i < TEST_RECORDS; i++)
		release(recs[i]);
	async_lock_release();
	ck_assert_int_eq(log_lines, 2);
	log_set_io(&libc_sys_io);
}
END_TEST

START_TEST(eventfd_closes_only_when_unused)
{
	struct async_rec *rec;
	int efd;

	async_lock_acquire();
	rec = rec_claim(30, &asked, TEST_RECORDS);
	efd = eventfd(0, EFD_CLOEXEC);
	rec->efd = efd;
	rec->pollers = 1;
	release(rec); /* free, but a poller still waits on it */
	ck_assert_int_eq(rec->efd, efd);
	ck_assert_int_ge(fcntl(efd, F_GETFD), 0);
	rec->pollers = 0;
	rec_close_efd_if_unused(rec);
	ck_assert_int_eq(rec->efd, -1);
	ck_assert_int_lt(fcntl(efd, F_GETFD), 0);
	async_lock_release();
}
END_TEST

START_TEST(settle_wait_returns_when_nothing_runs)
{
	struct async_rec *rec;

	async_lock_acquire();
	rec = rec_claim(40, &asked, TEST_RECORDS);
	rec_settled(); /* as rec_stop does */
	rec->state = REC_FAILED;
	async_wait_settled_locked(); /* would wait a second per round */
	ck_assert(!async_idle());    /* failed, error not reported */
	rec_free(rec);
	async_lock_release();
	ck_assert(async_idle());
}
END_TEST

static int privates_closed;

static void close_private(struct async_rec *rec)
{
	close(rec->priv);
	rec->priv = -1;
	privates_closed++;
}

START_TEST(fork_child_drops_running_records)
{
	struct async_rec *running, *failed;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	async_lock_acquire();
	running = rec_claim(50, &asked, TEST_RECORDS);
	running->priv = sv[0];
	running->pollers = 2;
	failed = rec_claim(51, &asked, TEST_RECORDS);
	rec_settled();
	failed->state = REC_FAILED;
	async_lock_release();
	privates_closed = 0;
	async_record_after_fork_child(close_private);
	ck_assert_int_eq(privates_closed, 1);
	ck_assert_int_eq(running->state, REC_FREE);
	ck_assert_int_eq(running->pollers, 0);
	ck_assert_ptr_null(lookup(50));
	ck_assert_ptr_eq(lookup(51), failed); /* its error is still owed */
	async_lock_acquire();
	rec_free(failed);
	async_lock_release();
	ck_assert(async_idle());
	close(sv[1]);
}
END_TEST

static Suite *async_record_suite(void)
{
	Suite *s = suite_create("async_record");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, claim_maps_descriptor_and_counts);
	tcase_add_test(tc, claim_refuses_bad_descriptors);
	tcase_add_test(tc, aliases_follow_duplicates);
	tcase_add_test(tc, aliases_are_bounded);
	tcase_add_test(tc, removing_alias_drops_its_registrations);
	tcase_add_test(tc, pool_is_bounded_and_slots_are_reused);
	tcase_add_test(tc, eventfd_closes_only_when_unused);
	tcase_add_test(tc, settle_wait_returns_when_nothing_runs);
	tcase_add_test(tc, fork_child_drops_running_records);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(async_record_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? 1 : 0;
}
