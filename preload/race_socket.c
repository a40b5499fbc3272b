/* race_socket.c — a race's extra sockets (see race_socket.h). */
#include "race_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "hidden.h"
#include "real.h"
#include "sockopts.h"

/* sockopts_io with the real functions. */
static int race_getsockopt(int fd, int level, int name, void *val,
			   socklen_t *len)
{
	return real.getsockopt(fd, level, name, val, len);
}

static int race_setsockopt(int fd, int level, int name, const void *val,
			   socklen_t len)
{
	return real.setsockopt(fd, level, name, val, len);
}

static const struct sockopts_io race_sockopts_io = {
    .getsockopt = race_getsockopt,
    .setsockopt = race_setsockopt,
};

bool race_socket_bound(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (real.getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	return sockopts_bound(&ss);
}

int race_socket_open(int like, int domain)
{
	int s = real.socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    IPPROTO_TCP);
	int high, rc;

	if (s < 0)
		return -errno;
	rc = sockopts_copy(&race_sockopts_io, like, s, domain);
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
