/* doctor.c — "socksify doctor": every proxy of the configuration checked
 * the way the library will use it, one line (or one JSON object) per check,
 * each failure with the likely fix. The checks reuse the library's own
 * machine (tunnel.c over one hop, so SOCKS and HTTP CONNECT alike) and the
 * helper's pipelining probe.
 *
 * A proxy that is not the first hop of its chain is checked directly from
 * here too; when it cannot be reached that way (it may be reachable only
 * through the hops before it) that is a warning, and the chain's own line
 * (a CONNECT through every hop) gives the verdict. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "doctor.h"
#include "gssapi.h"
#include "libc_io.h"
#include "socks5_udp.h"
#include "tunnel.h"

#define DOCTOR_TCP_TIMEOUT_MS 5000
#define DOCTOR_UDP_WAIT_MS    1500
/* A pipelined handshake that a strict server does not understand ends in a
 * timeout: wait less than --probe does. */
#define DOCTOR_PROBE_TIMEOUT_MS 1500
#define DOCTOR_LEAK_WAIT_MS	8000
#define DOCTOR_LEAK_PORT	4242
#define DOCTOR_LEAK_NAME	"leak-test.socksify-doctor.invalid"
#define DOCTOR_LEAK_ADDRESS	"198.18.0.1"
#define DOCTOR_LEAK_ADDRESS_B	198, 18, 0, 1

extern char **environ;

enum verdict {
	VERDICT_PASS,
	VERDICT_FAIL, /* a needed check failed: exit status 1 */
	VERDICT_WARN, /* failed, but this configuration does not need it */
	VERDICT_SKIP, /* could not be checked (say why) */
};

struct doctor {
	const struct config *cfg;
	bool json, any_line;
	bool have_target;	     /* --target given */
	bool have_addr;		     /* and its address is known here */
	struct endpoint target_addr; /* an IP endpoint, when have_addr */
	struct endpoint target_name; /* ENDPOINT_NONE: the target is an IP */
	unsigned failures;
};

/* One proxy under examination. */
struct doctor_proxy {
	const struct proxy *p;
	char shown[CONFIG_URL_TEXT_MAX];
	struct endpoint self; /* its resolved address */
	bool later_hop;	      /* not the first hop of its chain */
	bool udp_needed, bind_needed;
};

static double doctor_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- output ---- */

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *const verdict_text[] = {
    [VERDICT_PASS] = "ok",
    [VERDICT_FAIL] = "FAIL",
    [VERDICT_WARN] = "warn",
    [VERDICT_SKIP] = "skip",
};

static const char *const verdict_json[] = {
    [VERDICT_PASS] = "pass",
    [VERDICT_FAIL] = "fail",
    [VERDICT_WARN] = "warn",
    [VERDICT_SKIP] = "skip",
};

/* Report one check about subject. ms < 0: no time to show. fix may be
 * NULL (only failures and warnings carry one). */
static void report(struct doctor *d, const char *subject, const char *check,
		   enum verdict v, double ms, const char *detail,
		   const char *fix)
{
	if (v == VERDICT_FAIL)
		d->failures++;
	if (!d->json) {
		printf("%-4s %s: %s: %s", verdict_text[v], subject, check,
		       detail);
		if (ms >= 0)
			printf(" (%.1f ms)", ms);
		if (fix && (v == VERDICT_FAIL || v == VERDICT_WARN))
			printf("; fix: %s", fix);
		putchar('\n');
		return;
	}
	printf("%s\n  {\"subject\": ", d->any_line ? "," : "");
	json_string(subject);
	printf(", \"check\": ");
	json_string(check);
	printf(", \"verdict\": \"%s\", \"detail\": ", verdict_json[v]);
	json_string(detail);
	if (ms >= 0)
		printf(", \"ms\": %.1f", ms);
	if (fix && (v == VERDICT_FAIL || v == VERDICT_WARN)) {
		printf(", \"fix\": ");
		json_string(fix);
	}
	putchar('}');
	d->any_line = true;
}

/* ---- one hop through the library's machine ---- */

/* Resolve host (an IP or a name) to an IP endpoint with port, IPv4 first.
 * Returns 0 or an EAI_* code. */
static int resolve(const struct endpoint *host, struct endpoint *out)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int rc;

	if (host->kind != ENDPOINT_NAME) {
		*out = *host;
		return 0;
	}
	rc = getaddrinfo(host->u.name, NULL, &hints, &res);
	if (rc != 0)
		return rc;
	ai = res;
	if (!ai)
		return EAI_NONAME;
	for (struct addrinfo *a = res; a; a = a->ai_next)
		if (a->ai_family == AF_INET) {
			ai = a;
			break;
		}
	rc = endpoint_from_sockaddr(out, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	if (rc < 0)
		return EAI_FAMILY;
	out->port = host->port;
	return 0;
}

static int endpoint_family(const struct endpoint *ep)
{
	return ep->kind == ENDPOINT_IPV6 ? AF_INET6 : AF_INET;
}

/* Open a non-blocking TCP socket to dp's proxy and run cmd for dest over
 * that one hop. Returns 0 with *fd_out the open connection (when fd_out is
 * not NULL; else closed), or -errno with res->why. *ms is the time taken. */
