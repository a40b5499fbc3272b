/* bind.c — listening TCP sockets through the proxy (SOCKS BIND, RFC 1928
 * section 6 and SOCKS4): the bind(), listen() and getsockname() hooks, the
 * table of pending BINDs, and the helper thread that waits for second
 * replies.
 *
 * How it works. The program keeps its own, real listening socket, so poll,
 * select and epoll registrations all keep working. When it binds a
 * qualifying socket (or listens on an unbound one), a hidden control
 * connection sends the BIND request; the first reply's BND.ADDR/BND.PORT is
 * what getsockname() reports from then on. Once the socket listens, a helper
 * thread waits on the control connection for the second reply. When it
 * comes, the helper connects a hidden local "wake-up" socket to the
 * listener, which makes the listener readable exactly as a real arrival
 * would; accept() (accept.c) recognises that connection by its source
 * address, drops it and hands the program the control connection instead.
 * (Dante's client instead dup2()s the control connection over the listener;
 * that loses epoll registrations and socket options, so we do not.)
 *
 * Thread safety: the table, the last peer and the outside address are
 * behind bind_lock, which is never held across a blocking call except the
 * helper's short non-blocking work. Lock order: async_lock, then bind_lock
 * (see fdops.c). Fork: the lock is taken around fork() (the registry's fork
 * handlers, in lock order), so a child never inherits it held; the child
 * has no helper until a hook restarts it.
 *
 * The helper thread is started on demand and exits when no BIND waits; no
 * thread or descriptor exists before the first BIND.
 *
 * The helper thread and the fork handlers are in bind_helper.c; what the
 * two files share is declared in bind_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind.h"
#include "async.h"
#include "bind_internal.h"
#include "fdtab.h"
#include "fdreg.h"
#include "handshake.h"
#include "hidden.h"
#include "hooks.h"
#include "log.h"
#include "real.h"
#include "state.h"
#include "tunnel.h"

enum bind_address_class {
	BIND_ADDR_LOCAL,   /* loopback: never through the proxy */
	BIND_ADDR_ANY,	   /* wildcard or routed: BIND */
	BIND_ADDR_OUTSIDE, /* the proxy's outside address: BIND, and bind
			    * the wildcard address locally instead */
};

/* Lock order: taken after async_lock (a finished asynchronous handshake
 * calls bind_note_connect with async_lock held), never before it. */
static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bind_listener *bind_list;
static atomic_uint bind_count;
static unsigned bind_owner; /* our registry id, for hidden descriptors */
static struct endpoint bind_last_peer; /* kind NONE while unknown */
/* The chain that carried that connection: a BIND goes the same way, to
 * the server that will call back. The default chain while unknown. */
static unsigned bind_last_chain = CONFIG_DEFAULT_CHAIN;
static struct endpoint bind_outside; /* the proxy's outside address */
/* Whether this process has made a proxied TCP connection ("bind auto"). */
static atomic_bool bind_proxied_seen;

bool bind_active(void)
{
	return atomic_load_explicit(&bind_count, memory_order_acquire) > 0;
}

/* The inode of fd's open file, or 0 when it is not open. */
static uint64_t bind_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Move fd up out of the program's way (close-on-exec) and mark it
 * internal, ours. Returns the descriptor to use. */
int bind_hide(int fd)
{
	return hidden_take(fd, bind_owner, NULL);
}

void bind_release(struct bind_handover *h)
{
	hidden_close(&h->ctrl);
	hidden_close(&h->wake);
}

/* Free e and its descriptors (e is already unlinked). */
static void bind_destroy(struct bind_listener *e)
{
	hidden_close(&e->ctrl);
	hidden_close(&e->wake);
	free(e);
}

/* Unlink *link's entry (lock held); returns it. */
static struct bind_listener *bind_unlink(struct bind_listener **link)
{
	struct bind_listener *e = *link;

