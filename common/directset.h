/* directset.h — the addresses that names of direct rules resolved to, so
 * that a connect to one goes direct too ("direct .corp.example": the name
 * is resolved by real DNS and its connection bypasses the proxy). One
 * process-wide table of the last DIRECTSET_SLOTS addresses, written and
 * read without locks: each slot is guarded by a sequence number, so a
 * reader never takes a half-written address for a match. Ports are not
 * kept: an address stands for its host. */
#ifndef SOCKSIFY_DIRECTSET_H
#define SOCKSIFY_DIRECTSET_H

#include <stdbool.h>

#include "endpoint.h"

#define DIRECTSET_SLOTS 256

/* Remember ep (IPv4 or IPv6; anything else is ignored). The oldest of the
 * table is forgotten when it is full. */
void directset_add(const struct endpoint *ep);

/* True when ep's address (not its port) was remembered. */
bool directset_contains(const struct endpoint *ep);

/* Forget everything (tests). */
void directset_clear(void);

#endif
