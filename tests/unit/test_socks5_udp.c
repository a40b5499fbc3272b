/* test_socks5_udp.c — the RFC 1928 section 7 datagram header: byte-exact
 * vectors for every ATYP, every malformed form, and a randomized test of
 * the parser. Inputs that may be cut short live in heap blocks of exactly
 * their length, so that ASan and valgrind catch any read past the end. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "socks5_udp.h"

#define COUNT(a)    (sizeof(a) / sizeof((a)[0]))
#define FUZZ_ROUNDS 100000

static struct endpoint ep_ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			       uint16_t port)
{
	struct endpoint ep = {.kind = ENDPOINT_IPV4, .port = port};

	ep.u.ipv4[0] = a;
	ep.u.ipv4[1] = b;
	ep.u.ipv4[2] = c;
	ep.u.ipv4[3] = d;
	return ep;
}

static struct endpoint ep_name(const char *name, uint16_t port)
{
	struct endpoint ep;

	ck_assert_int_eq(endpoint_set_name(&ep, name, strlen(name), port), 0);
	return ep;
}

/* 2001:db8::1 port 443 */
static struct endpoint ep_ipv6_doc(void)
{
	struct endpoint ep = {.kind = ENDPOINT_IPV6, .port = 443};

	ep.u.ipv6[0] = 0x20;
	ep.u.ipv6[1] = 0x01;
	ep.u.ipv6[2] = 0x0d;
	ep.u.ipv6[3] = 0xb8;
	ep.u.ipv6[15] = 0x01;
	return ep;
}

/* A heap copy of buf[0..len) with nothing readable beyond it. */
static uint8_t *exact_copy(const uint8_t *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, buf, len);
	return p;
}

/* Parse buf[0..len) from an exact-size copy. */
static long parse_exact(const uint8_t *buf, size_t len, struct endpoint *src)
{
	uint8_t *p = exact_copy(buf, len);
	long rc = socks5_udp_parse_header(p, len, src);

	free(p);
	return rc;
}

static const uint8_t want_ipv4[] = {0, 0, 0, 1, 192, 0, 2, 7, 0x00, 0x35};
static const uint8_t want_ipv6[] = {0, 0, 0, 4, 0x20, 0x01, 0x0d, 0xb8,
				    0, 0, 0, 0, 0,    0,    0,	  0,
				    0, 0, 0, 1, 0x01, 0xbb};
static const uint8_t want_name[] = {0,	 0,   0,   3,	11,   'e',
				    'x', 'a', 'm', 'p', 'l',  'e',
				    '.', 'c', 'o', 'm', 0x1f, 0x90};

struct vector {
	struct endpoint ep;
	const uint8_t *wire;
	size_t len;
};

static struct vector vector(int i)
{
	struct vector v;

	switch (i) {
	case 0:
		v.ep = ep_ipv4(192, 0, 2, 7, 53);
		v.wire = want_ipv4;
		v.len = sizeof(want_ipv4);
		break;
	case 1:
		v.ep = ep_ipv6_doc();
		v.wire = want_ipv6;
		v.len = sizeof(want_ipv6);
		break;
	default:
		v.ep = ep_name("example.com", 8080);
		v.wire = want_name;
		v.len = sizeof(want_name);
		break;
	}
	return v;
}

START_TEST(build_vectors)
{
	struct vector v = vector(_i);
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + 8];

	memset(buf, 0xaa, sizeof(buf));
	ck_assert_int_eq(socks5_udp_header_len(&v.ep), v.len);
	ck_assert_int_eq(socks5_udp_build_header(buf, sizeof(buf), &v.ep),
			 v.len);
	ck_assert_mem_eq(buf, v.wire, v.len);
	ck_assert_uint_eq(buf[v.len], 0xaa);
}
END_TEST

START_TEST(build_exact_room_and_short_room)
{
	struct vector v = vector(_i);
	uint8_t buf[SOCKS5_UDP_HEADER_MAX];
	size_t cap;

	for (cap = 0; cap < v.len; cap++) {
		uint8_t *p = malloc(cap ? cap : 1);

		ck_assert_int_eq(socks5_udp_build_header(p, cap, &v.ep),
				 -ENOSPC);
		free(p);
	}
	ck_assert_int_eq(socks5_udp_build_header(buf, v.len, &v.ep), v.len);
	ck_assert_mem_eq(buf, v.wire, v.len);
}
END_TEST

