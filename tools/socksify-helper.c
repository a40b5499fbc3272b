/* socksify-helper — the wrapper's checks that need C:
 *
 *   socksify-helper check      load the configuration exactly as the library
 *                              will (same environment), report any error as
 *                              "socksify: FILE:LINE: reason", exit 1 on error
 *   socksify-helper elf PATH   exit 0 when PATH can take the preload (a
 *                              dynamically linked ELF of our own class and
 *                              machine, or not ELF at all, e.g. a script);
 *                              otherwise say why and exit 1
 *   socksify-helper preflight [PATH]
 *                              both checks above in one run (the wrapper's
 *                              start-up cost is mostly process starts), then
 *                              print the session id for the fake-DNS map,
 *                              "WRAPPERPID-" and 32 random hex digits,
 *                              and, when SOCKSIFY_PROXY holds a password,
 *                              on a second line the name of the private
 *                              file that now holds the URL (proxyfile.c),
 *                              for the wrapper to export as
 *                              SOCKSIFY_PROXY_FILE in its place; exit 1 on
 *                              a config error (or no random bytes), 3 when
 *                              PATH cannot take the preload
 *                              (4 instead of 3 when PATH is statically
 *                              linked and the supervisor can carry it; 5
 *                              when PATH is dynamically linked and runs
 *                              under the guard: the supervisor too)
 *   socksify-helper run LIBRARY PROGRAM [ARG]...
 *                              the wrapper's hand-over (it forks nothing):
 *                              find PROGRAM in PATH, refuse setuid/setgid,
 *                              preflight's checks, session id and proxy
 *                              file into the environment, then exec
 *                              PROGRAM with LIBRARY preloaded (or under
 *                              the supervisor: static, or the guard); exit
 *                              125, 126 or 127 when it cannot
 *   socksify-helper supervise LIBRARY PROGRAM [ARG]...
 *                              run PROGRAM under the seccomp supervisor
 *                              (supervisor.c), LIBRARY in its LD_PRELOAD
 *                              (a dynamic PROGRAM under the guard, and any
 *                              dynamic program a static one runs)
 *   socksify-helper explain HOST[:PORT] [tcp|udp]
 *                              print the rule, chain or group and proxies
 *                              a connection to HOST would use, and why
 *                              (explain.c); exit 1 on a config error
 *   socksify-helper version    print the version
 *   socksify-helper doctor [-x URL | -f FILE] [--target HOST:PORT] [--json]
 *                              check every configured proxy and run the
 *                              leak self-test (doctor.c)
 *   socksify-helper shell on|off
 *                              print the sh code that turns socksify on or
 *                              off for the calling shell (shellmode.c)
 *   socksify-helper show       say whether it is on in the calling shell
 *   socksify-helper probe [URL]
 *                              (URL, or SOCKSIFY_PROBE_URL: the wrapper
 *                              passes it there, out of ps) tell whether the
 * proxy at URL accepts a pipelined SOCKS5 handshake (greeting, auth and request
 * in one write): exit 0 when it does, 1 when it does not, 2 when it cannot tell
 * (bad URL, SOCKS4, cannot connect, or even an ordinary handshake fails)
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "doctor.h"
#include "explain.h"
#include "handshake.h"
#include "libc_io.h"
#include "log.h"
#include "preload_env.h"
#include "proxyfile.h"
#include "proxyurl.h"
#include "shellmode.h"
#include "supervisor.h"
#include "sys_io.h"

/* getenv() as config_env_read() takes it (an empty value counts). */
static const char *helper_env(const char *name)
{
	return getenv(name);
}

/* What preflight needs of the configuration. */
struct config_gist {
	enum log_level level;
	bool guard;
};

/* Load the configuration; *gist gets its log level and guard setting
 * (NULL: not wanted). keep (NULL: not wanted) gets the loaded config when
 * it is valid (to be freed), for the supervisor. */
