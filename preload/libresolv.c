/* libresolv.c — libresolv's query calls for remote DNS: res_query, res_search,
 * res_querydomain, res_send, their res_n* forms and the __res_* names that
 * programs built before glibc 2.34 call. Inside libc these build a DNS packet
 * and send it to the nameserver with no hook on the way, so with remote DNS
 * on they are answered here, from the same session map as getaddrinfo, and
 * no packet leaves the process. With remote DNS off (and a valid config)
 * every call goes to libc untouched.
 *
 * One answering path: the res_query family encodes the question as a query
 * packet (common/dnsmsg.c) and answers it exactly as res_send answers the
 * caller's packet:
 *   - class IN, type A / AAAA: the addresses getaddrinfo gives the name
 *     (/etc/hosts, else the fake address of that family); a numeric name is
 *     its own answer; NOERROR without data when the family has none;
 *     REFUSED when the fake range is full or the config invalid (as
 *     hostent.c, never TRY_AGAIN: retrying cannot help);
 *   - type PTR of a fake address: its name (NXDOMAIN when the fake range
 *     holds no name for it);
 *   - anything else (SRV, MX, TXT, PTR of a real address, another class):
 *     REFUSED, with a log line. Carrying these through the proxy (UDP
 *     ASSOCIATE or DNS over a SOCKS CONNECT) is not done yet;
 *   - a malformed query: FORMERR; another opcode: NOTIMP.
 * res_send/res_nsend return that reply's length whatever its rcode, as with
 * a real server. The query forms turn the rcode into -1 and h_errno as glibc
 * does: NOERROR without answers → NO_DATA, NXDOMAIN → HOST_NOT_FOUND,
 * SERVFAIL → TRY_AGAIN, REFUSED and the rest → NO_RECOVERY. So a refused
 * type fails with NO_RECOVERY ("no answer can be had"), not NO_DATA, which
 * would claim the name has no such record. errno is left alone then; a
 * reply that does not fit the caller's buffer at all fails with EMSGSIZE,
 * and a packet res_send cannot read as a query with EINVAL.
 *
 * Search domains: getaddrinfo's hook hands a name to the proxy as given, so
 * res_search does the same (no search list, no ndots: the proxy's resolver
 * decides) and equals res_query; res_querydomain asks for "NAME.DOMAIN".
 *
 * Thread safety: no state of our own; h_errno and the res_state are the
 * calling thread's. Not async-signal-safe, like the libc calls themselves
 * (/etc/hosts is read with malloc, as in getaddrinfo). */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

#include "addrinfo.h"
#include "dnsanswer.h"
#include "dnsmsg.h"
#include "endpoint.h"
#include "log.h"
#include "real.h"
#include "resolve.h"
#include "state.h"

#define RESOLV_TTL 60 /* seconds; a fake address never changes in a run */

/* Programs built before glibc 2.34 call these names (its resolv.h mapped
 * res_query to __res_query); the headers no longer declare them. */
int __res_query(const char *name, int class, int type, unsigned char *answer,
		int anslen);
int __res_search(const char *name, int class, int type, unsigned char *answer,
		 int anslen);
int __res_querydomain(const char *name, const char *domain, int class, int type,
		      unsigned char *answer, int anslen);
int __res_send(const unsigned char *msg, int msglen, unsigned char *answer,
	       int anslen);
int __res_nquery(res_state statp, const char *name, int class, int type,
		 unsigned char *answer, int anslen);
int __res_nsearch(res_state statp, const char *name, int class, int type,
		  unsigned char *answer, int anslen);
int __res_nquerydomain(res_state statp, const char *name, const char *domain,
		       int class, int type, unsigned char *answer, int anslen);
int __res_nsend(res_state statp, const unsigned char *msg, int msglen,
		unsigned char *answer, int anslen);

/* True when socksify answers (remote DNS on, or an invalid config). */
static bool resolv_is_ours(void)
{
	real_init();
	return resolve_is_ours(socksify_config());
}

static long resolv_error(const struct dnsmsg_query *q, enum dnsmsg_rcode rcode,
			 uint8_t *reply, size_t cap)
{
	return dnsmsg_build_error(q, rcode, reply, cap);
}

/* A or AAAA of a name (not the root, not an address): the addresses
 * getaddrinfo would give. ctx: the config. */
static long resolv_addresses(const void *ctx, const struct dnsmsg_query *q,
			     uint8_t *reply, size_t cap, const char **why)
{
	struct endpoint addrs[ADDRINFO_MAX_ADDRS];
	int af = q->qtype == DNSMSG_TYPE_AAAA ? AF_INET6 : AF_INET;
	size_t count = 0;
	int rc;

	(void)why; /* resolve_addresses logs its own failures */
	if (resolve_is_literal(q->name)) /* numeric, but not an address */
		return dnsmsg_build_addresses(q, addrs, 0, RESOLV_TTL, reply,
					      cap);
	rc = resolve_addresses(ctx, q->name, af, 0, addrs, &count);
	if (rc == EAI_NONAME)
		return resolv_error(q, DNSMSG_NXDOMAIN, reply, cap);
	if (rc == EAI_SYSTEM) /* logged: /etc/hosts unreadable for now */
		return resolv_error(q, DNSMSG_SERVFAIL, reply, cap);
	if (rc != 0) /* logged; REFUSED, not SERVFAIL: retrying cannot help */
		return resolv_error(q, DNSMSG_REFUSED, reply, cap);
	return dnsmsg_build_addresses(q, addrs, count, RESOLV_TTL, reply, cap);
}

