/* types.c - see types.h: one row per field type, and the functions of
 * its columns.  The checks raise through check.c (ck_fail, ck_expected:
 * the field's path, the user's line) and walk lists and nested records
 * with it (ck_list, check_record); what is per type lives here.  Messages
 * follow Lua's grammar: lower case, names in single quotes, detail in
 * parentheses, no final period. */
#include "types.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lvalue.h"
#include "values.h"

/* ---- scalar checks --------------------------------------------------------- */

/* Does one of the n bytes at u stop a string (NUL, '\n', '\r')? */
static int byte_bad(const unsigned char *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (u[i] <= '\r' && (!u[i] || u[i] == '\n' || u[i] == '\r'))
			return 1;
	return 0;
}

/* Is there a byte below 14 in the 8 at u (read unaligned)?  Exact: no byte
 * that is not one gives a false yes. */
static int word_low(const unsigned char *u)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t w;
	memcpy(&w, u, 8);
	return ((w - 14 * ones) & ~w & (ones << 7)) != 0;
}

/* Does s hold a NUL, or (without TYPE_STR_LINES) a line break?  Every string
 * of a description goes through here: eight bytes at a time, the last
 * eight overlapping the ones before; a word with a byte below 14 (a tab,
 * say) is looked at byte by byte. */
static inline __attribute__((always_inline)) int str_bad(const char *s, size_t n, int allow)
{
	const unsigned char *u = (const unsigned char *)s;
	if (allow & TYPE_STR_LINES)
		return memchr(s, '\0', n) != NULL;
	if (n < 8)
		return byte_bad(u, n);
	for (size_t i = 0; i + 8 < n; i += 8)
		if (word_low(u + i) && byte_bad(u + i, 8))
			return 1;
	return word_low(u + n - 8) && byte_bad(u + n - 8, 8);
}

/* A string QEMU can be given: no NUL (argv cannot carry it), no newline
 * (QEMU's option parser and the kernel command line cannot take one).
 * allow: TYPE_STR_EMPTY, an empty string is fine; TYPE_STR_LINES, line
 * breaks are (F_TEXT: arguments of other programs). */
static const char *checkstr(struct ck *c, const char *name, int idx, size_t *len, int allow)
{
	if (lua_type(c->L, idx) != LUA_TSTRING)
		ck_expected(c, name, "string", idx);
	const char *s = lua_tolstring(c->L, idx, len);
	if (!(allow & TYPE_STR_EMPTY) && *len == 0)
		ck_fail(c, name, "empty string (leave the field out instead)");
	if (str_bad(s, *len, allow)) {
		/* which fault: a NUL anywhere before a line break anywhere */
		if (memchr(s, '\0', *len))
			ck_fail(c, name, "contains a NUL byte, which cannot be passed to QEMU");
		ck_fail(c, name, "contains a line break, which QEMU cannot take");
	}
	return s;
}

static long long checkint(struct ck *c, const char *name, int idx)
{
	int ok;
	lua_Integer v = lua_tointegerx(c->L, idx, &ok);
	if (lua_type(c->L, idx) != LUA_TNUMBER)
		ck_expected(c, name, "number", idx);
	if (!ok)
		ck_fail(c, name, "number has no integer representation");
	return v;
}

static unsigned long long checksize(struct ck *c, const char *name, int idx)
{
	if (lua_type(c->L, idx) == LUA_TNUMBER) {
		long long v = checkint(c, name, idx);
		if (v < 0)
			ck_fail(c, name, "size must not be negative (got %lld)", v);
		return v;
	}
	size_t n;
	unsigned long long v;
	const char *s = checkstr(c, name, idx, &n, 0);
	if (!val_size(s, n, &v))
		ck_fail(c, name, "invalid size '%s' (expected bytes, or a number with suffix K, M, G or T)", s);
	return v;
}

