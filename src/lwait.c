/* lwait.c - see lwait.h: the one driver of every wait, the matrix cells
 * waits yield to, and qemu.cell, qemu.now, qemu.poll. */
#include "lwait.h"

#include <string.h>

#include <lauxlib.h>

#include "loop.h"

#define CELLS_KEY "qlua.cells"

struct wait *wait_new(lua_State *L, size_t size, const struct wait_ops *ops, const char *name, double timeout)
{
	struct wait *w = lua_newuserdatauv(L, size, 0);
	memset(w, 0, size);
	w->ops = ops;
	w->name = name;
	w->timeout = timeout;
	w->deadline = loop_deadline(timeout);
	w->idx = lua_gettop(L);
	return w;
}

int wait_past(const struct wait *w)
{
	return w->deadline >= 0 && loop_now() >= w->deadline;
}

int wait_interrupted(lua_State *L, const char *what)
{
	/* qlua's signal handler armed a hook to stop running Lua code; this
	 * error says more (what was interrupted, and where): let it through */
	lua_sethook(L, NULL, 0, 0);
	return luaL_error(L, "%s interrupted by signal %d", what, loop_signal());
}

/* Is L a matrix cell (a coroutine qemu.cell marked) that can yield here? */
static int in_cell(lua_State *L)
{
	if (!lua_isyieldable(L))
		return 0;
	if (lua_getfield(L, LUA_REGISTRYINDEX, CELLS_KEY) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	lua_pushthread(L);
	int cell = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return cell;
}

/* The driver, as a continuation: the context is the state's stack index
 * (the stack is as the wait left it when the runner resumes it). */
static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
	struct wait *w = lua_touserdata(L, (int)ctx);
	for (;;) {
		int n = w->ops->step(L, w);
		if (n > 0)
			return n;
		if (wait_past(w)) {
			if (w->last)
				return w->ops->expire(L, w);
			w->last = 1;
			loop_round(w->deadline);  /* past the deadline: takes in what is pending, no wait */
			continue;
		}
		double until = w->deadline;
		if (w->wake > 0 && (until < 0 || w->wake < until))
			until = w->wake;
		if (in_cell(L)) {
			lua_pushnumber(L, until);
			if (!w->ops->what)
				return lua_yieldk(L, 1, ctx, wait_k);
			w->ops->what(L, w);
			return lua_yieldk(L, 2, ctx, wait_k);
		}
		if (loop_round(until) < 0)
			return wait_interrupted(L, w->name);
	}
}

int wait_run(lua_State *L, struct wait *w)
{
	return wait_k(L, LUA_OK, (lua_KContext)w->idx);
}

double wait_opt_timeout(lua_State *L, int idx, double def, int number, const char *fname)
{
	int t = lua_type(L, idx);
	double s;
	if (t == LUA_TNONE || t == LUA_TNIL)
		return def;
	if (t == LUA_TNUMBER && number) {
		s = lua_tonumber(L, idx);
		if (!(s >= 0))  /* NaN too */
			luaL_error(L, "bad argument #%d to '%s' (timeout must not be negative)", idx - 1, fname);
		return s;
	}
	if (t != LUA_TTABLE)
		luaL_error(L, "bad argument #%d to '%s' (%s expected, got %s)", idx - 1, fname,
		           number ? "number or table" : "table", luaL_typename(L, idx));
	t = lua_getfield(L, idx, "timeout");
	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return def;
	}
	if (t != LUA_TNUMBER)
		luaL_error(L, "bad argument #%d to '%s' (field 'timeout': number expected, got %s)", idx - 1, fname,
		           luaL_typename(L, -1));
	s = lua_tonumber(L, -1);
	lua_pop(L, 1);
	if (!(s >= 0))
		luaL_error(L, "bad argument #%d to '%s' (field 'timeout': %g is out of range (expected a number >= 0))",
		           idx - 1, fname, s);
	return s;
}

/* qemu.cell(co): marks a coroutine as a matrix cell, whose waits yield to
 * the runner instead of blocking the process. */
static int l_cell(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTHREAD);
	if (lua_getfield(L, LUA_REGISTRYINDEX, CELLS_KEY) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_newtable(L);
		lua_newtable(L);
		lua_pushliteral(L, "k");
		lua_setfield(L, -2, "__mode");
		lua_setmetatable(L, -2);
		lua_pushvalue(L, -1);
		lua_setfield(L, LUA_REGISTRYINDEX, CELLS_KEY);
	}
	lua_pushvalue(L, 1);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	return 0;
}

/* qemu.now(): seconds on the monotonic clock the deadlines use */
static int l_now(lua_State *L)
{
	lua_pushnumber(L, loop_now());
	return 1;
}

/* qemu.poll(deadline): one round of the event loop, until something
 * happens or the deadline (a qemu.now() time; nil: none) passes.  The
 * matrix runner drives its cells with it. */
static int l_poll(lua_State *L)
{
	static unsigned long seen;
	double deadline = luaL_optnumber(L, 1, -1);
	/* Events someone else took in since the last poll (a cell calling
	 * vm:alive(), say) may be what a suspended cell waits for: then no
	 * waiting now, the runner must look at its cells first. */
	if (loop_events() != seen)
		deadline = 0;
	int r = loop_round(deadline);
	seen = loop_events();
	if (r < 0)
		return wait_interrupted(L, "poll");
	return 0;
}

/* qemu._signal() -> the number of the signal that asked qlua to stop, or
 * nil.  For the matrix runner: a signal stops the Lua code that runs when
 * it comes (main.c's hook), which need not be qemu.poll, and the runner
 * must tell that from an error of its own. */
static int l_signal(lua_State *L)
{
	if (loop_signal())
		lua_pushinteger(L, loop_signal());
	else
		lua_pushnil(L);
	return 1;
}

void wait_register(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "cell", l_cell }, { "now", l_now }, { "poll", l_poll }, { "_signal", l_signal }, { NULL, NULL },
	};
	luaL_setfuncs(L, funcs, 0);
}
