/* gssmsg.h — the messages of RFC 1961 (GSS-API authentication for SOCKS5,
 * method 0x01): building them into a caller's buffer and parsing them
 * incrementally. No I/O and no GSS-API calls here.
 *
 * Every message but the abort has the same frame (RFC 1961 sections 3.3,
 * 3.7, 4.3):
 *
 *	+------+------+------+.......................+
 *	+ ver  | mtyp | len  |       token           |
 *	+------+------+------+.......................+
 *	+ 0x01 | 0x01 | 0x02 | up to 2^16 - 1 octets |
 *	+------+------+------+.......................+
 *
 * ver is 1, mtyp 1 for a security context token, 2 for the (wrapped)
 * protection level, len the token's length in network byte order. A
 * server that gives up sends only ver and mtyp 0xff (section 3.8). */
#ifndef SOCKSIFY_GSSMSG_H
#define SOCKSIFY_GSSMSG_H

#include <stddef.h>
#include <stdint.h>

#define GSSMSG_VERSION	       0x01
#define GSSMSG_TYPE_CONTEXT    0x01 /* security context token */
#define GSSMSG_TYPE_PROTECTION 0x02 /* protection level (wrapped) */
#define GSSMSG_TYPE_ABORT      0xff /* the server refused: ver + mtyp only */

#define GSSMSG_HEADER_LEN 4 /* ver mtyp len(2) */
#define GSSMSG_ABORT_LEN  2
#define GSSMSG_TOKEN_MAX  65535u
#define GSSMSG_MAX	  (GSSMSG_HEADER_LEN + GSSMSG_TOKEN_MAX)

/* The SOCKS5 method number (RFC 1928 section 3). */
#define SOCKS5_METHOD_GSSAPI 0x01

/* Protection levels as the one octet of the protection message carries
 * them. RFC 1961 section 4.3 numbers integrity 1 and confidentiality 2;
 * 0 ("clear": authentication only, no per-message protection) is what
 * Dante and curl send besides. */
enum gssmsg_protection {
	GSSMSG_PROTECT_CLEAR = 0,
	GSSMSG_PROTECT_INTEGRITY = 1,
	GSSMSG_PROTECT_CONFIDENTIALITY = 2,
};

/* A parsed message: its type and its token, which points into the buffer
 * given to gssmsg_parse() (no token for an abort). */
struct gssmsg {
	uint8_t type;
	const uint8_t *token;
	size_t token_len;
};

/* Frame token[0..token_len) as a message of type (CONTEXT or PROTECTION)
 * into buf[0..cap). Returns the length written, -EMSGSIZE for a token
 * longer than 65535 octets, -EINVAL for another type, or -ENOSPC. */
long gssmsg_build(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *token,
		  size_t token_len);

/* Parse the message at the start of buf[0..len). Returns the bytes it takes
 * (> 0) with *msg filled; 0 with *need (> len) set when more bytes are
 * needed; -EPROTO when ver is not 1 or mtyp is not 1, 2 or 0xff. An abort
 * is returned as a message (GSSMSG_ABORT_LEN bytes, type 0xff): refusing
 * it is the caller's job, as only the caller knows what it awaited. */
long gssmsg_parse(const uint8_t *buf, size_t len, size_t *need,
		  struct gssmsg *msg);

/* "clear", "integrity", "confidentiality", or "unknown". */
const char *gssmsg_protection_name(unsigned level);

/* The level named by word (one of the names above). Returns 0 with *level
 * set, or -EINVAL. */
int gssmsg_protection_parse(const char *word, uint8_t *level);

#endif
