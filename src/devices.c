/* devices.c - every device kind as data, plus a render hook where QEMU's
 * shape is unusual.  Field order is output order: the golden .args files
 * in spec/golden/ show exactly what each table produces.
 *
 * .opt says which of the kind's options a field renders into (1 = the
 * first, usually -device or the backend; 2 = the second); 0 = the hook
 * renders it itself. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "emit.h"
#include "lfd.h"
#include "render.h"
#include "schema.h"
#include "tap.h"

/* Fields most PCI devices have.  o is the option they render into. */
#define BUS(o)     { .name = "bus", .type = T_REF, .ns = NS_BUS, .opt = o, .key = "bus", \
                     .doc = "bus to plug into: a bridge or controller id, or the machine's pci.0 / pcie.0" }
#define ADDR(o)    { .name = "addr", .type = T_PCIADDR, .opt = o, .key = "addr", \
                     .doc = "PCI slot[.function] on that bus, hex (0..1f)" }
#define ROMFILE(o) { .name = "romfile", .type = T_PATH, .opt = o, .key = "romfile", \
                     .doc = "option ROM image for the device" }
#define DISMOD(o)  { .name = "disable_modern", .type = T_BOOL, .opt = o, .key = "disable-modern", \
                     .doc = "present a legacy-only virtio device" }
#define DRIVER(d)  { .name = "driver", .type = T_NAME, .def = d, \
                     .doc = "QEMU device model" }

/* ---- object: memory-backend-file (+ nvdimm) ------------------------------- */

enum { OB_TYPE, OB_ID, OB_MEM_PATH, OB_SIZE, OB_SHARE, OB_READ_ONLY, OB_PREALLOC,
       OB_DRIVER, OB_DEVICE_ID };
static const struct field object_fields[] = {
	[OB_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ,
	              .choices = CHOICES("memory-backend-file"), .doc = "QEMU object type" },
	[OB_ID] = { .name = "id", .type = T_ID, .flags = F_REQ, .ns = NS_OBJECT, .opt = 1, .key = "id",
	            .doc = "object id (what memdev= names)" },
	[OB_MEM_PATH] = { .name = "mem_path", .type = T_PATH, .opt = 1, .key = "mem-path",
	                  .req = WHEN(OB_TYPE, "memory-backend-file"), .doc = "file backing the memory" },
	[OB_SIZE] = { .name = "size", .type = T_SIZE, .flags = F_REQ, .opt = 1, .key = "size",
	              .doc = "size in bytes, or with K/M/G/T" },
	[OB_SHARE] = { .name = "share", .type = T_BOOL, .opt = 1, .key = "share",
	               .doc = "map the file shared (visible to other processes)" },
	[OB_READ_ONLY] = { .name = "read_only", .type = T_BOOL, .opt = 1, .key = "readonly",
	                   .doc = "map the file read-only" },
	[OB_PREALLOC] = { .name = "prealloc", .type = T_BOOL, .opt = 1, .key = "prealloc",
	                  .doc = "allocate all memory at start" },
	[OB_DRIVER] = { .name = "driver", .type = T_ENUM, .choices = CHOICES("nvdimm"),
	                .doc = "a device using this memory (nvdimm)" },
	[OB_DEVICE_ID] = { .name = "device_id", .type = T_ID, .ns = NS_DEVICE, .opt = 2, .key = "id",
	                   .only = WHEN(OB_DRIVER, "nvdimm"), .doc = "id of the nvdimm device" },
};

static void object_check(struct ck *c, const struct rec *r)
{
	if (r->v[OB_SIZE].u.size == 0)
		ck_fail(c, "size", "size must be greater than 0");
}

static void object_render(struct emit *e, const struct rec *r)
{
	opt_begin(e, "-object");
	opt_head(e, eval(r, OB_TYPE), strlen(eval(r, OB_TYPE)));
	render_fields(e, r, 1);
	opt_end(e);
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
	.name = "object", .fields = object_fields, .nfields = NFIELDS(object_fields), .is_device = 1,
	.doc = "a QEMU object: a file-backed memory region, optionally with an nvdimm using it",
	.check = object_check, .render = object_render,
};

