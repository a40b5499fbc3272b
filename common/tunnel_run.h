/* tunnel_run.h — the proxy chain of tunnel.h as a resumable machine, for
 * connects that must not block: the caller starts the TCP connect to the
 * first proxy itself (it returns EINPROGRESS), then calls tunnel_run_step()
 * whenever the socket is ready for what the last step asked, until it
 * returns 0 or an error. Nothing here sleeps or polls with a timeout.
 *
 * The same handshake machine as the synchronous path drives every hop, so
 * pipelining and authentication behave alike, and no byte after the last
 * proxy's reply is consumed (it belongs to the application). */
#ifndef SOCKSIFY_TUNNEL_RUN_H
#define SOCKSIFY_TUNNEL_RUN_H

#include <stdint.h>

#include "config.h"
#include "handshake.h"
#include "netio.h"
#include "tunnel.h"

enum tunnel_phase {
	TUNNEL_CONNECTING, /* TCP connect to proxies[0] in progress */
	TUNNEL_HOP,	   /* negotiating with proxies[hop] */
	TUNNEL_DONE,
	TUNNEL_FAILED,
};

struct tunnel_run {
	const struct config *cfg; /* read-only; must outlive the run */
	struct endpoint dest;
	enum handshake_cmd cmd;
	enum tunnel_phase phase;
	unsigned hop;
	uint64_t deadline_ms; /* of the current phase (netio_now_ms time) */
	struct handshake hs;  /* the current hop's negotiation */
	struct tunnel_result res;
	int error; /* positive errno once TUNNEL_FAILED */
};

/* Prepare tr for dest (copied) through cfg's chain; the caller has just
 * started the TCP connect to proxies[0] at now_ms. */
void tunnel_run_init(struct tunnel_run *tr, const struct config *cfg,
		     const struct endpoint *dest, enum handshake_cmd cmd,
		     uint64_t now_ms);

/* Advance without blocking on fd (non-blocking, or every io call made
 * non-blocking by io). Returns 0 when the chain is open (tr->res.bound is
 * set), -EAGAIN with *events = POLLIN or POLLOUT, or -errno (tr->res.why
 * says why; -ETIMEDOUT once now_ms reaches the deadline). After the end,
 * every call returns the same result. */
int tunnel_run_step(struct tunnel_run *tr, const struct socket_io *io, int fd,
		    uint64_t now_ms, short *events);

/* The time by which the next step must happen, else the run times out. */
uint64_t tunnel_run_deadline(const struct tunnel_run *tr);

#endif
