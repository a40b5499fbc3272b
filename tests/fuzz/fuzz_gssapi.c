/* fuzz_gssapi.c — RFC 1961 (GSS-API for SOCKS5): the frame parser on
 * arbitrary bytes, and the handshake's GSS-API states driven through
 * fakeio.h against a fake GSS-API table, the proxy's bytes and every
 * send()/recv()'s behaviour being the fuzzer's.
 *
 * Input: a mode byte (even: the parser; odd: the handshake), then for the
 * parser the bytes, for the handshake fakeio's schedule and the proxy's
 * bytes.
 * Parser invariants: a parse takes no more than it was given, exactly as
 * much when given only that, and every shorter prefix asks for more
 * within the frame; a parsed frame builds back to the same bytes.
 * Handshake invariants: it ends (done or failed with a reason); done, it
 * has taken exactly the method choice, the context tokens the fake
 * needed, the protection answer and the reply; either way it holds no GSS
 * state and the fake has no name or context left. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakeio.h"
#include "gssapi.h"
#include "gssmsg.h"
#include "handshake.h"
#include "socks5.h"

/* ---- the parser ---- */

static void check_parser(const uint8_t *buf, size_t len)
{
	static uint8_t again[GSSMSG_MAX];
	struct gssmsg msg, msg2;
	size_t need = 0, k;
	long r = gssmsg_parse(buf, len, &need, &msg);

	FUZZ_CHECK(r >= 0 || r == -EPROTO);
	if (r == 0) {
		FUZZ_CHECK(need > len && need <= GSSMSG_MAX);
		return;
	}
	if (r < 0)
		return;
	FUZZ_CHECK((size_t)r <= len);
	FUZZ_CHECK(gssmsg_parse(buf, (size_t)r, &need, &msg2) == r);
	for (k = 0; k < (size_t)r; k++) {
		need = 0;
		FUZZ_CHECK(gssmsg_parse(buf, k, &need, &msg2) == 0);
		FUZZ_CHECK(need > k && need <= (size_t)r);
	}
	if (msg.type == GSSMSG_TYPE_ABORT) {
		FUZZ_CHECK(r == GSSMSG_ABORT_LEN);
		return;
	}
	FUZZ_CHECK(msg.token == buf + GSSMSG_HEADER_LEN);
	FUZZ_CHECK(gssmsg_build(again, sizeof(again), msg.type, msg.token,
				msg.token_len) == r);
	FUZZ_CHECK(memcmp(again, buf, (size_t)r) == 0);
}

/* ---- the fake GSS-API ----
 * A context token from the proxy that starts with 'C' completes the
 * context; any other asks for one more round (our token "T"). Wrapping
 * puts 'W' in front. */

static int fake_live; /* names and contexts not yet released */
static int fake_name, fake_context;

static void fake_give(struct gssapi_buffer *out, const char *text, size_t len)
{
	out->value = malloc(len ? len : 1);
	FUZZ_CHECK(out->value != NULL);
	memcpy(out->value, text, len);
	out->length = len;
}

