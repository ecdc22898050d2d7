/* lvm.c - processes from Lua.  Starting and supervising is plain C (spawn.c,
 * vm.c, loop.c); this file turns Lua arguments into a spawn request and a
 * struct vm into a handle. */
#include "lvm.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "arena.h"
#include "check.h"
#include "lagent.h"
#include "lconsole.h"
#include "ldry.h"
#include "lfd.h"
#include "lbuild.h"
#include "loop.h"
#include "lqmp.h"
#include "lwait.h"
#include "options.h"
#include "prepare.h"
#include "render.h"

int lvm_exec_status;
char lvm_exec_error[512];

struct lvm {
	struct vm *v;     /* NULL once freed */
};

/* ---- options ---------------------------------------------------------------------- */

struct opts {
	int capture;            /* stderr = "capture" */
	int detach;
	double timeout;         /* < 0: none */
	int qmp;
	int agent;              /* a guest agent channel (vm.agent) */
	const char *console;    /* as given */
	const char *stderr_log;
	int capture_out;        /* stdout = "capture" */
	const char *input;      /* bytes for its stdin, or NULL (stdin inherited) */
	size_t inputlen;
	int new_session;
	struct spawn_ids ids;   /* launch_custom's attrs, or the description's (qlua_build) */
};

/* The value of option `name` in the checked record r, or NULL when the
 * record has no such field or it is unset (no default either). */
static const struct qval *optval(const struct rec *r, const char *name)
{
	int f = schema_field(r->k, name, strlen(name));
	return f >= 0 && r->v[f].set ? &r->v[f] : NULL;
}

/* Reads the options table at idx, checked against fname's record in
 * options.c (which options fname takes, their types, their defaults). */
static void getopts(lua_State *L, int idx, const char *fname, struct opts *o)
{
	const struct rec *r = options_check(L, idx, options_find(fname));
	const struct qval *v;
	o->timeout = -1;
	if ((v = optval(r, "stderr")))
		o->capture = v->u.i == 0;  /* "capture" */
	if ((v = optval(r, "stdout")))
		o->capture_out = v->u.i == 0;
	if ((v = optval(r, "detach")))
		o->detach = (int)v->u.i;
	if ((v = optval(r, "timeout")))
		o->timeout = v->u.num;
	if ((v = optval(r, "qmp")))
		o->qmp = (int)v->u.i;
	if ((v = optval(r, "agent")))
		o->agent = (int)v->u.i;
	if ((v = optval(r, "setsid")))
		o->new_session = (int)v->u.i;
	if ((v = optval(r, "uid")))
		o->ids.set_uid = 1, o->ids.uid = (uid_t)v->u.i;
	if ((v = optval(r, "gid")))
		o->ids.set_gid = 1, o->ids.gid = (gid_t)v->u.i;
	if ((v = optval(r, "groups"))) {
		if (v->u.ints.n > SPAWN_MAX_GROUPS)
			options_fail(L, idx, "groups", "%d groups (qlua passes at most %d)", v->u.ints.n, SPAWN_MAX_GROUPS);
		for (int g = 0; g < v->u.ints.n; g++)
			o->ids.groups[g] = (gid_t)v->u.ints.v[g];
		o->ids.ngroups = v->u.ints.n;
		o->ids.set_groups = 1;
	}
	if ((v = optval(r, "console"))) {
		int choice;
		const char *why = runtime_console_problem(v->u.str.s, v->u.str.n, 1, &choice);
		if (why && choice)  /* a word, but not one of them: show it */
			options_fail(L, idx, "console", "invalid option '%.60s' (%s)", v->u.str.s, why);
		else if (why)
			options_fail(L, idx, "console", "%s", why);
		o->console = v->u.str.s;  /* the options table keeps it alive */
	}
	if ((v = optval(r, "stderr_log")))
		o->stderr_log = v->u.str.s;
	if (optval(r, "input")) {
		lua_getfield(L, idx, "input");
		if (lua_type(L, -1) != LUA_TSTRING)
			options_fail(L, idx, "input", "string expected, got %s", luaL_typename(L, -1));
		o->input = lua_tolstring(L, -1, &o->inputlen);  /* the options table keeps it alive */
		lua_pop(L, 1);
	}
	lua_pop(L, 1);  /* the record's arena */
}

