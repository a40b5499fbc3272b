/* dnsmsg.c — DNS query parsing and reply building (see dnsmsg.h).
 *
 * Header (RFC 1035 4.1.1), 12 bytes, big-endian:
 *   ID(16) | QR(1) OPCODE(4) AA(1) TC(1) RD(1) | RA(1) Z(3) RCODE(4)
 *   QDCOUNT(16) ANCOUNT(16) NSCOUNT(16) ARCOUNT(16)
 * Question: QNAME (labels, or a 0xC0 pointer) QTYPE(16) QCLASS(16).
 * Answer record: NAME TYPE(16) CLASS(16) TTL(32) RDLENGTH(16) RDATA. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"
#include "netaddr.h"

#define FLAG_QR	     0x80 /* in byte 2 */
#define FLAG_RD	     0x01 /* in byte 2 */
#define FLAG_RA	     0x80 /* in byte 3 */
#define OPCODE_SHIFT 3
#define POINTER_BITS 0xC0
#define QUESTION_PTR 0xC00C /* a pointer to offset 12: the question's name */
/* Pointers followed in one name (also bounded by "backwards only"). */
#define MAX_HOPS 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	return put16(put16(p, v >> 16), v & 0xffff);
}

/* A byte allowed inside a label: printable ASCII but not '.' or '\\' (they
 * would change the meaning of the dotted text). */
static bool label_byte_ok(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '.' && c != '\\';
}

/* Append one label to the text and wire forms of q's name. */
static int name_add_label(struct dnsmsg_query *q, size_t *wire,
			  const uint8_t *label, size_t n)
{
	size_t i;

	if (*wire + 1 + n + 1 > DNSMSG_WIRE_NAME_MAX)
		return -EBADMSG;
	for (i = 0; i < n; i++)
		if (!label_byte_ok(label[i]))
			return -EBADMSG;
	q->question[(*wire)++] = (uint8_t)n;
	memcpy(q->question + *wire, label, n);
	*wire += n;
	if (q->name_len)
		q->name[q->name_len++] = '.';
	memcpy(q->name + q->name_len, label, n);
	q->name_len += n;
	q->name[q->name_len] = '\0';
	return 0;
}

/* Read the name at buf[pos] into q (text and uncompressed wire form).
 * Returns the offset just after the name where it started (after the first
 * pointer if any), or -EBADMSG. */
static long name_read(const uint8_t *buf, size_t len, size_t pos,
		      struct dnsmsg_query *q, size_t *wire)
{
	long end = -1;
	unsigned hops = 0;

	for (;;) {
		uint8_t n;

		if (pos >= len)
			return -EBADMSG;
		n = buf[pos];
		if ((n & POINTER_BITS) == POINTER_BITS) {
			size_t target;

			if (pos + 2 > len || ++hops > MAX_HOPS)
				return -EBADMSG;
			target = get16(buf + pos) & 0x3fff;
			if (target >= pos) /* only backwards: no loops */
				return -EBADMSG;
			if (end < 0)
				end = (long)pos + 2;
			pos = target;
			continue;
		}
		if (n & POINTER_BITS) /* 0x40, 0x80: reserved label types */
			return -EBADMSG;
		if (n == 0)
			break;
		if (pos + 1 + n > len ||
		    name_add_label(q, wire, buf + pos + 1, n) < 0)
			return -EBADMSG;
		pos += 1 + (size_t)n;
	}
	q->question[(*wire)++] = 0;
	return end >= 0 ? end : (long)pos + 1;
}

long dnsmsg_parse_query(const uint8_t *buf, size_t len, struct dnsmsg_query *q)
{
	size_t wire = 0;
	long end;

	memset(q, 0, sizeof *q);
	if (len < DNSMSG_HEADER_LEN || (buf[2] & FLAG_QR))
		return -EPROTO;
	q->id = get16(buf);
	q->opcode = (buf[2] >> OPCODE_SHIFT) & 0x0f;
	q->rd = buf[2] & FLAG_RD;
	if (q->opcode != 0)
		return -EOPNOTSUPP;
	if (get16(buf + 4) != 1)
		return -EBADMSG;
	end = name_read(buf, len, DNSMSG_HEADER_LEN, q, &wire);
	if (end < 0 || (size_t)end + 4 > len)
		goto malformed;
	q->qtype = get16(buf + end);
	q->qclass = get16(buf + end + 2);
	memcpy(q->question + wire, buf + end, 4);
	q->question_len = wire + 4;
	return end + 4;
malformed:
	q->name[0] = '\0';
	q->name_len = 0;
	q->question_len = 0;
	return -EBADMSG;
}

/* Encode dotted text name into out[0..cap) as labels. Returns the length,
 * -ENOSPC, or -EINVAL. */
