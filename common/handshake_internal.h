/* handshake_internal.h — what handshake.c and handshake_gss.c (the RFC 1961
 * sub-negotiation) share. Not for other modules. */
#ifndef SOCKSIFY_HANDSHAKE_INTERNAL_H
#define SOCKSIFY_HANDSHAKE_INTERNAL_H

#include "handshake.h"

/* Mark hs failed (and free its GSS-API state); the same -err is returned
 * by every later step. */
int hs_fail(struct handshake *hs, int err, const char *why);

/* Authentication is over: send the request next. */
void hs_to_request(struct handshake *hs);

/* ---- handshake_gss.c ---- */

/* Refuse, before anything is sent, a GSS-API proxy whose protection level
 * we cannot keep (any but "clear"). Returns 0 or -errno (hs failed). */
int hs_gss_check(struct handshake *hs);

/* The proxy chose method 0x01: load the library, make the first context
 * token and queue it. Returns 0 (hs moved on) or -errno (hs failed). */
int hs_gss_start(struct handshake *hs);

/* The four states of the sub-negotiation. */
int hs_gss_send_token(struct handshake *hs, const struct socket_io *io, int fd,
		      short *events);
int hs_gss_recv_token(struct handshake *hs, const struct socket_io *io, int fd,
		      short *events);
int hs_gss_send_protection(struct handshake *hs, const struct socket_io *io,
			   int fd, short *events);
int hs_gss_recv_protection(struct handshake *hs, const struct socket_io *io,
			   int fd, short *events);

/* Delete the context and free the state (hs->gss becomes NULL). */
void hs_gss_release(struct handshake *hs);

#endif
