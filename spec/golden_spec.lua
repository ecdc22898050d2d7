-- spec/golden_spec.lua - every device kind and every VM section as a golden
-- command line: spec/golden/NAME.args, one option per line (H.args_text).
--
-- The configurations are the cases of spec/support/cases.lua, which
-- spec/qemu_accepts_spec.lua runs through the real QEMU: a case with a
-- golden file (`name`) is rendered here, built in the golden world.
--
-- A change to what qlua emits is a diff of these files: regenerate them with
--   QLUA_UPDATE_GOLDEN=1 scripts/check.sh spec/golden_spec.lua
-- and review the diff against QEMU's own syntax before committing it.
--
-- Rules the files follow:
-- * `path` is "qemu-system-x86_64" unless the case names a binary, so
--   nothing depends on $QLUA_QEMU.
-- * Paths are fixed fake paths (nothing here touches them); free text (paths,
--   names, tags, kernel parameters, ...) carries ',', ' ' and '=' so the files
--   show that values inside key=value options get their commas doubled and
--   that verbatim arguments (-kernel, -initrd, -append, -bios, -global,
--   extra_args) are passed as they are.
-- * Descriptors are real (qemu.open on a temporary file, qemu.socketpair):
--   their numbers in argv are the child's numbers, 3, 4, ... in argv order,
--   and every test checks that the fds list qemu.argv returns is the one
--   the case gives, in that order.
-- Below the cases: what is not a configuration (qlua --json of a tdx-guest,
-- how the transport is decided, the errors of transports).
local H = require "helper"
local C = require "support.cases"
local qemu = H.qemu

local QEMU = "qemu-system-x86_64"

-- A scratch file to open descriptors on (its path never reaches a golden).
local scratch = H.write(H.tmpdir() .. "/scratch", "")

