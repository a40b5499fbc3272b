/* hooks.h — what every hook shares: the internal error convention and its
 * edge (hook_return), what kind of socket a descriptor is, and the
 * decisions that connect() and the address-carrying send calls must make
 * the same way. Internal to preload/. */
#ifndef SOCKSIFY_HOOKS_H
#define SOCKSIFY_HOOKS_H

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"
#include "endpoint.h"

/* The one internal convention of preload/ (and common/): a function
 * returns 0 or a count on success and -errno on failure; errno is written
 * once, at the edge, by the exported hook (hook_return), and a hook that
 * succeeds leaves errno as it found it. A function that may leave a call to
 * libc untouched returns HOOK_PASS, which lies outside every errno's range
 * (Linux errno values are below 4096). */
#define HOOK_PASS (-4096)

/* The edge: turn an internal result into libc's convention (-1 and errno
 * for -errno, the value itself otherwise). */
static inline long hook_return(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* How socksify treats a socket. */
enum socket_class {
	SOCKET_OTHER, /* not an IP socket, raw, or not a socket: untouched */
	SOCKET_TCP,   /* carried through the proxy */
	SOCKET_UDP,   /* not carried yet: allowed to direct routes only */
	SOCKET_UNCARRIED, /* SCTP and other IP protocols: the same rule */
};

/* Classify fd. *domain receives the socket's family (AF_INET, AF_INET6)
 * when the class is not SOCKET_OTHER. A socket made through our socket()
 * hook costs no system call (its facts are recorded, fdreg.h); otherwise a
 * descriptor that is not a socket costs one getsockopt call, a TCP socket
 * three. */
enum socket_class hook_socket_class(int fd, int *domain);

/* The protocol's name for log lines ("UDP"). */
const char *hook_class_name(enum socket_class class);

/* True when an uncarried packet to dest may leave directly: the config is
 * valid and dest is the proxy itself or a direct route. Logs the refusal
 * (error level) otherwise; what names the protocol in that line. */
bool hook_uncarried_allowed(int fd, const char *what,
			    const struct endpoint *dest);

/* True in a vfork() child (Python's subprocess, posix_spawn, system): it
 * runs in the parent's memory with its own descriptor table, so it must
 * not change the parent's tables (fdtab, UDP, BIND, handshakes). One
 * getpid(): call it only when there is something to change. The
 * descriptor registry makes this check itself (fdreg_in_vfork_child). */
bool hook_in_vfork_child(void);

/* The outcome of stream_connect(). */
enum stream_outcome {
	STREAM_DIRECT,	/* nothing done: the caller makes the real call */
	STREAM_PROXIED, /* the socket is connected through the proxy */
};

/* Decide and, when proxied, run the handshake on the program's TCP socket
 * fd (of family domain) for destination sa. may_defer: the handshake may go
 * on in the background when the socket is non-blocking (connect() may;
 * sendto(MSG_FASTOPEN), whose data follows at once, may not). Returns 0
 * with *outcome set (*nonblocking says whether the program's socket was
 * non-blocking), or -errno when the connection is refused or failed
 * (already logged). */
int stream_connect(int fd, int domain, const struct sockaddr *sa, socklen_t len,
		   bool may_defer, enum stream_outcome *outcome,
		   bool *nonblocking);

#endif
