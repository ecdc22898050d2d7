-- qemu.qmp - named QMP wrappers: govmm's QMP command set, for QEMU 7.2.
--
--   local qemu = require "qemu"
--   local vm = qemu.launch(desc)      -- no require needed: the first method a
--                                     -- QMP object lacks loads this module
--                                     -- (lqmp.c), which adds them all
--   print(vm.qmp:status().status)     -- "prelaunch", "running", ...
--   assert(vm.qmp:device_del("vd0", { timeout = 5 }))
--
-- Every wrapper is a method of the QMP objects (vm.qmp, qemu.qmp_connect):
-- the module adds them to qemu.qmp_methods and also returns them as a table
-- of functions (M.stop(qmp) is qmp:stop()).
--
-- Calling conventions, the same for all:
--   * A wrapper with several arguments takes one table of named options,
--     snake_case (node_name, share_rw, guest_cid...), and reads `timeout`
--     (seconds) from that table.  A wrapper with one or two plain arguments
--     takes an optional last table { timeout = s }.  Without a timeout,
--     a wrapper waits as long as qmp:execute does (30 s).  A timeout covers
--     the whole wrapper, all its commands and the event it waits for.
--   * Each wrapper returns what qmp:execute returns: QEMU's `return` value
--     as Lua data, or nil and an error value (err.class, err.desc; it
--     prints as "class: desc").  QEMU's refusals keep QEMU's class and text
--     (GenericError, DeviceNotFound, CommandNotFound, DeviceNotActive...);
--     qlua adds Timeout and Disconnected.  The wrappers that wait for an
--     event (device_del, powerdown) return that event on success.
--   * A wrong argument (a missing id, a string where an integer belongs, an
--     unknown option name) is a programming error: it raises, naming the
--     wrapper, before anything is sent.
--   * Sizes are integers (bytes) or strings with a binary suffix: "512M",
--     "1G", "64K".
--   * Descriptor arguments (fds, vhost_fds, vhostfd) take the names of
--     descriptors already passed with qmp:getfd(name, fd), or qemu.fd
--     objects, which the wrapper passes with getfd itself (named after the
--     device or netdev id) before the command.
--
-- What is sent is what QEMU 7.2's QMP schema wants (query-qmp-schema):
-- blockdev-add with node-name and a nested file node, netdev_add with typed
-- members (fds as "a:b", vhost as a JSON boolean), object-add with its
-- properties at the top level (no "props"), chardev sockets with `wait`
-- only in server mode, query-cpus-fast instead of the removed query-cpus.
local qemu = require "qemu"

local M = {}

M.default_timeout = 30   -- the same as qmp:execute's own default

---------------------------------------------------------------------------
-- helpers
---------------------------------------------------------------------------

-- A monotonic clock (seconds, 10 ms steps) for timeouts that span several
-- commands.  /proc/uptime is Linux's, like the rest of qlua.
local function now()
  local f = io.open("/proc/uptime", "r")
  if f then
    local t = f:read("n")
    f:close()
    if t then return t end
  end
  return os.time()
end

local function deadline(timeout)
  return now() + (timeout or M.default_timeout)
end

local function left(dl)
  local r = dl - now()
  return { timeout = r > 0 and r or 0 }
end

-- Error values like qmp:execute's (same metatable, so they print the same).
local ERROR_MT = (debug and debug.getregistry and debug.getregistry()["qemu.error"])
  or { __tostring = function(e) return tostring(e.class) .. ": " .. tostring(e.desc) end }

local function qerror(class, desc)
  return setmetatable({ class = class, desc = desc }, ERROR_MT)
end

local function is_fd(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return type(mt) == "table" and mt.__name == "qemu.fd"
end

-- Raises "bad argument #n to 'fname' (msg)" at the caller's line: the
-- first stack level outside this file.
local THIS_FILE = debug.getinfo(1, "S").source
local function badarg(fname, n, msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info or info.source ~= THIS_FILE then break end
    level = level + 1
  end
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), level)
end

local SUFFIX = { [""] = 1, K = 1 << 10, M = 1 << 20, G = 1 << 30, T = 1 << 40 }

-- Bytes from an integer or a "512M"-style string; nil if it is neither.
local function bytes(v)
  if math.type(v) == "integer" and v >= 0 then return v end
  if type(v) == "string" then
    local n, s = v:match("^(%d+)([KkMmGgTt]?)$")
    if n then return math.tointeger(tonumber(n)) * SUFFIX[s:upper()] end
  end
end

-- Value checkers by type name: each returns the value to send, or nil.
local KINDS = {
  string  = function(v) return type(v) == "string" and v or nil end,
  boolean = function(v) if type(v) == "boolean" then return v end end,
  integer = function(v) return math.type(v) == "integer" and v or nil end,
  size    = bytes,
  -- a descriptor: a getfd name or a qemu.fd
  fd      = function(v) return (type(v) == "string" or is_fd(v)) and v or nil end,
  -- a list of descriptors
  fds     = function(v)
    if type(v) ~= "table" or #v == 0 then return nil end
    for _, x in ipairs(v) do
      if type(x) ~= "string" and not is_fd(x) then return nil end
    end
    return v
  end,
  -- a table of named fields or a list
  table   = function(v) return type(v) == "table" and v or nil end,
}
local KIND_TEXT = { size = "a size (bytes or a string like \"512M\")", fd = "a getfd name or a qemu.fd",
                    fds = "a non-empty list of getfd names or qemu.fd objects" }

-- The caller's line outside this file, as error() would name it.
local function where()
  local level = 2
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then return "" end
    if info.source ~= THIS_FILE then
      return info.currentline > 0 and (info.short_src .. ":" .. info.currentline .. ": ") or ""
    end
    level = level + 1
  end
end

-- The option fields the C checker takes as any value, and what they are.
local SHAPES = { vhostfd = "fd", fds = "fds", vhost_fds = "fds" }

