/* async_race.c — a race group's members raced in parallel behind a
 * non-blocking connect (see async_internal.h): the asynchronous twin of
 * common/race.c, driven by the helper thread's epoll set instead of a
 * poll loop.
 *
 * The first member runs on the record's private duplicate of the
 * program's socket (rec->run); when no member has opened within
 * race_delay, the next one starts on an extra socket made like the
 * program's (race_socket.c), and so on, or at once when every member under
 * way has failed. The first to open wins. When an extra socket wins, the
 * program's socket is dissolved and the winner is moved onto each of the
 * program's descriptor numbers for it (dup3, keeping their close-on-exec
 * flags and the status flags), and rec_finish() registers it again in the
 * program's epoll sets. Losers still under way are closed, not marked
 * down; a member that fails for a reason of its own is.
 *
 * No thread of its own: every step runs in the helper or in a program
 * thread under async_lock, and never waits (sockets non-blocking). Fork
 * waits for the race to end (async.c), so a child never inherits one. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>

#include "async_internal.h"
#include "group.h"
#include "log.h"
#include "race_socket.h"
#include "real.h"
#include "state.h"

#define ASYNC_RACE_TEXT 1200 /* a proxy URL and its chain, group, rule */

/* Log a member's end: a failure the race goes on after (with note), or
 * a loser closed. */
static void race_log(const struct async_rec *rec, enum log_level level,
		     unsigned chain, const char *what, const char *note)
{
	char dest[ENDPOINT_TEXT_MAX], via[ASYNC_RACE_TEXT];
	int fd = rec->nalias ? rec->alias[0] : -1;

	if (!log_enabled(level))
		return;
	endpoint_format(&rec->run.dest, dest, sizeof dest);
	group_describe(rec->run.cfg, &rec->choice, chain, via, sizeof via);
	log_write(level, "fd %d: %s via %s: %s%s", fd, dest, via, what, note);
}

/* A member's run failed with rc: marked down when the failure is its own.
 * Returns true when the race goes on. */
static bool race_failed(struct async_rec *rec, const struct tunnel_run *run,
			unsigned chain, int rc)
{
	rec->race_rc = rc;
	if (!group_proxy_failed(-rc, &run->res, run->path.count))
		return false;
	health_mark_down(socksify_health(), chain,
			 netio_now_ms() + rec->run.cfg->down_time_ms);
	race_log(rec, LOG_ERROR, chain, run->res.why ? run->res.why : "failed",
		 " (marked down)");
	return true;
}

/* Close lane k's socket (out of the helper's set ep when ep >= 0). */
static void race_close_lane(struct async_rec *rec, unsigned k, int ep)
{
	struct async_lane *lane = &rec->lanes[k];

	if (lane->fd >= 0) {
		if (ep >= 0)
			real.epoll_ctl(ep, EPOLL_CTL_DEL, lane->fd, NULL);
		real.close(lane->fd);
	}
	lane->fd = -1;
	lane->running = false;
}

void async_race_close(struct async_rec *rec, int ep)
{
	for (unsigned k = 0; k < rec->nlanes; k++) {
		if (rec->lanes[k].running)
			race_log(rec, LOG_INFO,
				 rec->plan.chains[rec->lanes[k].at],
				 "slower, closed", "");
		race_close_lane(rec, k, ep);
	}
	rec->nlanes = 0;
}

/* True while a lane (the first, or an extra one) is under way. */
static bool race_running(const struct async_rec *rec)
{
	if (rec->first_running)
		return true;
	for (unsigned k = 0; k < rec->nlanes; k++)
		if (rec->lanes[k].running)
			return true;
	return false;
}

/* True when the next member may start now or later: one is left, a lane
 * is free, and the plan's deadline has not passed. */
static bool race_may_start(const struct async_rec *rec, uint64_t now)
{
	return rec->plan_next < rec->plan.count &&
	       rec->nlanes < RACE_LANES_MAX - 1 &&
	       (!rec->run.path.limit_ms || now < rec->run.path.limit_ms);
}

uint64_t async_race_due(const struct async_rec *rec)
{
	uint64_t nearest = UINT64_MAX;

	if (rec->first_running)
		nearest = tunnel_run_deadline(&rec->run);
	for (unsigned k = 0; k < rec->nlanes; k++)
		if (rec->lanes[k].running &&
		    tunnel_run_deadline(&rec->lanes[k].run) < nearest)
			nearest = tunnel_run_deadline(&rec->lanes[k].run);
	if (race_may_start(rec, 0) && rec->race_next_ms < nearest)
		nearest = rec->race_next_ms;
	/* Nothing under way or to come: the next step ends the race. */
	return nearest == UINT64_MAX ? 0 : nearest;
}

/* Start the next member on an extra socket. Returns 0 (under way) or
 * -errno (it failed at once, or could not start). */
