/* lqmp.c - QMP from Lua: the qemu.qmp object (vm.qmp, qemu.qmp_connect),
 * Lua values to and from JSON (jansson does the JSON), and error values.
 *
 * Every call waits by running the event loop until its own reply or event
 * is there, the connection fails, QEMU exits, or its timeout passes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <lauxlib.h>

#include "lfd.h"
#include "loop.h"
#include "lqmp.h"
#include "lwait.h"
#include "options.h"
#include "qmp.h"
#include "vm.h"

#define QMP_MT "qemu.qmp"
#define ERROR_MT "qemu.error"

/* qemu.null: JSON's null, where nil cannot stand (inside lists). */
static char null_key;

/* The metatables of the tables JSON becomes (QMP replies, events,
 * qemu.json_decode): they print as their JSON, so print(vm.qmp:status())
 * shows {"running": true, ...}, not table: 0x...; and an empty array stays
 * [] when it goes back to JSON. */
#define JSON_OBJECT_MT "qemu.json.object"
#define JSON_ARRAY_MT "qemu.json.array"

struct lqmp {
	struct qmp *own;      /* qemu.qmp_connect: ours to free */
	struct vm **vmref;    /* vm.qmp: the handle's vm (user value 1 keeps it alive) */
};

/* ---- JSON <-> Lua ---------------------------------------------------------------- */

static void push_json(lua_State *L, json_t *j, int depth)
{
	luaL_checkstack(L, 4, "JSON nested too deeply");
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		lua_createtable(L, 0, (int)json_object_size(j));
		json_object_foreach(j, k, v) {
			push_json(L, v, depth + 1);
			lua_setfield(L, -2, k);
		}
		luaL_setmetatable(L, JSON_OBJECT_MT);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		lua_createtable(L, (int)json_array_size(j), 0);
		json_array_foreach(j, i, v) {
			push_json(L, v, depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		luaL_setmetatable(L, JSON_ARRAY_MT);
		break;
	}
	case JSON_STRING:
		lua_pushlstring(L, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		lua_pushinteger(L, (lua_Integer)json_integer_value(j));
		break;
	case JSON_REAL:
		lua_pushnumber(L, json_real_value(j));
		break;
	case JSON_TRUE:
		lua_pushboolean(L, 1);
		break;
	case JSON_FALSE:
		lua_pushboolean(L, 0);
		break;
	case JSON_NULL:
		lua_pushlightuserdata(L, &null_key);
		break;
	}
}

/* The value at idx as JSON; NULL with a message in err when it has no JSON
 * form (functions, NaN, mixed tables, cycles...). */
static json_t *to_json(lua_State *L, int idx, int depth, char *err, size_t errlen)
{
	idx = lua_absindex(L, idx);
	if (depth > 64) {
		snprintf(err, errlen, "nested more than 64 levels (a cycle?)");
		return NULL;
	}
	switch (lua_type(L, idx)) {
	case LUA_TBOOLEAN:
		return json_boolean(lua_toboolean(L, idx));
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			return json_integer((json_int_t)lua_tointeger(L, idx));
		if (!isfinite(lua_tonumber(L, idx))) {
			snprintf(err, errlen, "%s has no JSON form", lua_tostring(L, idx));
			return NULL;
		}
		return json_real(lua_tonumber(L, idx));
	case LUA_TSTRING: {
		size_t n;
		const char *s = lua_tolstring(L, idx, &n);
		json_t *j = json_stringn(s, n);
		if (!j)
			snprintf(err, errlen, "string is not valid UTF-8");
		return j;
	}
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == &null_key)
			return json_null();
		break;
	case LUA_TTABLE: {
		size_t n = lua_rawlen(L, idx), count = 0;
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			lua_pop(L, 1);
			count++;
		}
		int empty_array = 0;
		if (count == 0 && lua_getmetatable(L, idx)) {  /* a [] that came from JSON */
			luaL_getmetatable(L, JSON_ARRAY_MT);
			empty_array = lua_rawequal(L, -1, -2);
			lua_pop(L, 2);
		}
		if (empty_array)
			return json_array();
		if (n > 0 && count == n) {
			json_t *a = json_array();
			for (size_t i = 1; i <= n; i++) {
				lua_rawgeti(L, idx, (lua_Integer)i);
				json_t *v = to_json(L, -1, depth + 1, err, errlen);
				lua_pop(L, 1);
				if (!v) {
					json_decref(a);
					return NULL;
				}
				json_array_append_new(a, v);
			}
			return a;
		}
		json_t *o = json_object();
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			if (lua_type(L, -2) != LUA_TSTRING) {
				snprintf(err, errlen, "a table mixes list items and named fields (key %s)",
				         luaL_typename(L, -2));
				lua_pop(L, 2);
				json_decref(o);
				return NULL;
			}
			json_t *v = to_json(L, -1, depth + 1, err, errlen);
			if (!v) {
				lua_pop(L, 2);
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, lua_tostring(L, -2), v);
			lua_pop(L, 1);
		}
		return o;
	}
	}
	snprintf(err, errlen, "%s has no JSON form", luaL_typename(L, idx));
	return NULL;
}