/* ---- the handle ---------------------------------------------------------------------- */

static struct lvm *checkvm(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, QLUA_VM_MT);
}

/* The struct vm of the handle at idx; raises when it was closed. */
static struct vm *getvm(lua_State *L, int idx)
{
	struct lvm *h = checkvm(L, idx);
	if (!h->v)
		luaL_error(L, "the VM handle was released");
	return h->v;
}

/* Checks a method's options table at idx against its record in options.c
 * (only 'timeout' there); wait_opt_timeout then reads it. */
static void only_timeout(lua_State *L, int idx, const char *record, const char *fname)
{
	if (!lua_istable(L, idx))
		return;
	options_check_named(L, idx, options_find(record), fname, idx - 1);
	lua_pop(L, 1);
}

static void push_status(lua_State *L, const struct vm *v)
{
	lua_createtable(L, 0, 1);
	if (WIFSIGNALED(v->status)) {
		lua_pushinteger(L, WTERMSIG(v->status));
		lua_setfield(L, -2, "signal");
	} else {
		lua_pushinteger(L, WEXITSTATUS(v->status));
		lua_setfield(L, -2, "code");
	}
}

/* vm:wait([timeout | {timeout = s}]) -> status | nil, "timeout after 5 s
 * waiting for QEMU (pid N) to exit".  Stack: 1 self, 2 timeout, 3 state. */
static int wait_step(lua_State *L, struct wait *w)
{
	struct vm *v = getvm(L, 1);
	if (!v->exited)
		return 0;
	push_status(L, v);
	return 1;
}

static int wait_expire(lua_State *L, struct wait *w)
{
	char secs[32];
	snprintf(secs, sizeof secs, "%g", w->timeout);
	lua_pushnil(L);
	lua_pushfstring(L, "timeout after %s s waiting for QEMU (pid %d) to exit", secs, (int)getvm(L, 1)->pid);
	return 2;
}

static void wait_what(lua_State *L, struct wait *w)
{
	lua_pushfstring(L, "QEMU (pid %d) to exit", (int)getvm(L, 1)->pid);
}

static int m_wait(lua_State *L)
{
	static const struct wait_ops ops = { wait_step, wait_expire, wait_what };
	getvm(L, 1);
	if (lua_istable(L, 2))
		only_timeout(L, 2, "vm.wait", "wait");
	double t = wait_opt_timeout(L, 2, QLUA_WAIT_TIMEOUT, 1, "wait");
	lua_settop(L, 2);
	return wait_run(L, wait_new(L, sizeof(struct wait), &ops, "wait", t));
}

static int m_alive(lua_State *L)
{
	struct vm *v = getvm(L, 1);
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	lua_pushboolean(L, !v->exited);
	return 1;
}

/* vm:kill([signal]) -> true, or false when QEMU already exited */
static int m_kill(lua_State *L)
{
	struct vm *v = getvm(L, 1);
	int sig = (int)luaL_optinteger(L, 2, SIGTERM);
	if (sig <= 0 || sig >= NSIG)
		return luaL_argerror(L, 2, "invalid signal number");
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	lua_pushboolean(L, vm_kill(v, sig) == 0);
	return 1;
}

/* vm:stdout() -> text, cut: what the process wrote to stdout so far (with
 * launch_custom's stdout = "capture"), and whether bytes of its stdout or
 * stderr were dropped (past VM_STDOUT_KEEP, VM_STDERR_KEEP). */
static int m_stdout(lua_State *L)
{
	struct vm *v = getvm(L, 1);
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	lua_pushlstring(L, v->out ? v->out : "", v->outlen);
	lua_pushboolean(L, v->cut);
	return 2;
}

/* vm:stderr(): what QEMU wrote to stderr so far (with stderr = "capture") */
static int m_stderr(lua_State *L)
{
	struct vm *v = getvm(L, 1);
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	lua_pushlstring(L, v->err ? v->err : "", v->errlen);
	return 1;
}

