/* resolve — look a name up with every resolver call socksify hooks and print
 * one line per call, so that tests can check the answers are fake addresses
 * (remote DNS) and that the reverse calls lead back to the name.
 *
 * Usage: resolve NAME
 * Lines: "getaddrinfo4 ADDR", "getaddrinfo6 ADDR", "getaddrinfo_a ADDR",
 * "gethostbyname ADDR", "gethostbyname_r ADDR", "gethostbyname2_6 ADDR",
 * "gethostbyname2_r6 ADDR", "getnameinfo NAME", "gethostbyaddr NAME",
 * or "<call> ERROR <text>". Exit status 0 when no call failed. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int failures;

static void print_addr(const char *call, int family, const void *addr)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof text);
	printf("%s %s\n", call, text);
}

static void print_error(const char *call, const char *why)
{
	printf("%s ERROR %s\n", call, why);
	failures++;
}

/* getaddrinfo for one family; keeps the first IPv4 answer in *v4. */
static void by_getaddrinfo(const char *name, int family, const char *call,
			   struct sockaddr_in *v4)
{
	struct addrinfo hints = {.ai_family = family,
				 .ai_socktype = SOCK_STREAM},
			*ai;
	int rc = getaddrinfo(name, "80", &hints, &ai);

	if (rc != 0) {
		print_error(call, gai_strerror(rc));
		return;
	}
	if (ai->ai_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ai->ai_addr;

		print_addr(call, AF_INET, &sin->sin_addr);
		if (v4)
			*v4 = *sin;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ai->ai_addr;

		print_addr(call, AF_INET6, &s6->sin6_addr);
	}
	freeaddrinfo(ai);
}

static void by_getaddrinfo_a(const char *name)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct gaicb cb = {.ar_name = name, .ar_request = &hints};
	struct gaicb *list[1] = {&cb};
	const struct gaicb *wait_list[1] = {&cb};
	struct timespec limit = {.tv_sec = 10};
	int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);

	if (rc != 0) {
		print_error("getaddrinfo_a", gai_strerror(rc));
		return;
	}
	gai_suspend(wait_list, 1, &limit);
	rc = gai_error(&cb);
	if (rc != 0) {
		print_error("getaddrinfo_a", gai_strerror(rc));
		return;
	}
	print_addr("getaddrinfo_a", AF_INET,
		   &((struct sockaddr_in *)cb.ar_result->ai_addr)->sin_addr);
	freeaddrinfo(cb.ar_result);
}

static void print_hostent(const char *call, const struct hostent *h)
{
	if (!h || !h->h_addr_list[0])
		print_error(call, hstrerror(h_errno));
	else
		print_addr(call, h->h_addrtype, h->h_addr_list[0]);
}

static void by_gethostbyname(const char *name)
{
	struct hostent he, *result = NULL;
	char buf[2048];
	int err = 0;

	print_hostent("gethostbyname", gethostbyname(name));
	print_hostent("gethostbyname2_6", gethostbyname2(name, AF_INET6));
	gethostbyname_r(name, &he, buf, sizeof buf, &result, &err);
	print_hostent("gethostbyname_r", result);
	result = NULL;
	gethostbyname2_r(name, AF_INET6, &he, buf, sizeof buf, &result, &err);
	print_hostent("gethostbyname2_r6", result);
}

static void reverse(const struct sockaddr_in *sin)
{
	char host[NI_MAXHOST];
	struct hostent *h;
	int rc = getnameinfo((const struct sockaddr *)sin, sizeof *sin, host,
			     sizeof host, NULL, 0, NI_NAMEREQD);

	if (rc != 0)
		print_error("getnameinfo", gai_strerror(rc));
	else
		printf("getnameinfo %s\n", host);
	h = gethostbyaddr(&sin->sin_addr, sizeof sin->sin_addr, AF_INET);
	if (!h)
		print_error("gethostbyaddr", hstrerror(h_errno));
	else
		printf("gethostbyaddr %s\n", h->h_name);
}

int main(int argc, char **argv)
{
	struct sockaddr_in v4;

	if (argc != 2) {
		fprintf(stderr, "usage: resolve NAME\n");
		return 2;
	}
	memset(&v4, 0, sizeof v4);
	by_getaddrinfo(argv[1], AF_INET, "getaddrinfo4", &v4);
	by_getaddrinfo(argv[1], AF_INET6, "getaddrinfo6", NULL);
	by_getaddrinfo_a(argv[1]);
	by_gethostbyname(argv[1]);
	if (v4.sin_family == AF_INET)
		reverse(&v4);
	return failures ? 1 : 0;
}
