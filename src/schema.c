/* schema.c - the registry of kinds, and lookups over it.  The kinds
 * themselves live in devices.c (device kinds) and vm_kind.c (the VM). */
#include "schema.h"

#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *const ns_names[NS_COUNT] = {
	[NS_NONE] = "", [NS_DEVICE] = "device", [NS_DRIVE] = "drive",
	[NS_NETDEV] = "netdev", [NS_CHARDEV] = "chardev", [NS_OBJECT] = "object",
	[NS_FSDEV] = "fsdev", [NS_BUS] = "bus",
};

const char *const transport_names[TR_COUNT] = {
	[TR_PCI] = "pci", [TR_MMIO] = "mmio", [TR_CCW] = "ccw", [TR_AP] = "ap",
};

/* ---- the field index ------------------------------------------------------
 * Every field of every kind (the devices, the VM and its sections at any
 * depth, the options tables) is found by a hash and one or two probes,
 * never by a scan of the kind's names.  Each kind has an index of its own,
 * built the first time the kind is asked about: a dry run uses a handful
 * of the ~90 kinds, and building all of them at start-up read every field
 * name in the binary and wrote 32 KiB of index (79k instructions and ten
 * fresh pages, bench/README.md).  The Lua index (struct schema_lua) maps the
 * address of a name as an interned Lua string, which is the same object
 * for every Lua string with those bytes, so it hashes no bytes at all. */

/* A few bytes and the length, not all of them: field names differ early,
 * late or in length, and a hit is confirmed by memcmp anyway. */
static unsigned name_hash(const char *s, size_t n)
{
	if (!n)
		return 0;
	const unsigned char *u = (const unsigned char *)s;
	return ((unsigned)n * 0x9E3779B1u) ^ ((unsigned)u[0] << 24) ^ ((unsigned)u[n - 1] << 16) ^
	       ((unsigned)u[n / 2] << 8) ^ u[(n - 1) / 3] ^ ((unsigned)u[1 % n] << 4);
}

/* The names in enum cf: where each kind has them is looked up once, when
 * the kind is first asked about (per_kind). */
static const char *const cf_names[CF_COUNT] = {
	[CF_ID] = "id", [CF_DRIVER] = "driver", [CF_TRANSPORT] = "transport", [CF_DEVNO] = "devno",
	[CF_BOOTINDEX] = "bootindex", [CF_BUS] = "bus", [CF_ADDR] = "addr", [CF_ROMFILE] = "romfile",
	[CF_DISABLE_MODERN] = "disable_modern", [CF_BDF] = "bdf", [CF_VENDOR_ID] = "vendor_id",
	[CF_DEVICE_ID] = "device_id", [CF_CHARDEV] = "chardev", [CF_CHARDEV_ID] = "chardev_id",
	[CF_CONTEXT_ID] = "context_id", [CF_BUS_NR] = "bus_nr", [CF_CHASSIS] = "chassis", [CF_SLOT] = "slot",
	[CF_NUMA_NODE] = "numa_node", [CF_INTREMAP] = "intremap", [CF_INTERFACE] = "interface",
	[CF_FILE] = "file", [CF_SCRIPT] = "script", [CF_DOWN_SCRIPT] = "down_script", [CF_TYPE] = "type",
	/* what checking the whole description asks of it (check.c, check_vm) */
	[CF_MACHINE] = "machine", [CF_OPTIONS] = "options", [CF_DEVICES] = "devices",
};

/* A slot of a kind's index: 4 bytes, so the indexes of the kinds a run
 * uses sit in a few cache lines.  0: empty. */
struct nslot {
	unsigned short hash;         /* the name's hash, its high half */
	unsigned char len;           /* names are at most 40 bytes (see build_index) */
	unsigned char field;         /* 1 + the field's number */
};

struct per_kind {
	const struct field *fields;  /* kind_fields(k) */
	const struct nslot *index;   /* 1 << bits slots */
	unsigned char bits;
	struct kind_facts x;
};

