/* lfd.c - the qemu.fd userdata and its constructors: qemu.fd, qemu.open,
 * qemu.tap, qemu.socketpair.  The opening itself lives in tap.c and
 * fdutil.c; this file is only the Lua side of it. */
#include "lfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "fdutil.h"
#include "ldry.h"
#include "options.h"
#include "tap.h"

/* Registry key of a weak-keyed set of every qemu.fd created, so qemu.fd(n)
 * can find a live object that already owns n instead of making a second
 * owner (two owners would close the number twice, the second time after
 * it may have been reused).  Weak keys, not weak values: an object waiting
 * for its finalizer stays listed until its descriptor is really closed. */
#define OWNED_KEY "qemu.fd.owned"

static struct qfd *check_qfd(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, QLUA_FD_MT);
}

/* Sets q->what, ending in "..." when it had to be cut. */
static void set_what(struct qfd *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(q->what, sizeof q->what, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof q->what)
		memcpy(q->what + sizeof q->what - 4, "...", 4);
}

/* __gc, __close and :close(): closing twice is harmless. */
static int fd_close(lua_State *L)
{
	struct qfd *q = check_qfd(L, 1);

	if (q->fd >= 0) {
		/* On Linux the number is released even when close fails
		 * (EINTR included), so it must never be retried. */
		close(q->fd);
		q->fd = -1;
	}
	return 0;
}

/* :fileno() -> the number, or nil once closed (never a stale number). */
static int fd_fileno(lua_State *L)
{
	struct qfd *q = check_qfd(L, 1);

	if (q->fd < 0)
		lua_pushnil(L);
	else
		lua_pushinteger(L, q->fd);
	return 1;
}

/* "qemu.fd(5, tap tap0 queue 1)", "qemu.fd(closed, fd 7)" */
static int fd_tostring(lua_State *L)
{
	struct qfd *q = check_qfd(L, 1);
	const char *sep = q->what[0] ? ", " : "";

	if (q->fd < 0)
		lua_pushfstring(L, "qemu.fd(closed%s%s)", sep, q->what);
	else
		lua_pushfstring(L, "qemu.fd(%d%s%s)", q->fd, sep, q->what);
	return 1;
}

static const luaL_Reg fd_methods[] = {
	{ "close", fd_close },
	{ "fileno", fd_fileno },
	{ NULL, NULL }
};

static const luaL_Reg fd_metamethods[] = {
	{ "__close", fd_close },
	{ "__gc", fd_close },
	{ "__index", NULL },      /* set to the methods table below */
	{ "__tostring", fd_tostring },
	{ NULL, NULL }
};

/* Pushes the metatable, creating it on first use, so qfd_push works even
 * before lfd_register has run. */
static void push_metatable(lua_State *L)
{
	if (luaL_newmetatable(L, QLUA_FD_MT)) {
		luaL_setfuncs(L, fd_metamethods, 0);
		luaL_newlib(L, fd_methods);
		lua_setfield(L, -2, "__index");
	}
}

/* Pushes the owned set, creating it on first use. */
static void push_owned(lua_State *L)
{
	if (lua_getfield(L, LUA_REGISTRYINDEX, OWNED_KEY) == LUA_TTABLE)
		return;
	lua_pop(L, 1);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, OWNED_KEY);
}

struct qfd *qfd_push(lua_State *L)
{
	struct qfd *q = lua_newuserdatauv(L, sizeof *q, 0);

	q->fd = -1;
	q->what[0] = '\0';
	push_metatable(L);
	lua_setmetatable(L, -2);
	push_owned(L);
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
	return q;
}

/* Pushes the live qemu.fd that owns descriptor n and returns 1, or pushes
 * nothing and returns 0. */
static int push_owner(lua_State *L, int n)
{
	push_owned(L);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		struct qfd *q = qfd_test(L, -2);
		lua_pop(L, 1);
		if (q && q->fd == n) {
			lua_remove(L, -2);
			return 1;
		}
	}
	lua_pop(L, 1);
	return 0;
}

/* For qemu.argv's fd list: render keeps struct pointers, Lua wants the
 * objects back. */
void qfd_pushobj(lua_State *L, struct qfd *q)
{
	push_owned(L);
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		lua_pop(L, 1);
		if (lua_touserdata(L, -1) == q) {
			lua_remove(L, -2);
			return;
		}
	}
	lua_pop(L, 1);
	lua_pushnil(L);
}

/* qemu.fd(n): adopts an inherited descriptor; the object owns it from now on
 * and it becomes close-on-exec, so only an explicit fd map passes it on. */
