/* lagent.c - the guest agent from Lua: the qemu.agent object (vm.agent,
 * with qemu.launch(vm, { agent = true })).  The protocol is plain C
 * (qga.c); this file turns each method into a wait that a matrix cell can
 * be suspended in (lwait.h), and replies into Lua values.
 *
 * Every method synchronises with the agent first when the stream is not
 * known to be in sync (the first call, or after a timeout), retrying
 * guest-sync-delimited with short tries: the agent may not run yet.  Every
 * wait ends at its timeout, at once when QEMU exits, and on a signal.
 * Failures return nil, err (err.class, err.desc, printed "class: desc"),
 * like qmp:execute; bad arguments raise. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jansson.h>
#include <lauxlib.h>

#include "lagent.h"
#include "loop.h"
#include "lqmp.h"
#include "lwait.h"
#include "options.h"
#include "qga.h"
#include "vm.h"

#define AGENT_MT "qemu.agent"

#define TRY_FIRST 0.25    /* the first guest-sync try waits this long, */
#define TRY_MAX 2.0       /* doubling up to this */
#define POLL_FIRST 0.005  /* guest-exec-status: first poll after this, */
#define POLL_MAX 0.2      /* doubling up to this */
#define CHUNK (1u << 20)  /* guest-file-read/-write: bytes per command */

struct lagent {
	struct vm **vmref;    /* the handle's vm (user value 1 keeps it alive) */
};

/* A method's wait: the generic state first (lwait.h). */
struct astate {
	struct wait w;
	const char *cmd;      /* the command whose reply it waits for (NULL: in sync first) */
	double try_deadline, try_len;
	int tried;            /* a sync try was sent */
	int phase;
	uint64_t id, id2;
	json_int_t pid, handle;
	int have_handle;
	double poll_len;
	double started;       /* exec: wall-clock time it was sent (QMP timestamps) */
	size_t off;
};

struct actx {
	struct vm *v;
	struct qga *q;
};

static void get(lua_State *L, struct actx *c)
{
	struct lagent *a = luaL_checkudata(L, 1, AGENT_MT);
	if (!*a->vmref)
		luaL_error(L, "the VM handle of this agent channel was released");
	c->v = *a->vmref;
	c->q = c->v->agent;
}

static struct astate *new_state(lua_State *L, const struct wait_ops *ops, const char *name, double timeout)
{
	struct astate *s = (struct astate *)wait_new(L, sizeof *s, ops, name, timeout);
	s->try_len = TRY_FIRST;
	s->poll_len = POLL_FIRST;
	return s;
}

/* Why waiting is over for good, or NULL.  The channel closing is nearly
 * always QEMU exiting, which the kernel tells the socket before the pidfd:
 * give the exit a moment to be seen, so the message says how QEMU ended. */
static const char *dead(struct actx *c, char *buf, size_t n)
{
	if (!c->v->exited && !qga_alive(c->q))
		vm_wait(c->v, loop_deadline(0.5));
	if (c->v->exited) {
		char st[32];
		snprintf(buf, n, "QEMU exited (%s)", vm_status_text(c->v, st, sizeof st));
		return buf;
	}
	return qga_alive(c->q) ? NULL : c->q->error;
}

/* One look at whether the stream is in sync: 1; 0 while it may become so
 * (a try is on its way); -1 after pushing nil, err.  (Its timeout:
 * agent_expire.) */
static int synced_now(lua_State *L, struct actx *c, struct astate *s)
{
	char why[600];
	if (c->q->synced)
		return 1;
	const char *d = dead(c, why, sizeof why);
	if (d) {
		lqmp_push_error(L, "Disconnected", "%s while waiting for the agent", d);
		return -1;
	}
	if (wait_past(&s->w))
		return 0;  /* no more tries */
	if (!s->tried || loop_now() >= s->try_deadline) {
		/* no answer to the last try: the agent was not running yet (what
		 * QEMU passed on before it opened the port may be lost), try again */
		if (!qga_sync(c->q, !s->tried)) {
			lqmp_push_error(L, "Disconnected", "%s while waiting for the agent", c->q->error);
			return -1;
		}
		s->tried = 1;
		s->try_deadline = loop_now() + s->try_len;
		s->try_len = s->try_len * 2 > TRY_MAX ? TRY_MAX : s->try_len * 2;
	}
	s->w.wake = s->try_deadline;
	return 0;
}