static bool resolv_unfake(const void *ctx, const struct endpoint *ep,
			  struct endpoint *name)
{
	(void)ctx;
	return socksify_unfake(ep, name);
}

/* The reply to query[0..len) into reply[0..cap) (common/dnsanswer.c
 * answers; the addresses are getaddrinfo's). Returns its length, or
 * -EINVAL (not a query: too short, or a response), -EMSGSIZE. */
static long resolv_answer(const uint8_t *query, size_t len, uint8_t *reply,
			  size_t cap)
{
	const struct config *cfg = socksify_config();
	const struct dnsanswer_source src = {
	    .addresses = resolv_addresses,
	    .unfake = resolv_unfake,
	    .ctx = cfg,
	    .fake_ipv4 = &cfg->fake_ipv4,
	    .fake_ipv6 = &cfg->fake_ipv6,
	    .ttl = RESOLV_TTL,
	};
	struct dnsmsg_query q;
	const char *why;
	long rc = dnsanswer_answer(&src, query, len, reply, cap, &q, &why);

	if (rc == -EPROTO)
		return -EINVAL;
	if (why)
		log_warn("DNS query %s type %u class %u refused: %s (remote "
			 "DNS; no packet sent)",
			 q.name, q.qtype, q.qclass, why);
	if (rc > 0)
		log_debug(
		    "DNS query %s type %u: reply made locally (%ld bytes)",
		    q.name, q.qtype, rc);
	return rc == -ENOSPC ? -EMSGSIZE : rc;
}

/* h_errno for a reply, as glibc's res_query reads it. */
static int resolv_herror(const uint8_t *reply, long len)
{
	unsigned rcode, answers;

	if (dnsmsg_reply_status(reply, (size_t)len, &rcode, &answers) < 0)
		return NO_RECOVERY;
	switch (rcode) {
	case DNSMSG_NOERROR:
		return answers ? NETDB_SUCCESS : NO_DATA;
	case DNSMSG_NXDOMAIN:
		return HOST_NOT_FOUND;
	case DNSMSG_SERVFAIL:
		return TRY_AGAIN;
	default:
		return NO_RECOVERY;
	}
}

/* res_query's work for name: the reply in answer, or -errno (*herr set). A
 * DNS-level failure is -ENOENT (errno then left as it was). */
static long resolv_query(const char *name, int class, int type,
			 unsigned char *answer, int anslen, int *herr)
{
	uint8_t query[DNSMSG_HEADER_LEN + DNSMSG_WIRE_NAME_MAX + 4];
	long len = -EINVAL;

	*herr = NO_RECOVERY;
	if (name && class >= 0 && class <= 0xffff && type >= 0 &&
	    type <= 0xffff)
		len = dnsmsg_build_query(0, name, (uint16_t)type,
					 (uint16_t) class, query, sizeof query);
	if (len < 0 || anslen < 0 || !answer)
		return -EINVAL;
	len = resolv_answer(query, (size_t)len, answer, (size_t)anslen);
	if (len < 0)
		return len;
	*herr = resolv_herror(answer, len);
	return *herr == NETDB_SUCCESS ? len : -ENOENT;
}

/* The edge of the query forms: h_errno (and statp's copy) set, errno set
 * for local failures only. */
static int resolv_return(res_state statp, long rc, int herr)
{
	int saved = errno;

	h_errno = herr;
	if (statp)
		statp->res_h_errno = herr;
	if (rc >= 0)
		return (int)rc;
	errno = rc == -ENOENT ? saved : (int)-rc;
	return -1;
}

static int resolv_nquery(res_state statp, const char *name, int class, int type,
			 unsigned char *answer, int anslen)
{
	int herr;
	long rc = resolv_query(name, class, type, answer, anslen, &herr);

	return resolv_return(statp, rc, herr);
}

/* "name.domain" (domain NULL: name without its trailing dot), as
 * res_querydomain asks for it. */
static int resolv_nquerydomain(res_state statp, const char *name,
			       const char *domain, int class, int type,
			       unsigned char *answer, int anslen)
{
	char full[DNSMSG_WIRE_NAME_MAX + 2];
	int n;

	if (!name)
		return resolv_return(statp, -EINVAL, NO_RECOVERY);
	if (domain)
		n = snprintf(full, sizeof full, "%s.%s", name, domain);
	else
		n = snprintf(full, sizeof full, "%s", name);
	if (n < 0 || (size_t)n >= sizeof full)
		return resolv_return(statp, -EMSGSIZE, NO_RECOVERY);
	return resolv_nquery(statp, full, class, type, answer, anslen);
}

