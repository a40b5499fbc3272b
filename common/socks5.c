/* socks5.c — RFC 1928 and RFC 1929 message encoders and incremental
 * parsers. Encoders write into the caller's buffer; parsers never read past
 * the length they are given and say how many bytes they still need. */
#include "socks5.h"

#include <errno.h>
#include <string.h>

#define SOCKS5_AUTH_VERSION 0x01
#define SOCKS5_REPLY_HEAD   4 /* VER REP RSV ATYP */

/*
 * Method selection request, RFC 1928 section 3:
 *
 *	+----+----------+----------+
 *	|VER | NMETHODS | METHODS  |
 *	+----+----------+----------+
 *	| 1  |    1     | 1 to 255 |
 *	+----+----------+----------+
 *
 * Returns the length, -EINVAL for 0 or more than 255 methods, -ENOSPC.
 */
long socks5_build_greeting(uint8_t *buf, size_t cap, const uint8_t *methods,
			   size_t count)
{
	if (count == 0 || count > 255 || !methods)
		return -EINVAL;
	if (cap < 2 + count)
		return -ENOSPC;
	buf[0] = SOCKS5_VERSION;
	buf[1] = (uint8_t)count;
	memcpy(buf + 2, methods, count);
	return (long)(2 + count);
}

/* The two 2-byte replies below: a version byte (which must be version),
 * then one value for *value. Returns 2, 0 while fewer than *need bytes are
 * there, or -EPROTO. */
static long socks5_parse_pair(const uint8_t *buf, size_t len, size_t *need,
			      uint8_t version, uint8_t *value)
{
	*need = 2;
	if (len >= 1 && buf[0] != version)
		return -EPROTO;
	if (len < 2)
		return 0;
	*value = buf[1];
	return 2;
}

/*
 * Method selection reply, RFC 1928 section 3:
 *
 *	+----+--------+
 *	|VER | METHOD |
 *	+----+--------+
 *	| 1  |   1    |
 *	+----+--------+
 */
long socks5_parse_method(const uint8_t *buf, size_t len, size_t *need,
			 uint8_t *method)
{
	return socks5_parse_pair(buf, len, need, SOCKS5_VERSION, method);
}

/*
 * Username/password request, RFC 1929 section 2:
 *
 *	+----+------+----------+------+----------+
 *	|VER | ULEN |  UNAME   | PLEN |  PASSWD  |
 *	+----+------+----------+------+----------+
 *	| 1  |  1   | 1 to 255 |  1   | 1 to 255 |
 *	+----+------+----------+------+----------+
 *
 * VER is 0x01, the version of this sub-negotiation.
 */
long socks5_build_auth(uint8_t *buf, size_t cap, const char *user,
		       size_t user_len, const char *password,
		       size_t password_len)
{
	size_t total = 3 + user_len + password_len;

	if (!user || !password || user_len == 0 || user_len > 255 ||
	    password_len == 0 || password_len > 255)
		return -EINVAL;
	if (cap < total)
		return -ENOSPC;
	buf[0] = SOCKS5_AUTH_VERSION;
	buf[1] = (uint8_t)user_len;
	memcpy(buf + 2, user, user_len);
	buf[2 + user_len] = (uint8_t)password_len;
	memcpy(buf + 3 + user_len, password, password_len);
	return (long)total;
}

/*
 * Username/password reply, RFC 1929 section 2:
 *
 *	+----+--------+
 *	|VER | STATUS |
 *	+----+--------+
 *	| 1  |   1    |
 *	+----+--------+
 */
long socks5_parse_auth_reply(const uint8_t *buf, size_t len, size_t *need,
			     uint8_t *status)
{
	return socks5_parse_pair(buf, len, need, SOCKS5_AUTH_VERSION, status);
}

/* Write ATYP, the address and the port of dest at buf (room checked by the
 * caller against socks5_address_len()). Returns the bytes written. */
