/* addrinfo.c — getaddrinfo and gethostbyname answers built the way glibc
 * builds them, so that a program cannot tell ours from libc's: the same node
 * layout (so either freeaddrinfo frees either list), the same expansion of
 * socket types, the same service rules and error codes.
 *
 * Thread safety: everything here works on the caller's data, except
 * addrinfo_static_hostent(), whose storage is private to each thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "addrinfo.h"

/* Every flag glibc accepts; 0x0100 and 0x0200 are the deprecated
 * AI_IDN_ALLOW_UNASSIGNED and AI_IDN_USE_STD3_ASCII_RULES, spelled as numbers
 * because their macros warn on use. */
#define ADDRINFO_KNOWN_FLAGS                                                   \
	(AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL |   \
	 AI_ADDRCONFIG | AI_IDN | AI_CANONIDN | 0x0100 | 0x0200 |              \
	 AI_NUMERICSERV)

/* glibc's defaults when hints is NULL. */
static const struct addrinfo default_hints = {
    .ai_flags = AI_V4MAPPED | AI_ADDRCONFIG,
    .ai_family = AF_UNSPEC,
};

/* The socket types getaddrinfo knows, in glibc's order. by_default: listed
 * when the hints give neither type nor protocol. any_protocol: takes the
 * caller's protocol (raw sockets). no_service: has no ports, so a service
 * asked for together with this type is an error. */
struct proto_entry {
	int socktype;
	int protocol;
	bool by_default, any_protocol, no_service;
	const char *name; /* for the service lookup */
};

static const struct proto_entry proto_table[] = {
    {SOCK_STREAM, IPPROTO_TCP, true, false, false, "tcp"},
    {SOCK_DGRAM, IPPROTO_UDP, true, false, false, "udp"},
    {SOCK_DCCP, IPPROTO_DCCP, false, false, false, "dccp"},
    {SOCK_DGRAM, IPPROTO_UDPLITE, false, false, false, "udplite"},
    {SOCK_STREAM, IPPROTO_SCTP, false, false, false, "sctp"},
    {SOCK_SEQPACKET, IPPROTO_SCTP, false, false, false, "sctp"},
    {SOCK_RAW, 0, true, true, true, "raw"},
};

#define PROTO_COUNT (sizeof proto_table / sizeof proto_table[0])

/* The value of digit c in base, or -1 when c is not such a digit. */
static int digit_value(char c, unsigned base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return (unsigned)v < base ? v : -1;
}

/* Parse one inet_aton part at *text: "0x" hex, a leading 0 octal, else
 * decimal. Advances *text past it. Returns false when it holds no digit or
 * exceeds 32 bits. */
static bool ipv4_part(const char **text, uint32_t *value)
{
	const char *s = *text;
	unsigned base = 10;
	uint64_t v = 0;
	int d, digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (; (d = digit_value(*s, base)) >= 0; s++, digits++) {
		v = v * base + (unsigned)d;
		if (v > UINT32_MAX)
			return false;
	}
	*text = s;
	*value = (uint32_t)v;
	return digits > 0;
}

/* True when text is an IPv4 address in one of inet_aton's forms (a, a.b,
 * a.b.c, a.b.c.d; each part decimal, octal or hex) with nothing after it,
 * which is what glibc's getaddrinfo takes as numeric. */
static bool is_ipv4_literal(const char *text)
{
	uint32_t parts[4];
	unsigned n = 0, i;

	for (;;) {
		if (n == 4 || !ipv4_part(&text, &parts[n]))
			return false;
		n++;
		if (*text == '\0')
			break;
		if (*text++ != '.')
			return false;
	}
	for (i = 0; i + 1 < n; i++)
		if (parts[i] > 255)
			return false;
	/* The last part fills the bytes the others left. */
	return n == 1 || parts[n - 1] <= (UINT32_MAX >> (8 * (n - 1)));
}

