/* udp.c — the UDP policy and the life of a UDP association: set-up on first
 * use, the hidden control connection, its death, and its end when the
 * program closes the socket.
 *
 * Thread safety: set-up is claimed per fd with FDTAB_UDP_SETUP (a
 * compare-and-swap inside fdtab, no lock), so two threads sending on one
 * fresh socket make one association; the loser polls the entry every
 * millisecond until the winner finishes (bounded by the config's
 * timeouts). No lock is ever held, so fork() and signal handlers cannot
 * deadlock here; a fork child drops claims of threads that did not survive
 * (the registry's fork child handler).
 *
 * The control fd is one of our hidden descriptors (common/hidden.h): moved
 * out of the program's way, close-on-exec, marked FDTAB_INTERNAL with our
 * registry id: close() on it says EBADF, close_range() skips it, dup2()
 * onto it moves it first (udp_moved), exec drops it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "directset.h"
#include "fdreg.h"
#include "group.h"
#include "hidden.h"
#include "hooks.h"
#include "log.h"
#include "netio.h"
#include "real.h"
#include "route.h"
#include "state.h"
#include "udp.h"
#include "udpassoc.h"

#define UDP_ALIVE_INTERVAL_MS 100

static _Atomic uint64_t udp_next_id = 1;
static unsigned udp_owner; /* our registry id, for hidden descriptors */

/* Why UDP routed to target is refused by the policy. */
static const char *udp_policy_why(const struct config *cfg)
{
	if (cfg->udp_mode == UDP_BLOCK && !cfg->udp_auto)
		return "udp block";
	return "UDP needs a single SOCKS5 proxy, and the route's chain or "
	       "group has none (a chain of several, SOCKS4 or HTTP)";
}

/* The decision for dest without logging: a udp_way (*via set to the
 * route's chain or group for UDP_WAY_PROXY), or -EACCES with *why set. */
static int udp_decide(const struct endpoint *dest, const char **why,
		      struct route_target *via)
{
	const struct config *cfg = socksify_config();
	bool is_fake = socksify_is_fake(dest);
	struct route_choice choice;
	struct endpoint name;
	enum route_decision d;

	*why = "invalid configuration";
	if (!cfg->valid)
		return -EACCES;
	if (socksify_is_proxy(dest))
		return UDP_WAY_DIRECT;
	*why = "blocked by rule";
	/* Host-name rules see the name behind a fake address. */
	d = route_select(cfg, dest,
			 is_fake && socksify_unfake(dest, &name) ? name.u.name
								 : NULL,
			 is_fake, RULE_PROTO_UDP, &choice);
	if (d == ROUTE_PROXY && !is_fake && directset_contains(dest))
		d = ROUTE_DIRECT; /* resolved for a direct name rule */
	switch (d) {
	case ROUTE_DIRECT:
		return UDP_WAY_DIRECT;
	case ROUTE_BLOCK:
		return -EACCES;
	case ROUTE_PROXY:
		break;
	}
	*via = choice.via;
	*why = udp_policy_why(cfg);
	switch (udpassoc_target_mode(cfg, choice.via)) {
	case UDP_PROXY:
		return UDP_WAY_PROXY;
	case UDP_DIRECT:
		return UDP_WAY_DIRECT;
	default:
		return -EACCES;
	}
}

int udp_route(int fd, const struct endpoint *dest, struct route_target *via)
{
	struct route_target target = {TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};
	char text[ENDPOINT_TEXT_MAX], name[CONFIG_URL_TEXT_MAX];
	const char *why;
	int way = udp_decide(dest, &why, &target);

	if (way < 0 && log_enabled(LOG_ERROR))
		log_error("fd %d: UDP to %s (route %s) refused: %s", fd,
			  endpoint_format(dest, text, sizeof text),
			  config_target_name(socksify_config(), target, name,
					     sizeof name),
			  why);
	else if (way == UDP_WAY_DIRECT && log_enabled(LOG_DEBUG))
		log_debug("fd %d: UDP to %s direct", fd,
			  endpoint_format(dest, text, sizeof text));
	if (via)
		*via = target;
	return way;
}

