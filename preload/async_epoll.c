/* async_epoll.c — the program's epoll sets during asynchronous handshakes:
 * the epoll_create hooks note which descriptors are epoll sets; at connect()
 * the registrations of the socket already in them are masked; the epoll_ctl
 * hook masks the ones made while the handshake runs; the end restores them
 * all. Closing a set while registrations in it are masked: see
 * "closing an epoll set" below.
 *
 * Registrations made before connect() are found in /proc/self/fdinfo of
 * every known epoll set, a cost that grows with the sets and their
 * registrations. That scan is skipped for a socket known to be in no epoll
 * set: the socket() hook marks its descriptor "clean", and the mark goes as
 * soon as anything could have registered the socket: epoll_ctl names the
 * descriptor, it is duplicated (the copy could be registered under its own
 * number), closed (the number may come back as something else), or the
 * process forks (the other process shares the sets and the sockets). What
 * the library cannot see keeps the scan: sockets made before it was loaded
 * or inherited across exec, sockets received over a Unix socket, sockets
 * made with a raw system call. Not covered: a socket() in a vfork child
 * marks its number in the parent's memory (once a vfork was made, telling
 * its child apart costs a getpid() per socket(); such children only exec
 * or exit), and a
 * socket sent to another process over a Unix socket and registered there
 * in an epoll set both share.
 *
 * Cost with no handshake in flight: epoll_create sets one bit; epoll_ctl
 * checks one counter and a bit or two. epoll_wait is not hooked at all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "async.h"
#include "async_internal.h"
#include "fdtab.h"
#include "hooks.h"
#include "real.h"

#define EPFD_MAX    FDTAB_MAX_FD /* epoll sets are tracked up to fdtab's limit */
#define FDINFO_LINE 256

/* Bit per descriptor number that was made an epoll set. The close hooks
 * clear it (async_epoll_sets_closing); one closed otherwise (raw system
 * call) keeps it, which costs one readlink at the next scan. */
static _Atomic uint64_t epfd_bits[EPFD_MAX / 64];

/* Bit per descriptor number whose socket is in no epoll set (see above). */
static _Atomic uint64_t clean_bits[EPFD_MAX / 64];

static bool known_reset(int fd);
static bool word_clear(_Atomic uint64_t *word, uint64_t mask);

void async_epoll_fresh_socket(int fd)
{
	if (fd >= 0 && (unsigned)fd < EPFD_MAX && known_reset(fd))
		atomic_fetch_or_explicit(&clean_bits[fd / 64],
					 UINT64_C(1) << (fd % 64),
					 memory_order_relaxed);
}

void async_epoll_forget(int fd)
{
	if (fd >= 0 && (unsigned)fd < EPFD_MAX)
		word_clear(&clean_bits[fd / 64], UINT64_C(1) << (fd % 64));
}

/* Apply fn to bits[] word by word over the bits [first, last] (clipped
 * to EPFD_MAX); stops when fn returns true, and returns that. */
static bool bits_range(_Atomic uint64_t *bits, unsigned first, unsigned last,
		       bool (*fn)(_Atomic uint64_t *word, uint64_t mask))
{
	if (last >= EPFD_MAX)
		last = EPFD_MAX - 1;
	for (unsigned fd = first; fd <= last && fd < EPFD_MAX;) {
		unsigned bit = fd % 64, width = 64 - bit;
		uint64_t mask = ~UINT64_C(0) << bit;

		if (last - fd + 1 < width) {
			width = last - fd + 1;
			mask &= ~UINT64_C(0) >> (64 - bit - width);
		}
		if (fn(&bits[fd / 64], mask))
			return true;
		fd += width;
	}
	return false;
}

/* Clear mask's bits in *word, writing only when one is set (most
 * descriptors never were clean: no store, no shared cache line). */
static bool word_clear(_Atomic uint64_t *word, uint64_t mask)
{
	if (atomic_load_explicit(word, memory_order_relaxed) & mask)
		atomic_fetch_and_explicit(word, ~mask, memory_order_relaxed);
	return false;
}

static bool word_any(_Atomic uint64_t *word, uint64_t mask)
{
	return (atomic_load_explicit(word, memory_order_relaxed) & mask) != 0;
}

void async_epoll_forget_range(unsigned first, unsigned last)
{
	bits_range(clean_bits, first, last, word_clear);
}

void async_epoll_forget_all(void)
{
	for (unsigned w = 0; w < EPFD_MAX / 64; w++)
		word_clear(&clean_bits[w], ~UINT64_C(0));
}

