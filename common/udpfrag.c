/* udpfrag.c — reassembly of fragmented SOCKS5 UDP datagrams, as RFC 1928
 * section 7 describes it:
 *
 *	"Each receiver will have a REASSEMBLY QUEUE and a REASSEMBLY TIMER
 *	associated with these fragments. The reassembly queue must be
 *	reinitialized and the associated fragments abandoned whenever the
 *	REASSEMBLY TIMER expires, or a new datagram arrives carrying a FRAG
 *	field whose value is less than the highest FRAG value processed for
 *	this fragment sequence."
 *
 * A queue belongs to one owner (the caller's key for the association)
 * and one source. Positions must come 1, 2, 3, ... : UDP gives no way to
 * ask for a lost fragment again, so a gap ends the sequence, and so does a
 * position below the highest (a new sequence when it is 1). Position 1
 * always starts anew (a repeated first fragment loses nothing); a later
 * position repeated is a duplicate, ignored. The whole is
 * bounded by UDPFRAG_MAX bytes and the table by UDPFRAG_QUEUES queues, so
 * the memory is fixed: no allocation here. */
#include "udpfrag.h"

#include <string.h>

#include "iovec.h"

#define POSITION_MASK 0x7f
#define POSITION_LAST 127

void udpfrag_init(struct udpfrag_table *t)
{
	for (size_t i = 0; i < UDPFRAG_QUEUES; i++)
		udpfrag_release(&t->q[i]);
}

void udpfrag_release(struct udpfrag_queue *q)
{
	q->busy = false;
	q->owner = 0;
	q->high = 0;
	q->len = 0;
	q->started_ms = 0;
}

void udpfrag_forget(struct udpfrag_table *t, uint64_t owner)
{
	for (size_t i = 0; i < UDPFRAG_QUEUES; i++)
		if (t->q[i].busy && t->q[i].owner == owner)
			udpfrag_release(&t->q[i]);
}

unsigned udpfrag_busy(const struct udpfrag_table *t)
{
	unsigned n = 0;

	for (size_t i = 0; i < UDPFRAG_QUEUES; i++)
		n += t->q[i].busy;
	return n;
}

const char *udpfrag_why_text(enum udpfrag_why why)
{
	switch (why) {
	case UDPFRAG_OK:
		return "ok";
	case UDPFRAG_BAD_POSITION:
		return "not a fragment position";
	case UDPFRAG_OUT_OF_ORDER:
		return "fragment out of order, sequence abandoned";
	case UDPFRAG_DUPLICATE:
		return "duplicate fragment ignored";
	case UDPFRAG_OVERSIZED:
		return "reassembled datagram too large, sequence abandoned";
	}
	return "?";
}

/* Abandon the queues whose reassembly timer has run out at now_ms. */
static void expire(struct udpfrag_table *t, uint64_t now_ms)
{
	for (size_t i = 0; i < UDPFRAG_QUEUES; i++) {
		struct udpfrag_queue *q = &t->q[i];

		if (q->busy && now_ms - q->started_ms >= UDPFRAG_TIMEOUT_MS)
			udpfrag_release(q);
	}
}

/* The queue of owner and src, or NULL. */
static struct udpfrag_queue *find(struct udpfrag_table *t, uint64_t owner,
				  const struct endpoint *src)
{
	for (size_t i = 0; i < UDPFRAG_QUEUES; i++) {
		struct udpfrag_queue *q = &t->q[i];

		if (q->busy && q->owner == owner &&
		    endpoint_equal(&q->src, src))
			return q;
	}
	return NULL;
}

/* A queue for a new sequence: a free one, else the oldest (abandoned). */
static struct udpfrag_queue *claim(struct udpfrag_table *t, uint64_t owner,
				   const struct endpoint *src, uint64_t now_ms)
{
	struct udpfrag_queue *q = &t->q[0];

	for (size_t i = 0; i < UDPFRAG_QUEUES; i++) {
		if (!t->q[i].busy) {
			q = &t->q[i];
			break;
		}
		if (t->q[i].started_ms < q->started_ms)
			q = &t->q[i];
	}
	udpfrag_release(q);
	q->busy = true;
	q->owner = owner;
	q->src = *src;
	q->started_ms = now_ms;
	return q;
}

/* Drop with a reason; abandon q first when given. */
static enum udpfrag_verdict drop(struct udpfrag_queue *q, enum udpfrag_why *why,
				 enum udpfrag_why reason)
{
	if (q)
		udpfrag_release(q);
	*why = reason;
	return UDPFRAG_DROPPED;
}

enum udpfrag_verdict udpfrag_add(struct udpfrag_table *t, uint64_t owner,
				 const struct endpoint *src, uint8_t frag,
				 const struct iovec *iov, size_t count,
				 size_t off, size_t len, uint64_t now_ms,
				 struct udpfrag_queue **done,
				 enum udpfrag_why *why)
{
	uint8_t pos = frag & POSITION_MASK;
	struct udpfrag_queue *q;

	*why = UDPFRAG_OK;
	*done = NULL;
	expire(t, now_ms);
	if (pos == 0)
		return drop(NULL, why, UDPFRAG_BAD_POSITION);
	q = find(t, owner, src);
	if (q && pos == q->high && pos > 1)
		return drop(NULL, why, UDPFRAG_DUPLICATE);
	if (q && pos <= q->high) {
		udpfrag_release(q); /* RFC 1928: reinitialise the queue */
		q = NULL;
	}
	if (q && pos != q->high + 1)
		return drop(q, why, UDPFRAG_OUT_OF_ORDER);
	if (!q && pos != 1)
		return drop(NULL, why, UDPFRAG_OUT_OF_ORDER);
	if (!q)
		q = claim(t, owner, src, now_ms);
	if (len > UDPFRAG_MAX - q->len)
		return drop(q, why, UDPFRAG_OVERSIZED);
	if (iovec_copy_out(iov, count, off, q->data + q->len, len) != len)
		return drop(q, why, UDPFRAG_OVERSIZED);
	q->len += len;
	q->high = pos;
	if (frag & UDPFRAG_END) {
		*done = q;
		return UDPFRAG_DONE;
	}
	if (pos == POSITION_LAST) /* no position left for the end */
		return drop(q, why, UDPFRAG_OUT_OF_ORDER);
	return UDPFRAG_HELD;
}