static int hop_open(const struct doctor *d, const struct doctor_proxy *dp,
		    const struct endpoint *dest, enum handshake_cmd cmd,
		    struct tunnel_result *res, double *ms, int *fd_out)
{
	struct tunnel_path path = {.hops = dp->p, .count = 1};
	int family = endpoint_family(&dp->self);
	struct sockaddr_storage ss;
	socklen_t len = endpoint_to_sockaddr(&dp->self, family, &ss);
	double start = doctor_now_ms();
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	res->why = NULL;
	if (fd < 0)
		return -errno;
	rc = tunnel_open_path(&libc_socket_io, d->cfg, &path, fd,
			      (struct sockaddr *)&ss, len, dest, cmd, res);
	*ms = doctor_now_ms() - start;
	if (rc == 0 && fd_out)
		*fd_out = fd;
	else
		close(fd);
	return rc;
}

static const char *why_or_errno(const struct tunnel_result *res, int rc)
{
	return res->why ? res->why : strerror(-rc);
}

/* ---- the checks of one proxy ---- */

static const char *tcp_fix(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "nothing listens there: start the proxy, or correct "
		       "the host and port in the proxy URL";
	case ETIMEDOUT:
		return "no answer: check the host, a firewall, or the route "
		       "to the proxy";
	default:
		return "check the proxy's host and port, and that it runs";
	}
}

