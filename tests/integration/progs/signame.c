/* signame — getsockname() from a signal handler while blocking proxied
 * connects run (t_sighandler.sh). With "bind auto" (the default) every
 * proxied connect notes the proxy's outside address under a lock, and
 * getsockname() of a proxied socket reads it under the same lock; a
 * handler that interrupted its own thread inside that lock must not wait
 * for it.
 *
 * Usage: signame ADDR PORT N
 * Connects once to ADDR:PORT (an IPv4 literal) and keeps that socket as
 * the probe, then makes N more connects (each closed at once) while a
 * SIGALRM every 200 µs calls getsockname() on the probe from the handler.
 * Prints "done ok=K calls=C bad=B": K connects worked, C handler calls
 * returned 0, B returned something other than an IPv4 address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int probe = -1;
static volatile sig_atomic_t calls, bad;

static void on_alarm(int sig)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	(void)sig;
	if (getsockname(probe, (struct sockaddr *)&ss, &len) != 0)
		return;
	calls++;
	if (ss.ss_family != AF_INET || len != sizeof(struct sockaddr_in))
		bad++;
}

static int connect_to(const struct sockaddr_in *to)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s >= 0 && connect(s, (const struct sockaddr *)to, sizeof *to) < 0) {
		close(s);
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct itimerval every = {{0, 200}, {0, 200}}, off = {{0, 0}, {0, 0}};
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	int n, ok = 0;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 ||
	    (n = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: signame ADDR PORT N\n");
		return 2;
	}
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	probe = connect_to(&to);
	if (probe < 0) {
		perror("signame: probe");
		return 1;
	}
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &every, NULL);
	for (int i = 0; i < n; i++) {
		int s = connect_to(&to);

		if (s >= 0) {
			ok++;
			close(s);
		}
	}
	setitimer(ITIMER_REAL, &off, NULL);
	printf("done ok=%d calls=%d bad=%d\n", ok, (int)calls, (int)bad);
	return 0;
}
