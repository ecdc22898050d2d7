-- spec/qemu_accepts_spec.lua - the real QEMU accepts what qlua emits.
--
-- Every configuration of spec/golden_spec.lua that can exist on this machine
-- is built again with real files in a temporary directory whose name carries
-- ',', ' ' and '=' (so QEMU itself proves the comma doubling), on q35 (pc for
-- a pci-bridge on pci.0) with accel "tcg", and started paused (-S) with QMP on
-- stdio fed qmp_capabilities + quit (H.assert_qemu_accepts): QEMU must exit 0
-- and print nothing on stderr (no "deprecated", no "warning").  Where the
-- configuration itself needs stdio or detaches, the same check runs with QMP
-- on a pipe chardev, or on -daemonize's own exit status.
--
-- Taps (tap, vethtap, macvtap, ipvtap) are made in a network namespace of the
-- test's own: a small qlua script runs there (`ip netns exec NS ./qlua ...`),
-- opens the queues and runs the same check.  vhost-user backends are started
-- by the test (qemu-storage-daemon, virtiofsd) and always stopped (finally).
-- vhost-user needs the guest RAM shared; that is done with
--   memory = { size = "128M" },
--   machine.options = { ["memory-backend"] = "vumem" }
--   extra_args = { "-object", "memory-backend-memfd,id=vumem,size=128M,share=on" }
-- (qlua's own way to shared RAM is memory.path + knobs.hugepages, a shared
-- memory-backend-file).  A paused QEMU does not check the sharing: it would
-- fail only once a guest starts the device.
--
-- EXCLUDED here (each is also a pending() below, so the list shows in the
-- test output):
-- * accel "kvm:tcg" unless KVM works cleanly here (probed with a raw QEMU):
--   without /dev/kvm QEMU warns before falling back to tcg, and this
--   machine's nested /dev/kvm lacks CPUID features QEMU's default CPU asks
--   for (a warning).  cpu_model "host" likewise needs a working KVM (here
--   QEMU 7.2 aborts in kvm_buf_set_msrs).
-- * netdev vhost = true (with or without vhost_fds): no /dev/vhost-net here,
--   and QEMU 7.2 aborts on an assertion with vhost=on instead of failing.
-- * netdev type "vfio" and qemu.vfio: no VFIO device on this machine (QEMU
--   is still checked to read every option and stop only at the missing device).
-- * netdev type "vhostuser" and vhost_user "net": a vhost-user-net backend
--   exists only as DPDK's testpmd (QEMU blocks until a backend connects).
-- * vhost_user "scsi": Debian has no vhost-user-scsi backend.
-- * vhost_user "fs" cache_size: QEMU 7.2 has no cache-size (no virtio-fs DAX).
-- * ipvtap, where the kernel has no ipvtap (this one has none); macvtap
--   likewise where the kernel refuses it.
-- * chardev "serial" and "tty" where there is no /dev/ttyS0.
-- * knobs.hugepages without memory.path: no hugetlbfs at /dev/hugepages.
-- * vga "xenfb", "tcx", "cg3": not x86 display adapters.
-- * a float device property: no x86 device property of QEMU 7.2 is a float
--   (floats are only in the golden file).
-- The section "qlua refuses what QEMU would refuse" keeps the fixes of what
-- this spec found: -cpu cannot escape ',', interface "scsi" (now a scsi-hd),
-- disable_modern where a device has none, vhost_user net's netdev id, a
-- read-only nvdimm being unarmed.
local H = require "helper"
local G = require "support.guest"
local qemu = H.qemu


local q = H.q

-- ---- what this machine has (probed once, at load) ------------------------

local function sh_ok(cmd)
  return H.sh(cmd) == 0
end

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Does QEMU start cleanly with KVM and these raw options?  Returns true, or
-- false and QEMU's first complaint.  (A /dev/kvm can exist and still not
-- do: a nested KVM may lack CPU features QEMU's default model asks for.)
local function probe_kvm(...)
  local f = io.open("/dev/kvm", "r+b")
  if not f then return false, "no usable /dev/kvm" end
  f:close()
  local code, _, err = H.real_qemu({ H.qemu_bin, "-accel", "kvm", "-machine", "q35", ... })
  if code == 0 and err == "" then return true end
  return false, "KVM here makes QEMU say: " .. (err:match("[^\n]*") or ("exit " .. code))
end
local have_kvm, why_kvm = probe_kvm()
local have_kvm_host, why_kvm_host = probe_kvm("-cpu", "host")

local have_ttyS0 = sh_ok("test -c /dev/ttyS0")
local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

local have_hugepages = (function()
  local mounts = H.slurp("/proc/mounts") or ""
  local meminfo = H.slurp("/proc/meminfo") or ""
  local free = tonumber(meminfo:match("HugePages_Free:%s*(%d+)")) or 0
  local size = tonumber(meminfo:match("Hugepagesize:%s*(%d+)")) or 0
  return mounts:find(" /dev/hugepages hugetlbfs ", 1, true) ~= nil and free * size >= 64 * 1024
end)()

local seabios = "/usr/share/seabios/bios-256k.bin"
local have_seabios = readable(seabios)

-- Can this kernel make a macvtap / ipvtap link?  Asked in a throwaway
-- namespace; returns true or false and the reason.
local function probe_link(kind)
  local ns = ("qluaprobe%d"):format(math.random(100000, 999999))
  if not os.execute("ip netns add " .. ns) then
    return false, "cannot create a network namespace"
  end
  local code, _, err = H.sh("ip netns exec " .. ns .. " sh -c " .. q(
    "ip link add v0 type veth peer name v1 && ip link add link v0 name x0 type " .. kind ..
    " mode " .. (kind == "ipvtap" and "l2" or "bridge")))
  os.execute("ip netns del " .. ns)
  return code == 0, (err or ""):gsub("\n$", "")
end
local have_macvtap, why_macvtap = probe_link("macvtap")
local have_ipvtap, why_ipvtap = probe_link("ipvtap")

-- ---- files the VMs use ---------------------------------------------------

-- Everything lives under a directory whose own name needs escaping.
local D = H.tmpdir() .. "/qlua dir,1=a"
assert(os.execute("mkdir -p " .. q(D)))

local function mkdir(path)
  assert(os.execute("mkdir -p " .. q(path)))
  return path
end

local function run_ok(cmd)
  local code, out, err = H.sh(cmd)
  assert(code == 0, cmd .. ": " .. tostring(out) .. tostring(err))
end

local qcow2 = D .. "/disk,1.qcow2"
run_ok("qemu-img create -q -f qcow2 " .. q(qcow2) .. " 16M")
local raw = D .. "/raw,0=a.img"
run_ok("truncate -s 16M " .. q(raw))
local rom = H.write(D .. "/rom,0=a b.rom", ("\0"):rep(512))

-- A file QEMU loads as a Linux kernel: a bzImage setup header (boot
-- protocol 2.06, loaded high) and a little payload.  QEMU only copies it
-- into guest memory, and -S never runs it.
local function fake_kernel(path)
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
  return H.write(path, table.concat(b))
end
local kernel = fake_kernel(D .. "/vmlinuz 6.1,x=1")
local initrd = H.write(D .. "/initrd 6.1,x=1.img", ("initrd\n"):rep(64))

-- ---- running QEMU --------------------------------------------------------

-- vm with the real QEMU and, unless given, q35 with tcg.
local function real(vm)
  vm.path = H.qemu_bin
  vm.machine = vm.machine or { type = "q35", accel = "tcg" }
  return vm
end

local function accepts(vm)
  local argv, fds = qemu.argv(real(vm))
  H.assert_qemu_accepts(argv, fds)
end

