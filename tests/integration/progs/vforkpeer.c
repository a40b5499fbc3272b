/* vforkpeer — a child that shares our memory leaves our sockets alone.
 *
 * Usage: vforkpeer HOST PORT vfork|clone
 * Connects to HOST:PORT (an echo server, through the proxy), checks that
 * getpeername() names HOST:PORT and that an echo comes back, then makes a
 * child that shares this process's memory (vfork(), or clone() with
 * CLONE_VM|CLONE_VFORK) and in it closes that socket and opens another
 * (which takes its number) before _exit(). The child's descriptors are its
 * own, so the parent's socket must be as it was: getpeername() still names
 * HOST:PORT (not the proxy) and the echo still works. Prints a line per
 * step; exit status 0 only when all held. */
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int conn_fd;

static _Noreturn void die(const char *what)
{
	printf("FAIL %s\n", what);
	exit(1);
}

/* One byte out and back, within 10 s. Returns 0 or -1. */
static int echo_once(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c = 'v';

	if (write(fd, &c, 1) != 1 || poll(&p, 1, 10000) != 1 ||
	    read(fd, &c, 1) != 1 || c != 'v')
		return -1;
	return 0;
}

/* Does fd's peer read as want? */
static int peer_is(int fd, const struct sockaddr_in *want)
{
	struct sockaddr_in got;
	socklen_t len = sizeof got;

	memset(&got, 0, sizeof got);
	if (getpeername(fd, (struct sockaddr *)&got, &len) < 0)
		return 0;
	printf("peer %s:%u\n", inet_ntoa(got.sin_addr), ntohs(got.sin_port));
	return got.sin_addr.s_addr == want->sin_addr.s_addr &&
	       got.sin_port == want->sin_port;
}

/* The child's whole life: close the parent's number, take it again. */
static int child_main(void *unused)
{
	(void)unused;
	close(conn_fd);
	socket(AF_INET, SOCK_STREAM, 0);
	_exit(0);
}

int main(int argc, char **argv)
{
	static char stack[64 * 1024];
	struct sockaddr_in to;
	int status;
	pid_t pid;

	if (argc != 4)
		die("usage: vforkpeer HOST PORT vfork|clone");
	memset(&to, 0, sizeof to);
	to.sin_family = AF_INET;
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1)
		die("bad host");
	conn_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (conn_fd < 0 ||
	    connect(conn_fd, (struct sockaddr *)&to, sizeof to) < 0)
		die("connect");
	if (!peer_is(conn_fd, &to) || echo_once(conn_fd) < 0)
		die("first socket");
	printf("first socket ok\n");
	if (strcmp(argv[3], "vfork") == 0) {
		pid = vfork();
		if (pid == 0)
			child_main(NULL);
	} else if (strcmp(argv[3], "clone") == 0) {
		pid = clone(child_main, stack + sizeof stack,
			    CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	} else {
		die("mode");
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("child");
	if (!peer_is(conn_fd, &to))
		die("peer after the child");
	if (echo_once(conn_fd) < 0)
		die("echo after the child");
	printf("socket after the child ok\n");
	return 0;
}
