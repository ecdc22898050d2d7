-- examples/hello.lua - a small VM: q35 under TCG, a scratch disk, a 9p share,
-- a virtio console on a socket.  `qlua -n examples/hello.lua` prints its
-- QEMU command line; examples/paused.lua starts it for real, paused.
local dir = os.getenv("QLUA_EXAMPLE_DIR") or "/tmp/qlua-hello"
os.execute("mkdir -p " .. dir .. "/share")
if not io.open(dir .. "/disk.qcow2") then
  os.execute("qemu-img create -q -f qcow2 " .. dir .. "/disk.qcow2 64M")
end

return {
  name = "hello",
  machine = { type = "q35", accel = "tcg" },
  cpu_model = "max",
  smp = { cpus = 2 },
  memory = { size = "256M" },
  knobs = { no_user_config = true, no_defaults = true, no_reboot = true },
  devices = {
    qemu.block { id = "disk0", file = dir .. "/disk.qcow2", format = "qcow2", aio = "threads" },
    qemu.fsdev { id = "share0", path = dir .. "/share", mount_tag = "share", security_model = "none" },
    qemu.serial { id = "serial0" },
    qemu.chardev { backend = "socket", id = "console0", path = dir .. "/console.sock",
                   driver = "virtconsole", bus = "serial0.0", device_id = "con0" },
  },
  extra_args = { "-display", "none" },
}
