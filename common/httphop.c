/* httphop.c — an HTTP CONNECT hop: send the request, then read the reply's
 * head with MSG_PEEK first so that no byte after it is consumed. */
#include "httphop.h"

#include <errno.h>
#include <string.h>

/* How much of the reply one peek looks at. A longer head takes several
 * rounds; each consumes what it looked at, so none repeats. */
#define HTTPHOP_PEEK 1024

static int hh_fail(struct httphop *hh, int err, const char *why)
{
	hh->state = HTTPHOP_FAILED;
	hh->error = err;
	hh->why = why;
	memset(hh->out, 0, sizeof(hh->out));
	return -err;
}

static const char *hh_request_error_why(long err, enum handshake_cmd cmd)
{
	if (cmd == HANDSHAKE_BIND)
		return "an HTTP proxy cannot accept connections for us (HTTP "
		       "CONNECT has no BIND; use a SOCKS proxy)";
	if (cmd == HANDSHAKE_UDP_ASSOCIATE)
		return "an HTTP proxy cannot carry UDP (HTTP CONNECT has no "
		       "UDP ASSOCIATE; use a SOCKS5 proxy)";
	if (cmd == HANDSHAKE_RESOLVE || cmd == HANDSHAKE_RESOLVE_PTR)
		return "an HTTP proxy cannot resolve names for us (HTTP "
		       "CONNECT has no RESOLVE; use a SOCKS5 proxy such as "
		       "Tor)";
	if (err == -ENAMETOOLONG)
		return "the host name is too long for an HTTP CONNECT request";
	return "the destination cannot be written in an HTTP CONNECT request "
	       "(a host name with characters other than letters, digits, "
	       "'-', '.', '_', '~')";
}

void httphop_init(struct httphop *hh, const struct proxy *proxy,
		  const struct endpoint *dest, enum handshake_cmd cmd)
{
	long n = -EOPNOTSUPP;

	memset(hh, 0, sizeof(*hh));
	hh->proxy = proxy;
	hh->state = HTTPHOP_SEND_REQUEST;
	httpconnect_reply_init(&hh->reply);
	if (cmd == HANDSHAKE_CONNECT)
		n = httpconnect_build_request(
		    hh->out, sizeof(hh->out), dest,
		    proxy->has_auth ? proxy->user : NULL, proxy->user_len,
		    proxy->password, proxy->password_len);
	if (n < 0) {
		hh_fail(hh, (int)-n, hh_request_error_why(n, cmd));
		return;
	}
	hh->out_len = (size_t)n;
}

/* HTTPHOP_SEND_REQUEST: send the request; the credentials in it are wiped
 * once it is all out. Returns -EAGAIN with *events (POLLIN once sent), or
 * -errno. */
static int hh_send(struct httphop *hh, const struct socket_io *io, int fd,
		   short *events)
{
	ssize_t n;

	while (hh->out_sent < hh->out_len) {
		n = io->send(fd, hh->out + hh->out_sent,
			     hh->out_len - hh->out_sent, MSG_NOSIGNAL);
		if (n > 0) {
			hh->out_sent += (size_t)n;
			hh->sent_any = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*events = POLLOUT;
			return -EAGAIN;
		}
		return hh_fail(hh, n < 0 && errno ? errno : ECONNRESET,
			       "sending to the proxy failed");
	}
	memset(hh->out, 0, sizeof(hh->out));
	hh->state = HTTPHOP_RECV_REPLY;
	/* The proxy has had no time to answer: wait before the first recv()
	 * rather than make one that finds nothing. */
	*events = POLLIN;
	return -EAGAIN;
}

/* Which rule a head the parser refused breaks. */
static const char *hh_reply_defect(const struct httpconnect_reply *r)
{
	if (r->total >= HTTPCONNECT_HEAD_MAX)
		return "proxy's CONNECT reply head is too long (over 16 KiB)";
	if (r->in_status)
		return "proxy's reply is not an HTTP/1.x response (is it a "
		       "SOCKS proxy?)";
	return "proxy's CONNECT reply has a malformed header line";
}

/* The head is complete: the tunnel is open, or the status's error. */
static int hh_finish(struct httphop *hh)
{
	int err = httpconnect_status_errno(hh->reply.status);

	if (err)
		return hh_fail(hh, err,
			       httpconnect_status_message(hh->reply.status));
	hh->state = HTTPHOP_DONE;
	return 0;
}

/* recv() with flags, EINTR retried. Returns what recv() returns; errno
 * is set when it is negative. */
static ssize_t hh_recv(const struct socket_io *io, int fd, void *buf,
		       size_t len, int flags)
{
	ssize_t n;

	do
		n = io->recv(fd, buf, len, flags);
	while (n < 0 && errno == EINTR);
	return n;
}

/* A failed or ended recv(): 0 from the proxy is a reset mid-handshake. */
static int hh_recv_failed(struct httphop *hh, ssize_t n, short *events)
{
	if (n == 0)
		return hh_fail(hh, ECONNRESET,
			       "proxy closed the connection before the end "
			       "of its CONNECT reply");
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		*events = POLLIN;
		return -EAGAIN;
	}
	return hh_fail(hh, errno ? errno : EIO,
		       "receiving from the proxy failed");
}

/* HTTPHOP_RECV_REPLY: peek at what arrived, let a copy of the parser say
 * how much of it is head, receive exactly that and feed it to the parser.
 * Bounded: each round consumes at least one byte of a head that the parser
 * refuses beyond HTTPCONNECT_HEAD_MAX bytes. */
static int hh_recv_reply(struct httphop *hh, const struct socket_io *io, int fd,
			 short *events)
{
	uint8_t buf[HTTPHOP_PEEK];
	struct httpconnect_reply dry;
	ssize_t n;
	long take;

	while (!hh->reply.done) {
		n = hh_recv(io, fd, buf, sizeof(buf), MSG_PEEK);
		if (n <= 0)
			return hh_recv_failed(hh, n, events);
		dry = hh->reply;
		take = httpconnect_reply_feed(&dry, buf, (size_t)n);
		if (take < 0)
			return hh_fail(hh, EPROTO, hh_reply_defect(&dry));
		n = hh_recv(io, fd, buf, (size_t)take, 0);
		if (n <= 0)
			return hh_recv_failed(hh, n, events);
		if (httpconnect_reply_feed(&hh->reply, buf, (size_t)n) < 0)
			return hh_fail(hh, EPROTO, hh_reply_defect(&hh->reply));
	}
	return hh_finish(hh);
}

int httphop_step(struct httphop *hh, const struct socket_io *io, int fd,
		 short *events)
{
	int rc;

	if (hh->state == HTTPHOP_SEND_REQUEST) {
		rc = hh_send(hh, io, fd, events);
		if (rc < 0)
			return rc;
	}
	if (hh->state == HTTPHOP_RECV_REPLY)
		return hh_recv_reply(hh, io, fd, events);
	return hh->state == HTTPHOP_DONE ? 0 : -hh->error;
}

int httphop_abandon(struct httphop *hh, int err)
{
	if (hh->state == HTTPHOP_DONE)
		return 0;
	if (hh->state == HTTPHOP_FAILED)
		return -hh->error;
	if (err == ETIMEDOUT)
		return hh_fail(hh, err, "the HTTP proxy's reply timed out");
	return hh_fail(hh, err, "waiting for the proxy failed");
}
