/* uringconnect — connect to HOST PORT with liburing's IORING_OP_CONNECT,
 * which no libc call and so no preloaded library sees: the guard makes
 * io_uring_setup fail with ENOSYS (t_guard.sh).
 *
 * Usage: uringconnect IPV4 PORT
 * Prints "ok" and the reply to an HTTP GET once connected; on failure
 * "setup ERRNAME" (the ring could not be made) or the connect's errno name,
 * exit 1; 2 on usage errors. */
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *name_of(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "E?";
}

/* One connect through the ring. Returns 0 or -errno. */
static int ring_connect(struct io_uring *ring, int fd,
			const struct sockaddr_in *sin)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int rc;

	if (!sqe)
		return -1;
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)sin,
			      sizeof *sin);
	rc = io_uring_submit(ring);
	if (rc < 0)
		return rc;
	rc = io_uring_wait_cqe(ring, &cqe);
	if (rc < 0)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return rc < 0 ? rc : 0;
}

int main(int argc, char **argv)
{
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct io_uring ring;
	char buf[4096];
	ssize_t n;
	int fd, rc;

	if (argc != 3 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: uringconnect IPV4 PORT\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	rc = io_uring_queue_init(4, &ring, 0);
	if (rc < 0) {
		printf("setup %s\n", name_of(-rc));
		return 1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	rc = ring_connect(&ring, fd, &sin);
	io_uring_queue_exit(&ring);
	if (rc < 0) {
		printf("%s\n", name_of(-rc));
		return 1;
	}
	printf("ok\n");
	fflush(stdout);
	if (write(fd, get, sizeof get - 1) == (ssize_t)(sizeof get - 1))
		while ((n = read(fd, buf, sizeof buf)) > 0)
			fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}