/* An integer slot, or "slot[.function]" in hex. */
static void checkpci(struct ck *c, const char *name, int idx, struct qval *v)
{
	if (lua_type(c->L, idx) == LUA_TNUMBER) {
		long long slot = checkint(c, name, idx);
		if (slot < 0 || slot > 0x1f)
			ck_fail(c, name, "PCI slot %lld is out of range (expected 0..31)", slot);
		v->u.pci.slot = slot;
		v->u.pci.fn = -1;
		return;
	}
	size_t n;
	const char *s = checkstr(c, name, idx, &n, 0);
	if (!val_pci(s, n, &v->u.pci.slot, &v->u.pci.fn))
		ck_fail(c, name, "invalid PCI address '%s' (expected slot[.function] in hex, slot 0..1f, function 0..7)", s);
}

static long long checkhex16(struct ck *c, const char *name, int idx)
{
	unsigned long v;
	if (lua_type(c->L, idx) == LUA_TNUMBER) {
		long long i = checkint(c, name, idx);
		if (i < 0 || i > 0xffff)
			ck_fail(c, name, "%lld is out of range (expected 0..0xffff)", i);
		return i;
	}
	size_t n;
	const char *s = checkstr(c, name, idx, &n, 0);
	if (!val_hex16(s, n, &v))
		ck_fail(c, name, "invalid PCI id '%s' (expected a 16-bit number like 0x8086)", s);
	return v;
}

static struct qfd *checkfd(struct ck *c, const char *name, int idx)
{
	struct qfd *fd = qfd_test(c->L, idx);
	if (!fd)
		ck_expected(c, name, "qemu.fd", idx);
	if (fd->fd < 0)
		ck_fail(c, name, "descriptor is closed");
	return fd;
}

/* (checkstr stays static so the checks here inline it: with -fPIC an
 * exported function is not inlined.) */
const char *type_checkstr(struct ck *c, const char *name, int idx, size_t *len, int allow)
{
	return checkstr(c, name, idx, len, allow);
}

/* ---- enumerations ------------------------------------------------------------ */

static void enum_fail(struct ck *c, const char *name, const char *s, const char *const *ch)
{
	char list[600];
	size_t len = 0;
	int n = 0;
	while (ch[n])
		n++;
	for (int i = 0; i < n && len < sizeof list - 64; i++)
		len += snprintf(list + len, sizeof list - len, "%s'%s'",
		                i == 0 ? "" : i == n - 1 ? " or " : ", ", ch[i]);
	ck_fail(c, name, "invalid option '%s' (expected %s)", s, list);
}

static int enum_index(const char *const *ch, const char *s)
{
	for (int i = 0; ch[i]; i++)
		if (!strcmp(ch[i], s))
			return i;
	return -1;
}

/* ---- strings of a fixed shape ------------------------------------------------ */

/* Strings of a fixed shape: the predicate (values.c) and what the message
 * says was expected. */
static const struct {
	int (*ok)(const char *s, size_t n);
	const char *what, *expected;
} shapes[T_NTYPES] = {
	[T_MAC] = { val_mac, "MAC address", "six hex octets like 52:54:00:12:34:56" },
	[T_UUID] = { val_uuid, "UUID", "8-4-4-4-12 hex digits" },
	[T_RTCBASE] = { val_rtcbase, "option", "'utc', 'localtime' or a date like 2006-06-17T16:01:21" },
	[T_BDF] = { val_bdf, "PCI host address", "[domain:]bus:device.function like 0000:01:00.0" },
	[T_DEVNO] = { val_devno, "ccw device number", "cssid.ssid.devno in hex like fe.0.0001: cssid 0..fe, "
	                                             "ssid 0..3, four digits" },
};

/* ---- helpers of the checks ---------------------------------------------------- */

/* A string of the record: a device's own copy (c->copy), else the Lua
 * string itself, which the description keeps alive while it is built. */
static const char *own(struct ck *c, const char *s, size_t n)
{
	return c->copy ? arena_strndup(c->a, s, n) : s;
}

