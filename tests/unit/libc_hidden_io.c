/* libc_hidden_io.c — see libc_hidden_io.h. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "libc_hidden_io.h"

int libc_dup_from(int fd, int floor)
{
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, floor);

	return moved < 0 ? -errno : moved;
}

void libc_close(int fd)
{
	close(fd);
}
