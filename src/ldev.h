/* ldev.h - device values: the userdata qemu.<kind>{...} returns. */
#ifndef QLUA_LDEV_H
#define QLUA_LDEV_H

#include <lua.h>

#include "schema.h"

#define QLUA_DEVICE_MT "qemu.device"

/* The checked record of the device value at idx, or NULL. */
struct rec *ldev_test(lua_State *L, int idx);
/* Registers the metatable and adds one constructor per device kind, plus
 * kinds(), describe() and kind(), to the table at the top of the stack. */
void ldev_register(lua_State *L);
/* The field index by interned Lua string of this state (schema.h), made by
 * ldev_register and kept in the registry. */
const struct schema_lua *ldev_names(lua_State *L);

#endif
