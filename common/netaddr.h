/* netaddr.h — network prefixes (CIDR) and port ranges, parsed and matched. */
#ifndef SOCKSIFY_NETADDR_H
#define SOCKSIFY_NETADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint.h"

/* A network prefix. family is AF_INET or AF_INET6; AF_UNSPEC matches every
 * IP address ("*" in the config). addr holds 4 or 16 bytes. */
struct netmask {
	int family;
	uint8_t addr[16];
	unsigned prefix;
};

/* Parse "10.0.0.0/8", "::1/128", "192.0.2.7" (a host), "*" (any).
 * Bits set beyond the prefix are an error (a likely typo).
 * Returns 0 or -EINVAL. */
int netmask_parse(struct netmask *net, const char *text);

/* True when ep (IPv4 or IPv6; never a name) lies inside net. */
bool netmask_contains(const struct netmask *net, const struct endpoint *ep);

/* Number of addresses in net, capped at UINT32_MAX. */
uint32_t netmask_size(const struct netmask *net);

/* Parse "80" or "6000-6010" into [*lo, *hi]. Returns 0 or -EINVAL. */
int portrange_parse(const char *text, uint16_t *lo, uint16_t *hi);

/* The value of the hex digit c (either case), or -1. */
int netaddr_hex_digit(char c);

#endif