/* ---- the schema's memory ----------------------------------------------------
 * What a run works out about the kinds it uses (each one's fields, unpacked
 * by schema_packed.c, then its per_kind and its index) is handed out from
 * one block in the order the kinds are first asked about, so the few kinds
 * of a dry run share their pages: 28 KiB, 7 pages, for bench/typical.lua's
 * 14 kinds.  With an array per purpose, each sized for every kind, the
 * same run touched 10 pages of them, and 3 more of small variables that
 * landed after them in .bss (bench/README.md, "The schema's pages"). */
#define SCHEMA_KINDS_MAX 128
#define KINDS_BITS 8
#define KINDS_SIZE (1u << KINDS_BITS)

static struct {
	int nkinds;
	/* kind_at: open addressing by the kind's address, to 1 + its number
	 * in kinds (0: empty); pk: by that number, its per_kind (NULL: not
	 * asked about yet). */
	unsigned short kind_at[KINDS_SIZE];
	const struct kind *kinds[SCHEMA_KINDS_MAX];  /* every kind, each once */
	struct per_kind *pk[SCHEMA_KINDS_MAX];
	int ready;                   /* mem is set up */
	struct arena mem;
} S;

/* The block, big enough for every kind (105 KiB when all 95 are asked
 * about), is a mapping of its own, of which a run touches what it uses:
 * not .bss, where something this large leaves the small variables after
 * it each on a page of its own, nor malloc's heap, where it would depend
 * on malloc's threshold.  It is never unmapped: what it holds lasts as
 * long as the process. */
#define SCHEMA_BLOCK (128 << 10)

void *schema_take(size_t n)
{
	if (!S.ready) {
		void *b = mmap(NULL, SCHEMA_BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		               -1, 0);
		if (b == MAP_FAILED)
			arena_init(&S.mem, NULL, 0);  /* (a tight ulimit -v): arena.c's chunks from malloc */
		else
			arena_init(&S.mem, b, SCHEMA_BLOCK);
		S.ready = 1;
	}
	return arena_alloc(&S.mem, n);
}

static unsigned kind_slot(const struct kind *k)
{
	unsigned long long x = (unsigned long long)(uintptr_t)k * 0x9E3779B97F4A7C15ull;
	return (unsigned)(x >> (64 - KINDS_BITS));
}

/* Registers k: its address only, no name is read until k is asked about. */
static void add_kind(const struct kind *k)
{
	unsigned ks = kind_slot(k);
	for (; S.kind_at[ks]; ks = (ks + 1) & (KINDS_SIZE - 1))
		if (S.kinds[S.kind_at[ks] - 1] == k)
			return;
	if (S.nkinds == SCHEMA_KINDS_MAX || k->nfields > 254)
		abort();  /* the schema outgrew the registry: raise SCHEMA_KINDS_MAX (or the slot's field) */
	S.kinds[S.nkinds++] = k;
	S.kind_at[ks] = (unsigned short)S.nkinds;  /* 1 + k's number */
}

/* In the same order in qlua and in src/gen/schema_pack.c (compiled from
 * the same lists): a kind's number is where its packed fields are. */
static void schema_init(void)
{
	if (S.nkinds)
		return;
	for (int i = 0; schema_devices[i]; i++)
		add_kind(schema_devices[i]);
	for (int i = 0; schema_device_sections[i]; i++)
		add_kind(schema_device_sections[i]);
	add_kind(&schema_vm);
	for (int i = 0; schema_vm_sections[i]; i++)
		add_kind(schema_vm_sections[i]);
	for (int i = 0; options_kinds[i]; i++)
		add_kind(options_kinds[i]);
}

static inline int kind_no(const struct kind *k)
{
	if (!S.nkinds)
		schema_init();
	unsigned s = kind_slot(k);
	while (S.kind_at[s] && S.kinds[S.kind_at[s] - 1] != k)
		s = (s + 1) & (KINDS_SIZE - 1);
	return S.kind_at[s] - 1;
}

