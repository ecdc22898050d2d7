/* fuzz/argv.c - libFuzzer target: a VM description to its argv.
 *
 * The work is in the Lua driver fuzz/argv.lua (its path is compiled in as
 * ARGV_LUA): it decodes the bytes into a description, renders it with
 * qemu.argv twice and checks the property (fuzz/README.md).  Here: one Lua
 * state for the whole run, the qemu module in it as qlua has it, and an
 * error from the driver becomes a crash libFuzzer keeps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lib.h"

static lua_State *L;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "qemu", luaopen_qemu, 1);  /* package.loaded.qemu and the global */
	lua_pop(L, 1);
	lua_getglobal(L, "debug");
	lua_getfield(L, -1, "traceback");  /* stays at index 1: the message handler */
	lua_remove(L, 1);
	if (luaL_loadfile(L, ARGV_LUA) || lua_pcall(L, 0, 1, 1) || !lua_isfunction(L, -1)) {
		fprintf(stderr, "%s: %s\n", ARGV_LUA, lua_isstring(L, -1) ? lua_tostring(L, -1) : "returned no function");
		exit(1);
	}
	return 0;  /* the stack: 1 the traceback, 2 the driver */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_pushvalue(L, 2);
	lua_pushlstring(L, (const char *)data, size);
	if (lua_pcall(L, 1, 0, 1)) {
		fprintf(stderr, "argv: property violated: %s\n", lua_tostring(L, -1));
		abort();
	}
	return 0;
}
