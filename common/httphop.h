/* httphop.h — one HTTP CONNECT negotiation (one hop of a chain) as a
 * resumable machine with handshake.h's contract: each httphop_step() does
 * what it can without blocking and says what to wait for.
 *
 * The reply is read without taking a byte past its head: each piece is
 * first looked at with MSG_PEEK, the parser says where the head ends, and
 * only that much is then received. What follows belongs to the tunnel (the
 * application's data, or the next hop's negotiation). */
#ifndef SOCKSIFY_HTTPHOP_H
#define SOCKSIFY_HTTPHOP_H

#include <stddef.h>

#include "endpoint.h"
#include "handshake.h"
#include "httpconnect.h"
#include "netio.h"
#include "proxyurl.h"

enum httphop_state {
	HTTPHOP_SEND_REQUEST,
	HTTPHOP_RECV_REPLY,
	HTTPHOP_DONE,
	HTTPHOP_FAILED,
};

struct httphop {
	const struct proxy *proxy;
	enum httphop_state state;
	/* The request (its Basic credentials are wiped once sent). */
	char out[HTTPCONNECT_REQUEST_MAX];
	size_t out_len, out_sent;
	bool sent_any; /* a byte went to the proxy */
	struct httpconnect_reply reply;
	int error;	 /* positive errno once HTTPHOP_FAILED */
	const char *why; /* static text explaining error, for logs */
};

/* Prepare hh to ask proxy (an http:// one) for dest with cmd. Sends
 * nothing; what cannot be asked (BIND or UDP ASSOCIATE, which HTTP has not:
 * EOPNOTSUPP; a name a request cannot carry: EINVAL) fails at the first
 * step. */
void httphop_init(struct httphop *hh, const struct proxy *proxy,
		  const struct endpoint *dest, enum handshake_cmd cmd);

/* Advance without blocking on fd (connected to the proxy). Returns 0 when
 * the tunnel is open, -EAGAIN with *events = POLLIN or POLLOUT, or -errno
 * (hh->why says why; every later call returns the same). */
int httphop_step(struct httphop *hh, const struct socket_io *io, int fd,
		 short *events);

/* handshake_abandon()'s contract: end hh with -err (ETIMEDOUT: its
 * deadline passed; otherwise waiting failed). */
int httphop_abandon(struct httphop *hh, int err);

#endif
