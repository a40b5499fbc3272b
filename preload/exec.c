/* exec.c — the exec family waits for handshakes in flight.
 *
 * The helper thread that drives asynchronous handshakes (async_drive.c)
 * vanishes
 * with the old image at exec, so a socket still in its handshake would reach
 * the new program half-way through the SOCKS exchange. Each exec entry point
 * therefore waits, as the fork prepare handler does, until no handshake runs
 * (each ends by its deadline; past that the exec goes on anyway), then calls
 * libc's own function. glibc's execvp, execl and friends call execve inside
 * libc, not through our hook, so every one of them has its own hook.
 *
 * Cost with no handshake in flight: one atomic load (async_idle()).
 *
 * A vfork child (vfork, or the clone of posix_spawn/system/popen) runs in
 * its parent's memory with the parent suspended: it must neither wait nor
 * touch our tables, so it goes straight to libc. glibc's posix_spawn,
 * system and popen exec inside libc, in such a child, past these hooks; so
 * they wait in the parent, before the child exists. */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <unistd.h>

#include "async.h"
#include "log.h"
#include "hooks.h"
#include "real.h"
#include "udp.h"

/* The most arguments an execl-style call may pass (they are gathered on the
 * stack); more fail with E2BIG. */
#define EXEC_MAX_ARGS 4096

/* Lists of up to this many arguments are gathered in a small array; only
 * longer ones take the EXEC_MAX_ARGS one (32 KiB of stack), so a thread with
 * a small stack can still execl a short list. */
#define EXEC_SHORT_ARGS 64

/* glibc declares it from 2.34 on; the hook exists whatever the headers. */
int execveat(int dirfd, const char *path, char *const argv[],
	     char *const envp[], int flags);

/* Run before every exec: wait until no handshake is in flight, unless none
 * is (the common case) or this is a vfork child. */
static void exec_prepare(void)
{
	real_init();
	if (async_idle() || hook_in_vfork_child())
		return;
	log_debug("exec: waiting for the handshakes in flight");
	async_wait_settled();
}

SOCKSIFY_EXPORT int execve(const char *path, char *const argv[],
			   char *const envp[])
{
	exec_prepare();
	return real.execve(path, argv, envp);
}

SOCKSIFY_EXPORT int execv(const char *path, char *const argv[])
{
	exec_prepare();
	return real.execv(path, argv);
}

SOCKSIFY_EXPORT int execvp(const char *file, char *const argv[])
{
	exec_prepare();
	return real.execvp(file, argv);
}

SOCKSIFY_EXPORT int execvpe(const char *file, char *const argv[],
			    char *const envp[])
{
	exec_prepare();
	return real.execvpe(file, argv, envp);
}

SOCKSIFY_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	exec_prepare();
	return real.fexecve(fd, argv, envp);
}

/* execveat is missing from libc before glibc 2.34: ENOSYS then. */
SOCKSIFY_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
			     char *const envp[], int flags)
{
	exec_prepare();
	if (!real.execveat) {
		errno = ENOSYS;
		return -1;
	}
	return real.execveat(dirfd, path, argv, envp, flags);
}

/* ---- the variadic forms: argv is gathered on the stack ---- */

/* Count an execl-style list: arg0, then the variadic arguments up to the
 * terminating NULL (consumed from *ap). Returns the number of arguments
 * before the NULL, or -E2BIG when there are more than EXEC_MAX_ARGS. */
static int exec_count_args(const char *arg0, va_list *ap)
{
	int count = 0;

	for (const char *arg = arg0; arg; arg = va_arg(*ap, const char *)) {
		if (++count > EXEC_MAX_ARGS)
			return -E2BIG;
	}
	return count;
}

/* Fill argv[0..count] from arg0 and *ap (count from exec_count_args() on
 * the same list), NULL-terminated. *ap is left just after the list's NULL,
 * where execle finds envp. */
static void exec_gather_args(char **argv, int count, const char *arg0,
			     va_list *ap)
{
	argv[count] = NULL;
	if (count == 0)
		return;
	argv[0] = (char *)arg0;
	for (int i = 1; i < count; i++)
		argv[i] = va_arg(*ap, char *);
	(void)va_arg(*ap, char *); /* the terminating NULL */
}

