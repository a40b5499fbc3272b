/* gssapi.h — the few GSS-API calls the RFC 1961 handshake makes, reached
 * through a table of functions (struct gssapi_lib) that is filled from
 * MIT krb5's libgssapi_krb5.so.2 with dlopen() the first time a GSSAPI
 * proxy is used. Nothing is loaded for anyone else, so the preloaded
 * library keeps depending on libc alone. Unit tests put a fake table in
 * its place (gssapi_set_lib()).
 *
 * This is the one file of common/ that calls dlopen()/dlsym(): the library
 * and the seccomp supervisor's helper both need the loader, and it loads a
 * library of its own, never a symbol of the program's.
 *
 * The types are the C bindings' (RFC 2744) as the ABI has them, declared
 * here so that building needs no GSS-API headers. */
#ifndef SOCKSIFY_GSSAPI_H
#define SOCKSIFY_GSSAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t gssapi_status;

struct gssapi_buffer {
	size_t length;
	void *value;
};

struct gssapi_oid {
	uint32_t length;
	void *elements;
};

typedef void *gssapi_name;    /* gss_name_t */
typedef void *gssapi_context; /* gss_ctx_id_t */

/* Major status: the routine error field (RFC 2744 section 3.9.1). */
#define GSSAPI_S_COMPLETE	     0u
#define GSSAPI_S_CONTINUE_NEEDED     1u
#define GSSAPI_S_NO_CRED	     (7u << 16)
#define GSSAPI_S_CREDENTIALS_EXPIRED (11u << 16)
#define GSSAPI_S_FAILURE	     (13u << 16)
#define GSSAPI_ERROR(major)	     ((major)&0xffff0000u)
#define GSSAPI_ROUTINE_ERROR(major)  ((major)&0x00ff0000u)

/* Context flags asked for (RFC 2744 section 5.19). */
#define GSSAPI_C_MUTUAL_FLAG   2u
#define GSSAPI_C_REPLAY_FLAG   4u
#define GSSAPI_C_SEQUENCE_FLAG 8u
#define GSSAPI_C_CONF_FLAG     16u
#define GSSAPI_C_INTEG_FLAG    32u

/* gss_display_status() status types. */
#define GSSAPI_C_GSS_CODE  1
#define GSSAPI_C_MECH_CODE 2

/* The GSS-API calls, with the C bindings' prototypes (pointer types made
 * generic). Every one returns a major status and sets *minor. */
struct gssapi_lib {
	gssapi_status (*import_name)(gssapi_status *minor,
				     const struct gssapi_buffer *name,
				     const struct gssapi_oid *type,
				     gssapi_name *out);
	gssapi_status (*init_sec_context)(
	    gssapi_status *minor, void *cred, gssapi_context *ctx,
	    gssapi_name target, const struct gssapi_oid *mech, uint32_t flags,
	    uint32_t time_req, void *bindings, const struct gssapi_buffer *in,
	    struct gssapi_oid **actual_mech, struct gssapi_buffer *out,
	    uint32_t *ret_flags, uint32_t *time_rec);
	gssapi_status (*delete_sec_context)(gssapi_status *minor,
					    gssapi_context *ctx,
					    struct gssapi_buffer *out);
	gssapi_status (*release_buffer)(gssapi_status *minor,
					struct gssapi_buffer *buf);
	gssapi_status (*release_name)(gssapi_status *minor, gssapi_name *name);
	gssapi_status (*wrap)(gssapi_status *minor, gssapi_context ctx,
			      int conf_req, uint32_t qop,
			      const struct gssapi_buffer *in, int *conf_state,
			      struct gssapi_buffer *out);
	gssapi_status (*unwrap)(gssapi_status *minor, gssapi_context ctx,
				const struct gssapi_buffer *in,
				struct gssapi_buffer *out, int *conf_state,
				uint32_t *qop);
	gssapi_status (*display_status)(gssapi_status *minor,
					gssapi_status value, int type,
					const struct gssapi_oid *mech,
					uint32_t *more,
					struct gssapi_buffer *text);
};

/* The library's file name, and the Debian package that ships it. */
#define GSSAPI_LIBRARY "libgssapi_krb5.so.2"
#define GSSAPI_PACKAGE "libgssapi-krb5-2"

/* The table, loading the library on the first call (once per process).
 * Returns NULL when it cannot be loaded or lacks a function; then *why
 * (static text) names the package to install. The file loaded is
 * GSSAPI_LIBRARY, or the one SOCKSIFY_GSSAPI_LIBRARY names (a test knob,
 * read with secure_getenv(): ignored in set-user-ID programs). */
const struct gssapi_lib *gssapi_lib(const char **why);

/* Use lib instead of loading one (unit tests); NULL goes back to loading.
 * Call it before any handshake runs. */
void gssapi_set_lib(const struct gssapi_lib *lib);

/* True while this thread is inside a GSS-API call. The library's Kerberos
 * code then makes its own connections and lookups (to the KDC): the hooks
 * must hand those to libc untouched, and must not take any lock. */
bool gssapi_bypass(void);

/* Enter and leave a GSS-API call (nests). */
void gssapi_bypass_enter(void);
void gssapi_bypass_leave(void);

/* True when major (with minor) says the user has no usable Kerberos
 * ticket: no credential cache, an empty one or an expired ticket. */
bool gssapi_no_credentials(gssapi_status major, gssapi_status minor);

/* The GSS-API and mechanism texts for major/minor, "; "-separated, into
 * buf[0..cap) (NUL-terminated, cut to fit). Returns buf. */
const char *gssapi_describe(const struct gssapi_lib *lib, gssapi_status major,
			    gssapi_status minor, char *buf, size_t cap);

#endif
