/* fdreg.c — the descriptor registry (see fdreg.h).
 *
 * The table of subsystems is written at load time only (constructors run
 * before any thread of the program), published with a release store of the
 * count, and read without a lock afterwards. */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "fdreg.h"
#include "fdtab.h"
#include "hidden.h"

static const struct fdreg_subsystem *fdreg_table[FDREG_MAX_SUBSYSTEMS];
static _Atomic unsigned fdreg_count;
/* The process's own ID, recorded at registration and by the fork child
 * handler: a vfork child (which runs no handler) sees a different one. */
static _Atomic pid_t fdreg_pid;

static unsigned fdreg_n(void)
{
	return atomic_load_explicit(&fdreg_count, memory_order_acquire);
}

unsigned fdreg_register(const struct fdreg_subsystem *s)
{
	unsigned n = fdreg_n();

	if (n == FDREG_MAX_SUBSYSTEMS)
		return 0;
	fdreg_table[n] = s;
	atomic_store_explicit(&fdreg_pid, getpid(), memory_order_relaxed);
	atomic_store_explicit(&fdreg_count, n + 1, memory_order_release);
	return n + 1;
}

const struct fdreg_subsystem *fdreg_owner(unsigned id)
{
	return id >= 1 && id <= fdreg_n() ? fdreg_table[id - 1] : NULL;
}

_Atomic bool fdreg_vm_shared;

void fdreg_note_vm_shared(void)
{
	atomic_store_explicit(&fdreg_vm_shared, true, memory_order_relaxed);
}

bool fdreg_in_vfork_child(void)
{
	pid_t pid;

	/* A child that shares our memory sets the flag before it exists,
	 * in that memory: without it, this is the process that made none
	 * (or a child with memory of its own, whose table is its own). */
	if (!atomic_load_explicit(&fdreg_vm_shared, memory_order_relaxed))
		return false;
	pid = atomic_load_explicit(&fdreg_pid, memory_order_relaxed);
	return pid != 0 && getpid() != pid;
}

/* True when some subsystem says it holds state outside fdtab. */
static bool fdreg_any_active(void)
{
	unsigned n = fdreg_n();

	for (unsigned i = 0; i < n; i++)
		if (fdreg_table[i]->active && fdreg_table[i]->active())
			return true;
	return false;
}

/* Whether an entry point has work: flags (the fd's, or any entry in a
 * range) or an active subsystem, and not in a vfork child. */
static bool fdreg_has_work(bool flags)
{
	return (flags || fdreg_any_active()) && !fdreg_in_vfork_child();
}

/* Tell every subsystem that fd closes. */
static void fdreg_tell_closing(int fd, uint32_t flags)
{
	unsigned n = fdreg_n();

	for (unsigned i = 0; i < n; i++)
		if (fdreg_table[i]->closing)
			fdreg_table[i]->closing(fd, flags);
}

/* The entry is cleared before the real close: once libc closes the number,
 * another thread may get it back from socket() and record a new entry that
 * a later clear would wipe. */
int fdreg_close(int fd)
{
	uint32_t flags = fdtab_flags(fd);

	/* Only what socket() said about the socket, and no subsystem to
	 * tell: forgotten without asking whether this is a vfork child (no
	 * getpid()). In one, that only makes the parent ask the kernel about
	 * its socket again, as about any socket it did not see made. The
	 * check and the clear are one step under the slot's hold: an entry a
	 * parent's thread makes more of meanwhile (a connect) is left to the
	 * usual way below. */
	if (flags != 0 && !(flags & ~FDTAB_SOCK_FACTS) && !fdreg_any_active()) {
		if (fdtab_forget_facts(fd) == 0)
			return 0;
		flags = fdtab_flags(fd);
	}
	if (!fdreg_has_work(flags != 0))
		return 0;
	if (flags & FDTAB_INTERNAL)
		return -EBADF; /* not the program's descriptor */
	fdreg_tell_closing(fd, flags);
	fdtab_clear(fd);
	return 0;
}

bool fdreg_close_range(unsigned lo, unsigned hi)
{
	unsigned n = fdreg_n();

	/* Nothing of ours in the range: the plain call will do (and a vfork
	 * child must not touch the parent's table anyway). */
	if (lo > hi || (fdtab_next(lo, hi, ~0u) < 0 && !fdreg_any_active()) ||
	    fdreg_in_vfork_child())
		return false;
	for (unsigned i = 0; i < n; i++)
		if (fdreg_table[i]->closing_range)
			fdreg_table[i]->closing_range(lo, hi);
	return true;
}

int fdreg_replacing(int from, int to)
{
	uint32_t flags = fdtab_flags(to);
	unsigned n = fdreg_n();

	if (from == to || !fdreg_has_work(flags != 0))
		return 0;
	if (flags & FDTAB_INTERNAL) /* the number was never the program's */
		return hidden_relocate(to);
	for (unsigned i = 0; i < n; i++) {
		const struct fdreg_subsystem *s = fdreg_table[i];

		if (s->replacing)
			s->replacing(from, to, flags);
		else if (s->closing)
			s->closing(to, flags);
	}
	return 0;
}

void fdreg_copied(int from, int to)
{
	unsigned n = fdreg_n();

	if (from == to ||
	    !fdreg_has_work((fdtab_flags(from) | fdtab_flags(to)) != 0))
		return;
	for (unsigned i = 0; i < n; i++)
		if (fdreg_table[i]->copied)
			fdreg_table[i]->copied(from, to);
	fdtab_copy(from, to);
}

int fdreg_fresh(int fd)
{
	if (fd >= 0 && fdtab_flags(fd) && !fdreg_in_vfork_child())
		fdtab_clear(fd);
	return fd;
}

int fdreg_fresh_socket(int fd, uint32_t facts)
{
	struct fdtab_entry e;

	if (fd < 0 || fdreg_in_vfork_child())
		return fd;
	memset(&e, 0, sizeof e);
	e.flags = facts;
	if (fdtab_set(fd, &e) < 0 && fdtab_flags(fd))
		fdtab_clear(fd);
	return fd;
}

void fdreg_fork_prepare(void)
{
	unsigned n = fdreg_n();

	for (unsigned i = 0; i < n; i++)
		if (fdreg_table[i]->fork_prepare)
			fdreg_table[i]->fork_prepare();
}

void fdreg_fork_parent(void)
{
	for (unsigned i = fdreg_n(); i-- > 0;)
		if (fdreg_table[i]->fork_parent)
			fdreg_table[i]->fork_parent();
}

void fdreg_fork_child(void)
{
	atomic_store_explicit(&fdreg_pid, getpid(), memory_order_relaxed);
	/* First: the subsystems' handlers write entries themselves. */
	fdtab_fork_child();
	for (unsigned i = fdreg_n(); i-- > 0;)
		if (fdreg_table[i]->fork_child)
			fdreg_table[i]->fork_child();
}