/* TCP reachability. Returns true when the proxy accepted a connection. */
static bool check_tcp(struct doctor *d, const struct doctor_proxy *dp)
{
	int family = endpoint_family(&dp->self);
	struct sockaddr_storage ss;
	socklen_t len = endpoint_to_sockaddr(&dp->self, family, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	double start = doctor_now_ms();
	char detail[1024];
	int rc = fd < 0 ? -errno : 0;

	if (rc == 0)
		rc = netio_connect(&libc_socket_io, fd, (struct sockaddr *)&ss,
				   len, netio_now_ms() + DOCTOR_TCP_TIMEOUT_MS);
	if (fd >= 0)
		close(fd);
	if (rc == 0) {
		report(d, dp->shown, "tcp", VERDICT_PASS,
		       doctor_now_ms() - start, "reachable", NULL);
		return true;
	}
	snprintf(detail, sizeof detail, "cannot connect: %s%s", strerror(-rc),
		 dp->later_hop ? " (a later hop of a chain may be reachable "
				 "only through the hops before it)"
			       : "");
	report(d, dp->shown, "tcp", dp->later_hop ? VERDICT_WARN : VERDICT_FAIL,
	       -1, detail, tcp_fix(-rc));
	return false;
}

/* Errors that are the proxy's answer about a destination: the handshake
 * itself worked. */
static bool is_destination_answer(int rc)
{
	return rc == -EACCES || rc == -ECONNREFUSED || rc == -EHOSTUNREACH ||
	       rc == -ENETUNREACH || rc == -ECONNABORTED;
}

/* Whether a handshake's failure is a refusal of our methods or our
 * credentials (the machine's texts; HTTP says 407 as EACCES). */
static bool failed_methods(const struct tunnel_result *res)
{
	return res->why && strstr(res->why, "authentication methods");
}

static bool failed_auth(const struct doctor_proxy *dp, int rc,
			const struct tunnel_result *res)
{
	if (res->why && strstr(res->why, "username/password"))
		return true;
	/* HTTP: 407, or 401 as tinyproxy answers a wrong password. */
	return proxy_is_http(dp->p) && rc == -EACCES && res->why &&
	       (strstr(res->why, "(407)") || strstr(res->why, "(401)"));
}

static const char *connect_fix(int err)
{
	switch (err) {
	case EACCES:
		return "the proxy's rules refuse this destination: allow it "
		       "in the proxy's configuration";
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return "the proxy cannot reach the target: check that the "
		       "target runs and that the proxy can route to it";
	case ETIMEDOUT:
		return "the proxy did not answer in time: raise "
		       "handshake_timeout or check the proxy's load";
	default:
		return "check that this is a proxy of the URL's scheme";
	}
}

/* What to do about a failed GSS-API exchange, from the machine's text. */
static const char *gssapi_fix(const char *why)
{
	if (strstr(why, "kinit"))
		return "get a Kerberos ticket with kinit (klist shows it)";
	if (strstr(why, "not supported") || strstr(why, "protection level"))
		return "use gssapi-protection=clear (the only level socksify "
		       "keeps) on the proxy and in the proxy's configuration";
	if (strstr(why, "library"))
		return "install the Debian package " GSSAPI_PACKAGE;
	return "check gssapi-service= (default rcmd: the proxy's principal "
	       "is SERVICE/HOST) and the proxy's keytab; socksify's log "
	       "line has the GSS-API library's own words";
}

/* A GSS-API proxy's exchange failed: one line for it. Returns false. */
static bool report_gssapi(struct doctor *d, const struct doctor_proxy *dp,
			  const struct tunnel_result *res)
{
	char target[PROXY_GSSAPI_TARGET_MAX], detail[1024];

	snprintf(detail, sizeof detail, "%s (asked for %s)", res->why,
		 proxy_gssapi_target(dp->p, target, sizeof target));
	report(d, dp->shown, "gssapi", VERDICT_FAIL, -1, detail,
	       gssapi_fix(res->why));
	return false;
}

/* The handshake ended before the proxy's final reply, for a reason other
 * than our methods or credentials: one line for it. Returns false. */
static bool report_no_reply(struct doctor *d, const struct doctor_proxy *dp,
			    int rc, const struct tunnel_result *res)
{
	char detail[1024];

	snprintf(detail, sizeof detail, "the handshake did not complete: %s",
		 why_or_errno(res, rc));
	report(d, dp->shown, "handshake", VERDICT_FAIL, -1, detail,
	       rc == -ETIMEDOUT
		   ? "the proxy accepts connections but does not answer: "
		     "check that it is a proxy of the URL's scheme and that "
		     "it is not overloaded"
		   : "check that the proxy speaks the URL's scheme "
		     "(socks5h, socks5, socks4a, socks4, http)");
	return false;
}

/* Methods and authentication as the CONNECT handshake showed them.
 * Returns true when the handshake got past them (to the final reply). */
static bool report_auth(struct doctor *d, const struct doctor_proxy *dp, int rc,
			const struct tunnel_result *res)
{
	const struct proxy *p = dp->p;
	bool got_reply = rc == 0 || is_destination_answer(rc);

	if (proxy_is_socks5(p)) {
		if (failed_methods(res)) {
			report(d, dp->shown, "methods", VERDICT_FAIL, -1,
			       res->why,
			       p->gssapi ? "the proxy refuses GSS-API: check "
					   "its socksmethod (gssapi)"
			       : p->has_auth
				   ? "the proxy refuses username/password: "
				     "check which methods it allows"
				   : "the proxy wants authentication: put "
				     "user:password@ in the proxy URL");
			return false;
		}
		if (p->gssapi && res->why &&
		    (strstr(res->why, "GSS-API") ||
		     strstr(res->why, "Kerberos")))
			return report_gssapi(d, dp, res);
		if (!got_reply)
			return report_no_reply(d, dp, rc, res);
		report(d, dp->shown, "methods", VERDICT_PASS, -1,
		       p->gssapi     ? "GSS-API offered and accepted "
				       "(protection clear)"
		       : p->has_auth ? "username/password offered and accepted"
				     : "no authentication accepted",
		       NULL);
	}
	if (failed_auth(dp, rc, res)) {
		report(d, dp->shown, "auth", VERDICT_FAIL, -1, res->why,
		       p->has_auth ? "check the user name and password in the "
				     "proxy URL (percent-encode special "
				     "characters)"
				   : "the proxy wants authentication: put "
				     "user:password@ in the proxy URL");
		return false;
	}
	if (!got_reply)
		return report_no_reply(d, dp, rc, res);
	report(d, dp->shown, "auth", p->has_auth ? VERDICT_PASS : VERDICT_SKIP,
	       -1,
	       p->has_auth ? "credentials accepted" : "no credentials given",
	       NULL);
	return true;
}

/* CONNECT by address (to the target, or to the proxy itself when no
 * target is given). Returns false when later checks are pointless. */
static bool check_connect_address(struct doctor *d,
				  const struct doctor_proxy *dp)
{
	const struct endpoint *dest =
	    d->have_addr ? &d->target_addr : &dp->self;
	struct tunnel_result res;
	char detail[1024], text[ENDPOINT_TEXT_MAX];
	double ms;
	int rc = hop_open(d, dp, dest, HANDSHAKE_CONNECT, &res, &ms, NULL);

	if (!report_auth(d, dp, rc, &res))
		return false;
	endpoint_format(dest, text, sizeof text);
	if (!d->have_addr) {
		bool answered = rc == 0 || is_destination_answer(rc);

		snprintf(detail, sizeof detail,
			 !answered	  ? "handshake failed: %s"
			 : d->have_target ? "the proxy answers requests; the "
					    "target's name does not resolve "
					    "here, so only by name"
					  : "the proxy answers requests; give "
					    "--target HOST:PORT to test a "
					    "real destination",
			 why_or_errno(&res, rc));
		report(d, dp->shown, "connect-address",
		       answered ? VERDICT_SKIP : VERDICT_FAIL, -1, detail,
		       connect_fix(-rc));
		return answered;
	}
	if (rc == 0)
		snprintf(detail, sizeof detail, "CONNECT %s works", text);
	else
		snprintf(detail, sizeof detail, "CONNECT %s failed: %s", text,
			 why_or_errno(&res, rc));
	report(d, dp->shown, "connect-address",
	       rc == 0 ? VERDICT_PASS : VERDICT_FAIL, rc == 0 ? ms : -1, detail,
	       connect_fix(-rc));
	return true;
}

/* CONNECT by name: the proxy resolves it (remote DNS). */
static void check_connect_name(struct doctor *d, const struct doctor_proxy *dp)
{
	enum verdict bad = d->cfg->remote_dns ? VERDICT_FAIL : VERDICT_WARN;
	struct tunnel_result res;
	char detail[1024];
	double ms;
	int rc;

	if (d->target_name.kind != ENDPOINT_NAME) {
		report(d, dp->shown, "connect-name", VERDICT_SKIP, -1,
		       "give --target NAME:PORT to test remote DNS", NULL);
		return;
	}
	if (!proxy_sends_names(dp->p)) {
		report(d, dp->shown, "connect-name", VERDICT_SKIP, -1,
		       "this scheme sends addresses, not names (names are "
		       "resolved here)",
		       NULL);
		return;
	}
	rc = hop_open(d, dp, &d->target_name, HANDSHAKE_CONNECT, &res, &ms,
		      NULL);
	if (rc == 0)
		snprintf(detail, sizeof detail, "CONNECT %s:%u works",
			 d->target_name.u.name, d->target_name.port);
	else
		snprintf(detail, sizeof detail, "CONNECT %s:%u failed: %s",
			 d->target_name.u.name, d->target_name.port,
			 why_or_errno(&res, rc));
	report(d, dp->shown, "connect-name", rc == 0 ? VERDICT_PASS : bad,
	       rc == 0 ? ms : -1, detail,
	       "the proxy cannot resolve or reach the name: check its DNS, "
	       "or set remote_dns off to resolve names here");
}

/* A datagram for the target: a DNS question for the root's NS records
 * when the target's port is 53, else text for an echo service. Returns
 * its length. */
static size_t udp_probe_payload(const struct endpoint *target, uint8_t *buf)
{
	static const uint8_t dns_query[] = {
	    0x5d, 0x0c, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1};
	static const char echo[] = "socksify doctor\n";

	if (target->port == 53) {
		memcpy(buf, dns_query, sizeof dns_query);
		return sizeof dns_query;
	}
	memcpy(buf, echo, sizeof echo - 1);
	return sizeof echo - 1;
}

/* Send one datagram to the target through relay and wait for an answer
 * from it. Returns the round-trip time in ms, or -1 when none came. */
static double udp_round_trip(const struct doctor *d,
			     const struct endpoint *relay)
{
	uint8_t out[SOCKS5_UDP_HEADER_MAX + 64], in[2048];
	int family = endpoint_family(relay);
	struct sockaddr_storage ss;
	socklen_t len = endpoint_to_sockaddr(relay, family, &ss);
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const struct endpoint *target =
	    d->have_addr ? &d->target_addr : &d->target_name;
	long head = socks5_udp_build_header(out, sizeof out, target);
	double start = doctor_now_ms(), got = -1;
	struct endpoint src;
	size_t n;

	if (fd < 0 || head < 0 || len == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = (size_t)head + udp_probe_payload(target, out + head);
	if (sendto(fd, out, n, 0, (struct sockaddr *)&ss, len) == (ssize_t)n) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};

		while (got < 0 && poll(&pfd, 1, DOCTOR_UDP_WAIT_MS) == 1) {
			ssize_t r = recv(fd, in, sizeof in, 0);

			if (r <= 0)
				break;
			if (socks5_udp_parse_header(in, (size_t)r, &src) > 0)
				got = doctor_now_ms() - start;
		}
	}
	close(fd);
	return got;
}

