-- examples/distro-matrix.lua - the Debian image (`make distro-image`) booted
-- by SeaBIOS and by OVMF from each of three disk buses: six cells, each
-- checking through the guest agent that the root file system is on the disk
-- the bus gives (/sys/block: vda, sda, nvme0n1, and the drivers below it),
-- that ssh answers over the forward, and that systemd says `running`.
--
--   ./qlua examples/distro-matrix.lua --list       the cells; nothing runs
--   ./qlua examples/distro-matrix.lua -j 2 --junit distro-matrix.xml
--
-- A cell takes two to four minutes under TCG (booting is most of it).  What
-- each cell found is in its run directory: qlua-runs/distro-matrix/CELL/guest.txt.
-- `degraded` (a unit failed) fails the cell, naming the failed units: every
-- cell of this image reaches `running`, so a unit that fails on one bus or
-- firmware is what a matrix is for.
local matrix = require "qemu.matrix"
local recipes = require "qemu.recipes"

-- What each bus shows the guest: the root disk's name in /sys/block and a
-- driver on its path in /sys/devices (the disk's own, or its controller's).
local EXPECT = {
  ["virtio-blk"]  = { disk = "vda",     driver = "virtio_blk" },
  ["virtio-scsi"] = { disk = "sda",     driver = "virtio_scsi" },
  ["nvme"]        = { disk = "nvme0n1", driver = "nvme" },
}

-- Run in the guest (sh): the root file system's device, its disk, the disk's
-- place in /sys/devices and the drivers bound along that path.
local PROBE = [[
root=$(findmnt -no SOURCE /)
disk=$(lsblk -no PKNAME "$root")
path=$(readlink -f "/sys/block/$disk")
drivers=
d=$path
while [ "$d" != /sys/devices ] && [ "$d" != / ]; do
  [ -e "$d/driver" ] && drivers="$drivers $(basename "$(readlink "$d/driver")")"
  d=$(dirname "$d")
done
echo "root=$root"
echo "disk=$disk"
echo "path=$path"
echo "drivers=${drivers# }"
]]

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

return matrix {
  name = "distro-matrix",
  axes = { firmware = { "bios", "uefi" }, disk_bus = { "virtio-blk", "virtio-scsi", "nvme" } },
  timeout = 900,                               -- seconds per cell: a boot is 1.5 to 4 minutes
  launch = { agent = true },                   -- vm.agent: the guest agent's channel
  vm = function(cell)
    return recipes.debian { firmware = cell.firmware, disk_bus = cell.disk_bus,
                            hostname = ("qlua-%s-%s"):format(cell.firmware, cell.disk_bus) }
  end,
  test = function(vm, cell)
    local notes = {}
    local function note(fmt, ...) notes[#notes + 1] = fmt:format(...) end
    local function done() write(cell.dir .. "/guest.txt", table.concat(notes, "\n") .. "\n") end
    local function check(ok, fmt, ...)
      if not ok then
        note("FAIL: " .. fmt, ...)
        done()
        error(fmt:format(...), 2)
      end
      return ok
    end
    check(vm.agent:wait(600), "the guest agent did not answer")
    -- the disk
    local want = EXPECT[cell.disk_bus]
    local r = assert(vm.agent:exec(PROBE, { timeout = 60 }))
    local got = {}
    for k, v in r.stdout:gmatch("(%w+)=([^\n]*)") do got[k] = v end
    note("root %s on %s (%s), drivers: %s", got.root, got.disk, got.path, got.drivers)
    check(got.disk == want.disk, "the root file system is on '%s', not '%s'", tostring(got.disk), want.disk)
    check((" " .. (got.drivers or "") .. " "):find(" " .. want.driver .. " ", 1, true),
      "no driver '%s' on the disk's path (drivers: %s)", want.driver, tostring(got.drivers))
    -- systemd, once the boot is over
    r = assert(vm.agent:exec("systemctl is-system-running --wait", { timeout = 300 }))
    local state = r.stdout:gsub("%s+$", "")
    note("systemd: %s", state)
    if state ~= "running" then
      local failed = assert(vm.agent:exec("systemctl --failed --plain --no-legend")).stdout
      note("failed units:\n%s", failed)
      check(false, "systemd says '%s' (failed units: %s)", state,
        failed:gsub("%s+$", ""):gsub("\n", "; "))
    end
    -- the network: ssh over the forward, with the VM's key
    local hostname = ("qlua-%s-%s"):format(cell.firmware, cell.disk_bus)
    r = vm:ssh("hostname", { timeout = 120 })
    note("ssh to port %d: hostname %s", vm:forwarded_port(22), r.stdout:gsub("%s+$", ""))
    check(r.status == 0 and r.stdout == hostname .. "\n", "ssh: hostname said '%s' (status %d)",
      r.stdout:gsub("%s+$", ""), r.status)
    done()
  end,
}
