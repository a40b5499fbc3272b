/* bind_helper.c — the BIND helper thread (see bind.c for how a BIND works):
 * it collects the control connections whose listener listens, polls them,
 * reads their second replies and wakes the listeners; it is started, kicked
 * and stopped from here, and the fork handlers that keep it consistent
 * across fork() are here too. The table it reads is bind.c's, reached
 * through bind_internal.h.
 *
 * Thread safety: every table access, and bind_helper_running and
 * bind_event_fd, are under bind_lock (bind_lock_acquire). The helper polls
 * without the lock, on a snapshot, and finds entries again under it
 * afterwards.
 * Fork: bind_lock is held across fork(), so a child never inherits it held;
 * the child has no helper until a hook restarts it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bind.h"
#include "bind_internal.h"
#include "handshake.h"
#include "hidden.h"
#include "log.h"
#include "real.h"

#define BIND_MAX_WATCH 256  /* control connections one poll watches */
#define BIND_TICK_MS   1000 /* the helper re-reads the table this often */

static bool bind_helper_running;
static int bind_event_fd = -1;

/* Fill fds with the event fd and the control connections that wait for a
 * second reply (lock held). Returns the count (1: nothing waits). */
static nfds_t bind_collect(struct pollfd *fds)
{
	struct bind_listener *e;
	nfds_t n = 1;

	fds[0] = (struct pollfd){.fd = bind_event_fd, .events = POLLIN};
	for (e = bind_list_first(); e && n <= BIND_MAX_WATCH; e = e->next)
		if (e->phase == BIND_LISTENING)
			fds[n++] =
			    (struct pollfd){.fd = e->ctrl, .events = POLLIN};
	return n;
}

/* The address the wake-up connection goes to: the listener's own, with a
 * wildcard replaced by the loopback address. Returns its length or 0. */
static socklen_t bind_wake_target(const struct bind_listener *e,
				  struct sockaddr_storage *ss)
{
	socklen_t len = sizeof *ss;
	struct endpoint ep;

	if (real.getsockname(e->fd, (struct sockaddr *)ss, &len) < 0 ||
	    endpoint_from_sockaddr(&ep, (struct sockaddr *)ss, len) < 0)
		return 0;
	if (bind_is_wildcard(&ep)) {
		uint16_t port = ep.port;

		endpoint_parse_ip(&ep, ep.kind == ENDPOINT_IPV4 ? "127.0.0.1"
								: "::1");
		ep.port = port;
	}
	return endpoint_to_sockaddr(&ep, e->family, ss);
}

/* Make e's listener readable: connect a hidden socket to it and remember
 * that socket's address, by which accept() knows it (lock held, so accept
 * cannot look before it is recorded). Returns 0 or -errno. */