/* Sends cmd (args consumed): 1, or -1 after pushing nil, err. */
static int send_cmd(lua_State *L, struct actx *c, struct astate *s, const char *cmd, json_t *args)
{
	s->id = qga_send(c->q, cmd, args);
	s->cmd = cmd;
	if (!s->id) {
		char why[600];
		const char *d = dead(c, why, sizeof why);
		lqmp_push_error(L, "Disconnected", "%s while sending '%s' to the agent", d ? d : "cannot send", cmd);
		return -1;
	}
	s->w.wake = 0;
	return 1;
}

/* The reply to s->id: 1 with *ret (the whole message, the caller's); 0
 * while it has not come; -1 after pushing nil, err (an error reply, QEMU
 * gone).  (Its timeout: agent_expire.) */
static int reply_now(lua_State *L, struct actx *c, struct astate *s, const char *cmd, json_t **ret)
{
	char why[600];
	json_t *msg = qga_take_reply(c->q, s->id);
	if (msg) {
		json_t *err = json_object_get(msg, "error");
		if (err) {
			lqmp_push_error(L, json_string_value(json_object_get(err, "class")) ?: "GenericError",
			           "%s", json_string_value(json_object_get(err, "desc")) ?: "(no description)");
			json_decref(msg);
			return -1;
		}
		*ret = msg;
		return 1;
	}
	const char *d = dead(c, why, sizeof why);
	if (d) {
		lqmp_push_error(L, "Disconnected", "%s while waiting for the agent's reply to '%s'", d, cmd);
		return -1;
	}
	return 0;
}

static void close_quietly(struct actx *c, struct astate *s);

/* The timeout of every agent method: the agent never answered the sync,
 * or the command's reply did not come (a file left open is closed). */
static int agent_expire(lua_State *L, struct wait *w)
{
	struct astate *s = (struct astate *)w;
	struct actx c;
	get(L, &c);
	if (!s->cmd)
		return lqmp_push_error(L, "Timeout", "agent did not answer within %g s", w->timeout);
	qga_forget(c.q, s->id);
	close_quietly(&c, s);
	return lqmp_push_error(L, "Timeout", "no reply to '%s' from the agent within %g s", s->cmd, w->timeout);
}

/* Argument errors name the method and count its arguments after self,
 * however it was called (luaL_argerror needs a method call to do so). */
