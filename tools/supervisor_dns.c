/* supervisor_dns.c — answer a supervised program's own DNS queries.
 *
 * Static glibc and Go's resolver read /etc/resolv.conf and send their
 * queries to the nameservers themselves, over UDP (connect + send, or
 * sendto) and TCP. With remote DNS on, the supervisor sends every such
 * socket to this responder instead (supervisor.c), which answers from the
 * session's fake map, the one the library uses, so that a name has one
 * fake address in every process of the run; a connect to that address then
 * sends the name to the proxy. Nothing is forwarded anywhere: a question
 * other than A, AAAA or PTR of a fake address is REFUSED, with a log line.
 *
 * The responder listens on 127.0.0.1 and ::1 (UDP and TCP, ephemeral ports)
 * in the supervisor process; one thread serves the UDP sockets and accepts
 * TCP connections, each of which gets a thread of its own for its queries.
 * Its state is written before the thread starts and read-only afterwards. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsanswer.h"
#include "dnsmsg.h"
#include "log.h"
#include "supervisor_dns.h"

#define DNS_SERVERS_MAX 8
#define DNS_TTL		60    /* seconds; a fake address never changes */
#define DNS_TCP_MAX	65535 /* a TCP message's length field */
#define DNS_TCP_IDLE_MS 10000
#define DNS_RESOLV_CONF "/etc/resolv.conf"

enum dns_listener { DNS_UDP4, DNS_UDP6, DNS_TCP4, DNS_TCP6, DNS_LISTENERS };

static struct {
	const struct config *cfg;
	struct fakedns *table;
	struct endpoint servers[DNS_SERVERS_MAX];
	size_t server_count;
	int fd[DNS_LISTENERS];		      /* -1: none */
	struct endpoint bound[DNS_LISTENERS]; /* their addresses */
	bool running;
} dns = {.fd = {-1, -1, -1, -1}};

/* ---- answering ---- */

long supervisor_dns_answer(const uint8_t *query, size_t len, uint8_t *reply,
			   size_t cap)
{
	const struct dnsanswer_map map = {.fake_ipv4 = &dns.cfg->fake_ipv4,
					  .fake_ipv6 = &dns.cfg->fake_ipv6,
					  .table = dns.table,
					  .ttl = DNS_TTL,
					  .rules = dns.cfg};
	struct dnsmsg_query q;
	const char *why;
	long rc = dnsanswer_reply(&map, query, len, reply, cap, &why);

	if (rc <= 0)
		return -1;
	if (why && dnsmsg_parse_query(query, len, &q) > 0)
		log_warn("DNS query %s type %u class %u refused: %s "
			 "(supervised program; no packet sent)",
			 q.name, q.qtype, q.qclass, why);
	else if (log_enabled(LOG_DEBUG))
		log_debug("DNS query: answered by the supervisor (%ld bytes)",
			  rc);
	return rc;
}

/* ---- the nameservers ---- */

void supervisor_dns_read_servers(void)
{
	char text[8192];
	ssize_t n = 0;
	int fd = open(DNS_RESOLV_CONF, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, text, sizeof text);
		close(fd);
	}
	dns.server_count = dnsmsg_resolv_conf_servers(
	    text, n > 0 ? (size_t)n : 0, dns.servers, DNS_SERVERS_MAX);
}

bool supervisor_dns_is_server(const struct endpoint *ep)
{
	return dns.running && supervisor_dns_is_nameserver(ep);
}

bool supervisor_dns_is_nameserver(const struct endpoint *ep)
{
	for (size_t i = 0; i < dns.server_count; i++)
		if (endpoint_equal(&dns.servers[i], ep))
			return true;
	return false;
}

