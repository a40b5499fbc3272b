/* test_fakedns_many.c — a long run never runs out of names: a million
 * distinct names in one process with the default capacity, every one
 * answered, each index given once, and the memory they cost. Skipped under
 * valgrind (minutes there, and nothing it checks is new to it). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fakedns.h"
#include "libc_io.h"

#define MANY_NAMES 1000000u

static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload &&
	       (strstr(preload, "vgpreload") || strstr(preload, "valgrind"));
}

/* A field of /proc/self/status in KiB ("VmSize:", "RssShmem:"), or -1. */
static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	size_t flen = strlen(field);
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, flen) == 0)
			kib = strtol(line + flen, NULL, 10);
	fclose(f);
	return kib;
}

static int name_of(char *buf, size_t cap, uint32_t i)
{
	return snprintf(buf, cap, "host-%u.many.socksify.test", i);
}

START_TEST(a_million_names)
{
	struct config cfg;
	struct fakedns *t = NULL;
	long vm_before = status_kib("VmSize:");
	long shm_before = status_kib("RssShmem:");
	long vm_after, shm_after;
	char name[64], back[256];

	if (under_valgrind())
		return;
	config_defaults(&cfg);
	ck_assert_uint_ge(cfg.fake_entries, MANY_NAMES);
	ck_assert_int_eq(
	    fakedns_attach(&libc_sys_io, &t, NULL, cfg.fake_entries), 0);
	for (uint32_t i = 0; i < MANY_NAMES; i++) {
		int len = name_of(name, sizeof name, i);

		/* Entries are claimed densely: name i is index i. */
		ck_assert_int_eq(fakedns_lookup(t, name, (size_t)len), i);
	}
	ck_assert_uint_eq(fakedns_count(t), MANY_NAMES);
	for (uint32_t i = 0; i < MANY_NAMES; i += 997) {
		int len = name_of(name, sizeof name, i);

		ck_assert_int_eq(fakedns_lookup(t, name, (size_t)len), i);
		ck_assert_int_eq(fakedns_name(t, i, back, sizeof back), len);
		ck_assert_str_eq(back, name);
	}
	ck_assert_uint_eq(fakedns_count(t), MANY_NAMES);
	vm_after = status_kib("VmSize:");
	shm_after = status_kib("RssShmem:");
	printf("%u names: address space +%ld MiB, resident shared memory "
	       "+%ld MiB\n",
	       MANY_NAMES, (vm_after - vm_before) / 1024,
	       (shm_after - shm_before) / 1024);
	/* 260 bytes an entry and 8 index bytes a name, in whole pages: well
	 * under 300 MiB; the reservation for 2^24 names is about 4.2 GiB. */
	if (shm_before >= 0 && shm_after >= 0)
		ck_assert_int_lt(shm_after - shm_before, 300 * 1024);
	fakedns_detach(t);
}
END_TEST

/* A capacity just past one segment fills completely, then refuses,
 * and keeps every name it has. */
START_TEST(segments_fill_exactly)
{
	const uint32_t capacity = 65536 + 1000;
	struct fakedns *t = NULL;
	char name[64];

	if (under_valgrind())
		return;
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, NULL, capacity), 0);
	for (uint32_t i = 0; i < capacity; i++) {
		int len = name_of(name, sizeof name, i);

		ck_assert_int_eq(fakedns_lookup(t, name, (size_t)len), i);
	}
	ck_assert_int_eq(fakedns_lookup(t, "one.more.test", 13), -ENOSPC);
	for (uint32_t i = 0; i < capacity; i += 101) {
		int len = name_of(name, sizeof name, i);

		ck_assert_int_eq(fakedns_lookup(t, name, (size_t)len), i);
	}
	ck_assert_uint_eq(fakedns_count(t), capacity);
	fakedns_detach(t);
}
END_TEST

/* Under a tight RLIMIT_AS (room for a segment, not for 2^24 names) an
 * anonymous table still comes, with one segment. In a child: the limit
 * stays there. */
