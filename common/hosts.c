/* hosts.c — find a name in hosts(5) text: one entry per line, an address,
 * then the canonical name, then aliases, separated by blanks; '#' starts a
 * comment. Lines that do not parse are skipped, as the resolver does. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "hosts.h"

/* Longest address token we try to parse (an IPv6 literal). */
#define HOSTS_ADDR_MAX 64

struct hosts_query {
	const char *name;
	size_t name_len;
	int family; /* AF_INET or AF_INET6: one pass per family */
};

static int hosts_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* The next blank-separated token in [*pos, end): its start, with its length
 * in *len, and *pos moved past it. NULL when the line holds no more. */
static const char *hosts_token(const char **pos, const char *end, size_t *len)
{
	const char *p = *pos, *start;

	while (p < end && hosts_is_blank(*p))
		p++;
	start = p;
	while (p < end && !hosts_is_blank(*p))
		p++;
	*pos = p;
	*len = (size_t)(p - start);
	return *len ? start : NULL;
}

/* Parse an address token of the wanted family into ep. Returns 1 or 0. */
static int hosts_parse_addr(const char *tok, size_t len, int family,
			    struct endpoint *ep)
{
	char text[HOSTS_ADDR_MAX];

	if (len >= sizeof(text))
		return 0;
	memcpy(text, tok, len);
	text[len] = '\0';
	memset(ep, 0, sizeof(*ep));
	if (family == AF_INET && inet_pton(AF_INET, text, ep->u.ipv4) == 1) {
		ep->kind = ENDPOINT_IPV4;
		return 1;
	}
	if (family == AF_INET6 && inet_pton(AF_INET6, text, ep->u.ipv6) == 1) {
		ep->kind = ENDPOINT_IPV6;
		return 1;
	}
	return 0;
}

/* True when one of the names in [pos, end) is the query's name. */
static int hosts_names_match(const char *pos, const char *end,
			     const struct hosts_query *q)
{
	const char *tok;
	size_t len;

	while ((tok = hosts_token(&pos, end, &len)) != NULL) {
		if (len == q->name_len && strncasecmp(tok, q->name, len) == 0)
			return 1;
	}
	return 0;
}

/* True when out[0..count) already holds ep's address. */
static int hosts_seen(const struct endpoint *out, size_t count,
		      const struct endpoint *ep)
{
	for (size_t i = 0; i < count; i++) {
		if (out[i].kind == ep->kind &&
		    memcmp(&out[i].u, &ep->u, sizeof(ep->u.ipv6)) == 0)
			return 1;
	}
	return 0;
}

/* Examine the line [line, end): when it maps the query's name to an address
 * of the query's family, store that address into *ep. Returns 1 or 0. */
static int hosts_line(const char *line, const char *end,
		      const struct hosts_query *q, struct endpoint *ep)
{
	const char *hash = memchr(line, '#', (size_t)(end - line));
	const char *pos = line, *tok;
	size_t len;

	if (hash)
		end = hash;
	tok = hosts_token(&pos, end, &len);
	if (!tok || !hosts_parse_addr(tok, len, q->family, ep))
		return 0;
	return hosts_names_match(pos, end, q);
}

/* Append the query family's addresses for the name to out[*count..max). */
static void hosts_scan(const char *text, size_t len,
		       const struct hosts_query *q, struct endpoint *out,
		       size_t max, size_t *count)
{
	const char *pos = text, *end = text + len;

	while (pos < end && *count < max) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		const char *line_end = nl ? nl : end;
		struct endpoint ep;

		if (hosts_line(pos, line_end, q, &ep) &&
		    !hosts_seen(out, *count, &ep))
			out[(*count)++] = ep;
		pos = line_end + 1;
	}
}

/* See hosts.h. A single trailing dot on name is ignored ("localhost."). */
size_t hosts_lookup(const char *text, size_t len, const char *name, int family,
		    struct endpoint *out, size_t max)
{
	struct hosts_query q = {.name = name, .name_len = strlen(name)};
	size_t count = 0;

	if (q.name_len > 1 && name[q.name_len - 1] == '.')
		q.name_len--;
	if (q.name_len == 0 || !text)
		return 0;
	if (family == AF_INET || family == AF_UNSPEC) {
		q.family = AF_INET;
		hosts_scan(text, len, &q, out, max, &count);
	}
	if (family == AF_INET6 || family == AF_UNSPEC) {
		q.family = AF_INET6;
		hosts_scan(text, len, &q, out, max, &count);
	}
	return count;
}
