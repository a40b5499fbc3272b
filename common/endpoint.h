/* endpoint.h — a destination or bound address as SOCKS sees it: an IPv4 or
 * IPv6 address, or a host name, plus a port. */
#ifndef SOCKSIFY_ENDPOINT_H
#define SOCKSIFY_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ENDPOINT_NAME_MAX 255 /* the SOCKS5 domain length byte's limit */
/* Longest text endpoint_format() writes: a name, ":", a port, NUL. */
#define ENDPOINT_TEXT_MAX (ENDPOINT_NAME_MAX + 8)

enum endpoint_kind {
	ENDPOINT_NONE = 0,
	ENDPOINT_IPV4,
	ENDPOINT_IPV6,
	ENDPOINT_NAME,
};

struct endpoint {
	enum endpoint_kind kind;
	uint16_t port; /* host byte order */
	uint8_t name_len;
	union {
		uint8_t ipv4[4];
		uint8_t ipv6[16];
		char name[ENDPOINT_NAME_MAX + 1]; /* NUL-terminated */
	} u;
};

/* Fill ep from an AF_INET or AF_INET6 socket address. An IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) becomes an IPv4 endpoint, so that dual-stack
 * sockets are routed exactly like IPv4 ones.
 * Returns 0, -EAFNOSUPPORT for other families, -EINVAL when len is short. */
int endpoint_from_sockaddr(struct endpoint *ep, const struct sockaddr *sa,
			   socklen_t len);

/* Write ep (IPv4 or IPv6 only) as a socket address of the given family into
 * ss. An IPv4 endpoint written as AF_INET6 becomes ::ffff:a.b.c.d.
 * Returns the address length, or 0 when it cannot be expressed (a name, or
 * IPv6 into AF_INET). */
socklen_t endpoint_to_sockaddr(const struct endpoint *ep, int family,
			       struct sockaddr_storage *ss);

/* Write ep (IPv4 or IPv6) as a socket address of family into the caller's
 * sa the way the kernel answers getpeername() or accept(): truncated to
 * *len, with *len set to the full length. Returns 0, -EAFNOSUPPORT when ep
 * cannot be expressed in family, -EFAULT for a NULL len (or NULL sa with a
 * non-zero *len). */
int endpoint_copy_sockaddr(const struct endpoint *ep, int family,
			   struct sockaddr *sa, socklen_t *len);

/* Make ep a name endpoint. Returns 0, -EINVAL for an empty name,
 * -ENAMETOOLONG when len > ENDPOINT_NAME_MAX. */
int endpoint_set_name(struct endpoint *ep, const char *name, size_t len,
		      uint16_t port);

/* A name endpoint's check before a codec writes it: 0, -EINVAL for an
 * empty name, -ENAMETOOLONG when the name has no NUL within ENDPOINT_NAME_MAX
 * bytes (it would not fit a length byte). */
int endpoint_name_check(const struct endpoint *ep);

/* Parse an IPv4 or IPv6 literal (no brackets, no port) into ep, port 0.
 * Returns 0 or -EINVAL. */
int endpoint_parse_ip(struct endpoint *ep, const char *text);

/* Format "1.2.3.4:80", "[::1]:80" or "name:80" into buf (NUL-terminated,
 * truncated to cap). Returns buf, for use inside log calls. */
const char *endpoint_format(const struct endpoint *ep, char *buf, size_t cap);

/* True when both hold the same address (or name, compared case-insensitively)
 * and port. */
bool endpoint_equal(const struct endpoint *a, const struct endpoint *b);

#endif
