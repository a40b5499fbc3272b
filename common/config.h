/* config.h — the immutable run-time configuration: proxies, routes, DNS,
 * timeouts and logging. Built once, then only read. */
#ifndef SOCKSIFY_CONFIG_H
#define SOCKSIFY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "netaddr.h"
#include "proxyurl.h"
#include "sys_io.h"

#define CONFIG_MAX_PROXIES 8
#define CONFIG_MAX_RULES   64
#define CONFIG_ERROR_MAX   512
/* Named chains and groups ("chain NAME URL...", "group NAME MODE ..."). */
#define CONFIG_NAME_MAX	      32 /* a chain's or group's name, with its NUL */
#define CONFIG_MAX_CHAINS     16 /* index 0 is the default chain */
#define CONFIG_MAX_CHAIN_HOPS 32 /* the proxies of every named chain */
#define CONFIG_MAX_GROUPS     16
#define CONFIG_MAX_MEMBERS    8 /* of one group */
#define CONFIG_DEFAULT_CHAIN  0
/* A proxy URL as proxyurl_format() writes it (no password). */
#define CONFIG_URL_TEXT_MAX 600
/* async_handshakes: records for handshakes in flight at once. The library's
 * descriptor map holds a record's index + 1 in 16 bits. */
#define CONFIG_ASYNC_HANDSHAKES_DEFAULT 512
#define CONFIG_ASYNC_HANDSHAKES_MAX	65535

enum log_level {
	LOG_NONE = 0,
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO, /* one line per routing decision */
	LOG_DEBUG,
};

enum rule_action {
	RULE_DIRECT, /* connect without the proxy */
	RULE_BLOCK,  /* refuse with EACCES */
	RULE_VIA,    /* "route MATCH ... via NAME": through that chain/group */
};

/* Where a proxied connection goes: a chain (chains[index], 0 being the
 * default chain of the proxy lines) or a group (groups[index]). */
enum target_kind {
	TARGET_CHAIN = 0,
	TARGET_GROUP,
};

struct route_target {
	enum target_kind kind;
	unsigned index;
};

/* Which transport a rule applies to ("direct NET port 53 udp"). */
enum rule_proto {
	RULE_PROTO_ANY = 0,
	RULE_PROTO_TCP,
	RULE_PROTO_UDP,
};

/* "direct 10.0.0.0/8 port 22" — matches when the address lies in net (or,
 * for a host-name rule, the name fits host), the port in [port_min,
 * port_max] (0..65535 when no port was given) and the transport is proto
 * (any when not given). */
struct rule {
	enum rule_action action;
	struct netmask net; /* AF_UNSPEC: "*" or a host-name rule */
	uint16_t port_min, port_max;
	enum rule_proto proto;
	struct host_pattern host; /* set for "host.example", ".example" */
	struct route_target via;  /* RULE_VIA */
	unsigned line;		  /* in the file, for --explain and the log */
};

/* "chain NAME URL [URL ...]": hops chain_hops[first .. first + count).
 * chains[0] is the default chain, whose hops are cfg->proxies. A group
 * member given as a URL is a chain of its own with an empty name. */
struct chain {
	char name[CONFIG_NAME_MAX];
	unsigned first, count;
};

enum group_mode {
	GROUP_FAILOVER,
	GROUP_RACE, /* failover, race_delay per non-last member */
	GROUP_ROUND_ROBIN,
	GROUP_RANDOM,
};

/* "group NAME MODE MEMBER...": members are chains or earlier groups. */
struct group {
	char name[CONFIG_NAME_MAX];
	enum group_mode mode;
	unsigned member_count;
	struct route_target members[CONFIG_MAX_MEMBERS];
};

/* What UDP to a destination routed via the proxy does. */
enum udp_mode {
	UDP_AUTO,   /* proxy when the chain is one SOCKS5 proxy, else block */
	UDP_PROXY,  /* SOCKS5 UDP ASSOCIATE */
	UDP_DIRECT, /* sent around the proxy: the user's explicit choice */
	UDP_BLOCK,  /* refused with EACCES */
};

/* Which listening TCP sockets get a SOCKS BIND ("bind auto|on|off"). */
enum bind_mode {
	BIND_MODE_AUTO, /* evident callbacks only: see bind_auto_wanted() in
			 * preload/bind.c and "bind" in socksify.conf.example */
	BIND_MODE_ON,	/* every listener on a wildcard or outside address */
	BIND_MODE_OFF,	/* none */
};

