/* state.h — the library's per-process state, built on first use: the
 * configuration (read-only once built), the log, the first proxy's resolved
 * address, and the fake-DNS table. */
#ifndef SOCKSIFY_STATE_H
#define SOCKSIFY_STATE_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "endpoint.h"
#include "fakedns.h"
#include "health.h"

/* The configuration, loaded once from the environment (SOCKSIFY_CONF,
 * SOCKSIFY_PROXY, SOCKSIFY_LOG, SOCKSIFY_LOG_FILE, XDG_CONFIG_HOME, HOME).
 * Never NULL; when cfg->valid is false every connection must fail closed.
 * Calls real_init() too. */
const struct config *socksify_config(void);

/* The first proxy's address as a socket address of `family` (an IPv4 proxy
 * is given as ::ffff:a.b.c.d for AF_INET6). Returns the length, or -errno:
 * -EAFNOSUPPORT when an AF_INET socket must reach an IPv6 proxy,
 * -EHOSTUNREACH when the proxy's host name could not be resolved. */
int socksify_proxy_sockaddr(int family, struct sockaddr_storage *ss);

/* The same for the first proxy of cfg->chains[chain]. */
int socksify_chain_sockaddr(unsigned chain, int family,
			    struct sockaddr_storage *ss);

/* The run's chain health table (groups' down members, turns), or NULL when
 * the config has no group or it could not be mapped. Mapped at load; when
 * that found no descriptor or memory free, each call tries again (never
 * waiting for another thread's try) until one is final. */
struct health *socksify_health(void);

/* True when ep is the first proxy of any chain (connecting to it is
 * direct). */
bool socksify_is_proxy(const struct endpoint *ep);

/* The fake-DNS table, attached on first use: the file
 * /dev/shm/socksify-UID-$SOCKSIFY_SESSION when the wrapper set a session,
 * else an anonymous shared mapping. NULL when it cannot be mapped (logged;
 * final), or not now for want of a descriptor or memory (the next call
 * tries again), or the configuration is not loaded. */
struct fakedns *socksify_fakedns(void);

/* pthread_atfork prepare handler (registered by preload_register, fdops.c):
 * make sure parent and child will share one fake-DNS table (and one health
 * table). Costs nothing once both are final (atomic loads). */
void socksify_before_fork(void);

/* pthread_atfork child handler (fdops.c): with "isolate pid", the child
 * takes its own pid as its SOCKS5 username. */
void socksify_after_fork_child(void);

/* True when remote DNS is on and ep (an IP endpoint) lies in a fake range,
 * whether or not the table holds a name for it. */
bool socksify_is_fake(const struct endpoint *ep);

/* When ep is an address in a fake range that holds a name, write the name
 * endpoint (same port) to name and return true. */
bool socksify_unfake(const struct endpoint *ep, struct endpoint *name);

#endif
