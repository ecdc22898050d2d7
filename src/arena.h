/* arena.h - bump allocation for one description or one device.  Everything a
 * check or a render allocates lives here and is freed at once, so a Lua error
 * (a longjmp) in the middle never leaks: the arena is owned by a userdata
 * (a device value's memory, or the module's scratch arena, which every
 * build and every constructor's check rewinds and reuses). */
#ifndef QLUA_ARENA_H
#define QLUA_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena {
	struct arena_chunk *head;    /* malloc'ed chunks, the newest first */
	char *p, *end;
	char *base;                  /* the caller's buffer (arena_init), or NULL */
	struct arena *spill;         /* when set, space beyond the buffer comes from
	                                there (never from malloc): see spilled */
	size_t spilled;              /* bytes taken from spill */
};

/* Starts the arena in a caller's buffer (e.g. inside the owning userdata),
 * so small records need no malloc at all. */
void arena_init(struct arena *a, void *buf, size_t size);
void *arena_alloc(struct arena *a, size_t n);     /* zeroed; aborts on OOM */
void *arena_alloc_raw(struct arena *a, size_t n); /* not zeroed */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* An array kept in the arena, grown: a new one with room for twice *cap
 * elements of `size` bytes (`first` when *cap is 0), the n first of v
 * copied into it, *cap updated.  The old one stays until the arena goes. */
void *arena_grow(struct arena *a, const void *v, int n, int *cap, size_t size, int first);
/* Forgets everything allocated, keeping the memory for the next use (one
 * chunk as big as all of them, when it took several). */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);                  /* frees every chunk */

#endif
