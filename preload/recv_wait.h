/* recv_wait.h — a blocking connect() waits for the proxy inside recv()
 * (netio_rcvtimeo_plan): the recv() of real_io_waiting (real.h) blocks,
 * bounded by the socket's receive timeout, for the fd of this thread's
 * innermost begun wait, and is recv(MSG_DONTWAIT) for any other. */
#ifndef SOCKSIFY_RECV_WAIT_H
#define SOCKSIFY_RECV_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/types.h>

#include "netio.h"

/* The deadline (netio_now_ms() time) of a wait that starts at now_ms:
 * asked at each recv(), since a job's phases move it. */
typedef uint64_t (*recv_wait_deadline_fn)(void *job, uint64_t now_ms);

struct recv_wait {
	int fd;
	recv_wait_deadline_fn deadline;
	void *job;
	uint64_t set_at_us;	 /* when the timeout was set; 0: never */
	uint64_t set_for_us;	 /* the deadline it was set for */
	struct recv_wait *outer; /* a signal handler's connect() nests */
};

/* recv() of real_io_waiting (real.h): blocks when this thread waits on fd
 * and the deadline leaves room, else recv(MSG_DONTWAIT). */
ssize_t recv_wait_recv(int fd, void *buf, size_t len, int flags);

/* Begin waiting in recv() on fd (blocking, with no receive timeout of the
 * program's), each wait bounded by deadline(job, now) (which may move the
 * job on: tunnel_run_wait_deadline()). */
void recv_wait_begin(struct recv_wait *w, int fd,
		     recv_wait_deadline_fn deadline, void *job);

/* End it: a timeout that was set is taken off again (the socket's default,
 * none). errno is kept. */
void recv_wait_end(struct recv_wait *w);

#endif
