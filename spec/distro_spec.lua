-- spec/distro_spec.lua - qemu.recipes.debian (lua/qemu/debian.lua) and
-- examples/debian.lua with the real Debian image (`make distro-image`,
-- build/distro/debian-12.qcow2; make check builds it first).
--
-- Without booting: the description it gives on each disk bus, its steps and
-- its errors, where it finds the image.  Booting (#distro): README.md's two
-- commands, `./qlua examples/debian.lua` (SeaBIOS) and `./qlua
-- examples/debian.lua uefi` (OVMF), run as printed and side by side (two
-- qlua processes: a boot is 1.5 to 3 minutes under TCG, and two at once on
-- two cores take about as long as one), their output compared with what the
-- README shows, and read for what each boot proved: the guest agent's exec,
-- ssh over the forward as root and as debian with the key the seed carried
-- (the VM's own key: no other gets in), and the recipe's hostname in the
-- guest.  make check-asan leaves the boots out (tag distro: its sanitizer
-- watches qlua, and a boot is minutes of QEMU, not of qlua), and so does
-- make check-valgrind (tag guest: they boot a guest).
local H = require "helper"
local RM = require "support.readme"
local qemu = require "qemu"
local recipes = require "qemu.recipes"

local q = H.q
local IMAGE = H.root .. "/build/distro/debian-12.qcow2"
-- make check (QLUA_DISTRO_WAIT=1) needs the image: scripts/check.sh starts
-- its build in the background when the whole suite runs, and runs this file
-- last; here the build script runs again, which waits for that build (its
-- lock) and then finds the image up to date, or builds it now.  Without the
-- image then, the boots fail instead of pending.
local must_have = os.getenv("QLUA_DISTRO_WAIT") == "1"
local build_log = H.root .. "/build/distro-image.log"
if must_have then
  os.execute(q(H.root .. "/scripts/build-distro-image.sh") .. " >> " .. q(build_log) .. " 2>&1")
end
local have_image = io.open(IMAGE) and true or false

-- src run as a chunk named vm.lua; returns its error.
local function err(src)
  local f = assert(load(src, "=vm.lua", "t", setmetatable({ recipes = recipes }, { __index = _G })))
  local ok, e = pcall(f)
  assert.is_false(ok)
  return e
end

describe("recipes.debian", function()
  it("checks its options: exact errors at the caller's line", function()
    assert.are.equal("vm.lua:2: recipes.debian: unknown field 'firmwre' (did you mean 'firmware'?)",
      err("local x\nlocal d = recipes.debian { firmwre = 'uefi' }"))
    assert.are.equal("vm.lua:1: recipes.debian: field 'disk_bus': invalid option 'ide' (expected 'virtio-blk', " ..
      "'virtio-scsi' or 'nvme')", err("local d = recipes.debian { disk_bus = 'ide' }"))
    assert.are.equal("vm.lua:1: recipes.debian: field 'firmware': invalid option 'coreboot' (expected 'bios', " ..
      "'uefi' or 'uefi-secure')", err("local d = recipes.debian { firmware = 'coreboot' }"))
    assert.are.equal("vm.lua:1: recipes.debian: field 'cpus': positive integer expected, got number",
      err("local d = recipes.debian { cpus = 0 }"))
    assert.are.equal("vm.lua:1: recipes.debian: field 'ssh_port': port 0..65535 expected, got number",
      err("local d = recipes.debian { ssh_port = 70000 }"))
    assert.are.equal("vm.lua:1: recipes.debian: field 'user_data': string or table expected, got boolean",
      err("local d = recipes.debian { user_data = true }"))
    assert.are.equal("vm.lua:1: recipes.debian: field names must be strings, got number 1 (fields are named: write key = value)",
      err("local d = recipes.debian { 'uefi' }"))
    assert.are.equal("vm.lua:1: recipes.debian: field 'image': '/no/such/debian.qcow2' does not exist",
      err("local d = recipes.debian { image = '/no/such/debian.qcow2' }"))
  end)

  local with_image = have_image and it or pending

  with_image("passes its errors on from the recipes it is made of, at the same line", function()
    assert.are.equal("vm.lua:1: recipes.debian: recipes.cloud_init: field 'hostname': invalid hostname 'a b' " ..
      "(letters, digits, '-' and '.')", err("local d = recipes.debian { hostname = 'a b' }"))
    assert.are.equal("vm.lua:1: recipes.debian: recipes.cloud_init: field 'run_cmd' needs 'user_data' to be a " ..
      "table (a string is written as is)", err("local d = recipes.debian { user_data = '#!/bin/sh', run_cmd = 'ls' }"))
  end)

  with_image("is q35 booting the root disk (bootindex 0) on the bus asked for, the seed, ssh from port 0", function()
    local common = "-drive id=cidata,file=/r/cidata.iso,format=raw,if=none,readonly=on " ..
      "-device virtio-blk-pci,drive=cidata,serial=cidata -netdev user,id=net0,hostfwd=tcp:127.0.0.1:0-:22 " ..
      "-device virtio-net-pci,netdev=net0 -no-user-config -nodefaults -smp 2"
    local root = "-drive id=root,file=/r/root.overlay.qcow2,format=qcow2,if=none "
    local want = {
      ["virtio-blk"] = root .. "-device virtio-blk-pci,drive=root,serial=root,bootindex=0 ",
      ["virtio-scsi"] = "-device virtio-scsi-pci,id=scsi0 " .. root .. "-device scsi-hd,drive=root,bus=scsi0.0,bootindex=0 ",
      ["nvme"] = root .. "-device nvme,drive=root,serial=root,bootindex=0 ",
    }
    for bus, devs in pairs(want) do
      local argv = qemu.argv(recipes.debian { disk_bus = bus, dir = "/r" })
      assert.are.equal("qemu-system-x86_64 -name guest=debian -machine q35 -accel tcg -cpu max -m 1G " .. devs .. common,
        table.concat(argv, " "))
    end
    -- the default bus is virtio-blk; the other options land where they say
    local d = recipes.debian { dir = "/r", cpus = 1, memory = "2G", accel = "kvm", cpu = "host", name = "n",
      ssh_port = 2222, hostname = "h", user = "debian" }
    assert.are.equal("qemu-system-x86_64 -name guest=n -machine q35 -accel kvm -cpu host -m 2G " ..
      want["virtio-blk"] .. common:gsub("0%-:22", "2222-:22"):gsub("smp 2", "smp 1"),
      table.concat(qemu.argv(d), " "))
    assert.are.same({ user = "debian", key = "/r/id_ed25519", guest_port = 22 }, d.ssh)
    -- one run directory: the overlay of the image (never written), the key, the seed
    local steps = {}
    for i, s in ipairs(d.prepare) do steps[i] = s.argv end
    assert.are.same({ "mkdir", "-p", "/r" }, steps[1])
    assert.are.same({ "qemu-img", "create", "-q", "-f", "qcow2", "-b", IMAGE, "-F", "qcow2", "/r/root.overlay.qcow2" },
      steps[2])
    assert.are.same({ "rm", "-f", "/r/id_ed25519", "/r/id_ed25519.pub" }, steps[3])
    assert.are.same({ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "qlua", "-f", "/r/id_ed25519" }, steps[4])
    assert.are.same({ "sh", "-c" }, { steps[5][1], steps[5][2] })
    assert.are.equal('#cloud-config\nhostname: "h"\n', steps[5][7])   -- user debian: root stays as the image has it
    assert.are.equal(5, #steps)
  end)

  with_image("firmware: uefi and uefi-secure are OVMF's; bios adds nothing", function()
    assert.is_nil(recipes.debian({}).firmware)
    assert.is_nil(recipes.debian({ firmware = "bios" }).firmware)
    local argv = table.concat(qemu.argv(recipes.debian { firmware = "uefi", dir = "/r" }), " ")
    assert.truthy(argv:find("-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd ", 1, true),
      argv)
    argv = table.concat(qemu.argv(recipes.debian { firmware = "uefi-secure", dir = "/r" }), " ")
    assert.truthy(argv:find("OVMF_CODE_4M.secboot.fd", 1, true), argv)
    assert.truthy(argv:find("smm=on", 1, true), argv)
  end)

  with_image("composes with qemu.merge like any recipe", function()
    local d = qemu.merge(recipes.debian { dir = "/r" }, recipes.uefi(), { memory = { size = "3G" },
      devices = { qemu.rng { id = "rng0" } } })
    assert.are.equal("uefi", d.firmware)
    local argv = table.concat(qemu.argv(d), " ")
    assert.truthy(argv:find(" -m 3G ", 1, true), argv)
    assert.truthy(argv:find("-device virtio-net-pci,netdev=net0 -object rng-random,id=rng0 -device virtio-rng-pci,rng=rng0 " ..
      "-drive if=pflash,format=raw,unit=0,readonly=on,file=", 1, true), argv)
    assert.truthy(argv:find("-netdev user,id=net0,hostfwd=tcp:127.0.0.1:0-:22", 1, true), argv)
  end)

  it("a missing image: an error naming make distro-image (QLUA_DISTRO_IMAGE, then the trees)", function()
    local script = H.script('local recipes = require "qemu.recipes"\nlocal vm = recipes.debian { firmware = "uefi" }\n' ..
      'return vm\n')
    local code, out, e = H.sh("QLUA_DISTRO_IMAGE=/no/such/image.qcow2 " .. H.qlua_cmd .. " -n " .. q(script))
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: " .. script .. ":2: recipes.debian: no Debian image at '/no/such/image.qcow2' (build " ..
      "it with 'make distro-image' in qlua's source tree, or give option 'image' or set QLUA_DISTRO_IMAGE)\n", e)
  end)

  -- (under valgrind /proc names valgrind as the running binary, not qlua)
  local from_tree = (have_image and (os.getenv("QLUA_WRAP") or "") == "") and it or pending
  from_tree("finds the image in qlua's tree from any directory, or where QLUA_DISTRO_IMAGE says", function()
    local d = H.tmpdir()
    local script = H.script('local recipes = require "qemu.recipes"\nreturn recipes.debian {}\n')
    local code, out, e = H.sh("cd " .. q(d) .. " && TMPDIR=" .. q(d) .. " " .. H.qlua_cmd .. " -n " .. q(script))
    assert.are.equal(0, code, e)
    local tree = H.qlua_bin:match("^(.*)/[^/]+$")
    assert.truthy(out:find("-b " .. tree .. "/build/distro/debian-12.qcow2 -F qcow2 ", 1, true), out)
    -- a dry run makes nothing
    local p = assert(io.popen("ls -A " .. q(d)))
    assert.are.equal("", p:read("a"))
    p:close()
    -- the environment's image (any qcow2: the recipe only checks it exists)
    local other = H.write(d .. "/other.qcow2", "")
    code, out, e = H.sh("QLUA_DISTRO_IMAGE=" .. q(other) .. " " .. H.qlua_cmd .. " -n " .. q(script))
    assert.are.equal(0, code, e)
    assert.truthy(out:find("-b " .. other .. " -F qcow2 ", 1, true), out)
  end)
end)

describe("Debian 12 booted by SeaBIOS and OVMF, as README.md shows #distro #guest", function()
  if not have_image and must_have then
    it("has the image make check built", function()
      local f = io.open(build_log)
      local tail = f and f:read("a"):sub(-2000) or "(no log)"
      if f then f:close() end
      error("build/distro/debian-12.qcow2 was not built; the end of " .. build_log .. ":\n" .. tail)
    end)
    return
  elseif not have_image then
    pending("build/distro/debian-12.qcow2 is missing: run `make distro-image` (make check builds it first)")
    return
  end

  it("README.md's ./qlua examples/debian.lua and ... uefi, both at once: agent, ssh as root and debian, hostname",
    function()
    local steps = RM.commands("^%./qlua examples/debian%.lua")
    assert.are.equal(2, #steps, "README.md should show two runs of examples/debian.lua")
    local runs = {}
    finally(function()
      for _, r in ipairs(runs) do
        if r.p:alive() then
          r.p:kill(15)
          r.p:wait(30)
        end
      end
    end)
    local box = RM.sandbox()
    local t0 = qemu.now()
    for i, step in ipairs(steps) do
      -- as printed, in the top of a tree, each with a run directory of its own
      local tmp = ("%s/tmp/%d"):format(box, i)
      assert(os.execute("mkdir " .. q(tmp)))
      local cmd = ("cd %s && TMPDIR=%s timeout 1500 sh -ec %s 2>&1 </dev/null"):format(q(box), q(tmp), q(step.cmd))
      runs[i] = { step = step, firmware = step.cmd:match("debian%.lua%s+(%S+)") or "bios",
                  p = qemu.launch_custom("sh", { "-c", cmd }, {}, { stdout = "capture" }) }
    end
    for _, r in ipairs(runs) do
      r.status = r.p:wait(1560)
      r.out = r.p:stdout()
      r.took = qemu.now() - t0
    end
    local report = {}
    for _, r in ipairs(runs) do
      report[#report + 1] = ("%s: %.0f s"):format(r.firmware, r.took)
    end
    io.stderr:write("distro_spec: both boots done in " .. table.concat(report, ", ") .. "\n")
    for _, r in ipairs(runs) do
      local where = ("README.md:%d: $ %s"):format(r.step.line, r.step.cmd)
      assert.are.same({ code = 0 }, r.status, where .. "\n" .. tostring(r.out))
      local lines = RM.lines(r.out)
      assert.is_true(RM.matches(r.step.out, lines), ("%s shows:\n%s\n--- but it printed:\n%s")
        :format(where, table.concat(r.step.out, "\n"), r.out))
      -- what each line proves, beyond looking like the README: the agent ran
      -- uname in the guest the recipe named qlua-FIRMWARE (cloud-init's
      -- hostname), ssh reached it as root, and as debian (whose sudo works)
      local host = "qlua-" .. r.firmware
      assert.matches("^agent: uname %-a: Linux " .. host:gsub("%-", "%%-") .. " ", lines[1])
      assert.are.equal("agent: systemctl is-system-running --wait: running", lines[2])
      assert.matches("^ssh root: uname %-a: Linux " .. host:gsub("%-", "%%-") .. " ", lines[3])
      assert.are.equal(lines[1]:sub(#"agent: uname -a: " + 1), lines[3]:sub(#"ssh root: uname -a: " + 1))
      assert.are.equal("ssh root: systemctl is-system-running: running", lines[4])
      assert.are.equal("ssh debian: sudo -n id -un: root", lines[5])
      assert.are.equal("the guest powered off; QEMU exited with code 0", lines[6])
    end
    assert.are.same({ "bios", "uefi" }, { runs[1].firmware, runs[2].firmware })
  end)
end)