int udp_route_silent(const struct endpoint *dest)
{
	struct route_target via;
	const char *why;

	return udp_decide(dest, &why, &via);
}

/* udp_wait_setup(): the claim is free again without an association (the
 * caller tries to claim it). */
#define UDP_SETUP_FREE 1
/* A waiter gives the set-up this long past the config's timeouts. */
#define UDP_SETUP_GRACE_MS 1000

/* Wait until the thread that claimed fd's set-up finishes. Returns 0 with
 * *e filled when it made an association, UDP_SETUP_FREE, or -ETIMEDOUT. */
static int udp_wait_setup(int fd, struct fdtab_entry *e, unsigned limit_ms)
{
	const struct timespec ms = {0, 1000000};

	for (unsigned waited = 0; waited < limit_ms; waited++) {
		if (fdtab_get_unchecked(fd, e) == 0 &&
		    (e->flags & FDTAB_UDP_ASSOC))
			return 0;
		if (!(fdtab_flags(fd) & FDTAB_UDP_SETUP))
			return UDP_SETUP_FREE;
		nanosleep(&ms, NULL);
	}
	return -ETIMEDOUT;
}

/* The UDP socket's local address for the request, binding it to the
 * wildcard address (port 0) first when it is unbound. Returns 0 or
 * -errno. */
static int udp_local(int fd, int family, struct endpoint *local)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (udpassoc_request_dest((struct sockaddr *)&ss, len, local) < 0)
		return -EAFNOSUPPORT;
	if (local->port != 0)
		return 0;
	memset(&ss, 0, sizeof ss);
	ss.ss_family = (sa_family_t)family;
	len = family == AF_INET ? sizeof(struct sockaddr_in)
				: sizeof(struct sockaddr_in6);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINVAL)
		return -errno;
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	return udpassoc_request_dest((struct sockaddr *)&ss, len, local);
}

/* Connect a new control socket to chain's proxy and associate. Returns
 * the control fd (not yet hidden) with *relay set, or -errno (logged). */
static int udp_open_control(int fd, int family, unsigned chain,
			    const struct endpoint *local,
			    struct endpoint *relay)
{
	const struct config *cfg = socksify_config();
	struct udpassoc_result res;
	struct sockaddr_storage proxy;
	int len, control, rc;

	len = socksify_chain_sockaddr(chain, family, &proxy);
	if (len < 0) {
		log_error("fd %d: UDP association: %s", fd,
			  len == -EAFNOSUPPORT
			      ? "an IPv4 socket cannot reach an IPv6 proxy"
			      : "the proxy's address is unknown");
		return len;
	}
	control =
	    real.socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (control < 0)
		return -errno;
	fdtab_clear(control);
	rc = udpassoc_open(&real_io, cfg, chain, control,
			   (struct sockaddr *)&proxy, (socklen_t)len, local,
			   &res);
	if (rc < 0) {
		log_error("fd %d: UDP association failed: %s", fd, res.why);
		real.close(control);
		return rc;
	}
	*relay = res.relay;
	return control;
}

/* Hide the control fd, marked with its association (owner, id, route
 * target via and chain) from the start, then record the association in
 * the owner's entry. *control receives the hidden number. Returns 0 or
 * -errno. */
static int udp_record(int fd, int family, int *control, struct route_target via,
		      unsigned chain, const struct endpoint *relay,
		      struct fdtab_entry *e)
{
	struct sockaddr_storage ss;
	struct fdtab_entry internal;
	int len = udpassoc_relay_sockaddr(relay, family, &ss);

