/* async.c — the records of asynchronous handshakes and the helper thread
 * that drives them (see async.h for what the program sees).
 *
 * Records: a static pool; a record lives from connect() until the handshake
 * succeeds, or, after a failure, until the error has been reported once
 * (SO_ERROR, a read or a write), the socket is closed or connected again.
 * A lazily mapped array gives, for each descriptor number, the record it
 * belongs to (index + 1), so the hooks find it without a lock; everything
 * else in a record is guarded by async_lock, and found records are checked
 * again under it (the descriptor must still be one of the record's aliases).
 *
 * Thread: one helper, started on the first asynchronous connect, with all
 * signals blocked. It waits in its own epoll set on each record's private
 * duplicate (one-shot, for what the handshake asked) and on an eventfd that
 * announces new records, and wakes for the nearest deadline. Program threads
 * may advance a record themselves (SO_ERROR, a data call): every step runs
 * under async_lock, so the machine is driven by one thread at a time.
 *
 * Fork: the prepare handler waits (bounded by the handshake deadlines) until
 * no handshake runs and holds the lock across fork(), so the child inherits
 * settled records and no helper; the child drops the helper's descriptors.
 * exec (preload/exec.c) waits the same way through async_wait_settled(), as
 * the helper vanishes with the old image.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "async.h"
#include "bind.h"
#include "fdreg.h"
#include "fdtab.h"
#include "hooks.h"
#include "log.h"
#include "real.h"
#include "tunnel_run.h"

#define ASYNC_RECORDS	 512
#define ASYNC_ALIASES	 8
#define ASYNC_REGS	 16
#define ASYNC_WAKE	 UINT64_MAX /* helper epoll data of the wake eventfd */
#define ASYNC_PROXY_TEXT 600

enum async_state { REC_FREE, REC_RUNNING, REC_FAILED };

struct async_rec {
	enum async_state state;
	uint32_t gen; /* bumped at each reuse: stale helper events are seen */
	int priv;     /* our duplicate of the socket, or -1 */
	int efd;      /* eventfd readable once the handshake ended, or -1 */
	int pollers;  /* poll waiters using efd */
	int alias[ASYNC_ALIASES]; /* the program's descriptors for it */
	int nalias;
	struct async_reg regs[ASYNC_REGS];
	int nregs;
	int error;	       /* positive errno once failed */
	struct endpoint asked; /* what the program connected to */
	struct tunnel_run run;
};

_Atomic int async_live;

static struct async_rec async_recs[ASYNC_RECORDS];
static _Atomic(uint16_t *) async_map;
static pthread_mutex_t async_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t async_ended = PTHREAD_COND_INITIALIZER;
static int async_running; /* records in REC_RUNNING */
static bool async_helper_up;
static int async_helper_ep = -1, async_helper_wake = -1;

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

static const struct socket_io async_sock_io = {
    .connect = aio_connect,
    .send = aio_send,
    .recv = aio_recv,
    .poll = aio_poll,
    .getsockopt = aio_getsockopt,
};

/* ---- the descriptor map ---- */

static uint16_t *async_map_get(void)
{
	return atomic_load_explicit(&async_map, memory_order_acquire);
}

/* Map it on first use (lock held). Returns false when it cannot be. */
static bool async_map_ensure(void)
{
	size_t size = FDTAB_MAX_FD * sizeof(uint16_t);
	void *m;

	if (async_map_get())
		return true;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return false;
	atomic_store_explicit(&async_map, (uint16_t *)m, memory_order_release);
	return true;
}

static void async_map_set(int fd, unsigned value)
{
	uint16_t *map = async_map_get();

	if (map && fd >= 0 && (unsigned)fd < FDTAB_MAX_FD)
		__atomic_store_n(&map[fd], (uint16_t)value, __ATOMIC_RELEASE);
}

/* The record fd belongs to, without a lock (check again under it). */
static struct async_rec *async_find(int fd)
{
	uint16_t *map = async_map_get();
	unsigned v;

	if (!map || fd < 0 || (unsigned)fd >= FDTAB_MAX_FD)
		return NULL;
	v = __atomic_load_n(&map[fd], __ATOMIC_ACQUIRE);
	return v ? &async_recs[v - 1] : NULL;
}

static int rec_alias_index(const struct async_rec *rec, int fd)
{
	for (int i = 0; i < rec->nalias; i++)
		if (rec->alias[i] == fd)
			return i;
	return -1;
}

