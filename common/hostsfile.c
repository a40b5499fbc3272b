/* hostsfile.c — /etc/hosts read once and kept while its identity holds
 * (see hostsfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "hostsfile.h"

bool hostsfile_error_is_transient(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM ||
	       err == ENOBUFS || err == EAGAIN || err == EINTR || err == EIO;
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

static bool hostsfile_same_time(const struct timespec *a,
				const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static bool hostsfile_same(const struct hostsfile_id *a,
			   const struct hostsfile_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       hostsfile_same_time(&a->mtime, &b->mtime) &&
	       hostsfile_same_time(&a->ctime, &b->ctime);
}

static long long hostsfile_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* True when the file's last change is settle_ns or more before now: no
 * write can still land in the tick the identity was taken in. */
static bool hostsfile_settled(const struct hostsfile_id *id,
			      long long settle_ns)
{
	struct timespec now;
	long long last = hostsfile_ns(&id->mtime);

	if (hostsfile_ns(&id->ctime) > last)
		last = hostsfile_ns(&id->ctime);
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	return hostsfile_ns(&now) - last >= settle_ns;
}

/* Read path with io into a new text (one reference). NULL with *err as for
 * hostsfile_get. *regular says whether it is a regular file. */
static struct hostsfile_text *hostsfile_read(const struct sys_io *io,
					     const char *path, size_t max,
					     int *err, bool *regular)
{
	struct hostsfile_text *t;
	struct stat st;
	size_t cap;
	ssize_t n = 0;
	int fd = io->openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);

	*err = 0;
	if (fd < 0) {
		*err = hostsfile_error_is_transient(errno) ? errno : 0;
		return NULL;
	}
	if (io->fstat(fd, &st) < 0) {
		*err = hostsfile_error_is_transient(errno) ? errno : 0;
		io->close(fd);
		return NULL;
	}
	*regular = S_ISREG(st.st_mode);
	/* The size says how much room; a file that is not regular (or one
	 * growing meanwhile) is read up to max all the same. */
	cap = st.st_size > 0 && (size_t)st.st_size < max ? (size_t)st.st_size
							 : max;
	t = malloc(sizeof(*t) + cap + 1);
	if (!t) {
		io->close(fd);
		*err = ENOMEM;
		return NULL;
	}
	hostsfile_id_of(&st, &t->id);
	t->refs = 1;
	t->len = 0;
	while (t->len < cap &&
	       ((n = io->read(fd, t->text + t->len, cap - t->len)) > 0 ||
		(n < 0 && errno == EINTR)))
		t->len += n > 0 ? (size_t)n : 0;
	if (n < 0) {
		int e = errno;

		io->close(fd);
		free(t);
		*err = hostsfile_error_is_transient(e) ? e : 0;
		return NULL;
	}
	io->close(fd);
	t->text[t->len] = '\0';
	return t;
}

struct hostsfile_text *hostsfile_get(struct hostsfile_cache *cache,
				     const struct sys_io *io, const char *path,
				     int *err)
{
	struct hostsfile_text *t, *old = NULL;
	struct hostsfile_id id;
	struct stat st;
	bool regular = false;

	*err = 0;
	if (stat(path, &st) < 0) {
		*err = hostsfile_error_is_transient(errno) ? errno : 0;
		return NULL;
	}
	hostsfile_id_of(&st, &id);
	pthread_mutex_lock(&cache->lock);
	t = cache->kept;
	if (t && hostsfile_same(&t->id, &id))
		t->refs++;
	else
		t = NULL;
	pthread_mutex_unlock(&cache->lock);
	if (t)
		return t;

	t = hostsfile_read(io, path, cache->max_bytes, err, &regular);
	if (!t || !regular || !hostsfile_settled(&t->id, cache->settle_ns))
		return t;
	pthread_mutex_lock(&cache->lock);
	old = cache->kept;
	cache->kept = t;
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
