/* handshake.c — one SOCKS5 or SOCKS4(a) negotiation as a resumable state
 * machine: one helper per state, each doing what it can without blocking.
 *
 * Output: a state queues its message into hs->out (when out is empty) and
 * flushes it. Pipelined, the greeting state queues greeting, auth and request
 * back to back and flushes them with one send(); the receiving states then
 * skip the sending states between them.
 *
 * Input: a state says how many bytes it needs (hs->in_need). recv() is asked
 * for that, or for more when more are sure to come: the shortest well-formed
 * rest of the exchange (hs_sure_len()). So several replies arrive with one
 * call, yet no byte after the proxy's last reply is ever consumed: those
 * belong to the application. */
#include "handshake_internal.h"

#include <errno.h>
#include <string.h>

#include "gssmsg.h"
#include "socks4.h"
#include "socks5.h"

/* The shortest well-formed SOCKS5 reply: a one-letter BND name (VER REP RSV
 * ATYP LEN NAME PORT = 8 bytes). Every valid reply holds at least this. */
#define HS_SOCKS5_REPLY_SHORTEST 8
/* What socks5_parse_reply() needs first: VER REP RSV ATYP and one more. */
#define HS_SOCKS5_REPLY_FIRST 5
/* The method selection (VER METHOD) and the RFC 1929 status (VER STATUS). */
#define HS_SOCKS5_METHOD_LEN	  2
#define HS_SOCKS5_AUTH_STATUS_LEN 2

typedef int (*handshake_state_fn)(struct handshake *hs,
				  const struct socket_io *io, int fd,
				  short *events);

int hs_fail(struct handshake *hs, int err, const char *why)
{
	hs_gss_release(hs);
	hs->state = HS_FAILED;
	hs->error = err;
	hs->why = why;
	return -err;
}

/* Enter a receiving state that first needs `need` bytes. hs->in keeps what
 * was already received of this message (pipelined replies come together). */
static void hs_expect(struct handshake *hs, enum handshake_state state,
		      size_t need)
{
	hs->state = state;
	hs->in_need = need;
}

/* Enter a sending state with nothing queued yet. */
static void hs_enter_send(struct handshake *hs, enum handshake_state state)
{
	hs->state = state;
	hs->out_len = 0;
	hs->out_sent = 0;
}

static bool hs_is_socks5(const struct handshake *hs)
{
	return proxy_is_socks5(hs->proxy);
}

/* What the request's reply needs first: a SOCKS5 reply's head, or the
 * whole fixed-size SOCKS4 reply. */
static size_t hs_reply_first_len(const struct handshake *hs)
{
	return hs_is_socks5(hs) ? HS_SOCKS5_REPLY_FIRST : SOCKS4_REPLY_LEN;
}

/* SOCKS4 has a single message: there is nothing to pipeline; GSS-API
 * tokens depend on the proxy's answers. */
static bool hs_pipelined(const struct handshake *hs)
{
	return hs->proxy->pipeline && hs_is_socks5(hs) && !hs->proxy->gssapi;
}

/* Bytes a proxy that follows the protocol is sure to send from the start of
 * the message now awaited to the end of the exchange, counting each reply
 * still to come at its shortest. Reading up to this never takes a byte of
 * the application's. */
static size_t hs_sure_len(const struct handshake *hs)
{
	size_t reply =
	    hs_is_socks5(hs) ? HS_SOCKS5_REPLY_SHORTEST : SOCKS4_REPLY_LEN;
	bool ahead = hs_pipelined(hs);

	switch (hs->state) {
	case HS_RECV_METHOD:
		if (!ahead)
			return HS_SOCKS5_METHOD_LEN;
		return HS_SOCKS5_METHOD_LEN +
		       (hs->proxy->has_auth ? HS_SOCKS5_AUTH_STATUS_LEN : 0) +
		       reply;
	case HS_RECV_AUTH:
		return HS_SOCKS5_AUTH_STATUS_LEN + (ahead ? reply : 0);
	case HS_RECV_REPLY:
		return reply;
	default:
		return 0;
	}
}

