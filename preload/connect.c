/* connect.c — the connect() hook: decide direct / proxy / refuse, and run the
 * SOCKS handshake on the program's own socket (no replacement socket, no
 * dup2, so its options, bind address and FD_CLOEXEC survive).
 *
 * Thread safety: all state used here is either on the stack, read-only
 * (config), or behind its own module (fdtab, fakedns). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "async.h"
#include "bind.h"
#include "directset.h"
#include "fdtab.h"
#include "group.h"
#include "gssapi.h"
#include "hooks.h"
#include "log.h"
#include "race.h"
#include "race_socket.h"
#include "real.h"
#include "recv_wait.h"
#include "route.h"
#include "state.h"
#include "tunnel.h"
#include "udp.h"

#define PROXY_TEXT_MAX 600
/* "URL (chain NAME, rule FILE:LINE)" for log lines. */
#define VIA_TEXT_MAX (PROXY_TEXT_MAX + 2 * CONFIG_NAME_MAX + 300)

/* How a connection goes: the rule's choice, and the attempt under way. */
struct stream_way {
	const struct config *cfg;
	struct route_choice choice;
	unsigned chain; /* the chain of this attempt */
	struct tunnel_path path;
	bool several;		/* the plan holds more than one chain */
	struct group_plan plan; /* the chains to try, in order */
	unsigned at;		/* plan.chains[at] is this attempt's */
	int domain;		/* the socket's family */
};

/* Text of the attempt for log lines (group_describe). */
static const char *via_text(const struct stream_way *way, char *buf, size_t cap)
{
	return group_describe(way->cfg, &way->choice, way->chain, buf, cap);
}

/* Tell bind.c about a connection through way->chain, whose first proxy
 * is at proxy (saves it asking the kernel). */
static void stream_note_bind(int fd, const struct stream_way *way,
			     const struct endpoint *target,
			     const struct endpoint *bound,
			     const struct sockaddr_storage *proxy,
			     socklen_t len)
{
	struct endpoint first;

	if (endpoint_from_sockaddr(&first, (const struct sockaddr *)proxy,
				   len) < 0) {
		bind_note_connect(fd, target, bound, way->chain);
		return;
	}
	bind_note_connect_via(fd, target, bound, way->chain, &first);
}

/* Remember that fd is proxied and what it asked for, so that getpeername()
 * can answer with it and a second connect() gets EISCONN. */
static void stream_record(int fd, const struct endpoint *asked)
{
	/* inode 0: fdtab records the socket's current inode itself, unless
	 * socket() recorded it already with the socket's facts, which stay. */
	struct fdtab_entry entry = {.flags = FDTAB_PROXIED, .dest = *asked};
	uint32_t facts;
	uint64_t inode;

	if (fdtab_head(fd, &facts, &inode) == 0 && (facts & FDTAB_SOCK_KIND)) {
		entry.flags |= facts & FDTAB_SOCK_FACTS;
		entry.inode = inode;
	}

	if (fdtab_set(fd, &entry) < 0)
		log_warn("fd %d: cannot record the destination; getpeername "
			 "will show the proxy",
			 fd);
}

/* True when socket() (or fcntl) left fd recorded as blocking. Trusted
 * without asking the kernel: the Fast Open path does not depend on the
 * file's blocking mode (every call it makes is non-blocking by its flags,
 * and it waits in poll() with the deadline), so a socket that is in fact
 * non-blocking (a stale flag, fdreg.h) only gets its handshake done before
 * connect() returns, which connect() may always do. The reverse is not
 * safe (EINPROGRESS to a program that waits in a blocking call), so a
 * recorded "non-blocking" is always checked with F_GETFL. */
static bool stream_known_blocking(int fd)
{
	uint32_t facts = fdtab_flags(fd);

	return (facts & FDTAB_SOCK_KIND) && !(facts & FDTAB_SOCK_NONBLOCK);
}

/* Undo a failed attempt: the half-made connection to the proxy is
 * dissolved (connect to AF_UNSPEC) so nothing the program writes can reach
 * it, and the socket can connect again, as after a failed kernel connect.
 * A socket that was already connected (or connecting) is left alone: the
 * kernel refused our connect, and the program's link stands. */
static int stream_undo(int fd, int rc)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};

	if (rc < 0 && rc != -EISCONN && rc != -EALREADY)
		real.connect(fd, &unspec, sizeof unspec);
	return rc;
}

