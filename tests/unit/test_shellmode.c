/* test_shellmode.c — the shell code of `--shell on|off` and the verdict of
 * `show` (tools/shellmode.c): LD_PRELOAD keeps the other objects (space or
 * colon separated) and holds the library once, values are single-quoted,
 * off unsets only the variables on listed, a password is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shellmode.h"

#define LIB "/opt/s/libsocksify.so"

static char *text;
static size_t text_len;

/* Run fn into text; returns its status. */
static int capture(int (*fn)(FILE *, const char *, const char *),
		   const char *library, const char *hex)
{
	FILE *out;
	int rc;

	free(text);
	text = NULL;
	out = open_memstream(&text, &text_len);
	ck_assert_ptr_nonnull(out);
	rc = fn(out, library, hex);
	fclose(out);
	return rc;
}

static int on(FILE *out, const char *library, const char *hex)
{
	return shellmode_on(out, library, hex);
}

static int off(FILE *out, const char *library, const char *hex)
{
	(void)library;
	(void)hex;
	return shellmode_off(out);
}

static int show(FILE *out, const char *library, const char *hex)
{
	(void)library;
	(void)hex;
	return shellmode_show(out);
}

static void has(const char *needle)
{
	ck_assert_msg(strstr(text, needle), "'%s' not in:\n%s", needle, text);
}

static void clear_env(void)
{
	static const char *const names[] = {
	    "LD_PRELOAD",	   "SOCKSIFY_PROXY",	  "SOCKSIFY_PROXY_FILE",
	    "SOCKSIFY_CONF",	   "SOCKSIFY_LOG",	  "SOCKSIFY_LOG_FILE",
	    "SOCKSIFY_PIPELINE",   "SOCKSIFY_SUPERVISOR", "SOCKSIFY_SHELL",
	    "SOCKSIFY_SHELL_VARS", "SOCKSIFY_SESSION",
	};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		unsetenv(names[i]);
}

START_TEST(on_keeps_other_preloads_once)
{
	clear_env();
	setenv("LD_PRELOAD", "/a.so:" LIB "  /b.so", 1);
	ck_assert_int_eq(capture(on, LIB, "00ff"), 0);
	has("LD_PRELOAD='" LIB "'' /a.so /b.so'; export LD_PRELOAD\n");
	has("SOCKSIFY_SESSION=\"$$-00ff\"; export SOCKSIFY_SESSION\n");
	has("SOCKSIFY_SHELL='" LIB "'; export SOCKSIFY_SHELL\n");
	has("SOCKSIFY_SHELL_VARS=''; export SOCKSIFY_SHELL_VARS\n");
}
END_TEST

START_TEST(on_quotes_values)
{
	clear_env();
	setenv("SOCKSIFY_CONF", "/tmp/it's $HOME.conf", 1);
	setenv("SOCKSIFY_LOG", "info", 1);
	ck_assert_int_eq(capture(on, LIB, "01"), 0);
	has("LD_PRELOAD='" LIB "'; export LD_PRELOAD\n");
	has("SOCKSIFY_CONF='/tmp/it'\\''s $HOME.conf'; export SOCKSIFY_CONF\n");
	has("SOCKSIFY_SHELL_VARS='SOCKSIFY_CONF SOCKSIFY_LOG';");
}
END_TEST

START_TEST(on_refuses_password_and_bad_path)
{
	clear_env();
	setenv("SOCKSIFY_PROXY", "socks5h://alice:secret@127.0.0.1:1080", 1);
	ck_assert_int_eq(capture(on, LIB, "01"), 1);
	ck_assert_str_eq(text, "");
	setenv("SOCKSIFY_PROXY", "socks5h://alice@127.0.0.1:1080", 1);
	ck_assert_int_eq(capture(on, LIB, "01"), 0);
	has("SOCKSIFY_PROXY='socks5h://alice@127.0.0.1:1080'");
	ck_assert_int_eq(capture(on, "/my dir/libsocksify.so", "01"), 1);
	ck_assert_str_eq(text, "");
}
END_TEST

START_TEST(off_undoes_on)
{
	clear_env();
	setenv("SOCKSIFY_SHELL", LIB, 1);
	setenv("SOCKSIFY_SHELL_VARS", "SOCKSIFY_CONF HOME SOCKSIFY_LOG", 1);
	setenv("LD_PRELOAD", LIB " /a.so", 1);
	ck_assert_int_eq(capture(off, NULL, NULL), 0);
	ck_assert_str_eq(text, "LD_PRELOAD='/a.so'; export LD_PRELOAD\n"
			       "unset SOCKSIFY_CONF\n"
			       "unset SOCKSIFY_LOG\n"
			       "unset SOCKSIFY_SESSION SOCKSIFY_SHELL "
			       "SOCKSIFY_SHELL_VARS\n");
	setenv("LD_PRELOAD", LIB, 1);
	unsetenv("SOCKSIFY_SHELL_VARS");
	ck_assert_int_eq(capture(off, NULL, NULL), 0);
	ck_assert_str_eq(text, "unset LD_PRELOAD\n"
			       "unset SOCKSIFY_SESSION SOCKSIFY_SHELL "
			       "SOCKSIFY_SHELL_VARS\n");
}
END_TEST

START_TEST(show_on_and_off)
{
	clear_env();
	ck_assert_int_eq(capture(show, NULL, NULL), 1);
	has("off");
	setenv("SOCKSIFY_SHELL", LIB, 1);
	setenv("LD_PRELOAD", "/a.so", 1);
	ck_assert_int_eq(capture(show, NULL, NULL), 1);
	setenv("LD_PRELOAD", "/a.so:" LIB, 1);
	setenv("SOCKSIFY_SESSION", "42-00", 1);
	setenv("SOCKSIFY_PROXY", "socks5h://bob:pw@proxy.example", 1);
	ck_assert_int_eq(capture(show, NULL, NULL), 0);
	has("on in this shell (session 42-00)");
	has("proxy: socks5h://bob@proxy.example:1080\n");
	ck_assert_ptr_null(strstr(text, "pw"));
	/* A shell that `socksify bash` started: on, without shell mode. */
	unsetenv("SOCKSIFY_SHELL");
	unsetenv("SOCKSIFY_PROXY");
	ck_assert_int_eq(capture(show, NULL, NULL), 0);
	has("on: this shell runs under socksify (session 42-00)");
	has("library: " LIB "\n");
	setenv("LD_PRELOAD", "/x/notlibsocksify.so /y.so", 1);
	ck_assert_int_eq(capture(show, NULL, NULL), 1);
}
END_TEST

static Suite *shellmode_suite(void)
{
	Suite *s = suite_create("shellmode");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, on_keeps_other_preloads_once);
	tcase_add_test(tc, on_quotes_values);
	tcase_add_test(tc, on_refuses_password_and_bad_path);
	tcase_add_test(tc, off_undoes_on);
	tcase_add_test(tc, show_on_and_off);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(shellmode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(text);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
