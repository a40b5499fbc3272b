/* fuzz_fakedns_damage.c — the fake-DNS map when another process of the
 * user scribbles over it (the audit's finding: the shared header and the
 * slots must never be trusted after attach), and when a table file is
 * damaged or cut short before a process joins it.
 *
 * Input: a mode byte, then operations of 4 bytes (kind, offset low, offset
 * high, value): write a byte or a 32-bit word into the mapping (or the
 * file), look a name up, read an index's name back.
 * Mode 0: an anonymous table scribbled on while in use. Mode 1: a table
 * file made, scribbled on and possibly truncated, then joined anew.
 * Invariants: no operation crashes or reads outside the mapping (ASan,
 * SIGSEGV); a lookup gives an index below the capacity or an errno of the
 * documented ones; a name read back is at most 253 bytes and
 * NUL-terminated; joining a damaged file fails with EINVAL (or gives a
 * table that behaves as above). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakedns.h"
#include "fuzz.h"
#include "sys_io.h"

#define CAPACITY 64
/* Header page + one segment: 128 slots of 4 bytes and 64 entries of 260
 * bytes, rounded to pages (fakedns.c's layout). */
#define MAPPED (4096 + 20480)

static const struct sys_io io = {
    .openat = openat,
    .read = read,
    .write = write,
    .close = close,
    .fstat = fstat,
};

static void use(struct fakedns *table, uint8_t value, bool lookup)
{
	char name[32], back[300];
	long n;

	if (lookup) {
		snprintf(name, sizeof(name), "n%u.example", value);
		n = fakedns_lookup(table, name, strlen(name));
		FUZZ_CHECK(n == -ENOSPC || n == -EINVAL || n == -EIO ||
			   (n >= 0 && n < CAPACITY));
		return;
	}
	memset(back, 'x', sizeof(back));
	n = fakedns_name(table, value % (CAPACITY + 8), back, sizeof(back));
	FUZZ_CHECK(n == -ENOENT || n == -ENOSPC ||
		   (n >= 0 && n <= 253 && back[n] == '\0'));
	(void)fakedns_count(table);
}

/* The mapping's base: the handle's first member (fakedns.c). */
static uint8_t *mapping(struct fakedns *table)
{
	uint8_t *base;

	memcpy(&base, table, sizeof(base));
	return base;
}

static void scribble_mapping(struct fakedns *table, struct fuzz_input *in)
{
	uint8_t *base = mapping(table);
	uint8_t kind, value;
	size_t off;
	uint32_t word;

	while (in->len >= 4) {
		kind = fuzz_byte(in);
		off = fuzz_byte(in);
		off |= (size_t)fuzz_byte(in) << 8;
		value = fuzz_byte(in);
		off %= MAPPED;
		switch (kind % 4) {
		case 0:
			((_Atomic uint8_t *)base)[off] = value;
			break;
		case 1:
			word = value < 128 ? value : 0xffffff00u | value;
			off &= ~(size_t)3;
			atomic_store((_Atomic uint32_t *)(base + off), word);
			break;
		default:
			use(table, value, kind % 4 == 2);
			break;
		}
	}
}

static void damaged_file(struct fuzz_input *in)
{
	char path[64];
	struct fakedns *table = NULL;
	uint8_t kind, value;
	size_t off;
	uint32_t word;
	int fd, rc, i;

	snprintf(path, sizeof(path), "/tmp/socksify-fuzz-%d", (int)getpid());
	unlink(path);
	if (fakedns_attach(&io, &table, path, CAPACITY) != 0)
		return;
	for (i = 0; i < 4; i++)
		use(table, (uint8_t)i, true);
	fakedns_detach(table);
	fd = open(path, O_RDWR);
	FUZZ_CHECK(fd >= 0);
	while (in->len >= 4) {
		kind = fuzz_byte(in);
		off = fuzz_byte(in);
		off |= (size_t)fuzz_byte(in) << 8;
		value = fuzz_byte(in);
		off %= MAPPED;
		switch (kind % 3) {
		case 0:
			FUZZ_CHECK(pwrite(fd, &value, 1, (off_t)off) == 1);
			break;
		case 1:
			word = value < 128 ? value : 0xffffff00u | value;
			FUZZ_CHECK(pwrite(fd, &word, 4, (off_t)(off & ~3u)) ==
				   4);
			break;
		default:
			/* Shorter than the header page is a file being
			 * made too (waited for): cut after it. */
			FUZZ_CHECK(ftruncate(fd, (off_t)(4096 + off)) == 0);
			break;
		}
	}
	/* A zero magic is a file still being made, which a joiner waits
	 * for (2 s): keep it non-zero, so that damage is judged at once. */
	FUZZ_CHECK(pread(fd, &word, 4, 0) == 4);
	if (word == 0) {
		word = 1;
		FUZZ_CHECK(pwrite(fd, &word, 4, 0) == 4);
	}
	close(fd);
	table = NULL;
	rc = fakedns_attach(&io, &table, path, CAPACITY);
	unlink(path);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EINVAL);
		return;
	}
	for (i = 0; i < 8; i++)
		use(table, (uint8_t)i, i % 2 == 0);
	fakedns_detach(table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	struct fakedns *table = NULL;

	if (fuzz_byte(&in) % 2) {
		damaged_file(&in);
		return 0;
	}
	FUZZ_CHECK(fakedns_attach(&io, &table, NULL, CAPACITY) == 0);
	scribble_mapping(table, &in);
	fakedns_detach(table);
	return 0;
}
