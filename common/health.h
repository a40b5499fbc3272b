/* health.h — which chains of a run are down, and each group's turn
 * counter, in memory shared by every process of one socksify run (a file
 * in /dev/shm next to the fake-DNS map, or an anonymous mapping shared with
 * fork children). All zero is the initial state: everything up. Updated
 * with atomics only, never under a lock, so a connect in any thread or
 * process reads and writes it freely. */
#ifndef SOCKSIFY_HEALTH_H
#define SOCKSIFY_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "sys_io.h"

struct health {
	/* netio_now_ms() time until which chains[i] is down; 0: up. */
	_Atomic uint64_t down_until_ms[CONFIG_MAX_CHAINS];
	/* Bumped by every plan through groups[i] (round-robin, random). */
	_Atomic uint32_t turn[CONFIG_MAX_GROUPS];
	/* Race groups: the member that won the latest race of groups[i],
	 * where the next race starts. */
	_Atomic uint32_t preferred[CONFIG_MAX_GROUPS];
};

/* Map the table: the file at path (created 0600 if missing; it must be a
 * regular file of ours), or with path NULL an anonymous shared mapping.
 * Returns 0 with *out set, or -errno. errno is left as it was. */
int health_attach(const struct sys_io *io, const char *path,
		  struct health **out);

/* h may be NULL in the three calls below: then every chain is up, and
 * marks are dropped. */
bool health_is_down(const struct health *h, unsigned chain, uint64_t now_ms);
void health_mark_down(struct health *h, unsigned chain, uint64_t until_ms);
void health_mark_up(struct health *h, unsigned chain);

/* The next turn of group (its previous value), counted in h. */
uint32_t health_next_turn(struct health *h, unsigned group);

/* A race group's preferred member (0 at first), and setting it: the
 * member that won its latest race. h NULL: per process. */
unsigned health_preferred(const struct health *h, unsigned group);
void health_prefer(struct health *h, unsigned group, unsigned member);

#endif
