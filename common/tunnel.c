/* tunnel.c — the proxy chain as one resumable machine (one helper per
 * phase: the TCP connect, a hop's negotiation), its blocking driver, and
 * the hop protocols it can speak. */
#include "tunnel.h"

#include <errno.h>
#include <string.h>

/* ---- hop protocols ---- */

/* What the chain needs of one hop's protocol. A new kind of proxy
 * (GSSAPI, ...) adds its state to union tunnel_hop, one table like
 * tunnel_socks below, and a case in tunnel_protocol_of(); the chain, its
 * deadlines and both drivers stay as they are. */
struct tunnel_protocol {
	/* Prepare to ask proxy for want with cmd; sends nothing. A request
	 * that cannot be made fails at the first step; init() says so at
	 * once by returning false. */
	bool (*init)(union tunnel_hop *hop, const struct proxy *proxy,
		     const struct endpoint *want, enum handshake_cmd cmd);
	/* True once the hop has sent a byte to its proxy. */
	bool (*sent)(const union tunnel_hop *hop);
	/* handshake_step()'s contract: 0 done, -EAGAIN with *events, or
	 * -errno (outcome() then says why). */
	int (*step)(union tunnel_hop *hop, const struct socket_io *io, int fd,
		    short *events);
	/* handshake_abandon()'s contract: end the hop with -err because its
	 * deadline passed (ETIMEDOUT) or waiting failed; outcome() says
	 * which. */
	int (*abandon)(union tunnel_hop *hop, int err);
	/* Copy the hop's outcome into res: why (static text for the log)
	 * once it failed, the address the proxy bound once it is done. */
	void (*outcome)(const union tunnel_hop *hop, struct tunnel_result *res);
	/* handshake_opening() and handshake_sent_early(): the first bytes,
	 * to ride in the SYN. NULL: the hop opens after the connect. */
	size_t (*opening)(union tunnel_hop *hop, const uint8_t **bytes);
	void (*sent_early)(union tunnel_hop *hop, size_t n);
};

static bool socks_init(union tunnel_hop *hop, const struct proxy *proxy,
		       const struct endpoint *want, enum handshake_cmd cmd)
{
	handshake_init(&hop->socks, proxy, want, cmd);
	return hop->socks.state != HS_FAILED;
}

static bool socks_sent(const union tunnel_hop *hop)
{
	return hop->socks.sent_any;
}

static int socks_step(union tunnel_hop *hop, const struct socket_io *io, int fd,
		      short *events)
{
	return handshake_step(&hop->socks, io, fd, events);
}

static int socks_abandon(union tunnel_hop *hop, int err)
{
	return handshake_abandon(&hop->socks, err);
}

static void socks_outcome(const union tunnel_hop *hop,
			  struct tunnel_result *res)
{
	if (hop->socks.state == HS_DONE)
		res->bound = hop->socks.bound;
	else
		res->why = hop->socks.why;
}

static size_t socks_opening(union tunnel_hop *hop, const uint8_t **bytes)
{
	return handshake_opening(&hop->socks, bytes);
}

static void socks_sent_early(union tunnel_hop *hop, size_t n)
{
	handshake_sent_early(&hop->socks, n);
}

static const struct tunnel_protocol tunnel_socks = {
    .init = socks_init,
    .sent = socks_sent,
    .step = socks_step,
    .abandon = socks_abandon,
    .outcome = socks_outcome,
    .opening = socks_opening,
    .sent_early = socks_sent_early,
};

static bool http_init(union tunnel_hop *hop, const struct proxy *proxy,
		      const struct endpoint *want, enum handshake_cmd cmd)
{
	httphop_init(&hop->http, proxy, want, cmd);
	return hop->http.state != HTTPHOP_FAILED;
}

static bool http_sent(const union tunnel_hop *hop)
{
	return hop->http.sent_any;
}

static int http_step(union tunnel_hop *hop, const struct socket_io *io, int fd,
		     short *events)
{
	return httphop_step(&hop->http, io, fd, events);
}

static int http_abandon(union tunnel_hop *hop, int err)
{
	return httphop_abandon(&hop->http, err);
}

/* CONNECT's reply names no bound address: bound stays ENDPOINT_NONE. */
static void http_outcome(const union tunnel_hop *hop, struct tunnel_result *res)
{
	if (hop->http.state == HTTPHOP_DONE)
		memset(&res->bound, 0, sizeof(res->bound));
	else
		res->why = hop->http.why;
}

static const struct tunnel_protocol tunnel_http = {
    .init = http_init,
    .sent = http_sent,
    .step = http_step,
    .abandon = http_abandon,
    .outcome = http_outcome,
};