START_TEST(header_lengths)
{
	struct endpoint none = {.kind = ENDPOINT_NONE};
	struct endpoint one = ep_name("a", 1);

	ck_assert_int_eq(SOCKS5_UDP_HEADER_IPV4, 10);
	ck_assert_int_eq(SOCKS5_UDP_HEADER_IPV6, 22);
	ck_assert_int_eq(socks5_udp_header_len(&one), 7 + 1);
	ck_assert_int_eq(socks5_udp_header_len(&none), -EINVAL);
	ck_assert_int_eq(socks5_udp_header_len(NULL), -EINVAL);
	none.kind = (enum endpoint_kind)99;
	ck_assert_int_eq(socks5_udp_header_len(&none), -EINVAL);
}
END_TEST

/* The longest name: 255 bytes, a 262-byte header, both ways. */
START_TEST(name_of_255_bytes)
{
	char name[256];
	uint8_t buf[SOCKS5_UDP_HEADER_MAX];
	struct endpoint ep, src;

	memset(name, 'n', 255);
	name[255] = '\0';
	ep = ep_name(name, 65535);
	ck_assert_int_eq(socks5_udp_header_len(&ep), SOCKS5_UDP_HEADER_MAX);
	ck_assert_int_eq(socks5_udp_build_header(buf, sizeof(buf), &ep),
			 SOCKS5_UDP_HEADER_MAX);
	ck_assert_uint_eq(buf[3], 3);
	ck_assert_uint_eq(buf[4], 255);
	ck_assert_uint_eq(buf[4 + 255], 'n');
	ck_assert_uint_eq(buf[5 + 255], 0xff);
	ck_assert_uint_eq(buf[6 + 255], 0xff);
	ck_assert_int_eq(parse_exact(buf, sizeof(buf), &src),
			 SOCKS5_UDP_HEADER_MAX);
	ck_assert(endpoint_equal(&src, &ep));
	ck_assert_uint_eq(src.name_len, 255);
	ck_assert_uint_eq(strlen(src.u.name), 255);
}
END_TEST

/* Names the endpoint cannot honestly express are refused, never sent. */
START_TEST(build_bad_names)
{
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + 8];
	struct endpoint ep = ep_name("x", 1);

	ep.name_len = 0;
	ep.u.name[0] = '\0';
	ck_assert_int_eq(socks5_udp_header_len(&ep), -EINVAL);
	ck_assert_int_eq(socks5_udp_build_header(buf, sizeof(buf), &ep),
			 -EINVAL);
	/* No NUL anywhere in the array: longer than any length byte. */
	memset(ep.u.name, 'y', sizeof(ep.u.name));
	ep.name_len = 255;
	ck_assert_int_eq(socks5_udp_header_len(&ep), -ENAMETOOLONG);
	ck_assert_int_eq(socks5_udp_build_header(buf, sizeof(buf), &ep),
			 -ENAMETOOLONG);
	/* name_len claims more than the string holds. */
	ep = ep_name("abc", 1);
	ep.name_len = 10;
	ck_assert_int_eq(socks5_udp_build_header(buf, sizeof(buf), &ep),
			 -EINVAL);
	/* Invalid arguments win over the room check. */
	ck_assert_int_eq(socks5_udp_build_header(buf, 0, NULL), -EINVAL);
}
END_TEST

START_TEST(parse_vectors_with_payload)
{
	struct vector v = vector(_i);
	uint8_t dgram[SOCKS5_UDP_HEADER_MAX + 5];
	struct endpoint src;

	memcpy(dgram, v.wire, v.len);
	memcpy(dgram + v.len, "hello", 5);
	ck_assert_int_eq(parse_exact(dgram, v.len + 5, &src), v.len);
	ck_assert(endpoint_equal(&src, &v.ep));
	ck_assert_int_eq(src.kind, v.ep.kind);
	ck_assert_uint_eq(src.port, v.ep.port);
	/* A header with no data after it is a valid empty datagram. */
	memset(&src, 0, sizeof(src));
	ck_assert_int_eq(parse_exact(dgram, v.len, &src), v.len);
	ck_assert(endpoint_equal(&src, &v.ep));
}
END_TEST