/* ---- fsdev: a 9p share ------------------------------------------------------- */

enum { FS_FS_DRIVER, FS_ID, FS_PATH, FS_SECURITY_MODEL, FS_MULTIDEV, FS_DRIVER, FS_MOUNT_TAG,
       FS_BUS, FS_ADDR, FS_ROMFILE, FS_DISABLE_MODERN };
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
	[FS_DRIVER] = DRIVER("virtio-9p-pci"),
	[FS_MOUNT_TAG] = { .name = "mount_tag", .type = T_STR, .flags = F_REQ, .opt = 2, .key = "mount_tag",
	                   .doc = "the tag the guest mounts" },
	[FS_BUS] = BUS(2), [FS_ADDR] = ADDR(2), [FS_ROMFILE] = ROMFILE(2),
	[FS_DISABLE_MODERN] = DISMOD(2),
};

static void fsdev_render(struct emit *e, const struct rec *r)
{
	opt_begin(e, "-fsdev");
	opt_head(e, eval(r, FS_FS_DRIVER), strlen(eval(r, FS_FS_DRIVER)));
	render_fields(e, r, 1);
	opt_end(e);
	opt_begin(e, "-device");
	opt_head(e, sval(r, FS_DRIVER), slen(r, FS_DRIVER));
	opt_str(e, "fsdev", sval(r, FS_ID), slen(r, FS_ID));
	render_fields(e, r, 2);
	opt_end(e);
}

static const struct kind kind_fsdev = {
	.name = "fsdev", .fields = fsdev_fields, .nfields = NFIELDS(fsdev_fields), .is_device = 1,
	.doc = "a host directory shared with the guest over 9p", .render = fsdev_render,
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
	                .doc = "a device using the chardev (virtconsole, virtserialport, ...)" },
	[CH_BUS] = BUS(2),
	[CH_DEVICE_ID] = { .name = "device_id", .type = T_ID, .ns = NS_DEVICE, .opt = 2, .key = "id",
	                   .doc = "id of that device" },
	[CH_NAME] = { .name = "name", .type = T_STR, .opt = 2, .key = "name",
	              .doc = "port name the guest sees (virtserialport)" },
	[CH_ADDR] = ADDR(2), [CH_ROMFILE] = ROMFILE(2), [CH_DISABLE_MODERN] = DISMOD(2),
};

static void chardev_check(struct ck *c, const struct rec *r)
{
	/* device fields without a device would be silently dropped */
	static const int devonly[] = { CH_BUS, CH_DEVICE_ID, CH_NAME, CH_ADDR, CH_ROMFILE, CH_DISABLE_MODERN };
	if (has(r, CH_DRIVER))
		return;
	for (size_t i = 0; i < sizeof devonly / sizeof devonly[0]; i++)
		if (has(r, devonly[i]))
			ck_fail(c, r->k->fields[devonly[i]].name, "only used with a device (set 'driver')");
}

static void chardev_render(struct emit *e, const struct rec *r)
{
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
	if (has(r, CH_DRIVER)) {
		opt_begin(e, "-device");
		opt_head(e, sval(r, CH_DRIVER), slen(r, CH_DRIVER));
		opt_str(e, "chardev", sval(r, CH_ID), slen(r, CH_ID));
		render_fields(e, r, 2);
		opt_end(e);
	}
}

static const struct kind kind_chardev = {
	.name = "chardev", .fields = chardev_fields, .nfields = NFIELDS(chardev_fields), .is_device = 1,
	.doc = "a character device backend, optionally with the guest device using it",
	.check = chardev_check, .render = chardev_render,
};

/* ---- netdev: a guest NIC and its host side ----------------------------------- */

