/* state.c — the library's per-process state: the configuration (built once,
 * read-only afterwards), the first proxy's resolved addresses, the
 * health table and the fake-DNS table (attached on first use).
 *
 * Thread safety: everything here is written by one load, under
 * state_lock, and only read once state_loaded says the load is final
 * (acquire/release), so readers take no lock. A load that failed only for
 * want of a descriptor or memory (the file unreadable:
 * config.error_transient; or a proxy's host name unresolved then) is not
 * final: that call gets state_retry (invalid) and a later call loads
 * again, so a process whose first connect finds no descriptor free is not
 * refused for its whole life. A real config error is final: it is read
 * once. The fake-DNS table carries its own (lock-free) synchronisation.
 *
 * The two shared tables are attached the same way (retry_once.h): the
 * fake-DNS table at its first use (a call waits for another thread's
 * try), the health table at load and, while that found no descriptor,
 * at later calls (which never wait for another thread's try). An attach
 * that fails for want of a descriptor or memory (EMFILE, ENFILE, ENOMEM)
 * is not final: that call goes without the table (a lookup needing a fake
 * address fails, EAI_FAIL; a connection goes without down marks) and a
 * later call tries again. It never falls back to a private table then,
 * which the session's file would later have to replace: one fake address
 * would have two names. Any other failure is final and logged once.
 *
 * Fork: a child inherits completed state as is. The fake-DNS table must
 * exist before the first fork, or a parent and a child that each create
 * one lazily would hold different maps (an anonymous mapping is shared only
 * when made before fork); a pthread_atfork prepare handler, registered at
 * load, attaches it (and tries the health table again). A fork() in
 * another thread while it loads the configuration or attaches a table
 * would leave the child's lock held: the child makes a lock that is not
 * final anew (its only thread holds nothing) and tries again at its next
 * call. (Without a session, a table that could not be mapped for want of
 * memory at fork is then made separately by parent and child.)
 *
 * Re-entry: resolving the proxy's host name runs libc's resolver, whose NSS
 * modules may call our hooks (connect, close) on this same thread. Those
 * calls must not wait for the load they are running inside, so a
 * thread-local flag hands them the configuration, already parsed by then. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isolate.h"
#include "log.h"
#include "proxyaddr.h"
#include "real.h"
#include "retry_once.h"
#include "state.h"

#define STATE_SESSION_MAX 64
#define STATE_SHM_DIR	  "/dev/shm"

static struct config state_config;
/* state_config is final (loaded, or a real error): read it without a lock. */
static atomic_bool state_loaded;
/* Serialises loads until one is final. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
/* What a call gets while the configuration could not be read for want of
 * a descriptor or memory: invalid, with defaults; written once under
 * state_lock (state_retry_ready then true), read-only afterwards. */
static struct config state_retry;
static bool state_retry_ready;	   /* under state_lock */
static unsigned state_retry_count; /* under state_lock */
/* The first proxy of each chain (state_proxy[0]: the default chain's). */
static struct proxy_addresses state_proxy[CONFIG_MAX_CHAINS];
/* The health table (NULL: none); read once state_health_once is final. */
static struct health *state_health;
static struct retry_once state_health_once = RETRY_ONCE_INIT;
static char state_session[STATE_SESSION_MAX + 1];
static __thread bool state_loading __attribute__((tls_model("initial-exec")));

/* The fake-DNS table; read once state_table_once is final. */
static struct fakedns *state_table;
static struct retry_once state_table_once = RETRY_ONCE_INIT;
static __thread bool state_table_attaching
    __attribute__((tls_model("initial-exec")));

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

/* The addresses the supervisor found for addr's name: one entry of given
 * ("NAME IPV4 IPV6" entries separated by ';', proxyaddr_to_text). */
static bool state_proxy_given(const char *given, const struct endpoint *addr,
			      struct proxy_addresses *pa)
{
	char entry[ENDPOINT_NAME_MAX + 2 * 64];
	const char *at = given, *end;
	size_t len;

	while (at && *at) {
		end = strchr(at, ';');
		len = end ? (size_t)(end - at) : strlen(at);
		if (len < sizeof entry) {
			memcpy(entry, at, len);
			entry[len] = '\0';
			if (proxyaddr_from_text(pa, addr, entry) == 0)
				return true;
		}
		at = end ? end + 1 : NULL;
	}
	return false;
}

