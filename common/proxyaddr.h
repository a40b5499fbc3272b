/* proxyaddr.h — where the first proxy of a chain lives: its address, or the
 * addresses its host name resolves to (the first of each family), looked
 * up once by whoever builds the run's state (the library, the supervisor)
 * with the resolver it is given. */
#ifndef SOCKSIFY_PROXYADDR_H
#define SOCKSIFY_PROXYADDR_H

#include <netdb.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "endpoint.h"

struct proxy_addresses {
	bool have_ipv4, have_ipv6;
	struct endpoint ipv4, ipv6;
};

/* libc's name lookup as the caller reaches it (the library passes its
 * `real` functions, never its own hooks). */
struct proxy_resolver {
	int (*getaddrinfo)(const char *node, const char *service,
			   const struct addrinfo *hints, struct addrinfo **res);
	void (*freeaddrinfo)(struct addrinfo *res);
};

/* Fill pa (zeroed first) with addr itself, or with the first IPv4 and IPv6
 * address its host name resolves to, each with addr's port. Returns 0, or
 * the getaddrinfo error (logged; pa then holds nothing). */
int proxyaddr_find(struct proxy_addresses *pa, const struct endpoint *addr,
		   const struct proxy_resolver *resolver);

/* pa's address as a socket address of family (an IPv4 proxy is given as
 * ::ffff:a.b.c.d for AF_INET6). Returns the length, -EAFNOSUPPORT when an
 * AF_INET socket must reach an IPv6-only proxy, or -EHOSTUNREACH when pa
 * holds nothing. */
int proxyaddr_sockaddr(const struct proxy_addresses *pa, int family,
		       struct sockaddr_storage *ss);

/* True when ep is one of pa's addresses (port included). */
bool proxyaddr_is(const struct proxy_addresses *pa, const struct endpoint *ep);

/* The addresses of addr's host name as text another process can take
 * instead of looking the name up itself (under the guard the library's
 * lookup would be libc's DNS query, which the filter stops): "NAME IPV4
 * IPV6", "-" for a family without one. Returns the length, -EINVAL when
 * addr is no name or pa holds nothing, -ENOSPC when cap is too small. */
int proxyaddr_to_text(const struct proxy_addresses *pa,
		      const struct endpoint *addr, char *buf, size_t cap);

/* Read such text back for addr (its port given to the addresses). Returns
 * 0 with pa filled, or -EINVAL (malformed, another name, no address). */
int proxyaddr_from_text(struct proxy_addresses *pa, const struct endpoint *addr,
			const char *text);

#endif
