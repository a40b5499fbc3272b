/* real.c — the table of libc's own functions, found once with
 * dlsym(RTLD_NEXT) inside pthread_once.
 *
 * Thread safety: `real` is written only inside pthread_once and read-only
 * afterwards, so readers need no lock. A fork() in another thread while the
 * once-routine runs would leave the child's once-control "in progress"; that
 * window is microseconds at start-up and is an accepted edge.
 *
 * Guard: a symbol that resolves into this very library (because another
 * preload re-exported it, or the link order is odd) would make every hook call
 * itself forever, so it aborts the program with a message instead. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "real.h"
#include "recv_wait.h"
#include "trampoline.h"

struct real_functions real;

/* One slot of the table: the member to fill, the names to try in order, and
 * whether the library cannot work without it. */
struct real_symbol {
	void **slot;
	const char *name;
	const char *fallback; /* tried when name is missing, or NULL */
	bool essential;
};

#define SLOT(member) ((void **)(void *)&real.member)

static const struct real_symbol real_symbols[] = {
    {SLOT(connect), "connect", NULL, true},
    {SLOT(getpeername), "getpeername", NULL, true},
    {SLOT(getsockopt), "getsockopt", NULL, true},
    {SLOT(send), "send", NULL, true},
    {SLOT(recv), "recv", NULL, true},
    {SLOT(sendto), "sendto", NULL, true},
    {SLOT(sendmsg), "sendmsg", NULL, true},
    {SLOT(sendmmsg), "sendmmsg", NULL, true},
    {SLOT(poll), "poll", NULL, true},
    {SLOT(fcntl), "fcntl64", "fcntl", true},
    {SLOT(close), "close", NULL, true},
    {SLOT(close_range), "close_range", NULL, false},
    {SLOT(dup), "dup", NULL, true},
    {SLOT(dup2), "dup2", NULL, true},
    {SLOT(dup3), "dup3", NULL, true},
    {SLOT(getaddrinfo), "getaddrinfo", NULL, true},
    {SLOT(freeaddrinfo), "freeaddrinfo", NULL, true},
    {SLOT(getnameinfo), "getnameinfo", NULL, true},
    {SLOT(gethostbyname), "gethostbyname", NULL, true},
    {SLOT(gethostbyname2), "gethostbyname2", NULL, true},
    {SLOT(gethostbyname_r), "gethostbyname_r", NULL, true},
    {SLOT(gethostbyname2_r), "gethostbyname2_r", NULL, true},
    {SLOT(gethostbyaddr), "gethostbyaddr", NULL, true},
    {SLOT(gethostbyaddr_r), "gethostbyaddr_r", NULL, true},
    /* In libanl before glibc 2.34: absent unless the program links it. */
    {SLOT(getaddrinfo_a), "getaddrinfo_a", NULL, false},
    {SLOT(gai_error), "gai_error", NULL, false},
    {SLOT(gai_suspend), "gai_suspend", NULL, false},
    {SLOT(gai_cancel), "gai_cancel", NULL, false},
    {SLOT(fcntl_plain), "fcntl", NULL, true},
    {SLOT(ioctl), "ioctl", NULL, true},
    {SLOT(read), "read", NULL, true},
    {SLOT(write), "write", NULL, true},
    {SLOT(readv), "readv", NULL, true},
    {SLOT(writev), "writev", NULL, true},
    {SLOT(recvfrom), "recvfrom", NULL, true},
    {SLOT(recvmsg), "recvmsg", NULL, true},
    {SLOT(recvmmsg), "recvmmsg", NULL, true},
    {SLOT(socket), "socket", NULL, true},
    {SLOT(socketpair), "socketpair", NULL, true},
    {SLOT(accept), "accept", NULL, true},
    {SLOT(accept4), "accept4", NULL, true},
    {SLOT(closefrom), "closefrom", NULL, false},
    {SLOT(setsockopt), "setsockopt", NULL, true},
    {SLOT(epoll_create), "epoll_create", NULL, true},
    {SLOT(epoll_create1), "epoll_create1", NULL, true},
    {SLOT(epoll_ctl), "epoll_ctl", NULL, true},
    {SLOT(ppoll), "ppoll", NULL, true},
    {SLOT(select), "select", NULL, true},
    {SLOT(pselect), "pselect", NULL, true},
    {SLOT(bind), "bind", NULL, true},
    {SLOT(listen), "listen", NULL, true},
    {SLOT(getsockname), "getsockname", NULL, true},
    {SLOT(execve), "execve", NULL, true},
    {SLOT(execv), "execv", NULL, true},
    {SLOT(execvp), "execvp", NULL, true},
    {SLOT(execvpe), "execvpe", NULL, true},
    {SLOT(fexecve), "fexecve", NULL, true},
    {SLOT(execveat), "execveat", NULL, false},
    {SLOT(posix_spawn), "posix_spawn", NULL, true},
    {SLOT(posix_spawnp), "posix_spawnp", NULL, true},
    {SLOT(system), "system", NULL, true},
    {SLOT(popen), "popen", NULL, true},
    {SLOT(openat), "openat", NULL, true},
    {SLOT(res_query), "res_query", NULL, false},
    {SLOT(res_search), "res_search", NULL, false},
    {SLOT(res_querydomain), "res_querydomain", NULL, false},
    {SLOT(res_send), "res_send", NULL, false},
    {SLOT(res_nquery), "res_nquery", NULL, false},
    {SLOT(res_nsearch), "res_nsearch", NULL, false},
    {SLOT(res_nquerydomain), "res_nquerydomain", NULL, false},
    {SLOT(res_nsend), "res_nsend", NULL, false},
};