	if (len < 0)
		return len;
	memset(&internal, 0, sizeof internal);
	internal.flags = FDTAB_INTERNAL;
	internal.udp.id = atomic_fetch_add(&udp_next_id, 1);
	internal.udp.owner = fd;
	internal.udp.control = -1;
	internal.udp.family = family;
	internal.udp.via_kind = (uint8_t)via.kind;
	internal.udp.via_index = (uint8_t)via.index;
	internal.udp.chain = (uint8_t)chain;
	*control = hidden_take(*control, udp_owner, &internal);
	if (fdtab_get_unchecked(fd, e) < 0)
		memset(e, 0, sizeof *e);
	e->flags = (e->flags | FDTAB_UDP_ASSOC | FDTAB_UDP_SOCKET) &
		   ~(FDTAB_UDP_SETUP | FDTAB_UDP_DEAD);
	e->inode = 0;
	e->udp = internal.udp;
	e->udp.control = *control;
	e->udp.relay_len = (uint32_t)len;
	memcpy(&e->udp.relay, &ss, (size_t)len);
	if (fdtab_flags(*control) == 0 || fdtab_set(fd, e) < 0)
		return -ENOMEM;
	return 0;
}

/* The chain a new association for via goes through (see
 * udpassoc_pick_chain: the first live member that carries UDP). Returns
 * its index, or -EACCES (logged). */
static int udp_pick_chain(int fd, struct route_target via)
{
	const struct config *cfg = socksify_config();
	char name[CONFIG_URL_TEXT_MAX];
	struct group_plan plan;
	int chain;

	group_plan(cfg, socksify_health(), via, netio_now_ms(), &plan);
	chain = udpassoc_pick_chain(cfg, &plan, via);
	if (chain < 0)
		log_error("fd %d: UDP association via %s refused: %s", fd,
			  config_target_name(cfg, via, name, sizeof name),
			  udp_policy_why(cfg));
	return chain < 0 ? -EACCES : chain;
}

/* Set up fd's association for route target via while holding its claim.
 * Returns 0 or -errno. */
static int udp_setup(int fd, int family, struct route_target via,
		     struct fdtab_entry *e)
{
	char relay_text[ENDPOINT_TEXT_MAX], name[CONFIG_URL_TEXT_MAX];
	char url[CONFIG_URL_TEXT_MAX];
	struct endpoint local, relay;
	const struct proxy *hop;
	unsigned count;
	int chain, control, rc;

	chain = udp_pick_chain(fd, via);
	if (chain < 0)
		return chain;
	rc = udp_local(fd, family, &local);
	if (rc < 0) {
		log_error("fd %d: UDP association: no local address (%s)", fd,
			  strerror(-rc));
		return rc;
	}
	control = udp_open_control(fd, family, (unsigned)chain, &local, &relay);
	if (control < 0)
		return control;
	rc = udp_record(fd, family, &control, via, (unsigned)chain, &relay, e);
	if (rc < 0) {
		log_error(
		    "fd %d: UDP association: relay %s unusable on this "
		    "socket",
		    fd, endpoint_format(&relay, relay_text, sizeof relay_text));
		hidden_close(&control);
		return rc;
	}
	if (log_enabled(LOG_INFO)) {
		hop = config_chain_hops(socksify_config(), (unsigned)chain,
					&count);
		log_info(
		    "fd %d: UDP association via %s (route %s), relay %s", fd,
		    proxyurl_format(hop, url, sizeof url),
		    config_target_name(socksify_config(), via, name,
				       sizeof name),
		    endpoint_format(&relay, relay_text, sizeof relay_text));
	}
	return 0;
}

/* The route target for an association that a receive sets up: the
 * recorded peer's route, else the default chain. */
static struct route_target udp_receive_target(const struct fdtab_entry *e)
{
	struct route_target via = {TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};
	const char *why;

	if ((e->flags & FDTAB_UDP_PEER) &&
	    udp_decide(&e->dest, &why, &via) != UDP_WAY_PROXY)
		via = (struct route_target){TARGET_CHAIN, CONFIG_DEFAULT_CHAIN};
	return via;
}

/* One association per socket: a datagram whose route names another chain
 * or group than the association's is refused (never sent through the
 * wrong proxy, never direct). Returns 0 or -EACCES (logged). */
