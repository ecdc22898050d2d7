/* check.c - see check.h.  Walks the user's table (so unknown keys are
 * caught), then the schema (so missing ones are), then the kind's own rules.
 * Each value is checked by its type's row (types.c); lists, records, the
 * order of faults and the messages' paths are here.
 * Messages follow Lua's grammar: lower case, names in single quotes, detail
 * in parentheses, no final period. */
#include "check.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "buses.h"
#include "lvalue.h"
#include "values.h"

/* ---- raising ------------------------------------------------------------ */

/* (luaL_where's Lua string costs more than the rest of a small constructor.) */
void ck_where(lua_State *L, int level, char *buf, size_t n)
{
	lua_Debug ar;
	buf[0] = '\0';
	if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
		return;
	/* by hand: snprintf was most of a small constructor's cost */
	char num[32], *p = val_digits(num, (unsigned long long)ar.currentline);
	size_t src = strlen(ar.short_src), digits = num + sizeof num - p;
	if (src + digits + 4 > n)
		return;
	memcpy(buf, ar.short_src, src);
	buf[src] = ':';
	memcpy(buf + src + 1, p, digits);
	memcpy(buf + src + 1 + digits, ": ", 3);
}

void ck_raise(struct ck *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char where[256];
	if (!c->where && c->where_level) {
		/* the Lua line that is building, still running: looked up only now */
		ck_where(c->L, c->where_level, where, sizeof where);
		c->where = where;
	}
	/* A C buffer, not lua_pushvfstring: it knows no %lld and no precision. */
	if (c->dev)
		lua_pushfstring(c->L, "%sdevices[%d] (%s): %s", c->where, c->devindex, c->dev->k->name, msg);
	else if (c->ctx)
		lua_pushfstring(c->L, "%s%s: %s", c->where ? c->where : "", c->ctx, msg);
	else
		lua_pushfstring(c->L, "%s%s", c->where ? c->where : "", msg);
	lua_error(c->L);
	abort(); /* not reached */
}

/* "field 'memory.size': <detail>" */
static void field_fail(struct ck *c, const char *name, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
static void field_fail(struct ck *c, const char *name, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ck_raise(c, "field '%s%s': %s", c->path, name, msg);
}

const char *ck_prefix(const struct ck *c)
{
	return c->path;
}

void ck_fail(struct ck *c, const char *field, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (field)
		ck_raise(c, "field '%s%s': %s", c->path, field, msg);
	ck_raise(c, "%s", msg);
}

/* The name Lua would give the value at idx ("qemu.fd", "number", ...). */
static const char *tname(lua_State *L, int idx)
{
	int t = luaL_getmetafield(L, idx, "__name");
	if (t == LUA_TSTRING) {
		const char *s = lua_tostring(L, -1);
		lua_pop(L, 1); /* the metatable keeps the string alive */
		return s;
	}
	if (t != LUA_TNIL)
		lua_pop(L, 1);
	return luaL_typename(L, idx);
}

void ck_expected(struct ck *c, const char *name, const char *what, int idx)
{
	field_fail(c, name, "%s expected, got %s", what, tname(c->L, idx));
}

/* ---- did you mean ---------------------------------------------------------- */

static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	int d[41][41];
	for (size_t i = 0; i <= la; i++) d[i][0] = i;
	for (size_t j = 0; j <= lb; j++) d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int sub = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			int m = sub < del ? sub : del;
			d[i][j] = m < ins ? m : ins;
			/* a transposition ("fiel" / "flie") counts as one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1;
		}
	return d[la][lb];
}

const char *ck_closest(const char *name, const char *(*get)(void *ctx, int i), void *ctx, int n)
{
	const char *best = NULL;
	int bestd = 99;
	size_t len = strlen(name);
	for (int i = 0; i < n; i++) {
		int dd = distance(name, get(ctx, i));
		if (dd < bestd) {
			bestd = dd;
			best = get(ctx, i);
		}
	}
	int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	if (bestd <= limit)
		return best;
	/* govmm's abbreviations: 'mac' for 'mac_address' */
	for (int i = 0; len >= 3 && i < n; i++)
		if (!strncmp(get(ctx, i), name, len) && get(ctx, i)[len] == '_')
			return get(ctx, i);
	return NULL;
}

const char *ck_array_name(void *ctx, int i)
{
	return ((const char *const *)ctx)[i];
}

static const char *field_name(void *ctx, int i)
{
	return kind_fields(ctx)[i].name;
}

/* The closest field name, when it is close enough to be a typo. */
static const char *suggest(const struct kind *k, const char *name)
{
	return ck_closest(name, field_name, (void *)k, k->nfields);
}

