-- fuzz/argv.lua - the argv target's driver (fuzz/README.md).
--
-- Decodes bytes into a VM description built the way scripts build them
-- (sections as tables, devices from the constructors), twice: once with
-- hostile strings (commas, ",,", '=', NUL, line breaks, a leading '-',
-- "id=x", broken UTF-8, thousands of bytes), and once, the twin, with each
-- of those strings replaced by a placeholder P1, P2, ... (the same string,
-- the same placeholder).  When both render, the two command lines must
-- agree option by option: read the way QEMU reads them, the hostile one has
-- exactly the twin's keys and its values are the twin's with each
-- placeholder replaced by its string.  A string that could split an option
-- would show up as a key the twin lacks; one cut or changed on the way, as
-- a value that differs.  Errors raised here are violations.
--
-- fuzz/argv.c loads this file and calls the function it returns on every
-- input.  `qlua fuzz/argv.lua FILE...` replays files instead (the committed
-- corpus, in spec/fuzz_spec.lua) and says what became of each.
local qemu = qemu or require "qemu"

local function violation(fmt, ...)
  error(fmt:format(...), 0)
end

-- ---- reading the input --------------------------------------------------------------
-- Past the end every byte is 0, so decoding always ends.

local Reader = {}
Reader.__index = Reader

local function reader(s)
  return setmetatable({ s = s, i = 1 }, Reader)
end

function Reader:byte()
  local b = self.s:byte(self.i) or 0
  self.i = self.i + 1
  return b
end

function Reader:u32()
  return self:byte() | self:byte() << 8 | self:byte() << 16 | self:byte() << 24
end

function Reader:bytes(n)
  local s = self.s:sub(self.i, self.i + n - 1)
  self.i = self.i + n
  return s
end

