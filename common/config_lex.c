/* config_lex.c — the small pieces of the config file's syntax: one line
 * into words, whole numbers, durations, and the texts of errors.
 *
 * File format: one setting per line, "key value...", words separated by
 * blanks; a word that starts with '#' begins a comment. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define CONFIG_BLANKS  " \t\r\v\f"
#define CONFIG_DIGITS  "0123456789"
#define CONFIG_DECIMAL 10

int config_reject(struct config_parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int config_fail(struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof(cfg->error), fmt, ap);
	va_end(ap);
	cfg->valid = false;
	return -EINVAL;
}

/* Split line (modified in place) into words; a word starting with '#' ends
 * the line. Returns the word count, or -E2BIG for too many words. */
static int config_lex_split(char *line, char **words)
{
	int count = 0;
	char *p = line;

	for (;;) {
		p += strspn(p, CONFIG_BLANKS);
		if (*p == '\0' || *p == '#')
			return count;
		if (count == CONFIG_WORDS_MAX)
			return -E2BIG;
		words[count++] = p;
		p += strcspn(p, CONFIG_BLANKS);
		if (*p != '\0')
			*p++ = '\0';
	}
}

int config_lex_words(struct config_parser *ps, const char *text, size_t len,
		     char *line, char **words)
{
	int count;

	if (len >= CONFIG_LINE_MAX)
		return config_reject(ps, "line longer than %d bytes",
				     CONFIG_LINE_MAX - 1);
	if (memchr(text, '\0', len))
		return config_reject(ps, "NUL byte in line");
	memcpy(line, text, len);
	line[len] = '\0';
	count = config_lex_split(line, words);
	if (count < 0)
		return config_reject(ps, "too many values");
	return count;
}

int config_lex_unsigned(const char *text, unsigned long *out)
{
	size_t digits = strspn(text, CONFIG_DIGITS);

	if (digits == 0 || digits > CONFIG_DIGITS_MAX || text[digits] != '\0')
		return -EINVAL;
	*out = strtoul(text, NULL, CONFIG_DECIMAL);
	return 0;
}

/* Milliseconds from the fraction after '.' in "2.5" (digits beyond the
 * millisecond are dropped). Sets *end past the digits. Returns 0 or
 * -EINVAL when there is no digit. */
static int config_lex_fraction_ms(const char *text, unsigned long *ms,
				  const char **end)
{
	size_t digits = strspn(text, CONFIG_DIGITS);
	unsigned long scale = CONFIG_MS_PER_SECOND / CONFIG_DECIMAL;
	size_t i;

	if (digits == 0)
		return -EINVAL;
	*ms = 0;
	for (i = 0; i < digits && scale > 0; i++, scale /= CONFIG_DECIMAL)
		*ms += (unsigned long)(text[i] - '0') * scale;
	*end = text + digits;
	return 0;
}

int config_lex_duration_ms(const char *text, unsigned *ms)
{
	size_t digits = strspn(text, CONFIG_DIGITS);
	const char *rest = text + digits;
	unsigned long whole, fraction = 0;

	if (digits == 0 || digits > CONFIG_DIGITS_MAX)
		return -EINVAL;
	whole = strtoul(text, NULL, CONFIG_DECIMAL);
	if (strcmp(rest, "ms") != 0) {
		if (*rest == '.' &&
		    config_lex_fraction_ms(rest + 1, &fraction, &rest) < 0)
			return -EINVAL;
		if (*rest != '\0' && strcmp(rest, "s") != 0)
			return -EINVAL;
		whole = whole * CONFIG_MS_PER_SECOND + fraction;
	}
	if (whole < CONFIG_TIMEOUT_MIN_MS || whole > CONFIG_TIMEOUT_MAX_MS)
		return -EINVAL;
	*ms = (unsigned)whole;
	return 0;
}
