/* jumpout — leave blocking connect()s with siglongjmp() from a SIGALRM
 * handler (an old way to time connects out), then make one more and let
 * it end by itself (t_fault.sh, with a proxy that never answers). socksify
 * waits inside recv() during the handshake with per-thread state on the
 * connect()'s stack: a jump out must leave nothing the next connect() trips
 * on.
 *
 * Usage: jumpout ADDR PORT JUMPS
 * Prints "JUMPED N" after JUMPS connects left by the jump, then the last
 * connect's outcome: "OK" or the errno name (ETIMEDOUT, ...). Exit status:
 * 0 when the run got that far, 1 when a connect ended before its jump,
 * 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static sigjmp_buf jump_back;

static void on_alarm(int sig)
{
	(void)sig;
	siglongjmp(jump_back, 1);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sigaction sa;
	/* Changed between sigsetjmp() and the jump back: volatile. */
	volatile int jumped = 0, fd;
	int jumps, rc;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
		fprintf(stderr, "usage: jumpout ADDR PORT JUMPS\n");
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	jumps = atoi(argv[3]);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	for (int i = 0; i < jumps; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (sigsetjmp(jump_back, 1) == 0) {
			ualarm(100000, 0);
			rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
			ualarm(0, 0);
			printf("connect %d ended before the jump: %s\n", i,
			       rc == 0 ? "OK" : strerror(errno));
			return 1;
		}
		jumped++;
		close(fd);
	}
	printf("JUMPED %d\n", jumped);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
	printf("%s\n", rc == 0		    ? "OK"
		       : errno == ETIMEDOUT ? "ETIMEDOUT"
					    : strerror(errno));
	close(fd);
	return 0;
}
