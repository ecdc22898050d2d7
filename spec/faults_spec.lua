-- spec/faults_spec.lua - fault injection (hardening): files that
-- are missing or unreadable, programs that cannot be executed, running out
-- of descriptors, a full disk under the logs and a matrix's reports, QEMU
-- killed at every stage, and signals to qlua while it launches.  Each fault
-- must end in a clear error (its exact text) or exit status, leak no
-- descriptor of this process, leave no child (no zombie, no orphan QEMU)
-- and never hang: every wait is bounded, every ./qlua runs under
-- timeout(1).
--
-- The real QEMU (-machine none, TCG) is used wherever it can show the
-- fault; the stand-ins only where it cannot be made to fail on cue:
-- spec/support/fake-die (speaks QMP, kills itself at a chosen stage) and
-- spec/support/fake-qemu.  What other specs already cover is named where it
-- would belong here, not repeated.
local H = require "helper"
local F = require "support.fake"
local lfs = require "lfs"
local qemu = H.qemu

local DIE = H.root .. "/spec/support/fake-die"
local NOBODY = "setpriv --reuid=65534 --regid=65534 --clear-groups "
local T = { timeout = 20 }

local now = F.now

local function cleanups() return F.cleanups(finally) end

local await = F.wait_until

-- The event loop's own descriptor is made by the first launch: made now,
-- so the counts below compare like with like.
do
  local warm = qemu.launch({ path = "/bin/true" })
  warm:wait(5)
end

-- Notes this process's descriptors and children; the function returned
-- asserts both are as they were (no descriptor leaked, nothing left
-- running or unreaped).
local function leak_guard()
  local fds, kids = F.fdcount(), F.child_set()
  return function()
    collectgarbage(); collectgarbage()
    assert.are.equal(fds, F.fdcount(), "descriptors leaked")
    F.assert_no_new_child(kids)
  end
end

local pids_with = F.pids_with

