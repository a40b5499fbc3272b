/* handshake_gss.c — the GSS-API sub-negotiation of a SOCKS5 handshake
 * (RFC 1961, method 0x01) as four states of the handshake machine:
 *
 *   HS_GSS_SEND_TOKEN       a context token from gss_init_sec_context()
 *   HS_GSS_RECV_TOKEN       the proxy's token, fed back to it; until the
 *                           context is complete (section 3)
 *   HS_GSS_SEND_PROTECTION  the protection level, one octet wrapped with
 *                           gss_wrap(conf_req = 0) (section 4.3, 4.4)
 *   HS_GSS_RECV_PROTECTION  the proxy's level, unwrapped: it must be ours
 *
 * then the request as for any method. Only "clear" (authentication alone)
 * is supported: integrity and confidentiality would wrap every later
 * message of the program (section 5), which the kernel data path on the
 * program's own socket cannot do; they are refused before a byte is sent.
 *
 * GSS-API calls may talk to the KDC (connect, sendto, getaddrinfo of
 * their own): each runs with the per-thread bypass on (gssapi.h), and the
 * callers hold no lock across a step. Messages can be 64 KiB long, so they
 * live in a heap block (struct handshake_gss), freed when the exchange
 * ends or fails. Reading stops exactly at each message's end. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gssapi.h"
#include "gssmsg.h"
#include "handshake_internal.h"
#include "log.h"

/* Context tokens a proxy may ask for before we call it a loop. Kerberos
 * takes one round (two with mutual authentication). */
#define HS_GSS_ROUNDS_MAX 8
/* What we ask of the context. */
#define HS_GSS_FLAGS                                                           \
	(GSSAPI_C_MUTUAL_FLAG | GSSAPI_C_REPLAY_FLAG |                         \
	 GSSAPI_C_SEQUENCE_FLAG | GSSAPI_C_INTEG_FLAG | GSSAPI_C_CONF_FLAG)

struct handshake_gss {
	const struct gssapi_lib *lib;
	gssapi_name target;
	gssapi_context context;
	bool complete; /* gss_init_sec_context() returned COMPLETE */
	unsigned rounds;
	size_t out_len, out_sent;
	size_t in_len, in_need;
	uint8_t out[GSSMSG_MAX];
	uint8_t in[GSSMSG_MAX];
};

/* GSS_C_NT_HOSTBASED_SERVICE, 1.2.840.113554.1.2.1.4 (RFC 2744). */
static const uint8_t hs_gss_hostbased_bytes[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
						 0x12, 0x01, 0x02, 0x01, 0x04};

/* "proxy 198.18.0.1:1080" for log lines. */
static const char *hs_gss_proxy_text(const struct handshake *hs, char *buf,
				     size_t cap)
{
	return endpoint_format(&hs->proxy->addr, buf, cap);
}

int hs_gss_check(struct handshake *hs)
{
	char shown[ENDPOINT_NAME_MAX + 16];
	uint8_t level = hs->proxy->gssapi_protection;

	if (level == GSSMSG_PROTECT_CLEAR)
		return 0;
	log_error("proxy %s: GSS-API protection level '%s' is not supported "
		  "(only 'clear'): connection refused",
		  hs_gss_proxy_text(hs, shown, sizeof(shown)),
		  gssmsg_protection_name(level));
	return hs_fail(hs, EPROTONOSUPPORT,
		       "GSS-API integrity and confidentiality protection are "
		       "not supported (use gssapi-protection=clear)");
}

void hs_gss_release(struct handshake *hs)
{
	struct handshake_gss *g = hs->gss;
	gssapi_status minor;

	if (!g)
		return;
	gssapi_bypass_enter();
	if (g->context)
		g->lib->delete_sec_context(&minor, &g->context, NULL);
	if (g->target)
		g->lib->release_name(&minor, &g->target);
	gssapi_bypass_leave();
	free(g);
	hs->gss = NULL;
}

/* Log a failed GSS-API call with the library's own words, and fail hs:
 * EACCES either way; no ticket gets a hint to run kinit. */
