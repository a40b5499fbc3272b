/* udpclient — UDP calls that the integration tests cannot make from a shell
 * or python3, against a UDP echo server (tests/integration/udpecho.py).
 *
 * Usage: udpclient MODE HOST PORT [PORT2 [HOST2]]
 *   mmsg     sendmmsg() 64 datagrams, recvmmsg() them back, check each
 *            one's payload and source address
 *   mixed    one sendmmsg() to HOST:PORT, HOST2:PORT2, HOST:PORT (e.g. a
 *            proxied, a direct and a proxied destination); all three
 *            replies must come back from the right sources
 *   two      two UDP sockets (to PORT and PORT2), interleaved round trips
 *   fork     a round trip, fork(); the child does a round trip and closes
 *            the socket, then the parent does one (its association must
 *            have survived the child)
 *   foreign  a round trip; an unsocksified python3 sends 3 datagrams
 *            straight to our port, we ask for 2 echoes; one recvmmsg()
 *            must return exactly the 2 echoes; then recvfrom() with a
 *            4-byte address buffer reports the full address length
 *   forkclose  a round trip, fork(); the parent closes the socket, then
 *            the child does a round trip on its copy
 *   closeall a round trip, close every fd listed in /proc/self/fd except
 *            0-2 and the socket, then a round trip
 *   closerange  the same with close_range() around the socket's number
 *   dup2     a round trip, dup2() /dev/null over every socket fd the
 *            program did not create, check the fd now is /dev/null, then
 *            a round trip
 * Each step prints "ok STEP" or "FAIL STEP: reason"; exit status 0 only if
 * every step worked. Every wait is bounded (3 s). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BATCH 64

static int failures;

static void report(const char *step, const char *why)
{
	if (why) {
		printf("FAIL %s: %s\n", step, why);
		failures++;
	} else {
		printf("ok %s\n", step);
	}
	fflush(stdout);
}

/* Wait up to 3 s for fd to become readable. Returns 1, 0 on timeout. */
static int readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 3000) > 0;
}

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == b->sin_family && a->sin_port == b->sin_port &&
	       a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* Send one tagged datagram to dest and expect it back from dest. Returns
 * NULL or a static reason. */
static const char *round_trip(int fd, const struct sockaddr_in *dest,
			      const char *tag)
{
	static char why[160];
	char msg[128], back[256];
	struct sockaddr_in src;
	socklen_t slen = sizeof src;
	int len = snprintf(msg, sizeof msg, "%s from %d", tag, (int)getpid());
	ssize_t n;

	if (sendto(fd, msg, len, 0, (const struct sockaddr *)dest,
		   sizeof *dest) != len) {
		snprintf(why, sizeof why, "sendto: %s", strerror(errno));
		return why;
	}
	if (!readable(fd))
		return "no reply within 3 s";
	n = recvfrom(fd, back, sizeof back, 0, (struct sockaddr *)&src, &slen);
	if (n < 0) {
		snprintf(why, sizeof why, "recvfrom: %s", strerror(errno));
		return why;
	}
	if (n != len || memcmp(back, msg, len) != 0) {
		snprintf(why, sizeof why, "reply '%.*s' (%zd bytes)",
			 (int)(n > 100 ? 100 : n), back, n);
		return why;
	}
	if (!same_addr(&src, dest)) {
		snprintf(why, sizeof why, "reply from %s:%d",
			 inet_ntoa(src.sin_addr), ntohs(src.sin_port));
		return why;
	}
	return NULL;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0) {
		perror("socket");
		exit(2);
	}
	return fd;
}