json_t *lqmp_to_json(lua_State *L, int idx, char *err, size_t errlen)
{
	return to_json(L, idx, 0, err, errlen);
}

void lqmp_push_json(lua_State *L, json_t *j)
{
	push_json(L, j, 0);
}

/* ---- errors ---------------------------------------------------------------------- */

int lqmp_push_error(lua_State *L, const char *class, const char *fmt, ...)
{
	char desc[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof desc, fmt, ap);
	va_end(ap);
	lua_pushnil(L);
	lua_createtable(L, 0, 2);
	lua_pushstring(L, class);
	lua_setfield(L, -2, "class");
	lua_pushstring(L, desc);
	lua_setfield(L, -2, "desc");
	luaL_setmetatable(L, ERROR_MT);
	return 2;
}

static int error_tostring(lua_State *L)
{
	lua_getfield(L, 1, "class");
	lua_getfield(L, 1, "desc");
	lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "Error"), luaL_optstring(L, -1, ""));
	return 1;
}

/* ---- waiting --------------------------------------------------------------------- */

struct lqmp_ctx {
	struct qmp *q;
	struct vm *v;         /* NULL for qemu.qmp_connect */
};

/* A QMP wait: the generic state (lwait.h) and where its qemu.qmp object is
 * on the stack. */
struct qwait {
	struct wait w;
	int self;
};

static struct lqmp *checkqmp(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, QMP_MT);
}

/* The connection and its VM (if any); raises when the handle is gone. */
static void get(lua_State *L, int idx, struct lqmp_ctx *c)
{
	struct lqmp *o = checkqmp(L, idx);
	c->v = NULL;
	if (o->own) {
		c->q = o->own;
	} else if (!o->vmref) {
		luaL_error(L, "the QMP connection is closed");
	} else {
		if (!*o->vmref)
			luaL_error(L, "the VM handle of this QMP channel was released");
		c->v = *o->vmref;
		c->q = c->v->qmp;
	}
}

/* The connection of a wait's object. */
static void wget(lua_State *L, struct wait *w, struct lqmp_ctx *c)
{
	get(L, ((struct qwait *)w)->self, c);
}

/* Pushes a new QMP wait (self: the object's stack index). */
static struct qwait *qwait_new(lua_State *L, const struct wait_ops *ops, const char *name, double timeout, int self)
{
	struct qwait *s = (struct qwait *)wait_new(L, sizeof *s, ops, name, timeout);
	s->self = self;
	return s;
}

/* Why waiting is over for good, or NULL when it is not.  A QMP channel
 * that closes is nearly always QEMU exiting, and the kernel closes its
 * sockets before it tells the pidfd: give the exit a moment to be seen, so
 * the message says how QEMU ended. */
static const char *dead(struct lqmp_ctx *c, char *buf, size_t n)
{
	if (c->v && !c->v->exited && !qmp_alive(c->q))
		vm_wait(c->v, loop_deadline(0.5));
	if (c->v && c->v->exited) {
		char st[32];
		snprintf(buf, n, "QEMU exited (%s)", vm_status_text(c->v, st, sizeof st));
		return buf;
	}
	if (!qmp_alive(c->q))
		return c->q->error;
	return NULL;
}

