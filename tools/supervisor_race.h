/* supervisor_race.h — a race group's members raced in parallel for a
 * supervised program's connect(): the first member on the supervisor's
 * copy of the program's socket, the next ones on extra sockets the
 * supervisor makes like it (common/sockopts.h), all driven by
 * common/race.c in the handler thread that took the notification. The
 * caller installs an extra socket that wins into the program
 * (SECCOMP_IOCTL_NOTIF_ADDFD, see supervisor.c). */
#ifndef SOCKSIFY_SUPERVISOR_RACE_H
#define SOCKSIFY_SUPERVISOR_RACE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "endpoint.h"
#include "group.h"
#include "health.h"
#include "proxyaddr.h"

/* One race. */
struct supervisor_race {
	const struct config *cfg;
	const struct proxy_addresses *proxy; /* each chain's first proxy */
	struct health *health;
	const struct group_plan *plan;
	const struct endpoint *target; /* what the proxies are asked for */
	int pid, fd;		       /* the caller and its descriptor (log) */
	int sock, family;  /* the supervisor's copy of the program's socket */
	uint64_t limit_ms; /* the plan's deadline */
};

/* True when a connect on sock through plan races in parallel: a race
 * group with two chains or more, and sock not bound to a local address
 * (another socket could not take it). */
bool supervisor_race_fits(int sock, const struct group_plan *plan);

/* Race sr's plan. Returns the socket of the winner, its connection open:
 * sr->sock itself (the program's socket won), or an extra socket with the
 * program's status flags (O_NONBLOCK...), which the caller puts in the
 * program's place and closes; then sr->sock's own connection is dissolved.
 * Or -errno (logged), sr->sock dissolved. The losers still under way are
 * closed and not marked down; a member that failed for a reason of its own
 * is; the winner becomes the group's preferred member. sr->sock's status
 * flags are put back. */
int supervisor_race_run(const struct supervisor_race *sr);

#endif
