/* route.h — which way a destination goes: direct, via a chain or group, or
 * refused; and what a host-name lookup does under remote DNS. */
#ifndef SOCKSIFY_ROUTE_H
#define SOCKSIFY_ROUTE_H

#include <stddef.h>

#include "config.h"
#include "endpoint.h"

enum route_decision {
	ROUTE_DIRECT,
	ROUTE_PROXY,
	ROUTE_BLOCK,
};

/* What decided, besides the decision. */
#define ROUTE_RULE_NONE	    (-1) /* no rule matched: the default chain */
#define ROUTE_RULE_LOOPBACK (-2) /* the built-in loopback rule */
#define ROUTE_RULE_INVALID  (-3) /* the configuration is invalid */

struct route_choice {
	enum route_decision decision;
	int rule;		 /* index in cfg->rules, or ROUTE_RULE_* */
	struct route_target via; /* ROUTE_PROXY: the chain or group */
};

/* Classify a destination for transport proto. dest is an IP address or a
 * name; name is the host name behind a fake address (NULL when unknown or
 * not fake; a name endpoint brings its own). Rules are tried in file order,
 * the first match wins:
 *   - an address or prefix matches a real IP destination only;
 *   - a host-name pattern matches the name, when there is one;
 *   - "*" matches everything;
 *   - a direct rule never matches a name or a fake address (it stands for
 *     a host only the proxy can reach).
 * Then the built-in loopback rules, then the default chain. An invalid
 * config blocks everything. Returns out->decision. */
enum route_decision route_select(const struct config *cfg,
				 const struct endpoint *dest, const char *name,
				 bool is_fake, enum rule_proto proto,
				 struct route_choice *out);

/* What a lookup of name[0..len) does under remote DNS, port and transport
 * still unknown: the first host-name rule that fits it decides when it has
 * neither port nor transport (direct: ROUTE_DIRECT, resolve locally;
 * block: ROUTE_BLOCK, the lookup fails; route: ROUTE_PROXY). A fitting rule
 * with a port or transport, or no fitting rule, gives ROUTE_PROXY (a fake
 * address; the connect decides with route_select()). */
enum route_decision route_lookup(const struct config *cfg, const char *name,
				 size_t len, struct route_choice *out);

/* route_select() without the name of a fake address, for TCP. */
enum route_decision route_classify(const struct config *cfg,
				   const struct endpoint *dest, bool is_fake);

/* The same for a given transport: rules with a proto qualifier apply only
 * to it (route_classify() is this with RULE_PROTO_TCP). */
enum route_decision route_classify_proto(const struct config *cfg,
					 const struct endpoint *dest,
					 bool is_fake, enum rule_proto proto);

const char *route_name(enum route_decision d);

#endif