static const char *list_item(void *ctx, int i)
{
	lua_State *L = ctx;
	lua_rawgeti(L, 2, i + 1);
	const char *s = lua_tostring(L, -1);  /* the list keeps it alive */
	lua_pop(L, 1);
	return s ? s : "";
}

/* qemu.suggest(name, names) -> the name of the list closest to name when it
 * is close enough to be a typo, or nil: the Lua library's "did you mean",
 * the same as the constructors'. */
int ck_l_suggest(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	int n = (int)lua_rawlen(L, 2);
	for (int i = 1; i <= n; i++) {
		lua_rawgeti(L, 2, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_argerror(L, 2, "a list of strings expected");
		lua_pop(L, 1);
	}
	const char *s = ck_closest(name, list_item, L, n);
	if (s)
		lua_pushstring(L, s);
	else
		lua_pushnil(L);
	return 1;
}

/* ---- lists and the order of faults ------------------------------------------ */

/* Which fault is reported must not depend on Lua's table order: it changes
 * with a table's size and insertion order, and from run to run, since Lua
 * seeds its string hashes.  So the walks below remember the first key by
 * this order instead of raising at the first key they meet. */
static int key_rank(int t)
{
	return t == LUA_TSTRING ? 0 : t == LUA_TNUMBER ? 1 : t == LUA_TBOOLEAN ? 2 : 3;
}

/* Does the key at a come before the one at b (nil: none yet)?  Strings
 * first, by their bytes; then numbers, the smallest first; then booleans;
 * then the first other key met (tables and functions have no order). */
static int key_before(lua_State *L, int a, int b)
{
	int ta = lua_type(L, a), tb = lua_type(L, b);
	if (tb == LUA_TNIL)
		return 1;
	if (key_rank(ta) != key_rank(tb))
		return key_rank(ta) < key_rank(tb);
	switch (ta) {
	case LUA_TSTRING: {
		size_t na, nb;
		const char *sa = lua_tolstring(L, a, &na), *sb = lua_tolstring(L, b, &nb);
		int d = memcmp(sa, sb, na < nb ? na : nb);
		return d < 0 || (d == 0 && na < nb);
	}
	case LUA_TNUMBER:
		return lua_compare(L, a, b, LUA_OPLT);  /* numbers: no metamethod runs */
	case LUA_TBOOLEAN:
		return !lua_toboolean(L, a) && lua_toboolean(L, b);
	default:
		return 0;
	}
}

/* A string key, in the order key_before gives strings. */
struct keyref {
	const char *s;
	size_t n;
	int pos;        /* stack index of the key; its value is at pos + 1 */
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int d = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
	return d ? d : (x->n > y->n) - (x->n < y->n);
}

/* Appends a key to v (grown in the arena). */
static struct keyref *keyref_add(struct arena *a, struct keyref *v, int *n, int *cap, const char *s, size_t len, int pos)
{
	if (*n == *cap)
		v = arena_grow(a, v, *n, cap, sizeof *v, 8);
	v[(*n)++] = (struct keyref){ s, len, pos };
	return v;
}

static int is_identifier(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

/* The list `name` has the key at `key` that is no index 1..n: says which,
 * as the user would write it.  A section where a list of sections is
 * expected (qmp = { path = ... }) gets the braces it misses. */
static void list_key_fail(struct ck *c, const char *name, int key, lua_Integer nindex, const struct kind *sub)
{
	lua_State *L = c->L;
	if (lua_type(L, key) == LUA_TSTRING) {
		size_t n;
		const char *s = lua_tolstring(L, key, &n);
		if (sub && !nindex && schema_field(sub, s, n) >= 0)
			field_fail(c, name, "list expected (got a table with key '%s': did you mean %s%s = { { %s = ... } }?)",
			           s, c->path, name, s);
		if (is_identifier(s, n))
			field_fail(c, name, "list expected (key '%s' is not a list index: %s%s.%s)", s, c->path, name, s);
		field_fail(c, name, "list expected (key '%s' is not a list index: %s%s['%s'])", s, c->path, name, s);
	}
	if (lua_type(L, key) == LUA_TNUMBER || lua_type(L, key) == LUA_TBOOLEAN) {
		const char *s = luaL_tolstring(L, key, NULL);
		field_fail(c, name, "list expected (key %s is not a list index: %s%s[%s])", s, c->path, name, s);
	}
	field_fail(c, name, "list expected (a %s key is not a list index)", tname(L, key));
}

/* The length of the list at idx; raises unless it is a table with keys
 * 1..n only, naming the fault: a key that is no index (the first by
 * key_before), else the first hole.  sub: the kind of the list's items,
 * when they are sections. */
int ck_list(struct ck *c, const char *name, int idx, int allow_empty, const struct kind *sub)
{
	lua_State *L = c->L;
	if (!lua_istable(L, idx))
		ck_expected(c, name, "table", idx);
	idx = lua_absindex(L, idx);
	luaL_checkstack(L, 4, NULL);
	lua_Integer count = 0, max = 0;
	lua_pushnil(L);   /* the first key that is no index */
	int bad = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		lua_Integer i = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
		if (i >= 1) {
			count++;
			if (i > max)
				max = i;
		} else if (key_before(L, -1, bad)) {
			lua_copy(L, -1, bad);
		}
	}
	if (!lua_isnil(L, bad))
		list_key_fail(c, name, bad, count, sub);
	lua_pop(L, 1);
	if (count != max) {
		/* the first index missing, then the first one set after it (by a
		 * walk: the largest index may be far) */
		lua_Integer hole = 1, next = max;
		while (lua_rawgeti(L, idx, hole) != LUA_TNIL) {
			lua_pop(L, 1);
			hole++;
		}
		lua_pop(L, 1);
		lua_pushnil(L);
		while (lua_next(L, idx)) {
			lua_pop(L, 1);
			lua_Integer i = lua_tointeger(L, -1);
			if (i > hole && i < next)
				next = i;
		}
		field_fail(c, name, "list expected (%s%s[%lld] is nil but %s%s[%lld] is set)", c->path, name,
		           (long long)hole, c->path, name, (long long)next);
	}
	if (!max && !allow_empty)
		field_fail(c, name, "empty list (leave the field out instead)");
	return (int)max;
}

/* ---- one value ------------------------------------------------------------- */

/* Keeps the value at idx alive in the anchor, the device userdata, and
 * remembers which user value holds it (v->uv): only values a device
 * cannot give back from its record (descriptors, lists, tables, numbers
 * given as text: types.c's column `kept`); strings, booleans and integers
 * are read back from the record itself (ldev.c).  Free properties of
 * qemu.device{} go by name into the table in user value c->propslot. */
static void keep(struct ck *c, struct qval *v, int idx)
{
	if (c->anchor) {
		lua_pushvalue(c->L, idx);
		v->uv = (unsigned char)++c->nslot;
		lua_setiuservalue(c->L, c->anchor, v->uv);
	}
}

void ck_keep(struct ck *c, struct qval *v, int idx)
{
	keep(c, v, idx);
}

/* The same for a value built at the top of the stack (popped). */
void ck_keep_top(struct ck *c, struct qval *v)
{
	v->uv = (unsigned char)++c->nslot;
	lua_setiuservalue(c->L, c->anchor, v->uv);
}

/* The key at idx - 1 and the value at idx (idx < 0). */
static void keep_prop(struct ck *c, int idx)
{
	if (c->anchor) {
		lua_getiuservalue(c->L, c->anchor, c->propslot);
		lua_pushvalue(c->L, idx - 2);
		lua_pushvalue(c->L, idx - 2);
		lua_rawset(c->L, -3);
		lua_pop(c->L, 1);
	}
}

/* Checks the value at idx for field f and fills v, by its type's row
 * (types.c).  `name` is the field's name as it appears in messages
 * (relative to c->path). */
static void check_value(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	const struct field_type *t = &field_types[f->type];
	v->set = 1;
	t->check(c, f, name, idx, v);
	if (t->kept == KEEP_GIVEN)
		keep(c, v, idx);
}

/* Fills one property from the key at -2 and value at -1. */
static void check_prop(struct ck *c, const char *name, struct prop *p)
{
	lua_State *L = c->L;
	char el[128];
	if (lua_type(L, -2) != LUA_TSTRING)
		field_fail(c, name, "property names must be strings, got %s", luaL_typename(L, -2));
	size_t kn;
	const char *k = lua_tolstring(L, -2, &kn);
	snprintf(el, sizeof el, "%s%s%s", name, *name ? "." : "", k);
	if (!val_propname(k, kn)) {
		if (*name)
			field_fail(c, name, "invalid property name '%s' (expected a letter, then letters, digits, '-', '.' or '_')", k);
		ck_raise(c, "invalid property name '%s' (expected a letter, then letters, digits, '-', '.' or '_')", k);
	}
	p->key = k;
	switch (lua_type(L, -1)) {
	case LUA_TBOOLEAN:
		p->val = lua_toboolean(L, -1) ? "on" : "off";
		p->len = strlen(p->val);
		break;
	case LUA_TNUMBER: {
		char num[64];
		if (lua_isinteger(L, -1))
			snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, -1));
		else
			snprintf(num, sizeof num, "%.17g", (double)lua_tonumber(L, -1));
		p->len = strlen(num);
		p->val = arena_strndup(c->a, num, p->len);
		break;
	}
	case LUA_TSTRING:
		p->val = type_checkstr(c, el, -1, &p->len, 0);
		p->is_str = 1;
		break;
	default:
		field_fail(c, el, "string, number or boolean expected, got %s", tname(L, -1));
	}
}

