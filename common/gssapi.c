/* gssapi.c — loading the GSS-API library on first use, and the per-thread
 * flag that keeps its own network traffic out of the hooks (gssapi.h). */
#include "gssapi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MIT krb5's com_err codes for a missing or empty credential cache
 * (krb5_err.h: KRB5_FCC_NOFILE, KRB5_CC_NOTFOUND, KRB5_CC_NOSUPP is not
 * one), met with GSS_S_FAILURE by older releases instead of NO_CRED. */
#define KRB5_CC_NOTFOUND ((gssapi_status)-1765328243)
#define KRB5_FCC_NOFILE	 ((gssapi_status)-1765328189)
#define KRB5_CC_EMPTY	 ((gssapi_status)-1765328196)

static pthread_once_t gssapi_once = PTHREAD_ONCE_INIT;
static struct gssapi_lib gssapi_loaded;
static const struct gssapi_lib *gssapi_table; /* NULL: not loadable */
static const char *gssapi_load_why;
static const struct gssapi_lib *gssapi_override;

static _Thread_local unsigned gssapi_depth
    __attribute__((tls_model("initial-exec")));

/* One symbol's address into *slot. Returns false when it is missing. */
static bool gssapi_resolve(void *handle, const char *name, void *slot)
{
	void *fn = dlsym(handle, name);

	if (!fn)
		return false;
	memcpy(slot, &fn, sizeof(fn));
	return true;
}

static bool gssapi_resolve_all(void *handle, struct gssapi_lib *lib)
{
	return gssapi_resolve(handle, "gss_import_name", &lib->import_name) &&
	       gssapi_resolve(handle, "gss_init_sec_context",
			      &lib->init_sec_context) &&
	       gssapi_resolve(handle, "gss_delete_sec_context",
			      &lib->delete_sec_context) &&
	       gssapi_resolve(handle, "gss_release_buffer",
			      &lib->release_buffer) &&
	       gssapi_resolve(handle, "gss_release_name", &lib->release_name) &&
	       gssapi_resolve(handle, "gss_wrap", &lib->wrap) &&
	       gssapi_resolve(handle, "gss_unwrap", &lib->unwrap) &&
	       gssapi_resolve(handle, "gss_display_status",
			      &lib->display_status);
}

/* Runs once: dlopen() the library (its constructors may look things up,
 * so the bypass is on) and resolve the table. The handle is never closed:
 * Kerberos keeps per-process state. */
static void gssapi_load(void)
{
	const char *file = secure_getenv("SOCKSIFY_GSSAPI_LIBRARY");
	void *handle;

	if (!file || !file[0])
		file = GSSAPI_LIBRARY;
	gssapi_bypass_enter();
	handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	gssapi_bypass_leave();
	if (!handle) {
		gssapi_load_why =
		    "cannot load the GSS-API library " GSSAPI_LIBRARY
		    " (install the Debian package " GSSAPI_PACKAGE ")";
		return;
	}
	if (!gssapi_resolve_all(handle, &gssapi_loaded)) {
		gssapi_load_why =
		    "the GSS-API library lacks a function "
		    "socksify needs (install the Debian package " GSSAPI_PACKAGE
		    ")";
		return;
	}
	gssapi_table = &gssapi_loaded;
}

const struct gssapi_lib *gssapi_lib(const char **why)
{
	if (gssapi_override)
		return gssapi_override;
	pthread_once(&gssapi_once, gssapi_load);
	if (!gssapi_table)
		*why = gssapi_load_why;
	return gssapi_table;
}

void gssapi_set_lib(const struct gssapi_lib *lib)
{
	gssapi_override = lib;
}

bool gssapi_bypass(void)
{
	return gssapi_depth != 0;
}

void gssapi_bypass_enter(void)
{
	gssapi_depth++;
}

void gssapi_bypass_leave(void)
{
	gssapi_depth--;
}

bool gssapi_no_credentials(gssapi_status major, gssapi_status minor)
{
	gssapi_status routine = GSSAPI_ROUTINE_ERROR(major);

	if (routine == GSSAPI_S_NO_CRED ||
	    routine == GSSAPI_S_CREDENTIALS_EXPIRED)
		return true;
	return routine == GSSAPI_S_FAILURE &&
	       (minor == KRB5_CC_NOTFOUND || minor == KRB5_FCC_NOFILE ||
		minor == KRB5_CC_EMPTY);
}

/* Append the texts gss_display_status() gives for one code. */
static void gssapi_append_status(const struct gssapi_lib *lib,
				 gssapi_status code, int type, char *buf,
				 size_t cap)
{
	struct gssapi_buffer text = {0, NULL};
	gssapi_status minor = 0, major;
	uint32_t more = 0;
	size_t used;

	for (unsigned i = 0; i < 4; i++) {
		gssapi_bypass_enter();
		major =
		    lib->display_status(&minor, code, type, NULL, &more, &text);
		gssapi_bypass_leave();
		if (GSSAPI_ERROR(major))
			return;
		used = strlen(buf);
		if (text.value && used + 3 < cap)
			snprintf(buf + used, cap - used, "%s%.*s",
				 used ? "; " : "", (int)text.length,
				 (const char *)text.value);
		gssapi_bypass_enter();
		lib->release_buffer(&minor, &text);
		gssapi_bypass_leave();
		if (!more)
			return;
	}
}

const char *gssapi_describe(const struct gssapi_lib *lib, gssapi_status major,
			    gssapi_status minor, char *buf, size_t cap)
{
	if (!cap)
		return buf;
	buf[0] = '\0';
	gssapi_append_status(lib, major, GSSAPI_C_GSS_CODE, buf, cap);
	if (minor)
		gssapi_append_status(lib, minor, GSSAPI_C_MECH_CODE, buf, cap);
	return buf;
}