START_TEST(tight_address_space)
{
	pid_t pid;
	int status;

	if (under_valgrind())
		return;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit limit;
		struct fakedns *t = NULL;
		long vm = status_kib("VmSize:");

		if (vm < 0)
			_exit(2);
		limit.rlim_cur = limit.rlim_max =
		    ((rlim_t)vm << 10) + ((rlim_t)1 << 30);
		if (setrlimit(RLIMIT_AS, &limit) != 0 ||
		    fakedns_attach(&libc_sys_io, &t, NULL, 1u << 24) != 0)
			_exit(3);
		if (fakedns_capacity(t) != 65536 ||
		    fakedns_lookup(t, "still.works.test", 16) != 0)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

#define EDGE_THREADS 4
#define EDGE_NAMES   3000
#define EDGE_PREFILL (65536 - 1000)

static pthread_barrier_t edge_start;

struct edge_arg {
	struct fakedns *table;
	unsigned id;
	long seen[EDGE_NAMES];
};

static int edge_name(char *buf, size_t cap, unsigned n)
{
	return snprintf(buf, cap, "edge-%u.many.socksify.test", n);
}

/* Insert every name, each thread in its own order, recording the index. */
static void *edge_body(void *p)
{
	struct edge_arg *arg = p;
	char name[64];

	pthread_barrier_wait(&edge_start);
	for (unsigned k = 0; k < EDGE_NAMES; k++) {
		unsigned n = (k * 7 + arg->id * 331) % EDGE_NAMES;
		int len = edge_name(name, sizeof name, n);

		arg->seen[n] = fakedns_lookup(arg->table, name, (size_t)len);
	}
	return NULL;
}

/* Threads racing over the first segment's end: every index any of them
 * was given leads back to its own name (an address never has two names),
 * and a later lookup agrees with the name's entry. */
START_TEST(threads_across_a_segment_boundary)
{
	static struct edge_arg args[EDGE_THREADS];
	pthread_t threads[EDGE_THREADS];
	struct fakedns *t = NULL;
	char name[64], back[256];

	if (under_valgrind())
		return;
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, NULL, 1u << 20), 0);
	for (uint32_t i = 0; i < EDGE_PREFILL; i++) {
		int len = name_of(name, sizeof name, i);

		ck_assert_int_eq(fakedns_lookup(t, name, (size_t)len), i);
	}
	pthread_barrier_init(&edge_start, NULL, EDGE_THREADS);
	for (unsigned i = 0; i < EDGE_THREADS; i++) {
		args[i].table = t;
		args[i].id = i;
		ck_assert_int_eq(
		    pthread_create(&threads[i], NULL, edge_body, &args[i]), 0);
	}
	for (unsigned i = 0; i < EDGE_THREADS; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&edge_start);
	for (unsigned n = 0; n < EDGE_NAMES; n++) {
		int len = edge_name(name, sizeof name, n);
		long again = fakedns_lookup(t, name, (size_t)len);

		ck_assert_int_ge(again, EDGE_PREFILL);
		ck_assert_int_eq(
		    fakedns_name(t, (uint32_t)again, back, sizeof back), len);
		ck_assert_str_eq(back, name);
		for (unsigned i = 0; i < EDGE_THREADS; i++) {
			ck_assert_int_ge(args[i].seen[n], EDGE_PREFILL);
			ck_assert_int_eq(fakedns_name(t,
						      (uint32_t)args[i].seen[n],
						      back, sizeof back),
					 len);
			ck_assert_str_eq(back, name);
		}
	}
	ck_assert_uint_gt(fakedns_count(t), 65536);
	fakedns_detach(t);
}
END_TEST

static Suite *many_suite(void)
{
	Suite *s = suite_create("fakedns_many");
	TCase *tc = tcase_create("many");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, a_million_names);
	tcase_add_test(tc, segments_fill_exactly);
	tcase_add_test(tc, tight_address_space);
	tcase_add_test(tc, threads_across_a_segment_boundary);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(many_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