static int bind_wake(struct bind_listener *e)
{
	struct sockaddr_storage ss;
	socklen_t len = bind_wake_target(e, &ss);
	int s;

	if (len == 0)
		return -EBADF;
	s = real.socket(e->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (s < 0)
		return -errno;
	if (real.connect(s, (struct sockaddr *)&ss, len) < 0 &&
	    errno != EINPROGRESS) {
		real.close(s);
		return -errno;
	}
	len = sizeof ss;
	if (real.getsockname(s, (struct sockaddr *)&ss, &len) < 0 ||
	    endpoint_from_sockaddr(&e->wake_addr, (struct sockaddr *)&ss, len) <
		0) {
		real.close(s);
		return -EBADF;
	}
	e->wake = bind_hide(s);
	return 0;
}

/* Advance e's second reply (lock held); on its arrival or failure, wake
 * the listener. */
static void bind_second_reply(struct bind_listener *e)
{
	char text[ENDPOINT_TEXT_MAX];
	short events = POLLIN;
	int rc = handshake_step(&e->hs, &real_io, e->ctrl, &events);

	if (rc == -EAGAIN)
		return;
	e->phase = BIND_ARRIVED;
	e->error = rc < 0 ? -rc : 0;
	e->peer = e->hs.bound;
	if (rc < 0)
		log_error("fd %d: BIND failed: %s", e->fd,
			  e->hs.why ? e->hs.why : "failed");
	else
		log_info("fd %d: %s connected through the proxy", e->fd,
			 endpoint_format(&e->peer, text, sizeof text));
	rc = bind_wake(e);
	if (rc < 0)
		log_error("fd %d: cannot wake the listener: %s", e->fd,
			  strerror(-rc));
}

/* The entry whose control connection is ctrl and waits (lock held). */
static struct bind_listener *bind_by_ctrl(int ctrl)
{
	struct bind_listener *e;

	for (e = bind_list_first(); e; e = e->next)
		if (e->ctrl == ctrl && e->phase == BIND_LISTENING)
			return e;
	return NULL;
}

/* Handle what one poll reported (lock held). */
static void bind_dispatch(const struct pollfd *fds, nfds_t n)
{
	uint64_t count;
	struct bind_listener *e;

	if (fds[0].revents &&
	    real.read(bind_event_fd, &count, sizeof count) < 0)
		count = 0; /* nothing to drain */
	for (nfds_t i = 1; i < n; i++) {
		if (!fds[i].revents)
			continue;
		e = bind_by_ctrl(fds[i].fd);
		if (e)
			bind_second_reply(e);
	}
}

/* Stop (lock held): nothing waits any more. */
static void bind_helper_stop(void)
{
	bind_helper_running = false;
	hidden_close(&bind_event_fd);
}

/* Wait for second replies until none is awaited. Each round takes a
 * snapshot of the table, polls without the lock (bounded by BIND_TICK_MS)
 * and then handles the events with the lock, finding entries again by
 * their control connection, so a BIND dropped meanwhile is skipped. */
static void *bind_helper_main(void *arg)
{
	struct pollfd fds[BIND_MAX_WATCH + 1];
	nfds_t n;

	(void)arg;
	for (;;) {
		bind_lock_acquire();
		n = bind_collect(fds);
		if (n == 1) {
			bind_helper_stop();
			bind_lock_release();
			return NULL;
		}
		bind_lock_release();
		if (real.poll(fds, n, BIND_TICK_MS) <= 0)
			continue;
		bind_lock_acquire();
		bind_dispatch(fds, n);
		bind_lock_release();
	}
}

/* Start the helper (lock held), with every signal blocked so the program's
 * handlers never run on it. Returns 0 or -errno. */
static int bind_helper_start(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int rc, fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	bind_event_fd = bind_hide(fd);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&thread, &attr, bind_helper_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		hidden_close(&bind_event_fd);
		return -rc;
	}
	bind_helper_running = true;
	return 0;
}

/* Tell the helper the table changed, starting it when needed (lock
 * held). */
bool bind_helper_moved(int from, int to)
{
	if (from < 0 || from != bind_event_fd)
		return false;
	bind_event_fd = to;
	return true;
}

void bind_helper_kick(void)
{
	uint64_t one = 1;
	int rc;

	if (bind_helper_running) {
		if (real.write(bind_event_fd, &one, sizeof one) < 0)
			log_debug("cannot wake the BIND helper: %m");
		return;
	}
	rc = bind_helper_start();
	if (rc < 0)
		log_error("cannot start the BIND helper thread: %s",
			  strerror(-rc));
}

void bind_helper_ensure(void)
{
	if (bind_reentered())
		return; /* a later accept starts it */
	bind_lock_acquire();
	if (!bind_helper_running)
		for (struct bind_listener *e = bind_list_first(); e;
		     e = e->next)
			if (e->phase == BIND_LISTENING) {
				bind_helper_kick();
				break;
			}
	bind_lock_release();
}

/* Around fork(): hold the lock so the child never inherits it held. The
 * child has no helper thread: its event fd is closed, and the next accept()
 * (bind_helper_ensure) starts a new helper if a BIND still waits. */
void bind_fork_prepare(void)
{
	bind_lock_acquire();
}

void bind_fork_parent(void)
{
	bind_lock_release();
}

void bind_fork_child(void)
{
	if (bind_helper_running) {
		bind_helper_running = false;
		hidden_close(&bind_event_fd);
	}
	bind_lock_release();
}
