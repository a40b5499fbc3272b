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

/* Send buf[*sent..len) to the proxy, advancing *sent (and setting
 * hs->sent_any once a byte went). Returns 0 once all is sent, -EAGAIN with
 * *events = POLLOUT, or -errno (hs failed). */
int hs_send_bytes(struct handshake *hs, const struct socket_io *io, int fd,
		  const uint8_t *buf, size_t len, size_t *sent, short *events);

/* Receive into buf until *len reaches need, never holding more than most
 * bytes (need <= most <= the buffer's size), so nothing past the awaited
 * bytes is read. closed_why is what a close by the proxy means. Returns 0,
 * -EAGAIN with *events = POLLIN, or -errno (hs failed). */
int hs_recv_bytes(struct handshake *hs, const struct socket_io *io, int fd,
		  uint8_t *buf, size_t *len, size_t need, size_t most,
		  short *events, const char *closed_why);

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
