-- spec/support/cases.lua - the configurations behind the golden command
-- lines (spec/golden_spec.lua, spec/golden/NAME.args) and behind the
-- specs where the real QEMU accepts them (spec/qemu_accepts_spec.lua): one
-- table, so a configuration is written once and both specs see it.
--
-- A case:
--   group   the describe block it shows in ("block", "vm sections", ...)
--   it      what it shows: the test's name in both specs
--   name    its golden file spec/golden/NAME.args (nil: the real QEMU only)
--   vm      function(E) -> description [, fds]: the description, and (golden
--           only) the descriptors qemu.argv must return, in that order.
--           E says which world it is built for (see `env` below): in the
--           golden one paths are fixed fake paths and descriptors are opened
--           on a scratch file; in the real one every path is a real file or
--           directory made in the case's own directory (whose name, like the
--           fake paths, carries ',', ' ' and '='), so QEMU itself proves the
--           comma doubling.  E.pick(g, r) is the one place the two differ.
--   machine the machine the real QEMU runs it on when the description names
--           none (default q35 with tcg)
--   qemu    what the real QEMU does with it:
--             nil          it accepts it: started paused (-S) with QMP on
--                          stdio fed qmp_capabilities + quit, exit 0 and
--                          nothing on stderr (H.assert_qemu_accepts)
--             "pipe"       the same with QMP on a pipe chardev, for a
--                          configuration that uses stdio itself
--             "netns"      the same, inside a network namespace of the
--                          test's own (taps), built there by a qlua script
--             { pending = why }   it cannot run on this machine (shown as
--                          a pending test with the reason)
--             { refuses = text, why = why }   no such host device here:
--                          QEMU is shown to read every option and to stop
--                          (exit 1) only with `text` on stderr
--   needs   a probe of qemu_accepts_spec.lua ("kvm", "ttyS0", "ovmf", ...):
--           without it the case is pending there, with the probe's reason
--   link    (with "netns") a macvtap or ipvtap link the namespace needs first
--   check   function(E, H, argv, fds): the real run, where it is not the
--           plain acceptance above
--   after   function(E): more assertions after the real run
local qemu = require "qemu"
-- luassert under busted (check, after); Lua's own in a qlua script that only
-- builds a case (the network namespace's)
local has_luassert, luassert = pcall(require, "luassert")
local assert = has_luassert and luassert or assert

local M = {}
local cases = {}
M.cases = cases

local group
local function case(t)
  t.group = group
  cases[#cases + 1] = t
  return t
end

-- A VM with just these devices.
local function devices(...)
  return { devices = { ... } }
end

-- ---- the two worlds ------------------------------------------------------

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function run_ok(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  assert(ok, "failed: " .. cmd)
end

local function dirname(p)
  return p:match("^(.*)/[^/]*$")
end

local function mkdir(p)
  run_ok("mkdir -p " .. q(p))
  return p
end

-- Returns E for the golden world: fake paths as given, descriptors on the
-- file `scratch` (its path never reaches a golden file).
function M.golden_env(scratch)
  local E = { real = false, opened = {} }
  function E.pick(g) return g end
  local function same(p) return p end
  E.path, E.dir, E.file, E.zeros, E.raw, E.qcow2, E.kernel, E.fifo = same, same, same, same, same, same, same, same
  function E.exe(p) return p end
  function E.copy(_, p) return p end
  function E.fds(n, mode)
    local t = {}
    for i = 1, n do
      t[i] = qemu.open(scratch, mode or "rw")
      E.opened[#E.opened + 1] = t[i]
    end
    return t
  end
  function E.tap(_, opts) return E.fds(opts and opts.queues or 1) end
  function E.vtap(n) return E.fds(n) end
  function E.socketpair()
    local a, b = qemu.socketpair()
    E.opened[#E.opened + 1] = a
    E.opened[#E.opened + 1] = b
    return a, b
  end
  function E.backend() end
  function E.shared(vm) return vm end
  function E.done()
    for _, f in ipairs(E.opened) do f:close() end
    E.opened = {}
  end
  return E
end

-- Returns E for the real world: every path made under dir (the case's own
-- directory), descriptors opened on real files, taps made by qemu.tap, and
-- vhost-user backends started (and stopped by E.done()).
function M.real_env(dir)
  local E = { real = true, root = dir, opened = {}, procs = {} }
  mkdir(dir)
  function E.pick(_, r) return r end
  local made = {}
  local function at(p) return dir .. p end
  -- a path that need not exist yet (a socket, a log, a memory file): its
  -- directory is made, the file itself removed
  function E.path(p)
    local r = at(p)
    mkdir(dirname(r))
    os.remove(r)
    return r
  end
  function E.dir(p) return mkdir(at(p)) end
  function E.file(p, text)
    local r = at(p)
    if not made[r] then
      mkdir(dirname(r))
      local f = assert(io.open(r, "wb"))
      f:write(text or ("\0"):rep(512))
      f:close()
      made[r] = true
    end
    return r
  end
  function E.zeros(p, n) return E.file(p, ("\0"):rep(n)) end
  function E.raw(p)
    local r = at(p)
    if not made[r] then
      mkdir(dirname(r))
      run_ok("truncate -s 16M " .. q(r))
      made[r] = true
    end
    return r
  end
  function E.qcow2(p)
    local r = at(p)
    if not made[r] then
      mkdir(dirname(r))
      run_ok("qemu-img create -q -f qcow2 " .. q(r) .. " 16M")
      made[r] = true
    end
    return r
  end
  -- A file QEMU loads as a Linux kernel: a bzImage setup header (boot
  -- protocol 2.06, loaded high) and a little payload.  QEMU only copies it
  -- into guest memory, and -S never runs it.
  function E.kernel(p)
    local b = {}
    for i = 1, 4096 do b[i] = "\0" end
    local function put(off, s)
      for i = 1, #s do b[off + i] = s:sub(i, i) end
    end
    put(0x1f1, string.pack("<I1", 1))            -- setup_sects
    put(0x202, "HdrS")
    put(0x206, string.pack("<I2", 0x0206))       -- boot protocol version
    put(0x211, string.pack("<I1", 1))            -- loadflags: LOADED_HIGH
    put(0x22c, string.pack("<I4", 0x37ffffff))   -- initrd_addr_max
    put(0x238, string.pack("<I4", 2048))         -- cmdline_size
    return E.file(p, table.concat(b))
  end
  function E.fifo(p)
    local r = E.path(p)
    run_ok("mkfifo " .. q(r))
    return r
  end
  -- An executable script at p: it writes its first argument to the file
  -- `ran` (an E.path) when given, else it only exits 0.
  function E.exe(p, ran)
    local r = E.path(p)
    local body = ran and ("printf '%s\\n' \"$1\" >" .. q(at(ran)) .. "\n") or "exit 0\n"
    local f = assert(io.open(r, "wb"))
    f:write("#!/bin/sh\n" .. body)
    f:close()
    run_ok("chmod +x " .. q(r))
    return r
  end
  function E.copy(from, p)
    local r = E.path(p)
    run_ok("cp " .. q(from) .. " " .. q(r))
    return r
  end
  function E.slurp(p)
    local f = io.open(at(p), "rb")
    if not f then return nil end
    local s = f:read("a")
    f:close()
    return s
  end
  local function keep(t)
    for _, f in ipairs(t) do E.opened[#E.opened + 1] = f end
    return t
  end
  -- n descriptors on the real file `file` (made by E.raw, E.qcow2, ...)
  function E.fds(n, mode, file)
    local t = {}
    for i = 1, n do t[i] = qemu.open(assert(file, "E.fds needs a file in the real world"), mode or "rw") end
    return keep(t)
  end
  function E.tap(ifname, opts) return keep(qemu.tap(ifname, opts)) end
  -- n queues of the macvtap/ipvtap x0 the namespace holds (link = ...)
  function E.vtap(n)
    local ifindex = assert(io.open("/sys/class/net/x0/ifindex")):read("n")
    local t = {}
    for i = 1, n do t[i] = qemu.open("/dev/tap" .. ifindex, "rw") end
    return keep(t)
  end
  function E.socketpair()
    local a, b = qemu.socketpair()
    keep({ a, b })
    return a, b
  end
  -- A vhost-user backend listening on sock: "qsd" (qemu-storage-daemon
  -- exporting a raw image as vhost-user-blk) or "virtiofsd".  Returns once
  -- the socket is there; E.done() stops it.
  function E.backend(kind, sock)
    local esc = function(s) return (s:gsub(",", ",,")) end
    local path, args
    if kind == "qsd" then
      local img = E.raw("/backend/blk,0.img")
      path, args = "/usr/bin/qemu-storage-daemon", {
        "--blockdev", "driver=file,node-name=f,filename=" .. esc(img),
        "--export", "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=" .. esc(sock) ..
        ",writable=on" }
    else
      -- virtiofsd reads -o as a comma-separated list: a plain source path
      -- (a directory of its own, removed by E.done())
      local src = assert(io.popen("mktemp -d /tmp/qlua-vfs.XXXXXX")):read("l")
      E.removes = E.removes or {}
      E.removes[#E.removes + 1] = src
      path, args = "/usr/lib/qemu/virtiofsd", { "--socket-path=" .. sock, "-o", "source=" .. src,
                                                "-o", "sandbox=chroot" }
    end
    local h = qemu.launch_custom(path, args, {}, { stderr = "capture" })
    E.procs[#E.procs + 1] = h
    for _ = 1, 200 do
      if os.execute("test -S " .. q(sock)) then return end
      if not h:alive() then break end
      os.execute("sleep 0.05")
    end
    error("no socket at " .. sock .. ": " .. h:stderr())
  end
  -- vhost-user needs the guest RAM shared: a memfd backend
  function E.shared(vm)
    vm.machine = vm.machine or { type = "q35", accel = "tcg" }
    vm.machine.options = vm.machine.options or {}
    vm.machine.options["memory-backend"] = "vumem"
    vm.memory = { size = "128M" }
    vm.extra_args = { "-object", "memory-backend-memfd,id=vumem,size=128M,share=on" }
    return vm
  end
  function E.done()
    for _, f in ipairs(E.opened) do f:close() end
    E.opened = {}
    for _, h in ipairs(E.procs) do
      if h:alive() then h:kill(9) end
      h:wait(5)
    end
    E.procs = {}
    for _, d in ipairs(E.removes or {}) do os.execute("rm -rf " .. q(d)) end
    E.removes = {}
  end
  return E
end

-- The case named (golden file) or described (`it`) so.
function M.find(key)
  for _, c in ipairs(cases) do
    if c.name == key or c.it == key then return c end
  end
  error("no case " .. tostring(key))
end

-- ---- object --------------------------------------------------------------
group = "object"

case { name = "object-memory-backend-file", it = "memory-backend-file with every field",
  vm = function(E)
    return devices(qemu.object {
      type = "memory-backend-file", id = "mem0", mem_path = E.path("/srv/vm mem/ram,0=a"),
      size = E.pick("1G", "16M"), share = true, read_only = false, prealloc = true })
  end }

case { name = "object-nvdimm", it = "memory-backend-file with an nvdimm using it",
  vm = function(E)
    return {
      machine = E.pick(nil, { type = "q35", accel = "tcg", options = { nvdimm = true } }),
      memory = E.pick(nil, { size = "128M", slots = 2, maxmem = "1G" }),
      devices = { qemu.object {
        type = "memory-backend-file", id = "nvmem0", mem_path = E.path("/srv/vm mem/nv,0=pmem.img"),
        size = E.pick(4 * 1024 * 1024 * 1024, "16M"), share = true, driver = "nvdimm", device_id = "nv0" } } }
  end }

-- QEMU 7.2 refuses a read-only memdev under an nvdimm unless the nvdimm is
-- unarmed=on: qlua says it.
case { name = "object-nvdimm-read-only", it = "read-only memory-backend-file with an nvdimm using it (unarmed)",
  vm = function(E)
    return {
      machine = E.pick(nil, { type = "q35", accel = "tcg", options = { nvdimm = true } }),
      memory = E.pick(nil, { size = "128M", slots = 2, maxmem = "1G" }),
      devices = { qemu.object {
        type = "memory-backend-file", id = "nvmem0", mem_path = E.zeros("/srv/vm mem/nv,1=ro.img", 16 * 1024 * 1024),
        size = "16M", read_only = true, driver = "nvdimm", device_id = "nv0" } } }
  end }

-- ---- fsdev ---------------------------------------------------------------
group = "fsdev"

case { name = "fsdev-9p", it = "9p share with every field",
  vm = function(E)
    return devices(qemu.fsdev {
      id = "fs0", fs_driver = "local", path = E.dir("/srv/share dir/a,b=c"), mount_tag = "tag,1 =x",
      security_model = "mapped-xattr", multidev = "remap", driver = "virtio-9p-pci",
      bus = "pcie.0", addr = "0x5", romfile = E.file("/usr/share/qemu roms/9p,1=a.rom"),
      disable_modern = true })
  end }

case { name = "fsdev-security-models", it = "every security model and multidevs value",
  vm = function(E)
    return devices(
      qemu.fsdev { id = "fs0", path = E.dir("/srv/a"), mount_tag = "a", security_model = "none" },
      qemu.fsdev { id = "fs1", path = E.dir("/srv/b"), mount_tag = "b", security_model = "passthrough",
                   multidev = "forbid" },
      qemu.fsdev { id = "fs2", path = E.dir("/srv/c"), mount_tag = "c", security_model = "mapped-xattr",
                   multidev = "warn" },
      qemu.fsdev { id = "fs3", path = E.dir("/srv/d"), mount_tag = "d", security_model = "mapped-file" },
      qemu.fsdev { id = "fs4", path = E.dir("/srv/e"), mount_tag = "e", security_model = "mapped" })
  end }

-- ---- chardev -------------------------------------------------------------
group = "chardev"

case { name = "chardev-pipe", it = "pipe",
  vm = function(E)
    return devices(qemu.chardev { backend = "pipe", id = "ch0", path = E.fifo("/run/qlua pipes/ch,0=a") })
  end }

case { name = "chardev-socket", it = "socket (a listening server)",
  vm = function(E)
    return devices(qemu.chardev { backend = "socket", id = "ch0", path = E.path("/run/qlua sockets/ch,0=a.sock") })
  end }

case { name = "chardev-console", it = "console (QEMU's stdio; QMP on a pipe for the real QEMU)", qemu = "pipe",
  vm = function()
    return devices(qemu.chardev { backend = "console", id = "ch0" })
  end }

case { name = "chardev-serial", it = "serial", needs = "ttyS0",
  vm = function(E)
    return devices(qemu.chardev { backend = "serial", id = "ch0",
                                  path = E.pick("/dev/serial/by-id/usb-FTDI,0=a", "/dev/ttyS0") })
  end }

case { name = "chardev-tty", it = "tty (QEMU's serial)", needs = "ttyS0",
  vm = function()
    return devices(qemu.chardev { backend = "tty", id = "ch0", path = "/dev/ttyS0" })
  end }

case { name = "chardev-pty", it = "pty",
  vm = function()
    return devices(qemu.chardev { backend = "pty", id = "ch0" })
  end }

case { name = "chardev-file", it = "file",
  vm = function(E)
    return devices(qemu.chardev { backend = "file", id = "ch0", path = E.path("/var/log/qlua logs/serial,0=a.log") })
  end }

case { name = "chardev-virtserialport", it = "with the device using it (virtio-serial ports)",
  vm = function(E)
    return devices(
      qemu.serial { id = "ser0" },
      qemu.chardev { backend = "socket", id = "ch0", path = E.path("/run/qlua/port,0.sock"),
                     driver = "virtserialport", bus = "ser0.0", device_id = "port0",
                     name = "org.qlua.port,1=a b" },
      qemu.chardev { backend = "pty", id = "ch1", driver = "virtconsole", bus = "ser0.0",
                     device_id = "con0" })
  end }

case { name = "chardev-pci-device", it = "with a PCI device using it (addr, romfile)",
  vm = function(E)
    return devices(qemu.chardev {
      backend = "file", id = "ch0", path = E.path("/var/log/uart.log"), driver = "pci-serial",
      bus = "pcie.0", device_id = "uart0", addr = "4.0", romfile = E.file("/srv/roms/uart,0.rom") })
  end }

-- ---- netdev --------------------------------------------------------------
group = "netdev"

-- The real QEMU creates the tap by its name and runs the scripts with the
-- name as it read it back from ",,".
case { name = "netdev-tap-ifname", it = "tap by name, with scripts and every device field", qemu = "netns",
  vm = function(E)
    return devices(qemu.netdev {
      type = "tap", id = "net0", ifname = "tap,0=x", mac_address = "52:54:00:12:34:56",
      script = E.exe("/etc/qemu ifup,1=x", "/up.ran"), down_script = E.exe("/etc/qemu ifdown,1=x", "/down.ran"),
      driver = "virtio-net-pci", bus = "pcie.0", addr = "0x3", romfile = E.file("/srv/roms/net,0=a.rom"),
      disable_modern = true })
  end,
  after = function(E)
    assert(E.slurp("/up.ran") == "tap,0=x\n", "the up script did not get the tap's name: " .. tostring(E.slurp("/up.ran")))
    assert(E.slurp("/down.ran") == "tap,0=x\n", "the down script did not get the tap's name: " .. tostring(E.slurp("/down.ran")))
  end }

case { name = "netdev-tap-no-scripts", it = "tap by name: scripts default to none", qemu = "netns",
  vm = function()
    return devices(qemu.netdev { type = "tap", id = "net0", ifname = "tap0", driver = "e1000" })
  end }

case { name = "netdev-tap-vhost-off", it = "tap with vhost off", qemu = "netns",
  vm = function()
    return devices(qemu.netdev { type = "tap", id = "net0", ifname = "tap0", vhost = false })
  end }

case { name = "netdev-tap-fd", it = "tap with one descriptor (ifname is not passed)", qemu = "netns",
  vm = function(E)
    local fds = E.tap("tap0")
    return devices(qemu.netdev { type = "tap", id = "net0", ifname = "tap0", fds = fds,
                                 mac_address = "52:54:00:12:34:56" }), fds
  end }

case { it = "tap from qemu.tap with vnet_hdr", qemu = "netns",
  vm = function(E)
    return devices(qemu.netdev { type = "tap", id = "net1", fds = E.tap("qt,1=a", { vnet_hdr = true }) })
  end }

case { name = "netdev-tap-multiqueue", it = "tap multiqueue", qemu = "netns",
  vm = function(E)
    local fds = E.tap("tap0", { queues = 2, vnet_hdr = E.pick(nil, true) })
    return devices(qemu.netdev { type = "tap", id = "net0", fds = fds }), fds
  end }

local NO_VHOST = "no /dev/vhost-net here, and QEMU 7.2 aborts on an assertion with vhost=on"

case { name = "netdev-tap-vhost", it = "tap with vhost and a vhost descriptor", qemu = { pending = NO_VHOST },
  vm = function(E)
    local fds, vfds = E.fds(1), E.fds(1)
    return devices(qemu.netdev { type = "tap", id = "net0", fds = fds, vhost = true, vhost_fds = vfds }),
      { vfds[1], fds[1] }
  end }

case { name = "netdev-tap-vhost-ifname", it = "tap with vhost by name (QEMU opens /dev/vhost-net)",
  qemu = { pending = NO_VHOST },
  vm = function()
    return devices(qemu.netdev { type = "tap", id = "net0", ifname = "tap0", vhost = true })
  end }

case { name = "netdev-tap-vhost-multiqueue", it = "tap multiqueue with vhost descriptors", qemu = { pending = NO_VHOST },
  vm = function(E)
    local fds, vfds = E.fds(2), E.fds(2)
    return devices(qemu.netdev { type = "tap", id = "net0", fds = fds, vhost = true, vhost_fds = vfds }),
      { vfds[1], vfds[2], fds[1], fds[2] }
  end }

case { name = "netdev-macvtap-fd", it = "macvtap with one descriptor", qemu = "netns", link = "macvtap",
  needs = "macvtap",
  vm = function(E)
    local fds = E.vtap(1)
    return devices(qemu.netdev { type = "macvtap", id = "net0", fds = fds, mac_address = "52:54:00:12:34:57" }), fds
  end }

case { it = "macvtap multiqueue", qemu = "netns", link = "macvtap", needs = "macvtap",
  vm = function(E)
    return devices(qemu.netdev { type = "macvtap", id = "net0", fds = E.vtap(2) })
  end }

case { name = "netdev-macvtap-multiqueue-vhost", it = "macvtap multiqueue with vhost", qemu = { pending = NO_VHOST },
  vm = function(E)
    local fds, vfds = E.fds(3), E.fds(3)
    return devices(qemu.netdev { type = "macvtap", id = "net0", fds = fds, vhost = true, vhost_fds = vfds }),
      { vfds[1], vfds[2], vfds[3], fds[1], fds[2], fds[3] }
  end }

case { name = "netdev-ipvtap-fd", it = "ipvtap with one descriptor", qemu = "netns", link = "ipvtap", needs = "ipvtap",
  vm = function(E)
    local fds = E.vtap(1)
    return devices(qemu.netdev { type = "ipvtap", id = "net0", fds = fds, mac_address = "52:54:00:12:34:58" }), fds
  end }

case { name = "netdev-ipvtap-multiqueue", it = "ipvtap multiqueue", qemu = "netns", link = "ipvtap", needs = "ipvtap",
  vm = function(E)
    local fds = E.vtap(2)
    return devices(qemu.netdev { type = "ipvtap", id = "net0", fds = fds }), fds
  end }

case { name = "netdev-vethtap-ifname", it = "vethtap by name", qemu = "netns",
  vm = function(E)
    return devices(qemu.netdev { type = "vethtap", id = "net0", ifname = "veth,0=x",
                                 script = E.exe("/etc/qemu ifup,1=x") })
  end }

case { name = "netdev-vethtap-fds", it = "vethtap with descriptors", qemu = "netns",
  vm = function(E)
    local fds = E.tap("qv0", { queues = E.pick(2, 3), vnet_hdr = E.pick(nil, true) })
    return devices(qemu.netdev { type = "vethtap", id = "net0", fds = fds, mac_address = "52:54:00:12:34:59" }), fds
  end }

case { name = "netdev-vfio", it = "vfio (the VF is the NIC: no -netdev)",
  qemu = { refuses = "vfio /sys/bus/pci/devices/0000:3b:02.1: no such host device",
           why = "netdev type 'vfio': no VFIO device on this machine" },
  vm = function(E)
    return devices(qemu.netdev { type = "vfio", id = "vf0", bdf = "0000:3b:02.1", bus = "pcie.0", addr = "6",
                                 romfile = E.file("/srv/roms/vf,0=a.rom") })
  end }

case { name = "netdev-vhostuser", it = "vhostuser on a socket chardev",
  qemu = { pending = "netdev type 'vhostuser': needs a vhost-user-net backend (only DPDK's testpmd); " ..
                     "QEMU blocks until one connects" },
  vm = function()
    return devices(
      qemu.chardev { backend = "socket", id = "vhu0", path = "/run/vhost user/net,0=a.sock" },
      qemu.netdev { type = "vhostuser", id = "net0", chardev = "vhu0",
                    mac_address = "52:54:00:12:34:5a", driver = "virtio-net-pci" })
  end }

-- ---- serial --------------------------------------------------------------
group = "serial"

case { name = "serial", it = "virtio-serial controller with every field",
  vm = function(E)
    return devices(qemu.serial {
      id = "ser0", driver = "virtio-serial-pci", max_ports = 4, bus = "pcie.0", addr = "7",
      romfile = E.file("/srv/roms/ser,0=a.rom"), disable_modern = false })
  end }

-- ---- block ---------------------------------------------------------------
group = "block"
local IMG = "/srv/vm images/disk,1.qcow2"

for _, aio in ipairs({ "threads", "native", "io_uring" }) do
  case { name = "block-aio-" .. aio, it = "aio " .. aio .. (aio == "native" and " (with cache.direct=on)" or ""),
    vm = function(E)
      return devices(qemu.block { id = "hd0", file = E.qcow2(IMG), format = "qcow2", aio = aio })
    end }
end

case { name = "block-options", it = "every device option",
  vm = function(E)
    return devices(qemu.block {
      id = "hd0", file = E.qcow2(IMG), format = "qcow2", interface = "none", read_only = true,
      discard_unmap = true, driver = "virtio-blk-pci", scsi = false, wce = true,
      share_rw = true, bus = "pcie.0", addr = "8.0", romfile = E.file("/srv/roms/blk,0=a.rom"),
      disable_modern = false })
  end }

case { name = "block-discard-ignore", it = "discard ignored, write cache fixed",
  vm = function(E)
    return devices(qemu.block {
      id = "hd0", file = E.raw("/srv/vm images/raw,0=a.img"), format = "raw", discard_unmap = false,
      wce = false, share_rw = false, read_only = false })
  end }

case { name = "block-fd", it = "a descriptor, read-write (auto-read-only=off)",
  vm = function(E)
    local f = E.fds(1, "rw", E.raw("/srv/raw,0=a.img"))
    return devices(qemu.block { id = "hd0", file = f[1], format = "raw" }), f
  end }

case { name = "block-fd-read-only", it = "a descriptor, read-only",
  vm = function(E)
    local f = E.fds(1, "r", E.qcow2(IMG))
    return devices(qemu.block { id = "hd0", file = f[1], format = "qcow2", read_only = true, aio = "native" }), f
  end }

case { name = "block-fds", it = "two descriptors get their own fd sets",
  vm = function(E)
    local a, b = E.fds(1, "rw", E.raw("/srv/a,0.img")), E.fds(1, "r", E.raw("/srv/b,0.img"))
    return devices(
      qemu.block { id = "hd0", file = a[1], format = "raw" },
      qemu.block { id = "hd1", file = b[1], format = "raw", read_only = true }), { a[1], b[1] }
  end }

-- QEMU 7.2 refuses -drive if=scsi on every x86 machine: qlua makes it
-- if=none with a scsi-hd on the controller's bus.  The real QEMU gets a
-- controller for it.
case { name = "block-interface-scsi", it = "interface scsi",
  vm = function(E)
    local d = {}
    if E.real then d[#d + 1] = qemu.device { driver = "virtio-scsi-pci", id = "scsi0" } end
    d[#d + 1] = qemu.block { id = "hd0", file = E.qcow2(IMG), format = "qcow2", interface = "scsi", aio = "threads",
                             read_only = true }
    return { devices = d }
  end }

case { name = "block-interface-ide", it = "interface ide",
  vm = function(E)
    return devices(qemu.block { id = "hd0", file = E.qcow2(IMG), format = "qcow2", interface = "ide" })
  end }

case { name = "block-interface-virtio", it = "interface virtio",
  vm = function(E)
    return devices(qemu.block { id = "hd0", file = E.qcow2(IMG), format = "qcow2", interface = "virtio",
                                discard_unmap = true })
  end }

-- ---- vhost_user ----------------------------------------------------------
group = "vhost_user"

case { name = "vhost_user-net", it = "net",
  qemu = { pending = "vhost_user 'net': needs a vhost-user-net backend (only DPDK's testpmd); QEMU blocks " ..
                     "until one connects" },
  vm = function()
    return devices(qemu.vhost_user {
      vhost_user_type = "net", socket_path = "/run/vhost user/net,0=a.sock", chardev_id = "vhn0",
      type_dev_id = "net0", mac_address = "52:54:00:12:34:5b", bus = "pcie.0", addr = "9",
      disable_modern = false })
  end }

case { name = "vhost_user-scsi", it = "scsi", qemu = { pending = "vhost_user 'scsi': Debian has no vhost-user-scsi backend" },
  vm = function()
    return devices(qemu.vhost_user {
      vhost_user_type = "scsi", socket_path = "/run/vhost user/scsi,0=a.sock",
      chardev_id = "vhs0", type_dev_id = "scsi0" })
  end }

case { name = "vhost_user-blk", it = "blk (served by qemu-storage-daemon)",
  vm = function(E)
    local sock = E.path("/run/vhost user/blk,0=a.sock")
    E.backend("qsd", sock)
    return E.shared(devices(qemu.vhost_user {
      vhost_user_type = "blk", socket_path = sock,
      chardev_id = "vhb0", type_dev_id = "blk0", queue_size = 256, romfile = E.file("/srv/roms/b,0.rom"),
      disable_modern = false }))
  end }

case { name = "vhost_user-fs", it = "fs (served by virtiofsd)",
  vm = function(E)
    local sock = E.path("/run/vhost user/fs,0=a.sock")
    E.backend("virtiofsd", sock)
    return E.shared(devices(qemu.vhost_user {
      vhost_user_type = "fs", socket_path = sock, chardev_id = "vhf0",
      type_dev_id = "fs0", tag = "fs tag,1=x", queue_size = 1024, bus = "pcie.0", addr = "0xa" }))
  end }

case { name = "vhost_user-fs-cache", it = "fs with a DAX cache",
  qemu = { pending = "vhost_user 'fs' cache_size: QEMU 7.2 has no cache-size on vhost-user-fs-pci (no DAX)" },
  vm = function()
    return devices(qemu.vhost_user {
      vhost_user_type = "fs", socket_path = "/run/vhost user/fs,0=a.sock", chardev_id = "vhf0",
      tag = "share", cache_size = "2G" })
  end }

-- ---- vfio ----------------------------------------------------------------
group = "vfio"

case { name = "vfio-bdf", it = "by host address, with ids the guest sees",
  qemu = { refuses = "vfio /sys/bus/pci/devices/0000:3b:00.0: no such host device",
           why = "qemu.vfio: no VFIO device on this machine" },
  vm = function(E)
    return devices(qemu.vfio {
      bdf = "0000:3b:00.0", id = "gpu0", vendor_id = 0x10de, device_id = "0x1db6",
      bus = "pcie.0", addr = "0x1e.0", romfile = E.file("/srv/roms/gpu,0=a.rom") })
  end }

-- (the path is read back from ',,')
case { name = "vfio-sysfs_dev", it = "by sysfs path",
  qemu = { refuses = "vfio /sys/bus/mdev/devices/a b,c=d: no such host device",
           why = "qemu.vfio by sysfs path: no VFIO device on this machine" },
  vm = function()
    return devices(qemu.vfio {
      sysfs_dev = "/sys/bus/mdev/devices/a b,c=d", vendor_id = "8086", device_id = 4660 })
  end }

-- ---- bridge --------------------------------------------------------------
group = "bridge"

case { name = "bridge-pci", it = "pci with every field (the real QEMU: on pc's pci.0, a device behind it)",
  machine = { type = "pc", accel = "tcg" },
  vm = function(E)
    local d = { qemu.bridge {
      type = "pci", bus = "pci.0", id = "br0", chassis = 1, shpc = true, addr = "0x1f",
      io_reserve = "4K", mem_reserve = "2M", pref64_reserve = "1G" } }
    if E.real then d[2] = qemu.device { driver = "e1000", id = "nic0", bus = "br0", addr = "1" } end
    return { devices = d }
  end }

case { name = "bridge-pci-default", it = "pci: shpc defaults to off",
  vm = function()
    return devices(qemu.bridge { type = "pci", bus = "pcie.0", id = "br0", chassis = 2 })
  end }

case { name = "bridge-pcie", it = "pcie, with a device behind it",
  vm = function()
    return devices(
      qemu.bridge { type = "pcie", bus = "pcie.0", id = "br1", addr = "0x1c" },
      qemu.device { driver = "e1000", id = "nic0", bus = "br1", addr = "1" })
  end }

-- ---- device --------------------------------------------------------------
group = "device"

-- No x86 device property of QEMU 7.2 is a float, and x-on is none of
-- e1000's: the real QEMU gets the boolean, integer and string ones.
case { name = "device-generic", it = "generic, with properties of every Lua type (sorted by name)",
  vm = function(E)
    local p = { driver = "e1000", id = "nic0", bus = "pcie.0", addr = "0x11.0",
                autonegotiation = false, rombar = 1, bootindex = -1,
                mac = "52:54:00:00:00:01", romfile = E.file("/srv/roms/e1000,0=a b.rom") }
    if not E.real then p["x-ratio"], p["x-on"] = 1.5, true end
    return devices(qemu.device(p))
  end }

case { it = "a float device property",
  qemu = { pending = "a float device property: no x86 device property of QEMU 7.2 is a float (golden only)" },
  vm = function() return {} end }

case { name = "device-driver-only", it = "generic with nothing but a driver",
  vm = function()
    return devices(qemu.device { driver = "pvpanic-pci" })
  end }

-- ---- vm sections ---------------------------------------------------------
group = "vm sections"

case { name = "vm-empty", it = "path only", vm = function() return {} end }

case { name = "vm-name", it = "name", vm = function() return { name = "demo vm, id=1" } end }

case { name = "vm-uuid", it = "uuid", vm = function() return { uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11" } end }

case { name = "vm-machine", it = "machine type and options of every Lua type",
  vm = function(E)
    return { machine = { type = "q35", accel = E.pick(nil, "tcg"), options = {
      nvdimm = true, usb = false, ["max-ram-below-4g"] = 2147483648, ["x-oem-id"] = "a,b c",
      graphics = false } } }
  end }

case { name = "vm-machine-options", it = "machine options without a type",
  vm = function(E)
    return { machine = { accel = E.pick(nil, "tcg"), options = { ["dump-guest-core"] = false } } }
  end }

case { name = "vm-accel-kvm-tcg", it = "accel kvm:tcg", needs = "kvm",
  vm = function() return { machine = { type = "q35", accel = "kvm:tcg" } } end }

case { name = "vm-accel-tcg", it = "accel alone (no -machine)",
  vm = function() return { machine = { accel = "tcg" } } end }

case { name = "vm-cpu", it = "cpu model", needs = "kvm_host",
  vm = function(E)
    return { machine = E.pick(nil, { type = "q35", accel = "kvm" }), cpu_model = "host" }
  end }

case { name = "vm-cpu-features", it = "cpu model and features",
  vm = function()
    return { cpu_model = "max", cpu_features = {
      pmu = false, ["sse4.2"] = true, stepping = 3, ["model-id"] = "QEMU CPU = max" } }
  end }

case { name = "vm-qmp-path", it = "qmp on a path: server, not waiting, by default",
  vm = function(E) return { qmp = { { path = E.path("/run/qlua qmp/mon,0=a.sock") } } } end }

-- Perl, for what Lua cannot do alone: a unix socket client or server that
-- holds its connection until the other side closes it.
local PERL_CLIENT = [[
use Socket;
my $p = shift;
for (1 .. 400) {
  socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
  if (connect($s, pack_sockaddr_un($p))) { while (sysread($s, my $b, 4096)) {} exit 0 }
  select(undef, undef, undef, 0.025);
}
exit 1;
]]
local PERL_SERVER = [[
use Socket;
my $p = shift;
socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($s, pack_sockaddr_un($p)) or die "bind: $!";
listen($s, 4) or die "listen: $!";
while (accept(my $c, $s)) { while (sysread($c, my $b, 4096)) {} }
]]
-- Execs the command after it with a listening socket on path as an inherited
-- descriptor, whose number is appended to its arguments.
M.PERL_LISTEN_EXEC = [[
use Socket;
my $p = shift;
$^F = 255;   # keep the socket across exec
socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($s, pack_sockaddr_un($p)) or die "bind: $!";
listen($s, 4) or die "listen: $!";
exec { $ARGV[0] } @ARGV, fileno($s) or die "exec: $!";
]]

case { name = "vm-qmp-path-wait", it = "qmp on a path, waiting for a client (which connects)",
  vm = function(E)
    return { qmp = { { path = E.pick("/run/qmp.sock", E.path("/run/wait,0=a.sock")), server = true, wait = true } } }
  end,
  check = function(E, H, argv, fds)
    local sock = E.root .. "/run/wait,0=a.sock"
    local client = qemu.launch_custom("/usr/bin/perl", { "-e", PERL_CLIENT, sock }, {}, { stderr = "capture" })
    E.procs[#E.procs + 1] = client
    local code, _, err = H.real_qemu(argv, fds)
    assert.are.equal(0, code)
    -- QEMU's one line while it waits, and nothing else
    assert.matches("^[^\n]*: info: QEMU waiting for connection on: disconnected:unix:" ..
                   sock:gsub("%p", "%%%0") .. ",server=on\n$", err)
  end }

case { name = "vm-qmp-path-client", it = "qmp on a path, as a client (of a listening socket)",
  vm = function(E)
    local sock = E.pick("/run/qmp.sock", E.path("/run/listen,0=a.sock"))
    if E.real then
      local server = qemu.launch_custom("/usr/bin/perl", { "-e", PERL_SERVER, sock }, {}, { stderr = "capture" })
      E.procs[#E.procs + 1] = server
      for _ = 1, 200 do
        if os.execute("test -S " .. q(sock)) then break end
        os.execute("sleep 0.05")
      end
    end
    return { qmp = { { path = sock, server = false } } }
  end }

case { name = "vm-qmp-fd", it = "qmp on a connected descriptor",
  vm = function(E)
    local a = E.socketpair()
    return { qmp = { { fd = a } } }, { a }
  end }

-- The real QEMU gets a listening socket qlua inherited (qemu.fd): a perl
-- that listens execs a qlua script that runs the check.
case { name = "vm-qmp-fd-server", it = "qmp on a listening descriptor",
  vm = function(E)
    local a = E.socketpair()
    return { qmp = { { fd = a, server = true } } }, { a }
  end,
  check = function(E, H)
    local sock = E.path("/fd,0=a.sock")
    local script = H.script(([[
      local H = dofile(%q)
      local lfd = qemu.fd(tonumber(arg[1]))
      local argv, fds = qemu.argv { path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
                                    qmp = { { fd = lfd, server = true } } }
      local code, _, err = H.real_qemu(argv, fds)
      io.write("code=", code, "\n", err)]]):format(H.root .. "/spec/helper.lua"))
    local code, out, err = H.sh("perl -e " .. H.q(M.PERL_LISTEN_EXEC) .. " " .. H.q(sock) .. " " ..
                                H.qlua_cmd .. " " .. H.q(script))
    assert.are.equal("", err)
    assert.are.equal("code=0\n", out)
    assert.are.equal(0, code)
  end }

case { name = "vm-qmp-protocols", it = "qmp protocols qmp, qmp-pretty, hmp",
  vm = function(E)
    return { qmp = {
      { path = E.pick("/run/a.sock", E.path("/run/a.sock")), protocol = "qmp" },
      { path = E.pick("/run/b.sock", E.path("/run/b.sock")), protocol = "qmp-pretty" },
      { path = E.pick("/run/c.sock", E.path("/run/c.sock")), protocol = "hmp" } } }
  end }

case { name = "vm-memory", it = "memory size",
  vm = function(E) return { memory = { size = E.pick("512M", "256M") } } end }

case { name = "vm-memory-slots", it = "memory size in bytes, slots and maxmem",
  vm = function(E)
    return { memory = { size = E.pick(1536, 160) * 1024 * 1024, slots = 2, maxmem = E.pick("8G", "1G") } }
  end }

case { name = "vm-memory-bytes", it = "memory size that is no whole K",
  vm = function() return { memory = { size = 64 * 1024 * 1024 + 1 } } end }

case { name = "vm-memory-path", it = "memory backed by a file (in a directory)",
  vm = function(E) return { memory = { size = E.pick("1G", "64M"), path = E.dir("/srv/vm mem/ram,0=a") } } end }

case { name = "vm-hugepages", it = "hugepages", needs = "hugepages",
  vm = function(E) return { memory = { size = E.pick("2G", "64M") }, knobs = { hugepages = true } } end }

case { name = "vm-hugepages-path", it = "hugepages on a path",
  vm = function(E)
    return { memory = { size = E.pick("2G", "64M"), path = E.dir("/dev/hugepages 1G/vm,0=a") },
             knobs = { hugepages = true } }
  end }

case { name = "vm-mem-prealloc", it = "mem_prealloc",
  vm = function(E)
    return { memory = { size = E.pick("1G", "64M"), slots = 1, maxmem = E.pick("2G", "1G") },
             knobs = { mem_prealloc = true } }
  end }

case { name = "vm-memory-machine", it = "memory backend with machine options",
  vm = function(E)
    return { machine = { type = "q35", accel = E.pick(nil, "tcg"), options = { nvdimm = true } },
             memory = { size = E.pick("1G", "64M"), path = E.dir("/srv/ram") } }
  end }

case { name = "vm-smp", it = "smp",
  vm = function() return { smp = { cpus = 2, cores = 2, threads = 1, sockets = 1, maxcpus = 2 } } end }

case { name = "vm-smp-cpus", it = "smp, cpus only", vm = function() return { smp = { cpus = 4 } } end }

case { name = "vm-devices", it = "devices in the order given",
  vm = function()
    return { devices = {
      qemu.serial { id = "ser0" },
      qemu.device { driver = "virtconsole", bus = "ser0.0", id = "con0" },
      qemu.device { driver = "pvpanic-pci" } } }
  end }

case { name = "vm-rtc", it = "rtc",
  vm = function() return { rtc = { base = "utc", clock = "host", driftfix = "slew" } } end }

case { name = "vm-rtc-date", it = "rtc from a date",
  vm = function() return { rtc = { base = "2006-06-17T16:01:21", clock = "vm", driftfix = "none" } } end }

case { it = "rtc localtime", vm = function() return { rtc = { base = "localtime", clock = "rt" } } end }

-- (the real QEMU gets a disk the global applies to)
case { name = "vm-global-string", it = "global as a string (verbatim)",
  vm = function(E)
    return { global = "virtio-blk-pci.serial=a,b c=d",
             devices = E.pick(nil, { qemu.block { id = "hd0", file = E.raw("/srv/raw,0=a.img"), format = "raw" } }) }
  end }

case { name = "vm-global-list", it = "global as a list",
  vm = function() return { global = { "kvm-pit.lost_tick_policy=discard", "ICH9-LPC.disable_s3=1" } } end }

case { name = "vm-vga", it = "vga", vm = function() return { vga = "virtio" } end }

for _, vga in ipairs({ "std", "cirrus", "vmware", "qxl", "none" }) do
  case { it = "vga " .. vga, vm = function() return { vga = vga } end }
end

case { it = "vga 'xenfb', 'tcx', 'cg3'", qemu = { pending = "vga 'xenfb', 'tcx', 'cg3': not x86 display adapters" },
  vm = function() return {} end }

case { name = "vm-kernel", it = "kernel, initrd and params (verbatim)",
  vm = function(E)
    return { kernel = {
      path = E.kernel("/boot/vmlinuz 6.1,x=1"), initrd = E.file("/boot/initrd 6.1,x=1.img", ("initrd\n"):rep(64)),
      params = "console=ttyS0 root=/dev/vda1 opts=a,b quiet" } }
  end }

case { name = "vm-kernel-only", it = "kernel alone",
  vm = function(E) return { kernel = { path = E.kernel("/boot/vmlinuz") } } end }

M.SEABIOS = "/usr/share/seabios/bios-256k.bin"

case { name = "vm-bios", it = "bios (verbatim)", needs = "seabios",
  vm = function(E) return { bios = E.copy(M.SEABIOS, "/usr/share/fw dir/bios,1=a.bin") } end }

-- (daemonize for the real QEMU: its own case below)
case { name = "vm-knobs", it = "every knob on (the real QEMU: all but daemonize)",
  vm = function(E)
    return { knobs = {
      no_user_config = true, no_defaults = true, no_graphic = true, daemonize = E.pick(true, false),
      hugepages = false, mem_prealloc = false, mlock = true, realtime = true, stopped = true,
      no_reboot = true, no_shutdown = true } }
  end }

case { name = "vm-knobs-off", it = "every knob off emits nothing",
  vm = function()
    return { knobs = {
      no_user_config = false, no_defaults = false, no_graphic = false, daemonize = false,
      hugepages = false, mem_prealloc = false, mlock = false, realtime = false, stopped = false,
      no_reboot = false, no_shutdown = false } }
  end }

case { it = "no_graphic alone (its serial on stdio; QMP on a pipe here)", qemu = "pipe",
  vm = function() return { knobs = { no_graphic = true } } end }

-- QEMU detaches once it is ready; then it is stopped here.
case { it = "daemonize",
  vm = function() return { knobs = { daemonize = true, stopped = true, no_defaults = true } } end,
  check = function(E, H, argv, fds)
    local pidfile = E.path("/qemu.pid")
    local args = { "-c", 'exec "$@" </dev/null >/dev/null', "sh", H.qemu_bin }
    for i = 2, #argv do args[#args + 1] = argv[i] end
    for _, a in ipairs({ "-display", "none", "-pidfile", pidfile }) do args[#args + 1] = a end
    local vm = qemu.launch_custom("/bin/sh", args, fds, { stderr = "capture" })
    local status = vm:wait(60)
    if not status then vm:kill(9); vm:wait(5) end
    local pid = (H.slurp(pidfile) or ""):match("^%d+")
    local ok, err = pcall(function()
      assert.are.same({ code = 0 }, status)
      assert.are.equal("", vm:stderr())
      -- the daemon is there, paused
      assert.is_truthy(pid, "no pid in QEMU's pidfile")
      assert.is_truthy(io.open("/proc/" .. pid .. "/status"), "QEMU's daemon is not running")
    end)
    if pid then os.execute("kill -9 " .. pid .. " 2>/dev/null") end
    if not ok then error(err, 0) end
  end }

case { name = "vm-realtime", it = "realtime without mlock emits nothing",
  vm = function() return { knobs = { realtime = true } } end }

case { name = "vm-extra-args", it = "extra_args (verbatim, last)",
  vm = function()
    return { name = "x", extra_args = { "-snapshot", "-smbios", "type=1,manufacturer=Q Lua,serial=a=b" } }
  end }

-- (the real QEMU: no tap, which needs a namespace; its memory a directory)
case { name = "vm-everything", it = "every section at once, in emit order",
  vm = function(E)
    local a = E.socketpair()
    local disk = E.fds(1, "rw", E.qcow2(IMG))
    local tapq = E.real and {} or E.fds(2)
    local devs = {
      qemu.block { id = "hd0", file = disk[1], format = "qcow2", aio = "threads" },
      qemu.fsdev { id = "fs0", path = E.dir("/srv/share,1"), mount_tag = "share", security_model = "none" },
    }
    if not E.real then
      devs[3] = qemu.netdev { type = "tap", id = "net0", mac_address = "52:54:00:12:34:56", fds = tapq }
    end
    return {
      name = "demo vm, id=1",
      uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11",
      machine = { type = "q35", accel = E.pick("kvm:tcg", "tcg"), options = { nvdimm = true } },
      cpu_model = "max", cpu_features = { pmu = false },
      qmp = { { path = E.pick("/run/qlua/mon,0.sock", E.path("/run/qlua/all,0.sock")) }, { fd = a } },
      memory = { size = E.pick("1G", "128M"), slots = 2, maxmem = E.pick("4G", "1G"),
                 path = E.pick("/srv/vm mem/ram,0=a", E.dir("/srv/vm mem,2 d=a")) },
      smp = { cpus = 2, cores = 2, threads = 1, sockets = 1, maxcpus = 2 },
      devices = devs,
      rtc = { base = "utc", clock = "host", driftfix = "slew" },
      global = { "kvm-pit.lost_tick_policy=discard" },
      vga = "none",
      kernel = { path = E.kernel("/boot/vmlinuz,1"), initrd = E.file("/boot/initrd,1", ("initrd\n"):rep(64)),
                 params = "console=ttyS0 a=b,c" },
      bios = E.pick(M.SEABIOS, E.have_seabios and M.SEABIOS or nil),
      knobs = { no_user_config = true, no_defaults = true, no_graphic = true, mlock = true,
                stopped = true, no_reboot = true, hugepages = true, mem_prealloc = true },
      extra_args = { "-msg", "timestamp=on" },
    }, { a, disk[1], tapq[1], tapq[2] }
  end }

-- ---- the kinds govmm grew after the seed ---------------------------------
group = "later govmm device kinds"

case { name = "object-memory-backend-ram-nvdimm", it = "object: memory-backend-ram with an nvdimm using it",
  vm = function(E)
    return {
      machine = E.pick(nil, { type = "q35", accel = "tcg", options = { nvdimm = true } }),
      memory = E.pick(nil, { size = "128M", slots = 2, maxmem = "1G" }),
      devices = { qemu.object {
        type = "memory-backend-ram", id = "ram0", size = "16M", share = false, prealloc = true,
        driver = "nvdimm", device_id = "nv0" } } }
  end }

case { name = "object-memory-backend-memfd", it = "object: memory-backend-memfd, shared",
  vm = function(E)
    return devices(qemu.object {
      type = "memory-backend-memfd", id = "mfd0", size = E.pick("64M", "16M"), share = true, prealloc = false })
  end }

case { name = "object-memory-backend-epc", it = "object: memory-backend-epc (SGX)", needs = "epc",
  vm = function()
    return devices(qemu.object { type = "memory-backend-epc", id = "epc0", size = "32M", prealloc = true })
  end }

M.OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
M.OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"

case { name = "object-sev-guest", it = "object: sev-guest with every field, its firmware as read-only flash",
  needs = "ovmf",
  vm = function(E)
    return devices(qemu.object {
      type = "sev-guest", id = "sev0", cbitpos = 47, reduced_phys_bits = 1, sev_policy = 7,
      sev_cert_file_path = E.file("/srv/sev dir/cert,0=a.b64", "AAAA\n"),
      sev_session_file_path = E.file("/srv/sev dir/session,0=a.b64", "AAAA\n"),
      sev_kernel_hashes = true, file = E.copy(M.OVMF_CODE, "/usr/share/ovmf dir/OVMF,1=a.fd") })
  end }

case { it = "object: sev-guest as the confidential guest",
  qemu = { pending = "sev-guest as the confidential guest (machine.options['confidential-guest-support']): no " ..
                     "SEV here, and QEMU 7.2 aborts on an assertion with it under TCG" },
  vm = function() return {} end }

case { it = "object: sev-snp-guest", qemu = { pending = "sev-snp-guest: QEMU 7.2 has none (qlua refuses it)" },
  vm = function() return {} end }

-- qlua renders govmm's TDX object as JSON (the socket address is a nested
-- SocketAddress), its firmware as -bios (govmm's Bios).  QEMU 7.2 reads
-- the JSON (a nested quote-generation-socket included) and refuses only
-- the type, which --check reports before (spec/check_spec.lua).
local function tdx_refused(E, H, argv, fds)
  local version = select(2, H.sh(H.q(H.qemu_bin) .. " --version")):match("version (%d+)%.")
  if version ~= "7" then
    return "QEMU " .. tostring(version) .. ".x: no TDX host here to run a tdx-guest"
  end
  local json
  for i, a in ipairs(argv) do
    if a == "-object" then json = argv[i + 1] end
  end
  local code, _, err = H.real_qemu(argv, fds)
  assert.are.equal(1, code)
  local want = ": -object " .. json .. ": Parameter 'qom-type' does not accept value 'tdx-guest'\n"
  assert.are.equal(want, err:sub(-#want))  -- after "<QEMU's path>"
  assert.are.equal(1, select(2, err:gsub("\n", "")))  -- and nothing else
end

case { name = "object-tdx-guest", it = "object: tdx-guest with a quote-generation socket on vsock, its firmware as -bios",
  check = tdx_refused,
  vm = function(E)
    return devices(qemu.object {
      type = "tdx-guest", id = "tdx0", qgs_port = 4050, sept_ve_disable = true,
      file = E.pick("/usr/share/ovmf dir/OVMF,1=a.fd", nil) })
  end }

case { name = "object-tdx-guest-unix", it = "object: tdx-guest with a quote-generation socket on a unix socket",
  check = tdx_refused,
  vm = function(E)
    return devices(qemu.object {
      type = "tdx-guest", id = "tdx0", qgs_path = E.pick('/run/qgs dir/q,0="a"\\.sock', E.path("/qgs,0=a.sock")),
      sept_ve_disable = false })
  end }

case { name = "object-tdx-guest-minimal", it = "object: tdx-guest, id only", check = tdx_refused,
  vm = function() return devices(qemu.object { type = "tdx-guest", id = "tdx0" }) end }

case { name = "object-sev-guest-minimal", it = "object: sev-guest with the required fields only (no SEV here to run it)",
  vm = function()
    return devices(qemu.object { type = "sev-guest", id = "sev0", cbitpos = 51, reduced_phys_bits = 1 })
  end }

case { name = "legacy_serial", it = "legacy_serial: a chardev on the machine's serial port",
  vm = function(E)
    return devices(
      qemu.chardev { backend = "file", id = "con0", path = E.path("/var/log/qlua logs/ttyS0,0=a.log") },
      qemu.legacy_serial { chardev = "con0" })
  end }

-- govmm's chardev driver "serial" marks a chardev for a legacy serial port:
-- only the -chardev, no -device (QEMU has no pluggable "serial" device and
-- refused it: "Parameter 'driver' expects a pluggable device type"), and
-- the legacy_serial connects it.
case { name = "legacy_serial-driver-serial", it = "legacy_serial: a chardev with driver 'serial' (govmm's way): no -device",
  vm = function(E)
    return devices(
      qemu.chardev { backend = "file", id = "con0", path = E.path("/var/log/qlua logs/ttyS0,1=a.log"),
                     driver = "serial" },
      qemu.legacy_serial { chardev = "con0" })
  end }

case { name = "pvpanic", it = "pvpanic: plain", vm = function() return devices(qemu.pvpanic {}) end }

case { name = "pvpanic-no-shutdown", it = "pvpanic: no_shutdown adds -no-shutdown",
  vm = function() return devices(qemu.pvpanic { no_shutdown = true }) end }

case { name = "pvpanic-no-shutdown-knob", it = "pvpanic: no_shutdown with knobs.no_shutdown: -no-shutdown once",
  vm = function()
    return { devices = { qemu.pvpanic { no_shutdown = true } }, knobs = { no_shutdown = true } }
  end }

case { name = "loader", it = "loader: file and id",
  vm = function(E) return devices(qemu.loader { file = E.file("/srv/fw dir/blob,0=a.elf"), id = "ld0" }) end }

case { name = "pxb_pcie", it = "pxb_pcie on a NUMA node, with a root port and a device behind it",
  vm = function()
    return {
      memory = { size = "128M" }, smp = { cpus = 2 },
      numa = { nodes = { { node_id = 0, cpus = "0", mem_size = "64M" },
                         { node_id = 1, cpus = "1", mem_size = "64M" } } },
      devices = {
        qemu.pxb_pcie { id = "pxb1", bus_nr = 32, numa_node = 1, addr = "0x10" },
        qemu.pcie_root_port { id = "rp1", bus = "pxb1", chassis = 2, slot = 0 },
        qemu.device { driver = "virtio-rng-pci", bus = "rp1" } } }
  end }

-- pxb-pcie is a PCI device with an option ROM (a host bridge, not a
-- PCI-PCI bridge: QEMU takes one)
case { name = "pxb_pcie-romfile", it = "pxb_pcie with an option ROM",
  vm = function(E)
    return devices(qemu.pxb_pcie { id = "pxb1", bus_nr = 8, romfile = E.file("/srv/roms/pxb,0=a.rom") })
  end }

case { name = "pcie_root_port", it = "pcie_root_port with every field",
  vm = function()
    return devices(qemu.pcie_root_port {
      id = "rp0", bus = "pcie.0", chassis = 1, slot = 2, addr = "0x3.0", multifunction = true,
      bus_reserve = 2, pref64_reserve = "1G", mem_reserve = "2M", io_reserve = "4K" })
  end }

case { name = "pcie_root_port-pref32", it = "pcie_root_port with a 32-bit prefetchable window",
  vm = function()
    return devices(qemu.pcie_root_port { id = "rp0", chassis = 1, slot = 1, pref32_reserve = "16M" })
  end }

case { name = "pcie_switch", it = "a switch: root port, upstream port, downstream port, a device behind it",
  vm = function()
    return devices(
      qemu.pcie_root_port { id = "rp0", chassis = 1, slot = 0 },
      qemu.pcie_switch_upstream { id = "up0", bus = "rp0" },
      qemu.pcie_switch_downstream { id = "dn0", bus = "up0", chassis = 2, slot = 0 },
      qemu.pcie_switch_downstream { id = "dn1", bus = "up0", chassis = 2, slot = 1 },
      qemu.balloon { id = "bal0", bus = "dn1" })
  end }

case { name = "scsi_controller", it = "scsi_controller: every field, on an iothread, with a disk on its bus",
  vm = function(E)
    return {
      iothreads = { { id = "io0" } },
      devices = {
        qemu.scsi_controller { id = "scsi0", bus = "pcie.0", addr = "0x7", iothread = "io0",
                               romfile = E.file("/srv/roms/scsi,0=a.rom"), disable_modern = false },
        qemu.block { id = "hd0", file = E.qcow2(IMG), format = "qcow2",
                     interface = "scsi", bus = "scsi0.0", serial = "SN,1 a" } } }
  end }

case { name = "scsi_controller-minimal", it = "scsi_controller: id only",
  vm = function() return devices(qemu.scsi_controller { id = "scsi0" }) end }

case { name = "vsock", it = "vsock: every field, with a vhost descriptor", needs = "vsock",
  vm = function(E)
    local f = E.real and E.fds(1, "rw", "/dev/vhost-vsock") or E.fds(1)
    return devices(qemu.vsock {
      id = "vsock0", context_id = 4294967295, vhost_fd = f[1], bus = "pcie.0", addr = "0x8",
      romfile = E.file("/srv/roms/vsock,0=a.rom"), disable_modern = false }), f
  end }

-- Where there is no /dev/vhost-vsock, QEMU is shown to read every option
-- and stop only for want of it.
case { name = "vsock-minimal", it = "vsock: QEMU opens /dev/vhost-vsock itself", needs = "vsock",
  vm = function() return devices(qemu.vsock { id = "vsock0", context_id = 3 }) end }

case { it = "vsock: every field but the descriptor (QEMU opens /dev/vhost-vsock)",
  qemu = { refuses = "vhost-vsock: failed to open vhost device: No such file or directory",
           why = "vsock: no /dev/vhost-vsock on this machine", unless = "vsock" },
  vm = function(E)
    return devices(qemu.vsock {
      id = "vsock0", context_id = 4294967295, bus = "pcie.0", addr = "0x8",
      romfile = E.file("/srv/roms/vsock,0=a.rom"), disable_modern = false })
  end }

case { name = "rng", it = "rng: every field",
  vm = function(E)
    return devices(qemu.rng {
      id = "rng0", filename = E.pick("/dev/hw rng,0=a", "/dev/urandom"), max_bytes = "1K", period = 1000,
      bus = "pcie.0", addr = "0x9", romfile = E.file("/srv/roms/rng,0=a.rom"), disable_modern = false })
  end }

case { name = "rng-minimal", it = "rng: id only (QEMU's /dev/urandom)",
  vm = function() return devices(qemu.rng { id = "rng0" }) end }

case { name = "balloon", it = "balloon: every field",
  vm = function(E)
    return devices(qemu.balloon {
      id = "balloon0", deflate_on_oom = true, free_page_reporting = true, bus = "pcie.0", addr = "0xa",
      romfile = E.file("/srv/roms/balloon,0=a.rom"), disable_modern = false })
  end }

case { name = "balloon-deflate-off", it = "balloon: deflate_on_oom off is said, unset is not",
  vm = function() return devices(qemu.balloon { deflate_on_oom = false }) end }

case { name = "iommu", it = "iommu: every field on",
  vm = function()
    return { machine = { type = "q35" }, devices = { qemu.iommu {
      intremap = true, device_iotlb = true, caching_mode = true } } }
  end }

case { name = "iommu-off", it = "iommu: every field off",
  vm = function()
    return { machine = { type = "q35" }, devices = { qemu.iommu {
      intremap = false, device_iotlb = false, caching_mode = false } } }
  end }

case { name = "iommu-kvm-split", it = "iommu: intremap with KVM and a split irqchip", needs = "kvm",
  vm = function()
    return { machine = { type = "q35", accel = "kvm", options = { ["kernel-irqchip"] = "split" } },
             devices = { qemu.iommu { intremap = true } } }
  end }

case { name = "block-serial", it = "block serial",
  vm = function(E)
    return devices(qemu.block { id = "hd0", file = E.qcow2(IMG), format = "qcow2", serial = "QLUA,1 =disk" })
  end }

-- govmm gives a virtio-blk disk serial=<drive id>, so the guest finds it in
-- /dev/disk/by-id; an id longer than the 20 bytes a virtio-blk serial holds
-- gets none (QEMU would cut it); other drivers (scsi-hd, a given
-- non-virtio-blk one) get none either.
case { name = "block-serial-default", it = "block serial defaults to the drive id on virtio-blk",
  vm = function(E)
    return devices(
      qemu.block { id = "hd0", file = E.raw("/srv/vm images/a,1.img"), format = "raw" },
      qemu.block { id = "disk-of-exactly-20-b", file = E.raw("/srv/b.img"), format = "raw",
                   driver = "virtio-blk-pci" },
      qemu.block { id = "disk-of-more-than-20b", file = E.raw("/srv/c.img"), format = "raw" },
      qemu.block { id = "hd3", file = E.raw("/srv/d.img"), format = "raw", serial = "given" },
      qemu.block { id = "hd4", file = E.raw("/srv/e.img"), format = "raw", driver = "ide-hd" },
      qemu.scsi_controller { id = "scsi0" },
      qemu.block { id = "hd5", file = E.raw("/srv/f.img"), format = "raw", interface = "scsi", bus = "scsi0.0" })
  end }

case { name = "block-serial-default-transports", it = "block serial defaults to the drive id on the microvm and ccw transports too",
  qemu = { pending = "a ccw device: no qemu-system-s390x on this machine (golden only)" },
  vm = function()
    return { machine = { type = "microvm" }, devices = {
      qemu.block { id = "hd0", file = "/srv/a.img", format = "raw" },
      qemu.block { id = "hd1", file = "/srv/b.img", format = "raw", transport = "ccw", devno = "fe.0.0001" } } }
  end }

-- govmm's vhost-user-fs queue-size=1024 (QEMU's is 128)
case { name = "vhost_user-fs-queue-default", it = "vhost_user fs queue_size defaults to 1024",
  vm = function(E)
    local sock = E.pick("/run/vfs.sock", E.path("/run/vfs.sock"))
    E.backend("virtiofsd", sock)
    return E.shared(devices(qemu.vhost_user {
      vhost_user_type = "fs", socket_path = sock, chardev_id = "vhf0", tag = "fs" }))
  end }

case { it = "knobs.mem_shared is the shared RAM vhost-user needs: blk served by qemu-storage-daemon",
  vm = function(E)
    local sock = E.path("/vu,shared=0.sock")
    E.backend("qsd", sock)
    return { memory = { size = "128M" }, knobs = { mem_shared = true },
             devices = { qemu.vhost_user { vhost_user_type = "blk", socket_path = sock, chardev_id = "vhb0" } } }
  end }

-- ---- the sections govmm grew after the seed ------------------------------
group = "later govmm sections"

case { name = "vm-pflash", it = "pflash: two images, raw, units 0 and 1", needs = "ovmf",
  vm = function(E)
    return { pflash = { E.pick("/usr/share/ovmf dir/CODE,1=a.fd", E.copy(M.OVMF_CODE, "/usr/share/ovmf dir/CODE,1=a.fd")),
                        E.pick("/srv/vm vars/VARS,1=a.fd", E.copy(M.OVMF_VARS, "/srv/vm vars/VARS,1=a.fd")) } }
  end }

case { name = "vm-pflash-string", it = "pflash as one string", needs = "ovmf",
  vm = function(E)
    return { pflash = E.pick("/usr/share/OVMF/OVMF.fd", E.copy(M.OVMF_CODE, "/usr/share/OVMF/CODE,2=a.fd")) }
  end }

case { name = "vm-iothreads", it = "iothreads, declared before the devices",
  vm = function()
    return { iothreads = { { id = "io0" }, { id = "io1" } },
             devices = { qemu.scsi_controller { id = "scsi0", iothread = "io1" } } }
  end }

case { name = "vm-incoming-defer", it = "incoming defer (paused afterwards: -S)",
  vm = function() return { incoming = { type = "defer" } } end }

case { name = "vm-incoming-fd", it = "incoming from a descriptor",
  vm = function(E)
    local a = E.socketpair()
    return { incoming = { type = "fd", fd = a } }, { a }
  end }

case { name = "vm-incoming-exec", it = "incoming from a command (one argument, verbatim)",
  vm = function(E)
    return { incoming = { type = "exec", exec = E.pick("gzip -dc /srv/vm state,1.gz", "exec sleep 5") } }
  end }

case { name = "vm-incoming-stopped", it = "incoming with knobs.stopped: -S once",
  vm = function() return { incoming = { type = "defer" }, knobs = { stopped = true } } end }

case { name = "vm-pidfile", it = "pidfile (verbatim)",
  vm = function(E) return { pidfile = E.path("/run/qlua dir/vm,1.pid") } end }

case { name = "vm-fw-cfg", it = "fw_cfg items from a file and a string",
  vm = function(E)
    return { fw_cfg = {
      { name = "opt/org.qlua/file,1", file = E.file("/srv/fw cfg/blob,1=a") },
      { name = "opt/org.qlua/string", string = "a,b c=d" } } }
  end }

case { name = "vm-sandbox", it = "sandbox with QEMU's defaults", vm = function() return { sandbox = {} } end }

case { name = "vm-sandbox-options", it = "sandbox with every option",
  vm = function()
    return { sandbox = { obsolete = "deny", elevateprivileges = "children", spawn = "deny", resourcecontrol = "deny" } }
  end }

case { name = "vm-numa", it = "numa: nodes with memory and CPUs, distances",
  vm = function(E)
    return {
      memory = { size = E.pick("1G", "128M") }, smp = { cpus = 4, maxcpus = 6 },
      numa = {
        nodes = { { node_id = 0, cpus = "0-1,4", mem_size = E.pick("512M", "64M") },
                  { node_id = 1, cpus = { "2-3", "5" }, mem_size = E.pick("512M", "64M") } },
        dists = { { src = 0, dst = 1, val = 20 }, { src = 1, dst = 0, val = 21 },
                  { src = 0, dst = 0, val = 10 } } } }
  end }

-- (this machine has one host node: the real QEMU binds to node 0)
case { name = "vm-numa-host-nodes", it = "numa: host nodes make the backend JSON (bound and preferred)",
  vm = function(E)
    return {
      memory = { size = E.pick("1G", "128M") },
      numa = { nodes = {
        { node_id = 0, mem_size = E.pick("512M", "64M"), host_nodes = E.pick({ 0, 2 }, { 0 }) },
        { node_id = 1, mem_size = E.pick("512M", "64M"), host_nodes = { E.pick(1, 0) }, policy = "preferred",
          mem_backend_type = "memory-backend-file",
          mem_backend_path = E.pick("/dev/hugepages 1G/a,b\"c", E.dir("/numa,0 \"d")) } } } }
  end }

case { name = "vm-numa-backends", it = "numa: a node without memory, backend types and paths",
  vm = function(E)
    return {
      memory = { size = "192M" }, smp = { cpus = 3 },
      numa = { nodes = {
        { node_id = 0, cpus = "0", mem_size = "64M", mem_backend_type = "memory-backend-memfd" },
        { node_id = 1, cpus = "1", mem_size = "128M", mem_backend_path = E.dir("/srv/numa dir/n1,a=b") },
        { node_id = 2, cpus = "2" } } } }
  end }

-- (the real QEMU: both nodes on a path, there being no hugetlbfs here)
case { name = "vm-numa-knobs", it = "numa with the memory knobs: hugepages, shared, preallocated",
  vm = function(E)
    return {
      memory = { size = E.pick("2G", "128M") },
      numa = { nodes = { { node_id = 0, mem_size = E.pick("1G", "64M"), mem_backend_path = E.pick(nil, E.dir("/huge,n0")) },
                         { node_id = 1, mem_size = E.pick("1G", "64M"),
                           mem_backend_path = E.pick("/dev/hugepages1G", E.dir("/huge,n1")) } } },
      knobs = { hugepages = true, mem_shared = true, mem_prealloc = true } }
  end }

case { name = "vm-numa-file-backed", it = "numa with file_backed_mem: each node its file",
  vm = function(E)
    return {
      memory = { size = E.pick("256M", "128M") },
      numa = { nodes = { { node_id = 0, mem_size = E.pick("128M", "64M"), mem_backend_path = E.dir("/srv/ram/n0") },
                         { node_id = 1, mem_size = E.pick("128M", "64M"), mem_backend_path = E.dir("/srv/ram/n1") } } },
      knobs = { file_backed_mem = true } }
  end }

case { name = "vm-uid-gid-groups", it = "uid, gid and groups are not options (qlua applies them when it starts QEMU)",
  vm = function() return { name = "x", uid = 65534, gid = 65534, groups = { 100, 65534 } } end }

case { name = "vm-debug", it = "debug: thread names, with a name",
  vm = function() return { name = "demo vm, id=1", debug = true } end }

case { name = "vm-debug-no-name", it = "debug: thread names, without a name",
  vm = function() return { debug = true } end }

case { name = "vm-debug-off", it = "debug false emits nothing",
  vm = function() return { name = "x", debug = false } end }

case { name = "vm-log-file", it = "log_file (verbatim)",
  vm = function(E) return { log_file = E.path("/var/log/qlua logs/qemu,1.log") } end }

case { name = "vm-file-backed-mem", it = "file_backed_mem: RAM from memory.path",
  vm = function(E)
    return { memory = { size = E.pick("1G", "64M"), path = E.dir("/srv/vm mem/ram,0=a") },
             knobs = { file_backed_mem = true } }
  end }

case { name = "vm-mem-shared", it = "mem_shared without a path: a shared memfd",
  vm = function(E) return { memory = { size = E.pick("1G", "64M") }, knobs = { mem_shared = true } } end }

case { name = "vm-mem-shared-path", it = "mem_shared with a path: a shared file",
  vm = function(E)
    return { memory = { size = E.pick("1G", "64M"), path = E.dir("/srv/vm mem/ram,0=a") },
             knobs = { mem_shared = true, mem_prealloc = true } }
  end }

-- (the real QEMU: every virtio device that can exist here; the tap one is
-- the next case)
case { name = "vm-iommu-platform", it = "iommu_platform on every virtio device qlua makes",
  vm = function(E)
    local f = E.real and {} or E.fds(1)
    local d = {
      qemu.iommu { intremap = true, device_iotlb = true },
      qemu.fsdev { id = "fs0", path = E.dir("/srv/share"), mount_tag = "share", security_model = "none" },
    }
    local function add(x) d[#d + 1] = x end
    if not E.real then
      add(qemu.netdev { type = "tap", id = "net0", ifname = "tap0" })
      add(qemu.netdev { type = "tap", id = "net1", ifname = "tap1", driver = "e1000" })
    end
    add(qemu.serial { id = "ser0" })
    add(qemu.chardev { backend = "pty", id = "ch0", driver = "virtconsole", bus = "ser0.0" })
    add(qemu.block { id = "hd0", file = E.raw("/srv/disk.img"), format = "raw" })
    if not E.real then
      add(qemu.vhost_user { vhost_user_type = "fs", socket_path = "/run/fs.sock", chardev_id = "vhf0", tag = "fs" })
      add(qemu.vhost_user { vhost_user_type = "blk", socket_path = "/run/blk.sock", chardev_id = "vhb0" })
    end
    add(qemu.scsi_controller { id = "scsi0" })
    if not E.real then add(qemu.vsock { id = "vsock0", context_id = 3, vhost_fd = f[1] }) end
    add(qemu.rng { id = "rng0" })
    add(qemu.balloon {})
    if not E.real then add(qemu.device { driver = "virtio-rng-pci", id = "as-given" }) end
    return { machine = E.pick({ type = "q35" }, nil), memory = { size = E.pick("1G", "128M") },
             knobs = { iommu_platform = true }, devices = d }, f
  end }

case { it = "iommu_platform on a tap NIC", qemu = "netns",
  vm = function()
    return { knobs = { iommu_platform = true }, devices = { qemu.netdev { type = "tap", id = "net0", ifname = "qt0" } } }
  end }

case { name = "vm-later-everything", it = "every later section at once, in emit order",
  vm = function(E)
    local a = E.socketpair()
    return {
      name = "later", debug = true,
      machine = E.pick({ type = "q35" }, nil),
      memory = { size = "256M" }, smp = { cpus = 2 },
      numa = { nodes = { { node_id = 0, cpus = "0", mem_size = "128M" },
                         { node_id = 1, cpus = "1", mem_size = "128M" } },
               dists = { { src = 0, dst = 1, val = 15 } } },
      iothreads = { { id = "io0" } },
      devices = { qemu.scsi_controller { id = "scsi0", iothread = "io0" } },
      global = "ICH9-LPC.disable_s3=1",
      pflash = E.pick({ "/fw/CODE.fd", "/fw/VARS.fd" },
                      E.have_ovmf and { E.copy(M.OVMF_CODE, "/CODE,3.fd"), E.copy(M.OVMF_VARS, "/VARS,3.fd") } or nil),
      knobs = { no_defaults = true, mem_shared = true },
      bios = E.pick("/fw/bios.bin", nil),
      incoming = { type = "fd", fd = a },
      pidfile = E.pick("/run/later.pid", E.path("/later,1.pid")),
      fw_cfg = { { name = "opt/later", string = "1" } },
      sandbox = { obsolete = "deny" },
      log_file = E.pick("/var/log/later.log", E.path("/later,1.log")),
      uid = E.pick(1000, nil), gid = E.pick(1000, nil), groups = E.pick({}, nil),
    }, { a }
  end }

-- ---- transports ----------------------------------------------------------
--
-- A virtio device's name comes from the transport the VM gives it: the
-- machine type and the binary decide (microvm: virtio-mmio, *-device;
-- s390-ccw-virtio or qemu-system-s390x: *-ccw; else *-pci), a device's
-- `transport` overrides, and a `driver` given wins.  The same device values
-- render differently in each VM.
group = "transports"

-- every kind with transports, with defaults only (fresh values per VM)
local function virtio_devices()
  return {
    qemu.block { id = "hd0", file = "/srv/vm images/d,1.img", format = "raw", serial = "s,1" },
    qemu.fsdev { id = "fs0", path = "/srv/share,1", mount_tag = "share", security_model = "none" },
    qemu.netdev { type = "tap", id = "net0", ifname = "tap0", mac_address = "52:54:00:12:34:56" },
    qemu.serial { id = "ser0", max_ports = 2 },
    qemu.chardev { backend = "pty", id = "con0", driver = "virtconsole", bus = "ser0.0" },
    qemu.scsi_controller { id = "scsi0" },
    qemu.block { id = "sd0", file = "/srv/sd.img", format = "raw", interface = "scsi", bus = "scsi0.0" },
    qemu.rng { id = "rng0", max_bytes = "1K", period = 1000 },
    qemu.balloon { deflate_on_oom = true },
    qemu.vsock { id = "vsock0", context_id = 3 },
    qemu.vhost_user { vhost_user_type = "fs", socket_path = "/run/vfs,1.sock", chardev_id = "vhf0", tag = "fs" },
  }
end

local PARTS = "its tap, vsock and vhost-user devices cannot all exist at once here (no namespace, no " ..
              "/dev/vhost-vsock, no backend): the microvm cases below take its parts"

case { name = "transport-microvm", it = "microvm: virtio-mmio (*-device), on a virtio-mmio bus when asked",
  qemu = { pending = "transport-microvm: " .. PARTS },
  vm = function()
    local devs = virtio_devices()
    devs[#devs + 1] = qemu.block { id = "hd1", file = "/srv/e.img", format = "raw", bus = "virtio-mmio-bus.3" }
    devs[#devs + 1] = qemu.vhost_user { vhost_user_type = "blk", socket_path = "/run/vub.sock", chardev_id = "vhb0" }
    return { machine = { type = "microvm", accel = "tcg" }, memory = { size = "256M" }, devices = devs }
  end }

case { name = "transport-microvm-pcie", it = "microvm with options.pcie = on: pci",
  qemu = { pending = "transport-microvm-pcie: " .. PARTS },
  vm = function()
    return { machine = { type = "microvm", options = { pcie = true } }, devices = virtio_devices() }
  end }

-- (no_defaults: without it microvm has a default SD card drive, id "sd0")
case { it = "microvm: every virtio kind that can exist here, on virtio-mmio",
  vm = function(E)
    return {
      machine = { type = "microvm", accel = "tcg" }, memory = { size = "128M" }, knobs = { no_defaults = true },
      devices = {
        qemu.block { id = "hd0", file = E.raw("/srv/raw,0=a.img"), format = "raw", serial = "s,1" },
        qemu.block { id = "hd1", file = E.qcow2(IMG), format = "qcow2", bus = "virtio-mmio-bus.3", wce = true },
        qemu.fsdev { id = "fs0", path = E.dir("/share,mmio"), mount_tag = "share", security_model = "none" },
        qemu.serial { id = "ser0", max_ports = 2 },
        qemu.chardev { backend = "pty", id = "con0", driver = "virtconsole", bus = "ser0.0" },
        qemu.scsi_controller { id = "scsi0" },
        qemu.block { id = "sd0", file = E.raw("/raw,mmio.img"), format = "raw", interface = "scsi", bus = "scsi0.0",
                     read_only = true },
        qemu.rng { id = "rng0", max_bytes = "1K", period = 1000 },
        qemu.balloon { deflate_on_oom = true },
      } }
  end }

case { it = "microvm: knobs.iommu_platform on mmio devices",
  vm = function(E)
    return { machine = { type = "microvm", accel = "tcg" }, knobs = { iommu_platform = true }, devices = {
      qemu.block { id = "hd0", file = E.raw("/srv/raw,0=a.img"), format = "raw" }, qemu.rng { id = "rng0" } } }
  end }

case { it = "microvm with options.pcie = on: the pci transport",
  vm = function(E)
    return { machine = { type = "microvm", accel = "tcg", options = { pcie = true } }, devices = {
      qemu.block { id = "hd0", file = E.raw("/srv/raw,0=a.img"), format = "raw" }, qemu.balloon {} } }
  end }

case { it = "microvm: a tap NIC by name", qemu = "netns",
  vm = function()
    return { machine = { type = "microvm", accel = "tcg" },
             devices = { qemu.netdev { type = "tap", id = "net0", ifname = "qt0" } } }
  end }

case { name = "transport-microvm-multiqueue", it = "multiqueue on mmio: mq=on without MSI-X vectors", qemu = "netns",
  vm = function(E)
    local a, b
    if E.real then
      local t = E.tap("qt1", { queues = 2 })
      a, b = t[1], t[2]
    else
      a, b = E.socketpair()
    end
    return { machine = { type = "microvm", accel = E.pick(nil, "tcg") },
             devices = { qemu.netdev { type = "tap", id = "net0", fds = { a, b } } } }, { a, b }
  end }

case { it = "microvm: vhost-user blk (qemu-storage-daemon) as vhost-user-blk",
  vm = function(E)
    local sock = E.path("/vu,mmio=0.sock")
    E.backend("qsd", sock)
    return { machine = { type = "microvm", accel = "tcg", options = { ["memory-backend"] = "vumem" } },
             memory = { size = "128M" },
             extra_args = { "-object", "memory-backend-memfd,id=vumem,size=128M,share=on" },
             devices = { qemu.vhost_user { vhost_user_type = "blk", socket_path = sock, chardev_id = "vhb0" } } }
  end }

case { it = "vsock on microvm (vhost-vsock-device)",
  qemu = { pending = "vsock on microvm (vhost-vsock-device): no /dev/vhost-vsock on this machine" },
  vm = function() return {} end }

local CCW = "the ccw transport (virtio-*-ccw, devno, vfio-ccw, vfio-ap): no qemu-system-s390x on this machine " ..
            "(golden only)"

case { name = "transport-ccw", it = "ccw: qemu-system-s390x, with devno", qemu = { pending = CCW },
  vm = function()
    return { path = "/usr/bin/qemu-system-s390x", machine = { type = "s390-ccw-virtio" }, devices = {
      qemu.block { id = "hd0", file = "/srv/d,1.img", format = "qcow2", devno = "fe.0.0001" },
      qemu.fsdev { id = "fs0", path = "/srv/share", mount_tag = "share", security_model = "none", devno = "fe.0.0002" },
      qemu.netdev { type = "tap", id = "net0", ifname = "tap0", devno = "fe.0.0003" },
      qemu.serial { id = "ser0", devno = "fe.0.0004" },
      qemu.scsi_controller { id = "scsi0", devno = "fe.0.0005" },
      qemu.rng { id = "rng0", devno = "fe.0.0006" },
      qemu.balloon { devno = "fe.0.0007" },
      qemu.vsock { id = "vsock0", context_id = 3, devno = "fe.0.0008" },
      qemu.vhost_user { vhost_user_type = "fs", socket_path = "/run/vfs.sock", chardev_id = "vhf0", tag = "fs",
                        devno = "fe.0.0009" },
      qemu.vhost_user { vhost_user_type = "net", socket_path = "/run/vun.sock", chardev_id = "vhn0",
                        type_dev_id = "vun0", devno = "fe.0.000a" },
      qemu.vfio { sysfs_dev = "/sys/bus/mdev/devices/1a2b,c", devno = "fe.0.000b" },
      qemu.vfio { sysfs_dev = "/sys/devices/vfio_ap/matrix/3c4d", transport = "ap" },
      qemu.vfio { bdf = "0000:00:01.0", transport = "pci" },
    } }
  end }

case { name = "transport-override", it = "a device's transport overrides the machine's, and its driver wins over both",
  qemu = { pending = "transport-override: a ccw device on q35 (golden only)" },
  vm = function()
    return { machine = { type = "q35" }, devices = {
      qemu.block { id = "hd0", file = "/d0", format = "raw", transport = "mmio" },
      qemu.block { id = "hd1", file = "/d1", format = "raw", transport = "ccw", devno = "0.0.1234" },
      qemu.block { id = "hd2", file = "/d2", format = "raw", driver = "virtio-blk-pci-non-transitional" },
      qemu.netdev { type = "tap", id = "net0", ifname = "tap0", driver = "e1000", transport = "pci" },
    } }
  end }

case { name = "transport-override-microvm", it = "a device's transport and driver on microvm",
  vm = function(E)
    return { machine = { type = "microvm", accel = E.pick(nil, "tcg") }, devices = {
      qemu.fsdev { id = "fs0", path = E.dir("/srv"), mount_tag = "s", security_model = "none", driver = "virtio-9p-device" },
      qemu.serial { id = "ser0", transport = "mmio" },
    } }
  end }

return M
