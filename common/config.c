/* config.c — build the run-time configuration: built-in defaults, then the
 * config file, then the environment, then derived settings. The public
 * entry points of config.h live here; config_internal.h says where the
 * lexer, the key parsers and the file search are. Error texts never quote a
 * password. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_internal.h"
#include "gssmsg.h"

/* The built-in defaults (see config_defaults() in config.h). */
#define CONFIG_DEFAULT_PROXY_HOST    "127.0.0.1"
#define CONFIG_DEFAULT_FAKE_IPV4     "240.0.0.0/4"
#define CONFIG_DEFAULT_FAKE_IPV6     "fd5c:6f63:6b73::/48"
#define CONFIG_DEFAULT_FAKE_ENTRIES  16777216u
#define CONFIG_DEFAULT_TIMEOUT_MS    (10u * CONFIG_MS_PER_SECOND)
#define CONFIG_DEFAULT_DOWN_TIME_MS  (30u * CONFIG_MS_PER_SECOND)
#define CONFIG_DEFAULT_RACE_DELAY_MS 250u

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->proxies[0].type = PROXY_SOCKS5H;
	endpoint_parse_ip(&cfg->proxies[0].addr, CONFIG_DEFAULT_PROXY_HOST);
	cfg->proxies[0].addr.port = PROXY_DEFAULT_PORT;
	cfg->proxy_count = 1;
	cfg->remote_dns_mode = REMOTE_DNS_AUTO;
	cfg->remote_dns = true;
	netmask_parse(&cfg->fake_ipv4, CONFIG_DEFAULT_FAKE_IPV4);
	netmask_parse(&cfg->fake_ipv6, CONFIG_DEFAULT_FAKE_IPV6);
	cfg->fake_entries = CONFIG_DEFAULT_FAKE_ENTRIES;
	cfg->default_direct = true;
	cfg->chain_count = 1; /* chains[0]: the default chain */
	cfg->down_time_ms = CONFIG_DEFAULT_DOWN_TIME_MS;
	cfg->race_delay_ms = CONFIG_DEFAULT_RACE_DELAY_MS;
	cfg->connect_timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
	cfg->handshake_timeout_ms = CONFIG_DEFAULT_TIMEOUT_MS;
	cfg->async_connect = true;
	cfg->fastopen = true;
	cfg->bind_mode = BIND_MODE_AUTO;
	cfg->async_handshakes = CONFIG_ASYNC_HANDSHAKES_DEFAULT;
	cfg->guard = true;
	cfg->log_level = LOG_ERROR;
	cfg->valid = true;
}

static const char *const log_level_names[] = {
    [LOG_NONE] = "none", [LOG_ERROR] = "error", [LOG_WARN] = "warn",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

int config_parse_log_level(const char *text, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]);
	     i++) {
		if (text && strcmp(text, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parse one line of text[0..len). Returns 0 or -EINVAL with ps->reason.
 * The copy of the line, which may hold a password, is cleared. */
static int config_parse_line(struct config_parser *ps, const char *text,
			     size_t len)
{
	char line[CONFIG_LINE_MAX];
	char *words[CONFIG_WORDS_MAX];
	int count = config_lex_words(ps, text, len, line, words);
	int rc = count;

	if (count > 0)
		rc = config_keys_apply(ps, words, (unsigned)count);
	explicit_bzero(line, len < sizeof(line) ? len : 0);
	return rc < 0 ? rc : 0;
}

int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *filename)
{
	struct config_parser ps = {.cfg = cfg};
	unsigned line_no = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - text) - pos : len - pos;

		line_no++;
		ps.line = line_no;
		if (config_parse_line(&ps, text + pos, line_len) < 0)
			return config_fail(cfg, "%s:%u: %s", filename, line_no,
					   ps.reason);
		pos += line_len + 1;
	}
	return 0;
}

/* The file or source a whole-config message is about, as "NAME: ". */
static const char *source_prefix(const struct config *cfg, char *buf,
				 size_t cap)
{
	buf[0] = '\0';
	if (cfg->source[0])
		snprintf(buf, cap, "%s: ", cfg->source);
	return buf;
}

