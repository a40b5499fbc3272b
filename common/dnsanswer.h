/* dnsanswer.h — the reply to a DNS query under remote DNS. One answering
 * path (dnsanswer_answer) for its two users, which differ only in where the
 * addresses of a name come from:
 *   - the seccomp supervisor's responder (dnsanswer_reply): the fake map
 *     alone, as its programs read /etc/hosts themselves before they ask a
 *     nameserver;
 *   - the library's libresolv hooks (preload/libresolv.c): what
 *     getaddrinfo would give.
 * Pure: no I/O beyond the shared map, no errno writes, no logging (the
 * caller logs why). */
#ifndef SOCKSIFY_DNSANSWER_H
#define SOCKSIFY_DNSANSWER_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dnsmsg.h"
#include "fakedns.h"
#include "netaddr.h"

/* Where an answer's data comes from. */
struct dnsanswer_source {
	/* The reply to a class IN A or AAAA question q for a name that is
	 * neither the root nor an address literal; *why set when refused. */
	long (*addresses)(const void *ctx, const struct dnsmsg_query *q,
			  uint8_t *reply, size_t cap, const char **why);
	/* The name behind the fake address *ep into *name; false when the
	 * map holds none for it. */
	bool (*unfake)(const void *ctx, const struct endpoint *ep,
		       struct endpoint *name);
	const void *ctx;
	const struct netmask *fake_ipv4, *fake_ipv6;
	uint32_t ttl;
};

/* The reply to the query in query[0..len), into reply[0..cap), the parsed
 * question in *q (valid unless -EPROTO):
 *   - class IN, A or AAAA: an address literal is its own answer (when of
 *     that family), the root is refused, any other name is
 *     src->addresses' to answer;
 *   - PTR of a fake address: its name (NXDOMAIN when it holds none);
 *   - anything else (MX, TXT, SRV, PTR of a real address, another class):
 *     REFUSED, with *why saying why;
 *   - a malformed query: FORMERR; an opcode other than QUERY: NOTIMP.
 * *why is NULL unless the question was refused. Returns the reply's
 * length, -EPROTO when there is nothing to answer (too short, or a
 * response), -ENOSPC when the reply does not fit, or what src->addresses
 * returns. */
long dnsanswer_answer(const struct dnsanswer_source *src, const uint8_t *query,
		      size_t len, uint8_t *reply, size_t cap,
		      struct dnsmsg_query *q, const char **why);

struct dnsanswer_map {
	const struct netmask *fake_ipv4, *fake_ipv6;
	struct fakedns *table; /* NULL: no map (every name refused) */
	uint32_t ttl;
	/* The host-name rules (NULL: none): a name a block rule refuses at
	 * lookup gets NXDOMAIN, as getaddrinfo gets EAI_NONAME; a name a
	 * direct rule covers is for the real nameserver (DNSANSWER_FORWARD). */
	const struct config *rules;
};

/* dnsanswer_reply's answer for an A or AAAA query of a name a direct rule
 * covers: the caller forwards it to the real nameserver. */
#define DNSANSWER_FORWARD (-EXDEV)

/* The reply to the query in query[0..len), into reply[0..cap):
 *   - class IN, A or AAAA: the name's fake address of that family (a
 *     numeric name is its own answer, when of that family); NXDOMAIN for
 *     a name map->rules blocks; DNSANSWER_FORWARD for a
 *     name a direct rule covers;
 *   - PTR of a fake address: its name (NXDOMAIN when it holds none);
 *   - anything else (MX, TXT, SRV, PTR of a real address, another class),
 *     a full map, no map, the root: REFUSED, with *why saying why;
 *   - a malformed query: FORMERR; an opcode other than QUERY: NOTIMP.
 * *why is NULL unless the question was refused. Returns the reply's
 * length, -EPROTO when there is nothing to answer (too short, or a
 * response), -ENOSPC when the reply does not fit. */
long dnsanswer_reply(const struct dnsanswer_map *map, const uint8_t *query,
		     size_t len, uint8_t *reply, size_t cap, const char **why);

#endif
