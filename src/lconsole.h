/* lconsole.h - a captured console from Lua (lconsole.c): vm.console. */
#ifndef QLUA_LCONSOLE_H
#define QLUA_LCONSOLE_H

#include <lua.h>

struct vm;

void lconsole_register(lua_State *L);
/* Pushes the console object of the VM handle at vm_idx; ref is where the
 * handle keeps its struct vm (NULL once released). */
void lconsole_push_for_vm(lua_State *L, int vm_idx, struct vm **ref);

#endif
