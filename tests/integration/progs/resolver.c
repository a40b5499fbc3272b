/* resolver.c — exercises the resolver hooks from inside a real program.
 *
 * Usage (under the preload, remote DNS on, e.g.
 *   LD_PRELOAD=build/libsocksify.so SOCKSIFY_PROXY=socks5h://127.0.0.1:1):
 *   resolver selftest          run every check below; prints one line per
 *                              check, exits 0 when all pass, 1 otherwise.
 *                              Needs the default fake ranges (240.0.0.0/4,
 *                              fd5c:6f63:6b73::/48) and "localhost" in
 *                              /etc/hosts as 127.0.0.1. Sends no packet.
 *   resolver gai NAME [SERVICE] print getaddrinfo's answer (AF_UNSPEC, all
 *                              socket types): "FAMILY SOCKTYPE PROTO ADDR PORT"
 *                              per node, or "error: MESSAGE" (exit 2).
 *   resolver ghbn NAME         print gethostbyname's h_name and addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "ok" : "FAIL", what);
	failures += !ok;
}

static const char *addr_text(const struct sockaddr *sa, char *buf)
{
	const void *a =
	    sa->sa_family == AF_INET
		? (const void *)&((struct sockaddr_in *)sa)->sin_addr
		: (const void *)&((struct sockaddr_in6 *)sa)->sin6_addr;

	return inet_ntop(sa->sa_family, a, buf, INET6_ADDRSTRLEN);
}

static int port_of(const struct sockaddr *sa)
{
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

static int is_fake4(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	return sa->sa_family == AF_INET &&
	       (ntohl(sin->sin_addr.s_addr) >> 28) == 0xf;
}

static int is_fake6(const struct sockaddr *sa)
{
	static const unsigned char prefix[6] = {0xfd, 0x5c, 0x6f,
						0x63, 0x6b, 0x73};
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	return sa->sa_family == AF_INET6 &&
	       !memcmp(sin6->sin6_addr.s6_addr, prefix, sizeof prefix);
}

static int same_addr4(const struct addrinfo *a, const struct addrinfo *b)
{
	return a && b &&
	       ((struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr ==
		   ((struct sockaddr_in *)b->ai_addr)->sin_addr.s_addr;
}

static int gai(const char *name, const char *service, int family, int flags,
	       int socktype, struct addrinfo **res)
{
	struct addrinfo hints = {
	    .ai_family = family, .ai_flags = flags, .ai_socktype = socktype};

	*res = NULL;
	return getaddrinfo(name, service, &hints, res);
}

static int count_nodes(const struct addrinfo *ai)
{
	int n = 0;

	for (; ai; ai = ai->ai_next)
		n++;
	return n;
}

static void test_getaddrinfo_families(void)
{
	struct addrinfo *res, *again;
	int rc;

	rc = gai("x.test", "80", AF_UNSPEC, 0, 0, &res);
	check(rc == 0 && count_nodes(res) == 6,
	      "UNSPEC: 2 addresses x 3 types");
	check(rc == 0 && is_fake4(res->ai_addr) && port_of(res->ai_addr) == 80,
	      "UNSPEC: fake IPv4 first, port 80");
	check(rc == 0 && res->ai_socktype == SOCK_STREAM &&
		  res->ai_next->ai_socktype == SOCK_DGRAM &&
		  res->ai_next->ai_next->ai_socktype == SOCK_RAW,
	      "UNSPEC: TCP, UDP, raw like glibc");
	check(rc == 0 && is_fake6(res->ai_next->ai_next->ai_next->ai_addr),
	      "UNSPEC: fake IPv6 second");
	gai("X.test", NULL, AF_INET, 0, SOCK_STREAM, &again);
	check(same_addr4(again, res),
	      "same name (any case) gets the same fake address");
	freeaddrinfo(again);
	gai("y.test", NULL, AF_INET, 0, SOCK_STREAM, &again);
	check(again && is_fake4(again->ai_addr) && !same_addr4(again, res),
	      "another name gets another fake address");
	freeaddrinfo(again);
	freeaddrinfo(res);
	rc = gai("x.test", NULL, AF_INET6, 0, SOCK_STREAM, &res);
	check(rc == 0 && count_nodes(res) == 1 && is_fake6(res->ai_addr),
	      "INET6: fake IPv6 only");
	freeaddrinfo(res);
	rc = gai("x.test", NULL, AF_INET, AI_CANONNAME, SOCK_STREAM, &res);
	check(rc == 0 && res->ai_canonname &&
		  !strcmp(res->ai_canonname, "x.test"),
	      "CANONNAME is the name");
	freeaddrinfo(res);
}

static void test_getaddrinfo_rules(void)
{
	struct addrinfo *res;
	char buf[INET6_ADDRSTRLEN];
	int rc, saved;

	rc = gai("x.test", NULL, AF_UNSPEC, AI_NUMERICHOST, 0, &res);
	check(rc == EAI_NONAME, "NUMERICHOST with a name: EAI_NONAME");
	rc = gai("192.0.2.1", NULL, AF_UNSPEC, 0, SOCK_STREAM, &res);
	check(rc == 0 && !strcmp(addr_text(res->ai_addr, buf), "192.0.2.1"),
	      "numeric literal is not faked");
	freeaddrinfo(res);
	rc = gai("localhost", NULL, AF_INET, 0, SOCK_STREAM, &res);
	check(rc == 0 && !strcmp(addr_text(res->ai_addr, buf), "127.0.0.1"),
	      "localhost from /etc/hosts");
	freeaddrinfo(res);
	rc = gai("x.test", "http", AF_INET, 0, 0, &res);
	check(rc == 0 && port_of(res->ai_addr) == 80 &&
		  res->ai_socktype == SOCK_STREAM,
	      "service name http -> 80/tcp");
	freeaddrinfo(res);
	rc = gai("x.test", "http", AF_INET, AI_NUMERICSERV, 0, &res);
	check(rc == EAI_NONAME, "NUMERICSERV with a name: EAI_NONAME");
	rc = gai("", NULL, AF_INET, 0, 0, &res);
	check(rc == EAI_NONAME, "empty name: EAI_NONAME");
	errno = 4321;
	rc = gai("z.test", NULL, AF_INET, 0, 0, &res);
	saved = errno;
	check(rc == 0 && saved == 4321, "errno preserved on success");
	freeaddrinfo(res);
}

static void test_hostent(void)
{
	struct hostent he, *result, *h;
	char small[8], big[1024], buf[INET6_ADDRSTRLEN];
	int herr, rc;

	h = gethostbyname("x.test");
	check(h && h->h_addrtype == AF_INET && h->h_length == 4 &&
		  ((unsigned char)h->h_addr_list[0][0] >> 4) == 0xf &&
		  !strcmp(h->h_name, "x.test"),
	      "gethostbyname: fake IPv4");
	h = gethostbyname2("x.test", AF_INET6);
	check(h && h->h_addrtype == AF_INET6 &&
		  (unsigned char)h->h_addr_list[0][0] == 0xfd,
	      "gethostbyname2 AF_INET6: fake IPv6");
	rc =
	    gethostbyname_r("x.test", &he, small, sizeof small, &result, &herr);
	check(rc == ERANGE && !result, "gethostbyname_r tiny buffer: ERANGE");
	rc = gethostbyname2_r("x.test", AF_INET, &he, big, sizeof big, &result,
			      &herr);
	check(
	    rc == 0 && result == &he && herr == NETDB_SUCCESS &&
		!strcmp(he.h_name, "x.test") &&
		!strncmp(inet_ntop(AF_INET, he.h_addr_list[0], buf, sizeof buf),
			 "240.", 4),
	    "gethostbyname2_r fits");
	h = gethostbyname("localhost");
	check(h && !memcmp(h->h_addr_list[0], "\x7f\0\0\x01", 4),
	      "gethostbyname localhost from /etc/hosts");
	h = gethostbyname2("localhost", AF_INET6);
	check(!h && h_errno == NO_DATA, "localhost has no IPv6: NO_DATA");
}

static void test_reverse(void)
{
	struct addrinfo *res;
	struct hostent *h, he, *result;
	char host[300], serv[32], tiny[3], buf[512];
	int rc, herr;

	gai("rev.test", "80", AF_INET, 0, SOCK_STREAM, &res);
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, serv,
			 sizeof serv, 0);
	check(rc == 0 && !strcmp(host, "rev.test") && !strcmp(serv, "http"),
	      "getnameinfo fake -> name, service http");
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL,
			 0, NI_NUMERICHOST);
	check(rc == 0 && !strncmp(host, "240.", 4),
	      "getnameinfo NUMERICHOST -> fake text");
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, tiny, sizeof tiny, NULL,
			 0, NI_NAMEREQD);
	check(rc == EAI_OVERFLOW, "getnameinfo small buffer: EAI_OVERFLOW");
	h = gethostbyaddr(&((struct sockaddr_in *)res->ai_addr)->sin_addr, 4,
			  AF_INET);
	check(h && !strcmp(h->h_name, "rev.test"),
	      "gethostbyaddr fake -> name");
	rc = gethostbyaddr_r(&((struct sockaddr_in *)res->ai_addr)->sin_addr, 4,
			     AF_INET, &he, buf, sizeof buf, &result, &herr);
	check(rc == 0 && result == &he && !strcmp(he.h_name, "rev.test"),
	      "gethostbyaddr_r fake -> name");
	rc = gethostbyaddr_r(&((struct sockaddr_in *)res->ai_addr)->sin_addr, 4,
			     AF_INET, &he, buf, 8, &result, &herr);
	check(rc == ERANGE && !result, "gethostbyaddr_r tiny buffer: ERANGE");
	((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr =
	    htonl(0xfeffffff);
	rc = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, NULL,
			 0, NI_NAMEREQD);
	check(rc == EAI_NONAME, "unassigned fake, NAMEREQD: EAI_NONAME");
	freeaddrinfo(res);
}

static atomic_int notified;

static void on_done(union sigval value)
{
	atomic_store(&notified, value.sival_int);
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&notified, 2);
}

/* Wait up to 2 s for notified to become want. */
static int wait_for(int want)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	int i;

	for (i = 0; i < 200 && atomic_load(&notified) != want; i++)
		nanosleep(&tick, NULL);
	return atomic_load(&notified) == want;
}

