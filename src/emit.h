/* emit.h - the one emitter.  Every QEMU option qlua produces is built here:
 * it owns escaping (a comma in a value is doubled, so no value can start a
 * new key), long-form booleans, and the descriptor numbering.  Plain C. */
#ifndef QLUA_EMIT_H
#define QLUA_EMIT_H

#include <stddef.h>
#include <string.h>

#include "arena.h"

struct qfd;

/* A traced command line (qemu.check asks QEMU about it): every -device
 * option, the device of the description it came from, and the field behind
 * each of its keys. */
struct emit_key {
	const char *key;
	const char *field;           /* the field whose value it carries, or NULL (qlua's own) */
	unsigned char free;          /* a free property of qemu.device{} (field = key) */
};
struct emit_dev {
	int dev;                     /* 1-based index in `devices`; 0: a section's */
	const char *driver;          /* the option's head */
	struct emit_key *keys;
	int nkeys, capkeys;
};
struct emit_trace {
	struct emit_dev *v;
	int n, cap;
	int cur;                     /* the -device being built, or -1 */
};

/* A command run before QEMU starts (a description's `prepare`). */
struct emit_step {
	char **argv;                 /* NULL-terminated */
	int argc;
	const char *remove;          /* removed at exit once the command ran, or NULL */
};

struct emit {
	struct arena *a;
	char **argv;                 /* the rendered arguments, argv[0] = binary */
	size_t *argl;                /* their lengths */
	int argc, cap;
	struct qfd **fds;            /* fds[i] becomes child fd 3 + i */
	int nfds, fdcap;
	char *buf;                   /* the option being built */
	size_t len, bufcap;
	int nkeys;                   /* keys so far in the option being built */
	struct emit_step *steps;     /* the description's `prepare`: run before QEMU */
	int nsteps;
	/* Tracing (NULL: off, the usual case): render code says which device
	 * and field it is writing; the emitter records -device options. */
	struct emit_trace *trace;
	int trace_dev;
	const char *trace_field;
	unsigned char trace_free;
};

void emit_init(struct emit *e, struct arena *a);
void emit_word(struct emit *e, const char *s);          /* a verbatim argument */
void emit_wordn(struct emit *e, const char *s, size_t n);
/* A flag of qlua's own ("-nodefaults"): a string literal, or a schema's
 * string, taken as it is (not copied). */
void emit_flag(struct emit *e, const char *flag);
/* A flag ("-kernel", "-device") is taken as it is, not copied: a string
 * literal (or anything that outlives the emitter's words). */
void emit_arg(struct emit *e, const char *flag, const char *val, size_t n); /* "-kernel", path */

/* Building one "-x head,key=value,..." option: built in the emitter's
 * buffer, which opt_end hands over as the word (copied once). */
void opt_begin(struct emit *e, const char *flag);        /* "-device" */
void opt_head(struct emit *e, const char *s, size_t n);  /* implied first value, escaped */
/* key=value: the key's length given, or (the inline forms) counted, which
 * the compiler does at build time for a literal key. */
void opt_strn(struct emit *e, const char *key, size_t kn, const char *s, size_t n); /* escaped */
void opt_booln(struct emit *e, const char *key, size_t kn, int on);  /* on|off, never short form */
void opt_intn(struct emit *e, const char *key, size_t kn, long long v);
void opt_uintn(struct emit *e, const char *key, size_t kn, unsigned long long v);
static inline void opt_str(struct emit *e, const char *key, const char *s, size_t n)
{
	opt_strn(e, key, strlen(key), s, n);
}
static inline void opt_cstr(struct emit *e, const char *key, const char *s)
{
	opt_strn(e, key, strlen(key), s, strlen(s));
}
static inline void opt_bool(struct emit *e, const char *key, int on)
{
	opt_booln(e, key, strlen(key), on);
}
static inline void opt_int(struct emit *e, const char *key, long long v)
{
	opt_intn(e, key, strlen(key), v);
}
static inline void opt_uint(struct emit *e, const char *key, unsigned long long v)
{
	opt_uintn(e, key, strlen(key), v);
}
void opt_fd(struct emit *e, const char *key, struct qfd *fd);
void opt_fds(struct emit *e, const char *key, struct qfd *const *fds, int n);
void opt_end(struct emit *e);

/* The child descriptor number of fd: numbered 3, 4, ... on first use, in
 * argv order, so the map follows the command line. */
int emit_fdnum(struct emit *e, struct qfd *fd);

#endif
