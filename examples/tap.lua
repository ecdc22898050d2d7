-- examples/tap.lua - a guest on a multiqueue TAP network whose queues qlua
-- opens itself: qemu.tap creates the tap and returns one descriptor per
-- queue, and QEMU gets those descriptors (it needs no privileges for them).
--
-- Creating a tap and giving it an address needs root (CAP_NET_ADMIN).  Run
-- it in a network namespace of its own, so that nothing on the host changes:
--
--   ip netns add qlua-x
--   ip netns exec qlua-x ./qlua examples/tap.lua       boot; the guest pings the host side
--   ip netns exec qlua-x ./qlua -n examples/tap.lua    the command line (fds 3, 4: the queues)
--   ip netns del qlua-x
--
-- The tap, qt0, lives as long as qlua holds its descriptors: it is gone when
-- qlua exits.  The guest (the test guest: make guest) has 2 vCPUs and a
-- virtio-net NIC with 2 queue pairs (mq=on); it sets 10.0.2.15/24 on eth0,
-- pings 10.0.2.2 (qt0, the host side: QLUA-NET-OK) and powers off.
-- (recipes.tap { ifname = "qt0", queues = 2 } opens the queues and makes the NIC in one call.)
local recipes = require "qemu.recipes"
local QUEUES = 2

-- This example changes the network of the namespace it runs in: it runs only
-- in one made for it (`ip netns add`, or `unshare -n`: nothing but lo in it,
-- as /proc/net/dev lists this namespace's interfaces; reading it starts no
-- program, so -n may ask too).
local function only_lo()
  local f = io.open("/proc/net/dev")
  if not f then return false end
  local names = {}
  for line in f:lines() do names[#names + 1] = line:match("^%s*([^%s:]+):") end
  f:close()
  return #names == 1 and names[1] == "lo"
end
if not only_lo() then
  error("examples/tap.lua changes the network it runs in: run it in a network namespace of its own, as root:\n" ..
        "  ip netns add qlua-x; ip netns exec qlua-x ./qlua examples/tap.lua; ip netns del qlua-x", 0)
end

local guest = recipes.guest_dir()
assert(guest, "no test guest (build/guest): run `make guest`, or set QLUA_GUEST_DIR")

-- One descriptor per queue; vnet_hdr as virtio-net wants it with several queues.
local queues = qemu.tap("qt0", { queues = QUEUES, vnet_hdr = true })

return {
  name = "tap",
  machine = { type = "q35", accel = "tcg" },
  cpu_model = "max",
  memory = { size = "256M" },
  smp = { cpus = QUEUES },                      -- a queue pair per vCPU
  kernel = { path = guest .. "/vmlinux", initrd = guest .. "/initrd.gz",
             params = "console=ttyS0 quiet panic=-1 no_timer_check qlua.net=10.0.2.15/24,10.0.2.2" },
  knobs = { no_defaults = true, no_user_config = true, no_reboot = true },
  devices = {
    qemu.netdev { type = "tap", id = "net0", fds = queues, mac_address = "52:54:00:12:34:56" },
  },
  -- the host side of the tap, configured at launch, just before QEMU starts
  -- (-n prints these commands)
  prepare = {
    { argv = { "ip", "addr", "add", "10.0.2.2/24", "dev", "qt0" } },
    { argv = { "ip", "link", "set", "qt0", "up" } },
  },
}
