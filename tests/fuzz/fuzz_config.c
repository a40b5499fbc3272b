/* fuzz_config.c — the config file parser (config_file.c, config_lex.c,
 * config_keys.c, config_routes.c) on arbitrary text.
 *
 * Invariants: a file is accepted (valid) or refused with one line saying
 * "file:line: reason", never both; parsing is deterministic; a refused
 * file never echoes a password it holds in a proxy URL. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

/* How often needle occurs in text[0..len). */
static size_t occurrences(const char *text, size_t len, const char *needle)
{
	size_t n = 0, k = strlen(needle), i;

	for (i = 0; i + k <= len; i++)
		n += memcmp(text + i, needle, k) == 0;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg, again;
	const char *text = (const char *)data;
	int rc, rc2;

	config_defaults(&cfg);
	rc = config_parse(&cfg, text, size, "fuzz.conf");
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(cfg.valid);
	} else {
		FUZZ_CHECK(!cfg.valid);
		FUZZ_CHECK(strncmp(cfg.error, "fuzz.conf:", 10) == 0);
		FUZZ_CHECK(strlen(cfg.error) < sizeof(cfg.error));
		FUZZ_CHECK(!strchr(cfg.error, '\n'));
		/* The seeds' password: where it only ever stands as one (after
		 * a ':' and before an '@'), no error may show it. */
		if (occurrences(text, size, "S3cr3t") > 0 &&
		    occurrences(text, size, "S3cr3t") ==
			occurrences(text, size, ":S3cr3t@"))
			FUZZ_CHECK(!strstr(cfg.error, "S3cr3t"));
	}
	config_defaults(&again);
	rc2 = config_parse(&again, text, size, "fuzz.conf");
	FUZZ_CHECK(rc2 == rc);
	FUZZ_CHECK(rc == 0 || strcmp(cfg.error, again.error) == 0);
	if (rc == 0)
		(void)config_finish(&cfg);
	return 0;
}
