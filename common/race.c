/* race.c — the race of a group's chains, in parallel (see race.h). */
#include "race.h"

#include <errno.h>

/* The state of one race: whose turn to start is next, and when. */
struct race {
	const struct race_ops *ops;
	void *ctx;
	const struct socket_io *io;
	struct race_lane *lanes;
	unsigned count;
	unsigned started; /* lanes[0..started) have started */
	unsigned running; /* of those, still under way */
	unsigned delay_ms;
	uint64_t next_ms; /* when lanes[started] starts */
	int last_rc;	  /* the latest failure */
	unsigned winner;  /* the lane that opened */
};

/* Lane at ended with rc < 0. Returns 1 when the race goes on, else rc. */
static int race_lost(struct race *r, unsigned at, int rc)
{
	struct race_lane *lane = &r->lanes[at];

	if (lane->running)
		r->running--;
	lane->running = false;
	r->last_rc = rc;
	return r->ops->failed(r->ctx, at, lane, rc) ? 1 : rc;
}

/* Step lane at. Returns 0 when it opened, 1 while the race goes on, or
 * the -errno that ends it. */
static int race_step(struct race *r, unsigned at, uint64_t now_ms)
{
	struct race_lane *lane = &r->lanes[at];
	int rc =
	    tunnel_run_step(&lane->run, r->io, lane->fd, now_ms, &lane->events);

	if (rc == -EAGAIN)
		return 1;
	if (rc == 0) {
		r->winner = at;
		return 0;
	}
	return race_lost(r, at, rc);
}

/* Start the next lane and take its first step. Same returns. */
static int race_start(struct race *r, uint64_t now_ms)
{
	unsigned at = r->started++;
	struct race_lane *lane = &r->lanes[at];
	int rc;

	lane->fd = -1;
	lane->events = POLLOUT;
	r->next_ms = now_ms + r->delay_ms;
	rc = r->ops->start(r->ctx, at, lane);
	if (rc < 0)
		return race_lost(r, at, rc);
	lane->running = true;
	r->running++;
	return race_step(r, at, now_ms);
}

/* The poll() timeout: until the nearest deadline of a running lane, or
 * the next start. */
static int race_timeout(const struct race *r)
{
	uint64_t nearest = UINT64_MAX;
	unsigned i;

	if (r->started < r->count)
		nearest = r->next_ms;
	for (i = 0; i < r->started; i++)
		if (r->lanes[i].running &&
		    tunnel_run_deadline(&r->lanes[i].run) < nearest)
			nearest = tunnel_run_deadline(&r->lanes[i].run);
	return netio_remaining_ms(nearest);
}

/* Wait for any running lane, then step the ready ones and those past
 * their deadline. Same returns as race_step. */
static int race_wait(struct race *r)
{
	struct pollfd pfd[RACE_LANES_MAX];
	unsigned at[RACE_LANES_MAX], n = 0, i;
	uint64_t now;
	int rc;

	for (i = 0; i < r->started; i++)
		if (r->lanes[i].running) {
			pfd[n] = (struct pollfd){r->lanes[i].fd,
						 r->lanes[i].events, 0};
			at[n++] = i;
		}
	rc = r->io->poll(pfd, n, race_timeout(r));
	if (rc < 0 && errno != EINTR)
		return -errno;
	now = netio_now_ms();
	for (i = 0; i < n; i++) {
		if (!pfd[i].revents &&
		    now < tunnel_run_deadline(&r->lanes[at[i]].run))
			continue;
		rc = race_step(r, at[i], now);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

int race_run(const struct race_ops *ops, void *ctx, const struct socket_io *io,
	     struct race_lane *lanes, unsigned count, unsigned delay_ms)
{
	struct race r = {ops, ctx,	io, lanes,	   count, 0,
			 0,   delay_ms, 0,  -EHOSTUNREACH, 0};
	uint64_t now;
	int rc;

	if (count > RACE_LANES_MAX)
		r.count = count = RACE_LANES_MAX;
	for (unsigned i = 0; i < count; i++)
		lanes[i] = (struct race_lane){.fd = -1};
	/* Bounded: every pass starts a lane, or waits no later than the
	 * nearest deadline, and each running lane fails at its own. */
	for (;;) {
		now = netio_now_ms();
		if (r.started < count && (r.running == 0 || now >= r.next_ms))
			rc = race_start(&r, now);
		else if (r.running == 0)
			return r.last_rc;
		else
			rc = race_wait(&r);
		if (rc == 0)
			return (int)r.winner;
		if (rc < 0)
			return rc;
	}
}

int race_lane_connect(struct race_lane *lane, const struct socket_io *io,
		      const struct config *cfg, unsigned chain,
		      uint64_t limit_ms, const struct endpoint *target,
		      const struct sockaddr *proxy, socklen_t len)
{
	struct tunnel_path path = {.limit_ms = limit_ms};

	path.hops = config_chain_hops(cfg, chain, &path.count);
	tunnel_run_init_path(&lane->run, cfg, &path, target, HANDSHAKE_CONNECT,
			     netio_now_ms());
	return tunnel_run_connect(&lane->run, io, lane->fd, proxy, len);
}

void race_finish(const struct race_ops *ops, void *ctx, struct race_lane *lanes,
		 unsigned count, int keep)
{
	if (count > RACE_LANES_MAX)
		count = RACE_LANES_MAX;
	for (unsigned i = 0; i < count; i++) {
		if ((int)i == keep)
			continue;
		if (lanes[i].running && ops->slower)
			ops->slower(ctx, i);
		lanes[i].running = false;
		tunnel_run_release(&lanes[i].run);
		if (i > 0 && lanes[i].fd >= 0) {
			ops->close(lanes[i].fd);
			lanes[i].fd = -1;
		}
	}
}
