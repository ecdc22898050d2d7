/* ldry.h - what a dry run refuses.  Under -n, --json and --check nothing
 * may start a program or make, change or remove a file (--probe is --check
 * allowed to start the QEMU it asks and to cache its answers): the script's
 * qemu.launch, qemu.run and qemu.launch_custom print or check instead
 * (main.c), and the script's own ways of doing either raise at its line. */
#ifndef QLUA_LDRY_H
#define QLUA_LDRY_H

#include <lua.h>

/* Makes this Lua state's run a dry one (main.c, before -e and the script
 * run): os.execute, io.popen, os.remove, os.rename, os.tmpname and
 * io.tmpfile raise, and io.open and io.output raise for writing; qemu.open
 * raises where its "w" would create the file (ldry_refuse_create).  level: 1 for -n and
 * --json, 2 for --check, 3 for --probe (qemu._dry_run's values). */
void ldry_install(lua_State *L, int level);

/* The launches of a dry run: when set (main.c), qemu.launch, qemu.run and
 * qemu.launch_custom (lvm.c) hand what they would run to this hook instead
 * of running anything (the description's prepare steps included), unless
 * ldry_check_pcall lets them run.  desc is the description's stack index (0
 * for launch_custom's raw argv), fname the function's name.  The hook does
 * not return: it raises.  (Here, not in lvm.h: lvm.c includes lfd.h, which
 * includes this header.) */
struct emit;
extern void (*ldry_hook)(lua_State *L, const struct emit *e, int desc, const char *fname);

/* Whether a launch now goes to ldry_hook instead of starting (lvm.c). */
int ldry_diverts(void);

/* lua_pcall of qemu.check's Lua side (lcheck.c, main.c's --check).  Under
 * --probe its QEMU launches run and its cache may be written, since asking
 * QEMU and caching its answers is what --probe does; the script's own
 * launches and writes stay refused.  Any other dry run asks no QEMU
 * (check.lua answers from the cache): were it to launch one, the hook
 * would stop it. */
int ldry_check_pcall(lua_State *L, int nargs, int nresults);

/* Raises the dry run's error for qemu.open creating path, when this is a
 * dry run and path does not exist but its directory does; returns
 * otherwise (an open without the directory fails as in a run). */
void ldry_refuse_create(lua_State *L, const char *fname, const char *path);

/* Raises the dry run's error for fname changing path, in a dry run
 * (verb: what it would do to it, "write", "make", "remove"); returns
 * otherwise (qemu._write_file, qemu._mkdir_p and qemu._rm_rf: lsys.c).
 * --probe's qemu.check may: it caches QEMU's answers. */
void ldry_refuse_change(lua_State *L, const char *fname, const char *verb, const char *path);

/* Whether this Lua state's run is a dry one (qemu.tap opens no tap in
 * one: lfd.c). */
int ldry_active(lua_State *L);

/* qemu._dry_run() -> dry, checking, probing: whether this is a dry run,
 * whether --check (or --probe) was given, and whether --probe was: a dry
 * run asks no QEMU and writes no cache of its answers, --probe does both
 * (lua/qemu/check.lua); qemu._dry_refuse(level, what, hint): raises the
 * dry run's refusal of what, in the words the script's own refusals have
 * (lua/qemu/matrix.lua: a matrix's run).  Into the table on top of the
 * stack. */
void ldry_register(lua_State *L);

#endif