/* What a BIND request asks the proxy to accept from (DST.ADDR/DST.PORT). */
enum bind_peer {
	BIND_PEER_LAST,	 /* the destination of the most recent proxied TCP
			  * connection, port 0; zeros while there is none */
	BIND_PEER_ZEROS, /* always 0.0.0.0:0 (any host) */
};

enum remote_dns_mode {
	REMOTE_DNS_AUTO, /* follow the last proxy's scheme (socks5h, socks4a) */
	REMOTE_DNS_ON,
	REMOTE_DNS_OFF,
	REMOTE_DNS_RESOLVE, /* names resolved by the proxy (Tor's RESOLVE) into
			     * real addresses, not fake ones */
};

/* Stream isolation ("isolate"): a SOCKS5 username/password that differs
 * per process or per run, for Tor's IsolateSOCKSAuth (see isolate.h). */
enum isolate_mode {
	ISOLATE_OFF,
	ISOLATE_PID, /* one per process */
	ISOLATE_RUN, /* one per socksify run (the session id) */
};

struct config {
	/* The chain: proxies[0] is connected to first; the last one reaches
	 * the destination. One entry is the common case. */
	struct proxy proxies[CONFIG_MAX_PROXIES];
	unsigned proxy_count;

	enum remote_dns_mode remote_dns_mode;
	bool remote_dns; /* resolved from the mode by config_finish() */
	struct netmask fake_ipv4, fake_ipv6;
	uint32_t fake_entries; /* capacity of the name map */

	/* First matching rule wins; no match means "via the proxy". When the
	 * file gives no direct rule, loopback is direct (default_direct). */
	struct rule rules[CONFIG_MAX_RULES];
	unsigned rule_count;
	bool default_direct; /* add 127.0.0.0/8 and ::1 as direct */

	/* Named chains (chains[0] stands for the proxy lines above) and
	 * groups; rules name them with "route ... via NAME". */
	struct chain chains[CONFIG_MAX_CHAINS];
	unsigned chain_count; /* at least 1: the default chain */
	struct proxy chain_hops[CONFIG_MAX_CHAIN_HOPS];
	unsigned chain_hop_count;
	struct group groups[CONFIG_MAX_GROUPS];
	unsigned group_count;
	unsigned down_time_ms;	/* a failed group member rests this long */
	unsigned race_delay_ms; /* race groups: wait before the next member */

	/* UDP policy; config_finish() turns UDP_AUTO into one of the others.
	 * UDP_PROXY with a SOCKS4 proxy or a chain is a config error. */
	enum udp_mode udp_mode;
	/* The file said "udp auto" (or nothing): a chain or group that a
	 * route rule names carries UDP when it holds a single SOCKS5 proxy,
	 * whatever udp_mode became for the default chain. */
	bool udp_auto;

	/* Listening TCP sockets through the proxy (SOCKS BIND): auto by
	 * default, so callbacks (active FTP) work while servers on a fixed
	 * port stay local. */
	enum bind_mode bind_mode;
	enum bind_peer bind_peer;

	unsigned connect_timeout_ms;   /* TCP connect to the first proxy */
	unsigned handshake_timeout_ms; /* the whole SOCKS exchange */
	/* A non-blocking connect() returns EINPROGRESS at once and the
	 * handshake runs in the background (default on). */
	bool async_connect;
	/* A blocking connect() reaches the first proxy with a TCP Fast Open
	 * sendto() (default on): no fcntl(), no SO_ERROR; its SYN carries a
	 * Fast Open option. Off: a plain non-blocking connect(). */
	bool fastopen;
	/* How many of them may be in flight at once; beyond that a
	 * non-blocking connect() runs its handshake before it returns. */
	unsigned async_handshakes;
	enum log_level log_level;
	bool log_level_set; /* given in the file (env still overrides) */

	/* The guard (default on): every program the wrapper runs, dynamic
	 * ones too, gets the supervisor's seccomp filter, so raw system
	 * calls and io_uring cannot go around the library. */
	bool guard;

	char source[256]; /* the file read, or "" for built-in defaults */
	/* When not valid, error holds "file:line: message" and every
	 * connection must fail closed. */
	bool valid;
	char error[CONFIG_ERROR_MAX];
	/* The load failed only because a file could not be read for want of
	 * a descriptor or memory (EMFILE, ENFILE, ENOMEM): nothing is wrong
	 * with the settings, and loading again later may work. */
	bool error_transient;
	bool world_readable_secret; /* a password in a file others can read */
	enum isolate_mode isolate;  /* default ISOLATE_OFF */
};

