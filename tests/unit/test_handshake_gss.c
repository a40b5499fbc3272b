/* test_handshake_gss.c — the RFC 1961 sub-negotiation of the handshake
 * machine over a socketpair against a scripted peer (peer.h), with a fake
 * GSS-API table in place of the Kerberos library: one and several context
 * rounds, byte by byte, the proxy's abort, a truncated token, a wrong
 * protection answer, no ticket, and the levels refused before any byte. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gssapi.h"
#include "gssmsg.h"
#include "handshake.h"
#include "peer.h"

static const struct socket_io io = {
    .connect = connect,
    .send = send,
    .recv = recv,
    .poll = poll,
    .getsockopt = getsockopt,
};

/* ---- the fake GSS-API ---- */

static unsigned fake_rounds;	      /* client tokens before COMPLETE */
static gssapi_status fake_fail_major; /* first init call fails so */
static gssapi_status fake_fail_minor;
static unsigned fake_calls, fake_deletes, fake_names_live;
static bool fake_outside_bypass; /* a call ran without the bypass on */
static char fake_target[128];
static int fake_name_token;

static void fake_enter(void)
{
	if (!gssapi_bypass())
		fake_outside_bypass = true;
}

static void fake_give(struct gssapi_buffer *out, const char *text, size_t len)
{
	out->value = malloc(len);
	memcpy(out->value, text, len);
	out->length = len;
}

static gssapi_status fake_import_name(gssapi_status *minor,
				      const struct gssapi_buffer *name,
				      const struct gssapi_oid *type,
				      gssapi_name *out)
{
	fake_enter();
	*minor = 0;
	ck_assert_uint_eq(type->length, 10); /* the host-based service OID */
	snprintf(fake_target, sizeof(fake_target), "%.*s", (int)name->length,
		 (const char *)name->value);
	*out = &fake_name_token;
	fake_names_live++;
	return GSSAPI_S_COMPLETE;
}

/* Call k (from 1) gives token "Ck" and wants more while k <= rounds; it
 * must get "S(k-1)" from the proxy; the call after the last gets "S<rounds>"
 * and completes with no token (mutual authentication). */
static gssapi_status
fake_init(gssapi_status *minor, void *cred, gssapi_context *ctx,
	  gssapi_name target, const struct gssapi_oid *mech, uint32_t flags,
	  uint32_t time_req, void *bindings, const struct gssapi_buffer *in,
	  struct gssapi_oid **actual_mech, struct gssapi_buffer *out,
	  uint32_t *ret_flags, uint32_t *time_rec)
{
	char want[16], token[16];

	(void)cred, (void)mech, (void)flags, (void)time_req, (void)bindings;
	(void)actual_mech, (void)ret_flags, (void)time_rec;
	fake_enter();
	ck_assert_ptr_eq(target, &fake_name_token);
	fake_calls++;
	*minor = 0;
	if (fake_calls == 1 && fake_fail_major) {
		*minor = fake_fail_minor;
		return fake_fail_major;
	}
	if (fake_calls == 1)
		ck_assert_ptr_null(in);
	else {
		snprintf(want, sizeof(want), "S%u", fake_calls - 1);
		ck_assert_uint_eq(in->length, strlen(want));
		ck_assert_mem_eq(in->value, want, strlen(want));
	}
	*ctx = &fake_calls;
	if (fake_calls > fake_rounds)
		return GSSAPI_S_COMPLETE;
	snprintf(token, sizeof(token), "C%u", fake_calls);
	fake_give(out, token, strlen(token));
	return GSSAPI_S_CONTINUE_NEEDED;
}

static gssapi_status fake_delete(gssapi_status *minor, gssapi_context *ctx,
				 struct gssapi_buffer *out)
{
	fake_enter();
	(void)out;
	*minor = 0;
	*ctx = NULL;
	fake_deletes++;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_release_buffer(gssapi_status *minor,
					 struct gssapi_buffer *buf)
{
	fake_enter();
	*minor = 0;
	free(buf->value);
	buf->value = NULL;
	buf->length = 0;
	return GSSAPI_S_COMPLETE;
}

static gssapi_status fake_release_name(gssapi_status *minor, gssapi_name *name)
{
	fake_enter();
	*minor = 0;
	*name = NULL;
	fake_names_live--;
	return GSSAPI_S_COMPLETE;
}

/* "wrapping" puts a 'W' in front. */
static gssapi_status fake_wrap(gssapi_status *minor, gssapi_context ctx,
			       int conf_req, uint32_t qop,
			       const struct gssapi_buffer *in, int *conf_state,
			       struct gssapi_buffer *out)
{
	char text[2] = {'W', 0};

