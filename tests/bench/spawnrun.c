/* spawnrun — start-up cost of a command, for `make bench` case 3.
 *
 * Usage: spawnrun N COMMAND [ARG]...
 *
 * Runs COMMAND N times in a row (fork + execvp, output to /dev/null) and
 * prints, for each run, the wall time from fork to its reaping and the peak
 * resident set size reported by wait4() (the largest of the program and
 * any children it waited for, e.g. a wrapper script's helpers).
 * Exit status: 0, 2 usage, 3 when a run failed or exited non-zero. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Run argv once; prints its wall time and peak RSS. Returns its status. */
static int run_once(char **argv)
{
	struct rusage ru;
	double t0 = now_ms();
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return -1;
	printf("wall_ms=%.3f maxrss_kb=%ld\n", now_ms() - t0, ru.ru_maxrss);
	return status;
}

int main(int argc, char **argv)
{
	int i, n;

	if (argc < 3 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: spawnrun N COMMAND [ARG]...\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (run_once(argv + 2) != 0)
			return 3;
	}
	return 0;
}
