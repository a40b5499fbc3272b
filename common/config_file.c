/* config_file.c — which configuration file to read, and reading it.
 *
 * The search order is SOCKSIFY_CONF (or -f), then the per-user file under
 * $XDG_CONFIG_HOME or ~/.config, then the system-wide file. The file is read
 * whole through the sys_io table the caller passes in, never through our
 * own hooks; its text, which may hold passwords, is cleared before it is
 * freed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"

#define CONFIG_SYSTEM_FILE "/etc/socksify.conf"
/* Under $XDG_CONFIG_HOME, or ~/.config. */
#define CONFIG_USER_FILE "/socksify/socksify.conf"
/* A longer file is refused (EFBIG). */
#define CONFIG_FILE_MAX (256 * 1024)

/* Copy a path made of a and b into buf. Returns 0 or -ENAMETOOLONG. */
static int path_join(char *buf, size_t cap, const char *a, const char *b)
{
	int n = snprintf(buf, cap, "%s%s", a, b);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* Whether a path should be read: it exists, or it cannot be examined for a
 * reason other than absence (then reading it reports that reason). */
static bool path_present(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return true;
	return errno != ENOENT && errno != ENOTDIR;
}

/* The per-user file: $XDG_CONFIG_HOME (absolute, as the XDG specification
 * requires) or ~/.config. Returns 1 when present, else 0 or -errno. */
static int find_user_file(const struct config_env *env, char *buf, size_t cap)
{
	const char *xdg = env->xdg_config_home;
	int rc;

	if (xdg && xdg[0] == '/')
		rc = path_join(buf, cap, xdg, CONFIG_USER_FILE);
	else if (env->home && env->home[0])
		rc =
		    path_join(buf, cap, env->home, "/.config" CONFIG_USER_FILE);
	else
		return 0;
	if (rc < 0)
		return rc;
	return path_present(buf) ? 1 : 0;
}

int config_find_file(const struct config_env *env, char *buf, size_t cap)
{
	const char *sys =
	    env->system_conf ? env->system_conf : CONFIG_SYSTEM_FILE;
	int saved_errno = errno;
	int rc;

	if (env->conf_file && env->conf_file[0]) {
		rc = path_join(buf, cap, env->conf_file, "");
		if (rc == 0)
			rc = path_present(buf) ? 1 : -ENOENT;
	} else {
		rc = find_user_file(env, buf, cap);
		if (rc == 0 && sys[0]) {
			rc = path_join(buf, cap, sys, "");
			if (rc == 0)
				rc = path_present(buf) ? 1 : 0;
		}
	}
	if (rc <= 0 && cap > 0 && rc != -ENOENT)
		buf[0] = '\0';
	errno = saved_errno;
	return rc;
}

/* Read all of fd into a new buffer (caller frees). Returns the length, or
 * -errno (-EFBIG beyond CONFIG_FILE_MAX). */
static long read_all(const struct sys_io *io, int fd, char **out)
{
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	size_t len = 0;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = io->read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || len + (size_t)n > CONFIG_FILE_MAX) {
			long err = n < 0 ? -errno : -EFBIG;

			explicit_bzero(buf, len);
			free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = buf;
	return (long)len;
}

/* A password is in the file's proxies and its mode lets others read it. */
static bool secret_exposed(const struct config *cfg, mode_t mode)
{
	unsigned i;

	if (!(mode & (S_IRGRP | S_IROTH)))
		return false;
	for (i = 0; i < cfg->proxy_count; i++)
		if (cfg->proxies[i].password_len > 0)
			return true;
	return false;
}

/* Whether reading a file failed for want of a descriptor or memory only,
 * which later may be free again. */
static bool read_error_transient(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM;
}

/* Mark cfg invalid because what (a label and a path) could not be read:
 * err. Returns -EINVAL. */
static int read_failed(struct config *cfg, const char *what, const char *path,
		       int err)
{
	int rc = config_fail(cfg, "%s%s: cannot read: %s", what, path,
			     strerror(err));

	cfg->error_transient = read_error_transient(err);
	return rc;
}

/* Read and parse path. Returns 0 or -EINVAL with cfg->error set. */
static int load_file(struct config *cfg, const char *path,
		     const struct sys_io *io)
{
	struct stat st;
	char *text = NULL;
	long len;
	int fd, rc;

	fd = io->openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return read_failed(cfg, "", path, errno);
	if (io->fstat(fd, &st) < 0)
		len = -errno;
	else if (S_ISDIR(st.st_mode))
		len = -EISDIR;
	else
		len = read_all(io, fd, &text);
	io->close(fd);
	if (len < 0)
		return read_failed(cfg, "", path, (int)-len);
	rc = config_parse(cfg, text, (size_t)len, path);
	if (rc == 0)
		cfg->world_readable_secret = secret_exposed(cfg, st.st_mode);
	explicit_bzero(text, (size_t)len);
	free(text);
	return rc;
}

/* Copy src into dst[0..cap), truncating; dst is always NUL-terminated. */
static void copy_truncated(char *dst, size_t cap, const char *src)
{
	size_t len = strnlen(src, cap - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

int config_file_load(struct config *cfg, const struct config_env *env,
		     const struct sys_io *io)
{
	char path[PATH_MAX];
	int rc = config_find_file(env, path, sizeof(path));

	if (rc == -ENOENT)
		return config_fail(cfg, "%s: cannot read: %s", path,
				   strerror(ENOENT));
	if (rc < 0)
		return config_fail(cfg, "configuration file path too long");
	if (rc == 0)
		return 0;
	copy_truncated(cfg->source, sizeof(cfg->source), path);
	return load_file(cfg, path, io);
}

/* Why the proxy file's status makes it unsafe to trust, or NULL. */
static const char *proxy_file_unsafe(const struct stat *st, unsigned euid)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != euid)
		return "owned by another user";
	if (st->st_mode & (S_IRWXG | S_IRWXO))
		return "other users can read or write it (chmod 600 it)";
	return NULL;
}

/* Cut the blanks and line ends around text[0..len). Returns the length
 * left; *start gets the first byte kept. */
static size_t trim_blanks(char *text, size_t len, char **start)
{
	static const char blanks[] = " \t\r\n";

	while (len > 0 && memchr(blanks, text[len - 1], sizeof(blanks) - 1))
		len--;
	*start = text;
	while (len > 0 && memchr(blanks, **start, sizeof(blanks) - 1)) {
		(*start)++;
		len--;
	}
	return len;
}

/* Read the open proxy file fd into url[0..cap). Returns NULL, or why not
 * (*err set when reading failed). */
static const char *proxy_file_text(const struct sys_io *io, int fd, char *url,
				   size_t cap, int *err)
{
	char *text = NULL, *start;
	long len = read_all(io, fd, &text);
	const char *why = NULL;
	size_t kept;

	if (len < 0) {
		*err = (int)-len;
		return strerror(*err);
	}
	kept = trim_blanks(text, (size_t)len, &start);
	if (kept == 0)
		why = "empty";
	else if (memchr(start, '\n', kept) || memchr(start, '\0', kept))
		why = "expected one line: the proxy URL";
	else if (kept >= cap)
		why = "URL too long";
	else {
		memcpy(url, start, kept);
		url[kept] = '\0';
	}
	explicit_bzero(text, (size_t)len);
	free(text);
	return why;
}

int config_file_read_proxy(struct config *cfg, const char *path, unsigned euid,
			   const struct sys_io *io, char *url, size_t cap)
{
	struct stat st;
	const char *why;
	int fd, err = 0, rc;

	fd = io->openat(AT_FDCWD, path,
			O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return read_failed(cfg, "SOCKSIFY_PROXY_FILE ", path, errno);
	if (io->fstat(fd, &st) < 0) {
		err = errno;
		why = strerror(err);
	} else {
		why = proxy_file_unsafe(&st, euid);
	}
	if (!why)
		why = proxy_file_text(io, fd, url, cap, &err);
	io->close(fd);
	if (!why)
		return 0;
	rc = config_fail(cfg, "SOCKSIFY_PROXY_FILE %s: %s", path, why);
	cfg->error_transient = read_error_transient(err);
	return rc;
}
