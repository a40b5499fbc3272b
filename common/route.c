/* route.c — decide direct / proxy (via which chain or group) / block for a
 * destination from the configuration's rules. Pure functions of their
 * arguments. */
#include "route.h"

#include <string.h>
#include <sys/socket.h>

/* The loopback rules used when the file gave no direct rule. */
static const struct netmask default_direct_nets[] = {
    {AF_INET, {127}, 8},
    {AF_INET6, {[15] = 1}, 128},
};

/* A rule without a transport qualifier applies to both. */
static bool rule_proto_matches(const struct rule *r, enum rule_proto proto)
{
	return r->proto == RULE_PROTO_ANY || r->proto == proto;
}

/* Does r's MATCH fit the destination? name is the host name (of a name
 * endpoint or behind a fake address) or NULL; by_name says the destination
 * is a name or fake address rather than a real IP. */
static bool rule_target_matches(const struct rule *r,
				const struct endpoint *dest, const char *name,
				bool by_name)
{
	if (match_host_is_set(&r->host))
		return name && match_host(&r->host, name, strlen(name));
	if (r->net.family == AF_UNSPEC)
		return true;
	return !by_name && netmask_contains(&r->net, dest);
}

static bool rule_matches(const struct rule *r, const struct endpoint *dest,
			 const char *name, bool by_name, enum rule_proto proto)
{
	if (!rule_proto_matches(r, proto) || dest->port < r->port_min ||
	    dest->port > r->port_max)
		return false;
	/* A name or fake address cannot go direct: it means nothing outside
	 * socksify. */
	if (by_name && r->action == RULE_DIRECT)
		return false;
	return rule_target_matches(r, dest, name, by_name);
}

static enum route_decision choose(struct route_choice *out,
				  enum route_decision d, int rule,
				  struct route_target via)
{
	out->decision = d;
	out->rule = rule;
	out->via = via;
	return d;
}

static enum route_decision choose_rule(const struct config *cfg, unsigned i,
				       struct route_choice *out)
{
	static const enum route_decision of_action[] = {
	    [RULE_DIRECT] = ROUTE_DIRECT,
	    [RULE_BLOCK] = ROUTE_BLOCK,
	    [RULE_VIA] = ROUTE_PROXY,
	};
	const struct rule *r = &cfg->rules[i];
	struct route_target via = {TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};

	if (r->action == RULE_VIA)
		via = r->via;
	return choose(out, of_action[r->action], (int)i, via);
}

/* After the file's rules: loopback direct (unless the file gave direct
 * rules), else the default chain. */
static enum route_decision choose_default(const struct config *cfg,
					  const struct endpoint *dest,
					  bool by_name,
					  struct route_choice *out)
{
	static const struct route_target deflt = {TARGET_CHAIN,
						  CONFIG_DEFAULT_CHAIN};
	size_t i;

	if (cfg->default_direct && !by_name)
		for (i = 0; i < sizeof(default_direct_nets) /
				    sizeof(default_direct_nets[0]);
		     i++)
			if (netmask_contains(&default_direct_nets[i], dest))
				return choose(out, ROUTE_DIRECT,
					      ROUTE_RULE_LOOPBACK, deflt);
	return choose(out, ROUTE_PROXY, ROUTE_RULE_NONE, deflt);
}

enum route_decision route_select(const struct config *cfg,
				 const struct endpoint *dest, const char *name,
				 bool is_fake, enum rule_proto proto,
				 struct route_choice *out)
{
	static const struct route_target deflt = {TARGET_CHAIN,
						  CONFIG_DEFAULT_CHAIN};
	bool by_name;
	unsigned i;

	if (!cfg || !cfg->valid || !dest)
		return choose(out, ROUTE_BLOCK, ROUTE_RULE_INVALID, deflt);
	by_name = is_fake || dest->kind == ENDPOINT_NAME;
	if (dest->kind == ENDPOINT_NAME)
		name = dest->u.name;
	else if (dest->kind != ENDPOINT_IPV4 && dest->kind != ENDPOINT_IPV6)
		return choose(out, ROUTE_BLOCK, ROUTE_RULE_INVALID, deflt);
	for (i = 0; i < cfg->rule_count; i++)
		if (rule_matches(&cfg->rules[i], dest, name, by_name, proto))
			return choose_rule(cfg, i, out);
	return choose_default(cfg, dest, by_name, out);
}

/* A rule that can decide before the port and transport are known. */
static bool rule_unqualified(const struct rule *r)
{
	return r->proto == RULE_PROTO_ANY && r->port_min == 0 &&
	       r->port_max == UINT16_MAX;
}

enum route_decision route_lookup(const struct config *cfg, const char *name,
				 size_t len, struct route_choice *out)
{
	static const struct route_target deflt = {TARGET_CHAIN,
						  CONFIG_DEFAULT_CHAIN};
	unsigned i;

	if (!cfg || !cfg->valid)
		return choose(out, ROUTE_BLOCK, ROUTE_RULE_INVALID, deflt);
	for (i = 0; i < cfg->rule_count; i++) {
		const struct rule *r = &cfg->rules[i];

		if (!match_host(&r->host, name, len))
			continue;
		if (!rule_unqualified(r))
			break; /* the connect decides, by port */
		return choose_rule(cfg, i, out);
	}
	return choose(out, ROUTE_PROXY, ROUTE_RULE_NONE, deflt);
}

enum route_decision route_classify_proto(const struct config *cfg,
					 const struct endpoint *dest,
					 bool is_fake, enum rule_proto proto)
{
	struct route_choice choice;

	return route_select(cfg, dest, NULL, is_fake, proto, &choice);
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