/* Build the request for hs->dest into buf. Returns its length or -errno:
 * -EAFNOSUPPORT (IPv6 to SOCKS4), -EOPNOTSUPP (UDP or RESOLVE to SOCKS4),
 * -ENAMETOOLONG, -EINVAL. */
static long hs_build_request(const struct handshake *hs, uint8_t *buf,
			     size_t cap)
{
	static const uint8_t socks5_cmds[] = {
	    [HANDSHAKE_CONNECT] = SOCKS5_CMD_CONNECT,
	    [HANDSHAKE_BIND] = SOCKS5_CMD_BIND,
	    [HANDSHAKE_UDP_ASSOCIATE] = SOCKS5_CMD_UDP_ASSOCIATE,
	    [HANDSHAKE_RESOLVE] = SOCKS5_CMD_TOR_RESOLVE,
	    [HANDSHAKE_RESOLVE_PTR] = SOCKS5_CMD_TOR_RESOLVE_PTR,
	};
	const struct proxy *p = hs->proxy;

	if (hs_is_socks5(hs))
		return socks5_build_request(buf, cap, socks5_cmds[hs->cmd],
					    &hs->dest);
	if (hs->cmd != HANDSHAKE_CONNECT && hs->cmd != HANDSHAKE_BIND)
		return -EOPNOTSUPP;
	return socks4_build_request(
	    buf, cap,
	    hs->cmd == HANDSHAKE_BIND ? SOCKS4_CMD_BIND : SOCKS4_CMD_CONNECT,
	    &hs->dest, p->user, p->has_auth ? p->user_len : 0);
}

/* Explanation for a request that cannot be built. */
static const char *hs_request_error_why(long err)
{
	switch (err) {
	case -EAFNOSUPPORT:
		return "SOCKS4 cannot carry an IPv6 destination";
	case -EOPNOTSUPP:
		return "SOCKS4 has no UDP ASSOCIATE, RESOLVE or RESOLVE_PTR "
		       "command";
	case -ENAMETOOLONG:
		return "the host name is longer than SOCKS allows (255 bytes)";
	default:
		return "the destination cannot be expressed in a SOCKS request";
	}
}

void handshake_init(struct handshake *hs, const struct proxy *proxy,
		    const struct endpoint *dest, enum handshake_cmd cmd)
{
	uint8_t scratch[SOCKS4_REQUEST_MAX];
	long n;

	memset(hs, 0, HANDSHAKE_HEAD);
	hs->proxy = proxy;
	hs->dest = *dest;
	hs->cmd = cmd;
	hs->bound.kind = ENDPOINT_NONE;
	hs_enter_send(hs,
		      hs_is_socks5(hs) ? HS_SEND_GREETING : HS_SEND_REQUEST);
	/* Refuse what cannot be asked before a byte is sent. */
	n = hs_build_request(hs, scratch, sizeof(scratch));
	if (n < 0)
		hs_fail(hs, (int)-n, hs_request_error_why(n));
	else if (proxy->gssapi)
		hs_gss_check(hs);
}

void handshake_init_bind_reply(struct handshake *hs, const struct proxy *proxy)
{
	memset(hs, 0, HANDSHAKE_HEAD);
	hs->proxy = proxy;
	hs->dest.kind = ENDPOINT_NONE;
	hs->cmd = HANDSHAKE_BIND;
	hs->bound.kind = ENDPOINT_NONE;
	hs_expect(hs, HS_RECV_REPLY, hs_reply_first_len(hs));
}

int hs_send_bytes(struct handshake *hs, const struct socket_io *io, int fd,
		  const uint8_t *buf, size_t len, size_t *sent, short *events)
{
	ssize_t n;

	while (*sent < len) {
		n = io->send(fd, buf + *sent, len - *sent, MSG_NOSIGNAL);
		if (n > 0) {
			*sent += (size_t)n;
			hs->sent_any = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*events = POLLOUT;
			return -EAGAIN;
		}
		return hs_fail(hs, n < 0 && errno ? errno : ECONNRESET,
			       "sending to the proxy failed");
	}
	return 0;
}

