/* log.c — one line per event, formatted on the stack and written with one
 * write(2) through the table of libc calls that log_setup() was given.
 *
 * Thread safety: log_set_io() publishes the table of calls atomically, so it
 * may run at any time. log_setup() writes the level and the path; it is meant
 * to be called once, during initialisation, before other threads log (tests may
 * call it again while no other thread logs). Afterwards both are only read. The
 * level and the table are atomics so that a late reader never sees a torn
 * value. No lock, no malloc, no stdio stream: safe in signal handlers as far as
 * vsnprintf is (glibc's is, for the integer and string conversions we use). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sys_io.h"

/* Longest line written, newline included. Longer ones end in "...\n". */
#define LOG_LINE_MAX	512
#define LOG_PATH_MAX	4096
#define LOG_TRUNCATED	"...\n"
#define LOG_WRITE_TRIES 8

static _Atomic int log_level = LOG_ERROR;
/* The calls that reach the log's destination; NULL (lines dropped) until
 * log_set_io() names them. */
static const struct sys_io *_Atomic log_io;
static char log_path[LOG_PATH_MAX]; /* "" means fd 2 */
/* The file at log_path was refused (see log_open_file): fd 2 from then on,
 * and the warning that says so is written once. */
static _Atomic bool log_file_refused;

void log_set_io(const struct sys_io *io)
{
	atomic_store_explicit(&log_io, io, memory_order_release);
}

void log_setup(enum log_level level, const char *path)
{
	size_t len = path ? strlen(path) : 0;

	/* A path we cannot hold whole would name another file: use fd 2. */
	if (len >= sizeof(log_path))
		len = 0;
	/* /dev/stderr is a symbolic link (to /proc/self/fd/2), which the
	 * file rule refuses; it means fd 2, so say so directly. */
	if (path && strcmp(path, "/dev/stderr") == 0)
		len = 0;
	memcpy(log_path, path ? path : "", len);
	log_path[len] = '\0';
	atomic_store_explicit(&log_file_refused, false, memory_order_relaxed);
	atomic_store_explicit(&log_level, level, memory_order_release);
}

bool log_enabled(enum log_level level)
{
	int current = atomic_load_explicit(&log_level, memory_order_acquire);

	return level != LOG_NONE && (int)level <= current;
}

/* Replace every byte that is not printable ASCII in the message body with
 * '?', so that a name the program passed us (possibly hostile) can neither
 * split our line nor drive the terminal: C0 controls, DEL, and every byte
 * from 0x80 up (0x9b is the 8-bit CSI; C1 controls hide in UTF-8 too). The
 * test is by value, not isprint(), whose answer depends on the program's
 * locale. The length is kept, so truncation stays where it was. */
static void log_sanitise(char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f)
			text[i] = '?';
	}
}

/* Format "socksify[PID]: message\n" into line (LOG_LINE_MAX + 1 bytes).
 * Returns the number of bytes to write (at most LOG_LINE_MAX, always ending
 * in a newline). */
static size_t __attribute__((format(printf, 2, 0)))
log_format(char *line, const char *fmt, va_list ap)
{
	int head =
	    snprintf(line, LOG_LINE_MAX + 1, "socksify[%ld]: ", (long)getpid());
	int body;
	size_t len;

	if (head < 0)
		head = 0;
	body = vsnprintf(line + head, LOG_LINE_MAX + 1 - (size_t)head, fmt, ap);
	if (body < 0)
		body = 0;
	/* A message that ends in its own newline keeps just that one. */
	if (body > 0 && (size_t)head + (size_t)body <= LOG_LINE_MAX &&
	    line[head + body - 1] == '\n')
		body--;
	len = (size_t)head + (size_t)body;
	if (len + 1 > LOG_LINE_MAX) {
		len = LOG_LINE_MAX;
		log_sanitise(line + head, len - (size_t)head);
		memcpy(line + len - strlen(LOG_TRUNCATED), LOG_TRUNCATED,
		       strlen(LOG_TRUNCATED));
		return len;
	}
	log_sanitise(line + head, (size_t)body);
	line[len++] = '\n';
	return len;
}

/* Write the line to fd with one system call, retrying only EINTR. */
static void log_emit(const struct sys_io *io, int fd, const char *line,
		     size_t len)
{
	for (int i = 0; i < LOG_WRITE_TRIES; i++) {
		ssize_t n = io->write(fd, line, len);

		if (n >= 0 || errno != EINTR)
			return;
	}
}

/* Format a line of our own (see log_format). */
static size_t __attribute__((format(printf, 2, 3)))
log_line(char *line, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = log_format(line, fmt, ap);
	va_end(ap);
	return len;
}

/* Open the log file for one line: appending, never following a symbolic
 * link (it could name a file of someone else's choosing), never blocking
 * (a FIFO without a reader). Returns the descriptor; -1 when it cannot be
 * opened; -2 when it is refused, with *why set: a symbolic link, or a file
 * another user owns (character devices such as /dev/null excepted: they
 * are no one's log to spoil). */
static int log_open_file(const struct sys_io *io, const char **why)
{
	struct stat st;
	int fd = io->openat(AT_FDCWD, log_path,
			    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				O_NOCTTY | O_NOFOLLOW | O_NONBLOCK,
			    0600);

	if (fd < 0) {
		*why = "it is a symbolic link";
		return errno == ELOOP ? -2 : -1;
	}
	if (!io->fstat || io->fstat(fd, &st) < 0) {
		io->close(fd);
		return -1;
	}
	if (!S_ISCHR(st.st_mode) && st.st_uid != geteuid()) {
		io->close(fd);
		*why = "another user owns it";
		return -2;
	}
	return fd;
}

/* The log file was refused: say so on fd 2, once, and use fd 2 from now
 * on. */
static void log_refuse_file(const struct sys_io *io, const char *why)
{
	char line[LOG_LINE_MAX + 1];
	size_t len;

	if (atomic_exchange_explicit(&log_file_refused, true,
				     memory_order_relaxed))
		return;
	len = log_line(line, "not logging to %s: %s; logging to stderr",
		       log_path, why);
	log_emit(io, STDERR_FILENO, line, len);
}

/* Send the line to the configured destination. A file is opened for this
 * line only (see log.h); when it cannot be opened the line is dropped
 * rather than sent to a descriptor the program owns, and when it is
 * refused the line goes to fd 2. */
static void log_deliver(const char *line, size_t len)
{
	const struct sys_io *io =
	    atomic_load_explicit(&log_io, memory_order_acquire);
	const char *why = NULL;
	int fd;

	if (!io)
		return;
	if (log_path[0] != '\0' &&
	    !atomic_load_explicit(&log_file_refused, memory_order_relaxed)) {
		fd = log_open_file(io, &why);
		if (fd == -1)
			return;
		if (fd >= 0) {
			log_emit(io, fd, line, len);
			io->close(fd);
			return;
		}
		log_refuse_file(io, why);
	}
	log_emit(io, STDERR_FILENO, line, len);
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX + 1];
	int saved_errno;
	va_list ap;
	size_t len;

	if (!log_enabled(level))
		return;
	saved_errno = errno;
	va_start(ap, fmt);
	len = log_format(line, fmt, ap);
	va_end(ap);
	log_deliver(line, len);
	errno = saved_errno;
}
