/* firstconnect — the process's first connect made with no descriptor free,
 * then another once descriptors are free again (the configuration must be
 * read then, not refused for the rest of the process's life).
 *
 * Usage: firstconnect [-t THREADS] IPV4 PORT
 *        firstconnect -n NAME PORT
 * The target is expected to greet each connection with "PEER <port>\n",
 * the source port it sees. Steps, each printed on its own line:
 *   FIRST <errno name>   connect() with every descriptor in use (the
 *                        RLIMIT_NOFILE soft limit lowered to 32): "OK" or
 *                        the error it reported
 *   SECOND <errno name>  connect() after the descriptors are closed
 *   PATH proxied|direct  whether the target's peer port differs from our
 *                        socket's local port (a proxy made the connection)
 *   AGAIN <errno name>   one more connect() (closed at once)
 * With -t THREADS (1..16), SECOND, PATH and AGAIN give way to THREADS
 * threads connecting at the same instant once the descriptors are free
 * (so that their calls race to load the configuration):
 *   THREADS proxied=K of N  how many of them connected through a proxy
 * Only numeric addresses: a name lookup would load the configuration
 * before the first connect.
 * With -n NAME, the first hooked call is instead a name lookup
 * (getaddrinfo, AF_INET) made with no descriptor free, then:
 *   FIRST OK|<EAI name>[/<errno name>]  that lookup
 *   LOOKUP OK|<EAI name>  the same lookup once descriptors are free
 *   ADDR <address>        its first address
 *   SECOND, PATH, AGAIN   as above, connecting to ADDR:PORT
 * Exit status: 0 when the steps ran (the test judges the lines), 2 on a
 * local error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define FC_LIMIT       32
#define FC_THREADS_MAX 16

static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "E?";
}

static int fc_connect(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

/* Open /dev/null until EMFILE; returns how many were opened (their
 * descriptors in fds), or -1 when the limit was never reached. */
static int fc_fill(int *fds, int cap)
{
	int n = 0, fd;

	while (n < cap) {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno == EMFILE ? n : -1;
		fds[n++] = fd;
	}
	return -1;
}

/* Read the target's "PEER <port>" line; returns the port or -1. */
static int fc_peer_port(int fd)
{
	char line[64];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(line) - 1) {
		n = read(fd, line + len, 1);
		if (n <= 0)
			return -1;
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	if (strncmp(line, "PEER ", 5) != 0)
		return -1;
	return atoi(line + 5);
}

/* Connect and tell the path: 1 proxied, 0 direct or unknown, -errno when
 * connect() failed. */
static int fc_path(const struct sockaddr_in *sin)
{
	struct timeval tv = {.tv_sec = 15};
	struct sockaddr_in local;
	socklen_t len = sizeof(local);
	int fd = fc_connect(sin), peer, proxied = 0;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	peer = fc_peer_port(fd);
	if (peer >= 0 && getsockname(fd, (struct sockaddr *)&local, &len) == 0)
		proxied = peer != ntohs(local.sin_port);
	close(fd);
	return proxied;
}

static void fc_second(const struct sockaddr_in *sin)
{
	int rc = fc_path(sin), fd;

	printf("SECOND %s\n", rc < 0 ? errno_name(-rc) : "OK");
	if (rc >= 0)
		printf("PATH %s\n", rc ? "proxied" : "direct or unknown");
	fd = fc_connect(sin);
	printf("AGAIN %s\n", fd < 0 ? errno_name(-fd) : "OK");
	if (fd >= 0)
		close(fd);
}

struct fc_thread {
	pthread_t id;
	const struct sockaddr_in *sin;
	pthread_barrier_t *start;
	int rc;
};

static void *fc_thread_main(void *arg)
{
	struct fc_thread *t = arg;

	pthread_barrier_wait(t->start);
	t->rc = fc_path(t->sin);
	return NULL;
}

static int fc_threads(const struct sockaddr_in *sin, int count)
{
	struct fc_thread threads[FC_THREADS_MAX];
	pthread_barrier_t start;
	int i, proxied = 0;

	if (pthread_barrier_init(&start, NULL, (unsigned)count) != 0)
		return -1;
	for (i = 0; i < count; i++) {
		threads[i].sin = sin;
		threads[i].start = &start;
		threads[i].rc = 0;
		if (pthread_create(&threads[i].id, NULL, fc_thread_main,
				   &threads[i]) != 0)
			return -1;
	}
	for (i = 0; i < count; i++) {
		pthread_join(threads[i].id, NULL);
		proxied += threads[i].rc == 1;
	}
	pthread_barrier_destroy(&start);
	printf("THREADS proxied=%d of %d\n", proxied, count);
	return 0;
}

static const char *eai_name(int rc)
{
	switch (rc) {
	case EAI_AGAIN:
		return "EAI_AGAIN";
	case EAI_FAIL:
		return "EAI_FAIL";
	case EAI_MEMORY:
		return "EAI_MEMORY";
	case EAI_NONAME:
		return "EAI_NONAME";
	case EAI_SYSTEM:
		return "EAI_SYSTEM";
	default:
		return "EAI_?";
	}
}

/* getaddrinfo(name), IPv4 only: 0 with *sin's address, or the EAI code. */
static int fc_lookup(const char *name, struct sockaddr_in *sin)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(name, NULL, &hints, &res);

	if (rc == 0) {
		sin->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
		freeaddrinfo(res);
	}
	return rc;
}

/* -n NAME PORT: the first hooked call a name lookup, at the limit. */
static int fc_name(const char *name, const char *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	char text[INET_ADDRSTRLEN];
	int fds[FC_LIMIT], n, i, rc, err;

	sin.sin_port = htons((unsigned short)atoi(port));
	n = fc_fill(fds, FC_LIMIT);
	if (n < 0) {
		fprintf(stderr, "firstconnect: never reached EMFILE\n");
		return 2;
	}
	errno = 0;
	rc = fc_lookup(name, &sin);
	err = errno;
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (rc == 0)
		printf("FIRST OK\n");
	else if (rc == EAI_SYSTEM)
		printf("FIRST EAI_SYSTEM/%s\n", errno_name(err));
	else
		printf("FIRST %s\n", eai_name(rc));
	rc = fc_lookup(name, &sin);
	printf("LOOKUP %s\n", rc == 0 ? "OK" : eai_name(rc));
	if (rc != 0)
		return 0;
	printf("ADDR %s\n",
	       inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text));
	fc_second(&sin);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fds[FC_LIMIT], n, i, fd, threads = 0;

	if (argc == 4 && strcmp(argv[1], "-n") == 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 2;
		rl.rlim_cur = FC_LIMIT;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return 2;
		return fc_name(argv[2], argv[3]);
	}
	if (argc == 5 && strcmp(argv[1], "-t") == 0) {
		threads = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1 ||
	    threads < 0 || threads > FC_THREADS_MAX) {
		fprintf(stderr, "usage: firstconnect [-t 1..16] IPV4 PORT\n"
				"       firstconnect -n NAME PORT\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 2;
	rl.rlim_cur = FC_LIMIT;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 2;
	/* The socket first, then every other descriptor taken. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 2;
	n = fc_fill(fds, FC_LIMIT);
	if (n < 0) {
		fprintf(stderr, "firstconnect: never reached EMFILE\n");
		return 2;
	}
	if (connect(fd, (const struct sockaddr *)&sin, sizeof(sin)) == 0)
		printf("FIRST OK\n");
	else
		printf("FIRST %s\n", errno_name(errno));
	close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (threads > 0)
		return fc_threads(&sin, threads) < 0 ? 2 : 0;
	fc_second(&sin);
	return 0;
}
