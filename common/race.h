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

#include "config.h"
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
	/* For race_finish(): lane at was still under way when another won
	 * (or the race ended); say so in the log. May be NULL. */
	void (*slower)(void *ctx, unsigned at);
	/* For race_finish(): close an extra socket (a lane past 0). */
	int (*close)(int fd);
};

/* Race lanes[0..count) (count is cut to RACE_LANES_MAX; the lanes need
 * no set-up, race_run clears them): lane 0 starts now, and each next one
 * delay_ms after the one before it, or as soon as every lane started has
 * failed. Returns the index of the first lane to open (its run is
 * TUNNEL_DONE), or the -errno that ended the race: the failure
 * ops->failed stopped at, else the last lane's. Every lane keeps its fd
 * (or -1): race_finish() closes the losers. */
int race_run(const struct race_ops *ops, void *ctx, const struct socket_io *io,
	     struct race_lane *lanes, unsigned count, unsigned delay_ms);

/* The part of ops->start that every caller shares: lane->run set up for
 * config chain `chain` (its hops from cfg, limit_ms the race's deadline,
 * 0 for none) to target, and its TCP connect to the first proxy (proxy,
 * len) started on lane->fd, which the caller has set. Returns as
 * tunnel_run_connect(). */
int race_lane_connect(struct race_lane *lane, const struct socket_io *io,
		      const struct config *cfg, unsigned chain,
		      uint64_t limit_ms, const struct endpoint *target,
		      const struct sockaddr *proxy, socklen_t len);

/* After race_run over lanes[0..count): every lane but keep (the winner's
 * index, or < 0 for none) is released (tunnel_run_release), told to
 * ops->slower when it was still under way, and its extra socket (any
 * lane past 0, whose socket is the caller's own) closed with ops->close
 * and set to -1. keep's lane and socket stay as they are. */
void race_finish(const struct race_ops *ops, void *ctx, struct race_lane *lanes,
		 unsigned count, int keep);

#endif
