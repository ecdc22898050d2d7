-- spec/errors_spec.lua - the exact text of every class of error, and the
-- line it names.  The messages are part of the product (docs/contract.md §8): each
-- test compares the whole message, "file:line: " prefix included.
--
-- Three ways a description reaches the checker, three lines it may blame:
--   * a constructor call (qemu.block{...})   -> the line of that call;
--   * qemu.argv(vm) / qemu.run(vm)           -> the line of that call;
--   * a description the script returns      -> the line of the return
--     statement, except cross-device errors (duplicate ids, dangling
--     references), which name the line where the offending device was built.
-- In-process chunks are loaded with the chunk name "vm.lua", so their lines
-- are the lines of the source text below; returned descriptions are run
-- through ./qlua -n from the script's own directory, so they are "vm.lua" too.
local H = require "helper"
local qemu = H.qemu

-- ---- helpers ----------------------------------------------------------------

-- Counts the lines of src before its end ("a\nb" is 2 lines).
local function nlines(src)
  local _, n = src:gsub("\n", "")
  return n + 1
end

-- Loads src as the chunk "vm.lua" (globals: qemu, plus the usual ones).
local function chunk(src)
  local env = setmetatable({ qemu = qemu }, { __index = _G })
  return assert(load(src, "=vm.lua", "t", env))
end

-- Runs src in process; returns the error it raised (fails if it raised none).
local function err(src)
  local ok, e = pcall(chunk(src))
  assert(not ok, "expected an error from:\n" .. src)
  return e
end

-- Runs src in process and asserts that it raises nothing.
local function ok(src)
  local fine, e = pcall(chunk(src))
  assert(fine, e)
end

-- Writes src as vm.lua in a fresh directory and runs `qlua OPTIONS vm.lua`
-- there.  Returns code, stdout, stderr, the directory.
local function qlua_run(src, options, env)
  local d = H.tmpdir()
  H.write(d .. "/vm.lua", src)
  local words = {}
  for i, a in ipairs(options or { "-n" }) do words[i] = H.q(a) end
  local code, out, e = H.sh("cd " .. H.q(d) .. " && " .. (env or "") .. " " .. H.qlua_cmd ..
    " " .. table.concat(words, " ") .. " vm.lua")
  return code, out, e, d
end

-- Runs src through `qlua -n` and asserts it failed validation: exit 2,
-- nothing on stdout.  Returns stderr.
local function returned_err(src)
  local code, out, e = qlua_run(src)
  assert.are.equal("", out)
  assert.are.equal(2, code)
  return e
end

-- A device constructor call on line 1: "vm.lua:1: <msg>".
local function ctor(src, msg)
  assert.are.equal("vm.lua:1: " .. msg, err("return " .. src))
end

-- A VM description (Lua source text of a table) checked the two ways that
-- blame a line: given to qemu.argv (the line of the call) and returned by a
-- script run with qlua -n (the line of the return).  `setup` is source run
-- first (locals the description uses).
local function vm_err(desc, msg, setup)
  setup = setup and (setup .. "\n") or ""
  local pre = setup .. "local vm = " .. desc .. "\n"
  local line = nlines(pre)
  assert.are.equal("vm.lua:" .. line .. ": " .. msg, err(pre .. "local argv = qemu.argv(vm)\n"))
  assert.are.equal("qlua: vm.lua:" .. line .. ": " .. msg .. "\n", returned_err(pre .. "return vm\n"))
end

-- A description that must pass both ways.
local function vm_ok(desc, setup)
  setup = setup and (setup .. "\n") or ""
  local src = setup .. "local vm = " .. desc .. "\n"
  ok(src .. "local argv = qemu.argv(vm)\n")
  local code, out, e = qlua_run(src .. "return vm\n")
  assert.are.equal("", e)
  assert.are.equal(0, code)
  assert.is_truthy(out:find("\n", 1, true))
end

local DISK = 'qemu.block { id = "hd0", file = "disk.img", format = "raw" }'

-- ---- device constructors ---------------------------------------------------------

describe("errors: constructors blame the line of the call", function()
  it("names line 1 for a call on line 1", function()
    assert.are.equal("vm.lua:1: block: unknown field 'fiel' (did you mean 'file'?)",
      err('return qemu.block { id = "hd0", fiel = "x", format = "raw" }'))
  end)

  it("names the line of the call, not of the offending field", function()
    assert.are.equal("vm.lua:3: block: unknown field 'fiel' (did you mean 'file'?)", err([[
local a = 1
local b = 2
local d = qemu.block {
  id = "hd0",
  fiel = "disk.img",
  format = "raw",
}
]]))
  end)

  it("names the script's line when a constructor runs in a returned script", function()
    local code, out, e = qlua_run('local x = 1\nlocal d = qemu.block { id = "hd0", fiel = "x", format = "raw" }\nreturn { devices = { d } }\n')
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:2: block: unknown field 'fiel' (did you mean 'file'?)\n", e)
  end)

  it("takes a table (a constructor called with something else)", function()
    ctor("qemu.block(5)", "bad argument #1 to 'block' (table expected, got number)")
  end)
end)

describe("errors: unknown fields", function()
  it("suggests the closest field for a typo", function()
    ctor('qemu.block { id = "hd0", fiel = "x", format = "raw" }',
      "block: unknown field 'fiel' (did you mean 'file'?)")
    ctor('qemu.block { id = "hd0", file = "x", fromat = "raw" }',
      "block: unknown field 'fromat' (did you mean 'format'?)")
    ctor('qemu.netdev { type = "tap", id = "n0", ifnmae = "tap0" }',
      "netdev: unknown field 'ifnmae' (did you mean 'ifname'?)")
  end)

  it("suggests nothing when no field is close", function()
    ctor('qemu.block { id = "hd0", zzzzzzzz = "x", file = "x", format = "raw" }',
      "block: unknown field 'zzzzzzzz'")
  end)

  it("suggests the field an abbreviation starts", function()
    ctor('qemu.netdev { type = "tap", id = "n0", mac = "52:54:00:12:34:56" }',
      "netdev: unknown field 'mac' (did you mean 'mac_address'?)")
  end)

  it("names the path inside a description", function()
    vm_err('{ mmeory = { size = "1G" } }', "unknown field 'mmeory' (did you mean 'memory'?)")
    vm_err('{ machine = { tpye = "q35" } }', "unknown field 'machine.tpye' (did you mean 'type'?)")
    vm_err('{ memory = { size = "1G", szie = 1 } }', "unknown field 'memory.szie' (did you mean 'size'?)")
    vm_err('{ qmp = { { path = "/x", sever = true } } }',
      "unknown field 'qmp[1].sever' (did you mean 'server'?)")
    vm_err('{ zzzzzzzzzz = 1 }', "unknown field 'zzzzzzzzzz'")
  end)

  it("takes any other key of qemu.device{} as a QEMU property", function()
    ok('return qemu.device { driver = "e1000", fiel = "x", ["x-foo.bar"] = 3, on = true }')
  end)
end)

describe("errors: field names must be strings", function()
  -- regression: the type named was once the value's, not the key's, and
  -- the hint about positional values followed the value's type too.
  it("rejects a positional value in a constructor", function()
    ctor('qemu.block { "x" }',
      "block: field names must be strings, got number 1 (fields are named: write key = value)")
  end)

  it("rejects a positional value in a description", function()
    vm_err('{ "x" }', "field names must be strings, got number 1 (fields are named: write key = value)")
  end)

  it("rejects a non-string, non-number key without the positional hint", function()
    vm_err('{ [true] = 1 }', "field names must be strings, got boolean true")
  end)

  it("rejects non-string property names in a property table", function()
    vm_err('{ machine = { options = { [1] = true } } }',
      "field 'machine.options': property names must be strings, got number")
  end)
end)

describe("errors: wrong types", function()
  it("string expected", function()
    ctor('qemu.block { id = 1, file = "x", format = "raw" }',
      "block: field 'id': string expected, got number")
    vm_err('{ name = 42 }', "field 'name': string expected, got number")
    vm_err('{ smp = { cpus = "2" } }', "field 'smp.cpus': number expected, got string")
  end)

  it("names a qemu.fd given where a string belongs", function()
    assert.are.equal("vm.lua:2: block: field 'format': string expected, got qemu.fd", err([[
local f = qemu.open("/dev/null", "r")
return qemu.block { id = "a", file = "x", format = f }
]]))
  end)

  it("boolean expected", function()
    ctor('qemu.block { id = "hd0", file = "x", format = "raw", read_only = "yes" }',
      "block: field 'read_only': boolean expected, got string")
    vm_err('{ knobs = { mlock = 1 } }', "field 'knobs.mlock': boolean expected, got number")
  end)

  it("table expected", function()
    ctor('qemu.netdev { id = "n0", type = "tap", fds = 3 }',
      "netdev: field 'fds': table expected, got number")
    vm_err('{ memory = "1G" }', "field 'memory': table expected, got string")
    vm_err('{ devices = "x" }', "field 'devices': table expected, got string")
    vm_err('{ qmp = { "x" } }', "field 'qmp[1]': table expected, got string")
  end)

  it("list expected", function()
    vm_err('{ qmp = { [2] = { path = "/x" } } }', "field 'qmp': list expected (qmp[1] is nil but qmp[2] is set)")
    assert.are.equal("vm.lua:3: netdev: field 'fds': list expected (fds[2] is nil but fds[3] is set)", err([[
local a = qemu.open("/dev/null", "r")
local b = qemu.open("/dev/null", "r")
return qemu.netdev { id = "n0", type = "tap", fds = { a, [3] = b } }
]]))
    ctor('qemu.netdev { id = "n0", type = "tap", fds = {} }',
      "netdev: field 'fds': empty list (leave the field out instead)")
  end)

  it("qemu.fd expected", function()
    ctor('qemu.netdev { id = "n0", type = "tap", fds = { 3 } }',
      "netdev: field 'fds[1]': qemu.fd expected, got number")
    vm_err('{ qmp = { { fd = 3 } } }', "field 'qmp[1].fd': qemu.fd expected, got number")
  end)

  it("string or qemu.fd expected", function()
    ctor('qemu.block { id = "a", file = 3, format = "raw" }',
      "block: field 'file': string or qemu.fd expected, got number")
  end)

  it("a closed descriptor", function()
    assert.are.equal("vm.lua:3: netdev: field 'fds[1]': descriptor is closed", err([[
local f = qemu.open("/dev/null", "r")
f:close()
return qemu.netdev { id = "n0", type = "tap", fds = { f } }
]]))
  end)

  it("string or list of strings expected", function()
    vm_err('{ global = 42 }', "field 'global': string or list of strings expected, got number")
    vm_err('{ extra_args = { "a", 1 } }', "field 'extra_args[2]': string expected, got number")
  end)

  it("string, number or boolean expected for a QEMU property", function()
    ctor('qemu.device { driver = "e1000", x = {} }',
      "device: field 'x': string, number or boolean expected, got table")
  end)

  it("device expected in devices", function()
    vm_err('{ devices = { 1 } }', "field 'devices[1]': device expected, got number")
    vm_err('{ devices = { "hd0" } }', "field 'devices[1]': device expected, got string")
    vm_err('{ devices = { d, {} } }',
      "field 'devices[2]': device expected, got table (build devices with a constructor such as qemu.block{...})",
      "local d = " .. DISK)
    vm_err('{ devices = { f } }', "field 'devices[1]': device expected, got qemu.fd",
      'local f = qemu.open("/dev/null", "r")')
  end)

  it("a plain table that looks like a device is still not one", function()
    vm_err('{ devices = { { id = "hd0", file = "x", format = "raw" } } }',
      "field 'devices[1]': device expected, got table (build devices with a constructor such as qemu.block{...})")
  end)

  it("qemu.argv itself takes a table", function()
    assert.are.equal("vm.lua:1: bad argument #1 to 'argv' (table expected, got string)",
      err('return qemu.argv("x")'))
  end)
end)

describe("errors: required fields", function()
  it("a plain required field", function()
    ctor('qemu.block { id = "hd0", file = "x" }', "block: field 'format' is required")
    ctor('qemu.block { file = "x", format = "raw" }', "block: field 'id' is required")
    ctor('qemu.device { id = "d0" }', "device: field 'driver' is required")
    vm_err('{ memory = { maxmem = "2G" } }', "field 'memory.size' is required")
    vm_err('{ kernel = { initrd = "/i" } }', "field 'kernel.path' is required")
  end)

  it("required with a type", function()
    ctor('qemu.netdev { id = "n0", type = "vhostuser" }',
      "netdev: field 'chardev' is required with type 'vhostuser'")
    ctor('qemu.netdev { id = "n0", type = "vfio" }', "netdev: field 'bdf' is required with type 'vfio'")
    ctor('qemu.netdev { id = "n0", type = "macvtap" }', "netdev: field 'fds' is required with type 'macvtap'")
    ctor('qemu.object { id = "m", type = "memory-backend-file", size = "1M" }',
      "object: field 'mem_path' is required with type 'memory-backend-file'")
    ctor('qemu.chardev { id = "c", backend = "socket" }', "chardev: field 'path' is required with backend 'socket'")
    ctor('qemu.vhost_user { vhost_user_type = "net", socket_path = "/s", chardev_id = "c" }',
      "vhost_user: field 'type_dev_id' is required with vhost_user_type 'net'")
    ctor('qemu.vhost_user { vhost_user_type = "fs", socket_path = "/s", chardev_id = "c" }',
      "vhost_user: field 'tag' is required with vhost_user_type 'fs'")
    ctor('qemu.bridge { id = "br0", type = "pci", bus = "pci.0" }',
      "bridge: field 'chassis' is required with type 'pci'")
  end)
end)