/* The relay a UDP ASSOCIATE reply named: an unspecified address means
 * the proxy's own. */
static void relay_address(const struct doctor_proxy *dp,
			  const struct endpoint *bound, struct endpoint *relay)
{
	static const uint8_t zeros[16];
	bool unspecified = (bound->kind == ENDPOINT_IPV4 &&
			    !memcmp(bound->u.ipv4, zeros, 4)) ||
			   (bound->kind == ENDPOINT_IPV6 &&
			    !memcmp(bound->u.ipv6, zeros, 16)) ||
			   bound->kind == ENDPOINT_NAME;

	*relay = unspecified ? dp->self : *bound;
	relay->port = bound->port;
}

static void report_udp_association(struct doctor *d,
				   const struct doctor_proxy *dp,
				   const struct endpoint *relay, double ms)
{
	char text[ENDPOINT_TEXT_MAX], target[ENDPOINT_TEXT_MAX];
	char detail[1024];
	double rtt = d->have_target ? udp_round_trip(d, relay) : -1;

	endpoint_format(relay, text, sizeof text);
	endpoint_format(d->have_addr ? &d->target_addr : &d->target_name,
			target, sizeof target);
	if (rtt >= 0) {
		snprintf(detail, sizeof detail,
			 "UDP ASSOCIATE works (relay %s); a datagram to %s "
			 "came back",
			 text, target);
		report(d, dp->shown, "udp", VERDICT_PASS, rtt, detail, NULL);
		return;
	}
	snprintf(detail, sizeof detail, "UDP ASSOCIATE works (relay %s)%s%s%s",
		 text, d->have_target ? "; no datagram came back from " : "",
		 d->have_target ? target : "",
		 d->have_target ? " (no UDP echo or DNS service there?)" : "");
	report(d, dp->shown, "udp", VERDICT_PASS, ms, detail, NULL);
}

/* Why this configuration never sends UDP to a proxy ("udp block" or
 * "udp direct" in the file, not a block that "udp auto" chose for the
 * default chain: route rules may still carry UDP then), or NULL. */
static const char *udp_not_proxied(const struct config *cfg)
{
	if (cfg->udp_mode == UDP_DIRECT)
		return "not checked: 'udp direct' in the configuration (UDP "
		       "goes around the proxies)";
	if (cfg->udp_mode == UDP_BLOCK && !cfg->udp_auto)
		return "not checked: 'udp block' in the configuration (UDP is "
		       "refused, never sent to a proxy)";
	return NULL;
}

/* UDP ASSOCIATE, and a datagram round trip through the relay when there
 * is a target; nothing when the configuration sends no UDP to proxies
 * (no association to ask for, no echo to wait for). */
static void check_udp(struct doctor *d, const struct doctor_proxy *dp)
{
	struct endpoint any = {.kind = ENDPOINT_IPV4}, relay;
	const char *off = udp_not_proxied(d->cfg);
	struct tunnel_result res;
	char detail[1024];
	double ms;
	int fd = -1, rc;

	if (off) {
		report(d, dp->shown, "udp", VERDICT_SKIP, -1, off, NULL);
		return;
	}
	if (!proxy_is_socks5(dp->p)) {
		report(d, dp->shown, "udp", VERDICT_SKIP, -1,
		       "only SOCKS5 has UDP ASSOCIATE", NULL);
		return;
	}
	rc = hop_open(d, dp, &any, HANDSHAKE_UDP_ASSOCIATE, &res, &ms, &fd);
	if (rc < 0) {
		snprintf(detail, sizeof detail, "UDP ASSOCIATE refused: %s",
			 why_or_errno(&res, rc));
		report(d, dp->shown, "udp",
		       dp->udp_needed ? VERDICT_FAIL : VERDICT_WARN, -1, detail,
		       "the proxy has no UDP relay: set 'udp block' (or 'udp "
		       "direct') in the configuration, or enable UDP in the "
		       "proxy (danted: udpassociate and udpreply)");
		return;
	}
	relay_address(dp, &res.bound, &relay);
	report_udp_association(d, dp, &relay, ms);
	close(fd); /* the association ends with its control connection */
}

