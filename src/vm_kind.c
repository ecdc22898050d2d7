/* vm_kind.c - the VM description as a kind (vm_kind.h): its fields, its
 * command line as rows in QEMU's order, its whole-record check, and who
 * QEMU runs as.
 *
 * The order is the seed's, so the two command lines can be compared line
 * by line.  A row is a field rendered by its type and `.flag` (render_flag:
 * "-uuid <value>", a section as "-rtc <its keys>", a true knob as
 * "-nodefaults"), or a hook from vm_hooks.c, vm_memory.c or vm_firmware.c
 * where QEMU's shape is irregular. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "spawn.h"
#include "vm_kind.h"

static const struct field vm_fields[] = {
	[VM_PATH] = { .name = "path", .type = T_PATH,
	              .doc = "QEMU binary (default: $QLUA_QEMU, else qemu-system-<host arch>)" },
	[VM_NAME] = { .name = "name", .type = T_STR, .doc = "guest name" },
	[VM_UUID] = { .name = "uuid", .type = T_UUID, .flag = "-uuid", .doc = "system UUID" },
	[VM_MACHINE] = { .name = "machine", .type = T_REC, .sub = &sec_machine, .doc = "machine type and accelerator" },
	[VM_CPU_MODEL] = { .name = "cpu_model", .type = T_NAME, .doc = "CPU model: max, host, ..." },
	[VM_CPU_FEATURES] = { .name = "cpu_features", .type = T_PROPS,
	                      .doc = "CPU properties: { pmu = false }" },
	[VM_QMP] = { .name = "qmp", .type = T_RECS, .sub = &sec_qmp, .doc = "monitor sockets" },
	[VM_MEMORY] = { .name = "memory", .type = T_REC, .sub = &sec_memory, .doc = "guest memory" },
	[VM_SMP] = { .name = "smp", .type = T_REC, .flag = "-smp", .sub = &sec_smp, .doc = "vCPUs" },
	[VM_DEVICES] = { .name = "devices", .type = T_DEVS, .doc = "device values (qemu.block{...}, ...)" },
	[VM_RTC] = { .name = "rtc", .type = T_REC, .flag = "-rtc", .sub = &sec_rtc, .doc = "real-time clock" },
	[VM_GLOBAL] = { .name = "global", .type = T_STRS, .flag = "-global",
	                .doc = "'driver.property=value' defaults, one or a list" },
	[VM_VGA] = { .name = "vga", .type = T_ENUM, .flag = "-vga",
	             .choices = CHOICES("std", "cirrus", "vmware", "qxl", "xenfb", "tcx", "cg3", "virtio", "none"),
	             .doc = "display adapter" },
	[VM_KERNEL] = { .name = "kernel", .type = T_REC, .sub = &sec_kernel, .doc = "direct kernel boot" },
	[VM_BIOS] = { .name = "bios", .type = T_PATH, .flag = "-bios", .doc = "firmware image" },
	[VM_KNOBS] = { .name = "knobs", .type = T_REC, .sub = &sec_knobs, .doc = "QEMU switches" },
	[VM_PFLASH] = { .name = "pflash", .type = T_STRS,
	                .doc = "flash images, units 0 and 1 (e.g. OVMF code and variables), raw format" },
	[VM_FIRMWARE] = { .name = "firmware", .type = T_ENUM, .choices = CHOICES("bios", "uefi", "uefi-secure"),
	                  .doc = "'bios': QEMU's own (SeaBIOS); 'uefi': OVMF, with a private copy of its variables "
	                         "made at launch; 'uefi-secure': OVMF with Secure Boot (q35, SMM on). Not with "
	                         "'bios' or 'pflash'; OVMF from $QLUA_OVMF_DIR, else /usr/share/OVMF" },
	[VM_IOTHREADS] = { .name = "iothreads", .type = T_RECS, .flag = "-object", .sub = &sec_iothread,
	                   .doc = "I/O threads: { {id = 'io0'}, ... }" },
	[VM_INCOMING] = { .name = "incoming", .type = T_REC, .sub = &sec_incoming,
	                  .doc = "receive a migration: {type = 'defer'|'fd'|'exec', fd, exec}" },
	[VM_PIDFILE] = { .name = "pidfile", .type = T_PATH, .flag = "-pidfile", .doc = "QEMU writes its pid here" },
	[VM_FW_CFG] = { .name = "fw_cfg", .type = T_RECS, .flag = "-fw_cfg", .sub = &sec_fw_cfg,
	                .doc = "fw_cfg items: { {name = 'opt/...', file | string}, ... }, each name once" },
	[VM_SANDBOX] = { .name = "sandbox", .type = T_REC, .flag = "-sandbox", .sub = &sec_sandbox,
	                 .doc = "seccomp sandbox: {} for on, or options { spawn = 'deny', ... }" },
	[VM_NUMA] = { .name = "numa", .type = T_REC, .sub = &sec_numa,
	              .doc = "guest NUMA nodes and distances" },
	[VM_UID] = { .name = "uid", .type = T_UINT, .max = 4294967294LL,
	             .doc = "user QEMU runs as (qemu.launch and qemu.run; only when given)" },
	[VM_GID] = { .name = "gid", .type = T_UINT, .max = 4294967294LL,
	             .doc = "group QEMU runs as (qemu.launch and qemu.run; only when given)" },
	[VM_GROUPS] = { .name = "groups", .type = T_UINTS, .max = 4294967294LL,
	                .doc = "supplementary groups QEMU runs with, at most 64 ({}: none; only when given)" },
	[VM_DEBUG] = { .name = "debug", .type = T_BOOL, .doc = "name QEMU's threads (-name debug-threads=on)" },
	[VM_LOG_FILE] = { .name = "log_file", .type = T_PATH, .flag = "-D", .doc = "QEMU's debug log (-D)" },
	[VM_BOOT] = { .name = "boot", .type = T_REC, .flag = "-boot", .sub = &sec_boot,
	              .doc = "firmware boot order: { order = 'dc', once, menu, strict }" },
	[VM_SMBIOS] = { .name = "smbios", .type = T_RECS, .flag = "-smbios", .sub = &sec_smbios,
	                .doc = "SMBIOS structures: { {type = 1, serial = '...'}, ... }" },
	[VM_EXTRA_ARGS] = { .name = "extra_args", .type = T_STRS, .flags = F_LIST,
	                    .doc = "arguments appended verbatim, after everything else: a list, one string each" },
	[VM_PREPARE] = { .name = "prepare", .type = T_RECS, .sub = &sec_prepare,
	                 .doc = "commands a launch runs first, in order: { {argv = {...}, remove = path}, ... }" },
	[VM_SSH] = { .name = "ssh", .type = T_REC, .sub = &sec_ssh,
	             .doc = "vm:ssh's login: { user, key, guest_port } (renders nothing)" },
};

/* ---- transports ---- */