-- Renders the case's description (path QEMU unless it names one), compares
-- with spec/golden/NAME.args and checks that the fds list is exactly the
-- case's, in that order.
local function golden(c)
  local E = C.golden_env(scratch)
  local ok, err = pcall(function()
    local vm, want_fds = c.vm(E)
    vm.path = vm.path or QEMU
    local argv, fds = qemu.argv(vm)
    H.golden(c.name, argv)
    want_fds = want_fds or {}
    assert.are.equal(#want_fds, #fds)
    for i, f in ipairs(want_fds) do
      assert.is_true(rawequal(f, fds[i]), ("fds[%d] is not the descriptor expected there"):format(i))
      assert.are.equal(f:fileno(), fds[i]:fileno())
    end
  end)
  E.done()
  if not ok then error(err, 0) end
end

describe("golden command lines", function()
  local groups, order = {}, {}
  for _, c in ipairs(C.cases) do
    if c.name then
      if not groups[c.group] then
        groups[c.group] = {}
        order[#order + 1] = c.group
      end
      table.insert(groups[c.group], c)
    end
  end
  for _, g in ipairs(order) do
    describe(g, function()
      for _, c in ipairs(groups[g]) do
        it(c.it, function() golden(c) end)
      end
    end)
  end
end)

describe("golden command lines: what is not a configuration", function()
  it("tdx-guest through qlua --json: the -object is one JSON string, as QEMU reads it", function()
    local path = H.script([[
return { path = "qemu-system-x86_64",
  machine = { type = "q35", options = { ["confidential-guest-support"] = "tdx0" } },
  devices = { qemu.object { type = "tdx-guest", id = "tdx0", qgs_port = 4050, sept_ve_disable = true } } }
]])
    local code, out, err = H.qlua("--json", path)
    assert.are.equal(0, code, err)
    local argv = qemu.json_decode(out).argv
    assert.are.equal("-object", argv[4])
    assert.are.equal('{"qom-type":"tdx-guest","id":"tdx0","sept-ve-disable":true,' ..
                     '"quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}', argv[5])
    assert.are.same({ ["qom-type"] = "tdx-guest", id = "tdx0", ["sept-ve-disable"] = true,
                      ["quote-generation-socket"] = { type = "vsock", cid = "2", port = "4050" } },
                    qemu.json_decode(argv[5]))
  end)

  it("ccw from the binary alone, and from the machine type alone", function()
    local function names(vm)
      local out = {}
      for i, a in ipairs(qemu.argv(vm)) do
        if qemu.argv(vm)[i - 1] == "-device" then out[#out + 1] = a:match("^[^,]*") end
      end
      return out
    end
    assert.are.same({ "virtio-blk-ccw" }, names { path = "qemu-system-s390x",
      devices = { qemu.block { id = "hd0", file = "/d", format = "raw" } } })
    assert.are.same({ "virtio-blk-ccw" }, names { path = "qemu-system-x86_64", machine = { type = "s390-ccw-virtio-7.2" },
      devices = { qemu.block { id = "hd0", file = "/d", format = "raw" } } })
    -- QLUA_QEMU decides for a description without path: it is the binary that runs
    local code, out = H.sh("QLUA_QEMU=/opt/qemu/bin/qemu-system-s390x " .. H.qlua_cmd .. " -e " ..
      H.q('print(qemu.argv{ devices = { qemu.serial { id = "s0" } } }[3])'))
    assert.are.equal(0, code)
    assert.are.equal("virtio-serial-ccw,id=s0\n", out)
  end)

  it("dev.driver is nil until a VM decides it; describe() has the names per transport", function()
    local d = qemu.block { id = "hd0", file = "/d", format = "raw" }
    assert.is_nil(d.driver)
    assert.is_nil(d.transport)
    assert.are.equal("scsi-hd", qemu.block { id = "sd0", file = "/d", format = "raw", interface = "scsi" }.driver)
    assert.are.equal("virtio-blk-device", qemu.block { id = "hd0", file = "/d", format = "raw",
                                                       driver = "virtio-blk-device" }.driver)
    assert.are.same({ pci = "virtio-blk-pci", mmio = "virtio-blk-device", ccw = "virtio-blk-ccw" },
      qemu.describe("block").transports)
    assert.are.same({ pci = "vhost-user-blk-pci", mmio = "vhost-user-blk" }, qemu.describe("vhost_user").transports.blk)
    assert.are.equal("vhost_user_type", qemu.describe("vhost_user").transports.by)
    assert.are.same({ pci = "vfio-pci", ccw = "vfio-ccw", ap = "vfio-ap" }, qemu.describe("vfio").transports)
    for _, f in ipairs(qemu.describe("block").fields) do
      if f.name == "driver" then assert.is_nil(f.default) end
    end
    assert.is_nil(qemu.describe("iommu").transports)
  end)

  describe("fields a transport does not have are errors", function()
    local function err(vm)
      local ok, e = pcall(qemu.argv, vm)
      assert.is_false(ok)
      return (tostring(e):gsub("^[^:]*:%d+: ", ""))
    end
    local mv = { type = "microvm" }
    it("PCI fields on mmio and ccw", function()
      assert.are.equal("devices[1] (block): field 'addr': PCI only, but this device uses the mmio transport " ..
        "(from machine type 'microvm')", err { machine = mv, devices = {
          qemu.block { id = "hd0", file = "/d", format = "raw", addr = 3 } } })
      assert.are.equal("devices[1] (rng): field 'romfile': PCI only, but this device uses the ccw transport " ..
        "(from qemu-system-s390x)", err { path = "qemu-system-s390x", devices = {
          qemu.rng { id = "rng0", romfile = "/r.rom" } } })
      assert.are.equal("devices[1] (balloon): field 'disable_modern': PCI only, but this device uses the mmio " ..
        "transport (from its 'transport' field)", err { devices = {
          qemu.balloon { disable_modern = true, transport = "mmio" } } })
      assert.are.equal("devices[2] (fsdev): field 'bus': 'br0' is not a virtio-mmio bus, and this device uses the " ..
        "mmio transport (from machine type 'microvm'); leave 'bus' out, or give 'virtio-mmio-bus.N'",
        err { machine = mv, devices = { qemu.bridge { type = "pci", bus = "pci.0", id = "br0", chassis = 1 },
          qemu.fsdev { id = "fs0", path = "/s", mount_tag = "s", security_model = "none", bus = "br0" } } })
      assert.are.equal("devices[1] (serial): field 'bus': 'pcie.0' is not an s390 channel bus, and this device uses " ..
        "the ccw transport (from machine type 's390-ccw-virtio'); ccw devices are placed with 'devno'",
        err { machine = { type = "s390-ccw-virtio" }, devices = { qemu.serial { id = "s0", bus = "pcie.0" } } })
      assert.are.equal("devices[1] (vfio): field 'bdf': PCI only, but this device uses the ccw transport " ..
        "(from qemu-system-s390x)", err { path = "/usr/bin/qemu-system-s390x", devices = {
          qemu.vfio { bdf = "00:01.0" } } })
    end)

    it("devno only with ccw, once per VM", function()
      assert.are.equal("devices[1] (block): field 'devno': only used with the ccw transport, and this device uses " ..
        "pci (from machine type 'q35')", err { machine = { type = "q35" }, devices = {
          qemu.block { id = "hd0", file = "/d", format = "raw", devno = "fe.0.0001" } } })
      assert.are.equal("devices[2] (rng): field 'devno': 'FE.0.0001' is devices[1]'s too (each ccw device needs " ..
        "its own)", err { path = "qemu-system-s390x", devices = {
          qemu.balloon { devno = "fe.0.0001" }, qemu.rng { id = "r", devno = "FE.0.0001" } } })
      local ok, e = pcall(qemu.block, { id = "hd0", file = "/d", format = "raw", devno = "ff.0.0001" })
      assert.is_false(ok)
      assert.matches("block: field 'devno': invalid ccw device number 'ff.0.0001' (expected cssid.ssid.devno in " ..
        "hex like fe.0.0001: cssid 0..fe, ssid 0..3, four digits)", e, 1, true)
    end)

    it("kinds QEMU has no such transport for", function()
      assert.are.equal("devices[1] (vhost_user): QEMU has no ccw transport for vhost_user 'blk' (from " ..
        "qemu-system-s390x)", err { path = "qemu-system-s390x", devices = {
          qemu.vhost_user { vhost_user_type = "blk", socket_path = "/s", chardev_id = "c0" } } })
      assert.are.equal("devices[1] (vhost_user): field 'transport': QEMU has no ccw transport for vhost_user 'scsi'",
        err { devices = { qemu.vhost_user { vhost_user_type = "scsi", socket_path = "/s", chardev_id = "c0",
                                            type_dev_id = "sc0", transport = "ccw" } } })
      assert.are.equal("devices[1] (vfio): QEMU has no mmio transport for vfio (from machine type 'microvm'); " ..
        "a microvm has PCI with machine.options.pcie = true", err { machine = mv, devices = {
          qemu.vfio { bdf = "00:01.0" } } })
      local ok, e = pcall(qemu.block, { id = "hd0", file = "/d", format = "raw", transport = "ap" })
      assert.is_false(ok)
      assert.matches("field 'transport': invalid option 'ap' (expected 'pci', 'mmio' or 'ccw')", e, 1, true)
    end)
  end)
end)
