/* rcvtimeo — the receive timeout a socket has after a proxied blocking
 * connect(): socksify borrows SO_RCVTIMEO to bound its waits for the
 * proxy and must give the program its own back (t_floor.sh).
 *
 * Usage: rcvtimeo [-t MS] ADDR PORT
 *   -t MS  set SO_RCVTIMEO to MS milliseconds before connect()
 * Connects a blocking TCP socket to the IPv4 literal ADDR:PORT, sends one
 * byte and reads it back (an echo server), then prints "RCVTIMEO SEC USEC"
 * as getsockopt() reads it. Exit status: 0 ok, 1 a call failed, 2 usage. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct timeval tv = {0, 0};
	socklen_t len = sizeof tv;
	int arg = 1, fd;
	char byte = 'x';

	if (argc == 5 && argv[1][0] == '-' && argv[1][1] == 't') {
		long ms = atol(argv[2]);

		tv.tv_sec = ms / 1000;
		tv.tv_usec = (ms % 1000) * 1000;
		arg = 3;
	}
	if (argc - arg != 2 ||
	    inet_pton(AF_INET, argv[arg], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: rcvtimeo [-t MS] ADDR PORT\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[arg + 1]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || (arg == 3 && setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
					      sizeof tv) < 0)) {
		perror("rcvtimeo: socket");
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    write(fd, &byte, 1) != 1 || read(fd, &byte, 1) != 1) {
		perror("rcvtimeo: connect/echo");
		return 1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) < 0) {
		perror("rcvtimeo: getsockopt");
		return 1;
	}
	printf("RCVTIMEO %ld %ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
	close(fd);
	return 0;
}
