-- bench/run.lua - every benchmark of bench/, then one table of the results:
-- what `make bench` runs (as `make -C bench run`), from the top of the tree:
--   lua5.4 bench/run.lua
-- The table (Markdown) goes to stdout and to $BENCH_OUT (default
-- build/bench-results.md); the scripts' own output goes to stderr as they run.
--   BENCH_QUICK=1  small counts: seconds instead of minutes, to check that
--                  everything runs (spec/bench_spec.lua); its figures mean little
--   QLUA=path      another qlua binary (the scripts take it from the environment)
--   BENCH_DISTRO=1 also boots the Debian image to "agent answers" (bench/agent.sh;
--                  `make distro-image` first; minutes): its row is left out otherwise
--
-- Each script prints, among its own output, lines
--   bench-result ROW qlua=X base=Y unit=U [KEY=VALUE...]
-- X being qlua's figure and Y its baseline's, measured in the same run: the
-- machines are shared and noisy, so the table's figure of merit is X / Y.

local quick = os.getenv("BENCH_QUICK")
quick = quick ~= nil and quick ~= "" and quick ~= "0"
local out_path = os.getenv("BENCH_OUT") or "build/bench-results.md"

-- The full counts are those of bench/README.md's figures.
local scripts = quick
  and { "bench/argv.sh 10 500", "bench/govmm.sh 500 2", "bench/launch.sh 5", "bench/many.sh 1 4",
        "bench/vm_mem.sh 1 4 8 16", "CELLS=4 bench/matrix.sh 2", "bench/agent.sh 1 10" }
  or { "bench/argv.sh 200 20000", "bench/govmm.sh 20000 5", "bench/launch.sh 200", "bench/many.sh 15 32",
       "bench/vm_mem.sh 2 32 128 256", "bench/matrix.sh 20", "bench/agent.sh 15 50" }

-- One table row per ROW, in this order: what is measured, its baseline, the
-- goal.  {KEY} is replaced by the result line's KEY.
local rows = {
  { "argv", "argv of the typical configuration, built in one process (best of 5 rounds of {n})",
    "the same Lua tables alone", "<= 8 us" },
  { "argv_floor", "argv of the typical configuration next to the Lua-API floor (the same)",
    "`bench/api_floor.c`: the same tables read through Lua's C API, the same words pushed, nothing checked", "-" },
  { "govmm", "argv of the typical configuration: CPU time per build (best of {rounds} rounds of {n})",
    "govmm's builder, Go `testing.B` (`bench/govmm/typical_test.go`)", "ratio <= 0.35" },
  { "govmm_ir", "argv of the typical configuration: instructions per build (callgrind, {n} builds)",
    "govmm's builder (the same test binary)", "-" },
  { "argv_floor_ir", "argv of the typical configuration: instructions per build next to the Lua-API floor (the same)",
    "`bench/api_floor.c` (the same)", "-" },
  { "process", "`qlua -n bench/dry_run.lua`, whole process (median of {runs})",
    "`lua5.4 -e ''`", "ratio <= 1.1" },
  { "launch", "one VM launched, queried and quit: `qlua bench/launch.lua` (median of {runs})",
    "`bench/launch_floor` (C)", "ratio <= 1.03" },
  { "many_time", "{n} VMs from one process: launch, query, quit all (median of {runs})",
    "`launch_floor -c {n}`", "-" },
  { "many_rss", "{n} VMs from one process: peak RSS of the launcher (largest of {runs})",
    "`lua5.4 -e ''` (median)", "<= 8 MiB" },
  { "vm_mem1", "launcher memory per supervised VM at {n} VMs: (peak RSS - `bench/many.lua 0`'s) / {n} (largest of {runs})",
    "`launch_floor -c {n}`: (peak RSS - at 2 VMs) / ({n} - 2)", "<= 8 KiB/VM" },
  { "vm_mem2", "launcher memory per supervised VM at {n} VMs (the same)",
    "`launch_floor -c {n}` (the same)", "<= 8 KiB/VM" },
  { "vm_mem3", "{n} VMs from one qlua: launcher memory per supervised VM (the same)",
    "`launch_floor -c {n}` (the same)", "<= 8 KiB/VM" },
  { "matrix", "matrix of {cells} cells at -j 2: cells/s (of the median of {rounds})",
    "GNU parallel -j 2 + `launch_floor`", "ratio >= 0.9" },
  { "boot_agent", "test guest booted to \"agent answers\": `qlua bench/agent.lua boot`, whole process (median of {runs})",
    "the same QEMU argv by hand, bare QGA ping (`bench/qga_floor.py`)", "ratio <= 1.02" },
  { "boot_agent_distro", "Debian image booted to \"agent answers\" (SeaBIOS), whole process (median of {runs})",
    "the same QEMU argv by hand, bare QGA ping (`bench/qga_floor.py`)", "ratio <= 1.02", optional = "BENCH_DISTRO" },
  { "agent", "guest agent: `vm.agent:exec({ \"true\" })` round trip (median of {runs})",
    "`vm.agent:ping()` round trip (the same boot)", "- (median reported)" },
}