/* vm:shutdown{timeout = s} -> status, step: the escalation of vm.c
 * (vm_stop_step), which bounds itself within the timeout.
 * Stack: 1 self, 2 options, 3 state. */
struct shutdown_state {
	struct wait w;
	struct vm_stop stop;
};

static int shutdown_step(lua_State *L, struct wait *w)
{
	struct vm *v = getvm(L, 1);
	struct shutdown_state *s = (struct shutdown_state *)w;
	const char *step = vm_stop_step(v, &s->stop, &w->wake);
	if (!step)
		return luaL_error(L, "shutdown: QEMU (pid %d) did not exit even after SIGKILL", (int)v->pid);
	if (!*step)
		return 0;
	push_status(L, v);
	lua_pushstring(L, step);
	return 2;
}

static int m_shutdown(lua_State *L)
{
	static const struct wait_ops ops = { shutdown_step, NULL, NULL };
	struct vm *v = getvm(L, 1);
	only_timeout(L, 2, "shutdown", "shutdown");
	double t = wait_opt_timeout(L, 2, QLUA_SHUTDOWN_TIMEOUT, 0, "shutdown");
	lua_settop(L, 2);
	struct shutdown_state *s = (struct shutdown_state *)wait_new(L, sizeof *s, &ops, "shutdown", -1);  /* 3 */
	vm_stop_init(v, &s->stop, t, VM_STOP_POWERDOWN);
	return wait_run(L, &s->w);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name a VM handle does not have: an error at the line that used it
 * (vm:shutdwn() said only "attempt to call a nil value"), with the name
 * meant or what there is: the fields, and the functions of the tables at
 * stack indices t1 and t2 (the C methods, qemu.handle's). */
static int no_such(lua_State *L, const char *k, const char *const *fields, int nfields, int t1, int t2)
{
	const char *v[64];
	int n = 0;
	v[n++] = "pid";
	for (int i = 0; i < nfields; i++)
		v[n++] = fields[i];
	int tables[2] = { t1, t2 };
	for (int j = 0; j < 2; j++) {
		lua_pushnil(L);
		while (lua_next(L, tables[j]) && n < 64) {
			if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION)
				v[n++] = lua_tostring(L, -2);  /* the table keeps it alive */
			lua_pop(L, 1);
		}
	}
	qsort(v, n, sizeof *v, by_name);
	const char *s = ck_closest(k, ck_array_name, v, n);
	if (s)
		return luaL_error(L, "no method or field '%s' in a VM handle (did you mean '%s'?)", k, s);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 0; i < n; i++) {
		luaL_addstring(&b, i ? ", " : "");
		luaL_addstring(&b, v[i]);
	}
	luaL_pushresult(&b);
	return luaL_error(L, "no method or field '%s' in a VM handle (it has %s)", k, lua_tostring(L, -1));
}

static int m_index(lua_State *L)
{
	struct lvm *h = checkvm(L, 1);
	const char *k = luaL_checkstring(L, 2);
	if (!strcmp(k, "pid")) {
		lua_pushinteger(L, h->v ? h->v->pid : 0);
		return 1;
	}
	static const char *const uv[] = { "argv", "qmp", "console", "agent", "description" };
	for (int i = 0; i < 5; i++)
		if (!strcmp(k, uv[i])) {
			lua_getiuservalue(L, 1, i + 1);
			return 1;
		}
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "methods");
	int methods = lua_gettop(L);
	if (lua_getfield(L, -1, k) != LUA_TNIL)
		return 1;
	/* methods that are plain QMP conversations are Lua (qemu.handle) */
	lua_getglobal(L, "require");
	lua_pushliteral(L, "qemu.handle");
	lua_call(L, 1, 1);
	if (lua_getfield(L, -1, k) != LUA_TNIL)
		return 1;
	return no_such(L, k, uv, 5, methods, lua_gettop(L) - 1);
}

/* A QEMU nobody can reach any more is stopped at once, unless it was
 * detached on purpose. */
