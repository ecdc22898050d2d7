/* lbuild.h - building a VM description's command line: check, then render
 * (the build path), and qemu.argv, its Lua face. */
#ifndef QLUA_LBUILD_H
#define QLUA_LBUILD_H

#include <lua.h>

#include "emit.h"

struct arena;
struct runtime;
struct emit_trace;
struct rec;
struct spawn_ids;

/* Checks the VM description at idx and renders it into e; *ids gets who
 * QEMU runs as (the checked description's uid, gid and groups: not part of
 * the command line, so beside it, not in it).  Pushes the arena that owns
 * e's memory (keep it on the stack while using e), and returns it: a caller
 * done with e may arena_free it at once (its userdata frees it otherwise,
 * when collected, however the build ends).  Errors blame `where`
 * ("vm.lua:40: "), or the calling Lua line when NULL.  Raises on any
 * invalid input; on return every descriptor in e->fds is open. */
struct arena *qlua_build(lua_State *L, int idx, const char *where, struct emit *e, struct spawn_ids *ids,
                         const struct runtime *rt);
/* The same without the ids (nothing is started), recording what qemu.check
 * asks QEMU about in *trace (when not NULL); *vmp (when not NULL) gets the
 * checked VM record. */
void qlua_build_ex(lua_State *L, int idx, const char *where, struct emit *e, const struct runtime *rt,
                   struct emit_trace *trace, const struct rec **vmp);


/* qemu.argv into the module table at the top of the stack. */
void lbuild_register(lua_State *L);

#endif