/* sendmmsg() a batch, recvmmsg() replies until all came back (bounded). */
static const char *mmsg(int fd, const struct sockaddr_in *dest)
{
	static char bufs[BATCH][64], back[BATCH][128];
	static struct mmsghdr out[BATCH], in[BATCH];
	static struct iovec oiov[BATCH], iiov[BATCH];
	static struct sockaddr_in srcs[BATCH];
	static char why[160];
	int seen[BATCH] = {0}, got = 0, i, tries, n;

	for (i = 0; i < BATCH; i++) {
		oiov[i].iov_base = bufs[i];
		oiov[i].iov_len =
		    snprintf(bufs[i], sizeof bufs[i], "mmsg %d", i);
		out[i].msg_hdr = (struct msghdr){.msg_name = (void *)dest,
						 .msg_namelen = sizeof *dest,
						 .msg_iov = &oiov[i],
						 .msg_iovlen = 1};
	}
	n = sendmmsg(fd, out, BATCH, 0);
	if (n != BATCH) {
		snprintf(why, sizeof why, "sendmmsg returned %d (%s)", n,
			 n < 0 ? strerror(errno) : "short");
		return why;
	}
	for (tries = 0; got < BATCH && tries < 100; tries++) {
		if (!readable(fd))
			break;
		for (i = 0; i < BATCH; i++) {
			iiov[i] = (struct iovec){back[i], sizeof back[i] - 1};
			in[i].msg_hdr =
			    (struct msghdr){.msg_name = &srcs[i],
					    .msg_namelen = sizeof srcs[i],
					    .msg_iov = &iiov[i],
					    .msg_iovlen = 1};
		}
		n = recvmmsg(fd, in, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && errno != EAGAIN) {
			snprintf(why, sizeof why, "recvmmsg: %s",
				 strerror(errno));
			return why;
		}
		for (i = 0; i < n; i++) {
			int k;

			back[i][in[i].msg_len] = 0;
			if (sscanf(back[i], "mmsg %d", &k) != 1 || k < 0 ||
			    k >= BATCH || in[i].msg_len != oiov[k].iov_len ||
			    in[i].msg_hdr.msg_namelen != sizeof *dest ||
			    !same_addr(&srcs[i], dest)) {
				snprintf(why, sizeof why,
					 "bad datagram '%s' "
					 "len %u namelen %u",
					 back[i], in[i].msg_len,
					 in[i].msg_hdr.msg_namelen);
				return why;
			}
			if (!seen[k]++)
				got++;
		}
	}
	if (got != BATCH) {
		snprintf(why, sizeof why, "%d of %d came back", got, BATCH);
		return why;
	}
	return NULL;
}

/* Sockets open now that the program did not make: every fd but 0-2, keep
 * and the directory's own. Fills fds, returns how many. */
static int foreign_fds(int keep, int *fds, int max, int sockets_only)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[64], link[128];
		int fd = atoi(e->d_name);
		ssize_t len;

		if (e->d_name[0] == '.' || fd <= 2 || fd == keep ||
		    fd == dirfd(d))
			continue;
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof link - 1);
		if (len < 0)
			continue;
		link[len] = 0;
		if (sockets_only && strncmp(link, "socket:", 7) != 0)
			continue;
		fds[n++] = fd;
	}
	closedir(d);
	return n;
}

