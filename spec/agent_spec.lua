-- spec/agent_spec.lua - the guest agent (vm.agent, qemu.launch(vm, { agent
-- = true })) against the real test guest, whose /init starts qemu-ga on
-- qlua.agent (scripts/guest/README.md).  One boot at a time, every wait
-- under a timeout, every VM stopped in finally; timings are never asserted,
-- only that a failure ends long before its timeout.
local H = require "helper"
local G = require "support.guest"
local F = require "support.fake"
local qemu = require "qemu"

local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

-- The test guest with its agent, staying up (qlua.agent implies qlua.wait).
local function launch(S, checks, t)
  local vm = S:own(qemu.launch(G.desc(checks or "qlua.agent", t), { console = "capture", qmp = true, agent = true }))
  return vm
end

local function err_of(ok, err)
  assert.is_nil(ok)
  assert.are.equal("table", type(err))
  return err
end

-- Runs shell command cmd in the guest until its stdout is want (what a
-- kill sent without waiting leads to soon), at most tries times 0.1 s
-- apart: the last stdout.
local function settled(vm, cmd, want, tries)
  local out
  for _ = 1, tries do
    out = vm.agent:exec(cmd, { timeout = G.STEP }).stdout
    if out == want then break end
    qemu.poll(qemu.now() + 0.1)
  end
  return out
end

