/* lsys.h - what the Lua library (lua/qemu/) asks of the system, answered
 * in C so that asking starts no program: a dry run may ask too. */
#ifndef QLUA_LSYS_H
#define QLUA_LSYS_H

#include <lua.h>

/* qemu._random_hex, _cwd, _exe, _mkdir_p, _rm_rf, _nproc, _isatty,
 * _wall_time, _dir, _write_file and _lock_dir, into the table on top of the
 * stack. */
void lsys_register(lua_State *L);

#endif
