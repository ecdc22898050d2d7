/* lconsole.c - a captured console from Lua (vm.console, with console =
 * "capture"): expect (Lua patterns or plain text), expect_line, send, read,
 * tail, log, matched_at.  The bytes are
 * kept by console.c; waiting is the event loop. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "console.h"
#include "lconsole.h"
#include "loop.h"
#include "lwait.h"
#include "options.h"
#include "vm.h"

#define CONSOLE_MT "qemu.console"

struct lcon {
	struct vm **vmref;   /* the handle's vm (user value 1 keeps the handle alive) */
};

static struct vm *getvm(lua_State *L)
{
	struct lcon *o = luaL_checkudata(L, 1, CONSOLE_MT);
	if (!*o->vmref)
		luaL_error(L, "the VM handle of this console was released");
	return *o->vmref;
}

/* How a wait on the console describes what it waits for, in timeout
 * messages and to a matrix runner: "'QLUA-GUEST-READY' (plain text)",
 * "a line with '^ok' (Lua pattern)".  Control characters in the pattern
 * are shown as escapes, so the message stays on one line. */
#define X_PLAIN 1   /* the text as it is, no pattern */
#define X_LINE 2    /* expect_line: whole lines only */

static void push_what(lua_State *L, int pat, int flags)
{
	size_t n;
	const char *s = lua_tolstring(L, pat, &n);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	if (flags & X_LINE)
		luaL_addstring(&b, "a line with ");
	luaL_addchar(&b, '\'');
	for (size_t i = 0; i < n && i < 200; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];
		if (ch == '\n')
			luaL_addstring(&b, "\\n");
		else if (ch == '\r')
			luaL_addstring(&b, "\\r");
		else if (ch == '\t')
			luaL_addstring(&b, "\\t");
		else if (ch < 32 || ch == 127) {
			snprintf(esc, sizeof esc, "\\%u", ch);
			luaL_addstring(&b, esc);
		} else
			luaL_addchar(&b, (char)ch);
	}
	luaL_addstring(&b, n > 200 ? "...' (" : "' (");
	luaL_addstring(&b, flags & X_PLAIN ? "plain text)" : "Lua pattern)");
	luaL_pushresult(&b);
}

#define TAIL_LINES 5      /* what a timeout shows of the console */
#define TAIL_WIDTH 160    /* bytes of each line shown */
#define TAIL_BYTES 16384  /* how far back it looks */

/* Pushes the last n lines the console received (the last one perhaps not
 * finished yet), each on its own line with prefix before it, carriage
 * returns dropped, other control characters shown as '?', long lines cut
 * at TAIL_WIDTH bytes with "...".  "" when the console printed nothing. */
static void push_tail(lua_State *L, struct console *c, int nlines, const char *prefix)
{
	uint64_t from = c->total > TAIL_BYTES ? c->total - TAIL_BYTES : 0;
	size_t n;
	uint64_t start;
	char *text = console_text(c, from, &n, &start);
	if (!text)
		luaL_error(L, "out of memory");
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	size_t end = n;
	if (end > 0 && text[end - 1] == '\n')
		end--;  /* the newline that ends the last line starts no new one */
	/* a line cut by how far back this looks is left out (unless it is all) */
	size_t first = 0;
	const char *nl = start > 0 ? memchr(text, '\n', end) : NULL;
	if (nl)
		first = (size_t)(nl - text) + 1;
	/* back from the end to where the last nlines lines begin */
	size_t begin = end;
	for (int got = 1;; got++) {
		while (begin > first && text[begin - 1] != '\n')
			begin--;
		if (got == nlines || begin <= first)
			break;
		begin--;  /* onto the newline that ends the line before */
	}
	for (size_t i = begin; n > 0;) {
		size_t j = i;
		while (j < end && text[j] != '\n')
			j++;
		luaL_addstring(&b, prefix);
		size_t shown = 0;
		for (size_t k = i; k < j; k++) {
			unsigned char ch = (unsigned char)text[k];
			if (ch == '\r')
				continue;
			if (shown == TAIL_WIDTH) {
				luaL_addstring(&b, "...");
				break;
			}
			luaL_addchar(&b, (ch < 32 && ch != '\t') || ch == 127 ? '?' : (char)ch);
			shown++;
		}
		if (j >= end)
			break;
		luaL_addchar(&b, '\n');
		i = j + 1;
	}
	free(text);
	luaL_pushresult(&b);
}