static long name_encode(const char *name, uint8_t *out, size_t cap)
{
	size_t len = strlen(name), used = 0, start = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len > DNSMSG_TEXT_NAME_MAX || (len > 0 && name[len - 1] == '.'))
		return -EINVAL;
	while (start < len) {
		size_t n = 0;

		while (start + n < len && name[start + n] != '.')
			n++;
		if (n == 0 || n > DNSMSG_LABEL_MAX)
			return -EINVAL;
		for (i = 0; i < n; i++)
			if (!label_byte_ok((uint8_t)name[start + i]))
				return -EINVAL;
		if (used + 1 + n > cap)
			return -ENOSPC;
		out[used++] = (uint8_t)n;
		memcpy(out + used, name + start, n);
		used += n;
		start += n + 1;
	}
	if (used + 1 > cap)
		return -ENOSPC;
	out[used++] = 0;
	return (long)used;
}

long dnsmsg_build_query(uint16_t id, const char *name, uint16_t qtype,
			uint16_t qclass, uint8_t *out, size_t cap)
{
	long n;

	if (cap < DNSMSG_HEADER_LEN)
		return name_encode(name, out, 0) == -EINVAL ? -EINVAL : -ENOSPC;
	n = name_encode(name, out + DNSMSG_HEADER_LEN, cap - DNSMSG_HEADER_LEN);
	if (n < 0)
		return n;
	if ((size_t)n + DNSMSG_HEADER_LEN + 4 > cap)
		return -ENOSPC;
	memset(out, 0, DNSMSG_HEADER_LEN);
	put16(out, id);
	out[2] = FLAG_RD;
	put16(out + 4, 1);
	put16(put16(out + DNSMSG_HEADER_LEN + n, qtype), qclass);
	return DNSMSG_HEADER_LEN + n + 4;
}

/* Header and question of a reply to q with rcode and answers records.
 * Returns the length written, or -ENOSPC. */
static long reply_start(const struct dnsmsg_query *q, enum dnsmsg_rcode rcode,
			unsigned answers, uint8_t *out, size_t cap)
{
	size_t qlen = q->question_len;

	if (rcode == DNSMSG_NOTIMP && q->opcode != 0)
		qlen = 0;
	if (DNSMSG_HEADER_LEN + qlen > cap)
		return -ENOSPC;
	memset(out, 0, DNSMSG_HEADER_LEN);
	put16(out, q->id);
	out[2] = (uint8_t)(FLAG_QR | (q->opcode << OPCODE_SHIFT) |
			   (q->rd ? FLAG_RD : 0));
	out[3] = (uint8_t)(FLAG_RA | rcode);
	put16(out + 4, qlen ? 1 : 0);
	put16(out + 6, answers);
	memcpy(out + DNSMSG_HEADER_LEN, q->question, qlen);
	return (long)(DNSMSG_HEADER_LEN + qlen);
}

long dnsmsg_build_error(const struct dnsmsg_query *q, enum dnsmsg_rcode rcode,
			uint8_t *out, size_t cap)
{
	return reply_start(q, rcode, 0, out, cap);
}

/* Append one answer record named by a pointer to the question: type, ttl,
 * rdata[0..rdlen). Returns the new length, or -ENOSPC. */
static long record_add(const struct dnsmsg_query *q, uint8_t *out, size_t used,
		       size_t cap, uint32_t ttl, const uint8_t *rdata,
		       size_t rdlen)
{
	uint8_t *p = out + used;

	if (used + 12 + rdlen > cap)
		return -ENOSPC;
	p = put16(p, QUESTION_PTR);
	p = put16(p, q->qtype);
	p = put16(p, q->qclass);
	p = put32(p, ttl);
	p = put16(p, (unsigned)rdlen);
	memcpy(p, rdata, rdlen);
	return (long)(used + 12 + rdlen);
}

long dnsmsg_build_addresses(const struct dnsmsg_query *q,
			    const struct endpoint *addrs, size_t count,
			    uint32_t ttl, uint8_t *out, size_t cap)
{
	enum endpoint_kind kind =
	    q->qtype == DNSMSG_TYPE_AAAA ? ENDPOINT_IPV6 : ENDPOINT_IPV4;
	size_t rdlen = kind == ENDPOINT_IPV6 ? 16 : 4, i;
	unsigned answers = 0;
	long used = reply_start(q, DNSMSG_NOERROR, 0, out, cap);

	for (i = 0; used > 0 && i < count; i++) {
		long next;

		if (addrs[i].kind != kind)
			continue;
		next = record_add(q, out, (size_t)used, cap, ttl,
				  addrs[i].u.ipv6, rdlen);
		if (next < 0) /* keep what fits, like a truncating server */
			return answers ? used : next;
		used = next;
		put16(out + 6, ++answers);
	}
	return used;
}

