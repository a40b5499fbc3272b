/* state.c — the library's per-process state: the configuration (built once,
 * read-only afterwards), the first proxy's resolved addresses, and the
 * fake-DNS table (attached on first use).
 *
 * Thread safety: everything here is written inside a pthread_once routine
 * and only read afterwards, so readers take no lock. The fake-DNS table
 * carries its own (lock-free) synchronisation.
 *
 * Fork: a child inherits completed state as is. The fake-DNS table must
 * exist before the first fork, or a parent and a child that each create
 * one lazily would hold different maps (an anonymous mapping is shared only
 * when made before fork); a pthread_atfork prepare handler, registered at
 * load, attaches it. A fork() in another thread while a once-routine runs
 * would leave the child's once-control stuck "in progress"; the window is
 * the first hooked call only and is an accepted edge.
 *
 * Re-entry: resolving the proxy's host name runs libc's resolver, whose NSS
 * modules may call our hooks (connect, close) on this same thread. Those
 * calls must not wait for the once-routine they are running inside, so a
 * thread-local flag hands them the configuration, already parsed by then. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proxyaddr.h"
#include "real.h"
#include "state.h"

#define STATE_SESSION_MAX 64
#define STATE_SHM_DIR	  "/dev/shm"

static struct config state_config;
static struct proxy_addresses state_proxy;
static char state_session[STATE_SESSION_MAX + 1];
static __thread bool state_loading __attribute__((tls_model("initial-exec")));

static struct fakedns *state_table;

/* secure_getenv(), with an empty value treated as unset. Every variable
 * the library reads comes through here: in a program that runs with more
 * privilege than its caller (setuid, setgid, file capabilities: libc's
 * "secure execution"), the caller's SOCKSIFY_* settings, HOME and
 * XDG_CONFIG_HOME are ignored, so they cannot choose the proxy, the
 * config file or a log file for it. */
static const char *state_env(const char *name)
{
	const char *value = secure_getenv(name);

	return value && *value ? value : NULL;
}

static bool state_session_char_ok(char c)
{
	return c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/* Keep the wrapper's session id when it is safe inside a file name: 1..64
 * characters of [A-Za-z0-9-]. Anything else is ignored (logged). */
static void state_keep_session(const char *session)
{
	size_t i, len;

	if (!session)
		return;
	len = strlen(session);
	for (i = 0; i < len; i++)
		if (!state_session_char_ok(session[i]))
			break;
	if (i < len || len > STATE_SESSION_MAX) {
		log_error("ignoring unsafe SOCKSIFY_SESSION: falling back to "
			  "a fake DNS table private to this process and its "
			  "children");
		return;
	}
	memcpy(state_session, session, len + 1);
}

/* Resolve the proxy's host name once with libc's own resolver, unless the
 * supervisor looked it up already (SOCKSIFY_PROXY_RESOLVED, under the
 * guard, whose filter would refuse libc's DNS query under remote DNS).
 * Failure is logged; every proxied connection then fails with
 * EHOSTUNREACH. */
static void state_resolve_proxy(const struct config *cfg)
{
	const struct proxy_resolver resolver = {real.getaddrinfo,
						real.freeaddrinfo};
	const char *given = state_env("SOCKSIFY_PROXY_RESOLVED");

	if (cfg->proxy_count == 0)
		return;
	if (given && proxyaddr_from_text(&state_proxy, &cfg->proxies[0].addr,
					 given) == 0)
		return;
	proxyaddr_find(&state_proxy, &cfg->proxies[0].addr, &resolver);
}

/* The once-routine: configuration from the environment, the log, the
 * proxy's address, the session id. */
static void state_load(void)
{
	struct config_env env;

	config_env_read(&env, state_env);
	real_init();
	log_set_io(&real_sys_io); /* a hook may run before our constructor */
	config_load(&state_config, &env, &real_sys_io);
	log_setup(state_config.log_level, state_env("SOCKSIFY_LOG_FILE"));
	if (!state_config.valid) {
		log_error("config error: %s; every connection will be refused",
			  state_config.error);
		return;
	}
	if (state_config.world_readable_secret)
		log_warn("%s holds a proxy password that other users can read; "
			 "make it private with chmod 600",
			 state_config.source);
	if (real_guard_state() == REAL_GUARD_FALLBACK)
		log_warn("under a seccomp filter, and the guard's trampoline "
			 "page cannot be mapped: under the guard, each of the "
			 "library's connects pays a round trip to the "
			 "supervisor");
	state_keep_session(state_env("SOCKSIFY_SESSION"));
	state_resolve_proxy(&state_config);
}

const struct config *socksify_config(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (state_loading)
		return &state_config;
	state_loading = true;
	pthread_once(&once, state_load);
	state_loading = false;
	return &state_config;
}

int socksify_proxy_sockaddr(int family, struct sockaddr_storage *ss)
{
	socksify_config();
	return proxyaddr_sockaddr(&state_proxy, family, ss);
}

bool socksify_is_proxy(const struct endpoint *ep)
{
	const struct config *cfg = socksify_config();

	if (!cfg->valid)
		return false;
	return proxyaddr_is(&state_proxy, ep);
}

/* Join (or create) the session's table file; before creating one, remove
 * the files of sessions whose process is gone. Returns 0 or -errno. */
static int state_attach_session(const struct config *cfg)
{
	char path[sizeof STATE_SHM_DIR + STATE_SESSION_MAX + 32];
	unsigned uid = (unsigned)getuid();
	struct stat st;
	bool existed;
	int rc;

	snprintf(path, sizeof path, "%s/socksify-%u-%s", STATE_SHM_DIR, uid,
		 state_session);
	existed = lstat(path, &st) == 0;
	if (!existed)
		fakedns_collect_stale(STATE_SHM_DIR, uid);
	rc =
	    fakedns_attach(&real_sys_io, &state_table, path, cfg->fake_entries);
	if (rc < 0)
		log_error("fake DNS table %s unusable (%s): falling back to a "
			  "table private to this process and its children; "
			  "programs it execs will not share its fake names",
			  path, strerror(-rc));
	return rc;
}

/* The once-routine for the fake-DNS table: the session file when there is
 * one, else (or when it fails) anonymous shared memory. */
static void state_attach(void)
{
	const struct config *cfg = socksify_config();
	int rc;

	if (state_session[0] && state_attach_session(cfg) == 0)
		return;
	rc =
	    fakedns_attach(&real_sys_io, &state_table, NULL, cfg->fake_entries);
	if (rc < 0) {
		log_error("cannot map the fake DNS table: %s", strerror(-rc));
		state_table = NULL;
	}
}

struct fakedns *socksify_fakedns(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, state_attach);
	return state_table;
}

void socksify_before_fork(void)
{
	const struct config *cfg = socksify_config();

	if (cfg->valid && cfg->remote_dns)
		socksify_fakedns();
}

/* The only work done at load, with no system call: give the log its table
 * of libc calls (so a hook can log before the configuration is loaded). */
__attribute__((constructor)) static void state_at_load(void)
{
	log_set_io(&real_sys_io);
}

bool socksify_is_fake(const struct endpoint *ep)
{
	const struct config *cfg = socksify_config();

	return cfg->valid && cfg->remote_dns &&
	       fakedns_in_ranges(&cfg->fake_ipv4, &cfg->fake_ipv6, ep);
}

bool socksify_unfake(const struct endpoint *ep, struct endpoint *name)
{
	const struct config *cfg = socksify_config();

	return socksify_is_fake(ep) &&
	       fakedns_unfake(socksify_fakedns(), &cfg->fake_ipv4,
			      &cfg->fake_ipv6, ep, name);
}