/* One look at whether the channel is READY: 1; 0 while it may still
 * become ready; -1 after pushing nil, err (it never will). */
static int ready_now(lua_State *L, struct lqmp_ctx *c, const char *what)
{
	char why[600];
	if (c->q->state == QMP_READY)
		return 1;
	const char *d = dead(c, why, sizeof why);
	if (d) {
		lqmp_push_error(L, "Disconnected", "%s before %s", d, what);
		return -1;
	}
	return 0;
}

/* The timeout of the options table at idx, checked against its record in
 * options.c ("qmp.execute", "qmp.wait_event"): an unknown key is an error. */
static double opt_timeout(lua_State *L, int idx, double def, const char *record)
{
	if (lua_isnoneornil(L, idx))
		return def;
	const struct rec *r = options_check(L, idx, options_find(record));
	int f = schema_field(r->k, "timeout", 7);
	double t = r->v[f].set ? r->v[f].u.num : def;
	lua_pop(L, 1);  /* the record's arena */
	return t;
}

/* ---- methods ---------------------------------------------------------------------- */

/* Takes the reply to w->id if it came: pushes its value (1) or nil, err
 * (2); 0 while it has not come, -2 after pushing nil, err when it never
 * will. */
static int reply_now(lua_State *L, struct lqmp_ctx *c, struct wait *w, const char *cmd)
{
	char why[600];
	json_t *msg = qmp_take_reply(c->q, w->id);
	if (msg) {
		json_t *err = json_object_get(msg, "error");
		if (err) {
			lqmp_push_error(L, json_string_value(json_object_get(err, "class")) ?: "GenericError",
			           "%s", json_string_value(json_object_get(err, "desc")) ?: "(no description)");
		} else {
			push_json(L, json_object_get(msg, "return"), 0);
		}
		json_decref(msg);
		return err ? 2 : 1;
	}
	const char *d = dead(c, why, sizeof why);
	if (d) {
		lqmp_push_error(L, "Disconnected", "%s while waiting for the reply to '%s'", d, cmd);
		return -2;
	}
	return 0;
}

/* The timeout of a command (execute, getfd): before it was sent, the
 * greeting never came; after, its reply. */
static int command_expire(lua_State *L, struct wait *w)
{
	struct lqmp_ctx c;
	wget(L, w, &c);
	if (w->phase == 0 && c.q->state != QMP_READY)
		return lqmp_push_error(L, "Timeout", "no QMP greeting within the timeout (%s)", w->name);
	if (w->phase == 1)
		qmp_forget(c.q, w->id);
	return lqmp_push_error(L, "Timeout", "no reply to '%s' within the timeout", w->name);
}

static void command_what(lua_State *L, struct wait *w)
{
	lua_pushfstring(L, "QMP: the reply to '%s'", w->name);
}

/* qmp:execute(command [, args [, {timeout = s}]]) -> return value | nil, err
 * Stack: 1 self, 2 command, 3 args, 4 options, 5 the wait's state. */
static int execute_step(lua_State *L, struct wait *w)
{
	struct lqmp_ctx c;
	get(L, 1, &c);
	const char *cmd = w->name;
	if (w->phase == 0) {  /* the greeting and negotiation */
		int r = ready_now(L, &c, cmd);
		if (r < 0)
			return 2;
		if (r == 0)
			return 0;
		char err[200];
		json_t *args = lua_isnil(L, 3) ? NULL : to_json(L, 3, 0, err, sizeof err);
		if (!(w->id = qmp_send(c.q, cmd, args)))
			return lqmp_push_error(L, "Disconnected", "%s", c.q->error[0] ? c.q->error : "cannot send");
		w->phase = 1;
	}
	int r = reply_now(L, &c, w, cmd);
	return r < 0 ? 2 : r;
}

