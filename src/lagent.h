/* lagent.h - the guest agent from Lua (lagent.c): vm.agent. */
#ifndef QLUA_LAGENT_H
#define QLUA_LAGENT_H

#include <lua.h>

struct vm;

/* Pushes the agent object of the VM handle at vm_idx; ref is where the
 * handle keeps its struct vm (NULL once released). */
void lagent_push_for_vm(lua_State *L, int vm_idx, struct vm **ref);

#endif