static int hs_gss_fail_call(struct handshake *hs, const char *call,
			    gssapi_status major, gssapi_status minor)
{
	char text[256], shown[ENDPOINT_NAME_MAX + 16];
	const struct gssapi_lib *lib = hs->gss->lib;

	gssapi_describe(lib, major, minor, text, sizeof(text));
	hs_gss_proxy_text(hs, shown, sizeof(shown));
	if (gssapi_no_credentials(major, minor)) {
		log_error("proxy %s: no Kerberos ticket for GSS-API "
			  "authentication (run kinit): %s",
			  shown, text);
		return hs_fail(hs, EACCES,
			       "no Kerberos ticket for the GSS-API proxy "
			       "(run kinit)");
	}
	log_error("proxy %s: %s failed: %s", shown, call, text);
	return hs_fail(hs, EACCES, "GSS-API authentication failed");
}

/* The name "service@host" of the proxy, imported as a host-based service.
 * Returns 0 or -errno (hs failed). */
static int hs_gss_import_target(struct handshake *hs)
{
	struct handshake_gss *g = hs->gss;
	struct gssapi_oid type = {sizeof(hs_gss_hostbased_bytes),
				  (void *)hs_gss_hostbased_bytes};
	char name[PROXY_GSSAPI_TARGET_MAX];
	struct gssapi_buffer buf = {0, name};
	gssapi_status major, minor = 0;

	buf.length = strlen(proxy_gssapi_target(hs->proxy, name, sizeof(name)));
	gssapi_bypass_enter();
	major = g->lib->import_name(&minor, &buf, &type, &g->target);
	gssapi_bypass_leave();
	if (GSSAPI_ERROR(major)) {
		g->target = NULL;
		return hs_gss_fail_call(hs, "gss_import_name", major, minor);
	}
	return 0;
}

/* Frame a token the library gave (and free it) into g->out. */
static int hs_gss_queue(struct handshake *hs, uint8_t type,
			struct gssapi_buffer *token)
{
	struct handshake_gss *g = hs->gss;
	gssapi_status minor;
	long n = gssmsg_build(g->out, sizeof(g->out), type, token->value,
			      token->length);

	gssapi_bypass_enter();
	g->lib->release_buffer(&minor, token);
	gssapi_bypass_leave();
	if (n < 0)
		return hs_fail(hs, EMSGSIZE,
			       "GSS-API token longer than RFC 1961 allows");
	g->out_len = (size_t)n;
	g->out_sent = 0;
	return 0;
}

/* Expect a message: its first two octets, at least. */
static void hs_gss_expect(struct handshake *hs, enum handshake_state state)
{
	hs->state = state;
	hs->gss->in_len = 0;
	hs->gss->in_need = GSSMSG_ABORT_LEN;
}

/* Queue the wrapped protection level and enter HS_GSS_SEND_PROTECTION. */
static int hs_gss_to_protection(struct handshake *hs)
{
	struct handshake_gss *g = hs->gss;
	uint8_t level = hs->proxy->gssapi_protection;
	struct gssapi_buffer in = {1, &level}, out = {0, NULL};
	gssapi_status major, minor = 0;
	int conf = 0, rc;

	gssapi_bypass_enter();
	major = g->lib->wrap(&minor, g->context, 0, 0, &in, &conf, &out);
	gssapi_bypass_leave();
	if (GSSAPI_ERROR(major))
		return hs_gss_fail_call(hs, "gss_wrap", major, minor);
	rc = hs_gss_queue(hs, GSSMSG_TYPE_PROTECTION, &out);
	if (rc == 0)
		hs->state = HS_GSS_SEND_PROTECTION;
	return rc;
}

/* One call of gss_init_sec_context() with the proxy's token (NULL the
 * first time); queue what it makes, and choose the next state. Returns 0
 * or -errno (hs failed). */
