/* sections.c - the VM description itself: its sections as data, and the
 * order in which they become QEMU options (the seed's order, so the two
 * command lines can be compared line by line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "emit.h"
#include "render.h"
#include "schema.h"

/* ---- machine ------------------------------------------------------------------ */

enum { MA_TYPE, MA_ACCEL, MA_OPTIONS };
static const struct field machine_fields[] = {
	[MA_TYPE] = { .name = "type", .type = T_NAME, .doc = "machine type: q35, pc, microvm, ..." },
	[MA_ACCEL] = { .name = "accel", .type = T_STR,
	               .doc = "accelerators in order of preference: 'kvm:tcg'" },
	[MA_OPTIONS] = { .name = "options", .type = T_PROPS,
	                 .doc = "machine properties: { nvdimm = true, usb = false }" },
};

static const char *const accels[] = { "kvm", "tcg", "xen", "hvf", "whpx", "nvmm", "hax", "qtest", NULL };

static void machine_check(struct ck *c, const struct rec *r)
{
	if (!has(r, MA_ACCEL))
		return;
	const char *s = sval(r, MA_ACCEL), *end = s + slen(r, MA_ACCEL);
	while (s < end) {
		const char *colon = memchr(s, ':', end - s);
		size_t n = (colon ? colon : end) - s;
		int ok = 0;
		for (int i = 0; accels[i]; i++)
			ok |= strlen(accels[i]) == n && !memcmp(accels[i], s, n);
		if (!ok)
			ck_fail(c, "accel", "invalid accelerator '%.*s' (expected 'kvm', 'tcg', 'xen', 'hvf', "
			        "'whpx', 'nvmm', 'hax' or 'qtest', separated by ':')", (int)n, s);
		s += n + 1;
	}
}

static const struct kind sec_machine = {
	.name = "machine", .fields = machine_fields, .nfields = NFIELDS(machine_fields),
	.doc = "the machine QEMU emulates", .check = machine_check,
};

/* ---- memory ------------------------------------------------------------------- */

enum { ME_SIZE, ME_SLOTS, ME_MAXMEM, ME_PATH };
static const struct field memory_fields[] = {
	[ME_SIZE] = { .name = "size", .type = T_SIZE, .flags = F_REQ, .doc = "guest RAM" },
	[ME_SLOTS] = { .name = "slots", .type = T_UINT, .min = 1, .max = 255,
	               .doc = "hot-plug memory slots (needs maxmem)" },
	[ME_MAXMEM] = { .name = "maxmem", .type = T_SIZE, .doc = "RAM limit including hot-plugged memory" },
	[ME_PATH] = { .name = "path", .type = T_PATH, .doc = "back guest RAM with a file here" },
};

static void memory_check(struct ck *c, const struct rec *r)
{
	unsigned long long size = r->v[ME_SIZE].u.size;
	if (size < (1ULL << 20))
		ck_fail(c, "size", "guest RAM below 1M (a plain number is bytes: write '%lluM' for megabytes)", size);
	if (has(r, ME_MAXMEM) && r->v[ME_MAXMEM].u.size < size)
		ck_fail(c, "maxmem", "smaller than 'size'");
	if (has(r, ME_SLOTS) != has(r, ME_MAXMEM))
		ck_fail(c, has(r, ME_SLOTS) ? "slots" : "maxmem", "QEMU needs 'slots' and 'maxmem' together");
}

static const struct kind sec_memory = {
	.name = "memory", .fields = memory_fields, .nfields = NFIELDS(memory_fields),
	.doc = "guest memory", .check = memory_check,
};

/* ---- smp ------------------------------------------------------------------------ */

enum { SM_CPUS, SM_CORES, SM_THREADS, SM_SOCKETS, SM_MAXCPUS };
static const struct field smp_fields[] = {
	[SM_CPUS] = { .name = "cpus", .type = T_UINT, .flags = F_REQ, .min = 1, .max = 4096, .opt = 1,
	              .doc = "vCPUs at start" },
	[SM_CORES] = { .name = "cores", .type = T_UINT, .min = 1, .max = 4096, .opt = 1, .key = "cores",
	               .doc = "cores per socket" },
	[SM_THREADS] = { .name = "threads", .type = T_UINT, .min = 1, .max = 4096, .opt = 1, .key = "threads",
	                 .doc = "threads per core" },
	[SM_SOCKETS] = { .name = "sockets", .type = T_UINT, .min = 1, .max = 4096, .opt = 1, .key = "sockets",
	                 .doc = "sockets" },
	[SM_MAXCPUS] = { .name = "maxcpus", .type = T_UINT, .min = 1, .max = 4096, .opt = 1, .key = "maxcpus",
	                 .doc = "vCPUs including hot-pluggable ones" },
};

