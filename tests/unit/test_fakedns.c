/* test_fakedns.c — the shared name ↔ index map: round trips, normalisation,
 * sharing across attach and fork, threads, exhaustion, address arithmetic,
 * stale file collection. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakedns.h"
#include "libc_io.h"

#define LEN(s)	 strlen(s)
#define PATH_CAP 256

/* ---- helpers --------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fakedns-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* Remove tmpdir and the plain files and links inside it. */
static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	rmdir(tmpdir);
}

static void path_in_tmpdir(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", tmpdir, name);
}

static struct fakedns *attach_anon(uint32_t capacity)
{
	struct fakedns *t = NULL;

	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, NULL, capacity), 0);
	ck_assert_ptr_nonnull(t);
	return t;
}

static void assert_name(struct fakedns *t, long index, const char *want)
{
	char buf[256];

	ck_assert_int_ge(index, 0);
	ck_assert_int_eq(fakedns_name(t, (uint32_t)index, buf, sizeof(buf)),
			 (long)strlen(want));
	ck_assert_str_eq(buf, want);
}

/* Wait for a child and return its exit status (-1 when it did not exit). */
static int wait_child(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void create_file(const char *path, mode_t mode, size_t size, int fill)
{
	char block[512];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	memset(block, fill, sizeof(block));
	for (size_t done = 0; done < size; done += sizeof(block)) {
		size_t n =
		    size - done < sizeof(block) ? size - done : sizeof(block);
		ck_assert_int_eq(write(fd, block, n), (ssize_t)n);
	}
	close(fd);
}

/* ---- names ----------------------------------------------------------- */

START_TEST(round_trip)
{
	struct fakedns *t = attach_anon(16);
	char small[4];

	ck_assert_int_eq(fakedns_capacity(t), 16);
	ck_assert_int_eq(fakedns_count(t), 0);
	ck_assert_int_eq(fakedns_lookup(t, "example.com", 11), 0);
	ck_assert_int_eq(fakedns_lookup(t, "other.org", 9), 1);
	ck_assert_int_eq(fakedns_lookup(t, "example.com", 11), 0);
	ck_assert_int_eq(fakedns_count(t), 2);
	assert_name(t, 0, "example.com");
	assert_name(t, 1, "other.org");
	ck_assert_int_eq(fakedns_name(t, 2, small, sizeof(small)), -ENOENT);
	ck_assert_int_eq(fakedns_name(t, 999, small, sizeof(small)), -ENOENT);
	ck_assert_int_eq(fakedns_name(t, 1, small, sizeof(small)), -ENOSPC);
	/* The length given counts, not the NUL: "example" is another name. */
	ck_assert_int_eq(fakedns_lookup(t, "example.com", 7), 2);
	assert_name(t, 2, "example");
	fakedns_detach(t);
}
END_TEST

/* A fake address leads back to its name, with its port; an address
 * outside the ranges, an index with no name, or no table, to nothing. */
START_TEST(unfake_names_fake_addresses)
{
	struct fakedns *t = attach_anon(16);
	struct netmask v4, v6;
	struct endpoint ep, name;

	ck_assert_int_eq(netmask_parse(&v4, "240.0.0.0/4"), 0);
	ck_assert_int_eq(netmask_parse(&v6, "fd5c:6f63:6b73::/48"), 0);
	ck_assert_int_eq(fakedns_lookup(t, "example.com", 11), 0);
	ck_assert_int_eq(fakedns_index_to_addr(&v6, 0, &ep), 0);
	ep.port = 443;
	ck_assert(fakedns_in_ranges(&v4, &v6, &ep));
	ck_assert(fakedns_unfake(t, &v4, &v6, &ep, &name));
	ck_assert_int_eq(name.kind, ENDPOINT_NAME);
	ck_assert_str_eq(name.u.name, "example.com");
	ck_assert_uint_eq(name.port, 443);
	ck_assert(!fakedns_unfake(NULL, &v4, &v6, &ep, &name));
	ck_assert_int_eq(fakedns_index_to_addr(&v4, 5, &ep), 0);
	ck_assert(!fakedns_unfake(t, &v4, &v6, &ep, &name)); /* no name */
	ck_assert_int_eq(endpoint_parse_ip(&ep, "192.0.2.1"), 0);
	ck_assert(!fakedns_in_ranges(&v4, &v6, &ep));
	ck_assert(!fakedns_unfake(t, &v4, &v6, &ep, &name));
	fakedns_detach(t);
}
END_TEST

START_TEST(case_and_trailing_dot)
{
	struct fakedns *t = attach_anon(16);
	long i = fakedns_lookup(t, "WWW.Example.COM.", LEN("WWW.Example.COM."));

	ck_assert_int_eq(i, 0);
	ck_assert_int_eq(fakedns_lookup(t, "www.example.com", 15), i);
	ck_assert_int_eq(fakedns_lookup(t, "www.EXAMPLE.com.", 16), i);
	assert_name(t, i, "www.example.com");
	/* Only one dot is dropped: "a.." has an empty label, no name. */
	ck_assert_int_eq(fakedns_lookup(t, "www.example.com..", 17), -EINVAL);
	ck_assert_int_eq(fakedns_lookup(t, "www.example.com.", 16), i);
	ck_assert_int_eq(fakedns_count(t), 1);
	/* Non-ASCII bytes are kept as they are. */
	ck_assert_int_eq(fakedns_lookup(t, "\xc3\x84.de", 5), 1);
	ck_assert_int_eq(fakedns_lookup(t, "\xc3\xa4.de", 5), 2);
	/* Service labels keep their underscore. */
	ck_assert_int_eq(fakedns_lookup(t, "_srv._tcp.Example.com", 21), 3);
	assert_name(t, 3, "_srv._tcp.example.com");
	ck_assert_int_eq(fakedns_count(t), 4);
	fakedns_detach(t);
}
END_TEST

/* A name of n bytes: labels of 63 'a's (the last one shorter) joined by
 * dots, NUL-terminated in buf (cap > n). */
static void long_name(char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (i % 64 == 63) ? '.' : 'a';
	buf[n] = '\0';
}

START_TEST(bad_names)
{
	static const char *const bad[] = {
	    ".",     "..",     ".a",	 "a..",	 "a..b",   "a.b..",
	    "a b",   "a\tb",   "a/b",	 "a:80", "u@host", "a%2e",
	    "a\x7f", "a\x1b[", "host,b", "(x)",	 "a\\.b",  "*.test",
	};
	struct fakedns *t = attach_anon(16);
	char name[300];

	ck_assert_int_eq(fakedns_lookup(t, "", 0), -EINVAL);
	ck_assert_int_eq(fakedns_lookup(t, "a\0b", 3), -EINVAL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(fakedns_lookup(t, bad[i], strlen(bad[i])) ==
				  -EINVAL,
			      "accepted '%s'", bad[i]);
	/* A label of 64 bytes is one too many. */
	memset(name, 'a', sizeof(name));
	ck_assert_int_eq(fakedns_lookup(t, name, 64), -ENAMETOOLONG);
	ck_assert_int_eq(fakedns_count(t), 0);
	ck_assert_int_eq(fakedns_lookup(t, name, 63), 0);
	/* 254 bytes of name is one too many; 253 (plus the root dot) fits. */
	long_name(name, 254);
	ck_assert_int_eq(fakedns_lookup(t, name, 254), -ENAMETOOLONG);
	name[253] = '.';
	ck_assert_int_eq(fakedns_lookup(t, name, 254), 1);
	ck_assert_int_eq(fakedns_lookup(t, name, 253), 1);
	name[253] = '\0';
	assert_name(t, 1, name);
	ck_assert_int_eq(fakedns_count(t), 2);
	fakedns_detach(t);
}
END_TEST

START_TEST(exhaustion)
{
	struct fakedns *t = attach_anon(4);
	static const char *names[] = {"a.test", "b.test", "c.test", "d.test"};

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(fakedns_lookup(t, names[i], 6), i);
	ck_assert_int_eq(fakedns_lookup(t, "e.test", 6), -ENOSPC);
	ck_assert_int_eq(fakedns_lookup(t, "f.test", 6), -ENOSPC);
	ck_assert_int_eq(fakedns_count(t), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(fakedns_lookup(t, names[i], 6), i);
		assert_name(t, i, names[i]);
	}
	fakedns_detach(t);
}
END_TEST

START_TEST(bad_capacity)
{
	struct fakedns *t = NULL;

	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, NULL, 0), -EINVAL);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, NULL, 0xffffffffu),
			 -EINVAL);
	ck_assert_ptr_null(t);
}
END_TEST

