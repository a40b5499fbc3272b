/* addrinfo.h — answers for the resolver hooks, built the way glibc builds
 * them: struct addrinfo lists (freeable by glibc's freeaddrinfo and ours),
 * struct hostent records, and the small decisions around them (is this text
 * a numeric address, is this address a fake one). Pure: no errno writes, no
 * hooked calls; the service-name lookup comes in as a function pointer.
 *
 * Functions returning an int here return 0 or an EAI_* code (glibc's
 * negative values), except the hostent fillers, which return 0 or -ERANGE. */
#ifndef SOCKSIFY_ADDRINFO_H
#define SOCKSIFY_ADDRINFO_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "netaddr.h"

/* Most addresses one answer carries (hosts-file lines for one name). */
#define ADDRINFO_MAX_ADDRS 16
/* Most (socket type, protocol) pairs one service expands to. */
#define ADDRINFO_MAX_TYPES 8

/* Look a service name up for one protocol ("tcp", "udp", "sctp", ...).
 * Returns the port in host byte order, or a negative value when the service
 * is not known for that protocol. */
typedef int (*addrinfo_service_fn)(const char *service, const char *proto);

/* One socket type an answer is given for. */
struct addrinfo_socktype {
	int socktype;
	int protocol;
	uint16_t port; /* host byte order */
};

/* True when node is text getaddrinfo takes as an address without any lookup:
 * an IPv4 address in inet_aton's forms ("1.2.3.4", "127.1", "0x7f000001",
 * octal parts) or an IPv6 address, optionally with "%scope". */
bool addrinfo_is_numeric_host(const char *node);

/* True when ep is an address inside the fake IPv4 or IPv6 range (whether or
 * not the fake-DNS table holds a name for it). An IPv4-mapped IPv6 endpoint
 * is never passed here: endpoint_from_sockaddr() already made it IPv4. */
bool addrinfo_is_fake(const struct netmask *fake_ipv4,
		      const struct netmask *fake_ipv6,
		      const struct endpoint *ep);

/* Check hints the way glibc does before resolving a name: unknown flags are
 * EAI_BADFLAGS, a family other than AF_UNSPEC/AF_INET/AF_INET6 EAI_FAMILY.
 * hints may be NULL (glibc's defaults). Returns 0 or the EAI_* code. */
int addrinfo_check_hints(const struct addrinfo *hints);

/* Expand service and hints into the socket types to answer for, in glibc's
 * order: with neither socket type nor protocol given, TCP, UDP and raw for a
 * port number (or no service); for a service name every protocol that knows
 * it. service NULL means port 0; digits are a port number; a name is looked
 * up with lookup (EAI_NONAME under AI_NUMERICSERV). Writes up to
 * ADDRINFO_MAX_TYPES entries to out and their number to *count.
 * Returns 0, EAI_SOCKTYPE, EAI_SERVICE or EAI_NONAME. */
int addrinfo_socktypes(const struct addrinfo *hints, const char *service,
		       addrinfo_service_fn lookup,
		       struct addrinfo_socktype *out, size_t *count);

/* Build a getaddrinfo answer for addrs[0..count) (IPv4/IPv6 endpoints) in
 * *res: one node per address and socket type, address-major, each node one
 * malloc block holding the struct addrinfo followed by its socket address
 * (glibc's layout), ai_canonname a separate malloc'd copy of canonname on the
 * first node only when hints ask for AI_CANONNAME. hints->ai_family filters:
 * AF_INET keeps IPv4 addresses, AF_INET6 keeps IPv6 ones and writes IPv4 ones
 * as ::ffff:a.b.c.d (so pass IPv4 addresses for AF_INET6 only when
 * AI_V4MAPPED allows it). Runs addrinfo_check_hints and addrinfo_socktypes
 * first. Returns 0 (the caller owns *res, freed with addrinfo_free or either
 * freeaddrinfo), EAI_NONAME when no address is left, EAI_MEMORY, or their
 * codes. */
int addrinfo_build(const struct endpoint *addrs, size_t count,
		   const char *service, const struct addrinfo *hints,
		   const char *canonname, addrinfo_service_fn lookup,
		   struct addrinfo **res);

/* Free a list built here or by glibc: the two share one layout, so each node
 * is one free() plus one for its ai_canonname. NULL is allowed. */
void addrinfo_free(struct addrinfo *list);

/* Fill he for a gethostbyname_r-style answer: h_name = name, no aliases,
 * h_addrtype = family (AF_INET or AF_INET6), the addresses of that family
 * from addrs[0..count) (IPv4 ones written as ::ffff:a.b.c.d for AF_INET6),
 * everything stored in buf[0..cap). Returns the number of addresses stored
 * (0 when none has the family; he is then untouched), or -ERANGE when buf is
 * too small. */
int addrinfo_fill_hostent(struct hostent *he, char *buf, size_t cap,
			  const char *name, int family,
			  const struct endpoint *addrs, size_t count);

/* The same into storage private to the calling thread, for the non-_r
 * calls; it stays valid until the thread's next call. Returns the hostent,
 * or NULL when no address has the family or the name does not fit (never
 * with names up to ENDPOINT_NAME_MAX and ADDRINFO_MAX_ADDRS addresses). */
struct hostent *addrinfo_static_hostent(const char *name, int family,
					const struct endpoint *addrs,
					size_t count);

#endif