/* Set once the kernel said it has Fast Open off for clients (the sysctl
 * is per network namespace, which a process seldom leaves): later
 * connects go the plain way at once instead of asking again. */
static atomic_bool stream_no_fastopen;

static uint64_t stream_wait_deadline(void *tr, uint64_t now_ms)
{
	return tunnel_run_wait_deadline(tr, now_ms);
}

/* The whole tunnel on a blocking socket left as it is: a Fast Open start
 * and MSG_DONTWAIT calls (tunnel_run_fastopen), except that the replies
 * are waited for inside recv() (recv_wait.h) when the program has not set
 * the socket's receive timeout. Returns 0 or -errno with *done set, or
 * with *done false when the kernel has no Fast Open for clients (nothing
 * was done; the caller takes the other way). */
static int stream_tunnel_fast(int fd, const struct stream_way *way,
			      const struct sockaddr_storage *proxy,
			      socklen_t len, const struct endpoint *target,
			      struct tunnel_result *res, bool *done)
{
	const struct socket_io *io = &real_io_dontwait;
	struct recv_wait wait;
	struct tunnel_run tr;
	bool waiting;
	int rc;

	tunnel_run_init_path(&tr, way->cfg, &way->path, target,
			     HANDSHAKE_CONNECT, netio_now_ms());
	waiting = !(fdtab_flags(fd) & FDTAB_SOCK_RCVTIMEO);
	if (waiting) {
		recv_wait_begin(&wait, fd, stream_wait_deadline, &tr);
		io = &real_io_waiting;
	}
	rc = tunnel_run_fastopen(&tr, io, fd, (const struct sockaddr *)proxy,
				 len);
	*done = !(rc == -EOPNOTSUPP && tr.phase == TUNNEL_CONNECTING);
	if (*done && rc == 0)
		rc = tunnel_run_finish(&tr, io, fd);
	if (waiting)
		recv_wait_end(&wait);
	if (!*done) {
		atomic_store_explicit(&stream_no_fastopen, true,
				      memory_order_relaxed);
		return rc;
	}
	*res = tr.res;
	return stream_undo(fd, rc);
}

/* Run the tunnel: on a socket known to be blocking, with Fast Open when
 * the config allows it; otherwise with fd non-blocking, then putting back
 * exactly the flags the program had. A failure is undone (stream_undo).
 * Returns 0 or -errno; *nonblocking says what the program had. */
static int stream_tunnel(int fd, const struct stream_way *way,
			 const struct sockaddr_storage *proxy, socklen_t len,
			 const struct endpoint *target, bool *nonblocking,
			 struct tunnel_result *res)
{
	bool done = false;
	int flags, rc;