/* Apply remote_dns_mode to a chain's last proxy: "on" (and "resolve",
 * which sends names too) makes a socks5 one
 * socks5h, "off" the reverse (and socks4a socks4). Returns 0, or -EINVAL
 * when "on" meets a socks4 proxy. */
static int adjust_last_hop(struct config *cfg, struct proxy *last,
			   const char *chain)
{
	char prefix[sizeof(cfg->source) + 2];

	switch (cfg->remote_dns_mode) {
	case REMOTE_DNS_ON:
	case REMOTE_DNS_RESOLVE:
		if (last->type == PROXY_SOCKS4)
			return config_fail(
			    cfg,
			    "%sremote_dns on: socks4 cannot "
			    "carry host names; use socks4a%s%s",
			    source_prefix(cfg, prefix, sizeof(prefix)),
			    chain[0] ? " in chain " : "", chain);
		if (last->type == PROXY_SOCKS5)
			last->type = PROXY_SOCKS5H;
		break;
	case REMOTE_DNS_OFF:
		if (last->type == PROXY_SOCKS5H)
			last->type = PROXY_SOCKS5;
		else if (last->type == PROXY_SOCKS4A)
			last->type = PROXY_SOCKS4;
		break;
	case REMOTE_DNS_AUTO:
		break;
	}
	return 0;
}

/* Turn remote_dns_mode into remote_dns, adjusting each chain's last
 * proxy's type so that proxy_sends_names() alone says whether names go to
 * the proxy. The default chain decides "auto"; then every named chain must
 * carry names too, since a name rule or group may send a name through it. */
static int finish_remote_dns(struct config *cfg)
{
	char prefix[sizeof(cfg->source) + 2];
	unsigned i;

	if (adjust_last_hop(cfg, &cfg->proxies[cfg->proxy_count - 1], "") < 0)
		return -EINVAL;
	/* An http:// proxy always takes names; with remote DNS off it just
	 * never gets one, since names are then resolved locally. */
	cfg->remote_dns =
	    cfg->remote_dns_mode != REMOTE_DNS_OFF &&
	    proxy_sends_names(&cfg->proxies[cfg->proxy_count - 1]);
	if (cfg->remote_dns_mode == REMOTE_DNS_RESOLVE &&
	    !proxy_is_socks5(&cfg->proxies[cfg->proxy_count - 1]))
		return config_fail(cfg,
				   "%sremote_dns resolve needs a SOCKS5 proxy "
				   "(Tor's RESOLVE command) at the end of the "
				   "default chain",
				   source_prefix(cfg, prefix, sizeof(prefix)));
	for (i = 1; i < cfg->chain_count; i++) {
		const struct chain *c = &cfg->chains[i];
		struct proxy *last = &cfg->chain_hops[c->first + c->count - 1];
		char url[CONFIG_URL_TEXT_MAX];

		if (adjust_last_hop(cfg, last, c->name) < 0)
			return -EINVAL;
		if (cfg->remote_dns && !proxy_sends_names(last))
			return config_fail(
			    cfg,
			    "%sremote DNS is on but %s%s cannot carry "
			    "host names; use socks5h:// or socks4a://",
			    source_prefix(cfg, prefix, sizeof(prefix)),
			    c->name[0] ? "chain " : "",
			    c->name[0]
				? c->name
				: proxyurl_format(last, url, sizeof url));
	}
	return 0;
}

/* Each hop must be able to express the next hop's address: SOCKS4 carries
 * only IPv4, and host names only as SOCKS4a; SOCKS5 and HTTP carry all. */
static int check_hops(struct config *cfg, const struct proxy *hops,
		      unsigned count, const char *chain)
{
	char prefix[sizeof(cfg->source) + 2];
	const char *in = chain[0] ? " of chain " : "";
	unsigned i;

	for (i = 0; i + 1 < count; i++) {
		const struct proxy *hop = &hops[i];
		enum endpoint_kind next = hops[i + 1].addr.kind;

		if (proxy_is_socks5(hop) || proxy_is_http(hop))
			continue;
		if (next == ENDPOINT_IPV6)
			return config_fail(
			    cfg,
			    "%sproxy %u%s%s is socks4: it cannot "
			    "reach the IPv6 address of proxy %u",
			    source_prefix(cfg, prefix, sizeof(prefix)), i + 1,
			    in, chain, i + 2);
		if (next == ENDPOINT_NAME && hop->type == PROXY_SOCKS4)
			return config_fail(
			    cfg,
			    "%sproxy %u%s%s is socks4: it cannot "
			    "reach the host name of proxy %u; "
			    "use socks4a",
			    source_prefix(cfg, prefix, sizeof(prefix)), i + 1,
			    in, chain, i + 2);
	}
	return 0;
}

