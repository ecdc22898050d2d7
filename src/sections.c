/* sections.c - the VM description itself: its sections as data, and the
 * order in which they become QEMU options (the seed's order, so the two
 * command lines can be compared line by line). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "emit.h"
#include "lib.h"
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

static const struct kind sec_rtc = {
	.name = "rtc", .fields = rtc_fields, .nfields = NFIELDS(rtc_fields),
	.doc = "the real-time clock (at least one field: {} is refused)", .check = rtc_check,
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
       KN_NO_REBOOT, KN_NO_SHUTDOWN, KN_IOMMU_PLATFORM, KN_SNAPSHOT };
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
	                        .doc = "virtio devices qlua makes reach guest memory through the vIOMMU "
	                               "(iommu_platform=on; transitional virtio-pci ones become modern-only; "
	                               "qemu.device{} is passed as given)" },
	[KN_SNAPSHOT] = { .name = "snapshot", .type = T_BOOL,
	                  .doc = "writes to every disk go to temporary files, never to the images (-snapshot)" },
};
static const struct kind sec_knobs = {
	.name = "knobs", .fields = knobs_fields, .nfields = NFIELDS(knobs_fields),
	.doc = "QEMU switches",
};

/* ---- boot, smbios ------------------------------------------------------------------ */

enum { BO_ORDER, BO_ONCE, BO_MENU, BO_STRICT };
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
		ck_fail(c, r->k->fields[f].name, "empty (drive letters expected, e.g. 'dc')");
	for (size_t i = 0; i < n; i++) {
		if (!strchr("abcdnop", s[i]) || !s[i])
			ck_fail(c, r->k->fields[f].name, "invalid boot device '%c' in '%s' (expected 'a', 'b', 'c', 'd', "
			        "'n', 'o' or 'p')", s[i] ? s[i] : '?', s);
		if (memchr(s, s[i], i))
			ck_fail(c, r->k->fields[f].name, "boot device '%c' given twice in '%s'", s[i], s);
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

static const struct kind sec_boot = {
	.name = "boot", .fields = boot_fields, .nfields = NFIELDS(boot_fields),
	.doc = "firmware boot order (-boot); per device: 'bootindex'", .check = boot_check,
};

/* One -smbios entry.  Every field QEMU takes for any type is here; which
 * belong to which type is smbios_types below (QEMU refuses the others). */
enum { SMB_TYPE, SMB_VENDOR, SMB_MANUFACTURER, SMB_PRODUCT, SMB_VERSION, SMB_SERIAL, SMB_UUID, SMB_SKU,
       SMB_FAMILY, SMB_ASSET, SMB_LOCATION, SMB_DATE, SMB_RELEASE, SMB_UEFI, SMB_SOCK_PFX, SMB_LOC_PFX, SMB_BANK,
       SMB_PART, SMB_SPEED, SMB_VALUE, SMB_PATH };
static const struct field smbios_fields[] = {
	[SMB_TYPE] = { .name = "type", .type = T_UINT, .flags = F_REQ, .max = 127,
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
			len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", r->k->fields[g].name);
		}
		if (!ok)
			ck_fail(c, NULL, "field '%s%s' is not used with type %lld (type %lld takes %s)", p,
			        r->k->fields[f].name, ival(r, SMB_TYPE), ival(r, SMB_TYPE), list);
	}
	if (has(r, SMB_RELEASE)) {
		/* QEMU: sscanf("%hhu.%hhu") */
		unsigned a, b;
		char end;
		if (sscanf(sval(r, SMB_RELEASE), "%3u.%3u%c", &a, &b, &end) != 2 || a > 255 || b > 255)
			ck_fail(c, "release", "'%s' is not 'major.minor' (two numbers 0..255)", sval(r, SMB_RELEASE));
	}
}

static const struct kind sec_smbios = {
	.name = "smbios", .fields = smbios_fields, .nfields = NFIELDS(smbios_fields),
	.doc = "an SMBIOS structure the firmware shows the guest (-smbios)", .check = smbios_check,
};

/* ---- iothreads, incoming, fw_cfg, sandbox ----------------------------------------- */

enum { IT_ID };
static const struct field iothread_fields[] = {
	[IT_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_OBJECT, .opt = 1, .key = "id",
	            .doc = "iothread id (what a scsi_controller's iothread names)" },
};
static const struct kind sec_iothread = {
	.name = "iothreads", .fields = iothread_fields, .nfields = NFIELDS(iothread_fields),
	.doc = "an I/O thread (-object iothread)",
};

enum { IN_TYPE, IN_FD, IN_EXEC };
static const struct field incoming_fields[] = {
	[IN_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ, .choices = CHOICES("defer", "fd", "exec"),
	              .doc = "'defer': wait for migrate-incoming over QMP; 'fd': read the stream from 'fd'; "
	                     "'exec': from the output of the shell command 'exec'" },
	[IN_FD] = { .name = "fd", .type = T_FD, .only = WHEN(IN_TYPE, "fd"), .req = WHEN(IN_TYPE, "fd"),
	            .doc = "descriptor the migration stream comes from" },
	[IN_EXEC] = { .name = "exec", .type = T_STR, .only = WHEN(IN_TYPE, "exec"), .req = WHEN(IN_TYPE, "exec"),
	              .doc = "shell command whose output is the migration stream" },
};
static const struct kind sec_incoming = {
	.name = "incoming", .fields = incoming_fields, .nfields = NFIELDS(incoming_fields),
	.doc = "receive an incoming migration (-incoming); the VM stays paused afterwards (-S), as in govmm",
};

enum { FW_NAME, FW_FILE, FW_STRING };
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

static const struct kind sec_fw_cfg = {
	.name = "fw_cfg", .fields = fw_cfg_fields, .nfields = NFIELDS(fw_cfg_fields),
	.doc = "an item the firmware and guest read from fw_cfg (-fw_cfg)", .check = fw_cfg_check,
};

enum { SB_OBSOLETE, SB_ELEVATEPRIVILEGES, SB_SPAWN, SB_RESOURCECONTROL };
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
static const struct kind sec_sandbox = {
	.name = "sandbox", .fields = sandbox_fields, .nfields = NFIELDS(sandbox_fields),
	.doc = "QEMU's seccomp filter (-sandbox on): present means on; {} keeps QEMU's defaults",
};

/* ---- numa ------------------------------------------------------------------------------ */

enum { NN_NODE_ID, NN_CPUS, NN_MEM_SIZE, NN_HOST_NODES, NN_POLICY, NN_MEM_BACKEND_TYPE, NN_MEM_BACKEND_PATH };
static const struct field numa_node_fields[] = {
	[NN_NODE_ID] = { .name = "node_id", .type = T_UINT, .flags = F_REQ, .max = 127,
	                 .doc = "guest node number; the nodes are numbered 0..N-1" },
	[NN_CPUS] = { .name = "cpus", .type = T_STRS,
	              .doc = "vCPU indexes of the node: '0-3', '0-1,4' or a list of such" },
	[NN_MEM_SIZE] = { .name = "mem_size", .type = T_SIZE,
	                  .doc = "guest RAM on the node (the nodes' sizes add up to memory.size)" },
	[NN_HOST_NODES] = { .name = "host_nodes", .type = T_UINTS, .max = 127,
	                    .doc = "host NUMA nodes the node's RAM comes from (the backend is then JSON)" },
	[NN_POLICY] = { .name = "policy", .type = T_ENUM, .choices = CHOICES("bind", "preferred", "interleave"),
	                .doc = "how host_nodes are used (default 'bind')" },
	[NN_MEM_BACKEND_TYPE] = { .name = "mem_backend_type", .type = T_ENUM,
	                          .choices = CHOICES("memory-backend-ram", "memory-backend-file", "memory-backend-memfd"),
	                          .doc = "the node's memory backend (default from the knobs: file with "
	                                 "hugepages or a path, memfd with mem_shared, else ram)" },
	[NN_MEM_BACKEND_PATH] = { .name = "mem_backend_path", .type = T_PATH,
	                          .doc = "directory or file backing the node's RAM (memory-backend-file)" },
};

/* "0-3,5": each part a CPU index or a range; calls f(first, last) per part.
 * Returns 0 and sets *bad to the part when one is malformed. */
static int cpu_parts(const char *s, size_t n, const char **bad, size_t *badn,
                     void (*f)(void *, long, long), void *arg)
{
	const char *end = s + n;
	while (s <= end) {
		const char *comma = memchr(s, ',', end - s);
		const char *pe = comma ? comma : end;
		char *q;
		long a = -1, b = -1;
		if (s < pe && *s >= '0' && *s <= '9') {
			a = strtol(s, &q, 10);
			b = a;
			if (q < pe && *q == '-' && q + 1 < pe && q[1] >= '0' && q[1] <= '9')
				b = strtol(q + 1, &q, 10);
			if (q != pe || a > b || b > 4095)
				a = -1;
		}
		if (a < 0) {
			*bad = s;
			*badn = pe - s;
			return 0;
		}
		if (f)
			f(arg, a, b);
		s = pe + 1;
	}
	return 1;
}

