/* resq.c — calls every libresolv query entry point and prints what it got.
 *
 * Usage: resq NAME
 * For each of res_query, res_search, res_querydomain, res_send, res_nquery,
 * res_nsearch, res_nquerydomain, res_nsend, __res_query and __res_send (the
 * last two found with dlsym, as programs built before glibc 2.34 bind them)
 * it asks for A and AAAA of NAME, PTR of the A answer's reverse name, SRV
 * of _http._tcp.NAME and MX of NAME, and prints one line per question:
 *   CALL TYPE ok VALUE...     the answers (addresses, or PTR names)
 *   CALL TYPE fail h_errno=N  -1 from the query forms
 *   CALL TYPE rcode=N         a res_send reply without answers
 * Exit status 0 (the test reads the lines). */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX 1024

typedef int (*query_fn)(const char *name, int type, unsigned char *answer,
			int anslen);

static struct __res_state state;
static int (*legacy_query)(const char *, int, int, unsigned char *, int);
static int (*legacy_send)(const unsigned char *, int, unsigned char *, int);

/* Split "a.b.c" into "a" and "b.c" for the querydomain forms. */
static void split(const char *name, char *first, size_t cap, const char **rest)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);

	if (n >= cap)
		n = cap - 1;
	memcpy(first, name, n);
	first[n] = '\0';
	*rest = dot ? dot + 1 : NULL;
}

static int by_query(const char *name, int type, unsigned char *a, int n)
{
	return res_query(name, C_IN, type, a, n);
}

static int by_search(const char *name, int type, unsigned char *a, int n)
{
	return res_search(name, C_IN, type, a, n);
}

static int by_querydomain(const char *name, int type, unsigned char *a, int n)
{
	char first[256];
	const char *rest;

	split(name, first, sizeof first, &rest);
	return res_querydomain(first, rest, C_IN, type, a, n);
}

static int send_with(int (*send)(const unsigned char *, int, unsigned char *,
				 int),
		     const char *name, int type, unsigned char *a, int n)
{
	unsigned char query[512];
	int len = res_mkquery(QUERY, name, C_IN, type, NULL, 0, NULL, query,
			      sizeof query);

	return len < 0 ? -1 : send(query, len, a, n);
}

static int by_send(const char *name, int type, unsigned char *a, int n)
{
	return send_with(res_send, name, type, a, n);
}

static int by_nquery(const char *name, int type, unsigned char *a, int n)
{
	return res_nquery(&state, name, C_IN, type, a, n);
}

static int by_nsearch(const char *name, int type, unsigned char *a, int n)
{
	return res_nsearch(&state, name, C_IN, type, a, n);
}

static int by_nquerydomain(const char *name, int type, unsigned char *a, int n)
{
	char first[256];
	const char *rest;

	split(name, first, sizeof first, &rest);
	return res_nquerydomain(&state, first, rest, C_IN, type, a, n);
}

static int by_nsend(const char *name, int type, unsigned char *a, int n)
{
	unsigned char query[512];
	int len = res_nmkquery(&state, QUERY, name, C_IN, type, NULL, 0, NULL,
			       query, sizeof query);

	return len < 0 ? -1 : res_nsend(&state, query, len, a, n);
}

static int by_legacy_query(const char *name, int type, unsigned char *a, int n)
{
	return legacy_query(name, C_IN, type, a, n);
}

static int by_legacy_send(const char *name, int type, unsigned char *a, int n)
{
	return send_with(legacy_send, name, type, a, n);
}

/* Print the answers of reply[0..len); the first A answer's reverse name
 * goes to reverse. Returns the number of answers. */
