/* sockopts.c — the options a race's extra socket copies (see sockopts.h). */
#include "sockopts.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>

/* The options copied, when the program changed them. */
static const struct sockopts_option {
	int level, name, family; /* family 0: any */
	socklen_t size;
} sockopts_list[] = {
    {SOL_SOCKET, SO_KEEPALIVE, 0, sizeof(int)},
    {SOL_SOCKET, SO_MARK, 0, sizeof(int)},
    {SOL_SOCKET, SO_PRIORITY, 0, sizeof(int)},
    {SOL_SOCKET, SO_LINGER, 0, sizeof(struct linger)},
    {SOL_SOCKET, SO_BINDTODEVICE, 0, IFNAMSIZ},
    {SOL_SOCKET, SO_RCVBUF, 0, sizeof(int)},
    {SOL_SOCKET, SO_SNDBUF, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_NODELAY, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_KEEPIDLE, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_KEEPINTVL, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_KEEPCNT, 0, sizeof(int)},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, 0, sizeof(int)},
    {IPPROTO_IP, IP_TOS, AF_INET, sizeof(int)},
    {IPPROTO_IPV6, IPV6_TCLASS, AF_INET6, sizeof(int)},
};

#define SOCKOPTS_VALUE_MAX IFNAMSIZ /* the largest value above */

/* Copy one option from like to s when like's differs from s's. Returns 0
 * or -errno. */
static int sockopts_copy_one(const struct sockopts_io *io, int like, int s,
			     const struct sockopts_option *o)
{
	char want[SOCKOPTS_VALUE_MAX], have[SOCKOPTS_VALUE_MAX];
	socklen_t want_len = o->size, have_len = o->size;
	int half;

	memset(want, 0, sizeof want);
	memset(have, 0, sizeof have);
	if (io->getsockopt(like, o->level, o->name, want, &want_len) < 0 ||
	    io->getsockopt(s, o->level, o->name, have, &have_len) < 0)
		return 0; /* not known to this kernel: nothing to copy */
	if (want_len == have_len && memcmp(want, have, want_len) == 0)
		return 0;
	if (o->level == SOL_SOCKET &&
	    (o->name == SO_RCVBUF || o->name == SO_SNDBUF)) {
		/* The kernel doubles what is set and reports the double. */
		memcpy(&half, want, sizeof half);
		half /= 2;
		memcpy(want, &half, sizeof half);
	}
	if (io->setsockopt(s, o->level, o->name, want, want_len) < 0)
		return -errno;
	return 0;
}

int sockopts_copy(const struct sockopts_io *io, int like, int s, int domain)
{
	int rc = 0;

	for (size_t i = 0;
	     rc == 0 && i < sizeof sockopts_list / sizeof *sockopts_list; i++)
		if (!sockopts_list[i].family ||
		    sockopts_list[i].family == domain)
			rc = sockopts_copy_one(io, like, s, &sockopts_list[i]);
	return rc;
}

bool sockopts_bound(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_port != 0;
	if (ss->ss_family == AF_INET6)
		return ((const struct sockaddr_in6 *)ss)->sin6_port != 0;
	return false;
}
