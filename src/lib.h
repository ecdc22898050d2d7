/* lib.h - the qemu module as the qlua binary sees it. */
#ifndef QLUA_LIB_H
#define QLUA_LIB_H

#include <lua.h>

#include "emit.h"

#define QLUA_VERSION "0.1.0"

int luaopen_qemu(lua_State *L);

/* Puts the directory of the script at path on package.path, before Lua's
 * defaults (luaopen_qemu puts QLUA_PATH's before it): modules beside a
 * script are found from any directory.  The built-in qemu.* modules still
 * win over files there. */
void qlua_path_script(lua_State *L, const char *path);


/* qemu._uses, qemu.which and the lazy qemu.check, qemu.has_device,
 * qemu.qemu_version (lcheck.c), into the table on top of the stack. */
void lcheck_register(lua_State *L);

#endif
