/* supervisor_dns.c — answer a supervised program's own DNS queries.
 *
 * Static glibc and Go's resolver read /etc/resolv.conf and send their
 * queries to the nameservers themselves, over UDP (connect + send, or
 * sendto) and TCP. With remote DNS on, the supervisor sends every such
 * socket to this responder instead (supervisor.c), which answers from the
 * session's fake map, the one the library uses, so that a name has one
 * fake address in every process of the run; a connect to that address then
 * sends the name to the proxy. An A or AAAA question about a name a direct
 * rule covers is forwarded to the resolv.conf nameservers (the supervisor
 * is not filtered), and the addresses of their answer are direct for the
 * supervisor's connect handling; a question other than A, AAAA or PTR of a
 * fake address is REFUSED, with a log line.
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
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsanswer.h"
#include "directset.h"
#include "dnsmsg.h"
#include "log.h"
#include "supervisor_dns.h"

#define DNS_SERVERS_MAX 8
#define DNS_TTL		60    /* seconds; a fake address never changes */
#define DNS_TCP_MAX	65535 /* a TCP message's length field */
#define DNS_TCP_IDLE_MS 10000
#define DNS_RESOLV_CONF "/etc/resolv.conf"
#define DNS_FORWARD_MS	5000 /* a forwarded query, all nameservers */
#define DNS_FORWARD_MAX 32   /* UDP queries being forwarded at once */
#define DNS_FLAG_TC	0x02 /* in byte 2: truncated */
#define DNS_ADDRS_MAX	64

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

	if (rc == DNSANSWER_FORWARD)
		return rc;
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

/* ---- forwarding (names of direct rules) ---- */

static long long dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline. Returns 0, or -1 (timed out). */
static int dns_wait(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - dns_now_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int n;

		if (left <= 0)
			return -1;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0 || errno != EINTR)
			return -1;
	}
}

/* A socket of type connected to server (non-blocking), or -1. */
static int dns_connect(const struct endpoint *server, int type,
		       long long deadline)
{
	struct sockaddr_storage ss;
	int family = server->kind == ENDPOINT_IPV6 ? AF_INET6 : AF_INET;
	socklen_t len = endpoint_to_sockaddr(server, family, &ss);
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = 0;
	socklen_t err_len = sizeof err;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		return fd;
	if (errno == EINPROGRESS && dns_wait(fd, POLLOUT, deadline) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) == 0 &&
	    err == 0)
		return fd;
	close(fd);
	return -1;
}

/* Does reply[0..n) answer query (same id and question, QR set)? */
static bool dns_matches(const uint8_t *query, size_t len, const uint8_t *reply,
			size_t n)
{
	struct dnsmsg_query q;
	long qlen = dnsmsg_parse_query(query, len, &q);

	return qlen > 0 && n >= DNSMSG_HEADER_LEN + q.question_len &&
	       reply[0] == query[0] && reply[1] == query[1] &&
	       (reply[2] & 0x80) &&
	       memcmp(reply + DNSMSG_HEADER_LEN, q.question, q.question_len) ==
		   0;
}

static long dns_forward_udp(const struct endpoint *server, const uint8_t *query,
			    size_t len, uint8_t *reply, size_t cap,
			    long long deadline)
{
	int fd = dns_connect(server, SOCK_DGRAM, deadline);
	long got = -1;

	if (fd < 0)
		return -1;
	if (send(fd, query, len, 0) == (ssize_t)len)
		while (got < 0 && dns_wait(fd, POLLIN, deadline) == 0) {
			ssize_t n = recv(fd, reply, cap, 0);

			if (n < 0 && errno != EINTR && errno != EAGAIN)
				break; /* ICMP: nothing listens there */
			if (n > 0 && dns_matches(query, len, reply, (size_t)n))
				got = n;
		}
	close(fd);
	return got;
}

