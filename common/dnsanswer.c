/* dnsanswer.c — answer a DNS query from the fake map (see dnsanswer.h). */
#include <errno.h>

#include "addrinfo.h"
#include "dnsanswer.h"
#include "dnsmsg.h"
#include "route.h"

static long refuse(const struct dnsmsg_query *q, const char *reason,
		   uint8_t *reply, size_t cap, const char **why)
{
	*why = reason;
	return dnsmsg_build_error(q, DNSMSG_REFUSED, reply, cap);
}

/* The supervisor's A or AAAA: the fake address of the question's family,
 * after the host-name rules. */
static long map_addresses(const void *ctx, const struct dnsmsg_query *q,
			  uint8_t *reply, size_t cap, const char **why)
{
	const struct dnsanswer_map *map = ctx;
	const struct netmask *range =
	    q->qtype == DNSMSG_TYPE_AAAA ? map->fake_ipv6 : map->fake_ipv4;
	struct route_choice choice;
	struct endpoint ep;
	long index;

	if (map->rules) {
		enum route_decision d =
		    route_lookup(map->rules, q->name, q->name_len, &choice);

		if (d == ROUTE_BLOCK)
			return dnsmsg_build_error(q, DNSMSG_NXDOMAIN, reply,
						  cap);
		if (d == ROUTE_DIRECT)
			return DNSANSWER_FORWARD;
	}
	if (!map->table)
		return refuse(q, "no fake-address map", reply, cap, why);
	index = fakedns_lookup(map->table, q->name, q->name_len);
	if (index < 0 || fakedns_index_to_addr(range, (uint32_t)index, &ep) < 0)
		return refuse(q, "the fake address range is full", reply, cap,
			      why);
	return dnsmsg_build_addresses(q, &ep, 1, map->ttl, reply, cap);
}

static bool map_unfake(const void *ctx, const struct endpoint *ep,
		       struct endpoint *name)
{
	const struct dnsanswer_map *map = ctx;

	return fakedns_unfake(map->table, map->fake_ipv4, map->fake_ipv6, ep,
			      name);
}

/* A or AAAA. */
static long addresses(const struct dnsanswer_source *src,
		      const struct dnsmsg_query *q, uint8_t *reply, size_t cap,
		      const char **why)
{
	struct endpoint ep;

	if (q->name_len == 0)
		return refuse(q, "the root has no address", reply, cap, why);
	if (endpoint_parse_ip(&ep, q->name) == 0)
		return dnsmsg_build_addresses(q, &ep, 1, src->ttl, reply, cap);
	return src->addresses(src->ctx, q, reply, cap, why);
}

/* PTR: the name of a fake address. */
static long pointer(const struct dnsanswer_source *src,
		    const struct dnsmsg_query *q, uint8_t *reply, size_t cap,
		    const char **why)
{
	struct endpoint ep, name;

	if (dnsmsg_reverse_to_addr(q->name, q->name_len, &ep) < 0 ||
	    !addrinfo_is_fake(src->fake_ipv4, src->fake_ipv6, &ep))
		return refuse(q, "PTR of an address that is not fake", reply,
			      cap, why);
	if (!src->unfake(src->ctx, &ep, &name))
		return dnsmsg_build_error(q, DNSMSG_NXDOMAIN, reply, cap);
	return dnsmsg_build_ptr(q, name.u.name, src->ttl, reply, cap);
}

long dnsanswer_answer(const struct dnsanswer_source *src, const uint8_t *query,
		      size_t len, uint8_t *reply, size_t cap,
		      struct dnsmsg_query *q, const char **why)
{
	long rc = dnsmsg_parse_query(query, len, q);

	*why = NULL;
	if (rc == -EPROTO)
		return -EPROTO;
	if (rc == -EOPNOTSUPP)
		return dnsmsg_build_error(q, DNSMSG_NOTIMP, reply, cap);
	if (rc < 0)
		return dnsmsg_build_error(q, DNSMSG_FORMERR, reply, cap);
	if (q->qclass != DNSMSG_CLASS_IN)
		return refuse(q, "class is not IN", reply, cap, why);
	if (q->qtype == DNSMSG_TYPE_A || q->qtype == DNSMSG_TYPE_AAAA)
		return addresses(src, q, reply, cap, why);
	if (q->qtype == DNSMSG_TYPE_PTR)
		return pointer(src, q, reply, cap, why);
	return refuse(q, "only A, AAAA and PTR are answered", reply, cap, why);
}

long dnsanswer_reply(const struct dnsanswer_map *map, const uint8_t *query,
		     size_t len, uint8_t *reply, size_t cap, const char **why)
{
	const struct dnsanswer_source src = {
	    .addresses = map_addresses,
	    .unfake = map_unfake,
	    .ctx = map,
	    .fake_ipv4 = map->fake_ipv4,
	    .fake_ipv6 = map->fake_ipv6,
	    .ttl = map->ttl,
	};
	struct dnsmsg_query q;

	return dnsanswer_answer(&src, query, len, reply, cap, &q, why);
}
