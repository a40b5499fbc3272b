/* fdtab.c — per-descriptor state, indexed by fd number.
 *
 * Layout: a static top-level array of chunk pointers; a chunk of
 * FDTAB_CHUNK slots is mmap'ed the first time one of its descriptors is set,
 * installed with a compare-and-swap (the loser unmaps its copy), and never
 * freed, so a reader can hold a chunk pointer without any lock.
 *
 * Each slot is a sequence lock. A writer makes the counter odd (claiming it
 * with a compare-and-swap, so writers exclude each other), stores the entry
 * as relaxed atomic words, then makes the counter even again. A reader
 * copies the words and retries, a bounded number of times, while the counter
 * was odd or changed under it. Because every word is an atomic, a torn read
 * is detected, never undefined behaviour.
 *
 * A writer never takes over a slot another writer holds: two writers
 * interleaving their words would leave an entry that no one wrote, and a
 * reader could accept it. Who can find a slot held:
 *  - another live thread, usually for a few nanoseconds: the writer spins,
 *    yields, then sleeps, and gives up with -EAGAIN after FDTAB_WAIT_NS (the
 *    holder was descheduled that long; the caller treats the entry as not
 *    recorded);
 *  - a signal handler that interrupted its own thread's write of the very
 *    slot: waiting would never end, so each thread keeps a chain of the
 *    slots it is writing (fdtab_holds, in its stack frames) and a nested
 *    write of one of them fails at once with -EAGAIN;
 *  - a fork child, when a thread that does not exist in the child was
 *    writing: fdtab_fork_child() empties such slots (their content is
 *    half written) and frees them.
 * The chunks are private memory, so a fork child inherits a copy of the
 * table, which is right: it inherits the descriptors too. */
#include <errno.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "fdtab.h"

#define FDTAB_CHUNK_BITS 6
#define FDTAB_CHUNK	 (1u << FDTAB_CHUNK_BITS)
#define FDTAB_TOP	 (FDTAB_MAX_FD / FDTAB_CHUNK)
#define FDTAB_WORDS	 ((sizeof(struct fdtab_entry) + 7) / 8)
/* The word-by-word copies of a slot (a few dozen relaxed atomic loads or
 * stores, which the compiler may not merge) run on every socket(),
 * connect() and close(): unrolled, they cost half the instructions. */
#define FDTAB_UNROLL _Pragma("GCC unroll 8")
/* Busy-wait rounds before yielding, and yields before a reader gives up
 * or a writer starts to sleep. */
#define FDTAB_SPINS	 64
#define FDTAB_YIELDS	 256
#define FDTAB_READ_TRIES (FDTAB_SPINS + FDTAB_YIELDS)
/* How long a writer waits for a slot another thread holds, and its naps. */
#define FDTAB_WAIT_NS 1000000000L
#define FDTAB_NAP_NS  100000L

struct fdtab_slot {
	_Atomic uint32_t seq;
	_Atomic uint64_t stamp; /* fdtab_due()'s last time, outside the lock */
	_Atomic uint64_t words[FDTAB_WORDS];
};

/* An entry and its word image, for copying in and out of a slot. */
union fdtab_image {
	struct fdtab_entry entry;
	uint64_t words[FDTAB_WORDS];
};

static _Atomic(struct fdtab_slot *) fdtab_top[FDTAB_TOP];

/* A write this thread has in progress (claimed, or about to be), and the
 * one it interrupted: a signal handler's write nests inside its thread's. */
struct fdtab_hold {
	struct fdtab_slot *slot;
	struct fdtab_hold *outer;
};

/* The innermost write of this thread. initial-exec: reading it allocates
 * nothing, so a signal handler may. */
static _Thread_local struct fdtab_hold *fdtab_holds
    __attribute__((tls_model("initial-exec")));

/* A writer's wait for a slot another thread holds. */
struct fdtab_wait {
	unsigned attempt;
	struct timespec start;
};

/* Pause between attempts: spin first, then let the holder run. */
static void fdtab_backoff(unsigned attempt)
{
	if (attempt >= FDTAB_SPINS)
		sched_yield();
}

/* The chunk holding fd, or NULL when none was ever allocated. */
static struct fdtab_slot *fdtab_chunk(unsigned fd)
{
	return atomic_load_explicit(&fdtab_top[fd >> FDTAB_CHUNK_BITS],
				    memory_order_acquire);
}

/* The chunk holding fd, allocated and installed when missing.
 * Returns NULL when memory cannot be mapped. */