/* Is machine option `key` on (true, or the string "on")? */
int vm_machine_option_on(const struct rec *ma, const char *key)
{
	for (int p = 0; ma && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++) {
		const struct prop *o = &ma->v[MA_OPTIONS].u.props.v[p];
		if (!strcmp(o->key, key))
			return o->len == 2 && !memcmp(o->val, "on", 2);
	}
	return 0;
}

int vm_machine_option_set(const struct rec *ma, const char *key)
{
	for (int p = 0; ma && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++)
		if (!strcmp(ma->v[MA_OPTIONS].u.props.v[p].key, key))
			return 1;
	return 0;
}

/* The transport the machine gives virtio devices (see render.h).  The
 * binary is the one that will run: the description's path, else the
 * default ($QLUA_QEMU, else qemu-system-<host arch>). */
int vm_machine_transport(const struct rec *vm, char *why, size_t n)
{
	const struct rec *ma = vm_sec(vm, VM_MACHINE);
	const char *type = ma && has(ma, MA_TYPE) ? sval(ma, MA_TYPE) : NULL;
	const char *path = has(vm, VM_PATH) ? sval(vm, VM_PATH) : qlua_default_qemu();
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int t = TR_PCI;
	if (type && !strcmp(type, "microvm"))
		t = vm_machine_option_on(ma, "pcie") ? TR_PCI : TR_MMIO;
	else if ((type && !strncmp(type, "s390-ccw-virtio", 15)) || !strncmp(base, "qemu-system-s390x", 17))
		t = TR_CCW;
	if (why && type && t == TR_PCI && !strcmp(type, "microvm"))
		snprintf(why, n, "machine type 'microvm' with options.pcie");
	else if (why && type && (t != TR_CCW || !strncmp(type, "s390-ccw-virtio", 15)))
		snprintf(why, n, "machine type '%s'", type);
	else if (why)
		snprintf(why, n, "%s", base);
	return t;
}

