/* fakedns.c — the lock-free, shared name ↔ index map behind remote DNS.
 *
 * The mapping (a file or anonymous memory, MAP_SHARED) holds a header page
 * and then segments of up to FAKEDNS_SEGMENT_ENTRIES names each:
 *
 *   +------------------------+  offset 0
 *   | struct fakedns_header  |  magic, version, capacity, segment_entries,
 *   |                        |  segment_slots, count (one 4 KiB page)
 *   +------------------------+  FAKEDNS_HEADER_BYTES
 *   | segment 0:             |
 *   |   index[segment_slots] |  _Atomic uint32_t: 0 = empty, else local + 1
 *   |   entry[segment_ent.]  |  { ready, len, name[253] }
 *   +------------------------+  + segment_bytes (page-aligned)
 *   | segment 1 ...          |
 *   +------------------------+
 *
 * The whole capacity is laid out (and the address space reserved) when the
 * table is made, but the file is sparse and the memory MAP_NORESERVE: a
 * page costs memory only once it is written, so the cost grows with the
 * names used. Entry number n (the name's index) lives in segment
 * n / segment_entries. Entries are claimed densely from the front by a
 * compare-and-swap on count, so segments fill one after the other.
 *
 * Each segment's index is an open-addressing hash table (linear probing,
 * at least twice as many slots as the segment's entries) of that segment's
 * entries only; a slot goes from empty to an entry exactly once and never
 * changes again. A lookup searches the index of every segment in use
 * (count tells which), then inserts: claim an entry, write the name,
 * publish ready=1 (release), then compare-and-swap an empty slot of the
 * entry's segment to point at it. A writer that loses the swap looks at
 * what won: the same name means the other writer's index is the answer
 * (ours stays behind as an unreachable duplicate that still leads back to
 * the name); another name means probing goes on. Two processes inserting
 * one name just as a segment fills may put it in two segments: the name
 * then has two addresses, both leading back to it. An entry is written
 * once, by the one process that claimed it, so an address never gets two
 * names. Nothing ever waits on another process, so a process killed
 * mid-insert, a fork at any moment, or a signal handler that interrupts an
 * insert cannot wedge the table.
 *
 * Trust: the geometry (capacity, segment sizes, mapping size) is checked
 * against the file's size once, at attach, and kept in the process-local
 * handle; it is never read from the mapping again. Every number read from
 * the mapping afterwards (count, slot values, lengths) is checked against
 * that snapshot before use, so another process that scribbles over the
 * file can make lookups fail or answer wrongly but cannot make us read or
 * write outside the mapping. Truncating the file after attach cannot be
 * defended against without a SIGBUS handler: only the file's owner (the
 * same user) can do it; see README. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "fakedns.h"
#include "sys_io.h"

#define FAKEDNS_MAGIC		0x534b4644u /* "SKFD" */
#define FAKEDNS_VERSION		2u	    /* 2: segments */
#define FAKEDNS_NAME_MAX	253 /* DNS: 255 on the wire, 253 as text */
#define FAKEDNS_LABEL_MAX	63
#define FAKEDNS_CAPACITY_MAX	(1u << 24)
#define FAKEDNS_SEGMENT_ENTRIES 65536u
#define FAKEDNS_HEADER_BYTES	4096u /* segments start page-aligned */
#define FAKEDNS_FIT_MIN		16u   /* the least a file is cut down to */
/* How long a joiner waits for the creator to size and publish the file. */
#define FAKEDNS_JOIN_STEP_NS 5000000L
#define FAKEDNS_JOIN_STEPS   400
#define FAKEDNS_OPEN_TRIES   3

/* The header at offset 0 of the mapping. Only magic and count are read
 * after attach; the rest is checked once. */
struct fakedns_header {
	_Atomic uint32_t magic; /* published last, with release order */
	uint32_t version;
	uint32_t capacity;
	uint32_t segment_entries; /* min(capacity, FAKEDNS_SEGMENT_ENTRIES) */
	uint32_t segment_slots;	  /* a power of two >= 2 * segment_entries */
	_Atomic uint32_t count;	  /* entries claimed, never above capacity */
	uint32_t reserved[2];
};