static void close_all(int fd)
{
	int fds[256], n = foreign_fds(fd, fds, 256, 0), i;

	printf("closing %d fds\n", n);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

static void close_around(int fd)
{
	if (fd > 3 && close_range(3, fd - 1, 0) < 0)
		report("close_range below", strerror(errno));
	if (close_range(fd + 1, ~0U, 0) < 0)
		report("close_range above", strerror(errno));
}

/* dup2 /dev/null over every socket the program did not create. */
static void dup_over(int fd)
{
	int fds[256], n = foreign_fds(fd, fds, 256, 1), i;
	int null = open("/dev/null", O_RDONLY);
	struct stat st;

	printf("foreign sockets: %d\n", n);
	for (i = 0; i < n; i++) {
		if (dup2(null, fds[i]) != fds[i]) {
			report("dup2 over the hidden fd", strerror(errno));
			continue;
		}
		if (fstat(fds[i], &st) < 0 || !S_ISCHR(st.st_mode))
			report("dup2 target is /dev/null", "it is not");
		else
			report("dup2 over a hidden fd", NULL);
	}
	close(null);
}

static void do_fork(int fd, const struct sockaddr_in *dest)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		report("fork", strerror(errno));
		return;
	}
	if (pid == 0) {
		const char *why = round_trip(fd, dest, "child");

		report("child round trip", why);
		close(fd);
		_exit(why ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		report("child", "did not exit 0");
	report("parent round trip after fork", round_trip(fd, dest, "parent"));
}

/* The parent closes its copy first; the child's copy must keep working. */
static void do_fork_close(int fd, const struct sockaddr_in *dest)
{
	int go[2], status;
	pid_t pid;
	char c = 0;

	if (pipe(go) < 0 || (pid = fork()) < 0) {
		report("fork", strerror(errno));
		return;
	}
	if (pid == 0) {
		const char *why;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		why = round_trip(fd, dest, "child-after-parent-closed");
		report("child round trip after the parent closed", why);
		_exit(why ? 1 : 0);
	}
	close(go[0]);
	close(fd);
	if (write(go[1], &c, 1) != 1)
		report("pipe", strerror(errno));
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		report("child", "did not exit 0");
}

/* One sendmmsg() to a, b, a; the replies must come from a, b, a. */
static const char *mixed(int fd, const struct sockaddr_in *a,
			 const struct sockaddr_in *b)
{
	static char why[160];
	static const char *const text[3] = {"mixed-a1", "mixed-b", "mixed-a2"};
	const struct sockaddr_in *to[3] = {a, b, a};
	struct mmsghdr out[3];
	struct iovec iov[3];
	int i, n, seen = 0;

	for (i = 0; i < 3; i++) {
		iov[i] = (struct iovec){(void *)text[i], strlen(text[i])};
		out[i].msg_hdr = (struct msghdr){.msg_name = (void *)to[i],
						 .msg_namelen = sizeof *a,
						 .msg_iov = &iov[i],
						 .msg_iovlen = 1};
	}
	n = sendmmsg(fd, out, 3, 0);
	if (n != 3) {
		snprintf(why, sizeof why, "sendmmsg returned %d (%s)", n,
			 n < 0 ? strerror(errno) : "short");
		return why;
	}
	for (n = 0; n < 3; n++) {
		char buf[64];
		struct sockaddr_in src;
		socklen_t slen = sizeof src;
		ssize_t len;

		if (!readable(fd))
			return "a reply is missing";
		len = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&src,
			       &slen);
		for (i = 0; i < 3; i++)
			if (len == (ssize_t)strlen(text[i]) &&
			    memcmp(buf, text[i], len) == 0 &&
			    same_addr(&src, to[i]))
				seen |= 1 << i;
	}
	if (seen != 7) {
		snprintf(why, sizeof why, "replies seen: mask %d of 7", seen);
		return why;
	}
	return NULL;
}

/* Send 3 datagrams to our own port from a process without the library. */
static int spoof(int fd)
{
	struct sockaddr_in me;
	socklen_t len = sizeof me;
	char cmd[400];

	if (getsockname(fd, (struct sockaddr *)&me, &len) < 0)
		return -1;
	snprintf(
	    cmd, sizeof cmd,
	    "env -u LD_PRELOAD python3 -c 'import socket\n"
	    "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
	    "for i in range(3): u.sendto(b\"FOREIGN\", (\"127.0.0.1\", %d))'",
	    ntohs(me.sin_port));
	return system(cmd) == 0 ? 0 : -1;
}

/* Foreign datagrams between two echoes: recvmmsg() returns only the two
 * echoes, in order, with their source. */
static const char *foreign(int fd, const struct sockaddr_in *dest)
{
	static char why[160];
	char buf[8][100];
	struct iovec iov[8];
	struct mmsghdr in[8];
	struct sockaddr_in src[8];
	int i, n;

	if (sendto(fd, "two", 3, 0, (const struct sockaddr *)dest,
		   sizeof *dest) != 3 ||
	    spoof(fd) < 0 ||
	    sendto(fd, "three", 5, 0, (const struct sockaddr *)dest,
		   sizeof *dest) != 5)
		return "sending failed";
	usleep(300000);
	for (i = 0; i < 8; i++) {
		iov[i] = (struct iovec){buf[i], sizeof buf[i]};
		in[i].msg_hdr = (struct msghdr){.msg_name = &src[i],
						.msg_namelen = sizeof src[i],
						.msg_iov = &iov[i],
						.msg_iovlen = 1};
	}
	n = recvmmsg(fd, in, 8, MSG_DONTWAIT, NULL);
	if (n != 2 || in[0].msg_len != 3 || memcmp(buf[0], "two", 3) != 0 ||
	    in[1].msg_len != 5 || memcmp(buf[1], "three", 5) != 0 ||
	    !same_addr(&src[0], dest) || !same_addr(&src[1], dest)) {
		snprintf(why, sizeof why, "recvmmsg returned %d (first '%.*s')",
			 n, n > 0 ? (int)in[0].msg_len : 0, buf[0]);
		return why;
	}
	return NULL;
}

