/* shellmode.c — turn socksify on and off for an interactive shell.
 *
 *   eval "$(socksify [-x URL] [-f FILE] [-v|-q] --shell on)"
 *   eval "$(socksify --shell off)"
 *   socksify show
 *
 * A running shell cannot be preloaded, but every command it starts can:
 * "on" prints POSIX sh code (the same for bash, zsh and dash) that exports
 * LD_PRELOAD with the library first, and the SOCKSIFY_* variables a
 * `socksify COMMAND` run would give COMMAND. The shell is one run: its
 * commands share one session (one fake-DNS map and one table of down proxies)
 * named after the shell's own PID ($$, expanded by the shell that evals the
 * code) and 128 random bits. When the shell exits, the session's files in
 * /dev/shm stay until the first process of a later run sees that PID gone
 * and removes them (common/fakedns.c); nothing runs at the shell's exit.
 *
 * The code is computed here, from the environment the shell exported to
 * us, so the shell runs no command of its own to edit LD_PRELOAD. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyurl.h"
#include "shellmode.h"

/* What "on" exports besides LD_PRELOAD and the session, when set (by the
 * wrapper's options or inherited); "off" unsets those "on" listed. */
static const char *const shellmode_vars[] = {
    "SOCKSIFY_PROXY",	       "SOCKSIFY_PROXY_FILE",
    "SOCKSIFY_CONF",	       "SOCKSIFY_LOG",
    "SOCKSIFY_LOG_FILE",       "SOCKSIFY_PIPELINE",
    "SOCKSIFY_SUPERVISOR",     "SOCKSIFY_GSSAPI",
    "SOCKSIFY_GSSAPI_SERVICE", "SOCKSIFY_GSSAPI_PROTECTION",
    "SOCKSIFY_FASTOPEN",
};

/* Print text in single quotes, each ' written as '\''. */
static void shellmode_quote(FILE *out, const char *text)
{
	fputc('\'', out);
	for (; *text; text++) {
		if (*text == '\'')
			fputs("'\\''", out);
		else
			fputc(*text, out);
	}
	fputc('\'', out);
}

/* Print "NAME='value'; export NAME" and a newline. */
static void shellmode_export(FILE *out, const char *name, const char *value)
{
	fprintf(out, "%s=", name);
	shellmode_quote(out, value);
	fprintf(out, "; export %s\n", name);
}

/* Print the words of $LD_PRELOAD (separated by spaces or colons, as the
 * loader reads it) other than library, separated by spaces, each with a
 * leading space. Returns how many were printed. */
static int shellmode_other_preloads(FILE *out, const char *library)
{
	const char *list = getenv("LD_PRELOAD");
	size_t liblen = library ? strlen(library) : 0;
	int printed = 0;

	while (list && *list) {
		size_t len = strcspn(list, " :");

		if (len > 0 && !(library && len == liblen &&
				 !memcmp(list, library, len))) {
			fprintf(out, " %.*s", (int)len, list);
			printed++;
		}
		list += len;
		list += strspn(list, " :");
	}
	return printed;
}

/* Whether $LD_PRELOAD holds library as one of its words. */
static bool shellmode_preloaded(const char *library)
{
	const char *list = getenv("LD_PRELOAD");
	size_t liblen = strlen(library);

	while (list && *list) {
		size_t len = strcspn(list, " :");

		if (len == liblen && !memcmp(list, library, len))
			return true;
		list += len;
		list += strspn(list, " :");
	}
	return false;
}

/* A word of $LD_PRELOAD whose file name is libsocksify.so (a shell that
 * `socksify bash` started), or NULL; copied into buf. */
static const char *shellmode_run_library(char *buf, size_t cap)
{
	static const char name[] = "libsocksify.so";
	const char *list = getenv("LD_PRELOAD");

	while (list && *list) {
		size_t len = strcspn(list, " :");

		if (len >= sizeof name - 1 && len < cap &&
		    !memcmp(list + len - (sizeof name - 1), name,
			    sizeof name - 1) &&
		    (len == sizeof name - 1 ||
		     list[len - (sizeof name - 1) - 1] == '/')) {
			memcpy(buf, list, len);
			buf[len] = '\0';
			return buf;
		}
		list += len;
		list += strspn(list, " :");
	}
	return NULL;
}

/* Whether $SOCKSIFY_PROXY holds a URL with a password. */
static bool shellmode_proxy_secret(void)
{
	const char *url = getenv("SOCKSIFY_PROXY");
	struct proxy p;
	bool secret;

	if (!url || !url[0] || proxyurl_parse(&p, url, NULL, 0) < 0)
		return false;
	secret = p.password_len > 0;
	explicit_bzero(&p, sizeof(p));
	return secret;
}

/* The new LD_PRELOAD: library first, then whatever else was there, in a
 * buffer of its own (quoted as one value). */
