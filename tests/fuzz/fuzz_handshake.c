/* fuzz_handshake.c — the SOCKS4/4a/5 handshake machine (handshake.h)
 * driven step by step through fakeio.h: the proxy's replies, and how every
 * send() and recv() behaves (pieces, EAGAIN, EINTR), are the fuzzer's.
 *
 * Input: a setup byte (proxy type, credentials, pipelining, command,
 * destination), then fakeio's schedule and the proxy's bytes.
 * Invariants: the machine progresses (a step that says "wait" has met an
 * EAGAIN, and it ends once the proxy's bytes end); it ends done or failed
 * with an errno and a reason, and says the same on every later step; when
 * done it has taken exactly the replies and not one byte more (counted by
 * the parsers on the same bytes), and its bound endpoint and reply code
 * are the final reply's; it never sends more than its buffer holds. */
#include <errno.h>
#include <string.h>

#include "fakeio.h"
#include "handshake.h"
#include "socks4.h"
#include "socks5.h"

static void setup(uint8_t b, struct proxy *proxy, struct endpoint *dest,
		  enum handshake_cmd *cmd, bool *bind_reply)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const enum proxy_type types[4] = {PROXY_SOCKS4, PROXY_SOCKS4A,
						 PROXY_SOCKS5, PROXY_SOCKS5H};

	memset(proxy, 0, sizeof(*proxy));
	proxy->type = types[b & 3];
	endpoint_parse_ip(&proxy->addr, "127.0.0.1");
	proxy->addr.port = 1080;
	if (b & 4) {
		proxy->has_auth = true;
		proxy->user_len = 4;
		memcpy(proxy->user, "user", 5);
		if (proxy->type >= PROXY_SOCKS5) {
			proxy->password_len = 6;
			memcpy(proxy->password, "secret", 7);
		}
	}
	proxy->pipeline = (b & 8) != 0;
	*bind_reply = (b >> 4 & 3) == 3;
	*cmd = (b >> 4 & 3) == 1   ? HANDSHAKE_BIND
	       : (b >> 4 & 3) == 2 ? HANDSHAKE_UDP_ASSOCIATE
				   : HANDSHAKE_CONNECT;
	memset(dest, 0, sizeof(*dest));
	if (b & 0x40) {
		endpoint_set_name(dest, "example.org", 11, 443);
	} else if (b & 0x80) {
		dest->kind = ENDPOINT_IPV6;
		memcpy(dest->u.ipv6, v6, 16);
		dest->port = 443;
	} else {
		endpoint_parse_ip(dest, "198.18.0.1");
		dest->port = 443;
	}
}

/* What a proxy that the machine accepted must have sent, counted by the
 * parsers alone: the length of the exchange, the final REP/status and
 * BND endpoint. Returns 0 when the bytes hold no complete exchange. */
static size_t expected_exchange(const struct proxy *proxy, bool bind_reply,
				uint8_t *rep, struct endpoint *bound)
{
	const uint8_t *p = fakeio.proxy;
	size_t len = fakeio.proxy_len, off = 0, need;
	uint8_t method = 0, status;
	long n;

	if (proxy->type <= PROXY_SOCKS4A) {
		n = socks4_parse_reply(p, len, &need, rep, bound);
		return n > 0 ? (size_t)n : 0;
	}
	if (!bind_reply) {
		if (socks5_parse_method(p, len, &need, &method) != 2)
			return 0;
		off = 2;
		if (method == SOCKS5_METHOD_USERPASS) {
			if (socks5_parse_auth_reply(p + off, len - off, &need,
						    &status) != 2)
				return 0;
			off += 2;
		}
	}
	n = socks5_parse_reply(p + off, len - off, &need, rep, bound);
	return n > 0 ? off + (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	static struct handshake hs;
	struct proxy proxy;
	struct endpoint dest, bound;
	enum handshake_cmd cmd;
	bool bind_reply;
	size_t steps = 0, bound_steps, want;
	unsigned again;
	short events;
	uint8_t rep = 0;
	int rc;

	setup(fuzz_byte(&in), &proxy, &dest, &cmd, &bind_reply);
	fakeio_start(&in);
	bound_steps = fakeio_step_bound();
	if (bind_reply)
		handshake_init_bind_reply(&hs, &proxy);
	else
		handshake_init(&hs, &proxy, &dest, cmd);
	for (;;) {
		again = fakeio_waits();
		events = 0;
		rc = handshake_step(&hs, &fakeio_io, 0, &events);
		steps++;
		if (rc != -EAGAIN)
			break;
		FUZZ_CHECK(fakeio_waits() > again);
		FUZZ_CHECK(events == POLLIN || events == POLLOUT);
		FUZZ_CHECK(steps <= bound_steps + fakeio.sends);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr,
			"rc %d after %zu steps, %zu of %zu bytes taken: %s\n",
			rc, steps, fakeio.taken, fakeio.proxy_len,
			hs.why ? hs.why : "-");
	FUZZ_CHECK(fakeio.taken <= fakeio.proxy_len);
	FUZZ_CHECK(fakeio.sent_len <= HANDSHAKE_OUT_MAX);
	FUZZ_CHECK(handshake_state_name(hs.state) != NULL);
	if (rc < 0) {
		FUZZ_CHECK(hs.state == HS_FAILED && hs.error == -rc);
		FUZZ_CHECK(hs.why != NULL);
		FUZZ_CHECK(handshake_step(&hs, &fakeio_io, 0, &events) == rc);
		FUZZ_CHECK(handshake_abandon(&hs, ETIMEDOUT) == rc);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && hs.state == HS_DONE && hs.replied);
	FUZZ_CHECK(bind_reply || fakeio.sent_len > 0);
	memset(&bound, 0, sizeof(bound));
	want = expected_exchange(&proxy, bind_reply, &rep, &bound);
	FUZZ_CHECK(want > 0);
	FUZZ_CHECK(fakeio.taken == want);
	FUZZ_CHECK(hs.reply == rep);
	FUZZ_CHECK(endpoint_equal(&hs.bound, &bound));
	FUZZ_CHECK(handshake_step(&hs, &fakeio_io, 0, &events) == 0);
	FUZZ_CHECK(handshake_abandon(&hs, ETIMEDOUT) == 0);
	FUZZ_CHECK(fakeio.taken == want);
	return 0;
}
