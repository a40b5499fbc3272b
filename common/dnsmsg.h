/* dnsmsg.h — DNS messages (RFC 1035) for answering queries locally: parse a
 * query (header and its one question), build the reply a recursive resolver
 * would send (A, AAAA, PTR answers, or an rcode without data), build a query
 * (so that res_query() shares res_send()'s answering path; the seccomp
 * supervisor is meant to answer static programs' queries with it too),
 * and convert in-addr.arpa / ip6.arpa names to addresses and back.
 *
 * Pure: no I/O, no allocation, no errno writes. Parsers are told how many
 * bytes they have; encoders write into the caller's buffer with its capacity
 * and return the length or -ENOSPC. */
#ifndef SOCKSIFY_DNSMSG_H
#define SOCKSIFY_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

#define DNSMSG_HEADER_LEN    12
#define DNSMSG_WIRE_NAME_MAX 255 /* RFC 1035 2.3.4: a name on the wire */
#define DNSMSG_TEXT_NAME_MAX 253 /* the same name as dotted text */
#define DNSMSG_LABEL_MAX     63
#define DNSMSG_UDP_MAX	     512 /* a reply without EDNS fits this */

/* The types and rcodes socksify names (RFC 1035 3.2.2, 4.1.1; RFC 3596). */
enum dnsmsg_type {
	DNSMSG_TYPE_A = 1,
	DNSMSG_TYPE_PTR = 12,
	DNSMSG_TYPE_MX = 15,
	DNSMSG_TYPE_TXT = 16,
	DNSMSG_TYPE_AAAA = 28,
	DNSMSG_TYPE_SRV = 33,
};
#define DNSMSG_CLASS_IN 1

enum dnsmsg_rcode {
	DNSMSG_NOERROR = 0,
	DNSMSG_FORMERR = 1,
	DNSMSG_SERVFAIL = 2,
	DNSMSG_NXDOMAIN = 3,
	DNSMSG_NOTIMP = 4,
	DNSMSG_REFUSED = 5,
};

/* A parsed query. name is the question's name as dotted text (no trailing
 * dot, "" for the root, case kept); question[0..question_len) is the
 * question section as received but with its name uncompressed, so a reply
 * repeats exactly what was asked. */
struct dnsmsg_query {
	uint16_t id;
	uint8_t opcode; /* 0 = QUERY */
	bool rd;	/* recursion desired */
	uint16_t qtype;
	uint16_t qclass;
	char name[DNSMSG_WIRE_NAME_MAX + 1];
	size_t name_len;
	uint8_t question[DNSMSG_WIRE_NAME_MAX + 4];
	size_t question_len;
};

/* Parse a query held in buf[0..len).
 * Returns the bytes its header and question take (> 0) with *q filled, or:
 *   -EPROTO      shorter than a header, or a response (QR set): no reply;
 *   -EOPNOTSUPP  an opcode other than QUERY (id, opcode, rd filled: reply
 *                NOTIMP with dnsmsg_build_error);
 *   -EBADMSG     QDCOUNT != 1, or a truncated or malformed question (a
 *                label over 63 bytes, a name over 255 bytes, a compression
 *                pointer that does not point backwards, a reserved label
 *                type, a byte in a label that is not printable ASCII or is
 *                '.' or '\\'); id, opcode, rd filled, question_len 0: reply
 *                FORMERR.
 * Records after the question (EDNS OPT, say) are ignored. */
long dnsmsg_parse_query(const uint8_t *buf, size_t len, struct dnsmsg_query *q);

/* Encode a query with one question (RD set) for name (dotted text; one
 * trailing dot allowed; "" or "." is the root). Returns the length, -ENOSPC,
 * or -EINVAL when name is not a valid name (empty label, label over 63
 * bytes, over 253 characters, a byte dnsmsg_parse_query would refuse). */
long dnsmsg_build_query(uint16_t id, const char *name, uint16_t qtype,
			uint16_t qclass, uint8_t *out, size_t cap);

/* A reply to q without answers: rcode (NOERROR meaning "no data"), QR and
 * RA set, AA clear, ID, opcode and RD copied, the question repeated (none
 * when q->question_len is 0, or for NOTIMP of a non-QUERY opcode). Returns
 * the length or -ENOSPC. */
long dnsmsg_build_error(const struct dnsmsg_query *q, enum dnsmsg_rcode rcode,
			uint8_t *out, size_t cap);

/* A NOERROR reply to an A or AAAA question: one record per address of the
 * question's family in addrs[0..count) (others skipped), each named by a
 * compression pointer to the question, with ttl. No address of that
 * family: a NOERROR reply without data. Records that do not fit are left
 * out; returns the length, or -ENOSPC when not even the first fits. */
long dnsmsg_build_addresses(const struct dnsmsg_query *q,
			    const struct endpoint *addrs, size_t count,
			    uint32_t ttl, uint8_t *out, size_t cap);

/* A NOERROR reply to a PTR question with one record pointing at name
 * (dotted text). Returns the length, -ENOSPC, or -EINVAL for a bad name. */
long dnsmsg_build_ptr(const struct dnsmsg_query *q, const char *name,
		      uint32_t ttl, uint8_t *out, size_t cap);

/* Read a reply header: its rcode and answer count. Returns 0, or -EPROTO
 * when len is shorter than a header or QR is clear. */
int dnsmsg_reply_status(const uint8_t *buf, size_t len, unsigned *rcode,
			unsigned *answers);

/* The A and AAAA records of the answer section of a reply held in
 * buf[0..len), as IP endpoints (port 0), into out[0..cap), in reply order
 * (records of other types, CNAME included, are skipped). Returns the number
 * written (at most cap), or -EPROTO for a malformed reply or a query. */
long dnsmsg_reply_addresses(const uint8_t *buf, size_t len,
			    struct endpoint *out, size_t cap);

/* The address a reverse name stands for: "d.c.b.a.in-addr.arpa" (four
 * decimal octets) or 32 nibbles then "ip6.arpa" (case-insensitive, one
 * trailing dot allowed). Returns 0 with *ep an IPv4 or IPv6 endpoint (port
 * 0), or -EINVAL for any other name (a partial one included). */
int dnsmsg_reverse_to_addr(const char *name, size_t len, struct endpoint *ep);

/* The nameservers of a resolv.conf held in text[0..len) (not NUL-terminated),
 * as IP endpoints with port 53, into out[0..cap), in file order, duplicates
 * dropped. A line "nameserver ADDR" (keyword and address separated by
 * spaces or tabs, anything after the address ignored) names one; an IPv6
 * address may carry a "%zone", which is dropped; lines that are comments
 * ('#' or ';' first), other keywords and unparsable addresses are skipped.
 * A file naming none means 127.0.0.1 and ::1, as glibc and Go assume.
 * Returns the number written (at most cap). */
size_t dnsmsg_resolv_conf_servers(const char *text, size_t len,
				  struct endpoint *out, size_t cap);

/* The reverse name of ep (IPv4 or IPv6), without a trailing dot, into
 * buf (NUL-terminated). Returns its length, -ENOSPC, or -EINVAL. */
long dnsmsg_addr_to_reverse(const struct endpoint *ep, char *buf, size_t cap);

#endif