int schema_kind_no(const struct kind *k)
{
	return kind_no(k);
}

int schema_nkinds(void)
{
	schema_init();
	return S.nkinds;
}

const struct kind *schema_kind_at(int i)
{
	schema_init();
	return S.kinds[i];
}

/* The field named name (len bytes) in a kind's index, or -1. */
static int lookup(const struct per_kind *pk, const char *name, size_t len)
{
	if (len > 40)
		return -1;
	unsigned h = name_hash(name, len), mask = (1u << pk->bits) - 1;
	const struct nslot *t = pk->index;
	for (unsigned s = h & mask;; s = (s + 1) & mask) {
		const struct nslot *e = &t[s];
		if (!e->field)
			return -1;
		if (e->hash == (unsigned short)(h >> 16) && e->len == len &&
		    !memcmp(pk->fields[e->field - 1].name, name, len))
			return e->field - 1;
	}
}

static void build_index(const struct kind *k, struct per_kind *pk)
{
	unsigned bits = 2;
	while ((1u << bits) < 2u * (unsigned)k->nfields)
		bits++;
	struct nslot *t = schema_take(sizeof *t << bits);
	pk->bits = (unsigned char)bits;
	pk->index = t;
	unsigned mask = (1u << bits) - 1;
	for (int f = 0; f < k->nfields; f++) {
		const char *name = pk->fields[f].name;
		size_t len = strlen(name);
		if (len > 40)
			abort();  /* longer than Lua's short strings (LUAI_MAXSHORTLEN): not interned, see schema_field_lua */
		unsigned h = name_hash(name, len), s = h & mask;
		while (t[s].field)
			s = (s + 1) & mask;
		t[s] = (struct nslot){ (unsigned short)(h >> 16), (unsigned char)len, (unsigned char)(f + 1) };
	}
}

/* What k's index, enum cf and the id lists say of kind k, worked out when
 * k is first asked about: NULL when k is not a registered kind. */
static const struct per_kind *per_kind(const struct kind *k)
{
	if (k->state && k->state->facts)  /* the usual case: a kind asked about before */
		return (const struct per_kind *)((const char *)k->state->facts - offsetof(struct per_kind, x));
	int no = kind_no(k);
	if (no < 0)
		return NULL;
	if (S.pk[no])
		return S.pk[no];
	/* its fields first (unpacked now if not yet), then the rest after them */
	const struct field *fields = kind_fields(k);
	struct per_kind *pk = schema_take(sizeof *pk);
	pk->fields = fields;
	build_index(k, pk);
	struct kind_facts *x = &pk->x;
	for (int c = 0; c < CF_COUNT; c++)
		x->cf[c] = (short)lookup(pk, cf_names[c], strlen(cf_names[c]));
	for (int f = 0; f < k->nfields; f++) {
		const struct field *fl = &pk->fields[f];
		unsigned char *n = fl->type == T_ID ? &x->nids : fl->type == T_REF ? &x->nrefs : NULL;
		if (n) {
			if (*n == SCHEMA_IDS_MAX || f > 127)
				abort();  /* a kind with more: raise SCHEMA_IDS_MAX */
			(fl->type == T_ID ? x->ids : x->refs)[(*n)++] = (signed char)f;
		}
		if ((fl->flags & F_REQ) || fl->req.values || fl->def || fl->def_alt)
			x->rules[f / 64] |= 1ull << (f % 64);
		if (fl->only.values)
			x->limited[f / 64] |= 1ull << (f % 64);
	}
	S.pk[no] = pk;
	if (k->state)
		k->state->facts = x;
	return pk;
}

int schema_field(const struct kind *k, const char *name, size_t len)
{
	const struct per_kind *pk = per_kind(k);
	return pk ? lookup(pk, name, len) : -1;
}

