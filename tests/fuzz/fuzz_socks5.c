/* fuzz_socks5.c — the SOCKS5 reply parsers (method selection, RFC 1929
 * status, CONNECT/BIND/UDP ASSOCIATE reply) on arbitrary bytes.
 *
 * Invariants: a parse takes no more than it was given, and exactly as much
 * when given only that much; every shorter prefix of a good message asks
 * for more (never an error, never a need past the message); a short parse
 * asks for a length it has not seen; a parsed reply's BND.ADDR/BND.PORT is
 * a sane endpoint whose request encoding is the reply's own bytes. */
#include <errno.h>
#include <string.h>

#include "endpoint.h"
#include "fuzz.h"
#include "socks5.h"

typedef long (*two_byte_parser)(const uint8_t *, size_t, size_t *, uint8_t *);

static void check_two_byte(two_byte_parser parse, const uint8_t *buf,
			   size_t len)
{
	size_t need = 0, k;
	uint8_t out = 0, again = 0;
	long r = parse(buf, len, &need, &out);

	FUZZ_CHECK(r == 2 || r == 0 || r == -EPROTO);
	if (r == 0)
		FUZZ_CHECK(len < 2 && need == 2);
	if (r != 2)
		return;
	FUZZ_CHECK(out == buf[1]);
	FUZZ_CHECK(parse(buf, 2, &need, &again) == 2 && again == out);
	for (k = 0; k < 2; k++)
		FUZZ_CHECK(parse(buf, k, &need, &again) == 0 && need > k);
}

static void check_bound(const struct endpoint *ep, const uint8_t *buf, long r)
{
	uint8_t req[SOCKS5_REQUEST_MAX];
	long n;

	switch (ep->kind) {
	case ENDPOINT_IPV4:
		FUZZ_CHECK(r == 10);
		break;
	case ENDPOINT_IPV6:
		FUZZ_CHECK(r == 22);
		break;
	case ENDPOINT_NAME:
		FUZZ_CHECK(ep->name_len > 0);
		FUZZ_CHECK(strlen(ep->u.name) == ep->name_len);
		FUZZ_CHECK(r == 7 + (long)ep->name_len);
		break;
	default:
		FUZZ_CHECK(!"reply parsed to an endpoint of no kind");
	}
	/* The request for the bound endpoint is the reply's bytes, but for
	 * the second byte (CMD there, REP here). */
	n = socks5_build_request(req, sizeof(req), SOCKS5_CMD_CONNECT, ep);
	FUZZ_CHECK(n == r);
	FUZZ_CHECK(req[0] == buf[0] &&
		   memcmp(req + 2, buf + 2, (size_t)n - 2) == 0);
}

static void check_reply(const uint8_t *buf, size_t len)
{
	struct endpoint bound, again;
	size_t need = 0, k;
	uint8_t rep = 0, rep2 = 0;
	long r;

	memset(&bound, 0, sizeof(bound));
	r = socks5_parse_reply(buf, len, &need, &rep, &bound);
	FUZZ_CHECK(r >= 0 || r == -EPROTO);
	if (r == 0) {
		FUZZ_CHECK(need > len && need <= SOCKS5_REPLY_MAX);
		return;
	}
	if (r < 0)
		return;
	FUZZ_CHECK((size_t)r <= len && r <= SOCKS5_REPLY_MAX);
	FUZZ_CHECK(rep == buf[1]);
	(void)socks5_reply_errno(rep);
	FUZZ_CHECK(socks5_reply_message(rep) != NULL);
	check_bound(&bound, buf, r);
	/* Given exactly the reply, the same reply. */
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(socks5_parse_reply(buf, (size_t)r, &need, &rep2, &again) ==
		   r);
	FUZZ_CHECK(rep2 == rep && endpoint_equal(&again, &bound));
	/* Every prefix asks for more, within the reply. */
	for (k = 0; k < (size_t)r; k++) {
		need = 0;
		FUZZ_CHECK(socks5_parse_reply(buf, k, &need, &rep2, &again) ==
			   0);
		FUZZ_CHECK(need > k && need <= (size_t)r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	uint8_t which = fuzz_byte(&in);

	switch (which % 3) {
	case 0:
		check_two_byte(socks5_parse_method, in.data, in.len);
		break;
	case 1:
		check_two_byte(socks5_parse_auth_reply, in.data, in.len);
		break;
	default:
		check_reply(in.data, in.len);
		break;
	}
	return 0;
}