describe("errors: fields not used with a type", function()
  it("names the type", function()
    ctor('qemu.bridge { id = "b0", type = "pcie", bus = "pcie.0", chassis = 1 }',
      "bridge: field 'chassis' is not used with type 'pcie'")
    ctor('qemu.netdev { id = "n", type = "vfio", bdf = "01:00.0", ifname = "x" }',
      "netdev: field 'ifname' is not used with type 'vfio'")
    ctor('qemu.chardev { id = "c", backend = "pty", path = "/x" }',
      "chardev: field 'path' is not used with backend 'pty'")
    ctor('qemu.vhost_user { vhost_user_type = "fs", socket_path = "/s", chardev_id = "c", tag = "t", mac_address = "52:54:00:12:34:56" }',
      "vhost_user: field 'mac_address' is not used with vhost_user_type 'fs'")
    ctor('qemu.block { id = "a", file = "x", format = "raw", interface = "ide", driver = "scsi-hd" }',
      "block: field 'driver' is not used with interface 'ide'")
  end)

  it("names what it needs when the type field is unset", function()
    ctor('qemu.object { id = "m", type = "memory-backend-file", size = "1M", mem_path = "/m", device_id = "nv" }',
      "object: field 'device_id' is only used with driver 'nvdimm'")
  end)
end)

describe("errors: enumerations list what is allowed", function()
  it("in a device", function()
    ctor('qemu.block { id = "hd0", file = "x", format = "qcow3" }',
      "block: field 'format': invalid option 'qcow3' (expected 'raw', 'qcow2', 'qcow', 'qed', 'vmdk', " ..
      "'vdi', 'vhdx', 'vpc', 'luks', 'parallels', 'dmg', 'cloop' or 'bochs')")
    ctor('qemu.block { id = "hd0", file = "x", format = "raw", aio = "posix" }',
      "block: field 'aio': invalid option 'posix' (expected 'threads', 'native' or 'io_uring')")
    ctor('qemu.bridge { id = "b0", type = "pcix", bus = "pci.0" }',
      "bridge: field 'type': invalid option 'pcix' (expected 'pci' or 'pcie')")
    ctor('qemu.fsdev { id = "f", path = "/p", mount_tag = "t", security_model = "mapped-xatr" }',
      "fsdev: field 'security_model': invalid option 'mapped-xatr' (expected 'none', 'passthrough', " ..
      "'mapped-xattr', 'mapped-file' or 'mapped')")
    ctor('qemu.netdev { id = "n", type = "slirp" }',
      "netdev: field 'type': invalid option 'slirp' (expected 'tap', 'macvtap', 'ipvtap', 'vethtap', " ..
      "'vfio', 'vhostuser' or 'user')")
  end)

  it("in a description", function()
    vm_err('{ vga = "vga" }', "field 'vga': invalid option 'vga' (expected 'std', 'cirrus', 'vmware', " ..
      "'qxl', 'xenfb', 'tcx', 'cg3', 'virtio' or 'none')")
    vm_err('{ rtc = { driftfix = "fast" } }', "field 'rtc.driftfix': invalid option 'fast' (expected 'slew' or 'none')")
    vm_err('{ qmp = { { path = "/q", protocol = "json" } } }',
      "field 'qmp[1].protocol': invalid option 'json' (expected 'qmp', 'qmp-pretty' or 'hmp')")
  end)

  it("rtc.base: utc, localtime or a date", function()
    vm_err('{ rtc = { base = "gmt" } }',
      "field 'rtc.base': invalid option 'gmt' (expected 'utc', 'localtime' or a date like 2006-06-17T16:01:21)")
    vm_err('{ rtc = { base = "2006-06-17T16:01" } }',
      "field 'rtc.base': invalid option '2006-06-17T16:01' (expected 'utc', 'localtime' or a date like 2006-06-17T16:01:21)")
    vm_ok('{ rtc = { base = "2006-06-17" } }')
  end)

  it("names: driver, machine type", function()
    ctor('qemu.device { driver = "e 1000" }',
      "device: field 'driver': invalid name 'e 1000' (expected letters, digits, '_', '.', '+' or '-')")
    -- "help" would make QEMU print a list instead of running
    ctor('qemu.device { driver = "help" }',
      "device: field 'driver': 'help' is not a name QEMU takes here (it would print a list instead)")
    vm_err('{ machine = { type = "help" } }',
      "field 'machine.type': 'help' is not a name QEMU takes here (it would print a list instead)")
    vm_err('{ machine = { type = "q 35" } }',
      "field 'machine.type': invalid name 'q 35' (expected letters, digits, '_', '.', '+' or '-')")
  end)

  it("property names of qemu.device{} and of property tables", function()
    ctor('qemu.device { driver = "e1000", ["bad,name"] = 1 }',
      "device: invalid property name 'bad,name' (expected a letter, then letters, digits, '-', '.' or '_')")
    vm_err('{ machine = { options = { ["a,b"] = 1 } } }',
      "field 'machine.options': invalid property name 'a,b' (expected a letter, then letters, digits, '-', '.' or '_')")
  end)
end)

describe("errors: numbers", function()
  it("must be integers", function()
    ctor('qemu.serial { id = "s0", max_ports = 1.5 }', "serial: field 'max_ports': number has no integer representation")
    vm_err('{ smp = { cpus = 1e100 } }', "field 'smp.cpus': number has no integer representation")
    vm_ok('{ smp = { cpus = 2.0 } }')
  end)

  it("must be in range", function()
    ctor('qemu.serial { id = "s0", max_ports = 0 }', "serial: field 'max_ports': 0 is out of range (expected 1..511)")
    ctor('qemu.serial { id = "s0", max_ports = 512 }', "serial: field 'max_ports': 512 is out of range (expected 1..511)")
    ctor('qemu.bridge { id = "b", type = "pci", bus = "pci.0", chassis = 256 }',
      "bridge: field 'chassis': 256 is out of range (expected 1..255)")
    vm_err('{ smp = { cpus = 0 } }', "field 'smp.cpus': 0 is out of range (expected 1..4096)")
    vm_err('{ smp = { cpus = 4097 } }', "field 'smp.cpus': 4097 is out of range (expected 1..4096)")
    vm_err('{ memory = { size = "1G", slots = 256, maxmem = "2G" } }',
      "field 'memory.slots': 256 is out of range (expected 1..255)")
  end)

  it("16-bit PCI ids", function()
    ctor('qemu.vfio { bdf = "01:00.0", vendor_id = "xyz" }',
      "vfio: field 'vendor_id': invalid PCI id 'xyz' (expected a 16-bit number like 0x8086)")
    ctor('qemu.vfio { bdf = "01:00.0", device_id = 70000 }',
      "vfio: field 'device_id': 70000 is out of range (expected 0..0xffff)")
    ok('return qemu.vfio { bdf = "01:00.0", vendor_id = "0x8086", device_id = 4660 }')
  end)
end)

describe("errors: sizes", function()
  it("rejects malformed sizes", function()
    for _, s in ipairs({ "12X", "1GB", "G", "1.5G", " 1G", "99999999999T" }) do
      ctor(('qemu.object { type = "memory-backend-file", id = "m0", mem_path = "/x", size = %q }'):format(s),
        "object: field 'size': invalid size '" .. s .. "' (expected bytes, or a number with suffix K, M, G or T)")
    end
  end)

  it("rejects negative, fractional, empty and zero sizes", function()
    ctor('qemu.object { type = "memory-backend-file", id = "m0", mem_path = "/x", size = -1 }',
      "object: field 'size': size must not be negative (got -1)")
    ctor('qemu.object { type = "memory-backend-file", id = "m0", mem_path = "/x", size = 1.5 }',
      "object: field 'size': number has no integer representation")
    ctor('qemu.object { type = "memory-backend-file", id = "m0", mem_path = "/x", size = "" }',
      "object: field 'size': empty string (leave the field out instead)")
    ctor('qemu.object { type = "memory-backend-file", id = "m0", mem_path = "/x", size = 0 }',
      "object: field 'size': size must be greater than 0")
    vm_err('{ memory = { size = "1GB" } }',
      "field 'memory.size': invalid size '1GB' (expected bytes, or a number with suffix K, M, G or T)")
  end)

  it("accepts bytes and any case of suffix", function()
    vm_ok('{ memory = { size = "1g" } }')
    vm_ok('{ memory = { size = 1073741824 } }')
  end)
end)

describe("errors: addresses and identifiers", function()
  it("MAC addresses", function()
    for _, m in ipairs({ "52:54:00:12:34", "52-54-00-12-34-56", "52:54:00:12:34:5G", "52:54:00:12:34:567" }) do
      ctor(('qemu.netdev { id = "n", type = "tap", mac_address = %q }'):format(m),
        "netdev: field 'mac_address': invalid MAC address '" .. m ..
        "' (expected six hex octets like 52:54:00:12:34:56)")
    end
    ok('return qemu.netdev { id = "n", type = "tap", mac_address = "52:54:00:AB:cd:EF" }')
  end)

  it("UUIDs", function()
    vm_err('{ uuid = "xyz" }', "field 'uuid': invalid UUID 'xyz' (expected 8-4-4-4-12 hex digits)")
    vm_err('{ uuid = "6f2f2a9e1c3b-4c1e-9a8e-4b2f1a0c9d11-" }',
      "field 'uuid': invalid UUID '6f2f2a9e1c3b-4c1e-9a8e-4b2f1a0c9d11-' (expected 8-4-4-4-12 hex digits)")
    vm_err('{ uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d1g" }',
      "field 'uuid': invalid UUID '6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d1g' (expected 8-4-4-4-12 hex digits)")
    vm_ok('{ uuid = "6F2F2A9E-1C3B-4C1E-9A8E-4B2F1A0C9D11" }')
  end)

  it("PCI addresses (slot[.function])", function()
    for _, a in ipairs({ "0x20", "1f.8", "g", "1.", "0x" }) do
      ctor(('qemu.block { id = "a", file = "x", format = "raw", addr = %q }'):format(a),
        "block: field 'addr': invalid PCI address '" .. a ..
        "' (expected slot[.function] in hex, slot 0..1f, function 0..7)")
    end
    ctor('qemu.block { id = "a", file = "x", format = "raw", addr = 32 }',
      "block: field 'addr': PCI slot 32 is out of range (expected 0..31)")
    ctor('qemu.block { id = "a", file = "x", format = "raw", addr = -1 }',
      "block: field 'addr': PCI slot -1 is out of range (expected 0..31)")
    ok('return qemu.block { id = "a", file = "x", format = "raw", addr = "0x1f.7" }')
  end)

  it("PCI host addresses (bdf)", function()
    for _, b in ipairs({ "01:00", "01:20.0", "01:00.8", "0000:01:00.0.0", "000:01:00.0", "zz:00.0" }) do
      ctor(('qemu.vfio { bdf = %q }'):format(b),
        "vfio: field 'bdf': invalid PCI host address '" .. b ..
        "' (expected [domain:]bus:device.function like 0000:01:00.0)")
    end
    ok('return qemu.vfio { bdf = "0000:01:1f.7" }')
    ok('return qemu.vfio { bdf = "01:00.0" }')
  end)

  it("ids follow QEMU's rules", function()
    for _, id in ipairs({ "0hd", "a b", "a,b", "-x", "_x", "a=b" }) do
      ctor(('qemu.block { id = %q, file = "x", format = "raw" }'):format(id),
        "block: field 'id': invalid id '" .. id ..
        "' (QEMU ids start with a letter, then letters, digits, '-', '.' or '_')")
    end
    ok('return qemu.block { id = "a-b.c_d9", file = "x", format = "raw" }')
  end)

  it("references follow the same rules", function()
    ctor('qemu.block { id = "a", file = "x", format = "raw", bus = "0bus" }',
      "block: field 'bus': invalid id '0bus' (QEMU ids start with a letter, then letters, digits, '-', '.' or '_')")
  end)

  it("ids starting with qlua- are reserved", function()
    ctor('qemu.block { id = "qlua-x", file = "x", format = "raw" }',
      "block: field 'id': ids starting with 'qlua-' are reserved for qlua")
    ctor('qemu.vhost_user { vhost_user_type = "fs", socket_path = "/s", chardev_id = "qlua-qmp0", tag = "t" }',
      "vhost_user: field 'chardev_id': ids starting with 'qlua-' are reserved for qlua")
  end)
end)

