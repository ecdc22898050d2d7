/* devices.c - every device kind as data, plus a render hook where QEMU's
 * shape is unusual.  Field order is output order: the golden .args files
 * in spec/golden/ show exactly what each table produces.
 *
 * .opt says which of the kind's options a field renders into (1 = the
 * first, usually -device or the backend; 2 = the second); 0 = the hook
 * renders it itself.  A kind without a hook is one -device (render_device:
 * kind.device, or its driver on its transport). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "check.h"
#include "emit.h"
#include "lfd.h"
#include "render.h"
#include "schema.h"
#include "tap.h"
#include "values.h"
#include "vm_kind.h"

/* Fields most PCI devices have.  o is the option they render into. */
#define BUS(o)     { .name = "bus", .type = T_REF, .ns = NS_BUS, .opt = o, .key = "bus", \
                     .doc = "bus to plug into: a bridge or controller id, or the machine's pci.0 / pcie.0" }
#define ADDR(o)    { .name = "addr", .type = T_PCIADDR, .opt = o, .key = "addr", \
                     .doc = "PCI slot[.function] on that bus, hex (0..1f)" }
#define ROMFILE(o) { .name = "romfile", .type = T_PATH, .opt = o, .key = "romfile", \
                     .doc = "option ROM image for the device" }
#define BOOTINDEX(o) { .name = "bootindex", .type = T_UINT, .max = 0x7fffffff, .opt = o, .key = "bootindex", \
                       .doc = "boot order among devices, lowest first (firmware boot; each value once)" }
#define DISMOD(o)  { .name = "disable_modern", .type = T_BOOL, .opt = o, .key = "disable-modern", \
                     .doc = "present a legacy-only virtio device" }
/* The driver of a kind with transports: no fixed default, the kind's
 * device on the device's transport is rendered (render_driver); given, it
 * wins (read back, dev.driver is what was given, or nil). */
#define DRIVER_TR  { .name = "driver", .type = T_NAME, \
                     .doc = "QEMU device model (default: the kind's device on its transport, decided when the " \
                            "VM is rendered: see qemu.describe(kind).transports)" }

/* Transports (docs/contract.md: transport, devno): the choice is the machine's unless
 * given; devno places a ccw device. */
#define TRANSPORT_DOC "how it attaches: 'pci', 'mmio' (virtio-mmio: microvm) or 'ccw' (s390x); default: the " \
                      "machine's (mmio on microvm, ccw on s390-ccw-virtio or with qemu-system-s390x, else pci)"
#define TRANSPORT  { .name = "transport", .type = T_ENUM, .choices = CHOICES("pci", "mmio", "ccw"), \
                     .doc = TRANSPORT_DOC }
#define DEVNO(o)   { .name = "devno", .type = T_DEVNO, .opt = o, .key = "devno", \
                     .doc = "ccw device number cssid.ssid.devno, e.g. 'fe.0.0001' (ccw transport only)" }
/* One row of device names: pci, mmio, ccw. */
#define TR1(pci, mmio, ccw) ((const struct transports[]){ { { pci, mmio, ccw, NULL } } })

/* ---- object: memory backends (+ nvdimm), SEV, TDX ----------------------------- */

enum { OB_TYPE, OB_ID, OB_MEM_PATH, OB_SIZE, OB_SHARE, OB_READ_ONLY, OB_PREALLOC, OB_CBITPOS,
       OB_REDUCED_PHYS_BITS, OB_SEV_POLICY, OB_SEV_CERT_FILE_PATH, OB_SEV_SESSION_FILE_PATH,
       OB_SEV_KERNEL_HASHES, OB_SEPT_VE_DISABLE, OB_QGS_PORT, OB_QGS_PATH, OB_DRIVER, OB_DEVICE_ID,
       OB_FILE };
#define OB_MEM WHEN(OB_TYPE, "memory-backend-file", "memory-backend-ram", "memory-backend-memfd", \
                    "memory-backend-epc")
#define OB_HOSTMEM WHEN(OB_TYPE, "memory-backend-file", "memory-backend-ram", "memory-backend-memfd")
#define OB_SEV WHEN(OB_TYPE, "sev-guest")
#define OB_TDX WHEN(OB_TYPE, "tdx-guest")
/* govmm's quote generation service is on the host's vsock address */
#define VSOCK_HOST_CID "2"
static const struct field object_fields[] = {
	[OB_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ,
	              .choices = CHOICES("memory-backend-file", "memory-backend-ram", "memory-backend-memfd",
	                                 "memory-backend-epc", "sev-guest", "sev-snp-guest", "tdx-guest"),
	              .doc = "QEMU object type; a sev-guest or tdx-guest takes effect with machine.options"
	                     "['confidential-guest-support'] = id, an EPC with ['sgx-epc.0.memdev'] = id "
	                     "('sev-snp-guest' is refused: QEMU 7.2 has none; a tdx-guest is rendered, as JSON, "
	                     "and qlua --check says whether the QEMU has it: 7.2 has not, 10.1 has)" },
	[OB_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_OBJECT, .opt = 1, .key = "id",
	            .doc = "object id (what memdev= names)" },
	[OB_MEM_PATH] = { .name = "mem_path", .type = T_PATH, .opt = 1, .key = "mem-path",
	                  .only = WHEN(OB_TYPE, "memory-backend-file"),
	                  .req = WHEN(OB_TYPE, "memory-backend-file"), .doc = "file backing the memory" },
	[OB_SIZE] = { .name = "size", .type = T_SIZE, .opt = 1, .key = "size", .only = OB_MEM, .req = OB_MEM,
	              .doc = "size in bytes, or with K/M/G/T (memory backends)" },
	[OB_SHARE] = { .name = "share", .type = T_BOOL, .opt = 1, .key = "share", .only = OB_HOSTMEM,
	               .doc = "map the memory shared (visible to other processes)" },
	[OB_READ_ONLY] = { .name = "read_only", .type = T_BOOL, .opt = 1, .key = "readonly",
	                   .only = WHEN(OB_TYPE, "memory-backend-file"), .doc = "map the file read-only" },
	[OB_PREALLOC] = { .name = "prealloc", .type = T_BOOL, .opt = 1, .key = "prealloc", .only = OB_MEM,
	                  .doc = "allocate all memory at start" },
	[OB_CBITPOS] = { .name = "cbitpos", .type = T_UINT, .min = 1, .max = 63, .opt = 1, .key = "cbitpos",
	                 .only = OB_SEV, .req = OB_SEV,
	                 .doc = "position of the C-bit in a page table entry (sev-guest; the host CPU's)" },
	[OB_REDUCED_PHYS_BITS] = { .name = "reduced_phys_bits", .type = T_UINT, .min = 1, .max = 63, .opt = 1,
	                           .key = "reduced-phys-bits", .only = OB_SEV, .req = OB_SEV,
	                           .doc = "guest physical address bits lost to encryption (sev-guest)" },
	[OB_SEV_POLICY] = { .name = "sev_policy", .type = T_UINT, .max = 0xffffffffLL, .opt = 1, .key = "policy",
	                    .only = OB_SEV, .doc = "SEV guest policy (sev-guest; QEMU's default 0x1)" },
	[OB_SEV_CERT_FILE_PATH] = { .name = "sev_cert_file_path", .type = T_PATH, .opt = 1, .key = "dh-cert-file",
	                            .only = OB_SEV, .doc = "the guest owner's Diffie-Hellman certificate (sev-guest)" },
	[OB_SEV_SESSION_FILE_PATH] = { .name = "sev_session_file_path", .type = T_PATH, .opt = 1,
	                               .key = "session-file", .only = OB_SEV,
	                               .doc = "the guest owner's launch session blob (sev-guest)" },
	[OB_SEV_KERNEL_HASHES] = { .name = "sev_kernel_hashes", .type = T_BOOL, .opt = 1, .key = "kernel-hashes",
	                           .only = OB_SEV,
	                           .doc = "measure the kernel, initrd and command line (sev-guest)" },
	[OB_SEPT_VE_DISABLE] = { .name = "sept_ve_disable", .type = T_BOOL, .only = OB_TDX,
	                         .doc = "disable EPT violation #VE for the guest (tdx-guest's sept-ve-disable)" },
	[OB_QGS_PORT] = { .name = "qgs_port", .type = T_UINT, .min = 1, .max = 4294967295LL, .only = OB_TDX,
	                  .doc = "the quote generation service's vsock port on the host (CID 2), as govmm "
	                         "(tdx-guest; or qgs_path)" },
	[OB_QGS_PATH] = { .name = "qgs_path", .type = T_PATH, .only = OB_TDX,
	                  .doc = "the quote generation service's unix socket (tdx-guest; or qgs_port)" },
	[OB_DRIVER] = { .name = "driver", .type = T_ENUM, .choices = CHOICES("nvdimm"), .only = OB_HOSTMEM,
	                .doc = "a device using this memory (nvdimm)" },
	[OB_DEVICE_ID] = { .name = "device_id", .type = T_ID, .ns = NS_DEVICE, .opt = 2, .key = "id",
	                   .only = WHEN(OB_DRIVER, "nvdimm"), .doc = "id of the nvdimm device" },
	[OB_FILE] = { .name = "file", .type = T_PATH, .only = WHEN(OB_TYPE, "sev-guest", "tdx-guest"),
	              .doc = "firmware (OVMF/TDVF): read-only flash unit 0 for a sev-guest, -bios for a tdx-guest "
	                     "(as govmm)" },
};

static void object_check(struct ck *c, const struct rec *r)
{
	if (eis(r, OB_TYPE, "sev-snp-guest"))
		ck_fail(c, "type", "QEMU 7.2 has no 'sev-snp-guest' object (SEV-SNP came with QEMU 9.1); "
		                   "qlua does not emit it");
	if (has(r, OB_QGS_PORT) && has(r, OB_QGS_PATH))
		ck_fail(c, "qgs_path", "give 'qgs_port' or 'qgs_path', not both");
	if (has(r, OB_QGS_PATH)) {
		json_t *j = json_stringn(sval(r, OB_QGS_PATH), slen(r, OB_QGS_PATH));
		if (!j)
			ck_fail(c, "qgs_path", "not valid UTF-8 (a tdx-guest goes to QEMU as JSON)");
		json_decref(j);
	}
	if (has(r, OB_SIZE) && r->v[OB_SIZE].u.size == 0)
		ck_fail(c, "size", "size must be greater than 0");
}

/* A tdx-guest as a JSON -object: its quote-generation-socket is a nested
 * SocketAddress, which key=value cannot spell.  What govmm built (its own
 * JSON), with the socket optional (as QEMU has it) and unix as well as vsock. */