static long dns_forward_tcp(const struct endpoint *server, const uint8_t *query,
			    size_t len, uint8_t *reply, size_t cap,
			    long long deadline)
{
	int fd = dns_connect(server, SOCK_STREAM, deadline);
	uint8_t head[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	size_t want = 0, got = 0;
	bool have_head = false;

	if (fd < 0)
		return -1;
	if (send(fd, head, 2, MSG_NOSIGNAL) != 2 ||
	    send(fd, query, len, MSG_NOSIGNAL) != (ssize_t)len)
		goto fail;
	while (!have_head || got < want) {
		uint8_t *at = have_head ? reply + got : head + got;
		size_t room = have_head ? want - got : 2 - got;
		ssize_t n;

		if (dns_wait(fd, POLLIN, deadline) < 0)
			goto fail;
		n = recv(fd, at, room, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			goto fail;
		if (n < 0)
			continue;
		got += (size_t)n;
		if (!have_head && got == 2) {
			want = (size_t)head[0] << 8 | head[1];
			if (want > cap || want == 0)
				goto fail;
			have_head = true;
			got = 0;
		}
	}
	close(fd);
	return dns_matches(query, len, reply, want) ? (long)want : -1;
fail:
	close(fd);
	return -1;
}

/* Forward query[0..len), a name a direct rule covers, to the resolv.conf
 * nameservers in turn (from the supervisor, which the filter does not
 * cover), by UDP unless tcp or the UDP reply is truncated, within
 * DNS_FORWARD_MS. The addresses of the reply go into the direct set, so
 * that a connect to one is direct. On failure, SERVFAIL. Returns the
 * reply's length, or -1 when there is nothing to answer. */
static long dns_forward(const uint8_t *query, size_t len, bool tcp,
			uint8_t *reply, size_t cap)
{
	long long deadline = dns_now_ms() + DNS_FORWARD_MS;
	struct endpoint addrs[DNS_ADDRS_MAX];
	struct dnsmsg_query q;
	long n = -1, count;

	for (size_t i = 0; i < dns.server_count && n < 0; i++) {
		if (!tcp)
			n = dns_forward_udp(&dns.servers[i], query, len, reply,
					    cap, deadline);
		if (tcp || (n > 2 && (reply[2] & DNS_FLAG_TC)))
			n = dns_forward_tcp(&dns.servers[i], query, len, reply,
					    cap, deadline);
	}
	if (dnsmsg_parse_query(query, len, &q) <= 0)
		return -1;
	if (n < 0) {
		log_warn("DNS query %s type %u (direct rule): no answer from "
			 "the nameservers; SERVFAIL",
			 q.name, q.qtype);
		return dnsmsg_build_error(&q, DNSMSG_SERVFAIL, reply, cap);
	}
	count = dnsmsg_reply_addresses(reply, (size_t)n, addrs, DNS_ADDRS_MAX);
	for (long i = 0; i < count; i++)
		directset_add(&addrs[i]);
	log_debug("DNS query %s type %u (direct rule): forwarded, %ld "
		  "address(es)",
		  q.name, q.qtype, count > 0 ? count : 0);
	return n;
}

bool supervisor_dns_is_direct(const struct endpoint *ep)
{
	return directset_contains(ep);
}

static _Atomic int dns_forwarding; /* UDP forwards under way */

struct dns_udp_forward {
	int fd; /* the listener the query came on */
	struct sockaddr_storage from;
	socklen_t from_len;
	size_t len;
	uint8_t query[];
};

static void *dns_forward_thread(void *arg)
{
	struct dns_udp_forward *f = arg;
	uint8_t reply[DNS_TCP_MAX];
	long n = dns_forward(f->query, f->len, false, reply, sizeof reply);

	if (n > 0)
		sendto(f->fd, reply, (size_t)n, 0, (struct sockaddr *)&f->from,
		       f->from_len);
	free(f);
	atomic_fetch_sub(&dns_forwarding, 1);
	return NULL;
}

/* Forward a UDP query on a thread of its own, so that the others are
 * answered meanwhile; past DNS_FORWARD_MAX at once, SERVFAIL. */
static void dns_forward_udp_async(int fd, const uint8_t *query, size_t len,
				  const struct sockaddr_storage *from,
				  socklen_t from_len)
{
	struct dns_udp_forward *f = NULL;
	pthread_attr_t attr;
	pthread_t thread;

	if (atomic_fetch_add(&dns_forwarding, 1) < DNS_FORWARD_MAX)
		f = malloc(sizeof *f + len);
	if (f) {
		f->fd = fd;
		f->from = *from;
		f->from_len = from_len;
		f->len = len;
		memcpy(f->query, query, len);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&thread, &attr, dns_forward_thread, f) ==
		    0) {
			pthread_attr_destroy(&attr);
			return;
		}
		pthread_attr_destroy(&attr);
		free(f);
	}
	atomic_fetch_sub(&dns_forwarding, 1);
	{
		struct dnsmsg_query q;
		uint8_t reply[DNSMSG_UDP_MAX];
		long n;

		if (dnsmsg_parse_query(query, len, &q) <= 0)
			return;
		log_warn("DNS query %s: too many forwarded queries at once; "
			 "SERVFAIL",
			 q.name);
		n = dnsmsg_build_error(&q, DNSMSG_SERVFAIL, reply,
				       sizeof reply);
		if (n > 0)
			sendto(fd, reply, (size_t)n, 0,
			       (const struct sockaddr *)from, from_len);
	}
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
	if (len == DNSANSWER_FORWARD)
		dns_forward_udp_async(fd, query, (size_t)n, &from, from_len);
	else if (len > 0)
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
	uint8_t query[DNS_TCP_MAX], reply[2 + DNS_TCP_MAX];
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
		if (n == DNSANSWER_FORWARD)
			n = dns_forward(query, len, true, reply + 2,
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
