/* isolate.h — stream isolation for Tor (config "isolate pid|run"): Tor's
 * IsolateSOCKSAuth (on by default) keeps streams whose SOCKS5 username and
 * password differ on different circuits, so socksify sends a username that
 * names the process or the run. Only SOCKS5 proxies whose URL gives no
 * credentials of their own get one: credentials in the URL are the user's
 * choice (and a proxy that checks them would refuse others), so they are
 * sent unchanged. Pure: the caller supplies the tag. */
#ifndef SOCKSIFY_ISOLATE_H
#define SOCKSIFY_ISOLATE_H

#include "config.h"

/* The password sent with an isolation username (Tor ignores its value but
 * isolates on it too, so it is constant). */
#define ISOLATE_PASSWORD "socksify"

/* Give every SOCKS5 proxy of cfg (the default chain and the named ones)
 * that has no credentials of its own, or has ones an earlier call gave,
 * the username "socksify-" + tag and ISOLATE_PASSWORD. Nothing when
 * cfg->isolate is ISOLATE_OFF. tag: printable, no ':' ("pid-1234",
 * "run-SESSION"); cut to fit the 255-byte limit. Returns the number of
 * proxies given the username. */
unsigned isolate_apply(struct config *cfg, const char *tag);

#endif
