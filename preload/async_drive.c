/* async_drive.c — driving asynchronous handshakes: the steps of a record
 * (advance, finish) and the helper thread (see async_internal.h).
 *
 * Thread: one helper, started by an asynchronous connect when none runs,
 * with all signals blocked. It waits in its own epoll set on each record's
 * private duplicate (one-shot, for what the handshake asked) and on an
 * eventfd that announces new records, and wakes for the nearest deadline.
 * Once no handshake has run for ASYNC_HELPER_LINGER_MS it closes both and
 * ends; the next asynchronous connect starts another. Both descriptors are
 * hidden (hidden.h): a program that closes every descriptor it does not
 * know, or dup2()s onto one of their numbers, leaves the helper its own.
 * Program threads may advance a record themselves (SO_ERROR, a data call):
 * every step runs under async_lock, so the machine is driven by one thread
 * at a time. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "async_internal.h"
#include "bind.h"
#include "fdtab.h"
#include "group.h"
#include "hidden.h"
#include "state.h"
#include "log.h"
#include "real.h"

#define ASYNC_WAKE	    UINT64_MAX /* helper epoll data of the wake eventfd */
#define ASYNC_PROXY_TEXT    1200 /* a proxy URL and its chain, group, rule */
#define ASYNC_HELPER_EVENTS 64	 /* events taken per epoll_wait */
#define ASYNC_HELPER_STACK  (128 * 1024) /* the helper thread's stack */
/* The helper ends once no handshake has run for this long: a program that
 * connects again soon finds it still there, one that stopped keeps no
 * thread of ours. */
#define ASYNC_HELPER_LINGER_MS 1000

/* The helper's state, under async_lock. idle_since: when the helper last
 * found no handshake running (0 while one runs). */
static bool async_helper_up;
static int async_helper_ep = -1, async_helper_wakefd = -1;
static uint64_t async_helper_idle_since;
/* The epoll set's moves (async_helper_moved) and the last one the helper
 * took in before a wait: see helper_main. */
static unsigned async_helper_ep_moves, async_helper_ep_seen;
/* True on the helper thread. */
static _Thread_local bool async_on_helper
    __attribute__((tls_model("initial-exec")));
unsigned async_owner_id;

/* How long async_helper_moved waits for the helper to leave a wait on the
 * old number (it is woken at once; a step never blocks). */
#define ASYNC_MOVE_WAIT_S 2

/* ---- socket_io for the private duplicate: never blocks, never raises
 * SIGPIPE, whatever the program did to the shared O_NONBLOCK flag. ---- */

static int aio_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return real.connect(fd, sa, len);
}