-- Checks wrapper fname's argument #n, a table of named options, against its
-- record in src/options.c ("qmp." .. fname, or `record`; qlua --describe
-- qmp.blockdev_add), with the checker and the words of the device kinds:
-- "bad argument #1 to 'blockdev_add' (field 'filename' is required)".
-- Returns the values (sizes as bytes) and the timeout.
local size_fields = {}   -- record -> { name = true } of its fields of type size
local function options(fname, n, t, record)
  record = record or ("qmp." .. fname)
  qemu.check_options(record, t, where(), n, fname)
  local sizes = size_fields[record]
  if not sizes then
    sizes = {}
    for _, f in ipairs(qemu.describe(record).fields) do
      if f.type == "size" then sizes[f.name] = true end
    end
    size_fields[record] = sizes
  end
  local out = {}
  for k, v in pairs(t) do
    local shape = SHAPES[k]
    if shape and KINDS[shape](v) == nil then
      badarg(fname, n, ("field '%s': %s expected, got %s"):format(k, KIND_TEXT[shape], type(v)))
    end
    if k ~= "timeout" then out[k] = sizes[k] and bytes(v) or v end
  end
  return out, t.timeout
end

-- The timeout of an optional trailing { timeout = s } table (argument #n).
local function opt_timeout(fname, n, opts)
  if opts == nil then return nil end
  return select(2, options(fname, n, opts, "qmp.command"))
end

-- For the wrappers whose options are QEMU's own properties (device_add,
-- object_add, netdev_add: no record can list them): the fields they need,
-- in the checker's words, and the timeout, checked by its record.
local function required_string(fname, n, t, k)
  if t[k] == nil then badarg(fname, n, ("field '%s' is required"):format(k)) end
  if type(t[k]) ~= "string" then
    badarg(fname, n, ("field '%s': string expected, got %s"):format(k, type(t[k])))
  end
end
local function open_options(fname, n, t, required)
  if type(t) ~= "table" then badarg(fname, n, "table expected, got " .. type(t)) end
  for k in pairs(t) do
    if type(k) ~= "string" then
      badarg(fname, n, ("field names must be strings, got %s %s"):format(type(k), tostring(k)))
    end
  end
  for _, k in ipairs(required) do required_string(fname, n, t, k) end
  qemu.check_options("qmp.command", { timeout = t.timeout }, where(), n, fname)
  return t.timeout
end

local function check(fname, n, v, kind)
  local ok = KINDS[kind](v)
  if ok == nil then
    badarg(fname, n, ("%s expected, got %s"):format(KIND_TEXT[kind] or kind,
      math.type(v) == "float" and "float" or type(v)))
  end
  return ok
end

-- Executes one command and returns what qmp:execute returns.
local function run(qmp, cmd, args, timeout)
  return qmp:execute(cmd, args, timeout and { timeout = timeout } or nil)
end

-- Passes each qemu.fd of list with getfd, named prefix (one item) or
-- prefix1, prefix2... (several); names pass unchanged.  Returns the names
-- joined by ":" (or nil, err) and the names it passed (to close on failure).
local function pass_fds(qmp, list, prefix, dl)
  local names, passed = {}, {}
  for i, v in ipairs(list) do
    if is_fd(v) then
      local name = #list == 1 and prefix or prefix .. i
      local ok, err = qmp:getfd(name, v, left(dl))
      if not ok then return nil, err, passed end
      passed[#passed + 1] = name
      names[i] = name
    else
      names[i] = v
    end
  end
  return table.concat(names, ":"), nil, passed
end

-- Closes descriptors a failed command left with QEMU (best effort).
local function close_fds(qmp, passed)
  for _, name in ipairs(passed or {}) do
    qmp:execute("closefd", { fdname = name }, { timeout = 5 })
  end
end

-- The QMP name of a device property given in snake_case, for the names
-- QEMU spells with a hyphen.  Other names pass unchanged (some QEMU
-- properties do have underscores: host_mtu, rx_queue_size...).
local DEVICE_PROPS = {
  share_rw = "share-rw", disable_modern = "disable-modern", disable_legacy = "disable-legacy",
  num_queues = "num-queues", guest_cid = "guest-cid", scsi_id = "scsi-id",
  node_id = "node-id", socket_id = "socket-id", die_id = "die-id", core_id = "core-id",
  thread_id = "thread-id", queue_size = "queue-size",
}

-- Sends device_add; props has QEMU's names already (absent options are nil,
-- so they are not sent).
local function add_device(qmp, props, timeout)
  return qmp:execute("device_add", props, { timeout = timeout })
end

---------------------------------------------------------------------------
-- commands without arguments
---------------------------------------------------------------------------

-- qmp:stop([{timeout}])      -> {}       (govmm ExecuteStop; emits STOP)
-- qmp:cont([{timeout}])      -> {}       (ExecuteCont; emits RESUME)
-- qmp:quit([{timeout}])      -> {}       (ExecuteQuit; QEMU exits right after)
-- qmp:qmp_capabilities([{timeout}])      (ExecuteQMPCapabilities) qlua's
--     channels are negotiated before the first command, so QEMU answers
--     CommandNotFound "Capabilities negotiation is already complete,
--     command ignored"; kept so govmm-shaped code has the name.
-- qmp:status() / qmp:query_status()     -> { status =, running =, singlestep = }
--     (ExecuteQueryStatus)
-- qmp:query_hotpluggable_cpus()  -> list of { type, vcpus-count, props, qom-path? }
--     (ExecuteQueryHotpluggableCPUs; a slot without qom-path is free)
-- qmp:query_memory_devices() -> list of { type = "dimm"|"nvdimm"..., data = {...} }
--     (ExecQueryMemoryDevices)
-- qmp:query_cpus_fast()      -> list of { cpu-index, qom-path, thread-id, target, props }
--     (ExecQueryCpusFast; query-cpus, govmm's ExecQueryCpus, was removed in
--     QEMU 6.0 and has no wrapper: its fields differ, use this one)
-- qmp:query_migration() / qmp:query_migrate() -> { status, ram, ... }
--     (ExecuteQueryMigration)
-- qmp:query_qmp_schema()     -> the schema (ExecQueryQmpSchema)
-- qmp:query_version()        -> { qemu = { major, minor, micro }, package }
-- and, beyond govmm: query_pci, query_block, query_named_block_nodes,
-- query_chardev, query_balloon, query_commands, query_kvm, query_name,
-- query_migrate_capabilities, query_migrate_parameters, query_dump,
-- query_memory_size_summary, query_iothreads, system_reset.
local SIMPLE = {
  stop = "stop", cont = "cont", quit = "quit", qmp_capabilities = "qmp_capabilities",
  system_reset = "system_reset",
  status = "query-status", query_status = "query-status",
  query_hotpluggable_cpus = "query-hotpluggable-cpus",
  query_memory_devices = "query-memory-devices",
  query_cpus_fast = "query-cpus-fast",
  query_migration = "query-migrate", query_migrate = "query-migrate",
  query_qmp_schema = "query-qmp-schema",
  query_version = "query-version",
  query_pci = "query-pci", query_block = "query-block",
  query_named_block_nodes = "query-named-block-nodes",
  query_chardev = "query-chardev", query_balloon = "query-balloon",
  query_commands = "query-commands", query_kvm = "query-kvm", query_name = "query-name",
  query_migrate_capabilities = "query-migrate-capabilities",
  query_migrate_parameters = "query-migrate-parameters",
  query_dump = "query-dump", query_memory_size_summary = "query-memory-size-summary",
  query_iothreads = "query-iothreads",
}
for name, cmd in pairs(SIMPLE) do
  M[name] = function(qmp, opts)
    return run(qmp, cmd, nil, opt_timeout(name, 1, opts))
  end
