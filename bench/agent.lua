-- bench/agent.lua - the guest agent: its round trip, and a boot to the
-- point where it answers.  Asserts no timing.
--
--   ./qlua bench/agent.lua [N]
--       boots the test guest (build/guest, `make guest`) with qemu-ga
--       (qlua.agent), then times N (default 50) `vm.agent:exec({ "true" })`
--       after 3 unmeasured ones, next to N `vm.agent:ping()` (one command and
--       its reply: the floor under exec, which is guest-exec plus
--       guest-exec-status polls until `true` has exited).  Reports medians.
--   ./qlua bench/agent.lua boot [distro]
--       one boot to "agent answers": launch, vm.agent:wait, one ping, then
--       SIGKILL and wait.  bench/agent.sh times this whole process next to
--       bench/qga_floor.py running the same QEMU command line (taken from
--       `./qlua --json bench/agent.lua boot`).  With "distro": the Debian
--       image (build/distro/debian-12.qcow2, `make distro-image`) by SeaBIOS,
--       -snapshot, no seed (its qemu-guest-agent starts by itself on the
--       port), instead of the test guest.
local qemu = require "qemu"

local boot = arg and arg[1] == "boot"
local distro = boot and arg[2] == "distro"
local n = not boot and tonumber(arg and arg[1]) or 50

local desc
if distro then
  desc = {
    machine = { type = "q35", accel = "tcg" },
    cpu_model = "max",
    smp = { cpus = 2 },
    memory = { size = "1G" },
    knobs = { no_defaults = true, no_user_config = true, snapshot = true },
    devices = { qemu.block { id = "d0", file = "build/distro/debian-12.qcow2", format = "qcow2", bootindex = 0 } },
  }
else
  local dir = "build/guest"
  desc = {
    machine = { type = "q35", accel = "tcg" },
    memory = { size = "256M" },
    kernel = { path = dir .. "/vmlinux", initrd = dir .. "/initrd.gz",
               params = "console=ttyS0 quiet panic=-1 no_timer_check qlua.agent" },
    knobs = { no_defaults = true, no_reboot = true },
  }
end
local vm <close> = qemu.launch(desc, { console = "capture", agent = true })
assert(vm.agent:wait(distro and 600 or 120))

if boot then
  assert(vm.agent:ping())
  vm:kill(9)
  vm:wait(30)
  return
end

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
