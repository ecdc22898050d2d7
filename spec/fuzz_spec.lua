-- spec/fuzz_spec.lua - what the fuzzers (fuzz/, fuzz/README.md) keep: the
-- committed argv corpus replayed through ./qlua with the target's own
-- property check (no clang needed), the qmp, qga and values corpora through
-- their targets built without clang (fuzz/replay.c), and each finding as a
-- regression seen from Lua.
local H = require "helper"
local qemu = H.qemu

-- The files of a corpus directory, sorted.
local function corpus(target)
  local files = {}
  local p = assert(io.popen("ls " .. H.q(H.root .. "/fuzz/corpus/" .. target)))
  for name in p:lines() do files[#files + 1] = H.root .. "/fuzz/corpus/" .. target .. "/" .. name end
  p:close()
  table.sort(files)
  return files
end

describe("the argv fuzz target's corpus", function()
  it("renders through ./qlua with the hostile strings exactly where the placeholders were", function()
    local files = corpus("argv")
    assert.is_true(#files > 0)
    local code, out, err = H.qlua(H.root .. "/fuzz/argv.lua", table.unpack(files))
    assert.are.equal(0, code, out .. err)
    assert.is_truthy(out:find(("^%d inputs: %%d+ rendered, %%d+ refused, 0 violations"):format(#files)), out)
  end)
end)

-- The qmp, qga and values targets, built with the suite's compiler and a main()
-- that replays files (fuzz/replay.c; make replay, which make check runs):
-- $QLUA_REPLAY_DIR is make check-asan's sanitized build of them.
describe("the qmp, qga and values fuzz targets' corpora", function()
  local dir = os.getenv("QLUA_REPLAY_DIR") or H.root .. "/build/replay"
  for _, target in ipairs({ "qmp", "qga", "values" }) do
    it("replay through the " .. target .. " target's own property checks", function()
      local bin = dir .. "/" .. target
      assert(io.open(bin), bin .. " is not built: make replay")
      local files = corpus(target)
      assert.is_true(#files > 0)
      local words = {}
      for i, f in ipairs(files) do words[i] = H.q(f) end
      local code, out, err = H.sh(H.q(bin) .. " " .. table.concat(words, " "))
      assert.are.equal(0, code, out .. err)
      assert.are.equal(("%d inputs\n"):format(#files), out)
      assert.are.equal("", err)
    end)
  end
end)

describe("fuzz findings", function()
  -- values: val_size refused 20-digit sizes that fit in 64 bits
  -- (fuzz/corpus/values/regress-size-max)
  it("takes every size that fits in 64 bits, and none that does not", function()
    local argv = qemu.argv { devices = { qemu.object { type = "memory-backend-ram", id = "m0",
                                                      size = "18446744073709551615" } } }
    assert.are.equal("memory-backend-ram,id=m0,size=18446744073709551615", argv[3])
    local ok, e = pcall(qemu.object, { type = "memory-backend-ram", id = "m0", size = "18446744073709551616" })
    assert.is_false(ok)
    assert.are.equal("object: field 'size': invalid size '18446744073709551616' (expected bytes, or a number "
                     .. "with suffix K, M, G or T)", e)
  end)

  -- argv: check_ref's list of the buses a missing one could have been ran
  -- past its buffer after long ids (UBSan: index out of bounds; ASan: a
  -- crash).  fuzz/corpus/argv/regress-known-buses-overflow
  it("names a missing bus after ids too long for its list of known ones", function()
    local long = ("a"):rep(500)
    local ok, e = pcall(qemu.argv, { devices = { qemu.pcie_root_port { id = long, chassis = 1 },
                                                 qemu.pcie_root_port { id = "b" .. long, chassis = 2 },
                                                 qemu.balloon { bus = "nope" } } })
    assert.is_false(ok)
    assert.are.equal("devices[3] (balloon): field 'bus': no bus with id 'nope' in this description "
                     .. "(known: ..., or the machine's own such as 'pci.0' or 'pcie.0')", e:match("devices%[3%].*"))
  end)

  -- argv: qemu.argv's console = "file:PATH" was read as a C string, so a
  -- NUL cut the path.  fuzz/corpus/argv/regress-console-nul
  it("refuses a console file path with a NUL byte instead of cutting it", function()
    local ok, e = pcall(qemu.argv, {}, { console = "file:/tmp/a\0b" })
    assert.is_false(ok)
    assert.are.equal("bad argument #2 to 'qemu.argv' (field 'console': contains a NUL byte, which cannot be passed "
                     .. "to QEMU)", e)
  end)
end)
