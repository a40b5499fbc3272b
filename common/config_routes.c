/* config_routes.c — the routing keys: direct, block and route rules (MATCH
 * an address, a CIDR prefix, "*" or a host-name pattern), named chains and
 * groups. A name must be defined above the line that uses it, so a group
 * can never contain itself, directly or through another group. Error texts
 * never quote a password. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config_internal.h"

/* The transport named by a rule's last word, or RULE_PROTO_ANY when that
 * word is not "tcp" or "udp". */
static enum rule_proto parse_rule_proto(const char *word)
{
	if (strcmp(word, "tcp") == 0)
		return RULE_PROTO_TCP;
	if (strcmp(word, "udp") == 0)
		return RULE_PROTO_UDP;
	return RULE_PROTO_ANY;
}

/* A word of the rule syntax, never a host name: "direct udp" lacks its
 * MATCH rather than naming a host "udp". */
static bool rule_keyword(const char *text)
{
	static const char *const words[] = {"tcp", "udp", "port", "via",
					    "none"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(text, words[i]) == 0)
			return true;
	return false;
}

/* MATCH into r: "*", an address or prefix, or a host-name pattern. */
static int parse_match(struct config_parser *ps, const char *text,
		       struct rule *r)
{
	if (netmask_parse(&r->net, text) == 0)
		return 0;
	memset(&r->net, 0, sizeof(r->net));
	if (!rule_keyword(text) && match_host_parse(&r->host, text) == 0)
		return 0;
	return config_reject(ps,
			     "bad match '%.64s': expected *, an address, a "
			     "CIDR prefix or a host name (host.example, "
			     ".example, *.example)",
			     SHOWN(text));
}

/* A direct host-name rule decides when the name is looked up, before any
 * port or transport is known. */
static int check_direct_host(struct config_parser *ps, const struct rule *r)
{
	if (r->action != RULE_DIRECT || !match_host_is_set(&r->host))
		return 0;
	if (r->port_min != 0 || r->port_max != UINT16_MAX ||
	    r->proto != RULE_PROTO_ANY)
		return config_reject(
		    ps, "a direct host-name rule takes no port or transport: "
			"the name is resolved before either is known");
	return 0;
}

/* Add r, complete but for the MATCH words in args[0..n). */
static int add_rule(struct config_parser *ps, char **args, unsigned n,
		    struct rule *r)
{
	struct config *cfg = ps->cfg;

	if (n == 2 || n == 4) {
		r->proto = parse_rule_proto(args[n - 1]);
		if (r->proto != RULE_PROTO_ANY)
			n--;
	}
	if (n == 0 || n == 2 || n == 4 ||
	    (n == 3 && strcmp(args[1], "port") != 0))
		return config_reject(ps,
				     "expected MATCH [port P|P-Q] [tcp|udp]");
	if (parse_match(ps, args[0], r) < 0)
		return -EINVAL;
	if (n == 3 && portrange_parse(args[2], &r->port_min, &r->port_max) < 0)
		return config_reject(ps,
				     "bad port '%.32s': expected P or P-Q "
				     "within 0..65535",
				     SHOWN(args[2]));
	if (check_direct_host(ps, r) < 0)
		return -EINVAL;
	if (cfg->rule_count >= CONFIG_MAX_RULES)
		return config_reject(ps, "more than %d rules",
				     CONFIG_MAX_RULES);
	r->line = ps->line;
	cfg->rules[cfg->rule_count++] = *r;
	return 0;
}

int config_parse_rule(struct config_parser *ps, char **args, unsigned n,
		      enum rule_action action)
{
	struct rule r = {
	    .action = action, .port_min = 0, .port_max = UINT16_MAX};

	if (action == RULE_DIRECT) {
		ps->cfg->default_direct = false;
		if (n == 1 && strcmp(args[0], "none") == 0)
			return 0;
	}
	return add_rule(ps, args, n, &r);
}

/* ---- names ---- */

/* Find a chain or group by name; "default" is the proxy lines' chain.
 * Returns 0 or -ENOENT. */
static int find_target(const struct config *cfg, const char *name,
		       struct route_target *out)
{
	unsigned i;