/* The libc v-form an l-form ends in. */
enum exec_list_kind {
	EXEC_LIST_V,  /* execl  -> execv */
	EXEC_LIST_VP, /* execlp -> execvp */
	EXEC_LIST_VE, /* execle -> execve, envp after the list's NULL */
};

/* Gather the list arg0, ap... (count arguments) into argv, which holds at
 * least count + 1 pointers, and call libc's matching v-form (which calls
 * execve inside libc, so the wait runs once). Returns only on failure, -1
 * with errno set. */
static int exec_list_run(char **argv, enum exec_list_kind kind,
			 const char *name, int count, const char *arg0,
			 va_list ap)
{
	char *const *envp = NULL;
	va_list walk;

	va_copy(walk, ap);
	exec_gather_args(argv, count, arg0, &walk);
	if (kind == EXEC_LIST_VE)
		envp = va_arg(walk, char *const *);
	va_end(walk);
	exec_prepare();
	if (kind == EXEC_LIST_VP)
		return real.execvp(name, argv);
	if (kind == EXEC_LIST_VE)
		return real.execve(name, argv, envp);
	return real.execv(name, argv);
}

/* exec_list_run() with an array for a short list (count <= EXEC_SHORT_ARGS).
 * Not inlined, so that its array and the long one never share a frame. */
static __attribute__((noinline)) int
exec_list_short(enum exec_list_kind kind, const char *name, int count,
		const char *arg0, va_list ap)
{
	char *argv[EXEC_SHORT_ARGS + 1];

	return exec_list_run(argv, kind, name, count, arg0, ap);
}

/* exec_list_run() with an array for the longest list (EXEC_MAX_ARGS). */
static __attribute__((noinline)) int exec_list_long(enum exec_list_kind kind,
						    const char *name, int count,
						    const char *arg0,
						    va_list ap)
{
	char *argv[EXEC_MAX_ARGS + 1];

	return exec_list_run(argv, kind, name, count, arg0, ap);
}

/* Count the list arg0, ap..., gather it into a stack array big enough for
 * it and call libc's matching v-form. Returns only on failure, -1 with errno
 * set. */
static int exec_list(enum exec_list_kind kind, const char *name,
		     const char *arg0, va_list ap)
{
	va_list walk;
	int count;

	va_copy(walk, ap);
	count = exec_count_args(arg0, &walk);
	va_end(walk);
	if (count < 0) {
		errno = -count;
		return -1;
	}
	if (count <= EXEC_SHORT_ARGS)
		return exec_list_short(kind, name, count, arg0, ap);
	return exec_list_long(kind, name, count, arg0, ap);
}

SOCKSIFY_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = exec_list(EXEC_LIST_V, path, arg, ap);
	va_end(ap);
	return rc;
}

SOCKSIFY_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = exec_list(EXEC_LIST_VP, file, arg, ap);
	va_end(ap);
	return rc;
}

SOCKSIFY_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = exec_list(EXEC_LIST_VE, path, arg, ap);
	va_end(ap);
	return rc;
}

/* The spawn family: the child execs inside libc, so the parent waits. */
SOCKSIFY_EXPORT int posix_spawn(pid_t *pid, const char *path,
				const posix_spawn_file_actions_t *actions,
				const posix_spawnattr_t *attr,
				char *const argv[], char *const envp[])
{
	exec_prepare();
	return real.posix_spawn(pid, path, actions, attr, argv, envp);
}

SOCKSIFY_EXPORT int posix_spawnp(pid_t *pid, const char *file,
				 const posix_spawn_file_actions_t *actions,
				 const posix_spawnattr_t *attr,
				 char *const argv[], char *const envp[])
{
	exec_prepare();
	return real.posix_spawnp(pid, file, actions, attr, argv, envp);
}

SOCKSIFY_EXPORT int system(const char *command)
{
	exec_prepare();
	return real.system(command);
}

SOCKSIFY_EXPORT FILE *popen(const char *command, const char *mode)
{
	exec_prepare();
	return real.popen(command, mode);
}
