/* staticnet.c — a statically linked network client for t_static.sh (built
 * with -static: the preload cannot reach it, only the supervisor can).
 *
 *   staticnet get IP PORT            one HTTP/1.0 GET, the reply on stdout
 *   staticnet nonblock IP PORT       the same on a non-blocking socket
 *   staticnet threads IP PORT N      N threads, one GET each, at once;
 *                                    prints "ok N" when all got a reply
 *   staticnet errno IP PORT          connect only; prints "ok" or the
 *                                    errno name (EACCES, ECONNREFUSED ...)
 *   staticnet udp IP PORT            one datagram by sendto; prints "ok" or
 *                                    the errno name
 *   staticnet unspec IP PORT         the same, the address's family
 *                                    AF_UNSPEC (an IPv4 socket takes it as
 *                                    AF_INET)
 *   staticnet mmsg IP1 IP2 PORT      one sendmmsg() of two datagrams, to
 *                                    IP1 then IP2; prints "ok" or the
 *                                    errno name
 *   staticnet exit N [TAG]           exit with status N at once
 *   staticnet via PORT CMD [ARG]...  run CMD (a child: a dynamic program
 *                                    gets the library), read an IP
 *                                    address from its output, then
 *                                    "get" that address and PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_THREADS 64

static const char *errno_name(int err)
{
	switch (err) {
	case EACCES:
		return "EACCES";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ENETUNREACH:
		return "ENETUNREACH";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ENOSYS:
		return "ENOSYS";
	default:
		return strerror(err);
	}
}

static socklen_t address(const char *ip, const char *port,
			 struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		return sizeof(*sin6);
	}
	fprintf(stderr, "staticnet: bad address %s\n", ip);
	exit(2);
}

/* Connect a new socket (non-blocking when asked). Returns it or -errno. */
static int dial(const char *ip, const char *port, int nonblocking)
{
	struct sockaddr_storage ss;
	socklen_t len = address(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	int err;

	if (fd < 0)
		return -errno;
	if (nonblocking)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	err = errno;
	if (nonblocking && err == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		socklen_t elen = sizeof err;

		poll(&p, 1, 20000);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err == 0)
			return fd;
	}
	close(fd);
	return -err;
}

/* GET / on fd; the reply into out (NUL-terminated). Returns its length. */
static long fetch(int fd, char *out, size_t cap)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	size_t got = 0;

	if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
		return -1;
	while (got + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 20000) <= 0)
			return -1;
		n = read(fd, out + got, cap - 1 - got);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	return (long)got;
}

static int get(const char *ip, const char *port, int nonblocking)
{
	static char reply[65536];
	int fd = dial(ip, port, nonblocking);

	if (fd < 0) {
		printf("%s\n", errno_name(-fd));
		return 1;
	}
	if (fetch(fd, reply, sizeof reply) <= 0)
		return 1;
	fputs(reply, stdout);
	close(fd);
	return 0;
}

struct job {
	const char *ip, *port;
	int ok;
};

static void *thread_get(void *arg)
{
	char reply[4096];
	struct job *job = arg;
	int fd = dial(job->ip, job->port, 0);

	if (fd >= 0) {
		job->ok = fetch(fd, reply, sizeof reply) > 0 &&
			  strncmp(reply, "HTTP/", 5) == 0;
		close(fd);
	}
	return NULL;
}

static int threads(const char *ip, const char *port, int count)
{
	pthread_t t[MAX_THREADS];
	struct job jobs[MAX_THREADS];
	int ok = 0;

	if (count < 1 || count > MAX_THREADS)
		return 2;
	for (int i = 0; i < count; i++) {
		jobs[i] = (struct job){.ip = ip, .port = port, .ok = 0};
		pthread_create(&t[i], NULL, thread_get, &jobs[i]);
	}
	for (int i = 0; i < count; i++) {
		pthread_join(t[i], NULL);
		ok += jobs[i].ok;
	}
	printf("ok %d\n", ok);
	return ok == count ? 0 : 1;
}

static int udp(const char *ip, const char *port, int unspec)
{
	struct sockaddr_storage ss;
	socklen_t len = address(ip, port, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);

	if (unspec)
		ss.ss_family = AF_UNSPEC;

	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1)
		printf("ok\n");
	else
		printf("%s\n", errno_name(errno));
	return 0;
}

static int mmsg(const char *ip1, const char *ip2, const char *port)
{
	struct sockaddr_storage ss[2];
	socklen_t len[2] = {address(ip1, port, &ss[0]),
			    address(ip2, port, &ss[1])};
	static char byte[] = "x";
	struct iovec iov = {.iov_base = byte, .iov_len = 1};
	struct mmsghdr msgs[2];
	int fd = socket(ss[0].ss_family, SOCK_DGRAM, 0);

	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < 2; i++) {
		msgs[i].msg_hdr.msg_name = &ss[i];
		msgs[i].msg_hdr.msg_namelen = len[i];
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	if (sendmmsg(fd, msgs, 2, 0) == 2)
		printf("ok\n");
	else
		printf("%s\n", errno_name(errno));
	return 0;
}

/* The "via" mode: the address comes from a child's output. */
static int via(const char *port, char **cmd)
{
	char addr[128] = "";
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd) != 0)
		return 2;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(pipefd[1]);
	n = read(pipefd[0], addr, sizeof addr - 1);
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (n <= 0)
		return 2;
	addr[n] = '\0';
	addr[strcspn(addr, "\r\n")] = '\0';
	return get(addr, port, 0);
}

int main(int argc, char **argv)
{
	int fd;

	if (argc >= 3 && strcmp(argv[1], "exit") == 0)
		return atoi(argv[2]);
	if (argc == 4 && strcmp(argv[1], "get") == 0)
		return get(argv[2], argv[3], 0);
	if (argc == 4 && strcmp(argv[1], "nonblock") == 0)
		return get(argv[2], argv[3], 1);
	if (argc == 5 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2], argv[3], atoi(argv[4]));
	if (argc >= 4 && strcmp(argv[1], "via") == 0)
		return via(argv[2], argv + 3);
	if (argc == 4 && strcmp(argv[1], "udp") == 0)
		return udp(argv[2], argv[3], 0);
	if (argc == 4 && strcmp(argv[1], "unspec") == 0)
		return udp(argv[2], argv[3], 1);
	if (argc == 5 && strcmp(argv[1], "mmsg") == 0)
		return mmsg(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "errno") == 0) {
		fd = dial(argv[2], argv[3], 0);
		printf("%s\n", fd >= 0 ? "ok" : errno_name(-fd));
		return 0;
	}
	fprintf(stderr, "usage: see the source\n");
	return 2;
}
