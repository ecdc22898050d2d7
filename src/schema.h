/* schema.h - device kinds and VM sections as data.
 *
 * One `struct kind` per device kind and per VM section.  The same table
 * drives checking (check.c), rendering (render.c + the kind's hook),
 * qemu.describe() and `qlua --describe`.  Adding a kind is adding a table,
 * and a render hook only where QEMU's shape is unusual. */
#ifndef QLUA_SCHEMA_H
#define QLUA_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

struct qfd;
struct rec;
struct render;

/* A field's type.  What each does (check, read back as Lua, default,
 * describe name) is one row of types.h's table; how it is written to
 * the command line, one row of render.c's. */
enum ftype {
	T_STR,      /* free text; commas doubled when rendered */
	T_NAME,     /* a QEMU name: driver, machine type, cpu model */
	T_ID,       /* an id this device declares (QEMU's id rules) */
	T_REF,      /* a reference to an id declared elsewhere */
	T_PATH,     /* a host path */
	T_BOOL,
	T_UINT,     /* an integer in [min, max] */
	T_SIZE,     /* bytes: an integer or "512M" */
	T_ENUM,     /* one of `choices` */
	T_MAC,      /* 52:54:00:12:34:56 */
	T_UUID,     /* 8-4-4-4-12 hex */
	T_PCIADDR,  /* slot[.function]: 3, "0x1f", "1f.2" */
	T_BDF,      /* host PCI address: 0000:00:1f.2 or 00:1f.2 */
	T_HEX16,    /* PCI vendor/device id: 0x8086 or 32902 */
	T_FD,       /* a qemu.fd */
	T_FDS,      /* a non-empty list of qemu.fd */
	T_FILE,     /* a path or a qemu.fd */
	T_STRS,     /* a string or a list of strings */
	T_PROPS,    /* a table of QEMU property = string|number|boolean */
	T_REC,      /* a nested section (`sub`) */
	T_RECS,     /* a list of nested sections (`sub`) */
	T_DEVS,     /* a list of device values */
	T_RTCBASE,  /* "utc", "localtime" or a date */
	T_UINTS,    /* a list of integers in [min, max] (may be empty) */
	T_DEVNO,    /* a ccw device number: fe.0.0001 */
	/* Types of named options only (src/options.c), never rendered: */
	T_NUM,      /* a number >= min (a float: seconds) */
	T_FUNC,     /* a Lua function */
	T_TABLE,    /* any table; its caller checks inside */
	T_ANY,      /* any value but nil; its caller checks it */
	T_NTYPES
};

/* Id namespaces: QEMU keeps one per option family, so `-drive id=x` and
 * `-netdev id=x` may share a name but two drives may not. */
enum ns { NS_NONE, NS_DEVICE, NS_DRIVE, NS_NETDEV, NS_CHARDEV, NS_OBJECT,
          NS_FSDEV, NS_BUS, NS_COUNT };

enum { F_REQ = 1,        /* required */
       F_BUS = 2,        /* (T_ID) also declares a bus with this name */
       F_BUS0 = 4,       /* (T_ID) also declares the bus "<id>.0" */
       F_LIST = 8,       /* (T_STRS) a list only: arguments, where one string
                            would read as one argument ("-m 1G") */
       F_TEXT = 16,      /* (T_STRS list items) line breaks allowed: arguments
                            of a program that is not QEMU (prepare steps);
                            (T_STR) too, for options that never reach argv */
       F_EMPTY = 32,     /* (T_STR) "" is a value (a QMP member: romfile = "") */
       F_HEAD = 64 };    /* the first word of its option, before the keys (smp's cpus) */

/* "Only when field `field` is one of `values`": used for fields that exist
 * for some types of a kind only, and for requirements that depend on type. */
struct when {
	signed char field;           /* -1: always */
	const char *const *values;
};

/* A field of a kind.  qlua itself carries no table of these (see
 * kind_fields below): a member added here is also packed by
 * src/gen/schema_pack.c and unpacked by schema_packed.c. */
struct field {
	const char *name;            /* the Lua field name */
	unsigned char type;          /* enum ftype */
	unsigned char flags;
	unsigned char ns;            /* T_ID, T_REF */
	signed char opt;             /* which of the kind's options it renders into (-1: hook) */
	const char *key;             /* the QEMU key it renders as */
	const char *flag;            /* the QEMU option it renders as, by its type (render_flag):
	                                "-nodefaults" for a true knob, "-uuid <value>", a section
	                                as "-rtc <its fields>" */
	const char *const *choices;  /* T_ENUM */
	long long min, max;          /* T_UINT, T_UINTS: the range (max 0: field_max's default) */
	const char *def;             /* default, as Lua text; NULL: none */
	const char *def_alt;         /* the default instead when def_when holds */
	struct when def_when;
	const struct kind *sub;      /* T_REC, T_RECS */
	struct when only;            /* the field exists only when ... */
	struct when req;             /* the field is required when ... */
	const char *doc;
};