/* nil, "timeout after 5 s waiting for 'X' (plain text); the console's last
 * lines:\n  ...": what it waited for and what came instead. */
static int push_timeout(lua_State *L, struct console *c, int pat, double timeout, int flags)
{
	char secs[32];
	snprintf(secs, sizeof secs, "%g", timeout);
	lua_pushnil(L);
	push_what(L, pat, flags);
	push_tail(L, c, TAIL_LINES, "  ");
	if (lua_rawlen(L, -1) == 0)
		lua_pushfstring(L, "timeout after %s s waiting for %s; the console printed nothing", secs,
		                lua_tostring(L, -2));
	else
		lua_pushfstring(L, "timeout after %s s waiting for %s; the console's last lines:\n%s", secs,
		                lua_tostring(L, -2), lua_tostring(L, -1));
	lua_replace(L, -3);
	lua_pop(L, 1);
	return 2;
}

/* string.find (upvalue 1) on the string at the top, with the pattern at 2
 * and plain or not: pushes its results (start, end, captures...), the
 * string itself popped.  Returns how many. */
static int find(lua_State *L, int flags)
{
	int top = lua_gettop(L) - 1;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, -2);
	lua_pushvalue(L, 2);
	lua_pushinteger(L, 1);
	lua_pushboolean(L, flags & X_PLAIN);
	lua_call(L, 4, LUA_MULTRET);
	return lua_gettop(L) - top;
}

/* The text from the expect mark: one search (expect), or the complete
 * lines not looked at yet, one by one (expect_line).  Returns the number
 * of results pushed (0: no match yet). */
static int look(lua_State *L, struct console *c, struct wait *w, int flags)
{
	size_t n;
	uint64_t start;
	char *text = console_text(c, c->expect_mark, &n, &start);
	if (!text)
		return luaL_error(L, "out of memory");
	int base = lua_gettop(L);
	if (!(flags & X_LINE)) {
		/* Lua's own patterns, captures and all: start, end, captures */
		lua_pushlstring(L, text, n);
		find(L, flags);
		if (!lua_isnil(L, base + 1)) {
			lua_Integer s = lua_tointeger(L, base + 1), e = lua_tointeger(L, base + 2);
			c->expect_mark = start + (uint64_t)e;
			if (c->matched_at == 0)
				c->matched_at = loop_now();
			lua_pushlstring(L, text + s - 1, (size_t)(e - s + 1));
			free(text);
			lua_replace(L, base + 2);   /* the matched text where 'end' was, */
			lua_remove(L, base + 1);    /* then the captures */
			return lua_gettop(L) - base;
		}
		free(text);
		lua_settop(L, base);
		return 0;
	}
	/* w->id: where the lines not looked at yet begin (absolute) */
	if (w->id < start)
		w->id = start;
	for (;;) {
		size_t from = (size_t)(w->id - start);
		const char *nl = memchr(text + from, '\n', n - from);
		if (!nl)
			break;  /* no whole line yet: a line still coming is not matched */
		size_t len = (size_t)(nl - (text + from));
		while (len > 0 && text[from + len - 1] == '\r')
			len--;
		w->id = start + (uint64_t)(nl - text) + 1;
		lua_pushlstring(L, text + from, len);
		find(L, flags);
		if (!lua_isnil(L, base + 1)) {
			c->expect_mark = w->id;
			if (c->matched_at == 0)
				c->matched_at = loop_now();
			lua_pushlstring(L, text + from, len);
			free(text);
			lua_replace(L, base + 2);   /* the line where 'end' was, */
			lua_remove(L, base + 1);    /* then the captures */
			return lua_gettop(L) - base;
		}
		lua_settop(L, base);
	}
	free(text);
	return 0;
}