/* BIND: the first reply is enough to know it is permitted. */
static void check_bind(struct doctor *d, const struct doctor_proxy *dp)
{
	struct endpoint any = {.kind = ENDPOINT_IPV4};
	struct tunnel_result res;
	char detail[1024], text[ENDPOINT_TEXT_MAX];
	double ms;
	int rc;

	if (proxy_is_http(dp->p)) {
		report(d, dp->shown, "bind", VERDICT_SKIP, -1,
		       "HTTP CONNECT has no BIND", NULL);
		return;
	}
	rc = hop_open(d, dp, &any, HANDSHAKE_BIND, &res, &ms, NULL);
	if (rc == 0)
		snprintf(detail, sizeof detail,
			 "BIND permitted (the proxy listens at %s)",
			 endpoint_format(&res.bound, text, sizeof text));
	else
		snprintf(detail, sizeof detail, "BIND refused: %s",
			 why_or_errno(&res, rc));
	report(d, dp->shown, "bind",
	       rc == 0		 ? VERDICT_PASS
	       : dp->bind_needed ? VERDICT_FAIL
				 : VERDICT_WARN,
	       rc == 0 ? ms : -1, detail,
	       "the proxy does not allow BIND: enable it there (danted: bind "
	       "and bindreply), or leave 'bind' off");
}

/* Pipelining: the helper's --probe. */
static void check_pipelining(struct doctor *d, const struct doctor_proxy *dp)
{
	const char *why = NULL;
	char detail[1024];
	int rc;

	if (dp->p->gssapi) {
		report(d, dp->shown, "pipelining", VERDICT_SKIP, -1,
		       "GSS-API handshakes are never pipelined", NULL);
		return;
	}
	if (!proxy_is_socks5(dp->p)) {
		report(d, dp->shown, "pipelining", VERDICT_SKIP, -1,
		       "only SOCKS5 handshakes can be pipelined", NULL);
		return;
	}
	rc = probe_pipelining(dp->p, &dp->self, DOCTOR_PROBE_TIMEOUT_MS, &why);
	if (rc == 0) {
		report(d, dp->shown, "pipelining", VERDICT_PASS, -1,
		       "pipelined handshakes accepted (the 'pipeline' option "
		       "saves round trips)",
		       NULL);
		return;
	}
	snprintf(detail, sizeof detail, "%s (%s)",
		 rc == 1 ? "pipelined handshakes not accepted"
			 : "cannot tell whether pipelining works",
		 why ? why : "no reason given");
	report(d, dp->shown, "pipelining",
	       dp->p->pipeline ? VERDICT_FAIL : VERDICT_WARN, -1, detail,
	       "do not pipeline this proxy: drop 'pipeline' from its line "
	       "and SOCKSIFY_PIPELINE");
}

static void check_proxy(struct doctor *d, struct doctor_proxy *dp)
{
	int rc = resolve(&dp->p->addr, &dp->self);

	if (rc != 0) {
		report(d, dp->shown, "resolve", VERDICT_FAIL, -1,
		       gai_strerror(rc),
		       "check the host name in the proxy URL");
		return;
	}
	if (!check_tcp(d, dp) || !check_connect_address(d, dp))
		return;
	check_connect_name(d, dp);
	check_udp(d, dp);
	check_bind(d, dp);
	check_pipelining(d, dp);
}

/* CONNECT to dest through every hop of path (its first hop at first).
 * Returns 0 or -errno, with res filled. */
static int chain_open(const struct doctor *d, const struct tunnel_path *path,
		      const struct endpoint *first, const struct endpoint *dest,
		      struct tunnel_result *res)
{
	int family = endpoint_family(first);
	struct sockaddr_storage ss;
	socklen_t len = endpoint_to_sockaddr(first, family, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	res->why = NULL;
	res->hop = 0;
	if (fd < 0)
		return -errno;
	rc = tunnel_open_path(&libc_socket_io, d->cfg, path, fd,
			      (struct sockaddr *)&ss, len, dest,
			      HANDSHAKE_CONNECT, res);
	close(fd);
	return rc;
}

/* A chain of several hops: one CONNECT through all of them (to the
 * target, or to the first hop itself when there is none). */
static void check_chain(struct doctor *d, unsigned index)
{
	struct tunnel_path path = {.limit_ms = 0};
	struct endpoint first;
	const struct endpoint *dest;
	struct tunnel_result res;
	char subject[CONFIG_URL_TEXT_MAX + 16], name[CONFIG_URL_TEXT_MAX];
	char detail[1024];
	double start = doctor_now_ms();
	bool ok;
	int rc;

	path.hops = config_chain_hops(d->cfg, index, &path.count);
	snprintf(subject, sizeof subject, "chain %s",
		 config_target_name(d->cfg,
				    (struct route_target){TARGET_CHAIN, index},
				    name, sizeof name));
	if (resolve(&path.hops[0].addr, &first) != 0)
		return; /* its first hop's line says so */
	dest = d->have_addr	? &d->target_addr
	       : d->have_target ? &d->target_name
				: &first;
	rc = chain_open(d, &path, &first, dest, &res);
	ok = rc == 0 || (!d->have_target && is_destination_answer(rc));
	if (ok)
		snprintf(detail, sizeof detail,
			 "CONNECT through all %u hops works", path.count);
	else
		snprintf(detail, sizeof detail,
			 "CONNECT through the %u hops failed at hop %d: %s",
			 path.count, res.hop + 1, why_or_errno(&res, rc));
	report(d, subject, "connect-chain", ok ? VERDICT_PASS : VERDICT_FAIL,
	       ok ? doctor_now_ms() - start : -1, detail,
	       "see the failing hop's lines; a later hop must be reachable "
	       "from the one before it");
}

/* ---- leak self-test ---- */

/* Where libsocksify.so is: SOCKSIFY_LIBRARY, else beside this helper. */
static int library_path(char *buf, size_t cap)
{
	const char *env = getenv("SOCKSIFY_LIBRARY");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && env[0]) {
		snprintf(buf, cap, "%s", env);
		return access(buf, R_OK);
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(buf, cap, "%s/libsocksify.so", self) >= cap)
		return -1;
	return access(buf, R_OK);
}

