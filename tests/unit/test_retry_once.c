/* test_retry_once.c — a first-use step that failed for want of a
 * descriptor or memory runs again at the next call; success and a real
 * failure are final and never run again; a caller that will not wait goes
 * without while another run is under way; threads racing to the first use
 * run a succeeding step once; a fork child's lock is made anew. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "retry_once.h"

/* A scripted step: returns script[runs] (0 past the end), counts runs and
 * records the tries it was given. */
struct script {
	const int *rc;
	unsigned n;
	atomic_uint runs;
	unsigned tries_seen[8];
	atomic_bool set; /* what a real step would publish */
};

static int script_step(void *arg, unsigned tries)
{
	struct script *sc = arg;
	unsigned i = atomic_fetch_add(&sc->runs, 1);
	int rc = i < sc->n ? sc->rc[i] : 0;

	if (i < 8)
		sc->tries_seen[i] = tries;
	if (rc == 0)
		atomic_store(&sc->set, true);
	return rc;
}

START_TEST(short_then_success)
{
	static const int rc[] = {-EMFILE, -ENFILE, -ENOMEM, 0};
	struct retry_once r = RETRY_ONCE_INIT;
	struct script sc = {.rc = rc, .n = 4};

	ck_assert(!retry_once_run(&r, script_step, &sc, true));
	ck_assert(!retry_once_final(&r));
	ck_assert(!retry_once_run(&r, script_step, &sc, false));
	ck_assert(!retry_once_run(&r, script_step, &sc, true));
	ck_assert(retry_once_run(&r, script_step, &sc, true));
	ck_assert(retry_once_final(&r));
	ck_assert(atomic_load(&sc.set));
	ck_assert_uint_eq(atomic_load(&sc.runs), 4);
	/* Each run was told how many came short before it. */
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(sc.tries_seen[i], i);
	/* Final: never run again, waiting or not. */
	ck_assert(retry_once_run(&r, script_step, &sc, true));
	ck_assert(retry_once_run(&r, script_step, &sc, false));
	ck_assert_uint_eq(atomic_load(&sc.runs), 4);
}
END_TEST

START_TEST(real_failure_is_final)
{
	static const int rc[] = {-EMFILE, -EPERM, 0};
	struct retry_once r = RETRY_ONCE_INIT;
	struct script sc = {.rc = rc, .n = 3};

	ck_assert(!retry_once_run(&r, script_step, &sc, true));
	/* A damaged or foreign file: final, not tried at every call. */
	ck_assert(retry_once_run(&r, script_step, &sc, true));
	ck_assert(retry_once_run(&r, script_step, &sc, true));
	ck_assert(retry_once_run(&r, script_step, &sc, false));
	ck_assert_uint_eq(atomic_load(&sc.runs), 2);
	ck_assert(!atomic_load(&sc.set));
}
END_TEST

START_TEST(short_errors_only)
{
	ck_assert(retry_once_short(-EMFILE));
	ck_assert(retry_once_short(-ENFILE));
	ck_assert(retry_once_short(-ENOMEM));
	ck_assert(!retry_once_short(0));
	ck_assert(!retry_once_short(-EPERM));
	ck_assert(!retry_once_short(-EINVAL));
	ck_assert(!retry_once_short(-ELOOP));
	ck_assert(!retry_once_short(-ENOSPC));
	ck_assert(!retry_once_short(-EACCES));
	ck_assert(!retry_once_short(EMFILE)); /* -errno only */
}
END_TEST

/* A run under way in another thread (its lock held): a caller that will
 * not wait returns at once without running the step. */
START_TEST(busy_without_waiting)
{
	struct retry_once r = RETRY_ONCE_INIT;
	struct script sc = {.n = 0};

	pthread_mutex_lock(&r.lock);
	ck_assert(!retry_once_run(&r, script_step, &sc, false));
	ck_assert_uint_eq(atomic_load(&sc.runs), 0);
	pthread_mutex_unlock(&r.lock);
	ck_assert(retry_once_run(&r, script_step, &sc, false));
	ck_assert_uint_eq(atomic_load(&sc.runs), 1);
}
END_TEST

#define RACERS 16

struct racer {
	struct retry_once *r;
	struct script *sc;
	pthread_barrier_t *start;
	bool final, set;
};

static void *racer_main(void *arg)
{
	struct racer *t = arg;

	pthread_barrier_wait(t->start);
	t->final = retry_once_run(t->r, script_step, t->sc, true);
	t->set = atomic_load(&t->sc->set);
	return NULL;
}

/* Threads whose first use comes at once, the first run short of
 * descriptors: the step runs at most twice (once short, once final) and
 * every waiting caller that returns final sees what it set. */
START_TEST(threads_race)
{
	static const int rc[] = {-EMFILE, 0};
	struct retry_once r = RETRY_ONCE_INIT;
	struct script sc = {.rc = rc, .n = 2};
	struct racer t[RACERS];
	pthread_t id[RACERS];
	pthread_barrier_t start;
	unsigned finals = 0;

	ck_assert_int_eq(pthread_barrier_init(&start, NULL, RACERS), 0);
	for (int i = 0; i < RACERS; i++) {
		t[i] = (struct racer){.r = &r, .sc = &sc, .start = &start};
		ck_assert_int_eq(
		    pthread_create(&id[i], NULL, racer_main, &t[i]), 0);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(id[i], NULL);
		if (t[i].final) {
			ck_assert(t[i].set);
			finals++;
		}
	}
	pthread_barrier_destroy(&start);
	ck_assert_uint_eq(atomic_load(&sc.runs), 2);
	ck_assert_uint_eq(finals, RACERS - 1);
	ck_assert(retry_once_final(&r));
}
END_TEST

/* A fork child whose parent held the lock (another thread's run): the
 * child's run goes ahead instead of waiting forever. */
START_TEST(fork_child_lock)
{
	struct retry_once r = RETRY_ONCE_INIT;
	struct script sc = {.n = 0};
	int status;
	pid_t pid;

	pthread_mutex_lock(&r.lock);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		alarm(5);
		retry_once_after_fork(&r);
		_exit(retry_once_run(&r, script_step, &sc, true) &&
			      atomic_load(&sc.runs) == 1
			  ? 0
			  : 1);
	}
	pthread_mutex_unlock(&r.lock);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_uint_eq(atomic_load(&sc.runs), 0);
}
END_TEST

static Suite *retry_once_suite(void)
{
	Suite *s = suite_create("retry_once");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, short_then_success);
	tcase_add_test(tc, real_failure_is_final);
	tcase_add_test(tc, short_errors_only);
	tcase_add_test(tc, busy_without_waiting);
	tcase_add_test(tc, threads_race);
	tcase_add_test(tc, fork_child_lock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(retry_once_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
