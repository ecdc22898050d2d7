-- spec/recipes_spec.lua - qemu.merge and qemu.recipes (lua/qemu/merge.lua,
-- lua/qemu/recipes.lua), in pure Lua against the real qemu module: the merge
-- rules one by one, what recipe compositions give to qemu.argv (compared with
-- literal argument lists), the exact text and line of every class of error,
-- overlays made with qemu-img, and one real boot of the test guest composed
-- from recipes.
--
-- Error texts are compared whole, "file:line: " included.  Snippets run as
-- the chunk "vm.lua" (as in errors_spec.lua), so their lines are the lines of
-- the source text.
local H = require "helper"
local G = require "support.guest"
local qemu = require "qemu"
local merge = require "qemu.merge"
local recipes = require "qemu.recipes"

local q = H.q

-- ---- helpers ----------------------------------------------------------------

local function chunk(src)
  local env = setmetatable({ qemu = qemu, merge = merge, recipes = recipes }, { __index = _G })
  return assert(load(src, "=vm.lua", "t", env))
end

-- Runs src; returns the error it raised (fails if it raised none).
local function err(src)
  local ok, e = pcall(chunk(src))
  assert(not ok, "expected an error from:\n" .. src)
  return e
end

-- qemu.argv(vm) without the binary (argv[1] depends on $QLUA_QEMU).
local function args(vm)
  local argv = qemu.argv(vm)
  return { table.unpack(argv, 2) }
end

-- A deep, printable copy of plain data (devices as "qemu.KIND(id)").
local function snapshot(v)
  if type(v) == "userdata" then return tostring(v) end
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = snapshot(x) end
  return t
end

-- pairs(dev) as a plain table.
local function fields(dev)
  local t = {}
  for k, v in pairs(dev) do t[k] = v end
  return t
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local FORMATS = "(expected 'raw', 'qcow2', 'qcow', 'qed', 'vmdk', 'vdi', 'vhdx', 'vpc', 'luks', " ..
  "'parallels', 'dmg', 'cloop' or 'bochs')"

-- The host's TSC rate as microvm{} reads it.
local function host_khz()
  for line in io.lines("/proc/cpuinfo") do
    local mhz = line:match("^cpu MHz%s*:%s*([%d.]+)")
    if mhz then return math.floor(tonumber(mhz) * 1000 + 0.5) end
  end
end

-- A fake guest directory (empty vmlinux and initrd.gz): test_guest's argv.
local function fake_guest()
  local d = H.tmpdir()
  H.write(d .. "/vmlinux", "")
  H.write(d .. "/initrd.gz", "")
  return d
end

local function img_info(path)
  local code, out, e = H.sh("qemu-img info --output=json " .. q(path))
  assert.are.equal(0, code, e)
  local function field(name)
    return out:match('"' .. name .. '":%s*"([^"]*)"') or out:match('"' .. name .. '":%s*(%d+)')
  end
  return field
end

-- ---- qemu.merge ------------------------------------------------------------------

