/* isolate.c — per-process or per-run SOCKS5 credentials for Tor's stream
 * isolation (see isolate.h). */
#include "isolate.h"

#include <stdio.h>
#include <string.h>

/* Set p's credentials to user and ISOLATE_PASSWORD. */
static void isolate_proxy(struct proxy *p, const char *user)
{
	size_t len = strlen(user);

	if (len > PROXY_CREDENTIAL_MAX)
		len = PROXY_CREDENTIAL_MAX;
	memcpy(p->user, user, len);
	p->user[len] = '\0';
	p->user_len = (uint8_t)len;
	memcpy(p->password, ISOLATE_PASSWORD, sizeof(ISOLATE_PASSWORD));
	p->password_len = (uint8_t)(sizeof(ISOLATE_PASSWORD) - 1);
	p->has_auth = true;
	p->isolated = true;
}

/* True when p takes an isolation username: SOCKS5, and no credentials
 * but ours. */
static bool isolate_wanted(const struct proxy *p)
{
	return (p->type == PROXY_SOCKS5 || p->type == PROXY_SOCKS5H) &&
	       (!p->has_auth || p->isolated);
}

unsigned isolate_apply(struct config *cfg, const char *tag)
{
	char user[PROXY_CREDENTIAL_MAX + 1];
	unsigned i, n = 0;

	if (cfg->isolate == ISOLATE_OFF)
		return 0;
	snprintf(user, sizeof user, "socksify-%s", tag);
	for (i = 0; i < cfg->proxy_count; i++)
		if (isolate_wanted(&cfg->proxies[i])) {
			isolate_proxy(&cfg->proxies[i], user);
			n++;
		}
	for (i = 0; i < cfg->chain_hop_count; i++)
		if (isolate_wanted(&cfg->chain_hops[i])) {
			isolate_proxy(&cfg->chain_hops[i], user);
			n++;
		}
	return n;
}