/* recvfrom() with a 4-byte address buffer: the kernel fills what fits
 * and says how long the address really is. */
static const char *short_name(int fd, const struct sockaddr_in *dest)
{
	struct sockaddr_in full;
	socklen_t len = 4;
	char buf[16];

	memset(&full, 0, sizeof full);
	if (sendto(fd, "short", 5, 0, (const struct sockaddr *)dest,
		   sizeof *dest) != 5 ||
	    !readable(fd))
		return "no reply";
	if (recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&full, &len) !=
	    5)
		return "recvfrom failed";
	if (len != sizeof full || full.sin_port != dest->sin_port ||
	    full.sin_addr.s_addr != 0)
		return "wrong address length or more than 4 bytes written";
	return NULL;
}

static void parse_dest(struct sockaddr_in *sa, const char *host,
		       const char *port)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", host);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in dest, dest2;
	const char *mode;
	int fd, fd2;

	if (argc < 4) {
		fprintf(stderr, "usage: udpclient MODE HOST PORT [PORT2]\n");
		return 2;
	}
	mode = argv[1];
	parse_dest(&dest, argv[2], argv[3]);
	fd = udp_socket();
	if (strcmp(mode, "mmsg") == 0) {
		report("sendmmsg/recvmmsg", mmsg(fd, &dest));
		report("sendmmsg/recvmmsg again", mmsg(fd, &dest));
	} else if (strcmp(mode, "two") == 0 && argc > 4) {
		parse_dest(&dest2, argv[2], argv[4]);
		fd2 = udp_socket();
		report("first socket", round_trip(fd, &dest, "one"));
		report("second socket", round_trip(fd2, &dest2, "two"));
		report("first socket again",
		       round_trip(fd, &dest, "one-again"));
		report("second socket again",
		       round_trip(fd2, &dest2, "two-again"));
		close(fd2);
		report("first socket after closing the second",
		       round_trip(fd, &dest, "one-last"));
	} else if (strcmp(mode, "mixed") == 0 && argc > 5) {
		parse_dest(&dest2, argv[5], argv[4]);
		report("sendmmsg to mixed routes", mixed(fd, &dest, &dest2));
	} else if (strcmp(mode, "foreign") == 0) {
		report("before", round_trip(fd, &dest, "before"));
		report("recvmmsg drops foreign datagrams", foreign(fd, &dest));
		report("recvfrom with a short address buffer",
		       short_name(fd, &dest));
	} else if (strcmp(mode, "forkclose") == 0) {
		report("before fork", round_trip(fd, &dest, "first"));
		do_fork_close(fd, &dest);
		return failures ? 1 : 0;
	} else if (strcmp(mode, "fork") == 0) {
		report("before fork", round_trip(fd, &dest, "first"));
		do_fork(fd, &dest);
	} else if (strcmp(mode, "closeall") == 0 ||
		   strcmp(mode, "closerange") == 0 ||
		   strcmp(mode, "dup2") == 0) {
		report("before", round_trip(fd, &dest, "before"));
		if (strcmp(mode, "closeall") == 0)
			close_all(fd);
		else if (strcmp(mode, "closerange") == 0)
			close_around(fd);
		else
			dup_over(fd);
		report(mode, round_trip(fd, &dest, mode));
		report("again", round_trip(fd, &dest, "again"));
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	close(fd);
	return failures ? 1 : 0;
}