long dnsmsg_build_ptr(const struct dnsmsg_query *q, const char *name,
		      uint32_t ttl, uint8_t *out, size_t cap)
{
	uint8_t rdata[DNSMSG_WIRE_NAME_MAX];
	long n = name_encode(name, rdata, sizeof rdata);
	long used;

	if (n < 0)
		return n == -ENOSPC ? -EINVAL : n;
	used = reply_start(q, DNSMSG_NOERROR, 1, out, cap);
	if (used < 0)
		return used;
	return record_add(q, out, (size_t)used, cap, ttl, rdata, (size_t)n);
}

int dnsmsg_reply_status(const uint8_t *buf, size_t len, unsigned *rcode,
			unsigned *answers)
{
	if (len < DNSMSG_HEADER_LEN || !(buf[2] & FLAG_QR))
		return -EPROTO;
	*rcode = buf[3] & 0x0f;
	*answers = get16(buf + 6);
	return 0;
}

/* The offset just after the (possibly compressed) name at pos, or 0 when
 * it runs past len or holds a reserved label type. */
static size_t name_skip(const uint8_t *buf, size_t len, size_t pos)
{
	while (pos < len) {
		uint8_t label = buf[pos];

		if (label == 0)
			return pos + 1;
		if ((label & POINTER_BITS) == POINTER_BITS)
			return pos + 2 <= len ? pos + 2 : 0;
		if (label & POINTER_BITS)
			return 0;
		pos += 1 + (size_t)label;
	}
	return 0;
}

long dnsmsg_reply_addresses(const uint8_t *buf, size_t len,
			    struct endpoint *out, size_t cap)
{
	size_t pos = DNSMSG_HEADER_LEN, count = 0;
	unsigned questions, answers;

	if (len < DNSMSG_HEADER_LEN || !(buf[2] & FLAG_QR))
		return -EPROTO;
	questions = get16(buf + 4);
	answers = get16(buf + 6);
	for (unsigned i = 0; i < questions; i++) {
		pos = name_skip(buf, len, pos);
		if (pos == 0 || pos + 4 > len)
			return -EPROTO;
		pos += 4;
	}
	for (unsigned i = 0; i < answers; i++) {
		uint16_t type, class, rdlen;

		pos = name_skip(buf, len, pos);
		if (pos == 0 || pos + 10 > len)
			return -EPROTO;
		type = get16(buf + pos);
		class = get16(buf + pos + 2);
		rdlen = get16(buf + pos + 8);
		pos += 10;
		if (pos + rdlen > len)
			return -EPROTO;
		if (class == DNSMSG_CLASS_IN && count < cap &&
		    ((type == DNSMSG_TYPE_A && rdlen == 4) ||
		     (type == DNSMSG_TYPE_AAAA && rdlen == 16))) {
			struct endpoint *ep = &out[count++];

			memset(ep, 0, sizeof *ep);
			ep->kind = rdlen == 4 ? ENDPOINT_IPV4 : ENDPOINT_IPV6;
			memcpy(rdlen == 4 ? ep->u.ipv4 : ep->u.ipv6, buf + pos,
			       rdlen);
		}
		pos += rdlen;
	}
	return (long)count;
}

/* True when name[0..len) ends with suffix (case-insensitive); *stem then
 * holds the length before it. */
static bool has_suffix(const char *name, size_t len, const char *suffix,
		       size_t *stem)
{
	size_t n = strlen(suffix);

	if (len < n || strncasecmp(name + len - n, suffix, n) != 0)
		return false;
	*stem = len - n;
	return true;
}

/* "d.c.b.a." (stem, with its dot) into ep. */
static int reverse_ipv4(const char *s, size_t len, struct endpoint *ep)
{
	size_t pos = 0;
	int octet;

	for (octet = 3; octet >= 0; octet--) {
		unsigned value = 0, digits = 0;

		while (pos < len && s[pos] >= '0' && s[pos] <= '9' &&
		       digits < 3) {
			value = value * 10 + (unsigned)(s[pos++] - '0');
			digits++;
		}
		if (digits == 0 || value > 255 || pos >= len ||
		    s[pos++] != '.' ||
		    (digits > 1 && s[pos - 1 - digits] == '0'))
			return -EINVAL;
		ep->u.ipv4[octet] = (uint8_t)value;
	}
	if (pos != len)
		return -EINVAL;
	ep->kind = ENDPOINT_IPV4;
	return 0;
}

/* 32 "x." nibbles (stem, lowest first) into ep. */
static int reverse_ipv6(const char *s, size_t len, struct endpoint *ep)
{
	int i;

	if (len != 64)
		return -EINVAL;
	for (i = 0; i < 32; i++) {
		int v = netaddr_hex_digit(s[2 * i]);

		if (v < 0 || s[2 * i + 1] != '.')
			return -EINVAL;
		if (i % 2 == 0)
			ep->u.ipv6[15 - i / 2] = (uint8_t)v;
		else
			ep->u.ipv6[15 - i / 2] |= (uint8_t)(v << 4);
	}
	ep->kind = ENDPOINT_IPV6;
	return 0;
}

