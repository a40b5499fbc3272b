/* route.c — decide direct / proxy / block for a destination address from
 * the configuration's rules. Pure function of its arguments. */
#include "route.h"

#include <sys/socket.h>

/* The loopback rules used when the file gave no direct rule. */
static const struct rule default_direct_rules[] = {
    {RULE_DIRECT, {AF_INET, {127}, 8}, 0, 65535, RULE_PROTO_ANY},
    {RULE_DIRECT, {AF_INET6, {[15] = 1}, 128}, 0, 65535, RULE_PROTO_ANY},
};

/* A rule without a transport qualifier applies to both. */
static bool rule_proto_matches(const struct rule *r, enum rule_proto proto)
{
	return r->proto == RULE_PROTO_ANY || r->proto == proto;
}

static bool rule_matches(const struct rule *r, const struct endpoint *dest,
			 enum rule_proto proto)
{
	return rule_proto_matches(r, proto) && dest->port >= r->port_min &&
	       dest->port <= r->port_max && netmask_contains(&r->net, dest);
}

static enum route_decision rule_decision(const struct rule *r)
{
	return r->action == RULE_DIRECT ? ROUTE_DIRECT : ROUTE_BLOCK;
}

/* A fake address (or a name) stands for a host only the proxy can reach:
 * no rule may send it direct, and only a block rule for every address ("*")
 * can refuse it, because a network rule cannot know where the name lives. */
static enum route_decision classify_name(const struct config *cfg,
					 const struct endpoint *dest,
					 enum rule_proto proto)
{
	unsigned i;

	for (i = 0; i < cfg->rule_count; i++) {
		const struct rule *r = &cfg->rules[i];

		if (r->action == RULE_BLOCK && r->net.family == AF_UNSPEC &&
		    rule_proto_matches(r, proto) && dest->port >= r->port_min &&
		    dest->port <= r->port_max)
			return ROUTE_BLOCK;
	}
	return ROUTE_PROXY;
}

enum route_decision route_classify_proto(const struct config *cfg,
					 const struct endpoint *dest,
					 bool is_fake, enum rule_proto proto)
{
	unsigned i;

	if (!cfg || !cfg->valid || !dest)
		return ROUTE_BLOCK;
	if (dest->kind == ENDPOINT_NAME || is_fake)
		return classify_name(cfg, dest, proto);
	if (dest->kind != ENDPOINT_IPV4 && dest->kind != ENDPOINT_IPV6)
		return ROUTE_BLOCK;
	for (i = 0; i < cfg->rule_count; i++)
		if (rule_matches(&cfg->rules[i], dest, proto))
			return rule_decision(&cfg->rules[i]);
	if (!cfg->default_direct)
		return ROUTE_PROXY;
	for (i = 0;
	     i < sizeof(default_direct_rules) / sizeof(default_direct_rules[0]);
	     i++)
		if (rule_matches(&default_direct_rules[i], dest, proto))
			return ROUTE_DIRECT;
	return ROUTE_PROXY;
}

enum route_decision route_classify(const struct config *cfg,
				   const struct endpoint *dest, bool is_fake)
{
	return route_classify_proto(cfg, dest, is_fake, RULE_PROTO_TCP);
}

const char *route_name(enum route_decision d)
{
	static const char *const names[] = {
	    [ROUTE_DIRECT] = "direct",
	    [ROUTE_PROXY] = "proxy",
	    [ROUTE_BLOCK] = "block",
	};

	if ((unsigned)d >= sizeof names / sizeof names[0])
		return "unknown";
	return names[d];
}
