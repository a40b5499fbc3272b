/* test_fdtab.c — per-descriptor entries: set/get/clear, reuse detection by
 * inode, ranges, dup2 copies, and concurrent writers and readers. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdtab.h"

static int new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* An entry for a proxied socket whose destination is "NAME:port", where
 * NAME encodes the port so that a reader can check an entry is whole. */
static struct fdtab_entry entry_for(uint16_t port)
{
	struct fdtab_entry e;

	memset(&e, 0, sizeof(e));
	e.flags = FDTAB_PROXIED;
	e.dest.kind = ENDPOINT_NAME;
	e.dest.port = port;
	e.dest.name_len = (uint8_t)snprintf(
	    e.dest.u.name, sizeof(e.dest.u.name), "host-%05u.example", port);
	return e;
}

/* True when e is exactly what entry_for(e->dest.port) builds. */
static int entry_whole(const struct fdtab_entry *e)
{
	struct fdtab_entry want = entry_for(e->dest.port);

	return e->flags == want.flags && e->dest.kind == want.dest.kind &&
	       e->dest.name_len == want.dest.name_len &&
	       strcmp(e->dest.u.name, want.dest.u.name) == 0;
}

static void assert_entry(int fd, uint16_t port)
{
	struct fdtab_entry got;

	ck_assert_int_eq(fdtab_get(fd, &got), 0);
	ck_assert_int_eq(got.dest.port, port);
	ck_assert(entry_whole(&got));
}

static void assert_no_entry(int fd)
{
	struct fdtab_entry got;

	ck_assert_int_eq(fdtab_get(fd, &got), -ENOENT);
}

