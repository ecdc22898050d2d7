/* lib.c - luaopen_qemu: the module table.  The other Lua-facing files
 * register their own functions here (lbuild.c: qemu.argv; ldev.c:
 * constructors and schema introspection; lfd.c: descriptors; lvm.c:
 * processes; ldry.c: whether this is a dry run; lsys.c: system facts for
 * the Lua library). */
#include "lib.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <lauxlib.h>

#include "arena.h"
#include "embedded.h"
#include "check.h"
#include "kvm.h"
#include "lbuild.h"
#include "ldev.h"
#include "ldry.h"
#include "lfd.h"
#include "lsys.h"
#include "lvm.h"
#include "options.h"
#include "render.h"
#include "types.h"

/* qemu.kvm_usable() -> ok, reason: does KVM run guests here (kvm.h)? */
static int l_kvm_usable(lua_State *L)
{
	char why[600];
	lua_pushboolean(L, kvm_usable(why, sizeof why));
	lua_pushstring(L, why);
	return 2;
}

/* Pushes lua/qemu/merge.lua's module, loaded the first time it is needed:
 * compiling it at every start would cost more than a whole dry run. */
static void merge_module(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_pushliteral(L, "qemu.merge");
	lua_call(L, 1, 1);
}

/* qemu.merge(...): a C __call, because `return qemu.merge(...)`, a script's
 * usual last line, is a tail call: through a Lua function the script's line
 * would be gone, and merge's errors would name none. */
static int l_merge_call(lua_State *L)
{
	merge_module(L);
	lua_replace(L, 1);  /* the function where the qemu.merge table was */
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

/* qemu.merge.delete, qemu.merge.replace: the module's own sentinels. */
static int l_merge_index(lua_State *L)
{
	merge_module(L);
	lua_pushvalue(L, 2);
	lua_gettable(L, -2);
	if (!lua_isnil(L, -1)) {
		lua_pushvalue(L, 2);
		lua_pushvalue(L, -2);
		lua_rawset(L, 1);  /* found directly next time */
	}
	return 1;
}

/* qemu.merge: a callable table (see lua/qemu/merge.lua). */
static void setup_merge(lua_State *L)
{
	lua_newtable(L);
	lua_createtable(L, 0, 3);
	lua_pushcfunction(L, l_merge_call);
	lua_setfield(L, -2, "__call");
	lua_pushcfunction(L, l_merge_index);
	lua_setfield(L, -2, "__index");
	lua_pushliteral(L, "qemu.merge");
	lua_setfield(L, -2, "__name");
	lua_setmetatable(L, -2);
	lua_setfield(L, -2, "merge");
}

/* ---- where require looks -------------------------------------------------------
 * The Lua library (the files of lua/qemu/) travels inside the binary and the
 * module, registered in package.preload: require "qemu.recipes" works from
 * any directory.  QLUA_PATH=DIR (qlua -L DIR) comes first: DIR/?.lua heads
 * package.path (qemu.NAME is DIR/qemu/NAME.lua, a module M of one's own is
 * DIR/M.lua), and a built-in module loads DIR's file instead when DIR has
 * one.  So DIR holds only what it adds or changes: a recipe library of
 * one's own keeps requiring the built-in qemu.recipes. */

static const char *lib_dir(void)
{
	const char *d = getenv("QLUA_PATH");
	return d && *d ? d : NULL;
}

/* The package.preload loader of built-in module i (upvalue 1): DIR's file
 * when QLUA_PATH's DIR has it, else the copy compiled in. */
static int lib_load(lua_State *L)
{
	const char *dir = lib_dir();
	if (dir) {
		const char *name = luaL_checkstring(L, 1);
		lua_getglobal(L, "package");
		lua_getfield(L, -1, "searchpath");
		lua_pushvalue(L, 1);
		lua_pushfstring(L, "%s/?.lua", dir);
		lua_call(L, 2, 1);
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *file = lua_tostring(L, -1);
			if (luaL_loadfile(L, file) != LUA_OK)  /* worded as Lua's own searcher words it */
				return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file,
				                  lua_tostring(L, -1));
			lua_pushvalue(L, 1);
			lua_pushvalue(L, -3);
			lua_call(L, 2, 1);
			return 1;
		}
		lua_settop(L, 1);
	}
	return embedded_load(L);
}

static void preload(lua_State *L)
{
	if (lua_getglobal(L, "package") != LUA_TTABLE) {  /* a host without the package library */
		lua_pop(L, 1);
		return;
	}
	const char *dir = lib_dir();
	if (dir) {
		lua_pushfstring(L, "%s/?.lua;", dir);
		lua_getfield(L, -2, "path");
		lua_concat(L, 2);
		lua_setfield(L, -2, "path");
	}
	lua_getfield(L, -1, "preload");
	for (int i = 0; embedded[i].name; i++) {
		lua_pushinteger(L, i);
		lua_pushcclosure(L, lib_load, 1);
		lua_setfield(L, -2, embedded[i].name);
	}
	lua_pop(L, 2);
}

