/* netio.h — the system calls common/ may use on a program's socket, passed in
 * as a table so that common/ never calls a hooked libc symbol, plus
 * deadline helpers built on them, and the one blocking driver of every
 * resumable job (netio_drive). */
#ifndef SOCKSIFY_NETIO_H
#define SOCKSIFY_NETIO_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

struct socket_io {
	int (*connect)(int fd, const struct sockaddr *sa, socklen_t len);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	int (*poll)(struct pollfd *fds, nfds_t count, int timeout_ms);
	int (*getsockopt)(int fd, int level, int name, void *val,
			  socklen_t *len);
	/* Only for netio_fastopen_start(); a table without it never starts
	 * a connect that way. */
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *sa, socklen_t salen);
	/* recv() itself waits for data (bounded by the job's deadline,
	 * preload/recv_wait.h), so a step that sent a message may go on to
	 * read the reply instead of handing back to the driver to poll. */
	bool recv_waits;
};

/* Milliseconds on the monotonic clock. */
uint64_t netio_now_ms(void);

/* Microseconds on the same clock. */
uint64_t netio_now_us(void);

/* A blocking socket may wait for the proxy's reply inside recv() itself,
 * with its receive timeout (SO_RCVTIMEO) standing in for the deadline: one
 * system call per wait instead of poll() and recv(). The kernel lets such
 * a timeout fire late: up to its tick (10 ms at most), and a long one by up
 * to an eighth of its length besides (the timer wheel's coarser levels;
 * about 3 % measured here on 3-5 s). So the timeout set is 7/8 of what is
 * left until NETIO_RCVTIMEO_MARGIN_US before the deadline, and poll() with
 * the deadline does the rest once it fires; one set NETIO_RCVTIMEO_STALE_US
 * or more ago, or for a later deadline than the current one (a Fast Open
 * run confirmed meanwhile), is set again. */
#define NETIO_RCVTIMEO_MARGIN_US 20000u
#define NETIO_RCVTIMEO_STALE_US	 5000u

enum netio_rcvtimeo {
	NETIO_RCVTIMEO_NONE, /* too close to the deadline: don't wait in recv */
	NETIO_RCVTIMEO_KEEP, /* the timeout set at set_at_us still does */
	NETIO_RCVTIMEO_SET, /* set *tv first (never all zero: that is "none") */
};

/* What to do before a waiting recv() at now_us (netio_now_us()) for a reply
 * due by deadline_us; set_at_us is when the timeout was last set (0:
 * never) and set_for_us the deadline it was set for. */
enum netio_rcvtimeo netio_rcvtimeo_plan(uint64_t now_us, uint64_t deadline_us,
					uint64_t set_at_us, uint64_t set_for_us,
					struct timeval *tv);

/* Milliseconds left until deadline (0 when past), for poll(). */
int netio_remaining_ms(uint64_t deadline_ms);

/* Wait until fd is ready for events or the deadline passes. EINTR is retried
 * with the remaining time. Returns 0 when ready (including POLLERR/POLLHUP:
 * the next call reports the error), -ETIMEDOUT, or -errno. */
int netio_wait(const struct socket_io *io, int fd, short events,
	       uint64_t deadline_ms);

/* Start connecting fd (already non-blocking). Returns 0 when connected at
 * once, -EINPROGRESS when the connect goes on in the background (an
 * interrupted connect() does too), or any other connect error as -errno:
 * EALREADY and EISCONN are returned as they are, since a connection the
 * socket already had or was making is not ours to take over. */
int netio_connect_start(const struct socket_io *io, int fd,
			const struct sockaddr *sa, socklen_t len);

/* Start connecting fd, whatever its blocking mode, without touching its
 * file status flags: a TCP Fast Open sendto() of no data with MSG_DONTWAIT
 * is a non-blocking connect (the SYN carries a Fast Open option, a cookie
 * or a request for one). The connection is known to be open once a send()
 * with MSG_DONTWAIT succeeds; until then such a send fails with EAGAIN, or
 * with the connect's error. Returns -EINPROGRESS when under way (also
 * when the kernel finished the handshake already: the caller learns that
 * from its first send), -EOPNOTSUPP when the kernel has Fast Open off for
 * clients (tcp_fastopen without bit 1) or the table has no sendto (use
 * netio_connect_start() on a non-blocking socket instead), -EISCONN when
 * fd was connected already, or the connect's error as -errno.
 *
 * With data (dlen > 0), the kernel puts it in the SYN when it holds a
 * Fast Open cookie of that server (one it gave on an earlier connect):
 * -EINPROGRESS then, with *sent = the bytes that went (0 without a cookie:
 * the data is to be sent as usual). A connected socket takes nothing
 * (EISCONN, as without data). */
int netio_fastopen_start(const struct socket_io *io, int fd,
			 const struct sockaddr *sa, socklen_t len,
			 const void *data, size_t dlen, size_t *sent);

/* The outcome of a connect in the background, without waiting. Returns 0
 * when connected, -EAGAIN while it goes on, or its error as -errno (a socket
 * that polls in error or hung up with no pending error counts as refused). */
int netio_connect_result(const struct socket_io *io, int fd);

/* Connect a socket that is already non-blocking and wait for the result.
 * Returns 0, -ETIMEDOUT, or the connect error as -errno. */
int netio_connect(const struct socket_io *io, int fd, const struct sockaddr *sa,
		  socklen_t len, uint64_t deadline_ms);

/* A job that advances on one socket without ever blocking: a resumable
 * state machine such as the proxy chain (tunnel.h) or one handshake
 * (handshake.h). An event loop steps it when the socket is ready;
 * netio_drive() is the loop a blocking caller uses instead. */
struct netio_job {
	/* Advance as far as possible at now_ms. Returns 0 when done,
	 * -EAGAIN with *events (POLLIN or POLLOUT) to wait for, or -errno.
	 * Once now_ms reaches the job's deadline, a step that would wait
	 * fails with -ETIMEDOUT instead. */
	int (*step)(void *job, const struct socket_io *io, int fd,
		    uint64_t now_ms, short *events);
	/* The time (netio_now_ms()) by which the next step must happen. */
	uint64_t (*deadline)(const void *job);
	/* Waiting for the socket failed with err (positive): end the job,
	 * which fails with -err. Returns -err. */
	int (*abandon)(void *job, int err);
};

/* Drive job on fd to its end: wait for what the last step asked until the
 * job's deadline, step again. Returns the final step's result (0 or
 * -errno) or abandon()'s. */
int netio_drive(const struct netio_job *ops, void *job,
		const struct socket_io *io, int fd);

#endif
