/* test_log.c — levels, exact line format, truncation, destinations, errno. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libc_io.h"
#include "log.h"

#define LINE_MAX_BYTES 512

static char tmpdir[64];
static char logfile[128];
static char content[8192];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/log-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(logfile, sizeof(logfile), "%s/log", tmpdir);
	log_set_io(&libc_sys_io);
}

static void teardown(void)
{
	unlink(logfile);
	rmdir(tmpdir);
	log_setup(LOG_ERROR, NULL);
}

/* Read the whole log file into content; returns its length (0 when the
 * file does not exist). */
static size_t read_log(void)
{
	int fd = open(logfile, O_RDONLY);
	ssize_t n;

	memset(content, 0, sizeof(content));
	if (fd < 0)
		return 0;
	n = read(fd, content, sizeof(content) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	return (size_t)n;
}

/* "socksify[PID]: " for this process. */
static const char *prefix(void)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "socksify[%ld]: ", (long)getpid());
	return buf;
}

START_TEST(levels_filter)
{
	char want[512];

	log_setup(LOG_WARN, logfile);
	ck_assert(log_enabled(LOG_ERROR));
	ck_assert(log_enabled(LOG_WARN));
	ck_assert(!log_enabled(LOG_INFO));
	ck_assert(!log_enabled(LOG_DEBUG));
	ck_assert(!log_enabled(LOG_NONE));
	log_error("one %d", 1);
	log_warn("two %s", "2");
	log_info("three");
	log_debug("four");
	snprintf(want, sizeof(want), "%sone 1\n%stwo 2\n", prefix(), prefix());
	read_log();
	ck_assert_str_eq(content, want);
}
END_TEST

START_TEST(level_none_is_silent)
{
	log_setup(LOG_NONE, logfile);
	ck_assert(!log_enabled(LOG_ERROR));
	log_error("nothing");
	ck_assert_int_eq(read_log(), 0);
	ck_assert_int_eq(access(logfile, F_OK), -1);
}
END_TEST

START_TEST(debug_shows_everything)
{
	log_setup(LOG_DEBUG, logfile);
	ck_assert(log_enabled(LOG_DEBUG));
	log_debug("d");
	log_info("i");
	read_log();
	ck_assert_ptr_nonnull(strstr(content, "]: d\n"));
	ck_assert_ptr_nonnull(strstr(content, "]: i\n"));
}
END_TEST

