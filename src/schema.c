/* schema.c - the registry of kinds, and lookups over it.  The kinds
 * themselves live in devices.c (device kinds) and vm_kind.c (the VM). */
#include "schema.h"

#include <string.h>

const char *const ns_names[NS_COUNT] = {
	[NS_NONE] = "", [NS_DEVICE] = "device", [NS_DRIVE] = "drive",
	[NS_NETDEV] = "netdev", [NS_CHARDEV] = "chardev", [NS_OBJECT] = "object",
	[NS_FSDEV] = "fsdev", [NS_BUS] = "bus",
};

const char *const transport_names[TR_COUNT] = {
	[TR_PCI] = "pci", [TR_MMIO] = "mmio", [TR_CCW] = "ccw", [TR_AP] = "ap",
};

int schema_field(const struct kind *k, const char *name, size_t len)
{
	for (int i = 0; i < k->nfields; i++) {
		const char *f = k->fields[i].name;
		/* the first byte rules out most fields without a call */
		if (f[0] == name[0] && !strncmp(f, name, len) && f[len] == '\0')
			return i;
	}
	return -1;
}

const struct kind *schema_device(const char *name)
{
	for (int i = 0; schema_devices[i]; i++)
		if (!strcmp(schema_devices[i]->name, name))
			return schema_devices[i];
	return NULL;
}

/* A device kind, the VM itself ("vm"), or one of its sections by field name. */
/* The section named name under k, at any depth (numa's nodes and dists are
 * sections of a section: describe() names them by their own names). */
static const struct kind *find_section(const struct kind *k, const char *name, int depth)
{
	for (int i = 0; i < k->nfields && depth < 4; i++) {
		const struct kind *sub = k->fields[i].sub;
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

const struct kind *schema_find(const char *name)
{
	const struct kind *k = schema_device(name);
	if (k)
		return k;
	if (!strcmp(name, "vm"))
		return &schema_vm;
	return find_section(&schema_vm, name, 0);
}

/* How describe() names a field's type. */
const char *schema_type_name(const struct field *f)
{
	static const char *const names[T_NTYPES] = {
		[T_STR] = "string", [T_NAME] = "name", [T_ID] = "id", [T_REF] = "reference",
		[T_PATH] = "path", [T_BOOL] = "boolean", [T_UINT] = "integer", [T_SIZE] = "size",
		[T_ENUM] = "enum", [T_MAC] = "mac", [T_UUID] = "uuid", [T_PCIADDR] = "pci-address",
		[T_BDF] = "pci-host-address", [T_HEX16] = "hex16", [T_FD] = "fd", [T_FDS] = "fds",
		[T_FILE] = "path-or-fd", [T_STRS] = "strings", [T_PROPS] = "properties",
		[T_REC] = "section", [T_RECS] = "list-of-sections", [T_DEVS] = "devices",
		[T_RTCBASE] = "rtc-base", [T_UINTS] = "integers", [T_DEVNO] = "ccw-devno",
		[T_NUM] = "number", [T_FUNC] = "function", [T_TABLE] = "table", [T_ANY] = "any",
	};
	if (f->type == T_STRS && (f->flags & F_LIST))
		return "list-of-strings";
	return names[f->type];
}

int schema_when(const struct rec *r, const struct when *w)
{
	if (!w->values)
		return 1;
	const struct qval *v = &r->v[(int)w->field];
	if (!v->set)
		return 0;
	const char *s = r->k->fields[(int)w->field].choices[v->u.i];
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
