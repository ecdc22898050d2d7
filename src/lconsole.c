/* lconsole.c - a captured console from Lua (vm.console, with console =
 * "capture"): expect with Lua patterns, send, read, log.  The bytes are
 * kept by console.c; waiting is the event loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "console.h"
#include "loop.h"
#include "lvm.h"

#define CONSOLE_MT "qemu.console"

struct lcon {
	struct vm **vmref;   /* the handle's vm (user value 1 keeps the handle alive) */
};

static struct vm *getvm(lua_State *L)
{
	struct lcon *o = luaL_checkudata(L, 1, CONSOLE_MT);
	if (!*o->vmref)
		luaL_error(L, "the VM handle of this console was released");
	return *o->vmref;
}

/* console:expect(pattern [, timeout]) -> the matched text (and captures),
 * or nil, "timeout", or nil, "closed (...)" when QEMU exited or the console
 * ended first.  Matching starts where the last match ended.
 * Stack: 1 self, 2 pattern, 3 timeout, 4 the wait's state. */
static int expect_k(lua_State *L, int status, lua_KContext kc)
{
	struct vm *v = getvm(L);
	struct console *c = v->console;
	struct wstate *w = lua_touserdata(L, 4);
	for (;;) {
		if (w->phase == 0 || c->total != w->seen) {  /* new text: look for the pattern */
			w->phase = 1;
			w->seen = c->total;
			size_t n;
			uint64_t start;
			char *text = console_text(c, c->expect_mark, &n, &start);
			if (!text)
				return luaL_error(L, "out of memory");
			/* string.find(text, pattern) (upvalue 1): Lua's own patterns,
			 * captures and all; results from index 5: start, end, captures */
			lua_pushvalue(L, lua_upvalueindex(1));
			lua_pushlstring(L, text, n);
			lua_pushvalue(L, 2);
			lua_call(L, 2, LUA_MULTRET);
			if (!lua_isnil(L, 5)) {
				lua_Integer s = lua_tointeger(L, 5), e = lua_tointeger(L, 6);
				int ncap = lua_gettop(L) - 6;
				c->expect_mark = start + (uint64_t)e;
				lua_pushlstring(L, text + s - 1, (size_t)(e - s + 1));
				free(text);
				lua_replace(L, 6);   /* the matched text where 'end' was, */
				lua_remove(L, 5);    /* then the captures */
				return 1 + ncap;
			}
			free(text);
			lua_settop(L, 4);
		}
		if (c->eof && !v->exited)
			vm_wait(v, loop_deadline(0.5));  /* the console ending is QEMU exiting: say how */
		if (c->eof || v->exited) {
			char st[32];
			lua_pushnil(L);
			lua_pushfstring(L, "closed (%s; QEMU %s)", c->eof ? "console ended" : "console open",
			                vm_status_text(v, st, sizeof st));
			return 2;
		}
		if (lvm_expired(w)) {
			if (c->total != w->seen)
				continue;  /* text came in the last look */
			lua_pushnil(L);
			lua_pushliteral(L, "timeout");
			return 2;
		}
		if (lvm_in_cell(L))
			return lvm_suspend(L, w, expect_k);
		if (loop_round(w->deadline) < 0)
			return lvm_interrupted(L, "expect");
	}
}

static int m_expect(lua_State *L)
{
	getvm(L);
	luaL_checkstring(L, 2);
	double timeout = luaL_optnumber(L, 3, QLUA_EXPECT_TIMEOUT);
	if (!(timeout >= 0))
		return luaL_argerror(L, 3, "timeout must not be negative");
	lua_settop(L, 3);
	lvm_wstate_new(L, timeout);  /* 4 */
	return expect_k(L, LUA_OK, 0);
}

/* console:send(text) -> true | nil, err */
static int m_send(lua_State *L)
{
	struct vm *v = getvm(L);
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);
	if (console_send(v->console, s, n) < 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "console closed");
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* console:read() -> what arrived since the last read (without waiting) */
static int m_read(lua_State *L)
{
	struct vm *v = getvm(L);
	struct console *c = v->console;
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	size_t n;
	uint64_t start;
	char *text = console_text(c, c->read_mark, &n, &start);
	if (!text)
		return luaL_error(L, "out of memory");
	c->read_mark = start + n;
	lua_pushlstring(L, text, n);
	free(text);
	return 1;
}

/* console:log(path): everything so far and from now on, appended to path */
static int m_log(lua_State *L)
{
	struct vm *v = getvm(L);
	const char *path = luaL_checkstring(L, 2);
	int e = console_log(v->console, path);
	if (e)
		return luaL_error(L, "cannot open '%s': %s", path, strerror(e));
	return 0;
}

static int m_tostring(lua_State *L)
{
	lua_pushliteral(L, "qemu.console");
	return 1;
}

void lconsole_push_for_vm(lua_State *L, int vm_idx)
{
	struct lcon *o = lua_newuserdatauv(L, sizeof *o, 1);
	o->vmref = lvm_ref(L, vm_idx);
	luaL_setmetatable(L, CONSOLE_MT);
	lua_pushvalue(L, vm_idx);
	lua_setiuservalue(L, -2, 1);
}

void lconsole_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "expect", m_expect }, { "log", m_log }, { "read", m_read }, { "send", m_send }, { NULL, NULL },
	};
	if (luaL_newmetatable(L, CONSOLE_MT)) {
		luaL_newlib(L, methods);
		lua_getglobal(L, "string");
		lua_getfield(L, -1, "find");
		lua_pushcclosure(L, m_expect, 1);
		lua_setfield(L, -3, "expect");
		lua_pop(L, 1);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, m_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
}