static int arg_error(lua_State *L, int idx, const char *fname, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int arg_error(lua_State *L, int idx, const char *fname, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return luaL_error(L, "bad argument #%d to '%s' (%s)", idx - 1, fname, msg);
}

static void check_string(lua_State *L, int idx, const char *fname)
{
	if (lua_type(L, idx) != LUA_TSTRING && lua_type(L, idx) != LUA_TNUMBER)
		arg_error(L, idx, fname, "string expected, got %s", luaL_typename(L, idx));
}

/* Checks the options table at idx against its record in options.c
 * ("agent.exec", else "agent.call"), errors naming method fname;
 * wait_opt_timeout then reads its timeout. */
static void check_opts(lua_State *L, int idx, const char *fname, const char *record)
{
	options_check_named(L, idx, options_find(record), fname, idx - 1);
	lua_pop(L, 1);  /* the record's arena */
}

static const char only_timeout[] = "agent.call";


/* ---- wait, ping ------------------------------------------------------------------- */

/* agent:wait([timeout | {timeout = s}]) -> true | nil, err.
 * Stack: 1 self, 2 timeout, 3 state. */
static int wait_step(lua_State *L, struct wait *w)
{
	struct actx c;
	get(L, &c);
	int r = synced_now(L, &c, (struct astate *)w);
	if (r < 0)
		return 2;
	if (r == 0)
		return 0;
	lua_pushboolean(L, 1);
	return 1;
}

static int m_wait(lua_State *L)
{
	struct actx c;
	get(L, &c);
	if (lua_istable(L, 2))
		check_opts(L, 2, "wait", only_timeout);
	double t = wait_opt_timeout(L, 2, QLUA_AGENT_WAIT_TIMEOUT, 1, "wait");
	lua_settop(L, 2);
	static const struct wait_ops ops = { wait_step, agent_expire, NULL };
	return wait_run(L, &new_state(L, &ops, "agent:wait", t)->w);  /* 3 */
}

/* One command, one reply, for agent:ping and agent:execute: in sync, then
 * the command (its arguments from stack slot `args`, 0: none), then its
 * reply, pushed as true (as_true) or as the Lua value of its "return". */
static int call_step(lua_State *L, struct wait *w, const char *cmd, int args, int as_true)
{
	struct actx c;
	get(L, &c);
	struct astate *s = (struct astate *)w;
	int r;
	if (s->phase == 0) {
		if ((r = synced_now(L, &c, s)) <= 0)
			return r < 0 ? 2 : 0;
		char err[200];
		json_t *a = args && !lua_isnil(L, args) ? lqmp_to_json(L, args, err, sizeof err) : NULL;
		if (send_cmd(L, &c, s, cmd, a) < 0)
			return 2;
		s->phase = 1;
	}
	json_t *msg;
	if ((r = reply_now(L, &c, s, cmd, &msg)) <= 0)
		return r < 0 ? 2 : 0;
	if (as_true)
		lua_pushboolean(L, 1);
	else
		lqmp_push_json(L, json_object_get(msg, "return"));
	json_decref(msg);
	return 1;
}

/* agent:ping([{timeout}]) -> true | nil, err.  Stack: 1 self, 2 opts, 3 state. */
static int ping_step(lua_State *L, struct wait *w)
{
	return call_step(L, w, "guest-ping", 0, 1);
}

static int m_ping(lua_State *L)
{
	struct actx c;
	get(L, &c);
	check_opts(L, 2, "ping", only_timeout);
	double t = wait_opt_timeout(L, 2, QLUA_AGENT_TIMEOUT, 0, "ping");
	lua_settop(L, 2);
	static const struct wait_ops ops = { ping_step, agent_expire, NULL };
	return wait_run(L, &new_state(L, &ops, "agent:ping", t)->w);  /* 3 */
}

/* ---- exec ------------------------------------------------------------------------ */

/* Pushes field f of guest-exec-status's reply decoded from base64 (""
 * when absent); 0, or -1 when it is not base64. */
static int push_b64(lua_State *L, json_t *ret, const char *f)
{
	json_t *j = json_object_get(ret, f);
	if (!json_is_string(j)) {
		lua_pushliteral(L, "");
		return 0;
	}
	char *buf;
	size_t n;
	if (qga_b64_decode(json_string_value(j), json_string_length(j), &buf, &n) < 0)
		return -1;
	lua_pushlstring(L, buf, n);
	free(buf);
	return 0;
}

/* The arguments of guest-exec from the Lua values: 2 the command (a list
 * of words, or a string for /bin/sh -c), 3 the options. */
static json_t *exec_args(lua_State *L)
{
	json_t *a = json_pack("{s:b}", "capture-output", 1);
	json_t *argv = json_array();
	if (lua_type(L, 2) == LUA_TSTRING) {
		json_object_set_new(a, "path", json_string("/bin/sh"));
		json_array_append_new(argv, json_string("-c"));
		json_array_append_new(argv, json_stringn(lua_tostring(L, 2), lua_rawlen(L, 2)));
	} else {
		lua_Integer n = luaL_len(L, 2);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, 2, i);
			size_t len;
			const char *w = lua_tolstring(L, -1, &len);
			json_t *js = json_stringn(w, len);
			lua_pop(L, 1);
			if (i == 1)
				json_object_set_new(a, "path", js);
			else
				json_array_append_new(argv, js);
		}
	}
	json_object_set_new(a, "arg", argv);
	if (!lua_isnoneornil(L, 3)) {
		if (lua_getfield(L, 3, "input") == LUA_TSTRING) {
			size_t n;
			const char *in = lua_tolstring(L, -1, &n);
			char *b = qga_b64_encode(in, n);
			if (b)
				json_object_set_new(a, "input-data", json_string(b));
			free(b);
		}
		lua_pop(L, 1);
		if (lua_getfield(L, 3, "env") == LUA_TTABLE) {
			json_t *env = json_array();
			lua_Integer n = luaL_len(L, -1);
			for (lua_Integer i = 1; i <= n; i++) {
				lua_rawgeti(L, -1, i);
				json_array_append_new(env, json_string(lua_tostring(L, -1)));
				lua_pop(L, 1);
			}
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				if (lua_type(L, -2) == LUA_TSTRING) {
					lua_pushvalue(L, -2);
					lua_pushliteral(L, "=");
					lua_pushvalue(L, -3);
					lua_concat(L, 3);
					json_array_append_new(env, json_string(lua_tostring(L, -1)));
					lua_pop(L, 1);
				}
				lua_pop(L, 1);
			}
			json_object_set_new(a, "env", env);
		}
		lua_pop(L, 1);
	}
	return a;
}

