/* match.h — host-name patterns of routing rules: "host.example" (that name
 * only), ".example" or "*.example" (the domain and every name below it).
 * Addresses and CIDR prefixes are struct netmask (netaddr.h); a rule holds
 * one or the other. Pure functions, no allocation. */
#ifndef SOCKSIFY_MATCH_H
#define SOCKSIFY_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* A DNS name is at most 253 characters without its final dot. */
#define MATCH_HOST_MAX 254

struct host_pattern {
	/* Lower case, no leading or trailing dot; "" when the rule is not a
	 * host-name rule. */
	char name[MATCH_HOST_MAX];
	bool domain; /* ".example": the name itself and every name below it */
};

/* Parse a host-name pattern: labels of letters, digits, '-' and '_'
 * separated by dots, optionally led by "." or "*.". A pattern whose last
 * label is all digits (a mistyped address) is refused. Returns 0 or
 * -EINVAL. */
int match_host_parse(struct host_pattern *p, const char *text);

/* True when p is a host-name pattern (not the empty one). */
bool match_host_is_set(const struct host_pattern *p);

/* Does name[0..len) fit p? Case-insensitive; one trailing dot of the name
 * (a fully qualified "example.org.") is ignored. */
bool match_host(const struct host_pattern *p, const char *name, size_t len);

#endif
