-- qemu.merge - combine VM descriptions (and device values) without editing them.
--
--   local merge = require "qemu.merge"          -- also qemu.merge
--   local vm = merge(base, override, ...)
--
-- merge(a, b, c, ...) is merge(merge(a, b), c)...: it folds left, skipping nil
-- arguments, and always returns a NEW table (or device value); it never changes
-- its arguments.  merge() and merge(nil) return {}.  The rules, for each key of
-- the override:
--
--   * maps merge recursively: { machine = { type = "q35" } } merged with
--     { machine = { accel = "tcg" } } has both; the override wins for scalars
--     (strings, numbers, booleans, descriptors, functions).
--   * the lists of a description APPEND: devices, extra_args, global, qmp,
--     fw_cfg, iothreads, pflash, groups, numa.nodes, numa.dists, prepare.  A
--     string is a list of one (global = "a.b=c").
--   * in those lists, an item with an `id` (a device value, or a table such as
--     an iothread) whose id equals the id of an item that came from the base
--     REPLACES that item in place (same position).  A plain table with the id
--     of a base device is merged INTO that device instead:
--     devices = { { id = "hd0", format = "qcow2" } }.  With no base device of
--     that id it is an error (merge: field 'devices[1]': no device has id
--     'hd1' (ids: 'hd0', 'net0')).
--   * kernel.params (the kernel command line) is joined with a space: the base's
--     words, then the override's.  That is how recipes compose a command line
--     (console=ttyS0, quiet, tsc_early_khz=...).
--   * any other list (a table with [1], e.g. a device's fds) is replaced whole.
--   * a device value merged with a table gives a NEW device of the same kind,
--     rebuilt through its constructor qemu[qemu.kind(dev)], so it is checked
--     again: merge(dev, { format = "qcow2" }).  The device's fields are those
--     pairs(dev) shows, minus the values equal to the kind's defaults (the
--     constructor works those out again from the new fields).  A device value
--     in the override replaces whatever device the base had there.
--   * merge.delete as a value removes the key: { memory = { slots = merge.delete } };
--     on a device it removes a field.  merge.delete(x) as an item of one of the
--     lists above removes the items whose id is x, or that equal x
--     (extra_args = { merge.delete("-snapshot") }); it is an error when nothing
--     matches.
--   * merge.replace(v) as a value takes v as it is instead of merging into the
--     base's value: devices = merge.replace{ ... }, kernel = merge.replace{ ... },
--     kernel = { params = merge.replace "console=hvc0" }.
--
-- Errors are raised at the line of the merge call (the first caller outside the
-- qemu Lua library), naming the path:
--   vm.lua:12: merge: field 'memory.size': cannot merge a table into a string (...)
--   vm.lua:12: merge: devices[2] (block): field 'format': invalid option 'qcow3' (...)
-- A device rebuilt by merge is recorded as built at that line too, so later
-- checks (duplicate ids...) name it.
--
-- The module returns a callable table (so that merge.delete and merge.replace
-- can hang off it); `merge._util` is internal, shared with qemu.recipes.

local M = {}

local SELF = debug.getinfo(1, "S").source

-- The qemu module, fetched when first needed: the C core may preload this file
-- while `require "qemu"` is still running.
local qemu_mod
local function Q()
  if not qemu_mod then qemu_mod = package.loaded.qemu or require "qemu" end
  return qemu_mod
end

local function kind_of(v)
  if type(v) ~= "userdata" then return nil end
  return Q().kind(v)
end

