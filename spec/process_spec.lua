-- spec/process_spec.lua - turning a description into a process (docs/contract.md §5,
-- §7): qemu.run, qemu.launch, qemu.launch_custom and the VM handle, the
-- foreground mode of ./qlua (exit status, signals, standard streams), and
-- the lifetime of the child: it never outlives qlua or its handle unless
-- detached.  The stand-in QEMU is spec/support/fake-qemu.
local H = require "helper"
local F = require "support.fake"
local qemu = H.qemu

-- Seconds since boot, to the hundredth: a wall clock for timing waits.
local function now()
  return tonumber(H.slurp("/proc/uptime"):match("^[%d.]+"))
end

-- Runs ./qlua SCRIPT with shell redirections, bounded by timeout(1) so a
-- hang fails the test instead of stalling the suite.  Returns code, out, err.
local function qlua_sh(script, redirs)
  return H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script) .. " " .. (redirs or ""))
end

-- A script that returns the stand-in's description for run directory d.
local function fg_script(d, path)
  return H.script(("return { path = %q, extra_args = { '--fake-dir', %q } }\n"):format(path or F.bin, d))
end

-- The Uid/Gid/Groups lines of a /proc status text, as { uid=, gid=, groups= }.
local function ids(text)
  return {
    uid = text:match("Uid:%s*(%d+)"),
    gid = text:match("Gid:%s*(%d+)"),
    groups = (text:match("Groups:[ \t]*([^\n]*)") or ""):gsub("%s+$", ""),
  }
end

local child_set, assert_no_new_child = F.child_set, F.assert_no_new_child

describe("qemu.run", function()
  it("returns true, the stderr text and { code = 0 } when QEMU exits 0", function()
    local d = F.dir()
    local ok, text, status = qemu.run(F.vm(d))
    assert.is_true(ok)
    assert.are.equal("", text)
    assert.are.same({ code = 0 }, status)
    assert.is_truthy(F.read(d, "argv"))
  end)

  it("returns false, what QEMU wrote to stderr and its exit code when it fails", function()
    local d = F.dir({ EXIT = 3, STDERR = "qemu: could not open disk\n" })
    local ok, text, status = qemu.run(F.vm(d))
    assert.is_false(ok)
    assert.are.equal("qemu: could not open disk\n", text)
    assert.are.same({ code = 3 }, status)
  end)

  it("returns { signal = n } when QEMU was killed", function()
    local d = F.dir({ SIGNAL = 9, STDERR = "dying" })
    local ok, text, status = qemu.run(F.vm(d))
    assert.is_false(ok)
    assert.are.equal("dying", text)
    assert.are.same({ signal = 9 }, status)
  end)

  it("collects a lot of stderr without stalling QEMU", function()
    local d = F.dir({ STDERR_BYTES = 300000 })
    local ok, text, status = qemu.run(F.vm(d), { timeout = 20 })
    assert.is_true(ok)
    assert.are.same({ code = 0 }, status)
    assert.are.equal(300000, #text)
    assert.are.equal(("x"):rep(300000), text)
  end)

  it("with timeout kills QEMU when it runs too long and returns false", function()
    local d = F.dir({ SLEEP = 30, STDERR = "started\n" })
    local before = child_set()
    finally(function() F.kill_dir(d) end)
    local t0 = now()
    local ok, text, status = qemu.run(F.vm(d), { timeout = 0.5 })
    local took = now() - t0
    assert.is_false(ok)
    assert.are.same({ signal = 9 }, status)
    assert.matches("^started\n.*timeout after 0%.5 s$", text)
    assert.is_true(took >= 0.45 and took < 5, "took " .. took .. " s")
    local pid = tonumber(F.read(d, "pid"))
    assert.is_true(F.gone(pid))
    assert_no_new_child(before)
  end)

  it("refuses options it does not know", function()
    local ok, err = pcall(qemu.run, { path = "/bin/true" }, { timout = 1 })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'qemu.run' (unknown field 'timout' (did you mean 'timeout'?))", err, 1, true)
    ok, err = pcall(qemu.run, { path = "/bin/true" }, { timeout = -1 })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'qemu.run' (field 'timeout': -1 is out of range (expected a number >= 0))", err, 1,
      true)
  end)
end)

