/* async_record.c — the records of asynchronous handshakes (see async.h):
 * the pool, the map from descriptor number to record, the lock.
 *
 * The pool holds as many records as the configuration allows
 * (async_handshakes, 512 by default); it is mapped at the first
 * asynchronous connect, without reserving memory, and records are handed
 * out in order, so only the pages of records ever used are touched. When
 * every record is busy a connect runs synchronously; the first time, the
 * log says so.
 *
 * A record lives from connect() until the handshake succeeds, or, after a
 * failure, until the error has been reported once (SO_ERROR, a read or a
 * write), the socket is closed or connected again. A lazily mapped array
 * gives, for each descriptor number, the record it belongs to (index + 1),
 * so the hooks find it without a lock; everything else in a record is
 * guarded by async_lock, and found records are checked again under it (the
 * descriptor must still be one of the record's aliases). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "async_internal.h"
#include "fdtab.h"
#include "log.h"
#include "real.h"

_Static_assert(CONFIG_ASYNC_HANDSHAKES_MAX <= UINT16_MAX,
	       "the descriptor map holds a record's index + 1 in 16 bits");

/* async_wait_settled_locked(): one-second rounds, an hour at most. */
#define ASYNC_SETTLE_ROUNDS 3600

_Atomic int async_live;

/* Written once under the lock, before any descriptor maps to a record
 * (the map's release store orders it for lock-free readers). */
static struct async_rec *async_recs;
static unsigned async_capacity; /* records mapped */
static unsigned async_used;	/* records [0, async_used) handed out once */
static bool async_full_told;	/* the pool was full, and the log said so */
static _Atomic(uint16_t *) async_map;
/* Lock order: before bind_lock (see async_internal.h and fdops.c). */
static pthread_mutex_t async_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_ended = PTHREAD_COND_INITIALIZER;
static int async_running; /* records in REC_RUNNING */

/* How many of the subsystem's locks (async_lock, and sets_lock either
 * way: async_epoll.c) this thread holds. initial-exec: a signal handler
 * reads it without allocating. */
_Thread_local volatile sig_atomic_t async_locks_held
    __attribute__((tls_model("initial-exec")));
_Thread_local sig_atomic_t async_fork_saved_locks
    __attribute__((tls_model("initial-exec")));
/* Records claimed so far: a record's born is its claim's number. */
static _Atomic uint64_t async_births;

/* ---- notes of a signal handler's calls (async_internal.h) ---- */

static _Thread_local struct async_note async_notes[ASYNC_NOTES_MAX]
    __attribute__((tls_model("initial-exec")));
/* Taken with an atomic add, so a handler that interrupts another one's
 * note still gets a slot of its own. */
_Thread_local _Atomic unsigned async_deferred_n
    __attribute__((tls_model("initial-exec")));
static const struct async_note_ops *async_note_effects;
/* How many notes are kept: ASYNC_NOTES_MAX, or fewer for a test that
 * wants the sweep to run (SOCKSIFY_TEST_ASYNC_NOTES, 1 to 32). */
static unsigned async_notes_kept = ASYNC_NOTES_MAX;

void async_note_ops_set(const struct async_note_ops *ops)
{
	const char *test = secure_getenv("SOCKSIFY_TEST_ASYNC_NOTES");
	long kept = test ? strtol(test, NULL, 10) : 0;

	async_note_effects = ops;
	if (kept >= 1 && kept <= ASYNC_NOTES_MAX)
		async_notes_kept = (unsigned)kept;
}

void async_note(enum async_note_op op, unsigned a, unsigned b)
{
	unsigned i;

	if (a > INT_MAX)
		a = INT_MAX;
	if (b > INT_MAX)
		b = INT_MAX;
	if (op != NOTE_COPY && a > b)
		return;
	i = atomic_fetch_add(&async_deferred_n, 1);
	if (i < async_notes_kept)
		async_notes[i] =
		    (struct async_note){(int)a, (int)b, (uint64_t)op,
					async_births_now() & (UINT64_MAX >> 2)};
	atomic_signal_fence(memory_order_release);
}

