/* test_hostsfile.c — /etc/hosts text kept between lookups: kept while the
 * file's identity holds, read again after an edit, never kept when changed
 * just before the read, used when no descriptor is free, references. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostsfile.h"
#include "libc_io.h"

static char dir[] = "/tmp/sfy-hostsfile-XXXXXX";
static char path[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(
	    mkdtemp(strcpy(dir, "/tmp/sfy-hostsfile-XXXXXX")));
	snprintf(path, sizeof path, "%s/hosts", dir);
}

static void teardown(void)
{
	char tmp[80];

	snprintf(tmp, sizeof tmp, "%s/new", dir);
	unlink(tmp);
	unlink(path);
	rmdir(dir);
}

/* Write text to path in place (same inode when it exists). */
static void write_in_place(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Replace path by a new file (a new inode), as editors and sed -i do. */
static void write_replacing(const char *text)
{
	char tmp[80];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s/new", dir);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static struct hostsfile_text *get(struct hostsfile_cache *c,
				  const struct sys_io *io)
{
	int err = -1;
	struct hostsfile_text *t = hostsfile_get(c, io, path, &err);

	ck_assert_int_eq(err, 0);
	ck_assert_ptr_nonnull(t);
	return t;
}

static int no_descriptor_openat(int dirfd, const char *p, int flags, ...)
{
	(void)dirfd;
	(void)p;
	(void)flags;
	errno = EMFILE;
	return -1;
}

static const struct sys_io no_descriptor_io = {
    .openat = no_descriptor_openat,
    .read = read,
    .write = write,
    .close = close,
    .fstat = fstat,
};

START_TEST(kept_while_the_file_stays_the_same)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(1 << 20);
	struct hostsfile_text *a, *b;

	c.settle_ns = 0;
	write_in_place("192.0.2.1 one\n");
	a = get(&c, &libc_sys_io);
	ck_assert_str_eq(a->text, "192.0.2.1 one\n");
	ck_assert_uint_eq(a->len, 14);
	b = get(&c, &libc_sys_io);
	ck_assert_ptr_eq(a, b);
	hostsfile_release(&c, a);
	hostsfile_release(&c, b);
	hostsfile_clear(&c);
}
END_TEST

START_TEST(an_edit_is_read_at_once)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(1 << 20);
	struct hostsfile_text *a, *b, *d;

	c.settle_ns = 0;
	write_in_place("192.0.2.1 one\n");
	a = get(&c, &libc_sys_io);
	write_replacing("192.0.2.2 one\n");
	b = get(&c, &libc_sys_io);
	ck_assert_str_eq(b->text, "192.0.2.2 one\n");
	write_in_place("192.0.2.3 one two\n");
	d = get(&c, &libc_sys_io);
	ck_assert_str_eq(d->text, "192.0.2.3 one two\n");
	/* The first text is still the caller's, unchanged, after both. */
	ck_assert_str_eq(a->text, "192.0.2.1 one\n");
	hostsfile_release(&c, a);
	hostsfile_release(&c, b);
	hostsfile_release(&c, d);
	hostsfile_clear(&c);
}
END_TEST

/* Changed within the settling time: used, not kept, so a same-size write
 * in the same clock tick cannot leave a stale copy. */
START_TEST(a_file_changed_just_now_is_not_kept)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(1 << 20);
	struct hostsfile_text *a, *b;

	write_in_place("192.0.2.1 one\n");
	a = get(&c, &libc_sys_io);
	ck_assert_ptr_null(c.kept);
	write_in_place("192.0.2.9 one\n");
	b = get(&c, &libc_sys_io);
	ck_assert_ptr_ne(a, b);
	ck_assert_str_eq(b->text, "192.0.2.9 one\n");
	hostsfile_release(&c, a);
	hostsfile_release(&c, b);
}
END_TEST

START_TEST(no_descriptor_free_uses_the_kept_text)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(1 << 20);
	struct hostsfile_text *a, *b;
	int err = 0;

	c.settle_ns = 0;
	write_in_place("192.0.2.1 one\n");
	/* Never read: the lookup must fail (EMFILE), not find no names. */
	ck_assert_ptr_null(hostsfile_get(&c, &no_descriptor_io, path, &err));
	ck_assert_int_eq(err, EMFILE);
	a = get(&c, &libc_sys_io);
	b = get(&c, &no_descriptor_io);
	ck_assert_ptr_eq(a, b);
	hostsfile_release(&c, a);
	hostsfile_release(&c, b);
	/* Edited since: it must be read again, and cannot be. */
	write_replacing("192.0.2.2 one\n");
	ck_assert_ptr_null(hostsfile_get(&c, &no_descriptor_io, path, &err));
	ck_assert_int_eq(err, EMFILE);
	hostsfile_clear(&c);
}
END_TEST

START_TEST(missing_or_not_a_file_means_no_names)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(1 << 20);
	int err = -1;

	c.settle_ns = 0;
	ck_assert_ptr_null(hostsfile_get(&c, &libc_sys_io, path, &err));
	ck_assert_int_eq(err, 0);
	err = -1;
	ck_assert_ptr_null(hostsfile_get(&c, &libc_sys_io, dir, &err));
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_null(c.kept);
}
END_TEST

