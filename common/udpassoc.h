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
#include "netio.h"

/* What the association's set-up produced. */
struct udpassoc_result {
	struct endpoint relay; /* BND.ADDR/PORT, a wildcard made the proxy's */
	const char *why;       /* static text for the log when it failed */
};

/* The UDP policy in force for datagrams routed via the proxy: cfg's
 * udp_mode, with UDP_AUTO decided the way config_finish() does (one SOCKS5
 * proxy: UDP_PROXY; a chain or SOCKS4: UDP_BLOCK). */
enum udp_mode udpassoc_mode(const struct config *cfg);

/* The DST.ADDR/DST.PORT of the request for a UDP socket bound to local: its
 * address and port, a v4-mapped address as IPv4, a wildcard as 0.0.0.0 or
 * ::. Returns 0 or -EAFNOSUPPORT / -EINVAL (not an IP address). */
int udpassoc_request_dest(const struct sockaddr *local, socklen_t len,
			  struct endpoint *dest);

/* Connect the control socket control (non-blocking, not connected) to
 * proxy (cfg->proxies[0]'s address, of control's family) and ask for an
 * association for local (from udpassoc_request_dest()). Needs a chain of
 * exactly one SOCKS5 proxy (-EOPNOTSUPP otherwise). Uses cfg's timeouts
 * and authentication. A wildcard local address is sent in the proxy's
 * family (0.0.0.0 to an IPv4 proxy). A relay of 0.0.0.0 or :: means the
 * proxy's own address. Returns 0 with res->relay set, or -errno with res->why
 * set. */
int udpassoc_open(const struct socket_io *io, const struct config *cfg,
		  int control, const struct sockaddr *proxy,
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
