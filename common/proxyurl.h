/* proxyurl.h — a SOCKS or HTTP CONNECT proxy as written in curl's URL
 * syntax. */
#ifndef SOCKSIFY_PROXYURL_H
#define SOCKSIFY_PROXYURL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

#define PROXY_DEFAULT_PORT	 1080
#define PROXY_CREDENTIAL_MAX	 255 /* RFC 1929: one length byte */
#define PROXY_GSSAPI_SERVICE_MAX 63
/* Room for "service@host" (proxy_gssapi_target()). */
#define PROXY_GSSAPI_TARGET_MAX                                                \
	(PROXY_GSSAPI_SERVICE_MAX + 2 + ENDPOINT_NAME_MAX)
#define PROXY_GSSAPI_SERVICE_DEFAULT "rcmd" /* as Dante and curl */

enum proxy_type {
	PROXY_SOCKS4,  /* socks4://  IPv4 only, names resolved locally */
	PROXY_SOCKS4A, /* socks4a:// names sent to the proxy */
	PROXY_SOCKS5,  /* socks5://  names resolved locally */
	PROXY_SOCKS5H, /* socks5h:// names sent to the proxy */
	PROXY_HTTP,    /* http://    HTTP CONNECT (RFC 9110 9.3.6), names
			* sent to the proxy, Basic authentication */
};

struct proxy {
	enum proxy_type type;
	struct endpoint addr; /* as written: an IP literal or a host name */
	bool has_auth;	      /* user (and password) were given */
	uint8_t user_len, password_len;
	char user[PROXY_CREDENTIAL_MAX +
		  1]; /* percent-decoded, NUL-terminated */
	char password[PROXY_CREDENTIAL_MAX + 1]; /* never logged */
	/* Send greeting, auth and request in one write without waiting for
	 * each reply (config "proxy URL pipeline" or SOCKSIFY_PIPELINE=1). */
	bool pipeline;
	/* user/password are isolate_apply()'s, not the URL's (isolate.h) */
	bool isolated;
	/* Authenticate with GSS-API (RFC 1961, config "proxy URL gssapi" or
	 * SOCKSIFY_GSSAPI=1; SOCKS5 only): the context is asked for the
	 * host-based service gssapi_service@HOST, HOST as the URL writes
	 * it, then gssapi_protection (enum gssmsg_protection) is agreed. */
	bool gssapi;
	uint8_t gssapi_protection;
	char gssapi_service[PROXY_GSSAPI_SERVICE_MAX + 1];
};

/* Parse "socks5h://user:pass@host:port". Accepted schemes: socks4, socks4a,
 * socks5, socks5h, http (case-insensitive); IPv6 hosts in brackets; user and
 * password percent-decoded (1..255 bytes each for SOCKS5; SOCKS4 takes the
 * user as its USERID and refuses a password; HTTP takes a user without ':'
 * and a password of 0..255 bytes, which may be left out); port 1..65535,
 * default 1080 for every scheme (as curl).
 * A trailing "/" is allowed; any other path, query or fragment is an error.
 * On failure returns -EINVAL and writes a one-line reason to err. */
int proxyurl_parse(struct proxy *p, const char *url, char *err, size_t errcap);

/* Write the URL back without the password ("socks5h://user@host:1080").
 * Returns buf. */
const char *proxyurl_format(const struct proxy *p, char *buf, size_t cap);

/* Copy text, which may be a URL or any value a user typed, into buf[0..cap)
 * with the secret part of its user information hidden, for error messages.
 * The user information is what comes before the last '@' (after a
 * "scheme://" when there is one, and no '@' is before it): its password, after
 * the first ':', becomes "***" ("alice:***@host"); without a ':' all of it does
 * ("***@host"), since it may be a password alone. Text without '@' is copied
 * unchanged. The result is cut to fit and always NUL-terminated. Returns buf.
 */
const char *proxyurl_redact(const char *text, char *buf, size_t cap);

/* The GSS-API host-based service name of p: "service@host", the service
 * p->gssapi_service (default PROXY_GSSAPI_SERVICE_DEFAULT) and the host as
 * the URL writes it (a name, or an address without brackets), into
 * buf[0..cap) (NUL-terminated, cut to fit). Returns buf. */
const char *proxy_gssapi_target(const struct proxy *p, char *buf, size_t cap);

/* True for the types that send host names to the proxy. */
bool proxy_sends_names(const struct proxy *p);

/* True for SOCKS5 and SOCKS5H. */
bool proxy_is_socks5(const struct proxy *p);

/* True for an HTTP CONNECT proxy. */
bool proxy_is_http(const struct proxy *p);

#endif