/* "fds[2]": built only when a message needs it. */
static const char *elname(char *buf, size_t n, const char *name, int i)
{
	snprintf(buf, n, "%s[%d]", name, i);
	return buf;
}

/* A string checkstr() would accept, tested without raising. */
static int str_ok(lua_State *L, int idx, int allow)
{
	size_t n;
	if (lua_type(L, idx) != LUA_TSTRING)
		return 0;
	const char *s = lua_tolstring(L, idx, &n);
	return ((allow & TYPE_STR_EMPTY) || n) && !str_bad(s, n, allow);
}

/* c->path from plen on: "name[i]." (as snprintf would cut it, by hand:
 * every item of a list of sections comes here). */
static void record_path(struct ck *c, size_t plen, const char *name, int i)
{
	char num[16], *p = num + sizeof num;
	do
		*--p = (char)('0' + i % 10);
	while (i /= 10);
	size_t nn = strlen(name), dn = num + sizeof num - p, room = sizeof c->path - plen;
	if (nn + dn + 4 > room) {
		snprintf(c->path + plen, room, "%s[%.*s].", name, (int)dn, p);
		return;
	}
	char *o = c->path + plen;
	memcpy(o, name, nn);
	o[nn] = '[';
	memcpy(o + nn + 1, p, dn);
	memcpy(o + nn + 1 + dn, "].", 3);
}

/* ---- check: a Lua value into a qval ---------------------------------------------
 * Each checks the value at idx for field f and fills v (check_value has set
 * v->set); `name` is the field's name as messages give it (relative to
 * c->path).  A value kept as given (kept KEEP_GIVEN) is kept by check_value
 * afterwards; a check that makes a copy keeps it itself (KEEP_OWN). */

static void check_str(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	size_t n;
	const char *s = checkstr(c, name, idx, &n, (f->flags & F_EMPTY ? TYPE_STR_EMPTY : 0) |
	                                          (f->flags & F_TEXT ? TYPE_STR_LINES : 0));
	v->u.str.s = own(c, s, n), v->u.str.n = n;
}

static void check_name(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	size_t n;
	const char *s = checkstr(c, name, idx, &n, 0);
	if (!val_name(s, n))
		ck_fail(c, name, "invalid name '%s' (expected letters, digits, '_', '.', '+' or '-')", s);
	if (!strcmp(s, "help"))
		ck_fail(c, name, "'help' is not a name QEMU takes here (it would print a list instead)");
	v->u.str.s = own(c, s, n), v->u.str.n = n;
}

/* T_ID and T_REF: QEMU's id rules; an id declared may not be one of qlua's. */
static void check_id(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	size_t n = 0;
	const char *s = lua_type(c->L, idx) == LUA_TSTRING ? lua_tolstring(c->L, idx, &n) : NULL;
	/* An id has only letters, digits, '-', '.' and '_', so no NUL and no
	 * line break: a string that is an id needs no checkstr.  Any other
	 * goes through checkstr first, which names its first fault as ever. */
	if (!s || !val_id(s, n)) {
		s = checkstr(c, name, idx, &n, 0);
		ck_fail(c, name, "invalid id '%s' (QEMU ids start with a letter, then letters, digits, '-', '.' or '_')", s);
	}
	if (f->type == T_ID && n >= 5 && !memcmp(s, "qlua-", 5))
		ck_fail(c, name, "ids starting with 'qlua-' are reserved for qlua");
	v->u.str.s = own(c, s, n), v->u.str.n = n;
}

static void check_bool(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	if (!lua_isboolean(c->L, idx))
		ck_expected(c, name, "boolean", idx);
	v->u.i = lua_toboolean(c->L, idx);
}

static void check_uint(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	long long i = checkint(c, name, idx);
	long long max = field_max(f);
	if (i < f->min || i > max)
		ck_fail(c, name, "%lld is out of range (expected %lld..%lld)", i, f->min, max);
	v->u.i = i;
	v->isfloat = !lua_isinteger(c->L, idx);  /* read back as given: 2.0 stays a float */
}

