/* vm_sections.c - the VM's sections as data (vm_kind.h): machine, smp,
 * kernel, rtc, qmp, knobs, boot, smbios, iothreads, incoming, fw_cfg,
 * sandbox, prepare and ssh, each with the rules inside it.  How a section
 * becomes QEMU options is in its rows: `.flag` (the option), `.opt`/`.key`
 * (key=value inside it), `.device` or F_HEAD (its first word); guest
 * memory and NUMA are in vm_memory.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_kind.h"

/* ---- machine ------------------------------------------------------------------ */

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
		for (int i = 0; accels[i] && !ok; i++)  /* (s has no NUL: checkstr) */
			ok = !strncmp(accels[i], s, n) && accels[i][n] == '\0';
		if (!ok)
			ck_fail(c, "accel", "invalid accelerator '%.*s' (expected 'kvm', 'tcg', 'xen', 'hvf', "
			        "'whpx', 'nvmm', 'hax' or 'qtest', separated by ':')", (int)n, s);
		s += n + 1;
	}
}

const struct kind sec_machine = {
	.name = "machine", FIELDS(machine_fields),
	.doc = "the machine QEMU emulates", .check = machine_check,
};

/* ---- smp ------------------------------------------------------------------------ */

static const struct field smp_fields[] = {
	[SM_CPUS] = { .name = "cpus", .type = T_UINT, .flags = F_REQ | F_HEAD, .min = 1, .max = 4096, .opt = 1,
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

const struct kind sec_smp = {
	.name = "smp", FIELDS(smp_fields),
	.doc = "vCPUs and their topology", .check = smp_check,
};

/* ---- kernel, rtc, qmp, knobs ------------------------------------------------------ */

static const struct field kernel_fields[] = {
	[KE_PATH] = { .name = "path", .type = T_PATH, .flags = F_REQ, .flag = "-kernel", .doc = "kernel image" },
	[KE_INITRD] = { .name = "initrd", .type = T_PATH, .flag = "-initrd", .doc = "initial ramdisk" },
	[KE_PARAMS] = { .name = "params", .type = T_STR, .flag = "-append", .doc = "kernel command line" },
};
const struct kind sec_kernel = {
	.name = "kernel", FIELDS(kernel_fields),
	.doc = "direct kernel boot",
};

static const struct field rtc_fields[] = {
	[RT_BASE] = { .name = "base", .type = T_RTCBASE, .opt = 1, .key = "base",
	              .doc = "'utc', 'localtime' or a start date (2006-06-17T16:01:21)" },
	[RT_DRIFTFIX] = { .name = "driftfix", .type = T_ENUM, .opt = 1, .key = "driftfix",
	                  .choices = CHOICES("slew", "none"), .doc = "catch up lost ticks" },
	[RT_CLOCK] = { .name = "clock", .type = T_ENUM, .opt = 1, .key = "clock",
	               .choices = CHOICES("host", "rt", "vm"), .doc = "clock the RTC follows" },
};
/* rtc = {} would be "-rtc ''", which QEMU refuses.  Refused here rather
 * than left out: every field is optional, so an empty section says nothing
 * and is most likely a mistake (a field in the wrong table). */
static void rtc_check(struct ck *c, const struct rec *r)
{
	if (!has(r, RT_BASE) && !has(r, RT_DRIFTFIX) && !has(r, RT_CLOCK)) {
		const char *p = ck_prefix(c);
		ck_fail(c, NULL, "field '%.*s': empty section (leave it out for QEMU's defaults, or give 'base', "
		        "'clock' or 'driftfix')", (int)strlen(p) - 1, p);
	}
}

const struct kind sec_rtc = {
	.name = "rtc", FIELDS(rtc_fields),
	.doc = "the real-time clock (at least one field: {} is refused)", .check = rtc_check,
};

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

const struct kind sec_qmp = {
	.name = "qmp", FIELDS(qmp_fields),
	.doc = "a QMP (or HMP) monitor socket", .check = qmp_check,
};

static const struct field knobs_fields[] = {
	[KN_NO_USER_CONFIG] = { .name = "no_user_config", .type = T_BOOL, .flag = "-no-user-config",
	                        .doc = "-no-user-config" },
	[KN_NO_DEFAULTS] = { .name = "no_defaults", .type = T_BOOL, .flag = "-nodefaults",
	                     .doc = "-nodefaults: no default devices" },
	[KN_NO_GRAPHIC] = { .name = "no_graphic", .type = T_BOOL, .flag = "-nographic", .doc = "-nographic" },
	[KN_DAEMONIZE] = { .name = "daemonize", .type = T_BOOL, .flag = "-daemonize", .doc = "QEMU detaches itself" },
	[KN_HUGEPAGES] = { .name = "hugepages", .type = T_BOOL,
	                   .doc = "RAM from /dev/hugepages (or memory.path), shared, preallocated" },
	[KN_MEM_PREALLOC] = { .name = "mem_prealloc", .type = T_BOOL, .doc = "allocate all RAM at start" },
	[KN_FILE_BACKED_MEM] = { .name = "file_backed_mem", .type = T_BOOL,
	                         .doc = "RAM from the file at memory.path (required with it)" },
	[KN_MEM_SHARED] = { .name = "mem_shared", .type = T_BOOL,
	                    .doc = "RAM shared with other processes (share=on; a memfd without memory.path), "
	                           "as vhost-user backends need" },
	/* -realtime mlock=on is gone: this is its replacement (off is QEMU's default) */
	[KN_MLOCK] = { .name = "mlock", .type = T_BOOL, .flag = "-overcommit", .key = "mem-lock",
	               .doc = "lock RAM (-overcommit mem-lock=on)" },
	[KN_REALTIME] = { .name = "realtime", .type = T_BOOL,
	                  .doc = "kept for the seed's configs: only 'mlock' had an effect" },
	[KN_STOPPED] = { .name = "stopped", .type = T_BOOL, .flag = "-S", .doc = "start paused (-S)" },
	[KN_NO_REBOOT] = { .name = "no_reboot", .type = T_BOOL, .flag = "-no-reboot",
	                   .doc = "exit instead of rebooting" },
	[KN_NO_SHUTDOWN] = { .name = "no_shutdown", .type = T_BOOL, .flag = "-no-shutdown",
	                     .doc = "stop instead of exiting on shutdown" },
	[KN_IOMMU_PLATFORM] = { .name = "iommu_platform", .type = T_BOOL,
	                        .doc = "virtio devices qlua makes reach guest memory through the vIOMMU "
	                               "(iommu_platform=on; transitional virtio-pci ones become modern-only; "
	                               "qemu.device{} is passed as given)" },
	[KN_SNAPSHOT] = { .name = "snapshot", .type = T_BOOL, .flag = "-snapshot",
	                  .doc = "writes to every disk go to temporary files, never to the images (-snapshot)" },
};
const struct kind sec_knobs = {
	.name = "knobs", FIELDS(knobs_fields),
	.doc = "QEMU switches",
};

/* ---- boot, smbios ------------------------------------------------------------------ */

static const struct field boot_fields[] = {
	[BO_ORDER] = { .name = "order", .type = T_STR, .opt = 1, .key = "order",
	               .doc = "firmware boot order, drive letters: 'c' disk, 'd' CD-ROM, 'n'..'p' network, "
	                      "'a'/'b' floppy ('dc': CD first)" },
	[BO_ONCE] = { .name = "once", .type = T_STR, .opt = 1, .key = "once",
	              .doc = "the order for the first boot only (letters as in 'order')" },
	[BO_MENU] = { .name = "menu", .type = T_BOOL, .opt = 1, .key = "menu", .doc = "show the firmware's boot menu" },
	[BO_STRICT] = { .name = "strict", .type = T_BOOL, .opt = 1, .key = "strict",
	                .doc = "boot only from the devices listed (no fallback to the others)" },
};

/* QEMU's validate_bootdevices(): letters a-p, each at most once (on x86
 * only a, b, c, d and n-p mean something). */
static void boot_letters(struct ck *c, const struct rec *r, int f)
{
	const char *s = sval(r, f);
	size_t n = slen(r, f);
	if (!n)
		ck_fail(c, kind_fields(r->k)[f].name, "empty (drive letters expected, e.g. 'dc')");
	for (size_t i = 0; i < n; i++) {
		if (!strchr("abcdnop", s[i]) || !s[i])
			ck_fail(c, kind_fields(r->k)[f].name, "invalid boot device '%c' in '%s' (expected 'a', 'b', 'c', 'd', "
			        "'n', 'o' or 'p')", s[i] ? s[i] : '?', s);
		if (memchr(s, s[i], i))
			ck_fail(c, kind_fields(r->k)[f].name, "boot device '%c' given twice in '%s'", s[i], s);
	}
}

static void boot_check(struct ck *c, const struct rec *r)
{
	if (has(r, BO_ORDER))
		boot_letters(c, r, BO_ORDER);
	if (has(r, BO_ONCE))
		boot_letters(c, r, BO_ONCE);
	if (!has(r, BO_ORDER) && !has(r, BO_ONCE) && !has(r, BO_MENU) && !has(r, BO_STRICT))
		ck_fail(c, NULL, "boot: empty section (give 'order', 'once', 'menu' or 'strict', or leave it out)");
}

const struct kind sec_boot = {
	.name = "boot", FIELDS(boot_fields),
	.doc = "firmware boot order (-boot); per device: 'bootindex'", .check = boot_check,
};

/* One -smbios entry.  Every field QEMU takes for any type is here; which
 * belong to which type is smbios_types below (QEMU refuses the others). */
static const struct field smbios_fields[] = {
	[SMB_TYPE] = { .name = "type", .type = T_UINT, .flags = F_REQ, .max = 127, .opt = 1, .key = "type",
	              .doc = "SMBIOS structure type: 0 (BIOS), 1 (system), 2 (baseboard), 3 (chassis), "
	                     "4 (processor), 11 (OEM strings), 17 (memory device)" },
	[SMB_VENDOR] = { .name = "vendor", .type = T_STR, .opt = 1, .key = "vendor", .doc = "BIOS vendor (0)" },
	[SMB_MANUFACTURER] = { .name = "manufacturer", .type = T_STR, .opt = 1, .key = "manufacturer",
	                      .doc = "manufacturer (1, 2, 3, 4, 17)" },
	[SMB_PRODUCT] = { .name = "product", .type = T_STR, .opt = 1, .key = "product", .doc = "product name (1, 2)" },
	[SMB_VERSION] = { .name = "version", .type = T_STR, .opt = 1, .key = "version", .doc = "version (0, 1, 2, 3, 4)" },
	[SMB_SERIAL] = { .name = "serial", .type = T_STR, .opt = 1, .key = "serial",
	                .doc = "serial number (1, 2, 3, 4, 17)" },
	[SMB_UUID] = { .name = "uuid", .type = T_UUID, .opt = 1, .key = "uuid", .doc = "system UUID (1)" },
	[SMB_SKU] = { .name = "sku", .type = T_STR, .opt = 1, .key = "sku", .doc = "SKU number (1, 3)" },
	[SMB_FAMILY] = { .name = "family", .type = T_STR, .opt = 1, .key = "family", .doc = "family (1)" },
	[SMB_ASSET] = { .name = "asset", .type = T_STR, .opt = 1, .key = "asset", .doc = "asset tag (2, 3, 4, 17)" },
	[SMB_LOCATION] = { .name = "location", .type = T_STR, .opt = 1, .key = "location",
	                  .doc = "location in chassis (2)" },
	[SMB_DATE] = { .name = "date", .type = T_STR, .opt = 1, .key = "date", .doc = "BIOS release date (0)" },
	[SMB_RELEASE] = { .name = "release", .type = T_STR, .opt = 1, .key = "release",
	                 .doc = "BIOS release, 'major.minor' (0)" },
	[SMB_UEFI] = { .name = "uefi", .type = T_BOOL, .opt = 1, .key = "uefi", .doc = "UEFI is supported (0)" },
	[SMB_SOCK_PFX] = { .name = "sock_pfx", .type = T_STR, .opt = 1, .key = "sock_pfx",
	                  .doc = "socket designation prefix (4)" },
	[SMB_LOC_PFX] = { .name = "loc_pfx", .type = T_STR, .opt = 1, .key = "loc_pfx",
	                 .doc = "device locator prefix (17)" },
	[SMB_BANK] = { .name = "bank", .type = T_STR, .opt = 1, .key = "bank", .doc = "bank locator (17)" },
	[SMB_PART] = { .name = "part", .type = T_STR, .opt = 1, .key = "part", .doc = "part number (4, 17)" },
	[SMB_SPEED] = { .name = "speed", .type = T_UINT, .max = 65535, .opt = 1, .key = "speed",
	               .doc = "speed in MT/s (17)" },
	[SMB_VALUE] = { .name = "value", .type = T_STR, .opt = 1, .key = "value", .doc = "an OEM string (11)" },
	[SMB_PATH] = { .name = "path", .type = T_PATH, .opt = 1, .key = "path",
	              .doc = "a file whose contents are an OEM string (11)" },
};

static const struct { int type; int fields[8]; } smbios_types[] = {
	{ 0, { SMB_VENDOR, SMB_VERSION, SMB_DATE, SMB_RELEASE, SMB_UEFI, -1 } },
	{ 1, { SMB_MANUFACTURER, SMB_PRODUCT, SMB_VERSION, SMB_SERIAL, SMB_UUID, SMB_SKU, SMB_FAMILY, -1 } },
	{ 2, { SMB_MANUFACTURER, SMB_PRODUCT, SMB_VERSION, SMB_SERIAL, SMB_ASSET, SMB_LOCATION, -1 } },
	{ 3, { SMB_MANUFACTURER, SMB_VERSION, SMB_SERIAL, SMB_ASSET, SMB_SKU, -1 } },
	{ 4, { SMB_SOCK_PFX, SMB_MANUFACTURER, SMB_VERSION, SMB_SERIAL, SMB_ASSET, SMB_PART, -1 } },
	{ 11, { SMB_VALUE, SMB_PATH, -1 } },
	{ 17, { SMB_LOC_PFX, SMB_BANK, SMB_MANUFACTURER, SMB_SERIAL, SMB_ASSET, SMB_PART, SMB_SPEED, -1 } },
};
#define NSMBIOS_TYPES (int)(sizeof smbios_types / sizeof smbios_types[0])

static void smbios_check(struct ck *c, const struct rec *r)
{
	const char *p = ck_prefix(c);
	int t = -1;
	for (int i = 0; i < NSMBIOS_TYPES; i++)
		if (smbios_types[i].type == ival(r, SMB_TYPE))
			t = i;
	if (t < 0)
		ck_fail(c, "type", "%lld is not a type QEMU sets (expected 0, 1, 2, 3, 4, 11 or 17)", ival(r, SMB_TYPE));
	for (int f = SMB_TYPE + 1; f < r->k->nfields; f++) {
		if (!has(r, f))
			continue;
		int ok = 0;
		char list[160] = "";
		size_t len = 0;
		for (int j = 0; smbios_types[t].fields[j] >= 0; j++) {
			int g = smbios_types[t].fields[j];
			ok |= g == f;
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", kind_fields(r->k)[g].name);
		}
		if (!ok)
			ck_fail(c, NULL, "field '%s%s' is not used with type %lld (type %lld takes %s)", p,
			        kind_fields(r->k)[f].name, ival(r, SMB_TYPE), ival(r, SMB_TYPE), list);
	}
	if (has(r, SMB_RELEASE)) {
		/* QEMU: sscanf("%hhu.%hhu") */
		unsigned a, b;
		char end;
		if (sscanf(sval(r, SMB_RELEASE), "%3u.%3u%c", &a, &b, &end) != 2 || a > 255 || b > 255)
			ck_fail(c, "release", "'%s' is not 'major.minor' (two numbers 0..255)", sval(r, SMB_RELEASE));
	}
}

const struct kind sec_smbios = {
	.name = "smbios", FIELDS(smbios_fields),
	.doc = "an SMBIOS structure the firmware shows the guest (-smbios)", .check = smbios_check,
};

/* ---- iothreads, incoming, fw_cfg, sandbox ----------------------------------------- */

static const struct field iothread_fields[] = {
	[IT_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_OBJECT, .opt = 1, .key = "id",
	            .doc = "iothread id (what a scsi_controller's iothread names)" },
};
const struct kind sec_iothread = {
	.name = "iothreads", FIELDS(iothread_fields), .device = "iothread",
	.doc = "an I/O thread (-object iothread)",
};

static const struct field incoming_fields[] = {
	[IN_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ, .choices = CHOICES("defer", "fd", "exec"),
	              .doc = "'defer': wait for migrate-incoming over QMP; 'fd': read the stream from 'fd'; "
	                     "'exec': from the output of the shell command 'exec'" },
	[IN_FD] = { .name = "fd", .type = T_FD, .only = WHEN(IN_TYPE, "fd"), .req = WHEN(IN_TYPE, "fd"),
	            .doc = "descriptor the migration stream comes from" },
	[IN_EXEC] = { .name = "exec", .type = T_STR, .only = WHEN(IN_TYPE, "exec"), .req = WHEN(IN_TYPE, "exec"),
	              .doc = "shell command whose output is the migration stream" },
};
const struct kind sec_incoming = {
	.name = "incoming", FIELDS(incoming_fields),
	.doc = "receive an incoming migration (-incoming); the VM stays paused afterwards (-S), as in govmm",
};

static const struct field fw_cfg_fields[] = {
	[FW_NAME] = { .name = "name", .type = T_STR, .flags = F_REQ, .opt = 1, .key = "name",
	              .doc = "item name, 'opt/...' (QEMU reserves the others), at most 55 bytes" },
	[FW_FILE] = { .name = "file", .type = T_PATH, .opt = 1, .key = "file", .doc = "the item's contents from a file" },
	[FW_STRING] = { .name = "string", .type = T_STR, .opt = 1, .key = "string", .doc = "the item's contents" },
};

static void fw_cfg_check(struct ck *c, const struct rec *r)
{
	const char *p = ck_prefix(c);
	if (has(r, FW_FILE) && has(r, FW_STRING))
		ck_fail(c, "string", "give 'file' or 'string', not both");
	if (!has(r, FW_FILE) && !has(r, FW_STRING))
		ck_fail(c, NULL, "field '%sfile' or '%sstring' is required", p, p);
	if (slen(r, FW_NAME) < 5 || strncmp(sval(r, FW_NAME), "opt/", 4))
		ck_fail(c, "name", "'%s' does not start with 'opt/' (QEMU reserves other names, and warns)",
		        sval(r, FW_NAME));
	if (slen(r, FW_NAME) > 55)
		ck_fail(c, "name", "%zu bytes long (QEMU takes at most 55)", slen(r, FW_NAME));
}

const struct kind sec_fw_cfg = {
	.name = "fw_cfg", FIELDS(fw_cfg_fields),
	.doc = "an item the firmware and guest read from fw_cfg (-fw_cfg)", .check = fw_cfg_check,
};

static const struct field sandbox_fields[] = {
	[SB_OBSOLETE] = { .name = "obsolete", .type = T_ENUM, .opt = 1, .key = "obsolete",
	                  .choices = CHOICES("allow", "deny"), .doc = "obsolete system calls" },
	[SB_ELEVATEPRIVILEGES] = { .name = "elevateprivileges", .type = T_ENUM, .opt = 1, .key = "elevateprivileges",
	                           .choices = CHOICES("allow", "deny", "children"),
	                           .doc = "set*uid/set*gid calls ('children': only for QEMU's children)" },
	[SB_SPAWN] = { .name = "spawn", .type = T_ENUM, .opt = 1, .key = "spawn", .choices = CHOICES("allow", "deny"),
	               .doc = "fork and exec (deny: no tap scripts, no exec: migration)" },
	[SB_RESOURCECONTROL] = { .name = "resourcecontrol", .type = T_ENUM, .opt = 1, .key = "resourcecontrol",
	                         .choices = CHOICES("allow", "deny"), .doc = "scheduler and CPU affinity calls" },
};
const struct kind sec_sandbox = {
	.name = "sandbox", FIELDS(sandbox_fields), .device = "on",
	.doc = "QEMU's seccomp filter (-sandbox on): present means on; {} keeps QEMU's defaults",
};
/* ---- prepare: commands run before QEMU ------------------------------------------------- */

/* What a launch runs just before QEMU (in order), and what a dry run prints
 * instead: how recipes make the files a VM needs (a disk overlay) without
 * making them when the VM is only described. */
static const struct field prepare_fields[] = {
	[PR_ARGV] = { .name = "argv", .type = T_STRS, .flags = F_REQ | F_TEXT,
	              .doc = "the command: program ($PATH is searched) and arguments (which may hold line "
	                     "breaks: a file's text), run without a shell" },
	[PR_REMOVE] = { .name = "remove", .type = T_PATH,
	                .doc = "a file or directory the command made: removed when qlua exits (only if the command ran)" },
};

static void prepare_check(struct ck *c, const struct rec *r)
{
	if (!r->v[PR_ARGV].u.strs.n)
		ck_fail(c, "argv", "empty list (the command needs a program)");
	if (!r->v[PR_ARGV].u.strs.len[0])
		ck_fail(c, "argv", "the program is an empty string");
}

const struct kind sec_prepare = {
	.name = "prepare", FIELDS(prepare_fields),
	.doc = "a command run before QEMU starts (a dry run prints it instead)", .check = prepare_check,
};

/* ---- ssh: how vm:ssh reaches the guest ------------------------------------------------ */

/* Nothing for QEMU: what vm:ssh (lua/qemu/handle.lua) reads from the
 * handle's description, so callers need not repeat it; recipes.cloud_init
 * fills it with the key pair it makes at launch. */
static const struct field ssh_fields[] = {
	[SS_USER] = { .name = "user", .type = T_STR, .doc = "the guest account vm:ssh logs in as (default 'root')" },
	[SS_KEY] = { .name = "key", .type = T_PATH,
	             .doc = "the private key vm:ssh uses (ssh -i; it may be made by a prepare step)" },
	[SS_GUEST_PORT] = { .name = "guest_port", .type = T_UINT, .min = 1, .max = 65535,
	                    .doc = "the guest's sshd port, forwarded by a user netdev (default 22)" },
};
const struct kind sec_ssh = {
	.name = "ssh", FIELDS(ssh_fields),
	.doc = "how vm:ssh logs in (renders nothing)",
};
