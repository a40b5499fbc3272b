/* fuzz_proxyurl.c — proxy URLs (SOCKSIFY_PROXY, -x, the config's proxy
 * lines) on arbitrary text.
 *
 * Invariants: a refused URL says why; an accepted one formats to a URL
 * that, with its password put back, parses to the same proxy (scheme,
 * host, port, user, password), and formats to the same text again. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "proxyurl.h"

#define URL_MAX 2048

static bool same_proxy(const struct proxy *a, const struct proxy *b)
{
	return a->type == b->type && endpoint_equal(&a->addr, &b->addr) &&
	       a->addr.port == b->addr.port && a->has_auth == b->has_auth &&
	       a->user_len == b->user_len &&
	       a->password_len == b->password_len &&
	       memcmp(a->user, b->user, a->user_len) == 0 &&
	       memcmp(a->password, b->password, a->password_len) == 0;
}

/* The formatted URL (user, no password) with ":" and the password, every
 * byte percent-encoded, put back before the '@'. */
static bool with_password(const struct proxy *p, const char *formatted,
			  char *out, size_t cap)
{
	const char *at = strchr(formatted, '@');
	size_t head, i, o;

	if (!p->has_auth || p->password_len == 0 || !at) {
		snprintf(out, cap, "%s", formatted);
		return true;
	}
	head = (size_t)(at - formatted);
	if (head + 1 + 3 * (size_t)p->password_len + strlen(at) + 1 > cap)
		return false;
	memcpy(out, formatted, head);
	o = head;
	out[o++] = ':';
	for (i = 0; i < p->password_len; i++) {
		snprintf(out + o, 4, "%%%02X", (unsigned char)p->password[i]);
		o += 3;
	}
	snprintf(out + o, cap - o, "%s", at);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char url[URL_MAX], text[URL_MAX], again[URL_MAX], full[URL_MAX],
	    shown[URL_MAX];
	struct proxy p1, p2;
	char err[256];

	if (size >= sizeof(url))
		return 0;
	memcpy(url, data, size);
	url[size] = '\0';
	memset(&p1, 0, sizeof(p1));
	err[0] = '\0';
	proxyurl_redact(url, shown, sizeof(shown));
	if (proxyurl_parse(&p1, url, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(p1.addr.port != 0);
	FUZZ_CHECK(strlen(shown) < sizeof(shown));
	proxyurl_format(&p1, text, sizeof(text));
	if (!with_password(&p1, text, full, sizeof(full)))
		return 0;
	memset(&p2, 0, sizeof(p2));
	if (proxyurl_parse(&p2, full, err, sizeof(err)) < 0) {
		fprintf(stderr, "'%s' (from '%s') refused: %s\n", full, url,
			err);
		FUZZ_CHECK(!"a formatted URL is refused");
	}
	FUZZ_CHECK(same_proxy(&p1, &p2));
	proxyurl_format(&p2, again, sizeof(again));
	FUZZ_CHECK(strcmp(text, again) == 0);
	return 0;
}