static void tdx_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	json_t *o = json_object();
	json_object_set_new(o, "qom-type", json_string("tdx-guest"));
	json_object_set_new(o, "id", json_stringn(sval(r, OB_ID), slen(r, OB_ID)));
	if (has(r, OB_SEPT_VE_DISABLE))
		json_object_set_new(o, "sept-ve-disable", json_boolean(ival(r, OB_SEPT_VE_DISABLE)));
	if (has(r, OB_QGS_PORT)) {
		/* QAPI's VsockSocketAddress: cid and port are strings */
		char port[24];
		snprintf(port, sizeof port, "%lld", ival(r, OB_QGS_PORT));
		json_object_set_new(o, "quote-generation-socket",
		                    json_pack("{s:s, s:s, s:s}", "type", "vsock", "cid", VSOCK_HOST_CID, "port", port));
	} else if (has(r, OB_QGS_PATH)) {
		json_object_set_new(o, "quote-generation-socket",  /* UTF-8: checked */
		                    json_pack("{s:s, s:s%}", "type", "unix", "path", sval(r, OB_QGS_PATH),
		                              slen(r, OB_QGS_PATH)));
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	emit_arg(e, "-object", s, strlen(s));
	free(s);
	if (has(r, OB_FILE))  /* govmm put the TDVF into Config.Bios */
		emit_arg(e, "-bios", sval(r, OB_FILE), slen(r, OB_FILE));
}

static void object_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	if (eis(r, OB_TYPE, "tdx-guest")) {
		tdx_render(rc, r);
		return;
	}
	opt_begin(e, "-object");
	opt_head(e, eval(r, OB_TYPE), strlen(eval(r, OB_TYPE)));
	render_fields(e, r, 1);
	opt_end(e);
	if (has(r, OB_FILE)) {
		/* the SEV guest's firmware: what govmm emitted, with the unit
		 * spelled out (the VM checks that no other flash or bios is there) */
		opt_begin(e, "-drive");
		opt_cstr(e, "if", "pflash");
		opt_cstr(e, "format", "raw");
		opt_int(e, "unit", 0);
		opt_bool(e, "readonly", 1);
		opt_str(e, "file", sval(r, OB_FILE), slen(r, OB_FILE));
		opt_end(e);
	}
	if (has(r, OB_DRIVER)) {
		opt_begin(e, "-device");
		opt_head(e, eval(r, OB_DRIVER), strlen(eval(r, OB_DRIVER)));
		render_fields(e, r, 2);
		opt_str(e, "memdev", sval(r, OB_ID), slen(r, OB_ID));
		/* QEMU insists: a read-only nvdimm is an unarmed one */
		if (has(r, OB_READ_ONLY) && ival(r, OB_READ_ONLY))
			opt_bool(e, "unarmed", 1);
		opt_end(e);
	}
}

static const struct kind kind_object = {
	.name = "object", FIELDS(object_fields), .is_device = 1,
	.doc = "a QEMU object: a memory backend (optionally with an nvdimm using it), or an SEV or TDX guest",
	.check = object_check, .render = object_render,
};

/* ---- fsdev: a 9p share ------------------------------------------------------- */

enum { FS_FS_DRIVER, FS_ID, FS_PATH, FS_SECURITY_MODEL, FS_MULTIDEV, FS_DRIVER, FS_MOUNT_TAG,
       FS_BUS, FS_ADDR, FS_ROMFILE, FS_DISABLE_MODERN, FS_TRANSPORT, FS_DEVNO };
static const struct field fsdev_fields[] = {
	[FS_FS_DRIVER] = { .name = "fs_driver", .type = T_ENUM, .choices = CHOICES("local"), .def = "local",
	                   .doc = "filesystem backend (QEMU removed 'handle'; 'proxy' is deprecated)" },
	[FS_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_FSDEV, .opt = 1, .key = "id",
	            .doc = "fsdev id" },
	[FS_PATH] = { .name = "path", .type = T_PATH, .flags = F_REQ, .opt = 1, .key = "path",
	              .doc = "host directory to share" },
	[FS_SECURITY_MODEL] = { .name = "security_model", .type = T_ENUM, .flags = F_REQ, .opt = 1,
	                        .key = "security_model",
	                        .choices = CHOICES("none", "passthrough", "mapped-xattr", "mapped-file", "mapped"),
	                        .doc = "how guest file attributes are stored" },
	[FS_MULTIDEV] = { .name = "multidev", .type = T_ENUM, .opt = 1, .key = "multidevs",
	                  .choices = CHOICES("remap", "forbid", "warn"),
	                  .doc = "what to do when the share spans several host filesystems" },
	[FS_DRIVER] = DRIVER_TR,
	[FS_MOUNT_TAG] = { .name = "mount_tag", .type = T_STR, .flags = F_REQ, .opt = 2, .key = "mount_tag",
	                   .doc = "the tag the guest mounts" },
	[FS_BUS] = BUS(2), [FS_ADDR] = ADDR(2), [FS_ROMFILE] = ROMFILE(2),
	[FS_DISABLE_MODERN] = DISMOD(2), [FS_TRANSPORT] = TRANSPORT, [FS_DEVNO] = DEVNO(2),
};

/* A backend option and the -device using it, joined by the backend's id
 * (<link>=<id>): the shape of fsdev and rng, as data. */
struct pair {
	const char *option;          /* the backend's option: "-fsdev", "-object" */
	const char *head;            /* its first word, or NULL: the value of enum field head_field */
	int head_field, id_field;
	const char *link;            /* the -device's key naming the backend */
};

/* "<option> <head>,<fields of option 1>" and "-device <driver for the
 * transport>,<link>=<id>,<fields of option 2>,<virtio extras>". */
static void pair_render(struct render *rc, const struct rec *r, const struct pair *p)
{
	struct emit *e = rc->e;
	const char *head = p->head ? p->head : eval(r, p->head_field);
	opt_begin(e, p->option);
	opt_head(e, head, strlen(head));
	render_fields(e, r, 1);
	opt_end(e);
	size_t n;
	const char *drv = render_driver(rc, r, &n);
	opt_begin(e, "-device");
	opt_head(e, drv, n);
	opt_str(e, p->link, sval(r, p->id_field), slen(r, p->id_field));
	render_fields(e, r, 2);
	render_virtio(rc, drv, n);
	opt_end(e);
}

static void fsdev_render(struct render *rc, const struct rec *r)
{
	static const struct pair fsdev = { "-fsdev", NULL, FS_FS_DRIVER, FS_ID, "fsdev" };
	pair_render(rc, r, &fsdev);
}

static const struct kind kind_fsdev = {
	.name = "fsdev", FIELDS(fsdev_fields), .is_device = 1,
	.doc = "a host directory shared with the guest over 9p", .render = fsdev_render,
	.tr = TR1("virtio-9p-pci", "virtio-9p-device", "virtio-9p-ccw"), .ntr = 1,
};

/* ---- chardev: a character backend, optionally with a device on it ------------ */

enum { CH_BACKEND, CH_ID, CH_PATH, CH_DRIVER, CH_BUS, CH_DEVICE_ID, CH_NAME, CH_ADDR,
       CH_ROMFILE, CH_DISABLE_MODERN };
#define CH_WITH_PATH WHEN(CH_BACKEND, "pipe", "socket", "serial", "tty", "file")
static const struct field chardev_fields[] = {
	[CH_BACKEND] = { .name = "backend", .type = T_ENUM, .flags = F_REQ,
	                 .choices = CHOICES("pipe", "socket", "console", "serial", "tty", "pty", "file"),
	                 .doc = "where the characters go: 'console' is qlua's standard output" },
	[CH_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_CHARDEV, .opt = 1, .key = "id",
	            .doc = "chardev id" },
	[CH_PATH] = { .name = "path", .type = T_PATH, .opt = 1, .key = "path",
	              .only = CH_WITH_PATH, .req = CH_WITH_PATH,
	              .doc = "pipe, socket, device or file path (a socket is a listening server)" },
	[CH_DRIVER] = { .name = "driver", .type = T_NAME,
	                .doc = "a device using the chardev (virtconsole, virtserialport, ...); 'serial' (govmm's "
	                       "LegacySerial): no device, the chardev is for a qemu.legacy_serial" },
	[CH_BUS] = BUS(2),
	[CH_DEVICE_ID] = { .name = "device_id", .type = T_ID, .ns = NS_DEVICE, .opt = 2, .key = "id",
	                   .doc = "id of that device" },
	[CH_NAME] = { .name = "name", .type = T_STR, .opt = 2, .key = "name",
	              .doc = "port name the guest sees (virtserialport)" },
	[CH_ADDR] = ADDR(2), [CH_ROMFILE] = ROMFILE(2), [CH_DISABLE_MODERN] = DISMOD(2),
};

/* driver "serial" is govmm's LegacySerial: QEMU has no pluggable device of
 * that name (-device serial is refused); the chardev is for a machine
 * serial port, which qemu.legacy_serial connects with -serial chardev:ID. */
static int chardev_has_device(const struct rec *r)
{
	return has(r, CH_DRIVER) && strcmp(sval(r, CH_DRIVER), "serial");
}

static void chardev_check(struct ck *c, const struct rec *r)
{
	/* device fields without a device would be silently dropped */
	static const int devonly[] = { CH_BUS, CH_DEVICE_ID, CH_NAME, CH_ADDR, CH_ROMFILE, CH_DISABLE_MODERN };
	if (chardev_has_device(r))
		return;
	for (size_t i = 0; i < sizeof devonly / sizeof devonly[0]; i++)
		if (has(r, devonly[i]))
			ck_fail(c, kind_fields(r->k)[devonly[i]].name, has(r, CH_DRIVER)
			        ? "not used with driver 'serial' (that is a legacy serial port, connected by "
			          "qemu.legacy_serial, not a device)"
			        : "only used with a device (set 'driver')");
}

static void chardev_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	/* QEMU on Linux has no 'console' backend (it is Windows' stdio), and
	 * 'tty' is an old alias of 'serial'. */
	const char *be = eval(r, CH_BACKEND);
	if (!strcmp(be, "console"))
		be = "stdio";
	else if (!strcmp(be, "tty"))
		be = "serial";
	opt_begin(e, "-chardev");
	opt_head(e, be, strlen(be));
	render_fields(e, r, 1);
	if (eis(r, CH_BACKEND, "socket")) {
		opt_bool(e, "server", 1);
		opt_bool(e, "wait", 0);
	}
	opt_end(e);
	if (chardev_has_device(r)) {
		opt_begin(e, "-device");
		opt_head(e, sval(r, CH_DRIVER), slen(r, CH_DRIVER));
		opt_str(e, "chardev", sval(r, CH_ID), slen(r, CH_ID));
		render_fields(e, r, 2);
		render_virtio(rc, sval(r, CH_DRIVER), slen(r, CH_DRIVER));
		opt_end(e);
	}
}

