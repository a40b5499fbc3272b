/* tunnel.c — a path through the proxy chain on the program's own socket:
 * one TCP connect to proxies[0], then one handshake per hop, hop i asking
 * for proxies[i + 1] and the last hop for the destination. */
#include "tunnel.h"

#include <errno.h>
#include <string.h>

/* What hop i of cfg's chain must ask its proxy for. */
static const struct endpoint *tunnel_hop_dest(const struct config *cfg,
					      unsigned i,
					      const struct endpoint *dest)
{
	if (i + 1 < cfg->proxy_count)
		return &cfg->proxies[i + 1].addr;
	return dest;
}

/* Record a failure at hop (or -1 before any hop) and return -err. */
static int tunnel_fail(struct tunnel_result *res, int hop, int err,
		       const char *why)
{
	res->hop = hop;
	res->why = why;
	return -err;
}

/* TCP connect to the first proxy within cfg->connect_timeout_ms. */
static int tunnel_connect_first(const struct socket_io *io,
				const struct config *cfg, int fd,
				const struct sockaddr *sa, socklen_t len,
				struct tunnel_result *res)
{
	uint64_t deadline = netio_now_ms() + cfg->connect_timeout_ms;
	int rc = netio_connect(io, fd, sa, len, deadline);

	if (rc == -ETIMEDOUT)
		return tunnel_fail(res, 0, ETIMEDOUT,
				   "connecting to the proxy timed out");
	if (rc < 0)
		return tunnel_fail(res, 0, -rc,
				   "connecting to the proxy failed");
	return 0;
}

/* One hop's negotiation. A name goes only to a proxy that resolves names:
 * a local-DNS proxy (socks4://, socks5://) would need us to resolve it,
 * which the caller does before we are reached for the final destination. */
static int tunnel_hop(const struct socket_io *io, const struct config *cfg,
		      int fd, unsigned i, const struct endpoint *hop_dest,
		      enum handshake_cmd cmd, uint64_t deadline,
		      struct tunnel_result *res)
{
	const struct proxy *p = &cfg->proxies[i];
	struct handshake hs;
	int rc;

	if (hop_dest->kind == ENDPOINT_NAME && !proxy_sends_names(p))
		return tunnel_fail(res, (int)i, EHOSTUNREACH,
				   "proxy cannot carry host names (it is a "
				   "local-DNS socks4:// or socks5:// proxy)");
	handshake_init(&hs, p, hop_dest, cmd);
	rc = handshake_run(&hs, io, fd, deadline);
	if (rc < 0)
		return tunnel_fail(res, (int)i, -rc, hs.why);
	res->bound = hs.bound;
	return 0;
}

int tunnel_open(const struct socket_io *io, const struct config *cfg, int fd,
		const struct sockaddr *first_proxy, socklen_t first_len,
		const struct endpoint *dest, enum handshake_cmd cmd,
		struct tunnel_result *res)
{
	uint64_t deadline;
	unsigned i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->hop = -1;
	if (cfg->proxy_count == 0 || cfg->proxy_count > CONFIG_MAX_PROXIES)
		return tunnel_fail(res, -1, EINVAL, "no proxy is configured");
	rc = tunnel_connect_first(io, cfg, fd, first_proxy, first_len, res);
	if (rc < 0)
		return rc;
	deadline = netio_now_ms() + cfg->handshake_timeout_ms;
	for (i = 0; i < cfg->proxy_count; i++) {
		bool last = i + 1 == cfg->proxy_count;

		rc = tunnel_hop(io, cfg, fd, i, tunnel_hop_dest(cfg, i, dest),
				last ? cmd : HANDSHAKE_CONNECT, deadline, res);
		if (rc < 0)
			return rc;
	}
	res->hop = -1;
	res->why = NULL;
	return 0;
}
