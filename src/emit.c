/* emit.c - see emit.h. */
#include "emit.h"

#include <stdio.h>
#include <string.h>

#include "values.h"

void emit_init(struct emit *e, struct arena *a)
{
	memset(e, 0, sizeof *e);
	e->a = a;
}

static void grow(struct emit *e, size_t more)
{
	if (e->len + more + 1 <= e->bufcap)
		return;
	/* A new chunk; options are built one after another in what is left of
	 * it.  2 KiB holds a typical description's whole argv (about 1.2 KiB):
	 * starting smaller grew it ten times a build. */
	size_t cap = 2048;
	while (cap < e->len + more + 1)
		cap *= 2;
	char *nb = arena_alloc_raw(e->a, cap);
	if (e->len)
		memcpy(nb, e->buf, e->len);
	e->buf = nb;
	e->bufcap = cap;
}

static inline void put(struct emit *e, const char *s, size_t n)
{
	if (e->len + n + 1 > e->bufcap)
		grow(e, n);
	memcpy(e->buf + e->len, s, n);
	e->len += n;
}

/* Appends the word w (n bytes, NUL-terminated, which lives as long as e's
 * arena): the one place words enter argv, never copied again. */
static void add_word(struct emit *e, char *w, size_t n)
{
	if (e->argc + 2 > e->cap) {  /* (room for the NULL after the last word) */
		int cap = e->cap;
		e->argv = arena_grow(e->a, e->argv, e->argc, &cap, sizeof *e->argv, 64);
		e->argl = arena_grow(e->a, e->argl, e->argc, &e->cap, sizeof *e->argl, 64);
	}
	e->argl[e->argc] = n;
	e->argv[e->argc++] = w;
	e->argv[e->argc] = NULL;
}

void emit_wordn(struct emit *e, const char *s, size_t n)
{
	add_word(e, arena_strndup(e->a, s, n), n);
}

void emit_word(struct emit *e, const char *s)
{
	emit_wordn(e, s, strlen(s));
}

/* (argv is char ** for execv, which writes nothing.)  emit_arg and
 * opt_begin call this static one, which the compiler inlines: through the
 * exported emit_flag (-fPIC: it may be interposed) a typical build took
 * 0.4k instructions more, by bench/seed.c's four seeds. */
static void flag_word(struct emit *e, const char *flag)
{
	add_word(e, (char *)flag, strlen(flag));
}

void emit_flag(struct emit *e, const char *flag)
{
	flag_word(e, flag);
}

/* ---- tracing ---- */

static void trace_device(struct emit *e, const char *driver, size_t n)
{
	struct emit_trace *t = e->trace;
	if (t->n == t->cap)
		t->v = arena_grow(e->a, t->v, t->n, &t->cap, sizeof *t->v, 16);
	t->v[t->n] = (struct emit_dev){ .dev = e->trace_dev, .driver = driver ? arena_strndup(e->a, driver, n) : NULL };
	t->cur = t->n++;
}

static void trace_key(struct emit *e, const char *k)
{
	struct emit_dev *d = &e->trace->v[e->trace->cur];
	if (d->nkeys == d->capkeys)
		d->keys = arena_grow(e->a, d->keys, d->nkeys, &d->capkeys, sizeof *d->keys, 8);
	d->keys[d->nkeys++] = (struct emit_key){
		arena_strndup(e->a, k, strlen(k)),
		e->trace_field ? arena_strndup(e->a, e->trace_field, strlen(e->trace_field)) : NULL,
		e->trace_free,
	};
}

void emit_arg(struct emit *e, const char *flag, const char *val, size_t n)
{
	flag_word(e, flag);
	emit_wordn(e, val, n);
	if (e->trace) {
		e->trace->cur = -1;
		if (!strcmp(flag, "-device")) {
			const char *comma = memchr(val, ',', n);
			trace_device(e, val, comma ? (size_t)(comma - val) : n);
			e->trace->cur = -1;
		}
	}
}

/* Copies s to the option with every ',' doubled: QEMU's option parser
 * reads ",," as a literal comma.  Room for it is the caller's. */
