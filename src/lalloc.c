/* lalloc.c - the allocator of qlua's Lua state.  Most of what Lua allocates
 * while a script builds descriptions is small and short-lived: strings,
 * tables and their parts, device values.  glibc's malloc and free cost
 * about a hundred instructions each for those; here a small block comes
 * from a free list of its size class (up to 2 KiB) and goes back to it, a
 * few instructions each.  Lua passes the old size of every block it frees
 * or resizes, so the pool needs no headers.  Larger blocks go to malloc as
 * before.  Only the qlua command installs it (main.c); qemu.so in another
 * interpreter uses that interpreter's allocator.  (bench/README.md, "The
 * Lua state's allocator", has the measurements.)
 *
 * The pool's blocks come from one address range reserved once (untouched
 * pages cost nothing), so telling a pool block from a malloc'ed one is a
 * range check: blocks Lua allocated before the allocator was installed,
 * and any taken after the range is full, are malloc's and go back there.
 * Like malloc's heap, the pool lasts as long as the process.
 *
 * Under ASan, and with QLUA_SYSTEM_MALLOC set in the environment (what
 * scripts/check-valgrind.sh does), the pool is not installed: memcheck and
 * ASan check Lua's blocks only when every block is malloc's. */
#include "lalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Size classes: 16-byte steps up to 256 bytes (strings, table nodes,
 * closures), then 64-byte steps up to 2 KiB (device values, their records
 * inside). */
#define NCLASS 44
#define MAXSMALL 2048
/* Address space only: pages are touched as they are used.  64 MiB of small
 * blocks is far more than a qlua script keeps (a few MiB), and little of
 * a `ulimit -v` (which counts reserved space too); past it, malloc. */
#define RESERVE ((size_t)64 << 20)

struct block { struct block *next; };

static struct pool {
	struct block *free[NCLASS];
	char *base, *top, *end;        /* [base, top) handed out; [top, end) fresh */
} pool;

static inline int in_pool(const void *p)
{
	return (const char *)p >= pool.base && (const char *)p < pool.end;
}

static inline size_t class_of(size_t n) { return n <= 256 ? (n - 1) >> 4 : 12 + ((n - 1) >> 6); }
static inline size_t class_size(size_t c) { return c < 16 ? (c + 1) * 16 : (c - 11) * 64; }

static void *small_alloc(size_t n)
{
	size_t c = class_of(n);
	struct block *b = pool.free[c];
	if (b) {
		pool.free[c] = b->next;
		return b;
	}
	size_t size = class_size(c);
	if ((size_t)(pool.end - pool.top) < size)
		return malloc(n);  /* the range is full: malloc's from now on */
	void *p = pool.top;
	pool.top += size;
	return p;
}

static inline void small_free(void *p, size_t n)
{
	struct block *b = p;
	size_t c = class_of(n);
	b->next = pool.free[c];
	pool.free[c] = b;
}

/* Lua's allocator contract (lua_Alloc): nsize 0 frees, ptr NULL allocates
 * (osize is then a type tag, not a size), otherwise resizes. */
static void *pool_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	if (ptr && !in_pool(ptr)) {  /* malloc's block, to the end */
		if (nsize == 0) {
			free(ptr);
			return NULL;
		}
		return realloc(ptr, nsize);
	}
	if (nsize == 0) {
		if (ptr)
			small_free(ptr, osize);
		return NULL;
	}
	if (!ptr)
		return nsize <= MAXSMALL ? small_alloc(nsize) : malloc(nsize);
	/* a pool block resized */
	if (nsize <= MAXSMALL && class_of(nsize) == class_of(osize))
		return ptr;
	void *np = nsize <= MAXSMALL ? small_alloc(nsize) : malloc(nsize);
	if (!np)
		return NULL;  /* Lua keeps the old block */
	memcpy(np, ptr, osize < nsize ? osize : nsize);
	small_free(ptr, osize);
	return np;
}

void lalloc_install(lua_State *L)
{
#ifdef __SANITIZE_ADDRESS__
	return;  /* the ASan build (make check-asan; spawn.c tests the same macro) */
#endif
	if (getenv("QLUA_SYSTEM_MALLOC"))
		return;
	void *p = mmap(NULL, RESERVE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return;  /* (a tight ulimit -v): malloc's blocks only, as before */
	pool.base = pool.top = p;
	pool.end = pool.base + RESERVE;
	lua_setallocf(L, pool_alloc, NULL);
}
