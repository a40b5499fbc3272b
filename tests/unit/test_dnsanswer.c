/* test_dnsanswer.c — the supervisor's DNS answers from the fake map: A and
 * AAAA (the same index in both ranges, numeric names as themselves), PTR
 * of a fake address, every other question refused with a reason, FORMERR
 * and NOTIMP, nothing for a response or a runt. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsanswer.h"
#include "dnsmsg.h"
#include "libc_io.h"

static struct netmask v4, v6;
static struct fakedns *table;
static struct dnsanswer_map map;

static void setup(void)
{
	ck_assert_int_eq(netmask_parse(&v4, "240.0.0.0/4"), 0);
	ck_assert_int_eq(netmask_parse(&v6, "fd5c:6f63:6b73::/48"), 0);
	ck_assert_int_eq(fakedns_attach(&libc_sys_io, &table, NULL, 64), 0);
	map = (struct dnsanswer_map){
	    .fake_ipv4 = &v4, .fake_ipv6 = &v6, .table = table, .ttl = 60};
}

static void teardown(void)
{
	fakedns_detach(table);
}

/* Ask name/type; returns the reply's length, rcode and answer count. */
static long ask(const char *name, uint16_t type, uint16_t class, uint8_t *reply,
		unsigned *rcode, unsigned *answers, const char **why)
{
	uint8_t query[300];
	long qlen =
	    dnsmsg_build_query(0x1234, name, type, class, query, sizeof query);
	long n;

	ck_assert_int_gt(qlen, 0);
	n = dnsanswer_reply(&map, query, (size_t)qlen, reply, 512, why);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(reply[0] << 8 | reply[1], 0x1234);
	ck_assert_int_eq(dnsmsg_reply_status(reply, (size_t)n, rcode, answers),
			 0);
	return n;
}

/* The last len bytes of a reply: the one answer's data. */
static const uint8_t *rdata(const uint8_t *reply, long n, size_t len)
{
	return reply + n - (long)len;
}

