/* bindtest — a listening program for the BIND tests (run under socksify).
 *
 *   bindtest once ADDRFILE [unbound]
 *	bind 0.0.0.0:0 (or, with "unbound", listen without bind), listen,
 *	check that a non-blocking accept says EAGAIN, write "IP PORT" from
 *	getsockname() to ADDRFILE, wait with epoll (select when unbound)
 *	until a peer connects (30 s),
 *	accept4(SOCK_NONBLOCK | SOCK_CLOEXEC), check those flags, read one
 *	line and answer "got LINE". Also checks that socksify's hidden
 *	descriptors cannot be closed. Prints "peer IP PORT" and "line LINE".
 *   bindtest cycles N
 *	N BIND cycles; the peer is this program itself, connecting to the
 *	address getsockname() reported (so that address must reach it),
 *	waiting with poll().
 *	Every fifth listener is closed before anyone connects. Prints
 *	"fds BEFORE AFTER" (open descriptors before and after).
 *
 * Exits 0 when every check passed, 1 otherwise (with a message on stderr). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bindtest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bindtest: check failed: %s\n", what);
		exit(1);
	}
}

/* Open descriptors of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		die("opendir");
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* A listener: bound to 0.0.0.0:0 unless unbound, listening. */
static int make_listener(int unbound, int nonblocking)
{
	struct sockaddr_in any = {.sin_family = AF_INET};
	int fd =
	    socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		die("socket");
	if (!unbound && bind(fd, (struct sockaddr *)&any, sizeof any) < 0)
		die("bind");
	if (listen(fd, 4) < 0)
		die("listen");
	return fd;
}

static struct sockaddr_in local_address(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		die("getsockname");
	check(len == sizeof sin && sin.sin_family == AF_INET,
	      "getsockname gives an IPv4 address");
	return sin;
}

/* Wait until fd is readable (or ms pass). Returns 1 when readable. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int rc;

	do
		rc = poll(&p, 1, ms);
	while (rc < 0 && errno == EINTR);
	return rc == 1 && (p.revents & POLLIN);
}

/* The same wait through epoll (registered before the BIND's peer can
 * connect) or select, as event loops do. Returns 1 when readable. */
static int wait_readable_epoll(int fd, int ms)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd}, got;
	int ep = epoll_create1(EPOLL_CLOEXEC), rc;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll");
	do
		rc = epoll_wait(ep, &got, 1, ms);
	while (rc < 0 && errno == EINTR);
	close(ep);
	return rc == 1 && got.data.fd == fd && (got.events & EPOLLIN);
}

static int wait_readable_select(int fd, int ms)
{
	struct timeval tv = {ms / 1000, 0};
	fd_set set;

	FD_ZERO(&set);
	FD_SET(fd, &set);
	return select(fd + 1, &set, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &set);
}