static int check_config_gist(struct config_gist *gist, struct config **keep)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct config_env env;
	int rc;

	if (!cfg) {
		fprintf(stderr, "socksify: out of memory\n");
		return 1;
	}
	config_env_read(&env, helper_env);
	rc = config_load(cfg, &env, &libc_sys_io);
	if (rc < 0 || !cfg->valid)
		fprintf(stderr, "socksify: %s\n", cfg->error);
	else if (cfg->world_readable_secret)
		fprintf(stderr,
			"socksify: warning: %s holds a proxy password and "
			"other users can read it (chmod 600 it)\n",
			cfg->source);
	rc = (rc < 0 || !cfg->valid) ? 1 : 0;
	if (gist) {
		gist->level = cfg->log_level;
		gist->guard = cfg->guard;
	}
	if (keep && rc == 0)
		*keep = cfg;
	else
		free(cfg);
	return rc;
}

static int check_config(void)
{
	return check_config_gist(NULL, NULL);
}

/* The identity bytes that must match ours: class, byte order, machine. */
struct elf_identity {
	unsigned char class, data;
	uint16_t machine;
	int has_interp;
};

static int read_phdrs64(int fd, const Elf64_Ehdr *eh, struct elf_identity *id)
{
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		off_t at = (off_t)eh->e_phoff + (off_t)i * eh->e_phentsize;

		if (pread(fd, &ph, sizeof(ph), at) != (ssize_t)sizeof(ph))
			return -1;
		if (ph.p_type == PT_INTERP)
			id->has_interp = 1;
	}
	return 0;
}

/* Read the identity of an ELF file. Returns 1 for ELF, 0 for not ELF,
 * -1 when unreadable. Only 64-bit program headers are walked: a 32-bit file
 * is refused on its class alone (this build is 64-bit). */
static int elf_identify(const char *path, struct elf_identity *id)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int rc = 1;

	if (fd < 0)
		return -1;
	memset(id, 0, sizeof(*id));
	n = pread(fd, &eh, sizeof(eh), 0);
	if (n < EI_NIDENT || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) {
		close(fd);
		return 0;
	}
	id->class = eh.e_ident[EI_CLASS];
	id->data = eh.e_ident[EI_DATA];
	if (id->class == ELFCLASS64 && n == (ssize_t)sizeof(eh)) {
		id->machine = eh.e_machine;
		if (read_phdrs64(fd, &eh, id) < 0)
			rc = -1;
	}
	close(fd);
	return rc;
}

enum elf_verdict {
	ELF_PRELOAD, /* the preload reaches it */
	ELF_REFUSED, /* said why */
	ELF_STATIC,  /* statically linked: only the supervisor can carry it */
};

static enum elf_verdict elf_judge(const char *path)
{
	struct elf_identity prog, self;
	int rc = elf_identify(path, &prog);

	if (rc <= 0)
		return ELF_PRELOAD; /* a script, or unreadable: exec will tell
				     */
	if (elf_identify("/proc/self/exe", &self) != 1)
		return ELF_PRELOAD;
	if (prog.class != self.class || prog.data != self.data ||
	    prog.machine != self.machine) {
		fprintf(stderr,
			"socksify: %s is built for another architecture than "
			"this socksify; the loader would skip the preload and "
			"its traffic would go direct; refusing\n",
			path);
		return ELF_REFUSED;
	}
	return prog.has_interp ? ELF_PRELOAD : ELF_STATIC;
}

static int check_elf(const char *path)
{
	switch (elf_judge(path)) {
	case ELF_PRELOAD:
		return 0;
	case ELF_REFUSED:
		return 1;
	case ELF_STATIC:
		fprintf(
		    stderr,
		    "socksify: %s is statically linked: socksify cannot "
		    "see its network calls and its traffic would go direct; "
		    "refusing\n",
		    path);
		return 1;
	}
	return 1;
}

/* ---- probe: does a proxy take a pipelined handshake? ---- */

#define PROBE_TIMEOUT_MS 3000

/* The proxy's address as an IP endpoint (a host name is resolved here).
 * Returns 0, or an EAI_* code. */
static int probe_address(const struct proxy *p, struct endpoint *ep)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int rc;

	if (p->addr.kind != ENDPOINT_NAME) {
		*ep = p->addr;
		return 0;
	}
	rc = getaddrinfo(p->addr.u.name, NULL, &hints, &res);
	if (rc != 0)
		return rc;
	rc = endpoint_from_sockaddr(ep, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0)
		return EAI_FAMILY;
	ep->port = p->addr.port;
	return 0;
}

