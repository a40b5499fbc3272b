/* fuzz_httphop.c — the HTTP CONNECT hop machine (httphop.h) driven step
 * by step through fakeio.h: the proxy's reply, and how every send() and
 * recv() behaves (pieces, EAGAIN, EINTR, peeks), are the fuzzer's.
 *
 * Input: a setup byte (credentials, destination), then fakeio's schedule
 * and the proxy's bytes.
 * Invariants: the machine progresses and ends; a failure has an errno and
 * a reason and stays; when the tunnel opens, exactly the reply's head was
 * taken (as the parser alone measures it on the same bytes), not one byte
 * of what follows, and its status is 2xx; the request went out whole. */
#include <errno.h>
#include <string.h>

#include "fakeio.h"
#include "httpconnect.h"
#include "httphop.h"

static void setup(uint8_t b, struct proxy *proxy, struct endpoint *dest)
{
	memset(proxy, 0, sizeof(*proxy));
	proxy->type = PROXY_HTTP;
	endpoint_parse_ip(&proxy->addr, "127.0.0.1");
	proxy->addr.port = 3128;
	if (b & 1) {
		proxy->has_auth = true;
		proxy->user_len = 4;
		memcpy(proxy->user, "user", 5);
		proxy->password_len = 6;
		memcpy(proxy->password, "secret", 7);
	}
	memset(dest, 0, sizeof(*dest));
	if (b & 2)
		endpoint_set_name(dest, "example.org", 11, 443);
	else
		endpoint_parse_ip(dest, "198.18.0.1");
	dest->port = 443;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};
	static struct httphop hh;
	struct httpconnect_reply whole;
	struct proxy proxy;
	struct endpoint dest;
	size_t steps = 0, bound_steps;
	unsigned again;
	short events;
	long head;
	int rc;

	setup(fuzz_byte(&in), &proxy, &dest);
	fakeio_start(&in);
	bound_steps = fakeio_step_bound();
	httphop_init(&hh, &proxy, &dest, HANDSHAKE_CONNECT);
	for (;;) {
		again = fakeio_waits();
		events = 0;
		rc = httphop_step(&hh, &fakeio_io, 0, &events);
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
			hh.why ? hh.why : "-");
	FUZZ_CHECK(fakeio.taken <= fakeio.proxy_len);
	if (rc < 0) {
		FUZZ_CHECK(hh.state == HTTPHOP_FAILED && hh.error == -rc);
		FUZZ_CHECK(hh.why != NULL);
		FUZZ_CHECK(httphop_step(&hh, &fakeio_io, 0, &events) == rc);
		FUZZ_CHECK(httphop_abandon(&hh, ETIMEDOUT) == rc);
		return 0;
	}
	FUZZ_CHECK(rc == 0 && hh.state == HTTPHOP_DONE && hh.reply.done);
	FUZZ_CHECK(hh.reply.status >= 200 && hh.reply.status <= 299);
	FUZZ_CHECK(fakeio.sent_len > 0 &&
		   memcmp(fakeio.sent, "CONNECT ", 8) == 0);
	FUZZ_CHECK(fakeio.sent_len >= 4 &&
		   memcmp(fakeio.sent + fakeio.sent_len - 4, "\r\n\r\n", 4) ==
		       0);
	httpconnect_reply_init(&whole);
	head = httpconnect_reply_feed(&whole, fakeio.proxy, fakeio.proxy_len);
	FUZZ_CHECK(head > 0 && whole.done);
	FUZZ_CHECK(fakeio.taken == (size_t)head);
	FUZZ_CHECK(whole.status == hh.reply.status);
	FUZZ_CHECK(httphop_step(&hh, &fakeio_io, 0, &events) == 0);
	FUZZ_CHECK(fakeio.taken == (size_t)head);
	return 0;
}