static int check_chain(struct config *cfg)
{
	unsigned i;

	if (check_hops(cfg, cfg->proxies, cfg->proxy_count, "") < 0)
		return -EINVAL;
	for (i = 1; i < cfg->chain_count; i++)
		if (check_hops(cfg, &cfg->chain_hops[cfg->chains[i].first],
			       cfg->chains[i].count, cfg->chains[i].name) < 0)
			return -EINVAL;
	return 0;
}

/* The name map cannot hold more names than either range has addresses
 * (neither the network address nor the range's last one is handed out:
 * see fakedns_index_to_addr). */
static void cap_fake_entries(struct config *cfg)
{
	uint32_t v4 = netmask_size(&cfg->fake_ipv4) - 2;
	uint32_t v6 = netmask_size(&cfg->fake_ipv6) - 2;

	if (cfg->fake_entries > v4)
		cfg->fake_entries = v4;
	if (cfg->fake_entries > v6)
		cfg->fake_entries = v6;
}

/* Turn UDP_AUTO into UDP_PROXY or UDP_BLOCK for the default chain (and
 * remember it was auto: route rules decide per chain, see
 * udpassoc_target_mode()), and refuse an explicit
 * "udp proxy" that no proxy of the chain could carry: UDP ASSOCIATE exists
 * only in SOCKS5, and its relay is reached directly, so it cannot be
 * tunnelled through earlier hops. */
static int finish_udp(struct config *cfg)
{
	bool one_socks5 =
	    cfg->proxy_count == 1 && proxy_is_socks5(&cfg->proxies[0]);
	char prefix[sizeof(cfg->source) + 2];

	if (cfg->udp_mode == UDP_AUTO) {
		cfg->udp_auto = true;
		cfg->udp_mode = one_socks5 ? UDP_PROXY : UDP_BLOCK;
	}
	if (cfg->udp_mode != UDP_PROXY || one_socks5)
		return 0;
	return config_fail(
	    cfg, "%sudp proxy needs a single socks5 proxy: %s",
	    source_prefix(cfg, prefix, sizeof(prefix)),
	    cfg->proxy_count > 1 ? "UDP cannot cross a proxy chain"
	    : proxy_is_http(&cfg->proxies[0])
		? "an http proxy has no UDP (HTTP CONNECT is TCP "
		  "only)"
		: "SOCKS4 has no UDP");
}

bool config_bind_usable(const struct config *cfg)
{
	const struct proxy *hops;
	unsigned i, count;

	if (!cfg->valid || cfg->bind_mode == BIND_MODE_OFF)
		return false;
	for (i = 0; i < cfg->chain_count && i < CONFIG_MAX_CHAINS; i++) {
		hops = config_chain_hops(cfg, i, &count);
		if (count > 0 && !proxy_is_http(&hops[count - 1]))
			return true;
	}
	return false;
}

/* "bind on" asks the last proxy of the chain for BIND, which HTTP CONNECT
 * does not have ("bind auto" then simply leaves every listener local). */
static int finish_bind(struct config *cfg)
{
	char prefix[sizeof(cfg->source) + 2];

	if (cfg->bind_mode != BIND_MODE_ON ||
	    !proxy_is_http(&cfg->proxies[cfg->proxy_count - 1]))
		return 0;
	return config_fail(cfg,
			   "%sbind on needs a SOCKS proxy last in the chain: "
			   "an http proxy cannot accept connections for us "
			   "(HTTP CONNECT has no BIND)",
			   source_prefix(cfg, prefix, sizeof(prefix)));
}