/* QEMU's rule: sockets * cores * threads = maxcpus (maxcpus defaults to
 * cpus), and the parts left out are derived from the others. */
static void smp_check(struct ck *c, const struct rec *r)
{
	long long cpus = ival(r, SM_CPUS);
	long long max = has(r, SM_MAXCPUS) ? ival(r, SM_MAXCPUS) : cpus;
	if (max < cpus)
		ck_fail(c, "maxcpus", "%lld is less than 'cpus' (%lld)", max, cpus);
	long long prod = 1;
	int given = 0;
	for (int f = SM_CORES; f <= SM_SOCKETS; f++)
		if (has(r, f))
			prod *= ival(r, f), given++;
	if (given == 3 && prod != max)
		ck_fail(c, NULL, "smp: sockets (%lld) * cores (%lld) * threads (%lld) = %lld, but %s is %lld",
		        ival(r, SM_SOCKETS), ival(r, SM_CORES), ival(r, SM_THREADS), prod,
		        has(r, SM_MAXCPUS) ? "maxcpus" : "cpus", max);
	if (given && given < 3 && max % prod)
		ck_fail(c, NULL, "smp: %s (%lld) is not a multiple of the topology given (%lld)",
		        has(r, SM_MAXCPUS) ? "maxcpus" : "cpus", max, prod);
}

static const struct kind sec_smp = {
	.name = "smp", .fields = smp_fields, .nfields = NFIELDS(smp_fields),
	.doc = "vCPUs and their topology", .check = smp_check,
};

/* ---- kernel, rtc, qmp, knobs ------------------------------------------------------ */

enum { KE_PATH, KE_INITRD, KE_PARAMS };
static const struct field kernel_fields[] = {
	[KE_PATH] = { .name = "path", .type = T_PATH, .flags = F_REQ, .doc = "kernel image" },
	[KE_INITRD] = { .name = "initrd", .type = T_PATH, .doc = "initial ramdisk" },
	[KE_PARAMS] = { .name = "params", .type = T_STR, .doc = "kernel command line" },
};
static const struct kind sec_kernel = {
	.name = "kernel", .fields = kernel_fields, .nfields = NFIELDS(kernel_fields),
	.doc = "direct kernel boot",
};

enum { RT_BASE, RT_DRIFTFIX, RT_CLOCK };
static const struct field rtc_fields[] = {
	[RT_BASE] = { .name = "base", .type = T_RTCBASE, .opt = 1, .key = "base",
	              .doc = "'utc', 'localtime' or a start date (2006-06-17T16:01:21)" },
	[RT_DRIFTFIX] = { .name = "driftfix", .type = T_ENUM, .opt = 1, .key = "driftfix",
	                  .choices = CHOICES("slew", "none"), .doc = "catch up lost ticks" },
	[RT_CLOCK] = { .name = "clock", .type = T_ENUM, .opt = 1, .key = "clock",
	               .choices = CHOICES("host", "rt", "vm"), .doc = "clock the RTC follows" },
};
static const struct kind sec_rtc = {
	.name = "rtc", .fields = rtc_fields, .nfields = NFIELDS(rtc_fields), .doc = "the real-time clock",
};

enum { QM_PATH, QM_FD, QM_SERVER, QM_WAIT, QM_PROTOCOL };
static const struct field qmp_fields[] = {
	[QM_PATH] = { .name = "path", .type = T_PATH, .doc = "unix socket path" },
	[QM_FD] = { .name = "fd", .type = T_FD, .doc = "a socket descriptor (connected, or listening with server)" },
	[QM_SERVER] = { .name = "server", .type = T_BOOL,
	                .doc = "QEMU listens (default: true with path, false with fd)" },
	[QM_WAIT] = { .name = "wait", .type = T_BOOL, .def = "false",
	              .doc = "QEMU waits for a client before starting" },
	[QM_PROTOCOL] = { .name = "protocol", .type = T_ENUM, .def = "qmp",
	                  .choices = CHOICES("qmp", "qmp-pretty", "hmp"), .doc = "monitor protocol" },
};

