/* resolve.h — the remote-DNS decision and name lookup shared by the
 * resolver hooks (resolve.c, hostent.c, gai_async.c). Internal to preload/. */
#ifndef SOCKSIFY_RESOLVE_H
#define SOCKSIFY_RESOLVE_H

#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>

#include "addrinfo.h"
#include "config.h"
#include "route.h"
#include "endpoint.h"

/* The fork handlers of the kept /etc/hosts text; once, from
 * preload_register. */
void resolve_register(void);

/* True when socksify answers name lookups itself: remote DNS is on, or the
 * configuration is invalid (then only hosts-file names are answered and
 * everything else fails, so that libc never sends a DNS query). */
bool resolve_is_ours(const struct config *cfg);

/* True when name must be left to libc even when resolve_is_ours: NULL, or
 * a numeric address (those are never faked and need no lookup). */
bool resolve_is_literal(const char *name);

/* The addresses for name (not a literal) of family (AF_INET, AF_INET6 or
 * AF_UNSPEC): from /etc/hosts when the file names it in any family, else a
 * fake address per family. flags are getaddrinfo's (AI_V4MAPPED, AI_ALL
 * add IPv4 addresses for AF_INET6). Writes up to ADDRINFO_MAX_ADDRS
 * endpoints to out and their number to *count (possibly 0 for a hosts name
 * without an address of family). Returns 0, EAI_NONAME (empty or too long
 * name), EAI_MEMORY (the fake range is full, logged; or out of memory), or
 * EAI_FAIL (invalid configuration or no fake-DNS table, logged). */
int resolve_addresses(const struct config *cfg, const char *name, int family,
		      int flags, struct endpoint *out, size_t *count);

/* What the host-name rules say of a lookup of name (route_lookup, logged
 * at info level): ROUTE_DIRECT (real DNS), ROUTE_BLOCK (the lookup fails
 * with EAI_NONAME), or ROUTE_PROXY (as without rules). */
enum route_decision resolve_rule(const struct config *cfg, const char *name);

/* remote_dns resolve: the name of the real address addr, asked of the
 * proxy with Tor's RESOLVE_PTR. Returns 0 with *name (ENDPOINT_NAME),
 * -ENOENT when the proxy gave none (logged), HOOK_PASS when the mode is
 * not resolve. */
int resolve_proxy_name(const struct endpoint *addr, struct endpoint *name);

/* getaddrinfo() without the errno bookkeeping: libc's for literals and when
 * remote DNS is off, ours otherwise. Returns 0 or an EAI_* code. */
int resolve_getaddrinfo(const char *node, const char *service,
			const struct addrinfo *hints, struct addrinfo **res);

#endif
