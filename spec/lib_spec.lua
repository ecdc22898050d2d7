-- spec/lib_spec.lua - the qemu table itself (docs/contract.md §1, §5): a name it does
-- not have is an error that says what there is; the QMP wrappers work on
-- every handle without require "qemu.qmp"; QMP's answers print as JSON.
-- Through the real ./qlua (a fresh Lua state each time) and the real QEMU
-- (-machine none).
local H = require "helper"
local qemu = H.qemu

-- Runs `qlua -e CHUNK` (bounded by timeout(1)); returns code, stdout, stderr.
local function qlua_e(chunk)
  return H.sh("timeout -s KILL 60 " .. H.qlua_cmd .. " -e " .. H.q(chunk))
end

-- The error CHUNK raises, run as "vm.lua" with only `qemu` in its globals.
local function err(chunk)
  local ok, e = pcall(load(chunk, "=vm.lua", "t", { qemu = qemu }))
  assert.is_false(ok)
  return e
end

describe("the qemu table", function()
  it("answers a name it does not have with an error naming it, at the line that used it", function()
    local kinds = table.concat(qemu.kinds(), ", ")
    local d = H.tmpdir()
    local script = H.write(d .. "/vm.lua", table.concat({
      "return {",
      "  devices = {",
      "    qemu.floppy { id = 'fd0' },",
      "  },",
      "}",
    }, "\n") .. "\n")
    local code, out, err = H.sh(H.qlua_cmd .. " -n " .. H.q(script))
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: " .. script .. ":3: no device kind or function 'floppy' in qemu (device kinds: "
      .. kinds .. ")\n", err)
  end)

  it("suggests the kind or function a typo was meant to be", function()
    assert.are.equal("vm.lua:1: no device kind or function 'blok' in qemu (did you mean 'block'?)",
      err("return qemu.blok { id = 'hd0', file = 'x' }"))
    assert.are.equal("vm.lua:1: no device kind or function 'lanch' in qemu (did you mean 'launch'?)",
      err("return qemu.lanch({})"))
    assert.are.equal("vm.lua:1: no device kind or function 'merg' in qemu (did you mean 'merge'?)",
      err("return qemu.merg({}, {})"))
  end)

  it("rawget probes without raising; what it has is there as before", function()
    assert.is_nil(rawget(qemu, "floppy"))
    assert.are.equal("function", type(rawget(qemu, "block")))
    assert.are.equal("function", type(qemu.block))
    assert.are.equal("table", type(qemu.merge))
    assert.is_nil(qemu[1])      -- only names are answered with an error
    assert.is_nil(qemu[true])
  end)

  -- (internal: the Lua library's run directories, instance ids and
  -- temporary files take their names from it)
  it("_random_hex gives n fresh bytes from the kernel as hex digits; other counts are errors", function()
    local seen = {}
    for _ = 1, 64 do
      local h = qemu._random_hex(6)
      assert.are.equal(12, #h)
      assert.is_truthy(h:match("^[0-9a-f]+$"))
      assert.is_nil(seen[h])
      seen[h] = true
    end
    assert.are.equal(64, #qemu._random_hex(32))
    local range = "vm.lua:1: bad argument #1 to '_random_hex' (expected 1 to 32 bytes)"
    assert.are.equal(range, err("return qemu._random_hex(0)"))
    assert.are.equal(range, err("return qemu._random_hex(33)"))
    assert.are.equal("vm.lua:1: bad argument #1 to '_random_hex' (number expected, got string)",
      err("return qemu._random_hex('x')"))
  end)

  -- (internal: the matrix's reports, results.json, the HTML page and
  -- --check's cache are written with it; a full disk: faults_spec.lua)
  it("_write_file writes the whole file or leaves it as it was, and leaves nothing else", function()
    local d = H.tmpdir()
    local path = d .. "/r.xml"
    assert.is_true(qemu._write_file(path, "first\n"))
    assert.are.equal("first\n", H.slurp(path))
    local big = ("0123456789"):rep(200000) .. "\0end"
    assert.is_true(qemu._write_file(path, big))
    assert.is_true(H.slurp(path) == big, "the 2 MB file was not written as given")
    assert.is_true(qemu._write_file(path, ""))
    assert.are.equal("", H.slurp(path))
    -- a failure says which file and why, and changes nothing
    assert.is_true(qemu._write_file(path, "kept\n"))
    local ok, why = qemu._write_file(d .. "/none/r.xml", "x")
    assert.is_nil(ok)
    assert.are.equal(d .. "/none/r.xml: No such file or directory", why)
    ok, why = qemu._write_file(d, "x")  -- a directory is not replaced
    assert.is_nil(ok)
    assert.are.equal(d .. ": Is a directory", why)
    assert.are.equal("kept\n", H.slurp(path))
    local names = qemu._dir(d)
    assert.are.same({ "r.xml" }, names)
    assert.are.equal("vm.lua:1: bad argument #2 to '_write_file' (string expected, got no value)",
      err("return qemu._write_file('x')"))
  end)

  it("_write_file keeps a file's mode and a link, and writes through what is no regular file", function()
    local lfs = require "lfs"
    local d = H.tmpdir()
    -- the mode stays the file's own
    local path = H.write(d .. "/r.xml", "old\n")
    assert.is_true(os.execute("chmod 600 " .. H.q(path)))
    assert.is_true(qemu._write_file(path, "new\n"))
    assert.are.equal("new\n", H.slurp(path))
    assert.are.equal("rw-------", lfs.attributes(path, "permissions"))
    -- a link stays a link; the file it names gets the bytes
    assert.is_true(lfs.link("r.xml", d .. "/link.xml", true))
    assert.is_true(qemu._write_file(d .. "/link.xml", "through the link\n"))
    assert.are.equal("link", lfs.symlinkattributes(d .. "/link.xml", "mode"))
    assert.are.equal("through the link\n", H.slurp(path))
    -- a link to nothing yet: the file is made where it points
    assert.is_true(lfs.link("made.xml", d .. "/dangling.xml", true))
    assert.is_true(qemu._write_file(d .. "/dangling.xml", "made\n"))
    assert.are.equal("made\n", H.slurp(d .. "/made.xml"))
    assert.are.equal("link", lfs.symlinkattributes(d .. "/dangling.xml", "mode"))
    -- a device is written through, not replaced (here behind a link of
    -- ours, so a mistake would replace the link, not /dev/null)
    assert.is_true(lfs.link("/dev/null", d .. "/null", true))
    assert.is_true(qemu._write_file(d .. "/null", "gone\n"))
    assert.are.equal("link", lfs.symlinkattributes(d .. "/null", "mode"))
    -- a named pipe nobody reads: an error at once, not an open that waits
    assert.is_true(os.execute("mkfifo " .. H.q(d .. "/fifo")))
    local ok, why = qemu._write_file(d .. "/fifo", "x")
    assert.is_nil(ok)
    assert.are.equal(d .. "/fifo: No such device or address", why)
    assert.are.equal("named pipe", lfs.attributes(d .. "/fifo", "mode"))
    -- so `--junit /dev/stdout` prints the report, in its place among
    -- what was printed, and stdout in a file keeps what came before
    local code, out, e = qlua_e('io.write("before\\n") assert(qemu._write_file("/dev/stdout", "on stdout\\n")) '
      .. 'print("after") assert(qemu._write_file("/dev/fd/2", "on stderr\\n"))')
    assert.are.equal(0, code, e)
    assert.are.equal("before\non stdout\nafter\n", out)
    assert.are.equal("on stderr\n", e)
    ok, why = qemu._write_file("/dev/fd/999999", "x")
    assert.is_nil(ok)
    assert.are.equal("/dev/fd/999999: Bad file descriptor", why)
    local left = qemu._dir(d)
    table.sort(left)
    assert.are.same({ "dangling.xml", "fifo", "link.xml", "made.xml", "null", "r.xml" }, left)
  end)
end)

describe("QMP", function()
  -- a QEMU with an empty machine, its status printed, and killed
  local PRELUDE = [[
local vm = qemu.launch({ machine = { type = "none" }, knobs = { no_defaults = true },
                         extra_args = { "-display", "none" } })
]]
  local FINISH = [[

vm:kill(9)
vm:wait(10)
]]

  it("a VM handle answers a name it does not have with an error at that line, saying what there is", function()
    local code, out, err = qlua_e(PRELUDE .. [[
print(select(2, pcall(function() return vm:shutdwn({ timeout = 1 }) end)))
print(select(2, pcall(function() return vm.frobnicate end)))
print(vm.agent, vm.console, vm.pid > 0, type(vm.ssh), type(vm.wait))
]] .. FINISH)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(table.concat({
      "(command line):3: no method or field 'shutdwn' in a VM handle (did you mean 'shutdown'?)",
      "(command line):4: no method or field 'frobnicate' in a VM handle (it has agent, alive, argv, console, "
        .. "description, forwarded_port, kill, pid, qmp, shutdown, ssh, stderr, stdout, wait)",
      -- what a handle may lack (no agent = true, no console = "capture") is nil, as before
      "nil\tnil\ttrue\tfunction\tfunction",
    }, "\n") .. "\n", out)
  end)

  it("the wrappers work without require 'qemu.qmp', and answers print as JSON", function()
    local code, out, err = qlua_e(PRELUDE .. [[
print(vm.qmp:status())
print(vm.qmp:execute("query-status", nil, { timeout = 20 }))
print(package.loaded["qemu.qmp"] ~= nil, vm.qmp.no_such_wrapper)
print(vm.qmp:execute("query-iothreads"), qemu.json_decode('{"b": [], "a": {"x": [1, 2.5, null]}}'))
]] .. FINISH)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(table.concat({
      '{"running": true, "singlestep": false, "status": "running"}',
      '{"running": true, "singlestep": false, "status": "running"}',
      'true\tnil',
      '[]\t{"a": {"x": [1, 2.5, null]}, "b": []}',
    }, "\n") .. "\n", out)
  end)

  it("an empty list from QEMU goes back as [] (qemu.json)", function()
    assert.are.equal('{"a":[],"b":{}}', qemu.json(qemu.json_decode('{"a": [], "b": {}}')))
  end)
end)

-- Device values keep their record in their own memory and read back what
-- was given from it (issue #13: no finalizer, user values only for what
-- the record cannot give back): the same values as before, whatever the
-- source table does afterwards.
describe("device values", function()
  it("read back what was given: strings, enums, booleans, integers, floats, text numbers, lists", function()
    local fd1, fd2 = qemu.open("/dev/null", "rw"), qemu.open("/dev/null", "rw")
    local b = qemu.block { id = "disk0", file = "/var/lib/vm/root.qcow2", format = "qcow2", read_only = true }
    assert.are.equal("disk0", b.id)
    assert.are.equal("/var/lib/vm/root.qcow2", b.file)
    assert.are.equal("qcow2", b.format)
    assert.are.equal(true, b.read_only)
    assert.is_nil(b.aio)
    local br = qemu.bridge { type = "pci", bus = "pcie.0", id = "br0", chassis = 1.0, addr = "1f.2" }
    assert.are.equal("float", math.type(br.chassis))
    assert.are.equal(1.0, br.chassis)
    assert.are.equal("1f.2", br.addr)
    local o = qemu.object { type = "memory-backend-ram", id = "m", size = "512M" }
    assert.are.equal("512M", o.size)
    local v = qemu.vfio { bdf = "00:1f.2", vendor_id = "0x8086", device_id = 4 }
    assert.are.equal("0x8086", v.vendor_id)
    assert.are.equal("integer", math.type(v.device_id))
    local n = qemu.netdev { type = "tap", id = "net0", fds = { fd1, fd2 } }
    local fds = n.fds
    assert.are.equal(2, #fds)
    assert.are.equal(fd1, fds[1])
    assert.are.equal(fd2, fds[2])
    fds[1] = nil  -- a copy: the device's own list is untouched
    assert.are.equal(fd1, n.fds[1])
    local d = qemu.device { driver = "e1000", id = "x", a = 1, b = "s", c = true, f = 1.5 }
    assert.are.same({ "e1000", "x", 1, "s", true, 1.5 }, { d.driver, d.id, d.a, d.b, d.c, d.f })
    local t = {}
    for k, val in pairs(d) do t[k] = val end
    assert.are.same({ driver = "e1000", id = "x", a = 1, b = "s", c = true, f = 1.5 }, t)
    fd1:close()
    fd2:close()
  end)

  it("keep their strings when the table they came from changes and is collected", function()
    local long = "/srv/" .. string.rep("x", 3000) .. ".img"  -- more than a record's first guess
    local src = { id = "disk" .. "0", file = long, format = "raw" }
    local b = qemu.block(src)
    src.file, src.id, src = "/elsewhere", "other", nil
    collectgarbage()
    collectgarbage()
    assert.are.equal(long, b.file)
    assert.are.equal("disk0", b.id)
    local argv = qemu.argv { path = "qemu-system-x86_64", devices = { b } }
    local found = false
    for _, a in ipairs(argv) do
      if a:find(long, 1, true) and a:find("id=disk0", 1, true) then found = true end
    end
    assert.is_true(found)
  end)

  it("come out whole whatever their kind's earlier ones took (longer, shorter, far longer)", function()
    -- a device value is made as big as the largest of its kind so far:
    -- one that needs more is checked again, larger; one far larger is not
    -- remembered; none of it shows
    local paths = { "/run/" .. string.rep("a", 200) .. ".sock", "/s", "/run/" .. string.rep("b", 300) .. ".sock",
                    "/run/" .. string.rep("c", 5000) .. ".sock", "/t" }
    for i, path in ipairs(paths) do
      local c = qemu.chardev { backend = "socket", id = "ch" .. i, path = path }
      assert.are.equal(path, c.path)
      assert.are.same({ "qemu-system-x86_64", "-chardev", "socket,id=ch" .. i .. ",path=" .. path .. ",server=on,wait=off" },
                      qemu.argv { path = "qemu-system-x86_64", devices = { c } })
    end
  end)
end)

-- src/lsys.c: what lua/qemu/ asks of the system, in C so that a dry run,
-- which starts no program, may ask too.
describe("the system facts the Lua library asks for", function()
  it("qemu._cwd: the working directory, as pwd says", function()
    local d = H.tmpdir()
    local code, out = H.sh("cd " .. H.q(d) .. " && " .. H.qlua_cmd .. " -e 'print(qemu._cwd())' && pwd -P")
    assert.are.equal(0, code)
    local cwd, pwd = out:match("^(.-)\n(.-)\n$")
    assert.are.equal(pwd, cwd)
  end)

  it("qemu._exe: the program this process runs (qlua, or the lua that loaded qemu.so)", function()
    local code, out = qlua_e("print(qemu._exe())")
    assert.are.equal(0, code)
    local _, real = H.sh("readlink -f " .. H.q(H.qlua_bin))
    assert.are.equal(real, out)
    assert.truthy(qemu._exe():find("^/"))
  end)

  it("qemu._mkdir_p: a directory and its missing parents; nil and why when it cannot", function()
    local d = H.tmpdir()
    assert.is_true(qemu._mkdir_p(d .. "/a/b//c/"))
    assert.truthy(io.open(d .. "/a/b/c"), "not made")
    assert.is_true(qemu._mkdir_p(d .. "/a/b"))  -- there already
    H.write(d .. "/file", "")
    assert.are.same({ nil, d .. "/file: Not a directory" }, { qemu._mkdir_p(d .. "/file/x") })
    assert.are.same({ nil, d .. "/file: Not a directory" }, { qemu._mkdir_p(d .. "/file") })
    assert.are.same({ nil, ": No such file or directory" }, { qemu._mkdir_p("") })
  end)

  it("qemu._rm_rf: a tree, depth first, links themselves and not what they point to", function()
    local d, keep = H.tmpdir(), H.tmpdir()
    H.write(keep .. "/kept", "x")
    assert.is_true(qemu._mkdir_p(d .. "/t/a/b"))
    H.write(d .. "/t/a/b/f", "x")
    H.write(d .. "/t/g", "x")
    assert(os.execute("ln -s " .. H.q(keep) .. " " .. H.q(d .. "/t/a/link")))
    assert.is_true(qemu._rm_rf(d .. "/t"))
    assert.is_nil(io.open(d .. "/t"))
    assert.are.equal("x", H.slurp(keep .. "/kept"))
    assert.is_true(qemu._rm_rf(d .. "/t"))  -- nothing there: no error, as rm -rf
  end)

  it("qemu._dir: the names in a directory; nil and why for none", function()
    local d = H.tmpdir()
    H.write(d .. "/a", "")
    assert(qemu._mkdir_p(d .. "/b"))
    local names = qemu._dir(d)
    table.sort(names)
    assert.are.same({ "a", "b" }, names)
    assert.are.same({ nil, d .. "/none: No such file or directory" }, { qemu._dir(d .. "/none") })
  end)

  it("qemu._nproc, _isatty and _wall_time: nproc's count, a descriptor's terminal, the clock's fractions", function()
    local code, out = H.sh("env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc")
    assert.are.equal(0, code)
    assert.are.equal(tonumber(out), qemu._nproc())
    code, out = H.sh(H.qlua_cmd .. " -e 'print(qemu._isatty(0), qemu._isatty(1))' </dev/null")
    assert.are.equal("false\tfalse\n", out)
    local t = qemu._wall_time()
    assert.is_true(math.abs(t - os.time()) < 2, tostring(t))
    assert.is_true(t % 1 ~= 0 or qemu._wall_time() % 1 ~= 0, "whole seconds only")  -- (os.time's)
  end)

  it("qemu._random_hex: 2n hex digits, a new draw each time", function()
    local a, b = qemu._random_hex(6), qemu._random_hex(6)
    assert.truthy(a:find("^%x+$") and #a == 12, a)
    assert.are_not.equal(a, b)
    local ok, e = pcall(qemu._random_hex, 33)
    assert.is_false(ok)
    assert.truthy(e:find("expected 1 to 32 bytes", 1, true), e)
  end)
end)