/* The string keys of the table at idx, sorted, each pushed with its value
 * (keyref.pos); raises for a key that is no string (the first by
 * key_before).  *n gets their count. */
static struct keyref *sorted_pairs(struct ck *c, const char *name, int idx, int *n)
{
	lua_State *L = c->L;
	struct keyref *keys = NULL;
	int cap = 0;
	*n = 0;
	luaL_checkstack(L, 4, NULL);
	lua_pushnil(L);   /* the first key that is no string */
	int bad = lua_gettop(L);
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		luaL_checkstack(L, 4, NULL);
		if (lua_type(L, -2) != LUA_TSTRING) {
			if (key_before(L, -2, bad))
				lua_copy(L, -2, bad);
			lua_pop(L, 1);
			continue;
		}
		size_t kn;
		const char *k = lua_tolstring(L, -2, &kn);
		lua_pushvalue(L, -2);  /* key, value, key: the pair stays */
		keys = keyref_add(c->tmp ? c->tmp : c->a, keys, n, &cap, k, kn, lua_gettop(L) - 2);
	}
	if (!lua_isnil(L, bad))
		field_fail(c, name, "property names must be strings, got %s", luaL_typename(L, bad));
	if (*n)
		qsort(keys, *n, sizeof *keys, keyref_cmp);
	return keys;
}