bool async_epoll_clean(int fd)
{
	return fd >= 0 && (unsigned)fd < EPFD_MAX &&
	       (atomic_load_explicit(&clean_bits[fd / 64],
				     memory_order_relaxed) >>
		    (fd % 64) &
		1);
}

/* ---- the one registration of a clean socket ----
 *
 * A clean socket stays clean through one registration made with our
 * epoll_ctl hook (in one set; changed or removed there too): it is kept
 * here, so connect() masks it without the scan. A second set, an
 * EPOLLEXCLUSIVE registration or a change this table cannot follow makes
 * the socket unclean. An epoll set that is duplicated makes every record
 * unusable for the rest of the process image (its number could be closed
 * and reused while the set lives on): sockets then take the scan. A record
 * whose set was closed since is found out at connect() (EPOLL_CTL_MOD says
 * ENOENT or EBADF: the registration went with the set). */
struct known_reg {
	_Atomic uint32_t seq;	 /* odd while a writer updates the record */
	_Atomic int set;	 /* the set's descriptor + 1; 0: none */
	_Atomic uint32_t events; /* the program's interest */
	_Atomic uint64_t data;
};

/* Mapped at the first use, one record per descriptor number. */
static _Atomic(struct known_reg *) known_table;
static atomic_bool sets_copied;

/* fd's record, mapped when map is true; NULL when there is none. */
static struct known_reg *known_slot(int fd, bool map)
{
	struct known_reg *t =
	    atomic_load_explicit(&known_table, memory_order_acquire);
	struct known_reg *none = NULL;
	size_t size = EPFD_MAX * sizeof *t;
	void *m;

	if (t || !map)
		return t ? &t[fd] : NULL;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	if (!atomic_compare_exchange_strong(&known_table, &none, m)) {
		munmap(m, size);
		t = none;
	} else {
		t = m;
	}
	return &t[fd];
}

/* Take k for writing. Returns the sequence to end with, or 0 when another
 * writer has it. */
static uint32_t known_lock(struct known_reg *k)
{
	uint32_t seq = atomic_load_explicit(&k->seq, memory_order_relaxed);

	if ((seq & 1) || !atomic_compare_exchange_strong_explicit(
			     &k->seq, &seq, seq + 1, memory_order_acquire,
			     memory_order_relaxed))
		return 0;
	return seq + 2;
}

static void known_unlock(struct known_reg *k, uint32_t seq)
{
	atomic_store_explicit(&k->seq, seq, memory_order_release);
}

/* A new socket at fd: no registration. Returns false when the record is
 * busy (fd is then not marked clean). */
static bool known_reset(int fd)
{
	struct known_reg *k = known_slot(fd, false);
	uint32_t seq;

	if (!k)
		return true;
	seq = known_lock(k);
	if (!seq)
		return false;
	atomic_store_explicit(&k->set, 0, memory_order_relaxed);
	known_unlock(k, seq);
	return true;
}

/* Update the record of clean fd after epoll_ctl(epfd, op, fd, ev) worked;
 * what it cannot follow makes fd unclean. */
static void known_apply(struct known_reg *k, int epfd, int op, int fd,
			const struct epoll_event *ev)
{
	int have = atomic_load_explicit(&k->set, memory_order_relaxed) - 1;

	if (op == EPOLL_CTL_DEL && have == epfd) {
		atomic_store_explicit(&k->set, 0, memory_order_relaxed);
		return;
	}
	if (!ev || (ev->events & EPOLLEXCLUSIVE) ||
	    (op == EPOLL_CTL_ADD && have != -1) ||
	    (op == EPOLL_CTL_MOD && have != epfd) ||
	    (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD)) {
		async_epoll_forget(fd);
		return;
	}
	atomic_store_explicit(&k->set, epfd + 1, memory_order_relaxed);
	atomic_store_explicit(&k->events, ev->events, memory_order_relaxed);
	atomic_store_explicit(&k->data, ev->data.u64, memory_order_relaxed);
}

/* After a successful epoll_ctl on fd. */
static void known_update(int epfd, int op, int fd, const struct epoll_event *ev)
{
	struct known_reg *k;
	uint32_t seq;

	if (!async_epoll_clean(fd))
		return;
	k = known_slot(fd, true);
	seq = k ? known_lock(k) : 0;
	if (!seq) {
		async_epoll_forget(fd);
		return;
	}
	known_apply(k, epfd, op, fd, ev);
	known_unlock(k, seq);
}

