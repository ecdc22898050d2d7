-- spec/fd_spec.lua - descriptors passed to QEMU (docs/contract.md §4, §5): the qemu.fd
-- objects, and the map a launched QEMU receives: exactly 0, 1, 2 and 3..N,
-- where 2 + i is the i-th descriptor of qemu.argv's list, in argv order.
-- The stand-in QEMU (spec/support/fake-qemu) records what it received.
local H = require "helper"
local F = require "support.fake"
local lfs = require "lfs"
local qemu = H.qemu

local O_ACCMODE = 3

-- Access mode (0 read, 1 write, 2 read-write) of a flags value.
local function accmode(flags)
  return flags & O_ACCMODE
end

-- Writes files a directory's worth of distinct files to open.
local function files(dir, names)
  for _, n in ipairs(names) do H.write(dir .. "/" .. n, n .. "\n") end
end

-- A description with many descriptors of several kinds, and everything a
-- test needs to check the map: the qemu.fd objects by role, an unused one
-- and a Lua file left open (neither may reach QEMU).
local function rich(d)
  local dir = H.tmpdir()
  files(dir, { "net-a", "net-b", "net-c", "vhost-a", "vhost-b", "disk.img", "unused" })
  local t = { dir = dir }
  t.na = qemu.open(dir .. "/net-a", "r")
  t.nb = qemu.open(dir .. "/net-b", "rw")
  t.nc = qemu.open(dir .. "/net-c", "w")
  t.va = qemu.open(dir .. "/vhost-a", "rw")
  t.vb = qemu.open(dir .. "/vhost-b", "rw")
  t.disk = qemu.open(dir .. "/disk.img", "rw")
  t.s1, t.s2 = qemu.socketpair()
  t.unused = qemu.open(dir .. "/unused", "r")
  t.luafile = assert(io.open(dir .. "/lua-file", "w"))
  t.vm = F.vm(d, {
    qmp = { { fd = t.s1 } },
    devices = {
      qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { t.na, t.nb },
                    vhost = true, vhost_fds = { t.va, t.vb } },
      qemu.block { id = "hd0", file = t.disk, format = "raw" },
      qemu.netdev { type = "tap", id = "n1", ifname = "t1", fds = { t.nc } },
    },
  })
  return t
end

-- The value of key=... in the option that follows flag in argv, for the
-- option whose text contains marker.
local function option_value(argv, flag, marker, key)
  for i = 2, #argv do
    if argv[i - 1] == flag and argv[i]:find(marker, 1, true) then
      return ("," .. argv[i]):match("," .. key .. "=([^,]+)")
    end
  end
end

