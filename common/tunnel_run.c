/* tunnel_run.c — the resumable proxy chain: one phase helper each for the
 * TCP connect and the per-hop negotiation. */
#include "tunnel_run.h"

#include <errno.h>
#include <string.h>

/* Record a failure and return -err; every later step returns it too. */
static int run_fail(struct tunnel_run *tr, int err, const char *why)
{
	tr->phase = TUNNEL_FAILED;
	tr->error = err;
	tr->res.why = why;
	return -err;
}

/* Begin negotiating with proxies[hop]: what it is asked for is the next
 * proxy, or the destination at the last hop. A name goes only to a proxy
 * that resolves names. Returns 0 or -errno. */
static int run_start_hop(struct tunnel_run *tr)
{
	const struct config *cfg = tr->cfg;
	const struct proxy *p = &cfg->proxies[tr->hop];
	bool last = tr->hop + 1 == cfg->proxy_count;
	const struct endpoint *want =
	    last ? &tr->dest : &cfg->proxies[tr->hop + 1].addr;

	tr->phase = TUNNEL_HOP;
	tr->res.hop = (int)tr->hop;
	if (want->kind == ENDPOINT_NAME && !proxy_sends_names(p))
		return run_fail(tr, EHOSTUNREACH,
				"proxy cannot carry host names (it is a "
				"local-DNS socks4:// or socks5:// proxy)");
	handshake_init(&tr->hs, p, want, last ? tr->cmd : HANDSHAKE_CONNECT);
	return 0;
}

void tunnel_run_init(struct tunnel_run *tr, const struct config *cfg,
		     const struct endpoint *dest, enum handshake_cmd cmd,
		     uint64_t now_ms)
{
	memset(tr, 0, sizeof(*tr));
	tr->cfg = cfg;
	tr->dest = *dest;
	tr->cmd = cmd;
	tr->phase = TUNNEL_CONNECTING;
	tr->deadline_ms = now_ms + cfg->connect_timeout_ms;
	tr->res.hop = 0;
	if (cfg->proxy_count == 0 || cfg->proxy_count > CONFIG_MAX_PROXIES)
		run_fail(tr, EINVAL, "no proxy is configured");
}

/* The TCP connect: done once fd polls writable (or in error); its result is
 * SO_ERROR. Returns 0 when connected, -EAGAIN or -errno. */
static int run_connecting(struct tunnel_run *tr, const struct socket_io *io,
			  int fd, uint64_t now_ms, short *events)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0;

	if (io->poll(&pfd, 1, 0) == 0) {
		*events = POLLOUT;
		return -EAGAIN;
	}
	if (io->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno ? errno : EIO;
	if (err == 0 && (pfd.revents & (POLLERR | POLLHUP)))
		err = ECONNREFUSED;
	if (err)
		return run_fail(tr, err, "connecting to the proxy failed");
	tr->deadline_ms = now_ms + tr->cfg->handshake_timeout_ms;
	return run_start_hop(tr);
}

/* One step of the current hop; on its end, the next hop or the end. */
static int run_hop(struct tunnel_run *tr, const struct socket_io *io, int fd,
		   short *events)
{
	int rc = handshake_step(&tr->hs, io, fd, events);

	if (rc == -EAGAIN)
		return rc;
	if (rc < 0)
		return run_fail(tr, -rc, tr->hs.why);
	tr->res.bound = tr->hs.bound;
	if (++tr->hop == tr->cfg->proxy_count) {
		tr->phase = TUNNEL_DONE;
		tr->res.hop = -1;
		tr->res.why = NULL;
		return 0;
	}
	return run_start_hop(tr);
}

/* A deadline that passed ends the run with the phase's reason. */
static int run_timeout(struct tunnel_run *tr)
{
	if (tr->phase == TUNNEL_CONNECTING)
		return run_fail(tr, ETIMEDOUT,
				"connecting to the proxy timed out");
	return run_fail(tr, ETIMEDOUT, "the proxy's handshake timed out");
}

int tunnel_run_step(struct tunnel_run *tr, const struct socket_io *io, int fd,
		    uint64_t now_ms, short *events)
{
	int rc = -EINVAL;

	/* Bounded: each pass either returns or moves to a later phase or
	 * a later hop (at most CONFIG_MAX_PROXIES of them). */
	for (;;) {
		switch (tr->phase) {
		case TUNNEL_DONE:
			return 0;
		case TUNNEL_FAILED:
			return -tr->error;
		case TUNNEL_CONNECTING:
			rc = run_connecting(tr, io, fd, now_ms, events);
			break;
		case TUNNEL_HOP:
			rc = run_hop(tr, io, fd, events);
			break;
		}
		if (rc == -EAGAIN && now_ms >= tr->deadline_ms)
			return run_timeout(tr);
		if (rc < 0 || tr->phase == TUNNEL_DONE)
			return rc;
	}
}

uint64_t tunnel_run_deadline(const struct tunnel_run *tr)
{
	return tr->deadline_ms;
}
