/* fakedns.h — the map between host names and fake addresses used for remote
 * DNS. A name gets an index; the index is an address in the fake IPv4 range
 * and the same index in the fake IPv6 range, so both families lead back to
 * one name.
 *
 * The table lives in a MAP_SHARED mapping: a file (so that every process
 * exec'd under one socksify invocation sees the same map) or anonymous memory
 * (shared with fork children only). It is lock-free: entries are claimed with
 * atomic operations, so it is safe in threads, across fork, in signal
 * handlers, and when a process dies mid-insert. It never evicts: once full,
 * new names fail (an address handed out must never change its meaning).
 * The whole capacity is reserved as address space up front (about 268
 * bytes a name: 4.2 GiB for 2^24 names) but costs memory only as names
 * are added, in segments of 65,536 names. */
#ifndef SOCKSIFY_FAKEDNS_H
#define SOCKSIFY_FAKEDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "netaddr.h"
#include "sys_io.h"

/* Opaque and process-local: the mapping and its geometry, checked once at
 * attach and never read from the (writable by others) mapping again. */
struct fakedns;

/* Map the table. io: the calls that open, examine and close the file (see
 * sys_io.h; unused for an anonymous table). path: a file to create (mode 0600,
 * O_NOFOLLOW) or join; NULL for an anonymous shared mapping. capacity: the
 * number of names. A file created with another capacity is joined with the
 * capacity it has. A file being created by another process is waited for (about
 * 2 s at most). An anonymous table that cannot get the address space for
 * capacity (RLIMIT_AS) gets one segment (65,536 names) instead. Returns 0
 * or -errno, errno itself untouched: -EINVAL for a bad capacity (0 or
 * above 2^24) or a file whose size or header is wrong (an older format,
 * damaged, or cut short),
 * -EPERM for a file that is not a 0600 regular file of ours, -ELOOP for a
 * symbolic link. Any error means: use another table (anonymous). */
int fakedns_attach(const struct sys_io *io, struct fakedns **out,
		   const char *path, uint32_t capacity);

/* Unmap (tests; the library keeps its table for the process lifetime). */
void fakedns_detach(struct fakedns *table);

/* The index for name, inserted when absent. The name is normalised once:
 * ASCII lower case, one trailing (root) dot dropped. Returns the index
 * (>= 0), -ENOSPC when the table is full, -EINVAL for what is no host
 * name (empty, an empty label as in "a..b" or "a..", a control, space or
 * ASCII punctuation other than '-' and '_'), -ENAMETOOLONG for a name
 * above 253 bytes or a label above 63. */
long fakedns_lookup(struct fakedns *table, const char *name, size_t len);

/* Copy the name for index into buf (NUL-terminated). Returns its length, or
 * -ENOENT when the index holds no name, -ENOSPC when buf is too small. */
long fakedns_name(struct fakedns *table, uint32_t index, char *buf, size_t cap);

/* Number of names stored. */
uint32_t fakedns_count(const struct fakedns *table);
uint32_t fakedns_capacity(const struct fakedns *table);

/* Index ↔ address within a range (pure arithmetic). Index i is the range's
 * base + 1 + i, so the network address itself is never handed out, nor is
 * the range's last address (the IPv4 broadcast); only the low 32 bits of an
 * IPv6 range are used. to_addr overwrites all of ep (port 0) and returns 0,
 * or -ERANGE when i does not fit the range; from_addr
 * returns the index, or -1 when ep is not inside range (or is a name). */
int fakedns_index_to_addr(const struct netmask *range, uint32_t index,
			  struct endpoint *ep);
long fakedns_addr_to_index(const struct netmask *range,
			   const struct endpoint *ep);

/* True when ep (an IP endpoint) lies in the fake range of its family. */
bool fakedns_in_ranges(const struct netmask *v4, const struct netmask *v6,
		       const struct endpoint *ep);

/* When ep is an address in a fake range whose index holds a name in table
 * (NULL: none), write the name endpoint (ep's port) to name and return
 * true. */
bool fakedns_unfake(struct fakedns *table, const struct netmask *v4,
		    const struct netmask *v6, const struct endpoint *ep,
		    struct endpoint *name);

/* Remove stale table files of this user in dir: "socksify-UID-PID-*" whose
 * PID is no longer alive. Called by the code that names the files, before
 * it attaches a new one (fakedns_attach does not call it). Only regular
 * files owned by uid go. Returns how many were removed; errno untouched. */
int fakedns_collect_stale(const char *dir, unsigned uid);

#endif