void qlua_path_script(lua_State *L, const char *script)
{
	const char *slash = strrchr(script, '/');
	size_t n = slash ? (size_t)(slash - script) : 1;
	const char *dir = slash ? script : ".";
	/* stdin has no directory; ';' and '?' cannot stand in package.path */
	if (!strcmp(script, "-") || strcspn(dir, ";?") < n)
		return;
	if (lua_getglobal(L, "package") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addlstring(&b, dir, n);
	luaL_addstring(&b, "/?.lua;");
	luaL_addlstring(&b, dir, n);
	luaL_addstring(&b, "/?/init.lua;");
	lua_getfield(L, -2, "path");
	luaL_addvalue(&b);
	luaL_pushresult(&b);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);
}

/* The names ck_closest (check.c) picks from: a Lua list on the stack. */
struct names {
	lua_State *L;
	int idx;
};

static const char *name_at(void *ctx, int i)
{
	struct names *n = ctx;
	lua_rawgeti(n->L, n->idx, i + 1);
	const char *s = lua_tostring(n->L, -1);  /* the list keeps it alive */
	lua_pop(n->L, 1);
	return s ? s : "";
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The qemu table's __index: a name it does not have is an error at once,
 * saying what there is, rather than "attempt to call a nil value (field
 * 'cdrm')" a moment later.  Probing for a kind or a function that a newer
 * qlua may have is rawget(qemu, name); qemu.kinds() lists the kinds. */
static int l_qemu_index(lua_State *L)
{
	if (lua_type(L, 2) != LUA_TSTRING)
		return 0;
	const char *name = lua_tostring(L, 2);
	if (lua_getfield(L, LUA_REGISTRYINDEX, "qlua.kinds") != LUA_TTABLE) {  /* 3: the device kinds */
		/* made on the first mistake, not at every start */
		lua_pop(L, 1);
		lua_pushvalue(L, lua_upvalueindex(1));  /* qemu.kinds as the module made it */
		lua_call(L, 0, 1);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, "qlua.kinds");
	}
	struct names kinds = { L, 3 };
	int nk = (int)lua_rawlen(L, 3);
	const char *s = ck_closest(name, name_at, &kinds, nk);
	if (!s) {  /* a function's name, mistyped? (names starting with '_' are not offered) */
		const char *fn[128];
		int n = 0;
		lua_pushnil(L);
		while (lua_next(L, 1) && n < 128) {
			if (lua_type(L, -2) == LUA_TSTRING && lua_tostring(L, -2)[0] != '_' &&
			    (lua_type(L, -1) == LUA_TFUNCTION || lua_type(L, -1) == LUA_TTABLE))
				fn[n++] = lua_tostring(L, -2);  /* the qemu table keeps it alive */
			lua_pop(L, 1);
		}
		qsort(fn, n, sizeof *fn, by_name);
		lua_createtable(L, n, 0);
		for (int i = 0; i < n; i++) {
			lua_pushstring(L, fn[i]);
			lua_rawseti(L, -2, i + 1);
		}
		struct names fns = { L, lua_gettop(L) };
		s = ck_closest(name, name_at, &fns, n);
	}
	if (s)
		return luaL_error(L, "no device kind or function '%s' in qemu (did you mean '%s'?)", name, s);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 0; i < nk; i++) {
		if (i)
			luaL_addstring(&b, ", ");
		luaL_addstring(&b, name_at(&kinds, i));
	}
	luaL_pushresult(&b);
	return luaL_error(L, "no device kind or function '%s' in qemu (device kinds: %s)", name, lua_tostring(L, -1));
}

/* Makes the module table at the top answer unknown names with an error. */
static void setup_index(lua_State *L)
{
	lua_createtable(L, 0, 1);
	lua_getfield(L, -2, "kinds");
	lua_pushcclosure(L, l_qemu_index, 1);
	lua_setfield(L, -2, "__index");
	lua_setmetatable(L, -2);
}

int luaopen_qemu(lua_State *L)
{
	if (types_missing() >= 0)
		return luaL_error(L, "qlua was built with field type %d missing from src/types.c's table", types_missing());
	preload(L);
	static const luaL_Reg funcs[] = { { "kvm_usable", l_kvm_usable }, { "suggest", ck_l_suggest },
	                                  { NULL, NULL } };
	/* sized for what the registrations below add (59 names today): the
	 * table is made once instead of rehashed five times as they arrive */
	luaL_checkversion(L);  /* (what luaL_newlib did: qemu.so meets other Lua builds) */
	lua_createtable(L, 0, 64);
	luaL_setfuncs(L, funcs, 0);
	lbuild_register(L);
	lua_pushliteral(L, QLUA_VERSION);
	lua_setfield(L, -2, "version");
	ldev_register(L);
	lfd_register(L);
	lvm_register(L);
	lcheck_register(L);
	ldry_register(L);
	lsys_register(L);
	options_register(L);
	setup_merge(L);
	setup_index(L);  /* last: everything it has is there now */
	return 1;
}