struct fakedns_entry {
	_Atomic uint32_t ready; /* 1 once len and name are written */
	uint8_t len;
	char name[FAKEDNS_NAME_MAX]; /* normalised, not NUL-terminated */
};

/* Where everything is, for a table of capacity names. */
struct fakedns_geometry {
	uint32_t capacity;
	uint32_t segment_entries;
	uint32_t segment_slots;
	uint32_t segments;
	size_t segment_bytes;
	size_t size; /* of the whole mapping */
};

/* The process-local handle: the mapping and the geometry checked at
 * attach. It sits in a private page of its own, read-only once filled. */
struct fakedns {
	struct fakedns_header *header;
	struct fakedns_geometry geo;
};

/* ---- layout ---------------------------------------------------------- */

static uint64_t fakedns_round_page(uint64_t bytes)
{
	return (bytes + FAKEDNS_HEADER_BYTES - 1) &
	       ~(uint64_t)(FAKEDNS_HEADER_BYTES - 1);
}

/* Compute the geometry for capacity. Returns 0, or -EINVAL for a capacity
 * of 0 or above the maximum, -ENOMEM when it cannot be addressed here. */
static int fakedns_layout(uint32_t capacity, struct fakedns_geometry *geo)
{
	uint64_t slots = 2, segment, size;
	uint32_t entries;

	if (capacity == 0 || capacity > FAKEDNS_CAPACITY_MAX)
		return -EINVAL;
	entries = capacity < FAKEDNS_SEGMENT_ENTRIES ? capacity
						     : FAKEDNS_SEGMENT_ENTRIES;
	while (slots < 2 * (uint64_t)entries)
		slots *= 2;
	segment = fakedns_round_page(slots * sizeof(_Atomic uint32_t) +
				     (uint64_t)entries *
					 sizeof(struct fakedns_entry));
	geo->segments = (capacity + entries - 1) / entries;
	size = FAKEDNS_HEADER_BYTES + segment * geo->segments;
	if (size > SIZE_MAX || size > (uint64_t)INT64_MAX)
		return -ENOMEM;
	geo->capacity = capacity;
	geo->segment_entries = entries;
	geo->segment_slots = (uint32_t)slots;
	geo->segment_bytes = (size_t)segment;
	geo->size = (size_t)size;
	return 0;
}

/* The index of segment s (s < geo.segments). */
static _Atomic uint32_t *fakedns_index(const struct fakedns *t, uint32_t s)
{
	char *base = (char *)t->header + FAKEDNS_HEADER_BYTES;

	return (_Atomic uint32_t *)(base + (size_t)s * t->geo.segment_bytes);
}

/* Entry number n (n < geo.capacity). */
static struct fakedns_entry *fakedns_entry(const struct fakedns *t, uint32_t n)
{
	uint32_t s = n / t->geo.segment_entries;
	char *entries = (char *)fakedns_index(t, s) +
			(size_t)t->geo.segment_slots * sizeof(_Atomic uint32_t);

	return (struct fakedns_entry *)entries + n % t->geo.segment_entries;
}

/* Fill a fresh (zeroed) mapping's header and publish it. */
static void fakedns_init(struct fakedns_header *h,
			 const struct fakedns_geometry *geo)
{
	h->version = FAKEDNS_VERSION;
	h->capacity = geo->capacity;
	h->segment_entries = geo->segment_entries;
	h->segment_slots = geo->segment_slots;
	atomic_store_explicit(&h->count, 0, memory_order_relaxed);
	atomic_store_explicit(&h->magic, FAKEDNS_MAGIC, memory_order_release);
}

/* Check a published header against the size of what was mapped and take
 * the geometry from it, once. Returns 0 or -EINVAL. */
static int fakedns_validate(const struct fakedns_header *h, size_t mapped,
			    struct fakedns_geometry *geo)
{
	uint32_t version = h->version, capacity = h->capacity;
	uint32_t entries = h->segment_entries, slots = h->segment_slots;

	if (version != FAKEDNS_VERSION || fakedns_layout(capacity, geo) < 0)
		return -EINVAL;
	if (entries != geo->segment_entries || slots != geo->segment_slots ||
	    geo->size != mapped)
		return -EINVAL;
	return 0;
}

/* Wrap a validated mapping in a handle of its own (a private page, made
 * read-only). Returns 0 or -errno; the mapping is the caller's to undo. */
