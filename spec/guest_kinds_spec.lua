-- spec/guest_kinds_spec.lua - what real distribution guests need:
-- user networking with port forwards, install media
-- (qemu.cdrom), the boot order (boot{} and bootindex), SMBIOS structures
-- and the snapshot knob.  Golden command lines, exact errors, the real QEMU
-- accepting each configuration, and forwarded ports that really listen.
local H = require "helper"
local qemu = H.qemu

local QEMU = "qemu-system-x86_64"

-- An install image at a fixed path (goldens hold it), with the characters
-- that must be escaped.  A cdrom's file must exist, so the spec makes it.
local ISO = "/tmp/qlua-spec-cdrom, 0=x.iso"
H.write(ISO, ("qlua cdrom\n"):rep(100))

local function golden(name, vm)
  vm.path = QEMU
  H.golden(name, (qemu.argv(vm)))
end

-- The error qemu.argv(vm) raises, without its "file:line: " prefix.
local function err(vm)
  local ok, e = pcall(qemu.argv, vm)
  assert.is_false(ok)
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

-- The error a constructor raises, without its prefix.
local function cerr(kind, t)
  local ok, e = pcall(qemu[kind], t)
  assert.is_false(ok)
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

local function accepts(vm)
  vm.path = H.qemu_bin
  vm.machine = vm.machine or { type = "q35", accel = "tcg" }
  local argv, fds = qemu.argv(vm)
  H.assert_qemu_accepts(argv, fds)
end

local function user_nic(t)
  t.type, t.id = "user", t.id or "net0"
  return qemu.netdev(t)
end

