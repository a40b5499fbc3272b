/* supervisor_sockets.c — the sockets the supervisor carried, by inode.
 *
 * The program's socket stays the program's: once the supervisor has
 * connected it to the proxy (or to its DNS responder), the kernel knows
 * only that peer. getpeername() and recvfrom() are therefore notified too,
 * and answered from this table for the sockets in it. A socket inode
 * identifies one open socket across dup, fork and descriptor passing, in
 * every process of the tree.
 *
 * The supervisor does not see close(), so entries are never removed; the
 * table is a fixed array, hashed by inode with a short linear probe, and a
 * full probe window gives up its oldest entry. Socket inodes come from a
 * counter the kernel does not reuse soon, so an old entry is harmless until
 * it is overwritten. One mutex; handler threads hold it for a copy only. */
#include <pthread.h>
#include <string.h>

#include "supervisor_sockets.h"

#define SOCKETS_SLOTS 4096 /* a power of two */
#define SOCKETS_PROBE 8

struct sockets_slot {
	uint64_t ino; /* 0: free */
	uint64_t stamp;
	struct supervisor_socket s;
};

static struct sockets_slot slots[SOCKETS_SLOTS];
static uint64_t clock_stamp;
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t sockets_home(uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 52) &
	       (SOCKETS_SLOTS - 1);
}

/* The slot for ino: its own, else a free one, else the oldest of the
 * probe window. Called with the lock held. */
static struct sockets_slot *sockets_slot_for(uint64_t ino)
{
	struct sockets_slot *oldest = NULL, *free_slot = NULL;
	size_t home = sockets_home(ino);

	for (size_t i = 0; i < SOCKETS_PROBE; i++) {
		struct sockets_slot *slot =
		    &slots[(home + i) & (SOCKETS_SLOTS - 1)];

		if (slot->ino == ino)
			return slot;
		if (slot->ino == 0 && !free_slot)
			free_slot = slot;
		if (!oldest || slot->stamp < oldest->stamp)
			oldest = slot;
	}
	return free_slot ? free_slot : oldest;
}

void supervisor_sockets_put(uint64_t ino, const struct supervisor_socket *s)
{
	struct sockets_slot *slot;

	if (ino == 0)
		return;
	pthread_mutex_lock(&sockets_lock);
	slot = sockets_slot_for(ino);
	slot->ino = ino;
	slot->stamp = ++clock_stamp;
	slot->s = *s;
	pthread_mutex_unlock(&sockets_lock);
}

void supervisor_sockets_forget(uint64_t ino)
{
	struct sockets_slot *slot;

	if (ino == 0)
		return;
	pthread_mutex_lock(&sockets_lock);
	slot = sockets_slot_for(ino);
	if (slot->ino == ino) {
		slot->ino = 0;
		slot->stamp = 0;
	}
	pthread_mutex_unlock(&sockets_lock);
}

bool supervisor_sockets_get(uint64_t ino, struct supervisor_socket *s)
{
	struct sockets_slot *slot;
	bool found = false;

	if (ino == 0)
		return false;
	pthread_mutex_lock(&sockets_lock);
	slot = sockets_slot_for(ino);
	if (slot->ino == ino) {
		*s = slot->s;
		found = true;
	}
	pthread_mutex_unlock(&sockets_lock);
	return found;
}