static int udp_same_route(int fd, const struct fdtab_entry *e,
			  const struct route_target *via)
{
	const struct config *cfg = socksify_config();
	struct route_target had = {(enum target_kind)e->udp.via_kind,
				   e->udp.via_index};
	char want[CONFIG_URL_TEXT_MAX], have[CONFIG_URL_TEXT_MAX];

	if (!via || (via->kind == had.kind && via->index == had.index))
		return 0;
	log_error("fd %d: UDP datagram routed via %s refused: the socket's "
		  "association goes via %s (one association per socket; use "
		  "another socket)",
		  fd, config_target_name(cfg, *via, want, sizeof want),
		  config_target_name(cfg, had, have, sizeof have));
	return -EACCES;
}

/* Find or make fd's association (the loop of udp_assoc_ensure). */
static int udp_assoc_get(int fd, int family, const struct route_target *via,
			 struct fdtab_entry *e)
{
	const struct config *cfg = socksify_config();
	unsigned limit = cfg->connect_timeout_ms + cfg->handshake_timeout_ms;
	int rc;

	for (;;) {
		if (fdtab_get_unchecked(fd, e) == 0 &&
		    (e->flags & FDTAB_UDP_ASSOC))
			return 0;
		rc = fdtab_claim(fd, FDTAB_UDP_SETUP);
		if (rc == 0)
			break;
		if (rc != -EBUSY)
			return rc;
		rc = udp_wait_setup(fd, e, limit + UDP_SETUP_GRACE_MS);
		if (rc != UDP_SETUP_FREE)
			return rc;
	}
	/* Another thread may have finished between our look and our claim. */
	if (fdtab_get_unchecked(fd, e) == 0 && (e->flags & FDTAB_UDP_ASSOC))
		rc = 0;
	else
		rc = udp_setup(fd, family, via ? *via : udp_receive_target(e),
			       e);
	fdtab_unflag(fd, FDTAB_UDP_SETUP);
	return rc;
}

int udp_assoc_ensure(int fd, int family, const struct route_target *via,
		     struct fdtab_entry *e)
{
	int rc = udp_assoc_get(fd, family, via, e);

	return rc < 0 ? rc : udp_same_route(fd, e, via);
}

/* True when the control fd named in e still is that association's. */
static bool udp_control_ours(const struct fdtab_entry *e)
{
	struct fdtab_entry internal;

	return fdtab_get_unchecked(e->udp.control, &internal) == 0 &&
	       (internal.flags & FDTAB_INTERNAL) &&
	       internal.udp.id == e->udp.id;
}