int rec_transport(const struct rec *d)
{
	int f = d->k->tr ? schema_cf(d->k, CF_TRANSPORT) : -1;
	if (f < 0 || !d->v[f].set)
		return -1;
	const char *name = kind_fields(d->k)[f].choices[d->v[f].u.i];
	for (int t = 0; t < TR_COUNT; t++)
		if (!strcmp(transport_names[t], name))
			return t;
	return -1;
}

int vm_transport(const struct rec *vm, const struct rec *d, char *why, size_t n)
{
	int t = rec_transport(d);
	if (t >= 0) {
		if (why)
			snprintf(why, n, "its 'transport' field");
		return t;
	}
	return vm_machine_transport(vm, why, n);
}

const struct rec *vm_bus_device(const struct rec *vm, const char *bus, size_t n)
{
	for (int i = 0; has(vm, VM_DEVICES) && i < vm->v[VM_DEVICES].u.recs.n; i++) {
		const struct rec *d = vm->v[VM_DEVICES].u.recs.v[i];
		for (int f = 0; f < d->k->nfields; f++) {
			const struct field *fl = &kind_fields(d->k)[f];
			if (fl->type != T_ID || !(fl->flags & (F_BUS | F_BUS0)) || !d->v[f].set)
				continue;
			size_t idn = d->v[f].u.str.n;
			if (!memcmp(d->v[f].u.str.s, bus, idn < n ? idn : n) &&
			    (fl->flags & F_BUS0 ? n == idn + 2 && !memcmp(bus + idn, ".0", 2) : n == idn))
				return d;
		}
	}
	return NULL;
}

/* ---- checking ---- */

/* -cpu splits on every comma: ",," is no escape there. */
static void check_cpu_features(struct ck *c, const struct rec *vm)
{
	const struct qval *p = &vm->v[VM_CPU_FEATURES];
	for (int i = 0; p->set && i < p->u.props.n; i++)
		if (p->u.props.v[i].is_str && memchr(p->u.props.v[i].val, ',', p->u.props.v[i].len)) {
			char name[96];
			snprintf(name, sizeof name, "cpu_features.%s", p->u.props.v[i].key);
			ck_fail(c, name, "contains a comma, which -cpu cannot take");
		}
}

/* QEMU reads "driver.property=value" with sscanf("%[^.=].%[^=]="). */
static void check_global(struct ck *c, const struct rec *vm)
{
	const struct qval *g = &vm->v[VM_GLOBAL];
	for (int i = 0; g->set && i < g->u.strs.n; i++) {
		const char *s = g->u.strs.v[i];
		size_t d = strcspn(s, ".="), p = d < strlen(s) ? strcspn(s + d + 1, "=") : 0;
		if (!d || s[d] != '.' || !p || s[d + 1 + p] != '=') {
			char name[32];
			snprintf(name, sizeof name, g->u.strs.list ? "global[%d]" : "global", i + 1);
			ck_fail(c, name, "invalid global '%s' (expected 'driver.property=value')", s);
		}
	}
}

static void check_pflash(struct ck *c, const struct rec *vm)
{
	const struct qval *p = &vm->v[VM_PFLASH];
	char name[32];
	if (!p->set)
		return;
	for (int i = 0; i < p->u.strs.n; i++)
		if (!p->u.strs.len[i]) {
			snprintf(name, sizeof name, "pflash[%d]", i + 1);
			ck_fail(c, name, "empty string (a flash image path)");
		}
	if (p->u.strs.n > 2)
		ck_fail(c, "pflash", "%d images, but QEMU's machines have two flash units (0 and 1)", p->u.strs.n);
	if (!p->u.strs.n)
		ck_fail(c, "pflash", "empty list (leave the field out instead)");
}

