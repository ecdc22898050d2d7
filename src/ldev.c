/* ldev.c - device values.  A constructor checks its table completely and
 * returns a read-only userdata holding the checked record (for rendering)
 * and, in its user values, the values as given (for Lua to read back, and
 * to keep alive the strings the record points into). */
#include "ldev.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "arena.h"
#include "check.h"
#include "options.h"
#include "types.h"

static struct ldev *checkdev(lua_State *L, int idx)
{
	if (!ldev_test(L, idx))
		luaL_checkudata(L, idx, QLUA_DEVICE_MT);  /* raises, in Lua's words */
	return lua_touserdata(L, idx);
}

/* How many user values a device value of kind k has: one for each field
 * whose value is kept as Lua holds it, and qemu.device{}'s free
 * properties.  Counted once per kind. */
static int user_values(const struct kind *k)
{
	int nuv = k->open;
	const struct field *fs = kind_fields(k);
	for (int f = 0; f < k->nfields; f++)
		nuv += field_types[fs[f].type].kept != KEEP_NONE;  /* a user value each */
	if (k->state)
		k->state->nuv = (unsigned short)(nuv + 1);
	return nuv;
}

/* qemu.<kind>{...}: upvalue 1 is the kind, 2 the module state, 3 the
 * device metatable. */
static int l_construct(lua_State *L)
{
	const struct kind *k = lua_touserdata(L, lua_upvalueindex(1));
	struct ldev_state *st = lua_touserdata(L, lua_upvalueindex(2));
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	int nuv = k->state && k->state->nuv ? k->state->nuv - 1 : user_values(k);
	char where[80];
	ck_where(L, 1, where, sizeof where);
	size_t wn = strlen(where) + 1;
	/* The record and its strings in the userdata, which must be made
	 * before the check: room for the largest one of its kind so far and a
	 * little, or for the first one, 16 bytes of strings a field.  When it
	 * takes more, the check is made again in a userdata as big as it took
	 * (the first one is garbage: nothing else points to it), and the kind
	 * remembers, so that devices much like it are checked once: a chardev
	 * of a script with a long path was checked twice every time.  A
	 * device four times the first guess is not remembered (one long
	 * string must not make every later device large). */
	size_t guess = sizeof(struct rec) + k->nfields * (sizeof(struct qval) + 16) + 64;
	size_t mem = (k->state && k->state->room ? k->state->room + 32u : guess) + wn;
	for (;;) {
		arena_reset(&st->scratch);
		struct ldev *d = lua_newuserdatauv(L, sizeof *d + mem, nuv);  /* 2 */
		struct arena a;
		d->r = NULL;
		d->propslot = nuv;
		arena_init(&a, d->mem, mem);
		a.spill = &st->scratch;
		lua_pushvalue(L, lua_upvalueindex(3));
		lua_setmetatable(L, 2);
		if (k->open) {
			lua_newtable(L);  /* qemu.device{}: the free properties by name */
			lua_setiuservalue(L, 2, nuv);
		}
		struct ck c = { .L = L, .a = &a, .where = where, .ctx = k->name, .anchor = 2,
		                .st = st, .devmt = st->mt, .tmp = &st->scratch, .copy = 1,
		                .propslot = nuv };
		struct rec *r = check_record(&c, 1, k);
		char *w = arena_alloc_raw(&a, wn);
		if (!a.spilled) {
			r->where = memcpy(w, where, wn);
			d->r = r;
			size_t used = (size_t)(a.p - d->mem) - wn;
			if (k->state && used > k->state->room && used <= 4 * guess && used < 65536)
				k->state->room = (unsigned short)used;
			lua_settop(L, 2);
			return 1;
		}
		mem += a.spilled + 64;
		lua_settop(L, 1);
	}
}

/* Pushes field f of a device as its record holds it: given (a string,
 * boolean, integer or enum: what is not kept in a user value), or a
 * default applied (set == 2, which may be def_alt); nil for a section of
 * a device, which is not read back. */
static void push_field(lua_State *L, const struct rec *r, int f)
{
	const struct field *fl = &kind_fields(r->k)[f];
	const struct field_type *t = &field_types[fl->type];
	if (t->push)
		t->push(L, fl, &r->v[f]);
	else
		lua_pushnil(L);
}

/* dev.field: the value as given (from the record, or the user value that
 * keeps it; qemu.device{} properties under their own name), else the
 * default. */
