-- spec/qemu_accepts_spec.lua - the real QEMU accepts what qlua emits.
--
-- Every case of spec/support/cases.lua (the configurations behind the
-- golden files of spec/golden_spec.lua, and a few more) that can exist on
-- this machine is built in the real world: every path a real file or
-- directory in a directory of its own whose name carries ',', ' ' and '='
-- (so QEMU itself proves the comma doubling), on q35 (or the case's
-- machine) with accel "tcg", and started paused (-S) with QMP on stdio fed
-- qmp_capabilities + quit (H.assert_qemu_accepts): QEMU must exit 0 and
-- print nothing on stderr (no "deprecated", no "warning").  Where the
-- configuration itself needs stdio, the same check runs with QMP on a pipe
-- chardev; a case may bring a check of its own (-daemonize's exit status, a
-- QMP client that connects, ...).
--
-- Taps (tap, vethtap, macvtap, ipvtap) are made in a network namespace of the
-- test's own: a small qlua script runs there (`ip netns exec NS ./qlua ...`),
-- builds the case, opens the queues and runs the same check.  vhost-user
-- backends are started by the case (qemu-storage-daemon, virtiofsd) and
-- always stopped; vhost-user needs the guest RAM shared, which the cases do
-- with a memfd memory backend (qlua's own way is knobs.mem_shared, a case of
-- its own).  A paused QEMU does not check the sharing: it would fail only
-- once a guest starts the device.
--
-- What cannot exist on this machine is a pending test with the reason
-- (the case's `qemu.pending`, or the probe its `needs` names failing), so
-- the list shows in the test output; where the host device alone is
-- missing (VFIO, /dev/vhost-vsock) QEMU is still shown to read every option
-- and to stop only at the device.  docs/guest.md has the facts about this
-- machine behind them.  The section "qlua refuses what QEMU would refuse"
-- keeps the fixes of what this spec found.
local H = require "helper"
local G = require "support.guest"
local C = require "support.cases"
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

local seabios = C.SEABIOS
local have_seabios = readable(seabios)

-- Can this kernel make a macvtap / ipvtap link?  Asked in a throwaway
-- namespace; returns true or false and the reason.
local function probe_link(kind)
  local ns = H.unique("qluaprobe")
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

local ovmf_code, ovmf_vars = C.OVMF_CODE, C.OVMF_VARS
local have_ovmf = readable(ovmf_code) and readable(ovmf_vars)
local have_vsock = readable("/dev/vhost-vsock")
local have_epc, why_epc = (function()
  local code, _, err = H.real_qemu({ H.qemu_bin, "-machine", "q35,accel=tcg",
                                     "-object", "memory-backend-epc,id=epc0,size=1M" })
  return code == 0 and err == "", (err or ""):match("[^\n]*")
end)()

-- The probes a case's `needs` names: { available, why not }.
local have = {
  kvm = { have_kvm, why_kvm },
  kvm_host = { have_kvm_host, "needs KVM: " .. tostring(why_kvm_host) },
  ttyS0 = { have_ttyS0, "no /dev/ttyS0 on this machine" },
  hugepages = { have_hugepages, "no hugetlbfs with free pages at /dev/hugepages" },
  seabios = { have_seabios, "no " .. seabios .. " to copy" },
  macvtap = { have_macvtap, "the kernel refuses a macvtap link here (" .. tostring(why_macvtap) .. ")" },
  ipvtap = { have_ipvtap, "this kernel has no ipvtap (" .. tostring(why_ipvtap) .. ")" },
  ovmf = { have_ovmf, "no OVMF at " .. ovmf_code },
  vsock = { have_vsock, "no /dev/vhost-vsock on this machine" },
  epc = { have_epc, "this QEMU has no SGX EPC backend (" .. tostring(why_epc) .. "), and there is no /dev/sgx_vepc" },
}

-- ---- the world the cases are built in -------------------------------------

-- Everything lives under a directory whose own name needs escaping; each
-- case gets a directory of its own there.
local D = H.tmpdir() .. "/qlua dir,1=a"

local function run_ok(cmd)
  local code, out, err = H.sh(cmd)
  assert(code == 0, cmd .. ": " .. tostring(out) .. tostring(err))
end

local function env(i)
  local E = C.real_env(D .. "/" .. i)
  E.have_seabios, E.have_ovmf = have_seabios, have_ovmf
  return E
end

-- vm with the real QEMU and, unless it names one, the case's machine (q35
-- with tcg by default).
local function real(vm, machine)
  vm.path = H.qemu_bin
  vm.machine = vm.machine or machine or { type = "q35", accel = "tcg" }
  return vm
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

local function ns_sh(ns, cmd)
  run_ok("ip netns exec " .. ns .. " sh -c " .. q(cmd))
end