	*link = e->next;
	atomic_fetch_sub_explicit(&bind_count, 1, memory_order_release);
	return e;
}

/* The link that points at fd's entry (lock held), or NULL. An entry whose
 * socket is no longer fd's (closed behind our back, number reused) is
 * dropped on the way. */
static struct bind_listener **bind_find(int fd)
{
	struct bind_listener **link = &bind_list;

	while (*link) {
		if ((*link)->fd != fd) {
			link = &(*link)->next;
			continue;
		}
		if ((*link)->inode == bind_inode(fd))
			return link;
		bind_destroy(bind_unlink(link));
	}
	return NULL;
}

/* 1 while this thread holds bind_lock, or is taking or letting it go: it
 * goes up before the lock is asked for and down after it is let go, so a
 * signal handler that reads 0 knows its thread holds no bind_lock.
 * initial-exec: a signal handler reads it without allocating. */
static _Thread_local volatile sig_atomic_t bind_lock_depth
    __attribute__((tls_model("initial-exec")));

/* The asynchronous handshakes count the hold too: the handshake thread
 * takes bind_lock while it holds async_lock, so a signal handler in here
 * must not wait for async_lock either (async.h). */
void bind_lock_acquire(void)
{
	async_held_enter();
	bind_lock_depth++;
	atomic_signal_fence(memory_order_seq_cst);
	pthread_mutex_lock(&bind_lock);
}

void bind_lock_release(void)
{
	pthread_mutex_unlock(&bind_lock);
	atomic_signal_fence(memory_order_seq_cst);
	bind_lock_depth--;
	async_held_leave();
}

/* A signal handler's call (close, dup2, bind, listen, accept, connect,
 * getsockname are async-signal-safe) that interrupted this thread inside
 * bind_lock must not wait for it: its own thread holds it. Such a call
 * does without the table: a close leaves the entry for bind_find to drop
 * once the number names another socket, a bind or listen stays local, an
 * accept hands over nothing, getsockname shows the socket's own address,
 * a dup2 onto one of our descriptors fails with EBUSY. */
bool bind_reentered(void)
{
	return bind_lock_depth != 0;
}

/* The first entry of the table, to walk it by ->next (lock held). */
struct bind_listener *bind_list_first(void)
{
	return bind_list;
}

/* True when ep is 0.0.0.0 or ::. */
bool bind_is_wildcard(const struct endpoint *ep)
{
	static const uint8_t zero[16];

	if (ep->kind == ENDPOINT_IPV4)
		return memcmp(ep->u.ipv4, zero, 4) == 0;
	return ep->kind == ENDPOINT_IPV6 && memcmp(ep->u.ipv6, zero, 16) == 0;
}

static bool bind_is_loopback(const struct endpoint *ep)
{
	static const uint8_t one[16] = {[15] = 1};

	if (ep->kind == ENDPOINT_IPV4)
		return ep->u.ipv4[0] == 127;
	return ep->kind == ENDPOINT_IPV6 && memcmp(ep->u.ipv6, one, 16) == 0;
}

/* True when a and b hold the same IP address (ports ignored). */
static bool bind_same_address(const struct endpoint *a,
			      const struct endpoint *b)
{
	struct endpoint x = *a, y = *b;

	x.port = 0;
	y.port = 0;
	return x.kind != ENDPOINT_NAME && endpoint_equal(&x, &y);
}

/* How a bind() to ep is treated. */
static enum bind_address_class bind_classify(const struct endpoint *ep)
{
	struct endpoint outside;

	bind_lock_acquire();
	outside = bind_outside;
	bind_lock_release();
	if (outside.kind != ENDPOINT_NONE && bind_same_address(ep, &outside))
		return BIND_ADDR_OUTSIDE;
	if (bind_is_loopback(ep))
		return BIND_ADDR_LOCAL;
	return BIND_ADDR_ANY;
}