static ssize_t aio_send(int fd, const void *buf, size_t len, int flags)
{
	return real.send(fd, buf, len, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
}

static ssize_t aio_recv(int fd, void *buf, size_t len, int flags)
{
	return real.recv(fd, buf, len, flags | MSG_DONTWAIT);
}

static int aio_poll(struct pollfd *fds, nfds_t count, int timeout_ms)
{
	return real.poll(fds, count, timeout_ms);
}

static int aio_getsockopt(int fd, int level, int name, void *val,
			  socklen_t *len)
{
	return real.getsockopt(fd, level, name, val, len);
}

const struct socket_io async_sock_io = {
    .connect = aio_connect,
    .send = aio_send,
    .recv = aio_recv,
    .poll = aio_poll,
    .getsockopt = aio_getsockopt,
};

void rec_close_private(struct async_rec *rec)
{
	if (rec->priv >= 0) {
		real.epoll_ctl(async_helper_ep, EPOLL_CTL_DEL, rec->priv, NULL);
		real.close(rec->priv);
		rec->priv = -1;
	}
}

/* Ended by a program thread (SO_ERROR, a data call), the last running
 * record wakes the helper to count its idle second from now, not from the
 * end of a wait bounded by the record's old deadline. */
void rec_stop(struct async_rec *rec)
{
	async_race_close(rec, async_helper_ep);
	rec_close_private(rec);
	if (rec_settled() == 0 && !async_on_helper)
		async_helper_wake();
}

void rec_signal(struct async_rec *rec)
{
	uint64_t one = 1;

	if (rec->efd >= 0 && real.write(rec->efd, &one, sizeof one) < 0)
		log_debug("async: eventfd write failed");
}

/* Log a finished handshake like the synchronous path does; note ends a
 * failure's line. */
static void rec_log(const struct async_rec *rec, int rc, const char *note)
{
	char dest[ENDPOINT_TEXT_MAX], via[ASYNC_PROXY_TEXT];
	int fd = rec->nalias ? rec->alias[0] : -1;

	if (!log_enabled(rc == 0 ? LOG_INFO : LOG_ERROR))
		return;
	endpoint_format(&rec->run.dest, dest, sizeof dest);
	group_describe(rec->run.cfg, &rec->choice, rec->chain, via, sizeof via);
	if (rc == 0)
		log_info("fd %d: %s via %s: ok (asynchronous)", fd, dest, via);
	else
		log_error("fd %d: %s via %s: %s%s", fd, dest, via,
			  rec->run.res.why ? rec->run.res.why : "failed", note);
}

/* The handshake ended with rc (0 or -errno). Success: the descriptors are
 * recorded as proxied and forgotten here. Failure: the socket is dissolved
 * and the error kept for its one report. Then the program's interest comes
 * back, which wakes its epoll waiters, and poll waiters are woken. */
/* Give the program's epoll registrations their interest back. After a
 * race's extra socket moved onto the aliases, the old socket's
 * registrations went with it, so an alias is registered again (lock held,
 * before rec_free). */
static void rec_restore_epoll(struct async_rec *rec)
{
	for (int i = 0; rec->moved && i < rec->nregs; i++) {
		struct epoll_event ev = rec->regs[i].ev;

		if (real.epoll_ctl(rec->regs[i].epfd, EPOLL_CTL_MOD,
				   rec->regs[i].tfd, &ev) < 0 &&
		    errno == ENOENT &&
		    rec_alias_index(rec, rec->regs[i].tfd) >= 0)
			real.epoll_ctl(rec->regs[i].epfd, EPOLL_CTL_ADD,
				       rec->regs[i].tfd, &ev);
	}
	if (!rec->moved)
		async_epoll_restore(rec->regs, rec->nregs);
	rec->nregs = 0;
}

/* The handshake ended with rc (0 or -errno). Success: the descriptors are
 * recorded as proxied and forgotten here. Failure: the socket is dissolved
 * and the error kept for its one report. Then the program's interest comes
 * back, which wakes its epoll waiters, and poll waiters are woken. */
void rec_finish(struct async_rec *rec, int rc)
{
	struct fdtab_entry entry = {.flags = FDTAB_PROXIED, .dest = rec->asked};
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};

	rec_log(rec, rc, "");
	if (rc == 0) {
		health_mark_up(socksify_health(), rec->chain);
		group_race_won(socksify_health(), &rec->plan, rec->at);
	}
	if (rc == 0) {
		for (int i = 0; i < rec->nalias; i++)
			fdtab_set(rec->alias[i], &entry);
		/* As after a synchronous connect: BIND's last peer and the
		 * proxy's outside address (bind.c). */
		bind_note_connect(rec->priv, &rec->run.dest,
				  &rec->run.res.bound, rec->chain);
	} else {
		rec->error = -rc;
		real.connect(rec->priv, &unspec, sizeof unspec);
	}
	rec_stop(rec);
	rec_restore_epoll(rec);
	if (rc == 0)
		rec_free(rec);
	else
		rec->state = REC_FAILED;
	rec_signal(rec);
}

int rec_watch_fd(struct async_rec *rec, int fd, unsigned lane, short events,
		 int op)
{
	struct epoll_event ev = {
	    .events = EPOLLONESHOT | (events & POLLIN ? EPOLLIN : EPOLLOUT),
	    .data.u64 = (uint64_t)rec->gen << 32 |
			(uint64_t)lane << ASYNC_LANE_SHIFT | rec_index(rec),
	};

	if (real.epoll_ctl(async_helper_ep, op, fd, &ev) < 0)
		return -errno;
	return 0;
}

void rec_watch(struct async_rec *rec, short events, int op)
{
	int rc = rec_watch_fd(rec, rec->priv, 0, events, op);

	if (rc < 0)
		rec_finish(rec, rc);
}

/* Start the next chain of rec's plan on its socket: the failed connection
 * dissolved, a TCP connect to the chain's first proxy under way, a new run
 * within the same deadline limit. Returns 0, or -errno when it cannot (a
 * connect refused at once marks the chain down). */
