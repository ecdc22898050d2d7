-- qemu.recipes - building blocks for VM descriptions, meant to be merged.
--
--   local qemu    = require "qemu"
--   local merge   = require "qemu.merge"        -- also qemu.merge
--   local recipes = require "qemu.recipes"
--   return merge(
--     recipes.q35 { accel = "kvm" },
--     recipes.linux { kernel = "vmlinuz", initrd = "initrd.img", append = "root=/dev/vda" },
--     recipes.serial_console(),
--     recipes.disk { file = "debian.qcow2", format = "qcow2", overlay = true },
--     { memory = { size = "1G" } })
--
-- Each recipe takes one table of named options and returns a partial VM
-- description (a plain table); merging them gives the VM.  They compose
-- because qemu.merge appends devices and joins kernel.params, so each recipe
-- adds its own words to the kernel command line (console=ttyS0,
-- tsc_early_khz=...) and its own devices.
--
-- A recipe checks only its own options (their schema is its record in
-- src/options.c: `qlua --describe recipes.disk`): an unknown option, a
-- missing required one or one of the wrong type raises at the caller's line,
-- naming the recipe, in the words the device fields use:
--   vm.lua:7: recipes.disk: unknown field 'fiel' (did you mean 'file'?)
-- Device fields are checked by the C constructors; their errors are raised at
-- the caller's line too, and the devices are recorded as built there:
--   vm.lua:7: recipes.disk: block: field 'format': invalid option 'qcow3' (...)
--
-- The recipes:
--   pc{accel, cpu, options}, q35{...}      -machine pc / q35.  accel: "tcg" (the
--                                           default), "kvm", "kvm:tcg", or "auto" (kvm
--                                           when qemu.kvm_usable() says KVM runs a
--                                           test vCPU here, else tcg; a note on stderr
--                                           says which and why);
--                                           cpu: cpu_model; options: machine.options.
--   uefi{secure}                           OVMF firmware on q35 (firmware = "uefi";
--                                           secure = true: "uefi-secure", Secure Boot
--                                           with SMM).  Merge it after pc{}/q35{}/
--                                           microvm{}: it sets machine.type "q35".
--   microvm{accel, cpu, options, tsc_early_khz}
--                                           -machine microvm, and tsc_early_khz=N on the
--                                           kernel command line (N from /proc/cpuinfo's
--                                           "cpu MHz"; a number sets it, false leaves it
--                                           out: the kernel command line needs a
--                                           kernel, so use false without linux{}).
--                                           microvm has no PCI: qlua gives its virtio
--                                           devices the virtio-mmio transport itself
--                                           (virtio-blk-device, ...).
--   linux{kernel, initrd, append}           direct kernel boot; append: a string or a
--                                           list of words, added to kernel.params.
--   serial_console()                        console=ttyS0: the guest's console on the
--                                           first serial port, which is where qlua puts
--                                           the console (qemu.launch's console =
--                                           "capture"/"stdio"/"file:P", qlua vm.lua) —
--                                           qlua adds the -serial and -display none.
--   disk{file, format, readonly, overlay, dir, id, transport}
--                                           one qemu.block (virtio-blk).  id: default the
--                                           file's name ("disk.img").  overlay = true:
--                                           the VM gets a throw-away qcow2 made with
--                                           `qemu-img create -f qcow2 -b FILE -F FORMAT`
--                                           (FILE made absolute), named ID.overlay.qcow2,
--                                           in the run directory: `dir` if given, else
--                                           recipes.run_dir if set, else a fresh
--                                           directory ($TMPDIR or /tmp, qlua-run.<12 hex
--                                           digits>, mode 0700) that is removed when the
--                                           Lua state closes (at qlua's exit).  Nothing
--                                           is made by the recipe: the description's
--                                           `prepare` steps (mkdir, qemu-img) make them
--                                           when the VM is launched, and a dry run
--                                           (qlua -n) prints them.  FILE must exist.  The
--                                           overlay's path is the device's `file`.
--                                           $QLUA_QEMU_IMG names qemu-img.
--   share{path, tag, id, security_model, transport}
--                                           a 9p share (qemu.fsdev); id: default the tag;
--                                           security_model: default "none".
--   tap{ifname | fds, queues, mac, id, vnet_hdr, transport}
--                                           a virtio-net NIC on a tap (qemu.netdev):
--                                           ifname alone: QEMU opens the tap; ifname and
--                                           queues: qlua opens `queues` queues now
--                                           (qemu.tap, vnet_hdr when queues > 1); fds: the
--                                           given qemu.fd queues.  mac: mac_address.
--                                           id: default the ifname, else "net0".
--   cloud_init{hostname, user_data, meta_data, network_config, ssh_authorized_keys,
--              run_cmd, ssh_key, user, instance_id, dir, id, transport}
--                                           a cloud-init NoCloud seed made at launch, as a
--                                           read-only virtio disk, with a per-VM ssh key
--                                           pair for vm:ssh: see lua/qemu/cloud_init.lua.
--   test_guest{checks, machine, accel, memory, name, guest_dir}
--                                           a whole bootable description of the test
--                                           guest (scripts/build-guest.sh): q35 (or
--                                           "pc", "microvm"), accel "tcg", 256M,
--                                           no_defaults, no_user_config, no_reboot,
--                                           kernel.params "console=ttyS0 quiet panic=-1 no_timer_check"
--                                           + checks (a string or a list of words).  The
--                                           guest is found in guest_dir, else
--                                           $QLUA_GUEST_DIR, else build/guest of the
--                                           source tree this file is in (or, from an
--                                           installed qlua binary, of the tree the
--                                           binary is in), else ./build/guest.
--   debian{firmware, disk_bus, cpus, memory, hostname, image, ...}
--                                           a whole Debian 12 system booted by its
--                                           firmware from a throw-away overlay of
--                                           `make distro-image`'s image, with a
--                                           cloud-init seed, ssh forwarded from a free
--                                           host port: see lua/qemu/debian.lua.
--
-- transport = "pci", "mmio" or "ccw" for disk, share and tap: the device's
-- `transport` field.  Without it qlua picks the transport from the VM the
-- device ends up in (mmio on microvm, ccw on s390x, else pci), so the same
-- recipe fits every machine; give it only to override that choice.
-- recipes.guest_dir([dir]) returns the test guest's directory, or nil and the
-- places it looked in; recipes.transport(machine) returns the transport qlua
-- picks for a machine type: "mmio" for microvm, "ccw" for s390-ccw-virtio,
-- else "pci".

local merge = require "qemu.merge"
local U = merge._util

local SELF = debug.getinfo(1, "S").source
U.library[SELF] = true   -- errors go to the caller of a recipe, not here

local R = {}

-- The run directory of overlays when a disk{} has no `dir` (see above).
R.run_dir = nil

---------------------------------------------------------------------------
-- Options.

-- The closest option name, when close enough to be a typo (as the C checker).
local function suggest(name, spec)
  local names = {}
  for i, o in ipairs(spec) do names[i] = o[1] end
  return U.Q().suggest(name, names)
end

local function typename(v)
  if type(v) == "userdata" then
    local mt = debug.getmetatable(v)
    local n = type(mt) == "table" and rawget(mt, "__name")
    if type(n) == "string" then return n end
  end
  return type(v)
end

local function is_fd(v)
  return type(v) == "userdata" and U.kind_of(v) == nil and typename(v) == "qemu.fd"
end

-- Each type: a check returning nil when v fits, else what was expected.
local TYPES = {
  string = function(v) return type(v) ~= "string" and "string" or nil end,
  boolean = function(v) return type(v) ~= "boolean" and "boolean" or nil end,
  count = function(v)
    return (math.type(v) ~= "integer" or v < 1) and "positive integer" or nil
  end,
  size = function(v)
    return not (math.type(v) == "integer" or type(v) == "string") and "size (integer or string)" or nil
  end,
  table = function(v) return type(v) ~= "table" and "table" or nil end,
  words = function(v)
    if type(v) == "string" then return nil end
    if type(v) == "table" then
      for i = 1, #v do if type(v[i]) ~= "string" then return "string or list of strings" end end
      for k in pairs(v) do
        if math.type(k) ~= "integer" then return "string or list of strings" end
      end
      return nil
    end
    return "string or list of strings"
  end,
  file = function(v) return not (type(v) == "string" or is_fd(v)) and "path or qemu.fd" or nil end,
  fds = function(v)
    if is_fd(v) then return nil end
    if type(v) == "table" and #v > 0 then
      for i = 1, #v do if not is_fd(v[i]) then return "qemu.fd or list of qemu.fd" end end
      return nil
    end
    return "qemu.fd or list of qemu.fd"
  end,
  khz = function(v)
    return not (v == false or (math.type(v) == "integer" and v > 0)) and "positive integer or false" or nil
  end,
}

local function quoted_list(choices)
  local q = {}
  for i, c in ipairs(choices) do q[i] = "'" .. c .. "'" end
  if #q == 1 then return q[1] end
  return table.concat(q, ", ", 1, #q - 1) .. " or " .. q[#q]
end

-- The options tables the C core knows (src/options.c: qemu.option_kinds()).
local known
local function c_record(name)
  if not known then
    known = {}
    local Q = U.Q()
    if rawget(Q, "option_kinds") then
      for _, k in ipairs(Q.option_kinds()) do known[k] = true end
    end
  end
  return known[name]
end

-- Checks a recipe's options and returns a copy of them (never opts
-- itself).  The recipe's record in src/options.c is the schema, checked by
-- qemu.check_options as devices are (one checker, one error grammar:
-- "recipes.disk: unknown field 'fiel' (did you mean 'file'?)").  spec, a
-- list of { name, type, required = bool, choices = {...} }, is only for a
-- recipe that has no record yet; it is checked here in the same words.
local function options(recipe, opts, spec, info)
  local function bad(msg) U.raise(info, recipe .. ": " .. msg) end
  if c_record(recipe) then
    U.Q().check_options(recipe, opts, U.where(info))
    local out = {}
    for k, v in pairs(opts or {}) do out[k] = v end
    return out
  end
  if opts == nil then opts = {} end
  if type(opts) ~= "table" or U.kind_of(opts) then
    bad(("table of options expected, got %s"):format(typename(opts)))
  end
  local byname = {}
  for _, o in ipairs(spec) do byname[o[1]] = o end
  local keys = {}
  for k in pairs(opts) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then return a < b end
    return type(a) < type(b)
  end)
  for _, k in ipairs(keys) do
    if type(k) ~= "string" then
      bad(("field names must be strings, got %s %s (fields are named: write key = value)"):format(type(k),
        tostring(k)))
    end
    if not byname[k] then
      local s = suggest(k, spec)
      if s then bad(("unknown field '%s' (did you mean '%s'?)"):format(k, s)) end
      bad(("unknown field '%s'"):format(k))
    end
  end
  local out = {}
  for _, o in ipairs(spec) do
    local name, v = o[1], opts[o[1]]
    if v == nil then
      if o.required then bad(("field '%s' is required"):format(name)) end
    else
      local want = TYPES[o[2]](v)
      if want then
        bad(("field '%s': %s expected, got %s"):format(name, want, typename(v)))
      end
      if o.choices then
        local okc = false
        for _, c in ipairs(o.choices) do if c == v then okc = true end end
        if not okc then
          bad(("field '%s': invalid option '%s' (expected %s)"):format(name, tostring(v),
            quoted_list(o.choices)))
        end
      end
      out[name] = v
    end
  end
  return out
