/* supervisor_sockets.h — the supervisor's table of the sockets it carried
 * (proxied TCP connections, DNS sockets sent to its own responder), by
 * socket inode: what getpeername() must show, and where the replies of the
 * responder must seem to come from (see supervisor_sockets.c). */
#ifndef SOCKSIFY_SUPERVISOR_SOCKETS_H
#define SOCKSIFY_SUPERVISOR_SOCKETS_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint.h"

struct supervisor_socket {
	int family;		   /* the socket's: AF_INET or AF_INET6 */
	struct endpoint peer;	   /* what the program connected (or sent) to */
	struct endpoint responder; /* the DNS responder in its place, or
				      ENDPOINT_NONE */
};

/* Record (or replace) the entry of the socket with inode ino. */
void supervisor_sockets_put(uint64_t ino, const struct supervisor_socket *s);

/* Drop the entry of inode ino, if any (a datagram socket connected anew). */
void supervisor_sockets_forget(uint64_t ino);

/* The entry of inode ino, into *s. Returns whether there is one. */
bool supervisor_sockets_get(uint64_t ino, struct supervisor_socket *s);

#endif
