/* explain.h — "socksify --explain HOST[:PORT] [tcp|udp]": which rule
 * decides a destination, which chain or group carries it, through which
 * proxies, and why — without connecting. The text is built here from the
 * configuration alone (no I/O), so it is the same decision the library
 * makes, and unit-testable. */
#ifndef SOCKSIFY_EXPLAIN_H
#define SOCKSIFY_EXPLAIN_H

#include <stddef.h>

#include "config.h"

/* Room for a whole explanation. */
#define EXPLAIN_TEXT_MAX 8192

/* Explain destination text ("host.example", "host.example:443",
 * "192.0.2.1:22", "[2001:db8::1]:443" or a bare IPv6 address) for
 * transport word ("tcp", "udp" or NULL for tcp) into buf, one fact per
 * line. Without a port the port is 0, which rules limited to ports do not
 * match. Returns 0, or -EINVAL with a one-line reason in buf. */
int explain_route(const struct config *cfg, const char *destination,
		  const char *transport, char *buf, size_t cap);

#endif