static void test_async(void)
{
	struct gaicb a = {.ar_name = "a.test", .ar_service = "443"};
	struct gaicb b = {.ar_name = "", .ar_service = NULL};
	struct gaicb *list[] = {&a, NULL, &b};
	const struct gaicb *wait_list[] = {NULL, &a};
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD};
	int rc;

	rc = getaddrinfo_a(GAI_WAIT, list, 3, NULL);
	check(rc == 0 && gai_error(&a) == 0 && a.ar_result &&
		  is_fake4(a.ar_result->ai_addr) &&
		  port_of(a.ar_result->ai_addr) == 443,
	      "getaddrinfo_a GAI_WAIT answers with a fake address");
	check(gai_error(&b) == EAI_NONAME, "gai_error reports the failure");
	check(gai_suspend(wait_list, 2, NULL) == 0, "gai_suspend: done");
	check(gai_suspend(wait_list, 1, NULL) == EAI_ALLDONE,
	      "gai_suspend with no request: EAI_ALLDONE");
	check(gai_cancel(&a) == EAI_ALLDONE, "gai_cancel: EAI_ALLDONE");
	freeaddrinfo(a.ar_result);

	sev.sigev_notify_function = on_done;
	sev.sigev_value.sival_int = 1;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	check(rc == 0 && wait_for(1) && gai_error(&a) == 0,
	      "GAI_NOWAIT + SIGEV_THREAD notifies");
	freeaddrinfo(a.ar_result);

	signal(SIGUSR1, on_signal);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR1;
	rc = getaddrinfo_a(GAI_NOWAIT, list, 1, &sev);
	check(rc == 0 && wait_for(2), "GAI_NOWAIT + SIGEV_SIGNAL signals");
	freeaddrinfo(a.ar_result);
	check(getaddrinfo_a(7, list, 1, NULL) == EAI_SYSTEM && errno == EINVAL,
	      "invalid mode: EAI_SYSTEM/EINVAL");
}

