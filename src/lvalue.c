/* lvalue.c - the module's own Lua values as the checker meets them: a
 * qemu.fd object, a device value, and the per-state facts (lvalue.h).  Plain
 * lookups with no checking of their own, so check.c needs neither ldev.c nor
 * lfd.c (which check with check.c): no import circle. */
#include "lvalue.h"

#include <string.h>

#include <lauxlib.h>

static const char state_key = 's';  /* the registry key of struct ldev_state: its address */

static struct ldev_state *state_of(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key);
	struct ldev_state *st = lua_touserdata(L, -1);
	lua_pop(L, 1);  /* the registry keeps it */
	return st;
}

struct ldev_state *ldev_state(lua_State *L)
{
	return state_of(L);
}

struct rec *ldev_testmt(lua_State *L, int idx, const void *mt)
{
	if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
		return NULL;
	const void *p = lua_topointer(L, -1);
	lua_pop(L, 1);
	return p == mt ? ((struct ldev *)lua_touserdata(L, idx))->r : NULL;
}

struct rec *ldev_test(lua_State *L, int idx)
{
	return ldev_testmt(L, idx, state_of(L)->mt);
}

struct qfd *qfd_test(lua_State *L, int idx)
{
	return luaL_testudata(L, idx, QLUA_FD_MT);
}

static int state_gc(lua_State *L)
{
	struct ldev_state *st = lua_touserdata(L, 1);
	arena_free(&st->scratch);
	return 0;
}

/* The field index's size: it starts with room for 32 names and doubles
 * when half full (the typical configuration uses 59); the ~600 fields of
 * all kinds never need more than NAMES_MAX. */
#define NAMES_FIRST 64
#define NAMES_MAX 4096

/* A new index of `slots` slots, with what the old one (or NULL) had, as
 * user value 2 of the state at the top of the stack (which keeps it alive
 * and lets the old one go). */
static void new_names(lua_State *L, struct ldev_state *st, unsigned slots)
{
	struct schema_lua *t = lua_newuserdatauv(L, schema_lua_size(slots), 0);
	schema_lua_init(t, slots);
	if (st->names)
		schema_lua_move(t, st->names);
	st->names = t;
	lua_setiuservalue(L, -2, 2);
}

/* The module's state: the field index by interned Lua string, filled as
 * keys are met (its strings kept alive by a table, the state's user value,
 * so every equal string stays the same object at the same address), and
 * the scratch arena.  Its one finalizer runs when the state closes. */
struct ldev_state *ldev_state_open(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key) == LUA_TUSERDATA) {
		struct ldev_state *old = lua_touserdata(L, -1);  /* the module opened again: the same state */
		lua_pop(L, 1);
		return old;
	}
	lua_pop(L, 1);
	struct ldev_state *st = lua_newuserdatauv(L, sizeof *st, 2);
	memset(st, 0, sizeof *st);
	new_names(L, st, NAMES_FIRST);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, state_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_newtable(L);
	lua_setiuservalue(L, -2, 1);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &state_key);
	return st;
}

int ldev_intern(lua_State *L, struct ldev_state *st, int key, const struct kind *k, int field)
{
	key = lua_absindex(L, key);
	lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key);
	if (!schema_lua_add(st->names, k, lua_tostring(L, key), field)) {
		unsigned slots = 2 * schema_lua_slots(st->names);
		if (slots > NAMES_MAX) {  /* later names are found by schema_field */
			lua_pop(L, 1);
			return 0;
		}
		new_names(L, st, slots);
		schema_lua_add(st->names, k, lua_tostring(L, key), field);
	}
	lua_getiuservalue(L, -1, 1);
	lua_pushvalue(L, key);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 2);
	return 1;
}
