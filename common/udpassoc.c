/* udpassoc.c — a UDP association on a control connection: the TCP connect
 * and UDP ASSOCIATE request go through tunnel_open(), which brings the
 * chain's authentication and deadlines; this file adds the policy checks
 * and the relay address rules of RFC 1928 section 7. */
#include "udpassoc.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "tunnel.h"

bool udpassoc_chain_carries(const struct config *cfg, unsigned chain)
{
	unsigned count;
	const struct proxy *hops = config_chain_hops(cfg, chain, &count);

	return count == 1 && proxy_is_socks5(&hops[0]);
}

/* The first chain of target, in its members' order (groups expanded in
 * place), that carries UDP, or -EOPNOTSUPP. Groups hold only groups
 * defined before them, so the walk ends. */
static int udpassoc_first_carrier(const struct config *cfg,
				  struct route_target target)
{
	const struct group *g;
	unsigned i;
	int chain;

	if (target.kind == TARGET_CHAIN)
		return target.index < cfg->chain_count &&
			       udpassoc_chain_carries(cfg, target.index)
			   ? (int)target.index
			   : -EOPNOTSUPP;
	if (target.index >= cfg->group_count)
		return -EOPNOTSUPP;
	g = &cfg->groups[target.index];
	for (i = 0; i < g->member_count; i++) {
		chain = udpassoc_first_carrier(cfg, g->members[i]);
		if (chain >= 0)
			return chain;
	}
	return -EOPNOTSUPP;
}

enum udp_mode udpassoc_target_mode(const struct config *cfg,
				   struct route_target target)
{
	if (cfg->udp_mode == UDP_DIRECT)
		return UDP_DIRECT;
	if (cfg->udp_mode == UDP_BLOCK && !cfg->udp_auto)
		return UDP_BLOCK;
	return udpassoc_first_carrier(cfg, target) >= 0 ? UDP_PROXY : UDP_BLOCK;
}

enum udp_mode udpassoc_mode(const struct config *cfg)
{
	struct route_target def = {TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};

	return udpassoc_target_mode(cfg, def);
}

int udpassoc_pick_chain(const struct config *cfg, const struct group_plan *plan,
			struct route_target target)
{
	unsigned i;

	for (i = 0; i < plan->count; i++)
		if (udpassoc_chain_carries(cfg, plan->chains[i]))
			return (int)plan->chains[i];
	return udpassoc_first_carrier(cfg, target);
}

/* True when ep is 0.0.0.0 or :: (any port). */
static bool udpassoc_is_wildcard(const struct endpoint *ep)
{
	static const uint8_t zero[16];

	if (ep->kind == ENDPOINT_IPV4)
		return memcmp(ep->u.ipv4, zero, 4) == 0;
	if (ep->kind == ENDPOINT_IPV6)
		return memcmp(ep->u.ipv6, zero, 16) == 0;
	return false;
}

int udpassoc_request_dest(const struct sockaddr *local, socklen_t len,
			  struct endpoint *dest)
{
	/* endpoint_from_sockaddr() already turns ::ffff:a.b.c.d into IPv4;
	 * a wildcard address is sent as it is (all zeros). */
	return endpoint_from_sockaddr(dest, local, len);
}

/* Replace a wildcard relay address by the proxy's, keeping the port. */
static int udpassoc_fix_relay(struct endpoint *relay,
			      const struct sockaddr *proxy, socklen_t len)
{
	struct endpoint proxy_ep;
	uint16_t port = relay->port;

	if (!udpassoc_is_wildcard(relay))
		return 0;
	if (endpoint_from_sockaddr(&proxy_ep, proxy, len) < 0)
		return -EINVAL;
	*relay = proxy_ep;
	relay->port = port;
	return 0;
}

/* A wildcard local address is asked for in the proxy's family: a
 * dual-stack socket talking to an IPv4 proxy says 0.0.0.0, not ::, which
 * an IPv4-only server would refuse. */
static void udpassoc_local_for(struct endpoint *local,
			       const struct sockaddr *proxy, socklen_t len)
{
	struct endpoint proxy_ep;
	uint16_t port = local->port;

	if (!udpassoc_is_wildcard(local) ||
	    endpoint_from_sockaddr(&proxy_ep, proxy, len) < 0 ||
	    proxy_ep.kind == local->kind)
		return;
	memset(local, 0, sizeof(*local));
	local->kind = proxy_ep.kind;
	local->port = port;
}

int udpassoc_open(const struct socket_io *io, const struct config *cfg,
		  unsigned chain, int control, const struct sockaddr *proxy,
		  socklen_t proxy_len, const struct endpoint *local_in,
		  struct udpassoc_result *res)
{
	struct endpoint local = *local_in;
	struct tunnel_result tr;
	struct tunnel_path path = {.limit_ms = 0, .connect_ms = 0};
	int rc;

	memset(res, 0, sizeof(*res));
	path.hops = config_chain_hops(cfg, chain, &path.count);
	if (!udpassoc_chain_carries(cfg, chain)) {
		res->why = "UDP needs a single SOCKS5 proxy (no chain, no "
			   "SOCKS4)";
		return -EOPNOTSUPP;
	}
	udpassoc_local_for(&local, proxy, proxy_len);
	rc = tunnel_open_path(io, cfg, &path, control, proxy, proxy_len, &local,
			      HANDSHAKE_UDP_ASSOCIATE, &tr);
	if (rc < 0) {
		res->why = tr.why ? tr.why : "UDP ASSOCIATE failed";
		return rc;
	}
	res->relay = tr.bound;
	if (res->relay.kind == ENDPOINT_NAME || res->relay.port == 0) {
		res->why = "the proxy named no usable relay address";
		return -EPROTO;
	}
	rc = udpassoc_fix_relay(&res->relay, proxy, proxy_len);
	if (rc < 0)
		res->why = "the proxy's own address is unknown";
	return rc;
}

int udpassoc_relay_sockaddr(const struct endpoint *relay, int family,
			    struct sockaddr_storage *ss)
{
	socklen_t len;

	if (relay->kind != ENDPOINT_IPV4 && relay->kind != ENDPOINT_IPV6)
		return -EAFNOSUPPORT;
	len = endpoint_to_sockaddr(relay, family, ss);
	return len > 0 ? (int)len : -EAFNOSUPPORT;
}

bool udpassoc_is_relay(const struct sockaddr *from, socklen_t from_len,
		       const struct sockaddr *relay, socklen_t relay_len)
{
	const struct sockaddr_in *a4 = (const void *)from;
	const struct sockaddr_in *b4 = (const void *)relay;
	const struct sockaddr_in6 *a6 = (const void *)from;
	const struct sockaddr_in6 *b6 = (const void *)relay;

	if (from_len < sizeof(sa_family_t) || from_len < relay_len ||
	    from->sa_family != relay->sa_family)
		return false;
	if (relay->sa_family == AF_INET)
		return relay_len >= sizeof(*b4) &&
		       a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (relay->sa_family == AF_INET6)
		return relay_len >= sizeof(*b6) &&
		       a6->sin6_port == b6->sin6_port &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
	return false;
}
