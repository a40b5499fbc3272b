/* httpconnect.c — the HTTP CONNECT request and its reply's head, without
 * I/O. The reply parser is a byte-at-a-time machine over lines, so that it
 * can take the head in any pieces and stop exactly at its end: the bytes
 * after the empty line are the tunnel's, not ours. */
#include "httpconnect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---- the request ---- */

long httpconnect_base64(char *out, size_t cap, const uint8_t *in, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, n = 0;

	if (cap < (len + 2) / 3 * 4 + 1)
		return -ENOSPC;
	for (i = 0; i < len; i += 3) {
		uint32_t group = (uint32_t)in[i] << 16;
		size_t have = len - i < 3 ? len - i : 3;

		if (have > 1)
			group |= (uint32_t)in[i + 1] << 8;
		if (have > 2)
			group |= in[i + 2];
		out[n++] = alphabet[(group >> 18) & 63];
		out[n++] = alphabet[(group >> 12) & 63];
		out[n++] = have > 1 ? alphabet[(group >> 6) & 63] : '=';
		out[n++] = have > 2 ? alphabet[group & 63] : '=';
	}
	out[n] = '\0';
	return (long)n;
}

/* A host name goes into the request line and the Host header as it is:
 * only letters, digits and "-._~" (RFC 3986 unreserved) may, which every
 * DNS name is made of. Anything else could end a line or change the
 * authority. */
static bool name_is_safe(const struct endpoint *dest)
{
	size_t i;

	for (i = 0; dest->u.name[i]; i++) {
		char c = dest->u.name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-._~", c)))
			return false;
	}
	return true;
}

/* "host:port", "1.2.3.4:port" or "[v6]:port" into buf. Returns 0 or
 * -errno. */
static int format_authority(char *buf, size_t cap, const struct endpoint *dest)
{
	int rc;

	if (dest->port == 0)
		return -EINVAL;
	switch (dest->kind) {
	case ENDPOINT_NAME:
		rc = endpoint_name_check(dest);
		if (rc < 0)
			return rc;
		if (!name_is_safe(dest))
			return -EINVAL;
		break;
	case ENDPOINT_IPV4:
	case ENDPOINT_IPV6:
		break;
	default:
		return -EINVAL;
	}
	endpoint_format(dest, buf, cap);
	return 0;
}

/* "Proxy-Authorization: Basic base64(user:password)\r\n" into buf.
 * Returns 0 or -ENOSPC. The clear text is wiped before returning. */
