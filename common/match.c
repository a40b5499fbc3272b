/* match.c — host-name patterns (see match.h). */
#include "match.h"

#include <errno.h>
#include <string.h>

static char match_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool match_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/* Labels of label characters, 1..63 each, separated by single dots, the
 * last one not all digits. text is lower case already. */
static bool match_valid_name(const char *text, size_t len)
{
	size_t label = 0, i;
	bool digits = true;

	for (i = 0; i < len; i++) {
		if (text[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!match_label_char(text[i]) || ++label > 63)
			return false;
		digits = digits && text[i] >= '0' && text[i] <= '9';
	}
	return label > 0 && !digits;
}

int match_host_parse(struct host_pattern *p, const char *text)
{
	size_t len, i;

	memset(p, 0, sizeof(*p));
	if (strncmp(text, "*.", 2) == 0) {
		p->domain = true;
		text += 2;
	} else if (text[0] == '.') {
		p->domain = true;
		text++;
	}
	len = strlen(text);
	if (len == 0 || len >= sizeof(p->name))
		return -EINVAL;
	for (i = 0; i < len; i++)
		p->name[i] = match_lower(text[i]);
	if (!match_valid_name(p->name, len)) {
		memset(p, 0, sizeof(*p));
		return -EINVAL;
	}
	return 0;
}

bool match_host_is_set(const struct host_pattern *p)
{
	return p->name[0] != '\0';
}

/* a[0..len) equals lower-case b[0..len), a in any case. */
static bool match_equal(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (match_lower(a[i]) != b[i])
			return false;
	return true;
}

bool match_host(const struct host_pattern *p, const char *name, size_t len)
{
	size_t plen = strlen(p->name);

	if (plen == 0 || !name)
		return false;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == plen)
		return match_equal(name, p->name, len);
	/* Below the domain: "www.example" ends with ".example". */
	return p->domain && len > plen && name[len - plen - 1] == '.' &&
	       match_equal(name + len - plen, p->name, plen);
}
