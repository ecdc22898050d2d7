/* check.h - walking the user's Lua tables against the schema.
 *
 * The only place that reads Lua tables of values, with types.c (each field
 * type's check); the l*.c bindings read only their own positional arguments,
 * and options.c checks named options here too.  It turns a
 * table into a checked `struct rec`, building the error path as it goes
 * (`devices[3] (block): field 'fds[2]'`) and raising at the user's line.
 * Whatever passes here is safe to render: render code never re-validates. */
#ifndef QLUA_CHECK_H
#define QLUA_CHECK_H

#include <lua.h>

#include "arena.h"
#include "schema.h"

struct ck {
	lua_State *L;
	struct arena *a;
	const char *where;      /* "vm.lua:12: ", the line errors blame */
	int where_level;        /* where NULL: the Lua level whose line errors blame, 0 none */
	const char *ctx;        /* "block", "devices[3] (block)", or NULL */
	char path[160];         /* prefix of the record being walked: "memory." */
	int anchor;             /* stack index of the device userdata whose user values keep
	                           what the record points into alive, or 0 */
	const struct rec *dev;  /* whole-VM checks: the device blamed (ctx "devices[i] (kind)") */
	int devindex;
	struct ldev_state *st;  /* its field index by interned key (ldev_state), or NULL */
	const void *devmt;      /* the device values' metatable (ldev_testmt) */
	struct arena *tmp;      /* where what dies with the check goes (NULL: a) */
	int copy;               /* strings go into a (a device's own memory), not left in Lua's */
	int nslot, propslot;    /* the anchor's user values: the last used, the free properties' */
};

/* luaL_where(L, level) into a C buffer: "vm.lua:12: ", or "" for C. */
void ck_where(lua_State *L, int level, char *buf, size_t n);

/* The name closest to `name` among n (get(ctx, i) gives each), when close
 * enough to be a typo, else NULL; and qemu.suggest, the same for Lua. */
const char *ck_closest(const char *name, const char *(*get)(void *ctx, int i), void *ctx, int n);
int ck_l_suggest(lua_State *L);
/* ck_closest's get for a C array of names (ctx: const char *const *). */
const char *ck_array_name(void *ctx, int i);

/* Raises "<where><ctx>: <message>". */
void ck_raise(struct ck *c, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* Checks the table at idx against kind k (into c->a).  With c->anchor set,
 * each value the record cannot give back itself (descriptors, lists,
 * tables, numbers given as text) is stored in that userdata's next user
 * value (c->nslot; qval.uv says which); with c->copy, strings are copied
 * into c->a: the record stays valid as long as the userdata lives. */
struct rec *check_record(struct ck *c, int idx, const struct kind *k);

/* For the checks of each field type (types.c), which walk lists and
 * nested records with the checker:
 * ck_expected raises "field '<path><name>': <what> expected, got <type>"
 * for the value at idx; ck_list returns the length of the list at idx,
 * raising unless it is a table with keys 1..n only (allow_empty: {} is
 * fine; sub: the kind of its items, when they are sections, for the hint);
 * ck_props checks a table of QEMU properties (T_PROPS) into v; ck_keep
 * keeps the value at idx in the anchor (v->uv says where), ck_keep_top the
 * value on top of the stack (popped), a copy the check made: see keep. */
void ck_expected(struct ck *c, const char *name, const char *what, int idx) __attribute__((noreturn));
int ck_list(struct ck *c, const char *name, int idx, int allow_empty, const struct kind *sub);
void ck_props(struct ck *c, const char *name, int idx, struct qval *v);
void ck_keep(struct ck *c, struct qval *v, int idx);
void ck_keep_top(struct ck *c, struct qval *v);

/* What each field type does: one row per enum ftype, the rows in types.c
 * (whose types.h says what each column is for).  check_value calls the
 * row's check for each field given; a section's row calls check_record
 * back. */
enum {
	KEEP_NONE,   /* read back from the record (push) */
	KEEP_GIVEN,  /* check_value keeps the Lua value as given */
	KEEP_OWN     /* the check keeps a value of its own making (a list's copy) */
};

struct field_type {
	const char *name;
	void (*check)(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v);
	void (*push)(lua_State *L, const struct field *f, const struct qval *v);
	void (*def)(const struct field *f, const char *text, struct qval *v);
	unsigned char kept;
};

extern const struct field_type field_types[T_NTYPES];

/* A string QEMU can be given at idx (the checks of T_STR and of free
 * properties): no NUL, no line break (unless allow has TYPE_STR_LINES),
 * not empty (unless allow has TYPE_STR_EMPTY); raises naming field `name`. */
enum { TYPE_STR_EMPTY = 1, TYPE_STR_LINES = 2 };
const char *type_checkstr(struct ck *c, const char *name, int idx, size_t *len, int allow);

/* Whole-description checks: duplicate ids and references, over the devices
 * of a checked VM record.  Errors blame the line each device was built at. */
void check_vm(struct ck *c, const struct rec *vm);

#endif