static const struct kind kind_chardev = {
	.name = "chardev", FIELDS(chardev_fields), .is_device = 1,
	.doc = "a character device backend, optionally with the guest device using it",
	.check = chardev_check, .render = chardev_render,
};

/* ---- netdev: a guest NIC and its host side ----------------------------------- */

/* A port forward of user networking: host_addr:host_port on the host to
 * guest_port in the guest.  Checked as addresses and ports, so a rule
 * never needs escaping. */
enum { HF_PROTO, HF_HOST_ADDR, HF_HOST_PORT, HF_GUEST_PORT };
static const struct field hostfwd_fields[] = {
	[HF_PROTO] = { .name = "proto", .type = T_ENUM, .choices = CHOICES("tcp", "udp"), .def = "tcp",
	               .doc = "'tcp' or 'udp'" },
	[HF_HOST_ADDR] = { .name = "host_addr", .type = T_STR, .def = "127.0.0.1",
	                   .doc = "host IPv4 address to listen on (never all addresses unless given '0.0.0.0')" },
	[HF_HOST_PORT] = { .name = "host_port", .type = T_UINT, .flags = F_REQ, .max = 65535,
	                   .doc = "host port; 0 picks a free one (vm:forwarded_port(guest_port) says which)" },
	[HF_GUEST_PORT] = { .name = "guest_port", .type = T_UINT, .flags = F_REQ, .min = 1, .max = 65535,
	                    .doc = "guest port" },
};

static void hostfwd_check(struct ck *c, const struct rec *r)
{
	if (!val_ipv4(sval(r, HF_HOST_ADDR), slen(r, HF_HOST_ADDR), NULL))
		ck_fail(c, "host_addr", "'%s' is not an IPv4 address", sval(r, HF_HOST_ADDR));
}

static const struct kind sub_hostfwd = {
	.name = "hostfwd", FIELDS(hostfwd_fields),
	.doc = "a port forward of user networking", .check = hostfwd_check,
};

enum { NET_TYPE, NET_ID, NET_IFNAME, NET_FDS, NET_VHOST, NET_VHOST_FDS, NET_SCRIPT,
       NET_DOWN_SCRIPT, NET_BDF, NET_CHARDEV, NET_DRIVER, NET_MAC_ADDRESS, NET_BUS, NET_ADDR,
       NET_ROMFILE, NET_DISABLE_MODERN, NET_TRANSPORT, NET_DEVNO, NET_HOSTFWD, NET_NET, NET_DNS,
       NET_RESTRICT, NET_BOOTINDEX };
#define NET_TAPS WHEN(NET_TYPE, "tap", "macvtap", "ipvtap", "vethtap")
#define NET_NIC WHEN(NET_TYPE, "tap", "macvtap", "ipvtap", "vethtap", "vhostuser", "user")
#define NET_USER WHEN(NET_TYPE, "user")
static const struct field netdev_fields[] = {
	[NET_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ,
	               .choices = CHOICES("tap", "macvtap", "ipvtap", "vethtap", "vfio", "vhostuser", "user"),
	               .doc = "host side: a tap-like interface, an assigned VF (vfio), a vhost-user port or "
	                      "user networking (QEMU's own NAT: no privileges, port forwards)" },
	[NET_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_NETDEV,
	             .doc = "netdev id (the device id for vfio)" },
	[NET_IFNAME] = { .name = "ifname", .type = T_STR, .only = NET_TAPS,
	                 .doc = "host interface; with fds it is checked against them, not passed" },
	[NET_FDS] = { .name = "fds", .type = T_FDS, .only = NET_TAPS,
	              .req = WHEN(NET_TYPE, "macvtap", "ipvtap"),
	              .doc = "open queues of the interface (qemu.tap); more than one enables multiqueue" },
	[NET_VHOST] = { .name = "vhost", .type = T_BOOL, .only = NET_TAPS,
	                .doc = "virtio in the host kernel (vhost-net)" },
	[NET_VHOST_FDS] = { .name = "vhost_fds", .type = T_FDS, .only = NET_TAPS,
	                    .doc = "open /dev/vhost-net descriptors, one per queue" },
	[NET_SCRIPT] = { .name = "script", .type = T_PATH, .only = NET_TAPS,
	                 .doc = "run when the interface comes up (default: none)" },
	[NET_DOWN_SCRIPT] = { .name = "down_script", .type = T_PATH, .only = NET_TAPS,
	                      .doc = "run when the interface goes down (default: none)" },
	[NET_BDF] = { .name = "bdf", .type = T_BDF, .only = WHEN(NET_TYPE, "vfio"),
	              .req = WHEN(NET_TYPE, "vfio"), .doc = "host PCI address of the VF (vfio)" },
	[NET_CHARDEV] = { .name = "chardev", .type = T_REF, .ns = NS_CHARDEV,
	                  .only = WHEN(NET_TYPE, "vhostuser"), .req = WHEN(NET_TYPE, "vhostuser"),
	                  .doc = "socket chardev of the vhost-user backend" },
	[NET_DRIVER] = { .name = "driver", .type = T_NAME, .only = NET_NIC,
	                 .doc = "QEMU NIC model (default: virtio-net on the device's transport, decided when the VM "
	                        "is rendered: see qemu.describe(kind).transports)" },
	[NET_MAC_ADDRESS] = { .name = "mac_address", .type = T_MAC, .opt = 1, .key = "mac", .only = NET_NIC,
	                      .doc = "guest MAC address" },
	[NET_BUS] = BUS(1), [NET_ADDR] = ADDR(1), [NET_ROMFILE] = ROMFILE(1),
	[NET_DISABLE_MODERN] = { .name = "disable_modern", .type = T_BOOL, .opt = 1, .key = "disable-modern",
	                         .only = NET_NIC, .doc = "present a legacy-only virtio device" },
	[NET_TRANSPORT] = { .name = "transport", .type = T_ENUM, .choices = CHOICES("pci", "mmio", "ccw"),
	                    .only = NET_NIC, .doc = TRANSPORT_DOC },
	[NET_DEVNO] = { .name = "devno", .type = T_DEVNO, .opt = 1, .key = "devno", .only = NET_NIC,
	                .doc = "ccw device number cssid.ssid.devno, e.g. 'fe.0.0001' (ccw transport only)" },
	[NET_HOSTFWD] = { .name = "hostfwd", .type = T_RECS, .sub = &sub_hostfwd, .only = NET_USER,
	                  .doc = "port forwards (user): { {proto, host_addr, host_port, guest_port}, ... }" },
	[NET_NET] = { .name = "net", .type = T_STR, .only = NET_USER,
	              .doc = "the guest's network, IPv4 address/prefix (user; QEMU's default 10.0.2.0/24)" },
	[NET_DNS] = { .name = "dns", .type = T_STR, .only = NET_USER,
	              .doc = "the address of QEMU's DNS proxy, inside 'net' (user; default: the network's .3)" },
	[NET_RESTRICT] = { .name = "restrict", .type = T_BOOL, .only = NET_USER,
	                   .doc = "isolate the guest: no traffic beyond the port forwards (user)" },
	[NET_BOOTINDEX] = BOOTINDEX(1),
};

/* An assigned VF has no netdev: its id names the -device. */
static int netdev_id_ns(const struct rec *r, int f)
{
	return eis(r, NET_TYPE, "vfio") ? NS_DEVICE : NS_NETDEV;
}

/* user: net is a network, dns an address in it (slirp refuses others at
 * start with less to go on) */
static void netdev_user_check(struct ck *c, const struct rec *r)
{
	unsigned long net = 0x0a000200UL, dns;  /* QEMU's default 10.0.2.0/24 */
	int prefix = 24;
	if (has(r, NET_NET) && !val_ipv4_net(sval(r, NET_NET), slen(r, NET_NET), &net, &prefix))
		ck_fail(c, "net", "'%s' is not an IPv4 network (address/prefix with no host bits, e.g. "
		        "'10.0.2.0/24')", sval(r, NET_NET));
	if (prefix > 30)
		ck_fail(c, "net", "'%s' is too small (the guest, the gateway and the DNS proxy need a prefix of "
		        "at most 30)", sval(r, NET_NET));
	if (!has(r, NET_DNS))
		return;
	if (!val_ipv4(sval(r, NET_DNS), slen(r, NET_DNS), &dns))
		ck_fail(c, "dns", "'%s' is not an IPv4 address", sval(r, NET_DNS));
	unsigned long mask = prefix ? (0xffffffffUL << (32 - prefix)) & 0xffffffffUL : 0;
	if ((dns & mask) != net)
		ck_fail(c, "dns", "%s is not inside the network %s", sval(r, NET_DNS),
		        has(r, NET_NET) ? sval(r, NET_NET) : "10.0.2.0/24");
}

static void netdev_check(struct ck *c, const struct rec *r)
{
	const struct qval *fds = &r->v[NET_FDS], *vfds = &r->v[NET_VHOST_FDS];
	if (fds->set && has(r, NET_SCRIPT))
		ck_fail(c, "script", "not used with 'fds' (QEMU runs no script for descriptors it is given)");
	if (fds->set && has(r, NET_DOWN_SCRIPT))
		ck_fail(c, "down_script", "not used with 'fds' (QEMU runs no script for descriptors it is given)");
	if (vfds->set && !(has(r, NET_VHOST) && ival(r, NET_VHOST)))
		ck_fail(c, "vhost_fds", "needs 'vhost = true'");
	if (vfds->set && fds->set && vfds->u.fds.n != fds->u.fds.n)
		ck_fail(c, "vhost_fds", "%d descriptors, but 'fds' has %d (one per queue)",
		        vfds->u.fds.n, fds->u.fds.n);
	if (eis(r, NET_TYPE, "user"))
		netdev_user_check(c, r);
	char why[160];
	if (has(r, NET_IFNAME) && tap_check_name(sval(r, NET_IFNAME), why, sizeof why))
		ck_fail(c, "ifname", "%s", why);
	/* With fds QEMU takes the descriptors, not the name: make sure they agree
	 * rather than drop the name silently. */
	if (has(r, NET_IFNAME) && fds->set) {
		for (int i = 0; i < fds->u.fds.n; i++) {
			const char *w = fds->u.fds.v[i]->what;
			size_t n = slen(r, NET_IFNAME);
			if (!strncmp(w, "tap ", 4) && (strncmp(w + 4, sval(r, NET_IFNAME), n) || w[4 + n] != ' '))
				ck_fail(c, "ifname", "'%s' does not match fds[%d] (%s)", sval(r, NET_IFNAME), i + 1, w);
		}
	}
}