/* Send what is queued. Returns 0 once all is sent (out is then empty),
 * -EAGAIN with *events = POLLOUT, or -errno. */
static int hs_flush(struct handshake *hs, const struct socket_io *io, int fd,
		    short *events)
{
	int rc = hs_send_bytes(hs, io, fd, hs->out, hs->out_len, &hs->out_sent,
			       events);

	if (rc < 0)
		return rc;
	hs->out_len = 0;
	hs->out_sent = 0;
	return 0;
}

/* How many bytes hs->in may hold after the next recv(): what the message
 * needs, or what the rest of the exchange is sure to hold when that is
 * more. */
static size_t hs_recv_most(const struct handshake *hs)
{
	size_t want = hs->in_need;

	if (hs_sure_len(hs) > want)
		want = hs_sure_len(hs);
	if (want > sizeof(hs->in))
		want = sizeof(hs->in);
	return want;
}

int hs_recv_bytes(struct handshake *hs, const struct socket_io *io, int fd,
		  uint8_t *buf, size_t *len, size_t need, size_t most,
		  short *events, const char *closed_why)
{
	ssize_t n;

	while (*len < need) {
		n = io->recv(fd, buf + *len, most - *len, 0);
		if (n > 0) {
			*len += (size_t)n;
			hs->sent_any |= hs->sent_early; /* it is connected */
			continue;
		}
		if (n == 0)
			return hs_fail(hs, ECONNRESET, closed_why);
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*events = POLLIN;
			return -EAGAIN;
		}
		return hs_fail(hs, errno ? errno : EIO,
			       "receiving from the proxy failed");
	}
	return 0;
}

/* Receive until hs->in holds in_need bytes, never holding more than
 * hs_recv_most(). Returns 0, -EAGAIN with *events = POLLIN, or -errno. */
static int hs_fill(struct handshake *hs, const struct socket_io *io, int fd,
		   short *events)
{
	return hs_recv_bytes(
	    hs, io, fd, hs->in, &hs->in_len, hs->in_need, hs_recv_most(hs),
	    events, "proxy closed the connection during the handshake");
}

/* Set a parser's new need; a parser that needs no more than it has would
 * loop forever, so that is treated as a protocol error. */
static int hs_need_more(struct handshake *hs, size_t need)
{
	if (need <= hs->in_len || need > sizeof(hs->in))
		return hs_fail(hs, EPROTO,
			       "internal error: reply parser stuck");
	hs->in_need = need;
	return 0;
}

/* Parsers of one message held in hs->in, storing what they read in hs:
 * > 0 once complete, 0 with *need set when short, < 0 when malformed. */
typedef long (*hs_parser)(struct handshake *hs, size_t *need);

#define HS_MALFORMED 1 /* hs_receive(): the parser refused the bytes */

/* Drop the first len bytes of hs->in (a parsed message), keeping the bytes
 * of later replies that came with it. */
static void hs_consume(struct handshake *hs, size_t len)
{
	memmove(hs->in, hs->in + len, hs->in_len - len);
	hs->in_len -= len;
}

/* Receive one whole message and consume it from hs->in. Returns 0 when
 * parse accepted it, HS_MALFORMED when parse refused it (hs->in still holds
 * it; the caller knows which rule it broke), -EAGAIN with *events set, or
 * -errno. */
static int hs_receive(struct handshake *hs, const struct socket_io *io, int fd,
		      short *events, hs_parser parse)
{
	size_t need = 0;
	long n;
	int rc;

	for (;;) {
		rc = hs_fill(hs, io, fd, events);
		if (rc < 0)
			return rc;
		n = parse(hs, &need);
		if (n > 0) {
			hs_consume(hs, (size_t)n);
			return 0;
		}
		if (n < 0)
			return HS_MALFORMED;
		rc = hs_need_more(hs, need);
		if (rc < 0)
			return rc;
	}
}

