/* libc_sys_io.c — see libc_sys_io.h. Outside the library nothing hooks
 * these names, so libc's functions go into the table as they are. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc_sys_io.h"

const struct sys_io libc_sys_io = {
    .openat = openat,
    .read = read,
    .write = write,
    .close = close,
    .fstat = fstat,
};
