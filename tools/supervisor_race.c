/* supervisor_race.c — races for supervised programs (see
 * supervisor_race.h). Everything runs in the calling handler thread, on
 * non-blocking sockets, and holds no lock: the health table is atomics. */
#include "supervisor_race.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libc_io.h"
#include "log.h"
#include "race.h"
#include "sockopts.h"

static const struct sockopts_io supervisor_sockopts_io = {
    .getsockopt = getsockopt,
    .setsockopt = setsockopt,
};

bool supervisor_race_fits(int sock, const struct group_plan *plan)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (!plan->race || plan->count < 2)
		return false;
	if (getsockname(sock, (struct sockaddr *)&ss, &len) < 0)
		return false;
	return !sockopts_bound(&ss);
}

/* "chain NAME" or "the proxy" (the default chain), as the supervisor's
 * other log lines say. */
static const char *race_via(const struct supervisor_race *sr, unsigned chain,
			    char *buf, size_t cap)
{
	if (chain == CONFIG_DEFAULT_CHAIN)
		return "the proxy";
	return config_target_name(
	    sr->cfg, (struct route_target){TARGET_CHAIN, chain}, buf, cap);
}

static void race_log(const struct supervisor_race *sr, enum log_level level,
		     unsigned at, const char *what)
{
	char dest[ENDPOINT_TEXT_MAX], via[CONFIG_URL_TEXT_MAX];
	unsigned chain = sr->plan->chains[at];

	if (!log_enabled(level))
		return;
	log_write(level, "pid %d fd %d: %s via %s%s: %s", sr->pid, sr->fd,
		  endpoint_format(sr->target, dest, sizeof dest),
		  chain ? "chain " : "", race_via(sr, chain, via, sizeof via),
		  what);
}

/* A new non-blocking TCP socket made like sr->sock, or -errno. */
static int race_extra_socket(const struct supervisor_race *sr)
{
	int s = socket(sr->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       IPPROTO_TCP);
	int rc;

	if (s < 0)
		return -errno;
	rc = sockopts_copy(&supervisor_sockopts_io, sr->sock, s, sr->family);
	if (rc < 0) {
		close(s);
		return rc;
	}
	return s;
}

/* race_ops.start: lane at through plan->chains[at], on sr->sock for lane
 * 0, else on an extra socket. */
static int racer_start(void *ctx, unsigned at, struct race_lane *lane)
{
	const struct supervisor_race *sr = ctx;
	unsigned chain = sr->plan->chains[at];
	struct sockaddr_storage proxy;
	int len = proxyaddr_sockaddr(&sr->proxy[chain], sr->family, &proxy);

	if (len < 0) {
		race_log(sr, LOG_ERROR, at,
			 len == -EAFNOSUPPORT
			     ? "an IPv4 socket cannot reach an IPv6 proxy"
			     : "the proxy's address is unknown");
		return len;
	}
	lane->fd = at == 0 ? sr->sock : race_extra_socket(sr);
	if (lane->fd < 0) {
		race_log(sr, LOG_ERROR, at, "no socket for this member");
		return lane->fd;
	}
	return race_lane_connect(
	    lane, &libc_socket_io, sr->cfg, chain, sr->limit_ms, sr->target,
	    (const struct sockaddr *)&proxy, (socklen_t)len);
}

/* race_ops.failed: marked down when the failure is the member's own. */
static bool racer_failed(void *ctx, unsigned at, struct race_lane *lane, int rc)
{
	const struct supervisor_race *sr = ctx;
	bool own;

	if (lane->fd < 0)
		return true; /* no address or no socket: skipped */
	own = rc != -EISCONN && rc != -EALREADY &&
	      group_proxy_failed(-rc, &lane->run.res, lane->run.path.count);
	if (own)
		health_mark_down(sr->health, sr->plan->chains[at],
				 netio_now_ms() + sr->cfg->down_time_ms);
	race_log(sr, LOG_ERROR, at,
		 lane->run.res.why ? lane->run.res.why : strerror(-rc));
	return own;
}

/* race_ops.slower: a member still under way when another won. */
static void racer_slower(void *ctx, unsigned at)
{
	race_log(ctx, LOG_INFO, at, "slower, closed");
}

static const struct race_ops supervisor_race_ops = {
    .start = racer_start,
    .failed = racer_failed,
    .slower = racer_slower,
    .close = close,
};

int supervisor_race_run(const struct supervisor_race *sr)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct race_lane lanes[RACE_LANES_MAX];
	unsigned count = sr->plan->count;
	int flags = fcntl(sr->sock, F_GETFL);
	int win;

	if (flags < 0)
		return -errno;
	if (!(flags & O_NONBLOCK) &&
	    fcntl(sr->sock, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	win = race_run(&supervisor_race_ops, (void *)sr, &libc_socket_io, lanes,
		       count, sr->cfg->race_delay_ms);
	race_finish(&supervisor_race_ops, (void *)sr, lanes, count, win);
	fcntl(sr->sock, F_SETFL, flags);
	if (win != 0 && win != -EISCONN && win != -EALREADY)
		connect(sr->sock, &unspec, sizeof unspec);
	if (win < 0)
		return win;
	if (win > 0 && fcntl(lanes[win].fd, F_SETFL, flags) < 0) {
		int err = -errno;

		close(lanes[win].fd);
		return err;
	}
	health_mark_up(sr->health, sr->plan->chains[win]);
	group_race_won(sr->health, sr->plan, (unsigned)win);
	race_log(sr, LOG_INFO, (unsigned)win, "ok (supervised)");
	return lanes[win].fd;
}
