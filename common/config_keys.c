/* config_keys.c — one parser per configuration key, and the table from a
 * key's name to its parser and the number of values it takes. Adding a key
 * means one function and one table row here (and its line in
 * socksify.conf.example). Error texts never quote a password. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config_internal.h"
#include "gssmsg.h"

/* An unknown key longer than this is not quoted: it may be a URL. */
#define CONFIG_KEY_QUOTE_MAX 32
/* The smallest fake range holds this many names, and the map at most the
 * larger number. */
#define FAKE_ENTRIES_MIN 16u
#define FAKE_ENTRIES_MAX 16777216u

#define GSSAPI_WORD	       "gssapi"
#define GSSAPI_SERVICE_WORD    "gssapi-service="
#define GSSAPI_PROTECTION_WORD "gssapi-protection="

/* A service name: 1..63 letters, digits, '.', '_' or '-'. */
static bool gssapi_service_valid(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= PROXY_GSSAPI_SERVICE_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

static int option_gssapi_service(struct config_parser *ps, struct proxy *p,
				 const char *name)
{
	if (!gssapi_service_valid(name))
		return config_reject(ps, "gssapi-service: expected a service "
					 "name of 1 to 63 letters, digits, "
					 "'.', '_' or '-'");
	snprintf(p->gssapi_service, sizeof(p->gssapi_service), "%s", name);
	p->gssapi = true;
	return 1;
}

static int option_gssapi_protection(struct config_parser *ps, struct proxy *p,
				    const char *level)
{
	if (gssmsg_protection_parse(level, &p->gssapi_protection) < 0)
		return config_reject(ps, "gssapi-protection: expected clear, "
					 "integrity or confidentiality");
	p->gssapi = true;
	return 1;
}

/* The length of an option word's name: up to and with its '='. */
static size_t option_name_len(const char *word)
{
	const char *eq = strchr(word, '=');

	return eq ? (size_t)(eq - word) + 1 : strlen(word) + 1;
}

bool config_proxy_option_repeated(char **args, unsigned first, unsigned at)
{
	size_t len = option_name_len(args[at]);

	for (unsigned i = first; i < at; i++)
		if (option_name_len(args[i]) == len &&
		    strncmp(args[i], args[at], len) == 0)
			return true;
	return false;
}

int config_proxy_option(struct config_parser *ps, struct proxy *p,
			const char *word)
{
	size_t service_len = strlen(GSSAPI_SERVICE_WORD);
	size_t protection_len = strlen(GSSAPI_PROTECTION_WORD);

	if (strcmp(word, "pipeline") == 0) {
		p->pipeline = true;
		return 1;
	}
	if (strcmp(word, GSSAPI_WORD) == 0) {
		p->gssapi = true;
		return 1;
	}
	if (strncmp(word, GSSAPI_SERVICE_WORD, service_len) == 0)
		return option_gssapi_service(ps, p, word + service_len);
	if (strncmp(word, GSSAPI_PROTECTION_WORD, protection_len) == 0)
		return option_gssapi_protection(ps, p, word + protection_len);
	if (strncmp(word, GSSAPI_WORD, strlen(GSSAPI_WORD)) == 0)
		return config_reject(ps, "unknown GSS-API option (expected "
					 "gssapi, gssapi-service=NAME or "
					 "gssapi-protection=LEVEL)");
	return 0;
}

int config_proxy_options_check(struct config_parser *ps, const struct proxy *p)
{
	if (p->gssapi && !proxy_is_socks5(p))
		return config_reject(ps, "gssapi needs a socks5:// or "
					 "socks5h:// proxy");
	return 0;
}

/* The option words after a proxy's URL, args[0..n), into p. Returns 0 or
 * -EINVAL (the line rejected). */
static int proxy_options(struct config_parser *ps, struct proxy *p, char **args,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = config_proxy_option(ps, p, args[i]);

		if (rc < 0)
			return rc;
		if (rc == 0)
			return config_reject(
			    ps, "expected \"proxy URL [pipeline] [gssapi] "
				"[gssapi-service=NAME] "
				"[gssapi-protection=LEVEL]\"");
		if (config_proxy_option_repeated(args, 0, i))
			return config_reject(ps, "a proxy option is given "
						 "twice");
	}
	return config_proxy_options_check(ps, p);
}

/* "proxy URL [pipeline] [gssapi ...]". A word after the URL that is not an
 * option is never quoted in an error: a mistyped line may have put a
 * password there. */
static int key_proxy(struct config_parser *ps, char **args, unsigned n)
{
	struct config *cfg = ps->cfg;
	struct proxy p;
	char why[CONFIG_WHY_MAX];

	if (!ps->saw_proxy) {
		cfg->proxy_count = 0;
		ps->saw_proxy = true;
	}
	if (cfg->proxy_count >= CONFIG_MAX_PROXIES)
		return config_reject(ps, "more than %d proxies",
				     CONFIG_MAX_PROXIES);
	if (proxyurl_parse(&p, args[0], why, sizeof(why)) < 0)
		return config_reject(ps, "bad proxy URL: %s", why);
	if (proxy_options(ps, &p, args + 1, n - 1) < 0) {
		explicit_bzero(&p, sizeof(p));
		return -EINVAL;
	}
	cfg->proxies[cfg->proxy_count++] = p;
	explicit_bzero(&p, sizeof(p));
	return 0;
}

