/* supervisor.c — carry a statically linked program's TCP connects through
 * the proxy with a seccomp supervisor.
 *
 * The process that will become the program (same PID, so the caller's
 * wait() sees its exit status unchanged) loads the config, looks up the
 * proxies, and starts the supervisor with clone(CLONE_VM | CLONE_FILES),
 * twice: the grandchild is the supervisor, and the child between them
 * exits at once, so the supervisor is nobody's child the program could
 * wait() for. Nothing is copied: the supervisor shares the process's memory
 * and descriptor table, and waits on a word (futex) that the process names
 * with set_tid_address(). The process then sets no_new_privs, installs the
 * filter of common/supervise.c with a listener (in the shared table) and
 * execs the program. The exec releases the old memory to the supervisor
 * alone (the kernel zeroes the word and wakes it; an exit does the same),
 * and only then does the supervisor run any libc code: it keeps the
 * listener, the config, the process's environment, and goes to work. Filter
 * and listener stay with every descendant of the program; the supervisor
 * exits when the listener hangs up, i.e. when no process uses the filter
 * any more.
 *
 * For each notified connect() on an AF_INET/AF_INET6 stream socket the
 * supervisor reads the address from the program's memory, routes it as the
 * library does (common/route.c), and then: direct, it lets the kernel run
 * the call (SECCOMP_USER_NOTIF_FLAG_CONTINUE); refused, it answers EACCES;
 * proxied, it takes a copy of the socket (pidfd_getfd), runs the proxy
 * chain on the copy (tunnel_open, the library's machine) and answers 0 or
 * the chain's errno. The program's socket is then connected to the proxy,
 * with the handshake done, and its data path is the kernel's. Each
 * notification is handled by the handler thread that received it (at most
 * SUPERVISOR_THREADS at once), so a slow handshake does not hold up the
 * others. A non-blocking
 * socket gets the same treatment: the call returns once the handshake is
 * done (0), never EINPROGRESS.
 *
 * UDP: sendto() with a destination, sendmsg() and sendmmsg() and connect()
 * on a datagram socket are let through when the destination is direct and
 * refused with EACCES otherwise (sendmmsg: when every message's is direct);
 * UDP is not carried through the proxy. A stream socket's sendto/sendmsg
 * with MSG_FASTOPEN (a connect in disguise) to a destination that is not
 * direct fails with EOPNOTSUPP. Anything else (other families, types, a
 * descriptor that is no socket) goes to the kernel as it is.
 *
 * DNS: under remote DNS, a connect() (UDP or TCP) or UDP sendto() to a
 * nameserver of /etc/resolv.conf goes to the supervisor's own responder
 * (supervisor_dns.c) instead. The sockets the supervisor connected
 * elsewhere (the proxy, the responder) are remembered by inode
 * (supervisor_sockets.c), and getpeername() and recvfrom() on them are
 * answered here, so the program sees the peer it asked for. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fakedns.h"
#include "group.h"
#include "health.h"
#include "guardpage.h"
#include "libc_io.h"
#include "log.h"
#include "preload_env.h"
#include "proxyaddr.h"
#include "route.h"
#include "supervise.h"
#include "supervisor.h"
#include "supervisor_dns.h"
#include "supervisor_race.h"
#include "supervisor_sockets.h"
#include "tunnel.h"

/* Linux 5.19: once the supervisor has received a notification, the caller
 * waits for the answer killably only (a signal does not interrupt it). */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* pidfd_open() of any thread of a process (Linux 6.9; O_EXCL's value). */
#define SUPERVISOR_PIDFD_THREAD O_EXCL

/* Linux 6.6: the notifying thread and the supervisor wake each other on
 * the waker's CPU, a direct hand-off instead of a scheduling delay. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

#define SUPERVISOR_THREADS  64
#define SUPERVISOR_PRESTART 4	 /* handler threads started at once */
#define SUPERVISOR_MMSG_MAX 1024 /* UIO_MAXIOV: sendmmsg's own limit */
#define SUPERVISOR_SHM_DIR  "/dev/shm"

#if defined(__x86_64__)
#define SUPERVISOR_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SUPERVISOR_ARCH AUDIT_ARCH_AARCH64
#else
#error "the supervisor knows x86-64 and aarch64 only"
#endif

/* What every handler thread reads; written before the first thread. */
struct supervisor {
	int listener;
	int program; /* a pidfd of the program (the exec'd process), or -1 */
	struct config cfg;
	/* The first proxy of each chain (proxy[0]: the default chain). */
	struct proxy_addresses proxy[CONFIG_MAX_CHAINS];
	struct health *health; /* the run's, shared with the library */
	struct fakedns *table; /* NULL without remote DNS */
};

static struct supervisor sv;

/* The first proxy's addresses of each chain whose first proxy is a host
 * name (proxyaddr_to_text), for SOCKSIFY_PROXY_RESOLVED: the program's
 * library takes them from there instead of asking libc, whose DNS query the
 * filter would judge as the program's own (and refuse under remote DNS). */
#define SUPERVISOR_RESOLVED_MAX                                                \
	(CONFIG_MAX_CHAINS * (ENDPOINT_NAME_MAX + 2 * INET6_ADDRSTRLEN + 8))

/* The supervisor's stack (its main thread's for the whole run) and the
 * short-lived middle process's. */
#define SUPERVISOR_STACK	(1024 * 1024)
#define SUPERVISOR_MIDDLE_STACK (64 * 1024)

/* What the helper leaves the supervisor, which shares its memory: written
 * by the helper, read by the supervisor after the hand-over only (the
 * word aside). */
static struct {
	uint32_t word;	 /* non-zero until the helper's exec or exit */
	int gave_up;	 /* the program will not run: leave */
	pid_t pid;	 /* the supervisor's (CLONE_PARENT_SETTID) */
	int listener;	 /* in the descriptor table shared until the exec */
	int program;	 /* pidfd of the helper, which becomes the program */
	sigset_t mask;	 /* the helper's signal mask */
	char *stack_top; /* the supervisor's stack */
	char *middle_top;
} handover;

/* The ready message's text: an entry per chain whose first proxy is a
 * host name, separated by ';'. */
static void supervisor_ready_text(char *buf, size_t cap)
{
	const struct proxy *hops;
	size_t used = 0;
	unsigned count;
	int n;

	buf[0] = '\0';
	for (unsigned i = 0;
	     sv.cfg.valid && i < sv.cfg.chain_count && i < CONFIG_MAX_CHAINS;
	     i++) {
		hops = config_chain_hops(&sv.cfg, i, &count);
		if (count == 0 || used + 1 >= cap)
			continue;
		n = proxyaddr_to_text(&sv.proxy[i], &hops[0].addr,
				      buf + used + (used > 0),
				      cap - used - (used > 0));
		if (n < 0) {
			buf[used] = '\0'; /* no half-written entry */
			continue;
		}
		if (used > 0)
			buf[used] = ';';
		used += (size_t)n + (used > 0);
	}
}

/* ---- the program's side ---- */

int supervisor_available(char *why, size_t cap)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	int pidfd, copy;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
		snprintf(why, cap, "seccomp user notification: %s",
			 strerror(errno));
		return -1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		snprintf(why, cap, "pidfd_open: %s", strerror(errno));
		return -1;
	}
	copy = (int)syscall(SYS_pidfd_getfd, pidfd, pidfd, 0);
	if (copy < 0) {
		snprintf(why, cap, "pidfd_getfd: %s", strerror(errno));
		close(pidfd);
		return -1;
	}
	close(copy);
	close(pidfd);
	return 0;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