static size_t socks5_put_address(uint8_t *buf, const struct endpoint *dest)
{
	size_t n;

	switch (dest->kind) {
	case ENDPOINT_IPV4:
		buf[0] = SOCKS5_ATYP_IPV4;
		memcpy(buf + 1, dest->u.ipv4, 4);
		n = 5;
		break;
	case ENDPOINT_IPV6:
		buf[0] = SOCKS5_ATYP_IPV6;
		memcpy(buf + 1, dest->u.ipv6, 16);
		n = 17;
		break;
	default:
		buf[0] = SOCKS5_ATYP_DOMAIN;
		buf[1] = dest->name_len;
		memcpy(buf + 2, dest->u.name, dest->name_len);
		n = 2 + (size_t)dest->name_len;
		break;
	}
	buf[n] = (uint8_t)(dest->port >> 8);
	buf[n + 1] = (uint8_t)(dest->port & 0xff);
	return n + 2;
}

/* Bytes ATYP + address + port take for dest, or -errno when it has no
 * SOCKS5 form. */
static long socks5_address_len(const struct endpoint *dest)
{
	int rc;

	switch (dest->kind) {
	case ENDPOINT_IPV4:
		return 1 + 4 + 2;
	case ENDPOINT_IPV6:
		return 1 + 16 + 2;
	case ENDPOINT_NAME:
		rc = endpoint_name_check(dest);
		return rc < 0 ? rc : 1 + 1 + (long)dest->name_len + 2;
	default:
		return -EINVAL;
	}
}

/*
 * Request, RFC 1928 section 4:
 *
 *	+----+-----+-------+------+----------+----------+
 *	|VER | CMD |  RSV  | ATYP | DST.ADDR | DST.PORT |
 *	+----+-----+-------+------+----------+----------+
 *	| 1  |  1  | X'00' |  1   | Variable |    2     |
 *	+----+-----+-------+------+----------+----------+
 *
 * DST.ADDR is 4 bytes (ATYP 1), 16 bytes (ATYP 4), or a length byte and
 * that many name bytes, without a NUL (ATYP 3). The port is big-endian.
 */
long socks5_build_request(uint8_t *buf, size_t cap, uint8_t cmd,
			  const struct endpoint *dest)
{
	long alen = socks5_address_len(dest);

	if (alen < 0)
		return alen;
	if ((cmd < SOCKS5_CMD_CONNECT || cmd > SOCKS5_CMD_UDP_ASSOCIATE) &&
	    cmd != SOCKS5_CMD_TOR_RESOLVE && cmd != SOCKS5_CMD_TOR_RESOLVE_PTR)
		return -EINVAL;
	if (cmd == SOCKS5_CMD_TOR_RESOLVE_PTR && dest->kind == ENDPOINT_NAME)
		return -EINVAL;
	if (cap < 3 + (size_t)alen)
		return -ENOSPC;
	buf[0] = SOCKS5_VERSION;
	buf[1] = cmd;
	buf[2] = 0;
	return (long)(3 + socks5_put_address(buf + 3, dest));
}

/* Total reply length once its first five bytes are known, or -EPROTO for an
 * unknown ATYP or an empty name. */
static long socks5_reply_len(const uint8_t *buf)
{
	switch (buf[3]) {
	case SOCKS5_ATYP_IPV4:
		return SOCKS5_REPLY_HEAD + 4 + 2;
	case SOCKS5_ATYP_IPV6:
		return SOCKS5_REPLY_HEAD + 16 + 2;
	case SOCKS5_ATYP_DOMAIN:
		if (buf[4] == 0)
			return -EPROTO;
		return SOCKS5_REPLY_HEAD + 1 + buf[4] + 2;
	default:
		return -EPROTO;
	}
}

