-- spec/lifetime_spec.lua - how long a VM lives (docs/contract.md §5, §7 and the
-- behaviour details): qlua stops every VM it launched when it is killed or
-- signalled (gracefully when it can: QMP quit), vm:shutdown escalates step
-- by step and says which step ended QEMU, a <close> handle shuts its VM
-- down, detach = true lets it live on, and launching many VMs leaks nothing.
-- The real QEMU runs with an empty machine (-machine none: no guest, no
-- ACPI); the stand-ins are spec/support/fake-qmp (speaks QMP, records what
-- it received) and spec/support/fake-qemu.
local H = require "helper"
local F = require "support.fake"
local qemu = H.qemu

local FAKE = H.root .. "/spec/support/fake-qmp"
local T = { timeout = 20 }

local now = F.now

local function cleanups() return F.cleanups(finally) end

local real_desc = F.real_desc

-- The stand-in fake-qmp with argv words, recording into a new directory.
-- Returns the description and the directory.
local function fake_desc(words)
  local rec = H.tmpdir()
  local args = { "--record", rec }
  for _, w in ipairs(words or {}) do args[#args + 1] = w end
  return { path = FAKE, name = "qlua-fake-qmp", extra_args = args }, rec
end

local await = F.wait_until

local pids_with = F.pids_with

-- A name no other process has.
local unique = H.unique

-- A qlua script that launches n real QEMUs named NAME-1..NAME-n, each with
-- a QMP socket DIR/mI.sock for an observer, checks each answers, writes
-- their pids to DIR/pids and DIR/ready, and then waits.
local MANY = [[
local dir, name, n, bin = arg[1], arg[2], tonumber(arg[3]), arg[4]
local vms = {}
for i = 1, n do
  vms[i] = qemu.launch({
    path = bin, name = name .. "-" .. i,
    machine = { type = "none" }, knobs = { no_defaults = true },
    extra_args = { "-display", "none" },
    qmp = { { path = dir .. "/m" .. i .. ".sock" } },
  })
end
local f = assert(io.open(dir .. "/pids", "w"))
for _, vm in ipairs(vms) do
  assert(vm.qmp:execute("query-status", nil, { timeout = 30 }))
  f:write(vm.pid, "\n")
end
f:close()
assert(io.open(dir .. "/ready", "w")):close()
vms[1]:wait(600)
error("the wait was not interrupted")
]]

-- Starts ./qlua running MANY with n QEMUs; returns the qlua handle, the
-- directory, the unique name, the QEMU pids and qlua's stderr path.
local function start_many(defer, n)
  local dir, name = H.tmpdir(), unique("qlua-lifetime")
  local q, _, err = F.spawn_qlua(H.script(MANY), { args = { dir, name, tostring(n), H.qemu_bin } })
  -- QEMU's argv has "-name guest=NAME-i"; qlua's own has NAME alone
  name = "guest=" .. name .. "-"
  defer(function()
    F.stop(q)
    for _, p in ipairs(pids_with(name)) do F.kill(p) end
  end)
  assert.is_truthy(F.await(dir, "ready", 60, q), "the QEMUs did not start: " .. tostring(H.slurp(err)))
  local pids = {}
  for _, l in ipairs(F.lines(dir, "pids")) do pids[#pids + 1] = tonumber(l) end
  assert.are.equal(n, #pids)
  assert.are.equal(n, #pids_with(name))
  return q, dir, name, pids, err
end

describe("qlua stops the VMs it launched", function()
  it("kill -9 of qlua running 8 QEMUs leaves no QEMU within 3 s", function()
    local defer = cleanups()
    local q, _, name, pids = start_many(defer, 8)
    assert.is_true(q:kill(9))
    assert.are.same({ signal = 9 }, q:wait(5))
    -- gone, each of them: a QEMU still tearing down shows an empty
    -- cmdline before it is a zombie, so the name alone would pass early
    local function alive()
      local left = pids_with(name)
      for _, p in ipairs(pids) do
        if not F.gone(p) then left[#left + 1] = p end
      end
      return left
    end
    assert.is_truthy(await(function() return #alive() == 0 end, 3),
      "QEMUs outlived qlua: " .. table.concat(alive(), " "))
  end)

  for _, s in ipairs({ { "TERM", 15 }, { "INT", 2 }, { "HUP", 1 } }) do
    it("SIG" .. s[1] .. " to qlua: every QEMU exits by QMP quit, and qlua exits " .. 128 + s[2], function()
      local defer = cleanups()
      local q, dir, name, pids, err = start_many(defer, 8)
      -- an observer on each QEMU's own socket sees why it shut down
      local obs = {}
      for i = 1, #pids do
        obs[i] = assert(qemu.qmp_connect(dir .. "/m" .. i .. ".sock", T))
        defer(function() obs[i]:close() end)
      end
      local t0 = now()
      assert.is_true(q:kill(s[2]))
      assert.are.same({ code = 128 + s[2] }, q:wait(20))
      local took = now() - t0
      assert.is_true(took < 10, ("qlua took %.2f s to stop 8 QEMUs"):format(took))
      for i = 1, #pids do
        local ev, e = obs[i]:wait_event("SHUTDOWN", { timeout = 5 })
        assert.is_truthy(ev, "QEMU " .. i .. ": " .. tostring(e))
        assert.are.equal("host-qmp-quit", ev.data.reason, "QEMU " .. i)
      end
      assert.is_truthy(await(function() return #pids_with(name) == 0 end, 3))
      for _, p in ipairs(pids) do assert.is_true(F.gone(p), "pid " .. p) end
      assert.matches("^qlua: .*interrupted by signal " .. s[2] .. "\n$", H.slurp(err))
    end)
  end

  it("a signal ends a QMP wait at once, and a QEMU that never answered QMP is stopped too", function()
    local defer = cleanups()
    local dir = H.tmpdir()
    local desc, rec = fake_desc({ "--mode", "no-greeting" })
    local script = H.script(([[
local vm = qemu.launch(%s)
assert(io.open(%q, "w")):close()
vm.qmp:execute("query-status", nil, { timeout = 600 })
]]):format(("{ path = %q, extra_args = { %q, %q, %q, %q } }"):format(desc.path, table.unpack(desc.extra_args)),
      dir .. "/ready"))
    local q, _, err = F.spawn_qlua(script)
    defer(function() F.stop(q); F.kill_dir(rec) end)
    assert.is_truthy(F.await(dir, "ready", 10, q))
    assert.is_truthy(F.await(rec, "pid", 10, q))
    local pid = tonumber(F.read(rec, "pid"))
    -- the signal goes once the script waits at line 3 (once, under load, it
    -- landed at line 2, between the file and the wait)
    assert.is_truthy(F.await_waiting(q), "qlua never waited at line 3")
    local t0 = now()
    assert.is_true(q:kill(15))
    assert.are.same({ code = 143 }, q:wait(30))
    local took = now() - t0
    assert.is_true(F.await_gone(pid, 3))
    -- no quit could be sent, so SIGTERM ended it: bounded, not prompt
    assert.is_true(took < 15, ("took %.2f s"):format(took))
    -- the error that ends the script says which wait, and where
    assert.matches("^qlua: [^\n]*vm%.lua:3: query%-status interrupted by signal 15\n$", H.slurp(err))
  end)

  it("at its end, qlua takes vm:shutdown's steps (no powerdown) within 15 s, even for a QEMU that ignores quit and SIGTERM", function()
    local defer = cleanups()
    local dir = H.tmpdir()
    local desc, rec = fake_desc({ "--quit", "ignore", "--term", "ignore" })
    local script = H.script(([[
local vm = qemu.launch(%s)
assert(vm.qmp:execute("query-status", nil, { timeout = 20 }))
assert(io.open(%q, "w")):close()
]]):format(("{ path = %q, extra_args = { %q, %q, %q, %q, %q, %q } }"):format(desc.path, table.unpack(desc.extra_args)),
      dir .. "/ready"))
    local q, _, err = F.spawn_qlua(script)
    defer(function() F.stop(q); F.kill_dir(rec) end)
    assert.is_truthy(F.await(dir, "ready", 20, q), tostring(H.slurp(err)))
    local t0 = now()
    local pid = tonumber(F.read(rec, "pid"))
    assert.are.same({ code = 0 }, q:wait(40))
    local took = now() - t0
    assert.is_true(F.gone(pid))
    assert.are.same({ "qmp_capabilities", "query-status", "quit" }, F.lines(rec, "commands"))
    assert.are.same({ "TERM" }, F.lines(rec, "signals"))
    -- quit and SIGTERM had their 5 s each, SIGKILL ended it (the margin: a loaded machine)
    assert.is_true(took >= 8 and took < 15 + 5, ("took %.2f s"):format(took))
  end)

  it("a detached VM survives both its handle and qlua's shutdown of the others", function()
    local defer = cleanups()
    local dir = H.tmpdir()
    local d1, rec1 = fake_desc()
    local d2, rec2 = fake_desc()
    local function lit(d)
      return ("{ path = %q, extra_args = { %q, %q } }"):format(d.path, d.extra_args[1], d.extra_args[2])
    end
    local script = H.script(([[
local kept = qemu.launch(%s)
do
  local vm = qemu.launch(%s, { detach = true })
  assert(vm.qmp:execute("query-status", nil, { timeout = 20 }))
end
collectgarbage(); collectgarbage()
assert(kept.qmp:execute("query-status", nil, { timeout = 20 }))
assert(io.open(%q, "w")):close()
kept:wait(600)
]]):format(lit(d1), lit(d2), dir .. "/ready"))
    local q = F.spawn_qlua(script)
    defer(function() F.stop(q); F.kill_dir(rec1); F.kill_dir(rec2) end)
    assert.is_truthy(F.await(dir, "ready", 10, q))
    assert.is_true(q:kill(15))
    assert.are.same({ code = 143 }, q:wait(20))
    -- the kept one got quit; the detached one only lost its channel
    assert.are.same({ "qmp_capabilities", "query-status", "quit" }, F.lines(rec1, "commands"))
    assert.is_true(F.await_gone(tonumber(F.read(rec1, "pid")), 3))
    local pid2 = tonumber(F.read(rec2, "pid"))
    F.sleep(0.2)
    assert.is_false(F.gone(pid2))
    assert.are.same({ "qmp_capabilities", "query-status", "EOF" }, F.lines(rec2, "commands"))
    F.kill(pid2)
    assert.is_true(F.await_gone(pid2, 3))
  end)
end)

describe("vm:shutdown", function()
  it("on the real QEMU without ACPI (-machine none) ends at 'quit', exit code 0", function()
    local defer = cleanups()
    local vm = qemu.launch(real_desc())
    defer(function() F.stop(vm) end)
    assert(vm.qmp:execute("query-status", nil, T))
    local t0 = now()
    local st, step = vm:shutdown({ timeout = 1 })
    local took = now() - t0
    assert.are.same({ code = 0 }, st)
    assert.are.equal("quit", step)
    -- the powerdown step waited its share (half of a timeout this short),
    -- then quit was prompt
    assert.is_true(took >= 0.4 and took < 6, ("took %.2f s"):format(took))
    assert.is_false(vm:alive())
  end)

  -- The timeout bounds the whole escalation: the guest gets what the later
  -- steps leave (each at most 5 s, a sixth of the timeout), not the whole
  -- timeout before them.
  it("bounds the whole escalation by its timeout when QEMU ignores powerdown, quit and SIGTERM", function()
    local defer = cleanups()
    local desc, rec = fake_desc({ "--quit", "ignore", "--term", "ignore" })
    local vm = qemu.launch(desc)
    defer(function() F.stop(vm) end)
    assert(vm.qmp:execute("query-status", nil, T))
    local pid = vm.pid
    local t0 = now()
    local st, step = vm:shutdown({ timeout = 12 })
    local took = now() - t0
    assert.are.same({ signal = 9 }, st)
    assert.are.equal("kill", step)
    assert.are.same({ "qmp_capabilities", "query-status", "system_powerdown", "quit" }, F.lines(rec, "commands"))
    assert.are.same({ "TERM" }, F.lines(rec, "signals"))
    -- every step had its turn: not all at once, and within the timeout
    -- (the margin: a loaded machine)
    assert.is_true(took >= 5 and took < 12 + 4, ("took %.2f s"):format(took))
    assert.is_false(vm:alive())
    assert.is_true(F.gone(pid))
  end)

  it("on the real QEMU without ACPI returns within its timeout, and QEMU is gone", function()
    local defer = cleanups()
    local vm = qemu.launch(real_desc())
    defer(function() F.stop(vm) end)
    assert(vm.qmp:execute("query-status", nil, T))
    local t0 = now()
    local st, step = vm:shutdown({ timeout = 8 })
    local took = now() - t0
    assert.are.same({ code = 0 }, st)
    assert.are.equal("quit", step)
    -- the guest had 4 s of the 8 (it never powers off: no ACPI), then quit
    assert.is_true(took >= 3.5 and took < 8 + 4, ("took %.2f s"):format(took))
    assert.is_false(vm:alive())
  end)

  it("ends at 'powerdown' when the guest powers off", function()
    local defer = cleanups()
    local desc, rec = fake_desc({ "--powerdown", "exit" })
    local vm = qemu.launch(desc)
    defer(function() F.stop(vm) end)
    local st, step = vm:shutdown({ timeout = 20 })
    assert.are.same({ code = 0 }, st)
    assert.are.equal("powerdown", step)
    assert.are.same({ "qmp_capabilities", "system_powerdown" }, F.lines(rec, "commands"))
  end)

  it("ends at 'term' when QEMU has no QMP channel and SIGTERM ends it", function()
    local defer = cleanups()
    local d = F.dir({ SLEEP = 30 })
    local vm = qemu.launch(F.vm(d), { qmp = false })
    defer(function() F.stop(vm); F.kill_dir(d) end)
    assert.is_truthy(F.await(d, "ready", 5, vm))
    F.sleep(0.1)   -- "ready" comes just before the exec of sleep
    local st, step = vm:shutdown({ timeout = 20 })
    assert.are.same({ signal = 15 }, st)
    assert.are.equal("term", step)
  end)

  it("ends at 'kill' when QEMU ignores powerdown, quit and SIGTERM", function()
    local defer = cleanups()
    local desc, rec = fake_desc({ "--quit", "ignore", "--term", "ignore" })
    local vm = qemu.launch(desc)
    defer(function() F.stop(vm) end)
    assert(vm.qmp:execute("query-status", nil, T))
    local t0 = now()
    local st, step = vm:shutdown({ timeout = 0.5 })
    local took = now() - t0
    assert.are.same({ signal = 9 }, st)
    assert.are.equal("kill", step)
    assert.are.same({ "qmp_capabilities", "query-status", "system_powerdown", "quit" }, F.lines(rec, "commands"))
    assert.are.same({ "TERM" }, F.lines(rec, "signals"))
    assert.is_true(took < 20, ("took %.2f s"):format(took))
  end)

  it("on a VM that already exited returns its status and 'exited'", function()
    local defer = cleanups()
    local desc = fake_desc({ "--mode", "die-early", "--code", "3" })
    local vm = qemu.launch(desc)
    defer(function() F.stop(vm) end)
    assert.are.same({ code = 3 }, vm:wait(10))
    local st, step = vm:shutdown({ timeout = 20 })
    assert.are.same({ code = 3 }, st)
    assert.are.equal("exited", step)
    -- asking again: the same
    st, step = vm:shutdown()
    assert.are.same({ code = 3 }, st)
    assert.are.equal("exited", step)
  end)
end)

describe("a <close> handle", function()
  it("shuts its VM down gracefully at scope exit, and on error too", function()
    local defer = cleanups()
    local before = F.child_set()
    local desc1, rec1 = fake_desc({ "--powerdown", "exit" })
    local desc2, rec2 = fake_desc({ "--powerdown", "exit" })
    defer(function() F.kill_dir(rec1); F.kill_dir(rec2) end)
    local keep
    do
      local vm <close> = qemu.launch(desc1)
      keep = vm
      assert(vm.qmp:execute("query-status", nil, T))
    end
    -- ended by the powerdown (the stand-in "guest" powers off): code 0
    assert.are.same({ code = 0 }, keep:wait(0))
    assert.are.same({ "qmp_capabilities", "query-status", "system_powerdown" }, F.lines(rec1, "commands"))
    local ok, msg = pcall(function()
      local vm <close> = qemu.launch(desc2)
      keep = vm
      assert(vm.qmp:execute("query-status", nil, T))
      error("the test failed")
    end)
    assert.is_false(ok)
    assert.matches("the test failed", msg)
    assert.are.same({ code = 0 }, keep:wait(0))
    assert.are.same({ "qmp_capabilities", "query-status", "system_powerdown" }, F.lines(rec2, "commands"))
    keep = nil
    collectgarbage(); collectgarbage()
    F.assert_no_new_child(before)
  end)
end)

describe("detach = true", function()
  it("lets the VM survive its handle (killed here)", function()
    local defer = cleanups()
    local desc, rec = fake_desc()
    defer(function() F.kill_dir(rec) end)
    local pid
    do
      local vm = qemu.launch(desc, { detach = true })
      pid = vm.pid
      assert(vm.qmp:execute("query-status", nil, T))
    end
    collectgarbage(); collectgarbage()
    -- the stand-in sees its channel end, and lives on
    assert.is_truthy(await(function() return (F.read(rec, "commands") or ""):find("EOF\n", 1, true) end, 5))
    assert.is_false(F.gone(pid))
    F.kill(pid)
    assert.is_true(F.await_gone(pid, 3))
    -- once it exits it is not left a zombie of this process: whatever runs
    -- the event loop (here a short launch) may reap it
    local mine = F.mypid()
    local function reaped()
      local v = qemu.launch_custom("/bin/true", {}, {})
      v:wait(5)
      local st = H.slurp("/proc/" .. pid .. "/stat")
      return not st or tonumber(st:match("^%d+ %b() %a (%d+)")) ~= mine
    end
    assert.is_truthy(await(reaped, 3), "the detached QEMU was left a zombie (state "
      .. tostring(F.state(pid)) .. ")")
  end)
end)

describe("many launches", function()
  it("1000 qemu.launch/wait cycles (with their QMP channels) leak no descriptor and no child", function()
    -- one launch first: the event loop's own descriptor is made once
    local warm = qemu.launch({ path = "/bin/true" })
    assert.are.same({ code = 0 }, warm:wait(5))
    warm = nil
    local before_fds, before = F.fdcount(), F.child_set()
    -- (no bound on their time: tests assert no timings; each wait has its own)
    for i = 1, 1000 do
      local vm = qemu.launch({ path = "/bin/true" })
      local st = vm:wait(5)
      if not st then F.stop(vm) end
      assert(st and st.code == 0, "cycle " .. i .. " did not end")
    end
    assert.are.equal(before_fds, F.fdcount())
    F.assert_no_new_child(before)
  end)

  it("200 cycles that talk QMP and quit leak nothing either", function()
    local desc = { path = FAKE, extra_args = {} }
    local warm = qemu.launch(desc)
    assert(warm.qmp:execute("quit", nil, T))
    assert.are.same({ code = 0 }, warm:wait(5))
    warm = nil
    local before_fds, before = F.fdcount(), F.child_set()
    for i = 1, 200 do
      local vm = qemu.launch(desc)
      assert(vm.qmp:execute("query-status", nil, T), "cycle " .. i)
      assert(vm.qmp:execute("quit", nil, T), "cycle " .. i)
      local st = vm:wait(5)
      if not st then F.stop(vm) end
      assert(st and st.code == 0, "cycle " .. i .. " did not end")
    end
    assert.are.equal(before_fds, F.fdcount())
    F.assert_no_new_child(before)
  end)
end)
