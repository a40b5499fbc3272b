/* gssmsg.c — RFC 1961 message framing (see gssmsg.h). */
#include "gssmsg.h"

#include <errno.h>
#include <string.h>

static const char *const gssmsg_protection_names[] = {
    [GSSMSG_PROTECT_CLEAR] = "clear",
    [GSSMSG_PROTECT_INTEGRITY] = "integrity",
    [GSSMSG_PROTECT_CONFIDENTIALITY] = "confidentiality",
};

#define GSSMSG_LEVELS                                                          \
	(sizeof(gssmsg_protection_names) / sizeof(gssmsg_protection_names[0]))

/* RFC 1961 sections 3.3 and 4.3: ver mtyp len(2, big-endian) token. */
long gssmsg_build(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *token,
		  size_t token_len)
{
	if (type != GSSMSG_TYPE_CONTEXT && type != GSSMSG_TYPE_PROTECTION)
		return -EINVAL;
	if (token_len > GSSMSG_TOKEN_MAX)
		return -EMSGSIZE;
	if (cap < GSSMSG_HEADER_LEN + token_len)
		return -ENOSPC;
	buf[0] = GSSMSG_VERSION;
	buf[1] = type;
	buf[2] = (uint8_t)(token_len >> 8);
	buf[3] = (uint8_t)token_len;
	if (token_len)
		memcpy(buf + GSSMSG_HEADER_LEN, token, token_len);
	return (long)(GSSMSG_HEADER_LEN + token_len);
}

/* Short of the header or of the token: ask for what the frame needs. */
static long gssmsg_short(size_t want, size_t len, size_t *need)
{
	if (len >= want)
		return 1;
	*need = want;
	return 0;
}

long gssmsg_parse(const uint8_t *buf, size_t len, size_t *need,
		  struct gssmsg *msg)
{
	size_t token_len;

	if (gssmsg_short(GSSMSG_ABORT_LEN, len, need) == 0)
		return 0;
	if (buf[0] != GSSMSG_VERSION)
		return -EPROTO;
	if (buf[1] == GSSMSG_TYPE_ABORT) {
		*msg = (struct gssmsg){.type = GSSMSG_TYPE_ABORT};
		return GSSMSG_ABORT_LEN;
	}
	if (buf[1] != GSSMSG_TYPE_CONTEXT && buf[1] != GSSMSG_TYPE_PROTECTION)
		return -EPROTO;
	if (gssmsg_short(GSSMSG_HEADER_LEN, len, need) == 0)
		return 0;
	token_len = (size_t)buf[2] << 8 | buf[3];
	if (gssmsg_short(GSSMSG_HEADER_LEN + token_len, len, need) == 0)
		return 0;
	msg->type = buf[1];
	msg->token = buf + GSSMSG_HEADER_LEN;
	msg->token_len = token_len;
	return (long)(GSSMSG_HEADER_LEN + token_len);
}

const char *gssmsg_protection_name(unsigned level)
{
	if (level >= GSSMSG_LEVELS)
		return "unknown";
	return gssmsg_protection_names[level];
}

int gssmsg_protection_parse(const char *word, uint8_t *level)
{
	for (unsigned i = 0; i < GSSMSG_LEVELS; i++) {
		if (strcmp(word, gssmsg_protection_names[i]) == 0) {
			*level = (uint8_t)i;
			return 0;
		}
	}
	return -EINVAL;
}
