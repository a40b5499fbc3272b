/* hostsfile.h — the text of /etc/hosts for one lookup, kept from one lookup
 * to the next while the file stays the same.
 *
 * Every lookup stat()s the path (no descriptor needed) and compares what it
 * finds with the kept copy's identity: device, inode, size, modification
 * and change times. The same → the kept copy; different → the file is read
 * again. So an edit is seen by the next lookup, a large file (ad-blocking
 * lists run to megabytes) is not read again for every lookup, and a process
 * with no descriptor free still resolves the names it read before.
 *
 * A copy is kept only when the file was changed settle_ns or more before
 * the read began (a write landing in the same clock tick as the read would
 * leave the identity unchanged and the copy stale: file systems keep times
 * in ticks of a few milliseconds, some in seconds), is a regular file read
 * whole, and lies on a local file system (on NFS, SMB or FUSE, stat() may
 * answer from a cache where open() would see an edit). A wall clock set
 * since the copy was kept makes the next lookup read the file again.
 *
 * Thread safety: the kept copy is reference-counted under a mutex held for
 * a few instructions (no system call, no allocation under it); readers use
 * their copy outside it. Fork: hostsfile_fork_prepare/_parent/_child. */
#ifndef SOCKSIFY_HOSTSFILE_H
#define SOCKSIFY_HOSTSFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

#include "sys_io.h"

/* What says that two reads of the file saw the same text. */
struct hostsfile_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

/* One read of the file: NUL-terminated text of len bytes. */
struct hostsfile_text {
	struct hostsfile_id id;
	unsigned refs; /* under the cache's lock */
	size_t len;
	char text[];
};

struct hostsfile_cache {
	pthread_mutex_t lock;
	struct hostsfile_text *kept; /* holds one reference of its own */
	long long kept_offset;	     /* wall minus boot clock when kept */
	long long settle_ns;	     /* see above */
	size_t max_bytes;	     /* read at most this much of the file */
};

#define HOSTSFILE_SETTLE_NS	 (3LL * 1000000000) /* FAT keeps 2 s ticks */
#define HOSTSFILE_CLOCK_SLACK_NS (1000000000LL)	    /* NTP slews far less */

#define HOSTSFILE_CACHE_INIT(max)                                              \
	{                                                                      \
		.lock = PTHREAD_MUTEX_INITIALIZER, .kept = NULL,               \
		.settle_ns = HOSTSFILE_SETTLE_NS, .max_bytes = (max)           \
	}

/* True when err, from reading the file, means there are no local names:
 * missing, not readable by this user, not a file. Any other error (no
 * descriptor or memory, an I/O error, a stale or dead mount) may hide names
 * the file maps: the lookup must fail. */
bool hostsfile_error_means_no_names(int err);

/* The text of path for one lookup, with a reference the caller gives back
 * with hostsfile_release. NULL with *err 0 when there are no local names
 * (the file missing or not readable for good), NULL with *err an errno
 * value when the file could not be read now (a transient error, or ENOMEM):
 * the caller must fail the lookup then, not fake a name the file may map
 * (ENOMEM for want of memory).
 * Reads with io (openat, fstat, read, close); stat() is libc's. */
struct hostsfile_text *hostsfile_get(struct hostsfile_cache *cache,
				     const struct sys_io *io, const char *path,
				     int *err);

void hostsfile_release(struct hostsfile_cache *cache,
		       struct hostsfile_text *text);

/* Drop the kept copy (tests, and nothing else). */
void hostsfile_clear(struct hostsfile_cache *cache);

/* pthread_atfork handlers for one cache. */
void hostsfile_fork_prepare(struct hostsfile_cache *cache);
void hostsfile_fork_parent(struct hostsfile_cache *cache);
void hostsfile_fork_child(struct hostsfile_cache *cache);

#endif
