/* lvm.h - processes from Lua: qemu.run, qemu.launch, qemu.launch_custom,
 * and the VM handle they return (the QMP and console objects live in
 * lqmp.c and lconsole.c). */
#ifndef QLUA_LVM_H
#define QLUA_LVM_H

#include <lua.h>

#include "vm.h"

#define QLUA_VM_MT "qemu.vm"

/* Default timeouts, in seconds, of every wait that takes none. */
#define QLUA_WAIT_TIMEOUT 60.0      /* vm:wait() */
#define QLUA_QMP_TIMEOUT 30.0       /* qmp:execute(), :wait_event(), :greeting() */
#define QLUA_EXPECT_TIMEOUT 60.0    /* console:expect() */
#define QLUA_POWERDOWN_TIMEOUT 30.0 /* vm:shutdown(): how long the guest may take */
#define QLUA_CLOSE_TIMEOUT 10.0     /* a <close> handle: the same, shorter */
#define QLUA_AGENT_WAIT_TIMEOUT 60.0 /* agent:wait(): a boot may come first */
#define QLUA_AGENT_EXEC_TIMEOUT 60.0 /* agent:exec() */
#define QLUA_AGENT_TIMEOUT 30.0      /* the other agent methods */

/* The last "cannot execute" error raised, and 126 or 127 for it: when the
 * error that ends a script is this one, qlua exits the way a shell would. */
extern int lvm_exec_status;
extern char lvm_exec_error[512];

void lvm_register(lua_State *L);

/* Dry runs (qlua -n, --json, --check): when set, qemu.launch, qemu.run and
 * qemu.launch_custom hand what they would run to this hook instead of
 * running anything (the description's prepare steps included).  desc is
 * the description's stack index (0 for launch_custom's raw argv), fname
 * the function's name.  The hook does not return: it raises.  Launches
 * while lvm_dry_hold > 0 run for real (qemu.check's probe: asking QEMU is
 * what --check does). */
struct emit;
extern void (*lvm_dry_hook)(lua_State *L, const struct emit *e, int desc, const char *fname);
extern int lvm_dry_hold;

/* For lqmp.c and lconsole.c: where a handle keeps its struct vm (NULL once
 * the handle was collected). */
struct vm **lvm_ref(lua_State *L, int idx);

/* Raises "<what> interrupted by signal N" when a signal ended a wait. */
int lvm_interrupted(lua_State *L, const char *what);

/* Waits that a matrix cell can be suspended in.  Every wait is a loop in a
 * continuation function (lua_KFunction): check its condition; time out;
 * else, in a matrix cell (a coroutine the runner registered with
 * qemu.cell), yield the deadline to the runner, which runs the event loop
 * for every cell and resumes this one in the same function; elsewhere run
 * one round of the loop itself.  Its state lives in a userdata on the
 * stack, so it survives the yield. */
struct wstate {
	double deadline;
	int last;              /* the last look after the deadline was taken */
	int phase;             /* where a multi-step wait is */
	uint64_t id, seen;
	struct vm_stop stop;   /* vm:shutdown */
};
struct wstate *lvm_wstate_new(lua_State *L, double timeout);
/* 1 when the deadline passed and a last look at pending events found
 * nothing more (the caller re-checks its condition when it returns 0). */
int lvm_expired(struct wstate *w);
int lvm_in_cell(lua_State *L);
/* `return lvm_suspend(L, w, k)`: yields w's deadline to the runner. */
int lvm_suspend(lua_State *L, struct wstate *w, lua_KFunction k);
/* The same, with what the wait is for (a string on top of the stack, e.g.
 * "'READY' (plain text)") yielded after the deadline: the matrix runner
 * names it when the cell times out. */
int lvm_suspend_what(lua_State *L, struct wstate *w, lua_KFunction k);

void lqmp_register(lua_State *L);
/* Pushes a qemu.qmp object on the channel of the handle at vm_idx. */
void lqmp_push_for_vm(lua_State *L, int vm_idx);
void lconsole_register(lua_State *L);
void lconsole_push_for_vm(lua_State *L, int vm_idx);
void lagent_register(lua_State *L);
void lagent_push_for_vm(lua_State *L, int vm_idx);
/* lqmp.c's conversions, for lagent.c: a Lua value as JSON (NULL with a
 * message in err when it has none), JSON as a Lua value. */
#include <jansson.h>
json_t *lqmp_to_json(lua_State *L, int idx, char *err, size_t errlen);
void lqmp_push_json(lua_State *L, json_t *j);

#endif
