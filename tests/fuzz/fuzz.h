/* fuzz.h — what every libFuzzer target in tests/fuzz/ shares: the entry
 * point's prototype, an invariant check that aborts (so libFuzzer saves
 * the input) with the broken rule named, and the refusal of a committed
 * seed folder as the first corpus directory.
 *
 * Running a target by hand: libFuzzer writes every new input it finds into
 * the FIRST directory it is given, so give a scratch directory first and
 * the committed seeds after it:
 *
 *     mkdir -p build/fuzz/corpus/NAME
 *     build/fuzz/fuzz_NAME build/fuzz/corpus/NAME tests/fuzz/NAME
 *
 * (`make fuzz` and `make check-fuzz` do exactly that). A target started
 * with tests/fuzz/NAME first refuses to run. To keep a found input as a
 * seed, copy that one file into tests/fuzz/NAME and commit it. */
#ifndef SOCKSIFY_FUZZ_H
#define SOCKSIFY_FUZZ_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Whether dir is a committed seed folder: tests/fuzz/NAME beside
 * tests/fuzz/fuzz_NAME.c and this header. NAME goes into name[cap]. */
static inline int fuzz_is_seed_folder(const char *dir, char *name_out,
				      size_t cap)
{
	char real[PATH_MAX], probe[PATH_MAX + 32];
	struct stat st;
	const char *name;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || !realpath(dir, real))
		return 0;
	name = strrchr(real, '/');
	if (!name || !name[1])
		return 0;
	snprintf(probe, sizeof probe, "%.*s/fuzz.h", (int)(name - real), real);
	if (access(probe, F_OK) != 0)
		return 0;
	snprintf(probe, sizeof probe, "%.*s/fuzz_%s.c", (int)(name - real),
		 real, name + 1);
	snprintf(name_out, cap, "%s", name + 1);
	return access(probe, F_OK) == 0;
}

/* libFuzzer calls this before it parses its arguments. Its first
 * argument that is not a flag is where it writes new inputs (and what
 * -merge=1 fills) when that is a directory: never the committed seeds. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char **args = *argv, name[NAME_MAX + 1];

	for (int i = 1; i < *argc; i++) {
		if (args[i][0] == '-')
			continue;
		if (!fuzz_is_seed_folder(args[i], name, sizeof name))
			return 0;
		fprintf(stderr,
			"%s: %s is a committed seed corpus, and libFuzzer "
			"writes new inputs into its first directory; give a "
			"scratch directory first:\n"
			"    mkdir -p build/fuzz/corpus/%s && %s "
			"build/fuzz/corpus/%s %s\n",
			args[0], args[i], name, args[0], name, args[i]);
		exit(2);
	}
	return 0;
}

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
