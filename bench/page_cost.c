/* bench/page_cost.c [PAGES [ROUNDS]] - what a fresh page costs here: the
 * microseconds per page of touching PAGES (default 32) new anonymous pages
 * one by one (a page fault each, as a process's heap, its .bss and the
 * pages the dynamic loader relocates are first touched), next to the same
 * pages filled by one madvise(MADV_POPULATE_WRITE) (no fault; the kernel's
 * and the hypervisor's work per page remains).  Best and median of ROUNDS
 * (default 21) rounds, each on a new mapping.  It explains bench/README.md's
 * start-up figures: whole-process times here follow the pages a process
 * touches more than the instructions it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* Linux 5.14 */
#endif

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Microseconds per page for one round; -1 when populating is refused. */
static double round_us(long pages, int populate)
{
	size_t len = (size_t)pages * 4096;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("page_cost: mmap");
		exit(1);
	}
	double t0 = now_us();
	if (populate && madvise((void *)p, len, MADV_POPULATE_WRITE) != 0) {
		munmap((void *)p, len);
		return -1;
	}
	for (long i = 0; i < pages; i++)
		p[i * 4096] = 1;
	double us = (now_us() - t0) / (double)pages;
	munmap((void *)p, len);
	return us;
}

int main(int argc, char **argv)
{
	long pages = argc > 1 ? atol(argv[1]) : 32;
	int rounds = argc > 2 ? atoi(argv[2]) : 21;
	if (pages < 1 || rounds < 1 || rounds > 1000) {
		fputs("usage: page_cost [PAGES [ROUNDS (1..1000)]]\n", stderr);
		return 2;
	}
	static const char *const names[] = { "touched (a fault each)", "populated (one madvise)" };
	for (int populate = 0; populate < 2; populate++) {
		double v[1000];
		for (int r = 0; r < rounds; r++)
			if ((v[r] = round_us(pages, populate)) < 0) {
				printf("%-26s not supported by this kernel\n", names[populate]);
				goto next;
			}
		qsort(v, (size_t)rounds, sizeof v[0], cmp);
		printf("%-26s %6.2f us per page best, %6.2f median (%ld pages, %d rounds)\n", names[populate], v[0],
		       v[rounds / 2], pages, rounds);
	next:;
	}
	return 0;
}