void ck_props(struct ck *c, const char *name, int idx, struct qval *v)
{
	lua_State *L = c->L;
	if (!lua_istable(L, idx))
		ck_expected(c, name, "table", idx);
	idx = lua_absindex(L, idx);
	int base = lua_gettop(L), n;
	/* sorted before they are checked: the first bad one is always the same */
	struct keyref *keys = sorted_pairs(c, name, idx, &n);
	v->u.props.v = arena_alloc(c->a, (n + 1) * sizeof *v->u.props.v);
	if (c->anchor)
		lua_createtable(L, 0, n);
	for (int i = 0; i < n; i++) {
		lua_pushvalue(L, keys[i].pos);
		lua_pushvalue(L, keys[i].pos + 1);
		check_prop(c, name, &v->u.props.v[i]);
		if (c->anchor)
			lua_rawset(L, -3);
		else
			lua_pop(L, 2);
	}
	if (c->anchor)
		ck_keep_top(c, v);
	lua_settop(L, base);
	v->u.props.n = n;
}

/* ---- one record ------------------------------------------------------------ */

/* "type 'pcie'" for messages about a when-rule. */
static const char *when_text(const struct rec *r, const struct when *w, char *buf, size_t n)
{
	const struct field *wf = &kind_fields(r->k)[(int)w->field];
	const struct qval *v = &r->v[(int)w->field];
	snprintf(buf, n, "%s '%s'", wf->name, v->set ? wf->choices[v->u.i] : "(unset)");
	return buf;
}

/* "driver 'nvdimm'", "type 'macvtap' or 'ipvtap'": the values a rule needs. */
static const char *when_needs(const struct rec *r, const struct when *w, char *buf, size_t n)
{
	size_t len = snprintf(buf, n, "%s ", kind_fields(r->k)[(int)w->field].name);
	for (int i = 0; w->values[i] && len < n; i++)
		len += snprintf(buf + len, n - len, "%s'%s'", i == 0 ? "" : w->values[i + 1] ? ", " : " or ",
		                w->values[i]);
	return buf;
}

/* Applies a field's default, as if the user had written it (by its type's
 * row: types.c). */
static void apply_default(struct ck *c, const struct rec *r, const struct field *f, struct qval *v)
{
	const char *def = f->def_alt && schema_when(r, &f->def_when) ? f->def_alt : f->def;
	const struct field_type *t = &field_types[f->type];
	if (!t->def)
		return; /* other types carry no default */
	t->def(f, def, v);
	v->set = 2;
}

struct rec *check_record(struct ck *c, int idx, const struct kind *k)
{
	lua_State *L = c->L;
	struct rec *r = arena_alloc(c->a, sizeof *r + k->nfields * sizeof r->v[0]);
	r->k = k;
	r->where = "";
	idx = lua_absindex(L, idx);
	/* each field's value stays on the stack with its key (at most
	 * nfields pairs), so does each free property of qemu.device{}; and
	 * the three slots below */
	luaL_checkstack(L, 2 * k->nfields + 11, NULL);