static int hs_gss_context_step(struct handshake *hs,
			       const struct gssapi_buffer *in)
{
	struct handshake_gss *g = hs->gss;
	struct gssapi_buffer out = {0, NULL};
	gssapi_status major, minor = 0;
	int rc;

	if (++g->rounds > HS_GSS_ROUNDS_MAX)
		return hs_fail(hs, EPROTO,
			       "GSS-API context not established after "
			       "too many tokens");
	gssapi_bypass_enter();
	major = g->lib->init_sec_context(&minor, NULL, &g->context, g->target,
					 NULL, HS_GSS_FLAGS, 0, NULL, in, NULL,
					 &out, NULL, NULL);
	gssapi_bypass_leave();
	if (GSSAPI_ERROR(major)) {
		if (out.value) {
			gssapi_bypass_enter();
			g->lib->release_buffer(&minor, &out);
			gssapi_bypass_leave();
		}
		return hs_gss_fail_call(hs, "gss_init_sec_context", major,
					minor);
	}
	g->complete = !(major & GSSAPI_S_CONTINUE_NEEDED);
	if (out.length) {
		rc = hs_gss_queue(hs, GSSMSG_TYPE_CONTEXT, &out);
		if (rc == 0)
			hs->state = HS_GSS_SEND_TOKEN;
		return rc;
	}
	if (out.value) {
		gssapi_bypass_enter();
		g->lib->release_buffer(&minor, &out);
		gssapi_bypass_leave();
	}
	if (g->complete)
		return hs_gss_to_protection(hs);
	hs_gss_expect(hs, HS_GSS_RECV_TOKEN);
	return 0;
}

int hs_gss_start(struct handshake *hs)
{
	const char *why = NULL;
	const struct gssapi_lib *lib = gssapi_lib(&why);
	char shown[ENDPOINT_NAME_MAX + 16];

	if (!lib) {
		log_error("proxy %s: %s",
			  hs_gss_proxy_text(hs, shown, sizeof(shown)), why);
		return hs_fail(hs, ENOPKG,
			       "the GSS-API library is missing (install "
			       "the Debian package " GSSAPI_PACKAGE ")");
	}
	hs->gss = calloc(1, sizeof(*hs->gss));
	if (!hs->gss)
		return hs_fail(hs, ENOMEM, "out of memory for GSS-API");
	hs->gss->lib = lib;
	if (hs_gss_import_target(hs) < 0)
		return -hs->error;
	return hs_gss_context_step(hs, NULL);
}

/* Send what g->out holds. Returns 0 once sent, -EAGAIN with *events, or
 * -errno (hs failed). */
static int hs_gss_flush(struct handshake *hs, const struct socket_io *io,
			int fd, short *events)
{
	struct handshake_gss *g = hs->gss;

	return hs_send_bytes(hs, io, fd, g->out, g->out_len, &g->out_sent,
			     events);
}

/* Why the proxy closed the connection, as far as the state tells. Dante
 * closes without an abort message when it refuses a token or a level. */
static const char *hs_gss_closed_why(const struct handshake *hs)
{
	if (hs->state == HS_GSS_RECV_PROTECTION)
		return "proxy closed the connection after our GSS-API "
		       "protection level (does it require another one? "
		       "Dante: gssapi.enctype)";
	return "proxy closed the connection during GSS-API authentication "
	       "(it refused our token?)";
}

/* Receive one whole RFC 1961 message into g->in and parse it into *msg.
 * Never reads past its end. Returns 0, -EAGAIN with *events, or -errno
 * (hs failed: closed, malformed, or the proxy's abort). */
static int hs_gss_receive(struct handshake *hs, const struct socket_io *io,
			  int fd, short *events, struct gssmsg *msg)
{
	struct handshake_gss *g = hs->gss;
	size_t need = 0;
	long parsed;
	int rc;

	for (;;) {
		rc = hs_recv_bytes(hs, io, fd, g->in, &g->in_len, g->in_need,
				   g->in_need, events, hs_gss_closed_why(hs));
		if (rc < 0)
			return rc;
		parsed = gssmsg_parse(g->in, g->in_len, &need, msg);
		if (parsed < 0)
			return hs_fail(hs, EPROTO,
				       "proxy's GSS-API message is malformed");
		if (parsed > 0)
			break;
		g->in_need = need;
	}
	if (msg->type == GSSMSG_TYPE_ABORT)
		return hs_fail(hs, EACCES,
			       "proxy refused GSS-API authentication "
			       "(abort message)");
	return 0;
}

