-- qemu.handle: the methods of a VM handle (qemu.launch) that are written in
-- Lua because they are conversations over QMP, not process control.  lvm.c
-- looks a method up here when C has none, so `vm:forwarded_port(22)` works
-- without a require.
local M = {}

local function fail(fmt, ...)
  error(fmt:format(...), 3)
end

-- forwarded_port(guest_port [, proto]): the host port a user-networking
-- forward to guest_port really listens on.  QEMU binds host_port = 0 to a
-- free port itself; HMP's "info usernet" (there is no QMP query for it)
-- lists every forward with the port bound, so there is no race with other
-- programs picking ports.
function M.forwarded_port(vm, guest_port, proto)
  if math.type(guest_port) ~= "integer" or guest_port < 1 or guest_port > 65535 then
    fail("bad argument #1 to 'forwarded_port' (a port 1..65535 expected, got %s)", tostring(guest_port))
  end
  proto = proto or "tcp"
  if proto ~= "tcp" and proto ~= "udp" then
    fail("bad argument #2 to 'forwarded_port' (invalid option '%s' (expected 'tcp' or 'udp'))", tostring(proto))
  end
  if not vm.qmp then
    fail("forwarded_port: the VM has no QMP channel (launch it with qmp = true)")
  end
  local out, err = vm.qmp:execute("human-monitor-command", { ["command-line"] = "info usernet" })
  if not out then
    fail("forwarded_port: %s", tostring(err))
  end
  local seen = {}
  -- "  TCP[HOST_FORWARD]  13  127.0.0.1 38263  10.0.2.15  22  0  0"
  for p, hport, gport in out:gmatch("(%u+)%[HOST_FORWARD%]%s+%S+%s+%S+%s+(%d+)%s+%S+%s+(%d+)") do
    p = p:lower()
    if p == proto and tonumber(gport) == guest_port then
      return math.tointeger(tonumber(hport))
    end
    seen[#seen + 1] = ("%s %s->%s"):format(p, hport, gport)
  end
  fail("forwarded_port: no user-networking forward to guest port %d (%s)%s", guest_port, proto,
       #seen > 0 and " (forwards: " .. table.concat(seen, ", ") .. ")" or " (the VM has none)")
end

return M