	/* Pass 1: every key the user wrote must be a field (or, for
	 * qemu.device{}, a free property).  The values stay on the stack and
	 * are checked after the walk, in schema order: which fault is reported
	 * must not depend on Lua's table order (see key_before). */
	int base = lua_gettop(L), nextra = 0, cap = 0;
	struct arena *tmp = c->tmp ? c->tmp : c->a;  /* what dies with the check */
	/* The fields given, as a bit set (bit f of word f / 64), and the stack
	 * index of each one's value: the passes below walk the bits, in the
	 * schema's order, instead of every field of the kind. */
	uint64_t given[SCHEMA_FIELD_WORDS] = { 0 };
	int pos[64 * SCHEMA_FIELD_WORDS];  /* read only where its bit is set */
	struct keyref *extra = NULL;
	lua_pushnil(L);   /* base + 1: the first key that is no string */
	lua_pushnil(L);   /* base + 2: the first unknown name */
	lua_pushnil(L);
	int below = base + 2;  /* the slots under the key lua_next is given */
	int badkey = 0, unknown = 0;  /* whether base + 1, base + 2 hold one */
	while (lua_next(L, idx)) {
		if (k->open)
			luaL_checkstack(L, 4, NULL);
		if (lua_type(L, -2) != LUA_TSTRING) {
			if (key_before(L, -2, base + 1))
				lua_copy(L, -2, base + 1);
			badkey = 1;
			lua_pop(L, 1);
			continue;
		}
		size_t kl;
		const char *key = lua_tolstring(L, -2, &kl);
		int fi = c->st ? schema_field_lua(c->st->names, k, key) : -2;
		if (fi == -2) {  /* a name met for the first time */
			fi = schema_field(k, key, kl);
			if (fi >= 0 && c->st)
				ldev_intern(L, c->st, -2, k, fi);
		}
		if (fi >= 0) {
			/* key, value, key: the pair stays (cheaper than moving the
			 * value under its key, which lua_next takes back) */
			lua_pushvalue(L, -2);
			pos[fi] = below + 2;
			below += 2;
			given[(unsigned)fi / 64] |= 1ull << ((unsigned)fi % 64);
		} else if (k->open) {
			lua_pushvalue(L, -2);  /* key, value, key: the pair stays */
			extra = keyref_add(tmp, extra, &nextra, &cap, key, kl, below + 1);
			below += 2;
		} else {
			if (key_before(L, -2, base + 2))
				lua_copy(L, -2, base + 2);
			unknown = 1;
			lua_pop(L, 1);
		}
	}
	if (badkey) {
		int kt = lua_type(L, base + 1);
		const char *key = luaL_tolstring(L, base + 1, NULL);
		ck_raise(c, "field names must be strings, got %s %s%s", lua_typename(L, kt), key,
		         kt == LUA_TNUMBER ? " (fields are named: write key = value)" : "");
	}
	if (unknown) {
		const char *key = lua_tostring(L, base + 2);
		const char *s = suggest(k, key);
		if (s)
			ck_raise(c, "unknown field '%s%s' (did you mean '%s'?)", c->path, key, s);
		ck_raise(c, "unknown field '%s%s'", c->path, key);
	}
	const struct field *fs = kind_fields(k);
	int words = (k->nfields + 63) / 64;  /* the bit set's words in use */
	for (int w = 0; w < words; w++)
		for (uint64_t b = given[w]; b; b &= b - 1) {
			int i = w * 64 + __builtin_ctzll(b);
			check_value(c, &fs[i], fs[i].name, pos[i], &r->v[i]);
		}

	/* Pass 2: the schema: requirements, fields that exist only for some
	 * types, defaults.  What it asks of a field given is whether it may be
	 * there (`only`), of one left out whether it must be or has a default
	 * (the kind's rules): the others have nothing to check here.  The rest
	 * go in order (a default can decide whether a later field exists). */
	const struct kind_facts *facts = kind_facts(k);
	for (int w = 0; w < words; w++) {
		uint64_t todo = facts ? (given[w] & facts->limited[w]) | (facts->rules[w] & ~given[w]) : given[w];
		for (uint64_t b = todo; b; b &= b - 1) {
			int i = w * 64 + __builtin_ctzll(b);
			const struct field *f = &fs[i];
			char why[160];
			if (r->v[i].set && !schema_when(r, &f->only)) {
				if (!r->v[(int)f->only.field].set)
					ck_raise(c, "field '%s%s' is only used with %s", c->path, f->name,
					         when_needs(r, &f->only, why, sizeof why));
				ck_raise(c, "field '%s%s' is not used with %s", c->path, f->name,
				         when_text(r, &f->only, why, sizeof why));
			}
			if (!r->v[i].set) {
				if (f->flags & F_REQ)
					ck_raise(c, "field '%s%s' is required", c->path, f->name);
				if (f->req.values && schema_when(r, &f->req))
					ck_raise(c, "field '%s%s' is required with %s", c->path, f->name,
					         when_text(r, &f->req, why, sizeof why));
				/* (a kind's driver with transports has a default only
				 * through def_alt: otherwise render_driver picks it) */
				if ((f->def || (f->def_alt && schema_when(r, &f->def_when))) && schema_when(r, &f->only))
					apply_default(c, r, f, &r->v[i]);
			}
		}
	}