START_TEST(set_get_clear)
{
	int fd = new_socket();
	struct fdtab_entry e = entry_for(443), got;
	struct stat st;

	assert_no_entry(fd);
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	ck_assert_int_eq(fdtab_get(fd, &got), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(got.inode, (uint64_t)st.st_ino);
	ck_assert_int_eq(got.flags, FDTAB_PROXIED);
	ck_assert_str_eq(got.dest.u.name, "host-00443.example");
	/* A second set replaces the first. */
	e = entry_for(80);
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	assert_entry(fd, 80);
	fdtab_clear(fd);
	assert_no_entry(fd);
	fdtab_clear(fd);
	close(fd);
}
END_TEST

/* fdtab_forget_facts() clears an entry of socket()'s facts alone, and
 * leaves one that holds more exactly as it was. */
START_TEST(forget_facts_only)
{
	int fd = new_socket();
	struct fdtab_entry e = {.flags = FDTAB_SOCK_TCP | FDTAB_SOCK_NONBLOCK};

	ck_assert_int_eq(fdtab_forget_facts(fd), 0); /* nothing there */
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	ck_assert_int_eq(fdtab_forget_facts(fd), 0);
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	e = entry_for(443);
	e.flags |= FDTAB_SOCK_TCP;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	ck_assert_int_eq(fdtab_forget_facts(fd), -EBUSY);
	ck_assert_uint_eq(fdtab_flags(fd), FDTAB_PROXIED | FDTAB_SOCK_TCP);
	ck_assert_int_eq(fdtab_get(fd, &e), 0);
	ck_assert_str_eq(e.dest.u.name, "host-00443.example");
	fdtab_clear(fd);
	close(fd);
}
END_TEST

START_TEST(zero_flags_is_no_entry)
{
	int fd = new_socket();
	struct fdtab_entry e = entry_for(1);

	e.flags = 0;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	assert_no_entry(fd);
	close(fd);
}
END_TEST

START_TEST(bad_descriptors)
{
	struct fdtab_entry e = entry_for(1);

	ck_assert_int_eq(fdtab_set(-1, &e), -EBADF);
	ck_assert_int_eq(fdtab_set(1 << 20, &e), -EBADF);
	ck_assert_int_eq(fdtab_set(0x7fffffff, &e), -EBADF);
	assert_no_entry(-1);
	assert_no_entry(1 << 20);
	fdtab_clear(-5);
	fdtab_clear(1 << 24);
	fdtab_copy(-1, 3);
	/* A descriptor that is not open has no entry, even if recorded. */
	ck_assert_int_eq(fdtab_set(900000, &e), 0);
	assert_no_entry(900000);
}
END_TEST

START_TEST(reused_descriptor_detected)
{
	int first = new_socket(), second;
	struct fdtab_entry e = entry_for(8080);

	ck_assert_int_eq(fdtab_set(first, &e), 0);
	assert_entry(first, 8080);
	/* Closed behind our back (no fdtab_clear), then reused. */
	close(first);
	assert_no_entry(first);
	second = new_socket();
	ck_assert_int_eq(second, first);
	assert_no_entry(second);
	close(second);
}
END_TEST

START_TEST(explicit_inode_is_checked)
{
	int fd = new_socket();
	struct fdtab_entry e = entry_for(22);
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	e.inode = (uint64_t)st.st_ino + 1;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	assert_no_entry(fd);
	e.inode = (uint64_t)st.st_ino;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	assert_entry(fd, 22);
	close(fd);
}
END_TEST

START_TEST(clear_range)
{
	int a = new_socket(), b = new_socket(), c = new_socket();
	int high = 700, higher = 1000;
	struct fdtab_entry e;

	ck_assert_int_eq(dup2(a, high), high);
	ck_assert_int_eq(dup2(a, higher), higher);
	int fds[] = {a, b, c, high, higher};
	for (unsigned i = 0; i < 5; i++) {
		e = entry_for((uint16_t)(i + 1));
		ck_assert_int_eq(fdtab_set(fds[i], &e), 0);
	}
	/* lo > hi and far-away ranges touch nothing. */
	fdtab_clear_range((unsigned)c, (unsigned)b);
	fdtab_clear_range(1u << 30, ~0U);
	for (unsigned i = 0; i < 5; i++)
		assert_entry(fds[i], (uint16_t)(i + 1));
	fdtab_clear_range((unsigned)b, (unsigned)c);
	assert_entry(a, 1);
	assert_no_entry(b);
	assert_no_entry(c);
	assert_entry(high, 4);
	fdtab_clear_range((unsigned)high + 1, ~0U);
	assert_entry(high, 4);
	assert_no_entry(higher);
	fdtab_clear_range(0, ~0U);
	assert_no_entry(a);
	assert_no_entry(high);
	for (unsigned i = 0; i < 5; i++)
		close(fds[i]);
}
END_TEST

START_TEST(copy_follows_dup2)
{
	int a = new_socket(), other = new_socket(), target = 600;
	struct fdtab_entry e = entry_for(1080);

	ck_assert_int_eq(fdtab_set(a, &e), 0);
	e = entry_for(9);
	ck_assert_int_eq(dup2(other, target), target);
	ck_assert_int_eq(fdtab_set(target, &e), 0);
	/* dup2(a, target): target now is a's socket and takes a's entry. */
	ck_assert_int_eq(dup2(a, target), target);
	fdtab_copy(a, target);
	assert_entry(target, 1080);
	assert_entry(a, 1080);
	fdtab_copy(a, a);
	assert_entry(a, 1080);
	/* dup2 from a socket we know nothing about clears the target. */
	ck_assert_int_eq(dup2(other, target), target);
	fdtab_copy(other, target);
	assert_no_entry(target);
	close(target);
	close(other);
	close(a);
}
END_TEST

#define WRITERS	       8
#define FDS_PER_WRITER 16
#define ROUNDS	       20000

struct writer_arg {
	int fds[FDS_PER_WRITER];
	int id;
	int failures;
};

static atomic_bool writers_done;

/* Each writer owns its descriptors: what it reads back must be exactly
 * what it wrote last. */
static void *writer_body(void *p)
{
	struct writer_arg *arg = p;

	for (int round = 0; round < ROUNDS; round++) {
		int k = round % FDS_PER_WRITER;
		uint16_t port =
		    (uint16_t)((arg->id * ROUNDS + round) % 65000 + 1);
		struct fdtab_entry e = entry_for(port), got;

		if (fdtab_set(arg->fds[k], &e) != 0 ||
		    fdtab_get(arg->fds[k], &got) != 0 ||
		    got.dest.port != port || !entry_whole(&got))
			arg->failures++;
		if (round % 97 == 0) {
			fdtab_clear(arg->fds[k]);
			if (fdtab_get(arg->fds[k], &got) != -ENOENT)
				arg->failures++;
		}
	}
	return NULL;
}

/* A reader of everyone's descriptors: any entry it sees must be whole. */
static void *reader_body(void *p)
{
	struct writer_arg *args = p;
	long torn = 0;

	while (!atomic_load(&writers_done)) {
		for (int w = 0; w < WRITERS; w++) {
			for (int k = 0; k < FDS_PER_WRITER; k++) {
				struct fdtab_entry got;

				if (fdtab_get(args[w].fds[k], &got) == 0 &&
				    !entry_whole(&got))
					torn++;
			}
		}
	}
	return (void *)torn;
}

START_TEST(threads_write_different_fds)
{
	static struct writer_arg args[WRITERS];
	pthread_t writers[WRITERS], reader;
	void *torn;

	atomic_store(&writers_done, false);
	for (int w = 0; w < WRITERS; w++) {
		args[w].id = w;
		args[w].failures = 0;
		for (int k = 0; k < FDS_PER_WRITER; k++)
			args[w].fds[k] = new_socket();
	}
	ck_assert_int_eq(pthread_create(&reader, NULL, reader_body, args), 0);
	for (int w = 0; w < WRITERS; w++)
		ck_assert_int_eq(
		    pthread_create(&writers[w], NULL, writer_body, &args[w]),
		    0);
	for (int w = 0; w < WRITERS; w++)
		ck_assert_int_eq(pthread_join(writers[w], NULL), 0);
	atomic_store(&writers_done, true);
	ck_assert_int_eq(pthread_join(reader, &torn), 0);
	ck_assert_int_eq((long)torn, 0);
	for (int w = 0; w < WRITERS; w++) {
		ck_assert_int_eq(args[w].failures, 0);
		for (int k = 0; k < FDS_PER_WRITER; k++)
			close(args[w].fds[k]);
	}
}
END_TEST

#define HAMMER_READS   1000000
#define HAMMER_SECONDS 1.5

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct hammer {
	int fd;
	atomic_bool stop;
};

/* Rewrite one descriptor's entry as fast as possible. */
static void *hammer_writer(void *p)
{
	struct hammer *h = p;
	struct fdtab_entry e[2] = {entry_for(11111), entry_for(22222)};
	unsigned round = 0;

	while (!atomic_load(&h->stop))
		fdtab_set(h->fd, &e[round++ & 1]);
	return NULL;
}

/* A reader racing a writer on the same descriptor gets one entry or the
 * other, never a mix of both. */
START_TEST(reader_never_sees_torn_entry)
{
	struct hammer h = {.fd = new_socket()};
	struct fdtab_entry e = entry_for(11111), got;
	long torn = 0, seen = 0;
	double deadline = now_seconds() + HAMMER_SECONDS;
	pthread_t writer;

	atomic_store(&h.stop, false);
	ck_assert_int_eq(fdtab_set(h.fd, &e), 0);
	ck_assert_int_eq(pthread_create(&writer, NULL, hammer_writer, &h), 0);
	/* Bounded by time too, for slow runs (valgrind). */
	for (long i = 0; i < HAMMER_READS; i++) {
		if (i % 1024 == 0 && now_seconds() > deadline)
			break;
		if (fdtab_get(h.fd, &got) != 0)
			continue;
		seen++;
		if (!entry_whole(&got) ||
		    (got.dest.port != 11111 && got.dest.port != 22222))
			torn++;
	}
	atomic_store(&h.stop, true);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	ck_assert_int_eq(torn, 0);
	ck_assert_int_gt(seen, 1000);
	close(h.fd);
}
END_TEST

/* entry_for(port) with every other word stamped too (inode, the UDP
 * fields), so that a mix of two entries shows wherever the cut falls. The
 * inode is explicit: no fstat() between the writes. */
static struct fdtab_entry entry_stamped(uint16_t port)
{
	struct fdtab_entry e = entry_for(port);

	e.inode = port;
	e.udp.id = port;
	e.udp.control = port;
	e.udp.owner = port;
	e.udp.relay_len = port;
	memset(&e.udp.relay, (int)(port & 0xff), sizeof(e.udp.relay));
	return e;
}

/* True when e is exactly entry_stamped(p) for p one of want[0..n). */
static int entry_stamped_whole(const struct fdtab_entry *e,
			       const uint16_t *want, int n)
{
	for (int i = 0; i < n; i++) {
		struct fdtab_entry w = entry_stamped(want[i]);

		if (memcmp(e, &w, sizeof(w)) == 0)
			return 1;
	}
	return 0;
}

#define SIGNAL_SECONDS 1.5
#define SIGNAL_BUSY    200

static int signal_fd;
static volatile sig_atomic_t signal_busy, signal_wrote;

/* A handler that rewrites the descriptor the interrupted code is writing:
 * it must never take the slot over mid-write. */
static void rewrite_from_handler(int sig)
{
	struct fdtab_entry e = entry_stamped(22222);
	int saved = errno, rc;

	(void)sig;
	rc = fdtab_set(signal_fd, &e);
	if (rc == -EAGAIN)
		signal_busy++;
	else if (rc == 0)
		signal_wrote++;
	errno = saved;
}

/* A write interrupted by a signal whose handler writes the same slot: the
 * handler's write fails with -EAGAIN (its own thread holds the slot), and
 * the entry is always one writer's whole, never a mix. */
START_TEST(signal_handler_never_tears_entry)
{
	static const uint16_t both[] = {11111, 22222};
	struct sigaction sa, old_sa;
	struct itimerval tick = {{0, 50}, {0, 50}}, off = {{0, 0}, {0, 0}};
	struct fdtab_entry mine = entry_stamped(11111), got;
	double deadline = now_seconds() + SIGNAL_SECONDS;
	long torn = 0, rounds = 0;

	signal_fd = new_socket();
	signal_busy = signal_wrote = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rewrite_from_handler;
	sa.sa_flags = SA_RESTART;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, &old_sa), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &tick, NULL), 0);
	while (signal_busy < SIGNAL_BUSY && now_seconds() < deadline) {
		for (int i = 0; i < 256; i++, rounds++) {
			if (fdtab_set(signal_fd, &mine) != 0)
				continue;
			if (fdtab_get_unchecked(signal_fd, &got) == 0 &&
			    !entry_stamped_whole(&got, both, 2))
				torn++;
		}
	}
	ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
	ck_assert_int_eq(sigaction(SIGALRM, &old_sa, NULL), 0);
	ck_assert_msg(torn == 0,
		      "%ld torn entries in %ld writes (%d handler "
		      "writes refused, %d done)",
		      torn, rounds, (int)signal_busy, (int)signal_wrote);
	/* The race was run: some signals landed inside a write. */
	ck_assert_int_gt(signal_busy, 0);
	close(signal_fd);
}
END_TEST