/* "on" or "off" for key into *out. */
static int parse_on_off(struct config_parser *ps, const char *word,
			const char *key, bool *out)
{
	if (strcmp(word, "on") == 0)
		*out = true;
	else if (strcmp(word, "off") == 0)
		*out = false;
	else
		return config_reject(ps, "%s must be on or off", key);
	return 0;
}

#define WORDS(names) (sizeof(names) / sizeof((names)[0]))

/* The index of word among names (count of them), or, when it is none of
 * them, the line rejected with why (-EINVAL). */
static int parse_word(struct config_parser *ps, const char *word,
		      const char *const names[], size_t count, const char *why)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(word, names[i]) == 0)
			return (int)i;
	return config_reject(ps, "%s", why);
}

static int key_remote_dns(struct config_parser *ps, char **args, unsigned n)
{
	static const char *const names[] = {
	    [REMOTE_DNS_AUTO] = "auto",
	    [REMOTE_DNS_ON] = "on",
	    [REMOTE_DNS_OFF] = "off",
	    [REMOTE_DNS_RESOLVE] = "resolve",
	};
	int i = parse_word(ps, args[0], names, WORDS(names),
			   "remote_dns must be auto, on, off or resolve");

	(void)n;
	if (i >= 0)
		ps->cfg->remote_dns_mode = (enum remote_dns_mode)i;
	return i < 0 ? i : 0;
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
 * and the last address (never handed out) plus at least FAKE_ENTRIES_MIN
 * names and must not touch loopback. */
static int parse_fake_range(struct config_parser *ps, const char *text,
			    int family, struct netmask *out)
{
	const char *key = family == AF_INET ? "fake_ipv4" : "fake_ipv6";
	struct netmask net, loopback;

	if (netmask_parse(&net, text) < 0 || net.family != family)
		return config_reject(ps, "%s needs an %s prefix like %s", key,
				     family == AF_INET ? "IPv4" : "IPv6",
				     family == AF_INET ? "240.0.0.0/4"
						       : "fd5c:6f63:6b73::/48");
	if (netmask_size(&net) < FAKE_ENTRIES_MIN + 2)
		return config_reject(
		    ps, "%s range too small: it must hold %u names", key,
		    FAKE_ENTRIES_MIN);
	netmask_parse(&loopback, family == AF_INET ? "127.0.0.0/8" : "::1");
	if (nets_overlap(&net, &loopback))
		return config_reject(ps, "%s range must not overlap loopback",
				     key);
	*out = net;
	return 0;
}

static int key_fake_ipv4(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_fake_range(ps, args[0], AF_INET, &ps->cfg->fake_ipv4);
}

static int key_fake_ipv6(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_fake_range(ps, args[0], AF_INET6, &ps->cfg->fake_ipv6);
}

static int key_fake_entries(struct config_parser *ps, char **args, unsigned n)
{
	unsigned long value;

	(void)n;
	if (config_lex_unsigned(args[0], &value) < 0 ||
	    value < FAKE_ENTRIES_MIN || value > FAKE_ENTRIES_MAX)
		return config_reject(
		    ps, "fake_entries must be a number from %u to %u",
		    FAKE_ENTRIES_MIN, FAKE_ENTRIES_MAX);
	ps->cfg->fake_entries = (uint32_t)value;
	return 0;
}

static int key_direct(struct config_parser *ps, char **args, unsigned n)
{
	return config_parse_rule(ps, args, n, RULE_DIRECT);
}

static int key_block(struct config_parser *ps, char **args, unsigned n)
{
	return config_parse_rule(ps, args, n, RULE_BLOCK);
}

int config_parse_timeout(struct config_parser *ps, const char *text,
			 unsigned *out)
{
	if (config_lex_duration_ms(text, out) < 0)
		return config_reject(ps,
				     "bad time '%.32s': seconds (\"2.5\") or "
				     "milliseconds (\"500ms\"), 1ms to 1 hour",
				     SHOWN(text));
	return 0;
}

static int key_connect_timeout(struct config_parser *ps, char **args,
			       unsigned n)
{
	(void)n;
	return config_parse_timeout(ps, args[0], &ps->cfg->connect_timeout_ms);
}

static int key_handshake_timeout(struct config_parser *ps, char **args,
				 unsigned n)
{
	(void)n;
	return config_parse_timeout(ps, args[0],
				    &ps->cfg->handshake_timeout_ms);
}

static int key_async_connect(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_on_off(ps, args[0], "async_connect",
			    &ps->cfg->async_connect);
}

static int key_fastopen(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_on_off(ps, args[0], "fastopen", &ps->cfg->fastopen);
}

/* "async_handshakes N": how many handshakes may be in flight at once. */
static int key_async_handshakes(struct config_parser *ps, char **args,
				unsigned n)
{
	unsigned long value;

	(void)n;
	if (config_lex_unsigned(args[0], &value) < 0 || value < 1 ||
	    value > CONFIG_ASYNC_HANDSHAKES_MAX)
		return config_reject(
		    ps, "async_handshakes must be a number from 1 to %u",
		    CONFIG_ASYNC_HANDSHAKES_MAX);
	ps->cfg->async_handshakes = (unsigned)value;
	return 0;
}

static int key_log_level(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	if (config_parse_log_level(args[0], &ps->cfg->log_level) < 0)
		return config_reject(
		    ps, "log_level must be none, error, warn, info "
			"or debug");
	ps->cfg->log_level_set = true;
	return 0;
}

static int key_udp(struct config_parser *ps, char **args, unsigned n)
{
	static const char *const names[] = {
	    [UDP_AUTO] = "auto",
	    [UDP_PROXY] = "proxy",
	    [UDP_DIRECT] = "direct",
	    [UDP_BLOCK] = "block",
	};
	int i = parse_word(ps, args[0], names, WORDS(names),
			   "udp must be auto, proxy, direct or block");

	(void)n;
	if (i >= 0)
		ps->cfg->udp_mode = (enum udp_mode)i;
	return i < 0 ? i : 0;
}

/* "bind auto|on|off": which listening TCP sockets go through the proxy. */
static int key_bind(struct config_parser *ps, char **args, unsigned n)
{
	static const char *const names[] = {
	    [BIND_MODE_AUTO] = "auto",
	    [BIND_MODE_ON] = "on",
	    [BIND_MODE_OFF] = "off",
	};
	int i = parse_word(ps, args[0], names, WORDS(names),
			   "bind must be auto, on or off");

	(void)n;
	if (i >= 0)
		ps->cfg->bind_mode = (enum bind_mode)i;
	return i < 0 ? i : 0;
}

/* "bind_peer last|zeros": what a BIND request's DST.ADDR says. */
static int key_bind_peer(struct config_parser *ps, char **args, unsigned n)
{
	static const char *const names[] = {
	    [BIND_PEER_LAST] = "last",
	    [BIND_PEER_ZEROS] = "zeros",
	};
	int i = parse_word(ps, args[0], names, WORDS(names),
			   "bind_peer must be last or zeros");

	(void)n;
	if (i >= 0)
		ps->cfg->bind_peer = (enum bind_peer)i;
	return i < 0 ? i : 0;
}

static int key_isolate(struct config_parser *ps, char **args, unsigned n)
{
	static const char *const names[] = {
	    [ISOLATE_OFF] = "off",
	    [ISOLATE_PID] = "pid",
	    [ISOLATE_RUN] = "run",
	};
	int i = parse_word(ps, args[0], names, WORDS(names),
			   "isolate must be off, pid or run");

	(void)n;
	if (i >= 0)
		ps->cfg->isolate = (enum isolate_mode)i;
	return i < 0 ? i : 0;
}

/* "guard on|off": the seccomp filter for dynamic programs too. */
static int key_guard(struct config_parser *ps, char **args, unsigned n)
{
	(void)n;
	return parse_on_off(ps, args[0], "guard", &ps->cfg->guard);
}

static const struct config_key {
	const char *name;
	unsigned min_args, max_args;
	int (*parse)(struct config_parser *ps, char **args, unsigned n);
} config_keys[] = {
    {"proxy", 1, 5, key_proxy},
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
    {"fastopen", 1, 1, key_fastopen},
    {"log_level", 1, 1, key_log_level},
    {"chain", 2, CONFIG_WORDS_MAX - 2, config_key_chain},
    {"group", 3, CONFIG_WORDS_MAX - 2, config_key_group},
    {"route", 3, 6, config_key_route},
    {"down_time", 1, 1, config_key_down_time},
    {"race_delay", 1, 1, config_key_race_delay},
    {"async_handshakes", 1, 1, key_async_handshakes},
    {"guard", 1, 1, key_guard},
    {"isolate", 1, 1, key_isolate},
};

/* A mistyped line may hold a URL with a password: quote the key only when
 * it looks like a key. */
static int reject_unknown_key(struct config_parser *ps, const char *key)
{
	if (strlen(key) > CONFIG_KEY_QUOTE_MAX || strpbrk(key, ":@/%"))
		return config_reject(
		    ps, "unknown key (settings are written "
			"\"key value\"; a proxy is \"proxy URL\")");
	return config_reject(ps, "unknown key '%s'", key);
}

/* Run the parser for words[0] with the rest as its values. */
int config_keys_apply(struct config_parser *ps, char **words, unsigned count)
{
	const struct config_key *k = NULL;
	unsigned i, n = count - 1;

	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(words[0], config_keys[i].name) == 0)
			k = &config_keys[i];
	if (!k)
		return reject_unknown_key(ps, words[0]);
	if (n < k->min_args)
		return config_reject(ps, "missing value for %s", k->name);
	if (n > k->max_args)
		return config_reject(ps, "too many values for %s", k->name);
	return k->parse(ps, words + 1, n);
}
