/* async.c — the asynchronous handshakes and the descriptors of the
 * program: close and duplicate bookkeeping (through the descriptor
 * registry, common/fdreg.h) and the fork handlers. The rest is in
 * async_record.c, async_drive.c and async_connect.c (async_internal.h).
 *
 * Fork: the prepare handler waits (bounded by the handshake deadlines) until
 * no handshake runs and holds the lock across fork(), so the child inherits
 * settled records and no helper; the child drops the helper's descriptors.
 * exec (preload/exec.c) waits the same way through async_wait_settled(), as
 * the helper vanishes with the old image. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "async_internal.h"
#include "fdreg.h"
#include "log.h"
#include "real.h"

/* ---- descriptor bookkeeping ---- */

/* fd stops being one of rec's descriptors (lock held). With no descriptor
 * left, a running handshake is abandoned: our duplicate closes, so the
 * program's close really ends the connection. */
static void rec_drop_alias(struct async_rec *rec, int fd)
{
	if (rec_remove_alias(rec, fd) != 0)
		return;
	if (rec->state == REC_RUNNING) {
		rec_stop(rec);
		rec_signal(rec);
	}
	rec_free(rec);
}

/* Every alias in [first, last] of the records claimed by the born_max-th
 * claim dropped (lock held). */
static void recs_drop_aliases(unsigned first, unsigned last, uint64_t born_max)
{
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		if (rec->born > born_max)
			continue;
		for (int a = rec->nalias - 1;
		     rec->state != REC_FREE && a >= 0 && a < rec->nalias; a--)
			if ((unsigned)rec->alias[a] >= first &&
			    (unsigned)rec->alias[a] <= last)
				rec_drop_alias(rec, rec->alias[a]);
	}
}

/* Every registration in a set in [first, last] dropped, as above. */
static void recs_drop_sets(unsigned first, unsigned last, uint64_t born_max)
{
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		if (rec->born > born_max)
			continue;
		for (int r = rec->nregs - 1;
		     rec->state != REC_FREE && r >= 0 && r < rec->nregs; r--)
			if ((unsigned)rec->regs[r].epfd >= first &&
			    (unsigned)rec->regs[r].epfd <= last)
				rec->regs[r] = rec->regs[--rec->nregs];
	}
}

/* After notes were lost: every alias whose number is closed, or names
 * another file than the record's socket, dropped (lock held). */
static void recs_sweep_closed(void)
{
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		for (int a = rec->nalias - 1;
		     rec->state != REC_FREE && a >= 0 && a < rec->nalias; a--) {
			struct stat st;
			int fd = rec->alias[a];

			if (fstat(fd, &st) < 0
				? errno == EBADF
				: rec->ino != 0 && st.st_ino != rec->ino)
				rec_drop_alias(rec, fd);
		}
	}
}

/* to becomes one of rec's aliases (lock held). */
static void rec_copy_alias(struct async_rec *rec, int from, int to)
{
	if (!rec_add_alias(rec, to))
		log_warn("fd %d: too many duplicates of a socket in its "
			 "handshake; fd %d is not tracked",
			 from, to);
}

/* ---- calls made by a signal handler inside the subsystem ----
 *
 * close(), dup(), dup2() and close_range() are async-signal-safe, so a
 * handler may make them while the thread it interrupted holds async_lock
 * or sets_lock, or is taking or letting one go (async_locks_held != 0).
 * The handler must not wait for those locks: its thread would wait on
 * itself. Its call is made at once, and what it means for the records is
 * noted here and applied, in order, by the same thread as soon as it has
 * async_lock (async_lock_acquire), before it waits on it and lets it go
 * (async_lock_wait, async_lock_release). A note applies only to records
 * claimed before it was made: a socket another thread made meanwhile on
 * the closed number keeps its handshake.
 *
 * Not covered: while the thread waits for the lock, other threads may act
 * on the closed number (the end of a handshake marks it, a race's winner
 * is put on it, masked registrations are restored in a closed set); the
 * step the handler interrupted goes on with the numbers it had; a number
 * the handler closed that another thread then gets from dup() of a socket
 * in its handshake loses that alias when the note applies. Past
 * ASYNC_DEFERRED_MAX notes in one stretch, closes are found by looking at
 * every alias (recs_sweep_closed); copies and closed epoll sets are lost
 * (logged). */
enum async_deferred_op { DEFER_CLOSE = 1, DEFER_SETS, DEFER_COPY };

struct async_deferred {
	enum async_deferred_op op;
	/* DEFER_CLOSE: the aliases [a, b]; DEFER_SETS: the registrations in
	 * the sets [a, b]; DEFER_COPY: b became a copy of a. */
	int a, b;
	uint64_t born_max; /* records claimed up to the note */
};

#define ASYNC_DEFERRED_MAX 16

static _Thread_local struct async_deferred async_deferred[ASYNC_DEFERRED_MAX]
    __attribute__((tls_model("initial-exec")));
/* How many were noted (past ASYNC_DEFERRED_MAX: lost). Taken with an
 * atomic add, so a handler that interrupts another one's note still gets a
 * slot of its own. */
_Thread_local _Atomic unsigned async_deferred_n
    __attribute__((tls_model("initial-exec")));

static void async_defer(enum async_deferred_op op, unsigned a, unsigned b)
{
	unsigned i;

	if (a > INT_MAX || a > b)
		return;
	if (b > INT_MAX)
		b = INT_MAX;
	i = atomic_fetch_add(&async_deferred_n, 1);
	if (i < ASYNC_DEFERRED_MAX)
		async_deferred[i] = (struct async_deferred){op, (int)a, (int)b,
							    async_births_now()};
}

