/* lcheck.c - what qemu.check (lua/qemu/check.lua) needs from C: what a
 * description asks of its QEMU binary (qemu._uses: the rendered -device
 * options with the device and field behind each key), which file a binary
 * name runs (qemu.which: the cache key), and qemu.check, qemu.has_device
 * and qemu.qemu_version, which load the Lua library on first use. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "check.h"
#include "emit.h"
#include "lbuild.h"
#include "ldry.h"
#include "lib.h"
#include "schema.h"
#include "vm_kind.h"

/* The field of device d its -device option's driver came from: "driver"
 * when set (given, or its default), "transport" when that picked the name,
 * else NULL (the kind implies it). */
static const char *driver_field(const struct rec *d, const char *driver)
{
	int f = schema_cf(d->k, CF_DRIVER);
	if (f >= 0 && d->v[f].set) {
		const struct field *fl = &kind_fields(d->k)[f];
		const char *v = fl->type == T_ENUM ? fl->choices[d->v[f].u.i] : d->v[f].u.str.s;
		if (!strcmp(v, driver))
			return "driver";
	}
	int t = schema_cf(d->k, CF_TRANSPORT);
	if (t >= 0 && d->v[t].set)
		return "transport";
	return NULL;
}

static void setstr(lua_State *L, const char *k, const char *v)
{
	if (v) {
		lua_pushstring(L, v);
		lua_setfield(L, -2, k);
	}
}

/* qemu._uses(vm [, where]) -> what the description asks of its QEMU:
 *   { path = argv[1], where = where,
 *     machine = { type = ..., options = { key, ... } },
 *     devices = { { dev = i (its index in vm.devices; 0: none), kind, where,
 *                   driver, field (of the driver: "driver", "transport", nil),
 *                   keys = { { key, field, free = true|nil }, ... } }, ... },
 *     objects = { { dev = i, where, type }, ... },
 *     extra_args = { ... } }
 * One `devices` entry per -device option rendered, one `objects` entry per
 * qemu.object{} (its QEMU object type: qlua renders types a QEMU may
 * lack).  vm is checked as qemu.argv checks it (errors name `where`, else
 * the caller's line); nothing is started. */