---------------------------------------------------------------------------
-- Where errors go: the first Lua frame outside the qemu Lua library.
--
-- A tail call (`return recipes.disk{...}`, `return merge(a, b)` with this
-- module's function) replaces the caller's frame: Lua keeps no trace of its
-- line.  Then there is no line to blame, and the error names none, rather
-- than a wrong one (the C function qemu.merge keeps the caller's frame).  The
-- library itself never tail-calls its public functions, so a tail call seen
-- on the outermost library frame is the caller's.

local library = { [SELF] = true }   -- sources whose frames are skipped

local function caller()
  local level, tail = 3, false       -- 1 is this function, 2 its caller (the library)
  local info = debug.getinfo(2, "St")
  if info then tail = info.istailcall end
  while true do
    info = debug.getinfo(level, "Slt")
    if not info then return nil end
    if info.what ~= "C" then
      if not library[info.source] then
        if tail then return nil end
        return info
      end
      tail = info.istailcall
    end
    level = level + 1
  end
end

local function where(info)
  if info and info.currentline and info.currentline > 0 then
    return info.short_src .. ":" .. info.currentline .. ": "
  end
  return ""
end

local function raise(info, msg)
  error(where(info) .. msg, 0)
end

-- Calls ctor(t) as if from the caller's line, so that the constructor's
-- error and the line it records in the device (named later by checks across
-- devices) are the caller's, not this library's.  Returns pcall's results,
-- with the caller's position removed from an error message.
local shims = {}
local function construct(info, ctor, t)
  local ok, res
  if info and info.currentline and info.currentline > 0 then
    local key = info.source .. "\0" .. info.currentline
    local shim = shims[key]
    if not shim then
      -- the call sits on the caller's line of a chunk named like the caller's
      shim = assert(load(("\n"):rep(info.currentline - 1) ..
        "local f, t = ... local d = f(t) return d", info.source, "t"))
      shims[key] = shim
    end
    ok, res = pcall(shim, ctor, t)
  else
    ok, res = pcall(ctor, t)
  end
  if not ok and type(res) == "string" then
    local w = where(info)
    if w ~= "" and res:sub(1, #w) == w then res = res:sub(#w + 1) end
  end
  return ok, res
end

---------------------------------------------------------------------------
-- Markers.

local DELETE_MT, REMOVE_MT, REPLACE_MT = {}, {}, {}

local function remove_marker(x)
  return setmetatable({ value = x }, REMOVE_MT)
end

M.delete = setmetatable({}, DELETE_MT)
DELETE_MT.__tostring = function() return "qemu.merge.delete" end
DELETE_MT.__call = function(_, x)
  if x == nil then
    raise(caller(), "merge.delete(x): x (an id or a value) expected, got nil")
  end
  return remove_marker(x)
end
DELETE_MT.__newindex = function() error("qemu.merge.delete cannot be changed", 2) end
DELETE_MT.__metatable = false
local function show(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  return tostring(v)
end
REMOVE_MT.__tostring = function(m) return ("qemu.merge.delete(%s)"):format(show(m.value)) end
REMOVE_MT.__metatable = false

function M.replace(v)
  return setmetatable({ value = v }, REPLACE_MT)
end
REPLACE_MT.__tostring = function(m) return ("qemu.merge.replace(%s)"):format(show(m.value)) end
REPLACE_MT.__metatable = false

local DELETE = M.delete
local function is_remove(v) return type(v) == "table" and debug.getmetatable(v) == REMOVE_MT end
local function is_replace(v) return type(v) == "table" and debug.getmetatable(v) == REPLACE_MT end
local function is_plain(v) return type(v) == "table" and v ~= DELETE and not is_remove(v) and not is_replace(v) end

---------------------------------------------------------------------------
-- Helpers.

local APPEND = {
  devices = true, extra_args = true, global = true, qmp = true, fw_cfg = true,
  iothreads = true, pflash = true, groups = true, prepare = true,
  ["numa.nodes"] = true, ["numa.dists"] = true,
}

local function sub(path, k)
  if math.type(k) == "integer" then return ("%s[%d]"):format(path, k) end
  k = tostring(k)
  if path == "" then return k end
  return path .. "." .. k
end

local function what(v)
  local t = type(v)
  if t == "userdata" then
    local k = kind_of(v)
    if k then return "a device (" .. k .. ")" end
    local mt = debug.getmetatable(v)
    local name = type(mt) == "table" and rawget(mt, "__name")
    return type(name) == "string" and ("a " .. name) or "a userdata"
  end
  if v == DELETE then return "merge.delete" end
  if t == "table" then return "a table" end
  if t == "nil" then return "nil" end
  if t == "number" and math.type(v) == "integer" then return "an integer" end
  return "a " .. t
end

local function is_list(t)
  return rawget(t, 1) ~= nil
end

local function item_id(v)
  if type(v) == "userdata" then
    if kind_of(v) then
      local ok, id = pcall(function() return v.id end)
      if ok then return id end
    end
    return nil
  end
  if is_plain(v) then return rawget(v, "id") end
  return nil
end

-- The fields of a device value to rebuild it from: pairs(dev), without the
-- values equal to the kind's defaults.
local defaults = {}
local function device_fields(dev, kind)
  local d = defaults[kind]
  if not d then
    d = {}
    local desc = Q().describe(kind)
    for _, f in ipairs(desc and desc.fields or {}) do
      if f.default ~= nil then d[f.name] = f.default end
    end
    defaults[kind] = d
  end
  local t = {}
  for k, v in pairs(dev) do
    if d[k] == nil or d[k] ~= v then t[k] = v end
  end
  return t
end

---------------------------------------------------------------------------
-- The merge.  into(b, o, path, ctx): b is nil, a scalar, a device, or a table
-- this merge made (it may be changed in place); o comes from an argument (it
-- is never changed, and copied wherever it is kept).  ctx = { info = where
-- errors go, device = true inside a device's fields }.

local into

local function fail(ctx, path, msg)
  if path == "" then raise(ctx.info, "merge: argument " .. ctx.arg .. ": " .. msg) end
  raise(ctx.info, ("merge: field '%s': %s"):format(path, msg))
end

local function rebuild(dev, o, path, ctx)
  local kind = kind_of(dev)
  local fields = into(device_fields(dev, kind), o, path, { info = ctx.info, device = true, arg = ctx.arg })
  local ctor = Q()[kind]
  if type(ctor) ~= "function" then fail(ctx, path, "no constructor qemu." .. kind .. " to rebuild " .. what(dev)) end
  local ok, res = construct(ctx.info, ctor, fields)
  if not ok then
    local msg = tostring(res)
    if path ~= "" then
      local rest = msg:match("^" .. kind:gsub("%p", "%%%0") .. ": (.*)$")
      msg = rest and ("%s (%s): %s"):format(path, kind, rest) or (path .. ": " .. msg)
    end
    raise(ctx.info, "merge: " .. msg)
  end
  return res
end

local function mismatch(o, b, path, ctx)
  fail(ctx, path, ("cannot merge %s into %s (merge.replace(value) replaces it)"):format(what(o), what(b)))
end

-- A plain table in devices merges into the base's device with its id; with no
-- such device it would become a table among devices, refused later far from
-- here.  Say so at the merge, with the ids it could have meant.
local function no_such_device(out, from_base, id, ipath, ctx)
  local ids, any = {}, false
  for j = 1, #out do
    if from_base[j] then
      any = true
      local d = item_id(out[j])
      if d ~= nil then ids[#ids + 1] = show(d) end
    end
  end
  local detail = #ids > 0 and ("ids: " .. table.concat(ids, ", "))
    or any and "no device has an id" or "no devices to merge into"
  fail(ctx, ipath, ("no device has id %s (%s)"):format(show(id), detail))
end

local function append(b, o, path, ctx)
  local out, from_base = {}, {}
  if type(b) == "table" then
    for _, v in ipairs(b) do out[#out + 1] = v; from_base[#from_base + 1] = true end
  elseif b ~= nil then
    out[1], from_base[1] = b, true
  end
  local items = o
  if not is_plain(o) then
    items = { o }
  else
    local n = #o
    for k in pairs(o) do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        fail(ctx, path, ("expected a list, got a table with the key '%s'"):format(tostring(k)))
      end
    end
  end
  for i, item in ipairs(items) do
    local ipath = sub(path, i)
    if item == DELETE then
      fail(ctx, ipath, "merge.delete without an argument deletes a field; " ..
        "in a list, merge.delete(id or value) deletes an item")
    elseif is_remove(item) then
      local x, removed = item.value, false
      for j = #out, 1, -1 do
        if out[j] == x or (x ~= nil and item_id(out[j]) == x) then
          table.remove(out, j)
          table.remove(from_base, j)
          removed = true
        end
      end
      if not removed then
        fail(ctx, ipath, ("%s: no item of '%s' has this id or value"):format(tostring(item), path))
      end
    else
      local id, at = item_id(item), nil
      if id ~= nil then
        for j = 1, #out do
          if from_base[j] and item_id(out[j]) == id then at = j break end
        end
      end
      if at then
        out[at] = into(out[at], item, ipath, ctx)
      elseif id ~= nil and path == "devices" and is_plain(item) then
        no_such_device(out, from_base, id, ipath, ctx)
      else
        out[#out + 1] = into(nil, item, ipath, ctx)
        from_base[#out] = false
      end
    end
  end
  return out
end

into = function(b, o, path, ctx)
  if o == DELETE then
    fail(ctx, path, "merge.delete deletes a field of a table; it cannot stand here")
  elseif is_remove(o) then
    fail(ctx, path, ("%s deletes an item of a list (devices, extra_args, ...); " ..
      "merge.delete deletes a field"):format(tostring(o)))
  elseif is_replace(o) then
    return into(nil, o.value, path, ctx)
  end

  local appending = not ctx.device and APPEND[path]
  if appending and (type(b) == "table" or b == nil or type(b) == "string")
      and (is_plain(o) or type(o) == "string") then
    return append(b, o, path, ctx)
  end

  if type(o) == "userdata" and kind_of(o) then
    if b == nil or kind_of(b) then return o end
    return mismatch(o, b, path, ctx)
  end

  if is_plain(o) then
    if kind_of(b) then return rebuild(b, o, path, ctx) end
    if b ~= nil and type(b) ~= "table" then return mismatch(o, b, path, ctx) end
    if b == nil or is_list(o) then b = {} end
    for k, v in pairs(o) do
      if v == DELETE then
        b[k] = nil
      else
        b[k] = into(b[k], v, sub(path, k), ctx)
      end
    end
    return b
  end

  -- o is a scalar, a descriptor, a function...
  if type(b) == "table" or kind_of(b) then return mismatch(o, b, path, ctx) end
  if not ctx.device and path == "kernel.params" and type(b) == "string" and type(o) == "string" then
    if b == "" then return o end
    if o == "" then return b end
    return b .. " " .. o
  end
  return o
end

local function merge(...)
  local info = caller()
  local n = select("#", ...)
  local acc
  for i = 1, n do
    local o = select(i, ...)
    if o ~= nil then
      local ctx = { info = info, arg = i }
      if not (is_plain(o) or kind_of(o) or is_replace(o)) then
        raise(info, ("merge: argument %d: expected a table or a device value, got %s"):format(i, what(o)))
      end
      if acc ~= nil and kind_of(acc) == nil and kind_of(o) then
        raise(info, ("merge: argument %d: cannot merge %s into a table"):format(i, what(o)))
      end
      acc = into(acc, o, "", ctx)
    end
  end
  if acc == nil then return {} end
  return acc
end

setmetatable(M, {
  __call = function(_, ...) return (merge(...)) end,  -- no tail call: see caller()
  __tostring = function() return "qemu.merge" end,
  -- a name it does not have is an error at the line that used it (as for
  -- the qemu table), not a nil to call; rawget(merge, name) probes
  __index = function(_, name)
    if type(name) ~= "string" then return nil end
    local s = Q().suggest(name, { "delete", "replace" })
    -- (through qemu.merge, C's __index asked: the line is its caller's)
    error(("no function '%s' in qemu.merge (%s)"):format(name,
      s and ("did you mean '" .. s .. "'?") or "it has delete and replace; merging is qemu.merge(...) itself"),
      debug.getinfo(2, "S").what == "C" and 3 or 2)
  end,
})

-- Internal, for qemu.recipes: where errors go and constructing at a line.
M._util = {
  library = library, caller = caller, where = where, raise = raise,
  construct = construct, kind_of = kind_of, Q = Q,
}

return M
