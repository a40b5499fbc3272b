/* handshake.c — one SOCKS5 or SOCKS4(a) negotiation as a resumable state
 * machine: one helper per state, each doing what it can without blocking.
 *
 * Output: a state queues its message into hs->out (when out is empty) and
 * flushes it; several messages could be queued back to back, which is how
 * pipelining would be added later. Input: a state says exactly how many bytes
 * it needs (hs->in_need) and recv() is never asked for more, so no byte after
 * the proxy's last reply is consumed: those belong to the application. */
#include "handshake.h"

#include <errno.h>
#include <string.h>

#include "socks4.h"
#include "socks5.h"

typedef int (*handshake_state_fn)(struct handshake *hs,
				  const struct socket_io *io, int fd,
				  short *events);

/* Mark hs failed; the same -err is returned by every later step. */
static int hs_fail(struct handshake *hs, int err, const char *why)
{
	hs->state = HS_FAILED;
	hs->error = err;
	hs->why = why;
	return -err;
}

/* Enter a receiving state that first needs `need` bytes. */
static void hs_expect(struct handshake *hs, enum handshake_state state,
		      size_t need)
{
	hs->state = state;
	hs->in_len = 0;
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

/* Build the request for hs->dest into buf. Returns its length or -errno:
 * -EAFNOSUPPORT (IPv6 to SOCKS4), -EOPNOTSUPP (UDP to SOCKS4),
 * -ENAMETOOLONG, -EINVAL. */
static long hs_build_request(const struct handshake *hs, uint8_t *buf,
			     size_t cap)
{
	static const uint8_t socks5_cmds[] = {
	    [HANDSHAKE_CONNECT] = SOCKS5_CMD_CONNECT,
	    [HANDSHAKE_BIND] = SOCKS5_CMD_BIND,
	    [HANDSHAKE_UDP_ASSOCIATE] = SOCKS5_CMD_UDP_ASSOCIATE,
	};
	const struct proxy *p = hs->proxy;

	if (hs_is_socks5(hs))
		return socks5_build_request(buf, cap, socks5_cmds[hs->cmd],
					    &hs->dest);
	if (hs->cmd == HANDSHAKE_UDP_ASSOCIATE)
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
		return "SOCKS4 has no UDP ASSOCIATE command";
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

	memset(hs, 0, sizeof(*hs));
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
}

/* Send what is queued. Returns 0 once all is sent (out is then empty),
 * -EAGAIN with *events = POLLOUT, or -errno. */
static int hs_flush(struct handshake *hs, const struct socket_io *io, int fd,
		    short *events)
{
	ssize_t n;

	while (hs->out_sent < hs->out_len) {
		n = io->send(fd, hs->out + hs->out_sent,
			     hs->out_len - hs->out_sent, MSG_NOSIGNAL);
		if (n > 0) {
			hs->out_sent += (size_t)n;
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
	hs->out_len = 0;
	hs->out_sent = 0;
	return 0;
}

/* Receive until hs->in holds in_need bytes, asking recv() for no more than
 * that. Returns 0, -EAGAIN with *events = POLLIN, or -errno. */
static int hs_fill(struct handshake *hs, const struct socket_io *io, int fd,
		   short *events)
{
	ssize_t n;

	while (hs->in_len < hs->in_need) {
		n = io->recv(fd, hs->in + hs->in_len, hs->in_need - hs->in_len,
			     0);
		if (n > 0) {
			hs->in_len += (size_t)n;
			continue;
		}
		if (n == 0)
			return hs_fail(hs, ECONNRESET,
				       "proxy closed the connection during "
				       "the handshake");
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

/* Receive one whole message, reading no byte beyond it. Returns 0 when
 * parse accepted it, HS_MALFORMED when parse refused it (the caller knows
 * which rule it broke), -EAGAIN with *events set, or -errno. */
static int hs_receive(struct handshake *hs, const struct socket_io *io,
		      int fd, short *events, hs_parser parse)
{
	size_t need = 0;
	long n;
	int rc;

	for (;;) {
		rc = hs_fill(hs, io, fd, events);
		if (rc < 0)
			return rc;
		n = parse(hs, &need);
		if (n > 0)
			return 0;
		if (n < 0)
			return HS_MALFORMED;
		rc = hs_need_more(hs, need);
		if (rc < 0)
			return rc;
	}
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

/* HS_SEND_GREETING: offer "no authentication", plus username/password
 * when we have credentials. */
static int hs_send_greeting(struct handshake *hs, const struct socket_io *io,
			    int fd, short *events)
{
	uint8_t methods[2] = {SOCKS5_METHOD_NONE, SOCKS5_METHOD_USERPASS};
	long n;
	int rc;

	if (hs->out_len == 0) {
		n = socks5_build_greeting(hs->out, sizeof(hs->out), methods,
					  hs->proxy->has_auth ? 2 : 1);
		if (n < 0)
			return hs_fail(hs, (int)-n,
				       "cannot build the greeting");
		hs->out_len = (size_t)n;
	}
	rc = hs_flush(hs, io, fd, events);
	if (rc < 0)
		return rc;
	hs_expect(hs, HS_RECV_METHOD, 2);
	return 0;
}

/* Check the method the proxy chose against what we offered. */
static int hs_accept_method(struct handshake *hs, uint8_t method)
{
	hs->method = method;
	if (method == SOCKS5_METHOD_UNACCEPTABLE)
		return hs_fail(hs, EACCES,
			       "proxy accepts none of our authentication "
			       "methods");
	if (method == SOCKS5_METHOD_USERPASS && hs->proxy->has_auth) {
		hs_enter_send(hs, HS_SEND_AUTH);
		return 0;
	}
	if (method == SOCKS5_METHOD_NONE) {
		hs_enter_send(hs, HS_SEND_REQUEST);
		return 0;
	}
	return hs_fail(hs, EPROTO,
		       "proxy chose an authentication method we did not offer");
}

/* HS_RECV_METHOD: the 2-byte method selection. */
static int hs_recv_method(struct handshake *hs, const struct socket_io *io,
			  int fd, short *events)
{
	int rc = hs_receive(hs, io, fd, events, hs_parse_method);

	if (rc == HS_MALFORMED)
		return hs_fail(hs, EPROTO,
			       "proxy answered the greeting with a version "
			       "other than SOCKS5");
	if (rc < 0)
		return rc;
	return hs_accept_method(hs, hs->method);
}

/* HS_SEND_AUTH: RFC 1929 username and password. */
static int hs_send_auth(struct handshake *hs, const struct socket_io *io,
			int fd, short *events)
{
	const struct proxy *p = hs->proxy;
	long n;
	int rc;

	if (hs->out_len == 0) {
		n = socks5_build_auth(hs->out, sizeof(hs->out), p->user,
				      p->user_len, p->password,
				      p->password_len);
		if (n < 0)
			return hs_fail(hs, EINVAL,
				       "username or password is empty or "
				       "longer than 255 bytes");
		hs->out_len = (size_t)n;
	}
	rc = hs_flush(hs, io, fd, events);
	if (rc < 0)
		return rc;
	hs_expect(hs, HS_RECV_AUTH, 2);
	return 0;
}

/* HS_RECV_AUTH: the 2-byte RFC 1929 status. */
static int hs_recv_auth(struct handshake *hs, const struct socket_io *io,
			int fd, short *events)
{
	int rc = hs_receive(hs, io, fd, events, hs_parse_auth);

	if (rc == HS_MALFORMED)
		return hs_fail(hs, EPROTO,
			       "proxy's username/password reply has a wrong "
			       "version");
	if (rc < 0)
		return rc;
	if (hs->reply != 0)
		return hs_fail(hs, EACCES,
			       "proxy rejected the username/password");
	hs_enter_send(hs, HS_SEND_REQUEST);
	return 0;
}

/* HS_SEND_REQUEST: CONNECT, BIND or UDP ASSOCIATE (SOCKS5 or SOCKS4a). */
static int hs_send_request(struct handshake *hs, const struct socket_io *io,
			   int fd, short *events)
{
	long n;
	int rc;

	if (hs->out_len == 0) {
		n = hs_build_request(hs, hs->out, sizeof(hs->out));
		if (n < 0)
			return hs_fail(hs, (int)-n, hs_request_error_why(n));
		hs->out_len = (size_t)n;
	}
	rc = hs_flush(hs, io, fd, events);
	if (rc < 0)
		return rc;
	hs_expect(hs, HS_RECV_REPLY, hs_is_socks5(hs) ? 5 : SOCKS4_REPLY_LEN);
	return 0;
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
	int rc = hs_receive(hs, io, fd, events, hs_parse_socks4_reply);

	if (rc == HS_MALFORMED)
		return hs_fail(hs, EPROTO,
			       "proxy's reply is not a SOCKS4 reply (wrong "
			       "version)");
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
    [HS_SEND_GREETING] = hs_send_greeting, [HS_RECV_METHOD] = hs_recv_method,
    [HS_SEND_AUTH] = hs_send_auth,	   [HS_RECV_AUTH] = hs_recv_auth,
    [HS_SEND_REQUEST] = hs_send_request,   [HS_RECV_REPLY] = hs_recv_reply,
};

/* Every state helper returns 0 only after moving to a later state, so the
 * loop runs at most once per state. */
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

/* Each pass either finishes, or waits (bounded by the deadline, which is
 * also checked before waiting so that a proxy trickling bytes cannot keep
 * us past it). */
int handshake_run(struct handshake *hs, const struct socket_io *io, int fd,
		  uint64_t deadline_ms)
{
	short events = POLLIN;
	int rc;

	for (;;) {
		rc = handshake_step(hs, io, fd, &events);
		if (rc != -EAGAIN)
			return rc;
		if (netio_now_ms() >= deadline_ms)
			return hs_fail(hs, ETIMEDOUT,
				       "proxy did not finish the handshake in "
				       "time");
		rc = netio_wait(io, fd, events, deadline_ms);
		if (rc == -ETIMEDOUT)
			return hs_fail(hs, ETIMEDOUT,
				       "proxy did not finish the handshake in "
				       "time");
		if (rc < 0)
			return hs_fail(hs, -rc, "waiting for the proxy failed");
	}
}

const char *handshake_state_name(enum handshake_state s)
{
	static const char *const names[] = {
	    [HS_SEND_GREETING] = "send-greeting",
	    [HS_RECV_METHOD] = "recv-method",
	    [HS_SEND_AUTH] = "send-auth",
	    [HS_RECV_AUTH] = "recv-auth",
	    [HS_SEND_REQUEST] = "send-request",
	    [HS_RECV_REPLY] = "recv-reply",
	    [HS_DONE] = "done",
	    [HS_FAILED] = "failed",
	};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}
