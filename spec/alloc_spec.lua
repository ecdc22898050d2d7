-- spec/alloc_spec.lua - the allocator of qlua's Lua state (src/lalloc.c):
-- small blocks from size-class free lists, larger ones from malloc.  Every
-- other spec runs in ./qlua on it; these check what they would not show:
-- blocks of every class and across classes keep their bytes, freed blocks
-- are used again, and QLUA_SYSTEM_MALLOC (make check-valgrind) turns it off.
local H = require "helper"

-- A workload that allocates blocks of every size class and beyond (strings
-- of 1 to 3000 bytes, tables grown and shrunk through the classes, closures,
-- device values), collects in between, and prints a digest of everything
-- it kept: the same text whichever allocator holds the blocks.
local workload = [[
local qemu = qemu or require "qemu"
local kept, sum = {}, 0
for round = 1, 3 do
  for n = 1, 3000, 7 do
    local s = string.rep(string.char(65 + n % 26), n) .. round
    kept[#kept + 1] = s
    local t = {}
    for i = 1, n % 300 do t[i] = i * round end       -- the array part grows
    for i = #t, 1, -1 do if i % 3 > 0 then t[i] = nil end end
    local h = {}
    for i = 1, n % 90 do h["k" .. i] = s:sub(1, i) end  -- the hash part grows
    kept[#kept + 1] = h
    kept[#kept + 1] = function() return n, round end
  end
  for i = 1, #kept, 3 do kept[i] = false end          -- garbage of every size
  collectgarbage()
  do
    kept[#kept + 1] = qemu.block { id = "d" .. round, file = "/tmp/x" .. round, format = "raw" }
    kept[#kept + 1] = qemu.argv { devices = { kept[#kept] } }
  end
end
for _, v in ipairs(kept) do
  local tv = type(v)
  if tv == "string" then sum = (sum + #v + v:byte(-1)) % 1000000007
  elseif tv == "table" then for k, x in pairs(v) do sum = (sum + #tostring(k) + #tostring(x)) % 1000000007 end
  elseif tv == "function" then local a, b = v(); sum = (sum + a * b) % 1000000007
  elseif tv == "userdata" then sum = (sum + #v.id) % 1000000007 end
end
print(#kept, sum)
]]

-- The resident memory (VmRSS, kB) of a qlua that has built `n`
-- configurations of bench/typical.lua and collected.
local reuse = [[
local n = tonumber(arg[1])
local build = dofile("bench/typical.lua")
for _ = 1, n do qemu.argv(build()) end
collectgarbage()
print(io.open("/proc/self/status"):read("a"):match("VmRSS:%s*(%d+)"))
]]

-- The pool is compiled out of make check-asan's build ($QLUA_BIN), and
-- make check-valgrind turns it off (QLUA_SYSTEM_MALLOC): what is about the
-- pool itself is pending there (ASan's quarantine holds freed memory, so
-- memory stays high there whichever allocator is under it).
local with_pool = (os.getenv("QLUA_BIN") or os.getenv("QLUA_SYSTEM_MALLOC")) and pending or it

describe("qlua's allocator", function()
  it("keeps every block's bytes, in every size class and across them: the same digest as with malloc", function()
    local script = H.script(workload)
    local code, pooled, err = H.qlua(script)
    assert.are.equal(0, code, err)
    local code2, plain, err2 = H.sh("QLUA_SYSTEM_MALLOC=1 " .. H.qlua_cmd .. " " .. H.q(script))
    assert.are.equal(0, code2, err2)
    assert.are.equal(plain, pooled)
    assert.truthy(pooled:match("^%d+\t%d+\n$"), pooled)
  end)

  with_pool("uses freed blocks again: 20000 builds take no more memory than 2000", function()
    local script = H.script(reuse)
    local rss = {}
    for i, n in ipairs({ 2000, 20000 }) do
      local code, out, err = H.sh("cd " .. H.q(H.root) .. " && " .. H.qlua_cmd .. " " .. H.q(script) .. " " .. n)
      assert.are.equal(0, code, err)
      rss[i] = tonumber(out:match("^(%d+)"))
    end
    -- 18000 more builds allocate about 180 MB in all: without reuse the
    -- second would be far larger; with it, the same within a few pages
    assert.is_true(rss[2] - rss[1] < 1024, ("%d kB after 2000 builds, %d kB after 20000"):format(rss[1], rss[2]))
  end)

  -- The pool's reserved range is one anonymous mapping of 64 MiB: there
  -- with the pool, absent with QLUA_SYSTEM_MALLOC.
  with_pool("is on by default, and off with QLUA_SYSTEM_MALLOC set", function()
    local maps = [[
for line in io.lines("/proc/self/maps") do
  local a, b = line:match("^(%x+)-(%x+)")
  if tonumber(b, 16) - tonumber(a, 16) == 64 * 1024 * 1024 then print("pool") end
end
]]
    local script = H.script(maps)
    local _, on = H.qlua(script)
    local _, off = H.sh("QLUA_SYSTEM_MALLOC=1 " .. H.qlua_cmd .. " " .. H.q(script))
    assert.are.equal("pool\n", on)
    assert.are.equal("", off)
  end)
end)
