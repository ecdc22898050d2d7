/* arena.c - see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	max_align_t data[];
};

#define ALIGN(n) (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))

void arena_init(struct arena *a, void *buf, size_t size)
{
	uintptr_t p = ((uintptr_t)buf + sizeof(max_align_t) - 1) & ~(uintptr_t)(sizeof(max_align_t) - 1);
	a->head = NULL;
	a->p = (char *)p;
	a->end = (char *)buf + size;
	if (a->p > a->end)
		a->p = a->end;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = ALIGN(n ? n : 1);
	if ((size_t)(a->end - a->p) < n) {
		/* Small descriptions fit in one 2 KiB chunk; big blocks get their own. */
		size_t size = n > 3072 ? n : 4096;
		struct arena_chunk *c = malloc(sizeof *c + size);
		if (!c) {
			fputs("qlua: out of memory\n", stderr);
			abort();
		}
		c->next = a->head;
		a->head = c;
		a->p = (char *)c->data;
		a->end = a->p + size;
	}
	void *r = a->p;
	a->p += n;
	memset(r, 0, n);
	return r;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *r = arena_alloc(a, n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
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
	a->p = a->end = NULL;
}
