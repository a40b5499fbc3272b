/* socks5.h — RFC 1928 (SOCKS5) and RFC 1929 (username/password) messages:
 * encoders into a caller's buffer and incremental parsers. No I/O here. */
#ifndef SOCKSIFY_SOCKS5_H
#define SOCKSIFY_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

#define SOCKS5_VERSION		   5
#define SOCKS5_METHOD_NONE	   0x00
#define SOCKS5_METHOD_USERPASS	   0x02
#define SOCKS5_METHOD_UNACCEPTABLE 0xff

#define SOCKS5_CMD_CONNECT	 0x01
#define SOCKS5_CMD_BIND		 0x02
#define SOCKS5_CMD_UDP_ASSOCIATE 0x03
/* Tor's extensions (socks-extensions.txt): RESOLVE asks for the address
 * of DST.ADDR (a name), answered in BND.ADDR; RESOLVE_PTR asks for the name
 * of DST.ADDR (an address), answered as an ATYP 3 BND.ADDR. DST.PORT is
 * ignored (we send 0); the connection ends after the reply. */
#define SOCKS5_CMD_TOR_RESOLVE	   0xf0
#define SOCKS5_CMD_TOR_RESOLVE_PTR 0xf1

#define SOCKS5_ATYP_IPV4   0x01
#define SOCKS5_ATYP_DOMAIN 0x03
#define SOCKS5_ATYP_IPV6   0x04

#define SOCKS5_REP_SUCCEEDED 0x00

/* Longest request: 4 + 1 + 255 + 2. */
#define SOCKS5_REQUEST_MAX 262
/* Longest reply: the same shape. */
#define SOCKS5_REPLY_MAX 262

/* Greeting offering methods[0..count). Returns length or -ENOSPC/-EINVAL. */
long socks5_build_greeting(uint8_t *buf, size_t cap, const uint8_t *methods,
			   size_t count);

/* Parse the 2-byte method selection. Returns 2 and sets *method, 0 with
 * *need = 2 when short, -EPROTO on a wrong version. (Whether the method was
 * offered is the caller's check.) */
long socks5_parse_method(const uint8_t *buf, size_t len, size_t *need,
			 uint8_t *method);

/* RFC 1929 request. Returns length, -EINVAL for empty or >255-byte fields,
 * -ENOSPC. */
long socks5_build_auth(uint8_t *buf, size_t cap, const char *user,
		       size_t user_len, const char *password,
		       size_t password_len);

/* Parse the 2-byte RFC 1929 reply. Returns 2 with *status set (0 = success),
 * 0 with *need = 2 when short, -EPROTO when the version byte is not 1. */
long socks5_parse_auth_reply(const uint8_t *buf, size_t len, size_t *need,
			     uint8_t *status);

/* Request for cmd (CONNECT, BIND, UDP ASSOCIATE, Tor's RESOLVE and
 * RESOLVE_PTR) to dest (IPv4, IPv6 or name; RESOLVE_PTR takes an address
 * only). Returns length, -ENAMETOOLONG, -EINVAL, -ENOSPC. */
long socks5_build_request(uint8_t *buf, size_t cap, uint8_t cmd,
			  const struct endpoint *dest);

/* Parse a reply. Returns bytes consumed (> 0) with *rep and *bound set; 0
 * with *need set to the total bytes required so far when short (first 5, then
 * the exact length once ATYP and a name length are known); -EPROTO for a
 * wrong version, non-zero RSV, unknown ATYP, a zero-length name or a name
 * holding a NUL byte. A non-zero REP is still a parsed reply: map it with
 * socks5_reply_errno(). */
long socks5_parse_reply(const uint8_t *buf, size_t len, size_t *need,
			uint8_t *rep, struct endpoint *bound);

/* REP code → positive errno (0 for success, EPROTO for codes beyond 0x08). */
int socks5_reply_errno(uint8_t rep);
/* REP code → RFC 1928 wording, for logs. */
const char *socks5_reply_message(uint8_t rep);

#endif
