/* staticdns.c — a statically linked client that resolves names itself
 * (static glibc reads /etc/resolv.conf and queries the nameserver), for
 * t_static_dns.sh under the supervisor.
 *
 *   staticdns resolve NAME       getaddrinfo(NAME); one address a line
 *   staticdns get NAME PORT      getaddrinfo, connect to the first address
 *                                that answers, one HTTP/1.0 GET, the reply
 *                                on stdout; then "peer ADDR" (getpeername)
 *                                on stderr
 *   staticdns tcp NAME           the same lookup with "options use-vc" in
 *                                force (RES_USEVC: DNS over TCP)
 *   staticdns query IP NAME      one A query by hand: a UDP socket
 *                                connected to IP port 53, send, then
 *                                recvfrom; prints "from ADDR PORT" (the
 *                                reply's source), "peer ADDR PORT"
 *                                (getpeername) and "answers N"
 *   staticdns exec CMD [ARG]...  exec CMD: a dynamic program under the
 *                                supervisor's filter (and the library)
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *addr_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	const void *a =
	    sa->sa_family == AF_INET
		? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
		: (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

	return inet_ntop(sa->sa_family, a, buf, (socklen_t)cap) ? buf : "?";
}

static int resolve(const char *name)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char buf[INET6_ADDRSTRLEN];
	int rc = getaddrinfo(name, NULL, &hints, &res);

	if (rc != 0) {
		fprintf(stderr, "getaddrinfo %s: %s\n", name, gai_strerror(rc));
		return 1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		printf("%s\n", addr_text(ai->ai_addr, buf, sizeof buf));
	freeaddrinfo(res);
	return 0;
}

static void relay(int fd)
{
	static const char req[] = "GET / HTTP/1.0\r\n\r\n";
	char buf[4096];
	ssize_t n;

	if (write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1)
		return;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
}

static int get(const char *name, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;
	char buf[INET6_ADDRSTRLEN];
	int rc = getaddrinfo(name, port, &hints, &res), fd = -1;

	if (rc != 0) {
		fprintf(stderr, "getaddrinfo %s: %s\n", name, gai_strerror(rc));
		return 1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			perror("connect");
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return 1;
	if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0)
		fprintf(stderr, "peer %s\n",
			addr_text((struct sockaddr *)&peer, buf, sizeof buf));
	relay(fd);
	close(fd);
	return 0;
}

static int port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET
			 ? ((const struct sockaddr_in *)ss)->sin_port
			 : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int query(const char *ip, const char *name)
{
	struct sockaddr_in ns = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct sockaddr_storage from, peer;
	socklen_t from_len = sizeof from, peer_len = sizeof peer;
	unsigned char q[512], reply[512];
	char buf[INET6_ADDRSTRLEN];
	int fd = socket(AF_INET, SOCK_DGRAM, 0), qlen;
	ssize_t n;

	qlen = res_mkquery(QUERY, name, C_IN, T_A, NULL, 0, NULL, q, sizeof q);
	if (fd < 0 || qlen < 0 || inet_pton(AF_INET, ip, &ns.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&ns, sizeof ns) != 0 ||
	    send(fd, q, (size_t)qlen, 0) != qlen) {
		perror("query");
		return 1;
	}
	n = recvfrom(fd, reply, sizeof reply, 0, (struct sockaddr *)&from,
		     &from_len);
	if (n < 12 || getpeername(fd, (struct sockaddr *)&peer, &peer_len)) {
		perror("reply");
		return 1;
	}
	printf("from %s %d\n",
	       addr_text((struct sockaddr *)&from, buf, sizeof buf),
	       port_of(&from));
	printf("peer %s %d\n",
	       addr_text((struct sockaddr *)&peer, buf, sizeof buf),
	       port_of(&peer));
	printf("answers %d\n", reply[6] << 8 | reply[7]);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "resolve") == 0)
		return resolve(argv[2]);
	if (argc == 4 && strcmp(argv[1], "get") == 0)
		return get(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "tcp") == 0) {
		setenv("RES_OPTIONS", "use-vc", 1);
		return resolve(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "query") == 0)
		return query(argv[2], argv[3]);
	if (argc >= 3 && strcmp(argv[1], "exec") == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		return 127;
	}
	fprintf(stderr, "usage: staticdns resolve|tcp NAME | get NAME PORT | "
			"exec CMD [ARG]...\n");
	return 2;
}
