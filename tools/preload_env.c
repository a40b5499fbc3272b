/* preload_env.c — the library's name in LD_PRELOAD (see preload_env.h). */
#include "preload_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int preload_env_resolve(const char *library, char out[PATH_MAX])
{
	if (realpath(library, out))
		return 0;
	fprintf(stderr, "socksify: the library %s: %s\n", library,
		strerror(errno));
	return -1;
}

int preload_env_prepend(const char *library)
{
	const char *old = getenv("LD_PRELOAD");
	char *value;
	int rc;

	if (!old || !*old)
		return setenv("LD_PRELOAD", library, 1);
	if (asprintf(&value, "%s %s", library, old) < 0)
		return -1;
	rc = setenv("LD_PRELOAD", value, 1);
	free(value);
	return rc;
}
