/* fdtab.h — what socksify knows about a program's descriptor: the
 * destination it asked for on a proxied socket. O(1) by fd number; chunks are
 * mmap'ed on first use and never freed; readers use a sequence counter, so
 * lookups take no lock and are safe in signal handlers.
 *
 * Each entry records the socket's inode: a descriptor closed behind our back
 * (fclose, a libc-internal close) and reused is detected and ignored. */
#ifndef SOCKSIFY_FDTAB_H
#define SOCKSIFY_FDTAB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "endpoint.h"

/* Descriptor numbers socksify tracks are below this (one limit for every
 * per-descriptor table: fdtab, the asynchronous handshakes, epoll sets). */
#define FDTAB_MAX_FD (1u << 20)

#define FDTAB_PROXIED	 0x1u	/* TCP stream through the proxy: dest */
#define FDTAB_UDP_PEER	 0x2u	/* UDP socket connect()ed to a proxied dest */
#define FDTAB_UDP_ASSOC	 0x4u	/* UDP socket with an association: udp */
#define FDTAB_INTERNAL	 0x8u	/* a hidden fd of ours (hidden.h): owner_id */
#define FDTAB_UDP_SETUP	 0x10u	/* an association is being set up (a claim) */
#define FDTAB_UDP_DEAD	 0x20u	/* the control connection is gone */
#define FDTAB_UDP_SOCKET 0x40u	/* known to be a UDP socket: udp.family */
#define FDTAB_UDP_CORK	 0x100u /* the program set UDP_CORK on the socket */
#define FDTAB_UDP_OPEN	 0x200u /* a corked proxied datagram is pending */
/* What socket()'s own arguments said about an IPv4 or IPv6 socket it made,
 * so that connect() need not ask the kernel (getsockopt SO_TYPE, SO_DOMAIN,
 * SO_PROTOCOL, fcntl F_GETFL). Exactly one of the three kinds is set; the
 * others go with them. Read with fdtab_flags() (no inode check): see
 * fdreg_fresh_socket() for why that is safe. */
#define FDTAB_SOCK_TCP	     0x10000u /* SOCK_STREAM, TCP or MPTCP */
#define FDTAB_SOCK_UDP	     0x20000u /* SOCK_DGRAM */
#define FDTAB_SOCK_UNCARRIED 0x40000u /* another IP protocol (SCTP, ...) */
#define FDTAB_SOCK_INET6     0x80000u /* AF_INET6 (else AF_INET) */
/* O_NONBLOCK as socket() (SOCK_NONBLOCK) or fcntl(F_SETFL) last set it. */
#define FDTAB_SOCK_NONBLOCK 0x100000u
/* The program set a receive timeout (SO_RCVTIMEO) through setsockopt():
 * connect() then leaves the socket's timeout alone (connect.c). */
#define FDTAB_SOCK_RCVTIMEO 0x200000u
#define FDTAB_SOCK_KIND	    (FDTAB_SOCK_TCP | FDTAB_SOCK_UDP | FDTAB_SOCK_UNCARRIED)
#define FDTAB_SOCK_FACTS                                                       \
	(FDTAB_SOCK_KIND | FDTAB_SOCK_INET6 | FDTAB_SOCK_NONBLOCK |            \
	 FDTAB_SOCK_RCVTIMEO)
/* Any of these makes the fd's datagram calls take the UDP path. */
#define FDTAB_UDP_ANY (FDTAB_UDP_PEER | FDTAB_UDP_ASSOC)

/* A UDP association, recorded in the owner's entry and (owner, id) in the
 * control fd's FDTAB_INTERNAL entry. */
struct fdtab_udp {
	uint64_t id; /* unique per association; the same in both entries */
	int control; /* owner entry: the control connection's fd */
	int owner;   /* internal entry: the UDP socket that owns it */
	int family;  /* the UDP socket's family */
	/* The route target the association serves (enum target_kind and
	 * index, see config.h) and the chain it goes through. */
	uint8_t via_kind, via_index, chain;
	uint32_t relay_len;
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} relay; /* the relay, in the socket's family */
};

