-- spec/matrix_spec.lua - matrices (docs/contract.md §6) through the real ./qlua
-- binary: temporary matrix scripts run with --out in a temporary directory,
-- their exit status, TAP (checked line by line, plan included), JUnit
-- (xmllint, then Debian's python3-junitparser as a real consumer reads it),
-- the run directories and their logs, and /proc for QEMUs left behind.
--
-- Real guests (build/guest) boot at most 2 at once; the other cells use
-- QEMU -machine none.  Every QEMU a test starts is named TAG-INDEX (a fresh
-- TAG per test) so /proc can tell which are its own; every run is bounded
-- by timeout(1) and every test removes its files and processes in finally.
local H = require "helper"
local G = require "support.guest"
local qemu = require "qemu"
local json = require "dkjson"      -- lua-dkjson: a dependency of lua-busted

local q = H.q

-- Debian's python3 by its path: a python3 earlier on PATH (pyenv, a venv)
-- may not see python3-junitparser.
local PY = "/usr/bin/python3"

local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

-- ---- helpers -----------------------------------------------------------------

-- The processes whose command line holds tag: { "PID argv..." }.  Zombies
-- have an empty cmdline, so they do not count.
local function procs_with(tag)
  local found = {}
  local p = assert(io.popen("ls /proc"))
  for pid in p:lines() do
    if pid:match("^%d+$") then
      local f = io.open("/proc/" .. pid .. "/cmdline", "rb")
      if f then
        local s = f:read("a") or ""
        f:close()
        if s:find(tag, 1, true) then found[#found + 1] = pid .. " " .. s:gsub("%z", " ") end
      end
    end
  end
  p:close()
  return found
end

local function sleep(s)
  os.execute("sleep " .. s)
end

-- What one test owns: a directory, a tag for its QEMUs, processes it
-- started.  At the end (busted's finally) every process with the tag is
-- killed and the directory removed.
local function scope(finally)
  local S = { tag = H.unique("qmx"), handles = {} }
  S.dir = assert(io.popen("mktemp -d /tmp/qlua-matrix.XXXXXX")):read("l")
  assert(S.dir and S.dir ~= "", "mktemp failed")
  finally(function()
    for _, h in ipairs(S.handles) do
      if h:alive() then pcall(h.kill, h, 9) end
      pcall(h.wait, h, 10)
    end
    for _, line in ipairs(procs_with(S.tag)) do os.execute("kill -9 " .. line:match("^%d+")) end
    os.execute("rm -rf " .. q(S.dir))
  end)
  return S
end

-- What every matrix script starts with: TAG, GUEST and DIR, and
--   none(index [, extra_args])  QEMU -machine none named TAG-index
--   guest(index, machine, checks [, devices [, extra_args]])  the test guest
--   note(...)                   a line appended to DIR/events
local function prelude(S)
  return ([[
local qemu = require "qemu"
local matrix = require "qemu.matrix"
local TAG, GUEST, DIR = %q, %q, %q
local function none(index, extra)
  local x = { "-display", "none" }
  for _, a in ipairs(extra or {}) do x[#x + 1] = a end
  return { name = TAG .. "-" .. index, machine = { type = "none" },
           knobs = { no_defaults = true }, extra_args = x }
end
local function guest(index, machine, checks, devices, extra)
  local x = { "-display", "none" }
  for _, a in ipairs(extra or {}) do x[#x + 1] = a end
  return { name = TAG .. "-" .. index, machine = { type = machine, accel = "tcg" },
           memory = { size = "256M" },
           kernel = { path = GUEST .. "/vmlinux", initrd = GUEST .. "/initrd.gz",
                      params = "console=ttyS0 quiet panic=-1 no_timer_check " .. checks },
           knobs = { no_defaults = true, no_reboot = true },
           devices = devices or {}, extra_args = x }
end
local function note(...)
  local f = assert(io.open(DIR .. "/events", "a"))
  f:write(table.concat({ ... }, " "), "\n")
  f:close()
end
]]):format(S.tag, G.dir, S.dir)
end

-- Writes the matrix script DIR/NAME (prelude + body); returns its path.
local function script(S, body, name)
  return H.write(S.dir .. "/" .. (name or "m.lua"), prelude(S) .. body)
end

-- Runs `qlua SCRIPT ARGS...` in DIR under timeout(1) (limit seconds, then
-- SIGKILL 5 s later); returns exit code, stdout, stderr.
local function qlua(S, limit, path, ...)
  local words = {}
  for i, a in ipairs({ path, ... }) do words[i] = q(a) end
  local code, out, err = H.sh(("cd %s && timeout -k 5 %d %s %s"):format(q(S.dir), limit, H.qlua_cmd,
    table.concat(words, " ")))
  assert(code ~= 124 and code ~= 137, ("qlua ran over its %d s:\n%s\n%s"):format(limit, out, err))
  return code, out, err
end

-- Parses a TAP stream as qlua writes it and checks that it is valid: the
-- version line, one plan, test lines numbered 1..N in order, as many as
-- planned, YAML blocks closed.  Returns { plan, tests = { {ok, n, name,
-- directive} }, by_name }.
local function tap(text)
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  assert.are.equal("TAP version 13", lines[1])
  local t, yaml = { tests = {}, by_name = {} }, false
  for i = 2, #lines do
    local l = lines[i]
    if yaml then
      if l == "  ..." then yaml = false end
    elseif l == "  ---" then
      assert.is_true(#t.tests > 0, "a YAML block before any test line")
      yaml = true
    elseif l:match("^1%.%.%d+$") then
      assert.is_nil(t.plan, "a second plan: " .. l)
      t.plan = tonumber(l:match("(%d+)$"))
    else
      local ok, n, rest = l:match("^(ok) (%d+) %- (.*)$")
      if not ok then ok, n, rest = l:match("^(not ok) (%d+) %- (.*)$") end
      assert.is_truthy(ok, "not a TAP line: '" .. l .. "'")
      local name, directive = rest:match("^(.-) # (.*)$")
      local test = { ok = ok == "ok", n = tonumber(n), name = name or rest, directive = directive }
      t.tests[#t.tests + 1] = test
      assert.are.equal(#t.tests, test.n, "test lines must be numbered 1, 2, ...")
      assert.is_nil(t.by_name[test.name], "a cell reported twice: " .. test.name)
      t.by_name[test.name] = test
    end
  end
  assert.is_false(yaml, "a YAML block is not closed")
  assert.is_number(t.plan, "no plan")
  assert.are.equal(t.plan, #t.tests, ("planned %d tests, %d test lines"):format(t.plan, #t.tests))
  return t
end

-- Validates a JUnit file with xmllint, reads it with junitparser, and
-- returns what it found: { tests, failures, errors, skipped, suites = {
-- { name, tests, failures, errors, skipped, count = {...}, cases = { {
-- name, classname, time, result = "pass"|"failure"|"error"|"skipped", n,
-- type, message, text, out, err } } } } }; count: the suite's counts
-- recomputed from its testcases.
local function junit(path)
  local code, out, err = H.sh("xmllint --noout " .. q(path))
  assert.are.equal("", err)
  assert.are.equal(0, code)
  code, out, err = H.sh(PY .. " -c " .. q([[
import json, sys
from junitparser import JUnitXml, TestSuite, Failure, Error, Skipped
x = JUnitXml.fromfile(sys.argv[1])
suites = [x] if isinstance(x, TestSuite) else list(x)
res = {"tests": x.tests, "failures": x.failures, "errors": x.errors, "skipped": x.skipped, "suites": []}
kinds = {Failure: "failure", Error: "error", Skipped: "skipped"}
for s in suites:
    d = {"name": s.name, "tests": s.tests, "failures": s.failures, "errors": s.errors,
         "skipped": s.skipped, "cases": [], "count": {"tests": 0, "failure": 0, "error": 0, "skipped": 0}}
    for c in s:
        r = c.result
        e = r[0] if r else None
        kind = kinds[type(e)] if e is not None else "pass"
        d["count"]["tests"] += 1
        if kind != "pass":
            d["count"][kind] += 1
        d["cases"].append({"name": c.name, "classname": c.classname, "time": c.time, "result": kind,
                           "n": len(r), "type": getattr(e, "type", None), "message": getattr(e, "message", None),
                           "text": getattr(e, "text", None), "out": c.system_out, "err": c.system_err})
    res["suites"].append(d)
print(json.dumps(res))
]]) .. " " .. q(path))
  assert.are.equal("", err)
  assert.are.equal(0, code)
  local r = assert(json.decode(out))
  for _, s in ipairs(r.suites) do
    -- the counts written in the file are the ones of its testcases
    assert.are.same({ s.count.tests, s.count.failure, s.count.error, s.count.skipped },
      { s.tests, s.failures, s.errors, s.skipped })
    s.by_name = {}
    for _, c in ipairs(s.cases) do
      assert.is_nil(s.by_name[c.name], "a testcase twice: " .. c.name)
      assert.is_true(c.n <= 1, "more than one result in " .. c.name)
      s.by_name[c.name] = c
    end
  end
  return r
end

-- The run directory of a cell (its name, as matrix.lua makes it safe).
local function rundir(out, name)
  return out .. "/" .. name:gsub("[^%w%.%-_=,]", "_")
end

-- The largest number of cells running at once, from DIR/events lines
-- "start NAME T" and "end NAME T".
local function max_overlap(events)
  local ev = {}
  for what, _, t in events:gmatch("(%a+) (%S+) (%S+)\n") do
    ev[#ev + 1] = { t = tonumber(t), d = what == "start" and 1 or -1 }
  end
  table.sort(ev, function(a, b) return a.t < b.t or (a.t == b.t and a.d < b.d) end)
  local n, max = 0, 0
  for _, e in ipairs(ev) do
    n = n + e.d
    if n > max then max = n end
  end
  return max
end

-- ---- a matrix of real guests -----------------------------------------------------

describe("a matrix of real guests #guest", function()
  if not have_guest then
    pending("build/guest is missing: run `make guest` (make check builds it first)")
    return
  end

  local BODY = [[
-- machine x disk bus: each cell boots the test guest with a disk of its own
-- whose first line names the cell, and checks that the guest read it.
return matrix {
  name = "boot",
  axes = { machine = { "q35", "pc" }, disk = { "virtio-blk-pci", "virtio-scsi-pci" } },
  timeout = 90,
  vm = function(cell)
    local img = DIR .. "/disk-" .. cell.index .. ".img"
    local f = assert(io.open(img, "wb"))
    f:write("qlua-matrix ", cell.name, "\n")
    f:seek("set", 1024 * 1024 - 1)
    f:write("\0")
    f:close()
    if cell.disk == "virtio-blk-pci" then
      return guest(cell.index, cell.machine, "qlua.blk=/dev/vda",
        { qemu.block { id = "disk0", file = img, format = "raw", read_only = true } })
    end
    return guest(cell.index, cell.machine, "qlua.blk=/dev/sda", {
      qemu.device { driver = "virtio-scsi-pci", id = "scsi0" },
      qemu.block { id = "disk0", file = img, format = "raw", read_only = true,
                   interface = "scsi", bus = "scsi0.0" } })
  end,
  test = function(vm, cell)
    note("start", cell.name, qemu.now())
    local m, detail = vm.console:expect("QLUA%-BLK%-OK ([^\r\n]*)\r?\n", 60)
    assert(m, "no QLUA-BLK-OK: " .. tostring(detail))
    assert(detail == "qlua-matrix " .. cell.name, "the guest read: " .. detail)
    assert(vm.console:expect("QLUA%-GUEST%-DONE", 30))
    local st = assert(vm:wait(30))
    assert(st.code == 0, "QEMU exited with " .. tostring(st.code or st.signal))
    note("end", cell.name, qemu.now())
  end,
}
]]

  it("machine {q35, pc} x disk {virtio-blk-pci, virtio-scsi-pci} at -j 2: every cell passes, exit 0, TAP and JUnit say so", function()
    local S = scope(finally)
    local m = script(S, BODY)
    local out, xml = S.dir .. "/runs", S.dir .. "/boot.xml"
    local code, stdout, stderr = qlua(S, 100, m, "-j", "2", "--tap", "--junit", xml, "--out", out)
    assert.are.equal(0, code, stdout .. stderr)

    -- the cells: the axes sorted by name, the first (disk) varying slowest
    local names = { "disk=virtio-blk-pci,machine=q35", "disk=virtio-blk-pci,machine=pc",
                    "disk=virtio-scsi-pci,machine=q35", "disk=virtio-scsi-pci,machine=pc" }
    local t = tap(stdout)
    assert.are.equal(4, t.plan)
    for _, name in ipairs(names) do
      assert.is_table(t.by_name[name], name)
      assert.is_true(t.by_name[name].ok, name)
      assert.is_nil(t.by_name[name].directive, name)
    end
    -- with --tap, people read stderr: a line per cell and the summary
    assert.matches("boot: 4 cells: 4 passed %(", stderr)

    local r = junit(xml)
    assert.are.same({ 4, 0, 0, 0 }, { r.tests, r.failures, r.errors, r.skipped })
    assert.are.equal(1, #r.suites)
    assert.are.equal("boot", r.suites[1].name)
    for i, name in ipairs(names) do
      local c = r.suites[1].by_name[name]
      assert.is_table(c, name)
      assert.are.equal("pass", c.result)
      assert.are.equal("boot", c.classname)
      assert.is_true(c.time > 0)
      assert.are.equal(name, r.suites[1].cases[i].name)  -- in the matrix's order
    end

    -- each run directory: the outcome, the argv, and the logs
    for _, name in ipairs(names) do
      local d = rundir(out, name)
      local machine, disk = name:match("machine=(%w+)"), name:match("disk=([%w%-]+)")
      assert.are.equal("pass\n", H.slurp(d .. "/result"))
      local argv = assert(H.slurp(d .. "/argv"))
      assert.is_truthy(argv:find("\n-machine\n" .. machine .. "\n", 1, true), argv)
      assert.is_truthy(argv:find(disk, 1, true), argv)
      local console = assert(H.slurp(d .. "/console.log"))
      assert.is_truthy(console:find("QLUA-GUEST-READY", 1, true))
      assert.is_truthy(console:find("QLUA-BLK-OK qlua-matrix " .. name .. "\r\n", 1, true), console)
      assert.is_truthy(console:find("QLUA-GUEST-DONE", 1, true))
      assert.is_truthy(H.slurp(d .. "/qmp.log"):find('"execute":"qmp_capabilities"', 1, true))
      assert.is_string(H.slurp(d .. "/stderr.log"))
    end

    -- two at once, never more: the cells interleave in one process
    assert.are.equal(2, max_overlap(assert(H.slurp(S.dir .. "/events"))))
    assert.are.same({}, procs_with(S.tag))
  end)
end)

-- ---- every outcome -------------------------------------------------------------

describe("a matrix whose cells fail on purpose #guest", function()
  if not have_guest then
    pending("build/guest is missing: run `make guest` (make check builds it first)")
    return
  end

  -- One axis, one value per way to end.  The timeout is the command line's
  -- (--timeout 30 overrides the matrix's 300).  The real guests need ~3 s on
  -- a quiet machine; 12 s was once too little for crash-panic's guest to
  -- print anything while other specs' guests and a Debian boot shared the
  -- two cores.  The timeout cell runs beside the other eleven, so the
  -- margin costs the spec little.
  local BODY = [[
return matrix {
  name = "outcomes",
  axes = { case = { "timeout", "pass", "fail-assert", "fail-false", "crash-kill", "crash-panic",
                    "crash-args", "error-vm", "error-desc", "error-path", "skip-vm", "skip-test" } },
  timeout = 300,
  vm = function(cell)
    local c, i = cell.case, cell.index
    if c == "error-vm" then error("deliberately no VM") end
    if c == "skip-vm" then matrix.skip("no such hardware here") end
    if c == "fail-assert" then return guest(i, "q35", "qlua.wait") end
    if c == "crash-panic" then
      -- a guest panic ends QEMU with exit code 1
      return guest(i, "q35", "qlua.panic", { qemu.device { driver = "pvpanic-pci", id = "pp0" } },
                   { "-action", "panic=exit-failure" })
    end
    if c == "crash-args" then return none(i, { "-device", "no-such-device-model" }) end
    if c == "error-desc" then
      local d = none(i)
      d.machine.bogus = 1
      return d
    end
    if c == "error-path" then
      local d = none(i)
      d.path = "/nonexistent/qemu-system-x86_64"
      return d
    end
    return none(i)
  end,
  test = function(vm, cell)
    local c = cell.case
    if c == "pass" then
      assert(vm.qmp:execute("query-status"))
    elseif c == "fail-assert" then
      assert(vm.console:expect("QLUA%-GUEST%-WAITING\r?\n", 60))
      error("deliberate failure once the guest waits")
    elseif c == "fail-false" then
      assert(vm.qmp:execute("query-status"))
      return false
    elseif c == "timeout" then
      assert(vm.qmp:execute("query-status"))
      vm.console:expect("NEVER", 600)
      error("not reached: the cell times out first")
    elseif c == "crash-kill" then
      assert(vm.qmp:execute("query-status"))
      os.execute("kill -KILL " .. vm.pid)  -- as if something else killed QEMU
      assert(vm.console:expect("NEVER", 30))
    elseif c == "crash-panic" then
      assert(vm.console:expect("QLUA%-GUEST%-DONE", 60))
    elseif c == "crash-args" then
      assert(vm.qmp:execute("query-status"))
    elseif c == "skip-test" then
      assert(vm.qmp:execute("query-status"))
      matrix.skip("not for this cell")
    end
  end,
}
]]

  it("ends each cell as pass, fail, timeout, crash, error or skip, with its logs, TAP and JUnit", function()
    local S = scope(finally)
    local m = script(S, BODY)
    local out, xml = S.dir .. "/runs", S.dir .. "/outcomes.xml"
    local code, stdout, stderr = qlua(S, 150, m, "-j", "2", "--timeout", "30", "--tap",
      "--junit", xml, "--out", out)
    assert.are.equal(1, code, stdout .. stderr)
    assert.matches("outcomes: 12 cells: 1 passed, 2 failed, 1 timeout, 3 crash, 3 error, 2 skipped %(",
      stderr)

    -- what each cell must end as: outcome, a pattern of its message, and
    -- the JUnit element and type
    local want = {
      ["pass"] = { "pass" },
      ["fail-assert"] = { "fail", "m%.lua:%d+: deliberate failure once the guest waits", "failure", "fail" },
      ["fail-false"] = { "fail", "test returned false", "failure", "fail" },
      ["timeout"] = { "timeout", "no result within 30 s", "error", "timeout" },
      ["crash-kill"] = { "crash", "QEMU exited %(signal 9%)", "error", "crash" },
      ["crash-panic"] = { "crash", "QEMU exited %(code 1%)", "error", "crash" },
      ["crash-args"] = { "crash", "QEMU exited %(code 1%)", "error", "crash" },
      ["error-vm"] = { "error", "vm%(cell%): .-m%.lua:%d+: deliberately no VM", "error", "error" },
      ["error-desc"] = { "error", "launch: unknown field 'machine%.bogus'", "error", "error" },
      ["error-path"] = { "error", "launch: cannot execute '/nonexistent/qemu%-system%-x86_64': No such file or directory",
                         "error", "error" },
      ["skip-vm"] = { "skip", "no such hardware here", "skipped" },
      ["skip-test"] = { "skip", "not for this cell", "skipped" },
    }

    -- TAP: one line per cell; "not ok N - name # outcome" for the bad ones
    local t = tap(stdout)
    assert.are.equal(12, t.plan)
    for case, w in pairs(want) do
      local line = t.by_name["case=" .. case]
      assert.is_table(line, case)
      if w[1] == "pass" then
        assert.is_true(line.ok)
        assert.is_nil(line.directive)
      elseif w[1] == "skip" then
        assert.is_true(line.ok, case)
        assert.are.equal("SKIP " .. w[2], line.directive)
      else
        assert.is_false(line.ok, case)
        assert.are.equal(w[1], line.directive, case)
      end
    end
    -- the YAML block of a bad cell says where its logs are
    assert.is_truthy(stdout:find('  logs: "' .. rundir(out, "case=crash-args") .. '"', 1, true))

    -- JUnit: 2 failures, 7 errors (timeout, crashes, errors), 2 skipped
    local r = junit(xml)
    assert.are.same({ 12, 2, 7, 2 }, { r.tests, r.failures, r.errors, r.skipped })
    local suite = r.suites[1]
    assert.are.equal("outcomes", suite.name)
    for case, w in pairs(want) do
      local c = suite.by_name["case=" .. case]
      assert.is_table(c, case)
      assert.are.equal(w[3] or "pass", c.result, case)
      if w[4] then assert.are.equal(w[4], c.type, case) end
      if w[2] then assert.is_truthy(c.message:find(w[2]), case .. ": " .. c.message) end
      if w[1] ~= "pass" and w[1] ~= "skip" then
        -- the logs: where they are, the console's and stderr's tails
        assert.is_truthy(c.out:find("logs: " .. rundir(out, "case=" .. case), 1, true), case)
      end
    end
    assert.is_truthy(suite.by_name["case=crash-panic"].out:find("QLUA-PANIC-NOW", 1, true))
    assert.is_truthy(suite.by_name["case=crash-args"].err:find("no-such-device-model", 1, true))

    -- the run directories: result, argv, console.log, stderr.log, qmp.log
    for case, w in pairs(want) do
      local d = rundir(out, "case=" .. case)
      local result = assert(H.slurp(d .. "/result"), case)
      assert.matches("^" .. w[1] .. (w[2] and (": .*" .. w[2]) or "") .. ".*\n$", result)
    end
    local function log(case, file) return assert(H.slurp(rundir(out, "case=" .. case) .. "/" .. file)) end
    -- the guest's output is in console.log
    assert.is_truthy(log("fail-assert", "console.log"):find("QLUA-GUEST-WAITING", 1, true))
    assert.is_truthy(log("crash-panic", "console.log"):find("QLUA-PANIC-NOW", 1, true))
    assert.is_truthy(log("crash-panic", "console.log"):find("Kernel panic", 1, true))
    -- QEMU's stderr in stderr.log
    assert.matches("'no%-such%-device%-model' is not a valid device model name", log("crash-args", "stderr.log"))
    -- the QMP transcript in qmp.log: the test's commands, the runner's quit
    -- for a cell it ended, QEMU's events
    assert.is_truthy(log("pass", "qmp.log"):find('"execute":"query-status"', 1, true))
    assert.is_truthy(log("timeout", "qmp.log"):find('"execute":"quit"', 1, true))
    assert.is_truthy(log("fail-assert", "qmp.log"):find('"execute":"quit"', 1, true))
    assert.is_truthy(log("crash-panic", "qmp.log"):find('"event": "GUEST_PANICKED"', 1, true))
    assert.matches("\n%-machine\nq35\n", log("fail-assert", "argv"))
    -- cells that never launched have no argv
    for _, case in ipairs({ "error-vm", "error-desc", "error-path", "skip-vm" }) do
      assert.is_nil(io.open(rundir(out, "case=" .. case) .. "/argv"), case)
    end

    assert.are.same({}, procs_with(S.tag))
  end)
end)

-- ---- --list, --only, --shard ---------------------------------------------------------

describe("--list, --only and --shard", function()
  -- 3 x 2 x 2 = 12 cells, minus 2 excluded, plus 2 included (one of them
  -- with an axis of its own); nothing here launches a VM but the last test.
  local LIST = [[
return matrix {
  name = "grid",
  axes = { zeta = { "z1", "z2" }, alpha = { 1, 2, 3 }, mid = { true, false } },
  exclude = { { alpha = 2, mid = false } },
  include = { { alpha = 9, extra = "x&y" }, { alpha = 1, mid = true, zeta = "z1" } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    note("ran", cell.name, qemu.now())
    assert(vm.qmp:execute("query-status"))
  end,
}
]]

  local function list(S, m, ...)
    local code, out, err = qlua(S, 30, m, "--list", ...)
    assert.are.equal(0, code, err)
    assert.are.equal("", err)
    local cells = {}
    for line in out:gmatch("([^\n]*)\n") do cells[#cells + 1] = assert(json.decode(line), line) end
    return cells, out
  end

  local function names(cells)
    local n = {}
    for i, c in ipairs(cells) do n[i] = c.name end
    return n
  end

  local ALL = {
    "alpha=1,mid=true,zeta=z1", "alpha=1,mid=true,zeta=z2", "alpha=1,mid=false,zeta=z1",
    "alpha=1,mid=false,zeta=z2", "alpha=2,mid=true,zeta=z1", "alpha=2,mid=true,zeta=z2",
    "alpha=3,mid=true,zeta=z1", "alpha=3,mid=true,zeta=z2", "alpha=3,mid=false,zeta=z1",
    "alpha=3,mid=false,zeta=z2", "alpha=9,extra=x&y",
  }

  it("--list prints one JSON line per cell with a stable name, and runs nothing", function()
    local S = scope(finally)
    local m = script(S, LIST)
    local cells, text = list(S, m, "--out", S.dir .. "/runs")
    assert.are.same(ALL, names(cells))
    for i, c in ipairs(cells) do
      assert.are.equal(i, c.index)
      assert.are.equal("grid", c.matrix)
      -- the name: "axis=value" sorted by axis, from the cell's own values
      local keys, parts = {}, {}
      for k in pairs(c.cell) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(c.cell[k]) end
      assert.are.equal(table.concat(parts, ","), c.name)
    end
    assert.are.same({ alpha = 3, mid = false, zeta = "z2" }, cells[10].cell)
    -- the same text every time (a fresh Lua state, a fresh hash seed)
    for _ = 1, 3 do
      local _, again = list(S, m)
      assert.are.equal(text, again)
    end
    assert.is_nil(io.open(S.dir .. "/runs"))
    assert.is_nil(io.open(S.dir .. "/events"))
  end)

  it("--only keeps the cells whose name contains the text (any of several)", function()
    local S = scope(finally)
    local m = script(S, LIST)
    assert.are.same({ "alpha=3,mid=true,zeta=z1", "alpha=3,mid=true,zeta=z2", "alpha=3,mid=false,zeta=z1",
                      "alpha=3,mid=false,zeta=z2" }, names(list(S, m, "--only", "alpha=3")))
    assert.are.same({ "alpha=1,mid=false,zeta=z2", "alpha=3,mid=false,zeta=z2", "alpha=9,extra=x&y" },
      names(list(S, m, "--only", "mid=false,zeta=z2", "--only", "extra")))
    -- the index stays the cell's place in the whole matrix
    assert.are.same({ 11 }, { list(S, m, "--only", "x&y")[1].index })
  end)

  it("an --only that matches no cell: exit 2 with the cells' names; nothing runs, no JUnit", function()
    local S = scope(finally)
    local m = script(S, LIST)
    local cells = "(cells: '" .. table.concat(ALL, "', '") .. "')"
    local cases = {
      { { "--only", "nothing-matches" }, "'nothing-matches'" },
      { { "--list", "--only", "alpha=3", "--only", "alpha=4" }, "'alpha=4'" },
      { { "--only", "zeta=z3", "--shard", "1/2", "--tap" }, "'zeta=z3'" },
    }
    for _, c in ipairs(cases) do
      local args = { table.unpack(c[1]) }
      for _, a in ipairs({ "--junit", S.dir .. "/junit.xml", "--out", S.dir .. "/runs" }) do args[#args + 1] = a end
      local code, out, err = qlua(S, 30, m, table.unpack(args))
      assert.are.equal(2, code, table.concat(c[1], " "))
      assert.are.equal("", out)
      assert.are.equal("qlua: option '--only': " .. c[2] .. " matches no cell of matrix 'grid' " .. cells .. "\n", err)
    end
    assert.is_nil(io.open(S.dir .. "/junit.xml"))
    assert.is_nil(io.open(S.dir .. "/runs"))
    assert.is_nil(io.open(S.dir .. "/events"))
    -- an empty shard of what --only kept is no mistake
    assert.are.same({}, names(list(S, m, "--only", "extra", "--shard", "2/2")))
  end)

  it("--shard I/N: for N = 1..4 the shards' cells are the whole matrix, each once", function()
    local S = scope(finally)
    local m = script(S, LIST)
    for n = 1, 4 do
      local seen, total = {}, 0
      for i = 1, n do
        for _, name in ipairs(names(list(S, m, "--shard", i .. "/" .. n))) do
          assert.is_nil(seen[name], ("%s in two shards of %d"):format(name, n))
          seen[name] = true
          total = total + 1
        end
      end
      assert.are.equal(#ALL, total)
      for _, name in ipairs(ALL) do assert.is_true(seen[name], name) end
    end
    -- with --only: the shards split the selected cells
    local a = names(list(S, m, "--only", "alpha=3", "--shard", "1/2"))
    local b = names(list(S, m, "--only", "alpha=3", "--shard", "2/2"))
    assert.are.equal(2, #a)
    assert.are.equal(2, #b)
  end)

  it("running every shard of N = 1..4 (-j 1) runs each cell exactly once per N", function()
    local S = scope(finally)
    local m = script(S, LIST)
    for n = 1, 4 do
      os.remove(S.dir .. "/events")
      local out = S.dir .. "/runs-" .. n
      local reported = {}
      for i = 1, n do
        local xml = ("%s/shard-%d-%d.xml"):format(S.dir, i, n)
        local code, stdout, stderr = qlua(S, 60, m, "-j", "1", "--shard", i .. "/" .. n, "--tap",
          "--junit", xml, "--out", out)
        assert.are.equal(0, code, stdout .. stderr)
        local r = junit(xml)  -- valid, with the "x&y" cell's name escaped
        assert.are.equal(r.tests, #tap(stdout).tests)
        for _, test in ipairs(tap(stdout).tests) do
          assert.is_true(test.ok)
          assert.is_nil(reported[test.name], test.name .. " reported by two shards")
          reported[test.name] = true
        end
      end
      -- each test ran once: the events, the TAP lines and the run directories
      local ran = {}
      for name in assert(H.slurp(S.dir .. "/events")):gmatch("ran (%S+) ") do
        assert.is_nil(ran[name], name .. " ran twice")
        ran[name] = true
      end
      -- a shard's run directories are in OUT/shard-I-of-N
      local where = {}
      for i = 1, n do
        for _, c in ipairs(list(S, m, "--shard", i .. "/" .. n)) do
          where[c.name] = ("%s/shard-%d-of-%d"):format(out, i, n)
        end
      end
      for _, name in ipairs(ALL) do
        assert.is_true(ran[name], name)
        assert.is_true(reported[name], name)
        assert.are.equal("pass\n", H.slurp(rundir(where[name], name) .. "/result"))
      end
      local count = 0
      for _ in pairs(ran) do count = count + 1 end
      assert.are.equal(#ALL, count)
    end
    assert.are.same({}, procs_with(S.tag))
  end)

  it("wrong matrix options: exit 2 and a message", function()
    local S = scope(finally)
    local m = script(S, LIST)
    local cases = {
      { { "--shard", "0/2" }, "option '--shard': I/N expected with 1 <= I <= N, got '0/2'" },
      { { "--shard", "3/2" }, "option '--shard': I/N expected with 1 <= I <= N, got '3/2'" },
      { { "--shard", "1" }, "option '--shard': I/N expected with 1 <= I <= N, got '1'" },
      { { "-j", "0" }, "option '-j': a positive integer expected" },
      { { "--timeout", "-1" }, "option '--timeout': a positive number of seconds expected" },
      { { "--junit" }, "option '--junit' needs an argument (FILE)" },
      { { "--bogus" }, "unknown matrix option '--bogus'" },
      -- a valued option given twice: the second would replace the first
      -- without a word (--only adds up: above)
      { { "--junit", "a.xml", "--junit", "b.xml" }, "option '--junit' can be given once (one FILE)" },
      { { "-j", "1", "--list", "-j", "2" }, "option '-j' can be given once (one N)" },
      { { "--shard", "1/2", "--shard", "2/2" }, "option '--shard' can be given once (one I/N)" },
      { { "--timeout", "5", "--timeout", "9" }, "option '--timeout' can be given once (one S)" },
      { { "--out", "a", "--out", "b" }, "option '--out' can be given once (one DIR)" },
      { { "--html", "a", "--html", "b" }, "option '--html' can be given once (one FILE)" },
      -- a run directory that cannot be made, said as such (not as the
      -- first file that then could not be written in it)
      { { "--out", m .. "/runs" }, "cannot make the run directory " .. m .. ": Not a directory" },
    }
    for _, c in ipairs(cases) do
      local code, stdout, stderr = qlua(S, 30, m, table.unpack(c[1]))
      assert.are.equal(2, code, table.concat(c[1], " "))
      assert.are.equal("", stdout)
      assert.is_truthy(stderr:find("qlua: " .. c[2], 1, true), stderr)
    end
    assert.is_nil(io.open(S.dir .. "/events"))
  end)

  -- A file name has at most 255 bytes: a cell named after a kernel command
  -- line could not have its directory, and the run stopped.
  it("cells with names too long for a directory name run, each in a directory of its own", function()
    local S = scope(finally)
    local long = ("console=ttyS0 "):rep(20)
    local m = script(S, ([[
return matrix {
  name = "long",
  axes = { params = { %q, %q, "short" } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm) assert(vm.qmp:execute("query-status", nil, { timeout = 20 })) end,
}
]]):format(long .. "a", long .. "b"))
    local code, stdout, stderr = qlua(S, 60, m, "--out", "runs")
    assert.are.equal(0, code, stdout .. stderr)
    local dirs = {}
    for _, name in ipairs(qemu._dir(S.dir .. "/runs")) do
      if name:find("^params=") then dirs[#dirs + 1] = name end
    end
    table.sort(dirs)
    assert.are.equal(3, #dirs)
    local prefix = ("params=" .. long):gsub(" ", "_"):sub(1, 183)
    for i = 1, 2 do
      assert.are.equal(200, #dirs[i])
      assert.truthy(dirs[i]:find("^" .. prefix:gsub("%p", "%%%0") .. "%-%x+$"), dirs[i])
      assert.are.equal("pass\n", H.slurp(S.dir .. "/runs/" .. dirs[i] .. "/result"))
    end
    assert.are_not.equal(dirs[1], dirs[2])
    assert.are.equal("params=short", dirs[3])
    -- results.json says where each cell's logs are
    local doc = qemu.json_decode(H.slurp(S.dir .. "/runs/results.json"))
    local seen = {}
    for _, r in ipairs(doc.results) do seen[r.dir] = r.outcome end
    assert.are.same({ [dirs[1]] = "pass", [dirs[2]] = "pass", [dirs[3]] = "pass" }, seen)
  end)

  -- A cell whose directory cannot be made ends as an error of its own;
  -- the other cells run (the directory is in the way as an immutable file,
  -- which even root cannot remove).
  it("a cell whose directory cannot be made is an error; the others run", function()
    local S = scope(finally)
    local m = script(S, [[
return matrix {
  name = "blocked",
  axes = { n = { 1, 2 } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm) assert(vm.qmp:execute("query-status", nil, { timeout = 20 })) end,
}
]])
    assert.is_true(os.execute("mkdir -p " .. q(S.dir .. "/runs") .. " && touch " .. q(S.dir .. "/runs/n=1")))
    if not os.execute("chattr +i " .. q(S.dir .. "/runs/n=1") .. " 2>/dev/null") then
      pending("no immutable files here (chattr +i)")
      return
    end
    -- (not a second finally: busted keeps one, and scope's cleans up)
    local ok, err = pcall(function()
      local code, stdout, stderr = qlua(S, 60, m, "--out", "runs")
      assert.are.equal(1, code, stdout .. stderr)
      assert.truthy((stdout .. stderr):find("error   n=1 %([%d.]+ s%): cannot make the cell's directory runs/n=1: "
        .. "Not a directory\n"), stdout .. stderr)
      assert.are.equal("pass\n", H.slurp(S.dir .. "/runs/n=2/result"))
      local doc = qemu.json_decode(H.slurp(S.dir .. "/runs/results.json"))
      local seen = {}
      for _, r in ipairs(doc.results) do seen[r.name] = r.outcome end
      assert.are.same({ ["n=1"] = "error", ["n=2"] = "pass" }, seen)
    end)
    os.execute("chattr -i " .. q(S.dir .. "/runs/n=1"))
    assert(ok, err)
  end)

  -- Two runs in one run directory would empty each other's cell
  -- directories and overwrite results.json: the second is refused.
  it("a second run in a run directory in use: exit 2 and a message; the first runs on untouched", function()
    local S = scope(finally)
    local m = script(S, [[
return matrix {
  name = "held",
  axes = { n = { 1 } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    note("started")
    -- until the spec says go (at most 30 s)
    for _ = 1, 300 do
      local go = io.open(DIR .. "/go")
      if go then go:close() break end
      vm.console:expect("QLUA-NEVER", 0.1)
    end
  end,
}
]])
    local first = qemu.launch_custom("/bin/sh", { "-c", ("cd %s && exec timeout -k 5 60 %s %s --out runs >first.out 2>&1")
      :format(q(S.dir), H.qlua_cmd, q(m)) }, {})
    S.handles[#S.handles + 1] = first
    local deadline = qemu.now() + 30
    while not (H.slurp(S.dir .. "/events") or ""):find("started") and qemu.now() < deadline do
      qemu.poll(0.05)
    end
    assert.truthy((H.slurp(S.dir .. "/events") or ""):find("started"), "the first run's cell never started")
    local code, stdout, stderr = qlua(S, 30, m, "--out", "runs")
    assert.are.equal(2, code, stdout .. stderr)
    assert.are.equal("", stdout)
    assert.are.equal("qlua: the run directory runs is in use by another run (each run needs its own: give this "
      .. "one another --out)\n", stderr)
    H.write(S.dir .. "/go", "")
    assert.are.same({ code = 0 }, first:wait(60))
    assert.are.equal("pass\n", H.slurp(rundir(S.dir .. "/runs", "n=1") .. "/result"))
    -- once the first has ended, the directory is free again
    code, stdout, stderr = qlua(S, 30, m, "--out", "runs")
    assert.are.equal(0, code, stdout .. stderr)
  end)
end)

-- ---- --fail-fast -----------------------------------------------------------------------

describe("--fail-fast", function()
  -- 5 cells; cell FAIL fails, cell SLOW passes after 0.5 s
  local function body(fail, slow)
    return ([[
return matrix {
  name = "ff",
  axes = { n = { 1, 2, 3, 4, 5 } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    note("ran", cell.name, qemu.now())
    assert(vm.qmp:execute("query-status"))
    if cell.n == %d then error("cell %d fails") end
    if cell.n == %d then vm.console:expect("NEVER", 0.5) end
  end,
}
]]):format(fail, fail, slow)
  end

  it("starts no cell after the first failure; the rest are skipped 'not run (--fail-fast)'", function()
    local S = scope(finally)
    local m = script(S, body(2, 0))
    local xml = S.dir .. "/ff.xml"
    local code, stdout, stderr = qlua(S, 60, m, "-j", "1", "--fail-fast", "--tap", "--junit", xml,
      "--out", S.dir .. "/runs")
    assert.are.equal(1, code, stdout .. stderr)
    local ran = {}
    for name in H.slurp(S.dir .. "/events"):gmatch("ran (%S+) ") do ran[#ran + 1] = name end
    assert.are.same({ "n=1", "n=2" }, ran)
    assert.matches("ff: 5 cells: 1 passed, 1 failed, 3 skipped %(", stderr)

    local r = junit(xml)
    assert.are.same({ 5, 1, 0, 3 }, { r.tests, r.failures, r.errors, r.skipped })
    local s = r.suites[1]
    assert.are.equal("pass", s.by_name["n=1"].result)
    assert.are.equal("failure", s.by_name["n=2"].result)
    for n = 3, 5 do
      assert.are.equal("skipped", s.by_name["n=" .. n].result)
      assert.are.equal("not run (--fail-fast)", s.by_name["n=" .. n].message)
      assert.is_nil(io.open(S.dir .. "/runs/n=" .. n))  -- never started: no run directory
    end

    -- TAP: a line for every cell, those not run as skipped (a valid plan)
    local t = tap(stdout)
    assert.are.equal(5, t.plan)
    assert.is_false(t.by_name["n=2"].ok)
    for n = 3, 5 do
      assert.is_true(t.by_name["n=" .. n].ok)
      assert.are.equal("SKIP not run (--fail-fast)", t.by_name["n=" .. n].directive)
    end
    assert.are.same({}, procs_with(S.tag))
  end)

  it("with -j 2, the cell already running when another fails still runs to its end", function()
    local S = scope(finally)
    -- cell 1 fails at once; cell 2, started with it, passes after 0.5 s
    local m = script(S, body(1, 2))
    local xml = S.dir .. "/ff.xml"
    local code, stdout, stderr = qlua(S, 60, m, "-j", "2", "--fail-fast", "--junit", xml, "--out", S.dir .. "/runs")
    assert.are.equal(1, code, stdout .. stderr)
    local ran = {}
    for name in H.slurp(S.dir .. "/events"):gmatch("ran (%S+) ") do ran[#ran + 1] = name end
    assert.are.same({ "n=1", "n=2" }, ran)
    local s = junit(xml).suites[1]
    assert.are.equal("failure", s.by_name["n=1"].result)
    assert.are.equal("pass", s.by_name["n=2"].result)
    for n = 3, 5 do assert.are.equal("not run (--fail-fast)", s.by_name["n=" .. n].message) end
    assert.are.same({}, procs_with(S.tag))
  end)
end)

-- ---- Ctrl-C ----------------------------------------------------------------------------

describe("Ctrl-C while cells run", function()
  -- 4 cells, 2 at once, each waiting 100 s for a line that never comes.
  local BODY = [[
return matrix {
  name = "intr",
  axes = { n = { 1, 2, 3, 4 } },
  timeout = 120,
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    vm.console:expect("NEVER", 100)
  end,
}
]]

  -- Starts qlua on the matrix in the background (stdout and stderr to
  -- files), waits until both first cells run their test; returns the handle.
  local function start(S, setsid)
    local m = script(S, BODY)
    local h = qemu.launch_custom("/bin/sh", { "-c", 'cd "$1" && shift && exec ' .. H.qlua_cmd .. ' "$@" >out 2>err', "sh", S.dir,
      m, "-j", "2", "--tap", "--junit", S.dir .. "/intr.xml", "--out", S.dir .. "/runs" }, {},
      { setsid = setsid or nil })
    S.handles[#S.handles + 1] = h
    local deadline = qemu.now() + 30
    while true do
      local ready = 0
      for n = 1, 2 do
        local log = H.slurp(S.dir .. "/runs/n=" .. n .. "/qmp.log") or ""
        if log:find('"status": "running"', 1, true) then ready = ready + 1 end
      end
      if ready == 2 then break end
      assert(h:alive(), "qlua ended early:\n" .. (H.slurp(S.dir .. "/err") or ""))
      assert(qemu.now() < deadline, "the cells did not start within 30 s")
      sleep(0.05)
    end
    assert.are.equal(2, #procs_with(S.tag))
    return h
  end

  local function check(S, h, stop)
    local t0 = qemu.now()
    stop()
    local st = h:wait(20)
    local took = qemu.now() - t0
    assert.is_table(st, "qlua still runs 20 s after SIGINT")
    assert.are.same({ code = 130 }, st)
    assert.is_true(took < 5, ("qlua took %.1f s to exit"):format(took))
    -- no QEMU remains
    assert.are.same({}, procs_with(S.tag))
    assert.matches("interrupted", H.slurp(S.dir .. "/err"))

    -- the results so far: the running cells as errors, the others skipped
    local r = junit(S.dir .. "/intr.xml")
    assert.are.same({ 4, 0, 2, 2 }, { r.tests, r.failures, r.errors, r.skipped })
    local s = r.suites[1]
    for n = 1, 2 do
      assert.are.equal("error", s.by_name["n=" .. n].result)
      assert.matches("^interrupted", s.by_name["n=" .. n].message)
    end
    for n = 3, 4 do
      assert.are.equal("skipped", s.by_name["n=" .. n].result)
      assert.are.equal("not run (interrupted)", s.by_name["n=" .. n].message)
    end
    -- the started cells' run directories have their logs and their result
    for n = 1, 2 do
      local d = S.dir .. "/runs/n=" .. n
      assert.is_truthy(H.slurp(d .. "/qmp.log"):find('"execute":"query-status"', 1, true))
      assert.matches("^error: interrupted", H.slurp(d .. "/result") or "(no result file)")
    end
    -- and the TAP stream is complete: a line for each of the 4 cells
    local t = tap(H.slurp(S.dir .. "/out"))
    assert.are.equal(4, t.plan)
    for n = 1, 2 do assert.is_false(t.by_name["n=" .. n].ok) end
  end

  it("SIGINT to qlua: exit 130 at once, no QEMU left, the results so far written", function()
    local S = scope(finally)
    local h = start(S)
    check(S, h, function() assert(h:kill(2)) end)
  end)

  it("SIGINT to the whole process group (a terminal's Ctrl-C reaches QEMU too): the same", function()
    local S = scope(finally)
    local h = start(S, true)
    -- procps kill: dash's builtin takes no negative pid after --
    check(S, h, function() assert(os.execute("/bin/kill -s INT -- -" .. h.pid)) end)
  end)
end)

-- ---- GNU parallel and qlua --merge --------------------------------------------------------

describe("GNU parallel over shards", function()
  local BODY = [[
return matrix {
  name = "par",
  axes = { n = { 1, 2, 3, 4, 5, 6, 7 } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    note("ran", cell.name, qemu.now())
    assert(vm.qmp:execute("query-status"))
    if cell.n == 4 then error("cell 4 fails") end
    if cell.n == 6 then matrix.skip("cell 6 skips") end
  end,
}
]]

  it("`parallel ./qlua m.lua --shard {}/2 --junit out-{}.xml --out runs ::: 1 2`, merged by qlua --merge runs", function()
    local S = scope(finally)
    script(S, BODY)
    local code, out, err = H.sh(("cd %s && timeout -k 5 60 parallel --will-cite -j 2 %s m.lua --shard {}/2 "
      .. "--junit out-{}.xml --out runs ::: 1 2"):format(q(S.dir), H.qlua_cmd))
    -- parallel's status: how many jobs failed (the shard with cell 4)
    assert.are.equal(1, code, out .. err)
    local ran = {}
    for name in H.slurp(S.dir .. "/events"):gmatch("ran (%S+) ") do
      assert.is_nil(ran[name], name .. " ran twice")
      ran[name] = true
    end
    local shard1, shard2 = junit(S.dir .. "/out-1.xml"), junit(S.dir .. "/out-2.xml")
    assert.are.equal(4, shard1.tests)
    assert.are.equal(3, shard2.tests)

    -- qlua --merge: one JUnit file of the whole matrix from the shards' results
    code, out, err = H.sh(("cd %s && %s --merge runs --junit merged.xml"):format(q(S.dir), H.qlua_cmd))
    assert.are.equal(1, code, err)  -- cell 4 failed
    assert.are.equal("", err)
    assert.is_truthy(out:find("\npar: 7 cells: 5 passed, 1 failed, 1 skipped (", 1, true), out)
    assert.is_truthy(out:find("2 of 2 shards: runs/shard-1-of-2, runs/shard-2-of-2)\n", 1, true), out)
    local r = junit(S.dir .. "/merged.xml")
    assert.are.same({ 7, 1, 0, 1 }, { r.tests, r.failures, r.errors, r.skipped })
    assert.are.equal(1, #r.suites)
    assert.are.equal("par", r.suites[1].name)
    for n = 1, 7 do
      local c = r.suites[1].by_name["n=" .. n]
      assert.is_table(c, "n=" .. n)
      assert.is_true(ran["n=" .. n])
      local want = n == 4 and "failure" or n == 6 and "skipped" or "pass"
      assert.are.equal(want, c.result)
    end
    assert.are.equal("cell 6 skips", r.suites[1].by_name["n=6"].message)
    assert.matches("cell 4 fails", r.suites[1].by_name["n=4"].message)
    -- the merged testcase keeps the logs of its shard
    assert.is_truthy(r.suites[1].by_name["n=4"].out:find("logs: runs/shard-2-of-2/n=4", 1, true))
    assert.are.same({}, procs_with(S.tag))
  end)
end)

-- ---- the runner's loop -----------------------------------------------------------------------

describe("the runner's event loop", function()
  -- The waiter waits for its QEMU's exit (killed 0.3 s later); the
  -- finisher, stepped after it in the same round, ends once its own QEMU is
  -- gone and the waiter's has died meanwhile: ending a cell runs the loop
  -- (vm:alive), which takes in the waiter's exit.  The waiter must still be
  -- resumed at once, not at its wait's deadline (15 s).
  local BODY = [[
local waiting
return matrix {
  name = "wake",
  axes = { role = { "waiter", "finisher" } },
  timeout = 60,
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    if cell.role == "waiter" then
      os.execute(("(sleep 0.3; kill -KILL %d) >/dev/null 2>&1 &"):format(vm.pid))
      waiting = true
      local st = assert(vm:wait(15))
      assert(st.signal == 9)
    else
      while not waiting do vm.console:expect("NEVER", 0.001) end
      vm:kill(9)
      os.execute("sleep 0.6")  -- blocks the runner: the waiter's QEMU dies meanwhile
    end
  end,
}
]]

  it("a cell that ends does not make another miss its event (no lost wakeup)", function()
    local S = scope(finally)
    local m = script(S, BODY)
    local xml = S.dir .. "/wake.xml"
    local code, stdout, stderr = qlua(S, 60, m, "-j", "2", "--junit", xml, "--out", S.dir .. "/runs")
    assert.are.equal(0, code, stdout .. stderr)
    local s = junit(xml).suites[1]
    assert.are.equal("pass", s.by_name["role=waiter"].result)
    assert.is_true(s.by_name["role=waiter"].time < 5,
      ("the waiter ended after %.1f s (its QEMU died at 0.3 s)"):format(s.by_name["role=waiter"].time))
    assert.are.same({}, procs_with(S.tag))
  end)
end)

-- ---- what reports carry -------------------------------------------------------------------

describe("report texts", function()
  local BODY = [[
return matrix {
  name = "texts & <names>",
  axes = { v = { "plain", "<&>\"'", "bytes" } },
  vm = function(cell) return none(cell.index) end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    if cell.v == "bytes" then error("a lone \xc3, a \xff and a control \1 byte", 0) end
    if cell.v ~= "plain" then error("multi\nline <message> & more", 0) end
  end,
}
]]

  it("JUnit stays valid XML whatever names and messages hold: XML's specials, control bytes, bytes that are not UTF-8", function()
    local S = scope(finally)
    local m = script(S, BODY)
    local xml = S.dir .. "/texts.xml"
    local code, stdout, stderr = qlua(S, 60, m, "-j", "1", "--tap", "--junit", xml, "--out", S.dir .. "/runs")
    assert.are.equal(1, code, stdout .. stderr)
    local t = tap(stdout)
    assert.is_true(t.by_name["v=plain"].ok)
    assert.are.equal("fail", t.by_name["v=<&>\"'"].directive)

    local r = junit(xml)
    assert.are.same({ 3, 2, 0, 0 }, { r.tests, r.failures, r.errors, r.skipped })
    local s = r.suites[1]
    assert.are.equal("texts & <names>", s.name)
    local special = s.by_name["v=<&>\"'"]
    assert.are.equal("texts & <names>", special.classname)
    assert.are.equal("multi", special.message)                  -- the first line
    assert.are.equal("multi\nline <message> & more", special.text)  -- all of it
    local bytes = s.by_name["v=bytes"]
    assert.is_table(bytes)
    assert.are.equal("failure", bytes.result)
    assert.matches("^a lone .*, a .* and a control .* byte$", bytes.message)
  end)
end)

describe("a timed-out cell's message, and the suite's time", function()
  -- Two cells of the stand-in QEMU (spec/support/fake-qemu), run at once:
  -- n=1 prints two lines on its console and the test waits for a text that
  -- never comes (the cell times out); n=2 runs 1.5 s and exits 0 (a pass).
  local BODY = [[
local FAKE = %q
return matrix {
  name = "times",
  axes = { n = { 1, 2 } },
  launch = { qmp = false },
  vm = function(cell)
    local d = DIR .. "/fake-" .. cell.n
    os.execute("mkdir -p " .. d)
    local f = assert(io.open(d .. "/config", "w"))
    if cell.n == 1 then
      f:write("for a; do case $a in socket,id=qlua-console,fd=*) con=${a##*fd=} ;; esac; done\n",
              "printf 'one\\r\\ntwo\\r\\n' >&$con\nFAKE_QEMU_SLEEP=30\n")
    else
      f:write("FAKE_QEMU_SLEEP=1.5\n")
    end
    f:close()
    return { name = TAG .. "-" .. cell.n, path = FAKE, extra_args = { "--fake-dir", d } }
  end,
  test = function(vm, cell)
    if cell.n == 1 then
      vm.console:expect("QLUA-NEVER", { plain = true, timeout = 600 })
    else
      assert(vm:wait(60))
    end
  end,
}
]]

  it("says what the test waited for and the console's last lines; JUnit's suite time is the wall time", function()
    local S = scope(finally)
    local m = script(S, BODY:format(H.root .. "/spec/support/fake-qemu"))
    local out, xml = S.dir .. "/runs", S.dir .. "/times.xml"
    local code, stdout, stderr = qlua(S, 60, m, "-j", "2", "--timeout", "3", "--junit", xml, "--out", out)
    assert.are.equal(1, code, stdout .. stderr)
    assert.are.equal("timeout: no result within 3 s (the test was waiting for 'QLUA-NEVER' (plain text)); "
      .. "the console's last lines:\n  one\n  two\n", H.slurp(rundir(out, "n=1") .. "/result"))
    assert.are.equal("pass\n", H.slurp(rundir(out, "n=2") .. "/result"))
    -- the suite's time is the run's (as the summary line says it), not the
    -- sum of its cells', which ran at once
    local text = assert(H.slurp(xml))
    local suite = tonumber(text:match('<testsuite [^>]* time="([%d.]+)"'))
    local sum = 0
    for t in text:gmatch('<testcase [^>]* time="([%d.]+)"') do sum = sum + tonumber(t) end
    local wall = (stdout .. stderr):match("times: 2 cells: [^\n]*%(([%d.]+) s, logs in")
    assert.is_truthy(wall, stdout .. stderr)
    -- the same figure, printed to 0.1 s there and 0.001 s here: rounding
    -- the XML's again can land on the other side of a half (a run of
    -- 3.0504 s: the summary's 3.1, the XML's 3.050, which gives 3.0)
    assert.is_true(math.abs(tonumber(wall) - suite) <= 0.0505, ("summary %s s, suite %.3f s"):format(wall, suite))
    assert.is_true(suite < sum, ("suite %.3f s, cells %.3f s"):format(suite, sum))
    assert.are.equal(suite, tonumber(text:match('<testsuites [^>]* time="([%d.]+)"')))
  end)
end)

-- ---- the matrix in plain Lua ------------------------------------------------------------

describe("qemu.matrix in plain Lua", function()
  local matrix = require "qemu.matrix"
  local function f() end

  local function names(cells)
    local n = {}
    for i, c in ipairs(cells) do n[i] = c.name end
    return n
  end

  it("orders the cells by axis name, the first varying slowest, values in their given order", function()
    local m = matrix { axes = { b = { "y", "x" }, a = { 2, 1 } }, vm = f, test = f }
    assert.are.same({ "a=2,b=y", "a=2,b=x", "a=1,b=y", "a=1,b=x" }, names(m:cells()))
    for i, c in ipairs(m:cells()) do assert.are.equal(i, c.index) end
    assert.are.equal("matrix", m.name)
  end)

  it("exclude drops every cell a (partial) pattern matches; include adds cells, not twice", function()
    local m = matrix {
      name = "x",
      axes = { os = { "a", "b" }, cpu = { 1, 2, 4 } },
      exclude = { { cpu = 4 }, { os = "b", cpu = 1 } },
      include = { { os = "c", cpu = 8, extra = true }, { os = "a", cpu = 1 } },
      vm = f, test = f,
    }
    assert.are.same({ "cpu=1,os=a", "cpu=2,os=a", "cpu=2,os=b", "cpu=8,extra=true,os=c" }, names(m:cells()))
    local c = m:cells()[4]
    assert.are.same({ os = "c", cpu = 8, extra = true }, { os = c.os, cpu = c.cpu, extra = c.extra })
  end)

  it("cells{only, shard}: substrings of the name, then every N-th from the I-th", function()
    local m = matrix { axes = { n = { 1, 2, 3, 4, 5, 6, 7 } }, vm = f, test = f }
    assert.are.same({ "n=1", "n=4", "n=7" }, names(m:cells { shard = { 1, 3 } }))
    assert.are.same({ "n=2", "n=5" }, names(m:cells { shard = { 2, 3 } }))
    assert.are.same({ "n=3", "n=6" }, names(m:cells { only = { "n=3", "n=6" } }))
    assert.are.same({ "n=6" }, names(m:cells { only = { "n=3", "n=6" }, shard = { 2, 2 } }))
    -- m:run refuses an `only` text that matches no cell, before it runs or
    -- writes anything, naming its field as the caller wrote it (the command
    -- line's --only: "wrong matrix options" above)
    local ok, e = pcall(m.run, m, { only = { "n=3", "n=8" }, list = true })
    assert.is_false(ok)
    assert.are.equal("matrix.run: field 'only': 'n=8' matches no cell of matrix 'matrix' " ..
      "(cells: 'n=1', 'n=2', 'n=3', 'n=4', 'n=5', 'n=6', 'n=7')", e)
    ok, e = pcall(function()
      local status = m:run { only = "n=9" }  -- not a tail call: this line is the caller's
      return status
    end)
    assert.is_false(ok)
    assert.matches("^[^\n]*matrix_spec%.lua:%d+: matrix%.run: field 'only': 'n=9' matches no cell", e)
  end)

  it("checks its own fields, blaming the caller's line", function()
    local function err(def)
      local ok, e = pcall(function()
        local m = matrix(def)  -- not a tail call: this line is the caller's
        return m
      end)
      assert.is_false(ok)
      return e
    end
    assert.matches("matrix_spec%.lua:%d+: matrix: unknown field 'axis'",
      err { axis = {}, vm = f, test = f })
    assert.matches("matrix: field 'axes' is required", err { vm = f, test = f })
    assert.matches("matrix: field 'test' is required", err { axes = { a = { 1 } }, vm = f })
    assert.matches("matrix: field 'vm': function expected, got table", err { axes = { a = { 1 } }, vm = {}, test = f })
    assert.matches("matrix: field 'axes.a': a non%-empty list of values expected", err { axes = { a = {} }, vm = f, test = f })
    assert.matches("matrix: field 'timeout' must be positive", err { axes = { a = { 1 } }, timeout = 0, vm = f, test = f })
    -- launch: qemu.launch's own record, checked here rather than by every
    -- cell's launch, each of which would end as an error
    assert.matches("matrix_spec%.lua:%d+: matrix: unknown field 'launch%.agnet' %(did you mean 'agent'%?%)",
      err { axes = { a = { 1 } }, vm = f, test = f, launch = { agnet = true } })
    assert.matches("matrix: field 'launch%.stderr': invalid option 'pipe' %(expected 'capture' or 'inherit'%)",
      err { axes = { a = { 1 } }, vm = f, test = f, launch = { stderr = "pipe" } })
    assert.matches("matrix: field 'launch': table expected, got boolean",
      err { axes = { a = { 1 } }, vm = f, test = f, launch = true })
  end)
end)