/* Pushes { status, stdout, stderr, truncated [, signal] } from a finished
 * guest-exec-status: 1, or nil, err (2) when its output is not base64. */
static int push_result(lua_State *L, json_t *ret)
{
	lua_createtable(L, 0, 5);
	json_t *sig = json_object_get(ret, "signal");
	if (json_is_integer(sig)) {
		lua_pushinteger(L, 128 + json_integer_value(sig));
		lua_setfield(L, -2, "status");
		lua_pushinteger(L, json_integer_value(sig));
		lua_setfield(L, -2, "signal");
	} else {
		lua_pushinteger(L, json_integer_value(json_object_get(ret, "exitcode")));
		lua_setfield(L, -2, "status");
	}
	if (push_b64(L, ret, "out-data") < 0 || (lua_setfield(L, -2, "stdout"), push_b64(L, ret, "err-data") < 0))
		return lqmp_push_error(L, "GenericError", "the agent sent output that is not base64");
	lua_setfield(L, -2, "stderr");
	lua_pushboolean(L, json_is_true(json_object_get(ret, "out-truncated")) ||
	                   json_is_true(json_object_get(ret, "err-truncated")));
	lua_setfield(L, -2, "truncated");
	return 1;
}

static double wall_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Did QEMU report a guest reset (QMP event RESET, not yet taken by anyone)
 * since `since` (wall clock, like QMP's timestamps)?  A reset kills the
 * agent and the command with it: nothing will answer for them. */
static int reset_since(struct vm *v, double since)
{
	return v->qmp && qmp_has_event(v->qmp, "RESET", since);
}

/* The command outlived its timeout: it is killed (SIGKILL, through one
 * more guest-exec whose reply nobody waits for: the guest may be too busy
 * to answer soon), so nothing is left running in the guest.  Only that
 * process: its own children, if any, are the caller's business. */
static int exec_timeout(lua_State *L, struct actx *c, struct astate *s)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%lld", (long long)s->pid);
	uint64_t id = qga_send(c->q, "guest-exec", json_pack("{s:s, s:[s,s]}", "path", "kill", "arg", "-KILL", pid));
	if (id)
		qga_forget(c->q, id);
	return lqmp_push_error(L, "Timeout", "the command did not finish within %g s (guest pid %s, killed)", s->w.timeout, pid);
}

/* exec's timeout: once the pid is known, the command outlived it, even
 * when a guest-exec-status asked just before the deadline has not been
 * answered yet (a busy guest under TCG answers late): that request is
 * forgotten and the command killed.  Before that, the agent's own. */
static int exec_expire(lua_State *L, struct wait *w)
{
	struct astate *s = (struct astate *)w;
	if (s->phase < 2)
		return agent_expire(L, w);
	struct actx c;
	get(L, &c);
	if (s->phase == 3)
		qga_forget(c.q, s->id);
	return exec_timeout(L, &c, s);
}

/* agent:exec(cmd [, {input, env, timeout}]) -> result | nil, err.
 * Stack: 1 self, 2 cmd, 3 opts, 4 state. */
static int exec_step(lua_State *L, struct wait *w)
{
	struct actx c;
	get(L, &c);
	struct astate *s = (struct astate *)w;
	for (;;) {
		json_t *msg;
		int r;
		switch (s->phase) {
		case 0:  /* in sync */
			if ((r = synced_now(L, &c, s)) < 0)
				return 2;
			if (r > 0) {
				s->started = wall_now() - 0.01;  /* QMP's clock rounds to microseconds */
				if (send_cmd(L, &c, s, "guest-exec", exec_args(L)) < 0)
					return 2;
				s->phase = 1;
				continue;
			}
			break;
		case 1:  /* its pid */
			if ((r = reply_now(L, &c, s, "guest-exec", &msg)) < 0)
				return 2;
			if (r > 0) {
				s->pid = json_integer_value(json_object_get(json_object_get(msg, "return"), "pid"));
				json_decref(msg);
				s->phase = 2;
				s->w.wake = loop_now() + s->poll_len;
			}
			break;
		case 2:  /* time to ask whether it finished */
			if (s->w.deadline >= 0 && loop_now() >= s->w.deadline)
				return exec_timeout(L, &c, s);
			if (loop_now() >= s->w.wake) {
				if (send_cmd(L, &c, s, "guest-exec-status", json_pack("{s:I}", "pid", s->pid)) < 0)
					return 2;
				s->phase = 3;
				continue;
			}
			if (!qga_alive(c.q) || c.v->exited) {
				s->phase = 3;  /* reply_now tells */
				continue;
			}
			break;
		case 3:
			if ((r = reply_now(L, &c, s, "guest-exec-status", &msg)) < 0)
				return 2;
			if (r > 0) {
				json_t *ret = json_object_get(msg, "return");
				if (json_is_true(json_object_get(ret, "exited"))) {
					r = push_result(L, ret);
					json_decref(msg);
					return r;
				}
				json_decref(msg);
				s->poll_len = s->poll_len * 2 > POLL_MAX ? POLL_MAX : s->poll_len * 2;
				s->w.wake = loop_now() + s->poll_len;
				s->phase = 2;
				continue;
			}
			break;
		}
		if (s->phase >= 2 && reset_since(c.v, s->started)) {
			if (s->phase == 3)
				qga_forget(c.q, s->id);
			else
				c.q->synced = 0, c.q->sync_from = c.q->sync_to = 0;  /* a new agent needs a sync */
			return lqmp_push_error(L, "Reset", "the guest was reset while the command ran (guest pid %lld)",
			                  (long long)s->pid);
		}
		return 0;
	}
}

