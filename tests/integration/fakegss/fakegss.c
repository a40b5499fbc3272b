/* fakegss.c — a stand-in for libgssapi_krb5.so.2 in the fast GSS-API test
 * (t_gssapi_fast.sh), loaded through SOCKSIFY_GSSAPI_LIBRARY. It speaks the
 * fake tokens faultsocks.py's "gssapi" mode expects:
 *
 *   us:    FAKE-AP-REQ:<service@host>          (first call)
 *   proxy: FAKE-MORE-k                         (another round wanted)
 *   us:    FAKE-AP-REQ-k:<service@host>
 *   proxy: FAKE-AP-REP                         (complete)
 *   wrap(x) = "FAKE-WRAP:" x
 *
 * FAKEGSS_NO_CRED=1 makes the first call fail as MIT's does without a
 * ticket. FAKEGSS_KDC=NAME:PORT makes the first call look NAME up and talk
 * to a TCP "KDC" there ("KDC-REQ\n", one line back), the way Kerberos does
 * inside a socksified program: those calls must reach libc unproxied. */
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef uint32_t status_t;

struct buffer {
	size_t length;
	void *value;
};

struct fake_context {
	unsigned round;
};

#define S_COMPLETE	  0u
#define S_CONTINUE_NEEDED 1u
#define S_DEFECTIVE_TOKEN (9u << 16)
#define S_NO_CRED	  (7u << 16)
#define S_FAILURE	  (13u << 16)
#define EXPORT		  __attribute__((visibility("default")))

EXPORT status_t gss_import_name(status_t *minor, const struct buffer *name,
				const void *type, void **out);
EXPORT status_t gss_init_sec_context(status_t *minor, void *cred, void **ctx,
				     void *target, const void *mech,
				     uint32_t flags, uint32_t time_req,
				     void *bindings, const struct buffer *in,
				     void **actual_mech, struct buffer *out,
				     uint32_t *ret_flags, uint32_t *time_rec);
EXPORT status_t gss_delete_sec_context(status_t *minor, void **ctx,
				       struct buffer *out);
EXPORT status_t gss_release_buffer(status_t *minor, struct buffer *buf);
EXPORT status_t gss_release_name(status_t *minor, void **name);
EXPORT status_t gss_wrap(status_t *minor, void *ctx, int conf_req, uint32_t qop,
			 const struct buffer *in, int *conf_state,
			 struct buffer *out);
EXPORT status_t gss_unwrap(status_t *minor, void *ctx, const struct buffer *in,
			   struct buffer *out, int *conf_state, uint32_t *qop);
EXPORT status_t gss_display_status(status_t *minor, status_t value, int type,
				   const void *mech, uint32_t *more,
				   struct buffer *text);

static void give(struct buffer *out, const void *data, size_t len)
{
	out->value = malloc(len ? len : 1);
	if (len)
		memcpy(out->value, data, len);
	out->length = len;
}

status_t gss_import_name(status_t *minor, const struct buffer *name,
			 const void *type, void **out)
{
	char *copy = malloc(name->length + 1);

	(void)type;
	memcpy(copy, name->value, name->length);
	copy[name->length] = '\0';
	*out = copy;
	*minor = 0;
	return S_COMPLETE;
}

/* The "KDC" exchange: name lookup, TCP connect, one line each way.
 * Returns 0 or -1. */
