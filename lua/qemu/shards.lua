-- qemu.shards - a matrix split over many machines: which shard this run is
-- when the engine that started it says so (`--shard auto`: Slurm job arrays,
-- GitLab parallel jobs, Kubernetes Indexed Jobs, GNU parallel), the results
-- file every run writes (results.json), and `qlua --merge`, which reads the
-- shards' results files and reports the whole matrix: every cell once, the
-- cells no shard reported as missing.
--
-- results.json (format "qlua-matrix-results", version 1), in the run's
-- results directory (--out DIR, or DIR/shard-I-of-N for a shard), written
-- when the run starts and again as each cell ends (a shard that dies leaves
-- the cells that ended), each time whole (written aside, then renamed):
--   matrix    the matrix's name
--   shard     { index, count, engine ("slurm", "gitlab", "kubernetes",
--             "parallel" or "option"), job (the engine's job id, if any) };
--             absent when the run was not sharded
--   cells     the cells the shards share, in matrix order (after --only,
--             before --shard): { name, index, axes }; merge computes the
--             missing cells from it
--   only      the --only texts
--   host, started, ended (Unix time, seconds; ended is null until the end),
--   complete  (true once the run ended), interrupted (the signal's message)
--   results   one per cell that ended, in the order they ended: { name,
--             index, axes, outcome, message, start, ended, duration (s),
--             marker = { what, at } (the first console text the test
--             waited for and when it came: the boot marker, if known), dir,
--             console, stderr, qmp (the logs), argv (QEMU's) }.  Paths are
--             relative to the results file's directory.
-- Cells a signal stopped (interrupted, or never started because of it) have
-- no result: to a merge they are missing.
local qemu = require "qemu"
local report = require "qemu.report"

local S = {}

S.FORMAT, S.VERSION = "qlua-matrix-results", 1

-- ---- --shard auto --------------------------------------------------------------

local ENGINES = "Slurm job arrays set SLURM_ARRAY_TASK_ID, GitLab parallel jobs CI_NODE_INDEX and "
  .. "CI_NODE_TOTAL, Kubernetes Indexed Jobs JOB_COMPLETION_INDEX, GNU parallel PARALLEL_SEQ"

local function bad(fmt, ...)
  error("option '--shard': " .. fmt:format(...), 0)
end

-- The integer value of variable name (nil when unset).
local function int(getenv, name)
  local v = getenv(name)
  if v == nil or v == "" then return nil end
  local n = math.tointeger(tonumber(v))
  if not n or not tostring(v):match("^%s*%-?%d+%s*$") then bad("%s='%s' is not an integer", name, v) end
  return n
end

-- S.from_env(count, getenv) -> { index, count, engine, job }: the shard the
-- environment names.  count: N of "auto/N" (or nil); getenv: os.getenv or a
-- stand-in.  Slurm first (slurmd sets its variables for this very task),
-- then GitLab, Kubernetes, GNU parallel.  Kubernetes and GNU parallel give
-- only the index: the count is N of auto/N, else QLUA_SHARD_COUNT.
function S.from_env(count, getenv)
  getenv = getenv or os.getenv
  if count == nil then
    local c = getenv("QLUA_SHARD_COUNT")
    if c ~= nil and c ~= "" then
      count = math.tointeger(tonumber(c))
      if not count or count < 1 or not c:match("^%d+$") then
        bad("QLUA_SHARD_COUNT='%s' is not a positive integer", c)
      end
    end
  end
  local function agree(n, engine, how)
    if count and count ~= n then
      bad("the count given (%d) is not the %s's (%d, %s)", count, engine, n, how)
    end
  end
  local id = int(getenv, "SLURM_ARRAY_TASK_ID")
  if id then
    local min, max = int(getenv, "SLURM_ARRAY_TASK_MIN"), int(getenv, "SLURM_ARRAY_TASK_MAX")
    if not min or not max then
      bad("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX")
    end
    local step = int(getenv, "SLURM_ARRAY_TASK_STEP") or 1
    local n = step > 0 and (max - min) // step + 1 or 0
    local tasks = int(getenv, "SLURM_ARRAY_TASK_COUNT") or n
    if step < 1 or tasks ~= n or (id - min) % step ~= 0 or id < min or id > max then
      bad("the Slurm array is not a range of task ids (SLURM_ARRAY_TASK_ID=%d, SLURM_ARRAY_TASK_MIN=%d, "
        .. "SLURM_ARRAY_TASK_MAX=%d, SLURM_ARRAY_TASK_STEP=%d, SLURM_ARRAY_TASK_COUNT=%d): submit it with "
        .. "--array=A-B or --array=A-B:S, or use --shard I/N", id, min, max, step, tasks)
    end
    agree(n, "Slurm array", "SLURM_ARRAY_TASK_MIN to SLURM_ARRAY_TASK_MAX")
    return { index = (id - min) // step + 1, count = n, engine = "slurm", job = getenv("SLURM_ARRAY_JOB_ID") }
  end
  local ci = int(getenv, "CI_NODE_INDEX")
  if ci then
    local total = int(getenv, "CI_NODE_TOTAL")
    if not total then bad("CI_NODE_INDEX is set but not CI_NODE_TOTAL") end
    if total < 1 or ci < 1 or ci > total then
      bad("CI_NODE_INDEX=%d is not from 1 to CI_NODE_TOTAL=%d", ci, total)
    end
    agree(total, "GitLab job", "CI_NODE_TOTAL")
    return { index = ci, count = total, engine = "gitlab", job = getenv("CI_PIPELINE_ID") }
  end
  local k8s = int(getenv, "JOB_COMPLETION_INDEX")
  if k8s then
    if not count then
      bad("JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the number of shards: "
        .. "write --shard auto/N or set QLUA_SHARD_COUNT (the Job's completions)")
    end
    if k8s < 0 or k8s >= count then bad("JOB_COMPLETION_INDEX=%d is not from 0 to %d", k8s, count - 1) end
    return { index = k8s + 1, count = count, engine = "kubernetes" }
  end
  local seq = int(getenv, "PARALLEL_SEQ")
  if seq then
    if not count then
      bad("PARALLEL_SEQ is set (GNU parallel) but not the number of shards: "
        .. "write --shard auto/N or set QLUA_SHARD_COUNT (the number of jobs)")
    end
    if seq < 1 or seq > count then bad("PARALLEL_SEQ=%d is not from 1 to %d", seq, count) end
    return { index = seq, count = count, engine = "parallel" }
  end
  bad("'auto' found no shard in the environment (%s)", ENGINES)
end

-- "I/N" as { index, count, engine = "option" }, or "auto" and "auto/N" as
-- { auto = true, count = N }; nil and why on anything else.
local function parse(text)
  local n = text:match("^auto/(.*)$")
  if text == "auto" then return { auto = true } end
  if n then
    n = n:match("^%d+$") and tonumber(n)
    if not n or n < 1 then return nil, ("auto/N expected with N >= 1, got '%s'"):format(text) end
    return { auto = true, count = n }
  end
  local si, sn = text:match("^(%d+)/(%d+)$")
  si, sn = tonumber(si), tonumber(sn)
  if not si or sn < 1 or si < 1 or si > sn then
    return nil, ("I/N expected with 1 <= I <= N, got '%s'"):format(text)
  end
  return { index = si, count = sn, engine = "option" }
end

-- S.parse(text) -> the shard --shard names (parse, above); raises on
-- anything else.
function S.parse(text)
  local sh, why = parse(text)
  if not sh then bad("%s", why) end
  return sh
end

-- S.check(shard) -> nil when shard is one as m:run takes it (nil or false:
-- none; a string as --shard takes it; { I, N }; what S.parse made), else
-- why not: its field's error, in m:run's options record.
function S.check(shard)
  if shard == nil or shard == false then return nil end
  if type(shard) == "string" then return select(2, parse(shard)) end
  if type(shard) ~= "table" then
    return ("'I/N', { I, N }, 'auto' or 'auto/N' expected, got %s"):format(type(shard))
  end
  if shard.auto then return nil end
  local i, n = shard.index or shard[1], shard.count or shard[2]
  if math.type(i) ~= "integer" or math.type(n) ~= "integer" or n < 1 or i < 1 or i > n then
    return ("{ I, N } expected with integers 1 <= I <= N, got { %s, %s }"):format(tostring(i), tostring(n))
  end
  return nil
end

-- S.resolve(shard) -> { index, count, engine, job } or nil: a shard as
-- m:run takes it ({i, n}, "I/N", "auto", "auto/N" or a parsed table).
function S.resolve(shard, getenv)
  if shard == nil or shard == false then return nil end
  if type(shard) == "string" then shard = S.parse(shard) end
  if shard.auto then return S.from_env(shard.count, getenv) end
  if shard.index then return shard end
  return { index = shard[1], count = shard[2], engine = "option" }
end

-- The directory of shard sh under the run directory out.
function S.dir(out, sh)
  if not sh then return out end
  return ("%s/shard-%d-of-%d"):format(out, sh.index, sh.count)
end

-- ---- results.json ----------------------------------------------------------------

local function empty_array()
  return qemu.json_decode("[]")  -- a table qemu.json writes as []
end

-- A cell's axes as JSON values (a value of another type as its text).
local function axes_of(cell)
  local axes = {}
  for k, v in pairs(cell) do
    local t = type(v)
    axes[tostring(k)] = (t == "number" or t == "boolean") and v or report.utf8_clean(tostring(v))
  end
  return axes
end
S.axes_of = axes_of

local function rel(run, path)
  local prefix = run.results_dir .. "/"
  if path and path:sub(1, #prefix) == prefix then return path:sub(#prefix + 1) end
  return path
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The record of cell r, as results.json holds it.
local function result_of(run, r)
  local wall = function(t) return t and (run.wall0 + (t - run.mono0)) or nil end
  local out = {
    name = report.utf8_clean(r.name), index = r.cell.index, axes = axes_of(r.cell),
    outcome = r.outcome, message = r.message and report.utf8_clean(r.message) or nil,
    start = wall(r.started), ended = wall(r.ended), duration = r.duration,
    dir = r.dir and rel(run, r.dir) or nil,
  }
  if r.marker_at then out.marker = { what = report.utf8_clean(r.marker), at = wall(r.marker_at) } end
  if r.dir then
    for _, log in ipairs({ "console", "stderr", "qmp" }) do
      local p = r.dir .. "/" .. log .. ".log"
      if exists(p) then out[log] = rel(run, p) end
    end
  end
  if r.argv then
    local argv = {}
    for i, a in ipairs(r.argv) do argv[i] = report.utf8_clean(a) end
    out.argv = argv
  end
  return out
end

-- Writes run's results.json again (aside, then renamed: a reader never
-- sees half of it).  Raises when it cannot.
function S.write(run)
  local m = run.matrix
  local doc = {
    format = S.FORMAT, version = S.VERSION, matrix = report.utf8_clean(m.name),
    host = run.host, started = run.wall0, ended = run.ended and (run.wall0 + run.ended - run.mono0) or nil,
    complete = run.ended ~= nil and not run.interrupted, interrupted = run.interrupted,
    jobs = run.jobs, timeout = run.timeout, only = empty_array(), cells = empty_array(),
    results = empty_array(),
  }
  if run.shard then
    doc.shard = { index = run.shard.index, count = run.shard.count, engine = run.shard.engine,
                  job = run.shard.job }
  end
  for i, text in ipairs(run.only or {}) do doc.only[i] = report.utf8_clean(text) end
  for i, c in ipairs(run.whole) do
    doc.cells[i] = { name = report.utf8_clean(c.name), index = c.index, axes = axes_of(c) }
  end
  for _, r in ipairs(run.ended_records) do
    if not r.not_run then doc.results[#doc.results + 1] = result_of(run, r) end
  end
  report.write(run.results_dir .. "/results.json", qemu.json(doc) .. "\n")
end

-- The wall clock (Unix time with fractions) now and the monotonic clock
-- with it: results.json's times are wall times (shards on other machines
-- line up), measured on the monotonic clock from this pair.
function S.clocks()
  return qemu._wall_time(), qemu.now()
end

function S.hostname()
  local f = io.open("/proc/sys/kernel/hostname")
  local h = f and f:read("l")
  if f then f:close() end
  return h or "?"
end

-- ---- qlua --merge ------------------------------------------------------------------

local function merr(fmt, ...)
  error("--merge: " .. fmt:format(...), 0)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The shard directories DIR stands for: DIR itself when it holds a
-- results.json, else its shard-I-of-N subdirectories (each with its
-- results.json or not: a shard may have died before writing one).
local function expand(dir)
  dir = dir:gsub("/+$", "")
  if dir == "" then dir = "/" end
  if exists(dir .. "/results.json") then return { dir } end
  local found = {}
  for _, name in ipairs(qemu._dir(dir) or {}) do
    local i, n = name:match("^shard%-(%d+)%-of%-(%d+)$")
    if i then found[#found + 1] = { path = dir .. "/" .. name, i = tonumber(i), n = tonumber(n) } end
  end
  if #found == 0 then
    merr("'%s' holds no matrix results (no results.json, no shard-I-of-N directory)", dir)
  end
  table.sort(found, function(a, b) return a.n < b.n or (a.n == b.n and a.i < b.i) end)
  local out = {}
  for k, f in ipairs(found) do out[k] = f end
  return out
end

-- One shard's results: { path, doc } or { path, index, count } for a
-- shard directory without results.json.
local function load(entry)
  if type(entry) == "table" then
    local text = read(entry.path .. "/results.json")
    if not text then return { path = entry.path, index = entry.i, count = entry.n } end
    entry = entry.path
  end
  local file = entry .. "/results.json"
  local doc, err = qemu.json_decode(read(file) or "")
  if type(doc) ~= "table" or doc.format ~= S.FORMAT then
    merr("'%s' is not a qlua matrix results file%s", file, err and (" (" .. err .. ")") or "")
  end
  if doc.version ~= S.VERSION then
    merr("'%s' is results format version %s; this qlua reads version %d", file, tostring(doc.version), S.VERSION)
  end
  local sh = type(doc.shard) == "table" and doc.shard or { index = 1, count = 1 }
  return { path = entry, doc = doc, index = sh.index, count = sh.count, engine = sh.engine, job = sh.job }
end

local function names(cells)
  local out = {}
  for i, c in ipairs(cells or {}) do out[i] = c.name end
  return table.concat(out, "\n")
end

-- S.collect(dirs) -> the merged run ({ matrix, records, shards, ... }):
-- the shards' results checked against each other; raises on results that
-- do not belong together (another matrix, other cells, another count) and
-- on a cell reported twice.  Records of missing cells have outcome
-- "missing".
function S.collect(dirs)
  if #dirs == 0 then merr("no directory given (qlua --merge DIR... [--junit FILE] [--tap] [--html FILE])") end
  local shards = {}
  for _, d in ipairs(dirs) do
    for _, e in ipairs(expand(d)) do shards[#shards + 1] = load(e) end
  end
  local first
  for _, s in ipairs(shards) do
    if s.doc then first = first or s end
  end
  if not first then
    merr("no shard wrote results (%s: no results.json)", shards[1].path)
  end
  local m, count = first.doc.matrix, first.count
  local by_index, owner = {}, {}
  for _, s in ipairs(shards) do
    if s.doc and s.doc.matrix ~= m then
      merr("'%s' holds matrix '%s' and '%s' matrix '%s'", first.path, m, s.path, tostring(s.doc.matrix))
    end
    if s.count ~= count then
      merr("'%s' is shard %d of %d and '%s' shard %d of %d: shards of different counts",
        first.path, first.index, count, s.path, s.index, s.count)
    end
    if s.doc and names(s.doc.cells) ~= names(first.doc.cells) then
      merr("'%s' and '%s' ran different cells of matrix '%s' (another --only, or a changed matrix)",
        first.path, s.path, m)
    end
    -- in matrix order (results are in the order cells ended): the first
    -- cell two shards share is the one named
    local sorted = {}
    for k, res in ipairs(s.doc and s.doc.results or {}) do sorted[k] = res end
    table.sort(sorted, function(x, y) return (x.index or 0) < (y.index or 0) end)
    for _, res in ipairs(sorted) do
      if owner[res.name] then
        merr("cell '%s' of matrix '%s' is in two shards: '%s' and '%s'", res.name, m, owner[res.name].path, s.path)
      end
      owner[res.name] = s
    end
    if by_index[s.index] then
      merr("shard %d of %d is in two directories: '%s' and '%s'", s.index, count, by_index[s.index].path, s.path)
    end
    by_index[s.index] = s
  end

  -- every cell of the whole matrix, in its order; each shard's share is
  -- every count-th from its index (as --shard I/N takes them)
  local run = { matrix = { name = m }, records = {}, shards = shards, count = count, missing = 0 }
  local started, ended
  for pos, c in ipairs(first.doc.cells) do
    local s = owner[c.name]
    local rec
    if s then
      for _, res in ipairs(s.doc.results) do
        if res.name == c.name then rec = res end
      end
      rec = { name = c.name, cell = c, outcome = rec.outcome, message = rec.message, duration = rec.duration,
              result = rec, shard = s, dir = rec.dir and (s.path .. "/" .. rec.dir) or nil }
      if rec.result.start and (not started or rec.result.start < started) then started = rec.result.start end
      if rec.result.ended and (not ended or rec.result.ended > ended) then ended = rec.result.ended end
    else
      local si = (pos - 1) % count + 1
      local sh = by_index[si]
      local why
      if not sh then
        why = ("shard %d of %d left no results"):format(si, count)
      elseif not sh.doc then
        why = ("shard %d of %d ('%s') wrote no results.json"):format(si, count, sh.path)
      elseif sh.doc.interrupted then
        why = ("shard %d of %d ('%s') was interrupted (%s) before this cell ended"):format(si, count, sh.path,
          sh.doc.interrupted)
      else
        why = ("shard %d of %d ('%s') stopped before this cell ended"):format(si, count, sh.path)
      end
      rec = { name = c.name, cell = c, outcome = "missing", message = "no result: " .. why, duration = 0 }
      run.missing = run.missing + 1
    end
    run.records[pos] = rec
  end
  run.started, run.ended = started or 0, ended or started or 0
  return run
end

-- The merge options, as `qlua --merge DIR... [options]` takes them.
S.OPTIONS = {
  { "--junit", "FILE", "junit", "write the whole matrix's JUnit XML to FILE" },
  { "--tap", nil, "tap", "the whole matrix's TAP on standard output" },
  { "--html", "FILE", "html", "write the whole matrix's HTML report to FILE (missing cells included)" },
}

-- The merged run as the HTML report's plain data (lua/qemu/html.lua): the
-- shards' results.json records as they are, their log paths relative to
-- their shard's directory, missing cells as such.
local function html_data(run)
  local results = {}
  for i, r in ipairs(run.records) do
    local res = {}
    for k, v in pairs(r.result or {}) do res[k] = v end
    res.name, res.index, res.outcome, res.message = r.name, r.cell.index or i, r.outcome, r.message
    res.axes = res.axes or r.cell.axes
    if r.shard then
      res.base = r.shard.path
      res.shard = res.shard or { index = r.shard.index, count = r.shard.count }
    end
    results[i] = res
  end
  local info = { name = run.matrix.name, total = #run.records,
                 duration = run.ended > 0 and run.ended - run.started or nil }
  return info, results
end

-- The merge, of what S.merge has checked (or S.main parsed: qlua --merge's
-- options are the record's by construction).
local function merge(dirs, opts)
  local run = S.collect(dirs)
  run.tap = opts.tap
  local paths = {}
  for _, s in ipairs(run.shards) do paths[#paths + 1] = s.path end
  local present = 0
  for _, s in ipairs(run.shards) do if s.doc then present = present + 1 end end
  run.where = ("%d of %d shard%s: %s"):format(present, run.count, run.count == 1 and "" or "s",
    table.concat(paths, ", "))
  report.replay(run, opts)
  if opts.html then
    require("qemu.html").write(opts.html, html_data(run))
  end
  for _, r in ipairs(run.records) do
    if r.outcome ~= "pass" and r.outcome ~= "skip" then return 1 end
  end
  return 0
end

-- S.merge(dirs, opts) -> exit status: 0 when every cell of the whole
-- matrix ran and passed (or was skipped), 1 otherwise.  Prints each cell
-- and a summary (on stderr with opts.tap, the TAP on stdout); writes
-- opts.junit and opts.html.
function S.merge(dirs, opts)
  if type(dirs) ~= "table" then
    error(("bad argument #1 to 'merge' (list of run directories expected, got %s)"):format(type(dirs)), 2)
  end
  for i, d in ipairs(dirs) do
    if type(d) ~= "string" then
      error(("bad argument #1 to 'merge' (dirs[%d]: string expected, got %s)"):format(i, type(d)), 2)
    end
  end
  -- its record in src/options.c (qlua --describe matrix.merge): errors
  -- name the caller's line, as for every options table
  return merge(dirs, qemu.check_options("matrix.merge", opts, 2))
end

-- The value of option o (a row of S.OPTIONS or matrix's M.OPTIONS: name,
-- argument, key) at args[i], for both command lines: args[i + 1], nil for
-- a flag.  A missing argument is an error, and so is a valued option seen
-- before (given: the second would replace the first without a word).
function S.option_value(args, i, o, given)
  if not o[2] then return nil end
  local v = args[i + 1]
  if v == nil then error(("option '%s' needs an argument (%s)"):format(o[1], o[2]), 0) end
  if given then error(("option '%s' can be given once (one %s)"):format(o[1], o[2]), 0) end
  return v
end

-- qlua --merge DIR... [options]: args are the words after --merge.
function S.main(args)
  local dirs, opts, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    local o
    for _, spec in ipairs(S.OPTIONS) do
      if spec[1] == a then o = spec end
    end
    if o then
      local v = S.option_value(args, i, o, opts[o[3]] ~= nil)
      if o[2] then i = i + 1 end
      opts[o[3]] = v or true
    elseif a:sub(1, 1) == "-" and a ~= "-" then
      local known = {}
      for k, spec in ipairs(S.OPTIONS) do known[k] = spec[1] end
      error(("unknown merge option '%s' (qlua --merge DIR... takes %s)"):format(a, table.concat(known, ", ")), 0)
    else
      dirs[#dirs + 1] = a
    end
    i = i + 1
  end
  return merge(dirs, opts)
end

return S
