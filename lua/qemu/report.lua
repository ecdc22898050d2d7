-- qemu.report - how a matrix run tells what happened: a live one-line
-- progress display on a terminal (plain lines otherwise), TAP on stdout
-- (--tap), JUnit XML (--junit FILE), and a final summary.  NO_COLOR is
-- respected.  Used by qemu.matrix; the functions take its `run` state.
local qemu = require "qemu"

local R = {}

-- missing: a cell no shard reported (qlua --merge)
local OUTCOMES = { "pass", "fail", "timeout", "crash", "error", "skip", "missing" }

-- Text from the guest or QEMU may be any bytes; reports are UTF-8 (JUnit
-- declares it, JSON needs it).  Every byte of a sequence that is not UTF-8
-- becomes '?'.
local function utf8_clean(s)
  s = tostring(s or "")
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local n = utf8.len(s, i, i) and #utf8.char(utf8.codepoint(s, i)) or nil
    -- utf8.len(s, i, i) accepts a whole character starting at i
    if n then
      out[#out + 1] = s:sub(i, i + n - 1)
      i = i + n
    else
      out[#out + 1] = "?"
      i = i + 1
    end
  end
  return table.concat(out)
end
R.utf8_clean = utf8_clean
local COLORS = { pass = "32", fail = "31", timeout = "33", crash = "35", error = "31", skip = "36",
                 missing = "31" }

local function isatty(f)
  return qemu._isatty(f == io.stdout and 1 or 2)  -- (io has no isatty)
end

local function paint(run, outcome, text)
  if not run.color then return text end
  return "\27[" .. COLORS[outcome] .. "m" .. text .. "\27[0m"
end

function R.start(run)
  -- stdout carries TAP when asked for; people read stderr then
  run.human = run.tap and io.stderr or io.stdout
  run.tty = isatty(run.human)
  run.color = run.tty and (os.getenv("NO_COLOR") or "") == "" and (os.getenv("TERM") or "") ~= "dumb"
  run.tapn = 0
  run.tap_lines = { "TAP version 13\n1.." .. #run.records .. "\n" }  -- results.tap
  if run.tap then
    io.stdout:write("TAP version 13\n1..", #run.records, "\n")
    io.stdout:flush()
  end
end

local function status_line(run)
  return ("[%s] %d/%d done, %d running, %d failed, %.1f s"):format(run.matrix.name, run.done,
    #run.records, run.running, run.failed, qemu.now() - run.started)
end

-- The TAP lines of the cell c, test number n.
local function tap_text(n, c)
  local line
  if c.outcome == "pass" then
    line = ("ok %d - %s"):format(n, c.name)
  elseif c.outcome == "skip" then
    line = ("ok %d - %s # SKIP %s"):format(n, c.name, c.message or "")
  else
    line = ("not ok %d - %s # %s"):format(n, c.name, c.outcome)
  end
  local out = { utf8_clean(line), "\n" }
  if c.outcome ~= "pass" and c.message then
    out[#out + 1] = "  ---\n  outcome: " .. c.outcome .. "\n  message: " .. qemu.json(utf8_clean(c.message))
      .. "\n  logs: " .. qemu.json(utf8_clean(c.dir or "")) .. "\n  ...\n"
  end
  return table.concat(out)
end

-- One cell ended (c: the runner's record of it).
function R.progress(run, c)
  run.tapn = run.tapn + 1
  local tap = tap_text(run.tapn, c)
  run.tap_lines[#run.tap_lines + 1] = tap
  if run.tap then
    io.stdout:write(tap)
    io.stdout:flush()
  end
  local out = run.human
  local text = ("%-7s %s (%.1f s)%s"):format(c.outcome, c.name, c.duration,
    c.message and c.outcome ~= "pass" and (": " .. c.message:gsub("\n.*", "")) or "")
  if run.tty then
    -- the finished cell on its own line, then the live line again
    out:write("\r\27[K", paint(run, c.outcome, text), "\n", status_line(run))
  else
    out:write(paint(run, c.outcome, text), "\n")
  end
  out:flush()
end

-- XML text with its five special characters escaped (and control bytes,
-- which XML 1.0 cannot carry, replaced).
local function xml(s)
  s = utf8_clean(s)
  s = s:gsub("[%z\1-\8\11\12\14-\31]", "?")
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                               ['"'] = "&quot;", ["'"] = "&apos;" }))
end

local function tail(path, max)
  local f = io.open(path, "rb")
  if not f then return "" end
  local size = f:seek("end")
  f:seek("set", math.max(0, size - max))
  local s = f:read("a")
  f:close()
  -- start at a character boundary: skip UTF-8 continuation bytes
  return (s:gsub("^[\128-\191]+", ""))
end

-- The JUnit XML of a run: one testsuite (the matrix), one testcase per
-- cell; fail -> <failure>, timeout/crash/error -> <error>, skip -> <skipped>.
-- The suite's time is the run's wall time (cells run in parallel: their
-- times add up to more); each testcase's is its cell's.
function R.junit(run)
  local counts = { tests = #run.records, failures = 0, errors = 0, skipped = 0 }
  local total = (run.ended or qemu.now()) - run.started
  for _, c in ipairs(run.records) do
    if c.outcome == "fail" then counts.failures = counts.failures + 1
    elseif c.outcome == "skip" then counts.skipped = counts.skipped + 1
    elseif c.outcome ~= "pass" then counts.errors = counts.errors + 1 end
  end
  local out = { '<?xml version="1.0" encoding="UTF-8"?>\n' }
  out[#out + 1] = ('<testsuites tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">\n')
    :format(counts.tests, counts.failures, counts.errors, counts.skipped, total)
  out[#out + 1] = ('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f">\n')
    :format(xml(run.matrix.name), counts.tests, counts.failures, counts.errors, counts.skipped, total)
  for _, c in ipairs(run.records) do
    out[#out + 1] = ('    <testcase classname="%s" name="%s" time="%.3f">'):format(
      xml(run.matrix.name), xml(c.name), c.duration or 0)
    if c.outcome == "fail" then
      out[#out + 1] = ('<failure message="%s" type="fail">%s</failure>'):format(
        xml((c.message or ""):gsub("\n.*", "")), xml(c.message))
    elseif c.outcome == "skip" then
      out[#out + 1] = ('<skipped message="%s"/>'):format(xml(c.message))
    elseif c.outcome ~= "pass" then
      out[#out + 1] = ('<error message="%s" type="%s">%s</error>'):format(
        xml((c.message or ""):gsub("\n.*", "")), c.outcome, xml(c.message))
    end
    if c.dir and c.outcome ~= "pass" then
      out[#out + 1] = ("<system-out>logs: %s\n%s</system-out><system-err>%s</system-err>"):format(
        xml(c.dir), xml(tail(c.dir .. "/console.log", 8192)), xml(tail(c.dir .. "/stderr.log", 8192)))
    end
    out[#out + 1] = "</testcase>\n"
  end
  out[#out + 1] = "  </testsuite>\n</testsuites>\n"
  return table.concat(out)
end

function R.finish(run, opts)
  run.ended = run.ended or qemu.now()
  local n = {}
  for _, o in ipairs(OUTCOMES) do n[o] = 0 end
  for _, c in ipairs(run.records) do n[c.outcome] = n[c.outcome] + 1 end
  local parts = {}
  for _, o in ipairs(OUTCOMES) do
    if n[o] > 0 then parts[#parts + 1] = paint(run, o, ("%d %s"):format(n[o], o == "pass" and "passed"
      or o == "fail" and "failed" or o == "skip" and "skipped" or o)) end
  end
  local out = run.human
  if run.tty then out:write("\r\27[K") end
  out:write(("%s: %d cells: %s (%.1f s, %s)\n"):format(run.matrix.name, #run.records,
    #parts > 0 and table.concat(parts, ", ") or "none", run.ended - run.started, run.where or ("logs in " .. (run.results_dir or run.out))))
  out:flush()
  if opts.junit then R.write(opts.junit, R.junit(run)) end
end

-- text as the whole of the file at path, or an error that says why not:
-- the report files are written whole or not at all (qemu._write_file).
function R.write(path, text)
  local ok, err = qemu._write_file(path, text)
  if not ok then error("cannot write " .. err, 0) end
end

-- The run's TAP (as --tap printed it) and JUnit, as results.tap and
-- junit.xml in dir: each shard's own, beside its results.json.
function R.write_files(run, dir)
  for name, text in pairs({ ["results.tap"] = table.concat(run.tap_lines), ["junit.xml"] = R.junit(run) }) do
    R.write(dir .. "/" .. name, text)
  end
end

-- The report of cells that ended elsewhere (qlua --merge): run.records
-- hold their outcomes; the same lines, TAP, summary and JUnit as a run.
function R.replay(run, opts)
  local started, ended = run.started, run.ended
  run.done, run.running, run.failed = 0, 0, 0
  R.start(run)
  run.tty = false  -- no live line: nothing is running
  for _, c in ipairs(run.records) do
    run.done = run.done + 1
    if c.outcome ~= "pass" and c.outcome ~= "skip" then run.failed = run.failed + 1 end
    R.progress(run, c)
  end
  run.started, run.ended = started, ended
  R.finish(run, opts)
end

return R