static void netdev_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	const struct qval *fds = &r->v[NET_FDS];
	if (eis(r, NET_TYPE, "vfio")) {
		/* An assigned VF has no netdev: the device is the NIC. */
		opt_begin(e, "-device");
		opt_head(e, "vfio-pci", 8);
		opt_str(e, "host", sval(r, NET_BDF), slen(r, NET_BDF));
		opt_str(e, "id", sval(r, NET_ID), slen(r, NET_ID));
		render_fields(e, r, 1);
		opt_end(e);
		return;
	}
	opt_begin(e, "-netdev");
	if (eis(r, NET_TYPE, "user")) {
		opt_head(e, "user", 4);
		opt_str(e, "id", sval(r, NET_ID), slen(r, NET_ID));
		if (has(r, NET_NET))
			opt_str(e, "net", sval(r, NET_NET), slen(r, NET_NET));
		if (has(r, NET_DNS))
			opt_str(e, "dns", sval(r, NET_DNS), slen(r, NET_DNS));
		if (has(r, NET_RESTRICT))
			opt_bool(e, "restrict", ival(r, NET_RESTRICT));
		const struct qval *fw = &r->v[NET_HOSTFWD];
		for (int i = 0; fw->set && i < fw->u.recs.n; i++) {
			/* proto:haddr:hport-:gport (the guest address left to slirp) */
			const struct rec *h = fw->u.recs.v[i];
			char rule[64];
			int n = snprintf(rule, sizeof rule, "%s:%.*s:%lld-:%lld", eval(h, HF_PROTO),
			                 (int)slen(h, HF_HOST_ADDR), sval(h, HF_HOST_ADDR),
			                 ival(h, HF_HOST_PORT), ival(h, HF_GUEST_PORT));
			opt_str(e, "hostfwd", rule, (size_t)n);
		}
	} else if (eis(r, NET_TYPE, "vhostuser")) {
		opt_head(e, "vhost-user", 10);
		opt_str(e, "id", sval(r, NET_ID), slen(r, NET_ID));
		opt_str(e, "chardev", sval(r, NET_CHARDEV), slen(r, NET_CHARDEV));
	} else {
		/* tap, macvtap, ipvtap and vethtap are all a tap to QEMU */
		opt_head(e, "tap", 3);
		opt_str(e, "id", sval(r, NET_ID), slen(r, NET_ID));
		if (has(r, NET_VHOST))
			opt_bool(e, "vhost", ival(r, NET_VHOST));
		if (has(r, NET_VHOST_FDS)) {
			const struct qval *v = &r->v[NET_VHOST_FDS];
			if (v->u.fds.n == 1)
				opt_fd(e, "vhostfd", v->u.fds.v[0]);
			else
				opt_fds(e, "vhostfds", v->u.fds.v, v->u.fds.n);
		}
		if (fds->set) {
			if (fds->u.fds.n == 1)
				opt_fd(e, "fd", fds->u.fds.v[0]);
			else
				opt_fds(e, "fds", fds->u.fds.v, fds->u.fds.n);
		} else {
			if (has(r, NET_IFNAME))
				opt_str(e, "ifname", sval(r, NET_IFNAME), slen(r, NET_IFNAME));
			/* QEMU's default runs /etc/qemu-ifup as whoever runs QEMU: never implied */
			opt_str(e, "script", has(r, NET_SCRIPT) ? sval(r, NET_SCRIPT) : "no",
			        has(r, NET_SCRIPT) ? slen(r, NET_SCRIPT) : 2);
			opt_str(e, "downscript", has(r, NET_DOWN_SCRIPT) ? sval(r, NET_DOWN_SCRIPT) : "no",
			        has(r, NET_DOWN_SCRIPT) ? slen(r, NET_DOWN_SCRIPT) : 2);
		}
	}
	opt_end(e);

	size_t n;
	const char *drv = render_driver(rc, r, &n);
	opt_begin(e, "-device");
	opt_head(e, drv, n);
	opt_str(e, "netdev", sval(r, NET_ID), slen(r, NET_ID));
	render_fields(e, r, 1);
	if (fds->set && fds->u.fds.n > 1) {
		/* multiqueue: 2N+2 MSI-X vectors (N rx, N tx, config, control);
		 * MSI-X is PCI's, the other transports have no vectors */
		opt_bool(e, "mq", 1);
		if (render_transport(rc, r) == TR_PCI)
			opt_int(e, "vectors", 2LL * fds->u.fds.n + 2);
	}
	render_virtio(rc, drv, n);
	opt_end(e);
}

static const struct kind kind_netdev = {
	.name = "netdev", FIELDS(netdev_fields), .is_device = 1,
	.doc = "a guest network interface and its host side",
	.check = netdev_check, .render = netdev_render, .id_ns = netdev_id_ns,
	.tr = TR1("virtio-net-pci", "virtio-net-device", "virtio-net-ccw"), .ntr = 1,
};

/* ---- serial: a virtio-serial controller ------------------------------------- */

enum { SE_DRIVER, SE_ID, SE_MAX_PORTS, SE_BUS, SE_ADDR, SE_ROMFILE, SE_DISABLE_MODERN, SE_TRANSPORT,
       SE_DEVNO };
static const struct field serial_fields[] = {
	[SE_DRIVER] = DRIVER_TR,
	[SE_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS0, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "controller id; its bus is '<id>.0'" },
	[SE_MAX_PORTS] = { .name = "max_ports", .type = T_UINT, .min = 1, .max = 511, .opt = 1,
	                   .key = "max_ports", .doc = "number of ports" },
	[SE_BUS] = BUS(1), [SE_ADDR] = ADDR(1), [SE_ROMFILE] = ROMFILE(1),
	[SE_DISABLE_MODERN] = DISMOD(1), [SE_TRANSPORT] = TRANSPORT, [SE_DEVNO] = DEVNO(1),
};

static const struct kind kind_serial = {
	.name = "serial", FIELDS(serial_fields), .is_device = 1,
	.doc = "a virtio-serial controller (consoles and ports plug into '<id>.0')",
	.tr = TR1("virtio-serial-pci", "virtio-serial-device", "virtio-serial-ccw"), .ntr = 1,
};

/* ---- block: a disk image and the device showing it ---------------------------- */

enum { BL_ID, BL_FILE, BL_AIO, BL_FORMAT, BL_INTERFACE, BL_READ_ONLY, BL_DISCARD_UNMAP,
       BL_DRIVER, BL_SCSI, BL_WCE, BL_SHARE_RW, BL_BUS, BL_ADDR, BL_ROMFILE, BL_DISABLE_MODERN,
       BL_SERIAL, BL_TRANSPORT, BL_DEVNO, BL_BOOTINDEX };
#define BL_DEV WHEN(BL_INTERFACE, "none")            /* a virtio-blk device qlua adds */
#define BL_DEVICE WHEN(BL_INTERFACE, "none", "scsi")  /* any device qlua adds */
static const struct field block_fields[] = {
	[BL_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_DRIVE, .doc = "drive id" },
	[BL_FILE] = { .name = "file", .type = T_FILE, .flags = F_REQ,
	              .doc = "image path, or a qemu.fd (passed with -add-fd)" },
	[BL_AIO] = { .name = "aio", .type = T_ENUM, .opt = 1, .key = "aio",
	             .choices = CHOICES("threads", "native", "io_uring"),
	             .doc = "I/O engine ('native' implies cache.direct=on)" },
	[BL_FORMAT] = { .name = "format", .type = T_ENUM, .flags = F_REQ, .opt = 1, .key = "format",
	                .choices = CHOICES("raw", "qcow2", "qcow", "qed", "vmdk", "vdi", "vhdx", "vpc",
	                                   "luks", "parallels", "dmg", "cloop", "bochs"),
	                .doc = "image format (required: QEMU guesses otherwise)" },
	[BL_INTERFACE] = { .name = "interface", .type = T_ENUM, .def = "none",
	                   .choices = CHOICES("none", "scsi", "ide", "virtio"),
	                   .doc = "'none': qlua adds a virtio-blk device; 'scsi': a scsi-hd on a SCSI "
	                          "controller's bus; 'ide', 'virtio': QEMU adds the device" },
	[BL_READ_ONLY] = { .name = "read_only", .type = T_BOOL, .opt = 1, .key = "readonly",
	                   .doc = "read-only image" },
	[BL_DISCARD_UNMAP] = { .name = "discard_unmap", .type = T_BOOL,
	                       .doc = "pass guest discards to the image (discard=unmap)" },
	[BL_DRIVER] = { .name = "driver", .type = T_NAME, .only = BL_DEVICE,
	                .def_alt = "scsi-hd", .def_when = WHEN(BL_INTERFACE, "scsi"),
	                .doc = "QEMU disk device model (default: virtio-blk on the device's transport, decided when "
	                       "the VM is rendered, see qemu.describe(kind).transports; scsi-hd with interface 'scsi')" },
	[BL_SCSI] = { .name = "scsi", .type = T_BOOL, .only = BL_DEV,
	              .doc = "SCSI passthrough on virtio-blk (removed from QEMU: only false is accepted)" },
	[BL_WCE] = { .name = "wce", .type = T_BOOL, .only = BL_DEV, .opt = 2, .key = "config-wce",
	             .doc = "let the guest toggle the write cache" },
	[BL_SHARE_RW] = { .name = "share_rw", .type = T_BOOL, .only = BL_DEVICE, .opt = 2, .key = "share-rw",
	                  .doc = "allow other writers of the image" },
	[BL_BUS] = { .name = "bus", .type = T_REF, .ns = NS_BUS, .opt = 2, .key = "bus", .only = BL_DEVICE,
	             .doc = "bus to plug into: a bridge id or pci.0 / pcie.0; a SCSI controller's '<id>.0' for 'scsi'" },
	[BL_ADDR] = { .name = "addr", .type = T_PCIADDR, .opt = 2, .key = "addr", .only = BL_DEV,
	              .doc = "PCI slot[.function] on that bus, hex (0..1f)" },
	[BL_ROMFILE] = { .name = "romfile", .type = T_PATH, .opt = 2, .key = "romfile", .only = BL_DEV,
	                 .doc = "option ROM image for the device" },
	[BL_DISABLE_MODERN] = { .name = "disable_modern", .type = T_BOOL, .opt = 2, .key = "disable-modern",
	                        .only = BL_DEV, .doc = "present a legacy-only virtio device" },
	[BL_SERIAL] = { .name = "serial", .type = T_STR, .opt = 2, .key = "serial", .only = BL_DEVICE,
	                .doc = "disk serial number the guest sees (/dev/disk/by-id); at most 20 bytes on virtio-blk, "
	                       "where it defaults to the drive id (as govmm did) when that fits" },
	[BL_TRANSPORT] = { .name = "transport", .type = T_ENUM, .choices = CHOICES("pci", "mmio", "ccw"),
	                   .only = BL_DEV, .doc = TRANSPORT_DOC },
	[BL_DEVNO] = { .name = "devno", .type = T_DEVNO, .opt = 2, .key = "devno", .only = BL_DEV,
	               .doc = "ccw device number cssid.ssid.devno, e.g. 'fe.0.0001' (ccw transport only)" },
	[BL_BOOTINDEX] = { .name = "bootindex", .type = T_UINT, .max = 0x7fffffff, .opt = 2, .key = "bootindex",
	                   .only = BL_DEVICE, .doc = "boot order among devices, lowest first (each value once)" },
};

