/* proxyurl.c — parse and print proxy URLs (SOCKS, HTTP CONNECT) in curl's
 * syntax:
 * SCHEME://[USER[:PASSWORD]@]HOST[:PORT][/]
 * Error texts never quote the user or password. */
#include "proxyurl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"

static const struct {
	const char *name;
	enum proxy_type type;
} schemes[] = {
    {"socks4", PROXY_SOCKS4}, {"socks4a", PROXY_SOCKS4A},
    {"socks5", PROXY_SOCKS5}, {"socks5h", PROXY_SOCKS5H},
    {"http", PROXY_HTTP},
};

/* A piece of the URL being parsed: text[0..len), not NUL-terminated. */
struct span {
	const char *text;
	size_t len;
};

/* Write a reason into err (if any) and return -EINVAL. */
static int fail(char *err, size_t errcap, const char *reason)
{
	if (err && errcap)
		snprintf(err, errcap, "%s", reason);
	return -EINVAL;
}

static const char *scheme_name(enum proxy_type type)
{
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (schemes[i].type == type)
			return schemes[i].name;
	return "socks5h";
}

/* Find the scheme before "://". Returns the length of the prefix consumed
 * ("socks5h://" → 10), or -EINVAL with a reason. */
static int parse_scheme(struct proxy *p, const char *url, char *err,
			size_t errcap)
{
	const char *sep = strstr(url, "://");
	size_t len, i;

	if (!sep)
		return fail(err, errcap,
			    "missing scheme: expected socks5h://host:port");
	len = (size_t)(sep - url);
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == len &&
		    strncasecmp(url, schemes[i].name, len) == 0) {
			p->type = schemes[i].type;
			return (int)(len + 3);
		}
	}
	return fail(err, errcap,
		    "unsupported scheme: use socks4, socks4a, socks5, socks5h "
		    "or http");
}

/* Percent-decode in into out (capacity PROXY_CREDENTIAL_MAX + 1, then
 * NUL-terminated). Returns the decoded length, or -EINVAL for a bad escape,
 * a decoded NUL byte, or more than PROXY_CREDENTIAL_MAX bytes. */
