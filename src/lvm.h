/* lvm.h - processes from Lua: qemu.run, qemu.launch, qemu.launch_custom,
 * and the VM handle they return.  The top of the Lua binding's processes:
 * the QMP, console and agent objects (lqmp.h, lconsole.h, lagent.h) and
 * the waits (lwait.h) are below it and never include it. */
#ifndef QLUA_LVM_H
#define QLUA_LVM_H

#include <lua.h>

#include "vm.h"

#define QLUA_VM_MT "qemu.vm"

/* The last "cannot execute" error raised, and 126 or 127 for it: when the
 * error that ends a script is this one, qlua exits the way a shell would. */
extern int lvm_exec_status;
extern char lvm_exec_error[512];

void lvm_register(lua_State *L);

/* Dry runs (qlua -n, --json, --check, --probe): when set, qemu.launch, qemu.run and
 * qemu.launch_custom hand what they would run to this hook instead of
 * running anything (the description's prepare steps included).  desc is
 * the description's stack index (0 for launch_custom's raw argv), fname
 * the function's name.  The hook does not return: it raises.  Launches
 * while lvm_dry_hold > 0 run for real (qemu.check's probe under --probe:
 * asking QEMU is what --probe does; no other dry run asks one). */
struct emit;
extern void (*lvm_dry_hook)(lua_State *L, const struct emit *e, int desc, const char *fname);
extern int lvm_dry_hold;

#endif