end

-- Builds a device at the caller's line; its errors name the recipe.
local function build(recipe, info, kind, fields)
  local ok, res = U.construct(info, U.Q()[kind], fields)
  if not ok then U.raise(info, recipe .. ": " .. tostring(res)) end
  return res
end

local function words(v)
  if v == nil then return nil end
  if type(v) == "table" then v = table.concat(v, " ") end
  if v == "" then return nil end
  return v
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- QEMU's id rules: a letter, then letters, digits, '-', '.', '_'.
local function make_id(s, prefix)
  s = s:gsub("[^%w%-%._]", "_")
  if not s:match("^%a") then s = prefix .. s end
  return s
end

local TRANSPORT = { "pci", "mmio", "ccw" }

-- (what qlua picks by itself; kept for scripts that passed it explicitly)
function R.transport(machine)
  if machine == "microvm" then return "mmio" end
  if type(machine) == "string" and machine:sub(1, 15) == "s390-ccw-virtio" then return "ccw" end
  return "pci"
end

---------------------------------------------------------------------------
-- Machines.

-- accel = "auto": kvm when KVM really runs a guest here (qemu.kvm_usable
-- runs a test vCPU; a /dev/kvm that opens is no proof), else tcg.  Which one
-- and why goes to stderr, once per process.
local auto_said
local function auto_accel()
  local ok, why = U.Q().kvm_usable()
  local accel = ok and "kvm" or "tcg"
  if not auto_said then
    auto_said = true
    io.stderr:write(("qlua: accel 'auto' is %s: %s\n"):format(accel, why))
  end
  return accel