-- Asserts that within 3 s no process has text in its command line.
local function assert_none_left(text)
  assert.is_truthy(await(function() return #pids_with(text) == 0 end, 3),
    "left running: " .. table.concat(pids_with(text), " "))
end

-- A word no other process has in its command line.
local unique = H.unique

-- True when this process is root; otherwise marks the test pending (runs as
-- another user, namespaces and mknod need root) and returns false.
local function root()
  if H.slurp("/proc/self/status"):match("Uid:%s*(%d+)") == "0" then return true end
  pending("needs root")
  return false
end

-- True (and the test pending) under make check-valgrind, for the faults
-- valgrind itself changes: it keeps descriptors of its own near the limit
-- (and reads RLIMIT_NOFILE once, at start), and it emulates execve's
-- checks of #! scripts itself.
local function under_valgrind(why)
  if (os.getenv("QLUA_WRAP") or ""):find("valgrind", 1, true) then
    pending("under valgrind: " .. why)
    return true
  end
  return false
end

-- A temporary directory everyone may enter (mktemp makes it 0700), for
-- runs as nobody.
local function public_dir()
  local d = H.tmpdir()
  os.execute("chmod 755 " .. H.q(d))
  return d
end

-- Runs a shell command line, standard input /dev/null, as a child that
-- qemu.launch_custom starts: it gets descriptors 0, 1 and 2 only (the shell
-- of os.execute would inherit whatever busted holds open, and the limits
-- below would count it).  Bounded: killed after 90 s.  Returns code,
-- stdout, stderr.
local function run(cmd)
  local d = H.tmpdir()
  local vm = qemu.launch_custom("/bin/sh", { "-c", cmd .. " </dev/null >" .. H.q(d .. "/out")
    .. " 2>" .. H.q(d .. "/err") }, {})
  local st = vm:wait(90)
  if not st then
    vm:kill(9)
    st = vm:wait(5)
  end
  return st.code or 128 + st.signal, H.slurp(d .. "/out"), H.slurp(d .. "/err")
end

-- Runs ./qlua with argument words after a command prefix (setpriv, env,
-- prlimit, ...), bounded by timeout(1).  Returns code, stdout, stderr.
local function qlua(prefix, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = H.q(a) end
  return run("timeout -s KILL 60 " .. (prefix or "") .. H.qlua_cmd .. " " .. table.concat(words, " "))
end

local real_desc = F.real_desc

-- A Lua literal of a string (for scripts written by the tests).
local function lit(s)
  return ("%q"):format(s)
end

-- A char device like /dev/full (writes fail with ENOSPC) in a temporary
-- directory, or nil.  Never /dev/full itself: QEMU unlinks a pidfile it
-- cannot truncate, and a typo'd open with O_CREAT would make a file there.
local function full_device()
  local path = H.tmpdir() .. "/full"
  if os.execute("mknod " .. H.q(path) .. " c 1 7 2>/dev/null") ~= true then return nil end
  local f = io.open(path, "w")
  if not f then return nil end
  local ok, _, errno = f:write("x")
  if ok then ok, _, errno = f:flush() end
  f:close()
  return not ok and errno == 28 and path or nil   -- 28: ENOSPC
end

-- ---- 1. missing and unreadable files -------------------------------------------

describe("a script or a library qlua cannot read", function()
  -- (a missing script: spec/cli_spec.lua, "qlua: cannot open nope.lua: ...")
  it("an unreadable script (qlua run as nobody) or a directory: exit 2, naming it", function()
    if not root() then return end
    local d = public_dir()
    local script = H.write(d .. "/vm.lua", "return {}\n")
    os.execute("chmod 600 " .. H.q(script))
    local code, out, err = qlua(NOBODY, script)
    assert.are.equal("qlua: cannot open " .. script .. ": Permission denied\n", err)
    assert.are.equal(2, code)
    assert.are.equal("", out)
    code, out, err = qlua(nil, d)
    assert.are.equal("qlua: cannot read " .. d .. ": Is a directory\n", err)
    assert.are.equal(2, code)
  end)

  it("a library: -L DIR without it, a module nobody may read, one that does not compile: exit 2", function()
    if not root() then return end
    local d = public_dir()
    lfs.mkdir(d .. "/lib"); lfs.mkdir(d .. "/lib/qemu")
    os.execute("chmod 755 " .. H.q(d .. "/lib") .. " " .. H.q(d .. "/lib/qemu"))
    -- Lua's searchers list where they looked; the first places are ours
    -- (a module the built-in library has comes from there: spec/cli_spec.lua)
    local code, _, err = qlua(nil, "-L", d .. "/lib", "-e", 'require "qemu.mine"')
    assert.are.equal(2, code)
    local want = "qlua: (command line):1: module 'qemu.mine' not found:\n"
      .. "\tno field package.preload['qemu.mine']\n"
      .. "\tno file '" .. d .. "/lib/qemu/mine.lua'\n"
    assert.are.equal(want, err:sub(1, #want))
    -- a file it may not read is, for Lua's searcher, a file that is not there
    -- (it tries fopen): the message still names the path it tried
    H.write(d .. "/lib/qemu/mine.lua", "return { x = 1 }\n")
    os.execute("chmod 600 " .. H.q(d .. "/lib/qemu/mine.lua"))
    local script = H.write(d .. "/vm.lua", 'local mine = require "qemu.mine"\nreturn mine\n')
    code, _, err = qlua(NOBODY, "-L", d .. "/lib", script)
    assert.are.equal(2, code)
    want = "qlua: " .. script .. ":1: module 'qemu.mine' not found:\n"
      .. "\tno field package.preload['qemu.mine']\n"
      .. "\tno file '" .. d .. "/lib/qemu/mine.lua'\n"
    assert.are.equal(want, err:sub(1, #want))
    H.write(d .. "/lib/qemu/bad.lua", "syntax error here(\n")
    code, _, err = qlua(nil, "-L", d .. "/lib", "-e", 'require "qemu.bad"')
    assert.are.equal(2, code)
    assert.are.equal("qlua: error loading module 'qemu.bad' from file '" .. d .. "/lib/qemu/bad.lua':\n\t"
      .. d .. "/lib/qemu/bad.lua:1: syntax error near 'error'\n", err)
  end)
end)

describe("files qlua opens for a VM", function()
  -- (qemu.open of a missing file or a directory: spec/fd_spec.lua)
  it("in a directory that is missing or not a directory: an error naming the file, no leak", function()
    local d = H.tmpdir()
    H.write(d .. "/plain", "")
    local check = leak_guard()
    for _, where in ipairs({ { d .. "/missing", "No such file or directory" }, { d .. "/plain", "Not a directory" } }) do
      local dir, why = where[1], where[2]
      local ok, err = pcall(qemu.launch, { path = DIE }, { stderr_log = dir .. "/stderr.log" })
      assert.is_false(ok)
      assert.are.equal("cannot open '" .. dir .. "/stderr.log': " .. why, err)
      ok, err = pcall(qemu.run, { path = DIE }, { stderr_log = dir .. "/stderr.log" })
      assert.is_false(ok)
      assert.are.equal("cannot open '" .. dir .. "/stderr.log': " .. why, err)
      ok, err = pcall(qemu.open, dir .. "/disk.img", "rw")
      assert.is_false(ok)
      assert.are.equal("cannot open '" .. dir .. "/disk.img': " .. why, err)
      -- the logs of a running VM: the call fails, the VM runs on
      local vm = qemu.launch({ path = DIE }, { console = "capture" })
      ok, err = pcall(vm.console.log, vm.console, dir .. "/console.log")
      assert.is_false(ok)
      assert.are.equal("cannot open '" .. dir .. "/console.log': " .. why, err)
      ok, err = pcall(vm.qmp.log, vm.qmp, dir .. "/qmp.log")
      assert.is_false(ok)
      assert.are.equal("cannot open '" .. dir .. "/qmp.log': " .. why, err)
      assert.are.same({}, vm.qmp:execute("query-status", nil, T))
      assert.are.same({ code = 0 }, (vm:shutdown({ timeout = 0 })))
    end
    check()
  end)

  it("that it may not write or read (qlua run as nobody): the script's line, the file, exit 0 once caught", function()
    if not root() then return end
    local d = public_dir()
    lfs.mkdir(d .. "/locked")                          -- root's, 0700
    os.execute("chmod 700 " .. H.q(d .. "/locked"))
    H.write(d .. "/secret.img", "")
    os.execute("chmod 600 " .. H.q(d .. "/secret.img"))
    local script = H.write(d .. "/vm.lua", ([[
local dir, die = %s, %s
local function try(f) local ok, e = pcall(f); print(ok, e) end
try(function() local v = qemu.launch({ path = die }, { stderr_log = dir .. "/locked/stderr.log" }) end)
try(function() local f = qemu.open(dir .. "/secret.img", "rw") end)
local vm = qemu.launch({ path = die }, { console = "capture" })
try(function() local r = vm.console:log(dir .. "/locked/console.log") end)
try(function() local r = vm.qmp:log(dir .. "/locked/qmp.log") end)
assert(vm.qmp:execute("query-status", nil, { timeout = 20 }))
]]):format(lit(d), lit(DIE)))
    local code, out, err = qlua(NOBODY, script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local s = script
    assert.are.equal(table.concat({
      "false\t" .. s .. ":3: cannot open '" .. d .. "/locked/stderr.log': Permission denied",
      "false\t" .. s .. ":4: cannot open '" .. d .. "/secret.img': Permission denied",
      "false\t" .. s .. ":6: cannot open '" .. d .. "/locked/console.log': Permission denied",
      "false\t" .. s .. ":7: cannot open '" .. d .. "/locked/qmp.log': Permission denied",
    }, "\n") .. "\n", out)
  end)
end)

describe("files QEMU opens", function()
  -- QEMU's own message (QEMU 7.2's words), QEMU's exit code 1, and qemu.run
  -- returns them; nothing is left running.
  it("missing: the disk image, kernel, pflash, console file, log file, pidfile, QMP socket", function()
    local d = H.tmpdir() .. "/missing"
    local Q = H.qemu_bin .. ": "
    local cases = {
      { { devices = { qemu.block { id = "d0", file = d .. "/disk.img", format = "raw" } } }, nil,
        Q .. "-drive id=d0,file=" .. d .. "/disk.img,format=raw,if=none: Could not open '" .. d
          .. "/disk.img': No such file or directory\n" },
      { { machine = { type = "pc" }, kernel = { path = d .. "/vmlinuz" } }, nil,
        "qemu: could not open kernel file '" .. d .. "/vmlinuz': No such file or directory\n" },
      { { machine = { type = "pc" }, pflash = { d .. "/flash.fd" } }, nil,
        Q .. "-drive if=pflash,format=raw,unit=0,file=" .. d .. "/flash.fd: Could not open '" .. d
          .. "/flash.fd': No such file or directory\n" },
      { {}, { console = "file:" .. d .. "/console.log" },
        Q .. "-chardev file,id=qlua-console,path=" .. d .. "/console.log: Could not open '" .. d
          .. "/console.log': No such file or directory\n" },
      { { log_file = d .. "/qemu.log" }, nil,
        Q .. "Error opening logfile " .. d .. "/qemu.log: No such file or directory\n" },
      { { pidfile = d .. "/qemu.pid" }, nil,
        Q .. "cannot create PID file: Could not create '" .. d .. "/qemu.pid': No such file or directory\n" },
      { { qmp = { { path = d .. "/qmp.sock" } } }, nil,
        Q .. "-chardev socket,id=qlua-qmp0,path=" .. d .. "/qmp.sock,server=on,wait=off: Failed to bind socket to "
          .. d .. "/qmp.sock: No such file or directory\n" },
    }
    local check = leak_guard()
    for i, c in ipairs(cases) do
      local opts = c[2] or {}
      opts.timeout = 30
      local ok, text, status = qemu.run(real_desc(c[1]), opts)
      assert.are.equal(c[3], text, "case " .. i)
      assert.is_false(ok)
      assert.are.same({ code = 1 }, status, "case " .. i)
    end
    -- the same through qemu.launch: the first QMP call says QEMU exited
    local vm = qemu.launch(real_desc({ log_file = d .. "/qemu.log" }))
    local r, err = vm.qmp:execute("query-status", nil, T)
    assert.is_nil(r)
    assert.are.equal("Disconnected: QEMU exited (code 1) before query-status", tostring(err))
    assert.are.equal(cases[5][3], vm:stderr())
    vm = nil
    check()
  end)

  it("unreadable (qlua run as nobody, a foreground VM): QEMU's message, exit 1", function()
    if not root() then return end
    local d = public_dir()
    H.write(d .. "/disk.img", "")
    os.execute("chmod 600 " .. H.q(d .. "/disk.img"))
    local script = H.write(d .. "/vm.lua", ([[
local desc = { path = %s, machine = { type = "none" }, knobs = { no_defaults = true },
  devices = { qemu.block { id = "d0", file = %s, format = "raw", read_only = true } } }
return desc
]]):format(lit(H.qemu_bin), lit(d .. "/disk.img")))
    local code, out, err = qlua(NOBODY, script)
    assert.are.equal(H.qemu_bin .. ": -drive id=d0,file=" .. d .. "/disk.img,format=raw,if=none,readonly=on: "
      .. "Could not open '" .. d .. "/disk.img': Permission denied\n", err)
    assert.are.equal(1, code)
    assert.are.equal("", out)
  end)
end)

-- ---- 2. a QEMU that cannot be executed -------------------------------------------

describe("a QEMU that cannot be executed", function()
  -- (missing: 127; not executable, a directory: 126 and the error of
  -- launch, run and launch_custom: spec/process_spec.lua and cli_spec.lua)
  local function bins()
    local d = H.tmpdir()
    local marker = d .. "/ran-as-a-shell-script"
    local function exe(name, text)
      H.write(d .. "/" .. name, text)
      os.execute("chmod 755 " .. H.q(d .. "/" .. name))
      return d .. "/" .. name
    end
    H.write(d .. "/not-executable", "#!/bin/sh\n")
    -- a copy of /bin/true whose dynamic loader (its ELF interpreter) is
    -- renamed to one that does not exist, as a binary built elsewhere
    local elf = H.slurp("/bin/true")
    local _, last = elf:find("/lib[%w_]*/ld%-[%w%-_%.]+%.so%.%d")
    local badelf = last and exe("badelf", elf:sub(1, last - 1) .. "X" .. elf:sub(last + 1))
    return {
      badelf = badelf,
      garbage = exe("garbage", "\127ELF\2\1\1\0garbage, not a program\n"),
      empty = exe("empty", ""),
      -- what execvp would have run with /bin/sh: it must not run at all
      noshebang = exe("noshebang", "touch " .. H.q(marker) .. "\nexit 0\n"),
      interp = exe("interp", "#!/nonexistent/interpreter -x\n"),
      crlf = exe("crlf", "#!/bin/sh\r\nexit 0\r\n"),
      interp_noexec = exe("interp-noexec", "#!" .. d .. "/not-executable\n"),
    }, marker, d
  end

  it("a file that is not a program is 'Exec format error' (126), never run with /bin/sh", function()
    local b, marker = bins()
    local check = leak_guard()
    for _, name in ipairs({ "garbage", "empty", "noshebang" }) do
      local want = "cannot execute '" .. b[name] .. "': Exec format error"
      for _, start in ipairs({
        function() return qemu.launch({ path = b[name] }) end,
        function() return qemu.run({ path = b[name] }) end,
        function() return qemu.launch_custom(b[name], {}, {}) end,
      }) do
        local ok, err = pcall(start)
        assert.is_false(ok)
        assert.are.equal("string", type(err))
        assert.are.equal(want, err:gsub("^[^:]*:%d+: ", ""), name)
      end
    end
    check()
    assert.is_nil(lfs.attributes(marker), "the file was run as a shell script")
  end)

  it("a #! interpreter that does not exist or cannot run is a 'bad interpreter'; an ELF loader that does not, said", function()
    if under_valgrind("valgrind checks a #! script's interpreter itself before execve") then return end
    local b, _, d = bins()
    local check = leak_guard()
    local cases = {
      { b.interp, "cannot execute '" .. b.interp .. "': bad interpreter '/nonexistent/interpreter' (No such file or directory)" },
      { b.crlf, "cannot execute '" .. b.crlf .. "': bad interpreter '/bin/sh^M' (No such file or directory)" },
      { b.interp_noexec, "cannot execute '" .. b.interp_noexec .. "': bad interpreter '" .. d
        .. "/not-executable' (Permission denied)" },
    }
    if b.badelf then  -- (only where /bin/true names its loader as /lib*/ld-*.so.N)
      cases[#cases + 1] = { b.badelf, "cannot execute '" .. b.badelf .. "': No such file or directory "
        .. "(the file exists: the ELF interpreter it names does not)" }
    end
    for _, c in ipairs(cases) do
      local ok, err = pcall(qemu.launch, { path = c[1] })
      assert.is_false(ok)
      assert.are.equal(c[2], err)
      ok, err = pcall(qemu.launch_custom, c[1], {}, {})
      assert.is_false(ok)
      assert.are.equal(c[2], err)
    end
    check()
  end)

  it("./qlua in the foreground exits 126 or 127 with the reason, for each kind of failure", function()
    if under_valgrind("valgrind checks a #! script's interpreter itself before execve") then return end
    local b, _, d = bins()
    local function fg(path)
      return qlua(nil, H.script(("return { path = %s }\n"):format(lit(path))))
    end
    local cases = {
      { b.garbage, 126, "Exec format error" },
      { b.noshebang, 126, "Exec format error" },
      { b.interp, 127, "bad interpreter '/nonexistent/interpreter' (No such file or directory)" },
      { d, 126, "Permission denied" },
    }
    if b.badelf then
      cases[#cases + 1] = { b.badelf, 127, "No such file or directory (the file exists: the ELF interpreter it names does not)" }
    end
    for _, c in ipairs(cases) do
      local code, out, err = fg(c[1])
      assert.are.equal("qlua: cannot execute '" .. c[1] .. "': " .. c[3] .. "\n", err)
      assert.are.equal(c[2], code)
      assert.are.equal("", out)
    end
  end)

  it("a name searched in $PATH names the file that failed; a script's launch exits 126", function()
    local d = H.tmpdir()
    H.write(d .. "/qemu-bad", "\127ELF garbage\n")
    os.execute("chmod 755 " .. H.q(d .. "/qemu-bad"))
    local env = "env PATH=" .. H.q("/nonexistent:" .. d .. ":/usr/bin:/bin") .. " "
    local code, _, err = qlua(env, "-e", 'qemu.launch({ path = "qemu-bad" })')
    assert.are.equal("qlua: (command line):1: cannot execute 'qemu-bad' (" .. d .. "/qemu-bad): Exec format error\n", err)
    assert.are.equal(126, code)
    -- not found anywhere: the name alone, 127
    code, _, err = qlua(env, "-e", 'qemu.launch({ path = "qemu-none" })')
    assert.are.equal("qlua: (command line):1: cannot execute 'qemu-none': No such file or directory\n", err)
    assert.are.equal(127, code)
  end)
end)

-- ---- 3. out of descriptors ---------------------------------------------------------

-- The pattern of every error a launch gives when qlua runs out of
-- descriptors: which one depends on the descriptor that hit the limit, each
-- says what it was for, or that qlua's limit (NOFILE) was reached.
local function emfile_message(msg, limit)
  local forms = {
    "cannot create a pipe to start '[^']+': Too many open files",
    "cannot create a pipe for QEMU's stderr: Too many open files",
    "cannot create a socketpair for QEMU's QMP channel: Too many open files",
    "cannot create a socketpair for QEMU's console: Too many open files",
    "cannot use descriptor %d+ as standard %a+: Too many open files %(qlua reached its limit of "
      .. limit .. " open descriptors%)",
    "cannot pass descriptor %d+ as fd %d+: Too many open files %(qlua reached its limit of "
      .. limit .. " open descriptors%)",
    "cannot move the start report pipe out of fds 0%-%d+: Too many open files %(qlua reached its limit of "
      .. limit .. " open descriptors%)",
    "cannot watch QEMU %(pidfd_open: Too many open files%)",
  }
  for _, f in ipairs(forms) do
    if msg:match("^" .. f .. "$") then return true end
  end
  return false
end

describe("RLIMIT_NOFILE exhausted", function()
  it("qlua vm.lua whose script opens more than the limit: exit 2 at that line, nothing started", function()
    local d = F.dir()
    local script = H.script(([[
KEEP = {}
for i = 1, 64 do KEEP[i] = qemu.open("/dev/null") end
return { path = %s, extra_args = { "--fake-dir", %s } }
]]):format(lit(F.bin), lit(d)))
    local code, out, err = qlua("prlimit --nofile=32:32 ", script)
    assert.are.equal("qlua: " .. script .. ":2: cannot open '/dev/null': Too many open files\n", err)
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.is_nil(F.read(d, "argv"))
  end)

  it("qlua vm.lua at the limit: one descriptor short is exit 2 and nothing runs; two are enough", function()
    local function attempt(free)
      local d = F.dir()
      local script = H.script(([[
KEEP = {}   -- a global: nothing may close them before the launch
while pcall(function() KEEP[#KEEP + 1] = qemu.open("/dev/null") end) do end
for _ = 1, %d do table.remove(KEEP):close() end
return { path = %s, extra_args = { "--fake-dir", %s } }
]]):format(free, lit(F.bin), lit(d)))
      local code, out, err = qlua("prlimit --nofile=40:40 ", script)
      return code, out, err, d
    end
    -- the start report pipe needs two
    local code, _, err, d = attempt(1)
    assert.are.equal("qlua: cannot create a pipe to start '" .. F.bin .. "': Too many open files\n", err)
    assert.are.equal(2, code)
    assert.is_nil(F.read(d, "argv"))
    -- and QEMU gets 0, 1, 2 only, whatever qlua holds
    code, _, err, d = attempt(2)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    F.assert_fd_map(d, {})
  end)

  it("at the limit with a low free slot: the child's failure is reported, not taken for a started QEMU", function()
    if under_valgrind("valgrind keeps descriptors of its own below the limit") then return end
    -- The start report pipe gets the two lowest numbers, below the 20
    -- descriptors of the map, and the child must move it above them: with
    -- every number up to the limit taken, it cannot.  (It used to exit 126
    -- without a report, which read as a successful exec: a handle of a
    -- "running" QEMU that never ran.)
    local script = H.script([[
KEEP = {}
while pcall(function() KEEP[#KEEP + 1] = qemu.open("/dev/null") end) do end
table.remove(KEEP, 1):close(); table.remove(KEEP, 1):close()
local map = {}
for i = 1, 20 do map[i] = KEEP[#KEEP - i + 1] end
local ok, err = pcall(function() local vm = qemu.launch_custom("/bin/true", {}, map) end)
print(ok, err)
]])
    local code, out, err = qlua("prlimit --nofile=40:40 ", script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("false\t" .. script .. ":6: cannot move the start report pipe out of fds 0-22: "
      .. "Too many open files (qlua reached its limit of 40 open descriptors)\n", out)
  end)

  it("no process left (RLIMIT_NPROC, as a user of its own): 'cannot fork', exit 2 (qlua's failure, not QEMU's)", function()
    if not root() then return end
    local d = public_dir()
    local launch = H.write(d .. "/launch.lua", 'local vm = qemu.launch({ path = "/bin/true" })\n')
    local fg = H.write(d .. "/vm.lua", 'return { path = "/bin/true" }\n')
    os.execute("chmod 644 " .. H.q(launch) .. " " .. H.q(fg))
    -- a uid no other process has: the limit counts every process of the user
    -- (make check-asan: LeakSanitizer needs a thread of its own at exit,
    -- which it cannot have here; leaks are checked everywhere else)
    local as = "env ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" " ..
      "prlimit --nproc=1:1 setpriv --reuid=54321 --regid=54321 --clear-groups "
    local code, _, err = qlua(as, launch)
    assert.are.equal("qlua: " .. launch .. ":1: cannot fork to start '/bin/true': Resource temporarily unavailable\n", err)
    assert.are.equal(2, code)
    code, _, err = qlua(as, fg)
    assert.are.equal("qlua: cannot fork to start '/bin/true': Resource temporarily unavailable\n", err)
    assert.are.equal(2, code)
  end)

  it("qemu.tap with more queues than the limit allows: the queue that failed, none left open", function()
    if not root() then return end
    if os.execute("test -c /dev/net/tun") ~= true then
      pending("no /dev/net/tun")
      return
    end
    H.in_netns(function(ns)
      local script = H.script('local q = qemu.tap("qf0", { queues = 64 })\n')
      local code, _, err = qlua("ip netns exec " .. ns .. " prlimit --nofile=32:32 ", script)
      assert.matches("^qlua: " .. script:gsub("%p", "%%%0") .. ":1: cannot open '/dev/net/tun' for tap 'qf0' queue %d+: "
        .. "Too many open files\n$", err)
      assert.are.equal(2, code)
      -- the queues it had opened were closed: the tap went with them
      assert.are_not.equal(0, (H.sh("ip netns exec " .. ns .. " ip link show qf0")))
    end)
  end)

  it("a script launching VMs until the limit: exit 2 saying what ran out, every VM stopped", function()
    if under_valgrind("valgrind keeps descriptors of its own below the limit") then return end
    local tag = unique("qlua-faults-nofile")
    local dir = H.tmpdir()
    local script = H.script(([[
local dir, die, tag = %s, %s, %s
local pids = assert(io.open(dir .. "/pids", "w"))
local vms = {}
while true do
  local vm = qemu.launch({ path = die, extra_args = { "--tag", tag } }, { console = "capture" })
  pids:write(vm.pid, "\n"); pids:flush()
  vms[#vms + 1] = vm
end
]]):format(lit(dir), lit(DIE), lit(tag)))
    local code, _, err = qlua("prlimit --nofile=64:64 ", script)
    local msg = err:match("^qlua: " .. script:gsub("%p", "%%%0") .. ":5: (.*)\n$")
    assert.is_truthy(msg and emfile_message(msg, 64), err)
    assert.are.equal(2, code)
    local started = F.lines(dir, "pids")
    assert.is_true(#started >= 2, "only " .. #started .. " VMs started")
    for _, p in ipairs(started) do assert.is_true(F.await_gone(tonumber(p), 3), "pid " .. p) end
    assert_none_left(tag)
  end)

  it("in this process: launches fail cleanly at the limit, the VMs before still answer, and stopping them frees all", function()
    if under_valgrind("valgrind keeps descriptors of its own below the limit") then return end
    local defer = cleanups()
    local check = leak_guard()
    local tag = unique("qlua-faults-inproc")
    local p = io.popen("prlimit --pid " .. F.mypid() .. " --nofile -o SOFT,HARD --raw --noheadings")
    local soft, hard = p:read("l"):match("^(%w+)%s+(%w+)$")
    p:close()
    local function restore()
      os.execute(("prlimit --pid %d --nofile=%s:%s"):format(F.mypid(), soft, hard))
    end
    defer(restore)
    -- two real QEMUs first, then stand-ins until the limit (a few numbers
    -- above what this process holds now)
    local vms = {}
    defer(function() for _, vm in ipairs(vms) do F.stop(vm) end end)
    for i = 1, 2 do
      vms[i] = qemu.launch(real_desc({ name = tag .. "-" .. i }), { console = "capture" })
    end
    local ceiling = F.fdcount() + 20
    assert(os.execute(("prlimit --pid %d --nofile=%d:%s"):format(F.mypid(), ceiling, hard)))
    local ok, err
    for _ = 1, 50 do
      ok, err = pcall(qemu.launch, { path = DIE, extra_args = { "--tag", tag } }, { console = "capture" })
      if not ok then break end
      vms[#vms + 1] = err
    end
    restore()   -- before anything else needs a descriptor
    assert.is_false(ok, "the limit was never reached")
    assert.is_true(emfile_message(err, ceiling), err)
    assert.is_true(#vms >= 3, "no stand-in started before the limit")
    -- every VM started before the failure still works
    for i, vm in ipairs(vms) do
      assert.is_true(vm:alive(), "VM " .. i)
      assert.is_truthy(vm.qmp:execute("query-status", nil, T), "VM " .. i)
    end
    -- and a launch works again now that descriptors are free
    local again = qemu.launch({ path = DIE, extra_args = { "--tag", tag } })
    assert.are.same({}, again.qmp:execute("query-status", nil, T))
    vms[#vms + 1] = again
    again = nil
    for _, vm in ipairs(vms) do
      local st, step = vm:shutdown({ timeout = 0 })
      assert.are.same({ code = 0 }, st)
      assert.are.equal("quit", step)
    end
    vms = {}
    check()
    assert_none_left(tag)
  end)
end)

-- ---- 4. a full disk under the logs and the reports --------------------------------

describe("a log on a full disk", function()
  -- The choice: a log that cannot be written is dropped with one warning
  -- naming the file and the reason; the VM runs on (a full disk must not
  -- stop it), and what qlua keeps in memory (vm:stderr(), the console) is
  -- complete.  Logs that QEMU writes itself are QEMU's business.
  it("a device that is always full: one warning per log, the VM runs on, nothing lost in memory", function()
    if not root() then return end
    local full = full_device()
    if not full then
      pending("cannot make a /dev/full node (mknod c 1 7)")
      return
    end
    local script = H.script(([[
local full, die, bin = %s, %s, %s
-- a chatty QEMU: every QOM cast traced on stderr (about 200 KB at start)
local q = qemu.launch({ path = bin, machine = { type = "none" }, knobs = { no_defaults = true },
  extra_args = { "-display", "none", "-trace", "object_class_dynamic_cast_assert" } }, { stderr_log = full })
assert(q.qmp:execute("query-status", nil, { timeout = 20 }))
-- a chatty guest: 100 KB on the console
local g = qemu.launch({ path = die, extra_args = { "--console-bytes", "100000" } }, { console = "capture" })
g.console:log(full)
-- (not "x+\nEND\n": Lua's x+ would rescan 100 KB of x from every position)
assert(g.console:expect("\nEND\n", 20))
-- the QMP transcript too; the commands still answer
g.qmp:log(full)
assert(g.qmp:execute("query-status", nil, { timeout = 20 }))
print(#g.console:read(), (q:shutdown({ timeout = 0 })).code, (g:shutdown({ timeout = 0 })).code)
print(#q:stderr() > 100000, select(2, q:stderr():gsub("object_class_dynamic_cast_assert", "")) > 1000)
]]):format(lit(full), lit(DIE), lit(H.qemu_bin)))
    local code, out, err = qlua(nil, script)
    assert.are.equal("qlua: warning: cannot write '" .. full .. "': No space left on device (QEMU's stderr is no longer logged there)\n"
      .. "qlua: warning: cannot write '" .. full .. "': No space left on device (the console is no longer logged there)\n"
      .. "qlua: warning: cannot write '" .. full .. "': No space left on device (the QMP transcript is no longer logged there)\n", err)
    assert.are.equal(0, code)
    assert.are.equal("100005\t0\t0\ntrue\ttrue\n", out)
  end)

  it("a QMP transcript (qmp:log) is closed with its VM: 200 VMs that logged leave no descriptor", function()
    local check = leak_guard()
    local dir = H.tmpdir()
    for i = 1, 200 do
      local vm = qemu.launch({ path = DIE })
      vm.qmp:log(dir .. "/qmp.log")
      assert(vm.qmp:execute("query-status", nil, T))
      assert.are.same({ code = 0 }, (vm:shutdown({ timeout = 0 })))
    end
    check()
    local n = select(2, H.slurp(dir .. "/qmp.log"):gsub("\n", ""))
    assert.is_true(n >= 200 * 4, n)  -- per VM: greeting, capabilities and its reply, the command, ...
  end)

  it("a tmpfs filling up while QEMU writes its stderr and the guest its console; QEMU's own files", function()
    if not root() then return end
    local dir = H.tmpdir() .. "/small"
    lfs.mkdir(dir)
    local script = H.script(([[
local dir, die, bin = %s, %s, %s
local lfs = require "lfs"
local function real(extra, opts)
  local d = { path = bin, machine = { type = "none" }, knobs = { no_defaults = true },
              extra_args = { "-display", "none", "-trace", "object_class_dynamic_cast_assert" } }
  for k, v in pairs(extra) do d[k] = v end
  return qemu.launch(d, opts)
end
-- QEMU's stderr fills the disk (about 200 KB are traced before QMP answers)
local q = real({}, { stderr_log = dir .. "/stderr.log" })
assert(q.qmp:execute("query-status", nil, { timeout = 20 }))
-- then the console has no room at all
local g = qemu.launch({ path = die, extra_args = { "--console-bytes", "200000" } }, { console = "capture" })
g.console:log(dir .. "/console.log")
assert(g.console:expect("\nEND\n", 20))
-- both run on
print(q.qmp:execute("query-status", nil, { timeout = 20 }).status, next(g.qmp:execute("query-status")))
print(lfs.attributes(dir .. "/stderr.log", "size") > 0,
      lfs.attributes(dir .. "/stderr.log", "size") + lfs.attributes(dir .. "/console.log", "size") <= 65536)
q:shutdown({ timeout = 0 }); g:shutdown({ timeout = 0 })
-- QEMU's own files on the full disk: a pidfile stops it, a log file does not
local ok, text, st = qemu.run({ path = bin, machine = { type = "none" }, knobs = { no_defaults = true },
  pidfile = dir .. "/qemu.pid", extra_args = { "-display", "none" } }, { timeout = 20 })
io.write(tostring(ok), "\t", st.code, "\t", text)
local l = real({ log_file = dir .. "/qemu.log" })
print(l.qmp:execute("query-status", nil, { timeout = 20 }).status, lfs.attributes(dir .. "/qemu.log", "size"),
      (l:shutdown({ timeout = 0 })).code)
]]):format(lit(dir), lit(DIE), lit(H.qemu_bin)))
    -- a private mount namespace: the tmpfs goes away with it
    local code, out, err = run("unshare -m --propagation private sh -c " .. H.q(
      "mount -t tmpfs -o size=64k qlua-faults " .. H.q(dir) .. " && exec timeout -s KILL 60 "
      .. H.qlua_cmd .. " " .. H.q(script)))
    if code ~= 0 and err:find("unshare: ", 1, true) then
      pending("no private mount namespace here: " .. err)
      return
    end
    assert.are.equal("qlua: warning: cannot write '" .. dir .. "/stderr.log': No space left on device (QEMU's stderr is no longer logged there)\n"
      .. "qlua: warning: cannot write '" .. dir .. "/console.log': No space left on device (the console is no longer logged there)\n", err)
    assert.are.equal(0, code)
    assert.are.equal("running\tnil\ntrue\ttrue\n"
      .. "false\t1\t" .. H.qemu_bin .. ": cannot create PID file: Failed to write pid file\n"
      .. "running\t0\t0\n", out)
  end)
end)

describe("a report on a full disk", function()
  -- A CI job reads the JUnit file after the run: a short one is a parse
  -- error there, far from its cause, and an exit 0 said all was well.
  it("a matrix's JUnit file on a full disk: the run says it cannot write it (exit 2), the old file stays whole", function()
    if not root() then return end
    local d = H.tmpdir()
    local dir = d .. "/small"
    lfs.mkdir(dir)
    -- 40 skipped cells, each with a long reason: a JUnit file larger than
    -- the page the old file's truncation frees, so it cannot fit
    local script = H.write(d .. "/m.lua", [[
local matrix = require "qemu.matrix"
local n = {}
for i = 1, 40 do n[i] = i end
return matrix {
  name = "full",
  axes = { n = n },
  vm = function(cell) error({ skip = true, reason = ("not here "):rep(20) }) end,
  test = function() end,
}
]])
    -- a private mount namespace: the tmpfs goes away with it, so what the
    -- run left there is listed inside it
    local code, out, err = run("unshare -m --propagation private sh -c " .. H.q(
      "mount -t tmpfs -o size=64k qlua-faults " .. H.q(dir) .. " && cd " .. H.q(dir)
      .. " && printf 'OLD\\n' > junit.xml && { dd if=/dev/zero of=fill bs=4k 2>/dev/null; "
      .. "timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script) .. " --junit junit.xml --out " .. H.q(d .. "/runs")
      .. "; echo \"exit $?\"; ls; cat junit.xml; }"))
    if code ~= 0 and err:find("unshare: ", 1, true) then
      pending("no private mount namespace here: " .. err)
      return
    end
    assert.are.equal(0, code, out .. err)
    assert.are.equal("qlua: cannot write junit.xml: No space left on device\n", err)
    assert.truthy(out:find("full: 40 cells: 40 skipped", 1, true), out)
    assert.are.equal("exit 2\nfill\njunit.xml\nOLD\n", out:match("exit %d+\n.*$"))
  end)
end)

-- ---- 5. QEMU killed by a signal, at every stage -----------------------------------------

-- The stand-in that dies at `at`, and its record directory.  (No cleanup
-- holds the handle: the leak checks need it collected, and a handle that
-- is collected kills its QEMU.)
local function dying(at, words, opts)
  local rec = H.tmpdir()
  local args = { "--at", at, "--record", rec }
  for _, w in ipairs(words or {}) do args[#args + 1] = w end
  return qemu.launch({ path = DIE, extra_args = args }, opts), rec
end

-- Kills pid with SIGKILL after s seconds, from another process (started
-- through qemu, so this process reaps it).
local function kill_later(pid, s)
  return qemu.launch_custom("/bin/sh", { "-c", ("sleep %s; kill -9 %d"):format(s, pid) }, {})
end

local function assert_qmp_error(class, desc, r, err)
  assert.is_nil(r)
  assert.are.equal("table", type(err), "no error value")
  assert.are.equal(class .. ": " .. desc, tostring(err))
end

describe("QEMU killed by a signal", function()
  -- (killed while idle, then a QMP call: spec/qmp_faults_spec.lua; exiting
  -- on its own mid-command: the same; a foreground QEMU that kills itself:
  -- spec/process_spec.lua, exit 137 and 143)
  it("before its QMP greeting: the first call says so at once, with the signal", function()
    local check = leak_guard()
    local vm = dying("greeting")
    local t0 = now()
    local r, err = vm.qmp:execute("query-status", nil, T)
    assert_qmp_error("Disconnected", "QEMU exited (signal 9) before query-status", r, err)
    assert.is_true(now() - t0 < 5)
    assert.are.same({ signal = 9 }, vm:wait(5))
    r, err = vm.qmp:greeting(T)
    assert_qmp_error("Disconnected", "QEMU exited (signal 9) before greeting", r, err)
    vm = nil
    check()
  end)

  it("between its greeting and the reply to qmp_capabilities", function()
    local check = leak_guard()
    local vm, rec = dying("caps")
    local r, err = vm.qmp:execute("query-status", nil, T)
    assert_qmp_error("Disconnected", "QEMU exited (signal 9) before query-status", r, err)
    assert.are.same({ signal = 9 }, vm:wait(5))
    assert.are.same({ "qmp_capabilities" }, F.lines(rec, "commands"))
    vm = nil
    check()
  end)

  it("in the middle of a command (sent, not answered): SIGKILL, or an abort (SIGABRT)", function()
    local check = leak_guard()
    for _, sig in ipairs({ 9, 6 }) do
      local vm, rec = dying("command", { "--signal", tostring(sig) })
      assert.are.same({}, vm.qmp:execute("query-status", nil, T))
      local t0 = now()
      local r, err = vm.qmp:execute("die-now", nil, T)
      assert_qmp_error("Disconnected", ("QEMU exited (signal %d) while waiting for the reply to 'die-now'"):format(sig), r, err)
      assert.is_true(now() - t0 < 5)
      assert.are.same({ signal = sig }, vm:wait(5))
      assert.are.same({ "qmp_capabilities", "query-status", "die-now" }, F.lines(rec, "commands"))
      -- later calls: the same, at once
      r, err = vm.qmp:execute("query-status", nil, T)
      assert_qmp_error("Disconnected", ("QEMU exited (signal %d) before query-status"):format(sig), r, err)
    end
    check()
  end)

  it("while the script waits on its console (the real QEMU, killed by another process)", function()
    local defer = cleanups()
    local check = leak_guard()
    local vm = qemu.launch(real_desc(), { console = "capture" })
    defer(function() F.stop(vm) end)
    assert.is_truthy(vm.qmp:execute("query-status", nil, T))
    local k = kill_later(vm.pid, 0.3)
    local t0 = now()
    local text, why = vm.console:expect("never printed", 30)
    assert.is_true(now() - t0 < 10, "expect waited for its timeout")
    assert.is_nil(text)
    assert.are.equal("closed (console ended; QEMU signal 9)", why)
    assert.are.same({ signal = 9 }, vm:wait(5))
    assert.are.same({ code = 0 }, k:wait(5))
    local ok, e = vm.console:send("anyone?\n")
    assert.is_nil(ok)
    assert.are.equal("console closed", e)
    local r, err = vm.qmp:execute("query-status", nil, T)
    assert_qmp_error("Disconnected", "QEMU exited (signal 9) before query-status", r, err)
    vm, k = nil, nil
    check()
  end)

  it("during vm:shutdown: after system_powerdown, after quit, and the real QEMU during the powerdown wait", function()
    local defer = cleanups()
    local check = leak_guard()
    local vm, rec = dying("powerdown")
    assert.are.same({}, vm.qmp:execute("query-status", nil, T))
    local st, step = vm:shutdown({ timeout = 20 })
    assert.are.same({ signal = 9 }, st)
    assert.are.equal("powerdown", step)
    assert.are.same({ "qmp_capabilities", "query-status", "system_powerdown" }, F.lines(rec, "commands"))
    vm, rec = dying("quit")
    assert.are.same({}, vm.qmp:execute("query-status", nil, T))
    st, step = vm:shutdown({ timeout = 0.2 })
    assert.are.same({ signal = 9 }, st)
    assert.are.equal("quit", step)
    assert.are.same({ "qmp_capabilities", "query-status", "system_powerdown", "quit" }, F.lines(rec, "commands"))
    -- the real QEMU (no ACPI in -machine none: the powerdown waits)
    local real = qemu.launch(real_desc())
    defer(function() F.stop(real) end)
    assert.is_truthy(real.qmp:execute("query-status", nil, T))
    kill_later(real.pid, 0.3)
    local t0 = now()
    st, step = real:shutdown({ timeout = 30 })
    assert.is_true(now() - t0 < 10, "shutdown waited for its timeout")
    assert.are.same({ signal = 9 }, st)
    assert.are.equal("powerdown", step)
    vm, real = nil, nil
    check()
  end)

  it("while qlua stops its VMs at exit (after quit was sent): qlua exits 0 at once", function()
    local rec = H.tmpdir()
    local script = H.script(([[
local vm = qemu.launch({ path = %s, extra_args = { "--at", "quit", "--record", %s } })
assert(vm.qmp:execute("query-status", nil, { timeout = 20 }))
]]):format(lit(DIE), lit(rec)))
    local t0 = now()
    local code, out, err = qlua(nil, script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("", out)
    assert.is_true(now() - t0 < 10, "qlua waited for the steps' timeouts")
    assert.are.same({ "qmp_capabilities", "query-status", "quit" }, F.lines(rec, "commands"))
    assert.is_true(F.await_gone(tonumber(F.read(rec, "pid")), 3))
  end)

  it("a foreground QEMU (the real one) killed by SIGKILL: ./qlua exits 137", function()
    local defer = cleanups()
    local tag = unique("qlua-faults-fg")
    local script = H.script(("return { path = %s, name = %s, machine = { type = 'none' }, "
      .. "knobs = { no_defaults = true } }\n"):format(lit(H.qemu_bin), lit(tag)))
    local q = F.spawn_qlua(script)
    defer(function() F.stop(q); for _, p in ipairs(pids_with(tag)) do F.kill(p) end end)
    local pid = await(function()
      local kids = F.children(q.pid)
      return kids[1] and (H.slurp("/proc/" .. kids[1] .. "/cmdline") or ""):find(tag, 1, true) and kids[1]
    end, 10)
    assert.is_truthy(pid, "QEMU did not start")
    F.kill(pid)
    assert.are.same({ code = 137 }, q:wait(10))
    assert_none_left(tag)
  end)
end)

-- ---- 6. signals to qlua while it launches -----------------------------------------

describe("qlua receiving a signal while it launches", function()
  -- (a signal during a QMP wait, with 8 real QEMUs that had answered, and a
  -- stand-in that never greets: spec/lifetime_spec.lua; signals passed on
  -- to a foreground QEMU: spec/process_spec.lua)
  for _, s in ipairs({ { "INT", 2 }, { "TERM", 15 }, { "HUP", 1 } }) do
    it("SIG" .. s[1] .. " in qemu.run, with a QEMU that has not greeted yet: all stopped, exit " .. 128 + s[2], function()
      local defer = cleanups()
      local tag = unique("qlua-faults-sig")
      local dir = H.tmpdir()
      local script = H.script(([[
local dir, die, bin, tag = %s, %s, %s, %s
local slow = qemu.launch({ path = die, extra_args = { "--delay", "30", "--tag", tag } })
assert(io.open(dir .. "/ready", "w")):close()
qemu.run({ path = bin, name = tag, machine = { type = "none" }, knobs = { no_defaults = true },
  extra_args = { "-display", "none" } })
error("qemu.run was not interrupted")
]]):format(lit(dir), lit(DIE), lit(H.qemu_bin), lit(tag)))
      local q, _, err = F.spawn_qlua(script)
      defer(function() F.stop(q); for _, p in ipairs(pids_with(tag)) do F.kill(p) end end)
      assert.is_truthy(F.await(dir, "ready", 10, q))
      -- the real QEMU of qemu.run is there (its -name has the tag)
      assert.is_truthy(await(function() return #pids_with("guest=" .. tag) == 1 end, 10), "QEMU did not start")
      assert.is_true(q:kill(s[2]))
      assert.are.same({ code = 128 + s[2] }, q:wait(20))
      assert.are.equal("qlua: " .. script .. ":4: run interrupted by signal " .. s[2] .. "\n", H.slurp(err))
      assert_none_left(tag)
    end)
  end

  it("more signals while qlua stops its VMs cut each step short: the first signal's status, nothing left", function()
    local defer = cleanups()
    local tag = unique("qlua-faults-again")
    local dir = H.tmpdir()
    -- stand-ins that ignore quit and SIGTERM: only SIGKILL ends them, after
    -- 5 + 5 s unless the steps are cut short
    local script = H.script(([[
local dir, fake, tag = %s, %s, %s
local vms = {}
for i = 1, 2 do
  vms[i] = qemu.launch({ path = fake, extra_args = { "--quit", "ignore", "--term", "ignore", "--tag", tag } })
  assert(vms[i].qmp:execute("query-status", nil, { timeout = 20 }))
end
assert(io.open(dir .. "/ready", "w")):close()
vms[1]:wait(600)
]]):format(lit(dir), lit(H.root .. "/spec/support/fake-qmp"), lit(tag)))
    local q, _, err = F.spawn_qlua(script)
    defer(function() F.stop(q); for _, p in ipairs(pids_with(tag)) do F.kill(p) end end)
    assert.is_truthy(F.await(dir, "ready", 10, q))
    assert.is_truthy(F.await_waiting(q), "qlua never waited at line 8")  -- (not a line early)
    local t0 = now()
    q:kill(15)
    F.sleep(0.3)
    q:kill(2)
    F.sleep(0.3)
    q:kill(2)
    assert.are.same({ code = 143 }, q:wait(20))
    assert.is_true(now() - t0 < 8, "the later signals did not cut the steps short")
    assert.are.equal("qlua: " .. script .. ":8: wait interrupted by signal 15\n", H.slurp(err))
    assert_none_left(tag)
  end)

  it("signals at varied small delays during many launches: 128 + signal every time, nothing left", function()
    local defer = cleanups()
    local delays = { 0, 0.01, 0.03, 0.05, 0.08, 0.12, 0.17, 0.25, 0.3, 0.02, 0.06, 0.1 }
    local sigs = { 2, 15, 1 }
    local modes = { "launch", "qmp", "foreground" }
    for i, delay in ipairs(delays) do
      local tag = unique("qlua-faults-storm")
      local dir = H.tmpdir()
      local sig, mode = sigs[(i - 1) % 3 + 1], modes[(i - 1) // 3 % 3 + 1]
      local script = H.script(([[
local dir, die, tag, mode, fake = %s, %s, %s, %s, %s
assert(io.open(dir .. "/started", "w")):close()
if mode == "foreground" then
  for _ = 1, 20 do qemu.run({ path = die, extra_args = { "--tag", tag } }, { timeout = 0.01 }) end
  return { path = fake, extra_args = { "--tag", tag, "--fake-dir", %s } }
end
local vms = {}
for i = 1, 200 do
  local vm = qemu.launch({ path = die, extra_args = { "--tag", tag } })
  if mode == "qmp" then assert(vm.qmp:execute("query-status", nil, { timeout = 20 })) end
  vms[#vms + 1] = vm
  if #vms > 5 then table.remove(vms, 1):kill(9) end
end
error("not interrupted")
]]):format(lit(dir), lit(DIE), lit(tag), lit(mode), lit(F.bin), lit(F.dir({ TRAP = 1, SLEEP = 30 }))))
      local q, _, err = F.spawn_qlua(script)
      defer(function() F.stop(q); for _, p in ipairs(pids_with(tag)) do F.kill(p) end end)
      -- after qlua's handlers are in place (before, the signal kills it: the
      -- shell's 128 + signal too, but no VM could have started)
      assert.is_truthy(F.await(dir, "started", 10, q))
      if delay > 0 then F.sleep(delay) end
      q:kill(sig)
      local st = q:wait(20)
      assert.is_truthy(st, "qlua hung after signal " .. sig)
      local text = H.slurp(err)
      if mode == "foreground" and text == "" then
        -- the foreground QEMU had started: it got the signal, and its status
        -- is qlua's (the stand-in traps it and exits 40 + signal, or died
        -- of it before its trap was set)
        assert.is_true(st.code == 40 + sig or st.code == 128 + sig, ("delay %s: %s"):format(delay, st.code))
      else
        assert.are.same({ code = 128 + sig }, st, ("delay %s, %s: %s"):format(delay, mode, text))
        assert.matches("^qlua: [^\n]*interrupted by signal " .. sig .. "\n$", text)
      end
      assert_none_left(tag)
    end
  end)

  -- The storm above once caught a signal that came after the script's last
  -- instruction and before the foreground QEMU started: qlua started it
  -- anyway and waited for it.  Here the script catches the interruption
  -- itself (pcall) and returns a description: the same state, every time.
  it("a signal the script caught before it returned its description: QEMU is not started, 128 + signal", function()
    local dir = H.tmpdir()
    local fake = dir .. "/fake-qemu"
    H.write(fake, "#!/bin/sh\ntouch " .. H.q(dir .. "/started") .. "\n")
    assert(os.execute("chmod +x " .. H.q(fake)))
    local script = H.script(([[
local ok, e = pcall(function()
  os.execute("kill -TERM $PPID")
  while true do end
end)
io.stderr:write("caught: ", tostring(e), "\n")
return { path = %s }
]]):format(lit(fake)))
    local code, _, err = H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script) .. " </dev/null")
    assert.are.equal(143, code, err)
    assert.matches("^caught: [^\n]*interrupted by signal 15\n", err)
    assert.are.equal("qlua: interrupted by signal 15 (QEMU was not started)\n", err:match("\n(.*)$"))
    assert.is_nil(io.open(dir .. "/started"), "QEMU was started")
  end)
end)

-- ---- 7. a kernel without pidfd_open -----------------------------------------------

describe("no pidfd_open (kernels before 5.3, seccomp filters; here: valgrind, which lacks it)", function()
  it("QEMU's exit is still seen (SIGCHLD): statuses, a kill, a detached VM reaped, no zombie", function()
    if os.execute("command -v valgrind >/dev/null") ~= true then
      pending("no valgrind (scripts/deps.sh installs it)")
      return
    end
    local desc = ("{ path = %s, machine = { type = 'none' }, knobs = { no_defaults = true }, " ..
      "extra_args = { '-display', 'none' } }"):format(lit(H.qemu_bin))
    local script = H.script(([[
local desc = %s
local f = assert(io.open("/proc/self/stat"))
local me = f:read("n")
f:close()
local function children()
  local f = io.open("/proc/" .. me .. "/task/" .. me .. "/children")
  local s = f and f:read("a") or ""
  if f then f:close() end
  return s
end
-- a real QEMU: QMP, then killed
local vm = qemu.launch(desc)
assert(vm.qmp:execute("query-status", nil, { timeout = 30 }))
vm:kill(9)
local st = vm:wait(30)
print("killed", st and st.signal)
-- one that exits by itself, while the script waits
local sh = qemu.launch_custom("/bin/sh", { "-c", "sleep 0.3; exit 3" }, {})
st = sh:wait(30)
print("exit", st and st.code)
-- one that exits before anything waits for it: reaped all the same
sh = qemu.launch_custom("/bin/sh", { "-c", "exit 4" }, {})
local t = qemu.now() + 30
while sh:alive() and qemu.now() < t do qemu.poll(0.1) end
print("alive", sh:alive(), sh:wait(0).code)
-- a detached one whose handle is dropped is reaped when it exits
local d = qemu.launch_custom("/bin/sh", { "-c", "sleep 0.3" }, { detach = true })
local pid = d.pid
d = nil
collectgarbage(); collectgarbage()
t = qemu.now() + 30
while children():find(tostring(pid), 1, true) and qemu.now() < t do qemu.poll(0.1) end
print("children", (children():gsub("%%s+$", "")))
]]):format(desc))
    -- the plain build (valgrind cannot run make check-asan's), under
    -- valgrind: which answers pidfd_open with ENOSYS
    local vg = os.getenv("QLUA_WRAP") or "valgrind -q"
    local code, out, err = run("timeout -s KILL 120 " .. vg .. " " .. H.q(H.root .. "/qlua") .. " " .. H.q(script))
    assert.are.equal(0, code, err)
    assert.are.equal("killed\t9\nexit\t3\nalive\tfalse\t4\nchildren\t\n", out)
  end)
end)