/* ---- sharing --------------------------------------------------------- */

START_TEST(fork_after_attach)
{
	struct fakedns *t = attach_anon(64);
	pid_t pid;

	ck_assert_int_eq(fakedns_lookup(t, "parent.test", 11), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		long a = fakedns_lookup(t, "parent.test", 11);
		long b = fakedns_lookup(t, "child.test", 10);

		_exit(a == 0 && b == 1 ? 0 : 1);
	}
	ck_assert_int_eq(wait_child(pid), 0);
	ck_assert_int_eq(fakedns_count(t), 2);
	assert_name(t, 1, "child.test");
	ck_assert_int_eq(fakedns_lookup(t, "child.test", 10), 1);
	fakedns_detach(t);
}
END_TEST

/* Child body: join path (with another capacity), check the parent's name,
 * add its own. Exit status 0 on success. */
static int join_and_insert(const char *path)
{
	struct fakedns *t = NULL;
	char buf[64];

	if (fakedns_attach(&libc_sys_io, &t, path, 5) != 0 ||
	    fakedns_capacity(t) != 32)
		return 1;
	if (fakedns_name(t, 0, buf, sizeof(buf)) != 11 ||
	    strcmp(buf, "parent.test") != 0)
		return 2;
	if (fakedns_lookup(t, "PARENT.test", 11) != 0)
		return 3;
	if (fakedns_lookup(t, "child.test", 10) != 1)
		return 4;
	fakedns_detach(t);
	return 0;
}

