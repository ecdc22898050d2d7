/* vm_rules.c - rules across a description (vm_kind.h): devices against
 * devices and against the sections.  The devices are sorted into groups
 * once (by kind, and by what they claim: a chardev, a ccw devno, a boot
 * index), and each device is compared with the earlier members of its
 * groups only, never with every other device. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vm_kind.h"

/* Blames device i (0-based) of the VM for an error raised right after. */
static void blame_dev(struct ck *c, const struct rec *vm, int i)
{
	const struct rec *d = vm->v[VM_DEVICES].u.recs.v[i];
	c->ctx = NULL;
	c->dev = d;
	c->devindex = i + 1;
	c->where = d->where;
	c->path[0] = '\0';
}

static int ndevices(const struct rec *vm)
{
	return has(vm, VM_DEVICES) ? vm->v[VM_DEVICES].u.recs.n : 0;
}

static const struct rec *device(const struct rec *vm, int i)
{
	return vm->v[VM_DEVICES].u.recs.v[i];
}

/* Field cf of device d when it is set (else NULL). */
static const struct qval *dfield(const struct rec *d, enum cf cf)
{
	int f = schema_cf(d->k, cf);
	return f >= 0 && d->v[f].set ? &d->v[f] : NULL;
}

/* The kinds the rules name. */
enum { K_OTHER, K_BALLOON, K_IOMMU, K_PVPANIC, K_VSOCK, K_PXB, K_PORT, K_CDROM, K_OBJECT, K_CHARDEV,
       K_LEGACY_SERIAL, K_NETDEV, K_VHOST_USER, K_BLOCK, K_COUNT };
/* (the kinds most descriptions have first: kind_of tries them in order) */
static const struct { const char *name; int kind; } kind_names[] = {
	{ "block", K_BLOCK }, { "netdev", K_NETDEV }, { "chardev", K_CHARDEV }, { "object", K_OBJECT },
	{ "cdrom", K_CDROM }, { "legacy_serial", K_LEGACY_SERIAL }, { "balloon", K_BALLOON },
	{ "pcie_root_port", K_PORT }, { "vsock", K_VSOCK }, { "iommu", K_IOMMU }, { "pvpanic", K_PVPANIC },
	{ "pxb_pcie", K_PXB }, { "pcie_switch_downstream", K_PORT }, { "vhost_user", K_VHOST_USER },
};

#define NKIND_NAMES (sizeof kind_names / sizeof kind_names[0])

static int kind_of(const struct rec *d)
{
	static const struct kind *known[NKIND_NAMES];  /* kind_names[i]'s kind, looked up once */
	if (!known[0])
		for (size_t i = 0; i < NKIND_NAMES; i++)
			known[i] = schema_device(kind_names[i].name);
	for (size_t i = 0; i < NKIND_NAMES; i++)
		if (d->k == known[i])
			return kind_names[i].kind;
	return K_OTHER;
}

/* What one device claims, worked out once. */
struct dev {
	int kind;
	const char *chardev, *cfield;  /* the chardev it connects to (QEMU lets one frontend have
	                                  a chardev) and the field that says so; NULL: none */
	size_t cn;
	const struct qval *devno, *bootindex;
	long long a, b;                /* vsock: its CID; pxb_pcie: bus_nr; a port: chassis, slot */
};

static void chardev_use(const struct rec *d, struct dev *f)
{
	const struct qval *v = NULL;
	/* driver "serial" (govmm's LegacySerial) makes no device: the chardev is a legacy_serial's */
	if (f->kind == K_CHARDEV && dfield(d, CF_DRIVER) && strcmp(dfield(d, CF_DRIVER)->u.str.s, "serial"))
		v = dfield(d, CF_ID), f->cfield = "driver";
	else if (f->kind == K_LEGACY_SERIAL || f->kind == K_NETDEV)
		v = dfield(d, CF_CHARDEV), f->cfield = "chardev";
	else if (f->kind == K_VHOST_USER)
		v = dfield(d, CF_CHARDEV_ID), f->cfield = "chardev_id";
	if (v) {
		f->chardev = v->u.str.s, f->cn = v->u.str.n;
		return;
	}
	for (int p = 0; p < d->nprops; p++)
		if (!strcmp(d->props[p].key, "chardev")) {
			f->chardev = d->props[p].val, f->cn = d->props[p].len, f->cfield = "chardev";
			return;
		}
}