-- Case i in a network namespace of its own: a qlua script builds it there
-- (in the case's directory, dir) and runs the acceptance check; it reports
-- "code=N" and QEMU's stderr.  A macvtap/ipvtap case gets its link x0 (on
-- a veth) first.
local function accepts_in_netns(c, i, dir)
  H.in_netns(function(ns)
    if c.link then
      ns_sh(ns, "ip link add v0 type veth peer name v1 && ip link add link v0 name x0 type " ..
            c.link .. " mode " .. (c.link == "ipvtap" and "l2" or "bridge") ..
            " && ip link set v0 up && ip link set x0 up")
    end
    local script = H.script(([[
local H = dofile(%q)
package.path = %q .. "/spec/?.lua;" .. package.path
local C = require "support.cases"
local E = C.real_env(%q)
local vm = C.cases[%d].vm(E)
vm.path = H.qemu_bin
vm.machine = vm.machine or { type = "q35", accel = "tcg" }
local argv, fds = qemu.argv(vm)
local code, _, err = H.real_qemu(argv, fds)
E.done()
io.write("code=", code, "\n", err)
]]):format(H.root .. "/spec/helper.lua", H.root, dir, i))
    local code, out, err = H.sh("ip netns exec " .. ns .. " " .. H.qlua_cmd .. " " .. q(script))
    assert.are.equal("", err)
    assert.are.equal("code=0\n", out)
    assert.are.equal(0, code)
  end)
end

-- Runs case i (c) against the real QEMU as its `qemu` says; returns a
-- reason when it turned out it cannot run here.
local function run_case(c, i)
  local E = env(i)
  local why
  local ok, err = pcall(function()
    if c.qemu == "netns" then
      accepts_in_netns(c, i, E.root)
    else
      local vm = real((c.vm(E)), c.machine)
      local argv, fds = qemu.argv(vm)
      if c.check then
        why = c.check(E, H, argv, fds)
      elseif c.qemu == "pipe" then
        local code, err2 = real_qemu_pipe(argv, fds)
        assert.are.equal("", err2)
        assert.are.equal(0, code)
      elseif type(c.qemu) == "table" and c.qemu.refuses and not (c.qemu.unless and have[c.qemu.unless][1]) then
        local code, _, err2 = H.real_qemu(argv, fds)
        assert.are.equal(1, code)
        assert.matches(c.qemu.refuses, err2, 1, true)
      else
        H.assert_qemu_accepts(argv, fds)
      end
    end
    if c.after then c.after(E) end
  end)
  E.done()
  if not ok then error(err, 0) end
  return why
end

-- ---- the cases -----------------------------------------------------------

describe("QEMU accepts", function()
  local groups, order = {}, {}
  for i, c in ipairs(C.cases) do
    if not groups[c.group] then
      groups[c.group] = {}
      order[#order + 1] = c.group
    end
    table.insert(groups[c.group], i)
  end
  for _, g in ipairs(order) do
    describe(g, function()
      for _, i in ipairs(groups[g]) do
        local c = C.cases[i]
        local probe = c.needs and have[c.needs]
        if type(c.qemu) == "table" and c.qemu.pending then
          pending(c.qemu.pending)
        elseif probe and not probe[1] then
          pending(c.it .. ": " .. probe[2])
        elseif type(c.qemu) == "table" and c.qemu.refuses and not (c.qemu.unless and have[c.qemu.unless][1]) then
          pending(c.qemu.why .. " (options checked below)")
          it(c.it .. ": QEMU reads every option and stops only for want of the host device", function()
            run_case(c, i)
          end)
        else
          it(c.it, function()
            local why = run_case(c, i)
            if why then pending(why) end
          end)
        end
      end
    end)
  end
end)

-- ---- what is not a configuration -------------------------------------------

describe("qlua refuses what QEMU would refuse", function()
  -- -cpu splits its argument on every ',' (",," is no escape there)
  it("cpu_features: a comma cannot be escaped in -cpu, so it is refused", function()
    local ok, err = pcall(qemu.argv, { path = H.qemu_bin, cpu_model = "max",
                                       cpu_features = { ["model-id"] = "a,pmu=off" } })
    assert.is_false(ok)
    assert.matches("cpu_features", tostring(err), 1, true)
  end)

  -- vhost-user-fs-pci is modern-only
  it("vhost_user fs has no disable_modern", function()
    local ok, err = pcall(qemu.vhost_user, { vhost_user_type = "fs", socket_path = "/s",
                                             chardev_id = "c", tag = "t", disable_modern = true })
    assert.is_false(ok)
    assert.matches("disable_modern", tostring(err), 1, true)
  end)

  -- vfio-pci is no virtio device
  it("netdev vfio has no disable_modern", function()
    local ok, err = pcall(qemu.netdev, { type = "vfio", id = "vf0", bdf = "0000:01:00.1",
                                         disable_modern = true })
    assert.is_false(ok)
    assert.matches("disable_modern", tostring(err), 1, true)
  end)

  -- a vhost_user net's type_dev_id is a -netdev id
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

describe("QEMU and qlua together", function()
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

  it("uid, gid and groups: QEMU runs with them (qemu.launch)", function()
    local vm = qemu.launch(real({ uid = 65534, gid = 65534, groups = { 100, 65534 },
                                  knobs = { stopped = true, no_defaults = true } }),
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
    local vm = qemu.launch(real({ knobs = { stopped = true, no_defaults = true } }), { console = "none" })
    finally(function() if vm:alive() then vm:kill(9) end; vm:wait(5) end)
    local status = assert(H.slurp("/proc/" .. vm.pid .. "/status"))
    local uid = assert(io.popen("id -u")):read("l")
    assert.matches("\nUid:%s+" .. uid .. "%s", status)
    vm.qmp:execute("quit")
    assert.are.same({ code = 0 }, vm:wait(30))
  end)
end)