/* Whether a failed lookup (getaddrinfo's rc) may be for want of a
 * descriptor or memory: EAI_MEMORY, or no descriptor free now (libc's
 * resolver then cannot read /etc/hosts nor make its DNS socket, and says
 * only that the name is unknown). errno is kept. */
static bool state_short_of_resources(int rc)
{
	int saved_errno = errno, fd;
	bool short_of = rc == EAI_MEMORY;

	if (!short_of) {
		fd = real_sys_io.openat(AT_FDCWD, "/dev/null",
					O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			real_sys_io.close(fd);
		else
			short_of = errno == EMFILE || errno == ENFILE ||
				   errno == ENOMEM;
	}
	errno = saved_errno;
	return short_of;
}

/* Resolve each chain's first proxy once with libc's own resolver, unless
 * the supervisor looked it up already (SOCKSIFY_PROXY_RESOLVED, under the
 * guard, whose filter would hand libc's DNS query to the supervisor's
 * responder under remote DNS). Failure
 * is logged; every connection through that chain then fails with
 * EHOSTUNREACH. Returns false when a lookup may have failed for want of a
 * descriptor or memory: the load is then not final. */
static bool state_resolve_proxy(const struct config *cfg)
{
	const struct proxy_resolver resolver = {real.getaddrinfo,
						real.freeaddrinfo};
	const char *given = state_env("SOCKSIFY_PROXY_RESOLVED");
	const struct proxy *hops;
	unsigned i, count;
	bool transient = false;
	int rc;

	for (i = 0; i < cfg->chain_count && i < CONFIG_MAX_CHAINS; i++) {
		hops = config_chain_hops(cfg, i, &count);
		if (count == 0 ||
		    state_proxy_given(given, &hops[0].addr, &state_proxy[i]))
			continue;
		rc = proxyaddr_find(&state_proxy[i], &hops[0].addr, &resolver);
		if (rc != 0 && state_short_of_resources(rc))
			transient = true;
	}
	return !transient;
}

/* One try at the health table of the run's groups (a retry_once step):
 * the session's file beside the fake-DNS map, else (no session, or a real
 * failure of its file) anonymous memory shared with fork children. Without
 * groups there is nothing to share. arg: non-NULL at load, where what
 * ended runs left is removed when the file is not there yet (opendir: not
 * in a hooked call's retry). A want of a descriptor or memory leaves it to
 * a later call, with no fallback to a private table (the session's file
 * is tried again); any other failure is logged and final: chains then
 * count as up and down marks are dropped. */
static int state_health_step(void *arg, unsigned tries)
{
	char path[sizeof STATE_SHM_DIR + STATE_SESSION_MAX + 40];
	struct health *table = NULL;
	int rc = -ENOENT;

	if (state_config.group_count == 0)
		return 0;
	if (state_session[0]) {
		struct stat st;

		snprintf(path, sizeof path, "%s/socksify-%u-%s-health",
			 STATE_SHM_DIR, (unsigned)getuid(), state_session);
		/* The first process of a run removes what ended runs left. */
		if (arg && lstat(path, &st) < 0)
			fakedns_collect_stale(STATE_SHM_DIR,
					      (unsigned)getuid());
		rc = health_attach(&real_sys_io, path, &table);
	}
	if (rc < 0 && !retry_once_short(rc))
		rc = health_attach(&real_sys_io, NULL, &table);
	if (rc == 0) {
		state_health = table;
		if (tries > 0)
			log_info("proxy health table mapped after %u tries",
				 tries + 1);
	} else if (retry_once_short(rc)) {
		if (tries == 0)
			log_warn("proxy health table cannot be mapped now "
				 "(%s): dead group members are not remembered "
				 "until a later call maps it",
				 strerror(-rc));
	} else {
		log_warn("proxy health table unusable (%s); dead group members "
			 "are not remembered",
			 strerror(-rc));
	}
	return rc;
}

/* Stream isolation (isolate.h): the tag of this process ("pid-PID") or
 * run ("run-SESSION"; the pid when the wrapper set no session) into the
 * SOCKS5 proxies' credentials. No stdio, no malloc: also called in a fork
 * child (socksify_after_fork_child). */
static void state_isolate(void)
{
	char tag[STATE_SESSION_MAX + 8], digits[12];
	size_t n = 0, len = 0;
	unsigned pid = (unsigned)getpid();

	if (state_config.isolate == ISOLATE_RUN && state_session[0]) {
		memcpy(tag, "run-", 4);
		memcpy(tag + 4, state_session, strlen(state_session) + 1);
	} else {
		do
			digits[n++] = (char)('0' + pid % 10);
		while ((pid /= 10) != 0);
		memcpy(tag, "pid-", 4);
		len = 4;
		while (n)
			tag[len++] = digits[--n];
		tag[len] = '\0';
	}
	isolate_apply(&state_config, tag);
}

/* The configuration could not be loaded for want of a descriptor or
 * memory (why): say so (at level error the first time, at debug after
 * that, as every refused call logs too). Under state_lock. */
static void state_log_transient(const char *why)
{
	if (state_retry_count++ == 0)
		log_error("cannot load the configuration now (%s): this call "
			  "is refused, and the next one tries again",
			  why);
	else
		log_debug("configuration still not loaded (%s); refused", why);
}

/* The load, under state_lock: configuration from the environment, the log,
 * the proxy's address, the session id. Returns true when it is final
 * (loaded, or a real config error), false when it failed for want of a
 * descriptor or memory. */
static bool state_load(void)
{
	struct config_env env;

	config_env_read(&env, state_env);
	real_init();
	log_set_io(&real_sys_io); /* a hook may run before our constructor */
	config_load(&state_config, &env, &real_sys_io);
	log_setup(state_config.log_level, state_env("SOCKSIFY_LOG_FILE"));
	if (!state_config.valid && state_config.error_transient) {
		state_log_transient(state_config.error);
		return false;
	}
	if (!state_config.valid) {
		log_error("config error: %s; every connection will be refused",
			  state_config.error);
		return true;
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
	if (state_config.isolate != ISOLATE_OFF)
		state_isolate();
	if (!state_resolve_proxy(&state_config)) {
		state_log_transient("no descriptor or memory free to resolve "
				    "a proxy's host name");
		return false;
	}
	retry_once_run(&state_health_once, state_health_step, &state_config,
		       true);
	return true;
}

/* The configuration for a call whose load was not final: state_retry,
 * made once (invalid; defaults for every other field). Under state_lock. */
static const struct config *state_retry_config(void)
{
	if (!state_retry_ready) {
		config_defaults(&state_retry);
		state_retry.valid = false;
		state_retry.error_transient = true;
		snprintf(state_retry.error, sizeof state_retry.error,
			 "the configuration could not be loaded yet (no "
			 "descriptor or memory free to read it or to resolve "
			 "a proxy's name); the next call tries again");
		state_retry_ready = true;
	}
	return &state_retry;
}

const struct config *socksify_config(void)
{
	const struct config *cfg = &state_config;

	if (atomic_load_explicit(&state_loaded, memory_order_acquire) ||
	    state_loading)
		return &state_config;
	state_loading = true;
	pthread_mutex_lock(&state_lock);
	if (!atomic_load_explicit(&state_loaded, memory_order_relaxed)) {
		if (state_load())
			atomic_store_explicit(&state_loaded, true,
					      memory_order_release);
		else
			cfg = state_retry_config();
	}
	pthread_mutex_unlock(&state_lock);
	state_loading = false;
	return cfg;
}

int socksify_proxy_sockaddr(int family, struct sockaddr_storage *ss)
{
	return socksify_chain_sockaddr(CONFIG_DEFAULT_CHAIN, family, ss);
}

int socksify_chain_sockaddr(unsigned chain, int family,
			    struct sockaddr_storage *ss)
{
	/* Not loaded (state_retry): state_proxy may be being written. */
	if (!socksify_config()->valid || chain >= CONFIG_MAX_CHAINS)
		return -EHOSTUNREACH;
	return proxyaddr_sockaddr(&state_proxy[chain], family, ss);
}

bool socksify_is_proxy(const struct endpoint *ep)
{
	const struct config *cfg = socksify_config();
	unsigned i;

	if (!cfg->valid)
		return false;
	for (i = 0; i < cfg->chain_count && i < CONFIG_MAX_CHAINS; i++)
		if (proxyaddr_is(&state_proxy[i], ep))
			return true;
	return false;
}

struct health *socksify_health(void)
{
	/* Not loaded (state_retry), or inside the load: nothing attached. */
	if (!socksify_config()->valid || state_loading)
		return NULL;
	/* Mapped at load; when that found no descriptor or memory free, try
	 * again, unless another thread (or this one, interrupted by a signal
	 * handler) is at it: this call then goes without the table. */
	if (!retry_once_run(&state_health_once, state_health_step, NULL, false))
		return NULL;
	return state_health;
}

/* Join (or create) the session's table file; before creating one, remove
 * the files of sessions whose process is gone. Returns 0 or -errno; a real
 * failure is logged (the caller falls back to a private table), a want of
 * a descriptor or memory is not (the caller tries the file again later). */
static int state_attach_session(const struct config *cfg,
				struct fakedns **table)
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
	rc = fakedns_attach(&real_sys_io, table, path, cfg->fake_entries);
	if (rc < 0 && !retry_once_short(rc))
		log_error("fake DNS table %s unusable (%s): falling back to a "
			  "table private to this process and its children; "
			  "programs it execs will not share its fake names",
			  path, strerror(-rc));
	return rc;
}

/* One try at the fake-DNS table (a retry_once step; arg: the config):
 * the session file when there is one, else (or when it fails for real)
 * anonymous shared memory. A real failure is logged and final (no table:
 * lookups needing a fake address fail). No descriptor or memory free:
 * no table for now, not even a private one (a process must never hold two
 * tables: one fake address would have two names), and the next call tries
 * again. */
static int state_attach(void *arg, unsigned tries)
{
	const struct config *cfg = arg;
	struct fakedns *table = NULL;
	int rc = -ENOENT;

	if (state_session[0])
		rc = state_attach_session(cfg, &table);
	if (rc < 0 && !retry_once_short(rc))
		rc = fakedns_attach(&real_sys_io, &table, NULL,
				    cfg->fake_entries);
	if (rc == 0) {
		state_table = table;
		if (tries > 0)
			log_info("fake DNS table mapped after %u tries",
				 tries + 1);
	} else if (retry_once_short(rc)) {
		if (tries == 0)
			log_error("cannot map the fake DNS table now (%s): "
				  "host name lookups fail until a later one "
				  "maps it",
				  strerror(-rc));
		else
			log_debug("fake DNS table still not mapped (%s)",
				  strerror(-rc));
	} else {
		log_error("cannot map the fake DNS table: %s", strerror(-rc));
	}
	return rc;
}

struct fakedns *socksify_fakedns(void)
{
	const struct config *cfg;
	bool final;

	if (retry_once_final(&state_table_once))
		return state_table;
	/* Not loaded (state_retry), or inside the load (the session is not
	 * known yet), or inside this thread's own try (a signal handler):
	 * no table for this call. */
	cfg = socksify_config();
	if (!cfg->valid || state_loading || state_table_attaching)
		return NULL;
	state_table_attaching = true;
	final =
	    retry_once_run(&state_table_once, state_attach, (void *)cfg, true);
	state_table_attaching = false;
	return final ? state_table : NULL;
}

void socksify_before_fork(void)
{
	const struct config *cfg = socksify_config();

	if (!cfg->valid)
		return;
	if (cfg->remote_dns)
		socksify_fakedns();
	socksify_health();
}

void socksify_after_fork_child(void)
{
	/* The only thread holds nothing; a load another thread of the
	 * parent had under way is not final and runs again. */
	if (!atomic_load_explicit(&state_loaded, memory_order_acquire))
		pthread_mutex_init(&state_lock, NULL);
	retry_once_after_fork(&state_table_once);
	retry_once_after_fork(&state_health_once);
	if (atomic_load_explicit(&state_loaded, memory_order_acquire) &&
	    state_config.valid && state_config.isolate == ISOLATE_PID)
		state_isolate();
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
