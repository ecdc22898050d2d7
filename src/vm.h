/* vm.h - a running QEMU as the supervisor sees it: the process (reaped
 * through a pidfd in the event loop, or SIGCHLD where there are none), its captured stderr, its private QMP
 * channel and its captured console.  Plain C. */
#ifndef QLUA_VM_H
#define QLUA_VM_H

#include <stddef.h>
#include <sys/types.h>

#include "console.h"
#include "qga.h"
#include "qmp.h"
#include "spawn.h"

#define VM_STDERR_KEEP (1u << 20)  /* the last 1 MiB of stderr is kept */
#define VM_STDOUT_KEEP (16u << 20) /* the first 16 MiB of a captured stdout (as qemu-ga's guest-exec) */

struct vm {
	pid_t pid;
	int pidfd;
	int exited;               /* reaped: status is valid */
	int status;               /* raw wait status */
	int detach;
	int orphan;               /* its handle is gone: freed once reaped (vm_abandon) */
	int errfd;                /* read end of QEMU's stderr, or -1 */
	char *err;                /* captured stderr */
	size_t errlen;
	int errlog;               /* also copied here, or -1 */
	char *errlog_path;        /* its path, for the warning when it fails */
	int outfd;                /* read end of its stdout pipe (launch_custom's stdout = "capture"), or -1 */
	char *out;                /* captured stdout: its first VM_STDOUT_KEEP bytes */
	size_t outlen, outcap;
	int cut;                  /* bytes of the captured stdout or stderr were dropped */
	struct qmp *qmp;          /* private QMP channel, or NULL */
	struct console *console;  /* captured console, or NULL */
	struct qga *agent;        /* the guest agent's channel, or NULL (set by lvm.c) */
	struct vm *next, **prevp; /* every VM not yet freed (for shutdown at exit) */
};

/* Starts QEMU (see spawn_start) and watches it: errfd is the read end of
 * its stderr pipe (or -1), qmpfd and confd the parent ends of the private
 * QMP channel and captured console (or -1); the vm owns them from here on,
 * even when starting fails.  NULL on failure with err set and *code an
 * errno value, positive when QEMU could not be executed (spawn_exit_code()
 * turns it into 126/127), negative when qlua failed before (spawn.h). */
struct vm *vm_start(const struct spawn_req *req, int errfd, int qmpfd, int confd,
                    char *err, size_t errlen, int *code);
/* Captures the process's stdout from fd, the read end of its pipe (the
 * vm owns it from here on), as stderr is: read in the event loop, so the
 * process never blocks on a full pipe. */
void vm_capture_stdout(struct vm *v, int fd);

/* Stops watching, closes everything, frees.  A QEMU still running is left
 * running: callers decide (vm_kill first unless it was detached). */
void vm_free(struct vm *v);

/* For a QEMU still running that nobody will wait for (a detached VM whose
 * handle was collected): stops everything but reaping, which frees it. */
void vm_abandon(struct vm *v);

/* Waits until QEMU exits or the deadline (loop.h) passes: 1, 0, or -1
 * when a signal to qlua interrupted the wait. */
int vm_wait(struct vm *v, double deadline);
int vm_kill(struct vm *v, int sig);   /* 0 or -1 (it exited already) */

/* Waits until the QMP channel is ready (1), failed or QEMU exited (-2),
 * the deadline passed (0) or a signal came (-1). */
int vm_qmp_ready(struct vm *v, double deadline);

/* The escalation of vm:shutdown, bounded as a whole by one timeout:
 * ACPI powerdown (with VM_STOP_POWERDOWN and a QMP channel: the guest's
 * share), QMP quit (without QMP: skipped), SIGTERM, SIGKILL.  The last
 * three steps get a share each: a sixth of the timeout (a third without
 * the powerdown step), at most VM_STOP_STEP_MAX and at least
 * VM_STOP_STEP_MIN seconds, so QEMU always has a moment to act on quit and
 * SIGTERM and the kernel to reap it after SIGKILL; the guest gets the rest
 * (timeout 45 s: 30 s).  A step that ends early leaves its time unused, so
 * the whole takes at most the timeout (or 3 * VM_STOP_STEP_MIN plus half
 * the timeout, when that is more: timeouts under 12 s).  A step whose
 * share is 0 (powerdown with timeout 0) is skipped.
 *
 * vm_shutdown returns the step that ended QEMU: "exited" (it had
 * already), "powerdown", "quit", "term", "kill", or NULL if even SIGKILL
 * did not (or a signal interrupted it). */
#define VM_STOP_STEP_MAX 5.0
#define VM_STOP_STEP_MIN 2.0
enum {
	VM_STOP_POWERDOWN = 1,   /* begin with ACPI powerdown (vm:shutdown, a <close> handle) */
	VM_STOP_READY_ONLY = 2,  /* quit only where QMP is ready now, else SIGTERM at once (at exit) */
};
const char *vm_shutdown(struct vm *v, double timeout, int flags);

/* The same, a step at a time, for waits that must not block (matrix
 * cells, every VM at exit): vm_stop_step does what can be done now and
 * returns the step name once QEMU exited, NULL if even SIGKILL failed, or
 * "" with *deadline set to when it must be called again at the latest (or
 * after any event).  vm_stop_hurry ends the current step now (a second
 * signal while qlua stops its VMs). */
struct vm_stop {
	int step, sent, closed, started, flags;
	double deadline;         /* the current step's */
	double powerdown, share; /* the guest's share, each later step's */
};
void vm_stop_init(struct vm *v, struct vm_stop *s, double timeout, int flags);
const char *vm_stop_step(struct vm *v, struct vm_stop *s, double *deadline);
void vm_stop_hurry(struct vm_stop *s);

/* At exit, or when qlua gets SIGINT/SIGTERM: stops every VM that was not
 * detached, all at once, with the same steps (no powerdown: QMP quit where
 * QMP is ready, SIGTERM, SIGKILL) within `timeout` seconds. */
void vm_shutdown_all(double timeout);

/* "code 0", "signal 9": QEMU's exit status in words. */
const char *vm_status_text(const struct vm *v, char *buf, size_t n);

#endif