static int m_execute(lua_State *L)
{
	static const struct wait_ops ops = { execute_step, command_expire, command_what };
	struct lqmp_ctx c;
	get(L, 1, &c);
	luaL_checkstring(L, 2);
	double timeout = opt_timeout(L, 4, QLUA_QMP_TIMEOUT, "qmp.execute");
	if (!lua_isnoneornil(L, 3)) {
		char err[200];
		luaL_checktype(L, 3, LUA_TTABLE);
		json_t *args = to_json(L, 3, 0, err, sizeof err);  /* checked now, sent later */
		if (!args)
			return luaL_argerror(L, 3, err);
		int obj = json_is_object(args);
		json_decref(args);
		if (!obj)
			return luaL_argerror(L, 3, "arguments must be a table of named fields");
	}
	lua_settop(L, 4);
	return wait_run(L, &qwait_new(L, &ops, lua_tostring(L, 2), timeout, 1)->w);  /* 5 */
}

/* qmp:getfd(name, fd [, {timeout}]) -> true | nil, err: passes a qemu.fd to
 * QEMU over SCM_RIGHTS under that name (for netdev_add fd=name, ...).
 * Stack: 1 self, 2 name, 3 fd, 4 options, 5 state. */
static int getfd_step(lua_State *L, struct wait *w)
{
	struct lqmp_ctx c;
	get(L, 1, &c);
	if (w->phase == 0) {
		int r = ready_now(L, &c, "getfd");
		if (r < 0)
			return 2;
		/* one descriptor on its way at a time */
		if (r == 0 || qmp_fd_pending(c.q))
			return 0;
		struct qfd *f = qfd_test(L, 3);
		if (f->fd < 0)
			return luaL_argerror(L, 3, "descriptor is closed");
		w->id = qmp_send_fd(c.q, "getfd", json_pack("{s:s}", "fdname", lua_tostring(L, 2)), f->fd);
		if (!w->id)
			return lqmp_push_error(L, "Disconnected", "%s", c.q->error[0] ? c.q->error : "cannot send");
		w->phase = 1;
	}
	int r = reply_now(L, &c, w, "getfd");
	if (r == 1) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	return r < 0 ? 2 : r;
}

static int m_getfd(lua_State *L)
{
	static const struct wait_ops ops = { getfd_step, command_expire, command_what };
	struct lqmp_ctx c;
	get(L, 1, &c);
	luaL_checkstring(L, 2);
	struct qfd *f = qfd_test(L, 3);
	if (!f)
		return luaL_typeerror(L, 3, "qemu.fd");
	if (f->fd < 0)
		return luaL_argerror(L, 3, "descriptor is closed");
	double timeout = opt_timeout(L, 4, QLUA_QMP_TIMEOUT, "qmp.execute");
	lua_settop(L, 4);
	return wait_run(L, &qwait_new(L, &ops, "getfd", timeout, 1)->w);  /* 5 */
}

static void push_event(lua_State *L, json_t *ev)
{
	lua_createtable(L, 0, 3);
	luaL_setmetatable(L, JSON_OBJECT_MT);
	lua_pushstring(L, json_string_value(json_object_get(ev, "event")));
	lua_setfield(L, -2, "event");
	json_t *data = json_object_get(ev, "data");
	if (data)
		push_json(L, data, 0);
	else
		lua_newtable(L);
	lua_setfield(L, -2, "data");
	json_t *ts = json_object_get(ev, "timestamp");
	lua_pushnumber(L, (double)json_integer_value(json_object_get(ts, "seconds")) +
	                  (double)json_integer_value(json_object_get(ts, "microseconds")) / 1e6);
	lua_setfield(L, -2, "timestamp");
}

/* qmp:events() -> the events received so far (forgotten once returned) */
static int m_events(lua_State *L)
{
	struct lqmp_ctx c;
	get(L, 1, &c);
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	lua_newtable(L);
	json_t *ev;
	for (int i = 1; (ev = qmp_take_event(c.q)); i++) {
		push_event(L, ev);
		json_decref(ev);
		lua_rawseti(L, -2, i);
	}
	return 1;
}

/* Does data (a Lua table at idx) hold for the event's data?  Every key of
 * the table must be in the event with an equal value (tables: recursively). */