static void check_size(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	v->u.size = checksize(c, name, idx);
}

static void check_enum(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	size_t n;
	const char *s = checkstr(c, name, idx, &n, 0);
	int e = enum_index(f->choices, s);
	if (e < 0)
		enum_fail(c, name, s, f->choices);
	v->u.i = e;
}

/* T_MAC, T_UUID, T_RTCBASE, T_BDF, T_DEVNO: by the shapes table. */
static void check_shape(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	size_t n;
	const char *s = checkstr(c, name, idx, &n, 0);
	if (!shapes[f->type].ok(s, n))
		ck_fail(c, name, "invalid %s '%s' (expected %s)", shapes[f->type].what, s, shapes[f->type].expected);
	v->u.str.s = own(c, s, n), v->u.str.n = n;
}

static void check_pciaddr(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	checkpci(c, name, idx, v);
}

static void check_hex16(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	v->u.i = checkhex16(c, name, idx);
}

static void check_fd(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	v->u.fd = checkfd(c, name, idx);
}

static void check_file(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	if (qfd_test(c->L, idx))
		v->u.str.fd = checkfd(c, name, idx);
	else if (lua_type(c->L, idx) == LUA_TSTRING)
		v->u.str.s = checkstr(c, name, idx, &v->u.str.n, 0);
	else
		ck_expected(c, name, "string or qemu.fd", idx);
}

/* A list a device keeps (fds, strings, integers) is copied as it is
 * checked: the user's list may change later.  With an anchor, copy_begin
 * pushes the copy, copy_item moves the element on top into it (else pops
 * it), copy_end hands the copy to the anchor. */
static void copy_begin(struct ck *c, int len)
{
	if (c->anchor)
		lua_createtable(c->L, len, 0);
}

static void copy_item(struct ck *c, int i)
{
	if (c->anchor)
		lua_rawseti(c->L, -2, i);
	else
		lua_pop(c->L, 1);
}

static void copy_end(struct ck *c, struct qval *v)
{
	if (c->anchor)
		ck_keep_top(c, v);
}

static void check_fds(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	lua_State *L = c->L;
	int len = ck_list(c, name, idx, 0, NULL);
	v->u.fds.v = arena_alloc(c->a, len * sizeof *v->u.fds.v);
	v->u.fds.n = len;
	copy_begin(c, len);
	for (int i = 1; i <= len; i++) {
		char el[64];
		lua_rawgeti(L, idx, i);
		struct qfd *fd = qfd_test(L, -1);
		if (!fd && lua_istable(L, -1)) {
			/* { qemu.tap(...) }: the list qemu.tap returns, inside a list */
			int inner = lua_rawgeti(L, -1, 1) != LUA_TNIL && qfd_test(L, -1);
			lua_pop(L, 1);
			if (inner)
				ck_fail(c, elname(el, sizeof el, name, i), "qemu.fd expected, got table (%s)",
				        strcmp(name, "fds") ? "a list inside the list" :
				        "qemu.tap returns a list already: write fds = qemu.tap(...)");
		}
		if (!fd || fd->fd < 0)
			checkfd(c, elname(el, sizeof el, name, i), lua_gettop(L)); /* raises */
		v->u.fds.v[i - 1] = fd;
		copy_item(c, i);
	}
	copy_end(c, v);
}

