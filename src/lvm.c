/* lvm.c - processes from Lua.  Everything about starting and reaping lives
 * in spawn.c (plain C); this file turns Lua arguments into a spawn request
 * and a child into a handle. */
#include "lvm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lfd.h"
#include "lib.h"
#include "spawn.h"

int lvm_exec_status;
char lvm_exec_error[512];

struct lvm {
	pid_t pid;          /* 0 once reaped */
	int pidfd;
	int errfd;          /* read end of QEMU's stderr, or -1 */
	int status;         /* raw wait status, valid once reaped */
	int reaped;
	int detach;
	char *err;          /* captured stderr */
	size_t errlen, errcap;
};

/* ---- options ---------------------------------------------------------------------- */

struct opts {
	int capture;        /* stderr = "capture" */
	int detach;
	double timeout;     /* run(): seconds, < 0 forever */
	int set_uid, set_gid, set_groups, new_session;
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
};

static const char *const opt_names[] = { "stderr", "detach", "timeout", "uid", "gid", "groups", "setsid", NULL };

/* Reads the options table at idx.  `allowed` is a bitmask over opt_names. */
static void getopts(lua_State *L, int idx, const char *fname, unsigned allowed, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->timeout = -1;
	if (lua_isnoneornil(L, idx))
		return;
	luaL_checktype(L, idx, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
		int i = 0;
		while (opt_names[i] && strcmp(opt_names[i], k))
			i++;
		if (!opt_names[i] || !(allowed & (1u << i)))
			luaL_error(L, "bad argument #%d to '%s' (unknown option '%s')", idx, fname, k);
		switch (i) {
		case 0: {
			const char *v = luaL_checkstring(L, -1);
			if (strcmp(v, "capture") && strcmp(v, "inherit"))
				luaL_error(L, "bad argument #%d to '%s' (option 'stderr': invalid option '%s' "
				           "(expected 'capture' or 'inherit'))", idx, fname, v);
			o->capture = !strcmp(v, "capture");
			break;
		}
		case 1: o->detach = lua_toboolean(L, -1); break;
		case 2:
			o->timeout = luaL_checknumber(L, -1);
			if (!(o->timeout >= 0))  /* NaN too */
				luaL_error(L, "bad argument #%d to '%s' (option 'timeout' must not be negative)", idx, fname);
			break;
		case 3: o->set_uid = 1; o->uid = (uid_t)luaL_checkinteger(L, -1); break;
		case 4: o->set_gid = 1; o->gid = (gid_t)luaL_checkinteger(L, -1); break;
		case 5: {
			luaL_checktype(L, -1, LUA_TTABLE);
			int n = (int)lua_rawlen(L, -1);
			if (n > 64)
				luaL_error(L, "bad argument #%d to '%s' (more than 64 groups)", idx, fname);
			for (int g = 1; g <= n; g++) {
				lua_rawgeti(L, -1, g);
				o->groups[g - 1] = (gid_t)luaL_checkinteger(L, -1);
				lua_pop(L, 1);
			}
			o->ngroups = n;
			o->set_groups = 1;
			break;
		}
		case 6: o->new_session = lua_toboolean(L, -1); break;
		}
		lua_pop(L, 1);
	}
}

/* ---- the handle ---------------------------------------------------------------------- */

static struct lvm *checkvm(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, QLUA_VM_MT);
}

static void drain(void *ctx, const char *buf, size_t n)
{
	struct lvm *v = ctx;
	if (v->errlen + n > v->errcap) {
		size_t cap = v->errcap ? v->errcap * 2 : 4096;
		while (cap < v->errlen + n)
			cap *= 2;
		char *nb = realloc(v->err, cap);
		if (!nb)
			return; /* keep QEMU running; lose the text */
		v->err = nb;
		v->errcap = cap;
	}
	memcpy(v->err + v->errlen, buf, n);
	v->errlen += n;
}

static void close_fds(struct lvm *v)
{
	if (v->pidfd >= 0)
		close(v->pidfd);
	if (v->errfd >= 0)
		close(v->errfd);
	v->pidfd = v->errfd = -1;
}

/* Reads whatever QEMU's stderr pipe holds now (it is non-blocking), so a
 * script that only polls alive() never leaves QEMU blocked on a full pipe. */
static void drain_now(struct lvm *v)
{
	char buf[4096];
	ssize_t n;
	while (v->errfd >= 0 && (n = read(v->errfd, buf, sizeof buf)) > 0)
		drain(v, buf, n);
}

