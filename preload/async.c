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
#include <sys/resource.h>
#include <sys/stat.h>

#include "async_internal.h"
#include "fdreg.h"
#include "fdtab.h"
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

/* to becomes one of rec's aliases (lock held). */
static void rec_copy_alias(struct async_rec *rec, int from, int to)
{
	if (!rec_add_alias(rec, to))
		log_warn("fd %d: too many duplicates of a socket in its "
			 "handshake; fd %d is not tracked",
			 from, to);
}

/* ---- the sweep, after a signal handler's notes were lost ----
 *
 * The records are made to match the descriptor table (lock held): a
 * running record's socket is known by its private duplicate (the winner's
 * after a race move). A descriptor of the program's that holds it becomes
 * an alias (a copy the handler made); then an alias whose number is
 * closed, or holds another file, goes; then registrations in epoll sets
 * closed meanwhile go. */

/* fd made an alias of the running record whose socket it holds, unless
 * it is closed, ours, or one already. */
static void recs_adopt(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    (fdtab_flags(fd) & FDTAB_INTERNAL))
		return;
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		if (rec->id_known && rec->id_ino == st.st_ino &&
		    rec->id_dev == st.st_dev && rec->state == REC_RUNNING &&
		    fd != rec->priv && rec_alias_index(rec, fd) < 0) {
			rec_copy_alias(rec, fd, fd);
			return;
		}
	}
}

/* recs_adopt for every open descriptor; with no descriptor free to list
 * them, for each number up to the descriptor limit (at most 65536). */
static void recs_adopt_all(void)
{
	struct rlimit rl;
	int top;

	if (async_fds_each(recs_adopt) == 0)
		return;
	top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536
		  ? (int)rl.rlim_cur
		  : 65536;
	for (int fd = 0; fd < top; fd++)
		recs_adopt(fd);
}

static void recs_sweep(void)
{
	struct stat st;

	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		rec->id_known = rec->state == REC_RUNNING && rec->priv >= 0 &&
				fstat(rec->priv, &st) == 0;
		rec->id_dev = rec->id_known ? st.st_dev : 0;
		rec->id_ino = rec->id_known ? st.st_ino : 0;
	}
	recs_adopt_all();
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		for (int a = rec->nalias - 1;
		     rec->state != REC_FREE && a >= 0 && a < rec->nalias; a--) {
			int fd = rec->alias[a];

			if (fstat(fd, &st) < 0
				? errno == EBADF
				: rec->id_known && (st.st_ino != rec->id_ino ||
						    st.st_dev != rec->id_dev))
				rec_drop_alias(rec, fd);
		}
		for (int r = rec->nregs - 1;
		     rec->state != REC_FREE && r >= 0 && r < rec->nregs; r--)
			if (async_epoll_set_gone(rec->regs[r].epfd))
				rec->regs[r] = rec->regs[--rec->nregs];
	}
}

/* ---- calls made by a signal handler inside the subsystem ----
 *
 * What a handler's close, dup, dup2 or close_range means for the records
 * when its thread is inside the subsystem's locks (async_locks_held) is
 * noted (async_note) and applied later by that thread (async_internal.h
 * says when, and what is not covered); these are the effects. */

/* One note's effect (lock held). */
static void note_apply(const struct async_note *note)
{
	struct async_rec *rec;

	switch (note->op) {
	case NOTE_CLOSE:
		recs_drop_aliases((unsigned)note->a, (unsigned)note->b,
				  note->born_max);
		break;
	case NOTE_SETS:
		recs_drop_sets((unsigned)note->a, (unsigned)note->b,
			       note->born_max);
		break;
	case NOTE_COPY:
		rec = async_rec_locked(note->a);
		if (rec && rec->born <= note->born_max)
			rec_copy_alias(rec, note->a, note->b);
		break;
	}
}

static const struct async_note_ops async_note_effects = {
    .apply = note_apply,
    .sweep = recs_sweep,
};

void async_fd_closing(int fd)
{
	struct async_rec *rec;

	if (async_locks_held != 0) {
		async_note(NOTE_CLOSE, (unsigned)fd, (unsigned)fd);
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
		async_note(NOTE_CLOSE, first, last);
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
		async_note(NOTE_COPY, (unsigned)from, (unsigned)to);
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
	async_note(NOTE_SETS, first, last);
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
	async_fork_saved_locks = async_locks_held;
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
	async_note_ops_set(&async_note_effects);
	async_owner_id = fdreg_register(&async_subsystem);
}
