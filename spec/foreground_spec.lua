-- spec/foreground_spec.lua - `qlua vm.lua` with the real QEMU and the real
-- test guest (build/guest, scripts/guest/README.md): the guest's first
-- serial port is on the terminal unless the description connects it
-- elsewhere, a user's signal makes qlua exit 128 + it and leaves no QEMU
-- behind, and knobs.daemonize cannot take the terminal with it.
-- Boots one guest at a time, each under a timeout; asserts markers, never
-- timings.
local H = require "helper"
local F = require "support.fake"
local G = require "support.guest"
local qemu = H.qemu

-- A name no other process has (QEMU's argv gets "-name guest=NAME").
local unique = H.unique

-- The README's first example, on the test guest: q35 under TCG, a kernel
-- booted directly, no_defaults and no_graphic, a disk and a 9p share.
-- t: name, checks (kernel command line words), knobs and devices added,
-- extra (more fields of the description, as Lua source).
local function readme_vm(dir, t)
  t = t or {}
  G.disk(dir .. "/disk.img", "hello from the README's disk")
  os.execute("mkdir -p " .. H.q(dir .. "/share"))
  return H.script(([[
return {
  name    = %q,
  machine = { type = "q35", accel = "tcg" },
  memory  = { size = "256M" },
  smp     = { cpus = 1 },
  kernel  = { path = %q, initrd = %q, params = "console=ttyS0 quiet panic=-1 no_timer_check " .. %q },
  knobs   = { no_defaults = true, no_graphic = true %s },
  devices = {
    qemu.block { id = "hd0", file = %q, format = "raw", read_only = true },
    qemu.fsdev { id = "fs0", path = %q, mount_tag = "share", security_model = "none" },
    %s
  },
  %s
}
]]):format(t.name or "demo", G.kernel, G.initrd, t.checks or "qlua.blk=/dev/vda qlua.9p=share",
    t.knobs or "", dir .. "/disk.img", dir .. "/share", t.devices or "", t.extra or ""))
end

-- Runs ./qlua SCRIPT in the foreground with stdin from /dev/null, bounded
-- by timeout(1); returns code, stdout, stderr.
local function run_fg(script, ...)
  local words = { "timeout -s KILL 120", H.qlua_cmd }
  for _, a in ipairs({ ... }) do words[#words + 1] = H.q(a) end
  words[#words + 1] = H.q(script)
  return H.sh(table.concat(words, " ") .. " </dev/null")
end

describe("qlua vm.lua shows the guest's first serial port on the terminal #guest", function()
  it("with the README's first example (no_defaults and no_graphic): the guest's markers, exit 0", function()
    local dir = H.tmpdir()
    local code, out, err = run_fg(readme_vm(dir))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.matches("QLUA%-GUEST%-READY\r?\n", out)
    assert.matches("QLUA%-BLK%-OK hello from the README's disk\r?\n", out)
    assert.matches("QLUA%-9P%-OK\r?\n", out)
    assert.matches("QLUA%-GUEST%-DONE\r?\n", out)
  end)

  it("-n shows the -serial stdio that run adds", function()
    local dir = H.tmpdir()
    local code, out, err = H.qlua("-n", readme_vm(dir))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.matches("\n  %-nodefaults \\\n  %-nographic \\\n", out)
    assert.matches(" \\\n  %-serial stdio\n$", out)
  end)

  it("leaves the port where a legacy_serial device connects it: the terminal gets nothing of the guest", function()
    local dir = H.tmpdir()
    local log = dir .. "/console.log"
    local code, out, err = run_fg(readme_vm(dir, { devices = ([[
    qemu.chardev { backend = "file", id = "con0", path = %q },
    qemu.legacy_serial { chardev = "con0" },]]):format(log) }))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("", out)
    local text = H.slurp(log) or ""
    assert.matches("QLUA%-GUEST%-READY\r?\n", text)
    assert.matches("QLUA%-GUEST%-DONE\r?\n", text)
  end)

  it("leaves the port where extra_args' -serial connects it", function()
    local dir = H.tmpdir()
    local log = dir .. "/console.log"
    local code, out, err = run_fg(readme_vm(dir, {
      extra = ("extra_args = { '-serial', 'file:%s' },"):format(log) }))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("", out)
    assert.matches("QLUA%-GUEST%-DONE\r?\n", H.slurp(log) or "")
  end)
end)

-- What qlua vm.lua adds for the console, by description (qemu.argv with
-- console = "stdio" is its command line), as golden files.
describe("the foreground console's options", function()
  local base = { path = "qemu-system-x86_64", name = "fg", machine = { type = "q35" } }
  local function with(t)
    local d = {}
    for k, v in pairs(base) do d[k] = v end
    for k, v in pairs(t) do d[k] = v end
    return d
  end
  local function golden(name, desc)
    H.golden(name, (qemu.argv(desc, { console = "stdio" })))
  end

  it("no knobs: -display none and -serial stdio", function()
    golden("fg-plain", with {})
  end)
  it("no_defaults and no_graphic: -serial stdio (-nodefaults leaves -nographic no serial port)", function()
    golden("fg-nodefaults-nographic", with { knobs = { no_defaults = true, no_graphic = true } })
  end)
  it("no_graphic alone: nothing (-nographic puts the first serial port on stdio itself)", function()
    golden("fg-nographic", with { knobs = { no_graphic = true } })
  end)
  it("a legacy_serial device: no -serial stdio (the description connects the first port)", function()
    golden("fg-legacy-serial", with { knobs = { no_defaults = true, no_graphic = true }, devices = {
      qemu.chardev { backend = "socket", id = "s0", path = "/run/s0.sock" },
      qemu.legacy_serial { chardev = "s0" } } })
  end)
  it("-serial in extra_args: no -serial stdio", function()
    golden("fg-extra-serial", with { knobs = { no_defaults = true },
      extra_args = { "-serial", "file:/tmp/ttyS0.log" } })
  end)
  it("a chardev on QEMU's stdio (backend 'console'): no -serial stdio (QEMU gives stdio to one chardev)", function()
    golden("fg-chardev-console", with { knobs = { no_defaults = true }, devices = {
      qemu.serial { id = "ser0" },
      qemu.chardev { backend = "console", id = "hvc", driver = "virtconsole", bus = "ser0.0" } } })
  end)
  it("an isa-serial device on port 0: no -serial stdio", function()
    golden("fg-isa-serial", with { knobs = { no_defaults = true }, devices = {
      qemu.chardev { backend = "pty", id = "c0", driver = "isa-serial" } } })
  end)
  it("an isa-serial device on another port: -serial stdio still", function()
    golden("fg-isa-serial-index1", with { knobs = { no_defaults = true }, devices = {
      qemu.chardev { backend = "pty", id = "c0" },
      qemu.device { driver = "isa-serial", chardev = "c0", index = 1 } } })
  end)
end)

-- The real QEMU accepts what qlua vm.lua runs for each rule: started paused
-- (-S) with stdin /dev/null and stdout a file (the foreground's stdio), QMP
-- on a pipe chardev over two files that feed it qmp_capabilities and quit;
-- it must exit 0 with nothing on stderr.
describe("the real QEMU accepts the foreground console's options", function()
  local function accepts(desc)
    local d = H.tmpdir()
    desc.path = H.qemu_bin
    desc.machine = { type = "q35" }
    local argv, fds = qemu.argv(desc, { console = "stdio" })
    H.write(d .. "/qmp.in", '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
    H.write(d .. "/qmp.out", "")
    local args = { "-c", 'exec "$@" </dev/null >' .. H.q(d .. "/stdout"), "sh", argv[1] }
    for i = 2, #argv do args[#args + 1] = argv[i] end
    for _, a in ipairs({ "-S", "-chardev", "pipe,id=fgqmp,path=" .. d .. "/qmp", "-mon", "chardev=fgqmp,mode=control" }) do
      args[#args + 1] = a
    end
    local vm = qemu.launch_custom("/bin/sh", args, fds, { stderr = "capture" })
    local st = vm:wait(60)
    if not st then vm:kill(9); vm:wait(5) end
    assert.are.equal("", vm:stderr())
    assert.are.same({ code = 0 }, st)
  end

  it("no_defaults and no_graphic with -serial stdio", function()
    accepts { knobs = { no_defaults = true, no_graphic = true } }
  end)
  it("an isa-serial device on port 1 with -serial stdio on port 0", function()
    accepts { knobs = { no_defaults = true }, devices = {
      qemu.chardev { backend = "pty", id = "c0" },
      qemu.device { driver = "isa-serial", chardev = "c0", index = 1 } } }
  end)
  it("an isa-serial device on port 0, no -serial stdio", function()
    accepts { knobs = { no_defaults = true }, devices = {
      qemu.chardev { backend = "pty", id = "c0", driver = "isa-serial" } } }
  end)
  it("a virtconsole on QEMU's stdio, no -serial stdio", function()
    accepts { knobs = { no_defaults = true }, devices = {
      qemu.serial { id = "ser0" },
      qemu.chardev { backend = "console", id = "hvc", driver = "virtconsole", bus = "ser0.0" } } }
  end)
  it("a legacy_serial device, with no_graphic (its monitor on stdio)", function()
    accepts { knobs = { no_graphic = true }, devices = {
      qemu.chardev { backend = "file", id = "c0", path = H.tmpdir() .. "/ttyS0.log" },
      qemu.legacy_serial { chardev = "c0" } } }
  end)
end)

describe("knobs.daemonize in the foreground", function()
  local function script(extra)
    return H.script(([[
return {
  path = %q, name = "d",
  knobs = { no_defaults = true, daemonize = true },
  %s
}
]]):format(F.bin, extra or ""), "vm.lua")
  end

  it("is refused when the console is on the terminal, naming the line and the field; nothing starts", function()
    local d = F.dir()
    local s = script(("extra_args = { '--fake-dir', %q },"):format(d))
    for _, args in ipairs({ { s }, { "-n", s } }) do
      local code, out, err = H.qlua(table.unpack(args))
      assert.are.equal("", out)
      assert.are.equal("qlua: " .. s .. ":1: field 'knobs.daemonize': not with the console on this terminal "
        .. "(QEMU cannot keep stdio once detached; connect the first serial port elsewhere, e.g. with "
        .. "qemu.legacy_serial)\n", err)
      assert.are.equal(2, code)
    end
    assert.is_nil(F.read(d, "ready"))
    assert.is_nil(F.read(d, "argv"))
  end)

  it("is refused with no_graphic too (it is -nographic's stdio then)", function()
    local s = H.script("return { name = 'd', knobs = { no_graphic = true, daemonize = true } }\n", "vm.lua")
    local code, out, err = H.qlua("-n", s)
    assert.are.equal("", out)
    assert.are.equal("qlua: " .. s .. ":1: field 'knobs.daemonize': not with the console on this terminal "
      .. "(QEMU cannot keep stdio once detached; connect the first serial port elsewhere, e.g. with "
      .. "qemu.legacy_serial)\n", err)
    assert.are.equal(2, code)
  end)

  it("is accepted when the description connects the first serial port elsewhere", function()
    local argv = qemu.argv({ name = "d", knobs = { no_defaults = true, daemonize = true }, devices = {
      qemu.chardev { backend = "socket", id = "s0", path = "/run/s0.sock" },
      qemu.legacy_serial { chardev = "s0" } } }, { console = "stdio" })
    local s = table.concat(argv, " ")
    assert.matches("%-daemonize", s)
    assert.is_nil(s:find("stdio", 1, true))
  end)
end)

describe("a signal to a foreground qlua running the real guest #guest", function()
  for _, s in ipairs({ { "INT", 2 }, { "TERM", 15 }, { "HUP", 1 } }) do
    it("SIG" .. s[1] .. ": qlua exits " .. 128 + s[2] .. " and leaves no QEMU behind", function()
      local defer = F.cleanups(finally)
      local dir, name = H.tmpdir(), unique("qlua-fg")
      local q, out, err = F.spawn_qlua(readme_vm(dir, { name = name, checks = "qlua.wait" }))
      local tag = "guest=" .. name
      defer(function()
        F.stop(q)
        for _, p in ipairs(F.pids_with(tag)) do F.kill(p) end
      end)
      assert.is_truthy(F.wait_until(function()
        return (H.slurp(out) or ""):find("QLUA-GUEST-WAITING", 1, true) or not q:alive()
      end, G.BOOT) and q:alive(), "the guest did not come up: " .. tostring(H.slurp(out))
        .. tostring(H.slurp(err)))
      local pids = F.pids_with(tag)
      assert.are.equal(1, #pids)
      assert.is_true(q:kill(s[2]))
      assert.are.same({ code = 128 + s[2] }, q:wait(G.EXIT))
      assert.is_true(F.await_gone(pids[1], 5), "QEMU outlived qlua")
      assert.are.same({}, F.pids_with(tag))
      -- QEMU got it from qlua (passed on, not sent to the process group)
      assert.matches("^qemu%-system%-x86_64: terminating on signal " .. s[2] .. " from pid " .. q.pid
        .. " %([^\n]*%)\n$", H.slurp(err))
    end)
  end
end)