	if (way->cfg->fastopen && stream_known_blocking(fd) &&
	    !atomic_load_explicit(&stream_no_fastopen, memory_order_relaxed)) {
		*nonblocking = false;
		rc =
		    stream_tunnel_fast(fd, way, proxy, len, target, res, &done);
		if (done)
			return rc;
	}
	flags = real.fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	*nonblocking = flags & O_NONBLOCK;
	if (!*nonblocking && real.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	rc = tunnel_open_path(&real_io, way->cfg, &way->path, fd,
			      (const struct sockaddr *)proxy, len, target,
			      HANDSHAKE_CONNECT, res);
	if (!*nonblocking)
		real.fcntl(fd, F_SETFL, flags);
	return stream_undo(fd, rc);
}

/* Whether any chain this connect may still try, from the current attempt
 * on, has a GSS-API hop. */
static bool stream_uses_gssapi(const struct stream_way *way)
{
	const struct proxy *hops;
	unsigned count;

	for (unsigned i = way->at; i < way->plan.count; i++) {
		hops = config_chain_hops(way->cfg, way->plan.chains[i], &count);
		for (unsigned h = 0; h < count; h++)
			if (hops[h].gssapi)
				return true;
	}
	for (unsigned h = 0; h < way->path.count; h++)
		if (way->path.hops[h].gssapi)
			return true;
	return false;
}

/* Start the handshake in the background when the config allows it and the
 * program's socket is non-blocking. Returns 0 with *started set (then
 * *nonblocking is true; false: take the synchronous path), or -errno. */
static int stream_try_async(int fd, const struct stream_way *way,
			    const struct sockaddr_storage *proxy, socklen_t len,
			    const struct endpoint *asked,
			    const struct endpoint *target, bool *nonblocking,
			    bool *started)
{
	struct group_plan rest = {.all_down = way->plan.all_down,
				  .race = way->plan.race,
				  .group = way->plan.group};
	struct tunnel_path path = way->path;
	bool race;
	int flags, rc;

	*started = false;
	/* GSS-API calls may block on the KDC and make connections of their
	 * own: never on the background thread, which holds async_lock. */
	if (!way->cfg->async_connect || stream_known_blocking(fd) ||
	    stream_uses_gssapi(way))
		return 0;
	flags = real.fcntl(fd, F_GETFL);
	if (flags < 0 || !(flags & O_NONBLOCK))
		return 0;
	*nonblocking = true;
	/* The background run goes on from this attempt's chain. */
	rest.count = way->plan.count - way->at;
	memcpy(rest.chains, way->plan.chains + way->at,
	       rest.count * sizeof(rest.chains[0]));
	memcpy(rest.member, way->plan.member + way->at,
	       rest.count * sizeof(rest.member[0]));
	/* A race group races in parallel there too (async_race.c), unless
	 * the socket is bound (a second socket cannot take its address).
	 * Racing, the first member keeps the whole connect timeout: the next
	 * ones start beside it instead of cutting it short. */
	race = way->plan.race && rest.count > 1 && !race_socket_bound(fd);
	if (race)
		path.connect_ms = 0;
	rc = async_connect_start(fd, way->cfg, &way->choice, &rest, &path,
				 way->domain, (const struct sockaddr *)proxy,
				 len, asked, target, race);
	*started = rc > 0; /* async_connect_start: 1 = started */
	return rc < 0 ? rc : 0;
}

/* The attempt's first proxy as a socket address of domain, or -errno
 * (logged). */
static int stream_proxy_address(int fd, int domain,
				const struct stream_way *way,
				const struct endpoint *target,
				struct sockaddr_storage *proxy)
{
	char dest[ENDPOINT_TEXT_MAX], via[VIA_TEXT_MAX];
	int len = socksify_chain_sockaddr(way->chain, domain, proxy);

