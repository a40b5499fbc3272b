/* config_internal.h — what the pieces of the configuration share; not for
 * use outside common/config*.c and their tests.
 *
 *   config.c       the public entry points: defaults, parse (line by line,
 *                  "file:line:" errors), finish (derived settings and
 *                  consistency), load (file, then environment)
 *   config_lex.c   the words of a line, numbers, durations, error texts
 *   config_keys.c  one parser per key, and the table from key to parser
 *   config_file.c  which file to read, and reading it
 */
#ifndef SOCKSIFY_CONFIG_INTERNAL_H
#define SOCKSIFY_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "sys_io.h"

/* Longest line, its newline not counted, plus one for the NUL. */
#define CONFIG_LINE_MAX 4096
/* Most words on one line: a key and its values. */
#define CONFIG_WORDS_MAX 16
/* Longest reason for a rejected line (without the "file:line: " prefix). */
#define CONFIG_REASON_MAX 256
/* Room for proxyurl_parse()'s reason why a URL is bad. */
#define CONFIG_WHY_MAX 160
/* Room for a value quoted in an error, its password hidden
 * (proxyurl_redact); the message cuts it shorter. */
#define CONFIG_SHOWN_MAX 128
/* Longest proxy URL a SOCKSIFY_PROXY_FILE may hold, plus the NUL: user and
 * password at most 255 bytes each, percent-encoded, and a host name. */
#define CONFIG_PROXY_URL_MAX 2048
/* Most digits in a number; nine always fit an unsigned long. */
#define CONFIG_DIGITS_MAX 9

#define CONFIG_MS_PER_SECOND 1000u
/* Durations: 1 ms to 1 hour. */
#define CONFIG_TIMEOUT_MIN_MS 1u
#define CONFIG_TIMEOUT_MAX_MS (3600u * CONFIG_MS_PER_SECOND)

/* A value quoted in an error, with any password in it hidden (a mistyped
 * line may hold "alice:S3cr3t@host"): a temporary buffer for one call.
 * (config_keys.c, config_routes.c) */
#define SHOWN(value)                                                           \
	proxyurl_redact((value), (char[CONFIG_SHOWN_MAX]){0}, CONFIG_SHOWN_MAX)

/* The state while parsing one text. */
struct config_parser {
	struct config *cfg;
	bool saw_proxy; /* the first proxy line replaces the default chain */
	unsigned line;	/* the line being parsed, from 1 */
	char reason[CONFIG_REASON_MAX];
};

/* ---- config_keys.c --------------------------------------------------- */

/* The words that may follow a proxy's URL, on a "proxy" line or for a hop
 * of a "chain" line: "pipeline", "gssapi", "gssapi-service=NAME",
 * "gssapi-protection=clear|integrity|confidentiality" (a gssapi-* word
 * turns GSS-API on by itself). Applies word to p. Returns 1 when word is
 * one of them, 0 when it is not (a URL, say), -EINVAL when it is a bad one
 * (the line rejected). */
int config_proxy_option(struct config_parser *ps, struct proxy *p,
			const char *word);

/* True when args[at] is an option already among args[first..at) (the
 * same word, or the same NAME= for a word with a value). */
bool config_proxy_option_repeated(char **args, unsigned first, unsigned at);

/* Refuse options p's type cannot have (GSS-API on anything but SOCKS5).
 * Returns 0 or -EINVAL (the line rejected). */
int config_proxy_options_check(struct config_parser *ps, const struct proxy *p);

/* ---- config_lex.c ---------------------------------------------------- */

/* Write the reason a line is rejected into ps->reason (the caller adds
 * "file:line: "). Returns -EINVAL. */
int config_reject(struct config_parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Mark cfg invalid with the formatted message as cfg->error. Returns
 * -EINVAL. */
int config_fail(struct config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copy text[0..len) (one line, no newline) into line[CONFIG_LINE_MAX] and
 * split it into words[CONFIG_WORDS_MAX] pointing into line; a word that
 * starts with '#' ends the line. Returns the word count (0 for a blank or
 * comment line), or -EINVAL with ps->reason for a line too long, a NUL
 * byte or too many words. line may hold a password: the caller clears it. */
int config_lex_words(struct config_parser *ps, const char *text, size_t len,
		     char *line, char **words);

/* A whole decimal number of 1..CONFIG_DIGITS_MAX digits and nothing else.
 * Returns 0 or -EINVAL. */
int config_lex_unsigned(const char *text, unsigned long *out);

/* A duration: "10", "2.5", "2.5s" (seconds) or "500ms". Returns 0 with *ms
 * set (CONFIG_TIMEOUT_MIN_MS .. CONFIG_TIMEOUT_MAX_MS), or -EINVAL. Digits
 * beyond the millisecond are dropped. */
int config_lex_duration_ms(const char *text, unsigned *ms);

/* ---- config_keys.c --------------------------------------------------- */

/* Apply one line's words: words[0] names the key, the rest are its values.
 * Returns 0 or -EINVAL with ps->reason (never quoting a password). */
int config_keys_apply(struct config_parser *ps, char **words, unsigned count);

/* A duration value for a key (config_lex_duration_ms), or the line
 * rejected. Returns 0 or -EINVAL. */
int config_parse_timeout(struct config_parser *ps, const char *text,
			 unsigned *out);

/* ---- config_routes.c: rules, chains, groups ---------------------------- */

/* "direct|block MATCH [port P|P-Q] [tcp|udp]" (args after the key); "direct
 * none" only drops the default loopback rules, as any direct line does.
 * Returns 0 or -EINVAL with ps->reason. */
int config_parse_rule(struct config_parser *ps, char **args, unsigned n,
		      enum rule_action action);

/* The keys "route", "chain", "group", "down_time", "race_delay". */
int config_key_route(struct config_parser *ps, char **args, unsigned n);
int config_key_chain(struct config_parser *ps, char **args, unsigned n);
int config_key_group(struct config_parser *ps, char **args, unsigned n);
int config_key_down_time(struct config_parser *ps, char **args, unsigned n);
int config_key_race_delay(struct config_parser *ps, char **args, unsigned n);

/* ---- config_file.c --------------------------------------------------- */

/* Find the file (config_find_file) and, when there is one, read and parse
 * it into cfg through io, recording its name in cfg->source and whether it
 * exposes a password. Returns 0 (also when there is no file) or -EINVAL
 * with cfg->error set. */
int config_file_load(struct config *cfg, const struct config_env *env,
		     const struct sys_io *io);

/* The proxy URL held in the file path (SOCKSIFY_PROXY_FILE): the file must
 * be a regular file owned by euid that no other user can read or write,
 * holding one line (a final newline and blanks around it are dropped).
 * Writes the URL into url[0..cap). Returns 0, or -EINVAL with cfg->error
 * set (the file's name and why, never its text). The caller clears url. */
int config_file_read_proxy(struct config *cfg, const char *path, unsigned euid,
			   const struct sys_io *io, char *url, size_t cap);

#endif
