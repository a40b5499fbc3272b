/* fuzz_fakedns.c — the fake-DNS map (fakedns.c): arbitrary names in, on a
 * small anonymous table per input.
 *
 * Input: names separated by newlines.
 * Invariants: a name is refused, or gets an index whose stored name is
 * the name normalised (ASCII lower case, one trailing dot dropped) and
 * looking that up gives the same index; one index never holds two
 * names, one name never gets two indices; the index's fake IPv4 and IPv6
 * addresses lead back to it and to the name; the count is the number of
 * distinct names; a full table refuses new names with ENOSPC only. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "fakedns.h"
#include "fuzz.h"
#include "netaddr.h"

#define CAPACITY 64
#define NAMES	 256

static struct netmask fake4, fake6;

/* The map's normal form of name[0..len) into out; returns its length. */
static size_t normalise(const char *name, size_t len, char *out)
{
	size_t i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[len] = '\0';
	return len;
}

static void check_index(struct fakedns *table, long index, const char *norm,
			size_t norm_len)
{
	struct endpoint ep, back;
	char stored[300];

	FUZZ_CHECK(index >= 0 && (uint32_t)index < fakedns_capacity(table));
	FUZZ_CHECK(fakedns_name(table, (uint32_t)index, stored,
				sizeof(stored)) == (long)norm_len);
	FUZZ_CHECK(strcmp(stored, norm) == 0);
	FUZZ_CHECK(fakedns_index_to_addr(&fake4, (uint32_t)index, &ep) == 0);
	FUZZ_CHECK(fakedns_addr_to_index(&fake4, &ep) == index);
	FUZZ_CHECK(fakedns_in_ranges(&fake4, &fake6, &ep));
	ep.port = 80;
	FUZZ_CHECK(fakedns_unfake(table, &fake4, &fake6, &ep, &back));
	FUZZ_CHECK(back.kind == ENDPOINT_NAME && back.port == 80);
	FUZZ_CHECK(strcmp(back.u.name, norm) == 0);
	FUZZ_CHECK(fakedns_index_to_addr(&fake6, (uint32_t)index, &ep) == 0);
	FUZZ_CHECK(fakedns_addr_to_index(&fake6, &ep) == index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char norms[NAMES][300];
	static long indices[NAMES];
	struct fakedns *table = NULL;
	const char *p = (const char *)data, *end = p + size, *nl;
	size_t count = 0, i, len, norm_len, distinct = 0;
	long index;
	bool known;

	if (!fake4.family) {
		netmask_parse(&fake4, "198.18.0.0/15");
		netmask_parse(&fake6, "fd00:5f5f::/96");
	}
	FUZZ_CHECK(fakedns_attach(NULL, &table, NULL, CAPACITY) == 0);
	while (p < end && count < NAMES) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		index = fakedns_lookup(table, p, len);
		if (index == -ENOSPC) {
			FUZZ_CHECK(fakedns_count(table) == CAPACITY);
		} else if (index >= 0) {
			FUZZ_CHECK(len <= 254);
			norm_len = normalise(p, len, norms[count]);
			check_index(table, index, norms[count], norm_len);
			FUZZ_CHECK(fakedns_lookup(table, norms[count],
						  norm_len) == index);
			known = false;
			for (i = 0; i < count; i++) {
				if (indices[i] < 0)
					continue;
				FUZZ_CHECK(
				    (indices[i] == index) ==
				    (strcmp(norms[i], norms[count]) == 0));
				known |= indices[i] == index;
			}
			distinct += !known;
			FUZZ_CHECK(fakedns_count(table) == distinct);
		} else {
			FUZZ_CHECK(index == -EINVAL || index == -ENAMETOOLONG);
		}
		indices[count++] = index;
		p += nl ? len + 1 : len;
	}
	/* Every name still gives what it gave. */
	for (i = 0; i < count; i++)
		if (indices[i] >= 0)
			FUZZ_CHECK(
			    fakedns_lookup(table, norms[i], strlen(norms[i])) ==
			    indices[i]);
	fakedns_detach(table);
	return 0;
}