describe("qemu.launch and the VM handle", function()
  it("returns at once with pid and argv (the same as qemu.argv's)", function()
    local d = F.dir({ SLEEP = 30 })
    local desc = F.vm(d, { name = "handle" })
    local argv = qemu.argv(desc)
    local t0 = now()
    local vm = qemu.launch(desc, { qmp = false })
    finally(function() F.stop(vm); F.kill_dir(d) end)
    assert.is_true(now() - t0 < 2)
    assert.are.equal("integer", math.type(vm.pid))
    assert.is_true(vm.pid > 0)
    assert.are.same(argv, vm.argv)
    assert.is_truthy(F.await(d, "ready", 5, vm))
    assert.are.equal(vm.pid, tonumber(F.read(d, "pid")))
    assert.are.same(argv, F.lines(d, "argv"))
    assert.are.equal(("qemu.vm(pid %d, running)"):format(vm.pid), tostring(vm))
  end)

  it("adds its private QMP channel (on by default) before the description's extra_args", function()
    local d = F.dir({ SLEEP = 30 })
    local desc = F.vm(d, { name = "handle" })
    local argv = qemu.argv(desc)
    local vm = qemu.launch(desc)
    finally(function() F.stop(vm); F.kill_dir(d) end)
    -- the description's argv, the channel on the next descriptor, then extra_args
    local want = {}
    for i = 1, #argv - 2 do want[#want + 1] = argv[i] end
    for _, a in ipairs({ "-chardev", "socket,id=qlua-qmp,fd=3", "-mon", "chardev=qlua-qmp,mode=control" }) do
      want[#want + 1] = a
    end
    want[#want + 1] = argv[#argv - 1]
    want[#want + 1] = argv[#argv]
    assert.are.same(want, vm.argv)
    assert.is_truthy(F.await(d, "ready", 5, vm))
    assert.are.same(want, F.lines(d, "argv"))
    local got = F.received(d)
    assert.are.equal("socket", got[3].target:match("^(%a+):"))
  end)

  it("wait(timeout) returns nil, 'timeout after ...' while QEMU runs, and its status once it exited", function()
    local d = F.dir({ SLEEP = 30 })
    local vm = qemu.launch(F.vm(d))
    finally(function() F.stop(vm); F.kill_dir(d) end)
    local t0 = now()
    local st, why = vm:wait(0.3)
    local took = now() - t0
    assert.is_nil(st)
    assert.are.equal(("timeout after 0.3 s waiting for QEMU (pid %d) to exit"):format(vm.pid), why)
    assert.is_true(took >= 0.25 and took < 3, "took " .. took .. " s")
    assert.is_true(vm:alive())
    st, why = vm:wait(0)
    assert.is_nil(st)
    assert.are.equal(("timeout after 0 s waiting for QEMU (pid %d) to exit"):format(vm.pid), why)
    assert.is_true(vm:kill())                -- SIGTERM by default
    assert.are.same({ signal = 15 }, vm:wait(5))
    assert.is_false(vm:alive())
    assert.are.same({ signal = 15 }, vm:wait(5))  -- asking again: the same answer
    assert.are.same({ signal = 15 }, vm:wait())
    assert.is_false(vm:kill())               -- nothing left to signal
    assert.matches(", signal 15%)$", tostring(vm))
  end)

  -- The one timeout convention: every wait takes { timeout = s }; vm:wait
  -- also the number alone.
  it("wait{timeout = s}: the options table, as every wait takes it", function()
    local d = F.dir({ SLEEP = 30 })
    local vm = qemu.launch(F.vm(d))
    finally(function() F.stop(vm); F.kill_dir(d) end)
    local st, why = vm:wait({ timeout = 0.2 })
    assert.is_nil(st)
    assert.are.equal(("timeout after 0.2 s waiting for QEMU (pid %d) to exit"):format(vm.pid), why)
    local function raises(msg, ...)
      local args = table.pack(...)
      local ok, e = pcall(function() return vm:wait(table.unpack(args, 1, args.n)) end)
      assert.is_false(ok)
      assert.are.equal(msg, (tostring(e):gsub("^[^:]*:%d+: ", "")))
    end
    raises("bad argument #1 to 'wait' (field 'timeout': -1 is out of range (expected a number >= 0))", { timeout = -1 })
    raises("bad argument #1 to 'wait' (field 'timeout': number expected, got string)", { timeout = "1" })
    raises("bad argument #1 to 'wait' (unknown field 'tmeout' (did you mean 'timeout'?))", { tmeout = 1 })
    raises("bad argument #1 to 'wait' (timeout must not be negative)", -1)
    raises("bad argument #1 to 'wait' (number or table expected, got string)", "1")
    assert.is_true(vm:kill(9))
    assert.are.same({ signal = 9 }, vm:wait({ timeout = 5 }))
    assert.are.same({ signal = 9 }, vm:wait({}))
  end)

  it("wait returns { code = n } for an exit, and kill(sig) sends that signal", function()
    local d1, d2 = F.dir({ EXIT = 7 }), F.dir({ SLEEP = 30 })
    local a = qemu.launch(F.vm(d1))
    local b = qemu.launch(F.vm(d2))
    finally(function() F.stop(a); F.stop(b); F.kill_dir(d2) end)
    assert.are.same({ code = 7 }, a:wait(5))
    assert.is_truthy(F.await(d2, "ready", 5, b))
    assert.is_true(b:kill(1))
    assert.are.same({ signal = 1 }, b:wait(5))
  end)

  it("kill refuses a signal number that is not one", function()
    local vm = qemu.launch_custom("/bin/sleep", { "30" }, {})
    finally(function() F.stop(vm) end)
    for _, sig in ipairs({ 0, -1, 65, 1000 }) do
      local ok, err = pcall(vm.kill, vm, sig)
      assert.is_false(ok)
      assert.matches("invalid signal number", err)
    end
    assert.is_true(vm:alive())
  end)

  it("waiting on one VM does not stall or disturb the others", function()
    local ds = { F.dir({ SLEEP = 30 }), F.dir({ EXIT = 4 }), F.dir({ SLEEP = 30 }) }
    local vms = {}
    finally(function()
      for _, vm in ipairs(vms) do F.stop(vm) end
      for _, d in ipairs(ds) do F.kill_dir(d) end
    end)
    for i, d in ipairs(ds) do vms[i] = qemu.launch(F.vm(d)) end
    assert.are.same({ code = 4 }, vms[2]:wait(5))
    assert.is_nil(vms[1]:wait(0.1))
    assert.is_true(vms[1]:alive())
    assert.is_true(vms[3]:alive())
    vms[3]:kill(9)
    assert.are.same({ signal = 9 }, vms[3]:wait(5))
    assert.is_true(vms[1]:alive())
    vms[1]:kill(9)
    assert.are.same({ signal = 9 }, vms[1]:wait(5))
  end)

  it("stderr() with stderr = 'capture' returns what QEMU wrote, while it runs and after", function()
    local d = F.dir({ STDERR = "warning: something\n", SLEEP = 30 })
    local vm = qemu.launch(F.vm(d), { stderr = "capture" })
    finally(function() F.stop(vm); F.kill_dir(d) end)
    assert.is_truthy(F.await(d, "ready", 5))   -- not vm:wait, which drains the pipe
    -- polled without vm:wait, as a script watching QEMU would
    local text
    for _ = 1, 20 do
      text = vm:stderr()
      if text ~= "" then break end
      F.sleep(0.05)
    end
    assert.are.equal("warning: something\n", text)
    assert.is_true(vm:alive())
    vm:kill(9)
    assert.are.same({ signal = 9 }, vm:wait(5))
    assert.are.equal("warning: something\n", vm:stderr())
  end)

  it("a QEMU writing a lot to a captured stderr is not blocked while the script polls alive()", function()
    local d = F.dir({ STDERR_BYTES = 300000, SLEEP = 30 })
    local vm = qemu.launch(F.vm(d), { stderr = "capture" })
    finally(function() F.stop(vm); F.kill_dir(d) end)
    local ready
    for _ = 1, 50 do
      assert.is_true(vm:alive())
      ready = F.read(d, "ready")
      if ready then break end
      F.sleep(0.1)
    end
    assert.is_truthy(ready, "the stand-in is stuck writing to a full stderr pipe")
    assert.are.equal(300000, #vm:stderr())
  end)

  it("stderr() collects a lot of output and wait does not stall on a full pipe", function()
    local d = F.dir({ STDERR_BYTES = 300000, EXIT = 2 })
    local vm = qemu.launch(F.vm(d), { stderr = "capture" })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 2 }, vm:wait(20))
    assert.are.equal(300000, #vm:stderr())
  end)

  it("without capture stderr() is empty and QEMU's stderr is ours", function()
    local d = F.dir()
    local vm = qemu.launch(F.vm(d), { stderr = "inherit" })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    assert.are.equal("", vm:stderr())
    local got = F.received(d)
    assert.are.equal(F.ident(2).target, got[2].target)
  end)

  it("wait ends when QEMU exits even if a process it left holds the stderr pipe", function()
    local d = F.dir({ STDERR = "bye\n", ORPHAN = 10 })
    local vm = qemu.launch(F.vm(d), { stderr = "capture" })
    finally(function() F.stop(vm); F.kill_dir(d) end)
    local t0 = now()
    assert.are.same({ code = 0 }, vm:wait(8))
    assert.is_true(now() - t0 < 5, "wait waited for the orphan")
    assert.are.equal("bye\n", vm:stderr())
    local orphan = tonumber(F.read(d, "orphan"))
    assert.is_false(F.gone(orphan))       -- the premise: it still holds the pipe
  end)

  it("refuses options it does not know", function()
    local ok, err = pcall(qemu.launch, { path = "/bin/true" }, { stderr = "file" })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'qemu.launch' (field 'stderr': invalid option 'file' (expected 'capture' or " ..
      "'inherit'))", err, 1, true)
    ok, err = pcall(qemu.launch, { path = "/bin/true" }, { uid = 0 })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'qemu.launch' (unknown field 'uid')", err, 1, true)
  end)
end)

describe("a QEMU that cannot be executed", function()
  it("is an error naming the binary, not a handle of a dead child", function()
    local dir = H.tmpdir()
    H.write(dir .. "/not-executable", "#!/bin/sh\nexit 0\n")
    local before = child_set()
    local cases = {
      { dir .. "/missing-qemu", "cannot execute '" .. dir .. "/missing-qemu': No such file or directory" },
      { "qlua-no-such-qemu", "cannot execute 'qlua-no-such-qemu': No such file or directory" },
      { dir .. "/not-executable", "cannot execute '" .. dir .. "/not-executable': Permission denied" },
      { dir, "cannot execute '" .. dir .. "': Permission denied" },
    }
    for _, c in ipairs(cases) do
      for _, start in ipairs({
        function() return qemu.launch({ path = c[1] }) end,
        function() return qemu.run({ path = c[1] }) end,
        function() return qemu.launch_custom(c[1], {}, {}) end,
      }) do
        local ok, err = pcall(start)
        assert.is_false(ok)
        assert.are.equal("string", type(err))
        assert.is_truthy(err:find(c[2], 1, true), err)
      end
    end
    assert_no_new_child(before)
  end)

  it("makes ./qlua exit 127 when it does not exist, naming it", function()
    local code, out, err = qlua_sh(fg_script(F.dir(), "/nonexistent/qemu-system-x86_64"))
    assert.are.equal(127, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: cannot execute '/nonexistent/qemu-system-x86_64': No such file or directory\n", err)
    code, _, err = qlua_sh(fg_script(F.dir(), "qlua-no-such-qemu"))
    assert.are.equal(127, code)
    assert.matches("qlua%-no%-such%-qemu", err)
  end)

  it("makes ./qlua exit 126 when it is not executable", function()
    local dir = H.tmpdir()
    H.write(dir .. "/qemu", "#!/bin/sh\nexit 0\n")
    local code, _, err = qlua_sh(fg_script(F.dir(), dir .. "/qemu"))
    assert.are.equal(126, code)
    assert.are.equal("qlua: cannot execute '" .. dir .. "/qemu': Permission denied\n", err)
    code = qlua_sh(fg_script(F.dir(), dir))
    assert.are.equal(126, code)
  end)

  it("a launch failure the script caught does not decide the exit status", function()
    local script = H.script('assert(not pcall(qemu.launch, { path = "/nonexistent/qemu" }))\nerror("boom")\n')
    local code, _, err = qlua_sh(script)
    assert.matches("boom", err)
    assert.are.equal(2, code)
    script = H.script('assert(not pcall(qemu.launch, { path = "/nonexistent/qemu" }))\n')
    code = qlua_sh(script)
    assert.are.equal(0, code)
  end)

  it("in a script that calls qemu.launch makes ./qlua exit 127 too", function()
    local script = H.script('qemu.launch({ path = "/nonexistent/qemu" })\n')
    local code, _, err = qlua_sh(script)
    assert.are.equal(127, code)
    assert.matches("cannot execute '/nonexistent/qemu'", err)
  end)
end)

describe("QEMU's signal state", function()
  -- The stand-in's shell changes its own mask while it waits for a child,
  -- so the state is read by a program exec'ed straight away instead: the
  -- "QEMU" here is /bin/sh -c 'exec grep ... /proc/self/status >FILE'.
  -- The shell that starts qlua ignores 1 HUP, 10 USR1 and 13 PIPE; only the
  -- standard signals (1..31) are checked: 32 and 33 are glibc's own,
  -- sigaction refuses them, a glibc program installs its handlers for them,
  -- and os.execute's shell already starts with them ignored.
  -- A stand-in that ignores its arguments (qlua adds some) and records its
  -- signal state.
  local function probe(file)
    local bin = H.write(H.tmpdir() .. "/probe", "#!/bin/sh\nexec grep -E '^Sig(Blk|Ign):' /proc/self/status >"
                        .. H.q(file) .. "\n")
    os.execute("chmod +x " .. H.q(bin))
    return ("{ path = %q }"):format(bin)
  end
  local function sigs(file)
    local st = assert(H.slurp(file))
    local function std(x) return tonumber(x, 16) & 0x7fffffff end
    return std(st:match("SigBlk:%s*(%x+)")), std(st:match("SigIgn:%s*(%x+)"))
  end

  it("starts with default dispositions and nothing blocked, whatever qlua inherited (launch)", function()
    local file = H.tmpdir() .. "/sig"
    local script = H.script(("local vm = qemu.launch(%s, { qmp = false })\nassert(vm:wait(10).code == 0)\n"):format(probe(file)))
    local code, _, err = H.sh("trap '' HUP USR1 PIPE; exec timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local blk, ign = sigs(file)
    assert.are.equal(0, blk)
    assert.are.equal(0, ign)
  end)

  it("starts with default dispositions and nothing blocked (foreground)", function()
    local file = H.tmpdir() .. "/sig"
    local script = H.script("return " .. probe(file) .. "\n")
    local code, _, err = H.sh("trap '' HUP USR1 PIPE; exec timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local blk, ign = sigs(file)
    assert.are.equal(0, blk)
    assert.are.equal(0, ign)
  end)

  it("the probe sees what a parent leaves ignored (the check can fail)", function()
    -- against the same probe without the trap: what this suite inherited
    -- stays (a shell started in the background ignores INT and QUIT)
    local file, plain = H.tmpdir() .. "/sig", H.tmpdir() .. "/plain"
    assert.are.equal(0, (H.sh("exec grep -E '^Sig(Blk|Ign):' /proc/self/status >" .. H.q(plain))))
    local code = H.sh("trap '' HUP USR1 PIPE; exec grep -E '^Sig(Blk|Ign):' /proc/self/status >" .. H.q(file))
    assert.are.equal(0, code)
    local _, ign = sigs(file)
    local _, inherited = sigs(plain)
    assert.are.equal(inherited | (1 << 0) | (1 << 9) | (1 << 12), ign)
    assert.are_not.equal(inherited, ign)
  end)
end)

describe("qemu.launch_custom", function()
  it("runs a raw argv: path, then the args as given", function()
    local d = F.dir()
    local args = { "-name", "a b", "", "x,y=z", "--fake-dir", d }
    local vm = qemu.launch_custom(F.bin, args, {})
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local want = { F.bin, table.unpack(args) }
    assert.are.same(want, vm.argv)
    assert.are.same(want, F.lines(d, "argv"))
    F.assert_fd_map(d, {})
  end)

  it("leaves uid, gid and groups alone without attrs, and keeps the session", function()
    local d = F.dir()
    local vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, {}, {})
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local mine = ids(H.slurp("/proc/self/status"))
    assert.are.same(mine, ids(F.read(d, "status")))
    assert.are.equal(F.session(F.mypid()), tonumber(F.read(d, "stat"):match("^%d+ %b() %a %d+ %d+ (%d+)")))
  end)

  it("applies uid, gid and groups when given (run as root)", function()
    if ids(H.slurp("/proc/self/status")).uid ~= "0" then
      pending("needs root")
      return
    end
    local d = F.dir()
    local vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, {},
      { uid = 65534, gid = 65534, groups = { 65534, 100 } })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local got = ids(F.read(d, "status"))
    assert.are.equal("65534", got.uid)
    assert.are.equal("65534", got.gid)
    assert.are.equal("100 65534", got.groups)
    -- the four Uid fields: real, effective, saved, filesystem
    assert.matches("Uid:%s+65534%s+65534%s+65534%s+65534", F.read(d, "status"))
  end)

  it("applies only the ids it is given", function()
    if ids(H.slurp("/proc/self/status")).uid ~= "0" then
      pending("needs root")
      return
    end
    local mine = ids(H.slurp("/proc/self/status"))
    local d = F.dir()
    local vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, {}, { uid = 65534 })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local got = ids(F.read(d, "status"))
    assert.are.equal("65534", got.uid)
    assert.are.equal(mine.gid, got.gid)
    assert.are.equal(mine.groups, got.groups)
    d = F.dir()
    vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, {}, { groups = {} })
    assert.are.same({ code = 0 }, vm:wait(5))
    got = ids(F.read(d, "status"))
    assert.are.equal(mine.uid, got.uid)
    assert.are.equal("", got.groups)
  end)

  it("with setsid = true starts QEMU in a session of its own", function()
    local d = F.dir()
    local vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, {}, { setsid = true })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local pgrp, sid = F.read(d, "stat"):match("^%d+ %b() %a %d+ (%d+) (%d+)")
    assert.are.equal(vm.pid, tonumber(sid))
    assert.are.equal(vm.pid, tonumber(pgrp))
  end)

  it("returns a handle like qemu.launch's, with stderr capture", function()
    local vm = qemu.launch_custom("/bin/sh", { "-c", "echo oops >&2; exit 5" }, {}, { stderr = "capture" })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 5 }, vm:wait(5))
    assert.are.equal("oops\n", vm:stderr())
    assert.are.same({ "/bin/sh", "-c", "echo oops >&2; exit 5" }, vm.argv)
  end)

  it("checks its arguments", function()
    local f = qemu.open("/etc/hostname")
    local cases = {
      { { "/bin/true", { 1 }, {} }, "args%[1%]: string expected, got number" },
      { { "/bin/true", { "a\0b" }, {} }, "args%[1%] contains a NUL byte" },
      { { "/bin/true", {}, { 3 } }, "fds%[1%]: qemu.fd expected, got number" },
      { { "/bin/true", {}, { f, "x" } }, "fds%[2%]: qemu.fd expected, got string" },
      { { "/bin/true", {}, {}, { timeout = 1 } }, "unknown field 'timeout'" },
      { { "/bin/true", {}, {}, { uid = "root" } }, "number expected" },
      { { "/bin/true", "x", {} }, "table expected" },
    }
    local many = {}
    for i = 1, 65 do many[i] = 1000 + i end
    -- worded as the description's groups field words it (errors_spec)
    cases[#cases + 1] = { { "/bin/true", {}, {}, { groups = many } },
      "^bad argument #4 to 'qemu%.launch_custom' %(field 'groups': 65 groups %(qlua passes at most 64%)%)$" }
    local before = child_set()
    for _, c in ipairs(cases) do
      local ok, err = pcall(qemu.launch_custom, table.unpack(c[1]))
      assert.is_false(ok)
      assert.matches(c[2], err)
    end
    assert_no_new_child(before)
    f:close()
  end)
end)

