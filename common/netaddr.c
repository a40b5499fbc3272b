/* netaddr.c — network prefixes (CIDR) and port ranges: parsing and matching.
 * Pure functions, no I/O. */
#include "netaddr.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* Longest address text we accept before the "/": an IPv6 literal with an
 * embedded IPv4 tail is at most 45 characters. */
#define NETADDR_TEXT_MAX 64

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff};

/* Parse a decimal number of at most max_digits digits, no sign, no spaces.
 * Returns 0 with *out set, or -EINVAL. */
static int parse_decimal(const char *text, size_t len, unsigned max_digits,
			 unsigned long *out)
{
	unsigned long value = 0;
	size_t i;

	if (len == 0 || len > max_digits)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		value = value * 10 + (unsigned long)(text[i] - '0');
	}
	*out = value;
	return 0;
}

/* True when any bit of addr[0..bytes) beyond the first prefix bits is set. */
static bool host_bits_set(const uint8_t *addr, unsigned bytes, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < bytes; i++) {
		unsigned first = i * 8;
		uint8_t keep;

		if (first + 8 <= prefix)
			continue;
		keep = first >= prefix
			   ? 0
			   : (uint8_t)(0xff << (8 - (prefix - first)));
		if (addr[i] & (uint8_t)~keep)
			return true;
	}
	return false;
}

/* Fill net from the address part of the text (no prefix). Returns 0 or
 * -EINVAL. */
static int netmask_set_address(struct netmask *net, const char *text,
			       size_t len)
{
	char buf[NETADDR_TEXT_MAX];
	struct endpoint ep;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (endpoint_parse_ip(&ep, buf) < 0)
		return -EINVAL;
	if (ep.kind == ENDPOINT_IPV4) {
		net->family = AF_INET;
		memcpy(net->addr, ep.u.ipv4, 4);
		net->prefix = 32;
	} else {
		net->family = AF_INET6;
		memcpy(net->addr, ep.u.ipv6, 16);
		net->prefix = 128;
	}
	return 0;
}

/* Connections to ::ffff:a.b.c.d are routed as IPv4 (see endpoint.h), so an
 * IPv4-mapped prefix of at least /96 is stored as the IPv4 prefix it means;
 * otherwise it could never match anything. */
static void netmask_unmap_v4(struct netmask *net)
{
	if (net->family != AF_INET6 || net->prefix < 96 ||
	    memcmp(net->addr, v4mapped_prefix, sizeof(v4mapped_prefix)) != 0)
		return;
	memmove(net->addr, net->addr + 12, 4);
	memset(net->addr + 4, 0, 12);
	net->family = AF_INET;
	net->prefix -= 96;
}

int netmask_parse(struct netmask *net, const char *text)
{
	const char *slash;
	size_t addr_len;
	unsigned long prefix;
	unsigned max_prefix;

	memset(net, 0, sizeof(*net));
	if (!text)
		return -EINVAL;
	if (strcmp(text, "*") == 0) {
		net->family = AF_UNSPEC;
		return 0;
	}
	slash = strchr(text, '/');
	addr_len = slash ? (size_t)(slash - text) : strlen(text);
	if (netmask_set_address(net, text, addr_len) < 0)
		return -EINVAL;
	max_prefix = net->prefix;
	if (slash) {
		if (parse_decimal(slash + 1, strlen(slash + 1), 3, &prefix) <
			0 ||
		    prefix > max_prefix)
			return -EINVAL;
		net->prefix = (unsigned)prefix;
	}
	if (host_bits_set(net->addr, max_prefix / 8, net->prefix))
		return -EINVAL;
	netmask_unmap_v4(net);
	return 0;
}

/* True when the first prefix bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool netmask_contains(const struct netmask *net, const struct endpoint *ep)
{
	switch (ep->kind) {
	case ENDPOINT_IPV4:
		if (net->family == AF_UNSPEC)
			return true;
		return net->family == AF_INET &&
		       prefix_equal(net->addr, ep->u.ipv4, net->prefix);
	case ENDPOINT_IPV6:
		if (net->family == AF_UNSPEC)
			return true;
		return net->family == AF_INET6 &&
		       prefix_equal(net->addr, ep->u.ipv6, net->prefix);
	default:
		return false;
	}
}

uint32_t netmask_size(const struct netmask *net)
{
	unsigned bits;

	switch (net->family) {
	case AF_INET:
		bits = 32 - net->prefix;
		break;
	case AF_INET6:
		bits = 128 - net->prefix;
		break;
	default:
		return UINT32_MAX;
	}
	return bits >= 32 ? UINT32_MAX : (uint32_t)1 << bits;
}

/* Parse one port number 0..65535. Returns 0 or -EINVAL. */
static int port_parse(const char *text, size_t len, uint16_t *out)
{
	unsigned long value;

	if (parse_decimal(text, len, 5, &value) < 0 || value > 65535)
		return -EINVAL;
	*out = (uint16_t)value;
	return 0;
}

int portrange_parse(const char *text, uint16_t *lo, uint16_t *hi)
{
	const char *dash;
	uint16_t a, b;

	if (!text)
		return -EINVAL;
	dash = strchr(text, '-');
	if (!dash) {
		if (port_parse(text, strlen(text), &a) < 0)
			return -EINVAL;
		*lo = *hi = a;
		return 0;
	}
	if (port_parse(text, (size_t)(dash - text), &a) < 0 ||
	    port_parse(dash + 1, strlen(dash + 1), &b) < 0 || a > b)
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}

int netaddr_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