static int m_gc(lua_State *L)
{
	struct lvm *h = checkvm(L, 1);
	struct vm *v = h->v;
	if (!v)
		return 0;
	if (!v->exited && !v->detach) {
		vm_kill(v, SIGKILL);
		vm_wait(v, loop_deadline(5));
	}
	if (!v->exited && !v->detach)
		return 0;  /* still running (a signal came): vm_shutdown_all will see it */
	h->v = NULL;
	vm_abandon(v);  /* freed now, or once a detached QEMU exits and is reaped */
	return 0;
}

/* The end of a <close> scope: the VM is shut down gracefully; the handle
 * still answers wait() and stderr() afterwards. */
static int m_close(lua_State *L)
{
	struct vm *v = checkvm(L, 1)->v;
	if (v && !v->exited && !v->detach)
		vm_shutdown(v, QLUA_CLOSE_TIMEOUT, VM_STOP_POWERDOWN);
	return 0;
}

static int m_tostring(lua_State *L)
{
	struct lvm *h = checkvm(L, 1);
	char st[32];
	if (h->v)
		lua_pushfstring(L, "qemu.vm(pid %d, %s)", (int)h->v->pid, vm_status_text(h->v, st, sizeof st));
	else
		lua_pushliteral(L, "qemu.vm(released)");
	return 1;
}

/* ---- starting ---------------------------------------------------------------------- */

/* Descriptors made for one start, closed by __gc if an error comes first. */
struct fdset {
	int fd[11];
};

static int fdset_gc(lua_State *L)
{
	struct fdset *s = lua_touserdata(L, 1);
	for (int i = 0; i < 11; i++)
		if (s->fd[i] >= 0) {
			close(s->fd[i]);
			s->fd[i] = -1;
		}
	return 0;
}

static struct fdset *push_fdset(lua_State *L)
{
	struct fdset *s = lua_newuserdatauv(L, sizeof *s, 0);
	for (int i = 0; i < 11; i++)
		s->fd[i] = -1;
	if (luaL_newmetatable(L, "qlua.fdset")) {
		lua_pushcfunction(L, fdset_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return s;
}

/* what: which channel, for the message (EMFILE must say what it was for) */
static void make_pair(lua_State *L, struct fdset *s, int slot, const char *what)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &s->fd[slot]) < 0)
		luaL_error(L, "cannot create a socketpair for %s: %s", what, strerror(errno));
}

enum { S_QMP = 0, S_QMP_CHILD, S_CON, S_CON_CHILD, S_ERR, S_ERR_CHILD, S_AGENT, S_AGENT_CHILD, S_OUT,
       S_OUT_CHILD, S_IN };  /* (struct fdset holds 11) */

static void set_vm_mt(lua_State *L);

/* Spawns argv and pushes the handle, which keeps argv_idx as vm.argv.  The
 * parent ends in s (QMP, console, stderr) go to the vm. */