describe("errors: strings QEMU cannot take", function()
  it("empty strings", function()
    ctor('qemu.block { id = "", file = "x", format = "raw" }', "block: field 'id': empty string (leave the field out instead)")
    ctor('qemu.block { id = "a", file = "", format = "raw" }', "block: field 'file': empty string (leave the field out instead)")
    vm_err('{ name = "" }', "field 'name': empty string (leave the field out instead)")
    vm_err('{ machine = { accel = "" } }', "field 'machine.accel': empty string (leave the field out instead)")
  end)

  it("a NUL byte", function()
    ctor('qemu.block { id = "a", file = "x\\0y", format = "raw" }',
      "block: field 'file': contains a NUL byte, which cannot be passed to QEMU")
    ctor('qemu.device { driver = "x", serial = "a\\0b" }',
      "device: field 'serial': contains a NUL byte, which cannot be passed to QEMU")
    vm_err('{ extra_args = { "a\\0b" } }', "field 'extra_args[1]': contains a NUL byte, which cannot be passed to QEMU")
  end)

  it("a line break", function()
    ctor('qemu.block { id = "a", file = "x\\ny", format = "raw" }',
      "block: field 'file': contains a line break, which QEMU cannot take")
    ctor('qemu.device { driver = "x", serial = "a\\rb" }',
      "device: field 'serial': contains a line break, which QEMU cannot take")
    vm_err('{ name = "a\\nb" }', "field 'name': contains a line break, which QEMU cannot take")
    vm_err('{ kernel = { path = "/k", params = "a\\nb" } }',
      "field 'kernel.params': contains a line break, which QEMU cannot take")
  end)

  -- (an id is checked for QEMU's id characters first, and only a string
  -- that fails them for NUL and line breaks: the fault named stays the
  -- string's own, before the id's)
  it("an id or a reference with a NUL, a line break or nothing in it: the string's fault, not the id's", function()
    ctor('qemu.block { id = "a\\0b", file = "x", format = "raw" }',
      "block: field 'id': contains a NUL byte, which cannot be passed to QEMU")
    ctor('qemu.block { id = "a\\nb", file = "x", format = "raw" }',
      "block: field 'id': contains a line break, which QEMU cannot take")
    ctor('qemu.block { id = "", file = "x", format = "raw" }',
      "block: field 'id': empty string (leave the field out instead)")
    ctor('qemu.block { id = 7, file = "x", format = "raw" }',
      "block: field 'id': string expected, got number")
    ctor('qemu.block { id = "a", file = "x", format = "raw", bus = "b\\0" }',
      "block: field 'bus': contains a NUL byte, which cannot be passed to QEMU")
    ctor('qemu.block { id = "qlua-\\n", file = "x", format = "raw" }',
      "block: field 'id': contains a line break, which QEMU cannot take")
  end)

  -- (the check reads eight bytes at a time: every place in strings of 1 to
  -- 24 bytes, and the other bytes below 14, which pass)
  it("a NUL or line break anywhere in a string of any length; other control bytes pass", function()
    local faults = { ["\0"] = "contains a NUL byte, which cannot be passed to QEMU",
                     ["\n"] = "contains a line break, which QEMU cannot take",
                     ["\r"] = "contains a line break, which QEMU cannot take" }
    for n = 1, 24 do
      for at = 1, n do
        for _, byte in ipairs { "\0", "\n", "\r", "\1", "\t", "\11", "\12", "\14", "\127", "\255" } do
          local file = ("a"):rep(at - 1) .. byte .. ("b"):rep(n - at)
          local ok, e = pcall(qemu.block, { id = "a", file = file, format = "raw" })
          if faults[byte] then
            assert.are.equal("block: field 'file': " .. faults[byte], e, ("byte %d at %d of %d"):format(byte:byte(), at, n))
          else
            assert.is_true(ok, ("byte %d at %d of %d: %s"):format(byte:byte(), at, n, tostring(e)))
          end
        end
      end
    end
  end)
end)

-- ---- whole-description checks -------------------------------------------------------

describe("errors: ids are unique per namespace", function()
  it("two drives with one id fail, blaming the second drive's line", function()
    local setup = 'local a = ' .. DISK .. '\nlocal b = qemu.block { id = "hd0", file = "other.img", format = "raw" }'
    local msg = "vm.lua:2: devices[2] (block): field 'id': duplicate drive id 'hd0' (devices[1] (block) at vm.lua:1 has it too)"
    assert.are.equal(msg, err(setup .. "\n\n\nqemu.argv { devices = { a, b } }\n"))
    assert.are.equal("qlua: " .. msg .. "\n", returned_err(setup .. "\n\n\nreturn { devices = { a, b } }\n"))
  end)

  it("blames whichever device comes second in devices", function()
    local setup = 'local a = ' .. DISK .. '\nlocal b = qemu.block { id = "hd0", file = "other.img", format = "raw" }'
    assert.are.equal("qlua: vm.lua:1: devices[2] (block): field 'id': duplicate drive id 'hd0' " ..
      "(devices[1] (block) at vm.lua:2 has it too)\n", returned_err(setup .. "\nreturn { devices = { b, a } }\n"))
  end)

  it("a drive and a netdev may share an id", function()
    vm_ok('{ devices = { a, b } }', 'local a = ' .. DISK .. '\nlocal b = qemu.netdev { id = "hd0", type = "tap" }')
  end)

  it("one id in every namespace at once is fine", function()
    vm_ok('{ devices = { ' ..
      'qemu.block { id = "x", file = "f", format = "raw" }, ' ..
      'qemu.netdev { id = "x", type = "tap" }, ' ..
      'qemu.chardev { id = "x", backend = "pty" }, ' ..
      'qemu.fsdev { id = "x", path = "/p", mount_tag = "t", security_model = "none" }, ' ..
      'qemu.object { id = "x", type = "memory-backend-file", mem_path = "/m", size = "1M" }, ' ..
      'qemu.device { driver = "e1000", id = "x" } } }')
  end)

  it("device ids collide across kinds", function()
    local setup = 'local a = qemu.bridge { id = "x", type = "pci", bus = "pci.0", chassis = 1 }\n' ..
                  'local b = qemu.serial { id = "x" }'
    assert.are.equal("qlua: vm.lua:2: devices[2] (serial): field 'id': duplicate device id 'x' " ..
      "(devices[1] (bridge) at vm.lua:1 has it too)\n", returned_err(setup .. "\nreturn { devices = { a, b } }\n"))
  end)

  it("a vhost_user chardev_id collides with a chardev", function()
    local setup = 'local a = qemu.chardev { id = "c", backend = "pty" }\n' ..
                  'local b = qemu.vhost_user { vhost_user_type = "fs", socket_path = "/s", chardev_id = "c", tag = "t" }'
    assert.are.equal("qlua: vm.lua:2: devices[2] (vhost_user): field 'chardev_id': duplicate chardev id 'c' " ..
      "(devices[1] (chardev) at vm.lua:1 has it too)\n", returned_err(setup .. "\nreturn { devices = { a, b } }\n"))
  end)

  it("the same device value twice is an error of the description, at its line", function()
    vm_err('{ devices = { d, d } }', "field 'devices[2]': the same device value is already devices[1]",
      "local d = " .. DISK)
  end)
end)

describe("errors: references name ids that exist", function()
  -- Each case: the setup (device locals, one per line), the devices list,
  -- the line of the offending device and the message.
  local function dangling(setup, list, line, msg)
    local full = "vm.lua:" .. line .. ": " .. msg
    assert.are.equal(full, err(setup .. "\nqemu.argv { devices = " .. list .. " }\n"))
    assert.are.equal("qlua: " .. full .. "\n", returned_err(setup .. "\n\nreturn { devices = " .. list .. " }\n"))
  end

  it("bus= of a device", function()
    dangling('local x = 1\nlocal d = qemu.block { id = "x", file = "y", format = "raw", bus = "nope" }', "{ d }", 2,
      "devices[1] (block): field 'bus': no bus with id 'nope' in this description " ..
      "(known: the machine's own such as 'pci.0' or 'pcie.0')")
  end)

  it("bus= lists the buses the description provides", function()
    dangling('local b = qemu.bridge { id = "br0", type = "pci", bus = "pci.0", chassis = 1 }\n' ..
             'local d = qemu.block { id = "x", file = "y", format = "raw", bus = "br1" }', "{ b, d }", 2,
      "devices[2] (block): field 'bus': no bus with id 'br1' in this description " ..
      "(known: 'br0', or the machine's own such as 'pci.0' or 'pcie.0')")
  end)

  it("chardev= of a vhostuser netdev", function()
    -- regression: garbage bytes once followed "description" when no chardev existed
    dangling('local n = qemu.netdev { id = "n0", type = "vhostuser",\n  chardev = "nope" }', "{ n }", 1,
      "devices[1] (netdev): field 'chardev': no chardev with id 'nope' in this description")
  end)

  it("chardev= lists the chardevs there are", function()
    dangling('local c = qemu.chardev { id = "c0", backend = "pty" }\n' ..
             'local n = qemu.netdev { id = "n0", type = "vhostuser", chardev = "c1" }', "{ c, n }", 2,
      "devices[2] (netdev): field 'chardev': no chardev with id 'c1' in this description (known: 'c0')")
  end)

  -- regression: the same garbage once followed every one of these
  for _, case in ipairs({
    { "netdev", "netdev" }, { "chardev", "chardev" }, { "drive", "drive" },
    { "memdev", "object" }, { "fsdev", "fsdev" }, { "iothread", "object" },
  }) do
    local prop, ns = case[1], case[2]
    it(prop .. "= of qemu.device{}", function()
      dangling('local d = qemu.device { driver = "x", ' .. prop .. ' = "nope" }', "{ d }", 1,
        "devices[1] (device): field '" .. prop .. "': no " .. ns .. " with id 'nope' in this description")
    end)
  end

  it("netdev= of qemu.device{} names the known netdevs, not the drives", function()
    dangling('local n = qemu.netdev { id = "n0", type = "tap" }\nlocal d = ' .. DISK ..
             '\nlocal e = qemu.device { driver = "e1000", netdev = "hd0" }', "{ n, d, e }", 3,
      "devices[3] (device): field 'netdev': no netdev with id 'hd0' in this description (known: 'n0')")
  end)

  it("qemu.device{} references that exist pass", function()
    vm_ok('{ devices = { n, c, d, m, f, ' ..
      'qemu.device { driver = "e1000", netdev = "n0" }, ' ..
      'qemu.device { driver = "virtconsole", chardev = "c0" }, ' ..
      'qemu.device { driver = "virtio-blk-pci", drive = "hd0" }, ' ..
      'qemu.device { driver = "pc-dimm", memdev = "m0" }, ' ..
      'qemu.device { driver = "virtio-9p-pci", fsdev = "f0", mount_tag = "t" } } }',
      'local n = qemu.netdev { id = "n0", type = "tap" }\n' ..
      'local c = qemu.chardev { id = "c0", backend = "pty" }\n' ..
      'local d = ' .. DISK .. '\n' ..
      'local m = qemu.object { id = "m0", type = "memory-backend-file", mem_path = "/m", size = "1M" }\n' ..
      'local f = qemu.fsdev { id = "f0", path = "/p", mount_tag = "t", security_model = "none" }')
  end)

  it("a serial controller provides '<id>.0'", function()
    vm_ok('{ devices = { qemu.serial { id = "ser0" }, ' ..
      'qemu.chardev { id = "c0", backend = "pty", driver = "virtconsole", bus = "ser0.0" } } }')
    dangling('local c = qemu.chardev { id = "c0", backend = "pty", driver = "virtconsole", bus = "ser0.0" }', "{ c }", 1,
      "devices[1] (chardev): field 'bus': no bus with id 'ser0.0' in this description " ..
      "(known: the machine's own such as 'pci.0' or 'pcie.0')")
  end)

  it("a bridge provides its id as a bus", function()
    vm_ok('{ devices = { qemu.bridge { id = "br0", type = "pci", bus = "pci.0", chassis = 1 }, ' ..
      'qemu.block { id = "x", file = "y", format = "raw", bus = "br0" } } }')
  end)

  it("without machine.type any machine's root bus passes (QEMU's default depends on the binary)", function()
    vm_ok('{ devices = { qemu.block { id = "x", file = "y", format = "raw", bus = "pci.0" }, ' ..
      'qemu.block { id = "x2", file = "y", format = "raw", bus = "pcie.0" }, ' ..
      'qemu.device { driver = "e1000", bus = "pci.0" } } }')
  end)

  it("a qemu.device{} with an id may be a controller", function()
    vm_ok('{ devices = { qemu.device { driver = "virtio-scsi-pci", id = "scsi0" }, ' ..
      'qemu.device { driver = "scsi-hd", drive = "hd0", bus = "scsi0.0" }, d } }', "local d = " .. DISK)
  end)
end)

describe("errors: SMP topology", function()
  it("maxcpus below cpus", function()
    vm_err('{ smp = { cpus = 4, maxcpus = 2 } }', "field 'smp.maxcpus': 2 is less than 'cpus' (4)")
  end)

  it("sockets * cores * threads must equal cpus", function()
    vm_err('{ smp = { cpus = 4, sockets = 1, cores = 2, threads = 1 } }',
      "smp: sockets (1) * cores (2) * threads (1) = 2, but cpus is 4")
  end)

  it("or maxcpus when given", function()
    vm_err('{ smp = { cpus = 4, maxcpus = 8, sockets = 1, cores = 2, threads = 1 } }',
      "smp: sockets (1) * cores (2) * threads (1) = 2, but maxcpus is 8")
    vm_ok('{ smp = { cpus = 4, maxcpus = 8, sockets = 2, cores = 2, threads = 2 } }')
  end)

  it("a partial topology must divide the count", function()
    vm_err('{ smp = { cpus = 5, cores = 2 } }', "smp: cpus (5) is not a multiple of the topology given (2)")
    vm_err('{ smp = { cpus = 4, maxcpus = 9, cores = 2 } }',
      "smp: maxcpus (9) is not a multiple of the topology given (2)")
    vm_ok('{ smp = { cpus = 4, cores = 2 } }')
  end)
end)

describe("errors: memory", function()
  it("slots without maxmem and the other way round", function()
    vm_err('{ memory = { size = "1G", slots = 2 } }', "field 'memory.slots': QEMU needs 'slots' and 'maxmem' together")
    vm_err('{ memory = { size = "1G", maxmem = "4G" } }', "field 'memory.maxmem': QEMU needs 'slots' and 'maxmem' together")
  end)

  it("maxmem below size", function()
    vm_err('{ memory = { size = "1G", maxmem = "512M", slots = 1 } }', "field 'memory.maxmem': smaller than 'size'")
  end)

  it("a size that is surely a unit mistake", function()
    vm_err('{ memory = { size = 1024 } }',
      "field 'memory.size': guest RAM below 1M (a plain number is bytes: write '1024M' for megabytes)")
  end)

  it("hugepages and mem_prealloc need a size", function()
    vm_err('{ knobs = { hugepages = true } }', "field 'knobs.hugepages': needs 'memory.size' (the memory is reserved up front)")
    vm_err('{ knobs = { mem_prealloc = true } }',
      "field 'knobs.mem_prealloc': needs 'memory.size' (the memory is reserved up front)")
  end)
end)