/* The proxy's address as a BND.ADDR of 0.0.0.0 means it: the peer of the
 * control connection for a single proxy, the last proxy's literal address
 * for a chain (cfg->chains[chain]). bnd keeps its port. A BND.ADDR that names a
 * host is taken the same way (we resolve no name the proxy sends):
 * getsockname() must never fall back to the socket's local address, which is
 * not where the remote host can connect. */
static void bind_fill_unspecified(const struct config *cfg, unsigned chain,
				  int ctrl, const struct endpoint *peer,
				  struct endpoint *bnd)
{
	unsigned count;
	const struct proxy *hops = config_chain_hops(cfg, chain, &count);
	const struct endpoint *last = &hops[count - 1].addr;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct endpoint proxy;
	uint16_t port = bnd->port;

	if (bnd->kind == ENDPOINT_NAME) {
		endpoint_parse_ip(bnd, "0.0.0.0");
		bnd->port = port;
	}
	if (!bind_is_wildcard(bnd))
		return;
	if (count == 1 && peer) {
		proxy = *peer;
	} else if (count == 1) {
		if (real.getpeername(ctrl, (struct sockaddr *)&ss, &len) < 0 ||
		    endpoint_from_sockaddr(&proxy, (struct sockaddr *)&ss,
					   len) < 0)
			return;
	} else if (last->kind == ENDPOINT_IPV4 || last->kind == ENDPOINT_IPV6) {
		proxy = *last;
	} else {
		return;
	}
	*bnd = proxy;
	bnd->port = port;
}

/* The last proxy of cfg->chains[chain]. */
static const struct proxy *bind_last_hop(const struct config *cfg,
					 unsigned chain)
{
	unsigned count;
	const struct proxy *hops = config_chain_hops(cfg, chain, &count);

	return &hops[count - 1];
}

/* DST.ADDR/DST.PORT of a BIND request through chain: see "bind_peer" in
 * the example config. A peer the last proxy cannot carry (a name to a
 * socks4:// proxy, IPv6 to SOCKS4) falls back to zeros. */
static struct endpoint bind_request_peer(const struct config *cfg,
					 unsigned chain)
{
	const struct proxy *last = bind_last_hop(cfg, chain);
	struct endpoint zeros = {.kind = ENDPOINT_IPV4};
	struct endpoint peer;

	if (cfg->bind_peer == BIND_PEER_ZEROS)
		return zeros;
	bind_lock_acquire();
	peer = bind_last_peer;
	bind_lock_release();
	if (peer.kind == ENDPOINT_NONE ||
	    (peer.kind == ENDPOINT_NAME && !proxy_sends_names(last)) ||
	    (peer.kind == ENDPOINT_IPV6 && !proxy_is_socks5(last)))
		return zeros;
	peer.port = 0;
	return peer;
}

/* Open the control connection for a BIND on a socket of family and run the
 * request through cfg->chains[chain]; fill e's ctrl, bnd and hs. Returns 0
 * or -errno (logged). */
static int bind_request(const struct config *cfg, unsigned chain, int fd,
			int family, struct bind_listener *e)
{
	struct endpoint peer = bind_request_peer(cfg, chain);
	struct tunnel_path path = {.limit_ms = 0, .connect_ms = 0};
	struct sockaddr_storage proxy;
	struct tunnel_result res;
	char text[ENDPOINT_TEXT_MAX], url[CONFIG_URL_TEXT_MAX];
	int len, ctrl, rc;

	path.hops = config_chain_hops(cfg, chain, &path.count);
	len = socksify_chain_sockaddr(chain, family, &proxy);
	if (len < 0)
		return len;
	ctrl =
	    real.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctrl < 0)
		return -errno;
	rc = tunnel_open_path(&real_io, cfg, &path, ctrl,
			      (struct sockaddr *)&proxy, (socklen_t)len, &peer,
			      HANDSHAKE_BIND, &res);
	if (rc < 0) {
		log_error("fd %d: BIND for %s refused: %s", fd,
			  endpoint_format(&peer, text, sizeof text),
			  res.why ? res.why : "failed");
		real.close(ctrl);
		return rc;
	}
	e->ctrl = bind_hide(ctrl);
	e->bnd = res.bound;
	bind_fill_unspecified(cfg, chain, e->ctrl, NULL, &e->bnd);
	handshake_init_bind_reply(&e->hs, bind_last_hop(cfg, chain));
	log_info("fd %d: listening through the proxy at %s (BIND via %s)", fd,
		 endpoint_format(&e->bnd, text, sizeof text),
		 proxyurl_format(&path.hops[0], url, sizeof url));
	return 0;
}