static void qmp_check(struct ck *c, const struct rec *r)
{
	const char *p = ck_prefix(c);
	if (has(r, QM_PATH) && has(r, QM_FD))
		ck_fail(c, "fd", "give 'path' or 'fd', not both");
	if (!has(r, QM_PATH) && !has(r, QM_FD))
		ck_fail(c, NULL, "field '%spath' or '%sfd' is required", p, p);
	int server = has(r, QM_SERVER) ? ival(r, QM_SERVER) : has(r, QM_PATH);
	if (!server && r->v[QM_WAIT].set == 1)
		ck_fail(c, "wait", "only used with 'server = true'");
}

static const struct kind sec_qmp = {
	.name = "qmp", .fields = qmp_fields, .nfields = NFIELDS(qmp_fields),
	.doc = "a QMP (or HMP) monitor socket", .check = qmp_check,
};

enum { KN_NO_USER_CONFIG, KN_NO_DEFAULTS, KN_NO_GRAPHIC, KN_DAEMONIZE, KN_HUGEPAGES,
       KN_MEM_PREALLOC, KN_FILE_BACKED_MEM, KN_MEM_SHARED, KN_MLOCK, KN_REALTIME, KN_STOPPED,
       KN_NO_REBOOT, KN_NO_SHUTDOWN, KN_IOMMU_PLATFORM };
static const struct field knobs_fields[] = {
	[KN_NO_USER_CONFIG] = { .name = "no_user_config", .type = T_BOOL, .doc = "-no-user-config" },
	[KN_NO_DEFAULTS] = { .name = "no_defaults", .type = T_BOOL, .doc = "-nodefaults: no default devices" },
	[KN_NO_GRAPHIC] = { .name = "no_graphic", .type = T_BOOL, .doc = "-nographic" },
	[KN_DAEMONIZE] = { .name = "daemonize", .type = T_BOOL, .doc = "QEMU detaches itself" },
	[KN_HUGEPAGES] = { .name = "hugepages", .type = T_BOOL,
	                   .doc = "RAM from /dev/hugepages (or memory.path), shared, preallocated" },
	[KN_MEM_PREALLOC] = { .name = "mem_prealloc", .type = T_BOOL, .doc = "allocate all RAM at start" },
	[KN_FILE_BACKED_MEM] = { .name = "file_backed_mem", .type = T_BOOL,
	                         .doc = "RAM from the file at memory.path (required with it)" },
	[KN_MEM_SHARED] = { .name = "mem_shared", .type = T_BOOL,
	                    .doc = "RAM shared with other processes (share=on; a memfd without memory.path), "
	                           "as vhost-user backends need" },
	[KN_MLOCK] = { .name = "mlock", .type = T_BOOL, .doc = "lock RAM (-overcommit mem-lock=on)" },
	[KN_REALTIME] = { .name = "realtime", .type = T_BOOL,
	                  .doc = "kept for the seed's configs: only 'mlock' had an effect" },
	[KN_STOPPED] = { .name = "stopped", .type = T_BOOL, .doc = "start paused (-S)" },
	[KN_NO_REBOOT] = { .name = "no_reboot", .type = T_BOOL, .doc = "exit instead of rebooting" },
	[KN_NO_SHUTDOWN] = { .name = "no_shutdown", .type = T_BOOL, .doc = "stop instead of exiting on shutdown" },
	[KN_IOMMU_PLATFORM] = { .name = "iommu_platform", .type = T_BOOL,
	                        .doc = "virtio devices reach guest memory through the vIOMMU (iommu_platform=on; "
	                               "transitional virtio-pci devices become modern-only)" },
};
static const struct kind sec_knobs = {
	.name = "knobs", .fields = knobs_fields, .nfields = NFIELDS(knobs_fields),
	.doc = "QEMU switches",
};

/* ---- the VM ------------------------------------------------------------------------ */

enum { VM_PATH, VM_NAME, VM_UUID, VM_MACHINE, VM_CPU_MODEL, VM_CPU_FEATURES, VM_QMP, VM_MEMORY,
       VM_SMP, VM_DEVICES, VM_RTC, VM_GLOBAL, VM_VGA, VM_KERNEL, VM_BIOS, VM_KNOBS, VM_EXTRA_ARGS };