/* How a virtio (or VFIO) device attaches to the machine: docs/contract.md's
 * `transport`.  Which one a device gets is decided when the VM is known
 * (vm_kind.c: the machine type and the QEMU binary), never by the host. */
enum transport { TR_PCI, TR_MMIO, TR_CCW, TR_AP, TR_COUNT };
extern const char *const transport_names[TR_COUNT];

/* A kind's QEMU device name on each transport; NULL where QEMU has none. */
struct transports {
	const char *name[TR_COUNT];
};

/* Reports a problem found by a kind's check hook: path is a field name or
 * NULL for the whole record; raises (never returns). */
struct ck;
void ck_fail(struct ck *c, const char *field, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
/* The path of the record being checked, for messages: "qmp[2]." or "". */
const char *ck_prefix(const struct ck *c);

/* What a run works out about a kind the first time it is asked for, kept
 * with the kind (one each, given by FIELDS()) so that finding it again is
 * a load, not a lookup. */
struct kind_state {
	const struct field *fields;  /* packed: its fields once made (schema_packed.c) */
	unsigned short room;         /* the most a device value of it took so far (ldev.c's guess
	                                at the next one's size: a hint, never a bound), or 0 */
	unsigned short nuv;          /* 1 + the user values a device value of it has (ldev.c), or 0 */
	const struct kind_facts *facts;  /* what schema.c worked out of it (below; inside its index's
	                                    entry, which schema.c finds from it), or NULL: not yet */
};

struct kind {
	const char *name;
	const struct field *fields;  /* through kind_fields(); set with FIELDS() */
	struct kind_state *state;    /* FIELDS(): see struct kind_state; NULL for a kind without */
	int nfields;
	int is_device;               /* has a constructor qemu.<name> */
	int open;                    /* other keys are free QEMU properties (qemu.device{}) */
	const char *doc;
	void (*check)(struct ck *c, const struct rec *r);     /* cross-field rules */
	void (*render)(struct render *rc, const struct rec *r);  /* NULL: nothing */
	const char *device;          /* the fixed first word of its option: the QEMU model of a
	                                one-device kind (render_device), a section's head
	                                ("-sandbox on", "-object iothread") */
	/* The namespace of id field f when it depends on the type (else .ns). */
	int (*id_ns)(const struct rec *r, int f);
	/* Device names per transport, chosen at render (render_driver): one
	 * row, or (ntr > 1) one per value of the enum field tr_by.  A kind with
	 * rows has the fields `transport` and `devno`; its `driver` field, if
	 * any, has no fixed default (given, it wins).  NULL: fixed names. */
	const struct transports *tr;
	int ntr;
	int tr_by;
};

/* Where a kind's fields are.  A table of fields is pointers (names, keys,
 * docs, choices, sections), and in a position-independent executable each
 * pointer is relocated by the dynamic loader at every start: 1800 of them
 * in 22 pages of tables, each page copied on write, before a dry run has
 * done anything (bench/README.md, "the schema packed").  So the objects of
 * qlua and qemu.so are compiled with QLUA_SCHEMA_PACKED: FIELDS() leaves a
 * kind's `fields` out, and the tables themselves are not compiled in.  The
 * build-time program src/gen/schema_pack.c, compiled from the same sources
 * without it, writes every kind's fields as offsets (no pointers) into
 * build/schema_packed.inc; schema_unpack (schema_packed.c) makes a kind's
 * fields from them the first time they are asked for, so a run touches the
 * pages of the kinds it uses only. */
const struct field *schema_unpack(const struct kind *k);
/* n zeroed bytes that last as long as the process, from the block where
 * schema.c keeps what a run works out about its kinds, next to the rest
 * of the kinds it uses (schema.c, "the schema's memory"). */
void *schema_take(size_t n);
static inline const struct field *kind_fields(const struct kind *k)
{
	if (k->fields || !k->state)  /* the tables as written (the generator), or no fields */
		return k->fields;
	return k->state->fields ? k->state->fields : schema_unpack(k);
}
/* (a compound literal at file scope is an object of its own: one state per kind) */
#ifdef QLUA_SCHEMA_PACKED
#define FIELDS(a) .state = &(struct kind_state){ NULL, 0, 0, NULL }, .nfields = NFIELDS(a)
#else
#define FIELDS(a) .fields = (a), .state = &(struct kind_state){ NULL, 0, 0, NULL }, .nfields = NFIELDS(a)
#endif

/* A property of qemu.device{} or machine.options: key = value. */
struct prop {
	const char *key;
	const char *val;             /* rendered text: "on", "42", the string */
	size_t len;
	unsigned char is_str;        /* the value came as a string (escape it) */
};

struct qval {
	unsigned char set;           /* 0 unset, 1 given, 2 default */
	unsigned char uv;            /* a device value's user value holding it as given, or 0 */
	unsigned char isfloat;       /* T_UINT given as a float with an integer value (2.0) */
	union {
		struct { const char *s; size_t n; struct qfd *fd; } str; /* also T_FILE */
		long long i;                          /* BOOL, UINT, ENUM index, HEX16 */
		double num;                           /* NUM */
		unsigned long long size;              /* SIZE */
		struct { int slot, fn; } pci;         /* PCIADDR (fn -1: none) */
		struct qfd *fd;
		struct { struct qfd **v; int n; } fds;
		struct { const char **v; size_t *len; int n, list; } strs;
		struct { long long *v; int n; } ints;  /* UINTS */
		struct { struct prop *v; int n; } props;
		struct rec *rec;
		struct { struct rec **v; int n; } recs; /* also DEVS */
	} u;
};

/* A checked record: a device or a section. */
struct rec {
	const struct kind *k;
	const char *where;           /* "vm.lua:12: " where a device was built, or "" */
	int index;                   /* position in `devices` (1-based), 0 if none */
	struct prop *props;          /* qemu.device{}: the free properties */
	int nprops;
	struct qval v[];
};

/* The largest value of integer field f: its max, or by default QEMU's
 * usual bound for an int property. */
static inline long long field_max(const struct field *f)
{
	return f->max ? f->max : 0x7fffffff;
}

/* The registry: every kind is in one of these lists, so that it is known
 * without reading any kind's fields (src/gen/schema_pack.c fails the build
 * when a field's section is in none of them). */
extern const struct kind *const schema_devices[];   /* NULL-terminated */
extern const struct kind *const schema_device_sections[];  /* sections of devices */
extern const struct kind schema_vm;
extern const struct kind *const schema_vm_sections[];  /* the VM's sections, at any depth */
/* The tables of named options (options.c): kinds too, in the same field index. */
extern const struct kind *const options_kinds[];  /* NULL-terminated */
const struct kind *schema_find(const char *name);    /* a device kind or section */
const struct kind *schema_device(const char *name);
/* The registered kinds, numbered: k's number (-1: not registered), and the
 * kind of number i (i < schema_nkinds()). */
int schema_kind_no(const struct kind *k);
int schema_nkinds(void);
const struct kind *schema_kind_at(int i);
/* Field `name` (len bytes) of kind k, or -1: a hash lookup in k's own
 * index, built when k is first asked about (schema.c). */
int schema_field(const struct kind *k, const char *name, size_t len);
/* The same lookup keyed by the address of the name as an interned Lua
 * string (equal short strings are one object in a Lua state, and a name
 * longer than Lua's short strings is no field anyway): no hashing of the
 * bytes.  Filled as names are first met: schema_field_lua returns -2 when
 * the address is not there yet; the caller then asks schema_field and
 * adds the name with schema_lua_add (0: not added, the table is half
 * full: schema_lua_move copies it into a larger one), keeping the string
 * alive for as long as the table lives (lvalue.c).  A table is plain
 * memory of schema_lua_size(slots) bytes, e.g. in a userdata; slots is a
 * power of two. */
struct lslot {
	const struct kind *k;
	const char *p;
};
struct schema_lua {
	unsigned n, mask;
	struct lslot v[];            /* mask + 1 slots, then a byte for each: its field */
};
size_t schema_lua_size(unsigned slots);
void schema_lua_init(struct schema_lua *t, unsigned slots);
unsigned schema_lua_slots(const struct schema_lua *t);
static inline unsigned char *schema_lua_fields(const struct schema_lua *t)
{
	return (unsigned char *)(t->v + t->mask + 1);  /* kinds have at most 254 fields (add_kind) */
}
static inline unsigned schema_lua_slot(const struct schema_lua *t, const struct kind *k, const char *p)
{
	unsigned long long x = (unsigned long long)(uintptr_t)k * 0x9E3779B97F4A7C15ull ^ (uintptr_t)p;
	x *= 0xC2B2AE3D27D4EB4Full;
	return (unsigned)(x >> 40) & t->mask;
}
/* (Inline: asked for every key of every table a build checks.) */
static inline int schema_field_lua(const struct schema_lua *t, const struct kind *k, const char *p)
{
	for (unsigned s = schema_lua_slot(t, k, p);; s = (s + 1) & t->mask) {
		const struct lslot *e = &t->v[s];
		if (e->p == p && e->k == k)
			return schema_lua_fields(t)[s];
		if (!e->k)
			return -2;
	}
}
int schema_lua_add(struct schema_lua *t, const struct kind *k, const char *p, int field);
void schema_lua_move(struct schema_lua *to, const struct schema_lua *from);
/* Field names that rules and renderers ask of many kinds (the rules
 * across devices ask each device for its driver, transport, devno, ...).
 * cf_names in schema.c spells them, in this order. */
enum cf {
	CF_ID, CF_DRIVER, CF_TRANSPORT, CF_DEVNO, CF_BOOTINDEX, CF_BUS, CF_ADDR, CF_ROMFILE,
	CF_DISABLE_MODERN, CF_BDF, CF_VENDOR_ID, CF_DEVICE_ID, CF_CHARDEV, CF_CHARDEV_ID, CF_CONTEXT_ID,
	CF_BUS_NR, CF_CHASSIS, CF_SLOT, CF_NUMA_NODE, CF_INTREMAP, CF_INTERFACE, CF_FILE, CF_SCRIPT,
	CF_DOWN_SCRIPT, CF_TYPE, CF_MACHINE, CF_OPTIONS, CF_DEVICES, CF_COUNT
};
#define SCHEMA_IDS_MAX 4
#define SCHEMA_FIELD_WORDS 4     /* a kind has at most 254 fields (add_kind) */

/* What schema.c works out about a kind when it is first asked about, so
 * that the questions below are a lookup by the kind's address (two loads
 * through its state, inline: the rules ask about 50 a build), never by a
 * name's bytes. */
struct kind_facts {
	short cf[CF_COUNT];          /* where the kind has each enum cf field, or -1 */
	/* the fields that declare an id (T_ID) or name one (T_REF), in their
	 * order: what checking the whole VM walks, instead of every field of
	 * every device */
	signed char ids[SCHEMA_IDS_MAX], refs[SCHEMA_IDS_MAX];
	unsigned char nids, nrefs;
	/* the fields that can matter when left out (required, required by a
	 * rule, or with a default), as a bit set: bit f of word f / 64.  The
	 * check's second pass visits these when left out, and the `limited`
	 * ones below when given: not every field. */
	uint64_t rules[SCHEMA_FIELD_WORDS];
	/* the fields that exist only with some value of another (`only`): of
	 * the fields given, the only ones the second pass has a question for */
	uint64_t limited[SCHEMA_FIELD_WORDS];
};
/* k's facts, worked out the first time; NULL when k is not a registered kind. */
const struct kind_facts *schema_facts(const struct kind *k);
static inline const struct kind_facts *kind_facts(const struct kind *k)
{
	return k->state && k->state->facts ? k->state->facts : schema_facts(k);
}
/* The field of kind k named by f, or -1 where the kind has none. */
static inline int schema_cf(const struct kind *k, enum cf f)
{
	const struct kind_facts *x = kind_facts(k);
	return x ? x->cf[f] : -1;
}
/* kind_facts' ids and refs; sets *n. */
static inline const signed char *schema_ids(const struct kind *k, int *n)
{
	const struct kind_facts *x = kind_facts(k);
	*n = x ? x->nids : 0;
	return x ? x->ids : NULL;
}
static inline const signed char *schema_refs(const struct kind *k, int *n)
{
	const struct kind_facts *x = kind_facts(k);
	*n = x ? x->nrefs : 0;
	return x ? x->refs : NULL;
}
/* Does rule w hold for record r (no rule: always)?  (Inline for the
 * usual no rule: asked of every field given.) */
int schema_when_holds(const struct rec *r, const struct when *w);
static inline int schema_when(const struct rec *r, const struct when *w)
{
	return !w->values || schema_when_holds(r, w);
}
/* The device name of r's kind on transport t, NULL where QEMU has none
 * (or the kind has no transports). */
const char *schema_transport_name(const struct rec *r, int t);
extern const char *const ns_names[NS_COUNT];

/* Helpers shared by the kind tables. */
#define NFIELDS(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define WHEN(f, ...) { (f), (const char *const[]){ __VA_ARGS__, NULL } }
#define CHOICES(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