#define FORK_ROUNDS 400

/* One fork child: free the slots of writers that did not survive the fork,
 * then the entry must be writable at once and whole. Exit status: 0 when
 * nothing was mid-write, 1 when a slot was freed, 2 on failure. */
static void fork_child_check(int fd)
{
	static const uint16_t any[] = {11111, 22222, 33333};
	struct fdtab_entry e = entry_stamped(33333), got;
	unsigned freed = fdtab_fork_child();
	double t0 = now_seconds();

	if (fdtab_get_unchecked(fd, &got) == 0 &&
	    !entry_stamped_whole(&got, any, 3))
		_exit(2);
	if (fdtab_set(fd, &e) != 0 || now_seconds() - t0 > 0.5 ||
	    fdtab_get_unchecked(fd, &got) != 0 ||
	    !entry_stamped_whole(&got, any + 2, 1))
		_exit(2);
	_exit(freed > 0 ? 1 : 0);
}

/* Rewrite one descriptor's stamped entry as fast as possible. */
static void *stamped_writer(void *p)
{
	struct hammer *h = p;
	struct fdtab_entry e[2] = {entry_stamped(11111), entry_stamped(22222)};
	unsigned round = 0;

	while (!atomic_load(&h->stop))
		fdtab_set(h->fd, &e[round++ & 1]);
	return NULL;
}