enum { NET_TYPE, NET_ID, NET_IFNAME, NET_FDS, NET_VHOST, NET_VHOST_FDS, NET_SCRIPT,
       NET_DOWN_SCRIPT, NET_BDF, NET_CHARDEV, NET_DRIVER, NET_MAC_ADDRESS, NET_BUS, NET_ADDR,
       NET_ROMFILE, NET_DISABLE_MODERN };
#define NET_TAPS WHEN(NET_TYPE, "tap", "macvtap", "ipvtap", "vethtap")
#define NET_NIC WHEN(NET_TYPE, "tap", "macvtap", "ipvtap", "vethtap", "vhostuser")
static const struct field netdev_fields[] = {
	[NET_TYPE] = { .name = "type", .type = T_ENUM, .flags = F_REQ,
	               .choices = CHOICES("tap", "macvtap", "ipvtap", "vethtap", "vfio", "vhostuser"),
	               .doc = "host side: a tap-like interface, an assigned VF (vfio) or a vhost-user port" },
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
	[NET_DRIVER] = { .name = "driver", .type = T_NAME, .def = "virtio-net-pci", .only = NET_NIC,
	                 .doc = "QEMU NIC model" },
	[NET_MAC_ADDRESS] = { .name = "mac_address", .type = T_MAC, .opt = 1, .key = "mac", .only = NET_NIC,
	                      .doc = "guest MAC address" },
	[NET_BUS] = BUS(1), [NET_ADDR] = ADDR(1), [NET_ROMFILE] = ROMFILE(1),
	[NET_DISABLE_MODERN] = { .name = "disable_modern", .type = T_BOOL, .opt = 1, .key = "disable-modern",
	                         .only = NET_NIC, .doc = "present a legacy-only virtio device" },
};

