/* fuzz_socks5_udp.c — the RFC 1928 section 7 UDP header parser on
 * arbitrary datagrams.
 *
 * Invariants: the header is no longer than the datagram; its source is a
 * sane endpoint; building the header for that source gives back the
 * datagram's own header bytes (so the payload offset is right); a
 * datagram cut anywhere inside its header is refused. */
#include <errno.h>
#include <string.h>

#include "endpoint.h"
#include "fuzz.h"
#include "socks5_udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[SOCKS5_UDP_HEADER_MAX];
	struct endpoint src;
	size_t k;
	long r, n;

	memset(&src, 0, sizeof(src));
	r = socks5_udp_parse_header(data, size, &src);
	FUZZ_CHECK(r > 0 || r == -EPROTO || r == -EOPNOTSUPP);
	if (r == -EOPNOTSUPP)
		FUZZ_CHECK(size >= 3 && data[2] != 0);
	if (r < 0)
		return 0;
	FUZZ_CHECK((size_t)r <= size && r <= SOCKS5_UDP_HEADER_MAX);
	FUZZ_CHECK(src.kind == ENDPOINT_IPV4 || src.kind == ENDPOINT_IPV6 ||
		   src.kind == ENDPOINT_NAME);
	if (src.kind == ENDPOINT_NAME)
		FUZZ_CHECK(src.name_len > 0 &&
			   strlen(src.u.name) == src.name_len);
	FUZZ_CHECK(socks5_udp_header_len(&src) == r);
	n = socks5_udp_build_header(head, sizeof(head), &src);
	FUZZ_CHECK(n == r && memcmp(head, data, (size_t)n) == 0);
	for (k = 0; k < (size_t)r; k++)
		FUZZ_CHECK(socks5_udp_parse_header(data, k, &src) == -EPROTO);
	return 0;
}