static void numa_node_check(struct ck *c, const struct rec *r)
{
	const struct qval *cpus = &r->v[NN_CPUS];
	for (int i = 0; cpus->set && i < cpus->u.strs.n; i++) {
		const char *bad;
		size_t badn;
		if (!cpu_parts(cpus->u.strs.v[i], cpus->u.strs.len[i], &bad, &badn, NULL, NULL)) {
			char name[32];
			snprintf(name, sizeof name, cpus->u.strs.list ? "cpus[%d]" : "cpus", i + 1);
			if (badn == cpus->u.strs.len[i])
				ck_fail(c, name, "invalid CPU list '%.*s' (expected indexes and ranges like '0-3,5')",
				        (int)badn, bad);
			ck_fail(c, name, "invalid CPU list '%.*s' at '%.*s' (expected indexes and ranges like '0-3,5')",
			        (int)cpus->u.strs.len[i], cpus->u.strs.v[i], (int)badn, bad);
		}
	}
	if (has(r, NN_MEM_SIZE) && r->v[NN_MEM_SIZE].u.size == 0)
		ck_fail(c, "mem_size", "size must be greater than 0 (leave it out for a node without memory)");
	if (has(r, NN_MEM_SIZE) && r->v[NN_MEM_SIZE].u.size > 0x7fffffffffffffffULL)
		ck_fail(c, "mem_size", "too large");
	if (has(r, NN_HOST_NODES) && r->v[NN_HOST_NODES].u.ints.n == 0)
		ck_fail(c, "host_nodes", "empty list (leave the field out instead)");
	if (has(r, NN_POLICY) && !has(r, NN_HOST_NODES))
		ck_fail(c, "policy", "only used with 'host_nodes'");
	static const int memonly[] = { NN_HOST_NODES, NN_MEM_BACKEND_TYPE, NN_MEM_BACKEND_PATH };
	for (int i = 0; i < 3; i++)
		if (has(r, memonly[i]) && !has(r, NN_MEM_SIZE))
			ck_fail(c, r->k->fields[memonly[i]].name, "only used with 'mem_size' (a node without memory has "
			        "no backend)");
	if (has(r, NN_MEM_BACKEND_PATH) && has(r, NN_MEM_BACKEND_TYPE) &&
	    !eis(r, NN_MEM_BACKEND_TYPE, "memory-backend-file"))
		ck_fail(c, "mem_backend_path", "not used with mem_backend_type '%s'", eval(r, NN_MEM_BACKEND_TYPE));
	/* with host_nodes the backend goes to QEMU as JSON, which has no room
	 * for bytes that are not UTF-8 */
	if (has(r, NN_MEM_BACKEND_PATH) && has(r, NN_HOST_NODES)) {
		json_t *j = json_stringn(sval(r, NN_MEM_BACKEND_PATH), slen(r, NN_MEM_BACKEND_PATH));
		if (!j)
			ck_fail(c, "mem_backend_path", "not valid UTF-8 (with host_nodes the backend is passed as JSON)");
		json_decref(j);
	}
}

static const struct kind sec_numa_node = {
	.name = "nodes", .fields = numa_node_fields, .nfields = NFIELDS(numa_node_fields),
	.doc = "a guest NUMA node", .check = numa_node_check,
};

enum { ND_SRC, ND_DST, ND_VAL };
static const struct field numa_dist_fields[] = {
	[ND_SRC] = { .name = "src", .type = T_UINT, .flags = F_REQ, .max = 127, .doc = "a node_id" },
	[ND_DST] = { .name = "dst", .type = T_UINT, .flags = F_REQ, .max = 127, .doc = "another node_id" },
	[ND_VAL] = { .name = "val", .type = T_UINT, .flags = F_REQ, .min = 10, .max = 255,
	             .doc = "distance (10: local; 255: unreachable)" },
};
static const struct kind sec_numa_dist = {
	.name = "dists", .fields = numa_dist_fields, .nfields = NFIELDS(numa_dist_fields),
	.doc = "the distance between two guest NUMA nodes",
};

enum { NU_NODES, NU_DISTS };
static const struct field numa_fields[] = {
	[NU_NODES] = { .name = "nodes", .type = T_RECS, .sub = &sec_numa_node,
	               .doc = "the guest's NUMA nodes: { {node_id, cpus, mem_size, host_nodes, ...}, ... }" },
	[NU_DISTS] = { .name = "dists", .type = T_RECS, .sub = &sec_numa_dist,
	               .doc = "distances: { {src, dst, val}, ... }; one per pair of nodes at least" },
};
static const struct kind sec_numa = {
	.name = "numa", .fields = numa_fields, .nfields = NFIELDS(numa_fields),
	.doc = "guest NUMA topology (-numa)",
};

/* ---- prepare: commands run before QEMU ------------------------------------------------- */

/* What a launch runs just before QEMU (in order), and what a dry run prints
 * instead: how recipes make the files a VM needs (a disk overlay) without
 * making them when the VM is only described. */
enum { PR_ARGV, PR_REMOVE };
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

static const struct kind sec_prepare = {
	.name = "prepare", .fields = prepare_fields, .nfields = NFIELDS(prepare_fields),
	.doc = "a command run before QEMU starts (a dry run prints it instead)", .check = prepare_check,
};

/* ---- ssh: how vm:ssh reaches the guest ------------------------------------------------ */

/* Nothing for QEMU: what vm:ssh (lua/qemu/handle.lua) reads from the
 * handle's description, so callers need not repeat it; recipes.cloud_init
 * fills it with the key pair it makes at launch. */
enum { SS_USER, SS_KEY, SS_GUEST_PORT };
static const struct field ssh_fields[] = {
	[SS_USER] = { .name = "user", .type = T_STR, .doc = "the guest account vm:ssh logs in as (default 'root')" },
	[SS_KEY] = { .name = "key", .type = T_PATH,
	             .doc = "the private key vm:ssh uses (ssh -i; it may be made by a prepare step)" },
	[SS_GUEST_PORT] = { .name = "guest_port", .type = T_UINT, .min = 1, .max = 65535,
	                    .doc = "the guest's sshd port, forwarded by a user netdev (default 22)" },
};
static const struct kind sec_ssh = {
	.name = "ssh", .fields = ssh_fields, .nfields = NFIELDS(ssh_fields),
	.doc = "how vm:ssh logs in (renders nothing)",
};

/* ---- the VM ------------------------------------------------------------------------ */

enum { VM_PATH, VM_NAME, VM_UUID, VM_MACHINE, VM_CPU_MODEL, VM_CPU_FEATURES, VM_QMP, VM_MEMORY,
       VM_SMP, VM_DEVICES, VM_RTC, VM_GLOBAL, VM_VGA, VM_KERNEL, VM_BIOS, VM_KNOBS, VM_PFLASH,
       VM_FIRMWARE, VM_IOTHREADS, VM_INCOMING, VM_PIDFILE, VM_FW_CFG, VM_SANDBOX, VM_NUMA, VM_UID, VM_GID,
       VM_GROUPS, VM_DEBUG, VM_LOG_FILE, VM_BOOT, VM_SMBIOS, VM_EXTRA_ARGS, VM_PREPARE, VM_SSH };
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
	[VM_PFLASH] = { .name = "pflash", .type = T_STRS,
	                .doc = "flash images, units 0 and 1 (e.g. OVMF code and variables), raw format" },
	[VM_FIRMWARE] = { .name = "firmware", .type = T_ENUM, .choices = CHOICES("bios", "uefi", "uefi-secure"),
	                  .doc = "'bios': QEMU's own (SeaBIOS); 'uefi': OVMF, with a private copy of its variables "
	                         "made at launch; 'uefi-secure': OVMF with Secure Boot (q35, SMM on). Not with "
	                         "'bios' or 'pflash'; OVMF from $QLUA_OVMF_DIR, else /usr/share/OVMF" },
	[VM_IOTHREADS] = { .name = "iothreads", .type = T_RECS, .sub = &sec_iothread,
	                   .doc = "I/O threads: { {id = 'io0'}, ... }" },
	[VM_INCOMING] = { .name = "incoming", .type = T_REC, .sub = &sec_incoming,
	                  .doc = "receive a migration: {type = 'defer'|'fd'|'exec', fd, exec}" },
	[VM_PIDFILE] = { .name = "pidfile", .type = T_PATH, .doc = "QEMU writes its pid here" },
	[VM_FW_CFG] = { .name = "fw_cfg", .type = T_RECS, .sub = &sec_fw_cfg,
	                .doc = "fw_cfg items: { {name = 'opt/...', file | string}, ... }, each name once" },
	[VM_SANDBOX] = { .name = "sandbox", .type = T_REC, .sub = &sec_sandbox,
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
	[VM_LOG_FILE] = { .name = "log_file", .type = T_PATH, .doc = "QEMU's debug log (-D)" },
	[VM_BOOT] = { .name = "boot", .type = T_REC, .sub = &sec_boot,
	              .doc = "firmware boot order: { order = 'dc', once, menu, strict }" },
	[VM_SMBIOS] = { .name = "smbios", .type = T_RECS, .sub = &sec_smbios,
	                .doc = "SMBIOS structures: { {type = 1, serial = '...'}, ... }" },
	[VM_EXTRA_ARGS] = { .name = "extra_args", .type = T_STRS, .flags = F_LIST,
	                    .doc = "arguments appended verbatim, after everything else: a list, one string each" },
	[VM_PREPARE] = { .name = "prepare", .type = T_RECS, .sub = &sec_prepare,
	                 .doc = "commands a launch runs first, in order: { {argv = {...}, remove = path}, ... }" },
	[VM_SSH] = { .name = "ssh", .type = T_REC, .sub = &sec_ssh,
	             .doc = "vm:ssh's login: { user, key, guest_port } (renders nothing)" },
};