/* A new entry for fd with its BIND granted, not yet in the table.
 * Returns it, or NULL with *err set. */
static struct bind_listener *bind_create(const struct config *cfg,
					 unsigned chain, int fd, int family,
					 int *err)
{
	struct bind_listener *e = calloc(1, sizeof(*e));

	if (!e) {
		*err = -ENOMEM;
		return NULL;
	}
	e->fd = fd;
	e->family = family;
	e->ctrl = -1;
	e->wake = -1;
	*err = bind_request(cfg, chain, fd, family, e);
	if (*err < 0) {
		free(e);
		return NULL;
	}
	return e;
}

/* Put e into the table (its socket is bound now: record its inode). */
static void bind_insert(struct bind_listener *e)
{
	e->inode = bind_inode(e->fd);
	bind_lock_acquire();
	e->next = bind_list;
	bind_list = e;
	atomic_fetch_add_explicit(&bind_count, 1, memory_order_release);
	bind_lock_release();
}

/* ---- what the other hooks ask ---- */

bool bind_take(int listen_fd, const struct sockaddr *from, socklen_t len,
	       struct bind_handover *h)
{
	struct bind_listener **link, *e;
	struct endpoint source;

	if (bind_reentered() || endpoint_from_sockaddr(&source, from, len) < 0)
		return false;
	bind_lock_acquire();
	link = bind_find(listen_fd);
	e = link ? *link : NULL;
	if (!e || e->phase != BIND_ARRIVED || e->wake < 0 ||
	    !endpoint_equal(&source, &e->wake_addr)) {
		bind_lock_release();
		return false;
	}
	bind_unlink(link);
	bind_lock_release();
	*h = (struct bind_handover){.ctrl = e->ctrl,
				    .wake = e->wake,
				    .error = e->error,
				    .peer = e->peer};
	free(e);
	return true;
}

/* One of our hidden descriptors moved from from to to (the program
 * dup2()s onto from): the entry names the new number, under the lock, so
 * the helper thread, which collects descriptors under it, polls the new
 * one from its next round (the helper's own eventfd moves the same way).
 * Returns 0, or -ENOENT when from is no longer a BIND's. */
static int bind_moved(int from, int to)
{
	struct bind_listener *e;
	bool ours;

	if (bind_reentered())
		return -EBUSY;
	bind_lock_acquire();
	for (e = bind_list; e; e = e->next)
		if (e->ctrl == from || e->wake == from)
			break;
	if (e)
		*(e->ctrl == from ? &e->ctrl : &e->wake) = to;
	ours = e || bind_helper_moved(from, to);
	if (ours)
		bind_helper_kick(); /* the helper polls the new number */
	bind_lock_release();
	return ours ? 0 : -ENOENT;
}

void bind_forget(int fd)
{
	struct bind_listener **link, *e = NULL;

	if (!bind_active() || bind_reentered())
		return;
	bind_lock_acquire();
	link = bind_find(fd);
	if (link)
		e = bind_unlink(link);
	bind_lock_release();
	if (e)
		bind_destroy(e);
}

