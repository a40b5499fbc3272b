/* hidden.c — socksify's own descriptors (see hidden.h). No lock: each
 * step is one fdtab write; the owner updates its own records under its
 * own lock in its moved() callback. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "fdreg.h"
#include "hidden.h"

static const struct hidden_io *hidden_sys;

void hidden_init(const struct hidden_io *io)
{
	hidden_sys = io;
}

int hidden_floor(void)
{
	unsigned long limit = hidden_sys->fd_limit();
	unsigned long floor = limit / 2;

	if (floor < HIDDEN_FLOOR_MIN)
		floor = HIDDEN_FLOOR_MIN;
	if (floor > HIDDEN_FLOOR_MAX || limit == 0)
		floor = HIDDEN_FLOOR_MAX;
	if (limit != 0 && floor >= limit)
		floor = limit > 1 ? limit - 1 : 0;
	return (int)floor;
}

/* Mark fd internal for owner, keeping the rest of *entry. */
static int hidden_mark(int fd, unsigned owner, const struct fdtab_entry *entry)
{
	struct fdtab_entry e;

	if (entry)
		e = *entry;
	else
		memset(&e, 0, sizeof e);
	e.flags |= FDTAB_INTERNAL;
	e.owner_id = owner;
	e.inode = 0;
	return fdtab_set(fd, &e);
}

int hidden_take(int fd, unsigned owner, const struct fdtab_entry *entry)
{
	int floor = hidden_floor(), moved;

	if (fd < floor) {
		moved = hidden_sys->dup_from(fd, floor);
		if (moved >= 0) {
			hidden_sys->close(fd);
			fd = moved;
		}
	}
	/* Unmarked (no memory for the table), it still works; the program
	 * just is not kept from it. */
	hidden_mark(fd, owner, entry);
	return fd;
}

void hidden_close(int *fd)
{
	if (*fd < 0)
		return;
	fdtab_clear(*fd);
	hidden_sys->close(*fd);
	*fd = -1;
}

int hidden_next(unsigned lo, unsigned hi)
{
	return fdtab_next(lo, hi, FDTAB_INTERNAL);
}

int hidden_relocate(int fd)
{
	const struct fdreg_subsystem *owner;
	struct fdtab_entry e;
	int moved, rc;

	if (fdtab_get_unchecked(fd, &e) < 0 || !(e.flags & FDTAB_INTERNAL))
		return 0;
	moved = hidden_sys->dup_from(fd, hidden_floor());
	if (moved < 0)
		moved = hidden_sys->dup_from(fd, 0);
	if (moved < 0)
		return moved;
	e.inode = 0;
	if (fdtab_set(moved, &e) < 0) {
		hidden_sys->close(moved);
		return -ENOMEM;
	}
	owner = fdreg_owner(e.owner_id);
	rc = owner && owner->moved ? owner->moved(fd, moved) : -ENOENT;
	if (rc < 0) {
		/* -ENOENT: no longer the owner's (it is closing fd itself
		 * now): fd is left to the owner. Otherwise the owner cannot
		 * follow now: fd stays its, and the program's call fails. */
		fdtab_clear(moved);
		hidden_sys->close(moved);
		return rc == -ENOENT ? 0 : rc;
	}
	fdtab_clear(fd); /* the program's call replaces it */
	return 1;
}
