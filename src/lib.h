/* lib.h - the qemu module as the qlua binary sees it. */
#ifndef QLUA_LIB_H
#define QLUA_LIB_H

#include <lua.h>

#include "emit.h"

#define QLUA_VERSION "0.1.0"

int luaopen_qemu(lua_State *L);

/* Checks the VM description at idx and renders it into e.  Pushes the
 * arena that owns e's memory (keep it on the stack while using e).
 * Errors blame `where` ("vm.lua:40: "), or the calling Lua line when NULL.
 * Raises on any invalid input; on return every descriptor in e->fds is open. */
struct runtime;
void qlua_build(lua_State *L, int idx, const char *where, struct emit *e, const struct runtime *rt);

/* The QEMU binary a description without `path` runs. */
const char *qlua_default_qemu(void);

#endif
