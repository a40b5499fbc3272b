/* libc_io.h — common/'s I/O tables filled with libc's own functions, for
 * socksify-helper and its supervisor: they hook nothing, so libc's calls go
 * into the tables as they are. */
#ifndef SOCKSIFY_TOOLS_LIBC_IO_H
#define SOCKSIFY_TOOLS_LIBC_IO_H

#include "netio.h"
#include "sys_io.h"

/* File calls, for config_load, the log and fakedns_attach. */
extern const struct sys_io libc_sys_io;

/* Socket calls, for tunnel_open and the handshake machine. */
extern const struct socket_io libc_socket_io;

#endif