struct fdtab_entry {
	uint32_t flags;
	uint32_t
	    owner_id;	/* FDTAB_INTERNAL: the owner's registry id (fdreg.h) */
	uint64_t inode; /* st_ino of the socket when recorded */
	struct endpoint dest; /* what the program connected to */
	struct fdtab_udp udp;
};

/* Record e for fd. When e->inode is 0, fd's current inode is recorded.
 * Returns 0, -EBADF for a negative or huge fd (>= FDTAB_MAX_FD), -ENOMEM,
 * or -EAGAIN when the entry could not be written: a signal handler that
 * interrupted its own thread's write of fd's entry, or another thread that
 * held it for more than a second (descheduled). Nothing is written then:
 * the caller treats fd as not recorded. Writers never take a slot over, so
 * an entry is always one writer's whole. */
int fdtab_set(int fd, const struct fdtab_entry *e);

/* Copy fd's entry to out. Returns 0 or -ENOENT (no entry, or the inode no
 * longer matches the descriptor's current socket). */
int fdtab_get(int fd, struct fdtab_entry *out);

/* The same without the inode check (no system call): for hot paths that
 * detect a stale entry by other means (ENOTSOCK). Returns 0 or -ENOENT. */
int fdtab_get_unchecked(int fd, struct fdtab_entry *out);

/* fd's flags and recorded inode, read together (the head of the entry
 * only: no copy of the rest), without the inode check. Returns 0 or
 * -ENOENT. */
int fdtab_head(int fd, uint32_t *flags, uint64_t *inode);

/* fd's flags, or 0: one lock-free load, no system call, no inode check. */
uint32_t fdtab_flags(int fd);

/* Clear fd's entry if it holds nothing but socket()'s facts
 * (FDTAB_SOCK_FACTS), checked and cleared under the slot's write hold, so
 * that an entry another thread makes more of meanwhile is never wiped.
 * Returns 0 (cleared, or there was nothing), -EBUSY (it holds more: left
 * as it is) or -EAGAIN (as fdtab_set). */
int fdtab_forget_facts(int fd);

/* Set flag in fd's entry unless it is set already (a claim: of several
 * threads, exactly one gets 0). Other fields stay. Returns 0, -EBUSY when
 * the flag was set, -EBADF, -ENOMEM, -EAGAIN (as fdtab_set). */
int fdtab_claim(int fd, uint32_t flag);

/* Clear flag (a claim) in fd's entry; an entry left without flags goes.
 * This, fdtab_clear and fdtab_copy leave the entry as it is where
 * fdtab_set would fail with -EAGAIN. */
void fdtab_unflag(int fd, uint32_t flag);

/* Clear flag in every entry (a fork child drops claims held by threads
 * that did not survive the fork). */
void fdtab_unflag_all(uint32_t flag);

/* The lowest fd in [lo, hi] whose flags include any of mask, or -1. */
int fdtab_next(unsigned lo, unsigned hi, uint32_t mask);

/* In a fork child, before anything else touches the table: free the slots
 * that threads which did not survive the fork were writing (their entries,
 * half written, are emptied); this thread's own writes, if fork() ran in a
 * signal handler that interrupted one, are left to finish. Returns the
 * number of slots freed. Single-threaded use only. */
unsigned fdtab_fork_child(void);

/* Rate limiter beside each entry: true (and the time recorded) when at
 * least interval_ms passed since the last true answer for fd's current
 * entry (setting or clearing the entry restarts it). Lock-free. */
bool fdtab_due(int fd, uint64_t now_ms, uint64_t interval_ms);

void fdtab_clear(int fd);
/* Clear [lo, hi] inclusive (close_range semantics; hi may be ~0U). */
void fdtab_clear_range(unsigned lo, unsigned hi);
/* Make to's entry a copy of from's (dup2 semantics: to's old entry goes).
 * FDTAB_INTERNAL and FDTAB_UDP_SETUP are not copied: a program's duplicate
 * of our control fd is the program's own. */
void fdtab_copy(int from, int to);

#endif
