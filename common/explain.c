/* explain.c — the text of "socksify --explain" (see explain.h). */
#include "explain.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "group.h"
#include "gssmsg.h"
#include "route.h"
#include "udpassoc.h"

/* An output buffer that text is appended to; it stops at its end. */
struct explain_out {
	char *buf;
	size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void
explain_add(struct explain_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->cap - o->len ? (size_t)n
						      : o->cap - o->len - 1;
}

/* ---- the destination ---- */

/* Split "HOST", "HOST:PORT", "[V6]:PORT" or a bare IPv6 address into an
 * endpoint (IP or name). Returns 0 or -EINVAL. */
static int explain_parse(const char *text, struct endpoint *ep)
{
	char host[ENDPOINT_NAME_MAX + 1];
	const char *colon = strrchr(text, ':'), *end;
	unsigned long port = 0;
	size_t len;

	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		colon = end[1] ? end + 1 : NULL;
		text++;
	} else if (colon && strchr(text, ':') != colon) {
		colon = NULL; /* a bare IPv6 address */
		end = text + strlen(text);
	} else {
		end = colon ? colon : text + strlen(text);
	}
	len = (size_t)(end - text);
	if (len == 0 || len >= sizeof(host))
		return -EINVAL;
	if (colon) {
		char *stop;

		port = strtoul(colon + 1, &stop, 10);
		if (!colon[1] || *stop || port > 65535)
			return -EINVAL;
	}
	memcpy(host, text, len);
	host[len] = '\0';
	if (endpoint_parse_ip(ep, host) == 0) {
		ep->port = (uint16_t)port;
		return 0;
	}
	return endpoint_set_name(ep, host, len, (uint16_t)port);
}

/* ---- rules ---- */

static void explain_match(struct explain_out *o, const struct rule *r)
{
	char addr[INET6_ADDRSTRLEN];

	if (match_host_is_set(&r->host)) {
		explain_add(o, "%s%s", r->host.domain ? "." : "", r->host.name);
		return;
	}
	if (r->net.family == AF_UNSPEC) {
		explain_add(o, "*");
		return;
	}
	inet_ntop(r->net.family, r->net.addr, addr, sizeof addr);
	explain_add(o, "%s/%u", addr, r->net.prefix);
}

/* The rule as the file would write it. */
static void explain_rule(struct explain_out *o, const struct config *cfg,
			 const struct rule *r)
{
	static const char *const actions[] = {
	    [RULE_DIRECT] = "direct",
	    [RULE_BLOCK] = "block",
	    [RULE_VIA] = "route",
	};
	char name[CONFIG_URL_TEXT_MAX];

	explain_add(o, "line %u: %s ", r->line, actions[r->action]);
	explain_match(o, r);
	if (r->port_min == r->port_max)
		explain_add(o, " port %u", r->port_min);
	else if (r->port_min != 0 || r->port_max != UINT16_MAX)
		explain_add(o, " port %u-%u", r->port_min, r->port_max);
	if (r->proto != RULE_PROTO_ANY)
		explain_add(o, r->proto == RULE_PROTO_TCP ? " tcp" : " udp");
	if (r->action == RULE_VIA)
		explain_add(o, " via %s",
			    config_target_name(cfg, r->via, name, sizeof name));
	explain_add(o, "\n");
}

/* "rule: ..." for a choice. */
static void explain_choice_rule(struct explain_out *o, const struct config *cfg,
				const struct route_choice *c)
{
	explain_add(o, "rule: ");
	switch (c->rule) {
	case ROUTE_RULE_NONE:
		explain_add(o, "none matches: the default chain (proxy "
			       "lines, or -x)\n");
		break;
	case ROUTE_RULE_LOOPBACK:
		explain_add(o, "built-in: loopback is direct (the file has "
			       "no direct rule)\n");
		break;
	case ROUTE_RULE_INVALID:
		explain_add(o, "none: not an address or name\n");
		break;
	default:
		explain_rule(o, cfg, &cfg->rules[c->rule]);
	}
}

/* ---- chains and groups ---- */

/* " (GSS-API: rcmd@host, protection clear)" after a GSS-API hop. */
static void explain_gssapi(struct explain_out *o, const struct proxy *p)
{
	char target[PROXY_GSSAPI_TARGET_MAX];

	if (!p->gssapi)
		return;
	explain_add(o, " (GSS-API: %s, protection %s%s)",
		    proxy_gssapi_target(p, target, sizeof target),
		    gssmsg_protection_name(p->gssapi_protection),
		    p->gssapi_protection == GSSMSG_PROTECT_CLEAR
			? ""
			: ": not supported, connections fail");
}

static void explain_chain(struct explain_out *o, const struct config *cfg,
			  unsigned index)
{
	char url[CONFIG_URL_TEXT_MAX];
	const struct proxy *hops;
	unsigned i, count;

	hops = config_chain_hops(cfg, index, &count);
	explain_add(
	    o, "chain %s:",
	    config_target_name(cfg, (struct route_target){TARGET_CHAIN, index},
			       url, sizeof url));
	for (i = 0; i < count; i++) {
		explain_add(o, "%s %s", i ? " ->" : "",
			    proxyurl_format(&hops[i], url, sizeof url));
		explain_gssapi(o, &hops[i]);
	}
	explain_add(o, "\n");
}

static const char *explain_mode(enum group_mode mode)
{
	static const char *const words[] = {
	    [GROUP_FAILOVER] = "failover: members in order, the next one "
			       "when a member fails on its own",
	    [GROUP_RACE] =
		"race: the preferred member first, the next one "
		"beside it after each race_delay, the first to open wins",
	    [GROUP_ROUND_ROBIN] = "round-robin: each connection starts at "
				  "the next member",
	    [GROUP_RANDOM] = "random: each connection starts at a random "
			     "member",
	};

	return words[mode];
}

