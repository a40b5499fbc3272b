/* proxyaddr.c — see proxyaddr.h. */
#include "proxyaddr.h"

#include <errno.h>
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
