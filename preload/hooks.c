/* hooks.c — socket classification, the "may this leave directly?" rule
 * shared by connect() and the address-carrying send calls, and the vfork
 * check (the registry's, common/fdreg.h) for hooks outside fdops.c. */
#include <netinet/in.h>

#include "fdreg.h"
#include "fdtab.h"
#include "hooks.h"
#include "log.h"
#include "real.h"
#include "route.h"
#include "state.h"

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

/* One integer socket option at SOL_SOCKET level. Returns 0 or -1. */
static int hook_sockopt(int fd, int name, int *value)
{
	socklen_t len = sizeof *value;

	return real.getsockopt(fd, SOL_SOCKET, name, value, &len);
}

/* Class of an IP socket of type (not raw). TCP and MPTCP go through the
 * proxy; a stream of any other protocol (SCTP) is held to the UDP rule. */
static enum socket_class hook_ip_class(int fd, int type)
{
	int protocol;

	if (type == SOCK_DGRAM)
		return SOCKET_UDP;
	if (type != SOCK_STREAM)
		return SOCKET_UNCARRIED;
	if (hook_sockopt(fd, SO_PROTOCOL, &protocol) < 0)
		return SOCKET_UNCARRIED;
	if (protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP)
		return SOCKET_TCP;
	return SOCKET_UNCARRIED;
}

/* The class socket() recorded for fd (fdreg_fresh_socket), without a
 * system call; SOCKET_OTHER when it recorded none. */
static enum socket_class hook_cached_class(int fd, int *domain)
{
	uint32_t facts = fdtab_flags(fd);

	if (!(facts & FDTAB_SOCK_KIND))
		return SOCKET_OTHER;
	*domain = facts & FDTAB_SOCK_INET6 ? AF_INET6 : AF_INET;
	if (facts & FDTAB_SOCK_TCP)
		return SOCKET_TCP;
	return facts & FDTAB_SOCK_UDP ? SOCKET_UDP : SOCKET_UNCARRIED;
}

enum socket_class hook_socket_class(int fd, int *domain)
{
	enum socket_class cached = hook_cached_class(fd, domain);
	int type;

	if (cached != SOCKET_OTHER)
		return cached;
	if (hook_sockopt(fd, SO_TYPE, &type) < 0 || type == SOCK_RAW)
		return SOCKET_OTHER;
	if (hook_sockopt(fd, SO_DOMAIN, domain) < 0 ||
	    (*domain != AF_INET && *domain != AF_INET6))
		return SOCKET_OTHER;
	return hook_ip_class(fd, type);
}

const char *hook_class_name(enum socket_class class)
{
	switch (class) {
	case SOCKET_TCP:
		return "TCP";
	case SOCKET_UDP:
		return "UDP";
	default:
		return "non-TCP traffic";
	}
}

bool hook_uncarried_allowed(int fd, const char *what,
			    const struct endpoint *dest)
{
	const struct config *cfg = socksify_config();
	char text[ENDPOINT_TEXT_MAX];

	if (cfg->valid &&
	    (socksify_is_proxy(dest) ||
	     route_classify(cfg, dest, socksify_is_fake(dest)) == ROUTE_DIRECT))
		return true;
	if (!log_enabled(LOG_ERROR))
		return false;
	endpoint_format(dest, text, sizeof text);
	if (!cfg->valid)
		log_error("fd %d: %s to %s refused: invalid configuration", fd,
			  what, text);
	else
		log_error("fd %d: %s to %s refused: %s is not carried "
			  "through the proxy yet",
			  fd, what, text, what);
	return false;
}

bool hook_in_vfork_child(void)
{
	return fdreg_in_vfork_child();
}
