/* recv.c — the receive hooks: read(), readv(), recv(), recvfrom(),
 * recvmsg(), recvmmsg(), and the _FORTIFY_SOURCE forms __read_chk(),
 * __recv_chk(), __recvfrom_chk().
 *
 * Each hook is thin: it passes the asynchronous-handshake gate (io_gate,
 * one atomic load when no handshake is in flight), then a descriptor with
 * UDP state takes the datagram path (udp_recv_msg in udp_recv.c, which
 * unwraps what the relay sends) and every other descriptor goes to libc
 * after one lock-free flag load. */
#include <errno.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fdtab.h"
#include "hook_io.h"
#include "real.h"
#include "udp_io.h"

#ifndef UIO_MAXIOV
#define UIO_MAXIOV 1024 /* the kernel's cap on iovecs and recvmmsg's count */
#endif
#define NSEC_PER_SEC 1000000000LL

SOCKSIFY_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len,
				   size_t buflen);
SOCKSIFY_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
				   int flags);
SOCKSIFY_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
				       size_t buflen, int flags,
				       struct sockaddr *sa, socklen_t *salen);

/* glibc's report of a fortify check failure (it aborts). */
extern void __chk_fail(void) __attribute__((noreturn));

/* A receive on a descriptor with UDP state: the datagram path, or the real
 * call when that path passes (MSG_ERRQUEUE, no entry after all, a stale
 * one). Returns the call's result or -errno. */
static ssize_t recv_dispatch(int fd, struct msghdr *msg, int flags)
{
	ssize_t n = HOOK_PASS;

	if (!(flags & MSG_ERRQUEUE))
		n = udp_recv_msg(fd, msg, flags);
	if (n != HOOK_PASS)
		return n;
	n = real.recvmsg(fd, msg, flags);
	return n < 0 ? -errno : n;
}

/* recvfrom()/recv()/read() as one msghdr. */
static ssize_t recv_buffer(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *sa, socklen_t *salen)
{
	struct iovec iov = {buf, len};
	struct msghdr msg = {.msg_name = sa,
			     .msg_namelen = sa && salen ? *salen : 0,
			     .msg_iov = &iov,
			     .msg_iovlen = 1};
	ssize_t n = recv_dispatch(fd, &msg, flags);

	if (n >= 0 && sa && salen)
		*salen = msg.msg_namelen;
	return n;
}

SOCKSIFY_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	int saved_errno = errno;
	int rc = io_enter(fd, flags);
	bool mine = io_mine(fd, FDTAB_UDP_ANY);

	if (rc == 0 && (!mine || !msg))
		return real.recvmsg(fd, msg, flags);
	return io_return(rc < 0 ? rc : recv_dispatch(fd, msg, flags),
			 saved_errno);
}

/* recvfrom(), and recv() as recvfrom() with no address (as the kernel
 * does it). */
static ssize_t recvfrom_hook(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *sa, socklen_t *salen)
{
	int saved_errno = errno;
	int rc = io_enter(fd, flags);
	bool mine = io_mine(fd, FDTAB_UDP_ANY);

	if (rc == 0 && !mine)
		return real.recvfrom(fd, buf, len, flags, sa, salen);
	return io_return(rc < 0 ? rc
				: recv_buffer(fd, buf, len, flags, sa, salen),
			 saved_errno);
}

SOCKSIFY_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
				 struct sockaddr *sa, socklen_t *salen)
{
	return recvfrom_hook(fd, buf, len, flags, sa, salen);
}

SOCKSIFY_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom_hook(fd, buf, len, flags, NULL, NULL);
}

/* read() and readv() work on every kind of descriptor, so what is not ours
 * goes to the real read()/readv(), never to a socket call. */
SOCKSIFY_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	int saved_errno = errno;
	int rc = io_enter(fd, 0);
	bool mine = io_mine(fd, FDTAB_UDP_ANY);

	if (rc == 0 && !mine)
		return real.read(fd, buf, len);
	return io_return(rc < 0 ? rc : recv_buffer(fd, buf, len, 0, NULL, NULL),
			 saved_errno);
}

SOCKSIFY_EXPORT ssize_t readv(int fd, const struct iovec *iov, int count)
{
	int saved_errno = errno;
	struct msghdr msg = {.msg_iov = (struct iovec *)iov,
			     .msg_iovlen = count < 0 ? 0 : (size_t)count};
	int rc = io_enter(fd, 0);
	bool mine = io_mine(fd, FDTAB_UDP_ANY);

	if (rc == 0 && (!mine || count < 0))
		return real.readv(fd, iov, count);
	return io_return(rc < 0 ? rc : recv_dispatch(fd, &msg, 0), saved_errno);
}

/* True once timeout (relative, from start) has passed. */
static bool mmsg_expired(const struct timespec *timeout,
			 const struct timespec *start)
{
	struct timespec now;
	long long elapsed_ns;

	if (!timeout)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	elapsed_ns = (now.tv_sec - start->tv_sec) * NSEC_PER_SEC +
		     (now.tv_nsec - start->tv_nsec);
	return elapsed_ns >= timeout->tv_sec * NSEC_PER_SEC + timeout->tv_nsec;
}

/* recvmmsg()'s work one datagram at a time: MSG_WAITFORONE makes every
 * receive after the first non-blocking; the timeout is checked after each
 * datagram (as the kernel does); an error after the first datagram ends the
 * batch with the count so far. Returns that count or -errno. */
static int mmsg_each(int fd, struct mmsghdr *vec, unsigned count, int flags,
		     const struct timespec *timeout)
{
	struct timespec start;
	unsigned done = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (done < count) {
		int f = flags & ~MSG_WAITFORONE;
		ssize_t n;

		if (done > 0 && (flags & MSG_WAITFORONE))
			f |= MSG_DONTWAIT;
		n = recv_dispatch(fd, &vec[done].msg_hdr, f);
		if (n < 0)
			return done > 0 ? (int)done : (int)n;
		vec[done++].msg_len = (unsigned)n;
		if (mmsg_expired(timeout, &start))
			break;
	}
	return (int)done;
}

SOCKSIFY_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int count,
			     int flags, struct timespec *timeout)
{
	int saved_errno = errno;
	int rc = io_enter(fd, flags);
	bool mine = io_mine(fd, FDTAB_UDP_ANY);

	if (rc == 0 && (!mine || !vec))
		return real.recvmmsg(fd, vec, count, flags, timeout);
	count = count > UIO_MAXIOV ? UIO_MAXIOV : count;
	return (int)io_return(
	    rc < 0 ? rc : mmsg_each(fd, vec, count, flags, timeout),
	    saved_errno);
}

/* The fortified forms: the same buffer check as libc, then our hook. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		__chk_fail();
	return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
		       struct sockaddr *sa, socklen_t *salen)
{
	if (len > buflen)
		__chk_fail();
	return recvfrom(fd, buf, len, flags, sa, salen);
}