local function sh(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local s = p and p:read("a") or ""
  if p then p:close() end
  return (s:gsub("%s+$", ""))
end

local function loadavg()
  return sh("cat /proc/loadavg"):match("^%S+") or "?"
end

local function fmt(v, unit)
  if unit == "us" or unit == "ms" then
    local s = v / (unit == "ms" and 1e3 or 1e6)
    if s < 1e-3 then return ("%.1f us"):format(s * 1e6) end
    if s < 1 then return ("%.2f ms"):format(s * 1e3) end
    return ("%.2f s"):format(s)
  elseif unit == "Ir" then
    return ("%.1f k%s"):format(v / 1e3, unit)
  elseif unit == "KiB" then
    return ("%.2f MiB"):format(v / 1024)
  end
  return ("%.1f %s"):format(v, unit)
end

local load0, t0, date = loadavg(), os.time(), os.date("!%Y-%m-%d %H:%M UTC")
local results = {}
for _, cmd in ipairs(scripts) do
  io.stderr:write("== ", cmd, "\n")
  local p = assert(io.popen(cmd .. " 2>&1"))
  for line in p:lines() do
    io.stderr:write(line, "\n")
    local row, rest = line:match("^bench%-result (%S+)(.*)")
    if row then
      local r = {}
      for k, v in rest:gmatch("(%w+)=(%S+)") do r[k] = v end
      results[row] = r
    end
  end
  if not p:close() then
    io.stderr:write("bench/run.lua: '", cmd, "' failed\n")
    os.exit(1)
  end
end

local qemu_bin = os.getenv("QLUA_QEMU") or "qemu-system-x86_64"
local machine = table.concat({
  date,
  sh("grep -m1 '^model name' /proc/cpuinfo"):match(":%s*(.*)") or "CPU unknown",
  "nproc " .. sh("nproc"),
  sh("uname -sr"),
  "QEMU " .. (sh(qemu_bin .. " --version"):match("version (%C+)") or "?"),
  "qlua " .. (sh("git describe --always --dirty"):match("%S+") or "?")
    .. (os.getenv("QLUA") and " (QLUA=" .. os.getenv("QLUA") .. ")" or ""),
  sh("lua5.4 -v"):match("Lua %S+") or "lua5.4 ?",
  "GNU parallel " .. (sh("parallel --version"):match("GNU parallel (%S+)") or "?"),
  ("load average %s at the start, %s at the end"):format(load0, loadavg()),
}, ", ")

local lines = {
  "## qlua benchmarks (`make bench`" .. (quick and ", BENCH_QUICK=1: small counts, the figures mean little" or "") .. ")",
  "",
  "Machine: " .. machine,
  "",
  "| benchmark | qlua | baseline | baseline's figure | ratio | goal |",
  "|---|---|---|---|---|---|",
}
local notes = {}
for _, row in ipairs(rows) do
  local name, what, base, goal = table.unpack(row)
  local r = results[name]
  local q, b = tonumber(r and r.qlua), tonumber(r and r.base)
  local env = row.optional and os.getenv(row.optional)
  if not r and row.optional and (env == nil or env == "" or env == "0") then
    -- a row asked for by an environment variable (the Debian image's boot)
  elseif r and r.skipped then
    -- a baseline that is not installed here (govmm): said, not guessed
    lines[#lines + 1] = ("| %s | %s | %s | not measured | - | %s |"):format((what:gsub("{(%w+)}", r)),
      q and fmt(q, r.unit) or "-", (base:gsub("{(%w+)}", r)), goal)
    notes[#notes + 1] = ("%s: not measured (%s)"):format((base:gsub("{(%w+)}", r)),
      ((r.why or "not installed"):gsub("_", " ")))
  elseif not (q and b and r.unit) then
    io.stderr:write("bench/run.lua: no result for ", name, "\n")
    os.exit(1)
  else
    lines[#lines + 1] = ("| %s | %s | %s | %s | %s | %s |"):format((what:gsub("{(%w+)}", r)), fmt(q, r.unit),
      (base:gsub("{(%w+)}", r)), fmt(b, r.unit), (q > 0 and b > 0) and ("%.3f"):format(q / b) or "-", goal)
  end
end
lines[#lines + 1] = ""
for _, note in ipairs(notes) do lines[#lines + 1] = note .. "." end
if #notes > 0 then lines[#lines + 1] = "" end
lines[#lines + 1] = ("Ratio: qlua's figure over its baseline's, both measured in this run (the machine may be "
  .. "shared and noisy: only ratios from one run mean anything); for times lower is better, for "
  .. "cells/s higher.  The run took %d s."):format(os.difftime(os.time(), t0))
local text = table.concat(lines, "\n") .. "\n"

io.write(text)
os.execute("mkdir -p '" .. ((out_path:match("^(.*)/") or "."):gsub("'", "'\\''")) .. "'")
local f = assert(io.open(out_path, "w"))
f:write(text)
f:close()
io.stderr:write("bench/run.lua: written to ", out_path, "\n")
