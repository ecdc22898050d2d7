-- bench/agent.lua - the guest agent's round trip: `./qlua bench/agent.lua
-- [N]` boots the test guest (build/guest, `make guest`) with qemu-ga
-- (qlua.agent), then times N (default 50) `vm.agent:exec({ "true" })`
-- after 3 unmeasured ones, next to N `vm.agent:ping()` (one command and its
-- reply: the floor under exec, which is guest-exec plus guest-exec-status
-- polls until `true` has exited).  Reports medians; asserts no timing.
-- Not part of `make bench` (bench/run.lua): a boot takes seconds.
local qemu = require "qemu"

local n = tonumber(arg and arg[1]) or 50
local dir = "build/guest"
local vm <close> = qemu.launch({
  machine = { type = "q35", accel = "tcg" },
  memory = { size = "256M" },
  kernel = { path = dir .. "/vmlinux", initrd = dir .. "/initrd.gz",
             params = "console=ttyS0 quiet panic=-1 qlua.agent" },
  knobs = { no_defaults = true, no_reboot = true },
  extra_args = { "-display", "none" },
}, { console = "capture", agent = true })
assert(vm.agent:wait(120))

local function median(t)
  table.sort(t)
  local m = #t // 2
  return #t % 2 == 1 and t[m + 1] or (t[m] + t[m + 1]) / 2
end

local function time(f)
  local ts = {}
  for i = 1, n do
    local t0 = qemu.now()
    f()
    ts[i] = (qemu.now() - t0) * 1000
  end
  return median(ts), ts[1], ts[#ts]  -- sorted by median()
end

for _ = 1, 3 do assert(vm.agent:exec({ "true" })) end
local emed, emin, emax = time(function() assert(vm.agent:exec({ "true" }).status == 0) end)
local pmed, pmin, pmax = time(function() assert(vm.agent:ping()) end)
io.stderr:write(("agent exec of `true`: median %.2f ms (min %.2f, max %.2f) over %d runs\n"):format(emed, emin, emax, n))
io.stderr:write(("agent ping:           median %.2f ms (min %.2f, max %.2f) over %d runs\n"):format(pmed, pmin, pmax, n))
print(("bench-result agent qlua=%.3f base=%.3f unit=ms runs=%d"):format(emed, pmed, n))
assert(vm.agent:shutdown())
vm:wait(30)
