/* hostent.c — gethostbyname(), gethostbyname2(), their _r forms and
 * gethostbyaddr() / gethostbyaddr_r() for remote DNS. Same rules as getaddrinfo
 * (resolve.c): literals and lookups with remote DNS off go to libc; /etc/hosts
 * names get their addresses; other names get a fake address of the family asked
 * for (gethostbyname: IPv4). gethostbyaddr(_r) turns a fake address back into
 * its name.
 *
 * Errors: an unknown or invalid name → HOST_NOT_FOUND; a hosts name without
 * an address of the family → NO_DATA; fake range full, invalid config, no
 * table → NO_RECOVERY (retrying cannot help); /etc/hosts there but not
 * readable now (no descriptor free) → TRY_AGAIN. The _r forms return
 * ENOENT / ENOMEM / EIO for these (for /etc/hosts, the error that kept it
 * from being read, EMFILE say), and ERANGE with *h_errnop = NETDB_INTERNAL
 * when the caller's buffer is too small (glibc's contract: the caller
 * retries with a larger one).
 *
 * Thread safety: the non-_r forms answer in storage private to the calling
 * thread (addrinfo_static_hostent), as glibc's answer in per-process storage
 * that the next call overwrites. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "addrinfo.h"
#include "hooks.h"
#include "real.h"
#include "resolve.h"
#include "state.h"

/* True when socksify answers name for family af. */
static bool hostent_is_ours(const char *name, int af)
{
	real_init();
	if (resolve_is_literal(name) || (af != AF_INET && af != AF_INET6))
		return false;
	return resolve_is_ours(socksify_config());
}

/* Resolve name into addrs. Returns 0, or -errno (the negated code for an
 * _r caller) with *herr set to the h_errno value. */
static int hostent_resolve(const char *name, int af, struct endpoint *addrs,
			   size_t *count, int *herr)
{
	int rc =
	    resolve_addresses(socksify_config(), name, af, 0, addrs, count);

	switch (rc) {
	case 0:
		break;
	case EAI_NONAME:
		*herr = HOST_NOT_FOUND;
		return -ENOENT;
	case EAI_MEMORY:
		*herr = NO_RECOVERY;
		return -ENOMEM;
	case EAI_SYSTEM:
		*herr = TRY_AGAIN; /* /etc/hosts unreadable for now */
		return errno > 0 ? -errno : -EIO;
	default:
		*herr = NO_RECOVERY;
		return -EIO;
	}
	if (*count == 0) {
		*herr = NO_DATA;
		return -ENOENT;
	}
	return 0;
}

/* The non-_r answer: a hostent in thread-private storage, or NULL with
 * h_errno set. */
static struct hostent *hostent_static(const char *name, int af)
{
	struct endpoint addrs[ADDRINFO_MAX_ADDRS];
	struct hostent *he;
	size_t count;
	int herr;

	if (hostent_resolve(name, af, addrs, &count, &herr) < 0) {
		h_errno = herr;
		return NULL;
	}
	he = addrinfo_static_hostent(name, af, addrs, count);
	h_errno = he ? NETDB_SUCCESS : NO_RECOVERY;
	return he;
}

/* The _r answer into the caller's ret and buf. Returns 0 with *result set,
 * or -errno with *result NULL and *h_errnop set. */
static int hostent_reentrant(const char *name, int af, struct hostent *ret,
			     char *buf, size_t buflen, struct hostent **result,
			     int *h_errnop)
{
	struct endpoint addrs[ADDRINFO_MAX_ADDRS];
	size_t count;
	int rc, n;

	*result = NULL;
	rc = hostent_resolve(name, af, addrs, &count, h_errnop);
	if (rc < 0)
		return rc;
	n = addrinfo_fill_hostent(ret, buf, buflen, name, af, addrs, count);
	if (n == -ERANGE) {
		*h_errnop = NETDB_INTERNAL;
		return -ERANGE;
	}
	*h_errnop = NETDB_SUCCESS;
	*result = ret;
	return 0;
}

SOCKSIFY_EXPORT struct hostent *gethostbyname(const char *name)
{
	int saved = errno;
	struct hostent *he;

	if (!hostent_is_ours(name, AF_INET))
		return real.gethostbyname(name);
	he = hostent_static(name, AF_INET);
	errno = saved;
	return he;
}

SOCKSIFY_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	int saved = errno;
	struct hostent *he;

	if (!hostent_is_ours(name, af))
		return real.gethostbyname2(name, af);
	he = hostent_static(name, af);
	errno = saved;
	return he;
}

