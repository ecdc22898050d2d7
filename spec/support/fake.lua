-- spec/support/fake.lua - the stand-in QEMU (spec/support/fake-qemu) seen
-- from the specs: run directories, what it recorded, and the process and
-- descriptor facts the specs compare it with.
local H = require "helper"
local lfs = require "lfs"
local check = assert               -- Lua's own: returns its argument
local assert = require "luassert"
local qemu = H.qemu

local F = {}

F.bin = H.root .. "/spec/support/fake-qemu"

local O_CLOEXEC = 0x80000   -- 02000000 octal, as fdinfo prints flags
F.O_CLOEXEC = O_CLOEXEC

-- Sleeps s seconds without a busy loop.
function F.sleep(s)
  os.execute("sleep " .. s)
end

-- A new run directory for one start of the stand-in; config is a table of
-- FAKE_QEMU_* settings without the prefix ({ EXIT = 3, SLEEP = 30 }).
-- Writable by everyone, for runs under another uid.
function F.dir(config)
  local d = H.tmpdir()
  local lines = {}
  for k, v in pairs(config or {}) do
    lines[#lines + 1] = "FAKE_QEMU_" .. k .. "=" .. H.q(v)
  end
  table.sort(lines)
  H.write(d .. "/config", table.concat(lines, "\n") .. "\n")
  os.execute("chmod 777 " .. H.q(d))
  return d
end

-- A description that runs the stand-in with run directory d; fields of
-- extra are added (extra_args are put before the --fake-dir pair).
function F.vm(d, extra)
  local vm = { path = F.bin, extra_args = {} }
  for k, v in pairs(extra or {}) do vm[k] = v end
  local args = {}
  for _, a in ipairs(vm.extra_args) do args[#args + 1] = a end
  args[#args + 1] = "--fake-dir"
  args[#args + 1] = d
  vm.extra_args = args
  return vm
end

-- The text of a file of the run directory, or nil while it is not there.
function F.read(d, name)
  return H.slurp(d .. "/" .. name)
end

-- Lines of a file of the run directory.
function F.lines(d, name)
  local t = {}
  for l in (F.read(d, name) or ""):gmatch("([^\n]*)\n") do t[#t + 1] = l end
  return t
end

-- Waits until the stand-in wrote d/name (at most timeout seconds); vm, when
-- given, is the handle of the process that should write it: its end stops
-- the wait early.  Returns the text or nil.
function F.await(d, name, timeout, vm)
  local deadline = os.time() + (timeout or 5) + 1
  repeat
    local s = F.read(d, name)
    if s then return s end
    if vm then
      if vm:wait(0.02) then return F.read(d, name) end
    else
      F.sleep(0.02)
    end
  until os.time() > deadline
  return F.read(d, name)
end

-- Parses "N:key:\tvalue" lines into { [N] = { key = value } }.
local function parse_fdinfo(text)
  local t = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local n, k, v = line:match("^(%d+):([%w_]+):%s*(.*)$")
    if n then
      n = tonumber(n)
      t[n] = t[n] or {}
      t[n][k] = v
    end
  end
  return t
end

-- What the stand-in received: { [N] = { target, ino, flags, iff } } for
-- every descriptor it could have inherited, and the sorted list of their
-- numbers.  Left out: the descriptor its shell reads the script from, and
-- close-on-exec ones (exec closes those, so the shell opened them).
function F.received(d)
  local info = parse_fdinfo(F.read(d, "fdinfo"))
  local self = F.lines(d, "self")[1]
  local fds, nums = {}, {}
  for _, l in ipairs(F.lines(d, "fds")) do
    local n, target = l:match("^(%d+) (.*)$")
    n = tonumber(n)
    local i = info[n]
    local flags = i and tonumber(i.flags, 8)
    -- a descriptor gone between the two listings cannot have been inherited
    if flags and flags & O_CLOEXEC == 0 and not (n >= 10 and target == self) then
      fds[n] = { target = target, ino = i.ino, flags = flags, iff = i.iff }
      nums[#nums + 1] = n
    end
  end
  table.sort(nums)
  return fds, nums
end

-- The same facts about descriptor n of this process (or of pid).
function F.ident(n, pid)
  local p = "/proc/" .. (pid or "self")
  local target = lfs.symlinkattributes(p .. "/fd/" .. n, "target")
  if not target then return nil end
  local i = {}
  for line in (H.slurp(p .. "/fdinfo/" .. n) or ""):gmatch("[^\n]+") do
    local k, v = line:match("^([%w_]+):%s*(.*)$")
    if k then i[k] = v end
  end
  return { target = target, ino = i.ino, flags = tonumber(i.flags or "0", 8), iff = i.iff }
end

-- The list 0, 1, ..., n.
function F.upto(n)
  local t = {}
  for i = 0, n do t[#t + 1] = i end
  return t
end

-- Asserts that the stand-in in d received exactly 0, 1, 2 and one
-- descriptor per entry of want, as 3, 4, ...; want[i] is a qemu.fd of this
-- process, or an identity table ({ target = ..., ino = ... }).
function F.assert_fd_map(d, want)
  local got, nums = F.received(d)
  assert.are.same(F.upto(2 + #want), nums)
  for i, w in ipairs(want) do
    if type(w) ~= "table" then
      w = check(F.ident((check(w:fileno(), "qemu.fd closed"))))
    end
    local g = got[2 + i]
    assert.are.equal(w.target, g.target, ("fd %d"):format(2 + i))
    if w.ino then assert.are.equal(w.ino, g.ino, ("fd %d inode"):format(2 + i)) end
    if w.iff then assert.are.equal(w.iff, g.iff, ("fd %d tap"):format(2 + i)) end
  end
  return got
end

-- This process's pid.
function F.mypid()
  return tonumber(H.slurp("/proc/self/stat"):match("^(%d+)"))
end

-- State letter of pid, or nil when there is no such process.
function F.state(pid)
  local s = H.slurp("/proc/" .. pid .. "/stat")
  return s and s:match("^%d+ %b() (%a)")
end

-- True once pid has exited (a zombie has exited too).
function F.gone(pid)
  local st = F.state(pid)
  return st == nil or st == "Z" or st == "X"
end

-- Waits up to timeout seconds for pid to be gone.
function F.await_gone(pid, timeout)
  local deadline = os.time() + timeout + 1
  repeat
    if F.gone(pid) then return true end
    F.sleep(0.05)
  until os.time() > deadline
  return F.gone(pid)
end

-- Kills pid (SIGKILL) if it still runs; for finally blocks.
function F.kill(pid)
  if pid and tonumber(pid) and not F.gone(pid) then
    os.execute("kill -9 " .. tonumber(pid) .. " 2>/dev/null")
  end
end

-- Kills the stand-in of run directory d and what it started in the
-- background (its recorded pid, orphan and sleeper).
function F.kill_dir(d)
  for _, name in ipairs({ "pid", "orphan", "sleeper" }) do
    local s = F.read(d, name)
    if s then F.kill(tonumber(s:match("%d+"))) end
  end
end

-- Kills and reaps a handle; for finally blocks.
function F.stop(vm)
  if vm and vm.pid and vm.pid > 0 and vm:alive() then
    vm:kill(9)
    vm:wait(5)
  end
end

-- Pids of this process's children (zombies included).
function F.children(pid)
  pid = pid or F.mypid()
  local t = {}
  for e in lfs.dir("/proc") do
    if e:match("^%d+$") then
      local s = H.slurp("/proc/" .. e .. "/stat")
      local ppid = s and s:match("^%d+ %b() %a (%d+)")
      if ppid and tonumber(ppid) == pid then t[#t + 1] = tonumber(e) end
    end
  end
  table.sort(t)
  return t
end

-- The children of this process as a set, for F.assert_no_new_child.
function F.child_set()
  local s = {}
  for _, p in ipairs(F.children()) do s[p] = true end
  return s
end

-- Asserts that no child appeared since before (an F.child_set()): nothing
-- was left running, and nothing was left unreaped.
function F.assert_no_new_child(before)
  for _, p in ipairs(F.children()) do
    assert.is_true(before[p] ~= nil, "process " .. p .. " was left behind (state "
      .. tostring(F.state(p)) .. ")")
  end
end

-- Number of open descriptors of this process, once the garbage collector
-- has closed what nothing refers to any more.
function F.fdcount()
  collectgarbage(); collectgarbage()
  local n = 0
  for e in lfs.dir("/proc/self/fd") do
    if e:match("^%d+$") then n = n + 1 end
  end
  return n
end

-- The session id of pid.
function F.session(pid)
  local s = H.slurp("/proc/" .. pid .. "/stat")
  -- pid (comm) state ppid pgrp session
  return tonumber(s:match("^%d+ %b() %a %d+ %d+ (%d+)"))
end

-- The descriptor number of this process that has path open, or nil.
function F.fd_of(path)
  for e in lfs.dir("/proc/self/fd") do
    if e:match("^%d+$") and lfs.symlinkattributes("/proc/self/fd/" .. e, "target") == path then
      return tonumber(e)
    end
  end
end

-- Starts ./qlua as a child of this process (a handle, so it can be
-- signalled and waited for): sh -c 'exec qlua ARGS >out 2>err <in', so the
-- pid is qlua's.  Returns the handle and the paths of out and err.
function F.spawn_qlua(script, opts)
  opts = opts or {}
  local d = H.tmpdir()
  local out, err = d .. "/out", d .. "/err"
  local words = { H.qlua_cmd, H.q(script) }
  for _, a in ipairs(opts.args or {}) do words[#words + 1] = H.q(a) end
  local cmd = "exec " .. table.concat(words, " ") .. " >" .. H.q(out) .. " 2>" .. H.q(err)
    .. " <" .. H.q(opts.stdin or "/dev/null") .. (opts.redirects and (" " .. opts.redirects) or "")
  local vm = qemu.launch_custom("/bin/sh", { "-c", cmd }, {})
  return vm, out, err
end

-- Waits (at most timeout seconds, default 10) until the qlua of handle q
-- (F.spawn_qlua) is blocked in epoll_wait (x86-64's epoll_wait 232,
-- epoll_pwait 281, epoll_pwait2 441; /proc/PID/syscall): its loop waiting.
-- A script's "ready" file comes a line before the wait it announces, so a
-- signal sent as soon as the file is there may land on that line.  True
-- once it waits.
function F.await_waiting(q, timeout)
  return F.wait_until(function()
    local n = tonumber((H.slurp("/proc/" .. q.pid .. "/syscall") or ""):match("^(%d+) "))
    return n == 232 or n == 281 or n == 441
  end, timeout or 10)
end

-- Seconds since boot, to the hundredth.
function F.now()
  return tonumber(H.slurp("/proc/uptime"):match("^[%d.]+"))
end

-- Waits up to timeout seconds until f() is true; returns its last value.
function F.wait_until(f, timeout)
  local deadline = F.now() + timeout
  local v = f()
  while not v and F.now() < deadline do
    F.sleep(0.05)
    v = f()
  end
  return v
end

-- One finally per test (busted keeps only the last): cleanups are pushed on
-- a list that the test's finally (passed in: busted gives it to specs, not
-- to modules) runs, newest first.  Returns the function that pushes one.
function F.cleanups(finally)
  local list = {}
  finally(function()
    for i = #list, 1, -1 do pcall(list[i]) end
  end)
  return function(fn) list[#list + 1] = fn end
end

-- Pids of the processes (not zombies) whose command line contains text.
function F.pids_with(text)
  local t = {}
  for e in lfs.dir("/proc") do
    if e:match("^%d+$") then
      local cmd = H.slurp("/proc/" .. e .. "/cmdline")
      if cmd and cmd:find(text, 1, true) and F.state(e) ~= "Z" then t[#t + 1] = tonumber(e) end
    end
  end
  return t
end

-- The real QEMU with an empty machine (-machine none, no devices, no
-- window); fields of extra are added.
function F.real_desc(extra)
  local desc = {
    path = H.qemu_bin,
    machine = { type = "none" },
    knobs = { no_defaults = true },
    extra_args = { "-display", "none" },
  }
  for k, v in pairs(extra or {}) do desc[k] = v end
  return desc
end

F.qemu = qemu
return F