static int l_uses(lua_State *L)
{
	struct emit e;
	struct emit_trace trace = { 0 };
	const struct rec *vm;
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *where = luaL_optstring(L, 2, NULL);
	char wherebuf[256];
	if (!where) {
		ck_where(L, 1, wherebuf, sizeof wherebuf);
		where = wherebuf;
	}
	lua_settop(L, 2);
	qlua_build_ex(L, 1, where, &e, NULL, &trace, &vm);  /* pushes the arena */
	int devf = VM_DEVICES;
	struct rec *const *devs = vm->v[devf].set ? vm->v[devf].u.recs.v : NULL;

	lua_createtable(L, 0, 6);
	lua_pushlstring(L, e.argv[0], e.argl[0]);
	lua_setfield(L, -2, "path");
	setstr(L, "where", where);

	int mf = VM_MACHINE;
	lua_createtable(L, 0, 2);
	if (vm->v[mf].set) {
		const struct rec *ma = vm->v[mf].u.rec;
		int tf = MA_TYPE, of = MA_OPTIONS;
		if (ma->v[tf].set)
			setstr(L, "type", ma->v[tf].u.str.s);
		lua_newtable(L);
		for (int i = 0; ma->v[of].set && i < ma->v[of].u.props.n; i++) {
			lua_pushstring(L, ma->v[of].u.props.v[i].key);
			lua_rawseti(L, -2, i + 1);
		}
		lua_setfield(L, -2, "options");
	}
	lua_setfield(L, -2, "machine");

	lua_createtable(L, trace.n, 0);
	for (int i = 0; i < trace.n; i++) {
		const struct emit_dev *u = &trace.v[i];
		const struct rec *d = u->dev && devs ? devs[u->dev - 1] : NULL;
		lua_createtable(L, 0, 7);
		lua_pushinteger(L, d ? u->dev : 0);
		lua_setfield(L, -2, "dev");
		setstr(L, "driver", u->driver ? u->driver : "");
		if (d) {
			setstr(L, "kind", d->k->name);
			setstr(L, "where", d->where);
			setstr(L, "field", u->driver ? driver_field(d, u->driver) : NULL);
		}
		lua_createtable(L, u->nkeys, 0);
		for (int k = 0; k < u->nkeys; k++) {
			lua_createtable(L, 0, 3);
			setstr(L, "key", u->keys[k].key);
			setstr(L, "field", u->keys[k].field);
			if (u->keys[k].free) {
				lua_pushboolean(L, 1);
				lua_setfield(L, -2, "free");
			}
			lua_rawseti(L, -2, k + 1);
		}
		lua_setfield(L, -2, "keys");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "devices");

	lua_newtable(L);
	int nobj = 0;
	for (int i = 0; devs && i < vm->v[devf].u.recs.n; i++) {
		const struct rec *d = devs[i];
		int tf = schema_cf(d->k, CF_TYPE);
		if (strcmp(d->k->name, "object") || tf < 0 || !d->v[tf].set)
			continue;
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, i + 1);
		lua_setfield(L, -2, "dev");
		setstr(L, "where", d->where);
		setstr(L, "type", kind_fields(d->k)[tf].choices[d->v[tf].u.i]);
		lua_rawseti(L, -2, ++nobj);
	}
	lua_setfield(L, -2, "objects");

	int xf = VM_EXTRA_ARGS;
	lua_newtable(L);
	for (int i = 0; vm->v[xf].set && i < vm->v[xf].u.strs.n; i++) {
		lua_pushlstring(L, vm->v[xf].u.strs.v[i], vm->v[xf].u.strs.len[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "extra_args");
	return 1;
}

static int fail(lua_State *L, const char *fmt, const char *name, const char *why)
{
	lua_pushnil(L);
	lua_pushfstring(L, fmt, name, why);
	return 2;
}

/* qemu.which(name) -> absolute path, size, mtime | nil, message: the file
 * exec runs for name (looked up in $PATH when it has no '/'), as a key for
 * what that binary answered (qemu.check caches per binary). */
static int l_which(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	struct stat st;
	char buf[PATH_MAX], cwd[PATH_MAX];
	if (!*name)
		return fail(L, "%s%s", "", "empty path");
	if (strchr(name, '/')) {
		int w;
		if (name[0] != '/' && getcwd(cwd, sizeof cwd))
			w = snprintf(buf, sizeof buf, "%s/%s", cwd, !strncmp(name, "./", 2) ? name + 2 : name);
		else
			w = snprintf(buf, sizeof buf, "%s", name);
		if (w < 0 || (size_t)w >= sizeof buf)
			return fail(L, "%s: %s", name, "path too long");
		if (stat(buf, &st) < 0)
			return fail(L, "%s: %s", name, strerror(errno));
	} else {
		const char *path = getenv("PATH");
		int found = 0;
		if (!path || !*path)
			path = "/usr/local/bin:/usr/bin:/bin";
		for (;;) {
			const char *colon = strchr(path, ':');
			size_t n = colon ? (size_t)(colon - path) : strlen(path);
			/* an empty entry is the current directory, as for exec */
			int w = -1;
			if (n && path[0] == '/')
				w = snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, name);
			else if (getcwd(cwd, sizeof cwd))
				w = snprintf(buf, sizeof buf, "%s%s%.*s/%s", cwd, n ? "/" : "", (int)n, path, name);
			if (w > 0 && (size_t)w < sizeof buf && stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(buf, X_OK) == 0) {
				found = 1;
				break;
			}
			if (!colon)
				break;
			path = colon + 1;
		}
		if (!found)
			return fail(L, "%s: %s", name, "not found in $PATH");
	}
	if (!S_ISREG(st.st_mode))
		return fail(L, "%s: %s", name, "not a regular file");
	lua_pushstring(L, buf);
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_pushinteger(L, (lua_Integer)st.st_mtime);
	return 3;
}

/* qemu.check, qemu.has_device, qemu.qemu_version: the functions of the
 * same names in lua/qemu/check.lua (upvalue 1), loaded on first use (a
 * dry run never pays for compiling it).  The caller's line and the number
 * of arguments it gave go along last, so errors name the caller's line. */
static int l_lazy(lua_State *L)
{
	int n = lua_gettop(L);
	char where[256];
	ck_where(L, 1, where, sizeof where);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "qemu.check");
	lua_call(L, 1, 1);
	lua_getfield(L, -1, lua_tostring(L, lua_upvalueindex(1)));
	lua_replace(L, -2);
	lua_insert(L, 1);
	lua_settop(L, 3);  /* the Lua functions take (a, b, where, nargs) */
	lua_pushstring(L, where);
	lua_pushinteger(L, n);
	if (ldry_check_pcall(L, 4, LUA_MULTRET) != LUA_OK)  /* under --probe it may ask QEMU */
		return lua_error(L);
	return lua_gettop(L);
}

void lcheck_register(lua_State *L)
{
	static const luaL_Reg funcs[] = { { "_uses", l_uses }, { "which", l_which }, { NULL, NULL } };
	luaL_setfuncs(L, funcs, 0);
	static const char *const lazy[] = { "check", "has_device", "qemu_version", NULL };
	for (int i = 0; lazy[i]; i++) {
		lua_pushstring(L, lazy[i]);
		lua_pushcclosure(L, l_lazy, 1);
		lua_setfield(L, -2, lazy[i]);
	}
}