describe("qemu.merge", function()
  local hd0, fs0
  before_each(function()
    hd0 = qemu.block { id = "hd0", file = "a.img", format = "raw" }
    fs0 = qemu.fsdev { id = "fs0", path = "/srv", mount_tag = "share", security_model = "none" }
  end)

  it("a name it does not have is an error at the line that used it, through qemu.merge too", function()
    assert.are.equal("vm.lua:2: no function 'delte' in qemu.merge (did you mean 'delete'?)",
      err("local x = 1\nreturn merge({}, { a = merge.delte })"))
    assert.are.equal("vm.lua:1: no function 'replce' in qemu.merge (did you mean 'replace'?)",
      err("return qemu.merge({}, { a = qemu.merge.replce(1) })"))
    assert.are.equal("vm.lua:1: no function 'append' in qemu.merge (it has delete and replace; merging is "
      .. "qemu.merge(...) itself)", err("return merge.append({}, {})"))
    assert.is_nil(rawget(merge, "append"))
  end)

  it("returns a new table and never changes its arguments", function()
    local base = { machine = { type = "q35", options = { nvdimm = true } }, devices = { hd0 },
                   extra_args = { "-S" }, kernel = { path = "k", params = "a" } }
    local over = { machine = { accel = "tcg" }, devices = { fs0 }, extra_args = { "-snapshot" },
                   kernel = { params = "b" }, memory = { size = "1G" } }
    local b0, o0 = snapshot(base), snapshot(over)
    local r = merge(base, over)
    assert.are.same(b0, snapshot(base))
    assert.are.same(o0, snapshot(over))
    assert.are_not.equal(base, r)
    assert.are_not.equal(over, r)
    assert.are_not.equal(base.machine, r.machine)
    assert.are_not.equal(base.machine.options, r.machine.options)
    assert.are_not.equal(over.memory, r.memory)
    assert.are_not.equal(base.devices, r.devices)
    -- one argument: a copy
    local c = merge(base)
    assert.are.same(b0, snapshot(c))
    assert.are_not.equal(base, c)
    assert.are_not.equal(base.kernel, c.kernel)
  end)

  it("merges maps recursively; the override wins for scalars", function()
    local r = merge(
      { name = "a", machine = { type = "pc", options = { nvdimm = true, vmport = false } },
        memory = { size = "1G", slots = 2 }, knobs = { no_defaults = true } },
      { name = "b", machine = { type = "q35", options = { vmport = true } },
        memory = { size = 1073741824 }, knobs = { no_reboot = true } })
    assert.are.same({
      name = "b",
      machine = { type = "q35", options = { nvdimm = true, vmport = true } },
      memory = { size = 1073741824, slots = 2 },
      knobs = { no_defaults = true, no_reboot = true },
    }, r)
  end)

  it("appends devices, extra_args, global and qmp (a string is a list of one)", function()
    local hd1 = qemu.block { id = "hd1", file = "b.img", format = "raw" }
    local r = merge(
      { devices = { hd0 }, extra_args = { "-S" }, global = "kvm-pit.lost_tick_policy=discard",
        qmp = { { path = "/run/a.qmp", server = true, wait = false } } },
      { devices = { fs0, hd1 }, extra_args = "-snapshot", global = { "ICH9-LPC.disable_s3=1" },
        qmp = { { path = "/run/b.qmp", server = true, wait = false } } })
    assert.are.equal(3, #r.devices)
    assert.are.equal(hd0, r.devices[1])
    assert.are.equal(fs0, r.devices[2])
    assert.are.equal(hd1, r.devices[3])
    assert.are.same({ "-S", "-snapshot" }, r.extra_args)
    assert.are.same({ "kvm-pit.lost_tick_policy=discard", "ICH9-LPC.disable_s3=1" }, r.global)
    assert.are.same({ { path = "/run/a.qmp", server = true, wait = false },
                      { path = "/run/b.qmp", server = true, wait = false } }, r.qmp)
    assert.are.same({
      "-chardev", "socket,id=qlua-qmp0,path=/run/a.qmp,server=on,wait=off",
      "-mon", "chardev=qlua-qmp0,mode=control",
      "-chardev", "socket,id=qlua-qmp1,path=/run/b.qmp,server=on,wait=off",
      "-mon", "chardev=qlua-qmp1,mode=control",
      "-drive", "id=hd0,file=a.img,format=raw,if=none", "-device", "virtio-blk-pci,drive=hd0,serial=hd0",
      "-fsdev", "local,id=fs0,path=/srv,security_model=none",
      "-device", "virtio-9p-pci,fsdev=fs0,mount_tag=share",
      "-drive", "id=hd1,file=b.img,format=raw,if=none", "-device", "virtio-blk-pci,drive=hd1,serial=hd1",
      "-global", "kvm-pit.lost_tick_policy=discard", "-global", "ICH9-LPC.disable_s3=1",
      "-S", "-snapshot",
    }, args(r))
  end)

  it("replaces a base device with the same id in place", function()
    local new = qemu.block { id = "hd0", file = "b.qcow2", format = "qcow2" }
    local net = qemu.netdev { type = "tap", id = "net0", ifname = "tap0" }
    local r = merge({ devices = { hd0, fs0 } }, { devices = { net, new } })
    assert.are.equal(3, #r.devices)
    assert.are.equal(new, r.devices[1])
    assert.are.equal(fs0, r.devices[2])
    assert.are.equal(net, r.devices[3])
    -- only base items are replaced: two equal ids in one override both stay
    -- (and qemu.argv reports the duplicate)
    local r2 = merge({ devices = { fs0 } }, { devices = { hd0, new } })
    assert.are.same({ "qemu.fsdev(fs0)", "qemu.block(hd0)", "qemu.block(hd0)" }, snapshot(r2.devices))
  end)

  it("merges a plain table with a base device's id into that device", function()
    local r = merge({ devices = { fs0, hd0 } }, { devices = { { id = "hd0", format = "qcow2", read_only = true } } })
    assert.are.equal(2, #r.devices)
    assert.are.equal(fs0, r.devices[1])
    local d = r.devices[2]
    assert.are.equal("block", qemu.kind(d))
    assert.are.equal("qcow2", d.format)
    assert.are.equal("a.img", d.file)
    assert.is_true(d.read_only)
    assert.are.equal("raw", hd0.format)   -- the base's device is unchanged
  end)

  it("replaces other lists whole", function()
    assert.are.same({ x = { 3 } }, merge({ x = { 1, 2 } }, { x = { 3 } }))
    local a, b = qemu.socketpair()
    local c = qemu.socketpair()
    local net = qemu.netdev { type = "tap", id = "net0", fds = { a, b } }
    local r = merge(net, { fds = { c } })
    assert.are.equal(1, #r.fds)
    assert.are.equal(c, r.fds[1])
  end)

  it("joins kernel.params with a space", function()
    local r = merge({ kernel = { path = "k", params = "console=ttyS0" } }, { kernel = { params = "quiet" } },
      { kernel = { params = "" } }, { kernel = { params = "panic=-1" } })
    assert.are.same({ path = "k", params = "console=ttyS0 quiet panic=-1" }, r.kernel)
    assert.are.same({ params = "quiet" }, merge({ kernel = { params = "" } }, { kernel = { params = "quiet" } }).kernel)
  end)

  it("rebuilds a device merged with a table through its constructor (checked again)", function()
    local d = merge(hd0, { format = "qcow2", aio = "threads" })
    assert.are.equal("block", qemu.kind(d))
    assert.are_not.equal(hd0, d)
    -- (no driver: a virtio-blk's is decided when the VM is rendered, by its transport)
    assert.are.same({ id = "hd0", file = "a.img", format = "qcow2", aio = "threads",
                      interface = "none" }, fields(d))
    assert.are.same({ id = "hd0", file = "a.img", format = "raw",
                      interface = "none" }, fields(hd0))
    assert.are.same({ "-drive", "id=hd0,file=a.img,aio=threads,format=qcow2,if=none",
                      "-device", "virtio-blk-pci,drive=hd0,serial=hd0" }, args { devices = { d } })
    -- qemu.device{}: its free properties too
    local nic = qemu.device { driver = "e1000", id = "nic0", mac = "52:54:00:00:00:01" }
    local nic2 = merge(nic, { mac = "52:54:00:00:00:02", bootindex = 2 })
    assert.are.equal("device", qemu.kind(nic2))
    assert.are.same({ driver = "e1000", id = "nic0", mac = "52:54:00:00:00:02", bootindex = 2 }, fields(nic2))
    -- a device in the override replaces the base's
    local other = qemu.block { id = "hd9", file = "z", format = "raw" }
    assert.are.equal(other, merge(hd0, other))
  end)

  it("leaves the kind's defaults out of a rebuilt device: the constructor works them out again", function()
    -- pairs() shows the default driver virtio-blk-pci for a SCSI disk too;
    -- passing it back would turn the scsi-hd into a virtio-blk-pci
    local ctl = qemu.device { driver = "virtio-scsi-pci", id = "scsi0" }
    local sd = qemu.block { id = "sd0", file = "a.img", format = "raw", interface = "scsi", bus = "scsi0.0" }
    local r = merge(sd, { format = "qcow2" })
    assert.are.same({ "-device", "virtio-scsi-pci,id=scsi0",
                      "-drive", "id=sd0,file=a.img,format=qcow2,if=none",
                      "-device", "scsi-hd,drive=sd0,bus=scsi0.0" }, args { devices = { ctl, r } })
    -- and a field that only the old value allowed may go with a new one
    local ide = merge(hd0, { interface = "ide" })
    assert.are.same({ "-drive", "id=hd0,file=a.img,format=raw,if=ide" }, args { devices = { ide } })
  end)

  it("merge.delete removes a key; on a device, a field", function()
    assert.are.equal("qemu.merge.delete", tostring(merge.delete))
    assert.has_error(function() merge.delete.x = 1 end, "qemu.merge.delete cannot be changed")
    local r = merge({ memory = { size = "1G", slots = 2, maxmem = "4G" }, vga = "std", name = "x" },
      { memory = { slots = merge.delete, maxmem = merge.delete }, vga = merge.delete, cpu_model = merge.delete })
    assert.are.same({ memory = { size = "1G" }, name = "x" }, r)
    local ro = qemu.block { id = "hd0", file = "a.img", format = "raw", read_only = true }
    local rw = merge(ro, { read_only = merge.delete })
    assert.is_nil(rw.read_only)
    assert.are.same({ "-drive", "id=hd0,file=a.img,format=raw,if=none", "-device", "virtio-blk-pci,drive=hd0,serial=hd0" },
      args { devices = { rw } })
    -- a delete in the first argument is no key either
    assert.are.same({ a = 1 }, merge({ a = 1, b = merge.delete }))
  end)

  it("merge.delete(x) removes the items of a list with the id x, or equal to x", function()
    assert.are.equal("qemu.merge.delete('hd0')", tostring(merge.delete("hd0")))
    local r = merge({ devices = { hd0, fs0 }, extra_args = { "-S", "-snapshot", "-S" } },
      { devices = { merge.delete("hd0") }, extra_args = { merge.delete("-S"), "-no-hpet" } })
    assert.are.equal(1, #r.devices)
    assert.are.equal(fs0, r.devices[1])
    assert.are.same({ "-snapshot", "-no-hpet" }, r.extra_args)
    assert.are.equal("vm.lua:2: merge: field 'devices[1]': qemu.merge.delete('hd7'): no item of 'devices' has this id or value",
      err('local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }\n' ..
          'local r = merge({ devices = { d } }, { devices = { merge.delete("hd7") } })'))
  end)

  it("merge.replace(v) takes v whole instead of merging", function()
    local r = merge({ devices = { hd0 }, kernel = { path = "k", initrd = "i", params = "a b" } },
      { devices = merge.replace { fs0 }, kernel = { params = merge.replace "c" } })
    assert.are.equal(1, #r.devices)
    assert.are.equal(fs0, r.devices[1])
    assert.are.same({ path = "k", initrd = "i", params = "c" }, r.kernel)
    assert.are.same({ machine = "x" }, merge({ machine = { type = "pc" } }, { machine = merge.replace "x" }))
    assert.are.same({ m = { b = 2 } }, merge({ m = { a = 1 } }, { m = merge.replace { b = 2 } }))
    assert.are.equal("qemu.merge.replace('c')", tostring(merge.replace("c")))
  end)

  it("folds more than two arguments left and skips nil arguments", function()
    assert.are.same({}, merge())
    assert.are.same({}, merge(nil))
    assert.are.same({}, merge(nil, nil))
    local r = merge(nil, { a = 1, l = { x = 1 }, extra_args = { "-a" } }, nil, { a = 2, extra_args = { "-b" } },
      { l = { y = 2 }, extra_args = { "-c" } }, nil)
    assert.are.same({ a = 2, l = { x = 1, y = 2 }, extra_args = { "-a", "-b", "-c" } }, r)
    -- the same as merging two at a time
    local a, b, c = { devices = { hd0 }, m = { 1 } }, { devices = { { id = "hd0", format = "qcow2" } } }, { m = { 2 } }
    assert.are.same(snapshot(merge(merge(a, b), c)), snapshot(merge(a, b, c)))
    local d = merge(hd0, { format = "qcow2" }, nil, { read_only = true })
    assert.are.equal("qcow2", d.format)
    assert.is_true(d.read_only)
  end)

  it("records a rebuilt device as built at the line of the merge", function()
    -- (a cross-device error names the line where the offending device was built)
    assert.are.equal("vm.lua:1: devices[2] (block): field 'id': duplicate drive id 'hd0' " ..
      "(devices[1] (block) at vm.lua:2 has it too)", err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local e = merge(d, { file = "b.img" })
return qemu.argv { devices = { e, d } }
]]))
  end)

  describe("errors name the path and the caller's line", function()
    it("a table into a string", function()
      assert.are.equal("vm.lua:3: merge: field 'memory.size': cannot merge a table into a string " ..
        "(merge.replace(value) replaces it)", err([[
local base = { memory = { size = "1G" } }
local x = 1
local r = merge(base, { memory = { size = { 1 } } })
]]))
    end)

    it("a scalar into a table, at any depth", function()
      assert.are.equal("vm.lua:1: merge: field 'machine.options': cannot merge a boolean into a table " ..
        "(merge.replace(value) replaces it)",
        err('local r = merge({ machine = { options = { nvdimm = true } } }, { machine = { options = true } })'))
      assert.are.equal("vm.lua:1: merge: field 'kernel': cannot merge an integer into a table " ..
        "(merge.replace(value) replaces it)",
        err('local r = merge({ kernel = { path = "k" } }, nil, { kernel = 3 })'))
    end)

    it("a device into a table or a string", function()
      assert.are.equal("vm.lua:2: merge: field 'machine': cannot merge a device (block) into a table " ..
        "(merge.replace(value) replaces it)", err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local r = merge({ machine = { type = "pc" } }, { machine = d })
]]))
      assert.are.equal("vm.lua:2: merge: argument 2: cannot merge a device (block) into a table", err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local r = merge({}, d)
]]))
    end)

    it("an argument that is neither a table nor a device", function()
      assert.are.equal("vm.lua:1: merge: argument 3: expected a table or a device value, got a string",
        err('local r = merge({}, nil, "q35")'))
      -- called straight from here: this file's line
      local a = qemu.socketpair()
      local line, ok, e = debug.getinfo(1, "l").currentline, pcall(merge, a)
      assert.is_false(ok)
      assert.are.equal(("%s:%d: merge: argument 1: expected a table or a device value, got a qemu.fd")
        :format(debug.getinfo(1, "S").short_src, line), e)
    end)

    it("merge.delete in a list, merge.delete(x) outside one, a map where a list goes", function()
      assert.are.equal("vm.lua:1: merge: field 'extra_args[2]': merge.delete without an argument deletes a field; " ..
        "in a list, merge.delete(id or value) deletes an item",
        err('local r = merge({ extra_args = { "-S" } }, { extra_args = { "-a", merge.delete } })'))
      assert.are.equal("vm.lua:1: merge: field 'vga': qemu.merge.delete('std') deletes an item of a list " ..
        "(devices, extra_args, ...); merge.delete deletes a field",
        err('local r = merge({ vga = "std" }, { vga = merge.delete("std") })'))
      assert.are.equal("vm.lua:1: merge: field 'devices': expected a list, got a table with the key 'hd0'",
        err('local r = merge({ devices = {} }, { devices = { hd0 = true } })'))
      assert.are.equal("vm.lua:1: merge.delete(x): x (an id or a value) expected, got nil",
        err('local r = merge.delete(nil)'))
    end)

    it("a plain table merged into a device id that no device has: the ids there are", function()
      assert.are.equal("vm.lua:4: merge: field 'devices[1]': no device has id 'hd1' (ids: 'hd0', 'net0')", err([[
local base = { devices = {
  qemu.block { id = "hd0", file = "a.img", format = "raw" },
  qemu.netdev { id = "net0", type = "tap", ifname = "tap0" } } }
local r = merge(base, { devices = { { id = "hd1", format = "qcow2" } } })
]]))
      -- a device value that came in with the override is not merged into
      assert.are.equal("vm.lua:2: merge: field 'devices[2]': no device has id 'hd1' (ids: 'hd0')", err([[
local base = { devices = { qemu.block { id = "hd0", file = "a.img", format = "raw" } } }
local r = merge(base, { devices = { qemu.block { id = "hd1", file = "b", format = "raw" }, { id = "hd1", format = "qcow2" } } })
]]))
      assert.are.equal("vm.lua:1: merge: field 'devices[1]': no device has id 'hd0' (no devices to merge into)",
        err('local r = merge({ name = "x" }, { devices = { { id = "hd0", format = "qcow2" } } })'))
      assert.are.equal("vm.lua:2: merge: field 'devices[1]': no device has id 'hd1' (no device has an id)", err([[
local base = { devices = { qemu.device { driver = "virtio-rng-pci" } } }
local r = merge(base, { devices = { { id = "hd1", format = "qcow2" } } })
]]))
    end)

    it("a rebuilt device that its constructor refuses", function()
      assert.are.equal("vm.lua:2: merge: block: field 'format': invalid option 'qcow3' " .. FORMATS, err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local r = merge(d, { format = "qcow3" })
]]))
      assert.are.equal("vm.lua:2: merge: block: unknown field 'fromat' (did you mean 'format'?)", err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local r = merge(d, { fromat = "qcow2" })
]]))
      assert.are.equal("vm.lua:2: merge: block: field 'file' is required", err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local r = merge(d, { file = merge.delete })
]]))
      assert.are.equal("vm.lua:3: merge: devices[2] (block): field 'format': invalid option 'qcow3' " .. FORMATS, err([[
local d = qemu.block { id = "hd0", file = "a.img", format = "raw" }
local base = { devices = { d } }
local r = merge(base, { devices = { qemu.block { id = "hd1", file = "b", format = "raw" }, { id = "hd0", format = "qcow3" } } })
]]))
    end)

    it("a tail call leaves no line to name: the error names none rather than a wrong one", function()
      -- `return f(...)` drops the caller's frame before a Lua function runs
      assert.are.equal("merge: field 'a': cannot merge a table into a string (merge.replace(value) replaces it)",
        err('local x = 1\nreturn merge({ a = "s" }, { a = {} })'))
      assert.are.equal("recipes.disk: unknown field 'fiel' (did you mean 'file'?)",
        err('local x = 1\nreturn recipes.disk { fiel = "a.img" }'))
      assert.are.equal("vm.lua:2: recipes.disk: unknown field 'fiel' (did you mean 'file'?)",
        err('local x = 1\nreturn (recipes.disk { fiel = "a.img" })'))
    end)

    it("through qemu.merge too", function()
      if not qemu.merge then
        pending("qemu.merge is not wired in this build")
        return
      end
      assert.are.equal("vm.lua:2: merge: field 'memory.size': cannot merge a table into a string " ..
        "(merge.replace(value) replaces it)", err([[
local base = { memory = { size = "1G" } }
return qemu.merge(base, { memory = { size = {} } })
]]))
      assert.are.same({ extra_args = { "-a", "-b" } }, qemu.merge({ extra_args = { "-a" } }, { extra_args = { "-b" } }))
    end)
  end)
