-- qemu.check - ask the QEMU binary a description will run whether it has
-- every machine type, device and property the description uses, before
-- anything is launched.  `qlua --check vm.lua`, `qlua --probe vm.lua` and
-- qemu.check(vm) use it; qemu.has_device and qemu.qemu_version share its
-- answers.
--
--   local ok, errors, warnings = qemu.check(vm [, { cache_dir = DIR, warn = false }])
--   if qemu.has_device("vhost-user-fs-pci") then ... end
--   local text, v = qemu.qemu_version()       -- "7.2.22", { major = 7, minor = 2, micro = 22, package = ... }
--
-- How.  The binary is the description's `path` (else $QLUA_QEMU, else
-- qemu-system-<host arch>), found as exec finds it (qemu.which).  It is started
-- as `-machine none -nodefaults -no-user-config -S -display none -serial none`
-- with a private QMP channel (qemu.launch) and asked:
--   query-version                      its version
--   query-machines                     machine types, their aliases, which are deprecated
--   qom-list-types implements=device   every device it can create (non-abstract)
--   qom-list-types implements=user-creatable
--                                      every -object type it can create (qemu.object's type)
--   device-list-properties TYPE        the properties of each device the description uses
--   qom-list-properties TYPE-machine   the properties of its machine type (machine.options);
--                                      where that kills QEMU (7.2 aborts on
--                                      microvm-machine), QEMU is started again
--                                      with that machine and asked qom-list /machine
-- What is checked is the command line qlua renders (qemu._uses: every -device
-- option, the device of the description it came from and the field behind each
-- key), so the names are exactly the ones QEMU will get: the transport's
-- virtio-blk-device as well as a qemu.device{}'s free properties.  Keys every
-- -device takes (id, bus) are not properties and are not asked about.
--
-- The cache.  The answers are kept per binary, as JSON, in
-- $XDG_CACHE_HOME/qlua/ (else ~/.cache/qlua/), one file per binary path
-- (qemu-<path with '/' as '_'>.json), valid while the binary's absolute path,
-- size and modification time are those recorded in it; a device or machine
-- asked about for the first time is added.  A run that finds every answer in
-- the cache starts no QEMU.  A dry run (qlua -n, --json, --check) starts no
-- program and writes no file (qemu._dry_run): it answers from the cache
-- alone, and what the cache lacks is an error that says so; `qlua --probe`
-- (or qemu.check in a run) asks QEMU and writes the cache.
-- opts.cache_dir overrides the directory; cache_dir = false keeps nothing.
--
-- Errors are returned, not raised (qemu.check raises only for what any
-- function raises for: an invalid description, a bad argument).  Each names
-- the line and the field, as validation errors do:
--   vm.lua:12: devices[3] (block): field 'driver': QEMU 7.2.22 (qemu-system-x86_64) has no device 'virtio-blk-pcie' (did you mean 'virtio-blk-pci'?)
--   vm.lua:30: field 'machine.type': QEMU 7.2.22 (qemu-system-x86_64) has no machine type 'q36' (did you mean 'q35'?)
--   vm.lua:30: field 'machine.options.nvdimmm': QEMU 7.2.22 (qemu-system-x86_64): machine type 'q35' has no machine property 'nvdimmm' (did you mean 'nvdimm'?)
--   vm.lua:14: devices[4] (device): QEMU 7.2.22 (qemu-system-x86_64): property 'macc' of device 'e1000' does not exist (did you mean 'mac'?)
--   vm.lua:15: devices[5] (object): field 'type': QEMU 7.2.22 (qemu-system-x86_64) has no object type 'tdx-guest'
--   vm.lua:3: field 'path': no QEMU binary: qemu-system-s390x: not found in $PATH
--
-- Warnings (printed on stderr as "qlua: warning: ...", unless opts.warn is
-- false, and returned) are for deprecated or removed forms that qlua passes
-- through as given, whatever the binary:
--   extra_args options QEMU removed:  see REMOVED_OPTIONS below (-realtime,
--       -soundhw, -tb-size, ...).  -enable-kvm and the other current options
--       are fine.
--   short-form booleans in an extra_args option value: -chardev ...,server,nowait
--       (QEMU 6.0 deprecated them: write server=on,wait=off).  The first item
--       of an option with an implied key (-chardev socket, -device e1000, ...)
--       is not one.
--   devices QEMU removed, as qemu.device{driver = ...} or -device in
--       extra_args: see REMOVED_DEVICES (ide-drive, scsi-disk, ...).
--   machine types the binary itself says are deprecated (query-machines).

local M = {}

local qemu_mod
local function Q()
  if not qemu_mod then qemu_mod = package.loaded.qemu or require "qemu" end
  return qemu_mod
end

-- Options QEMU removed (docs/about/removed-features.rst), as extra_args.
M.REMOVED_OPTIONS = {
  ["-realtime"] = "was removed in QEMU 6.0 (use knobs.mlock: -overcommit mem-lock=on)",
  ["-soundhw"] = "was removed in QEMU 7.1 (use -audio, or -device with -audiodev)",
  ["-tb-size"] = "was removed in QEMU 6.0 (use -accel tcg,tb-size=N)",
  ["-show-cursor"] = "was removed in QEMU 6.0 (use -display ...,show-cursor=on)",
  ["-no-kvm"] = "was removed in QEMU 5.2 (use machine.accel = 'tcg')",
  ["-no-quit"] = "was removed in QEMU 7.0 (use -display ...,window-close=off)",
  ["-enable-fips"] = "was removed in QEMU 7.1",
  ["-writeconfig"] = "was removed in QEMU 7.1",
  ["-nodefconfig"] = "was removed in QEMU 3.1 (use knobs.no_user_config)",
  ["-localtime"] = "was removed in QEMU 3.1 (use rtc.base = 'localtime')",
  ["-balloon"] = "was removed in QEMU 3.1 (use qemu.balloon{})",
}

-- Devices QEMU removed, as qemu.device{driver = ...} or -device in extra_args.
M.REMOVED_DEVICES = {
  ["ide-drive"] = "was removed in QEMU 6.0 (use ide-hd or ide-cd)",
  ["scsi-disk"] = "was removed in QEMU 6.0 (use scsi-hd or scsi-cd)",
  ["ivshmem"] = "was removed in QEMU 4.0 (use ivshmem-plain or ivshmem-doorbell)",
}

-- Options whose value is a key=value list, and whether its first item is
-- an implied value (-chardev socket,..., -device e1000,..., -smp 4,...).
local KEYVAL = {
  ["-chardev"] = true, ["-netdev"] = true, ["-nic"] = true, ["-device"] = true, ["-object"] = true,
  ["-machine"] = true, ["-M"] = true, ["-accel"] = true, ["-fsdev"] = true, ["-virtfs"] = true,
  ["-display"] = true, ["-audiodev"] = true, ["-numa"] = true, ["-sandbox"] = true, ["-vnc"] = true,
  ["-qmp"] = true, ["-monitor"] = true, ["-serial"] = true, ["-parallel"] = true, ["-name"] = true,
  ["-smp"] = true, ["-m"] = true, ["-boot"] = true, ["-cpu"] = false,
  ["-drive"] = false, ["-blockdev"] = false, ["-mon"] = false, ["-rtc"] = false, ["-overcommit"] = false,
  ["-spice"] = false, ["-msg"] = false, ["-icount"] = false,
}
KEYVAL["-cpu"] = nil  -- -cpu takes +feature/-feature words, not booleans

-- Keys every -device takes that are not device properties.
local NOT_PROPERTIES = { id = true, bus = true, driver = true }

-- -machine keys QEMU takes besides the machine's properties
-- (qemu_apply_legacy_machine_options): they go to the accelerator.
local LEGACY_MACHINE_KEYS = { accel = true, ["kernel-irqchip"] = true, ["kvm-shadow-mem"] = true,
                              ["igd-passthru"] = true }

---------------------------------------------------------------------------
-- Small helpers.

-- " (did you mean 'x'?)" for the closest of names, when close enough to be a typo.
local function suggest(name, names)
  local sorted = {}
  for i, n in ipairs(names) do sorted[i] = n end
  table.sort(sorted)  -- the first of equally close names wins: keep it stable
  local best = Q().suggest(name, sorted)
  if best then return (" (did you mean '%s'?)"):format(best) end
  return ""
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list or {}) do s[v] = true end
  return s
