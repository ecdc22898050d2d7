-- bench/typical.lua - the typical configuration of the argv benchmark:
-- 2 disks (qcow2 + threads; raw, read-only, io_uring), a 9p share, a tap
-- netdev with 2 queue descriptors, a virtio-serial controller with a
-- console on a socket chardev, a PCI bridge, an rtc, a QMP socket, kernel +
-- initrd + params, 2048M with slots and maxmem, smp 2 of 4 (4 sockets), and
-- the usual knobs.  The queue descriptors are /dev/null: building the argv
-- does not care what they are, and opening real taps needs a namespace.
local qemu = qemu or require "qemu"
local queues = ... or { qemu.open("/dev/null", "rw"), qemu.open("/dev/null", "rw") }

return function()
  return {
    path = "qemu-system-x86_64",
    name = "bench",
    uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11",
    machine = { type = "q35", accel = "tcg" },
    cpu_model = "max",
    smp = { cpus = 2, sockets = 4, cores = 1, threads = 1, maxcpus = 4 },
    memory = { size = "2048M", slots = 2, maxmem = "8G" },
    qmp = { { path = "/run/qlua/bench.qmp", server = true, wait = false } },
    rtc = { base = "utc", clock = "host", driftfix = "slew" },
    kernel = { path = "/boot/vmlinuz", initrd = "/boot/initrd.img",
               params = "console=ttyS0 root=/dev/vda rw quiet" },
    knobs = { no_user_config = true, no_defaults = true, no_graphic = true },
    devices = {
      qemu.block { id = "disk0", file = "/var/lib/vm/root.qcow2", format = "qcow2", aio = "threads" },
      qemu.block { id = "disk1", file = "/var/lib/vm/data.img", format = "raw", read_only = true,
                   aio = "io_uring" },
      qemu.fsdev { id = "share0", path = "/srv/share", mount_tag = "share", security_model = "none" },
      qemu.netdev { type = "tap", id = "net0", mac_address = "52:54:00:12:34:56", fds = queues },
      qemu.serial { id = "serial0" },
      qemu.chardev { backend = "socket", id = "charconsole0", path = "/run/qlua/console.sock",
                     driver = "virtconsole", bus = "serial0.0", device_id = "console0" },
      qemu.bridge { type = "pci", bus = "pcie.0", id = "pci-bridge-0", chassis = 1, shpc = true },
    },
  }
end