/* Each fw_cfg item once. */
static void check_fw_cfg(struct ck *c, const struct rec *vm)
{
	const struct qval *f = &vm->v[VM_FW_CFG];
	for (int i = 0; f->set && i < f->u.recs.n; i++)
		for (int j = 0; j < i; j++)
			if (slen(f->u.recs.v[i], FW_NAME) == slen(f->u.recs.v[j], FW_NAME) &&
			    !memcmp(sval(f->u.recs.v[i], FW_NAME), sval(f->u.recs.v[j], FW_NAME), slen(f->u.recs.v[i], FW_NAME))) {
				char name[40];
				snprintf(name, sizeof name, "fw_cfg[%d].name", i + 1);
				ck_fail(c, name, "'%s' is fw_cfg[%d]'s too (each item once)", sval(f->u.recs.v[i], FW_NAME), j + 1);
			}
}

/* QEMU removes a pidfile it cannot truncate: given /dev/null or /dev/full
 * (or a FIFO, a socket) it would delete that path. */
static void check_pidfile(struct ck *c, const struct rec *vm)
{
	struct stat st;
	if (has(vm, VM_PIDFILE) && stat(sval(vm, VM_PIDFILE), &st) == 0 && !S_ISREG(st.st_mode))
		ck_fail(c, "pidfile", "'%s' exists and is not a regular file (QEMU removes a pidfile it cannot write)",
		        sval(vm, VM_PIDFILE));
}

/* As many as struct spawn_ids holds (vm_ids copies them there). */
static void check_groups(struct ck *c, const struct rec *vm)
{
	if (has(vm, VM_GROUPS) && vm->v[VM_GROUPS].u.ints.n > SPAWN_MAX_GROUPS)
		ck_fail(c, "groups", "%d groups (qlua passes at most %d)", vm->v[VM_GROUPS].u.ints.n, SPAWN_MAX_GROUPS);
}

/* The rules over the whole record, in the order they run (the first
 * broken one is reported); each section's own rules ran when it was
 * checked. */
static void (*const vm_checks[])(struct ck *c, const struct rec *vm) = {
	check_cpu_features, vm_check_memory_knobs, check_global, check_pflash, check_fw_cfg, check_pidfile,
	check_groups, vm_check_firmware, vm_check_numa, vm_check_devices, vm_check_sandbox,
};

static void vm_check(struct ck *c, const struct rec *vm)
{
	for (size_t i = 0; i < sizeof vm_checks / sizeof vm_checks[0]; i++)
		vm_checks[i](c, vm);
}

/* ---- who QEMU runs as ---- */

/* A fact of the checked record, not an option: rendering never sees it
 * (check_groups kept the groups within the struct's room). */
void vm_ids(const struct rec *vm, struct spawn_ids *ids)
{
	memset(ids, 0, sizeof *ids);
	if (has(vm, VM_UID)) {
		ids->set_uid = 1;
		ids->uid = (uid_t)ival(vm, VM_UID);
	}
	if (has(vm, VM_GID)) {
		ids->set_gid = 1;
		ids->gid = (gid_t)ival(vm, VM_GID);
	}
	if (has(vm, VM_GROUPS)) {
		ids->set_groups = 1;
		ids->ngroups = vm->v[VM_GROUPS].u.ints.n;
		for (int i = 0; i < ids->ngroups; i++)
			ids->groups[i] = (gid_t)vm->v[VM_GROUPS].u.ints.v[i];
	}
}

/* ---- rendering ---- */

/* One row of the command line: field `field` of the VM (or, with sub >= 0,
 * field `sub` of that section: a knob) rendered by its type and flag, or a
 * hook. */
struct row {
	signed char field, sub;
	void (*hook)(struct render *rc, const struct rec *vm);
};
#define FIELD(f) { (f), -1, NULL }
#define KNOB(k) { VM_KNOBS, (k), NULL }
#define HOOK(h) { -1, -1, (h) }

