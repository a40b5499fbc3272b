/* libc_sys_io.h — common/'s file calls (struct sys_io) filled with libc's
 * own functions, for the unit tests. */
#ifndef SOCKSIFY_TEST_LIBC_SYS_IO_H
#define SOCKSIFY_TEST_LIBC_SYS_IO_H

#include "sys_io.h"

extern const struct sys_io libc_sys_io;

#endif