/* True when the control connection has been closed or reset. */
static bool udp_control_gone(int control)
{
	struct pollfd pfd = {.fd = control, .events = POLLIN};
	char byte;

	if (real.poll(&pfd, 1, 0) <= 0)
		return false;
	if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
		return true;
	return real.recv(control, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Mark fd's association dead (once) and log it. */
static void udp_mark_dead(int fd, const struct fdtab_entry *e)
{
	if (fdtab_claim(fd, FDTAB_UDP_DEAD) < 0)
		return;
	log_error("fd %d: the proxy closed the UDP association (id %llu); "
		  "sends fail with ECONNRESET",
		  fd, (unsigned long long)e->udp.id);
}

int udp_assoc_alive(int fd, const struct fdtab_entry *e)
{
	struct timespec now;
	uint64_t ms;
	int saved_errno = errno;

	if (e->flags & FDTAB_UDP_DEAD)
		return -UDP_DEAD_ERRNO;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	if (!fdtab_due(fd, ms, UDP_ALIVE_INTERVAL_MS))
		return 0;
	if (udp_control_ours(e) && !udp_control_gone(e->udp.control)) {
		errno = saved_errno;
		return 0;
	}
	udp_mark_dead(fd, e);
	errno = saved_errno;
	return -UDP_DEAD_ERRNO;
}

void udp_release(int fd)
{
	struct fdtab_entry e, internal;
	int control;

	if (!(fdtab_flags(fd) & FDTAB_UDP_ASSOC) ||
	    fdtab_get_unchecked(fd, &e) < 0)
		return;
	control = e.udp.control;
	if (fdtab_get_unchecked(control, &internal) < 0 ||
	    !(internal.flags & FDTAB_INTERNAL) || internal.udp.id != e.udp.id ||
	    internal.udp.owner != fd)
		return; /* a duplicate of the owner: the owner ends it */
	hidden_close(&control);
}

void udp_release_range(unsigned lo, unsigned hi)
{
	int fd;

	while (lo <= hi && (fd = fdtab_next(lo, hi, FDTAB_UDP_ASSOC)) >= 0) {
		udp_release(fd);
		if ((unsigned)fd == hi)
			break;
		lo = (unsigned)fd + 1;
	}
}

int udp_set_peer(int fd, int family, const struct endpoint *dest)
{
	struct fdtab_entry e;

	if (fdtab_get_unchecked(fd, &e) < 0)
		memset(&e, 0, sizeof e);
	e.flags |= FDTAB_UDP_PEER | FDTAB_UDP_SOCKET;
	e.dest = *dest;
	e.udp.family = family;
	e.inode = 0;
	return fdtab_set(fd, &e);
}

void udp_forget(int fd)
{
	fdtab_clear(fd);
}

void udp_note_socket(int fd, int family)
{
	struct fdtab_entry e;

	uint32_t facts = fdtab_flags(fd);

	if (facts & ~FDTAB_SOCK_FACTS)
		return;
	memset(&e, 0, sizeof e);
	e.flags = FDTAB_UDP_SOCKET | facts;
	e.udp.family = family;
	e.udp.control = -1;
	fdtab_set(fd, &e);
}

void udp_note_cork(int fd, bool on)
{
	uint32_t f = fdtab_flags(fd);
	int domain;

	if (!on) {
		if (f & (FDTAB_UDP_CORK | FDTAB_UDP_OPEN))
			fdtab_unflag(fd, FDTAB_UDP_CORK | FDTAB_UDP_OPEN);
		return;
	}
	if (f & FDTAB_UDP_CORK)
		return;
	if (!(f & FDTAB_UDP_SOCKET)) {
		if (hook_socket_class(fd, &domain) != SOCKET_UDP)
			return;
		udp_note_socket(fd, domain);
		if (!(fdtab_flags(fd) & FDTAB_UDP_SOCKET))
			return; /* a stale entry of another kind is in the way
				 */
	}
	fdtab_claim(fd, FDTAB_UDP_CORK);
}

/* ---- the registry's callbacks (common/fdreg.h) ---- */

static void udp_closing(int fd, uint32_t flags)
{
	if (flags & FDTAB_UDP_ASSOC)
		udp_release(fd);
}

/* Our control descriptor moved from from to to (dup2 over it): the
 * owner's entry names the new number. */
static int udp_moved(int from, int to)
{
	struct fdtab_entry internal, owner;

	if (fdtab_get_unchecked(to, &internal) < 0)
		return -ENOENT;
	if (fdtab_get_unchecked(internal.udp.owner, &owner) == 0 &&
	    owner.udp.id == internal.udp.id && owner.udp.control == from) {
		owner.udp.control = to;
		fdtab_set(internal.udp.owner, &owner);
	}
	return 0;
}

/* A fork child has only the forking thread: set-up claims of the others
 * would never be released. (vfork() runs no handler: see
 * fdreg_in_vfork_child().) */
static void udp_after_fork_child(void)
{
	fdtab_unflag_all(FDTAB_UDP_SETUP);
}

static const struct fdreg_subsystem udp_subsystem = {
    .name = "udp",
    .closing = udp_closing,
    .closing_range = udp_release_range,
    .moved = udp_moved,
    .fork_child = udp_after_fork_child,
};

void udp_register(void)
{
	udp_owner = fdreg_register(&udp_subsystem);
}
