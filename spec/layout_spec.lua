-- spec/layout_spec.lua - the map of the tree cannot rot: every file git
-- tracks is named in the README's Layout section or in
-- docs/architecture.md, every src/ and lua/qemu/ file is in the
-- architecture's table, and neither names a file that is gone.  And the
-- layers it describes stay layers: no circle of includes in src/, and Lua's
-- C API only in the files its section on the C-Lua boundary names.  No
-- file points a reader at a document the checkout does not have.
--
-- A name is a path as written (src/lib.c), or a glob where one name stands
-- for many files of one kind (spec/golden/*.args, fuzz/corpus/*/*: `*`
-- is any run of characters but '/').  A failure lists every file at fault,
-- so the lists can be fixed in one go after a merge.
local H = require "helper"

local function tracked()
  local p = assert(io.popen("cd " .. H.q(H.root) .. " && git ls-files 2>/dev/null"))
  local files = {}
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  return files
end

-- The README's Layout section: from its heading to the next one.
local function readme_layout()
  local readme = assert(H.slurp(H.root .. "/README.md"))
  local from = assert(readme:find("\n## Layout\n", 1, true), "README.md has no '## Layout' section")
  local to = readme:find("\n## ", from + 1, true)
  return readme:sub(from, to)
end

local function architecture()
  return assert(H.slurp(H.root .. "/docs/architecture.md"), "docs/architecture.md is missing")
end