START_TEST(at_most_max_bytes)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(4);
	struct hostsfile_text *a;

	c.settle_ns = 0;
	write_in_place("0123456789");
	a = get(&c, &libc_sys_io);
	ck_assert_uint_eq(a->len, 4);
	ck_assert_str_eq(a->text, "0123");
	hostsfile_release(&c, a);
	hostsfile_clear(&c);
}
END_TEST

START_TEST(errors_that_mean_no_names)
{
	ck_assert(hostsfile_error_means_no_names(ENOENT));
	ck_assert(hostsfile_error_means_no_names(EACCES));
	ck_assert(hostsfile_error_means_no_names(EISDIR));
	ck_assert(!hostsfile_error_means_no_names(EMFILE));
	ck_assert(!hostsfile_error_means_no_names(ENFILE));
	ck_assert(!hostsfile_error_means_no_names(ENOMEM));
	ck_assert(!hostsfile_error_means_no_names(EIO));
	ck_assert(!hostsfile_error_means_no_names(ESTALE));
	ck_assert(!hostsfile_error_means_no_names(ENOTCONN));
}
END_TEST

/* An empty file is kept (and read as ""); a character device that says
 * size 0 (/dev/null) is read but never kept. */
START_TEST(empty_and_not_regular)
{
	struct hostsfile_cache c = HOSTSFILE_CACHE_INIT(1 << 20);
	struct hostsfile_text *a;
	int err = -1;

	c.settle_ns = 0;
	write_in_place("");
	a = get(&c, &libc_sys_io);
	ck_assert_uint_eq(a->len, 0);
	ck_assert_str_eq(a->text, "");
	ck_assert_ptr_eq(c.kept, a);
	hostsfile_release(&c, a);
	hostsfile_clear(&c);
	a = hostsfile_get(&c, &libc_sys_io, "/dev/null", &err);
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->len, 0);
	ck_assert_ptr_null(c.kept);
	hostsfile_release(&c, a);
}
END_TEST

/* Threads looking up while the file is replaced and a child is forked:
 * every text they get is one of the versions written, whole (each 15
 * bytes); the child's
 * lookup works (the fork handlers leave the lock free). Run under TSan by
 * make check-tsan. */
#define HF_THREADS 4
#define HF_ROUNDS  2000
#define HF_EDITS   40

static struct hostsfile_cache shared = HOSTSFILE_CACHE_INIT(1 << 20);
static atomic_int hf_bad;

static void hf_prepare(void)
{
	hostsfile_fork_prepare(&shared);
}

static void hf_parent(void)
{
	hostsfile_fork_parent(&shared);
}

static void hf_child(void)
{
	hostsfile_fork_child(&shared);
}

static void *hf_reader(void *arg)
{
	int i, err;

	(void)arg;
	for (i = 0; i < HF_ROUNDS; i++) {
		struct hostsfile_text *t =
		    hostsfile_get(&shared, &libc_sys_io, path, &err);

		if (!t || err || t->len != 15 ||
		    strncmp(t->text, "192.0.2.", 8) != 0 ||
		    strcmp(t->text + 10, " one\n") != 0)
			atomic_fetch_add(&hf_bad, 1);
		hostsfile_release(&shared, t);
	}
	return NULL;
}

START_TEST(threads_edits_and_fork)
{
	pthread_t th[HF_THREADS];
	char text[32], verdict = 0;
	int i, status, pipefd[2];
	pid_t pid = -1;

	shared.settle_ns = 0;
	ck_assert_int_eq(pthread_atfork(hf_prepare, hf_parent, hf_child), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	write_replacing("192.0.2.10 one\n");
	for (i = 0; i < HF_THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hf_reader, NULL),
				 0);
	for (i = 0; i < HF_EDITS; i++) {
		snprintf(text, sizeof text, "192.0.2.%02d one\n", 10 + i % 80);
		write_replacing(text);
		if (i == HF_EDITS / 2) {
			pid = fork();
			if (pid == 0) {
				/* The verdict goes through the pipe and the
				 * child ends by SIGKILL: no exit processing
				 * (TSan would report the parent's threads,
				 * which the child does not have, as leaked). */
				int err;
				struct hostsfile_text *t = hostsfile_get(
				    &shared, &libc_sys_io, path, &err);
				char v = t && t->len == 15 ? 'y' : 'n';

				if (write(pipefd[1], &v, 1) != 1)
					v = 'n';
				raise(SIGKILL);
			}
		}
		usleep(1000);
	}
	for (i = 0; i < HF_THREADS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(read(pipefd[0], &verdict, 1), 1);
	ck_assert_int_eq(verdict, 'y');
	close(pipefd[0]);
	close(pipefd[1]);
	ck_assert_int_eq(atomic_load(&hf_bad), 0);
	hostsfile_clear(&shared);
}
END_TEST

static Suite *hostsfile_suite(void)
{
	Suite *s = suite_create("hostsfile");
	TCase *tc = tcase_create("hostsfile");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, kept_while_the_file_stays_the_same);
	tcase_add_test(tc, an_edit_is_read_at_once);
	tcase_add_test(tc, a_file_changed_just_now_is_not_kept);
	tcase_add_test(tc, no_descriptor_free_uses_the_kept_text);
	tcase_add_test(tc, missing_or_not_a_file_means_no_names);
	tcase_add_test(tc, at_most_max_bytes);
	tcase_add_test(tc, errors_that_mean_no_names);
	tcase_add_test(tc, empty_and_not_regular);
	tcase_add_test(tc, threads_edits_and_fork);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(hostsfile_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
