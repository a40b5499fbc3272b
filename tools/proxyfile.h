/* proxyfile.h — hand a proxy password to the run in a private file rather
 * than in the environment of every process (see proxyfile.c). */
#ifndef SOCKSIFY_TOOLS_PROXYFILE_H
#define SOCKSIFY_TOOLS_PROXYFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Write url into a new file of this user, mode 0600, created with O_EXCL in
 * $XDG_RUNTIME_DIR (when it is a private directory of ours), else /dev/shm,
 * else /tmp; its name goes into path[0..cap). Start a reaper process that
 * removes the file once process owner has exited. Returns 0, or -errno
 * (no file is left behind then). */
int proxyfile_create(const char *url, pid_t owner, char *path, size_t cap);

#endif