describe("vm.agent", function()
  it("is there only with agent = true, and adds its own virtio-serial port", function()
    local F_dir = F.dir({ SLEEP = 30 })
    local vm = qemu.launch(F.vm(F_dir), { agent = true })
    local ok, e = pcall(function()
      assert.are.equal("qemu.agent(vm)", tostring(vm.agent))
      local argv = table.concat(vm.argv, " "):gsub("fd=%d+", "fd=N")
      assert.truthy(argv:find("-chardev socket,id=qlua-agent,fd=N -device virtio-serial-pci,id=qlua-agent-serial "
        .. "-device virtserialport,bus=qlua-agent-serial.0,chardev=qlua-agent,name=org.qemu.guest_agent.0", 1, true))
      local plain = qemu.launch(F.vm(F.dir({ SLEEP = 30 })))
      assert.is_nil(plain.agent)
      plain:kill(9)
      plain:wait(10)
    end)
    vm:kill(9)
    vm:wait(10)
    assert(ok, e)
  end)

  it("on microvm the port's controller is virtio-serial-device", function()
    local vm = qemu.launch(F.vm(F.dir({ SLEEP = 30 }), { machine = { type = "microvm" } }), { agent = true })
    local argv = table.concat(vm.argv, " ")
    vm:kill(9)
    vm:wait(10)
    assert.truthy(argv:find("-device virtio-serial-device,id=qlua-agent-serial ", 1, true))
  end)

  it("rejects bad arguments before sending anything", function()
    local vm = qemu.launch(F.vm(F.dir({ SLEEP = 30 })), { agent = true })
    local a = vm.agent
    local function raises(msg, method, ...)
      local args = table.pack(...)
      local ok, e = pcall(function() a[method](a, table.unpack(args, 1, args.n)) end)
      assert.is_false(ok)
      assert.are.equal(msg, (tostring(e):gsub("^[^:]*:%d+: ", "")))
    end
    raises("bad argument #1 to 'exec' (the command is an empty list)", "exec", {})
    raises("bad argument #1 to 'exec' (list of words or shell command string expected, got number)", "exec", 42)
    raises("bad argument #1 to 'exec' (word 2: string expected, got table)", "exec", { "echo", {} })
    raises("bad argument #2 to 'exec' (unknown field 'stdin')", "exec", "true", { stdin = "x" })
    raises("bad argument #2 to 'exec' (field 'input': string expected, got number)", "exec", "true", { input = 1 })
    raises("bad argument #2 to 'exec' (field 'env': table expected, got string)", "exec", "true", { env = "A=1" })
    raises("bad argument #1 to 'shutdown' (invalid option 'off' (expected 'powerdown', 'reboot' or 'halt'))",
      "shutdown", "off")
    raises("bad argument #1 to 'ping' (table expected, got string)", "ping", "x")
    raises("bad argument #1 to 'ping' (field 'timeout': number expected, got string)", "ping", { timeout = "5" })
    raises("bad argument #2 to 'shutdown' (unknown field 'mode')", "shutdown", "halt", { mode = "x" })
    raises("bad argument #1 to 'read_file' (string expected, got no value)", "read_file")
    raises("bad argument #2 to 'write_file' (string expected, got no value)", "write_file", "/tmp/x")
    raises("bad argument #1 to 'wait' (timeout must not be negative)", "wait", -1)
    raises("bad argument #1 to 'ping' (field 'timeout': -1 is out of range (expected a number >= 0))", "ping",
      { timeout = -1 })
    raises("bad argument #1 to 'wait' (field 'timeout': -1 is out of range (expected a number >= 0))", "wait",
      { timeout = -1 })
    raises("bad argument #1 to 'wait' (unknown field 'tmeout' (did you mean 'timeout'?))", "wait", { tmeout = 1 })
    vm:kill(9)
    vm:wait(10)
  end)

  -- The real QEMU with no guest (SeaBIOS finds nothing to boot): nothing
  -- reads the agent's port, so a ping stays unread in QEMU's end of the
  -- channel.  Removing the port and its chardev then closes that end with
  -- our bytes unread, which Linux reports as ECONNRESET: as with QMP, that
  -- is QEMU closing the channel, not a lost connection.
  it("a channel QEMU closes with a command of ours unread is 'closed by QEMU', not a lost connection", function()
    local vm = qemu.launch({ machine = { type = "q35", accel = "tcg" }, memory = { size = "128M" },
                             knobs = { no_defaults = true } }, { qmp = true, agent = true, console = "capture" })
    local ok, e = pcall(function()
      local r, err = vm.agent:ping({ timeout = 1 })
      assert.is_nil(r)
      assert.are.equal("agent did not answer within 1 s", err.desc)
      local port = "/machine/peripheral-anon/device[0]"
      assert.are.same({}, vm.qmp:execute("device_del", { id = port }, { timeout = 10 }))
      assert.truthy(vm.qmp:wait_event("DEVICE_DELETED", { timeout = 10, data = { path = port } }))
      assert.are.same({}, vm.qmp:execute("chardev-remove", { id = "qlua-agent" }, { timeout = 10 }))
      r, err = vm.agent:ping({ timeout = 10 })
      assert.is_nil(r)
      assert.are.equal("Disconnected", err.class)
      assert.are.equal("agent channel closed by QEMU while waiting for the agent", err.desc)
      assert.is_true(vm:alive())
    end)
    vm:kill(9)
    vm:wait(10)
    assert(ok, e)
  end)
end)