static int percent_decode(struct span in, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < in.len; i++) {
		int c = (unsigned char)in.text[i];

		if (c == '%') {
			int hi, lo;

			if (in.len - i < 3)
				return -EINVAL;
			hi = netaddr_hex_digit(in.text[i + 1]);
			lo = netaddr_hex_digit(in.text[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || n >= PROXY_CREDENTIAL_MAX)
			return -EINVAL;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return (int)n;
}

/* Decode one credential field; what names it in messages ("user name"). */
static int decode_field(struct span in, char *out, uint8_t *out_len,
			const char *what, char *err, size_t errcap)
{
	char reason[128];
	int n = percent_decode(in, out);

	if (n < 0) {
		snprintf(reason, sizeof(reason),
			 "bad %s: percent-escapes must be %%XX (not %%00) and "
			 "the result at most %d bytes",
			 what, PROXY_CREDENTIAL_MAX);
		return fail(err, errcap, reason);
	}
	if (n == 0) {
		snprintf(reason, sizeof(reason), "empty %s", what);
		return fail(err, errcap, reason);
	}
	*out_len = (uint8_t)n;
	return 0;
}

/* HTTP Basic authentication (RFC 7617): the user name cannot hold a ':',
 * the password may be empty or left out ("user@" as curl takes it). */
static int parse_http_password(struct proxy *p, struct span pass, char *err,
			       size_t errcap)
{
	if (memchr(p->user, ':', p->user_len))
		return fail(err, errcap,
			    "an http proxy user name cannot hold ':' (Basic "
			    "authentication)");
	if (pass.len == 0)
		return 0;
	return decode_field(pass, p->password, &p->password_len, "password",
			    err, errcap);
}

/* The password rules differ by protocol: SOCKS4 has none, RFC 1929 needs
 * 1..255 bytes, HTTP Basic takes 0..255. has_colon says whether "user:" was
 * written at all. */
static int parse_password(struct proxy *p, struct span pass, bool has_colon,
			  char *err, size_t errcap)
{
	if (proxy_is_http(p))
		return parse_http_password(p, pass, err, errcap);
	if (!proxy_is_socks5(p)) {
		if (has_colon)
			return fail(err, errcap, "socks4 has no password");
		return 0;
	}
	if (!has_colon)
		return fail(err, errcap,
			    "socks5 user name needs a password "
			    "(RFC 1929): use user:password@");
	return decode_field(pass, p->password, &p->password_len, "password",
			    err, errcap);
}

/* Parse "user[:password]" into p. */
static int parse_userinfo(struct proxy *p, struct span info, char *err,
			  size_t errcap)
{
	const char *colon = memchr(info.text, ':', info.len);
	struct span user = info, pass = {"", 0};

	if (colon) {
		user.len = (size_t)(colon - info.text);
		pass.text = colon + 1;
		pass.len = info.len - user.len - 1;
	}
	if (decode_field(user, p->user, &p->user_len, "user name", err,
			 errcap) < 0)
		return -EINVAL;
	p->has_auth = true;
	return parse_password(p, pass, colon != NULL, err, errcap);
}

/* Parse a port 1..65535 (decimal digits only). */
static int parse_port(struct span s, uint16_t *port, char *err, size_t errcap)
{
	unsigned long value = 0;
	size_t i;

	if (s.len == 0 || s.len > 5)
		return fail(err, errcap, "bad port: expected 1..65535");
	for (i = 0; i < s.len; i++) {
		if (s.text[i] < '0' || s.text[i] > '9')
			return fail(err, errcap, "bad port: expected 1..65535");
		value = value * 10 + (unsigned long)(s.text[i] - '0');
	}
	if (value < 1 || value > 65535)
		return fail(err, errcap, "bad port: expected 1..65535");
	*port = (uint16_t)value;
	return 0;
}

/* A host name: letters, digits, '-', '.', '_' (1..255 bytes). A string of
 * only digits and dots that is no IPv4 address is an error, not a name. */
static int parse_host_name(struct proxy *p, struct span host, char *err,
			   size_t errcap)
{
	bool numeric = true;
	size_t i;

	if (host.len > ENDPOINT_NAME_MAX)
		return fail(err, errcap, "host name longer than 255 bytes");
	for (i = 0; i < host.len; i++) {
		char c = host.text[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool digit = c >= '0' && c <= '9';

		if (!alpha && !digit && c != '-' && c != '.' && c != '_')
			return fail(err, errcap, "bad character in host name");
		if (!digit && c != '.')
			numeric = false;
	}
	if (numeric)
		return fail(err, errcap, "bad IPv4 address");
	if (endpoint_set_name(&p->addr, host.text, host.len, 0) < 0)
		return fail(err, errcap, "bad host name");
	return 0;
}

/* [::ffff:a.b.c.d] is kept as IPv4, so that the proxy can be reached from
 * sockets of either family (endpoint_to_sockaddr maps it back). */
static void unmap_v4(struct endpoint *ep)
{
	static const uint8_t prefix[12] = {[10] = 0xff, [11] = 0xff};
	uint8_t v4[4];

	if (memcmp(ep->u.ipv6, prefix, sizeof(prefix)) != 0)
		return;
	memcpy(v4, ep->u.ipv6 + 12, 4);
	memset(ep->u.ipv6, 0, sizeof(ep->u.ipv6));
	memcpy(ep->u.ipv4, v4, 4);
	ep->kind = ENDPOINT_IPV4;
}

/* Parse the host part: bracketed text must be an IPv6 literal; otherwise an
 * IPv4 literal or a host name. */
static int parse_host(struct proxy *p, struct span host, bool bracketed,
		      char *err, size_t errcap)
{
	char buf[64];
	int rc = -EINVAL;

	if (host.len == 0)
		return fail(err, errcap, "missing host");
	if (host.len < sizeof(buf)) {
		memcpy(buf, host.text, host.len);
		buf[host.len] = '\0';
		rc = endpoint_parse_ip(&p->addr, buf);
	}
	if (bracketed) {
		if (rc < 0 || p->addr.kind != ENDPOINT_IPV6)
			return fail(err, errcap,
				    "bad IPv6 address in brackets");
		unmap_v4(&p->addr);
		return 0;
	}
	if (rc == 0)
		return 0;
	return parse_host_name(p, host, err, errcap);
}

/* Split "[v6]:port", "host:port" or "host" into host and port. Returns 1
 * when a port was written, 0 when not, -EINVAL with a reason. */
static int split_host_port(struct span hp, struct span *host, struct span *port,
			   bool *bracketed, char *err, size_t errcap)
{
	const char *colon, *close;
	size_t rest;

	*bracketed = hp.len > 0 && hp.text[0] == '[';
	colon = memchr(hp.text, ':', hp.len);
	if (*bracketed) {
		close = memchr(hp.text, ']', hp.len);
		if (!close)
			return fail(err, errcap,
				    "missing ']' after IPv6 address");
		host->text = hp.text + 1;
		host->len = (size_t)(close - hp.text) - 1;
		rest = hp.len - host->len - 2;
		if (rest == 0)
			return 0;
		if (close[1] != ':')
			return fail(err, errcap, "unexpected text after ']'");
		colon = close + 1;
	} else if (colon && memchr(colon + 1, ':',
				   hp.len - (size_t)(colon - hp.text) - 1)) {
		return fail(err, errcap,
			    "an IPv6 address must be in brackets: [::1]:1080");
	} else {
		host->text = hp.text;
		host->len = colon ? (size_t)(colon - hp.text) : hp.len;
		if (!colon)
			return 0;
	}
	port->text = colon + 1;
	port->len = hp.len - (size_t)(port->text - hp.text);
	return 1;
}

/* Parse "host[:port]" into p->addr. */
static int parse_host_port(struct proxy *p, struct span hp, char *err,
			   size_t errcap)
{
	struct span host, port;
	bool bracketed;
	uint16_t port_number = PROXY_DEFAULT_PORT;
	int rc = split_host_port(hp, &host, &port, &bracketed, err, errcap);

	if (rc < 0)
		return rc;
	if (rc == 1 && parse_port(port, &port_number, err, errcap) < 0)
		return -EINVAL;
	if (parse_host(p, host, bracketed, err, errcap) < 0)
		return -EINVAL;
	p->addr.port = port_number;
	return 0;
}

/* After the scheme: the authority runs to the end, or to a single final
 * "/". Any other '/', '?' or '#' is a path, query or fragment: an error.
 * The user information ends at the last '@'. */
static int parse_authority(struct proxy *p, const char *text, char *err,
			   size_t errcap)
{
	size_t len = strcspn(text, "/?#");
	const char *at;
	struct span info, hp;

	if (text[len] != '\0' && strcmp(text + len, "/") != 0)
		return fail(err, errcap,
			    "unexpected path, query or fragment after the "
			    "port (percent-encode '/', '?', '#' in passwords)");
	hp.text = text;
	hp.len = len;
	at = NULL;
	for (info.len = 0; info.len < len; info.len++)
		if (text[info.len] == '@')
			at = text + info.len;
	if (at) {
		info.text = text;
		info.len = (size_t)(at - text);
		if (parse_userinfo(p, info, err, errcap) < 0)
			return -EINVAL;
		hp.text = at + 1;
		hp.len = len - info.len - 1;
	}
	return parse_host_port(p, hp, err, errcap);
}

int proxyurl_parse(struct proxy *p, const char *url, char *err, size_t errcap)
{
	int consumed;

	memset(p, 0, sizeof(*p));
	if (err && errcap)
		err[0] = '\0';
	if (!url || !*url)
		return fail(err, errcap, "empty proxy URL");
	consumed = parse_scheme(p, url, err, errcap);
	if (consumed < 0)
		return consumed;
	if (parse_authority(p, url + consumed, err, errcap) < 0) {
		memset(p, 0, sizeof(*p)); /* drop any decoded secret */
		return -EINVAL;
	}
	return 0;
}

/* RFC 3986 unreserved characters are written as they are; everything else
 * in a user name is percent-encoded so that the output is a valid URL. */
static size_t encode_user(const struct proxy *p, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;

	for (i = 0; i < p->user_len && n + 4 < cap; i++) {
		unsigned char c = (unsigned char)p->user[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr("-._~", c))) {
			out[n++] = (char)c;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[c >> 4];
		out[n++] = hex[c & 15];
	}
	out[n] = '\0';
	return n;
}

const char *proxyurl_format(const struct proxy *p, char *buf, size_t cap)
{
	char user[3 * PROXY_CREDENTIAL_MAX + 1];
	char host[ENDPOINT_TEXT_MAX];

	if (!buf || cap == 0)
		return buf;
	user[0] = '\0';
	if (p->has_auth)
		encode_user(p, user, sizeof(user));
	endpoint_format(&p->addr, host, sizeof(host));
	snprintf(buf, cap, "%s://%s%s%s", scheme_name(p->type), user,
		 p->has_auth ? "@" : "", host);
	return buf;
}

const char *proxyurl_redact(const char *text, char *buf, size_t cap)
{
	const char *at = strrchr(text, '@');
	const char *info = text, *sep, *colon;
	int user_len;

	if (!buf || cap == 0)
		return buf;
	if (!at) {
		snprintf(buf, cap, "%s", text);
		return buf;
	}
	/* A "://" is the scheme's only when no '@' comes before it: in
	 * "a:pw@://..." the user information starts the text. */
	sep = strstr(text, "://");
	if (sep && sep < at && !memchr(text, '@', (size_t)(sep - text)))
		info = sep + 3;
	colon = memchr(info, ':', (size_t)(at - info));
	user_len = colon ? (int)(colon - info) + 1 : 0;
	snprintf(buf, cap, "%.*s%.*s***%s", (int)(info - text), text, user_len,
		 info, at);
	return buf;
}

bool proxy_sends_names(const struct proxy *p)
{
	return p->type == PROXY_SOCKS5H || p->type == PROXY_SOCKS4A ||
	       p->type == PROXY_HTTP;
}

bool proxy_is_socks5(const struct proxy *p)
{
	return p->type == PROXY_SOCKS5 || p->type == PROXY_SOCKS5H;
}

bool proxy_is_http(const struct proxy *p)
{
	return p->type == PROXY_HTTP;
}

const char *proxy_gssapi_target(const struct proxy *p, char *buf, size_t cap)
{
	const char *service = p->gssapi_service[0]
				  ? p->gssapi_service
				  : PROXY_GSSAPI_SERVICE_DEFAULT;
	char host[ENDPOINT_NAME_MAX + 1];

	switch (p->addr.kind) {
	case ENDPOINT_IPV4:
		inet_ntop(AF_INET, p->addr.u.ipv4, host, sizeof host);
		break;
	case ENDPOINT_IPV6:
		inet_ntop(AF_INET6, p->addr.u.ipv6, host, sizeof host);
		break;
	case ENDPOINT_NAME:
		snprintf(host, sizeof host, "%s", p->addr.u.name);
		break;
	default:
		host[0] = '\0';
		break;
	}
	snprintf(buf, cap, "%s@%s", service, host);
	return buf;
}