-- Like H.real_qemu, for configurations that use stdio themselves: QMP on a
-- pipe chardev over two regular files (QEMU reads the commands, writes the
-- answers), stdin from /dev/null.
local function real_qemu_pipe(argv, fds)
  local d = H.tmpdir()
  H.write(d .. "/qmp.in", '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
  H.write(d .. "/qmp.out", "")
  local args = { "-c", 'exec "$@" </dev/null >' .. q(d .. "/stdout"), "sh", H.qemu_bin }
  for i = 2, #argv do args[#args + 1] = argv[i] end
  for _, a in ipairs({ "-S", "-display", "none", "-chardev", "pipe,id=accepts-qmp,path=" .. d .. "/qmp",
                       "-mon", "chardev=accepts-qmp,mode=control" }) do
    args[#args + 1] = a
  end
  local vm = qemu.launch_custom("/bin/sh", args, fds or {}, { stderr = "capture" })
  local status = vm:wait(60)
  if not status then
    vm:kill(9)
    vm:wait(5)
    return -1, "timeout\n" .. vm:stderr()
  end
  return status.code or (128 + status.signal), vm:stderr()
end

local function accepts_pipe(vm)
  local argv, fds = qemu.argv(real(vm))
  local code, err = real_qemu_pipe(argv, fds)
  assert.are.equal("", err)
  assert.are.equal(0, code)
end

-- Sleeps s seconds.
local function sleep(s)
  os.execute("sleep " .. s)
end

-- Waits until path is a socket (a backend is listening); fails with the
-- backend's stderr after 10 s.
local function wait_socket(path, backend)
  for _ = 1, 200 do
    if os.execute("test -S " .. q(path)) then return end
    if backend and not backend:alive() then break end
    sleep(0.05)
  end
  error("no socket at " .. path .. (backend and (": " .. backend:stderr()) or ""))
end

-- A background process, stopped by stop().
local function background(path, args)
  return qemu.launch_custom(path, args, {}, { stderr = "capture" })
end

local function stop(h)
  if h and h:alive() then
    h:kill(9)
  end
  if h then h:wait(5) end
end

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
local PERL_LISTEN_EXEC = [[
use Socket;
my $p = shift;
$^F = 255;   # keep the socket across exec
socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
bind($s, pack_sockaddr_un($p)) or die "bind: $!";
listen($s, 4) or die "listen: $!";
exec { $ARGV[0] } @ARGV, fileno($s) or die "exec: $!";
]]

-- Runs a qlua script in network namespace ns.  body is Lua that returns a
-- VM description; qemu, H and D are in scope.  The script runs the same
-- acceptance check and reports "code=N" and QEMU's stderr.
local function in_ns_accepts(ns, body)
  local script = H.script(([[
local H = dofile(%q)
local D = ...
local vm = (function() %s end)()
vm.path = H.qemu_bin
vm.machine = vm.machine or { type = "q35", accel = "tcg" }
local argv, fds = qemu.argv(vm)
local code, _, err = H.real_qemu(argv, fds)
io.write("code=", code, "\n", err)
]]):format(H.root .. "/spec/helper.lua", body))
  local code, out, err = H.sh("ip netns exec " .. ns .. " " .. H.qlua_cmd .. " " .. q(script) ..
                              " " .. q(D))
  assert.are.equal("", err)
  assert.are.equal("code=0\n", out)
  assert.are.equal(0, code)
end

local function ns_sh(ns, cmd)
  run_ok("ip netns exec " .. ns .. " sh -c " .. q(cmd))
end

-- ---- the configurations --------------------------------------------------

describe("QEMU accepts", function()

  describe("object", function()
    it("memory-backend-file with every field", function()
      accepts { devices = { qemu.object {
        type = "memory-backend-file", id = "mem0", mem_path = D .. "/ram,0=a",
        size = "16M", share = true, read_only = false, prealloc = true } } }
    end)

    it("memory-backend-file with an nvdimm using it", function()
      accepts {
        machine = { type = "q35", accel = "tcg", options = { nvdimm = true } },
        memory = { size = "128M", slots = 2, maxmem = "1G" },
        devices = { qemu.object {
          type = "memory-backend-file", id = "nvmem0", mem_path = D .. "/nv,0=pmem.img",
          size = "16M", share = true, driver = "nvdimm", device_id = "nv0" } } }
    end)

    it("a read-only memory-backend-file with an nvdimm using it", function()
      H.write(D .. "/nv,1=ro.img", ("\0"):rep(16 * 1024 * 1024))
      accepts {
        machine = { type = "q35", accel = "tcg", options = { nvdimm = true } },
        memory = { size = "128M", slots = 2, maxmem = "1G" },
        devices = { qemu.object {
          type = "memory-backend-file", id = "nvmem0", mem_path = D .. "/nv,1=ro.img",
          size = "16M", read_only = true, driver = "nvdimm", device_id = "nv0" } } }
    end)
  end)

  describe("fsdev", function()
    local share = mkdir(D .. "/share,1 x=y")

    it("9p share with every field", function()
      accepts { devices = { qemu.fsdev {
        id = "fs0", fs_driver = "local", path = share, mount_tag = "tag,1 =x",
        security_model = "mapped-xattr", multidev = "remap", driver = "virtio-9p-pci",
        bus = "pcie.0", addr = "0x5", romfile = rom, disable_modern = true } } }
    end)

    it("every security model and multidevs value", function()
      accepts { devices = {
        qemu.fsdev { id = "fs0", path = share, mount_tag = "a", security_model = "none" },
        qemu.fsdev { id = "fs1", path = share, mount_tag = "b", security_model = "passthrough",
                     multidev = "forbid" },
        qemu.fsdev { id = "fs2", path = share, mount_tag = "c", security_model = "mapped-xattr",
                     multidev = "warn" },
        qemu.fsdev { id = "fs3", path = share, mount_tag = "d", security_model = "mapped-file" },
        qemu.fsdev { id = "fs4", path = share, mount_tag = "e", security_model = "mapped" } } }
    end)
  end)

  describe("chardev", function()
    it("pipe", function()
      local p = D .. "/pipe,0=a"
      run_ok("rm -f " .. q(p) .. " && mkfifo " .. q(p))
      accepts { devices = { qemu.chardev { backend = "pipe", id = "ch0", path = p } } }
    end)

    it("socket (a listening server)", function()
      accepts { devices = { qemu.chardev { backend = "socket", id = "ch0", path = D .. "/ch,0=a.sock" } } }
    end)

    it("console (stdio; QMP on a pipe here)", function()
      accepts_pipe { devices = { qemu.chardev { backend = "console", id = "ch0" } } }
    end)

    if have_ttyS0 then
      it("serial", function()
        accepts { devices = { qemu.chardev { backend = "serial", id = "ch0", path = "/dev/ttyS0" } } }
      end)

      it("tty", function()
        accepts { devices = { qemu.chardev { backend = "tty", id = "ch0", path = "/dev/ttyS0" } } }
      end)
    else
      pending("chardev serial and tty: no /dev/ttyS0 on this machine")
    end

    it("pty", function()
      accepts { devices = { qemu.chardev { backend = "pty", id = "ch0" } } }
    end)

    it("file", function()
      accepts { devices = { qemu.chardev { backend = "file", id = "ch0", path = D .. "/serial,0=a.log" } } }
    end)

    it("with the devices using it (virtio-serial ports)", function()
      accepts { devices = {
        qemu.serial { id = "ser0" },
        qemu.chardev { backend = "socket", id = "ch0", path = D .. "/port,0.sock",
                       driver = "virtserialport", bus = "ser0.0", device_id = "port0",
                       name = "org.qlua.port,1=a b" },
        qemu.chardev { backend = "pty", id = "ch1", driver = "virtconsole", bus = "ser0.0",
                       device_id = "con0" } } }
    end)

    it("with a PCI device using it (addr, romfile)", function()
      accepts { devices = { qemu.chardev {
        backend = "file", id = "ch0", path = D .. "/uart.log", driver = "pci-serial",
        bus = "pcie.0", device_id = "uart0", addr = "4.0", romfile = rom } } }
    end)
  end)

  describe("netdev", function()
    it("tap by name (QEMU creates it), with scripts and every device field", function()
      local up, down = D .. "/if up,1=x.sh", D .. "/if down,1=x.sh"
      local ran_up, ran_down = D .. "/up.ran", D .. "/down.ran"
      os.remove(ran_up); os.remove(ran_down)
      H.write(up, "#!/bin/sh\nprintf '%s\\n' \"$1\" >" .. q(ran_up) .. "\n")
      H.write(down, "#!/bin/sh\nprintf '%s\\n' \"$1\" >" .. q(ran_down) .. "\n")
      run_ok("chmod +x " .. q(up) .. " " .. q(down))
      H.in_netns(function(ns)
        in_ns_accepts(ns, ([[
          return { devices = { qemu.netdev {
            type = "tap", id = "net0", ifname = "qt,0=a", mac_address = "52:54:00:12:34:56",
            script = %q, down_script = %q, driver = "virtio-net-pci", bus = "pcie.0",
            addr = "0x3", romfile = %q, disable_modern = true } } }]]):format(up, down, rom))
      end)
      -- the scripts ran, with the name as QEMU read it back from ",,"
      assert.are.equal("qt,0=a\n", H.slurp(ran_up))
      assert.are.equal("qt,0=a\n", H.slurp(ran_down))
    end)

    it("tap by name: no scripts, vhost off", function()
      H.in_netns(function(ns)
        in_ns_accepts(ns, [[
          return { devices = {
            qemu.netdev { type = "tap", id = "net0", ifname = "qt0", driver = "e1000" },
            qemu.netdev { type = "tap", id = "net1", ifname = "qt1", vhost = false } } }]])
      end)
    end)

    it("tap from qemu.tap: one queue, without and with vnet_hdr", function()
      H.in_netns(function(ns)
        in_ns_accepts(ns, [[
          return { devices = {
            qemu.netdev { type = "tap", id = "net0", ifname = "qt0", fds = qemu.tap("qt0"),
                          mac_address = "52:54:00:12:34:56" },
            qemu.netdev { type = "tap", id = "net1", fds = qemu.tap("qt,1=a", { vnet_hdr = true }) } } }]])
      end)
    end)

    it("tap from qemu.tap: multiqueue with vnet_hdr", function()
      H.in_netns(function(ns)
        in_ns_accepts(ns, [[
          return { devices = { qemu.netdev {
            type = "tap", id = "net0", fds = qemu.tap("qt0", { queues = 2, vnet_hdr = true }) } } }]])
      end)
    end)

    it("vethtap by name, with a script", function()
      local up = D .. "/veth up,1=x.sh"
      H.write(up, "#!/bin/sh\nexit 0\n")
      run_ok("chmod +x " .. q(up))
      H.in_netns(function(ns)
        in_ns_accepts(ns, ([[
          return { devices = { qemu.netdev {
            type = "vethtap", id = "net0", ifname = "qv,0=x", script = %q } } }]]):format(up))
      end)
    end)

    it("vethtap from qemu.tap: multiqueue with vnet_hdr", function()
      H.in_netns(function(ns)
        in_ns_accepts(ns, [[
          return { devices = { qemu.netdev {
            type = "vethtap", id = "net0", mac_address = "52:54:00:12:34:59",
            fds = qemu.tap("qv0", { queues = 3, vnet_hdr = true }) } } }]])
      end)
    end)

    -- /dev/tap<ifindex> of a macvtap/ipvtap made on a veth in the namespace.
    local function vtap_body(queues, extra)
      return ([[
        local ifindex = assert(io.open("/sys/class/net/x0/ifindex")):read("n")
        local fds = {}
        for i = 1, %d do fds[i] = qemu.open("/dev/tap" .. ifindex, "rw") end
        return { devices = { qemu.netdev { id = "net0", fds = fds, %s } } }]]):format(queues, extra)
    end
    local function vtap_ns(kind, f)
      H.in_netns(function(ns)
        ns_sh(ns, "ip link add v0 type veth peer name v1 && ip link add link v0 name x0 type " ..
              kind .. " mode " .. (kind == "ipvtap" and "l2" or "bridge") ..
              " && ip link set v0 up && ip link set x0 up")
        f(ns)
      end)
    end

    if have_macvtap then
      it("macvtap: one descriptor", function()
        vtap_ns("macvtap", function(ns)
          in_ns_accepts(ns, vtap_body(1, 'type = "macvtap", mac_address = "52:54:00:12:34:57"'))
        end)
      end)

      it("macvtap: multiqueue", function()
        vtap_ns("macvtap", function(ns)
          in_ns_accepts(ns, vtap_body(2, 'type = "macvtap"'))
        end)
      end)
    else
      pending("macvtap: the kernel refuses a macvtap link here (" .. why_macvtap .. ")")
    end

    if have_ipvtap then
      it("ipvtap: one descriptor", function()
        vtap_ns("ipvtap", function(ns)
          in_ns_accepts(ns, vtap_body(1, 'type = "ipvtap", mac_address = "52:54:00:12:34:58"'))
        end)
      end)

      it("ipvtap: multiqueue", function()
        vtap_ns("ipvtap", function(ns)
          in_ns_accepts(ns, vtap_body(2, 'type = "ipvtap"'))
        end)
      end)
    else
      pending("ipvtap: this kernel has no ipvtap (" .. why_ipvtap .. ")")
    end

    pending("netdev vhost = true, with or without vhost_fds: no /dev/vhost-net here, and QEMU 7.2 " ..
            "aborts on an assertion with vhost=on")
    pending("netdev type 'vhostuser' and vhost_user 'net': needs a vhost-user-net backend " ..
            "(only DPDK's testpmd); QEMU blocks until one connects")
    pending("netdev type 'vfio': no VFIO device on this machine (options checked below)")

    it("vfio: QEMU reads every option and stops only for want of the host device", function()
      local argv, fds = qemu.argv(real { devices = { qemu.netdev {
        type = "vfio", id = "vf0", bdf = "0000:3b:02.1", bus = "pcie.0", addr = "6", romfile = rom } } })
      local code, _, err = H.real_qemu(argv, fds)
      assert.are.equal(1, code)
      assert.matches("vfio /sys/bus/pci/devices/0000:3b:02.1: no such host device", err, 1, true)
    end)
  end)

  describe("serial", function()
    it("virtio-serial controller with every field", function()
      accepts { devices = { qemu.serial {
        id = "ser0", driver = "virtio-serial-pci", max_ports = 4, bus = "pcie.0", addr = "7",
        romfile = rom, disable_modern = false } } }
    end)
  end)

  describe("block", function()
    for _, aio in ipairs({ "threads", "native", "io_uring" }) do
      it("aio " .. aio, function()
        accepts { devices = { qemu.block { id = "hd0", file = qcow2, format = "qcow2", aio = aio } } }
      end)
    end

    it("every device option", function()
      accepts { devices = { qemu.block {
        id = "hd0", file = qcow2, format = "qcow2", interface = "none", read_only = true,
        discard_unmap = true, driver = "virtio-blk-pci", scsi = false, wce = true,
        share_rw = true, bus = "pcie.0", addr = "8.0", romfile = rom, disable_modern = false } } }
    end)

    it("discard ignored, write cache fixed", function()
      accepts { devices = { qemu.block {
        id = "hd0", file = raw, format = "raw", discard_unmap = false, wce = false,
        share_rw = false, read_only = false } } }
    end)

    it("a descriptor, read-write", function()
      local f <close> = qemu.open(raw, "rw")
      accepts { devices = { qemu.block { id = "hd0", file = f, format = "raw" } } }
    end)

    it("a descriptor, read-only, aio native", function()
      local f <close> = qemu.open(qcow2, "r")
      accepts { devices = { qemu.block {
        id = "hd0", file = f, format = "qcow2", read_only = true, aio = "native" } } }
    end)

    it("two descriptors", function()
      local a <close> = qemu.open(raw, "rw")
      local b <close> = qemu.open(qcow2, "r")
      accepts { devices = {
        qemu.block { id = "hd0", file = a, format = "raw" },
        qemu.block { id = "hd1", file = b, format = "qcow2", read_only = true } } }
    end)

    it("interface ide", function()
      accepts { devices = { qemu.block { id = "hd0", file = qcow2, format = "qcow2", interface = "ide" } } }
    end)

    it("interface virtio", function()
      accepts { devices = { qemu.block {
        id = "hd0", file = qcow2, format = "qcow2", interface = "virtio", discard_unmap = true } } }
    end)

    -- B2: QEMU 7.2 refuses -drive if=scsi on every x86 machine, even with a
    -- SCSI controller; qlua has to map it to if=none + a scsi-hd device.
    it("interface scsi (with a SCSI controller)", function()
      accepts { devices = {
        qemu.device { driver = "virtio-scsi-pci", id = "scsi0" },
        qemu.block { id = "hd0", file = qcow2, format = "qcow2", interface = "scsi",
                     aio = "threads", read_only = true } } }
    end)
  end)

  describe("vhost_user", function()
    -- Shared guest RAM, which vhost-user backends map.
    local function shared(vm)
      vm.machine = { type = "q35", accel = "tcg", options = { ["memory-backend"] = "vumem" } }
      vm.memory = { size = "128M" }
      vm.extra_args = { "-object", "memory-backend-memfd,id=vumem,size=128M,share=on" }
      return vm
    end
    local function esc(s) return (s:gsub(",", ",,")) end

    it("blk, served by qemu-storage-daemon", function()
      local sock = D .. "/vu,blk=0.sock"
      os.remove(sock)
      local qsd = background("/usr/bin/qemu-storage-daemon", {
        "--blockdev", "driver=file,node-name=f,filename=" .. esc(raw),
        "--export", "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=" .. esc(sock) ..
        ",writable=on" })
      finally(function() stop(qsd) end)
      wait_socket(sock, qsd)
      accepts(shared { devices = { qemu.vhost_user {
        vhost_user_type = "blk", socket_path = sock, chardev_id = "vhb0", type_dev_id = "blk0",
        queue_size = 256, romfile = rom, disable_modern = false } } })
    end)

    it("fs, served by virtiofsd", function()
      local sock = D .. "/vu,fs=0.sock"
      os.remove(sock)
      -- virtiofsd reads -o as a comma-separated list: a plain source path
      local src = mkdir(H.tmpdir() .. "/share")
      local vfsd = background("/usr/lib/qemu/virtiofsd", {
        "--socket-path=" .. sock, "-o", "source=" .. src, "-o", "sandbox=chroot" })
      finally(function() stop(vfsd) end)
      wait_socket(sock, vfsd)
      accepts(shared { devices = { qemu.vhost_user {
        vhost_user_type = "fs", socket_path = sock, chardev_id = "vhf0", type_dev_id = "fs0",
        tag = "fs tag,1=x", queue_size = 1024, bus = "pcie.0", addr = "0xa" } } })
    end)

    pending("vhost_user 'scsi': Debian has no vhost-user-scsi backend")
    pending("vhost_user 'fs' cache_size: QEMU 7.2 has no cache-size on vhost-user-fs-pci (no DAX)")
  end)

  describe("vfio", function()
    pending("qemu.vfio: no VFIO device on this machine (options checked below)")

    it("by host address: QEMU reads every option and stops only for want of the device", function()
      local argv, fds = qemu.argv(real { devices = { qemu.vfio {
        bdf = "0000:3b:00.0", id = "gpu0", vendor_id = 0x10de, device_id = "0x1db6",
        bus = "pcie.0", addr = "0x1e.0", romfile = rom } } })
      local code, _, err = H.real_qemu(argv, fds)
      assert.are.equal(1, code)
      assert.matches("vfio /sys/bus/pci/devices/0000:3b:00.0: no such host device", err, 1, true)
    end)

    it("by sysfs path: likewise, with the path read back from ',,'", function()
      local argv, fds = qemu.argv(real { devices = { qemu.vfio {
        sysfs_dev = "/sys/bus/mdev/devices/a b,c=d", vendor_id = "8086", device_id = 4660 } } })
      local code, _, err = H.real_qemu(argv, fds)
      assert.are.equal(1, code)
      assert.matches("vfio /sys/bus/mdev/devices/a b,c=d: no such host device", err, 1, true)
    end)
  end)

  describe("bridge", function()
    it("pci on pc's pci.0, every field, a device behind it", function()
      accepts {
        machine = { type = "pc", accel = "tcg" },
        devices = {
          qemu.bridge { type = "pci", bus = "pci.0", id = "br0", chassis = 1, shpc = true,
                        addr = "0x1f", io_reserve = "4K", mem_reserve = "2M", pref64_reserve = "1G" },
          qemu.device { driver = "e1000", id = "nic0", bus = "br0", addr = "1" } } }
    end)

    it("pci on q35's pcie.0, shpc by default", function()
      accepts { devices = { qemu.bridge { type = "pci", bus = "pcie.0", id = "br0", chassis = 2 } } }
    end)

    it("pcie, with a device behind it", function()
      accepts { devices = {
        qemu.bridge { type = "pcie", bus = "pcie.0", id = "br1", addr = "0x1c" },
        qemu.device { driver = "e1000", id = "nic0", bus = "br1", addr = "1" } } }
    end)
  end)

  describe("device", function()
    it("generic, with boolean, integer and string properties", function()
      accepts { devices = { qemu.device {
        driver = "e1000", id = "nic0", bus = "pcie.0", addr = "0x11.0",
        autonegotiation = false, rombar = 1, bootindex = -1,
        mac = "52:54:00:00:00:01", romfile = rom } } }
    end)

    it("generic with nothing but a driver", function()
      accepts { devices = { qemu.device { driver = "pvpanic-pci" } } }
    end)

    pending("a float device property: no x86 device property of QEMU 7.2 is a float (golden only)")
  end)

  describe("vm sections", function()
    it("name and uuid", function()
      accepts { name = "demo vm, id=1", uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11" }
    end)

    it("machine type and options of every Lua type", function()
      accepts { machine = { type = "q35", accel = "tcg", options = {
        nvdimm = true, usb = false, ["max-ram-below-4g"] = 2147483648, ["x-oem-id"] = "a,b c",
        graphics = false } } }
    end)

    it("machine options without a type", function()
      accepts { machine = { accel = "tcg", options = { ["dump-guest-core"] = false } } }
    end)

    it("accel alone (no -machine)", function()
      accepts { machine = { accel = "tcg" } }
    end)

    if have_kvm then
      it("accel kvm:tcg (KVM works here)", function()
        accepts { machine = { type = "q35", accel = "kvm:tcg" } }
      end)
    else
      pending("accel 'kvm:tcg': " .. why_kvm)
    end

    if have_kvm_host then
      it("cpu model host (KVM works here)", function()
        accepts { machine = { type = "q35", accel = "kvm" }, cpu_model = "host" }
      end)
    else
      pending("cpu_model 'host' needs KVM: " .. why_kvm_host)
    end

    it("cpu model and features", function()
      accepts { cpu_model = "max", cpu_features = {
        pmu = false, ["sse4.2"] = true, stepping = 3, ["model-id"] = "QEMU CPU = max" } }
    end)

    it("qmp on a path: server, not waiting", function()
      accepts { qmp = { { path = D .. "/mon,0=a.sock" } } }
    end)

    it("qmp on a path, waiting for a client (which connects)", function()
      local sock = D .. "/wait,0=a.sock"
      os.remove(sock)
      local client = background("/usr/bin/perl", { "-e", PERL_CLIENT, sock })
      finally(function() stop(client) end)
      local argv, fds = qemu.argv(real { qmp = { { path = sock, server = true, wait = true } } })
      local code, _, err = H.real_qemu(argv, fds)
      assert.are.equal(0, code)
      -- QEMU's one line while it waits, and nothing else
      assert.matches("^[^\n]*: info: QEMU waiting for connection on: disconnected:unix:" ..
                     sock:gsub("%p", "%%%0") .. ",server=on\n$", err)
    end)

    it("qmp on a path, as a client of a listening socket", function()
      local sock = D .. "/listen,0=a.sock"
      os.remove(sock)
      local server = background("/usr/bin/perl", { "-e", PERL_SERVER, sock })
      finally(function() stop(server) end)
      wait_socket(sock, server)
      accepts { qmp = { { path = sock, server = false } } }
    end)

    it("qmp on a connected descriptor", function()
      local a, b = qemu.socketpair()
      finally(function() a:close(); b:close() end)
      accepts { qmp = { { fd = a } } }
    end)

    it("qmp on a listening descriptor", function()
      local sock = D .. "/fd,0=a.sock"
      os.remove(sock)
      local script = H.script(([[
        local H = dofile(%q)
        local lfd = qemu.fd(tonumber(arg[1]))
        local argv, fds = qemu.argv { path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
                                      qmp = { { fd = lfd, server = true } } }
        local code, _, err = H.real_qemu(argv, fds)
        io.write("code=", code, "\n", err)]]):format(H.root .. "/spec/helper.lua"))
      local code, out, err = H.sh("perl -e " .. q(PERL_LISTEN_EXEC) .. " " .. q(sock) .. " " ..
                                  H.qlua_cmd .. " " .. q(script))
      assert.are.equal("", err)
      assert.are.equal("code=0\n", out)
      assert.are.equal(0, code)
    end)

    it("qmp protocols qmp, qmp-pretty, hmp", function()
      accepts { qmp = {
        { path = D .. "/a.sock", protocol = "qmp" },
        { path = D .. "/b.sock", protocol = "qmp-pretty" },
        { path = D .. "/c.sock", protocol = "hmp" } } }
    end)

    it("memory size", function()
      accepts { memory = { size = "256M" } }
    end)

    it("memory size in bytes, slots and maxmem", function()
      accepts { memory = { size = 160 * 1024 * 1024, slots = 2, maxmem = "1G" } }
    end)

    it("memory size that is no whole K", function()
      accepts { memory = { size = 64 * 1024 * 1024 + 1 } }
    end)

    it("memory backed by a file in a directory", function()
      accepts { memory = { size = "64M", path = mkdir(D .. "/mem,0 d=a") } }
    end)

    it("hugepages on a path", function()
      accepts { memory = { size = "64M", path = mkdir(D .. "/huge,0 d=a") }, knobs = { hugepages = true } }
    end)

    if have_hugepages then
      it("hugepages from /dev/hugepages", function()
        accepts { memory = { size = "64M" }, knobs = { hugepages = true } }
      end)
    else
      pending("knobs.hugepages without memory.path: no hugetlbfs with free pages at /dev/hugepages")
    end

    it("mem_prealloc", function()
      accepts { memory = { size = "64M", slots = 1, maxmem = "1G" }, knobs = { mem_prealloc = true } }
    end)

    it("memory backend with machine options", function()
      accepts { machine = { type = "q35", accel = "tcg", options = { nvdimm = true } },
                memory = { size = "64M", path = mkdir(D .. "/mem,1") } }
    end)

    it("smp", function()
      accepts { smp = { cpus = 2, cores = 2, threads = 1, sockets = 1, maxcpus = 2 } }
    end)

    it("smp, cpus only", function()
      accepts { smp = { cpus = 4 } }
    end)

    it("devices in the order given", function()
      accepts { devices = {
        qemu.serial { id = "ser0" },
        qemu.device { driver = "virtconsole", bus = "ser0.0", id = "con0" },
        qemu.device { driver = "pvpanic-pci" } } }
    end)

    it("rtc", function()
      accepts { rtc = { base = "utc", clock = "host", driftfix = "slew" } }
    end)

    it("rtc from a date", function()
      accepts { rtc = { base = "2006-06-17T16:01:21", clock = "vm", driftfix = "none" } }
    end)

    it("rtc localtime", function()
      accepts { rtc = { base = "localtime", clock = "rt" } }
    end)

    it("global as a string (verbatim)", function()
      accepts { global = "virtio-blk-pci.serial=a,b c=d",
                devices = { qemu.block { id = "hd0", file = raw, format = "raw" } } }
    end)

    it("global as a list", function()
      accepts { global = { "kvm-pit.lost_tick_policy=discard", "ICH9-LPC.disable_s3=1" } }
    end)

    for _, vga in ipairs({ "std", "cirrus", "vmware", "qxl", "virtio", "none" }) do
      it("vga " .. vga, function()
        accepts { vga = vga }
      end)
    end
    pending("vga 'xenfb', 'tcx', 'cg3': not x86 display adapters")

    it("kernel, initrd and params (verbatim)", function()
      accepts { kernel = { path = kernel, initrd = initrd,
                           params = "console=ttyS0 root=/dev/vda1 opts=a,b quiet" } }
    end)

    it("kernel alone", function()
      accepts { kernel = { path = kernel } }
    end)

    if have_seabios then
      it("bios (verbatim)", function()
        local bios = mkdir(D .. "/fw dir") .. "/bios,1=a.bin"
        run_ok("cp " .. q(seabios) .. " " .. q(bios))
        accepts { bios = bios }
      end)
    else
      pending("bios: no " .. seabios .. " to copy")
    end

    it("knobs (no_graphic with no_defaults)", function()
      accepts { knobs = {
        no_user_config = true, no_defaults = true, no_graphic = true, daemonize = false,
        hugepages = false, mem_prealloc = false, mlock = true, realtime = true, stopped = true,
        no_reboot = true, no_shutdown = true } }
    end)

    it("no_graphic alone (its serial on stdio; QMP on a pipe here)", function()
      accepts_pipe { knobs = { no_graphic = true } }
    end)

    it("every knob off", function()
      accepts { knobs = {
        no_user_config = false, no_defaults = false, no_graphic = false, daemonize = false,
        hugepages = false, mem_prealloc = false, mlock = false, realtime = false, stopped = false,
        no_reboot = false, no_shutdown = false } }
    end)

    it("daemonize (QEMU detaches once it is ready; then it is stopped here)", function()
      local d = H.tmpdir()
      local pidfile = d .. "/qemu.pid"
      finally(function()
        local pid = H.slurp(pidfile)
        if pid and pid:match("^%d+") then os.execute("kill -9 " .. pid:match("^%d+") .. " 2>/dev/null") end
      end)
      local argv, fds = qemu.argv(real { knobs = { daemonize = true, stopped = true, no_defaults = true } })
      local args = { "-c", 'exec "$@" </dev/null >/dev/null', "sh", H.qemu_bin }
      for i = 2, #argv do args[#args + 1] = argv[i] end
      for _, a in ipairs({ "-display", "none", "-pidfile", pidfile }) do args[#args + 1] = a end
      local vm = qemu.launch_custom("/bin/sh", args, fds, { stderr = "capture" })
      local status = vm:wait(60)
      if not status then vm:kill(9); vm:wait(5) end
      assert.are.same({ code = 0 }, status)
      assert.are.equal("", vm:stderr())
      -- the daemon is there, paused
      local pid = assert(H.slurp(pidfile)):match("^%d+")
      assert.is_truthy(readable("/proc/" .. pid .. "/status"))
    end)

    it("extra_args (verbatim, last)", function()
      accepts { name = "x", extra_args = { "-snapshot", "-smbios", "type=1,manufacturer=Q Lua,serial=a=b" } }
    end)

    it("every section at once", function()
      local a, b = qemu.socketpair()
      finally(function() a:close(); b:close() end)
      local disk <close> = qemu.open(qcow2, "rw")
      local share = mkdir(D .. "/share,2")
      local vm = {
        name = "demo vm, id=1",
        uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11",
        machine = { type = "q35", accel = "tcg", options = { nvdimm = true } },
        cpu_model = "max", cpu_features = { pmu = false },
        qmp = { { path = D .. "/all,0.sock" }, { fd = a } },
        memory = { size = "128M", slots = 2, maxmem = "1G", path = mkdir(D .. "/mem,2 d=a") },
        smp = { cpus = 2, cores = 2, threads = 1, sockets = 1, maxcpus = 2 },
        devices = {
          qemu.block { id = "hd0", file = disk, format = "qcow2", aio = "threads" },
          qemu.fsdev { id = "fs0", path = share, mount_tag = "share", security_model = "none" },
        },
        rtc = { base = "utc", clock = "host", driftfix = "slew" },
        global = { "kvm-pit.lost_tick_policy=discard" },
        vga = "none",
        kernel = { path = kernel, initrd = initrd, params = "console=ttyS0 a=b,c" },
        bios = have_seabios and seabios or nil,
        knobs = { no_user_config = true, no_defaults = true, no_graphic = true, mlock = true,
                  stopped = true, no_reboot = true, hugepages = true, mem_prealloc = true },
        extra_args = { "-msg", "timestamp=on" },
      }
      accepts(vm)
    end)
  end)
end)

describe("qlua refuses what QEMU would refuse", function()
  -- B1: -cpu splits its argument on every ',' (",," is no escape there)
  it("cpu_features: a comma cannot be escaped in -cpu, so it is refused", function()
    local ok, err = pcall(qemu.argv, { path = H.qemu_bin, cpu_model = "max",
                                       cpu_features = { ["model-id"] = "a,pmu=off" } })
    assert.is_false(ok)
    assert.matches("cpu_features", tostring(err), 1, true)
  end)

  -- B3: vhost-user-fs-pci is modern-only
  it("vhost_user fs has no disable_modern", function()
    local ok, err = pcall(qemu.vhost_user, { vhost_user_type = "fs", socket_path = "/s",
                                             chardev_id = "c", tag = "t", disable_modern = true })
    assert.is_false(ok)
    assert.matches("disable_modern", tostring(err), 1, true)
  end)

  -- B4: vfio-pci is no virtio device
  it("netdev vfio has no disable_modern", function()
    local ok, err = pcall(qemu.netdev, { type = "vfio", id = "vf0", bdf = "0000:01:00.1",
                                         disable_modern = true })
    assert.is_false(ok)
    assert.matches("disable_modern", tostring(err), 1, true)
  end)

  -- B5: a vhost_user net's type_dev_id is a -netdev id
  it("vhost_user net's type_dev_id is a netdev id, not a device id", function()
    local vu = function()
      return qemu.vhost_user { vhost_user_type = "net", socket_path = "/s", chardev_id = "c",
                               type_dev_id = "x" }
    end
    assert.is_true((pcall(qemu.argv, { path = H.qemu_bin, devices = { qemu.serial { id = "x" }, vu() } })))
    local ok, err = pcall(qemu.argv, { path = H.qemu_bin,
                                       devices = { qemu.netdev { type = "tap", id = "x" }, vu() } })
    assert.is_false(ok)
    assert.matches("duplicate", tostring(err), 1, true)
  end)
end)

-- ---- the kinds and sections govmm grew after the seed (issue #5) ----------
--
-- EXCLUDED here (each is a pending() below too):
-- * vsock: no /dev/vhost-vsock on this machine (QEMU is still shown to read
--   every option and stop only at the missing device).
-- * object memory-backend-epc: Debian's QEMU 7.2 has no SGX EPC backend
--   ("invalid object type"), and the machine has no /dev/sgx_vepc.
-- * object sev-guest as a confidential guest: no SEV here, and QEMU 7.2
--   aborts on an assertion when machine.options["confidential-guest-support"]
--   names it under TCG; the object itself (and its firmware flash) is checked.
-- * sev-snp-guest and tdx-guest: QEMU 7.2 has neither; qlua refuses them.
-- * iommu intremap with KVM: only where KVM works here.
-- * pflash / sev-guest firmware: only where OVMF is installed.

local ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd"
local ovmf_vars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
local have_ovmf = readable(ovmf_code) and readable(ovmf_vars)
local have_vsock = readable("/dev/vhost-vsock")
local have_epc, why_epc = (function()
  local code, _, err = H.real_qemu({ H.qemu_bin, "-machine", "q35,accel=tcg",
                                     "-object", "memory-backend-epc,id=epc0,size=1M" })
  return code == 0 and err == "", (err or ""):match("[^\n]*")
end)()

-- A copy of f in D under a name that needs escaping.
local function copy(f, name)
  local to = D .. "/" .. name
  run_ok("cp " .. q(f) .. " " .. q(to))
  return to
end

describe("QEMU accepts the later govmm kinds", function()
  describe("object", function()
    it("memory-backend-ram with an nvdimm using it", function()
      accepts {
        machine = { type = "q35", accel = "tcg", options = { nvdimm = true } },
        memory = { size = "128M", slots = 2, maxmem = "1G" },
        devices = { qemu.object { type = "memory-backend-ram", id = "ram0", size = "16M", share = false,
                                  prealloc = true, driver = "nvdimm", device_id = "nv0" } } }
    end)

    it("memory-backend-memfd, shared", function()
      accepts { devices = { qemu.object { type = "memory-backend-memfd", id = "mfd0", size = "16M",
                                          share = true, prealloc = false } } }
    end)

    if have_epc then
      it("memory-backend-epc", function()
        accepts { devices = { qemu.object { type = "memory-backend-epc", id = "epc0", size = "32M",
                                            prealloc = true } } }
      end)
    else
      pending("memory-backend-epc: this QEMU has no SGX EPC backend (" .. tostring(why_epc) ..
              "), and there is no /dev/sgx_vepc")
    end

    it("sev-guest with the required fields (the object; no SEV here to run it)", function()
      accepts { devices = { qemu.object { type = "sev-guest", id = "sev0", cbitpos = 51, reduced_phys_bits = 1 } } }
    end)

    if have_ovmf then
      it("sev-guest with every field and its firmware as read-only flash", function()
        local cert = H.write(D .. "/cert,0=a.b64", "AAAA\n")
        local session = H.write(D .. "/session,0=a.b64", "AAAA\n")
        accepts { devices = { qemu.object {
          type = "sev-guest", id = "sev0", cbitpos = 47, reduced_phys_bits = 1, sev_policy = 7,
          sev_cert_file_path = cert, sev_session_file_path = session, sev_kernel_hashes = true,
          file = copy(ovmf_code, "OVMF,1=a.fd") } } }
      end)
    else
      pending("sev-guest firmware: no OVMF at " .. ovmf_code)
    end
    pending("sev-guest as the confidential guest (machine.options['confidential-guest-support']): no SEV " ..
            "here, and QEMU 7.2 aborts on an assertion with it under TCG")
    pending("sev-snp-guest: QEMU 7.2 has none (qlua refuses it)")

    -- issue #11 item 21: qlua renders a tdx-guest as JSON; QEMU 7.2 reads
    -- the JSON (a nested quote-generation-socket included) and refuses
    -- only the type, which --check reports before (spec/check_spec.lua)
    it("tdx-guest: QEMU 7.2 reads the JSON -object and refuses only its type", function()
      local version = select(2, H.sh(q(H.qemu_bin) .. " --version")):match("version (%d+)%.")
      if version ~= "7" then
        pending("QEMU " .. tostring(version) .. ".x: no TDX host here to run a tdx-guest")
        return
      end
      for _, o in ipairs({ { qgs_port = 4050, sept_ve_disable = true }, { qgs_path = D .. "/qgs,0=a.sock" } }) do
        o.type, o.id = "tdx-guest", "tdx0"
        local argv, fds = qemu.argv(real { devices = { qemu.object(o) } })
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
    end)
  end)

  it("legacy_serial on a file chardev", function()
    accepts { devices = {
      qemu.chardev { backend = "file", id = "con0", path = D .. "/ttyS0,0=a.log" },
      qemu.legacy_serial { chardev = "con0" } } }
  end)

  -- issue #11 item 17: govmm's chardev driver "serial" (no -device, which
  -- QEMU refused: "Parameter 'driver' expects a pluggable device type")
  it("legacy_serial on a chardev with driver 'serial' (govmm's way)", function()
    accepts { devices = {
      qemu.chardev { backend = "file", id = "con0", path = D .. "/ttyS0,1=a.log", driver = "serial" },
      qemu.legacy_serial { chardev = "con0" } } }
  end)

  it("the guest's ttyS0 on a driver 'serial' chardev writes its console to the file #guest", function()
    if not have_guest then
      pending("build/guest is missing: run `make guest`")
      return
    end
    local S = G.scope(finally)
    local log = S:tmpdir() .. "/ttyS0,2=a.log"
    local vm = S:own(qemu.launch(G.desc("", { devices = {
      qemu.chardev { backend = "file", id = "con0", path = log, driver = "serial" },
      qemu.legacy_serial { chardev = "con0" } } }), { console = "none", qmp = true }))
    assert.are.same({ code = 0 }, G.wait(vm, G.BOOT))
    local text = assert(H.slurp(log))
    assert.truthy(text:find("QLUA-GUEST-READY", 1, true), text)
    assert.truthy(text:find("QLUA-GUEST-DONE", 1, true), text)
  end)

  it("pvpanic, plain and with no_shutdown", function()
    accepts { devices = { qemu.pvpanic {} } }
    accepts { devices = { qemu.pvpanic { no_shutdown = true } }, knobs = { no_shutdown = true } }
    accepts { devices = { qemu.pvpanic { no_shutdown = true } } }
  end)

  it("loader", function()
    accepts { devices = { qemu.loader { file = rom, id = "ld0" } } }
  end)

  describe("PCIe topology", function()
    it("pxb_pcie on a NUMA node, with a root port and a device behind it", function()
      accepts {
        memory = { size = "128M" }, smp = { cpus = 2 },
        numa = { nodes = { { node_id = 0, cpus = "0", mem_size = "64M" },
                           { node_id = 1, cpus = "1", mem_size = "64M" } } },
        devices = {
          qemu.pxb_pcie { id = "pxb1", bus_nr = 32, numa_node = 1, addr = "0x10" },
          qemu.pcie_root_port { id = "rp1", bus = "pxb1", chassis = 2, slot = 0 },
          qemu.device { driver = "virtio-rng-pci", bus = "rp1" } } }
    end)

    it("pxb_pcie with an option ROM (issue #11 item 19)", function()
      accepts { devices = { qemu.pxb_pcie { id = "pxb1", bus_nr = 8, romfile = rom } } }
    end)

    it("pcie_root_port with every field", function()
      accepts { devices = { qemu.pcie_root_port {
        id = "rp0", bus = "pcie.0", chassis = 1, slot = 2, addr = "0x3.0", multifunction = true,
        bus_reserve = 2, pref64_reserve = "1G", mem_reserve = "2M", io_reserve = "4K" } } }
    end)

    it("pcie_root_port with a 32-bit prefetchable window", function()
      accepts { devices = { qemu.pcie_root_port { id = "rp0", chassis = 1, slot = 1, pref32_reserve = "16M" } } }
    end)

    it("a switch with a device behind a downstream port", function()
      accepts { devices = {
        qemu.pcie_root_port { id = "rp0", chassis = 1, slot = 0 },
        qemu.pcie_switch_upstream { id = "up0", bus = "rp0" },
        qemu.pcie_switch_downstream { id = "dn0", bus = "up0", chassis = 2, slot = 0 },
        qemu.pcie_switch_downstream { id = "dn1", bus = "up0", chassis = 2, slot = 1 },
        qemu.balloon { id = "bal0", bus = "dn1" } } }
    end)
  end)

  it("scsi_controller with every field, on an iothread, with a disk on its bus", function()
    accepts {
      iothreads = { { id = "io0" } },
      devices = {
        qemu.scsi_controller { id = "scsi0", bus = "pcie.0", addr = "0x7", iothread = "io0", romfile = rom,
                               disable_modern = false },
        qemu.block { id = "hd0", file = qcow2, format = "qcow2", interface = "scsi", bus = "scsi0.0",
                     serial = "SN,1 a" } } }
  end)

  describe("vsock", function()
    if have_vsock then
      it("every field", function()
        local f <close> = qemu.open("/dev/vhost-vsock", "rw")
        accepts { devices = { qemu.vsock { id = "vsock0", context_id = 4294967295, vhost_fd = f,
                                           bus = "pcie.0", addr = "0x8", romfile = rom, disable_modern = false } } }
      end)
    else
      pending("vsock: no /dev/vhost-vsock on this machine (options checked below)")
      it("QEMU reads every option and stops only for want of /dev/vhost-vsock", function()
        local argv, fds = qemu.argv(real { devices = { qemu.vsock {
          id = "vsock0", context_id = 4294967295, bus = "pcie.0", addr = "0x8", romfile = rom,
          disable_modern = false } } })
        local code, _, err = H.real_qemu(argv, fds)
        assert.are.equal(1, code)
        assert.matches("vhost-vsock: failed to open vhost device: No such file or directory", err, 1, true)
      end)
    end
  end)

  it("rng with every field, and with its id only", function()
    accepts { devices = { qemu.rng { id = "rng0", filename = "/dev/urandom", max_bytes = "1K", period = 1000,
                                     bus = "pcie.0", addr = "0x9", romfile = rom, disable_modern = false } } }
    accepts { devices = { qemu.rng { id = "rng0" } } }
  end)

  it("balloon with every field, and deflate_on_oom off", function()
    accepts { devices = { qemu.balloon { id = "balloon0", deflate_on_oom = true, free_page_reporting = true,
                                         bus = "pcie.0", addr = "0xa", romfile = rom, disable_modern = false } } }
    accepts { devices = { qemu.balloon { deflate_on_oom = false } } }
  end)

  it("iommu with every field on, and off (tcg)", function()
    accepts { devices = { qemu.iommu { intremap = true, device_iotlb = true, caching_mode = true } } }
    accepts { devices = { qemu.iommu { intremap = false, device_iotlb = false, caching_mode = false } } }
  end)

  if have_kvm then
    it("iommu intremap with KVM and a split irqchip", function()
      accepts { machine = { type = "q35", accel = "kvm", options = { ["kernel-irqchip"] = "split" } },
                devices = { qemu.iommu { intremap = true } } }
    end)
  else
    pending("iommu intremap with KVM: " .. why_kvm)
  end

  it("block serial", function()
    accepts { devices = { qemu.block { id = "hd0", file = qcow2, format = "qcow2", serial = "QLUA,1 =disk" } } }
  end)

  it("knobs.mem_shared is the shared RAM vhost-user needs: blk served by qemu-storage-daemon", function()
    local sock = D .. "/vu,shared=0.sock"
    os.remove(sock)
    local esc = function(s) return (s:gsub(",", ",,")) end
    local qsd = background("/usr/bin/qemu-storage-daemon", {
      "--blockdev", "driver=file,node-name=f,filename=" .. esc(raw),
      "--export", "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=" .. esc(sock) ..
      ",writable=on" })
    finally(function() stop(qsd) end)
    wait_socket(sock, qsd)
    accepts { memory = { size = "128M" }, knobs = { mem_shared = true },
              devices = { qemu.vhost_user { vhost_user_type = "blk", socket_path = sock, chardev_id = "vhb0" } } }
  end)
end)

describe("QEMU accepts the later govmm sections", function()
  if have_ovmf then
    it("pflash: OVMF code and variables", function()
      accepts { pflash = { copy(ovmf_code, "CODE,1=a.fd"), copy(ovmf_vars, "VARS,1=a.fd") } }
    end)

    it("pflash as one string", function()
      accepts { pflash = copy(ovmf_code, "CODE,2=a.fd") }
    end)
  else
    pending("pflash: no OVMF at " .. ovmf_code)
  end

  it("iothreads", function()
    accepts { iothreads = { { id = "io0" }, { id = "io1" } },
              devices = { qemu.scsi_controller { id = "scsi0", iothread = "io1" } } }
  end)

  it("incoming defer, and with knobs.stopped", function()
    accepts { incoming = { type = "defer" } }
    accepts { incoming = { type = "defer" }, knobs = { stopped = true } }
  end)

  it("incoming from a descriptor", function()
    local a, b = qemu.socketpair()
    finally(function() a:close(); b:close() end)
    accepts { incoming = { type = "fd", fd = a } }
  end)

  it("incoming from a command", function()
    accepts { incoming = { type = "exec", exec = "exec sleep 5" } }
  end)

  it("pidfile", function()
    accepts { pidfile = D .. "/vm,1.pid" }
  end)

  it("fw_cfg items from a file and a string", function()
    accepts { fw_cfg = { { name = "opt/org.qlua/file,1", file = rom },
                         { name = "opt/org.qlua/string", string = "a,b c=d" } } }
  end)

  it("sandbox with QEMU's defaults, and with every option", function()
    accepts { sandbox = {} }
    accepts { sandbox = { obsolete = "deny", elevateprivileges = "children", spawn = "deny",
                          resourcecontrol = "deny" } }
  end)

  describe("numa", function()
    it("nodes with memory and CPUs, distances", function()
      accepts {
        memory = { size = "128M" }, smp = { cpus = 4, maxcpus = 6 },
        numa = {
          nodes = { { node_id = 0, cpus = "0-1,4", mem_size = "64M" },
                    { node_id = 1, cpus = { "2-3", "5" }, mem_size = "64M" } },
          dists = { { src = 0, dst = 1, val = 20 }, { src = 1, dst = 0, val = 21 },
                    { src = 0, dst = 0, val = 10 } } } }
    end)

    it("host nodes (a JSON backend), bound and preferred", function()
      accepts {
        memory = { size = "128M" },
        numa = { nodes = {
          { node_id = 0, mem_size = "64M", host_nodes = { 0 } },
          { node_id = 1, mem_size = "64M", host_nodes = { 0 }, policy = "preferred",
            mem_backend_type = "memory-backend-file", mem_backend_path = mkdir(D .. "/numa,0 \"d") } } } }
    end)

    it("a node without memory, backend types and paths", function()
      accepts {
        memory = { size = "192M" }, smp = { cpus = 3 },
        numa = { nodes = {
          { node_id = 0, cpus = "0", mem_size = "64M", mem_backend_type = "memory-backend-memfd" },
          { node_id = 1, cpus = "1", mem_size = "128M", mem_backend_path = mkdir(D .. "/numa,1=b") },
          { node_id = 2, cpus = "2" } } } }
    end)

    it("with hugepages on a path, shared and preallocated", function()
      accepts {
        memory = { size = "128M" },
        numa = { nodes = { { node_id = 0, mem_size = "64M", mem_backend_path = mkdir(D .. "/huge,n0") },
                           { node_id = 1, mem_size = "64M", mem_backend_path = mkdir(D .. "/huge,n1") } } },
        knobs = { hugepages = true, mem_shared = true, mem_prealloc = true } }
    end)

    it("with file_backed_mem: each node its file", function()
      accepts {
        memory = { size = "128M" },
        numa = { nodes = { { node_id = 0, mem_size = "64M", mem_backend_path = mkdir(D .. "/fb,n0") },
                           { node_id = 1, mem_size = "64M", mem_backend_path = mkdir(D .. "/fb,n1") } } },
        knobs = { file_backed_mem = true } }
    end)
  end)

  it("uid, gid and groups: QEMU runs with them (qemu.launch)", function()
    local vm = qemu.launch(real { uid = 65534, gid = 65534, groups = { 100, 65534 },
                                  knobs = { stopped = true, no_defaults = true } },
                           { console = "none" })
    finally(function() if vm:alive() then vm:kill(9) end; vm:wait(5) end)
    local status = assert(H.slurp("/proc/" .. vm.pid .. "/status"))
    assert.matches("\nUid:%s+65534%s+65534%s+65534%s+65534\n", status)
    assert.matches("\nGid:%s+65534%s+65534%s+65534%s+65534\n", status)
    assert.matches("\nGroups:%s+100 65534%s*\n", status)
    vm.qmp:execute("quit")
    assert.are.same({ code = 0 }, vm:wait(30))
  end)

  it("uid, gid and groups left out: QEMU runs as whoever runs qlua", function()
    local vm = qemu.launch(real { knobs = { stopped = true, no_defaults = true } }, { console = "none" })
    finally(function() if vm:alive() then vm:kill(9) end; vm:wait(5) end)
    local status = assert(H.slurp("/proc/" .. vm.pid .. "/status"))
    local uid = assert(io.popen("id -u")):read("l")
    assert.matches("\nUid:%s+" .. uid .. "%s", status)
    vm.qmp:execute("quit")
    assert.are.same({ code = 0 }, vm:wait(30))
  end)

  it("debug thread names, with and without a name", function()
    accepts { name = "demo vm, id=1", debug = true }
    accepts { debug = true }
  end)

  it("log_file", function()
    accepts { log_file = D .. "/qemu,1.log" }
  end)

  it("file_backed_mem: RAM from memory.path", function()
    accepts { memory = { size = "64M", path = mkdir(D .. "/fbm,0 d=a") }, knobs = { file_backed_mem = true } }
  end)

  it("mem_shared, without and with a path", function()
    accepts { memory = { size = "64M" }, knobs = { mem_shared = true } }
    accepts { memory = { size = "64M", path = mkdir(D .. "/shared,0 d=a") },
              knobs = { mem_shared = true, mem_prealloc = true } }
  end)

  it("iommu_platform on every virtio device that can exist here", function()
    local share = mkdir(D .. "/share,iommu")
    accepts {
      memory = { size = "128M" },
      knobs = { iommu_platform = true },
      devices = {
        qemu.iommu { intremap = true, device_iotlb = true },
        qemu.fsdev { id = "fs0", path = share, mount_tag = "share", security_model = "none" },
        qemu.serial { id = "ser0" },
        qemu.chardev { backend = "pty", id = "ch0", driver = "virtconsole", bus = "ser0.0" },
        qemu.block { id = "hd0", file = raw, format = "raw" },
        qemu.scsi_controller { id = "scsi0" },
        qemu.rng { id = "rng0" },
        qemu.balloon {},
      } }
  end)

  it("iommu_platform on a tap NIC (in a network namespace)", function()
    H.in_netns(function(ns)
      in_ns_accepts(ns, [[
        return { knobs = { iommu_platform = true },
                 devices = { qemu.netdev { type = "tap", id = "net0", ifname = "qt0" } } }]])
    end)
  end)

  it("every later section at once", function()
    local a, b = qemu.socketpair()
    finally(function() a:close(); b:close() end)
    accepts {
      name = "later", debug = true,
      memory = { size = "256M" }, smp = { cpus = 2 },
      numa = { nodes = { { node_id = 0, cpus = "0", mem_size = "128M" },
                         { node_id = 1, cpus = "1", mem_size = "128M" } },
               dists = { { src = 0, dst = 1, val = 15 } } },
      iothreads = { { id = "io0" } },
      devices = { qemu.scsi_controller { id = "scsi0", iothread = "io0" } },
      global = "ICH9-LPC.disable_s3=1",
      pflash = have_ovmf and { copy(ovmf_code, "CODE,3.fd"), copy(ovmf_vars, "VARS,3.fd") } or nil,
      knobs = { no_defaults = true, mem_shared = true },
      incoming = { type = "fd", fd = a },
      pidfile = D .. "/later,1.pid",
      fw_cfg = { { name = "opt/later", string = "1" } },
      sandbox = { obsolete = "deny" },
      log_file = D .. "/later,1.log",
    }
  end)
end)

-- ---- transports (issue #5 item 3) -----------------------------------------
--
-- microvm has no PCI: qlua gives its virtio devices the virtio-mmio
-- transport (virtio-*-device) by itself; the real QEMU takes them.
-- EXCLUDED (pending below): the ccw transport (no qemu-system-s390x here;
-- spec/golden/transport-ccw.args shows what qlua emits), vsock on microvm
-- (no /dev/vhost-vsock).
describe("QEMU accepts the transports qlua picks", function()
  local mv = { type = "microvm", accel = "tcg" }

  it("microvm: every virtio kind that can exist here, on virtio-mmio", function()
    local share = mkdir(D .. "/share,mmio")
    local raw2 = D .. "/raw,mmio.img"
    run_ok("truncate -s 16M " .. q(raw2))
    -- (no_defaults: without it microvm has a default SD card drive, id "sd0")
    accepts {
      machine = mv, memory = { size = "128M" }, knobs = { no_defaults = true },
      devices = {
        qemu.block { id = "hd0", file = raw, format = "raw", serial = "s,1" },
        qemu.block { id = "hd1", file = qcow2, format = "qcow2", bus = "virtio-mmio-bus.3", wce = true },
        qemu.fsdev { id = "fs0", path = share, mount_tag = "share", security_model = "none" },
        qemu.serial { id = "ser0", max_ports = 2 },
        qemu.chardev { backend = "pty", id = "con0", driver = "virtconsole", bus = "ser0.0" },
        qemu.scsi_controller { id = "scsi0" },
        qemu.block { id = "sd0", file = raw2, format = "raw", interface = "scsi", bus = "scsi0.0", read_only = true },
        qemu.rng { id = "rng0", max_bytes = "1K", period = 1000 },
        qemu.balloon { deflate_on_oom = true },
      } }
  end)

  it("microvm: knobs.iommu_platform on mmio devices", function()
    accepts { machine = mv, knobs = { iommu_platform = true }, devices = {
      qemu.block { id = "hd0", file = raw, format = "raw" }, qemu.rng { id = "rng0" } } }
  end)

  it("microvm with options.pcie = on: the pci transport", function()
    accepts { machine = { type = "microvm", accel = "tcg", options = { pcie = true } }, devices = {
      qemu.block { id = "hd0", file = raw, format = "raw" }, qemu.balloon {} } }
  end)

  it("microvm: a tap NIC and a multiqueue one (in a network namespace)", function()
    H.in_netns(function(ns)
      in_ns_accepts(ns, [[
        return { machine = { type = "microvm", accel = "tcg" },
                 devices = { qemu.netdev { type = "tap", id = "net0", ifname = "qt0" },
                             qemu.netdev { type = "tap", id = "net1", fds = qemu.tap("qt1", { queues = 2 }) } } }]])
    end)
  end)

  it("microvm: vhost-user blk (qemu-storage-daemon) as vhost-user-blk", function()
    local sock = D .. "/vu,mmio=0.sock"
    os.remove(sock)
    local function esc(s) return (s:gsub(",", ",,")) end
    local qsd = background("/usr/bin/qemu-storage-daemon", {
      "--blockdev", "driver=file,node-name=f,filename=" .. esc(raw),
      "--export", "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path=" .. esc(sock) .. ",writable=on" })
    finally(function() stop(qsd) end)
    wait_socket(sock, qsd)
    accepts { machine = { type = "microvm", accel = "tcg", options = { ["memory-backend"] = "vumem" } },
              memory = { size = "128M" },
              extra_args = { "-object", "memory-backend-memfd,id=vumem,size=128M,share=on" },
              devices = { qemu.vhost_user { vhost_user_type = "blk", socket_path = sock, chardev_id = "vhb0" } } }
  end)

  pending("the ccw transport (virtio-*-ccw, devno, vfio-ccw, vfio-ap): no qemu-system-s390x on this machine " ..
          "(golden only: spec/golden/transport-ccw.args)")
  pending("vsock on microvm (vhost-vsock-device): no /dev/vhost-vsock on this machine")
end)