static void dev_facts(const struct rec *d, struct dev *f)
{
	const struct qval *v;
	f->kind = kind_of(d);
	chardev_use(d, f);
	f->devno = dfield(d, CF_DEVNO);
	f->bootindex = dfield(d, CF_BOOTINDEX);
	if (f->kind == K_VSOCK)
		f->a = dfield(d, CF_CONTEXT_ID)->u.i;
	else if (f->kind == K_PXB)
		f->a = dfield(d, CF_BUS_NR)->u.i;
	else if (f->kind == K_PORT) {
		f->a = (v = dfield(d, CF_CHASSIS)) ? v->u.i : 0;
		f->b = (v = dfield(d, CF_SLOT)) ? v->u.i : 0;
	}
}

/* The groups: devices of one kind, and devices claiming a chardev, a
 * devno, a boot index; each a list of device indexes in order, holding the
 * devices checked so far. */
enum { G_CHARDEV = K_COUNT, G_DEVNO, G_BOOTINDEX, G_COUNT };
struct groups {
	int *v[G_COUNT];
	int n[G_COUNT];
};

/* Rules between two devices of a group: does device i clash with the
 * earlier device j?  In the order they are tried for one j. */
enum { R_CHARDEV, R_VSOCK, R_DEVNO, R_PXB, R_PORT, R_COUNT };
static const int rule_group[R_COUNT] = {
	[R_CHARDEV] = G_CHARDEV, [R_VSOCK] = K_VSOCK, [R_DEVNO] = G_DEVNO, [R_PXB] = K_PXB, [R_PORT] = K_PORT,
};

static int clash(int rule, const struct dev *d, const struct dev *o)
{
	switch (rule) {
	case R_CHARDEV: return d->chardev && o->cn == d->cn && !memcmp(o->chardev, d->chardev, d->cn);
	case R_VSOCK: case R_PXB: return d->kind == o->kind && d->a == o->a;
	case R_DEVNO: return d->devno && !strcasecmp(d->devno->u.str.s, o->devno->u.str.s);
	case R_PORT: return d->kind == K_PORT && d->a == o->a && d->b == o->b;
	}
	return 0;
}

static void clash_fail(struct ck *c, const struct rec *vm, int rule, int i, const struct dev *d, int j)
{
	blame_dev(c, vm, i);
	switch (rule) {
	case R_CHARDEV:
		ck_fail(c, d->cfield, "chardev '%.*s' is devices[%d]'s already (QEMU connects a chardev to one "
		        "device)", (int)d->cn, d->chardev, j + 1);
	case R_VSOCK:
		ck_fail(c, "context_id", "%lld is devices[%d]'s too (each vsock needs its own)", d->a, j + 1);
	case R_DEVNO:
		ck_fail(c, "devno", "'%s' is devices[%d]'s too (each ccw device needs its own)", d->devno->u.str.s,
		        j + 1);
	case R_PXB:
		ck_fail(c, "bus_nr", "%lld is devices[%d]'s too", d->a, j + 1);
	default:
		ck_fail(c, NULL, "chassis %lld slot %lld is devices[%d]'s too (QEMU needs each PCIe port's pair "
		        "unique; both default to 0)", d->a, d->b, j + 1);
	}
}

/* Device i against the earlier devices of its groups: the clash with the
 * earliest device is reported (for one device, the rules in their order). */
static void check_clashes(struct ck *c, const struct rec *vm, const struct groups *g, const struct dev *devs,
                          int i)
{
	int best = -1, best_rule = -1;
	for (int r = 0; r < R_COUNT; r++) {
		const int gr = rule_group[r];
		if (gr < K_COUNT && gr != devs[i].kind)
			continue;  /* a rule among devices of one kind, not this device's */
		for (int k = 0; k < g->n[gr] && (best < 0 || g->v[gr][k] < best); k++)
			if (clash(r, &devs[i], &devs[g->v[gr][k]])) {
				best = g->v[gr][k], best_rule = r;
				break;
			}
	}
	if (best >= 0)
		clash_fail(c, vm, best_rule, i, &devs[i], best);
}

