/* resolve.c — getaddrinfo(), freeaddrinfo() and getnameinfo() for remote
 * DNS: a host name becomes a fake address whose name the connect hook sends
 * to the proxy, so the program's DNS query never leaves the machine.
 *
 * Order of a lookup: no name or a numeric literal → libc (nothing to
 * resolve, never faked); remote DNS off with a valid config → libc; a name
 * /etc/hosts knows → its addresses; anything else → fake addresses (IPv4
 * then IPv6 for AF_UNSPEC). An invalid config fails every other name with
 * EAI_FAIL: libc must not query DNS behind a broken proxy setup.
 *
 * Error codes chosen: the fake range full → EAI_MEMORY (logged: no more
 * names can ever be handed out in this session); what is no host name
 * (empty, an empty label, a label above 63 bytes, a name above 253, bytes
 * no host name holds: see fakedns_lookup) → EAI_NONAME; an invalid config or
 * no fake-DNS table → EAI_FAIL (logged); /etc/hosts there but not readable
 * now (no descriptor free, an I/O error) → EAI_SYSTEM with errno (logged),
 * never a fake address for a name the file may map.
 *
 * remote_dns resolve: instead of fake addresses, the proxy is asked for the
 * real one with Tor's RESOLVE command (and getnameinfo/gethostbyaddr of a
 * real address with RESOLVE_PTR), each on a connection of its own through
 * the default chain, closed after the reply. Its errors: a proxy without
 * the command (REP 7) → EAI_FAIL, logged; a name it cannot resolve (REP 4
 * or 3, as Tor answers) → EAI_NONAME; the proxy unreachable, a general
 * failure or a timeout → EAI_AGAIN; anything else → EAI_FAIL.
 *
 * Thread safety: the config is read-only, the fake-DNS table is lock-free,
 * the kept text of /etc/hosts is reference-counted under a mutex held for a
 * few instructions (its fork handlers: resolve_register). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addrinfo.h"
#include "directset.h"
#include "fakedns.h"
#include "gssapi.h"
#include "hooks.h"
#include "hosts.h"
#include "hostsfile.h"
#include "log.h"
#include "real.h"
#include "resolve.h"
#include "route.h"
#include "state.h"
#include "tunnel.h"

#define HOSTS_PATH	     "/etc/hosts"
#define SERVICES_ENTRY_BYTES 1024 /* room for one services entry's text */
#define HOSTS_MAX_BYTES	     (16u << 20) /* ad-blocking lists reach megabytes */

bool resolve_is_ours(const struct config *cfg)
{
	/* The GSS-API library's own lookups (its KDC) go to libc. */
	if (gssapi_bypass())
		return false;
	return !cfg->valid || cfg->remote_dns;
}

bool resolve_is_literal(const char *name)
{
	return !name || addrinfo_is_numeric_host(name);
}

/* The port of service for proto from the services database (files only, no
 * network), for addrinfo_build. Returns it in host order, or -ENOENT. */
static int resolve_service_port(const char *service, const char *proto)
{
	struct servent entry, *found = NULL;
	char buf[SERVICES_ENTRY_BYTES];

	if (getservbyname_r(service, proto, &entry, buf, sizeof buf, &found) !=
		0 ||
	    !found)
		return -ENOENT;
	return ntohs((uint16_t)found->s_port);
}

/* /etc/hosts as last read, kept while the file stays the same (see
 * common/hostsfile.h): edits are seen by the next lookup, and a process
 * with no descriptor free still knows the names it read before. */
static struct hostsfile_cache resolve_hosts_cache =
    HOSTSFILE_CACHE_INIT(HOSTS_MAX_BYTES);

static void resolve_fork_prepare(void)
{
	hostsfile_fork_prepare(&resolve_hosts_cache);
}

static void resolve_fork_parent(void)
{
	hostsfile_fork_parent(&resolve_hosts_cache);
}

static void resolve_fork_child(void)
{
	hostsfile_fork_child(&resolve_hosts_cache);
}

void resolve_register(void)
{
	pthread_atfork(resolve_fork_prepare, resolve_fork_parent,
		       resolve_fork_child);
}

/* Keep from all (a hosts answer for both families, IPv4 first) what family
 * asks for; AF_INET6 takes IPv4 addresses too under AI_V4MAPPED when there
 * is no IPv6 one, or always with AI_ALL. Returns the number kept in out. */
