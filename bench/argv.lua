-- bench/argv.lua [N] - microseconds to build the typical configuration's
-- argv from Lua tables, tables and device constructors included, averaged
-- over N builds (after a warm-up), best of 5 rounds.  Next to it, in the
-- same process, the baseline: building the same Lua tables with the
-- constructors replaced by a no-op (what plain Lua costs).  The last line
-- is the result line bench/run.lua (`make bench`) collects.
--   ./qlua bench/argv.lua 20000
-- With a second argument "build" it only builds N argvs and prints nothing:
-- what bench/govmm.sh runs under callgrind (two N, the difference divided).
local qemu = qemu or require "qemu"
local n = tonumber(arg and arg[1]) or 20000
local typical = (arg and arg[0] or "bench/argv.lua"):gsub("argv%.lua$", "typical.lua")

local function best_of(f)
  local best = math.huge
  for _ = 1, 5 do
    local t0 = os.clock()
    for _ = 1, n do f() end
    local us = (os.clock() - t0) / n * 1e6
    if us < best then best = us end
  end
  return best
end

local build = dofile(typical)
if arg and arg[2] == "build" then
  for _ = 1, n do qemu.argv(build()) end
  return
end
for _ = 1, math.max(1, n // 10) do qemu.argv(build()) end  -- warm-up
local us = best_of(function() qemu.argv(build()) end)

-- the baseline: the same tables, constructors that return their argument
local real = _G.qemu
local noop = function(t) return t end
_G.qemu = setmetatable({ open = real.open }, { __index = function() return noop end })
local tables = dofile(typical)
_G.qemu = real
local base = best_of(tables)

local argv = qemu.argv(build())
print(("argv: %d arguments; %.2f us per configuration; Lua tables alone %.2f us; ratio %.1f (best of 5 rounds of %d)")
  :format(#argv, us, base, us / base, n))
print(("bench-result argv qlua=%.3f base=%.3f unit=us n=%d"):format(us, base, n))