void bind_forget_range(unsigned lo, unsigned hi)
{
	struct bind_listener **link = &bind_list, *gone = NULL, *e;

	if (!bind_active() || bind_reentered())
		return;
	bind_lock_acquire();
	while (*link) {
		if ((unsigned)(*link)->fd < lo || (unsigned)(*link)->fd > hi) {
			link = &(*link)->next;
			continue;
		}
		e = bind_unlink(link);
		e->next = gone;
		gone = e;
	}
	bind_lock_release();
	while ((e = gone)) {
		gone = e->next;
		bind_destroy(e);
	}
}

void bind_note_connect(int fd, const struct endpoint *target,
		       const struct endpoint *bound, unsigned chain)
{
	bind_note_connect_via(fd, target, bound, chain, NULL);
}

void bind_note_connect_via(int fd, const struct endpoint *target,
			   const struct endpoint *bound, unsigned chain,
			   const struct endpoint *first_proxy)
{
	const struct config *cfg = socksify_config();
	struct endpoint outside = *bound;

	if (!config_bind_usable(cfg) || bind_reentered())
		return;
	atomic_store_explicit(&bind_proxied_seen, true, memory_order_release);
	bind_fill_unspecified(cfg, chain, fd, first_proxy, &outside);
	bind_lock_acquire();
	bind_last_peer = *target;
	bind_last_peer.port = 0;
	bind_last_chain =
	    chain < cfg->chain_count ? chain : CONFIG_DEFAULT_CHAIN;
	if (outside.kind == ENDPOINT_IPV4 || outside.kind == ENDPOINT_IPV6)
		bind_outside = outside;
	bind_lock_release();
}

/* ---- the hooks ---- */

/* True when fd has a BIND. */
static bool bind_active_for(int fd)
{
	bool found;

	if (!bind_active())
		return false;
	bind_lock_acquire();
	found = bind_find(fd) != NULL;
	bind_lock_release();
	return found;
}

/* Is fd a TCP socket that may BIND under cfg? *family receives its
 * family. */
static bool bind_candidate(const struct config *cfg, int fd, int *family)
{
	return config_bind_usable(cfg) &&
	       hook_socket_class(fd, family) == SOCKET_TCP;
}

/* "bind auto": a listener on a wildcard or outside address is evidently a
 * callback when the kernel picks its port (port 0, or listen() unbound)
 * and the process already talks to someone through the proxy (the FTP
 * control connection, the IRC server): the peer it will tell about the
 * port is out there. A fixed port is a server of the program's own and
 * stays local. "bind on" takes every such listener. */
static bool bind_wanted(const struct config *cfg, uint16_t port)
{
	if (cfg->bind_mode == BIND_MODE_ON)
		return true;
	return port == 0 &&
	       atomic_load_explicit(&bind_proxied_seen, memory_order_acquire);
}

/* bind_route(): the listener stays local. */
#define BIND_STAYS_LOCAL 1

/* The chain a BIND goes through: the one that carried the process's most
 * recent proxied TCP connection (the server that will call back; see
 * bind_note_connect), else the default chain. Returns 0 with *chain set,
 * BIND_STAYS_LOCAL when that chain ends in an HTTP proxy (no BIND) under
 * "bind auto", or -EOPNOTSUPP (logged) under "bind on". */
static int bind_route(const struct config *cfg, int fd, unsigned *chain)
{
	char name[CONFIG_URL_TEXT_MAX];
	struct route_target target = {TARGET_CHAIN, 0};

	bind_lock_acquire();
	*chain = bind_last_chain;
	bind_lock_release();
	if (!proxy_is_http(bind_last_hop(cfg, *chain)))
		return 0;
	if (cfg->bind_mode != BIND_MODE_ON)
		return BIND_STAYS_LOCAL;
	target.index = *chain;
	log_error("fd %d: BIND via %s refused: an http proxy last in the "
		  "chain has no BIND",
		  fd, config_target_name(cfg, target, name, sizeof name));
	return -EOPNOTSUPP;
}