describe("vm.agent with the test guest #guest", function()
  if not have_guest then
    pending("build/guest is missing: run `make guest` (make check builds it first)")
    return
  end

  describe("one guest", function()
    local S, vm
    local releases = {}
    lazy_setup(function()
      S = G.scope(function(f) releases[#releases + 1] = f end)
      vm = launch(S)
    end)
    lazy_teardown(function()
      for _, f in ipairs(releases) do f() end
    end)

    it("wait answers once qemu-ga runs, then ping", function()
      assert.is_true(vm.agent:wait(G.BOOT))
      G.expect(vm, "QLUA%-AGENT%-OK", G.STEP)
      assert.is_true(vm.agent:ping())
      assert.are.equal("7.2", vm.agent:execute("guest-info").version:match("^%d+%.%d+"))
    end)

    it("exec of a list of words: status, stdout, stderr", function()
      local r = assert(vm.agent:exec({ "uname", "-r" }))
      assert.are.same({ status = 0, stdout = G.version .. "\n", stderr = "", truncated = false }, r)
      r = assert(vm.agent:exec({ "ls", "/nonexistent" }))
      assert.are.equal(1, r.status)
      assert.are.equal("", r.stdout)
      assert.truthy(r.stderr:find("/nonexistent", 1, true))
    end)

    it("exec of a shell string with input and env; a non-zero status", function()
      local r = assert(vm.agent:exec("echo out; echo err >&2; cat; echo \"$FOO,$BAR\"; exit 3",
        { input = "in\0put\n", env = { FOO = "foo", "BAR=bar" } }))
      assert.are.same({ status = 3, stdout = "out\nin\0put\nfoo,bar\n", stderr = "err\n", truncated = false }, r)
      -- a signal: 128 + its number, and the number
      r = assert(vm.agent:exec("kill -9 $$"))
      assert.are.equal(137, r.status)
      assert.are.equal(9, r.signal)
    end)

    it("exec of a program that does not exist: the agent's error", function()
      local e = err_of(vm.agent:exec({ "no-such-program", "x" }))
      assert.are.equal("GenericError", e.class)
      assert.are.equal("Guest agent command failed, error was 'Failed to execute child process "
        .. "\u{201C}no-such-program\u{201D} (No such file or directory)'", e.desc)
      -- and the agent is still fine
      assert.is_true(vm.agent:ping())
    end)

    it("exec of a command that prints 10 MiB: all of it, not truncated", function()
      local r = assert(vm.agent:exec("head -c 10485760 /dev/zero | tr '\\0' x; echo done >&2", { timeout = G.STEP }))
      assert.are.equal(0, r.status)
      assert.are.equal(10485760, #r.stdout)
      assert.are.equal(string.rep("x", 10485760), r.stdout)
      assert.are.equal("done\n", r.stderr)
      assert.is_false(r.truncated)
    end)

    it("exec of a command that prints 17 MiB: the agent's 16 MiB, truncated = true", function()
      local r = assert(vm.agent:exec("head -c 17825792 /dev/zero", { timeout = G.STEP }))
      assert.are.equal(0, r.status)
      assert.are.equal(16 * 1024 * 1024, #r.stdout)
      assert.is_true(r.truncated)
    end)

    it("exec that does not finish within its timeout says so, and kills the command", function()
      local t0 = G.now()
      local e = err_of(vm.agent:exec({ "sleep", "300" }, { timeout = 1 }))
      assert.are.equal("Timeout", e.class)
      local pid = e.desc:match("^the command did not finish within 1 s %(guest pid (%d+), killed%)$")
      assert.truthy(pid, e.desc)
      assert.is_true(G.now() - t0 < 4)
      assert.is_true(vm.agent:ping())
      -- gone from the guest (reaped by qemu-ga as soon as it died)
      assert.are.equal("", settled(vm, "cat /proc/" .. pid .. "/cmdline 2>/dev/null", "", 50))
    end)

    it("exec whose timeout comes while a status poll is unanswered: still the command's timeout, and killed", function()
      -- The guest freezes its own qemu-ga 0.5 s after the command starts
      -- (long after the pid's reply left) and thaws it 4 s later: the
      -- poll sent in between is still unanswered at the 2 s deadline, as
      -- on a guest too busy to answer in time.
      local e = err_of(vm.agent:exec("a=$(pidof qemu-ga); "
        .. "(sleep 0.5; kill -STOP $a; sleep 4; kill -CONT $a) </dev/null >/dev/null 2>&1 & exec sleep 300",
        { timeout = 2 }))
      assert.are.equal("Timeout", e.class)
      local pid = e.desc:match("^the command did not finish within 2 s %(guest pid (%d+), killed%)$")
      assert.truthy(pid, e.desc)
      assert.is_true(vm.agent:ping({ timeout = G.STEP }))
      assert.are.equal("", settled(vm, "cat /proc/" .. pid .. "/cmdline 2>/dev/null", "", 50))
    end)

    it("write_file then read_file: the same bytes, also over several chunks", function()
      local small = "hello\0world\n\255"
      assert.is_true(vm.agent:write_file("/tmp/small", small))
      assert.are.equal(small, vm.agent:read_file("/tmp/small"))
      local t = {}
      for i = 0, 255 do t[#t + 1] = string.char(i) end
      local big = string.rep(table.concat(t), 3 * 4096 + 7)  -- 3 MiB + a bit: 4 chunks
      assert.is_true(vm.agent:write_file("/tmp/big", big, { timeout = G.STEP }))
      assert.are.equal(big, vm.agent:read_file("/tmp/big", { timeout = G.STEP }))
      assert.are.equal(tostring(#big) .. "\n", vm.agent:exec("wc -c </tmp/big").stdout)
      assert.is_true(vm.agent:write_file("/tmp/empty", ""))
      assert.are.equal("", vm.agent:read_file("/tmp/empty"))
    end)

    it("read_file of a missing file: the agent's error", function()
      local e = err_of(vm.agent:read_file("/no/such/file"))
      assert.are.equal("GenericError", e.class)
      assert.are.equal("failed to open file '/no/such/file' (mode: 'r'): No such file or directory", e.desc)
      assert.are.equal("GenericError: failed to open file '/no/such/file' (mode: 'r'): No such file or directory",
        tostring(e))
    end)

    it("a reply that comes after its timeout is dropped; the next call syncs again", function()
      local e = err_of(vm.agent:execute("guest-info", nil, { timeout = 0 }))
      assert.are.equal("Timeout", e.class)
      assert.are.equal("no reply to 'guest-info' from the agent within 0 s", e.desc)
      -- the late guest-info reply must not be taken for what comes next
      assert.is_true(vm.agent:ping())
      assert.are.same({}, vm.agent:execute("guest-ping"))
      assert.are.equal("ok\n", vm.agent:exec({ "echo", "ok" }).stdout)
    end)

    it("waits suspend in a matrix cell instead of blocking", function()
      local co = coroutine.create(function() return vm.agent:exec({ "echo", "from a cell" }) end)
      qemu.cell(co)
      local yields = 0
      local ok, r = coroutine.resume(co)
      while coroutine.status(co) == "suspended" do
        assert.is_number(r)  -- the deadline it waits for
        yields = yields + 1
        qemu.poll(r)
        ok, r = coroutine.resume(co)
      end
      assert(ok, r)
      assert.is_true(yields > 0)
      assert.are.equal("from a cell\n", r.stdout)
    end)

    it("shutdown powers the guest off", function()
      assert.is_true(vm.agent:shutdown())
      G.expect(vm, "QLUA%-AGENT%-SHUTDOWN poweroff", G.STEP)
      assert.are.same({ code = 0 }, G.wait(vm))
      -- QEMU is gone: every call ends at once, saying so
      local e = err_of(vm.agent:ping())
      assert.are.equal("Disconnected", e.class)
      assert.are.equal("QEMU exited (code 0) while waiting for the agent", e.desc)
    end)
  end)

  it("shutdown whose command the going-down guest kills: true once QEMU says the guest went; else the agent's error", function()
    local S = G.scope(finally)
    local vm = launch(S)
    assert.is_true(vm.agent:wait(G.BOOT))
    -- the guest's /sbin/shutdown is killed and schedules nothing: the agent's
    -- answer is the error, once the guest has had the timeout to go down
    assert.is_true(vm.agent:write_file("/tmp/qlua-shutdown", "killed-only"))
    local e = err_of(vm.agent:shutdown("powerdown", { timeout = 4 }))
    assert.are.equal("GenericError", e.class)
    assert.are.equal("child process has terminated abnormally (and the guest did not go down within 4 s)", e.desc)
    assert.is_true(vm.agent:ping())
    -- killed after scheduling the power-off, as systemd kills a real
    -- shutdown's caller: the same answer from the agent, but the guest goes
    assert.is_true(vm.agent:write_file("/tmp/qlua-shutdown", "killed"))
    assert.is_true(vm.agent:shutdown())
    G.expect(vm, "QLUA%-AGENT%-SHUTDOWN poweroff", G.STEP)
    assert.are.same({ code = 0 }, G.wait(vm))
  end)

  it("on a microvm (virtio-serial-device on virtio-mmio): exec works", function()
    local S = G.scope(finally)
    local micro = require("qemu.recipes").microvm()
    local khz = micro.kernel and micro.kernel.params
    if not khz then
      pending("no cpu MHz in /proc/cpuinfo for tsc_early_khz")
      return
    end
    local desc = G.desc(khz .. " qlua.agent")
    desc.machine = { type = "microvm", accel = "tcg" }
    local vm = S:own(qemu.launch(desc, { console = "capture", qmp = true, agent = true }))
    assert.truthy(table.concat(vm.argv, " "):find("-device virtio-serial-device,id=qlua-agent-serial ", 1, true))
    assert.is_true(vm.agent:wait(G.BOOT))
    assert.are.same({ status = 0, stdout = "microvm\n", stderr = "", truncated = false },
      vm.agent:exec("echo microvm"))
    assert.is_true(vm.agent:shutdown())
    assert.are.same({ code = 0 }, G.wait(vm))
  end)

  it("a guest without the agent: a clear timeout, nothing left running", function()
    local before_fds = F.fdcount()
    local before = F.child_set()
    do
      local S = G.scope(finally)
      local vm = launch(S, "qlua.wait")
      G.expect(vm, "QLUA%-GUEST%-WAITING", G.BOOT)
      local t0 = G.now()
      local e = err_of(vm.agent:wait(3))
      assert.are.equal("Timeout", e.class)
      assert.are.equal("agent did not answer within 3 s", e.desc)
      assert.are.equal("Timeout: agent did not answer within 3 s", tostring(e))
      assert.is_true(G.now() - t0 < 10)
      e = err_of(vm.agent:exec("true", { timeout = 2 }))
      assert.are.equal("agent did not answer within 2 s", e.desc)
      -- the canonical timeout form, as every wait takes it
      e = err_of(vm.agent:wait({ timeout = 1 }))
      assert.are.equal("agent did not answer within 1 s", e.desc)
      local st, step = vm:shutdown({ timeout = 10 })
      assert.are.same({ code = 0 }, st)
      assert.are.equal("powerdown", step)
      S:release()
    end
    F.assert_no_new_child(before)
    assert.are.equal(before_fds, F.fdcount())
  end)

  it("QEMU killed during exec: the exec ends at once with QEMU's status", function()
    local S = G.scope(finally)
    local vm = launch(S)
    assert.is_true(vm.agent:wait(G.BOOT))
    -- a host process kills QEMU while the exec waits for `sleep 60`
    os.execute(("(sleep 2; kill -9 %d) >/dev/null 2>&1 &"):format(vm.pid))
    local t0 = G.now()
    local e = err_of(vm.agent:exec("sleep 60", { timeout = 90 }))
    assert.is_true(G.now() - t0 < 30)
    assert.are.equal("Disconnected", e.class)
    -- the exec polls guest-exec-status: the kill lands while a poll is
    -- being sent or while its reply is awaited, and each is said exactly
    local said = {
      ["QEMU exited (signal 9) while waiting for the agent's reply to 'guest-exec-status'"] = true,
      ["QEMU exited (signal 9) while sending 'guest-exec-status' to the agent"] = true,
    }
    assert.is_true(said[e.desc], e.desc)
    assert.are.same({ signal = 9 }, G.wait(vm))
  end)

  it("the guest reboots during exec: a clear error within the timeout", function()
    local S = G.scope(finally)
    local desc = G.desc("qlua.agent")
    desc.knobs.no_reboot = nil
    local vm = S:own(qemu.launch(desc, { console = "capture", qmp = true, agent = true }))
    assert.is_true(vm.agent:wait(G.BOOT))
    local t0 = G.now()
    local e = err_of(vm.agent:exec("sleep 1; reboot -f", { timeout = 60 }))
    assert.is_true(G.now() - t0 < 60)
    assert.are.equal("Reset", e.class)
    assert.matches("^the guest was reset while the command ran %(guest pid %d+%)$", e.desc)
    -- the agent of the new boot answers
    assert.is_true(vm.agent:wait(G.BOOT))
    assert.are.equal(0, vm.agent:exec("true").status)
  end)
end)
