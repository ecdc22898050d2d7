-- examples/hotplug.lua - QMP from a script: boot the test guest, hotplug a
-- disk into a PCIe root port while it runs, see the guest read it, unplug it
-- and power the guest off, with the named wrappers of require "qemu.qmp"
-- (docs/qmp-wrappers.md lists them all).
--
--   ./qlua examples/hotplug.lua       prints each step; exits 0 when all went well
--   ./qlua -n examples/hotplug.lua    prints the VM's command line and starts nothing
--
-- The script returns nothing: it runs the VM itself.  Under qlua's -n (or
-- --json, --check) qemu.launch prints (or checks) the command line instead
-- of running it, and the script stops there; so it makes its files only
-- after the launch.
local recipes = require "qemu.recipes"
require "qemu.qmp"            -- adds vm.qmp:blockdev_add, :pci_device_add, :device_del, ...

-- The test guest waits (qlua.wait) after its checks; qlua.blk waits up to
-- 3 s for /dev/vda to appear, which is when we plug it in.
local desc = qemu.merge(
  recipes.test_guest { checks = "qlua.blk=/dev/vda qlua.wait" },
  { name = "hotplug",
    devices = { qemu.pcie_root_port { id = "rp1", bus = "pcie.0", chassis = 1, slot = 1 } } })

local function step(fmt, ...)
  io.write("hotplug: ", fmt:format(...), "\n")
  io.stdout:flush()
end

-- qmp = true: a private QMP channel; <close>: shut down however the script ends.
local vm <close> = qemu.launch(desc, { console = "capture", qmp = true })
step("QEMU started (pid %d)", vm.pid)

-- The disk to plug in: raw, its first line is what the guest prints.
local dir = os.getenv("QLUA_EXAMPLE_DIR") or "/tmp/qlua-hotplug"
assert(os.execute("mkdir -p '" .. dir .. "'"))
local img = dir .. "/hot.img"
local f = assert(io.open(img, "wb"))
f:write("hello from a hotplugged disk\n")
f:seek("set", 1024 * 1024 - 1)
f:write("\0")
f:close()

assert(vm.console:expect("QLUA%-GUEST%-READY", 90), "the guest did not come up")
step("the guest is up: plugging %s into rp1", img)

assert(vm.qmp:blockdev_add { node_name = "hp0", filename = img, read_only = true })
assert(vm.qmp:pci_device_add { drive = "hp0", id = "hpdisk", driver = "virtio-blk-pci", bus = "rp1" })
local _, line = vm.console:expect("QLUA%-BLK%-OK ([^\r\n]*)\r?\n", 30)
assert(line, "the guest did not read the disk")
step("the guest read: %s", line)
assert(vm.console:expect("QLUA%-GUEST%-WAITING", 30))

-- device_del waits for DEVICE_DELETED: the guest has let go of the disk.
assert(vm.qmp:device_del("hpdisk", { timeout = 30 }))
assert(vm.qmp:blockdev_del("hp0"))
step("unplugged: the guest let go of it (DEVICE_DELETED)")

-- The ACPI power button; powerdown waits for SHUTDOWN.
assert(vm.qmp:powerdown { timeout = 30 })
local st = assert(vm:wait(30))
step("the guest powered off; QEMU exited with code %s", tostring(st.code))
assert(st.code == 0, "QEMU did not exit with code 0")