static struct lvm *start(lua_State *L, char **argv, const int *fds, int nfds, const struct opts *o,
                         int argv_idx, struct fdset *s)
{
	argv_idx = lua_absindex(L, argv_idx);
	struct lvm *h = lua_newuserdatauv(L, sizeof *h, 5);
	h->v = NULL;
	set_vm_mt(L);
	lua_pushvalue(L, argv_idx);
	lua_setiuservalue(L, -2, 1);

	if (o->capture && pipe2(&s->fd[S_ERR], O_CLOEXEC) < 0)
		luaL_error(L, "cannot create a pipe for QEMU's stderr: %s", strerror(errno));
	if (o->capture_out && pipe2(&s->fd[S_OUT], O_CLOEXEC) < 0)
		luaL_error(L, "cannot create a pipe for the process's stdout: %s", strerror(errno));
	if (o->input) {
		/* all of it in a memory file: the child reads it at its pace and
		 * qlua never blocks writing to a pipe */
		if ((s->fd[S_IN] = memfd_create("qlua-input", MFD_CLOEXEC)) < 0)
			luaL_error(L, "cannot create a memory file for the process's stdin: %s", strerror(errno));
		for (size_t done = 0; done < o->inputlen;) {
			ssize_t n = write(s->fd[S_IN], o->input + done, o->inputlen - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				luaL_error(L, "cannot write the process's stdin: %s", strerror(errno));
			done += (size_t)n;
		}
		lseek(s->fd[S_IN], 0, SEEK_SET);
	}
	int errlog = -1;
	if (o->stderr_log && (errlog = open(o->stderr_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666)) < 0)
		luaL_error(L, "cannot open '%s': %s", o->stderr_log, strerror(errno));
	struct spawn_req req = {
		.path = argv[0], .argv = argv, .fds = fds, .nfds = nfds,
		.stdin_fd = s->fd[S_IN], .stdout_fd = s->fd[S_OUT_CHILD], .stderr_fd = s->fd[S_ERR_CHILD],
		.detach = o->detach, .new_session = o->new_session,
		.set_uid = o->ids.set_uid, .uid = o->ids.uid, .set_gid = o->ids.set_gid, .gid = o->ids.gid,
		.set_groups = o->ids.set_groups, .groups = o->ids.groups, .ngroups = o->ids.ngroups,
	};
	char err[512];
	int code = 0;
	int errfd = s->fd[S_ERR], qmpfd = s->fd[S_QMP], confd = s->fd[S_CON], agentfd = s->fd[S_AGENT];
	s->fd[S_ERR] = s->fd[S_QMP] = s->fd[S_CON] = s->fd[S_AGENT] = -1;  /* vm_start owns them now */
	if (errfd >= 0)
		fcntl(errfd, F_SETFL, O_NONBLOCK);
	struct vm *v = vm_start(&req, errfd, qmpfd, confd, err, sizeof err, &code);
	if (v && s->fd[S_OUT] >= 0) {
		fcntl(s->fd[S_OUT], F_SETFL, O_NONBLOCK);
		vm_capture_stdout(v, s->fd[S_OUT]);
		s->fd[S_OUT] = -1;
	}
	for (int i = 0; i < 11; i++)
		if (s->fd[i] >= 0) {
			close(s->fd[i]);  /* the child's ends: only QEMU keeps them */
			s->fd[i] = -1;
		}
	if (!v) {
		if (agentfd >= 0)
			close(agentfd);
		if (errlog >= 0)
			close(errlog);
		luaL_where(L, 1);
		lua_pushstring(L, err);
		lua_concat(L, 2);
		/* remembered, so qlua can exit 126/127 if this very error ends the
		 * script; only for an exec that failed: running out of descriptors
		 * or processes is qlua's error (exit 2), not QEMU's */
		lvm_exec_status = code > 0 ? spawn_exit_code(code) : 0;
		snprintf(lvm_exec_error, sizeof lvm_exec_error, "%s", lua_tostring(L, -1));
		lua_error(L);
	}
	v->errlog = errlog;
	if (errlog >= 0)
		v->errlog_path = strdup(o->stderr_log);  /* NULL (out of memory): "?" in messages */
	h->v = v;
	int hidx = lua_gettop(L);
	if (agentfd >= 0 && !(v->agent = qga_open(agentfd))) {
		close(agentfd);
		luaL_error(L, "cannot watch the guest agent's channel: %s", strerror(errno));
	}
	if (v->agent) {
		lagent_push_for_vm(L, hidx, &h->v);
		lua_setiuservalue(L, hidx, 4);
	}
	if (v->qmp) {
		lqmp_push_for_vm(L, hidx, &h->v);
		lua_setiuservalue(L, hidx, 2);
	}
	if (v->console) {
		lconsole_push_for_vm(L, hidx, &h->v);
		lua_setiuservalue(L, hidx, 3);
	}
	return h;
}

/* Builds the description at 1 with what the options add, runs its
 * prepare steps, and pushes the handle. */
static struct lvm *start_vm(lua_State *L, struct opts *o, const char *fname)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	struct fdset *s = push_fdset(L);
	struct qfd qmp_child = { -1, "qemu.launch's QMP channel" };
	struct qfd con_child = { -1, "qemu.launch's console" };
	struct qfd agent_child = { -1, "qemu.launch's guest agent channel" };
	struct runtime rt = { 0 };
	if (o->qmp) {
		make_pair(L, s, S_QMP, "QEMU's QMP channel");
		qmp_child.fd = s->fd[S_QMP_CHILD];
		rt.qmp = &qmp_child;
	}
	if (o->agent) {
		make_pair(L, s, S_AGENT, "the guest agent's channel");
		agent_child.fd = s->fd[S_AGENT_CHILD];
		rt.agent = &agent_child;
	}
	if (o->console) {
		if (!strcmp(o->console, "capture")) {
			make_pair(L, s, S_CON, "QEMU's console");
			con_child.fd = s->fd[S_CON_CHILD];
			rt.console = &con_child;
		} else if (!strncmp(o->console, "file:", 5)) {
			rt.console_file = o->console + 5;
		} else {
			rt.serial = o->console;  /* stdio (as qlua vm.lua), none */
		}
	}
	struct emit e;
	/* QEMU runs as the description says (each id applied only when given):
	 * qemu.launch and qemu.run take no ids of their own */
	struct arena *a = qlua_build(L, 1, NULL, &e, &o->ids, &rt);   /* pushes the arena */
	if (ldry_diverts())
		ldry_hook(L, &e, 1, fname);  /* raises */
	char err[600];
	if (prepare_run(&e, err, sizeof err) < 0) {
		char where[256];
		ck_where(L, 1, where, sizeof where);
		lua_pushfstring(L, "%s%s", where, err);
		lua_error(L);
	}
	int *fds = lua_newuserdatauv(L, (e.nfds + 1) * sizeof *fds, 0);
	for (int i = 0; i < e.nfds; i++)
		fds[i] = e.fds[i]->fd;
	lua_createtable(L, e.argc, 0);
	for (int i = 0; i < e.argc; i++) {
		lua_pushlstring(L, e.argv[i], e.argl[i]);
		lua_rawseti(L, -2, i + 1);
	}
	struct lvm *h = start(L, e.argv, fds, e.nfds, o, -1, s);
	arena_free(a);  /* QEMU runs: its command line is the list start() keeps */
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 5);  /* vm.description: what vm:ssh reads its settings from */
	return h;
}