static int print_gai(const char *name, const char *service)
{
	struct addrinfo *res, *ai;
	char buf[INET6_ADDRSTRLEN];
	int rc = gai(name, service, AF_UNSPEC, AI_CANONNAME, 0, &res);

	if (rc) {
		printf("error: %s\n", gai_strerror(rc));
		return 2;
	}
	if (res->ai_canonname)
		printf("canonname %s\n", res->ai_canonname);
	for (ai = res; ai; ai = ai->ai_next)
		printf("%d %d %d %s %d\n", ai->ai_family, ai->ai_socktype,
		       ai->ai_protocol, addr_text(ai->ai_addr, buf),
		       port_of(ai->ai_addr));
	freeaddrinfo(res);
	return 0;
}

static int print_ghbn(const char *name)
{
	struct hostent *h = gethostbyname(name);
	char buf[INET6_ADDRSTRLEN];
	char **a;

	if (!h) {
		printf("error: h_errno %d\n", h_errno);
		return 2;
	}
	printf("name %s\n", h->h_name);
	for (a = h->h_addr_list; *a; a++)
		printf("%s\n", inet_ntop(h->h_addrtype, *a, buf, sizeof buf));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "gai"))
		return print_gai(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc == 3 && !strcmp(argv[1], "ghbn"))
		return print_ghbn(argv[2]);
	if (argc != 2 || strcmp(argv[1], "selftest")) {
		fprintf(stderr, "usage: resolver selftest | gai NAME [SERVICE]"
				" | ghbn NAME\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_getaddrinfo_families();
	test_getaddrinfo_rules();
	test_hostent();
	test_reverse();
	test_async();
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
