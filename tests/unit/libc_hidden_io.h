/* libc_hidden_io.h — the calls of a struct hidden_io (hidden.h) from libc,
 * for the unit tests. (common/'s file and socket tables filled with libc's
 * functions are tools/libc_io.h, shared with socksify-helper.) */
#ifndef SOCKSIFY_TEST_LIBC_HIDDEN_IO_H
#define SOCKSIFY_TEST_LIBC_HIDDEN_IO_H

/* F_DUPFD_CLOEXEC at or above floor: the new fd or -errno. */
int libc_dup_from(int fd, int floor);
/* close(fd). */
void libc_close(int fd);

#endif