function Reader:pick(list)
  return list[self:byte() % #list + 1]
end

-- ---- strings --------------------------------------------------------------------------

-- Pieces of hostile strings: what QEMU's parser splits on, what looks
-- like an option, text that is not UTF-8; and, rarer, what no argv can
-- carry (qlua must refuse those).
local FRAGMENTS = {
  ",", ",,", ",,,", "=", "==", "id=x", ",id=x", ",,id=x", "a=b,c=d", "=,=", ",=", "-", "--", "-device",
  "-object", " ", "\t", "{", "}", "[", "\"", "'", "\\", "$(x)", ":", ".", "/", "opt/", "qlua-", "pci.0",
  "help", "?", "\xff", "\xc3\x28", "\xe2\x82", "\xf0\x9f\x98\x80", "\u{e9}", "\u{202e}", "\xed\xa0\x80",
  "%s", "%n",
}
local UNCARRIABLE = { "\n", "\r", "\r\n", "\0" }
-- Plain words, so that most strings are also valid ones.
local WORDS = { "disk", "img", "a", "x1", "/tmp/q", "share", "vm", "net0", "console=ttyS0", "0", "_" }

local function hostile(r)
  local parts = {}
  for i = 1, r:byte() % 4 + 1 do
    local b = r:byte()
    if b < 48 then
      parts[i] = r:bytes(b % 24)                               -- raw input bytes
    elseif b < 96 then
      parts[i] = r:bytes(b % 24):gsub("[%z\r\n]", ",")        -- the same, carriable
    elseif b < 184 then
      parts[i] = r:pick(FRAGMENTS)
    elseif b < 192 then
      parts[i] = r:pick(UNCARRIABLE)
    elseif b < 248 then
      parts[i] = r:pick(WORDS)
    else
      parts[i] = r:pick(FRAGMENTS):rep(1 + r:byte() * 16)    -- very long
    end
  end
  return table.concat(parts)
end

-- The placeholders of one input: text -> "P<n>", and n -> text.
local ph, text_of

-- A placeholder in twin text: the whole word P<digits>.
local TOKEN = "%f[%w]P(%d+)%f[%W]"

-- The hostile string and its twin's placeholder.
local function free(s)
  local p = ph[s]
  if not p then
    text_of[#text_of + 1] = s
    p = "P" .. #text_of
    ph[s] = p
  end
  return s, p
end

-- A string the twin keeps as it is when it has this shape (it then cannot
-- split an option, and its meaning may matter: a driver name that starts
-- with "virtio-"); otherwise it gets a placeholder like any free text.
local function kept_if(s, shape)
  if s:find(shape) and not s:find(TOKEN) then
    return s, s
  end
  return free(s)
end

local NAME = "^%w[%w_.+%-]*$"
local PROPNAME = "^%a[%w%-._]*$"

-- The twin's text with its placeholders replaced: what the hostile
-- command line must say.
local function expand(t)
  return (t:gsub(TOKEN, function(n) return text_of[tonumber(n)] end))
end

-- ---- values per type ------------------------------------------------------------------

local NAMES = {
  "q35", "pc", "microvm", "s390-ccw-virtio", "virt", "none", "max", "host", "qemu64", "virtio-net-pci",
  "virtio-blk-pci", "virtio-blk-device", "e1000", "scsi-hd", "virtio-serial-pci", "virtio-9p-pci",
  "vhost-user-fs-pci", "virtio-rng-ccw", "pci-bridge", "isa-serial", "usb-tablet", "nvdimm", "help",
}
local IDS = { "hd", "net", "ch", "fs", "obj", "br", "rp", "scsi", "io", "qlua-" }
local BUSES = { "pci.0", "pcie.0", "ide.0", "isa.0", "usb-bus.0", "virtio-mmio-bus.3", "main-system-bus", "pci.x" }
local PROPKEYS = {
  "netdev", "chardev", "drive", "memdev", "fsdev", "iothread", "bus", "id", "driver", "addr", "romfile",
  "serial", "mac", "pmu", "usb", "nvdimm", "x-test", "confidential-guest-support", "sgx-epc.0.memdev",
}
local REFKEYS = { netdev = true, chardev = true, drive = true, memdev = true, fsdev = true, iothread = true,
                  bus = true }
local ACCELS = { "kvm", "tcg", "xen", "hvf", "whpx", "nvmm", "hax", "qtest", "kvm:tcg", "tcg:", "kvm::tcg", "kvn" }
local UNITS = { "", "K", "M", "G", "T", "k", "m", "g", "t", "B", "E" }
local HUGE = { "18446744073709551615", "18446744073709551616", "17179869183G", "17179869184G", "16777215T",
               "16777216T", "99999999999999999999K", "0x10", "", " 1M", "1M ", "-1", "1.5M" }
local DATES = { "utc", "localtime", "2006-06-17", "2006-06-17T16:01:21", "2006-06-17T16:01", "UTC" }
local CPUS = { "0", "0-1", "0-3,5", "1,3", "3-1", "0-", "-1", "0,,1", "", "0-4096", "a" }

-- The ids one input has declared so far (references pick from them too,
-- so that they can resolve), and the descriptors descriptions use.
local pool, fds

local function new_id(r)
  local b = r:byte()
  local s
  if b < 32 and #pool > 0 then
    s = pool[b % #pool + 1]                -- a duplicate
  elseif b < 208 then
    s = r:pick(IDS) .. #pool
  else
    s = hostile(r)
  end
  pool[#pool + 1] = s
  return free(s)
end

local function ref(r)
  local b = r:byte()
  if b < 160 and #pool > 0 then
    local h, t = free(pool[b % #pool + 1])
    if b % 3 == 0 then return h .. ".0", t .. ".0" end  -- a controller's bus
    return h, t
  elseif b < 216 then
    local s = r:pick(BUSES)
    return s, s
  end
  return free(hostile(r))
end

local function name(r)
  if r:byte() < 216 then
    local s = r:pick(NAMES)
    return s, s
  end
  return kept_if(hostile(r), NAME)
end

local function same(v)
  return v, v
end

local function integer(r, f)
  local lo, hi = f.min or 0, f.max or 0x7fffffff
  local b = r:byte() % 16
  if b < 6 then return same(lo + r:byte() % 4) end
  if b < 11 then return same(lo + r:u32() % (hi - lo + 1)) end
  if b == 11 then return same(lo - 1) end
  if b == 12 then return same(hi + 1) end
  if b == 13 then return same(r:pick { math.maxinteger, math.mininteger, 2^53, -0.0, 0/0 }) end
  if b == 14 then return same(lo + 0.5) end
  return same(tostring(lo))
end

local function size(r)
  local b = r:byte() % 16
  if b < 6 then return same((r:byte() + 1) .. r:pick(UNITS)) end
  if b < 10 then return same(r:u32() * 1024) end
  if b < 12 then return same(r:pick(HUGE)) end
  if b == 12 then return same(hostile(r)) end
  return same(r:pick { -1, 0, 1.5, math.maxinteger, math.mininteger })
end

local function hexbytes(r, n, sep)
  local t = {}
  for i = 1, n do t[i] = ("%02x"):format(r:byte()) end
  return table.concat(t, sep)
end

local SHAPED = {
  mac = function(r) return hexbytes(r, 6, ":") end,
  uuid = function(r)
    return hexbytes(r, 4, "") .. "-" .. hexbytes(r, 2, "") .. "-" .. hexbytes(r, 2, "") .. "-" ..
           hexbytes(r, 2, "") .. "-" .. hexbytes(r, 6, "")
  end,
  ["pci-address"] = function(r)
    local b = r:byte()
    if b % 4 == 0 then return b % 40 end
    if b % 4 == 1 then return ("%x"):format(b % 40) end
    return ("0x%x.%x"):format(b % 40, r:byte() % 10)
  end,
  ["pci-host-address"] = function(r)
    local b = r:byte()
    local s = ("%02x:%02x.%x"):format(r:byte(), b % 40, r:byte() % 10)
    return b & 64 == 0 and s or ("%04x:"):format(r:byte()) .. s
  end,
  hex16 = function(r)
    local b = r:byte()
    if b % 3 == 0 then return r:u32() % 0x10010 end
    return (b % 3 == 1 and "0x%04x" or "%x"):format(r:u32() % 0x10010)
  end,
  ["rtc-base"] = function(r) return r:pick(DATES) end,
  ["ccw-devno"] = function(r) return ("%x.%x.%04x"):format(r:byte(), r:byte() % 5, r:u32() % 0x10001) end,
}

local function fd(r)
  return same(r:pick(fds))
end

local function strs(r, one)
  if r:byte() % 2 == 0 then return one(r) end
  local h, t = {}, {}
  for i = 1, r:byte() % 4 do h[i], t[i] = one(r) end
  return h, t
end

local function text(r)
  return free(hostile(r))
end

-- Properties (machine.options, cpu_features, qemu.device{}'s free ones).
local function props(r)
  local h, t = {}, {}
  for _ = 1, r:byte() % 5 do
    local kh, kt
    if r:byte() < 200 then
      kh, kt = same(r:pick(PROPKEYS))
    else
      kh, kt = kept_if(hostile(r), PROPNAME)
    end
    local b = r:byte() % 8
    local vh, vt
    if b < 4 then
      vh, vt = (REFKEYS[kh] and ref or text)(r)
    elseif b == 4 then
      vh, vt = same(r:u32() - 0x80000000)
    elseif b == 5 then
      vh, vt = same(r:byte() % 2 == 0)
    elseif b == 6 then
      vh, vt = same(r:pick { 1.5, 1e300, 0/0, -1/0 })
    else
      vh, vt = same(r:pick { {}, qemu.null })
    end
    h[kh], t[kt] = vh, vt
  end
  return h, t
end

-- ---- records --------------------------------------------------------------------------

-- Field lists by kind or section, fields others depend on (only_when,
-- required_when) first.
local schemas = {}
local function schema(kind)
  local s = schemas[kind]
  if not s then
    local fields = qemu.describe(kind).fields
    local first, rest, dep = {}, {}, {}
    for _, f in ipairs(fields) do
      if f.only_when then dep[f.only_when.field] = true end
      if f.required_when then dep[f.required_when.field] = true end
    end
    for _, f in ipairs(fields) do table.insert(dep[f.name] and first or rest, f) end
    table.move(rest, 1, #rest, #first + 1, first)
    s = first
    schemas[kind] = s
  end
  return s
end

local function holds(w, rec)
  if not w then return true end
  for _, v in ipairs(w.values) do
    if rec[w.field] == v then return true end
  end
  return false
end

local record

-- Fields whose strings mean something to qlua: made to measure.
local SPECIAL = {
  ["machine.accel"] = function(r)
    if r:byte() < 224 then return same(r:pick(ACCELS)) end
    return text(r)
  end,
  ["fw_cfg.name"] = function(r)
    local h, t = text(r)
    if r:byte() < 224 then return "opt/" .. h, "opt/" .. t end
    return h, t
  end,
  ["nodes.cpus"] = function(r)
    return strs(r, function() return same(r:pick(CPUS)) end)
  end,
  -- NUMA nodes that fit the VM's memory and CPUs, which bytes alone
  -- seldom do: node 0 has all the memory, each node a run of the CPUs,
  -- and a distance for each pair now and then.  Their other fields, and
  -- sometimes the whole section, come from the bytes.
  ["vm.numa"] = function(r, vm)
    if r:byte() >= 192 or not vm.memory then return record(r, "numa") end
    local smp = vm.smp or {}
    local ncpu = math.tointeger(smp.maxcpus or smp.cpus) or 1
    local n = r:byte() % 3 + 1
    local h, t = { nodes = {} }, { nodes = {} }
    for i = 1, n do
      local nh, nt = record(r, "nodes", { node_id = true, cpus = true, mem_size = true })
      local lo, hi = (i - 1) * ncpu // n, i * ncpu // n - 1
      nh.node_id = i - 1
      nh.cpus = lo < hi and ("%d-%d"):format(lo, hi) or lo == hi and tostring(lo) or nil
      nh.mem_size = i == 1 and vm.memory.size or nil
      nt.node_id, nt.cpus, nt.mem_size = nh.node_id, nh.cpus, nh.mem_size
      h.nodes[i], t.nodes[i] = nh, nt
    end
    if r:byte() % 2 == 0 then
      h.dists = {}
      for a = 0, n - 1 do
        for b = a + 1, n - 1 do h.dists[#h.dists + 1] = { src = a, dst = b, val = 20 } end
      end
      t.dists = h.dists
    end
    return h, t
  end,
}

local function value(r, kind, f, rec)
  local special = SPECIAL[kind .. "." .. f.name]
  if special then return special(r, rec) end
  local ty = f.type
  if ty == "string" or ty == "path" then return text(r) end
  if ty == "id" then return new_id(r) end
  if ty == "reference" then return ref(r) end
  if ty == "name" then return name(r) end
  if ty == "boolean" then
    local b = r:byte()
    return same(b == 255 and "yes" or b % 2 == 0)
  end
  if ty == "integer" then return integer(r, f) end
  if ty == "size" then return size(r) end
  if ty == "enum" then
    if r:byte() >= 248 then return same(hostile(r)) end
    return same(r:pick(f.choices))
  end
  if SHAPED[ty] then
    if r:byte() >= 232 then return same(hostile(r)) end
    return same(SHAPED[ty](r))
  end
  if ty == "fd" then return fd(r) end
  if ty == "fds" then
    local list = {}
    for i = 1, r:byte() % 4 do list[i] = r:pick(fds) end
    return same(list)
  end
  if ty == "path-or-fd" then
    if r:byte() < 200 then return text(r) end
    return fd(r)
  end
  if ty == "strings" then return strs(r, text) end
  if ty == "list-of-strings" then  -- (extra_args) one string alone is refused: a list of one
    local h, t = strs(r, text)
    if type(h) ~= "table" then return { h }, { t } end
    return h, t
  end
  if ty == "integers" then
    local list = {}
    for i = 1, r:byte() % 4 do list[i] = integer(r, f) end
    return same(list)
  end
  if ty == "properties" then return props(r) end
  if ty == "section" then return record(r, f.section) end
  if ty == "list-of-sections" then
    local h, t = {}, {}
    for i = 1, r:byte() % 4 do h[i], t[i] = record(r, f.section) end
    return h, t
  end
  violation("the driver knows no field type '%s' (%s.%s)", ty, kind, f.name)
end

-- A record's fields (but those in the set skip): mostly those that apply,
-- required ones nearly always, now and then one that does not apply or an
-- unknown one.
function record(r, kind, skip)
  local h, t = {}, {}
  for _, f in ipairs(schema(kind)) do
    if not (skip and skip[f.name]) then
      local b = r:byte()
      local present
      if not holds(f.only_when, h) then
        present = b == 255
      elseif f.required or (f.required_when and holds(f.required_when, h)) then
        present = b ~= 255
      else
        present = b < 80
      end
      if present then h[f.name], t[f.name] = value(r, kind, f, h) end
    end
  end
  if r:byte() == 255 then
    local k = r:pick(schema(kind)).name .. "x"
    h[k], t[k] = 1, 1
  end
  return h, t
end

-- ---- one input ------------------------------------------------------------------------

local KINDS = qemu.kinds()
local stats = { inputs = 0, rendered = 0, refused = 0, twin_refused = 0 }

-- An error the API raised: it must be a message (a non-empty string).
local function refused(what, err)
  if type(err) ~= "string" or err == "" then
    violation("%s raised %s instead of a message", what, type(err) == "string" and "an empty string" or type(err))
  end
end

local function devices(r)
  local h, t = {}, {}
  for _ = 1, r:byte() % 8 do
    local kind = r:pick(KINDS)
    local fh, ft = record(r, kind)
    if kind == "device" then  -- its other keys are QEMU properties
      local hp, tp = props(r)
      for k, v in pairs(hp) do fh[k] = v end
      for k, v in pairs(tp) do ft[k] = v end
    end
    local okh, dh = pcall(qemu[kind], fh)
    local okt, dt = pcall(qemu[kind], ft)
    if not okh then refused("qemu." .. kind, dh) end
    if not okt then refused("qemu." .. kind, dt) end
    if okh and okt then
      h[#h + 1], t[#t + 1] = dh, dt
    elseif okh then
      stats.twin_refused = stats.twin_refused + 1
    end
  end
  local b = r:byte()
  if b == 255 then
    h[#h + 1], t[#t + 1] = {}, {}            -- a table that is no device
  elseif b == 254 and #h > 0 then
    h[#h + 1], t[#t + 1] = h[1], t[1]        -- the same device twice
  end
  return h, t
end

-- The whole description, and qemu.argv's options.
local function description(r)
  local h, t = record(r, "vm", { devices = true })
  if r:byte() < 224 then h.devices, t.devices = devices(r) end
  local oh, ot
  local b = r:byte() % 8
  if b == 5 or b == 6 then
    oh = { console = b == 5 and "stdio" or "none" }
    ot = oh
  elseif b == 7 then
    local sh, st = text(r)
    oh, ot = { console = "file:" .. sh }, { console = "file:" .. st }
  end
  return h, t, oh, ot
end

-- ---- comparing the two command lines ------------------------------------------------------

-- Options without an argument, and options whose argument is one value
-- (not key=value): the rest take key=value,... or JSON.
local NOARG = { ["-no-user-config"] = true, ["-nodefaults"] = true, ["-nographic"] = true,
                ["-daemonize"] = true, ["-S"] = true, ["-no-reboot"] = true, ["-no-shutdown"] = true,
                ["-snapshot"] = true }
local WHOLE = { ["-kernel"] = true, ["-initrd"] = true, ["-append"] = true, ["-bios"] = true,
                ["-pidfile"] = true, ["-D"] = true, ["-uuid"] = true, ["-vga"] = true, ["-incoming"] = true,
                ["-global"] = true, ["-serial"] = true, ["-display"] = true }

-- QEMU's get_opt_value (util/qemu-option.c): up to the first single comma,
-- ",," standing for one.  Returns the value and where it stopped.
local function opt_value(s, pos)
  local parts = {}
  while true do
    local c = s:find(",", pos, true)
    if not c then
      parts[#parts + 1] = s:sub(pos)
      return table.concat(parts), #s + 1
    end
    if s:byte(c + 1) ~= 44 then
      parts[#parts + 1] = s:sub(pos, c - 1)
      return table.concat(parts), c
    end
    parts[#parts + 1] = s:sub(pos, c)
    pos = c + 2
  end
end

-- An option's argument as QEMU's opts_do_parse reads it: a list of
-- { key, value }; a first element without '=' is the implied key's value,
-- a later one a flag (value nil).
local function qemu_opts(s)
  local out, pos = {}, 1
  while pos <= #s do
    local stop = s:find("[=,]", pos) or #s + 1
    local key, value
    if s:byte(stop) ~= 61 then  -- not '='
      if #out == 0 then
        key = "(implied)"
        value, pos = opt_value(s, pos)
      else
        key, pos = s:sub(pos, stop - 1), stop
      end
    else
      key = s:sub(pos, stop - 1)
      value, pos = opt_value(s, stop + 1)
    end
    if s:byte(pos) == 44 then pos = pos + 1 end
    out[#out + 1] = { key, value }
  end
  return out
end

local function want(h, t, where)
  local e = type(t) == "string" and expand(t) or t
  if h ~= e then
    violation("%s: %q, but the strings given make it %q", where, tostring(h), tostring(e))
  end
end

local function same_json(h, t, where)
  if type(t) ~= "table" then return want(h, t, where) end
  if type(h) ~= "table" then violation("%s: %s where the twin has a table", where, type(h)) end
  for k, v in pairs(t) do same_json(h[k], v, where .. "." .. tostring(k)) end
  for k in pairs(h) do
    if t[k] == nil then violation("%s: key '%s' the twin has not", where, tostring(k)) end
  end
end

local function same_arg(flag, h, t, where)
  where = where .. " (" .. flag .. ")"
  if t:sub(1, 1) == "{" then
    local jh, err = qemu.json_decode(h)
    if jh == nil then violation("%s: not JSON (%s): %q", where, err, h) end
    return same_json(jh, qemu.json_decode(t), where)
  end
  if WHOLE[flag] then return want(h, t, where) end
  local oh, ot = qemu_opts(h), qemu_opts(t)
  if #oh ~= #ot then
    violation("%s: %d keys, the twin %d: %q against %q", where, #oh, #ot, h, t)
  end
  for i, kv in ipairs(ot) do
    want(oh[i][1], kv[1], ("%s key %d"):format(where, i))
    want(oh[i][2], kv[2], ("%s '%s'"):format(where, oh[i][1]))
  end
end

local function compare(ah, at, nextra)
  if #ah ~= #at then
    violation("%d words in argv, the twin's has %d:\n  %s\n  %s", #ah, #at, qemu.json(ah), qemu.json(at))
  end
  for i, w in ipairs(ah) do
    if w:find("\0", 1, true) then violation("argv[%d] holds a NUL (QEMU would see it cut): %q", i, w) end
  end
  want(ah[1], at[1], "argv[1]")
  local last, i = #at - nextra, 2
  while i <= last do
    local flag = at[i]
    if ah[i] ~= flag or flag:sub(1, 1) ~= "-" then
      violation("argv[%d]: option %q, the twin's %q", i, ah[i], flag)
    end
    if NOARG[flag] then
      i = i + 1
    elseif i == last then
      violation("argv[%d]: option %s without its argument", i, flag)
    else
      same_arg(flag, ah[i + 1], at[i + 1], ("argv[%d]"):format(i + 1))
      i = i + 2
    end
  end
  for j = last + 1, #at do want(ah[j], at[j], ("argv[%d] (extra_args)"):format(j)) end
end

local function count_extra(vm)
  local x = vm.extra_args
  return type(x) == "table" and #x or x and 1 or 0
end

-- Descriptors the descriptions use; one already closed.
local function make_fds()
  local a, b = qemu.socketpair()
  local closed = qemu.open("/dev/null", "r")
  closed:close()
  return { a, b, qemu.open("/dev/null", "r"), closed }
end

-- Checks one input; returns what became of it ("rendered", "refused",
-- "twin refused") and the message or the hostile argv.
local function one(input)
  stats.inputs = stats.inputs + 1
  if stats.inputs % 64 == 0 then collectgarbage() end  -- device arenas live outside Lua's heap accounting
  ph, text_of, pool = {}, {}, {}
  fds = fds or make_fds()
  local vh, vt, oh, ot = description(reader(input))
  local okh, ah = pcall(qemu.argv, vh, oh)
  local okt, at = pcall(qemu.argv, vt, ot)
  if not okh then refused("qemu.argv", ah) end
  if not okt then refused("qemu.argv", at) end
  if okh and okt then
    -- firmware = "uefi" gives each render its own random variables copy:
    -- the same name stands for it in both
    for _, a in ipairs({ ah, at }) do
      for i, w in ipairs(a) do a[i] = w:gsub("qlua%-uefi%.%x+", "qlua-uefi.RANDOM") end
    end
    compare(ah, at, count_extra(vh))
    stats.rendered = stats.rendered + 1
    return "rendered", ah
  elseif okh then
    stats.twin_refused = stats.twin_refused + 1
    return "twin refused", ah
  end
  stats.refused = stats.refused + 1
  return "refused", ah
end

-- ---- replaying files (qlua fuzz/argv.lua FILE...) -----------------------------------------
-- QLUA_FUZZ_VERBOSE=1 says what became of each file, with its argv or
-- qlua's message.

if not (arg and arg[0]) then
  return one
end
if #arg == 0 then
  io.stderr:write("usage: qlua fuzz/argv.lua FILE...  (replays inputs of the argv fuzz target)\n")
  os.exit(2)
end
local verbose = (os.getenv("QLUA_FUZZ_VERBOSE") or "") ~= ""
local bad = 0
for _, path in ipairs(arg) do
  local f = assert(io.open(path, "rb"))
  local input = f:read("a")
  f:close()
  local ok, what, detail = pcall(one, input)
  if not ok then
    bad = bad + 1
    io.write(path, ": VIOLATION: ", tostring(what), "\n")
  elseif verbose then
    if type(detail) == "table" then
      for i, w in ipairs(detail) do detail[i] = ("%q"):format(w):gsub("\\\n", "\\n") end
      detail = table.concat(detail, " ")
    end
    io.write(path, ": ", what, ": ", detail, "\n")
  end
end
io.write(("%d inputs: %d rendered, %d refused, %d violations; %d times only the twin was refused\n")
  :format(stats.inputs, stats.rendered, stats.refused, bad, stats.twin_refused))
if bad > 0 then os.exit(1) end