static const struct field vm_fields[] = {
	[VM_PATH] = { .name = "path", .type = T_PATH,
	              .doc = "QEMU binary (default: $QLUA_QEMU, else qemu-system-<host arch>)" },
	[VM_NAME] = { .name = "name", .type = T_STR, .doc = "guest name" },
	[VM_UUID] = { .name = "uuid", .type = T_UUID, .doc = "system UUID" },
	[VM_MACHINE] = { .name = "machine", .type = T_REC, .sub = &sec_machine, .doc = "machine type and accelerator" },
	[VM_CPU_MODEL] = { .name = "cpu_model", .type = T_NAME, .doc = "CPU model: max, host, ..." },
	[VM_CPU_FEATURES] = { .name = "cpu_features", .type = T_PROPS,
	                      .doc = "CPU properties: { pmu = false }" },
	[VM_QMP] = { .name = "qmp", .type = T_RECS, .sub = &sec_qmp, .doc = "monitor sockets" },
	[VM_MEMORY] = { .name = "memory", .type = T_REC, .sub = &sec_memory, .doc = "guest memory" },
	[VM_SMP] = { .name = "smp", .type = T_REC, .sub = &sec_smp, .doc = "vCPUs" },
	[VM_DEVICES] = { .name = "devices", .type = T_DEVS, .doc = "device values (qemu.block{...}, ...)" },
	[VM_RTC] = { .name = "rtc", .type = T_REC, .sub = &sec_rtc, .doc = "real-time clock" },
	[VM_GLOBAL] = { .name = "global", .type = T_STRS,
	                .doc = "'driver.property=value' defaults, one or a list" },
	[VM_VGA] = { .name = "vga", .type = T_ENUM,
	             .choices = CHOICES("std", "cirrus", "vmware", "qxl", "xenfb", "tcx", "cg3", "virtio", "none"),
	             .doc = "display adapter" },
	[VM_KERNEL] = { .name = "kernel", .type = T_REC, .sub = &sec_kernel, .doc = "direct kernel boot" },
	[VM_BIOS] = { .name = "bios", .type = T_PATH, .doc = "firmware image" },
	[VM_KNOBS] = { .name = "knobs", .type = T_REC, .sub = &sec_knobs, .doc = "QEMU switches" },
	[VM_EXTRA_ARGS] = { .name = "extra_args", .type = T_STRS,
	                    .doc = "arguments appended verbatim, after everything else" },
};

static int knob(const struct rec *vm, int k)
{
	const struct rec *kn = has(vm, VM_KNOBS) ? vm->v[VM_KNOBS].u.rec : NULL;
	return kn && has(kn, k) && ival(kn, k);
}

/* RAM needs an explicit backend object (the seed's rules). */
static int memory_backend(const struct rec *vm)
{
	const struct rec *m = has(vm, VM_MEMORY) ? vm->v[VM_MEMORY].u.rec : NULL;
	return m && (has(m, ME_PATH) || knob(vm, KN_HUGEPAGES) || knob(vm, KN_MEM_PREALLOC));
}

static void vm_check(struct ck *c, const struct rec *vm)
{
	if (has(vm, VM_CPU_FEATURES)) {
		/* -cpu splits on every comma: ",," is no escape there */
		const struct qval *p = &vm->v[VM_CPU_FEATURES];
		for (int i = 0; i < p->u.props.n; i++)
			if (p->u.props.v[i].is_str && memchr(p->u.props.v[i].val, ',', p->u.props.v[i].len)) {
				char name[96];
				snprintf(name, sizeof name, "cpu_features.%s", p->u.props.v[i].key);
				ck_fail(c, name, "contains a comma, which -cpu cannot take");
			}
	}
	if ((knob(vm, KN_HUGEPAGES) || knob(vm, KN_MEM_PREALLOC)) && !has(vm, VM_MEMORY))
		ck_fail(c, knob(vm, KN_HUGEPAGES) ? "knobs.hugepages" : "knobs.mem_prealloc",
		        "needs 'memory.size' (the memory is reserved up front)");
	if (has(vm, VM_GLOBAL)) {
		const struct qval *g = &vm->v[VM_GLOBAL];
		for (int i = 0; i < g->u.strs.n; i++) {
			/* QEMU reads "driver.property=value" with sscanf("%[^.=].%[^=]=") */
			const char *s = g->u.strs.v[i];
			size_t d = strcspn(s, ".="), p = d < strlen(s) ? strcspn(s + d + 1, "=") : 0;
			if (!d || s[d] != '.' || !p || s[d + 1 + p] != '=') {
				char name[32];
				snprintf(name, sizeof name, g->u.strs.list ? "global[%d]" : "global", i + 1);
				ck_fail(c, name, "invalid global '%s' (expected 'driver.property=value')", s);
			}
		}
	}
}

