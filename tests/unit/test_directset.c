/* test_directset.c — addresses of direct names: remembered without their
 * port, the oldest forgotten when full, families kept apart, and many
 * threads adding and reading at once. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "directset.h"

static struct endpoint ip(const char *text, uint16_t port)
{
	struct endpoint e;

	ck_assert_int_eq(endpoint_parse_ip(&e, text), 0);
	e.port = port;
	return e;
}

START_TEST(add_and_find)
{
	struct endpoint a = ip("192.0.2.7", 80), b = ip("2001:db8::7", 443);
	struct endpoint name;

	directset_clear();
	ck_assert(!directset_contains(&a));
	directset_add(&a);
	directset_add(&b);
	a.port = 22;
	ck_assert(directset_contains(&a));
	ck_assert(directset_contains(&b));
	a = ip("192.0.2.8", 80);
	ck_assert(!directset_contains(&a));
	/* 192.0.2.7's bytes as an IPv6 address are another host. */
	b = ip("c000:207::", 1);
	ck_assert(!directset_contains(&b));
	ck_assert_int_eq(endpoint_set_name(&name, "x", 1, 80), 0);
	directset_add(&name);
	ck_assert(!directset_contains(&name));
}
END_TEST

START_TEST(oldest_forgotten)
{
	struct endpoint e = ip("10.0.0.0", 0);

	directset_clear();
	for (unsigned i = 0; i < DIRECTSET_SLOTS + 1; i++) {
		e.u.ipv4[2] = (uint8_t)(i >> 8);
		e.u.ipv4[3] = (uint8_t)i;
		directset_add(&e);
	}
	ck_assert(directset_contains(&e));
	e.u.ipv4[2] = 0;
	e.u.ipv4[3] = 0;
	ck_assert(!directset_contains(&e)); /* the first, overwritten */
	e.u.ipv4[3] = 1;
	ck_assert(directset_contains(&e));
}
END_TEST

/* Only the slots handed out so far are looked at: each address is found
 * as soon as it is added, before and after the table wraps around, and all
 * of the last DIRECTSET_SLOTS stay found. */
START_TEST(every_used_slot_seen)
{
	struct endpoint e = ip("10.2.0.0", 0);
	const unsigned n = DIRECTSET_SLOTS * 2 + 3;

	directset_clear();
	for (unsigned i = 0; i < n; i++) {
		e.u.ipv4[2] = (uint8_t)(i >> 8);
		e.u.ipv4[3] = (uint8_t)i;
		ck_assert(!directset_contains(&e));
		directset_add(&e);
		ck_assert(directset_contains(&e));
	}
	for (unsigned i = n - DIRECTSET_SLOTS; i < n; i++) {
		e.u.ipv4[2] = (uint8_t)(i >> 8);
		e.u.ipv4[3] = (uint8_t)i;
		ck_assert(directset_contains(&e));
	}
}
END_TEST

static void *adder(void *arg)
{
	struct endpoint e = ip("10.1.0.0", 0);
	unsigned base = (unsigned)(uintptr_t)arg;

	for (unsigned i = 0; i < 16; i++) {
		e.u.ipv4[2] = (uint8_t)base;
		e.u.ipv4[3] = (uint8_t)i;
		directset_add(&e);
		if (!directset_contains(&e))
			return (void *)1;
	}
	return NULL;
}

START_TEST(threads)
{
	pthread_t t[8];
	void *bad;

	directset_clear();
	for (uintptr_t i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, adder, (void *)i),
				 0);
	for (unsigned i = 0; i < 8; i++) {
		pthread_join(t[i], &bad);
		ck_assert_ptr_null(bad);
	}
}
END_TEST

static Suite *directset_suite(void)
{
	Suite *s = suite_create("directset");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, add_and_find);
	tcase_add_test(tc, oldest_forgotten);
	tcase_add_test(tc, every_used_slot_seen);
	tcase_add_test(tc, threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(directset_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
