/* hosts.h — look names up in /etc/hosts text, so that names the system
 * defines locally (localhost, lab hosts) are not sent to the proxy. */
#ifndef SOCKSIFY_HOSTS_H
#define SOCKSIFY_HOSTS_H

#include <stddef.h>

#include "endpoint.h"

/* Search text (hosts(5) format) for name (case-insensitive; aliases count;
 * one trailing dot on name ignored; a repeated address is returned once).
 * family is AF_INET, AF_INET6 or AF_UNSPEC (first match of either).
 * Returns the number of addresses written to out[0..max) (IPv4 before IPv6
 * for AF_UNSPEC, file order within a family), 0 when the name is absent. */
size_t hosts_lookup(const char *text, size_t len, const char *name, int family,
		    struct endpoint *out, size_t max);

#endif
