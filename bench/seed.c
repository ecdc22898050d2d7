/* bench/seed.c - LD_PRELOAD=bench/seed.so: time() returns $BENCH_TIME (when
 * set), for bench/govmm.sh's instruction counts.  Lua seeds its string
 * hashes with time(NULL) and a few addresses, which valgrind keeps the same
 * from run to run; so with the clock moving, the same qlua binary counted
 * up to 2k instructions a build apart between runs (how long the string
 * table's chains are), more than most changes under measure.  Each
 * BENCH_TIME is one seed, counted the same in every run: govmm.sh takes
 * the mean of a few. */
#include <stdlib.h>
#include <time.h>

time_t time(time_t *t)
{
	const char *s = getenv("BENCH_TIME");
	time_t v;
	if (s) {
		v = (time_t)strtoll(s, NULL, 10);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ts.tv_sec;
	}
	if (t)
		*t = v;
	return v;
}
