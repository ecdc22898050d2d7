/* lvalue.h - the module's own Lua values as the checker (check.c) meets
 * them, and the module's per-state facts: declared here, below both the
 * checker and the bindings that check with it (ldev.c's device values,
 * lfd.c's qemu.fd), so that none of them includes the other's header in
 * a circle. */
#ifndef QLUA_LVALUE_H
#define QLUA_LVALUE_H

#include <lua.h>

#include "arena.h"
#include "schema.h"

/* ---- qemu.fd (lfd.c makes them) ---- */
#define QLUA_FD_MT "qemu.fd"

struct qfd {
	int fd;            /* -1 once closed */
	char what[96];     /* what it is, for --json and messages: "tap tap0 queue 1" */
};

/* The object at idx, or NULL when it is not a qemu.fd. */
struct qfd *qfd_test(lua_State *L, int idx);

/* ---- device values (ldev.c makes them) ---- */

/* A device value: the record and everything it points to live in the
 * userdata's own memory (no finalizer: nothing is malloc'ed), the values
 * it cannot give back itself in its user values (see check.h). */
struct ldev {
	struct rec *r;
	int propslot;                /* qemu.device{}: the user value of the free properties */
	char mem[];                  /* the record's memory (arena_init aligns it) */
};

#define QLUA_DEVICE_MT "qemu.device"

/* What the module keeps per Lua state (a registry userdata made by
 * ldev_register). */
struct ldev_state {
	const void *mt;              /* the device values' metatable */
	struct arena scratch;        /* rewound and reused by every constructor's check and qemu.argv */
	struct schema_lua *names;    /* the field index by interned Lua string (user value 2) */
};
struct ldev_state *ldev_state(lua_State *L);

/* The checked record of the device value at idx, or NULL; ldev_testmt
 * compares with the metatable mt (ldev_state's) instead of looking it up. */
struct rec *ldev_test(lua_State *L, int idx);
struct rec *ldev_testmt(lua_State *L, int idx, const void *mt);
/* Makes the state once per Lua state (ldev_register), or returns the one
 * there is when the module is opened again. */
struct ldev_state *ldev_state_open(lua_State *L);

/* Adds the (short, string) key at index key, field `field` of kind k, to
 * the field index of state st (schema_lua_add), keeping the string alive
 * as long as the state; 0 when the index is as large as it gets. */
int ldev_intern(lua_State *L, struct ldev_state *st, int key, const struct kind *k, int field);

#endif
