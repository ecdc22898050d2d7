/* arena.h - bump allocation for one description or one device.  Everything a
 * check or a render allocates lives here and is freed at once, so a Lua error
 * (a longjmp) in the middle never leaks: the arena is owned by a userdata
 * (a device value's memory, or the module's scratch arena, which every
 * build and every constructor's check rewinds and reuses). */
#ifndef QLUA_ARENA_H
#define QLUA_ARENA_H

#include <stddef.h>
#include <string.h>

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
/* Not zeroed; aborts on OOM.  What fits where the arena is at is taken
 * inline (a check or a render asks about a hundred times a build); the
 * rest, a spill or a new chunk, by arena_alloc_more. */
void *arena_alloc_more(struct arena *a, size_t n);
#define ARENA_ALIGN(n) (((n) + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1))
static inline void *arena_alloc_raw(struct arena *a, size_t n)
{
	n = ARENA_ALIGN(n ? n : 1);
	if ((size_t)(a->end - a->p) < n)
		return arena_alloc_more(a, n);
	void *r = a->p;
	a->p += n;
	return r;
}
static inline void *arena_alloc(struct arena *a, size_t n)  /* zeroed */
{
	return memset(arena_alloc_raw(a, n), 0, n);
}
static inline char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *r = arena_alloc_raw(a, n + 1);
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}
/* An array kept in the arena, grown: a new one with room for twice *cap
 * elements of `size` bytes (`first` when *cap is 0), the n first of v
 * copied into it, *cap updated.  The old one stays until the arena goes. */
void *arena_grow(struct arena *a, const void *v, int n, int *cap, size_t size, int first);
/* Forgets everything allocated, keeping the memory for the next use (one
 * chunk as big as all of them, when it took several). */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);                  /* frees every chunk */

#endif