end

-- Commands that take one id (a string) under one argument name:
-- qmp:blockdev_del(node_name [, {timeout}])   (ExecuteBlockdevDel) blockdev-del
-- qmp:netdev_del(id [, {timeout}])            (ExecuteNetdevDel)   netdev_del
-- qmp:chardev_del(id [, {timeout}])           (ExecuteChardevDel)  chardev-remove
--     (also qmp:chardev_remove)
-- qmp:object_del(id [, {timeout}])            object-del
-- qmp:closefd(fdname [, {timeout}])           closefd (undoes getfd)
local BY_ID = {
  blockdev_del = { "blockdev-del", "node-name" },
  netdev_del = { "netdev_del", "id" },
  chardev_del = { "chardev-remove", "id" },
  chardev_remove = { "chardev-remove", "id" },
  object_del = { "object-del", "id" },
  closefd = { "closefd", "fdname" },
}
for name, c in pairs(BY_ID) do
  M[name] = function(qmp, id, opts)
    check(name, 1, id, "string")
    return run(qmp, c[1], { [c[2]] = id }, opt_timeout(name, 2, opts))
  end
end

-- qmp:version([{timeout}]) -> { major, minor, micro, package, capabilities }
-- QEMU's version from the QMP greeting, without a command (what govmm's
-- QMPStart returns as QMPVersion).
function M.version(qmp, opts)
  local g, err = qmp:greeting(opts and { timeout = opt_timeout("version", 1, opts) } or nil)
  if not g then return nil, err end
  local v = g.QMP.version
  return { major = v.qemu.major, minor = v.qemu.minor, micro = v.qemu.micro,
           package = v.package, capabilities = g.QMP.capabilities }
end

---------------------------------------------------------------------------
-- power
---------------------------------------------------------------------------

-- qmp:powerdown([{timeout}]) -> SHUTDOWN event | { exited = true, desc } | nil, err
-- (govmm ExecuteSystemPowerdown; also qmp:system_powerdown)
-- Sends system_powerdown (the ACPI power button) and waits for the SHUTDOWN
-- event, or for QEMU to exit, whichever comes first.  Without a guest that
-- acts on the button nothing follows: nil, err with err.class "Timeout".
-- A SHUTDOWN event received earlier and not yet taken also ends the wait.
function M.powerdown(qmp, opts)
  local timeout = opt_timeout("powerdown", 1, opts)
  local dl = deadline(timeout)
  local ok, err = qmp:execute("system_powerdown", nil, left(dl))
  if ok == nil then return nil, err end
  local ev, werr = qmp:wait_event("SHUTDOWN", left(dl))
  if ev then return ev end
  if werr.class == "Disconnected" then
    return { exited = true, desc = werr.desc }
  end
  if werr.class == "Timeout" then
    werr.desc = ("no SHUTDOWN event within %g s of system_powerdown (the guest did not act on "
      .. "the ACPI power button)"):format(timeout or M.default_timeout)
  end
  return nil, werr
end
M.system_powerdown = M.powerdown

---------------------------------------------------------------------------
-- block devices
---------------------------------------------------------------------------

-- qmp:blockdev_add{ node_name, filename, driver = "file", format = "raw",
--                   read_only, cache = { direct, no_flush }, discard,
--                   detect_zeroes, auto_read_only, force_share, timeout } -> {}
-- (govmm ExecuteBlockdevAdd) blockdev-add of a format node named node_name
-- (driver `format`: "raw", "qcow2"...) over a protocol node opened by
-- `driver` on filename: "file" for regular files, "host_device" for block
-- devices (govmm's choice; QEMU refuses it for a regular file),
-- "host_cdrom".  discard: "ignore"|"unmap"; detect_zeroes:
-- "off"|"on"|"unmap".
function M.blockdev_add(qmp, o)
  local a, timeout = options("blockdev_add", 1, o)
  local cache
  if a.cache then
    cache = { direct = a.cache.direct, ["no-flush"] = a.cache.no_flush }   -- (checked with its record)
  end
  return run(qmp, "blockdev-add", {
    driver = a.format or "raw",
    ["node-name"] = a.node_name,
    ["read-only"] = a.read_only,
    ["auto-read-only"] = a.auto_read_only,
    ["force-share"] = a.force_share,
    ["detect-zeroes"] = a.detect_zeroes,
    discard = a.discard,
    cache = cache,
    file = { driver = a.driver or "file", filename = a.filename },
  }, timeout)
end

-- qmp:blockdev_add_with_cache{ node_name, filename, direct, no_flush, read_only,
--                              timeout } -> {}
-- (govmm ExecuteBlockdevAddWithCache) blockdev_add with cache = { direct,
-- no_flush }; driver "host_device" as in govmm unless given.
-- qmp:blockdev_add_with_driver_cache{ driver, node_name, filename, direct,
--                                     no_flush, read_only, timeout } -> {}
-- (ExecuteBlockdevAddWithDriverCache) the same with the protocol driver named.
local function with_cache(fname, qmp, o, default_driver)
  local a, timeout = options(fname, 1, o)
  return M.blockdev_add(qmp, {
    node_name = a.node_name, filename = a.filename, driver = a.driver or default_driver,
    read_only = a.read_only, cache = { direct = a.direct or false, no_flush = a.no_flush or false },
    timeout = timeout,
  })
end
function M.blockdev_add_with_cache(qmp, o)
  return with_cache("blockdev_add_with_cache", qmp, o, "host_device")
end
function M.blockdev_add_with_driver_cache(qmp, o)
  return with_cache("blockdev_add_with_driver_cache", qmp, o, nil)
end

---------------------------------------------------------------------------
-- devices
---------------------------------------------------------------------------

-- qmp:device_add{ driver, id, bus, addr, ... , timeout } -> {}
-- (govmm ExecuteDeviceAdd, for any device) device_add with every other
-- field as a device property: share_rw, disable_modern, disable_legacy,
-- num_queues, guest_cid, scsi_id, node_id, socket_id, die_id, core_id,
-- thread_id, queue_size are turned into QEMU's hyphenated names; any other
-- name is QEMU's own (drive, romfile, netdev, mac, chardev, memdev,
-- "x-foo"...).  Values go as they are: booleans, integers, strings.
function M.device_add(qmp, props)
  local timeout = open_options("device_add", 1, props, { "driver" })
  local args = {}
  for k, v in pairs(props) do
    if k ~= "timeout" then args[DEVICE_PROPS[k] or k] = v end
  end
  return run(qmp, "device_add", args, timeout)
