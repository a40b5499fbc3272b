/* recv_wait.c — waiting for the proxy inside recv() (see recv_wait.h).
 *
 * poll() then recv(MSG_DONTWAIT) costs two system calls per reply, and a
 * poll() that sleeps costs more than the recv() that would have slept in
 * its place. On a socket known to be blocking (socket() recorded it and no
 * fcntl changed it) whose receive timeout the program never set, the
 * handshake's recv() may block instead, with SO_RCVTIMEO set to end well
 * before the deadline even if the kernel fires it late (netio.h); when it
 * times out (EAGAIN) the driver's poll() takes over for the rest, so the
 * deadline holds to the millisecond. The timeout is set once per handshake on a
 * fast proxy (and again only after NETIO_RCVTIMEO_STALE_US), and taken off at
 * the end: a blocking connect() makes no more system calls than before, and
 * each wait costs one. */
#include "recv_wait.h"

#include <errno.h>
#include <sys/socket.h>

#include "real.h"

/* This thread's innermost wait. initial-exec: a signal handler's connect()
 * may read it without allocating. A handler that siglongjmp()s out of a
 * connect() leaves it naming a dead frame; nothing reads it then: only a
 * recv() through real_io_waiting does, and that runs between a begin and
 * its end, the begin having set it (t_fault.sh: three connects left by
 * a jump, then one that runs to its deadline). */
static _Thread_local struct recv_wait *recv_wait_top
    __attribute__((tls_model("initial-exec")));

void recv_wait_begin(struct recv_wait *w, int fd,
		     recv_wait_deadline_fn deadline, void *job)
{
	w->fd = fd;
	w->deadline = deadline;
	w->job = job;
	w->set_at_us = 0;
	w->set_for_us = 0;
	w->outer = recv_wait_top;
	recv_wait_top = w;
}

void recv_wait_end(struct recv_wait *w)
{
	static const struct timeval none = {0, 0};
	int saved_errno = errno;

	if (w->set_at_us != 0)
		real.setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &none,
				sizeof none);
	recv_wait_top = w->outer;
	errno = saved_errno;
}

/* Block when this thread waits on fd and the deadline leaves room;
 * otherwise (or when the timeout cannot be set) do not wait. */
ssize_t recv_wait_recv(int fd, void *buf, size_t len, int flags)
{
	struct recv_wait *w = recv_wait_top;
	struct timeval tv;
	uint64_t now, deadline;

	if (w && w->fd == fd) {
		now = netio_now_us();
		deadline = w->deadline(w->job, now / 1000u) * 1000u;
		switch (netio_rcvtimeo_plan(now, deadline, w->set_at_us,
					    w->set_for_us, &tv)) {
		case NETIO_RCVTIMEO_SET:
			if (real.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					    sizeof tv) < 0)
				break;
			w->set_at_us = now;
			w->set_for_us = deadline;
			return real.recv(fd, buf, len, flags);
		case NETIO_RCVTIMEO_KEEP:
			return real.recv(fd, buf, len, flags);
		case NETIO_RCVTIMEO_NONE:
			break;
		}
	}
	return real.recv(fd, buf, len, flags | MSG_DONTWAIT);
}