/* res_send's work: the reply's length whatever its rcode, or -1 with
 * errno. */
static int resolv_nsend(const unsigned char *msg, int msglen,
			unsigned char *answer, int anslen)
{
	int saved = errno;
	long rc = -EINVAL;

	if (msg && msglen >= 0 && answer && anslen >= 0)
		rc = resolv_answer(msg, (size_t)msglen, answer, (size_t)anslen);
	if (rc >= 0) {
		errno = saved;
		return (int)rc;
	}
	errno = (int)-rc;
	return -1;
}

/* libc's function was not found (libresolv not loaded before glibc 2.34):
 * nothing to call. */
static int resolv_missing(res_state statp)
{
	return resolv_return(statp, -ENOSYS, NO_RECOVERY);
}

SOCKSIFY_EXPORT int res_nquery(res_state statp, const char *name, int class,
			       int type, unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_nquery ? real.res_nquery(statp, name, class,
							 type, answer, anslen)
				       : resolv_missing(statp);
	return resolv_nquery(statp, name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int res_nsearch(res_state statp, const char *name, int class,
				int type, unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_nsearch ? real.res_nsearch(statp, name, class,
							   type, answer, anslen)
					: resolv_missing(statp);
	return resolv_nquery(statp, name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int res_nquerydomain(res_state statp, const char *name,
				     const char *domain, int class, int type,
				     unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_nquerydomain
			   ? real.res_nquerydomain(statp, name, domain, class,
						   type, answer, anslen)
			   : resolv_missing(statp);
	return resolv_nquerydomain(statp, name, domain, class, type, answer,
				   anslen);
}

SOCKSIFY_EXPORT int res_nsend(res_state statp, const unsigned char *msg,
			      int msglen, unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_nsend
			   ? real.res_nsend(statp, msg, msglen, answer, anslen)
			   : resolv_missing(statp);
	return resolv_nsend(msg, msglen, answer, anslen);
}

SOCKSIFY_EXPORT int res_query(const char *name, int class, int type,
			      unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_query
			   ? real.res_query(name, class, type, answer, anslen)
			   : resolv_missing(&_res);
	return resolv_nquery(&_res, name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int res_search(const char *name, int class, int type,
			       unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_search
			   ? real.res_search(name, class, type, answer, anslen)
			   : resolv_missing(&_res);
	return resolv_nquery(&_res, name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int res_querydomain(const char *name, const char *domain,
				    int class, int type, unsigned char *answer,
				    int anslen)
{
	if (!resolv_is_ours())
		return real.res_querydomain
			   ? real.res_querydomain(name, domain, class, type,
						  answer, anslen)
			   : resolv_missing(&_res);
	return resolv_nquerydomain(&_res, name, domain, class, type, answer,
				   anslen);
}

SOCKSIFY_EXPORT int res_send(const unsigned char *msg, int msglen,
			     unsigned char *answer, int anslen)
{
	if (!resolv_is_ours())
		return real.res_send
			   ? real.res_send(msg, msglen, answer, anslen)
			   : resolv_missing(&_res);
	return resolv_nsend(msg, msglen, answer, anslen);
}

/* The pre-2.34 names: the same hooks. (libc's __res_* are the same
 * functions as its res_*, so `real` needs no entries of its own.) */
SOCKSIFY_EXPORT int __res_query(const char *name, int class, int type,
				unsigned char *answer, int anslen)
{
	return res_query(name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int __res_search(const char *name, int class, int type,
				 unsigned char *answer, int anslen)
{
	return res_search(name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int __res_querydomain(const char *name, const char *domain,
				      int class, int type,
				      unsigned char *answer, int anslen)
{
	return res_querydomain(name, domain, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int __res_send(const unsigned char *msg, int msglen,
			       unsigned char *answer, int anslen)
{
	return res_send(msg, msglen, answer, anslen);
}

SOCKSIFY_EXPORT int __res_nquery(res_state statp, const char *name, int class,
				 int type, unsigned char *answer, int anslen)
{
	return res_nquery(statp, name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int __res_nsearch(res_state statp, const char *name, int class,
				  int type, unsigned char *answer, int anslen)
{
	return res_nsearch(statp, name, class, type, answer, anslen);
}

SOCKSIFY_EXPORT int __res_nquerydomain(res_state statp, const char *name,
				       const char *domain, int class, int type,
				       unsigned char *answer, int anslen)
{
	return res_nquerydomain(statp, name, domain, class, type, answer,
				anslen);
}

SOCKSIFY_EXPORT int __res_nsend(res_state statp, const unsigned char *msg,
				int msglen, unsigned char *answer, int anslen)
{
	return res_nsend(statp, msg, msglen, answer, anslen);
}