/* The wildcard address of family with port, into ss. Returns its length. */
static socklen_t bind_wildcard(int family, uint16_t port,
			       struct sockaddr_storage *ss)
{
	struct endpoint ep;

	endpoint_parse_ip(&ep, family == AF_INET6 ? "::" : "0.0.0.0");
	ep.port = port;
	return endpoint_to_sockaddr(&ep, family, ss);
}

/* bind() of a qualifying address: BIND first (so a refusal fails bind()
 * and the socket stays unbound), then the real bind. Returns 0 or -errno. */
static int bind_through_proxy(const struct config *cfg, int fd, int family,
			      const struct sockaddr *sa, socklen_t len,
			      enum bind_address_class class, uint16_t port)
{
	struct sockaddr_storage any;
	struct bind_listener *e;
	unsigned chain;
	int err = bind_route(cfg, fd, &chain);

	if (class == BIND_ADDR_OUTSIDE) {
		len = bind_wildcard(family, port, &any);
		sa = (struct sockaddr *)&any;
	}
	if (err == BIND_STAYS_LOCAL)
		return real.bind(fd, sa, len) < 0 ? -errno : 0;
	if (err < 0)
		return err;
	e = bind_create(cfg, chain, fd, family, &err);
	if (!e)
		return err;
	if (real.bind(fd, sa, len) < 0) {
		err = -errno;
		bind_destroy(e);
		return err;
	}
	bind_insert(e);
	return 0;
}

SOCKSIFY_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int saved_errno = errno, family, rc;
	const struct config *cfg;
	enum bind_address_class class;
	struct endpoint ep;

	real_init();
	cfg = socksify_config();
	if (!config_bind_usable(cfg) || bind_reentered() || !sa ||
	    len < sizeof sa->sa_family ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    endpoint_from_sockaddr(&ep, sa, len) < 0 ||
	    !bind_candidate(cfg, fd, &family)) {
		errno = saved_errno;
		return real.bind(fd, sa, len);
	}
	class = bind_classify(&ep);
	errno = saved_errno;
	if (class == BIND_ADDR_LOCAL || !bind_wanted(cfg, ep.port) ||
	    bind_active_for(fd))
		return real.bind(fd, sa, len);
	rc = bind_through_proxy(cfg, fd, family, sa, len, class, ep.port);
	if (rc == 0)
		errno = saved_errno;
	return (int)hook_return(rc);
}

/* listen() on fd that has a BIND: the real listen, then the helper waits
 * for the second reply. Returns what listen() returns. */
static int listen_bound(int fd, int backlog)
{
	struct bind_listener **link;
	int rc = real.listen(fd, backlog);

	if (rc < 0)
		return rc;
	bind_lock_acquire();
	link = bind_find(fd);
	if (link && (*link)->phase == BIND_BOUND) {
		(*link)->phase = BIND_LISTENING;
		bind_helper_kick();
	}
	bind_lock_release();
	return rc;
}

/* True when fd is unbound (the kernel will bind the wildcard address at
 * listen()). */
static bool listen_unbound(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct endpoint ep;

	return real.getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	       endpoint_from_sockaddr(&ep, (struct sockaddr *)&ss, len) == 0 &&
	       ep.port == 0 && bind_is_wildcard(&ep);
}

/* listen() on an unbound candidate: BIND, then listen. Returns 0 or
 * -errno. */
static int listen_unbound_through_proxy(const struct config *cfg, int fd,
					int family, int backlog)
{
	struct bind_listener *e;
	unsigned chain;
	int err = bind_route(cfg, fd, &chain);

	if (err == BIND_STAYS_LOCAL)
		return real.listen(fd, backlog) < 0 ? -errno : 0;
	if (err < 0)
		return err;
	e = bind_create(cfg, chain, fd, family, &err);
	if (!e)
		return err;
	if (real.listen(fd, backlog) < 0) {
		err = -errno;
		bind_destroy(e);
		return err;
	}
	e->phase = BIND_LISTENING;
	bind_insert(e);
	bind_lock_acquire();
	bind_helper_kick();
	bind_lock_release();
	return 0;
}