static const struct row vm_rows[] = {
	HOOK(vm_render_name), FIELD(VM_UUID), HOOK(vm_render_machine), HOOK(vm_render_accel),
	HOOK(vm_render_cpu), HOOK(vm_render_qmp), HOOK(vm_render_memory), HOOK(vm_render_numa),
	FIELD(VM_IOTHREADS),  /* before the devices that name them */
	FIELD(VM_DEVICES), FIELD(VM_RTC), FIELD(VM_GLOBAL), HOOK(vm_render_pflash), HOOK(vm_render_firmware),
	FIELD(VM_VGA),
	KNOB(KN_NO_USER_CONFIG), KNOB(KN_NO_DEFAULTS), KNOB(KN_NO_GRAPHIC), KNOB(KN_DAEMONIZE), KNOB(KN_STOPPED),
	KNOB(KN_NO_REBOOT), KNOB(KN_NO_SHUTDOWN),
	KNOB(KN_MLOCK),  /* -realtime mlock=on is gone: -overcommit mem-lock=on; off is QEMU's default */
	FIELD(VM_KERNEL), FIELD(VM_BIOS), FIELD(VM_BOOT), FIELD(VM_SMBIOS), KNOB(KN_SNAPSHOT),
	HOOK(vm_render_incoming), FIELD(VM_PIDFILE), FIELD(VM_FW_CFG), FIELD(VM_SANDBOX), FIELD(VM_LOG_FILE),
	FIELD(VM_SMP),
};

/* After whatever qlua adds at launch (render.c): extra_args are the last word. */
static const struct row vm_tail_rows[] = {
	HOOK(vm_render_prepare), FIELD(VM_EXTRA_ARGS),
};

static void render_rows(struct render *rc, const struct rec *vm, const struct row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		if (w->hook)
			w->hook(rc, vm);
		else if (!has(vm, w->field))
			continue;  /* (most rows are unset: no call for them) */
		else if (w->sub < 0)
			render_flag(rc, vm, w->field);
		else if (has(vm->v[w->field].u.rec, w->sub))  /* (nor for a section's, the knobs') */
			render_flag(rc, vm->v[w->field].u.rec, w->sub);
	}
}

static void vm_render(struct render *rc, const struct rec *vm)
{
	render_rows(rc, vm, vm_rows, NFIELDS(vm_rows));
}

void render_vm_tail(struct render *rc, const struct rec *vm)
{
	render_rows(rc, vm, vm_tail_rows, NFIELDS(vm_tail_rows));
}

const struct kind schema_vm = {
	.name = "vm", FIELDS(vm_fields),
	.doc = "a VM description", .check = vm_check, .render = vm_render,
};

/* Its sections, and theirs (schema.h's registry): the kinds vm_fields and
 * numa's fields name as `sub`. */
const struct kind *const schema_vm_sections[] = {
	&sec_machine, &sec_qmp, &sec_memory, &sec_smp, &sec_rtc, &sec_kernel, &sec_knobs, &sec_iothread,
	&sec_incoming, &sec_fw_cfg, &sec_sandbox, &sec_numa, &sec_numa_node, &sec_numa_dist, &sec_boot,
	&sec_smbios, &sec_prepare, &sec_ssh, NULL,
};

const char *qlua_default_qemu(void)
{
	static char path[128];
	const char *env = getenv("QLUA_QEMU");
	if (env && *env)
		return env;
	if (!path[0]) {
		struct utsname u;
		uname(&u);
		/* qemu-system-<arch> as Debian names it; i686 and friends are i386 */
		const char *arch = u.machine;
		if (arch[0] == 'i' && !strcmp(arch + 2, "86"))
			arch = "i386";
		snprintf(path, sizeof path, "qemu-system-%s", arch);
	}
	return path;
}

/* ---- rendering the VM (render.h): the context its devices get ---------- */

int render_knob(const struct render *rc, int k)
{
	return vm_knob_on(rc->vm, k);
}

const struct rec *render_bus_device(const struct render *rc, const char *bus, size_t n)
{
	return vm_bus_device(rc->vm, bus, n);
}

void render_vm(struct emit *e, const struct rec *vm, const char *path, const struct runtime *rt)
{
	struct render rc = { .e = e, .vm = vm, .transport = vm_machine_transport(vm, NULL, 0),
	                     .iommu_platform = (unsigned char)vm_knob_on(vm, KN_IOMMU_PLATFORM) };
	emit_word(e, path);
	schema_vm.render(&rc, vm);
	if (rt)
		render_runtime(&rc, rt);
	render_vm_tail(&rc, vm);
}
