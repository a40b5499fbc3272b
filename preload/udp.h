/* udp.h — UDP through a SOCKS5 UDP association, shared by the preload
 * files that carry it: udp.c (policy, association set-up and lifetime),
 * udp_send.c and udp_recv.c (the datagram machinery behind the send.c and
 * recv.c hooks, declared in udp_io.h), and connect.c; the registry
 * (fdops.c, common/fdreg.h) tells udp.c of closes and moves. Internal to
 * preload/.
 *
 * Per-fd state lives in fdtab (see fdtab.h): FDTAB_UDP_PEER with the peer in
 * dest, FDTAB_UDP_ASSOC with the association in udp, FDTAB_INTERNAL on the
 * hidden control fd, FDTAB_UDP_CORK and FDTAB_UDP_OPEN for corked
 * datagrams (see udp_send.c). Every datagram call first reads fdtab_flags(fd),
 * one lock-free load, so descriptors without UDP state pay nothing more. */
#ifndef SOCKSIFY_UDP_H
#define SOCKSIFY_UDP_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "endpoint.h"
#include "fdtab.h"

/* Where a datagram to a destination goes. */
enum udp_way {
	UDP_WAY_DIRECT, /* the real call, unchanged */
	UDP_WAY_PROXY,	/* wrapped and sent to the relay */
};

/* The errno of sends on an association whose control connection died. */
#define UDP_DEAD_ERRNO ECONNRESET

/* Decide for a datagram from fd to dest (an IP endpoint). Returns a
 * udp_way, or -EACCES when refused (logged at error level). For
 * UDP_WAY_PROXY, *via (when via is not NULL) receives the route's chain or
 * group. */
int udp_route(int fd, const struct endpoint *dest, struct route_target *via);

/* The same decision without a log line (for received datagrams). */
int udp_route_silent(const struct endpoint *dest);

/* Make sure fd (a UDP socket of family) has an association for the route
 * target via, setting one up when it has none (through via's first live
 * member that carries UDP; via NULL: the recorded peer's route, else the
 * default chain); *e receives fd's entry with FDTAB_UDP_ASSOC. One
 * association per socket: when fd's serves another chain or group than
 * via, -EACCES (logged). Returns 0 or -errno (logged). Concurrent callers
 * on one fd wait for the first. */
int udp_assoc_ensure(int fd, int family, const struct route_target *via,
		     struct fdtab_entry *e);

/* Check (at most every ~100 ms per fd, else free) that e's control
 * connection is alive. Returns 0 or -UDP_DEAD_ERRNO (logged once). */
int udp_assoc_alive(int fd, const struct fdtab_entry *e);

/* The program closes fd: end its association (close the control fd) when
 * fd owns one. Leaves fd's own entry alone. */
void udp_release(int fd);

/* The program closes [lo, hi]: end the associations owned there. */
void udp_release_range(unsigned lo, unsigned hi);

/* Register with the descriptor registry (fdops.c, at load). */
void udp_register(void);

/* Record that fd (UDP, family) is connected to the proxied peer dest
 * (keeping any association). Returns 0 or -errno. */
int udp_set_peer(int fd, int family, const struct endpoint *dest);

/* A UDP-path call on fd found it is not a socket (a stale entry): forget
 * the entry so the caller can make the real call. */
void udp_forget(int fd);

/* Remember fd as a UDP socket of family (saves classifying it again). */
void udp_note_socket(int fd, int family);

/* The program set UDP_CORK on fd (the real setsockopt succeeded). On: fd,
 * when an IPv4/IPv6 UDP socket, is marked FDTAB_UDP_CORK (its entry made
 * when it has none), so that proxied sends leave their datagram open. Off:
 * the kernel sends what was corked, so the open datagram (FDTAB_UDP_OPEN)
 * is closed too. */
void udp_note_cork(int fd, bool on);

#endif
