/* gai_async.c — getaddrinfo_a(), gai_error(), gai_suspend(), gai_cancel().
 *
 * glibc's asynchronous resolver runs getaddrinfo inside libc, where our
 * getaddrinfo hook never sees it, so with remote DNS every request is
 * answered here instead — synchronously, inside getaddrinfo_a: a fake answer
 * needs no network and is instant, so there is nothing to wait for and no
 * resolver thread. Each request's result goes where glibc keeps it
 * (ar_result, and the private __return that gai_error reads), so a program
 * sees requests that simply completed very fast.
 *
 * Return values follow glibc (resolv/getaddrinfo_a.c) and getaddrinfo_a(3):
 * getaddrinfo_a returns 0 once the requests are accepted, in both modes —
 * each request's own outcome is read with gai_error(); an invalid mode is
 * EAI_SYSTEM with errno EINVAL. GAI_NOWAIT notifies once for the whole list
 * (SIGEV_SIGNAL: sigqueue to ourselves; SIGEV_THREAD: a detached thread that
 * calls the function once and exits), also when the list holds no request;
 * a notification that cannot be started is EAI_AGAIN. gai_suspend returns 0
 * when the list names any request (every one is complete), EAI_ALLDONE when
 * it names none; gai_cancel says EAI_ALLDONE (nothing is ever pending).
 *
 * With remote DNS off the four calls are libc's; when libc lacks them (they
 * lived in libanl before glibc 2.34) the result is EAI_SYSTEM/ENOSYS. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "real.h"
#include "resolve.h"
#include "state.h"

/* What a SIGEV_THREAD notification thread needs after getaddrinfo_a has
 * returned: the function and its argument (copied; the sigevent is the
 * caller's). */
struct gai_notice {
	void (*function)(union sigval);
	union sigval value;
};

/* True when our answers replace libc's asynchronous resolver. */
static bool gai_is_ours(void)
{
	return resolve_is_ours(socksify_config());
}

/* The answer when libc's own resolver call, ours to pass to, is missing. */
static int gai_missing(void)
{
	errno = ENOSYS;
	return EAI_SYSTEM;
}

/* Answer one request and store its outcome where gai_error reads it. */
static void gai_answer(struct gaicb *req)
{
	req->ar_result = NULL;
	req->__return = resolve_getaddrinfo(req->ar_name, req->ar_service,
					    req->ar_request, &req->ar_result);
}

static void *gai_notice_thread(void *arg)
{
	struct gai_notice notice = *(struct gai_notice *)arg;

	free(arg);
	notice.function(notice.value);
	return NULL;
}

/* Start the SIGEV_THREAD notification: with the caller's thread attributes
 * when given (detached afterwards if they made it joinable, so that no
 * thread is left to be joined), detached otherwise. Returns 0 or
 * EAI_AGAIN. */
static int gai_notify_thread(const struct sigevent *sev)
{
	pthread_attr_t own, *attr = sev->sigev_notify_attributes;
	struct gai_notice *notice = malloc(sizeof(*notice));
	int detach = PTHREAD_CREATE_DETACHED;
	pthread_t thread;
	int rc;

	if (!notice || !sev->sigev_notify_function) {
		free(notice);
		return notice ? 0 : EAI_AGAIN;
	}
	notice->function = sev->sigev_notify_function;
	notice->value = sev->sigev_value;
	if (!attr) {
		attr = &own;
		pthread_attr_init(attr);
		pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
	}
	pthread_attr_getdetachstate(attr, &detach);
	rc = pthread_create(&thread, attr, gai_notice_thread, notice);
	if (attr == &own)
		pthread_attr_destroy(&own);
	if (rc) {
		free(notice);
		return EAI_AGAIN;
	}
	if (detach == PTHREAD_CREATE_JOINABLE)
		pthread_detach(thread);
	return 0;
}

/* Notify completion of a GAI_NOWAIT list as sev asks. Returns 0 or
 * EAI_AGAIN. */
static int gai_notify(const struct sigevent *sev)
{
	if (!sev)
		return 0;
	switch (sev->sigev_notify) {
	case SIGEV_SIGNAL:
		return sigqueue(getpid(), sev->sigev_signo, sev->sigev_value)
			   ? EAI_AGAIN
			   : 0;
	case SIGEV_THREAD:
		return gai_notify_thread(sev);
	default:
		return 0;
	}
}

SOCKSIFY_EXPORT int getaddrinfo_a(int mode, struct gaicb *list[], int count,
				  struct sigevent *sev)
{
	int saved = errno;
	int i, rc;

	if (!gai_is_ours())
		return real.getaddrinfo_a
			   ? real.getaddrinfo_a(mode, list, count, sev)
			   : gai_missing();
	if (mode != GAI_WAIT && mode != GAI_NOWAIT) {
		errno = EINVAL;
		return EAI_SYSTEM;
	}
	for (i = 0; i < count; i++)
		if (list[i])
			gai_answer(list[i]);
	rc = mode == GAI_NOWAIT ? gai_notify(sev) : 0;
	errno = saved;
	return rc;
}

SOCKSIFY_EXPORT int gai_error(struct gaicb *req)
{
	if (!gai_is_ours())
		return real.gai_error ? real.gai_error(req) : gai_missing();
	return req->__return;
}

SOCKSIFY_EXPORT int gai_suspend(const struct gaicb *const list[], int count,
				const struct timespec *timeout)
{
	int i;

	if (!gai_is_ours())
		return real.gai_suspend ? real.gai_suspend(list, count, timeout)
					: gai_missing();
	for (i = 0; i < count; i++)
		if (list[i])
			return 0; /* complete since getaddrinfo_a returned */
	return EAI_ALLDONE;
}

SOCKSIFY_EXPORT int gai_cancel(struct gaicb *req)
{
	if (!gai_is_ours())
		return real.gai_cancel ? real.gai_cancel(req) : gai_missing();
	return EAI_ALLDONE;
}