end

-- qmp:device_del(id [, {timeout}]) -> DEVICE_DELETED event | nil, err
-- (govmm ExecuteDeviceDel) device_del, then waits for the DEVICE_DELETED
-- event whose data.device is id.  A PCI/PCIe device leaves only when the
-- guest's OS releases it (ACPI or native hotplug): without a guest, or
-- with one that ignores the request, the result is nil, err with
-- err.class "Timeout".  USB, SCSI and virtio-serial devices leave at once.
function M.device_del(qmp, id, opts)
  check("device_del", 1, id, "string")
  local timeout = opt_timeout("device_del", 2, opts)
  local dl = deadline(timeout)
  local ok, err = qmp:execute("device_del", { id = id }, left(dl))
  if ok == nil then return nil, err end
  local ev, werr = qmp:wait_event("DEVICE_DELETED", { timeout = left(dl).timeout, data = { device = id } })
  if ev then return ev end
  if werr.class == "Timeout" then
    werr.desc = ("device '%s' was not removed within %g s (no DEVICE_DELETED event: a PCI device "
      .. "leaves only when the guest releases it)"):format(id, timeout or M.default_timeout)
  end
  return nil, werr
end

-- qmp:scsi_device_add{ drive, id, driver, bus, scsi_id, lun, share_rw, timeout } -> {}
-- (govmm ExecuteSCSIDeviceAdd) a SCSI disk on a SCSI controller's bus
-- ("scsi0.0"); driver "scsi-hd" or "scsi-cd" ("scsi-disk" was removed in
-- QEMU 6.0).
function M.scsi_device_add(qmp, o)
  local a, timeout = options("scsi_device_add", 1, o)   -- (its record: driver is one of those)
  return add_device(qmp, { driver = a.driver, id = a.id, drive = a.drive, bus = a.bus,
    ["scsi-id"] = a.scsi_id, lun = a.lun, ["share-rw"] = a.share_rw }, timeout)
end

-- qmp:pci_device_add{ drive, id, driver, addr, bus, romfile, queues, share_rw,
--                     disable_modern, timeout } -> {}
-- (govmm ExecutePCIDeviceAdd, also "ExecuteDeviceAdd for PCIe") a block
-- device (virtio-blk-pci...) at addr ("0x0", "2.0") on bus: on q35 the
-- id of a pcie-root-port (pcie.0 itself takes no hotplug).  queues sets
-- num-queues.
function M.pci_device_add(qmp, o)
  local a, timeout = options("pci_device_add", 1, o)
  return add_device(qmp, { driver = a.driver, id = a.id, drive = a.drive, addr = a.addr,
    bus = a.bus, romfile = a.romfile, ["num-queues"] = a.queues, ["share-rw"] = a.share_rw,
    ["disable-modern"] = a.disable_modern }, timeout)
end

-- qmp:pci_vhost_user_dev_add{ driver, id, chardev, addr, bus, timeout } -> {}
-- (govmm ExecutePCIVhostUserDevAdd) vhost-user-blk-pci, vhost-user-fs-pci...
-- on a chardev that is connected to the vhost-user backend.
function M.pci_vhost_user_dev_add(qmp, o)
  local a, timeout = options("pci_vhost_user_dev_add", 1, o)
  return add_device(qmp, { driver = a.driver, id = a.id, chardev = a.chardev, addr = a.addr,
    bus = a.bus }, timeout)
end

-- qmp:net_pci_device_add{ netdev, id, mac, addr, bus, romfile, queues,
--                         disable_modern, driver = "virtio-net-pci", timeout } -> {}
-- (govmm ExecuteNetPCIDeviceAdd) a NIC on a netdev; queues = N turns on
-- multiqueue: mq = true, vectors = 2N + 2.
function M.net_pci_device_add(qmp, o)
  local a, timeout = options("net_pci_device_add", 1, o)
  local mq, vectors
  if a.queues and a.queues > 0 then mq, vectors = true, 2 * a.queues + 2 end
  return add_device(qmp, { driver = a.driver or "virtio-net-pci", id = a.id, netdev = a.netdev,
    mac = a.mac, addr = a.addr, bus = a.bus, romfile = a.romfile, mq = mq, vectors = vectors,
    ["disable-modern"] = a.disable_modern }, timeout)
end