/* Waits up to timeout (< 0: forever); returns 1 once QEMU has exited. */
static int vm_wait(struct lvm *v, double timeout)
{
	if (v->reaped)
		return 1;
	drain_now(v);
	int r = spawn_wait(v->pid, v->pidfd, timeout, &v->status, v->errfd, drain, v);
	if (r == 1) {
		v->reaped = 1;
		/* whatever QEMU wrote last is still in the pipe */
		drain_now(v);
		close_fds(v);
	}
	return r;
}

static void push_status(lua_State *L, int st)
{
	lua_createtable(L, 0, 1);
	if (WIFSIGNALED(st)) {
		lua_pushinteger(L, WTERMSIG(st));
		lua_setfield(L, -2, "signal");
	} else {
		lua_pushinteger(L, WEXITSTATUS(st));
		lua_setfield(L, -2, "code");
	}
}

/* vm:wait([timeout]) -> status | nil, "timeout" */
static int m_wait(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	double t = luaL_optnumber(L, 2, -1);
	if (!lua_isnoneornil(L, 2) && !(t >= 0))
		return luaL_argerror(L, 2, "timeout must not be negative");
	int r = vm_wait(v, t);
	if (r < 0)
		return luaL_error(L, "wait: %s", strerror(errno));
	if (r == 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "timeout");
		return 2;
	}
	push_status(L, v->status);
	return 1;
}

static int m_alive(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	lua_pushboolean(L, vm_wait(v, 0) == 0);
	return 1;
}

