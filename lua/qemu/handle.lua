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

-- ssh(cmd [, opts]) -> { status, stdout, stderr, truncated [, signal] }, as
-- vm.agent:exec: runs cmd in the guest with Debian's ssh client (a child
-- process, no shell on this side) over the user-networking forward to the
-- guest's sshd.  cmd: a string for the guest's shell, or a list of words
-- (each quoted for it).  status: the exit code, or 128 + the signal.
-- The login comes from opts, else the description's `ssh` section (which
-- recipes.cloud_init fills), else root and ssh's own keys.  opts: user,
-- key, port (the guest port, default ssh.guest_port or 22; the host port
-- is vm:forwarded_port(port)), host_port (the host port itself: no QMP
-- query), input (bytes for the command's stdin; default none), timeout
-- (seconds, default 60: then ssh is killed and this raises).  The wait is
-- vm:wait's, so a matrix cell waiting here lets the others run.  ssh's own
-- failures (exit 255: refused, no route, authentication) raise with its
-- message; stdout keeps its first 16 MiB (truncated = true beyond).

local function shell_word(w)
  if w:match("^[%w%-%._/=:@,+]+$") then return w end
  return "'" .. w:gsub("'", [['\'']]) .. "'"
end

function M.ssh(vm, cmd, opts)
  local text
  if type(cmd) == "string" then
    text = cmd
  elseif type(cmd) == "table" and #cmd > 0 then
    local words = {}
    for i = 1, #cmd do
      if type(cmd[i]) ~= "string" then
        fail("bad argument #1 to 'ssh' (cmd[%d]: string expected, got %s)", i, type(cmd[i]))
      end
      words[i] = shell_word(cmd[i])
    end
    text = table.concat(words, " ")
  else
    fail("bad argument #1 to 'ssh' (a command string or a list of words expected, got %s)",
         type(cmd) == "table" and "empty table" or type(cmd))
  end
  -- its record in src/options.c (qlua --describe vm.ssh)
  opts = require("qemu").check_options("vm.ssh", opts, 2, 2, "ssh")
  if opts.input ~= nil and type(opts.input) ~= "string" then
    fail("bad argument #2 to 'ssh' (field 'input': string expected, got %s)", type(opts.input))
  end
  local timeout = opts.timeout or 60
  if not (timeout > 0) then fail("bad argument #2 to 'ssh' (field 'timeout' must be positive)") end
  local d = vm.description
  local conf = type(d) == "table" and type(d.ssh) == "table" and d.ssh or {}
  local user = opts.user or conf.user or "root"
  local key = opts.key or conf.key
  local port = opts.host_port or M.forwarded_port(vm, opts.port or conf.guest_port or 22)
  local ssh = os.getenv("QLUA_SSH")
  if not ssh or ssh == "" then ssh = "ssh" end
  -- ssh's own connect timeout comes first, so its message says what hung
  local connect = math.max(1, math.min(30, math.floor(timeout / 2)))
  local args = { "-F", "/dev/null", "-T", "-p", tostring(port),
    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
    "-o", "ConnectTimeout=" .. connect, "-o", "LogLevel=ERROR" }
  if key then
    for _, a in ipairs { "-i", key, "-o", "IdentitiesOnly=yes" } do args[#args + 1] = a end
  end
  for _, a in ipairs { "-l", user, "127.0.0.1", "--", text } do args[#args + 1] = a end
  local q = require "qemu"
  local p = q.launch_custom(ssh, args, {}, { stdout = "capture", stderr = "capture", input = opts.input or "" })
  local st = p:wait(timeout)
  if not st then
    p:kill(9)
    p:wait(10)
    fail("ssh: timeout after %g s running '%s'", timeout, text)
  end
  local out, cut = p:stdout()
  local err = p:stderr()
  local r = { stdout = out, stderr = err, truncated = cut }
  if st.signal then
    r.status, r.signal = 128 + st.signal, st.signal
  else
    r.status = st.code
  end
  if r.status == 255 then
    local msg = err:gsub("[\r\n]+$", ""):gsub("[\r\n]+", "; ")
    fail("ssh: '%s' failed as %s@127.0.0.1 port %d (%s)", text, user, port,
         msg ~= "" and msg or "ssh exited with code 255 and said nothing")
  end
  return r
end

return M