/* hs_receive() for a message with one way to be malformed: a refused
 * message fails hs with -EPROTO and why. Returns 0, -EAGAIN or -errno. */
static int hs_receive_or_fail(struct handshake *hs, const struct socket_io *io,
			      int fd, short *events, hs_parser parse,
			      const char *why)
{
	int rc = hs_receive(hs, io, fd, events, parse);

	if (rc == HS_MALFORMED)
		return hs_fail(hs, EPROTO, why);
	return rc;
}

static long hs_parse_method(struct handshake *hs, size_t *need)
{
	return socks5_parse_method(hs->in, hs->in_len, need, &hs->method);
}

static long hs_parse_auth(struct handshake *hs, size_t *need)
{
	return socks5_parse_auth_reply(hs->in, hs->in_len, need, &hs->reply);
}

static long hs_parse_socks5_reply(struct handshake *hs, size_t *need)
{
	return socks5_parse_reply(hs->in, hs->in_len, need, &hs->reply,
				  &hs->bound);
}

static long hs_parse_socks4_reply(struct handshake *hs, size_t *need)
{
	return socks4_parse_reply(hs->in, hs->in_len, need, &hs->reply,
				  &hs->bound);
}

/* Append the greeting to hs->out. It offers "no authentication", plus
 * username/password when we have credentials; pipelined, only the one method
 * whose messages follow it; to a GSS-API proxy, GSS-API (and username/
 * password with credentials). Returns 0 or -errno (hs failed). */
static int hs_queue_greeting(struct handshake *hs)
{
	static const uint8_t none_and_auth[] = {SOCKS5_METHOD_NONE,
						SOCKS5_METHOD_USERPASS};
	static const uint8_t gss_and_auth[] = {SOCKS5_METHOD_GSSAPI,
					       SOCKS5_METHOD_USERPASS};
	const uint8_t *methods = none_and_auth;
	size_t count = 1;
	long n;

	if (hs->proxy->gssapi) {
		methods = gss_and_auth;
		count = hs->proxy->has_auth ? 2 : 1;
	} else if (hs->proxy->has_auth && hs_pipelined(hs))
		methods = none_and_auth + 1;
	else if (hs->proxy->has_auth)
		count = sizeof(none_and_auth);
	n = socks5_build_greeting(hs->out + hs->out_len,
				  sizeof(hs->out) - hs->out_len, methods,
				  count);
	if (n < 0)
		return hs_fail(hs, (int)-n, "cannot build the greeting");
	hs->out_len += (size_t)n;
	return 0;
}

/* Append the RFC 1929 request to hs->out. Returns 0 or -EINVAL (failed). */
static int hs_queue_auth(struct handshake *hs)
{
	const struct proxy *p = hs->proxy;
	long n = socks5_build_auth(hs->out + hs->out_len,
				   sizeof(hs->out) - hs->out_len, p->user,
				   p->user_len, p->password, p->password_len);

	if (n < 0)
		return hs_fail(hs, EINVAL,
			       "username or password is empty or longer than "
			       "255 bytes");
	hs->out_len += (size_t)n;
	return 0;
}

/* Append the request to hs->out. Returns 0 or -errno (hs failed). */
static int hs_queue_request(struct handshake *hs)
{
	long n = hs_build_request(hs, hs->out + hs->out_len,
				  sizeof(hs->out) - hs->out_len);

	if (n < 0)
		return hs_fail(hs, (int)-n, hs_request_error_why(n));
	hs->out_len += (size_t)n;
	return 0;
}

/* Queue everything the first write carries: the greeting alone, or
 * pipelined the greeting, the auth request (with credentials) and the
 * request. Returns 0 or -errno (hs failed). */
static int hs_queue_opening(struct handshake *hs)
{
	int rc = hs_queue_greeting(hs);

	if (rc < 0 || !hs_pipelined(hs))
		return rc;
	if (hs->proxy->has_auth) {
		rc = hs_queue_auth(hs);
		if (rc < 0)
			return rc;
	}
	return hs_queue_request(hs);
}