int config_finish(struct config *cfg)
{
	if (!cfg->valid)
		return -EINVAL;
	if (cfg->proxy_count == 0 || cfg->proxy_count > CONFIG_MAX_PROXIES)
		return config_fail(cfg, "no proxy configured");
	if (finish_remote_dns(cfg) < 0 || check_chain(cfg) < 0 ||
	    finish_udp(cfg) < 0 || finish_bind(cfg) < 0)
		return -EINVAL;
	cap_fake_entries(cfg);
	return 0;
}
/* SOCKSIFY_PROXY / -x: one proxy that replaces the whole chain. origin
 * names where the URL came from in messages. */
static int apply_env_proxy(struct config *cfg, const char *url,
			   const char *origin)
{
	struct proxy p;
	char why[CONFIG_WHY_MAX];

	if (!url || !url[0])
		return 0;
	if (proxyurl_parse(&p, url, why, sizeof(why)) < 0)
		return config_fail(cfg, "%s: bad proxy URL: %s", origin, why);
	memset(cfg->proxies, 0, sizeof(cfg->proxies));
	cfg->proxies[0] = p;
	cfg->proxy_count = 1;
	explicit_bzero(&p, sizeof(p));
	return 0;
}

/* SOCKSIFY_PROXY_FILE: the proxy URL read from a private file, in place of
 * SOCKSIFY_PROXY (both at once is an error: which one was meant?). */
static int apply_env_proxy_file(struct config *cfg,
				const struct config_env *env,
				const struct sys_io *io)
{
	char url[CONFIG_PROXY_URL_MAX];
	int rc;

	if (!env->proxy_file || !env->proxy_file[0])
		return apply_env_proxy(cfg, env->proxy_url, "SOCKSIFY_PROXY");
	if (env->proxy_url && env->proxy_url[0])
		return config_fail(cfg,
				   "SOCKSIFY_PROXY and SOCKSIFY_PROXY_FILE "
				   "are both set: set only one");
	rc = config_file_read_proxy(cfg, env->proxy_file, (unsigned)geteuid(),
				    io, url, sizeof(url));
	if (rc == 0)
		rc = apply_env_proxy(cfg, url, "SOCKSIFY_PROXY_FILE");
	explicit_bzero(url, sizeof(url));
	return rc;
}

/* SOCKSIFY_PIPELINE: "1" pipelines every proxy of the chain (the file's
 * or the one -x gave); "0", empty or unset leaves each proxy's own
 * setting. */
static int apply_env_pipeline(struct config *cfg, const char *text)
{
	unsigned i;

	if (!text || !text[0] || strcmp(text, "0") == 0)
		return 0;
	if (strcmp(text, "1") != 0)
		return config_fail(cfg, "SOCKSIFY_PIPELINE: expected 0 or 1");
	for (i = 0; i < cfg->proxy_count; i++)
		cfg->proxies[i].pipeline = true;
	for (i = 0; i < cfg->chain_hop_count; i++)
		cfg->chain_hops[i].pipeline = true;
	return 0;
}

/* SOCKSIFY_FASTOPEN: "0" or "1" overrides the file's fastopen; empty or
 * unset leaves it. */
static int apply_env_fastopen(struct config *cfg, const char *text)
{
	if (!text || !text[0])
		return 0;
	if (strcmp(text, "0") != 0 && strcmp(text, "1") != 0)
		return config_fail(cfg, "SOCKSIFY_FASTOPEN: expected 0 or 1");
	cfg->fastopen = text[0] == '1';
	return 0;
}

/* SOCKSIFY_GSSAPI: "1" turns GSS-API on for every proxy of the default
 * chain, which must all be SOCKS5; "0", empty or unset leaves each
 * proxy's own setting. */
static int apply_env_gssapi_on(struct config *cfg, const char *text)
{
	unsigned i;

	if (!text || !text[0] || strcmp(text, "0") == 0)
		return 0;
	if (strcmp(text, "1") != 0)
		return config_fail(cfg, "SOCKSIFY_GSSAPI: expected 0 or 1");
	for (i = 0; i < cfg->proxy_count; i++) {
		if (!proxy_is_socks5(&cfg->proxies[i]))
			return config_fail(cfg,
					   "SOCKSIFY_GSSAPI needs socks5:// or "
					   "socks5h:// proxies");
		cfg->proxies[i].gssapi = true;
	}
	return 0;
}

/* SOCKSIFY_GSSAPI_SERVICE and SOCKSIFY_GSSAPI_PROTECTION for every GSS-API
 * proxy of the default chain. */
