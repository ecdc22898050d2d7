-- spec/shard_spec.lua - matrices over many machines: --shard auto
-- from each engine's variables (set here as Slurm, GitLab, Kubernetes and
-- GNU parallel set them), results.json in RUN_DIR/shard-I-of-N, and qlua
-- --merge: the whole matrix from its shards, overlaps refused, the cells
-- of a shard that died (or was killed) missing.  Through the real ./qlua
-- and real QEMUs (-machine none; one real guest for the boot marker).
-- The real Slurm cluster is spec/cluster_spec.lua.
local H = require "helper"
local G = require "support.guest"
local qemu = require "qemu"

local q = H.q

-- Every engine variable --shard auto reads: each command starts from none
-- of them (the spec itself may run under one of those engines).
local VARS = { "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
  "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_JOB_ID", "CI_NODE_INDEX",
  "CI_NODE_TOTAL", "CI_PIPELINE_ID", "JOB_COMPLETION_INDEX", "PARALLEL_SEQ", "QLUA_SHARD_COUNT" }

local function env(vars)
  local words = { "env" }
  for _, v in ipairs(VARS) do words[#words + 1] = "-u " .. v end
  for k, v in pairs(vars or {}) do words[#words + 1] = q(k .. "=" .. v) end
  return table.concat(words, " ")
end

local function scope(finally)
  local S = { dir = assert(io.popen("mktemp -d /tmp/qlua-shard.XXXXXX")):read("l") }
  finally(function() os.execute("rm -rf " .. q(S.dir)) end)
  return S
end

-- Runs ./qlua ARGS... in S.dir with the engine variables vars (and none
-- other), under timeout(1): code, stdout, stderr.
local function qlua(S, vars, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  local code, out, err = H.sh(("cd %s && %s timeout -k 5 120 %s %s"):format(q(S.dir), env(vars), H.qlua_cmd,
    table.concat(words, " ")))
  assert(code ~= 124 and code ~= 137, "qlua ran over its time:\n" .. out .. err)
  return code, out, err
end

-- A matrix of 7 cells of QEMU -machine none: n=4 fails, n=6 skips; with
-- HANG=n=K in the environment, cell K waits for its QEMU until killed.
local BODY = [[
local matrix = require "qemu.matrix"
return matrix {
  name = "par",
  axes = { n = { 1, 2, 3, 4, 5, 6, 7 } },
  timeout = 100,
  vm = function(cell)
    return { machine = { type = "none" }, knobs = { no_defaults = true }, extra_args = { "-display", "none" } }
  end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    if os.getenv("HANG") == cell.name then vm:wait(90) end
    if cell.n == 4 then error("cell 4 fails") end
    if cell.n == 6 then matrix.skip("cell 6 skips") end
  end,
}
]]

local function names(out)
  local n = {}
  for line in out:gmatch("([^\n]*)\n") do n[#n + 1] = qemu.json_decode(line).name end
  return table.concat(n, " ")
end

local function results(path)
  return assert(qemu.json_decode(assert(H.slurp(path), path)))
end

describe("--shard auto", function()
  -- what each engine sets, and the cells of shard 2 of 3: 2, 5
  local cases = {
    { "Slurm --array=0-2, task 1", { SLURM_ARRAY_TASK_ID = "1", SLURM_ARRAY_TASK_MIN = "0",
      SLURM_ARRAY_TASK_MAX = "2", SLURM_ARRAY_TASK_COUNT = "3", SLURM_ARRAY_TASK_STEP = "1",
      SLURM_ARRAY_JOB_ID = "41" } },
    { "Slurm --array=1-3 (no COUNT, no STEP), task 2", { SLURM_ARRAY_TASK_ID = "2",
      SLURM_ARRAY_TASK_MIN = "1", SLURM_ARRAY_TASK_MAX = "3" } },
    { "Slurm --array=0-20:10, task 10", { SLURM_ARRAY_TASK_ID = "10", SLURM_ARRAY_TASK_MIN = "0",
      SLURM_ARRAY_TASK_MAX = "20", SLURM_ARRAY_TASK_STEP = "10", SLURM_ARRAY_TASK_COUNT = "3" } },
    { "GitLab parallel: 3, job 2 of 3", { CI_NODE_INDEX = "2", CI_NODE_TOTAL = "3", CI_PIPELINE_ID = "9" } },
    { "Kubernetes Indexed Job, index 1, auto/3", { JOB_COMPLETION_INDEX = "1" }, "auto/3" },
    { "Kubernetes Indexed Job, index 1, QLUA_SHARD_COUNT=3", { JOB_COMPLETION_INDEX = "1", QLUA_SHARD_COUNT = "3" } },
    { "GNU parallel, job 2, auto/3", { PARALLEL_SEQ = "2" }, "auto/3" },
    { "Slurm wins over GitLab and GNU parallel", { SLURM_ARRAY_TASK_ID = "1", SLURM_ARRAY_TASK_MIN = "0",
      SLURM_ARRAY_TASK_MAX = "2", CI_NODE_INDEX = "3", CI_NODE_TOTAL = "3", PARALLEL_SEQ = "1" } },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. ": shard 2 of 3", function()
      local S = scope(finally)
      H.write(S.dir .. "/m.lua", BODY)
      local code, out, err = qlua(S, c[2], "m.lua", "--list", "--shard", c[3] or "auto")
      assert.are.equal(0, code, err)
      assert.are.equal("", err)
      assert.are.equal("n=2 n=5", names(out))
      -- --list creates nothing
      assert.is_nil(io.open(S.dir .. "/qlua-runs"))
    end)
  end

  it("each engine's shards, run for real, write RUN_DIR/shard-I-of-N; merged, they are the whole matrix once", function()
    local S = scope(finally)
    H.write(S.dir .. "/m.lua", BODY)
    local runs = {
      { CI_NODE_INDEX = "1", CI_NODE_TOTAL = "4", CI_PIPELINE_ID = "7" },
      { SLURM_ARRAY_TASK_ID = "5", SLURM_ARRAY_TASK_MIN = "4", SLURM_ARRAY_TASK_MAX = "7", SLURM_ARRAY_JOB_ID = "12" },
      { JOB_COMPLETION_INDEX = "2", QLUA_SHARD_COUNT = "4" },
      { PARALLEL_SEQ = "4", QLUA_SHARD_COUNT = "4" },
    }
    local engines = { "gitlab", "slurm", "kubernetes", "parallel" }
    local jobs = { "7", "12" }
    local shares = { "n=1 n=5", "n=2 n=6", "n=3 n=7", "n=4" }
    for i, vars in ipairs(runs) do
      local code, out, err = qlua(S, vars, "m.lua", "--shard", "auto", "-j", "1", "--out", "runs")
      assert.are.equal(i == 4 and 1 or 0, code, out .. err)
      local dir = ("%s/runs/shard-%d-of-4"):format(S.dir, i)
      assert.is_truthy(out:find(("logs in runs/shard-%d-of-4)\n"):format(i), 1, true), out)
      local r = results(dir .. "/results.json")
      assert.are.same({ index = i, count = 4, engine = engines[i], job = jobs[i] }, r.shard)
      assert.are.equal("qlua-matrix-results", r.format)
      assert.are.equal(1, r.version)
      assert.are.equal("par", r.matrix)
      assert.is_true(r.complete)
      assert.are.equal(7, #r.cells)  -- the whole matrix, in every shard
      local got = {}
      for k, res in ipairs(r.results) do
        got[k] = res.name
        -- the cell's logs, relative to the results file
        assert.are.equal(res.name, res.dir)
        for _, log in ipairs({ "console", "stderr", "qmp" }) do
          assert.are.equal(res.name .. "/" .. log .. ".log", res[log])
          assert.is_truthy(io.open(dir .. "/" .. res[log]), res[log])
        end
        assert.are.equal("qemu-system-x86_64", res.argv[1])
        assert.is_true(r.started <= res.start and res.start <= res.ended and res.ended <= r.ended)
        assert.is_true(math.abs(res.ended - res.start - res.duration) < 0.01)
        assert.are.same({ n = tonumber(res.name:match("%d+")) }, res.axes)
      end
      assert.are.equal(shares[i], table.concat(got, " "))
      -- the shard's own TAP and JUnit beside it
      assert.is_truthy(H.slurp(dir .. "/results.tap"):find("^TAP version 13\n1%.%." .. #got .. "\n"))
      assert.are.equal(0, (H.sh("xmllint --noout " .. q(dir .. "/junit.xml"))))
    end
    local code, out, err = qlua(S, {}, "--merge", "runs", "--tap")
    assert.are.equal(1, code)  -- n=4 failed
    assert.are.equal(table.concat({
      "TAP version 13", "1..7", "ok 1 - n=1", "ok 2 - n=2", "ok 3 - n=3", "not ok 4 - n=4 # fail", "  ---",
      "  outcome: fail", '  message: "m.lua:12: cell 4 fails"', '  logs: "runs/shard-4-of-4/n=4"', "  ...",
      "ok 5 - n=5", "ok 6 - n=6 # SKIP cell 6 skips", "  ---", "  outcome: skip", '  message: "cell 6 skips"',
      '  logs: "runs/shard-2-of-4/n=6"', "  ...", "ok 7 - n=7", "" }, "\n"), out)
    assert.matches("\npar: 7 cells: 5 passed, 1 failed, 1 skipped %(%d+%.%d s, 4 of 4 shards: runs/shard%-1%-of%-4, "
      .. "runs/shard%-2%-of%-4, runs/shard%-3%-of%-4, runs/shard%-4%-of%-4%)\n$", err)
  end)

  it("no engine's variables, or not enough of them: exit 2 naming the variables, nothing runs", function()
    local S = scope(finally)
    H.write(S.dir .. "/m.lua", BODY)
    local cases = {
      { {}, "auto", "option '--shard': 'auto' found no shard in the environment (Slurm job arrays set "
        .. "SLURM_ARRAY_TASK_ID, GitLab parallel jobs CI_NODE_INDEX and CI_NODE_TOTAL, Kubernetes Indexed Jobs "
        .. "JOB_COMPLETION_INDEX, GNU parallel PARALLEL_SEQ)" },
      { { JOB_COMPLETION_INDEX = "0" }, "auto", "option '--shard': JOB_COMPLETION_INDEX is set (a Kubernetes "
        .. "Indexed Job) but not the number of shards: write --shard auto/N or set QLUA_SHARD_COUNT (the Job's "
        .. "completions)" },
      { { PARALLEL_SEQ = "1" }, "auto", "option '--shard': PARALLEL_SEQ is set (GNU parallel) but not the number "
        .. "of shards: write --shard auto/N or set QLUA_SHARD_COUNT (the number of jobs)" },
      { { JOB_COMPLETION_INDEX = "3" }, "auto/3", "option '--shard': JOB_COMPLETION_INDEX=3 is not from 0 to 2" },
      { { PARALLEL_SEQ = "0" }, "auto/3", "option '--shard': PARALLEL_SEQ=0 is not from 1 to 3" },
      { { CI_NODE_INDEX = "2" }, "auto", "option '--shard': CI_NODE_INDEX is set but not CI_NODE_TOTAL" },
      { { CI_NODE_INDEX = "5", CI_NODE_TOTAL = "4" }, "auto", "option '--shard': CI_NODE_INDEX=5 is not from 1 "
        .. "to CI_NODE_TOTAL=4" },
      { { CI_NODE_INDEX = "1", CI_NODE_TOTAL = "4" }, "auto/3", "option '--shard': the count given (3) is not "
        .. "the GitLab job's (4, CI_NODE_TOTAL)" },
      { { SLURM_ARRAY_TASK_ID = "1" }, "auto", "option '--shard': SLURM_ARRAY_TASK_ID is set but not "
        .. "SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX" },
      { { SLURM_ARRAY_TASK_ID = "3", SLURM_ARRAY_TASK_MIN = "1", SLURM_ARRAY_TASK_MAX = "7",
          SLURM_ARRAY_TASK_COUNT = "3" }, "auto", "option '--shard': the Slurm array is not a range of task ids "
        .. "(SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_MIN=1, SLURM_ARRAY_TASK_MAX=7, SLURM_ARRAY_TASK_STEP=1, "
        .. "SLURM_ARRAY_TASK_COUNT=3): submit it with --array=A-B or --array=A-B:S, or use --shard I/N" },
      { { SLURM_ARRAY_TASK_ID = "x", SLURM_ARRAY_TASK_MIN = "0", SLURM_ARRAY_TASK_MAX = "1" }, "auto",
        "option '--shard': SLURM_ARRAY_TASK_ID='x' is not an integer" },
      { { SLURM_ARRAY_TASK_ID = "0", SLURM_ARRAY_TASK_MIN = "0", SLURM_ARRAY_TASK_MAX = "3" }, "auto/8",
        "option '--shard': the count given (8) is not the Slurm array's (4, SLURM_ARRAY_TASK_MIN to "
        .. "SLURM_ARRAY_TASK_MAX)" },
      { { PARALLEL_SEQ = "1", QLUA_SHARD_COUNT = "two" }, "auto", "option '--shard': QLUA_SHARD_COUNT='two' is "
        .. "not a positive integer" },
      { {}, "auto/0", "option '--shard': auto/N expected with N >= 1, got 'auto/0'" },
      { {}, "automatic", "option '--shard': I/N expected with 1 <= I <= N, got 'automatic'" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = qlua(S, c[1], "m.lua", "--shard", c[2], "--out", "runs")
      assert.are.equal(2, code, err)
      assert.are.equal("", out)
      assert.are.equal("qlua: " .. c[3] .. "\n", err)
    end
    assert.is_nil(io.open(S.dir .. "/runs"))
  end)
end)

describe("qlua --merge", function()
  -- the two shards of 2 in S.dir/runs (shard 2's n=4 fails)
  local function two_shards(S)
    H.write(S.dir .. "/m.lua", BODY)
    for i = 1, 2 do
      qlua(S, { PARALLEL_SEQ = tostring(i) }, "m.lua", "--shard", "auto/2", "-j", "2", "--out", "runs")
    end
  end

  it("a shard that never ran: its cells are missing, by name and why; exit 1; JUnit and TAP say so", function()
    local S = scope(finally)
    two_shards(S)
    os.execute("rm -rf " .. q(S.dir .. "/runs/shard-1-of-2"))
    local code, out, err = qlua(S, {}, "--merge", "runs", "--junit", "all.xml")
    assert.are.equal(1, code)
    assert.are.equal("", err)
    local lines = {}
    for l in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
    assert.are.equal("missing n=1 (0.0 s): no result: shard 1 of 2 left no results", lines[1])
    assert.matches("^pass    n=2 %(", lines[2])
    assert.are.equal("missing n=7 (0.0 s): no result: shard 1 of 2 left no results", lines[7])
    assert.matches("^par: 7 cells: 1 passed, 1 failed, 1 skipped, 4 missing %(%d+%.%d s, 1 of 2 shards: "
      .. "runs/shard%-2%-of%-2%)$", lines[8])
    local xml = H.slurp(S.dir .. "/all.xml")
    assert.are.equal(0, (H.sh("xmllint --noout " .. q(S.dir .. "/all.xml"))))
    assert.is_truthy(xml:find('<testsuite name="par" tests="7" failures="1" errors="4" skipped="1"', 1, true))
    assert.is_truthy(xml:find('<testcase classname="par" name="n=3" time="0.000"><error message="no result: '
      .. 'shard 1 of 2 left no results" type="missing">', 1, true))
    -- the same with --tap
    code, out = qlua(S, {}, "--merge", "runs/shard-2-of-2", "--tap")
    assert.are.equal(1, code)
    assert.is_truthy(out:find("\nnot ok 5 - n=5 # missing\n  ---\n  outcome: missing\n  message: \"no result: "
      .. "shard 1 of 2 left no results\"\n", 1, true), out)
  end)

  it("--html: one page of the whole matrix, missing cells included, the logs read from each shard", function()
    local S = scope(finally)
    two_shards(S)
    os.execute("rm -rf " .. q(S.dir .. "/runs/shard-1-of-2"))
    local code, _, err = qlua(S, {}, "--merge", "runs", "--html", "all.html")
    assert.are.equal(1, code)
    assert.are.equal("", err)
    local page = H.slurp(S.dir .. "/all.html")
    -- every cell of the whole matrix is on the page, four of them missing
    for n = 1, 7 do assert.is_truthy(page:find("n=" .. n, 1, true), "n=" .. n) end
    assert.is_truthy(page:find("no result: shard 1 of 2 left no results", 1, true))
    assert.is_nil(page:find("https?://[%w.]+/"))   -- self-contained
  end)

  it("qemu.matrix.merge from Lua: the same report, its exit status returned", function()
    local S = scope(finally)
    two_shards(S)
    local code, out, err = qlua(S, {}, "-e", [[
local matrix = require "qemu.matrix"
local status = matrix.merge({ "runs" }, { junit = "lua.xml" })
io.stderr:write("status ", status, "\n")
]])
    assert.are.equal(0, code, err)
    assert.are.equal("status 1\n", err)  -- n=4 failed
    assert.matches("\npar: 7 cells: 5 passed, 1 failed, 1 skipped ", out)
    assert.is_truthy(H.slurp(S.dir .. "/lua.xml"):find('<testsuite name="par" tests="7" failures="1"', 1, true))
  end)

  it("every cell passed or skipped, in every shard: exit 0", function()
    local S = scope(finally)
    H.write(S.dir .. "/m.lua", BODY)
    for i = 1, 2 do
      local code = qlua(S, {}, "m.lua", "--only", "n=1", "--only", "n=6", "--shard", i .. "/2", "--out", "runs")
      assert.are.equal(0, code)
    end
    local code, out, err = qlua(S, {}, "--merge", "runs/shard-1-of-2", "runs/shard-2-of-2")
    assert.are.equal(0, code, out .. err)
    assert.matches("\npar: 2 cells: 1 passed, 1 skipped ", out)
  end)

  it("a shard killed while a cell ran (SIGTERM, as scancel sends): that cell and the shard's later ones are missing", function()
    local S = scope(finally)
    H.write(S.dir .. "/m.lua", BODY)
    -- shard 1 of 2 runs n=1, n=3, n=5, n=7 one at a time; n=5 waits
    local pidfile = S.dir .. "/pid"
    os.execute(("cd %s && (%s HANG=n=5 %s m.lua --shard 1/2 -j 1 --out runs >out1 2>&1 & echo $! > %s)")
      :format(q(S.dir), env(), H.qlua_cmd, q(pidfile)))
    local pid = assert(tonumber(H.slurp(pidfile)))
    local file = S.dir .. "/runs/shard-1-of-2/results.json"
    local deadline = os.time() + 60
    while true do
      local r = H.slurp(file) and qemu.json_decode(H.slurp(file))
      if r and #r.results == 2 and io.open(S.dir .. "/runs/shard-1-of-2/n=5/argv") then break end
      assert(os.time() < deadline, "shard 1 did not reach n=5")
      os.execute("sleep 0.2")
    end
    os.execute("kill -TERM " .. pid)
    deadline = os.time() + 30
    while os.execute("kill -0 " .. pid .. " 2>/dev/null") do
      assert(os.time() < deadline, "qlua did not exit on SIGTERM")
      os.execute("sleep 0.2")
    end
    qlua(S, {}, "m.lua", "--shard", "2/2", "--out", "runs")
    local r = results(file)
    assert.is_false(r.complete)
    -- the signal stops qemu.poll, or (a moment earlier or later) the
    -- runner's own Lua code between two polls: either is an interruption
    assert.is_truthy(r.interrupted == "poll interrupted by signal 15" or r.interrupted == "interrupted by signal 15",
      r.interrupted)
    local code, out = qlua(S, {}, "--merge", "runs")
    assert.are.equal(1, code)
    local why = "no result: shard 1 of 2 ('runs/shard-1-of-2') was interrupted (" .. r.interrupted .. ") "
      .. "before this cell ended"
    assert.is_truthy(out:find("\nmissing n=5 (0.0 s): " .. why .. "\n", 1, true), out)
    assert.is_truthy(out:find("\nmissing n=7 (0.0 s): " .. why .. "\n", 1, true), out)
    assert.matches("\npar: 7 cells: 3 passed, 1 failed, 1 skipped, 2 missing ", out)
  end)

  it("a signal that comes while Lua code runs, not qemu.poll, still ends the run as interrupted, results written",
    function()
    local S = scope(finally)
    -- cell n=1 works in Lua for 3 s without yielding: the signal arms
    -- main.c's hook, which stops the runner's own code when the cell is
    -- done (once an error that left results.json without `interrupted`)
    H.write(S.dir .. "/m.lua", [[
local matrix = require "qemu.matrix"
return matrix {
  name = "busy",
  axes = { n = { 1, 2 } },
  vm = function(cell)
    return { machine = { type = "none" }, knobs = { no_defaults = true }, extra_args = { "-display", "none" } }
  end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    if cell.n == 1 then
      assert(io.open("busy", "w")):close()
      local t = os.clock() + 3
      while os.clock() < t do end
    end
  end,
}
]])
    local pidfile = S.dir .. "/pid"
    os.execute(("cd %s && (%s %s m.lua -j 1 --out runs >out 2>&1; echo $? >rc) & echo $! > %s")
      :format(q(S.dir), env(), H.qlua_cmd, q(pidfile)))
    local deadline = os.time() + 60
    while not io.open(S.dir .. "/busy") do
      assert(os.time() < deadline, "cell n=1 did not start:\n" .. (H.slurp(S.dir .. "/out") or ""))
      os.execute("sleep 0.1")
    end
    -- the subshell's child is qlua
    local _, children = H.sh("pgrep -P " .. assert(tonumber(H.slurp(pidfile))))
    local pid = assert(children:match("%d+"), "no qlua under the subshell")
    os.execute("kill -TERM " .. pid)
    while not H.slurp(S.dir .. "/rc") do
      assert(os.time() < deadline, "qlua did not exit on SIGTERM")
      os.execute("sleep 0.2")
    end
    assert.are.equal("143\n", H.slurp(S.dir .. "/rc"), H.slurp(S.dir .. "/out"))
    local r = results(S.dir .. "/runs/results.json")
    assert.is_false(r.complete)
    assert.are.equal("interrupted by signal 15", r.interrupted)
    local code, out = qlua(S, {}, "--merge", "runs")
    assert.are.equal(1, code)
    local why = "no result: shard 1 of 1 ('runs') was interrupted (interrupted by signal 15) before this cell ended"
    assert.are.equal("missing n=1 (0.0 s): " .. why .. "\nmissing n=2 (0.0 s): " .. why .. "\n",
      out:match("^(.-)busy: "))
    assert.matches("\nbusy: 2 cells: 2 missing ", out)
  end)

  it("refuses results that do not make one matrix: exit 2, the exact reason, nothing written", function()
    local S = scope(finally)
    two_shards(S)
    -- the same shard given twice, directly and through its run directory
    local code, out, err = qlua(S, {}, "--merge", "runs", "runs/shard-1-of-2", "--junit", "x.xml")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: --merge: cell 'n=1' of matrix 'par' is in two shards: 'runs/shard-1-of-2' and "
      .. "'runs/shard-1-of-2'\n", err)
    -- the same cells run again as another shard series
    qlua(S, {}, "m.lua", "--shard", "1/3", "--out", "other")
    code, out, err = qlua(S, {}, "--merge", "runs", "other")
    assert.are.equal(2, code)
    assert.are.equal("qlua: --merge: 'runs/shard-1-of-2' is shard 1 of 2 and 'other/shard-1-of-3' shard 1 of 3: "
      .. "shards of different counts\n", err)
    -- a cell in two shards of one series (a shard that ran twice, in two places)
    os.execute(("cd %s && mkdir -p again && cp -r runs/shard-2-of-2 again/"):format(q(S.dir)))
    code, out, err = qlua(S, {}, "--merge", "runs", "again")
    assert.are.equal(2, code)
    assert.are.equal("qlua: --merge: cell 'n=2' of matrix 'par' is in two shards: 'runs/shard-2-of-2' and "
      .. "'again/shard-2-of-2'\n", err)
    -- another --only
    qlua(S, {}, "m.lua", "--only", "n=1", "--shard", "2/2", "--out", "only")
    code, out, err = qlua(S, {}, "--merge", "runs/shard-1-of-2", "only")
    assert.are.equal(2, code)
    assert.are.equal("qlua: --merge: 'runs/shard-1-of-2' and 'only/shard-2-of-2' ran different cells of matrix "
      .. "'par' (another --only, or a changed matrix)\n", err)
    -- another matrix
    H.write(S.dir .. "/o.lua", (BODY:gsub('name = "par"', 'name = "other"')))
    qlua(S, {}, "o.lua", "--shard", "2/2", "--out", "om")
    code, out, err = qlua(S, {}, "--merge", "runs/shard-1-of-2", "om")
    assert.are.equal(2, code)
    assert.are.equal("qlua: --merge: 'runs/shard-1-of-2' holds matrix 'par' and 'om/shard-2-of-2' matrix "
      .. "'other'\n", err)
    assert.is_nil(io.open(S.dir .. "/x.xml"))
  end)

  it("wrong arguments: exit 2 and a message", function()
    local S = scope(finally)
    os.execute("mkdir -p " .. q(S.dir .. "/empty") .. " " .. q(S.dir .. "/bad"))
    H.write(S.dir .. "/bad/results.json", '{"format": "something else"}')
    local cases = {
      { {}, "qlua: --merge: no directory given (qlua --merge DIR... [--junit FILE] [--tap] [--html FILE])" },
      { { "empty" }, "qlua: --merge: 'empty' holds no matrix results (no results.json, no shard-I-of-N directory)" },
      { { "bad" }, "qlua: --merge: 'bad/results.json' is not a qlua matrix results file" },
      { { "empty", "--junit" }, "qlua: option '--junit' needs an argument (FILE)" },
      { { "empty", "--bogus" }, "qlua: unknown merge option '--bogus' (qlua --merge DIR... takes --junit, --tap, --html)" },
      -- the second would replace the first without a word
      { { "empty", "--junit", "a.xml", "--junit", "b.xml" }, "qlua: option '--junit' can be given once (one FILE)" },
      { { "empty", "--html", "a.html", "--tap", "--html", "b.html" }, "qlua: option '--html' can be given once (one FILE)" },
    }
    for _, c in ipairs(cases) do
      local code, out, err = qlua(S, {}, "--merge", table.unpack(c[1]))
      assert.are.equal(2, code, err)
      assert.are.equal("", out)
      assert.are.equal(c[2] .. "\n", err)
    end
  end)
end)

describe("results.json of a real guest #guest", function()
  it("has the boot marker: the first console text the test waited for, and when it came", function()
    local S = scope(finally)
    H.write(S.dir .. "/g.lua", ([[
local matrix = require "qemu.matrix"
return matrix {
  name = "boot",
  axes = { machine = { "q35" } },
  timeout = 120,
  vm = function(cell)
    return { machine = { type = cell.machine, accel = "tcg" }, memory = { size = "256M" },
             kernel = { path = %q, initrd = %q, params = "console=ttyS0 quiet panic=-1 no_timer_check" },
             knobs = { no_defaults = true, no_reboot = true }, extra_args = { "-display", "none" } }
  end,
  test = function(vm, cell)
    assert(vm.console:expect("QLUA-GUEST-READY", 90, { plain = true }))
    assert(vm.console:expect("QLUA-GUEST-DONE", 60, { plain = true }))
  end,
}
]]):format(G.kernel, G.initrd))
    local code, out, err = qlua(S, {}, "g.lua", "--out", "runs")
    assert.are.equal(0, code, out .. err)
    local r = results(S.dir .. "/runs/results.json")
    assert.is_nil(r.shard)  -- not sharded: RUN_DIR itself
    local res = r.results[1]
    assert.are.equal("pass", res.outcome)
    assert.are.equal("'QLUA-GUEST-READY' (plain text)", res.marker.what)
    assert.is_true(res.start < res.marker.at and res.marker.at <= res.ended)
    assert.is_truthy(H.slurp(S.dir .. "/runs/" .. res.console):find("QLUA-GUEST-READY", 1, true))
  end)
end)
