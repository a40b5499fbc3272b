/* sockopts.h — a race's extra socket made like the program's: the socket
 * options worth copying from one TCP socket to a new one, and the copy.
 * Used by the library (preload/race_socket.c) and by the supervisor
 * (tools/supervisor_race.c); the calls come in through struct
 * sockopts_io. */
#ifndef SOCKSIFY_SOCKOPTS_H
#define SOCKSIFY_SOCKOPTS_H

#include <stdbool.h>
#include <sys/socket.h>

struct sockopts_io {
	int (*getsockopt)(int fd, int level, int name, void *val,
			  socklen_t *len);
	int (*setsockopt)(int fd, int level, int name, const void *val,
			  socklen_t len);
};

/* Copy to s, a new TCP socket of domain, the options of like whose value
 * differs from s's: SO_KEEPALIVE, SO_MARK, SO_PRIORITY, SO_LINGER,
 * SO_BINDTODEVICE, the buffer sizes, TCP_NODELAY, TCP keepalive and user
 * timeout, IP_TOS (AF_INET) / IPV6_TCLASS (AF_INET6). An option either
 * socket does not know is skipped. Returns 0, or the -errno of the first
 * option that cannot be set. */
int sockopts_copy(const struct sockopts_io *io, int like, int s, int domain);

/* True when the address ss (from getsockname) has a port: the socket is
 * bound (bind(), or an earlier connect), and another socket cannot take
 * the same address, so it cannot be raced. */
bool sockopts_bound(const struct sockaddr_storage *ss);

#endif
