/* libc_sys_io.c — see libc_sys_io.h. Outside the library nothing hooks
 * these names, so libc's functions go into the table as they are. */
#include <errno.h>
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

int libc_dup_from(int fd, int floor)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor);

	return moved < 0 ? -errno : moved;
}

void libc_close(int fd)
{
	close(fd);
}