static int talk_to_kdc(const char *where)
{
	char host[256], line[64];
	const char *colon = strrchr(where, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int fd, ok = -1;
	ssize_t n;

	if (!colon || (size_t)(colon - where) >= sizeof(host))
		return -1;
	memcpy(host, where, (size_t)(colon - where));
	host[colon - where] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
	    send(fd, "KDC-REQ\n", 8, 0) == 8) {
		n = recv(fd, line, sizeof(line), 0);
		ok = n > 0 ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return ok;
}

static status_t first_call(status_t *minor, void **ctx, const char *name,
			   struct buffer *out)
{
	const char *kdc = getenv("FAKEGSS_KDC");
	const char *no_cred = getenv("FAKEGSS_NO_CRED");
	char token[512];
	int n;

	if (no_cred && no_cred[0]) {
		*minor = 2;
		return S_NO_CRED;
	}
	if (kdc && talk_to_kdc(kdc) < 0) {
		*minor = 1;
		return S_FAILURE;
	}
	*ctx = calloc(1, sizeof(struct fake_context));
	n = snprintf(token, sizeof(token), "FAKE-AP-REQ:%s", name);
	give(out, token, (size_t)n);
	return S_CONTINUE_NEEDED;
}

status_t gss_init_sec_context(status_t *minor, void *cred, void **ctx,
			      void *target, const void *mech, uint32_t flags,
			      uint32_t time_req, void *bindings,
			      const struct buffer *in, void **actual_mech,
			      struct buffer *out, uint32_t *ret_flags,
			      uint32_t *time_rec)
{
	struct fake_context *c = *ctx;
	char token[512], want[32];
	int n;

	(void)cred, (void)mech, (void)flags, (void)time_req, (void)bindings;
	(void)actual_mech, (void)ret_flags, (void)time_rec;
	*minor = 0;
	out->length = 0;
	out->value = NULL;
	if (!c)
		return first_call(minor, ctx, target, out);
	if (in && in->length == 11 && memcmp(in->value, "FAKE-AP-REP", 11) == 0)
		return S_COMPLETE;
	c->round++;
	n = snprintf(want, sizeof(want), "FAKE-MORE-%u", c->round);
	if (!in || in->length != (size_t)n || memcmp(in->value, want, n) != 0)
		return S_DEFECTIVE_TOKEN;
	n = snprintf(token, sizeof(token), "FAKE-AP-REQ-%u:%s", c->round,
		     (const char *)target);
	give(out, token, (size_t)n);
	return S_CONTINUE_NEEDED;
}

status_t gss_delete_sec_context(status_t *minor, void **ctx, struct buffer *out)
{
	(void)out;
	free(*ctx);
	*ctx = NULL;
	*minor = 0;
	return S_COMPLETE;
}

status_t gss_release_buffer(status_t *minor, struct buffer *buf)
{
	free(buf->value);
	buf->value = NULL;
	buf->length = 0;
	*minor = 0;
	return S_COMPLETE;
}

status_t gss_release_name(status_t *minor, void **name)
{
	free(*name);
	*name = NULL;
	*minor = 0;
	return S_COMPLETE;
}

status_t gss_wrap(status_t *minor, void *ctx, int conf_req, uint32_t qop,
		  const struct buffer *in, int *conf_state, struct buffer *out)
{
	char token[64];

	(void)ctx, (void)qop;
	*minor = 0;
	if (conf_req || in->length > 16)
		return S_FAILURE;
	memcpy(token, "FAKE-WRAP:", 10);
	memcpy(token + 10, in->value, in->length);
	give(out, token, 10 + in->length);
	*conf_state = 0;
	return S_COMPLETE;
}

status_t gss_unwrap(status_t *minor, void *ctx, const struct buffer *in,
		    struct buffer *out, int *conf_state, uint32_t *qop)
{
	(void)ctx, (void)conf_state, (void)qop;
	*minor = 0;
	if (in->length < 10 || memcmp(in->value, "FAKE-WRAP:", 10) != 0)
		return S_DEFECTIVE_TOKEN;
	give(out, (const char *)in->value + 10, in->length - 10);
	return S_COMPLETE;
}

status_t gss_display_status(status_t *minor, status_t value, int type,
			    const void *mech, uint32_t *more,
			    struct buffer *text)
{
	char line[96];
	int n;

	(void)mech;
	if (type == 1 && value == S_NO_CRED)
		n = snprintf(line, sizeof(line),
			     "No credentials were supplied (fakegss)");
	else if (type == 1)
		n = snprintf(line, sizeof(line), "fakegss major 0x%x", value);
	else
		n = snprintf(line, sizeof(line), "fakegss minor %u", value);
	give(text, line, (size_t)n);
	*more = 0;
	*minor = 0;
	return S_COMPLETE;
}
