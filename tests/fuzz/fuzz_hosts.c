/* fuzz_hosts.c — hosts(5) text lookups on arbitrary text and names.
 *
 * Input: a family byte, the name up to the first newline, then the text.
 * Invariants: no more addresses than room; every one of the family asked
 * (IPv4 before IPv6 for AF_UNSPEC), none twice; the lookup agrees with
 * itself given more room, and with the name's trailing dot. */
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "hosts.h"

#define ROOM 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int families[3] = {AF_UNSPEC, AF_INET, AF_INET6};
	struct fuzz_input in = {data, size};
	struct endpoint out[ROOM], more[ROOM * 2], dotted[ROOM];
	char name[300];
	const uint8_t *nl;
	size_t name_len, n, n2, n3, i, j;
	int family = families[fuzz_byte(&in) % 3];

	nl = memchr(in.data, '\n', in.len);
	name_len = nl ? (size_t)(nl - in.data) : in.len;
	if (name_len >= sizeof(name) - 1 || memchr(in.data, 0, name_len))
		return 0;
	memcpy(name, in.data, name_len);
	name[name_len] = '\0';
	in.data += nl ? name_len + 1 : name_len;
	in.len -= nl ? name_len + 1 : name_len;

	n = hosts_lookup((const char *)in.data, in.len, name, family, out,
			 ROOM);
	FUZZ_CHECK(n <= ROOM);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(out[i].kind == ENDPOINT_IPV4 ||
			   out[i].kind == ENDPOINT_IPV6);
		FUZZ_CHECK(family != AF_INET || out[i].kind == ENDPOINT_IPV4);
		FUZZ_CHECK(family != AF_INET6 || out[i].kind == ENDPOINT_IPV6);
		FUZZ_CHECK(i == 0 || out[i - 1].kind <= out[i].kind);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(!endpoint_equal(&out[i], &out[j]));
	}
	n2 = hosts_lookup((const char *)in.data, in.len, name, family, more,
			  ROOM * 2);
	FUZZ_CHECK(n2 >= n && (n2 == n || n == ROOM));
	for (i = 0; i < n; i++)
		FUZZ_CHECK(endpoint_equal(&out[i], &more[i]));
	if (name_len > 0 && name[name_len - 1] != '.') {
		name[name_len] = '.';
		name[name_len + 1] = '\0';
		n3 = hosts_lookup((const char *)in.data, in.len, name, family,
				  dotted, ROOM);
		FUZZ_CHECK(n3 == n);
		for (i = 0; i < n; i++)
			FUZZ_CHECK(endpoint_equal(&out[i], &dotted[i]));
	}
	return 0;
}
