/* proxyaddr.c — see proxyaddr.h. */
#include "proxyaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* Keep ep when it is the first address of its family. */
static void proxyaddr_add(struct proxy_addresses *pa, const struct endpoint *ep)
{
	if (ep->kind == ENDPOINT_IPV4 && !pa->have_ipv4) {
		pa->ipv4 = *ep;
		pa->have_ipv4 = true;
	} else if (ep->kind == ENDPOINT_IPV6 && !pa->have_ipv6) {
		pa->ipv6 = *ep;
		pa->have_ipv6 = true;
	}
}

int proxyaddr_find(struct proxy_addresses *pa, const struct endpoint *addr,
		   const struct proxy_resolver *resolver)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	struct addrinfo *list, *ai;
	struct endpoint ep;
	int rc;

	memset(pa, 0, sizeof(*pa));
	if (addr->kind != ENDPOINT_NAME) {
		proxyaddr_add(pa, addr);
		return 0;
	}
	rc = resolver->getaddrinfo(addr->u.name, NULL, &hints, &list);
	if (rc != 0) {
		log_error("cannot resolve the proxy's host name %s: %s",
			  addr->u.name, gai_strerror(rc));
		return rc;
	}
	for (ai = list; ai; ai = ai->ai_next) {
		if (endpoint_from_sockaddr(&ep, ai->ai_addr, ai->ai_addrlen) <
		    0)
			continue;
		ep.port = addr->port;
		proxyaddr_add(pa, &ep);
	}
	resolver->freeaddrinfo(list);
	return 0;
}

int proxyaddr_sockaddr(const struct proxy_addresses *pa, int family,
		       struct sockaddr_storage *ss)
{
	socklen_t len;

	if (pa->have_ipv4)
		len = endpoint_to_sockaddr(&pa->ipv4, family, ss);
	else if (pa->have_ipv6 && family == AF_INET)
		return -EAFNOSUPPORT;
	else if (pa->have_ipv6)
		len = endpoint_to_sockaddr(&pa->ipv6, family, ss);
	else
		return -EHOSTUNREACH;
	return len > 0 ? (int)len : -EAFNOSUPPORT;
}

bool proxyaddr_is(const struct proxy_addresses *pa, const struct endpoint *ep)
{
	return (pa->have_ipv4 && endpoint_equal(ep, &pa->ipv4)) ||
	       (pa->have_ipv6 && endpoint_equal(ep, &pa->ipv6));
}

/* One address as text, "-" for none. */
static const char *proxyaddr_ip_text(bool have, const struct endpoint *ep,
				     char *buf, size_t cap)
{
	if (!have)
		return "-";
	return inet_ntop(ep->kind == ENDPOINT_IPV4 ? AF_INET : AF_INET6,
			 ep->u.ipv6, buf, (socklen_t)cap);
}

int proxyaddr_to_text(const struct proxy_addresses *pa,
		      const struct endpoint *addr, char *buf, size_t cap)
{
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];
	const char *t4, *t6;
	int n;

	if (addr->kind != ENDPOINT_NAME || (!pa->have_ipv4 && !pa->have_ipv6))
		return -EINVAL;
	t4 = proxyaddr_ip_text(pa->have_ipv4, &pa->ipv4, v4, sizeof v4);
	t6 = proxyaddr_ip_text(pa->have_ipv6, &pa->ipv6, v6, sizeof v6);
	if (!t4 || !t6)
		return -EINVAL;
	n = snprintf(buf, cap, "%s %s %s", addr->u.name, t4, t6);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* One address of the text: "-", or an address of kind; ep gets port. */
static int proxyaddr_ip_parse(const char *text, enum endpoint_kind kind,
			      uint16_t port, bool *have, struct endpoint *ep)
{
	*have = false;
	if (strcmp(text, "-") == 0)
		return 0;
	if (endpoint_parse_ip(ep, text) < 0 || ep->kind != kind)
		return -EINVAL;
	ep->port = port;
	*have = true;
	return 0;
}

int proxyaddr_from_text(struct proxy_addresses *pa, const struct endpoint *addr,
			const char *text)
{
	char name[ENDPOINT_NAME_MAX + 1], t4[64], t6[64];
	char extra;

	memset(pa, 0, sizeof(*pa));
	if (addr->kind != ENDPOINT_NAME ||
	    sscanf(text, "%255s %63s %63s %c", name, t4, t6, &extra) != 3 ||
	    strcmp(name, addr->u.name) != 0)
		return -EINVAL;
	if (proxyaddr_ip_parse(t4, ENDPOINT_IPV4, addr->port, &pa->have_ipv4,
			       &pa->ipv4) < 0 ||
	    proxyaddr_ip_parse(t6, ENDPOINT_IPV6, addr->port, &pa->have_ipv6,
			       &pa->ipv6) < 0 ||
	    (!pa->have_ipv4 && !pa->have_ipv6)) {
		memset(pa, 0, sizeof(*pa));
		return -EINVAL;
	}
	return 0;
}