static void join(struct groups *g, int group, int i)
{
	g->v[group][g->n[group]++] = i;
}

/* Blames device i, and says where its transport came from (vm_transport),
 * for an error raised right after. */
static const char *blame_transport(struct ck *c, const struct rec *vm, int i, char *why, size_t n)
{
	blame_dev(c, vm, i);
	vm_transport(vm, device(vm, i), why, n);
	return why;
}

/* Device d (devices[i + 1]) on its transport (its own, else `machine`,
 * the machine's): the kind has a device there (unless `driver` names one),
 * and it has no field that transport lacks. */
static void check_transport(struct ck *c, const struct rec *vm, int i, int machine)
{
	static const enum cf pci_only[] = { CF_ADDR, CF_ROMFILE, CF_DISABLE_MODERN, CF_BDF, CF_VENDOR_ID,
	                                    CF_DEVICE_ID };
	const struct rec *d = device(vm, i);
	int tf = d->k->tr ? schema_cf(d->k, CF_TRANSPORT) : -1;
	if (tf < 0 || !schema_when(d, &kind_fields(d->k)[tf].only))
		return;  /* no transports, or not for this type (block interface 'ide', ...) */
	int t = rec_transport(d);
	if (t < 0)
		t = machine;
	const char *tn = transport_names[t];
	char why[160];
	if (!dfield(d, CF_DRIVER) && !schema_transport_name(d, t)) {
		char label[64];
		if (d->k->ntr > 1)
			snprintf(label, sizeof label, "%s '%s'", d->k->name, eval(d, d->k->tr_by));
		else
			snprintf(label, sizeof label, "%s", d->k->name);
		blame_dev(c, vm, i);
		if (d->v[tf].set)
			ck_fail(c, "transport", "QEMU has no %s transport for %s", tn, label);
		ck_fail(c, NULL, "QEMU has no %s transport for %s (from %s)%s", tn, label,
		        blame_transport(c, vm, i, why, sizeof why),
		        t == TR_MMIO ? "; a microvm has PCI with machine.options.pcie = true" : "");
	}
	if (t != TR_PCI) {
		for (size_t k = 0; k < sizeof pci_only / sizeof pci_only[0]; k++)
			if (dfield(d, pci_only[k]))
				ck_fail(c, kind_fields(d->k)[schema_cf(d->k, pci_only[k])].name, "PCI only, but this device uses the %s transport (from %s)", tn,
				        blame_transport(c, vm, i, why, sizeof why));
		const struct qval *bus = dfield(d, CF_BUS);
		if (bus && !(t == TR_MMIO && !strncmp(bus->u.str.s, "virtio-mmio-bus.", 16)))
			ck_fail(c, "bus", "'%s' is not a%s bus, and this device uses the %s transport (from %s)%s",
			        bus->u.str.s, t == TR_MMIO ? " virtio-mmio" : "n s390 channel", tn,
			        blame_transport(c, vm, i, why, sizeof why),
			        t == TR_MMIO ? "; leave 'bus' out, or give 'virtio-mmio-bus.N'" :
			        t == TR_CCW ? "; ccw devices are placed with 'devno'" : "");
	}
	if (t != TR_CCW && dfield(d, CF_DEVNO))
		ck_fail(c, "devno", "only used with the ccw transport, and this device uses %s (from %s)", tn,
		        blame_transport(c, vm, i, why, sizeof why));
}

/* Device i with the sections: its NUMA node, the machine an iommu needs, a
 * cdrom's controller on a microvm, firmware given twice, knobs.iommu_platform. */
