/* endpoint.c — conversions between socket addresses, text and the endpoint
 * struct that the SOCKS codecs carry. Pure functions, no I/O. */
#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff};

static void endpoint_clear(struct endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
}

static int endpoint_from_sin(struct endpoint *ep, const struct sockaddr *sa,
			     socklen_t len)
{
	struct sockaddr_in sin;

	if (len < (socklen_t)sizeof(sin))
		return -EINVAL;
	memcpy(&sin, sa, sizeof(sin));
	endpoint_clear(ep);
	ep->kind = ENDPOINT_IPV4;
	ep->port = ntohs(sin.sin_port);
	memcpy(ep->u.ipv4, &sin.sin_addr, 4);
	return 0;
}

/* An IPv4-mapped address becomes IPv4 so that routing treats it the same. */
static int endpoint_from_sin6(struct endpoint *ep, const struct sockaddr *sa,
			      socklen_t len)
{
	struct sockaddr_in6 sin6;
	const uint8_t *a;

	if (len < (socklen_t)sizeof(sin6))
		return -EINVAL;
	memcpy(&sin6, sa, sizeof(sin6));
	a = sin6.sin6_addr.s6_addr;
	endpoint_clear(ep);
	ep->port = ntohs(sin6.sin6_port);
	if (memcmp(a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		ep->kind = ENDPOINT_IPV4;
		memcpy(ep->u.ipv4, a + 12, 4);
	} else {
		ep->kind = ENDPOINT_IPV6;
		memcpy(ep->u.ipv6, a, 16);
	}
	return 0;
}

int endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa,
			   socklen_t len)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	switch (sa->sa_family) {
	case AF_INET:
		return endpoint_from_sin(ep, sa, len);
	case AF_INET6:
		return endpoint_from_sin6(ep, sa, len);
	default:
		return -EAFNOSUPPORT;
	}
}

static socklen_t endpoint_to_sin(const struct endpoint *ep,
				 struct sockaddr_storage *ss)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(ep->port);
	memcpy(&sin.sin_addr, ep->u.ipv4, 4);
	memcpy(ss, &sin, sizeof(sin));
	return sizeof(sin);
}

static socklen_t endpoint_to_sin6(const struct endpoint *ep,
				  struct sockaddr_storage *ss)
{
	struct sockaddr_in6 sin6;
	uint8_t *a = sin6.sin6_addr.s6_addr;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(ep->port);
	if (ep->kind == ENDPOINT_IPV4) {
		memcpy(a, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(a + 12, ep->u.ipv4, 4);
	} else {
		memcpy(a, ep->u.ipv6, 16);
	}
	memcpy(ss, &sin6, sizeof(sin6));
	return sizeof(sin6);
}

socklen_t endpoint_to_sockaddr(const struct endpoint *ep, int family,
			       struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET && ep->kind == ENDPOINT_IPV4)
		return endpoint_to_sin(ep, ss);
	if (family == AF_INET6 &&
	    (ep->kind == ENDPOINT_IPV4 || ep->kind == ENDPOINT_IPV6))
		return endpoint_to_sin6(ep, ss);
	return 0;
}

int endpoint_set_name(struct endpoint *ep, const char *name, size_t len,
		      uint16_t port)
{
	if (!name || len == 0)
		return -EINVAL;
	if (len > ENDPOINT_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '\0', len))
		return -EINVAL;
	endpoint_clear(ep);
	ep->kind = ENDPOINT_NAME;
	ep->port = port;
	ep->name_len = (uint8_t)len;
	memcpy(ep->u.name, name, len);
	ep->u.name[len] = '\0';
	return 0;
}

int endpoint_name_check(const struct endpoint *ep)
{
	if (ep->name_len == 0)
		return -EINVAL;
	if (strnlen(ep->u.name, sizeof(ep->u.name)) > ENDPOINT_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int endpoint_parse_ip(struct endpoint *ep, const char *text)
{
	uint8_t addr[16];

	if (!text)
		return -EINVAL;
	if (inet_pton(AF_INET, text, addr) == 1) {
		endpoint_clear(ep);
		ep->kind = ENDPOINT_IPV4;
		memcpy(ep->u.ipv4, addr, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		endpoint_clear(ep);
		ep->kind = ENDPOINT_IPV6;
		memcpy(ep->u.ipv6, addr, 16);
		return 0;
	}
	return -EINVAL;
}

/* Writes "host:port" with host already in text form; brackets for IPv6. */
const char *endpoint_format(const struct endpoint *ep, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (!buf || cap == 0)
		return buf;
	switch (ep->kind) {
	case ENDPOINT_IPV4:
		inet_ntop(AF_INET, ep->u.ipv4, host, sizeof(host));
		snprintf(buf, cap, "%s:%u", host, ep->port);
		break;
	case ENDPOINT_IPV6:
		inet_ntop(AF_INET6, ep->u.ipv6, host, sizeof(host));
		snprintf(buf, cap, "[%s]:%u", host, ep->port);
		break;
	case ENDPOINT_NAME:
		snprintf(buf, cap, "%.*s:%u", (int)ep->name_len, ep->u.name,
			 ep->port);
		break;
	default:
		snprintf(buf, cap, "(none)");
		break;
	}
	return buf;
}

bool endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
	if (a->kind != b->kind || a->port != b->port)
		return false;
	switch (a->kind) {
	case ENDPOINT_IPV4:
		return memcmp(a->u.ipv4, b->u.ipv4, 4) == 0;
	case ENDPOINT_IPV6:
		return memcmp(a->u.ipv6, b->u.ipv6, 16) == 0;
	case ENDPOINT_NAME:
		return a->name_len == b->name_len &&
		       strncasecmp(a->u.name, b->u.name, a->name_len) == 0;
	default:
		return true;
	}
}

int endpoint_copy_sockaddr(const struct endpoint *ep, int family,
			   struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t full = endpoint_to_sockaddr(ep, family, &ss), want;

	if (full == 0)
		return -EAFNOSUPPORT;
	if (!len || (!sa && *len > 0))
		return -EFAULT;
	want = *len < full ? *len : full;
	if (want > 0)
		memcpy(sa, &ss, want);
	*len = full;
	return 0;
}
