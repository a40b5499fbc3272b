/* fuzz.h — what every libFuzzer target in tests/fuzz/ shares: the entry
 * point's prototype and an invariant check that aborts (so libFuzzer saves
 * the input) with the broken rule named. */
#ifndef SOCKSIFY_FUZZ_H
#define SOCKSIFY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input split into a few fuzzer-chosen control bytes and the rest. */
struct fuzz_input {
	const uint8_t *data;
	size_t len;
};

/* The next control byte (0 once the input is used up). */
static inline uint8_t fuzz_byte(struct fuzz_input *in)
{
	uint8_t b;

	if (in->len == 0)
		return 0;
	b = in->data[0];
	in->data++;
	in->len--;
	return b;
}

#endif
