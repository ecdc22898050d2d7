-- spec/cluster_spec.lua - a matrix on a real Slurm cluster: a
-- one-node cluster on this machine, started by the spec itself
-- (scripts/slurm-local.sh: its own slurm.conf, munge key and socket, ports,
-- state and pid files in a temporary directory), the README's sbatch script
-- as printed there, run with `sbatch --array=0-3 --wait` over a matrix of
-- QEMU -machine none cells with --shard auto, then `qlua --merge`: the
-- union of the shards is the whole matrix, no cell twice; a task cancelled
-- with scancel while a cell runs leaves that cell missing.  At the end the
-- cluster is stopped by its pid files and nothing of it runs.
--
-- Needs Debian's slurm-wlm and munge (sh scripts/deps.sh cluster) and root
-- (slurmd; pending otherwise).  About 25 s here: part of `make check`;
-- tagged #cluster, and `make check-cluster` runs it alone.
local H = require "helper"
local qemu = require "qemu"

local q = H.q
local root = H.root

local function sleep(s) os.execute("sleep " .. s) end

-- The README's code block that holds "#SBATCH", and whether the README
-- has the line `text` as printed.
local README = assert(H.slurp(root .. "/README.md"))
local function sbatch_script()
  for block in README:gmatch("```sh\n(.-)```") do
    if block:find("\n#SBATCH ", 1, true) then return block end
  end
  error("README.md has no sbatch script")
end
local SUBMIT = "sbatch --array=0-3 --wait boot.sbatch"
local MERGE = "./qlua --merge runs --junit boot.xml"

