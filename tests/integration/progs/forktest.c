/* forktest — socksify state across fork().
 *
 * Usage: forktest HOST PORT NAME
 * The parent connects to HOST:PORT (an echo server reached through the
 * proxy) and forks. The child does an echo round trip on the inherited
 * socket, resolves NAME (a fresh name: it gets a fake address), connects to
 * it on PORT through the proxy, does a round trip there, and writes the
 * address it got into a pipe. The parent waits, then connects to the child's
 * address before resolving NAME itself (so the connect proves that the name
 * the child stored is visible to the parent), then resolves NAME and must get
 * the same address, and finally uses its first socket again.
 * Prints one line per step; exit status 0 only if every step worked. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Send a line and expect it back (bounded). Returns 0 or -1. */
static int echo_check(int fd, const char *who)
{
	char line[128], back[128];
	int len = snprintf(line, sizeof line, "%s says hello %d\n", who,
			   (int)getpid());
	int got = 0;

	if (write(fd, line, len) != len)
		return -1;
	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			return -1;
		n = read(fd, back + got, len - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return memcmp(line, back, len) == 0 ? 0 : -1;
}

/* Resolve host:port (IPv4) into *sa. Returns 0 or -1. */
static int resolve(const char *host, const char *port, struct sockaddr_in *sa)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM},
			*ai;
	int rc = getaddrinfo(host, port, &hints, &ai);

	if (rc != 0) {
		fprintf(stderr, "getaddrinfo %s: %s\n", host, gai_strerror(rc));
		return -1;
	}
	memcpy(sa, ai->ai_addr, sizeof *sa);
	freeaddrinfo(ai);
	return 0;
}

/* A new socket connected to *sa. Returns the fd or -1. */
static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
		fprintf(stderr, "connect %s: %s\n", inet_ntoa(sa->sin_addr),
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The child's steps; returns its exit status. */
static int child(int fd, int pipe_fd, const char *name, const char *port)
{
	struct sockaddr_in sa;
	int fd2;

	if (echo_check(fd, "child") < 0) {
		printf("child: inherited socket FAILED\n");
		return 1;
	}
	printf("child: inherited socket ok\n");
	if (resolve(name, port, &sa) < 0)
		return 1;
	printf("child: %s -> %s\n", name, inet_ntoa(sa.sin_addr));
	fd2 = connect_to(&sa);
	if (fd2 < 0 || echo_check(fd2, "child-by-name") < 0) {
		printf("child: connect by name FAILED\n");
		return 1;
	}
	printf("child: connect by name ok\n");
	close(fd2);
	if (write(pipe_fd, &sa, sizeof sa) != sizeof sa)
		return 1;
	return 0;
}

/* The parent's steps after the child exited 0. Returns the exit status. */
static int parent_after(int fd, int pipe_fd, const char *name, const char *port)
{
	struct sockaddr_in from_child, mine;
	int fd2;

	if (read(pipe_fd, &from_child, sizeof from_child) != sizeof from_child)
		return 1;
	fd2 = connect_to(&from_child);
	if (fd2 < 0 || echo_check(fd2, "parent-by-child-address") < 0) {
		printf("parent: connect to child's address FAILED\n");
		return 1;
	}
	printf("parent: connect to child's address ok\n");
	close(fd2);
	if (resolve(name, port, &mine) < 0 ||
	    mine.sin_addr.s_addr != from_child.sin_addr.s_addr) {
		printf("parent: %s resolves differently\n", name);
		return 1;
	}
	printf("parent: same address for %s\n", name);
	if (echo_check(fd, "parent") < 0) {
		printf("parent: first socket FAILED\n");
		return 1;
	}
	printf("parent: first socket ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int fd, pipefd[2], status;
	pid_t pid;

	if (argc != 4) {
		fprintf(stderr, "usage: forktest HOST PORT NAME\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (resolve(argv[1], argv[2], &sa) < 0 || (fd = connect_to(&sa)) < 0)
		return 1;
	if (pipe(pipefd) < 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0)
		_exit(child(fd, pipefd[1], argv[3], argv[2]));
	close(pipefd[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		printf("parent: child failed\n");
		return 1;
	}
	return parent_after(fd, pipefd[0], argv[3], argv[2]);
}