	/* qemu.device{}: the free properties, sorted (so the output is stable,
	 * and so is the first fault). */
	if (nextra) {
		qsort(extra, nextra, sizeof *extra, keyref_cmp);
		r->props = arena_alloc(c->a, nextra * sizeof *r->props);
		for (int i = 0; i < nextra; i++) {
			lua_pushvalue(L, extra[i].pos);
			lua_pushvalue(L, extra[i].pos + 1);
			check_prop(c, "", &r->props[r->nprops++]);
			keep_prop(c, -1);
			lua_pop(L, 2);
		}
	}
	lua_settop(L, base);

	if (k->check)
		k->check(c, r);
	return r;
}

/* ---- the whole description ------------------------------------------------- */

struct decl {
	unsigned char ns;
	const char *id;
	size_t n;
	int dev;       /* 1-based index in devices; 0: a section of the VM */
	int generic;   /* a qemu.device{}: it may provide buses we cannot know */
	const char *sec;  /* dev 0: the section entry that declares it ("iothreads[1]") */
};

struct decls {
	struct decl *v;
	int n, cap;
};

static void declare(struct ck *c, struct decls *d, int ns, const char *id, size_t n, int dev, int generic)
{
	if (d->n == d->cap)
		d->v = arena_grow(c->a, d->v, d->n, &d->cap, sizeof *d->v, 32);
	d->v[d->n++] = (struct decl){ ns, id, n, dev, generic, NULL };
}

static const struct decl *lookup(const struct decls *d, int ns, const char *id, size_t n)
{
	for (int i = 0; i < d->n; i++)
		if (d->v[i].ns == ns && d->v[i].n == n && !memcmp(d->v[i].id, id, n))
			return &d->v[i];
	return NULL;
}

/* Buses the machine itself may provide, when qlua does not know its type
 * (see machine_buses): any machine's root and controller buses. */
static int builtin_bus(const char *s)
{
	static const char *const prefixes[] = { "pci.", "pcie.", "ide.", "isa.", "usb-bus.", "virtio-mmio-bus.", NULL };
	for (int i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		if (!strncmp(s, prefixes[i], n) && s[n]) {
			const char *p = s + n;
			while (isdigit((unsigned char)*p))
				p++;
			if (!*p)
				return 1;
		}
	}
	return !strcmp(s, "main-system-bus");
}

/* The machine of the description, for bus= (check_ref). */
struct machine {
	const char *type;                     /* NULL: not given */
	const char *buses[MACHINE_BUSES_MAX];
	int n;                                /* -1: a type qlua does not know */
};

static void machine_of(const struct rec *vm, struct machine *m)
{
	int mf = schema_cf(vm->k, CF_MACHINE);
	const struct rec *ma = mf >= 0 && vm->v[mf].set ? vm->v[mf].u.rec : NULL;
	int tf = ma ? schema_cf(ma->k, CF_TYPE) : -1, of = ma ? schema_cf(ma->k, CF_OPTIONS) : -1;
	const struct qval *opts = of >= 0 && ma->v[of].set ? &ma->v[of] : NULL;
	m->type = tf >= 0 && ma->v[tf].set ? ma->v[tf].u.str.s : NULL;
	m->n = machine_buses(m->type, opts ? opts->u.props.v : NULL, opts ? opts->u.props.n : 0, m->buses);
}

/* "'pcie.0', 'ide.0' to 'ide.5', 'isa.0'": the machine's buses, a run of
 * numbered ones as its ends. */
static size_t bus_list(char *buf, size_t size, const struct machine *m)
{
	size_t len = 0;
	for (int i = 0; i < m->n && len < size; i++) {
		const char *dot = strrchr(m->buses[i], '.');
		int j = i;
		/* the run "x.0", "x.1", ... "x.K" (the lists are in order) */
		while (dot && j + 1 < m->n && !strncmp(m->buses[j + 1], m->buses[i], dot - m->buses[i] + 1) &&
		       atoi(strrchr(m->buses[j + 1], '.') + 1) == atoi(strrchr(m->buses[j], '.') + 1) + 1)
			j++;
		if (j - i < 2)
			j = i;  /* two are listed as they are */
		if (j > i)
			len += snprintf(buf + len, size - len, "%s'%s' to '%s'", len ? ", " : "", m->buses[i], m->buses[j]);
		else
			len += snprintf(buf + len, size - len, "%s'%s'", len ? ", " : "", m->buses[i]);
		i = j;
	}
	return len < size ? len : size - 1;
}