/* vm:kill([signal]) -> true, or false when QEMU already exited */
static int m_kill(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	int sig = (int)luaL_optinteger(L, 2, SIGTERM);
	if (sig <= 0 || sig >= NSIG)
		return luaL_argerror(L, 2, "invalid signal number");
	if (vm_wait(v, 0) != 0) {
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_pushboolean(L, kill(v->pid, sig) == 0);
	return 1;
}

/* vm:stderr(): what QEMU wrote to stderr so far (with stderr = "capture") */
static int m_stderr(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	if (!v->reaped)
		vm_wait(v, 0); /* reads what is waiting in the pipe */
	lua_pushlstring(L, v->err ? v->err : "", v->errlen);
	return 1;
}

static int m_index(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	const char *k = luaL_checkstring(L, 2);
	if (!strcmp(k, "pid")) {
		lua_pushinteger(L, v->pid);
		return 1;
	}
	if (!strcmp(k, "argv")) {
		lua_getiuservalue(L, 1, 1);
		return 1;
	}
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

/* Collected or closed: a QEMU nobody can reach any more is stopped, unless
 * it was detached on purpose. */
static int m_gc(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	if (!v->reaped && v->pid > 0 && !v->detach) {
		kill(v->pid, SIGKILL);
		vm_wait(v, 5);
	}
	close_fds(v);
	free(v->err);
	v->err = NULL;
	return 0;
}

static int m_tostring(lua_State *L)
{
	struct lvm *v = checkvm(L, 1);
	lua_pushfstring(L, "qemu.vm(pid %d%s)", (int)v->pid, v->reaped ? ", exited" : "");
	return 1;
}

/* ---- starting ---------------------------------------------------------------------- */

/* Spawns argv (a NULL-terminated C array) and pushes the handle.  argv_idx
 * is the Lua table of the same argv, kept as vm.argv. */
static struct lvm *start(lua_State *L, char **argv, const int *fds, int nfds, const struct opts *o, int argv_idx)
{
	argv_idx = lua_absindex(L, argv_idx);
	struct lvm *v = lua_newuserdatauv(L, sizeof *v, 1);
	memset(v, 0, sizeof *v);
	v->pidfd = v->errfd = -1;
	luaL_setmetatable(L, QLUA_VM_MT);
	lua_pushvalue(L, argv_idx);
	lua_setiuservalue(L, -2, 1);

	int pipefd[2] = { -1, -1 };
	if (o->capture) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			luaL_error(L, "cannot create a pipe: %s", strerror(errno));
		v->errfd = pipefd[0];
	}
	struct spawn_req req = {
		.path = argv[0], .argv = argv, .fds = fds, .nfds = nfds,
		.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = pipefd[1],
		.detach = o->detach, .new_session = o->new_session,
		.set_uid = o->set_uid, .uid = o->uid, .set_gid = o->set_gid, .gid = o->gid,
		.set_groups = o->set_groups, .groups = o->groups, .ngroups = o->ngroups,
	};
	char err[512];
	int rc = spawn_start(&req, &v->pid, err, sizeof err);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (rc) {
		v->pid = 0;
		v->reaped = 1;
		luaL_where(L, 1);
		lua_pushstring(L, err);
		lua_concat(L, 2);
		/* remembered, so qlua can exit 126/127 if this very error ends the script */
		lvm_exec_status = spawn_exit_code(rc);
		snprintf(lvm_exec_error, sizeof lvm_exec_error, "%s", lua_tostring(L, -1));
		lua_error(L);
	}
	v->detach = o->detach;
	v->pidfd = spawn_pidfd(v->pid);
	if (v->errfd >= 0)
		fcntl(v->errfd, F_SETFL, fcntl(v->errfd, F_GETFL) | O_NONBLOCK);
	return v;
}

/* Builds the description at 1 and pushes the handle (and keeps the argv). */
static struct lvm *start_vm(lua_State *L, const struct opts *o)
{
	struct emit e;
	luaL_checktype(L, 1, LUA_TTABLE);
	qlua_build(L, 1, NULL, &e);       /* pushes the arena */
	int *fds = lua_newuserdatauv(L, (e.nfds + 1) * sizeof *fds, 0);
	for (int i = 0; i < e.nfds; i++)
		fds[i] = e.fds[i]->fd;
	lua_createtable(L, e.argc, 0);
	for (int i = 0; i < e.argc; i++) {
		lua_pushstring(L, e.argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return start(L, e.argv, fds, e.nfds, o, -1);
}

/* qemu.launch(vm [, opts]) -> handle */
static int l_launch(lua_State *L)
{
	struct opts o;
	getopts(L, 2, "launch", 1 | 2, &o);
	lua_settop(L, 2);
	start_vm(L, &o);
	return 1;
}

/* qemu.run(vm [, opts]) -> ok, stderr_text, status: blocks until QEMU exits
 * (or opts.timeout passes: then QEMU is killed and ok is false). */
static int l_run(lua_State *L)
{
	struct opts o;
	getopts(L, 2, "run", 4, &o);
	o.capture = 1;
	lua_settop(L, 2);
	struct lvm *v = start_vm(L, &o);
	int r = vm_wait(v, o.timeout);
	if (r == 0) {
		kill(v->pid, SIGKILL);
		vm_wait(v, -1);
		lua_pushboolean(L, 0);
		lua_pushlstring(L, v->err ? v->err : "", v->errlen);
		lua_pushfstring(L, "%stimeout after %f s",
		                v->errlen && v->err[v->errlen - 1] != '\n' ? "\n" : "", o.timeout);
		lua_concat(L, 2);
		push_status(L, v->status);
		return 3;
	}
	if (r < 0)
		return luaL_error(L, "wait: %s", strerror(errno));
	lua_pushboolean(L, WIFEXITED(v->status) && WEXITSTATUS(v->status) == 0);
	lua_pushlstring(L, v->err ? v->err : "", v->errlen);
	push_status(L, v->status);
	return 3;
}

/* qemu.launch_custom(path, args, fds [, attrs]) -> handle: a raw argv (the
 * seed's LaunchCustomQemu); uid, gid and groups apply only when given. */
static int l_launch_custom(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	struct opts o;
	getopts(L, 4, "launch_custom", 1 | 2 | 8 | 16 | 32 | 64, &o);
	lua_settop(L, 4);
	int nargs = (int)lua_rawlen(L, 2);
	int nfds = lua_isnoneornil(L, 3) ? 0 : (luaL_checktype(L, 3, LUA_TTABLE), (int)lua_rawlen(L, 3));
	char **argv = lua_newuserdatauv(L, (nargs + 2) * sizeof *argv, 0);   /* 5 */
	int *fds = lua_newuserdatauv(L, (nfds + 1) * sizeof *fds, 0);       /* 6 */
	lua_createtable(L, nargs + 1, 0);                                     /* 7: vm.argv */
	lua_pushvalue(L, 1);
	lua_rawseti(L, 7, 1);
	argv[0] = (char *)path;
	for (int i = 1; i <= nargs; i++) {
		lua_rawgeti(L, 2, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_error(L, "bad argument #2 to 'launch_custom' (args[%d]: string expected, got %s)",
			                  i, luaL_typename(L, -1));
		size_t n;
		argv[i] = (char *)lua_tolstring(L, -1, &n);
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
		lua_pop(L, 1);
	}
	start(L, argv, fds, nfds, &o, 7);
	return 1;
}

void lvm_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "alive", m_alive }, { "kill", m_kill }, { "stderr", m_stderr }, { "wait", m_wait },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__close", m_gc }, { "__gc", m_gc }, { "__index", m_index }, { "__tostring", m_tostring },
		{ NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "launch", l_launch }, { "launch_custom", l_launch_custom }, { "run", l_run }, { NULL, NULL },
	};
	if (luaL_newmetatable(L, QLUA_VM_MT)) {
		luaL_setfuncs(L, meta, 0);
		luaL_newlib(L, methods);
		lua_setfield(L, -2, "methods");
	}
	lua_pop(L, 1);
	luaL_setfuncs(L, funcs, 0);
}
