/* rawconnect — reach HOST PORT with system calls made by inline assembly,
 * around libc and so around any preloaded library: what the guard's filter
 * must catch (t_guard.sh).
 *
 * Usage: rawconnect HOST PORT       TCP: connect, send an HTTP GET, print
 *                                   the reply ("ok" first when connected)
 *        rawconnect -u HOST PORT    UDP: one datagram by sendto() with a
 *                                   destination; prints "ok"
 * HOST is an IPv4 address. On failure prints the errno name (ECONNREFUSED,
 * EACCES, ...) and exits 1; 2 on usage errors or another architecture. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
/* A system call with up to six arguments, by the `syscall` instruction in
 * this program's own code. */
static long raw6(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define HAVE_RAW 1
#else
#define HAVE_RAW 0
#endif

static int fail_with(long rc)
{
	const char *name = strerrorname_np((int)-rc);

	printf("%s\n", name ? name : "E?");
	return 1;
}

static void copy_reply(int fd)
{
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[4096];
	ssize_t n;

	if (write(fd, get, sizeof get - 1) != (ssize_t)(sizeof get - 1))
		return;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int udp = argc == 4 && strcmp(argv[1], "-u") == 0;
	int fd;
	long rc;

	if (argc != 3 + udp ||
	    inet_pton(AF_INET, argv[1 + udp], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: rawconnect [-u] IPV4 PORT\n");
		return 2;
	}
	if (!HAVE_RAW) {
		printf("unsupported\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[2 + udp]));
	fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return fail_with(-errno);
#if HAVE_RAW
	if (udp)
		rc = raw6(SYS_sendto, fd, (long)"x", 1, 0, (long)&sin,
			  sizeof sin);
	else
		rc = raw6(SYS_connect, fd, (long)&sin, sizeof sin, 0, 0, 0);
#else
	rc = -ENOSYS;
#endif
	if (rc < 0)
		return fail_with(rc);
	printf("ok\n");
	fflush(stdout);
	if (!udp)
		copy_reply(fd);
	close(fd);
	return 0;
}