int dnsmsg_reverse_to_addr(const char *name, size_t len, struct endpoint *ep)
{
	size_t stem;

	memset(ep, 0, sizeof *ep);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (has_suffix(name, len, ".in-addr.arpa", &stem))
		return reverse_ipv4(name, stem + 1, ep);
	if (has_suffix(name, len, ".ip6.arpa", &stem))
		return reverse_ipv6(name, stem + 1, ep);
	return -EINVAL;
}

/* Append text to buf[*used..cap). Returns 0 or -ENOSPC. */
static int append(char *buf, size_t cap, size_t *used, const char *text,
		  size_t n)
{
	if (*used + n + 1 > cap)
		return -ENOSPC;
	memcpy(buf + *used, text, n);
	*used += n;
	buf[*used] = '\0';
	return 0;
}

/* One IPv4 octet as decimal text and a dot into buf. */
static size_t octet_text(uint8_t v, char *out)
{
	size_t n = 0;

	if (v >= 100)
		out[n++] = (char)('0' + v / 100);
	if (v >= 10)
		out[n++] = (char)('0' + v / 10 % 10);
	out[n++] = (char)('0' + v % 10);
	out[n++] = '.';
	return n;
}

long dnsmsg_addr_to_reverse(const struct endpoint *ep, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;
	char part[4];
	int i, rc = 0;

	if (cap > 0)
		buf[0] = '\0';
	if (ep->kind == ENDPOINT_IPV4) {
		for (i = 3; i >= 0 && rc == 0; i--)
			rc = append(buf, cap, &used, part,
				    octet_text(ep->u.ipv4[i], part));
		if (rc == 0)
			rc = append(buf, cap, &used, "in-addr.arpa", 12);
	} else if (ep->kind == ENDPOINT_IPV6) {
		for (i = 31; i >= 0 && rc == 0; i--) {
			uint8_t b = ep->u.ipv6[i / 2];

			part[0] = hex[i % 2 ? b & 0x0f : b >> 4];
			part[1] = '.';
			rc = append(buf, cap, &used, part, 2);
		}
		if (rc == 0)
			rc = append(buf, cap, &used, "ip6.arpa", 8);
	} else {
		return -EINVAL;
	}
	return rc < 0 ? rc : (long)used;
}

#define DNSMSG_PORT 53

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Whether ep is already among out[0..n). */
static bool server_known(const struct endpoint *out, size_t n,
			 const struct endpoint *ep)
{
	for (size_t i = 0; i < n; i++)
		if (endpoint_equal(&out[i], ep))
			return true;
	return false;
}

/* The address of one line line[0..len) when it is "nameserver ADDR". */
static int resolv_conf_line(const char *line, size_t len, struct endpoint *ep)
{
	static const char keyword[] = "nameserver";
	const size_t klen = sizeof keyword - 1;
	char addr[64];
	size_t i, n = 0;

	if (len <= klen || memcmp(line, keyword, klen) != 0 ||
	    !is_blank(line[klen]))
		return -EINVAL;
	for (i = klen; i < len && is_blank(line[i]); i++)
		;
	while (i < len && !is_blank(line[i]) && line[i] != '%' &&
	       n < sizeof addr - 1)
		addr[n++] = line[i++];
	addr[n] = '\0';
	if (endpoint_parse_ip(ep, addr) < 0)
		return -EINVAL;
	ep->port = DNSMSG_PORT;
	return 0;
}

/* 127.0.0.1 and ::1, port 53, as far as cap allows. */
static size_t resolv_conf_defaults(struct endpoint *out, size_t cap)
{
	static const char *const loopback[] = {"127.0.0.1", "::1"};
	size_t n = 0;

	for (size_t i = 0; i < 2 && n < cap; i++) {
		endpoint_parse_ip(&out[n], loopback[i]);
		out[n++].port = DNSMSG_PORT;
	}
	return n;
}

size_t dnsmsg_resolv_conf_servers(const char *text, size_t len,
				  struct endpoint *out, size_t cap)
{
	struct endpoint ep;
	size_t pos = 0, n = 0;
	bool named = false;

	while (pos < len) {
		const char *line = text + pos;
		const char *end = memchr(line, '\n', len - pos);
		size_t line_len = end ? (size_t)(end - line) : len - pos;

		pos += line_len + 1;
		if (resolv_conf_line(line, line_len, &ep) < 0)
			continue;
		named = true;
		if (n < cap && !server_known(out, n, &ep))
			out[n++] = ep;
	}
	return named ? n : resolv_conf_defaults(out, cap);
}