static void check_with_sections(struct ck *c, const struct rec *vm, const struct dev *f, int i, int machine)
{
	const struct rec *d = device(vm, i);
	const struct rec *ma = vm_sec(vm, VM_MACHINE);
	const struct rec *nu = vm_sec(vm, VM_NUMA);
	int nnodes = nu && has(nu, NU_NODES) ? nu->v[NU_NODES].u.recs.n : 0;
	if (f->kind == K_PXB && dfield(d, CF_NUMA_NODE) && dfield(d, CF_NUMA_NODE)->u.i >= nnodes) {
		blame_dev(c, vm, i);
		if (!nnodes)
			ck_fail(c, "numa_node", "the VM has no numa.nodes");
		ck_fail(c, "numa_node", "no NUMA node %lld (the nodes are 0..%d)", dfield(d, CF_NUMA_NODE)->u.i,
		        nnodes - 1);
	}

	if (f->kind == K_IOMMU) {
		if (!ma || !has(ma, MA_TYPE) || !strstr(sval(ma, MA_TYPE), "q35")) {
			blame_dev(c, vm, i);
			ck_fail(c, NULL, "needs machine.type 'q35' (QEMU has intel-iommu on q35 only)");
		}
		const struct qval *ir = dfield(d, CF_INTREMAP);
		const struct prop *irq = NULL;
		for (int p = 0; ma && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++)
			if (!strcmp(ma->v[MA_OPTIONS].u.props.v[p].key, "kernel-irqchip"))
				irq = &ma->v[MA_OPTIONS].u.props.v[p];
		int kvm = ma && has(ma, MA_ACCEL) && !strncmp(sval(ma, MA_ACCEL), "kvm", 3);
		if (ir && ir->u.i && kvm && !(irq && (!strcmp(irq->val, "split") || !strcmp(irq->val, "off")))) {
			blame_dev(c, vm, i);
			ck_fail(c, "intremap", "with KVM it needs machine.options['kernel-irqchip'] = 'split' "
			        "(QEMU cannot remap interrupts of KVM's in-kernel irqchip)");
		}
	}

	if (f->kind == K_CDROM && machine == TR_MMIO) {
		const struct qval *bus = dfield(d, CF_BUS);
		const struct rec *owner = bus ? vm_bus_device(vm, bus->u.str.s, bus->u.str.n) : NULL;
		if (!owner || strcmp(owner->k->name, "scsi_controller")) {
			blame_dev(c, vm, i);
			ck_fail(c, NULL, "a microvm has no IDE controller: put the cdrom on a SCSI controller "
			        "(bus = '<scsi_controller id>.0')");
		}
	}
}

static void check_late(struct ck *c, const struct rec *vm, const struct dev *f, int i)
{
	const struct rec *d = device(vm, i);
	const struct qval *pf = has(vm, VM_PFLASH) ? &vm->v[VM_PFLASH] : NULL;
	if (f->kind == K_OBJECT && dfield(d, CF_FILE) && (pf || has(vm, VM_BIOS) || has(vm, VM_FIRMWARE))) {
		blame_dev(c, vm, i);
		if (has(vm, VM_FIRMWARE))
			ck_fail(c, "file", "the VM has firmware '%s' too (give the firmware once)", eval(vm, VM_FIRMWARE));
		ck_fail(c, "file", "the VM has %s too (give the firmware once)", pf ? "pflash" : "bios");
	}

	if (vm_knob_on(vm, KN_IOMMU_PLATFORM)) {
		const struct qval *dm = dfield(d, CF_DISABLE_MODERN);
		const struct qval *iface = f->kind == K_BLOCK ? dfield(d, CF_INTERFACE) : NULL;
		const struct qval *drv = dfield(d, CF_DRIVER);
		if (dm && dm->u.i) {
			blame_dev(c, vm, i);
			ck_fail(c, "disable_modern", "not with knobs.iommu_platform (a legacy virtio device has no "
			        "iommu_platform)");
		}
		if (iface && !strcmp(kind_fields(d->k)[schema_cf(d->k, CF_INTERFACE)].choices[iface->u.i], "virtio")) {
			blame_dev(c, vm, i);
			ck_fail(c, "interface", "'virtio' lets QEMU make the device, without iommu_platform "
			        "(knobs.iommu_platform); use 'none'");
		}
		if (drv && kind_fields(d->k)[schema_cf(d->k, CF_DRIVER)].type == T_NAME &&
		    drv->u.str.n > 17 && !strcmp(drv->u.str.s + drv->u.str.n - 17, "-pci-transitional")) {
			blame_dev(c, vm, i);
			ck_fail(c, "driver", "'%s' keeps its legacy interface, which cannot have iommu_platform "
			        "(knobs.iommu_platform)", drv->u.str.s);
		}
	}
}