SOCKSIFY_EXPORT int listen(int fd, int backlog)
{
	int saved_errno = errno, family, rc;
	const struct config *cfg;

	real_init();
	if (bind_reentered())
		return real.listen(fd, backlog);
	if (bind_active_for(fd))
		return listen_bound(fd, backlog);
	cfg = socksify_config();
	if (!bind_candidate(cfg, fd, &family) || !bind_wanted(cfg, 0) ||
	    !listen_unbound(fd)) {
		errno = saved_errno;
		return real.listen(fd, backlog);
	}
	errno = saved_errno;
	rc = listen_unbound_through_proxy(cfg, fd, family, backlog);
	if (rc == 0)
		errno = saved_errno; /* as bind() does: success keeps errno */
	return (int)hook_return(rc);
}

/* getsockname() of a proxied connection with bind auto or on: the proxy's
 * outside address with the local port, so that a program that advertises its
 * own address (FTP's "PORT -") names the host the world sees. Returns 0,
 * -errno, or HOOK_PASS to pass on. */
static int getsockname_outside(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof ss;
	struct fdtab_entry entry;
	struct endpoint outside, local;
	int rc;

	if (!config_bind_usable(socksify_config()) ||
	    fdtab_get(fd, &entry) < 0 || !(entry.flags & FDTAB_PROXIED))
		return HOOK_PASS;
	bind_lock_acquire();
	outside = bind_outside;
	bind_lock_release();
	if (outside.kind == ENDPOINT_NONE ||
	    real.getsockname(fd, (struct sockaddr *)&ss, &ss_len) < 0 ||
	    endpoint_from_sockaddr(&local, (struct sockaddr *)&ss, ss_len) < 0)
		return HOOK_PASS;
	outside.port = local.port;
	rc = endpoint_copy_sockaddr(&outside, ss.ss_family, sa, len);
	return rc == -EAFNOSUPPORT ? HOOK_PASS : rc;
}

/* getsockname() of a socket with a BIND: its BND address. Returns 0,
 * -errno, or HOOK_PASS to pass on. */
static int getsockname_bound(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct bind_listener **link;
	struct endpoint bnd;
	int family, rc;

	if (!bind_active())
		return HOOK_PASS;
	bind_lock_acquire();
	link = bind_find(fd);
	if (link) {
		bnd = (*link)->bnd;
		family = (*link)->family;
	}
	bind_lock_release();
	if (!link)
		return HOOK_PASS;
	rc = endpoint_copy_sockaddr(&bnd, family, sa, len);
	return rc == -EAFNOSUPPORT ? HOOK_PASS : rc;
}

SOCKSIFY_EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	int saved_errno = errno, rc;

	real_init();
	if (bind_reentered())
		return real.getsockname(fd, sa, len);
	rc = getsockname_bound(fd, sa, len);
	if (rc == HOOK_PASS)
		rc = getsockname_outside(fd, sa, len);
	errno = saved_errno;
	if (rc == HOOK_PASS)
		return real.getsockname(fd, sa, len);
	return (int)hook_return(rc);
}

/* ---- the registry's callbacks (common/fdreg.h) ---- */

/* The program closes or replaces fd: a BIND listener's BIND goes. */
static void bind_closing(int fd, uint32_t flags)
{
	(void)flags;
	bind_forget(fd);
}

static const struct fdreg_subsystem bind_subsystem = {
    .name = "bind",
    .active = bind_active,
    .closing = bind_closing,
    .closing_range = bind_forget_range,
    .moved = bind_moved,
    .fork_prepare = bind_fork_prepare,
    .fork_parent = bind_fork_parent,
    .fork_child = bind_fork_child,
};

void bind_register(void)
{
	bind_owner = fdreg_register(&bind_subsystem);
}