static int race_start(struct async_rec *rec, uint64_t now)
{
	const struct config *cfg = rec->run.cfg;
	unsigned at = rec->plan_next++, chain = rec->plan.chains[at];
	struct async_lane *lane = &rec->lanes[rec->nlanes];
	struct tunnel_path path = {.limit_ms = rec->run.path.limit_ms};
	struct sockaddr_storage proxy;
	int len, rc;

	rec->race_next_ms = now + cfg->race_delay_ms;
	len = socksify_chain_sockaddr(chain, rec->domain, &proxy);
	if (len < 0)
		return len; /* this socket cannot reach it: not its fault */
	lane->fd = race_socket_open(rec->priv, rec->domain);
	if (lane->fd < 0) {
		log_error("async race: no socket for the next member: %s",
			  strerror(-lane->fd));
		rc = lane->fd;
		lane->fd = -1;
		return rc;
	}
	lane->at = at;
	lane->running = true;
	rec->nlanes++;
	path.hops = config_chain_hops(cfg, chain, &path.count);
	tunnel_run_init_path(&lane->run, cfg, &path, &rec->run.dest,
			     HANDSHAKE_CONNECT, now);
	rc =
	    tunnel_run_connect(&lane->run, &async_sock_io, lane->fd,
			       (const struct sockaddr *)&proxy, (socklen_t)len);
	if (rc == 0)
		rc = rec_watch_fd(rec, lane->fd, rec->nlanes, POLLOUT,
				  EPOLL_CTL_ADD);
	if (rc < 0) {
		race_close_lane(rec, rec->nlanes - 1, -1);
		if (race_failed(rec, &lane->run, chain, rc))
			return rc;
		/* Not its own fault: the race ends with it. */
		rec->plan_next = rec->plan.count;
	}
	return rc;
}

/* Extra lane k won: the program's socket is dissolved and lane k's moved
 * onto each of the program's descriptors for it. Returns 0 or -errno. */
static int race_move(struct async_rec *rec, unsigned k)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct async_lane *lane = &rec->lanes[k];
	int status = real.fcntl(rec->priv, F_GETFL);
	int rc = 0;

	if (status < 0)
		return -errno;
	if (rec->first_running)
		race_log(rec, LOG_INFO, rec->chain, "slower, closed", "");
	rec->first_running = false;
	real.connect(rec->priv, &unspec, sizeof unspec);
	for (int i = 0; rc == 0 && i < rec->nalias; i++)
		rc = race_socket_move(rec->alias[i], lane->fd);
	if (rc == 0 && real.fcntl(lane->fd, F_SETFL, status) < 0)
		rc = -errno;
	rec_close_private(rec);
	/* The winner takes the duplicate's place; rec_stop() closes it. */
	rec->priv = lane->fd;
	rec->moved = true;
	rec->run = lane->run;
	rec->at = lane->at;
	rec->chain = rec->plan.chains[lane->at];
	lane->fd = -1;
	lane->running = false;
	return rc;
}

/* Step one run on fd: 0 when it opened, 1 while under way (watched
 * again), or -errno. */
static int race_step(struct async_rec *rec, struct tunnel_run *run, int fd,
		     unsigned lane, uint64_t now)
{
	short events = 0;
	int rc = tunnel_run_step(run, &async_sock_io, fd, now, &events);

	if (rc != -EAGAIN)
		return rc;
	rc = rec_watch_fd(rec, fd, lane, events, EPOLL_CTL_MOD);
	return rc < 0 ? rc : 1;
}

/* Step the first lane and every extra one. Returns -1 while none has
 * opened, 0 when the first has, k + 1 when extra lane k has, or -2 when a
 * failure that blames the destination ended the race (rec->race_rc). */
static int race_step_all(struct async_rec *rec, uint64_t now)
{
	int rc;

	if (rec->first_running) {
		rc = race_step(rec, &rec->run, rec->priv, 0, now);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			rec->first_running = false;
			if (!race_failed(rec, &rec->run, rec->chain, rc))
				return -2;
		}
	}
	for (unsigned k = 0; k < rec->nlanes; k++) {
		struct async_lane *lane = &rec->lanes[k];

		if (!lane->running)
			continue;
		rc = race_step(rec, &lane->run, lane->fd, k + 1, now);
		if (rc == 0)
			return (int)k + 1;
		if (rc < 0) {
			race_close_lane(rec, k, -1);
			if (!race_failed(rec, &lane->run,
					 rec->plan.chains[lane->at], rc)) {
				rec->run.res = lane->run.res;
				rec->chain = rec->plan.chains[lane->at];
				return -2;
			}
		}
	}
	return -1;
}

void async_race_advance(struct async_rec *rec)
{
	uint64_t now = netio_now_ms();
	int won = race_step_all(rec, now), rc;

	if (won == 0) {
		rec_finish(rec, 0);
		return;
	}
	if (won > 0) {
		rc = race_move(rec, (unsigned)won - 1);
		rec_finish(rec, rc);
		return;
	}
	if (won == -2) {
		rec_finish(rec, rec->race_rc);
		return;
	}
	/* Bounded by the plan: each pass starts at most every member left. */
	while (race_may_start(rec, now) &&
	       (!race_running(rec) || now >= rec->race_next_ms))
		race_start(rec, now);
	if (!race_running(rec))
		rec_finish(rec, rec->race_rc);
}
