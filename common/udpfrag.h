/* udpfrag.h — reassembly of fragmented SOCKS5 UDP datagrams (RFC 1928
 * section 7): the relay may split one datagram into fragments numbered
 * 1..127 in the FRAG byte, the last one with the high bit set. Pure logic
 * over a fixed table (no allocation, no clock, no lock): the caller passes
 * the time and serialises calls on one table. */
#ifndef SOCKSIFY_UDPFRAG_H
#define SOCKSIFY_UDPFRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "endpoint.h"

/* Reassembly queues per table: one per (owner, source) sequence under way,
 * owner being the caller's key for an association.
 * A new sequence when all are busy replaces the oldest one. */
#define UDPFRAG_QUEUES 4
/* The largest reassembled payload: what one UDP datagram can carry. */
#define UDPFRAG_MAX 65507
/* The reassembly timer (RFC 1928: no less than 5 seconds). */
#define UDPFRAG_TIMEOUT_MS 5000
/* FRAG's high bit: the last fragment of a sequence. */
#define UDPFRAG_END 0x80

/* One sequence being put together. */
struct udpfrag_queue {
	bool busy;	     /* in use */
	uint64_t owner;	     /* the caller's key (the association's id) */
	struct endpoint src; /* where the fragments come from */
	uint8_t high;	     /* the highest position taken (0: empty) */
	uint64_t started_ms; /* when its first fragment came */
	size_t len;	     /* payload bytes held */
	uint8_t data[UDPFRAG_MAX];
};

struct udpfrag_table {
	struct udpfrag_queue q[UDPFRAG_QUEUES];
};

/* What udpfrag_add() did with a fragment. */
enum udpfrag_verdict {
	UDPFRAG_HELD,	 /* queued: more fragments are needed */
	UDPFRAG_DONE,	 /* the datagram is whole: see udpfrag_add() */
	UDPFRAG_DROPPED, /* refused (see the reason); nothing delivered */
};

/* Why a fragment or a sequence was dropped (for the log). */
enum udpfrag_why {
	UDPFRAG_OK,
	UDPFRAG_BAD_POSITION, /* FRAG 0 or 0x80: not a fragment */
	UDPFRAG_OUT_OF_ORDER, /* a position skipped: the sequence abandoned */
	UDPFRAG_DUPLICATE,    /* a position already taken: ignored */
	UDPFRAG_OVERSIZED,    /* the whole would pass UDPFRAG_MAX: abandoned */
};

/* Empty every queue. */
void udpfrag_init(struct udpfrag_table *t);

/* Add the fragment at position frag (FRAG, 1..127 plus UDPFRAG_END) from
 * src for owner, its payload being len bytes at offset off of the iovec
 * string iov[0..count). Queues older than UDPFRAG_TIMEOUT_MS at now_ms are
 * abandoned first. A position below the highest taken abandons the
 * sequence (RFC 1928), and position 1 starts a new one; a skipped position
 * abandons it too (the fragment between was lost); position 1 always
 * starts a new sequence, a later position repeated is ignored. On UDPFRAG_DONE,
 * *done is the queue holding the whole datagram (data, len, src): the caller
 * reads it and then calls udpfrag_release(). *why says why on
 * UDPFRAG_DROPPED. */
enum udpfrag_verdict udpfrag_add(struct udpfrag_table *t, uint64_t owner,
				 const struct endpoint *src, uint8_t frag,
				 const struct iovec *iov, size_t count,
				 size_t off, size_t len, uint64_t now_ms,
				 struct udpfrag_queue **done,
				 enum udpfrag_why *why);

/* Free a queue (after its whole datagram was read). */
void udpfrag_release(struct udpfrag_queue *q);

/* Abandon every queue of owner (its association ended). */
void udpfrag_forget(struct udpfrag_table *t, uint64_t owner);

/* Queues in use (for tests and the log). */
unsigned udpfrag_busy(const struct udpfrag_table *t);

/* A short text for why. */
const char *udpfrag_why_text(enum udpfrag_why why);

#endif