static int data_matches(lua_State *L, int idx, json_t *data)
{
	char err[64];
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		json_t *got = lua_type(L, -2) == LUA_TSTRING ? json_object_get(data, lua_tostring(L, -2)) : NULL;
		int ok = 0;
		if (got) {
			if (lua_istable(L, -1) && json_is_object(got)) {
				ok = data_matches(L, lua_gettop(L), got);
			} else {
				json_t *want = to_json(L, -1, 0, err, sizeof err);
				ok = want && json_equal(want, got);
				json_decref(want);
			}
		}
		lua_pop(L, 1);
		if (!ok) {
			lua_pop(L, 1);
			return 0;
		}
	}
	return 1;
}

struct evmatch {
	lua_State *L;
	const char *name;
	int data_idx;   /* 0: any data */
};

static int ev_match(json_t *ev, void *ctx)
{
	struct evmatch *m = ctx;
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (!name || strcmp(name, m->name))
		return 0;
	return !m->data_idx || data_matches(m->L, m->data_idx, json_object_get(ev, "data"));
}

/* nil, Timeout "no event 'DEVICE_DELETED' with data {"device":"vd0"}
 * within 5 s": the event and the data it waited for (data at 4).
 * Stack: 1 self, 2 name, 3 options, 4 data (or nil), 5 state. */
static int event_expire(lua_State *L, struct wait *w)
{
	char secs[32], err[64];
	snprintf(secs, sizeof secs, "%g", w->timeout);
	json_t *data = lua_isnil(L, 4) ? NULL : to_json(L, 4, 0, err, sizeof err);
	char *text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(data);
	lqmp_push_error(L, "Timeout", "no event '%s'%s%.800s within %s s", lua_tostring(L, 2), text ? " with data " : "",
	           text ? text : "", secs);
	free(text);
	return 2;
}

static void event_what(lua_State *L, struct wait *w)
{
	lua_pushfstring(L, "QMP: event '%s'", lua_tostring(L, 2));
}

/* qmp:wait_event(name [, {timeout = s, data = {...}}]) -> event | nil, err:
 * takes the first matching event (older or newer), leaving the others. */
static int wait_event_step(lua_State *L, struct wait *w)
{
	struct lqmp_ctx c;
	get(L, 1, &c);
	struct evmatch m = { L, lua_tostring(L, 2), lua_isnil(L, 4) ? 0 : 4 };
	char why[600];
	json_t *ev = qmp_take_event_if(c.q, ev_match, &m);
	if (ev) {
		push_event(L, ev);
		json_decref(ev);
		return 1;
	}
	const char *d = dead(&c, why, sizeof why);
	if (d)
		return lqmp_push_error(L, "Disconnected", "%s while waiting for event '%s'", d, m.name);
	return 0;
}

static int m_wait_event(lua_State *L)
{
	static const struct wait_ops ops = { wait_event_step, event_expire, event_what };
	struct lqmp_ctx c;
	get(L, 1, &c);
	luaL_checkstring(L, 2);
	double timeout = opt_timeout(L, 3, QLUA_QMP_TIMEOUT, "qmp.wait_event");
	lua_settop(L, 3);
	if (!lua_isnil(L, 3))
		lua_getfield(L, 3, "data");
	else
		lua_pushnil(L);
	if (!lua_isnil(L, 4))
		luaL_checktype(L, 4, LUA_TTABLE);
	return wait_run(L, &qwait_new(L, &ops, "wait_event", timeout, 1)->w);  /* 5 */
}

/* The greeting's wait (qmp:greeting, qemu.qmp_connect): until the channel
 * is ready. */
static int greeting_expire(lua_State *L, struct wait *w)
{
	return lqmp_push_error(L, "Timeout", "no QMP greeting within the timeout (%s)", w->name);
}

static void greeting_what(lua_State *L, struct wait *w)
{
	lua_pushliteral(L, "QMP: the greeting");
}

/* qmp:greeting([{timeout}]) -> QEMU's greeting ({ QMP = { version = ... } })
 * Stack: 1 self, 2 options, 3 state. */
