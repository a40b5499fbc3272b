/* supervisor.h — run a program under a seccomp filter whose connect()
 * calls a supervisor process carries (see supervisor.c): a statically
 * linked one, or a dynamic one under the guard. */
#ifndef SOCKSIFY_SUPERVISOR_H
#define SOCKSIFY_SUPERVISOR_H

#include <stddef.h>

/* Whether this kernel has what the supervisor needs (seccomp user
 * notification, pidfd_open, pidfd_getfd). Returns 0, or -1 with why (the
 * missing piece and its error) written into why[0..cap). */
int supervisor_available(char *why, size_t cap);

/* Whether the guard's trampoline page (common/guardpage.h) can be mapped
 * in a new process: its address is free here (a fresh exec lays memory
 * out the same way) and the kernel takes MAP_FIXED_NOREPLACE. Returns 0,
 * or -1 with why. */
int supervisor_guard_page_free(char *why, size_t cap);

struct config;

/* Start the supervisor, install the filter in this process and exec
 * argv[0] (searched in PATH) with library, an absolute path
 * (preload_env_resolve), prepended to LD_PRELOAD (NULL: LD_PRELOAD
 * untouched). The supervisor shares this process's memory until
 * the exec and then carries on with it: cfg (NULL: loaded here as the
 * library would) is its config, loaded once for both. Returns only on
 * failure, with the exit status the wrapper uses (126, or 127 when argv[0]
 * is not found), the reason on stderr; the supervisor then leaves. */
int supervisor_exec(const char *library, char *const argv[],
		    const struct config *cfg);

#endif
