/* fuzz_socks4.c — the SOCKS4 reply parser on arbitrary bytes.
 *
 * Invariants: a reply is exactly 8 bytes, never more is taken; every
 * shorter prefix asks for 8 unless its version byte is already wrong; the
 * bound endpoint is the reply's DSTPORT and DSTIP. */
#include <errno.h>
#include <string.h>

#include "endpoint.h"
#include "fuzz.h"
#include "socks4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct endpoint bound;
	size_t need = 0, k;
	uint8_t status = 0;
	long r;

	memset(&bound, 0, sizeof(bound));
	r = socks4_parse_reply(data, size, &need, &status, &bound);
	FUZZ_CHECK(r == SOCKS4_REPLY_LEN || r == 0 || r == -EPROTO);
	if (r == -EPROTO) {
		FUZZ_CHECK(size >= 1 && data[0] != 0 && data[0] != 4);
		return 0;
	}
	if (r == 0) {
		FUZZ_CHECK(size < SOCKS4_REPLY_LEN && need == SOCKS4_REPLY_LEN);
		return 0;
	}
	FUZZ_CHECK(status == data[1]);
	FUZZ_CHECK(bound.kind == ENDPOINT_IPV4);
	FUZZ_CHECK(bound.port == (uint16_t)(data[2] << 8 | data[3]));
	FUZZ_CHECK(memcmp(bound.u.ipv4, data + 4, 4) == 0);
	FUZZ_CHECK(socks4_reply_message(status) != NULL);
	(void)socks4_reply_errno(status);
	for (k = 0; k < SOCKS4_REPLY_LEN; k++)
		FUZZ_CHECK(
		    socks4_parse_reply(data, k, &need, &status, &bound) == 0 &&
		    need == SOCKS4_REPLY_LEN);
	return 0;
}