int supervisor_guard_page_free(char *why, size_t cap)
{
	void *want = (void *)(uintptr_t)GUARD_PAGE_ADDR;
	void *page =
	    mmap(want, GUARD_PAGE_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (page == MAP_FAILED) {
		snprintf(why, cap, "the trampoline page at %#llx: %s",
			 (unsigned long long)GUARD_PAGE_ADDR, strerror(errno));
		return -1;
	}
	munmap(page, GUARD_PAGE_SIZE);
	if (page != want) {
		snprintf(why, cap,
			 "the trampoline page at %#llx: MAP_FIXED_NOREPLACE "
			 "unknown to this kernel",
			 (unsigned long long)GUARD_PAGE_ADDR);
		return -1;
	}
	return 0;
}

/* ---- the supervisor's set-up ---- */

static const char *supervisor_env(const char *name)
{
	const char *value = getenv(name);

	return value && *value ? value : NULL;
}

/* Each chain's first proxy's addresses, names resolved here (the
 * supervisor is outside the filter and has no preload). */
static void supervisor_resolve_proxy(void)
{
	const struct proxy_resolver resolver = {getaddrinfo, freeaddrinfo};
	const struct proxy *hops;
	unsigned i, count;

	for (i = 0; i < sv.cfg.chain_count && i < CONFIG_MAX_CHAINS; i++) {
		hops = config_chain_hops(&sv.cfg, i, &count);
		if (count > 0)
			proxyaddr_find(&sv.proxy[i], &hops[0].addr, &resolver);
	}
}

/* Join the session's health table (preload/state.c makes the same file),
 * so group members marked down anywhere in the run are skipped here too. */
static void supervisor_attach_health(const char *session)
{
	char path[256];

	if (sv.cfg.group_count == 0)
		return;
	if (session) {
		snprintf(path, sizeof path, "%s/socksify-%u-%s-health",
			 SUPERVISOR_SHM_DIR, (unsigned)getuid(), session);
		if (health_attach(&libc_sys_io, path, &sv.health) == 0)
			return;
	}
	if (health_attach(&libc_sys_io, NULL, &sv.health) < 0)
		sv.health = NULL;
}

/* Join the session's fake-DNS map, the file the library attaches to
 * (preload/state.c), so fake addresses handed out in any process of the
 * run lead back to their names. */
static void supervisor_attach_names(void)
{
	const char *session = supervisor_env("SOCKSIFY_SESSION");
	char path[256];
	int rc;

	if (session && (strchr(session, '/') || strlen(session) > 64))
		session = NULL;
	if (sv.cfg.valid)
		supervisor_attach_health(session);
	if (!sv.cfg.valid || !sv.cfg.remote_dns || !session)
		return;
	snprintf(path, sizeof path, "%s/socksify-%u-%s", SUPERVISOR_SHM_DIR,
		 (unsigned)getuid(), session);
	rc = fakedns_attach(&libc_sys_io, &sv.table, path, sv.cfg.fake_entries);
	if (rc < 0) {
		log_error("fake DNS table %s unusable (%s); fake addresses "
			  "cannot be carried",
			  path, strerror(-rc));
		sv.table = NULL;
	}
}

/* SOCKSIFY_LOG_FILE as an absolute path: the log opens it for each line,
 * and the supervisor leaves for / after loading. NULL when unset. */
static const char *supervisor_log_file(char *buf, size_t cap)
{
	const char *path = supervisor_env("SOCKSIFY_LOG_FILE");
	size_t len;

	if (!path || path[0] == '/' || !getcwd(buf, cap))
		return path;
	len = strlen(buf);
	if ((size_t)snprintf(buf + len, cap - len, "/%s", path) >= cap - len)
		return path; /* too long to hold: the log falls back on fd 2 */
	return buf;
}

/* After the hand-over: set up the log (named relative to the caller's
 * directory: before supervisor_leave_cwd()) with the config the helper
 * loaded. */
static void supervisor_log_start(void)
{
	char log_file[4096];

	log_set_io(&libc_sys_io);
	log_setup(sv.cfg.log_level,
		  supervisor_log_file(log_file, sizeof log_file));
	if (!sv.cfg.valid)
		log_error("config error: %s; every connection will be refused",
			  sv.cfg.error);
}

/* ---- the program's side: start the supervisor, install the filter, exec
 * ---- */

static void supervisor_serve(void);

/* Install the filter; returns the listener or -errno. A signal must not
 * interrupt a connect the supervisor is carrying: the program's handler
 * would run, libc would re-issue the connect (or the program would) while
 * a handler thread is still mid-handshake on the same socket (EISCONN, a
 * corrupted handshake). So the wait is killable only, where the kernel
 * knows how (5.19); an older one refuses the flag (EINVAL) and the filter
 * goes in without it (README, Limits). The filter is the guard's (calls
 * from the trampoline page allowed) for static programs too: a dynamic
 * program one runs maps the page, and its library then pays no round
 * trip. */
static int supervisor_install(void)
{
	struct sock_filter insns[SUPERVISE_GUARD_FILTER_MAX];
	struct sock_fprog prog;
	long n = supervise_guard_build(insns, SUPERVISE_GUARD_FILTER_MAX,
				       SUPERVISOR_ARCH, GUARD_PAGE_ADDR);
	int fd;

	if (n < 0)
		return (int)n;
	prog.len = (unsigned short)n;
	prog.filter = insns;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER |
			      SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
			  &prog);
	if (fd < 0 && errno == EINVAL)
		fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	return fd < 0 ? -errno : fd;
}

/* One system call with no libc in between: before the hand-over the
 * supervisor shares the process's memory, thread pointer and so errno
 * with the helper, and must not write them. Returns the result or -errno. */
static long supervisor_raw_call(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
	long ret;
	register long r10 __asm__("r10") = 0;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = 0;

	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3)
			 : "memory");
	return x0;
#endif
}

/* The supervisor's first code, on its own stack: wait for the hand-over.
 * The helper named handover.word with set_tid_address(), so the kernel
 * zeroes the word and wakes us when the helper's exec releases the memory
 * we share (or when the helper exits). Only then is the memory ours alone:
 * the helper's libc state (heap, errno, environment) is left as the exec
 * found it, and this process goes on with it, its config included. Signals
 * are blocked until then (the helper blocked them around the clone). What
 * glibc keeps of the helper's thread stays valid for the one thread that
 * now uses it: its cached TID is the helper's, but raise() and abort() ask
 * the kernel for the caller's, and this process starts its other threads
 * with pthread_create(), each with its own record. */
static int supervisor_start(void *arg)
{
	uint32_t seen;

	(void)arg;
	while ((seen = __atomic_load_n(&handover.word, __ATOMIC_ACQUIRE)) != 0)
		supervisor_raw_call(SYS_futex, (long)&handover.word, FUTEX_WAIT,
				    (long)seen);
	if (__atomic_load_n(&handover.gave_up, __ATOMIC_ACQUIRE))
		supervisor_raw_call(SYS_exit, 0, 0, 0);
	supervisor_serve(); /* no return */
	return 0;
}

/* The process between the helper and the supervisor: it starts the
 * supervisor and exits, so the supervisor is nobody's child the program
 * could wait() for. The kernel writes the supervisor's PID into
 * handover.pid (CLONE_PARENT_SETTID). */
static int supervisor_middle(void *arg)
{
	(void)arg;
	return clone(supervisor_start, handover.stack_top,
		     CLONE_VM | CLONE_FILES | CLONE_PARENT_SETTID | SIGCHLD,
		     NULL, &handover.pid) < 0;
}

/* The supervisor's stack and the middle one's, mapped here (the helper's
 * own stack goes on being used until the exec): a guard page at the bottom,
 * the supervisor's stack, then the middle's. Returns 0 or -errno. */
