/* async_real.c — libc's own data, epoll and poll functions for the
 * asynchronous-handshake hooks, found once with dlsym(RTLD_NEXT) inside
 * pthread_once (the same rules as real.c: written once, then read-only). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "async.h"
#include "real.h"

struct async_real_functions async_real;

struct async_symbol {
	void **slot;
	const char *name;
};

#define ASLOT(member) ((void **)(void *)&async_real.member)

static const struct async_symbol async_symbols[] = {
    {ASLOT(read), "read"},
    {ASLOT(write), "write"},
    {ASLOT(readv), "readv"},
    {ASLOT(writev), "writev"},
    {ASLOT(recvfrom), "recvfrom"},
    {ASLOT(recvmsg), "recvmsg"},
    {ASLOT(epoll_create), "epoll_create"},
    {ASLOT(epoll_create1), "epoll_create1"},
    {ASLOT(epoll_ctl), "epoll_ctl"},
    {ASLOT(ppoll), "ppoll"},
    {ASLOT(select), "select"},
    {ASLOT(pselect), "pselect"},
};

/* Every one of these is essential: abort with a message when missing. */
static void async_real_die(const char *name)
{
	static const char msg[] = "socksify: fatal: libc symbol not found: ";

	syscall(SYS_write, 2, msg, sizeof msg - 1);
	syscall(SYS_write, 2, name, strlen(name));
	syscall(SYS_write, 2, "\n", 1);
	abort();
}

static void async_real_load(void)
{
	size_t i;

	for (i = 0; i < sizeof async_symbols / sizeof async_symbols[0]; i++) {
		void *addr = dlsym(RTLD_NEXT, async_symbols[i].name);

		if (!addr)
			async_real_die(async_symbols[i].name);
		memcpy(async_symbols[i].slot, &addr, sizeof addr);
	}
}

void async_real_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	real_init();
	pthread_once(&once, async_real_load);
}
