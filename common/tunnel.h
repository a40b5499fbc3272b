/* tunnel.h — open a path through the configured proxy chain on a program's
 * own socket: TCP connect to the first proxy, then one handshake per hop. */
#ifndef SOCKSIFY_TUNNEL_H
#define SOCKSIFY_TUNNEL_H

#include <sys/socket.h>

#include "config.h"
#include "endpoint.h"
#include "handshake.h"
#include "netio.h"

struct tunnel_result {
	struct endpoint bound; /* last hop's BND.ADDR/PORT */
	int hop;	       /* index of the proxy that failed, or -1 */
	const char *why;       /* static text for the log when it failed */
};

/* fd must be non-blocking (the caller saves and restores its flags).
 * first_proxy is proxies[0]'s resolved address, in fd's family. dest is an
 * IP or a name; a name is sent only to a hop that takes names (the last,
 * normally). Deadlines: cfg->connect_timeout_ms for the TCP connect,
 * cfg->handshake_timeout_ms for all hops together.
 * Returns 0 or -errno; res is filled either way. */
int tunnel_open(const struct socket_io *io, const struct config *cfg, int fd,
		const struct sockaddr *first_proxy, socklen_t first_len,
		const struct endpoint *dest, enum handshake_cmd cmd,
		struct tunnel_result *res);

#endif