describe("./qlua script.lua in the foreground", function()
  it("exits with QEMU's exit status", function()
    for _, n in ipairs({ 0, 3, 1, 125 }) do
      local code, out, err = qlua_sh(fg_script(F.dir({ EXIT = n })))
      assert.are.equal("", out)
      assert.are.equal("", err)
      assert.are.equal(n, code)
    end
  end)

  it("exits 128 + signal when QEMU was killed", function()
    local code = qlua_sh(fg_script(F.dir({ SIGNAL = 9 })))
    assert.are.equal(137, code)
    code = qlua_sh(fg_script(F.dir({ SIGNAL = 15 })))
    assert.are.equal(143, code)
  end)

  it("gives QEMU its standard input and output", function()
    local d = F.dir({ READ = 1, STDOUT = "from qemu\n", STDERR = "qemu err\n" })
    local dir = H.tmpdir()
    local script = H.script(([[
print("before qemu")
return { path = %q, extra_args = { "--fake-dir", %q } }
]]):format(F.bin, d))
    local code = H.sh("printf 'typed line\\nmore\\n' | timeout -s KILL 60 " .. H.qlua_cmd .. " "
      .. H.q(script) .. " >" .. H.q(dir .. "/out") .. " 2>" .. H.q(dir .. "/err"))
    assert.are.equal(0, code)
    assert.are.equal("typed line\n", F.read(d, "stdin"))
    -- qlua's own output comes first (flushed before QEMU starts)
    assert.are.equal("before qemu\nfrom qemu\n", H.slurp(dir .. "/out"))
    assert.are.equal("qemu err\n", H.slurp(dir .. "/err"))
    local got = F.received(d)
    assert.matches("^pipe:%[%d+%]$", got[0].target)
    assert.are.equal(dir .. "/out", got[1].target)
    assert.are.equal(dir .. "/err", got[2].target)
  end)

  it("gives QEMU the terminal qlua runs on", function()
    if os.execute("command -v script >/dev/null") ~= true then
      pending("script(1) is not installed")
      return
    end
    local d = F.dir()
    local cmd = "timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(fg_script(d))
    local code = H.sh("script -qec " .. H.q(cmd) .. " /dev/null </dev/null")
    assert.are.equal(0, code)
    local got = F.received(d)
    assert.matches("^/dev/pts/%d+$", got[0].target)
    assert.are.equal(got[0].target, got[1].target)
    assert.are.equal(got[0].target, got[2].target)
  end)

  for _, s in ipairs({ { "TERM", 15 }, { "INT", 2 }, { "HUP", 1 } }) do
    it("passes SIG" .. s[1] .. " on to QEMU, waits for it and exits " .. 128 + s[2] .. ", not QEMU's status", function()
      local d = F.dir({ TRAP = 1, SLEEP = 30 })
      local vm = F.spawn_qlua(fg_script(d))
      finally(function() F.stop(vm); F.kill_dir(d) end)
      assert.is_truthy(F.await(d, "ready", 10, vm), "the stand-in did not start")
      assert.is_true(vm:kill(s[2]))
      -- the stand-in traps it, records it and exits 40 + signal (as QEMU
      -- exits 0 after it handled one): the user interrupted, so qlua says so
      -- (`qlua vm.lua && next-step` must not go on)
      assert.are.same({ code = 128 + s[2] }, vm:wait(10))
      assert.is_true(F.await_gone(tonumber(F.read(d, "pid")), 3))
      assert.are.same({ s[1] }, F.lines(d, "signals"))
    end)
  end

  it("exits 143 when the SIGTERM it passed on killed QEMU", function()
    local d = F.dir({ SLEEP = 30 })
    local vm = F.spawn_qlua(fg_script(d))
    finally(function() F.stop(vm); F.kill_dir(d) end)
    assert.is_truthy(F.await(d, "ready", 10, vm))
    F.sleep(0.1)   -- "ready" comes just before the exec of sleep
    assert.is_true(vm:kill(15))
    assert.are.same({ code = 143 }, vm:wait(10))
    assert.is_true(F.await_gone(tonumber(F.read(d, "pid")), 3))
  end)

  it("does not die of a signal it passed on: it waits for QEMU", function()
    -- the stand-in records SIGTERM and keeps running; so must qlua
    local d = F.dir({ TRAP = "keep", SLEEP = 30 })
    local vm = F.spawn_qlua(fg_script(d))
    finally(function() F.stop(vm); F.kill_dir(d) end)
    assert.is_truthy(F.await(d, "ready", 10, vm))
    assert.is_true(vm:kill(15))
    assert.is_truthy(F.await(d, "signals", 5, vm))
    assert.is_nil(vm:wait(0.5))
    assert.is_true(vm:kill(1))
    vm:wait(0.5)
    assert.are.same({ "TERM", "HUP" }, F.lines(d, "signals"))
    assert.is_true(vm:alive())
    F.kill(tonumber(F.read(d, "pid")))
    -- the first signal the user sent decides the status
    assert.are.same({ code = 143 }, vm:wait(10))
  end)
end)

