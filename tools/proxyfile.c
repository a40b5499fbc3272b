/* proxyfile.c — keep a proxy password out of the environment of the run.
 *
 * `socksify -x socks5h://alice:PASSWORD@host` used to export the URL in
 * SOCKSIFY_PROXY, so every descendant carried the password in its
 * environment. Instead the helper writes the URL into a private file and the
 * wrapper exports only its name, SOCKSIFY_PROXY_FILE; the library reads the
 * file when it loads its configuration (common/config_file.c).
 *
 * Every process the program starts loads the configuration itself after
 * exec, so the file must outlive the first reader: it stays for the whole
 * run and a reaper removes it when the program exits (owner: the helper's
 * own PID, which execs the program). The reaper is a process of its own in a
 * new session, with no descriptor of the caller's (a `$(socksify prog)` does
 * not wait for it), that sleeps in poll() on a pidfd of that PID. A program
 * started by the run after its first program has exited finds no file and
 * its proxied connections fail (closed, never direct). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proxyfile.h"

/* Without pidfd_open (Linux < 5.3) the reaper asks every so often. */
#define PROXYFILE_POLL_SECONDS 1
#define PROXYFILE_ENV	       "SOCKSIFY_PROXY="

extern char **environ;

/* $XDG_RUNTIME_DIR when it is an absolute path to a directory of ours that
 * no one else can enter, else /dev/shm (memory, never disk), else /tmp. */
static const char *proxyfile_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	    !(st.st_mode & (S_IRWXG | S_IRWXO)))
		return xdg;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode))
		return "/dev/shm";
	return "/tmp";
}

/* Write all of text[0..len) to fd. Returns 0 or -errno. */
static int write_all(int fd, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create the file with url and a newline in it. Returns 0 or -errno. */
static int proxyfile_write(const char *url, char *path, size_t cap)
{
	int n =
	    snprintf(path, cap, "%s/socksify-proxy-XXXXXX", proxyfile_dir());
	int fd, rc;

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC); /* 0600, O_EXCL */
	if (fd < 0)
		return -errno;
	rc = write_all(fd, url, strlen(url));
	if (rc == 0)
		rc = write_all(fd, "\n", 1);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Wait until process owner is gone: on its pidfd when there is one, else
 * by asking the kernel every PROXYFILE_POLL_SECONDS. */
static void wait_for_exit(int pidfd, pid_t owner)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	if (pidfd >= 0) {
		while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
			;
		return;
	}
	while (kill(owner, 0) == 0 || errno == EPERM)
		sleep(PROXYFILE_POLL_SECONDS);
}

/* The reaper outlives the wrapper, and inherited SOCKSIFY_PROXY from it:
 * clear the password where /proc/PID/environ would still show it (the
 * strings themselves, at the top of our stack). */
static void scrub_proxy_env(void)
{
	size_t prefix = strlen(PROXYFILE_ENV);

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, PROXYFILE_ENV, prefix) == 0)
			explicit_bzero(*e + prefix, strlen(*e + prefix));
}

/* The reaper: leave the caller's session, descriptors and directory, wait
 * for owner to exit, remove path. Never returns. */
static void __attribute__((noreturn))
reaper_run(int pidfd, pid_t owner, const char *path)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	scrub_proxy_env();
	setsid();
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	if (pidfd > STDERR_FILENO + 1)
		syscall(SYS_close_range, STDERR_FILENO + 1, pidfd - 1, 0);
	syscall(SYS_close_range,
		(pidfd > STDERR_FILENO ? pidfd : STDERR_FILENO) + 1, ~0u, 0);
	if (chdir("/") < 0) {
		/* Nothing to do: only a mount stays busy a little longer. */
	}
	wait_for_exit(pidfd, owner);
	unlink(path);
	_exit(0);
}

int proxyfile_create(const char *url, pid_t owner, char *path, size_t cap)
{
	int pidfd = (int)syscall(SYS_pidfd_open, owner, 0);
	pid_t pid;
	int rc;

	if (pidfd < 0 && errno != ENOSYS)
		return -errno;
	rc = proxyfile_write(url, path, cap);
	if (rc == 0) {
		/* Twice: the helper execs the program in this process, which
		 * must not find the reaper among its children (a wait() for
		 * all of them would wait for the reaper, which waits for it).
		 */
		pid = fork();
		if (pid == 0) {
			if (fork() == 0)
				reaper_run(pidfd, owner, path);
			_exit(0);
		}
		if (pid < 0) {
			rc = -errno;
			unlink(path);
		} else {
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}
