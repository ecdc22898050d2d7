-- spec/lib_spec.lua - the qemu table itself (docs/contract.md §1, §5): a name it does
-- not have is an error that says what there is; the QMP wrappers work on
-- every handle without require "qemu.qmp"; QMP's answers print as JSON.
-- Through the real ./qlua (a fresh Lua state each time) and the real QEMU
-- (-machine none).
local H = require "helper"
local qemu = H.qemu

-- Runs `qlua -e CHUNK` (bounded by timeout(1)); returns code, stdout, stderr.
local function qlua_e(chunk)
  return H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " -e " .. H.q(chunk))
end

describe("the qemu table", function()
  it("answers a name it does not have with an error naming it, at the line that used it", function()
    local kinds = table.concat(qemu.kinds(), ", ")
    local d = H.tmpdir()
    local script = H.write(d .. "/vm.lua", table.concat({
      "return {",
      "  devices = {",
      "    qemu.floppy { id = 'fd0' },",
      "  },",
      "}",
    }, "\n") .. "\n")
    local code, out, err = H.sh(H.qlua_cmd .. " -n " .. H.q(script))
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: " .. script .. ":3: no device kind or function 'floppy' in qemu (device kinds: "
      .. kinds .. ")\n", err)
  end)

  it("suggests the kind or function a typo was meant to be", function()
    local function err(chunk)
      local ok, e = pcall(load(chunk, "=vm.lua", "t", { qemu = qemu }))
      assert.is_false(ok)
      return e
    end
    assert.are.equal("vm.lua:1: no device kind or function 'blok' in qemu (did you mean 'block'?)",
      err("return qemu.blok { id = 'hd0', file = 'x' }"))
    assert.are.equal("vm.lua:1: no device kind or function 'lanch' in qemu (did you mean 'launch'?)",
      err("return qemu.lanch({})"))
    assert.are.equal("vm.lua:1: no device kind or function 'merg' in qemu (did you mean 'merge'?)",
      err("return qemu.merg({}, {})"))
  end)

  it("rawget probes without raising; what it has is there as before", function()
    assert.is_nil(rawget(qemu, "floppy"))
    assert.are.equal("function", type(rawget(qemu, "block")))
    assert.are.equal("function", type(qemu.block))
    assert.are.equal("table", type(qemu.merge))
    assert.is_nil(qemu[1])      -- only names are answered with an error
    assert.is_nil(qemu[true])
  end)
end)

describe("QMP", function()
  -- a QEMU with an empty machine, its status printed, and killed
  local PRELUDE = [[
local vm = qemu.launch({ machine = { type = "none" }, knobs = { no_defaults = true },
                         extra_args = { "-display", "none" } })
]]
  local FINISH = [[

vm:kill(9)
vm:wait(10)
]]

  it("the wrappers work without require 'qemu.qmp', and answers print as JSON", function()
    local code, out, err = qlua_e(PRELUDE .. [[
print(vm.qmp:status())
print(vm.qmp:execute("query-status", nil, { timeout = 20 }))
print(package.loaded["qemu.qmp"] ~= nil, vm.qmp.no_such_wrapper)
print(vm.qmp:execute("query-iothreads"), qemu.json_decode('{"b": [], "a": {"x": [1, 2.5, null]}}'))
]] .. FINISH)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(table.concat({
      '{"running": true, "singlestep": false, "status": "running"}',
      '{"running": true, "singlestep": false, "status": "running"}',
      'true\tnil',
      '[]\t{"a": {"x": [1, 2.5, null]}, "b": []}',
    }, "\n") .. "\n", out)
  end)

  it("an empty list from QEMU goes back as [] (qemu.json)", function()
    assert.are.equal('{"a":[],"b":{}}', qemu.json(qemu.json_decode('{"a": [], "b": {}}')))
  end)
end)
