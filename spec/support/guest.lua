-- spec/support/guest.lua - booting the real test guest (build/guest, see
-- scripts/guest/README.md) under TCG from the specs: descriptions, launch
-- with a captured console, markers, and shutting down.
local H = require "helper"
local qemu = require "qemu"

local G = {}

G.dir = H.root .. "/build/guest"
G.kernel = G.dir .. "/vmlinux"
G.initrd = G.dir .. "/initrd.gz"
G.version = (H.slurp(G.dir .. "/VERSION") or ""):match("^%s*(.-)%s*$")

-- Timeouts (seconds).  A boot takes ~2.5 s here; these only bound a hang.
G.BOOT = 90      -- spawn -> a marker of the checks
G.STEP = 60      -- one more marker once the guest is up
G.EXIT = 30      -- the guest powering off -> QEMU's exit

-- A monotonic clock (seconds, 10 ms steps), for "promptly" only.
function G.now()
  local f = assert(io.open("/proc/uptime"))
  local t = f:read("n")
  f:close()
  return t
end

-- s as a Lua pattern matching itself.
function G.lit(s)
  return (s:gsub("%W", "%%%0"))
end

-- The marker NAME as a pattern: its own line, with the rest of the line
-- (the detail) captured.
function G.marker(name)
  return G.lit(name) .. "([^\r\n]*)\r?\n"
end

-- A description of the test guest.  checks: the qlua.* words of the kernel
-- command line; t: devices, extra_args, machine_options, memory, name.
--
-- `-display none` is added by hand: qemu.launch with console = "capture"
-- does not add it (the foreground path does), and QEMU's default display
-- (gtk) fails without $DISPLAY.
function G.desc(checks, t)
  t = t or {}
  local extra = { "-display", "none" }
  for _, a in ipairs(t.extra_args or {}) do extra[#extra + 1] = a end
  return {
    name = t.name or "guest",
    machine = { type = "q35", accel = "tcg", options = t.machine_options },
    memory = t.memory or { size = "256M" },
    kernel = { path = G.kernel, initrd = G.initrd,
               params = "console=ttyS0 quiet panic=-1 no_timer_check " .. checks },
    knobs = { no_defaults = true, no_reboot = true },
    devices = t.devices or {},
    extra_args = extra,
  }
end

-- Starts a description with a captured console and a private QMP channel.
function G.launch(desc)
  return qemu.launch(desc, { console = "capture", qmp = true })
end

-- What a failed wait shows: the console so far and QEMU's stderr.
local function context(vm, what, err)
  local text = vm.console:read() or ""
  return ("%s: %s\n--- console (since the last read) ---\n%s\n--- stderr ---\n%s")
    :format(what, tostring(err), text, vm:stderr() or "")
end
G.context = context

-- console:expect that fails the test with the console and stderr when the
-- pattern does not come.  Returns the match and captures.
function G.expect(vm, pattern, timeout)
  local r = table.pack(vm.console:expect(pattern, timeout or G.STEP))
  if r[1] == nil then
    error(context(vm, "expected " .. pattern, r[2]), 2)
  end
  return table.unpack(r, 1, r.n)
end

-- The detail of marker NAME (e.g. "QLUA-BLK-OK"), or an error naming it.
function G.detail(vm, name, timeout)
  local _, detail = G.expect(vm, G.marker(name), timeout)
  return (detail:gsub("^ ", ""))
end

-- QEMU's exit status within G.EXIT, or an error.
function G.wait(vm, timeout)
  local st, err = vm:wait(timeout or G.EXIT)
  if not st then error(context(vm, "vm:wait", err), 2) end
  return st
end

-- Stops a VM whatever state it is in.
function G.stop(vm)
  if not vm then return end
  local ok = pcall(vm.shutdown, vm, { timeout = 5 })
  if not ok or vm:alive() then
    pcall(vm.kill, vm, 9)
    pcall(vm.wait, vm, 10)
  end
end

-- What one test owns, released by its finally (busted keeps one finally
-- per test, so the test passes its `finally` here once):
--   local S = G.scope(finally)
--   S:tmpdir(), S:launch(desc), S:own(handle), S:netns()
-- At the end: every VM and process is stopped, every namespace deleted,
-- every directory removed.
local Scope = {}
Scope.__index = Scope

function G.scope(finally)
  local s = setmetatable({ vms = {}, dirs = {}, namespaces = {} }, Scope)
  finally(function() s:release() end)
  return s
end

function Scope:tmpdir()
  local d = assert(io.popen("mktemp -d /tmp/qlua-guest.XXXXXX")):read("l")
  assert(d and d ~= "", "mktemp failed")
  self.dirs[#self.dirs + 1] = d
  return d
end

function Scope:own(vm)
  self.vms[#self.vms + 1] = vm
  return vm
end

function Scope:launch(desc)
  return self:own(G.launch(desc))
end

-- A fresh network namespace (needs root).
function Scope:netns()
  local name = H.unique("qlua")
  assert(os.execute("ip netns add " .. name), "ip netns add " .. name)
  self.namespaces[#self.namespaces + 1] = name
  return name
end

function Scope:release()
  for i = #self.vms, 1, -1 do G.stop(self.vms[i]) end
  for _, ns in ipairs(self.namespaces) do os.execute("ip netns del " .. ns) end
  for _, d in ipairs(self.dirs) do os.execute("rm -rf " .. H.q(d)) end
end

-- A raw disk image whose first line is `line`, padded to 1 MiB.
function G.disk(path, line)
  local f = assert(io.open(path, "wb"))
  f:write(line, "\n")
  f:seek("set", 1024 * 1024 - 1)
  f:write("\0")
  f:close()
  return path
end

-- Searches query-pci's answer for the device with qdev_id id.
function G.find_pci(buses, id)
  for _, bus in ipairs(buses or {}) do
    for _, dev in ipairs(bus.devices or {}) do
      if dev.qdev_id == id then return dev end
      local br = dev.pci_bridge
      if br and br.devices then
        local found = G.find_pci({ br }, id)
        if found then return found end
      end
    end
  end
  return nil
end

return G