/* fork() while another thread writes an entry: that thread does not exist
 * in the child, so its half-written slot would stay held for ever (every
 * write in the child waiting a second, then failing). The fork-child hook
 * frees it; the child writes at once. Forks until a child caught the
 * writer mid-write (bounded). */
START_TEST(fork_frees_slots_of_vanished_writers)
{
	struct hammer h = {.fd = new_socket()};
	double deadline = now_seconds() + 10;
	int caught = 0, bad = 0, rounds = 0, status;
	pthread_t writer;
	pid_t pid;

	atomic_store(&h.stop, false);
	ck_assert_int_eq(pthread_create(&writer, NULL, stamped_writer, &h), 0);
	while (caught == 0 && rounds < FORK_ROUNDS &&
	       now_seconds() < deadline) {
		rounds++;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			fork_child_check(h.fd);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		if (WEXITSTATUS(status) == 1)
			caught++;
		else if (WEXITSTATUS(status) != 0)
			bad++;
	}
	atomic_store(&h.stop, true);
	ck_assert_int_eq(pthread_join(writer, NULL), 0);
	ck_assert_msg(bad == 0, "%d of %d children failed", bad, rounds);
	ck_assert_msg(caught > 0, "no fork caught the writer in %d rounds",
		      rounds);
	close(h.fd);
}
END_TEST