static size_t hosts_filter(const struct endpoint *all, size_t n, int family,
			   int flags, struct endpoint *out)
{
	size_t i, kept = 0, v6 = 0;
	bool mapped;

	for (i = 0; i < n; i++)
		v6 += all[i].kind == ENDPOINT_IPV6;
	mapped = (flags & AI_V4MAPPED) && (v6 == 0 || (flags & AI_ALL));
	for (i = 0; i < n; i++) {
		bool v4 = all[i].kind == ENDPOINT_IPV4;

		if (family == AF_UNSPEC || (family == AF_INET && v4) ||
		    (family == AF_INET6 && (!v4 || mapped)))
			out[kept++] = all[i];
	}
	return kept;
}

/* Look name up in /etc/hosts. Returns 1 when the file names it (in any
 * family; *count then says how many addresses fit family), 0 when it does
 * not, EAI_MEMORY, or EAI_SYSTEM with errno set when the file could not be
 * read now (logged; the lookup fails rather than fake a local name). */
static int resolve_hosts(const char *name, int family, int flags,
			 struct endpoint *out, size_t *count)
{
	struct endpoint all[ADDRINFO_MAX_ADDRS];
	int err;
	struct hostsfile_text *text =
	    hostsfile_get(&resolve_hosts_cache, &real_sys_io, HOSTS_PATH, &err);
	size_t n;

	if (err == ENOMEM)
		return EAI_MEMORY;
	if (err) {
		log_error("resolve %s: cannot read " HOSTS_PATH ": %s; refused",
			  name, strerror(err));
		errno = err;
		return EAI_SYSTEM;
	}
	n = text ? hosts_lookup(text->text, text->len, name, AF_UNSPEC, all,
				ADDRINFO_MAX_ADDRS)
		 : 0;
	hostsfile_release(&resolve_hosts_cache, text);
	*count = hosts_filter(all, n, family, flags, out);
	return n > 0;
}

/* Fake address index of the range, appended to out[*count] when the range
 * is configured and holds it. */
static void fake_add(const struct netmask *range, long index,
		     struct endpoint *out, size_t *count)
{
	if (range->family != AF_INET && range->family != AF_INET6)
		return;
	if (fakedns_index_to_addr(range, (uint32_t)index, &out[*count]) == 0)
		(*count)++;
}

/* Fake addresses for name: IPv4 and/or IPv6 by family (an IPv4 one for
 * AF_INET6 with AI_V4MAPPED when no IPv6 range is usable). Returns 0 or
 * EAI_NONAME, EAI_MEMORY, EAI_FAIL (see resolve_addresses). */
static int resolve_fake(const struct config *cfg, const char *name, int family,
			int flags, struct endpoint *out, size_t *count)
{
	struct fakedns *table = socksify_fakedns();
	long index;

	*count = 0;
	if (!table) {
		log_error("resolve %s: no fake-DNS table, refused", name);
		return EAI_FAIL;
	}
	index = fakedns_lookup(table, name, strlen(name));
	if (index < 0 && index != -ENOSPC)
		return EAI_NONAME; /* not a host name */
	if (index >= 0 && family != AF_INET6)
		fake_add(&cfg->fake_ipv4, index, out, count);
	if (index >= 0 && family != AF_INET)
		fake_add(&cfg->fake_ipv6, index, out, count);
	if (index >= 0 && *count == 0 && family == AF_INET6 &&
	    (flags & AI_V4MAPPED))
		fake_add(&cfg->fake_ipv4, index, out, count);
	if (*count == 0) {
		log_error("resolve %s: fake address range full (%u names)",
			  name, fakedns_count(table));
		return EAI_MEMORY;
	}
	return 0;
}

/* One of Tor's commands (HANDSHAKE_RESOLVE, HANDSHAKE_RESOLVE_PTR) for
 * dest through the default chain, on a connection of its own closed after
 * the reply. Returns 0 with *answer (the reply's BND.ADDR), or -errno with
 * *negotiating saying whether the proxy answered (logged either way). */