describe("user networking", function()
  it("renders forwards, net, dns and restrict, with a NIC", function()
    golden("netdev-user", { devices = { user_nic {
      net = "10.0.3.0/24", dns = "10.0.3.3", restrict = true, mac_address = "52:54:00:12:34:56",
      bootindex = 3,
      hostfwd = { { host_port = 2222, guest_port = 22 },
                  { proto = "udp", host_addr = "0.0.0.0", host_port = 0, guest_port = 53 } } } } })
  end)

  it("defaults: no options but the id, forwards on 127.0.0.1 over tcp", function()
    golden("netdev-user-default", { devices = { user_nic { hostfwd = { { host_port = 0, guest_port = 22 } } } } })
  end)

  it("reads back as given, and the forwards' fields stay out of the device's own", function()
    local d = user_nic { hostfwd = { { host_addr = "127.0.0.2", host_port = 0, guest_port = 22 } } }
    assert.are.equal("net0", d.id)
    assert.are.equal(0, d.hostfwd[1].host_port)
    assert.are.equal("127.0.0.2", d.hostfwd[1].host_addr)
    assert.is_nil(d.ifname)
    assert.has_error(function() d.hostfwd = {} end)
  end)

  it("refuses what slirp would refuse, naming the field", function()
    assert.are.equal("netdev: field 'hostfwd[1].host_addr': 'localhost' is not an IPv4 address",
      cerr("netdev", { type = "user", id = "n", hostfwd = { { host_addr = "localhost", host_port = 1, guest_port = 22 } } }))
    assert.are.equal("netdev: field 'hostfwd[1].host_addr': '010.0.0.1' is not an IPv4 address",
      cerr("netdev", { type = "user", id = "n", hostfwd = { { host_addr = "010.0.0.1", host_port = 1, guest_port = 22 } } }))
    assert.are.equal("netdev: field 'hostfwd[2].host_port': 65536 is out of range (expected 0..65535)",
      cerr("netdev", { type = "user", id = "n", hostfwd = { { host_port = 1, guest_port = 22 },
                                                             { host_port = 65536, guest_port = 22 } } }))
    assert.are.equal("netdev: field 'hostfwd[1].guest_port': 0 is out of range (expected 1..65535)",
      cerr("netdev", { type = "user", id = "n", hostfwd = { { host_port = 1, guest_port = 0 } } }))
    assert.are.equal("netdev: field 'hostfwd[1].guest_port' is required",
      cerr("netdev", { type = "user", id = "n", hostfwd = { { host_port = 1 } } }))
    assert.are.equal("netdev: field 'hostfwd[1].proto': invalid option 'sctp' (expected 'tcp' or 'udp')",
      cerr("netdev", { type = "user", id = "n", hostfwd = { { proto = "sctp", host_port = 1, guest_port = 2 } } }))
    assert.are.equal("netdev: field 'net': '10.0.2.1/24' is not an IPv4 network (address/prefix with no host " ..
      "bits, e.g. '10.0.2.0/24')", cerr("netdev", { type = "user", id = "n", net = "10.0.2.1/24" }))
    assert.are.equal("netdev: field 'net': '10.0.2.0/31' is too small (the guest, the gateway and the DNS " ..
      "proxy need a prefix of at most 30)", cerr("netdev", { type = "user", id = "n", net = "10.0.2.0/31" }))
    assert.are.equal("netdev: field 'dns': 10.0.3.3 is not inside the network 10.0.2.0/24",
      cerr("netdev", { type = "user", id = "n", dns = "10.0.3.3" }))
    assert.are.equal("netdev: field 'hostfwd' is not used with type 'tap'",
      cerr("netdev", { type = "tap", id = "n", ifname = "t0", hostfwd = {} }))
  end)

  it("the real QEMU accepts it", function()
    accepts { devices = { user_nic { net = "10.0.3.0/24", dns = "10.0.3.3", restrict = true,
      hostfwd = { { host_port = 0, guest_port = 22 }, { proto = "udp", host_port = 0, guest_port = 53 } } } } }
  end)

  it("vm:forwarded_port: the port QEMU bound for host_port = 0, listening on 127.0.0.1", function()
    local vm <close> = qemu.launch({ path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
      knobs = { stopped = true, no_defaults = true },
      devices = { user_nic { hostfwd = { { host_port = 0, guest_port = 22 },
                                         { proto = "udp", host_port = 0, guest_port = 53 } } } } },
      { stderr = "capture" })
    local port = vm:forwarded_port(22)
    assert.are.equal("integer", math.type(port))
    assert.is_true(port > 0)
    assert.are.equal("integer", math.type(vm:forwarded_port(53, "udp")))
    -- something really listens there (slirp accepts, the guest is paused)
    assert.are.equal(0, (H.sh("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "'")))
    local ok, e = pcall(vm.forwarded_port, vm, 80)
    assert.is_false(ok)
    assert.matches("forwarded_port: no user%-networking forward to guest port 80 %(tcp%) %(forwards: tcp " ..
      port .. "%->22, udp %d+%->53%)$", e)
    ok, e = pcall(vm.forwarded_port, vm, 22, "sctp")
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'forwarded_port' (invalid option 'sctp' (expected 'tcp' or 'udp'))", e, 1, true)
  end)
end)

describe("install media", function()
  it("qemu.cdrom: ide-cd by default, scsi-cd on a SCSI controller, read-only raw", function()
    golden("cdrom", { devices = {
      qemu.scsi_controller { id = "scsi0" },
      qemu.cdrom { id = "cd0", file = ISO, bootindex = 1 },
      qemu.cdrom { id = "cd1", file = ISO, bus = "scsi0.0" },
      qemu.cdrom { id = "cd2", file = ISO, driver = "ide-cd", bus = "ide.2" },
    } })
  end)

  it("refuses media that is not there, and a microvm without a SCSI controller", function()
    assert.are.equal("cdrom: field 'file': cannot use '/nonexistent/d.iso' (No such file or directory)",
      cerr("cdrom", { id = "cd0", file = "/nonexistent/d.iso" }))
    assert.are.equal("cdrom: field 'file': '/tmp' is a directory (an ISO image expected)",
      cerr("cdrom", { id = "cd0", file = "/tmp" }))
    assert.are.equal("devices[1] (cdrom): a microvm has no IDE controller: put the cdrom on a SCSI controller " ..
      "(bus = '<scsi_controller id>.0')",
      err { machine = { type = "microvm" }, devices = { qemu.cdrom { id = "cd0", file = ISO } } })
  end)

  it("the real QEMU accepts each form, on q35 and pc and on a microvm's SCSI controller", function()
    accepts { devices = { qemu.scsi_controller { id = "scsi0" }, qemu.cdrom { id = "cd0", file = ISO, bootindex = 1 },
                          qemu.cdrom { id = "cd1", file = ISO, bus = "scsi0.0" } } }
    accepts { machine = { type = "pc", accel = "tcg" }, devices = { qemu.cdrom { id = "cd0", file = ISO } } }
    accepts { machine = { type = "microvm", accel = "tcg" },
              devices = { qemu.scsi_controller { id = "scsi0" }, qemu.cdrom { id = "cd0", file = ISO, bus = "scsi0.0" } } }
  end)

  it("QEMU sees it as a read-only removable drive", function()
    local vm <close> = qemu.launch({ path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
      knobs = { stopped = true, no_defaults = true }, devices = { qemu.cdrom { id = "cd0", file = ISO } } },
      { stderr = "capture" })
    local found
    for _, b in ipairs(assert(vm.qmp:execute("query-block"))) do
      if b.device == "cd0" then found = b end
    end
    assert.is_truthy(found)
    assert.is_true(found.removable)
    assert.is_true(found.inserted.ro)
    assert.are.equal(ISO, found.inserted.file)
  end)
end)

describe("boot order", function()
  it("boot{} and bootindex on every bootable kind", function()
    golden("boot", {
      boot = { order = "dc", once = "d", menu = true, strict = true },
      devices = {
        qemu.block { id = "hd0", file = "/srv/disk,0=a.img", format = "raw", bootindex = 2 },
        qemu.cdrom { id = "cd0", file = ISO, bootindex = 1 },
        user_nic { bootindex = 3 },
      } })
  end)

  it("refuses what QEMU refuses", function()
    local function boot_err(b) return err { boot = b } end
    assert.are.equal("field 'boot.order': invalid boot device 'x' in 'dcx' (expected 'a', 'b', 'c', 'd', 'n', " ..
      "'o' or 'p')", boot_err { order = "dcx" })
    assert.are.equal("field 'boot.once': boot device 'd' given twice in 'dcd'", boot_err { once = "dcd" })
    assert.are.equal("boot: empty section (give 'order', 'once', 'menu' or 'strict', or leave it out)", boot_err {})
    assert.are.equal("devices[2] (cdrom): field 'bootindex': 1 is devices[1]'s too (each boot index once)",
      err { devices = { qemu.block { id = "hd0", file = "/d", format = "raw", bootindex = 1 },
                        qemu.cdrom { id = "cd0", file = ISO, bootindex = 1 } } })
    assert.are.equal("block: field 'bootindex' is not used with interface 'ide'",
      cerr("block", { id = "hd0", file = "/d", format = "raw", interface = "ide", bootindex = 1 }))
  end)

  it("the real QEMU accepts it", function()
    accepts { boot = { order = "dc", once = "d", menu = true, strict = true },
              devices = { qemu.block { id = "hd0", file = ISO, format = "raw", read_only = true, bootindex = 2 },
                          qemu.cdrom { id = "cd0", file = ISO, bootindex = 1 }, user_nic { bootindex = 3 } } }
  end)
end)

describe("smbios", function()
  it("renders each type's fields with commas doubled", function()
    golden("smbios", { smbios = {
      { type = 0, vendor = "qlua, inc", version = "1.0", date = "12/03/2026", release = "1.2", uefi = true },
      { type = 1, manufacturer = "qlua", product = "vm", version = "2", serial = "ser,0=x",
        uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11", sku = "s", family = "f" },
      { type = 2, manufacturer = "m", product = "p", version = "v", serial = "s", asset = "a", location = "l" },
      { type = 3, manufacturer = "m", version = "v", serial = "s", asset = "a", sku = "k" },
      { type = 4, sock_pfx = "CPU", manufacturer = "m", version = "v", serial = "s", asset = "a", part = "p" },
      { type = 11, value = "io.systemd.credential:a=b" },
      { type = 17, loc_pfx = "DIMM", bank = "b", manufacturer = "m", serial = "s", asset = "a", part = "p",
        speed = 3200 },
    } })
  end)

  it("refuses fields of another type, unknown types and bad releases", function()
    assert.are.equal("field 'smbios[2].vendor' is not used with type 1 (type 1 takes manufacturer, product, " ..
      "version, serial, uuid, sku, family)", err { smbios = { { type = 11, value = "x" }, { type = 1, vendor = "x" } } })
    assert.are.equal("field 'smbios[1].type': 5 is not a type QEMU sets (expected 0, 1, 2, 3, 4, 11 or 17)",
      err { smbios = { { type = 5 } } })
    assert.are.equal("field 'smbios[1].release': '1.2.3' is not 'major.minor' (two numbers 0..255)",
      err { smbios = { { type = 0, release = "1.2.3" } } })
    assert.are.equal("field 'smbios[1].type' is required", err { smbios = { { serial = "x" } } })
  end)

  it("the real QEMU accepts it", function()
    accepts { smbios = {
      { type = 0, vendor = "qlua, inc", version = "1.0", date = "12/03/2026", release = "1.2", uefi = true },
      { type = 1, manufacturer = "qlua", serial = "ser,0=x", uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11" },
      { type = 11, value = "io.systemd.credential:a=b" } } }
  end)
end)

describe("knobs.snapshot", function()
  it("is -snapshot", function()
    golden("knobs-snapshot", { knobs = { snapshot = true } })
    accepts { knobs = { snapshot = true },
              devices = { qemu.block { id = "hd0", file = ISO, format = "raw" } } }
  end)
end)
