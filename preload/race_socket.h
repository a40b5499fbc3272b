/* race_socket.h — the extra sockets of a race (common/race.h) inside the
 * program: made like the program's own, and the winner moved onto the
 * program's descriptor number. */
#ifndef SOCKSIFY_RACE_SOCKET_H
#define SOCKSIFY_RACE_SOCKET_H

#include <stdbool.h>

/* True when fd is bound to a local address (bind(), or an earlier
 * connect): another socket cannot take the same one, so fd cannot be
 * raced (its connects stay sequential). */
bool race_socket_bound(int fd);

/* A new TCP socket of domain, non-blocking and close-on-exec, at a number
 * in socksify's hidden range, with the options the program set on like
 * (those whose value differs from a new socket's: SO_KEEPALIVE, SO_MARK,
 * SO_PRIORITY, SO_LINGER, SO_BINDTODEVICE, the buffer sizes, TCP_NODELAY,
 * TCP keepalive and user timeout, IP_TOS / IPV6_TCLASS). Returns it or
 * -errno (an option that cannot be set fails it). */
int race_socket_open(int like, int domain);

/* Put the connection of from on number fd (dup3), with fd's close-on-exec
 * flag and file status flags (O_NONBLOCK...) as they were, and close from.
 * fd's own socket is closed by that. Returns 0 or -errno (from is closed
 * either way). */
int race_socket_adopt(int fd, int from);

/* The same without closing from, so that one connection can go onto
 * several numbers; the status flags are from's own (the caller sets them).
 * Returns 0 or -errno. */
int race_socket_move(int fd, int from);

#endif
