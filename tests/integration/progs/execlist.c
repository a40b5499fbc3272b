/* execlist — the execl family with argument lists of every size class.
 *
 *   execlist 64|65|4096|4097   exec this program again through execl
 *                              (execle for 65, execlp for 4096) with that
 *                              many arguments in all, argv[0] included
 *   execlist count ...         (the exec'd image) print "argc N FOO=..."
 *                              and check the fillers
 *
 * socksify gathers an execl list of up to 64 arguments in a small array and
 * a longer one, up to 4096, in a large one; 4097 fail with E2BIG. 64 and 65
 * sit either side of that boundary, 4096 is the most that fits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define X8   "x", "x", "x", "x", "x", "x", "x", "x"
#define X64  X8, X8, X8, X8, X8, X8, X8, X8
#define X512 X64, X64, X64, X64, X64, X64, X64, X64
/* Fillers after argv[0] and "count". */
#define FILL62 X8, X8, X8, X8, X8, X8, X8, "x", "x", "x", "x", "x", "x"
#define FILL63 FILL62, "x"
#define FILL4094                                                               \
	X512, X512, X512, X512, X512, X512, X512, X64, X64, X64, X64, X64,     \
	    X64, X64, X8, X8, X8, X8, X8, X8, X8, "x", "x", "x", "x", "x", "x"
#define FILL4095 FILL4094, "x"

static int count(int argc, char **argv)
{
	const char *foo = getenv("FOO");

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "x") != 0) {
			printf("argument %d is '%s'\n", i, argv[i]);
			return 1;
		}
	}
	printf("argc %d FOO=%s\n", argc, foo ? foo : "(unset)");
	return 0;
}

int main(int argc, char **argv)
{
	static char foo[] = "FOO=bar";
	char *const env[] = {foo, NULL};
	const char *self = "/proc/self/exe";

	if (argc < 2) {
		fprintf(stderr, "usage: execlist 64|65|4096|4097\n");
		return 2;
	}
	if (strcmp(argv[1], "count") == 0)
		return count(argc, argv);
	if (strcmp(argv[1], "64") == 0)
		execl(self, "execlist", "count", FILL62, (char *)NULL);
	else if (strcmp(argv[1], "65") == 0)
		execle(self, "execlist", "count", FILL63, (char *)NULL, env);
	else if (strcmp(argv[1], "4096") == 0)
		execlp("execlist", "execlist", "count", FILL4094, (char *)NULL);
	else if (strcmp(argv[1], "4097") == 0)
		execl(self, "execlist", "count", FILL4095, (char *)NULL);
	printf("exec failed: %s\n", strerror(errno));
	return 1;
}