static int rec_next_chain(struct async_rec *rec)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	const struct config *cfg = rec->run.cfg;
	struct tunnel_path path = {.limit_ms = rec->run.path.limit_ms};
	struct endpoint target = rec->run.dest;
	unsigned at = rec->plan_next++;
	unsigned chain = rec->plan.chains[at];
	struct sockaddr_storage proxy;
	int len = socksify_chain_sockaddr(chain, rec->domain, &proxy);

	if (len < 0)
		return len; /* this socket cannot reach it: not its fault */
	real.connect(rec->priv, &unspec, sizeof unspec);
	if (real.connect(rec->priv, (const struct sockaddr *)&proxy,
			 (socklen_t)len) < 0 &&
	    errno != EINPROGRESS && errno != EINTR) {
		len = -errno;
		health_mark_down(socksify_health(), chain,
				 netio_now_ms() + cfg->down_time_ms);
		log_debug("async: chain %u refused at once", chain);
		return len;
	}
	path.hops = config_chain_hops(cfg, chain, &path.count);
	path.connect_ms = group_connect_ms(cfg, &rec->plan, at);
	tunnel_run_init_path(&rec->run, cfg, &path, &target, HANDSHAKE_CONNECT,
			     netio_now_ms());
	rec->chain = chain;
	rec->at = at;
	rec_watch(rec, POLLOUT, EPOLL_CTL_MOD);
	return 0;
}

/* The run failed with rc: mark its chain down when the failure was its
 * own, and go on with the next chain of the plan while there is one and
 * time is left. Returns true when a next chain runs. */
static bool rec_failover(struct async_rec *rec, int rc)
{
	const struct config *cfg = rec->run.cfg;
	bool logged = false;

	if (!group_proxy_failed(-rc, &rec->run.res, rec->run.path.count))
		return false;
	health_mark_down(socksify_health(), rec->chain,
			 netio_now_ms() + cfg->down_time_ms);
	while (rec->plan_next < rec->plan.count &&
	       (!rec->run.path.limit_ms ||
		netio_now_ms() < rec->run.path.limit_ms)) {
		if (!logged)
			rec_log(rec, rc, " (marked down)");
		logged = true;
		if (rec_next_chain(rec) == 0)
			return true;
	}
	return false;
}

void rec_advance(struct async_rec *rec)
{
	short events = 0;
	int rc;

	if (rec->state != REC_RUNNING)
		return;
	if (rec->race) {
		async_race_advance(rec);
		return;
	}
	rc = tunnel_run_step(&rec->run, &async_sock_io, rec->priv,
			     netio_now_ms(), &events);
	if (rc == -EAGAIN)
		rec_watch(rec, events, EPOLL_CTL_MOD);
	else if (rc == 0 || !rec_failover(rec, rc))
		rec_finish(rec, rc);
}

/* ---- the helper thread ---- */

/* Milliseconds until the nearest deadline; with nothing running, until
 * the helper has been idle for ASYNC_HELPER_LINGER_MS, or -1 when it has
 * and should end (lock held). */
static int helper_timeout(void)
{
	uint64_t nearest = UINT64_MAX, now;

	for (unsigned i = 0; i < async_rec_count(); i++) {
		const struct async_rec *rec = async_rec_at(i);

		if (rec->state == REC_RUNNING && rec->race &&
		    async_race_due(rec) < nearest)
			nearest = async_race_due(rec);
		else if (rec->state == REC_RUNNING && !rec->race &&
			 tunnel_run_deadline(&rec->run) < nearest)
			nearest = tunnel_run_deadline(&rec->run);
	}
	if (nearest != UINT64_MAX) {
		async_helper_idle_since = 0;
		return netio_remaining_ms(nearest) + 1;
	}
	now = netio_now_ms();
	if (async_helper_idle_since == 0)
		async_helper_idle_since = now;
	if (now - async_helper_idle_since >= ASYNC_HELPER_LINGER_MS)
		return -1;
	return (int)(async_helper_idle_since + ASYNC_HELPER_LINGER_MS - now);
}

/* The helper's descriptors close and it is no longer up (lock held): from
 * the helper as it ends, after a failed start, in a fork child. */
static void helper_release(void)
{
	hidden_close(&async_helper_ep);
	hidden_close(&async_helper_wakefd);
	async_helper_up = false;
	async_helper_idle_since = 0;
	async_helper_ep_seen = async_helper_ep_moves;
	async_lock_wake_all(); /* a move waiting for the helper: it is gone */
}

/* Step every running record whose deadline passed (it then fails). */
static void helper_expire(void)
{
	uint64_t now = netio_now_ms();

	for (unsigned i = 0; i < async_rec_count(); i++) {
		struct async_rec *rec = async_rec_at(i);

		if (rec->state == REC_RUNNING &&
		    (rec->race ? async_race_due(rec)
			       : tunnel_run_deadline(&rec->run)) <= now)
			rec_advance(rec);
	}
}