-- Child numbers of a "a:b:c" list.
local function numbers(s)
  local t = {}
  for n in (s or ""):gmatch("%d+") do t[#t + 1] = tonumber(n) end
  return t
end

-- Checks that the numbers in argv name the right objects: the QMP socket,
-- the netdev fds and vhost fds, the drive's fd set.
local function assert_roles(t, argv, got)
  local function is(obj, n)
    local w = F.ident(obj:fileno())
    assert.is_truthy(got[n], "no fd " .. tostring(n))
    assert.are.equal(w.target, got[n].target)
    assert.are.equal(w.ino, got[n].ino)
  end
  is(t.s1, tonumber(option_value(argv, "-chardev", "qlua-qmp", "fd")))
  local fds = numbers(option_value(argv, "-netdev", "id=n0", "fds"))
  assert.are.equal(2, #fds)
  is(t.na, fds[1]); is(t.nb, fds[2])
  local vfds = numbers(option_value(argv, "-netdev", "id=n0", "vhostfds"))
  assert.are.equal(2, #vfds)
  is(t.va, vfds[1]); is(t.vb, vfds[2])
  is(t.nc, tonumber(option_value(argv, "-netdev", "id=n1", "fd") or option_value(argv, "-netdev", "id=n1", "fds")))
  local set = tonumber(option_value(argv, "-add-fd", "set=", "fd"))
  is(t.disk, set)
  assert.is_truthy(option_value(argv, "-drive", "id=hd0", "file") == "/dev/fdset/" .. set)
end

-- Asserts the access modes the child got are the ones qlua opened with.
local function assert_modes(got, fds)
  for i, f in ipairs(fds) do
    local w = F.ident(f:fileno())
    assert.are.equal(accmode(w.flags), accmode(got[2 + i].flags), "access mode of fd " .. (2 + i))
  end
end

describe("qemu.fd objects", function()
  it("qemu.open opens r, w and rw with those access modes, close-on-exec", function()
    local dir = H.tmpdir()
    files(dir, { "a", "b" })
    local r = qemu.open(dir .. "/a", "r")
    local w = qemu.open(dir .. "/b", "w")
    local rw = qemu.open(dir .. "/a", "rw")
    local dflt = qemu.open(dir .. "/a")
    for f, mode in pairs({ [r] = 0, [w] = 1, [rw] = 2, [dflt] = 0 }) do
      local id = F.ident(f:fileno())
      assert.are.equal(dir .. (f == w and "/b" or "/a"), id.target)
      assert.are.equal(mode, accmode(id.flags))
      assert.are_not.equal(0, id.flags & F.O_CLOEXEC)
    end
    for _, f in ipairs({ r, w, rw, dflt }) do f:close() end
  end)

  it("qemu.open 'w' creates a missing file and never truncates an existing one", function()
    local dir = H.tmpdir()
    H.write(dir .. "/disk", "precious")
    local w = qemu.open(dir .. "/disk", "w")
    local n = qemu.open(dir .. "/new", "w")
    w:close(); n:close()
    assert.are.equal("precious", H.slurp(dir .. "/disk"))
    assert.are.equal("", H.slurp(dir .. "/new"))
  end)

  it("qemu.open reports what went wrong", function()
    local dir = H.tmpdir()
    local ok, err = pcall(qemu.open, dir .. "/missing", "r")
    assert.is_false(ok)
    assert.are.equal("cannot open '" .. dir .. "/missing': No such file or directory", err)
    -- rw never creates (a typo must not make an empty disk)
    ok, err = pcall(qemu.open, dir .. "/missing", "rw")
    assert.is_false(ok)
    assert.are.equal("cannot open '" .. dir .. "/missing': No such file or directory", err)
    assert.is_nil(lfs.attributes(dir .. "/missing"))
    ok, err = pcall(qemu.open, "/etc/hostname", "a")
    assert.is_false(ok)
    assert.are.equal("bad argument #2 to 'qemu.open' (invalid option 'a')", err)
    ok, err = pcall(qemu.open, "/etc/host\0name")
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'qemu.open' (path contains a zero byte)", err)
    ok, err = pcall(qemu.open, dir, "w")
    assert.is_false(ok)
    assert.are.equal("cannot open '" .. dir .. "': Is a directory", err)
  end)

  it("fileno, tostring and close (twice is harmless)", function()
    local f = qemu.open("/etc/hostname", "r")
    local n = f:fileno()
    assert.are.equal("integer", math.type(n))
    assert.are.equal(("qemu.fd(%d, open r /etc/hostname)"):format(n), tostring(f))
    assert.are.equal("/etc/hostname", F.ident(n).target)
    f:close()
    assert.is_nil(f:fileno())
    assert.are.equal("qemu.fd(closed, open r /etc/hostname)", tostring(f))
    assert.is_true(F.ident(n) == nil or F.ident(n).target ~= "/etc/hostname")
    f:close()
    assert.is_nil(f:fileno())
  end)

  it("a <close> variable and the garbage collector close the descriptor", function()
    local dir = H.tmpdir()
    files(dir, { "c", "g" })
    local n
    do
      local f <close> = qemu.open(dir .. "/c")
      n = f:fileno()
      assert.are.equal(dir .. "/c", F.ident(n).target)
    end
    assert.is_true(F.ident(n) == nil or F.ident(n).target ~= dir .. "/c")
    local g = qemu.open(dir .. "/g")
    n = g:fileno()
    g = nil
    collectgarbage(); collectgarbage()
    assert.is_true(F.ident(n) == nil or F.ident(n).target ~= dir .. "/g")
  end)

  it("qemu.socketpair returns two connected stream sockets, close-on-exec", function()
    local a, b = qemu.socketpair()
    local ia, ib = F.ident(a:fileno()), F.ident(b:fileno())
    assert.are.equal(("qemu.fd(%d, socketpair end 1)"):format(a:fileno()), tostring(a))
    assert.are.equal(("qemu.fd(%d, socketpair end 2)"):format(b:fileno()), tostring(b))
    assert.matches("^socket:%[%d+%]$", ia.target)
    assert.matches("^socket:%[%d+%]$", ib.target)
    assert.are_not.equal(ia.target, ib.target)
    assert.are_not.equal(0, ia.flags & F.O_CLOEXEC)
    assert.are_not.equal(0, ib.flags & F.O_CLOEXEC)
    -- SOCK_STREAM (type 0001) in the kernel's table of unix sockets
    local unix = H.slurp("/proc/net/unix")
    for _, id in ipairs({ ia, ib }) do
      local ino = id.target:match("%d+")
      local typ = unix:match("\n%x+: %x+ %x+ %x+ (%x+) %x+ +" .. ino .. "[^\n]*")
      assert.are.equal("0001", typ)
    end
    -- connected: what one child writes to its end the other reads from its own
    local out = H.tmpdir() .. "/read"
    local w = qemu.launch_custom("/bin/sh", { "-c", "printf ping >&3" }, { a })
    local r = qemu.launch_custom("/bin/sh", { "-c", "head -c 4 <&3 >" .. H.q(out) }, { b })
    finally(function() F.stop(w); F.stop(r) end)
    assert.are.same({ code = 0 }, w:wait(5))
    assert.are.same({ code = 0 }, r:wait(5))
    assert.are.equal("ping", H.slurp(out))
    a:close(); b:close()
  end)

  it("qemu.fd(n) refuses numbers that are not open descriptors", function()
    local ok, err = pcall(qemu.fd, -1)
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'qemu.fd' (descriptor -1 is invalid)", err)
    ok, err = pcall(qemu.fd, 987)
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'qemu.fd' (descriptor 987 is not open)", err)
    ok = pcall(qemu.fd, "x")
    assert.is_false(ok)
  end)

  it("qemu.fd(n) of a number a qemu.fd already owns returns that object", function()
    local f = qemu.open("/etc/hostname")
    assert.are.equal(f, qemu.fd(f:fileno()))
    f:close()
  end)

  it("qemu.fd(n) adopts a descriptor this process has: it becomes close-on-exec", function()
    local dir = H.tmpdir()
    local lf = assert(io.open(dir .. "/adopt", "w"))
    local n = assert(F.fd_of(dir .. "/adopt"))
    assert.are.equal(0, F.ident(n).flags & F.O_CLOEXEC)   -- fopen leaves it inheritable
    local f = qemu.fd(n)
    -- f owns n now: it closes it first, then the Lua file's close is a no-op
    finally(function() f:close(); io.close(lf) end)
    assert.are.equal(n, f:fileno())
    assert.are.equal(("qemu.fd(%d, fd %d)"):format(n, n), tostring(f))
    assert.are_not.equal(0, F.ident(n).flags & F.O_CLOEXEC)
    local d = F.dir()
    local vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, { f })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    F.assert_fd_map(d, { { target = dir .. "/adopt" } })
  end)

  it("qemu.tap checks its arguments before opening anything", function()
    local cases = {
      { { "" }, "bad argument #1 to 'qemu.tap' (interface name is empty)" },
      { { "a/b" }, "bad argument #1 to 'qemu.tap' (invalid interface name 'a/b' (no '/', ':', white space, '.' or '..'))" },
      { { "abcdefghijklmnop" }, "bad argument #1 to 'qemu.tap' (interface name 'abcdefghijklmnop' is too long (at most 15 bytes))" },
      { { "t0", { queue = 2 } }, "bad argument #2 to 'qemu.tap' (unknown field 'queue' (did you mean 'queues'?))" },
      { { "t0", { queues = 0 } }, "bad argument #2 to 'qemu.tap' (field 'queues': 0 is out of range (expected 1..256))" },
      { { "t0", { queues = 1.5 } }, "bad argument #2 to 'qemu.tap' (field 'queues': number has no integer representation)" },
      { { "t0", { vnet_hdr = 1 } }, "bad argument #2 to 'qemu.tap' (field 'vnet_hdr': boolean expected, got number)" },
    }
    local before = F.fdcount()
    for _, c in ipairs(cases) do
      local ok, err = pcall(qemu.tap, table.unpack(c[1]))
      assert.is_false(ok)
      assert.are.equal(c[2], err)
    end
    assert.are.equal(before, F.fdcount())
  end)
end)

describe("the descriptor map", function()
  it("qemu.launch: QEMU gets exactly 0, 1, 2 and qemu.argv's fds as 3..N, each the right file", function()
    local d = F.dir()
    local t = rich(d)
    finally(function() t.luafile:close() end)
    local lua_n = assert(F.fd_of(t.dir .. "/lua-file"))
    assert.are.equal(0, F.ident(lua_n).flags & F.O_CLOEXEC)   -- would leak without the map
    local argv, fds = qemu.argv(t.vm)
    assert.are.equal(7, #fds)
    -- no private QMP channel (the map is the description's), stderr our own
    local vm = qemu.launch(t.vm, { qmp = false, stderr = "inherit" })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local got = F.assert_fd_map(d, fds)
    assert.are.same(argv, F.lines(d, "argv"))
    assert.are.same(argv, vm.argv)
    assert_roles(t, argv, got)
    assert_modes(got, fds)
    -- the stand-in's standard descriptors are this process's
    for n = 0, 2 do
      assert.are.equal(F.ident(n).target, got[n].target)
    end
  end)

  it("the numbers follow the argv: the first descriptor in the argv is 3", function()
    local d = F.dir()
    local t = rich(d)
    t.luafile:close()
    local argv, fds = qemu.argv(t.vm)
    -- every number in the argv, in order of first appearance, is 3, 4, 5...
    local seen, order = {}, {}
    for _, a in ipairs(argv) do
      for key, list in a:gmatch("(%a+)=([%d:]+)") do
        if key == "fd" or key == "fds" or key == "vhostfds" then
          for n in list:gmatch("%d+") do
            n = tonumber(n)
            if not seen[n] then seen[n] = true; order[#order + 1] = n end
          end
        end
      end
    end
    assert.are.same({ 3, 4, 5, 6, 7, 8, 9 }, order)
    assert.are.equal(t.s1, fds[1])
  end)

  it("qemu.run: the same map, with standard error captured", function()
    local d = F.dir({ STDERR = "from the stand-in" })
    local t = rich(d)
    finally(function() t.luafile:close() end)
    local argv, fds = qemu.argv(t.vm)
    local ok, text, status = qemu.run(t.vm)
    assert.is_true(ok)
    assert.are.equal("from the stand-in", text)
    assert.are.same({ code = 0 }, status)
    local got = F.assert_fd_map(d, fds)
    assert.are.same(argv, F.lines(d, "argv"))
    assert_roles(t, argv, got)
    assert.matches("^pipe:", got[2].target)
  end)

  it("a descriptor used twice in the argv is passed once, under one number", function()
    local d = F.dir()
    local dir = H.tmpdir()
    files(dir, { "a", "b" })
    local a, b = qemu.open(dir .. "/a"), qemu.open(dir .. "/b")
    local desc = F.vm(d, { devices = {
      qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { a, b }, vhost = true, vhost_fds = { b, a } },
    } })
    local argv, fds = qemu.argv(desc)
    assert.are.equal(2, #fds)
    local vm = qemu.launch(desc, { qmp = false })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    F.assert_fd_map(d, fds)
    assert.are.same(argv, F.lines(d, "argv"))
  end)

  it("launch_custom passes its list as 3, 4, ... in order, repeats included", function()
    local d = F.dir()
    local dir = H.tmpdir()
    files(dir, { "a", "b" })
    local a, b = qemu.open(dir .. "/a"), qemu.open(dir .. "/b", "rw")
    local s1, s2 = qemu.socketpair()
    local keep = assert(io.open(dir .. "/lua-file", "w"))
    finally(function() keep:close() end)
    local vm = qemu.launch_custom(F.bin, { "--fake-dir", d }, { b, s2, a, b })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    local got = F.assert_fd_map(d, { b, s2, a, b })
    assert.are.equal(2, accmode(got[3].flags))
    assert.are.equal(0, accmode(got[5].flags))
    assert.is_not_nil(s1:fileno())
  end)

  it("an empty map: only 0, 1 and 2", function()
    local d = F.dir()
    local keep = assert(io.open(H.tmpdir() .. "/lua-file", "w"))
    finally(function() keep:close() end)
    local unused = qemu.open("/etc/hostname")
    local vm = qemu.launch(F.vm(d), { qmp = false })
    finally(function() F.stop(vm) end)
    assert.are.same({ code = 0 }, vm:wait(5))
    F.assert_fd_map(d, {})
    unused:close()
  end)

  it("a descriptor closed after its device was built is an error at launch, and nothing starts", function()
    local d = F.dir()
    local f = qemu.open("/etc/hostname")
    local desc = F.vm(d, { devices = {
      qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { f } },
    } })
    f:close()
    local children = F.child_set()
    for _, start in ipairs({ qemu.launch, qemu.run, qemu.argv }) do
      local ok, err = pcall(start, desc)
      assert.is_false(ok)
      assert.matches("descriptor 3 %(open r /etc/hostname%) was closed before launch", err)
    end
    assert.is_nil(F.read(d, "argv"))
    F.assert_no_new_child(children)
  end)

  it("a closed descriptor is refused when a device or launch_custom is given one", function()
    local f = qemu.open("/etc/hostname")
    f:close()
    local ok, err = pcall(qemu.netdev, { type = "tap", id = "n0", ifname = "t0", fds = { f } })
    assert.is_false(ok)
    assert.matches("closed", err)
    ok, err = pcall(qemu.argv, { path = F.bin, qmp = { { fd = f } } })
    assert.is_false(ok)
    assert.matches("closed", err)
    ok, err = pcall(qemu.launch_custom, F.bin, {}, { f })
    assert.is_false(ok)
    assert.matches("fds%[1%] is closed", err)
  end)

  it("the foreground VM (./qlua script.lua) gets the same map, and nothing qlua inherited", function()
    local d = F.dir()
    local dir = H.tmpdir()
    files(dir, { "net-a", "net-b", "disk.img", "unused", "x" })
    local script = H.script(([[
local lfs = require "lfs"
local dir, d, bin = %q, %q, %q
-- qlua inherited 7 and 9 from the shell (not close-on-exec): record it
local out = assert(io.open(d .. "/inherited", "w"))
for _, n in ipairs({ 7, 9 }) do
  local info = io.open("/proc/self/fdinfo/" .. n):read("a")
  out:write(n, " ", lfs.symlinkattributes("/proc/self/fd/" .. n, "target"), " ", info:match("flags:%%s*(%%d+)"), "\n")
end
out:close()
local na, nb = qemu.open(dir .. "/net-a"), qemu.open(dir .. "/net-b", "rw")
local disk = qemu.open(dir .. "/disk.img", "rw")
local s1, s2 = qemu.socketpair()
local unused = qemu.open(dir .. "/unused")
local lua_file = io.open(dir .. "/lua-file", "w")       -- left open on purpose
local desc = {
  path = bin,
  qmp = { { fd = s2 } },
  devices = {
    qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { na, nb } },
    qemu.block { id = "hd0", file = disk, format = "raw" },
  },
  extra_args = { "--fake-dir", d },
}
local argv, fds = qemu.argv(desc, { console = "stdio" })
local exp = assert(io.open(d .. "/expect", "w"))
for _, f in ipairs(fds) do
  exp:write(lfs.symlinkattributes("/proc/self/fd/" .. f:fileno(), "target"), "\n")
end
exp:close()
exp = assert(io.open(d .. "/expect-argv", "w"))
exp:write(table.concat(argv, "\n"), "\n")
exp:close()
return desc
]]):format(dir, d, F.bin))
    local code, out, err = H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script)
      .. " 7</etc/hostname 9<>" .. H.q(dir .. "/x"))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("", out)
    -- the test means something only if qlua really had 7 and 9, inheritable
    local inh = F.lines(d, "inherited")
    assert.matches("^7 /etc/hostname %d+$", inh[1])
    assert.matches("^9 " .. dir:gsub("%p", "%%%0") .. "/x %d+$", inh[2])
    for _, l in ipairs(inh) do
      assert.are.equal(0, tonumber(l:match("(%d+)$"), 8) & F.O_CLOEXEC)
    end
    local want = {}
    for _, target in ipairs(F.lines(d, "expect")) do want[#want + 1] = { target = target } end
    assert.are.equal(4, #want)
    F.assert_fd_map(d, want)
    assert.are.same(F.lines(d, "expect-argv"), F.lines(d, "argv"))
  end)

  it("the foreground VM gets a descriptor adopted with qemu.fd(n) as 3, and not as n", function()
    local d = F.dir()
    local dir = H.tmpdir()
    files(dir, { "adopted" })
    local script = H.script(([[
local f = qemu.fd(5)
assert(qemu.fd(5) == f)
local info = io.open("/proc/self/fdinfo/5"):read("a")
local flags = tonumber(info:match("flags:%%s*(%%d+)"), 8)
assert(flags & 0x80000 ~= 0, "qemu.fd(5) did not set close-on-exec")
return {
  path = %q,
  devices = { qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { f } } },
  extra_args = { "--fake-dir", %q },
}
]]):format(F.bin, d))
    local code, _, err = H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script) .. " 5<" .. H.q(dir .. "/adopted"))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    F.assert_fd_map(d, { { target = dir .. "/adopted" } })
    assert.are.same({ F.bin, "-netdev", "tap,id=n0,fd=3", "-device", "virtio-net-pci,netdev=n0",
                      "-display", "none", "-serial", "stdio", "--fake-dir", d }, F.lines(d, "argv"))
  end)

  it("places descriptors whose numbers are the targets of others (3, 4, 5 crosswise)", function()
    local d1, d2 = F.dir(), F.dir()
    local dir = H.tmpdir()
    files(dir, { "a", "b", "c" })
    local script = H.script(([[
local a, b, c = qemu.fd(3), qemu.fd(4), qemu.fd(5)
local vm = qemu.launch_custom(%q, { "--fake-dir", %q }, { c, a, b, a })
assert(vm:wait(10).code == 0)
return {
  path = %q,
  devices = { qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { b, c, a } } },
  extra_args = { "--fake-dir", %q },
}
]]):format(F.bin, d1, F.bin, d2))
    local code, _, err = H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script)
      .. " 3<" .. H.q(dir .. "/a") .. " 4<" .. H.q(dir .. "/b") .. " 5<" .. H.q(dir .. "/c"))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local function t(n) return { target = dir .. "/" .. n } end
    F.assert_fd_map(d1, { t "c", t "a", t "b", t "a" })
    F.assert_fd_map(d2, { t "b", t "c", t "a" })
  end)

  it("qemu.fd(1) does not take standard output away from QEMU", function()
    local d = F.dir()
    local dir = H.tmpdir()
    local script = H.script(([[
local out = qemu.fd(1)
return {
  path = %q,
  devices = { qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { out } } },
  extra_args = { "--fake-dir", %q },
}
]]):format(F.bin, d))
    local code, _, err = H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script)
      .. " >" .. H.q(dir .. "/out"))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local got = F.assert_fd_map(d, { { target = dir .. "/out" } })
    assert.are.equal(dir .. "/out", got[1].target)
  end)

  it("the foreground VM with a descriptor closed before launch: exit 2, nothing started", function()
    local d = F.dir()
    local script = H.script(([[
local f = qemu.open("/etc/hostname")
local desc = {
  path = %q,
  devices = { qemu.netdev { type = "tap", id = "n0", ifname = "t0", fds = { f } } },
  extra_args = { "--fake-dir", %q },
}
f:close()
return desc
]]):format(F.bin, d))
    local code, _, err = H.qlua(script)
    assert.are.equal(2, code)
    assert.matches("^qlua: .*descriptor 3 %(open r /etc/hostname%) was closed before launch\n$", err)
    assert.is_nil(F.read(d, "argv"))
  end)

  describe("with TAP devices in a network namespace", function()
    it("qemu.tap queues and vnet_hdr: one fd per queue, in order, on the right interface", function()
      -- d: the foreground run (and what the script saw), dl: qemu.launch, dr: qemu.run
      local d, dl, dr = F.dir(), F.dir(), F.dir()
      local script = H.script(([[
local d, dl, dr, bin = %q, %q, %q, %q
local q = qemu.tap("qt0", { queues = 2, vnet_hdr = true })
local one = qemu.tap("qt1")
assert(#q == 2 and #one == 1)
local out = assert(io.open(d .. "/tap-info", "w"))
for _, name in ipairs({ "qt0", "qt1" }) do
  local flags = io.open("/sys/class/net/" .. name .. "/tun_flags"):read("l")
  out:write(name, " ", flags, "\n")
end
for _, f in ipairs({ q[1], q[2], one[1] }) do
  out:write(tostring(f), "\n")
end
out:close()
local function desc(dir)
  return {
    path = bin,
    devices = {
      qemu.netdev { type = "tap", id = "n0", ifname = "qt0", fds = q },
      qemu.netdev { type = "tap", id = "n1", ifname = "qt1", fds = one },
    },
    extra_args = { "--fake-dir", dir },
  }
end
local _, fds = qemu.argv(desc(d))
out = assert(io.open(d .. "/expect", "w"))
for _, f in ipairs(fds) do
  local info = io.open("/proc/self/fdinfo/" .. f:fileno()):read("a")
  out:write(info:match("iff:%%s*(%%S+)"), "\n")
end
out:close()
local vm = qemu.launch(desc(dl), { qmp = false })
assert(vm:wait(10).code == 0)
assert(qemu.run(desc(dr), { timeout = 10 }))
return desc(d)
]]):format(d, dl, dr, F.bin))
      H.in_netns(function(ns)
        local code, _, err = H.sh("ip netns exec " .. ns .. " timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script))
        assert.are.equal("", err)
        assert.are.equal(0, code)
      end)
      assert.are.same({ "qt0", "qt0", "qt1" }, F.lines(d, "expect"))
      local want = {}
      for _, iff in ipairs(F.lines(d, "expect")) do want[#want + 1] = { target = "/dev/net/tun", iff = iff } end
      for _, dir in ipairs({ d, dl, dr }) do
        F.assert_fd_map(dir, want)
      end
      local info = F.lines(d, "tap-info")
      local f0 = tonumber(info[1]:match("^qt0 (0x%x+)$"))
      local f1 = tonumber(info[2]:match("^qt1 (0x%x+)$"))
      local IFF_TAP, IFF_NO_PI, IFF_MULTI_QUEUE, IFF_VNET_HDR = 0x2, 0x1000, 0x100, 0x4000
      for _, fl in ipairs({ f0, f1 }) do
        assert.are.equal(IFF_TAP, fl & IFF_TAP)
        assert.are.equal(IFF_NO_PI, fl & IFF_NO_PI)
      end
      assert.are.equal(IFF_MULTI_QUEUE, f0 & IFF_MULTI_QUEUE)
      assert.are.equal(IFF_VNET_HDR, f0 & IFF_VNET_HDR)
      assert.are.equal(0, f1 & IFF_MULTI_QUEUE)
      assert.are.equal(0, f1 & IFF_VNET_HDR)
      assert.matches("^qemu%.fd%(%d+, tap qt0 queue 1%)$", info[3])
      assert.matches("^qemu%.fd%(%d+, tap qt0 queue 2%)$", info[4])
      assert.matches("^qemu%.fd%(%d+, tap qt1 queue 1%)$", info[5])
      local argv = table.concat(F.lines(d, "argv"), " ")
      assert.matches("tap,id=n0,[^ ]*fds=3:4", argv)
      assert.matches("tap,id=n1,[^ ]*fds?=5", argv)
    end)

    it("qemu.tap with a %d name returns the interface the kernel made", function()
      local d = F.dir()
      local script = H.script(([[
local q = qemu.tap("qlua%%d", { queues = 3 })
local out = assert(io.open(%q .. "/taps", "w"))
for _, f in ipairs(q) do out:write(tostring(f), "\n") end
out:close()
]]):format(d))
      H.in_netns(function(ns)
        local code, _, err = H.sh("ip netns exec " .. ns .. " timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script))
        assert.are.equal("", err)
        assert.are.equal(0, code)
      end)
      local taps = F.lines(d, "taps")
      assert.are.equal(3, #taps)
      for i, l in ipairs(taps) do
        assert.matches("^qemu%.fd%(%d+, tap qlua0 queue " .. i .. "%)$", l)
      end
    end)

    it("qemu.tap on an existing single-queue tap asked for queues says why it failed", function()
      local script = H.script([[
local ok, err = pcall(qemu.tap, "qx0", { queues = 2 })
assert(not ok)
io.stderr:write(err, "\n")
]])
      local code, err
      H.in_netns(function(ns)
        assert(os.execute("ip netns exec " .. ns .. " ip tuntap add qx0 mode tap"))
        code, _, err = H.sh("ip netns exec " .. ns .. " timeout -s KILL 60 " .. H.qlua_cmd .. " " .. H.q(script))
      end)
      assert.are.equal(0, code)
      assert.are.equal("cannot open tap 'qx0' queue 1: Invalid argument (it exists but is not a multi-queue tap)\n", err)
    end)
  end)
end)