static int resolve_ask_proxy(const struct config *cfg,
			     const struct endpoint *dest,
			     enum handshake_cmd cmd, struct endpoint *answer,
			     bool *negotiating)
{
	const char *what = cmd == HANDSHAKE_RESOLVE ? "RESOLVE" : "RESOLVE_PTR";
	char text[ENDPOINT_TEXT_MAX];
	struct sockaddr_storage proxy;
	struct tunnel_result res = {.why = NULL};
	int family = AF_INET, len, fd, rc;

	*negotiating = false;
	len = socksify_proxy_sockaddr(family, &proxy);
	if (len == -EAFNOSUPPORT)
		len = socksify_proxy_sockaddr(family = AF_INET6, &proxy);
	if (len < 0)
		return len;
	fd = real.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = tunnel_open(&real_io, cfg, fd, (struct sockaddr *)&proxy,
			 (socklen_t)len, dest, cmd, &res);
	real.close(fd);
	endpoint_format(dest, text, sizeof text);
	*negotiating = res.negotiating;
	if (rc == -EOPNOTSUPP && res.negotiating)
		log_error("resolve %s: the proxy does not support Tor's %s "
			  "command (remote_dns resolve needs Tor or a proxy "
			  "with its extensions)",
			  text, what);
	else if (rc < 0)
		log_error("resolve %s: %s through the proxy failed: %s", text,
			  what, res.why ? res.why : "failed");
	if (rc < 0)
		return rc;
	*answer = res.bound;
	return 0;
}

/* The EAI_* code for a failed resolve_ask_proxy(). */
static int resolve_proxy_error(int err, bool negotiating)
{
	if (err == -EOPNOTSUPP)
		return EAI_FAIL;
	if (!negotiating || err == -ETIMEDOUT || err == -ECONNABORTED)
		return EAI_AGAIN;
	if (err == -EHOSTUNREACH || err == -ENETUNREACH)
		return EAI_NONAME;
	return EAI_FAIL;
}

/* remote_dns resolve: name's real address from the proxy (Tor's RESOLVE),
 * kept when it fits family (an IPv4 one for AF_INET6 under AI_V4MAPPED).
 * Returns 0 or an EAI_* code (see the top of the file). */
static int resolve_proxy(const struct config *cfg, const char *name, int family,
			 int flags, struct endpoint *out, size_t *count)
{
	struct endpoint dest, answer;
	bool negotiating;
	int rc;

	*count = 0;
	if (endpoint_set_name(&dest, name, strlen(name), 0) < 0)
		return EAI_NONAME;
	rc = resolve_ask_proxy(cfg, &dest, HANDSHAKE_RESOLVE, &answer,
			       &negotiating);
	if (rc < 0)
		return resolve_proxy_error(rc, negotiating);
	if (answer.kind != ENDPOINT_IPV4 && answer.kind != ENDPOINT_IPV6) {
		log_error("resolve %s: the proxy answered RESOLVE without an "
			  "address",
			  name);
		return EAI_FAIL;
	}
	answer.port = 0;
	if ((answer.kind == ENDPOINT_IPV4 && family == AF_INET6 &&
	     !(flags & AI_V4MAPPED)) ||
	    (answer.kind == ENDPOINT_IPV6 && family == AF_INET))
		return EAI_NONAME;
	out[(*count)++] = answer;
	return 0;
}

int resolve_proxy_name(const struct endpoint *addr, struct endpoint *name)
{
	const struct config *cfg = socksify_config();
	struct endpoint dest = *addr;
	bool negotiating;

	if (!cfg->valid || cfg->remote_dns_mode != REMOTE_DNS_RESOLVE)
		return HOOK_PASS;
	dest.port = 0;
	if (resolve_ask_proxy(cfg, &dest, HANDSHAKE_RESOLVE_PTR, name,
			      &negotiating) < 0)
		return -ENOENT;
	if (name->kind != ENDPOINT_NAME) {
		log_error("resolve_ptr: the proxy answered without a name");
		return -ENOENT;
	}
	return 0;
}

/* Log one answer at debug level: "resolve NAME -> SOURCE ADDR ADDR". */
static void resolve_log(const char *name, const char *source,
			const struct endpoint *addrs, size_t count)
{
	char text[ADDRINFO_MAX_ADDRS * (INET6_ADDRSTRLEN + 1) + 1] = "";
	size_t i, used = 0;

	if (!log_enabled(LOG_DEBUG))
		return;
	for (i = 0; i < count; i++) {
		text[used++] = ' ';
		inet_ntop(addrs[i].kind == ENDPOINT_IPV4 ? AF_INET : AF_INET6,
			  addrs[i].u.ipv6, text + used, INET6_ADDRSTRLEN);
		used += strlen(text + used);
	}
	log_debug("resolve %s -> %s%s", name, source, count ? text : " none");
}

enum route_decision resolve_rule(const struct config *cfg, const char *name)
{
	struct route_choice choice;

