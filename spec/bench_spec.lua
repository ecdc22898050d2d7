-- spec/bench_spec.lua - `make bench` (bench/run.lua, through `make -C bench
-- run` as the top Makefile's bench target runs it) in its quick mode: every
-- benchmark of bench/ runs and the results table comes out, on stdout and in
-- $BENCH_OUT.  Only the table's shape is checked, never a figure: the
-- machines are shared and noisy, and quick mode's counts are too small to
-- mean anything.
local H = require "helper"

local q = H.q

-- The table's rows, in order: a pattern of each one's first cell, and what
-- the row may show instead of figures: "skip" for govmm's rows, which say
-- "not measured" where Go or govmm's source is not installed (bench/govmm.sh),
-- or valgrind for the floor's instructions;
-- "delta" for the memory per VM, a difference of two peaks that the noise
-- of small counts (quick mode) can make negative, then with no ratio.
local ROWS = {
  { "^argv of the typical configuration, built in one process" },
  { "^argv of the typical configuration next to the Lua%-API floor" },
  { "^argv of the typical configuration: CPU time per build", "skip" },
  { "^argv of the typical configuration: instructions per build %(callgrind", "skip" },
  { "^argv of the typical configuration: instructions per build next to the Lua%-API floor", "skip" },
  { "^`qlua %-n bench/dry_run%.lua`, whole process" },
  { "^one VM launched" },
  { "^%d+ VMs from one process: launch, query, quit" },
  { "^%d+ VMs from one process: peak RSS" },
  { "^launcher memory per supervised VM at %d+ VMs: %(peak RSS", "delta" },
  { "^launcher memory per supervised VM at %d+ VMs %(the same%)", "delta" },
  { "^%d+ VMs from one qlua: launcher memory per supervised VM", "delta" },
  { "^matrix of %d+ cells" },
  { "^test guest booted to \"agent answers\"" },
  { "^guest agent: `vm%.agent:exec" },
}

-- The cells of a Markdown table line "| a | b |".
local function cells(line)
  local t = {}
  for c in line:sub(2, -2):gmatch("[^|]+") do t[#t + 1] = c:match("^%s*(.-)%s*$") end
  return t
end

describe("make bench (BENCH_QUICK=1)", function()
  local code, out, err, file

  lazy_setup(function()
    local d = H.tmpdir()
    -- The plain ./qlua, whatever qlua the suite itself tests (a sanitized
    -- or valgrind-wrapped one would measure nothing useful); without what a
    -- `make check` above us exported, and without the Debian image's row
    -- (BENCH_DISTRO: minutes of booting).
    code, out, err = H.sh("cd " .. q(H.root) .. " && env -u QLUA -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BENCH_DISTRO"
      .. " BENCH_QUICK=1 BENCH_OUT=" .. q(d .. "/results.md")
      .. " timeout -k 10 600 make -s --no-print-directory -C bench run")
    file = H.slurp(d .. "/results.md")
  end)

  it("runs every benchmark and writes the table it prints", function()
    assert.are.equal(0, code, err)
    assert.is_truthy(file, "no results file")
    assert.is_truthy(out:find(file, 1, true), "stdout does not hold the results file:\n" .. out)
    assert.is_truthy(file:find("BENCH_QUICK=1", 1, true), "quick mode does not say so")
  end)

  it("has a machine line: date, CPU, nproc, kernel, QEMU version, qlua revision", function()
    local m = (file or ""):match("\nMachine: ([^\n]+)")
    assert.is_truthy(m, "no machine line")
    assert.is_truthy(m:match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d UTC, [^,]+,"), m)
    assert.is_truthy(m:match(", nproc %d+,"), m)
    assert.is_truthy(m:match(", Linux %S+,"), m)
    assert.is_truthy(m:match(", QEMU %d+%.%d+"), m)
    assert.is_truthy(m:match(", qlua %x+"), m)
  end)

  it("has one row per benchmark, each with two figures and a numeric ratio", function()
    local lines = {}
    for line in (file or ""):gmatch("[^\n]+") do
      if line:match("^|") then lines[#lines + 1] = line end
    end
    assert.are.same({ "benchmark", "qlua", "baseline", "baseline's figure", "ratio", "goal" }, cells(lines[1] or "|"))
    assert.are.equal("|---|---|---|---|---|---|", lines[2])
    assert.are.equal(#ROWS + 2, #lines, "rows:\n" .. table.concat(lines, "\n"))
    for i, r in ipairs(ROWS) do
      local pattern, may = r[1], r[2]
      local row = cells(lines[i + 2])
      assert.are.equal(6, #row, lines[i + 2])
      assert.is_truthy(row[1]:match(pattern), row[1])
      local figure = may == "delta" and "^%-?%d+%.%d+ %S+$" or "^%d+%.%d+ %S+$"
      if may == "skip" and row[4] == "not measured" then
        assert.are.equal("-", row[5], lines[i + 2])
        assert.is_truthy(file:find("not measured (", 1, true), "no note says why")
      else
        assert.is_truthy(row[2]:match(figure), row[2])
        assert.is_truthy(row[4]:match(figure), row[4])
        local ratio = tonumber(row[5])
        if may == "delta" and row[5] == "-" then
          assert.is_truthy(tonumber(row[2]:match("^%S+")) <= 0 or tonumber(row[4]:match("^%S+")) <= 0, lines[i + 2])
        else
          assert.is_truthy(ratio and ratio > 0 and ratio < math.huge, row[5])
        end
      end
    end
  end)
end)

describe("bench/page_cost", function()
  it("prints what a fresh page costs, touched and populated", function()
    local code, out, err = H.sh("cd " .. q(H.root) .. " && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL"
      .. " make -s --no-print-directory -C bench page_cost && timeout 60 bench/page_cost 8 3")
    assert.are.equal(0, code, err)
    assert.is_truthy(out:match("^touched %(a fault each%) +%d+%.%d+ us per page best, +%d+%.%d+ median %(8 pages, 3 rounds%)\n"), out)
    -- a kernel before 5.14 says it has no MADV_POPULATE_WRITE instead
    assert.is_truthy(out:match("\npopulated %(one madvise%) +%d+%.%d+ us per page best")
      or out:match("\npopulated %(one madvise%) +not supported by this kernel\n$"), out)
  end)
end)
