/* udpassoc.h — setting up a SOCKS5 UDP association (RFC 1928 sections 4, 6
 * and 7) over a control connection, and the address arithmetic around it:
 * what to put in the request, where the relay is, which received datagrams
 * came from it. The I/O comes in through struct socket_io. */
#ifndef SOCKSIFY_UDPASSOC_H
#define SOCKSIFY_UDPASSOC_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "endpoint.h"
#include "group.h"
#include "netio.h"

/* What the association's set-up produced. */
struct udpassoc_result {
	struct endpoint relay; /* BND.ADDR/PORT, a wildcard made the proxy's */
	const char *why;       /* static text for the log when it failed */
};

/* The UDP policy in force for datagrams routed via the default chain:
 * udpassoc_target_mode() for it. */
enum udp_mode udpassoc_mode(const struct config *cfg);

/* True when cfg->chains[chain] can carry UDP: exactly one hop, a SOCKS5
 * one (UDP ASSOCIATE exists only in SOCKS5, and its relay is reached
 * directly, so it cannot cross earlier hops). */
bool udpassoc_chain_carries(const struct config *cfg, unsigned chain);

/* What UDP that a rule routes to target does: UDP_DIRECT under "udp
 * direct"; UDP_BLOCK under an explicit "udp block", or when no chain of
 * target (a chain, or any member of a group, at any depth) carries UDP;
 * else UDP_PROXY. So "udp auto" (and "udp proxy") decide per chain or
 * group, and a UDP_AUTO not yet turned by config_finish() works too. */
enum udp_mode udpassoc_target_mode(const struct config *cfg,
				   struct route_target target);

/* The chain a new association for target goes through: the first chain
 * of plan (group_plan() for target, which leaves down members out unless
 * all are down) that carries UDP; when every chain that carries UDP is
 * down, the first of them in target's own order. Returns its index in
 * cfg->chains, or -EOPNOTSUPP when none carries UDP. */
int udpassoc_pick_chain(const struct config *cfg, const struct group_plan *plan,
			struct route_target target);

/* The DST.ADDR/DST.PORT of the request for a UDP socket bound to local: its
 * address and port, a v4-mapped address as IPv4, a wildcard as 0.0.0.0 or
 * ::. Returns 0 or -EAFNOSUPPORT / -EINVAL (not an IP address). */
int udpassoc_request_dest(const struct sockaddr *local, socklen_t len,
			  struct endpoint *dest);

/* Connect the control socket control (non-blocking, not connected) to
 * proxy (the only hop of cfg->chains[chain], its address in control's
 * family) and ask for an association for local (from
 * udpassoc_request_dest()). Needs a chain of exactly one SOCKS5 proxy
 * (-EOPNOTSUPP otherwise). Uses cfg's timeouts
 * and authentication. A wildcard local address is sent in the proxy's
 * family (0.0.0.0 to an IPv4 proxy). A relay of 0.0.0.0 or :: means the
 * proxy's own address. Returns 0 with res->relay set, or -errno with res->why
 * set. */
int udpassoc_open(const struct socket_io *io, const struct config *cfg,
		  unsigned chain, int control, const struct sockaddr *proxy,
		  socklen_t proxy_len, const struct endpoint *local,
		  struct udpassoc_result *res);

/* The relay as a socket address of family (an IPv4 relay becomes
 * ::ffff:a.b.c.d for AF_INET6). Returns the length, or -EAFNOSUPPORT (an
 * IPv6 relay for an AF_INET socket, or a name). */
int udpassoc_relay_sockaddr(const struct endpoint *relay, int family,
			    struct sockaddr_storage *ss);

/* True when from (a received datagram's source) is the relay address
 * relay (as built by udpassoc_relay_sockaddr): same family, address and
 * port; other fields (flow info, scope) are ignored. */
bool udpassoc_is_relay(const struct sockaddr *from, socklen_t from_len,
		       const struct sockaddr *relay, socklen_t relay_len);

#endif