/* "2G", "512M", "1536K", or bytes: the exact value in the largest unit. */
static void size_text(unsigned long long v, char *b, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && v && v % 1024 == 0)
		v /= 1024, u++;
	snprintf(b, n, u < 0 ? "%lluB" : "%llu%c", v, u < 0 ? 0 : units[u]);
}

static void vm_render(struct emit *e, const struct rec *vm)
{
	char b[64];
	if (has(vm, VM_NAME)) {
		/* guest= spelled out: a bare name containing '=' would be read as a key */
		opt_begin(e, "-name");
		opt_str(e, "guest", sval(vm, VM_NAME), slen(vm, VM_NAME));
		opt_end(e);
	}
	if (has(vm, VM_UUID))
		emit_arg(e, "-uuid", sval(vm, VM_UUID), slen(vm, VM_UUID));

	const struct rec *ma = has(vm, VM_MACHINE) ? vm->v[VM_MACHINE].u.rec : NULL;
	int backend = memory_backend(vm);
	if ((ma && (has(ma, MA_TYPE) || has(ma, MA_OPTIONS))) || backend) {
		opt_begin(e, "-machine");
		if (ma && has(ma, MA_TYPE))
			opt_head(e, sval(ma, MA_TYPE), slen(ma, MA_TYPE));
		if (ma && has(ma, MA_OPTIONS))
			render_field(e, ma, MA_OPTIONS);
		if (backend)
			opt_cstr(e, "memory-backend", "qlua-mem");
		opt_end(e);
	}
	if (ma && has(ma, MA_ACCEL)) {
		/* "kvm:tcg" as -accel options: QEMU tries them in order */
		const char *s = sval(ma, MA_ACCEL), *end = s + slen(ma, MA_ACCEL);
		while (s < end) {
			const char *colon = memchr(s, ':', end - s);
			size_t n = (colon ? colon : end) - s;
			opt_begin(e, "-accel");
			opt_head(e, s, n);
			opt_end(e);
			s += n + 1;
		}
	}
	if (has(vm, VM_CPU_MODEL)) {
		opt_begin(e, "-cpu");
		opt_head(e, sval(vm, VM_CPU_MODEL), slen(vm, VM_CPU_MODEL));
		render_field(e, vm, VM_CPU_FEATURES);
		opt_end(e);
	}
	if (has(vm, VM_QMP)) {
		for (int i = 0; i < vm->v[VM_QMP].u.recs.n; i++) {
			const struct rec *q = vm->v[VM_QMP].u.recs.v[i];
			int server = has(q, QM_SERVER) ? ival(q, QM_SERVER) : has(q, QM_PATH);
			snprintf(b, sizeof b, "qlua-qmp%d", i);
			opt_begin(e, "-chardev");
			opt_head(e, "socket", 6);
			opt_cstr(e, "id", b);
			if (has(q, QM_PATH))
				opt_str(e, "path", sval(q, QM_PATH), slen(q, QM_PATH));
			else
				opt_fd(e, "fd", q->v[QM_FD].u.fd);
			if (server) {
				opt_bool(e, "server", 1);
				opt_bool(e, "wait", ival(q, QM_WAIT));
			}
			opt_end(e);
			opt_begin(e, "-mon");
			opt_cstr(e, "chardev", b);
			opt_cstr(e, "mode", eis(q, QM_PROTOCOL, "hmp") ? "readline" : "control");
			if (eis(q, QM_PROTOCOL, "qmp-pretty"))
				opt_bool(e, "pretty", 1);
			opt_end(e);
		}
	}
	if (has(vm, VM_MEMORY)) {
		const struct rec *m = vm->v[VM_MEMORY].u.rec;
		size_text(m->v[ME_SIZE].u.size, b, sizeof b);
		opt_begin(e, "-m");
		opt_head(e, b, strlen(b));
		if (has(m, ME_SLOTS))
			opt_int(e, "slots", ival(m, ME_SLOTS));
		if (has(m, ME_MAXMEM)) {
			size_text(m->v[ME_MAXMEM].u.size, b, sizeof b);
			opt_cstr(e, "maxmem", b);
		}
		opt_end(e);
		if (backend) {
			int huge = knob(vm, KN_HUGEPAGES);
			int file = has(m, ME_PATH) || huge;
			opt_begin(e, "-object");
			opt_head(e, file ? "memory-backend-file" : "memory-backend-ram", file ? 19 : 18);
			opt_cstr(e, "id", "qlua-mem");
			opt_uint(e, "size", m->v[ME_SIZE].u.size);
			if (has(m, ME_PATH))
				opt_str(e, "mem-path", sval(m, ME_PATH), slen(m, ME_PATH));
			else if (huge)
				opt_cstr(e, "mem-path", "/dev/hugepages");
			if (huge)
				opt_bool(e, "share", 1);
			if (huge || knob(vm, KN_MEM_PREALLOC))
				opt_bool(e, "prealloc", 1);
			opt_end(e);
		}
	}
	if (has(vm, VM_DEVICES)) {
		for (int i = 0; i < vm->v[VM_DEVICES].u.recs.n; i++) {
			const struct rec *d = vm->v[VM_DEVICES].u.recs.v[i];
			d->k->render(e, d);
		}
	}
	if (has(vm, VM_RTC)) {
		opt_begin(e, "-rtc");
		render_fields(e, vm->v[VM_RTC].u.rec, 1);
		opt_end(e);
	}
	if (has(vm, VM_GLOBAL))
		for (int i = 0; i < vm->v[VM_GLOBAL].u.strs.n; i++)
			emit_arg(e, "-global", vm->v[VM_GLOBAL].u.strs.v[i], vm->v[VM_GLOBAL].u.strs.len[i]);
	if (has(vm, VM_VGA))
		emit_arg(e, "-vga", eval(vm, VM_VGA), strlen(eval(vm, VM_VGA)));

	if (knob(vm, KN_NO_USER_CONFIG)) emit_word(e, "-no-user-config");
	if (knob(vm, KN_NO_DEFAULTS)) emit_word(e, "-nodefaults");
	if (knob(vm, KN_NO_GRAPHIC)) emit_word(e, "-nographic");
	if (knob(vm, KN_DAEMONIZE)) emit_word(e, "-daemonize");
	if (knob(vm, KN_STOPPED)) emit_word(e, "-S");
	if (knob(vm, KN_NO_REBOOT)) emit_word(e, "-no-reboot");
	if (knob(vm, KN_NO_SHUTDOWN)) emit_word(e, "-no-shutdown");
	if (knob(vm, KN_MLOCK)) {
		/* -realtime mlock=on is gone; this is its replacement.  mlock off is
		 * QEMU's default and needs no option at all. */
		opt_begin(e, "-overcommit");
		opt_bool(e, "mem-lock", 1);
		opt_end(e);
	}

	if (has(vm, VM_KERNEL)) {
		const struct rec *k = vm->v[VM_KERNEL].u.rec;
		emit_arg(e, "-kernel", sval(k, KE_PATH), slen(k, KE_PATH));
		if (has(k, KE_INITRD))
			emit_arg(e, "-initrd", sval(k, KE_INITRD), slen(k, KE_INITRD));
		if (has(k, KE_PARAMS))
			emit_arg(e, "-append", sval(k, KE_PARAMS), slen(k, KE_PARAMS));
	}
	if (has(vm, VM_BIOS))
		emit_arg(e, "-bios", sval(vm, VM_BIOS), slen(vm, VM_BIOS));
	if (has(vm, VM_SMP)) {
		const struct rec *s = vm->v[VM_SMP].u.rec;
		opt_begin(e, "-smp");
		snprintf(b, sizeof b, "%lld", ival(s, SM_CPUS));
		opt_head(e, b, strlen(b));
		render_fields(e, s, 1);
		opt_end(e);
	}
}

int vm_knob(const struct rec *vm, const char *name)
{
	const struct rec *kn = has(vm, VM_KNOBS) ? vm->v[VM_KNOBS].u.rec : NULL;
	int f = schema_field(&sec_knobs, name, strlen(name));
	return kn && f >= 0 && has(kn, f) && ival(kn, f);
}

/* After whatever qlua adds at launch (render.c): extra_args are the last word. */
void render_vm_tail(struct emit *e, const struct rec *vm)
{
	if (has(vm, VM_EXTRA_ARGS))
		for (int i = 0; i < vm->v[VM_EXTRA_ARGS].u.strs.n; i++)
			emit_wordn(e, vm->v[VM_EXTRA_ARGS].u.strs.v[i], vm->v[VM_EXTRA_ARGS].u.strs.len[i]);
}

const struct kind schema_vm = {
	.name = "vm", .fields = vm_fields, .nfields = NFIELDS(vm_fields),
	.doc = "a VM description", .check = vm_check, .render = vm_render,
};
