/* tunnel.h — a path through the configured proxy chain on a program's own
 * socket: the TCP connect to the first proxy, then one negotiation per hop,
 * hop i asking its proxy for proxies[i + 1] and the last hop for the
 * destination.
 *
 * One resumable machine (struct tunnel_run) does all of it, and every
 * caller drives that same machine: an event loop steps it whenever the
 * socket is ready for what the last step asked (preload/async_drive.c), and
 * tunnel_open() is the blocking loop "wait for readiness, step"
 * (netio_drive()). So each decision and each log message exists once.
 *
 * A hop's protocol is pluggable (struct tunnel_protocol in tunnel.c): SOCKS
 * (handshake.h) or HTTP CONNECT (httphop.h), each hop its own, so a chain
 * may mix them in any order. Whatever the protocol, no byte after
 * the last proxy's reply is consumed: it belongs to the application. */
#ifndef SOCKSIFY_TUNNEL_H
#define SOCKSIFY_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "endpoint.h"
#include "handshake.h"
#include "httphop.h"
#include "netio.h"

struct tunnel_result {
	struct endpoint bound; /* last hop's BND.ADDR/PORT */
	int hop;	       /* index of the proxy that failed, or -1 */
	const char *why;       /* static text for the log when it failed */
	/* It failed while negotiating with proxy hop (after the TCP connect
	 * to the first proxy): a reply, a reset or a timeout of that hop. */
	bool negotiating;
};

/* The proxies a run goes through, and the latest time any of its deadlines
 * may be (0: none besides the configured timeouts). A group's members
 * share one such limit, so failing over never extends a connect. */
struct tunnel_path {
	const struct proxy *hops;
	unsigned count;
	uint64_t limit_ms;
	unsigned connect_ms; /* TCP connect timeout; 0: connect_timeout */
};

enum tunnel_phase {
	TUNNEL_CONNECTING, /* TCP connect to proxies[0] in progress */
	TUNNEL_HOP,	   /* negotiating with proxies[hop] */
	TUNNEL_DONE,
	TUNNEL_FAILED,
};

/* The state of the current hop's negotiation, one member per protocol. */
union tunnel_hop {
	struct handshake socks; /* SOCKS4, SOCKS4a, SOCKS5, SOCKS5h */
	struct httphop http;	/* HTTP CONNECT */
};

struct tunnel_protocol; /* one hop's protocol; defined in tunnel.c */

/* tunnel_run_init_path() sets every field but state (a new field must be
 * set there too). */
struct tunnel_run {
	const struct config *cfg; /* read-only; must outlive the run */
	struct tunnel_path path;  /* its hops live in cfg */
	struct endpoint dest;
	enum handshake_cmd cmd;
	enum tunnel_phase phase;
	unsigned hop;
	uint64_t deadline_ms; /* of the current phase (netio_now_ms time) */
	const struct tunnel_protocol *protocol; /* proxies[hop]'s */
	union tunnel_hop state;			/* the current hop's */
	struct tunnel_result res;
	int error;	  /* positive errno once TUNNEL_FAILED */
	bool hop_ready;	  /* the current hop's request could be made */
	bool unconfirmed; /* Fast Open: connect not known to be done */
};

/* tunnel_run_init() through path (copied) instead of the default chain. */
void tunnel_run_init_path(struct tunnel_run *tr, const struct config *cfg,
			  const struct tunnel_path *path,
			  const struct endpoint *dest, enum handshake_cmd cmd,
			  uint64_t now_ms);

/* Prepare tr for dest (copied) through cfg's chain. Deadlines:
 * cfg->connect_timeout_ms from now_ms for the TCP connect to proxies[0],
 * then cfg->handshake_timeout_ms for all hops together. The caller either
 * has just started that connect itself (it returned EINPROGRESS) or calls
 * tunnel_run_connect() next. */
void tunnel_run_init(struct tunnel_run *tr, const struct config *cfg,
		     const struct endpoint *dest, enum handshake_cmd cmd,
		     uint64_t now_ms);

/* Start the TCP connect to proxies[0] (at sa, in fd's family) on fd, which
 * must be non-blocking: netio_connect_start()'s rules. Returns 0 (connected
 * or under way: step on) or -errno (the run failed). */
