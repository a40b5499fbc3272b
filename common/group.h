/* group.h — the plan of one proxied connection: which chains to try, in
 * which order, for a route's target (a chain, or a group of chains and
 * groups), skipping chains that are down; and whether a failure is the
 * proxy's (try the next member) or the destination's (stop). */
#ifndef SOCKSIFY_GROUP_H
#define SOCKSIFY_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "health.h"
#include "route.h"
#include "tunnel.h"

/* Most chains one plan holds: every chain at most once. */
#define GROUP_PLAN_MAX CONFIG_MAX_CHAINS

struct group_plan {
	unsigned chains[GROUP_PLAN_MAX]; /* indices into cfg->chains */
	unsigned count;
	bool all_down; /* every chain was down: all are tried again */
	bool race;     /* a race group: see group_connect_ms() */
	/* A race group's index, and for each chain the group's member it
	 * came from (group_race_won). */
	unsigned group;
	unsigned member[GROUP_PLAN_MAX];
};

/* Plan a connection to target. A chain is tried alone. A group's members
 * are taken in order (failover; race starts at its preferred member,
 * the latest winner, and wraps), starting at its next turn and
 * wrapping (round-robin), or starting at a random member and wrapping
 * (random); a member group expands in place; a chain already planned is
 * not repeated. Chains that are down (health) are left out; when that
 * leaves none, every chain is planned in the same order (all_down).
 * Round-robin and random turns are counted in h (NULL: per process). */
void group_plan(const struct config *cfg, struct health *h,
		struct route_target target, uint64_t now_ms,
		struct group_plan *plan);

/* The chain at plan->chains[at] won a race: its member becomes the
 * group's preferred one (h), where the next race starts. */
void group_race_won(struct health *h, const struct group_plan *plan,
		    unsigned at);

/* The TCP connect timeout for the attempt at plan->chains[at] where a race
 * group runs one member after another (race.h races them in parallel): in a
 * race group every member but the last gets race_delay to accept before the
 * next one is tried (and, when it does not, it is marked down like a
 * failed one, so later connects go straight to a live member); 0 means
 * connect_timeout. */
unsigned group_connect_ms(const struct config *cfg,
			  const struct group_plan *plan, unsigned at);

/* After a chain failed with err (positive) and res: true when the failure
 * is the proxy's own — a TCP connect or handshake failure, a reset, a
 * timeout, a general failure, an authentication or ruleset refusal, or
 * any failure before the last hop — so the chain should be marked down
 * and the next one tried. False when the last proxy's reply blames the
 * destination (network or host unreachable, connection refused): the
 * program gets that errno. */
bool group_proxy_failed(int err, const struct tunnel_result *res,
			unsigned hop_count);

/* Describe an attempt through chain for log lines: its first proxy's URL
 * (never a password), followed, when a rule or a group chose it, by
 * "(chain NAME[ of group G], rule line N)". Returns buf. */
const char *group_describe(const struct config *cfg,
			   const struct route_choice *choice, unsigned chain,
			   char *buf, size_t cap);

#endif