/* Where settings come from besides the file; any field may be NULL. */
struct config_env {
	const char *conf_file; /* -f / SOCKSIFY_CONF */
	const char *proxy_url; /* -x / SOCKSIFY_PROXY: replaces the chain */
	const char *log_level; /* SOCKSIFY_LOG: none|error|warn|info|debug */
	const char *pipeline; /* SOCKSIFY_PIPELINE: "1" pipelines every proxy */
	const char *fastopen; /* SOCKSIFY_FASTOPEN: "0" off, "1" on */
	/* SOCKSIFY_GSSAPI: "1" authenticates to every SOCKS5 proxy of the
	 * default chain with GSS-API; SOCKSIFY_GSSAPI_SERVICE and
	 * SOCKSIFY_GSSAPI_PROTECTION then set the service name and the
	 * protection level of every GSS-API proxy of that chain. */
	const char *gssapi;
	const char *gssapi_service;
	const char *gssapi_protection;
	const char *xdg_config_home;
	const char *home;
	/* The system-wide file; NULL means "/etc/socksify.conf" (tests
	 * point it elsewhere). */
	const char *system_conf;
	/* SOCKSIFY_PROXY_FILE: a file of ours, private (0600), that holds the
	 * proxy URL in proxy_url's place, so that a password stays out of
	 * every process's environment (the wrapper writes it for -x). */
	const char *proxy_file;
};

/* Fill env (system_conf NULL) from the environment variables named above,
 * each read with get (getenv or secure_getenv, or a wrapper that treats ""
 * as unset). */
void config_env_read(struct config_env *env, const char *(*get)(const char *));

/* Built-in defaults: socks5h://127.0.0.1:1080, remote DNS, fake ranges
 * 240.0.0.0/4 and fd5c:6f63:6b73::/48, 16777216 names, loopback direct,
 * 10 s connect, 10 s handshake, asynchronous non-blocking connects (512 at
 * once), log level error. */
void config_defaults(struct config *cfg);

/* Parse config text (the whole file). filename is used in messages only.
 * Returns 0, or -EINVAL with cfg->error = "filename:line: reason" and
 * cfg->valid = false. Unknown keys are errors. */
int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *filename);

/* Pick the file to read: env->conf_file, else
 * $XDG_CONFIG_HOME/socksify/socksify.conf (default ~/.config/...), else
 * /etc/socksify.conf (or env->system_conf). Writes the path into buf;
 * returns 1 when a file was chosen, 0 when none exists (use defaults),
 * -ENOENT when conf_file was given explicitly but does not exist,
 * -ENAMETOOLONG when a path does not fit buf. A file that exists but cannot
 * be examined (EACCES) is chosen, so that reading it reports the error. */
int config_find_file(const struct config_env *env, char *buf, size_t cap);

/* The whole load: defaults, the chosen file (opened, examined, read and
 * closed through io; see sys_io.h), then the environment overrides, then
 * config_finish(). Always leaves a usable struct: on error cfg->valid is
 * false and cfg->error says why. Returns 0 or -EINVAL. */
int config_load(struct config *cfg, const struct config_env *env,
		const struct sys_io *io);

/* Derive settings that depend on others (remote_dns from its mode) and
 * check consistency (names over a socks4 hop, ...). Returns 0 or -EINVAL. */
int config_finish(struct config *cfg);

/* True when any proxy of cfg (a proxy line or a chain's hop) uses
 * GSS-API. */
bool config_uses_gssapi(const struct config *cfg);

/* Whether cfg lets any listener get a BIND: bind auto or on, and a SOCKS
 * proxy last in some chain (an HTTP proxy has no BIND; with "bind auto" a
 * listener whose BIND would go through one simply stays local). */
bool config_bind_usable(const struct config *cfg);

/* The hops of chains[index] (the proxy lines for CONFIG_DEFAULT_CHAIN) and
 * their number in *count. */
const struct proxy *config_chain_hops(const struct config *cfg, unsigned index,
				      unsigned *count);

/* The name of a target for messages: the chain's or group's name,
 * "default" for the default chain, or a URL member's proxy URL (no
 * password) written into buf. */
const char *config_target_name(const struct config *cfg,
			       struct route_target target, char *buf,
			       size_t cap);

/* Parse a level name. Returns 0 or -EINVAL. */
int config_parse_log_level(const char *text, enum log_level *out);

#endif
