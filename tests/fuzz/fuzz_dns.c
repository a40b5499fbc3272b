/* fuzz_dns.c — the supervisor's DNS: query parsing (dnsmsg.c) and the
 * answers built from the fake-DNS map (dnsanswer.c), reverse names and
 * resolv.conf text, on arbitrary bytes.
 *
 * Invariants: a parsed question re-encodes (dnsmsg_build_query) to a
 * query that parses to the same question; every query gets either no
 * reply (-EPROTO: a response or too short) or a reply that fits, carries
 * the query's id and reads as a response; an A/AAAA answer of a name
 * leads back to that name in the map; a reverse name that parses turns
 * back into the same address; resolv.conf gives IP nameservers on
 * port 53, no more than room, none twice. */
#include <errno.h>
#include <strings.h>
#include <string.h>

#include "dnsanswer.h"
#include "dnsmsg.h"
#include "fakedns.h"
#include "fuzz.h"
#include "netaddr.h"

static struct fakedns *table;
static struct netmask fake4, fake6;

/* An A answer's address (the last 4 bytes of a one-record reply): when
 * fake, its index holds the question's name. */
static void check_fake_answer(const struct dnsmsg_query *q,
			      const uint8_t *reply, size_t len)
{
	struct endpoint ep;
	char name[300];
	long index;

	FUZZ_CHECK(len >= 4);
	memset(&ep, 0, sizeof(ep));
	ep.kind = ENDPOINT_IPV4;
	memcpy(ep.u.ipv4, reply + len - 4, 4);
	index = fakedns_addr_to_index(&fake4, &ep);
	if (index < 0)
		return;
	FUZZ_CHECK(fakedns_name(table, (uint32_t)index, name, sizeof(name)) ==
		   (long)q->name_len);
	FUZZ_CHECK(strcasecmp(name, q->name) == 0);
}

static void check_query(const uint8_t *buf, size_t len)
{
	struct dnsmsg_query q, q2;
	uint8_t wire[600], reply[1500];
	struct dnsanswer_map map = {&fake4, &fake6, table, 60, NULL};
	const char *why = NULL;
	unsigned rcode = 0, answers = 0;
	long n, r;

	memset(&q, 0, sizeof(q));
	n = dnsmsg_parse_query(buf, len, &q);
	FUZZ_CHECK(n > 0 || n == -EPROTO || n == -EOPNOTSUPP || n == -EBADMSG);
	if (n > 0) {
		FUZZ_CHECK((size_t)n <= len && q.name_len == strlen(q.name));
		r = dnsmsg_build_query(q.id, q.name, q.qtype, q.qclass, wire,
				       sizeof(wire));
		FUZZ_CHECK(r > 0);
		memset(&q2, 0, sizeof(q2));
		FUZZ_CHECK(dnsmsg_parse_query(wire, (size_t)r, &q2) == r);
		FUZZ_CHECK(q2.id == q.id && q2.qtype == q.qtype &&
			   q2.qclass == q.qclass);
		FUZZ_CHECK(q2.name_len == q.name_len &&
			   strcasecmp(q2.name, q.name) == 0);
	}
	r = dnsanswer_reply(&map, buf, len, reply, sizeof(reply), &why);
	if (n == -EPROTO) {
		FUZZ_CHECK(r == -EPROTO);
		return;
	}
	FUZZ_CHECK(r > 0 && (size_t)r <= sizeof(reply));
	FUZZ_CHECK(reply[0] == buf[0] && reply[1] == buf[1]);
	FUZZ_CHECK(dnsmsg_reply_status(reply, (size_t)r, &rcode, &answers) ==
		   0);
	FUZZ_CHECK(rcode <= 15);
	FUZZ_CHECK(why == NULL || rcode == DNSMSG_REFUSED);
	if (n > 0 && q.qtype == 1 && q.qclass == 1 && rcode == 0 &&
	    answers == 1)
		check_fake_answer(&q, reply, (size_t)r);
}

static void check_reverse(const uint8_t *buf, size_t len)
{
	struct endpoint ep, back;
	char name[128];
	long n;

	if (dnsmsg_reverse_to_addr((const char *)buf, len, &ep) < 0)
		return;
	FUZZ_CHECK(ep.kind == ENDPOINT_IPV4 || ep.kind == ENDPOINT_IPV6);
	n = dnsmsg_addr_to_reverse(&ep, name, sizeof(name));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(name));
	FUZZ_CHECK(dnsmsg_reverse_to_addr(name, (size_t)n, &back) == 0);
	FUZZ_CHECK(endpoint_equal(&ep, &back));
}

static void check_resolv_conf(const uint8_t *buf, size_t len)
{
	struct endpoint out[4];
	size_t n, i, j;

	n = dnsmsg_resolv_conf_servers((const char *)buf, len, out, 4);
	FUZZ_CHECK(n >= 1 && n <= 4);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(out[i].kind == ENDPOINT_IPV4 ||
			   out[i].kind == ENDPOINT_IPV6);
		FUZZ_CHECK(out[i].port == 53);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(!endpoint_equal(&out[i], &out[j]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	uint8_t which = fuzz_byte(&in);

	if (!table) {
		FUZZ_CHECK(fakedns_attach(NULL, &table, NULL, 4096) == 0);
		netmask_parse(&fake4, "198.18.0.0/15");
		netmask_parse(&fake6, "fd00:5f5f::/96");
	}
	switch (which % 3) {
	case 0:
		check_query(in.data, in.len);
		break;
	case 1:
		check_reverse(in.data, in.len);
		break;
	default:
		check_resolv_conf(in.data, in.len);
		break;
	}
	return 0;
}