/* A string (kept as given) or a list of strings (kept as a copy). */
static void check_strs(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	lua_State *L = c->L;
	if ((f->flags & F_LIST) && !lua_istable(L, idx)) {
		if (lua_type(L, idx) == LUA_TSTRING)
			ck_fail(c, name, "list of strings expected, got string (one string per argument: "
			        "%s%s = { \"-m\", \"1G\" }, not \"-m 1G\")", c->path, name);
		ck_expected(c, name, "list of strings", idx);
	}
	if (lua_type(L, idx) == LUA_TSTRING) {
		v->u.strs.v = arena_alloc(c->a, sizeof *v->u.strs.v);
		v->u.strs.len = arena_alloc(c->a, sizeof *v->u.strs.len);
		v->u.strs.v[0] = checkstr(c, name, idx, &v->u.strs.len[0], 0);
		v->u.strs.n = 1;
		ck_keep(c, v, idx);
		return;
	}
	if (!lua_istable(L, idx))
		ck_expected(c, name, "string or list of strings", idx);
	int len = ck_list(c, name, idx, 1, NULL);
	v->u.strs.list = 1;
	v->u.strs.v = arena_alloc(c->a, (len + 1) * sizeof *v->u.strs.v);
	v->u.strs.len = arena_alloc(c->a, (len + 1) * sizeof *v->u.strs.len);
	v->u.strs.n = len;
	copy_begin(c, len);
	for (int i = 1; i <= len; i++) {
		char el[64];
		lua_rawgeti(L, idx, i);
		int how = TYPE_STR_EMPTY | (f->flags & F_TEXT ? TYPE_STR_LINES : 0);
		if (str_ok(L, -1, how))
			v->u.strs.v[i - 1] = lua_tolstring(L, -1, &v->u.strs.len[i - 1]);
		else
			checkstr(c, elname(el, sizeof el, name, i), lua_gettop(L), &v->u.strs.len[i - 1], how);
		copy_item(c, i);
	}
	copy_end(c, v);
}

static void check_uints(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	lua_State *L = c->L;
	int len = ck_list(c, name, idx, 1, NULL);
	long long max = field_max(f);
	v->u.ints.v = arena_alloc(c->a, (len + 1) * sizeof *v->u.ints.v);
	v->u.ints.n = len;
	copy_begin(c, len);
	for (int i = 1; i <= len; i++) {
		char el[64];
		lua_rawgeti(L, idx, i);
		long long n1 = checkint(c, elname(el, sizeof el, name, i), lua_gettop(L));
		if (n1 < f->min || n1 > max)
			ck_fail(c, el, "%lld is out of range (expected %lld..%lld)", n1, f->min, max);
		v->u.ints.v[i - 1] = n1;
		copy_item(c, i);
	}
	copy_end(c, v);
}

/* QEMU properties: check.c's, shared with qemu.device{}'s free ones. */
static void check_props(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	ck_props(c, name, idx, v);
}

static void check_rec(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	if (!lua_istable(c->L, idx))
		ck_expected(c, name, "table", idx);
	size_t plen = strlen(c->path), nlen = strlen(name);
	if (plen + nlen + 2 > sizeof c->path)
		ck_fail(c, name, "nested too deeply");
	memcpy(c->path + plen, name, nlen);
	memcpy(c->path + plen + nlen, ".", 2);
	int anchor = c->anchor;  /* (as for T_RECS) */
	c->anchor = 0;
	v->u.rec = check_record(c, idx, f->sub);
	c->anchor = anchor;
	c->path[plen] = '\0';
}

static void check_recs(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	lua_State *L = c->L;
	int len = ck_list(c, name, idx, 1, f->sub);
	size_t plen = strlen(c->path);
	v->u.recs.v = arena_alloc(c->a, (len + 1) * sizeof *v->u.recs.v);
	v->u.recs.n = len;
	for (int i = 1; i <= len; i++) {
		lua_rawgeti(L, idx, i);
		if (!lua_istable(L, -1)) {
			char el[64];
			snprintf(el, sizeof el, "%s[%d]", name, i);
			ck_expected(c, el, "table", -1);
		}
		record_path(c, plen, name, i);
		/* the nested record's fields are not the device's: nothing
		 * of them goes into the anchor's slots */
		int anchor = c->anchor;
		c->anchor = 0;
		v->u.recs.v[i - 1] = check_record(c, lua_gettop(L), f->sub);
		c->anchor = anchor;
		c->path[plen] = '\0';
		lua_pop(L, 1);
	}
	if (c->anchor) {
		/* read back as a copy (a list of shallow copies): the user's
		 * tables stay theirs, the device's stay read-only */
		lua_createtable(L, len, 0);
		for (int i = 1; i <= len; i++) {
			lua_newtable(L);
			lua_rawgeti(L, idx, i);
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				lua_pushvalue(L, -2);
				lua_insert(L, -2);
				lua_rawset(L, -5);
			}
			lua_pop(L, 1);
			lua_rawseti(L, -2, i);
		}
		ck_keep_top(c, v);
	}
}