size_t handshake_opening(struct handshake *hs, const uint8_t **bytes)
{
	if (hs->state != HS_SEND_GREETING || hs->out_sent != 0)
		return 0;
	if (hs->out_len == 0 && hs_queue_opening(hs) < 0)
		return 0; /* hs failed: the first step says so */
	*bytes = hs->out;
	return hs->out_len;
}

void handshake_sent_early(struct handshake *hs, size_t n)
{
	if (n == 0 || n > hs->out_len - hs->out_sent)
		return;
	hs->out_sent += n;
	hs->sent_early = true;
}

/* Queues one state's message into hs->out. Returns 0 or -errno (failed). */
typedef int (*hs_queue_fn)(struct handshake *hs);

/* A sending state: queue its message (once), flush it, then await the
 * reply in state next, which first needs `need` bytes. Returns -EAGAIN
 * with *events, or -errno. Once sent it asks for POLLIN rather than try a
 * recv() at once: the proxy has had no time to answer, and a recv() that
 * finds nothing is a system call for nothing (0 comes back only when
 * earlier bytes already hold the reply). Where recv() itself waits
 * (io->recv_waits) it goes on to the reply at once: that recv() is the
 * wait. */
static int hs_send(struct handshake *hs, const struct socket_io *io, int fd,
		   short *events, hs_queue_fn queue, enum handshake_state next,
		   size_t need)
{
	int rc;

	if (hs->out_len == 0) {
		rc = queue(hs);
		if (rc < 0)
			return rc;
	}
	rc = hs_flush(hs, io, fd, events);
	if (rc < 0)
		return rc;
	hs_expect(hs, next, need);
	if (hs->in_len >= need || io->recv_waits)
		return 0;
	*events = POLLIN;
	return -EAGAIN;
}

/* HS_SEND_GREETING: the greeting, or the whole pipelined opening. */
static int hs_send_greeting(struct handshake *hs, const struct socket_io *io,
			    int fd, short *events)
{
	return hs_send(hs, io, fd, events, hs_queue_opening, HS_RECV_METHOD,
		       HS_SOCKS5_METHOD_LEN);
}

/* After the method (no auth) or a successful auth: send the request, or,
 * pipelined, await its reply (the request is already on the wire). */
void hs_to_request(struct handshake *hs)
{
	if (hs_pipelined(hs))
		hs_expect(hs, HS_RECV_REPLY, HS_SOCKS5_REPLY_FIRST);
	else
		hs_enter_send(hs, HS_SEND_REQUEST);
}

/* The proxy chose username/password: send it, or await its status. */
static void hs_to_auth(struct handshake *hs)
{
	if (hs_pipelined(hs))
		hs_expect(hs, HS_RECV_AUTH, HS_SOCKS5_AUTH_STATUS_LEN);
	else
		hs_enter_send(hs, HS_SEND_AUTH);
}

/* Check the method the proxy chose against what we offered. */
static int hs_accept_method(struct handshake *hs, uint8_t method)
{
	hs->method = method;
	if (method == SOCKS5_METHOD_UNACCEPTABLE)
		return hs_fail(hs, EACCES,
			       "proxy accepts none of our authentication "
			       "methods");
	/* Pipelined, it would take our auth bytes for a request. */
	if (method == SOCKS5_METHOD_NONE && hs->proxy->has_auth &&
	    hs_pipelined(hs))
		return hs_fail(hs, EPROTO,
			       "proxy ignored the pipelined authentication");
	if (method == SOCKS5_METHOD_USERPASS && hs->proxy->has_auth) {
		hs_to_auth(hs);
		return 0;
	}
	if (method == SOCKS5_METHOD_GSSAPI && hs->proxy->gssapi)
		return hs_gss_start(hs);
	if (method == SOCKS5_METHOD_NONE && !hs->proxy->gssapi) {
		hs_to_request(hs);
		return 0;
	}
	return hs_fail(hs, EPROTO,
		       "proxy chose an authentication method we did not offer");
}