static int greeting_step(lua_State *L, struct wait *w)
{
	struct lqmp_ctx c;
	get(L, 1, &c);
	json_t *g = qmp_greeting(c.q);
	if (g) {
		push_json(L, g, 0);
		json_decref(g);
		return 1;
	}
	return ready_now(L, &c, "greeting") < 0 ? 2 : 0;
}

static int m_greeting(lua_State *L)
{
	static const struct wait_ops ops = { greeting_step, greeting_expire, greeting_what };
	struct lqmp_ctx c;
	get(L, 1, &c);
	double timeout = opt_timeout(L, 2, QLUA_QMP_TIMEOUT, "qmp.execute");
	lua_settop(L, 2);
	return wait_run(L, &qwait_new(L, &ops, "greeting", timeout, 1)->w);  /* 3 */
}

/* qmp:log(path): every message in and out, with a timestamp, appended to path */
static int m_log(lua_State *L)
{
	struct lqmp_ctx c;
	get(L, 1, &c);
	const char *path = luaL_checkstring(L, 2);
	int e = qmp_log(c.q, path);
	if (e)
		return luaL_error(L, "cannot open '%s': %s", path, strerror(e));
	return 0;
}

static int m_close(lua_State *L)
{
	struct lqmp *o = checkqmp(L, 1);
	if (o->own) {
		qmp_free(o->own);
		o->own = NULL;
		o->vmref = NULL;
		/* a closed qemu.qmp_connect object raises on use, like a closed file */
		lua_pushnil(L);
		lua_setiuservalue(L, 1, 1);
	}
	return 0;
}

static int m_tostring(lua_State *L)
{
	struct lqmp *o = checkqmp(L, 1);
	lua_pushfstring(L, "qemu.qmp(%s)", o->own ? "connected" : o->vmref ? "vm" : "closed");
	return 1;
}

/* qemu.qmp_connect(path [, {timeout}]) -> qmp | nil, err: attaches to any
 * running QEMU's QMP socket, negotiated and ready.
 * Stack: 1 path, 2 options, 3 the object, 4 state. */
static int connect_step(lua_State *L, struct wait *w)
{
	struct lqmp_ctx c;
	wget(L, w, &c);
	int r = ready_now(L, &c, "qmp_connect");
	if (r < 0)
		return 2;
	if (r == 0)
		return 0;
	lua_pushvalue(L, ((struct qwait *)w)->self);
	return 1;
}

static int l_connect(lua_State *L)
{
	static const struct wait_ops ops = { connect_step, greeting_expire, greeting_what };
	const char *path = luaL_checkstring(L, 1);
	double timeout = opt_timeout(L, 2, QLUA_QMP_TIMEOUT, "qmp.execute");
	lua_settop(L, 2);
	struct lqmp *o = lua_newuserdatauv(L, sizeof *o, 1);  /* 3 */
	o->own = NULL;
	o->vmref = NULL;
	luaL_setmetatable(L, QMP_MT);
	if (!(o->own = qmp_connect(path)))
		return lqmp_push_error(L, "Disconnected", "cannot connect to '%s': %s", path, strerror(errno));
	return wait_run(L, &qwait_new(L, &ops, "qmp_connect", timeout, 3)->w);  /* 4 */
}

void lqmp_push_for_vm(lua_State *L, int vm_idx, struct vm **ref)
{
	struct lqmp *o = lua_newuserdatauv(L, sizeof *o, 1);
	o->own = NULL;
	o->vmref = ref;
	luaL_setmetatable(L, QMP_MT);
	lua_pushvalue(L, vm_idx);  /* keeps the handle (and its vm) alive */
	lua_setiuservalue(L, -2, 1);
}

/* Pushes j as JSON text (jansson's flags), and drops j. */
static int push_dumped(lua_State *L, json_t *j, size_t flags)
{
	char *text = json_dumps(j, flags);
	json_decref(j);
	if (!text)
		return luaL_error(L, "out of memory");
	lua_pushstring(L, text);
	free(text);
	return 1;
}

/* __tostring of the tables from JSON: the JSON text, keys sorted, on one
 * line with a space after each ':' and ',' (readable, and valid JSON). */