static void check_devs(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	lua_State *L = c->L;
	int len = ck_list(c, name, idx, 1, NULL);
	v->u.recs.v = arena_alloc(c->a, (len + 1) * sizeof *v->u.recs.v);
	v->u.recs.n = len;
	for (int i = 1; i <= len; i++) {
		char el[64];
		lua_rawgeti(L, idx, i);
		struct rec *d = ldev_testmt(L, -1, c->devmt);
		if (!d) {
			elname(el, sizeof el, name, i);
			if (lua_istable(L, -1)) {
				/* { a, { b, c } }: a list of devices inside the list */
				int inner = lua_rawgeti(L, -1, 1) != LUA_TNIL && ldev_testmt(L, -1, c->devmt);
				lua_pop(L, 1);
				if (inner)
					ck_fail(c, el, "device expected, got table (a list of devices inside the list: "
					        "its devices go into %s%s itself)", c->path, name);
				ck_fail(c, el, "device expected, got table (build devices with a constructor such as qemu.block{...})");
			}
			ck_expected(c, el, "device", -1);
		}
		for (int j = 0; j < i - 1; j++)
			if (v->u.recs.v[j] == d)
				ck_fail(c, elname(el, sizeof el, name, i), "the same device value is already devices[%d]", j + 1);
		v->u.recs.v[i - 1] = d;
		lua_pop(L, 1);
	}
}

/* Named options (options.c): seconds. */
static void check_num(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	if (lua_type(c->L, idx) != LUA_TNUMBER)
		ck_expected(c, name, "number", idx);
	double d = lua_tonumber(c->L, idx);
	if (!(d >= (double)f->min))  /* NaN too */
		ck_fail(c, name, "%g is out of range (expected a number >= %lld)", d, f->min);
	v->u.num = d;
}

static void check_func(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	if (!lua_isfunction(c->L, idx))
		ck_expected(c, name, "function", idx);
}

static void check_table(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
	if (!lua_istable(c->L, idx))
		ck_expected(c, name, "table", idx);
}

/* T_ANY: any value but nil (a nil field is no field); its caller checks it. */
static void check_any(struct ck *c, const struct field *f, const char *name, int idx, struct qval *v)
{
}

/* ---- push: a qval back as Lua ------------------------------------------------ */

static void push_bool(lua_State *L, const struct field *f, const struct qval *v)
{
	lua_pushboolean(L, v->u.i);
}

static void push_uint(lua_State *L, const struct field *f, const struct qval *v)
{
	if (v->isfloat)
		lua_pushnumber(L, (lua_Number)v->u.i);
	else
		lua_pushinteger(L, v->u.i);
}

static void push_enum(lua_State *L, const struct field *f, const struct qval *v)
{
	lua_pushstring(L, f->choices[v->u.i]);
}

static void push_str(lua_State *L, const struct field *f, const struct qval *v)
{
	lua_pushlstring(L, v->u.str.s, v->u.str.n);
}

/* ---- def: a default's text into a qval --------------------------------------- */

static void def_bool(const struct field *f, const char *text, struct qval *v)
{
	v->u.i = !strcmp(text, "true");
}

static void def_uint(const struct field *f, const char *text, struct qval *v)
{
	v->u.i = strtoll(text, NULL, 0);
}

static void def_enum(const struct field *f, const char *text, struct qval *v)
{
	v->u.i = enum_index(f->choices, text);
}