	fake_enter();
	(void)ctx, (void)qop;
	ck_assert_int_eq(conf_req, 0);
	ck_assert_uint_eq(in->length, 1);
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
	fake_enter();
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
	char line[48];

	fake_enter();
	(void)mech;
	snprintf(line, sizeof(line), "fake %s status %u",
		 type == GSSAPI_C_GSS_CODE ? "major" : "minor", value);
	fake_give(text, line, strlen(line));
	*more = 0;
	*minor = 0;
	return GSSAPI_S_COMPLETE;
}

static const struct gssapi_lib fake_lib = {
    .import_name = fake_import_name,
    .init_sec_context = fake_init,
    .delete_sec_context = fake_delete,
    .release_buffer = fake_release_buffer,
    .release_name = fake_release_name,
    .wrap = fake_wrap,
    .unwrap = fake_unwrap,
    .display_status = fake_display,
};

static void fake_setup(void)
{
	fake_rounds = 1;
	fake_fail_major = 0;
	fake_fail_minor = 0;
	fake_calls = fake_deletes = fake_names_live = 0;
	fake_outside_bypass = false;
	fake_target[0] = '\0';
	gssapi_set_lib(&fake_lib);
}

/* ---- fixtures ---- */

static struct proxy proxy_gss(void)
{
	struct proxy p;

	memset(&p, 0, sizeof(p));
	p.type = PROXY_SOCKS5H;
	endpoint_parse_ip(&p.addr, "127.0.0.1");
	p.addr.port = 1080;
	p.gssapi = true;
	return p;
}

static struct endpoint dest_ipv4(void)
{
	struct endpoint ep = {.kind = ENDPOINT_IPV4, .port = 80};

	memcpy(ep.u.ipv4, (uint8_t[]){198, 18, 0, 9}, 4);
	return ep;
}

static const uint8_t greet_gss[] = {5, 1, 1};
static const uint8_t greet_gss_auth[] = {5, 2, 1, 2};
static const uint8_t method_gss[] = {5, 1};
static const uint8_t method_none[] = {5, 0};
static const uint8_t method_auth[] = {5, 2};
static const uint8_t token_c1[] = {1, 1, 0, 2, 'C', '1'};
static const uint8_t token_c2[] = {1, 1, 0, 2, 'C', '2'};
static const uint8_t token_c3[] = {1, 1, 0, 2, 'C', '3'};
static const uint8_t token_s1[] = {1, 1, 0, 2, 'S', '1'};
static const uint8_t token_s2[] = {1, 1, 0, 2, 'S', '2'};
static const uint8_t token_s3[] = {1, 1, 0, 2, 'S', '3'};
static const uint8_t prot_clear[] = {1, 2, 0, 2, 'W', 0};
static const uint8_t prot_integrity[] = {1, 2, 0, 2, 'W', 1};
static const uint8_t prot_unwrapped[] = {1, 2, 0, 1, 0};
static const uint8_t gss_abort[] = {1, 0xff};
static const uint8_t token_cut[] = {1, 1, 0, 5, 'S'};
static const uint8_t token_bad_version[] = {2, 1, 0, 2, 'S', '1'};
static const uint8_t req_ipv4[] = {5, 1, 0, 1, 198, 18, 0, 9, 0, 80};
static const uint8_t reply_ok[] = {5, 0, 0, 1, 10, 1, 2, 3, 0x1f, 0x90};
static const uint8_t auth_req[] = {1, 1, 'u', 1, 'p'};
static const uint8_t auth_ok[] = {1, 0};

static int run_gss(const struct peer_step *steps, const struct proxy *p,
		   struct handshake *hs, struct peer *peer)
{
	struct endpoint d = dest_ipv4();
	int client = peer_start(peer, steps);
	int rc;