/* QEMU's virtio-blk keeps 20 bytes of a serial (VIRTIO_BLK_ID_BYTES) and
 * drops the rest without a word. */
#define VIRTIO_BLK_SERIAL 20

/* Is the device qlua adds a virtio-blk?  (n: its driver, when known.) */
static int block_is_virtio_blk(const struct rec *r, const char *drv, size_t n)
{
	if (!eis(r, BL_INTERFACE, "none"))
		return 0;
	if (!drv && !has(r, BL_DRIVER))
		return 1;  /* the default is virtio-blk on every transport */
	if (!drv)
		drv = sval(r, BL_DRIVER), n = slen(r, BL_DRIVER);
	return n >= 10 && !memcmp(drv, "virtio-blk", 10);
}

static void block_check(struct ck *c, const struct rec *r)
{
	if (has(r, BL_SCSI) && ival(r, BL_SCSI))
		ck_fail(c, "scsi", "SCSI passthrough on virtio-blk was removed from QEMU (5.0); use a "
		                   "scsi-block device on a SCSI controller");
	if (has(r, BL_SERIAL) && slen(r, BL_SERIAL) > VIRTIO_BLK_SERIAL && block_is_virtio_blk(r, NULL, 0))
		ck_fail(c, "serial", "'%s' is %zu bytes, longer than a virtio-blk serial (%d bytes; QEMU would cut it)",
		        sval(r, BL_SERIAL), slen(r, BL_SERIAL), VIRTIO_BLK_SERIAL);
}

static void block_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	struct qfd *fd = r->v[BL_FILE].u.str.fd;
	char fdset[32];
	if (fd) {
		/* A descriptor reaches a drive through an fd set: -add-fd puts it
		 * in set N (N = its child number, so it is unique) and the drive
		 * opens /dev/fdset/N. */
		int n = emit_fdnum(e, fd);
		opt_begin(e, "-add-fd");
		opt_int(e, "fd", n);
		opt_int(e, "set", n);
		opt_end(e);
		snprintf(fdset, sizeof fdset, "/dev/fdset/%d", n);
	}
	opt_begin(e, "-drive");
	opt_str(e, "id", sval(r, BL_ID), slen(r, BL_ID));
	if (fd)
		opt_cstr(e, "file", fdset);
	else
		opt_str(e, "file", sval(r, BL_FILE), slen(r, BL_FILE));
	render_field(e, r, BL_AIO);
	render_field(e, r, BL_FORMAT);
	/* the seed's if=scsi is refused by every x86 machine now: the drive is
	 * if=none and qlua adds the scsi-hd, as for virtio-blk */
	opt_cstr(e, "if", eis(r, BL_INTERFACE, "scsi") ? "none" : eval(r, BL_INTERFACE));
	render_field(e, r, BL_READ_ONLY);
	if (eis(r, BL_AIO, "native"))
		opt_bool(e, "cache.direct", 1); /* QEMU refuses aio=native without it */
	if (has(r, BL_DISCARD_UNMAP))
		opt_cstr(e, "discard", ival(r, BL_DISCARD_UNMAP) ? "unmap" : "ignore");
	if (fd && !(has(r, BL_READ_ONLY) && ival(r, BL_READ_ONLY)))
		opt_bool(e, "auto-read-only", 0); /* else QEMU first reopens the set read-only */
	opt_end(e);
	if (eis(r, BL_INTERFACE, "ide") || eis(r, BL_INTERFACE, "virtio"))
		return;
	size_t n;
	const char *drv = render_driver(rc, r, &n);
	opt_begin(e, "-device");
	opt_head(e, drv, n);
	opt_str(e, "drive", sval(r, BL_ID), slen(r, BL_ID));
	const struct field *fs = kind_fields(r->k);
	for (int f = 0; f < r->k->nfields; f++) {
		if (fs[f].opt != 2)
			continue;
		/* govmm's default: the drive id as the serial, so the guest finds
		 * the disk as /dev/disk/by-id/virtio-<id> (none when the id would
		 * be cut) */
		if (f == BL_SERIAL && !has(r, BL_SERIAL) && block_is_virtio_blk(r, drv, n) &&
		    slen(r, BL_ID) <= VIRTIO_BLK_SERIAL)
			opt_str(e, "serial", sval(r, BL_ID), slen(r, BL_ID));
		else
			render_field(e, r, f);
	}
	render_virtio(rc, drv, n);
	opt_end(e);
}

static const struct kind kind_block = {
	.name = "block", FIELDS(block_fields), .is_device = 1,
	.doc = "a disk image (-drive) and the guest device showing it",
	.check = block_check, .render = block_render,
	.tr = TR1("virtio-blk-pci", "virtio-blk-device", "virtio-blk-ccw"), .ntr = 1,
};

/* ---- cdrom: install media ------------------------------------------------------ */

enum { CD_ID, CD_FILE, CD_DRIVER, CD_BUS, CD_BOOTINDEX };
static const struct field cdrom_fields[] = {
	[CD_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_DRIVE, .doc = "drive id" },
	[CD_FILE] = { .name = "file", .type = T_PATH, .flags = F_REQ,
	              .doc = "ISO image (read-only; it must exist)" },
	[CD_DRIVER] = { .name = "driver", .type = T_NAME,
	                .doc = "QEMU device model (default: scsi-cd when 'bus' is a SCSI controller's, else "
	                       "ide-cd on the machine's IDE/AHCI controller)" },
	[CD_BUS] = { .name = "bus", .type = T_REF, .ns = NS_BUS, .opt = 2, .key = "bus",
	             .doc = "a SCSI controller's '<id>.0', or an IDE bus 'ide.N' (default: the first free IDE port)" },
	[CD_BOOTINDEX] = BOOTINDEX(2),
};

/* Install media that is not there fails in QEMU only after the rest has
 * started; a path checked here names the field.  (Only looked at, never
 * opened or created: dry runs check it too.) */
static void cdrom_check(struct ck *c, const struct rec *r)
{
	struct stat st;
	if (stat(sval(r, CD_FILE), &st) < 0)
		ck_fail(c, "file", "cannot use '%s' (%s)", sval(r, CD_FILE), strerror(errno));
	if (S_ISDIR(st.st_mode))
		ck_fail(c, "file", "'%s' is a directory (an ISO image expected)", sval(r, CD_FILE));
}

static void cdrom_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	opt_begin(e, "-drive");
	opt_str(e, "id", sval(r, CD_ID), slen(r, CD_ID));
	opt_str(e, "file", sval(r, CD_FILE), slen(r, CD_FILE));
	opt_cstr(e, "format", "raw");
	opt_cstr(e, "if", "none");
	opt_cstr(e, "media", "cdrom");
	opt_bool(e, "readonly", 1);
	opt_end(e);
	const char *drv = "ide-cd";
	size_t n = 6;
	const struct rec *owner = has(r, CD_BUS) ? render_bus_device(rc, sval(r, CD_BUS), slen(r, CD_BUS)) : NULL;
	if (has(r, CD_DRIVER))
		drv = sval(r, CD_DRIVER), n = slen(r, CD_DRIVER);
	else if (owner && !strcmp(owner->k->name, "scsi_controller"))
		drv = "scsi-cd", n = 7;
	opt_begin(e, "-device");
	opt_head(e, drv, n);
	opt_str(e, "drive", sval(r, CD_ID), slen(r, CD_ID));
	render_fields(e, r, 2);
	opt_end(e);
}

static const struct kind kind_cdrom = {
	.name = "cdrom", FIELDS(cdrom_fields), .is_device = 1,
	.doc = "install media: an ISO image as a read-only CD-ROM (ide-cd, or scsi-cd on a SCSI controller)",
	.check = cdrom_check, .render = cdrom_render,
};

/* ---- vhost_user: a device whose backend is another process -------------------- */

enum { VU_TYPE, VU_SOCKET_PATH, VU_CHARDEV_ID, VU_TYPE_DEV_ID, VU_MAC_ADDRESS, VU_TAG,
       VU_QUEUE_SIZE, VU_CACHE_SIZE, VU_BUS, VU_ADDR, VU_ROMFILE, VU_DISABLE_MODERN, VU_TRANSPORT,
       VU_DEVNO, VU_BOOTINDEX };
