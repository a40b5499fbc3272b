/* asyncexec.c — exec while an asynchronous handshake is in flight. Used by
 * t_async_exec.sh through socksify, with the proxy behind a slow relay.
 *
 * usage: asyncexec HOST PORT VIA
 *   Starts a non-blocking connect (it must say EINPROGRESS), then at once
 *   execs itself as "asyncexec --child FD VIA" through VIA: execve execv
 *   execvp execvpe execl execlp execle fexecve execveat; vfork (a vfork
 *   child first runs execl("/bin/true"), which must not wait for the
 *   handshake, then execve); raw (syscall(SYS_execve), which no hook sees:
 *   the child is expected to fail, proving the check can fail).
 * The child must find FD a connected, clean tunnel to the echo server: a
 * line written comes back unchanged with no SOCKS byte before it. The
 * envp-taking forms pass ASYNCEXEC_ENV=VIA, which the child checks.
 * Prints "ok VIA" (child) or a reason, and exits non-zero on failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <spawn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char self_path[4096], self_dir[4096], self_base[256];
static char *child_argv[5];
static char *child_envp[256];

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "asyncexec: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Read up to want bytes (or until a newline) within 5 s. */
static size_t read_line(int fd, char *buf, size_t want)
{
	size_t got = 0;
	long until = now_ms() + 5000;

	while (got < want && (got == 0 || buf[got - 1] != '\n')) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&pfd, 1, (int)(until - now_ms())) <= 0)
			break;
		n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* The exec'd image: FD must be a clean, connected tunnel. */
static int child_main(int fd, const char *via)
{
	char want[64], got[64];
	int err = -1, flags = fcntl(fd, F_GETFL);
	socklen_t len = sizeof err;
	const char *env = getenv("ASYNCEXEC_ENV");
	size_t n;

	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		die("child: the socket was not inherited");
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		die("child: SO_ERROR");
	if (strstr(via, "execve") || strcmp(via, "execvpe") == 0 ||
	    strcmp(via, "execle") == 0 || strcmp(via, "fexecve") == 0) {
		if (!env || strcmp(env, via) != 0)
			die("child: envp was not passed");
	}
	n = (size_t)snprintf(want, sizeof want, "exec-check %s\n", via);
	if (write(fd, want, n) != (ssize_t)n)
		die("child: write");
	n = read_line(fd, got, n);
	if (n != strlen(want) || memcmp(got, want, n) != 0) {
		fprintf(stderr,
			"asyncexec: child: not a clean tunnel: got %zu "
			"bytes, first %#x\n",
			n, n ? (unsigned char)got[0] : 0);
		return 1;
	}
	printf("ok %s\n", via);
	return 0;
}

/* Where this program lives, for the exec forms that need a path, a PATH
 * search or a directory. */
static void find_self(void)
{
	char copy[4096];
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);

	if (n <= 0)
		die("readlink /proc/self/exe");
	self_path[n] = '\0';
	snprintf(copy, sizeof copy, "%s", self_path);
	snprintf(self_dir, sizeof self_dir, "%s", dirname(copy));
	snprintf(copy, sizeof copy, "%s", self_path);
	snprintf(self_base, sizeof self_base, "%s", basename(copy));
}

/* environ plus ASYNCEXEC_ENV=via. */
static void build_envp(const char *via)
{
	static char marker[64];
	size_t i = 0;

	snprintf(marker, sizeof marker, "ASYNCEXEC_ENV=%s", via);
	for (char **e = environ; *e && i < 250; e++)
		if (strncmp(*e, "ASYNCEXEC_ENV=", 14) != 0)
			child_envp[i++] = *e;
	child_envp[i++] = marker;
	child_envp[i] = NULL;
}

/* A vfork child's exec must not wait for the handshake (it runs in our
 * memory with us suspended): it has to be over long before the handshake. */
static void vfork_check(void)
{
	long start = now_ms();
	int status;
	pid_t pid = vfork();

	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("vfork child");
	if (now_ms() - start > 300) {
		errno = 0;
		die("the vfork child's exec waited for the handshake");
	}
}

static void exec_l_forms(const char *via, char **a)
{
	if (strcmp(via, "execl") == 0)
		execl(self_path, a[0], a[1], a[2], a[3], (char *)NULL);
	else if (strcmp(via, "execlp") == 0)
		execlp(self_base, a[0], a[1], a[2], a[3], (char *)NULL);
	else if (strcmp(via, "execle") == 0)
		execle(self_path, a[0], a[1], a[2], a[3], (char *)NULL,
		       child_envp);
}

/* Exec the child through via; returns only on failure. */
static void exec_child(const char *via)
{
	char **a = child_argv, **e = child_envp;

	if (strcmp(via, "execve") == 0 || strcmp(via, "vfork") == 0)
		execve(self_path, a, e);
	else if (strcmp(via, "execv") == 0)
		execv(self_path, a);
	else if (strcmp(via, "execvp") == 0)
		execvp(self_base, a);
	else if (strcmp(via, "execvpe") == 0)
		execvpe(self_base, a, e);
	else if (strcmp(via, "fexecve") == 0)
		fexecve(open(self_path, O_RDONLY | O_CLOEXEC), a, e);
	else if (strcmp(via, "execveat") == 0)
		execveat(open(self_dir, O_PATH | O_DIRECTORY | O_CLOEXEC),
			 self_base, a, e, 0);
	else if (strcmp(via, "raw") == 0)
		syscall(SYS_execve, self_path, a, e);
	else
		exec_l_forms(via, a);
}

/* The spawn family: the child execs inside libc, so the parent must have
 * waited before the child exists. Returns the child's exit status. */
static int spawn_child(const char *via)
{
	char command[PATH_MAX + 64];
	int status = -1;
	pid_t pid;

	snprintf(command, sizeof command, "'%s' --child %s %s", self_path,
		 child_argv[2], via);
	if (strcmp(via, "system") == 0)
		status = system(command);
	else if (strcmp(via, "popen") == 0)
		status = pclose(popen(command, "w"));
	else if ((strcmp(via, "posix_spawn") == 0
		      ? posix_spawn(&pid, self_path, NULL, NULL, child_argv,
				    child_envp)
		      : posix_spawnp(&pid, self_base, NULL, NULL, child_argv,
				     child_envp)) == 0 &&
		 waitpid(pid, &status, 0) != pid)
		status = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in target = {.sin_family = AF_INET};
	static char fdtext[16];
	const char *via;
	int fd;

	if (argc == 4 && strcmp(argv[1], "--child") == 0)
		return child_main(atoi(argv[2]), argv[3]);
	if (argc != 4) {
		fprintf(stderr, "usage: asyncexec HOST PORT VIA\n");
		return 2;
	}
	via = argv[3];
	target.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &target.sin_addr) != 1)
		die("bad host");
	find_self();
	if (setenv("PATH", self_dir, 1) < 0)
		die("setenv PATH");
	build_envp(via);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&target, sizeof target) == 0 ||
	    errno != EINPROGRESS)
		die("connect did not return EINPROGRESS");
	snprintf(fdtext, sizeof fdtext, "%d", fd);
	child_argv[0] = self_base;
	child_argv[1] = (char *)"--child";
	child_argv[2] = fdtext;
	child_argv[3] = (char *)via;
	if (strcmp(via, "vfork") == 0)
		vfork_check();
	if (strncmp(via, "posix_spawn", 11) == 0 ||
	    strcmp(via, "system") == 0 || strcmp(via, "popen") == 0)
		return spawn_child(via);
	exec_child(via);
	die("exec");
}