end

local function basename(p)
  return (p:match("([^/]*)$"))
end

---------------------------------------------------------------------------
-- The cache.

local FORMAT = 1

local function default_cache_dir()
  local x = os.getenv("XDG_CACHE_HOME")
  if x and x:sub(1, 1) == "/" then return x .. "/qlua" end  -- relative: invalid, ignored (XDG)
  local h = os.getenv("HOME")
  if h and h ~= "" then return h .. "/.cache/qlua" end
  return nil
end

-- The cache file of the binary at abs in dir.
function M.cache_file(dir, abs)
  return dir .. "/qemu-" .. abs:gsub("[^%w%.%-]", "_") .. ".json"
end

local function load_cache(file, key)
  local f = file and io.open(file, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local c = Q().json_decode(text)
  if type(c) ~= "table" or c.format ~= FORMAT or type(c.binary) ~= "table" or
     c.binary.path ~= key.path or c.binary.size ~= key.size or c.binary.mtime ~= key.mtime then
    return nil
  end
  return c
end

-- Written whole or not at all (qemu._write_file: aside under a random
-- name, then renamed), so processes that probe the same binary at once
-- never read each other's half-written file.
local function save_cache(dir, file, c)
  local text = Q().json(c) .. "\n"
  if Q()._write_file(file, text) then return true end
  Q()._mkdir_p(dir)
  return Q()._write_file(file, text)  -- nil, why: no cache, the answers are asked again next time
end

---------------------------------------------------------------------------
-- Asking QEMU.

-- A QEMU started to be asked questions; :ask returns the answer, or nil and
-- the QMP error (class "Disconnected" when QEMU died on the question).
local Probe = {}
Probe.__index = Probe

local function probe_start(abs, machine)
  local ok, vm = pcall(Q().launch, {
    path = abs, machine = { type = machine or "none" },
    knobs = { no_defaults = true, no_user_config = true, stopped = true },
  }, { console = "none" })
  if not ok then return nil, tostring(vm) end
  return setmetatable({ vm = vm, started = true }, Probe)
end

function Probe:ask(cmd, args)
  return self.vm.qmp:execute(cmd, args, { timeout = 30 })
end

function Probe:stop()
  if self.vm:alive() then
    pcall(self.vm.qmp.execute, self.vm.qmp, "quit", nil, { timeout = 5 })
    if not self.vm:wait(5) then
      self.vm:kill(9)
      self.vm:wait(5)
    end
  end
end

-- Why QEMU did not answer: its QMP error and the first line of its stderr.
local function died(p, err)
  local e = p.vm:stderr():match("[^\n]+")
  return tostring(err and err.desc or err) .. (e and (": " .. e) or "")
end

-- Why a dry run cannot answer: what the cache lacks, and what fills it.
-- (The script's name when there is one: arg[-1] is there only then.)
local function not_asked(key, c, todo_dev, todo_machine, dir)
  if not dir then
    return ("a dry run starts no QEMU, and with no cache directory (cache_dir = false, or neither "
      .. "$XDG_CACHE_HOME nor $HOME set) it has no answers from %s"):format(key.path)
  end
  local what = {}
  for _, d in ipairs(todo_dev) do what[#what + 1] = ("device '%s'"):format(d) end
  if todo_machine then what[#what + 1] = ("machine type '%s'"):format(todo_machine) end
  local about = c.version and c.objects and ("about " .. table.concat(what, ", ") .. " ") or ""
  local script = type(arg) == "table" and arg[-1] ~= nil and type(arg[0]) == "string" and arg[0] or "SCRIPT"
  return ("a dry run starts no QEMU, and %s has not been asked %syet (qlua --probe %s asks it and caches "
    .. "its answers)"):format(key.path, about, script)
end

-- Asks the binary (key: path, size, mtime) whatever `need` lists that the
-- cache c lacks, into c.  need = { devices = {names}, machine = a machine
-- type whose properties are needed, or nil }.  Returns how many QEMUs it
-- started (0: everything was in c), or nil and why it could not ask.
-- Without may_ask (a dry run: qlua -n, --json, --check) it starts none:
-- false, and the devices and machine type c lacks.
local function fill(c, key, need, may_ask)
  local todo_dev, todo_machine
  local function todo()
    todo_dev = {}
    local seen = {}
    for _, d in ipairs(need.devices) do
      if not seen[d] and c.device_props[d] == nil and c.devices_set[d] then todo_dev[#todo_dev + 1] = d end
      seen[d] = true
    end
    local m = need.machine and c.machines and c.machines[need.machine]
    todo_machine = m and c.machine_props[m] == nil and m or nil
  end
  todo()
  if c.version and c.objects and #todo_dev == 0 and not todo_machine then return 0 end
  if not may_ask then return false, todo_dev, todo_machine end

  local started, p = 0, nil
  local function start(machine)
    if p then p:stop() end
    local err
    p, err = probe_start(key.path, machine)
    if not p then return nil, err end
    started = started + 1
    return true
  end
  local function ask(cmd, args)
    local r, e = p:ask(cmd, args)
    if r == nil then return nil, ("'%s' did not answer: %s"):format(key.path, died(p, e)), e end
    return r
  end
  local function finish(...)
    if p then p:stop() end
    return ...
  end
  local ok, err = start()
  if not ok then return nil, err end

  if not c.version then
    local v, ms, ts
    v, err = ask("query-version")
    if not v then return finish(nil, err) end
    c.version = { major = v.qemu.major, minor = v.qemu.minor, micro = v.qemu.micro, package = v.package }
    ms, err = ask("query-machines")
    if not ms then return finish(nil, err) end
    c.machines, c.deprecated_machines = {}, {}
    for _, m in ipairs(ms) do
      c.machines[m.name] = m.name
      if type(m.alias) == "string" then c.machines[m.alias] = m.name end
      if m.deprecated == true then c.deprecated_machines[#c.deprecated_machines + 1] = m.name end
    end
    table.sort(c.deprecated_machines)
    ts, err = ask("qom-list-types", { implements = "device", abstract = false })
    if not ts then return finish(nil, err) end
    c.devices = {}
    for _, t in ipairs(ts) do c.devices[#c.devices + 1] = t.name end
    table.sort(c.devices)
    c.devices_set = set_of(c.devices)
    todo()
  end

  if not c.objects then  -- also for a cache written before objects were asked
    local ts
    ts, err = ask("qom-list-types", { implements = "user-creatable", abstract = false })
    if not ts then return finish(nil, err) end
    c.objects = {}
    for _, t in ipairs(ts) do c.objects[#c.objects + 1] = t.name end
    table.sort(c.objects)
  end

  for _, d in ipairs(todo_dev) do
    local props, _, e = ask("device-list-properties", { typename = d })
    if props then
      local names = {}
      for _, x in ipairs(props) do names[#names + 1] = x.name end
      table.sort(names)
      c.device_props[d] = names
    else
      c.device_props[d] = false  -- it would not say: not checked
      if e and e.class == "Disconnected" then
        ok, err = start()
        if not ok then return finish(nil, err) end
      end
    end
  end

  if todo_machine then
    local m = todo_machine
    local props, _, e = ask("qom-list-properties", { typename = m .. "-machine" })
    if not props and e and e.class == "Disconnected" then
      -- QEMU 7.2 aborts creating some machines' objects under -machine none
      -- (microvm-machine): ask a QEMU of that machine about itself instead
      if start(m) then props = ask("qom-list", { path = "/machine" }) end
    end
    if props then
      local names = {}
      for _, x in ipairs(props) do
        if not (x.type or ""):match("^child<") then names[#names + 1] = x.name end
      end
      table.sort(names)
      c.machine_props[m] = names
    else
      c.machine_props[m] = false
    end
  end
  return finish(started)
end

-- The answers for the binary `path`: the cache's, completed by asking QEMU.
-- Returns info, or nil and why not ("field 'path': ...").
local function answers(path, need, opts)
  local abs, size, mtime = Q().which(path)
  if not abs then return nil, "no QEMU binary: " .. size end
  local key = { path = abs, size = size, mtime = mtime }
  local dir = opts.cache_dir
  if dir == nil then dir = default_cache_dir() end
  local file = dir and M.cache_file(dir, abs)
  local c = dir and load_cache(file, key)
  local fresh = not c
  c = c or { format = FORMAT, binary = key }
  c.device_props = c.device_props or {}
  c.machine_props = c.machine_props or {}
  c.devices_set = set_of(c.devices)
  -- a dry run (qlua -n, --json, --check) asks no QEMU and writes no cache;
  -- --probe is for both
  local dry, _, probing = Q()._dry_run()
  local may_ask = not dry or probing
  local started, err, todo_machine = fill(c, key, need, may_ask)
  if started == false then return nil, not_asked(key, c, err, todo_machine, dir) end
  if not started then return nil, err end
  if dir and (fresh or started > 0) and may_ask then
    local set = c.devices_set
    c.devices_set = nil
    local saved, why = save_cache(dir, file, c)
    c.devices_set = set
    -- a run asks again next time; --probe is run for the cache, and the
    -- --check after it would say "not asked yet": say why now
    if not saved and probing then
      io.stderr:write("qlua: warning: --probe cannot write the cache of QEMU's answers (", tostring(why),
        "): qlua --check will not find them\n")
    end
  end
  c.started = started
  c.label = ("QEMU %d.%d.%d (%s)"):format(c.version.major, c.version.minor, c.version.micro, basename(abs))
  c.abs = abs
  return c
end

---------------------------------------------------------------------------
-- Deprecated forms (no QEMU needed).

-- Splits a key=value list at its single commas (",," is a comma in a value).
local function items(s)
  local out, cur, i = {}, {}, 1
  while i <= #s do
    local ch = s:sub(i, i)
    if ch == "," and s:sub(i + 1, i + 1) == "," then
      cur[#cur + 1] = ","
      i = i + 2
    elseif ch == "," then
      out[#out + 1] = table.concat(cur)
      cur = {}
      i = i + 1
    else
      cur[#cur + 1] = ch
      i = i + 1
    end
  end
  out[#out + 1] = table.concat(cur)
  return out
end

local function deprecations(u, warn)
  local x = u.extra_args
  local i = 1
  while i <= #x do
    local a = x[i]
    local opt = a:match("^%-%-?[%w_-]+$") and ("-" .. a:gsub("^%-%-?", ""))
    local here = ("%sextra_args[%d]: "):format(u.where, i)
    if opt and M.REMOVED_OPTIONS[opt] then
      warn(here .. ("'%s' %s"):format(a, M.REMOVED_OPTIONS[opt]))
    end
    local value = x[i + 1]
    if opt and KEYVAL[opt] ~= nil and value and not value:match("^%s*{") then
      local its = items(value)
      for k, it in ipairs(its) do
        if it ~= "" and not it:find("=", 1, true) and not (k == 1 and KEYVAL[opt]) then
          local key, on = it, "on"
          if it:sub(1, 2) == "no" and #it > 2 then key, on = it:sub(3), "off" end
          warn(here .. ("'%s %s': short-form boolean '%s' is deprecated (write '%s=%s')"):format(
            a, value, it, key, on))
        end
      end
      if opt == "-device" and M.REMOVED_DEVICES[its[1]] then
        warn(here .. ("'%s %s': device '%s' %s"):format(a, value, its[1], M.REMOVED_DEVICES[its[1]]))
      end
      i = i + 2
    else
      i = i + 1
    end
  end
  for _, d in ipairs(u.devices) do
    if d.kind == "device" and M.REMOVED_DEVICES[d.driver] then
      warn(("%sdevices[%d] (device): field 'driver': '%s' %s"):format(d.where or u.where, d.dev, d.driver,
        M.REMOVED_DEVICES[d.driver]))
    end
  end
end

---------------------------------------------------------------------------
-- The check.

local function device_label(u, d)
  if d.dev and d.dev > 0 then
    return ("%sdevices[%d] (%s): "):format(d.where or u.where, d.dev, d.kind)
  end
  return u.where
end

local function compare(u, c, errors, warn)
  local L = c.label
  -- machine type and options
  local mtype = u.machine.type
  local canonical = mtype and c.machines[mtype]
  if mtype and not canonical then
    local names = {}
    for n in pairs(c.machines) do names[#names + 1] = n end
    errors[#errors + 1] = ("%sfield 'machine.type': %s has no machine type '%s'%s"):format(u.where, L, mtype,
      suggest(mtype, names))
  end
  if canonical then
    for _, d in ipairs(c.deprecated_machines or {}) do
      if d == canonical then
        warn(("%sfield 'machine.type': %s says machine type '%s' is deprecated"):format(u.where, L, mtype))
      end
    end
  end
  local mprops = canonical and c.machine_props[canonical]
  if mprops then
    local set = set_of(mprops)
    for _, k in ipairs(u.machine.options or {}) do
      local name = k:gsub("_", "-"):match("^[^.]*")  -- QEMU dashifies -machine keys; a.b.c is a's
      if not set[name] and not LEGACY_MACHINE_KEYS[name] then
        errors[#errors + 1] = ("%sfield 'machine.options.%s': %s: machine type '%s' has no machine property '%s'%s"):format(
          u.where, k, L, mtype, name, suggest(name, mprops))
      end
    end
  end
  -- object types (qlua checks the choice; which types exist is the binary's)
  local objects = set_of(c.objects)
  for _, o in ipairs(u.objects or {}) do
    if not objects[o.type] then
      errors[#errors + 1] = ("%sdevices[%d] (object): field 'type': %s has no object type '%s'"):format(
        o.where or u.where, o.dev, L, o.type)
    end
  end
  -- devices and their properties
  for _, d in ipairs(u.devices) do
    local here = device_label(u, d)
    if d.driver ~= "" and not c.devices_set[d.driver] then
      errors[#errors + 1] = ("%s%s%s has no device '%s'%s"):format(here,
        d.field and ("field '%s': "):format(d.field) or "", L, d.driver, suggest(d.driver, c.devices))
    elseif d.driver ~= "" then
      local props = c.device_props[d.driver]
      if props then
        local set = set_of(props)
        for _, k in ipairs(d.keys) do
          if not NOT_PROPERTIES[k.key] and not set[k.key] then
            if k.free then
              errors[#errors + 1] = ("%s%s: property '%s' of device '%s' does not exist%s"):format(here, L, k.key,
                d.driver, suggest(k.key, props))
            elseif k.field then
              errors[#errors + 1] = ("%sfield '%s': %s: device '%s' has no property '%s'%s"):format(here, k.field, L,
                d.driver, k.key, suggest(k.key, props))
            else
              errors[#errors + 1] = ("%s%s: device '%s' has no property '%s' (qlua sets it)"):format(here, L,
                d.driver, k.key)
            end
          end
        end
      end
    end
  end
end

-- qemu.check(vm [, opts]) -> true, warnings | nil, errors, warnings.
-- (where, nargs: the caller's line and argument count, from the C stub.)
function M.check(vm, opts, where, nargs)
  if type(vm) ~= "table" then
    error(("%sbad argument #1 to 'check' (VM description expected, got %s)"):format(where or "", type(vm)), 0)
  end
  -- its record in src/options.c (qlua --describe check)
  opts = Q().check_options("check", opts, where or "", 2)
  local u = Q()._uses(vm, where)
  local warnings = {}
  local function warn(msg)
    warnings[#warnings + 1] = msg
    if opts.warn ~= false then io.stderr:write("qlua: warning: ", msg, "\n") end
  end
  deprecations(u, warn)
  local need = { devices = {}, machine = nil }
  for _, d in ipairs(u.devices) do
    if d.driver ~= "" then need.devices[#need.devices + 1] = d.driver end
  end
  if u.machine.type and #(u.machine.options or {}) > 0 then need.machine = u.machine.type end
  local errors = {}
  local c, err = answers(u.path, need, opts)
  if not c then
    errors[1] = ("%sfield 'path': %s"):format(u.where, err)
    return nil, errors, warnings
  end
  compare(u, c, errors, warn)
  -- what qlua --check and --probe report; started: how many QEMUs this check ran (0:
  -- every answer came from the cache)
  M.last = { label = c.label, path = c.abs, started = c.started }
  if #errors > 0 then return nil, errors, warnings end
  return true, warnings
end

local function binary(path, where, fname)
  if path ~= nil and type(path) ~= "string" then
    error(("%sbad argument #%d to '%s' (string expected, got %s)"):format(where or "", fname == "qemu_version" and 1 or 2,
      fname, type(path)), 0)
  end
  local u = Q()._uses({ path = path })
  local c, err = answers(u.path, { devices = {} }, {})
  if not c then error(("%s%s: %s"):format(where or "", fname, err), 0) end
  return c
end

-- qemu.has_device(name [, path]) -> boolean: does the binary (path, else
-- the default QEMU) have a device of that name?  Raises when it cannot ask.
function M.has_device(name, path, where)
  if type(name) ~= "string" then
    error(("%sbad argument #1 to 'has_device' (string expected, got %s)"):format(where or "", type(name)), 0)
  end
  return binary(path, where, "has_device").devices_set[name] == true
end

-- qemu.qemu_version([path]) -> "7.2.22", { major, minor, micro, package }.
function M.qemu_version(path, _, where)
  local v = binary(path, where, "qemu_version").version
  return ("%d.%d.%d"):format(v.major, v.minor, v.micro),
         { major = v.major, minor = v.minor, micro = v.micro, package = v.package }
end

return M