static int m_exec(lua_State *L)
{
	struct actx c;
	get(L, &c);
	if (lua_type(L, 2) == LUA_TTABLE) {
		lua_Integer n = luaL_len(L, 2);
		if (n < 1)
			return arg_error(L, 2, "exec", "the command is an empty list");
		for (lua_Integer i = 1; i <= n; i++)
			if (lua_rawgeti(L, 2, i) != LUA_TSTRING && !lua_isnumber(L, -1))
				return luaL_error(L, "bad argument #1 to 'exec' (word %d: string expected, got %s)", (int)i,
				                  luaL_typename(L, -1));
			else
				lua_pop(L, 1);
	} else if (lua_type(L, 2) != LUA_TSTRING) {
		return arg_error(L, 2, "exec", "list of words or shell command string expected, got %s",
		                 luaL_typename(L, 2));
	}
	check_opts(L, 3, "exec", "agent.exec");
	if (!lua_isnoneornil(L, 3)) {
		int t = lua_getfield(L, 3, "input");
		if (t != LUA_TNIL && t != LUA_TSTRING)
			return luaL_error(L, "bad argument #2 to 'exec' (field 'input': string expected, got %s)",
			                  lua_typename(L, t));
		t = lua_getfield(L, 3, "env");
		if (t == LUA_TTABLE) {
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				if (lua_type(L, -1) != LUA_TSTRING && !lua_isnumber(L, -1))
					return luaL_error(L, "bad argument #2 to 'exec' (field 'env': values must be strings)");
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 2);
	}
	double t = wait_opt_timeout(L, 3, QLUA_AGENT_EXEC_TIMEOUT, 0, "exec");
	lua_settop(L, 3);
	static const struct wait_ops ops = { exec_step, exec_expire, NULL };
	return wait_run(L, &new_state(L, &ops, "agent:exec", t)->w);  /* 4 */
}

/* ---- files ------------------------------------------------------------------------ */

/* A handle left open by an error is closed without waiting for the reply. */
static void close_quietly(struct actx *c, struct astate *s)
{
	if (s->have_handle && qga_alive(c->q)) {
		uint64_t id = qga_send(c->q, "guest-file-close", json_pack("{s:I}", "handle", s->handle));
		if (id)
			qga_forget(c->q, id);
	}
	s->have_handle = 0;
}

/* Phases 0 and 1 of read_file and write_file: once synchronised,
 * guest-file-open of the path at 2 in mode, and its handle once the agent
 * answers (s->phase 2 then).  1: open; 0: not yet; -1: nil, err pushed. */
static int open_now(lua_State *L, struct actx *c, struct astate *s, const char *mode)
{
	json_t *msg = NULL;
	int r;
	if (s->phase == 0) {
		if ((r = synced_now(L, c, s)) <= 0)
			return r;
		if (send_cmd(L, c, s, "guest-file-open",
		             json_pack("{s:s%, s:s}", "path", lua_tostring(L, 2), lua_rawlen(L, 2), "mode", mode)) < 0)
			return -1;
		s->phase = 1;
	}
	if ((r = reply_now(L, c, s, "guest-file-open", &msg)) <= 0)
		return r;
	s->handle = json_integer_value(json_object_get(msg, "return"));
	s->have_handle = 1;
	json_decref(msg);
	s->phase = 2;
	return 1;
}

