-- qemu.cloud_init: the body of qemu.recipes.cloud_init (a NoCloud seed for
-- a cloud-init guest), and the small YAML writer it renders tables with.
--
--   recipes.cloud_init{ hostname, user_data, meta_data, network_config,
--                       ssh_authorized_keys, run_cmd, ssh_key, user,
--                       instance_id, dir, id, transport }
--
-- returns a fragment for qemu.merge: one read-only raw virtio-blk disk (id
-- and serial "cidata") holding an ISO 9660 volume labelled "cidata" with the
-- files user-data, meta-data and (if given) network-config, the `prepare`
-- steps that make it at launch, and (with ssh_key) the VM's `ssh` section.
--
-- Why a virtio disk and not a qemu.cdrom: cloud-init's NoCloud source finds
-- its seed by the filesystem label "cidata" on any block device, and the
-- seed only exists once the prepare steps ran at launch, while a cdrom's
-- file must exist when the description is checked (so that install media a
-- user forgot fails at once, naming the field).  A virtio-blk disk also
-- works on every machine (microvm has no IDE controller), and a dry run
-- (qlua -n) validates and prints everything without the seed existing.
--
-- What runs at launch (qlua -n prints it; nothing is made before):
--   mkdir -m 0700 DIR                      (the run directory, as recipes.disk)
--   rm -f DIR/id_ed25519 DIR/id_ed25519.pub (only in a given `dir`)
--   ssh-keygen -q -t ed25519 -N '' -C qlua -f DIR/id_ed25519   (ssh_key)
--   sh -c SCRIPT sh DIR/ID DIR/ID.iso USER-DATA META-DATA NETWORK-CONFIG PUBKEY-FILE
-- where SCRIPT writes the three files (the file contents are arguments, so
-- the printed step is the whole truth), appends the public key made a
-- moment before to meta-data's `public-keys`, and runs
-- `xorriso -as mkisofs -V cidata -J -r` (Debian's xorriso).
--
-- Options:
--   hostname        meta-data local-hostname (and cloud-config `hostname`).
--   user_data       a string: the user-data file as is (a #cloud-config, a
--                   script...); or a table: a cloud-config, written as
--                   "#cloud-config" YAML.  Default {}.
--   meta_data       a table of more meta-data keys (instance-id,
--                   local-hostname, public-keys may be given here too).
--   network_config  the network-config file: a string as is, or a table
--                   written as YAML (version 1 or 2 network config).
--   ssh_authorized_keys  a key line or a list: cloud-config
--                   ssh_authorized_keys (after user_data's own).
--   run_cmd         a command or a list of commands (each a shell string or
--                   a list of words): cloud-config runcmd (after user_data's).
--   ssh_key         true (the default): a fresh ed25519 key pair per launch,
--                   made in the run directory; its public key goes to
--                   meta-data `public-keys` (cloud-init installs it for
--                   root and the image's default user), and the fragment's
--                   `ssh = { user, key, guest_port = 22 }` lets vm:ssh use
--                   it.  false: none.
--   user            the account vm:ssh logs in as (default "root").  With
--                   "root" and a table user_data, `disable_root: false` is
--                   added unless user_data says otherwise (cloud-init
--                   otherwise makes root's key print "Please login as ..."
--                   and exit); a string user_data must say it itself.
--   instance_id     meta-data instance-id (default "qlua-" + 12 random hex
--                   digits, new for every description, so that cloud-init
--                   runs its per-instance modules again — and installs the
--                   new key — even on a disk it booted before).
--   dir, id         the run directory (as recipes.disk: `dir`, else
--                   recipes.run_dir, else a fresh one removed at exit) and
--                   the drive id (default "cidata"); the files are in
--                   DIR/ID/, the seed is DIR/ID.iso, the key DIR/id_ed25519.
--   transport       the disk's transport ("pci", "mmio", "ccw").
-- user_data, network_config and meta_data tables hold strings, numbers,
-- booleans, lists (keys 1..n) and maps (string keys); an empty table is an
-- empty list.

local merge = require "qemu.merge"
local U = merge._util

local SELF = debug.getinfo(1, "S").source
U.library[SELF] = true   -- errors go to the caller of the recipe

local M = {}

---------------------------------------------------------------------------
-- YAML: the subset cloud-config needs, written so that any YAML 1.1 or 1.2
-- reader (cloud-init uses PyYAML) reads back exactly the Lua values: every
-- string double-quoted with escapes, keys plain only when they cannot be
-- read as anything but a string, maps sorted by key.

local KEYWORDS = { y = 1, n = 1, yes = 1, no = 1, on = 1, off = 1, ["true"] = 1, ["false"] = 1,
                   null = 1 }

local function qstring(s)
  local out = { '"' }
  for _, cp in utf8.codes(s) do
    local c
    if cp == 0x22 then c = '\\"'
    elseif cp == 0x5c then c = "\\\\"
    elseif cp == 0x0a then c = "\\n"
    elseif cp == 0x09 then c = "\\t"
    elseif cp == 0x0d then c = "\\r"
    elseif cp < 0x20 or (cp >= 0x7f and cp <= 0x9f) then c = ("\\x%02x"):format(cp)
    elseif cp == 0x2028 or cp == 0x2029 or cp == 0xfeff or cp == 0xfffe or cp == 0xffff then
      -- line breaks a reader would fold, and what it refuses to read
      c = ("\\u%04x"):format(cp)
    else c = utf8.char(cp) end
    out[#out + 1] = c
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

-- The kind of table t is: "list" (keys 1..n, or empty), "map" (string
-- keys), or nil and why not.
local function shape(t)
  local n, strings, others = #t, 0, 0
  for k in pairs(t) do
    if type(k) == "string" then strings = strings + 1
    elseif math.type(k) == "integer" and k >= 1 and k <= n then -- luacheck: ignore
    else others = others + 1 end
  end
  if strings == 0 and others == 0 then return "list" end
  if n == 0 and others == 0 then return "map" end
  return nil, "a table with both list items and named keys, or keys that are not strings"
end

local function yaml_error(path, msg)
  error({ yaml = true, msg = ("value at '%s': %s"):format(path, msg) }, 0)
end

local function scalar(v, path)
  local t = type(v)
  if t == "string" then
    if not utf8.len(v) then yaml_error(path, "a string that is not UTF-8 text") end
    return qstring(v)
  elseif t == "boolean" then return tostring(v)
  elseif math.type(v) == "integer" then return ("%d"):format(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then yaml_error(path, "a number that is not finite") end
    local s = ("%.17g"):format(v)
    if not s:find("[.e]") then s = s .. ".0" end
    return s
  end
  yaml_error(path, ("a %s cannot be written as YAML"):format(t))
end

local function key_text(k, path)
  if k:match("^[%a_][%w_%-]*$") and not KEYWORDS[k:lower()] then return k end
  return scalar(k, path)
end

-- Appends the lines of v at `indent` spaces to out.
local function node(v, indent, path, out, seen)
  local pad = (" "):rep(indent)
  if type(v) ~= "table" then
    out[#out + 1] = pad .. scalar(v, path)
    return
  end
  if seen[v] then yaml_error(path, "a table that contains itself") end
  local kind, why = shape(v)
  if not kind then yaml_error(path, why) end
  seen[v] = true
  if next(v) == nil then
    out[#out + 1] = pad .. "[]"
  elseif kind == "list" then
    for i = 1, #v do
      local first = #out + 1
      node(v[i], indent + 2, ("%s[%d]"):format(path, i), out, seen)
      out[first] = pad .. "- " .. out[first]:sub(indent + 3)   -- "- " takes the first line's place
    end
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local sub = path == "" and k or path .. "." .. k
      local x = v[k]
      if type(x) == "table" and next(x) ~= nil then
        out[#out + 1] = pad .. key_text(k, sub) .. ":"
        node(x, indent + 2, sub, out, seen)
      else
        local line = {}
        node(x, 0, sub, line, seen)
        out[#out + 1] = pad .. key_text(k, sub) .. ": " .. line[1]
      end
    end
  end
  seen[v] = nil
end

-- The YAML lines of v at `indent` spaces, each ending in "\n"; or nil and
-- "value at 'NAME.a[2]': ..." for what has no YAML form.
local function render(v, indent, name)
  local out = {}
  local ok, e = pcall(node, v, indent, name or "", out, {})
  if not ok then
    if type(e) == "table" and e.yaml then return nil, e.msg end
    error(e, 0)
  end
  return table.concat(out, "\n") .. "\n"
end

-- M.yaml(value [, name]) -> the YAML text of value (a document); raises
-- "value at 'NAME.a[2]': ..." for what has no YAML form.
function M.yaml(v, name)
  local text, err = render(v, 0, name)
  if not text then error(err, 2) end
  return text
end

---------------------------------------------------------------------------
-- The recipe.

local H = require("qemu.recipes")._helpers

-- (option types only this recipe has)
H.types.text_or_table = function(v)
  return not (type(v) == "string" or (type(v) == "table" and not U.kind_of(v))) and "string or table" or nil
end
H.types.commands = function(v)
  if type(v) == "string" then return nil end
  if type(v) == "table" and not U.kind_of(v) then
    for k, c in pairs(v) do
      if math.type(k) ~= "integer" then return "string or list of commands" end
      if type(c) ~= "string" then
        if type(c) ~= "table" then return "string or list of commands" end
        for j, w in pairs(c) do
          if math.type(j) ~= "integer" or type(w) ~= "string" then return "string or list of commands" end
        end
      end
    end
    return nil
  end
  return "string or list of commands"
end

local SPEC = {
  { "hostname", "string" }, { "user_data", "text_or_table" }, { "meta_data", "table" },
  { "network_config", "text_or_table" }, { "ssh_authorized_keys", "words" }, { "run_cmd", "commands" },
  { "ssh_key", "boolean" }, { "user", "string" }, { "instance_id", "string" }, { "dir", "string" },
  { "id", "string" }, { "transport", "string", choices = { "pci", "mmio", "ccw" } },
}

-- The seed, from the arguments: $1 the directory of its files, $2 the seed,
-- $3 user-data, $4 meta-data, $5 network-config ("" for none), $6 the public
-- key file to add to meta-data's public-keys ("" for none: then meta-data
-- does not end in that list).
local SCRIPT = [[set -eu
mkdir -p "$1"
printf %s "$3" >"$1/user-data"
printf %s "$4" >"$1/meta-data"
if [ -n "$6" ]; then key=$(cat "$6"); printf '  - "%s"\n' "$key" >>"$1/meta-data"; fi
if [ -n "$5" ]; then printf %s "$5" >"$1/network-config"; set -- "$1" "$2" "$1/network-config"
else set -- "$1" "$2"; fi
rm -f "$2"
exec xorriso -as mkisofs -quiet -output "$2" -volid cidata -joliet -rock \
  "$1/user-data" "$1/meta-data" ${3+"$3"}]]

local function list_of(v)
  if v == nil then return {} end
  if type(v) ~= "table" then return { v } end
  local t = {}
  for i = 1, #v do t[i] = v[i] end
  return t
end

local function append(dst, src)
  for _, x in ipairs(src) do dst[#dst + 1] = x end
  return dst
end

function M.recipe(opts)
  local info = U.caller()
  local R = "recipes.cloud_init"
  local o = H.options(R, opts, SPEC, info)
  local function bad(fmt, ...) U.raise(info, R .. ": " .. fmt:format(...)) end
  -- the shapes its record (src/options.c) leaves to the recipe
  for _, sp in ipairs(SPEC) do
    local check = sp[2] ~= "string" and H.types[sp[2]]
    local want = check and o[sp[1]] ~= nil and check(o[sp[1]])
    if want then bad("field '%s': %s expected, got %s", sp[1], want, type(o[sp[1]])) end
  end
  local function yaml(v, name, indent)
    local text, err = render(v, indent or 0, name)
    if not text then bad("field '%s': %s", name:match("^[%w_]+"), err) end
    return text
  end

  if o.hostname and not o.hostname:match("^%w[%w%-%.]*$") then
    bad("field 'hostname': invalid hostname '%s' (letters, digits, '-' and '.')", o.hostname)
  end
  local id = o.id or "cidata"
  if not id:match("^%a[%w%-%._]*$") then
    bad("field 'id': invalid id '%s' (a letter, then letters, digits, '-', '.', '_')", id)
  end
  local user = o.user or "root"
  local ssh_key = o.ssh_key ~= false

  -- user-data
  local user_data
  if type(o.user_data) == "string" then
    local extra = {}
    for _, n in ipairs { "ssh_authorized_keys", "run_cmd" } do
      if o[n] ~= nil then extra[#extra + 1] = "'" .. n .. "'" end
    end
    if #extra > 0 then
      bad("%s %s 'user_data' to be a table (a string is written as is)", #extra > 1 and "fields" or "field",
        table.concat(extra, " and ") .. (#extra > 1 and " need" or " needs"))
    end
    user_data = o.user_data
  else
    local cc = {}
    for k, v in pairs(o.user_data or {}) do cc[k] = v end
    if o.hostname then
      if cc.hostname ~= nil and cc.hostname ~= o.hostname then
        bad("field 'hostname' ('%s') differs from user_data.hostname ('%s')", o.hostname, tostring(cc.hostname))
      end
      cc.hostname = o.hostname
    end
    if o.ssh_authorized_keys then
      cc.ssh_authorized_keys = append(list_of(cc.ssh_authorized_keys), list_of(o.ssh_authorized_keys))
    end
    if o.run_cmd then cc.runcmd = append(list_of(cc.runcmd), list_of(o.run_cmd)) end
    if ssh_key and user == "root" and cc.disable_root == nil then cc.disable_root = false end
    user_data = "#cloud-config\n" .. yaml(cc, "user_data")
  end

  -- meta-data: public-keys last, as a block list the launch appends to
  local meta = {}
  for k, v in pairs(o.meta_data or {}) do meta[k] = v end
  if o.instance_id and meta["instance-id"] ~= nil then
    bad("give the instance id once: field 'instance_id' or meta_data['instance-id']")
  end
  meta["instance-id"] = meta["instance-id"] or o.instance_id or ("qlua-" .. require("qemu")._random_hex(6))
  if o.hostname then meta["local-hostname"] = meta["local-hostname"] or o.hostname end
  local keys = meta["public-keys"]
  meta["public-keys"] = nil
  local meta_data = yaml(meta, "meta_data")
  if ssh_key then
    keys = list_of(keys)
    for i, k in ipairs(keys) do
      if type(k) ~= "string" then bad("field 'meta_data': value at 'public-keys[%d]': string expected", i) end
    end
    meta_data = meta_data .. "public-keys:\n" .. (#keys > 0 and yaml(keys, "meta_data.public-keys", 2) or "")
  elseif keys ~= nil then
    meta_data = meta_data .. yaml({ ["public-keys"] = keys }, "meta_data")
  end

  local network = o.network_config
  if type(network) == "table" then network = yaml(network, "network_config") end

  -- what runs at launch
  local dir, prepare = H.run_dir(o.dir)
  local files, seed = dir .. "/" .. id, dir .. "/" .. id .. ".iso"
  local key = dir .. "/id_ed25519"
  local fragment = {}
  if ssh_key then
    if o.dir or H.R.run_dir then   -- a directory that may hold an older key
      prepare[#prepare + 1] = { argv = { "rm", "-f", key, key .. ".pub" } }
    end
    prepare[#prepare + 1] = { argv = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "qlua", "-f", key } }
    fragment.ssh = { user = user, key = H.absolute(key), guest_port = 22 }
  elseif o.user then
    fragment.ssh = { user = user }
  end
  prepare[#prepare + 1] = { argv = { "sh", "-c", SCRIPT, "sh", files, seed, user_data, meta_data,
    network or "", ssh_key and key .. ".pub" or "" } }
  fragment.prepare = prepare
  fragment.devices = { H.build(R, info, "block", {
    id = id, file = seed, format = "raw", read_only = true, transport = o.transport,
  }) }
  return fragment
end

return M