/* Lock and return fd's record when it still belongs to it, else NULL (and
 * the lock is not held). */
static struct async_rec *async_lock_rec(int fd)
{
	struct async_rec *rec = async_find(fd);

	if (!rec)
		return NULL;
	pthread_mutex_lock(&async_lock);
	if (rec->state != REC_FREE && rec_alias_index(rec, fd) >= 0)
		return rec;
	pthread_mutex_unlock(&async_lock);
	return NULL;
}

/* ---- record life ---- */

/* A free slot no poll waiter still uses, or NULL. */
static struct async_rec *rec_alloc(void)
{
	for (unsigned i = 0; i < ASYNC_RECORDS; i++) {
		struct async_rec *rec = &async_recs[i];

		if (rec->state == REC_FREE && rec->pollers == 0) {
			rec->gen++;
			rec->priv = -1;
			rec->efd = -1;
			rec->nalias = 0;
			rec->nregs = 0;
			rec->error = 0;
			return rec;
		}
	}
	return NULL;
}

static unsigned rec_index(const struct async_rec *rec)
{
	return (unsigned)(rec - async_recs);
}

static void rec_close_efd_if_unused(struct async_rec *rec)
{
	if (rec->state == REC_FREE && rec->pollers == 0 && rec->efd >= 0) {
		real.close(rec->efd);
		rec->efd = -1;
	}
}

/* Forget rec: its descriptors leave the map; the slot becomes free. */
static void rec_free(struct async_rec *rec)
{
	for (int i = 0; i < rec->nalias; i++)
		async_map_set(rec->alias[i], 0);
	rec->nalias = 0;
	rec->state = REC_FREE;
	atomic_fetch_sub_explicit(&async_live, 1, memory_order_release);
	rec_close_efd_if_unused(rec);
}

/* Leave REC_RUNNING: the helper lets go of the private duplicate. */
static void rec_stop(struct async_rec *rec)
{
	if (rec->priv >= 0) {
		real.epoll_ctl(async_helper_ep, EPOLL_CTL_DEL, rec->priv, NULL);
		real.close(rec->priv);
		rec->priv = -1;
	}
	async_running--;
	pthread_cond_broadcast(&async_ended);
}

/* Wake poll waiters (the eventfd stays readable). */
static void rec_signal(struct async_rec *rec)
{
	uint64_t one = 1;

	if (rec->efd >= 0 && real.write(rec->efd, &one, sizeof one) < 0)
		log_debug("async: eventfd write failed");
}

/* Log a finished handshake like the synchronous path does. */
static void rec_log(const struct async_rec *rec, int rc)
{
	char dest[ENDPOINT_TEXT_MAX], via[ASYNC_PROXY_TEXT];
	const struct config *cfg = rec->run.cfg;
	int fd = rec->nalias ? rec->alias[0] : -1;

	if (!log_enabled(rc == 0 ? LOG_INFO : LOG_ERROR))
		return;
	endpoint_format(&rec->run.dest, dest, sizeof dest);
	proxyurl_format(&cfg->proxies[0], via, sizeof via);
	if (rc == 0)
		log_info("fd %d: %s via %s: ok (asynchronous)", fd, dest, via);
	else
		log_error("fd %d: %s via %s: %s", fd, dest, via,
			  rec->run.res.why ? rec->run.res.why : "failed");
}

/* The handshake ended with rc (0 or -errno). Success: the descriptors are
 * recorded as proxied and forgotten here. Failure: the socket is dissolved
 * and the error kept for its one report. Then the program's interest comes
 * back, which wakes its epoll waiters, and poll waiters are woken. */
static void rec_finish(struct async_rec *rec, int rc)
{
	struct fdtab_entry entry = {.flags = FDTAB_PROXIED, .dest = rec->asked};
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};

	rec_log(rec, rc);
	if (rc == 0) {
		for (int i = 0; i < rec->nalias; i++)
			fdtab_set(rec->alias[i], &entry);
		/* As after a synchronous connect: BIND's last peer and the
		 * proxy's outside address (bind.c). */
		bind_note_connect(rec->priv, &rec->run.dest,
				  &rec->run.res.bound);
	} else {
		rec->error = -rc;
		real.connect(rec->priv, &unspec, sizeof unspec);
	}
	rec_stop(rec);
	if (rc == 0)
		rec_free(rec);
	else
		rec->state = REC_FAILED;
	async_epoll_restore(rec->regs, rec->nregs);
	rec->nregs = 0;
	rec_signal(rec);
}