/* Fill bound from a complete reply whose length was checked. */
static void socks5_get_bound(const uint8_t *buf, struct endpoint *bound)
{
	const uint8_t *addr = buf + SOCKS5_REPLY_HEAD;
	size_t n;

	memset(bound, 0, sizeof(*bound));
	switch (buf[3]) {
	case SOCKS5_ATYP_IPV4:
		bound->kind = ENDPOINT_IPV4;
		memcpy(bound->u.ipv4, addr, 4);
		n = 4;
		break;
	case SOCKS5_ATYP_IPV6:
		bound->kind = ENDPOINT_IPV6;
		memcpy(bound->u.ipv6, addr, 16);
		n = 16;
		break;
	default:
		bound->kind = ENDPOINT_NAME;
		bound->name_len = addr[0];
		memcpy(bound->u.name, addr + 1, addr[0]);
		bound->u.name[addr[0]] = '\0';
		n = 1 + (size_t)addr[0];
		break;
	}
	bound->port = (uint16_t)(addr[n] << 8 | addr[n + 1]);
}

/*
 * Reply, RFC 1928 section 6:
 *
 *	+----+-----+-------+------+----------+----------+
 *	|VER | REP |  RSV  | ATYP | BND.ADDR | BND.PORT |
 *	+----+-----+-------+------+----------+----------+
 *	| 1  |  1  | X'00' |  1   | Variable |    2     |
 *	+----+-----+-------+------+----------+----------+
 *
 * Five bytes tell the whole length (ATYP and the first address byte, which
 * is the name length for ATYP 3); *need asks for exactly that, never more.
 */
long socks5_parse_reply(const uint8_t *buf, size_t len, size_t *need,
			uint8_t *rep, struct endpoint *bound)
{
	long total;

	*need = SOCKS5_REPLY_HEAD + 1;
	if (len >= 1 && buf[0] != SOCKS5_VERSION)
		return -EPROTO;
	if (len >= 3 && buf[2] != 0)
		return -EPROTO;
	if (len >= 4 && buf[3] != SOCKS5_ATYP_IPV4 &&
	    buf[3] != SOCKS5_ATYP_IPV6 && buf[3] != SOCKS5_ATYP_DOMAIN)
		return -EPROTO;
	if (len < SOCKS5_REPLY_HEAD + 1)
		return 0;
	total = socks5_reply_len(buf);
	if (total < 0)
		return total;
	*need = (size_t)total;
	if (len < (size_t)total)
		return 0;
	/* A name with a NUL inside is not the name it claims to be. */
	if (buf[3] == SOCKS5_ATYP_DOMAIN &&
	    memchr(buf + SOCKS5_REPLY_HEAD + 1, '\0', buf[4]))
		return -EPROTO;
	*rep = buf[1];
	socks5_get_bound(buf, bound);
	return total;
}

struct socks5_reply_info {
	int error;
	const char *message;
};

/* RFC 1928 section 6, REP values, in our own words. */
static const struct socks5_reply_info socks5_replies[] = {
    [0x00] = {0, "request granted"},
    [0x01] = {ECONNABORTED, "the proxy failed for a reason of its own"},
    [0x02] = {EACCES, "the proxy's rules do not allow this connection"},
    [0x03] = {ENETUNREACH, "the proxy cannot reach that network"},
    [0x04] = {EHOSTUNREACH, "the proxy cannot reach that host"},
    [0x05] = {ECONNREFUSED, "the destination refused the proxy's connection"},
    [0x06] = {ETIMEDOUT, "the proxy's connection attempt timed out"},
    [0x07] = {EOPNOTSUPP, "the proxy does not support this command"},
    [0x08] = {EAFNOSUPPORT, "the proxy does not support this address type"},
};

#define SOCKS5_REPLY_COUNT (sizeof(socks5_replies) / sizeof(socks5_replies[0]))

int socks5_reply_errno(uint8_t rep)
{
	if (rep >= SOCKS5_REPLY_COUNT)
		return EPROTO;
	return socks5_replies[rep].error;
}

const char *socks5_reply_message(uint8_t rep)
{
	if (rep >= SOCKS5_REPLY_COUNT)
		return "the proxy sent a reply code that RFC 1928 does not "
		       "define";
	return socks5_replies[rep].message;
}