static bool real_is_ours(void *addr);

/* Write a fatal message to fd 2 with libc's own write (no stdio; neither our
 * write hook nor our syscall hook, which the table may not reach yet) and
 * abort. */
static void __attribute__((noreturn))
real_die(const char *what, const char *name)
{
	static const char prefix[] = "socksify: fatal: ";
	ssize_t (*libc_write)(int, const void *, size_t);
	void *addr = dlsym(RTLD_NEXT, "write");

	if (addr && !real_is_ours(addr)) {
		memcpy(&libc_write, &addr, sizeof addr);
		libc_write(STDERR_FILENO, prefix, sizeof prefix - 1);
		libc_write(STDERR_FILENO, what, strlen(what));
		libc_write(STDERR_FILENO, name, strlen(name));
		libc_write(STDERR_FILENO, "\n", 1);
	}
	abort();
}

/* This shared object's extent in memory, [lo, hi): its loadable segments,
 * found once (inside the once-routine) with dl_iterate_phdr. dladdr() would
 * tell the same per address, but glibc's walks the whole symbol table of
 * the object it lands in (libc's, thousands of entries) on every call: for
 * each symbol of the table, that was most of the library's start-up. */
static uintptr_t real_self_lo, real_self_hi;

static int real_find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0, self = (uintptr_t)data;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (start < lo)
			lo = start;
		if (start + ph->p_memsz > hi)
			hi = start + ph->p_memsz;
	}
	if (self < lo || self >= hi)
		return 0;
	real_self_lo = lo;
	real_self_hi = hi;
	return 1;
}

/* True when addr lies inside this shared object. */
static bool real_is_ours(void *addr)
{
	Dl_info ours, theirs;

	if (real_self_hi == 0)
		dl_iterate_phdr(real_find_self, (void *)(uintptr_t)real_init);
	if (real_self_hi != 0)
		return (uintptr_t)addr >= real_self_lo &&
		       (uintptr_t)addr < real_self_hi;
	/* Not found (cannot happen with glibc): ask dladdr. */
	if (!dladdr((void *)(uintptr_t)real_init, &ours) ||
	    !dladdr(addr, &theirs))
		return false;
	return ours.dli_fbase == theirs.dli_fbase;
}

/* Resolve one entry: name, else its fallback. Aborts when the result is our
 * own hook, or when an essential symbol is missing. */
static void real_resolve(const struct real_symbol *s)
{
	void *addr = dlsym(RTLD_NEXT, s->name);

	if (!addr && s->fallback)
		addr = dlsym(RTLD_NEXT, s->fallback);
	if (addr && real_is_ours(addr))
		real_die("libc symbol resolves to socksify itself: ", s->name);
	if (!addr && s->essential)
		real_die("libc symbol not found: ", s->name);
	memcpy(s->slot, &addr, sizeof addr);
}

static enum real_guard real_guard_seen = REAL_GUARD_NONE;

/* The supervisor (SOCKSIFY_SUPERVISOR_PID, set by socksify-helper), or 0.
 * Under Yama's ptrace_scope 1 it may read a process's memory and take its
 * descriptors only when the process names it (PR_SET_PTRACER): the helper
 * does for the program, and each process of the tree does it here, at
 * start-up and in every fork child (the setting is per process; exec
 * keeps it). Elsewhere the call fails harmlessly. */
static long real_supervisor_pid;

static void real_name_supervisor(void)
{
	int saved = errno;

	if (real_supervisor_pid > 0)
		prctl(PR_SET_PTRACER, (unsigned long)real_supervisor_pid, 0, 0,
		      0);
	errno = saved;
}

