/* lqmp.h - QMP from Lua (lqmp.c): the qemu.qmp object (vm.qmp,
 * qemu.qmp_connect) and Lua values to and from JSON. */
#ifndef QLUA_LQMP_H
#define QLUA_LQMP_H

#include <stddef.h>

#include <jansson.h>
#include <lua.h>

struct vm;

/* qemu.qmp_connect, qemu.json, qemu.json_decode, qemu.null into the table
 * on top, and the metatables. */
void lqmp_register(lua_State *L);
/* Pushes a qemu.qmp object on the QMP channel of the VM handle at vm_idx;
 * ref is where the handle keeps its struct vm (NULL once released). */
void lqmp_push_for_vm(lua_State *L, int vm_idx, struct vm **ref);
/* A Lua value as JSON (NULL with a message in err when it has none), JSON
 * as a Lua value (the agent's replies are QMP's JSON too). */
json_t *lqmp_to_json(lua_State *L, int idx, char *err, size_t errlen);
void lqmp_push_json(lua_State *L, json_t *j);
/* Pushes nil and an error value { class = ..., desc = ... } that prints as
 * "class: desc" (QMP's errors, and the guest agent's: the same values);
 * returns 2, for `return lqmp_push_error(...)`. */
int lqmp_push_error(lua_State *L, const char *class, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
