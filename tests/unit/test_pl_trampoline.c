/* test_pl_trampoline.c — the guard's trampoline page (preload/trampoline.c)
 * and the guard's filter in a real kernel: the page is where the filter
 * expects it, read+execute only; calls through it keep libc's errno
 * convention; and under the installed filter (no supervisor listening, so
 * a notified call fails with ENOSYS) libc's connect and io_uring_setup are
 * stopped while the trampoline's connect reaches the kernel. */
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guardpage.h"
#include "real.h"
#include "supervise.h"
#include "trampoline.h"

/* real_init() ends with the library's registration (preload/fdops.c),
 * which this suite does not link. */
void preload_register(void)
{
}

static void setup(void)
{
	ck_assert_int_eq(trampoline_map(), 0);
}

/* The permissions /proc/self/maps shows for the page, e.g. "r-xp". */
static void page_perms(char perms[5])
{
	char line[512], want[32];
	FILE *maps = fopen("/proc/self/maps", "r");

	ck_assert_ptr_nonnull(maps);
	snprintf(want, sizeof want, "%llx-",
		 (unsigned long long)GUARD_PAGE_ADDR);
	strcpy(perms, "none");
	while (fgets(line, sizeof line, maps))
		if (strncmp(line, want, strlen(want)) == 0)
			sscanf(strchr(line, ' ') + 1, "%4s", perms);
	fclose(maps);
}

START_TEST(mapped_read_exec)
{
	char perms[5];

	page_perms(perms);
	ck_assert_str_eq(perms, "r-xp");
	ck_assert_int_eq(trampoline_map(), 0); /* again: still ours */
}
END_TEST

START_TEST(raw_results)
{
	ck_assert_int_eq(trampoline_syscall(SYS_getpid, 0, 0, 0, 0, 0, 0),
			 getpid());
	ck_assert_int_eq(trampoline_syscall(SYS_close, -1, 0, 0, 0, 0, 0),
			 -EBADF);
}
END_TEST

/* A sixth argument reaches the kernel (it travels on the stack). */
START_TEST(six_arguments)
{
	int sv[2];
	char got[4] = {0};
	struct sockaddr_in sin = {.sin_family = AF_INET};

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	/* A connected datagram socket ignores the address; a length that
	 * is too short would not be ignored by an unconnected one. */
	errno = 1234;
	ck_assert_int_eq(
	    trampoline_sendto(sv[0], "abc", 3, 0, NULL, sizeof sin), 3);
	ck_assert_int_eq(errno, 1234); /* untouched on success */
	ck_assert_int_eq(recv(sv[1], got, sizeof got, 0), 3);
	ck_assert_str_eq(got, "abc");
	close(sv[0]);
	close(sv[1]);
	/* On an unconnected UDP socket the length (argument 6) is checked. */
	sv[0] = socket(AF_INET, SOCK_DGRAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(9);
	ck_assert_int_eq(
	    trampoline_sendto(sv[0], "x", 1, 0, (struct sockaddr *)&sin, 3),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	close(sv[0]);
}
END_TEST

START_TEST(errno_convention)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct msghdr msg = {0};

	errno = 0;
	ck_assert_int_eq(
	    trampoline_connect(-1, (struct sockaddr *)&sin, sizeof sin), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(trampoline_sendmsg(-1, &msg, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(trampoline_sendmmsg(-1, NULL, 0, 0), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* A listening loopback TCP port. */
static int listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof *sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)sin, sizeof *sin), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

/* valgrind does not know seccomp(2) (ENOSYS): the one case where the
 * kernel test is skipped. */
#define CHILD_NO_SECCOMP 77

static int under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload && strstr(preload, "vgpreload") != NULL;
}

/* In the child: install the guard's filter, no listener. Returns 0 when
 * every expectation holds, else the number of the one that failed. */
static int child_under_filter(const struct sockaddr_in *sin)
{
	struct sock_filter insns[SUPERVISE_GUARD_FILTER_MAX];
	struct sock_fprog prog;
	long n = supervise_guard_build(insns, SUPERVISE_GUARD_FILTER_MAX,
				       AUDIT_ARCH_X86_64, GUARD_PAGE_ADDR);
	int fd;

	if (n < 0)
		return 1;
	prog.len = (unsigned short)n;
	prog.filter = insns;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return 2;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		return errno == ENOSYS ? CHILD_NO_SECCOMP : 2;
	if (!trampoline_filtered())
		return 3;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	/* libc's connect: notified, nobody listens: ENOSYS. */
	if (connect(fd, (const struct sockaddr *)sin, sizeof *sin) == 0 ||
	    errno != ENOSYS)
		return 4;
	if (syscall(SYS_io_uring_setup, 4, NULL) != -1 || errno != ENOSYS)
		return 5;
	/* The same connect through the page reaches the kernel. */
	if (trampoline_connect(fd, (const struct sockaddr *)sin, sizeof *sin) !=
	    0)
		return 6;
	/* And real_init() routes the library's calls through it. */
	real_init();
	if (real_guard_state() != REAL_GUARD_TRAMPOLINE ||
	    real.connect != trampoline_connect)
		return 7;
	return 0;
}

START_TEST(filter_tells_the_page_apart)
{
	struct sockaddr_in sin;
	int lfd = listener(&sin), status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_under_filter(&sin));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_NO_SECCOMP && under_valgrind())
		fprintf(stderr, "valgrind has no seccomp(2): kernel part "
				"skipped\n");
	else
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(lfd);
}
END_TEST

static Suite *trampoline_suite(void)
{
	Suite *s = suite_create("trampoline");
	TCase *tc = tcase_create("page");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, mapped_read_exec);
	tcase_add_test(tc, raw_results);
	tcase_add_test(tc, six_arguments);
	tcase_add_test(tc, errno_convention);
	tcase_add_test(tc, filter_tells_the_page_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(trampoline_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