	if (len < 0)
		log_error("fd %d: %s via %s: %s", fd,
			  endpoint_format(target, dest, sizeof dest),
			  via_text(way, via, sizeof via),
			  len == -EAFNOSUPPORT
			      ? "an IPv4 socket cannot reach an IPv6 proxy"
			      : "the proxy's address is unknown");
	return len;
}

/* After a failed attempt: a chain that failed for a reason of its own is
 * marked down for down_time; one whose last proxy blamed the destination
 * is not. Returns true when the next chain of the plan may be tried. */
static bool stream_note_failure(const struct stream_way *way, int rc,
				const struct tunnel_result *res)
{
	/* Out of descriptors (the background handshake's): not the
	 * proxy's fault, and no other chain would fare better. */
	if (rc == -EISCONN || rc == -EALREADY || rc == -EMFILE ||
	    rc == -ENFILE || !group_proxy_failed(-rc, res, way->path.count))
		return false;
	health_mark_down(socksify_health(), way->chain,
			 netio_now_ms() + way->cfg->down_time_ms);
	return true;
}

/* One attempt through way->chain. target is what the proxy is asked for:
 * the name behind a fake address, or the address itself; may_defer: see
 * stream_connect. Returns 0 or -errno (logged); *retry says whether the
 * next chain may be tried. */
static int stream_attempt(int fd, int domain, const struct stream_way *way,
			  const struct endpoint *asked,
			  const struct endpoint *target, bool may_defer,
			  bool *nonblocking, bool *retry)
{
	char dest[ENDPOINT_TEXT_MAX], via[VIA_TEXT_MAX];
	struct tunnel_result res = {.hop = -1, .why = NULL};
	struct sockaddr_storage proxy;
	bool started = false;
	int len, rc = 0;

	*retry = true;
	len = stream_proxy_address(fd, domain, way, target, &proxy);
	if (len < 0)
		return len;
	if (may_defer)
		rc = stream_try_async(fd, way, &proxy, (socklen_t)len, asked,
				      target, nonblocking, &started);
	if (rc < 0) {
		/* The TCP connect to the proxy failed at once: its own. */
		*retry = stream_note_failure(way, rc, &res);
		log_error("fd %d: %s via %s: connecting to the proxy "
			  "failed%s%s",
			  fd, endpoint_format(target, dest, sizeof dest),
			  via_text(way, via, sizeof via),
			  rc == -ECONNREFUSED
			      ? ": connection refused (is the proxy running at "
				"that address? check with: socksify doctor)"
			  : rc == -EMFILE || rc == -ENFILE
			      ? ": no descriptor left for the handshake"
			      : "",
			  *retry && way->several ? " (marked down)" : "");
	}
	if (rc < 0 || started)
		return rc;
	rc = stream_tunnel(fd, way, &proxy, (socklen_t)len, target, nonblocking,
			   &res);
	if (rc < 0) {
		*retry = stream_note_failure(way, rc, &res);
		log_error("fd %d: %s via %s: %s%s", fd,
			  endpoint_format(target, dest, sizeof dest),
			  via_text(way, via, sizeof via),
			  res.why ? res.why : "failed",
			  *retry && way->several ? " (marked down)" : "");
		return rc;
	}
	health_mark_up(socksify_health(), way->chain);
	stream_record(fd, asked);
	stream_note_bind(fd, way, target, &res.bound, &proxy, (socklen_t)len);
	log_info("fd %d: %s via %s: ok", fd,
		 endpoint_format(target, dest, sizeof dest),
		 via_text(way, via, sizeof via));
	return 0;
}

/* A race in the program's thread (stream_race): the connection, and the
 * program's socket, which is lane 0's. */
struct stream_racer {
	struct stream_way *way;
	int fd;
	const struct endpoint *target;
};

/* race_ops.start: lane at goes through plan.chains[at], on the program's
 * socket for lane 0, else on a new one made like it. */
static int racer_start(void *ctx, unsigned at, struct race_lane *lane)
{
	struct stream_racer *sr = ctx;
	struct stream_way *way = sr->way;
	struct sockaddr_storage proxy;
	char dest[ENDPOINT_TEXT_MAX];
	int len;

	way->chain = way->plan.chains[at];
	len =
	    stream_proxy_address(sr->fd, way->domain, way, sr->target, &proxy);
	if (len < 0)
		return len;
	lane->fd = at == 0 ? sr->fd : race_socket_open(sr->fd, way->domain);
	if (lane->fd < 0) {
		log_error("fd %d: %s: no socket for the next member: %s",
			  sr->fd,
			  endpoint_format(sr->target, dest, sizeof dest),
			  strerror(-lane->fd));
		return lane->fd;
	}
	return race_lane_connect(
	    lane, &real_io, way->cfg, way->chain, way->path.limit_ms,
	    sr->target, (const struct sockaddr *)&proxy, (socklen_t)len);
}

/* race_ops.failed: as a failed attempt of failover (marked down when the
 * proxy is to blame, logged); a lane that got no socket or no address is
 * skipped without a mark. */
static bool racer_failed(void *ctx, unsigned at, struct race_lane *lane, int rc)
{
	struct stream_racer *sr = ctx;
	struct stream_way *way = sr->way;
	char dest[ENDPOINT_TEXT_MAX], via[VIA_TEXT_MAX];
	bool retry;

	if (lane->fd < 0)
		return true;
	way->chain = way->plan.chains[at];
	way->path.count = lane->run.path.count;
	retry = stream_note_failure(way, rc, &lane->run.res);
	log_error("fd %d: %s via %s: %s%s", sr->fd,
		  endpoint_format(sr->target, dest, sizeof dest),
		  via_text(way, via, sizeof via),
		  lane->run.res.why ? lane->run.res.why : "failed",
		  retry ? " (marked down)" : "");
	return retry;
}

/* race_ops.slower: a member still under way when another won. */
static void racer_slower(void *ctx, unsigned at)
{
	struct stream_racer *sr = ctx;
	char dest[ENDPOINT_TEXT_MAX], via[VIA_TEXT_MAX];

	if (!log_enabled(LOG_INFO))
		return;
	sr->way->chain = sr->way->plan.chains[at];
	log_info("fd %d: %s via %s: slower, closed", sr->fd,
		 endpoint_format(sr->target, dest, sizeof dest),
		 via_text(sr->way, via, sizeof via));
}

/* race_ops.close: an extra socket, with libc's own close (not the hook). */
static int racer_close(int fd)
{
	return real.close(fd);
}

static const struct race_ops stream_race_ops = {
    .start = racer_start,
    .failed = racer_failed,
    .slower = racer_slower,
    .close = racer_close,
};

/* The race's winner: its connection on the program's socket, the
 * program's flags back. Returns 0 or -errno. */
static int stream_race_adopt(struct stream_racer *sr, struct race_lane *lanes,
			     int win, int flags)
{
	real.fcntl(sr->fd, F_SETFL, flags);
	if (win == 0)
		return 0;
	return race_socket_adopt(sr->fd, lanes[win].fd);
}

/* A race group, in parallel: lane 0 on the program's socket, the next
 * member on a socket of its own after race_delay, and so on; the first
 * to open wins and its connection ends up on the program's socket.
 * Returns 0 or -errno (logged). */
static int stream_race(int fd, struct stream_way *way,
		       const struct endpoint *asked,
		       const struct endpoint *target, bool *nonblocking)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct race_lane lanes[RACE_LANES_MAX];
	struct stream_racer sr = {way, fd, target};
	char dest[ENDPOINT_TEXT_MAX], via[VIA_TEXT_MAX];
	unsigned count = way->plan.count;
	int flags = real.fcntl(fd, F_GETFL);
	int win, rc;