/* The number a bus name ends with, or -1: "pcie.0" 0, "br1" 1, "br" -1. */
static long bus_number(const char *s)
{
	size_t n = strlen(s), i = n;
	while (i > 0 && isdigit((unsigned char)s[i - 1]))
		i--;
	return i < n && n - i < 9 ? strtol(s + i, NULL, 10) : -1;
}

/* A bus one edit away with the same number ("pci.0" for "pcie.0"), or
 * NULL: another number is another bus, not a typo ("ide.2" on pc is no
 * "ide.0", "br1" no "br0"), and two edits turn "ide.0" into "isa.0". */
static const char *bus_typo(const char *s, const struct decls *d, const struct machine *m)
{
	long num = bus_number(s);
	for (int i = 0; i < m->n; i++)
		if (distance(s, m->buses[i]) == 1 && bus_number(m->buses[i]) == num)
			return m->buses[i];
	for (int i = 0; i < d->n; i++)
		if (d->v[i].ns == NS_BUS && d->v[i].id[d->v[i].n] == '\0' && distance(s, d->v[i].id) == 1 &&
		    bus_number(d->v[i].id) == num)
			return d->v[i].id;
	return NULL;
}

/* "vm.lua:10: " without its ": ", for "at vm.lua:10". */
static int where_len(const char *w)
{
	size_t n = strlen(w);
	return n >= 2 && !strcmp(w + n - 2, ": ") ? (int)n - 2 : (int)n;
}

/* Sets c->where and c->ctx to blame device i; the context text is made
 * only when a message needs it (see ck_raise). */
static void blame(struct ck *c, const struct rec *d, int i)
{
	c->ctx = NULL;
	c->dev = d;
	c->devindex = i;
	c->where = d->where;
	c->path[0] = '\0';
}

static void check_ref(struct ck *c, const struct decls *d, const struct machine *m, int ns, const char *field,
                      const char *s, size_t n)
{
	if (lookup(d, ns, s, n))
		return;
	if (ns == NS_BUS) {
		if (m->n < 0 && builtin_bus(s))
			return;
		for (int i = 0; i < m->n; i++)
			if (strlen(m->buses[i]) == n && !memcmp(m->buses[i], s, n))
				return;
		/* "<id>" or "<id>.N" of a qemu.device{}: it may be a controller */
		const char *dot = memchr(s, '.', n);
		size_t idn = dot ? (size_t)(dot - s) : n;
		const struct decl *g = lookup(d, NS_DEVICE, s, idn);
		if (g && g->generic)
			return;
	}
	if (ns == NS_BUS && m->n >= 0) {
		/* A machine qlua knows: a typo of one of its buses or of the
		 * description's gets its name, else they are all listed. */
		char id[128];
		snprintf(id, sizeof id, "%.*s", (int)n, s);
		const char *near = bus_typo(id, d, m);
		if (near)
			ck_raise(c, "field '%s': no bus with id '%s' in this description nor on machine type '%s' "
			         "(did you mean '%s'?)", field, id, m->type, near);
	}
	/* Whole ids only (a cut one would read as another id), while 280 bytes
	 * stay free for "..." and the machine's buses (bus_list: at most ~100)
	 * or the bus note: snprintf returns what it would have written, so len
	 * must never be allowed past the buffer. */
	char known[600] = "";
	size_t len = 0;
	for (int i = 0; i < d->n; i++) {
		if (d->v[i].ns != ns)
			continue;
		if (len + 2 + d->v[i].n + 2 + 280 >= sizeof known) {
			len += snprintf(known + len, sizeof known - len, "%s...", len ? ", " : "");
			break;
		}
		len += snprintf(known + len, sizeof known - len, "%s'%.*s'", len ? ", " : "", (int)d->v[i].n, d->v[i].id);
	}
	if (ns == NS_BUS && m->n >= 0) {
		len += snprintf(known + len, sizeof known - len, "%s", len ? ", " : "");
		bus_list(known + len, sizeof known - len, m);
		ck_raise(c, "field '%s': no bus with id '%.*s' in this description nor on machine type '%s' (known: %s)",
		         field, (int)n, s, m->type, known);
	}
	if (ns == NS_BUS)
		len += snprintf(known + len, sizeof known - len, "%sthe machine's own such as 'pci.0' or 'pcie.0'", len ? ", or " : "");
	ck_raise(c, "field '%s': no %s with id '%.*s' in this description%s%s%s", field,
	         ns_names[ns], (int)n, s, len ? " (known: " : "", known, len ? ")" : "");
}

/* Property names of qemu.device{} that name another option's id. */
static int prop_ns(const char *key)
{
	static const struct { const char *key; int ns; } refs[] = {
		{ "netdev", NS_NETDEV }, { "chardev", NS_CHARDEV }, { "drive", NS_DRIVE },
		{ "memdev", NS_OBJECT }, { "fsdev", NS_FSDEV }, { "iothread", NS_OBJECT },
		{ "bus", NS_BUS },
	};
	for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
		if (!strcmp(refs[i].key, key))
			return refs[i].ns;
	return NS_NONE;
}

