/* hostsfile.c — /etc/hosts read once and kept while its identity holds
 * (see hostsfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "hostsfile.h"

/* Only these say the file is not there for us for good (as libc's lookup
 * then goes on without it); any other error (no descriptor, no memory, an
 * I/O error, a stale or dead network mount) may hide names the file maps,
 * so the lookup fails. */
bool hostsfile_error_means_no_names(int err)
{
	return err == ENOENT || err == ENOTDIR || err == EACCES ||
	       err == EPERM || err == ELOOP || err == EISDIR;
}

static int hostsfile_error(int err)
{
	return hostsfile_error_means_no_names(err) ? 0 : err;
}

static void hostsfile_id_of(const struct stat *st, struct hostsfile_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
}

static long long hostsfile_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000 + t->tv_nsec;
}

static bool hostsfile_same(const struct hostsfile_id *a,
			   const struct hostsfile_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       hostsfile_ns(&a->mtime) == hostsfile_ns(&b->mtime) &&
	       hostsfile_ns(&a->ctime) == hostsfile_ns(&b->ctime);
}

/* The wall clock's offset from the boot clock, in ns: it moves when the
 * wall clock is set. 0 when a clock cannot be read. */
static long long hostsfile_clock_offset(void)
{
	struct timespec wall, boot;

	if (clock_gettime(CLOCK_REALTIME, &wall) < 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return 0;
	return hostsfile_ns(&wall) - hostsfile_ns(&boot);
}

/* A file system whose attributes may come from a cache of a server's (NFS,
 * SMB, FUSE...): stat() there can miss an edit that open() would see, and
 * its times follow another clock. A copy read from one is never kept. */
static bool hostsfile_remote(int fd)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) < 0)
		return true;
	switch ((unsigned long)fs.f_type) {
	case 0x6969:	 /* NFS */
	case 0x517b:	 /* SMB */
	case 0xff534d42: /* CIFS */
	case 0xfe534d42: /* SMB2 */
	case 0x65735546: /* FUSE */
	case 0x00c36400: /* Ceph */
	case 0x5346414f: /* AFS */
	case 0x73757245: /* Coda */
	case 0x01021997: /* 9P */
	case 0x7461636f: /* OCFS2 */
	case 0x01161970: /* GFS2 */
		return true;
	default:
		return false;
	}
}

/* Read fd to its end, at most max bytes, into t (reallocated as it
 * grows; *tp updated). Returns 0, or an errno value. */
static int hostsfile_read_all(const struct sys_io *io, int fd, size_t max,
			      struct hostsfile_text **tp, size_t *cap)
{
	struct hostsfile_text *t = *tp, *bigger;
	ssize_t n;

	for (;;) {
		if (t->len == *cap) {
			if (*cap >= max)
				return 0; /* read what the limit allows */
			*cap = *cap > max / 2 ? max : *cap * 2;
			bigger = realloc(t, sizeof(*t) + *cap + 1);
			if (!bigger)
				return ENOMEM;
			*tp = t = bigger;
		}
		n = io->read(fd, t->text + t->len, *cap - t->len);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return errno;
		if (n > 0)
			t->len += (size_t)n;
	}
}

#define HOSTSFILE_FIRST_BYTES 4096 /* room for a file of unknown size */

/* Read path with io into a new text (one reference). NULL with *err as for
 * hostsfile_get. *keep says whether the copy may be kept: a regular file
 * on a local file system, read whole, changed at least settle_ns before
 * the read began (so no write can still land in the tick its identity
 * was taken in). */