START_TEST(flags_and_unchecked_get)
{
	int fd = new_socket();
	struct fdtab_entry e = entry_for(7), got;

	/* Earlier tests (CK_FORK=no) may have left this number's entry, as a
	 * close behind our back would; the socket() hook clears it. */
	fdtab_clear(fd);
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	ck_assert_uint_eq(fdtab_flags(-1), 0);
	ck_assert_uint_eq(fdtab_flags(1 << 20), 0);
	e.flags = FDTAB_UDP_ASSOC | FDTAB_UDP_PEER;
	e.udp.control = 77;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	ck_assert_uint_eq(fdtab_flags(fd), FDTAB_UDP_ASSOC | FDTAB_UDP_PEER);
	/* A recorded inode that no longer matches: only the checked get
	 * notices. */
	e.inode = 1;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	ck_assert_int_eq(fdtab_get(fd, &got), -ENOENT);
	ck_assert_int_eq(fdtab_get_unchecked(fd, &got), 0);
	ck_assert_int_eq(got.udp.control, 77);
	fdtab_clear(fd);
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	ck_assert_int_eq(fdtab_get_unchecked(fd, &got), -ENOENT);
	close(fd);
}
END_TEST

START_TEST(claim_is_exclusive_and_keeps_fields)
{
	int fd = new_socket();
	struct fdtab_entry e = entry_for(9);

	fdtab_clear(fd);
	ck_assert_int_eq(fdtab_claim(fd, FDTAB_UDP_SETUP), 0);
	ck_assert_int_eq(fdtab_claim(fd, FDTAB_UDP_SETUP), -EBUSY);
	fdtab_unflag(fd, FDTAB_UDP_SETUP);
	/* Nothing else was set: the entry is gone. */
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
	ck_assert_int_eq(fdtab_claim(fd, FDTAB_UDP_SETUP), 0);
	ck_assert_uint_eq(fdtab_flags(fd), FDTAB_PROXIED | FDTAB_UDP_SETUP);
	fdtab_unflag(fd, FDTAB_UDP_SETUP);
	assert_entry(fd, 9);
	ck_assert_int_eq(fdtab_claim(-1, FDTAB_UDP_SETUP), -EBADF);
	fdtab_clear(fd);
	close(fd);
}
END_TEST