/* Every proper prefix of a valid header is malformed, and src untouched. */
START_TEST(parse_truncated_at_every_length)
{
	struct vector v = vector(_i);
	struct endpoint src, before;
	size_t len;

	memset(&before, 0x5a, sizeof(before));
	for (len = 0; len < v.len; len++) {
		src = before;
		ck_assert_int_eq(parse_exact(v.wire, len, &src), -EPROTO);
		ck_assert_mem_eq(&src, &before, sizeof(src));
	}
}
END_TEST

START_TEST(parse_truncated_long_name)
{
	uint8_t buf[SOCKS5_UDP_HEADER_MAX];
	struct endpoint src;
	size_t len;

	memset(buf, 'z', sizeof(buf));
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = 3;
	buf[4] = 255;
	for (len = 0; len < sizeof(buf); len++)
		ck_assert_int_eq(parse_exact(buf, len, &src), -EPROTO);
	ck_assert_int_eq(parse_exact(buf, sizeof(buf), &src), sizeof(buf));
	/* A name length byte larger than the whole datagram. */
	buf[4] = 200;
	ck_assert_int_eq(parse_exact(buf, 100, &src), -EPROTO);
}
END_TEST

START_TEST(parse_rsv_nonzero)
{
	struct vector v = vector(_i);
	uint8_t buf[SOCKS5_UDP_HEADER_MAX];
	struct endpoint src;
	int byte;

	for (byte = 0; byte < 2; byte++) {
		memcpy(buf, v.wire, v.len);
		buf[byte] = 0x01;
		ck_assert_int_eq(parse_exact(buf, v.len, &src), -EPROTO);
		buf[byte] = 0x80;
		ck_assert_int_eq(parse_exact(buf, v.len, &src), -EPROTO);
	}
}
END_TEST

START_TEST(parse_frag_nonzero)
{
	struct endpoint src, before;
	uint8_t buf[sizeof(want_ipv4)];
	int i;

	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < 3; i++) {
		struct vector v = vector(i);
		uint8_t big[SOCKS5_UDP_HEADER_MAX];

		memcpy(big, v.wire, v.len);
		big[2] = (uint8_t)_i;
		src = before;
		ck_assert_int_eq(parse_exact(big, v.len, &src), -EOPNOTSUPP);
		ck_assert_mem_eq(&src, &before, sizeof(src));
	}
	memcpy(buf, want_ipv4, sizeof(buf));
	buf[2] = (uint8_t)_i;
	/* a truncated header is malformed whatever its FRAG */
	ck_assert_int_eq(parse_exact(buf, 4, &src), -EPROTO);
}
END_TEST

START_TEST(parse_fragment_reports_frag)
{
	struct endpoint src;
	uint8_t buf[sizeof(want_ipv4)];
	uint8_t frag = 0x5a;

	memcpy(buf, want_ipv4, sizeof(buf));
	buf[2] = (uint8_t)_i;
	ck_assert_int_eq(
	    socks5_udp_parse_fragment(buf, sizeof(buf), &src, &frag),
	    SOCKS5_UDP_HEADER_IPV4);
	ck_assert_uint_eq(frag, (uint8_t)_i);
	ck_assert_int_eq(src.kind, ENDPOINT_IPV4);
	buf[0] = 1;
	frag = 0x5a;
	ck_assert_int_eq(
	    socks5_udp_parse_fragment(buf, sizeof(buf), &src, &frag), -EPROTO);
	ck_assert_uint_eq(frag, 0x5a);
}
END_TEST

START_TEST(parse_atyp)
{
	uint8_t buf[64];
	struct endpoint src;
	long rc;

	memset(buf, 7, sizeof(buf));
	buf[0] = buf[1] = buf[2] = 0;
	buf[3] = (uint8_t)_i;
	rc = parse_exact(buf, sizeof(buf), &src);
	switch (_i) {
	case 1:
		ck_assert_int_eq(rc, 10);
		ck_assert_int_eq(src.kind, ENDPOINT_IPV4);
		break;
	case 3:
		ck_assert_int_eq(rc, 4 + 1 + 7 + 2);
		ck_assert_int_eq(src.kind, ENDPOINT_NAME);
		ck_assert_uint_eq(src.name_len, 7);
		break;
	case 4:
		ck_assert_int_eq(rc, 22);
		ck_assert_int_eq(src.kind, ENDPOINT_IPV6);
		break;
	default:
		ck_assert_int_eq(rc, -EPROTO);
	}
}
END_TEST