static int l_index(lua_State *L)
{
	struct ldev *d = checkdev(L, 1);
	size_t n;
	const char *key = lua_tolstring(L, 2, &n);
	int f = key ? schema_field(d->r->k, key, n) : -1;
	if (f >= 0 && d->r->v[f].uv) {
		lua_getiuservalue(L, 1, d->r->v[f].uv);
	} else if (f >= 0 && d->r->v[f].set == 1) {
		push_field(L, d->r, f);
		return 1;
	} else if (f < 0 && d->r->k->open) {
		lua_getiuservalue(L, 1, d->propslot);
		lua_pushvalue(L, 2);
		lua_rawget(L, -2);
	} else {
		lua_pushnil(L);
	}
	if (!lua_isnil(L, -1)) {
		if (lua_istable(L, -1)) {
			/* a copy: device values are read-only all the way down */
			lua_newtable(L);
			lua_pushnil(L);
			while (lua_next(L, -3)) {
				lua_pushvalue(L, -2);
				lua_insert(L, -2);
				lua_rawset(L, -4);
			}
		}
		return 1;
	}
	if (f >= 0 && d->r->v[f].set == 2)
		push_field(L, d->r, f);
	else
		lua_pushnil(L);
	return 1;
}

static int l_newindex(lua_State *L)
{
	struct ldev *d = checkdev(L, 1);
	return luaL_error(L, "%s: field '%s' cannot be changed (device values are read-only; "
	                  "build a new one)", d->r->k->name, luaL_tolstring(L, 2, NULL));
}

