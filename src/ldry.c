/* ldry.c - see ldry.h.  A dry run is trusted to show what a script would
 * do without doing it, so it must not depend on the script's care: Lua's
 * own functions that start programs or write files are replaced, in the
 * loaded os and io tables (the globals are the same tables), by functions
 * that raise at the script's line and say what would have happened.
 * Reading stays as it is: a script may read its files to describe a VM. */
#include "ldry.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lualib.h>

void (*ldry_hook)(lua_State *L, const struct emit *e, int desc, const char *fname);
static int hold;  /* > 0 inside ldry_check_pcall under --probe */

/* Registry field: absent outside a dry run, 1 in one, 2 with --check, 3
 * with --probe (which may start the QEMU it asks: lua/qemu/check.lua). */
#define DRY_KEY "qlua.dry"

static int dry_level(lua_State *L)
{
	lua_getfield(L, LUA_REGISTRYINDEX, DRY_KEY);
	int level = (int)lua_tointeger(L, -1);
	lua_pop(L, 1);
	return level;
}

/* Raises "<where>dry run: <what>; a dry run starts no program ... (<hint>)",
 * what being the string on top of the stack and where the line of `level`
 * as luaL_where takes it: the one refusal sentence, which qemu._dry_refuse
 * gives the Lua library too (a matrix's run). */
static int refuse_top(lua_State *L, int level, const char *hint)
{
	luaL_where(L, level);
	lua_pushliteral(L, "dry run: ");
	lua_rotate(L, -3, 2);  /* where, "dry run: ", what */
	lua_pushfstring(L, "; a dry run starts no program and makes, changes or removes no file (%s)", hint);
	lua_concat(L, 4);
	return lua_error(L);
}

/* At the caller's line, as luaL_error. */
static int refuse(lua_State *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	return refuse_top(L, 1, "a VM's files are made at launch by its prepare steps, which a dry run prints");
}

/* An argument as the message shows it (the functions take numbers too). */
static const char *arg_text(lua_State *L, int i)
{
	const char *s = lua_tostring(L, i);
	return s ? s : "?";
}

static int dry_execute(lua_State *L)
{
	if (lua_isnoneornil(L, 1))  /* os.execute(): system(NULL) runs a shell to see if there is one */
		return refuse(L, "os.execute would start a shell");
	return refuse(L, "os.execute would run '%s'", arg_text(L, 1));
}

static int dry_popen(lua_State *L)
{
	return refuse(L, "io.popen would run '%s'", arg_text(L, 1));
}

static int dry_remove(lua_State *L)
{
	return refuse(L, "os.remove would remove '%s'", arg_text(L, 1));
}

static int dry_rename(lua_State *L)
{
	return refuse(L, "os.rename would rename '%s' to '%s'", arg_text(L, 1), arg_text(L, 2));
}

static int dry_tmpname(lua_State *L)
{
	return refuse(L, "os.tmpname would create a file");  /* (mkstemp makes it) */
}

static int dry_tmpfile(lua_State *L)
{
	return refuse(L, "io.tmpfile would create a file");  /* (tmpfile(3): on disk, if unnamed) */
}

/* io.open: Lua's mode rule ([rwa]+?b*), then reading goes to Lua's own
 * io.open (upvalue 1), anything that writes is refused.  The arguments are
 * checked here, so their errors still say 'open'. */
static int dry_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	const char *mode = luaL_optstring(L, 2, "r"), *m = mode;
	int ok = *m && strchr("rwa", *m++);
	if (ok && *m == '+')
		m++;
	luaL_argcheck(L, ok && strspn(m, "b") == strlen(m), 2, "invalid mode");
	if (mode[0] != 'r' || strchr(mode, '+'))
		return refuse(L, "io.open would open '%s' for writing (mode '%s')", path, mode);
	lua_settop(L, 2);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, 2, LUA_MULTRET);
	return lua_gettop(L);
}

/* io.output(name) opens name for writing; a file handle or nothing goes
 * to Lua's own io.output (upvalue 1). */