START_TEST(parse_bad_names)
{
	static const uint8_t empty[] = {0, 0, 0, 3, 0, 0x00, 0x35};
	static const uint8_t with_nul[] = {0, 0, 0, 3, 3, 'a', 0, 'b', 0, 1};
	struct endpoint src;

	ck_assert_int_eq(parse_exact(empty, sizeof(empty), &src), -EPROTO);
	ck_assert_int_eq(parse_exact(with_nul, sizeof(with_nul), &src),
			 -EPROTO);
	ck_assert_int_eq(socks5_udp_parse_header(NULL, 10, &src), -EPROTO);
	ck_assert_int_eq(socks5_udp_parse_header(want_ipv4, 10, NULL), -EPROTO);
}
END_TEST

/* xorshift64*: deterministic, so a failure names the round to replay. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rng_below(unsigned n)
{
	return (unsigned)(rng_next() % n);
}

/* What the parser must answer for buf[0..len), written independently of
 * it: the header's length, or the error. */
static long oracle_any_frag(const uint8_t *buf, size_t len)
{
	size_t need;

	if (len < 4 || buf[0] || buf[1])
		return -EPROTO;
	if (buf[3] == 1)
		need = 10;
	else if (buf[3] == 4)
		need = 22;
	else if (buf[3] != 3 || len < 5 || buf[4] == 0)
		return -EPROTO;
	else if (len < 7u + buf[4] || memchr(buf + 5, 0, buf[4]))
		return -EPROTO;
	else
		need = 7u + buf[4];
	return len < need ? -EPROTO : (long)need;
}

/* The same for socks5_udp_parse_header(): a well-formed fragment is
 * refused with -EOPNOTSUPP. */
static long oracle(const uint8_t *buf, size_t len)
{
	long rc = oracle_any_frag(buf, len);

	return rc >= 0 && buf[2] ? -EOPNOTSUPP : rc;
}

/* Check one input: the answer matches the oracle, never exceeds len, and
 * an accepted header re-encodes to exactly the bytes it came from. */
static void check_one(const uint8_t *buf, size_t len, unsigned round)
{
	uint8_t again[SOCKS5_UDP_HEADER_MAX];
	struct endpoint src;
	long rc = parse_exact(buf, len, &src);
	uint8_t frag;
	long any = socks5_udp_parse_fragment(buf, len, &src, &frag);

	ck_assert_msg(any == oracle_any_frag(buf, len),
		      "round %u: fragment rc %ld want %ld", round, any,
		      oracle_any_frag(buf, len));
	ck_assert_msg(rc == oracle(buf, len), "round %u: rc %ld want %ld",
		      round, rc, oracle(buf, len));
	if (rc < 0)
		return;
	ck_assert_msg((size_t)rc <= len, "round %u: %ld > %zu", round, rc, len);
	ck_assert_int_eq(socks5_udp_build_header(again, sizeof(again), &src),
			 rc);
	ck_assert_msg(memcmp(again, buf, (size_t)rc) == 0,
		      "round %u: re-encoding differs", round);
}

/* Random bytes, biased so that many pass the first checks. */
static size_t random_buffer(uint8_t *buf, size_t cap)
{
	size_t len = rng_below((unsigned)cap + 1), i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)rng_next();
	if (len >= 4 && rng_below(4) != 0) {
		buf[0] = buf[1] = 0;
		buf[2] = rng_below(8) ? 0 : buf[2];
		buf[3] = (uint8_t)(rng_below(2) ? 1 + 3 * rng_below(2) : 3);
	}
	if (len >= 5 && buf[3] == 3 && rng_below(2))
		buf[4] = (uint8_t)rng_below((unsigned)len);
	return len;
}

