/* async_internal.h — what the files of the asynchronous handshakes share
 * (see async.h for what the program sees):
 *   async_record.c  the table of records, the descriptor map, the lock;
 *   async_drive.c   the helper thread and the steps of a handshake;
 *   async_connect.c starting a handshake (connect) and what the program's
 *                   calls see while it runs (data calls, SO_ERROR, poll,
 *                   epoll_ctl);
 *   async.c         descriptor bookkeeping, the registry's callbacks and
 *                   the fork handlers.
 * Internal to those files; everyone else uses async.h.
 *
 * Thread safety: every record field is read and written with async_lock
 * held (async_lock_acquire); functions marked "lock held" must be called
 * with it held. Lock order: async_lock is taken before bind_lock (a
 * finished handshake tells bind.c), never after it. */
#ifndef SOCKSIFY_ASYNC_INTERNAL_H
#define SOCKSIFY_ASYNC_INTERNAL_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "async.h"
#include "endpoint.h"
#include "race.h"
#include "tunnel.h"

/* The pool holds cfg->async_handshakes records (config key
 * async_handshakes), mapped at the first asynchronous connect. */
#define ASYNC_ALIASES 8	 /* the program's duplicates of one socket */
#define ASYNC_REGS    16 /* epoll registrations of one socket */

enum async_state { REC_FREE, REC_RUNNING, REC_FAILED };

/* An extra socket of a race (async_race.c): plan.chains[at] on fd. */
struct async_lane {
	int fd; /* -1: none (closed) */
	unsigned at;
	bool running;
	struct tunnel_run run;
};

/* The helper's epoll data: gen << 32 | lane << 24 | record index (lane 0
 * is the private duplicate, lane k is lanes[k - 1]). */
#define ASYNC_LANE_SHIFT 24
#define ASYNC_INDEX_MASK ((1u << ASYNC_LANE_SHIFT) - 1)

struct async_rec {
	enum async_state state;
	uint32_t gen;  /* bumped at each reuse: stale helper events are seen */
	uint64_t born; /* the claim's number (async_births_now) */
	/* The socket's identity while the notes' sweep runs (async.c). */
	bool id_known;
	dev_t id_dev;
	ino_t id_ino;
	int priv;    /* our duplicate of the socket, or -1 */
	int efd;     /* eventfd readable once the handshake ended, or -1 */
	int pollers; /* poll waiters using efd */
	int alias[ASYNC_ALIASES]; /* the program's descriptors for it */
	int nalias;
	struct async_reg regs[ASYNC_REGS];
	int nregs;
	int error;	       /* positive errno once failed */
	struct endpoint asked; /* what the program connected to */
	struct tunnel_run run;
	unsigned chain;		/* cfg->chains index the run goes through */
	struct group_plan plan; /* the chains to try; chain is one of them */
	unsigned plan_next;	/* the next chain of plan to try */
	unsigned at;		/* plan.chains[at] is chain's */
	int domain;		/* the socket's family */
	struct route_choice choice; /* the rule's, for the log */
	/* A race group raced in parallel (async_race.c): run on priv is the
	 * first lane, the next members run on lanes of their own. */
	bool race;
	bool first_running;    /* race: run on priv goes on */
	bool moved;	       /* a lane's socket went onto the aliases */
	uint64_t race_next_ms; /* race: when plan.chains[plan_next] starts */
	int race_rc;	       /* race: the latest failure */
	unsigned nlanes;       /* lanes[0..nlanes) were started */
	struct async_lane lanes[RACE_LANES_MAX - 1];
};

/* ---- async_record.c ---- */

/* How many of the subsystem's locks this thread holds, or is taking or
 * letting go (async_lock, sets_lock): a signal handler that interrupted
 * the thread there must not take them again (async.c notes its close and
 * dup calls instead). */
extern _Thread_local volatile sig_atomic_t async_locks_held
    __attribute__((tls_model("initial-exec")));
/* async_locks_held as fork's prepare handler found it (async.c), for the
 * child (async_record_after_fork_child). */
extern _Thread_local sig_atomic_t async_fork_saved_locks
    __attribute__((tls_model("initial-exec")));
void async_lock_acquire(void);
void async_lock_release(void);
/* Wait (async_lock held, given up meanwhile) for async_lock_wake_all(), a
 * record's end, or the CLOCK_REALTIME time until; waiters check what they
 * wait for again. Returns ETIMEDOUT once until has passed, else 0. */