-- qmp:net_ccw_device_add{ netdev, id, mac, devno, queues, timeout } -> {}
-- (govmm ExecuteNetCCWDeviceAdd) virtio-net-ccw: s390x machines only;
-- other QEMUs answer "'virtio-net-ccw' is not a valid device model name".
function M.net_ccw_device_add(qmp, o)
  local a, timeout = options("net_ccw_device_add", 1, o)
  return add_device(qmp, { driver = "virtio-net-ccw", id = a.id, netdev = a.netdev, mac = a.mac,
    devno = a.devno, mq = (a.queues and a.queues > 0) or nil }, timeout)
end

-- qmp:vfio_device_add{ id, host, bus, romfile, driver = "vfio-pci", timeout } -> {}
-- (govmm ExecuteVFIODeviceAdd) host: the host device's PCI address
-- ("0000:01:00.0"), which must be bound to vfio-pci; driver "vfio-ccw"
-- on s390x (govmm picks it there).
function M.vfio_device_add(qmp, o)
  local a, timeout = options("vfio_device_add", 1, o)
  return add_device(qmp, { driver = a.driver or "vfio-pci", id = a.id, host = a.host, bus = a.bus,
    romfile = a.romfile }, timeout)
end

-- qmp:pci_vfio_device_add{ id, host, addr, bus, romfile, timeout } -> {}
-- (govmm ExecutePCIVFIODeviceAdd) vfio-pci at a given address on a bus.
function M.pci_vfio_device_add(qmp, o)
  local a, timeout = options("pci_vfio_device_add", 1, o)
  return add_device(qmp, { driver = "vfio-pci", id = a.id, host = a.host, addr = a.addr,
    bus = a.bus, romfile = a.romfile }, timeout)
end

-- qmp:pci_vfio_mediated_device_add{ id, sysfsdev, addr, bus, romfile, timeout } -> {}
-- (govmm ExecutePCIVFIOMediatedDeviceAdd) a mediated device (vGPU...):
-- sysfsdev = "/sys/bus/mdev/devices/UUID".
function M.pci_vfio_mediated_device_add(qmp, o)
  local a, timeout = options("pci_vfio_mediated_device_add", 1, o)
  return add_device(qmp, { driver = "vfio-pci", id = a.id, sysfsdev = a.sysfsdev, addr = a.addr,
    bus = a.bus, romfile = a.romfile }, timeout)
end

-- qmp:ap_vfio_mediated_device_add{ sysfsdev, id, timeout } -> {}
-- (govmm ExecuteAPVFIOMediatedDeviceAdd) vfio-ap, s390x only.
function M.ap_vfio_mediated_device_add(qmp, o)
  local a, timeout = options("ap_vfio_mediated_device_add", 1, o)
  return add_device(qmp, { driver = "vfio-ap", id = a.id, sysfsdev = a.sysfsdev }, timeout)
end

-- qmp:pci_vsock_add{ id, guest_cid, vhostfd, addr, bus, romfile,
--                    disable_modern, timeout } -> {}
-- (govmm ExecutePCIVSockAdd) vhost-vsock-pci with the guest's context id
-- (an integer >= 3).  vhostfd: an open /dev/vhost-vsock, as a getfd name
-- or a qemu.fd (passed here as "<id>-vhostfd"; closed again when
-- device_add fails); without it QEMU opens
-- /dev/vhost-vsock itself.
function M.pci_vsock_add(qmp, o)
  local a, timeout = options("pci_vsock_add", 1, o)
  local dl = deadline(timeout)
  local vhostfd, err, passed = a.vhostfd, nil, nil
  if vhostfd ~= nil then
    vhostfd, err, passed = pass_fds(qmp, { a.vhostfd }, a.id .. "-vhostfd", dl)
    if not vhostfd then return nil, err end
  end
  local r, derr = add_device(qmp, { driver = "vhost-vsock-pci", id = a.id, ["guest-cid"] = a.guest_cid,
    vhostfd = vhostfd, addr = a.addr, bus = a.bus, romfile = a.romfile,
    ["disable-modern"] = a.disable_modern }, left(dl).timeout)
  if r == nil then close_fds(qmp, passed) end
  return r, derr
end

-- qmp:virt_serial_port_add{ id, name, chardev, bus, nr, timeout } -> {}
-- (govmm ExecuteVirtSerialPortAdd) a virtserialport named `name` (the guest
-- sees /dev/virtio-ports/NAME) on chardev; needs a virtio-serial
-- controller (bus: "<its id>.0").
function M.virt_serial_port_add(qmp, o)
  local a, timeout = options("virt_serial_port_add", 1, o)
  return add_device(qmp, { driver = "virtserialport", id = a.id, name = a.name, chardev = a.chardev,
    bus = a.bus, nr = a.nr }, timeout)
end

---------------------------------------------------------------------------
-- CPUs
---------------------------------------------------------------------------

-- qmp:cpu_device_add{ driver, id, socket_id, die_id, core_id, thread_id,
--                     node_id, timeout } -> {}
-- (govmm ExecuteCPUDeviceAdd) driver: the CPU type query_hotpluggable_cpus
-- names ("qemu64-x86_64-cpu", "host-x86_64-cpu"...); the ids (integers)
-- are a free slot's props from query_hotpluggable_cpus.
function M.cpu_device_add(qmp, o)
  local a, timeout = options("cpu_device_add", 1, o)
  return add_device(qmp, { driver = a.driver, id = a.id, ["socket-id"] = a.socket_id,
    ["die-id"] = a.die_id, ["core-id"] = a.core_id, ["thread-id"] = a.thread_id,
    ["node-id"] = a.node_id }, timeout)
end