START_TEST(fuzz_random_buffers)
{
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + 16];
	unsigned round;

	rng_state = 0x736f636b73696679ULL; /* "socksify" */
	for (round = 0; round < FUZZ_ROUNDS; round++)
		check_one(buf, random_buffer(buf, sizeof(buf)), round);
}
END_TEST

/* A valid header for a random destination, plus a few payload bytes. */
static size_t random_valid(uint8_t *buf, size_t cap)
{
	struct endpoint ep = {.port = (uint16_t)rng_next()};
	char name[ENDPOINT_NAME_MAX];
	size_t i, n;
	long len;

	switch (rng_below(3)) {
	case 0:
		ep.kind = ENDPOINT_IPV4;
		for (i = 0; i < 4; i++)
			ep.u.ipv4[i] = (uint8_t)rng_next();
		break;
	case 1:
		ep.kind = ENDPOINT_IPV6;
		for (i = 0; i < 16; i++)
			ep.u.ipv6[i] = (uint8_t)rng_next();
		break;
	default:
		n = 1 + rng_below(ENDPOINT_NAME_MAX);
		for (i = 0; i < n; i++)
			name[i] = (char)(1 + rng_below(255));
		ck_assert_int_eq(endpoint_set_name(&ep, name, n, ep.port), 0);
	}
	len = socks5_udp_build_header(buf, cap, &ep);
	ck_assert_int_gt(len, 0);
	n = rng_below(4);
	for (i = 0; i < n; i++)
		buf[len + (long)i] = (uint8_t)rng_next();
	return (size_t)len + n;
}

/* Flip bits, set bytes, or cut the datagram short. */
static size_t mutate(uint8_t *buf, size_t len)
{
	unsigned edits = 1 + rng_below(3), e;

	for (e = 0; e < edits && len > 0; e++) {
		size_t at = rng_below(rng_below(2) ? (unsigned)len : 6);

		if (at >= len)
			at = len - 1;
		switch (rng_below(3)) {
		case 0:
			buf[at] ^= (uint8_t)(1u << rng_below(8));
			break;
		case 1:
			buf[at] = (uint8_t)rng_next();
			break;
		default:
			len = rng_below((unsigned)len + 1);
		}
	}
	return len;
}

START_TEST(fuzz_mutated_headers)
{
	uint8_t buf[SOCKS5_UDP_HEADER_MAX + 8];
	unsigned round, valid = 0;

	rng_state = 0x1928192819281928ULL;
	for (round = 0; round < FUZZ_ROUNDS; round++) {
		size_t len = random_valid(buf, sizeof(buf));

		if (rng_below(8) == 0) {
			check_one(buf, len, round);
			valid++;
			continue;
		}
		check_one(buf, mutate(buf, len), round);
	}
	ck_assert_uint_gt(valid, FUZZ_ROUNDS / 16);
}
END_TEST

static Suite *socks5_udp_suite(void)
{
	Suite *s = suite_create("socks5_udp");
	TCase *enc = tcase_create("encode");
	TCase *dec = tcase_create("parse");
	TCase *fuzz = tcase_create("fuzz");

	tcase_add_loop_test(enc, build_vectors, 0, 3);
	tcase_add_loop_test(enc, build_exact_room_and_short_room, 0, 3);
	tcase_add_test(enc, header_lengths);
	tcase_add_test(enc, name_of_255_bytes);
	tcase_add_test(enc, build_bad_names);
	tcase_add_loop_test(dec, parse_vectors_with_payload, 0, 3);
	tcase_add_loop_test(dec, parse_truncated_at_every_length, 0, 3);
	tcase_add_test(dec, parse_truncated_long_name);
	tcase_add_loop_test(dec, parse_rsv_nonzero, 0, 3);
	tcase_add_loop_test(dec, parse_frag_nonzero, 1, 256);
	tcase_add_loop_test(dec, parse_fragment_reports_frag, 0, 256);
	tcase_add_loop_test(dec, parse_atyp, 0, 256);
	tcase_add_test(dec, parse_bad_names);
	tcase_add_test(fuzz, fuzz_random_buffers);
	tcase_add_test(fuzz, fuzz_mutated_headers);
	tcase_set_timeout(fuzz, 120);
	suite_add_tcase(s, enc);
	suite_add_tcase(s, dec);
	suite_add_tcase(s, fuzz);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(socks5_udp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