-- The names a text gives: words that look like paths (a '/' inside, or a
-- top-level file's name given in `names`), stripped of the punctuation
-- around them in prose and tables.
local function names(text, top)
  local out = {}
  for word in text:gmatch("[^%s`|,;()]+") do
    word = word:gsub("[.:]+$", ""):gsub("^%[", ""):gsub("%]$", "")
    if word:find("/", 1, true) or top[word] then out[word] = true end
  end
  return out
end

local function glob(word)
  return "^" .. word:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", "[^/]*") .. "$"
end

-- Does one of the names in set name file?
local function named(set, file)
  if set[file] then return true end
  for word in pairs(set) do
    if word:find("*", 1, true) and file:match(glob(word)) then return true end
  end
  return false
end

local function sorted(t)
  table.sort(t)
  return t
end

local function keys(set)
  local l = {}
  for k in pairs(set) do l[#l + 1] = k end
  return sorted(l)
end

describe("the layout of the tree", function()
  local files = tracked()
  if #files == 0 then
    pending("not a git checkout: no tracked files to compare the layout with")
    return
  end
  local top = {}
  for _, f in ipairs(files) do
    if not f:find("/", 1, true) then top[f] = true end
  end
  top[".ci/run"] = true

  it("every tracked file is named in the README's Layout or docs/architecture.md", function()
    local set = names(readme_layout() .. "\n" .. architecture(), top)
    local missing = {}
    for _, f in ipairs(files) do
      if not named(set, f) then missing[#missing + 1] = f end
    end
    assert(#missing == 0, ("%d tracked file(s) named in neither the README's Layout section nor " ..
      "docs/architecture.md (add each with its one concern):\n  %s"):format(#missing,
      table.concat(sorted(missing), "\n  ")))
  end)

  it("every src/ and lua/qemu/ file has its row in docs/architecture.md", function()
    local set = names(architecture(), top)
    local missing = {}
    for _, f in ipairs(files) do
      if (f:match("^src/") or f:match("^lua/qemu/")) and not set[f] then missing[#missing + 1] = f end
    end
    assert(#missing == 0, ("%d source file(s) without a row in docs/architecture.md's table:\n  %s")
      :format(#missing, table.concat(sorted(missing), "\n  ")))
  end)

  -- docs/architecture.md: "no file includes another's header in a circle".
  -- A file and its header are one unit (src/lvm.c and src/lvm.h: lvm); a
  -- unit depends on another when either of its files includes the other's
  -- header.  A circle is printed as the path that closes it.
  it("no file of src/ includes another's header in a circle", function()
    local deps, units = {}, {}
    for _, f in ipairs(files) do
      local unit = f:match("^src/([%w_]+)%.[ch]$")
      if unit then
        units[#units + 1] = unit
        deps[unit] = deps[unit] or {}
        for inc in assert(H.slurp(H.root .. "/" .. f)):gmatch('#include "([%w_]+)%.h"') do
          if inc ~= unit then deps[unit][inc] = true end
        end
      end
    end
    local state, path, circles = {}, {}, {}
    local function visit(u)
      state[u] = "open"
      path[#path + 1] = u
      for _, d in ipairs(keys(deps[u])) do
        if deps[d] and state[d] == "open" then
          local from = 1
          while path[from] ~= d do from = from + 1 end
          circles[#circles + 1] = table.concat(path, " -> ", from) .. " -> " .. d
        elseif deps[d] and not state[d] then
          visit(d)
        end
      end
      path[#path] = nil
      state[u] = "done"
    end
    for _, u in ipairs(sorted(units)) do
      if not state[u] then visit(u) end
    end
    assert(#circles == 0, ("%d circle(s) of includes in src/ (unit -> the unit whose header it includes):\n  %s")
      :format(#circles, table.concat(circles, "\n  ")))
  end)

  -- docs/architecture.md, "The Lua binding": the files that include a Lua
  -- header or call Lua's C API are the ones that section names; the rest of
  -- src/ is plain C.  (Comments are left out: they may name the API.)
  it("only the files docs/architecture.md names as the C-Lua boundary use Lua's C API", function()
    local arch = architecture()
    local from = assert(arch:find("\n### 4%. The Lua binding"), "docs/architecture.md has no section '### 4. The Lua binding'")
    local section = arch:sub(from, (arch:find("\n### ", from + 1)))
    local named, outside = {}, {}
    for f in section:gmatch("src/[%w_]+%.c") do named[f] = true end
    for _, f in ipairs(files) do
      if f:match("^src/[%w_]+%.c$") and not named[f] then
        local code = assert(H.slurp(H.root .. "/" .. f)):gsub("/%*.-%*/", "")
        local use = code:match("#include <lua%.h>") or code:match("#include <lauxlib%.h>")
          or code:match("#include <lualib%.h>") or code:match("%f[%w_](luaL?_[%w_]+)%s*%(")
        if use then outside[#outside + 1] = f .. " (" .. use .. ")" end
      end
    end
    assert(#outside == 0, ("%d file(s) of src/ use Lua's C API but are not named in docs/architecture.md's " ..
      "'The Lua binding' section (move the Lua part into a binding file, or name the file there):\n  %s")
      :format(#outside, table.concat(sorted(outside), "\n  ")))
  end)

  -- The design documents the project started from live outside the tree
  -- (API.md, ARCHITECTURE.md, STYLE.md, GUEST.md beside it): a reader of a
  -- checkout cannot follow a pointer to them.  What they say that the code
  -- relies on is in docs/ (contract.md, architecture.md, guest.md).
  it("no tracked file points at a document outside the tree", function()
    local outside = {}
    for _, f in ipairs(files) do
      -- (this file names them to look for them)
      if not f:match("^fuzz/corpus/") and f ~= "spec/layout_spec.lua" then
        local text = H.slurp(H.root .. "/" .. f) or ""
        if not text:find("\0", 1, true) then
          for n, line in text:gmatch("()([^\n]*)") do
            local hit = line:match("%f[%w_](API%.md)") or line:match("%f[%w_](ARCHITECTURE%.md)")
              or line:match("%f[%w_](STYLE%.md)") or line:match("%f[%w_](GUEST%.md)")
              or line:match("(shared/design)") or line:match("(%.%./shared/)")
            if hit then
              local lineno = select(2, text:sub(1, n):gsub("\n", "")) + 1
              outside[#outside + 1] = ("%s:%d: %s"):format(f, lineno, hit)
            end
          end
        end
      end
    end
    assert(#outside == 0, ("%d pointer(s) to documents outside the tree (point into docs/ instead):\n  %s")
      :format(#outside, table.concat(outside, "\n  ")))
  end)

  it("neither names a file of the tree that is not there", function()
    local have = {}
    for _, f in ipairs(files) do have[f] = true end
    local roots = { "src/", "lua/qemu/", "scripts/", "bench/", "examples/", "spec/", "docs/", "fuzz/" }
    local gone = {}
    for where, text in pairs({ ["README.md's Layout"] = readme_layout(), ["docs/architecture.md"] = architecture() }) do
      for word in pairs(names(text, top)) do
        local under = false
        for _, r in ipairs(roots) do
          if word:sub(1, #r) == r and #word > #r then under = true end
        end
        local ok = have[word]
        if under and not ok and word:find("*", 1, true) then
          for _, f in ipairs(files) do
            if f:match(glob(word)) then ok = true; break end
          end
        end
        if under and not ok then gone[#gone + 1] = word .. " (" .. where .. ")" end
      end
    end
    assert(#gone == 0, ("%d name(s) for files that git does not track:\n  %s"):format(#gone,
      table.concat(sorted(gone), "\n  ")))
  end)
end)
