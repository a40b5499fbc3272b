/* handshake.h — one SOCKS negotiation (one hop) as a resumable state
 * machine: each handshake_step() does what it can without blocking and says
 * what to wait for. A synchronous driver loops over it with a deadline; an
 * event loop can drive the same machine one readiness event at a time.
 *
 * The machine never reads past the end of the proxy's final reply: bytes
 * after it belong to the application.
 *
 * Pipelining (proxy->pipeline, SOCKS5 only): the greeting, the RFC 1929
 * request when there are credentials, and the request go out in one write;
 * the replies are then read in order with the same checks. With credentials
 * the pipelined greeting offers username/password alone, since the auth
 * bytes follow it before the proxy has chosen.
 *
 * GSS-API (proxy->gssapi, RFC 1961): the greeting offers method 0x01 (and
 * username/password with credentials, never "no authentication"); when
 * the proxy chooses it, the security context tokens and the protection
 * level are exchanged (handshake_gss.c) before the request. Such a proxy
 * is never pipelined: its tokens depend on the proxy's answers. Only the
 * "clear" level is supported; the others fail at handshake_init() with
 * EPROTONOSUPPORT, before a byte is sent. */
#ifndef SOCKSIFY_HANDSHAKE_H
#define SOCKSIFY_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "netio.h"
#include "proxyurl.h"

enum handshake_state {
	HS_SEND_GREETING, /* SOCKS5: methods offered (+ auth + request
			   * when pipelined) */
	HS_RECV_METHOD,	  /* SOCKS5: method chosen */
	HS_SEND_AUTH,	  /* RFC 1929 username/password */
	HS_RECV_AUTH,
	HS_GSS_SEND_TOKEN, /* RFC 1961: a security context token */
	HS_GSS_RECV_TOKEN,
	HS_GSS_SEND_PROTECTION, /* RFC 1961: the wrapped protection level */
	HS_GSS_RECV_PROTECTION,
	HS_SEND_REQUEST, /* SOCKS5 or SOCKS4(a) request */
	HS_RECV_REPLY,	 /* SOCKS5 or SOCKS4 reply */
	HS_DONE,
	HS_FAILED,
};

enum handshake_cmd {
	HANDSHAKE_CONNECT,
	HANDSHAKE_BIND,
	HANDSHAKE_UDP_ASSOCIATE,
	HANDSHAKE_RESOLVE, /* Tor's RESOLVE (SOCKS5 only): bound = address */
	HANDSHAKE_RESOLVE_PTR, /* Tor's RESOLVE_PTR (SOCKS5 only): bound = name
				*/
};

/* Room for what one handshake sends at once: pipelined, a SOCKS5 greeting
 * (4) + RFC 1929 auth (513) + request (262), with a byte to spare. */
#define HANDSHAKE_OUT_MAX 780
/* Room for what it receives at once: the longest SOCKS5 reply (262) and
 * the shortest rest of a pipelined exchange after it. */
#define HANDSHAKE_IN_MAX 300

struct handshake {
	const struct proxy *proxy;
	struct endpoint dest; /* what the request asks for */
	enum handshake_cmd cmd;
	enum handshake_state state;
	size_t out_len, out_sent; /* of out[], below */
	bool sent_any; /* a byte went to the proxy (and it is connected) */
	/* Bytes of the opening went in the SYN (TCP Fast Open): they make
	 * sent_any true only once the proxy's first bytes come back, since
	 * until then the connect is not known to be through. */
	bool sent_early;
	size_t in_len, in_need; /* of in[], below */
	uint8_t method;		/* SOCKS5 method the proxy chose */
	uint8_t reply;		/* last REP / SOCKS4 status */
	bool replied;		/* the final reply was parsed, even a refusal */
	struct endpoint bound;	/* BND.ADDR/BND.PORT of the reply */
	/* The GSS-API exchange (method 0x01) while it runs; NULL otherwise.
	 * Its messages (up to 64 KiB) and the security context live there,
	 * on the heap, and are released as soon as the exchange ends or hs
	 * fails. */
	struct handshake_gss *gss;
	int error;	 /* positive errno once HS_FAILED */
	const char *why; /* static text explaining error, for logs */
	/* The two buffers come last: a new handshake zeroes only what is
	 * above them (HANDSHAKE_HEAD), and nothing reads them past their
	 * lengths. */
	/* Bytes queued for the proxy: a whole pipelined SOCKS5 exchange. */
	uint8_t out[HANDSHAKE_OUT_MAX];
	/* The reply being assembled, followed (pipelined) by any bytes of the
	 * later replies that one recv() already brought. */
	uint8_t in[HANDSHAKE_IN_MAX];
};

/* The part of struct handshake that a new one starts from zero. */
#define HANDSHAKE_HEAD offsetof(struct handshake, out)

/* Prepare hs for proxy and dest (copied). Sends nothing. Allocates
 * nothing either: the GSS-API state is made when the proxy chooses it, and
 * freed when hs ends; handshake_release() frees it when hs is dropped
 * before its end. */
void handshake_init(struct handshake *hs, const struct proxy *proxy,
		    const struct endpoint *dest, enum handshake_cmd cmd);

/* The opening of a SOCKS5 hop (the greeting, or the whole pipelined
 * exchange), queued if need be, for a connect that can carry it in its SYN
 * (netio_fastopen_start). Returns its length and sets *bytes, or 0 when hs
 * has nothing to open with that way (not SOCKS5, failed, or under way).
 * handshake_sent_early() then says how much of it went. */
size_t handshake_opening(struct handshake *hs, const uint8_t **bytes);
void handshake_sent_early(struct handshake *hs, size_t n);

/* Advance without blocking on fd (a non-blocking socket connected to the
 * proxy). Returns 0 when done (hs->bound is set), -EAGAIN with *events set to
 * POLLIN or POLLOUT when it must wait, or -errno on failure (hs->why says
 * why; the same -errno is returned by every later call). */
int handshake_step(struct handshake *hs, const struct socket_io *io, int fd,
		   short *events);

/* Prepare hs to receive the second reply of a BIND (RFC 1928 section 6:
 * sent when the remote host has connected, or has failed to): the same
 * format as the first reply, BND.ADDR/BND.PORT then being the connecting
 * host's address; for SOCKS4 another 8-byte reply. Call it on a fresh hs
 * after the BIND request's first reply succeeded on fd; then drive it with
 * handshake_step() or handshake_run() as usual. proxy is the hop that
 * answered the BIND (the last of a chain). Nothing is sent, and no byte
 * after the second reply is read: those are the remote peer's data. */
void handshake_init_bind_reply(struct handshake *hs, const struct proxy *proxy);

/* End hs from outside: its deadline passed (err = ETIMEDOUT) or waiting
 * for the proxy failed with err. hs then fails with -err (hs->why says
 * which), unless it had already ended. Returns what handshake_step() now
 * returns. The one place these two reasons are worded, for every driver. */
int handshake_abandon(struct handshake *hs, int err);

/* Drive hs to completion, blocking (netio_drive()) until deadline_ms
 * (netio_now_ms() time). Returns 0 or -errno (-ETIMEDOUT at the deadline). */
int handshake_run(struct handshake *hs, const struct socket_io *io, int fd,
		  uint64_t deadline_ms);

/* Free what an unfinished hs holds (the GSS-API state). Safe to call on
 * any hs, any number of times. */
void handshake_release(struct handshake *hs);

const char *handshake_state_name(enum handshake_state s);

#endif
