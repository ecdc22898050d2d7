-- spec/dry_spec.lua - dry runs (qlua -n, --json, --check; --probe) of scripts that
-- launch VMs themselves, and descriptions that make files before QEMU
-- starts (`prepare`: recipes.disk's overlay).  A dry run starts nothing and
-- makes or removes no file: QEMU and qemu-img are stand-ins here that leave
-- a marker file when they run, and the directory a script runs in is
-- listed before and after.
local H = require "helper"
local qemu = H.qemu
local q = H.q

-- ---- helpers ----------------------------------------------------------------

-- A stand-in program at d/NAME that writes d/NAME.ran (its arguments) when run.
local function marker(d, name)
  local path = d .. "/" .. name
  H.write(path, "#!/bin/sh\necho \"$@\" >> " .. q(path .. ".ran") .. "\n")
  assert(os.execute("chmod +x " .. q(path)))
  return path
end

local function listing(d)
  local _, out = H.sh("cd " .. q(d) .. " && find . | sort")
  return out
end

-- Runs `qlua ARGS...` in d with QLUA_QEMU and QLUA_QEMU_IMG the stand-ins
-- d/qemu and d/qemu-img, and TMPDIR=d; under `wrap` when it is given (a
-- command that runs qlua: "ip netns exec NS").  Returns code, stdout, stderr.
local function qlua_wrapped(d, wrap, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  return H.sh(("cd %s && TMPDIR=%s QLUA_QEMU=%s QLUA_QEMU_IMG=%s %s%s %s </dev/null"):format(
    q(d), q(d), q(d .. "/qemu"), q(d .. "/qemu-img"), wrap and wrap .. " " or "", H.qlua_cmd,
    table.concat(words, " ")))
end

local function qlua_in(d, ...)
  return qlua_wrapped(d, nil, ...)
end

-- A directory with vm.lua (src), the stand-ins, and a 1 MiB raw base.img.
local function setup(src)
  local d = H.tmpdir()
  H.write(d .. "/vm.lua", src)
  marker(d, "qemu")
  marker(d, "qemu-img")
  local f = assert(io.open(d .. "/base.img", "wb"))
  f:write(("\0"):rep(1024 * 1024))
  f:close()
  return d
end

-- Runs qlua with opts on vm.lua in d (under wrap, as qlua_wrapped);
-- asserts nothing ran and no file appeared or went.  Returns code, stdout,
-- stderr.
local function dry_wrapped(d, wrap, ...)
  local before = listing(d)
  local code, out, err = qlua_wrapped(d, wrap, ...)
  assert.is_nil(io.open(d .. "/qemu.ran"), "QEMU ran in a dry run")
  assert.is_nil(io.open(d .. "/qemu-img.ran"), "qemu-img ran in a dry run")
  assert.are.equal(before, listing(d))
  return code, out, err
end

local function dry(d, ...)
  return dry_wrapped(d, nil, ...)
end

local LAUNCHES = [[
local fd = qemu.open("/dev/null", "r")
local desc = { name = "x", devices = { qemu.block { id = "hd0", file = fd, format = "raw" } } }
print("before")
local vm <close> = qemu.launch(desc, { console = "capture", qmp = true })
print("after: " .. vm.pid)
]]

-- What qemu.launch above would run, after the stand-in's path.
local LAUNCH_ARGS = {
  "-name", "guest=x",
  "-add-fd", "fd=3,set=3", "-drive", "id=hd0,file=/dev/fdset/3,format=raw,if=none,auto-read-only=off",
  "-device", "virtio-blk-pci,drive=hd0,serial=hd0",
  "-chardev", "socket,id=qlua-qmp,fd=4", "-mon", "chardev=qlua-qmp,mode=control",
  "-chardev", "socket,id=qlua-console,fd=5", "-serial", "chardev:qlua-console",
  "-display", "none",
}

-- ---- a script that launches its VM ----------------------------------------------

describe("a dry run of a script that launches its VM", function()
  it("-n prints what qemu.launch would run, runs nothing and stops the script there (exit 0)", function()
    local d = setup(LAUNCHES)
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal("qlua: vm.lua:4: dry run: the script stops at qemu.launch, which would run the " ..
      "command above (nothing was started)\n", err)
    assert.are.equal(0, code)
    assert.are.equal(table.concat({
      "before",
      "# fd 3: open r /dev/null",
      "# fd 4: qemu.launch's QMP channel",
      "# fd 5: qemu.launch's console",
      d .. "/qemu \\",
      "  -name guest=x \\",
      "  -add-fd fd=3,set=3 \\",
      "  -drive id=hd0,file=/dev/fdset/3,format=raw,if=none,auto-read-only=off \\",
      "  -device virtio-blk-pci,drive=hd0,serial=hd0 \\",
      "  -chardev socket,id=qlua-qmp,fd=4 \\",
      "  -mon chardev=qlua-qmp,mode=control \\",
      "  -chardev socket,id=qlua-console,fd=5 \\",
      "  -serial chardev:qlua-console \\",
      "  -display none",
      "" }, "\n"), out)
  end)

  it("--json prints it as JSON with its descriptor map", function()
    local d = setup(LAUNCHES)
    local code, out, err = dry(d, "--json", "vm.lua")
    assert.are.equal(0, code, err)
    assert.are.equal("qlua: vm.lua:4: dry run: the script stops at qemu.launch, which would run the " ..
      "command above (nothing was started)\n", err)
    local json = assert(out:match("^before\n(.*)$"), out)
    local got = qemu.json_decode(json)
    assert.are.same({ d .. "/qemu", table.unpack(LAUNCH_ARGS) }, got.argv)
    assert.are.same({ { fd = 3, what = "open r /dev/null" }, { fd = 4, what = "qemu.launch's QMP channel" },
                      { fd = 5, what = "qemu.launch's console" } }, got.fds)
    assert.is_nil(got.prepare)
  end)

  it("qemu.run and qemu.launch_custom stop the same way", function()
    local d = setup("print('one')\nqemu.run({ name = 'y' }, { timeout = 5 })\nprint('two')\n")
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal(0, code, err)
    assert.are.equal("one\n" .. d .. "/qemu \\\n  -name guest=y\n", out)
    assert.are.equal("qlua: vm.lua:2: dry run: the script stops at qemu.run, which would run the " ..
      "command above (nothing was started)\n", err)

    d = setup("local fd = qemu.open('/dev/null', 'r')\n" ..
      "local h = qemu.launch_custom(os.getenv('QLUA_QEMU'), { 'a b', \"it's\" }, { fd })\nprint('two')\n")
    code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal(0, code, err)
    assert.are.equal("# fd 3: open r /dev/null\n" .. d .. "/qemu 'a b' 'it'\\''s'\n", out)
    assert.are.equal("qlua: vm.lua:2: dry run: the script stops at qemu.launch_custom, which would run " ..
      "the command above (nothing was started)\n", err)
    code, out, err = dry(d, "--check", "vm.lua")
    assert.are.equal(0, code, err)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:2: dry run: the script stops at qemu.launch_custom (a raw command line: " ..
      "nothing to check; nothing was started)\n", err)
  end)

  it("-e CHUNK's launches too", function()
    local d = setup("")
    local code, out, err = dry(d, "-n", "-e", "qemu.run { name = 'e' }")
    assert.are.equal(0, code, err)
    assert.are.equal(d .. "/qemu \\\n  -name guest=e\n", out)
    assert.are.equal("qlua: (command line):1: dry run: the script stops at qemu.run, which would run the " ..
      "command above (nothing was started)\n", err)
  end)

  it("a script that catches the stop cannot launch either", function()
    local d = setup("for i = 1, 2 do\n  local ok, e = pcall(function() local h = qemu.launch { name = 'v' .. i }; return h end)\n" ..
      "  print(ok, tostring(e))\nend\n")
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("# fd 3: qemu.launch's QMP channel\n" ..
      d .. "/qemu \\\n  -name guest=v1 \\\n  -chardev socket,id=qlua-qmp,fd=3 \\\n" ..
      "  -mon chardev=qlua-qmp,mode=control\n" ..
      "false\tvm.lua:2: dry run: the script stops at qemu.launch, which would run the command above " ..
      "(nothing was started)\n" ..
      "# fd 3: qemu.launch's QMP channel\n" ..
      d .. "/qemu \\\n  -name guest=v2 \\\n  -chardev socket,id=qlua-qmp,fd=3 \\\n" ..
      "  -mon chardev=qlua-qmp,mode=control\n" ..
      "false\tvm.lua:2: dry run: the script stops at qemu.launch, which would run the command above " ..
      "(nothing was started)\n", out)
    assert.are.equal("qlua: vm.lua returned no VM description to print\n", err)
  end)

  it("an invalid description is the launch's error, as without -n", function()
    local d = setup("print('x')\nlocal vm = qemu.launch { memory = { size = '1Q' } }\n")
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("x\n", out)
    assert.are.equal("qlua: vm.lua:2: field 'memory.size': invalid size '1Q' (expected bytes, or a number " ..
      "with suffix K, M, G or T)\n", err)
  end)

  describe("--probe asks the real QEMU about the launch's description, --check its cached answers", function()
    local function real(src)
      local d = H.tmpdir()
      H.write(d .. "/vm.lua", src)
      return d
    end
    -- qlua FLAG vm.lua in d, with a cache of QEMU's answers of d's own
    local function checking(d, flag)
      return H.sh(("cd %s && XDG_CACHE_HOME=%s %s %s vm.lua"):format(q(d), q(d .. "/cache"), H.qlua_cmd, flag))
    end

    it("all there: says so, stops the script (exit 0)", function()
      local d = real("local vm = qemu.launch {\n  path = " .. ("%q"):format(H.qemu_bin) .. ",\n" ..
        "  devices = { qemu.device { driver = 'e1000' } } }\nprint('after')\n")
      local code, out, err = checking(d, "--check")
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.are.equal("qlua: vm.lua:1: field 'path': a dry run starts no QEMU, and " .. H.qemu.which(H.qemu_bin) ..
        " has not been asked yet (qlua --probe vm.lua asks it and caches its answers)\n", err)
      code, out, err = checking(d, "--probe")
      assert.are.equal(0, code, err)
      assert.matches("^vm%.lua:1: QEMU [%d.]+ %(.*%) has every machine type, device and property it uses\n$", out)
      assert.are.equal("qlua: vm.lua:1: dry run: the script stops at qemu.launch, whose VM was checked " ..
        "(the VM was not started)\n", err)
      code, out, err = checking(d, "--check")
      assert.are.equal(0, code, err)
      assert.matches("^vm%.lua:1: QEMU [%d.]+ %(.*%) has every machine type, device and property it uses\n$", out)
      assert.are.equal("qlua: vm.lua:1: dry run: the script stops at qemu.launch, whose VM was checked " ..
        "(nothing was started)\n", err)
    end)

    it("something missing: the problems, at the device's line (exit 2)", function()
      local d = real("local x = 1\nlocal vm = qemu.launch {\n  path = " .. ("%q"):format(H.qemu_bin) .. ",\n" ..
        "  devices = { qemu.device { driver = 'virtio-blk-pcie' } } }\nprint('after')\n")
      local code, out, err = checking(d, "--probe")
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.matches("^qlua: vm%.lua:4: devices%[1%] %(device%): field 'driver': QEMU [%d.]+ %(.-%) has no " ..
        "device 'virtio%-blk%-pcie' %(did you mean 'virtio%-blk%-pci'%?%)\n$", err)
    end)
  end)
end)

-- ---- prepare: what a launch runs before QEMU -----------------------------------

local OVERLAY = [[
local recipes = require "qemu.recipes"
return qemu.merge(recipes.disk { file = "base.img", format = "raw", overlay = true }, { name = "x" })
]]

describe("prepare (recipes.disk's overlay)", function()
  it("-n prints the commands that make the overlay before QEMU's, and makes nothing", function()
    local d = setup(OVERLAY)
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local run = out:match("^mkdir %-m 0700 (%S+)\n")
    assert.truthy(run, out)
    assert.matches("^" .. d:gsub("%p", "%%%0") .. "/qlua%-run%.%x+$", run)
    assert.are.equal(table.concat({
      "mkdir -m 0700 " .. run,
      d .. "/qemu-img create -q -f qcow2 -b " .. d .. "/base.img -F raw " .. run .. "/base.img.overlay.qcow2",
      d .. "/qemu \\",
      "  -name guest=x \\",
      "  -drive id=base.img,file=" .. run .. "/base.img.overlay.qcow2,format=qcow2,if=none \\",
      "  -device virtio-blk-pci,drive=base.img,serial=base.img \\",
      "  -display none \\",
      "  -serial stdio",
      "" }, "\n"), out)
  end)

  it("--json lists them as `prepare`", function()
    local d = setup(OVERLAY)
    local code, out, err = dry(d, "--json", "vm.lua")
    assert.are.equal(0, code, err)
    local got = qemu.json_decode(out)
    local run = got.prepare[1].remove
    assert.are.same({
      { argv = { "mkdir", "-m", "0700", run }, remove = run },
      { argv = { d .. "/qemu-img", "create", "-q", "-f", "qcow2", "-b", d .. "/base.img", "-F", "raw",
                 run .. "/base.img.overlay.qcow2" } },
    }, got.prepare)
    assert.are.equal("id=base.img,file=" .. run .. "/base.img.overlay.qcow2,format=qcow2,if=none", got.argv[5])
  end)

  it("what -n prints runs as it is: the overlay is there for QEMU", function()
    local d = setup(OVERLAY)
    -- the real qemu-img, and a QEMU that looks at its disk
    H.write(d .. "/qemu", "#!/bin/sh\nfor a; do case $a in id=base.img,file=*) f=${a#*file=}; " ..
      "qemu-img info \"${f%%,*}\" > " .. q(d .. "/info") .. ";; esac; done\n")
    local code, out, err = H.sh(("cd %s && TMPDIR=%s QLUA_QEMU=%s %s -n vm.lua"):format(q(d), q(d),
      q(d .. "/qemu"), H.qlua_cmd))
    assert.are.equal(0, code, err)
    H.write(d .. "/cmd.sh", "set -e\n" .. out)
    local scode, sout, serr = H.sh("cd " .. q(d) .. " && sh cmd.sh")
    assert.are.equal("", serr)
    assert.are.equal("", sout)
    assert.are.equal(0, scode)
    local info = H.slurp(d .. "/info")
    assert.truthy(info:find("file format: qcow2", 1, true), info)
    assert.truthy(info:find("backing file: " .. d .. "/base.img", 1, true), info)
  end)

  it("a launch makes the overlay just before QEMU starts, and qlua removes it when it exits", function()
    local d = setup(OVERLAY)
    H.write(d .. "/qemu", "#!/bin/sh\nfor a; do case $a in id=base.img,file=*) f=${a#*file=}; " ..
      "qemu-img info \"${f%%,*}\" > " .. q(d .. "/info") .. "; echo \"${f%%,*}\";; esac; done\n")
    local code, out, err = H.sh(("cd %s && TMPDIR=%s QLUA_QEMU=%s %s vm.lua"):format(q(d), q(d),
      q(d .. "/qemu"), H.qlua_cmd))
    assert.are.equal(0, code, err)
    local overlay = out:match("^(%S+)\n$")
    assert.truthy(overlay, out)
    assert.truthy(H.slurp(d .. "/info"):find("backing file: " .. d .. "/base.img", 1, true))
    assert.is_nil(io.open(overlay))
    assert.is_nil(io.open(overlay:match("^(.*)/")), "the run directory outlived qlua")
  end)

  it("a command that fails stops the launch at the line that launched, and QEMU never starts", function()
    local d = setup("local vm = { name = 'x', prepare = {\n  { argv = { 'sh', '-c', 'echo made; echo no >&2; exit 3' } },\n" ..
      "  { argv = { 'touch', 'second' } } } }\nprint('launching')\nlocal h = qemu.launch(vm)\n")
    local code, out, err = qlua_in(d, "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("launching\n", out)
    assert.are.equal("qlua: vm.lua:5: prepare[1]: 'sh' exited with code 3: made no\n", err)
    assert.is_nil(io.open(d .. "/qemu.ran"))
    assert.is_nil(io.open(d .. "/second"))
    -- and a program that does not exist
    H.write(d .. "/vm.lua", "return { name = 'x', prepare = { { argv = { '/nonexistent/mk' } } } }\n")
    code, out, err = qlua_in(d, "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: prepare[1]: cannot execute '/nonexistent/mk': No such file or directory\n", err)
    assert.is_nil(io.open(d .. "/qemu.ran"))
  end)

  it("remove goes only for commands that ran", function()
    local d = setup("")
    H.write(d .. "/vm.lua", ("return { name = 'x', prepare = {\n" ..
      "  { argv = { 'mkdir', %q }, remove = %q },\n" ..
      "  { argv = { 'false' }, remove = %q } } }\n"):format(d .. "/made", d .. "/made", d .. "/base.img"))
    local code, _, err = qlua_in(d, "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: prepare[2]: 'false' exited with code 1\n", err)
    assert.is_nil(io.open(d .. "/made"))
    assert.truthy(io.open(d .. "/base.img"), "removed what a command that failed named")
  end)

  it("is checked like every field, and merged by appending", function()
    local function e(src)
      local ok, msg = pcall(assert(load("local a = qemu.argv " .. src, "=vm.lua", "t", { qemu = qemu })))
      assert(not ok)
      return msg
    end
    assert.are.equal("vm.lua:1: field 'prepare[1].argv': empty list (the command needs a program)",
      e("{ prepare = { { argv = {} } } }"))
    assert.are.equal("vm.lua:1: field 'prepare[1].argv': the program is an empty string",
      e("{ prepare = { { argv = { '', 'x' } } } }"))
    assert.are.equal("vm.lua:1: field 'prepare[1].argv' is required",
      e("{ prepare = { { remove = '/x' } } }"))
    assert.are.equal("vm.lua:1: unknown field 'prepare[1].remov' (did you mean 'remove'?)",
      e("{ prepare = { { argv = 'true', remov = '/x' } } }"))
    local m = qemu.merge({ prepare = { { argv = { "a" } } } }, { prepare = { { argv = { "b" }, remove = "/b" } } })
    assert.are.same({ { argv = { "a" } }, { argv = { "b" }, remove = "/b" } }, m.prepare)
  end)
end)

-- ---- what the script itself would start or write ---------------------------------

describe("a dry run refuses what the script would start or write itself", function()
  local TAIL = "; a dry run starts no program and makes, changes or removes no file (a VM's files are " ..
               "made at launch by its prepare steps, which a dry run prints)\n"
  -- Each line of vm.lua below is a script's call; the error names its line.
  local CASES = {
    { 'os.execute("mkdir -p made")', "os.execute would run 'mkdir -p made'" },
    { "os.execute()", "os.execute would start a shell" },
    { 'io.popen("ls")', "io.popen would run 'ls'" },
    { 'os.remove("base.img")', "os.remove would remove 'base.img'" },
    { 'os.rename("base.img", "moved.img")', "os.rename would rename 'base.img' to 'moved.img'" },
    { "os.tmpname()", "os.tmpname would create a file" },
    { "io.tmpfile()", "io.tmpfile would create a file" },
    { 'io.open("made", "w")', "io.open would open 'made' for writing (mode 'w')" },
    { 'io.open("base.img", "r+b")', "io.open would open 'base.img' for writing (mode 'r+b')" },
    { 'io.open("base.img", "a")', "io.open would open 'base.img' for writing (mode 'a')" },
    { 'io.output("made")', "io.output would open 'made' for writing" },
    { 'qemu.open("made", "w")', "qemu.open would create 'made'" },
    -- (internal: how the library writes its reports and --probe's cache)
    { 'qemu._write_file("base.img", "x")', "qemu._write_file would write 'base.img'" },
    -- (and the ones that make and empty a matrix's run directories)
    { 'qemu._mkdir_p("made/sub")', "qemu._mkdir_p would make 'made/sub'" },
    { 'qemu._rm_rf("base.img")', "qemu._rm_rf would remove 'base.img'" },
  }

  -- (--probe may start the QEMU it asks and write the cache of its answers;
  -- the script itself it runs as --check does)
  for _, flag in ipairs({ "-n", "--json", "--check", "--probe" }) do
    it(flag .. ": each with its own message at the script's line (exit 2), and nothing made or run", function()
      for _, c in ipairs(CASES) do
        local d = setup("local x = 1\n" .. c[1] .. "\nreturn { name = 'x' }\n")
        local code, out, err = dry(d, flag, "vm.lua")
        assert.are.equal("qlua: vm.lua:2: dry run: " .. c[2] .. TAIL, err)
        assert.are.equal("", out)
        assert.are.equal(2, code)
      end
    end)
  end

  it("what would change nothing is no refusal: mkdir -p of a directory there, rm -rf of nothing", function()
    local d = setup("local x = 1\nassert(qemu._mkdir_p('.'))\nassert(qemu._rm_rf('none'))\nreturn { name = 'x' }\n")
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.is_truthy(out:find("\n  -name guest=x \\\n", 1, true), out)
  end)

  it("a matrix the script runs itself: refused at its line, before any run directory is made", function()
    local MATRIX = [[
local m = require("qemu.matrix") { name = "dm", axes = { a = { 1 } },
  vm = function() return { name = "x" } end, test = function() return true end }
m:run({ list = true })
local status = m:run({ out = "runs", jobs = 1 })
return status
]]
    for _, flag in ipairs({ "-n", "--json", "--check" }) do
      local d = setup(MATRIX)
      local code, out, err = dry(d, flag, "vm.lua")
      assert.are.equal("qlua: vm.lua:4: dry run: matrix 'dm' would run its cells; a dry run starts no program and "
        .. "makes, changes or removes no file (its cells: run{ list = true }, or --list)\n", err)
      assert.are.equal('{"cell":{"a":1},"index":1,"matrix":"dm","name":"a=1"}\n', out)
      assert.are.equal(2, code)
    end
  end)

  it("-e CHUNK's too", function()
    local d = setup("return { name = 'x' }\n")
    local code, _, err = dry(d, "-n", "-e", 'os.execute("true")', "vm.lua")
    assert.are.equal("qlua: (command line):1: dry run: os.execute would run 'true'" .. TAIL, err)
    assert.are.equal(2, code)
  end)

  it("qemu.open's \"w\" where the directory is missing: the run's own error, since nothing would be made", function()
    local d = setup("local x = 1\nqemu.open('none/made', 'w')\nreturn { name = 'x' }\n")
    for _, flag in ipairs({ "-n", "--json", "--check" }) do
      local code, out, err = dry(d, flag, "vm.lua")
      assert.are.equal("qlua: vm.lua:2: cannot open 'none/made': No such file or directory\n", err)
      assert.are.equal("", out)
      assert.are.equal(2, code)
    end
    local code, _, err = qlua_in(d, "vm.lua")  -- a run says the same
    assert.are.equal("qlua: vm.lua:2: cannot open 'none/made': No such file or directory\n", err)
    assert.are.equal(2, code)
  end)

  it("qemu.tap makes no tap: each queue is /dev/null under the tap's name, so the command line is the run's", function()
    local d = setup([[
local queues = qemu.tap("qd0", { queues = 2, vnet_hdr = true })
local made = "not made"
for line in io.lines("/proc/net/dev") do   -- this namespace's interfaces
  if line:match("^%s*qd0:") then made = "made" end
end
io.stderr:write("tap ", made, "\n")
return { name = "x", devices = { qemu.netdev { type = "tap", id = "net0", fds = queues } } }
]])
    H.in_netns(function(ns)
      local ip = "ip netns exec " .. ns
      local code, out, err = dry_wrapped(d, ip, "-n", "vm.lua")
      assert.are.equal("tap not made\n", err)
      assert.are.equal(0, code)
      assert.truthy(out:find("^# fd 3: tap qd0 queue 1\n# fd 4: tap qd0 queue 2\n"), out)
      assert.truthy(out:find("-netdev tap,id=net0,fds=3:4 \\\n", 1, true), out)
      code, out, err = dry_wrapped(d, ip, "--json", "vm.lua")
      assert.are.equal("tap not made\n", err)
      assert.are.equal(0, code)
      assert.truthy(out:find('"what": "tap qd0 queue 2"', 1, true), out)
      -- a run makes it (-e: the script's tables, and no VM started)
      code, _, err = qlua_wrapped(d, ip, "-e", 'dofile("vm.lua")')
      assert.are.equal("tap made\n", err)
      assert.are.equal(0, code)
    end)
  end)

  it("reading goes on as in a run: io.open and io.lines for reading, qemu.open of a file there", function()
    local d = setup([[
local f = assert(io.open("base.img", "rb"))
assert(#f:read(16) == 16)
f:close()
for _ in io.lines("vm.lua") do end
assert(io.output() == io.stdout)
local fd = qemu.open("base.img", "w")   -- there already: "w" creates nothing
local ok, e = pcall(io.open, "base.img", "rw")
assert(not ok and e:find("invalid mode", 1, true), e)
local dry, checking = qemu._dry_run()
print(dry, checking)
return { name = "x", devices = { qemu.block { id = "hd0", file = fd, format = "raw" } } }
]])
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.truthy(out:find("^true\tfalse\n"), out)
    code, out = dry(d, "--check", "-e", "print(qemu._dry_run())")
    assert.are.equal(0, code)
    assert.are.equal("true\ttrue\tfalse\n", out)
    code, out = dry(d, "--probe", "-e", "print(qemu._dry_run())")
    assert.are.equal(0, code)
    assert.are.equal("true\ttrue\ttrue\n", out)
    -- not a dry run: the same functions, and qemu._dry_run says so
    code, out = qlua_in(d, "-e", "print(qemu._dry_run()) os.execute('true')")
    assert.are.equal(0, code)
    assert.are.equal("false\tfalse\tfalse\n", out)
  end)

  it("recipes that find paths ask no program (the working directory, qlua's own path)", function()
    local d = setup([[
local recipes = require "qemu.recipes"
recipes.guest_dir()   -- looks in the tree beside qlua's own binary too
return qemu.merge(recipes.disk { file = "base.img", format = "raw", overlay = true }, { name = "x" })
]])
    local code, out, err = dry(d, "-n", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.truthy(out:find(" -b " .. d .. "/base.img ", 1, true), out)  -- made absolute
  end)
end)