/* console:expect(pattern [, timeout] [, options]) -> the matched text (and
 * captures), or nil, "timeout after ...", or nil, "closed (...)" when QEMU
 * exited or the console ended first.  Matching starts where the last match
 * ended.  console:expect_line the same, for one whole line: the line (and
 * captures).
 * Stack: 1 self, 2 pattern, 3 the wait's state. */
struct expect_state {
	struct wait w;
	int flags;
};

static int expect_step(lua_State *L, struct wait *w)
{
	struct vm *v = getvm(L);
	struct console *c = v->console;
	int flags = ((struct expect_state *)w)->flags;
	if (w->phase == 0 || c->total != w->seen) {  /* new text: look for the pattern */
		if (w->phase == 0)
			w->id = c->expect_mark;
		w->phase = 1;
		w->seen = c->total;
		int r = look(L, c, w, flags);
		if (r > 0)
			return r;
	}
	if (c->eof && !v->exited)
		vm_wait(v, loop_deadline(0.5));  /* the console ending is QEMU exiting: say how */
	if (c->eof || v->exited) {
		char st[32];
		lua_pushnil(L);
		lua_pushfstring(L, "closed (%s; QEMU %s)", c->eof ? "console ended" : "console open",
		                vm_status_text(v, st, sizeof st));
		return 2;
	}
	return 0;
}

static int expect_expire(lua_State *L, struct wait *w)
{
	return push_timeout(L, getvm(L)->console, 2, w->timeout, ((struct expect_state *)w)->flags);
}

static void expect_what(lua_State *L, struct wait *w)
{
	push_what(L, 2, ((struct expect_state *)w)->flags);
}

/* The arguments of expect and expect_line: (pattern [, timeout]
 * [, options]) or (pattern, options), options { timeout = s, plain = b }. */
static int start_expect(lua_State *L, int flags)
{
	getvm(L);
	luaL_checkstring(L, 2);
	double timeout = QLUA_EXPECT_TIMEOUT;
	int opts = 0;
	if (lua_type(L, 3) == LUA_TTABLE) {
		if (!lua_isnoneornil(L, 4))
			return luaL_argerror(L, 4, "nothing expected after the options");
		opts = 3;
	} else {
		timeout = luaL_optnumber(L, 3, QLUA_EXPECT_TIMEOUT);
		if (!lua_isnoneornil(L, 4)) {
			luaL_checktype(L, 4, LUA_TTABLE);
			opts = 4;
		}
	}
	if (opts) {  /* its record in options.c */
		const struct rec *r = options_check(L, opts, options_find("console.expect"));
		const struct qval *t = &r->v[schema_field(r->k, "timeout", 7)];
		if (t->set && opts == 4)
			return luaL_argerror(L, opts, "field 'timeout': the timeout was given before the options");
		if (t->set)
			timeout = t->u.num;
		if (r->v[schema_field(r->k, "plain", 5)].u.i)
			flags |= X_PLAIN;
		lua_pop(L, 1);  /* the record's arena */
	}
	if (!(timeout >= 0))
		return luaL_argerror(L, 3, "timeout must not be negative");
	static const struct wait_ops ops = { expect_step, expect_expire, expect_what };
	lua_settop(L, 2);
	struct expect_state *e = (struct expect_state *)wait_new(L, sizeof *e, &ops,
	                                                         flags & X_LINE ? "expect_line" : "expect", timeout);
	e->flags = flags;
	return wait_run(L, &e->w);
}

static int m_expect(lua_State *L)
{
	return start_expect(L, 0);
}

static int m_expect_line(lua_State *L)
{
	return start_expect(L, X_LINE);
}

/* console:tail([n]) -> the last n (default 5) lines the console received,
 * as one string (lines joined by "\n", carriage returns dropped): what a
 * timeout shows, for messages of one's own. */