static const struct field vhost_user_fields[] = {
	[VU_TYPE] = { .name = "vhost_user_type", .type = T_ENUM, .flags = F_REQ,
	              .choices = CHOICES("net", "scsi", "blk", "fs"), .doc = "what the backend serves" },
	[VU_SOCKET_PATH] = { .name = "socket_path", .type = T_PATH, .flags = F_REQ,
	                     .doc = "the backend's listening socket" },
	[VU_CHARDEV_ID] = { .name = "chardev_id", .type = T_ID, .flags = F_REQ, .ns = NS_CHARDEV,
	                    .doc = "id of the socket chardev qlua creates" },
	[VU_TYPE_DEV_ID] = { .name = "type_dev_id", .type = T_ID, .ns = NS_DEVICE,
	                     .req = WHEN(VU_TYPE, "net", "scsi"),
	                     .doc = "netdev id (net) or device id (scsi, blk, fs)" },
	[VU_MAC_ADDRESS] = { .name = "mac_address", .type = T_MAC, .opt = 1, .key = "mac",
	                     .only = WHEN(VU_TYPE, "net"), .doc = "guest MAC address (net)" },
	[VU_TAG] = { .name = "tag", .type = T_STR, .opt = 1, .key = "tag", .only = WHEN(VU_TYPE, "fs"),
	             .req = WHEN(VU_TYPE, "fs"), .doc = "the tag the guest mounts (fs)" },
	[VU_QUEUE_SIZE] = { .name = "queue_size", .type = T_UINT, .min = 1, .max = 1024, .opt = 1,
	                    .key = "queue-size", .only = WHEN(VU_TYPE, "fs", "blk"),
	                    .def_alt = "1024", .def_when = WHEN(VU_TYPE, "fs"),
	                    .doc = "virtqueue size (fs, blk); fs: 1024 by default, as govmm set (QEMU's is 128)" },
	[VU_CACHE_SIZE] = { .name = "cache_size", .type = T_SIZE, .opt = 1, .key = "cache-size",
	                    .only = WHEN(VU_TYPE, "fs"),
	                    .doc = "DAX window (fs; only QEMU builds with virtio-fs DAX have it)" },
	[VU_BUS] = BUS(1), [VU_ADDR] = ADDR(1), [VU_ROMFILE] = ROMFILE(1),
	[VU_DISABLE_MODERN] = { .name = "disable_modern", .type = T_BOOL, .opt = 1, .key = "disable-modern",
	                        .only = WHEN(VU_TYPE, "net", "scsi", "blk"),
	                        .doc = "present a legacy-only virtio device (not fs: it is modern-only)" },
	[VU_TRANSPORT] = TRANSPORT, [VU_DEVNO] = DEVNO(1),
	[VU_BOOTINDEX] = { .name = "bootindex", .type = T_UINT, .max = 0x7fffffff, .opt = 1, .key = "bootindex",
	                   .only = WHEN(VU_TYPE, "net", "scsi", "blk"),
	                   .doc = "boot order among devices, lowest first (net, scsi, blk; each value once)" },
};

/* By vhost_user_type: QEMU has no vhost-user-scsi or vhost-user-blk on
 * ccw, and names their mmio forms without "-device". */
static const struct transports vhost_user_tr[] = {
	{ { "virtio-net-pci", "virtio-net-device", "virtio-net-ccw", NULL } },
	{ { "vhost-user-scsi-pci", "vhost-user-scsi", NULL, NULL } },
	{ { "vhost-user-blk-pci", "vhost-user-blk", NULL, NULL } },
	{ { "vhost-user-fs-pci", "vhost-user-fs-device", "vhost-user-fs-ccw", NULL } },
};

/* type_dev_id is the -netdev's id for net, the -device's otherwise. */
static int vhost_user_id_ns(const struct rec *r, int f)
{
	return f == VU_TYPE_DEV_ID && eis(r, VU_TYPE, "net") ? NS_NETDEV : kind_fields(r->k)[f].ns;
}

static void vhost_user_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	size_t n;
	const char *drv = render_driver(rc, r, &n);
	const char *type = eval(r, VU_TYPE);
	opt_begin(e, "-chardev");
	opt_head(e, "socket", 6);
	opt_str(e, "id", sval(r, VU_CHARDEV_ID), slen(r, VU_CHARDEV_ID));
	opt_str(e, "path", sval(r, VU_SOCKET_PATH), slen(r, VU_SOCKET_PATH));
	opt_end(e);
	if (!strcmp(type, "net")) {
		opt_begin(e, "-netdev");
		opt_head(e, "vhost-user", 10);
		opt_str(e, "id", sval(r, VU_TYPE_DEV_ID), slen(r, VU_TYPE_DEV_ID));
		opt_str(e, "chardev", sval(r, VU_CHARDEV_ID), slen(r, VU_CHARDEV_ID));
		opt_end(e);
	}
	opt_begin(e, "-device");
	opt_head(e, drv, n);
	if (!strcmp(type, "net")) {
		opt_str(e, "netdev", sval(r, VU_TYPE_DEV_ID), slen(r, VU_TYPE_DEV_ID));
	} else {
		if (has(r, VU_TYPE_DEV_ID))
			opt_str(e, "id", sval(r, VU_TYPE_DEV_ID), slen(r, VU_TYPE_DEV_ID));
		opt_str(e, "chardev", sval(r, VU_CHARDEV_ID), slen(r, VU_CHARDEV_ID));
	}
	render_fields(e, r, 1);
	render_virtio(rc, drv, n);
	opt_end(e);
}

static const struct kind kind_vhost_user = {
	.name = "vhost_user", FIELDS(vhost_user_fields),
	.is_device = 1, .doc = "a virtio device served by a vhost-user backend process",
	.render = vhost_user_render, .id_ns = vhost_user_id_ns,
	.tr = vhost_user_tr, .ntr = 4, .tr_by = VU_TYPE,
};

/* ---- vfio: an assigned host PCI device ------------------------------------------ */

enum { VF_BDF, VF_SYSFS_DEV, VF_ID, VF_VENDOR_ID, VF_DEVICE_ID, VF_BUS, VF_ADDR, VF_ROMFILE,
       VF_DEVFS_DEV, VF_TRANSPORT, VF_DEVNO, VF_BOOTINDEX };
static const struct field vfio_fields[] = {
	[VF_BDF] = { .name = "bdf", .type = T_BDF, .opt = 1, .key = "host",
	             .doc = "host PCI address (or give sysfs_dev)" },
	[VF_SYSFS_DEV] = { .name = "sysfs_dev", .type = T_PATH, .opt = 1, .key = "sysfsdev",
	                   .doc = "sysfs path of the device (mediated devices)" },
	[VF_ID] = { .name = "id", .type = T_ID, .ns = NS_DEVICE, .opt = 1, .key = "id", .doc = "device id" },
	[VF_VENDOR_ID] = { .name = "vendor_id", .type = T_HEX16, .opt = 1, .key = "x-pci-vendor-id",
	                   .doc = "PCI vendor id the guest sees" },
	[VF_DEVICE_ID] = { .name = "device_id", .type = T_HEX16, .opt = 1, .key = "x-pci-device-id",
	                   .doc = "PCI device id the guest sees" },
	[VF_BUS] = BUS(1), [VF_ADDR] = ADDR(1), [VF_ROMFILE] = ROMFILE(1),
	[VF_DEVFS_DEV] = { .name = "devfs_dev", .type = T_PATH,
	                   .doc = "VFIO device file /dev/vfio/devices/vfioN (iommufd): refused, QEMU 7.2 "
	                          "has no iommufd backend" },
	[VF_TRANSPORT] = { .name = "transport", .type = T_ENUM, .choices = CHOICES("pci", "ccw", "ap"),
	                   .doc = "'pci' (vfio-pci), 'ccw' (vfio-ccw, s390x) or 'ap' (vfio-ap, s390x crypto); "
	                          "default: the machine's (ccw on s390x, else pci); ccw and ap take 'sysfs_dev'" },
	[VF_DEVNO] = DEVNO(1), [VF_BOOTINDEX] = BOOTINDEX(1),
};

static void vfio_check(struct ck *c, const struct rec *r)
{
	/* govmm's DevfsDev is the cdev of the iommufd interface (QEMU 9.0's
	 * -object iommufd + vfio-pci iommufd=): 7.2 opens the VFIO group
	 * itself, from the host address, so there is nothing to pass */
	if (has(r, VF_DEVFS_DEV))
		ck_fail(c, "devfs_dev", "QEMU 7.2 has no iommufd backend for VFIO device files (it came with "
		                        "QEMU 9.0); give 'bdf' or 'sysfs_dev' and QEMU opens the VFIO group itself");
	if (has(r, VF_BDF) == has(r, VF_SYSFS_DEV))
		ck_fail(c, has(r, VF_BDF) ? "sysfs_dev" : NULL,
		        has(r, VF_BDF) ? "give 'bdf' or 'sysfs_dev', not both"
		                       : "field 'bdf' or 'sysfs_dev' is required");
}

static const struct kind kind_vfio = {
	.name = "vfio", FIELDS(vfio_fields), .is_device = 1,
	.doc = "a host device assigned to the guest", .check = vfio_check,
	.tr = (const struct transports[]){ { { "vfio-pci", NULL, "vfio-ccw", "vfio-ap" } } }, .ntr = 1,
};

/* romfile on a PCI-PCI bridge or port: QEMU has the property (every PCI
 * device has it), but registering the ROM aborts QEMU (7.2 and later:
 * pci_register_bar asserts that a bridge has BARs 0 and 1 only, and the ROM
 * is BAR 6).  govmm passed it; qlua has the field and refuses any value. */
#define BRIDGE_ROMFILE { .name = "romfile", .type = T_PATH, \
                         .doc = "refused: QEMU aborts on an option ROM on a PCI bridge or port" }

static void bridge_romfile_check(struct ck *c, const struct rec *r)
{
	int f = schema_cf(r->k, CF_ROMFILE);
	if (f >= 0 && has(r, f))
		ck_fail(c, "romfile", "QEMU aborts on an option ROM on a PCI bridge or port (pci_register_bar "
		                      "allows a bridge BARs 0 and 1 only)");
}

/* ---- bridge: a PCI bridge ---------------------------------------------------------- */

enum { BR_TYPE, BR_BUS, BR_ID, BR_CHASSIS, BR_SHPC, BR_ADDR, BR_IO_RESERVE, BR_MEM_RESERVE,
       BR_PREF64_RESERVE, BR_ROMFILE };
#define BR_PCI WHEN(BR_TYPE, "pci")
static const struct field bridge_fields[] = {
	[BR_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ, .choices = CHOICES("pci", "pcie"),
	              .doc = "'pci': pci-bridge; 'pcie': pcie-pci-bridge (a PCI bus on PCIe)" },
	[BR_BUS] = { .name = "bus", .type = T_REF, .flags = F_REQ, .ns = NS_BUS, .opt = 1, .key = "bus",
	             .doc = "bus it plugs into (pci.0, pcie.0, or a root port id)" },
	[BR_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "bridge id, also the name of the bus behind it" },
	[BR_CHASSIS] = { .name = "chassis", .type = T_UINT, .min = 1, .max = 255, .opt = 1,
	                 .key = "chassis_nr", .only = BR_PCI, .req = BR_PCI,
	                 .doc = "chassis number, unique per bridge (pci)" },
	[BR_SHPC] = { .name = "shpc", .type = T_BOOL, .opt = 1, .key = "shpc", .def = "false", .only = BR_PCI,
	              .doc = "standard hot-plug controller (pci)" },
	[BR_ADDR] = ADDR(1),
	[BR_IO_RESERVE] = { .name = "io_reserve", .type = T_SIZE, .opt = 1, .key = "io-reserve",
	                    .only = BR_PCI, .doc = "I/O space kept for hot-plug (pci)" },
	[BR_MEM_RESERVE] = { .name = "mem_reserve", .type = T_SIZE, .opt = 1, .key = "mem-reserve",
	                     .only = BR_PCI, .doc = "memory window kept for hot-plug (pci)" },
	[BR_PREF64_RESERVE] = { .name = "pref64_reserve", .type = T_SIZE, .opt = 1, .key = "pref64-reserve",
	                        .only = BR_PCI, .doc = "64-bit prefetchable window kept for hot-plug (pci)" },
	[BR_ROMFILE] = BRIDGE_ROMFILE,
};

