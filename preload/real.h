/* real.h — libc's own functions, found once with dlsym(RTLD_NEXT). This
 * table is the only global shared between preload/ files; it is written once
 * inside pthread_once and read-only afterwards. */
#ifndef SOCKSIFY_REAL_H
#define SOCKSIFY_REAL_H

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "netio.h"
#include "sys_io.h"

/* Hooks are the only symbols the library exports. */
#define SOCKSIFY_EXPORT __attribute__((visibility("default")))

struct __res_state;

struct real_functions {
	int (*connect)(int fd, const struct sockaddr *sa, socklen_t len);
	int (*getpeername)(int fd, struct sockaddr *sa, socklen_t *len);
	int (*getsockopt)(int fd, int level, int name, void *val,
			  socklen_t *len);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	ssize_t (*sendto)(int fd, const void *buf, size_t len, int flags,
			  const struct sockaddr *sa, socklen_t salen);
	ssize_t (*sendmsg)(int fd, const struct msghdr *msg, int flags);
	int (*sendmmsg)(int fd, struct mmsghdr *vec, unsigned int count,
			int flags);
	int (*poll)(struct pollfd *fds, nfds_t count, int timeout_ms);
	int (*fcntl)(int fd, int cmd, ...);
	int (*close)(int fd);
	int (*close_range)(unsigned int first, unsigned int last, int flags);
	int (*dup)(int fd);
	int (*dup2)(int fd, int fd2);
	int (*dup3)(int fd, int fd2, int flags);

	int (*getaddrinfo)(const char *node, const char *service,
			   const struct addrinfo *hints, struct addrinfo **res);
	void (*freeaddrinfo)(struct addrinfo *res);
	int (*getnameinfo)(const struct sockaddr *sa, socklen_t salen,
			   char *host, socklen_t hostlen, char *serv,
			   socklen_t servlen, int flags);
	struct hostent *(*gethostbyname)(const char *name);
	struct hostent *(*gethostbyname2)(const char *name, int af);
	int (*gethostbyname_r)(const char *name, struct hostent *ret, char *buf,
			       size_t buflen, struct hostent **result,
			       int *h_errnop);
	int (*gethostbyname2_r)(const char *name, int af, struct hostent *ret,
				char *buf, size_t buflen,
				struct hostent **result, int *h_errnop);
	struct hostent *(*gethostbyaddr)(const void *addr, socklen_t len,
					 int type);
	int (*getaddrinfo_a)(int mode, struct gaicb *list[], int count,
			     struct sigevent *sev);
	int (*gai_error)(struct gaicb *req);
	int (*gai_suspend)(const struct gaicb *const list[], int count,
			   const struct timespec *timeout);
	int (*gai_cancel)(struct gaicb *req);

	/* "fcntl" itself (the member above is fcntl64 when libc has it). On
	 * 32-bit systems the two take different struct flock layouts, so the
	 * exported fcntl hook passes its call on to this one. */
	int (*fcntl_plain)(int fd, int cmd, ...);
	/* Hooked for FIONBIO only (fdops.c). */
	int (*ioctl)(int fd, unsigned long request, ...);

	/* Python's socket.gethostbyaddr and others use the _r form. While
	 * real.c leaves it NULL, hostent.c looks it up itself. */
	int (*gethostbyaddr_r)(const void *addr, socklen_t len, int type,
			       struct hostent *ret, char *buf, size_t buflen,
			       struct hostent **result, int *h_errnop);

	/* The datagram family (UDP through the proxy) and the calls that
	 * make new descriptors (their fdtab entries are cleared). */
	ssize_t (*read)(int fd, void *buf, size_t len);
	ssize_t (*write)(int fd, const void *buf, size_t len);
	ssize_t (*readv)(int fd, const struct iovec *iov, int count);
	ssize_t (*writev)(int fd, const struct iovec *iov, int count);
	ssize_t (*recvfrom)(int fd, void *buf, size_t len, int flags,
			    struct sockaddr *sa, socklen_t *salen);
	ssize_t (*recvmsg)(int fd, struct msghdr *msg, int flags);
	int (*recvmmsg)(int fd, struct mmsghdr *vec, unsigned int count,
			int flags, struct timespec *timeout);
	int (*socket)(int domain, int type, int protocol);
	int (*socketpair)(int domain, int type, int protocol, int sv[2]);
	int (*accept)(int fd, struct sockaddr *sa, socklen_t *len);
	int (*accept4)(int fd, struct sockaddr *sa, socklen_t *len, int flags);
	void (*closefrom)(int lowfd); /* NULL before glibc 2.34 */