/* Accept with the flags asked for and check they took effect. */
static int accept_checked(int fd, struct sockaddr_in *peer)
{
	socklen_t len = sizeof *peer;
	int c;

	/* Not zeros: an address accept() left unset must show. */
	memset(peer, 0xaa, sizeof *peer);
	c = accept4(fd, (struct sockaddr *)peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (c < 0)
		die("accept4");
	check(fcntl(c, F_GETFL) & O_NONBLOCK, "SOCK_NONBLOCK honoured");
	check(fcntl(c, F_GETFD) & FD_CLOEXEC, "SOCK_CLOEXEC honoured");
	check(len == sizeof *peer && peer->sin_family == AF_INET,
	      "accept gives an IPv4 peer");
	return c;
}

/* getpeername() on the accepted socket names the peer accept() named. */
static void check_same_peer(int c, const struct sockaddr_in *peer)
{
	struct sockaddr_in again;
	socklen_t len = sizeof again;

	memset(&again, 0x55, sizeof again);
	check(getpeername(c, (struct sockaddr *)&again, &len) == 0 &&
		  len == sizeof again && again.sin_family == AF_INET &&
		  again.sin_port == peer->sin_port &&
		  again.sin_addr.s_addr == peer->sin_addr.s_addr,
	      "getpeername names the peer accept() named");
}

/* Read up to a newline (bounded by time and size). */
static size_t read_line(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < cap && wait_readable(fd, 10000)) {
		n = read(fd, buf + got, 1);
		if (n <= 0)
			break;
		if (buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = '\0';
	return got;
}

/* socksify's descriptors sit at high numbers: from half the descriptor
 * limit, or 4096 when that is lower (lower ones may be inherited from the
 * shell). The program may not close them (EBADF); they are close-on-exec;
 * a dup2() onto one takes the number while socksify moves its descriptor
 * away, so the BIND that follows still works. */
static void check_hidden_fds(int listener)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	struct rlimit rl;
	int fd, hidden[16], count = 0, low = 4096, spare;

	if (!d || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("opendir");
	if (rl.rlim_cur / 2 < (rlim_t)low)
		low = (int)(rl.rlim_cur / 2);
	while ((de = readdir(d)) && count < 16) {
		fd = atoi(de->d_name);
		if (fd > listener && fd >= low && fd != dirfd(d))
			hidden[count++] = fd;
	}
	closedir(d);
	check(count > 0, "a hidden control connection exists");
	for (int i = 0; i < count; i++) {
		fd = hidden[i];
		check(fcntl(fd, F_GETFD) & FD_CLOEXEC, "hidden fd is CLOEXEC");
		check(close(fd) < 0 && errno == EBADF,
		      "closing a hidden fd fails with EBADF");
		spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		check(spare >= 0 && dup2(spare, fd) == fd,
		      "dup2 onto a hidden fd number succeeds");
		check(close(fd) == 0, "the number is the program's after dup2");
		close(spare);
	}
}

static int run_once(const char *addr_file, int unbound)
{
	char tmp[4096], line[256], ip[INET_ADDRSTRLEN];
	struct sockaddr_in bnd, peer;
	int fd = make_listener(unbound, 0), c;
	FILE *f;

	/* Before anyone can know where to connect. */
	check_hidden_fds(fd);
	check(fcntl(fd, F_SETFL, O_NONBLOCK) == 0, "listener non-blocking");
	check(accept(fd, NULL, NULL) < 0 && errno == EAGAIN,
	      "non-blocking accept says EAGAIN before the peer connects");
	bnd = local_address(fd);
	inet_ntop(AF_INET, &bnd.sin_addr, ip, sizeof ip);
	snprintf(tmp, sizeof tmp, "%s.tmp", addr_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s %d\n", ip, ntohs(bnd.sin_port)) < 0 ||
	    fclose(f) != 0 || rename(tmp, addr_file) < 0)
		die("write address file");
	/* epoll for a bound listener, select for an unbound one. */
	check(unbound ? wait_readable_select(fd, 30000)
		      : wait_readable_epoll(fd, 30000),
	      "the listener reports readable");
	c = accept_checked(fd, &peer);
	check_same_peer(c, &peer);
	inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
	printf("peer %s %d\n", ip, ntohs(peer.sin_port));
	read_line(c, line, sizeof line);
	printf("line %s\n", line);
	snprintf(tmp, sizeof tmp, "got %s\n", line);
	check(write(c, tmp, strlen(tmp)) == (ssize_t)strlen(tmp), "answer");
	close(c);
	close(fd);
	return 0;
}

/* Connect a plain socket to where getsockname() said the listener is. */
static int connect_peer(const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		die("peer socket");
	if (connect(s, (const struct sockaddr *)to, sizeof *to) < 0)
		die("peer connect");
	return s;
}

/* One cycle: listen, connect a peer to the reported address, accept,
 * exchange a line each way. */
static void cycle(int i)
{
	struct sockaddr_in bnd, peer;
	char msg[64], line[64];
	int fd = make_listener(i % 2, 1), s, c;

	bnd = local_address(fd);
	if (i % 5 == 4) { /* closed while the BIND waits */
		close(fd);
		return;
	}
	s = connect_peer(&bnd);
	snprintf(msg, sizeof msg, "cycle %d\n", i);
	check(write(s, msg, strlen(msg)) == (ssize_t)strlen(msg), "peer send");
	check(wait_readable(fd, 10000), "listener readable");
	c = accept_checked(fd, &peer);
	read_line(c, line, sizeof line);
	check(strncmp(line, msg, strlen(line)) == 0 && line[0],
	      "data crossed the BIND");
	check(write(c, "ok\n", 3) == 3, "answer");
	read_line(s, line, sizeof line);
	check(strcmp(line, "ok") == 0, "answer crossed the BIND");
	close(c);
	close(s);
	close(fd);
}

/* The helper thread exits when no BIND waits, taking its event fd: wait
 * (bounded) for the count to settle. */
static int settled_fds(int want)
{
	int n = count_fds();

	for (int i = 0; i < 40 && n > want; i++) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
		n = count_fds();
	}
	return n;
}

static int run_cycles(int n)
{
	int before = count_fds(), after;

	for (int i = 0; i < n; i++)
		cycle(i);
	after = settled_fds(before);
	printf("fds %d %d\n", before, after);
	check(after == before, "no descriptor leaked");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "once") == 0)
		return run_once(argv[2],
				argc > 3 && strcmp(argv[3], "unbound") == 0);
	if (argc == 3 && strcmp(argv[1], "cycles") == 0)
		return run_cycles(atoi(argv[2]));
	fprintf(stderr, "usage: bindtest once ADDRFILE [unbound] | "
			"bindtest cycles N\n");
	return 2;
}