int async_lock_wait(const struct timespec *until);
void async_lock_wake_all(void);
/* How many records have been handed out so far: the pool's records
 * [0, count) are the only ones in use or used before (lock held). */
unsigned async_rec_count(void);
/* Record i of the pool (i < async_rec_count(); lock held to use it). */
struct async_rec *async_rec_at(unsigned i);
/* Lock and return fd's record when it still belongs to it, else NULL (and
 * the lock is not held). NULL, without waiting, from a signal handler
 * that interrupted the subsystem (async_locks_held != 0). */
struct async_rec *async_lock_rec(int fd);
/* fd's record when it still belongs to it, else NULL (lock held). */
struct async_rec *async_rec_locked(int fd);
/* True when the lock-free map names a record for fd (a hint: check under
 * the lock). */
bool async_has_rec(int fd);
/* How many records have been claimed so far (any thread, no lock): a
 * record whose born is greater was claimed after this call. */
uint64_t async_births_now(void);

/* ---- calls made by a signal handler inside the subsystem ----
 *
 * close(), dup(), dup2() and close_range() are async-signal-safe, so a
 * handler may make them while the thread it interrupted holds async_lock,
 * sets_lock or bind_lock (which the handshake thread takes under
 * async_lock), or is taking or letting one go (async_locks_held != 0).
 * The handler must not wait for async_lock or sets_lock: its thread, or a
 * thread waiting for its thread, holds them. Its call is made at once, and
 * what it means for the records is noted (async_note) and applied, in
 * order, by the same thread as soon as it has async_lock
 * (async_lock_acquire), before it waits on it and lets it go
 * (async_lock_wait, async_lock_release), or when its last count goes
 * (async_held_leave). A note applies only to records claimed before it
 * was made: a socket another thread made meanwhile on the closed number
 * keeps its handshake.
 *
 * Not covered: while the thread waits for the lock, other threads may act
 * on the closed number (the end of a handshake marks it, a race's winner
 * is put on it, masked registrations are restored in a closed set); the
 * step the handler interrupted goes on with the numbers it had; a number
 * the handler closed that another thread then gets from dup() of a socket
 * in its handshake loses that alias when the note applies. Past
 * ASYNC_NOTES_MAX notes in one stretch (a thread that waits long for the
 * lock), the records are made to match the descriptor table instead (the
 * ops' sweep: closed numbers, copies, closed sets). */
enum async_note_op {
	NOTE_CLOSE = 1, /* the aliases [a, b] closed */
	NOTE_SETS,	/* the registrations in the epoll sets [a, b] went */
	NOTE_COPY,	/* b became a copy of a */
};

struct async_note {
	int a, b;
	uint64_t op : 2;	/* enum async_note_op */
	uint64_t born_max : 62; /* async_births_now() when noted */
};

#define ASYNC_NOTES_MAX 32

/* What the notes do (async.c; lock held): one note, and the sweep after
 * notes were lost. */
struct async_note_ops {
	void (*apply)(const struct async_note *note);
	void (*sweep)(void);
};
/* At load: the effects, and how many notes are kept (fewer than
 * ASYNC_NOTES_MAX only for tests: SOCKSIFY_TEST_ASYNC_NOTES). */
void async_note_ops_set(const struct async_note_ops *ops);
/* Note op on [a, b] (descriptor numbers, cut to INT_MAX; a range with
 * a > b is none), from a signal handler (async_locks_held != 0): no lock,
 * no allocation. */
void async_note(enum async_note_op op, unsigned a, unsigned b);
/* How many notes this thread has (past ASYNC_NOTES_MAX: some lost). */
extern _Thread_local _Atomic unsigned async_deferred_n
    __attribute__((tls_model("initial-exec")));
/* Apply them, in order (lock held); errno is kept. */
void async_deferred_apply(void);
/* True when this thread has notes to apply (one relaxed load). */
bool async_notes_pending(void);
/* Apply them now, taking and letting go async_lock (none of the locks
 * held); nothing when there are none. */
void async_notes_flush(void);
/* Every open descriptor below FDTAB_MAX_FD but the directory's own, as
 * /proc/self/fd lists them, to fn (no stdio, no allocation). Returns 0,
 * or -1 when the directory cannot be opened (async_epoll.c). */