/* Mask clean fd's one recorded registration. Returns how many were
 * masked (0 or 1), or -EAGAIN when the record cannot be used (take the
 * scan). */
static int known_mask(int fd, struct async_reg *regs, int cap)
{
	struct known_reg *k = known_slot(fd, false);
	struct epoll_event masked;
	uint32_t seq;

	if (!k)
		return 0;
	if (atomic_load_explicit(&sets_copied, memory_order_relaxed))
		return -EAGAIN;
	seq = atomic_load_explicit(&k->seq, memory_order_acquire);
	regs[0].epfd = atomic_load_explicit(&k->set, memory_order_relaxed) - 1;
	regs[0].tfd = fd;
	regs[0].ev.events =
	    atomic_load_explicit(&k->events, memory_order_relaxed);
	regs[0].ev.data.u64 =
	    atomic_load_explicit(&k->data, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if ((seq & 1) ||
	    seq != atomic_load_explicit(&k->seq, memory_order_relaxed))
		return -EAGAIN;
	if (regs[0].epfd < 0)
		return 0;
	if (cap < 1)
		return -EAGAIN;
	masked = regs[0].ev;
	masked.events &= ~(uint32_t)ASYNC_EPOLL_READINESS;
	if (real.epoll_ctl(regs[0].epfd, EPOLL_CTL_MOD, fd, &masked) == 0)
		return 1;
	return errno == ENOENT || errno == EBADF ? 0 : -EAGAIN;
}

bool async_epoll_is_set(int fd)
{
	return fd >= 0 && (unsigned)fd < EPFD_MAX &&
	       (atomic_load_explicit(&epfd_bits[fd / 64],
				     memory_order_relaxed) >>
		    (fd % 64) &
		1);
}

bool async_epoll_set_gone(int fd)
{
	return fd >= 0 && !async_epoll_is_set(fd);
}

/* The copy is not noted as a set: the scan would find the registrations
 * of the one set twice (under both numbers) and record the second one
 * already masked. It is noted once named to epoll_ctl. */
void async_epoll_copied(int from, int to)
{
	async_epoll_forget(from);
	async_epoll_forget(to);
	if (async_epoll_is_set(from))
		atomic_store_explicit(&sets_copied, true, memory_order_relaxed);
}

/* ---- closing an epoll set while its registrations are masked ----
 *
 * A masked registration is kept as (set's number, socket's number) and
 * restored at the end of the handshake by the helper thread. Once the
 * program closes the set, the number may come back as anything: another
 * epoll set (a copy of one holding the same socket: the restore would
 * give it the closed set's interest and data), another file. Nothing
 * about the number tells the objects apart (every epoll set is the same
 * anonymous inode), so the records must never outlive the number: the
 * close of a noted set takes sets_lock for writing and async_lock, drops
 * the set's registrations from every record, closes, and lets go. The
 * restore runs under async_lock; a connect holds sets_lock for reading
 * from its first look at the socket's registrations until its record
 * holds them (async_epoll_hold/release); the program's epoll_ctl during a
 * handshake records its registration under async_lock right after the
 * call. So a recorded number always names the set the program registered
 * in. Cost: only the close of a noted epoll set takes the locks; any
 * other close checks one bit. Not covered: a set this image did not see
 * made (inherited across exec, made by raw system call) is noted by the
 * first scan or at its first epoll_ctl; a close of it that checked its
 * bit just before the first scan noted it, then closes late while that
 * scan masks in it, races with the scan's own epoll_ctl. */
/* Writers first: connects in a tight loop (each holding it shared through
 * an fdinfo scan) must not keep a close() of an epoll set waiting without
 * end. No thread takes it shared twice, so that cannot deadlock. A close
 * made by a signal handler whose thread already holds this lock or
 * async_lock, or is taking or letting one go (async_locks_held), takes
 * neither again: it closes at once, rather than wait on its own thread for
 * ever, and the records forget the sets when its thread has async_lock
 * (async.c). */
static pthread_rwlock_t sets_lock =
    PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

/* The count brackets the lock as in async_lock_acquire/release. */
void async_epoll_hold(void)
{
	async_held_enter();
	pthread_rwlock_rdlock(&sets_lock);
}

/* What a signal handler noted (async.c) is applied under async_lock,
 * taken after sets_lock as always: before sets_lock goes when it is the
 * only lock held, and by async_held_leave if the handler noted more. */
static void sets_unlock(void)
{
	if (async_locks_held == 1)
		async_notes_flush();
	pthread_rwlock_unlock(&sets_lock);
	async_held_leave();
}

void async_epoll_release(void)
{
	sets_unlock();
}

bool async_epoll_sets_closing(unsigned first, unsigned last)
{
	/* A vfork child closes its own copy of the table, not the set the
	 * parent's records name (and must not write the parent's memory). */
	if (!bits_range(epfd_bits, first, last, word_any) ||
	    hook_in_vfork_child())
		return false;
	if (async_locks_held != 0) {
		/* A signal handler inside the subsystem: the records forget
		 * the sets when its thread lets the lock go (async.c). */
		bits_range(epfd_bits, first, last, word_clear);
		async_sets_closing_deferred(first, last);
		return false;
	}
	async_held_enter();
	pthread_rwlock_wrlock(&sets_lock);
	bits_range(epfd_bits, first, last, word_clear);
	async_sets_closing(first, last);
	return true;
}

void async_epoll_sets_closed(void)
{
	async_sets_closed();
	sets_unlock();
}

/* Counted like every other hold (a signal handler during fork()'s
 * handlers must not take it either); the child makes both anew and
 * gets back the count prepare found (async_record_after_fork_child). */
void async_epoll_fork_prepare(void)
{
	async_held_enter();
	pthread_rwlock_wrlock(&sets_lock);
}

void async_epoll_fork_parent(void)
{
	sets_unlock();
}

void async_epoll_fork_child(void)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
	    &attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&sets_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

void async_epoll_note(int epfd)
{
	uint64_t bit;

	if (epfd < 0 || (unsigned)epfd >= EPFD_MAX)
		return;
	bit = UINT64_C(1) << (epfd % 64);
	if (!(atomic_load_explicit(&epfd_bits[epfd / 64],
				   memory_order_relaxed) &
	      bit))
		atomic_fetch_or_explicit(&epfd_bits[epfd / 64], bit,
					 memory_order_relaxed);
}

/* True when fd is (still) an epoll set. */
static bool epfd_is_epoll(int fd)
{
	char path[40], target[40];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventpoll]") == 0;
}