	if (flags < 0)
		return -errno;
	*nonblocking = flags & O_NONBLOCK;
	if (!*nonblocking && real.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	win = race_run(&stream_race_ops, &sr, &real_io, lanes, count,
		       way->cfg->race_delay_ms);
	race_finish(&stream_race_ops, &sr, lanes, count, win);
	if (win < 0) {
		real.fcntl(fd, F_SETFL, flags);
		if (win != -EISCONN && win != -EALREADY)
			real.connect(fd, &unspec, sizeof unspec);
		return win;
	}
	rc = stream_race_adopt(&sr, lanes, win, flags);
	way->chain = way->plan.chains[win];
	if (rc < 0) {
		log_error("fd %d: %s via %s: cannot take the connection: %s",
			  fd, endpoint_format(target, dest, sizeof dest),
			  via_text(way, via, sizeof via), strerror(-rc));
		return rc;
	}
	health_mark_up(socksify_health(), way->chain);
	group_race_won(socksify_health(), &way->plan, (unsigned)win);
	stream_record(fd, asked);
	bind_note_connect(fd, target, &lanes[win].run.res.bound, way->chain);
	log_info("fd %d: %s via %s: ok", fd,
		 endpoint_format(target, dest, sizeof dest),
		 via_text(way, via, sizeof via));
	return 0;
}

/* True when this connect runs the race in the program's thread: a race
 * group with more than one chain to try, on a socket not bound to a
 * local address, that will not be handed to the asynchronous helper. */
static bool stream_races(int fd, const struct stream_way *way, bool may_defer)
{
	int flags;

	if (!way->plan.race || way->plan.count < 2 || race_socket_bound(fd))
		return false;
	if (!may_defer || !way->cfg->async_connect)
		return true;
	flags = real.fcntl(fd, F_GETFL);
	return flags >= 0 && !(flags & O_NONBLOCK);
}

/* The proxied path: the chains of the choice's plan in turn, while one
 * fails for a reason of its own, within one connect deadline. With
 * may_defer the attempts run in the background (async_drive.c goes on
 * with the plan there). Returns 0 or -errno (logged). */
static int stream_proxy(int fd, int domain, struct stream_way *way,
			const struct endpoint *asked,
			const struct endpoint *target, bool may_defer,
			bool *nonblocking)
{
	const struct config *cfg = way->cfg;
	uint64_t now = netio_now_ms();
	bool retry = false;
	int rc = -EHOSTUNREACH;
	unsigned i;

	group_plan(cfg, socksify_health(), way->choice.via, now, &way->plan);
	way->several = way->plan.count > 1;
	way->domain = domain;
	if (way->several)
		way->path.limit_ms =
		    now + cfg->connect_timeout_ms + cfg->handshake_timeout_ms;
	if (stream_races(fd, way, may_defer))
		return stream_race(fd, way, asked, target, nonblocking);
	for (i = 0; i < way->plan.count; i++) {
		way->at = i;
		way->chain = way->plan.chains[i];
		way->path.hops =
		    config_chain_hops(cfg, way->chain, &way->path.count);
		way->path.connect_ms = group_connect_ms(cfg, &way->plan, i);
		rc = stream_attempt(fd, domain, way, asked, target, may_defer,
				    nonblocking, &retry);
		if (rc == 0 || !retry ||
		    (way->several && netio_now_ms() >= way->path.limit_ms))
			break;
	}
	return rc;
}

/* Refusal when the configuration is broken: every connection fails. */
static int stream_invalid(int fd, const struct config *cfg,
			  const struct endpoint *asked)
{
	char dest[ENDPOINT_TEXT_MAX];

	if (log_enabled(LOG_ERROR))
		log_error("fd %d: %s refused: config error: %s", fd,
			  endpoint_format(asked, dest, sizeof dest),
			  cfg->error);
	return -EACCES;
}

/* Log a direct or refused decision. */
static void stream_log(int fd, const struct endpoint *asked, const char *what)
{
	char dest[ENDPOINT_TEXT_MAX];

	if (log_enabled(LOG_INFO))
		log_info("fd %d: %s %s", fd,
			 endpoint_format(asked, dest, sizeof dest), what);
}

/* The name behind a fake address into target (asked itself when not
 * fake); a fake address without a name leaves target ENDPOINT_NONE. */
static void stream_target(const struct endpoint *asked, bool is_fake,
			  struct endpoint *target)
{
	*target = *asked;
	if (is_fake && !socksify_unfake(asked, target))
		target->kind = ENDPOINT_NONE;
}

/* Refusal of a fake address without a name. */
static int stream_nameless(int fd, const struct endpoint *asked)
{
	char dest[ENDPOINT_TEXT_MAX];

	log_error("fd %d: %s refused: a fake address with no name "
		  "(from another socksify session?)",
		  fd, endpoint_format(asked, dest, sizeof dest));
	return -EHOSTUNREACH;
}

/* The rules' choice for asked (target: the name behind a fake address),
 * into *choice. Returns its decision, or ROUTE_DIRECT for a real address a
 * direct name resolved to (choice then keeps the rules' own). */
static enum route_decision stream_choose(const struct config *cfg,
					 const struct endpoint *asked,
					 const struct endpoint *target,
					 bool is_fake,
					 struct route_choice *choice)
{
	enum route_decision d = route_select(
	    cfg, asked, target->kind == ENDPOINT_NAME ? target->u.name : NULL,
	    is_fake, RULE_PROTO_TCP, choice);