/* pairs(dev): the fields as given, plus defaults, in a fresh table. */
static int l_pairs(lua_State *L)
{
	struct ldev *d = checkdev(L, 1);
	lua_getglobal(L, "next");
	lua_newtable(L);
	const struct field *fs = kind_fields(d->r->k);
	for (int f = 0; f < d->r->k->nfields; f++) {
		if (!d->r->v[f].set)
			continue;
		lua_pushcfunction(L, l_index);
		lua_pushvalue(L, 1);
		lua_pushstring(L, fs[f].name);
		lua_call(L, 2, 1);
		lua_setfield(L, -2, fs[f].name);
	}
	for (int p = 0; p < d->r->nprops; p++) {
		lua_getiuservalue(L, 1, d->propslot);
		lua_getfield(L, -1, d->r->props[p].key);
		lua_setfield(L, -3, d->r->props[p].key);
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	return 3;
}

static int l_tostring(lua_State *L)
{
	struct ldev *d = checkdev(L, 1);
	int id = schema_cf(d->r->k, CF_ID);
	if (id >= 0 && d->r->v[id].set)
		lua_pushfstring(L, "qemu.%s(%s)", d->r->k->name, d->r->v[id].u.str.s);
	else
		lua_pushfstring(L, "qemu.%s(%p)", d->r->k->name, (void *)d);
	return 1;
}

/* qemu.kind(v): the kind name of a device value, or nil. */
static int l_kind(lua_State *L)
{
	struct rec *r = ldev_test(L, 1);
	if (r)
		lua_pushstring(L, r->k->name);
	else
		lua_pushnil(L);
	return 1;
}

/* qemu.kinds(): the device kinds, sorted. */
static int l_kinds(lua_State *L)
{
	lua_newtable(L);
	for (int i = 0; schema_devices[i]; i++) {
		lua_pushstring(L, schema_devices[i]->name);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

const char *ldev_closest_kind(const char *name)
{
	const char *v[256];
	int n = 0;
	for (int i = 0; schema_devices[i] && n < 256; i++)
		v[n++] = schema_devices[i]->name;
	const struct field *vf = kind_fields(&schema_vm);
	for (int i = 0; i < schema_vm.nfields && n < 256; i++)
		if (vf[i].sub)
			v[n++] = vf[i].name;
	for (int i = 0; schema_device_sections[i] && n < 256; i++)
		v[n++] = schema_device_sections[i]->name;
	for (int i = 0; options_kinds[i] && n < 256; i++)
		v[n++] = options_kinds[i]->name;
	return ck_closest(name, ck_array_name, v, n);
}

/* qemu.describe(kind): the schema of a device kind or VM section. */
static int l_describe(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct kind *k = schema_find(name);
	if (!k)
		k = options_find(name);  /* a table of named options (options.h) */
	if (!k) {
		const char *s = ldev_closest_kind(name);
		if (s)
			return luaL_argerror(L, 1, lua_pushfstring(L, "unknown kind '%s' (did you mean '%s'?)", name, s));
		return luaL_argerror(L, 1, lua_pushfstring(L, "unknown kind '%s'", name));
	}
	lua_createtable(L, 0, 4);
	lua_pushstring(L, k->name);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, k->doc);
	lua_setfield(L, -2, "doc");
	lua_pushboolean(L, k->is_device);
	lua_setfield(L, -2, "device");
	lua_createtable(L, k->nfields, 0);
	const struct field *fs = kind_fields(k);
	for (int i = 0; i < k->nfields; i++) {
		const struct field *f = &fs[i];
		lua_createtable(L, 0, 8);
		lua_pushstring(L, f->name);
		lua_setfield(L, -2, "name");
		lua_pushstring(L, type_name(f));
		lua_setfield(L, -2, "type");
		lua_pushboolean(L, f->flags & F_REQ);
		lua_setfield(L, -2, "required");
		if (f->def) {
			type_push_default(L, f);
			lua_setfield(L, -2, "default");
		}
		if (f->choices) {
			lua_newtable(L);
			for (int c = 0; f->choices[c]; c++) {
				lua_pushstring(L, f->choices[c]);
				lua_rawseti(L, -2, c + 1);
			}
			lua_setfield(L, -2, "choices");
		}
		if (f->type == T_UINT || f->type == T_UINTS) {  /* a list's range is each element's */
			lua_pushinteger(L, f->min);
			lua_setfield(L, -2, "min");
			lua_pushinteger(L, field_max(f));
			lua_setfield(L, -2, "max");
		}
		for (int w = 0; w < 2; w++) {
			const struct when *wh = w ? &f->req : &f->only;
			if (!wh->values)
				continue;
			lua_newtable(L);
			lua_pushstring(L, kind_fields(k)[(int)wh->field].name);
			lua_setfield(L, -2, "field");
			lua_newtable(L);
			for (int c = 0; wh->values[c]; c++) {
				lua_pushstring(L, wh->values[c]);
				lua_rawseti(L, -2, c + 1);
			}
			lua_setfield(L, -2, "values");
			lua_setfield(L, -2, w ? "required_when" : "only_when");
		}
		if (f->sub) {
			lua_pushstring(L, f->sub->name);
			lua_setfield(L, -2, "section");
		}
		lua_pushstring(L, f->doc ? f->doc : "");
		lua_setfield(L, -2, "doc");
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "fields");
	if (k->tr) {
		/* the device names per transport: { pci = ..., mmio = ..., ccw = ... },
		 * or by the value of the field that picks the row */
		lua_newtable(L);
		for (int row = 0; row < k->ntr; row++) {
			lua_newtable(L);
			for (int t = 0; t < TR_COUNT; t++)
				if (k->tr[row].name[t]) {
					lua_pushstring(L, k->tr[row].name[t]);
					lua_setfield(L, -2, transport_names[t]);
				}
			if (k->ntr > 1)
				lua_setfield(L, -2, kind_fields(k)[k->tr_by].choices[row]);
		}
		if (k->ntr > 1) {
			lua_pushstring(L, kind_fields(k)[k->tr_by].name);
			lua_setfield(L, -2, "by");
		} else {
			lua_remove(L, -2);
		}
		lua_setfield(L, -2, "transports");
	}
	return 1;
}

void ldev_register(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{ "__index", l_index }, { "__newindex", l_newindex },
		{ "__pairs", l_pairs }, { "__tostring", l_tostring }, { NULL, NULL },
	};
	static const luaL_Reg funcs[] = {
		{ "describe", l_describe }, { "kind", l_kind }, { "kinds", l_kinds }, { NULL, NULL },
	};
	luaL_setfuncs(L, funcs, 0);
	luaL_newmetatable(L, QLUA_DEVICE_MT);
	luaL_setfuncs(L, meta, 0);
	struct ldev_state *st = ldev_state_open(L);
	st->mt = lua_topointer(L, -1);
	int mt = lua_gettop(L);
	for (int i = 0; schema_devices[i]; i++) {
		lua_pushlightuserdata(L, (void *)schema_devices[i]);
		lua_pushlightuserdata(L, st);
		lua_pushvalue(L, mt);
		lua_pushcclosure(L, l_construct, 3);
		lua_setfield(L, mt - 1, schema_devices[i]->name);
	}
	lua_pop(L, 1);
}