static int apply_env_gssapi_words(struct config *cfg, const char *service,
				  const char *protection)
{
	struct proxy *p;
	uint8_t level = GSSMSG_PROTECT_CLEAR;
	size_t len = service ? strlen(service) : 0;

	if (len > PROXY_GSSAPI_SERVICE_MAX ||
	    (service && strspn(service, "abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789._-") != len))
		return config_fail(cfg, "SOCKSIFY_GSSAPI_SERVICE: expected a "
					"service name of 1 to 63 letters, "
					"digits, '.', '_' or '-'");
	if (protection && protection[0] &&
	    gssmsg_protection_parse(protection, &level) < 0)
		return config_fail(cfg, "SOCKSIFY_GSSAPI_PROTECTION: expected "
					"clear, integrity or confidentiality");
	for (unsigned i = 0; i < cfg->proxy_count; i++) {
		p = &cfg->proxies[i];
		if (!p->gssapi)
			continue;
		if (len)
			snprintf(p->gssapi_service, sizeof(p->gssapi_service),
				 "%s", service);
		if (protection && protection[0])
			p->gssapi_protection = level;
	}
	return 0;
}

static int apply_env_gssapi(struct config *cfg, const struct config_env *env)
{
	int rc = apply_env_gssapi_on(cfg, env->gssapi);

	if (rc == 0)
		rc = apply_env_gssapi_words(cfg, env->gssapi_service,
					    env->gssapi_protection);
	return rc;
}

bool config_uses_gssapi(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->proxy_count; i++)
		if (cfg->proxies[i].gssapi)
			return true;
	for (unsigned i = 0; i < cfg->chain_hop_count; i++)
		if (cfg->chain_hops[i].gssapi)
			return true;
	return false;
}

/* SOCKSIFY_LOG overrides the file's level. */
static int apply_env_log_level(struct config *cfg, const char *text)
{
	char shown[CONFIG_SHOWN_MAX];

	if (!text || !text[0])
		return 0;
	if (config_parse_log_level(text, &cfg->log_level) < 0)
		return config_fail(cfg,
				   "SOCKSIFY_LOG: unknown level '%.32s' (use "
				   "none, error, warn, info or debug)",
				   proxyurl_redact(text, shown, sizeof(shown)));
	return 0;
}

void config_env_read(struct config_env *env, const char *(*get)(const char *))
{
	*env = (struct config_env){
	    .conf_file = get("SOCKSIFY_CONF"),
	    .proxy_url = get("SOCKSIFY_PROXY"),
	    .log_level = get("SOCKSIFY_LOG"),
	    .pipeline = get("SOCKSIFY_PIPELINE"),
	    .fastopen = get("SOCKSIFY_FASTOPEN"),
	    .gssapi = get("SOCKSIFY_GSSAPI"),
	    .gssapi_service = get("SOCKSIFY_GSSAPI_SERVICE"),
	    .gssapi_protection = get("SOCKSIFY_GSSAPI_PROTECTION"),
	    .xdg_config_home = get("XDG_CONFIG_HOME"),
	    .home = get("HOME"),
	    .proxy_file = get("SOCKSIFY_PROXY_FILE"),
	};
}

int config_load(struct config *cfg, const struct config_env *env,
		const struct sys_io *io)
{
	static const struct config_env no_env;
	int saved_errno = errno;
	int rc;

	config_defaults(cfg);
	if (!env)
		env = &no_env;
	rc = config_file_load(cfg, env, io);
	if (rc == 0)
		rc = apply_env_proxy_file(cfg, env, io);
	if (rc == 0)
		rc = apply_env_pipeline(cfg, env->pipeline);
	if (rc == 0)
		rc = apply_env_fastopen(cfg, env->fastopen);
	if (rc == 0)
		rc = apply_env_gssapi(cfg, env);
	if (rc == 0)
		rc = apply_env_log_level(cfg, env->log_level);
	else if (env->log_level)
		/* Keep the first error; a valid level still applies. */
		config_parse_log_level(env->log_level, &cfg->log_level);
	if (rc == 0)
		rc = config_finish(cfg);
	errno = saved_errno;
	return rc;
}