end)

-- ---- qemu.recipes ----------------------------------------------------------------

describe("qemu.recipes", function()
  it("a name it does not have is an error at the line that used it, saying what there is", function()
    assert.are.equal("vm.lua:2: no recipe or function 'dsk' in qemu.recipes (did you mean 'disk'?)",
      err("local x = 1\nreturn recipes.dsk { file = 'a.img' }"))
    assert.are.equal("vm.lua:1: no recipe or function 'merge' in qemu.recipes (it has cloud_init, debian, "
      .. "disk, guest_dir, linux, microvm, pc, q35, serial_console, share, tap, test_guest, transport, uefi; "
      .. "descriptions merge with qemu.merge)", err("return recipes.merge({}, {})"))
    -- probing stays quiet; run_dir is a setting, nil until set
    assert.is_nil(rawget(recipes, "merge"))
    assert.is_nil(recipes.run_dir)
    assert.is_nil(recipes[1])
  end)

  it("q35 + linux + disk", function()
    local vm = merge(
      recipes.q35(),
      recipes.linux { kernel = "/boot/vmlinuz", initrd = "/boot/initrd.img", append = "root=/dev/vda ro" },
      recipes.disk { file = "/var/lib/vm/disk.img", format = "raw" })
    assert.are.same({
      "-machine", "q35", "-accel", "tcg",
      "-drive", "id=disk.img,file=/var/lib/vm/disk.img,format=raw,if=none",
      "-device", "virtio-blk-pci,drive=disk.img,serial=disk.img",
      "-kernel", "/boot/vmlinuz", "-initrd", "/boot/initrd.img", "-append", "root=/dev/vda ro",
    }, args(vm))
  end)

  it("pc + serial_console + linux + share + tap + a read-only disk, in any order", function()
    local parts = {
      recipes.pc { accel = "kvm", cpu = "max", options = { vmport = false } },
      recipes.serial_console(),
      recipes.linux { kernel = "/k", append = { "quiet", "panic=-1" } },
      recipes.share { path = "/srv/a,b", tag = "share0" },
      recipes.tap { ifname = "tap0", mac = "52:54:00:12:34:56" },
      recipes.disk { file = "/srv/base.qcow2", format = "qcow2", readonly = true, id = "root" },
      { memory = { size = "512M" } },
    }
    assert.are.same({
      "-machine", "pc,vmport=off", "-accel", "kvm", "-cpu", "max", "-m", "512M",
      "-fsdev", "local,id=share0,path=/srv/a,,b,security_model=none",
      "-device", "virtio-9p-pci,fsdev=share0,mount_tag=share0",
      "-netdev", "tap,id=tap0,ifname=tap0,script=no,downscript=no",
      "-device", "virtio-net-pci,netdev=tap0,mac=52:54:00:12:34:56",
      "-drive", "id=root,file=/srv/base.qcow2,format=qcow2,if=none,readonly=on",
      "-device", "virtio-blk-pci,drive=root,serial=root",
      "-kernel", "/k", "-append", "console=ttyS0 quiet panic=-1",
    }, args(merge(table.unpack(parts))))
    -- the other way round: the same options, devices and words in reverse order
    local rev = {}
    for i = #parts, 1, -1 do rev[#rev + 1] = parts[i] end
    assert.are.same({
      "-machine", "pc,vmport=off", "-accel", "kvm", "-cpu", "max", "-m", "512M",
      "-drive", "id=root,file=/srv/base.qcow2,format=qcow2,if=none,readonly=on",
      "-device", "virtio-blk-pci,drive=root,serial=root",
      "-netdev", "tap,id=tap0,ifname=tap0,script=no,downscript=no",
      "-device", "virtio-net-pci,netdev=tap0,mac=52:54:00:12:34:56",
      "-fsdev", "local,id=share0,path=/srv/a,,b,security_model=none",
      "-device", "virtio-9p-pci,fsdev=share0,mount_tag=share0",
      "-kernel", "/k", "-append", "quiet panic=-1 console=ttyS0",
    }, args(merge(table.unpack(rev))))
  end)

  it("microvm: tsc_early_khz on the kernel command line, virtio-mmio devices with transport = 'mmio'", function()
    local vm = merge(
      recipes.microvm { tsc_early_khz = 2500000 },
      recipes.linux { kernel = "/k", initrd = "/i" },
      recipes.serial_console(),
      recipes.disk { file = "/d.img", format = "raw", transport = "mmio" },
      recipes.share { path = "/srv", tag = "s", transport = "mmio" },
      recipes.tap { ifname = "tap0", transport = recipes.transport("microvm") })
    assert.are.same({
      "-machine", "microvm", "-accel", "tcg",
      "-drive", "id=d.img,file=/d.img,format=raw,if=none", "-device", "virtio-blk-device,drive=d.img,serial=d.img",
      "-fsdev", "local,id=s,path=/srv,security_model=none", "-device", "virtio-9p-device,fsdev=s,mount_tag=s",
      "-netdev", "tap,id=tap0,ifname=tap0,script=no,downscript=no", "-device", "virtio-net-device,netdev=tap0",
      "-kernel", "/k", "-initrd", "/i", "-append", "tsc_early_khz=2500000 console=ttyS0",
    }, args(vm))
    -- without transport: qlua picks mmio for microvm itself (the same command line)
    assert.are.same(args(vm), args(merge(
      recipes.microvm { tsc_early_khz = 2500000 },
      recipes.linux { kernel = "/k", initrd = "/i" },
      recipes.serial_console(),
      recipes.disk { file = "/d.img", format = "raw" },
      recipes.share { path = "/srv", tag = "s" },
      recipes.tap { ifname = "tap0" })))
    -- by default, the host's rate from /proc/cpuinfo
    local khz = host_khz()
    if khz then
      assert.are.same({ machine = { type = "microvm", accel = "tcg" },
                        kernel = { params = "tsc_early_khz=" .. khz } }, recipes.microvm())
    end
    -- false: none (a microvm without a kernel of its own)
    assert.are.same({ machine = { type = "microvm", accel = "tcg" } }, recipes.microvm { tsc_early_khz = false })
    assert.are.same({ "-machine", "microvm", "-accel", "tcg" }, args(recipes.microvm { tsc_early_khz = false }))
    assert.are.equal("mmio", recipes.transport("microvm"))
    assert.are.equal("pci", recipes.transport("q35"))
  end)

  it("accel = 'auto' is kvm when qemu.kvm_usable() says KVM runs a test vCPU, else tcg (spec/kvm_spec.lua)", function()
    local ok = qemu.kvm_usable()
    assert.are.same({ machine = { type = "q35", accel = ok and "kvm" or "tcg" } }, recipes.q35 { accel = "auto" })
  end)

  it("serial_console and linux are kernel command line parts", function()
    assert.are.same({ kernel = { params = "console=ttyS0" } }, recipes.serial_console())
    assert.are.same({ kernel = { params = "console=ttyS0" } }, recipes.serial_console {})
    assert.are.same({ kernel = { path = "/k" } }, recipes.linux { kernel = "/k" })
    assert.are.same({ kernel = { path = "/k", params = "a b" } }, recipes.linux { kernel = "/k", append = { "a", "b" } })
  end)

  it("disk ids: the file's name by default (a valid QEMU id)", function()
    assert.are.equal("disk.img", recipes.disk { file = "/a/disk.img", format = "raw" }.devices[1].id)
    assert.are.equal("disk-1_2.img", recipes.disk { file = "1 2.img", format = "raw" }.devices[1].id)
    -- two disks with different names both stay; the same id replaces
    local vm = merge(recipes.disk { file = "/a/x.img", format = "raw" }, recipes.disk { file = "/b/y.img", format = "raw" })
    assert.are.same({ "qemu.block(x.img)", "qemu.block(y.img)" }, snapshot(vm.devices))
    vm = merge(vm, recipes.disk { file = "/c/x.img", format = "qcow2", id = "x.img" })
    assert.are.same({ "qemu.block(x.img)", "qemu.block(y.img)" }, snapshot(vm.devices))
    assert.are.equal("/c/x.img", vm.devices[1].file)
    -- a descriptor: the id is needed
    local fd = qemu.open("/dev/null", "r")
    local d = recipes.disk { file = fd, format = "raw", id = "fd0", readonly = true }.devices[1]
    assert.are.equal(fd, d.file)
  end)

  it("tap: fds given, or queues qlua would open", function()
    local a, b = qemu.socketpair()
    local vm = recipes.tap { fds = { a, b }, id = "n0", mac = "52:54:00:00:00:02" }
    local argv, fds = qemu.argv(vm)
    assert.are.same({ "-netdev", "tap,id=n0,fds=3:4",
                      "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:02,mq=on,vectors=6" },
      { table.unpack(argv, 2) })
    assert.are.same({ a, b }, fds)
    assert.are.same({ "-netdev", "tap,id=net0,fd=3", "-device", "virtio-net-pci,netdev=net0" },
      args(recipes.tap { fds = a, queues = 1 }))
  end)

  it("test_guest: a whole bootable description", function()
    local d = fake_guest()
    assert.are.same({
      "-name", "guest=test-guest", "-machine", "q35", "-accel", "tcg", "-m", "256M",
      "-no-user-config", "-nodefaults", "-no-reboot",
      "-kernel", d .. "/vmlinux", "-initrd", d .. "/initrd.gz",
      "-append", "console=ttyS0 quiet panic=-1 no_timer_check qlua.9p=share qlua.blk",
    }, args(recipes.test_guest { checks = "qlua.9p=share qlua.blk", guest_dir = d }))
    local khz = host_khz()
    assert.are.same({
      "-name", "guest=mv", "-machine", "microvm", "-accel", "tcg", "-m", "128M",
      "-no-user-config", "-nodefaults", "-no-reboot",
      "-kernel", d .. "/vmlinux", "-initrd", d .. "/initrd.gz",
      "-append", (khz and ("tsc_early_khz=" .. khz .. " ") or "")
        .. "console=ttyS0 quiet panic=-1 no_timer_check qlua.blk=vda qlua.wait",
    }, args(recipes.test_guest { checks = { "qlua.blk=vda", "qlua.wait" }, machine = "microvm",
                                 memory = "128M", name = "mv", guest_dir = d }))
    -- no checks: the guest says READY and DONE, and powers off
    assert.are.equal("console=ttyS0 quiet panic=-1 no_timer_check",
      recipes.test_guest { guest_dir = d, machine = "pc" }.kernel.params)
  end)

  it("test_guest finds the guest through QLUA_GUEST_DIR, the source tree, or the qlua binary's tree", function()
    local d = fake_guest()
    local other = H.tmpdir()
    local script = H.write(other .. "/vm.lua", 'local vm = require("qemu.recipes").test_guest { checks = "qlua.blk" }\nreturn vm\n')
    -- $QLUA_GUEST_DIR, from any directory
    local code, out, e = H.sh("cd " .. q(other) .. " && QLUA_GUEST_DIR=" .. q(d) .. " " .. H.qlua_cmd .. " -n vm.lua")
    assert.are.equal(0, code, e)
    assert.truthy(out:find("-kernel " .. d .. "/vmlinux", 1, true), out)
    -- a QLUA_GUEST_DIR without a guest is an error, not a search elsewhere
    code, out, e = H.sh("cd " .. q(other) .. " && QLUA_GUEST_DIR=" .. q(other) .. " " .. H.qlua_cmd .. " -n vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: recipes.test_guest: no test guest (vmlinux and initrd.gz) in '" .. other ..
      "'; build it with scripts/build-guest.sh, or set QLUA_GUEST_DIR\n", e)
    -- the guest_dir option
    assert.are.equal(d .. "/vmlinux", recipes.test_guest { guest_dir = d }.kernel.path)
    -- without either: build/guest of this tree (the embedded library in the
    -- qlua binary, run from elsewhere, and the files on package.path here)
    if exists(G.kernel) and exists(G.initrd) then
      -- (the qlua binary's tree: make check-asan's build/asan/qlua has a
      -- build/guest link there; under make check-valgrind the binary that
      -- /proc tells is valgrind's, so that run cannot check this)
      if not os.getenv("QLUA_WRAP") then
        code, out, e = H.sh("cd " .. q(other) .. " && env -u QLUA_GUEST_DIR -u QLUA_PATH " .. H.qlua_cmd .. " -n vm.lua")
        assert.are.equal(0, code, e)
        local bintree = H.qlua_bin:match("^(.*)/[^/]+$")
        assert.truthy(out:find("-kernel " .. bintree .. "/build/guest/vmlinux", 1, true), out)
      end
      code, out, e = H.sh("cd " .. q(other) .. " && env -u QLUA_GUEST_DIR QLUA_PATH=" .. q(H.root .. "/lua") ..
        " " .. H.qlua_cmd .. " -n vm.lua")
      assert.are.equal(0, code, e)
      assert.truthy(out:find("-kernel " .. H.root .. "/build/guest/vmlinux", 1, true), out)
      if not os.getenv("QLUA_GUEST_DIR") then
        assert.are.equal(H.root .. "/build/guest", recipes.guest_dir())
      end
    end
  end)

  describe("option errors name the recipe and the caller's line", function()
    it("an unknown option, with the closest name", function()
      assert.are.equal("vm.lua:2: recipes.disk: unknown field 'fiel' (did you mean 'file'?)", err([[
local x = 1
local r = recipes.disk { fiel = "disk.img", format = "raw" }
]]))
      assert.are.equal("vm.lua:1: recipes.linux: unknown field 'cmdline'",
        err('local r = recipes.linux { kernel = "k", cmdline = "quiet" }'))
      assert.are.equal("vm.lua:1: recipes.q35: unknown field 'acel' (did you mean 'accel'?)",
        err('local r = recipes.q35 { acel = "kvm" }'))
      assert.are.equal("vm.lua:1: recipes.serial_console: unknown field 'tty'",
        err('local r = recipes.serial_console { tty = "ttyS1" }'))
      assert.are.equal("vm.lua:1: recipes.test_guest: unknown field 'check' (did you mean 'checks'?)",
        err('local r = recipes.test_guest { check = "qlua.blk" }'))
    end)

    it("a missing or mistyped option", function()
      assert.are.equal("vm.lua:1: recipes.linux: field 'kernel' is required", err('local r = recipes.linux { initrd = "i" }'))
      assert.are.equal("vm.lua:1: recipes.share: field 'tag' is required", err('local r = recipes.share { path = "/srv" }'))
      assert.are.equal("vm.lua:1: recipes.disk: field 'readonly': boolean expected, got string",
        err('local r = recipes.disk { file = "a", format = "raw", readonly = "yes" }'))
      assert.are.equal("vm.lua:1: recipes.disk: field 'transport': invalid option 'ap' (expected 'pci', 'mmio' or 'ccw')",
        err('local r = recipes.disk { file = "a", format = "raw", transport = "ap" }'))
      assert.are.equal("vm.lua:1: recipes.test_guest: field 'machine': invalid option 'virt' (expected 'q35', 'pc' or 'microvm')",
        err('local r = recipes.test_guest { machine = "virt" }'))
      assert.are.equal("vm.lua:1: recipes.microvm: field 'tsc_early_khz': positive integer or false expected, got string",
        err('local r = recipes.microvm { tsc_early_khz = "2G" }'))
      assert.are.equal("vm.lua:1: recipes.linux: field 'append[2]': string expected, got number",
        err('local r = recipes.linux { kernel = "k", append = { "a", 1 } }'))
      assert.are.equal("vm.lua:1: recipes.tap: field 'queues': number has no integer representation",
        err('local r = recipes.tap { ifname = "tap0", queues = 0.5 }'))
      assert.are.equal("vm.lua:1: recipes.disk: table of options expected, got string",
        err('local r = recipes.disk "disk.img"'))
      assert.are.equal("vm.lua:1: recipes.disk: field names must be strings, got number 1 (fields are named: " ..
        "write key = value)", err('local r = recipes.disk { "disk.img" }'))
    end)

    it("options that go together", function()
      assert.are.equal("vm.lua:1: recipes.tap: field 'ifname' or 'fds' is required", err('local r = recipes.tap {}'))
      assert.are.equal("vm.lua:2: recipes.tap: give 'ifname' or 'fds', not both",
        err('local a = qemu.socketpair()\nlocal r = recipes.tap { ifname = "tap0", fds = { a } }'))
      assert.are.equal("vm.lua:2: recipes.tap: field 'queues' is 2 but 'fds' has 1",
        err('local a = qemu.socketpair()\nlocal r = recipes.tap { fds = { a }, queues = 2 }'))
      assert.are.equal("vm.lua:2: recipes.disk: field 'id' is required when 'file' is a qemu.fd",
        err('local fd = qemu.open("/dev/null", "r")\nlocal r = recipes.disk { file = fd, format = "raw" }'))
      assert.are.equal("vm.lua:1: recipes.disk: field 'format' is required with 'overlay' (the format of 'file')",
        err('local r = recipes.disk { file = "/a.img", overlay = true }'))
      assert.are.equal("vm.lua:1: recipes.disk: field 'dir' is only used with 'overlay = true'",
        err('local r = recipes.disk { file = "/a.img", format = "raw", dir = "/tmp" }'))
    end)

    it("device fields are the constructors' to check, at the caller's line", function()
      assert.are.equal("vm.lua:2: recipes.disk: block: field 'format': invalid option 'qcow3' " .. FORMATS, err([[
local x = 1
local r = recipes.disk { file = "a.img", format = "qcow3" }
]]))
      assert.are.equal("vm.lua:1: recipes.disk: block: field 'format' is required",
        err('local r = recipes.disk { file = "a.img" }'))
      assert.are.equal("vm.lua:1: recipes.tap: netdev: field 'mac_address': invalid MAC address '52:54:00' " ..
        "(expected six hex octets like 52:54:00:12:34:56)",
        err('local r = recipes.tap { ifname = "tap0", mac = "52:54:00" }'))
    end)

    it("records recipe devices as built at the caller's line", function()
      assert.are.equal("vm.lua:2: devices[2] (block): field 'id': duplicate drive id 'd' " ..
        "(devices[1] (block) at vm.lua:1 has it too)", err([[
local a = recipes.disk { file = "/a.img", format = "raw", id = "d" }
local b = recipes.disk { file = "/b.img", format = "raw", id = "d" }
return qemu.argv { devices = { a.devices[1], b.devices[1] } }
]]))
    end)
  end)

  describe("overlay", function()
    local function base_image(dir)
      local path = dir .. "/base.img"
      assert.are.equal(0, (H.sh("qemu-img create -q -f raw " .. q(path) .. " 4M")))
      return path
    end

    -- Launches vm with /bin/true as QEMU: the launch runs the prepare steps
    -- first, as it would before a real QEMU.
    local function launch_steps(vm)
      local ok, e = qemu.run(merge(vm, { path = "/bin/true" }))
      assert(ok, e)
    end

    it("is a qcow2 in `dir` whose backing file is the base (with its format), made at launch", function()
      local d = H.tmpdir()
      local base = base_image(d)
      local run = d .. "/run"
      local vm = recipes.disk { file = base, format = "raw", overlay = true, dir = run, id = "root" }
      local dev = vm.devices[1]
      assert.are.equal(run .. "/root.overlay.qcow2", dev.file)
      assert.are.equal("qcow2", dev.format)
      -- nothing is made by the recipe: the launch runs these first
      assert.are.same({
        { argv = { "mkdir", "-p", run } },
        { argv = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", dev.file } },
      }, vm.prepare)
      assert.is_false(exists(run))
      assert.are.same({ "-drive", "id=root,file=" .. run .. "/root.overlay.qcow2,format=qcow2,if=none",
                        "-device", "virtio-blk-pci,drive=root,serial=root" }, args(vm))
      launch_steps(vm)
      local info = img_info(dev.file)
      assert.are.equal("qcow2", info("format"))
      assert.are.equal(base, info("backing%-filename"))
      assert.are.equal("raw", info("backing%-filename%-format"))
      assert.are.equal("4194304", info("virtual%-size"))
      -- readonly applies to the overlay
      local ro = recipes.disk { file = base, format = "raw", overlay = true, dir = run, id = "ro", readonly = true }
      assert.is_true(ro.devices[1].read_only)
    end)

    it("makes a relative base path absolute", function()
      local d = H.tmpdir()
      base_image(d)
      -- the specs run from the tree's root
      local rel = ("../"):rep(select(2, H.root:gsub("/", ""))) .. d:sub(2) .. "/base.img"
      local vm = recipes.disk { file = rel, format = "raw", overlay = true, dir = d }
      launch_steps(vm)
      local dev = vm.devices[1]
      local backing = img_info(dev.file)("backing%-filename")
      assert.are.equal("/", backing:sub(1, 1))
      assert.are.equal(H.root .. "/" .. rel, backing)
      local code, _, e = H.sh("qemu-img info --backing-chain " .. q(dev.file))
      assert.are.equal(0, code, e)
    end)

    it("goes in recipes.run_dir when set, else in a fresh directory removed at exit", function()
      local d = H.tmpdir()
      local base = base_image(d)
      recipes.run_dir = d .. "/cell1"
      local ok, vm = pcall(recipes.disk, { file = base, format = "raw", overlay = true })
      recipes.run_dir = nil
      assert(ok, vm)
      assert.are.equal(d .. "/cell1/base.img.overlay.qcow2", vm.devices[1].file)
      assert.is_false(exists(d .. "/cell1"))
      launch_steps(vm)
      assert.is_true(exists(vm.devices[1].file))

      -- a fresh directory (mode 0700, as mktemp -d makes), made at launch,
      -- gone when the Lua state closes
      local script = H.write(d .. "/fresh.lua", [[
local recipes = require "qemu.recipes"
local vm = recipes.disk { file = arg[1], format = "raw", overlay = true }
local dir = vm.devices[1].file:match("^(.*)/")
assert(not io.open(dir), "made before the launch")
assert(qemu.run(qemu.merge(vm, { path = "/bin/true" })))
local f = assert(io.open(vm.devices[1].file, "rb")); f:close()
local p = io.popen("stat -c %a " .. dir); print(p:read("l")); p:close()
print(vm.devices[1].file)
]])
      local code, out, e = H.sh("TMPDIR=" .. q(d) .. " " .. H.qlua_cmd .. " " .. q(script) .. " " .. q(base))
      assert.are.equal(0, code, e)
      local mode, file = out:match("^(%d+)\n(%S+)\n$")
      assert.are.equal("700", mode)
      assert.matches("^" .. G.lit(d) .. "/qlua%-run%.[%w]+/base%.img%.overlay%.qcow2$", file)
      assert.is_false(exists(file))
      assert.is_false(exists(file:match("^(.*)/")))

      -- never made, never removed: a dry run leaves $TMPDIR as it was
      H.write(d .. "/dry.lua", "return require('qemu.recipes').disk { file = arg[1], format = 'raw', overlay = true }\n")
      local _, before = H.sh("ls -A " .. q(d))
      code, out, e = H.sh("TMPDIR=" .. q(d) .. " " .. H.qlua_cmd .. " -n " .. q(d .. "/dry.lua") .. " " .. q(base))
      assert.are.equal(0, code, e)
      assert.matches("^mkdir %-m 0700 " .. G.lit(d) .. "/qlua%-run%.%x+\nqemu%-img create ", out)
      assert.are.equal(before, select(2, H.sh("ls -A " .. q(d))))
    end)

    it("reports a missing base at once, and qemu-img's error at launch", function()
      local d = H.tmpdir()
      assert.are.equal("vm.lua:1: recipes.disk: cannot make the overlay of '" .. d .. "/missing.img': " .. d ..
        "/missing.img: No such file or directory",
        err('local r = recipes.disk { file = "' .. d .. '/missing.img", format = "raw", overlay = true, dir = "' .. d .. '" }'))
      assert.are.equal("vm.lua:2: recipes.disk: field 'overlay' needs 'file' to be a path, not a qemu.fd",
        err('local fd = qemu.open("/dev/null", "r")\nlocal r = recipes.disk { file = fd, format = "raw", overlay = true, id = "x" }'))
      -- a raw base said to be qcow2: qemu-img refuses it when the launch runs it
      local base = base_image(d)
      local e = err('local r = recipes.disk { file = "' .. base .. '", format = "qcow2", overlay = true, dir = "' .. d .. '" }\n' ..
        'qemu.run(merge(r, { path = "/bin/true" }))')
      assert.matches("^vm%.lua:2: prepare%[2%]: 'qemu%-img' exited with code 1: qemu%-img: .*base%.img", e)
      assert.is_false(exists(d .. "/base.img.overlay.qcow2"))
    end)
  end)
end)

-- ---- one real boot ------------------------------------------------------------

describe("recipes: the test guest #guest", function()
  local have_guest = exists(G.kernel) and exists(G.initrd)
  if not have_guest then
    pending("build/guest is missing: run `make guest` (make check builds it first)")
    return
  end

  it("test_guest + share + an overlay disk boots; the base image stays as it was", function()
    local S = G.scope(finally)
    local d = S:tmpdir()
    local share = d .. "/share"
    assert(os.execute("mkdir -p " .. q(share)))
    local base = G.disk(d .. "/base.img", "qlua recipes disk")
    local f = assert(io.open(base, "rb"))
    local before = f:read("a")
    f:close()
    local vm = S:launch(merge(
      recipes.test_guest { checks = { "qlua.9p=share", "qlua.blk=/dev/vda" }, guest_dir = G.dir },
      recipes.share { path = share, tag = "share" },
      recipes.disk { file = base, format = "raw", overlay = true, dir = d .. "/run" }))
    assert.truthy(table.concat(vm.argv, " "):find(
      "-append console=ttyS0 quiet panic=-1 no_timer_check qlua.9p=share qlua.blk=/dev/vda", 1, true))
    G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT)
    assert.are.equal("", G.detail(vm, "QLUA-9P-OK"))
    assert.are.equal("qlua recipes disk", G.detail(vm, "QLUA-BLK-OK"))
    G.expect(vm, "QLUA%-GUEST%-DONE")
    assert.are.same({ code = 0 }, G.wait(vm))
    assert.are.equal(G.version .. "\n", H.slurp(share .. "/guest-was-here"))
    assert.are.equal(before, H.slurp(base))
    assert.are.equal(base, img_info(d .. "/run/base.img.overlay.qcow2")("backing%-filename"))
  end)
end)