static int knob(const struct rec *vm, int k)
{
	const struct rec *kn = has(vm, VM_KNOBS) ? vm->v[VM_KNOBS].u.rec : NULL;
	return kn && has(kn, k) && ival(kn, k);
}

static const struct rec *sec(const struct rec *vm, int f)
{
	return has(vm, f) ? vm->v[f].u.rec : NULL;
}

/* Does any NUMA node carry memory?  Then the nodes' backends are guest
 * RAM, and there is no -machine memory-backend. */
static int numa_memory(const struct rec *vm)
{
	const struct rec *nu = sec(vm, VM_NUMA);
	if (!nu || !has(nu, NU_NODES))
		return 0;
	for (int i = 0; i < nu->v[NU_NODES].u.recs.n; i++)
		if (has(nu->v[NU_NODES].u.recs.v[i], NN_MEM_SIZE))
			return 1;
	return 0;
}

/* RAM needs an explicit backend object: a path, hugepages or any of the
 * memory knobs; NUMA nodes with memory have their own backends. */
static int memory_backend(const struct rec *vm)
{
	const struct rec *m = sec(vm, VM_MEMORY);
	return m && !numa_memory(vm) &&
	       (has(m, ME_PATH) || knob(vm, KN_HUGEPAGES) || knob(vm, KN_MEM_PREALLOC) ||
	        knob(vm, KN_FILE_BACKED_MEM) || knob(vm, KN_MEM_SHARED));
}

static void size_text(unsigned long long v, char *b, size_t n);

/* ---- transports ---- */

/* Is machine option `key` on (true, or the string "on")? */
static int machine_option_on(const struct rec *ma, const char *key)
{
	for (int p = 0; ma && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++) {
		const struct prop *o = &ma->v[MA_OPTIONS].u.props.v[p];
		if (!strcmp(o->key, key))
			return o->len == 2 && !memcmp(o->val, "on", 2);
	}
	return 0;
}

static int machine_option_set(const struct rec *ma, const char *key)
{
	for (int p = 0; ma && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++)
		if (!strcmp(ma->v[MA_OPTIONS].u.props.v[p].key, key))
			return 1;
	return 0;
}

/* The transport the machine gives virtio devices (see render.h).  The
 * binary is the one that will run: the description's path, else the
 * default ($QLUA_QEMU, else qemu-system-<host arch>). */