/* Ask the helper to wait for events on rec's duplicate (one-shot). */
static void rec_watch(struct async_rec *rec, short events, int op)
{
	struct epoll_event ev = {
	    .events = EPOLLONESHOT | (events & POLLIN ? EPOLLIN : EPOLLOUT),
	    .data.u64 = (uint64_t)rec->gen << 32 | rec_index(rec),
	};

	if (real.epoll_ctl(async_helper_ep, op, rec->priv, &ev) < 0)
		rec_finish(rec, -errno);
}

/* Drive rec's handshake as far as it goes now (lock held). */
static void rec_advance(struct async_rec *rec)
{
	short events = 0;
	int rc;

	if (rec->state != REC_RUNNING)
		return;
	rc = tunnel_run_step(&rec->run, &async_sock_io, rec->priv,
			     netio_now_ms(), &events);
	if (rc == -EAGAIN)
		rec_watch(rec, events, EPOLL_CTL_MOD);
	else
		rec_finish(rec, rc);
}

/* ---- the helper thread ---- */

/* Milliseconds until the nearest deadline, or -1 with nothing running. */
static int helper_timeout(void)
{
	uint64_t nearest = UINT64_MAX;

	for (unsigned i = 0; i < ASYNC_RECORDS; i++) {
		const struct async_rec *rec = &async_recs[i];

		if (rec->state == REC_RUNNING &&
		    tunnel_run_deadline(&rec->run) < nearest)
			nearest = tunnel_run_deadline(&rec->run);
	}
	return nearest == UINT64_MAX ? -1 : netio_remaining_ms(nearest) + 1;
}

/* Step every running record whose deadline passed (it then fails). */
static void helper_expire(void)
{
	uint64_t now = netio_now_ms();

	for (unsigned i = 0; i < ASYNC_RECORDS; i++) {
		struct async_rec *rec = &async_recs[i];

		if (rec->state == REC_RUNNING &&
		    tunnel_run_deadline(&rec->run) <= now)
			rec_advance(rec);
	}
}

/* One event from the helper's epoll set (lock held). */
static void helper_event(const struct epoll_event *ev)
{
	uint64_t drain;
	struct async_rec *rec;

	if (ev->data.u64 == ASYNC_WAKE) {
		if (real.read(async_helper_wake, &drain, sizeof drain) < 0)
			drain = 0;
		return;
	}
	rec = &async_recs[(uint32_t)ev->data.u64 % ASYNC_RECORDS];
	if (rec->gen == (uint32_t)(ev->data.u64 >> 32))
		rec_advance(rec);
}

static void *helper_main(void *arg)
{
	struct epoll_event evs[64];
	int timeout, n;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&async_lock);
		timeout = helper_timeout();
		pthread_mutex_unlock(&async_lock);
		n = epoll_wait(async_helper_ep, evs, 64, timeout);
		pthread_mutex_lock(&async_lock);
		for (int i = 0; i < n; i++)
			helper_event(&evs[i]);
		helper_expire();
		pthread_mutex_unlock(&async_lock);
	}
	return NULL;
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

	async_helper_ep = real.epoll_create1(EPOLL_CLOEXEC);
	async_helper_wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (async_helper_ep < 0 || async_helper_wake < 0 ||
	    real.epoll_ctl(async_helper_ep, EPOLL_CTL_ADD, async_helper_wake,
			   &ev) < 0)
		return false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	rc = pthread_create(&tid, &attr, helper_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0;
}

/* The helper, started once (lock held). A failed start is cleaned up and
 * tried again at the next connect. */
static bool helper_ensure(void)
{
	if (async_helper_up)
		return true;
	async_helper_up = helper_start();
	if (!async_helper_up) {
		if (async_helper_ep >= 0)
			real.close(async_helper_ep);
		if (async_helper_wake >= 0)
			real.close(async_helper_wake);
		async_helper_ep = async_helper_wake = -1;
		log_warn("cannot start the handshake thread; connects run "
			 "synchronously");
	}
	return async_helper_up;
}

static void helper_wake(void)
{
	uint64_t one = 1;

	if (real.write(async_helper_wake, &one, sizeof one) < 0)
		log_debug("async: wake write failed");
}

/* ---- starting ---- */