/* Rules across devices, and between devices and the sections. */
void vm_check_devices(struct ck *c, const struct rec *vm)
{
	static const char *const single[K_COUNT] = {
		[K_BALLOON] = "balloon", [K_IOMMU] = "iommu", [K_PVPANIC] = "pvpanic",
	};
	int n = ndevices(vm);
	if (!n)
		return;
	struct dev *devs = arena_alloc(c->a, n * sizeof *devs);
	struct groups g = { { 0 }, { 0 } };
	/* room for every device in every group, in one block (g.n says how
	 * much of each is filled) */
	int *room = arena_alloc_raw(c->a, (size_t)G_COUNT * n * sizeof *room);
	for (int k = 0; k < G_COUNT; k++)
		g.v[k] = room + (size_t)k * n;
	int machine = vm_machine_transport(vm, NULL, 0);

	for (int i = 0; i < n; i++) {
		struct dev *f = &devs[i];
		dev_facts(device(vm, i), f);
		check_transport(c, vm, i, machine);
		if (single[f->kind] && g.n[f->kind]) {
			/* QEMU takes one per VM */
			blame_dev(c, vm, i);
			ck_fail(c, NULL, "a second %s (devices[%d] is one; QEMU takes one per VM)", single[f->kind],
			        g.v[f->kind][0] + 1);
		}
		/* unique among devices of the same groups: a chardev's frontend,
		 * vsock CIDs, ccw devnos, expander bus numbers, (chassis, slot) of
		 * PCIe ports */
		check_clashes(c, vm, &g, devs, i);
		check_with_sections(c, vm, f, i, machine);
		/* QEMU refuses a bootindex used twice, naming neither device */
		for (int k = 0; f->bootindex && k < g.n[G_BOOTINDEX]; k++) {
			int j = g.v[G_BOOTINDEX][k];
			if (devs[j].bootindex->u.i == f->bootindex->u.i) {
				blame_dev(c, vm, i);
				ck_fail(c, "bootindex", "%lld is devices[%d]'s too (each boot index once)", f->bootindex->u.i,
				        j + 1);
			}
		}
		check_late(c, vm, f, i);

		join(&g, f->kind, i);
		if (f->chardev)
			join(&g, G_CHARDEV, i);
		if (f->devno)
			join(&g, G_DEVNO, i);
		if (f->bootindex)
			join(&g, G_BOOTINDEX, i);
	}
}

/* sandbox.spawn = "deny": QEMU dies of SIGSYS the moment it forks, so
 * whatever makes it fork is refused here instead. */
void vm_check_sandbox(struct ck *c, const struct rec *vm)
{
	const struct rec *sb = vm_sec(vm, VM_SANDBOX), *in = vm_sec(vm, VM_INCOMING);
	if (!sb || !eis(sb, SB_SPAWN, "deny"))
		return;
	if (vm_knob_on(vm, KN_DAEMONIZE))
		ck_fail(c, "sandbox.spawn", "'deny' with knobs.daemonize (QEMU forks to detach, and the sandbox "
		        "kills it)");
	if (in && eis(in, IN_TYPE, "exec"))
		ck_fail(c, "sandbox.spawn", "'deny' with incoming type 'exec' (QEMU forks to run the command, and "
		        "the sandbox kills it)");
	for (int i = 0; i < ndevices(vm); i++) {
		const struct rec *d = device(vm, i);
		if (kind_of(d) == K_NETDEV && (dfield(d, CF_SCRIPT) || dfield(d, CF_DOWN_SCRIPT)))
			ck_fail(c, "sandbox.spawn", "'deny' with devices[%d]'s %s (QEMU forks to run it, and the "
			        "sandbox kills it)", i + 1, dfield(d, CF_SCRIPT) ? "script" : "down_script");
	}
}
