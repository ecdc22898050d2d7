-- examples/hello.lua - boot the test guest (scripts/build-guest.sh) with its
-- console on this terminal:  qlua examples/hello.lua [shell]
-- It mounts a 9p share, reads a disk, says hello and powers off; with the
-- argument "shell" it gives you a busybox shell instead (`exit` to leave).
-- Building it makes nothing: the disk is examples/disks/hello.img, read-only,
-- and the share's directory is made at launch (prepare), so -n prints the
-- mkdir before QEMU's command line.
local root = arg[0]:match("^(.*)/examples/[^/]*$") or "."
local guest = root .. "/build/guest"
local dir = os.getenv("QLUA_EXAMPLE_DIR") or "/tmp/qlua-hello"

local checks = "qlua.9p=share qlua.blk=/dev/vda"
if arg[1] == "shell" then checks = checks .. " qlua.shell" end

return {
  name = "hello",
  machine = { type = "q35", accel = "tcg" },
  cpu_model = "max",
  memory = { size = "256M" },
  kernel = { path = guest .. "/vmlinux", initrd = guest .. "/initrd.gz",
             params = "console=ttyS0 quiet panic=-1 no_timer_check " .. checks },
  knobs = { no_user_config = true, no_defaults = true, no_reboot = true },
  prepare = { { argv = { "mkdir", "-p", dir .. "/share" } } },   -- the guest writes into it
  devices = {
    qemu.block { id = "disk0", file = root .. "/examples/disks/hello.img", format = "raw", read_only = true },
    qemu.fsdev { id = "share0", path = dir .. "/share", mount_tag = "share", security_model = "none" },
  },
}