/* Claim a record for fd and mask its existing epoll registrations (lock
 * held). Returns the record, RUNNING and counted, or NULL. */
static struct async_rec *start_record(int fd, const struct endpoint *asked)
{
	struct async_rec *rec;
	struct stat st;
	int n;

	if (fd < 0 || (unsigned)fd >= FDTAB_MAX_FD || fstat(fd, &st) < 0 ||
	    !async_map_ensure() || !helper_ensure())
		return NULL;
	rec = rec_alloc();
	if (!rec)
		return NULL;
	rec->asked = *asked;
	rec->alias[0] = fd;
	rec->nalias = 1;
	rec->state = REC_RUNNING;
	async_running++;
	atomic_fetch_add_explicit(&async_live, 1, memory_order_acq_rel);
	async_map_set(fd, rec_index(rec) + 1);
	n = async_epoll_mask_existing((unsigned long)st.st_ino, rec->regs,
				      ASYNC_REGS);
	if (n < 0) {
		rec_stop(rec);
		rec_free(rec);
		return NULL;
	}
	rec->nregs = n;
	return rec;
}

/* Undo start_record() after the connect to the proxy failed at once. */
static void start_abort(struct async_rec *rec)
{
	rec_stop(rec);
	rec_free(rec);
	async_epoll_restore(rec->regs, rec->nregs);
	rec->nregs = 0;
}

int async_connect_start(int fd, const struct config *cfg,
			const struct sockaddr *proxy, socklen_t len,
			const struct endpoint *asked,
			const struct endpoint *target)
{
	struct async_rec *rec;
	int err;

	real_init();
	pthread_mutex_lock(&async_lock);
	rec = start_record(fd, asked);
	if (!rec) {
		pthread_mutex_unlock(&async_lock);
		return 0;
	}
	rec->priv = real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (rec->priv < 0 || (real.connect(fd, proxy, len) < 0 &&
			      errno != EINPROGRESS && errno != EINTR)) {
		err = rec->priv < 0 ? 0 : errno;
		start_abort(rec);
		pthread_mutex_unlock(&async_lock);
		return -err;
	}
	tunnel_run_init(&rec->run, cfg, target, HANDSHAKE_CONNECT,
			netio_now_ms());
	rec_watch(rec, POLLOUT, EPOLL_CTL_ADD);
	pthread_mutex_unlock(&async_lock);
	helper_wake();
	return 1;
}

int async_connect_again(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);
	int rc = 0;

	if (!rec)
		return 0;
	if (rec->state == REC_RUNNING)
		rc = -EALREADY;
	else
		rec_free(rec);
	pthread_mutex_unlock(&async_lock);
	return rc;
}

/* ---- what the program sees ---- */

/* Wait (lock released meanwhile) until rec's handshake ends or its
 * deadline passes; the helper ends it by then. Lock held on return. */
static void rec_wait(struct async_rec *rec)
{
	struct pollfd pfd = {.events = POLLIN};

	if (rec->efd < 0)
		rec->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rec->efd < 0) {
		rec_finish(rec, -EMFILE);
		return;
	}
	pfd.fd = rec->efd;
	rec->pollers++;
	pthread_mutex_unlock(&async_lock);
	real.poll(&pfd, 1,
		  netio_remaining_ms(tunnel_run_deadline(&rec->run)) + 10);
	pthread_mutex_lock(&async_lock);
	rec->pollers--;
}

/* True when fd's open file is non-blocking. */
static bool fd_nonblocking(int fd)
{
	int flags = real.fcntl(fd, F_GETFL);

	return flags < 0 || (flags & O_NONBLOCK);
}

int async_io_gate(int fd, bool dontwait)
{
	struct async_rec *rec = async_lock_rec(fd);
	int rc = 0;

	if (!rec)
		return 0;
	/* Bounded: each blocking wait ends by the handshake's deadline, when
	 * the helper fails the record at the latest. */
	for (;;) {
		rec_advance(rec);
		if (rec->state == REC_FAILED) {
			rc = -rec->error;
			rec_free(rec);
			break;
		}
		if (rec->state != REC_RUNNING || rec_alias_index(rec, fd) < 0)
			break;
		if (dontwait || fd_nonblocking(fd)) {
			rc = -EAGAIN;
			break;
		}
		rec_wait(rec);
	}
	rec_close_efd_if_unused(rec);
	pthread_mutex_unlock(&async_lock);
	return rc;
}