describe("errors: device values are read-only", function()
  it("assigning a field raises, naming it", function()
    assert.are.equal("vm.lua:2: block: field 'file' cannot be changed (device values are read-only; " ..
      "build a new one)", err("local d = " .. DISK .. '\nd.file = "other.img"\n'))
  end)

  it("assigning a new field raises too", function()
    assert.are.equal("vm.lua:3: netdev: field 'nope' cannot be changed (device values are read-only; " ..
      "build a new one)",
      err('local n = qemu.netdev { id = "n0", type = "tap" }\n\nn.nope = 1\n'))
  end)

  it("the value is unchanged afterwards", function()
    local d = qemu.block { id = "hd0", file = "disk.img", format = "raw" }
    assert.is_false(pcall(function() d.file = "x" end))
    assert.are.equal("disk.img", d.file)
  end)
end)

describe("errors: kind-specific rules", function()
  local fds = 'local a = qemu.open("/dev/null", "r")\nlocal b = qemu.open("/dev/null", "r")\n'

  it("netdev: script and down_script are not used with fds", function()
    assert.are.equal("vm.lua:3: netdev: field 'script': not used with 'fds' (QEMU runs no script for descriptors it is given)",
      err(fds .. 'return qemu.netdev { id = "n0", type = "tap", fds = { a }, script = "/bin/true" }'))
    assert.are.equal("vm.lua:3: netdev: field 'down_script': not used with 'fds' (QEMU runs no script for descriptors it is given)",
      err(fds .. 'return qemu.netdev { id = "n0", type = "tap", fds = { a }, down_script = "/bin/true" }'))
  end)

  it("netdev: vhost_fds needs vhost = true", function()
    assert.are.equal("vm.lua:3: netdev: field 'vhost_fds': needs 'vhost = true'",
      err(fds .. 'return qemu.netdev { id = "n0", type = "tap", fds = { a }, vhost_fds = { b } }'))
    assert.are.equal("vm.lua:3: netdev: field 'vhost_fds': needs 'vhost = true'",
      err(fds .. 'return qemu.netdev { id = "n0", type = "tap", fds = { a }, vhost = false, vhost_fds = { b } }'))
  end)

  it("netdev: one vhost fd per queue", function()
    assert.are.equal("vm.lua:3: netdev: field 'vhost_fds': 2 descriptors, but 'fds' has 1 (one per queue)",
      err(fds .. 'return qemu.netdev { id = "n0", type = "tap", fds = { a }, vhost = true, vhost_fds = { b, a } }'))
  end)

  it("netdev: interface names are at most 15 characters", function()
    ctor('qemu.netdev { id = "n0", type = "tap", ifname = "abcdefghijklmnop" }',
      "netdev: field 'ifname': interface name 'abcdefghijklmnop' is too long (at most 15 bytes)")
  end)

  it("netdev: ifname must be the tap the fds belong to", function()
    local dir = H.tmpdir()
    H.write(dir .. "/vm.lua", [[
local t = qemu.tap("qlerr0")
return { devices = { qemu.netdev { id = "n0", type = "tap", ifname = arg[1], fds = t } } }
]])
    local results = {}
    local fine, why = pcall(H.in_netns, function(ns)
      for _, name in ipairs({ "other0", "qlerr0" }) do
        local code, out, e = H.sh("cd " .. H.q(dir) .. " && ip netns exec " .. ns .. " " ..
          H.qlua_cmd .. " -n vm.lua " .. name)
        results[name] = { code = code, out = out, err = e }
      end
    end)
    if not fine or results.qlerr0.err:find("tap", 1, true) and results.qlerr0.code ~= 0 then
      pending("cannot make a tap in a network namespace here: " .. tostring(why or results.qlerr0.err))
      return
    end
    assert.are.equal(2, results.other0.code)
    assert.are.equal("qlua: vm.lua:2: netdev: field 'ifname': 'other0' does not match fds[1] (tap qlerr0 queue 1)\n",
      results.other0.err)
    assert.are.equal(0, results.qlerr0.code)
    assert.are.equal("", results.qlerr0.err)
  end)

  it("block: scsi = true is refused", function()
    ctor('qemu.block { id = "a", file = "x", format = "raw", scsi = true }',
      "block: field 'scsi': SCSI passthrough on virtio-blk was removed from QEMU (5.0); use a " ..
      "scsi-block device on a SCSI controller")
    ok('return qemu.block { id = "a", file = "x", format = "raw", scsi = false }')
  end)

  it("vfio: bdf or sysfs_dev, exactly one", function()
    ctor('qemu.vfio { bdf = "01:00.0", sysfs_dev = "/sys/x" }', "vfio: field 'sysfs_dev': give 'bdf' or 'sysfs_dev', not both")
    ctor('qemu.vfio { id = "v0" }', "vfio: field 'bdf' or 'sysfs_dev' is required")
    ok('return qemu.vfio { sysfs_dev = "/sys/bus/mdev/devices/x" }')
  end)

  it("chardev: device fields need a driver", function()
    for _, f in ipairs({ 'bus = "pci.0"', 'device_id = "d0"', 'name = "port"', 'addr = 3',
                          'romfile = "/r"', 'disable_modern = true' }) do
      local field = f:match("^(%S+)")
      ctor('qemu.chardev { id = "c0", backend = "pty", ' .. f .. ' }',
        "chardev: field '" .. field .. "': only used with a device (set 'driver')")
    end
    ok('return qemu.chardev { id = "c0", backend = "pty", driver = "virtconsole", name = "port", addr = 3 }')
  end)

  -- QEMU cuts a virtio-blk serial at 20 bytes
  it("block: a virtio-blk serial holds 20 bytes", function()
    local msg = "block: field 'serial': 'abcdefghij0123456789x' is 21 bytes, longer than a virtio-blk serial " ..
                "(20 bytes; QEMU would cut it)"
    ctor('qemu.block { id = "hd0", file = "/d", format = "raw", serial = "abcdefghij0123456789x" }', msg)
    ctor('qemu.block { id = "hd0", file = "/d", format = "raw", driver = "virtio-blk-device", ' ..
         'serial = "abcdefghij0123456789x" }', msg)
    ok('return qemu.block { id = "hd0", file = "/d", format = "raw", serial = "abcdefghij0123456789" }')
    ok('return qemu.block { id = "hd0", file = "/d", format = "raw", driver = "scsi-hd", ' ..
       'serial = "abcdefghij0123456789x" }')
    ok('return qemu.block { id = "hd0", file = "/d", format = "raw", interface = "scsi", ' ..
       'serial = "abcdefghij0123456789x" }')
  end)

  it("chardev: driver 'serial' has no device, so no device fields", function()
    for _, f in ipairs({ 'bus = "pci.0"', 'device_id = "d0"', 'name = "port"', 'addr = 3',
                          'romfile = "/r"', 'disable_modern = true' }) do
      local field = f:match("^(%S+)")
      ctor('qemu.chardev { id = "c0", backend = "pty", driver = "serial", ' .. f .. ' }',
        "chardev: field '" .. field .. "': not used with driver 'serial' (that is a legacy serial port, " ..
        "connected by qemu.legacy_serial, not a device)")
    end
  end)

  it("qmp: path or fd, exactly one", function()
    vm_err('{ qmp = { { path = "/x", fd = f } } }', "field 'qmp[1].fd': give 'path' or 'fd', not both",
      'local f = qemu.open("/dev/null", "r")')
    -- regression: the entry's path was once dropped ("field 'path' or 'fd' is required")
    vm_err('{ qmp = { { path = "/q" }, {} } }', "field 'qmp[2].path' or 'qmp[2].fd' is required")
  end)

  it("qmp: wait only with server", function()
    vm_err('{ qmp = { { fd = f, wait = true } } }', "field 'qmp[1].wait': only used with 'server = true'",
      'local f = qemu.open("/dev/null", "r")')
    vm_err('{ qmp = { { path = "/q", server = false, wait = false } } }',
      "field 'qmp[1].wait': only used with 'server = true'")
  end)

  it("global: driver.property=value", function()
    vm_err('{ global = "foo" }', "field 'global': invalid global 'foo' (expected 'driver.property=value')")
    vm_err('{ global = { "a.b=c", "foo=bar" } }', "field 'global[2]': invalid global 'foo=bar' (expected 'driver.property=value')")
    vm_err('{ global = { ".b=c" } }', "field 'global[1]': invalid global '.b=c' (expected 'driver.property=value')")
    vm_ok('{ global = { "kvm-pit.lost_tick_policy=discard", "a.b=" } }')
  end)

  it("machine: accelerator names", function()
    vm_err('{ machine = { accel = "kvm:foo" } }', "field 'machine.accel': invalid accelerator 'foo' " ..
      "(expected 'kvm', 'tcg', 'xen', 'hvf', 'whpx', 'nvmm', 'hax' or 'qtest', separated by ':')")
    vm_err('{ machine = { accel = "kvm::tcg" } }', "field 'machine.accel': invalid accelerator '' " ..
      "(expected 'kvm', 'tcg', 'xen', 'hvf', 'whpx', 'nvmm', 'hax' or 'qtest', separated by ':')")
    vm_err('{ machine = { accel = "KVM" } }', "field 'machine.accel': invalid accelerator 'KVM' " ..
      "(expected 'kvm', 'tcg', 'xen', 'hvf', 'whpx', 'nvmm', 'hax' or 'qtest', separated by ':')")
    vm_ok('{ machine = { accel = "kvm:tcg" } }')
  end)
end)

-- ---- which line a returned description blames ---------------------------------------