/* qemu.launch(vm [, opts]) -> handle */
static int l_launch(lua_State *L)
{
	struct opts o = { .capture = 1, .qmp = 1 };
	getopts(L, 2, "launch", &o);
	lua_settop(L, 2);
	start_vm(L, &o, "launch");
	return 1;
}

/* qemu.run(vm [, opts]) -> ok, stderr_text, status: blocks until QEMU exits
 * (the seed's LaunchQemu), or opts.timeout passes: then QEMU is killed and
 * ok is false. */
static int l_run(lua_State *L)
{
	struct opts o = { .capture = 1 };
	getopts(L, 2, "run", &o);
	lua_settop(L, 2);
	struct lvm *h = start_vm(L, &o, "run");
	struct vm *v = h->v;
	int r = vm_wait(v, loop_deadline(o.timeout));
	if (r < 0)
		return wait_interrupted(L, "run");
	if (r == 0) {
		vm_kill(v, SIGKILL);
		vm_wait(v, loop_deadline(10));
		lua_pushboolean(L, 0);
		lua_pushlstring(L, v->err ? v->err : "", v->errlen);
		lua_pushfstring(L, "%stimeout after %f s",
		                v->errlen && v->err[v->errlen - 1] != '\n' ? "\n" : "", o.timeout);
		lua_concat(L, 2);
		push_status(L, v);
		return 3;
	}
	lua_pushboolean(L, WIFEXITED(v->status) && WEXITSTATUS(v->status) == 0);
	lua_pushlstring(L, v->err ? v->err : "", v->errlen);
	push_status(L, v);
	return 3;
}

/* qemu.launch_custom(path, args, fds [, attrs]) -> handle: a raw argv (the
 * seed's LaunchCustomQemu); uid, gid and groups apply only when given. */
