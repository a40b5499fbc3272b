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

void async_fd_closing(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);

	if (!rec)
		return;
	rec_drop_alias(rec, fd);
	async_lock_release();
}

void async_fd_closing_range(unsigned first, unsigned last)
{
	async_lock_acquire();
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		for (int a = rec->nalias - 1;
		     rec->state != REC_FREE && a >= 0 && a < rec->nalias; a--)
			if ((unsigned)rec->alias[a] >= first &&
			    (unsigned)rec->alias[a] <= last)
				rec_drop_alias(rec, rec->alias[a]);
	}
	async_lock_release();
}

void async_fd_copied(int from, int to)
{
	struct async_rec *rec;

	if (from == to)
		return;
	rec = async_lock_rec(from);
	if (!rec)
		return;
	if (!rec_add_alias(rec, to))
		log_warn("fd %d: too many duplicates of a socket in its "
			 "handshake; fd %d is not tracked",
			 from, to);
	async_lock_release();
}

void async_sets_closing(unsigned first, unsigned last)
{
	async_lock_acquire();
	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		for (int r = rec->nregs - 1;
		     rec->state != REC_FREE && r >= 0 && r < rec->nregs; r--)
			if ((unsigned)rec->regs[r].epfd >= first &&
			    (unsigned)rec->regs[r].epfd <= last)
				rec->regs[r] = rec->regs[--rec->nregs];
	}
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