int tunnel_run_connect(struct tunnel_run *tr, const struct socket_io *io,
		       int fd, const struct sockaddr *sa, socklen_t len);

/* Start the TCP connect to proxies[0] with netio_fastopen_start(), on fd
 * in any blocking mode, and go on with the first hop at once: its first
 * send() (with io's send, which must not block: MSG_DONTWAIT) confirms the
 * connect or reports its error, still worded and timed as the connect's.
 * Saves the poll and SO_ERROR of a connect, and the two fcntl() calls
 * around it on a blocking socket. A SOCKS5 first hop's opening goes in the
 * SYN where the kernel has the proxy's Fast Open cookie (a proxy with
 * server-side Fast Open): its first reply then comes a round trip sooner;
 * the connect counts as confirmed once that reply's first byte arrives.
 * Returns 0 (step on), -EOPNOTSUPP with
 * tr untouched when Fast Open is unavailable (tunnel_run_connect() on a
 * non-blocking fd then), or -errno (the run failed). */
int tunnel_run_fastopen(struct tunnel_run *tr, const struct socket_io *io,
			int fd, const struct sockaddr *sa, socklen_t len);

/* Advance without blocking on fd (non-blocking, or every io call made
 * non-blocking by io). Returns 0 when the chain is open (tr->res.bound is
 * set), -EAGAIN with *events = POLLIN or POLLOUT, or -errno (tr->res.why
 * says why; -ETIMEDOUT once now_ms reaches the deadline). After the end,
 * every call returns the same result. */
int tunnel_run_step(struct tunnel_run *tr, const struct socket_io *io, int fd,
		    uint64_t now_ms, short *events);

/* Free what an unfinished run holds (a GSS-API hop's state), for a caller
 * that drops tr before its end (a race's slower lanes). Safe on any run. */
void tunnel_run_release(struct tunnel_run *tr);

/* The time by which the next step must happen, else the run times out. */
uint64_t tunnel_run_deadline(const struct tunnel_run *tr);

/* The deadline of a wait for the proxy's bytes that happens inside a step
 * (a recv() that itself waits, netio.h's recv_waits): as
 * tunnel_run_deadline(), except that a Fast Open run whose first bytes are
 * sent is confirmed here, its handshake deadline starting at now_ms,
 * rather than at the step's end (a step that waits may not end for a
 * while). */
uint64_t tunnel_run_wait_deadline(struct tunnel_run *tr, uint64_t now_ms);

/* End the run from outside because waiting for fd failed with err
 * (positive), worded for the phase it was in. Returns -err, or the run's
 * result when it had already ended. */
int tunnel_run_abandon(struct tunnel_run *tr, int err);

/* Drive a started run (tunnel_run_connect() or tunnel_run_fastopen()
 * returned 0) to its end, blocking: wait for a connect in progress, then
 * netio_drive() over tunnel_run_step(). Returns 0 or -errno. */
int tunnel_run_finish(struct tunnel_run *tr, const struct socket_io *io,
		      int fd);

/* The whole chain, blocking: tunnel_run_connect(), then netio_drive() over
 * tunnel_run_step(). fd must be non-blocking (the caller saves and restores
 * its flags). first_proxy is proxies[0]'s resolved address, in fd's family.
 * dest is an IP or a name; a name is sent only to a hop that takes names
 * (the last, normally). Returns 0 or -errno; res is filled either way. */
int tunnel_open(const struct socket_io *io, const struct config *cfg, int fd,
		const struct sockaddr *first_proxy, socklen_t first_len,
		const struct endpoint *dest, enum handshake_cmd cmd,
		struct tunnel_result *res);

/* tunnel_open() through path instead of the default chain; first_proxy
 * is path->hops[0]'s address. */
int tunnel_open_path(const struct socket_io *io, const struct config *cfg,
		     const struct tunnel_path *path, int fd,
		     const struct sockaddr *first_proxy, socklen_t first_len,
		     const struct endpoint *dest, enum handshake_cmd cmd,
		     struct tunnel_result *res);

#endif