end

local MACHINE_SPEC = {
  { "accel", "string" }, { "cpu", "string" }, { "options", "table" },
}

local function machine(type_, o)
  local accel = o.accel or "tcg"
  if accel == "auto" then accel = auto_accel() end
  return { machine = { type = type_, accel = accel, options = o.options }, cpu_model = o.cpu }
end

function R.pc(opts)
  local info = U.caller()
  return machine("pc", options("recipes.pc", opts, MACHINE_SPEC, info))
end

function R.q35(opts)
  local info = U.caller()
  return machine("q35", options("recipes.q35", opts, MACHINE_SPEC, info))
end

-- firmware = "uefi" (OVMF) on q35; secure: "uefi-secure" (Secure Boot,
-- qlua adds smm=on).  C checks the rest (see the VM field `firmware`).
function R.uefi(opts)
  local info = U.caller()
  local o = options("recipes.uefi", opts, { { "secure", "boolean" } }, info)
  return { firmware = o.secure and "uefi-secure" or "uefi", machine = { type = "q35" } }
end

local host_khz
local function tsc_khz()
  if host_khz == nil then
    host_khz = false
    local f = io.open("/proc/cpuinfo", "r")
    if f then
      for line in f:lines() do
        local mhz = line:match("^cpu MHz%s*:%s*([%d.]+)")
        if mhz then
          host_khz = math.floor(tonumber(mhz) * 1000 + 0.5)
          break
        end
      end
      f:close()
    end
  end
  return host_khz