/* The target and the chains a connection would try now (every member
 * counted up: the run's health is not known here). */
static void explain_target(struct explain_out *o, const struct config *cfg,
			   struct route_target via)
{
	struct group_plan plan;
	unsigned i;

	if (via.kind == TARGET_GROUP)
		explain_add(o, "via: group %s (%s)\n",
			    cfg->groups[via.index].name,
			    explain_mode(cfg->groups[via.index].mode));
	group_plan(cfg, NULL, via, 0, &plan);
	for (i = 0; i < plan.count; i++) {
		if (plan.count > 1)
			explain_add(o, "  %u. ", i + 1);
		explain_chain(o, cfg, plan.chains[i]);
	}
	if (plan.count > 1)
		explain_add(o,
			    "down members (failed within down_time, %u ms) "
			    "are skipped; all are tried when all are down\n",
			    cfg->down_time_ms);
}

/* ---- the decision ---- */

/* UDP routed to via: the policy, and the chain an association would use
 * (the first member that is a single SOCKS5 proxy, all counted up). */
static void explain_udp(struct explain_out *o, const struct config *cfg,
			struct route_target via)
{
	char name[CONFIG_URL_TEXT_MAX];
	struct group_plan plan;
	int chain;

	switch (udpassoc_target_mode(cfg, via)) {
	case UDP_DIRECT:
		explain_add(o, "decision: UDP sent direct (udp direct)\n");
		return;
	case UDP_BLOCK:
		explain_add(o,
			    "decision: UDP refused (EACCES): udp block, or no "
			    "single socks5 proxy in %s\n",
			    config_target_name(cfg, via, name, sizeof name));
		return;
	default:
		break;
	}
	group_plan(cfg, NULL, via, 0, &plan);
	chain = udpassoc_pick_chain(cfg, &plan, via);
	explain_add(o,
		    "decision: UDP through %s (UDP ASSOCIATE via its first "
		    "live single socks5 proxy; one association per socket)\n",
		    config_target_name(cfg, via, name, sizeof name));
	if (chain >= 0)
		explain_chain(o, cfg, (unsigned)chain);
}

static void explain_decision(struct explain_out *o, const struct config *cfg,
			     const struct route_choice *c,
			     enum rule_proto proto)
{
	explain_choice_rule(o, cfg, c);
	switch (c->decision) {
	case ROUTE_DIRECT:
		explain_add(o, "decision: direct (no proxy)\n");
		return;
	case ROUTE_BLOCK:
		explain_add(o, "decision: refused (EACCES)\n");
		return;
	case ROUTE_PROXY:
		break;
	}
	if (proto == RULE_PROTO_UDP) {
		explain_udp(o, cfg, c->via);
		return;
	}
	explain_add(o, "decision: proxy\n");
	explain_target(o, cfg, c->via);
}

/* A name: what its lookup does, then its connection. */
static void explain_name(struct explain_out *o, const struct config *cfg,
			 const struct endpoint *ep, enum rule_proto proto)
{
	struct route_choice c;

	route_lookup(cfg, ep->u.name, ep->name_len, &c);
	if (c.decision == ROUTE_BLOCK) {
		explain_add(o, "lookup: refused (EAI_NONAME)\n");
		explain_choice_rule(o, cfg, &c);
		explain_add(o, "decision: refused (EACCES)\n");
		return;
	}
	if (c.decision == ROUTE_DIRECT || !cfg->remote_dns) {
		explain_add(o,
			    "lookup: local DNS%s; the connection is routed "
			    "by the address it gets%s\n",
			    c.decision == ROUTE_DIRECT ? " (direct rule)" : "",
			    c.decision == ROUTE_DIRECT
				? ", which goes direct"
				: " (remote DNS is off)");
		if (c.decision == ROUTE_DIRECT) {
			explain_choice_rule(o, cfg, &c);
			explain_add(o, "decision: direct (no proxy)\n");
		}
		return;
	}
	explain_add(o, "lookup: a fake address (remote DNS): the proxy gets "
		       "the name\n");
	route_select(cfg, ep, NULL, true, proto, &c);
	explain_decision(o, cfg, &c, proto);
}

int explain_route(const struct config *cfg, const char *destination,
		  const char *transport, char *buf, size_t cap)
{
	struct explain_out o = {buf, cap, 0};
	enum rule_proto proto = RULE_PROTO_TCP;
	struct route_choice c;
	struct endpoint ep;
	char text[ENDPOINT_TEXT_MAX];

	if (cap == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (transport && strcmp(transport, "udp") == 0)
		proto = RULE_PROTO_UDP;
	else if (transport && strcmp(transport, "tcp") != 0) {
		explain_add(&o, "transport must be tcp or udp\n");
		return -EINVAL;
	}
	if (explain_parse(destination, &ep) < 0) {
		explain_add(&o, "bad destination: expected HOST[:PORT], "
				"[IPV6]:PORT or an address\n");
		return -EINVAL;
	}
	explain_add(&o, "destination: %s %s\n",
		    endpoint_format(&ep, text, sizeof text),
		    proto == RULE_PROTO_UDP ? "udp" : "tcp");
	if (!cfg->valid) {
		explain_add(&o, "decision: refused: configuration error: %s\n",
			    cfg->error);
		return 0;
	}
	if (ep.kind == ENDPOINT_NAME) {
		explain_name(&o, cfg, &ep, proto);
		return 0;
	}
	route_select(cfg, &ep, NULL, false, proto, &c);
	explain_decision(&o, cfg, &c, proto);
	return 0;
}