static gssapi_status fake_import(gssapi_status *minor,
				 const struct gssapi_buffer *name,
				 const struct gssapi_oid *type,
				 gssapi_name *out)
{
	(void)name, (void)type;
	*minor = 0;
	*out = &fake_name;
	fake_live++;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status
fake_init(gssapi_status *minor, void *cred, gssapi_context *ctx,
	  gssapi_name target, const struct gssapi_oid *mech, uint32_t flags,
	  uint32_t time_req, void *bindings, const struct gssapi_buffer *in,
	  struct gssapi_oid **actual_mech, struct gssapi_buffer *out,
	  uint32_t *ret_flags, uint32_t *time_rec)
{
	(void)cred, (void)target, (void)mech, (void)flags, (void)time_req;
	(void)bindings, (void)actual_mech, (void)ret_flags, (void)time_rec;
	FUZZ_CHECK(gssapi_bypass());
	*minor = 0;
	if (!*ctx) {
		*ctx = &fake_context;
		fake_live++;
	}
	if (in && in->length && *(const char *)in->value == 'C')
		return GSSAPI_S_COMPLETE;
	fake_give(out, "T", 1);
	return GSSAPI_S_CONTINUE_NEEDED;
}

static gssapi_status fake_delete(gssapi_status *minor, gssapi_context *ctx,
				 struct gssapi_buffer *out)
{
	(void)out;
	*minor = 0;
	FUZZ_CHECK(*ctx == &fake_context);
	*ctx = NULL;
	fake_live--;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_release_buffer(gssapi_status *minor,
					 struct gssapi_buffer *buf)
{
	*minor = 0;
	free(buf->value);
	buf->value = NULL;
	buf->length = 0;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_release_name(gssapi_status *minor, gssapi_name *name)
{
	*minor = 0;
	FUZZ_CHECK(*name == &fake_name);
	*name = NULL;
	fake_live--;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_wrap(gssapi_status *minor, gssapi_context ctx,
			       int conf_req, uint32_t qop,
			       const struct gssapi_buffer *in, int *conf_state,
			       struct gssapi_buffer *out)
{
	char text[2] = {'W', 0};

	(void)ctx, (void)qop;
	FUZZ_CHECK(conf_req == 0 && in->length == 1);
	text[1] = *(const char *)in->value;
	fake_give(out, text, 2);
	*conf_state = 0;
	*minor = 0;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_unwrap(gssapi_status *minor, gssapi_context ctx,
				 const struct gssapi_buffer *in,
				 struct gssapi_buffer *out, int *conf_state,
				 uint32_t *qop)
{
	(void)ctx, (void)conf_state, (void)qop;
	*minor = 0;
	if (in->length < 1 || *(const char *)in->value != 'W')
		return GSSAPI_S_FAILURE;
	fake_give(out, (const char *)in->value + 1, in->length - 1);
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_display(gssapi_status *minor, gssapi_status value,
				  int type, const struct gssapi_oid *mech,
				  uint32_t *more, struct gssapi_buffer *text)
{
	(void)value, (void)type, (void)mech;
	fake_give(text, "fake", 4);
	*more = 0;
	*minor = 0;
	return GSSAPI_S_COMPLETE;
}

static const struct gssapi_lib fake_lib = {
    .import_name = fake_import,
    .init_sec_context = fake_init,
    .delete_sec_context = fake_delete,
    .release_buffer = fake_release_buffer,
    .release_name = fake_release_name,
    .wrap = fake_wrap,
    .unwrap = fake_unwrap,
    .display_status = fake_display,
};

/* ---- the handshake ---- */

/* The bytes a proxy the machine accepted must have sent, counted by the
 * parsers alone: method, context tokens up to the completing one, the
 * protection answer, the reply. 0 when they hold no such exchange. */
static size_t expected_exchange(void)
{
	const uint8_t *p = fakeio.proxy;
	size_t len = fakeio.proxy_len, off = 2, need;
	struct gssmsg msg;
	struct endpoint bound;
	uint8_t rep;
	long n;

	if (len < 2 || p[0] != 5 || p[1] != SOCKS5_METHOD_GSSAPI)
		return 0;
	do {
		n = gssmsg_parse(p + off, len - off, &need, &msg);
		if (n <= 0 || msg.type != GSSMSG_TYPE_CONTEXT)
			return 0;
		off += (size_t)n;
	} while (!msg.token_len || msg.token[0] != 'C');
	n = gssmsg_parse(p + off, len - off, &need, &msg);
	if (n <= 0 || msg.type != GSSMSG_TYPE_PROTECTION)
		return 0;
	off += (size_t)n;
	n = socks5_parse_reply(p + off, len - off, &need, &rep, &bound);
	return n > 0 ? off + (size_t)n : 0;
}

static void check_handshake(struct fuzz_input *in)
{
	static struct handshake hs;
	struct proxy proxy;
	struct endpoint dest;
	size_t steps = 0, bound_steps;
	unsigned again;
	short events;
	int rc;

	memset(&proxy, 0, sizeof(proxy));
	proxy.type = PROXY_SOCKS5H;
	endpoint_parse_ip(&proxy.addr, "127.0.0.1");
	proxy.addr.port = 1080;
	proxy.gssapi = true;
	endpoint_parse_ip(&dest, "198.18.0.1");
	dest.port = 443;
	gssapi_set_lib(&fake_lib);
	fake_live = 0;
	fakeio_start(in);
	bound_steps = fakeio_step_bound();
	handshake_init(&hs, &proxy, &dest, HANDSHAKE_CONNECT);
	for (;;) {
		again = fakeio_waits();
		events = 0;
		rc = handshake_step(&hs, &fakeio_io, 0, &events);
		steps++;
		if (rc != -EAGAIN)
			break;
		FUZZ_CHECK(fakeio_waits() > again);
		FUZZ_CHECK(steps <= bound_steps + fakeio.sends);
	}
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "rc %d after %zu steps, %zu of %zu taken: %s\n",
			rc, steps, fakeio.taken, fakeio.proxy_len,
			hs.why ? hs.why : "-");
	FUZZ_CHECK(hs.gss == NULL && fake_live == 0);
	FUZZ_CHECK(fakeio.taken <= fakeio.proxy_len);
	if (rc < 0) {
		FUZZ_CHECK(hs.state == HS_FAILED && hs.error == -rc);
		FUZZ_CHECK(hs.why != NULL);
		FUZZ_CHECK(handshake_step(&hs, &fakeio_io, 0, &events) == rc);
		return;
	}
	FUZZ_CHECK(hs.state == HS_DONE);
	FUZZ_CHECK(fakeio.taken == expected_exchange());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = {data, size};

	if (fuzz_byte(&in) & 1)
		check_handshake(&in);
	else
		check_parser(in.data, in.len);
	return 0;
}
