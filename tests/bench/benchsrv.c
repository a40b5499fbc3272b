/* benchsrv — the target servers of `make bench`.
 *
 * Usage: benchsrv MODE PORT_FILE IP [BYTES]
 *   tcp-echo    echo every byte back (one thread, poll, up to 1024 clients)
 *   tcp-source  send BYTES zero bytes to each client, then close (one
 *               thread per client)
 *   udp-echo    send every datagram back to where it came from
 * Binds IP with a port the kernel picks and writes that port to PORT_FILE.
 * With BENCHSRV_ONLY_FROM=ADDR in the environment, connections and datagrams
 * from any other address are dropped at once: the bench's targets serve only
 * the proxy, so a client that went direct fails instead of looking fast.
 * Runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CLIENTS 1024

static long long source_bytes;
static struct in_addr only_from;

/* 1 when the peer address a may be served. */
static int allowed(const struct sockaddr_in *a)
{
	return only_from.s_addr == 0 || a->sin_addr.s_addr == only_from.s_addr;
}

/* accept4() that drops (closes) connections from addresses not allowed.
 * Returns the fd or -1. */
static int accept_allowed(int lfd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = accept4(lfd, (struct sockaddr *)&a, &len, SOCK_CLOEXEC);

	if (fd >= 0 && !allowed(&a)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A socket of `type` bound to ip with a kernel-chosen port, written to
 * port_file. Exits on failure. */
static int bind_any(int type, const char *ip, const char *port_file)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int one = 1, fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	FILE *f;

	if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "benchsrv: bad address %s\n", ip);
		exit(2);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1024) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		perror("benchsrv: bind");
		exit(1);
	}
	f = fopen(port_file, "w");
	if (!f || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f)) {
		perror("benchsrv: port file");
		exit(1);
	}
	return fd;
}

/* Echo what a ready client sent. Returns 0, or -1 when it is gone. */
static int echo_once(int fd)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof buf), off = 0;

	if (n <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	while (off < n) {
		ssize_t w = write(fd, buf + off, (size_t)(n - off));
		if (w < 0 && errno != EINTR)
			return -1;
		if (w > 0)
			off += w;
	}
	return 0;
}

static void tcp_echo(int lfd)
{
	static struct pollfd pfd[1 + MAX_CLIENTS];
	int n = 1, i, one = 1;

	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			exit(1);
		for (i = 1; i < n; i++) {
			if (!pfd[i].revents || echo_once(pfd[i].fd) == 0)
				continue;
			close(pfd[i].fd);
			pfd[i--] = pfd[--n];
		}
		if ((pfd[0].revents & POLLIN) && n < 1 + MAX_CLIENTS) {
			int c = accept_allowed(lfd);
			if (c < 0)
				continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof one);
			pfd[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
		}
	}
}

/* Thread body: send source_bytes zeros to the client, then close it. */
static void *source_client(void *arg)
{
	static const char zeros[262144];
	int fd = (int)(intptr_t)arg;
	long long left = source_bytes;

	while (left > 0) {
		size_t chunk = left < (long long)sizeof zeros ? (size_t)left
							      : sizeof zeros;
		ssize_t w = write(fd, zeros, chunk);
		if (w < 0 && errno != EINTR)
			break;
		if (w > 0)
			left -= w;
	}
	close(fd);
	return NULL;
}

static void tcp_source(int lfd)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int c = accept_allowed(lfd);
		pthread_t t;

		if (c < 0)
			continue;
		if (pthread_create(&t, &attr, source_client,
				   (void *)(intptr_t)c) != 0)
			close(c);
	}
}

static void udp_echo(int fd)
{
	char buf[65536];

	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
				     (struct sockaddr *)&from, &len);
		if (n >= 0 && allowed(&from))
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			       len);
	}
}

int main(int argc, char **argv)
{
	const char *only = getenv("BENCHSRV_ONLY_FROM");

	signal(SIGPIPE, SIG_IGN);
	if (only && *only && inet_pton(AF_INET, only, &only_from) != 1) {
		fprintf(stderr, "benchsrv: bad BENCHSRV_ONLY_FROM\n");
		return 2;
	}
	if (argc >= 4 && strcmp(argv[1], "tcp-echo") == 0)
		tcp_echo(bind_any(SOCK_STREAM, argv[3], argv[2]));
	if (argc >= 5 && strcmp(argv[1], "tcp-source") == 0) {
		source_bytes = atoll(argv[4]);
		tcp_source(bind_any(SOCK_STREAM, argv[3], argv[2]));
	}
	if (argc >= 4 && strcmp(argv[1], "udp-echo") == 0)
		udp_echo(bind_any(SOCK_DGRAM, argv[3], argv[2]));
	fprintf(stderr, "usage: benchsrv tcp-echo|tcp-source|udp-echo "
			"PORT_FILE IP [BYTES]\n");
	return 2;
}