/* An assigned VF has no netdev: its id names the -device. */
static int netdev_id_ns(const struct rec *r, int f)
{
	return eis(r, NET_TYPE, "vfio") ? NS_DEVICE : NS_NETDEV;
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

static void netdev_render(struct emit *e, const struct rec *r)
{
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
	if (eis(r, NET_TYPE, "vhostuser")) {
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

	opt_begin(e, "-device");
	opt_head(e, sval(r, NET_DRIVER), slen(r, NET_DRIVER));
	opt_str(e, "netdev", sval(r, NET_ID), slen(r, NET_ID));
	render_fields(e, r, 1);
	if (fds->set && fds->u.fds.n > 1) {
		/* multiqueue: 2N+2 MSI-X vectors (N rx, N tx, config, control) */
		opt_bool(e, "mq", 1);
		opt_int(e, "vectors", 2LL * fds->u.fds.n + 2);
	}
	opt_end(e);
}

static const struct kind kind_netdev = {
	.name = "netdev", .fields = netdev_fields, .nfields = NFIELDS(netdev_fields), .is_device = 1,
	.doc = "a guest network interface and its host side",
	.check = netdev_check, .render = netdev_render, .id_ns = netdev_id_ns,
};

/* ---- serial: a virtio-serial controller ------------------------------------- */

enum { SE_DRIVER, SE_ID, SE_MAX_PORTS, SE_BUS, SE_ADDR, SE_ROMFILE, SE_DISABLE_MODERN };
static const struct field serial_fields[] = {
	[SE_DRIVER] = DRIVER("virtio-serial-pci"),
	[SE_ID] = { .name = "id", .type = T_ID, .flags = F_REQ | F_BUS0, .ns = NS_DEVICE, .opt = 1, .key = "id",
	            .doc = "controller id; its bus is '<id>.0'" },
	[SE_MAX_PORTS] = { .name = "max_ports", .type = T_UINT, .min = 1, .max = 511, .opt = 1,
	                   .key = "max_ports", .doc = "number of ports" },
	[SE_BUS] = BUS(1), [SE_ADDR] = ADDR(1), [SE_ROMFILE] = ROMFILE(1),
	[SE_DISABLE_MODERN] = DISMOD(1),
};

static void serial_render(struct emit *e, const struct rec *r)
{
	render_plain_device(e, r, SE_DRIVER);
}

static const struct kind kind_serial = {
	.name = "serial", .fields = serial_fields, .nfields = NFIELDS(serial_fields), .is_device = 1,
	.doc = "a virtio-serial controller (consoles and ports plug into '<id>.0')",
	.render = serial_render,
};

/* ---- block: a disk image and the device showing it ---------------------------- */

enum { BL_ID, BL_FILE, BL_AIO, BL_FORMAT, BL_INTERFACE, BL_READ_ONLY, BL_DISCARD_UNMAP,
       BL_DRIVER, BL_SCSI, BL_WCE, BL_SHARE_RW, BL_BUS, BL_ADDR, BL_ROMFILE, BL_DISABLE_MODERN };
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
	[BL_DRIVER] = { .name = "driver", .type = T_NAME, .def = "virtio-blk-pci", .only = BL_DEVICE,
	                .doc = "QEMU disk device model (with interface 'scsi' the default is scsi-hd)" },
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
};

static void block_check(struct ck *c, const struct rec *r)
{
	if (has(r, BL_SCSI) && ival(r, BL_SCSI))
		ck_fail(c, "scsi", "SCSI passthrough on virtio-blk was removed from QEMU (5.0); use a "
		                   "scsi-block device on a SCSI controller");
}

static void block_render(struct emit *e, const struct rec *r)
{
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
	opt_begin(e, "-device");
	if (eis(r, BL_INTERFACE, "scsi") && r->v[BL_DRIVER].set == 2)
		opt_head(e, "scsi-hd", 7);
	else
		opt_head(e, sval(r, BL_DRIVER), slen(r, BL_DRIVER));
	opt_str(e, "drive", sval(r, BL_ID), slen(r, BL_ID));
	render_fields(e, r, 2);
	opt_end(e);
}

static const struct kind kind_block = {
	.name = "block", .fields = block_fields, .nfields = NFIELDS(block_fields), .is_device = 1,
	.doc = "a disk image (-drive) and the guest device showing it",
	.check = block_check, .render = block_render,
};

/* ---- vhost_user: a device whose backend is another process -------------------- */

enum { VU_TYPE, VU_SOCKET_PATH, VU_CHARDEV_ID, VU_TYPE_DEV_ID, VU_MAC_ADDRESS, VU_TAG,
       VU_QUEUE_SIZE, VU_CACHE_SIZE, VU_BUS, VU_ADDR, VU_ROMFILE, VU_DISABLE_MODERN };
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
	                    .doc = "virtqueue size (fs, blk)" },
	[VU_CACHE_SIZE] = { .name = "cache_size", .type = T_SIZE, .opt = 1, .key = "cache-size",
	                    .only = WHEN(VU_TYPE, "fs"),
	                    .doc = "DAX window (fs; only QEMU builds with virtio-fs DAX have it)" },
	[VU_BUS] = BUS(1), [VU_ADDR] = ADDR(1), [VU_ROMFILE] = ROMFILE(1),
	[VU_DISABLE_MODERN] = { .name = "disable_modern", .type = T_BOOL, .opt = 1, .key = "disable-modern",
	                        .only = WHEN(VU_TYPE, "net", "scsi", "blk"),
	                        .doc = "present a legacy-only virtio device (not fs: it is modern-only)" },
};

/* type_dev_id is the -netdev's id for net, the -device's otherwise. */
static int vhost_user_id_ns(const struct rec *r, int f)
{
	return f == VU_TYPE_DEV_ID && eis(r, VU_TYPE, "net") ? NS_NETDEV : r->k->fields[f].ns;
}

static void vhost_user_render(struct emit *e, const struct rec *r)
{
	static const char *const drivers[] = { "virtio-net-pci", "vhost-user-scsi-pci",
	                                       "vhost-user-blk-pci", "vhost-user-fs-pci" };
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
	opt_head(e, drivers[ival(r, VU_TYPE)], strlen(drivers[ival(r, VU_TYPE)]));
	if (!strcmp(type, "net")) {
		opt_str(e, "netdev", sval(r, VU_TYPE_DEV_ID), slen(r, VU_TYPE_DEV_ID));
	} else {
		if (has(r, VU_TYPE_DEV_ID))
			opt_str(e, "id", sval(r, VU_TYPE_DEV_ID), slen(r, VU_TYPE_DEV_ID));
		opt_str(e, "chardev", sval(r, VU_CHARDEV_ID), slen(r, VU_CHARDEV_ID));
	}
	render_fields(e, r, 1);
	opt_end(e);
}

