/* options.h - the tables of named options, as schema records.
 *
 * Every function that takes a table of named options (qemu.launch's opts,
 * qemu.tap's, vm:shutdown's, the recipes', matrix{}'s, ...) has its options
 * described here as a `struct kind`, the same data the device kinds are, and
 * checked by the same check_record: one checker, one error grammar
 *   bad argument #2 to 'launch' (unknown field 'consol' (did you mean 'console'?))
 *   vm.lua:3: recipes.disk: field 'readonly': boolean expected, got string
 * and `qemu.describe(name)` / `qlua --describe name` for them too.  The Lua
 * library checks its own through qemu.check_options. */
#ifndef QLUA_OPTIONS_H
#define QLUA_OPTIONS_H

#include <lua.h>

#include "schema.h"

/* The records, by name ("launch", "tap", "recipes.disk", "matrix", ...);
 * NULL-terminated, sorted by name. */
extern const struct kind *const options_kinds[];
const struct kind *options_find(const char *name);

/* Checks the options table at argument arg against k and returns the checked
 * record; a missing argument (none or nil) is an empty table.  Pushes one
 * value, which owns the record (it stays valid while that value is on the
 * stack).  Raises Lua's argument error, the message in the device grammar:
 * "bad argument #2 to 'tap' (field 'queues': ...)". */
const struct rec *options_check(lua_State *L, int arg, const struct kind *k);

/* The same, its errors naming fname's argument #argn however the function
 * was called (luaL_argerror counts a method's arguments after self only
 * when it is called as a method, and names it only when it can). */
const struct rec *options_check_named(lua_State *L, int arg, const struct kind *k, const char *fname, int argn);

/* Raises "bad argument #arg to 'f' (field 'name': <fmt>)": for the rules a
 * caller checks itself, worded as the checker words them. */
int options_fail(lua_State *L, int arg, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Field indices of the records C reads. */
enum { OARGV_CONSOLE };
enum { OTAP_QUEUES, OTAP_VNET_HDR };
extern const struct kind options_argv, options_tap;

/* qemu.check_options, qemu.option_kinds. */
void options_register(lua_State *L);

#endif
