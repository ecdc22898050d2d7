/* bench/clock.c - a monotonic clock for the benchmark scripts (Lua has only
 * os.time, in seconds, and os.clock, the CPU time):
 *   package.cpath = "bench/?.so;" .. package.cpath
 *   local now = require("clock").now   -- seconds, CLOCK_MONOTONIC, ns resolution
 * Built by bench/Makefile; qlua exports Lua's API (-Wl,-E), so the module
 * links against nothing. */
#include <time.h>

#include <lauxlib.h>

int luaopen_clock(lua_State *L);

static int now(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

int luaopen_clock(lua_State *L)
{
	static const luaL_Reg funcs[] = { { "now", now }, { NULL, NULL } };
	luaL_newlib(L, funcs);
	return 1;
}
