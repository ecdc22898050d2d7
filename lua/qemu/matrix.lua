-- qemu.matrix - scripted test matrices: many VM configurations, each a
-- cell, run in parallel from one process, each ending as pass, fail,
-- timeout, crash, error or skip, reported like a CI tool.
--
--   local matrix = require "qemu.matrix"
--   return matrix {
--     name    = "boot",
--     axes    = { machine = { "pc", "q35" }, smp = { 1, 2 } },
--     exclude = { { machine = "pc", smp = 2 } },
--     include = { { machine = "microvm", smp = 1 } },
--     timeout = 120,                              -- seconds per cell
--     vm      = function(cell) return { ... } end, -- a VM description per cell
--     test    = function(vm, cell) assert(vm.console:expect("READY", 60)) end,
--   }
--
-- `qlua boot.lua [-j N] [--fail-fast] [--only TEXT] [--timeout S] [--tap]
-- [--junit FILE] [--html FILE] [--list] [--shard I/N] [--out DIR]` runs it (the qlua
-- command calls m:run(options)).
--
-- How it works: each cell's test runs as a coroutine registered with
-- qemu.cell, so every wait in it (console:expect, qmp:execute, vm:wait,
-- vm:shutdown) yields its deadline here instead of blocking; the runner
-- runs the one event loop (qemu.poll) until something happens, and resumes
-- the cells.  Cells never block one another and cost no threads.
local qemu = require "qemu"
local report = require "qemu.report"
local shards = require "qemu.shards"

local M = {}
local Matrix = { __name = "qemu.matrix" }
Matrix.__index = Matrix

-- ---- describing ------------------------------------------------------------

local function fail(level, fmt, ...)
  error("matrix: " .. fmt:format(...), level + 1)
end