static int l_launch_custom(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	struct opts o = { 0 };
	getopts(L, 4, "launch_custom", &o);
	lua_settop(L, 4);
	int nargs = (int)lua_rawlen(L, 2);
	int nfds = lua_isnoneornil(L, 3) ? 0 : (luaL_checktype(L, 3, LUA_TTABLE), (int)lua_rawlen(L, 3));
	char **argv = lua_newuserdatauv(L, (nargs + 2) * sizeof *argv, 0);   /* 5 */
	int *fds = lua_newuserdatauv(L, (nfds + 1) * sizeof *fds, 0);       /* 6 */
	lua_createtable(L, nargs + 1, 0);                                     /* 7: vm.argv */
	struct qfd **qfds = lua_newuserdatauv(L, (nfds + 1) * sizeof *qfds, 0);  /* 8 */
	size_t *argl = lua_newuserdatauv(L, (nargs + 2) * sizeof *argl, 0);      /* 9 */
	lua_pushvalue(L, 1);
	lua_rawseti(L, 7, 1);
	argv[0] = (char *)path;
	argl[0] = strlen(path);
	for (int i = 1; i <= nargs; i++) {
		lua_rawgeti(L, 2, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "bad argument #2 to 'launch_custom' (args[%d]: string expected, got %s)",
			                  i, luaL_typename(L, -1));
		size_t n;
		argv[i] = (char *)lua_tolstring(L, -1, &n);
		argl[i] = n;
		if (strlen(argv[i]) != n)
			return luaL_error(L, "bad argument #2 to 'launch_custom' (args[%d] contains a NUL byte)", i);
		lua_rawseti(L, 7, i + 1);  /* anchors the string */
	}
	argv[nargs + 1] = NULL;
	for (int i = 1; i <= nfds; i++) {
		lua_rawgeti(L, 3, i);
		struct qfd *f = qfd_test(L, -1);
		if (!f)
			return luaL_error(L, "bad argument #3 to 'launch_custom' (fds[%d]: qemu.fd expected, got %s)",
			                  i, luaL_typename(L, -1));
		if (f->fd < 0)
			return luaL_error(L, "bad argument #3 to 'launch_custom' (fds[%d] is closed)", i);
		fds[i - 1] = f->fd;
		qfds[i - 1] = f;
		lua_pop(L, 1);
	}
	if (ldry_diverts()) {
		/* what would run, as a description's would be shown (no prepare steps) */
		struct emit e = { .argv = argv, .argl = argl, .argc = nargs + 1, .fds = qfds, .nfds = nfds };
		ldry_hook(L, &e, 0, "launch_custom");
	}
	struct fdset *s = push_fdset(L);
	start(L, argv, fds, nfds, &o, 7, s);
	return 1;
}

/* What the prepare steps made goes when the Lua state closes (qlua's exit;
 * a plain Lua program's end), after the VMs: this userdata is finalized
 * after every handle made later. */
static int cleanup_gc(lua_State *L)
{
	prepare_cleanup();
	return 0;
}

/* Sets the VM handles' metatable on the value on top, making it with the
 * first handle: a dry run does not pay for it at start-up. */
static void set_vm_mt(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "alive", m_alive }, { "kill", m_kill }, { "shutdown", m_shutdown }, { "stderr", m_stderr },
		{ "stdout", m_stdout }, { "wait", m_wait }, { NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__close", m_close }, { "__gc", m_gc }, { "__index", m_index }, { "__tostring", m_tostring },
		{ NULL, NULL },
	};
	if (luaL_newmetatable(L, QLUA_VM_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "methods");
	}
	lua_setmetatable(L, -2);
}

void lvm_register(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, "qlua.prepare_cleanup") == LUA_TNIL) {
		lua_newuserdatauv(L, 1, 0);
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, cleanup_gc);
		lua_setfield(L, -2, "__gc");
		lua_setmetatable(L, -2);
		lua_setfield(L, LUA_REGISTRYINDEX, "qlua.prepare_cleanup");
	}
	lua_pop(L, 1);
	static const luaL_Reg funcs[] = {
		{ "launch", l_launch }, { "launch_custom", l_launch_custom }, { "run", l_run }, { NULL, NULL },
	};
	luaL_setfuncs(L, funcs, 0);
	wait_register(L);
	lqmp_register(L);
	lconsole_register(L);
}
