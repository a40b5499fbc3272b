/* netio.h — the system calls common/ may use on a program's socket, passed in
 * as a table so that common/ never calls a hooked libc symbol, plus
 * deadline helpers built on them. */
#ifndef SOCKSIFY_NETIO_H
#define SOCKSIFY_NETIO_H

#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct socket_io {
	int (*connect)(int fd, const struct sockaddr *sa, socklen_t len);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	int (*poll)(struct pollfd *fds, nfds_t count, int timeout_ms);
	int (*getsockopt)(int fd, int level, int name, void *val,
			  socklen_t *len);
};

/* Milliseconds on the monotonic clock. */
uint64_t netio_now_ms(void);

/* Milliseconds left until deadline (0 when past), for poll(). */
int netio_remaining_ms(uint64_t deadline_ms);

/* Wait until fd is ready for events or the deadline passes. EINTR is retried
 * with the remaining time. Returns 0 when ready (including POLLERR/POLLHUP:
 * the next call reports the error), -ETIMEDOUT, or -errno. */
int netio_wait(const struct socket_io *io, int fd, short events,
	       uint64_t deadline_ms);

/* Connect a socket that is already non-blocking and wait for the result.
 * Returns 0, -ETIMEDOUT, or the connect error as -errno (SO_ERROR). */
int netio_connect(const struct socket_io *io, int fd,
		  const struct sockaddr *sa, socklen_t len,
		  uint64_t deadline_ms);

#endif