/* One handshake with p (pipelined or not) asking to CONNECT to the proxy
 * itself: harmless, and any reply, even a refusal, shows that the request
 * was understood. Sets *connected. Returns handshake_run()'s result, or the
 * connect error. hs->proxy points at *p. */
static int probe_once(const struct proxy *p, const struct endpoint *self,
		      struct handshake *hs, int *connected, unsigned timeout_ms)
{
	struct sockaddr_storage ss;
	int family = self->kind == ENDPOINT_IPV6 ? AF_INET6 : AF_INET;
	socklen_t len = endpoint_to_sockaddr(self, family, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	*connected = 0;
	if (fd < 0)
		return -errno;
	rc = netio_connect(&libc_socket_io, fd, (struct sockaddr *)&ss, len,
			   netio_now_ms() + timeout_ms);
	if (rc == 0) {
		*connected = 1;
		handshake_init(hs, p, self, HANDSHAKE_CONNECT);
		rc = handshake_run(hs, &libc_socket_io, fd,
				   netio_now_ms() + timeout_ms);
	}
	close(fd);
	return rc;
}

/* True when the handshake got as far as the final reply. */
static int probe_understood(int rc, const struct handshake *hs)
{
	return rc == 0 || hs->replied;
}

/* A pipelined handshake failed: an ordinary one tells whether pipelining
 * was the cause. Returns the exit status. */
static int probe_explain(const struct proxy *p, const struct endpoint *self,
			 const char *shown, const struct handshake *piped)
{
	struct proxy plain = *p;
	struct handshake hs;
	int connected, rc;

	plain.pipeline = false;
	rc = probe_once(&plain, self, &hs, &connected, PROBE_TIMEOUT_MS);
	if (connected && probe_understood(rc, &hs)) {
		printf("%s: does not accept pipelined handshakes (pipelined: "
		       "%s; an ordinary handshake works)\n",
		       shown, piped->why ? piped->why : strerror(piped->error));
		return 1;
	}
	printf("%s: cannot tell whether it accepts pipelined handshakes: an "
	       "ordinary handshake fails too (%s)\n",
	       shown, connected && hs.why ? hs.why : strerror(-rc));
	return 2;
}

int probe_pipelining(const struct proxy *p, const struct endpoint *self,
		     unsigned timeout_ms, const char **why)
{
	struct proxy piped = *p, plain = *p;
	struct handshake hs;
	int connected, rc;

	piped.pipeline = true;
	rc = probe_once(&piped, self, &hs, &connected, timeout_ms);
	*why = connected ? hs.why : "cannot connect to the proxy";
	if (connected && probe_understood(rc, &hs))
		return 0;
	if (!connected)
		return 2;
	plain.pipeline = false;
	rc = probe_once(&plain, self, &hs, &connected, timeout_ms);
	return connected && probe_understood(rc, &hs) ? 1 : 2;
}

static int probe(const char *url)
{
	struct proxy p;
	struct endpoint self;
	struct handshake hs;
	char err[256], shown[600];
	int connected, rc;

	if (proxyurl_parse(&p, url, err, sizeof(err)) < 0) {
		fprintf(stderr, "socksify: %s\n", err);
		return 2;
	}
	proxyurl_format(&p, shown, sizeof(shown));
	if (proxy_is_http(&p)) {
		printf("%s: HTTP CONNECT is a single request: there is nothing "
		       "to pipeline\n",
		       shown);
		return 2;
	}
	if (!proxy_is_socks5(&p)) {
		printf("%s: SOCKS4 has a single message: there is nothing to "
		       "pipeline\n",
		       shown);
		return 2;
	}
	rc = probe_address(&p, &self);
	if (rc != 0) {
		printf("%s: cannot resolve the proxy's host: %s\n", shown,
		       gai_strerror(rc));
		return 2;
	}
	p.pipeline = true;
	rc = probe_once(&p, &self, &hs, &connected, PROBE_TIMEOUT_MS);
	if (!connected) {
		printf("%s: cannot connect to the proxy: %s\n", shown,
		       strerror(-rc));
		return 2;
	}
	if (!probe_understood(rc, &hs))
		return probe_explain(&p, &self, shown, &hs);
	printf("%s: accepts pipelined handshakes (use: proxy %s pipeline, or "
	       "SOCKSIFY_PIPELINE=1)\n",
	       shown, shown);
	return 0;
}

/* Whether the supervisor cannot run here: the kernel lacks a piece, or
 * SOCKSIFY_SUPERVISOR=off asks for today's refusal. why says which. */
static int static_unsupported(char *why, size_t cap)
{
	const char *setting = getenv("SOCKSIFY_SUPERVISOR");

	if (setting && strcmp(setting, "off") == 0) {
		snprintf(why, cap, "SOCKSIFY_SUPERVISOR=off");
		return 1;
	}
	return supervisor_available(why, cap) != 0;
}

#define SESSION_RANDOM_BYTES 16
#define SESSION_ID_MAX	     (24 + 2 * SESSION_RANDOM_BYTES)

/* Fill buf with len random bytes from the kernel (getrandom, bounded
 * retries on EINTR). Returns 0 or -errno. */
static int random_bytes(unsigned char *buf, size_t len)
{
	size_t done = 0;

	for (int tries = 0; done < len && tries < 16; tries++) {
		ssize_t n = getrandom(buf + done, len - done, 0);

		if (n > 0)
			done += (size_t)n;
		else if (n < 0 && errno != EINTR)
			return -errno;
	}
	return done == len ? 0 : -EIO;
}

/* Make the session id in buf (SESSION_ID_MAX bytes): the program's PID
 * (program: stale session files are recognised by it) and 128 random bits,
 * so that no other user can name the map file before the program creates
 * it. Returns 0, or 1 (reported) when the kernel gives no random bytes. */
static int make_session_id(char *buf, pid_t program)
{
	unsigned char bits[SESSION_RANDOM_BYTES];
	int rc = random_bytes(bits, sizeof bits);
	int used;

	if (rc < 0) {
		fprintf(stderr,
			"socksify: no random bytes for the session id: %s\n",
			strerror(-rc));
		return 1;
	}
	used = snprintf(buf, SESSION_ID_MAX, "%ld-", (long)program);
	for (size_t i = 0; i < sizeof bits; i++)
		used += snprintf(buf + used, SESSION_ID_MAX - (size_t)used,
				 "%02x", bits[i]);
	return 0;
}

/* When SOCKSIFY_PROXY holds a password, move the URL into a private file
 * of the run (removed when process program exits) whose name goes into
 * path; path is "" when there is nothing to hide. Returns 0, or 1 after
 * saying why the file could not be made. */
static int hide_proxy_password(char *path, size_t cap, pid_t program)
{
	const char *url = getenv("SOCKSIFY_PROXY");
	struct proxy p;
	bool secret;
	int rc;

	path[0] = '\0';
	if (!url || !url[0] || proxyurl_parse(&p, url, NULL, 0) < 0)
		return 0;
	secret = p.password_len > 0;
	explicit_bzero(&p, sizeof(p));
	if (!secret)
		return 0;
	rc = proxyfile_create(url, program, path, cap);
	if (rc == 0)
		return 0;
	fprintf(stderr,
		"socksify: cannot hand the proxy password over in a private "
		"file: %s; refusing to put it in the environment\n",
		strerror(-rc));
	path[0] = '\0';
	return 1;
}

/* The guard for a dynamic program: wanted (the config's guard, which
 * SOCKSIFY_GUARD=on|off overrides) and possible (the supervisor's kernel
 * features, the trampoline page's address free). Returns true to run it
 * under the guard; otherwise says why not (the log is set up): turned off,
 * a warning; unavailable, an info line (-v). */
static bool guard_wanted(bool configured)
{
	const char *setting = getenv("SOCKSIFY_GUARD");
	char why[256];

	if (setting && strcmp(setting, "off") == 0)
		configured = false;
	else if (setting && strcmp(setting, "on") == 0)
		configured = true;
	if (!configured) {
		/* At error level: shown unless -q, as asked. */
		log_error("warning: guard off: raw system calls (Go's dialer "
			  "in a cgo binary, inline assembly) and io_uring go "
			  "around socksify, direct");
		return false;
	}
	if (static_unsupported(why, sizeof why) ||
	    supervisor_guard_page_free(why, sizeof why) != 0) {
		/* As before the guard existed: -v says so. */
		log_info("no guard on this system (%s): raw system calls and "
			 "io_uring go around socksify, direct",
			 why);
		return false;
	}
	return true;
}

/* The mode -v names. */
static const char *preflight_mode(enum elf_verdict verdict, bool guard)
{
	if (verdict == ELF_STATIC)
		return "seccomp supervisor (statically linked)";
	return guard ? "library+guard (LD_PRELOAD, seccomp supervisor)"
		     : "library (LD_PRELOAD)";
}

/* The checks before a run: config, program (path, NULL for none), then
 * the session id and the proxy file (proxy_file[PATH_MAX], "" when there is
 * no password to hide) for the program that will run as process program.
 * keep (NULL: not wanted) gets the config (to be freed) when it is valid.
 * Returns 0 (library), 4 (statically linked: the supervisor), 5 (dynamic,
 * under the guard: the supervisor too), 3 (path cannot be socksified) or 1
 * (config error), each reported. */
static int prepare(const char *path, pid_t program,
		   char session[SESSION_ID_MAX], char *proxy_file,
		   struct config **keep)
{
	enum elf_verdict verdict = ELF_PRELOAD;
	struct config_gist gist = {.level = LOG_ERROR, .guard = true};
	bool guard = false;
	char why[256];