static int supervisor_stacks(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = page + SUPERVISOR_STACK + SUPERVISOR_MIDDLE_STACK;
	char *base = mmap(
	    NULL, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED)
		return -errno;
	mprotect(base, page, PROT_NONE);
	handover.stack_top = base + page + SUPERVISOR_STACK;
	handover.middle_top = base + size;
	return 0;
}

/* Start the supervisor as a grandchild sharing this process's memory and
 * descriptor table (the listener, installed later, is then the
 * supervisor's too with no passing), with every signal blocked until it
 * has left the terminal's process group. Returns its PID or -errno. */
static pid_t supervisor_spawn(void)
{
	sigset_t all, old;
	pid_t middle;
	int status, rc = supervisor_stacks();

	if (rc < 0)
		return rc;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	handover.mask = old;
	handover.word = 1;
	handover.pid = 0;
	handover.listener = -1; /* none yet: a supervisor woken now leaves */
	/* From here on this process's exit or exec wakes the supervisor
	 * (glibc's own use of the address, for joining threads, does not
	 * apply to a main thread that never returns). */
	syscall(SYS_set_tid_address, &handover.word);
	middle = clone(supervisor_middle, handover.middle_top,
		       CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
	rc = middle < 0 ? -errno : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		return rc;
	while (waitpid(middle, &status, __WALL) < 0 && errno == EINTR)
		;
	return handover.pid > 0 ? handover.pid : -ECHILD;
}

/* The program will not run: the supervisor, woken when this process
 * exits, leaves at once. */
static void supervisor_give_up(void)
{
	__atomic_store_n(&handover.gave_up, 1, __ATOMIC_RELEASE);
}

/* What the supervisor's set-up did before it said it was ready, done here
 * instead, once: the config (the caller's, else loaded as the library
 * would), each chain's first proxy looked up (outside the filter), and
 * their addresses into the program's environment. */
static void supervisor_prepare(const struct config *cfg)
{
	struct config_env env;
	char text[SUPERVISOR_RESOLVED_MAX];

	if (cfg) {
		sv.cfg = *cfg;
	} else {
		config_env_read(&env, supervisor_env);
		config_load(&sv.cfg, &env, &libc_sys_io);
	}
	if (!sv.cfg.valid)
		return;
	supervisor_resolve_proxy();
	supervisor_ready_text(text, sizeof text);
	if (text[0])
		setenv("SOCKSIFY_PROXY_RESOLVED", text, 1);
}

int supervisor_exec(const char *library, char *const argv[],
		    const struct config *cfg)
{
	char pid_text[24];
	int listener, err;
	pid_t pid;

	supervisor_prepare(cfg);
	/* The supervisor watches the program's exit on this pidfd (the
	 * program keeps our PID): it survives the exec in the supervisor's
	 * copy of the table. */
	handover.program = (int)syscall(SYS_pidfd_open, getpid(), 0);
	pid = supervisor_spawn();
	if (pid < 0) {
		fprintf(stderr, "socksify: cannot start the supervisor: %s\n",
			strerror((int)-pid));
		return 126;
	}
	/* Yama (ptrace_scope 1) lets only an ancestor read our memory and
	 * take our descriptors, unless we name the supervisor. */
	prctl(PR_SET_PTRACER, (unsigned long)pid, 0, 0, 0);
	/* ... and so does each process of the tree (preload/real.c). */
	snprintf(pid_text, sizeof pid_text, "%ld", (long)pid);
	setenv("SOCKSIFY_SUPERVISOR_PID", pid_text, 1);
	listener = supervisor_install();
	if (listener < 0) {
		supervisor_give_up();
		fprintf(stderr,
			"socksify: %s: the seccomp filter cannot be installed "
			"(%s); refusing\n",
			argv[0], strerror(-listener));
		return 126;
	}
	/* Close-on-exec: the program's table loses it, the supervisor's
	 * (the one shared until now) keeps it. */
	handover.listener = listener;
	if (library && *library && preload_env_prepend(library) != 0) {
		supervisor_give_up();
		fprintf(stderr, "socksify: %s: out of memory\n", argv[0]);
		return 126;
	}
	execvp(argv[0], argv);
	err = errno;
	supervisor_give_up();
	fprintf(stderr, "socksify: %s: %s\n", argv[0], strerror(err));
	return err == ENOENT ? 127 : 126;
}

/* ---- the supervisor after the hand-over ---- */

/* The program has exited: let the caller's stderr go, so that a caller
 * reading it (out=$(socksify prog 2>&1)) is not held up by what the
 * program left running. The log goes on to SOCKSIFY_LOG_FILE if set. */
static void supervisor_release_stderr(void)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, 2);
		close(null);
	}
	close(sv.program);
	sv.program = -1;
}

/* Move fd out of the way of 0..4 (close-on-exec); -1 stays -1. */
static int supervisor_raise_fd(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

/* Leave the caller's terminal, signals and pipes: a session of our own (no
 * terminal signal reaches us), the signals sent meanwhile to the process
 * group we shared with the helper dropped, and the helper's signal mask
 * back. Of the descriptor table the helper left us, keep stderr (for the
 * log, until the program exits), the listener (as fd 3) and the program's
 * pidfd (fd 4): a pipe the caller reads must not stay open here. Returns
 * false when the listener cannot be kept. */
static bool supervisor_detach(void)
{
	int listener = supervisor_raise_fd(handover.listener);
	int program = supervisor_raise_fd(handover.program);
	sigset_t pending;
	int null;

	setsid();
	sigemptyset(&pending);
	sigpending(&pending);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction ignore = {.sa_handler = SIG_IGN}, was;

		if (sigismember(&pending, sig) == 1 &&
		    sigaction(sig, &ignore, &was) == 0)
			sigaction(sig, &was, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, &handover.mask, NULL);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	sv.listener = listener < 0 ? -1 : dup3(listener, 3, O_CLOEXEC);
	sv.program = program < 0 ? -1 : dup3(program, 4, O_CLOEXEC);
	syscall(SYS_close_range, sv.program < 0 ? 4 : 5, ~0u, 0);
	return sv.listener >= 0;
}

/* Leave the caller's directory (once the config and the log, which may be
 * named relative to it, are loaded). */
static void supervisor_leave_cwd(void)
{
	if (chdir("/") != 0) {
		/* stay where we are */
	}
}

/* ---- one notification ---- */

/* A notified call, as a handler thread sees it. */
struct supervisor_call {
	struct seccomp_notif notif;
	int pidfd; /* the caller's */
};

static long supervisor_mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct supervisor_call *call = ctx;
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr,
			       .iov_len = len};
	ssize_t n =
	    process_vm_readv((pid_t)call->notif.pid, &local, 1, &remote, 1, 0);

	return n < 0 ? -errno : (long)n;
}

/* Whether the notification still stands (the caller is still in the
 * system call): its memory and descriptors were really its own. */
