-- spec/qmp_faults_spec.lua - QMP when QEMU misbehaves (docs/contract.md §5 and the
-- behaviour details): every wait ends promptly with a clear error, never at
-- its timeout, when the channel fails; errors are values with class and
-- desc; events are kept in order.  The misbehaving QEMU is the stand-in
-- spec/support/fake-qmp, told what to do by argv words; the last part talks
-- to the real QEMU (-machine none).
local H = require "helper"
local F = require "support.fake"
local qemu = H.qemu

local FAKE = H.root .. "/spec/support/fake-qmp"

-- Every call gets a long timeout; a prompt answer comes well within BOUND.
-- Timings are bounds against hangs, never tight.
local T = { timeout = 20 }
local BOUND = 3

local now = F.now

-- Runs f(...) and returns how long it took, then what it returned.
local function timed(f, ...)
  local t0 = now()
  local r = table.pack(f(...))
  return now() - t0, table.unpack(r, 1, r.n)
end

local function cleanups() return F.cleanups(finally) end

-- Launches the stand-in with argv words; stopped (SIGKILL) when the test ends.
local function fake(defer, words, opts)
  local vm = qemu.launch({ path = FAKE, name = "qlua-fake-qmp", extra_args = words or {} }, opts)
  defer(function() F.stop(vm) end)
  return vm
end

-- Launches the real QEMU with an empty machine; extra fields are added to
-- the description.
local function real(defer, extra)
  local desc = {
    path = H.qemu_bin,
    machine = { type = "none" },
    knobs = { no_defaults = true },
    extra_args = { "-display", "none" },
  }
  for k, v in pairs(extra or {}) do desc[k] = v end
  local vm = qemu.launch(desc)
  defer(function() F.stop(vm) end)
  return vm
end

-- Asserts that a call returned nil and an error of that class whose desc
-- matches the (plain text) pieces, and that it printed as "class: desc".
local function assert_error(class, pieces, r, err)
  assert.is_nil(r)
  assert.are.equal("table", type(err), "no error value")
  assert.are.equal(class, err.class, tostring(err.desc))
  for _, p in ipairs(pieces) do
    assert.is_truthy(err.desc:find(p, 1, true), ("'%s' not in '%s'"):format(p, err.desc))
  end
  assert.are.equal(class .. ": " .. err.desc, tostring(err))
end

-- Asserts that took (seconds) is a prompt answer, not a timeout.
local function assert_prompt(took)
  assert.is_true(took < BOUND, ("took %.2f s (the timeout is %d s)"):format(took, T.timeout))
end

describe("QMP with a QEMU that does not greet", function()
  it("times out with class 'Timeout' after the timeout given, and leaves QEMU running", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "no-greeting" })
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, { timeout = 1 })
    assert_error("Timeout", { "no QMP greeting within the timeout", "query-status" }, r, err)
    assert.is_true(took >= 0.9 and took < 1 + BOUND, ("took %.2f s"):format(took))
    took, r, err = timed(vm.qmp.greeting, vm.qmp, { timeout = 0.5 })
    assert_error("Timeout", { "no QMP greeting" }, r, err)
    assert.is_true(took >= 0.4 and took < BOUND, ("took %.2f s"):format(took))
    assert.is_true(vm:alive())
  end)

  it("that dies before its greeting ends the wait at once with 'Disconnected' and its status", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "die-early", "--code", "5" })
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (code 5)", "query-status" }, r, err)
    assert.are.same({ code = 5 }, vm:wait(5))
    -- and every later call the same, at once
    took, r, err = timed(vm.qmp.greeting, vm.qmp, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (code 5)" }, r, err)
  end)

  it("that sends malformed JSON as its greeting is 'Disconnected' (malformed JSON)", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "bad-greeting" })
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "malformed JSON from QEMU" }, r, err)
    assert.is_true(vm:alive())    -- the channel failed, not QEMU
    took, r, err = timed(vm.qmp.wait_event, vm.qmp, "STOP", T)
    assert_prompt(took)
    assert_error("Disconnected", { "malformed JSON from QEMU" }, r, err)
  end)

  it("that sends something else before its greeting is 'Disconnected'", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "early-event" })
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU sent a QMP message before its greeting" }, r, err)
  end)

  it("that refuses qmp_capabilities is 'Disconnected', with QEMU's reason", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "caps-error" })
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "qmp_capabilities failed: capabilities refused" }, r, err)
  end)

  it("keeps an event that comes during the capabilities negotiation", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "caps-event" })
    assert.are.same({}, vm.qmp:execute("query-status", nil, T))
    local evs = vm.qmp:events()
    assert.are.equal(1, #evs)
    assert.are.equal("NEGOTIATING", evs[1].event)
    assert.are.same({ phase = 1 }, evs[1].data)
  end)

  it("greeting() returns the greeting as Lua data", function()
    local defer = cleanups()
    local vm = fake(defer)
    local g = vm.qmp:greeting(T)
    assert.are.same({ qemu = { major = 7, minor = 2, micro = 0 }, package = "fake-qmp" }, g.QMP.version)
    assert.are.same({}, g.QMP.capabilities)
  end)
