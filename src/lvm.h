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

#endif