START_TEST(file_shared_between_processes)
{
	struct fakedns *t = NULL;
	char path[PATH_CAP];
	struct stat st;
	pid_t pid;

	make_tmpdir();
	path_in_tmpdir(path, sizeof(path), "socksify-0-1-map");
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 32), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fakedns_lookup(t, "parent.test", 11), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(join_and_insert(path));
	ck_assert_int_eq(wait_child(pid), 0);
	assert_name(t, 1, "child.test");
	ck_assert_int_eq(fakedns_count(t), 2);
	fakedns_detach(t);
	/* A third attach, after everyone detached, still sees both. */
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 32), 0);
	ck_assert_int_eq(fakedns_lookup(t, "child.test", 10), 1);
	ck_assert_int_eq(fakedns_count(t), 2);
	fakedns_detach(t);
	remove_tmpdir();
}
END_TEST

#define CREATORS      6
#define CREATOR_NAMES 40

/* Child body: attach the (maybe not yet existing) file and insert the
 * shared names. Exit status 0 when every name reads back. */
static int create_race_child(const char *path, int id)
{
	struct fakedns *t = NULL;
	char name[32], buf[64];

	if (fakedns_attach(&libc_sys_io, &t, path, 256) != 0)
		return 1;
	for (int i = 0; i < CREATOR_NAMES; i++) {
		int n = (i + id * 7) % CREATOR_NAMES;
		int len = snprintf(name, sizeof(name), "n%d.race", n);
		long index = fakedns_lookup(t, name, (size_t)len);

		if (index < 0 ||
		    fakedns_name(t, (uint32_t)index, buf, sizeof(buf)) != len ||
		    strcmp(buf, name) != 0)
			return 2;
	}
	return 0;
}

START_TEST(concurrent_creators)
{
	struct fakedns *t = NULL;
	pid_t pids[CREATORS];
	char path[PATH_CAP], name[32], buf[64];

	make_tmpdir();
	path_in_tmpdir(path, sizeof(path), "race-map");
	for (int i = 0; i < CREATORS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			_exit(create_race_child(path, i));
	}
	for (int i = 0; i < CREATORS; i++)
		ck_assert_int_eq(wait_child(pids[i]), 0);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 256), 0);
	ck_assert_int_ge(fakedns_count(t), CREATOR_NAMES);
	/* Each name has one index: looking it up again adds nothing. */
	uint32_t count = fakedns_count(t);
	for (int n = 0; n < CREATOR_NAMES; n++) {
		int len = snprintf(name, sizeof(name), "n%d.race", n);
		long index = fakedns_lookup(t, name, (size_t)len);

		ck_assert_int_ge(index, 0);
		ck_assert_int_eq(
		    fakedns_name(t, (uint32_t)index, buf, sizeof(buf)), len);
		ck_assert_str_eq(buf, name);
	}
	ck_assert_int_eq(fakedns_count(t), count);
	fakedns_detach(t);
	remove_tmpdir();
}
END_TEST