	if (d == ROUTE_PROXY && !is_fake && directset_contains(asked))
		return ROUTE_DIRECT;
	return d;
}

int stream_connect(int fd, int domain, const struct sockaddr *sa, socklen_t len,
		   bool may_defer, enum stream_outcome *outcome,
		   bool *nonblocking)
{
	const struct config *cfg = socksify_config();
	struct stream_way way = {.cfg = cfg};
	struct fdtab_entry entry;
	struct endpoint asked, target;
	bool is_fake;

	*outcome = STREAM_DIRECT;
	if (endpoint_from_sockaddr(&asked, sa, len) < 0)
		return 0; /* a short address: the kernel says EINVAL */
	if (!cfg->valid)
		return stream_invalid(fd, cfg, &asked);
	if ((fdtab_flags(fd) & FDTAB_PROXIED) && fdtab_get(fd, &entry) == 0)
		return -EISCONN;
	if (socksify_is_proxy(&asked)) {
		stream_log(fd, &asked, "direct (the proxy itself)");
		return 0;
	}
	is_fake = socksify_is_fake(&asked);
	stream_target(&asked, is_fake, &target);
	switch (stream_choose(cfg, &asked, &target, is_fake, &way.choice)) {
	case ROUTE_DIRECT:
		stream_log(fd, &asked,
			   way.choice.decision == ROUTE_DIRECT
			       ? "direct"
			       : "direct (resolved for a direct name)");
		return 0;
	case ROUTE_BLOCK:
		stream_log(fd, target.kind == ENDPOINT_NONE ? &asked : &target,
			   "refused by rule");
		return -EACCES;
	case ROUTE_PROXY:
		break;
	}
	if (target.kind == ENDPOINT_NONE)
		return stream_nameless(fd, &asked);
	*outcome = STREAM_PROXIED;
	return stream_proxy(fd, domain, &way, &asked, &target, may_defer,
			    nonblocking);
}

/* The connect() paths below return 0 or -errno, or HOOK_PASS for the real
 * call; the hook sets errno once. */

/* SCTP and other uncarried protocols: direct routes only. */
static int connect_uncarried(int fd, enum socket_class class,
			     const struct sockaddr *sa, socklen_t len)
{
	struct endpoint dest;

	if (endpoint_from_sockaddr(&dest, sa, len) < 0)
		return HOOK_PASS;
	if (!hook_uncarried_allowed(fd, hook_class_name(class), &dest))
		return -EACCES;
	stream_log(fd, &dest, "direct");
	return HOOK_PASS;
}

/* True when the kernel has fd connected (to a direct peer). */
static bool connect_kernel_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	return real.getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* UDP to a proxied peer: record it and touch no network. A kernel
 * connection to an earlier direct peer is dissolved, or the kernel would
 * drop the relay's datagrams. */
static int connect_udp_proxied(int fd, int domain, const struct endpoint *dest)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	int rc;