static void shellmode_print_preload(FILE *out, const char *library)
{
	char *others = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&others, &len);

	if (mem) {
		shellmode_other_preloads(mem, library);
		fclose(mem);
	}
	fputs("LD_PRELOAD=", out);
	shellmode_quote(out, library);
	if (others && others[0])
		shellmode_quote(out, others);
	fputs("; export LD_PRELOAD\n", out);
	free(others);
}

int shellmode_on(FILE *out, const char *library, const char *random_hex)
{
	bool first = true;

	if (strpbrk(library, " :")) {
		fprintf(stderr,
			"socksify: the library's path '%s' holds a "
			"space or a colon: LD_PRELOAD cannot name it\n",
			library);
		return 1;
	}
	if (shellmode_proxy_secret()) {
		fprintf(stderr,
			"socksify: shell mode would keep the proxy password "
			"in the shell's environment; put the proxy line in a "
			"configuration file readable by you alone (chmod 600) "
			"and use -f FILE instead\n");
		return 1;
	}
	shellmode_print_preload(out, library);
	fprintf(out, "SOCKSIFY_SESSION=\"$$-%s\"; export SOCKSIFY_SESSION\n",
		random_hex);
	shellmode_export(out, "SOCKSIFY_SHELL", library);
	fputs("SOCKSIFY_SHELL_VARS='", out);
	for (size_t i = 0; i < sizeof shellmode_vars / sizeof *shellmode_vars;
	     i++) {
		if (!getenv(shellmode_vars[i]))
			continue;
		fprintf(out, "%s%s", first ? "" : " ", shellmode_vars[i]);
		first = false;
	}
	fputs("'; export SOCKSIFY_SHELL_VARS\n", out);
	for (size_t i = 0; i < sizeof shellmode_vars / sizeof *shellmode_vars;
	     i++) {
		const char *value = getenv(shellmode_vars[i]);

		if (value)
			shellmode_export(out, shellmode_vars[i], value);
	}
	return 0;
}

/* Print "unset NAME" for each word of $SOCKSIFY_SHELL_VARS that is one of
 * shellmode_vars (nothing else: the value came from the environment). */
static void shellmode_unset_vars(FILE *out)
{
	const char *list = getenv("SOCKSIFY_SHELL_VARS");

	for (size_t i = 0;
	     list && i < sizeof shellmode_vars / sizeof *shellmode_vars; i++) {
		size_t n = strlen(shellmode_vars[i]);

		for (const char *w = list; *w; w += strspn(w, " ")) {
			size_t len = strcspn(w, " ");

			if (len == n && !memcmp(w, shellmode_vars[i], n))
				fprintf(out, "unset %s\n", shellmode_vars[i]);
			w += len;
		}
	}
}

int shellmode_off(FILE *out)
{
	const char *library = getenv("SOCKSIFY_SHELL");
	char *others = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&others, &len);

	if (mem) {
		shellmode_other_preloads(mem, library);
		fclose(mem);
	}
	if (others && others[0]) {
		fputs("LD_PRELOAD=", out);
		shellmode_quote(out, others + 1);
		fputs("; export LD_PRELOAD\n", out);
	} else {
		fputs("unset LD_PRELOAD\n", out);
	}
	free(others);
	shellmode_unset_vars(out);
	fputs("unset SOCKSIFY_SESSION SOCKSIFY_SHELL SOCKSIFY_SHELL_VARS\n",
	      out);
	return 0;
}

int shellmode_show(FILE *out)
{
	const char *library = getenv("SOCKSIFY_SHELL");
	const char *url = getenv("SOCKSIFY_PROXY");
	const char *conf = getenv("SOCKSIFY_CONF");
	struct proxy p;
	char shown[600];
	const char *session = getenv("SOCKSIFY_SESSION");
	char run_library[4096];

	if (!session)
		session = "?";
	if (library && library[0] && shellmode_preloaded(library)) {
		fprintf(out, "socksify: on in this shell (session %s)\n",
			session);
	} else {
		library =
		    shellmode_run_library(run_library, sizeof run_library);
		if (!library) {
			fprintf(out, "socksify: off in this shell\n");
			return 1;
		}
		fprintf(out,
			"socksify: on: this shell runs under socksify "
			"(session %s)\n",
			session);
	}
	fprintf(out, "  library: %s\n", library);
	if (url && url[0] && proxyurl_parse(&p, url, NULL, 0) == 0) {
		fprintf(out, "  proxy: %s\n",
			proxyurl_format(&p, shown, sizeof(shown)));
		explicit_bzero(&p, sizeof(p));
	} else if (getenv("SOCKSIFY_PROXY_FILE")) {
		fprintf(out, "  proxy: from the private file %s\n",
			getenv("SOCKSIFY_PROXY_FILE"));
	} else if (conf && conf[0]) {
		fprintf(out, "  configuration: %s\n", conf);
	} else {
		fprintf(out, "  proxy: from the configuration files or the "
			     "default\n");
	}
	return 0;
}