static inline __attribute__((always_inline)) char *escape_to(char *p, const char *s, size_t n)
{
	const char *end = s + n, *comma;
	while ((comma = memchr(s, ',', end - s))) {
		memcpy(p, s, comma - s + 1);
		p += comma - s + 1;
		*p++ = ',';
		s = comma + 1;
	}
	memcpy(p, s, end - s);
	return p + (end - s);
}

void opt_begin(struct emit *e, const char *flag)
{
	flag_word(e, flag);
	e->len = 0;
	e->nkeys = 0;
	if (e->trace) {
		e->trace->cur = -1;
		if (!strcmp(flag, "-device"))
			trace_device(e, NULL, 0);
	}
}

void opt_head(struct emit *e, const char *s, size_t n)
{
	if (e->len + 2 * n + 1 > e->bufcap)  /* escaped: every byte a comma, at worst */
		grow(e, 2 * n);
	e->len = (size_t)(escape_to(e->buf + e->len, s, n) - e->buf);
	e->nkeys++;
	if (e->trace && e->trace->cur >= 0 && !e->trace->v[e->trace->cur].driver)
		e->trace->v[e->trace->cur].driver = arena_strndup(e->a, s, n);
}

/* ",key=" (room for it and `more` bytes checked once), and where the
 * value goes. */
static inline __attribute__((always_inline)) char *key(struct emit *e, const char *k, size_t n, size_t more)
{
	if (e->trace && e->trace->cur >= 0)
		trace_key(e, k);
	if (e->len + n + more + 3 > e->bufcap)
		grow(e, n + more + 2);
	char *p = e->buf + e->len;
	if (e->nkeys++)
		*p++ = ',';
	memcpy(p, k, n);
	p[n] = '=';
	return p + n + 1;
}

void opt_strn(struct emit *e, const char *k, size_t kn, const char *s, size_t n)
{
	char *p = key(e, k, kn, 2 * n);  /* escaped: every byte a comma, at worst */
	e->len = (size_t)(escape_to(p, s, n) - e->buf);
}

void opt_booln(struct emit *e, const char *k, size_t kn, int on)
{
	char *p = key(e, k, kn, 3);
	memcpy(p, on ? "on" : "off", 3);
	e->len = (size_t)(p + (on ? 2 : 3) - e->buf);
}

static void put_number(struct emit *e, const char *k, size_t kn, const char *digits, size_t n)
{
	char *p = key(e, k, kn, n);
	memcpy(p, digits, n);
	e->len = (size_t)(p + n - e->buf);
}

void opt_uintn(struct emit *e, const char *k, size_t kn, unsigned long long v)
{
	char b[32], *p = val_digits(b, v);
	put_number(e, k, kn, p, b + 32 - p);
}

void opt_intn(struct emit *e, const char *k, size_t kn, long long v)
{
	char b[32], *p = val_digits(b, v < 0 ? -(unsigned long long)v : (unsigned long long)v);
	if (v < 0)
		*--p = '-';
	put_number(e, k, kn, p, b + 32 - p);
}

int emit_fdnum(struct emit *e, struct qfd *fd)
{
	for (int i = 0; i < e->nfds; i++)
		if (e->fds[i] == fd)
			return 3 + i;
	if (e->nfds == e->fdcap)
		e->fds = arena_grow(e->a, e->fds, e->nfds, &e->fdcap, sizeof *e->fds, 8);
	e->fds[e->nfds++] = fd;
	return 2 + e->nfds;
}

void opt_fd(struct emit *e, const char *k, struct qfd *fd)
{
	opt_intn(e, k, strlen(k), emit_fdnum(e, fd));
}

void opt_fds(struct emit *e, const char *k, struct qfd *const *fds, int n)
{
	e->len = (size_t)(key(e, k, strlen(k), 0) - e->buf);
	for (int i = 0; i < n; i++) {
		char b[32], *p = val_digits(b, emit_fdnum(e, fds[i]));
		if (i)
			put(e, ":", 1);
		put(e, p, b + 32 - p);
	}
}

/* The option built in e->buf becomes the word itself (no copy); the next
 * one is built in what is left of the buffer. */
void opt_end(struct emit *e)
{
	if (e->len + 1 > e->bufcap)
		grow(e, 1);
	e->buf[e->len] = '\0';
	add_word(e, e->buf, e->len);
	e->buf += e->len + 1;
	e->bufcap -= e->len + 1;
	e->len = 0;
}