/* Read exactly len bytes from a blocking socket with a receive timeout. */
static int read_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* Serve one SOCKS5 CONNECT as the observing proxy: no authentication,
 * success. Writes what was asked for into asked (a name, or an IPv4
 * address as text). Returns 0 or -1. */
static int observe_one(int conn, char *asked, size_t cap)
{
	static const uint8_t choose[] = {5, 0};
	static const uint8_t ok[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	uint8_t buf[300];

	if (read_exact(conn, buf, 2) < 0 || buf[0] != 5 ||
	    read_exact(conn, buf + 2, buf[1]) < 0 ||
	    send(conn, choose, sizeof choose, MSG_NOSIGNAL) != 2 ||
	    read_exact(conn, buf, 5) < 0 || buf[1] != 1)
		return -1;
	if (buf[3] == 3) {
		if (read_exact(conn, buf + 5, (size_t)buf[4] + 2) < 0)
			return -1;
		snprintf(asked, cap, "%.*s:%u", buf[4], (char *)buf + 5,
			 (unsigned)(buf[5 + buf[4]] << 8 | buf[6 + buf[4]]));
	} else if (buf[3] == 1) {
		if (read_exact(conn, buf + 5, 5) < 0)
			return -1;
		snprintf(asked, cap, "%u.%u.%u.%u:%u", buf[4], buf[5], buf[6],
			 buf[7], (unsigned)(buf[8] << 8 | buf[9]));
	} else {
		return -1;
	}
	return send(conn, ok, sizeof ok, MSG_NOSIGNAL) == sizeof ok ? 0 : -1;
}

/* Accept and serve up to count connections on listener until deadline.
 * Returns how many requests were served; asked[i] what each asked for. */
static int observe(int listener, char asked[][300], int count,
		   uint64_t deadline_ms)
{
	struct timeval tv = {.tv_sec = 3};
	int served = 0;

	while (served < count) {
		struct pollfd pfd = {.fd = listener, .events = POLLIN};
		int conn;

		if (poll(&pfd, 1, netio_remaining_ms(deadline_ms)) != 1)
			break;
		conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			break;
		setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (observe_one(conn, asked[served], sizeof asked[0]) == 0)
			served++;
		close(conn);
	}
	return served;
}

/* A loopback listener on an ephemeral port; *port gets it. */
static int observer_listen(uint16_t *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

#define LEAK_ENV_ADDED 4

/* Free what leak_environment() made: env and its added strings. */
static void leak_environment_free(char **env, size_t first)
{
	for (size_t i = first; i < first + LEAK_ENV_ADDED; i++)
		free(env[i]);
	free(env);
}

/* "NAME=VALUE" in a new string, or NULL. */
static char *env_entry(const char *name, const char *value)
{
	char *entry;

	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return NULL;
	return entry;
}

/* The child's environment: ours without LD_PRELOAD and SOCKSIFY_*, plus
 * LEAK_ENV_ADDED strings from *first on: the library, the observer as the
 * proxy, an empty config file and the error log level (the caller frees
 * them with leak_environment_free). Returns NULL when out of memory. */
static char **leak_environment(const char *library, uint16_t port,
			       const char *conf, size_t *first)
{
	char proxy[64];
	size_t n = 0, k = 0;
	char **env;

	snprintf(proxy, sizeof proxy, "socks5h://127.0.0.1:%u", port);
	while (environ[n])
		n++;
	env = calloc(n + LEAK_ENV_ADDED + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "SOCKSIFY_", 9) != 0 &&
		    strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
			env[k++] = environ[i];
	*first = k;
	env[k] = env_entry("LD_PRELOAD", library);
	env[k + 1] = env_entry("SOCKSIFY_PROXY", proxy);
	env[k + 2] = env_entry("SOCKSIFY_CONF", conf);
	env[k + 3] = env_entry("SOCKSIFY_LOG", "error");
	for (size_t i = k; i < k + LEAK_ENV_ADDED; i++)
		if (!env[i]) {
			leak_environment_free(env, k);
			return NULL;
		}
	return env;
}

/* Start "socksify-helper doctor-leak NAME" under the library. Returns its
 * pid, or -1. */
static pid_t leak_start(const char *library, uint16_t port, const char *conf)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t first;
	char **env;
	pid_t pid;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	env = leak_environment(library, port, conf, &first);
	if (!env)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char mode[] = "doctor-leak", name[] = DOCTOR_LEAK_NAME;
		char *argv[] = {self, mode, name, NULL};

		dup2(STDERR_FILENO, STDOUT_FILENO); /* never into our JSON */
		execve(self, argv, env);
		_exit(127);
	}
	leak_environment_free(env, first);
	return pid;
}

