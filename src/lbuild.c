/* lbuild.c - see lbuild.h.  A build checks the description (check.c, the
 * kinds' rules), then renders it (render.c) into an emitter whose memory
 * is an arena: the module's scratch arena for qemu.argv, which turns the
 * result into Lua values before anything else can build, or an arena of
 * the caller's own (qlua_build: a launch holds its command line while Lua
 * code runs, and that code may build another description). */
#include "lbuild.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <lauxlib.h>

#include "arena.h"
#include "check.h"
#include "ldev.h"
#include "lfd.h"
#include "render.h"
#include "spawn.h"
#include "vm_kind.h"

#define ARENA_MT "qlua.arena"

static int arena_gc(lua_State *L)
{
	arena_free(luaL_checkudata(L, 1, ARENA_MT));
	return 0;
}

/* Checks and renders the description at idx into e, in arena a; *ids
 * (when not NULL) gets who QEMU runs as. */
static void build(lua_State *L, int idx, const char *where, struct emit *e, struct spawn_ids *ids,
                  const struct runtime *rt, struct emit_trace *trace, const struct rec **vmp, struct arena *a,
                  struct ldev_state *st)
{
	/* without `where`, errors blame the calling Lua line, looked up when one is raised */
	char wherebuf[256];
	if (where)
		where = (snprintf(wherebuf, sizeof wherebuf, "%s", where), wherebuf);
	struct ck c = { .L = L, .a = a, .where = where, .where_level = where ? 0 : 1, .st = st,
	                .devmt = st->mt };
	struct rec *vm = check_record(&c, idx, &schema_vm);
	check_vm(&c, vm);
	/* The foreground's console is QEMU's stdio, which -daemonize closes:
	 * refused here, not by QEMU once started */
	if (rt && rt->serial && !strcmp(rt->serial, "stdio") && vm_knob_on(vm, KN_DAEMONIZE) &&
	    render_console_on_stdio(vm))
		ck_fail(&c, "knobs.daemonize", "not with the console on this terminal (QEMU cannot keep stdio once "
		        "detached; connect the first serial port elsewhere, e.g. with qemu.legacy_serial)");
	if (ids)
		vm_ids(vm, ids);

	emit_init(e, a);
	if (trace) {
		trace->cur = -1;
		e->trace = trace;
	}
	if (vmp)
		*vmp = vm;
	render_vm(e, vm, vm->v[VM_PATH].set ? vm->v[VM_PATH].u.str.s : qlua_default_qemu(), rt);

	/* A descriptor closed after its device was built cannot be passed. */
	for (int i = 0; i < e->nfds; i++)
		if (e->fds[i]->fd < 0) {
			if (!where)
				ck_where(L, 1, wherebuf, sizeof wherebuf);
			luaL_error(L, "%sdescriptor %d (%s) was closed before launch", where ? where : wherebuf, 3 + i,
			           e->fds[i]->what);
		}
}

static void check_description(lua_State *L, int idx)
{
	if (!lua_istable(L, idx))
		luaL_error(L, "VM description expected (a table), got %s", luaL_typename(L, idx));
}

/* The arena a build of the caller's own keeps its memory in: pushed, and
 * freed with its userdata however the build ends, or before by the caller.
 * Its chunks are malloc'ed, not inside the userdata: a launch frees them
 * as soon as QEMU is started, so that launching many VMs does not keep a
 * command line's memory per VM until the collector comes by. */
static struct arena *push_arena(lua_State *L)
{
	struct arena *a = lua_newuserdatauv(L, sizeof *a, 0);
	arena_init(a, NULL, 0);
	luaL_setmetatable(L, ARENA_MT);
	return a;
}

struct arena *qlua_build(lua_State *L, int idx, const char *where, struct emit *e, struct spawn_ids *ids,
                         const struct runtime *rt)
{
	idx = lua_absindex(L, idx);
	check_description(L, idx);
	struct arena *a = push_arena(L);
	build(L, idx, where, e, ids, rt, NULL, NULL, a, ldev_state(L));
	return a;
}

void qlua_build_ex(lua_State *L, int idx, const char *where, struct emit *e, const struct runtime *rt,
                   struct emit_trace *trace, const struct rec **vmp)
{
	idx = lua_absindex(L, idx);
	check_description(L, idx);
	build(L, idx, where, e, NULL, rt, trace, vmp, push_arena(L), ldev_state(L));
}

/* qemu.argv(vm [, {console = "stdio"|"none"|"file:PATH"}]) -> argv, fds:
 * what would run, starting nothing.  With console, what qemu.launch with
 * that console (or qlua vm.lua: "stdio") adds is included. */
static int l_argv(lua_State *L)
{
	struct emit e;
	struct runtime rt = { 0 };
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_isnoneornil(L, 2)) {  /* (without options no check: qemu.argv is the hot path) */
		const struct rec *o = options_check(L, 2, &options_argv);
		if (o->v[OARGV_CONSOLE].set) {
			const char *v = o->v[OARGV_CONSOLE].u.str.s;
			int choice;
			const char *why = runtime_console_problem(v, o->v[OARGV_CONSOLE].u.str.n, 0, &choice);
			if (why && choice)  /* a word, but not one of them: show it */
				return options_fail(L, 2, "console", "invalid option '%.60s' (%s)", v, why);
			if (why)
				return options_fail(L, 2, "console", "%s", why);
			if (!strncmp(v, "file:", 5))
				rt.console_file = v + 5;
			else
				rt.serial = v;  /* (the options table keeps it alive) */
		}
	}
	lua_settop(L, 2);
	check_description(L, 1);
	/* The module's scratch arena: nothing else builds until the lists below
	 * are made (a raise leaves it to be rewound by the next user). */
	struct ldev_state *st = ldev_state(L);
	arena_reset(&st->scratch);
	build(L, 1, NULL, &e, NULL, &rt, NULL, NULL, &st->scratch, st);
	lua_createtable(L, e.argc, 0);
	for (int i = 0; i < e.argc; i++) {
		lua_pushlstring(L, e.argv[i], e.argl[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_createtable(L, e.nfds, 0);
	for (int i = 0; i < e.nfds; i++) {
		qfd_pushobj(L, e.fds[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 2;
}


void lbuild_register(lua_State *L)
{
	if (luaL_newmetatable(L, ARENA_MT)) {
		lua_pushcfunction(L, arena_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	lua_pushcfunction(L, l_argv);
	lua_setfield(L, -2, "argv");
}