/* One event from the helper's epoll set (lock held). */
static void helper_event(const struct epoll_event *ev)
{
	uint64_t drain;
	struct async_rec *rec;

	if (ev->data.u64 == ASYNC_WAKE) {
		if (real.read(async_helper_wakefd, &drain, sizeof drain) < 0)
			drain = 0;
		return;
	}
	rec = async_rec_at((uint32_t)ev->data.u64 & ASYNC_INDEX_MASK);
	if (rec->gen == (uint32_t)(ev->data.u64 >> 32))
		rec_advance(rec);
}

/* Until idle for ASYNC_HELPER_LINGER_MS. The set's number is read under
 * the lock and used after it: the program's dup2() onto that number moves
 * the set (async_helper_moved), which holds the dup2 until the helper has
 * come back here and taken in the new number, so a wait never starts on a
 * number that has become the program's. */
static void *helper_main(void *arg)
{
	struct epoll_event evs[ASYNC_HELPER_EVENTS];
	int timeout, n, ep;

	(void)arg;
	async_on_helper = true;
	for (;;) {
		async_lock_acquire();
		timeout = helper_timeout();
		if (timeout < 0) {
			helper_release();
			async_lock_release();
			return NULL;
		}
		ep = async_helper_ep;
		if (async_helper_ep_seen != async_helper_ep_moves) {
			async_helper_ep_seen = async_helper_ep_moves;
			async_lock_wake_all();
		}
		async_lock_release();
		n = epoll_wait(ep, evs, ASYNC_HELPER_EVENTS, timeout);
		/* The lock is let go between events, so that a connect() or
		 * a program's call waits for one handshake step at most, not
		 * for a whole batch of them. */
		for (int i = 0; i < n; i++) {
			async_lock_acquire();
			helper_event(&evs[i]);
			async_lock_release();
		}
		async_lock_acquire();
		helper_expire();
		async_lock_release();
	}
	return NULL;
}

/* fd (just made, or -1) hidden as the subsystem's. */
static int helper_hide(int fd)
{
	return fd < 0 ? fd : hidden_take(fd, async_owner_id, NULL);
}

/* Its epoll set, its wake eventfd, then the thread with every signal
 * blocked (lock held). Returns false when any part fails. */
static bool helper_start(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ASYNC_WAKE};
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	async_helper_ep = helper_hide(real.epoll_create1(EPOLL_CLOEXEC));
	async_helper_wakefd =
	    helper_hide(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (async_helper_ep < 0 || async_helper_wakefd < 0 ||
	    real.epoll_ctl(async_helper_ep, EPOLL_CTL_ADD, async_helper_wakefd,
			   &ev) < 0)
		return false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, ASYNC_HELPER_STACK);
	rc = pthread_create(&tid, &attr, helper_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0;
}

/* The helper, started when none runs (lock held). A failed start is
 * cleaned up and tried again at the next connect. A helper that is up
 * counts as busy from here: it cannot decide to end between this call and
 * the record its caller is about to add. */
bool async_helper_ensure(void)
{
	if (async_helper_up) {
		async_helper_idle_since = 0;
		return true;
	}
	async_helper_up = helper_start();
	if (!async_helper_up) {
		helper_release();
		log_warn("cannot start the handshake thread; connects run "
			 "synchronously");
	}
	return async_helper_up;
}

void async_helper_wake(void)
{
	uint64_t one = 1;

	if (async_helper_wakefd >= 0 &&
	    real.write(async_helper_wakefd, &one, sizeof one) < 0)
		log_debug("async: wake write failed");
}

/* The eventfd's registration in the set is by its open file, which the
 * copy keeps, so for it the new number is all. For the set itself, the
 * helper may be about to wait on the old number: the program's call waits
 * until the helper has been woken and has taken in the new one (bounded;
 * past the bound the call goes on, as it did before sets were hidden). */
bool async_helper_moved(int from, int to)
{
	struct timespec until;

	if (from < 0)
		return false;
	if (from == async_helper_wakefd) {
		async_helper_wakefd = to;
		return true;
	}
	if (from != async_helper_ep)
		return false;
	async_helper_ep = to;
	async_helper_ep_moves++;
	async_helper_wake();
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ASYNC_MOVE_WAIT_S;
	while (async_helper_up &&
	       async_helper_ep_seen != async_helper_ep_moves) {
		if (async_lock_wait(&until) == ETIMEDOUT) {
			log_warn("async: the handshake thread did not take in "
				 "its epoll set's new number in time");
			break;
		}
	}
	return true;
}

void async_helper_after_fork_child(void)
{
	helper_release(); /* also: no move waits for the helper */
}

void async_helper_drop_private(struct async_rec *rec)
{
	async_race_close(rec, -1);
	real.close(rec->priv);
	rec->priv = -1;
}
