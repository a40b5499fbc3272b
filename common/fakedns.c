/* fakedns.c — the lock-free, shared name ↔ index map behind remote DNS.
 *
 * The mapping (a file or anonymous memory, MAP_SHARED) holds:
 *
 *   +---------------------+  offset 0
 *   | struct fakedns      |  magic, version, capacity, index_size, count
 *   +---------------------+  sizeof(struct fakedns)
 *   | index[index_size]   |  _Atomic uint32_t: 0 = empty, else entry + 1
 *   +---------------------+
 *   | entry[capacity]     |  { ready, len, name[255] }, claimed in order
 *   +---------------------+
 *
 * An entry number is the name's index. Entries are claimed densely from
 * the front by a compare-and-swap on count, so the pages touched grow with
 * the names used, not with the capacity. The index is an open-addressing
 * hash table (linear probing, at least twice as many slots as entries) whose
 * slots go from empty to an entry exactly once and never change again.
 *
 * Insert: claim an entry, write the name, publish ready=1 (release), then
 * compare-and-swap the empty slot to point at it. A writer that loses the
 * swap looks at what won: the same name means the other writer's index is
 * the answer (ours stays behind as an unreachable duplicate); another name
 * means probing goes on. Nothing ever waits on another process, so a
 * process killed mid-insert, a fork at any moment, or a signal handler that
 * interrupts an insert cannot wedge the table.
 *
 * Every number read from the mapping (slot values, count, lengths) is
 * checked against the capacity before use: a damaged file can give wrong
 * answers but not make us read outside the mapping. */
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
#include <time.h>
#include <unistd.h>

#include "fakedns.h"
#include "sys_io.h"

#define FAKEDNS_MAGIC	     0x534b4644u /* "SKFD" */
#define FAKEDNS_VERSION	     1u
#define FAKEDNS_NAME_MAX     253 /* DNS: 255 on the wire, 253 as text */
#define FAKEDNS_LABEL_MAX    63
#define FAKEDNS_CAPACITY_MAX (1u << 24)
/* How long a reader spins on an entry that is referenced but not ready. */
#define FAKEDNS_READY_SPINS 4096
/* How long a joiner waits for the creator to size and publish the file. */
#define FAKEDNS_JOIN_STEP_NS 5000000L
#define FAKEDNS_JOIN_STEPS   400
#define FAKEDNS_OPEN_TRIES   3

/* The header at offset 0 of the mapping; the opaque handle points here. */
struct fakedns {
	_Atomic uint32_t magic; /* published last, with release order */
	uint32_t version;
	uint32_t capacity;
	uint32_t index_size;	/* a power of two >= 2 * capacity */
	_Atomic uint32_t count; /* entries claimed, never above capacity */
	uint32_t reserved[3];
};

struct fakedns_entry {
	_Atomic uint32_t ready; /* 1 once len and name are written */
	uint8_t len;
	char name[FAKEDNS_NAME_MAX]; /* normalised, not NUL-terminated */
};

/* ---- layout ---------------------------------------------------------- */

/* Compute the index size and mapping size for capacity.
 * Returns 0, or -EINVAL for a capacity of 0 or above the maximum. */
static int fakedns_layout(uint32_t capacity, uint32_t *index_size, size_t *size)
{
	uint64_t slots = 2, bytes;

	if (capacity == 0 || capacity > FAKEDNS_CAPACITY_MAX)
		return -EINVAL;
	while (slots < 2 * (uint64_t)capacity)
		slots *= 2;
	bytes = sizeof(struct fakedns) + slots * sizeof(_Atomic uint32_t) +
		(uint64_t)capacity * sizeof(struct fakedns_entry);
	if (bytes > SIZE_MAX)
		return -ENOMEM;
	*index_size = (uint32_t)slots;
	*size = (size_t)bytes;
	return 0;
}

static _Atomic uint32_t *fakedns_index(struct fakedns *t)
{
	return (_Atomic uint32_t *)(t + 1);
}

static struct fakedns_entry *fakedns_entry(struct fakedns *t, uint32_t n)
{
	char *base = (char *)fakedns_index(t);

	base += (size_t)t->index_size * sizeof(_Atomic uint32_t);
	return (struct fakedns_entry *)base + n;
}

