/* ldev.h - device values: the userdata qemu.<kind>{...} returns. */
#ifndef QLUA_LDEV_H
#define QLUA_LDEV_H

#include <lua.h>

#include "schema.h"

#define QLUA_DEVICE_MT "qemu.device"

#include "arena.h"

/* What the module keeps per Lua state (a registry userdata made by
 * ldev_register). */
struct ldev_state {
	const void *mt;              /* the device values' metatable */
	struct arena scratch;        /* rewound and reused by every constructor's check and qemu.argv */
	struct schema_lua *names;    /* the field index by interned Lua string */
};
struct ldev_state *ldev_state(lua_State *L);

/* The checked record of the device value at idx, or NULL; ldev_testmt
 * compares with the metatable mt (ldev_state's) instead of looking it up. */
struct rec *ldev_test(lua_State *L, int idx);
struct rec *ldev_testmt(lua_State *L, int idx, const void *mt);
/* Registers the metatable and adds one constructor per device kind, plus
 * kinds(), describe() and kind(), to the table at the top of the stack. */
void ldev_register(lua_State *L);
/* Adds the (short, string) key at index key, field `field` of kind k, to
 * the field index t of this state (schema_lua_add), keeping the string
 * alive as long as the state; 0 when the index is full. */
int ldev_intern(lua_State *L, struct schema_lua *t, int key, const struct kind *k, int field);

#endif
