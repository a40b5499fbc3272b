/* route.h — which way a destination goes: direct, via the proxy, refused. */
#ifndef SOCKSIFY_ROUTE_H
#define SOCKSIFY_ROUTE_H

#include "config.h"
#include "endpoint.h"

enum route_decision {
	ROUTE_DIRECT,
	ROUTE_PROXY,
	ROUTE_BLOCK,
};

/* Classify an IP destination (never a name). The first matching rule wins;
 * the default-direct loopback rules come after the file's rules; no match
 * means ROUTE_PROXY. An invalid config blocks everything. A fake address
 * (the caller says so) means nothing outside socksify, so it is never direct:
 * it goes ROUTE_PROXY unless a block rule for any address ("*") matches its
 * port. */
enum route_decision route_classify(const struct config *cfg,
				   const struct endpoint *dest, bool is_fake);

/* The same for a given transport: rules with a proto qualifier apply only
 * to it (route_classify() is this with RULE_PROTO_TCP). */
enum route_decision route_classify_proto(const struct config *cfg,
					 const struct endpoint *dest,
					 bool is_fake, enum rule_proto proto);

const char *route_name(enum route_decision d);

#endif
