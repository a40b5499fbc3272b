/* race_socket.c — a race's extra sockets (see race_socket.h). */
#include "race_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "hidden.h"
#include "real.h"

/* The options a race socket copies, when the program changed them. */
static const struct race_option {
	int level, name, family; /* family 0: any */
	socklen_t size;
} race_options[] = {
    {SOL_SOCKET, SO_KEEPALIVE, 0, sizeof(int)},
    {SOL_SOCKET, SO_MARK, 0, sizeof(int)},
    {SOL_SOCKET, SO_PRIORITY, 0, sizeof(int)},
    {SOL_SOCKET, SO_LINGER, 0, sizeof(struct linger)},
    {SOL_SOCKET, SO_BINDTODEVICE, 0, IFNAMSIZ},
    {SOL_SOCKET, SO_RCVBUF, 0, sizeof(int)},
    {SOL_SOCKET, SO_SNDBUF, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_NODELAY, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_KEEPIDLE, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_KEEPINTVL, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_KEEPCNT, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, 0, sizeof(int)},
    {IPPROTO_IP, IP_TOS, AF_INET, sizeof(int)},
    {IPPROTO_IPV6, IPV6_TCLASS, AF_INET6, sizeof(int)},
};

#define RACE_OPTION_MAX IFNAMSIZ /* the largest value above */

bool race_socket_bound(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (real.getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_port != 0;
	if (ss.ss_family == AF_INET6)
		return ((struct sockaddr_in6 *)&ss)->sin6_port != 0;
	return false;
}

/* Copy one option from like to s when like's differs from s's (new).
 * Returns 0 or -errno. */
static int race_copy_option(int like, int s, const struct race_option *o)
{
	char want[RACE_OPTION_MAX], have[RACE_OPTION_MAX];
	socklen_t want_len = o->size, have_len = o->size;
	int half;

	memset(want, 0, sizeof want);
	memset(have, 0, sizeof have);
	if (real.getsockopt(like, o->level, o->name, want, &want_len) < 0 ||
	    real.getsockopt(s, o->level, o->name, have, &have_len) < 0)
		return 0; /* not known to this kernel: nothing to copy */
	if (want_len == have_len && memcmp(want, have, want_len) == 0)
		return 0;
	if (o->level == SOL_SOCKET &&
	    (o->name == SO_RCVBUF || o->name == SO_SNDBUF)) {
		/* The kernel doubles what is set and reports the double. */
		memcpy(&half, want, sizeof half);
		half /= 2;
		memcpy(want, &half, sizeof half);
	}
	if (real.setsockopt(s, o->level, o->name, want, want_len) < 0)
		return -errno;
	return 0;
}

int race_socket_open(int like, int domain)
{
	int s = real.socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    IPPROTO_TCP);
	int high, rc = 0;
	size_t i;

	if (s < 0)
		return -errno;
	for (i = 0; rc == 0 && i < sizeof race_options / sizeof *race_options;
	     i++)
		if (!race_options[i].family || race_options[i].family == domain)
			rc = race_copy_option(like, s, &race_options[i]);
	if (rc < 0) {
		real.close(s);
		return rc;
	}
	/* Out of the program's low numbers while the race runs. */
	high = real.fcntl(s, F_DUPFD_CLOEXEC, hidden_floor());
	if (high >= 0) {
		real.close(s);
		s = high;
	}
	return s;
}

int race_socket_adopt(int fd, int from)
{
	int fd_flags = real.fcntl(fd, F_GETFD);
	int status = real.fcntl(fd, F_GETFL);
	int rc = 0;

	if (fd_flags < 0 || status < 0 ||
	    real.dup3(from, fd, fd_flags & FD_CLOEXEC ? O_CLOEXEC : 0) < 0)
		rc = -errno;
	else if (real.fcntl(fd, F_SETFL, status) < 0)
		rc = -errno;
	real.close(from);
	return rc;
}

int race_socket_move(int fd, int from)
{
	int fd_flags = real.fcntl(fd, F_GETFD);

	if (fd_flags < 0 ||
	    real.dup3(from, fd, fd_flags & FD_CLOEXEC ? O_CLOEXEC : 0) < 0)
		return -errno;
	return 0;
}
