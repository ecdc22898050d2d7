/* ldev.h - device values: the userdata qemu.<kind>{...} returns. */
#ifndef QLUA_LDEV_H
#define QLUA_LDEV_H

#include <lua.h>

#include "lvalue.h"  /* struct ldev_state, ldev_test: what check.c meets too */
#include "schema.h"

/* Registers the metatable and adds one constructor per device kind, plus
 * kinds(), describe() and kind(), to the table at the top of the stack. */
void ldev_register(lua_State *L);

/* The device kind, section or table of named options (what qemu.describe
 * and --describe take) closest to name, when it is close enough to be a
 * typo (ck_closest); NULL otherwise. */
const char *ldev_closest_kind(const char *name);

#endif