int async_so_error(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);
	int err = 0;

	if (!rec)
		return HOOK_PASS;
	rec_advance(rec);
	if (rec->state == REC_FAILED) {
		err = rec->error;
		rec_free(rec);
	}
	pthread_mutex_unlock(&async_lock);
	return err;
}

bool async_not_connected(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);

	if (!rec)
		return false;
	pthread_mutex_unlock(&async_lock);
	return true;
}

int async_poll_substitute(int fd, int *token)
{
	struct async_rec *rec = async_lock_rec(fd);
	int efd = -1;

	if (!rec)
		return -1;
	if (rec->state == REC_RUNNING && rec->efd < 0)
		rec->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rec->state == REC_RUNNING && rec->efd >= 0) {
		rec->pollers++;
		*token = (int)rec_index(rec);
		efd = rec->efd;
	}
	pthread_mutex_unlock(&async_lock);
	return efd;
}

void async_poll_release(int token)
{
	struct async_rec *rec = &async_recs[(unsigned)token % ASYNC_RECORDS];

	pthread_mutex_lock(&async_lock);
	rec->pollers--;
	rec_close_efd_if_unused(rec);
	pthread_mutex_unlock(&async_lock);
}

/* ---- epoll_ctl while a handshake runs ---- */

static struct async_reg *rec_reg(struct async_rec *rec, int epfd, int tfd)
{
	for (int i = 0; i < rec->nregs; i++)
		if (rec->regs[i].epfd == epfd && rec->regs[i].tfd == tfd)
			return &rec->regs[i];
	return NULL;
}

/* Remember (or forget, ev NULL) the program's interest for (epfd, tfd). */
static int rec_reg_update(struct async_rec *rec, int epfd, int tfd,
			  const struct epoll_event *ev)
{
	struct async_reg *reg = rec_reg(rec, epfd, tfd);

	if (!ev) {
		if (reg)
			*reg = rec->regs[--rec->nregs];
		return 0;
	}
	if (!reg && rec->nregs == ASYNC_REGS)
		return -ENOSPC;
	if (!reg) {
		reg = &rec->regs[rec->nregs++];
		reg->epfd = epfd;
		reg->tfd = tfd;
	}
	reg->ev = *ev;
	return 0;
}

/* The masked call, then the record (lock held). Returns 0 or -errno. */
static int rec_epoll_ctl(struct async_rec *rec, int epfd, int op, int fd,
			 struct epoll_event *ev)
{
	struct epoll_event masked;

	if (op == EPOLL_CTL_DEL || !ev) {
		if (real.epoll_ctl(epfd, op, fd, ev) < 0)
			return -errno;
		rec_reg_update(rec, epfd, fd, NULL);
		return 0;
	}
	if (!rec_reg(rec, epfd, fd) && rec->nregs == ASYNC_REGS)
		return -ENOSPC;
	masked = *ev;
	masked.events &= ~(uint32_t)ASYNC_EPOLL_READINESS;
	if (real.epoll_ctl(epfd, op, fd, &masked) < 0)
		return -errno;
	return rec_reg_update(rec, epfd, fd, ev);
}

int async_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct async_rec *rec = async_lock_rec(fd);
	int rc = HOOK_PASS;

	if (!rec)
		return HOOK_PASS;
	if (rec->state == REC_RUNNING)
		rc = rec_epoll_ctl(rec, epfd, op, fd, ev);
	pthread_mutex_unlock(&async_lock);
	return rc;
}

/* ---- descriptor bookkeeping ---- */

/* fd stops being one of rec's descriptors (lock held). With no descriptor
 * left, a running handshake is abandoned: our duplicate closes, so the
 * program's close really ends the connection. */
static void rec_drop_alias(struct async_rec *rec, int fd)
{
	int i = rec_alias_index(rec, fd);

	if (i < 0)
		return;
	async_map_set(fd, 0);
	rec->alias[i] = rec->alias[--rec->nalias];
	for (int r = rec->nregs - 1; r >= 0; r--)
		if (rec->regs[r].tfd == fd)
			rec->regs[r] = rec->regs[--rec->nregs];
	if (rec->nalias > 0)
		return;
	if (rec->state == REC_RUNNING) {
		rec_stop(rec);
		rec_signal(rec);
	}
	rec_free(rec);
}

