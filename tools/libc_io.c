/* libc_io.c — see libc_io.h. */
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc_io.h"

const struct sys_io libc_sys_io = {
    .openat = openat,
    .read = read,
    .write = write,
    .close = close,
    .fstat = fstat,
};

const struct socket_io libc_socket_io = {
    .connect = connect,
    .send = send,
    .recv = recv,
    .poll = poll,
    .getsockopt = getsockopt,
};