const struct kind_facts *schema_facts(const struct kind *k)
{
	const struct per_kind *pk = per_kind(k);
	return pk ? &pk->x : NULL;
}

/* The Lua index: (kind, address of an interned Lua string) -> field,
 * filled as keys are first met (schema_lua_add, after schema_field found
 * the name): nothing to build when a state opens the module.  Slots of 16
 * bytes and the fields beside them, as many as its maker asked for: it
 * starts small and is moved into a larger one when half full (lvalue.c),
 * since every page a dry run touches costs more than hashing a name.
 * (The table and its lookup are in schema.h, inline.) */
size_t schema_lua_size(unsigned slots)
{
	return sizeof(struct schema_lua) + slots * (sizeof(struct lslot) + 1);
}

unsigned schema_lua_slots(const struct schema_lua *t)
{
	return t->mask + 1;
}

void schema_lua_init(struct schema_lua *t, unsigned slots)
{
	memset(t, 0, schema_lua_size(slots));
	t->mask = slots - 1;
}

static void put(struct schema_lua *t, const struct kind *k, const char *p, int field)
{
	unsigned s = schema_lua_slot(t, k, p);
	while (t->v[s].k)
		s = (s + 1) & t->mask;
	t->v[s] = (struct lslot){ k, p };
	schema_lua_fields(t)[s] = (unsigned char)field;
	t->n++;
}

int schema_lua_add(struct schema_lua *t, const struct kind *k, const char *p, int field)
{
	if (t->n >= (t->mask + 1) / 2)
		return 0;  /* half full: its maker moves it into a larger one, or leaves it */
	put(t, k, p, field);
	return 1;
}

void schema_lua_move(struct schema_lua *to, const struct schema_lua *from)
{
	for (unsigned s = 0; s <= from->mask; s++)
		if (from->v[s].k)
			put(to, from->v[s].k, from->v[s].p, schema_lua_fields(from)[s]);
}

const struct kind *schema_device(const char *name)
{
	for (int i = 0; schema_devices[i]; i++)
		if (!strcmp(schema_devices[i]->name, name))
			return schema_devices[i];
	return NULL;
}

/* The section named name under k, at any depth (numa's nodes and dists are
 * sections of a section: describe() names them by their own names). */
static const struct kind *find_section(const struct kind *k, const char *name, int depth)
{
	const struct field *fs = kind_fields(k);
	for (int i = 0; i < k->nfields && depth < 4; i++) {
		const struct kind *sub = fs[i].sub;
		if (!sub)
			continue;
		if (!strcmp(sub->name, name))
			return sub;
		const struct kind *deeper = find_section(sub, name, depth + 1);
		if (deeper)
			return deeper;
	}
	return NULL;
}

/* A device kind, the VM itself ("vm"), one of the VM's sections, or a
 * section of a device (netdev's hostfwd), by name. */
const struct kind *schema_find(const char *name)
{
	const struct kind *k = schema_device(name);
	if (k)
		return k;
	if (!strcmp(name, "vm"))
		return &schema_vm;
	for (int i = 0; schema_device_sections[i]; i++)
		if (!strcmp(schema_device_sections[i]->name, name))
			return schema_device_sections[i];
	return find_section(&schema_vm, name, 0);
}

int schema_when_holds(const struct rec *r, const struct when *w)
{
	const struct qval *v = &r->v[(int)w->field];
	if (!v->set)
		return 0;
	const char *s = kind_fields(r->k)[(int)w->field].choices[v->u.i];
	for (int i = 0; w->values[i]; i++)
		if (!strcmp(w->values[i], s))
			return 1;
	return 0;
}

const char *schema_transport_name(const struct rec *r, int t)
{
	const struct kind *k = r->k;
	if (!k->tr || t < 0 || t >= TR_COUNT)
		return NULL;
	int row = k->ntr > 1 && r->v[k->tr_by].set ? (int)r->v[k->tr_by].u.i : 0;
	return row < k->ntr ? k->tr[row].name[t] : NULL;
}
