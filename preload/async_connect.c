/* async_connect.c — starting an asynchronous handshake (connect() on a
 * non-blocking proxied socket) and what the program's calls see while it
 * runs: the data-call gate, SO_ERROR, getpeername, the poll substitution
 * and epoll_ctl (see async.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

#include "async_internal.h"
#include "real.h"

/* rec_wait(): extra milliseconds past the deadline, for the helper to end
 * the record. */
#define ASYNC_WAIT_SLACK_MS 10

/* ---- starting ---- */

/* Claim a record for fd with the registrations regs[0..nregs) that were
 * masked before (lock held). Returns the record, RUNNING and counted, or
 * NULL. */
static struct async_rec *start_record(int fd, const struct endpoint *asked,
				      unsigned capacity,
				      const struct async_reg *regs, int nregs)
{
	struct async_rec *rec;

	if (fd < 0 || !async_helper_ensure())
		return NULL;
	rec = rec_claim(fd, asked, capacity);
	if (!rec)
		return NULL;
	/* A signal handler may have closed a set since the scan: its note
	 * came before this record, which must not keep the set's number. */
	rec->nregs = 0;
	for (int i = 0; i < nregs; i++)
		if (!async_epoll_set_gone(regs[i].epfd))
			rec->regs[rec->nregs++] = regs[i];
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

static int connect_start(int fd, const struct config *cfg,
			 const struct route_choice *choice,
			 const struct group_plan *plan,
			 const struct tunnel_path *path, int domain,
			 const struct sockaddr *proxy, socklen_t len,
			 const struct endpoint *asked,
			 const struct endpoint *target, bool race)
{
	struct async_reg regs[ASYNC_REGS];
	struct async_rec *rec;
	int err, nregs;

	real_init();
	/* Before the lock, which every other connect and the helper need:
	 * nothing to do for a socket known to be in no epoll set, the
	 * fdinfo scan otherwise. The socket is not connecting yet, so its
	 * registrations may be masked before the record exists. */
	nregs = async_epoll_mask_socket(fd, regs, ASYNC_REGS);
	if (nregs == -EMFILE || nregs == -ENFILE)
		return nregs; /* no descriptor for the scan: fail, not block */
	if (nregs < 0)
		return 0;
	async_lock_acquire();
	rec = start_record(fd, asked, cfg->async_handshakes, regs, nregs);
	if (!rec) {
		async_lock_release();
		async_epoll_restore(regs, nregs);
		return 0;
	}
	/* No descriptor for the duplicate: fail (EMFILE) rather than run
	 * the handshake inside the program's non-blocking connect(). */
	rec->priv = real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (rec->priv < 0 || (real.connect(fd, proxy, len) < 0 &&
			      errno != EINPROGRESS && errno != EINTR)) {
		err = errno;
		start_abort(rec);
		async_lock_release();
		return -err;
	}
	tunnel_run_init_path(&rec->run, cfg, path, target, HANDSHAKE_CONNECT,
			     netio_now_ms());
	rec->plan = *plan;
	rec->choice = *choice;
	rec->chain = plan->chains[0];
	rec->at = 0;
	rec->plan_next = 1;
	rec->domain = domain;
	rec->race = race && plan->count > 1;
	rec->first_running = true;
	rec->race_rc = -EHOSTUNREACH;
	rec->race_next_ms = netio_now_ms() + cfg->race_delay_ms;
	rec_watch(rec, POLLOUT, EPOLL_CTL_ADD);
	async_helper_wake();
	async_lock_release();
	return ASYNC_STARTED;
}

/* The epoll sets the socket's registrations are masked in cannot close
 * until the record holds them (async_epoll.c). */
int async_connect_start(int fd, const struct config *cfg,
			const struct route_choice *choice,
			const struct group_plan *plan,
			const struct tunnel_path *path, int domain,
			const struct sockaddr *proxy, socklen_t len,
			const struct endpoint *asked,
			const struct endpoint *target, bool race)
{
	int rc;

	/* From a signal handler that interrupted the subsystem: no record
	 * can be made (its lock is the thread's own); the handshake runs in
	 * the call, as when every record is busy. */
	if (async_locks_held != 0)
		return 0;
	async_epoll_hold();
	rc = connect_start(fd, cfg, choice, plan, path, domain, proxy, len,
			   asked, target, race);
	async_epoll_release();
	return rc;
}

int async_connect_again(int fd)
{
	struct async_rec *rec;
	int rc = 0;

	/* From a signal handler inside the subsystem (async.c): a socket
	 * with a record may still be in its handshake. */
	if (async_locks_held != 0)
		return async_has_rec(fd) ? -EALREADY : 0;
	rec = async_lock_rec(fd);
	if (!rec)
		return 0;
	if (rec->state == REC_RUNNING)
		rc = -EALREADY;
	else
		rec_free(rec);
	async_lock_release();
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
	async_lock_release();
	real.poll(&pfd, 1,
		  netio_remaining_ms(rec->race
					 ? async_race_due(rec)
					 : tunnel_run_deadline(&rec->run)) +
		      ASYNC_WAIT_SLACK_MS);
	async_lock_acquire();
	rec->pollers--;
}

/* Advance rec's handshake. When it has failed, put its error (an errno
 * value) in *err, free rec and return true. Lock held. */
static bool rec_reap_failed(struct async_rec *rec, int *err)
{
	rec_advance(rec);
	if (rec->state != REC_FAILED)
		return false;
	*err = rec->error;
	rec_free(rec);
	return true;
}

/* True when fd's open file is non-blocking. */
static bool fd_nonblocking(int fd)
{
	int flags = real.fcntl(fd, F_GETFL);

	return flags < 0 || (flags & O_NONBLOCK);
}

int async_io_gate(int fd, bool dontwait)
{
	struct async_rec *rec;
	int rc = 0;

	/* A signal handler that interrupted the subsystem cannot look: a
	 * socket with a record may still be in its handshake, whose bytes
	 * the program's call must not meet. */
	if (async_locks_held != 0)
		return async_has_rec(fd) ? -EAGAIN : 0;
	rec = async_lock_rec(fd);
	if (!rec)
		return 0;
	/* Bounded: each blocking wait ends by the handshake's deadline, when
	 * the helper fails the record at the latest. */
	for (;;) {
		int err;

		if (rec_reap_failed(rec, &err)) {
			rc = -err;
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
	async_lock_release();
	return rc;
}

int async_so_error(int fd)
{
	struct async_rec *rec = async_lock_rec(fd);
	int err = 0;

	if (!rec)
		return HOOK_PASS;
	rec_reap_failed(rec, &err);
	async_lock_release();
	return err;
}

bool async_not_connected(int fd)
{
	struct async_rec *rec;

	if (async_locks_held != 0)
		return async_has_rec(fd); /* as in async_connect_again */
	rec = async_lock_rec(fd);
	if (!rec)
		return false;
	async_lock_release();
	return true;
}

int async_poll_substitute(int fd, int *token)
{
	struct async_rec *rec;
	int efd = -1;

	/* From a signal handler inside the subsystem (async.c): the
	 * handshake cannot move on before the handler returns (its step
	 * needs the lock the handler's thread holds). */
	if (async_locks_held != 0)
		return async_has_rec(fd) ? ASYNC_POLL_NEVER : -1;
	rec = async_lock_rec(fd);
	if (!rec)
		return -1;
	if (rec->state == REC_RUNNING && rec->efd < 0)
		rec->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rec->state == REC_RUNNING && rec->efd >= 0) {
		rec->pollers++;
		*token = (int)rec_index(rec);
		efd = rec->efd;
	}
	async_lock_release();
	return efd;
}

void async_poll_release(int token)
{
	struct async_rec *rec = async_rec_at((unsigned)token);

	async_lock_acquire();
	rec->pollers--;
	rec_close_efd_if_unused(rec);
	async_lock_release();
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
	async_lock_release();
	return rc;
}
