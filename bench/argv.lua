-- bench/argv.lua [N] - microseconds to build the typical configuration's
-- argv from Lua tables, tables and device constructors included, averaged
-- over N builds (after a warm-up), best of 5 rounds.
--   ./qlua bench/argv.lua 20000
local qemu = qemu or require "qemu"
local n = tonumber(arg and arg[1]) or 20000
local build = dofile((arg and arg[0] or "bench/argv.lua"):gsub("argv%.lua$", "typical.lua"))

local function round()
  local t0 = os.clock()
  for _ = 1, n do
    qemu.argv(build())
  end
  return (os.clock() - t0) / n * 1e6
end

for _ = 1, math.max(1, n // 10) do qemu.argv(build()) end  -- warm-up
local best = math.huge
for _ = 1, 5 do
  local us = round()
  if us < best then best = us end
end
local argv = qemu.argv(build())
print(("argv: %d arguments, %.2f us per configuration (best of 5 rounds of %d)"):format(#argv, best, n))