	handshake_init(hs, p, &d, HANDSHAKE_CONNECT);
	rc = handshake_run(hs, &io, client, netio_now_ms() + 3000);
	peer_finish(peer, client);
	return rc;
}

/* peer.got holds these messages back to back, and nothing else. */
static void assert_got(const struct peer *peer, const uint8_t *const *msgs,
		       const size_t *lens, unsigned count)
{
	size_t at = 0;

	for (unsigned i = 0; i < count; i++) {
		ck_assert_uint_ge(peer->got_len, at + lens[i]);
		ck_assert_mem_eq(peer->got + at, msgs[i], lens[i]);
		at += lens[i];
	}
	ck_assert_uint_eq(peer->got_len, at);
}

#define GOT(peer, ...)                                                         \
	do {                                                                   \
		const uint8_t *const m_[] = {__VA_ARGS__};                     \
		size_t l_[sizeof(m_) / sizeof(m_[0])];                         \
		for (unsigned i_ = 0; i_ < sizeof(m_) / sizeof(m_[0]); i_++)   \
			l_[i_] = msg_len(m_[i_]);                              \
		assert_got((peer), m_, l_, sizeof(m_) / sizeof(m_[0]));        \
	} while (0)

/* The length of one of the messages above. */
static size_t msg_len(const uint8_t *m)
{
	if (m == greet_gss)
		return sizeof(greet_gss);
	if (m == greet_gss_auth)
		return sizeof(greet_gss_auth);
	if (m == req_ipv4)
		return sizeof(req_ipv4);
	if (m == auth_req)
		return sizeof(auth_req);
	return GSSMSG_HEADER_LEN + ((size_t)m[2] << 8 | m[3]);
}

/* Nothing of the GSS-API state is left once the handshake ended. */
static void assert_released(const struct handshake *hs)
{
	ck_assert_ptr_null(hs->gss);
	ck_assert_uint_eq(fake_names_live, 0);
	ck_assert(!fake_outside_bypass);
}

/* ---- success ---- */

START_TEST(gss_one_round)
{
	const struct peer_step steps[] = {
	    READ(3),	    SEND(method_gss), READ(6),
	    SEND(token_s1), READ(6),	      SEND(prot_clear),
	    READ(10),	    SEND(reply_ok),   END(),
	};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), 0);
	GOT(&peer, greet_gss, token_c1, prot_clear, req_ipv4);
	ck_assert_int_eq(hs.state, HS_DONE);
	ck_assert_uint_eq(hs.method, SOCKS5_METHOD_GSSAPI);
	ck_assert_str_eq(fake_target, "rcmd@127.0.0.1");
	ck_assert_uint_eq(fake_deletes, 1);
	assert_released(&hs);
}
END_TEST

/* Three tokens each way, every byte of the proxy's sent on its own. */
START_TEST(gss_three_rounds_byte_by_byte)
{
	const struct peer_step steps[] = {
	    READ(3), SEND_SLOW(method_gss), READ(6),  SEND_SLOW(token_s1),
	    READ(6), SEND_SLOW(token_s2),   READ(6),  SEND_SLOW(token_s3),
	    READ(6), SEND_SLOW(prot_clear), READ(10), SEND_SLOW(reply_ok),
	    END(),
	};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	fake_rounds = 3;
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), 0);
	GOT(&peer, greet_gss, token_c1, token_c2, token_c3, prot_clear,
	    req_ipv4);
	ck_assert_uint_eq(fake_calls, 4);
	assert_released(&hs);
}
END_TEST

/* The name asked for is SERVICE@HOST with HOST as the URL writes it. */
START_TEST(gss_service_and_host_name)
{
	const struct peer_step steps[] = {
	    READ(3),	    SEND(method_gss), READ(6),
	    SEND(token_s1), READ(6),	      SEND(prot_clear),
	    READ(10),	    SEND(reply_ok),   END(),
	};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	endpoint_set_name(&p.addr, "proxy.example", 13, 1080);
	snprintf(p.gssapi_service, sizeof(p.gssapi_service), "socks");
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), 0);
	ck_assert_str_eq(fake_target, "socks@proxy.example");
}
END_TEST

/* With credentials both methods are offered; the proxy may pick either. */
START_TEST(gss_offer_with_credentials)
{
	const struct peer_step steps[] = {
	    READ(4),  SEND(method_auth), READ(5), SEND(auth_ok),
	    READ(10), SEND(reply_ok),	 END(),
	};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	p.has_auth = true;
	p.user_len = 1;
	memcpy(p.user, "u", 2);
	p.password_len = 1;
	memcpy(p.password, "p", 2);
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), 0);
	GOT(&peer, greet_gss_auth, auth_req, req_ipv4);
	ck_assert_uint_eq(fake_calls, 0);
}
END_TEST