static const struct kind kind_vhost_user = {
	.name = "vhost_user", .fields = vhost_user_fields, .nfields = NFIELDS(vhost_user_fields),
	.is_device = 1, .doc = "a virtio device served by a vhost-user backend process",
	.render = vhost_user_render, .id_ns = vhost_user_id_ns,
};

/* ---- vfio: an assigned host PCI device ------------------------------------------ */

enum { VF_BDF, VF_SYSFS_DEV, VF_ID, VF_VENDOR_ID, VF_DEVICE_ID, VF_BUS, VF_ADDR, VF_ROMFILE };
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
};

static void vfio_check(struct ck *c, const struct rec *r)
{
	if (has(r, VF_BDF) == has(r, VF_SYSFS_DEV))
		ck_fail(c, has(r, VF_BDF) ? "sysfs_dev" : NULL,
		        has(r, VF_BDF) ? "give 'bdf' or 'sysfs_dev', not both"
		                       : "field 'bdf' or 'sysfs_dev' is required");
}

static void vfio_render(struct emit *e, const struct rec *r)
{
	opt_begin(e, "-device");
	opt_head(e, "vfio-pci", 8);
	render_fields(e, r, 1);
	opt_end(e);
}

static const struct kind kind_vfio = {
	.name = "vfio", .fields = vfio_fields, .nfields = NFIELDS(vfio_fields), .is_device = 1,
	.doc = "a host PCI device assigned to the guest", .check = vfio_check, .render = vfio_render,
};

/* ---- bridge: a PCI bridge ---------------------------------------------------------- */

enum { BR_TYPE, BR_BUS, BR_ID, BR_CHASSIS, BR_SHPC, BR_ADDR, BR_IO_RESERVE, BR_MEM_RESERVE,
       BR_PREF64_RESERVE };
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
};

static void bridge_render(struct emit *e, const struct rec *r)
{
	const char *drv = eis(r, BR_TYPE, "pcie") ? "pcie-pci-bridge" : "pci-bridge";
	opt_begin(e, "-device");
	opt_head(e, drv, strlen(drv));
	render_fields(e, r, 1);
	opt_end(e);
}

static const struct kind kind_bridge = {
	.name = "bridge", .fields = bridge_fields, .nfields = NFIELDS(bridge_fields), .is_device = 1,
	.doc = "a PCI bridge", .render = bridge_render,
};

/* ---- device: any QEMU -device, for what qlua does not model ------------------------ */

enum { DV_DRIVER, DV_ID, DV_BUS, DV_ADDR };
static const struct field device_fields[] = {
	[DV_DRIVER] = { .name = "driver", .type = T_NAME, .flags = F_REQ, .doc = "QEMU device model" },
	[DV_ID] = { .name = "id", .type = T_ID, .ns = NS_DEVICE, .opt = 1, .key = "id", .doc = "device id" },
	[DV_BUS] = BUS(1), [DV_ADDR] = ADDR(1),
};

static void device_render(struct emit *e, const struct rec *r)
{
	render_plain_device(e, r, DV_DRIVER);
}

static const struct kind kind_device = {
	.name = "device", .fields = device_fields, .nfields = NFIELDS(device_fields), .is_device = 1, .open = 1,
	.doc = "any QEMU device; every other field is a QEMU property (escaped like all values)",
	.render = device_render,
};

const struct kind *const schema_devices[] = {
	&kind_block, &kind_bridge, &kind_chardev, &kind_device, &kind_fsdev, &kind_netdev,
	&kind_object, &kind_serial, &kind_vfio, &kind_vhost_user, NULL,
};