static struct fdtab_slot *fdtab_chunk_create(unsigned fd)
{
	_Atomic(struct fdtab_slot *) *top = &fdtab_top[fd >> FDTAB_CHUNK_BITS];
	struct fdtab_slot *chunk =
	    atomic_load_explicit(top, memory_order_acquire);
	struct fdtab_slot *fresh, *expected = NULL;
	size_t size = FDTAB_CHUNK * sizeof(struct fdtab_slot);

	if (chunk)
		return chunk;
	fresh = mmap(NULL, size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		return NULL;
	/* Zeroed memory is a valid slot: counter 0, entry empty. */
	if (atomic_compare_exchange_strong_explicit(top, &expected, fresh,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return fresh;
	munmap(fresh, size);
	return expected;
}

/* True when this thread (an outer frame: the code a signal handler
 * interrupted) is writing slot. */
static bool fdtab_held_here(const struct fdtab_slot *slot)
{
	for (const struct fdtab_hold *h = fdtab_holds; h; h = h->outer)
		if (h->slot == slot)
			return true;
	return false;
}

static long fdtab_elapsed_ns(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000000000L +
	       (now.tv_nsec - start->tv_nsec);
}

/* One round of a writer's wait for a slot another thread holds: spin, then
 * yield, then nap, all within FDTAB_WAIT_NS. Returns 0 to try again, or
 * -EAGAIN when the time is up. All of it is async-signal-safe. */
static int fdtab_wait(struct fdtab_wait *w)
{
	static const struct timespec nap = {0, FDTAB_NAP_NS};
	unsigned attempt = w->attempt++;

	if (attempt < FDTAB_SPINS)
		return 0;
	if (attempt == FDTAB_SPINS)
		clock_gettime(CLOCK_MONOTONIC, &w->start);
	if (attempt < FDTAB_SPINS + FDTAB_YIELDS) {
		sched_yield();
		return 0;
	}
	if (fdtab_elapsed_ns(&w->start) >= FDTAB_WAIT_NS)
		return -EAGAIN;
	nanosleep(&nap, NULL);
	return 0;
}

/* Forget this thread's innermost write (hold). */
static void fdtab_unhold(struct fdtab_hold *hold)
{
	atomic_signal_fence(memory_order_seq_cst);
	fdtab_holds = hold->outer;
	atomic_signal_fence(memory_order_seq_cst);
}

/* Claim slot for writing, with hold (in the caller's frame) telling this
 * thread's signal handlers so. Returns 0 with *seq the odd counter value
 * now held, or -EAGAIN (nothing held): this thread is writing the slot
 * already (we run in a signal handler that interrupted that write), or
 * another thread held it for longer than FDTAB_WAIT_NS. */
static int fdtab_write_begin(struct fdtab_slot *slot, struct fdtab_hold *hold,
			     uint32_t *seq)
{
	struct fdtab_wait wait = {0};
	uint32_t cur;

	if (fdtab_held_here(slot))
		return -EAGAIN;
	/* Published before the claim: a handler that runs once the counter
	 * is ours must find it here. */
	hold->slot = slot;
	hold->outer = fdtab_holds;
	fdtab_holds = hold;
	atomic_signal_fence(memory_order_seq_cst);
	cur = atomic_load_explicit(&slot->seq, memory_order_relaxed);
	for (;;) {
		if (!(cur & 1) &&
		    atomic_compare_exchange_weak_explicit(
			&slot->seq, &cur, cur + 1, memory_order_acq_rel,
			memory_order_relaxed))
			break;
		if ((cur & 1) && fdtab_wait(&wait) < 0) {
			fdtab_unhold(hold);
			return -EAGAIN;
		}
		cur = atomic_load_explicit(&slot->seq, memory_order_relaxed);
	}
	atomic_thread_fence(memory_order_release);
	*seq = cur + 1;
	return 0;
}

/* Release slot (claimed with hold at odd counter seq). */
static void fdtab_write_end(struct fdtab_slot *slot, struct fdtab_hold *hold,
			    uint32_t seq)
{
	atomic_store_explicit(&slot->seq, seq + 1, memory_order_release);
	fdtab_unhold(hold);
}

/* Store image into slot under the sequence lock. Returns 0 or -EAGAIN
 * (see fdtab_write_begin). */
static int fdtab_write(struct fdtab_slot *slot, const union fdtab_image *img)
{
	struct fdtab_hold hold;
	uint32_t seq;
	int rc = fdtab_write_begin(slot, &hold, &seq);

	if (rc < 0)
		return rc;
	FDTAB_UNROLL
	for (size_t i = 0; i < FDTAB_WORDS; i++)
		atomic_store_explicit(&slot->words[i], img->words[i],
				      memory_order_relaxed);
	atomic_store_explicit(&slot->stamp, 0, memory_order_relaxed);
	fdtab_write_end(slot, &hold, seq);
	return 0;
}

/* Copy the first n words of slot into img consistently. Returns false when
 * no stable copy could be taken within the retry bound. */
static bool fdtab_read_words(struct fdtab_slot *slot, union fdtab_image *img,
			     size_t n)
{
	for (unsigned attempt = 0; attempt < FDTAB_READ_TRIES; attempt++) {
		uint32_t before =
		    atomic_load_explicit(&slot->seq, memory_order_acquire);
		uint32_t after;

		if (!(before & 1)) {
			FDTAB_UNROLL
			for (size_t i = 0; i < n; i++)
				img->words[i] = atomic_load_explicit(
				    &slot->words[i], memory_order_relaxed);
			atomic_thread_fence(memory_order_acquire);
			after = atomic_load_explicit(&slot->seq,
						     memory_order_relaxed);
			if (before == after)
				return true;
		}
		fdtab_backoff(attempt);
	}
	return false;
}

/* Copy slot into img consistently (fdtab_read_words, every word). */
static bool fdtab_read(struct fdtab_slot *slot, union fdtab_image *img)
{
	return fdtab_read_words(slot, img, FDTAB_WORDS);
}

/* The inode of fd's open file, or 0 when fd is not open. */
static uint64_t fdtab_inode(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

/* fd's slot into *slot, its chunk made if need be. Returns 0, -EBADF or
 * -ENOMEM. */
static int fdtab_slot_make(int fd, struct fdtab_slot **slot)
{
	struct fdtab_slot *chunk;

	if (fd < 0 || (unsigned)fd >= FDTAB_MAX_FD)
		return -EBADF;
	chunk = fdtab_chunk_create((unsigned)fd);
	if (!chunk)
		return -ENOMEM;
	*slot = &chunk[fd % FDTAB_CHUNK];
	return 0;
}

/* Record e for fd. When e->inode is 0 the descriptor's current inode is
 * recorded instead. Returns 0, -EBADF, -ENOMEM or -EAGAIN. */
int fdtab_set(int fd, const struct fdtab_entry *e)
{
	union fdtab_image img;
	struct fdtab_slot *slot;
	int rc = fdtab_slot_make(fd, &slot);

	if (rc < 0)
		return rc;
	memset(&img, 0, sizeof(img));
	img.entry = *e;
	if (img.entry.inode == 0)
		img.entry.inode = fdtab_inode(fd);
	return fdtab_write(slot, &img);
}

/* fd's slot, or NULL when fd is out of range or its chunk was never made. */
static struct fdtab_slot *fdtab_slot_of(int fd)
{
	struct fdtab_slot *chunk;

	if (fd < 0 || (unsigned)fd >= FDTAB_MAX_FD)
		return NULL;
	chunk = fdtab_chunk((unsigned)fd);
	return chunk ? &chunk[fd % FDTAB_CHUNK] : NULL;
}

/* Copy fd's entry into img. Returns false when there is no entry. */
static bool fdtab_load(int fd, union fdtab_image *img)
{
	struct fdtab_slot *slot = fdtab_slot_of(fd);

	return slot && fdtab_read(slot, img) && img->entry.flags != 0;
}

int fdtab_head(int fd, uint32_t *flags, uint64_t *inode)
{
	struct fdtab_slot *slot = fdtab_slot_of(fd);
	union fdtab_image img;
	const size_t head = (offsetof(struct fdtab_entry, inode) +
			     sizeof(img.entry.inode) + 7) /
			    8;

	if (!slot || !fdtab_read_words(slot, &img, head) ||
	    img.entry.flags == 0)
		return -ENOENT;
	*flags = img.entry.flags;
	*inode = img.entry.inode;
	return 0;
}

int fdtab_get_unchecked(int fd, struct fdtab_entry *out)
{
	union fdtab_image img;

	if (!fdtab_load(fd, &img))
		return -ENOENT;
	*out = img.entry;
	return 0;
}

/* The flags live in the entry's first word; one relaxed load of that word
 * is a consistent (if momentary) view of them. */
/* One slot's flags: one atomic load. */
static uint32_t fdtab_slot_flags(struct fdtab_slot *slot)
{
	union fdtab_image img;

	img.words[0] =
	    atomic_load_explicit(&slot->words[0], memory_order_acquire);
	return img.entry.flags;
}

uint32_t fdtab_flags(int fd)
{
	struct fdtab_slot *slot = fdtab_slot_of(fd);

	return slot ? fdtab_slot_flags(slot) : 0;
}

/* Copy fd's entry to out. Returns 0, or -ENOENT when fd has no entry, its
 * flags are 0, or its recorded inode is not the descriptor's current one. */
int fdtab_get(int fd, struct fdtab_entry *out)
{
	union fdtab_image img;
	uint64_t inode;

	if (!fdtab_load(fd, &img))
		return -ENOENT;
	inode = fdtab_inode(fd);
	if (inode == 0 || img.entry.inode != inode)
		return -ENOENT;
	*out = img.entry;
	return 0;
}

/* Empty one slot, skipping the write when it is empty already (the common
 * case: close() of a descriptor we never proxied). A slot that cannot be
 * claimed (-EAGAIN) keeps its entry: the write that holds it was recording
 * one for this very descriptor, as if it had come after the clear. */
static void fdtab_clear_slot(struct fdtab_slot *slot)
{
	union fdtab_image img;
	uint32_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);

	if (!(seq & 1) && fdtab_slot_flags(slot) == 0)
		return;
	memset(&img, 0, sizeof(img));
	(void)fdtab_write(slot, &img);
}

/* Visit the slots of [lo, hi] in order, one existing chunk at a time (a
 * chunk never created holds no entry), until visit returns true. Returns
 * the descriptor it stopped at, or -1. */
static int fdtab_walk(unsigned lo, unsigned hi,
		      bool (*visit)(struct fdtab_slot *slot, uint32_t mask),
		      uint32_t mask)
{
	if (hi >= FDTAB_MAX_FD)
		hi = FDTAB_MAX_FD - 1;
	while (lo <= hi) {
		struct fdtab_slot *chunk = fdtab_chunk(lo);
		unsigned end = (lo | (FDTAB_CHUNK - 1));

		if (end > hi)
			end = hi;
		for (unsigned fd = lo; chunk && fd <= end; fd++)
			if (visit(&chunk[fd % FDTAB_CHUNK], mask))
				return (int)fd;
		if (end == FDTAB_MAX_FD - 1)
			break;
		lo = end + 1;
	}
	return -1;
}

static bool fdtab_visit_clear(struct fdtab_slot *slot, uint32_t mask)
{
	(void)mask;
	fdtab_clear_slot(slot);
	return false;
}

static bool fdtab_visit_has(struct fdtab_slot *slot, uint32_t mask)
{
	return (fdtab_slot_flags(slot) & mask) != 0;
}

void fdtab_clear(int fd)
{
	struct fdtab_slot *chunk;

	if (fd < 0 || (unsigned)fd >= FDTAB_MAX_FD)
		return;
	chunk = fdtab_chunk((unsigned)fd);
	if (chunk)
		fdtab_clear_slot(&chunk[fd % FDTAB_CHUNK]);
}

/* Clear [lo, hi], visiting only chunks that exist. */
void fdtab_clear_range(unsigned lo, unsigned hi)
{
	fdtab_walk(lo, hi, fdtab_visit_clear, 0);
}

/* After dup2(from, to): to refers to from's open file, so it takes from's
 * entry (same inode); with no valid entry for from, to's entry goes. */
void fdtab_copy(int from, int to)
{
	struct fdtab_entry e;

	if (from == to)
		return;
	if (fdtab_get(from, &e) == 0) {
		e.flags &= ~(FDTAB_INTERNAL | FDTAB_UDP_SETUP);
		e.owner_id = 0;
	} else
		e.flags = 0;
	if (e.flags)
		fdtab_set(to, &e);
	else
		fdtab_clear(to);
}

/* Change slot's flags under the write lock: clear, then set. With
 * only_if_clear, nothing changes (and -EBUSY comes back) when any bit of
 * set is there already. An entry left without flags is emptied. Returns 0,
 * -EBUSY or -EAGAIN (see fdtab_write_begin). */
static int fdtab_modify(struct fdtab_slot *slot, uint32_t clear, uint32_t set,
			bool only_if_clear)
{
	struct fdtab_hold hold;
	union fdtab_image img;
	uint32_t seq;
	bool ok;

	if (fdtab_write_begin(slot, &hold, &seq) < 0)
		return -EAGAIN;
	for (size_t i = 0; i < FDTAB_WORDS; i++)
		img.words[i] =
		    atomic_load_explicit(&slot->words[i], memory_order_relaxed);
	ok = !(only_if_clear && (img.entry.flags & set));
	if (ok) {
		img.entry.flags = (img.entry.flags & ~clear) | set;
		if (img.entry.flags == 0)
			memset(&img, 0, sizeof(img));
		for (size_t i = 0; i < FDTAB_WORDS; i++)
			atomic_store_explicit(&slot->words[i], img.words[i],
					      memory_order_relaxed);
	}
	fdtab_write_end(slot, &hold, seq);
	return ok ? 0 : -EBUSY;
}

int fdtab_forget_facts(int fd)
{
	struct fdtab_slot *slot = fdtab_slot_of(fd);
	struct fdtab_hold hold;
	union fdtab_image img;
	uint32_t seq;
	int rc = 0;

	if (!slot)
		return 0;
	if (fdtab_write_begin(slot, &hold, &seq) < 0)
		return -EAGAIN;
	img.words[0] =
	    atomic_load_explicit(&slot->words[0], memory_order_relaxed);
	if (img.entry.flags & ~FDTAB_SOCK_FACTS) {
		rc = -EBUSY;
	} else if (img.entry.flags) {
		FDTAB_UNROLL
		for (size_t i = 0; i < FDTAB_WORDS; i++)
			atomic_store_explicit(&slot->words[i], 0,
					      memory_order_relaxed);
	}
	fdtab_write_end(slot, &hold, seq);
	return rc;
}

int fdtab_claim(int fd, uint32_t flag)
{
	struct fdtab_slot *slot;
	int rc = fdtab_slot_make(fd, &slot);

	if (rc < 0)
		return rc;
	return fdtab_modify(slot, 0, flag, true);
}

void fdtab_unflag(int fd, uint32_t flag)
{
	struct fdtab_slot *slot = fdtab_slot_of(fd);

	if (slot && fdtab_flags(fd) & flag)
		(void)fdtab_modify(slot, flag, 0, false);
}

void fdtab_unflag_all(uint32_t flag)
{
	int fd = -1;

	while ((fd = fdtab_next((unsigned)fd + 1, FDTAB_MAX_FD - 1, flag)) >= 0)
		fdtab_unflag(fd, flag);
}

int fdtab_next(unsigned lo, unsigned hi, uint32_t mask)
{
	return fdtab_walk(lo, hi, fdtab_visit_has, mask);
}

bool fdtab_due(int fd, uint64_t now_ms, uint64_t interval_ms)
{
	struct fdtab_slot *slot = fdtab_slot_of(fd);
	uint64_t last;

	if (!slot)
		return true;
	last = atomic_load_explicit(&slot->stamp, memory_order_relaxed);
	if (last != 0 && now_ms - last < interval_ms)
		return false;
	return atomic_compare_exchange_strong_explicit(
	    &slot->stamp, &last, now_ms ? now_ms : 1, memory_order_relaxed,
	    memory_order_relaxed);
}

/* Free slot if a thread that is gone was writing it: empty the half-written
 * entry and make the counter even. Returns 1 when it did. */
static unsigned fdtab_free_orphan(struct fdtab_slot *slot)
{
	uint32_t seq = atomic_load_explicit(&slot->seq, memory_order_relaxed);

	if (!(seq & 1) || fdtab_held_here(slot))
		return 0;
	for (size_t i = 0; i < FDTAB_WORDS; i++)
		atomic_store_explicit(&slot->words[i], 0, memory_order_relaxed);
	atomic_store_explicit(&slot->stamp, 0, memory_order_relaxed);
	atomic_store_explicit(&slot->seq, seq + 1, memory_order_release);
	return 1;
}

unsigned fdtab_fork_child(void)
{
	unsigned freed = 0;

	for (unsigned top = 0; top < FDTAB_TOP; top++) {
		struct fdtab_slot *chunk =
		    atomic_load_explicit(&fdtab_top[top], memory_order_acquire);

		for (unsigned i = 0; chunk && i < FDTAB_CHUNK; i++)
			freed += fdtab_free_orphan(&chunk[i]);
	}
	return freed;
}