describe("the QEMU process never outlives what owns it", function()
  it("a handle that is garbage collected stops its QEMU", function()
    local d = F.dir({ SLEEP = 30 })
    local before = child_set()
    finally(function() F.kill_dir(d) end)
    local pid
    do
      local vm = qemu.launch(F.vm(d))
      pid = vm.pid
      assert.is_truthy(F.await(d, "ready", 5, vm))
    end
    collectgarbage(); collectgarbage()
    assert.is_true(F.gone(pid))
    assert_no_new_child(before)    -- and it was reaped, not left a zombie
  end)

  it("a handle in a <close> variable stops its QEMU at scope exit, on error too", function()
    local d1, d2 = F.dir({ SLEEP = 30 }), F.dir({ SLEEP = 30 })
    local before = child_set()
    finally(function() F.kill_dir(d1); F.kill_dir(d2) end)
    local keep, pid
    do
      local vm <close> = qemu.launch(F.vm(d1))
      keep, pid = vm, vm.pid
      assert.is_truthy(F.await(d1, "ready", 5, vm))
    end
    assert.is_true(F.gone(pid))
    assert.is_false(keep:alive())
    local ok = pcall(function()
      local vm <close> = qemu.launch(F.vm(d2))
      pid = vm.pid
      assert(F.await(d2, "ready", 5, vm))
      error("the test failed")
    end)
    assert.is_false(ok)
    assert.is_true(F.gone(pid))
    keep = nil
    assert_no_new_child(before)
  end)

  it("a detached QEMU survives its handle and qlua", function()
    local d = F.dir({ SLEEP = 30 })
    finally(function() F.kill_dir(d) end)
    local script = H.script(([[
do
  local vm = qemu.launch({ path = %q, extra_args = { "--fake-dir", %q } }, { detach = true })
  local f = io.open(%q .. "/launched", "w"); f:write(vm.pid, "\n"); f:close()
end
collectgarbage(); collectgarbage()
]]):format(F.bin, d, d))
    local code, _, err = qlua_sh(script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local pid = tonumber(F.read(d, "launched"))
    assert.is_truthy(F.await(d, "ready", 5))
    F.sleep(0.3)
    assert.is_false(F.gone(pid))
    F.kill(pid)
    assert.is_true(F.await_gone(pid, 3))
  end)

  it("a QEMU launched by a script dies when qlua is killed (SIGKILL)", function()
    local d = F.dir({ SLEEP = 30 })
    local script = H.script(([[
local vm = qemu.launch({ path = %q, extra_args = { "--fake-dir", %q } })
local t = os.time()
while os.time() - t < 30 do end   -- busy: qlua itself sleeps in Lua
]]):format(F.bin, d))
    local q = F.spawn_qlua(script)
    finally(function() F.stop(q); F.kill_dir(d) end)
    assert.is_truthy(F.await(d, "ready", 10, q), "the stand-in did not start")
    local pid = tonumber(F.read(d, "pid"))
    assert.is_false(F.gone(pid))
    q:kill(9)
    assert.are.same({ signal = 9 }, q:wait(5))
    assert.is_true(F.await_gone(pid, 3), "the stand-in outlived qlua")
  end)

  it("a foreground QEMU dies when qlua is killed (SIGKILL)", function()
    local d = F.dir({ SLEEP = 30 })
    local q = F.spawn_qlua(fg_script(d))
    finally(function() F.stop(q); F.kill_dir(d) end)
    assert.is_truthy(F.await(d, "ready", 10, q))
    local pid = tonumber(F.read(d, "pid"))
    q:kill(9)
    assert.are.same({ signal = 9 }, q:wait(5))
    assert.is_true(F.await_gone(pid, 3), "the stand-in outlived qlua")
  end)
end)

describe("many launches", function()
  it("1000 launch/wait cycles leave this process's descriptors and children as they were", function()
    local before_fds, before = F.fdcount(), child_set()
    -- (no bound on the time they take: tests assert no timings; each wait
    -- has its own 5 s timeout, so a stuck cycle fails rather than hangs)
    for i = 1, 1000 do
      local vm = qemu.launch_custom("/bin/true", {}, {}, i % 2 == 0 and { stderr = "capture" } or nil)
      local st = vm:wait(5)
      if not st then F.stop(vm) end
      assert(st and st.code == 0, "cycle " .. i .. " did not end")
    end
    collectgarbage(); collectgarbage()
    assert.are.equal(before_fds, F.fdcount())
    assert_no_new_child(before)
  end)

  it("qemu.run, failed launches and collected handles leak nothing either", function()
    local before_fds, before = F.fdcount(), child_set()
    for _ = 1, 200 do
      local ok, _, st = qemu.run({ path = "/bin/true" }, { timeout = 5 })
      assert(ok and st.code == 0)
    end
    for _ = 1, 200 do
      assert(not pcall(qemu.launch, { path = "/nonexistent/qemu" }))
    end
    for _ = 1, 50 do
      qemu.launch_custom("/bin/sleep", { "30" }, {}, { stderr = "capture" })
    end
    collectgarbage(); collectgarbage()
    assert.are.equal(before_fds, F.fdcount())
    assert_no_new_child(before)
  end)
end)

describe("the description's uid, gid and groups", function()
  it("apply to a foreground QEMU (qlua vm.lua) too, and only when given", function()
    local d = H.tmpdir()
    os.execute("chmod 777 " .. H.q(d))
    local probe = H.write(d .. "/probe", "#!/bin/sh\nid -u > " .. H.q(d) .. "/uid\nid -g > " .. H.q(d) .. "/gid\n")
    os.execute("chmod 755 " .. H.q(probe))
    local code, _, err = H.qlua(H.script(("return { path = %q, uid = 65534, gid = 65534, groups = { 65534 } }\n"):format(probe)))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("65534\n", H.slurp(d .. "/uid"))
    assert.are.equal("65534\n", H.slurp(d .. "/gid"))
    code = H.qlua(H.script(("return { path = %q }\n"):format(probe)))
    assert.are.equal(0, code)
    assert.are.equal(io.popen("id -u"):read("a"), H.slurp(d .. "/uid"))
  end)
end)