/* The protocol proxy speaks. */
static const struct tunnel_protocol *tunnel_protocol_of(const struct proxy *p)
{
	return proxy_is_http(p) ? &tunnel_http : &tunnel_socks;
}

/* ---- the machine ---- */

void tunnel_run_release(struct tunnel_run *tr)
{
	if (tr->phase == TUNNEL_HOP && tr->protocol == &tunnel_socks)
		handshake_release(&tr->state.socks);
}

/* Record a failure and return -err; every later step returns it too. */
static int run_fail(struct tunnel_run *tr, int err, const char *why)
{
	tr->phase = TUNNEL_FAILED;
	tr->error = err;
	tr->res.why = why;
	return -err;
}

/* Why the TCP connect to the first proxy failed, for the log: a refusal
 * means nothing listens there, so say what to check. */
static const char *run_connect_why(int err)
{
	if (err == ECONNREFUSED)
		return "connecting to the proxy failed: connection refused "
		       "(is the proxy running at that address? check with: "
		       "socksify doctor)";
	return "connecting to the proxy failed";
}

/* The current hop failed with -err: record it with the hop's reason. */
static int run_hop_failed(struct tunnel_run *tr, int err)
{
	run_fail(tr, err, NULL);
	tr->res.negotiating = true;
	tr->protocol->outcome(&tr->state, &tr->res);
	return -err;
}

/* Begin negotiating with proxies[hop]: what it is asked for is the next
 * proxy, or the destination at the last hop. A name goes only to a proxy
 * that resolves names: a local-DNS proxy (socks4://, socks5://) would need
 * us to resolve it, which the caller does before we are reached for the
 * final destination. Returns 0 or -errno. */
static int run_start_hop(struct tunnel_run *tr)
{
	const struct proxy *p = &tr->path.hops[tr->hop];
	bool last = tr->hop + 1 == tr->path.count;
	const struct endpoint *want =
	    last ? &tr->dest : &tr->path.hops[tr->hop + 1].addr;

	tr->phase = TUNNEL_HOP;
	tr->res.hop = (int)tr->hop;
	if (want->kind == ENDPOINT_NAME && !proxy_sends_names(p))
		return run_fail(tr, EHOSTUNREACH,
				"proxy cannot carry host names (it is a "
				"local-DNS socks4:// or socks5:// proxy)");
	tr->protocol = tunnel_protocol_of(p);
	tr->hop_ready = tr->protocol->init(&tr->state, p, want,
					   last ? tr->cmd : HANDSHAKE_CONNECT);
	return 0;
}

/* now_ms + ms, but no later than the path's limit. */
static uint64_t run_deadline(const struct tunnel_run *tr, uint64_t now_ms,
			     unsigned ms)
{
	uint64_t at = now_ms + ms;

	return tr->path.limit_ms && tr->path.limit_ms < at ? tr->path.limit_ms
							   : at;
}

void tunnel_run_init_path(struct tunnel_run *tr, const struct config *cfg,
			  const struct tunnel_path *path,
			  const struct endpoint *dest, enum handshake_cmd cmd,
			  uint64_t now_ms)
{
	/* Field by field, not a memset of the whole run: the hop's state
	 * (most of it, two buffers) is made by its protocol's init when the
	 * hop starts, and nothing reads it before (phase TUNNEL_HOP). */
	tr->cfg = cfg;
	tr->path = *path;
	tr->dest = *dest;
	tr->cmd = cmd;
	tr->phase = TUNNEL_CONNECTING;
	tr->hop = 0;
	tr->deadline_ms = run_deadline(
	    tr, now_ms,
	    path->connect_ms ? path->connect_ms : cfg->connect_timeout_ms);
	tr->protocol = NULL;
	memset(&tr->res, 0, sizeof(tr->res)); /* res.bound: ENDPOINT_NONE */
	tr->res.hop = -1;
	tr->error = 0;
	tr->hop_ready = false;
	tr->unconfirmed = false;
	if (path->count == 0 || path->count > CONFIG_MAX_PROXIES) {
		run_fail(tr, EINVAL, "no proxy is configured");
		return;
	}
	tr->res.hop = 0;
}

void tunnel_run_init(struct tunnel_run *tr, const struct config *cfg,
		     const struct endpoint *dest, enum handshake_cmd cmd,
		     uint64_t now_ms)
{
	const struct tunnel_path path = {cfg->proxies, cfg->proxy_count, 0, 0};

	tunnel_run_init_path(tr, cfg, &path, dest, cmd, now_ms);
}

/* The TCP connect is over: the handshake deadline, covering all hops,
 * starts now. */