	if (check_config_gist(&gist, keep) != 0)
		return 1;
	if (path)
		verdict = elf_judge(path);
	if (verdict == ELF_REFUSED)
		return 3;
	if (verdict == ELF_STATIC && static_unsupported(why, sizeof why)) {
		fprintf(stderr,
			"socksify: %s is statically linked: carrying it needs "
			"the seccomp supervisor, which is unavailable (%s); "
			"its traffic would go direct; refusing\n",
			path, why);
		return 3;
	}
	/* -v: which mode this run uses, where the run's log goes. */
	log_set_io(&libc_sys_io);
	log_setup(gist.level, getenv("SOCKSIFY_LOG_FILE"));
	if (verdict == ELF_PRELOAD)
		guard = guard_wanted(gist.guard);
	log_info("%s: mode: %s", path ? path : "(builtin)",
		 preflight_mode(verdict, guard));
	if (make_session_id(session, program) != 0 ||
	    hide_proxy_password(proxy_file, PATH_MAX, program) != 0)
		return 1;
	if (verdict == ELF_STATIC)
		return 4;
	return guard ? 5 : 0;
}

/* "preflight [PATH]": prepare() for a wrapper that execs the program in
 * its own process (our parent), printing the session id and proxy file. */
static int preflight(const char *path)
{
	char proxy_file[PATH_MAX], session[SESSION_ID_MAX];
	int rc = prepare(path, getppid(), session, proxy_file, NULL);

	if (rc != 0 && rc != 4 && rc != 5)
		return rc;
	printf("%s\n", session);
	if (proxy_file[0])
		printf("%s\n", proxy_file);
	return rc;
}

/* ---- run: the wrapper's hand-over; we exec the program ourselves ---- */

/* Find name as the shell's "command -v" would: as given when it holds a
 * slash (and exists), else the first executable regular file in PATH (an empty
 * entry is the current directory). Returns 0 with the path in out[PATH_MAX], or
 * -1. */
static int find_program(const char *name, char *out)
{
	const char *dirs = getenv("PATH"), *p, *end;
	struct stat st;

	if (strchr(name, '/')) {
		snprintf(out, PATH_MAX, "%s", name);
		return stat(out, &st) == 0 && !S_ISDIR(st.st_mode) ? 0 : -1;
	}
	if (!name[0])
		return -1;
	if (!dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	for (p = dirs;; p = end + 1) {
		size_t len;

		end = strchrnul(p, ':');
		len = (size_t)(end - p);
		if (snprintf(out, PATH_MAX, "%.*s%s%s", (int)len, p,
			     len ? "/" : "", name) < PATH_MAX &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return 0;
		if (!*end)
			return -1;
	}
}

/* The run's environment: session id, proxy file (in place of the URL).
 * The URL's bytes are wiped where they lie: /proc/PID/environ shows the
 * block we were started with, whatever unsetenv() does, and a supervisor
 * we fork keeps a copy of it for the whole run. */
static int set_session(const char *session, const char *proxy_file)
{
	char *url;

	if (setenv("SOCKSIFY_SESSION", session, 1) != 0)
		return -1;
	if (!proxy_file[0])
		return 0;
	url = getenv("SOCKSIFY_PROXY");
	if (url)
		explicit_bzero(url, strlen(url));
	unsetenv("SOCKSIFY_PROXY");
	return setenv("SOCKSIFY_PROXY_FILE", proxy_file, 1);
}

/* A file without "#!" that execve() refuses (ENOEXEC) is a shell script to
 * the shell, whose exec the wrapper used to be: run it with /bin/sh.
 * Returns only on failure, with errno's value. */
static int exec_as_script(const char *path, char **argv)
{
	size_t n = 0;
	char **args;

	while (argv[n])
		n++;
	args = calloc(n + 2, sizeof(*args));
	if (!args)
		return ENOMEM;
	args[0] = (char *)"sh";
	args[1] = (char *)path;
	for (size_t i = 1; i <= n; i++)
		args[i + 1] = argv[i];
	execv("/bin/sh", args);
	free(args);
	return ENOEXEC;
}

/* "run LIBRARY PROGRAM [ARG]...": what the wrapper did after its options,
 * without a fork: find PROGRAM, refuse setuid/setgid ones (the loader
 * would drop the preload), prepare(), then exec PROGRAM in this process
 * with LIBRARY preloaded, or under the supervisor when it is static or
 * runs under the guard.
 * Returns only on failure: 125 (config), 126, 127 (not found). */
static int run(const char *given_library, char **argv)
{
	char path[PATH_MAX], proxy_file[PATH_MAX], session[SESSION_ID_MAX];
	char library[PATH_MAX], shown[256];
	struct config *cfg = NULL;
	struct stat st;
	int rc;

	if (preload_env_resolve(given_library, library) < 0)
		return 125;
	if (find_program(argv[0], path) < 0) {
		fprintf(stderr, "socksify: %s: command not found\n",
			proxyurl_redact(argv[0], shown, sizeof shown));
		return 127;
	}
	if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID))) {
		fprintf(stderr,
			"socksify: %s is setuid/setgid: the loader would drop "
			"socksify and its traffic would go direct; refusing\n",
			path);
		return 126;
	}
	rc = prepare(path, getpid(), session, proxy_file, &cfg);
	if (rc == 3)
		return 126;
	if ((rc != 0 && rc != 4 && rc != 5) ||
	    set_session(session, proxy_file) != 0)
		return 125;
	fflush(NULL);
	/* The supervisor takes the config loaded here: no second load. */
	if (rc == 4 || rc == 5)
		return supervisor_exec(library, argv, cfg);
	free(cfg);
	if (preload_env_prepend(library) != 0)
		return 125;
	execv(path, argv);
	rc = errno;
	if (rc == ENOEXEC)
		rc = exec_as_script(path, argv);
	fprintf(stderr, "socksify: %s: %s\n",
		proxyurl_redact(path, shown, sizeof shown), strerror(rc));
	return rc == ENOENT ? 127 : 126;
}