/* True when text is an IPv6 literal, optionally followed by "%scope". */
static bool is_ipv6_literal(const char *text)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr addr;
	size_t len = strcspn(text, "%");

	if (!strchr(text, ':') || len >= sizeof buf)
		return false;
	if (text[len] == '%' && text[len + 1] == '\0')
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &addr) == 1;
}

bool addrinfo_is_numeric_host(const char *node)
{
	return node && (is_ipv4_literal(node) || is_ipv6_literal(node));
}

bool addrinfo_is_fake(const struct netmask *fake_ipv4,
		      const struct netmask *fake_ipv6,
		      const struct endpoint *ep)
{
	/* An AF_UNSPEC mask would match every address: treat it as absent. */
	if (ep->kind == ENDPOINT_IPV4)
		return fake_ipv4->family == AF_INET &&
		       netmask_contains(fake_ipv4, ep);
	if (ep->kind == ENDPOINT_IPV6)
		return fake_ipv6->family == AF_INET6 &&
		       netmask_contains(fake_ipv6, ep);
	return false;
}

int addrinfo_check_hints(const struct addrinfo *hints)
{
	if (!hints)
		return 0;
	if (hints->ai_flags & ~ADDRINFO_KNOWN_FLAGS)
		return EAI_BADFLAGS;
	if (hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET &&
	    hints->ai_family != AF_INET6)
		return EAI_FAMILY;
	return 0;
}

/* Classify service: NULL or digits set *port and *named = false (glibc
 * takes "" as port 0 too); anything else is a name (*named = true).
 * Returns 0, EAI_NONAME for a name under AI_NUMERICSERV, EAI_SERVICE for a
 * number above 65535. */
static int service_parse(const char *service, int flags, long *port,
			 bool *named)
{
	const char *p;
	long v = 0;

	*port = 0;
	*named = false;
	if (!service)
		return 0;
	for (p = service; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > 65535)
			return EAI_SERVICE;
	if (*p != '\0') {
		*named = true;
		return (flags & AI_NUMERICSERV) ? EAI_NONAME : 0;
	}
	*port = v;
	return 0;
}

static bool proto_matches(const struct proto_entry *p, int socktype,
			  int protocol)
{
	if (socktype && p->socktype != socktype)
		return false;
	return !protocol || p->any_protocol || p->protocol == protocol;
}

static struct addrinfo_socktype proto_type(const struct proto_entry *p,
					   int protocol, long port)
{
	struct addrinfo_socktype t = {
	    .socktype = p->socktype,
	    .protocol = p->any_protocol ? protocol : p->protocol,
	    .port = (uint16_t)port,
	};

	return t;
}

/* Hints with a socket type or protocol: the first table entry that fits
 * answers alone. Returns 0 or the EAI_* code. */
static int socktypes_given(const struct addrinfo *hints, const char *service,
			   long port, bool named, addrinfo_service_fn lookup,
			   struct addrinfo_socktype *out)
{
	const struct proto_entry *p = proto_table;

	while (p < proto_table + PROTO_COUNT &&
	       !proto_matches(p, hints->ai_socktype, hints->ai_protocol))
		p++;
	if (p == proto_table + PROTO_COUNT)
		return hints->ai_socktype ? EAI_SOCKTYPE : EAI_SERVICE;
	if (service && p->no_service)
		return EAI_SERVICE;
	if (named && (!lookup || (port = lookup(service, p->name)) < 0))
		return EAI_SERVICE;
	out[0] = proto_type(p, hints->ai_protocol, port);
	return 0;
}

/* Neither type nor protocol given, a service name: every protocol that
 * knows the name. Returns the number written, 0 when none does. */
static size_t socktypes_named(const char *service, addrinfo_service_fn lookup,
			      struct addrinfo_socktype *out)
{
	size_t i, n = 0;
	int port;

	for (i = 0; lookup && i < PROTO_COUNT; i++) {
		if (proto_table[i].no_service)
			continue;
		port = lookup(service, proto_table[i].name);
		if (port >= 0)
			out[n++] = proto_type(&proto_table[i], 0, port);
	}
	return n;
}

