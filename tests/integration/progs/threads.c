/* threads — many threads connecting at once, each checking an echo round
 * trip, to exercise socksify's per-fd state and fake-DNS map under
 * concurrency.
 *
 * Usage: threads HOST PORT [THREADS [CONNECTS]]   (default 16 × 20)
 * Each connect resolves HOST with getaddrinfo (so a name exercises the fake
 * map from every thread), connects, sends a unique line, and expects the
 * same line back. Exit status 0 only if every round trip succeeded. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *host, *port;
static int connects = 20;
static atomic_int failures, successes;

/* Read exactly len bytes with a 10 s bound per read. Returns 0 or -1. */
static int read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			return -1;
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

/* One connect + echo round trip. Returns 0 or an errno-like code. */
static int round_trip(int thread, int i)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	char line[64], back[64];
	int fd, rc, len;

	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "t%d/%d: getaddrinfo: %s\n", thread, i,
			gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		rc = errno;
		fprintf(stderr, "t%d/%d: connect: %s\n", thread, i,
			strerror(rc));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	freeaddrinfo(ai);
	len = snprintf(line, sizeof line, "thread %d connect %d\n", thread, i);
	rc = -1;
	if (write(fd, line, len) == len && read_all(fd, back, len) == 0 &&
	    memcmp(line, back, len) == 0)
		rc = 0;
	else
		fprintf(stderr, "t%d/%d: echo mismatch\n", thread, i);
	close(fd);
	return rc;
}

static void *worker(void *arg)
{
	int thread = (int)(long)arg;

	for (int i = 0; i < connects; i++) {
		if (round_trip(thread, i) == 0)
			atomic_fetch_add(&successes, 1);
		else
			atomic_fetch_add(&failures, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = 16;
	pthread_t tid[256];

	if (argc < 3) {
		fprintf(stderr,
			"usage: threads HOST PORT [THREADS [CONNECTS]]\n");
		return 2;
	}
	host = argv[1];
	port = argv[2];
	if (argc > 3)
		threads = atoi(argv[3]);
	if (argc > 4)
		connects = atoi(argv[4]);
	if (threads < 1 || threads > 256 || connects < 1)
		return 2;
	for (int t = 0; t < threads; t++)
		if (pthread_create(&tid[t], NULL, worker, (void *)(long)t)) {
			fprintf(stderr, "pthread_create failed\n");
			return 2;
		}
	for (int t = 0; t < threads; t++)
		pthread_join(tid[t], NULL);
	printf("threads: %d ok, %d failed\n", atomic_load(&successes),
	       atomic_load(&failures));
	return atomic_load(&failures) == 0 &&
		       atomic_load(&successes) == threads * connects
		   ? 0
		   : 1;
}
