-- spec/ssh_spec.lua - vm:ssh (lua/qemu/handle.lua) against a real sshd:
-- Debian's openssh-server, started by this spec on 127.0.0.1:<a free port>
-- with its own config, host key and authorized_keys in a temp dir (as root:
-- sshd needs it).  There is no guest with an sshd here, so the host-port
-- override is what reaches it; the forwarded-port path is tested against a
-- paused q35 VM whose user-networking forward accepts and never answers.
-- Also: launch_custom's stdout = "capture" and input, which vm:ssh runs on.
local H = require "helper"
local qemu = require "qemu"

local SSHD = "/usr/sbin/sshd"
local runnable = H.sh("[ \"$(id -u)\" = 0 ] && [ -x " .. SSHD .. " ] && command -v ssh-keygen") == 0

-- A TCP port nothing listens on (the kernel's pick, then released).
local function free_port()
  local code, out = H.sh([[python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']])
  assert(code == 0)
  return math.tointeger(tonumber(out))
end

-- The pids of this process's children, as a set (read directly: a shell
-- would be one of them; children are spawned by the main thread).
local function children()
  local set = {}
  local pid = H.slurp("/proc/self/stat"):match("^%d+")
  for c in (H.slurp("/proc/self/task/" .. pid .. "/children") or ""):gmatch("%d+") do set[c] = true end
  return set
end

local function new_children(before)
  local t = {}
  for pid in pairs(children()) do
    if not before[pid] then t[#t + 1] = pid .. " " .. (H.slurp("/proc/" .. pid .. "/cmdline") or ""):gsub("%z", " ") end
  end
  return t
end

describe("launch_custom's stdout = 'capture' and input", function()
  it("captures stdout apart from stderr, feeds input, and drops what is past 16 MiB", function()
    local p = qemu.launch_custom("sh", { "-c", "cat; echo err >&2; head -c 10485760 /dev/zero; exit 3" }, {},
      { stdout = "capture", stderr = "capture", input = "in\0put\n" })
    assert.are.same({ code = 3 }, p:wait(30))
    local out, cut = p:stdout()
    assert.are.equal(7 + 10485760, #out)
    assert.are.equal("in\0put\n", out:sub(1, 7))
    assert.is_false(cut)
    assert.are.equal("err\n", p:stderr())
    p = qemu.launch_custom("sh", { "-c", "head -c 17000000 /dev/zero" }, {}, { stdout = "capture", input = "" })
    assert.are.same({ code = 0 }, p:wait(30))
    out, cut = p:stdout()
    assert.are.equal(16 * 1024 * 1024, #out)
    assert.is_true(cut)
  end)

  it("refuses bad values", function()
    local ok, e = pcall(qemu.launch_custom, "true", {}, {}, { stdout = "pipe" })
    assert.are.equal("bad argument #4 to 'qemu.launch_custom' (field 'stdout': invalid option 'pipe' " ..
      "(expected 'capture' or 'inherit'))", e)
    ok, e = pcall(qemu.launch_custom, "true", {}, {}, { input = 3 })
    assert.is_false(ok)
    assert.are.equal("bad argument #4 to 'qemu.launch_custom' (field 'input': string expected, got number)", e)
  end)
end)

local maybe = runnable and describe or pending
maybe("vm:ssh against a real sshd", function()
  local dir, port, sshd, key

  setup(function()
    dir = H.tmpdir()
    key = dir .. "/id_ed25519"
    assert.are.equal(0, (H.sh("ssh-keygen -q -t ed25519 -N '' -f " .. H.q(dir .. "/host") ..
      " && ssh-keygen -q -t ed25519 -N '' -C spec -f " .. H.q(key) ..
      " && cp " .. H.q(key .. ".pub") .. " " .. H.q(dir .. "/authorized_keys") .. " && mkdir -p /run/sshd")))
    port = free_port()
    H.write(dir .. "/sshd_config", table.concat({
      "Port " .. port, "ListenAddress 127.0.0.1", "HostKey " .. dir .. "/host", "PidFile none",
      "AuthorizedKeysFile " .. dir .. "/authorized_keys", "StrictModes no", "UsePAM no",
      "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
      "LogLevel ERROR", "" }, "\n"))
    sshd = qemu.launch_custom(SSHD, { "-D", "-e", "-f", dir .. "/sshd_config" }, {}, { stderr = "capture" })
    -- up once it answers
    local deadline = qemu.now() + 30
    while true do
      local ok = pcall(sshd.ssh, sshd, "true", { host_port = port, key = key, timeout = 10 })
      if ok then break end
      assert(qemu.now() < deadline and sshd:alive(), "sshd did not come up: " .. sshd:stderr())
      H.sh("sleep 0.2")
    end
  end)

  teardown(function()
    if sshd then
      sshd:kill()
      sshd:wait(10)
    end
  end)

  local function o(t)
    t = t or {}
    t.host_port, t.key = t.host_port or port, t.key or key
    return t
  end

  it("returns status, stdout, stderr and truncated, as the guest agent's exec", function()
    local r = sshd:ssh("echo hello; echo oops >&2; exit 3", o())
    assert.are.same({ status = 3, stdout = "hello\n", stderr = "oops\n", truncated = false }, r)
    assert.are.same({ status = 0, stdout = "root\n", stderr = "", truncated = false }, sshd:ssh("id -un", o()))
  end)

  it("quotes a list of words for the remote shell", function()
    local r = sshd:ssh({ "printf", "%s|", "a b", "it's", "$HOME", "" }, o())
    assert.are.equal("a b|it's|$HOME||", r.stdout)
  end)

  it("feeds input to the command's stdin, bytes as they are", function()
    local data = "line 1\nline 2\0\255\n"
    assert.are.equal(data, sshd:ssh("cat", o { input = data }).stdout)
    assert.are.equal("0\n", sshd:ssh("wc -c", o()).stdout:gsub("%s+", "") .. "\n")  -- no input: empty stdin
  end)

  it("takes a command that prints 10 MiB whole, and cuts at 16 MiB", function()
    local r = sshd:ssh("head -c 10485760 /dev/zero | tr '\\0' x", o())
    assert.are.equal(0, r.status)
    assert.are.equal(10485760, #r.stdout)
    assert.are.equal(("x"):rep(64), r.stdout:sub(-64))
    assert.is_false(r.truncated)
    r = sshd:ssh("head -c 17000000 /dev/zero", o())
    assert.are.equal(0, r.status)
    assert.are.equal(16 * 1024 * 1024, #r.stdout)
    assert.is_true(r.truncated)
  end)

  it("takes the user and key from the description's ssh section", function()
    local vm <close> = qemu.launch({ path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
      knobs = { stopped = true, no_defaults = true }, ssh = { user = "root", key = key } },
      { stderr = "capture" })
    assert.are.same({ user = "root", key = key }, vm.description.ssh)
    assert.are.equal("root\n", vm:ssh("id -un", { host_port = port }).stdout)
    -- a wrong user from opts wins over the section's, and ssh's refusal is an error
    local ok, e = pcall(vm.ssh, vm, "true", { host_port = port, user = "nobody" })
    assert.is_false(ok)
    assert.are.equal(("ssh: 'true' failed as nobody@127.0.0.1 port %d (nobody@127.0.0.1: Permission denied " ..
      "(publickey).)"):format(port), e:gsub("^[^:]*:%d+: ", ""))
  end)

  it("waits as a matrix cell: two calls in cells run side by side", function()
    local cos, results, yielded = {}, {}, 0
    for i = 1, 2 do
      cos[i] = coroutine.create(function() return sshd:ssh("sleep 1; echo " .. i, o()) end)
      qemu.cell(cos[i])
    end
    local t0 = qemu.now()
    local live = 2
    while live > 0 do
      local deadline
      for i, co in ipairs(cos) do
        if coroutine.status(co) == "suspended" then
          local ok, a = coroutine.resume(co)
          assert(ok, a)
          if coroutine.status(co) == "dead" then
            results[i], live = a, live - 1
          else
            yielded = yielded + 1
            deadline = deadline and math.min(deadline, a) or a
          end
        end
      end
      if live > 0 then qemu.poll(deadline) end
    end
    assert.is_true(yielded >= 2)
    assert.are.equal("1\n", results[1].stdout)
    assert.are.equal("2\n", results[2].stdout)
    assert.is_true(qemu.now() - t0 < 30)
  end)

  it("kills ssh at the timeout and says so; nothing is left running", function()
    local before = children()
    local t0 = qemu.now()
    local ok, e = pcall(sshd.ssh, sshd, "sleep 5", o { timeout = 1 })
    assert.is_false(ok)
    assert.are.equal("ssh: timeout after 1 s running 'sleep 5'", e:gsub("^[^:]*:%d+: ", ""))
    assert.is_true(qemu.now() - t0 < 10)
    assert.are.same({}, new_children(before))
  end)
end)

describe("vm:ssh without an sshd", function()
  it("nothing listening: ssh's own message, at once, and nothing left running", function()
    local p = free_port()
    local me = qemu.launch_custom("sleep", { "60" }, {})
    local before = children()
    local t0 = qemu.now()
    local ok, e = pcall(me.ssh, me, "true", { host_port = p, timeout = 20 })
    me:kill(9)
    me:wait(10)
    assert.is_false(ok)
    assert.are.equal(("ssh: 'true' failed as root@127.0.0.1 port %d (ssh: connect to host 127.0.0.1 port %d: " ..
      "Connection refused)"):format(p, p), e:gsub("^[^:]*:%d+: ", ""))
    assert.is_true(qemu.now() - t0 < 20)
    before[tostring(me.pid)] = true
    assert.are.same({}, new_children(before))
  end)

  it("resolves the host port through vm:forwarded_port (a paused q35 VM: the forward answers nothing)", function()
    local vm <close> = qemu.launch({ path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
      knobs = { stopped = true, no_defaults = true },
      devices = { qemu.netdev { type = "user", id = "n0", hostfwd = { { host_port = 0, guest_port = 22 } } } } },
      { stderr = "capture" })
    local fp = vm:forwarded_port(22)
    local ok, e = pcall(vm.ssh, vm, "true", { timeout = 4 })
    assert.is_false(ok)
    assert.are.equal(("ssh: 'true' failed as root@127.0.0.1 port %d (Connection timed out during banner " ..
      "exchange)"):format(fp), e:gsub("^[^:]*:%d+: ", ""))
    ok, e = pcall(vm.ssh, vm, "true", { port = 2222 })
    assert.is_false(ok)
    assert.matches("forwarded_port: no user%-networking forward to guest port 2222 %(tcp%)", e)
  end)

  it("refuses bad arguments", function()
    local me = qemu.launch_custom("true", {}, {})
    me:wait(10)
    local function err(...)
      local ok, e = pcall(me.ssh, me, ...)
      assert.is_false(ok)
      return (e:gsub("^[^:]*:%d+: ", ""))
    end
    assert.are.equal("bad argument #2 to 'ssh' (unknown field 'hostport' (did you mean 'host_port'?))",
      err("true", { hostport = 1 }))
    assert.are.equal("bad argument #2 to 'ssh' (field 'timeout': number expected, got string)",
      err("true", { timeout = "1" }))
    assert.are.equal("bad argument #2 to 'ssh' (field 'host_port': 70000 is out of range (expected 1..65535))",
      err("true", { host_port = 70000 }))
    assert.are.equal("bad argument #1 to 'ssh' (a command string or a list of words expected, got empty table)",
      err({}))
    assert.are.equal("bad argument #1 to 'ssh' (cmd[2]: string expected, got number)", err({ "echo", 1 }))
  end)
end)