	if (strcmp(name, "default") == 0) {
		*out =
		    (struct route_target){TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};
		return 0;
	}
	for (i = 1; i < cfg->chain_count; i++)
		if (cfg->chains[i].name[0] &&
		    strcmp(cfg->chains[i].name, name) == 0) {
			*out = (struct route_target){TARGET_CHAIN, i};
			return 0;
		}
	for (i = 0; i < cfg->group_count; i++)
		if (strcmp(cfg->groups[i].name, name) == 0) {
			*out = (struct route_target){TARGET_GROUP, i};
			return 0;
		}
	return -ENOENT;
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* A new chain or group name: 1..31 of [A-Za-z0-9._-], not "default", not
 * taken. Copied into out[CONFIG_NAME_MAX]. */
static int parse_new_name(struct config_parser *ps, const char *name, char *out)
{
	struct route_target t;
	size_t len = strlen(name), i;

	for (i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			break;
	if (len == 0 || len >= CONFIG_NAME_MAX || i < len)
		return config_reject(ps,
				     "bad name: 1 to %d letters, digits, "
				     "'.', '-' or '_'",
				     CONFIG_NAME_MAX - 1);
	if (find_target(ps->cfg, name, &t) == 0)
		return config_reject(ps, "'%s' is already defined%s", name,
				     strcmp(name, "default") == 0
					 ? " (the chain of the proxy lines)"
					 : "");
	memcpy(out, name, len + 1);
	return 0;
}

/* A name used by a rule or group: it must be defined above. */
static int parse_target(struct config_parser *ps, const char *name,
			struct route_target *out)
{
	if (find_target(ps->cfg, name, out) == 0)
		return 0;
	if (strstr(name, "://") || strlen(name) >= CONFIG_NAME_MAX)
		return config_reject(ps, "unknown chain or group");
	return config_reject(ps,
			     "unknown chain or group '%s' (define it above "
			     "this line)",
			     SHOWN(name));
}

/* "route MATCH [port P|P-Q] [tcp|udp] via NAME". */
int config_key_route(struct config_parser *ps, char **args, unsigned n)
{
	struct rule r = {
	    .action = RULE_VIA, .port_min = 0, .port_max = UINT16_MAX};

	if (n < 3 || strcmp(args[n - 2], "via") != 0)
		return config_reject(ps, "expected \"route MATCH [port P|P-Q] "
					 "[tcp|udp] via NAME\"");
	if (parse_target(ps, args[n - 1], &r.via) < 0)
		return -EINVAL;
	return add_rule(ps, args, n - 2, &r);
}

/* ---- chains ---- */

/* Append one hop (URL) to the hop pool. */
static int add_hop(struct config_parser *ps, const char *url)
{
	struct config *cfg = ps->cfg;
	char why[CONFIG_WHY_MAX];
	struct proxy *p;

	if (cfg->chain_hop_count >= CONFIG_MAX_CHAIN_HOPS)
		return config_reject(ps, "more than %d proxies in chains",
				     CONFIG_MAX_CHAIN_HOPS);
	p = &cfg->chain_hops[cfg->chain_hop_count];
	if (proxyurl_parse(p, url, why, sizeof(why)) < 0) {
		explicit_bzero(p, sizeof(*p));
		return config_reject(ps, "bad proxy URL: %s", why);
	}
	cfg->chain_hop_count++;
	return 0;
}

/* The option words (config_proxy_option()) after the hop just added, from
 * args[*i + 1] on; *i ends at the last one. Returns 0 or -EINVAL. */
static int hop_options(struct config_parser *ps, char **args, unsigned n,
		       unsigned *i)
{
	struct proxy *p = &ps->cfg->chain_hops[ps->cfg->chain_hop_count - 1];
	unsigned url = *i;
	int rc;

	while (*i + 1 < n) {
		rc = config_proxy_option(ps, p, args[*i + 1]);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		(*i)++;
		if (config_proxy_option_repeated(args, url + 1, *i))
			return config_reject(ps, "a proxy option is given "
						 "twice");
	}
	return config_proxy_options_check(ps, p);
}

/* A new chain of the URLs in args[0..n), each optionally followed by
 * its option words ("pipeline", "gssapi", ...); its index in *index. */
static int add_chain(struct config_parser *ps, const char *name, char **args,
		     unsigned n, unsigned *index)
{
	struct config *cfg = ps->cfg;
	struct chain *c = &cfg->chains[cfg->chain_count];
	unsigned i;

	if (cfg->chain_count >= CONFIG_MAX_CHAINS)
		return config_reject(ps, "more than %d chains",
				     CONFIG_MAX_CHAINS - 1);
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->first = cfg->chain_hop_count;
	for (i = 0; i < n; i++) {
		if (c->count >= CONFIG_MAX_PROXIES)
			return config_reject(ps,
					     "more than %d proxies in a "
					     "chain",
					     CONFIG_MAX_PROXIES);
		if (add_hop(ps, args[i]) < 0 ||
		    hop_options(ps, args, n, &i) < 0)
			return -EINVAL;
		c->count++;
	}
	*index = cfg->chain_count++;
	return 0;
}

/* "chain NAME URL [pipeline] [gssapi ...] [URL [pipeline] ...]". */
int config_key_chain(struct config_parser *ps, char **args, unsigned n)
{
	struct proxy scratch;
	char name[CONFIG_NAME_MAX];
	unsigned index;
	int option;

	if (parse_new_name(ps, args[0], name) < 0)
		return -EINVAL;
	memset(&scratch, 0, sizeof(scratch));
	option = config_proxy_option(ps, &scratch, args[1]);
	if (option < 0)
		return -EINVAL;
	if (option > 0)
		return config_reject(ps, "expected \"chain NAME URL "
					 "[pipeline] [gssapi ...] [URL ...]\"");
	return add_chain(ps, name, args + 1, n - 1, &index);
}

/* ---- groups ---- */

static int parse_group_mode(struct config_parser *ps, const char *word,
			    enum group_mode *out)
{
	static const char *const names[] = {
	    [GROUP_FAILOVER] = "failover",
	    [GROUP_RACE] = "race",
	    [GROUP_ROUND_ROBIN] = "round-robin",
	    [GROUP_RANDOM] = "random",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(word, names[i]) == 0) {
			*out = (enum group_mode)i;
			return 0;
		}
	return config_reject(ps, "group mode must be failover, race, "
				 "round-robin or random");
}

/* One member: a URL (a chain of its own), or the name of a chain or a
 * group defined above. */
static int parse_member(struct config_parser *ps, const char *group_name,
			const char *word, struct route_target *out)
{
	if (strstr(word, "://")) {
		out->kind = TARGET_CHAIN;
		return add_chain(ps, "", (char **)&word, 1, &out->index);
	}
	if (strcmp(word, group_name) == 0)
		return config_reject(ps, "group '%s' cannot contain itself",
				     group_name);
	return parse_target(ps, word, out);
}

/* "group NAME failover|race|round-robin|random MEMBER [MEMBER ...]". */
int config_key_group(struct config_parser *ps, char **args, unsigned n)
{
	struct config *cfg = ps->cfg;
	struct group g;
	unsigned i, j;

	memset(&g, 0, sizeof(g));
	if (cfg->group_count >= CONFIG_MAX_GROUPS)
		return config_reject(ps, "more than %d groups",
				     CONFIG_MAX_GROUPS);
	if (parse_new_name(ps, args[0], g.name) < 0 ||
	    parse_group_mode(ps, args[1], &g.mode) < 0)
		return -EINVAL;
	if (n - 2 > CONFIG_MAX_MEMBERS)
		return config_reject(ps, "more than %d members",
				     CONFIG_MAX_MEMBERS);
	for (i = 2; i < n; i++) {
		struct route_target *m = &g.members[g.member_count];

		if (parse_member(ps, g.name, args[i], m) < 0)
			return -EINVAL;
		for (j = 0; j < g.member_count; j++)
			if (g.members[j].kind == m->kind &&
			    g.members[j].index == m->index)
				return config_reject(ps,
						     "member %u repeats "
						     "member %u",
						     i - 1, j + 1);
		g.member_count++;
	}
	cfg->groups[cfg->group_count++] = g;
	return 0;
}

int config_key_down_time(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return config_parse_timeout(ps, args[0], &ps->cfg->down_time_ms);
}

int config_key_race_delay(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return config_parse_timeout(ps, args[0], &ps->cfg->race_delay_ms);
}

/* ---- reading the model ---- */

const struct proxy *config_chain_hops(const struct config *cfg, unsigned index,
				      unsigned *count)
{
	const struct chain *c;

	if (index == CONFIG_DEFAULT_CHAIN || index >= cfg->chain_count) {
		*count = cfg->proxy_count;
		return cfg->proxies;
	}
	c = &cfg->chains[index];
	*count = c->count;
	return &cfg->chain_hops[c->first];
}

const char *config_target_name(const struct config *cfg,
			       struct route_target target, char *buf,
			       size_t cap)
{
	const struct proxy *hops;
	unsigned count;

	if (target.kind == TARGET_GROUP)
		return target.index < cfg->group_count
			   ? cfg->groups[target.index].name
			   : "?";
	if (target.index == CONFIG_DEFAULT_CHAIN)
		return "default";
	if (target.index < cfg->chain_count &&
	    cfg->chains[target.index].name[0])
		return cfg->chains[target.index].name;
	hops = config_chain_hops(cfg, target.index, &count);
	if (count == 0)
		return "?";
	return proxyurl_format(&hops[0], buf, cap);
}