static int json_tostring(lua_State *L)
{
	char err[200];
	json_t *j = to_json(L, 1, 0, err, sizeof err);
	if (!j) {  /* changed since into something JSON cannot hold */
		lua_pushfstring(L, "%s: %p (%s)", luaL_optstring(L, lua_upvalueindex(1), "table"), lua_topointer(L, 1), err);
		return 1;
	}
	return push_dumped(L, j, JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* qemu.json(value) -> JSON text (compact, keys sorted: stable output for
 * reports and --list) */
static int l_json(lua_State *L)
{
	char err[200];
	luaL_checkany(L, 1);
	json_t *j = to_json(L, 1, 0, err, sizeof err);
	if (!j)
		return luaL_argerror(L, 1, err);
	return push_dumped(L, j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* qemu.json_decode(text) -> value | nil, message: JSON text (jansson's
 * parser, any value at the top) as Lua data, the way QMP replies come back:
 * objects and arrays are tables, null is qemu.null. */
static int l_json_decode(lua_State *L)
{
	size_t n;
	const char *text = luaL_checklstring(L, 1, &n);
	json_error_t err;
	json_t *j = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!j) {
		lua_pushnil(L);
		lua_pushfstring(L, "invalid JSON at line %d, column %d: %s", err.line, err.column, err.text);
		return 2;
	}
	push_json(L, j, 0);
	json_decref(j);
	return 1;
}

static int m_gc(lua_State *L)
{
	struct lqmp *o = checkqmp(L, 1);
	if (o->own) {
		qmp_free(o->own);
		o->own = NULL;
	}
	return 0;
}

/* The __index of the QMP methods table until qemu.qmp is loaded: the
 * named wrappers (vm.qmp:status(), ...) work without require "qemu.qmp".
 * The first name the table lacks loads the module, which adds them all;
 * the metatable goes first, so the module's own look-ups are plain. */
static int methods_index(lua_State *L)
{
	lua_pushnil(L);
	lua_setmetatable(L, 1);
	lua_getglobal(L, "require");
	lua_pushliteral(L, "qemu.qmp");
	lua_call(L, 1, 0);
	lua_pushvalue(L, 2);
	lua_rawget(L, 1);
	return 1;
}

void lqmp_register(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "close", m_close }, { "events", m_events }, { "execute", m_execute }, { "getfd", m_getfd },
		{ "greeting", m_greeting }, { "log", m_log }, { "wait_event", m_wait_event }, { NULL, NULL },
	};
	if (luaL_newmetatable(L, QMP_MT)) {
		luaL_newlib(L, methods);
		lua_createtable(L, 0, 1);
		lua_pushcfunction(L, methods_index);
		lua_setfield(L, -2, "__index");
		lua_setmetatable(L, -2);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, m_gc);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, m_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	/* qemu.qmp_methods: what require "qemu.qmp" adds its wrappers to (set
	 * on every load of the module: a Lua state may load it twice); until
	 * then, a name it lacks loads qemu.qmp first (see methods_index) */
	lua_getfield(L, -1, "__index");
	lua_setfield(L, -3, "qmp_methods");
	lua_pop(L, 1);
	static const char *const json_mts[] = { JSON_OBJECT_MT, JSON_ARRAY_MT };
	for (int i = 0; i < 2; i++) {
		if (luaL_newmetatable(L, json_mts[i])) {
			lua_pushstring(L, json_mts[i]);
			lua_pushcclosure(L, json_tostring, 1);
			lua_setfield(L, -2, "__tostring");
		}
		lua_pop(L, 1);
	}
	if (luaL_newmetatable(L, ERROR_MT)) {
		lua_pushcfunction(L, error_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
	lua_pushcfunction(L, l_connect);
	lua_setfield(L, -2, "qmp_connect");
	lua_pushcfunction(L, l_json);
	lua_setfield(L, -2, "json");
	lua_pushcfunction(L, l_json_decode);
	lua_setfield(L, -2, "json_decode");
	lua_pushlightuserdata(L, &null_key);
	lua_setfield(L, -2, "null");
}