SOCKSIFY_EXPORT int gethostbyname_r(const char *name, struct hostent *ret,
				    char *buf, size_t buflen,
				    struct hostent **result, int *h_errnop)
{
	int saved = errno;
	int rc;

	if (!hostent_is_ours(name, AF_INET))
		return real.gethostbyname_r(name, ret, buf, buflen, result,
					    h_errnop);
	rc = -hostent_reentrant(name, AF_INET, ret, buf, buflen, result,
				h_errnop);
	errno = rc ? rc : saved;
	return rc;
}

SOCKSIFY_EXPORT int gethostbyname2_r(const char *name, int af,
				     struct hostent *ret, char *buf,
				     size_t buflen, struct hostent **result,
				     int *h_errnop)
{
	int saved = errno;
	int rc;

	if (!hostent_is_ours(name, af))
		return real.gethostbyname2_r(name, af, ret, buf, buflen, result,
					     h_errnop);
	rc = -hostent_reentrant(name, af, ret, buf, buflen, result, h_errnop);
	errno = rc ? rc : saved;
	return rc;
}

/* Read addr (len bytes of family type) into ep. Returns false when it is
 * not a whole IPv4 or IPv6 address. */
static bool hostent_addr_endpoint(const void *addr, socklen_t len, int type,
				  struct endpoint *ep)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

	if (!addr)
		return false;
	if (type == AF_INET && len == sizeof sin.sin_addr) {
		memcpy(&sin.sin_addr, addr, len);
		return endpoint_from_sockaddr(ep, (struct sockaddr *)&sin,
					      sizeof sin) == 0;
	}
	if (type == AF_INET6 && len == sizeof sin6.sin6_addr) {
		memcpy(&sin6.sin6_addr, addr, len);
		return endpoint_from_sockaddr(ep, (struct sockaddr *)&sin6,
					      sizeof sin6) == 0;
	}
	return false;
}

/* The name behind addr when it is a fake address (or, with remote_dns
 * resolve, a real one the proxy names: RESOLVE_PTR). Returns 0 with *ep and
 * *name set; -ENOENT when the fake range holds no name for it (answered
 * HOST_NOT_FOUND rather than with a PTR query) or the proxy gave none;
 * HOOK_PASS when libc answers (not an address, not fake, remote DNS off). */
static int hostent_addr_name(const void *addr, socklen_t len, int type,
			     struct endpoint *ep, struct endpoint *name)
{
	const struct config *cfg;

	real_init();
	if (!hostent_addr_endpoint(addr, len, type, ep))
		return HOOK_PASS;
	cfg = socksify_config();
	if (cfg->remote_dns &&
	    !addrinfo_is_fake(&cfg->fake_ipv4, &cfg->fake_ipv6, ep))
		return resolve_proxy_name(ep, name);
	if (!cfg->remote_dns)
		return HOOK_PASS;
	return socksify_unfake(ep, name) ? 0 : -ENOENT;
}

SOCKSIFY_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len,
					      int type)
{
	struct endpoint ep, name;
	struct hostent *he = NULL;
	int saved = errno;
	int rc = hostent_addr_name(addr, len, type, &ep, &name);

	if (rc == HOOK_PASS)
		return real.gethostbyaddr(addr, len, type);
	if (rc == 0)
		he = addrinfo_static_hostent(name.u.name, type, &ep, 1);
	h_errno = he ? NETDB_SUCCESS : HOST_NOT_FOUND;
	errno = saved;
	return he;
}

/* gethostbyaddr_r: the reentrant form (Python's socket.gethostbyaddr). */
SOCKSIFY_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type,
				    struct hostent *ret, char *buf,
				    size_t buflen, struct hostent **result,
				    int *h_errnop)
{
	struct endpoint ep, name;
	int rc = hostent_addr_name(addr, len, type, &ep, &name);
	int n;

	*result = NULL;
	if (rc == HOOK_PASS)
		return real.gethostbyaddr_r(addr, len, type, ret, buf, buflen,
					    result, h_errnop);
	if (rc < 0) {
		*h_errnop = HOST_NOT_FOUND;
		return -rc;
	}
	n = addrinfo_fill_hostent(ret, buf, buflen, name.u.name, type, &ep, 1);
	if (n == -ERANGE) {
		*h_errnop = NETDB_INTERNAL;
		return errno = ERANGE;
	}
	*h_errnop = NETDB_SUCCESS;
	*result = ret;
	return 0;
}
