/* lfd.h - the qemu.fd userdata: a descriptor handed to QEMU at launch. */
#ifndef QLUA_LFD_H
#define QLUA_LFD_H

#include <lua.h>

#include "lvalue.h"  /* struct qfd, qfd_test: what check.c meets too */

/* Pushes a new, still empty (fd = -1) qemu.fd: wrap first, then acquire. */
struct qfd *qfd_push(lua_State *L);
/* Pushes the Lua object whose struct is q (found among the live qemu.fd
 * objects; a linear walk, there are few), or nil if there is none. */
void qfd_pushobj(lua_State *L, struct qfd *q);
/* Adds fd, open, tap, socketpair to the table at the top of the stack and
 * registers the metatable. */
void lfd_register(lua_State *L);

#endif