static int m_tail(lua_State *L)
{
	struct vm *v = getvm(L);
	lua_Integer n = luaL_optinteger(L, 2, TAIL_LINES);
	luaL_argcheck(L, n >= 1 && n <= 1000, 2, "a number of lines from 1 to 1000 expected");
	loop_round(0);  /* takes in what is pending, no wait */
	push_tail(L, v->console, (int)n, "");
	return 1;
}

/* console:send(text) -> true | nil, err */
static int m_send(lua_State *L)
{
	struct vm *v = getvm(L);
	size_t n;
	const char *s = luaL_checklstring(L, 2, &n);
	if (console_send(v->console, s, n) < 0) {
		lua_pushnil(L);
		lua_pushliteral(L, "console closed");
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* console:read() -> what arrived since the last read (without waiting) */
static int m_read(lua_State *L)
{
	struct vm *v = getvm(L);
	struct console *c = v->console;
	loop_round(0);  /* a deadline already past: takes in what is pending, no wait */
	size_t n;
	uint64_t start;
	char *text = console_text(c, c->read_mark, &n, &start);
	if (!text)
		return luaL_error(L, "out of memory");
	c->read_mark = start + n;
	lua_pushlstring(L, text, n);
	free(text);
	return 1;
}

/* console:matched_at() -> the qemu.now() time when an expect or
 * expect_line on this console first matched, or nil: how long a guest took
 * to its first marker (a matrix report's boot-to-marker time). */
static int m_matched_at(lua_State *L)
{
	struct vm *v = getvm(L);
	if (v->console->matched_at == 0)
		lua_pushnil(L);
	else
		lua_pushnumber(L, v->console->matched_at);
	return 1;
}

/* console:log(path): everything so far and from now on, appended to path */
static int m_log(lua_State *L)
{
	struct vm *v = getvm(L);
	const char *path = luaL_checkstring(L, 2);
	int e = console_log(v->console, path);
	if (e)
		return luaL_error(L, "cannot open '%s': %s", path, strerror(e));
	return 0;
}

static int m_tostring(lua_State *L)
{
	lua_pushliteral(L, "qemu.console");
	return 1;
}

static void set_console_mt(lua_State *L);

void lconsole_push_for_vm(lua_State *L, int vm_idx, struct vm **ref)
{
	struct lcon *o = lua_newuserdatauv(L, sizeof *o, 1);
	o->vmref = ref;
	set_console_mt(L);
	lua_pushvalue(L, vm_idx);
	lua_setiuservalue(L, -2, 1);
}

/* Where lconsole_register keeps string.find for the consoles' methods. */
#define FIND_KEY "qlua.console.find"

/* Sets the consoles' metatable on the value on top, making it with the
 * first console: a dry run or a script without a VM does not pay for it. */
static void set_console_mt(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "expect", m_expect }, { "expect_line", m_expect_line }, { "log", m_log }, { "matched_at", m_matched_at },
		{ "read", m_read },
		{ "send", m_send }, { "tail", m_tail }, { NULL, NULL },
	};
	if (luaL_newmetatable(L, CONSOLE_MT)) {
		luaL_newlib(L, methods);
		/* expect and expect_line search with string.find (upvalue 1) */
		lua_getfield(L, LUA_REGISTRYINDEX, FIND_KEY);
		lua_pushvalue(L, -1);
		lua_pushcclosure(L, m_expect, 1);
		lua_setfield(L, -3, "expect");
		lua_pushcclosure(L, m_expect_line, 1);
		lua_setfield(L, -2, "expect_line");
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, m_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_setmetatable(L, -2);
}

void lconsole_register(lua_State *L)
{
	/* expect and expect_line search with string.find as the module found
	 * it, though their metatable is made with the first console */
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "find");
	lua_setfield(L, LUA_REGISTRYINDEX, FIND_KEY);
	lua_pop(L, 1);
}
