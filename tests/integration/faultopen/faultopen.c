/* faultopen.c — a test shim, preloaded after libsocksify.so, whose
 * openat() fails with EMFILE for a path ending in $FAULTOPEN_SUFFIX while
 * the file $FAULTOPEN_WHILE exists (the test removes it to end the
 * fault). Every other call goes to libc's openat. libsocksify finds this
 * openat with dlsym(RTLD_NEXT), so its own opens (the shared tables) can be
 * made to find no descriptor free at a chosen moment, with no limit on the
 * program's other opens. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((visibility("default"))) int openat(int dirfd, const char *path,
						  int flags, ...);

static int faultopen_now(const char *path)
{
	const char *suffix = getenv("FAULTOPEN_SUFFIX");
	const char *flag = getenv("FAULTOPEN_WHILE");
	size_t plen, slen;
	struct stat st;

	if (!path || !suffix || !*suffix || !flag || !*flag)
		return 0;
	plen = strlen(path);
	slen = strlen(suffix);
	if (plen < slen || strcmp(path + plen - slen, suffix) != 0)
		return 0;
	return stat(flag, &st) == 0;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	int (*next)(int, const char *, int, ...);
	void *addr;
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (faultopen_now(path)) {
		errno = EMFILE;
		return -1;
	}
	addr = dlsym(RTLD_NEXT, "openat");
	if (!addr) {
		errno = ENOSYS;
		return -1;
	}
	memcpy(&next, &addr, sizeof addr);
	return next(dirfd, path, flags, mode);
}