static void bridge_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	const char *drv = eis(r, BR_TYPE, "pcie") ? "pcie-pci-bridge" : "pci-bridge";
	opt_begin(e, "-device");
	opt_head(e, drv, strlen(drv));
	render_fields(e, r, 1);
	opt_end(e);
}

static const struct kind kind_bridge = {
	.name = "bridge", FIELDS(bridge_fields), .is_device = 1,
	.doc = "a PCI bridge", .check = bridge_romfile_check, .render = bridge_render,
};

/* ---- legacy_serial: a chardev on the machine's own serial port ------------------ */

enum { LS_CHARDEV };
static const struct field legacy_serial_fields[] = {
	[LS_CHARDEV] = { .name = "chardev", .type = T_REF, .flags = F_REQ, .ns = NS_CHARDEV,
	                 .doc = "the chardev the next serial port (ttyS0, ttyS1, ...) is connected to" },
};

/* -serial chardev:ID: not a key=value option, and ids have no commas. */
static void legacy_serial_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	size_t n = slen(r, LS_CHARDEV);
	char *s = arena_alloc(e->a, n + 9);
	memcpy(s, "chardev:", 8);
	memcpy(s + 8, sval(r, LS_CHARDEV), n);
	emit_arg(e, "-serial", s, n + 8);
}

static const struct kind kind_legacy_serial = {
	.name = "legacy_serial", FIELDS(legacy_serial_fields),
	.is_device = 1, .doc = "a machine serial port (-serial) on a chardev", .render = legacy_serial_render,
};

/* ---- pvpanic: the guest reports its panics ------------------------------------------ */

enum { PP_NO_SHUTDOWN };
static const struct field pvpanic_fields[] = {
	[PP_NO_SHUTDOWN] = { .name = "no_shutdown", .type = T_BOOL,
	                     .doc = "stop instead of exiting when the guest shuts down (-no-shutdown), to "
	                            "look at a panicked guest" },
};

static void pvpanic_render(struct render *rc, const struct rec *r)
{
	struct emit *e = rc->e;
	emit_arg(e, "-device", "pvpanic", 7);
	/* once, even when knobs.no_shutdown says it too */
	if (has(r, PP_NO_SHUTDOWN) && ival(r, PP_NO_SHUTDOWN) && !render_knob(rc, KN_NO_SHUTDOWN))
		emit_flag(e, "-no-shutdown");
}

static const struct kind kind_pvpanic = {
	.name = "pvpanic", FIELDS(pvpanic_fields), .is_device = 1,
	.doc = "the pvpanic ISA device: the guest tells QEMU it panicked", .render = pvpanic_render,
};

/* ---- loader: a file loaded into guest memory ---------------------------------------- */

enum { LO_FILE, LO_ID };
static const struct field loader_fields[] = {
	[LO_FILE] = { .name = "file", .type = T_PATH, .flags = F_REQ, .opt = 1, .key = "file",
	              .doc = "ELF, U-Boot or Intel HEX image to load into guest memory" },
	[LO_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "device id" },
};

static const struct kind kind_loader = {
	.name = "loader", FIELDS(loader_fields), .is_device = 1,
	.doc = "the generic loader: a file put into guest memory", .device = "loader",
};

/* ---- PCIe topology: expander bus, root ports, switches --------------------------------- */

/* Resource windows kept for hot-plug behind a port. */
#define RESERVES(P, o) \
	[P##_BUS_RESERVE] = { .name = "bus_reserve", .type = T_UINT, .max = 0xfffffffeLL, .opt = o, \
	                      .key = "bus-reserve", .doc = "bus numbers kept for hot-plugged bridges" }, \
	[P##_PREF64_RESERVE] = { .name = "pref64_reserve", .type = T_SIZE, .opt = o, .key = "pref64-reserve", \
	                         .doc = "64-bit prefetchable window kept for hot-plug (not with pref32_reserve)" }, \
	[P##_PREF32_RESERVE] = { .name = "pref32_reserve", .type = T_SIZE, .opt = o, .key = "pref32-reserve", \
	                         .doc = "32-bit prefetchable window kept for hot-plug (not with pref64_reserve)" }, \
	[P##_MEM_RESERVE] = { .name = "mem_reserve", .type = T_SIZE, .opt = o, .key = "mem-reserve", \
	                      .doc = "32-bit non-prefetchable window kept for hot-plug" }, \
	[P##_IO_RESERVE] = { .name = "io_reserve", .type = T_SIZE, .opt = o, .key = "io-reserve", \
	                     .doc = "I/O space kept for hot-plug" }

enum { PX_ID, PX_BUS, PX_BUS_NR, PX_NUMA_NODE, PX_ADDR, PX_ROMFILE };
static const struct field pxb_pcie_fields[] = {
	[PX_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "expander id, also the name of its PCIe bus (root ports plug into it)" },
	[PX_BUS] = { .name = "bus", .type = T_REF, .ns = NS_BUS, .opt = 1, .key = "bus", .def = "pcie.0",
	             .doc = "the machine's root bus it sits on" },
	[PX_BUS_NR] = { .name = "bus_nr", .type = T_UINT, .flags = F_REQ, .min = 1, .max = 255, .opt = 1,
	                .key = "bus_nr", .doc = "first bus number of its hierarchy, unique per expander" },
	[PX_NUMA_NODE] = { .name = "numa_node", .type = T_UINT, .max = 127, .opt = 1, .key = "numa_node",
	                   .doc = "guest NUMA node it belongs to (a numa.nodes node_id)" },
	[PX_ADDR] = ADDR(1), [PX_ROMFILE] = ROMFILE(1),
};

static const struct kind kind_pxb_pcie = {
	.name = "pxb_pcie", FIELDS(pxb_pcie_fields), .is_device = 1,
	.doc = "a PCIe expander bus (pxb-pcie, q35): another root bus, e.g. for a NUMA node",
	.device = "pxb-pcie",
};

enum { RP_ID, RP_BUS, RP_CHASSIS, RP_SLOT, RP_ADDR, RP_MULTIFUNCTION, RP_BUS_RESERVE,
       RP_PREF64_RESERVE, RP_PREF32_RESERVE, RP_MEM_RESERVE, RP_IO_RESERVE, RP_ROMFILE };
static const struct field pcie_root_port_fields[] = {
	[RP_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "port id, also the name of the bus behind it" },
	[RP_BUS] = { .name = "bus", .type = T_REF, .ns = NS_BUS, .opt = 1, .key = "bus",
	             .doc = "root bus: pcie.0 (QEMU's default) or a pxb_pcie id" },
	[RP_CHASSIS] = { .name = "chassis", .type = T_UINT, .max = 255, .opt = 1, .key = "chassis",
	                 .doc = "chassis number; (chassis, slot) is unique per port (QEMU's default 0)" },
	[RP_SLOT] = { .name = "slot", .type = T_UINT, .max = 65535, .opt = 1, .key = "slot",
	              .doc = "slot number in the chassis (QEMU's default 0)" },
	[RP_ADDR] = ADDR(1),
	[RP_MULTIFUNCTION] = { .name = "multifunction", .type = T_BOOL, .opt = 1, .key = "multifunction",
	                       .doc = "other functions share its slot (ports at addr N.1, N.2, ...)" },
	RESERVES(RP, 1), [RP_ROMFILE] = BRIDGE_ROMFILE,
};

static void reserves_check(struct ck *c, const struct rec *r, int pref64, int pref32)
{
	if (has(r, pref64) && has(r, pref32))
		ck_fail(c, "pref32_reserve", "not with 'pref64_reserve' (QEMU has one prefetchable window)");
}

static void pcie_root_port_check(struct ck *c, const struct rec *r)
{
	reserves_check(c, r, RP_PREF64_RESERVE, RP_PREF32_RESERVE);
	bridge_romfile_check(c, r);
}

static const struct kind kind_pcie_root_port = {
	.name = "pcie_root_port", FIELDS(pcie_root_port_fields),
	.is_device = 1, .doc = "a PCIe root port (q35): one hot-pluggable slot",
	.check = pcie_root_port_check, .device = "pcie-root-port",
};

enum { SU_ID, SU_BUS, SU_ROMFILE };
static const struct field pcie_switch_upstream_fields[] = {
	[SU_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "port id, also the name of the bus its downstream ports plug into" },
	[SU_BUS] = { .name = "bus", .type = T_REF, .flags = F_REQ, .ns = NS_BUS, .opt = 1, .key = "bus",
	             .doc = "the root port (or downstream port) it plugs into" },
	[SU_ROMFILE] = BRIDGE_ROMFILE,
};

static const struct kind kind_pcie_switch_upstream = {
	.name = "pcie_switch_upstream", FIELDS(pcie_switch_upstream_fields), .is_device = 1,
	.doc = "the upstream port of a PCIe switch (x3130-upstream)", .check = bridge_romfile_check,
	.device = "x3130-upstream",
};

enum { SD_ID, SD_BUS, SD_CHASSIS, SD_SLOT, SD_BUS_RESERVE, SD_PREF64_RESERVE, SD_PREF32_RESERVE,
       SD_MEM_RESERVE, SD_IO_RESERVE, SD_ROMFILE };
static const struct field pcie_switch_downstream_fields[] = {
	[SD_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "port id, also the name of the bus behind it" },
	[SD_BUS] = { .name = "bus", .type = T_REF, .flags = F_REQ, .ns = NS_BUS, .opt = 1, .key = "bus",
	             .doc = "the switch's upstream port" },
	[SD_CHASSIS] = { .name = "chassis", .type = T_UINT, .flags = F_REQ, .max = 255, .opt = 1, .key = "chassis",
	                 .doc = "chassis number; (chassis, slot) is unique per port" },
	[SD_SLOT] = { .name = "slot", .type = T_UINT, .flags = F_REQ, .max = 65535, .opt = 1, .key = "slot",
	              .doc = "slot number in the chassis" },
	RESERVES(SD, 1), [SD_ROMFILE] = BRIDGE_ROMFILE,
};

