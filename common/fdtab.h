/* fdtab.h — what socksify knows about a program's descriptor: the
 * destination it asked for on a proxied socket. O(1) by fd number; chunks are
 * mmap'ed on first use and never freed; readers use a sequence counter, so
 * lookups take no lock and are safe in signal handlers.
 *
 * Each entry records the socket's inode: a descriptor closed behind our back
 * (fclose, a libc-internal close) and reused is detected and ignored. */
#ifndef SOCKSIFY_FDTAB_H
#define SOCKSIFY_FDTAB_H

#include <stdint.h>

#include "endpoint.h"

#define FDTAB_PROXIED 0x1u
/* One of socksify's own descriptors (a BIND control connection): hidden
 * from the program, whose close() of it fails with EBADF. */
#define FDTAB_INTERNAL 0x4u

struct fdtab_entry {
	uint32_t flags;
	uint64_t inode; /* st_ino of the socket when recorded */
	struct endpoint dest; /* what the program connected to */
};

/* Record e for fd. When e->inode is 0, fd's current inode is recorded.
 * Returns 0, -EBADF for a negative or huge fd (>= 2^20), -ENOMEM. */
int fdtab_set(int fd, const struct fdtab_entry *e);

/* Copy fd's entry to out. Returns 0 or -ENOENT (no entry, or the inode no
 * longer matches the descriptor's current socket). */
int fdtab_get(int fd, struct fdtab_entry *out);

void fdtab_clear(int fd);
/* Clear [lo, hi] inclusive (close_range semantics; hi may be ~0U). */
void fdtab_clear_range(unsigned lo, unsigned hi);
/* Make to's entry a copy of from's (dup2 semantics: to's old entry goes). */
void fdtab_copy(int from, int to);

#endif
