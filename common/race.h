/* race.h — happy eyeballs for proxies: the chains of a race group tried in
 * parallel, each on its own socket, the next one started when the ones
 * under way have not finished within race_delay (or at once when they all
 * failed). The first chain to open wins; the caller closes the others.
 *
 * Each lane is one tunnel_run (tunnel.h) on one socket, so the race is
 * that same machine driven over several sockets by one poll() loop. The
 * caller says how a lane starts (which socket, which proxy) and what a
 * failure means (mark it down, stop the race) through struct race_ops. */
#ifndef SOCKSIFY_RACE_H
#define SOCKSIFY_RACE_H

#include <stdbool.h>
#include <stdint.h>

#include "netio.h"
#include "tunnel.h"

/* Most chains one race runs at once. */
#define RACE_LANES_MAX 8

struct race_lane {
	struct tunnel_run run;
	int fd;	      /* its socket, -1 until it started */
	short events; /* what its last step waits for */
	bool running; /* started, neither open nor failed */
};

struct race_ops {
	/* Start lane at: set lane->fd (non-blocking), tunnel_run_init_path()
	 * lane->run and tunnel_run_connect() it. Returns 0 (under way) or
	 * -errno (it failed at once; lane->fd may be set all the same). */
	int (*start)(void *ctx, unsigned at, struct race_lane *lane);
	/* Lane at failed with rc (-errno; lane->run.res says where). Returns
	 * true when the race goes on, false when this failure is the
	 * answer (the destination was refused, say). */
	bool (*failed)(void *ctx, unsigned at, struct race_lane *lane, int rc);
};

/* Race lanes[0..count) (count <= RACE_LANES_MAX): lane 0 starts now, and
 * each next one delay_ms after the one before it, or as soon as every lane
 * started has failed. Returns the index of the first lane to open (its
 * run is TUNNEL_DONE), or the -errno that ended the race: the failure
 * ops->failed stopped at, else the last lane's. Every lane keeps its fd
 * (or -1): closing the losers is the caller's. */
int race_run(const struct race_ops *ops, void *ctx, const struct socket_io *io,
	     struct race_lane *lanes, unsigned count, unsigned delay_ms);

#endif
