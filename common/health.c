/* health.c — the shared chain health table (see health.h). */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Open (or create) the file and check it is a regular file of ours, 0600.
 * Returns the descriptor or -errno. */
static int health_open(const struct sys_io *io, const char *path)
{
	struct stat st;
	int fd = io->openat(AT_FDCWD, path,
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (io->fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		io->close(fd);
		return -EPERM;
	}
	/* Growing a file that another process grows at the same time to the
	 * same size is harmless; new bytes read as zero (all up). */
	if ((size_t)st.st_size < sizeof(struct health) &&
	    ftruncate(fd, sizeof(struct health)) < 0) {
		int err = -errno;

		io->close(fd);
		return err;
	}
	return fd;
}

int health_attach(const struct sys_io *io, const char *path,
		  struct health **out)
{
	int saved_errno = errno;
	int fd = -1, flags = MAP_SHARED | MAP_ANONYMOUS;
	void *map;
	int rc = 0;

	if (path) {
		fd = health_open(io, path);
		if (fd < 0) {
			errno = saved_errno;
			return fd;
		}
		flags = MAP_SHARED;
	}
	map = mmap(NULL, sizeof(struct health), PROT_READ | PROT_WRITE, flags,
		   fd, 0);
	if (map == MAP_FAILED)
		rc = -errno;
	else
		*out = map;
	if (fd >= 0)
		io->close(fd);
	errno = saved_errno;
	return rc;
}

bool health_is_down(const struct health *h, unsigned chain, uint64_t now_ms)
{
	if (!h || chain >= CONFIG_MAX_CHAINS)
		return false;
	return atomic_load_explicit(&h->down_until_ms[chain],
				    memory_order_relaxed) > now_ms;
}

void health_mark_down(struct health *h, unsigned chain, uint64_t until_ms)
{
	if (h && chain < CONFIG_MAX_CHAINS)
		atomic_store_explicit(&h->down_until_ms[chain], until_ms,
				      memory_order_relaxed);
}

void health_mark_up(struct health *h, unsigned chain)
{
	if (!h || chain >= CONFIG_MAX_CHAINS)
		return;
	/* Skip the store (and the cache line bounce) when already up. */
	if (atomic_load_explicit(&h->down_until_ms[chain],
				 memory_order_relaxed) != 0)
		atomic_store_explicit(&h->down_until_ms[chain], 0,
				      memory_order_relaxed);
}

uint32_t health_next_turn(struct health *h, unsigned group)
{
	static _Atomic uint32_t private_turn[CONFIG_MAX_GROUPS];

	if (group >= CONFIG_MAX_GROUPS)
		return 0;
	if (!h)
		return atomic_fetch_add_explicit(&private_turn[group], 1,
						 memory_order_relaxed);
	return atomic_fetch_add_explicit(&h->turn[group], 1,
					 memory_order_relaxed);
}

/* Per process, without a shared table. */
static _Atomic uint32_t health_private_preferred[CONFIG_MAX_GROUPS];

unsigned health_preferred(const struct health *h, unsigned group)
{
	if (group >= CONFIG_MAX_GROUPS)
		return 0;
	return atomic_load_explicit(h ? &h->preferred[group]
				      : &health_private_preferred[group],
				    memory_order_relaxed);
}

void health_prefer(struct health *h, unsigned group, unsigned member)
{
	_Atomic uint32_t *slot;

	if (group >= CONFIG_MAX_GROUPS)
		return;
	slot = h ? &h->preferred[group] : &health_private_preferred[group];
	/* Skip the store when it is already the preferred one. */
	if (atomic_load_explicit(slot, memory_order_relaxed) != member)
		atomic_store_explicit(slot, member, memory_order_relaxed);
}
