-- spec/guest_spec.lua - end to end: the real test guest (build/guest, see
-- scripts/guest/README.md) boots under TCG through the qemu module, with a
-- captured console and the private QMP channel.  Every test asserts on the
-- guest's marker lines (never on timings), boots under timeouts and stops
-- its VM in finally.  Boots run one after the other (2 cores).
local H = require "helper"
local G = require "support.guest"
local qemu = require "qemu"

local q = H.q

local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

describe("the test guest #guest", function()
  if not have_guest then
    pending("build/guest is missing: run `make guest` (make check builds it first)")
    return
  end

  describe("console", function()
    it("boots to QLUA-GUEST-READY; read, log and exit 0 after QLUA-GUEST-DONE", function()
      local S = G.scope(finally)
      local d = S:tmpdir()
      local vm = S:launch(G.desc(""))
      assert.is_number(vm.pid)
      assert.are.equal("QLUA-GUEST-READY", G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT))

      -- read: what came since the last read (here: everything so far)
      local text = vm.console:read()
      assert.is_string(text)
      assert.truthy(text:find("QLUA-GUEST-READY", 1, true))

      -- log: everything so far and from now on
      local log = d .. "/console.log"
      vm.console:log(log)

      G.expect(vm, "QLUA%-GUEST%-DONE\r?\n", G.STEP)
      local st = G.wait(vm)
      assert.are.same({ code = 0 }, st)
      assert.is_false(vm:alive())

      -- DONE may have come before the first read already (no checks run in
      -- between): the two reads together hold it, each text once
      local rest = vm.console:read()
      assert.truthy((text .. rest):find("QLUA-GUEST-DONE", 1, true))
      assert.is_nil(rest:find("QLUA-GUEST-READY", 1, true))  -- already read

      local logged = assert(H.slurp(log))
      local ready = logged:find("QLUA-GUEST-READY", 1, true)
      local done = logged:find("QLUA-GUEST-DONE", 1, true)
      assert.truthy(ready)
      assert.truthy(done)
      assert.is_true(ready < done)
    end)

    it("boots a description without display settings with a captured console", function()
      -- The same description with no `-display none` of its own: the
      -- foreground path (`qlua vm.lua`) adds it, qemu.launch must make a
      -- captured console work just as well on a machine without $DISPLAY.
      local S = G.scope(finally)
      local desc = G.desc("")
      desc.extra_args = nil
      local vm = S:own(qemu.launch(desc, { console = "capture", qmp = true }))
      G.expect(vm, "QLUA%-GUEST%-DONE", G.BOOT)
      assert.are.same({ code = 0 }, G.wait(vm))
    end)

    it("send: echo mode echoes lines, QLUA-ECHO-QUIT powers off", function()
      local S = G.scope(finally)
      local vm = S:launch(G.desc("qlua.echo"))
      G.expect(vm, "QLUA%-ECHO%-READY\r?\n", G.BOOT)
      assert.is_true(vm.console:send("hello\n"))
      G.expect(vm, "ECHO: hello\r?\n", G.STEP)
      assert.is_true(vm.console:send("two words, 100%\r"))
      G.expect(vm, "ECHO: two words, 100%%\r?\n", G.STEP)
      assert.is_true(vm.console:send("QLUA-ECHO-QUIT\n"))
      G.expect(vm, "QLUA%-ECHO%-END", G.STEP)
      assert.are.same({ code = 0 }, G.wait(vm))
      -- the console is closed now: sending fails instead of blocking
      local ok, err = vm.console:send("late\n")
      assert.is_nil(ok)
      assert.are.equal("console closed", err)
    end)

    it("plain text, whole lines, and a timeout that shows the console (echo mode)", function()
      local S = G.scope(finally)
      local vm = S:launch(G.desc("qlua.echo"))
      local c = vm.console
      -- the marker as it is: '-' is no pattern operator here
      assert.are.equal("QLUA-GUEST-READY", c:expect("QLUA-GUEST-READY", { plain = true, timeout = G.BOOT }))
      assert.are.equal("QLUA-ECHO-READY", c:expect_line("QLUA-ECHO-READY", { plain = true, timeout = G.BOOT }))
      assert.is_true(c:send("line 1\nline 2\n100% (a-b)\nline 4\nline 5\nline 6\n"))
      -- a whole line, without its "\r\n"; captures after it
      assert.are.equal("ECHO: 100% (a-b)", c:expect_line("ECHO: 100% (a-b)", { plain = true, timeout = G.STEP }))
      local line, n = c:expect_line("^ECHO: line (%d)$", G.STEP)
      assert.are.equal("ECHO: line 4", line)
      assert.are.equal("4", n)
      assert.are.equal("ECHO: line 6", c:expect_line("ECHO: line 6", { plain = true, timeout = G.STEP }))
      -- nothing more comes: the timeout names the text and shows the last lines
      local m, err = c:expect("QLUA-NEVER-COMES", { plain = true, timeout = 1 })
      assert.is_nil(m)
      assert.are.equal("timeout after 1 s waiting for 'QLUA-NEVER-COMES' (plain text); the console's last lines:\n"
        .. "  ECHO: line 2\n  ECHO: 100% (a-b)\n  ECHO: line 4\n  ECHO: line 5\n  ECHO: line 6", err)
      assert.is_true(c:send("QLUA-ECHO-QUIT\n"))
      G.expect(vm, "QLUA%-ECHO%-END", G.STEP)
      assert.are.same({ code = 0 }, G.wait(vm))
    end)

    it("a guest panic with pvpanic exits 1; expect ends at once with 'closed'", function()
      local S = G.scope(finally)
      local vm = S:launch(G.desc("qlua.panic", {
        devices = { qemu.device { driver = "pvpanic-pci", id = "pp0" } },
        extra_args = { "-action", "panic=exit-failure" },
      }))
      G.expect(vm, "QLUA%-PANIC%-NOW", G.BOOT)
      -- QEMU exits while this waits: the wait ends then, not at its timeout
      local t0 = G.now()
      local m, err = vm.console:expect("QLUA%-NEVER%-COMES", 60)
      local waited = G.now() - t0
      assert.is_nil(m)
      assert.matches("^closed %(", err)
      assert.is_true(waited < 30, ("expect returned after %.1f s"):format(waited))
      assert.are.same({ code = 1 }, G.wait(vm))
      -- and once QEMU is gone, again at once
      m, err = vm.console:expect("QLUA%-NEVER%-COMES", 60)
      assert.is_nil(m)
      assert.matches("^closed %(.*code 1", err)
    end)
  end)

  describe("9p", function()
    it("a qemu.fsdev share: the guest writes guest-was-here, the host reads it", function()
      local S = G.scope(finally)
      local d = S:tmpdir()
      local share = d .. "/share"
      assert(os.execute("mkdir " .. q(share)))
      local vm = S:launch(G.desc("qlua.9p=share0", { devices = {
        qemu.fsdev { id = "fs0", path = share, mount_tag = "share0", security_model = "none" },
      } }))
      G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT)
      assert.are.equal("", G.detail(vm, "QLUA-9P-OK"))
      G.expect(vm, "QLUA%-GUEST%-DONE")
      assert.are.same({ code = 0 }, G.wait(vm))
      assert.are.equal(G.version .. "\n", H.slurp(share .. "/guest-was-here"))
    end)
  end)

  describe("virtio-blk", function()
    -- Boots in wait mode so QMP can look at the drive after the check.
    local function boot_disk(S, block, want_line)
      local vm = S:launch(G.desc("qlua.blk=/dev/vda qlua.wait", { devices = { block } }))
      G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT)
      assert.are.equal(want_line, G.detail(vm, "QLUA-BLK-OK"))
      G.expect(vm, "QLUA%-GUEST%-WAITING")
      local blocks = assert(vm.qmp:execute("query-block"))
      local info
      for _, b in ipairs(blocks) do
        if b.device == "disk0" then info = b end
      end
      assert.is_table(info, "query-block has no disk0")
      local st, step = vm:shutdown { timeout = 30 }
      assert.are.same({ code = 0 }, st)
      assert.are.equal("powerdown", step)
      return info.inserted
    end

    it("from a path", function()
      local S = G.scope(finally)
      local img = G.disk(S:tmpdir() .. "/disk.img", "qlua blk from a path")
      local ins = boot_disk(S, qemu.block { id = "disk0", file = img, format = "raw", read_only = true },
        "qlua blk from a path")
      assert.is_true(ins.ro)
      assert.are.equal(img, ins.file)
    end)

    it("from a read-only qemu.open descriptor", function()
      local S = G.scope(finally)
      local img = G.disk(S:tmpdir() .. "/disk.img", "qlua blk from an fd (r)")
      local fd = qemu.open(img, "r")
      local ins = boot_disk(S, qemu.block { id = "disk0", file = fd, format = "raw", read_only = true },
        "qlua blk from an fd (r)")
      assert.is_true(ins.ro)
      assert.matches("^/dev/fdset/", ins.file)
    end)

    it("from a read-write qemu.open descriptor", function()
      local S = G.scope(finally)
      local img = G.disk(S:tmpdir() .. "/disk.img", "qlua blk from an fd (rw)")
      local fd = qemu.open(img, "rw")
      local ins = boot_disk(S, qemu.block { id = "disk0", file = fd, format = "raw" },
        "qlua blk from an fd (rw)")
      assert.is_false(ins.ro)
      assert.matches("^/dev/fdset/", ins.file)
    end)

    -- the drive id is the disk's serial (govmm's
    -- default), which the guest reads in /sys/block/vda/serial
    it("the guest sees the drive id as the disk's serial", function()
      local S = G.scope(finally)
      local img = G.disk(S:tmpdir() .. "/disk.img", "qlua blk serial")
      local vm = S:launch(G.desc("qlua.blk=/dev/vda qlua.shell", { devices = {
        qemu.block { id = "disk0", file = img, format = "raw", read_only = true } } }))
      assert.are.equal("qlua blk serial", G.detail(vm, "QLUA-BLK-OK", G.BOOT))
      G.expect(vm, "qlua%-guest# ")
      assert.is_true(vm.console:send("echo SERIAL=$(cat /sys/block/vda/serial)=END\n"))
      G.expect(vm, "SERIAL=disk0=END")
      assert.is_true(vm.console:send("exit\n"))
      assert.are.same({ code = 0 }, G.wait(vm))
    end)
  end)

  describe("network", function()
    -- Runs in the namespace: opens the queues (the kernel creates qt0 then),
    -- configures the host side, boots the guest which pings it.
    local script = [=[
local kernel, initrd, queues = arg[1], arg[2], tonumber(arg[3])
local opts = { queues = queues }
if queues > 1 then opts.vnet_hdr = true end
local taps = qemu.tap("qt0", opts)
assert(#taps == queues, "queues")
assert(os.execute("ip addr add 10.0.2.2/24 dev qt0 && ip link set qt0 up"), "ip")
local vm = qemu.launch({
  name = "net",
  machine = { type = "q35", accel = "tcg" },
  memory = { size = "256M" },
  smp = { cpus = queues },
  kernel = { path = kernel, initrd = initrd,
             params = "console=ttyS0 quiet panic=-1 no_timer_check qlua.net=10.0.2.15/24,10.0.2.2" },
  knobs = { no_defaults = true, no_reboot = true },
  devices = { qemu.netdev { type = "tap", id = "net0", fds = taps,
                            mac_address = "52:54:00:12:34:56" } },
  extra_args = { "-display", "none" },
}, { console = "capture", qmp = true })
local ok = vm.console:expect("QLUA%-NET%-OK", 90)
local done = ok and vm.console:expect("QLUA%-GUEST%-DONE", 60)
local st = vm:wait(30)
if not st then vm:kill(9) vm:wait(10) end
io.write("argv: ", table.concat(vm.argv, " "), "\n")
io.write("console:\n", vm.console:read() or "", "\nstderr:\n", vm:stderr() or "", "\n")
local good = ok and done and st and st.code == 0
io.write(good and "RESULT OK\n" or "RESULT FAIL\n")
io.stdout:flush()
os.exit(good and 0 or 1)
]=]

    local function run(S, queues)
      local d = S:tmpdir()
      local path = H.write(d .. "/net.lua", script)
      local ns = S:netns()
      local _, how, code = os.execute("timeout 150 ip netns exec " .. ns .. " " .. H.qlua_cmd .. " " ..
        q(path) .. " " .. q(G.kernel) .. " " .. q(G.initrd) .. " " .. queues ..
        " >" .. q(d .. "/out") .. " 2>" .. q(d .. "/err"))
      if how == "signal" then code = 128 + code end
      local out, err = H.slurp(d .. "/out") or "", H.slurp(d .. "/err") or ""
      local msg = "qlua exited " .. code .. "\n" .. out .. err
      assert.truthy(out:find("RESULT OK", 1, true), msg)
      assert.are.equal(0, code, msg)
      assert.truthy(out:find("QLUA-NET-OK", 1, true), msg)
      if queues > 1 then
        assert.truthy(out:find("mq=on", 1, true), msg)
      end
    end

    it("a qemu.tap queue in a namespace: the guest pings the host side", function()
      run(G.scope(finally), 1)
    end)

    it("a 2-queue tap with vnet_hdr (multiqueue virtio-net)", function()
      run(G.scope(finally), 2)
    end)
  end)

  describe("virtconsole", function()
    -- A client that connects to the chardev's socket (retrying until QEMU
    -- made it) and keeps what it reads up to the first newline.
    local client = [[
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
for _ in range(1200):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        break
    except OSError:
        s.close()
        time.sleep(0.05)
else:
    sys.exit(3)
s.settimeout(60)
buf = b""
while b"\n" not in buf:
    d = s.recv(4096)
    if not d:
        break
    buf += d
open(out, "wb").write(buf)
]]

    it("a virtconsole on a socket chardev: the host reads QLUA-HVC-HELLO", function()
      local S = G.scope(finally)
      local d = S:tmpdir()
      local sock, got = d .. "/hvc.sock", d .. "/hvc.out"
      local py = H.write(d .. "/client.py", client)
      -- the client first: it must be connected before the guest writes
      local cl = S:own(qemu.launch_custom("/usr/bin/python3", { py, sock, got }, {}))
      local vm = S:launch(G.desc("qlua.hvc", { devices = {
        qemu.serial { id = "ser0" },
        qemu.chardev { backend = "socket", id = "hvc0", path = sock,
                       driver = "virtconsole", bus = "ser0.0", device_id = "con0" },
      } }))
      G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT)
      assert.are.equal("", G.detail(vm, "QLUA-HVC-OK"))
      G.expect(vm, "QLUA%-GUEST%-DONE")
      assert.are.same({ code = 0 }, G.wait(vm))
      local st = cl:wait(30)
      assert.are.same({ code = 0 }, st, cl:stderr())
      local line = assert(H.slurp(got))
      assert.matches("^QLUA%-HVC%-HELLO\r?\n", line)
    end)
  end)

  describe("nvdimm", function()
    it("a memory-backend-file with an nvdimm: the guest reads /dev/pmem0", function()
      local S = G.scope(finally)
      local d = S:tmpdir()
      local backing = G.disk(d .. "/pmem.img", "qlua pmem backing file")
      assert(os.execute("truncate -s 16M " .. q(backing)))
      local vm = S:launch(G.desc("qlua.pmem", {
        machine_options = { nvdimm = true },
        memory = { size = "256M", slots = 2, maxmem = "1G" },
        devices = {
          qemu.object { type = "memory-backend-file", id = "pmem0", mem_path = backing, size = "16M",
                        share = true, driver = "nvdimm", device_id = "nv0" },
        },
      }))
      G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT)
      assert.are.equal("qlua pmem backing file", G.detail(vm, "QLUA-PMEM-OK"))
      G.expect(vm, "QLUA%-GUEST%-DONE")
      assert.are.same({ code = 0 }, G.wait(vm))
    end)
  end)

  describe("QMP", function()
    it("query-status is running; shutdown ends with the ACPI power button", function()
      local S = G.scope(finally)
      local vm = S:launch(G.desc("qlua.wait"))
      G.expect(vm, "QLUA%-GUEST%-WAITING", G.BOOT)
      local status = assert(vm.qmp:execute("query-status"))
      assert.are.equal("running", status.status)
      assert.is_true(status.running)
      local st, step = vm:shutdown { timeout = 30 }
      assert.are.same({ code = 0 }, st)
      assert.are.equal("powerdown", step)
      G.expect(vm, "QLUA%-POWER%-BUTTON")
      -- shutting down again: it had already exited
      st, step = vm:shutdown { timeout = 5 }
      assert.are.same({ code = 0 }, st)
      assert.are.equal("exited", step)
    end)

    local have_wrappers = pcall(require, "qemu.qmp")
    local it_wrappers = have_wrappers and it or pending
    it_wrappers("require 'qemu.qmp': status() and powerdown()", function()
      local S = G.scope(finally)
      local vm = S:launch(G.desc("qlua.wait"))
      G.expect(vm, "QLUA%-GUEST%-WAITING", G.BOOT)
      local status = assert(vm.qmp:status())
      assert.are.equal("running", status.status)
      local ev, err = vm.qmp:powerdown { timeout = 30 }
      assert.is_table(ev, tostring(err))
      if not ev.exited then
        assert.are.equal("SHUTDOWN", ev.event)
        assert.are.equal("guest-shutdown", ev.data.reason)
      end
      G.expect(vm, "QLUA%-POWER%-BUTTON")
      assert.are.same({ code = 0 }, G.wait(vm))
    end)

    it("hotplugs a virtio-blk disk into a pcie-root-port and unplugs it", function()
      local S = G.scope(finally)
      local img = G.disk(S:tmpdir() .. "/hot.img", "qlua hotplugged disk")
      -- qlua.blk waits up to 3 s for /dev/vda after READY: the disk comes
      -- then (q35 hotplugs through ACPI; it takes ~0.2 s here).
      local vm = S:launch(G.desc("qlua.blk=/dev/vda qlua.wait", { devices = {
        qemu.device { driver = "pcie-root-port", id = "rp1", chassis = 1, port = 1, bus = "pcie.0" },
      } }))
      G.expect(vm, "QLUA%-GUEST%-READY", G.BOOT)
      local qmp = vm.qmp
      assert(qmp:execute("blockdev-add", {
        driver = "raw", ["node-name"] = "hp0", ["read-only"] = true,
        file = { driver = "file", filename = img, ["read-only"] = true },
      }))
      assert(qmp:execute("device_add", { driver = "virtio-blk-pci", id = "hpdisk", drive = "hp0", bus = "rp1" }))
      assert.are.equal("qlua hotplugged disk", G.detail(vm, "QLUA-BLK-OK"))
      G.expect(vm, "QLUA%-GUEST%-WAITING")
      local dev = G.find_pci(assert(qmp:execute("query-pci")), "hpdisk")
      assert.is_table(dev, "query-pci does not show hpdisk")
      assert.are.equal(0x1af4, dev.id.vendor)

      assert(qmp:execute("device_del", { id = "hpdisk" }))
      -- the guest ejects it (ACPI hotplug on q35), then QEMU removes it
      local ev, err = qmp:wait_event("DEVICE_DELETED", { timeout = 30, data = { device = "hpdisk" } })
      assert.is_table(ev, G.context(vm, "DEVICE_DELETED", err))
      assert.is_nil(G.find_pci(assert(qmp:execute("query-pci")), "hpdisk"))
      assert(qmp:execute("blockdev-del", { ["node-name"] = "hp0" }))

      local st, step = vm:shutdown { timeout = 30 }
      assert.are.same({ code = 0 }, st)
      assert.are.equal("powerdown", step)
    end)
  end)
end)