static int print_answers(const unsigned char *reply, int len, char *reverse,
			 size_t cap)
{
	const unsigned char *end = reply + len, *p;
	int answers, printed = 0, i, n;
	char text[NS_MAXDNAME];

	if (len < HFIXEDSZ)
		return 0;
	answers = reply[6] << 8 | reply[7];
	p = reply + HFIXEDSZ;
	n = dn_skipname(p, end);
	if (n < 0 || p + n + QFIXEDSZ > end)
		return 0;
	p += n + QFIXEDSZ;
	for (i = 0; i < answers; i++) {
		int type, rdlen;

		n = dn_skipname(p, end);
		if (n < 0 || p + n + RRFIXEDSZ > end)
			break;
		p += n;
		type = p[0] << 8 | p[1];
		rdlen = p[8] << 8 | p[9];
		p += RRFIXEDSZ;
		if (p + rdlen > end)
			break;
		if (type == T_A && rdlen == 4) {
			inet_ntop(AF_INET, p, text, sizeof text);
			if (reverse && !*reverse)
				snprintf(reverse, cap,
					 "%u.%u.%u.%u.in-addr.arpa", p[3], p[2],
					 p[1], p[0]);
		} else if (type == T_AAAA && rdlen == 16) {
			inet_ntop(AF_INET6, p, text, sizeof text);
		} else if (type == T_PTR) {
			if (dn_expand(reply, end, p, text, sizeof text) < 0)
				break;
		} else {
			snprintf(text, sizeof text, "type%d", type);
		}
		printf(" %s", text);
		printed++;
		p += rdlen;
	}
	return printed;
}

static void ask(const char *call, query_fn fn, const char *tname, int type,
		const char *name, char *reverse, size_t cap)
{
	unsigned char answer[ANSWER_MAX];
	int len;

	h_errno = 0;
	len = fn(name, type, answer, sizeof answer);
	if (len < 0) {
		printf("%s %s fail h_errno=%d\n", call, tname, h_errno);
		return;
	}
	if ((answer[3] & 0x0f) != 0 || (answer[6] << 8 | answer[7]) == 0) {
		printf("%s %s rcode=%d\n", call, tname, answer[3] & 0x0f);
		return;
	}
	printf("%s %s ok", call, tname);
	print_answers(answer, len, reverse, cap);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		query_fn fn;
	} calls[] = {
	    {"res_query", by_query},
	    {"res_search", by_search},
	    {"res_querydomain", by_querydomain},
	    {"res_send", by_send},
	    {"res_nquery", by_nquery},
	    {"res_nsearch", by_nsearch},
	    {"res_nquerydomain", by_nquerydomain},
	    {"res_nsend", by_nsend},
	    {"__res_query", by_legacy_query},
	    {"__res_send", by_legacy_send},
	};
	char srv[300];
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: resq NAME\n");
		return 2;
	}
	if (res_ninit(&state) != 0) {
		fprintf(stderr, "resq: res_ninit failed\n");
		return 1;
	}
	*(void **)&legacy_query = dlsym(RTLD_DEFAULT, "__res_query");
	*(void **)&legacy_send = dlsym(RTLD_DEFAULT, "__res_send");
	snprintf(srv, sizeof srv, "_http._tcp.%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		char reverse[80] = "";

		if ((calls[i].fn == by_legacy_query && !legacy_query) ||
		    (calls[i].fn == by_legacy_send && !legacy_send)) {
			printf("%s missing\n", calls[i].name);
			continue;
		}
		ask(calls[i].name, calls[i].fn, "A", T_A, argv[1], reverse,
		    sizeof reverse);
		ask(calls[i].name, calls[i].fn, "AAAA", T_AAAA, argv[1], NULL,
		    0);
		ask(calls[i].name, calls[i].fn, "PTR", T_PTR,
		    *reverse ? reverse : "0.0.0.0.in-addr.arpa", NULL, 0);
		ask(calls[i].name, calls[i].fn, "SRV", T_SRV, srv, NULL, 0);
		ask(calls[i].name, calls[i].fn, "MX", T_MX, argv[1], NULL, 0);
	}
	res_nclose(&state);
	return 0;
}