describe("errors: a returned description blames its return statement", function()
  it("the line of `return vm`", function()
    assert.are.equal("qlua: vm.lua:6: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local vm = {\n  memory = { size = "1G" },\n  uuid = "zz",\n}\n\nreturn vm\n'))
  end)

  it("a return inside a block", function()
    assert.are.equal("qlua: vm.lua:3: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local vm = { uuid = "zz" }\nif #arg == 0 then\n  return vm\nend\nreturn {}\n'))
  end)

  it("a multi-line return names the line of `return`", function()
    -- regression: the line of the closing brace (4) was once named
    assert.are.equal("qlua: vm.lua:1: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('return {\n  memory = { size = "1G" },\n  uuid = "zz",\n}\n'))
  end)

  it("`return f()` (a tail call) names the line of the return", function()
    -- regression: line 0 was once named
    assert.are.equal("qlua: vm.lua:2: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local function f() return { uuid = "zz" } end\nreturn f()\n'))
  end)

  it("with several returns, neither a tail call nor a coroutine's return is the main chunk's", function()
    -- the return hook tells the main chunk by its depth, then by the function itself
    assert.are.equal("qlua: vm.lua:5: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local function f() return { uuid = "zz" } end\n' ..
        'assert(coroutine.wrap(function() return 1 end)() == 1)\n' ..
        'if #arg > 5 then return {} end\n' ..
        'local vm = f()\nreturn vm\n'))
    assert.are.equal("qlua: vm.lua:3: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local function f() return { uuid = "zz" } end\n' ..
        'if #arg > 5 then return {} end\n' ..
        'return f()\n'))
  end)

  it("a function returning the description elsewhere does not move the line", function()
    assert.are.equal("qlua: vm.lua:5: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local function f()\n  return { uuid = "zz" }\nend\nlocal vm = f()\nreturn vm\n'))
  end)

  it("skips `return` in comments, strings and function bodies", function()
    assert.are.equal("qlua: vm.lua:8: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err([==[
local function f()
  return { uuid = "zz" }   -- return in a function
end
local s = "return"  --[[ return
return ]] local t = [=[
return ]=]
if false then return end
return
  -- a comment: return
  f()
]==]))
  end)

  it("counts lines in strings continued with a backslash", function()
    assert.are.equal("qlua: vm.lua:5: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local s = "a\\\n  b"\nlocal vm = { uuid = "zz" }\n\nreturn vm\n'))
  end)

  it("counts lines in strings continued with \\z", function()
    -- regression: retline.c once left the string at the line break after \z
    assert.are.equal("qlua: vm.lua:4: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local s = "a\\z\n  b"\nlocal vm = { uuid = "zz" }\nreturn vm\n'))
  end)

  it("counts CRLF line ends once", function()
    assert.are.equal("qlua: vm.lua:3: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('local vm = { uuid = "zz" }\r\n\r\nreturn vm\r\n'))
  end)

  it("a #! line counts as a line", function()
    assert.are.equal("qlua: vm.lua:3: field 'uuid': invalid UUID 'zz' (expected 8-4-4-4-12 hex digits)\n",
      returned_err('#!/usr/bin/env qlua\nlocal vm = { uuid = "zz" }\nreturn vm\n'))
  end)

  it("cross-device errors name the device's line instead", function()
    assert.are.equal("qlua: vm.lua:2: devices[1] (netdev): field 'chardev': no chardev with id 'c9' " ..
      "in this description (known: 'c0')\n",
      returned_err('local c = qemu.chardev { id = "c0", backend = "pty" }\n' ..
        'local n = qemu.netdev { id = "n0", type = "vhostuser", chardev = "c9" }\n' ..
        'return {\n  devices = { n, c },\n}\n'))
  end)

  it("devices built in a helper function name the helper's line", function()
    assert.are.equal("qlua: vm.lua:2: devices[2] (block): field 'id': duplicate drive id 'hd0' " ..
      "(devices[1] (block) at vm.lua:2 has it too)\n",
      returned_err('local function disk(f)\n  return qemu.block { id = "hd0", file = f, format = "raw" }\nend\n' ..
        'return { devices = { disk("a"), disk("b") } }\n'))
  end)
end)

describe("errors: qemu.run and qemu.launch check before starting", function()
  it("qemu.run names its line and starts nothing", function()
    local d = H.tmpdir()
    local marker = d .. "/started"
    local stand = H.write(d .. "/qemu", "#!/bin/sh\ntouch " .. H.q(marker) .. "\n")
    os.execute("chmod +x " .. H.q(stand))
    assert.are.equal("vm.lua:2: field 'uuid': invalid UUID 'x' (expected 8-4-4-4-12 hex digits)",
      err(("local vm = { path = %q, uuid = 'x' }\nreturn qemu.run(vm)\n"):format(stand)))
    assert.are.equal("vm.lua:1: field 'uuid': invalid UUID 'x' (expected 8-4-4-4-12 hex digits)",
      err(("return qemu.launch { path = %q, uuid = 'x' }\n"):format(stand)))
    assert.is_nil(io.open(marker))
  end)
end)

-- ---- nothing starts when anything is invalid ----------------------------------------

describe("errors: nothing starts when the description is invalid", function()
  local function standin()
    local d = H.tmpdir()
    local marker = d .. "/started"
    local stand = H.write(d .. "/qemu", "#!/bin/sh\ntouch " .. H.q(marker) .. "\nexit 7\n")
    os.execute("chmod +x " .. H.q(stand))
    return stand, marker
  end

  it("a valid description does run the stand-in (the control)", function()
    local stand, marker = standin()
    local code, _, e = qlua_run('return { name = "ok" }\n', {}, "QLUA_QEMU=" .. H.q(stand) .. " </dev/null")
    assert.are.equal("", e)
    assert.are.equal(7, code)
    assert.is_truthy(io.open(marker))
  end)

  it("an invalid section: exit 2, QLUA_QEMU never run", function()
    local stand, marker = standin()
    local code, out, e = qlua_run('return { name = "bad", uuid = "x" }\n', {}, "QLUA_QEMU=" .. H.q(stand) .. " </dev/null")
    assert.are.equal("qlua: vm.lua:1: field 'uuid': invalid UUID 'x' (expected 8-4-4-4-12 hex digits)\n", e)
    assert.are.equal("", out)
    assert.are.equal(2, code)
    assert.is_nil(io.open(marker))
  end)

  it("an invalid description whose path would create a file", function()
    local stand, marker = standin()
    local code, _, e = qlua_run(("return { path = %q, smp = { cpus = 4, maxcpus = 2 } }\n"):format(stand), {}, "</dev/null")
    assert.are.equal("qlua: vm.lua:1: field 'smp.maxcpus': 2 is less than 'cpus' (4)\n", e)
    assert.are.equal(2, code)
    assert.is_nil(io.open(marker))
  end)

  it("a constructor error", function()
    local stand, marker = standin()
    local code, _, e = qlua_run(("local d = qemu.block { id = 'a', file = 'x', format = 'qcow3' }\nreturn { path = %q, devices = { d } }\n"):format(stand), {}, "</dev/null")
    assert.are.equal(2, code)
    assert.is_truthy(e:find("^qlua: vm.lua:1: block: field 'format': invalid option 'qcow3'"))
    assert.is_nil(io.open(marker))
  end)

  it("a cross-device error", function()
    local stand, marker = standin()
    local code, _, e = qlua_run(("local a = qemu.block { id = 'a', file = 'x', format = 'raw' }\n" ..
      "local b = qemu.block { id = 'a', file = 'y', format = 'raw' }\nreturn { path = %q, devices = { a, b } }\n"):format(stand),
      {}, "</dev/null")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:2: devices[2] (block): field 'id': duplicate drive id 'a' " ..
      "(devices[1] (block) at vm.lua:1 has it too)\n", e)
    assert.is_nil(io.open(marker))
  end)
end)

-- ---- the kinds and sections govmm grew after the seed ------------------------------

-- A description (source text of a table, built from the device locals of
-- setup, one per line) whose error blames the line of device number `line`:
-- through qemu.argv and returned by a script.
local function dev_err(setup, desc, line, msg)
  local full = "vm.lua:" .. line .. ": " .. msg
  assert.are.equal(full, err(setup .. "\nqemu.argv(" .. desc .. ")\n"))
  assert.are.equal("qlua: " .. full .. "\n", returned_err(setup .. "\n\nreturn " .. desc .. "\n"))
end

describe("errors: later govmm device kinds", function()
  it("object: types QEMU 7.2 does not have are refused, saying so", function()
    ctor('qemu.object { type = "sev-snp-guest", id = "s" }',
      "object: field 'type': QEMU 7.2 has no 'sev-snp-guest' object (SEV-SNP came with QEMU 9.1); qlua does not emit it")
  end)

  -- tdx-guest is rendered (whether the binary has it is
  -- --check's to say); its quote-generation socket is one of two kinds
  it("object: tdx-guest and its quote-generation socket", function()
    ok('return qemu.object { type = "tdx-guest", id = "t" }')
    ok('return qemu.object { type = "tdx-guest", id = "t", qgs_port = 4050, sept_ve_disable = true, file = "/fw" }')
    ctor('qemu.object { type = "tdx-guest", id = "t", qgs_port = 4050, qgs_path = "/run/qgs.sock" }',
      "object: field 'qgs_path': give 'qgs_port' or 'qgs_path', not both")
    ctor('qemu.object { type = "tdx-guest", id = "t", qgs_port = 0 }',
      "object: field 'qgs_port': 0 is out of range (expected 1..4294967295)")
    ctor('qemu.object { type = "tdx-guest", id = "t", qgs_path = "/run/q\\255.sock" }',
      "object: field 'qgs_path': not valid UTF-8 (a tdx-guest goes to QEMU as JSON)")
    ctor('qemu.object { type = "sev-guest", id = "s", cbitpos = 47, reduced_phys_bits = 1, qgs_port = 4050 }',
      "object: field 'qgs_port' is not used with type 'sev-guest'")
    ctor('qemu.object { type = "memory-backend-ram", id = "m", size = "1M", sept_ve_disable = true }',
      "object: field 'sept_ve_disable' is not used with type 'memory-backend-ram'")
    dev_err('local t = qemu.object { type = "tdx-guest", id = "t", file = "/fw" }', "{ bios = '/b', devices = { t } }", 1,
      "devices[1] (object): field 'file': the VM has bios too (give the firmware once)")
  end)

  it("object: fields per type", function()
    ctor('qemu.object { type = "sev-guest", id = "s", reduced_phys_bits = 1 }',
      "object: field 'cbitpos' is required with type 'sev-guest'")
    ctor('qemu.object { type = "sev-guest", id = "s", cbitpos = 47 }',
      "object: field 'reduced_phys_bits' is required with type 'sev-guest'")
    ctor('qemu.object { type = "sev-guest", id = "s", cbitpos = 47, reduced_phys_bits = 1, size = "1M" }',
      "object: field 'size' is not used with type 'sev-guest'")
    ctor('qemu.object { type = "sev-guest", id = "s", cbitpos = 64, reduced_phys_bits = 1 }',
      "object: field 'cbitpos': 64 is out of range (expected 1..63)")
    ctor('qemu.object { type = "memory-backend-ram", id = "m", size = "1M", mem_path = "/x" }',
      "object: field 'mem_path' is not used with type 'memory-backend-ram'")
    ctor('qemu.object { type = "memory-backend-memfd", id = "m" }',
      "object: field 'size' is required with type 'memory-backend-memfd'")
    ctor('qemu.object { type = "memory-backend-epc", id = "m", size = "1M", share = true }',
      "object: field 'share' is not used with type 'memory-backend-epc'")
    ctor('qemu.object { type = "memory-backend-ram", id = "m", size = "1M", file = "/f" }',
      "object: field 'file' is not used with type 'memory-backend-ram'")
    ok('return qemu.object { type = "memory-backend-ram", id = "m", size = "1M", driver = "nvdimm", device_id = "n" }')
  end)

  it("object: an SEV guest's firmware is given once", function()
    local sev = 'qemu.object { type = "sev-guest", id = "s", cbitpos = 47, reduced_phys_bits = 1, file = "/fw" }'
    dev_err("local x = 1\nlocal s = " .. sev, '{ pflash = "/code.fd", devices = { s } }', 2,
      "devices[1] (object): field 'file': the VM has pflash too (give the firmware once)")
    dev_err("local s = " .. sev, '{ bios = "/bios.bin", devices = { s } }', 1,
      "devices[1] (object): field 'file': the VM has bios too (give the firmware once)")
  end)

  it("vfio: devfs_dev needs an iommufd QEMU 7.2 does not have", function()
    ctor('qemu.vfio { bdf = "01:00.0", devfs_dev = "/dev/vfio/devices/vfio0" }',
      "vfio: field 'devfs_dev': QEMU 7.2 has no iommufd backend for VFIO device files (it came with QEMU 9.0); " ..
      "give 'bdf' or 'sysfs_dev' and QEMU opens the VFIO group itself")
  end)

  it("vsock: context_id 3..2^32-1, one per vsock", function()
    ctor('qemu.vsock { id = "v", context_id = 2 }', "vsock: field 'context_id': 2 is out of range (expected 3..4294967295)")
    ctor('qemu.vsock { id = "v", context_id = 4294967296 }',
      "vsock: field 'context_id': 4294967296 is out of range (expected 3..4294967295)")
    ctor('qemu.vsock { id = "v" }', "vsock: field 'context_id' is required")
    ctor('qemu.vsock { id = "v", context_id = 3, vhost_fd = 3 }', "vsock: field 'vhost_fd': qemu.fd expected, got number")
    ok('return qemu.vsock { id = "v", context_id = 4294967295 }')
    dev_err('local a = qemu.vsock { id = "a", context_id = 9 }\nlocal b = qemu.vsock { id = "b", context_id = 9 }',
      "{ devices = { a, b } }", 2, "devices[2] (vsock): field 'context_id': 9 is devices[1]'s too (each vsock needs its own)")
  end)

  it("legacy_serial: a chardev that exists", function()
    ctor("qemu.legacy_serial {}", "legacy_serial: field 'chardev' is required")
    dev_err('local s = qemu.legacy_serial { chardev = "con0" }', "{ devices = { s } }", 1,
      "devices[1] (legacy_serial): field 'chardev': no chardev with id 'con0' in this description")
    vm_ok('{ devices = { qemu.chardev { id = "con0", backend = "pty" }, qemu.legacy_serial { chardev = "con0" } } }')
  end)

  it("balloon, iommu and pvpanic: one per VM", function()
    dev_err("local a = qemu.balloon {}\nlocal b = qemu.balloon {}", "{ devices = { a, b } }", 2,
      "devices[2] (balloon): a second balloon (devices[1] is one; QEMU takes one per VM)")
    dev_err("local a = qemu.pvpanic {}\nlocal b = qemu.pvpanic { no_shutdown = true }", "{ devices = { a, b } }", 2,
      "devices[2] (pvpanic): a second pvpanic (devices[1] is one; QEMU takes one per VM)")
    dev_err("local a = qemu.iommu {}\nlocal b = qemu.iommu {}", '{ machine = { type = "q35" }, devices = { a, b } }', 2,
      "devices[2] (iommu): a second iommu (devices[1] is one; QEMU takes one per VM)")
  end)

  it("iommu: q35, and a split irqchip for intremap with KVM", function()
    dev_err("local i = qemu.iommu {}", "{ devices = { i } }", 1,
      "devices[1] (iommu): needs machine.type 'q35' (QEMU has intel-iommu on q35 only)")
    dev_err("local i = qemu.iommu {}", '{ machine = { type = "pc" }, devices = { i } }', 1,
      "devices[1] (iommu): needs machine.type 'q35' (QEMU has intel-iommu on q35 only)")
    dev_err("local i = qemu.iommu { intremap = true }", '{ machine = { type = "q35", accel = "kvm:tcg" }, devices = { i } }', 1,
      "devices[1] (iommu): field 'intremap': with KVM it needs machine.options['kernel-irqchip'] = 'split' " ..
      "(QEMU cannot remap interrupts of KVM's in-kernel irqchip)")
    vm_ok('{ machine = { type = "q35", accel = "kvm:tcg", options = { ["kernel-irqchip"] = "split" } }, ' ..
      'devices = { qemu.iommu { intremap = true } } }')
    vm_ok('{ machine = { type = "pc-q35-7.2", accel = "tcg" }, devices = { qemu.iommu { intremap = true } } }')
  end)

  it("pcie_root_port: one prefetchable window, no option ROM", function()
    ctor('qemu.pcie_root_port { id = "rp", pref32_reserve = "1M", pref64_reserve = "1G" }',
      "pcie_root_port: field 'pref32_reserve': not with 'pref64_reserve' (QEMU has one prefetchable window)")
  end)

  -- every PCI kind has romfile (docs/contract.md); on a bridge or
  -- port QEMU aborts on it (7.2 and later: pci_register_bar asserts that a
  -- bridge has BARs 0 and 1 only), so there it is refused, saying why
  it("romfile on a PCI bridge or port is refused: QEMU aborts on it", function()
    local why = "QEMU aborts on an option ROM on a PCI bridge or port (pci_register_bar allows a bridge " ..
                "BARs 0 and 1 only)"
    for _, c in ipairs({ 'qemu.pcie_root_port { id = "rp", romfile = "/r" }',
                         'qemu.bridge { id = "b", type = "pci", bus = "pci.0", chassis = 1, romfile = "/r" }',
                         'qemu.bridge { id = "b", type = "pcie", bus = "pcie.0", romfile = "/r" }',
                         'qemu.pcie_switch_upstream { id = "u", bus = "rp", romfile = "/r" }',
                         'qemu.pcie_switch_downstream { id = "d", bus = "u", chassis = 1, slot = 0, romfile = "/r" }' }) do
      ctor(c, c:match("^qemu%.(%S+)") .. ": field 'romfile': " .. why)
    end
    ok('return qemu.pxb_pcie { id = "p", bus_nr = 1, romfile = "/r" }')
  end)

  it("pcie_switch_downstream: chassis and slot, and no reservations", function()
    ctor('qemu.pcie_switch_downstream { id = "d", bus = "u", slot = 0 }', "pcie_switch_downstream: field 'chassis' is required")
    for _, f in ipairs({ 'bus_reserve = 1', 'pref64_reserve = "1G"', 'pref32_reserve = "1M"', 'mem_reserve = "1M"',
                         'io_reserve = "4K"' }) do
      ctor('qemu.pcie_switch_downstream { id = "d", bus = "u", chassis = 1, slot = 0, ' .. f .. ' }',
        "pcie_switch_downstream: field '" .. f:match("^(%S+)") .. "': QEMU's xio3130-downstream has no resource " ..
        "reservations (only pcie_root_port has them)")
    end
  end)

  it("PCIe ports: (chassis, slot) unique across root and downstream ports", function()
    dev_err('local a = qemu.pcie_root_port { id = "a" }\nlocal b = qemu.pcie_root_port { id = "b" }',
      "{ devices = { a, b } }", 2, "devices[2] (pcie_root_port): chassis 0 slot 0 is devices[1]'s too " ..
      "(QEMU needs each PCIe port's pair unique; both default to 0)")
    dev_err('local a = qemu.pcie_root_port { id = "a", chassis = 1, slot = 1 }\n' ..
            'local u = qemu.pcie_switch_upstream { id = "u", bus = "a" }\n' ..
            'local d = qemu.pcie_switch_downstream { id = "d", bus = "u", chassis = 1, slot = 1 }',
      "{ devices = { a, u, d } }", 3, "devices[3] (pcie_switch_downstream): chassis 1 slot 1 is devices[1]'s too " ..
      "(QEMU needs each PCIe port's pair unique; both default to 0)")
  end)

  it("PCIe ports and expanders provide their buses", function()
    vm_ok('{ devices = { qemu.pxb_pcie { id = "pxb", bus_nr = 8 }, ' ..
      'qemu.pcie_root_port { id = "rp", bus = "pxb", chassis = 1 }, ' ..
      'qemu.pcie_switch_upstream { id = "up", bus = "rp" }, ' ..
      'qemu.pcie_switch_downstream { id = "dn", bus = "up", chassis = 2, slot = 0 }, ' ..
      'qemu.balloon { bus = "dn" } } }')
    dev_err('local u = qemu.pcie_switch_upstream { id = "up", bus = "rp9" }', "{ devices = { u } }", 1,
      "devices[1] (pcie_switch_upstream): field 'bus': no bus with id 'rp9' in this description " ..
      "(known: 'up', or the machine's own such as 'pci.0' or 'pcie.0')")
  end)

  it("pxb_pcie: bus_nr 1..255 and unique, numa_node a NUMA node", function()
    ctor('qemu.pxb_pcie { id = "p", bus_nr = 0 }', "pxb_pcie: field 'bus_nr': 0 is out of range (expected 1..255)")
    dev_err('local a = qemu.pxb_pcie { id = "a", bus_nr = 1 }\nlocal b = qemu.pxb_pcie { id = "b", bus_nr = 1 }',
      "{ devices = { a, b } }", 2, "devices[2] (pxb_pcie): field 'bus_nr': 1 is devices[1]'s too")
    dev_err('local p = qemu.pxb_pcie { id = "p", bus_nr = 1, numa_node = 0 }', "{ devices = { p } }", 1,
      "devices[1] (pxb_pcie): field 'numa_node': the VM has no numa.nodes")
    dev_err('local p = qemu.pxb_pcie { id = "p", bus_nr = 1, numa_node = 1 }',
      '{ memory = { size = "128M" }, numa = { nodes = { { node_id = 0, mem_size = "128M" } } }, devices = { p } }', 1,
      "devices[1] (pxb_pcie): field 'numa_node': no NUMA node 1 (the nodes are 0..0)")
  end)

  it("rng: max_bytes and period positive", function()
    ctor('qemu.rng { id = "r", max_bytes = 0 }', "rng: field 'max_bytes': 0 is out of range (expected 1..2^63-1)")
    ctor('qemu.rng { id = "r", period = 0 }', "rng: field 'period': 0 is out of range (expected 1..4294967295)")
    ctor('qemu.rng { filename = "/dev/urandom" }', "rng: field 'id' is required")
  end)

  it("scsi_controller: iothread names an iothread", function()
    dev_err('local s = qemu.scsi_controller { id = "s", iothread = "io1" }', '{ iothreads = { { id = "io0" } }, devices = { s } }', 1,
      "devices[1] (scsi_controller): field 'iothread': no object with id 'io1' in this description (known: 'io0')")
    vm_ok('{ iothreads = { { id = "io0" } }, devices = { qemu.scsi_controller { id = "s", iothread = "io0" }, ' ..
      'qemu.block { id = "d", file = "/f", format = "raw", interface = "scsi", bus = "s.0" } } }')
  end)
end)

describe("errors: later govmm sections", function()
  it("pflash: one or two non-empty paths", function()
    vm_err('{ pflash = { "a", "b", "c" } }', "field 'pflash': 3 images, but QEMU's machines have two flash units (0 and 1)")
    vm_err('{ pflash = { "a", "" } }', "field 'pflash[2]': empty string (a flash image path)")
    vm_err('{ pflash = {} }', "field 'pflash': empty list (leave the field out instead)")
    vm_err('{ pflash = "" }', "field 'pflash': empty string (leave the field out instead)")
  end)

  it("pidfile: not a path that exists as something else than a file (QEMU would remove it)", function()
    vm_err('{ pidfile = "/dev/null" }',
      "field 'pidfile': '/dev/null' exists and is not a regular file (QEMU removes a pidfile it cannot write)")
    vm_err('{ pidfile = "/tmp" }',
      "field 'pidfile': '/tmp' exists and is not a regular file (QEMU removes a pidfile it cannot write)")
    vm_ok('{ pidfile = "/nonexistent-dir/qemu.pid" }')   -- QEMU's own error, when it starts
  end)

  it("iothreads: ids unique among QEMU's objects", function()
    vm_err('{ iothreads = { { id = "io0" }, { id = "io0" } } }',
      "field 'iothreads[2].id': duplicate object id 'io0' (iothreads[1] has it too)")
    vm_err('{ iothreads = { {} } }', "field 'iothreads[1].id' is required")
    dev_err('local m = qemu.object { type = "memory-backend-ram", id = "io0", size = "1M" }',
      '{ iothreads = { { id = "io0" } }, devices = { m } }', 1,
      "devices[1] (object): field 'id': duplicate object id 'io0' (iothreads[1] has it too)")
    vm_ok('{ iothreads = { { id = "x" } }, devices = { qemu.netdev { id = "x", type = "tap" } } }')
  end)

  it("incoming: type and its field", function()
    vm_err('{ incoming = { type = "fd" } }', "field 'incoming.fd' is required with type 'fd'")
    vm_err('{ incoming = { type = "exec" } }', "field 'incoming.exec' is required with type 'exec'")
    vm_err('{ incoming = { type = "defer", exec = "cat" } }', "field 'incoming.exec' is not used with type 'defer'")
    vm_err('{ incoming = { type = "tcp" } }', "field 'incoming.type': invalid option 'tcp' (expected 'defer', 'fd' or 'exec')")
  end)

  it("fw_cfg: a name under opt/, file or string, each name once", function()
    vm_err('{ fw_cfg = { { name = "opt/a", file = "/f", string = "s" } } }',
      "field 'fw_cfg[1].string': give 'file' or 'string', not both")
    vm_err('{ fw_cfg = { { name = "opt/a" } } }', "field 'fw_cfg[1].file' or 'fw_cfg[1].string' is required")
    vm_err('{ fw_cfg = { { name = "etc/a", string = "s" } } }',
      "field 'fw_cfg[1].name': 'etc/a' does not start with 'opt/' (QEMU reserves other names, and warns)")
    vm_err('{ fw_cfg = { { name = "opt/" .. ("x"):rep(52), string = "s" } } }',
      "field 'fw_cfg[1].name': 56 bytes long (QEMU takes at most 55)")
    vm_err('{ fw_cfg = { { name = "opt/a", string = "s" }, { name = "opt/b", string = "t" }, { name = "opt/a", file = "/f" } } }',
      "field 'fw_cfg[3].name': 'opt/a' is fw_cfg[1]'s too (each item once)")
  end)

  it("sandbox: a table of QEMU's options; spawn 'deny' with what forks", function()
    vm_err('{ sandbox = true }', "field 'sandbox': table expected, got boolean")
    vm_err('{ sandbox = { spawn = "maybe" } }', "field 'sandbox.spawn': invalid option 'maybe' (expected 'allow' or 'deny')")
    vm_err('{ sandbox = { spawn = "deny" }, knobs = { daemonize = true } }',
      "field 'sandbox.spawn': 'deny' with knobs.daemonize (QEMU forks to detach, and the sandbox kills it)")
    vm_err('{ sandbox = { spawn = "deny" }, incoming = { type = "exec", exec = "cat" } }',
      "field 'sandbox.spawn': 'deny' with incoming type 'exec' (QEMU forks to run the command, and the sandbox kills it)")
    vm_err('{ sandbox = { spawn = "deny" }, devices = { qemu.netdev { type = "tap", id = "n", ifname = "t", down_script = "/s" } } }',
      "field 'sandbox.spawn': 'deny' with devices[1]'s down_script (QEMU forks to run it, and the sandbox kills it)")
    vm_ok('{ sandbox = { spawn = "deny" }, devices = { qemu.netdev { type = "tap", id = "n", ifname = "t" } } }')
  end)

  it("uid, gid, groups", function()
    vm_err('{ uid = -1 }', "field 'uid': -1 is out of range (expected 0..4294967294)")
    vm_err('{ gid = 4294967295 }', "field 'gid': 4294967295 is out of range (expected 0..4294967294)")
    vm_err('{ groups = { 1, "x" } }', "field 'groups[2]': number expected, got string")
    vm_err('{ groups = 5 }', "field 'groups': table expected, got number")
    vm_err('{ groups = g }', "field 'groups': 65 groups (qlua passes at most 64)",
      "local g = {} for i = 1, 65 do g[i] = i end")
    vm_ok('{ uid = 0, gid = 0, groups = {} }')
  end)

  it("memory knobs: file_backed_mem needs memory.path, all need memory.size", function()
    vm_err('{ memory = { size = "1G" }, knobs = { file_backed_mem = true } }',
      "field 'knobs.file_backed_mem': needs 'memory.path' (the file backing guest RAM)")
    vm_err('{ knobs = { file_backed_mem = true } }',
      "field 'knobs.file_backed_mem': needs 'memory.size' (the memory is reserved up front)")
    vm_err('{ knobs = { mem_shared = true } }',
      "field 'knobs.mem_shared': needs 'memory.size' (the memory is reserved up front)")
  end)

  it("iommu_platform: modern virtio devices qlua makes", function()
    dev_err("local b = qemu.balloon { disable_modern = true }", "{ knobs = { iommu_platform = true }, devices = { b } }", 1,
      "devices[1] (balloon): field 'disable_modern': not with knobs.iommu_platform (a legacy virtio device has no " ..
      "iommu_platform)")
    dev_err('local d = qemu.block { id = "d", file = "/f", format = "raw", interface = "virtio" }',
      "{ knobs = { iommu_platform = true }, devices = { d } }", 1,
      "devices[1] (block): field 'interface': 'virtio' lets QEMU make the device, without iommu_platform " ..
      "(knobs.iommu_platform); use 'none'")
    dev_err('local d = qemu.block { id = "d", file = "/f", format = "raw", driver = "virtio-blk-pci-transitional" }',
      "{ knobs = { iommu_platform = true }, devices = { d } }", 1,
      "devices[1] (block): field 'driver': 'virtio-blk-pci-transitional' keeps its legacy interface, which cannot " ..
      "have iommu_platform (knobs.iommu_platform)")
  end)
end)

describe("errors: numa", function()
  local M = 'memory = { size = "128M" }'
  local N2 = '{ { node_id = 0, mem_size = "64M" }, { node_id = 1, mem_size = "64M" } }'

  it("needs memory.size, which the nodes' mem_size add up to", function()
    vm_err('{ numa = { nodes = { { node_id = 0, mem_size = "128M" } } } }',
      "field 'numa': needs 'memory.size' (the nodes' mem_size add up to it)")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "64M" } } } }',
      "field 'numa.nodes': the nodes' mem_size add up to 64M, but memory.size is 128M")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0 } } } }',
      "field 'numa.nodes': the nodes' mem_size add up to 0B, but memory.size is 128M")
    vm_err('{ memory = { size = "128M", path = "/p" }, numa = { nodes = { { node_id = 0, mem_size = "128M" } } } }',
      "field 'memory.path': not used with NUMA nodes that have memory (give each node 'mem_backend_path')")
  end)

  it("node ids 0..N-1, each once", function()
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "64M" }, { node_id = 0, mem_size = "64M" } } } }',
      "field 'numa.nodes[2].node_id': node 0 is given twice")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "64M" }, { node_id = 2, mem_size = "64M" } } } }',
      "field 'numa.nodes[2].node_id': 2, but the 2 nodes are numbered 0..1")
    vm_err('{ ' .. M .. ', numa = { nodes = { { mem_size = "128M" } } } }', "field 'numa.nodes[1].node_id' is required")
  end)

  it("cpus: indexes and ranges, each CPU in one node, all of them", function()
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", cpus = "0-x" } } } }',
      "field 'numa.nodes[1].cpus': invalid CPU list '0-x' (expected indexes and ranges like '0-3,5')")
    vm_err('{ ' .. M .. ', smp = { cpus = 4 }, numa = { nodes = { { node_id = 0, mem_size = "128M", cpus = { "0", "1,3-2" } } } } }',
      "field 'numa.nodes[1].cpus[2]': invalid CPU list '1,3-2' at '3-2' (expected indexes and ranges like '0-3,5')")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", cpus = "0-1" } } } }',
      "field 'numa.nodes[1].cpus': CPU 1, but the VM has 1 CPU (no smp section)")
    vm_err('{ ' .. M .. ', smp = { cpus = 2, maxcpus = 4 }, numa = { nodes = { { node_id = 0, mem_size = "128M", cpus = "0-4" } } } }',
      "field 'numa.nodes[1].cpus': CPU 4, but the VM has 4 CPUs (smp.maxcpus)")
    vm_err('{ ' .. M .. ', smp = { cpus = 2 }, numa = { nodes = { { node_id = 0, mem_size = "64M", cpus = "0-1" }, ' ..
      '{ node_id = 1, mem_size = "64M", cpus = "1" } } } }', "field 'numa.nodes[2].cpus': CPU 1 is already in another node")
    vm_err('{ ' .. M .. ', smp = { cpus = 2, maxcpus = 4 }, numa = { nodes = { { node_id = 0, mem_size = "64M", cpus = "0-1" }, ' ..
      '{ node_id = 1, mem_size = "64M", cpus = "3" } } } }',
      "field 'numa.nodes': CPU 2 is in no node (once CPUs are placed, QEMU wants every one of the 4 placed)")
    vm_ok('{ ' .. M .. ', smp = { cpus = 4 }, numa = { nodes = ' .. N2 .. ' } }')
  end)

  it("a node's backend", function()
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = 0 } } } }',
      "field 'numa.nodes[1].mem_size': size must be greater than 0 (leave it out for a node without memory)")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", policy = "bind" } } } }',
      "field 'numa.nodes[1].policy': only used with 'host_nodes'")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", host_nodes = {} } } } }',
      "field 'numa.nodes[1].host_nodes': empty list (leave the field out instead)")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", host_nodes = { 0, 128 } } } } }',
      "field 'numa.nodes[1].host_nodes[2]': 128 is out of range (expected 0..127)")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M" }, { node_id = 1, host_nodes = { 0 } } } } }',
      "field 'numa.nodes[2].host_nodes': only used with 'mem_size' (a node without memory has no backend)")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", mem_backend_type = "memory-backend-ram", ' ..
      'mem_backend_path = "/x" } } } }', "field 'numa.nodes[1].mem_backend_path': not used with mem_backend_type 'memory-backend-ram'")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", mem_backend_type = "memory-backend-file" } } } }',
      "field 'numa.nodes[1].mem_backend_path' is required with mem_backend_type 'memory-backend-file'")
    vm_err('{ ' .. M .. ', knobs = { file_backed_mem = true }, numa = { nodes = { { node_id = 0, mem_size = "128M" } } } }',
      "field 'numa.nodes[1].mem_backend_path' is required with knobs.file_backed_mem (each node's RAM has its own file)")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "128M", host_nodes = { 0 }, ' ..
      'mem_backend_path = "/a\\255" } } } }',
      "field 'numa.nodes[1].mem_backend_path': not valid UTF-8 (with host_nodes the backend is passed as JSON)")
    vm_ok('{ ' .. M .. ', knobs = { hugepages = true }, numa = { nodes = { { node_id = 0, mem_size = "128M" } } } }')
  end)

  it("distances: between nodes, 10 to itself, each pair once at least", function()
    vm_err('{ ' .. M .. ', numa = { dists = { { src = 0, dst = 1, val = 20 } } } }',
      "field 'numa.dists': distances without 'numa.nodes'")
    vm_err('{ ' .. M .. ', numa = { nodes = ' .. N2 .. ', dists = { { src = 0, dst = 2, val = 20 } } } }',
      "field 'numa.dists[1].dst': no node 2 (the nodes are 0..1)")
    vm_err('{ ' .. M .. ', numa = { nodes = ' .. N2 .. ', dists = { { src = 0, dst = 0, val = 11 } } } }',
      "field 'numa.dists[1].val': 11, but a node's distance to itself is 10")
    vm_err('{ ' .. M .. ', numa = { nodes = ' .. N2 .. ', dists = { { src = 0, dst = 1, val = 9 } } } }',
      "field 'numa.dists[1].val': 9 is out of range (expected 10..255)")
    vm_err('{ ' .. M .. ', numa = { nodes = ' .. N2 .. ', dists = { { src = 0, dst = 1, val = 20 }, { src = 0, dst = 1, val = 21 } } } }',
      "field 'numa.dists[2]': the distance from node 0 to node 1 is given twice")
    vm_err('{ ' .. M .. ', numa = { nodes = { { node_id = 0, mem_size = "64M" }, { node_id = 1, mem_size = "32M" }, ' ..
      '{ node_id = 2, mem_size = "32M" } }, dists = { { src = 0, dst = 1, val = 20 }, { src = 2, dst = 0, val = 20 } } } }',
      "field 'numa.dists': no distance between nodes 1 and 2 (QEMU needs one for each pair once any is given)")
    vm_ok('{ ' .. M .. ', numa = { nodes = ' .. N2 .. ', dists = { { src = 1, dst = 0, val = 20 } } } }')
  end)