static int l_fd(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);

	if (n < 0 || n > INT_MAX)
		return luaL_argerror(L, 1, lua_pushfstring(L, "descriptor %I is invalid", n));
	if (push_owner(L, (int)n))
		return 1;
	struct qfd *q = qfd_push(L);
	int flags = fcntl((int)n, F_GETFD);
	if (flags < 0)
		return luaL_argerror(L, 1, lua_pushfstring(L, "descriptor %I is not open", n));
	if (!(flags & FD_CLOEXEC) && fcntl((int)n, F_SETFD, flags | FD_CLOEXEC) < 0)
		return luaL_argerror(L, 1, lua_pushfstring(L, "descriptor %I: %s", n, strerror(errno)));
	q->fd = (int)n;
	set_what(q, "fd %d", (int)n);
	return 1;
}

/* A string argument without embedded zeros (the kernel would see less). */
static const char *check_name(lua_State *L, int arg, const char *what)
{
	size_t len;
	const char *s = luaL_checklstring(L, arg, &len);

	if (strlen(s) != len)
		luaL_argerror(L, arg, lua_pushfstring(L, "%s contains a zero byte", what));
	return s;
}

/* qemu.open(path [, mode]) */
static int l_open(lua_State *L)
{
	static const char *const modes[] = { "r", "w", "rw", NULL };
	const char *path = check_name(L, 1, "path");
	const char *mode = modes[luaL_checkoption(L, 2, "r", modes)];
	char err[512];
	if (mode[0] == 'w')
		ldry_refuse_create(L, "qemu.open", path);  /* "w" creates a missing file */

	struct qfd *q = qfd_push(L);
	if (fd_open_path(path, mode, &q->fd, err, sizeof err) != 0)
		return luaL_error(L, "%s", err);
	set_what(q, "open %s %s", mode, path);
	return 1;
}

/* qemu.socketpair() */
static int l_socketpair(lua_State *L)
{
	struct qfd *a = qfd_push(L);
	struct qfd *b = qfd_push(L);
	int sv[2];
	char err[256];

	if (fd_socketpair(sv, err, sizeof err) != 0)
		return luaL_error(L, "%s", err);
	a->fd = sv[0];
	b->fd = sv[1];
	set_what(a, "socketpair end 1");
	set_what(b, "socketpair end 2");
	return 2;
}

/* Reads qemu.tap's options table at arg (the record in options.c: unknown
 * keys are an error, so a typo is never silently ignored). */
static void tap_options(lua_State *L, int arg, int *queues, int *vnet_hdr)
{
	if (lua_isnoneornil(L, arg))
		return;
	const struct rec *o = options_check(L, arg, &options_tap);
	*queues = (int)o->v[OTAP_QUEUES].u.i;    /* (defaults applied: 1, false) */
	*vnet_hdr = (int)o->v[OTAP_VNET_HDR].u.i;
	lua_pop(L, 1);  /* the record's arena */
}

/* qemu.tap(ifname [, {queues = n, vnet_hdr = bool}]) -> { qemu.fd, ... } */
static int l_tap(lua_State *L)
{
	const char *ifname = check_name(L, 1, "interface name");
	int queues = 1, vnet_hdr = 0;
	struct qfd *qs[TAP_MAX_QUEUES];
	int fds[TAP_MAX_QUEUES];
	char err[256], name[32];

	if (tap_check_name(ifname, err, sizeof err) != 0)
		luaL_argerror(L, 1, err);
	tap_options(L, 2, &queues, &vnet_hdr);

	/* Every object exists before the first descriptor is opened; from
	 * tap_open_queues to the loop below nothing can raise an error. */
	lua_createtable(L, queues, 0);
	for (int i = 0; i < queues; i++) {
		qs[i] = qfd_push(L);
		lua_rawseti(L, -2, i + 1);
	}
	if (ldry_active(L)) {
		/* A dry run makes no tap (TUNSETIFF would create the interface,
		 * and it needs root): each queue is /dev/null under the name the
		 * run's would have, so the command line printed is the run's. */
		for (int i = 0; i < queues; i++) {
			if (fd_open_path("/dev/null", "rw", &qs[i]->fd, err, sizeof err) != 0)
				return luaL_error(L, "%s", err);
			set_what(qs[i], "tap %s queue %d", ifname, i + 1);
		}
		return 1;
	}
	if (tap_open_queues(ifname, queues, vnet_hdr, fds, err, sizeof err) != 0)
		return luaL_error(L, "%s", err);
	if (tap_name(fds[0], name, sizeof name) != 0)
		snprintf(name, sizeof name, "%s", ifname);
	for (int i = 0; i < queues; i++) {
		qs[i]->fd = fds[i];
		set_what(qs[i], "tap %s queue %d", name, i + 1);
	}
	return 1;
}

static const luaL_Reg lfd_funcs[] = {
	{ "fd", l_fd },
	{ "open", l_open },
	{ "socketpair", l_socketpair },
	{ "tap", l_tap },
	{ NULL, NULL }
};

void lfd_register(lua_State *L)
{
	push_metatable(L);
	lua_pop(L, 1);
	luaL_setfuncs(L, lfd_funcs, 0);
}