static void real_find_supervisor(void)
{
	const char *text = secure_getenv("SOCKSIFY_SUPERVISOR_PID");
	char *end;
	long pid;

	if (!text || !*text)
		return;
	pid = strtol(text, &end, 10);
	if (*end != '\0' || pid <= 0 || pid > INT32_MAX)
		return;
	real_supervisor_pid = pid;
	real_name_supervisor();
	pthread_atfork(NULL, NULL, real_name_supervisor);
}

/* Under a seccomp filter (the guard's: README, "The guard"), the calls the
 * filter watches go through the trampoline page, which it lets through:
 * the hooks have routed them already. Without the page they stay libc's,
 * and the supervisor judges each one again (a round trip, same outcome). */
static void real_guard_route(void)
{
	if (!trampoline_filtered())
		return;
	real_find_supervisor();
	if (trampoline_map() < 0) {
		real_guard_seen = REAL_GUARD_FALLBACK;
		return;
	}
	real.connect = trampoline_connect;
	real.sendto = trampoline_sendto;
	real.sendmsg = trampoline_sendmsg;
	real.sendmmsg = trampoline_sendmmsg;
	real_guard_seen = REAL_GUARD_TRAMPOLINE;
}

enum real_guard real_guard_state(void)
{
	real_init();
	return real_guard_seen;
}

static void real_init_once(void)
{
	size_t i;

	for (i = 0; i < sizeof real_symbols / sizeof real_symbols[0]; i++)
		real_resolve(&real_symbols[i]);
	real_guard_route();
	preload_register();
}

void real_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, real_init_once);
}

/* common/'s view of the same functions. Each wrapper reads the table at call
 * time, so real_io can be a constant initialised before real_init() ran. */
static int io_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return real.connect(fd, sa, len);
}

static ssize_t io_send(int fd, const void *buf, size_t len, int flags)
{
	return real.send(fd, buf, len, flags);
}

static ssize_t io_recv(int fd, void *buf, size_t len, int flags)
{
	return real.recv(fd, buf, len, flags);
}

static int io_poll(struct pollfd *fds, nfds_t count, int timeout_ms)
{
	return real.poll(fds, count, timeout_ms);
}

static int io_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return real.getsockopt(fd, level, name, val, len);
}

static ssize_t io_sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *sa, socklen_t salen)
{
	return real.sendto(fd, buf, len, flags, sa, salen);
}

const struct socket_io real_io = {
    .connect = io_connect,
    .send = io_send,
    .recv = io_recv,
    .poll = io_poll,
    .getsockopt = io_getsockopt,
    .sendto = io_sendto,
};

static ssize_t io_send_dontwait(int fd, const void *buf, size_t len, int flags)
{
	return real.send(fd, buf, len, flags | MSG_DONTWAIT);
}

static ssize_t io_recv_dontwait(int fd, void *buf, size_t len, int flags)
{
	return real.recv(fd, buf, len, flags | MSG_DONTWAIT);
}

const struct socket_io real_io_dontwait = {
    .connect = io_connect,
    .send = io_send_dontwait,
    .recv = io_recv_dontwait,
    .poll = io_poll,
    .getsockopt = io_getsockopt,
    .sendto = io_sendto,
};

const struct socket_io real_io_waiting = {
    .connect = io_connect,
    .send = io_send_dontwait,
    .recv = recv_wait_recv,
    .poll = io_poll,
    .getsockopt = io_getsockopt,
    .sendto = io_sendto,
    .recv_waits = true,
};

/* common/'s file calls. Unlike the socket calls above these can come before
 * any hook ran (the log is set up by a constructor), so each one makes sure
 * the table is filled first: one pthread_once check once it is. */
static int sys_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	real_init();
	return real.openat(dirfd, path, flags, mode);
}

static ssize_t sys_read(int fd, void *buf, size_t len)
{
	real_init();
	return real.read(fd, buf, len);
}

static ssize_t sys_write(int fd, const void *buf, size_t len)
{
	real_init();
	return real.write(fd, buf, len);
}

static int sys_close(int fd)
{
	real_init();
	return real.close(fd);
}

/* fstat is no hook of ours, so libc's is called directly; it is not looked
 * up with dlsym because glibc before 2.33 has no "fstat" symbol to find. */
static int sys_fstat(int fd, struct stat *st)
{
	return fstat(fd, st);
}

const struct sys_io real_sys_io = {
    .openat = sys_openat,
    .read = sys_read,
    .write = sys_write,
    .close = sys_close,
    .fstat = sys_fstat,
};
