/* log.h — one line per event, written with one write(2) through a table of
 * libc calls the caller passes in (no stdio, no malloc, never one of our own
 * hooks), "socksify[PID]: " prefixed, errno preserved. The level is checked
 * before anything is formatted. */
#ifndef SOCKSIFY_LOG_H
#define SOCKSIFY_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "config.h"
#include "sys_io.h"

/* The calls lines are written with: write, and openat and close for a log
 * file (see sys_io.h). Until it is called, lines are dropped: common/ has no
 * write of its own to fall back on. The library calls it from its
 * constructor and again before it loads the configuration, so a hook can log
 * from its very first call. Safe to call at any time, from any thread. */
void log_set_io(const struct sys_io *io);

/* Set the level and the destination: path NULL (or "/dev/stderr") means
 * fd 2; otherwise the file is opened (O_APPEND|O_CREAT|O_CLOEXEC|O_NOFOLLOW,
 * 0600) for each line and closed again, so a program that closes or reuses
 * descriptors can never receive our lines; a line whose file cannot be
 * opened is dropped. A symbolic link, or a file another user owns (not a
 * character device), is refused: one warning, then every line, goes to
 * fd 2. The path is copied (a path of 4096 bytes or more means fd 2).
 * Call it during initialisation, before other threads log: it is not
 * synchronised with log_write(). Until it is called the level is
 * LOG_ERROR, to fd 2. */
void log_setup(enum log_level level, const char *path);

bool log_enabled(enum log_level level);

/* Write one line, "socksify[PID]: " + message + "\n", at most 512 bytes
 * (longer ones end in "...\n"). Every byte of the message that is not
 * printable ASCII (controls, DEL, 0x80 and up) becomes '?', so a hostile name
 * can neither forge lines nor drive a terminal. %m sees the caller's errno. */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The level is checked before the arguments are evaluated: a line that
 * will not be written costs no formatting (endpoint_format() and the like
 * in the arguments run only when the line is kept). Statements, not
 * expressions. */
#define log_at(level, ...)                                                     \
	do {                                                                   \
		if (log_enabled(level))                                        \
			log_write(level, __VA_ARGS__);                         \
	} while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