static int fakedns_handle(struct fakedns_header *h,
			  const struct fakedns_geometry *geo,
			  struct fakedns **out)
{
	struct fakedns *t = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (t == MAP_FAILED)
		return -errno;
	t->header = h;
	t->geo = *geo;
	mprotect(t, sizeof(*t), PROT_READ);
	*out = t;
	return 0;
}

/* ---- attaching ------------------------------------------------------- */

static void fakedns_pause(void)
{
	struct timespec step = {0, FAKEDNS_JOIN_STEP_NS};

	nanosleep(&step, NULL);
}

/* The capacity a new table file gets: capacity, lowered (a segment at a
 * time, then by halves, down to FAKEDNS_FIT_MIN) until the whole table fits
 * in half the space free on the file's file system now. Pages of the file
 * are allocated as names are written, and a write to a full tmpfs is a
 * SIGBUS; /dev/shm is often small (64 MiB in containers) and shared with
 * other programs. */
static uint32_t fakedns_fit_capacity(int fd, uint32_t capacity)
{
	struct fakedns_geometry geo;
	struct statfs fs;
	uint64_t room;

	if (fstatfs(fd, &fs) < 0)
		return capacity;
	room = (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize / 2;
	while (capacity > FAKEDNS_FIT_MIN &&
	       (fakedns_layout(capacity, &geo) < 0 || geo.size > room)) {
		if (capacity > FAKEDNS_SEGMENT_ENTRIES)
			capacity = (capacity - 1) / FAKEDNS_SEGMENT_ENTRIES *
				   FAKEDNS_SEGMENT_ENTRIES;
		else
			capacity /= 2;
	}
	return capacity < FAKEDNS_FIT_MIN ? FAKEDNS_FIT_MIN : capacity;
}

/* Lay out a new table of capacity names, map it (the file fd, sized here,
 * or anonymous memory when fd is -1), initialise and publish it. A file's
 * capacity is first fitted to its file system. Returns 0 or -errno. */
static int fakedns_map_new(int fd, uint32_t capacity, struct fakedns **out)
{
	int flags = MAP_SHARED | MAP_NORESERVE | (fd < 0 ? MAP_ANONYMOUS : 0);
	struct fakedns_geometry geo;
	void *map;
	int rc;

	if (fd >= 0 && capacity > 0 && capacity <= FAKEDNS_CAPACITY_MAX)
		capacity = fakedns_fit_capacity(fd, capacity);
	rc = fakedns_layout(capacity, &geo);

	if (rc < 0)
		return rc;
	if (fd >= 0 && ftruncate(fd, (off_t)geo.size) < 0)
		return -errno;
	map = mmap(NULL, geo.size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	fakedns_init(map, &geo);
	rc = fakedns_handle(map, &geo, out);
	if (rc < 0)
		munmap(map, geo.size);
	return rc;
}

/* Wait (bounded) until the file someone else created has been sized, and
 * check that it is a private regular file of ours. Returns its size (> 0)
 * or -errno: -EPERM for a file we must not trust, -EINVAL when it never
 * reached a plausible size. */
static long fakedns_wait_size(const struct sys_io *io, int fd)
{
	struct fakedns_geometry max;
	struct stat st;

	fakedns_layout(FAKEDNS_CAPACITY_MAX, &max);
	for (int step = 0; step < FAKEDNS_JOIN_STEPS; step++) {
		if (io->fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 077) != 0)
			return -EPERM;
		if ((uint64_t)st.st_size > max.size)
			return -EINVAL;
		if ((size_t)st.st_size >= FAKEDNS_HEADER_BYTES)
			return (long)st.st_size;
		fakedns_pause();
	}
	return -EINVAL;
}

/* Wait (bounded) for the creator to publish the header, then validate it.
 * Returns 0 or -EINVAL. */
static int fakedns_wait_magic(const struct fakedns_header *h, size_t mapped,
			      struct fakedns_geometry *geo)
{
	for (int step = 0; step < FAKEDNS_JOIN_STEPS; step++) {
		uint32_t magic =
		    atomic_load_explicit(&h->magic, memory_order_acquire);

		if (magic == FAKEDNS_MAGIC)
			return fakedns_validate(h, mapped, geo);
		if (magic != 0)
			return -EINVAL;
		fakedns_pause();
	}
	return -EINVAL;
}

/* Join a table file another process created. Returns 0 or -errno
 * (-ENOENT when the file vanished in between: the caller retries). */
static int fakedns_join(const struct sys_io *io, const char *path,
			struct fakedns **out)
{
	int fd = io->openat(AT_FDCWD, path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct fakedns_geometry geo;
	long size;
	void *map;
	int rc;

	if (fd < 0)
		return -errno;
	size = fakedns_wait_size(io, fd);
	if (size < 0) {
		io->close(fd);
		return (int)size;
	}
	map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_NORESERVE, fd, 0);
	rc = map == MAP_FAILED ? -errno : 0;
	io->close(fd);
	if (rc < 0)
		return rc;
	rc = fakedns_wait_magic(map, (size_t)size, &geo);
	if (rc == 0)
		rc = fakedns_handle(map, &geo, out);
	if (rc < 0)
		munmap(map, (size_t)size);
	return rc;
}

/* Create the file exclusively, or join it when it exists. Returns 0 or
 * -errno; a file we created but could not set up is removed again. */
static int fakedns_attach_file(const struct sys_io *io, struct fakedns **out,
			       const char *path, uint32_t capacity)
{
	int rc = -ENOENT;

	for (int i = 0; i < FAKEDNS_OPEN_TRIES && rc == -ENOENT; i++) {
		int fd = io->openat(
		    AT_FDCWD, path,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd >= 0) {
			rc = fakedns_map_new(fd, capacity, out);
			io->close(fd);
			if (rc < 0)
				unlink(path);
			return rc;
		}
		if (errno != EEXIST)
			return -errno;
		rc = fakedns_join(io, path, out);
	}
	return rc;
}

/* An anonymous table, shared with the children forked after this call.
 * When the address space for all of capacity is not there (a tight
 * RLIMIT_AS), one segment is better than none. */
static int fakedns_attach_anonymous(struct fakedns **out, uint32_t capacity)
{
	int rc = fakedns_map_new(-1, capacity, out);

	if (rc == -ENOMEM && capacity > FAKEDNS_SEGMENT_ENTRIES)
		rc = fakedns_map_new(-1, FAKEDNS_SEGMENT_ENTRIES, out);
	return rc;
}

/* See fakedns.h. errno is left as it was. Besides the documented errors:
 * -EPERM when the file exists but is not a 0600 regular file of ours,
 * -ELOOP when path is a symbolic link. Any error means "use another
 * table" to the caller. */
int fakedns_attach(const struct sys_io *io, struct fakedns **out,
		   const char *path, uint32_t capacity)
{
	int saved_errno = errno;
	int rc;

	if (path)
		rc = fakedns_attach_file(io, out, path, capacity);
	else
		rc = fakedns_attach_anonymous(out, capacity);
	errno = saved_errno;
	return rc;
}

void fakedns_detach(struct fakedns *table)
{
	if (!table)
		return;
	munmap(table->header, table->geo.size);
	munmap(table, sizeof(*table));
}

uint32_t fakedns_count(const struct fakedns *table)
{
	uint32_t n =
	    atomic_load_explicit(&table->header->count, memory_order_acquire);

	return n < table->geo.capacity ? n : table->geo.capacity;
}

uint32_t fakedns_capacity(const struct fakedns *table)
{
	return table->geo.capacity;
}

/* ---- names ----------------------------------------------------------- */

/* True for a byte a host name label may hold: ASCII letters, digits, '-'
 * and '_' (service labels), and bytes of 0x80 and above (a UTF-8 name the
 * proxy may convert). Controls, spaces and other ASCII punctuation (':',
 * '@', '/', '%', ...) never belong in a host name. */
static bool fakedns_label_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

/* Normalise name into key, once and completely: a single trailing dot
 * dropped (the root), ASCII lower case. Returns the key's length, or
 * -EINVAL for an empty name or label ("", ".", ".a", "a..b", "a..") or a
 * byte no host name holds, -ENAMETOOLONG for a name above 253 bytes or a
 * label above 63. */
static long fakedns_normalise(const char *name, size_t len, char *key)
{
	size_t label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return -EINVAL;
	if (len > FAKEDNS_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (!fakedns_label_byte_ok(c)) {
			return -EINVAL;
		} else if (++label > FAKEDNS_LABEL_MAX) {
			return -ENAMETOOLONG;
		}
		key[i] =
		    (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	return label == 0 ? -EINVAL : (long)len;
}

/* 32-bit FNV-1a. */
static uint32_t fakedns_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
}

/* The entry number a slot value of segment s refers to, or -1 when the
 * value is out of range (a damaged index). */
static long fakedns_slot_entry(const struct fakedns *t, uint32_t s,
			       uint32_t slot_value)
{
	uint64_t n;

	if (slot_value == 0 || slot_value > t->geo.segment_entries)
		return -1;
	n = (uint64_t)s * t->geo.segment_entries + slot_value - 1;
	return n < t->geo.capacity ? (long)n : -1;
}

/* The entry n when it is ready (its name written) and its length sane,
 * else NULL. A slot is published after its entry (release/acquire), so a
 * slot's entry is always ready unless the file was damaged. */
static struct fakedns_entry *fakedns_ready_entry(const struct fakedns *t,
						 uint32_t n)
{
	struct fakedns_entry *e = fakedns_entry(t, n);

	if (atomic_load_explicit(&e->ready, memory_order_acquire) != 1)
		return NULL;
	if (e->len == 0 || e->len > FAKEDNS_NAME_MAX)
		return NULL;
	return e;
}

/* The entry number when slot_value of segment s refers to key, else -1. */
static long fakedns_slot_holds(const struct fakedns *t, uint32_t s,
			       uint32_t slot_value, const char *key, size_t len)
{
	long n = fakedns_slot_entry(t, s, slot_value);
	struct fakedns_entry *e = n < 0 ? NULL : fakedns_ready_entry(t, n);

	return e && e->len == len && memcmp(e->name, key, len) == 0 ? n : -1;
}

/* Look key up in segment s's index. Returns its entry number, or -ENOENT
 * (an empty slot ends the probe: slots never empty again). */
static long fakedns_segment_find(const struct fakedns *t, uint32_t s,
				 uint32_t hash, const char *key, size_t len)
{
	_Atomic uint32_t *index = fakedns_index(t, s);
	uint32_t mask = t->geo.segment_slots - 1;

	for (uint32_t probe = 0; probe <= mask; probe++) {
		uint32_t value = atomic_load_explicit(
		    &index[(hash + probe) & mask], memory_order_acquire);
		long n;

		if (value == 0)
			return -ENOENT;
		n = fakedns_slot_holds(t, s, value, key, len);
		if (n >= 0)
			return n;
	}
	return -ENOENT;
}

/* Look key up in every segment in use. Returns its entry number or
 * -ENOENT. */
static long fakedns_find(const struct fakedns *t, uint32_t hash,
			 const char *key, size_t len)
{
	uint32_t used = fakedns_count(t);
	uint32_t segments =
	    (used + t->geo.segment_entries - 1) / t->geo.segment_entries;

	for (uint32_t s = 0; s < segments; s++) {
		long n = fakedns_segment_find(t, s, hash, key, len);

		if (n >= 0)
			return n;
	}
	return -ENOENT;
}

/* Claim the next free entry and write key into it.
 * Returns its number, or -ENOSPC when all entries are taken. */
static long fakedns_claim(const struct fakedns *t, const char *key, size_t len)
{
	_Atomic uint32_t *count = &t->header->count;
	uint32_t n = atomic_load_explicit(count, memory_order_relaxed);
	struct fakedns_entry *e;

	do {
		if (n >= t->geo.capacity)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak_explicit(
	    count, &n, n + 1, memory_order_relaxed, memory_order_relaxed));
	e = fakedns_entry(t, n);
	e->len = (uint8_t)len;
	memcpy(e->name, key, len);
	atomic_store_explicit(&e->ready, 1, memory_order_release);
	return n;
}

/* Publish entry n (holding key) in its segment's index. Returns the index
 * of key: n, or the entry of a writer that published key first; -ENOSPC
 * when the index has no empty slot (only a damaged file). */
static long fakedns_publish(const struct fakedns *t, uint32_t n, uint32_t hash,
			    const char *key, size_t len)
{
	uint32_t s = n / t->geo.segment_entries;
	uint32_t mine = n % t->geo.segment_entries + 1;
	_Atomic uint32_t *index = fakedns_index(t, s);
	uint32_t mask = t->geo.segment_slots - 1;

	for (uint32_t probe = 0; probe <= mask; probe++) {
		_Atomic uint32_t *slot = &index[(hash + probe) & mask];
		uint32_t value =
		    atomic_load_explicit(slot, memory_order_acquire);
		long other;

		if (value == 0 && atomic_compare_exchange_strong_explicit(
				      slot, &value, mine, memory_order_acq_rel,
				      memory_order_acquire))
			return n;
		other = fakedns_slot_holds(t, s, value, key, len);
		if (other >= 0)
			return other;
	}
	return -ENOSPC;
}

long fakedns_lookup(struct fakedns *table, const char *name, size_t len)
{
	char key[FAKEDNS_NAME_MAX];
	long klen = fakedns_normalise(name, len, key);
	uint32_t hash;
	long n;

	if (klen < 0)
		return klen;
	hash = fakedns_hash(key, (size_t)klen);
	n = fakedns_find(table, hash, key, (size_t)klen);
	if (n >= 0)
		return n;
	n = fakedns_claim(table, key, (size_t)klen);
	if (n >= 0)
		return fakedns_publish(table, (uint32_t)n, hash, key,
				       (size_t)klen);
	/* Full; but another process may have just added the name. */
	n = fakedns_find(table, hash, key, (size_t)klen);
	return n >= 0 ? n : -ENOSPC;
}

long fakedns_name(struct fakedns *table, uint32_t index, char *buf, size_t cap)
{
	struct fakedns_entry *e;
	size_t len;

	if (index >= fakedns_count(table))
		return -ENOENT;
	e = fakedns_ready_entry(table, index);
	if (!e)
		return -ENOENT;
	len = e->len; /* read once: another process may scribble on it */
	if (len == 0 || len > FAKEDNS_NAME_MAX)
		return -ENOENT;
	if (cap < len + 1)
		return -ENOSPC;
	memcpy(buf, e->name, len);
	buf[len] = '\0';
	return (long)len;
}

/* ---- addresses ------------------------------------------------------- */

/* Address length in bytes for the range's family, or 0 when the range is
 * not a usable IPv4/IPv6 prefix. */
static unsigned fakedns_range_bytes(const struct netmask *range)
{
	if (range->family == AF_INET && range->prefix <= 32)
		return 4;
	if (range->family == AF_INET6 && range->prefix <= 128)
		return 16;
	return 0;
}

/* The largest offset from the base that is handed out. Offsets start at 1
 * (the network address is never used), stop before the range's last
 * address (IPv4 broadcast), and must fit the low 32 bits. */
static uint64_t fakedns_offset_limit(const struct netmask *range,
				     unsigned bytes)
{
	unsigned host_bits = bytes * 8 - range->prefix;

	if (host_bits > 32)
		return UINT32_MAX;
	if (host_bits < 2)
		return 0;
	return ((uint64_t)1 << host_bits) - 2;
}

/* The prefix mask of byte i of the range. */
static uint8_t fakedns_mask_byte(const struct netmask *range, unsigned i)
{
	int bits = (int)range->prefix - 8 * (int)i;

	if (bits <= 0)
		return 0;
	if (bits >= 8)
		return 0xff;
	return (uint8_t)(0xff << (8 - bits));
}

/* The address bytes of ep when it has the range's family, else NULL. */
static const uint8_t *fakedns_ep_bytes(const struct endpoint *ep,
				       unsigned bytes)
{
	if (bytes == 4 && ep->kind == ENDPOINT_IPV4)
		return ep->u.ipv4;
	if (bytes == 16 && ep->kind == ENDPOINT_IPV6)
		return ep->u.ipv6;
	return NULL;
}

/* See fakedns.h. ep is fully overwritten; its port is 0. */
int fakedns_index_to_addr(const struct netmask *range, uint32_t index,
			  struct endpoint *ep)
{
	unsigned bytes = fakedns_range_bytes(range);
	uint64_t offset = (uint64_t)index + 1;
	uint8_t *addr;

	if (bytes == 0 || offset > fakedns_offset_limit(range, bytes))
		return -ERANGE;
	memset(ep, 0, sizeof(*ep));
	ep->kind = bytes == 4 ? ENDPOINT_IPV4 : ENDPOINT_IPV6;
	addr = bytes == 4 ? ep->u.ipv4 : ep->u.ipv6;
	for (unsigned i = 0; i < bytes; i++)
		addr[i] = range->addr[i] & fakedns_mask_byte(range, i);
	for (unsigned i = 0; i < 4; i++)
		addr[bytes - 1 - i] |= (uint8_t)(offset >> (8 * i));
	return 0;
}

long fakedns_addr_to_index(const struct netmask *range,
			   const struct endpoint *ep)
{
	unsigned bytes = fakedns_range_bytes(range);
	const uint8_t *addr = fakedns_ep_bytes(ep, bytes);
	uint64_t offset = 0;

	if (!addr)
		return -1;
	for (unsigned i = 0; i < bytes; i++) {
		uint8_t mask = fakedns_mask_byte(range, i);

		if ((addr[i] & mask) != (range->addr[i] & mask))
			return -1;
		/* Host bits above the low 32 are never set by us. */
		if (i < bytes - 4 && (addr[i] & (uint8_t)~mask))
			return -1;
		if (i >= bytes - 4)
			offset = (offset << 8) | (addr[i] & (uint8_t)~mask);
	}
	if (offset == 0 || offset > fakedns_offset_limit(range, bytes))
		return -1;
	return (long)(offset - 1);
}

/* ---- stale files ----------------------------------------------------- */

/* The PID in "socksify-UID-PID-*" (prefix "socksify-UID-" already
 * matched and skipped), or 0 when the rest does not read "PID-...". */
static pid_t fakedns_name_pid(const char *rest)
{
	long pid = 0;

	if (*rest < '0' || *rest > '9')
		return 0;
	for (; *rest >= '0' && *rest <= '9'; rest++) {
		pid = pid * 10 + (*rest - '0');
		if (pid > INT_MAX)
			return 0;
	}
	return *rest == '-' ? (pid_t)pid : 0;
}

/* True when dir entry name is a table file of uid whose process is gone. */
static bool fakedns_is_stale(int dir_fd, const char *name, const char *prefix,
			     unsigned uid)
{
	size_t plen = strlen(prefix);
	struct stat st;
	pid_t pid;

	if (strncmp(name, prefix, plen) != 0)
		return false;
	pid = fakedns_name_pid(name + plen);
	if (pid <= 0)
		return false;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_uid != uid)
		return false;
	return kill(pid, 0) == -1 && errno == ESRCH;
}

/* See fakedns.h. errno is left as it was; an unreadable dir removes
 * nothing. */
int fakedns_collect_stale(const char *dir, unsigned uid)
{
	int saved_errno = errno;
	char prefix[32];
	struct dirent *de;
	int removed = 0;
	DIR *d;

	snprintf(prefix, sizeof(prefix), "socksify-%u-", uid);
	d = opendir(dir);
	if (!d)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (fakedns_is_stale(dirfd(d), de->d_name, prefix, uid) &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
out:
	errno = saved_errno;
	return removed;
}

bool fakedns_in_ranges(const struct netmask *v4, const struct netmask *v6,
		       const struct endpoint *ep)
{
	if (ep->kind == ENDPOINT_IPV4)
		return netmask_contains(v4, ep);
	if (ep->kind == ENDPOINT_IPV6)
		return netmask_contains(v6, ep);
	return false;
}

bool fakedns_unfake(struct fakedns *table, const struct netmask *v4,
		    const struct netmask *v6, const struct endpoint *ep,
		    struct endpoint *name)
{
	char buf[ENDPOINT_NAME_MAX + 1];
	long index, len;

	if (!table || !fakedns_in_ranges(v4, v6, ep))
		return false;
	index = fakedns_addr_to_index(ep->kind == ENDPOINT_IPV4 ? v4 : v6, ep);
	if (index < 0)
		return false;
	len = fakedns_name(table, (uint32_t)index, buf, sizeof buf);
	if (len < 0)
		return false;
	return endpoint_set_name(name, buf, (size_t)len, ep->port) == 0;
}
