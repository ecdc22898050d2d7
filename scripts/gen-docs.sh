#!/bin/sh
# gen-docs.sh [--check | --man OUT] - writes the documentation that is
# generated from the qlua binary, so that it cannot drift from the code:
#
#   docs/api.md  every device kind, VM section and table of named options,
#                from the schema compiled into qlua (qemu.kinds,
#                qemu.option_kinds, qemu.describe: what `qlua --describe
#                KIND` prints)
#   qlua.1       its OPTIONS section, from `qlua --help` (src/main.c's option
#                table, which the parser reads too), and its MATRIX OPTIONS,
#                from qemu.matrix's option table (which its parser reads)
#   README.md    the options table of "The command line", from `qlua --help`
#
# Only the parts between the "BEGIN GENERATED ..." and "END GENERATED ..."
# comments of qlua.1 and README.md are written; the rest is hand-written.
#
#   --check    writes nothing: prints a diff and exits 1 when any of those
#              files is not what this script would write (the spec runs this)
#   --man OUT  writes only the man page, to OUT (make install: the installed
#              page lists the installed binary's options)
#
# QLUA=path/to/qlua names the binary (default: ./qlua of this tree).
set -eu
here=$(pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
QLUA=${QLUA:-$root/qlua}
case $QLUA in /*) ;; */*) QLUA=$here/$QLUA ;; esac
mode=write out=
case ${1:-} in
	--check) mode=check ;;
	--man)
		[ $# -ge 2 ] || { echo "gen-docs.sh: --man needs a file name" >&2; exit 2; }
		mode=man
		case $2 in /*) out=$2 ;; *) out=$here/$2 ;; esac ;;
	"") ;;
	*) echo "usage: gen-docs.sh [--check | --man OUT]" >&2; exit 2 ;;
esac
[ -x "$QLUA" ] || command -v "$QLUA" >/dev/null 2>&1 ||
	{ echo "gen-docs.sh: no qlua binary at $QLUA (run make first)" >&2; exit 2; }
cd "$root"
# The generator runs in qlua itself: it needs the schema and the option
# tables of that binary.  (The script comes on standard input: "-".)
exec "$QLUA" - "$QLUA" "$mode" "$out" <<'EOF'
local QLUA, mode, out = arg[1], arg[2], arg[3]
local matrix = require "qemu.matrix"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function run(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  local ok, _, code = p:close()
  if not ok then error(("gen-docs.sh: `%s` failed (%s)"):format(cmd, tostring(code)), 0) end
  return s
end

-- ---- qlua --help -------------------------------------------------------------

-- The options of `qlua --help`: { {names = {"-n", "--dry-run"}, arg = "CHUNK"|nil, help = "..."} }.
-- An option line is "  LEFT  HELP": LEFT is "-x, --long", "-x ARG" or
-- "--long [ARG]" (padded to a column), HELP the rest; a line indented
-- further that does not start with "-" continues the HELP above it.
local function parse_left(left)
  local names, argname = {}, nil
  for word in left:gmatch("%S+") do
    word = word:gsub(",$", "")
    if word:match("^%-") then
      names[#names + 1] = word
    elseif not argname and word:match("^[%u%d_/.:=%-]+$") then
      argname = word
    else
      return nil
    end
  end
  if #names == 0 then return nil end
  return names, argname
end

local function help_options(text)
  local opts, inside = {}, false
  for line in (text .. "\n"):gmatch("(.-)\n") do
    if line == "options:" then
      inside = true
    elseif inside then
      if line:match("^%s*$") then break end
      local body = line:match("^%s+(%S.*)$")
      if not body then error("gen-docs.sh: unexpected line in qlua --help: " .. line, 0) end
      local left, help = body:match("^(.-)%s%s+(%S.*)$")
      local names, argname
      if left then names, argname = parse_left(left) end
      if not names then
        -- LEFT as wide as its column: one space before HELP.  The longest
        -- head of one to three words that reads as LEFT.
        for _, pat in ipairs({ "^(%S+ %S+ %S+) (%S.*)$", "^(%S+ %S+) (%S.*)$", "^(%S+) (%S.*)$" }) do
          local l, h = body:match(pat)
          local n, a
          if l then n, a = parse_left(l) end
          if n then names, argname, help = n, a, h break end
        end
      end
      if names and body:match("^%-") then
        opts[#opts + 1] = { names = names, arg = argname, help = help }
      elseif #opts > 0 and not body:match("^%-") then
        opts[#opts].help = opts[#opts].help .. " " .. body   -- a continuation line
      else
        error("gen-docs.sh: cannot read this option line of qlua --help: " .. line, 0)
      end
    end
  end
  if #opts == 0 then error("gen-docs.sh: qlua --help lists no options", 0) end
  return opts
end

-- The matrix options: qemu.matrix's own table, { flag, ARG|nil, key, help }.
local function matrix_options()
  assert(type(matrix.OPTIONS) == "table", "gen-docs.sh: qemu.matrix has no OPTIONS table")
  local opts = {}
  for _, o in ipairs(matrix.OPTIONS) do
    opts[#opts + 1] = { names = { o[1] }, arg = o[2], help = o[4] }
  end
  return opts
end

-- ---- roff ------------------------------------------------------------------------

-- Text for a roff text line: backslashes escaped, dashes of option-like
-- words made minus signs, no control character at the start.
local function roff(s)
  s = s:gsub("\\", "\\e"):gsub("%-", "\\-")
  if s:match("^[.']") then s = "\\&" .. s end
  return s
end

local function man_options(opts)
  local lines = {}
  for _, o in ipairs(opts) do
    local names = {}
    for i, n in ipairs(o.names) do names[i] = "\\fB" .. roff(n) .. "\\fR" end
    local head = table.concat(names, ", ")
    if o.arg then head = head .. " \\fI" .. roff(o.arg) .. "\\fR" end
    lines[#lines + 1] = ".TP"
    lines[#lines + 1] = head
    lines[#lines + 1] = roff(o.help)
  end
  return table.concat(lines, "\n") .. "\n"
end

-- ---- markdown ----------------------------------------------------------------------

-- Text for a Markdown table cell: no cell break, no HTML tag, no emphasis.
local function md(s)
  return (s:gsub("[|*]", "\\%0"):gsub("<", "&lt;"))
end

local function code(s)
  return "`" .. s .. "`"
end

local function md_options(opts)
  local lines = { "| option | what it does |", "|---|---|" }
  for _, o in ipairs(opts) do
    local names = {}
    for i, n in ipairs(o.names) do names[i] = code(n .. (o.arg and i == #o.names and (" " .. o.arg) or "")) end
    lines[#lines + 1] = ("| %s | %s |"):format(table.concat(names, ", "), md(o.help))
  end
  return table.concat(lines, "\n") .. "\n"
end

-- ---- docs/api.md -------------------------------------------------------------------

local function quoted(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = code(tostring(v)) end
  return table.concat(out, ", ")
end

local function field_row(f)
  local notes = {}
  if f.choices then notes[#notes + 1] = "one of " .. quoted(f.choices) end
  if f.min and f.max then
    notes[#notes + 1] = (f.type == "integers" and "each %d..%d" or "%d..%d"):format(f.min, f.max)
  end
  if f.default ~= nil then notes[#notes + 1] = "default " .. code(tostring(f.default)) end
  if f.only_when then
    notes[#notes + 1] = ("only with %s = %s"):format(code(f.only_when.field), quoted(f.only_when.values))
  end
  if f.required_when then
    notes[#notes + 1] = ("required with %s = %s"):format(code(f.required_when.field),
      quoted(f.required_when.values))
  end
  local desc = f.doc or ""
  if #notes > 0 then
    local more = table.concat(notes, "; ")
    desc = desc ~= "" and (desc .. ". " .. more:sub(1, 1):upper() .. more:sub(2)) or more
  end
  -- every section has a block of its own (qemu.describe raises if one
  -- cannot be described, as hostfwd could not: then make docs fails)
  local t = f.section and ("[%s](#%s)"):format(f.type, f.section) or f.type
  return ("| %s%s | %s | %s |"):format(code(f.name), f.required and " (required)" or "", t, md(desc))
end

-- What qemu.describe gives beside kind, doc, device and fields (e.g. a
-- device's models by transport), one line each.
local function extras(d)
  local keys, lines = {}, {}
  for k in pairs(d) do
    if k ~= "kind" and k ~= "doc" and k ~= "device" and k ~= "fields" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  -- a value as text: a list as its items, a map as `key`: value (sorted),
  -- nested ones in parentheses
  local function value(v, nested)
    if type(v) ~= "table" then return code(tostring(v)) end
    local parts = {}
    if #v > 0 then
      for i, x in ipairs(v) do parts[i] = value(x, true) end
    else
      local ks = {}
      for kk in pairs(v) do ks[#ks + 1] = kk end
      table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
      for i, kk in ipairs(ks) do parts[i] = code(tostring(kk)) .. ": " .. value(v[kk], true) end
    end
    local text = table.concat(parts, ", ")
    return nested and ("(" .. text .. ")") or text
  end
  for _, k in ipairs(keys) do
    lines[#lines + 1] = ("%s: %s."):format(k:sub(1, 1):upper() .. k:sub(2):gsub("_", " "), md(value(d[k])))
  end
  return lines
end

local function describe_block(kind, heading)
  local d = qemu.describe(kind)
  local lines = { "## " .. kind, "", heading(d), "" }
  for _, l in ipairs(extras(d)) do
    lines[#lines + 1] = l
    lines[#lines + 1] = ""
  end
  if #d.fields == 0 then
    lines[#lines + 1] = "(no fields)"
  else
    lines[#lines + 1] = "| field | type | description |"
    lines[#lines + 1] = "|---|---|---|"
    for _, f in ipairs(d.fields) do lines[#lines + 1] = field_row(f) end
  end
  lines[#lines + 1] = ""
  return table.concat(lines, "\n")
end

local function api_md()
  local kinds = qemu.kinds()
  local sections = { "vm" }
  -- the VM's sections, each followed by its own (numa: nodes, dists)
  local function add_sections(kind)
    for _, f in ipairs(qemu.describe(kind).fields) do
      if f.section then
        sections[#sections + 1] = f.section
        add_sections(f.section)
      end
    end
  end
  add_sections("vm")
  -- the sections of devices (netdev: hostfwd), after the kinds, each once
  local dsections, owner = {}, {}
  for _, k in ipairs(kinds) do
    for _, f in ipairs(qemu.describe(k).fields) do
      if f.section and not owner[f.section] then
        dsections[#dsections + 1] = f.section
        owner[f.section] = k
      end
    end
  end
  -- every name must be one `qlua --describe` takes
  for _, list in ipairs({ kinds, sections, dsections }) do
    for _, k in ipairs(list) do run(q(QLUA) .. " --describe " .. q(k) .. " >/dev/null") end
  end
  -- the tables of named options (src/options.c): qemu.option_kinds()
  local options = qemu.option_kinds()
  for _, k in ipairs(options) do run(q(QLUA) .. " --describe " .. q(k) .. " >/dev/null") end
  local function links(list)
    local out = {}
    for i, k in ipairs(list) do out[i] = ("[%s](#%s)"):format(k, (k:gsub("%.", ""))) end
    return table.concat(out, " · ")
  end
  local parts = {
    "# qlua API reference: device kinds, VM sections and tables of options",
    "",
    "<!-- generated by scripts/gen-docs.sh from the schema compiled into qlua: do not edit; " ..
      "run `make docs` -->",
    "",
    "Every device kind and every section of a VM description, with its fields, as the " ..
      "checker sees them. `qlua --describe KIND` prints the same from the binary you have, " ..
      "and `qemu.describe(kind)` returns it as a table. A field's type is the shape the " ..
      "checker accepts (`size`: bytes or a string such as `\"512M\"`; `id`: QEMU's id rules; " ..
      "`reference`: the id of another device in the description; `path-or-fd`: a path or a " ..
      "`qemu.fd`).",
    "",
    "Device kinds (`qemu.KIND{...}` builds one): " .. links(kinds),
    "",
    "Sections of a VM description (`vm` is the description itself): " .. links(sections),
    "",
    "Sections of a device: " .. links(dsections),
    "",
    "Tables of named options (the options of a function of qemu or of its Lua library, " ..
      "checked as the fields of a device are; `qemu.check_options(name, t)` checks one): " .. links(options),
    "",
  }
  for _, k in ipairs(kinds) do
    parts[#parts + 1] = describe_block(k, function(d)
      return ("`qemu.%s{...}`: %s."):format(k, d.doc)
    end)
  end
  for _, k in ipairs(dsections) do
    parts[#parts + 1] = describe_block(k, function(d)
      return ("`%s = {...}` in a `qemu.%s{...}`: %s."):format(k, owner[k], d.doc)
    end)
  end
  for _, k in ipairs(sections) do
    parts[#parts + 1] = describe_block(k, function(d)
      if k == "vm" then return "The description a script returns: " .. d.doc .. "." end
      return ("`%s = {...}` in a description: %s."):format(k, d.doc)
    end)
  end
  for _, k in ipairs(options) do
    parts[#parts + 1] = describe_block(k, function(d) return d.doc .. "." end)
  end
  return (table.concat(parts, "\n"):gsub("\n+$", "\n"))
end

-- ---- splicing the generated parts in -------------------------------------------------

-- Replaces the lines between the line that holds `open` and the line that
-- holds `close` (both lines kept).
local function splice(text, path, open, close, body)
  local a = text:find(open, 1, true)
  local b = a and text:find("\n", a, true)
  local c = b and text:find(close, b, true)
  if not c then
    error(("gen-docs.sh: %s has no '%s' ... '%s' lines"):format(path, open, close), 0)
  end
  while c > 1 and text:sub(c - 1, c - 1) ~= "\n" do c = c - 1 end
  return text:sub(1, b) .. body .. text:sub(c)
end

local help = run(q(QLUA) .. " --help")
local opts = help_options(help)

local function man_page()
  local path = "qlua.1"
  local text = assert(slurp(path), "gen-docs.sh: no qlua.1")
  text = splice(text, path, '.\\" BEGIN GENERATED OPTIONS', '.\\" END GENERATED OPTIONS', man_options(opts))
  text = splice(text, path, '.\\" BEGIN GENERATED MATRIX OPTIONS', '.\\" END GENERATED MATRIX OPTIONS',
    man_options(matrix_options()))
  return text
end

local function readme()
  local path = "README.md"
  local text = assert(slurp(path), "gen-docs.sh: no README.md")
  return splice(text, path, "<!-- BEGIN GENERATED OPTIONS", "<!-- END GENERATED OPTIONS", md_options(opts))
end

if mode == "man" then
  local f = assert(io.open(out, "wb"))
  f:write(man_page())
  f:close()
  return
end

local files = { { "docs/api.md", api_md() }, { "qlua.1", man_page() }, { "README.md", readme() } }
local stale = 0
for _, it in ipairs(files) do
  local path, text = it[1], it[2]
  local old = slurp(path)
  if old ~= text then
    if mode == "check" then
      stale = stale + 1
      local tmp = os.tmpname()
      local f = assert(io.open(tmp, "wb"))
      f:write(text)
      f:close()
      io.write(("%s is stale (run `make docs`):\n"):format(path))
      io.stdout:flush()
      os.execute(("diff -u %s %s | head -60"):format(q(old and path or "/dev/null"), q(tmp)))
      os.remove(tmp)
    else
      os.execute("mkdir -p " .. q(path:match("^(.*)/") or "."))
      local f = assert(io.open(path, "wb"))
      f:write(text)
      f:close()
      io.write("gen-docs.sh: wrote ", path, "\n")
    end
  end
end
if stale > 0 then os.exit(1) end
EOF
