/* libc_sys_io.h — common/'s file calls (struct sys_io) filled with libc's
 * own functions, for the unit tests. */
#ifndef SOCKSIFY_TEST_LIBC_SYS_IO_H
#define SOCKSIFY_TEST_LIBC_SYS_IO_H

#include "sys_io.h"

extern const struct sys_io libc_sys_io;

/* The calls of a struct hidden_io (hidden.h), from libc: F_DUPFD_CLOEXEC
 * at or above floor (the new fd or -errno), and close. */
int libc_dup_from(int fd, int floor);
void libc_close(int fd);

#endif
