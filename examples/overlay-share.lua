-- examples/overlay-share.lua - a VM put together from recipes: a kernel
-- booted directly, a raw disk image behind a throw-away qcow2 overlay, and a
-- host directory shared with the guest over 9p.
--
--   ./qlua examples/overlay-share.lua       boot it, its console here; it powers off by itself
--   ./qlua -n examples/overlay-share.lua    only print the commands: mkdir and qemu-img
--                                           (the overlay), the share's mkdir, then QEMU's;
--                                           nothing is made
--
-- The kernel is the test guest's (make guest; scripts/guest/README.md): it
-- reads the first line of its disk (qlua.blk), writes guest-was-here into the
-- share (qlua.9p) and powers off.  The base image is disks/base.img, next to
-- this file; QEMU opens it read-only, as the overlay's backing file, and the
-- overlay takes every write the guest makes, so it never changes.  The
-- overlay is made when QEMU starts, in a temporary directory that qlua
-- removes when it exits (recipes.disk's `dir` keeps it somewhere else).
-- For your own VM, swap in your kernel, initrd and image: the recipes are the same.
local recipes = require "qemu.recipes"

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local base = here .. "/disks/base.img"          -- its first line is what the guest prints
local dir = os.getenv("QLUA_EXAMPLE_DIR") or "/tmp/qlua-overlay-share"

local guest = recipes.guest_dir()
assert(guest, "no test guest (build/guest): run `make guest`, or set QLUA_GUEST_DIR")

return qemu.merge(
  recipes.q35 { cpu = "max" },                 -- accel = "auto" uses KVM where it can
  recipes.linux { kernel = guest .. "/vmlinux", initrd = guest .. "/initrd.gz",
                  append = "quiet panic=-1 no_timer_check qlua.blk=/dev/vda qlua.9p=share" },
  recipes.serial_console(),                    -- console=ttyS0: where qlua puts the console
  recipes.disk { file = base, format = "raw", overlay = true },
  recipes.share { path = dir .. "/share", tag = "share" },
  { name = "overlay-share", memory = { size = "256M" },
    knobs = { no_defaults = true, no_user_config = true, no_reboot = true },
    prepare = { { argv = { "mkdir", "-p", dir .. "/share" } } } })   -- made at launch, not now
