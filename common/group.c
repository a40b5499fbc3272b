/* group.c — planning a connection over chains and groups (see group.h). */
#include "group.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Spread a turn counter over members (splitmix64's finaliser): turns
 * 0, 1, 2... give starts that look random without a shared generator. */
static unsigned group_scramble(uint32_t turn, unsigned count)
{
	uint64_t z = (uint64_t)turn + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (unsigned)(z % count);
}

/* The member a group starts at for this connection. */
static unsigned group_start(const struct group *g, unsigned index,
			    struct health *h)
{
	switch (g->mode) {
	case GROUP_ROUND_ROBIN:
		return health_next_turn(h, index) % g->member_count;
	case GROUP_RANDOM:
		return group_scramble(health_next_turn(h, index),
				      g->member_count);
	case GROUP_RACE:
		return health_preferred(h, index) % g->member_count;
	case GROUP_FAILOVER:
		break;
	}
	return 0;
}

/* Every chain of target, in plan order, once each, into all[*n]. Groups
 * only contain groups defined before them, so the recursion ends. */
static void group_collect(const struct config *cfg, struct health *h,
			  struct route_target target, unsigned *all,
			  unsigned *n)
{
	const struct group *g;
	unsigned i, start;

	if (target.kind == TARGET_CHAIN) {
		for (i = 0; i < *n; i++)
			if (all[i] == target.index)
				return;
		if (*n < GROUP_PLAN_MAX && target.index < cfg->chain_count)
			all[(*n)++] = target.index;
		return;
	}
	if (target.index >= cfg->group_count)
		return;
	g = &cfg->groups[target.index];
	if (g->member_count == 0)
		return;
	start = group_start(g, target.index, h);
	for (i = 0; i < g->member_count; i++)
		group_collect(cfg, h, g->members[(start + i) % g->member_count],
			      all, n);
}

/* A race group's chains, as group_collect, each with the index of the
 * group's member it came from in member[]. */
static void group_collect_race(const struct config *cfg, struct health *h,
			       unsigned index, unsigned *all, unsigned *member,
			       unsigned *n)
{
	const struct group *g = &cfg->groups[index];
	unsigned i, m, before, start;

	if (g->member_count == 0)
		return;
	start = group_start(g, index, h);
	for (i = 0; i < g->member_count; i++) {
		m = (start + i) % g->member_count;
		before = *n;
		group_collect(cfg, h, g->members[m], all, n);
		while (before < *n)
			member[before++] = m;
	}
}

void group_plan(const struct config *cfg, struct health *h,
		struct route_target target, uint64_t now_ms,
		struct group_plan *plan)
{
	unsigned all[GROUP_PLAN_MAX], member[GROUP_PLAN_MAX] = {0}, n = 0, i;

	memset(plan, 0, sizeof(*plan));
	plan->race = target.kind == TARGET_GROUP &&
		     target.index < cfg->group_count &&
		     cfg->groups[target.index].mode == GROUP_RACE;
	if (plan->race)
		group_collect_race(cfg, h, target.index, all, member, &n);
	else
		group_collect(cfg, h, target, all, &n);
	for (i = 0; i < n; i++)
		if (!health_is_down(h, all[i], now_ms)) {
			plan->member[plan->count] = member[i];
			plan->chains[plan->count++] = all[i];
		}
	plan->group = target.index;
	if (plan->count > 0 || n == 0)
		return;
	memcpy(plan->chains, all, n * sizeof(all[0]));
	memcpy(plan->member, member, n * sizeof(member[0]));
	plan->count = n;
	plan->all_down = true;
}

void group_race_won(struct health *h, const struct group_plan *plan,
		    unsigned at)
{
	if (plan->race && at < plan->count)
		health_prefer(h, plan->group, plan->member[at]);
}

unsigned group_connect_ms(const struct config *cfg,
			  const struct group_plan *plan, unsigned at)
{
	return plan->race && at + 1 < plan->count ? cfg->race_delay_ms : 0;
}

bool group_proxy_failed(int err, const struct tunnel_result *res,
			unsigned hop_count)
{
	if (!res->negotiating || res->hop < 0 ||
	    (unsigned)res->hop + 1 != hop_count)
		return true;
	return err != ENETUNREACH && err != EHOSTUNREACH && err != ECONNREFUSED;
}

const char *group_describe(const struct config *cfg,
			   const struct route_choice *choice, unsigned chain,
			   char *buf, size_t cap)
{
	const struct route_target self = {TARGET_CHAIN, chain};
	char url[CONFIG_URL_TEXT_MAX], name[CONFIG_URL_TEXT_MAX];
	char group[CONFIG_URL_TEXT_MAX];
	const struct proxy *hops;
	unsigned count;
	int line = choice->rule >= 0 ? (int)cfg->rules[choice->rule].line : 0;

	hops = config_chain_hops(cfg, chain, &count);
	if (count == 0 || cap == 0) {
		snprintf(buf, cap, "(no proxy)");
		return buf;
	}
	proxyurl_format(&hops[0], url, sizeof url);
	if (choice->rule < 0 && choice->via.kind == TARGET_CHAIN &&
	    chain == CONFIG_DEFAULT_CHAIN)
		snprintf(buf, cap, "%s", url);
	else if (choice->via.kind == TARGET_GROUP)
		snprintf(
		    buf, cap, "%s (chain %s of group %s, rule line %d)", url,
		    config_target_name(cfg, self, name, sizeof name),
		    config_target_name(cfg, choice->via, group, sizeof group),
		    line);
	else
		snprintf(buf, cap, "%s (chain %s, rule line %d)", url,
			 config_target_name(cfg, self, name, sizeof name),
			 line);
	return buf;
}
