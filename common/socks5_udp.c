/* socks5_udp.c — the RFC 1928 section 7 header in front of every datagram
 * exchanged with a SOCKS5 UDP relay. Pure functions: the builder writes
 * into the caller's buffer, the parser reads only the length it is given.
 * A datagram arrives whole, so a short header is malformed, not "more
 * needed". */
#include "socks5_udp.h"

#include <errno.h>
#include <string.h>

#include "socks5.h"

#define UDP_HEAD 4 /* RSV RSV FRAG ATYP */

long socks5_udp_header_len(const struct endpoint *dest)
{
	if (!dest)
		return -EINVAL;
	switch (dest->kind) {
	case ENDPOINT_IPV4:
		return SOCKS5_UDP_HEADER_IPV4;
	case ENDPOINT_IPV6:
		return SOCKS5_UDP_HEADER_IPV6;
	case ENDPOINT_NAME:
		/* No NUL inside the array: the name overran its limit. */
		if (strnlen(dest->u.name, sizeof(dest->u.name)) >
		    ENDPOINT_NAME_MAX)
			return -ENAMETOOLONG;
		/* Empty, or a NUL inside: the name is not what it claims. */
		if (dest->name_len == 0 ||
		    memchr(dest->u.name, '\0', dest->name_len))
			return -EINVAL;
		return UDP_HEAD + 1 + (long)dest->name_len + 2;
	default:
		return -EINVAL;
	}
}

/* Write ATYP and the address of dest at buf; returns the bytes written.
 * The caller has checked dest and the room with socks5_udp_header_len(). */
static size_t put_address(uint8_t *buf, const struct endpoint *dest)
{
	switch (dest->kind) {
	case ENDPOINT_IPV4:
		buf[0] = SOCKS5_ATYP_IPV4;
		memcpy(buf + 1, dest->u.ipv4, 4);
		return 1 + 4;
	case ENDPOINT_IPV6:
		buf[0] = SOCKS5_ATYP_IPV6;
		memcpy(buf + 1, dest->u.ipv6, 16);
		return 1 + 16;
	default:
		buf[0] = SOCKS5_ATYP_DOMAIN;
		buf[1] = dest->name_len;
		memcpy(buf + 2, dest->u.name, dest->name_len);
		return 2 + (size_t)dest->name_len;
	}
}

/*
 * UDP request header, RFC 1928 section 7:
 *
 *	+----+------+------+----------+----------+----------+
 *	|RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *	+----+------+------+----------+----------+----------+
 *	| 2  |  1   |  1   | Variable |    2     | Variable |
 *	+----+------+------+----------+----------+----------+
 *
 * RSV is X'0000'; FRAG is X'00' (a standalone datagram: we never fragment).
 * DST.ADDR is 4 bytes (ATYP 1), 16 bytes (ATYP 4), or a length byte and
 * that many name bytes without a NUL (ATYP 3). The port is big-endian.
 * Only the header is written here; DATA follows it in the caller's buffer.
 */
long socks5_udp_build_header(uint8_t *buf, size_t cap,
			     const struct endpoint *dest)
{
	long total = socks5_udp_header_len(dest);
	size_t n;

	if (total < 0)
		return total;
	if (!buf || cap < (size_t)total)
		return -ENOSPC;
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = 0;
	n = 3 + put_address(buf + 3, dest);
	buf[n] = (uint8_t)(dest->port >> 8);
	buf[n + 1] = (uint8_t)(dest->port & 0xff);
	return total;
}

/* Length of the address field (after ATYP, before the port) for the header
 * at buf[0..len), which holds at least UDP_HEAD bytes. Returns it, or
 * -EPROTO for an unknown ATYP, a missing or zero name length. */
static long address_len(const uint8_t *buf, size_t len)
{
	switch (buf[3]) {
	case SOCKS5_ATYP_IPV4:
		return 4;
	case SOCKS5_ATYP_IPV6:
		return 16;
	case SOCKS5_ATYP_DOMAIN:
		if (len < UDP_HEAD + 1 || buf[UDP_HEAD] == 0)
			return -EPROTO;
		return 1 + (long)buf[UDP_HEAD];
	default:
		return -EPROTO;
	}
}

/* Fill src from the address at addr (ATYP atyp, length checked) and the
 * port. Returns 0, or -EPROTO for a name holding a NUL byte. */
static int get_address(struct endpoint *src, uint8_t atyp, const uint8_t *addr,
		       uint16_t port)
{
	memset(src, 0, sizeof(*src));
	src->port = port;
	switch (atyp) {
	case SOCKS5_ATYP_IPV4:
		src->kind = ENDPOINT_IPV4;
		memcpy(src->u.ipv4, addr, 4);
		return 0;
	case SOCKS5_ATYP_IPV6:
		src->kind = ENDPOINT_IPV6;
		memcpy(src->u.ipv6, addr, 16);
		return 0;
	default:
		if (endpoint_set_name(src, (const char *)addr + 1, addr[0],
				      port) < 0)
			return -EPROTO;
		return 0;
	}
}

/*
 * UDP reply header, RFC 1928 section 7: the same layout as the request,
 * with DST.ADDR and DST.PORT naming where the datagram came from. The
 * checks run in wire order so that every byte read lies below len.
 * *src is written only on success.
 */
long socks5_udp_parse_fragment(const uint8_t *buf, size_t len,
			       struct endpoint *src, uint8_t *frag)
{
	struct endpoint parsed;
	long alen;
	size_t total;
	uint16_t port;

	if (!buf || !src || len < UDP_HEAD)
		return -EPROTO;
	if (buf[0] != 0 || buf[1] != 0)
		return -EPROTO;
	alen = address_len(buf, len);
	if (alen < 0)
		return alen;
	total = UDP_HEAD + (size_t)alen + 2;
	if (len < total)
		return -EPROTO;
	port = (uint16_t)(buf[total - 2] << 8 | buf[total - 1]);
	if (get_address(&parsed, buf[3], buf + UDP_HEAD, port) < 0)
		return -EPROTO;
	*src = parsed;
	*frag = buf[2];
	return (long)total;
}

long socks5_udp_parse_header(const uint8_t *buf, size_t len,
			     struct endpoint *src)
{
	struct endpoint parsed;
	uint8_t frag;
	long total = socks5_udp_parse_fragment(buf, len, &parsed, &frag);

	if (!src)
		return -EPROTO;
	if (total < 0)
		return total;
	if (frag != 0)
		return -EOPNOTSUPP;
	*src = parsed;
	return total;
}