-- A cell's stable name: its axes sorted by name, "machine=q35,smp=2".
local function cell_name(cell, keys)
  local parts = {}
  for _, k in ipairs(keys) do
    if cell[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(cell[k]) end
  end
  return table.concat(parts, ",")
end

local function matches(cell, pattern)
  for k, v in pairs(pattern) do
    if cell[k] ~= v then return false end
  end
  return true
end

-- matrix{...}: checks its own options (device fields are C's business, when
-- vm(cell) builds them) and returns the matrix.
function M.new(def)
  if type(def) ~= "table" then fail(2, "table expected, got %s", type(def)) end
  -- its record in src/options.c (qlua --describe matrix), checked as a
  -- device's fields are; errors name the caller of matrix{}
  qemu.check_options("matrix", def, 2)
  local keys = {}
  for k, values in pairs(def.axes) do
    if type(k) ~= "string" then fail(2, "field 'axes': axis names must be strings") end
    if type(values) ~= "table" or #values == 0 then
      fail(2, "field 'axes.%s': a non-empty list of values expected", k)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  if def.timeout and not (def.timeout > 0) then fail(2, "field 'timeout' must be positive") end

  -- the cartesian product, first axis (by name) varying slowest
  local cells = { {} }
  for _, k in ipairs(keys) do
    local next = {}
    for _, partial in ipairs(cells) do
      for _, v in ipairs(def.axes[k]) do
        local c = {}
        for pk, pv in pairs(partial) do c[pk] = pv end
        c[k] = v
        next[#next + 1] = c
      end
    end
    cells = next
  end
  local kept = {}
  for _, c in ipairs(cells) do
    local out = false
    for _, ex in ipairs(def.exclude or {}) do
      if matches(c, ex) then out = true break end
    end
    if not out then kept[#kept + 1] = c end
  end
  -- include: extra cells (their keys join the name order)
  local allkeys, seen = {}, {}
  for _, k in ipairs(keys) do allkeys[#allkeys + 1] = k; seen[k] = true end
  for _, inc in ipairs(def.include or {}) do
    for k in pairs(inc) do
      if not seen[k] then allkeys[#allkeys + 1] = k; seen[k] = true end
    end
  end
  table.sort(allkeys)
  local names = {}
  for _, c in ipairs(kept) do names[cell_name(c, allkeys)] = true end
  for _, inc in ipairs(def.include or {}) do
    local c = {}
    for k, v in pairs(inc) do c[k] = v end
    if not names[cell_name(c, allkeys)] then
      kept[#kept + 1] = c
      names[cell_name(c, allkeys)] = true
    end
  end
  for i, c in ipairs(kept) do
    setmetatable(c, { __index = { name = cell_name(c, allkeys), index = i } })
  end
  local self = setmetatable({}, Matrix)
  self.name = def.name or "matrix"
  self.def = def
  self.all = kept
  return self
end

setmetatable(M, { __call = function(_, def) return M.new(def) end })

-- matrix.skip(reason): ends the calling cell as skipped.
local SKIP = setmetatable({}, { __tostring = function() return "matrix.skip" end })
function M.skip(reason)
  error(setmetatable({ skip = true, reason = reason or "skipped" }, { __index = SKIP,
        __tostring = function(s) return "skip: " .. s.reason end }), 0)
end

-- The cells a run takes: --only (any of the texts, as plain substrings of
-- the name), then --shard I/N (every N-th, from the I-th; {i, n}, or a
-- resolved shard { index, count }).
function Matrix:cells(opts)
  opts = opts or {}
  local out = {}
  for _, c in ipairs(self.all) do
    local ok = not opts.only or #opts.only == 0
    for _, text in ipairs(opts.only or {}) do
      if c.name:find(text, 1, true) then ok = true break end
    end
    if ok then out[#out + 1] = c end
  end
  if opts.shard then
    local i, n = opts.shard.index or opts.shard[1], opts.shard.count or opts.shard[2]
    local sharded = {}
    for pos, c in ipairs(out) do
      if (pos - 1) % n == i - 1 then sharded[#sharded + 1] = c end
    end
    out = sharded
  end
  return out
end

-- An --only text that matches no cell is a mistake (a typo, a renamed
-- axis): running the rest would pass with that text's cells silently
-- missing, and with none left, pass with nothing run.  Raises, naming the
-- cells there are.
-- who: the option as the caller wrote it ("option '--only'" by default; m:run
-- says "matrix.run: field 'only'"), level: error()'s (default 0: no line).
function Matrix:check_only(only, who, level)
  for _, text in ipairs(only or {}) do
    local hit = false
    for _, c in ipairs(self.all) do
      if c.name:find(text, 1, true) then hit = true break end
    end
    if not hit then
      local names = {}
      for i, c in ipairs(self.all) do names[i] = "'" .. c.name .. "'" end
      error(("%s: '%s' matches no cell of matrix '%s' (cells: %s)")
        :format(who or "option '--only'", text, self.name, table.concat(names, ", ")), level and level + 1 or 0)
    end
  end
end

-- ---- running -----------------------------------------------------------------

-- The runner keeps its own record per cell ({ cell, outcome, message,
-- duration, dir, vm, co, ... }), so the cell tables a script sees hold
-- only the axes (and name, index, dir).

local function safe(name)
  return (name:gsub("[^%w%.%-_=,]", "_"))
end

-- A cell's directory name: its name made safe, and when that is longer
-- than 200 bytes (a kernel command line as an axis value), its first 183
-- and a hash of the whole name (FNV-1a, 64 bits), so that it fits a file
-- name (255 bytes) and two long names that start alike stay apart.
local function cell_dirname(name)
  local s = safe(name)
  if #s <= 200 then return s end
  local h = 0xcbf29ce484222325
  for i = 1, #name do h = (h ~ name:byte(i)) * 0x100000001b3 end
  return s:sub(1, 183) .. ("-%016x"):format(h)
end

-- A cell's own files (result, argv): whole or not at all, and an error
-- when they cannot be written, as results.json is (report.write).
local write = report.write

-- Records how cell r ended (result file, report) and stops its VM
-- gracefully, without blocking the other cells: the shutdown runs as a
-- cell of its own.
local function finish(run, r, outcome, message)
  r.outcome, r.message = outcome, message
  r.ended = qemu.now()
  r.duration = r.started and (r.ended - r.started) or 0
  r.co = nil
  if r.vm then
    local vm = r.vm
    local co = coroutine.create(function()
      -- the test is over: no need to wait for the guest (timeout 0: straight to quit)
      if vm:alive() then vm:shutdown { timeout = 0 } end
      return true
    end)
    qemu.cell(co)
    run.stoppers[#run.stoppers + 1] = { co = co, vm = vm }
  end
  if r.dir then
    write(r.dir .. "/result", outcome .. (message and (": " .. message) or "") .. "\n")
  end
  run.done = run.done + 1
  if r.started then run.running = run.running - 1 end
  if outcome ~= "pass" and outcome ~= "skip" then run.failed = run.failed + 1 end
  report.progress(run, r)
  -- results.json as each cell ends: a shard killed later keeps these
  run.ended_records[#run.ended_records + 1] = r
  shards.write(run)
end

-- How a test that did not pass ended: a QEMU that died on its own (a
-- signal, or a non-zero code) is a crash, whatever the test said.
local function verdict(r, ok, err)
  if ok then return "pass" end
  if type(err) == "table" and err.skip then return "skip", err.reason end
  local msg = tostring(err)
  if r.vm and not r.vm:alive() then
    local st = r.vm:wait(0)
    if st and (st.signal or st.code ~= 0) then
      return "crash", ("QEMU exited (%s); %s"):format(st.signal and ("signal " .. st.signal)
             or ("code " .. st.code), msg)
    end
  end
  return "fail", msg
end

-- Starts cell r: builds its VM (an error here is "error"), launches it with
-- its logs in its run directory, and makes its test a coroutine.
local function start(run, r)
  local m, c = run.matrix, r.cell
  r.started = qemu.now()
  r.deadline = r.started + run.timeout
  r.dir = run.results_dir .. "/" .. cell_dirname(c.name)
  getmetatable(c).__index.dir = r.dir
  qemu._rm_rf(r.dir)
  local made, why = qemu._mkdir_p(r.dir)
  run.running = run.running + 1
  if not made then
    -- this cell cannot run (nor keep a result file); the others can
    r.dir = nil
    getmetatable(c).__index.dir = nil
    return finish(run, r, "error", "cannot make the cell's directory " .. why)
  end
  -- recipes that make files (disk overlays) make them in the cell's directory
  local recipes = package.loaded["qemu.recipes"]
  if type(recipes) == "table" then recipes.run_dir = r.dir end
  local ok, desc = pcall(m.def.vm, c)
  if not ok then
    if type(desc) == "table" and desc.skip then return finish(run, r, "skip", desc.reason) end
    return finish(run, r, "error", "vm(cell): " .. tostring(desc))
  end
  if type(desc) ~= "table" then
    return finish(run, r, "error", "vm(cell) returned " .. type(desc) .. " (expected a VM description)")
  end
  local lopts = { console = "capture", stderr_log = r.dir .. "/stderr.log" }
  for k, v in pairs(m.def.launch or {}) do lopts[k] = v end
  local vm
  ok, vm = pcall(qemu.launch, desc, lopts)
  if not ok then return finish(run, r, "error", "launch: " .. tostring(vm)) end
  r.vm = vm
  r.argv = vm.argv
  write(r.dir .. "/argv", table.concat(vm.argv, "\n") .. "\n")
  if vm.console then vm.console:log(r.dir .. "/console.log") end
  if vm.qmp then vm.qmp:log(r.dir .. "/qmp.log") end
  r.co = coroutine.create(function() return m.def.test(vm, c) end)
  qemu.cell(r.co)
  r.wake = -1
end

-- The boot marker, when it can be known: the first console text the test
-- waited for ("'QLUA-GUEST-READY' (plain text)", as the console describes
-- its waits) and when the wait ended, if it ended before its own deadline
-- (a wait that timed out saw no marker).  results.json has it.
local function is_console_wait(what)
  return what and (what:match("%(plain text%)$") or what:match("%(Lua pattern%)$"))
end

local function console_marker(r, was, wake)
  if r.marker_seen or not is_console_wait(was) or r.waiting == was then return end
  r.marker_seen = true
  if wake and wake >= 0 and qemu.now() >= wake then return end
  r.marker, r.marker_at = was, qemu.now()
end

-- Resumes cell r once; finishes it when its test ends.  A wait that
-- suspends the cell yields its deadline and, after it, what it waits for.
local function step(run, r)
  local was, wake = r.waiting, r.wake
  local ok, res, what = coroutine.resume(r.co)
  local dead = not ok or coroutine.status(r.co) == "dead"
  r.wake = not dead and type(res) == "number" and res or -1
  r.waiting = not dead and type(what) == "string" and what or nil
  if ok then console_marker(r, was, wake) end
  if not ok then
    return finish(run, r, verdict(r, false, res))
  end
  if dead then
    if res == false then return finish(run, r, "fail", "test returned false") end
    return finish(run, r, verdict(r, true))
  end
end

-- Why cell r timed out: what its test was waiting for, and the last lines
-- of its console.
local function timeout_message(run, r)
  local msg = ("no result within %g s"):format(run.timeout)
  if r.waiting then msg = msg .. " (the test was waiting for " .. r.waiting .. ")" end
  local con = r.vm and r.vm.console
  local tail = con and con:tail(5) or ""
  if con and tail == "" then return msg .. "; the console printed nothing" end
  if tail ~= "" then msg = msg .. "; the console's last lines:\n  " .. tail:gsub("\n", "\n  ") end
  return msg
end

-- One round: start cells while there is room, resume every cell (each
-- re-checks its own condition), time out the late, resume the stoppers.
-- Returns whether anything still runs and the soonest deadline.
local function round(run)
  while run.running < run.jobs and run.next <= #run.records and not (run.fail_fast and run.failed > 0) do
    start(run, run.records[run.next])
    run.next = run.next + 1
  end
  local soonest, active = nil, false
  for _, r in ipairs(run.records) do
    if r.co then
      if qemu.now() >= r.deadline then
        finish(run, r, "timeout", timeout_message(run, r))
      else
        step(run, r)
      end
    end
    if r.co then
      active = true
      local d = r.wake >= 0 and math.min(r.wake, r.deadline) or r.deadline
      if not soonest or d < soonest then soonest = d end
    end
  end
  for i = #run.stoppers, 1, -1 do
    local s = run.stoppers[i]
    local sok, res = coroutine.resume(s.co)
    if not sok or coroutine.status(s.co) == "dead" then
      table.remove(run.stoppers, i)
    else
      active = true
      if type(res) == "number" and (not soonest or res < soonest) then soonest = res end
    end
  end
  return active, soonest
end

-- The run, of options m:run has checked (or m:main: the command line's
-- are the record's by construction, and it checks --only itself).
-- level: the level error() would take in the caller for the line that
-- asked for the run.
local function run_cells(self, opts, level)
  -- --shard auto: the engine's variables say which shard this is
  local shard = shards.resolve(opts.shard)
  local cells = self:cells({ only = opts.only, shard = shard })
  if opts.list then
    for _, c in ipairs(cells) do
      local axes = {}
      for k, v in pairs(c) do axes[k] = v end
      io.write(qemu.json({ name = c.name, index = c.index, matrix = self.name, cell = axes }), "\n")
    end
    return 0
  end
  -- a dry run (-n, --json, --check) starts no VM and makes no run
  -- directory: said at the line that asked for the run
  if qemu._dry_run() then
    qemu._dry_refuse(level + 1, ("matrix '%s' would run its cells"):format(self.name),
      "its cells: run{ list = true }, or --list")
  end
  local records = {}
  for i, c in ipairs(cells) do records[i] = { cell = c, name = c.name } end
  local run = {
    matrix = self, records = records, jobs = opts.jobs or qemu._nproc(), fail_fast = opts.fail_fast,
    timeout = opts.timeout or self.def.timeout or 300,
    out = opts.out or ("qlua-runs/" .. safe(self.name)),
    done = 0, running = 0, failed = 0, stoppers = {}, started = qemu.now(), next = 1,
    tap = opts.tap, shard = shard, only = opts.only,
    -- what results.json says: the cells all shards share, those that ended
    whole = self:cells({ only = opts.only }), ended_records = {}, host = shards.hostname(),
  }
  -- a shard's results and cells go into RUN_DIR/shard-I-of-N
  run.results_dir = shards.dir(run.out, shard)
  run.wall0, run.mono0 = shards.clocks()
  local made, why = qemu._mkdir_p(run.results_dir)
  if not made then error("cannot make the run directory " .. why, 0) end
  -- One run at a time in a run directory: two would empty each other's
  -- cell directories and overwrite results.json.  Held until the run
  -- returns or raises (<close>).  A file system without locks (NFS) runs
  -- unguarded, as it ran before there was a lock.
  local lock <close>, _, busy = qemu._lock_dir(run.results_dir)
  if busy then
    error(("the run directory %s is in use by another run (each run needs its own: give this one "
      .. "another --out)"):format(run.results_dir), 0)
  end
  report.start(run)
  shards.write(run)
  local function drive()
    while true do
      local done_before = run.done
      local active, soonest = round(run)
      local waiting = run.next <= #records and not (run.fail_fast and run.failed > 0)
      if not active and not waiting then return end
      -- a cell that ended makes room: go round again before waiting
      if run.done == done_before and active then qemu.poll(soonest) end
    end
  end
  -- Ctrl-C, or another signal: it stops qemu.poll ("poll interrupted by
  -- signal 15"), or whatever Lua code runs when it comes (the runner's own
  -- rounds: "interrupted by signal 15"); either way the run ends as
  -- interrupted, with its results written.  Any other error is a fault.
  local interrupted
  local ok, err = pcall(drive)
  if not ok then
    local sig = qemu._signal()
    if not sig then error(err, 0) end
    interrupted = tostring(err):match("^poll interrupted by signal %d+$") or ("interrupted by signal " .. sig)
  end
  if interrupted then
    -- the cells still running end as interrupted; their VMs are stopped
    -- by qlua at exit.  results.json leaves them out: to a merge, a cell
    -- a signal stopped is missing
    run.interrupted = interrupted
    for _, r in ipairs(records) do
      if r.co then
        r.vm = nil  -- no graceful stop here: qlua stops every VM on its way out
        r.not_run = true
        finish(run, r, "error", "interrupted (" .. interrupted .. ")")
      end
    end
  end
  for _, r in ipairs(records) do
    if not r.outcome then
      r.not_run = interrupted and true or nil
      finish(run, r, "skip", interrupted and "not run (interrupted)" or "not run (--fail-fast)")
    end
  end
  report.finish(run, opts)
  shards.write(run)
  report.write_files(run, run.results_dir)
  if opts.html then
    local html = require "qemu.html"
    html.write(opts.html, html.from_run(run))
  end
  if interrupted then error(interrupted, 0) end
  for _, r in ipairs(records) do
    if r.outcome ~= "pass" and r.outcome ~= "skip" then return 1 end
  end
  return 0
end

-- m:run(opts) -> exit status (0 when every cell passed or was skipped):
-- opts as the command line's matrix options set them, a record in
-- src/options.c (qlua --describe matrix.run), checked as every options
-- table is; errors name the caller's line.
function Matrix:run(opts)
  opts = qemu.check_options("matrix.run", opts, 2)
  local o = {}  -- (the caller's table stays as it was)
  for k, v in pairs(opts) do o[k] = v end
  if type(o.only) == "string" then o.only = { o.only } end
  if o.timeout and not (o.timeout > 0) then
    error("matrix.run: field 'timeout' must be positive", 2)
  end
  local why = shards.check(o.shard)
  if why then error("matrix.run: field 'shard': " .. why, 2) end
  self:check_only(o.only, "matrix.run: field 'only'", 2)
  -- (not a tail call: that would take this frame, and with it the caller's line)
  local status = run_cells(self, o, 2)
  return status
end

-- ---- the command line ------------------------------------------------------

-- The matrix options, as `qlua boot.lua [options]` takes them (after the
-- script: they are its arguments).  The parser and --help both read this.
M.OPTIONS = {
  { "-j", "N", "jobs", "cells at once (default: the number of cores)" },
  { "--fail-fast", nil, "fail_fast", "start no cell after one did not pass" },
  { "--only", "TEXT", "only", "only cells whose name contains TEXT (repeatable; each must match a cell)" },
  { "--timeout", "S", "timeout", "seconds per cell (default: the matrix's, else 300)" },
  { "--tap", nil, "tap", "TAP on standard output" },
  { "--junit", "FILE", "junit", "write JUnit XML to FILE" },
  { "--html", "FILE", "html", "write a self-contained HTML report to FILE" },
  { "--list", nil, "list", "print the cells as JSON lines and run nothing" },
  { "--shard", "I/N", "shard", "run the I-th of N shares of the cells (1 <= I <= N); auto or auto/N: "
    .. "the shard the environment names (Slurm array, GitLab parallel, Kubernetes Indexed Job, GNU parallel)" },
  { "--out", "DIR", "out", "run directories and logs under DIR (default: qlua-runs/NAME; a shard's "
    .. "in DIR/shard-I-of-N)" },
}

function M.usage()
  local lines = { "matrix options (after the script):" }
  for _, o in ipairs(M.OPTIONS) do
    lines[#lines + 1] = ("  %-22s %s"):format(o[1] .. (o[2] and (" " .. o[2]) or ""), o[4])
  end
  return table.concat(lines, "\n")
end

-- m:main(args) -> exit status: parses the script's arguments as matrix
-- options and runs.  A wrong option is an error (qlua exits 2).
function Matrix:main(args)
  local opts, i = { only = {} }, 1
  while i <= #args do
    local a = args[i]
    local o
    for _, spec in ipairs(M.OPTIONS) do
      if spec[1] == a then o = spec end
    end
    if not o then error(("unknown matrix option '%s'\n%s"):format(a, M.usage()), 0) end
    local v = shards.option_value(args, i, o, o[3] ~= "only" and opts[o[3]] ~= nil)  -- (--only adds up)
    if o[2] then i = i + 1 end
    if o[3] == "jobs" then
      v = math.tointeger(tonumber(v))
      if not v or v < 1 then error("option '-j': a positive integer expected", 0) end
      opts.jobs = v
    elseif o[3] == "timeout" then
      v = tonumber(v)
      if not v or v <= 0 then error("option '--timeout': a positive number of seconds expected", 0) end
      opts.timeout = v
    elseif o[3] == "only" then
      opts.only[#opts.only + 1] = v
    elseif o[3] == "shard" then
      opts.shard = shards.parse(v)
    else
      opts[o[3]] = v or true
    end
    i = i + 1
  end
  self:check_only(opts.only)
  local status = run_cells(self, opts, 1)  -- (as in m:run)
  return status
end

-- matrix.merge(dirs, opts) -> exit status: the shards' results as one
-- report (qlua --merge DIR...; lua/qemu/shards.lua).
M.merge = shards.merge

return M
