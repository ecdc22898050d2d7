/* arena.h - bump allocation for one description or one device.  Everything a
 * check or a render allocates lives here and is freed at once, so a Lua error
 * (a longjmp) in the middle never leaks: the arena is owned by a userdata. */
#ifndef QLUA_ARENA_H
#define QLUA_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena {
	struct arena_chunk *head;
	char *p, *end;
};

/* Starts the arena in a caller's buffer (e.g. inside the owning userdata),
 * so small records need no malloc at all. */
void arena_init(struct arena *a, void *buf, size_t size);
void *arena_alloc(struct arena *a, size_t n);     /* zeroed; aborts on OOM */
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a);                  /* frees every chunk */

#endif
