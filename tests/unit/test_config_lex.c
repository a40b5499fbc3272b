/* test_config_lex.c — the config file's small pieces on their own: a line
 * into words, whole numbers, durations, and the error texts. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

static struct config cfg;
static struct config_parser ps = {.cfg = &cfg};
static char line[CONFIG_LINE_MAX];
static char *words[CONFIG_WORDS_MAX];

static int lex(const char *text)
{
	memset(ps.reason, 0, sizeof(ps.reason));
	return config_lex_words(&ps, text, strlen(text), line, words);
}

START_TEST(words_split_on_blanks)
{
	ck_assert_int_eq(lex(" proxy\tsocks5://h:1 \r pipeline \f"), 3);
	ck_assert_str_eq(words[0], "proxy");
	ck_assert_str_eq(words[1], "socks5://h:1");
	ck_assert_str_eq(words[2], "pipeline");
}
END_TEST

START_TEST(words_blank_and_comment_lines)
{
	ck_assert_int_eq(lex(""), 0);
	ck_assert_int_eq(lex(" \t\v "), 0);
	ck_assert_int_eq(lex("# a comment"), 0);
	ck_assert_int_eq(lex("   #indented"), 0);
	/* A word that starts with '#' ends the line; inside a word it is
	 * text. */
	ck_assert_int_eq(lex("udp block # why"), 2);
	ck_assert_int_eq(lex("a#b c"), 2);
	ck_assert_str_eq(words[0], "a#b");
}
END_TEST

START_TEST(words_only_up_to_len)
{
	static const char text[] = "udp block trailing";

	ck_assert_int_eq(config_lex_words(&ps, text, 9, line, words), 2);
	ck_assert_str_eq(words[1], "block");
}
END_TEST

START_TEST(words_limits)
{
	char *text = malloc(CONFIG_LINE_MAX + 1);

	ck_assert_int_eq(lex("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"),
			 CONFIG_WORDS_MAX);
	ck_assert_int_eq(lex("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"),
			 -EINVAL);
	ck_assert_str_eq(ps.reason, "too many values");

	ck_assert_ptr_nonnull(text);
	memset(text, 'x', CONFIG_LINE_MAX);
	text[CONFIG_LINE_MAX - 1] = '\0';
	ck_assert_int_eq(lex(text), 1); /* the longest line that fits */
	text[CONFIG_LINE_MAX - 1] = 'x';
	text[CONFIG_LINE_MAX] = '\0';
	ck_assert_int_eq(lex(text), -EINVAL);
	ck_assert_str_eq(ps.reason, "line longer than 4095 bytes");
	free(text);

	ck_assert_int_eq(config_lex_words(&ps, "a\0b", 3, line, words),
			 -EINVAL);
	ck_assert_str_eq(ps.reason, "NUL byte in line");
}
END_TEST

START_TEST(unsigned_numbers)
{
	unsigned long value = 7;

	ck_assert_int_eq(config_lex_unsigned("0", &value), 0);
	ck_assert_uint_eq(value, 0);
	ck_assert_int_eq(config_lex_unsigned("65536", &value), 0);
	ck_assert_uint_eq(value, 65536);
	ck_assert_int_eq(config_lex_unsigned("999999999", &value), 0);
	ck_assert_uint_eq(value, 999999999);
	value = 7;
	ck_assert_int_eq(config_lex_unsigned("1000000000", &value), -EINVAL);
	ck_assert_int_eq(config_lex_unsigned("", &value), -EINVAL);
	ck_assert_int_eq(config_lex_unsigned("-1", &value), -EINVAL);
	ck_assert_int_eq(config_lex_unsigned("+1", &value), -EINVAL);
	ck_assert_int_eq(config_lex_unsigned("12k", &value), -EINVAL);
	ck_assert_int_eq(config_lex_unsigned(" 12", &value), -EINVAL);
	ck_assert_uint_eq(value, 7); /* untouched on error */
}
END_TEST

static const struct duration_case {
	const char *text;
	int rc;
	unsigned ms;
} duration_cases[] = {
    {"10", 0, 10000},
    {"2.5", 0, 2500},
    {"2.5s", 0, 2500},
    {"0.001", 0, 1},
    {"0.0019", 0, 1}, /* digits beyond the millisecond are dropped */
    {"1.25", 0, 1250},
    {"500ms", 0, 500},
    {"1ms", 0, 1},
    {"3600", 0, 3600000},
    {"3600000ms", 0, 3600000},
    {"0", -EINVAL, 0},
    {"0ms", -EINVAL, 0},
    {"0.0001", -EINVAL, 0},
    {"3601", -EINVAL, 0},
    {"3600001ms", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"s", -EINVAL, 0},
    {".5", -EINVAL, 0},
    {"2.", -EINVAL, 0},
    {"2.5ms", -EINVAL, 0},
    {"2m", -EINVAL, 0},
    {"1234567890", -EINVAL, 0},
    {"-1", -EINVAL, 0},
};

START_TEST(durations)
{
	const struct duration_case *c = &duration_cases[_i];
	unsigned ms = 42;

	ck_assert_msg(config_lex_duration_ms(c->text, &ms) == c->rc, "'%s'",
		      c->text);
	ck_assert_msg(ms == (c->rc == 0 ? c->ms : 42), "'%s': %u", c->text, ms);
}
END_TEST

START_TEST(error_texts)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.valid = true;
	ck_assert_int_eq(config_reject(&ps, "bad %s %d", "thing", 3), -EINVAL);
	ck_assert_str_eq(ps.reason, "bad thing 3");
	ck_assert(cfg.valid); /* a rejected line alone decides nothing */
	ck_assert_int_eq(config_fail(&cfg, "%s:%u: %s", "f", 2u, ps.reason),
			 -EINVAL);
	ck_assert_str_eq(cfg.error, "f:2: bad thing 3");
	ck_assert(!cfg.valid);
}
END_TEST

static Suite *config_lex_suite(void)
{
	Suite *s = suite_create("config_lex");
	TCase *tc = tcase_create("config_lex");

	tcase_add_test(tc, words_split_on_blanks);
	tcase_add_test(tc, words_blank_and_comment_lines);
	tcase_add_test(tc, words_only_up_to_len);
	tcase_add_test(tc, words_limits);
	tcase_add_test(tc, unsigned_numbers);
	tcase_add_loop_test(tc, durations, 0,
			    sizeof(duration_cases) / sizeof(duration_cases[0]));
	tcase_add_test(tc, error_texts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(config_lex_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
