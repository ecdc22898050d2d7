-- spec/distro_matrix_spec.lua (#distro_full: make check-distro, not make
-- check) - README.md's transcript of examples/distro-matrix.lua run as
-- printed: the Debian image (`make distro-image`) booted by SeaBIOS and OVMF
-- from virtio-blk, virtio-scsi and NVMe, six cells, two at a time on two
-- cores (15 to 25 minutes under TCG here).  Its output is compared with the
-- README's, then the JUnit file and every cell's run directory are read:
-- each cell passed, and its guest.txt says what the guest showed (the root
-- disk on the bus's device and driver, systemd running, ssh answering with
-- the cell's hostname).
local H = require "helper"
local RM = require "support.readme"

local q = H.q
local have_image = io.open(H.root .. "/build/distro/debian-12.qcow2") and true or false

-- What each bus gives the guest (examples/distro-matrix.lua checks the same).
local DISK = {
  ["virtio-blk"] = { "vda", "virtio_blk" },
  ["virtio-scsi"] = { "sda", "virtio_scsi" },
  ["nvme"] = { "nvme0n1", "nvme" },
}

describe("examples/distro-matrix.lua, as README.md shows #distro_full #guest", function()
  if not have_image then
    pending("build/distro/debian-12.qcow2 is missing: run `make distro-image` (make check-distro builds it first)")
    return
  end

  it("runs as printed: six cells pass; JUnit and each cell's guest.txt say what the guests showed", function()
    local steps = RM.commands("^%./qlua examples/distro%-matrix%.lua")
    assert.is_true(#steps >= 1, "README.md shows no ./qlua examples/distro-matrix.lua")
    local box = RM.sandbox()
    for _, step in ipairs(steps) do
      local where = ("README.md:%d: $ %s"):format(step.line, step.cmd)
      local code, out = H.sh(("cd %s && TMPDIR=%s/tmp timeout 3600 sh -ec %s 2>&1 </dev/null")
        :format(q(box), q(box), q(step.cmd)))
      assert.are.equal(0, code, where .. "\n" .. tostring(out))
      assert.is_true(RM.matches(step.out, RM.lines(out)), ("%s shows:\n%s\n--- but it printed:\n%s")
        :format(where, table.concat(step.out, "\n"), out))
    end
    -- the JUnit file the README's command wrote: six test cases, none failed
    local xml = assert(H.slurp(box .. "/distro-matrix.xml"), "no distro-matrix.xml")
    assert.truthy(xml:find('tests="6"', 1, true), xml)
    assert.truthy(xml:find('failures="0"', 1, true), xml)
    assert.truthy(xml:find('errors="0"', 1, true), xml)
    for _, firmware in ipairs { "bios", "uefi" } do
      for bus, want in pairs(DISK) do
        local cell = ("disk_bus=%s,firmware=%s"):format(bus, firmware)
        assert.truthy(xml:find('name="' .. cell .. '"', 1, true), cell .. "\n" .. xml)
        local dir = box .. "/qlua-runs/distro-matrix/" .. cell
        assert.are.equal("pass\n", H.slurp(dir .. "/result"), cell)
        local text = assert(H.slurp(dir .. "/guest.txt"), cell .. ": no guest.txt")
        local disk, path, drivers = text:match("^root /dev/%S+ on (%S+) %((%S+)%), drivers: ([^\n]*)\n")
        assert.are.equal(want[1], disk, cell .. ":\n" .. text)
        assert.are.equal("/sys/devices/", path:sub(1, 13), text)
        assert.truthy((" " .. drivers .. " "):find(" " .. want[2] .. " ", 1, true), cell .. ":\n" .. text)
        assert.truthy(text:find("\nsystemd: running\n", 1, true), cell .. ":\n" .. text)
        assert.matches("\nssh to port %d+: hostname qlua%-" .. firmware .. "%-" .. bus:gsub("%-", "%%-") .. "\n$",
          text, nil, cell)
      end
    end
  end)
end)