int async_fds_each(void (*fn)(int fd));
/* fd's index among rec's aliases, or -1. */
int rec_alias_index(const struct async_rec *rec, int fd);
unsigned rec_index(const struct async_rec *rec);
/* A free record for the program's socket fd, RUNNING and counted, with
 * fd its one alias (lock held). The first claim maps the pool with
 * capacity records (1..CONFIG_ASYNC_HANDSHAKES_MAX; anything else means
 * the default); later ones keep it. NULL when fd is out of range, no
 * memory can be mapped, or every record is busy: that is logged once per
 * process (the connect then runs its handshake synchronously). */
struct async_rec *rec_claim(int fd, const struct endpoint *asked,
			    unsigned capacity);
/* Forget rec: its descriptors leave the map; the slot becomes free (lock
 * held). */
void rec_free(struct async_rec *rec);
/* Close rec's eventfd once nothing uses it (lock held). */
void rec_close_efd_if_unused(struct async_rec *rec);
/* Add to as an alias of rec (lock held). Returns false when rec has too
 * many already (to stays untracked). */
bool rec_add_alias(struct async_rec *rec, int to);
/* fd stops being an alias of rec, with its epoll registrations (lock
 * held). Returns how many aliases are left, or -1 when fd was none. */
int rec_remove_alias(struct async_rec *rec, int fd);
/* A running record stops running (lock held): waiters are told. Returns
 * how many records still run. */
unsigned rec_settled(void);
/* Wait (lock held, released meanwhile) until no record runs, bounded. */
void async_wait_settled_locked(void);
/* Fork child: a fresh lock, no poll waiters; running records (driven by
 * the parent's helper) are dropped after close_private(rec). */
void async_record_after_fork_child(void (*close_private)(struct async_rec *));

/* ---- async_drive.c ---- */

/* The socket_io the helper drives handshakes with: never blocks, never
 * raises SIGPIPE. */
extern const struct socket_io async_sock_io;

/* Leave REC_RUNNING: the helper lets go of the private duplicate (and of
 * a race's extra sockets). */
void rec_stop(struct async_rec *rec);
/* Close the private duplicate, out of the helper's set (lock held). */
void rec_close_private(struct async_rec *rec);
/* Wake poll waiters (the eventfd stays readable). */
void rec_signal(struct async_rec *rec);
/* The handshake ended with rc (0 or -errno). */
void rec_finish(struct async_rec *rec, int rc);
/* Ask the helper to wait for events on rec's duplicate (one-shot). */
void rec_watch(struct async_rec *rec, short events, int op);
/* The same for fd, rec's lane (see ASYNC_LANE_SHIFT). Returns 0 or
 * -errno. */
int rec_watch_fd(struct async_rec *rec, int fd, unsigned lane, short events,
		 int op);
/* Drive rec's handshake as far as it goes now (lock held). */
void rec_advance(struct async_rec *rec);
/* The subsystem's registry id, owner of the helper's hidden descriptors. */
extern unsigned async_owner_id;
/* The helper, started when none runs (lock held); it ends by itself once
 * idle (async_drive.c). */
bool async_helper_ensure(void);
/* Tell the helper a record was added (lock held: the helper cannot have
 * ended and its eventfd's number gone to another file). */
void async_helper_wake(void);
/* One of the helper's hidden descriptors moved from from to to (the
 * program's dup2 onto from; lock held). False when from is not one. */
bool async_helper_moved(int from, int to);
/* Fork child: the helper is gone; its descriptors close. */
void async_helper_after_fork_child(void);
/* Close rec's private duplicate without the helper (fork child). */
void async_helper_drop_private(struct async_rec *rec);

/* ---- async_race.c ---- */

/* Drive rec's race (rec->race): step every lane, start the next member
 * when due, end the record with the winner or the last failure (lock
 * held). */
void async_race_advance(struct async_rec *rec);
/* The next time rec's race needs a step without an event: a deadline, the
 * next member's start, or 0 (now) when nothing is under way (lock
 * held). */
uint64_t async_race_due(const struct async_rec *rec);
/* Close rec's extra lanes (helper: also out of its epoll set when ep >= 0;
 * lock held). */
void async_race_close(struct async_rec *rec, int ep);

#endif
