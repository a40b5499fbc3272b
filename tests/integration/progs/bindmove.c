/* bindmove — the program dup2()s its own pipes onto every descriptor
 * socksify hid for a BIND (control, wake-up and the helper's eventfd), then
 * makes a second BIND. None of socksify's traffic may land in the
 * program's pipes, and both listeners must keep working as listeners.
 *
 * Prints "moved N" (how many hidden descriptors were replaced) and
 * "leaked N" (bytes that reached the pipes); exit status 0 when the
 * second BIND was granted. */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define HIDDEN_AT_LEAST 256 /* socksify's hidden floor's lowest value */
#define MAX_HIDDEN	16

static int listener(void)
{
	struct sockaddr_in any = {.sin_family = AF_INET};
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&any, sizeof any) < 0 ||
	    listen(s, 1) < 0) {
		perror("bindmove: listener");
		return -1;
	}
	return s;
}

/* Our descriptors at or above the hidden floor (not the directory's). */
static int hidden_fds(int *fds, int cap)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < cap) {
		int fd = atoi(de->d_name);

		if (fd >= HIDDEN_AT_LEAST && fd != dirfd(dir))
			fds[n++] = fd;
	}
	closedir(dir);
	return n;
}

int main(void)
{
	int hidden[MAX_HIDDEN], pipes[MAX_HIDDEN][2];
	int n, moved = 0;
	long leaked = 0;

	if (listener() < 0)
		return 2;
	n = hidden_fds(hidden, MAX_HIDDEN);
	for (int i = 0; i < n; i++) {
		if (pipe(pipes[i]) < 0)
			return 2;
		fcntl(pipes[i][0], F_SETFL, O_NONBLOCK);
		if (dup2(pipes[i][1], hidden[i]) == hidden[i])
			moved++;
	}
	if (listener() < 0)
		return 1;
	usleep(300000); /* the helper's round after the second BIND */
	for (int i = 0; i < n; i++) {
		char buf[64];
		ssize_t got = read(pipes[i][0], buf, sizeof buf);

		if (got > 0)
			leaked += got;
	}
	printf("moved %d\nleaked %ld\n", moved, leaked);
	return 0;
}
