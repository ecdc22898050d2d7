/* arena.c - see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size;
	max_align_t data[];
};

void arena_init(struct arena *a, void *buf, size_t size)
{
	uintptr_t p = ((uintptr_t)buf + sizeof(max_align_t) - 1) & ~(uintptr_t)(sizeof(max_align_t) - 1);
	memset(a, 0, sizeof *a);
	a->p = a->base = (char *)p;
	a->end = (char *)buf + size;
	if (a->p > a->end)
		a->p = a->base = a->end;
}

static struct arena_chunk *chunk_new(struct arena *a, size_t size)
{
	struct arena_chunk *c = malloc(sizeof *c + size);
	if (!c) {
		fputs("qlua: out of memory\n", stderr);
		abort();
	}
	c->next = a->head;
	c->size = size;
	a->head = c;
	a->p = (char *)c->data;
	a->end = a->p + size;
	return c;
}

void *arena_alloc_more(struct arena *a, size_t n)
{
	if (a->spill) {
		a->spilled += n;
		return arena_alloc_raw(a->spill, n);
	}
	/* Small descriptions fit in one 4 KiB chunk; big blocks get their own. */
	chunk_new(a, n > 3072 ? n : 4096);
	void *r = a->p;
	a->p += n;
	return r;
}

void *arena_grow(struct arena *a, const void *v, int n, int *cap, size_t size, int first)
{
	int ncap = *cap ? *cap * 2 : first;
	void *nv = arena_alloc_raw(a, (size_t)ncap * size);
	if (n)
		memcpy(nv, v, (size_t)n * size);
	*cap = ncap;
	return nv;
}

void arena_reset(struct arena *a)
{
	a->spilled = 0;
	if (!a->head) {
		a->p = a->base;
		return;
	}
	if (a->head->next) {
		size_t total = 0;
		for (struct arena_chunk *c = a->head; c; c = c->next)
			total += c->size;
		arena_free(a);
		chunk_new(a, total);
		return;
	}
	a->p = (char *)a->head->data;
	a->end = a->p + a->head->size;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->p = a->end = a->base = NULL;
}