/* A parsed "tfd: ..." line of an epoll set's fdinfo. */
struct fdinfo_item {
	int tfd;
	uint32_t events;
	uint64_t data;
	unsigned long ino;
};

static bool fdinfo_parse(const char *line, struct fdinfo_item *it)
{
	unsigned long long data;
	long long pos;

	if (sscanf(line,
		   "tfd: %d events: %" SCNx32 " data: %llx pos:%lld ino:%lx",
		   &it->tfd, &it->events, &data, &pos, &it->ino) != 5)
		return false;
	it->data = data;
	return true;
}

/* Mask one found registration; record it. Returns 0 or -errno. */
static int mask_one(int epfd, const struct fdinfo_item *it,
		    struct async_reg *regs, int *n, int cap)
{
	struct epoll_event masked;

	if (*n == cap)
		return -ENOSPC;
	if (it->events & EPOLLEXCLUSIVE)
		return -EINVAL; /* cannot be modified */
	regs[*n].epfd = epfd;
	regs[*n].tfd = it->tfd;
	regs[*n].ev.events = it->events;
	regs[*n].ev.data.u64 = it->data;
	masked = regs[*n].ev;
	masked.events &= ~(uint32_t)ASYNC_EPOLL_READINESS;
	if (real.epoll_ctl(epfd, EPOLL_CTL_MOD, it->tfd, &masked) < 0)
		return -errno;
	(*n)++;
	return 0;
}

/* Handle one complete fdinfo line. Returns 0 or -errno. */
static int scan_line(int epfd, const char *line, unsigned long ino,
		     struct async_reg *regs, int *n, int cap)
{
	struct fdinfo_item it;

	if (!fdinfo_parse(line, &it) || it.ino != ino)
		return 0;
	return mask_one(epfd, &it, regs, n, cap);
}

/* Read epfd's fdinfo line by line (a line longer than FDINFO_LINE is
 * skipped: registrations are short). Returns 0 or -errno. */
