-- spec/qmp_wrappers_spec.lua - require "qemu.qmp": govmm's QMP wrappers
-- (docs/contract.md §5), against the real QEMU 7.2.
--
-- Three layers:
-- 1. The module: what it adds to the QMP objects, that qlua embeds it, that
--    a wrong argument raises before anything is sent.
-- 2. What each wrapper sends, exactly, recorded by a stand-in QMP object;
--    then every one of those commands is checked against the real QEMU's
--    query-commands and query-qmp-schema (each member known, typed right,
--    the required ones there) and every device_add property against
--    device-list-properties.  That covers the wrappers whose success this
--    machine cannot show (s390x-only devices, vhost, VFIO).
-- 3. Each wrapper run for real on a q35 QEMU under TCG, started paused with
--    no guest (memory slots and maxmem for memory hotplug, maxcpus 2 for CPU
--    hotplug, nvdimm on, pcie-root-ports for PCIe hotplug, a virtio-scsi,
--    an xhci, a virtio-serial and a virtio-balloon controller).
--
-- Without a guest, two things cannot succeed here and their timeout paths
-- are tested instead: device_del of a PCI device (it leaves only when the
-- guest OS releases it; USB, SCSI and virtio-serial devices leave at once,
-- and show device_del's success path) and powerdown (nobody presses on
-- from the ACPI button; QEMU exiting during the wait is tested, by SIGTERM
-- and SIGKILL).  vhost-vsock, vhost-net and VFIO have no device node or
-- hardware here: QEMU's own refusal is asserted.  Each such gap is also a
-- pending() below, so the list shows in the output.
local H = require "helper"
local qemu = H.qemu
local W = require "qemu.qmp"

local q = H.q

-- ---- small tools ------------------------------------------------------------

-- Seconds, monotonic (the same clock the module uses).
local function now()
  local f = assert(io.open("/proc/uptime"))
  local t = f:read("n")
  f:close()
  return t
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

