/* retry_once.h — a first-use step (attaching a shared table) that runs
 * once, except that a failure for want of a descriptor or memory is not
 * final: a later call runs the step again. Every other outcome, success
 * or a real failure, is final and the step never runs again.
 *
 * Readers of what the step set test retry_once_final() (acquire) and read
 * it without a lock once it is true. Until then runs are serialised by a
 * mutex: a caller may wait for another thread's run, or (try only) go
 * without when one is under way, so that a hot path never blocks. */
#ifndef SOCKSIFY_RETRY_ONCE_H
#define SOCKSIFY_RETRY_ONCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct retry_once {
	atomic_bool final;    /* release once the outcome is final */
	pthread_mutex_t lock; /* serialises runs until then */
	unsigned tries;	      /* runs short of resources so far (under lock) */
};

#define RETRY_ONCE_INIT                                                        \
	{                                                                      \
		false, PTHREAD_MUTEX_INITIALIZER, 0                            \
	}

/* One run: 0 or -errno. tries: how many earlier runs were short of
 * resources (for logging the first one loudly). */
typedef int (*retry_once_step)(void *arg, unsigned tries);

/* Whether rc (-errno) is a want of a descriptor or memory: EMFILE,
 * ENFILE or ENOMEM. */
bool retry_once_short(int rc);

/* True once the outcome is final (acquire: what the step set is visible). */
bool retry_once_final(struct retry_once *r);

/* Run step(arg) unless the outcome is final. wait: wait for a run another
 * thread has under way (false: return at once when one is). Returns true
 * when the outcome is final (made so now, or before), false when this run
 * or the latest was short of resources, or another run is under way and
 * wait is false. */
bool retry_once_run(struct retry_once *r, retry_once_step step, void *arg,
		    bool wait);

/* In a fork child (its only thread holds nothing): a lock left held by a
 * parent thread's run is made anew while the outcome is not final. */
void retry_once_after_fork(struct retry_once *r);

#endif
