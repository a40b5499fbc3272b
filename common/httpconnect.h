/* httpconnect.h — HTTP CONNECT messages (RFC 9110 section 9.3.6, framed as
 * RFC 9112 says) for an HTTP proxy hop: the request, with Basic
 * authentication (RFC 7617), and an incremental parser of the reply's head.
 * No I/O here: common/httphop.c does it. */
#ifndef SOCKSIFY_HTTPCONNECT_H
#define SOCKSIFY_HTTPCONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

/* The longest request: "CONNECT " authority " HTTP/1.1\r\n", "Host: "
 * authority "\r\n", "Proxy-Authorization: Basic " base64(user ":"
 * password) "\r\n", "\r\n"; authority at most ENDPOINT_TEXT_MAX, user and
 * password 255 bytes each (684 in base64). */
#define HTTPCONNECT_REQUEST_MAX 1400
/* A reply head (status line and headers) longer than this is refused. */
#define HTTPCONNECT_HEAD_MAX 16384
/* The status line bytes kept for the parser and the log. */
#define HTTPCONNECT_STATUS_KEEP 64

/* Build "CONNECT dest HTTP/1.1" with a Host header and, when user is not
 * NULL, a Proxy-Authorization: Basic header, ending with the empty line.
 * dest is an IPv4 or IPv6 address (in brackets) or a host name; a name
 * holding characters a URI authority cannot (spaces, controls, '@', ...)
 * is refused, so that no name can add lines to the request. Returns the
 * length, -EINVAL (no destination, a bad name or port 0), -ENAMETOOLONG,
 * or -ENOSPC when buf is too small. */
long httpconnect_build_request(char *buf, size_t cap,
			       const struct endpoint *dest, const char *user,
			       size_t user_len, const char *password,
			       size_t password_len);

/* Standard base64 (RFC 4648 section 4, with padding) of in[0..len) into
 * out (NUL-terminated). Returns the length written (without the NUL), or
 * -ENOSPC. */
long httpconnect_base64(char *out, size_t cap, const uint8_t *in, size_t len);

/* The reply head, parsed as it arrives, in any pieces. Interim (1xx)
 * responses are skipped: the parser then reads the next one. */
struct httpconnect_reply {
	size_t total;	  /* head bytes taken so far, interim ones too */
	size_t line_len;  /* bytes of the current line so far */
	bool in_status;	  /* the current line is the status line */
	bool after_cr;	  /* the last byte was a CR */
	bool line_colon;  /* the current header line holds a ':' */
	bool line_folded; /* it begins with a space or tab (obs-fold) */
	bool done;	  /* the empty line ending the head was taken */
	int status;	  /* the 3-digit status code, once parsed */
	char status_line[HTTPCONNECT_STATUS_KEEP]; /* NUL-terminated */
};

void httpconnect_reply_init(struct httpconnect_reply *r);

/* Feed the next len bytes of the reply. Takes bytes up to and including the
 * end of the head and no further: returns how many it took (all of len
 * unless the head ended inside it, which sets r->done), or -EPROTO when
 * the head is malformed (not HTTP/1.x, a bad status code, a control byte,
 * a header line without ':') or longer than HTTPCONNECT_HEAD_MAX. Feeding
 * a finished reply takes nothing (returns 0). */
long httpconnect_reply_feed(struct httpconnect_reply *r, const uint8_t *buf,
			    size_t len);

/* A final status → positive errno: 0 for 2xx (the tunnel is open), the
 * README's table otherwise. */
int httpconnect_status_errno(int status);

/* Static text saying what the status means, for the log. */
const char *httpconnect_status_message(int status);

#endif
