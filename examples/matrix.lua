-- examples/matrix.lua - a test matrix: the test guest on three machine
-- types with 1 and 2 vCPUs, each cell booting, reading its disk through a
-- throw-away overlay (made in the cell's run directory) and powering off.
--
--   ./qlua examples/matrix.lua --list          the cells, as JSON lines; nothing runs
--   ./qlua examples/matrix.lua -j 2            run them two at a time, a live line on a terminal
--   ./qlua examples/matrix.lua --only microvm --tap --junit boot.xml
--
-- Logs: qlua-runs/example-boot/CELL/{argv,console.log,qmp.log,stderr.log,result}
-- (--out DIR puts them elsewhere).  Exit status 0 when every cell passed.
local matrix = require "qemu.matrix"
local recipes = require "qemu.recipes"

-- The base image every cell reads through its own overlay: disks/matrix.img,
-- next to this file.  QEMU opens it read-only (the overlay's backing file),
-- so it never changes, and building the matrix makes nothing.
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local base = here .. "/disks/matrix.img"

return matrix {
  name = "example-boot",
  axes = { machine = { "q35", "pc", "microvm" }, smp = { 1, 2 } },
  exclude = { { machine = "microvm", smp = 2 } },
  timeout = 120,                          -- seconds per cell
  vm = function(cell)                     -- the VM of one cell
    return qemu.merge(
      recipes.test_guest { machine = cell.machine, checks = "qlua.blk=/dev/vda" },
      recipes.disk { file = base, format = "raw", overlay = true,
                     transport = recipes.transport(cell.machine) },   -- microvm: virtio-mmio
      { smp = { cpus = cell.smp } })
  end,
  test = function(vm, cell)               -- runs while the other cells run
    assert(vm.console:expect("QLUA%-GUEST%-READY", 90), "the guest did not boot")
    local _, line = vm.console:expect("QLUA%-BLK%-([^\r\n]*)\r?\n", 30)
    assert(line == "OK matrix base image", "the disk: QLUA-BLK-" .. tostring(line))
    assert(vm.console:expect("QLUA%-GUEST%-DONE", 30))
    local st = assert(vm:wait(30))
    assert(st.code == 0, "QEMU exited with code " .. tostring(st.code))
  end,
}