/* Neither type nor protocol given, a port number or no service: the
 * default types (TCP, UDP, raw). Returns the number written. */
static size_t socktypes_default(long port, struct addrinfo_socktype *out)
{
	size_t i, n = 0;

	for (i = 0; i < PROTO_COUNT; i++)
		if (proto_table[i].by_default)
			out[n++] = proto_type(&proto_table[i], 0, port);
	return n;
}

int addrinfo_socktypes(const struct addrinfo *hints, const char *service,
		       addrinfo_service_fn lookup,
		       struct addrinfo_socktype *out, size_t *count)
{
	bool named;
	long port;
	int rc;

	if (!hints)
		hints = &default_hints;
	*count = 0;
	rc = service_parse(service, hints->ai_flags, &port, &named);
	if (rc)
		return rc;
	if (hints->ai_socktype || hints->ai_protocol) {
		rc = socktypes_given(hints, service, port, named, lookup, out);
		*count = rc ? 0 : 1;
		return rc;
	}
	if (named) {
		*count = socktypes_named(service, lookup, out);
		return *count ? 0 : EAI_SERVICE;
	}
	*count = socktypes_default(port, out);
	return 0;
}

/* The family ep is written as for the requested family, or 0 to skip it. */
static int node_family(int wanted, const struct endpoint *ep)
{
	int natural = ep->kind == ENDPOINT_IPV4	  ? AF_INET
		      : ep->kind == ENDPOINT_IPV6 ? AF_INET6
						  : 0;

	if (!natural || wanted == AF_UNSPEC)
		return natural;
	if (wanted == AF_INET6)
		return AF_INET6; /* an IPv4 address becomes ::ffff:a.b.c.d */
	return natural == wanted ? natural : 0;
}

/* One node: a single malloc block holding the struct addrinfo and, right
 * after it, its socket address (glibc's layout, which its freeaddrinfo
 * relies on). Returns the node (the caller owns it) or NULL when out of
 * memory or ep cannot be written as family. */
