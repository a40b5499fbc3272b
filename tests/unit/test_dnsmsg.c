/* test_dnsmsg.c — DNS query parsing (good, truncated, malformed, pointer
 * loops, oversize names, QDCOUNT != 1), reply building (A, AAAA, PTR,
 * rcodes, -ENOSPC) and reverse names, mostly as tables. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

#define PKT_MAX 600

/* A query header: ID 0x1234, RD, QDCOUNT 1. */
#define HDR  0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0, 0
#define A_IN 0x00, 0x01, 0x00, 0x01

struct parse_case {
	const char *what;
	uint8_t pkt[80];
	size_t len;
	long expect; /* return value */
	const char *name;
	uint16_t qtype;
};

static const struct parse_case parse_cases[] = {
    {"plain A", {HDR, 3, 'w', 'w', 'w', 1, 'x', 0, A_IN}, 23, 23, "www.x", 1},
    {"root", {HDR, 0, 0x00, 0x02, 0x00, 0x01}, 17, 17, "", 2},
    {"EDNS record after the question ignored",
     {HDR, 1, 'a', 0, A_IN, 0, 0x00, 0x29, 0x10, 0, 0, 0, 0, 0, 0, 0},
     30,
     19,
     "a",
     1},
    {"short header", {HDR}, 11, -EPROTO, "", 0},
    {"a response",
     {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, A_IN},
     17,
     -EPROTO,
     "",
     0},
    {"opcode STATUS",
     {0, 1, 0x10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, A_IN},
     17,
     -EOPNOTSUPP,
     "",
     0},
    {"QDCOUNT 0", {0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, -EBADMSG, "", 0},
    {"QDCOUNT 2",
     {0, 1, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, A_IN, 0, A_IN},
     22,
     -EBADMSG,
     "",
     0},
    {"no question bytes", {HDR}, 12, -EBADMSG, "", 0},
    {"label runs past the end", {HDR, 5, 'a', 'b'}, 15, -EBADMSG, "", 0},
    {"no terminating label", {HDR, 1, 'a'}, 14, -EBADMSG, "", 0},
    {"QTYPE cut short", {HDR, 1, 'a', 0, 0x00}, 16, -EBADMSG, "", 0},
    {"QCLASS cut short", {HDR, 1, 'a', 0, 0, 1, 0}, 18, -EBADMSG, "", 0},
    {"pointer to itself", {HDR, 0xC0, 12, A_IN}, 18, -EBADMSG, "", 0},
    {"pointer forwards", {HDR, 0xC0, 14, 0, A_IN}, 19, -EBADMSG, "", 0},
    {"pointer loop through a label",
     {HDR, 1, 'a', 0xC0, 12, A_IN},
     20,
     -EBADMSG,
     "",
     0},
    {"pointer cut short", {HDR, 0xC0}, 13, -EBADMSG, "", 0},
    {"pointer into the header (backwards, a 0 byte there)",
     {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 11, A_IN},
     18,
     18,
     "",
     1},
    {"reserved label type 0x40",
     {HDR, 0x41, 'a', 0, A_IN},
     19,
     -EBADMSG,
     "",
     0},
    {"label with a dot", {HDR, 3, 'a', '.', 'b', 0, A_IN}, 21, -EBADMSG, "", 0},
    {"label with a space", {HDR, 1, ' ', 0, A_IN}, 19, -EBADMSG, "", 0},
    {"underscore is fine",
     {HDR, 5, '_', 's', 'i', 'p', 'x', 0, 0, 33, 0, 1},
     23,
     23,
     "_sipx",
     33},
};

START_TEST(parse_table)
{
	const struct parse_case *c = &parse_cases[_i];
	struct dnsmsg_query q;
	long rc = dnsmsg_parse_query(c->pkt, c->len, &q);

	ck_assert_msg(rc == c->expect, "%s: got %ld want %ld", c->what, rc,
		      c->expect);
	ck_assert_msg(strcmp(q.name, c->name) == 0, "%s: name '%s'", c->what,
		      q.name);
	if (rc > 0) {
		ck_assert_uint_eq(q.qtype, c->qtype);
		ck_assert_uint_eq(q.id, (c->pkt[0] << 8) | c->pkt[1]);
	}
	if (rc == -EBADMSG || rc == -EOPNOTSUPP)
		ck_assert_uint_eq(q.id, (c->pkt[0] << 8) | c->pkt[1]);
}
END_TEST

/* Every prefix of a good query is refused, never read past. */
START_TEST(parse_every_truncation)
{
	uint8_t pkt[PKT_MAX];
	struct dnsmsg_query q;
	long len =
	    dnsmsg_build_query(7, "a.example.org", 28, 1, pkt, sizeof pkt);
	long i;

	ck_assert_int_gt(len, 0);
	for (i = 0; i < len; i++) {
		uint8_t *copy = malloc((size_t)i + 1); /* exact size for ASan */

		memcpy(copy, pkt, (size_t)i);
		ck_assert_int_lt(dnsmsg_parse_query(copy, (size_t)i, &q), 0);
		free(copy);
	}
	ck_assert_int_eq(dnsmsg_parse_query(pkt, (size_t)len, &q), len);
	ck_assert_str_eq(q.name, "a.example.org");
}
END_TEST

/* Names at and over 255 wire bytes (and labels at and over 63). */
START_TEST(parse_oversize_names)
{
	uint8_t pkt[PKT_MAX] = {HDR};
	struct dnsmsg_query q;
	size_t pos = DNSMSG_HEADER_LEN;
	int i;

	/* 4 labels of 62 + 1 of 1: 4*63 + 2 + 1 = 255 wire bytes: accepted */
	for (i = 0; i < 4; i++) {
		pkt[pos++] = 62;
		memset(pkt + pos, 'a', 62);
		pos += 62;
	}
	pkt[pos++] = 1;
	pkt[pos++] = 'b';
	pkt[pos++] = 0;
	memcpy(pkt + pos, (uint8_t[]){A_IN}, 4);
	ck_assert_int_eq(dnsmsg_parse_query(pkt, pos + 4, &q), (long)pos + 4);
	ck_assert_uint_eq(q.name_len, 253);
	/* one byte longer: 256 */
	pkt[pos - 3] = 2;
	pkt[pos - 1] = 'c';
	pkt[pos] = 0;
	memcpy(pkt + pos + 1, (uint8_t[]){A_IN}, 4);
	ck_assert_int_eq(dnsmsg_parse_query(pkt, pos + 5, &q), -EBADMSG);
	/* a 64-byte label is a reserved type (0x40) */
	pkt[DNSMSG_HEADER_LEN] = 64;
	ck_assert_int_eq(dnsmsg_parse_query(pkt, pos + 5, &q), -EBADMSG);
}
END_TEST

struct build_query_case {
	const char *name;
	size_t cap;
	long expect;
};

static const struct build_query_case build_query_cases[] = {
    {"example.org", PKT_MAX, 12 + 13 + 4},
    {"example.org.", PKT_MAX, 12 + 13 + 4},
    {"", PKT_MAX, 12 + 1 + 4},
    {".", PKT_MAX, 12 + 1 + 4},
    {"example.org", 28, -ENOSPC},
    {"example.org", 5, -ENOSPC},
    {"a..b", PKT_MAX, -EINVAL},
    {".a", PKT_MAX, -EINVAL},
    {"a b", PKT_MAX, -EINVAL},
    {"a.b..", PKT_MAX, -EINVAL},
    {"0123456789012345678901234567890123456789012345678901234567890123.x",
     PKT_MAX, -EINVAL},
};

START_TEST(build_query_table)
{
	const struct build_query_case *c = &build_query_cases[_i];
	uint8_t pkt[PKT_MAX];
	struct dnsmsg_query q;
	long rc = dnsmsg_build_query(9, c->name, 1, 1, pkt, c->cap);

	ck_assert_msg(rc == c->expect, "'%s' cap %zu: %ld", c->name, c->cap,
		      rc);
	if (rc > 0) {
		ck_assert_int_eq(dnsmsg_parse_query(pkt, (size_t)rc, &q), rc);
		ck_assert_uint_eq(q.id, 9);
		ck_assert(q.rd);
	}
}
END_TEST

/* Parse a reply's first answer: returns its rdata offset and checks the
 * header and the pointer to the question. */
static size_t check_reply(const uint8_t *r, long len, uint16_t id,
			  unsigned rcode, unsigned answers, size_t qlen)
{
	ck_assert_int_ge(len, 12);
	ck_assert_uint_eq((r[0] << 8) | r[1], id);
	ck_assert_uint_eq(r[2] & 0x80, 0x80); /* QR */
	ck_assert_uint_eq(r[2] & 0x01, 0x01); /* RD copied */
	ck_assert_uint_eq(r[3] & 0x80, 0x80); /* RA */
	ck_assert_uint_eq(r[3] & 0x0f, rcode);
	ck_assert_uint_eq((r[6] << 8) | r[7], answers);
	ck_assert_uint_eq((r[8] << 8) | r[9], 0);
	ck_assert_uint_eq((r[10] << 8) | r[11], 0);
	if (answers) {
		ck_assert_uint_eq(r[12 + qlen], 0xC0);
		ck_assert_uint_eq(r[12 + qlen + 1], 12);
	}
	return 12 + qlen + 12;
}

static void parse_built(struct dnsmsg_query *q, const char *name, uint16_t type)
{
	uint8_t pkt[PKT_MAX];
	long n = dnsmsg_build_query(0xbeef, name, type, 1, pkt, sizeof pkt);

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(dnsmsg_parse_query(pkt, (size_t)n, q), n);
}

START_TEST(build_addresses)
{
	struct endpoint addrs[3] = {
	    {.kind = ENDPOINT_IPV4, .u.ipv4 = {240, 0, 0, 2}},
	    {.kind = ENDPOINT_IPV6, .u.ipv6 = {0xfd, 0x5c, [15] = 2}},
	    {.kind = ENDPOINT_IPV4, .u.ipv4 = {240, 0, 0, 3}},
	};
	struct dnsmsg_query q;
	uint8_t r[PKT_MAX];
	unsigned rcode, answers;
	size_t at;
	long n;

	parse_built(&q, "Host.Example", DNSMSG_TYPE_A);
	n = dnsmsg_build_addresses(&q, addrs, 3, 60, r, sizeof r);
	ck_assert_int_eq(n, (long)(12 + q.question_len + 2 * 16));
	at = check_reply(r, n, 0xbeef, 0, 2, q.question_len);
	ck_assert_mem_eq(r + 12, q.question, q.question_len);
	ck_assert_mem_eq(r + at - 10,
			 ((uint8_t[]){0, 1, 0, 1, 0, 0, 0, 60, 0, 4}), 10);
	ck_assert_mem_eq(r + at, addrs[0].u.ipv4, 4);
	ck_assert_mem_eq(r + at + 16, addrs[2].u.ipv4, 4);
	ck_assert_int_eq(dnsmsg_reply_status(r, (size_t)n, &rcode, &answers),
			 0);
	ck_assert_uint_eq(answers, 2);
	/* a capacity for one record keeps one */
	ck_assert_int_eq(
	    dnsmsg_build_addresses(&q, addrs, 3, 60, r, (size_t)n - 1), n - 16);
	ck_assert_uint_eq(r[7], 1);
	/* not even the question */
	ck_assert_int_eq(dnsmsg_build_addresses(&q, addrs, 3, 60, r, 20),
			 -ENOSPC);
	/* AAAA takes the IPv6 one */
	parse_built(&q, "h", DNSMSG_TYPE_AAAA);
	n = dnsmsg_build_addresses(&q, addrs, 3, 5, r, sizeof r);
	at = check_reply(r, n, 0xbeef, 0, 1, q.question_len);
	ck_assert_uint_eq(r[at - 1], 16);
	ck_assert_mem_eq(r + at, addrs[1].u.ipv6, 16);
	/* none of the family: NOERROR, no data */
	n = dnsmsg_build_addresses(&q, addrs, 1, 5, r, sizeof r);
	check_reply(r, n, 0xbeef, 0, 0, q.question_len);
	ck_assert_int_eq(n, (long)(12 + q.question_len));
}
END_TEST

START_TEST(build_ptr)
{
	struct dnsmsg_query q;
	uint8_t r[PKT_MAX];
	size_t at;
	long n;

	parse_built(&q, "2.0.0.240.in-addr.arpa", DNSMSG_TYPE_PTR);
	n = dnsmsg_build_ptr(&q, "host.example.", 60, r, sizeof r);
	at = check_reply(r, n, 0xbeef, 0, 1, q.question_len);
	ck_assert_uint_eq(r[at - 1], 14);
	ck_assert_mem_eq(r + at, "\4host\7example\0", 14);
	ck_assert_int_eq(n, (long)at + 14);
	ck_assert_int_eq(
	    dnsmsg_build_ptr(&q, "host.example", 60, r, (size_t)n - 1),
	    -ENOSPC);
	ck_assert_int_eq(dnsmsg_build_ptr(&q, "a..b", 60, r, sizeof r),
			 -EINVAL);
}
END_TEST

static const enum dnsmsg_rcode rcodes[] = {
    DNSMSG_NOERROR,  DNSMSG_FORMERR, DNSMSG_SERVFAIL,
    DNSMSG_NXDOMAIN, DNSMSG_NOTIMP,  DNSMSG_REFUSED,
};

START_TEST(build_error_table)
{
	struct dnsmsg_query q;
	uint8_t r[PKT_MAX];
	long n;

	parse_built(&q, "_http._tcp.example", DNSMSG_TYPE_SRV);
	n = dnsmsg_build_error(&q, rcodes[_i], r, sizeof r);
	ck_assert_int_eq(n, (long)(12 + q.question_len));
	check_reply(r, n, 0xbeef, rcodes[_i], 0, q.question_len);
	ck_assert_uint_eq((r[4] << 8) | r[5], 1);
	ck_assert_int_eq(dnsmsg_build_error(&q, rcodes[_i], r, (size_t)n - 1),
			 -ENOSPC);
}
END_TEST

/* FORMERR for a malformed query and NOTIMP for another opcode carry no
 * question, and keep the ID and the opcode. */
START_TEST(build_error_without_question)
{
	const uint8_t status[] = {0xab, 0xcd, 0x11, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	const uint8_t loop[] = {HDR, 0xC0, 12, A_IN};
	struct dnsmsg_query q;
	uint8_t r[PKT_MAX];
	long n;

	ck_assert_int_eq(dnsmsg_parse_query(status, sizeof status, &q),
			 -EOPNOTSUPP);
	n = dnsmsg_build_error(&q, DNSMSG_NOTIMP, r, sizeof r);
	ck_assert_int_eq(n, 12);
	ck_assert_uint_eq(r[2], 0x80 | 0x10 | 0x01);
	ck_assert_uint_eq(r[3], 0x80 | DNSMSG_NOTIMP);
	ck_assert_uint_eq((r[4] << 8) | r[5], 0);
	ck_assert_int_eq(dnsmsg_parse_query(loop, sizeof loop, &q), -EBADMSG);
	n = dnsmsg_build_error(&q, DNSMSG_FORMERR, r, sizeof r);
	ck_assert_int_eq(n, 12);
	ck_assert_uint_eq((r[0] << 8) | r[1], 0x1234);
	ck_assert_uint_eq(r[3] & 0x0f, DNSMSG_FORMERR);
}
END_TEST

struct reverse_case {
	const char *name;
	int expect;
	enum endpoint_kind kind;
	uint8_t addr[16];
};

#define V6_NIBBLES                                                             \
	"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.f."
static const struct reverse_case reverse_cases[] = {
    {"4.3.2.1.in-addr.arpa", 0, ENDPOINT_IPV4, {1, 2, 3, 4}},
    {"255.0.0.240.IN-ADDR.ARPA.", 0, ENDPOINT_IPV4, {240, 0, 0, 255}},
    {V6_NIBBLES "ip6.arpa", 0, ENDPOINT_IPV6, {0xf8, [15] = 1}},
    {V6_NIBBLES "IP6.ARPA.", 0, ENDPOINT_IPV6, {0xf8, [15] = 1}},
    {"3.2.1.in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"5.4.3.2.1.in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"256.0.0.1.in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"01.0.0.1.in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"a.0.0.1.in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {".0.0.1.in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"in-addr.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"0.8.f.ip6.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"g" V6_NIBBLES "ip6.arpa", -EINVAL, ENDPOINT_NONE, {0}},
    {"example.org", -EINVAL, ENDPOINT_NONE, {0}},
    {"", -EINVAL, ENDPOINT_NONE, {0}},
};

START_TEST(reverse_table)
{
	const struct reverse_case *c = &reverse_cases[_i];
	struct endpoint ep;
	char back[80];
	int rc = dnsmsg_reverse_to_addr(c->name, strlen(c->name), &ep);

	ck_assert_msg(rc == c->expect, "%s: %d", c->name, rc);
	if (rc < 0)
		return;
	ck_assert_int_eq(ep.kind, c->kind);
	ck_assert_mem_eq(ep.u.ipv6, c->addr, c->kind == ENDPOINT_IPV4 ? 4 : 16);
	/* and back: the canonical lowercase form, no trailing dot */
	ck_assert_int_gt(dnsmsg_addr_to_reverse(&ep, back, sizeof back), 0);
	ck_assert_int_eq(strncasecmp(back, c->name, strlen(back)), 0);
}
END_TEST

START_TEST(addr_to_reverse_limits)
{
	struct endpoint v4 = {.kind = ENDPOINT_IPV4, .u.ipv4 = {10, 0, 200, 7}};
	struct endpoint v6 = {.kind = ENDPOINT_IPV6, .u.ipv6 = {0xab, 0xcd}};
	struct endpoint name = {.kind = ENDPOINT_NAME};
	char buf[80];

	ck_assert_int_eq(dnsmsg_addr_to_reverse(&v4, buf, sizeof buf), 23);
	ck_assert_str_eq(buf, "7.200.0.10.in-addr.arpa");
	ck_assert_int_eq(dnsmsg_addr_to_reverse(&v4, buf, 23), -ENOSPC);
	ck_assert_int_eq(dnsmsg_addr_to_reverse(&v6, buf, sizeof buf), 72);
	ck_assert_str_eq(buf + 56, "d.c.b.a.ip6.arpa");
	ck_assert_int_eq(dnsmsg_addr_to_reverse(&name, buf, sizeof buf),
			 -EINVAL);
}
END_TEST

START_TEST(reply_status)
{
	const uint8_t reply[] = {0, 1, 0x81, 0x83, 0, 1, 0, 2, 0, 0, 0, 0};
	unsigned rcode, answers;

	ck_assert_int_eq(
	    dnsmsg_reply_status(reply, sizeof reply, &rcode, &answers), 0);
	ck_assert_uint_eq(rcode, 3);
	ck_assert_uint_eq(answers, 2);
	ck_assert_int_eq(dnsmsg_reply_status(reply, 11, &rcode, &answers),
			 -EPROTO);
	ck_assert_int_eq(
	    dnsmsg_reply_status((const uint8_t[]){HDR}, 12, &rcode, &answers),
	    -EPROTO);
}
END_TEST

/* A reply's addresses: a CNAME skipped, compressed names followed, a
 * truncated record and a query refused. */
START_TEST(reply_addresses)
{
	const uint8_t reply[] = {
	    0, 7, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
	    /* question: a.b IN A */
	    1, 'a', 1, 'b', 0, 0, 1, 0, 1,
	    /* a.b CNAME c.b */
	    0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'c', 0xC0, 14,
	    /* c.b A 198.18.0.9 */
	    0xC0, 33, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 9,
	    /* c.b AAAA 2001:db8::1 */
	    0xC0, 33, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0x20, 1, 0x0d, 0xb8, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct endpoint ep[4];

	ck_assert_int_eq(dnsmsg_reply_addresses(reply, sizeof reply, ep, 4), 2);
	ck_assert_int_eq(ep[0].kind, ENDPOINT_IPV4);
	ck_assert_mem_eq(ep[0].u.ipv4, ((uint8_t[]){198, 18, 0, 9}), 4);
	ck_assert_int_eq(ep[1].kind, ENDPOINT_IPV6);
	ck_assert_uint_eq(ep[1].u.ipv6[15], 1);
	ck_assert_int_eq(dnsmsg_reply_addresses(reply, sizeof reply, ep, 1), 1);
	ck_assert_int_eq(dnsmsg_reply_addresses(reply, sizeof reply - 1, ep, 4),
			 -EPROTO);
	ck_assert_int_eq(
	    dnsmsg_reply_addresses((const uint8_t[]){HDR}, 12, ep, 4), -EPROTO);
}
END_TEST

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* resolv.conf: nameserver lines in order, comments, zones, duplicates, junk. */
START_TEST(resolv_conf_servers)
{
	static const char text[] = "# nameserver 9.9.9.9\n"
				   "; nameserver 8.8.8.8\n"
				   "search example.org\n"
				   "nameserver\t10.0.0.1  # first\n"
				   "nameserver fe80::1%eth0\n"
				   "nameserver 10.0.0.1\n"
				   "nameserver not-an-address\n"
				   "nameservers 10.9.9.9\n"
				   " nameserver 10.8.8.8\n"
				   "nameserver 2001:db8::53\r\n"
				   "nameserver 10.0.0.4";
	struct endpoint out[8], want;
	char buf[ENDPOINT_TEXT_MAX];
	static const char *const expect[] = {
	    "10.0.0.1:53", "[fe80::1]:53", "[2001:db8::53]:53", "10.0.0.4:53"};
	size_t n = dnsmsg_resolv_conf_servers(text, strlen(text), out, 8);

	ck_assert_uint_eq(n, 4);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(endpoint_format(&out[i], buf, sizeof buf),
				 expect[i]);
	/* Room for two: the first two. */
	ck_assert_uint_eq(
	    dnsmsg_resolv_conf_servers(text, strlen(text), out, 2), 2);
	endpoint_parse_ip(&want, "fe80::1");
	want.port = 53;
	ck_assert(endpoint_equal(&out[1], &want));
	/* Not NUL-terminated: the length is the end. */
	ck_assert_uint_eq(
	    dnsmsg_resolv_conf_servers("nameserver 10.1.1.1x", 19, out, 8), 1);
	ck_assert_str_eq(endpoint_format(&out[0], buf, sizeof buf),
			 "10.1.1.1:53");
}
END_TEST

/* No nameserver line: the loopback defaults glibc and Go use. */
START_TEST(resolv_conf_defaults)
{
	static const char text[] = "search example.org\noptions ndots:2\n";
	struct endpoint out[4];
	char buf[ENDPOINT_TEXT_MAX];

	ck_assert_uint_eq(
	    dnsmsg_resolv_conf_servers(text, strlen(text), out, 4), 2);
	ck_assert_str_eq(endpoint_format(&out[0], buf, sizeof buf),
			 "127.0.0.1:53");
	ck_assert_str_eq(endpoint_format(&out[1], buf, sizeof buf), "[::1]:53");
	ck_assert_uint_eq(dnsmsg_resolv_conf_servers("", 0, out, 1), 1);
	ck_assert_uint_eq(dnsmsg_resolv_conf_servers("", 0, out, 0), 0);
}
END_TEST

static Suite *dnsmsg_suite(void)
{
	Suite *s = suite_create("dnsmsg");
	TCase *tc = tcase_create("dnsmsg");

	tcase_add_loop_test(tc, parse_table, 0, COUNT(parse_cases));
	tcase_add_test(tc, parse_every_truncation);
	tcase_add_test(tc, parse_oversize_names);
	tcase_add_loop_test(tc, build_query_table, 0, COUNT(build_query_cases));
	tcase_add_test(tc, build_addresses);
	tcase_add_test(tc, build_ptr);
	tcase_add_loop_test(tc, build_error_table, 0, COUNT(rcodes));
	tcase_add_test(tc, build_error_without_question);
	tcase_add_loop_test(tc, reverse_table, 0, COUNT(reverse_cases));
	tcase_add_test(tc, addr_to_reverse_limits);
	tcase_add_test(tc, reply_status);
	tcase_add_test(tc, reply_addresses);
	tcase_add_test(tc, resolv_conf_servers);
	tcase_add_test(tc, resolv_conf_defaults);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *runner = srunner_create(dnsmsg_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