int hs_gss_send_token(struct handshake *hs, const struct socket_io *io, int fd,
		      short *events)
{
	int rc = hs_gss_flush(hs, io, fd, events);

	if (rc < 0)
		return rc;
	if (hs->gss->complete)
		return hs_gss_to_protection(hs);
	hs_gss_expect(hs, HS_GSS_RECV_TOKEN);
	return 0;
}

int hs_gss_recv_token(struct handshake *hs, const struct socket_io *io, int fd,
		      short *events)
{
	struct gssmsg msg;
	struct gssapi_buffer token;
	int rc = hs_gss_receive(hs, io, fd, events, &msg);

	if (rc < 0)
		return rc;
	if (msg.type != GSSMSG_TYPE_CONTEXT)
		return hs_fail(hs, EPROTO,
			       "proxy sent a GSS-API message other than a "
			       "context token");
	token = (struct gssapi_buffer){msg.token_len, (void *)msg.token};
	return hs_gss_context_step(hs, &token);
}

int hs_gss_send_protection(struct handshake *hs, const struct socket_io *io,
			   int fd, short *events)
{
	int rc = hs_gss_flush(hs, io, fd, events);

	if (rc < 0)
		return rc;
	hs_gss_expect(hs, HS_GSS_RECV_PROTECTION);
	return 0;
}

/* The level in the proxy's protection message. Returns it (0..255) or
 * -errno (hs failed). */
static int hs_gss_unwrap_level(struct handshake *hs, const struct gssmsg *msg)
{
	struct handshake_gss *g = hs->gss;
	struct gssapi_buffer in = {msg->token_len, (void *)msg->token};
	struct gssapi_buffer out = {0, NULL};
	gssapi_status major, minor = 0;
	int conf = 0, level = -1;

	gssapi_bypass_enter();
	major = g->lib->unwrap(&minor, g->context, &in, &out, &conf, NULL);
	if (!GSSAPI_ERROR(major) && out.length == 1)
		level = *(const uint8_t *)out.value;
	if (out.value)
		g->lib->release_buffer(&minor, &out);
	gssapi_bypass_leave();
	if (GSSAPI_ERROR(major))
		return hs_gss_fail_call(hs, "gss_unwrap", major, minor);
	if (level < 0)
		return hs_fail(hs, EPROTO,
			       "proxy's GSS-API protection level is not one "
			       "octet");
	return level;
}

int hs_gss_recv_protection(struct handshake *hs, const struct socket_io *io,
			   int fd, short *events)
{
	char shown[ENDPOINT_NAME_MAX + 16];
	struct gssmsg msg;
	int level, rc = hs_gss_receive(hs, io, fd, events, &msg);

	if (rc < 0)
		return rc;
	if (msg.type != GSSMSG_TYPE_PROTECTION)
		return hs_fail(hs, EPROTO,
			       "proxy answered the GSS-API protection level "
			       "with another message");
	level = hs_gss_unwrap_level(hs, &msg);
	if (level < 0)
		return level;
	if (level != hs->proxy->gssapi_protection) {
		log_error("proxy %s: asked for GSS-API protection '%s', the "
			  "proxy chose '%s'",
			  hs_gss_proxy_text(hs, shown, sizeof(shown)),
			  gssmsg_protection_name(hs->proxy->gssapi_protection),
			  gssmsg_protection_name((unsigned)level));
		return hs_fail(hs, EPROTONOSUPPORT,
			       "proxy chose another GSS-API protection level");
	}
	/* Clear protection: the context has done its work. */
	hs_gss_release(hs);
	hs_to_request(hs);
	return 0;
}