static void pcie_switch_downstream_check(struct ck *c, const struct rec *r)
{
	/* govmm passed them, noting they need QEMU patches: no QEMU release has
	 * them on xio3130-downstream (only pcie-root-port has them) */
	for (int f = SD_BUS_RESERVE; f <= SD_IO_RESERVE; f++)
		if (has(r, f))
			ck_fail(c, kind_fields(r->k)[f].name, "QEMU's xio3130-downstream has no resource reservations "
			        "(only pcie_root_port has them)");
	bridge_romfile_check(c, r);
}

static const struct kind kind_pcie_switch_downstream = {
	.name = "pcie_switch_downstream", FIELDS(pcie_switch_downstream_fields), .is_device = 1,
	.doc = "a downstream port of a PCIe switch (xio3130-downstream): one hot-pluggable slot",
	.check = pcie_switch_downstream_check, .device = "xio3130-downstream",
};

/* ---- scsi_controller: virtio-scsi ------------------------------------------------------- */

enum { SC_ID, SC_BUS, SC_ADDR, SC_IOTHREAD, SC_ROMFILE, SC_DISABLE_MODERN, SC_TRANSPORT, SC_DEVNO };
static const struct field scsi_controller_fields[] = {
	[SC_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS0, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "controller id; its SCSI bus is '<id>.0'" },
	[SC_BUS] = BUS(1), [SC_ADDR] = ADDR(1),
	[SC_IOTHREAD] = { .name = "iothread", .type = T_REF, .ns = NS_OBJECT, .opt = 1, .key = "iothread",
	                  .doc = "an iothreads id: the thread its I/O runs in" },
	[SC_ROMFILE] = ROMFILE(1), [SC_DISABLE_MODERN] = DISMOD(1), [SC_TRANSPORT] = TRANSPORT,
	[SC_DEVNO] = DEVNO(1),
};

static const struct kind kind_scsi_controller = {
	.name = "scsi_controller", FIELDS(scsi_controller_fields),
	.is_device = 1, .doc = "a virtio-scsi controller (disks plug into '<id>.0')",
	.tr = TR1("virtio-scsi-pci", "virtio-scsi-device", "virtio-scsi-ccw"), .ntr = 1,
};

/* ---- vsock: AF_VSOCK between host and guest -------------------------------------------- */

enum { VS_ID, VS_CONTEXT_ID, VS_VHOST_FD, VS_BUS, VS_ADDR, VS_ROMFILE, VS_DISABLE_MODERN, VS_TRANSPORT,
       VS_DEVNO };
static const struct field vsock_fields[] = {
	[VS_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "device id" },
	[VS_CONTEXT_ID] = { .name = "context_id", .type = T_UINT, .flags = F_REQ, .min = 3, .max = 4294967295LL,
	                    .opt = 1, .key = "guest-cid",
	                    .doc = "the guest's address (CID), unique on the host (0-2 are reserved)" },
	[VS_VHOST_FD] = { .name = "vhost_fd", .type = T_FD, .opt = 1, .key = "vhostfd",
	                  .doc = "an open /dev/vhost-vsock (else QEMU opens it)" },
	[VS_BUS] = BUS(1), [VS_ADDR] = ADDR(1), [VS_ROMFILE] = ROMFILE(1), [VS_DISABLE_MODERN] = DISMOD(1),
	[VS_TRANSPORT] = TRANSPORT, [VS_DEVNO] = DEVNO(1),
};

static const struct kind kind_vsock = {
	.name = "vsock", FIELDS(vsock_fields), .is_device = 1,
	.doc = "a vhost-vsock device (AF_VSOCK sockets between host and guest)",
	.tr = TR1("vhost-vsock-pci", "vhost-vsock-device", "vhost-vsock-ccw"), .ntr = 1,
};

/* ---- rng: a virtio entropy source -------------------------------------------------------- */

enum { RN_ID, RN_FILENAME, RN_MAX_BYTES, RN_PERIOD, RN_BUS, RN_ADDR, RN_ROMFILE, RN_DISABLE_MODERN,
       RN_TRANSPORT, RN_DEVNO };
static const struct field rng_fields[] = {
	[RN_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_OBJECT, .opt = 1, .key = "id",
	            .doc = "id of the rng-random backend object" },
	[RN_FILENAME] = { .name = "filename", .type = T_PATH, .opt = 1, .key = "filename",
	                  .doc = "host entropy source (QEMU's default /dev/urandom)" },
	[RN_MAX_BYTES] = { .name = "max_bytes", .type = T_SIZE, .opt = 2, .key = "max-bytes",
	                   .doc = "bytes the guest may take per period" },
	[RN_PERIOD] = { .name = "period", .type = T_UINT, .min = 1, .max = 4294967295LL, .opt = 2, .key = "period",
	                .doc = "length of a period in milliseconds" },
	[RN_BUS] = BUS(2), [RN_ADDR] = ADDR(2), [RN_ROMFILE] = ROMFILE(2), [RN_DISABLE_MODERN] = DISMOD(2),
	[RN_TRANSPORT] = TRANSPORT, [RN_DEVNO] = DEVNO(2),
};

static void rng_check(struct ck *c, const struct rec *r)
{
	unsigned long long mb = r->v[RN_MAX_BYTES].u.size;
	if (has(r, RN_MAX_BYTES) && (mb == 0 || mb > 0x7fffffffffffffffULL))
		ck_fail(c, "max_bytes", "%llu is out of range (expected 1..2^63-1)", mb);
}

static void rng_render(struct render *rc, const struct rec *r)
{
	static const struct pair rng = { "-object", "rng-random", -1, RN_ID, "rng" };
	pair_render(rc, r, &rng);
}

static const struct kind kind_rng = {
	.name = "rng", FIELDS(rng_fields), .is_device = 1,
	.doc = "a virtio-rng device fed from a host file (rng-random)", .check = rng_check, .render = rng_render,
	.tr = TR1("virtio-rng-pci", "virtio-rng-device", "virtio-rng-ccw"), .ntr = 1,
};

/* ---- balloon: virtio-balloon --------------------------------------------------------------- */

enum { BA_ID, BA_DEFLATE_ON_OOM, BA_FREE_PAGE_REPORTING, BA_BUS, BA_ADDR, BA_ROMFILE, BA_DISABLE_MODERN,
       BA_TRANSPORT, BA_DEVNO };
static const struct field balloon_fields[] = {
	[BA_ID] = { .name = "id", .type = T_ID, .ns = NS_DEVICE, .opt = 1, .key = "id", .doc = "device id" },
	[BA_DEFLATE_ON_OOM] = { .name = "deflate_on_oom", .type = T_BOOL, .opt = 1, .key = "deflate-on-oom",
	                        .doc = "the guest may take memory back from the balloon when it runs out" },
	[BA_FREE_PAGE_REPORTING] = { .name = "free_page_reporting", .type = T_BOOL, .opt = 1,
	                             .key = "free-page-reporting",
	                             .doc = "the guest reports free pages, which the host reclaims" },
	[BA_BUS] = BUS(1), [BA_ADDR] = ADDR(1), [BA_ROMFILE] = ROMFILE(1), [BA_DISABLE_MODERN] = DISMOD(1),
	[BA_TRANSPORT] = TRANSPORT, [BA_DEVNO] = DEVNO(1),
};

static const struct kind kind_balloon = {
	.name = "balloon", FIELDS(balloon_fields), .is_device = 1,
	.doc = "a virtio memory balloon (one per VM)",
	.tr = TR1("virtio-balloon-pci", "virtio-balloon-device", "virtio-balloon-ccw"), .ntr = 1,
};

/* ---- iommu: intel-iommu -------------------------------------------------------------------- */

enum { IO_INTREMAP, IO_DEVICE_IOTLB, IO_CACHING_MODE };
static const struct field iommu_fields[] = {
	[IO_INTREMAP] = { .name = "intremap", .type = T_BOOL, .opt = 1, .key = "intremap",
	                  .doc = "interrupt remapping (with KVM it needs machine.options['kernel-irqchip'] = "
	                         "'split')" },
	[IO_DEVICE_IOTLB] = { .name = "device_iotlb", .type = T_BOOL, .opt = 1, .key = "device-iotlb",
	                      .doc = "device IOTLB (ATS) for devices that support it" },
	[IO_CACHING_MODE] = { .name = "caching_mode", .type = T_BOOL, .opt = 1, .key = "caching-mode",
	                      .doc = "caching mode, which assigned (VFIO) devices need" },
};

static const struct kind kind_iommu = {
	.name = "iommu", FIELDS(iommu_fields), .is_device = 1,
	.doc = "an Intel vIOMMU (intel-iommu, machine q35; one per VM)", .device = "intel-iommu",
};

/* ---- device: any QEMU -device, for what qlua does not model ------------------------ */

enum { DV_DRIVER, DV_ID, DV_BUS, DV_ADDR };
static const struct field device_fields[] = {
	[DV_DRIVER] = { .name = "driver", .type = T_NAME, .flags = F_REQ, .doc = "QEMU device model" },
	[DV_ID] = { .name = "id", .type = T_ID, .ns = NS_DEVICE, .opt = 1, .key = "id", .doc = "device id" },
	[DV_BUS] = BUS(1), [DV_ADDR] = ADDR(1),
};

static const struct kind kind_device = {
	.name = "device", FIELDS(device_fields), .is_device = 1, .open = 1,
	.doc = "any QEMU device; every other field is a QEMU property (escaped like all values)",
};

/* The kinds that are only ever a device's section (schema.h's registry). */
const struct kind *const schema_device_sections[] = { &sub_hostfwd, NULL };

const struct kind *const schema_devices[] = {
	&kind_balloon, &kind_block, &kind_bridge, &kind_cdrom, &kind_chardev, &kind_device, &kind_fsdev, &kind_iommu,
	&kind_legacy_serial, &kind_loader, &kind_netdev, &kind_object, &kind_pcie_root_port,
	&kind_pcie_switch_downstream, &kind_pcie_switch_upstream, &kind_pvpanic, &kind_pxb_pcie, &kind_rng,
	&kind_scsi_controller, &kind_serial, &kind_vfio, &kind_vhost_user, &kind_vsock, NULL,
};