int supervisor_dns_responder(int family, int type, struct endpoint *ep)
{
	enum dns_listener v4 = type == SOCK_STREAM ? DNS_TCP4 : DNS_UDP4;
	enum dns_listener v6 = type == SOCK_STREAM ? DNS_TCP6 : DNS_UDP6;

	if (family == AF_INET6 && dns.fd[v6] >= 0) {
		*ep = dns.bound[v6];
		return 0;
	}
	/* An IPv6 socket reaches the IPv4 one as ::ffff:127.0.0.1. */
	if (dns.fd[v4] >= 0) {
		*ep = dns.bound[v4];
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* ---- the listeners ---- */

/* A socket of family and type bound to loopback, port 0; its address into
 * *bound. Returns it, or -1. */
static int dns_listen(int family, int type, struct endpoint *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct endpoint lo;
	int fd;

	endpoint_parse_ip(&lo, family == AF_INET ? "127.0.0.1" : "::1");
	len = endpoint_to_sockaddr(&lo, family, &ss);
	fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0))
		goto fail;
	len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    endpoint_from_sockaddr(bound, (struct sockaddr *)&ss, len) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* One UDP query on fd, answered to its sender. */
static void dns_serve_udp(int fd)
{
	uint8_t query[DNSMSG_UDP_MAX * 8], reply[DNSMSG_UDP_MAX];
	struct sockaddr_storage from;
	socklen_t from_len = sizeof from;
	ssize_t n = recvfrom(fd, query, sizeof query, 0,
			     (struct sockaddr *)&from, &from_len);
	long len;

	if (n <= 0)
		return;
	len = supervisor_dns_answer(query, (size_t)n, reply, sizeof reply);
	if (len > 0)
		sendto(fd, reply, (size_t)len, 0, (struct sockaddr *)&from,
		       from_len);
}

/* Exactly len bytes from a TCP connection, waiting up to the idle time.
 * Returns 0, or -1 (closed, timed out, error). */
static int dns_read_full(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, DNS_TCP_IDLE_MS) <= 0)
			return -1;
		n = recv(fd, buf + got, len - got, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	return 0;
}

/* Write all of buf to a TCP connection (bounded by the idle time). */
static int dns_write_full(int fd, const uint8_t *buf, size_t len)
{
	size_t sent = 0;

	while (sent < len) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		ssize_t n;

		if (poll(&p, 1, DNS_TCP_IDLE_MS) <= 0)
			return -1;
		n = send(fd, buf + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
		if (n > 0)
			sent += (size_t)n;
	}
	return 0;
}

/* A TCP connection: length-prefixed queries (RFC 1035 4.2.2) until the
 * client closes or stays idle. */
static void *dns_serve_tcp(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t query[DNS_TCP_MAX], reply[2 + DNSMSG_UDP_MAX * 8];
	uint8_t head[2];

	for (;;) {
		size_t len;
		long n;

		if (dns_read_full(fd, head, 2) < 0)
			break;
		len = (size_t)head[0] << 8 | head[1];
		if (dns_read_full(fd, query, len) < 0)
			break;
		n = supervisor_dns_answer(query, len, reply + 2,
					  sizeof reply - 2);
		if (n < 0)
			break;
		reply[0] = (uint8_t)(n >> 8);
		reply[1] = (uint8_t)n;
		if (dns_write_full(fd, reply, (size_t)n + 2) < 0)
			break;
	}
	close(fd);
	return NULL;
}

static void dns_accept(int listener)
{
	pthread_attr_t attr;
	pthread_t thread;
	int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&thread, &attr, dns_serve_tcp,
			   (void *)(intptr_t)fd) != 0)
		close(fd);
	pthread_attr_destroy(&attr);
}

static void *dns_loop(void *arg)
{
	struct pollfd p[DNS_LISTENERS];

	(void)arg;
	for (int i = 0; i < DNS_LISTENERS; i++)
		p[i] = (struct pollfd){.fd = dns.fd[i], .events = POLLIN};
	for (;;) {
		if (poll(p, DNS_LISTENERS, -1) < 0)
			continue; /* EINTR */
		for (int i = 0; i < DNS_LISTENERS; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			if (i == DNS_UDP4 || i == DNS_UDP6)
				dns_serve_udp(p[i].fd);
			else
				dns_accept(p[i].fd);
		}
	}
	return NULL;
}

int supervisor_dns_start(const struct config *cfg, struct fakedns *table)
{
	static const int family[DNS_LISTENERS] = {AF_INET, AF_INET6, AF_INET,
						  AF_INET6};
	static const int type[DNS_LISTENERS] = {SOCK_DGRAM, SOCK_DGRAM,
						SOCK_STREAM, SOCK_STREAM};
	pthread_t thread;
	int err;

	dns.cfg = cfg;
	dns.table = table;
	supervisor_dns_read_servers();
	for (int i = 0; i < DNS_LISTENERS; i++)
		dns.fd[i] = dns_listen(family[i], type[i], &dns.bound[i]);
	if (dns.fd[DNS_UDP4] < 0 || dns.fd[DNS_TCP4] < 0) {
		log_error("cannot start the DNS responder on 127.0.0.1; a "
			  "supervised program's DNS queries will be refused");
		return -EADDRNOTAVAIL;
	}
	err = pthread_create(&thread, NULL, dns_loop, NULL);
	if (err != 0) {
		log_error("cannot start the DNS responder: %s", strerror(err));
		return -err;
	}
	pthread_detach(thread);
	dns.running = true;
	return 0;
}