START_TEST(join_rejects_bad_files)
{
	struct fakedns *t = NULL;
	char path[PATH_CAP], link[PATH_CAP];

	make_tmpdir();
	/* Wrong magic, plausible size. */
	path_in_tmpdir(path, sizeof(path), "garbage");
	create_file(path, 0600, 8192, 0xff);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), -EINVAL);
	/* Right magic cannot be faked without the layout: zero-filled file
	 * of the wrong size never gets a header. */
	path_in_tmpdir(path, sizeof(path), "empty");
	create_file(path, 0600, 0, 0);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), -EINVAL);
	/* Readable by others: not ours to trust. */
	path_in_tmpdir(path, sizeof(path), "public");
	create_file(path, 0644, 8192, 0);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), -EPERM);
	/* A symbolic link is never followed. */
	path_in_tmpdir(path, sizeof(path), "target");
	path_in_tmpdir(link, sizeof(link), "link");
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, link, 16), -ELOOP);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_ptr_null(t);
	remove_tmpdir();
}
END_TEST

/* A valid table file grown by a byte no longer matches its header. */
START_TEST(join_rejects_wrong_size)
{
	struct fakedns *t = NULL;
	char path[PATH_CAP];
	struct stat st;

	make_tmpdir();
	path_in_tmpdir(path, sizeof(path), "map");
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), 0);
	fakedns_detach(t);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size + 1), 0);
	t = NULL;
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), -EINVAL);
	ck_assert_ptr_null(t);
	remove_tmpdir();
}
END_TEST

/* Write count 32-bit words of value into path at offset. */
static void scribble(const char *path, off_t offset, uint32_t value,
		     size_t count)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < count; i++)
		ck_assert_int_eq(pwrite(fd, &value, sizeof value,
					offset + (off_t)(i * sizeof value)),
				 (ssize_t)sizeof value);
	close(fd);
}

/* Another process of the same user scribbles over the header and then the
 * whole table after we attached: our geometry stays what it was checked to
 * be; lookups fail or answer, never touch memory outside the mapping. */
START_TEST(damaged_after_attach)
{
	struct fakedns *t = NULL, *other = NULL;
	char path[PATH_CAP], buf[256];
	struct stat st;

	make_tmpdir();
	path_in_tmpdir(path, sizeof(path), "map");
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), 0);
	ck_assert_int_eq(fakedns_lookup(t, "a.test", 6), 0);
	/* Every header word after the magic: capacity, sizes, count. */
	scribble(path, 4, 0x7fffffff, 7);
	ck_assert_uint_eq(fakedns_capacity(t), 16);
	ck_assert_uint_eq(fakedns_count(t), 16);
	ck_assert_int_eq(fakedns_lookup(t, "a.test", 6), 0);
	ck_assert_int_eq(fakedns_lookup(t, "b.test", 6), -ENOSPC);
	assert_name(t, 0, "a.test");
	ck_assert_int_eq(fakedns_name(t, 15, buf, sizeof buf), -ENOENT);
	ck_assert_int_eq(fakedns_name(t, 0x7ffffff0, buf, sizeof buf), -ENOENT);
	/* A damaged file is not joined. */
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &other, path, 16),
			 -EINVAL);
	/* Everything after the header: slots and entries, all ones. */
	ck_assert_int_eq(stat(path, &st), 0);
	scribble(path, 4096, 0xffffffff, ((size_t)st.st_size - 4096) / 4);
	scribble(path, 20, 3, 1); /* count: three names claimed */
	/* Each name gets an entry (3, 4) but no empty slot to be found by. */
	ck_assert_int_eq(fakedns_lookup(t, "a.test", 6), -ENOSPC);
	ck_assert_int_eq(fakedns_lookup(t, "c.test", 6), -ENOSPC);
	assert_name(t, 3, "a.test");
	assert_name(t, 4, "c.test");
	for (uint32_t i = 0; i < 16; i++)
		if (i != 3 && i != 4)
			ck_assert_int_lt(fakedns_name(t, i, buf, sizeof buf),
					 0);
	fakedns_detach(t);
	remove_tmpdir();
}
END_TEST

