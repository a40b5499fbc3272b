/* config.c — build the run-time configuration: built-in defaults, then the
 * config file, then the environment, then derived settings.
 *
 * File format: one setting per line, "key value...", words separated by
 * blanks; a word that starts with '#' begins a comment. See
 * socksify.conf.example for every key. Error texts never quote a password. */
#include "config.h"
#include "sys_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_LINE_MAX	  4096
#define CONFIG_FILE_MAX	  (256 * 1024)
#define CONFIG_WORDS_MAX  8
#define CONFIG_REASON_MAX 256
#define SYSTEM_CONF	  "/etc/socksify.conf"

#define TIMEOUT_MIN_MS	 1u
#define TIMEOUT_MAX_MS	 3600000u
#define FAKE_ENTRIES_MIN 16u
#define FAKE_ENTRIES_MAX 16777216u

/* State while parsing one text. */
struct parser {
	struct config *cfg;
	bool saw_proxy; /* the first proxy line replaces the default chain */
	char reason[CONFIG_REASON_MAX];
};

static int reject(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int config_fail(struct config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write "fmt..." into ps->reason and return -EINVAL. */
static int reject(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->reason, sizeof(ps->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Mark cfg invalid with a formatted message. Returns -EINVAL. */
static int config_fail(struct config *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cfg->error, sizeof(cfg->error), fmt, ap);
	va_end(ap);
	cfg->valid = false;
	return -EINVAL;
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->proxies[0].type = PROXY_SOCKS5H;
	endpoint_parse_ip(&cfg->proxies[0].addr, "127.0.0.1");
	cfg->proxies[0].addr.port = PROXY_DEFAULT_PORT;
	cfg->proxy_count = 1;
	cfg->remote_dns_mode = REMOTE_DNS_AUTO;
	cfg->remote_dns = true;
	netmask_parse(&cfg->fake_ipv4, "240.0.0.0/4");
	netmask_parse(&cfg->fake_ipv6, "fd5c:6f63:6b73::/48");
	cfg->fake_entries = 65536;
	cfg->default_direct = true;
	cfg->connect_timeout_ms = 10000;
	cfg->handshake_timeout_ms = 10000;
	cfg->async_connect = true;
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

/* Parse a whole decimal number made only of digits (at most 9). */
static int parse_unsigned(const char *text, unsigned long *out)
{
	size_t digits = strspn(text, "0123456789");

	if (digits == 0 || digits > 9 || text[digits] != '\0')
		return -EINVAL;
	*out = strtoul(text, NULL, 10);
	return 0;
}

/* Milliseconds from the fraction after '.' in "2.5" (digits beyond the
 * millisecond are dropped). Sets *end past the digits. */
static int parse_fraction_ms(const char *text, unsigned long *ms,
			     const char **end)
{
	size_t digits = strspn(text, "0123456789");
	unsigned long scale = 100;
	size_t i;

	if (digits == 0)
		return -EINVAL;
	*ms = 0;
	for (i = 0; i < digits && scale > 0; i++, scale /= 10)
		*ms += (unsigned long)(text[i] - '0') * scale;
	*end = text + digits;
	return 0;
}

/* "10", "2.5", "2.5s" (seconds) or "500ms". Returns 0 with *ms set (1 ms ..
 * 1 hour), or -EINVAL. */
static int parse_duration_ms(const char *text, unsigned *ms)
{
	size_t digits = strspn(text, "0123456789");
	const char *rest = text + digits;
	unsigned long whole, fraction = 0;

	if (digits == 0 || digits > 9)
		return -EINVAL;
	whole = strtoul(text, NULL, 10);
	if (strcmp(rest, "ms") != 0) {
		if (*rest == '.' &&
		    parse_fraction_ms(rest + 1, &fraction, &rest) < 0)
			return -EINVAL;
		if (*rest != '\0' && strcmp(rest, "s") != 0)
			return -EINVAL;
		whole = whole * 1000 + fraction;
	}
	if (whole < TIMEOUT_MIN_MS || whole > TIMEOUT_MAX_MS)
		return -EINVAL;
	*ms = (unsigned)whole;
	return 0;
}

/* "proxy URL [pipeline]". The word after the URL is never quoted in an
 * error: a mistyped line may have put a password there. */
static int key_proxy(struct parser *ps, char **args, unsigned n)
{
	struct config *cfg = ps->cfg;
	struct proxy p;
	char why[160];

	if (!ps->saw_proxy) {
		cfg->proxy_count = 0;
		ps->saw_proxy = true;
	}
	if (cfg->proxy_count >= CONFIG_MAX_PROXIES)
		return reject(ps, "more than %d proxies", CONFIG_MAX_PROXIES);
	if (proxyurl_parse(&p, args[0], why, sizeof(why)) < 0)
		return reject(ps, "bad proxy URL: %s", why);
	if (n == 2 && strcmp(args[1], "pipeline") != 0) {
		explicit_bzero(&p, sizeof(p));
		return reject(ps, "expected \"proxy URL\" or "
				  "\"proxy URL pipeline\"");
	}
	p.pipeline = n == 2;
	cfg->proxies[cfg->proxy_count++] = p;
	explicit_bzero(&p, sizeof(p));
	return 0;
}

static int key_remote_dns(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	if (strcmp(args[0], "auto") == 0)
		ps->cfg->remote_dns_mode = REMOTE_DNS_AUTO;
	else if (strcmp(args[0], "on") == 0)
		ps->cfg->remote_dns_mode = REMOTE_DNS_ON;
	else if (strcmp(args[0], "off") == 0)
		ps->cfg->remote_dns_mode = REMOTE_DNS_OFF;
	else
		return reject(ps, "remote_dns must be auto, on or off");
	return 0;
}

/* True when the two prefixes share any address. */
static bool nets_overlap(const struct netmask *a, const struct netmask *b)
{
	const struct netmask *wide = a->prefix <= b->prefix ? a : b;
	const struct netmask *narrow = wide == a ? b : a;
	struct endpoint ep;

	if (a->family != b->family)
		return false;
	memset(&ep, 0, sizeof(ep));
	ep.kind = a->family == AF_INET ? ENDPOINT_IPV4 : ENDPOINT_IPV6;
	memcpy(ep.u.ipv6, narrow->addr, sizeof(narrow->addr));
	return netmask_contains(wide, &ep);
}

/* Parse a fake range of the given family: it must hold the network address
 * plus at least FAKE_ENTRIES_MIN names and must not touch loopback. */
static int parse_fake_range(struct parser *ps, const char *text, int family,
			    struct netmask *out)
{
	const char *key = family == AF_INET ? "fake_ipv4" : "fake_ipv6";
	struct netmask net, loopback;

	if (netmask_parse(&net, text) < 0 || net.family != family)
		return reject(ps, "%s needs an %s prefix like %s", key,
			      family == AF_INET ? "IPv4" : "IPv6",
			      family == AF_INET ? "240.0.0.0/4"
						: "fd5c:6f63:6b73::/48");
	if (netmask_size(&net) < FAKE_ENTRIES_MIN + 1)
		return reject(ps, "%s range too small: it must hold %u names",
			      key, FAKE_ENTRIES_MIN);
	netmask_parse(&loopback, family == AF_INET ? "127.0.0.0/8" : "::1");
	if (nets_overlap(&net, &loopback))
		return reject(ps, "%s range must not overlap loopback", key);
	*out = net;
	return 0;
}

static int key_fake_ipv4(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_fake_range(ps, args[0], AF_INET, &ps->cfg->fake_ipv4);
}

static int key_fake_ipv6(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_fake_range(ps, args[0], AF_INET6, &ps->cfg->fake_ipv6);
}

static int key_fake_entries(struct parser *ps, char **args, unsigned n)
{
	unsigned long value;

	(void)n;
	if (parse_unsigned(args[0], &value) < 0 || value < FAKE_ENTRIES_MIN ||
	    value > FAKE_ENTRIES_MAX)
		return reject(ps, "fake_entries must be a number from %u to %u",
			      FAKE_ENTRIES_MIN, FAKE_ENTRIES_MAX);
	ps->cfg->fake_entries = (uint32_t)value;
	return 0;
}

/* The transport named by a rule's last word, or RULE_PROTO_ANY when that
 * word is not "tcp" or "udp". */
static enum rule_proto parse_rule_proto(const char *word)
{
	if (strcmp(word, "tcp") == 0)
		return RULE_PROTO_TCP;
	if (strcmp(word, "udp") == 0)
		return RULE_PROTO_UDP;
	return RULE_PROTO_ANY;
}

/* "direct|block NET [port P|P-Q] [tcp|udp]"; "direct none" only drops the
 * default loopback rules, as does any other direct line. The transport
 * word can only come last, after NET or after the port. */
static int parse_rule(struct parser *ps, char **args, unsigned n,
		      enum rule_action action)
{
	struct config *cfg = ps->cfg;
	struct rule r = {.action = action, .port_min = 0, .port_max = 65535};

	if (action == RULE_DIRECT) {
		cfg->default_direct = false;
		if (n == 1 && strcmp(args[0], "none") == 0)
			return 0;
	}
	if (n == 2 || n == 4) {
		r.proto = parse_rule_proto(args[n - 1]);
		if (r.proto != RULE_PROTO_ANY)
			n--;
	}
	if (n == 2 || n == 4 || (n == 3 && strcmp(args[1], "port") != 0))
		return reject(ps, "expected NET [port P|P-Q] [tcp|udp]");
	if (netmask_parse(&r.net, args[0]) < 0)
		return reject(ps,
			      "bad network '%.64s': expected a CIDR prefix, "
			      "an address or *",
			      args[0]);
	if (n == 3 && portrange_parse(args[2], &r.port_min, &r.port_max) < 0)
		return reject(ps,
			      "bad port '%.32s': expected P or P-Q "
			      "within 0..65535",
			      args[2]);
	if (cfg->rule_count >= CONFIG_MAX_RULES)
		return reject(ps, "more than %d direct/block rules",
			      CONFIG_MAX_RULES);
	cfg->rules[cfg->rule_count++] = r;
	return 0;
}

static int key_direct(struct parser *ps, char **args, unsigned n)
{
	return parse_rule(ps, args, n, RULE_DIRECT);
}

static int key_block(struct parser *ps, char **args, unsigned n)
{
	return parse_rule(ps, args, n, RULE_BLOCK);
}

static int parse_timeout(struct parser *ps, const char *text, unsigned *out)
{
	if (parse_duration_ms(text, out) < 0)
		return reject(ps,
			      "bad time '%.32s': seconds (\"2.5\") or "
			      "milliseconds (\"500ms\"), 1ms to 1 hour",
			      text);
	return 0;
}

static int key_connect_timeout(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_timeout(ps, args[0], &ps->cfg->connect_timeout_ms);
}

static int key_handshake_timeout(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_timeout(ps, args[0], &ps->cfg->handshake_timeout_ms);
}

static int key_async_connect(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	if (strcmp(args[0], "on") == 0)
		ps->cfg->async_connect = true;
	else if (strcmp(args[0], "off") == 0)
		ps->cfg->async_connect = false;
	else
		return reject(ps, "async_connect must be on or off");
	return 0;
}

static int key_log_level(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	if (config_parse_log_level(args[0], &ps->cfg->log_level) < 0)
		return reject(ps, "log_level must be none, error, warn, info "
				  "or debug");
	ps->cfg->log_level_set = true;
	return 0;
}

static int key_udp(struct parser *ps, char **args, unsigned n)
{
	static const char *const names[] = {
	    [UDP_AUTO] = "auto",
	    [UDP_PROXY] = "proxy",
	    [UDP_DIRECT] = "direct",
	    [UDP_BLOCK] = "block",
	};
	size_t i;

	(void)n;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(args[0], names[i]) == 0) {
			ps->cfg->udp_mode = (enum udp_mode)i;
			return 0;
		}
	}
	return reject(ps, "udp must be auto, proxy, direct or block");
}

/* "bind on|off": carry listening TCP sockets through the proxy. */
static int key_bind(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	if (strcmp(args[0], "on") == 0)
		ps->cfg->bind_on = true;
	else if (strcmp(args[0], "off") == 0)
		ps->cfg->bind_on = false;
	else
		return reject(ps, "bind must be on or off");
	return 0;
}

/* "bind_peer last|zeros": what a BIND request's DST.ADDR says. */
static int key_bind_peer(struct parser *ps, char **args, unsigned n)
{
	(void)n;
	if (strcmp(args[0], "last") == 0)
		ps->cfg->bind_peer = BIND_PEER_LAST;
	else if (strcmp(args[0], "zeros") == 0)
		ps->cfg->bind_peer = BIND_PEER_ZEROS;
	else
		return reject(ps, "bind_peer must be last or zeros");
	return 0;
}

static const struct config_key {
	const char *name;
	unsigned min_args, max_args;
	int (*parse)(struct parser *ps, char **args, unsigned n);
} config_keys[] = {
    {"proxy", 1, 2, key_proxy},
    {"remote_dns", 1, 1, key_remote_dns},
    {"fake_ipv4", 1, 1, key_fake_ipv4},
    {"fake_ipv6", 1, 1, key_fake_ipv6},
    {"fake_entries", 1, 1, key_fake_entries},
    {"direct", 1, 4, key_direct},
    {"block", 1, 4, key_block},
    {"udp", 1, 1, key_udp},
    {"bind", 1, 1, key_bind},
    {"bind_peer", 1, 1, key_bind_peer},
    {"connect_timeout", 1, 1, key_connect_timeout},
    {"handshake_timeout", 1, 1, key_handshake_timeout},
    {"async_connect", 1, 1, key_async_connect},
    {"log_level", 1, 1, key_log_level},
};

/* A mistyped line may hold a URL with a password: quote the key only when
 * it looks like a key. */
static int reject_unknown_key(struct parser *ps, const char *key)
{
	if (strlen(key) > 32 || strpbrk(key, ":@/%"))
		return reject(ps, "unknown key (settings are written "
				  "\"key value\"; a proxy is \"proxy URL\")");
	return reject(ps, "unknown key '%s'", key);
}

/* Run the handler for words[0] with the rest as its arguments. */
static int parse_words(struct parser *ps, char **words, unsigned count)
{
	const struct config_key *k = NULL;
	unsigned i, n = count - 1;

	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(words[0], config_keys[i].name) == 0)
			k = &config_keys[i];
	if (!k)
		return reject_unknown_key(ps, words[0]);
	if (n < k->min_args)
		return reject(ps, "missing value for %s", k->name);
	if (n > k->max_args)
		return reject(ps, "too many values for %s", k->name);
	return k->parse(ps, words + 1, n);
}

/* Split line (modified in place) into words; a word starting with '#' ends
 * the line. Returns the word count, or -E2BIG for too many words. */
static int split_words(char *line, char **words)
{
	static const char blanks[] = " \t\r\v\f";
	int count = 0;
	char *p = line;

	for (;;) {
		p += strspn(p, blanks);
		if (*p == '\0' || *p == '#')
			return count;
		if (count == CONFIG_WORDS_MAX)
			return -E2BIG;
		words[count++] = p;
		p += strcspn(p, blanks);
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* Parse one line of text[0..len). Returns 0 or -EINVAL with ps->reason. */
static int parse_line(struct parser *ps, const char *text, size_t len)
{
	char line[CONFIG_LINE_MAX];
	char *words[CONFIG_WORDS_MAX];
	int count, rc;

	if (len >= sizeof(line))
		return reject(ps, "line longer than %d bytes",
			      CONFIG_LINE_MAX - 1);
	if (memchr(text, '\0', len))
		return reject(ps, "NUL byte in line");
	memcpy(line, text, len);
	line[len] = '\0';
	count = split_words(line, words);
	if (count < 0)
		rc = reject(ps, "too many values");
	else if (count == 0)
		rc = 0;
	else
		rc = parse_words(ps, words, (unsigned)count);
	explicit_bzero(line, len);
	return rc;
}

int config_parse(struct config *cfg, const char *text, size_t len,
		 const char *filename)
{
	struct parser ps = {.cfg = cfg};
	unsigned line_no = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - text) - pos : len - pos;

		line_no++;
		if (parse_line(&ps, text + pos, line_len) < 0)
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

/* Turn remote_dns_mode into remote_dns, adjusting the last proxy's type so
 * that proxy_sends_names() alone says whether names go to the proxy. */
static int finish_remote_dns(struct config *cfg)
{
	struct proxy *last = &cfg->proxies[cfg->proxy_count - 1];
	char prefix[sizeof(cfg->source) + 2];

	switch (cfg->remote_dns_mode) {
	case REMOTE_DNS_ON:
		if (last->type == PROXY_SOCKS4)
			return config_fail(
			    cfg,
			    "%sremote_dns on: socks4 cannot "
			    "carry host names; use socks4a",
			    source_prefix(cfg, prefix, sizeof(prefix)));
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
	cfg->remote_dns = proxy_sends_names(last);
	return 0;
}

/* Each hop must be able to express the next hop's address: SOCKS4 carries
 * only IPv4, and host names only as SOCKS4a. */
static int check_chain(struct config *cfg)
{
	char prefix[sizeof(cfg->source) + 2];
	unsigned i;

	for (i = 0; i + 1 < cfg->proxy_count; i++) {
		const struct proxy *hop = &cfg->proxies[i];
		enum endpoint_kind next = cfg->proxies[i + 1].addr.kind;

		if (proxy_is_socks5(hop))
			continue;
		if (next == ENDPOINT_IPV6)
			return config_fail(
			    cfg,
			    "%sproxy %u is socks4: it cannot "
			    "reach the IPv6 address of proxy %u",
			    source_prefix(cfg, prefix, sizeof(prefix)), i + 1,
			    i + 2);
		if (next == ENDPOINT_NAME && hop->type == PROXY_SOCKS4)
			return config_fail(
			    cfg,
			    "%sproxy %u is socks4: it cannot "
			    "reach the host name of proxy %u; "
			    "use socks4a",
			    source_prefix(cfg, prefix, sizeof(prefix)), i + 1,
			    i + 2);
	}
	return 0;
}

/* The name map cannot hold more names than either range has addresses
 * (the network address itself is never handed out). */
static void cap_fake_entries(struct config *cfg)
{
	uint32_t v4 = netmask_size(&cfg->fake_ipv4) - 1;
	uint32_t v6 = netmask_size(&cfg->fake_ipv6) - 1;

	if (cfg->fake_entries > v4)
		cfg->fake_entries = v4;
	if (cfg->fake_entries > v6)
		cfg->fake_entries = v6;
}

/* Turn UDP_AUTO into UDP_PROXY or UDP_BLOCK, and refuse an explicit
 * "udp proxy" that no proxy of the chain could carry: UDP ASSOCIATE exists
 * only in SOCKS5, and its relay is reached directly, so it cannot be
 * tunnelled through earlier hops. */
static int finish_udp(struct config *cfg)
{
	bool one_socks5 =
	    cfg->proxy_count == 1 && proxy_is_socks5(&cfg->proxies[0]);
	char prefix[sizeof(cfg->source) + 2];

	if (cfg->udp_mode == UDP_AUTO)
		cfg->udp_mode = one_socks5 ? UDP_PROXY : UDP_BLOCK;
	if (cfg->udp_mode != UDP_PROXY || one_socks5)
		return 0;
	return config_fail(cfg, "%sudp proxy needs a single socks5 proxy: %s",
			   source_prefix(cfg, prefix, sizeof(prefix)),
			   cfg->proxy_count > 1
			       ? "UDP cannot cross a proxy chain"
			       : "SOCKS4 has no UDP");
}

int config_finish(struct config *cfg)
{
	if (!cfg->valid)
		return -EINVAL;
	if (cfg->proxy_count == 0 || cfg->proxy_count > CONFIG_MAX_PROXIES)
		return config_fail(cfg, "no proxy configured");
	if (finish_remote_dns(cfg) < 0 || check_chain(cfg) < 0 ||
	    finish_udp(cfg) < 0)
		return -EINVAL;
	cap_fake_entries(cfg);
	return 0;
}

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
		rc = path_join(buf, cap, xdg, "/socksify/socksify.conf");
	else if (env->home && env->home[0])
		rc = path_join(buf, cap, env->home,
			       "/.config/socksify/socksify.conf");
	else
		return 0;
	if (rc < 0)
		return rc;
	return path_present(buf) ? 1 : 0;
}

int config_find_file(const struct config_env *env, char *buf, size_t cap)
{
	const char *sys = env->system_conf ? env->system_conf : SYSTEM_CONF;
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
		return config_fail(cfg, "%s: cannot read: %s", path,
				   strerror(errno));
	if (io->fstat(fd, &st) < 0)
		len = -errno;
	else if (S_ISDIR(st.st_mode))
		len = -EISDIR;
	else
		len = read_all(io, fd, &text);
	io->close(fd);
	if (len < 0)
		return config_fail(cfg, "%s: cannot read: %s", path,
				   strerror((int)-len));
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

/* Find and load the file (if any) into cfg. */
static int load_chosen_file(struct config *cfg, const struct config_env *env,
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

/* SOCKSIFY_PROXY / -x: one proxy that replaces the whole chain. */
static int apply_env_proxy(struct config *cfg, const char *url)
{
	struct proxy p;
	char why[160];

	if (!url || !url[0])
		return 0;
	if (proxyurl_parse(&p, url, why, sizeof(why)) < 0)
		return config_fail(cfg, "SOCKSIFY_PROXY: bad proxy URL: %s",
				   why);
	memset(cfg->proxies, 0, sizeof(cfg->proxies));
	cfg->proxies[0] = p;
	cfg->proxy_count = 1;
	explicit_bzero(&p, sizeof(p));
	return 0;
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
	return 0;
}

/* SOCKSIFY_LOG overrides the file's level. */
static int apply_env_log_level(struct config *cfg, const char *text)
{
	if (!text || !text[0])
		return 0;
	if (config_parse_log_level(text, &cfg->log_level) < 0)
		return config_fail(cfg,
				   "SOCKSIFY_LOG: unknown level '%.32s' (use "
				   "none, error, warn, info or debug)",
				   text);
	return 0;
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
	rc = load_chosen_file(cfg, env, io);
	if (rc == 0)
		rc = apply_env_proxy(cfg, env->proxy_url);
	if (rc == 0)
		rc = apply_env_pipeline(cfg, env->pipeline);
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