void async_deferred_apply(void)
{
	int saved_errno = errno;
	unsigned done = 0, n = atomic_load(&async_deferred_n);
	sigset_t all, old;

	/* A handler may note more meanwhile: they land past n. */
	for (;;) {
		atomic_signal_fence(memory_order_acquire);
		for (; done < n && done < async_notes_kept; done++)
			if (async_note_effects)
				async_note_effects->apply(&async_notes[done]);
		if (n > async_notes_kept)
			break;
		if (atomic_compare_exchange_strong(&async_deferred_n, &n, 0)) {
			errno = saved_errno;
			return;
		}
	}
	/* Notes were lost (every later one is, until the count is reset):
	 * the sweep reads what the handlers did from the descriptor table,
	 * with signals blocked so that none does more while it looks. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_store(&async_deferred_n, 0);
	log_debug("async: %u calls of a signal handler noted, %u kept: the "
		  "records are checked against the descriptors",
		  n, async_notes_kept);
	if (async_note_effects)
		async_note_effects->sweep();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved_errno;
}

bool async_notes_pending(void)
{
	return atomic_load_explicit(&async_deferred_n, memory_order_relaxed) !=
	       0;
}

/* The count covers the whole time the lock may be held: it goes up before
 * the lock is asked for and down only once it is let go. A signal handler
 * that reads 0 knows this thread holds neither lock, however far into
 * taking or letting go it was interrupted (the other order left a window
 * in which the handler waited on its own thread's lock for ever). The
 * signal fences keep the compiler from moving the count across the calls. */
void async_lock_acquire(void)
{
	async_held_enter();
	pthread_mutex_lock(&async_lock);
	if (async_notes_pending())
		async_deferred_apply();
}

/* What a signal handler noted is applied as soon as the lock is had, and
 * again before it goes (async.c); one that notes more between that and
 * the count going down is seen by async_held_leave. */
void async_lock_release(void)
{
	if (async_notes_pending())
		async_deferred_apply();
	pthread_mutex_unlock(&async_lock);
	async_held_leave();
}

void async_held_enter(void)
{
	async_locks_held++;
	atomic_signal_fence(memory_order_seq_cst);
}

void async_held_leave(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	async_locks_held--;
	if (async_locks_held == 0)
		async_notes_flush();
}

void async_notes_flush(void)
{
	if (__builtin_expect(async_notes_pending(), 0)) {
		async_lock_acquire();
		async_lock_release();
	}
}

int async_lock_wait(const struct timespec *until)
{
	int rc;

	if (async_notes_pending())
		async_deferred_apply();
	rc = pthread_cond_timedwait(&async_ended, &async_lock, until);
	if (async_notes_pending())
		async_deferred_apply();
	return rc == ETIMEDOUT ? ETIMEDOUT : 0;
}

void async_lock_wake_all(void)
{
	pthread_cond_broadcast(&async_ended);
}

unsigned async_rec_count(void)
{
	return async_used;
}

struct async_rec *async_rec_at(unsigned i)
{
	return &async_recs[i];
}

/* Map the pool with capacity records on first use (lock held). Returns
 * false when it cannot be. */
static bool async_pool_ensure(unsigned capacity)
{
	void *m;

	if (async_recs)
		return true;
	if (capacity == 0 || capacity > CONFIG_ASYNC_HANDSHAKES_MAX)
		capacity = CONFIG_ASYNC_HANDSHAKES_DEFAULT;
	m = mmap(NULL, (size_t)capacity * sizeof(struct async_rec),
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	async_recs = m;
	async_capacity = capacity;
	return true;
}

/* ---- the descriptor map ---- */

static uint16_t *async_map_get(void)
{
	return atomic_load_explicit(&async_map, memory_order_acquire);
}

/* Map it on first use (lock held). Returns false when it cannot be. */
static bool async_map_ensure(void)
{
	size_t size = FDTAB_MAX_FD * sizeof(uint16_t);
	void *m;

	if (async_map_get())
		return true;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	atomic_store_explicit(&async_map, (uint16_t *)m, memory_order_release);
	return true;
}

static void async_map_set(int fd, unsigned value)
{
	uint16_t *map = async_map_get();

	if (map && fd >= 0 && (unsigned)fd < FDTAB_MAX_FD)
		__atomic_store_n(&map[fd], (uint16_t)value, __ATOMIC_RELEASE);
}

/* The record fd belongs to, without a lock (check again under it). */
static struct async_rec *async_find(int fd)
{
	uint16_t *map = async_map_get();
	unsigned v;

	if (!map || fd < 0 || (unsigned)fd >= FDTAB_MAX_FD)
		return NULL;
	v = __atomic_load_n(&map[fd], __ATOMIC_ACQUIRE);
	return v ? &async_recs[v - 1] : NULL;
}

int rec_alias_index(const struct async_rec *rec, int fd)
{
	for (int i = 0; i < rec->nalias; i++)
		if (rec->alias[i] == fd)
			return i;
	return -1;
}

uint64_t async_births_now(void)
{
	return atomic_load(&async_births);
}

bool async_has_rec(int fd)
{
	return async_find(fd) != NULL;
}

struct async_rec *async_rec_locked(int fd)
{
	struct async_rec *rec = async_find(fd);

	if (rec && rec->state != REC_FREE && rec_alias_index(rec, fd) >= 0)
		return rec;
	return NULL;
}

struct async_rec *async_lock_rec(int fd)
{
	struct async_rec *rec;

	/* From a signal handler inside the subsystem: the lock is its own
	 * thread's (see async.c). */
	if (async_locks_held != 0)
		return NULL;
	/* What a handler noted before this thread let the lock go comes
	 * first: this call is after it. */
	async_notes_flush();
	if (!async_find(fd))
		return NULL;
	async_lock_acquire();
	rec = async_rec_locked(fd);
	if (!rec)
		async_lock_release();
	return rec;
}

/* ---- record life ---- */

/* rec, free, made ready for a new handshake. */
static struct async_rec *rec_reset(struct async_rec *rec)
{
	rec->born = atomic_fetch_add(&async_births, 1) + 1;
	rec->gen++;
	rec->priv = -1;
	rec->efd = -1;
	rec->nalias = 0;
	rec->nregs = 0;
	rec->error = 0;
	rec->race = rec->first_running = rec->moved = false;
	rec->nlanes = 0;
	return rec;
}

/* A free slot no poll waiter still uses (one used before, else the next
 * never used), or NULL. */
static struct async_rec *rec_alloc(void)
{
	for (unsigned i = 0; i < async_used; i++) {
		struct async_rec *rec = &async_recs[i];

		if (rec->state == REC_FREE && rec->pollers == 0)
			return rec_reset(rec);
	}
	if (async_used < async_capacity)
		return rec_reset(&async_recs[async_used++]);
	return NULL;
}

/* Every record is busy: say so, once per process. */
static void rec_tell_full(void)
{
	if (async_full_told)
		return;
	async_full_told = true;
	log_warn("all %u asynchronous handshake slots are busy: non-blocking "
		 "connects beyond them run their handshake inside connect() "
		 "(raise async_handshakes; said once)",
		 async_capacity);
}

unsigned rec_index(const struct async_rec *rec)
{
	return (unsigned)(rec - async_recs);
}

void rec_close_efd_if_unused(struct async_rec *rec)
{
	if (rec->state == REC_FREE && rec->pollers == 0 && rec->efd >= 0) {
		real.close(rec->efd);
		rec->efd = -1;
	}
}

/* Forget rec: its descriptors leave the map; the slot becomes free. */
void rec_free(struct async_rec *rec)
{
	for (int i = 0; i < rec->nalias; i++)
		async_map_set(rec->alias[i], 0);
	rec->nalias = 0;
	rec->state = REC_FREE;
	atomic_fetch_sub_explicit(&async_live, 1, memory_order_release);
	rec_close_efd_if_unused(rec);
}

struct async_rec *rec_claim(int fd, const struct endpoint *asked,
			    unsigned capacity)
{
	struct async_rec *rec;

	if (fd < 0 || (unsigned)fd >= FDTAB_MAX_FD || !async_map_ensure() ||
	    !async_pool_ensure(capacity))
		return NULL;
	rec = rec_alloc();
	if (!rec) {
		rec_tell_full();
		return NULL;
	}
	rec->asked = *asked;
	rec->alias[0] = fd;
	rec->nalias = 1;
	rec->state = REC_RUNNING;
	async_running++;
	atomic_fetch_add_explicit(&async_live, 1, memory_order_acq_rel);
	async_map_set(fd, rec_index(rec) + 1);
	return rec;
}

bool rec_add_alias(struct async_rec *rec, int to)
{
	if (rec_alias_index(rec, to) >= 0)
		return true;
	if (rec->nalias == ASYNC_ALIASES)
		return false;
	rec->alias[rec->nalias++] = to;
	async_map_set(to, rec_index(rec) + 1);
	return true;
}

int rec_remove_alias(struct async_rec *rec, int fd)
{
	int i = rec_alias_index(rec, fd);

	if (i < 0)
		return -1;
	async_map_set(fd, 0);
	rec->alias[i] = rec->alias[--rec->nalias];
	for (int r = rec->nregs - 1; r >= 0; r--)
		if (rec->regs[r].tfd == fd)
			rec->regs[r] = rec->regs[--rec->nregs];
	return rec->nalias;
}

unsigned rec_settled(void)
{
	async_running--;
	pthread_cond_broadcast(&async_ended);
	return (unsigned)async_running;
}

/* Bounded: the helper ends each handshake by its deadline, and the wait
 * gives up after ASYNC_SETTLE_ROUNDS one-second rounds in any case. */
void async_wait_settled_locked(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	for (int rounds = 0; async_running > 0 && rounds < ASYNC_SETTLE_ROUNDS;
	     rounds++) {
		if (async_lock_wait(&until) == ETIMEDOUT)
			until.tv_sec += 1;
	}
}

void async_record_after_fork_child(void (*close_private)(struct async_rec *))
{
	pthread_mutex_init(&async_lock, NULL);
	/* Both locks were made anew: the count is back to what it was
	 * before fork's prepare handlers (bind's child handler has let its
	 * hold go already); not 0, when a handler that forked interrupted an
	 * acquire. */
	async_locks_held = async_fork_saved_locks;
	pthread_cond_init(&async_ended, NULL);
	async_full_told = false; /* a new process: told once more if full */
	for (unsigned i = 0; i < async_used; i++) {
		struct async_rec *rec = &async_recs[i];

		rec->pollers = 0;
		if (rec->state == REC_RUNNING) {
			close_private(rec);
			async_running--;
			rec_free(rec);
		}
		rec_close_efd_if_unused(rec);
	}
}