/* A file cut short (by its owner) is never joined: its size no longer
 * matches the geometry its header claims. */
START_TEST(join_rejects_truncated)
{
	static const off_t cuts[] = {4096, 8192, 1 << 20};
	struct fakedns *t = NULL;
	char path[PATH_CAP];
	struct stat st;

	make_tmpdir();
	path_in_tmpdir(path, sizeof(path), "map");
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 100000), 0);
	ck_assert_int_eq(fakedns_lookup(t, "kept.test", 9), 0);
	fakedns_detach(t);
	ck_assert_int_eq(stat(path, &st), 0);
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		ck_assert_int_eq(truncate(path, st.st_size - cuts[i]), 0);
		t = NULL;
		ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16),
				 -EINVAL);
		ck_assert_ptr_null(t);
	}
	ck_assert_int_eq(truncate(path, 4096), 0);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &t, path, 16), -EINVAL);
	remove_tmpdir();
}
END_TEST

START_TEST(attach_preserves_errno)
{
	struct fakedns *t = NULL;

	errno = EDOM;
	ck_assert_int_eq(
	    fakedns_attach(&libc_sys_io, &t, "/nonexistent-dir/x/map", 16),
	    -ENOENT);
	ck_assert_int_eq(errno, EDOM);
}
END_TEST

/* The file is opened through the table fakedns_attach() is given: a table
 * that cannot open reports its own error. */
static int no_openat(int dirfd, const char *path, int flags, ...)
{
	(void)dirfd;
	(void)path;
	(void)flags;
	errno = EMFILE;
	return -1;
}

START_TEST(attach_goes_through_the_table)
{
	struct sys_io io = libc_sys_io;
	struct fakedns *t = NULL;
	char path[128];

	io.openat = no_openat;
	make_tmpdir();
	path_in_tmpdir(path, sizeof(path), "map");
	ck_assert_int_eq(fakedns_attach(&io, &t, path, 16), -EMFILE);
	ck_assert_ptr_null(t);
	remove_tmpdir();
}
END_TEST

/* ---- threads --------------------------------------------------------- */

#define THREADS	     8
#define THREAD_NAMES 300

static pthread_barrier_t thread_start;

struct thread_arg {
	struct fakedns *table;
	int id;
	long seen[THREAD_NAMES]; /* index observed for name n */
};

static int thread_name(int n, char *buf, size_t cap)
{
	return snprintf(buf, cap, "host-%d.thread.test", n);
}

/* Each thread inserts a different but overlapping window of the names, in
 * its own order, twice, and records what it saw (-2 for inconsistent). */
static void *thread_body(void *p)
{
	struct thread_arg *arg = p;
	char name[64];

	for (int n = 0; n < THREAD_NAMES; n++)
		arg->seen[n] = -1;
	pthread_barrier_wait(&thread_start);
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < THREAD_NAMES * 3 / 4; k++) {
			int n = (k * 7 + arg->id * 37) % THREAD_NAMES;
			int len = thread_name(n, name, sizeof(name));
			long i = fakedns_lookup(arg->table, name, (size_t)len);

			if (arg->seen[n] != -1 && arg->seen[n] != i)
				i = -2;
			arg->seen[n] = i;
		}
	}
	return NULL;
}