static int scan_set(int epfd, unsigned long ino, struct async_reg *regs, int *n,
		    int cap)
{
	char path[48], buf[1024], line[FDINFO_LINE];
	size_t used = 0;
	ssize_t got;
	int fd, rc = 0;

	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", epfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* closed meanwhile */
	while (rc == 0 && (got = real.read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < got && rc == 0; i++) {
			if (buf[i] != '\n') {
				if (used < sizeof line - 1)
					line[used++] = buf[i];
				continue;
			}
			line[used] = '\0';
			used = 0;
			rc = scan_line(epfd, line, ino, regs, n, cap);
		}
	}
	real.close(fd);
	return rc;
}

/* The descriptor number a /proc/self/fd entry names, or -1. */
static int fd_entry_number(const char *name)
{
	long v = 0;

	if (!*name)
		return -1;
	for (; *name; name++) {
		if (*name < '0' || *name > '9' || v >= (long)EPFD_MAX)
			return -1;
		v = v * 10 + (*name - '0');
	}
	return v < (long)EPFD_MAX ? (int)v : -1;
}

/* Epoll sets the library did not see made (inherited across exec, made
 * before it was loaded) are found once, at the first scan, among the open
 * descriptors; sets made later pass through the epoll_create hooks, and
 * any set named to epoll_ctl is noted there. No stdio or opendir: no
 * allocation inside connect(). */
static void note_if_set(int fd)
{
	if (epfd_is_epoll(fd))
		async_epoll_note(fd);
}

static void note_unseen_sets(void)
{
	static atomic_bool done;

	if (!atomic_exchange_explicit(&done, true, memory_order_relaxed))
		async_fds_each(note_if_set);
}

int async_fds_each(void (*fn)(int fd))
{
	char buf[2048];
	ssize_t got;
	int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return -1;
	while ((got = getdents64(dir, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			int fd = fd_entry_number(d->d_name);

			if (fd >= 0 && fd != dir)
				fn(fd);
			off += d->d_reclen;
		}
	}
	real.close(dir);
	return 0;
}

int async_epoll_mask_existing(unsigned long ino, struct async_reg *regs,
			      int cap)
{
	int n = 0, rc = 0;

	note_unseen_sets();

	for (unsigned w = 0; w < EPFD_MAX / 64 && rc == 0; w++) {
		uint64_t bits =
		    atomic_load_explicit(&epfd_bits[w], memory_order_relaxed);

		while (bits && rc == 0) {
			int epfd =
			    (int)(w * 64 + (unsigned)__builtin_ctzll(bits));

			bits &= bits - 1;
			if (epfd_is_epoll(epfd))
				rc = scan_set(epfd, ino, regs, &n, cap);
		}
	}
	if (rc < 0) {
		async_epoll_restore(regs, n);
		return rc;
	}
	return n;
}

/* The slow path, for a socket we cannot vouch for: its inode, then every
 * known epoll set's fdinfo. */
int async_epoll_mask_socket(int fd, struct async_reg *regs, int cap)
{
	struct stat st;

	int n;

	if (async_epoll_clean(fd)) {
		n = known_mask(fd, regs, cap);
		if (n != -EAGAIN)
			return n;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	return async_epoll_mask_existing((unsigned long)st.st_ino, regs, cap);
}

void async_epoll_restore(const struct async_reg *regs, int count)
{
	for (int i = 0; i < count; i++) {
		struct epoll_event ev = regs[i].ev;

		real.epoll_ctl(regs[i].epfd, EPOLL_CTL_MOD, regs[i].tfd, &ev);
	}
}

/* A new epoll descriptor (or -1) from epoll_create() or epoll_create1(). */
static int epoll_noted(int fd)
{
	async_epoll_note(fd);
	return fd;
}

SOCKSIFY_EXPORT int epoll_create(int size)
{
	real_init();
	return epoll_noted(real.epoll_create(size));
}

SOCKSIFY_EXPORT int epoll_create1(int flags)
{
	real_init();
	return epoll_noted(real.epoll_create1(flags));
}

SOCKSIFY_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	int saved_errno = errno, rc;

	real_init();
	/* epfd is an epoll set if the call works (one inherited across exec
	 * is noted here, as its creation was not seen). */
	async_epoll_note(epfd);
	rc = async_idle() ? HOOK_PASS : async_epoll_ctl(epfd, op, fd, ev);
	if (rc == HOOK_PASS) {
		errno = saved_errno;
		if (real.epoll_ctl(epfd, op, fd, ev) < 0)
			return -1;
		rc = 0;
	}
	if (rc == 0) {
		known_update(epfd, op, fd, ev); /* fd's socket is in epfd */
		errno = saved_errno;
	}
	return (int)hook_return(rc);
}