/* HS_RECV_METHOD: the 2-byte method selection. */
static int hs_recv_method(struct handshake *hs, const struct socket_io *io,
			  int fd, short *events)
{
	int rc = hs_receive_or_fail(hs, io, fd, events, hs_parse_method,
				    "proxy answered the greeting with a "
				    "version other than SOCKS5");

	if (rc < 0)
		return rc;
	return hs_accept_method(hs, hs->method);
}

/* HS_SEND_AUTH: RFC 1929 username and password. */
static int hs_send_auth(struct handshake *hs, const struct socket_io *io,
			int fd, short *events)
{
	return hs_send(hs, io, fd, events, hs_queue_auth, HS_RECV_AUTH,
		       HS_SOCKS5_AUTH_STATUS_LEN);
}

/* HS_RECV_AUTH: the 2-byte RFC 1929 status. */
static int hs_recv_auth(struct handshake *hs, const struct socket_io *io,
			int fd, short *events)
{
	int rc = hs_receive_or_fail(hs, io, fd, events, hs_parse_auth,
				    "proxy's username/password reply has a "
				    "wrong version");

	if (rc < 0)
		return rc;
	if (hs->reply != 0)
		return hs_fail(hs, EACCES,
			       "proxy rejected the username/password");
	hs_to_request(hs);
	return 0;
}

/* HS_SEND_REQUEST: CONNECT, BIND or UDP ASSOCIATE (SOCKS5 or SOCKS4a). */
static int hs_send_request(struct handshake *hs, const struct socket_io *io,
			   int fd, short *events)
{
	return hs_send(hs, io, fd, events, hs_queue_request, HS_RECV_REPLY,
		       hs_reply_first_len(hs));
}

/* Which rule a SOCKS5 reply that socks5_parse_reply() refused breaks. */
static const char *hs_socks5_reply_defect(const struct handshake *hs)
{
	const uint8_t *in = hs->in;

	if (in[0] != SOCKS5_VERSION)
		return "proxy's reply has a version other than SOCKS5";
	if (hs->in_len >= 3 && in[2] != 0)
		return "proxy's reply has a non-zero reserved byte";
	if (hs->in_len >= 4 && in[3] != SOCKS5_ATYP_IPV4 &&
	    in[3] != SOCKS5_ATYP_IPV6 && in[3] != SOCKS5_ATYP_DOMAIN)
		return "proxy's reply has an unknown address type";
	return "proxy's reply holds an empty host name";
}

/* Final step once a reply code is known: done, or the mapped error. */
static int hs_finish(struct handshake *hs, int err, const char *why)
{
	hs->replied = true;
	if (err)
		return hs_fail(hs, err, why);
	hs->state = HS_DONE;
	return 0;
}

static int hs_recv_socks5_reply(struct handshake *hs,
				const struct socket_io *io, int fd,
				short *events)
{
	int rc = hs_receive(hs, io, fd, events, hs_parse_socks5_reply);

	if (rc == HS_MALFORMED)
		return hs_fail(hs, EPROTO, hs_socks5_reply_defect(hs));
	if (rc < 0)
		return rc;
	return hs_finish(hs, socks5_reply_errno(hs->reply),
			 socks5_reply_message(hs->reply));
}

static int hs_recv_socks4_reply(struct handshake *hs,
				const struct socket_io *io, int fd,
				short *events)
{
	int rc = hs_receive_or_fail(hs, io, fd, events, hs_parse_socks4_reply,
				    "proxy's reply is not a SOCKS4 reply "
				    "(wrong version)");

	if (rc < 0)
		return rc;
	return hs_finish(hs, socks4_reply_errno(hs->reply),
			 socks4_reply_message(hs->reply));
}

/* HS_RECV_REPLY: the request's reply; the last bytes we ever read. */
static int hs_recv_reply(struct handshake *hs, const struct socket_io *io,
			 int fd, short *events)
{
	if (hs_is_socks5(hs))
		return hs_recv_socks5_reply(hs, io, fd, events);
	return hs_recv_socks4_reply(hs, io, fd, events);
}