START_TEST(file_is_private_and_not_kept_open)
{
	struct stat st;
	int before, after;

	log_setup(LOG_INFO, logfile);
	before = open("/dev/null", O_RDONLY);
	close(before);
	log_info("x");
	after = open("/dev/null", O_RDONLY);
	close(after);
	ck_assert_int_eq(before, after);
	ck_assert_int_eq(stat(logfile, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
}
END_TEST

START_TEST(long_message_truncated)
{
	char big[2000];
	size_t n, plen = strlen(prefix());

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_setup(LOG_INFO, logfile);
	log_info("%s", big);
	log_info("after");
	n = read_log();
	ck_assert_int_gt(n, LINE_MAX_BYTES);
	ck_assert_mem_eq(content, prefix(), plen);
	ck_assert_mem_eq(content + LINE_MAX_BYTES - 4, "...\n", 4);
	ck_assert_int_eq(content[LINE_MAX_BYTES - 5], 'x');
	ck_assert_ptr_null(memchr(content, '\n', LINE_MAX_BYTES - 1));
	ck_assert_mem_eq(content + LINE_MAX_BYTES, prefix(), plen);
	ck_assert_str_eq(content + LINE_MAX_BYTES + plen, "after\n");
}
END_TEST

/* A message exactly filling the line fits without the marker. */
START_TEST(message_at_limit_not_truncated)
{
	char body[LINE_MAX_BYTES];
	size_t len = LINE_MAX_BYTES - 1 - strlen(prefix());

	memset(body, 'y', len);
	body[len] = '\0';
	log_setup(LOG_INFO, logfile);
	log_info("%s", body);
	ck_assert_int_eq(read_log(), LINE_MAX_BYTES);
	ck_assert_int_eq(content[LINE_MAX_BYTES - 2], 'y');
	ck_assert_int_eq(content[LINE_MAX_BYTES - 1], '\n');
	ck_assert_ptr_null(strstr(content, "..."));
}
END_TEST

START_TEST(newlines_and_controls)
{
	char want[256];

	log_setup(LOG_INFO, logfile);
	log_info("ends in newline\n");
	log_info("evil\nname\x1b[31m");
	snprintf(want, sizeof(want), "%sends in newline\n%sevil?name?[31m\n",
		 prefix(), prefix());
	read_log();
	ck_assert_str_eq(content, want);
}
END_TEST

/* Bytes from 0x80 up are not printable either: 0x9b is the 8-bit CSI that
 * many terminals obey like ESC [, and a lone UTF-8 byte proves nothing. */
START_TEST(eight_bit_bytes_escaped)
{
	char want[256];

	log_setup(LOG_INFO, logfile);
	log_info("csi\x9b"
		 "31mred \x80\xc3\xa9\xff end");
	snprintf(want, sizeof(want), "%scsi?31mred ???? end\n", prefix());
	read_log();
	ck_assert_str_eq(content, want);
}
END_TEST

START_TEST(errno_preserved)
{
	log_setup(LOG_INFO, logfile);
	errno = EDOM;
	log_info("ok");
	ck_assert_int_eq(errno, EDOM);
	errno = ERANGE;
	log_debug("filtered");
	ck_assert_int_eq(errno, ERANGE);
	/* Even when the file cannot be opened. */
	log_setup(LOG_INFO, "/nonexistent-dir/log");
	errno = EILSEQ;
	log_error("lost");
	ck_assert_int_eq(errno, EILSEQ);
}
END_TEST

START_TEST(percent_m_sees_callers_errno)
{
	char want[256];

	log_setup(LOG_INFO, logfile);
	errno = ENOENT;
	log_info("open: %m");
	snprintf(want, sizeof(want), "%sopen: %s\n", prefix(),
		 strerror(ENOENT));
	read_log();
	ck_assert_str_eq(content, want);
}
END_TEST

START_TEST(stderr_destination)
{
	int saved = dup(2);
	int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char want[128];

	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	log_setup(LOG_ERROR, NULL);
	log_error("to stderr");
	dup2(saved, 2);
	close(saved);
	snprintf(want, sizeof(want), "%sto stderr\n", prefix());
	read_log();
	ck_assert_str_eq(content, want);
}
END_TEST

/* A path too long to hold is not truncated into another file's name. */
START_TEST(overlong_path_uses_stderr)
{
	char path[5000];
	int saved = dup(2);
	int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
	log_setup(LOG_ERROR, path);
	log_error("fallback");
	dup2(saved, 2);
	close(saved);
	read_log();
	ck_assert_ptr_nonnull(strstr(content, "]: fallback\n"));
}
END_TEST

/* Run log lines with fd 2 sent to the file errfile; returns what reached
 * it (in content). */
static char errfile[160];

static void stderr_to_file(int *saved)
{
	int fd;

	snprintf(errfile, sizeof(errfile), "%s/stderr", tmpdir);
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	*saved = dup(2);
	ck_assert_int_ge(*saved, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 2), 2);
	close(fd);
}

static size_t stderr_back(int saved)
{
	int fd;
	ssize_t n;

	dup2(saved, 2);
	close(saved);
	memset(content, 0, sizeof(content));
	fd = open(errfile, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, content, sizeof(content) - 1);
	close(fd);
	unlink(errfile);
	ck_assert_int_ge(n, 0);
	return (size_t)n;
}

/* How many times needle occurs in content. */
static int count_in_content(const char *needle)
{
	int n = 0;

	for (const char *p = content; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* A symbolic link as the log file is refused (it may point at a file of
 * someone else's choosing): the lines go to stderr, with one warning. */
START_TEST(symlink_log_file_refused)
{
	char target[160], link[160];
	int saved, fd;

	snprintf(target, sizeof(target), "%s/target", tmpdir);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(symlink(target, link), 0);
	stderr_to_file(&saved);
	log_setup(LOG_INFO, link);
	log_info("first");
	log_info("second");
	stderr_back(saved);
	ck_assert_int_eq(file_size(target), 0);
	ck_assert_int_eq(count_in_content("symbolic link"), 1);
	ck_assert_int_eq(count_in_content("]: first\n"), 1);
	ck_assert_int_eq(count_in_content("]: second\n"), 1);
	/* A dangling link is not followed to create its target either. */
	unlink(target);
	stderr_to_file(&saved);
	log_setup(LOG_INFO, link);
	log_info("third");
	stderr_back(saved);
	ck_assert_int_eq(access(target, F_OK), -1);
	ck_assert_int_eq(count_in_content("]: third\n"), 1);
	unlink(link);
}
END_TEST

/* A file another user owns is refused, even for root (a user's file is
 * not ours to append to): lines go to stderr, with one warning. */
START_TEST(foreign_log_file_refused)
{
	char foreign[160];
	int saved, fd;

	snprintf(foreign, sizeof(foreign), "%s/foreign", tmpdir);
	fd = open(foreign, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	ck_assert_int_ge(fd, 0);
	close(fd);
	if (geteuid() != 0) {
		unlink(foreign);
		return; /* only root can give a file away */
	}
	ck_assert_int_eq(chown(foreign, 65534, 65534), 0);
	ck_assert_int_eq(chmod(foreign, 0666), 0);
	stderr_to_file(&saved);
	log_setup(LOG_INFO, foreign);
	log_info("not there");
	log_info("nor there");
	stderr_back(saved);
	ck_assert_int_eq(file_size(foreign), 0);
	ck_assert_int_eq(count_in_content("another user"), 1);
	ck_assert_int_eq(count_in_content("]: not there\n"), 1);
	ck_assert_int_eq(count_in_content("]: nor there\n"), 1);
	/* Our own file in the same place is used. */
	ck_assert_int_eq(chown(foreign, geteuid(), getegid()), 0);
	stderr_to_file(&saved);
	log_setup(LOG_INFO, foreign);
	log_info("ours");
	ck_assert_uint_eq(stderr_back(saved), 0);
	ck_assert_int_gt(file_size(foreign), 0);
	unlink(foreign);
}
END_TEST

/* Character devices are no one's log file to steal: /dev/null (owned by
 * root) takes the lines quietly, and /dev/stderr (a symbolic link) means
 * fd 2. */
START_TEST(character_devices_allowed)
{
	int saved;

	stderr_to_file(&saved);
	log_setup(LOG_INFO, "/dev/null");
	log_info("into the void");
	ck_assert_uint_eq(stderr_back(saved), 0);
	stderr_to_file(&saved);
	log_setup(LOG_INFO, "/dev/stderr");
	log_info("plain stderr");
	stderr_back(saved);
	ck_assert_int_eq(count_in_content("]: plain stderr\n"), 1);
	ck_assert_int_eq(count_in_content("refus"), 0);
}
END_TEST

/* A table that records what the log asks of it and writes nothing. */
static int counted_writes, counted_fd;
static char counted_line[LINE_MAX_BYTES + 1];

static ssize_t counting_write(int fd, const void *buf, size_t len)
{
	counted_writes++;
	counted_fd = fd;
	if (len > LINE_MAX_BYTES)
		len = LINE_MAX_BYTES;
	memcpy(counted_line, buf, len);
	counted_line[len] = '\0';
	return (ssize_t)len;
}

static const struct sys_io counting_io = {
    .write = counting_write,
};

/* Every line goes through the table the log was given: one write per line,
 * to fd 2 when no file is set. */
START_TEST(lines_go_through_the_table)
{
	char want[128];

	counted_writes = 0;
	log_set_io(&counting_io);
	log_setup(LOG_ERROR, NULL);
	log_error("via %s", "table");
	ck_assert_int_eq(counted_writes, 1);
	ck_assert_int_eq(counted_fd, 2);
	snprintf(want, sizeof(want), "%svia table\n", prefix());
	ck_assert_str_eq(counted_line, want);
}
END_TEST

/* Without a table there is nothing to write with: the line is dropped and
 * errno is untouched. */
START_TEST(no_table_drops_lines)
{
	log_set_io(NULL);
	log_setup(LOG_DEBUG, logfile);
	errno = EDOM;
	log_error("dropped");
	ck_assert_int_eq(errno, EDOM);
	ck_assert_uint_eq(read_log(), 0);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, levels_filter);
	tcase_add_test(tc, level_none_is_silent);
	tcase_add_test(tc, debug_shows_everything);
	tcase_add_test(tc, file_is_private_and_not_kept_open);
	tcase_add_test(tc, long_message_truncated);
	tcase_add_test(tc, message_at_limit_not_truncated);
	tcase_add_test(tc, newlines_and_controls);
	tcase_add_test(tc, eight_bit_bytes_escaped);
	tcase_add_test(tc, errno_preserved);
	tcase_add_test(tc, percent_m_sees_callers_errno);
	tcase_add_test(tc, stderr_destination);
	tcase_add_test(tc, overlong_path_uses_stderr);
	tcase_add_test(tc, symlink_log_file_refused);
	tcase_add_test(tc, foreign_log_file_refused);
	tcase_add_test(tc, character_devices_allowed);
	tcase_add_test(tc, lines_go_through_the_table);
	tcase_add_test(tc, no_table_drops_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(log_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
