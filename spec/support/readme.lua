-- spec/support/readme.lua - README.md's fenced blocks and its transcripts (a
-- ``` block of `$ ` lines, each followed by what it prints), and how a
-- command's real output is compared with what the README shows: digits may
-- differ (times, pids), a line `...` stands for any lines, and a run of a
-- matrix's result lines (pass ...) may come in any order.
-- spec/examples_spec.lua runs every transcript, but those of the Debian
-- boots (examples/debian.lua, examples/distro-matrix.lua), which the distro
-- specs run as printed (RUN_ELSEWHERE).
local H = require "helper"

local M = {}

M.README = H.root .. "/README.md"

-- The examples whose README commands another spec runs, and which spec:
-- their boots take minutes, and the spec runs them side by side.
M.RUN_ELSEWHERE = {
  ["debian.lua"] = "spec/distro_spec.lua",
  ["distro-matrix.lua"] = "spec/distro_matrix_spec.lua",
}

-- The spec that runs transcript block b instead of examples_spec, or nil:
-- a block with a command that runs one of those examples is theirs, whole
-- (the commands after it read what it made).
function M.run_elsewhere(b)
  for _, step in ipairs(M.steps(b) or {}) do
    local name = step.cmd:match("examples/([%w_%-]+%.lua)")
    if name and M.RUN_ELSEWHERE[name] then return M.RUN_ELSEWHERE[name] end
  end
  return nil
end

-- The fenced blocks: { lang, line (of the opening fence), lines }.
function M.blocks()
  local blocks, cur, n = {}, nil, 0
  for line in io.lines(M.README) do
    n = n + 1
    if cur then
      if line == "```" then
        blocks[#blocks + 1] = cur
        cur = nil
      else
        cur.lines[#cur.lines + 1] = line
      end
    else
      local lang = line:match("^```(%w*)$")
      if lang then cur = { lang = lang, line = n, lines = {} } end
    end
  end
  assert(not cur, "README.md: a block opened at line " .. (cur and cur.line or 0) .. " is never closed")
  return blocks
end

-- The steps of a transcript block b (nil if b is none): { cmd, line, out
-- (the lines it shows) }.
function M.steps(b)
  if b.lang ~= "" or not (b.lines[1] and b.lines[1]:match("^%$ ")) then return nil end
  local steps = {}
  for i, line in ipairs(b.lines) do
    local cmd = line:match("^%$ (.*)$")
    if cmd then
      steps[#steps + 1] = { cmd = cmd, line = b.line + i, out = {} }
    else
      table.insert(steps[#steps].out, line)
    end
  end
  return steps
end

-- The steps of the transcript blocks of README.md in which a command
-- matches `pattern`, in README order.
function M.commands(pattern)
  local found = {}
  for _, b in ipairs(M.blocks()) do
    local steps = M.steps(b) or {}
    local hit = false
    for _, step in ipairs(steps) do hit = hit or step.cmd:match(pattern) ~= nil end
    if hit then
      for _, step in ipairs(steps) do found[#found + 1] = step end
    end
  end
  return found
end

-- A printed output line as a pattern: digits, random hex names (8 or more
-- hex digits: qlua-run.3f9c0a1b2d4e) and runs of blanks may differ.
local function line_pattern(line)
  local p = line:gsub("%s+$", ""):gsub("%p", "%%%0"):gsub("%x%x%x%x%x%x%x%x+", "%%x+"):gsub("%d+", "%%d+")
    :gsub(" +", " +")
  return "^" .. p .. "$"
end

local OUTCOME = { pass = true, fail = true, timeout = true, crash = true, error = true, skip = true }

-- Whether the actual lines match the printed ones (see above).
function M.matches(printed, actual)
  local function at(i, j)
    if i > #printed then return j > #actual end
    local p = printed[i]
    if p:match("^%s*%.%.%.%s*$") then
      for k = j, #actual + 1 do
        if at(i + 1, k) then return true end
      end
      return false
    end
    local word = p:match("^(%a+) ")
    if word and OUTCOME[word] then
      -- a run of result lines: the same lines in any order
      local n = 0
      while printed[i + n] and printed[i + n]:match("^(%a+) ") and OUTCOME[printed[i + n]:match("^(%a+) ")] do
        n = n + 1
      end
      local used = {}
      for a = j, j + n - 1 do
        local found = false
        for b = i, i + n - 1 do
          if not used[b] and actual[a] and actual[a]:match(line_pattern(printed[b])) then
            used[b], found = true, true
            break
          end
        end
        if not found then return false end
      end
      return at(i + n, j + n)
    end
    return actual[j] ~= nil and actual[j]:match(line_pattern(p)) ~= nil and at(i + 1, j + 1)
  end
  return at(1, 1)
end

-- The lines of a command's output (its \r dropped).
function M.lines(out)
  local actual = {}
  for line in out:gsub("\r", ""):gmatch("([^\n]*)\n") do actual[#actual + 1] = line end
  return actual
end

-- A directory that looks like the top of the tree to the README's commands:
-- this tree's qlua, build/ and examples/, and a tmp/ for $TMPDIR.
function M.sandbox()
  local box = H.tmpdir()
  assert(os.execute(("ln -s %s %s/qlua && ln -s %s/build %s/build && ln -s %s/examples %s/examples && mkdir %s/tmp")
    :format(H.q(H.qlua_bin), H.q(box), H.q(H.root), H.q(box), H.q(H.root), H.q(box), H.q(box))))
  return box
end

return M
