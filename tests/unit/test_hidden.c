/* test_hidden.c — socksify's own descriptors: where they go (the floor
 * policy), their mark, and how they move when the program wants their
 * number. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdreg.h"
#include "fdtab.h"
#include "hidden.h"
#include "libc_hidden_io.h"

static unsigned long limit = 1024;
static int moves, last_from = -1, last_to = -1, refuse;

static unsigned long sys_limit(void)
{
	return limit;
}

static const struct hidden_io sys = {libc_dup_from, libc_close, sys_limit};

static int owner_moved(int from, int to)
{
	moves++;
	last_from = from;
	last_to = to;
	return refuse;
}

static const struct fdreg_subsystem owner = {.name = "owner",
					     .moved = owner_moved};
static int owner_id;

static void setup(void)
{
	if (!owner_id) {
		hidden_init(&sys);
		owner_id = fdreg_register(&owner);
	}
	limit = 1024;
	moves = 0;
	refuse = 0;
	last_from = last_to = -1;
}

static int new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(floor_is_half_the_limit_within_bounds)
{
	limit = 1024;
	ck_assert_int_eq(hidden_floor(), 512);
	limit = 300;
	ck_assert_int_eq(hidden_floor(), HIDDEN_FLOOR_MIN);
	limit = 200;
	ck_assert_int_eq(hidden_floor(), 199); /* below the limit */
	limit = 1u << 20;
	ck_assert_int_eq(hidden_floor(), HIDDEN_FLOOR_MAX);
	limit = 0; /* unknown or unlimited */
	ck_assert_int_eq(hidden_floor(), HIDDEN_FLOOR_MAX);
}
END_TEST

START_TEST(take_moves_up_and_marks)
{
	int fd = new_socket(), ours;
	struct fdtab_entry e;

	ours = hidden_take(fd, (unsigned)owner_id, NULL);
	ck_assert_int_ge(ours, 512);
	ck_assert_int_lt(fcntl(fd, F_GETFD), 0); /* the low number is free */
	ck_assert_int_eq(fcntl(ours, F_GETFD), FD_CLOEXEC);
	ck_assert_int_eq(fdtab_get(ours, &e), 0);
	ck_assert_uint_eq(e.flags, FDTAB_INTERNAL);
	ck_assert_uint_eq(e.owner_id, (unsigned)owner_id);
	ck_assert_int_eq(hidden_next(0, ~0u), ours);
	hidden_close(&ours);
	ck_assert_int_eq(ours, -1);
	ck_assert_int_eq(hidden_next(0, ~0u), -1);
	hidden_close(&ours); /* -1: nothing */
}
END_TEST

START_TEST(take_keeps_entry_fields)
{
	struct fdtab_entry in, out;
	int ours;

	memset(&in, 0, sizeof in);
	in.udp.owner = 7;
	in.udp.id = 42;
	ours = hidden_take(new_socket(), (unsigned)owner_id, &in);
	ck_assert_int_eq(fdtab_get(ours, &out), 0);
	ck_assert_uint_eq(out.flags, FDTAB_INTERNAL);
	ck_assert_int_eq(out.udp.owner, 7);
	ck_assert_uint_eq(out.udp.id, 42);
	hidden_close(&ours);
}
END_TEST

START_TEST(take_stays_put_when_already_high)
{
	int fd = fcntl(new_socket(), F_DUPFD, 600), ours;

	ck_assert_int_ge(fd, 600);
	ours = hidden_take(fd, (unsigned)owner_id, NULL);
	ck_assert_int_eq(ours, fd);
	hidden_close(&ours);
}
END_TEST

/* The old number stays open for the program's dup2, which replaces it
 * atomically; it is no longer ours. */
START_TEST(relocate_tells_owner_and_leaves_number_to_the_call)
{
	int ours = hidden_take(new_socket(), (unsigned)owner_id, NULL);
	struct fdtab_entry e;

	ck_assert_int_eq(hidden_relocate(ours), 1);
	ck_assert_int_eq(moves, 1);
	ck_assert_int_eq(last_from, ours);
	ck_assert_int_ne(last_to, ours);
	ck_assert_int_ge(fcntl(ours, F_GETFD), 0);
	ck_assert_uint_eq(fdtab_flags(ours), 0);
	ck_assert_int_eq(fdtab_get(last_to, &e), 0);
	ck_assert_uint_eq(e.owner_id, (unsigned)owner_id);
	close(ours); /* what the program's dup2 does to the number */
	hidden_close(&last_to);
}
END_TEST

START_TEST(relocate_of_program_fd_does_nothing)
{
	int fd = new_socket();

	ck_assert_int_eq(hidden_relocate(fd), 0);
	ck_assert_int_eq(moves, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), 0);
	close(fd);
}
END_TEST

START_TEST(relocate_refused_by_owner_drops_copy)
{
	int ours = hidden_take(new_socket(), (unsigned)owner_id, NULL);

	refuse = -ENOENT;
	ck_assert_int_eq(hidden_relocate(ours), 0);
	ck_assert_int_eq(moves, 1);
	ck_assert_int_lt(fcntl(last_to, F_GETFD), 0);
	ck_assert_uint_eq(fdtab_flags(last_to), 0);
	/* The owner is letting ours go: closing it stays the owner's job. */
	ck_assert_int_eq(hidden_next(0, ~0u), ours);
	hidden_close(&ours);
	ck_assert_int_eq(hidden_next(0, ~0u), -1);
}
END_TEST

/* An owner that cannot follow now (say its lock is held by the thread the
 * call interrupts): ours stays where it is, still marked, the copy goes,
 * and the error is the program's call's. */
START_TEST(relocate_busy_owner_keeps_ours_and_fails)
{
	int ours = hidden_take(new_socket(), (unsigned)owner_id, NULL);

	refuse = -EBUSY;
	ck_assert_int_eq(hidden_relocate(ours), -EBUSY);
	ck_assert_int_eq(moves, 1);
	ck_assert_int_lt(fcntl(last_to, F_GETFD), 0);
	ck_assert_uint_eq(fdtab_flags(last_to), 0);
	ck_assert_uint_eq(fdtab_flags(ours), FDTAB_INTERNAL);
	ck_assert_int_eq(hidden_next(0, ~0u), ours);
	hidden_close(&ours);
}
END_TEST

static Suite *hidden_suite(void)
{
	Suite *s = suite_create("hidden");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, floor_is_half_the_limit_within_bounds);
	tcase_add_test(tc, take_moves_up_and_marks);
	tcase_add_test(tc, take_keeps_entry_fields);
	tcase_add_test(tc, take_stays_put_when_already_high);
	tcase_add_test(tc, relocate_tells_owner_and_leaves_number_to_the_call);
	tcase_add_test(tc, relocate_of_program_fd_does_nothing);
	tcase_add_test(tc, relocate_refused_by_owner_drops_copy);
	tcase_add_test(tc, relocate_busy_owner_keeps_ours_and_fails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(hidden_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? 1 : 0;
}
