/* fdreg.h — the descriptor registry: the one place that hears what happens
 * to a program's descriptors (close, close_range, duplicate, fork) and tells
 * every subsystem that keeps per-descriptor state, in one documented order.
 *
 * The per-descriptor facts themselves live in fdtab (fdtab.h); a subsystem
 * with state of its own (a table, a list, a thread) registers a struct
 * fdreg_subsystem of callbacks. The preload layer's hooks then read:
 * decide, call the registry, call libc.
 *
 * Order: subsystems are called in the order they were registered, which is
 * also the order of their locks (the first one's lock is taken before the
 * second one's, never the reverse): fork prepare handlers run in that
 * order, parent and child handlers in the reverse one.
 *
 * vfork: a vfork() child runs in its parent's memory with its own
 * descriptor table, so it must not change the parent's state. Every entry
 * point below checks that (one getpid(), only when there is state) and then
 * does nothing; the one exception is fdreg_close() of a socket whose entry
 * holds only socket()'s facts (FDTAB_SOCK_FACTS), which is forgotten either
 * way: losing them costs the parent a question to the kernel, never a
 * wrong answer.
 *
 * Cost: while no descriptor has an entry and no subsystem is active, each
 * entry point is one lock-free load per registered subsystem plus one for
 * the fd; no lock, no allocation (safe in signal handlers as far as the
 * subsystems' own callbacks are). */
#ifndef SOCKSIFY_FDREG_H
#define SOCKSIFY_FDREG_H

#include <stdbool.h>
#include <stdint.h>

/* At most this many subsystems register. */
#define FDREG_MAX_SUBSYSTEMS 8

/* One subsystem's callbacks; any may be NULL. flags are the descriptor's
 * fdtab flags at the time of the call. */
struct fdreg_subsystem {
	const char *name;
	/* True while the subsystem holds state that fdtab's flags do not
	 * show (one atomic load). NULL: all its state is in fdtab. */
	bool (*active)(void);
	/* The program closes fd. */
	void (*closing)(int fd, uint32_t flags);
	/* The program closes every descriptor in [lo, hi]. */
	void (*closing_range)(unsigned lo, unsigned hi);
	/* The program duplicates from onto to (dup2/dup3): to's file goes
	 * if the call succeeds. NULL: closing(to, flags) is called. */
	void (*replacing)(int from, int to, uint32_t flags);
	/* A duplication succeeded: to is now a copy of from. */
	void (*copied)(int from, int to);
	/* One of this subsystem's hidden descriptors moved from from to to
	 * (see hidden.h): from now on the subsystem uses to, and the
	 * program's dup2/dup3 replaces from. Returns 0, or -ENOENT when from
	 * is no longer the subsystem's (it is closing from itself): the copy
	 * at to is then closed by hidden_relocate; any other -errno when the
	 * subsystem cannot follow now: the copy is closed and the program's
	 * call fails with that error, leaving from as it was. */
	int (*moved)(int from, int to);
	/* fork(): prepare (take the lock), then parent or child. */
	void (*fork_prepare)(void);
	void (*fork_parent)(void);
	void (*fork_child)(void);
};

/* Register s (kept by pointer) after those registered before, at load
 * time. Returns its owner id (> 0) for hidden descriptors, or 0 when the
 * table is full (FDREG_MAX_SUBSYSTEMS). */
unsigned fdreg_register(const struct fdreg_subsystem *s);

/* The subsystem with owner id, or NULL. */
const struct fdreg_subsystem *fdreg_owner(unsigned id);

/* True in a vfork() child: one that shares the process's memory but has
 * its own descriptors, whose hooks must leave the parent's table alone.
 * Asked of getpid() (the process ID differs from the one recorded at
 * registration and after each fork) only once such a child may have been
 * made (fdreg_vm_shared); before that, and while nothing registered, false
 * with no system call. */
bool fdreg_in_vfork_child(void);

/* Set once a child sharing the process's memory may have been made (vfork,
 * or clone with CLONE_VM and not CLONE_THREAD), and never cleared, but by
 * the unit tests: preload/vmchild.c's vfork and clone store to it by name,
 * before libc's make the child. One byte. */
extern _Atomic bool fdreg_vm_shared;

/* Set fdreg_vm_shared. */
void fdreg_note_vm_shared(void);

/* The program's close(fd): 0 to go on to the real close (the state of fd
 * is forgotten first), or -EBADF when fd is one of our hidden descriptors
 * (nothing is closed). */
int fdreg_close(int fd);

/* The program's close_range(lo, hi) (or closefrom): true when the
 * subsystems were told and the caller must step around our hidden
 * descriptors (hidden_next); false when nothing of ours is in the range, or
 * in a vfork child (make the plain call). */
bool fdreg_close_range(unsigned lo, unsigned hi);

/* Before dup2/dup3(from, to): a hidden descriptor at to moves away, and
 * the subsystems let go of to's old file. Returns 1 when one of ours
 * moved away from to: should the program's call fail, the caller closes
 * to (see hidden_relocate); 0 when nothing of ours was there; -errno when
 * one of ours is at to and cannot move (no descriptor free for the copy,
 * or its owner cannot follow now): the caller must fail the program's
 * call with that error instead of making it, or ours would be replaced
 * under its owner. */
int fdreg_replacing(int from, int to);

/* After a successful dup, dup2, dup3, fcntl(F_DUPFD*): to is a copy of
 * from. */
void fdreg_copied(int from, int to);

/* A descriptor the kernel just handed out (socket, accept): any entry for
 * its number is stale. Returns fd (a negative fd is left alone). */
int fdreg_fresh(int fd);

/* fdreg_fresh() for an IP socket that socket() just made, recording facts
 * (FDTAB_SOCK_*, from socket()'s arguments) with the socket's inode.
 *
 * Why connect() may trust them without asking the kernel again: every
 * close, dup and socket() that goes through the hooks keeps the entry
 * right, and a copy (dup) carries the facts of the same socket. Only a
 * descriptor closed behind our back (a libc-internal close) whose number
 * is then reused by a socket made where no hook sees it (SCM_RIGHTS,
 * io_uring) can hold another socket's facts. The proxied path then fails
 * closed (its first sendto() to the proxy fails, or the proxy never
 * answers a datagram): nothing leaves for the destination directly. The
 * blocking flag may also be stale (another descriptor of the same open
 * file, or another process sharing it, changed it; fcntl(F_SETFL) and
 * ioctl(FIONBIO) through the hooks keep it right for the descriptor they
 * name): a cached "non-blocking" is checked
 * with the kernel before use, a cached "blocking" is safe to trust (see
 * preload/connect.c). Entries with a recorded inode keep fdtab_get()'s
 * check for every later reader. Returns fd. */
int fdreg_fresh_socket(int fd, uint32_t facts);

/* pthread_atfork handlers: prepare in registration order, parent and
 * child in reverse (the child records its new process ID first). */
void fdreg_fork_prepare(void);
void fdreg_fork_parent(void);
void fdreg_fork_child(void);

#endif