/* The text itself (it lives as long as the schema). */
static void def_str(const struct field *f, const char *text, struct qval *v)
{
	v->u.str.s = text;
	v->u.str.n = strlen(text);
}

/* ---- the table ------------------------------------------------------------------ */

const struct field_type field_types[T_NTYPES] = {
	[T_STR] = { "string", check_str, push_str, def_str, KEEP_NONE },
	[T_NAME] = { "name", check_name, push_str, def_str, KEEP_NONE },
	[T_ID] = { "id", check_id, push_str, def_str, KEEP_NONE },
	[T_REF] = { "reference", check_id, push_str, def_str, KEEP_NONE },
	[T_PATH] = { "path", check_str, push_str, def_str, KEEP_NONE },
	[T_BOOL] = { "boolean", check_bool, push_bool, def_bool, KEEP_NONE },
	[T_UINT] = { "integer", check_uint, push_uint, def_uint, KEEP_NONE },
	[T_SIZE] = { "size", check_size, NULL, NULL, KEEP_GIVEN },
	[T_ENUM] = { "enum", check_enum, push_enum, def_enum, KEEP_NONE },
	[T_MAC] = { "mac", check_shape, push_str, NULL, KEEP_NONE },
	[T_UUID] = { "uuid", check_shape, push_str, NULL, KEEP_NONE },
	[T_PCIADDR] = { "pci-address", check_pciaddr, NULL, NULL, KEEP_GIVEN },
	[T_BDF] = { "pci-host-address", check_shape, push_str, NULL, KEEP_NONE },
	[T_HEX16] = { "hex16", check_hex16, NULL, NULL, KEEP_GIVEN },
	[T_FD] = { "fd", check_fd, NULL, NULL, KEEP_GIVEN },
	[T_FDS] = { "fds", check_fds, NULL, NULL, KEEP_OWN },
	[T_FILE] = { "path-or-fd", check_file, NULL, NULL, KEEP_GIVEN },
	[T_STRS] = { "strings", check_strs, NULL, NULL, KEEP_OWN },
	[T_PROPS] = { "properties", check_props, NULL, NULL, KEEP_OWN },
	[T_REC] = { "section", check_rec, NULL, NULL, KEEP_NONE },         /* not read back */
	[T_RECS] = { "list-of-sections", check_recs, NULL, NULL, KEEP_OWN },
	[T_DEVS] = { "devices", check_devs, NULL, NULL, KEEP_NONE },       /* not read back */
	[T_RTCBASE] = { "rtc-base", check_shape, push_str, NULL, KEEP_NONE },
	[T_UINTS] = { "integers", check_uints, NULL, NULL, KEEP_OWN },
	[T_DEVNO] = { "ccw-devno", check_shape, push_str, NULL, KEEP_NONE },
	/* named options' types (options.c): never in a device, so never kept in
	 * one; KEEP_GIVEN says what a device would have to do */
	[T_NUM] = { "number", check_num, NULL, NULL, KEEP_GIVEN },
	[T_FUNC] = { "function", check_func, NULL, NULL, KEEP_GIVEN },
	[T_TABLE] = { "table", check_table, NULL, NULL, KEEP_GIVEN },
	[T_ANY] = { "any", check_any, NULL, NULL, KEEP_GIVEN },
};

int types_missing(void)
{
	for (int t = 0; t < T_NTYPES; t++)
		if (!field_types[t].check || !field_types[t].name)
			return t;
	return -1;
}

const char *type_name(const struct field *f)
{
	if (f->type == T_STRS && (f->flags & F_LIST))
		return "list-of-strings";
	return field_types[f->type].name;
}

void type_push_default(lua_State *L, const struct field *f)
{
	const struct field_type *t = &field_types[f->type];
	if (!f->def) {
		lua_pushnil(L);
	} else if (t->def && t->push) {
		struct qval v = { 0 };
		t->def(f, f->def, &v);
		t->push(L, f, &v);
	} else {
		lua_pushstring(L, f->def);  /* (no type without a def column has a default) */
	}
}