/* The last phase of read_file and write_file: guest-file-close (phase 4
 * takes its answer).  -1: nil, err pushed. */
static int send_close(lua_State *L, struct actx *c, struct astate *s)
{
	s->have_handle = 0;
	if (send_cmd(L, c, s, "guest-file-close", json_pack("{s:I}", "handle", s->handle)) < 0)
		return -1;
	s->phase = 4;
	return 0;
}

/* agent:read_file(path [, {timeout}]) -> data | nil, err.
 * Stack: 1 self, 2 path, 3 opts, 4 state, 5 the chunks read so far. */
static int read_step(lua_State *L, struct wait *w)
{
	struct actx c;
	get(L, &c);
	struct astate *s = (struct astate *)w;
	for (;;) {
		json_t *msg = NULL;
		int r = 0;
		switch (s->phase) {
		case 0:
		case 1:
			if ((r = open_now(L, &c, s, "r")) < 0)
				return 2;
			if (r > 0)
				continue;
			break;
		case 2:
			if (send_cmd(L, &c, s, "guest-file-read",
			             json_pack("{s:I, s:I}", "handle", s->handle, "count", (json_int_t)CHUNK)) < 0)
				return close_quietly(&c, s), 2;
			s->phase = 3;
			continue;
		case 3:
			if ((r = reply_now(L, &c, s, "guest-file-read", &msg)) < 0)
				return close_quietly(&c, s), 2;
			if (r > 0) {
				json_t *ret = json_object_get(msg, "return");
				if (push_b64(L, ret, "buf-b64") < 0) {
					json_decref(msg);
					close_quietly(&c, s);
					return lqmp_push_error(L, "GenericError", "the agent sent file data that is not base64");
				}
				lua_rawseti(L, 5, (lua_Integer)lua_rawlen(L, 5) + 1);
				int eof = json_is_true(json_object_get(ret, "eof")) ||
				          json_integer_value(json_object_get(ret, "count")) == 0;
				json_decref(msg);
				if (!eof) {
					s->phase = 2;
					continue;
				}
				if (send_close(L, &c, s) < 0)
					return 2;
				continue;
			}
			break;
		case 4:
			if ((r = reply_now(L, &c, s, "guest-file-close", &msg)) < 0)
				return 2;
			if (r > 0) {
				json_decref(msg);
				luaL_Buffer b;
				lua_Integer n = (lua_Integer)lua_rawlen(L, 5);
				luaL_buffinit(L, &b);
				for (lua_Integer i = 1; i <= n; i++) {
					lua_rawgeti(L, 5, i);
					luaL_addvalue(&b);
				}
				luaL_pushresult(&b);
				return 1;
			}
			break;
		}
		return 0;
	}
}

static int m_read_file(lua_State *L)
{
	struct actx c;
	get(L, &c);
	check_string(L, 2, "read_file");
	check_opts(L, 3, "read_file", only_timeout);
	double t = wait_opt_timeout(L, 3, QLUA_AGENT_TIMEOUT, 0, "read_file");
	lua_settop(L, 3);
	static const struct wait_ops ops = { read_step, agent_expire, NULL };
	struct astate *s = new_state(L, &ops, "agent:read_file", t);  /* 4 */
	lua_newtable(L);  /* 5 */
	return wait_run(L, &s->w);
}

/* agent:write_file(path, data [, {timeout}]) -> true | nil, err.
 * Stack: 1 self, 2 path, 3 data, 4 opts, 5 state. */
static int write_step(lua_State *L, struct wait *w)
{
	struct actx c;
	get(L, &c);
	struct astate *s = (struct astate *)w;
	size_t len;
	const char *data = lua_tolstring(L, 3, &len);
	for (;;) {
		json_t *msg = NULL;
		int r = 0;
		switch (s->phase) {
		case 0:
		case 1:
			if ((r = open_now(L, &c, s, "w")) < 0)
				return 2;
			if (r > 0)
				continue;
			break;
		case 2:
			if (s->off >= len) {
				if (send_close(L, &c, s) < 0)
					return 2;
				continue;
			} else {
				size_t n = len - s->off < CHUNK ? len - s->off : CHUNK;
				char *b = qga_b64_encode(data + s->off, n);
				if (!b)
					return close_quietly(&c, s), luaL_error(L, "out of memory");
				json_t *args = json_pack("{s:I, s:s}", "handle", s->handle, "buf-b64", b);
				free(b);
				if (send_cmd(L, &c, s, "guest-file-write", args) < 0)
					return close_quietly(&c, s), 2;
				s->phase = 3;
				continue;
			}
		case 3:
			if ((r = reply_now(L, &c, s, "guest-file-write", &msg)) < 0)
				return close_quietly(&c, s), 2;
			if (r > 0) {
				json_int_t n = json_integer_value(json_object_get(json_object_get(msg, "return"), "count"));
				json_decref(msg);
				if (n <= 0) {
					close_quietly(&c, s);
					return lqmp_push_error(L, "GenericError", "the agent wrote nothing to '%s'", lua_tostring(L, 2));
				}
				s->off += (size_t)n;
				s->phase = 2;
				continue;
			}
			break;
		case 4:
			if ((r = reply_now(L, &c, s, "guest-file-close", &msg)) < 0)
				return 2;
			if (r > 0) {
				json_decref(msg);
				lua_pushboolean(L, 1);
				return 1;
			}
			break;
		}
		return 0;
	}
}