/* ---- failures ---- */

/* One failure case: what the proxy does, the error, and what we must have
 * sent by then. */
struct gss_failure {
	const char *name;
	struct peer_step steps[8];
	int err;
	unsigned sent; /* messages of ours: greeting, C1, protection */
};

static const struct gss_failure failures[] = {
    {"abort after the first token",
     {READ(3), SEND(method_gss), READ(6), SEND(gss_abort), END()},
     EACCES,
     2},
    {"abort after the protection level",
     {READ(3), SEND(method_gss), READ(6), SEND(token_s1), READ(6),
      SEND(gss_abort), END()},
     EACCES,
     3},
    {"truncated token",
     {READ(3), SEND(method_gss), READ(6), SEND(token_cut), CLOSE()},
     ECONNRESET,
     2},
    {"wrong version",
     {READ(3), SEND(method_gss), READ(6), SEND(token_bad_version), END()},
     EPROTO,
     2},
    {"protection answer where a token belongs",
     {READ(3), SEND(method_gss), READ(6), SEND(prot_clear), END()},
     EPROTO,
     2},
    {"proxy chose integrity",
     {READ(3), SEND(method_gss), READ(6), SEND(token_s1), READ(6),
      SEND(prot_integrity), END()},
     EPROTONOSUPPORT,
     3},
    {"protection level not wrapped",
     {READ(3), SEND(method_gss), READ(6), SEND(token_s1), READ(6),
      SEND(prot_unwrapped), END()},
     EACCES,
     3},
    {"proxy closes after the protection level (as Dante does when it "
     "wants another level)",
     {READ(3), SEND(method_gss), READ(6), SEND(token_s1), READ(6), CLOSE()},
     ECONNRESET,
     3},
    {"proxy chose no authentication",
     {READ(3), SEND(method_none), END()},
     EPROTO,
     1},
};

START_TEST(gss_failure)
{
	const struct gss_failure *f = &failures[_i];
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;
	size_t want = sizeof(greet_gss);

	if (f->sent >= 2)
		want += sizeof(token_c1);
	if (f->sent >= 3)
		want += sizeof(prot_clear);
	ck_assert_msg(run_gss(f->steps, &p, &hs, &peer) == -f->err, "%s",
		      f->name);
	ck_assert_int_eq(hs.state, HS_FAILED);
	ck_assert_uint_eq(peer.got_len, want);
	assert_released(&hs);
	ck_assert_uint_eq(fake_deletes, f->sent >= 2 ? 1 : 0);
}
END_TEST

/* No ticket: EACCES and only the greeting on the wire. */
START_TEST(gss_no_credentials)
{
	const struct peer_step steps[] = {READ(3), SEND(method_gss), END()};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	fake_fail_major = GSSAPI_S_NO_CRED;
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), -EACCES);
	ck_assert_str_eq(hs.why, "no Kerberos ticket for the GSS-API proxy "
				 "(run kinit)");
	ck_assert_uint_eq(peer.got_len, sizeof(greet_gss));
	assert_released(&hs);
}
END_TEST

/* MIT krb5's ways of saying "no ticket": NO_CRED, an expired ticket, or
 * (older releases) GSS_S_FAILURE with a credential-cache code. */
static const gssapi_status no_ticket[][2] = {
    {GSSAPI_S_NO_CRED, 0},
    {GSSAPI_S_CREDENTIALS_EXPIRED, 0},
    {GSSAPI_S_FAILURE, (gssapi_status)-1765328189}, /* KRB5_FCC_NOFILE */
    {GSSAPI_S_FAILURE, (gssapi_status)-1765328243}, /* KRB5_CC_NOTFOUND */
};

START_TEST(gss_no_ticket_codes)
{
	ck_assert(gssapi_no_credentials(no_ticket[_i][0], no_ticket[_i][1]));
	ck_assert(!gssapi_no_credentials(GSSAPI_S_FAILURE, 42));
	ck_assert(!gssapi_no_credentials(GSSAPI_S_COMPLETE, 0));
}
END_TEST

/* Another GSS-API failure (say, an unknown service): EACCES too. */
START_TEST(gss_other_failure)
{
	const struct peer_step steps[] = {READ(3), SEND(method_gss), END()};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	fake_fail_major = GSSAPI_S_FAILURE;
	fake_fail_minor = 42;
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), -EACCES);
	ck_assert_str_eq(hs.why, "GSS-API authentication failed");
	assert_released(&hs);
}
END_TEST