START_TEST(threads_agree)
{
	struct fakedns *t = attach_anon(THREADS * THREAD_NAMES);
	static struct thread_arg args[THREADS];
	pthread_t tids[THREADS];
	char name[64];

	ck_assert_int_eq(pthread_barrier_init(&thread_start, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		args[i].table = t;
		args[i].id = i;
		ck_assert_int_eq(
		    pthread_create(&tids[i], NULL, thread_body, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
	pthread_barrier_destroy(&thread_start);
	for (int n = 0; n < THREAD_NAMES; n++) {
		int len = thread_name(n, name, sizeof(name));
		long want = fakedns_lookup(t, name, (size_t)len);

		ck_assert_int_ge(want, 0);
		assert_name(t, want, name);
		for (int i = 0; i < THREADS; i++) {
			if (args[i].seen[n] != -1)
				ck_assert_int_eq(args[i].seen[n], want);
		}
	}
	/* A lost race leaves a duplicate entry behind, so the count may
	 * exceed the number of names, but never the number of inserts. */
	ck_assert_int_ge(fakedns_count(t), THREAD_NAMES);
	ck_assert_int_le(fakedns_count(t), THREADS * THREAD_NAMES);
	fakedns_detach(t);
}
END_TEST

/* ---- addresses ------------------------------------------------------- */

static struct netmask range(int family, const char *text, unsigned prefix)
{
	struct netmask net;

	memset(&net, 0, sizeof(net));
	net.family = family;
	net.prefix = prefix;
	ck_assert_int_eq(inet_pton(family, text, net.addr), 1);
	return net;
}

static struct endpoint ip(const char *text)
{
	struct endpoint ep;

	memset(&ep, 0, sizeof(ep));
	if (inet_pton(AF_INET, text, ep.u.ipv4) == 1) {
		ep.kind = ENDPOINT_IPV4;
	} else {
		ck_assert_int_eq(inet_pton(AF_INET6, text, ep.u.ipv6), 1);
		ep.kind = ENDPOINT_IPV6;
	}
	return ep;
}

/* index → address equals text, and text → the same index. */
static void assert_maps(const struct netmask *net, uint32_t index,
			const char *text)
{
	struct endpoint got, want = ip(text);

	ck_assert_int_eq(fakedns_index_to_addr(net, index, &got), 0);
	ck_assert_int_eq(got.kind, want.kind);
	ck_assert_int_eq(got.port, 0);
	ck_assert_mem_eq(&got.u, &want.u, 16);
	ck_assert_int_eq(fakedns_addr_to_index(net, &want), index);
}

START_TEST(addresses_ipv4)
{
	struct netmask net = range(AF_INET, "240.0.0.0", 4);
	struct netmask small = range(AF_INET, "198.18.0.0", 30);
	struct netmask tiny = range(AF_INET, "198.18.0.0", 31);
	struct endpoint ep;

	assert_maps(&net, 0, "240.0.0.1");
	assert_maps(&net, 255, "240.0.1.0");
	assert_maps(&net, 0x0ffffffd, "255.255.255.254");
	ck_assert_int_eq(fakedns_index_to_addr(&net, 0x0ffffffe, &ep), -ERANGE);
	ck_assert_int_eq(fakedns_index_to_addr(&net, 0xffffffffu, &ep),
			 -ERANGE);
	ep = ip("240.0.0.0");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("255.255.255.255");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("10.0.0.1");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("239.255.255.255");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("::1");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	memset(&ep, 0, sizeof(ep));
	ep.kind = ENDPOINT_NAME;
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);

	assert_maps(&small, 0, "198.18.0.1");
	assert_maps(&small, 1, "198.18.0.2");
	ck_assert_int_eq(fakedns_index_to_addr(&small, 2, &ep), -ERANGE);
	ep = ip("198.18.0.3");
	ck_assert_int_eq(fakedns_addr_to_index(&small, &ep), -1);
	ep = ip("198.18.0.5");
	ck_assert_int_eq(fakedns_addr_to_index(&small, &ep), -1);
	ck_assert_int_eq(fakedns_index_to_addr(&tiny, 0, &ep), -ERANGE);
}
END_TEST

START_TEST(addresses_ipv6)
{
	struct netmask net = range(AF_INET6, "fd5c:6f63:6b73::", 48);
	struct netmask small = range(AF_INET6, "2001:db8::100", 120);
	struct netmask v4 = range(AF_INET, "240.0.0.0", 4);
	struct endpoint ep, ep4;

	assert_maps(&net, 0, "fd5c:6f63:6b73::1");
	assert_maps(&net, 0xffff, "fd5c:6f63:6b73::1:0");
	assert_maps(&net, 0xfffffffeu, "fd5c:6f63:6b73::ffff:ffff");
	ck_assert_int_eq(fakedns_index_to_addr(&net, 0xffffffffu, &ep),
			 -ERANGE);
	ep = ip("fd5c:6f63:6b73::1:0:0:1");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("fd5c:6f63:6b74::1");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("fd5c:6f63:6b73::");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);
	ep = ip("240.0.0.1");
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), -1);

	assert_maps(&small, 0, "2001:db8::101");
	assert_maps(&small, 253, "2001:db8::1fe");
	ck_assert_int_eq(fakedns_index_to_addr(&small, 254, &ep), -ERANGE);
	ep = ip("2001:db8::1ff");
	ck_assert_int_eq(fakedns_addr_to_index(&small, &ep), -1);

	/* One index, two families, same name. */
	ck_assert_int_eq(fakedns_index_to_addr(&net, 41, &ep), 0);
	ck_assert_int_eq(fakedns_index_to_addr(&v4, 41, &ep4), 0);
	ck_assert_int_eq(fakedns_addr_to_index(&net, &ep), 41);
	ck_assert_int_eq(fakedns_addr_to_index(&v4, &ep4), 41);
}
END_TEST