static int m_write_file(lua_State *L)
{
	struct actx c;
	get(L, &c);
	check_string(L, 2, "write_file");
	check_string(L, 3, "write_file");
	check_opts(L, 4, "write_file", only_timeout);
	double t = wait_opt_timeout(L, 4, QLUA_AGENT_TIMEOUT, 0, "write_file");
	lua_settop(L, 4);
	static const struct wait_ops ops = { write_step, agent_expire, NULL };
	return wait_run(L, &new_state(L, &ops, "agent:write_file", t)->w);  /* 5 */
}

/* ---- shutdown ------------------------------------------------------------------------ */

/* agent:shutdown([mode [, {timeout}]]) -> true | nil, err.  guest-shutdown
 * sends no reply when it succeeds, only when it fails: a guest-ping goes
 * right behind it (the agent runs commands in order), and its answer, or
 * QEMU exiting, says the shutdown was accepted.
 *
 * One failure is often no failure: the agent waits for the shutdown
 * command it ran, and a guest going down (systemd stopping everything)
 * may kill that command first, so the agent answers "child process has
 * terminated abnormally" while the guest does go down.  For that answer
 * the wait goes on (phase 2) until QEMU says the guest went (it exited,
 * or QMP reported SHUTDOWN or RESET since the command was sent): true; at
 * the timeout without that, the agent's error, saying so.
 * Stack: 1 self, 2 mode, 3 opts, 4 state. */
#define KILLED_CALLER "child process has terminated abnormally"

/* Has the guest gone down (or reset) since the shutdown was sent? */
static int went_down(const struct vm *v, double since)
{
	return v->exited || (v->qmp && (qmp_has_event(v->qmp, "SHUTDOWN", since) ||
	                                qmp_has_event(v->qmp, "RESET", since)));
}

static int shutdown_step(lua_State *L, struct wait *w)
{
	struct actx c;
	get(L, &c);
	struct astate *s = (struct astate *)w;
	for (;;) {
		int r;
		if (s->phase == 0) {
			if ((r = synced_now(L, &c, s)) < 0)
				return 2;
			if (r > 0) {
				s->started = wall_now() - 0.01;  /* QMP's clock rounds to microseconds */
				if (send_cmd(L, &c, s, "guest-shutdown", json_pack("{s:s}", "mode", lua_tostring(L, 2))) < 0)
					return 2;
				s->id2 = s->id;
				if (send_cmd(L, &c, s, "guest-ping", NULL) < 0)
					return 2;
				s->phase = 1;
				continue;
			}
		} else if (s->phase == 2) {  /* the agent's command was killed: did the guest go? */
			if (went_down(c.v, s->started)) {
				qga_forget(c.q, s->id);
				lua_pushboolean(L, 1);
				return 1;
			}
		} else {
			json_t *msg = qga_take_reply(c.q, s->id2);
			if (msg) {  /* only an error has a reply */
				json_t *err = json_object_get(msg, "error");
				const char *desc = json_string_value(json_object_get(err, "desc"));
				if (desc && !strcmp(desc, KILLED_CALLER)) {
					json_decref(msg);
					s->phase = 2;
					continue;
				}
				lqmp_push_error(L, json_string_value(json_object_get(err, "class")) ?: "GenericError",
				           "%s", json_string_value(json_object_get(err, "desc")) ?: "(no description)");
				json_decref(msg);
				qga_forget(c.q, s->id);
				return 2;
			}
			if ((msg = qga_take_reply(c.q, s->id)) || c.v->exited || !qga_alive(c.q)) {
				json_decref(msg);
				qga_forget(c.q, s->id2);  /* and the guest is going away: sync again */
				lua_pushboolean(L, 1);
				return 1;
			}
		}
		return 0;
	}
}

