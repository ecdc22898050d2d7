/* options.c - see options.h.  The records are data, as devices.c's kinds
 * are; only the rules a schema cannot say (a console spec, tsc_early_khz =
 * false, "ifname or fds") stay with the function that takes the options. */
#include "options.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "check.h"
#include "loop.h"
#include "tap.h"

#define OPTIONS(var, nm, dc, ...)                                            \
	static const struct field var##_fields[] = { __VA_ARGS__ };           \
	const struct kind var = { .name = nm, FIELDS(var##_fields), .doc = dc }

static const char *const capture_inherit[] = { "capture", "inherit", NULL };
static const char *const transports[] = { "pci", "mmio", "ccw", NULL };

/* ---- the qemu module (C) -------------------------------------------------- */

OPTIONS(options_argv, "argv", "qemu.argv(vm, opts): what would run, starting nothing",
	[OARGV_CONSOLE] = { .name = "console", .type = T_STR,
	                    .doc = "include what qemu.launch with this console adds: 'stdio', 'none' or 'file:PATH'" },
);

OPTIONS(options_launch, "launch", "qemu.launch(vm, opts): start QEMU and return its handle",
	{ .name = "console", .type = T_STR,
	  .doc = "the guest's first serial port: 'capture' (vm.console), 'stdio', 'none' or 'file:PATH'" },
	{ .name = "qmp", .type = T_BOOL, .def = "true", .doc = "a private QMP channel (vm.qmp)" },
	{ .name = "agent", .type = T_BOOL, .def = "false", .doc = "a guest agent channel (vm.agent)" },
	{ .name = "stderr", .type = T_ENUM, .choices = capture_inherit, .def = "capture",
	  .doc = "QEMU's standard error: kept for vm:stderr() or left to qlua's" },
	{ .name = "stderr_log", .type = T_PATH, .doc = "also append QEMU's standard error to this file" },
	{ .name = "detach", .type = T_BOOL, .def = "false", .doc = "QEMU may outlive qlua" },
);

OPTIONS(options_run, "run", "qemu.run(vm, opts): start QEMU and wait until it exits",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds until QEMU is killed (default: none)" },
	{ .name = "console", .type = T_STR,
	  .doc = "the guest's first serial port: 'capture' (its output is kept), 'stdio', 'none' or 'file:PATH'" },
	{ .name = "stderr_log", .type = T_PATH, .doc = "also append QEMU's standard error to this file" },
);

OPTIONS(options_launch_custom, "launch_custom",
	"qemu.launch_custom(path, args, fds, attrs): start a raw argv and return its handle",
	{ .name = "uid", .type = T_UINT, .max = 0xfffffffeLL, .doc = "user id to run as" },
	{ .name = "gid", .type = T_UINT, .max = 0xfffffffeLL, .doc = "group id to run as" },
	{ .name = "groups", .type = T_UINTS, .max = 0xfffffffeLL, .doc = "supplementary group ids (at most 64)" },
	{ .name = "setsid", .type = T_BOOL, .def = "false", .doc = "start a new session" },
	{ .name = "stderr", .type = T_ENUM, .choices = capture_inherit, .def = "inherit",
	  .doc = "the program's standard error: kept for vm:stderr() or left to qlua's" },
	{ .name = "stdout", .type = T_ENUM, .choices = capture_inherit, .def = "inherit",
	  .doc = "the program's standard output: kept for vm:stdout() or left to qlua's" },
	{ .name = "stderr_log", .type = T_PATH, .doc = "also append its standard error to this file" },
	{ .name = "input", .type = T_ANY, .doc = "a string: the bytes of its standard input (default: qlua's)" },
	{ .name = "detach", .type = T_BOOL, .def = "false", .doc = "it may outlive qlua" },
);

OPTIONS(options_tap, "tap", "qemu.tap(ifname, opts): open the queues of a TAP interface",
	[OTAP_QUEUES] = { .name = "queues", .type = T_UINT, .min = 1, .max = TAP_MAX_QUEUES, .def = "1",
	                  .doc = "queues to open (one qemu.fd each)" },
	[OTAP_VNET_HDR] = { .name = "vnet_hdr", .type = T_BOOL, .def = "false",
	                    .doc = "the virtio-net header on the queues (IFF_VNET_HDR)" },
);

OPTIONS(options_shutdown, "shutdown", "vm:shutdown(opts): ACPI powerdown, then quit, SIGTERM, SIGKILL",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds the whole escalation may take (default 45)" },
);

OPTIONS(options_vm_wait, "vm.wait", "vm:wait(opts): wait for QEMU to exit",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds to wait (default 60)" },
);

OPTIONS(options_execute, "qmp.execute",
	"vm.qmp:execute(command, args, opts), and getfd, greeting, qemu.qmp_connect: one QMP command",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds to wait for the reply" },
);

OPTIONS(options_wait_event, "qmp.wait_event", "vm.qmp:wait_event(name, opts): wait for a QMP event",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds to wait" },
	{ .name = "data", .type = T_TABLE, .doc = "the event's data must hold these keys and values" },
);

OPTIONS(options_expect, "console.expect",
	"vm.console:expect(pattern, opts) and expect_line: wait for console output",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds to wait" },
	{ .name = "plain", .type = T_BOOL, .def = "false", .doc = "the pattern is plain text, not a Lua pattern" },
);

OPTIONS(options_agent_call, "agent.call",
	"the options of vm.agent's ping, read_file, write_file, shutdown and execute",
	{ .name = "timeout", .type = T_NUM, .doc = "seconds to wait for the guest agent's answer" },
);

OPTIONS(options_exec, "agent.exec", "vm.agent:exec(argv, opts): run a program in the guest",
	{ .name = "input", .type = T_ANY, .doc = "a string: its standard input" },
	{ .name = "env", .type = T_TABLE, .doc = "environment variables: { NAME = value }" },
	{ .name = "timeout", .type = T_NUM, .doc = "seconds to wait for it to end" },
);

/* ---- the Lua library --------------------------------------------------------- */

OPTIONS(options_vm_ssh, "vm.ssh", "vm:ssh(cmd, opts): run a command in the guest over ssh",
	{ .name = "user", .type = T_STR, .doc = "default: the description's ssh.user, else root" },
	{ .name = "key", .type = T_PATH, .doc = "private key file (default: the description's ssh.key)" },
	{ .name = "port", .type = T_UINT, .min = 1, .max = 65535,
	  .doc = "the guest's port, forwarded by user networking (default 22)" },
	{ .name = "host_port", .type = T_UINT, .min = 1, .max = 65535, .doc = "the host's port to connect to instead" },
	{ .name = "input", .type = T_ANY, .doc = "a string: the command's standard input" },
	{ .name = "timeout", .type = T_NUM, .doc = "seconds (positive; default 60)" },
);

OPTIONS(options_check_, "check", "qemu.check(vm, opts): ask the QEMU binary whether it takes the description",
	{ .name = "cache_dir", .type = T_ANY,
	  .doc = "where the answers of each QEMU binary are kept (a directory), or false: keep nothing" },
	{ .name = "warn", .type = T_BOOL, .def = "true", .doc = "print warnings on standard error" },
);

OPTIONS(options_matrix, "matrix", "matrix{...} (qemu.matrix): a test matrix",
	{ .name = "name", .type = T_STR, .def = "matrix", .doc = "the matrix's name (reports, run directories)" },
	{ .name = "axes", .type = T_TABLE, .flags = F_REQ,
	  .doc = "axis name = non-empty list of values: the cells are their product" },
	{ .name = "exclude", .type = T_TABLE, .doc = "cells to leave out: a list of { axis = value, ... }" },
	{ .name = "include", .type = T_TABLE, .doc = "cells to add: a list of { axis = value, ... }" },
	{ .name = "timeout", .type = T_NUM, .doc = "seconds per cell (positive; default 300)" },
	{ .name = "vm", .type = T_FUNC, .flags = F_REQ, .doc = "function(cell): the cell's VM description" },
	{ .name = "test", .type = T_FUNC, .flags = F_REQ, .doc = "function(vm, cell): the cell's test" },
	{ .name = "launch", .type = T_REC, .sub = &options_launch,
	  .doc = "options of each cell's qemu.launch (qlua --describe launch)" },
);

/* m:run(opts): what the matrix options of the command line set (M.OPTIONS
 * in lua/qemu/matrix.lua parses those into this table).  What a schema
 * cannot say (a positive timeout, the shard's forms) matrix.lua checks
 * after this record. */
OPTIONS(options_matrix_run, "matrix.run", "m:run(opts) (qemu.matrix): run the matrix's cells, or list them",
	{ .name = "jobs", .type = T_UINT, .min = 1, .doc = "cells at once (default: the number of cores)" },
	{ .name = "fail_fast", .type = T_BOOL, .def = "false", .doc = "start no cell after one did not pass" },
	{ .name = "only", .type = T_STRS,
	  .doc = "only cells whose name contains one of these texts (each must match a cell)" },
	{ .name = "timeout", .type = T_NUM, .doc = "seconds per cell (positive; default: the matrix's, else 300)" },
	{ .name = "tap", .type = T_BOOL, .def = "false", .doc = "TAP on standard output" },
	{ .name = "junit", .type = T_PATH, .doc = "write JUnit XML to this file" },
	{ .name = "html", .type = T_PATH, .doc = "write a self-contained HTML report to this file" },
	{ .name = "list", .type = T_BOOL, .def = "false",
	  .doc = "print the cells (after only and shard) as JSON lines and run nothing" },
	{ .name = "shard", .type = T_ANY,
	  .doc = "run the I-th of N shares of the cells: 'I/N' or { I, N }; 'auto' or 'auto/N': the one the "
	         "environment names (Slurm array, GitLab parallel, Kubernetes Indexed Job, GNU parallel)" },
	{ .name = "out", .type = T_PATH, .doc = "run directories and logs under this directory "
	                                        "(default: qlua-runs/NAME; a shard's in DIR/shard-I-of-N)" },
);

OPTIONS(options_matrix_merge, "matrix.merge", "matrix.merge(dirs, opts) (qemu.matrix): the shards' results as one report",
	{ .name = "tap", .type = T_BOOL, .def = "false", .doc = "the whole matrix's TAP on standard output" },
	{ .name = "junit", .type = T_PATH, .doc = "write the whole matrix's JUnit XML to this file" },
	{ .name = "html", .type = T_PATH,
	  .doc = "write the whole matrix's HTML report to this file (missing cells included)" },
);

#define MACHINE_OPTIONS                                                                          \
	{ .name = "accel", .type = T_STR, .def = "tcg",                                          \
	  .doc = "'tcg', 'kvm', 'kvm:tcg', or 'auto' (kvm when KVM runs a test vCPU here)" },    \
	{ .name = "cpu", .type = T_STR, .doc = "cpu_model" },                                     \
	{ .name = "options", .type = T_TABLE, .doc = "machine.options" }

OPTIONS(options_pc, "recipes.pc", "recipes.pc{...}: -machine pc", MACHINE_OPTIONS);
OPTIONS(options_q35, "recipes.q35", "recipes.q35{...}: -machine q35", MACHINE_OPTIONS);
OPTIONS(options_microvm, "recipes.microvm", "recipes.microvm{...}: -machine microvm", MACHINE_OPTIONS,
	{ .name = "tsc_early_khz", .type = T_ANY,
	  .doc = "a positive integer, or false: no tsc_early_khz= on the kernel command line "
	         "(default: from /proc/cpuinfo)" },
);

OPTIONS(options_uefi, "recipes.uefi", "recipes.uefi{...}: OVMF firmware on q35",
	{ .name = "secure", .type = T_BOOL, .def = "false", .doc = "Secure Boot (firmware 'uefi-secure', with SMM)" },
);

OPTIONS(options_linux, "recipes.linux", "recipes.linux{...}: direct kernel boot",
	{ .name = "kernel", .type = T_STR, .flags = F_REQ, .doc = "the kernel image" },
	{ .name = "initrd", .type = T_STR, .doc = "the initial ramdisk" },
	{ .name = "append", .type = T_STRS, .doc = "words added to kernel.params: a string or a list" },
);

const struct kind options_serial_console = { .name = "recipes.serial_console",
	.doc = "recipes.serial_console(): console=ttyS0 on the kernel command line" };

OPTIONS(options_disk, "recipes.disk", "recipes.disk{...}: one qemu.block (virtio-blk)",
	{ .name = "file", .type = T_FILE, .flags = F_REQ, .doc = "the image: a path or a qemu.fd" },
	{ .name = "format", .type = T_STR, .doc = "its format (required with overlay)" },
	{ .name = "readonly", .type = T_BOOL, .def = "false", .doc = "read-only" },
	{ .name = "overlay", .type = T_BOOL, .def = "false",
	  .doc = "a throw-away qcow2 overlay on file, made at launch" },
	{ .name = "dir", .type = T_STR, .doc = "where the overlay goes (default: recipes.run_dir, else a fresh directory)" },
	{ .name = "id", .type = T_STR, .doc = "drive id (default: from the file's name)" },
	{ .name = "transport", .type = T_ENUM, .choices = transports, .doc = "default: the machine's" },
);

OPTIONS(options_share, "recipes.share", "recipes.share{...}: a 9p share (qemu.fsdev)",
	{ .name = "path", .type = T_STR, .flags = F_REQ, .doc = "the host directory" },
	{ .name = "tag", .type = T_STR, .flags = F_REQ, .doc = "the mount tag the guest sees" },
	{ .name = "id", .type = T_STR, .doc = "default: from the tag" },
	{ .name = "security_model", .type = T_STR, .def = "none", .doc = "fsdev security_model" },
	{ .name = "transport", .type = T_ENUM, .choices = transports, .doc = "default: the machine's" },
);

OPTIONS(options_rtap, "recipes.tap", "recipes.tap{...}: a virtio-net NIC on a TAP interface (ifname or fds)",
	{ .name = "ifname", .type = T_STR, .doc = "the interface (with queues: qlua opens them)" },
	{ .name = "fds", .type = T_FDS, .doc = "the queues, opened already (a qemu.fd or a list)" },
	{ .name = "queues", .type = T_UINT, .min = 1, .doc = "queues qlua opens on ifname" },
	{ .name = "mac", .type = T_STR, .doc = "mac_address" },
	{ .name = "id", .type = T_STR, .doc = "default: from the ifname, else 'net0'" },
	{ .name = "vnet_hdr", .type = T_BOOL, .doc = "for the queues qlua opens (default: with more than one)" },
	{ .name = "transport", .type = T_ENUM, .choices = transports, .doc = "default: the machine's" },
);

static const char *const guest_machines[] = { "q35", "pc", "microvm", NULL };
OPTIONS(options_test_guest, "recipes.test_guest", "recipes.test_guest{...}: the busybox test guest, bootable",
	{ .name = "checks", .type = T_STRS, .doc = "words added to the kernel command line" },
	{ .name = "machine", .type = T_ENUM, .choices = guest_machines, .def = "q35", .doc = "machine type" },
	{ .name = "accel", .type = T_STR, .def = "tcg", .doc = "as recipes.q35's" },
	{ .name = "memory", .type = T_SIZE, .doc = "guest RAM (default 256M)" },
	{ .name = "name", .type = T_STR, .def = "test-guest", .doc = "the VM's name" },
	{ .name = "guest_dir", .type = T_STR, .doc = "where vmlinux and initrd.gz are" },
);

OPTIONS(options_cloud_init, "recipes.cloud_init", "recipes.cloud_init{...}: a cloud-init NoCloud seed disk",
	{ .name = "hostname", .type = T_STR, .doc = "the guest's host name" },
	{ .name = "user_data", .type = T_ANY, .doc = "user-data: a string (as is) or a table (YAML)" },
	{ .name = "meta_data", .type = T_TABLE, .doc = "meta-data entries" },
	{ .name = "network_config", .type = T_ANY, .doc = "network-config: a string or a table" },
	{ .name = "ssh_authorized_keys", .type = T_STRS, .doc = "public keys for the user" },
	{ .name = "run_cmd", .type = T_ANY, .doc = "commands run at first boot: a string or a list" },
	{ .name = "ssh_key", .type = T_BOOL, .def = "true", .doc = "a per-VM key pair for vm:ssh" },
	{ .name = "user", .type = T_STR, .def = "root", .doc = "the user vm:ssh logs in as" },
	{ .name = "instance_id", .type = T_STR, .doc = "meta-data instance-id" },
	{ .name = "dir", .type = T_STR, .doc = "where the seed is made" },
	{ .name = "id", .type = T_STR, .def = "cidata", .doc = "drive id" },
	{ .name = "transport", .type = T_ENUM, .choices = transports, .doc = "default: the machine's" },
);

/* ---- the QMP wrappers (lua/qemu/qmp.lua) ---------------------------------------- */

/* Every wrapper's options table takes a timeout too (its qmp:execute's). */
/* QMP strings are JSON: "" is a value (romfile = "": no option ROM), and
 * they never reach a command line. */
#define QMP_STR (F_EMPTY | F_TEXT)
#define QMP_TIMEOUT { .name = "timeout", .type = T_NUM, .doc = "seconds to wait for the reply" }

OPTIONS(options_qmp_command, "qmp.command",
	"the options of a QMP wrapper that takes only a timeout (status, stop, cont, device_del, ...)",
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_blockdev_cache, "qmp.blockdev_add.cache", "qmp:blockdev_add{cache = {...}}: the cache mode",
	{ .name = "direct", .type = T_BOOL, .doc = "O_DIRECT: bypass the host page cache" },
	{ .name = "no_flush", .type = T_BOOL, .doc = "ignore flush requests" },
);

OPTIONS(options_qmp_blockdev_add, "qmp.blockdev_add", "qmp:blockdev_add{...}: blockdev-add of a file (govmm ExecuteBlockdevAdd)",
	{ .name = "node_name", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "filename", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "driver", .type = T_STR, .flags = QMP_STR },
	{ .name = "format", .type = T_STR, .flags = QMP_STR },
	{ .name = "read_only", .type = T_BOOL },
	{ .name = "cache", .type = T_REC, .sub = &options_qmp_blockdev_cache },
	{ .name = "discard", .type = T_STR, .flags = QMP_STR },
	{ .name = "detect_zeroes", .type = T_STR, .flags = QMP_STR },
	{ .name = "auto_read_only", .type = T_BOOL },
	{ .name = "force_share", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_blockdev_add_with_cache, "qmp.blockdev_add_with_cache", "qmp:blockdev_add_with_cache{...}: blockdev_add with cache = { direct, no_flush } (govmm ExecuteBlockdevAddWithCache)",
	{ .name = "node_name", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "filename", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "driver", .type = T_STR, .flags = QMP_STR },
	{ .name = "direct", .type = T_BOOL },
	{ .name = "no_flush", .type = T_BOOL },
	{ .name = "read_only", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_blockdev_add_with_driver_cache, "qmp.blockdev_add_with_driver_cache", "qmp:blockdev_add_with_driver_cache{...}: the same with the protocol driver named (govmm ExecuteBlockdevAddWithDriverCache)",
	{ .name = "node_name", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "filename", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "driver", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "direct", .type = T_BOOL },
	{ .name = "no_flush", .type = T_BOOL },
	{ .name = "read_only", .type = T_BOOL },
	QMP_TIMEOUT,
);

static const char *const scsi_drivers[] = { "scsi-hd", "scsi-cd", NULL };
OPTIONS(options_qmp_scsi_device_add, "qmp.scsi_device_add", "qmp:scsi_device_add{...}: a SCSI disk on a SCSI controller's bus (govmm ExecuteSCSIDeviceAdd)",
	{ .name = "drive", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "driver", .type = T_ENUM, .choices = scsi_drivers, .flags = F_REQ },
	{ .name = "bus", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "scsi_id", .type = T_UINT, .max = INT64_MAX },
	{ .name = "lun", .type = T_UINT, .max = INT64_MAX },
	{ .name = "share_rw", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_pci_device_add, "qmp.pci_device_add", "qmp:pci_device_add{...}: a block device on PCI (govmm ExecutePCIDeviceAdd)",
	{ .name = "drive", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "driver", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "romfile", .type = T_STR, .flags = QMP_STR },
	{ .name = "queues", .type = T_UINT, .max = INT64_MAX },
	{ .name = "share_rw", .type = T_BOOL },
	{ .name = "disable_modern", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_pci_vhost_user_dev_add, "qmp.pci_vhost_user_dev_add", "qmp:pci_vhost_user_dev_add{...}: a vhost-user device on PCI (govmm ExecutePCIVhostUserDevAdd)",
	{ .name = "driver", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "chardev", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_net_pci_device_add, "qmp.net_pci_device_add", "qmp:net_pci_device_add{...}: a NIC on PCI (govmm ExecuteNetPCIDeviceAdd)",
	{ .name = "netdev", .type = T_STR, .flags = QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "mac", .type = T_STR, .flags = QMP_STR },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "romfile", .type = T_STR, .flags = QMP_STR },
	{ .name = "queues", .type = T_UINT, .max = INT64_MAX },
	{ .name = "disable_modern", .type = T_BOOL },
	{ .name = "driver", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_net_ccw_device_add, "qmp.net_ccw_device_add", "qmp:net_ccw_device_add{...}: virtio-net-ccw, s390x (govmm ExecuteNetCCWDeviceAdd)",
	{ .name = "netdev", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "mac", .type = T_STR, .flags = QMP_STR },
	{ .name = "devno", .type = T_STR, .flags = QMP_STR },
	{ .name = "queues", .type = T_UINT, .max = INT64_MAX },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_vfio_device_add, "qmp.vfio_device_add", "qmp:vfio_device_add{...}: a VFIO device (govmm ExecuteVFIODeviceAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "host", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "romfile", .type = T_STR, .flags = QMP_STR },
	{ .name = "driver", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_pci_vfio_device_add, "qmp.pci_vfio_device_add", "qmp:pci_vfio_device_add{...}: vfio-pci at an address on a bus (govmm ExecutePCIVFIODeviceAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "host", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "romfile", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_pci_vfio_mediated_device_add, "qmp.pci_vfio_mediated_device_add", "qmp:pci_vfio_mediated_device_add{...}: a mediated VFIO device (govmm ExecutePCIVFIOMediatedDeviceAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "sysfsdev", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "romfile", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_ap_vfio_mediated_device_add, "qmp.ap_vfio_mediated_device_add", "qmp:ap_vfio_mediated_device_add{...}: vfio-ap, s390x (govmm ExecuteAPVFIOMediatedDeviceAdd)",
	{ .name = "sysfsdev", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "id", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_pci_vsock_add, "qmp.pci_vsock_add", "qmp:pci_vsock_add{...}: vhost-vsock-pci (govmm ExecutePCIVSockAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "guest_cid", .type = T_UINT, .flags = F_REQ, .max = INT64_MAX },
	{ .name = "vhostfd", .type = T_ANY, .doc = "a getfd name or a qemu.fd" },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "romfile", .type = T_STR, .flags = QMP_STR },
	{ .name = "disable_modern", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_virt_serial_port_add, "qmp.virt_serial_port_add", "qmp:virt_serial_port_add{...}: a virtserialport (govmm ExecuteVirtSerialPortAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "name", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "chardev", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	{ .name = "nr", .type = T_UINT, .max = INT64_MAX },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_cpu_device_add, "qmp.cpu_device_add", "qmp:cpu_device_add{...}: a CPU (govmm ExecuteCPUDeviceAdd)",
	{ .name = "driver", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "socket_id", .type = T_UINT, .max = INT64_MAX },
	{ .name = "die_id", .type = T_UINT, .max = INT64_MAX },
	{ .name = "core_id", .type = T_UINT, .max = INT64_MAX },
	{ .name = "thread_id", .type = T_UINT, .max = INT64_MAX },
	{ .name = "node_id", .type = T_UINT, .max = INT64_MAX },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_hotplug_cpu, "qmp.hotplug_cpu", "qmp:hotplug_cpu{...}: plugs the next hot-pluggable CPU",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_memdev_add, "qmp.memdev_add", "qmp:memdev_add{...}: a memory backend and its device (govmm ExecuteMemdevAdd)",
	{ .name = "qom_type", .type = T_STR, .flags = QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "size", .type = T_SIZE, .flags = F_REQ },
	{ .name = "mem_path", .type = T_STR, .flags = QMP_STR },
	{ .name = "share", .type = T_BOOL },
	{ .name = "driver", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "driver_id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "addr", .type = T_STR, .flags = QMP_STR },
	{ .name = "bus", .type = T_STR, .flags = QMP_STR },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_hotplug_memory, "qmp.hotplug_memory", "qmp:hotplug_memory{...}: a memory backend and a pc-dimm (govmm ExecHotplugMemory)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "size", .type = T_SIZE, .flags = F_REQ },
	{ .name = "qom_type", .type = T_STR, .flags = QMP_STR },
	{ .name = "mem_path", .type = T_STR, .flags = QMP_STR },
	{ .name = "share", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_nvdimm_device_add, "qmp.nvdimm_device_add", "qmp:nvdimm_device_add{...}: an NVDIMM on a memory-backend-file (govmm ExecuteNVDIMMDeviceAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "mem_path", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "size", .type = T_SIZE, .flags = F_REQ },
	{ .name = "pmem", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_netdev_add_by_fds, "qmp.netdev_add_by_fds", "qmp:netdev_add_by_fds{...}: a tap netdev on open tap queues (govmm ExecuteNetdevAddByFds)",
	{ .name = "type", .type = T_STR, .flags = QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "fds", .type = T_ANY, .flags = F_REQ, .doc = "a non-empty list of getfd names or qemu.fd objects" },
	{ .name = "vhost_fds", .type = T_ANY, .doc = "a non-empty list of getfd names or qemu.fd objects" },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_netdev_chardev_add, "qmp.netdev_chardev_add", "qmp:netdev_chardev_add{...}: a netdev on a chardev (govmm ExecuteNetdevChardevAdd)",
	{ .name = "type", .type = T_STR, .flags = QMP_STR },
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "chardev", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "queues", .type = T_UINT, .max = INT64_MAX },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_chardev_unix_socket_add, "qmp.chardev_unix_socket_add", "qmp:chardev_unix_socket_add{...}: a chardev on a Unix socket (govmm ExecuteChardevUnixSocketAdd)",
	{ .name = "id", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "path", .type = T_STR, .flags = F_REQ | QMP_STR },
	{ .name = "server", .type = T_BOOL },
	{ .name = "wait", .type = T_BOOL },
	QMP_TIMEOUT,
);

OPTIONS(options_qmp_dump_guest_memory, "qmp.dump_guest_memory", "qmp:dump_guest_memory{...}: dump-guest-memory (govmm ExecuteDumpGuestMemory)",
	{ .name = "file", .type = T_STR, .flags = QMP_STR },
	{ .name = "protocol", .type = T_STR, .flags = QMP_STR },
	{ .name = "paging", .type = T_BOOL },
	{ .name = "format", .type = T_STR, .flags = QMP_STR },
	{ .name = "detach", .type = T_BOOL },
	{ .name = "begin", .type = T_UINT, .max = INT64_MAX },
	{ .name = "length", .type = T_UINT, .max = INT64_MAX },
	QMP_TIMEOUT,
);

static const char *const screen_formats[] = { "png", "ppm", NULL };
OPTIONS(options_qmp_screendump, "qmp.screendump",
	"qmp:screendump(filename, opts): what the display shows, as PNG or PPM (not in govmm)",
	{ .name = "format", .type = T_ENUM, .choices = screen_formats,
	  .doc = "default: png when the file name ends in .png, else ppm" },
	{ .name = "device", .type = T_STR, .doc = "the display device's id (of several)" },
	{ .name = "head", .type = T_UINT, .max = INT32_MAX, .doc = "the head of that device" },
	QMP_TIMEOUT,
);

/* Sorted by name: qemu.option_kinds() and the docs list them in this order. */
const struct kind *const options_kinds[] = {
	&options_agent_call,
	&options_exec,
	&options_argv,
	&options_check_,
	&options_expect,
	&options_launch,
	&options_launch_custom,
	&options_matrix,
	&options_matrix_merge,
	&options_matrix_run,
	&options_qmp_ap_vfio_mediated_device_add,
	&options_qmp_blockdev_add,
	&options_qmp_blockdev_cache,
	&options_qmp_blockdev_add_with_cache,
	&options_qmp_blockdev_add_with_driver_cache,
	&options_qmp_chardev_unix_socket_add,
	&options_qmp_command,
	&options_qmp_cpu_device_add,
	&options_qmp_dump_guest_memory,
	&options_execute,
	&options_qmp_hotplug_cpu,
	&options_qmp_hotplug_memory,
	&options_qmp_memdev_add,
	&options_qmp_net_ccw_device_add,
	&options_qmp_net_pci_device_add,
	&options_qmp_netdev_add_by_fds,
	&options_qmp_netdev_chardev_add,
	&options_qmp_nvdimm_device_add,
	&options_qmp_pci_device_add,
	&options_qmp_pci_vfio_device_add,
	&options_qmp_pci_vfio_mediated_device_add,
	&options_qmp_pci_vhost_user_dev_add,
	&options_qmp_pci_vsock_add,
	&options_qmp_screendump,
	&options_qmp_scsi_device_add,
	&options_qmp_vfio_device_add,
	&options_qmp_virt_serial_port_add,
	&options_wait_event,
	&options_cloud_init,
	&options_disk,
	&options_linux,
	&options_microvm,
	&options_pc,
	&options_q35,
	&options_serial_console,
	&options_share,
	&options_rtap,
	&options_test_guest,
	&options_uefi,
	&options_run,
	&options_shutdown,
	&options_tap,
	&options_vm_ssh,
	&options_vm_wait,
	NULL,
};

const struct kind *options_find(const char *name)
{
	for (int i = 0; options_kinds[i]; i++)
		if (!strcmp(options_kinds[i]->name, name))
			return options_kinds[i];
	return NULL;
}

/* ---- checking ------------------------------------------------------------------- */

struct call {
	struct ck c;
	const struct kind *k;
	const struct rec *r;
};

/* Under lua_pcall: check_record raises its message bare (no where, no
 * context), for the caller to wrap. */
static int protected_check(lua_State *L)
{
	struct call *cl = lua_touserdata(L, 1);
	cl->c.L = L;
	cl->r = check_record(&cl->c, 2, cl->k);
	return 0;
}

/* The arena a check allocates in, owned by a userdata pushed on the stack:
 * lbuild.c's "qlua.arena" frees what outgrew the buffer (long lists) when the
 * value is collected, however the check or its caller ends. */
struct options_arena {
	struct arena a;
	char mem[1024];
};

static struct arena *push_arena(lua_State *L)
{
	struct options_arena *b = lua_newuserdatauv(L, sizeof *b, 0);
	arena_init(&b->a, b->mem, sizeof b->mem);
	luaL_setmetatable(L, "qlua.arena");
	return &b->a;
}

/* Checks the table at idx against k with check_record, which raises its
 * message bare (no where, no context) into this lua_pcall: returns the
 * record, or NULL with the message pushed. */
static const struct rec *check(lua_State *L, int idx, const struct kind *k, struct arena *a)
{
	struct call cl = { .c = { .L = L, .a = a }, .k = k };
	idx = lua_absindex(L, idx);
	lua_pushcfunction(L, protected_check);
	lua_pushlightuserdata(L, &cl);
	lua_pushvalue(L, idx);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		/* A signal's hook (main.c) raises "interrupted by signal N" at
		 * whatever Lua runs, this check included: that error goes on as it
		 * is, not dressed as a fault of the options. */
		if (loop_signal())
			lua_error(L);
		return NULL;
	}
	return cl.r;
}

const struct rec *options_check(lua_State *L, int arg, const struct kind *k)
{
	return options_check_named(L, arg, k, NULL, 0);
}

const struct rec *options_check_named(lua_State *L, int arg, const struct kind *k, const char *fname, int argn)
{
	int none = lua_isnoneornil(L, arg);
	if (!none && fname && !lua_istable(L, arg))
		luaL_error(L, "bad argument #%d to '%s' (table expected, got %s)", argn, fname, luaL_typename(L, arg));
	if (!none)
		luaL_checktype(L, arg, LUA_TTABLE);
	arg = lua_absindex(L, arg);
	struct arena *a = push_arena(L);
	if (none)
		lua_newtable(L);
	const struct rec *r = check(L, none ? -1 : arg, k, a);
	if (!r && fname)
		luaL_error(L, "bad argument #%d to '%s' (%s)", argn, fname, lua_tostring(L, -1));
	if (!r)
		luaL_argerror(L, arg, lua_tostring(L, -1));
	if (none)
		lua_pop(L, 1);
	return r;
}

int options_fail(lua_State *L, int arg, const char *name, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return luaL_argerror(L, arg, lua_pushfstring(L, "field '%s': %s", name, msg));
}

/* lua_error with a message made as lua_pushfstring makes it: luaL_error
 * would put the line of check_options' caller (the library) first. */
static int raise(lua_State *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	lua_pushvfstring(L, fmt, ap);
	va_end(ap);
	return lua_error(L);
}

/* qemu.check_options(name, t [, where [, argn [, fname]]]) -> t (a new empty table
 * for nil): checks t, a table of named options, against the record `name`
 * (qemu.option_kinds()).  Errors name `where`: a string as it is
 * ("vm.lua:3: "), a level as error() takes one (default 1: the function
 * that called check_options), and then the record:
 *   vm.lua:3: recipes.disk: unknown field 'fiel' (did you mean 'file'?)
 * With argn, they read as an error in that argument of the function the
 * record is named after (the name's last word), or of fname:
 *   vm.lua:3: bad argument #2 to 'check' (unknown field 'cache')  */
static int l_check_options(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const struct kind *k = options_find(name);
	if (!k)
		return luaL_argerror(L, 1, lua_pushfstring(L, "no options table '%s'", name));
	char where[256];
	if (lua_type(L, 3) == LUA_TSTRING)
		snprintf(where, sizeof where, "%s", lua_tostring(L, 3));
	else
		ck_where(L, (int)luaL_optinteger(L, 3, 1), where, sizeof where);
	int argn = (int)luaL_optinteger(L, 4, 0);
	char fname[64];  /* (a copy: the arguments go from the stack below) */
	snprintf(fname, sizeof fname, "%s", luaL_optstring(L, 5, strrchr(name, '.') ? strrchr(name, '.') + 1 : name));
	lua_settop(L, 2);
	if (lua_isnil(L, 2)) {
		lua_newtable(L);
		lua_replace(L, 2);
	}
	if (!lua_istable(L, 2)) {
		const char *t = luaL_typename(L, 2);
		if (luaL_getmetafield(L, 2, "__name") == LUA_TSTRING)
			t = lua_tostring(L, -1);
		if (argn)
			return raise(L, "%sbad argument #%d to '%s' (table expected, got %s)", where, argn, fname, t);
		return raise(L, "%s%s: table of options expected, got %s", where, name, t);
	}
	struct arena *a = push_arena(L);  /* 3 */
	if (!check(L, 2, k, a)) {
		if (argn)
			return raise(L, "%sbad argument #%d to '%s' (%s)", where, argn, fname, lua_tostring(L, -1));
		return raise(L, "%s%s: %s", where, name, lua_tostring(L, -1));
	}
	lua_settop(L, 2);
	return 1;
}

/* qemu.option_kinds() -> the names of the options tables, sorted. */
static int l_option_kinds(lua_State *L)
{
	lua_newtable(L);
	for (int i = 0; options_kinds[i]; i++) {
		lua_pushstring(L, options_kinds[i]->name);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

void options_register(lua_State *L)
{
	static const luaL_Reg funcs[] = { { "check_options", l_check_options }, { "option_kinds", l_option_kinds },
	                                  { NULL, NULL } };
	luaL_setfuncs(L, funcs, 0);
}
