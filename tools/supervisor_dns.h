/* supervisor_dns.h — the supervisor's own DNS responder, for the queries
 * static and Go programs send to the nameservers of /etc/resolv.conf
 * themselves (see supervisor_dns.c). */
#ifndef SOCKSIFY_SUPERVISOR_DNS_H
#define SOCKSIFY_SUPERVISOR_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "endpoint.h"
#include "fakedns.h"

/* Read the nameservers of /etc/resolv.conf and start the responder: UDP
 * and TCP on 127.0.0.1 and ::1 (where the host has it), ephemeral ports, one
 * thread. cfg and table (NULL: every address question is refused) must
 * outlive it. Returns 0, or -errno (logged): then no query is redirected. */
int supervisor_dns_start(const struct config *cfg, struct fakedns *table);

/* Read the nameservers of /etc/resolv.conf (supervisor_dns_start() does it
 * too). */
void supervisor_dns_read_servers(void);

/* Whether ep is one of the nameservers (port 53) and the responder runs. */
bool supervisor_dns_is_server(const struct endpoint *ep);

/* Whether ep is one of the nameservers (port 53), responder or not. */
bool supervisor_dns_is_nameserver(const struct endpoint *ep);

/* The responder's address for a socket of family (AF_INET, AF_INET6) and
 * type (SOCK_STREAM, SOCK_DGRAM), into ep. Returns 0, or -EAFNOSUPPORT. */
int supervisor_dns_responder(int family, int type, struct endpoint *ep);

/* True when ep's address came from the real nameservers' answer for a
 * name a direct rule covers (a connect to it is direct). */
bool supervisor_dns_is_direct(const struct endpoint *ep);

/* The reply to the query in query[0..len), into reply[0..cap): A and AAAA
 * from the fake map (a numeric name is its own answer), PTR of a fake
 * address, REFUSED (logged) for anything else, FORMERR or NOTIMP for what
 * is not a plain query. Returns its length, DNSANSWER_FORWARD for a name
 * a direct rule covers (the caller forwards it), or -1 when there is
 * nothing to answer (not a query). */
long supervisor_dns_answer(const uint8_t *query, size_t len, uint8_t *reply,
			   size_t cap);

#endif