end

local MICROVM_SPEC = {
  { "accel", "string" }, { "cpu", "string" }, { "options", "table" }, { "tsc_early_khz", "khz" },
}

function R.microvm(opts)
  local info = U.caller()
  local o = options("recipes.microvm", opts, MICROVM_SPEC, info)
  if o.tsc_early_khz ~= nil and TYPES.khz(o.tsc_early_khz) then
    U.raise(info, ("recipes.microvm: field 'tsc_early_khz': positive integer or false expected, got %s"):format(
      typename(o.tsc_early_khz)))
  end
  local d = machine("microvm", o)
  local khz = o.tsc_early_khz
  if khz == nil then khz = tsc_khz() end
  if khz then d.kernel = { params = "tsc_early_khz=" .. khz } end
  return d
end

---------------------------------------------------------------------------
-- Booting.

local LINUX_SPEC = {
  { "kernel", "string", required = true }, { "initrd", "string" }, { "append", "words" },
}

function R.linux(opts)
  local info = U.caller()
  local o = options("recipes.linux", opts, LINUX_SPEC, info)
  return { kernel = { path = o.kernel, initrd = o.initrd, params = words(o.append) } }
end

function R.serial_console(opts)
  local info = U.caller()
  options("recipes.serial_console", opts, {}, info)
  return { kernel = { params = "console=ttyS0" } }
end

---------------------------------------------------------------------------
-- Devices.

local cwd
local function absolute(path)
  if path:sub(1, 1) == "/" then return path end
  if not cwd then cwd = U.Q()._cwd() end  -- (in C: a dry run starts no `pwd`)
  return (cwd or ".") .. "/" .. path:gsub("^%./", "")
end

-- The directory an overlay goes in (see the header), and the prepare steps
-- that make it at launch.  Nothing is made now: a dry run prints the steps.
local function run_dir(dir)
  dir = dir or R.run_dir
  if dir then
    if dir:sub(1, 1) == "-" then dir = "./" .. dir end   -- not an option of mkdir or qemu-img
    return dir, { { argv = { "mkdir", "-p", dir } } }
  end
  -- a fresh directory, as mktemp -d would make it: an unpredictable name,
  -- mode 0700, and mkdir fails if it exists; removed when qlua exits
  local tmp = os.getenv("TMPDIR")
  if not tmp or tmp == "" then tmp = "/tmp" end
  local d = tmp:gsub("/+$", "") .. "/qlua-run." .. require("qemu")._random_hex(6)
  return d, { { argv = { "mkdir", "-m", "0700", d }, remove = d } }
end

local DISK_SPEC = {
  { "file", "file", required = true }, { "format", "string" }, { "readonly", "boolean" },
  { "overlay", "boolean" }, { "dir", "string" }, { "id", "string" },
  { "transport", "string", choices = TRANSPORT },
}