-- boot.lua: 8 cells of QEMU -machine none; with HANG=NAME in the
-- environment (sbatch passes the submitter's on), that cell waits for its
-- QEMU until the task is cancelled.
local BOOT = [[
local matrix = require "qemu.matrix"
return matrix {
  name = "boot",
  axes = { n = { 1, 2, 3, 4, 5, 6, 7, 8 } },
  timeout = 200,
  vm = function(cell)
    return { machine = { type = "none" }, knobs = { no_defaults = true }, extra_args = { "-display", "none" } }
  end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    if os.getenv("HANG") == cell.name then vm:wait(180) end
  end,
}
]]

local function is_root()
  local p = io.popen("id -u")
  local u = p:read("l")
  p:close()
  return u == "0"
end

-- the pids in DIR's daemons' pid files, read at start
local function daemon_pids(dir)
  local pids = {}
  for _, f in ipairs({ "munged", "slurmctld", "slurmd" }) do
    pids[#pids + 1] = tonumber(H.slurp(dir .. "/" .. f .. ".pid") or "")
  end
  return pids
end

local function alive(pid)
  local stat = H.slurp("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end

describe("a matrix on a one-node Slurm cluster #cluster", function()
  if not is_root() then
    pending("needs root: slurmd runs the jobs as their user")
    return
  end
  local C, W, pids   -- the cluster's directory, the submit directory, the daemons

  local function slurm(cmd)
    return H.sh(("cd %s && SLURM_CONF=%s %s"):format(q(W), q(C .. "/slurm.conf"), cmd))
  end

  lazy_setup(function()
    C = assert(io.popen("mktemp -d /tmp/qlua-slurm.XXXXXX")):read("l")
    W = assert(io.popen("mktemp -d /tmp/qlua-slurm-work.XXXXXX")):read("l")
    local code, out, err = H.sh(q(root .. "/scripts/slurm-local.sh") .. " start " .. q(C))
    assert(code == 0, "the cluster did not start:\n" .. out .. err)
    pids = daemon_pids(C)
    -- the submit directory: qlua, boot.lua and the README's script
    os.execute(("ln -s %s %s/qlua"):format(q(H.qlua_bin), q(W)))
    H.write(W .. "/boot.lua", BOOT)
    H.write(W .. "/boot.sbatch", sbatch_script())
  end)

  lazy_teardown(function()
    if C then os.execute(q(root .. "/scripts/slurm-local.sh") .. " stop " .. q(C)) end
    os.execute("rm -rf " .. q(C or "/nonexistent") .. " " .. q(W or "/nonexistent"))
  end)

  it("the README's sbatch script, `" .. SUBMIT .. "`, then `" .. MERGE .. "`: every cell once", function()
    assert.is_truthy(README:find("\n" .. SUBMIT .. "\n", 1, true))
    assert.is_truthy(README:find("\n" .. MERGE .. "\n", 1, true))
    local code, out, err = slurm("timeout -k 5 300 " .. SUBMIT)
    assert.are.equal(0, code, out .. err)
    assert.matches("^Submitted batch job %d+\n$", out)
    -- each task ran its own shard: shard-1-of-4 .. shard-4-of-4, from the array's task ids 0..3
    local seen, job = {}, nil
    for i = 1, 4 do
      local r = assert(qemu.json_decode(assert(H.slurp(("%s/runs/shard-%d-of-4/results.json"):format(W, i)))))
      assert.are.equal("slurm", r.shard.engine)
      assert.are.equal(i, r.shard.index)
      job = job or r.shard.job
      assert.are.equal(job, r.shard.job)
      assert.is_true(r.complete)
      assert.are.equal(2, #r.results)
      for _, res in ipairs(r.results) do
        assert.is_nil(seen[res.name], res.name .. " ran twice")
        seen[res.name] = i
        assert.are.equal("pass", res.outcome)
      end
    end
    assert.are.equal(job, out:match("(%d+)"))
    for n = 1, 8 do assert.are.equal((n - 1) % 4 + 1, seen["n=" .. n], "n=" .. n) end
    -- the merge: the whole matrix, every cell passed, exit 0
    code, out, err = H.sh(("cd %s && %s"):format(q(W), MERGE))
    assert.are.equal(0, code, out .. err)
    assert.are.equal("", err)
    assert.matches("\nboot: 8 cells: 8 passed %(%d+%.%d s, 4 of 4 shards: runs/shard%-1%-of%-4, runs/shard%-2%-of%-4, "
      .. "runs/shard%-3%-of%-4, runs/shard%-4%-of%-4%)\n$", out)
    local xml = assert(H.slurp(W .. "/boot.xml"))
    assert.is_truthy(xml:find('<testsuite name="boot" tests="8" failures="0" errors="0" skipped="0"', 1, true))
    local cases = 0
    for _ in xml:gmatch("<testcase ") do cases = cases + 1 end
    assert.are.equal(8, cases)
  end)

  it("a task cancelled with scancel while a cell runs: that cell is missing from the merge, exit 1", function()
    os.execute("rm -rf " .. q(W .. "/runs"))
    -- n=5 is shard 1's second cell (task 0): it waits until cancelled
    os.execute(("cd %s && (HANG=n=5 SLURM_CONF=%s timeout -k 5 300 %s >submit.out 2>&1; echo $? >submit.rc) &")
      :format(q(W), q(C .. "/slurm.conf"), SUBMIT))
    local deadline = os.time() + 120
    while not io.open(W .. "/runs/shard-1-of-4/n=5/argv") do
      assert(os.time() < deadline, "task 0 did not reach n=5")
      sleep(0.2)
    end
    local _, jobs = slurm("squeue -h -o %F")
    local job = assert(jobs:match("(%d+)"), jobs)
    local code, out, err = slurm("scancel " .. job .. "_0")
    assert.are.equal(0, code, out .. err)
    while not H.slurp(W .. "/submit.rc") do
      assert(os.time() < deadline + 120, "sbatch --wait did not return")
      sleep(0.2)
    end
    assert.are_not.equal("0\n", H.slurp(W .. "/submit.rc"))  -- a task failed
    code, out, err = H.sh(("cd %s && %s"):format(q(W), MERGE))
    assert.are.equal(1, code, out .. err)
    assert.are.equal("", err)
    -- (qemu.poll's message, or the runner's own when the signal came between two polls)
    local interrupted = qemu.json_decode(H.slurp(W .. "/runs/shard-1-of-4/results.json")).interrupted
    assert.is_truthy(interrupted == "poll interrupted by signal 15" or interrupted == "interrupted by signal 15",
      interrupted)
    assert.is_truthy(out:find("\nmissing n=5 (0.0 s): no result: shard 1 of 4 ('runs/shard-1-of-4') was interrupted ("
      .. interrupted .. ") before this cell ended\n", 1, true), out)
    assert.matches("\nboot: 8 cells: 7 passed, 1 missing ", out)
    for n = 1, 8 do
      if n ~= 5 then assert.matches("\npass    n=" .. n .. " %(", "\n" .. out) end
    end
    local xml = assert(H.slurp(W .. "/boot.xml"))
    assert.is_truthy(xml:find('name="n=5" time="0.000"><error message="no result: shard 1 of 4', 1, true))
  end)

  it("stopped by its pid files, nothing of the cluster or its jobs runs", function()
    local code, out, err = H.sh(q(root .. "/scripts/slurm-local.sh") .. " stop " .. q(C))
    assert.are.equal(0, code, out .. err)
    for _, pid in ipairs(pids) do assert.is_false(alive(pid), "pid " .. pid .. " still runs") end
    -- no process of the jobs (qlua, QEMU of the cancelled cell) left: none
    -- has the submit directory as its working directory
    local _, left = H.sh(("for p in /proc/[0-9]*; do [ \"$(readlink $p/cwd 2>/dev/null)\" = %s ] && "
      .. "echo \"${p#/proc/} $(tr '\\0' ' ' <$p/cmdline 2>/dev/null)\"; done; true"):format(q(W)))
    assert.are.equal("", left)
  end)
end)
