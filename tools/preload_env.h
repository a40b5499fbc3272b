/* preload_env.h — the library's name as it goes into LD_PRELOAD, for the
 * helper's `run`, `supervise` and shell mode alike. */
#ifndef SOCKSIFY_PRELOAD_ENV_H
#define SOCKSIFY_PRELOAD_ENV_H

#include <limits.h>

/* library as an absolute path without links (realpath) in out. The
 * loader looks a relative LD_PRELOAD word up from the directory a
 * program is in when it starts, so a program that changes directory and
 * runs another would lose the library (and run that one unproxied).
 * Returns 0, or -1 after saying on stderr why not (the library is not
 * there, say): better no run than one without socksify. */
int preload_env_resolve(const char *library, char out[PATH_MAX]);

/* LD_PRELOAD = library, then whatever it held. Returns 0 or -1 (out of
 * memory). */
int preload_env_prepend(const char *library);

#endif