static int run_connected(struct tunnel_run *tr, uint64_t now_ms)
{
	tr->deadline_ms =
	    run_deadline(tr, now_ms, tr->cfg->handshake_timeout_ms);
	return run_start_hop(tr);
}

int tunnel_run_connect(struct tunnel_run *tr, const struct socket_io *io,
		       int fd, const struct sockaddr *sa, socklen_t len)
{
	int rc;

	if (tr->phase != TUNNEL_CONNECTING)
		return tr->phase == TUNNEL_FAILED ? -tr->error : 0;
	rc = netio_connect_start(io, fd, sa, len);
	if (rc == -EINPROGRESS)
		return 0;
	if (rc < 0)
		return run_fail(tr, -rc, run_connect_why(-rc));
	return run_connected(tr, netio_now_ms());
}

/* Fast Open: the first hop starts at once, and its first send() says
 * whether the connect went through (see run_unconfirmed). A hop
 * whose request cannot be made fails as it would after a connect. */
int tunnel_run_fastopen(struct tunnel_run *tr, const struct socket_io *io,
			int fd, const struct sockaddr *sa, socklen_t len)
{
	const uint8_t *opening = NULL;
	size_t length = 0, early = 0;
	int rc;

	if (tr->phase != TUNNEL_CONNECTING)
		return tr->phase == TUNNEL_FAILED ? -tr->error : 0;
	/* The first hop is made first (it touches no socket), so that its
	 * opening can ride in the SYN where the kernel holds a cookie. */
	rc = run_start_hop(tr);
	if (rc < 0)
		return rc;
	if (tr->hop_ready && tr->protocol->opening)
		length = tr->protocol->opening(&tr->state, &opening);
	rc = netio_fastopen_start(io, fd, sa, len, opening, length, &early);
	if (rc == -EOPNOTSUPP) {
		/* tr is as it was: tunnel_run_connect() next, which makes
		 * the hop again (making it allocated nothing). */
		tr->phase = TUNNEL_CONNECTING;
		return rc;
	}
	if (rc != -EINPROGRESS)
		return run_fail(tr, -rc, run_connect_why(-rc));
	if (early > 0)
		tr->protocol->sent_early(&tr->state, early);
	tr->unconfirmed = tr->hop_ready;
	return 0;
}

/* TUNNEL_CONNECTING: done once fd polls writable (or in error). Returns 0
 * when connected, -EAGAIN with *events = POLLOUT, or -errno. */
static int run_connecting(struct tunnel_run *tr, const struct socket_io *io,
			  int fd, uint64_t now_ms, short *events)
{
	int rc = netio_connect_result(io, fd);

	if (rc == -EAGAIN) {
		*events = POLLOUT;
		return rc;
	}
	if (rc < 0)
		return run_fail(tr, -rc, run_connect_why(-rc));
	return run_connected(tr, now_ms);
}

/* A Fast Open run whose first hop has sent bytes: the connect went
 * through, and the handshake deadline starts at now_ms. Returns whether
 * that is so (or was already). */
static bool run_confirm(struct tunnel_run *tr, uint64_t now_ms)
{
	if (!tr->unconfirmed)
		return true;
	if (!tr->protocol->sent(&tr->state))
		return false;
	tr->unconfirmed = false;
	tr->deadline_ms =
	    run_deadline(tr, now_ms, tr->cfg->handshake_timeout_ms);
	return true;
}

/* The first hop of a Fast Open run, before any of its bytes was sent: the
 * TCP connect's outcome is not known yet, its deadline still runs, and a
 * failure to send is the connect's failure (worded and counted as one:
 * the proxy, not its answer). The first byte sent ends the connect phase,
 * and the handshake deadline starts then. Returns rc, or the connect
 * failure. */
static int run_unconfirmed(struct tunnel_run *tr, uint64_t now_ms, int rc)
{
	if (run_confirm(tr, now_ms))
		return rc;
	if (rc == -EAGAIN || rc == 0)
		return rc;
	tr->protocol->abandon(&tr->state, -rc);
	return run_fail(tr, -rc, run_connect_why(-rc));
}

/* TUNNEL_HOP: one step of the current hop; on its end, the next hop or the
 * end of the chain. */
static int run_hop(struct tunnel_run *tr, const struct socket_io *io, int fd,
		   uint64_t now_ms, short *events)
{
	int rc = tr->protocol->step(&tr->state, io, fd, events);

	if (tr->unconfirmed) {
		/* A step whose recv() waits may have lasted long: a
		 * handshake deadline confirmed now starts now. */
		rc = run_unconfirmed(
		    tr, io->recv_waits ? netio_now_ms() : now_ms, rc);
		if (tr->phase == TUNNEL_FAILED)
			return rc;
	}
	if (rc == -EAGAIN)
		return rc;
	if (rc < 0)
		return run_hop_failed(tr, -rc);
	tr->protocol->outcome(&tr->state, &tr->res);
	if (++tr->hop == tr->path.count) {
		tr->phase = TUNNEL_DONE;
		tr->res.hop = -1;
		tr->res.why = NULL;
		return 0;
	}
	return run_start_hop(tr);
}

