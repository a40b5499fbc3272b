/* directset.c — addresses of direct names (see directset.h). */
#include "directset.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

struct directset_slot {
	_Atomic uint32_t seq; /* odd while being written; 0: never written */
	_Atomic uint32_t kind;
	_Atomic uint64_t hi, lo; /* the 16 address bytes (IPv4: first 4) */
};

static struct directset_slot directset_slots[DIRECTSET_SLOTS];
static _Atomic uint32_t directset_next;
/* Set once the table has wrapped around: from then on every slot may
 * hold an address, whatever directset_next (which may wrap too) says. */
static _Atomic bool directset_full;

/* The address bytes of ep as two words; false for a non-IP endpoint. */
static bool directset_words(const struct endpoint *ep, uint64_t *hi,
			    uint64_t *lo)
{
	uint8_t bytes[16] = {0};

	if (ep->kind == ENDPOINT_IPV4)
		memcpy(bytes, ep->u.ipv4, 4);
	else if (ep->kind == ENDPOINT_IPV6)
		memcpy(bytes, ep->u.ipv6, 16);
	else
		return false;
	memcpy(hi, bytes, 8);
	memcpy(lo, bytes + 8, 8);
	return true;
}

void directset_add(const struct endpoint *ep)
{
	struct directset_slot *s;
	uint64_t hi, lo;
	uint32_t seq, n;

	if (!directset_words(ep, &hi, &lo) || directset_contains(ep))
		return;
	n = atomic_fetch_add(&directset_next, 1);
	if (n >= DIRECTSET_SLOTS - 1)
		atomic_store(&directset_full, true);
	s = &directset_slots[n % DIRECTSET_SLOTS];
	/* Two writers on one slot (the table wrapped around meanwhile) may
	 * leave it odd or mixed; readers then skip it, which only forgets. */
	seq = atomic_fetch_add(&s->seq, 1) + 1;
	atomic_store(&s->kind, (uint32_t)ep->kind);
	atomic_store(&s->hi, hi);
	atomic_store(&s->lo, lo);
	atomic_store(&s->seq, seq + 1);
}

/* Does slot s hold ep's words, read consistently? */
static bool directset_slot_is(struct directset_slot *s, uint32_t kind,
			      uint64_t hi, uint64_t lo)
{
	uint32_t before = atomic_load(&s->seq);
	bool same;

	if (before == 0 || (before & 1))
		return false;
	same = atomic_load(&s->kind) == kind && atomic_load(&s->hi) == hi &&
	       atomic_load(&s->lo) == lo;
	return same && atomic_load(&s->seq) == before;
}

bool directset_contains(const struct endpoint *ep)
{
	uint32_t used = atomic_load(&directset_next);
	uint64_t hi, lo;
	unsigned i;

	/* Slots are handed out in order: only the first "used" were ever
	 * written, so a process with no direct name (the common case) looks
	 * at none. A slot handed out after the load is being written, and
	 * would be skipped anyway. */
	if (atomic_load(&directset_full) || used > DIRECTSET_SLOTS)
		used = DIRECTSET_SLOTS;
	if (used == 0 || !directset_words(ep, &hi, &lo))
		return false;
	for (i = 0; i < used; i++)
		if (directset_slot_is(&directset_slots[i], (uint32_t)ep->kind,
				      hi, lo))
			return true;
	return false;
}

void directset_clear(void)
{
	memset(directset_slots, 0, sizeof(directset_slots));
	atomic_store(&directset_next, 0);
	atomic_store(&directset_full, false);
}