void check_vm(struct ck *c, const struct rec *vm)
{
	int devf = schema_cf(vm->k, CF_DEVICES);
	int have = devf >= 0 && vm->v[devf].set;
	struct rec *const *devs = have ? vm->v[devf].u.recs.v : NULL;
	int ndev = have ? vm->v[devf].u.recs.n : 0;
	struct decls d = { 0 };
	struct machine m;
	const char *where = c->where, *ctx = c->ctx;
	machine_of(vm, &m);

	/* Ids the VM's own sections declare (iothreads{ {id = ...} }): they
	 * share QEMU's namespaces with the devices' ids. */
	for (int s = 0; s < vm->k->nfields; s++) {
		const struct field *sf = &kind_fields(vm->k)[s];
		if (sf->type != T_RECS || !vm->v[s].set)
			continue;
		for (int j = 0; j < vm->v[s].u.recs.n; j++) {
			const struct rec *r = vm->v[s].u.recs.v[j];
			int nids;
			const signed char *ids = schema_ids(r->k, &nids);
			for (int x = 0; x < nids; x++) {
				const struct field *fl = &kind_fields(r->k)[ids[x]];
				const struct qval *v = &r->v[ids[x]];
				if (!v->set)
					continue;
				char *sec = arena_alloc(c->a, strlen(sf->name) + 16);
				sprintf(sec, "%s[%d]", sf->name, j + 1);
				const struct decl *old = lookup(&d, fl->ns, v->u.str.s, v->u.str.n);
				if (old)
					ck_raise(c, "field '%s.%s': duplicate %s id '%s' (%s has it too)", sec, fl->name,
					         ns_names[fl->ns], v->u.str.s, old->sec);
				declare(c, &d, fl->ns, v->u.str.s, v->u.str.n, 0, 0);
				d.v[d.n - 1].sec = sec;
			}
		}
	}

	/* Every id each device declares, once per namespace. */
	for (int i = 0; i < ndev; i++) {
		const struct rec *r = devs[i];
		int generic = r->k->open, nids;
		const signed char *ids = schema_ids(r->k, &nids);
		for (int x = 0; x < nids; x++) {
			int f = ids[x];
			const struct field *fl = &kind_fields(r->k)[f];
			const struct qval *v = &r->v[f];
			if (!v->set)
				continue;
			int ns = r->k->id_ns ? r->k->id_ns(r, f) : fl->ns;
			const struct decl *old = lookup(&d, ns, v->u.str.s, v->u.str.n);
			if (old && !old->dev) {
				blame(c, r, i + 1);
				ck_raise(c, "field '%s': duplicate %s id '%s' (%s has it too)", fl->name, ns_names[ns],
				         v->u.str.s, old->sec);
			}
			if (old) {
				blame(c, r, i + 1);
				const struct rec *o = devs[old->dev - 1];
				ck_raise(c, "field '%s': duplicate %s id '%s' (devices[%d] (%s)%s%.*s has it too)",
				         fl->name, ns_names[ns], v->u.str.s, old->dev, o->k->name,
				         *o->where ? " at " : "", where_len(o->where), o->where);
			}
			declare(c, &d, ns, v->u.str.s, v->u.str.n, i + 1, generic);
			if (fl->flags & F_BUS)
				declare(c, &d, NS_BUS, v->u.str.s, v->u.str.n, i + 1, 0);
			if (fl->flags & F_BUS0) {
				char *bus = arena_alloc(c->a, v->u.str.n + 3);
				memcpy(bus, v->u.str.s, v->u.str.n);
				memcpy(bus + v->u.str.n, ".0", 3);
				declare(c, &d, NS_BUS, bus, v->u.str.n + 2, i + 1, 0);
			}
		}
	}

	/* Every reference must name one of them. */
	for (int i = 0; i < ndev; i++) {
		const struct rec *r = devs[i];
		blame(c, r, i + 1);
		int nrefs;
		const signed char *refs = schema_refs(r->k, &nrefs);
		for (int x = 0; x < nrefs; x++) {
			const struct field *fl = &kind_fields(r->k)[refs[x]];
			if (r->v[refs[x]].set)
				check_ref(c, &d, &m, fl->ns, fl->name, r->v[refs[x]].u.str.s, r->v[refs[x]].u.str.n);
		}
		for (int p = 0; p < r->nprops; p++) {
			int ns = prop_ns(r->props[p].key);
			if (ns != NS_NONE)
				check_ref(c, &d, &m, ns, r->props[p].key, r->props[p].val, r->props[p].len);
		}
	}
	c->where = where;
	c->ctx = ctx;
	c->dev = NULL;
}
