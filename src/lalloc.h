/* lalloc.h - the allocator of qlua's Lua state (lalloc.c): small blocks
 * from size-class free lists, the rest from malloc. */
#ifndef QLUA_LALLOC_H
#define QLUA_LALLOC_H

#include <lua.h>

/* Installs the pool as L's allocator (not under ASan, nor with
 * QLUA_SYSTEM_MALLOC set, nor when the address range cannot be reserved). */
void lalloc_install(lua_State *L);

#endif