end)

describe("errors: a chardev connects to one device", function()
  it("a legacy_serial on a chardev a device already has", function()
    dev_err('local s = qemu.serial { id = "s0" }\n' ..
            'local c = qemu.chardev { backend = "pty", id = "c0", driver = "virtconsole", bus = "s0.0" }\n' ..
            'local l = qemu.legacy_serial { chardev = "c0" }', "{ devices = { s, c, l } }", 3,
      "devices[3] (legacy_serial): field 'chardev': chardev 'c0' is devices[2]'s already (QEMU connects a chardev " ..
      "to one device)")
  end)

  it("two legacy_serials, a vhost-user socket, a qemu.device{}", function()
    dev_err('local c = qemu.chardev { backend = "pty", id = "c0" }\n' ..
            'local a = qemu.legacy_serial { chardev = "c0" }\nlocal b = qemu.legacy_serial { chardev = "c0" }',
      "{ devices = { c, a, b } }", 3,
      "devices[3] (legacy_serial): field 'chardev': chardev 'c0' is devices[2]'s already (QEMU connects a chardev " ..
      "to one device)")
    dev_err('local v = qemu.vhost_user { vhost_user_type = "fs", socket_path = "/s", chardev_id = "c0", tag = "t" }\n' ..
            'local l = qemu.legacy_serial { chardev = "c0" }', "{ devices = { v, l } }", 2,
      "devices[2] (legacy_serial): field 'chardev': chardev 'c0' is devices[1]'s already (QEMU connects a chardev " ..
      "to one device)")
    dev_err('local c = qemu.chardev { backend = "socket", id = "c0", path = "/s" }\n' ..
            'local n = qemu.netdev { type = "vhostuser", id = "n0", chardev = "c0" }\n' ..
            'local d = qemu.device { driver = "virtconsole", chardev = "c0" }', "{ devices = { c, n, d } }", 3,
      "devices[3] (device): field 'chardev': chardev 'c0' is devices[2]'s already (QEMU connects a chardev " ..
      "to one device)")
    vm_ok('{ devices = { qemu.chardev { backend = "pty", id = "c0" }, qemu.legacy_serial { chardev = "c0" }, ' ..
      'qemu.chardev { backend = "pty", id = "c1" }, qemu.legacy_serial { chardev = "c1" } } }')
  end)

  -- devices are compared within groups (src/vm_rules.c: a chardev's users,
  -- ccw devnos, ...); a device clashing in two groups names the earlier
  -- device, whichever group it is in
  it("a device clashing with two others names the earlier one", function()
    local setup = 'local r = qemu.rng { id = "r0", devno = "fe.0.0001", transport = "ccw" }\n' ..
                  'local c = qemu.chardev { backend = "socket", id = "c0", path = "/s" }\n' ..
                  'local l = qemu.legacy_serial { chardev = "c0" }\n' ..
                  'local n = qemu.netdev { type = "vhostuser", id = "n0", chardev = "c0", devno = "fe.0.0001", ' ..
                  'transport = "ccw" }'
    dev_err(setup, "{ devices = { r, c, l, n } }", 4,
      "devices[4] (netdev): field 'devno': 'fe.0.0001' is devices[1]'s too (each ccw device needs its own)")
    dev_err(setup, "{ devices = { c, l, r, n } }", 4,
      "devices[4] (netdev): field 'chardev': chardev 'c0' is devices[2]'s already (QEMU connects a chardev " ..
      "to one device)")
  end)

  -- driver "serial" is govmm's mark for a chardev of a
  -- legacy serial port; it makes no device, so the port may use it
  it("a chardev with driver 'serial' is the legacy_serial's to use", function()
    vm_ok('{ devices = { qemu.chardev { backend = "pty", id = "c0", driver = "serial" }, ' ..
      'qemu.legacy_serial { chardev = "c0" } } }')
    dev_err('local c = qemu.chardev { backend = "pty", id = "c0", driver = "serial" }\n' ..
            'local a = qemu.legacy_serial { chardev = "c0" }\nlocal b = qemu.legacy_serial { chardev = "c0" }',
      "{ devices = { c, a, b } }", 3,
      "devices[3] (legacy_serial): field 'chardev': chardev 'c0' is devices[2]'s already (QEMU connects a chardev " ..
      "to one device)")
  end)
end)