static struct addrinfo *node_new(const struct endpoint *ep, int family,
				 const struct addrinfo_socktype *type,
				 int flags)
{
	struct sockaddr_storage ss;
	struct addrinfo *ai;
	socklen_t len = endpoint_to_sockaddr(ep, family, &ss);

	if (len == 0 || !(ai = malloc(sizeof(*ai) + len)))
		return NULL;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(type->port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(type->port);
	memset(ai, 0, sizeof(*ai));
	ai->ai_flags = flags;
	ai->ai_family = family;
	ai->ai_socktype = type->socktype;
	ai->ai_protocol = type->protocol;
	ai->ai_addrlen = len;
	ai->ai_addr = (struct sockaddr *)(ai + 1);
	memcpy(ai->ai_addr, &ss, len);
	return ai;
}

/* Append one node per (address, type) pair to *res. Returns 0 or
 * EAI_MEMORY (the nodes made so far stay in *res for the caller to free). */
static int nodes_add(const struct endpoint *addrs, size_t count,
		     const struct addrinfo *hints,
		     const struct addrinfo_socktype *types, size_t ntypes,
		     struct addrinfo **res)
{
	struct addrinfo **tail = res;
	size_t i, t;
	int family;

	for (i = 0; i < count; i++) {
		family = node_family(hints->ai_family, &addrs[i]);
		if (!family)
			continue;
		for (t = 0; t < ntypes; t++) {
			*tail = node_new(&addrs[i], family, &types[t],
					 hints->ai_flags);
			if (!*tail)
				return EAI_MEMORY;
			tail = &(*tail)->ai_next;
		}
	}
	return 0;
}

int addrinfo_build(const struct endpoint *addrs, size_t count,
		   const char *service, const struct addrinfo *hints,
		   const char *canonname, addrinfo_service_fn lookup,
		   struct addrinfo **res)
{
	struct addrinfo_socktype types[ADDRINFO_MAX_TYPES];
	size_t ntypes;
	int rc;

	*res = NULL;
	if (!hints)
		hints = &default_hints;
	rc = addrinfo_check_hints(hints);
	if (!rc)
		rc = addrinfo_socktypes(hints, service, lookup, types, &ntypes);
	if (!rc)
		rc = nodes_add(addrs, count, hints, types, ntypes, res);
	if (!rc && !*res)
		rc = EAI_NONAME;
	if (!rc && (hints->ai_flags & AI_CANONNAME) && canonname &&
	    !((*res)->ai_canonname = strdup(canonname)))
		rc = EAI_MEMORY;
	if (rc) {
		addrinfo_free(*res);
		*res = NULL;
	}
	return rc;
}

void addrinfo_free(struct addrinfo *list)
{
	struct addrinfo *next;

	for (; list; list = next) {
		next = list->ai_next;
		free(list->ai_canonname);
		free(list);
	}
}

/* Copy the addresses of family from addrs into raw (alen bytes each).
 * Returns how many were copied. */
static size_t hostent_addresses(int family, const struct endpoint *addrs,
				size_t count,
				uint8_t raw[][sizeof(struct in6_addr)])
{
	struct sockaddr_storage ss;
	size_t i, n = 0;

	for (i = 0; i < count && n < ADDRINFO_MAX_ADDRS; i++) {
		if (node_family(family, &addrs[i]) != family ||
		    !endpoint_to_sockaddr(&addrs[i], family, &ss))
			continue;
		if (family == AF_INET)
			memcpy(raw[n++], &((struct sockaddr_in *)&ss)->sin_addr,
			       4);
		else
			memcpy(raw[n++],
			       &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
	return n;
}

/* Layout in buf (after padding to pointer alignment):
 *   h_aliases[1] (NULL) | h_addr_list[n + 1] | n addresses | h_name NUL */
int addrinfo_fill_hostent(struct hostent *he, char *buf, size_t cap,
			  const char *name, int family,
			  const struct endpoint *addrs, size_t count)
{
	uint8_t raw[ADDRINFO_MAX_ADDRS][sizeof(struct in6_addr)];
	size_t alen = family == AF_INET6 ? 16 : 4;
	size_t pad = -(uintptr_t)buf & (alignof(char *) - 1);
	size_t n, i, name_len = strlen(name) + 1;
	char **slots, *data;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	n = hostent_addresses(family, addrs, count, raw);
	if (n == 0)
		return 0;
	if (cap < pad + (n + 2) * sizeof(char *) + n * alen + name_len)
		return -ERANGE;
	slots = (char **)(void *)(buf + pad);
	data = (char *)(slots + n + 2);
	slots[0] = NULL; /* the alias list */
	for (i = 0; i < n; i++) {
		slots[1 + i] = memcpy(data + i * alen, raw[i], alen);
	}
	slots[1 + n] = NULL;
	he->h_name = memcpy(data + n * alen, name, name_len);
	he->h_aliases = slots;
	he->h_addrtype = family;
	he->h_length = (int)alen;
	he->h_addr_list = slots + 1;
	return (int)n;
}

/* Room for the longest name and ADDRINFO_MAX_ADDRS IPv6 addresses. */
#define HOSTENT_STATIC_BUF                                                     \
	((ADDRINFO_MAX_ADDRS + 3) * sizeof(char *) +                           \
	 ADDRINFO_MAX_ADDRS * sizeof(struct in6_addr) + ENDPOINT_NAME_MAX + 1)

static _Thread_local struct {
	struct hostent he;
	alignas(char *) char buf[HOSTENT_STATIC_BUF];
} static_hostent;

struct hostent *addrinfo_static_hostent(const char *name, int family,
					const struct endpoint *addrs,
					size_t count)
{
	int n = addrinfo_fill_hostent(&static_hostent.he, static_hostent.buf,
				      sizeof static_hostent.buf, name, family,
				      addrs, count);

	return n > 0 ? &static_hostent.he : NULL;
}