end)

describe("QMP replies from a misbehaving QEMU", function()
  it("a reply that is malformed JSON is 'Disconnected' (malformed JSON), and qlua hangs up", function()
    local defer = cleanups()
    local rec = H.tmpdir()
    local vm = fake(defer, { "--record", rec })
    assert.are.same({ a = 1 }, vm.qmp:execute("echo", { a = 1 }, T))
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "garbage", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "malformed JSON from QEMU", "while waiting for the reply to 'garbage'" }, r, err)
    -- the stand-in sees its channel end: qlua closed it
    local deadline = now() + 5
    while not (F.read(rec, "commands") or ""):find("EOF\n", 1, true) and now() < deadline do F.sleep(0.05) end
    assert.are.same({ "qmp_capabilities", "echo", "garbage", "EOF" }, F.lines(rec, "commands"))
    -- later calls fail at once too
    took, r, err = timed(vm.qmp.execute, vm.qmp, "echo", { a = 2 }, T)
    assert_prompt(took)
    assert_error("Disconnected", { "malformed JSON from QEMU" }, r, err)
  end)

  it("a 20 MB reply comes through intact", function()
    local defer = cleanups()
    local vm = fake(defer)
    local size = 20 * 1024 * 1024
    local took, s, err = timed(vm.qmp.execute, vm.qmp, "big", { size = size }, T)
    assert.is_nil(err)
    assert.are.equal("string", type(s))
    assert.are.equal(size, #s)
    assert.is_true(s == ("0123456789"):rep(size // 10 + 1):sub(1, size), "the reply was damaged")
    assert.is_true(took < 15, ("took %.2f s"):format(took))
    -- and the channel goes on
    assert.are.same({ after = "big" }, vm.qmp:execute("echo", { after = "big" }, T))
  end)

  -- More than a unix socket's buffer (about 200 KiB): qlua's send queue
  -- (struct outq, lines.c) meets EAGAIN, watches for "writable" and sends
  -- the rest as the stand-in reads (bash reads a byte at a time).
  it("a command larger than the socket's buffer goes out whole, and the channel goes on", function()
    local defer = cleanups()
    local vm = fake(defer)
    local s = ("abcdefghij"):rep(52429)
    local r, err = vm.qmp:execute("echo", { s = s }, T)
    assert.is_nil(err)
    assert.are.equal(#s, #r.s)
    assert.is_true(r.s == s, "the command or its echo was damaged")
    assert.are.same({ after = "big" }, vm.qmp:execute("echo", { after = "big" }, T))
  end)

  it("end of file in the middle of a reply is 'Disconnected' at once", function()
    local defer = cleanups()
    local vm = fake(defer)
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "half", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "in the middle of a message", "'half'" }, r, err)
    assert.is_true(vm:alive())
  end)

  -- QEMU's QMP reads a byte at a time: a quit can leave a client's last
  -- "\n" unread, and Linux then reports the close as ECONNRESET.
  it("a close with a command of ours unread is 'closed by QEMU' too, not a lost connection", function()
    local defer = cleanups()
    local vm = fake(defer)
    assert.are.same({}, vm.qmp:execute("unread", nil, T))
    local r, err = vm.qmp:execute("echo", { a = 1 }, T)
    assert_error("Disconnected", { "QMP connection closed by QEMU while waiting for the reply to 'echo'" }, r, err)
    assert.is_nil(err.desc:find("reset", 1, true), err.desc)
    assert.is_true(vm:alive())
  end)

  -- QEMU gone between two commands, before qlua read its end of file:
  -- the send fails (EPIPE), and reading on finds the end.
  it("a command sent after QEMU closed the channel, its end not read yet: 'closed by QEMU', at once", function()
    local defer = cleanups()
    local vm = fake(defer)
    assert.are.same({}, vm.qmp:execute("unread", nil, T))
    os.execute("sleep 3")  -- the stand-in closes after 2 s; qlua's loop does not run meanwhile
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "echo", { a = 1 }, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QMP connection closed by QEMU while waiting for the reply to 'echo'" }, r, err)
    assert.is_true(vm:alive())
  end)

  it("an error reply is nil and an error value with QEMU's class and desc; the channel goes on", function()
    local defer = cleanups()
    local vm = fake(defer)
    local r, err = vm.qmp:execute("fail", nil, T)
    assert_error("GenericError", {}, r, err)
    assert.are.equal("the stand-in was told to fail", err.desc)
    assert.are.equal("GenericError: the stand-in was told to fail", tostring(err))
    assert.are.same({ still = true }, vm.qmp:execute("echo", { still = true }, T))
  end)

  it("a reply with an id that was never sent is a protocol error: 'Disconnected' at once", function()
    local defer = cleanups()
    local vm = fake(defer)
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "wrong-id", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", {}, r, err)
  end)

  it("a reply without an id, or a message that is neither reply nor event, is 'Disconnected'", function()
    for _, cmd in ipairs({ "no-id", "junk" }) do
      local defer = cleanups()
      local vm = fake(defer)
      local took, r, err = timed(vm.qmp.execute, vm.qmp, cmd, nil, T)
      assert_prompt(took)
      assert_error("Disconnected", { "neither a reply nor an event" }, r, err)
      F.stop(vm)
    end
  end)

  it("a second greeting is 'Disconnected'", function()
    local defer = cleanups()
    local vm = fake(defer)
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "greet", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "second QMP greeting" }, r, err)
  end)

  it("no reply is 'Timeout' after the timeout; a late reply is not taken for the next one", function()
    local defer = cleanups()
    local vm = fake(defer)
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "ignore", nil, { timeout = 0.5 })
    assert_error("Timeout", { "no reply to 'ignore' within the timeout" }, r, err)
    assert.is_true(took >= 0.4 and took < BOUND, ("took %.2f s"):format(took))
    r, err = vm.qmp:execute("late", nil, { timeout = 0.2 })
    assert_error("Timeout", { "'late'" }, r, err)
    -- the reply to "late" comes first, then this one's
    assert.are.same({ mine = 1 }, vm.qmp:execute("echo", { mine = 1 }, T))
    assert.are.same({ mine = 2 }, vm.qmp:execute("echo", { mine = 2 }, T))
  end)

  it("QEMU exiting in the middle of a command is 'Disconnected' with its status, at once", function()
    local defer = cleanups()
    local vm = fake(defer)
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "die", { code = 7 }, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (code 7)", "'die'" }, r, err)
    assert.are.same({ code = 7 }, vm:wait(5))
    took, r, err = timed(vm.qmp.execute, vm.qmp, "echo", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (code 7)" }, r, err)
  end)

  it("QEMU exiting ends a wait_event at once with 'Disconnected' and its status", function()
    local defer = cleanups()
    local vm = fake(defer)
    assert.are.same({}, vm.qmp:execute("later", { code = 4 }, T))
    local took, r, err = timed(vm.qmp.wait_event, vm.qmp, "NEVER", T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (code 4)", "'NEVER'" }, r, err)
  end)

  it("QEMU killed by a signal: the error says which", function()
    local defer = cleanups()
    local vm = fake(defer)
    assert.are.same({}, vm.qmp:execute("query-status", nil, T))
    vm:kill(9)
    assert.are.same({ signal = 9 }, vm:wait(5))
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (signal 9)" }, r, err)
  end)
end)

describe("QMP events", function()
  it("are kept in order around replies; wait_event takes the one that matches and leaves the rest", function()
    local defer = cleanups()
    local vm = fake(defer)
    local q = vm.qmp
    -- "emit": TICK 1, TICK 2, OTHER, the reply, TICK 3, LAST: events before
    -- a reply, and between it and the next one
    assert.are.same({ sent = 5 }, q:execute("emit", nil, T))
    assert.are.same({ x = 1 }, q:execute("echo", { x = 1 }, T))
    assert.are.same({ sent = 5 }, q:execute("emit", nil, T))
    -- the first LAST (already here), then the second (on its way or here)
    local last = q:wait_event("LAST", T)
    assert.are.same({ event = "LAST", data = { n = 4 }, timestamp = 1700000005.25 }, last)
    assert.are.equal("float", math.type(last.timestamp))
    last = q:wait_event("LAST", T)
    assert.are.same({ n = 4 }, last.data)
    -- by data: the first TICK with n = 2, and the first whose tag.name is "c"
    local ev = q:wait_event("TICK", { timeout = 20, data = { n = 2 } })
    assert.are.same({ n = 2, tag = { name = "b" } }, ev.data)
    assert.are.equal(1700000002.25, ev.timestamp)
    ev = q:wait_event("TICK", { timeout = 20, data = { tag = { name = "c" } } })
    assert.are.same({ n = 3, tag = { name = "c" } }, ev.data)
    -- no match: a timeout, and nothing taken
    local took, r, err = timed(q.wait_event, q, "TICK", { timeout = 0.3, data = { n = 99 } })
    assert_error("Timeout", {}, r, err)
    assert.are.equal([[no event 'TICK' with data {"n":99} within 0.3 s]], err.desc)
    assert.is_true(took < BOUND)
    -- the rest, in the order they came
    local evs = q:events()
    local got = {}
    for i, e in ipairs(evs) do
      got[i] = e.event .. ":" .. tostring(e.data.n)
      assert.are.equal("number", type(e.timestamp))
    end
    assert.are.same({ "TICK:1", "OTHER:nil",                    -- first emit
                      "TICK:1", "TICK:2", "OTHER:nil", "TICK:3" }, got)  -- second
    assert.are.same({ event = "TICK", data = { n = 1, tag = { name = "a" } }, timestamp = 1700000001.25 }, evs[1])
    assert.are.same({ event = "OTHER", data = {}, timestamp = 1700000003.25 }, evs[2])
    -- events() forgets what it returned
    assert.are.same({}, q:events())
  end)

  it("events() does not block when there are none", function()
    local defer = cleanups()
    local vm = fake(defer, { "--mode", "no-greeting" })
    local took, evs = timed(vm.qmp.events, vm.qmp)
    assert.are.same({}, evs)
    assert.is_true(took < BOUND)
  end)
end)

describe("qmp:log", function()
  it("appends every message in and out, with a timestamp", function()
    local defer = cleanups()
    local vm = fake(defer)
    local path = H.tmpdir() .. "/qmp.log"
    local before = os.time()
    vm.qmp:log(path)
    assert.are.same({ x = 1 }, vm.qmp:execute("echo", { x = 1 }, T))
    local after = os.time()
    local text = H.slurp(path)
    -- each line: the wall clock (UTC, ISO 8601, ms), the monotonic seconds
    -- since the log began, the direction, the message
    local last = -1
    for line in text:gmatch("[^\n]+") do
      local y, mo, d, h, mi, sec, off, dir = line:match(
        "^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)%.%d%d%dZ %+(%d+%.%d%d%d) ([<>]) [{]")
      assert.is_truthy(y, line)
      local t = os.time({ year = y, month = mo, day = d, hour = h, min = mi, sec = sec, isdst = false })
        + (os.time() - os.time(os.date("!*t")))  -- os.time reads the table as local time
      assert.is_true(t >= before - 1 and t <= after + 1, line)
      assert.is_true(tonumber(off) >= last, line)
      last = tonumber(off)
    end
    assert.is_truthy(text:find('\n?[%d.]+ < {"QMP": {"version"'), text)
    assert.is_truthy(text:find('[%d.]+ > {"execute":"qmp_capabilities","id":1}\n'), text)
    assert.is_truthy(text:find('[%d.]+ > {"execute":"echo"[^\n]*"arguments":{"x":1}'), text)
    assert.is_truthy(text:find('[%d.]+ < {"return": {"x":1}, "id": 2}\n'), text)
  end)
end)

describe("QMP with the real QEMU (-machine none)", function()
  it("greets with its version and answers query-status", function()
    local defer = cleanups()
    local vm = real(defer)
    local g = assert(vm.qmp:greeting(T))
    local _, out = H.sh(H.q(H.qemu_bin) .. " --version")
    local major, minor = out:match("version (%d+)%.(%d+)")
    assert.are.equal(tonumber(major), g.QMP.version.qemu.major)
    assert.are.equal(tonumber(minor), g.QMP.version.qemu.minor)
    local st = assert(vm.qmp:execute("query-status", nil, T))
    assert.are.equal("running", st.status)
    assert.is_true(st.running)
  end)

  it("an unknown command is CommandNotFound", function()
    local defer = cleanups()
    local vm = real(defer)
    local r, err = vm.qmp:execute("no-such-command", nil, T)
    assert_error("CommandNotFound", {}, r, err)
    assert.are.equal("The command no-such-command has not been found", err.desc)
    -- bad arguments are QEMU's GenericError
    r, err = vm.qmp:execute("query-status", { bogus = 1 }, T)
    assert_error("GenericError", { "bogus" }, r, err)
    assert.is_truthy(vm.qmp:execute("query-status", nil, T))
  end)

  it("stop and cont bring STOP and RESUME", function()
    local defer = cleanups()
    local vm = real(defer)
    assert.are.same({}, vm.qmp:execute("stop", nil, T))
    local ev = assert(vm.qmp:wait_event("STOP", T))
    assert.are.equal("STOP", ev.event)
    assert.is_true(ev.timestamp > 0)
    assert.are.equal("paused", vm.qmp:execute("query-status", nil, T).status)
    assert.are.same({}, vm.qmp:execute("cont", nil, T))
    ev = assert(vm.qmp:wait_event("RESUME", T))
    assert.are.equal("RESUME", ev.event)
    assert.is_true(vm.qmp:execute("query-status", nil, T).running)
  end)

  it("quit: the reply comes, then QEMU exits 0 and later calls are 'Disconnected'", function()
    local defer = cleanups()
    local vm = real(defer)
    assert.are.same({}, vm.qmp:execute("quit", nil, T))
    assert.are.same({ code = 0 }, vm:wait(20))
    local took, r, err = timed(vm.qmp.execute, vm.qmp, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "QEMU exited (code 0)" }, r, err)
    local shutdown = vm.qmp:events()
    assert.are.equal("SHUTDOWN", shutdown[#shutdown].event)
    assert.are.equal("host-qmp-quit", shutdown[#shutdown].data.reason)
  end)

  it("getfd passes a descriptor under a name", function()
    local defer = cleanups()
    local vm = real(defer)
    local f = qemu.open("/dev/null", "rw")
    defer(function() f:close() end)
    assert.is_true(vm.qmp:getfd("spec-fd", f, T))
    assert.are.same({}, vm.qmp:execute("closefd", { fdname = "spec-fd" }, T))
    local r, err = vm.qmp:execute("closefd", { fdname = "spec-fd" }, T)
    assert_error("GenericError", {}, r, err)
  end)

  it("qemu.qmp_connect attaches to a QMP socket of the description", function()
    local defer = cleanups()
    local dir = H.tmpdir()
    local path = dir .. "/qmp.sock"
    local vm = real(defer, { qmp = { { path = path } } })
    -- the socket exists once QEMU answers on its private channel
    assert(vm.qmp:execute("query-status", nil, T))
    local c, err = qemu.qmp_connect(path, T)
    assert.is_nil(err)
    defer(function() c:close() end)
    assert.are.equal("qemu.qmp(connected)", tostring(c))
    assert.are.equal(vm.qmp:greeting(T).QMP.version.qemu.major, c:greeting(T).QMP.version.qemu.major)
    assert.are.equal("running", c:execute("query-status", nil, T).status)
    local r, e = c:execute("no-such-command", nil, T)
    assert_error("CommandNotFound", {}, r, e)
    -- both channels see the events; quit on one ends the other
    assert.are.same({}, vm.qmp:execute("quit", nil, T))
    local ev = assert(c:wait_event("SHUTDOWN", T))
    assert.are.equal("host-qmp-quit", ev.data.reason)
    assert.are.same({ code = 0 }, vm:wait(20))
    local took
    took, r, e = timed(c.execute, c, "query-status", nil, T)
    assert_prompt(took)
    assert_error("Disconnected", { "closed by QEMU" }, r, e)
    c:close()
    assert.are.equal("qemu.qmp(closed)", tostring(c))
    local ok, msg = pcall(c.execute, c, "query-status")
    assert.is_false(ok)
    assert.matches("the QMP connection is closed", msg)
  end)

  it("qemu.qmp_connect to a path where nothing listens is 'Disconnected'", function()
    local path = H.tmpdir() .. "/nothing.sock"
    local r, err = qemu.qmp_connect(path, T)
    assert_error("Disconnected", { "cannot connect to '" .. path .. "'", "No such file or directory" }, r, err)
  end)
end)