	if (connect_kernel_connected(fd) &&
	    real.connect(fd, &unspec, sizeof unspec) < 0)
		return -errno;
	rc = udp_set_peer(fd, domain, dest);
	if (rc == 0)
		stream_log(fd, dest, "recorded as the UDP peer (via proxy)");
	return rc;
}

/* UDP: direct routes connect for real (forgetting a proxied peer); proxied
 * ones are recorded; refusals are EACCES. */
static int connect_udp(int fd, int domain, const struct sockaddr *sa,
		       socklen_t len)
{
	struct endpoint dest;
	int way;

	if (endpoint_from_sockaddr(&dest, sa, len) < 0)
		return HOOK_PASS;
	way = udp_route(fd, &dest, NULL);
	if (way == UDP_WAY_PROXY)
		return connect_udp_proxied(fd, domain, &dest);
	if (way < 0)
		return way;
	fdtab_unflag(fd, FDTAB_UDP_PEER);
	return HOOK_PASS;
}

/* AF_UNSPEC dissolves a connection (or association): forget the fd. A UDP
 * socket keeps its association; only a recorded peer goes, and the kernel
 * is asked only when it holds a connection (dissolving an unconnected UDP
 * socket would drop the port the association was made for). */
static int connect_unspec(int fd, const struct sockaddr *sa, socklen_t len)
{
	uint32_t flags = fdtab_flags(fd);

	if (flags & (FDTAB_UDP_ANY | FDTAB_UDP_SOCKET)) {
		fdtab_unflag(fd, FDTAB_UDP_PEER);
		return connect_kernel_connected(fd) ? HOOK_PASS : 0;
	}
	if (real.connect(fd, sa, len) < 0)
		return -errno;
	fdtab_clear(fd);
	return 0;
}

/* TCP. A proxied non-blocking socket reports EINPROGRESS although it is
 * already connected: it polls writable at once with SO_ERROR 0, which is
 * what the program waits for. */
static int connect_tcp(int fd, int domain, const struct sockaddr *sa,
		       socklen_t len)
{
	enum stream_outcome outcome;
	bool nonblocking = false;
	int rc;

	bind_forget(fd); /* a BIND on a socket that connects is dropped */
	/* A handshake still running: EALREADY; one that failed is forgot. */
	rc = async_idle() ? 0 : async_connect_again(fd);
	if (rc == 0)
		rc = stream_connect(fd, domain, sa, len, true, &outcome,
				    &nonblocking);
	if (rc < 0)
		return rc;
	if (outcome == STREAM_DIRECT)
		return HOOK_PASS;
	return nonblocking ? -EINPROGRESS : 0;
}

/* An IPv4 or IPv6 destination: by the kind of socket. */
static int connect_ip(int fd, const struct sockaddr *sa, socklen_t len)
{
	int domain = AF_UNSPEC;
	enum socket_class class = hook_socket_class(fd, &domain);

	switch (class) {
	case SOCKET_OTHER:
		return HOOK_PASS;
	case SOCKET_UDP:
		return connect_udp(fd, domain, sa, len);
	case SOCKET_UNCARRIED:
		return connect_uncarried(fd, class, sa, len);
	case SOCKET_TCP:
		break;
	}
	return connect_tcp(fd, domain, sa, len);
}

SOCKSIFY_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int saved_errno = errno;
	int rc = HOOK_PASS;

	real_init();
	/* The GSS-API library talking to its KDC during a handshake. */
	if (!sa || len < sizeof sa->sa_family || gssapi_bypass())
		return real.connect(fd, sa, len);
	if (sa->sa_family == AF_UNSPEC)
		rc = connect_unspec(fd, sa, len);
	else if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		rc = connect_ip(fd, sa, len);
	errno = saved_errno;
	if (rc == HOOK_PASS)
		return real.connect(fd, sa, len);
	return (int)hook_return(rc);
}
