/* hidden.h — socksify's own descriptors inside the program (a UDP
 * association's control connection, a BIND's control and wake-up
 * connections, the handshake thread's epoll set and eventfd): where they
 * live and how they stay out of the program's way.
 *
 * Policy: an internal descriptor is moved, close-on-exec, to the lowest
 * free number at or above the hidden floor (half the soft RLIMIT_NOFILE,
 * kept within [HIDDEN_FLOOR_MIN, HIDDEN_FLOOR_MAX] and below the limit), so
 * the program's low numbers stay the program's. It is marked FDTAB_INTERNAL
 * in fdtab with its owner's registry id (fdreg.h); the registry then makes
 * the program's close() of it fail with EBADF, close_range()/closefrom()
 * step around it (hidden_next), and dup2()/dup3() onto it move it first
 * (hidden_relocate, which tells the owner the new number). */
#ifndef SOCKSIFY_HIDDEN_H
#define SOCKSIFY_HIDDEN_H

#include "fdtab.h"

#define HIDDEN_FLOOR_MIN 256
#define HIDDEN_FLOOR_MAX 4096

/* The system calls the module makes (the preload layer passes libc's real
 * ones, the unit tests their own). */
struct hidden_io {
	/* fcntl(fd, F_DUPFD_CLOEXEC, floor): the new fd or -errno. */
	int (*dup_from)(int fd, int floor);
	/* close(fd), past every hook. */
	void (*close)(int fd);
	/* The soft RLIMIT_NOFILE, or 0 when unknown or unlimited. */
	unsigned long (*fd_limit)(void);
};

/* Set the system calls (once, at load, before any thread). */
void hidden_init(const struct hidden_io *io);

/* The lowest number a hidden descriptor is moved to. */
int hidden_floor(void);

/* Move fd (just opened by us) to the hidden range and mark it internal,
 * owned by registry id owner, with the rest of *entry (NULL: none) kept.
 * Returns the descriptor to use (fd itself when it cannot move). */
int hidden_take(int fd, unsigned owner, const struct fdtab_entry *entry);

/* Forget fd's mark and close it; *fd becomes -1. No-op on -1. */
void hidden_close(int *fd);

/* The lowest hidden descriptor in [lo, hi], or -1. */
int hidden_next(unsigned lo, unsigned hi);

/* The program's dup2()/dup3() is about to replace number fd, one of ours:
 * put a copy of ours at another hidden number and tell its owner
 * (fdreg_subsystem.moved). The old number is left open for the program's
 * call, which replaces it atomically (closing it here first would let
 * another thread's socket() take the number in between). Returns 1 when
 * ours moved (if the program's call then fails, the caller closes fd: it
 * is our stale reference), 0 when fd is not ours (or its owner was already
 * letting it go: the copy is dropped and the owner closes fd), or -errno
 * when ours cannot move (no copy could be made, or the owner cannot follow
 * now): fd stays ours, and the program's call must fail with that error. */
int hidden_relocate(int fd);

#endif