static struct hostsfile_text *hostsfile_read(const struct sys_io *io,
					     const char *path, size_t max,
					     long long settle_ns, int *err,
					     bool *keep)
{
	struct hostsfile_text *t, *fit;
	struct timespec now;
	struct stat st;
	size_t cap;
	long long last;
	int rc, fd = io->openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

	*err = 0;
	*keep = false;
	if (fd < 0) {
		*err = hostsfile_error(errno);
		return NULL;
	}
	if (io->fstat(fd, &st) < 0 || clock_gettime(CLOCK_REALTIME, &now) < 0) {
		*err = hostsfile_error(errno);
		io->close(fd);
		return NULL;
	}
	/* Room for what the size says and one byte more, so that the end of
	 * the file is seen without growing; a file that says 0 (empty, or not
	 * a regular one) or grows meanwhile gets more as it is read. */
	cap = st.st_size > 0 && (size_t)st.st_size < max
		  ? (size_t)st.st_size + 1
		  : HOSTSFILE_FIRST_BYTES;
	if (cap > max)
		cap = max;
	t = malloc(sizeof(*t) + cap + 1);
	if (!t) {
		io->close(fd);
		*err = ENOMEM;
		return NULL;
	}
	hostsfile_id_of(&st, &t->id);
	t->refs = 1;
	t->len = 0;
	rc = hostsfile_read_all(io, fd, max, &t, &cap);
	if (rc) {
		io->close(fd);
		free(t);
		*err = hostsfile_error(rc);
		return NULL;
	}
	/* Give back what a file of unknown size did not fill (a failure to
	 * shrink leaves the larger block, no harm). */
	if (cap - t->len > HOSTSFILE_FIRST_BYTES) {
		fit = realloc(t, sizeof(*t) + t->len + 1);
		if (fit)
			t = fit;
	}
	t->text[t->len] = '\0';
	last = hostsfile_ns(&st.st_mtim) > hostsfile_ns(&st.st_ctim)
		   ? hostsfile_ns(&st.st_mtim)
		   : hostsfile_ns(&st.st_ctim);
	*keep = S_ISREG(st.st_mode) && (off_t)t->len == st.st_size &&
		hostsfile_ns(&now) - last >= settle_ns && !hostsfile_remote(fd);
	io->close(fd);
	return t;
}

struct hostsfile_text *hostsfile_get(struct hostsfile_cache *cache,
				     const struct sys_io *io, const char *path,
				     int *err)
{
	struct hostsfile_text *t, *old = NULL;
	struct hostsfile_id id;
	struct stat st;
	long long offset;
	bool keep = false;

	*err = 0;
	if (stat(path, &st) < 0) {
		*err = hostsfile_error(errno);
		return NULL;
	}
	hostsfile_id_of(&st, &id);
	/* A wall clock set back since the copy was kept could let an edit
	 * reuse its times: then the file is read again. */
	offset = hostsfile_clock_offset();
	pthread_mutex_lock(&cache->lock);
	t = cache->kept;
	if (t && hostsfile_same(&t->id, &id) &&
	    llabs(offset - cache->kept_offset) < HOSTSFILE_CLOCK_SLACK_NS)
		t->refs++;
	else
		t = NULL;
	pthread_mutex_unlock(&cache->lock);
	if (t)
		return t;

	t = hostsfile_read(io, path, cache->max_bytes, cache->settle_ns, err,
			   &keep);
	if (!t || !keep)
		return t;
	pthread_mutex_lock(&cache->lock);
	old = cache->kept;
	cache->kept = t;
	cache->kept_offset = offset;
	t->refs++;
	if (old && --old->refs > 0)
		old = NULL;
	pthread_mutex_unlock(&cache->lock);
	free(old);
	return t;
}

void hostsfile_release(struct hostsfile_cache *cache,
		       struct hostsfile_text *text)
{
	bool last;

	if (!text)
		return;
	pthread_mutex_lock(&cache->lock);
	last = --text->refs == 0;
	pthread_mutex_unlock(&cache->lock);
	if (last)
		free(text);
}

void hostsfile_clear(struct hostsfile_cache *cache)
{
	struct hostsfile_text *old;

	pthread_mutex_lock(&cache->lock);
	old = cache->kept;
	cache->kept = NULL;
	pthread_mutex_unlock(&cache->lock);
	hostsfile_release(cache, old);
}

void hostsfile_fork_prepare(struct hostsfile_cache *cache)
{
	pthread_mutex_lock(&cache->lock);
}

void hostsfile_fork_parent(struct hostsfile_cache *cache)
{
	pthread_mutex_unlock(&cache->lock);
}

/* The references other threads of the parent held are never given back in
 * the child: those texts stay allocated there. */
void hostsfile_fork_child(struct hostsfile_cache *cache)
{
	pthread_mutex_unlock(&cache->lock);
}