/* Wait for the child (it ends by itself within DOCTOR_LEAK_WAIT_MS);
 * kill it (by its pid, which we started) when it does not. Returns its
 * exit status, or -1. */
static int leak_reap(pid_t pid, uint64_t deadline_ms)
{
	int status;

	while (netio_now_ms() < deadline_ms) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void leak_verdict(struct doctor *d, int served, char asked[][300],
			 int status)
{
	char want_name[300], want_addr[300], detail[900];
	bool name_ok, addr_ok;

	snprintf(want_name, sizeof want_name, "%s:%u", DOCTOR_LEAK_NAME,
		 DOCTOR_LEAK_PORT);
	snprintf(want_addr, sizeof want_addr, "%s:%u", DOCTOR_LEAK_ADDRESS,
		 DOCTOR_LEAK_PORT);
	name_ok = served >= 1 && strcmp(asked[0], want_name) == 0;
	addr_ok = served >= 2 && strcmp(asked[1], want_addr) == 0;
	if (name_ok && addr_ok && status == 0) {
		report(d, "library", "leak-test", VERDICT_PASS, -1,
		       "a child under the library looked a name up and "
		       "connected by name and by address: both reached the "
		       "proxy (the name as a name: no local DNS)",
		       NULL);
		return;
	}
	snprintf(detail, sizeof detail,
		 "the proxy saw %d of 2 connects (%s%s%s), the child exited "
		 "with %d",
		 served, served >= 1 ? asked[0] : "none",
		 served >= 2 ? ", " : "", served >= 2 ? asked[1] : "", status);
	report(d, "library", "leak-test", VERDICT_FAIL, -1, detail,
	       "the library did not carry the program: check that "
	       "libsocksify.so belongs to this socksify and that nothing "
	       "clears LD_PRELOAD");
}

/* Run the helper itself under the library, with a proxy of ours that
 * records what reaches it. */
static void check_leak(struct doctor *d)
{
	char library[PATH_MAX], conf[] = "/tmp/socksify-doctor-XXXXXX";
	char asked[2][300];
	uint64_t deadline = netio_now_ms() + DOCTOR_LEAK_WAIT_MS;
	uint16_t port;
	int listener, served, status, conf_fd;
	pid_t pid;

	if (library_path(library, sizeof library) != 0) {
		report(d, "library", "leak-test", VERDICT_FAIL, -1,
		       "libsocksify.so not found beside socksify-helper",
		       "reinstall socksify, or point SOCKSIFY_LIBRARY at it");
		return;
	}
	listener = observer_listen(&port);
	conf_fd = mkstemp(conf);
	pid = listener >= 0 && conf_fd >= 0 ? leak_start(library, port, conf)
					    : -1;
	if (pid < 0) {
		report(d, "library", "leak-test", VERDICT_SKIP, -1,
		       "cannot start the test child", NULL);
	} else {
		served = observe(listener, asked, 2, deadline);
		status = leak_reap(pid, deadline + 1000);
		leak_verdict(d, served, asked, status);
	}
	if (conf_fd >= 0) {
		close(conf_fd);
		unlink(conf);
	}
	if (listener >= 0)
		close(listener);
}

int doctor_leak_child(const char *name)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM},
			*res;
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(DOCTOR_LEAK_PORT)};
	static const uint8_t address[4] = {DOCTOR_LEAK_ADDRESS_B};
	int fd, rc;

	alarm(DOCTOR_LEAK_WAIT_MS / 1000);
	if (getaddrinfo(name, "4242", &hints, &res) != 0)
		return 2;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return 3;
	memcpy(&sin.sin_addr, address, 4);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sin, sizeof sin);
	if (fd >= 0)
		close(fd);
	return rc < 0 ? 4 : 0;
}

/* ---- the run ---- */

/* LD_PRELOAD without the words that name libsocksify, into buf. Returns
 * true when there was such a word. */
static bool preload_without_library(const char *preload, char *buf, size_t cap)
{
	bool found = false;
	size_t used = 0;

	buf[0] = '\0';
	while (*preload) {
		size_t len = strcspn(preload, " :");

		if (len && memmem(preload, len, "libsocksify", 11))
			found = true;
		else if (len && used + len + 2 <= cap) {
			if (used)
				buf[used++] = ' ';
			memcpy(buf + used, preload, len);
			used += len;
			buf[used] = '\0';
		}
		preload += len;
		preload += *preload ? 1 : 0;
	}
	return found;
}

void doctor_leave_library(char **argv)
{
	const char *preload = getenv("LD_PRELOAD");
	char rest[PATH_MAX * 2];

	if (!preload || !preload_without_library(preload, rest, sizeof rest))
		return;
	/* Our own checks must reach the proxies directly, not through the
	 * library a socksified shell preloads: start again without it. */
	if (rest[0])
		setenv("LD_PRELOAD", rest, 1);
	else
		unsetenv("LD_PRELOAD");
	execv("/proc/self/exe", argv);
	/* Cannot start again: go on; the proxies' addresses are usually
	 * direct by the library's rules (loopback). */
}

