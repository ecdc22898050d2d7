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

/* Checks the VM description at idx and renders it into e.  Pushes the
 * arena that owns e's memory (keep it on the stack while using e).
 * Errors blame `where` ("vm.lua:40: "), or the calling Lua line when NULL.
 * Raises on any invalid input; on return every descriptor in e->fds is open. */
struct runtime;
void qlua_build(lua_State *L, int idx, const char *where, struct emit *e, const struct runtime *rt);
/* The same, recording what qemu.check asks QEMU about in *trace (when not
 * NULL); *vmp (when not NULL) gets the checked VM record. */
struct emit_trace;
struct rec;
void qlua_build_ex(lua_State *L, int idx, const char *where, struct emit *e, const struct runtime *rt,
                   struct emit_trace *trace, const struct rec **vmp);

/* qemu._uses, qemu.which and the lazy qemu.check, qemu.has_device,
 * qemu.qemu_version (lcheck.c), into the table on top of the stack. */
void lcheck_register(lua_State *L);

/* The QEMU binary a description without `path` runs. */
const char *qlua_default_qemu(void);

#endif