void async_fd_closing(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);

	if (!rec)
		return;
	rec_drop_alias(rec, fd);
	pthread_mutex_unlock(&async_lock);
}

void async_fd_closing_range(unsigned first, unsigned last)
{
	pthread_mutex_lock(&async_lock);
	for (unsigned i = 0; i < ASYNC_RECORDS; i++) {
		struct async_rec *rec = &async_recs[i];

		for (int a = rec->nalias - 1;
		     rec->state != REC_FREE && a >= 0 && a < rec->nalias; a--)
			if ((unsigned)rec->alias[a] >= first &&
			    (unsigned)rec->alias[a] <= last)
				rec_drop_alias(rec, rec->alias[a]);
	}
	pthread_mutex_unlock(&async_lock);
}

void async_fd_copied(int from, int to)
{
	struct async_rec *rec;

	if (from == to)
		return;
	rec = async_lock_rec(from);
	if (!rec)
		return;
	if (rec->nalias < ASYNC_ALIASES && rec_alias_index(rec, to) < 0) {
		rec->alias[rec->nalias++] = to;
		async_map_set(to, rec_index(rec) + 1);
	} else if (rec_alias_index(rec, to) < 0) {
		log_warn("fd %d: too many duplicates of a socket in its "
			 "handshake; fd %d is not tracked",
			 from, to);
	}
	pthread_mutex_unlock(&async_lock);
}

/* ---- fork ---- */

/* Wait (lock held) until no handshake runs. Bounded: the helper ends each
 * handshake by its deadline, and the wait gives up after an hour of
 * one-second rounds in any case. */
static void async_wait_settled_locked(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	for (int rounds = 0; async_running > 0 && rounds < 3600; rounds++) {
		if (pthread_cond_timedwait(&async_ended, &async_lock, &until) ==
		    ETIMEDOUT)
			until.tv_sec += 1;
	}
}

void async_wait_settled(void)
{
	pthread_mutex_lock(&async_lock);
	async_wait_settled_locked();
	pthread_mutex_unlock(&async_lock);
}

/* Wait until no handshake runs (at most until the latest deadline), then
 * keep the lock across fork(). */
static void async_before_fork(void)
{
	pthread_mutex_lock(&async_lock);
	async_wait_settled_locked();
}

static void async_after_fork_parent(void)
{
	pthread_mutex_unlock(&async_lock);
}

/* The child has no helper: its descriptors go, and a handshake still
 * running (its parent's helper drives it) is not ours to report on. */
static void async_after_fork_child(void)
{
	pthread_mutex_init(&async_lock, NULL);
	pthread_cond_init(&async_ended, NULL);
	if (async_helper_ep >= 0)
		real.close(async_helper_ep);
	if (async_helper_wake >= 0)
		real.close(async_helper_wake);
	async_helper_ep = async_helper_wake = -1;
	async_helper_up = false;
	for (unsigned i = 0; i < ASYNC_RECORDS; i++) {
		struct async_rec *rec = &async_recs[i];

		rec->pollers = 0;
		if (rec->state == REC_RUNNING) {
			real.close(rec->priv);
			rec->priv = -1;
			async_running--;
			rec_free(rec);
		}
		rec_close_efd_if_unused(rec);
	}
}

/* ---- the registry's callbacks (common/fdreg.h) ---- */

static bool async_active(void)
{
	return !async_idle();
}

static void async_closing(int fd, uint32_t flags)
{
	(void)flags;
	if (!async_idle())
		async_fd_closing(fd);
}

static void async_closing_range(unsigned lo, unsigned hi)
{
	if (!async_idle())
		async_fd_closing_range(lo, hi);
}

/* to really closes only when the dup succeeds, i.e. from is open. */
static void async_replacing(int from, int to, uint32_t flags)
{
	if (!async_idle() && real.fcntl(from, F_GETFD) >= 0)
		async_closing(to, flags);
}

static void async_copied(int from, int to)
{
	if (!async_idle())
		async_fd_copied(from, to);
}

static const struct fdreg_subsystem async_subsystem = {
    .name = "async",
    .active = async_active,
    .closing = async_closing,
    .closing_range = async_closing_range,
    .replacing = async_replacing,
    .copied = async_copied,
    .fork_prepare = async_before_fork,
    .fork_parent = async_after_fork_parent,
    .fork_child = async_after_fork_child,
};

void async_register(void)
{
	fdreg_register(&async_subsystem);
}
