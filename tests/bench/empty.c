/* empty.c — an object that does nothing, preloaded in `make bench` case 3
 * as the baseline cost of LD_PRELOAD itself. */
void socksify_bench_empty(void);

void socksify_bench_empty(void)
{
}
