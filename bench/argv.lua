-- bench/argv.lua [N] - microseconds to build the typical configuration's
-- argv from Lua tables, tables and device constructors included, averaged
-- over N builds (after a warm-up), best of 5 rounds.  Next to it, in the
-- same process, two baselines: building the same Lua tables with the
-- constructors replaced by a no-op (what plain Lua costs), and the Lua-API
-- floor (bench/api_floor.c: the same tables, every key and string read
-- through Lua's C API, a userdata per device, the same words pushed into a
-- list; nothing checked or rendered), when `make -C bench` built it.  The
-- bench-result lines are what bench/run.lua (`make bench`) collects.
--   ./qlua bench/argv.lua 20000
-- With a second argument "build" it only builds N argvs and prints nothing:
-- what bench/govmm.sh runs under callgrind (two N, the difference divided);
-- "floor" does the same with the floor's functions.
local qemu = qemu or require "qemu"
local n = tonumber(arg and arg[1]) or 20000
local typical = (arg and arg[0] or "bench/argv.lua"):gsub("argv%.lua$", "typical.lua")
package.cpath = (arg and arg[0] or "bench/argv.lua"):gsub("argv%.lua$", "?.so") .. ";" .. package.cpath
local has_floor, floor = pcall(require, "api_floor")

-- The typical configuration's builder with `construct` in place of every
-- qemu.<kind> (the baselines' devices).
local function builder_with(construct)
  local real = _G.qemu
  _G.qemu = setmetatable({ open = real.open }, { __index = function() return construct end })
  local tables = dofile(typical)
  _G.qemu = real
  return tables
end

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

-- The three modes are branches of one if, not early returns: a main chunk
-- with more than one return statement makes qlua set a hook on every
-- return (to know which one returned a description: main.c), and that
-- hook is no part of building an argv.
local function measure()
  for _ = 1, math.max(1, n // 10) do qemu.argv(build()) end  -- warm-up
  local us = best_of(function() qemu.argv(build()) end)

  -- the baseline: the same tables, constructors that return their argument
  local base = best_of(builder_with(function(t) return t end))

  local argv = qemu.argv(build())
  print(("argv: %d arguments; %.2f us per configuration; Lua tables alone %.2f us; ratio %.1f (best of 5 rounds of %d)")
    :format(#argv, us, base, us / base, n))
  if has_floor then
    floor.words(argv)
    local tables = builder_with(floor.construct)
    local fus = best_of(function() floor.argv(tables()) end)
    print(("the Lua-API floor (bench/api_floor.c) %.2f us; qlua / floor %.2f"):format(fus, us / fus))
    print(("bench-result argv_floor qlua=%.3f base=%.3f unit=us n=%d"):format(us, fus, n))
  else
    print("the Lua-API floor: not measured (bench/api_floor.so is not built: make -C bench)")
  end
  print(("bench-result argv qlua=%.3f base=%.3f unit=us n=%d"):format(us, base, n))
end

if arg and arg[2] == "build" then
  for _ = 1, n do qemu.argv(build()) end
elseif arg and arg[2] == "floor" then
  assert(has_floor, "bench/api_floor.so is not built: make -C bench")
  floor.words(qemu.argv(build()))
  local tables = builder_with(floor.construct)
  for _ = 1, n do floor.argv(tables()) end
else
  measure()
end