/* Fill a fresh (zeroed) mapping's header and publish it. */
static void fakedns_init(struct fakedns *t, uint32_t capacity,
			 uint32_t index_size)
{
	t->version = FAKEDNS_VERSION;
	t->capacity = capacity;
	t->index_size = index_size;
	atomic_store_explicit(&t->count, 0, memory_order_relaxed);
	atomic_store_explicit(&t->magic, FAKEDNS_MAGIC, memory_order_release);
}

/* Check a published header against the size of what was mapped.
 * Returns 0 or -EINVAL. */
static int fakedns_validate(struct fakedns *t, size_t mapped)
{
	uint32_t index_size;
	size_t size;

	if (t->version != FAKEDNS_VERSION ||
	    fakedns_layout(t->capacity, &index_size, &size) < 0)
		return -EINVAL;
	if (index_size != t->index_size || size != mapped)
		return -EINVAL;
	return 0;
}

/* ---- attaching ------------------------------------------------------- */

static void fakedns_pause(void)
{
	struct timespec step = {0, FAKEDNS_JOIN_STEP_NS};

	nanosleep(&step, NULL);
}

/* Lay out a new table of capacity slots, map it (the file fd, sized here,
 * or anonymous memory when fd is -1), initialise and publish it. Returns 0
 * or -errno. */
static int fakedns_map_new(int fd, uint32_t capacity, struct fakedns **out)
{
	int flags = fd < 0 ? MAP_SHARED | MAP_ANONYMOUS : MAP_SHARED;
	uint32_t index_size;
	size_t size;
	void *map;
	int rc = fakedns_layout(capacity, &index_size, &size);

	if (rc < 0)
		return rc;
	if (fd >= 0 && ftruncate(fd, (off_t)size) < 0)
		return -errno;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	fakedns_init(map, capacity, index_size);
	*out = map;
	return 0;
}

/* Wait (bounded) until the file someone else created has been sized, and
 * check that it is a private regular file of ours. Returns its size (> 0)
 * or -errno: -EPERM for a file we must not trust, -EINVAL when it never
 * reached a plausible size. */
static long fakedns_wait_size(const struct sys_io *io, int fd)
{
	size_t max_size;
	uint32_t slots;
	struct stat st;

	fakedns_layout(FAKEDNS_CAPACITY_MAX, &slots, &max_size);
	for (int step = 0; step < FAKEDNS_JOIN_STEPS; step++) {
		if (io->fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 077) != 0)
			return -EPERM;
		if ((uint64_t)st.st_size > max_size)
			return -EINVAL;
		if ((size_t)st.st_size >= sizeof(struct fakedns))
			return (long)st.st_size;
		fakedns_pause();
	}
	return -EINVAL;
}

/* Wait (bounded) for the creator to publish the header, then validate it.
 * Returns 0 or -EINVAL. */