-- qmp:hotplug_cpu{ id, timeout } -> the slot plugged ({ type, props, ... }) | nil, err
-- (not in govmm: query_hotpluggable_cpus + cpu_device_add) plugs a CPU
-- into the free slot with the lowest node/socket/die/core/thread ids;
-- nil, err (GenericError) when every slot is taken.
local TOPOLOGY = { "node-id", "socket-id", "die-id", "core-id", "thread-id" }
function M.hotplug_cpu(qmp, o)
  local a, timeout = options("hotplug_cpu", 1, o)
  local dl = deadline(timeout)
  local slots, err = qmp:execute("query-hotpluggable-cpus", nil, left(dl))
  if not slots then return nil, err end
  local free = {}
  for _, s in ipairs(slots) do
    if s["qom-path"] == nil then free[#free + 1] = s end
  end
  if #free == 0 then
    return nil, qerror("GenericError", ("no free CPU slot (all %d are in use)"):format(#slots))
  end
  table.sort(free, function(x, y)
    for _, k in ipairs(TOPOLOGY) do
      local p, q = x.props[k] or -1, y.props[k] or -1
      if p ~= q then return p < q end
    end
    return false
  end)
  local slot = free[1]
  local props = { driver = slot.type, id = a.id }
  for k, v in pairs(slot.props) do props[k] = v end
  local r, derr = add_device(qmp, props, left(dl).timeout)
  if r == nil then return nil, derr end
  return slot
end

---------------------------------------------------------------------------
-- memory
---------------------------------------------------------------------------

-- Object property names given in snake_case and QEMU's spelling; other
-- names pass unchanged (QEMU has some with underscores: input-linux's
-- grab_all).
local OBJECT_PROPS = {
  qom_type = "qom-type", mem_path = "mem-path", host_nodes = "host-nodes",
  prealloc_threads = "prealloc-threads", prealloc_context = "prealloc-context",
  discard_data = "discard-data", poll_max_ns = "poll-max-ns", poll_grow = "poll-grow",
  poll_shrink = "poll-shrink", aio_max_batch = "aio-max-batch",
}

-- qmp:object_add{ qom_type, id, ..., timeout } -> {}
-- object-add; other fields are the object's properties at the top level
-- (QEMU 6.0 dropped "props"), with mem_path, host_nodes,
-- prealloc_threads, discard_data, poll_max_ns... turned into QEMU's
-- hyphenated names; sizes are integers here.
function M.object_add(qmp, props)
  open_options("object_add", 1, props, { "qom_type", "id" })
  local args = {}
  for k, v in pairs(props) do
    if k ~= "timeout" then args[OBJECT_PROPS[k] or k] = v end
  end
  return run(qmp, "object-add", args, props.timeout)
end

-- object-add of a memory backend, then device_add of driver on it; on a
-- device_add failure the backend is deleted again.
local function memdev(qmp, backend, device, dl)
  local ok, err = qmp:execute("object-add", backend, left(dl))
  if ok == nil then return nil, err end
  local r, derr = add_device(qmp, device, left(dl).timeout)
  if r == nil then
    qmp:execute("object-del", { id = backend.id }, { timeout = 5 })
  end
  return r, derr
end

-- qmp:memdev_add{ qom_type = "memory-backend-ram", id, size, mem_path, share,
--                 driver, driver_id, addr, bus, timeout } -> {}
-- (govmm ExecMemdevAdd) object-add of a memory backend (memory-backend-ram,
-- -file with mem_path, -memfd) named id, then device_add of driver
-- ("pc-dimm", "virtio-mem-pci", "virtio-pmem-pci"...) named driver_id on
-- it.  size in bytes or "128M" (govmm took MiB).  The backend is removed
-- again when device_add fails.
function M.memdev_add(qmp, o)
  local a, timeout = options("memdev_add", 1, o)
  return memdev(qmp,
    { ["qom-type"] = a.qom_type or "memory-backend-ram", id = a.id, size = a.size,
      ["mem-path"] = a.mem_path, share = a.share },
    { driver = a.driver, id = a.driver_id, memdev = a.id, addr = a.addr, bus = a.bus },
    deadline(timeout))
end

-- qmp:hotplug_memory{ id, size, qom_type = "memory-backend-ram", mem_path,
--                     share, timeout } -> {}
-- (govmm ExecHotplugMemory) memdev_add with a pc-dimm named "dimm" .. id.
-- Needs memory = { slots, maxmem } in the VM description.
function M.hotplug_memory(qmp, o)
  local a, timeout = options("hotplug_memory", 1, o)
  return M.memdev_add(qmp, { qom_type = a.qom_type, id = a.id, size = a.size, mem_path = a.mem_path,
    share = a.share, driver = "pc-dimm", driver_id = "dimm" .. a.id, timeout = timeout })
end

-- qmp:nvdimm_device_add{ id, mem_path, size, pmem, timeout } -> {}
-- (govmm ExecuteNVDIMMDeviceAdd) a memory-backend-file "nvdimmbackmem" .. id
-- on mem_path (share = true) and an nvdimm "nvdimm" .. id on it.  Needs
-- machine = { options = { nvdimm = true } } and memory slots.
function M.nvdimm_device_add(qmp, o)
  local a, timeout = options("nvdimm_device_add", 1, o)
  return memdev(qmp,
    { ["qom-type"] = "memory-backend-file", id = "nvdimmbackmem" .. a.id, ["mem-path"] = a.mem_path,
      size = a.size, share = true, pmem = a.pmem },
    { driver = "nvdimm", id = "nvdimm" .. a.id, memdev = "nvdimmbackmem" .. a.id },
    deadline(timeout))
end

-- qmp:balloon(size [, {timeout}]) -> {}
-- (govmm ExecuteBalloon) asks the guest's balloon driver for a target
-- size (bytes or "192M").  Needs a virtio-balloon device, else
-- DeviceNotActive.
function M.balloon(qmp, size, opts)
  local value = check("balloon", 1, size, "size")
  return run(qmp, "balloon", { value = value }, opt_timeout("balloon", 2, opts))
end

---------------------------------------------------------------------------
-- network
---------------------------------------------------------------------------

-- Netdev member names given in snake_case (or as in the VM description)
-- and QEMU's own spelling.  tap's vnet_hdr really has an underscore.
local NETDEV_NAMES = {
  down_script = "downscript", vhost_fds = "vhostfds", vhost_fd = "vhostfd", poll_us = "poll-us",
  ipv6_prefix = "ipv6-prefix", ipv6_prefixlen = "ipv6-prefixlen", ipv6_host = "ipv6-host",
  ipv6_dns = "ipv6-dns", tftp_server_name = "tftp-server-name", vhost_force = "vhostforce",
}
-- Members that name descriptors: a list is joined with ":", qemu.fd objects
-- are passed with getfd first.
local NETDEV_FDS = { fd = true, fds = true, vhostfd = true, vhostfds = true }

-- qmp:netdev_add{ type, id, ifname, script, downscript, queues, ..., timeout } -> {}
-- (govmm ExecuteNetdevAdd) netdev_add of any backend type ("tap", "user",
-- "socket", "stream", "vhost-user"...), with that type's members as
-- QEMU 7.2 types them: vhost, vnet_hdr, vhostforce booleans; queues,
-- sndbuf, poll_us integers; fd, fds, vhostfd, vhostfds: a getfd name, a
-- list of them, or qemu.fd objects (passed as "<id>-<member>" or, in a
-- list of several, "<id>-<member><n>"; closed again when netdev_add fails).
-- down_script, vhost_fds are accepted for downscript, vhostfds.
function M.netdev_add(qmp, o)
  local timeout = open_options("netdev_add", 1, o, { "type", "id" })
  local dl = deadline(timeout)
  local args, all_passed = {}, {}
  for k, v in pairs(o) do
    local name = NETDEV_NAMES[k] or k
    if k == "timeout" then
      name = nil
    elseif NETDEV_FDS[name] then
      local list = (type(v) == "table") and v or { v }
      if not KINDS.fds(list) then
        badarg("netdev_add", 1, ("field '%s': %s expected, got %s"):format(k, KIND_TEXT.fds, type(v)))
      end
      local joined, err, passed = pass_fds(qmp, list, o.id .. "-" .. name, dl)
      for _, p in ipairs(passed) do all_passed[#all_passed + 1] = p end
      if not joined then
        close_fds(qmp, all_passed)
        return nil, err
      end
      v = joined
    end
    if name then args[name] = v end
  end
  local r, err = qmp:execute("netdev_add", args, left(dl))
  if r == nil then close_fds(qmp, all_passed) end
  return r, err
end

-- qmp:netdev_add_by_fds{ type = "tap", id, fds, vhost_fds, timeout } -> {}
-- (govmm ExecuteNetdevAddByFds) a tap netdev on open tap queues (fds: one
-- per queue) and, with vhost_fds, vhost-net (vhost = true, vhostfds).
-- Each list holds getfd names or qemu.fd objects (qemu.tap's result).
function M.netdev_add_by_fds(qmp, o)
  local a, timeout = options("netdev_add_by_fds", 1, o)
  return M.netdev_add(qmp, { type = a.type or "tap", id = a.id, fds = a.fds,
    vhost = a.vhost_fds and true or nil, vhostfds = a.vhost_fds, timeout = timeout })
end

-- qmp:netdev_chardev_add{ type = "vhost-user", id, chardev, queues, timeout } -> {}
-- (govmm ExecuteNetdevChardevAdd) a netdev on a chardev (vhost-user's
-- socket); queues is sent when above 1, as govmm does.
function M.netdev_chardev_add(qmp, o)
  local a, timeout = options("netdev_chardev_add", 1, o)
  return run(qmp, "netdev_add", { type = a.type or "vhost-user", id = a.id, chardev = a.chardev,
    queues = (a.queues and a.queues > 1) and a.queues or nil }, timeout)
end

---------------------------------------------------------------------------
-- character devices
---------------------------------------------------------------------------

-- qmp:chardev_unix_socket_add{ id, path, server = false, wait, timeout }
--   -> {} (or the chardev-add return value)
-- (govmm ExecuteCharDevUnixSocketAdd) chardev-add of a unix socket: a
-- listening one with server = true (then wait = true blocks QEMU until a
-- client connects; QEMU's default), else a client that connects to path
-- at once.  `wait` is sent only for servers (QEMU 6.0 refuses it for
-- clients).
function M.chardev_unix_socket_add(qmp, o)
  local a, timeout = options("chardev_unix_socket_add", 1, o)
  local server = a.server or false
  if a.wait ~= nil and not server then
    badarg("chardev_unix_socket_add", 1, "field 'wait' is only used with server = true")
  end
  local data = { server = server, addr = { type = "unix", data = { path = a.path } } }
  if server then data.wait = a.wait end
  return run(qmp, "chardev-add", { id = a.id, backend = { type = "socket", data = data } }, timeout)
end

---------------------------------------------------------------------------
-- migration
---------------------------------------------------------------------------

-- qmp:set_migration_caps(caps [, {timeout}]) -> {}
-- (govmm ExecSetMigrationCaps; also qmp:migrate_set_capabilities)
-- caps: govmm's list { { capability = "events", state = true }, ... } or a
-- table { events = true, auto_converge = true } (snake_case or QEMU's
-- hyphenated names).
function M.set_migration_caps(qmp, caps, opts)
  check("set_migration_caps", 1, caps, "table")
  local list = {}
  if #caps > 0 then
    for i, c in ipairs(caps) do
      if type(c) ~= "table" or type(c.capability) ~= "string" or type(c.state) ~= "boolean" then
        badarg("set_migration_caps", 1, ("item %d: { capability = string, state = boolean } expected"):format(i))
      end
      list[i] = { capability = c.capability:gsub("_", "-"), state = c.state }
    end
  else
    for k, v in pairs(caps) do
      if type(k) ~= "string" or type(v) ~= "boolean" then
        badarg("set_migration_caps", 1, "a list of capabilities or { name = boolean } expected")
      end
      list[#list + 1] = { capability = k:gsub("_", "-"), state = v }
    end
    table.sort(list, function(x, y) return x.capability < y.capability end)
    if #list == 0 then badarg("set_migration_caps", 1, "no capability given") end
  end
  return run(qmp, "migrate-set-capabilities", { capabilities = list },
    opt_timeout("set_migration_caps", 2, opts))
end
M.migrate_set_capabilities = M.set_migration_caps

-- qmp:migrate_set_parameters{ downtime_limit = ms, max_bandwidth = bytes/s, ...,
--                             timeout } -> {}
-- (not in govmm) migrate-set-parameters, snake_case names turned into
-- QEMU's hyphenated ones.  It replaces migrate_set_speed (max_bandwidth),
-- migrate_set_downtime (downtime_limit, now in milliseconds) and
-- migrate-set-cache-size (xbzrle_cache_size), all removed in QEMU 6.0.
function M.migrate_set_parameters(qmp, params)
  check("migrate_set_parameters", 1, params, "table")
  local args = {}
  for k, v in pairs(params) do
    if type(k) ~= "string" then badarg("migrate_set_parameters", 1, "parameter names must be strings") end
    if k ~= "timeout" then args[(k:gsub("_", "-"))] = v end
  end
  return run(qmp, "migrate-set-parameters", args, params.timeout)
end

-- qmp:migrate(uri [, {timeout}]) -> {}
-- (govmm ExecSetMigrateArguments; also qmp:set_migrate_arguments) starts
-- migrating to uri ("tcp:HOST:PORT", "unix:PATH", "exec:CMD", "fd:NAME")
-- and returns at once; follow it with query_migrate or wait_migration.
function M.migrate(qmp, uri, opts)
  check("migrate", 1, uri, "string")
  return run(qmp, "migrate", { uri = uri }, opt_timeout("migrate", 2, opts))
end
M.set_migrate_arguments = M.migrate

-- qmp:migrate_incoming(uri [, {timeout}]) -> {}
-- (govmm ExecuteMigrationIncoming; also qmp:migration_incoming) on a QEMU
-- started with -incoming defer: accepts the migration stream from uri
-- ("tcp:...", "unix:...", "exec:cat FILE", "fd:NAME").
function M.migrate_incoming(qmp, uri, opts)
  check("migrate_incoming", 1, uri, "string")
  return run(qmp, "migrate-incoming", { uri = uri }, opt_timeout("migrate_incoming", 2, opts))
end
M.migration_incoming = M.migrate_incoming

-- qmp:wait_migration([{timeout}]) -> the final query-migrate value | nil, err
-- (not in govmm) polls query-migrate (on the source or the destination)
-- until the status is "completed", returning that value; "failed" or
-- "cancelled" give nil, err (GenericError with QEMU's error-desc), the
-- timeout nil, err (Timeout).  It sleeps on the MIGRATION event between
-- polls, so it takes those events (with the "events" capability on).
local FINAL = { completed = true, failed = true, cancelled = true }
function M.wait_migration(qmp, opts)
  local timeout = opt_timeout("wait_migration", 1, opts)
  local dl = deadline(timeout)
  while true do
    local r, err = qmp:execute("query-migrate", nil, left(dl))
    if not r then return nil, err end
    if r.status == "completed" then return r end
    if FINAL[r.status] then
      return nil, qerror("GenericError", ("migration %s: %s"):format(r.status, r["error-desc"] or "no reason given"))
    end
    local rest = left(dl).timeout
    if rest <= 0 then
      return nil, qerror("Timeout", ("migration still '%s' after %g s"):format(
        r.status or "none", timeout or M.default_timeout))
    end
    local _, werr = qmp:wait_event("MIGRATION", { timeout = math.min(0.1, rest) })
    if werr and werr.class == "Disconnected" then return nil, werr end
  end
end

---------------------------------------------------------------------------
-- QOM, dumps
---------------------------------------------------------------------------

-- qmp:qom_get(path, property [, {timeout}]) -> the value   (govmm ExecQomGet)
-- qmp:qom_set(path, property, value [, {timeout}]) -> {}   (govmm ExecQomSet)
-- path: a QOM path ("/machine", "/machine/peripheral/ID" for a device
-- with an id); value: any Lua value with a JSON form (govmm: integers).
function M.qom_get(qmp, path, property, opts)
  check("qom_get", 1, path, "string")
  check("qom_get", 2, property, "string")
  return run(qmp, "qom-get", { path = path, property = property }, opt_timeout("qom_get", 3, opts))
end

function M.qom_set(qmp, path, property, value, opts)
  check("qom_set", 1, path, "string")
  check("qom_set", 2, property, "string")
  if value == nil then badarg("qom_set", 3, "value expected, got nil (use qemu.null for JSON null)") end
  return run(qmp, "qom-set", { path = path, property = property, value = value },
    opt_timeout("qom_set", 4, opts))
end

-- qmp:dump_guest_memory{ file | protocol, paging = false, format, detach,
--                        begin, length, timeout } -> {}
-- (govmm ExecuteDumpGuestMemory) writes guest memory to file (sent as
-- protocol "file:PATH") or protocol ("fd:NAME"); format "elf" (QEMU's
-- default), "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp".
-- Returns when the dump is written unless detach = true (then watch
-- DUMP_COMPLETED or query_dump).
function M.dump_guest_memory(qmp, o)
  local a, timeout = options("dump_guest_memory", 1, o)
  if (a.file == nil) == (a.protocol == nil) then
    badarg("dump_guest_memory", 1, "give exactly one of 'file' and 'protocol'")
  end
  return run(qmp, "dump-guest-memory", {
    protocol = a.protocol or ("file:" .. a.file), paging = a.paging or false, format = a.format,
    detach = a.detach, begin = a.begin, length = a.length,
  }, timeout)
end

-- qmp:screendump(filename [, { format, device, head, timeout }]) -> {}
-- (not in govmm) writes what the display shows to filename, a path QEMU
-- opens (relative to QEMU's working directory, the same as qlua's).
-- format "png" or "ppm" (QEMU's default); without it, "png" when filename
-- ends in ".png", else "ppm", so the file's name and content agree.  device
-- (a display device's id) and head pick one display of several.  Needs a
-- display device (vga = "std", ...): without one QEMU refuses
-- (GenericError "There is no console to take a screendump from").
function M.screendump(qmp, filename, opts)
  check("screendump", 1, filename, "string")
  local a, timeout = options("screendump", 2, opts or {})
  local format = a.format or (filename:lower():match("%.png$") and "png" or "ppm")
  return run(qmp, "screendump", { filename = filename, device = a.device, head = a.head, format = format },
    timeout)
end

---------------------------------------------------------------------------

-- The wrappers become methods of every QMP object; the C methods (execute,
-- getfd, events, wait_event, greeting, log, close) stay as they are.
local methods = qemu.qmp_methods
for name, f in pairs(M) do
  if type(f) == "function" then
    local old = methods[name]
    -- a wrapper replaces its own earlier copy (the module loaded again),
    -- never a C method
    assert(type(old) ~= "function" or debug.getinfo(old, "S").what ~= "C",
      "qemu.qmp: '" .. name .. "' is a built-in method")
    methods[name] = f
  end
end

return M