static int machine_transport(const struct rec *vm, char *why, size_t n)
{
	const struct rec *ma = sec(vm, VM_MACHINE);
	const char *type = ma && has(ma, MA_TYPE) ? sval(ma, MA_TYPE) : NULL;
	const char *path = has(vm, VM_PATH) ? sval(vm, VM_PATH) : qlua_default_qemu();
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int t = TR_PCI;
	if (type && !strcmp(type, "microvm"))
		t = machine_option_on(ma, "pcie") ? TR_PCI : TR_MMIO;
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

int vm_transport(const struct rec *vm, const struct rec *d, char *why, size_t n)
{
	int f = d->k->tr ? schema_field(d->k, "transport", 9) : -1;
	if (f >= 0 && d->v[f].set) {
		const char *name = d->k->fields[f].choices[d->v[f].u.i];
		if (why)
			snprintf(why, n, "its 'transport' field");
		for (int t = 0; t < TR_COUNT; t++)
			if (!strcmp(transport_names[t], name))
				return t;
	}
	return machine_transport(vm, why, n);
}

const struct rec *vm_bus_device(const struct rec *vm, const char *bus, size_t n)
{
	for (int i = 0; has(vm, VM_DEVICES) && i < vm->v[VM_DEVICES].u.recs.n; i++) {
		const struct rec *d = vm->v[VM_DEVICES].u.recs.v[i];
		for (int f = 0; f < d->k->nfields; f++) {
			const struct field *fl = &d->k->fields[f];
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

/* ---- whole-VM rules ---- */

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

/* Field `name` of device d when it is set (else NULL). */
static const struct qval *dfield(const struct rec *d, const char *name)
{
	int f = schema_field(d->k, name, strlen(name));
	return f >= 0 && d->v[f].set ? &d->v[f] : NULL;
}

static void check_memory_knobs(struct ck *c, const struct rec *vm)
{
	static const int needs_size[] = { KN_HUGEPAGES, KN_MEM_PREALLOC, KN_FILE_BACKED_MEM, KN_MEM_SHARED };
	char name[40];
	for (int i = 0; i < 4; i++)
		if (knob(vm, needs_size[i]) && !has(vm, VM_MEMORY)) {
			snprintf(name, sizeof name, "knobs.%s", knobs_fields[needs_size[i]].name);
			ck_fail(c, name, "needs 'memory.size' (the memory is reserved up front)");
		}
	const struct rec *m = sec(vm, VM_MEMORY);
	if (knob(vm, KN_FILE_BACKED_MEM) && !numa_memory(vm) && !has(m, ME_PATH))
		ck_fail(c, "knobs.file_backed_mem", "needs 'memory.path' (the file backing guest RAM)");
}

/* numa: nodes 0..N-1, each CPU in one node (all of them, once any is
 * placed), sizes adding up to memory.size, distances QEMU takes. */
struct cpuset {
	unsigned char *seen;
	long max;
	long dup, over;     /* the first CPU given twice / beyond maxcpus, or -1 */
	int count;
};

static void cpu_mark(void *arg, long a, long b)
{
	struct cpuset *cs = arg;
	for (long i = a; i <= b; i++) {
		if (i >= cs->max) {
			if (cs->over < 0)
				cs->over = i;
			continue;
		}
		if (cs->seen[i] && cs->dup < 0)
			cs->dup = i;
		if (!cs->seen[i])
			cs->count++;
		cs->seen[i] = 1;
	}
}

static void check_numa(struct ck *c, const struct rec *vm)
{
	const struct rec *nu = sec(vm, VM_NUMA);
	if (!nu)
		return;
	const struct rec *m = sec(vm, VM_MEMORY), *smp = sec(vm, VM_SMP);
	int n = has(nu, NU_NODES) ? nu->v[NU_NODES].u.recs.n : 0;
	struct rec *const *nodes = n ? nu->v[NU_NODES].u.recs.v : NULL;
	char name[64];
	if (!n && has(nu, NU_DISTS) && nu->v[NU_DISTS].u.recs.n)
		ck_fail(c, "numa.dists", "distances without 'numa.nodes'");
	if (!n)
		return;
	if (!m)
		ck_fail(c, "numa", "needs 'memory.size' (the nodes' mem_size add up to it)");

	/* node ids: each once, 0..N-1 */
	unsigned char ids[128] = { 0 };
	for (int i = 0; i < n; i++) {
		long long id = ival(nodes[i], NN_NODE_ID);
		snprintf(name, sizeof name, "numa.nodes[%d].node_id", i + 1);
		if (ids[id])
			ck_fail(c, name, "node %lld is given twice", id);
		if (id >= n)
			ck_fail(c, name, "%lld, but the %d nodes are numbered 0..%d", id, n, n - 1);
		ids[id] = 1;
	}

	/* CPUs */
	long maxcpus = 1;
	if (smp)
		maxcpus = ival(smp, has(smp, SM_MAXCPUS) ? SM_MAXCPUS : SM_CPUS);
	unsigned char seen[4096] = { 0 };
	struct cpuset cs = { seen, maxcpus, -1, -1, 0 };
	int placed = 0;
	for (int i = 0; i < n; i++) {
		const struct qval *cpus = &nodes[i]->v[NN_CPUS];
		for (int j = 0; cpus->set && j < cpus->u.strs.n; j++) {
			const char *bad;
			size_t badn;
			cpu_parts(cpus->u.strs.v[j], cpus->u.strs.len[j], &bad, &badn, cpu_mark, &cs);
			placed = 1;
			snprintf(name, sizeof name, "numa.nodes[%d].cpus", i + 1);
			if (cs.over >= 0)
				ck_fail(c, name, "CPU %ld, but the VM has %ld CPU%s (%s)", cs.over, maxcpus,
				        maxcpus == 1 ? "" : "s", !smp ? "no smp section" :
				        has(smp, SM_MAXCPUS) ? "smp.maxcpus" : "smp.cpus");
			if (cs.dup >= 0)
				ck_fail(c, name, "CPU %ld is already in another node", cs.dup);
		}
	}
	if (placed && cs.count < maxcpus) {
		long missing = 0;
		while (seen[missing])
			missing++;
		ck_fail(c, "numa.nodes", "CPU %ld is in no node (once CPUs are placed, QEMU wants every one of the "
		        "%ld placed)", missing, maxcpus);
	}

	/* memory */
	unsigned long long sum = 0;
	for (int i = 0; i < n; i++) {
		const struct rec *nd = nodes[i];
		if (!has(nd, NN_MEM_SIZE))
			continue;
		sum += nd->v[NN_MEM_SIZE].u.size;
		snprintf(name, sizeof name, "numa.nodes[%d].mem_backend_path", i + 1);
		int file = eis(nd, NN_MEM_BACKEND_TYPE, "memory-backend-file") ||
		           (!has(nd, NN_MEM_BACKEND_TYPE) && (knob(vm, KN_FILE_BACKED_MEM) || knob(vm, KN_HUGEPAGES)));
		if (knob(vm, KN_FILE_BACKED_MEM) && !has(nd, NN_MEM_BACKEND_PATH))
			ck_fail(c, NULL, "field '%s' is required with knobs.file_backed_mem (each node's RAM has its "
			        "own file)", name);
		if (file && !has(nd, NN_MEM_BACKEND_PATH) && !knob(vm, KN_HUGEPAGES))
			ck_fail(c, NULL, "field '%s' is required with mem_backend_type 'memory-backend-file'", name);
	}
	if (sum && has(m, ME_PATH))
		ck_fail(c, "memory.path", "not used with NUMA nodes that have memory (give each node "
		        "'mem_backend_path')");
	if (sum != m->v[ME_SIZE].u.size) {
		char a[32], b[32];
		size_text(sum, a, sizeof a);
		size_text(m->v[ME_SIZE].u.size, b, sizeof b);
		ck_fail(c, "numa.nodes", "the nodes' mem_size add up to %s, but memory.size is %s", a, b);
	}

	/* distances */
	if (!has(nu, NU_DISTS) || !nu->v[NU_DISTS].u.recs.n)
		return;
	int nd = nu->v[NU_DISTS].u.recs.n;
	struct rec *const *dists = nu->v[NU_DISTS].u.recs.v;
	static unsigned char given[128][128];
	memset(given, 0, sizeof given);
	for (int i = 0; i < nd; i++) {
		long long src = ival(dists[i], ND_SRC), dst = ival(dists[i], ND_DST), val = ival(dists[i], ND_VAL);
		snprintf(name, sizeof name, "numa.dists[%d].%s", i + 1, src >= n ? "src" : "dst");
		if (src >= n || dst >= n)
			ck_fail(c, name, "no node %lld (the nodes are 0..%d)", src >= n ? src : dst, n - 1);
		snprintf(name, sizeof name, "numa.dists[%d].val", i + 1);
		if (src == dst && val != 10)
			ck_fail(c, name, "%lld, but a node's distance to itself is 10", val);
		snprintf(name, sizeof name, "numa.dists[%d]", i + 1);
		if (given[src][dst])
			ck_fail(c, name, "the distance from node %lld to node %lld is given twice", src, dst);
		given[src][dst] = 1;
	}
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++)
			if (!given[a][b] && !given[b][a])
				ck_fail(c, "numa.dists", "no distance between nodes %d and %d (QEMU needs one for each pair "
				        "once any is given)", a, b);
}

/* What the rules across devices compare, worked out once per device: the
 * pairwise loop below then compares these, never fields by name. */
enum { DK_OTHER, DK_BALLOON, DK_IOMMU, DK_PVPANIC, DK_VSOCK, DK_PXB_PCIE, DK_ROOT_PORT, DK_SWITCH_DOWN,
       DK_CDROM, DK_OBJECT, DK_BLOCK, DK_CHARDEV, DK_LEGACY_SERIAL, DK_NETDEV, DK_VHOST_USER,
       DK_SCSI_CONTROLLER, DK_COUNT };
static const char *const dk_names[DK_COUNT] = {
	[DK_BALLOON] = "balloon", [DK_IOMMU] = "iommu", [DK_PVPANIC] = "pvpanic", [DK_VSOCK] = "vsock",
	[DK_PXB_PCIE] = "pxb_pcie", [DK_ROOT_PORT] = "pcie_root_port", [DK_SWITCH_DOWN] = "pcie_switch_downstream",
	[DK_CDROM] = "cdrom", [DK_OBJECT] = "object", [DK_BLOCK] = "block", [DK_CHARDEV] = "chardev",
	[DK_LEGACY_SERIAL] = "legacy_serial", [DK_NETDEV] = "netdev", [DK_VHOST_USER] = "vhost_user",
	[DK_SCSI_CONTROLLER] = "scsi_controller",
};

/* Which of the kinds above d is (the kinds found by name once per process). */
static int dkind(const struct rec *d)
{
	static const struct kind *kinds[DK_COUNT];
	if (!kinds[DK_BALLOON])
		for (int k = 1; k < DK_COUNT; k++)
			kinds[k] = schema_device(dk_names[k]);
	for (int k = 1; k < DK_COUNT; k++)
		if (d->k == kinds[k])
			return k;
	return DK_OTHER;
}

/* The chardev device d (of check_devices' kind tag dk) connects to (QEMU
 * lets one frontend have a chardev), and the field that says so; 0 when none. */
static int chardev_use(const struct rec *d, int dk, const char **id, size_t *n, const char **field)
{
	const struct qval *v = NULL;
	/* driver "serial" (govmm's LegacySerial) makes no device: the chardev is a legacy_serial's */
	if (dk == DK_CHARDEV && dfield(d, "driver") && strcmp(dfield(d, "driver")->u.str.s, "serial"))
		v = dfield(d, "id"), *field = "driver";
	else if (dk == DK_LEGACY_SERIAL || dk == DK_NETDEV)
		v = dfield(d, "chardev"), *field = "chardev";
	else if (dk == DK_VHOST_USER)
		v = dfield(d, "chardev_id"), *field = "chardev_id";
	if (v) {
		*id = v->u.str.s, *n = v->u.str.n;
		return 1;
	}
	for (int p = 0; p < d->nprops; p++)
		if (!strcmp(d->props[p].key, "chardev")) {
			*id = d->props[p].val, *n = d->props[p].len, *field = "chardev";
			return 1;
		}
	return 0;
}

/* Where device d's transport comes from, for messages: worked out only
 * when one is raised (snprintf was most of checking a transport). */
static const char *transport_why(const struct rec *vm, const struct rec *d, char *why, size_t n)
{
	vm_transport(vm, d, why, n);
	return why;
}

/* Device d (devices[i + 1]) on its transport: the kind has a device there
 * (unless `driver` names one), and it has no field that transport lacks. */
static void check_transport(struct ck *c, const struct rec *vm, int i)
{
	static const char *const pci_only[] = { "addr", "romfile", "disable_modern", "bdf", "vendor_id",
	                                        "device_id", NULL };
	const struct rec *d = device(vm, i);
	if (!d->k->tr)
		return;
	int tf = schema_field(d->k, "transport", 9);
	if (tf < 0 || !schema_when(d, &d->k->fields[tf].only))
		return;  /* no transports, or not for this type (block interface 'ide', ...) */
	char why[160];
	int t = d->tr - 1;  /* (check_devices worked it out) */
	const char *tn = transport_names[t];
	const struct qval *drv = dfield(d, "driver");
	if (!drv && !schema_transport_name(d, t)) {
		char label[64];
		blame_dev(c, vm, i);
		if (d->k->ntr > 1)
			snprintf(label, sizeof label, "%s '%s'", d->k->name, eval(d, d->k->tr_by));
		else
			snprintf(label, sizeof label, "%s", d->k->name);
		if (d->v[tf].set)
			ck_fail(c, "transport", "QEMU has no %s transport for %s", tn, label);
		ck_fail(c, NULL, "QEMU has no %s transport for %s (from %s)%s", tn, label,
		        transport_why(vm, d, why, sizeof why),
		        t == TR_MMIO ? "; a microvm has PCI with machine.options.pcie = true" : "");
	}
	if (t != TR_PCI) {
		for (int k = 0; pci_only[k]; k++)
			if (dfield(d, pci_only[k])) {
				blame_dev(c, vm, i);
				ck_fail(c, pci_only[k], "PCI only, but this device uses the %s transport (from %s)", tn,
				        transport_why(vm, d, why, sizeof why));
			}
		const struct qval *bus = dfield(d, "bus");
		if (bus && !(t == TR_MMIO && !strncmp(bus->u.str.s, "virtio-mmio-bus.", 16))) {
			blame_dev(c, vm, i);
			ck_fail(c, "bus", "'%s' is not a%s bus, and this device uses the %s transport (from %s)%s",
			        bus->u.str.s, t == TR_MMIO ? " virtio-mmio" : "n s390 channel", tn,
			        transport_why(vm, d, why, sizeof why),
			        t == TR_MMIO ? "; leave 'bus' out, or give 'virtio-mmio-bus.N'" :
			        t == TR_CCW ? "; ccw devices are placed with 'devno'" : "");
		}
	}
	if (t != TR_CCW && dfield(d, "devno")) {
		blame_dev(c, vm, i);
		ck_fail(c, "devno", "only used with the ccw transport, and this device uses %s (from %s)", tn,
		        transport_why(vm, d, why, sizeof why));
	}
}

struct dfacts {
	int kind;                    /* DK_* */
	int uses;                    /* chardev_use: cid, cn, cfield */
	const char *cid, *cfield;
	size_t cn;
	const struct qval *devno, *bootindex;
	long long cid_or_busnr;      /* vsock context_id, pxb_pcie bus_nr */
	long long chassis, slot;     /* PCIe ports */
};

/* Rules across devices, and between devices and the sections. */
static void check_devices(struct ck *c, const struct rec *vm)
{
	int n = ndevices(vm);
	int first[3];   /* the first balloon, iommu, pvpanic */
	static const int single[] = { DK_BALLOON, DK_IOMMU, DK_PVPANIC };
	for (int k = 0; k < 3; k++)
		first[k] = -1;
	const struct rec *ma = sec(vm, VM_MACHINE);
	const struct rec *nu = sec(vm, VM_NUMA);
	int nnodes = nu && has(nu, NU_NODES) ? nu->v[NU_NODES].u.recs.n : 0;
	const struct qval *pf = has(vm, VM_PFLASH) ? &vm->v[VM_PFLASH] : NULL;
	struct dfacts *fa = n ? arena_alloc(c->a, n * sizeof *fa) : NULL;

	for (int i = 0; i < n; i++) {
		const struct rec *d = device(vm, i);
		struct dfacts *f = &fa[i];
		const struct qval *v;
		f->kind = dkind(d);
		f->uses = chardev_use(d, f->kind, &f->cid, &f->cn, &f->cfield);
		f->devno = dfield(d, "devno");
		f->bootindex = dfield(d, "bootindex");
		if (f->kind == DK_VSOCK)
			f->cid_or_busnr = dfield(d, "context_id")->u.i;
		if (f->kind == DK_PXB_PCIE)
			f->cid_or_busnr = dfield(d, "bus_nr")->u.i;
		if (f->kind == DK_ROOT_PORT || f->kind == DK_SWITCH_DOWN) {
			f->chassis = (v = dfield(d, "chassis")) ? v->u.i : 0;
			f->slot = (v = dfield(d, "slot")) ? v->u.i : 0;
		}

		if (d->k->tr)  /* once per device and build: rendering reads it too (render_transport) */
			((struct rec *)d)->tr = (unsigned char)(vm_transport(vm, d, NULL, 0) + 1);
		check_transport(c, vm, i);
		for (int k = 0; k < 3; k++)
			if (f->kind == single[k]) {
				if (first[k] >= 0) {
					blame_dev(c, vm, i);
					ck_fail(c, NULL, "a second %s (devices[%d] is one; QEMU takes one per VM)",
					        dk_names[single[k]], first[k] + 1);
				}
				first[k] = i;
			}

		/* unique among devices of the same kinds: chardevs, vsock CIDs,
		 * ccw numbers, expander bus numbers, (chassis, slot) of PCIe ports */
		for (int j = 0; j < i; j++) {
			const struct dfacts *o = &fa[j];
			if (f->uses && o->uses && o->cn == f->cn && !memcmp(o->cid, f->cid, f->cn)) {
				blame_dev(c, vm, i);
				ck_fail(c, f->cfield, "chardev '%.*s' is devices[%d]'s already (QEMU connects a chardev to "
				        "one device)", (int)f->cn, f->cid, j + 1);
			}
			if (f->kind == DK_VSOCK && o->kind == DK_VSOCK && f->cid_or_busnr == o->cid_or_busnr) {
				blame_dev(c, vm, i);
				ck_fail(c, "context_id", "%lld is devices[%d]'s too (each vsock needs its own)",
				        f->cid_or_busnr, j + 1);
			}
			if (f->devno && o->devno && !strcasecmp(f->devno->u.str.s, o->devno->u.str.s)) {
				blame_dev(c, vm, i);
				ck_fail(c, "devno", "'%s' is devices[%d]'s too (each ccw device needs its own)",
				        f->devno->u.str.s, j + 1);
			}
			if (f->kind == DK_PXB_PCIE && o->kind == DK_PXB_PCIE && f->cid_or_busnr == o->cid_or_busnr) {
				blame_dev(c, vm, i);
				ck_fail(c, "bus_nr", "%lld is devices[%d]'s too", f->cid_or_busnr, j + 1);
			}
			if ((f->kind == DK_ROOT_PORT || f->kind == DK_SWITCH_DOWN) &&
			    (o->kind == DK_ROOT_PORT || o->kind == DK_SWITCH_DOWN) &&
			    f->chassis == o->chassis && f->slot == o->slot) {
				blame_dev(c, vm, i);
				ck_fail(c, NULL, "chassis %lld slot %lld is devices[%d]'s too (QEMU needs each PCIe "
				        "port's pair unique; both default to 0)", f->chassis, f->slot, j + 1);
			}
		}

		if (f->kind == DK_PXB_PCIE && (v = dfield(d, "numa_node")) && v->u.i >= nnodes) {
			blame_dev(c, vm, i);
			if (!nnodes)
				ck_fail(c, "numa_node", "the VM has no numa.nodes");
			ck_fail(c, "numa_node", "no NUMA node %lld (the nodes are 0..%d)", v->u.i, nnodes - 1);
		}

		if (f->kind == DK_IOMMU) {
			if (!ma || !has(ma, MA_TYPE) || !strstr(sval(ma, MA_TYPE), "q35")) {
				blame_dev(c, vm, i);
				ck_fail(c, NULL, "needs machine.type 'q35' (QEMU has intel-iommu on q35 only)");
			}
			const struct qval *ir = dfield(d, "intremap");
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

		if (f->kind == DK_CDROM && machine_transport(vm, NULL, 0) == TR_MMIO) {
			const struct qval *bus = dfield(d, "bus");
			const struct rec *owner = bus ? vm_bus_device(vm, bus->u.str.s, bus->u.str.n) : NULL;
			if (!owner || dkind(owner) != DK_SCSI_CONTROLLER) {
				blame_dev(c, vm, i);
				ck_fail(c, NULL, "a microvm has no IDE controller: put the cdrom on a SCSI controller "
				        "(bus = '<scsi_controller id>.0')");
			}
		}
		/* QEMU refuses a bootindex used twice, naming neither device */
		const struct qval *bi = f->bootindex;
		for (int j = 0; bi && j < i; j++) {
			const struct qval *obi = fa[j].bootindex;
			if (obi && obi->u.i == bi->u.i) {
				blame_dev(c, vm, i);
				ck_fail(c, "bootindex", "%lld is devices[%d]'s too (each boot index once)", bi->u.i, j + 1);
			}
		}

		if (f->kind == DK_OBJECT && dfield(d, "file") && (pf || has(vm, VM_BIOS) || has(vm, VM_FIRMWARE))) {
			blame_dev(c, vm, i);
			if (has(vm, VM_FIRMWARE))
				ck_fail(c, "file", "the VM has firmware '%s' too (give the firmware once)", eval(vm, VM_FIRMWARE));
			ck_fail(c, "file", "the VM has %s too (give the firmware once)", pf ? "pflash" : "bios");
		}

		if (knob(vm, KN_IOMMU_PLATFORM)) {
			const struct qval *dm = dfield(d, "disable_modern");
			const struct qval *iface = f->kind == DK_BLOCK ? dfield(d, "interface") : NULL;
			const struct qval *drv = dfield(d, "driver");
			if (dm && dm->u.i) {
				blame_dev(c, vm, i);
				ck_fail(c, "disable_modern", "not with knobs.iommu_platform (a legacy virtio device has no "
				        "iommu_platform)");
			}
			if (iface && !strcmp(d->k->fields[schema_field(d->k, "interface", 9)].choices[iface->u.i], "virtio")) {
				blame_dev(c, vm, i);
				ck_fail(c, "interface", "'virtio' lets QEMU make the device, without iommu_platform "
				        "(knobs.iommu_platform); use 'none'");
			}
			if (drv && d->k->fields[schema_field(d->k, "driver", 6)].type == T_NAME &&
			    drv->u.str.n > 17 && !strcmp(drv->u.str.s + drv->u.str.n - 17, "-pci-transitional")) {
				blame_dev(c, vm, i);
				ck_fail(c, "driver", "'%s' keeps its legacy interface, which cannot have iommu_platform "
				        "(knobs.iommu_platform)", drv->u.str.s);
			}
		}
	}
}

/* sandbox.spawn = "deny": QEMU dies of SIGSYS the moment it forks, so
 * whatever makes it fork is refused here instead. */
static void check_sandbox(struct ck *c, const struct rec *vm)
{
	const struct rec *sb = sec(vm, VM_SANDBOX), *in = sec(vm, VM_INCOMING);
	if (!sb || !eis(sb, SB_SPAWN, "deny"))
		return;
	if (knob(vm, KN_DAEMONIZE))
		ck_fail(c, "sandbox.spawn", "'deny' with knobs.daemonize (QEMU forks to detach, and the sandbox "
		        "kills it)");
	if (in && eis(in, IN_TYPE, "exec"))
		ck_fail(c, "sandbox.spawn", "'deny' with incoming type 'exec' (QEMU forks to run the command, and "
		        "the sandbox kills it)");
	for (int i = 0; i < ndevices(vm); i++) {
		const struct rec *d = device(vm, i);
		if (dkind(d) == DK_NETDEV && (dfield(d, "script") || dfield(d, "down_script")))
			ck_fail(c, "sandbox.spawn", "'deny' with devices[%d]'s %s (QEMU forks to run it, and the "
			        "sandbox kills it)", i + 1, dfield(d, "script") ? "script" : "down_script");
	}
}

/* ---- firmware: OVMF for 'uefi' and 'uefi-secure' ---- */

/* Where OVMF's images are: $QLUA_OVMF_DIR (for another build, or a spec's
 * empty directory), else Debian's ovmf package.  A relative directory
 * starting with '-' gets "./" (it becomes an argument of cp). */
static const char *ovmf_dir(const char **env)
{
	static char buf[4096];
	const char *d = getenv("QLUA_OVMF_DIR");
	*env = d && *d ? d : NULL;
	if (!*env)
		return "/usr/share/OVMF";
	size_t n = strlen(d);
	while (n > 1 && d[n - 1] == '/')
		n--;
	snprintf(buf, sizeof buf, "%s%.*s", d[0] == '-' ? "./" : "", (int)n, d);
	return buf;
}

/* The code image (read-only, flash unit 0) and the variables template
 * (copied per VM, unit 1) of a firmware value; Secure Boot takes the
 * secboot build and the variables with Microsoft's keys enrolled. */
static void ovmf_images(struct arena *a, int secure, const char **code, const char **vars)
{
	const char *env, *dir = ovmf_dir(&env);
	size_t n = strlen(dir) + 32;
	char *c = arena_alloc(a, n), *v = arena_alloc(a, n);
	snprintf(c, n, "%s/%s", dir, secure ? "OVMF_CODE_4M.secboot.fd" : "OVMF_CODE_4M.fd");
	snprintf(v, n, "%s/%s", dir, secure ? "OVMF_VARS_4M.ms.fd" : "OVMF_VARS_4M.fd");
	*code = c, *vars = v;
}

static int is_type(const char *type, const char *name, const char *prefix)
{
	return !strcmp(type, name) || !strncmp(type, prefix, strlen(prefix));
}

/* firmware: the firmware once, a machine with flash for OVMF (q35 with SMM
 * for Secure Boot), and OVMF's images present now rather than QEMU
 * failing at launch. */
static void check_firmware(struct ck *c, const struct rec *vm)
{
	if (!has(vm, VM_FIRMWARE))
		return;
	const char *fw = eval(vm, VM_FIRMWARE);
	if (has(vm, VM_BIOS) || has(vm, VM_PFLASH))
		ck_fail(c, "firmware", "the VM has %s too (give the firmware once)", has(vm, VM_BIOS) ? "bios" : "pflash");
	if (!strcmp(fw, "bios"))
		return;  /* QEMU's default: nothing to render */
	int secure = !strcmp(fw, "uefi-secure");
	const struct rec *ma = sec(vm, VM_MACHINE);
	const char *type = ma && has(ma, MA_TYPE) ? sval(ma, MA_TYPE) : NULL;
	/* isapc and microvm give OVMF no flash (microvm boots qboot with -bios) */
	int q35 = type && is_type(type, "q35", "pc-q35-");
	int pc = !type || is_type(type, "pc", "pc-i440fx-");
	if (secure && !q35) {
		if (type)
			ck_fail(c, "firmware", "'uefi-secure' needs machine.type 'q35', not '%s' (OVMF's Secure Boot "
			        "needs SMM on q35)", type);
		ck_fail(c, "firmware", "'uefi-secure' needs machine.type 'q35' (QEMU's default is 'pc'; OVMF's "
		        "Secure Boot needs SMM on q35)");
	}
	if (!q35 && !pc)
		ck_fail(c, "firmware", "'%s' needs machine.type 'q35' or 'pc', not '%s' (it has no flash for OVMF)",
		        fw, type);
	for (int p = 0; secure && has(ma, MA_OPTIONS) && p < ma->v[MA_OPTIONS].u.props.n; p++) {
		const struct prop *o = &ma->v[MA_OPTIONS].u.props.v[p];
		if (!strcmp(o->key, "smm") && strcmp(o->val, "on"))
			ck_fail(c, "machine.options.smm", "'%s' with firmware 'uefi-secure' (Secure Boot needs SMM: "
			        "leave smm out, or set it on)", o->val);
	}
	const struct rec *k = sec(vm, VM_KERNEL);
	if (k) {
		/* OVMF's direct kernel boot loads an EFI or bzImage kernel; an ELF
		 * (the PVH vmlinux SeaBIOS boots) ends in the UEFI shell instead */
		unsigned char magic[4] = { 0 };
		FILE *f = fopen(sval(k, KE_PATH), "rb");
		if (f) {
			size_t got = fread(magic, 1, 4, f);
			fclose(f);
			if (got == 4 && !memcmp(magic, "\177ELF", 4))
				ck_fail(c, "kernel.path", "'%s' is an ELF image, which OVMF cannot boot (firmware '%s'; give a "
				        "bzImage, such as Debian's vmlinuz)", sval(k, KE_PATH), fw);
		}
	}
	const char *code, *vars, *env;
	ovmf_images(c->a, secure, &code, &vars);
	ovmf_dir(&env);
	const char *need[] = { code, vars };
	for (int i = 0; i < 2; i++) {
		if (access(need[i], R_OK) == 0)
			continue;
		char why[160];
		if (env)
			snprintf(why, sizeof why, "QLUA_OVMF_DIR is '%s'", env);
		else
			snprintf(why, sizeof why, "install Debian's 'ovmf' package");
		if (errno == ENOENT)
			ck_fail(c, "firmware", "'%s' needs OVMF, and %s does not exist (%s)", fw, need[i], why);
		ck_fail(c, "firmware", "'%s' needs OVMF, and %s cannot be read: %s (%s)", fw, need[i], strerror(errno), why);
	}
}

/* A name nobody can guess for a VM's variables directory: 12 hex digits
 * from getrandom (the directory is made with mkdir, without -p, at launch,
 * so even a guessed name could not be planted). */
static void random_hex(char *out)
{
	unsigned char b[6];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long long x = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 30) ^
		                       (unsigned long long)ts.tv_sec;
		for (int i = 0; i < 6; i++)
			b[i] = (unsigned char)(x >> (8 * i));
	}
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* 'uefi'/'uefi-secure': OVMF's code read-only as flash unit 0, and a
 * private, writable copy of its variables as unit 1: a fresh directory
 * ($TMPDIR or /tmp, qlua-uefi.<12 hex digits>, mode 0700) that the launch
 * makes and fills (prepare steps, run before the description's own; given
 * to the VM's uid/gid, whom QEMU runs as) and
 * removes when qlua exits.  Chosen here, at render, so each launch (each
 * matrix cell) has its own, and a dry run only prints the commands. */
static void render_firmware(struct emit *e, const struct rec *vm)
{
	if (!has(vm, VM_FIRMWARE) || eis(vm, VM_FIRMWARE, "bios"))
		return;
	int secure = eis(vm, VM_FIRMWARE, "uefi-secure");
	const char *code, *vars;
	ovmf_images(e->a, secure, &code, &vars);
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	size_t tn = strlen(tmp);
	while (tn > 1 && tmp[tn - 1] == '/')
		tn--;
	char hex[13];
	random_hex(hex);
	size_t n = tn + 64;
	char *dir = arena_alloc(e->a, n), *copy = arena_alloc(e->a, n);
	snprintf(dir, n, "%s%.*s/qlua-uefi.%s", tmp[0] == '-' ? "./" : "", (int)tn, tmp, hex);
	snprintf(copy, n, "%s/OVMF_VARS.fd", dir);

	static const char *const mk[] = { "mkdir", "-m", "0700", NULL, NULL };
	static const char *const cp[] = { "cp", NULL, NULL, NULL };
	static const char *const chown[] = { "chown", NULL, NULL, NULL, NULL };
	/* QEMU started as another user (uid, gid) opens the copy as that user */
	int owner = has(vm, VM_UID) || has(vm, VM_GID);
	e->steps = arena_alloc(e->a, 3 * sizeof *e->steps);
	e->nsteps = 2 + owner;
	e->steps[0].argv = arena_alloc(e->a, sizeof mk);
	memcpy(e->steps[0].argv, mk, sizeof mk);
	e->steps[0].argv[3] = dir;
	e->steps[0].argc = 4;
	e->steps[0].remove = dir;
	e->steps[1].argv = arena_alloc(e->a, sizeof cp);
	memcpy(e->steps[1].argv, cp, sizeof cp);
	e->steps[1].argv[1] = (char *)vars;
	e->steps[1].argv[2] = copy;
	e->steps[1].argc = 3;
	e->steps[1].remove = NULL;
	if (owner) {
		char *who = arena_alloc(e->a, 48);
		size_t w = 0;
		if (has(vm, VM_UID))
			w += (size_t)snprintf(who, 48, "%lld", ival(vm, VM_UID));
		if (has(vm, VM_GID))
			snprintf(who + w, 48 - w, ":%lld", ival(vm, VM_GID));
		else
			who[w] = '\0';
		e->steps[2].argv = arena_alloc(e->a, sizeof chown);
		memcpy(e->steps[2].argv, chown, sizeof chown);
		e->steps[2].argv[1] = who;
		e->steps[2].argv[2] = dir;
		e->steps[2].argv[3] = copy;
		e->steps[2].argc = 4;
		e->steps[2].remove = NULL;
	}

	for (int unit = 0; unit < 2; unit++) {
		opt_begin(e, "-drive");
		opt_cstr(e, "if", "pflash");
		opt_cstr(e, "format", "raw");
		opt_int(e, "unit", unit);
		if (!unit)
			opt_bool(e, "readonly", 1);
		opt_cstr(e, "file", unit ? copy : code);
		opt_end(e);
	}
	if (secure)  /* the flash answers only to SMM code: what keeps the variables safe */
		emit_arg(e, "-global", "driver=cfi.pflash01,property=secure,value=on", 44);
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
	check_memory_knobs(c, vm);
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
	if (has(vm, VM_PFLASH)) {
		const struct qval *p = &vm->v[VM_PFLASH];
		char name[32];
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
	if (has(vm, VM_FW_CFG)) {
		const struct qval *f = &vm->v[VM_FW_CFG];
		for (int i = 0; i < f->u.recs.n; i++)
			for (int j = 0; j < i; j++)
				if (slen(f->u.recs.v[i], FW_NAME) == slen(f->u.recs.v[j], FW_NAME) &&
				    !memcmp(sval(f->u.recs.v[i], FW_NAME), sval(f->u.recs.v[j], FW_NAME), slen(f->u.recs.v[i], FW_NAME))) {
					char name[40];
					snprintf(name, sizeof name, "fw_cfg[%d].name", i + 1);
					ck_fail(c, name, "'%s' is fw_cfg[%d]'s too (each item once)", sval(f->u.recs.v[i], FW_NAME), j + 1);
				}
	}
	if (has(vm, VM_PIDFILE)) {
		/* QEMU removes a pidfile it cannot truncate: given /dev/null or
		 * /dev/full (or a FIFO, a socket) it would delete that path */
		struct stat st;
		if (stat(sval(vm, VM_PIDFILE), &st) == 0 && !S_ISREG(st.st_mode))
			ck_fail(c, "pidfile", "'%s' exists and is not a regular file (QEMU removes a pidfile it cannot write)",
			        sval(vm, VM_PIDFILE));
	}
	if (has(vm, VM_GROUPS) && vm->v[VM_GROUPS].u.ints.n > 64)
		ck_fail(c, "groups", "%d groups (qlua passes at most 64)", vm->v[VM_GROUPS].u.ints.n);
	check_firmware(c, vm);
	check_numa(c, vm);
	check_devices(c, vm);
	check_sandbox(c, vm);
}

/* "2G", "512M", "1536K", or bytes: the exact value in the largest unit. */
static void size_text(unsigned long long v, char *b, size_t n)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && v && v % 1024 == 0)
		v /= 1024, u++;
	/* by hand: snprintf was a tenth of rendering a typical VM */
	char d[24], *p = d + sizeof d;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	size_t len = d + sizeof d - p;
	if (len + 2 > n)
		len = n - 2;
	memcpy(b, p, len);
	b[len] = u < 0 ? 'B' : units[u];
	b[len + 1] = '\0';
}

/* ---- rendering ---- */

/* A memory backend: its type, path (or NULL), sharing and preallocation. */
struct backend {
	const char *type, *path;
	size_t pathlen;
	int share, prealloc;
};

static void render_backend(struct emit *e, const char *id, unsigned long long size, const struct backend *b)
{
	opt_begin(e, "-object");
	opt_head(e, b->type, strlen(b->type));
	opt_cstr(e, "id", id);
	opt_uint(e, "size", size);
	if (b->path)
		opt_str(e, "mem-path", b->path, b->pathlen);
	if (b->share)
		opt_bool(e, "share", 1);
	if (b->prealloc)
		opt_bool(e, "prealloc", 1);
	opt_end(e);
}

/* The same backend as a JSON -object, for the host-nodes list: QEMU's
 * key=value syntax takes one range only ("host-nodes=0-1"), JSON any set. */
static void render_backend_json(struct emit *e, const char *id, unsigned long long size,
                                const struct backend *b, const struct rec *nd)
{
	json_t *o = json_object();
	json_object_set_new(o, "qom-type", json_string(b->type));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "size", json_integer((json_int_t)size));
	if (b->path)
		json_object_set_new(o, "mem-path", json_stringn(b->path, b->pathlen));  /* UTF-8: checked */
	if (b->share)
		json_object_set_new(o, "share", json_true());
	if (b->prealloc)
		json_object_set_new(o, "prealloc", json_true());
	json_t *hn = json_array();
	const struct qval *h = &nd->v[NN_HOST_NODES];
	for (int i = 0; i < h->u.ints.n; i++)
		json_array_append_new(hn, json_integer(h->u.ints.v[i]));
	json_object_set_new(o, "host-nodes", hn);
	json_object_set_new(o, "policy", json_string(has(nd, NN_POLICY) ? eval(nd, NN_POLICY) : "bind"));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	emit_arg(e, "-object", s, strlen(s));
	free(s);
}

static void render_numa(struct emit *e, const struct rec *vm)
{
	const struct rec *nu = sec(vm, VM_NUMA);
	if (!nu || !has(nu, NU_NODES))
		return;
	char id[32];
	int huge = knob(vm, KN_HUGEPAGES);
	for (int i = 0; i < nu->v[NU_NODES].u.recs.n; i++) {
		const struct rec *nd = nu->v[NU_NODES].u.recs.v[i];
		if (!has(nd, NN_MEM_SIZE))
			continue;
		struct backend b = { "memory-backend-ram", NULL, 0, knob(vm, KN_MEM_SHARED) || huge,
		                     knob(vm, KN_MEM_PREALLOC) || huge };
		if (has(nd, NN_MEM_BACKEND_TYPE))
			b.type = eval(nd, NN_MEM_BACKEND_TYPE);
		else if (has(nd, NN_MEM_BACKEND_PATH) || huge || knob(vm, KN_FILE_BACKED_MEM))
			b.type = "memory-backend-file";
		else if (knob(vm, KN_MEM_SHARED))
			b.type = "memory-backend-memfd";
		if (!strcmp(b.type, "memory-backend-file")) {
			b.path = has(nd, NN_MEM_BACKEND_PATH) ? sval(nd, NN_MEM_BACKEND_PATH) : "/dev/hugepages";
			b.pathlen = has(nd, NN_MEM_BACKEND_PATH) ? slen(nd, NN_MEM_BACKEND_PATH) : 14;
		}
		snprintf(id, sizeof id, "qlua-numa%lld", ival(nd, NN_NODE_ID));
		if (has(nd, NN_HOST_NODES))
			render_backend_json(e, id, nd->v[NN_MEM_SIZE].u.size, &b, nd);
		else
			render_backend(e, id, nd->v[NN_MEM_SIZE].u.size, &b);
	}
	for (int i = 0; i < nu->v[NU_NODES].u.recs.n; i++) {
		const struct rec *nd = nu->v[NU_NODES].u.recs.v[i];
		opt_begin(e, "-numa");
		opt_head(e, "node", 4);
		opt_int(e, "nodeid", ival(nd, NN_NODE_ID));
		const struct qval *cpus = &nd->v[NN_CPUS];
		for (int j = 0; cpus->set && j < cpus->u.strs.n; j++) {
			/* "0-1,4": one cpus= per part (checked: digits and '-' only) */
			const char *s = cpus->u.strs.v[j], *end = s + cpus->u.strs.len[j];
			while (s < end) {
				const char *comma = memchr(s, ',', end - s);
				const char *pe = comma ? comma : end;
				opt_str(e, "cpus", s, pe - s);
				s = pe + 1;
			}
		}
		if (has(nd, NN_MEM_SIZE)) {
			snprintf(id, sizeof id, "qlua-numa%lld", ival(nd, NN_NODE_ID));
			opt_cstr(e, "memdev", id);
		}
		opt_end(e);
	}
	for (int i = 0; has(nu, NU_DISTS) && i < nu->v[NU_DISTS].u.recs.n; i++) {
		const struct rec *d = nu->v[NU_DISTS].u.recs.v[i];
		opt_begin(e, "-numa");
		opt_head(e, "dist", 4);
		opt_int(e, "src", ival(d, ND_SRC));
		opt_int(e, "dst", ival(d, ND_DST));
		opt_int(e, "val", ival(d, ND_VAL));
		opt_end(e);
	}
}

static void vm_render(struct emit *e, const struct rec *vm)
{
	char b[64];
	int debug = has(vm, VM_DEBUG) && ival(vm, VM_DEBUG);
	if (has(vm, VM_NAME) || debug) {
		/* guest= spelled out: a bare name containing '=' would be read as a key */
		opt_begin(e, "-name");
		if (has(vm, VM_NAME))
			opt_str(e, "guest", sval(vm, VM_NAME), slen(vm, VM_NAME));
		if (debug)
			opt_bool(e, "debug-threads", 1);
		opt_end(e);
	}
	if (has(vm, VM_UUID))
		emit_arg(e, "-uuid", sval(vm, VM_UUID), slen(vm, VM_UUID));

	const struct rec *ma = sec(vm, VM_MACHINE);
	int backend = memory_backend(vm);
	if ((ma && (has(ma, MA_TYPE) || has(ma, MA_OPTIONS))) || backend) {
		opt_begin(e, "-machine");
		if (ma && has(ma, MA_TYPE))
			opt_head(e, sval(ma, MA_TYPE), slen(ma, MA_TYPE));
		if (ma && has(ma, MA_OPTIONS))
			render_field(e, ma, MA_OPTIONS);
		if (backend)
			opt_cstr(e, "memory-backend", "qlua-mem");
		if (eis(vm, VM_FIRMWARE, "uefi-secure") && !machine_option_set(ma, "smm"))
			opt_bool(e, "smm", 1);  /* Secure Boot's variables are guarded by SMM (checked: q35) */
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
			if (i < 10)  /* (by hand, as size_text) */
				memcpy(b, "qlua-qmp", 8), b[8] = (char)('0' + i), b[9] = '\0';
			else
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
			struct backend bk = { "memory-backend-ram", NULL, 0, huge || knob(vm, KN_MEM_SHARED),
			                      huge || knob(vm, KN_MEM_PREALLOC) };
			if (has(m, ME_PATH) || huge) {
				bk.type = "memory-backend-file";
				bk.path = has(m, ME_PATH) ? sval(m, ME_PATH) : "/dev/hugepages";
				bk.pathlen = has(m, ME_PATH) ? slen(m, ME_PATH) : 14;
			} else if (knob(vm, KN_MEM_SHARED)) {
				/* shared RAM others can map needs a descriptor: a memfd (an
				 * anonymous shared mapping has none) */
				bk.type = "memory-backend-memfd";
			}
			render_backend(e, "qlua-mem", m->v[ME_SIZE].u.size, &bk);
		}
	}
	render_numa(e, vm);
	if (has(vm, VM_IOTHREADS)) {
		/* before the devices that name them */
		for (int i = 0; i < vm->v[VM_IOTHREADS].u.recs.n; i++) {
			opt_begin(e, "-object");
			opt_head(e, "iothread", 8);
			render_fields(e, vm->v[VM_IOTHREADS].u.recs.v[i], 1);
			opt_end(e);
		}
	}
	if (has(vm, VM_DEVICES)) {
		for (int i = 0; i < vm->v[VM_DEVICES].u.recs.n; i++) {
			const struct rec *d = vm->v[VM_DEVICES].u.recs.v[i];
			e->trace_dev = i + 1;
			d->k->render(e, d);
			e->trace_dev = 0;
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
	if (has(vm, VM_PFLASH)) {
		/* -pflash FILE leaves QEMU to guess the format (and warn) */
		for (int i = 0; i < vm->v[VM_PFLASH].u.strs.n; i++) {
			opt_begin(e, "-drive");
			opt_cstr(e, "if", "pflash");
			opt_cstr(e, "format", "raw");
			opt_int(e, "unit", i);
			opt_str(e, "file", vm->v[VM_PFLASH].u.strs.v[i], vm->v[VM_PFLASH].u.strs.len[i]);
			opt_end(e);
		}
	}
	render_firmware(e, vm);
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
	if (has(vm, VM_BOOT)) {
		opt_begin(e, "-boot");
		render_fields(e, vm->v[VM_BOOT].u.rec, 1);
		opt_end(e);
	}
	for (int i = 0; has(vm, VM_SMBIOS) && i < vm->v[VM_SMBIOS].u.recs.n; i++) {
		const struct rec *sm = vm->v[VM_SMBIOS].u.recs.v[i];
		opt_begin(e, "-smbios");
		opt_int(e, "type", ival(sm, SMB_TYPE));
		render_fields(e, sm, 1);
		opt_end(e);
	}
	if (knob(vm, KN_SNAPSHOT)) emit_word(e, "-snapshot");
	if (has(vm, VM_INCOMING)) {
		/* govmm's -S: the migrated VM stays paused until told to go on */
		const struct rec *in = vm->v[VM_INCOMING].u.rec;
		if (!knob(vm, KN_STOPPED))
			emit_word(e, "-S");
		if (eis(in, IN_TYPE, "fd")) {
			snprintf(b, sizeof b, "fd:%d", emit_fdnum(e, in->v[IN_FD].u.fd));
			emit_arg(e, "-incoming", b, strlen(b));
		} else if (eis(in, IN_TYPE, "exec")) {
			/* the URI is one argument, not key=value: the command goes as it is */
			size_t n = slen(in, IN_EXEC);
			char *s = arena_alloc(e->a, n + 6);
			memcpy(s, "exec:", 5);
			memcpy(s + 5, sval(in, IN_EXEC), n);
			emit_arg(e, "-incoming", s, n + 5);
		} else {
			emit_arg(e, "-incoming", "defer", 5);
		}
	}
	if (has(vm, VM_PIDFILE))
		emit_arg(e, "-pidfile", sval(vm, VM_PIDFILE), slen(vm, VM_PIDFILE));
	if (has(vm, VM_FW_CFG)) {
		for (int i = 0; i < vm->v[VM_FW_CFG].u.recs.n; i++) {
			opt_begin(e, "-fw_cfg");
			render_fields(e, vm->v[VM_FW_CFG].u.recs.v[i], 1);
			opt_end(e);
		}
	}
	if (has(vm, VM_SANDBOX)) {
		opt_begin(e, "-sandbox");
		opt_head(e, "on", 2);
		render_fields(e, vm->v[VM_SANDBOX].u.rec, 1);
		opt_end(e);
	}
	if (has(vm, VM_LOG_FILE))
		emit_arg(e, "-D", sval(vm, VM_LOG_FILE), slen(vm, VM_LOG_FILE));
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
	/* not options: who QEMU runs as, for whoever spawns it */
	if (has(vm, VM_UID)) {
		e->ids.set_uid = 1;
		e->ids.uid = (uid_t)ival(vm, VM_UID);
	}
	if (has(vm, VM_GID)) {
		e->ids.set_gid = 1;
		e->ids.gid = (gid_t)ival(vm, VM_GID);
	}
	if (has(vm, VM_GROUPS)) {
		e->ids.set_groups = 1;
		e->ids.ngroups = vm->v[VM_GROUPS].u.ints.n;
		for (int i = 0; i < e->ids.ngroups; i++)
			e->ids.groups[i] = (gid_t)vm->v[VM_GROUPS].u.ints.v[i];
	}
	/* not options either: what runs before QEMU */
	if (has(vm, VM_PREPARE)) {
		/* after the steps rendering added (render_firmware's) */
		const struct qval *pr = &vm->v[VM_PREPARE];
		struct emit_step *old = e->steps;
		int base = e->nsteps;
		e->steps = arena_alloc(e->a, (base + pr->u.recs.n) * sizeof *e->steps);
		if (base)
			memcpy(e->steps, old, base * sizeof *e->steps);
		e->nsteps = base + pr->u.recs.n;
		for (int k = 0; k < pr->u.recs.n; k++) {
			const struct rec *st = pr->u.recs.v[k];
			const struct qval *av = &st->v[PR_ARGV];
			int i = base + k;
			e->steps[i].argv = arena_alloc(e->a, (av->u.strs.n + 1) * sizeof *e->steps[i].argv);
			for (int j = 0; j < av->u.strs.n; j++)
				e->steps[i].argv[j] = arena_strndup(e->a, av->u.strs.v[j], av->u.strs.len[j]);
			e->steps[i].argc = av->u.strs.n;
			e->steps[i].remove = has(st, PR_REMOVE) ? arena_strndup(e->a, sval(st, PR_REMOVE), slen(st, PR_REMOVE)) : NULL;
		}
	}
	if (has(vm, VM_EXTRA_ARGS))
		for (int i = 0; i < vm->v[VM_EXTRA_ARGS].u.strs.n; i++)
			emit_wordn(e, vm->v[VM_EXTRA_ARGS].u.strs.v[i], vm->v[VM_EXTRA_ARGS].u.strs.len[i]);
}

const struct kind schema_vm = {
	.name = "vm", .fields = vm_fields, .nfields = NFIELDS(vm_fields),
	.doc = "a VM description", .check = vm_check, .render = vm_render,
};
