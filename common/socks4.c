/* socks4.c — SOCKS4 and SOCKS4a request encoder and reply parser. */
#include "socks4.h"

#include <errno.h>
#include <string.h>

/* Address a SOCKS4a request carries in DSTIP: 0.0.0.x with x non-zero. */
static const uint8_t socks4a_marker[4] = {0, 0, 0, 1};

/* Check dest and user and return the request's length, or -errno. */
static long socks4_request_len(const struct endpoint *dest, const char *user,
			       size_t user_len)
{
	size_t total = 8 + user_len + 1;
	int rc;

	if (user_len > 255)
		return -ENAMETOOLONG;
	if (user_len && (!user || memchr(user, '\0', user_len)))
		return -EINVAL;
	switch (dest->kind) {
	case ENDPOINT_IPV4:
		return (long)total;
	case ENDPOINT_IPV6:
		return -EAFNOSUPPORT;
	case ENDPOINT_NAME:
		rc = endpoint_name_check(dest);
		return rc < 0 ? rc : (long)(total + dest->name_len + 1);
	default:
		return -EINVAL;
	}
}

/*
 * SOCKS4 request ("SOCKS: A protocol for TCP proxy across firewalls"):
 *
 *	+----+----+----+----+----+----+----+----+----+----+....+----+
 *	| VN | CD | DSTPORT |      DSTIP        | USERID       |NULL|
 *	+----+----+----+----+----+----+----+----+----+----+....+----+
 *	   1    1      2              4           variable       1
 *
 * SOCKS4a ("SOCKS 4A: A Simple Extension to SOCKS 4 Protocol") sets DSTIP to
 * 0.0.0.x (x != 0) and appends the host name and a NUL after USERID:
 *
 *	... | USERID |NULL| HOSTNAME |NULL|
 *
 * VN is 4, CD 1 for CONNECT or 2 for BIND, DSTPORT big-endian.
 */
long socks4_build_request(uint8_t *buf, size_t cap, uint8_t cmd,
			  const struct endpoint *dest, const char *user,
			  size_t user_len)
{
	long total = socks4_request_len(dest, user, user_len);
	size_t at = 8;

	if (total < 0)
		return total;
	if (cmd != SOCKS4_CMD_CONNECT && cmd != SOCKS4_CMD_BIND)
		return -EINVAL;
	if (cap < (size_t)total)
		return -ENOSPC;
	buf[0] = SOCKS4_VERSION;
	buf[1] = cmd;
	buf[2] = (uint8_t)(dest->port >> 8);
	buf[3] = (uint8_t)(dest->port & 0xff);
	if (dest->kind == ENDPOINT_IPV4)
		memcpy(buf + 4, dest->u.ipv4, 4);
	else
		memcpy(buf + 4, socks4a_marker, 4);
	if (user_len)
		memcpy(buf + at, user, user_len);
	at += user_len;
	buf[at++] = '\0';
	if (dest->kind == ENDPOINT_NAME) {
		memcpy(buf + at, dest->u.name, dest->name_len);
		at += dest->name_len;
		buf[at++] = '\0';
	}
	return (long)at;
}

/*
 * SOCKS4 reply:
 *
 *	+----+----+----+----+----+----+----+----+
 *	| VN | CD | DSTPORT |      DSTIP        |
 *	+----+----+----+----+----+----+----+----+
 *	   1    1      2              4
 *
 * VN is 0 by the specification; some servers send 4, which we accept.
 */
long socks4_parse_reply(const uint8_t *buf, size_t len, size_t *need,
			uint8_t *status, struct endpoint *bound)
{
	*need = SOCKS4_REPLY_LEN;
	if (len >= 1 && buf[0] != 0 && buf[0] != SOCKS4_VERSION)
		return -EPROTO;
	if (len < SOCKS4_REPLY_LEN)
		return 0;
	*status = buf[1];
	memset(bound, 0, sizeof(*bound));
	bound->kind = ENDPOINT_IPV4;
	bound->port = (uint16_t)(buf[2] << 8 | buf[3]);
	memcpy(bound->u.ipv4, buf + 4, 4);
	return SOCKS4_REPLY_LEN;
}

/* Reply codes 0x5a..0x5d, in our own words. */
int socks4_reply_errno(uint8_t status)
{
	switch (status) {
	case 0x5a:
		return 0;
	case 0x5b:
		return ECONNREFUSED;
	case 0x5c:
		return EACCES;
	case 0x5d:
		return EPERM;
	default:
		return EPROTO;
	}
}

const char *socks4_reply_message(uint8_t status)
{
	switch (status) {
	case 0x5a:
		return "request granted";
	case 0x5b:
		return "the proxy rejected the request or could not connect";
	case 0x5c:
		return "the proxy could not reach our identd to check the user";
	case 0x5d:
		return "our identd and the request's user id do not match";
	default:
		return "the proxy sent a status that SOCKS4 does not define";
	}
}