	/* UDP_CORK is followed (sockopt.c); everything else passes. */
	int (*setsockopt)(int fd, int level, int name, const void *val,
			  socklen_t len);
	/* Readiness while asynchronous handshakes run (async_*.c). */
	int (*epoll_create)(int size);
	int (*epoll_create1)(int flags);
	int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*ppoll)(struct pollfd *fds, nfds_t count,
		     const struct timespec *timeout, const sigset_t *mask);
	int (*select)(int nfds, fd_set *r, fd_set *w, fd_set *e,
		      struct timeval *timeout);
	int (*pselect)(int nfds, fd_set *r, fd_set *w, fd_set *e,
		       const struct timespec *timeout, const sigset_t *mask);

	/* Listening sockets through the proxy (bind.c, accept.c). */
	int (*bind)(int fd, const struct sockaddr *sa, socklen_t len);
	int (*listen)(int fd, int backlog);
	int (*getsockname)(int fd, struct sockaddr *sa, socklen_t *len);

	/* exec waits for handshakes in flight (exec.c). The l-forms end in
	 * execv, execvp and execve. */
	int (*execve)(const char *path, char *const argv[], char *const envp[]);
	int (*execv)(const char *path, char *const argv[]);
	int (*execvp)(const char *file, char *const argv[]);
	int (*execvpe)(const char *file, char *const argv[],
		       char *const envp[]);
	int (*fexecve)(int fd, char *const argv[], char *const envp[]);
	int (*posix_spawn)(pid_t *pid, const char *path,
			   const posix_spawn_file_actions_t *actions,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[]);
	int (*posix_spawnp)(pid_t *pid, const char *file,
			    const posix_spawn_file_actions_t *actions,
			    const posix_spawnattr_t *attr, char *const argv[],
			    char *const envp[]);
	int (*system)(const char *command);
	FILE *(*popen)(const char *command, const char *mode);
	int (*execveat)(int dirfd, const char *path, char *const argv[],
			char *const envp[], int flags); /* NULL before 2.34 */

	/* libresolv's query calls (resolv.c); NULL before glibc 2.34 unless
	 * the program links libresolv. */
	int (*res_query)(const char *name, int class, int type,
			 unsigned char *answer, int anslen);
	int (*res_search)(const char *name, int class, int type,
			  unsigned char *answer, int anslen);
	int (*res_querydomain)(const char *name, const char *domain, int class,
			       int type, unsigned char *answer, int anslen);
	int (*res_send)(const unsigned char *msg, int msglen,
			unsigned char *answer, int anslen);
	int (*res_nquery)(struct __res_state *statp, const char *name,
			  int class, int type, unsigned char *answer,
			  int anslen);
	int (*res_nsearch)(struct __res_state *statp, const char *name,
			   int class, int type, unsigned char *answer,
			   int anslen);
	int (*res_nquerydomain)(struct __res_state *statp, const char *name,
				const char *domain, int class, int type,
				unsigned char *answer, int anslen);
	int (*res_nsend)(struct __res_state *statp, const unsigned char *msg,
			 int msglen, unsigned char *answer, int anslen);

	/* common/'s own files (config, log, fake-DNS table): see real_sys_io.
	 * read, write and close are above. */
	int (*openat)(int dirfd, const char *path, int flags, ...);
};

extern struct real_functions real;

/* The same calls as a table for common/'s handshake code. */
extern const struct socket_io real_io;
/* real_io whose send and recv never block (MSG_DONTWAIT): for a handshake
 * on a socket left in the program's blocking mode. */
extern const struct socket_io real_io_dontwait;
/* real_io_dontwait whose recv() waits itself for the fd of this thread's
 * wait (recv_wait.h): for a blocking socket's handshake. */
extern const struct socket_io real_io_waiting;

/* libc's file calls as a table for common/'s config, log and fake-DNS code,
 * which must never reach our own read/write/close hooks. Usable from the
 * very first call: each entry runs real_init() before it reads `real`. */
extern const struct sys_io real_sys_io;

/* Fill `real` once (pthread_once); aborts with a message if a symbol resolves
 * to our own hook. Every hook calls it first; after the first call it costs
 * one pthread_once check. */
void real_init(void);

/* How the library's connect and sends reach the kernel (real_init()
 * decides, once per process image): */
enum real_guard {
	REAL_GUARD_NONE,       /* no seccomp filter: libc's */
	REAL_GUARD_TRAMPOLINE, /* filtered: through the trampoline page */
	REAL_GUARD_FALLBACK,   /* filtered, the page unavailable: libc's */
};
enum real_guard real_guard_state(void);

/* The rest of the library's one-time set-up, run by real_init() once the
 * table is filled: the descriptor registry's subsystems and the fork
 * handlers (preload/fdops.c). */
void preload_register(void);

#endif