static int format_authorization(char *buf, size_t cap, const char *user,
				size_t user_len, const char *password,
				size_t password_len)
{
	uint8_t plain[2 * 255 + 1];
	char coded[(sizeof(plain) + 2) / 3 * 4 + 1];
	long n;

	if (user_len + 1 + password_len > sizeof(plain))
		return -ENOSPC;
	memcpy(plain, user, user_len);
	plain[user_len] = ':';
	memcpy(plain + user_len + 1, password, password_len);
	n = httpconnect_base64(coded, sizeof(coded), plain,
			       user_len + 1 + password_len);
	memset(plain, 0, sizeof(plain));
	if (n < 0)
		return (int)n;
	n = snprintf(buf, cap, "Proxy-Authorization: Basic %s\r\n", coded);
	memset(coded, 0, sizeof(coded));
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

/*
 * RFC 9110 section 9.3.6, RFC 9112 section 3.2.3 (authority-form):
 *
 *   CONNECT host:port HTTP/1.1\r\n
 *   Host: host:port\r\n
 *   [Proxy-Authorization: Basic dXNlcjpwYXNz\r\n]
 *   \r\n
 */
long httpconnect_build_request(char *buf, size_t cap,
			       const struct endpoint *dest, const char *user,
			       size_t user_len, const char *password,
			       size_t password_len)
{
	char authority[ENDPOINT_TEXT_MAX];
	char auth[HTTPCONNECT_REQUEST_MAX];
	int rc = format_authority(authority, sizeof(authority), dest);
	int n;

	if (rc < 0)
		return rc;
	auth[0] = '\0';
	if (user) {
		rc = format_authorization(auth, sizeof(auth), user, user_len,
					  password, password_len);
		if (rc < 0)
			return rc;
	}
	n = snprintf(buf, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
		     authority, authority, auth);
	memset(auth, 0, sizeof(auth));
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

/* ---- the reply's head ---- */

void httpconnect_reply_init(struct httpconnect_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->in_status = true;
}

/* "HTTP/1.x NNN[ reason]": the status code, or -EPROTO. */
static int parse_status_line(const char *line)
{
	static const char prefix[] = "HTTP/1.";
	const char *code = line + sizeof(prefix) - 1 + 2;
	size_t len = strlen(line);
	int i, status = 0;

	if (len < sizeof(prefix) - 1 + 5 ||
	    memcmp(line, prefix, sizeof(prefix) - 1) != 0 ||
	    line[sizeof(prefix) - 1] < '0' || line[sizeof(prefix) - 1] > '9' ||
	    line[sizeof(prefix)] != ' ')
		return -EPROTO;
	for (i = 0; i < 3; i++) {
		if (code[i] < '0' || code[i] > '9')
			return -EPROTO;
		status = status * 10 + (code[i] - '0');
	}
	if (status < 100 || (code[3] != '\0' && code[3] != ' '))
		return -EPROTO;
	return status;
}

/* A line has ended (its CR LF or LF taken). Returns 0, or -EPROTO. */
static int end_line(struct httpconnect_reply *r)
{
	int status;

	if (r->in_status) {
		status = parse_status_line(r->status_line);
		if (status < 0)
			return status;
		r->status = status;
		r->in_status = false;
	} else if (r->line_len == 0) {
		/* The empty line: the head is over, unless it was an interim
		 * response (1xx; 101 would switch protocols, which CONNECT
		 * does not ask for, so it is final and refused). */
		if (r->status >= 100 && r->status < 200 && r->status != 101)
			r->in_status = true;
		else
			r->done = true;
	} else if (!r->line_colon && !r->line_folded) {
		return -EPROTO;
	}
	r->line_len = 0;
	r->line_colon = false;
	r->line_folded = false;
	return 0;
}

/* One byte of a line that is not its end. Returns 0 or -EPROTO. */
static int take_line_byte(struct httpconnect_reply *r, uint8_t c)
{
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		return -EPROTO;
	if (r->in_status) {
		if (r->line_len + 1 < sizeof(r->status_line)) {
			r->status_line[r->line_len] = (char)c;
			r->status_line[r->line_len + 1] = '\0';
		}
	} else if (r->line_len == 0 && (c == ' ' || c == '\t')) {
		r->line_folded = true;
	} else if (c == ':' && r->line_len > 0) {
		r->line_colon = true;
	}
	r->line_len++;
	return 0;
}

/* One byte of the head. Returns 0 or -EPROTO. */
static int take_byte(struct httpconnect_reply *r, uint8_t c)
{
	if (r->after_cr && c != '\n')
		return -EPROTO; /* a bare CR */
	if (c == '\r') {
		r->after_cr = true;
		return 0;
	}
	r->after_cr = false;
	if (c == '\n')
		return end_line(r);
	return take_line_byte(r, c);
}

long httpconnect_reply_feed(struct httpconnect_reply *r, const uint8_t *buf,
			    size_t len)
{
	size_t i;
	int rc;

	for (i = 0; i < len && !r->done; i++) {
		if (r->total >= HTTPCONNECT_HEAD_MAX)
			return -EPROTO;
		r->total++;
		rc = take_byte(r, buf[i]);
		if (rc < 0)
			return rc;
	}
	return (long)i;
}

/* ---- status codes ---- */

static const struct {
	int status;
	int err;
	const char *message;
} statuses[] = {
    {400, EPROTO, "proxy did not understand the CONNECT request (400)"},
    {401, EACCES, "proxy refused the request: unauthorized (401)"},
    {403, EACCES, "proxy forbids this destination (403)"},
    {404, EHOSTUNREACH, "proxy cannot find the destination host (404)"},
    {405, EOPNOTSUPP, "proxy does not allow CONNECT (405)"},
    {407, EACCES,
     "proxy authentication required or rejected (407): check user and "
     "password"},
    {408, ETIMEDOUT, "proxy timed out waiting for the request (408)"},
    {500, ECONNABORTED, "proxy failed: internal error (500)"},
    {501, EOPNOTSUPP, "proxy does not implement CONNECT (501)"},
    {502, ECONNREFUSED,
     "proxy could not connect to the destination (502 bad gateway)"},
    {503, ECONNREFUSED,
     "proxy could not connect to the destination (503 unavailable)"},
    {504, ETIMEDOUT, "proxy timed out connecting to the destination (504)"},
};

int httpconnect_status_errno(int status)
{
	size_t i;

	if (status >= 200 && status <= 299)
		return 0;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return statuses[i].err;
	if (status >= 400 && status <= 499)
		return EACCES;
	if (status >= 500 && status <= 599)
		return ECONNABORTED;
	return EPROTO;
}

const char *httpconnect_status_message(int status)
{
	size_t i;

	if (status >= 200 && status <= 299)
		return "tunnel established";
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return statuses[i].message;
	if (status >= 400 && status <= 499)
		return "proxy refused the CONNECT request (4xx)";
	if (status >= 500 && status <= 599)
		return "proxy failed the CONNECT request (5xx)";
	return "proxy answered CONNECT with a status that is neither success "
	       "nor error (1xx/3xx)";
}