static bool supervisor_valid(const struct supervisor_call *call)
{
	uint64_t id = call->notif.id;

	return ioctl(sv.listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The destination the call names, into ss. Returns its length, 0 when it
 * names none, or -errno. */
static long supervisor_destination(struct supervisor_call *call,
				   struct sockaddr_storage *ss)
{
	struct supervise_mem mem = {.read = supervisor_mem_read, .ctx = call};
	const struct seccomp_data *d = &call->notif.data;

	switch (d->nr) {
	case SYS_connect:
		return supervise_read_sockaddr(&mem, d->args[1], d->args[2],
					       ss);
	case SYS_sendto:
		return supervise_read_sockaddr(&mem, d->args[4], d->args[5],
					       ss);
	case SYS_sendmsg:
		return supervise_read_msg_name(&mem, d->args[1], ss);
	default:
		return 0;
	}
}

/* The flags of a sending call (MSG_FASTOPEN is a connect). */
static bool supervisor_fastopen(struct supervisor_call *call)
{
	const struct seccomp_data *d = &call->notif.data;

	if (d->nr == SYS_sendto)
		return d->args[3] & MSG_FASTOPEN;
	if (d->nr == SYS_sendmsg || d->nr == SYS_sendmmsg)
		return d->args[d->nr == SYS_sendmsg ? 2 : 3] & MSG_FASTOPEN;
	return false;
}

static bool supervisor_is_proxy(const struct endpoint *ep)
{
	unsigned i;

	for (i = 0; i < sv.cfg.chain_count && i < CONFIG_MAX_CHAINS; i++)
		if (proxyaddr_is(&sv.proxy[i], ep))
			return true;
	return false;
}

static bool supervisor_is_fake(const struct endpoint *ep)
{
	return sv.cfg.valid && sv.cfg.remote_dns &&
	       fakedns_in_ranges(&sv.cfg.fake_ipv4, &sv.cfg.fake_ipv6, ep);
}

/* The name behind a fake address, into name. */
static bool supervisor_unfake(const struct endpoint *ep, struct endpoint *name)
{
	return fakedns_unfake(sv.table, &sv.cfg.fake_ipv4, &sv.cfg.fake_ipv6,
			      ep, name);
}

/* The verdict of a call: CONTINUE (let the kernel run it), or an answer
 * (the call's result, >= 0, or -errno). */
#define SUPERVISOR_CONTINUE INT_MIN

static void supervisor_log(struct supervisor_call *call,
			   const struct endpoint *ep, const char *what);

/* ---- sockets connected elsewhere: the table, DNS, getpeername ---- */

#define SUPERVISOR_DATAGRAM_MAX 65536

static long supervisor_mem_write(const struct supervisor_call *call,
				 uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {.iov_base = (void *)buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr,
			       .iov_len = len};
	ssize_t n =
	    process_vm_writev((pid_t)call->notif.pid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EFAULT;
}

static uint64_t supervisor_inode(int sock)
{
	struct stat st;

	if (fstat(sock, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return (uint64_t)st.st_ino;
}

/* Remember that the socket sock (of family) shows peer; responder is the
 * DNS responder it really talks to (NULL: none). */
static void supervisor_remember(int sock, int family,
				const struct endpoint *peer,
				const struct endpoint *responder)
{
	struct supervisor_socket entry = {.family = family, .peer = *peer};

	if (responder)
		entry.responder = *responder;
	supervisor_sockets_put(supervisor_inode(sock), &entry);
}

/* Write the address of ep, as a socket address of family, to the caller's
 * (addr, *len_addr) pair the way the kernel does (truncated; the full
 * length written back). Returns 0 or -errno. */
static long supervisor_put_address(const struct supervisor_call *call,
				   const struct endpoint *ep, int family,
				   uint64_t addr, uint64_t len_addr)
{
	struct supervise_mem mem = {.read = supervisor_mem_read,
				    .ctx = (void *)call};
	struct sockaddr_storage ss;
	socklen_t full = endpoint_to_sockaddr(ep, family, &ss);
	int32_t len;

	if (full == 0)
		return -EAFNOSUPPORT;
	if (mem.read(mem.ctx, len_addr, &len, sizeof len) != (long)sizeof len)
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if ((uint32_t)len > full)
		len = (int32_t)full;
	if (!supervisor_valid(call))
		return -ENOENT;
	if (len > 0 && supervisor_mem_write(call, addr, &ss, (size_t)len) < 0)
		return -EFAULT;
	len = (int32_t)full;
	return supervisor_mem_write(call, len_addr, &len, sizeof len);
}

/* The responder's socket address for a socket of family and type. */
static int supervisor_responder(int family, int type, struct endpoint *ep,
				struct sockaddr_storage *ss)
{
	if (supervisor_dns_responder(family, type, ep) < 0)
		return -EAFNOSUPPORT;
	return (int)endpoint_to_sockaddr(ep, family, ss);
}

/* Wait (bounded) for a connect in progress on sock to end. */
static int supervisor_connect_wait(int sock)
{
	struct pollfd p = {.fd = sock, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 5000) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return -errno;
	return -err;
}

/* connect() to a nameserver: the program's socket is connected to the
 * responder instead, and remembered with the nameserver as its peer. */
static int supervisor_dns_connect(struct supervisor_call *call, int sock,
				  int family, int type,
				  const struct endpoint *server)
{
	struct sockaddr_storage ss;
	struct endpoint responder;
	int len = supervisor_responder(family, type, &responder, &ss);
	int rc = 0;

	if (len <= 0)
		return -EACCES;
	if (connect(sock, (struct sockaddr *)&ss, (socklen_t)len) != 0)
		rc = errno == EINPROGRESS ? supervisor_connect_wait(sock)
					  : -errno;
	if (rc < 0) {
		supervisor_log(call, server,
			       "refused: the DNS responder is "
			       "unreachable");
		return rc;
	}
	supervisor_remember(sock, family, server, &responder);
	supervisor_log(call, server, "DNS: answered by the supervisor");
	return 0;
}

/* sendto() to a nameserver on a datagram socket: the supervisor sends the
 * query to the responder itself, from the program's socket. Returns the
 * bytes sent or -errno. */
static int supervisor_dns_sendto(struct supervisor_call *call, int sock,
				 int family, const struct endpoint *server)
{
	const struct seccomp_data *d = &call->notif.data;
	struct sockaddr_storage ss;
	struct endpoint responder;
	int len = supervisor_responder(family, SOCK_DGRAM, &responder, &ss);
	uint8_t *buf;
	ssize_t n;

	if (len <= 0)
		return -EACCES;
	if (d->args[2] > SUPERVISOR_DATAGRAM_MAX)
		return -EMSGSIZE;
	buf = malloc(d->args[2] + 1);
	if (!buf)
		return -ENOMEM;
	n = supervisor_mem_read(call, d->args[1], buf, (size_t)d->args[2]);
	if (n == (ssize_t)d->args[2] && supervisor_valid(call))
		n = sendto(sock, buf, (size_t)d->args[2],
			   (int)d->args[3] | MSG_NOSIGNAL,
			   (struct sockaddr *)&ss, (socklen_t)len);
	else
		n = -1, errno = EFAULT;
	free(buf);
	if (n < 0)
		return -errno;
	supervisor_remember(sock, family, server, &responder);
	return (int)n;
}

/* A call naming a nameserver (port 53 of /etc/resolv.conf) under remote
 * DNS. */
static int supervisor_dns(struct supervisor_call *call, int sock, int family,
			  int type, const struct endpoint *server)
{
	switch (call->notif.data.nr) {
	case SYS_connect:
		return supervisor_dns_connect(call, sock, family, type, server);
	case SYS_sendto:
		if (type == SOCK_DGRAM)
			return supervisor_dns_sendto(call, sock, family,
						     server);
		break;
	default:
		break;
	}
	supervisor_log(call, server,
		       "DNS refused: only connect() and sendto() to a "
		       "nameserver are carried");
	return -EACCES;
}

/* Remote DNS off: a program's own DNS goes to the nameserver direct, as
 * libc's resolver does under the library, unless a rule blocks it. */
static int supervisor_local_dns(struct supervisor_call *call, int type,
				const struct endpoint *server)
{
	enum rule_proto proto =
	    type == SOCK_STREAM ? RULE_PROTO_TCP : RULE_PROTO_UDP;

	if (route_classify_proto(&sv.cfg, server, false, proto) ==
	    ROUTE_BLOCK) {
		supervisor_log(call, server, "DNS refused by rule");
		return -EACCES;
	}
	supervisor_log(call, server, "DNS direct (remote DNS off)");
	return SUPERVISOR_CONTINUE;
}

/* The milliseconds a receive on sock may wait (SO_RCVTIMEO), -1: forever. */
static long supervisor_recv_timeout(int sock)
{
	struct timeval tv;
	socklen_t len = sizeof tv;

	if (getsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) != 0 ||
	    (tv.tv_sec == 0 && tv.tv_usec == 0))
		return -1;
	return (long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* recvfrom() on the copy sock as the program asked. A blocking one waits in
 * steps, checking the caller is still there: a caller that was killed must
 * not leave a handler thread waiting for ever. Returns what recvfrom()
 * does, errno set on -1 (ENOENT: the caller left). */
static ssize_t supervisor_recv_wait(struct supervisor_call *call, int sock,
				    void *buf, size_t cap, int flags,
				    struct sockaddr_storage *from,
				    socklen_t *from_len)
{
	long left = supervisor_recv_timeout(sock);
	int fl = fcntl(sock, F_GETFL);
	ssize_t n;

	if ((flags & MSG_DONTWAIT) || fl < 0 || (fl & O_NONBLOCK))
		return recvfrom(sock, buf, cap, flags, (struct sockaddr *)from,
				from_len);
	for (;;) {
		struct pollfd p = {.fd = sock, .events = POLLIN};
		int step = left < 0 || left > 250 ? 250 : (int)left;

		if (poll(&p, 1, step) > 0) {
			n = recvfrom(sock, buf, cap, flags | MSG_DONTWAIT,
				     (struct sockaddr *)from, from_len);
			if (n >= 0 || (errno != EAGAIN && errno != EINTR))
				return n;
		}
		if (!supervisor_valid(call)) {
			errno = ENOENT;
			return -1;
		}
		if (left >= 0 && (left -= step) <= 0) {
			errno = EAGAIN;
			return -1;
		}
	}
}

/* recvfrom() on a socket talking to the responder: received here, so that
 * the responder's replies show the nameserver as their source (a resolver
 * may check it). Returns the length or -errno. */
static int supervisor_recvfrom(struct supervisor_call *call, int sock,
			       const struct supervisor_socket *known)
{
	const struct seccomp_data *d = &call->notif.data;
	size_t cap = d->args[2] < SUPERVISOR_DATAGRAM_MAX
			 ? (size_t)d->args[2]
			 : SUPERVISOR_DATAGRAM_MAX;
	struct sockaddr_storage from;
	socklen_t from_len = sizeof from;
	struct endpoint source;
	uint8_t *buf = malloc(cap + 1);
	ssize_t n;
	long rc;

	if (!buf)
		return -ENOMEM;
	n = supervisor_recv_wait(call, sock, buf, cap, (int)d->args[3], &from,
				 &from_len);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	/* The responder's replies come from the nameserver; anything else
	 * (an unconnected socket) from where it came. */
	if (endpoint_from_sockaddr(&source, (struct sockaddr *)&from,
				   from_len) < 0 ||
	    endpoint_equal(&source, &known->responder))
		source = known->peer;
	rc = supervisor_valid(call) ? 0 : -ENOENT;
	if (rc == 0)
		rc = supervisor_mem_write(call, d->args[1], buf,
					  (size_t)n < cap ? (size_t)n : cap);
	free(buf);
	if (rc == 0 && d->args[5] != 0)
		rc = supervisor_put_address(call, &source, known->family,
					    d->args[4], d->args[5]);
	return rc < 0 ? (int)rc : (int)n;
}

/* getpeername() and recvfrom() on a socket of the table; CONTINUE for any
 * other socket. */
static int supervisor_known(struct supervisor_call *call, int sock)
{
	const struct seccomp_data *d = &call->notif.data;
	struct supervisor_socket known;

	if (!supervisor_sockets_get(supervisor_inode(sock), &known))
		return SUPERVISOR_CONTINUE;
	if (d->nr == SYS_getpeername)
		return (int)supervisor_put_address(
		    call, &known.peer, known.family, d->args[1], d->args[2]);
	if (known.responder.kind == ENDPOINT_NONE)
		return SUPERVISOR_CONTINUE;
	return supervisor_recvfrom(call, sock, &known);
}

/* Run chain's path on sock, the supervisor's copy of the program's
 * socket, non-blocking for the handshake with the flags put back after. A
 * failure dissolves the half-made connection (connect to AF_UNSPEC), as
 * the library does. */
static int supervisor_tunnel(int sock, int family, unsigned chain,
			     const struct tunnel_path *path,
			     const struct endpoint *target,
			     struct tunnel_result *res)
{
	static const struct sockaddr unspec = {.sa_family = AF_UNSPEC};
	struct sockaddr_storage proxy;
	int len = proxyaddr_sockaddr(&sv.proxy[chain], family, &proxy);
	int flags, rc;

	if (len < 0) {
		res->why = len == -EAFNOSUPPORT
			       ? "an IPv4 socket cannot reach an IPv6 proxy"
			       : "the proxy's address is unknown";
		return len;
	}
	flags = fcntl(sock, F_GETFL);
	if (flags < 0)
		return -errno;
	if (!(flags & O_NONBLOCK) &&
	    fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	rc = tunnel_open_path(&libc_socket_io, &sv.cfg, path, sock,
			      (const struct sockaddr *)&proxy, (socklen_t)len,
			      target, HANDSHAKE_CONNECT, res);
	if (!(flags & O_NONBLOCK))
		fcntl(sock, F_SETFL, flags);
	if (rc < 0 && rc != -EISCONN && rc != -EALREADY)
		connect(sock, &unspec, sizeof unspec);
	return rc;
}

/* One attempt through plan->chains[at]. Returns 0 or -errno (logged); *retry
 * says whether the next chain of the plan may be tried. */
static int supervisor_attempt(struct supervisor_call *call, int sock,
			      int family, const struct group_plan *plan,
			      unsigned at, uint64_t limit_ms,
			      const struct endpoint *target, bool *retry)
{
	unsigned chain = plan->chains[at];
	char dest[ENDPOINT_TEXT_MAX], via[CONFIG_URL_TEXT_MAX];
	struct tunnel_result res = {.hop = -1, .why = NULL};
	int pid = (int)call->notif.pid, fd = (int)call->notif.data.args[0];
	struct tunnel_path path = {.limit_ms = limit_ms};
	const char *name;
	int rc;

	path.hops = config_chain_hops(&sv.cfg, chain, &path.count);
	path.connect_ms = group_connect_ms(&sv.cfg, plan, at);
	endpoint_format(target, dest, sizeof dest);
	/* The default chain keeps its old words, "via the proxy". */
	name = chain == CONFIG_DEFAULT_CHAIN
		   ? "the proxy"
		   : config_target_name(
			 &sv.cfg, (struct route_target){TARGET_CHAIN, chain},
			 via, sizeof via);
	rc = supervisor_tunnel(sock, family, chain, &path, target, &res);
	*retry = rc < 0 && rc != -EISCONN && rc != -EALREADY &&
		 group_proxy_failed(-rc, &res, path.count);
	if (*retry)
		health_mark_down(sv.health, chain,
				 netio_now_ms() + sv.cfg.down_time_ms);
	if (rc < 0)
		log_error("pid %d fd %d: %s via %s%s: %s", pid, fd, dest,
			  chain ? "chain " : "", name,
			  res.why ? res.why : strerror(-rc));
	else {
		health_mark_up(sv.health, chain);
		log_info("pid %d fd %d: %s via %s%s: ok (supervised)", pid, fd,
			 dest, chain ? "chain " : "", name);
	}
	return rc;
}

/* Whether the caller's descriptor fd is close-on-exec, from
 * /proc/PID/fdinfo/FD ("flags:" in octal). */
static bool supervisor_fd_cloexec(const struct supervisor_call *call, int fd)
{
	char path[64], buf[256], *at;
	ssize_t n;
	int f;

	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)call->notif.pid,
		 fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return false;
	n = read(f, buf, sizeof buf - 1);
	close(f);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	at = strstr(buf, "flags:");
	return at && (strtoul(at + 6, NULL, 8) & O_CLOEXEC);
}

/* Put won, an extra socket that won a race, in the caller's place at the
 * number it connected (SECCOMP_ADDFD_FLAG_SETFD: the kernel closes the
 * program's own there), keeping its close-on-exec flag. Returns 0 or
 * -errno (-ENOENT: the caller left the call). */
static int supervisor_adopt(const struct supervisor_call *call, int won)
{
	int fd = (int)call->notif.data.args[0];
	struct seccomp_notif_addfd add = {
	    .id = call->notif.id,
	    .flags = SECCOMP_ADDFD_FLAG_SETFD,
	    .srcfd = (uint32_t)won,
	    .newfd = (uint32_t)fd,
	    .newfd_flags = supervisor_fd_cloexec(call, fd) ? O_CLOEXEC : 0,
	};

	if (ioctl(sv.listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0)
		return -errno;
	return 0;
}

/* A race group's plan in parallel (supervisor_race.c); an extra socket
 * that wins is installed in the program. Returns 0 or -errno. */
static int supervisor_raced(struct supervisor_call *call, int sock, int family,
			    const struct endpoint *asked,
			    const struct endpoint *target,
			    const struct group_plan *plan, uint64_t limit)
{
	const struct supervisor_race sr = {
	    .cfg = &sv.cfg,
	    .proxy = sv.proxy,
	    .health = sv.health,
	    .plan = plan,
	    .target = target,
	    .pid = (int)call->notif.pid,
	    .fd = (int)call->notif.data.args[0],
	    .sock = sock,
	    .family = family,
	    .limit_ms = limit,
	};
	int won = supervisor_race_run(&sr), rc = 0;

	if (won < 0)
		return won;
	if (won != sock) {
		rc = supervisor_adopt(call, won);
		if (rc == 0)
			supervisor_remember(won, family, asked, NULL);
		else if (rc != -ENOENT)
			log_error("pid %d fd %d: cannot install the race's "
				  "winner: %s",
				  sr.pid, sr.fd, strerror(-rc));
		close(won);
		return rc;
	}
	supervisor_remember(sock, family, asked, NULL);
	return 0;
}

/* A TCP connect() to a destination the routes send through via: the
 * chains of its plan in turn, while one fails for a reason of its own,
 * within one connect deadline (a race group: in parallel). */
static int supervisor_proxy(struct supervisor_call *call, int sock, int family,
			    const struct endpoint *asked,
			    const struct endpoint *target,
			    struct route_target via)
{
	uint64_t now = netio_now_ms();
	uint64_t limit =
	    now + sv.cfg.connect_timeout_ms + sv.cfg.handshake_timeout_ms;
	struct group_plan plan;
	bool retry = false;
	int rc = -EHOSTUNREACH;
	unsigned i;

	group_plan(&sv.cfg, sv.health, via, now, &plan);
	if (supervisor_race_fits(sock, &plan))
		return supervisor_raced(call, sock, family, asked, target,
					&plan, limit);
	for (i = 0; i < plan.count; i++) {
		rc = supervisor_attempt(call, sock, family, &plan, i,
					plan.count > 1 ? limit : 0, target,
					&retry);
		if (rc == 0 || !retry || netio_now_ms() >= limit)
			break;
	}
	if (rc == 0)
		supervisor_remember(sock, family, asked, NULL);
	return rc;
}

static void supervisor_log(struct supervisor_call *call,
			   const struct endpoint *ep, const char *what)
{
	char dest[ENDPOINT_TEXT_MAX];

	if (log_enabled(LOG_INFO))
		log_info("pid %d fd %d: %s %s", (int)call->notif.pid,
			 (int)call->notif.data.args[0],
			 endpoint_format(ep, dest, sizeof dest), what);
}

/* A stream socket: connect() is routed; sending with MSG_FASTOPEN to a
 * destination that is not direct is refused; other sends go on. */
static int supervisor_stream(struct supervisor_call *call, int sock, int family,
			     const struct endpoint *ep)
{
	struct route_choice choice;
	struct endpoint target;
	enum route_decision way;
	bool is_fake;

	if (call->notif.data.nr != SYS_connect && !supervisor_fastopen(call))
		return SUPERVISOR_CONTINUE;
	if (!sv.cfg.valid) {
		supervisor_log(call, ep, "refused: config error");
		return -EACCES;
	}
	if (supervisor_is_proxy(ep))
		return SUPERVISOR_CONTINUE;
	is_fake = supervisor_is_fake(ep);
	target = *ep;
	if (is_fake && !supervisor_unfake(ep, &target))
		target.kind = ENDPOINT_NONE; /* refused below, unless blocked */
	way = route_select(&sv.cfg, ep,
			   target.kind == ENDPOINT_NAME ? target.u.name : NULL,
			   is_fake, RULE_PROTO_TCP, &choice);
	if (way == ROUTE_PROXY && !is_fake && supervisor_dns_is_direct(ep))
		way = ROUTE_DIRECT; /* resolved for a direct name rule */
	switch (way) {
	case ROUTE_PROXY:
		break;
	case ROUTE_DIRECT:
		supervisor_log(call, ep, "direct");
		return SUPERVISOR_CONTINUE;
	case ROUTE_BLOCK:
		supervisor_log(call, ep, "refused by rule");
		return -EACCES;
	}
	if (call->notif.data.nr != SYS_connect) {
		supervisor_log(call, ep,
			       "refused: TCP Fast Open is not carried");
		return -EOPNOTSUPP;
	}
	if (target.kind == ENDPOINT_NONE) {
		supervisor_log(call, ep,
			       "refused: a fake address with no name (from "
			       "another socksify session?)");
		return -EHOSTUNREACH;
	}
	return supervisor_proxy(call, sock, family, ep, &target, choice.via);
}

/* A datagram socket: direct destinations only (UDP is not carried through
 * the proxy; DNS to a nameserver never gets here under remote DNS). */
static int supervisor_datagram(struct supervisor_call *call,
			       const struct endpoint *ep)
{
	char dest[ENDPOINT_TEXT_MAX];
	enum route_decision way = ROUTE_BLOCK;

	if (sv.cfg.valid) {
		way = route_classify_proto(&sv.cfg, ep, supervisor_is_fake(ep),
					   RULE_PROTO_UDP);
		if (way == ROUTE_PROXY && !supervisor_is_fake(ep) &&
		    (sv.cfg.udp_mode == UDP_DIRECT ||
		     supervisor_dns_is_direct(ep)))
			way = ROUTE_DIRECT;
	}
	if (way == ROUTE_DIRECT || supervisor_is_proxy(ep))
		return SUPERVISOR_CONTINUE;
	/* A connect() sends nothing; glibc's getaddrinfo makes one to each
	 * address it sorts (RFC 3484), and takes a refusal in its stride. */
	log_write(call->notif.data.nr == SYS_connect ? LOG_INFO : LOG_ERROR,
		  "pid %d fd %d: UDP to %s refused: %s", (int)call->notif.pid,
		  (int)call->notif.data.args[0],
		  endpoint_format(ep, dest, sizeof dest),
		  way == ROUTE_BLOCK ? "blocked by rule"
				     : "a supervised program's UDP goes out "
				       "only to direct destinations (DNS "
				       "is answered by the supervisor)");
	return -EACCES;
}

/* The destination ss (n bytes, as read) of the call on a socket of family
 * and type, into ep. An IPv4 datagram socket sends to an address of family
 * AF_UNSPEC as to an AF_INET one (udp_sendmsg), so it is judged as one (a
 * connect() to AF_UNSPEC dissolves the association instead). Returns 0, or
 * -1 when there is nothing to judge (the kernel judges the call). */
static int supervisor_endpoint(const struct supervisor_call *call,
			       struct sockaddr_storage *ss, long n, int family,
			       int type, struct endpoint *ep)
{
	if (n <= 0)
		return -1;
	if (ss->ss_family == AF_UNSPEC && family == AF_INET &&
	    type == SOCK_DGRAM && call->notif.data.nr != SYS_connect &&
	    (size_t)n >= sizeof(struct sockaddr_in))
		ss->ss_family = AF_INET;
	if (endpoint_from_sockaddr(ep, (struct sockaddr *)ss, (socklen_t)n) < 0)
		return -1;
	return 0;
}

/* The verdict for a destination ep of the call on sock. */
static int supervisor_judge(struct supervisor_call *call, int sock, int family,
			    int type, const struct endpoint *ep)
{
	if (sv.cfg.valid &&
	    (type == SOCK_DGRAM || call->notif.data.nr == SYS_connect)) {
		if (sv.cfg.remote_dns && supervisor_dns_is_server(ep))
			return supervisor_dns(call, sock, family, type, ep);
		if (!sv.cfg.remote_dns && supervisor_dns_is_nameserver(ep))
			return supervisor_local_dns(call, type, ep);
	}
	if (type == SOCK_STREAM)
		return supervisor_stream(call, sock, family, ep);
	return supervisor_datagram(call, ep);
}

/* sendmmsg(): every message's destination is judged, up to the kernel's own
 * limit on their number (the low 32 bits of vlen, at most UIO_MAXIOV); the
 * first one that is not let through refuses the whole call. */
static int supervisor_mmsg(struct supervisor_call *call, int sock, int family,
			   int type)
{
	struct supervise_mem mem = {.read = supervisor_mem_read, .ctx = call};
	const struct seccomp_data *d = &call->notif.data;
	uint32_t count = (uint32_t)d->args[2];
	struct sockaddr_storage ss;
	struct endpoint ep;
	int verdict;
	long n;

	if (type == SOCK_STREAM && !supervisor_fastopen(call))
		return SUPERVISOR_CONTINUE;
	if (count > SUPERVISOR_MMSG_MAX)
		count = SUPERVISOR_MMSG_MAX;
	for (uint32_t i = 0; i < count; i++) {
		n = supervise_read_msg_name(
		    &mem, d->args[1] + (uint64_t)i * sizeof(struct mmsghdr),
		    &ss);
		if (n < 0)
			break; /* the kernel stops at this message too */
		if (supervisor_endpoint(call, &ss, n, family, type, &ep) < 0)
			continue; /* the kernel judges it */
		verdict = supervisor_judge(call, sock, family, type, &ep);
		if (verdict != SUPERVISOR_CONTINUE)
			return verdict;
	}
	return SUPERVISOR_CONTINUE;
}

/* The verdict for a call on the copy sock of the caller's descriptor. */
static int supervisor_decide(struct supervisor_call *call, int sock)
{
	struct sockaddr_storage ss;
	struct endpoint ep;
	int family, type, verdict;
	socklen_t len = sizeof family;
	long n;

	if (call->notif.data.nr == SYS_getpeername ||
	    call->notif.data.nr == SYS_recvfrom)
		return supervisor_known(call, sock);
	if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0 ||
	    (family != AF_INET && family != AF_INET6))
		return SUPERVISOR_CONTINUE;
	len = sizeof type;
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM))
		return SUPERVISOR_CONTINUE;
	log_debug("pid %d fd %d: system call %d on an IP socket",
		  (int)call->notif.pid, (int)call->notif.data.args[0],
		  (int)call->notif.data.nr);
	/* A datagram socket may be connected again, elsewhere: what the
	 * table said of it no longer holds (a stream socket cannot be). */
	if (call->notif.data.nr == SYS_connect && type == SOCK_DGRAM)
		supervisor_sockets_forget(supervisor_inode(sock));
	if (call->notif.data.nr == SYS_sendmmsg) {
		verdict = supervisor_mmsg(call, sock, family, type);
		/* gone: the answer will not be delivered */
		return supervisor_valid(call) ? verdict : -ENOENT;
	}
	n = supervisor_destination(call, &ss);
	if (!supervisor_valid(call))
		return -ENOENT; /* gone: the answer will not be delivered */
	if (supervisor_endpoint(call, &ss, n, family, type, &ep) < 0)
		return SUPERVISOR_CONTINUE; /* the kernel judges it */
	return supervisor_judge(call, sock, family, type, &ep);
}

static void supervisor_answer(const struct supervisor_call *call, int verdict)
{
	struct seccomp_notif_resp resp = {.id = call->notif.id};

	if (verdict == SUPERVISOR_CONTINUE)
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else if (verdict >= 0)
		resp.val = verdict;
	else
		resp.error = verdict;
	/* ENOENT: the caller left the call (killed, or a signal). */
	ioctl(sv.listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

/* The process (thread group) of thread tid: pidfd_open() takes only a
 * process's leader before Linux 6.9. Returns it, or tid when unknown. */
static pid_t supervisor_tgid(pid_t tid)
{
	char path[64], buf[512], *at;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tid;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return tid;
	buf[n] = '\0';
	at = strstr(buf, "\nTgid:");
	return at ? (pid_t)atoi(at + 7) : tid;
}

/* A pidfd for the caller's process, opened by its thread id where the
 * kernel allows (PIDFD_THREAD, Linux 6.9), else by its thread group's
 * leader (read from /proc). */
static int supervisor_pidfd(pid_t tid)
{
	static bool no_thread_pidfd; /* learnt once, by any thread */
	int fd;

	if (!__atomic_load_n(&no_thread_pidfd, __ATOMIC_RELAXED)) {
		fd = (int)syscall(SYS_pidfd_open, tid, SUPERVISOR_PIDFD_THREAD);
		if (fd >= 0 || errno != EINVAL)
			return fd;
		__atomic_store_n(&no_thread_pidfd, true, __ATOMIC_RELAXED);
	}
	return (int)syscall(SYS_pidfd_open, supervisor_tgid(tid), 0);
}

static void supervisor_handle(struct supervisor_call *call)
{
	int verdict = SUPERVISOR_CONTINUE;
	int sock;

	call->pidfd = supervisor_pidfd((pid_t)call->notif.pid);
	sock = call->pidfd < 0 ? -1
			       : (int)syscall(SYS_pidfd_getfd, call->pidfd,
					      (int)call->notif.data.args[0], 0);
	if (sock >= 0) {
		verdict = supervisor_decide(call, sock);
		close(sock);
	} else if (errno != EBADF && errno != ESRCH) {
		log_error("pid %d: cannot examine its descriptor %d: %s",
			  (int)call->notif.pid, (int)call->notif.data.args[0],
			  strerror(errno));
		verdict = -EACCES; /* fail closed */
	}
	if (verdict != -ENOENT)
		supervisor_answer(call, verdict);
	if (call->pidfd >= 0)
		close(call->pidfd);
}

/* A sendmsg() that names no destination (the common case: AF_UNIX,
 * connected sockets) goes to the kernel at once, without a thread: the
 * thread would find no destination to judge either. */
static bool supervisor_nameless_sendmsg(struct supervisor_call *call)
{
	struct supervise_mem mem = {.read = supervisor_mem_read, .ctx = call};

	return call->notif.data.nr == SYS_sendmsg &&
	       supervise_msg_has_name(&mem, call->notif.data.args[1]) == 0;
}

/* A recvfrom() on a socket that does not talk to the DNS responder (any
 * socket but a few) goes to the kernel at once, without a handler thread:
 * only the responder's replies are received by the supervisor. */
static bool supervisor_unknown_recvfrom(struct supervisor_call *call)
{
	struct supervisor_socket known;
	bool unknown = false;
	int pidfd, sock;

	if (call->notif.data.nr != SYS_recvfrom)
		return false;
	pidfd = supervisor_pidfd((pid_t)call->notif.pid);
	if (pidfd < 0)
		return false;
	sock = (int)syscall(SYS_pidfd_getfd, pidfd,
			    (int)call->notif.data.args[0], 0);
	if (sock >= 0) {
		unknown =
		    !supervisor_sockets_get(supervisor_inode(sock), &known) ||
		    known.responder.kind == ENDPOINT_NONE;
		close(sock);
	}
	close(pidfd);
	return unknown;
}

/* Answer one received call. */
static void supervisor_dispatch(struct supervisor_call *call)
{
	if (supervisor_nameless_sendmsg(call) ||
	    supervisor_unknown_recvfrom(call))
		supervisor_answer(call, SUPERVISOR_CONTINUE);
	else
		supervisor_handle(call);
}

/* Receive one notification into call. Returns 1 when one came, 0 when
 * none did (the caller left before it was read, a signal), -1 (logged)
 * when the supervisor cannot go on. */
static int supervisor_receive(struct supervisor_call *call)
{
	int err;

	memset(call, 0, sizeof(*call)); /* the kernel wants it zeroed */
	if (ioctl(sv.listener, SECCOMP_IOCTL_NOTIF_RECV, &call->notif) == 0)
		return 1;
	err = errno;
	/* ENOENT: the caller left before we read it. */
	if (err == ENOENT || err == EINTR)
		return 0;
	log_error("cannot receive notifications: %s; the supervisor stops, "
		  "and every later connect of the program tree fails with "
		  "ENOSYS",
		  strerror(err));
	return -1;
}

/* ---- the handler threads ---- */

/* Whether no process uses the filter any more. */
static bool supervisor_hung_up(void)
{
	struct pollfd p = {.fd = sv.listener, .events = 0};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

/* Every handler thread receives notifications itself (the kernel hands
 * each to one of the threads waiting in SECCOMP_IOCTL_NOTIF_RECV) and
 * answers what it received: no hand-off from a receiving loop to a
 * handler thread, whose wake-up cost every connect a scheduling delay.
 * Threads start on demand, up to SUPERVISOR_THREADS, and stay: a thread
 * that takes a call while no other one waits for the next starts one
 * more, so a slow handshake does not hold up the next call while threads
 * remain (past that, calls wait in the kernel for a free thread). */
static struct {
	pthread_mutex_t lock;
	unsigned waiting, started;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *supervisor_worker(void *arg);

static bool supervisor_start_worker(void)
{
	pthread_attr_t attr;
	pthread_t thread;
	bool ok;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	ok = pthread_create(&thread, &attr, supervisor_worker, NULL) == 0;
	pthread_attr_destroy(&attr);
	return ok;
}

/* Count a thread that will wait for calls (spawn: a new one, started
 * here). Returns false when it could not be started. */
static bool supervisor_add_waiter(bool spawn)
{
	pthread_mutex_lock(&pool.lock);
	pool.waiting++;
	if (spawn)
		pool.started++;
	pthread_mutex_unlock(&pool.lock);
	if (!spawn || supervisor_start_worker())
		return true;
	pthread_mutex_lock(&pool.lock);
	pool.waiting--;
	pool.started--;
	pthread_mutex_unlock(&pool.lock);
	return false;
}

/* A thread took a call: when none is left waiting, start as many more as
 * there are (up to the limit), so that a burst of calls gets its threads
 * in a few steps, not one thread after another. */
static void supervisor_took_call(void)
{
	unsigned spawn = 0;

	pthread_mutex_lock(&pool.lock);
	pool.waiting--;
	if (pool.waiting == 0) {
		spawn = pool.started;
		if (spawn > SUPERVISOR_THREADS - pool.started)
			spawn = SUPERVISOR_THREADS - pool.started;
	}
	pthread_mutex_unlock(&pool.lock);
	while (spawn-- > 0 && supervisor_add_waiter(true))
		;
}

static void *supervisor_worker(void *arg)
{
	struct supervisor_call call;

	(void)arg;
	for (;;) {
		int got = supervisor_receive(&call);

		if (got < 0)
			_exit(0); /* as the loop would: the supervisor stops */
		if (got == 0) {
			/* The filter's last user is gone and RECV fails at
			 * once from now on: end here, not in a spin (the loop
			 * sees the hang-up and ends the supervisor). */
			if (supervisor_hung_up())
				return NULL;
			continue;
		}
		supervisor_took_call();
		supervisor_dispatch(&call);
		supervisor_add_waiter(false);
	}
	return NULL;
}

/* What only a notified call needs: the session's tables, the DNS
 * responder, the handler threads. Done when the first call comes, not at
 * the start: under the guard most programs make none (the library's calls
 * pass the filter), and their start-up does not share the CPU with this.
 * Returns whether handler threads run. */
static bool supervisor_get_to_work(void)
{
	bool threaded;

	if (sv.cfg.valid) {
		supervisor_attach_names();
		if (sv.cfg.remote_dns)
			supervisor_dns_start(&sv.cfg, sv.table);
		else
			supervisor_dns_read_servers();
	}
	/* Older kernels lack it: the calls are then only slower. */
	ioctl(sv.listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
	      SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	/* With no handler thread at all (none could be started), calls are
	 * received and answered on this thread: slower, still correct. */
	threaded = supervisor_add_waiter(true);
	/* A few more from the start: a burst of connects (Go dials many at
	 * once) then does not wait for threads started one by one. */
	for (int i = 1; threaded && i < SUPERVISOR_PRESTART; i++)
		supervisor_add_waiter(true);
	return threaded;
}

/* The supervisor, once the helper's exec (or exit) has left it the
 * memory: set up, start the handler threads, and watch for the end. */
static void supervisor_serve(void)
{
	bool working = false, threaded = false;

	if (!supervisor_detach())
		_exit(0); /* the calls fail with ENOSYS: fail closed */
	supervisor_log_start();
	supervisor_leave_cwd();
	for (;;) {
		/* Threaded, this loop only watches for the end (POLLHUP
		 * comes whatever the events asked for). */
		struct pollfd p[2] = {
		    {.fd = sv.listener, .events = threaded ? 0 : POLLIN},
		    {.fd = sv.program, .events = POLLIN}, /* -1: ignored */
		};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll on the listener: %s; the supervisor "
				  "stops, and every later connect of the "
				  "program tree fails with ENOSYS",
				  strerror(errno));
			break;
		}
		if (p[1].revents)
			supervisor_release_stderr();
		if ((p[0].revents & POLLIN) && !working) {
			/* The first call: its handler thread takes it. */
			working = true;
			threaded = supervisor_get_to_work();
		} else if (p[0].revents & POLLIN) {
			struct supervisor_call call;
			int got = supervisor_receive(&call);

			if (got < 0)
				break;
			if (got > 0)
				supervisor_dispatch(&call);
		} else if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
			break;
		}
	}
	/* The program tree is gone; threads still answering are moot. */
	_exit(0);
}