-- A stand-in QMP object: records every command, getfd and wait_event, and
-- answers {} unless replies[cmd] says otherwise (a value, or a function
-- returning value or nil, err).
local function stub(replies)
  local s = { calls = {} }
  replies = replies or {}
  function s:execute(cmd, args, opts)
    self.calls[#self.calls + 1] = { cmd, args }
    self.last_timeout = opts and opts.timeout
    local r = replies[cmd]
    if type(r) == "function" then return r(args) end
    if r ~= nil then return r end
    return {}
  end
  function s:getfd(name, fd, opts)
    self.calls[#self.calls + 1] = { "getfd", { fdname = name } }
    return true
  end
  function s:wait_event(name, opts)
    self.calls[#self.calls + 1] = { "wait_event " .. name, opts.data }
    self.last_timeout = opts.timeout
    return { event = name, data = opts.data or {} }
  end
  function s:greeting()
    return { QMP = { version = { qemu = { major = 7, minor = 2, micro = 22 }, package = "Debian" },
                     capabilities = { "oob" } } }
  end
  return s
end

-- The q35 VM the real tests run: paused, no guest.  extra: more arguments.
local function vm_desc(extra, nvdimm)
  local args = { "-display", "none" }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  return {
    machine = { type = "q35", accel = "tcg", options = nvdimm and { nvdimm = true } or nil },
    memory = { size = "256M", slots = 2, maxmem = "1G" },
    smp = { cpus = 1, maxcpus = 2 },
    knobs = { no_defaults = true, stopped = true },
    extra_args = args,
  }
end

-- Controllers for the hotplug tests (pcie.0 itself takes no hotplug).
local CONTROLLERS = {
  "-device", "pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x10",
  "-device", "pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x11",
  "-device", "pcie-root-port,id=rp3,bus=pcie.0,chassis=3,addr=0x12",
  "-device", "virtio-scsi-pci,id=scsi0,bus=pcie.0",
  "-device", "qemu-xhci,id=xhci,bus=pcie.0",
  "-device", "virtio-serial-pci,id=vser0,bus=pcie.0",
  "-device", "virtio-balloon-pci,id=bal0,bus=pcie.0",
}

-- Launches a VM for one test, killed when the test ends.
local function launch(extra, nvdimm)
  local vm = qemu.launch(vm_desc(extra, nvdimm), { stderr = "capture" })
  finally(function()
    if vm:alive() then vm:kill(9) end
    vm:wait(10)
  end)
  return vm, vm.qmp
end

local function rich()
  return launch(CONTROLLERS, true)
end

-- Asserts a QEMU refusal: nil, err with QEMU's class and a desc matching
-- the Lua pattern.
local function refused(class, pattern, r, err)
  assert.is_nil(r)
  assert.is_table(err, "expected an error value")
  assert.are.equal(class, err.class, tostring(err))
  assert.is_truthy(err.desc:find(pattern), ("'%s' does not match '%s'"):format(err.desc, pattern))
end

local function names_of(list, key)
  local t = {}
  for _, x in ipairs(list) do t[x[key or "name"]] = x end
  return t
end

-- ---- 1. the module ------------------------------------------------------------

describe("qemu.qmp, the module", function()
  it("returns its functions and adds each to every QMP object's methods", function()
    -- the methods of every QMP object.  qemu.qmp_methods is this table, but
    -- a qemu module opened again in the same state (busted does that
    -- between spec files) lacks the field: lqmp_register sets it only when
    -- it creates the metatable.
    local methods = debug.getregistry()["qemu.qmp"].__index
    local count = 0
    for name, f in pairs(W) do
      if type(f) == "function" then
        count = count + 1
        assert.are.equal(f, methods[name], name)
      end
    end
    assert.is_true(count >= 60)
    -- the C methods are untouched
    for _, m in ipairs({ "execute", "getfd", "events", "wait_event", "greeting", "log", "close" }) do
      assert.are.equal("C", debug.getinfo(methods[m], "S").what)
      assert.is_nil(rawget(W, m))
    end
    -- loading the module again replaces its own methods
    package.loaded["qemu.qmp"] = nil
    local again = require "qemu.qmp"
    assert.are_not.equal(W.status, again.status)
    assert.are.equal(again.status, methods.status)
    package.loaded["qemu.qmp"] = W
    for name, f in pairs(W) do
      if type(f) == "function" then methods[name] = f end
    end
  end)

  it("has one wrapper per govmm command QEMU 7.2 still has, under its snake_case name", function()
    for _, name in ipairs({
      "qmp_capabilities", "stop", "cont", "powerdown", "system_powerdown", "quit",
      "blockdev_add", "blockdev_add_with_cache", "blockdev_add_with_driver_cache", "blockdev_del",
      "chardev_del", "device_add", "scsi_device_add", "pci_device_add", "pci_vhost_user_dev_add",
      "netdev_add", "netdev_chardev_add", "netdev_add_by_fds", "netdev_del", "net_pci_device_add",
      "net_ccw_device_add", "device_del", "vfio_device_add", "pci_vfio_device_add",
      "pci_vfio_mediated_device_add", "ap_vfio_mediated_device_add", "cpu_device_add",
      "query_hotpluggable_cpus", "set_migration_caps", "set_migrate_arguments",
      "query_memory_devices", "query_cpus_fast", "memdev_add", "hotplug_memory",
      "nvdimm_device_add", "balloon", "pci_vsock_add", "chardev_unix_socket_add",
      "virt_serial_port_add", "query_migration", "migration_incoming", "query_qmp_schema",
      "query_status", "status", "qom_set", "qom_get", "dump_guest_memory", "version",
    }) do
      assert.is_function(W[name], name)
    end
    -- query-cpus was removed in QEMU 6.0: no query_cpus that would answer
    -- with query-cpus-fast's different fields
    assert.is_nil(W.query_cpus)
  end)

  it("is compiled into ./qlua (works from any directory)", function()
    local script = H.script([[
      require "qemu.qmp"
      assert(package.preload["qemu.qmp"], "not embedded")
      print(type(qemu.qmp_methods.status), type(qemu.qmp_methods.device_del))
    ]])
    local code, out, err = H.sh("cd / && env -u QLUA_PATH " .. H.qlua_cmd .. " " .. q(script))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("function\tfunction\n", out)
  end)

  it("raises on a wrong argument, at the caller's line, before sending anything", function()
    local s = stub()
    local cases = {
      { function() W.device_del(s, 3) end, "bad argument #1 to 'device_del' (string expected, got number)" },
      { function() W.device_del(s, "x", { timeout = -1 }) end,
        "bad argument #2 to 'device_del' (field 'timeout': -1 is out of range (expected a number >= 0))" },
      { function() W.device_del(s, "x", { tiemout = 1 }) end, "bad argument #2 to 'device_del' (unknown field 'tiemout' (did you mean 'timeout'?))" },
      { function() W.blockdev_add(s, { node_name = "a" }) end,
        "bad argument #1 to 'blockdev_add' (field 'filename' is required)" },
      { function() W.blockdev_add(s, { node_name = "a", filename = "f", readonly = true }) end,
        "bad argument #1 to 'blockdev_add' (unknown field 'readonly' (did you mean 'read_only'?))" },
      { function() W.blockdev_add(s, "hd0") end,
        "bad argument #1 to 'blockdev_add' (table expected, got string)" },
      { function() W.cpu_device_add(s, { driver = "x", id = "c", core_id = "1" }) end,
        "bad argument #1 to 'cpu_device_add' (field 'core_id': number expected, got string)" },
      { function() W.pci_vsock_add(s, { id = "v", guest_cid = 3.5 }) end,
        "bad argument #1 to 'pci_vsock_add' (field 'guest_cid': number has no integer representation)" },
      { function() W.hotplug_memory(s, { id = "m", size = "12X" }) end,
        "bad argument #1 to 'hotplug_memory' (field 'size': invalid size '12X' (expected bytes, or a number with suffix K, M, G or T))" },
      { function() W.scsi_device_add(s, { drive = "d", id = "s", driver = "scsi-disk", bus = "b" }) end,
        "bad argument #1 to 'scsi_device_add' (field 'driver': invalid option 'scsi-disk' (expected 'scsi-hd' or 'scsi-cd'))" },
      { function() W.netdev_add_by_fds(s, { id = "n", fds = {} }) end,
        "bad argument #1 to 'netdev_add_by_fds' (field 'fds': a non-empty list of getfd names or qemu.fd objects expected, got table)" },
      { function() W.netdev_add(s, { type = "tap" }) end, "bad argument #1 to 'netdev_add' (field 'id' is required)" },
      { function() W.device_add(s, { id = "x" }) end, "bad argument #1 to 'device_add' (field 'driver' is required)" },
      { function() W.chardev_unix_socket_add(s, { id = "c", path = "/p", wait = false }) end,
        "bad argument #1 to 'chardev_unix_socket_add' (field 'wait' is only used with server = true)" },
      { function() W.dump_guest_memory(s, { paging = false }) end,
        "bad argument #1 to 'dump_guest_memory' (give exactly one of 'file' and 'protocol')" },
      { function() W.set_migration_caps(s, { { capability = "events" } }) end,
        "bad argument #1 to 'set_migration_caps' (item 1: { capability = string, state = boolean } expected)" },
      { function() W.qom_set(s, "/machine", "x") end,
        "bad argument #3 to 'qom_set' (value expected, got nil (use qemu.null for JSON null))" },
      { function() W.blockdev_add(s, { node_name = "a", filename = "f", cache = { drect = true } }) end,
        "bad argument #1 to 'blockdev_add' (unknown field 'cache.drect' (did you mean 'direct'?))" },
      { function() W.blockdev_add_with_driver_cache(s, { node_name = "a", filename = "f" }) end,
        "bad argument #1 to 'blockdev_add_with_driver_cache' (field 'driver' is required)" },
      { function() W.balloon(s, -1) end,
        "bad argument #1 to 'balloon' (a size (bytes or a string like \"512M\") expected, got number)" },
      { function() W.screendump(s, 3) end, "bad argument #1 to 'screendump' (string expected, got number)" },
      { function() W.screendump(s, "s.png", { format = "jpeg" }) end,
        "bad argument #2 to 'screendump' (field 'format': invalid option 'jpeg' (expected 'png' or 'ppm'))" },
      { function() W.screendump(s, "s.png", { fmt = "png" }) end,
        "bad argument #2 to 'screendump' (unknown field 'fmt')" },
      { function() W.screendump(s, "s.png", { head = "0" }) end,
        "bad argument #2 to 'screendump' (field 'head': number expected, got string)" },
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1])
      assert.is_false(ok)
      -- the position is this file's line, not the module's
      assert.are.equal("spec/qmp_wrappers_spec.lua", err:match("([^:]+):%d+: "), err)
      assert.are.equal(c[2], err:gsub("^[^:]+:%d+: ", ""))
    end
    assert.are.same({}, s.calls)
  end)

  it("passes the timeout on: from the options table, never as a QMP argument", function()
    local s = stub()
    W.stop(s, { timeout = 3 })
    assert.are.equal(3, s.last_timeout)
    W.device_add(s, { driver = "usb-tablet", id = "t", timeout = 4 })
    assert.are.equal(4, s.last_timeout)
    assert.are.same({ "device_add", { driver = "usb-tablet", id = "t" } }, s.calls[2])
    W.blockdev_del(s, "hd0", { timeout = 5 })
    assert.are.equal(5, s.last_timeout)
    -- a wrapper of several steps shares one deadline
    W.device_del(s, "d", { timeout = 7 })
    assert.is_true(s.last_timeout > 6 and s.last_timeout <= 7)
    W.stop(s)
    assert.is_nil(s.last_timeout)  -- qmp:execute's own default (30 s)
  end)
end)

-- ---- 2. what each wrapper sends -------------------------------------------------

-- { wrapper, its arguments, the calls it makes }; fd stands for a qemu.fd.
local function sends_table(fd1, fd2)
  local KiB, MiB = 1024, 1024 * 1024
  return {
    { "stop", {}, { { "stop" } } },
    { "cont", {}, { { "cont" } } },
    { "quit", {}, { { "quit" } } },
    { "system_reset", {}, { { "system_reset" } } },
    { "qmp_capabilities", {}, { { "qmp_capabilities" } } },
    { "status", {}, { { "query-status" } } },
    { "query_status", {}, { { "query-status" } } },
    { "query_hotpluggable_cpus", {}, { { "query-hotpluggable-cpus" } } },
    { "query_memory_devices", {}, { { "query-memory-devices" } } },
    { "query_cpus_fast", {}, { { "query-cpus-fast" } } },
    { "query_migration", {}, { { "query-migrate" } } },
    { "query_migrate", {}, { { "query-migrate" } } },
    { "query_qmp_schema", {}, { { "query-qmp-schema" } } },
    { "query_version", {}, { { "query-version" } } },
    { "query_pci", {}, { { "query-pci" } } },
    { "query_block", {}, { { "query-block" } } },
    { "query_named_block_nodes", {}, { { "query-named-block-nodes" } } },
    { "query_chardev", {}, { { "query-chardev" } } },
    { "query_balloon", {}, { { "query-balloon" } } },
    { "query_commands", {}, { { "query-commands" } } },
    { "query_kvm", {}, { { "query-kvm" } } },
    { "query_name", {}, { { "query-name" } } },
    { "query_migrate_capabilities", {}, { { "query-migrate-capabilities" } } },
    { "query_migrate_parameters", {}, { { "query-migrate-parameters" } } },
    { "query_dump", {}, { { "query-dump" } } },
    { "query_memory_size_summary", {}, { { "query-memory-size-summary" } } },
    { "query_iothreads", {}, { { "query-iothreads" } } },
    { "powerdown", {}, { { "system_powerdown" }, { "wait_event SHUTDOWN" } } },
    { "system_powerdown", {}, { { "system_powerdown" }, { "wait_event SHUTDOWN" } } },

    { "blockdev_add", { { node_name = "hd0", filename = "/d.img" } },
      { { "blockdev-add", { driver = "raw", ["node-name"] = "hd0", file = { driver = "file", filename = "/d.img" } } } } },
    { "blockdev_add", { { node_name = "hd0", filename = "/dev/sdb", driver = "host_device", format = "qcow2",
        read_only = true, cache = { direct = true, no_flush = false }, discard = "unmap", detect_zeroes = "unmap",
        auto_read_only = false, force_share = true } },
      { { "blockdev-add", { driver = "qcow2", ["node-name"] = "hd0", ["read-only"] = true,
          cache = { direct = true, ["no-flush"] = false }, discard = "unmap", ["detect-zeroes"] = "unmap",
          ["auto-read-only"] = false, ["force-share"] = true,
          file = { driver = "host_device", filename = "/dev/sdb" } } } } },
    { "blockdev_add_with_cache", { { node_name = "hd0", filename = "/dev/sdb", direct = true, no_flush = true,
        read_only = false } },
      { { "blockdev-add", { driver = "raw", ["node-name"] = "hd0", ["read-only"] = false,
          cache = { direct = true, ["no-flush"] = true }, file = { driver = "host_device", filename = "/dev/sdb" } } } } },
    { "blockdev_add_with_driver_cache", { { driver = "file", node_name = "hd0", filename = "/d.img", direct = false } },
      { { "blockdev-add", { driver = "raw", ["node-name"] = "hd0", cache = { direct = false, ["no-flush"] = false },
          file = { driver = "file", filename = "/d.img" } } } } },
    { "blockdev_del", { "hd0" }, { { "blockdev-del", { ["node-name"] = "hd0" } } } },

    { "device_add", { { driver = "virtio-blk-pci", id = "vd0", drive = "hd0", bus = "rp1", addr = "0x0",
        share_rw = true, disable_modern = false, num_queues = 2, romfile = "", ["x-foo"] = 1, host_mtu = nil } },
      { { "device_add", { driver = "virtio-blk-pci", id = "vd0", drive = "hd0", bus = "rp1", addr = "0x0",
          ["share-rw"] = true, ["disable-modern"] = false, ["num-queues"] = 2, romfile = "", ["x-foo"] = 1 } } } },
    { "device_del", { "vd0" },
      { { "device_del", { id = "vd0" } }, { "wait_event DEVICE_DELETED", { device = "vd0" } } } },
    { "scsi_device_add", { { drive = "hd0", id = "sd0", driver = "scsi-hd", bus = "scsi0.0", scsi_id = 1, lun = 0,
        share_rw = true } },
      { { "device_add", { driver = "scsi-hd", id = "sd0", drive = "hd0", bus = "scsi0.0", ["scsi-id"] = 1, lun = 0,
          ["share-rw"] = true } } } },
    { "pci_device_add", { { drive = "hd0", id = "vd0", driver = "virtio-blk-pci", addr = "0x0", bus = "rp1",
        romfile = "", queues = 2, share_rw = true, disable_modern = true } },
      { { "device_add", { driver = "virtio-blk-pci", id = "vd0", drive = "hd0", addr = "0x0", bus = "rp1",
          romfile = "", ["num-queues"] = 2, ["share-rw"] = true, ["disable-modern"] = true } } } },
    { "pci_vhost_user_dev_add", { { driver = "vhost-user-blk-pci", id = "vub0", chardev = "char0", addr = "0x0",
        bus = "rp2" } },
      { { "device_add", { driver = "vhost-user-blk-pci", id = "vub0", chardev = "char0", addr = "0x0", bus = "rp2" } } } },
    { "net_pci_device_add", { { netdev = "n0", id = "nic0", mac = "52:54:00:12:34:56", addr = "0x0", bus = "rp3",
        romfile = "", queues = 2, disable_modern = false } },
      { { "device_add", { driver = "virtio-net-pci", id = "nic0", netdev = "n0", mac = "52:54:00:12:34:56",
          addr = "0x0", bus = "rp3", romfile = "", mq = true, vectors = 6, ["disable-modern"] = false } } } },
    { "net_ccw_device_add", { { netdev = "n0", id = "nic0", mac = "52:54:00:12:34:56", devno = "fe.0.0001", queues = 2 } },
      { { "device_add", { driver = "virtio-net-ccw", id = "nic0", netdev = "n0", mac = "52:54:00:12:34:56",
          devno = "fe.0.0001", mq = true } } } },
    { "vfio_device_add", { { id = "vf0", host = "0000:01:00.0", bus = "rp1", romfile = "" } },
      { { "device_add", { driver = "vfio-pci", id = "vf0", host = "0000:01:00.0", bus = "rp1", romfile = "" } } } },
    { "pci_vfio_device_add", { { id = "vf0", host = "0000:01:00.0", addr = "0x0", bus = "rp1", romfile = "" } },
      { { "device_add", { driver = "vfio-pci", id = "vf0", host = "0000:01:00.0", addr = "0x0", bus = "rp1",
          romfile = "" } } } },
    { "pci_vfio_mediated_device_add", { { id = "vf1", sysfsdev = "/sys/bus/mdev/devices/u", addr = "0x0", bus = "rp1" } },
      { { "device_add", { driver = "vfio-pci", id = "vf1", sysfsdev = "/sys/bus/mdev/devices/u", addr = "0x0",
          bus = "rp1" } } } },
    { "ap_vfio_mediated_device_add", { { sysfsdev = "/sys/devices/vfio_ap/matrix/u" } },
      { { "device_add", { driver = "vfio-ap", sysfsdev = "/sys/devices/vfio_ap/matrix/u" } } } },
    { "pci_vsock_add", { { id = "vs0", guest_cid = 3, addr = "0x0", bus = "rp2", disable_modern = false } },
      { { "device_add", { driver = "vhost-vsock-pci", id = "vs0", ["guest-cid"] = 3, addr = "0x0", bus = "rp2",
          ["disable-modern"] = false } } } },
    { "pci_vsock_add", { { id = "vs0", guest_cid = 4, vhostfd = fd1 } },
      { { "getfd", { fdname = "vs0-vhostfd" } },
        { "device_add", { driver = "vhost-vsock-pci", id = "vs0", ["guest-cid"] = 4, vhostfd = "vs0-vhostfd" } } } },
    { "virt_serial_port_add", { { id = "port0", name = "org.qlua.0", chardev = "ch0", bus = "vser0.0", nr = 1 } },
      { { "device_add", { driver = "virtserialport", id = "port0", name = "org.qlua.0", chardev = "ch0",
          bus = "vser0.0", nr = 1 } } } },
    { "cpu_device_add", { { driver = "qemu64-x86_64-cpu", id = "cpu1", socket_id = 0, die_id = 0, core_id = 1,
        thread_id = 0, node_id = 0 } },
      { { "device_add", { driver = "qemu64-x86_64-cpu", id = "cpu1", ["socket-id"] = 0, ["die-id"] = 0,
          ["core-id"] = 1, ["thread-id"] = 0, ["node-id"] = 0 } } } },

    { "object_add", { { qom_type = "memory-backend-ram", id = "m0", size = 128 * MiB, prealloc = false,
        prealloc_threads = 2, share = true } },
      { { "object-add", { ["qom-type"] = "memory-backend-ram", id = "m0", size = 128 * MiB, prealloc = false,
          ["prealloc-threads"] = 2, share = true } } } },
    { "object_add", { { qom_type = "input-linux", id = "in0", evdev = "/dev/input/event0", grab_all = true } },
      { { "object-add", { ["qom-type"] = "input-linux", id = "in0", evdev = "/dev/input/event0", grab_all = true } } } },
    { "object_del", { "m0" }, { { "object-del", { id = "m0" } } } },
    { "memdev_add", { { qom_type = "memory-backend-file", id = "m1", size = "128M", mem_path = "/dev/shm/m1",
        share = true, driver = "pc-dimm", driver_id = "dimm1" } },
      { { "object-add", { ["qom-type"] = "memory-backend-file", id = "m1", size = 128 * MiB,
          ["mem-path"] = "/dev/shm/m1", share = true } },
        { "device_add", { driver = "pc-dimm", id = "dimm1", memdev = "m1" } } } },
    { "hotplug_memory", { { id = "m2", size = 1024 * MiB } },
      { { "object-add", { ["qom-type"] = "memory-backend-ram", id = "m2", size = 1024 * MiB } },
        { "device_add", { driver = "pc-dimm", id = "dimmm2", memdev = "m2" } } } },
    { "nvdimm_device_add", { { id = "nv0", mem_path = "/tmp/nv.img", size = "16M", pmem = false } },
      { { "object-add", { ["qom-type"] = "memory-backend-file", id = "nvdimmbackmemnv0", ["mem-path"] = "/tmp/nv.img",
          size = 16 * MiB, share = true, pmem = false } },
        { "device_add", { driver = "nvdimm", id = "nvdimmnv0", memdev = "nvdimmbackmemnv0" } } } },
    { "balloon", { "128M" }, { { "balloon", { value = 128 * MiB } } } },
    { "balloon", { 64 * KiB }, { { "balloon", { value = 64 * KiB } } } },

    { "netdev_add", { { type = "tap", id = "t0", ifname = "qt0", script = "no", down_script = "no", queues = 2,
        vhost = false, vnet_hdr = true, poll_us = 10, sndbuf = 1048576 } },
      { { "netdev_add", { type = "tap", id = "t0", ifname = "qt0", script = "no", downscript = "no", queues = 2,
          vhost = false, vnet_hdr = true, ["poll-us"] = 10, sndbuf = 1048576 } } } },
    { "netdev_add", { { type = "user", id = "u0", ipv6 = false } },
      { { "netdev_add", { type = "user", id = "u0", ipv6 = false } } } },
    { "netdev_add", { { type = "socket", id = "s0", fd = "sockfd" } },
      { { "netdev_add", { type = "socket", id = "s0", fd = "sockfd" } } } },
    { "netdev_add", { { type = "socket", id = "s1", fd = fd1 } },
      { { "getfd", { fdname = "s1-fd" } }, { "netdev_add", { type = "socket", id = "s1", fd = "s1-fd" } } } },
    { "netdev_add_by_fds", { { id = "t1", fds = { "a", "b" }, vhost_fds = { "c", "d" } } },
      { { "netdev_add", { type = "tap", id = "t1", fds = "a:b", vhost = true, vhostfds = "c:d" } } } },
    { "netdev_add_by_fds", { { id = "t2", fds = { fd1, fd2 } } },
      { { "getfd", { fdname = "t2-fds1" } }, { "getfd", { fdname = "t2-fds2" } },
        { "netdev_add", { type = "tap", id = "t2", fds = "t2-fds1:t2-fds2" } } } },
    { "netdev_chardev_add", { { id = "vu0", chardev = "char0", queues = 2 } },
      { { "netdev_add", { type = "vhost-user", id = "vu0", chardev = "char0", queues = 2 } } } },
    { "netdev_chardev_add", { { id = "vu1", chardev = "char0", queues = 1 } },
      { { "netdev_add", { type = "vhost-user", id = "vu1", chardev = "char0" } } } },
    { "netdev_del", { "t0" }, { { "netdev_del", { id = "t0" } } } },

    { "chardev_unix_socket_add", { { id = "ch0", path = "/tmp/ch0.sock", server = true, wait = false } },
      { { "chardev-add", { id = "ch0", backend = { type = "socket", data = { server = true, wait = false,
          addr = { type = "unix", data = { path = "/tmp/ch0.sock" } } } } } } } },
    { "chardev_unix_socket_add", { { id = "ch1", path = "/tmp/ch0.sock" } },
      { { "chardev-add", { id = "ch1", backend = { type = "socket", data = { server = false,
          addr = { type = "unix", data = { path = "/tmp/ch0.sock" } } } } } } } },
    { "chardev_del", { "ch0" }, { { "chardev-remove", { id = "ch0" } } } },
    { "chardev_remove", { "ch0" }, { { "chardev-remove", { id = "ch0" } } } },
    { "closefd", { "x" }, { { "closefd", { fdname = "x" } } } },

    { "set_migration_caps", { { { capability = "events", state = true } } },
      { { "migrate-set-capabilities", { capabilities = { { capability = "events", state = true } } } } } },
    { "set_migration_caps", { { events = true, auto_converge = false } },
      { { "migrate-set-capabilities", { capabilities = { { capability = "auto-converge", state = false },
          { capability = "events", state = true } } } } } },
    { "migrate_set_capabilities", { { xbzrle = true } },
      { { "migrate-set-capabilities", { capabilities = { { capability = "xbzrle", state = true } } } } } },
    { "migrate_set_parameters", { { downtime_limit = 500, max_bandwidth = 1024 * MiB, xbzrle_cache_size = 64 * MiB } },
      { { "migrate-set-parameters", { ["downtime-limit"] = 500, ["max-bandwidth"] = 1024 * MiB,
          ["xbzrle-cache-size"] = 64 * MiB } } } },
    { "migrate", { "exec:cat > /tmp/m" }, { { "migrate", { uri = "exec:cat > /tmp/m" } } } },
    { "set_migrate_arguments", { "tcp:127.0.0.1:4444" }, { { "migrate", { uri = "tcp:127.0.0.1:4444" } } } },
    { "migrate_incoming", { "tcp:0:4444" }, { { "migrate-incoming", { uri = "tcp:0:4444" } } } },
    { "migration_incoming", { "exec:cat /tmp/m" }, { { "migrate-incoming", { uri = "exec:cat /tmp/m" } } } },

    { "qom_get", { "/machine", "type" }, { { "qom-get", { path = "/machine", property = "type" } } } },
    { "qom_set", { "/machine/peripheral/bal0", "guest-stats-polling-interval", 2 },
      { { "qom-set", { path = "/machine/peripheral/bal0", property = "guest-stats-polling-interval", value = 2 } } } },
    { "dump_guest_memory", { { file = "/tmp/d.elf" } },
      { { "dump-guest-memory", { protocol = "file:/tmp/d.elf", paging = false } } } },
    { "dump_guest_memory", { { protocol = "fd:dumpfd", paging = true, format = "kdump-zlib", detach = true,
        begin = 0, length = 4096 } },
      { { "dump-guest-memory", { protocol = "fd:dumpfd", paging = true, format = "kdump-zlib", detach = true,
          begin = 0, length = 4096 } } } },
    -- the format follows the file name unless given
    { "screendump", { "/tmp/s.png" }, { { "screendump", { filename = "/tmp/s.png", format = "png" } } } },
    { "screendump", { "/tmp/S.PNG" }, { { "screendump", { filename = "/tmp/S.PNG", format = "png" } } } },
    { "screendump", { "/tmp/s.ppm", { device = "vga0", head = 0 } },
      { { "screendump", { filename = "/tmp/s.ppm", device = "vga0", head = 0, format = "ppm" } } } },
    { "screendump", { "/tmp/s", { format = "png", timeout = 5 } }, { { "screendump", { filename = "/tmp/s", format = "png" } } } },
  }
end

-- Runs every case of sends_table through stubs; returns the cases with
-- what they sent.
local function run_sends()
  local r, w = qemu.socketpair()
  local cases = sends_table(r, w)
  for _, c in ipairs(cases) do
    local s = stub()
    local ok, err = pcall(W[c[1]], s, table.unpack(c[2]))
    assert(ok, err)
    c.sent = s.calls
  end
  r:close()
  w:close()
  return cases
end

describe("qemu.qmp sends", function()
  it("exactly these commands and arguments, wrapper by wrapper", function()
    for _, c in ipairs(run_sends()) do
      assert.are.same(c[3], c.sent, c[1])
    end
  end)

  it("version() reads QEMU's version from the greeting, sending nothing", function()
    local s = stub()
    assert.are.same({ major = 7, minor = 2, micro = 22, package = "Debian", capabilities = { "oob" } },
                    W.version(s))
    assert.are.same({}, s.calls)
  end)

  it("hotplug_cpu: the free slot with the lowest ids, with its own props", function()
    local s = stub({ ["query-hotpluggable-cpus"] = {
      { type = "qemu64-x86_64-cpu", ["vcpus-count"] = 1, props = { ["socket-id"] = 1, ["core-id"] = 0, ["thread-id"] = 0 } },
      { type = "qemu64-x86_64-cpu", ["vcpus-count"] = 1, props = { ["socket-id"] = 0, ["core-id"] = 1, ["thread-id"] = 0 } },
      { type = "qemu64-x86_64-cpu", ["vcpus-count"] = 1, ["qom-path"] = "/machine/unattached/device[0]",
        props = { ["socket-id"] = 0, ["core-id"] = 0, ["thread-id"] = 0 } },
    } })
    local slot = W.hotplug_cpu(s, { id = "cpu1" })
    assert.are.same({ ["socket-id"] = 0, ["core-id"] = 1, ["thread-id"] = 0 }, slot.props)
    assert.are.same({ { "query-hotpluggable-cpus" }, { "device_add", { driver = "qemu64-x86_64-cpu", id = "cpu1",
      ["socket-id"] = 0, ["core-id"] = 1, ["thread-id"] = 0 } } }, s.calls)
  end)

  it("memdev_add and nvdimm_device_add remove the backend again when device_add fails", function()
    local refuse = { device_add = function() return nil, { class = "GenericError", desc = "no" } end }
    local s = stub(refuse)
    local r, err = W.memdev_add(s, { id = "m1", size = "1G", driver = "pc-dimm", driver_id = "d1" })
    assert.is_nil(r)
    assert.are.equal("no", err.desc)
    assert.are.same({ "object-del", { id = "m1" } }, s.calls[3])
    s = stub(refuse)
    W.nvdimm_device_add(s, { id = "nv0", mem_path = "/x", size = "16M" })
    assert.are.same({ "object-del", { id = "nvdimmbackmemnv0" } }, s.calls[3])
  end)

  it("netdev_add and pci_vsock_add close the descriptors they passed when QEMU refuses", function()
    local r, w = qemu.socketpair()
    finally(function() r:close(); w:close() end)
    local refuse = function() return nil, { class = "GenericError", desc = "no" } end
    local s = stub({ netdev_add = refuse })
    assert.is_nil(W.netdev_add_by_fds(s, { id = "t0", fds = { r, w } }))
    assert.are.same({ { "getfd", { fdname = "t0-fds1" } }, { "getfd", { fdname = "t0-fds2" } },
      { "netdev_add", { type = "tap", id = "t0", fds = "t0-fds1:t0-fds2" } },
      { "closefd", { fdname = "t0-fds1" } }, { "closefd", { fdname = "t0-fds2" } } }, s.calls)
    s = stub({ device_add = refuse })
    assert.is_nil(W.pci_vsock_add(s, { id = "vs0", guest_cid = 3, vhostfd = r }))
    assert.are.same({ "closefd", { fdname = "vs0-vhostfd" } }, s.calls[3])
  end)

  it("only commands, members and device properties that QEMU 7.2 has, typed as its schema says", function()
    local vm, qmp = launch(CONTROLLERS, true)
    local schema = assert(qmp:query_qmp_schema())
    local by = names_of(schema)
    local commands = names_of(assert(qmp:query_commands()))

    -- the members of object type t, with those of the variant value selects
    local function members(t, value, out)
      local e = by[t]
      for _, m in ipairs(e.members) do out[m.name] = m end
      if e.variants then
        for _, v in ipairs(e.variants) do
          if v.case == value[e.tag] then members(v.type, value, out) end
        end
      end
      return out
    end
    -- nil if value fits type t, else why not
    local function check(t, value, path)
      local e = by[t]
      local mt = e["meta-type"]
      if mt == "builtin" then
        local jt = e["json-type"]
        local ok = jt == "value" or (jt == "string" and type(value) == "string")
          or (jt == "int" and math.type(value) == "integer") or (jt == "number" and type(value) == "number")
          or (jt == "boolean" and type(value) == "boolean") or (jt == "null" and value == qemu.null)
        return not ok and ("%s: %s expected, got %s"):format(path, jt, type(value)) or nil
      elseif mt == "enum" then
        for _, m in ipairs(e.members or {}) do if m.name == value then return nil end end
        for _, n in ipairs(e.values or {}) do if n == value then return nil end end
        return ("%s: '%s' is not one of the enum's values"):format(path, tostring(value))
      elseif mt == "array" then
        if type(value) ~= "table" then return path .. ": list expected" end
        for i, x in ipairs(value) do
          local why = check(e["element-type"], x, ("%s[%d]"):format(path, i))
          if why then return why end
        end
      elseif mt == "alternate" then
        for _, m in ipairs(e.members) do
          if not check(m.type, value, path) then return nil end
        end
        return path .. ": fits no branch of the alternate"
      elseif mt == "object" then
        if type(value) ~= "table" then return path .. ": object expected" end
        local ms = members(t, value, {})
        for k, x in pairs(value) do
          if not ms[k] then return ("%s: QEMU has no member '%s'"):format(path, k) end
          local why = check(ms[k].type, x, path .. "." .. k)
          if why then return why end
        end
        for name, m in pairs(ms) do
          if m.default == nil and value[name] == nil then return ("%s: '%s' is missing"):format(path, name) end
        end
      end
    end

    local props_of, unknown_drivers = {}, {}
    for _, c in ipairs(run_sends()) do
      for _, call in ipairs(c.sent) do
        local cmd, args = call[1], call[2] or {}
        if not cmd:match("^wait_event ") then
          assert.is_truthy(commands[cmd], ("%s sends '%s', which QEMU 7.2 does not have"):format(c[1], cmd))
          local entry = by[cmd]
          if cmd == "device_add" then
            -- free-form in the schema: driver, bus, id, then the device's properties
            local driver = args.driver
            if props_of[driver] == nil then
              local list = qmp:execute("device-list-properties", { typename = driver })
              props_of[driver] = list and names_of(list) or false
            end
            if props_of[driver] then
              for k in pairs(args) do
                assert.is_truthy(k == "driver" or k == "bus" or k == "id" or props_of[driver][k] or k == "x-foo",
                  ("%s: device '%s' has no property '%s'"):format(c[1], driver, k))
              end
            else
              unknown_drivers[driver] = true
            end
          else
            local why = check(entry["arg-type"], args, cmd)
            assert.is_nil(why, c[1] .. ": " .. tostring(why))
          end
        end
      end
    end
    -- only the s390x devices are unknown to qemu-system-x86_64
    assert.are.same({ ["virtio-net-ccw"] = true, ["vfio-ap"] = true }, unknown_drivers)
  end)

  it("nothing govmm used that QEMU has removed (checked with query-commands)", function()
    local vm, qmp = launch()
    local commands = names_of(assert(qmp:query_commands()))
    -- removed: x-blockdev-del (2.9), cpu-add (5.2), query-cpus, migrate_set_speed,
    -- migrate_set_downtime, migrate-set-cache-size, query-events, change (6.0)
    for _, gone in ipairs({ "x-blockdev-del", "cpu-add", "query-cpus", "migrate_set_speed",
                            "migrate_set_downtime", "migrate-set-cache-size", "query-migrate-cache-size",
                            "query-events", "change" }) do
      assert.is_nil(commands[gone], gone)
    end
    -- and their replacements are there
    for _, cmd in ipairs({ "blockdev-del", "device_add", "query-hotpluggable-cpus", "query-cpus-fast",
                           "migrate-set-parameters", "query-migrate-parameters", "query-qmp-schema",
                           "blockdev-change-medium" }) do
      assert.is_truthy(commands[cmd], cmd)
    end
  end)
end)

-- ---- 3. against the real QEMU -------------------------------------------------------

describe("qemu.qmp against QEMU 7.2 (q35, TCG, no guest)", function()
  it("version, query_version, status, qmp_capabilities", function()
    local vm, qmp = launch()
    local v = assert(qmp:version())
    local qv = assert(qmp:query_version())
    assert.are.equal(qv.qemu.major, v.major)
    assert.are.equal(qv.qemu.minor, v.minor)
    assert.are.equal(qv.qemu.micro, v.micro)
    assert.are.equal(qv.package, v.package)
    assert.is_table(v.capabilities)
    local st = assert(qmp:status())
    assert.are.same({ status = "prelaunch", running = false, singlestep = false }, st)
    assert.are.same(st, qmp:query_status())
    -- qlua negotiated already; QEMU says so
    refused("CommandNotFound", "^Capabilities negotiation is already complete", qmp:qmp_capabilities())
  end)

  it("cont and stop: RESUME and STOP, running and paused", function()
    local vm, qmp = launch()
    assert.are.same({}, qmp:cont())
    assert(qmp:wait_event("RESUME", { timeout = 10 }))
    assert.are.equal("running", qmp:status().status)
    assert.is_true(qmp:status().running)
    assert.are.same({}, qmp:stop({ timeout = 10 }))
    assert(qmp:wait_event("STOP", { timeout = 10 }))
    assert.are.equal("paused", qmp:status().status)
  end)

  it("blockdev_add, the cache variants and blockdev_del, with a raw temporary file", function()
    local d = H.tmpdir()
    local img = d .. "/disk,1.img"
    assert(os.execute("truncate -s 1M " .. q(img)))
    local vm, qmp = launch()
    assert.are.same({}, qmp:blockdev_add{ node_name = "hd0", filename = img, read_only = true,
      cache = { direct = false, no_flush = true }, discard = "unmap", detect_zeroes = "off", timeout = 10 })
    assert.are.same({}, qmp:blockdev_add_with_driver_cache{ driver = "file", node_name = "hd1",
      filename = img, direct = false, no_flush = false, read_only = true })
    local nodes = names_of(assert(qmp:query_named_block_nodes()), "node-name")
    assert.is_truthy(nodes.hd0)
    assert.is_true(nodes.hd0.ro)
    assert.are.equal("raw", nodes.hd0.drv)
    assert.are.equal(img, nodes.hd0.file)
    assert.is_true(nodes.hd0.cache["no-flush"])
    assert.is_truthy(nodes.hd1)
    -- govmm's default protocol driver, host_device, is for block devices
    refused("GenericError", "'host_device' driver requires '.*' to be either a character or block device",
      qmp:blockdev_add_with_cache{ node_name = "hd2", filename = img, direct = false, no_flush = false })
    assert.are.same({}, qmp:blockdev_del("hd0"))
    assert.are.same({}, qmp:blockdev_del("hd1", { timeout = 10 }))
    assert.is_nil(names_of(assert(qmp:query_named_block_nodes()), "node-name").hd0)
    refused("GenericError", "Failed to find node with node%-name='hd0'", qmp:blockdev_del("hd0"))
  end)

  it("pci_device_add (PCIe, on a root port) and device_del's timeout: PCI unplug waits for the guest", function()
    local d = H.tmpdir()
    local img = d .. "/disk.img"
    assert(os.execute("truncate -s 1M " .. q(img)))
    local vm, qmp = rich()
    assert.are.same({}, qmp:blockdev_add{ node_name = "hd0", filename = img })
    assert.are.same({}, qmp:pci_device_add{ drive = "hd0", id = "vd0", driver = "virtio-blk-pci", bus = "rp1",
      addr = "0x0", queues = 2, share_rw = true, disable_modern = false, romfile = "" })
    assert.are.equal(2, qmp:qom_get("/machine/peripheral/vd0", "num-queues"))
    assert.is_true(qmp:qom_get("/machine/peripheral/vd0", "share-rw"))
    -- pcie.0 takes no hotplug (on q35 a device goes on a root port)
    assert.are.same({}, qmp:blockdev_add{ node_name = "hd1", filename = img, read_only = true })
    refused("GenericError", "^Bus 'pcie.0' does not support hotplugging",
      qmp:device_add{ driver = "virtio-blk-pci", id = "vd1", drive = "hd1" })
    local t0 = now()
    local r, err = qmp:device_del("vd0", { timeout = 2 })
    local took = now() - t0
    refused("Timeout", "^device 'vd0' was not removed within 2 s %(no DEVICE_DELETED event", r, err)
    assert.is_true(took >= 1.8 and took < 10, tostring(took))
    -- QEMU accepted the request and is waiting for the guest
    refused("GenericError", "in the process of unplug", qmp:device_del("vd0", { timeout = 2 }))
    -- a device that does not exist: QEMU's refusal, at once
    refused("DeviceNotFound", "^Device 'nope' not found", qmp:device_del("nope"))
  end)

  it("device_add and device_del of devices that leave without the guest: USB, SCSI, virtio-serial", function()
    local d = H.tmpdir()
    local img = d .. "/disk.img"
    assert(os.execute("truncate -s 1M " .. q(img)))
    local vm, qmp = rich()
    -- USB
    assert.are.same({}, qmp:device_add{ driver = "usb-tablet", id = "tab0", bus = "xhci.0" })
    local ev = assert(qmp:device_del("tab0", { timeout = 10 }))
    assert.are.equal("DEVICE_DELETED", ev.event)
    assert.are.same({ device = "tab0", path = "/machine/peripheral/tab0" }, ev.data)
    -- SCSI
    assert.are.same({}, qmp:blockdev_add{ node_name = "hd0", filename = img })
    assert.are.same({}, qmp:scsi_device_add{ drive = "hd0", id = "sd0", driver = "scsi-hd", bus = "scsi0.0",
      scsi_id = 1, lun = 0, share_rw = false })
    assert.are.equal(1, qmp:qom_get("/machine/peripheral/sd0", "scsi-id"))
    ev = assert(qmp:device_del("sd0", { timeout = 10 }))
    assert.are.equal("sd0", ev.data.device)
    assert.are.same({}, qmp:blockdev_del("hd0"))
    -- virtio-serial: chardev_unix_socket_add (server) + virt_serial_port_add
    local sock = d .. "/port0.sock"
    assert.are.same({}, qmp:chardev_unix_socket_add{ id = "ch0", path = sock, server = true, wait = false })
    assert.are.same({}, qmp:virt_serial_port_add{ id = "port0", name = "org.qlua.port0", chardev = "ch0",
      bus = "vser0.0" })
    assert.are.equal("org.qlua.port0", qmp:qom_get("/machine/peripheral/port0", "name"))
    ev = assert(qmp:device_del("port0", { timeout = 10 }))
    assert.are.equal("port0", ev.data.device)
    assert.are.same({}, qmp:chardev_del("ch0"))
  end)

  it("chardev_unix_socket_add as server and as client, query_chardev, chardev_del", function()
    local d = H.tmpdir()
    local sock = d .. "/ch0.sock"
    local vm, qmp = launch()
    assert.are.same({}, qmp:chardev_unix_socket_add{ id = "ch0", path = sock, server = true, wait = false })
    assert.is_true(exists(sock) or H.sh("test -S " .. q(sock)) == 0)
    -- a client, connecting to QEMU's own server socket
    assert.are.same({}, qmp:chardev_unix_socket_add{ id = "ch1", path = sock, timeout = 10 })
    local chardevs = names_of(assert(qmp:query_chardev()), "label")
    assert.is_truthy(chardevs.ch0.filename:find("server=on", 1, true))
    assert.are.equal("unix:", chardevs.ch1.filename:sub(1, 5))
    assert.are.same({}, qmp:chardev_del("ch1"))
    assert.are.same({}, qmp:chardev_remove("ch0"))
    refused("GenericError", "^Chardev 'ch0' not found", qmp:chardev_del("ch0"))
    -- a client with nobody listening: QEMU's refusal
    refused("GenericError", "Failed to connect to '.*nobody.sock'",
      qmp:chardev_unix_socket_add{ id = "ch2", path = d .. "/nobody.sock" })
  end)

  it("netdev_add and netdev_del: user; socket on a descriptor passed with getfd or by the wrapper", function()
    local vm, qmp = rich()
    assert.are.same({}, qmp:netdev_add{ type = "user", id = "u0", ipv6 = false })
    assert.are.same({}, qmp:net_pci_device_add{ netdev = "u0", id = "nic0", mac = "52:54:00:12:34:56",
      bus = "rp3", addr = "0x0", queues = 2, romfile = "", disable_modern = false })
    assert.is_true(qmp:qom_get("/machine/peripheral/nic0", "mq"))
    assert.are.equal(6, qmp:qom_get("/machine/peripheral/nic0", "vectors"))
    assert.are.equal("52:54:00:12:34:56", qmp:qom_get("/machine/peripheral/nic0", "mac"))
    -- qmp:getfd (govmm ExecuteGetFD) with a qemu.fd, then netdev_add by name
    local a, b = qemu.socketpair()
    local c, e = qemu.socketpair()
    finally(function() a:close(); b:close(); c:close(); e:close() end)
    assert.is_true(qmp:getfd("sock0", a))
    assert.are.same({}, qmp:netdev_add{ type = "socket", id = "s0", fd = "sock0" })
    -- the name was used up by netdev_add
    refused("GenericError", "File descriptor named 'sock0' not found", qmp:closefd("sock0"))
    -- a qemu.fd given to the wrapper is passed as "<id>-fd"
    assert.are.same({}, qmp:netdev_add{ type = "socket", id = "s1", fd = c, timeout = 10 })
    assert.are.same({}, qmp:netdev_del("s0"))
    assert.are.same({}, qmp:netdev_del("s1"))
    assert.are.same({}, qmp:netdev_del("u0", { timeout = 10 }))
    refused("DeviceNotFound", "^Device 'u0' not found", qmp:netdev_del("u0"))
    -- typed members: vhost is a JSON boolean for QEMU 7.2
    refused("GenericError", "^Invalid parameter type for 'vhost', expected: boolean",
      qmp:netdev_add{ type = "tap", id = "t0", vhost = "on" })
  end)

  it("netdev_add (tap by name) and netdev_add_by_fds (qemu.tap queues), in a network namespace", function()
    local script = H.script([[
      local qemu = require "qemu"
      require "qemu.qmp"
      local desc = ]] .. ([[{ machine = { type = "q35", accel = "tcg" }, knobs = { no_defaults = true,
        stopped = true }, extra_args = { "-display", "none" } }]]) .. [[
      local vm = qemu.launch(desc, { stderr = "capture" })
      local qmp = vm.qmp
      -- asserts a {} return
      local function done(got, err) assert(got ~= nil, tostring(err)) assert(next(got) == nil) end
      done(qmp:netdev_add{ type = "tap", id = "t0", ifname = "qt0", script = "no", down_script = "no",
        queues = 2, vnet_hdr = true, vhost = false })
      done(qmp:netdev_add_by_fds{ id = "t1", fds = qemu.tap("qt1") })
      done(qmp:netdev_add_by_fds{ id = "t2", fds = qemu.tap("qt2", { queues = 2, vnet_hdr = true }) })
      local a = qemu.tap("qt3")
      assert(qmp:getfd("tapfd", a[1]))
      done(qmp:netdev_add_by_fds{ type = "tap", id = "t3", fds = { "tapfd" } })
      done(qmp:netdev_del("t1"))
      -- a socketpair is no tap: QEMU's refusal
      local s1, s2 = qemu.socketpair()
      local r, err = qmp:netdev_add_by_fds{ id = "t4", fds = { s1 } }
      assert(r == nil and err.class == "GenericError", tostring(err))
      print(err.desc)
      done(qmp:quit())
      local st = vm:wait(10)
      assert(st and st.code == 0, vm:stderr())
      io.write(vm:stderr())
    ]])
    local out
    H.in_netns(function(ns)
      local code, o, err = H.sh(("ip netns exec %s lua5.4 -e %s %s"):format(ns,
        q(("package.path = %q; package.cpath = %q"):format(H.root .. "/lua/?.lua;" .. package.path,
          H.root .. "/?.so;" .. package.cpath)), q(script)))
      assert.are.equal("", err)
      assert.are.equal(0, code)
      out = o
    end)
    -- QEMU's refusal of the socketpair, and nothing on QEMU's stderr
    assert.is_truthy(out:match("^Unable to query TUNGETIFF on FD %d+: Inappropriate ioctl for device\n$"), out)
  end)

  it("cpu_device_add with the props query_hotpluggable_cpus gives, query_cpus_fast, hotplug_cpu", function()
    local vm, qmp = launch()
    local slots = assert(qmp:query_hotpluggable_cpus())
    assert.are.equal(2, #slots)
    local free
    for _, s in ipairs(slots) do
      if not s["qom-path"] then free = s end
    end
    assert.is_table(free)
    assert.are.same({}, qmp:cpu_device_add{ driver = free.type, id = "cpu1", socket_id = free.props["socket-id"],
      core_id = free.props["core-id"], thread_id = free.props["thread-id"], node_id = free.props["node-id"] })
    local cpus = assert(qmp:query_cpus_fast())
    assert.are.equal(2, #cpus)
    assert.are.equal("/machine/peripheral/cpu1", cpus[2]["qom-path"])
    assert.are.equal("x86_64", cpus[2].target)
    -- every slot is taken now
    refused("GenericError", "^no free CPU slot %(all 2 are in use%)", qmp:hotplug_cpu{ id = "cpu2" })
    -- a CPU outside the topology: QEMU's refusal
    refused("GenericError", "^Invalid CPU socket%-id: 1 must be in range 0:0",
      qmp:cpu_device_add{ driver = free.type, id = "cpu9", socket_id = 1, core_id = 0, thread_id = 0 })

    -- hotplug_cpu on a fresh VM picks the free slot itself
    local vm2, qmp2 = launch()
    local slot = assert(qmp2:hotplug_cpu{ id = "cpu1", timeout = 10 })
    assert.are.equal(1, slot.props["core-id"])
    assert.are.equal(2, #qmp2:query_cpus_fast())
  end)

  it("hotplug_memory (pc-dimm), memdev_add, query_memory_devices; a failed device_add leaves no backend", function()
    local d = H.tmpdir()
    local vm, qmp = launch()
    assert.are.same({}, qmp:hotplug_memory{ id = "m1", size = "128M" })
    local path = d .. "/mem2"
    assert.are.same({}, qmp:memdev_add{ qom_type = "memory-backend-file", id = "m2", size = 64 * 1024 * 1024,
      mem_path = path, share = true, driver = "pc-dimm", driver_id = "dimm2", timeout = 20 })
    local devs = assert(qmp:query_memory_devices())
    assert.are.equal(2, #devs)
    local byid = {}
    for _, m in ipairs(devs) do byid[m.data.id] = m end
    assert.are.equal("dimm", byid.dimmm1.type)
    assert.are.equal(128 * 1024 * 1024, byid.dimmm1.data.size)
    assert.are.equal("/objects/m1", byid.dimmm1.data.memdev)
    assert.is_true(byid.dimmm1.data.hotplugged)
    assert.are.equal(64 * 1024 * 1024, byid.dimm2.data.size)
    -- no slot left: device_add fails and the backend goes again
    refused("GenericError", "", qmp:hotplug_memory{ id = "m3", size = "128M" })
    local objects = names_of(assert(qmp:execute("qom-list", { path = "/objects" })))
    assert.is_truthy(objects.m1)
    assert.is_nil(objects.m3)
    -- memory is the pc-dimm's: object_del refuses while it is plugged
    refused("GenericError", "is in use", qmp:object_del("m1"))
  end)

  it("nvdimm_device_add (machine nvdimm = on)", function()
    local d = H.tmpdir()
    local file = d .. "/nv0.img"
    assert(os.execute("truncate -s 16M " .. q(file)))
    local vm, qmp = launch(nil, true)
    assert.are.same({}, qmp:nvdimm_device_add{ id = "nv0", mem_path = file, size = "16M", pmem = false })
    local devs = assert(qmp:query_memory_devices())
    assert.are.equal(1, #devs)
    assert.are.equal("nvdimm", devs[1].type)
    assert.are.equal("nvdimmnv0", devs[1].data.id)
    assert.are.equal("/objects/nvdimmbackmemnv0", devs[1].data.memdev)
    -- without nvdimm = on, QEMU refuses
    local vm2, qmp2 = launch()
    refused("GenericError", "nvdimm is not enabled", qmp2:nvdimm_device_add{ id = "nv0", mem_path = file, size = "16M" })
  end)

  it("balloon, query_balloon, qom_get and qom_set (virtio-balloon)", function()
    local vm, qmp = rich()
    assert.are.same({}, qmp:balloon("128M"))
    -- no guest driver: the balloon stays where it was
    assert.are.same({ actual = 256 * 1024 * 1024 }, qmp:query_balloon())
    assert.are.equal(0, qmp:qom_get("/machine/peripheral/bal0", "guest-stats-polling-interval"))
    assert.are.same({}, qmp:qom_set("/machine/peripheral/bal0", "guest-stats-polling-interval", 2))
    assert.are.equal(2, qmp:qom_get("/machine/peripheral/bal0", "guest-stats-polling-interval", { timeout = 10 }))
    assert.are.equal("pc-q35-7.2-machine", qmp:qom_get("/machine", "type"))
    refused("DeviceNotFound", "^Device '/machine/peripheral/nope' not found",
      qmp:qom_get("/machine/peripheral/nope", "type"))
    -- without a balloon device
    local vm2, qmp2 = launch()
    refused("DeviceNotActive", "^No balloon device has been activated", qmp2:balloon(128 * 1024 * 1024))
  end)

  it("dump_guest_memory to a file (ELF) and by protocol (kdump-zlib), query_dump", function()
    local d = H.tmpdir()
    local vm, qmp = launch()
    local elf = d .. "/core.elf"
    assert.are.same({}, qmp:dump_guest_memory{ file = elf, timeout = 60 })
    assert.are.equal("\127ELF", H.slurp(elf):sub(1, 4))
    assert(qmp:wait_event("DUMP_COMPLETED", { timeout = 10 }))
    local kdump = d .. "/core.kdump"
    assert.are.same({}, qmp:dump_guest_memory{ protocol = "file:" .. kdump, paging = false, format = "kdump-zlib",
      timeout = 60 })
    -- QEMU writes kdump in makedumpfile's flattened format
    assert.are.equal("makedumpfile", H.slurp(kdump):sub(1, 12))
    assert.are.equal("completed", qmp:query_dump().status)
  end)

  it("screendump: PNG and PPM of the display; QEMU's refusal without a display device", function()
    local d = H.tmpdir()
    local vm, qmp = launch({ "-vga", "std" })
    assert.are.same({}, qmp:screendump(d .. "/screen.png"))
    assert.are.equal("\137PNG\r\n\26\n", H.slurp(d .. "/screen.png"):sub(1, 8))
    assert.are.same({}, qmp:screendump(d .. "/screen.ppm", { timeout = 30 }))
    assert.are.equal("P6\n640 480\n255\n", H.slurp(d .. "/screen.ppm"):sub(1, 15))
    assert.are.same({}, qmp:screendump(d .. "/screen", { format = "png" }))
    assert.are.equal("\137PNG", H.slurp(d .. "/screen"):sub(1, 4))
    local vm2, qmp2 = launch()
    local r, err = qmp2:screendump(d .. "/none.png")
    assert.is_nil(r)
    assert.are.equal("GenericError: There is no console to take a screendump from", tostring(err))
    assert.is_nil(io.open(d .. "/none.png"))
  end)

  it("migration: set_migration_caps, migrate_set_parameters, migrate to a file, migrate_incoming", function()
    local d = H.tmpdir()
    local file = d .. "/state.bin"
    local src, sq = launch()
    local dst, dq = launch({ "-incoming", "defer" })
    assert.are.equal("inmigrate", dq:status().status)
    assert.are.same({}, sq:set_migration_caps{ events = true })
    local caps = names_of(assert(sq:query_migrate_capabilities()), "capability")
    assert.is_true(caps.events.state)
    assert.are.same({}, sq:migrate_set_parameters{ downtime_limit = 500, max_bandwidth = 1 << 30 })
    assert.are.equal(500, sq:query_migrate_parameters()["downtime-limit"])
    assert.are.same({}, sq:migrate("exec:cat > " .. q(file)))
    -- the "events" capability at work: MIGRATION events
    assert(sq:wait_event("MIGRATION", { timeout = 60, data = { status = "completed" } }))
    local r = assert(sq:wait_migration{ timeout = 60 })
    assert.are.equal("completed", r.status)
    assert.is_true(r.ram.transferred > 0)
    assert.are.equal("completed", sq:query_migration().status)
    assert.is_false(sq:status().running)  -- finish-migrate, then postmigrate
    assert.are.same({}, dq:migrate_incoming("exec:cat " .. q(file)))
    r = assert(dq:wait_migration{ timeout = 60 })
    assert.are.equal("completed", r.status)
    assert.are_not.equal("inmigrate", dq:status().status)
    assert.are.same({}, dq:cont())
    assert.are.equal("running", dq:status().status)
    -- QEMU refuses a second incoming migration
    refused("GenericError", "", dq:migrate_incoming("exec:cat " .. q(file)))
  end)

  it("wait_migration reports a failed migration with QEMU's reason", function()
    local vm, qmp = launch()
    assert.are.same({}, qmp:migrate("exec:exit 3"))
    refused("GenericError", "^migration failed", qmp:wait_migration{ timeout = 60 })
  end)

  it("pci_vsock_add: QEMU's refusal without /dev/vhost-vsock, and with a descriptor that is not one", function()
    if exists("/dev/vhost-vsock") then
      local vm, qmp = rich()
      assert.are.same({}, qmp:pci_vsock_add{ id = "vs0", guest_cid = 3, bus = "rp2" })
      return
    end
    local vm, qmp = rich()
    refused("GenericError", "^vhost%-vsock: failed to open vhost device: No such file or directory",
      qmp:pci_vsock_add{ id = "vs0", guest_cid = 3, bus = "rp2", addr = "0x0", disable_modern = false })
    local null = qemu.open("/dev/null", "rw")
    finally(function() null:close() end)
    refused("GenericError", "^vhost_set_owner failed: Inappropriate ioctl for device",
      qmp:pci_vsock_add{ id = "vs0", guest_cid = 3, bus = "rp2", vhostfd = null })
    refused("GenericError", "", qmp:closefd("vs0-vhostfd"))  -- nothing left behind
  end)

  it("VFIO wrappers: QEMU's refusal without the host device", function()
    local vm, qmp = rich()
    refused("GenericError", "^vfio /sys/bus/pci/devices/0000:ff:1f.7: no such host device",
      qmp:vfio_device_add{ id = "vf0", host = "0000:ff:1f.7", bus = "rp1", romfile = "" })
    refused("GenericError", "^vfio /sys/bus/pci/devices/0000:ff:1f.7: no such host device",
      qmp:pci_vfio_device_add{ id = "vf0", host = "0000:ff:1f.7", addr = "0x0", bus = "rp1" })
    refused("GenericError", "^vfio /sys/bus/mdev/devices/83b8f4f2%-509f%-382f%-3c1e%-e6bfe0fa1001: no such host device",
      qmp:pci_vfio_mediated_device_add{ id = "vf1", sysfsdev = "/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
        bus = "rp1" })
    -- s390x-only devices are no device models of qemu-system-x86_64
    refused("GenericError", "^'vfio%-ap' is not a valid device model name",
      qmp:ap_vfio_mediated_device_add{ sysfsdev = "/sys/devices/vfio_ap/matrix/x" })
    refused("GenericError", "^'virtio%-net%-ccw' is not a valid device model name",
      qmp:net_ccw_device_add{ netdev = "n0", id = "nic0", devno = "fe.0.0001" })
  end)

  it("vhost-user wrappers: QEMU's refusal without the chardev", function()
    local vm, qmp = rich()
    refused("GenericError", "^Property 'vhost%-user%-blk.chardev' can't find value 'nochar'",
      qmp:pci_vhost_user_dev_add{ driver = "vhost-user-blk-pci", id = "vub0", chardev = "nochar", bus = "rp2" })
    refused("GenericError", "^chardev \"nochar\" not found",
      qmp:netdev_chardev_add{ id = "vu0", chardev = "nochar", queues = 2 })
  end)

  it("powerdown: POWERDOWN but no SHUTDOWN without a guest: the timeout path", function()
    local vm, qmp = rich()
    local t0 = now()
    local r, err = qmp:powerdown{ timeout = 2 }
    local took = now() - t0
    refused("Timeout", "^no SHUTDOWN event within 2 s of system_powerdown", r, err)
    assert.is_true(took >= 1.8 and took < 10, tostring(took))
    assert(qmp:wait_event("POWERDOWN", { timeout = 5 }))
    assert.is_true(vm:alive())
  end)

  it("powerdown: ends with QEMU's SHUTDOWN (SIGTERM), or with QEMU's exit (SIGKILL)", function()
    local vm, qmp = launch()
    assert(os.execute(("(sleep 0.5; kill -TERM %d) &"):format(vm.pid)))
    local ev = assert(qmp:powerdown{ timeout = 20 })
    assert.are.equal("SHUTDOWN", ev.event)
    assert.are.same({ guest = false, reason = "host-signal" }, ev.data)
    assert.are.equal(0, vm:wait(10).code)

    local vm2, qmp2 = launch()
    assert(os.execute(("(sleep 0.5; kill -KILL %d) &"):format(vm2.pid)))
    local r = assert(qmp2:system_powerdown{ timeout = 20 })
    assert.is_true(r.exited)
    -- whichever qlua noticed first: the exit or the closed channel
    assert.is_truthy(r.desc:find("QEMU exited (signal 9)", 1, true)
      or r.desc:find("QMP connection closed by QEMU", 1, true), r.desc)
    assert.are.equal(9, vm2:wait(10).signal)
  end)

  it("quit: QEMU exits 0", function()
    local vm, qmp = launch()
    assert.are.same({}, qmp:quit())
    assert.are.equal(0, vm:wait(10).code)
    refused("Disconnected", "^QEMU exited", qmp:status())
  end)

  it("works on a qemu.qmp_connect object too", function()
    local d = H.tmpdir()
    local sock = d .. "/qmp.sock"
    local vm = launch({ "-qmp", "unix:" .. sock .. ",server=on,wait=off" })
    local conn
    for _ = 1, 100 do
      conn = qemu.qmp_connect(sock, { timeout = 10 })
      if conn then break end
      vm.qmp:status()  -- lets QEMU come up (and the loop run)
    end
    assert(conn, "cannot connect")
    finally(function() conn:close() end)
    assert.are.equal("prelaunch", conn:status().status)
    assert.are.same({}, conn:cont())
    assert.are.equal("running", conn:query_status().status)
  end)
end)

describe("qemu.qmp: what this machine cannot show", function()
  pending("device_del's success for a PCI/PCIe device: the guest must release it (end-to-end guest tests)")
  pending("powerdown's success by the guest's ACPI handling, SHUTDOWN with reason guest-shutdown (guest tests)")
  pending("pci_vsock_add's success: no /dev/vhost-vsock here (needs the vhost_vsock module)")
  pending("netdev_add_by_fds with vhost_fds / vhost = true: no /dev/vhost-net here; with a descriptor that is not "
    .. "vhost-net QEMU 7.2 aborts (net_client_init1: Assertion `nc' failed) instead of refusing")
  pending("vfio_device_add, pci_vfio_device_add, pci_vfio_mediated_device_add success: no VFIO device here")
  pending("net_ccw_device_add, ap_vfio_mediated_device_add success: s390x only (no qemu-system-s390x here)")
  pending("pci_vhost_user_dev_add, netdev_chardev_add success: need a running vhost-user backend (blk / net)")
  pending("balloon actually moving: needs the guest's virtio-balloon driver")
end)
