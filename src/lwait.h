/* lwait.h - every wait a Lua call makes (vm:wait, vm:shutdown,
 * console:expect, the QMP calls, the agent's calls), driven by one loop.
 *
 * A wait is a small state (struct wait, first member of a bigger one when
 * it needs more) in a userdata on the Lua stack, and three functions
 * (struct wait_ops): step looks once whether the wait is over, expire says
 * what a timeout returns, what names what it waits for.  wait_run drives
 * it: step; past the deadline, one last look (what is pending is taken in,
 * without waiting) and expire; else, in a matrix cell (a coroutine the
 * runner registered with qemu.cell), yield the deadline (and what) to the
 * runner, which runs the event loop for every cell and resumes the wait in
 * the same driver; elsewhere, run one round of the loop.  The state lives
 * on the stack, so it survives the yield.
 *
 * The timeout convention: every wait takes an options table
 * { timeout = s } (the canonical form); vm:wait, agent:wait,
 * console:expect and :expect_line also take the number alone, the form
 * docs/contract.md fixes for them.  A timeout bounds the whole call. */
#ifndef QLUA_LWAIT_H
#define QLUA_LWAIT_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* Default timeouts, in seconds, of every wait that takes none. */
#define QLUA_WAIT_TIMEOUT 60.0       /* vm:wait() */
#define QLUA_QMP_TIMEOUT 30.0        /* qmp:execute(), :wait_event(), :greeting() */
#define QLUA_EXPECT_TIMEOUT 60.0     /* console:expect() */
#define QLUA_SHUTDOWN_TIMEOUT 45.0   /* vm:shutdown(): the whole escalation (30 s for the guest, vm.h) */
#define QLUA_CLOSE_TIMEOUT 20.0      /* a <close> handle: the same, shorter (10 s for the guest) */
#define QLUA_EXIT_TIMEOUT 15.0       /* stopping every VM at qlua's exit (no powerdown) */
#define QLUA_AGENT_WAIT_TIMEOUT 60.0 /* agent:wait(): a boot may come first */
#define QLUA_AGENT_EXEC_TIMEOUT 60.0 /* agent:exec() */
#define QLUA_AGENT_TIMEOUT 30.0      /* the other agent methods */

struct wait;

struct wait_ops {
	/* One look: when the wait is over (its condition holds, or it never
	 * will), pushes the results and returns how many (> 0); else 0.  It
	 * may set w->wake for a round that ends before the deadline (a retry,
	 * a poll). */
	int (*step)(lua_State *L, struct wait *w);
	/* The deadline passed and the last look found nothing: pushes the
	 * results ("timeout after ...") and returns how many. */
	int (*expire)(lua_State *L, struct wait *w);
	/* Pushes what the wait is for ("'READY' (plain text)"): a matrix
	 * runner names it when the cell times out.  NULL: nothing to say. */
	void (*what)(lua_State *L, struct wait *w);
};

struct wait {
	const struct wait_ops *ops;
	const char *name;       /* "<name> interrupted by signal N" (a string that outlives the wait) */
	double timeout;         /* as given (< 0: none), for messages */
	double deadline;        /* loop_now() based; < 0: none */
	double wake;            /* a round ends here at the latest (0: at the deadline) */
	int last;               /* the last look past the deadline was taken */
	int phase;              /* where a wait of several steps is */
	uint64_t id, id2, seen; /* the step's own: a command's id, a position */
	int idx;                /* where the state is on the stack */
};

/* Pushes a new state of `size` bytes (struct wait first, the rest zeroed)
 * on the stack and returns it. */
struct wait *wait_new(lua_State *L, size_t size, const struct wait_ops *ops, const char *name, double timeout);
/* `return wait_run(L, w)`: the driver. */
int wait_run(lua_State *L, struct wait *w);
/* Has the deadline passed? (For a step that ends its own way then.) */
int wait_past(const struct wait *w);

/* Raises "<what> interrupted by signal N" when a signal ended a wait. */
int wait_interrupted(lua_State *L, const char *what);
/* The timeout at idx: nil (def), a number (only when `number`: the
 * positional form), or an options table's field 'timeout'.  Raises
 * "bad argument #N to 'fname' (...)" when it is none of them or negative;
 * the table's other fields are the caller's to check. */
double wait_opt_timeout(lua_State *L, int idx, double def, int number, const char *fname);

/* qemu.cell, qemu.now, qemu.poll into the table on top. */
void wait_register(lua_State *L);

#endif