static int shutdown_expire(lua_State *L, struct wait *w)
{
	struct astate *s = (struct astate *)w;
	struct actx c;
	if (s->phase == 0)
		return agent_expire(L, w);
	get(L, &c);
	qga_forget(c.q, s->id2);
	qga_forget(c.q, s->id);
	if (s->phase == 2)
		return lqmp_push_error(L, "GenericError", "%s (and the guest did not go down within %g s)", KILLED_CALLER,
		                       w->timeout);
	return lqmp_push_error(L, "Timeout", "no answer from the agent after 'guest-shutdown' within %g s", w->timeout);
}

static int m_shutdown(lua_State *L)
{
	static const char *const modes[] = { "powerdown", "reboot", "halt", NULL };
	struct actx c;
	get(L, &c);
	if (!lua_isnoneornil(L, 2)) {
		check_string(L, 2, "shutdown");
		int i = 0;
		while (modes[i] && strcmp(modes[i], lua_tostring(L, 2)))
			i++;
		if (!modes[i])
			return arg_error(L, 2, "shutdown", "invalid option '%s' (expected 'powerdown', 'reboot' or 'halt')",
			                 lua_tostring(L, 2));
	} else {
		lua_settop(L, 3);
		lua_pushliteral(L, "powerdown");
		lua_replace(L, 2);
	}
	check_opts(L, 3, "shutdown", only_timeout);
	double t = wait_opt_timeout(L, 3, QLUA_AGENT_TIMEOUT, 0, "shutdown");
	lua_settop(L, 3);
	static const struct wait_ops ops = { shutdown_step, shutdown_expire, NULL };
	return wait_run(L, &new_state(L, &ops, "agent:shutdown", t)->w);  /* 4 */
}

/* ---- execute: any agent command ------------------------------------------------------ */

/* agent:execute(command [, args [, {timeout}]]) -> return value | nil, err.
 * Stack: 1 self, 2 command, 3 args, 4 opts, 5 state. */
static int execute_step(lua_State *L, struct wait *w)
{
	return call_step(L, w, lua_tostring(L, 2), 3, 0);
}

static int m_execute(lua_State *L)
{
	struct actx c;
	get(L, &c);
	check_string(L, 2, "execute");
	if (!lua_isnoneornil(L, 3)) {
		char err[200];
		if (!lua_istable(L, 3))
			return arg_error(L, 3, "execute", "table expected, got %s", luaL_typename(L, 3));
		json_t *args = lqmp_to_json(L, 3, err, sizeof err);
		if (!args)
			return arg_error(L, 3, "execute", "%s", err);
		int obj = json_is_object(args);
		json_decref(args);
		if (!obj)
			return arg_error(L, 3, "execute", "arguments must be a table of named fields");
	}
	check_opts(L, 4, "execute", only_timeout);
	double t = wait_opt_timeout(L, 4, QLUA_AGENT_TIMEOUT, 0, "execute");
	lua_settop(L, 4);
	static const struct wait_ops ops = { execute_step, agent_expire, NULL };
	return wait_run(L, &new_state(L, &ops, lua_tostring(L, 2), t)->w);  /* 5 */
}

static int m_tostring(lua_State *L)
{
	struct lagent *a = luaL_checkudata(L, 1, AGENT_MT);
	lua_pushstring(L, *a->vmref ? "qemu.agent(vm)" : "qemu.agent(released)");
	return 1;
}

/* Sets the agent handles' metatable on the value on top, making it with
 * the first handle: a script that never asks for an agent does not pay
 * for it at start-up. */
static void set_agent_mt(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "exec", m_exec }, { "execute", m_execute }, { "ping", m_ping }, { "read_file", m_read_file },
		{ "shutdown", m_shutdown }, { "wait", m_wait }, { "write_file", m_write_file }, { NULL, NULL },
	};
	if (luaL_newmetatable(L, AGENT_MT)) {
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, m_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
}

void lagent_push_for_vm(lua_State *L, int vm_idx, struct vm **ref)
{
	struct lagent *a = lua_newuserdatauv(L, sizeof *a, 1);
	a->vmref = ref;
	set_agent_mt(L);
	lua_pushvalue(L, vm_idx);  /* keeps the handle (and its vm) alive */
	lua_setiuservalue(L, -2, 1);
}