/* ---- explain: which rule, chain or group, and proxies ---- */

/* Load the configuration as the library would and print explain_route()'s
 * text. Exit 0, 1 on a configuration error (also printed), 2 on a bad
 * destination or transport. */
static int explain(const char *destination, const char *transport)
{
	struct config *cfg = malloc(sizeof(*cfg));
	char *text = malloc(EXPLAIN_TEXT_MAX);
	struct config_env env;
	int rc;

	if (!cfg || !text) {
		fprintf(stderr, "socksify: out of memory\n");
		free(cfg);
		free(text);
		return 1;
	}
	config_env_read(&env, helper_env);
	config_load(cfg, &env, &libc_sys_io);
	rc = explain_route(cfg, destination, transport, text, EXPLAIN_TEXT_MAX);
	fputs(text, rc < 0 ? stderr : stdout);
	rc = rc < 0 ? 2 : cfg->valid ? 0 : 1;
	free(cfg);
	free(text);
	return rc;
}

/* The library beside this helper (both live in one directory, built or
 * installed), or $SOCKSIFY_LIBRARY. Returns 0, or 1 after saying why. */
static int shell_library(char *path, size_t cap)
{
	const char *given = getenv("SOCKSIFY_LIBRARY");
	ssize_t n;
	char *slash;

	if (given && given[0])
		return preload_env_resolve(given, path) < 0 ? 1 : 0;
	n = readlink("/proc/self/exe", path, cap - 1);
	if (n <= 0 || (size_t)n >= cap - sizeof("libsocksify.so")) {
		fprintf(stderr, "socksify: cannot find the helper's own "
				"directory (/proc/self/exe)\n");
		return 1;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "libsocksify.so");
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "socksify: cannot read %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	return 0;
}