int tunnel_run_abandon(struct tunnel_run *tr, int err)
{
	switch (tr->phase) {
	case TUNNEL_CONNECTING:
		return run_fail(tr, err,
				err == ETIMEDOUT
				    ? "connecting to the proxy timed out"
				    : run_connect_why(err));
	case TUNNEL_HOP:
		tr->protocol->abandon(&tr->state, err);
		if (tr->unconfirmed)
			return run_fail(
			    tr, err,
			    err == ETIMEDOUT
				? "connecting to the proxy timed out"
				: run_connect_why(err));
		return run_hop_failed(tr, err);
	case TUNNEL_DONE:
		return 0;
	case TUNNEL_FAILED:
		break;
	}
	return -tr->error;
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
			rc = run_hop(tr, io, fd, now_ms, events);
			break;
		}
		if (rc == -EAGAIN && now_ms >= tr->deadline_ms)
			return tunnel_run_abandon(tr, ETIMEDOUT);
		if (rc < 0 || tr->phase == TUNNEL_DONE)
			return rc;
	}
}

uint64_t tunnel_run_deadline(const struct tunnel_run *tr)
{
	return tr->deadline_ms;
}

uint64_t tunnel_run_wait_deadline(struct tunnel_run *tr, uint64_t now_ms)
{
	if (tr->phase == TUNNEL_HOP)
		run_confirm(tr, now_ms);
	return tr->deadline_ms;
}

/* ---- the blocking driver ---- */

static int run_job_step(void *job, const struct socket_io *io, int fd,
			uint64_t now_ms, short *events)
{
	return tunnel_run_step(job, io, fd, now_ms, events);
}

static uint64_t run_job_deadline(const void *job)
{
	return tunnel_run_deadline(job);
}

static int run_job_abandon(void *job, int err)
{
	return tunnel_run_abandon(job, err);
}

static const struct netio_job tunnel_run_job = {
    .step = run_job_step,
    .deadline = run_job_deadline,
    .abandon = run_job_abandon,
};

/* The connect in progress polled ready (writable, or in error): its
 * outcome is SO_ERROR; no second poll. Returns 0 or -errno (tr failed). */
static int run_connect_outcome(struct tunnel_run *tr,
			       const struct socket_io *io, int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (io->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno ? errno : EIO;
	if (err)
		return run_fail(tr, err, run_connect_why(err));
	return run_connected(tr, netio_now_ms());
}

/* A connect in progress cannot be done yet: wait before the first step
 * rather than ask the kernel twice, then read its outcome once. */
int tunnel_run_finish(struct tunnel_run *tr, const struct socket_io *io, int fd)
{
	int rc = 0;

	if (tr->phase == TUNNEL_CONNECTING) {
		rc = netio_wait(io, fd, POLLOUT, tr->deadline_ms);
		if (rc == 0)
			rc = run_connect_outcome(tr, io, fd);
		else if (rc == -ETIMEDOUT)
			rc = 0; /* the next step's to report */
		else
			return tunnel_run_abandon(tr, -rc);
	}
	if (rc < 0)
		return rc;
	return netio_drive(&tunnel_run_job, tr, io, fd);
}

int tunnel_open_path(const struct socket_io *io, const struct config *cfg,
		     const struct tunnel_path *path, int fd,
		     const struct sockaddr *first_proxy, socklen_t first_len,
		     const struct endpoint *dest, enum handshake_cmd cmd,
		     struct tunnel_result *res)
{
	struct tunnel_run tr;
	int rc;

	tunnel_run_init_path(&tr, cfg, path, dest, cmd, netio_now_ms());
	rc = tunnel_run_connect(&tr, io, fd, first_proxy, first_len);
	if (rc == 0)
		rc = tunnel_run_finish(&tr, io, fd);
	*res = tr.res;
	return rc;
}

int tunnel_open(const struct socket_io *io, const struct config *cfg, int fd,
		const struct sockaddr *first_proxy, socklen_t first_len,
		const struct endpoint *dest, enum handshake_cmd cmd,
		struct tunnel_result *res)
{
	const struct tunnel_path path = {cfg->proxies, cfg->proxy_count, 0, 0};

	return tunnel_open_path(io, cfg, &path, fd, first_proxy, first_len,
				dest, cmd, res);
}