/* Integrity and confidentiality fail before a byte is sent. */
START_TEST(gss_levels_refused_early)
{
	const struct peer_step steps[] = {END()};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	p.gssapi_protection = (uint8_t)(_i + 1);
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), -EPROTONOSUPPORT);
	ck_assert_uint_eq(peer.got_len, 0);
	ck_assert_uint_eq(fake_calls, 0);
}
END_TEST

/* No GSS-API library: ENOPKG, naming the package. */
START_TEST(gss_library_missing)
{
	const struct peer_step steps[] = {READ(3), SEND(method_gss), END()};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;
	const char *why = NULL;

	gssapi_set_lib(NULL);
	setenv("SOCKSIFY_GSSAPI_LIBRARY", "/nonexistent/libgssapi-test.so", 1);
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), -ENOPKG);
	ck_assert_ptr_nonnull(strstr(hs.why, GSSAPI_PACKAGE));
	ck_assert_ptr_null(gssapi_lib(&why));
	ck_assert_ptr_nonnull(strstr(why, GSSAPI_PACKAGE));
}
END_TEST

/* A GSS-API proxy is never pipelined: the greeting goes alone. */
START_TEST(gss_not_pipelined)
{
	const struct peer_step steps[] = {
	    READ(3),	    SEND(method_gss), READ(6),
	    SEND(token_s1), READ(6),	      SEND(prot_clear),
	    READ(10),	    SEND(reply_ok),   END(),
	};
	struct proxy p = proxy_gss();
	struct handshake hs;
	struct peer peer;

	p.pipeline = true;
	ck_assert_int_eq(run_gss(steps, &p, &hs, &peer), 0);
	GOT(&peer, greet_gss, token_c1, prot_clear, req_ipv4);
}
END_TEST

/* handshake_release() frees the state of a dropped handshake. */
START_TEST(gss_release_midway)
{
	const struct peer_step steps[] = {READ(3), SEND(method_gss), READ(6),
					  END()};
	struct proxy p = proxy_gss();
	struct endpoint d = dest_ipv4();
	struct handshake hs;
	struct peer peer;
	int client = peer_start(&peer, steps);
	short events = 0;
	int rc = -EAGAIN;

	handshake_init(&hs, &p, &d, HANDSHAKE_CONNECT);
	for (int i = 0; i < 100 && hs.state != HS_GSS_RECV_TOKEN; i++) {
		rc = handshake_step(&hs, &io, client, &events);
		if (rc == -EAGAIN)
			poll(&(struct pollfd){client, events, 0}, 1, 20);
	}
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_int_eq(hs.state, HS_GSS_RECV_TOKEN);
	ck_assert_ptr_nonnull(hs.gss);
	handshake_release(&hs);
	handshake_release(&hs);
	ck_assert_ptr_null(hs.gss);
	ck_assert_uint_eq(fake_deletes, 1);
	ck_assert_uint_eq(fake_names_live, 0);
	peer_finish(&peer, client);
}
END_TEST

static Suite *handshake_gss_suite(void)
{
	Suite *s = suite_create("handshake_gss");
	TCase *ok = tcase_create("success");
	TCase *bad = tcase_create("failure");

	tcase_add_checked_fixture(ok, fake_setup, NULL);
	tcase_add_checked_fixture(bad, fake_setup, NULL);
	tcase_add_test(ok, gss_one_round);
	tcase_add_test(ok, gss_three_rounds_byte_by_byte);
	tcase_add_test(ok, gss_service_and_host_name);
	tcase_add_test(ok, gss_offer_with_credentials);
	tcase_add_test(ok, gss_not_pipelined);
	tcase_add_loop_test(bad, gss_failure, 0,
			    sizeof(failures) / sizeof(failures[0]));
	tcase_add_test(bad, gss_no_credentials);
	tcase_add_test(bad, gss_other_failure);
	tcase_add_loop_test(bad, gss_no_ticket_codes, 0,
			    sizeof(no_ticket) / sizeof(no_ticket[0]));
	tcase_add_loop_test(bad, gss_levels_refused_early, 0, 2);
	tcase_add_test(bad, gss_library_missing);
	tcase_add_test(bad, gss_release_midway);
	suite_add_tcase(s, ok);
	suite_add_tcase(s, bad);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(handshake_gss_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