START_TEST(next_and_unflag_all)
{
	struct fdtab_entry e = entry_for(1);

	e.flags = FDTAB_INTERNAL;
	ck_assert_int_eq(fdtab_set(700, &e), 0);
	ck_assert_int_eq(fdtab_set(5000, &e), 0);
	ck_assert_int_eq(fdtab_next(0, ~0u, FDTAB_INTERNAL), 700);
	ck_assert_int_eq(fdtab_next(701, ~0u, FDTAB_INTERNAL), 5000);
	ck_assert_int_eq(fdtab_next(701, 4999, FDTAB_INTERNAL), -1);
	ck_assert_int_eq(fdtab_next(0, ~0u, FDTAB_UDP_ASSOC), -1);
	ck_assert_int_eq(fdtab_claim(700, FDTAB_UDP_SETUP), 0);
	ck_assert_int_eq(fdtab_claim(900, FDTAB_UDP_SETUP), 0);
	fdtab_unflag_all(FDTAB_UDP_SETUP);
	ck_assert_int_eq(fdtab_next(0, ~0u, FDTAB_UDP_SETUP), -1);
	ck_assert_uint_eq(fdtab_flags(700), FDTAB_INTERNAL);
	ck_assert_uint_eq(fdtab_flags(900), 0);
	fdtab_clear_range(0, ~0u);
	ck_assert_int_eq(fdtab_next(0, ~0u, ~0u), -1);
}
END_TEST

START_TEST(due_limits_rate)
{
	struct fdtab_entry e = entry_for(2);

	ck_assert_int_eq(fdtab_set(40, &e), 0);
	ck_assert(fdtab_due(40, 1000, 100));
	ck_assert(!fdtab_due(40, 1050, 100));
	ck_assert(fdtab_due(40, 1100, 100));
	/* A new entry starts afresh. */
	ck_assert_int_eq(fdtab_set(40, &e), 0);
	ck_assert(fdtab_due(40, 1101, 100));
	fdtab_clear(40);
}
END_TEST

START_TEST(copy_drops_internal_flags)
{
	int a = new_socket(), b;
	struct fdtab_entry e = entry_for(3);

	e.flags = FDTAB_INTERNAL;
	ck_assert_int_eq(fdtab_set(a, &e), 0);
	b = dup(a);
	fdtab_clear(b);
	fdtab_copy(a, b);
	ck_assert_uint_eq(fdtab_flags(b), 0);
	e.flags = FDTAB_UDP_ASSOC | FDTAB_UDP_SETUP | FDTAB_INTERNAL;
	e.owner_id = 3;
	ck_assert_int_eq(fdtab_set(a, &e), 0);
	fdtab_copy(a, b);
	ck_assert_uint_eq(fdtab_flags(b), FDTAB_UDP_ASSOC);
	ck_assert_int_eq(fdtab_get(b, &e), 0);
	ck_assert_uint_eq(e.owner_id, 0); /* the owner goes with the mark */
	fdtab_clear(a);
	fdtab_clear(b);
	close(a);
	close(b);
}
END_TEST

static Suite *fdtab_suite(void)
{
	Suite *s = suite_create("fdtab");
	TCase *tc = tcase_create("fdtab");
	TCase *threads = tcase_create("threads");

	tcase_add_test(tc, set_get_clear);
	tcase_add_test(tc, forget_facts_only);
	tcase_add_test(tc, zero_flags_is_no_entry);
	tcase_add_test(tc, bad_descriptors);
	tcase_add_test(tc, reused_descriptor_detected);
	tcase_add_test(tc, explicit_inode_is_checked);
	tcase_add_test(tc, clear_range);
	tcase_add_test(tc, copy_follows_dup2);
	tcase_add_test(tc, flags_and_unchecked_get);
	tcase_add_test(tc, claim_is_exclusive_and_keeps_fields);
	tcase_add_test(tc, next_and_unflag_all);
	tcase_add_test(tc, due_limits_rate);
	tcase_add_test(tc, copy_drops_internal_flags);
	suite_add_tcase(s, tc);
	tcase_set_timeout(threads, 60);
	tcase_add_test(threads, threads_write_different_fds);
	tcase_add_test(threads, reader_never_sees_torn_entry);
	tcase_add_test(threads, signal_handler_never_tears_entry);
	tcase_add_test(threads, fork_frees_slots_of_vanished_writers);
	suite_add_tcase(s, threads);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(fdtab_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