static const handshake_state_fn handshake_states[] = {
    [HS_SEND_GREETING] = hs_send_greeting,
    [HS_RECV_METHOD] = hs_recv_method,
    [HS_SEND_AUTH] = hs_send_auth,
    [HS_RECV_AUTH] = hs_recv_auth,
    [HS_GSS_SEND_TOKEN] = hs_gss_send_token,
    [HS_GSS_RECV_TOKEN] = hs_gss_recv_token,
    [HS_GSS_SEND_PROTECTION] = hs_gss_send_protection,
    [HS_GSS_RECV_PROTECTION] = hs_gss_recv_protection,
    [HS_SEND_REQUEST] = hs_send_request,
    [HS_RECV_REPLY] = hs_recv_reply,
};

/* Every state helper returns 0 only after moving to a later state, so the
 * loop runs at most once per state; the GSS-API token states alone come
 * round again, at most HS_GSS_ROUNDS_MAX times (handshake_gss.c). */
int handshake_step(struct handshake *hs, const struct socket_io *io, int fd,
		   short *events)
{
	int rc;

	while (hs->state < HS_DONE) {
		rc = handshake_states[hs->state](hs, io, fd, events);
		if (rc < 0)
			return rc;
	}
	return hs->state == HS_DONE ? 0 : -hs->error;
}

int handshake_abandon(struct handshake *hs, int err)
{
	if (hs->state >= HS_DONE)
		return hs->state == HS_DONE ? 0 : -hs->error;
	if (err == ETIMEDOUT)
		return hs_fail(hs, err, "the proxy's handshake timed out");
	return hs_fail(hs, err, "waiting for the proxy failed");
}

void handshake_release(struct handshake *hs)
{
	hs_gss_release(hs);
}

/* handshake_run()'s job for netio_drive(): one handshake and its deadline. */
struct hs_timed {
	struct handshake *hs;
	uint64_t deadline_ms;
};

/* A step that would wait at or after the deadline ends hs instead, so that
 * a proxy trickling bytes cannot keep us past it. */
static int hs_timed_step(void *job, const struct socket_io *io, int fd,
			 uint64_t now_ms, short *events)
{
	struct hs_timed *t = job;
	int rc = handshake_step(t->hs, io, fd, events);

	if (rc == -EAGAIN && now_ms >= t->deadline_ms)
		return handshake_abandon(t->hs, ETIMEDOUT);
	return rc;
}

static uint64_t hs_timed_deadline(const void *job)
{
	return ((const struct hs_timed *)job)->deadline_ms;
}

static int hs_timed_abandon(void *job, int err)
{
	return handshake_abandon(((struct hs_timed *)job)->hs, err);
}

static const struct netio_job hs_timed_job = {
    .step = hs_timed_step,
    .deadline = hs_timed_deadline,
    .abandon = hs_timed_abandon,
};

int handshake_run(struct handshake *hs, const struct socket_io *io, int fd,
		  uint64_t deadline_ms)
{
	struct hs_timed t = {.hs = hs, .deadline_ms = deadline_ms};

	return netio_drive(&hs_timed_job, &t, io, fd);
}

const char *handshake_state_name(enum handshake_state s)
{
	static const char *const names[] = {
	    [HS_SEND_GREETING] = "send-greeting",
	    [HS_RECV_METHOD] = "recv-method",
	    [HS_SEND_AUTH] = "send-auth",
	    [HS_RECV_AUTH] = "recv-auth",
	    [HS_GSS_SEND_TOKEN] = "gssapi-send-token",
	    [HS_GSS_RECV_TOKEN] = "gssapi-recv-token",
	    [HS_GSS_SEND_PROTECTION] = "gssapi-send-protection",
	    [HS_GSS_RECV_PROTECTION] = "gssapi-recv-protection",
	    [HS_SEND_REQUEST] = "send-request",
	    [HS_RECV_REPLY] = "recv-reply",
	    [HS_DONE] = "done",
	    [HS_FAILED] = "failed",
	};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}
