/* lvm.h - processes from Lua: qemu.run, qemu.launch, qemu.launch_custom and
 * the VM handle they return. */
#ifndef QLUA_LVM_H
#define QLUA_LVM_H

#include <lua.h>

#define QLUA_VM_MT "qemu.vm"

/* Set to 126 or 127 when the last error raised was QEMU failing to exec,
 * so the qlua command can exit the way a shell would. */
extern int lvm_exec_status;

void lvm_register(lua_State *L);

#endif
