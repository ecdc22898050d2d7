/* bench/api_floor.c - the Lua-API floor of the argv benchmark: what any
 * builder reading bench/typical.lua's tables through Lua's public C API
 * pays before it checks or renders anything (bench/README.md, "The floor
 * under the argv goals").
 *   package.cpath = "bench/?.so;" .. package.cpath
 *   local floor = require "api_floor"
 *   floor.words(qemu.argv(vm))      -- the words its argv pushes, once
 *   local dev = floor.construct(t)  -- in place of every qemu.<kind>
 *   local argv, fds = floor.argv(vm)
 * construct walks its table (every key; every string key and value read as
 * a string; nested tables too) and returns a userdata with a metatable and
 * a user value, as a device value is; argv walks the description the same
 * way (devices are userdata: not entered) and pushes the words given to
 * words() into a new list, plus an empty list for the descriptors.  Nothing
 * is checked, nothing rendered, nothing copied but what Lua copies itself.
 * Built by bench/Makefile; qlua exports Lua's API, so the module links
 * against nothing. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

int luaopen_api_floor(lua_State *L);

/* A device value's size: room for the handful of fields a device is given
 * (qlua's are larger, 780 bytes on average here: a slot for every field of
 * the kind). */
#define DEVICE_BYTES 256
#define MAX_WORDS 256

static struct {
	char *s;
	size_t n;
} words_[MAX_WORDS];
static int nwords_;

/* Every key and value of the table at idx, and of the tables in it. */
static void walk(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	luaL_checkstack(L, 4, NULL);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		size_t n;
		if (lua_type(L, -2) == LUA_TSTRING)
			(void)lua_tolstring(L, -2, &n);
		switch (lua_type(L, -1)) {
		case LUA_TSTRING:
			(void)lua_tolstring(L, -1, &n);
			break;
		case LUA_TTABLE:
			walk(L, -1);
			break;
		}
		lua_pop(L, 1);
	}
}

static int construct(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	walk(L, 1);
	lua_newuserdatauv(L, DEVICE_BYTES, 1);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setmetatable(L, -2);
	return 1;
}

/* words(list): the words argv pushes from now on (copied). */
static int words(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	int n = (int)lua_rawlen(L, 1);
	luaL_argcheck(L, n <= MAX_WORDS, 1, "too many words");
	for (int i = 0; i < nwords_; i++)
		free(words_[i].s);
	nwords_ = 0;
	for (int i = 1; i <= n; i++) {
		size_t len;
		lua_rawgeti(L, 1, i);
		const char *s = luaL_checklstring(L, -1, &len);
		char *copy = malloc(len + 1);
		if (!copy)
			return luaL_error(L, "out of memory");
		memcpy(copy, s, len + 1);
		words_[nwords_].s = copy;
		words_[nwords_++].n = len;
		lua_pop(L, 1);
	}
	return 0;
}

static int argv(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	walk(L, 1);
	lua_createtable(L, nwords_, 0);
	for (int i = 0; i < nwords_; i++) {
		lua_pushlstring(L, words_[i].s, words_[i].n);
		lua_rawseti(L, -2, i + 1);
	}
	lua_createtable(L, 0, 0);
	return 2;
}

int luaopen_api_floor(lua_State *L)
{
	lua_createtable(L, 0, 3);
	lua_newtable(L);  /* the devices' metatable */
	lua_pushcclosure(L, construct, 1);
	lua_setfield(L, -2, "construct");
	lua_pushcfunction(L, words);
	lua_setfield(L, -2, "words");
	lua_pushcfunction(L, argv);
	lua_setfield(L, -2, "argv");
	return 1;
}
