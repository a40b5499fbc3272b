/* retry_once.c — see retry_once.h. */
#include "retry_once.h"

#include <errno.h>

bool retry_once_short(int rc)
{
	return rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM;
}

bool retry_once_final(struct retry_once *r)
{
	return atomic_load_explicit(&r->final, memory_order_acquire);
}

bool retry_once_run(struct retry_once *r, retry_once_step step, void *arg,
		    bool wait)
{
	bool final;

	if (retry_once_final(r))
		return true;
	if (wait)
		pthread_mutex_lock(&r->lock);
	else if (pthread_mutex_trylock(&r->lock) != 0)
		return false;
	final = atomic_load_explicit(&r->final, memory_order_relaxed);
	if (!final) {
		int rc = step(arg, r->tries);

		if (retry_once_short(rc)) {
			r->tries++;
		} else {
			atomic_store_explicit(&r->final, true,
					      memory_order_release);
			final = true;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return final;
}

void retry_once_after_fork(struct retry_once *r)
{
	if (!retry_once_final(r))
		pthread_mutex_init(&r->lock, NULL);
}