static int dry_output(lua_State *L)
{
	if (lua_type(L, 1) == LUA_TSTRING)
		return refuse(L, "io.output would open '%s' for writing", lua_tostring(L, 1));
	int n = lua_gettop(L) > 0;
	lua_settop(L, n);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, n, LUA_MULTRET);
	return lua_gettop(L);
}

/* lib.name = f, with lib's own function of that name as f's upvalue when
 * f needs it. */
static void replace(lua_State *L, int lib, const char *name, lua_CFunction f, int wraps)
{
	if (wraps) {
		lua_getfield(L, lib, name);
		lua_pushcclosure(L, f, 1);
	} else {
		lua_pushcfunction(L, f);
	}
	lua_setfield(L, lib, name);
}

void ldry_install(lua_State *L, int level)
{
	lua_pushinteger(L, level);
	lua_setfield(L, LUA_REGISTRYINDEX, DRY_KEY);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, LUA_OSLIBNAME) == LUA_TTABLE) {
		int os = lua_gettop(L);
		replace(L, os, "execute", dry_execute, 0);
		replace(L, os, "remove", dry_remove, 0);
		replace(L, os, "rename", dry_rename, 0);
		replace(L, os, "tmpname", dry_tmpname, 0);
	}
	lua_pop(L, 1);
	if (lua_getfield(L, -1, LUA_IOLIBNAME) == LUA_TTABLE) {
		int io = lua_gettop(L);
		replace(L, io, "popen", dry_popen, 0);
		replace(L, io, "tmpfile", dry_tmpfile, 0);
		replace(L, io, "open", dry_open, 1);
		replace(L, io, "output", dry_output, 1);
	}
	lua_pop(L, 2);
}

/* A missing file is created only where its directory is there: without
 * one, the open fails as it would in a run (ENOENT), and creates nothing. */
void ldry_refuse_create(lua_State *L, const char *fname, const char *path)
{
	struct stat st;
	if (!dry_level(L) || stat(path, &st) == 0 || errno != ENOENT)
		return;
	const char *slash = strrchr(path, '/');
	if (slash) {
		lua_pushlstring(L, path, slash == path ? 1 : (size_t)(slash - path));  /* its directory */
		int there = stat(lua_tostring(L, -1), &st) == 0 && S_ISDIR(st.st_mode);
		lua_pop(L, 1);
		if (!there)
			return;
	}
	refuse(L, "%s would create '%s'", fname, path);
}

void ldry_refuse_change(lua_State *L, const char *fname, const char *verb, const char *path)
{
	/* --probe's qemu.check (ldry_check_pcall) writes the cache of QEMU's
	 * answers: what --probe is for */
	int level = dry_level(L);
	if (level && !(level > 2 && hold))
		refuse(L, "%s would %s '%s'", fname, verb, path);
}

int ldry_active(lua_State *L)
{
	return dry_level(L) > 0;
}

/* Whether it is --probe's: the QEMU qemu.check asks may start. */
static int probing(lua_State *L)
{
	return dry_level(L) > 2;
}

int ldry_diverts(void)
{
	return ldry_hook && !hold;
}

int ldry_check_pcall(lua_State *L, int nargs, int nresults)
{
	int h = probing(L);
	hold += h;
	int rc = lua_pcall(L, nargs, nresults, 0);
	hold -= h;
	return rc;
}

/* qemu._dry_run() -> dry, checking, probing */
static int l_dry_run(lua_State *L)
{
	int level = dry_level(L);
	lua_pushboolean(L, level > 0);
	lua_pushboolean(L, level > 1);
	lua_pushboolean(L, level > 2);
	return 3;
}

/* qemu._dry_refuse(level, what, hint): raises the refusal sentence for
 * what the Lua library would do, at level as error() takes it. */
static int l_dry_refuse(lua_State *L)
{
	int level = (int)luaL_checkinteger(L, 1);
	luaL_checkstring(L, 2);
	const char *hint = luaL_checkstring(L, 3);
	lua_pushvalue(L, 2);
	return refuse_top(L, level, hint);
}

void ldry_register(lua_State *L)
{
	lua_pushcfunction(L, l_dry_run);
	lua_setfield(L, -2, "_dry_run");
	lua_pushcfunction(L, l_dry_refuse);
	lua_setfield(L, -2, "_dry_refuse");
}