static int fakedns_wait_magic(struct fakedns *t, size_t mapped)
{
	for (int step = 0; step < FAKEDNS_JOIN_STEPS; step++) {
		uint32_t magic =
		    atomic_load_explicit(&t->magic, memory_order_acquire);

		if (magic == FAKEDNS_MAGIC)
			return fakedns_validate(t, mapped);
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
	map =
	    mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rc = map == MAP_FAILED ? -errno : 0;
	io->close(fd);
	if (rc < 0)
		return rc;
	rc = fakedns_wait_magic(map, (size_t)size);
	if (rc < 0) {
		munmap(map, (size_t)size);
		return rc;
	}
	*out = map;
	return 0;
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

/* An anonymous table, shared with the children forked after this call. */
static int fakedns_attach_anonymous(struct fakedns **out, uint32_t capacity)
{
	return fakedns_map_new(-1, capacity, out);
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
	uint32_t index_size;
	size_t size;

	if (table && fakedns_layout(table->capacity, &index_size, &size) == 0)
		munmap(table, size);
}

uint32_t fakedns_count(const struct fakedns *table)
{
	uint32_t n = atomic_load_explicit(&table->count, memory_order_acquire);

	return n < table->capacity ? n : table->capacity;
}

uint32_t fakedns_capacity(const struct fakedns *table)
{
	return table->capacity;
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

/* The entry a slot value refers to, once it is ready (bounded spin), or
 * NULL when the value is out of range or the entry never became ready. */
static struct fakedns_entry *fakedns_ready_entry(struct fakedns *t,
						 uint32_t slot_value)
{
	struct fakedns_entry *e;

	if (slot_value == 0 || slot_value - 1 >= t->capacity)
		return NULL;
	e = fakedns_entry(t, slot_value - 1);
	for (int spin = 0; spin < FAKEDNS_READY_SPINS; spin++) {
		if (atomic_load_explicit(&e->ready, memory_order_acquire))
			return e;
	}
	return NULL;
}

/* True when the slot value refers to a ready entry holding key. */
static bool fakedns_slot_holds(struct fakedns *t, uint32_t slot_value,
			       const char *key, size_t len)
{
	struct fakedns_entry *e = fakedns_ready_entry(t, slot_value);

	return e && e->len == len && memcmp(e->name, key, len) == 0;
}

/* Claim the next free entry and write key into it.
 * Returns its number, or -ENOSPC when all entries are taken. */
static long fakedns_claim(struct fakedns *t, const char *key, size_t len)
{
	uint32_t n = atomic_load_explicit(&t->count, memory_order_relaxed);
	struct fakedns_entry *e;

	do {
		if (n >= t->capacity)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak_explicit(
	    &t->count, &n, n + 1, memory_order_relaxed, memory_order_relaxed));
	e = fakedns_entry(t, n);
	e->len = (uint8_t)len;
	memcpy(e->name, key, len);
	atomic_store_explicit(&e->ready, 1, memory_order_release);
	return n;
}

/* Try to put our entry into the empty slot. *mine holds the entry claimed
 * so far (-1 for none yet). Returns the index when the slot is now ours, or
 * -EAGAIN with *value updated to what the slot holds (someone was faster),
 * or -ENOSPC when no entry was free and the slot is still empty. */
static long fakedns_fill_slot(struct fakedns *t, _Atomic uint32_t *slot,
			      uint32_t *value, long *mine, const char *key,
			      size_t len)
{
	if (*mine < 0)
		*mine = fakedns_claim(t, key, len);
	if (*mine < 0) {
		/* Full; but the name may have just been inserted here. */
		*value = atomic_load_explicit(slot, memory_order_acquire);
		return *value ? -EAGAIN : -ENOSPC;
	}
	if (atomic_compare_exchange_strong_explicit(
		slot, value, (uint32_t)*mine + 1, memory_order_acq_rel,
		memory_order_acquire))
		return *mine;
	return -EAGAIN;
}

/* Find key in the index, inserting it at the first empty slot. */
static long fakedns_insert(struct fakedns *t, const char *key, size_t len)
{
	_Atomic uint32_t *index = fakedns_index(t);
	uint32_t mask = t->index_size - 1;
	uint32_t hash = fakedns_hash(key, len);
	long mine = -1;

	for (uint32_t probe = 0; probe <= mask; probe++) {
		_Atomic uint32_t *slot = &index[(hash + probe) & mask];
		uint32_t value =
		    atomic_load_explicit(slot, memory_order_acquire);

		if (value == 0) {
			long rc =
			    fakedns_fill_slot(t, slot, &value, &mine, key, len);

			if (rc != -EAGAIN)
				return rc;
		}
		if (fakedns_slot_holds(t, value, key, len))
			return (long)value - 1;
	}
	return -ENOSPC;
}

long fakedns_lookup(struct fakedns *table, const char *name, size_t len)
{
	char key[FAKEDNS_NAME_MAX];
	long klen = fakedns_normalise(name, len, key);

	if (klen < 0)
		return klen;
	return fakedns_insert(table, key, (size_t)klen);
}

long fakedns_name(struct fakedns *table, uint32_t index, char *buf, size_t cap)
{
	struct fakedns_entry *e;

	if (index >= fakedns_count(table))
		return -ENOENT;
	e = fakedns_entry(table, index);
	if (!atomic_load_explicit(&e->ready, memory_order_acquire) ||
	    e->len == 0)
		return -ENOENT;
	if (cap < (size_t)e->len + 1)
		return -ENOSPC;
	memcpy(buf, e->name, e->len);
	buf[e->len] = '\0';
	return e->len;
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