/* ---- stale files ----------------------------------------------------- */

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(wait_child(pid), 0);
	ck_assert_int_eq(kill(pid, 0), -1);
	return pid;
}

/* path = tmpdir/socksify-UID-PID followed by suffix. */
static void file_named(char *path, size_t cap, unsigned uid, long pid,
		       const char *suffix)
{
	char name[96];

	snprintf(name, sizeof(name), "socksify-%u-%ld%s", uid, pid, suffix);
	path_in_tmpdir(path, cap, name);
}

START_TEST(stale_collection)
{
	unsigned uid = (unsigned)getuid();
	pid_t dead = dead_pid();
	char stale[PATH_CAP], live[PATH_CAP], other[PATH_CAP], odd[PATH_CAP],
	    link[PATH_CAP];

	make_tmpdir();
	file_named(stale, sizeof(stale), uid, dead, "-1700000000");
	file_named(live, sizeof(live), uid, getpid(), "-1700000000");
	file_named(other, sizeof(other), uid + 1, dead, "-1");
	file_named(odd, sizeof(odd), uid, dead, "x-1");
	file_named(link, sizeof(link), uid, dead, "-link");
	create_file(stale, 0600, 0, 0);
	create_file(live, 0600, 0, 0);
	create_file(other, 0600, 0, 0);
	create_file(odd, 0600, 0, 0);
	ck_assert_int_eq(symlink(live, link), 0);

	ck_assert_int_eq(fakedns_collect_stale(tmpdir, uid), 1);
	ck_assert_int_eq(access(stale, F_OK), -1);
	ck_assert_int_eq(access(live, F_OK), 0);
	ck_assert_int_eq(access(other, F_OK), 0);
	ck_assert_int_eq(access(odd, F_OK), 0);
	ck_assert_int_eq(access(link, F_OK), 0);
	ck_assert_int_eq(fakedns_collect_stale(tmpdir, uid), 0);
	ck_assert_int_eq(fakedns_collect_stale("/nonexistent-dir", uid), 0);
	remove_tmpdir();
}
END_TEST

static Suite *fakedns_suite(void)
{
	Suite *s = suite_create("fakedns");
	TCase *names = tcase_create("names");
	TCase *sharing = tcase_create("sharing");
	TCase *addresses = tcase_create("addresses");

	tcase_add_test(names, round_trip);
	tcase_add_test(names, unfake_names_fake_addresses);
	tcase_add_test(names, case_and_trailing_dot);
	tcase_add_test(names, bad_names);
	tcase_add_test(names, exhaustion);
	tcase_add_test(names, bad_capacity);
	suite_add_tcase(s, names);

	tcase_set_timeout(sharing, 30);
	tcase_add_test(sharing, fork_after_attach);
	tcase_add_test(sharing, file_shared_between_processes);
	tcase_add_test(sharing, concurrent_creators);
	tcase_add_test(sharing, join_rejects_bad_files);
	tcase_add_test(sharing, join_rejects_wrong_size);
	tcase_add_test(sharing, damaged_after_attach);
	tcase_add_test(sharing, join_rejects_truncated);
	tcase_add_test(sharing, attach_preserves_errno);
	tcase_add_test(sharing, attach_goes_through_the_table);
	tcase_add_test(sharing, threads_agree);
	tcase_add_test(sharing, stale_collection);
	suite_add_tcase(s, sharing);

	tcase_add_test(addresses, addresses_ipv4);
	tcase_add_test(addresses, addresses_ipv6);
	suite_add_tcase(s, addresses);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(fakedns_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
