/* fuzz_tunnel.c — a chain of two proxies (tunnel.h: SOCKS5h, SOCKS4a or
 * HTTP CONNECT each) negotiated through fakeio.h: every proxy's replies
 * arrive on the one connection, in fuzzer-chosen pieces, with EAGAIN and
 * EINTR.
 *
 * Input: a setup byte (the two hops' protocols, credentials), then
 * fakeio's schedule and the bytes the chain answers.
 * Invariants: the run progresses and ends; a failure has an errno and a
 * reason and stays; when the chain opens, exactly the replies of both hops
 * were taken (measured by the parsers alone on the same bytes) and not one
 * byte of what follows, and the bound endpoint is the last SOCKS reply's. */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "fakeio.h"
#include "httpconnect.h"
#include "socks4.h"
#include "socks5.h"
#include "tunnel.h"

static void hop(struct proxy *p, uint8_t b)
{
	static const enum proxy_type types[4] = {PROXY_SOCKS5H, PROXY_SOCKS4A,
						 PROXY_HTTP, PROXY_SOCKS5H};

	memset(p, 0, sizeof(*p));
	p->type = types[b & 3];
	endpoint_parse_ip(&p->addr, "127.0.0.1");
	p->addr.port = 1080;
	if (b & 4) {
		p->has_auth = true;
		p->user_len = 4;
		memcpy(p->user, "user", 5);
		if (p->type != PROXY_SOCKS4A) {
			p->password_len = 6;
			memcpy(p->password, "secret", 7);
		}
	}
	p->pipeline = (b & 8) != 0;
}

/* The length of hop p's replies at the start of buf[0..len), 0 when they
 * are not all there; *bound set for a SOCKS hop. */
static size_t replies_len(const struct proxy *p, const uint8_t *buf, size_t len,
			  struct endpoint *bound)
{
	struct httpconnect_reply head;
	size_t need, off = 0;
	uint8_t method = 0, status, rep;
	long n;

	if (p->type == PROXY_HTTP) {
		httpconnect_reply_init(&head);
		n = httpconnect_reply_feed(&head, buf, len);
		return n > 0 && head.done ? (size_t)n : 0;
	}
	if (p->type == PROXY_SOCKS4A) {
		n = socks4_parse_reply(buf, len, &need, &rep, bound);
		return n > 0 ? (size_t)n : 0;
	}
	if (socks5_parse_method(buf, len, &need, &method) != 2)
		return 0;
	off = 2;
	if (method == SOCKS5_METHOD_USERPASS) {
		if (socks5_parse_auth_reply(buf + off, len - off, &need,
					    &status) != 2)
			return 0;
		off += 2;
	}
	n = socks5_parse_reply(buf + off, len - off, &need, &rep, bound);
	return n > 0 ? off + (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	static struct config cfg;
	static struct tunnel_run tr;
	struct proxy hops[2];
	struct tunnel_path path;
	struct endpoint dest, bound;
	size_t steps = 0, bound_steps, first, second;
	uint8_t setup = fuzz_byte(&in);
	unsigned again;
	short events;
	int rc;

	config_defaults(&cfg);
	hop(&hops[0], setup);
	hop(&hops[1], setup >> 4);
	memset(&path, 0, sizeof(path));
	path.hops = hops;
	path.count = 2;
	endpoint_set_name(&dest, "example.org", 11, 443);
	fakeio_start(&in);
	bound_steps = fakeio_step_bound() + 2;
	tunnel_run_init_path(&tr, &cfg, &path, &dest, HANDSHAKE_CONNECT, 0);
	for (;;) {
		again = fakeio_waits();
		events = 0;
		rc = tunnel_run_step(&tr, &fakeio_io, 0, 1, &events);
		steps++;
		if (rc != -EAGAIN)
			break;
		FUZZ_CHECK(fakeio_waits() > again || steps == 1);
		FUZZ_CHECK(events == POLLIN || events == POLLOUT);
		FUZZ_CHECK(steps <= bound_steps + fakeio.sends);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr,
			"rc %d after %zu steps, %zu of %zu bytes taken: %s\n",
			rc, steps, fakeio.taken, fakeio.proxy_len,
			tr.res.why ? tr.res.why : "-");
	FUZZ_CHECK(fakeio.taken <= fakeio.proxy_len);
	if (rc < 0) {
		FUZZ_CHECK(tr.phase == TUNNEL_FAILED && tr.error == -rc);
		FUZZ_CHECK(tunnel_run_step(&tr, &fakeio_io, 0, 1, &events) ==
			   rc);
		FUZZ_CHECK(tunnel_run_abandon(&tr, EIO) == rc);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && tr.phase == TUNNEL_DONE);
	memset(&bound, 0, sizeof(bound));
	first = replies_len(&hops[0], fakeio.proxy, fakeio.proxy_len, &bound);
	FUZZ_CHECK(first > 0);
	second = replies_len(&hops[1], fakeio.proxy + first,
			     fakeio.proxy_len - first, &bound);
	FUZZ_CHECK(second > 0);
	FUZZ_CHECK(fakeio.taken == first + second);
	if (hops[1].type != PROXY_HTTP)
		FUZZ_CHECK(endpoint_equal(&tr.res.bound, &bound));
	FUZZ_CHECK(tunnel_run_step(&tr, &fakeio_io, 0, 1, &events) == 0);
	FUZZ_CHECK(fakeio.taken == first + second);
	return 0;
}