	if (!cfg->valid ||
	    route_lookup(cfg, name, strlen(name), &choice) == ROUTE_PROXY)
		return ROUTE_PROXY;
	if (log_enabled(LOG_INFO))
		log_info("resolve %s: %s by the rule of line %u", name,
			 choice.decision == ROUTE_DIRECT
			     ? "resolved locally (direct)"
			     : "refused",
			 cfg->rules[choice.rule].line);
	return choice.decision;
}

/* Remember the addresses of a direct name, so that their connects go
 * direct too. */
static void resolve_note_direct(const struct addrinfo *res)
{
	struct endpoint ep;

	for (; res; res = res->ai_next)
		if (endpoint_from_sockaddr(&ep, res->ai_addr,
					   res->ai_addrlen) == 0)
			directset_add(&ep);
}

/* Real DNS for a name a direct rule sends around the proxy: libc's
 * getaddrinfo, its addresses into out[*count]. Returns 0 or its EAI_*. */
static int resolve_real(const char *name, int family, int flags,
			struct endpoint *out, size_t *count)
{
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = flags & (AI_V4MAPPED | AI_ALL)};
	struct addrinfo *res, *ai;
	int rc = real.getaddrinfo(name, NULL, &hints, &res);

	*count = 0;
	if (rc != 0)
		return rc;
	resolve_note_direct(res);
	for (ai = res; ai && *count < ADDRINFO_MAX_ADDRS; ai = ai->ai_next)
		if (endpoint_from_sockaddr(&out[*count], ai->ai_addr,
					   ai->ai_addrlen) == 0)
			(*count)++;
	real.freeaddrinfo(res);
	return *count ? 0 : EAI_NONAME;
}

int resolve_addresses(const struct config *cfg, const char *name, int family,
		      int flags, struct endpoint *out, size_t *count)
{
	int rc;

	switch (resolve_rule(cfg, name)) {
	case ROUTE_BLOCK:
		*count = 0;
		return EAI_NONAME;
	case ROUTE_DIRECT:
		return resolve_real(name, family, flags, out, count);
	case ROUTE_PROXY:
		break;
	}
	rc = resolve_hosts(name, family, flags, out, count);

	if (rc < 0)
		return rc;
	if (rc > 0) {
		resolve_log(name, "hosts", out, *count);
		return 0;
	}
	if (!cfg->valid) {
		log_error("resolve %s: refused, configuration invalid: %s",
			  name, cfg->error);
		return EAI_FAIL;
	}
	if (cfg->remote_dns_mode == REMOTE_DNS_RESOLVE) {
		rc = resolve_proxy(cfg, name, family, flags, out, count);
		if (rc == 0)
			resolve_log(name, "proxy", out, *count);
		return rc;
	}
	rc = resolve_fake(cfg, name, family, flags, out, count);
	if (rc == 0)
		resolve_log(name, "fake", out, *count);
	return rc;
}

int resolve_getaddrinfo(const char *node, const char *service,
			const struct addrinfo *hints, struct addrinfo **res)
{
	struct endpoint addrs[ADDRINFO_MAX_ADDRS];
	const struct config *cfg;
	size_t count;
	int rc;

	real_init();
	/* Literals first: they need no config, and the config's own loading
	 * may resolve the proxy's numeric address through here. The GSS-API
	 * library's own lookups (its KDC) go to libc too. */
	if (gssapi_bypass() || resolve_is_literal(node) ||
	    (hints && hints->ai_flags & AI_NUMERICHOST))
		return real.getaddrinfo(node, service, hints, res);
	cfg = socksify_config();
	/* Host-name rules: before the remote DNS test, so that a block rule
	 * refuses the name with remote DNS off too. */
	switch (resolve_rule(cfg, node)) {
	case ROUTE_BLOCK:
		return EAI_NONAME;
	case ROUTE_DIRECT:
		rc = real.getaddrinfo(node, service, hints, res);
		if (rc == 0)
			resolve_note_direct(*res);
		return rc;
	case ROUTE_PROXY:
		break;
	}
	if (!resolve_is_ours(cfg))
		return real.getaddrinfo(node, service, hints, res);
	rc = addrinfo_check_hints(hints);
	if (rc == 0)
		rc = resolve_addresses(
		    cfg, node, hints ? hints->ai_family : AF_UNSPEC,
		    hints ? hints->ai_flags : AI_V4MAPPED, addrs, &count);
	if (rc == 0)
		rc = addrinfo_build(addrs, count, service, hints, node,
				    resolve_service_port, res);
	return rc;
}