function R.disk(opts)
  local info = U.caller()
  local o = options("recipes.disk", opts, DISK_SPEC, info)
  local id = o.id
  if not id then
    if type(o.file) ~= "string" then
      U.raise(info, "recipes.disk: field 'id' is required when 'file' is a qemu.fd")
    end
    id = make_id(o.file:match("([^/]*)/*$"), "disk-")
  end
  local file, format, prepare = o.file, o.format, nil
  if o.overlay then
    if type(file) ~= "string" then
      U.raise(info, "recipes.disk: field 'overlay' needs 'file' to be a path, not a qemu.fd")
    end
    if not format then
      U.raise(info, "recipes.disk: field 'format' is required with 'overlay' (the format of 'file')")
    end
    -- the base must exist now (qemu-img would only say so at launch)
    local base = absolute(file)
    local f, why = io.open(base, "rb")
    if not f then U.raise(info, ("recipes.disk: cannot make the overlay of '%s': %s"):format(file, why)) end
    f:close()
    local dir
    dir, prepare = run_dir(o.dir)
    local overlay = dir .. "/" .. id:gsub("[^%w%-%._]", "_") .. ".overlay.qcow2"
    local img = os.getenv("QLUA_QEMU_IMG")
    if not img or img == "" then img = "qemu-img" end
    prepare[#prepare + 1] = { argv = { img, "create", "-q", "-f", "qcow2", "-b", base, "-F", format, overlay } }
    file, format = overlay, "qcow2"
  elseif o.dir then
    U.raise(info, "recipes.disk: field 'dir' is only used with 'overlay = true'")
  end
  return { devices = { build("recipes.disk", info, "block", {
    id = id, file = file, format = format, read_only = o.readonly or nil, transport = o.transport,
  }) }, prepare = prepare }
end

local SHARE_SPEC = {
  { "path", "string", required = true }, { "tag", "string", required = true }, { "id", "string" },
  { "security_model", "string" }, { "transport", "string", choices = TRANSPORT },
}

function R.share(opts)
  local info = U.caller()
  local o = options("recipes.share", opts, SHARE_SPEC, info)
  return { devices = { build("recipes.share", info, "fsdev", {
    id = o.id or make_id(o.tag, "fs-"), path = o.path, mount_tag = o.tag,
    security_model = o.security_model or "none", transport = o.transport,
  }) } }
end

local TAP_SPEC = {
  { "ifname", "string" }, { "fds", "fds" }, { "queues", "count" }, { "mac", "string" },
  { "id", "string" }, { "vnet_hdr", "boolean" }, { "transport", "string", choices = TRANSPORT },
}

function R.tap(opts)
  local info = U.caller()
  if type(opts) == "table" and is_fd(rawget(opts, "fds")) then   -- one queue: a list of one
    local copy = {}
    for k, v in pairs(opts) do copy[k] = v end
    copy.fds = { opts.fds }
    opts = copy
  end
  local o = options("recipes.tap", opts, TAP_SPEC, info)
  local fds, ifname = o.fds, o.ifname
  if fds and ifname then
    U.raise(info, "recipes.tap: give 'ifname' or 'fds', not both")
  elseif not fds and not ifname then
    U.raise(info, "recipes.tap: field 'ifname' or 'fds' is required")
  end
  if fds then
    if is_fd(fds) then fds = { fds } end
    if o.queues and o.queues ~= #fds then
      U.raise(info, ("recipes.tap: field 'queues' is %d but 'fds' has %d"):format(o.queues, #fds))
    end
    if o.vnet_hdr ~= nil then
      U.raise(info, "recipes.tap: field 'vnet_hdr' is for the queues qlua opens (ifname with queues)")
    end
  elseif o.queues then
    local vnet = o.vnet_hdr
    if vnet == nil then vnet = o.queues > 1 end
    local ok, res = pcall(U.Q().tap, ifname, { queues = o.queues, vnet_hdr = vnet })
    if not ok then U.raise(info, "recipes.tap: " .. tostring(res)) end
    fds, ifname = res, nil
  elseif o.vnet_hdr ~= nil then
    U.raise(info, "recipes.tap: field 'vnet_hdr' is for the queues qlua opens (ifname with queues)")
  end
  local copy
  if fds then
    copy = {}
    for i, f in ipairs(fds) do copy[i] = f end
  end
  return { devices = { build("recipes.tap", info, "netdev", {
    type = "tap", id = o.id or (o.ifname and make_id(o.ifname, "net-")) or "net0",
    ifname = ifname, fds = copy, mac_address = o.mac, transport = o.transport,
  }) } }
end

---------------------------------------------------------------------------
-- The test guest.

-- The source tree this file is in, when it is in one (lua/qemu/recipes.lua).
local function tree_of(source)
  local path = source:match("^@(.*)$")
  if not path then return nil end
  local pre = path:match("^(.-)lua/qemu/[^/]+%.lua$")
  if not pre then return nil end
  if pre == "" or pre == "./" then return "." end
  return (pre:gsub("/+$", ""))
end

-- Something a build script made under build/ (rel: "build/guest"): the
-- path given, else $ENV (env names it), else REL in the source tree of this
-- library, else in the tree the running binary sits in, else ./REL.  ok(path)
-- says whether a candidate is it.  Returns the path found (or nil) and the
-- places tried.
local function find_built(given, env, rel, ok)
  local tried = {}
  local function try(d)
    if not d or d == "" then return nil end
    tried[#tried + 1] = d
    if ok(d) then return d end
    return nil
  end
  if given then return try(given), tried end
  local e = os.getenv(env)
  if e and e ~= "" then return try(e), tried end
  local tree = tree_of(SELF)
  local found = tree and try(tree .. "/" .. rel)
  if found then return found, tried end
  -- the program this process runs (qlua, or the lua interpreter)
  local exe = U.Q()._exe()
  local exedir = exe and exe:match("^(.*)/[^/]+$")
  found = exedir and exedir ~= tree and try(exedir .. "/" .. rel)
  if found then return found, tried end
  if tree ~= "." then found = try("./" .. rel) end
  return found, tried
end

local function find_guest(dir)
  return find_built(dir, "QLUA_GUEST_DIR", "build/guest", function(d)
    return exists(d .. "/vmlinux") and exists(d .. "/initrd.gz")
  end)
end

function R.guest_dir(dir)
  local found, tried = find_guest(dir)
  return found and absolute(found), tried
end

local GUEST_SPEC = {
  { "checks", "words" }, { "machine", "string", choices = { "q35", "pc", "microvm" } },
  { "accel", "string" }, { "memory", "size" }, { "name", "string" }, { "guest_dir", "string" },
}

function R.test_guest(opts)
  local info = U.caller()
  local o = options("recipes.test_guest", opts, GUEST_SPEC, info)
  local dir, tried = R.guest_dir(o.guest_dir)
  if not dir then
    U.raise(info, ("recipes.test_guest: no test guest (vmlinux and initrd.gz) in %s; build it " ..
      "with scripts/build-guest.sh, or set QLUA_GUEST_DIR"):format(
      #tried > 0 and ("'" .. table.concat(tried, "', '") .. "'") or "any known place"))
  end
  local checks = words(o.checks)
  return (merge(
    { name = o.name or "test-guest", memory = { size = o.memory or "256M" },
      knobs = { no_user_config = true, no_defaults = true, no_reboot = true } },
    R[o.machine or "q35"] { accel = o.accel or "tcg" },
    R.linux { kernel = dir .. "/vmlinux", initrd = dir .. "/initrd.gz" },
    R.serial_console(),
    { kernel = { params = "quiet panic=-1 no_timer_check" } },
    checks and { kernel = { params = checks } } or nil))
end

---------------------------------------------------------------------------
-- Cloud-init: the body is lua/qemu/cloud_init.lua, which shares these.

R._helpers = { options = options, types = TYPES, run_dir = run_dir, build = build,
               absolute = absolute, R = R, find_built = find_built, exists = exists }

function R.cloud_init(opts)
  return (require("qemu.cloud_init").recipe(opts))
end

-- A whole Debian 12 system: the body is lua/qemu/debian.lua.
function R.debian(opts)
  return (require("qemu.debian").recipe(opts))
end

-- A name the table does not have is an error at the line that used it, as
-- for the qemu table: `recipes.merge(...)` said only "attempt to call a nil
-- value".  Probing for a recipe a newer qlua may have is rawget(recipes,
-- name); run_dir is a setting, nil until set.
local function names()
  local v = {}
  for k, f in pairs(R) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and type(f) == "function" then v[#v + 1] = k end
  end
  table.sort(v)
  return v
end

setmetatable(R, { __index = function(_, name)
  if name == "run_dir" or type(name) ~= "string" then return nil end
  local all = names()
  local s = U.Q().suggest(name, all)
  if s then
    error(("no recipe or function '%s' in qemu.recipes (did you mean '%s'?)"):format(name, s), 2)
  end
  error(("no recipe or function '%s' in qemu.recipes (it has %s%s)"):format(name, table.concat(all, ", "),
    name == "merge" and "; descriptions merge with qemu.merge" or ""), 2)
end })

return R
