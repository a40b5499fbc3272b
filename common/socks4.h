/* socks4.h — SOCKS4 and SOCKS4a CONNECT/BIND messages. No I/O here. */
#ifndef SOCKSIFY_SOCKS4_H
#define SOCKSIFY_SOCKS4_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

#define SOCKS4_VERSION	   4
#define SOCKS4_CMD_CONNECT 1
#define SOCKS4_CMD_BIND	   2
#define SOCKS4_REPLY_LEN   8
#define SOCKS4_GRANTED	   0x5a
/* 8 + user id (255) + NUL + name (255) + NUL */
#define SOCKS4_REQUEST_MAX 520

/* Request to dest. An IPv4 endpoint gives a SOCKS4 request; a name gives a
 * SOCKS4a request (DSTIP 0.0.0.1, the name after the user id). IPv6 →
 * -EAFNOSUPPORT. user may be NULL. Returns length, -ENAMETOOLONG, -ENOSPC. */
long socks4_build_request(uint8_t *buf, size_t cap, uint8_t cmd,
			  const struct endpoint *dest, const char *user,
			  size_t user_len);

/* Parse the 8-byte reply. Returns 8 with *status and *bound (IPv4) set, 0
 * with *need = 8 when short, -EPROTO when VN is neither 0 nor 4. */
long socks4_parse_reply(const uint8_t *buf, size_t len, size_t *need,
			uint8_t *status, struct endpoint *bound);

/* Status (0x5a..0x5d) → positive errno (0 for granted, EPROTO otherwise). */
int socks4_reply_errno(uint8_t status);
const char *socks4_reply_message(uint8_t status);

#endif
