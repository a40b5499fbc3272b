/* doctor.h — "socksify doctor": check every configured proxy before relying
 * on it (reachability, methods, authentication, CONNECT by address and by
 * name, UDP ASSOCIATE, BIND, pipelining) and run a leak self-test of the
 * library; one line per check, or JSON. Part of socksify-helper. */
#ifndef SOCKSIFY_TOOLS_DOCTOR_H
#define SOCKSIFY_TOOLS_DOCTOR_H

#include "endpoint.h"
#include "proxyurl.h"

/* "socksify-helper doctor [-x URL | -f FILE] [--target HOST:PORT]
 * [--json]". Returns the exit status: 0 when every needed check passed,
 * 1 when one failed or the configuration has an error, 2 on bad usage. */
int doctor_main(int argc, char **argv);

/* When this process runs under libsocksify.so (a socksified shell), exec
 * it again (argv: main's) with LD_PRELOAD cleared of the library, so that
 * the checks reach the proxies directly. Returns only when there was
 * nothing to do or the exec failed. */
void doctor_leave_library(char **argv);

/* "socksify-helper doctor-leak NAME": the leak self-test's child, run
 * under the library: look NAME up and connect to it, then connect to a
 * numeric address. Exit 0 when both connects succeeded. */
int doctor_leak_child(const char *name);

/* socksify-helper.c's pipelining probe against p at its resolved address
 * self, each handshake given timeout_ms: 0 when a pipelined handshake is
 * understood, 1 when it is not (an ordinary one is), 2 when it cannot tell;
 * *why says what happened (static text or NULL). */
int probe_pipelining(const struct proxy *p, const struct endpoint *self,
		     unsigned timeout_ms, const char **why);

#endif