/* `--shell on|off`: the configuration must load, as for a run. */
static int shell(const char *how)
{
	unsigned char bits[SESSION_RANDOM_BYTES];
	char library[PATH_MAX], hex[2 * SESSION_RANDOM_BYTES + 1];
	int rc;

	if (strcmp(how, "off") == 0)
		return shellmode_off(stdout);
	if (strcmp(how, "on") != 0) {
		fprintf(stderr, "socksify: --shell takes on or off\n");
		return 2;
	}
	if (check_config() != 0 || shell_library(library, sizeof library) != 0)
		return 1;
	rc = random_bytes(bits, sizeof bits);
	if (rc < 0) {
		fprintf(stderr, "socksify: no random bytes: %s\n",
			strerror(-rc));
		return 1;
	}
	for (size_t i = 0; i < sizeof bits; i++)
		snprintf(hex + 2 * i, 3, "%02x", bits[i]);
	return shellmode_on(stdout, library, hex);
}

/* "supervise LIBRARY PROGRAM [ARG]...": supervisor_exec() with LIBRARY
 * made absolute. Returns only on failure: 125 when LIBRARY is not there,
 * else supervisor_exec()'s status. */
static int supervise(const char *given_library, char **argv)
{
	char library[PATH_MAX];

	if (preload_env_resolve(given_library, library) < 0)
		return 125;
	return supervisor_exec(library, argv, NULL);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && argc <= 3 && strcmp(argv[1], "preflight") == 0)
		return preflight(argc == 3 ? argv[2] : NULL);
	if (argc >= 4 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv + 3);
	if (argc >= 4 && strcmp(argv[1], "supervise") == 0)
		return supervise(argv[2], argv + 3);
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return check_config();
	if (argc == 3 && strcmp(argv[1], "elf") == 0)
		return check_elf(argv[2]);
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(argv[2]);
	if (argc >= 3 && argc <= 4 && strcmp(argv[1], "explain") == 0)
		return explain(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return probe(helper_env("SOCKSIFY_PROBE_URL"));
	if (argc >= 2 && strcmp(argv[1], "doctor") == 0) {
		doctor_leave_library(argv);
		return doctor_main(argc - 1, argv + 1);
	}
	if (argc == 3 && strcmp(argv[1], "doctor-leak") == 0)
		return doctor_leak_child(argv[2]);
	if (argc == 3 && strcmp(argv[1], "shell") == 0)
		return shell(argv[2]);
	if (argc == 2 && strcmp(argv[1], "show") == 0)
		return shellmode_show(stdout);
	if (argc == 2 && strcmp(argv[1], "version") == 0) {
		printf("socksify %s\n", SOCKSIFY_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: socksify-helper check | elf PATH | "
			"preflight [PATH] | probe [URL] | version |\n"
			"       doctor [-x URL | -f FILE] [--target HOST:PORT] "
			"[--json] |\n"
			"       shell on|off | show |\n"
			"       run LIBRARY PROGRAM [ARG]... |\n"
			"       explain HOST[:PORT] [tcp|udp] |\n"
			"       supervise LIBRARY PROGRAM [ARG]...\n");
	return 2;
}