/* Parse HOST:PORT ([v6]:PORT) into the target. Returns 0 or -1. */
static int parse_target(struct doctor *d, const char *text)
{
	const char *colon = strrchr(text, ':');
	char host[ENDPOINT_NAME_MAX + 1];
	struct endpoint given;
	size_t len;
	char *end;
	long port;

	if (!colon || colon == text)
		return -1;
	port = strtol(colon + 1, &end, 10);
	len = (size_t)(colon - text);
	if (*end || port < 1 || port > 65535 || len > ENDPOINT_NAME_MAX)
		return -1;
	if (text[0] == '[' && len >= 2 && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	memcpy(host, text, len);
	host[len] = '\0';
	if (endpoint_parse_ip(&given, host) < 0 &&
	    endpoint_set_name(&given, host, len, 0) < 0)
		return -1;
	given.port = (uint16_t)port;
	if (given.kind == ENDPOINT_NAME)
		d->target_name = given;
	/* A name that only the proxy can resolve is tested by name alone. */
	d->have_addr = resolve(&given, &d->target_addr) == 0;
	d->have_target = true;
	return 0;
}

static const char *doctor_env(const char *name)
{
	return getenv(name);
}

static int doctor_usage(void)
{
	fprintf(stderr, "usage: socksify doctor [-x URL | -f FILE] "
			"[--target HOST:PORT] [--json]\n");
	return 2;
}

/* Options into the environment the configuration is read from. */
static int doctor_options(struct doctor *d, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i],
			   *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(arg, "--json") == 0) {
			d->json = true;
			continue;
		}
		if (!value)
			return -1;
		i++;
		if (strcmp(arg, "-x") == 0 || strcmp(arg, "--proxy") == 0) {
			setenv("SOCKSIFY_PROXY", value, 1);
			unsetenv("SOCKSIFY_PROXY_FILE");
			/* Out of ps from now on (/proc/PID/cmdline shows
			 * our argument memory): it may hold a password. */
			explicit_bzero(argv[i], strlen(argv[i]));
		} else if (strcmp(arg, "-f") == 0 ||
			   strcmp(arg, "--config") == 0) {
			setenv("SOCKSIFY_CONF", value, 1);
		} else if (strcmp(arg, "--target") == 0) {
			if (parse_target(d, value) < 0) {
				fprintf(stderr,
					"socksify: doctor: cannot use target "
					"'%s' (HOST:PORT)\n",
					value);
				return -2;
			}
		} else {
			return -1;
		}
	}
	return 0;
}

/* Whether proxy p was already examined (the same URL in another chain). */
static bool seen_before(const struct config *cfg, unsigned chain, unsigned hop)
{
	unsigned count;
	const struct proxy *hops = config_chain_hops(cfg, chain, &count);
	char a[CONFIG_URL_TEXT_MAX], b[CONFIG_URL_TEXT_MAX];

	proxyurl_format(&hops[hop], a, sizeof a);
	for (unsigned c = 0; c <= chain; c++) {
		unsigned n;
		const struct proxy *other = config_chain_hops(cfg, c, &n);

		for (unsigned h = 0; h < n && (c < chain || h < hop); h++)
			if (strcmp(proxyurl_format(&other[h], b, sizeof b),
				   a) == 0 &&
			    other[h].pipeline == hops[hop].pipeline)
				return true;
	}
	return false;
}

static void check_all_proxies(struct doctor *d)
{
	const struct config *cfg = d->cfg;

	for (unsigned c = 0; c < cfg->chain_count; c++) {
		unsigned count;
		const struct proxy *hops = config_chain_hops(cfg, c, &count);

		for (unsigned h = 0; h < count; h++) {
			struct doctor_proxy dp = {.p = &hops[h]};

			if (seen_before(cfg, c, h))
				continue;
			proxyurl_format(dp.p, dp.shown, sizeof dp.shown);
			dp.later_hop = h > 0;
			dp.udp_needed =
			    cfg->udp_mode == UDP_PROXY && c == 0 && count == 1;
			dp.bind_needed =
			    cfg->bind_mode == BIND_MODE_ON && h == count - 1;
			check_proxy(d, &dp);
		}
		if (count > 1)
			check_chain(d, c);
	}
}

static void config_error(const struct doctor *d, const char *error)
{
	if (!d->json) {
		printf("FAIL config: %s; fix: correct that line (see "
		       "socksify.conf.example)\n",
		       error);
		return;
	}
	printf("{\"ok\": false, \"config_error\": ");
	json_string(error);
	printf(", \"checks\": []}\n");
}

int doctor_main(int argc, char **argv)
{
	struct doctor d = {.target_name = {.kind = ENDPOINT_NONE}};
	struct config *cfg = malloc(sizeof(*cfg));
	struct config_env env;
	int rc = cfg ? doctor_options(&d, argc, argv) : -2;

	if (rc < 0) {
		free(cfg);
		return rc == -1 ? doctor_usage() : 2;
	}
	signal(SIGPIPE, SIG_IGN);
	config_env_read(&env, doctor_env);
	if (config_load(cfg, &env, &libc_sys_io) < 0 || !cfg->valid) {
		config_error(&d, cfg->error);
		free(cfg);
		return 1;
	}
	d.cfg = cfg;
	if (d.json) {
		printf("{\"config\": ");
		json_string(cfg->source[0] ? cfg->source : "(defaults)");
		printf(", \"checks\": [");
	}
	check_all_proxies(&d);
	check_leak(&d);
	if (d.json)
		printf("\n], \"failures\": %u, \"ok\": %s}\n", d.failures,
		       d.failures ? "false" : "true");
	else
		printf("%s: %u needed check%s failed\n",
		       d.failures ? "FAIL" : "ok", d.failures,
		       d.failures == 1 ? "" : "s");
	free(cfg);
	return d.failures ? 1 : 0;
}
