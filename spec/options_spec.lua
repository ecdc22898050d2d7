-- spec/options_spec.lua - tables of named options (issue #13, item 3): every
-- options table of a qemu function or of the Lua library is a schema record
-- (src/options.c), checked by the device kinds' checker, in their words,
-- described by qemu.describe / qlua --describe, and exported to Lua as
-- qemu.check_options.  Through the real ./qlua and the qemu module; nothing
-- here starts QEMU.
local H = require "helper"
local qemu = H.qemu

-- Runs chunk as vm.lua (line numbers count from its first line); returns
-- the error it raised.
local function err(chunk, ...)
  local env = setmetatable({ qemu = qemu, recipes = require "qemu.recipes", matrix = require "qemu.matrix" },
    { __index = _G })
  local ok, e = pcall(load(chunk, "=vm.lua", "t", env), ...)
  assert.is_false(ok, "no error from: " .. chunk)
  return e
end

describe("tables of named options", function()
  it("are listed by qemu.option_kinds, sorted, and each describes itself", function()
    local names = qemu.option_kinds()
    local sorted = {}
    for i, n in ipairs(names) do sorted[i] = n end
    table.sort(sorted)
    assert.are.same(sorted, names)
    for _, want in ipairs({ "argv", "launch", "run", "launch_custom", "tap", "shutdown", "qmp.execute",
                            "qmp.wait_event", "console.expect", "agent.exec", "check", "matrix", "matrix.run",
                            "matrix.merge", "recipes.disk",
                            "recipes.cloud_init", "qmp.blockdev_add", "qmp.command" }) do
      local found = false
      for _, n in ipairs(names) do found = found or n == want end
      assert.is_true(found, want)
    end
    for _, n in ipairs(names) do
      local d = qemu.describe(n)
      assert.are.equal(n, d.kind)
      assert.is_false(d.device)
      assert.is_string(d.doc)
    end
    local tap = qemu.describe("tap").fields
    assert.are.same({ name = "queues", type = "integer", required = false, default = 1, min = 1, max = 256,
                      doc = "queues to open (one qemu.fd each)" }, tap[1])
  end)

  it("every recipe that takes options has its record", function()
    local recipes = require "qemu.recipes"
    for _, r in ipairs({ "pc", "q35", "uefi", "microvm", "linux", "serial_console", "disk", "share", "tap",
                         "test_guest", "cloud_init" }) do
      assert.is_function(recipes[r], r)
      assert.are.equal("recipes." .. r, qemu.describe("recipes." .. r).kind)
      -- the recipe checks against it: an unknown field is refused in the record's words
      assert.are.equal("vm.lua:1: recipes." .. r .. ": unknown field 'zzzzzzzzzz'",
        err("local x = recipes." .. r .. " { zzzzzzzzzz = 1 }"))
    end
  end)

  it("qlua --describe prints one, and lists them for an unknown name", function()
    local code, out, e = H.qlua("--describe", "tap")
    assert.are.equal(0, code, e)
    assert.are.equal("tap: qemu.tap(ifname, opts): open the queues of a TAP interface\n" ..
      "  queues           integer      queues to open (one qemu.fd each) [default: 1]\n" ..
      "  vnet_hdr         boolean      the virtio-net header on the queues (IFF_VNET_HDR) [default: false]\n", out)
    code, out = H.qlua("--describe", "recipes.disk")
    assert.are.equal(0, code)
    assert.truthy(out:find("\n  file             path-or-fd   required the image: a path or a qemu.fd\n", 1, true), out)
    code, out, e = H.qlua("--describe", "nope")
    assert.are.equal(2, code)
    assert.truthy(e:find("; options: agent.call, agent.exec, argv, check, console.expect, launch, launch_custom, " ..
      "matrix, matrix.merge, matrix.run, qmp.ap_vfio_mediated_device_add, ", 1, true), e)
  end)
end)

describe("qemu.check_options", function()
  it("checks a table as the device fields are checked, naming the caller's line and the record", function()
    assert.are.equal("vm.lua:2: recipes.disk: unknown field 'fiel' (did you mean 'file'?)",
      err("local x\nqemu.check_options('recipes.disk', { fiel = 'a' })"))
    assert.are.equal("vm.lua:1: recipes.disk: field 'file' is required", err("qemu.check_options('recipes.disk', {})"))
    assert.are.equal("vm.lua:1: recipes.disk: field 'readonly': boolean expected, got number",
      err("qemu.check_options('recipes.disk', { file = 'a', readonly = 1 })"))
    assert.are.equal("vm.lua:1: recipes.disk: field 'transport': invalid option 'ap' (expected 'pci', 'mmio' or 'ccw')",
      err("qemu.check_options('recipes.disk', { file = 'a', transport = 'ap' })"))
    assert.are.equal("vm.lua:1: recipes.disk: field names must be strings, got number 1 (fields are named: " ..
      "write key = value)", err("qemu.check_options('recipes.disk', { 'a' })"))
    assert.are.equal("vm.lua:1: matrix: field 'vm': function expected, got string",
      err("qemu.check_options('matrix', { axes = {}, vm = 'f', test = print })"))
    assert.are.equal("vm.lua:1: run: field 'timeout': -1 is out of range (expected a number >= 0)",
      err("qemu.check_options('run', { timeout = -1 })"))
    assert.are.equal("vm.lua:1: recipes.disk: table of options expected, got string",
      err("qemu.check_options('recipes.disk', 'disk.img')"))
  end)

  it("returns the table it checked (a new empty one for nil)", function()
    local t = { file = "a", readonly = true }
    assert.are.equal(t, qemu.check_options("recipes.disk", t))
    assert.are.same({}, qemu.check_options("launch", nil))
  end)

  it("names where it is told: a prefix, a level, or an argument of a function", function()
    assert.are.equal("x.lua:9: tap: unknown field 'q'",
      err("qemu.check_options('tap', { q = 1 }, 'x.lua:9: ')"))
    assert.are.equal("vm.lua:3: tap: unknown field 'q'",
      err("local function f(o)\n  qemu.check_options('tap', o, 2)\nend f { q = 1 }"))
    assert.are.equal("vm.lua:1: bad argument #2 to 'check' (unknown field 'cache' (did you mean 'cache_dir'?))",
      err("qemu.check_options('check', { cache = 1 }, nil, 2)"))
    assert.are.equal("vm.lua:1: bad argument #2 to 'disk' (table expected, got number)",
      err("qemu.check_options('recipes.disk', 1, nil, 2)"))
    assert.are.equal("vm.lua:1: bad argument #1 to 'check_options' (no options table 'nope')",
      err("qemu.check_options('nope', {})"))
  end)
end)

describe("one grammar for options, C and Lua", function()
  it("an unknown option is an unknown field everywhere, with the closest name", function()
    assert.are.equal("vm.lua:1: bad argument #2 to 'tap' (unknown field 'queue' (did you mean 'queues'?))",
      err("local t = qemu.tap('t0', { queue = 2 })"))
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (unknown field 'consol' (did you mean 'console'?))",
      err("local a = qemu.argv({}, { consol = 'stdio' })"))
    assert.are.equal("vm.lua:1: recipes.uefi: unknown field 'secur' (did you mean 'secure'?)",
      err("local u = recipes.uefi { secur = true }"))
    assert.are.equal("vm.lua:1: matrix: unknown field 'axis' (did you mean 'axes'?)",
      err("local m = matrix { axis = {} }"))
  end)

  it("QMP's and the handle's options too: an unknown key is refused, not ignored", function()
    -- (qmp:execute's, wait_event's, qemu.qmp_connect's options once ignored every key but timeout)
    assert.are.equal("vm.lua:1: bad argument #2 to 'qmp_connect' (unknown field 'tiemout' (did you mean " ..
      "'timeout'?))", err("local q = qemu.qmp_connect('/nonexistent.qmp', { tiemout = 1 })"))
    local vm = qemu.launch_custom("/bin/sleep", { "30" }, {})
    finally(function() vm:kill(9) vm:wait(10) end)
    assert.are.equal("vm.lua:1: bad argument #1 to 'shutdown' (unknown field 'tmeout' (did you mean 'timeout'?))",
      err("local vm = ... ; vm:shutdown { tmeout = 1 }", vm))
    assert.are.equal("vm.lua:1: bad argument #1 to 'shutdown' (field 'timeout': number expected, got string)",
      err("local vm = ... ; vm:shutdown { timeout = '5' }", vm))
    assert.are.equal("vm.lua:1: bad argument #2 to 'ssh' (unknown field 'hostport' (did you mean 'host_port'?))",
      err("local vm = ... ; vm:ssh('true', { hostport = 1 })", vm))
    assert.is_true(vm:alive())
  end)

  -- (m:run{...} and matrix.merge once ignored every key they did not use:
  -- m:run{ jbos = 2 } ran with the default, m:run{ shard = { 5, 2 } } ran
  -- no cell and passed)
  it("a matrix's run and merge options too, with what their records cannot say", function()
    local M = "local m = matrix { axes = { a = { 1, 2 } }, vm = print, test = print }\n"
    local function run(opts) return err(M .. "local s = m:run " .. opts) end
    assert.are.equal("vm.lua:2: matrix.run: unknown field 'jbos' (did you mean 'jobs'?)", run("{ jbos = 2 }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'jobs': number expected, got string", run("{ jobs = '2' }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'jobs': 0 is out of range (expected 1..2147483647)",
      run("{ jobs = 0 }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'junit': empty string (leave the field out instead)",
      run("{ junit = '' }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'only': string or list of strings expected, got number",
      run("{ only = 1 }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'timeout' must be positive", run("{ timeout = 0 }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'shard': I/N expected with 1 <= I <= N, got '3/2'",
      run("{ shard = '3/2' }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'shard': auto/N expected with N >= 1, got 'auto/0'",
      run("{ shard = 'auto/0' }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'shard': { I, N } expected with integers 1 <= I <= N, got " ..
      "{ 5, 2 }", run("{ shard = { 5, 2 } }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'shard': { I, N } expected with integers 1 <= I <= N, got " ..
      "{ 1.5, 2 }", run("{ shard = { 1.5, 2 } }"))
    assert.are.equal("vm.lua:2: matrix.run: field 'shard': 'I/N', { I, N }, 'auto' or 'auto/N' expected, got number",
      run("{ shard = 2 }"))
    assert.are.equal("vm.lua:2: matrix.run: table of options expected, got string", run("'q35'"))
    assert.are.equal("vm.lua:1: matrix.merge: unknown field 'junti' (did you mean 'junit'?)",
      err("local s = matrix.merge({ 'runs' }, { junti = 'x.xml' })"))
    assert.are.equal("vm.lua:1: matrix.merge: field 'tap': boolean expected, got string",
      err("local s = matrix.merge({ 'runs' }, { tap = 'yes' })"))
    assert.are.equal("vm.lua:1: bad argument #1 to 'merge' (list of run directories expected, got string)",
      err("local s = matrix.merge('runs')"))
    assert.are.equal("vm.lua:1: bad argument #1 to 'merge' (dirs[2]: string expected, got boolean)",
      err("local s = matrix.merge({ 'a', true })"))

    -- what they take: one text for only, a shard as { I, N } or as --shard
    -- writes it; the caller's table stays as it was
    local script = H.script(M .. [[
local opts = { list = true, only = "a=2", shard = { 1, 1 } }
assert(m:run(opts) == 0 and opts.only == "a=2")
assert(m:run { list = true, shard = "2/2" } == 0)
assert(m:run { list = true, only = { "a=1" }, shard = false, fail_fast = false } == 0)
]])
    local code, out, e = H.qlua("-e", "matrix = require 'qemu.matrix'", script)
    assert.are.equal(0, code, e)
    assert.are.equal('{"cell":{"a":2},"index":2,"matrix":"matrix","name":"a=2"}\n' ..
      '{"cell":{"a":2},"index":2,"matrix":"matrix","name":"a=2"}\n' ..
      '{"cell":{"a":1},"index":1,"matrix":"matrix","name":"a=1"}\n', out)
  end)

  it("a wrong value names the field", function()
    assert.are.equal("vm.lua:1: bad argument #2 to 'tap' (field 'vnet_hdr': boolean expected, got number)",
      err("local t = qemu.tap('t0', { vnet_hdr = 1 })"))
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (field 'console': invalid option 'tty' (expected " ..
      "'stdio', 'none' or 'file:PATH'))", err("local a = qemu.argv({}, { console = 'tty' })"))
    assert.are.equal("vm.lua:1: bad argument #2 to 'argv' (field 'console': empty string (leave the field out " ..
      "instead))", err("local a = qemu.argv({}, { console = '' })"))
  end)
end)