/* glibc's getaddrinfo hands back an error in errno only with EAI_SYSTEM;
 * otherwise errno is left as the program had it. */
SOCKSIFY_EXPORT int getaddrinfo(const char *node, const char *service,
				const struct addrinfo *hints,
				struct addrinfo **res)
{
	int saved = errno;
	int rc = resolve_getaddrinfo(node, service, hints, res);

	if (rc != EAI_SYSTEM)
		errno = saved;
	return rc;
}

/* Frees lists from libc and from us alike. Both are built the same way —
 * each node one malloc block (struct addrinfo, then its socket address),
 * plus ai_canonname as its own block — and both were allocated with the
 * process's one malloc, so one walk that frees ai_canonname and the node is
 * right for either (this is exactly what glibc's freeaddrinfo does). */
SOCKSIFY_EXPORT void freeaddrinfo(struct addrinfo *res)
{
	int saved = errno;

	addrinfo_free(res);
	errno = saved;
}

/* The host part for a fake address: its name into host[0..hostlen).
 * The service part (if asked) comes from libc with NI_NUMERICHOST, which
 * never queries DNS. Returns 0, EAI_OVERFLOW, or libc's code. */
static int nameinfo_fake(const struct sockaddr *sa, socklen_t salen,
			 const struct endpoint *name, char *host,
			 socklen_t hostlen, char *serv, socklen_t servlen,
			 int flags)
{
	int rc;

	if (serv && servlen) {
		rc = real.getnameinfo(sa, salen, NULL, 0, serv, servlen,
				      (flags & ~NI_NAMEREQD) | NI_NUMERICHOST);
		if (rc)
			return rc;
	}
	if (!host || !hostlen)
		return 0;
	if ((size_t)name->name_len + 1 > hostlen)
		return EAI_OVERFLOW;
	memcpy(host, name->u.name, (size_t)name->name_len + 1);
	return 0;
}

/* getnameinfo for remote DNS: a fake address gives back its name; one in
 * the fake range without a name is answered numerically (EAI_NONAME under
 * NI_NAMEREQD) rather than asking DNS for its PTR record. With remote_dns
 * resolve a real address is asked of the proxy (RESOLVE_PTR); when that
 * fails, the same numeric answer. */
static int resolve_nameinfo(const struct sockaddr *sa, socklen_t salen,
			    char *host, socklen_t hostlen, char *serv,
			    socklen_t servlen, int flags)
{
	const struct config *cfg;
	struct endpoint ep, name;

	real_init();
	if ((flags & NI_NUMERICHOST) || !host || !hostlen || gssapi_bypass() ||
	    endpoint_from_sockaddr(&ep, sa, salen) < 0)
		return real.getnameinfo(sa, salen, host, hostlen, serv, servlen,
					flags);
	cfg = socksify_config();
	if (cfg->remote_dns &&
	    !addrinfo_is_fake(&cfg->fake_ipv4, &cfg->fake_ipv6, &ep))
		switch (resolve_proxy_name(&ep, &name)) {
		case 0:
			return nameinfo_fake(sa, salen, &name, host, hostlen,
					     serv, servlen, flags);
		case HOOK_PASS:
			break;
		default:
			if (flags & NI_NAMEREQD)
				return EAI_NONAME;
			return real.getnameinfo(sa, salen, host, hostlen, serv,
						servlen,
						flags | NI_NUMERICHOST);
		}
	if (!cfg->remote_dns ||
	    !addrinfo_is_fake(&cfg->fake_ipv4, &cfg->fake_ipv6, &ep))
		return real.getnameinfo(sa, salen, host, hostlen, serv, servlen,
					flags);
	if (socksify_unfake(&ep, &name))
		return nameinfo_fake(sa, salen, &name, host, hostlen, serv,
				     servlen, flags);
	if (flags & NI_NAMEREQD)
		return EAI_NONAME;
	return real.getnameinfo(sa, salen, host, hostlen, serv, servlen,
				flags | NI_NUMERICHOST);
}

SOCKSIFY_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen,
				char *host, socklen_t hostlen, char *serv,
				socklen_t servlen, int flags)
{
	int saved = errno;
	int rc =
	    resolve_nameinfo(sa, salen, host, hostlen, serv, servlen, flags);

	if (rc != EAI_SYSTEM)
		errno = saved;
	return rc;
}