START_TEST(a_and_aaaa_share_an_index)
{
	uint8_t reply[512];
	unsigned rcode, answers;
	const char *why;
	static const uint8_t want4[] = {240, 0, 0, 1};
	static const uint8_t want6[] = {
	    0xfd, 0x5c, 0x6f, 0x63, 0x6b, 0x73, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	long n = ask("target.example", DNSMSG_TYPE_A, DNSMSG_CLASS_IN, reply,
		     &rcode, &answers, &why);

	ck_assert_uint_eq(rcode, DNSMSG_NOERROR);
	ck_assert_uint_eq(answers, 1);
	ck_assert_ptr_null(why);
	ck_assert_mem_eq(rdata(reply, n, 4), want4, 4);
	n = ask("TARGET.example.", DNSMSG_TYPE_AAAA, DNSMSG_CLASS_IN, reply,
		&rcode, &answers, &why);
	ck_assert_uint_eq(answers, 1);
	ck_assert_mem_eq(rdata(reply, n, 16), want6, 16);
	ck_assert_uint_eq(fakedns_count(table), 1);
}
END_TEST

START_TEST(numeric_names_are_themselves)
{
	uint8_t reply[512];
	unsigned rcode, answers;
	const char *why;
	static const uint8_t want[] = {192, 0, 2, 7};
	long n = ask("192.0.2.7", DNSMSG_TYPE_A, DNSMSG_CLASS_IN, reply, &rcode,
		     &answers, &why);

	ck_assert_uint_eq(answers, 1);
	ck_assert_mem_eq(rdata(reply, n, 4), want, 4);
	/* An IPv4 literal has no AAAA: NOERROR, no data. */
	ask("192.0.2.7", DNSMSG_TYPE_AAAA, DNSMSG_CLASS_IN, reply, &rcode,
	    &answers, &why);
	ck_assert_uint_eq(rcode, DNSMSG_NOERROR);
	ck_assert_uint_eq(answers, 0);
	ck_assert_uint_eq(fakedns_count(table), 0);
}
END_TEST

START_TEST(ptr_of_a_fake_address)
{
	uint8_t reply[512];
	unsigned rcode, answers;
	const char *why;

	ask("named.example", DNSMSG_TYPE_A, DNSMSG_CLASS_IN, reply, &rcode,
	    &answers, &why);
	ask("1.0.0.240.in-addr.arpa", DNSMSG_TYPE_PTR, DNSMSG_CLASS_IN, reply,
	    &rcode, &answers, &why);
	ck_assert_uint_eq(rcode, DNSMSG_NOERROR);
	ck_assert_uint_eq(answers, 1);
	ck_assert_ptr_null(why);
	/* A fake address without a name. */
	ask("9.0.0.240.in-addr.arpa", DNSMSG_TYPE_PTR, DNSMSG_CLASS_IN, reply,
	    &rcode, &answers, &why);
	ck_assert_uint_eq(rcode, DNSMSG_NXDOMAIN);
	ck_assert_ptr_null(why);
}
END_TEST

static const struct refused_case {
	const char *name;
	uint16_t type, class;
} refused_cases[] = {
    {"mail.example", DNSMSG_TYPE_MX, DNSMSG_CLASS_IN},
    {"mail.example", DNSMSG_TYPE_TXT, DNSMSG_CLASS_IN},
    {"_http._tcp.example", DNSMSG_TYPE_SRV, DNSMSG_CLASS_IN},
    {"7.2.0.192.in-addr.arpa", DNSMSG_TYPE_PTR, DNSMSG_CLASS_IN},
    {"chaos.example", DNSMSG_TYPE_A, 3},
    {"", DNSMSG_TYPE_A, DNSMSG_CLASS_IN},
};

START_TEST(others_refused)
{
	const struct refused_case *c = &refused_cases[_i];
	uint8_t reply[512];
	unsigned rcode, answers;
	const char *why;

	ask(c->name, c->type, c->class, reply, &rcode, &answers, &why);
	ck_assert_uint_eq(rcode, DNSMSG_REFUSED);
	ck_assert_uint_eq(answers, 0);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(fakedns_count(table), 0);
}
END_TEST

START_TEST(no_map_refused)
{
	uint8_t reply[512];
	unsigned rcode, answers;
	const char *why;

	map.table = NULL;
	ask("target.example", DNSMSG_TYPE_A, DNSMSG_CLASS_IN, reply, &rcode,
	    &answers, &why);
	ck_assert_uint_eq(rcode, DNSMSG_REFUSED);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(blocked_names)
{
	static const char text[] = "block ads.example\nroute .x via default\n";
	static struct config cfg;
	uint8_t reply[512];
	unsigned rcode, answers;
	const char *why;

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, text, strlen(text), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
	map.rules = &cfg;
	ask("ADS.example", DNSMSG_TYPE_A, DNSMSG_CLASS_IN, reply, &rcode,
	    &answers, &why);
	ck_assert_uint_eq(rcode, DNSMSG_NXDOMAIN);
	ck_assert_uint_eq(answers, 0);
	ask("www.x", DNSMSG_TYPE_A, DNSMSG_CLASS_IN, reply, &rcode, &answers,
	    &why);
	ck_assert_uint_eq(rcode, 0);
	ck_assert_uint_eq(answers, 1);
}
END_TEST

/* A name a direct rule covers is left to the real nameserver. */
START_TEST(direct_names_forwarded)
{
	static const char text[] = "direct .corp.example\n";
	static struct config cfg;
	uint8_t query[300], reply[512];
	const char *why;
	long qlen;

	config_defaults(&cfg);
	ck_assert_int_eq(config_parse(&cfg, text, strlen(text), "t.conf"), 0);
	ck_assert_int_eq(config_finish(&cfg), 0);
	map.rules = &cfg;
	qlen = dnsmsg_build_query(3, "www.corp.example", DNSMSG_TYPE_AAAA,
				  DNSMSG_CLASS_IN, query, sizeof query);
	ck_assert_int_gt(qlen, 0);
	ck_assert_int_eq(dnsanswer_reply(&map, query, (size_t)qlen, reply,
					 sizeof reply, &why),
			 DNSANSWER_FORWARD);
	qlen = dnsmsg_build_query(4, "www.other.example", DNSMSG_TYPE_A,
				  DNSMSG_CLASS_IN, query, sizeof query);
	ck_assert_int_gt(dnsanswer_reply(&map, query, (size_t)qlen, reply,
					 sizeof reply, &why),
			 0);
	map.rules = NULL;
}
END_TEST

START_TEST(malformed_and_other_opcodes)
{
	uint8_t query[300], reply[512];
	unsigned rcode, answers;
	const char *why;
	long qlen = dnsmsg_build_query(9, "a.example", DNSMSG_TYPE_A,
				       DNSMSG_CLASS_IN, query, sizeof query);
	long n;

	/* Cut inside the question: FORMERR. */
	n = dnsanswer_reply(&map, query, (size_t)qlen - 3, reply, sizeof reply,
			    &why);
	ck_assert_int_gt(n, 0);
	dnsmsg_reply_status(reply, (size_t)n, &rcode, &answers);
	ck_assert_uint_eq(rcode, DNSMSG_FORMERR);
	/* Opcode 2 (STATUS): NOTIMP. */
	query[2] = (uint8_t)((query[2] & 0x87) | (2 << 3));
	n = dnsanswer_reply(&map, query, (size_t)qlen, reply, sizeof reply,
			    &why);
	ck_assert_int_gt(n, 0);
	dnsmsg_reply_status(reply, (size_t)n, &rcode, &answers);
	ck_assert_uint_eq(rcode, DNSMSG_NOTIMP);
	/* A response, or a runt: nothing to answer. */
	query[2] = 0x80;
	ck_assert_int_eq(dnsanswer_reply(&map, query, (size_t)qlen, reply,
					 sizeof reply, &why),
			 -EPROTO);
	ck_assert_int_eq(
	    dnsanswer_reply(&map, query, 5, reply, sizeof reply, &why),
	    -EPROTO);
	ck_assert_uint_eq(fakedns_count(table), 0);
}
END_TEST

static Suite *dnsanswer_suite(void)
{
	Suite *s = suite_create("dnsanswer");
	TCase *tc = tcase_create("dnsanswer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_and_aaaa_share_an_index);
	tcase_add_test(tc, numeric_names_are_themselves);
	tcase_add_test(tc, ptr_of_a_fake_address);
	tcase_add_loop_test(tc, others_refused, 0,
			    sizeof refused_cases / sizeof refused_cases[0]);
	tcase_add_test(tc, no_map_refused);
	tcase_add_test(tc, blocked_names);
	tcase_add_test(tc, direct_names_forwarded);
	tcase_add_test(tc, malformed_and_other_opcodes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(dnsanswer_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
