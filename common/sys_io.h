/* sys_io.h — the file system calls common/ makes for itself (the config
 * file, the log file, the fake-DNS table file), passed in as a table.
 *
 * Why a table: inside libsocksify.so a plain call to read, write or close
 * (or syscall()) from common/ would bind to the library's own exported hook
 * of that name, not to libc. So common/ never names them; the library fills
 * this table from its table of real libc functions (preload/real.c), and
 * the helper and the unit tests fill it with libc's own functions. The
 * members behave exactly like the libc functions of the same name: -1 and
 * errno on failure. tests/check-selfbind.sh keeps common/ honest. */
#ifndef SOCKSIFY_SYS_IO_H
#define SOCKSIFY_SYS_IO_H

#include <sys/stat.h>
#include <sys/types.h>

struct sys_io {
	int (*openat)(int dirfd, const char *path, int flags, ...);
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*close)(int fd);
	int (*fstat)(int fd, struct stat *st);
};

#endif