describe("errors: the console and log options of qemu.argv and qemu.launch", function()
  -- (found by the argv fuzzer: the path was read as a C string, so a NUL
  -- cut it and a line break went through)
  it("a console path with a NUL or a line break is refused, not cut", function()
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (field 'console': contains a NUL byte, which cannot be "
      .. "passed to QEMU)", err('local a = qemu.argv({}, { console = "file:/tmp/a\\0b" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (field 'console': contains a line break, which QEMU "
      .. "cannot take)", err('local a = qemu.argv({}, { console = "file:/tmp/a\\nb" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (field 'console': contains a NUL byte, which cannot be "
      .. "passed to QEMU)", err('local a = qemu.argv({}, { console = "stdio\\0x" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (field 'console': invalid option 'capture' (expected "
      .. "'stdio', 'none' or 'file:PATH'))", err('local a = qemu.argv({}, { console = "capture" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'launch' (field 'console': contains a NUL byte, which cannot "
      .. "be passed to QEMU)", err('local a = qemu.launch({ path = "/bin/true" }, { console = "file:/tmp/a\\0b" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'launch' (field 'console': contains a line break, which QEMU "
      .. "cannot take)", err('local a = qemu.launch({ path = "/bin/true" }, { console = "file:a\\rb" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'run' (field 'console': invalid option 'x' (expected 'stdio', "
      .. "'capture', 'none' or 'file:PATH'))", err('local a = qemu.run({ path = "/bin/true" }, { console = "x" })'))
    assert.are.equal("vm.lua:1: bad argument #2 to 'launch' (field 'stderr_log': contains a NUL byte, which cannot "
      .. "be passed to QEMU)",
      err('local a = qemu.launch({ path = "/bin/true" }, { stderr_log = "/tmp/x\\0y" })'))
    assert.are.equal("file,id=qlua-console,path=/tmp/a,,b", qemu.argv({}, { console = "file:/tmp/a,b" })[3])
  end)
end)

-- ---- lists, the order faults are reported in, buses, rtc -----------------------------

describe("errors: a list names its first fault", function()
  it("a hole names the missing index and the one set after it", function()
    vm_err('{ devices = { d, nil, d2 } }', "field 'devices': list expected (devices[2] is nil but devices[3] is set)",
      "local d = " .. DISK .. '\nlocal d2 = qemu.block { id = "hd1", file = "b.img", format = "raw" }')
    vm_err('{ global = { [1] = "a.b=c", [4] = "a.d=e" } }',
      "field 'global': list expected (global[2] is nil but global[4] is set)")
    vm_err('{ groups = { [2] = 100 } }', "field 'groups': list expected (groups[1] is nil but groups[2] is set)")
    vm_err('{ numa = { nodes = { { node_id = 0 }, [3] = { node_id = 1 } } } }',
      "field 'numa.nodes': list expected (numa.nodes[2] is nil but numa.nodes[3] is set)")
  end)

  it("a key that is no index is named, the smallest string first", function()
    vm_err('{ devices = { hd = d } }', "field 'devices': list expected (key 'hd' is not a list index: devices.hd)",
      "local d = " .. DISK)
    vm_err('{ devices = { d, zz = d, hd = d, [7] = d } }',
      "field 'devices': list expected (key 'hd' is not a list index: devices.hd)", "local d = " .. DISK)
    vm_err('{ devices = { d, ["my disk"] = d } }',
      "field 'devices': list expected (key 'my disk' is not a list index: devices['my disk'])", "local d = " .. DISK)
    vm_err('{ extra_args = { "-S", [0] = "-x", [-1] = "-y" } }',
      "field 'extra_args': list expected (key -1 is not a list index: extra_args[-1])")
    vm_err('{ extra_args = { "-S", [1.5] = "-x" } }',
      "field 'extra_args': list expected (key 1.5 is not a list index: extra_args[1.5])")
    vm_err('{ extra_args = { "-S", [true] = "-x" } }',
      "field 'extra_args': list expected (key true is not a list index: extra_args[true])")
  end)

  it("a section where a list of them is expected hints at the missing braces", function()
    vm_err('{ qmp = { path = "/x", server = true } }',
      "field 'qmp': list expected (got a table with key 'path': did you mean qmp = { { path = ... } }?)")
    vm_err('{ numa = { nodes = { node_id = 0, mem_size = "1G" } } }',
      "field 'numa.nodes': list expected (got a table with key 'mem_size': did you mean " ..
      "numa.nodes = { { mem_size = ... } }?)")
    -- a key the section does not have is just not an index
    vm_err('{ qmp = { socket = "/x" } }', "field 'qmp': list expected (key 'socket' is not a list index: qmp.socket)")
  end)

  it("a list of descriptors inside fds says qemu.tap returns a list already", function()
    -- the shape qemu.tap returns: a list of qemu.fd (here on /dev/null)
    assert.are.equal("vm.lua:3: netdev: field 'fds[1]': qemu.fd expected, got table (qemu.tap returns a list " ..
      "already: write fds = qemu.tap(...))", err([[
local a = qemu.open("/dev/null", "r")
local b = qemu.open("/dev/null", "r")
return qemu.netdev { id = "n0", type = "tap", fds = { { a, b } } }
]]))
    assert.are.equal("vm.lua:2: netdev: field 'vhost_fds[1]': qemu.fd expected, got table (a list inside the list)",
      err([[
local a = qemu.open("/dev/null", "r")
return qemu.netdev { id = "n0", type = "tap", fds = { a }, vhost = true, vhost_fds = { { a } } }
]]))
  end)

  it("the real qemu.tap's list inside fds (in a network namespace)", function()
    local d = H.tmpdir()
    H.write(d .. "/vm.lua", 'local n = qemu.netdev { id = "n0", type = "tap", fds = { qemu.tap("qt0") } }\n' ..
      "return { devices = { n } }\n")
    H.in_netns(function(ns)
      local code, out, e = H.sh("cd " .. H.q(d) .. " && ip netns exec " .. ns .. " timeout -s KILL 60 " ..
        H.qlua_cmd .. " -n vm.lua")
      assert.are.equal("qlua: vm.lua:1: netdev: field 'fds[1]': qemu.fd expected, got table (qemu.tap returns a " ..
        "list already: write fds = qemu.tap(...))\n", e)
      assert.are.equal("", out)
      assert.are.equal(2, code)
    end)
  end)

  it("a list of devices inside devices", function()
    vm_err('{ devices = { d, { d2 } } }', "field 'devices[2]': device expected, got table (a list of devices " ..
      "inside the list: its devices go into devices itself)",
      "local d = " .. DISK .. '\nlocal d2 = qemu.block { id = "hd1", file = "b.img", format = "raw" }')
  end)

  it("extra_args is a list of arguments, never one string", function()
    vm_err('{ extra_args = "-snapshot" }', "field 'extra_args': list of strings expected, got string " ..
      '(one string per argument: extra_args = { "-m", "1G" }, not "-m 1G")')
    vm_err('{ extra_args = 42 }', "field 'extra_args': list of strings expected, got number")
    -- global and pflash still take one string
    vm_ok('{ global = "kvm-pit.lost_tick_policy=discard", pflash = "/x.fd" }')
  end)
end)

describe("errors: several faults are reported in schema order", function()
  -- Builds kind's table with the fields in the given order, after `pad`
  -- keys added and removed again (so the hash part has another size and
  -- Lua's order another shape), and returns the error of the constructor.
  local function shaken(kind, fields, order, pad)
    local t = {}
    for i = 1, pad do t["pad" .. i] = true end
    for _, i in ipairs(order) do t[fields[i][1]] = fields[i][2] end
    for i = 1, pad do t["pad" .. i] = nil end
    local ok_, e = pcall(qemu[kind], t)
    assert.is_false(ok_)
    return e
  end

  -- Every permutation of 1..n.
  local function permutations(n)
    local out, p = {}, {}
    local function go(k, used)
      if k > n then out[#out + 1] = { table.unpack(p) } return end
      for i = 1, n do
        if not used[i] then used[i] = true p[k] = i go(k + 1, used) used[i] = false end
      end
    end
    go(1, {})
    return out
  end

  local function same_error(kind, fields, want)
    for _, order in ipairs(permutations(#fields)) do
      for pad = 0, 40, 3 do
        assert.are.equal(want, shaken(kind, fields, order, pad))
      end
    end
  end

  it("bad values: the first field of the schema", function()
    same_error("block", {
      { "id", "hd0" }, { "file", "x" }, { "format", "raw" },
      { "romfile", "" }, { "addr", "zz" }, { "bus", "0bus" }, { "serial", 7 },
    }, "block: field 'bus': invalid id '0bus' (QEMU ids start with a letter, then letters, digits, '-', '.' or '_')")
  end)

  it("bad values: the same in every qlua run (Lua seeds its string hashes per run)", function()
    local src = 'return { devices = { qemu.block { id = "hd0", file = "x", format = "raw", romfile = "", ' ..
      'addr = "zz", bus = "0bus", serial = 7, aio = "none", discard_unmap = 1 } } }\n'
    for _ = 1, 30 do
      local code, out, e = qlua_run(src)
      assert.are.equal("", out)
      assert.are.equal(2, code)
      assert.are.equal("qlua: vm.lua:1: block: field 'aio': invalid option 'none' (expected 'threads', " ..
        "'native' or 'io_uring')\n", e)
    end
  end)

  it("unknown fields before bad values, the smallest name first", function()
    same_error("block", {
      { "id", "hd0" }, { "file", 1 }, { "format", "raw" }, { "zfile", "x" }, { "fiel", "x" }, { "bsu", "x" },
    }, "block: unknown field 'bsu' (did you mean 'bus'?)")
  end)

  it("keys that are not names: the smallest number first", function()
    same_error("block", { { "id", "hd0" }, { 3, "a" }, { 1, "b" }, { "fiel", "x" } },
      "block: field names must be strings, got number 1 (fields are named: write key = value)")
  end)

  it("free properties of qemu.device{} in sorted order", function()
    same_error("device", { { "driver", "e1000" }, { "x", {} }, { "b", {} }, { "m-1", {} } },
      "device: field 'b': string, number or boolean expected, got table")
  end)

  it("machine options in sorted order", function()
    for _, order in ipairs(permutations(3)) do
      for pad = 0, 40, 2 do
        local o = {}
        for i = 1, pad do o["pad" .. i] = true end
        local kv = { { "usb", {} }, { "nvdimm", {} }, { "vmport", {} } }
        for _, i in ipairs(order) do o[kv[i][1]] = kv[i][2] end
        for i = 1, pad do o["pad" .. i] = nil end
        local ok_, e = pcall(qemu.argv, { machine = { type = "q35", options = o } })
        assert.is_false(ok_)
        assert.are.equal("field 'machine.options.nvdimm': string, number or boolean expected, got table",
          (e:gsub("^[^:]*:%d+: ", "")))
      end
    end
  end)

  it("sections of the VM in schema order, the same in every qlua run", function()
    -- name comes before memory and smp in the schema
    local src = 'return { smp = { cpus = 0 }, memory = "1G", name = 42, uuid = "x" }\n'
    for _ = 1, 5 do
      local code, out, e = qlua_run(src)
      assert.are.equal("", out)
      assert.are.equal(2, code)
      assert.are.equal("qlua: vm.lua:1: field 'name': string expected, got number\n", e)
    end
  end)
end)

describe("errors: rtc", function()
  it("an empty rtc section is refused (it would print -rtc '')", function()
    vm_err('{ rtc = {} }', "field 'rtc': empty section (leave it out for QEMU's defaults, or give 'base', " ..
      "'clock' or 'driftfix')")
    vm_ok('{ rtc = { base = "utc" } }')
  end)
end)

describe("errors: bus= names a bus of the machine type", function()
  -- Each case: machine type, options, driver, bus, and what qlua says:
  -- nothing (then the real QEMU must start with it) or the error (then the
  -- real QEMU, given the same options by hand, must fail on the bus).
  local Q35 = "'pcie.0', 'ide.0' to 'ide.5', 'isa.0', 'i2c', 'main-system-bus'"
  local MICROVM = "'virtio-mmio-bus.0' to 'virtio-mmio-bus.23', 'isa.0', 'main-system-bus'"
  local cases = {
    { "pc", nil, "e1000", "pci.0" },
    { "pc", nil, "e1000", "pcie.0", "(did you mean 'pci.0'?)" },
    { "pc-i440fx-7.2", nil, "e1000", "pcie.0", "(did you mean 'pci.0'?)" },
    { "q35", nil, "e1000", "pcie.0" },
    { "pc-q35-7.2", nil, "e1000", "pcie.0" },
    { "q35", nil, "e1000", "pci.0", "(did you mean 'pcie.0'?)" },
    { "q35", nil, "ide-cd", "ide.5" },
    { "q35", { sata = false }, "ide-cd", "ide.0", "(known: 'pcie.0', 'isa.0', 'i2c', 'main-system-bus')" },
    { "pc", nil, "ide-cd", "ide.1" },
    { "pc", nil, "ide-cd", "ide.2",
      "(known: 'pci.0', 'ide.0', 'ide.1', 'isa.0', 'floppy-bus.0', 'i2c', 'main-system-bus')" },
    { "q35", nil, "usb-tablet", "usb-bus.0", "(known: " .. Q35 .. ")" },
    { "q35", { usb = true }, "usb-tablet", "usb-bus.0" },
    { "microvm", nil, "virtio-rng-device", "virtio-mmio-bus.23" },
    { "microvm", nil, "virtio-rng-device", "virtio-mmio-bus.24", "(known: " .. MICROVM .. ")" },
    { "microvm", { ioapic2 = "off" }, "virtio-rng-device", "virtio-mmio-bus.8",
      "(known: 'virtio-mmio-bus.0' to 'virtio-mmio-bus.7', 'isa.0', 'main-system-bus')" },
    { "microvm", nil, "e1000", "pcie.0", "(known: " .. MICROVM .. ")" },
    { "microvm", { pcie = "on" }, "e1000", "pcie.0" },
  }

  -- "q35,sata=off": the options as QEMU reads them.
  local function machine_arg(type, options)
    local words = { type }
    for k, v in pairs(options or {}) do
      words[#words + 1] = k .. "=" .. (v == true and "on" or v == false and "off" or v)
    end
    return table.concat(words, ",")
  end

  for _, case in ipairs(cases) do
    local type, options, driver, bus, msg = table.unpack(case)
    local title = ("%s %s on %s: %s"):format(driver, bus, machine_arg(type, options), msg and "refused" or "accepted")
    it(title, function()
      local vm = { path = H.qemu_bin, machine = { type = type, accel = "tcg", options = options },
                   devices = { qemu.device { driver = driver, bus = bus } } }
      if not msg then
        H.assert_qemu_accepts((qemu.argv(vm)))
        return
      end
      local ok_, e = pcall(qemu.argv, vm)
      assert.is_false(ok_)
      assert.are.equal(("devices[1] (device): field 'bus': no bus with id '%s' in this description nor on " ..
        "machine type '%s' %s"):format(bus, type, msg), e:match("devices%[1%].*"))
      local code, _, qerr = H.real_qemu({ "qemu", "-machine", machine_arg(type, options), "-accel", "tcg",
                                          "-device", driver .. ",bus=" .. bus })
      assert.are_not.equal(0, code)
      assert.is_truthy(qerr:find("Bus '" .. bus .. "' not found", 1, true), qerr)
    end)
  end

  it("a qlua kind's bus, at the line of the device, and the description's own buses", function()
    local setup = 'local b = qemu.bridge { id = "br0", type = "pci", bus = "pcie.0", chassis = 1 }\n' ..
                  'local d = qemu.block { id = "hd0", file = "x", format = "raw", bus = "pci.0" }\n' ..
                  'local e = qemu.block { id = "hd1", file = "x", format = "raw", bus = "br1" }'
    assert.are.equal("qlua: vm.lua:2: devices[2] (block): field 'bus': no bus with id 'pci.0' in this " ..
      "description nor on machine type 'q35' (did you mean 'pcie.0'?)\n",
      returned_err(setup .. '\nreturn { machine = { type = "q35" }, devices = { b, d } }\n'))
    assert.are.equal("qlua: vm.lua:3: devices[2] (block): field 'bus': no bus with id 'br1' in this " ..
      "description nor on machine type 'q35' (known: 'br0', " .. Q35 .. ")\n",
      returned_err(setup .. '\nreturn { machine = { type = "q35" }, devices = { b, e } }\n'))
    vm_ok('{ machine = { type = "q35" }, devices = { b, qemu.block { id = "hd2", file = "x", format = "raw", ' ..
      'bus = "br0" } } }', setup)
  end)

  it("a machine type qlua does not know keeps any machine's buses", function()
    vm_ok('{ machine = { type = "virt" }, devices = { qemu.device { driver = "e1000", bus = "pcie.0" }, ' ..
      'qemu.device { driver = "e1000", bus = "pci.0" } } }')
  end)
end)
