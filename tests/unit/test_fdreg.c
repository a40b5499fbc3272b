/* test_fdreg.c — the descriptor registry: which subsystem hears what, in
 * which order, what close() of a hidden descriptor says, and the fork and
 * vfork rules. */
#include <check.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdreg.h"
#include "fdtab.h"
#include "hidden.h"
#include "libc_hidden_io.h"

/* What the two test subsystems heard, as "a:close 5;b:close 5;". */
static char heard[1024];
static bool a_active;

static void hear(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hear(const char *fmt, ...)
{
	size_t used = strlen(heard);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(heard + used, sizeof heard - used, fmt, ap);
	va_end(ap);
}

static bool a_is_active(void)
{
	return a_active;
}

static void a_closing(int fd, uint32_t flags)
{
	hear("a:close %d/%u;", fd, flags);
}

static void b_closing(int fd, uint32_t flags)
{
	hear("b:close %d/%u;", fd, flags);
}

static void a_range(unsigned lo, unsigned hi)
{
	hear("a:range %u-%u;", lo, hi);
}

static void a_replacing(int from, int to, uint32_t flags)
{
	hear("a:replace %d>%d/%u;", from, to, flags);
}

static void a_copied(int from, int to)
{
	hear("a:copy %d>%d;", from, to);
}

static int moved_to = -1;

static int b_moved(int from, int to)
{
	hear("b:moved %d;", from);
	moved_to = to;
	return 0;
}

static void a_prepare(void)
{
	hear("a:prepare;");
}
static void a_parent(void)
{
	hear("a:parent;");
}
static void a_child(void)
{
	hear("a:child;");
}
static void b_prepare(void)
{
	hear("b:prepare;");
}
static void b_parent(void)
{
	hear("b:parent;");
}
static void b_child(void)
{
	hear("b:child;");
}

static const struct fdreg_subsystem sub_a = {
    .name = "a",
    .active = a_is_active,
    .closing = a_closing,
    .closing_range = a_range,
    .replacing = a_replacing,
    .copied = a_copied,
    .fork_prepare = a_prepare,
    .fork_parent = a_parent,
    .fork_child = a_child,
};

static const struct fdreg_subsystem sub_b = {
    .name = "b",
    .closing = b_closing,
    .moved = b_moved,
    .fork_prepare = b_prepare,
    .fork_parent = b_parent,
    .fork_child = b_child,
};

static int id_a, id_b;

static unsigned long sys_limit(void)
{
	return 1024;
}

static const struct hidden_io sys = {libc_dup_from, libc_close, sys_limit};

/* Register once per process (CK_FORK=no runs every test in one). */
static void setup(void)
{
	if (!id_a) {
		hidden_init(&sys);
		id_a = fdreg_register(&sub_a);
		id_b = fdreg_register(&sub_b);
	}
	heard[0] = '\0';
	a_active = false;
}

static int new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static void mark(int fd, uint32_t flags)
{
	struct fdtab_entry e;

	memset(&e, 0, sizeof e);
	e.flags = flags;
	ck_assert_int_eq(fdtab_set(fd, &e), 0);
}

START_TEST(register_gives_owner_ids)
{
	ck_assert_int_eq(id_a, 1);
	ck_assert_int_eq(id_b, 2);
	ck_assert_ptr_eq(fdreg_owner(1), &sub_a);
	ck_assert_ptr_eq(fdreg_owner(2), &sub_b);
	ck_assert_ptr_null(fdreg_owner(0));
	ck_assert_ptr_null(fdreg_owner(3));
	ck_assert(!fdreg_in_vfork_child());
}
END_TEST

START_TEST(close_of_untracked_fd_tells_nobody)
{
	int fd = new_socket();

	ck_assert_int_eq(fdreg_close(fd), 0);
	ck_assert_str_eq(heard, "");
	close(fd);
}
END_TEST

START_TEST(close_tells_everyone_in_order_then_forgets)
{
	int fd = new_socket();
	char want[64];

	mark(fd, FDTAB_PROXIED);
	ck_assert_int_eq(fdreg_close(fd), 0);
	snprintf(want, sizeof want, "a:close %d/%u;b:close %d/%u;", fd,
		 FDTAB_PROXIED, fd, FDTAB_PROXIED);
	ck_assert_str_eq(heard, want);
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	close(fd);
}
END_TEST

START_TEST(active_subsystem_hears_untracked_close)
{
	int fd = new_socket();
	char want[64];

	a_active = true;
	ck_assert_int_eq(fdreg_close(fd), 0);
	snprintf(want, sizeof want, "a:close %d/0;b:close %d/0;", fd, fd);
	ck_assert_str_eq(heard, want);
	close(fd);
}
END_TEST

START_TEST(close_of_hidden_fd_is_ebadf)
{
	int fd = new_socket();

	mark(fd, FDTAB_INTERNAL);
	ck_assert_int_eq(fdreg_close(fd), -EBADF);
	ck_assert_str_eq(heard, "");
	ck_assert_uint_eq(fdtab_flags(fd), FDTAB_INTERNAL);
	fdtab_clear(fd);
	close(fd);
}
END_TEST

START_TEST(close_range_tells_range_callbacks)
{
	int fd = new_socket();

	ck_assert(!fdreg_close_range(10, 9));
	/* Nothing of ours there: the plain call will do. */
	ck_assert(!fdreg_close_range(5000, 6000));
	ck_assert_str_eq(heard, "");
	mark(fd, FDTAB_PROXIED);
	ck_assert(fdreg_close_range((unsigned)fd, (unsigned)fd + 1));
	ck_assert_int_eq(strncmp(heard, "a:range ", 8), 0);
	fdtab_clear(fd);
	close(fd);
}
END_TEST

START_TEST(replacing_uses_replacing_or_closing)
{
	int from = new_socket(), to = new_socket();
	char want[96];

	ck_assert_int_eq(fdreg_replacing(from, to), 0);
	ck_assert_str_eq(heard, ""); /* to has no state */
	mark(to, FDTAB_PROXIED);
	fdreg_replacing(to, to);
	ck_assert_str_eq(heard, ""); /* dup2(fd, fd) */
	fdreg_replacing(from, to);
	snprintf(want, sizeof want, "a:replace %d>%d/%u;b:close %d/%u;", from,
		 to, FDTAB_PROXIED, to, FDTAB_PROXIED);
	ck_assert_str_eq(heard, want);
	fdtab_clear(to);
	close(from);
	close(to);
}
END_TEST

START_TEST(replacing_a_hidden_fd_moves_it_to_its_owner)
{
	int from = new_socket(), ours = new_socket();
	char want[32];

	ours = hidden_take(ours, (unsigned)id_b, NULL);
	ck_assert_int_eq(fdreg_replacing(from, ours), 1);
	snprintf(want, sizeof want, "b:moved %d;", ours);
	ck_assert_str_eq(heard, want);
	ck_assert_int_ne(moved_to, ours);
	ck_assert_uint_eq(fdtab_flags(moved_to), FDTAB_INTERNAL);
	ck_assert_uint_eq(fdtab_flags(ours), 0);
	/* The number stays open for the program's dup2 to replace. */
	ck_assert_int_ge(fcntl(ours, F_GETFD), 0);
	ck_assert_int_eq(dup2(from, ours), ours);
	close(ours);
	hidden_close(&moved_to);
	close(from);
}
END_TEST

START_TEST(copied_tells_and_copies_entry)
{
	int from = new_socket(), to;
	struct fdtab_entry e;
	char want[32];

	to = dup(from);
	fdreg_copied(from, to);
	ck_assert_str_eq(heard, ""); /* nothing known about either */
	mark(from, FDTAB_PROXIED);
	fdreg_copied(from, to);
	snprintf(want, sizeof want, "a:copy %d>%d;", from, to);
	ck_assert_str_eq(heard, want);
	ck_assert_int_eq(fdtab_get(to, &e), 0);
	ck_assert_uint_eq(e.flags, FDTAB_PROXIED);
	fdtab_clear(from);
	fdtab_clear(to);
	close(from);
	close(to);
}
END_TEST

START_TEST(fresh_forgets_stale_entry)
{
	int fd = new_socket();

	mark(fd, FDTAB_PROXIED);
	ck_assert_int_eq(fdreg_fresh(fd), fd);
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	ck_assert_int_eq(fdreg_fresh(-1), -1);
	close(fd);
}
END_TEST

START_TEST(fork_handlers_follow_lock_order)
{
	fdreg_fork_prepare();
	fdreg_fork_parent();
	ck_assert_str_eq(heard, "a:prepare;b:prepare;b:parent;a:parent;");
	heard[0] = '\0';
	fdreg_fork_child();
	ck_assert_str_eq(heard, "b:child;a:child;");
}
END_TEST

/* Once a child sharing memory may have been made, a child that ran no
 * fork handler (as after vfork) is seen as one, and the registry leaves the
 * parent's state alone there. */
START_TEST(child_without_handlers_is_hands_off)
{
	int fd = new_socket(), status;
	pid_t pid;

	mark(fd, FDTAB_INTERNAL);
	fdreg_note_vm_shared();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int bad = 0;

		bad |= !fdreg_in_vfork_child();
		bad |= fdreg_close(fd) != 0; /* hands off: the real close */
		bad |= strcmp(heard, "") != 0;
		fdreg_fork_child();
		bad |= fdreg_in_vfork_child();
		bad |= fdreg_close(fd) != -EBADF;
		_exit(bad);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	fdtab_clear(fd);
	close(fd);
}
END_TEST

/* While no child sharing memory was made, nothing is taken for a vfork
 * child: a child made without the fork handlers (a raw clone without
 * CLONE_VM) has memory of its own and keeps its own table. */
START_TEST(no_shared_memory_no_vfork_question)
{
	int fd = new_socket(), status;
	pid_t pid;

	atomic_store(&fdreg_vm_shared, false);
	mark(fd, FDTAB_PROXIED | FDTAB_SOCK_TCP);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int bad = 0;

		bad |= fdreg_in_vfork_child();
		bad |= fdreg_close(fd) != 0;
		bad |= fdtab_flags(fd) != 0; /* its own copy, forgotten */
		_exit(bad);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_uint_eq(fdtab_flags(fd), FDTAB_PROXIED | FDTAB_SOCK_TCP);
	fdreg_note_vm_shared();
	ck_assert(atomic_load(&fdreg_vm_shared));
	ck_assert(!fdreg_in_vfork_child());
	fdtab_clear(fd);
	close(fd);
}
END_TEST

/* An entry holding only socket()'s facts is forgotten on close with no
 * subsystem told (none is active) and no vfork question: in a child that
 * ran no handler too, where a proxied entry stays the parent's. With a
 * subsystem active, the facts-only close is told as any other. */
START_TEST(facts_only_close_just_forgets)
{
	int fd = new_socket(), other = new_socket(), status;
	char want[64];
	pid_t pid;

	mark(fd, FDTAB_SOCK_TCP | FDTAB_SOCK_NONBLOCK);
	ck_assert_int_eq(fdreg_close(fd), 0);
	ck_assert_str_eq(heard, "");
	ck_assert_uint_eq(fdtab_flags(fd), 0);

	mark(fd, FDTAB_SOCK_TCP);
	mark(other, FDTAB_PROXIED | FDTAB_SOCK_TCP);
	fdreg_note_vm_shared();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int bad = 0;

		bad |= !fdreg_in_vfork_child();
		bad |= fdreg_close(fd) != 0;
		bad |= fdtab_flags(fd) != 0;
		bad |= fdreg_close(other) != 0;
		bad |= fdtab_flags(other) != (FDTAB_PROXIED | FDTAB_SOCK_TCP);
		bad |= strcmp(heard, "") != 0;
		_exit(bad);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	mark(fd, FDTAB_SOCK_UDP);
	a_active = true;
	ck_assert_int_eq(fdreg_close(fd), 0);
	snprintf(want, sizeof want, "a:close %d/%u;b:close %d/%u;", fd,
		 (unsigned)FDTAB_SOCK_UDP, fd, (unsigned)FDTAB_SOCK_UDP);
	ck_assert_str_eq(heard, want);
	ck_assert_uint_eq(fdtab_flags(fd), 0);
	fdtab_clear(other);
	close(fd);
	close(other);
}
END_TEST

static Suite *fdreg_suite(void)
{
	Suite *s = suite_create("fdreg");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, register_gives_owner_ids);
	tcase_add_test(tc, close_of_untracked_fd_tells_nobody);
	tcase_add_test(tc, close_tells_everyone_in_order_then_forgets);
	tcase_add_test(tc, active_subsystem_hears_untracked_close);
	tcase_add_test(tc, close_of_hidden_fd_is_ebadf);
	tcase_add_test(tc, close_range_tells_range_callbacks);
	tcase_add_test(tc, replacing_uses_replacing_or_closing);
	tcase_add_test(tc, replacing_a_hidden_fd_moves_it_to_its_owner);
	tcase_add_test(tc, copied_tells_and_copies_entry);
	tcase_add_test(tc, fresh_forgets_stale_entry);
	tcase_add_test(tc, fork_handlers_follow_lock_order);
	tcase_add_test(tc, child_without_handlers_is_hands_off);
	tcase_add_test(tc, no_shared_memory_no_vfork_question);
	tcase_add_test(tc, facts_only_close_just_forgets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(fdreg_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? 1 : 0;
}