static void deferred_apply_one(const struct async_deferred *d)
{
	struct async_rec *rec;

	switch (d->op) {
	case DEFER_CLOSE:
		recs_drop_aliases((unsigned)d->a, (unsigned)d->b, d->born_max);
		break;
	case DEFER_SETS:
		recs_drop_sets((unsigned)d->a, (unsigned)d->b, d->born_max);
		break;
	case DEFER_COPY:
		rec = async_rec_locked(d->a);
		if (rec && rec->born <= d->born_max)
			rec_copy_alias(rec, d->a, d->b);
		break;
	}
}

void async_deferred_apply(void)
{
	unsigned done = 0, n = atomic_load(&async_deferred_n);

	/* A handler may note more meanwhile: they land past n. */
	for (;;) {
		for (; done < n && done < ASYNC_DEFERRED_MAX; done++)
			deferred_apply_one(&async_deferred[done]);
		if (atomic_compare_exchange_strong(&async_deferred_n, &n, 0))
			break;
	}
	if (n <= ASYNC_DEFERRED_MAX)
		return;
	recs_sweep_closed();
	log_warn("async: a signal handler closed or copied %u descriptors "
		 "while a handshake step ran; copies and epoll sets past the "
		 "first %u are not tracked",
		 n, ASYNC_DEFERRED_MAX);
}

void async_fd_closing(int fd)
{
	struct async_rec *rec;

	if (async_locks_held != 0) {
		async_defer(DEFER_CLOSE, (unsigned)fd, (unsigned)fd);
		return;
	}
	rec = async_lock_rec(fd);
	if (!rec)
		return;
	rec_drop_alias(rec, fd);
	async_lock_release();
}

void async_fd_closing_range(unsigned first, unsigned last)
{
	if (async_locks_held != 0) {
		async_defer(DEFER_CLOSE, first, last);
		return;
	}
	async_lock_acquire();
	recs_drop_aliases(first, last, UINT64_MAX);
	async_lock_release();
}

void async_fd_copied(int from, int to)
{
	struct async_rec *rec;

	if (from == to)
		return;
	if (async_locks_held != 0) {
		async_defer(DEFER_COPY, (unsigned)from, (unsigned)to);
		return;
	}
	rec = async_lock_rec(from);
	if (!rec)
		return;
	rec_copy_alias(rec, from, to);
	async_lock_release();
}

void async_sets_closing_deferred(unsigned first, unsigned last)
{
	async_defer(DEFER_SETS, first, last);
}

void async_sets_closing(unsigned first, unsigned last)
{
	async_lock_acquire();
	recs_drop_sets(first, last, UINT64_MAX);
}

void async_sets_closed(void)
{
	async_lock_release();
}

/* ---- fork ---- */

void async_wait_settled(void)
{
	async_lock_acquire();
	async_wait_settled_locked();
	async_lock_release();
}

/* Wait until no handshake runs (at most until the latest deadline), then
 * keep the locks (async_epoll.c's sets_lock first) across fork(). */
static void async_before_fork(void)
{
	async_epoll_fork_prepare();
	async_lock_acquire();
	async_wait_settled_locked();
}

/* Both processes now share the epoll sets and the sockets: what one
 * registers, the other cannot see (async_epoll.c). */
static void async_after_fork_parent(void)
{
	async_epoll_forget_all();
	async_lock_release();
	async_epoll_fork_parent();
}

/* The child has no helper: its descriptors go, and a handshake still
 * running (its parent's helper drives it) is not ours to report on. */
static void async_after_fork_child(void)
{
	async_epoll_forget_all();
	async_epoll_fork_child();
	async_helper_after_fork_child();
	async_record_after_fork_child(async_helper_drop_private);
}

/* ---- the registry's callbacks (common/fdreg.h) ---- */

static bool async_active(void)
{
	return !async_idle();
}

static void async_closing(int fd, uint32_t flags)
{
	(void)flags;
	if (!async_idle())
		async_fd_closing(fd);
}

static void async_closing_range(unsigned lo, unsigned hi)
{
	if (!async_idle())
		async_fd_closing_range(lo, hi);
}

/* to really closes only when the dup succeeds, i.e. from is open. */
static void async_replacing(int from, int to, uint32_t flags)
{
	if (!async_idle() && real.fcntl(from, F_GETFD) >= 0)
		async_closing(to, flags);
}

static void async_copied(int from, int to)
{
	if (!async_idle())
		async_fd_copied(from, to);
}

/* The program dup2()s onto from, one of the helper's hidden descriptors:
 * the helper uses to from now on (hidden.h). From a signal handler that
 * interrupted this thread inside the subsystem's locks, it cannot take
 * them: the program's dup2 fails with EBUSY (Linux's "try again" for
 * dup2) and ours stays. */
static int async_moved(int from, int to)
{
	bool ours;

	if (async_locks_held != 0)
		return -EBUSY;
	async_lock_acquire();
	ours = async_helper_moved(from, to);
	async_lock_release();
	return ours ? 0 : -ENOENT;
}

static const struct fdreg_subsystem async_subsystem = {
    .name = "async",
    .active = async_active,
    .closing = async_closing,
    .closing_range = async_closing_range,
    .replacing = async_replacing,
    .copied = async_copied,
    .moved = async_moved,
    .fork_prepare = async_before_fork,
    .fork_parent = async_after_fork_parent,
    .fork_child = async_after_fork_child,
};

void async_register(void)
{
	async_owner_id = fdreg_register(&async_subsystem);
}
