-- spec/firmware_spec.lua - the VM field `firmware` ("bios", "uefi",
-- "uefi-secure") and recipes.uefi: OVMF's code read-only as flash unit 0, a
-- private copy of its variables (made at launch by prepare steps, removed
-- when qlua exits) as unit 1, Secure Boot's SMM and secure flash; the
-- errors; dry runs that make nothing; the real QEMU taking the command
-- lines; and the real test guest booting under OVMF.
local H = require "helper"
local G = require "support.guest"
local qemu = H.qemu
local q = H.q

local OVMF = "/usr/share/OVMF"
local TMP = (os.getenv("TMPDIR") or ""):gsub("/+$", "")
if TMP == "" then TMP = "/tmp" end
local lit = G.lit

-- The variables copy of argv (its -drive unit=1): the path, after checking
-- that it is a fresh name in $TMPDIR.
local function vars_path(argv, tmp)
  local found
  for _, a in ipairs(argv) do
    local p = a:match("^if=pflash,format=raw,unit=1,file=(.*)$")
    if p then
      assert.is_nil(found, "two unit=1 drives")
      found = p
    end
  end
  assert.truthy(found, "no flash unit 1 in " .. table.concat(argv, " "))
  assert.matches("^" .. lit(tmp or TMP) .. "/qlua%-uefi%.%x%x%x%x%x%x%x%x%x%x%x%x/OVMF_VARS%.fd$", found)
  return found
end

-- argv with the random variables directory as $TMPDIR/qlua-uefi.RANDOM, for
-- a golden file.
local function normalised(argv)
  local p = vars_path(argv)
  local out = {}
  for i, a in ipairs(argv) do
    out[i] = a:gsub(lit(p), "$TMPDIR/qlua-uefi.RANDOM/OVMF_VARS.fd")
  end
  return out
end

local function golden(name, vm)
  vm.path = "qemu-system-x86_64"
  local argv = qemu.argv(vm)
  H.golden(name, normalised(argv))
  return argv
end

-- The error a description raises, as qemu.argv at line 1 of vm.lua.
local function e(src)
  local ok, msg = pcall(assert(load("local a = qemu.argv " .. src, "=vm.lua", "t", { qemu = qemu })))
  assert.is_false(ok)
  return msg
end

-- Runs `qlua ARGS...` in d with TMPDIR=d and the given environment words.
local function qlua_in(d, env, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  return H.sh(("cd %s && TMPDIR=%s %s %s %s </dev/null"):format(q(d), q(d), env or "", H.qlua_cmd,
    table.concat(words, " ")))
end

local function listing(d)
  local _, out = H.sh("cd " .. q(d) .. " && find . | sort")
  return out
end

describe("firmware", function()
  describe("command lines", function()
    it("'uefi' on q35: OVMF's code read-only as unit 0, a fresh copy of its variables as unit 1", function()
      local argv = golden("firmware-uefi", { machine = { type = "q35" }, firmware = "uefi", memory = { size = "256M" } })
      assert.are_not.equal(vars_path(argv), vars_path((qemu.argv({ machine = { type = "q35" }, firmware = "uefi" }))))
    end)

    it("'uefi' on pc, and with no machine type (QEMU's default pc)", function()
      golden("firmware-uefi-pc", { machine = { type = "pc" }, firmware = "uefi" })
      golden("firmware-uefi-default-machine", { firmware = "uefi" })
    end)

    it("'uefi-secure': the secboot build, Microsoft's keys, smm=on and the secure flash", function()
      golden("firmware-uefi-secure", { machine = { type = "q35", accel = "tcg" }, firmware = "uefi-secure" })
      -- smm given on: not twice
      golden("firmware-uefi-secure-smm", { machine = { type = "pc-q35-7.2", options = { smm = true } },
        firmware = "uefi-secure" })
    end)

    it("'bios' is QEMU's default: nothing is added", function()
      local vm = { machine = { type = "q35" }, memory = { size = "256M" } }
      local plain = qemu.argv(vm)
      vm.firmware = "bios"
      assert.are.same(plain, qemu.argv(vm))
    end)

    it("the variables are copied by prepare steps, before the description's own", function()
      local d = H.tmpdir()
      H.write(d .. "/vm.lua", "return { name = 'x', firmware = 'uefi', prepare = { { argv = { 'true' } } } }\n")
      local code, out, err = qlua_in(d, nil, "--json", "vm.lua")
      assert.are.equal(0, code, err)
      local got = qemu.json_decode(out)
      local copy = vars_path(got.argv, d)
      local dir = copy:match("^(.*)/OVMF_VARS%.fd$")
      assert.are.equal(d, dir:match("^(.*)/qlua%-uefi%.%x+$"))
      assert.are.same({
        { argv = { "mkdir", "-m", "0700", dir }, remove = dir },
        { argv = { "cp", OVMF .. "/OVMF_VARS_4M.fd", copy } },
        { argv = { "true" } },
      }, got.prepare)
    end)
  end)

  describe("errors", function()
    it("the firmware is given once", function()
      assert.are.equal("vm.lua:1: field 'firmware': the VM has bios too (give the firmware once)",
        e("{ firmware = 'uefi', bios = '/x/bios.bin' }"))
      assert.are.equal("vm.lua:1: field 'firmware': the VM has pflash too (give the firmware once)",
        e("{ firmware = 'bios', pflash = { '/x/code.fd' } }"))
      assert.are.equal("vm.lua:1: devices[1] (object): field 'file': the VM has firmware 'uefi' too " ..
        "(give the firmware once)",
        e("{ firmware = 'uefi', machine = { type = 'q35' }, devices = { qemu.object { type = 'sev-guest', " ..
          "id = 'sev0', cbitpos = 47, reduced_phys_bits = 1, file = '/x/OVMF.fd' } } }"))
      assert.are.equal("vm.lua:1: field 'firmware': invalid option 'efi' (expected 'bios', 'uefi' or 'uefi-secure')",
        e("{ firmware = 'efi' }"))
    end)

    it("machines OVMF cannot run on", function()
      assert.are.equal("vm.lua:1: field 'firmware': 'uefi' needs machine.type 'q35' or 'pc', not 'microvm' " ..
        "(it has no flash for OVMF)", e("{ firmware = 'uefi', machine = { type = 'microvm' } }"))
      assert.are.equal("vm.lua:1: field 'firmware': 'uefi' needs machine.type 'q35' or 'pc', not 'isapc' " ..
        "(it has no flash for OVMF)", e("{ firmware = 'uefi', machine = { type = 'isapc' } }"))
      assert.are.equal("vm.lua:1: field 'firmware': 'uefi-secure' needs machine.type 'q35', not 'pc' " ..
        "(OVMF's Secure Boot needs SMM on q35)", e("{ firmware = 'uefi-secure', machine = { type = 'pc' } }"))
      assert.are.equal("vm.lua:1: field 'firmware': 'uefi-secure' needs machine.type 'q35' (QEMU's default is " ..
        "'pc'; OVMF's Secure Boot needs SMM on q35)", e("{ firmware = 'uefi-secure' }"))
      assert.are.equal("vm.lua:1: field 'machine.options.smm': 'off' with firmware 'uefi-secure' (Secure Boot " ..
        "needs SMM: leave smm out, or set it on)",
        e("{ firmware = 'uefi-secure', machine = { type = 'q35', options = { smm = false } } }"))
      assert.are.equal("vm.lua:1: field 'machine.options.smm': 'auto' with firmware 'uefi-secure' (Secure Boot " ..
        "needs SMM: leave smm out, or set it on)",
        e("{ firmware = 'uefi-secure', machine = { type = 'q35', options = { smm = 'auto' } } }"))
    end)

    it("an ELF kernel, which OVMF cannot boot", function()
      local elf = H.write(H.tmpdir() .. "/vmlinux", "\127ELF\2\1\1")
      assert.are.equal("vm.lua:1: field 'kernel.path': '" .. elf .. "' is an ELF image, which OVMF cannot " ..
        "boot (firmware 'uefi'; give a bzImage, such as Debian's vmlinuz)",
        e("{ firmware = 'uefi', kernel = { path = '" .. elf .. "' } }"))
      -- SeaBIOS boots it: no error there
      assert.is_table(qemu.argv({ firmware = "bios", kernel = { path = elf } }))
    end)

    it("missing OVMF images, for real: QLUA_OVMF_DIR at an empty directory, then one with the code only", function()
      local d = H.tmpdir()
      local ovmf = d .. "/ovmf"
      assert(os.execute("mkdir " .. q(ovmf)))
      H.write(d .. "/vm.lua", "-- the error names the line of the return\n\nreturn {\n  firmware = 'uefi-secure', " ..
        "machine = { type = 'q35' },\n}\n")
      local env = "QLUA_OVMF_DIR=" .. q(ovmf)
      local code, out, err = qlua_in(d, env, "-n", "vm.lua")
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.are.equal("qlua: vm.lua:3: field 'firmware': 'uefi-secure' needs OVMF, and " .. ovmf ..
        "/OVMF_CODE_4M.secboot.fd does not exist (QLUA_OVMF_DIR is '" .. ovmf .. "')\n", err)
      assert(os.execute("cp " .. OVMF .. "/OVMF_CODE_4M.secboot.fd " .. q(ovmf)))
      code, out, err = qlua_in(d, env, "-n", "vm.lua")
      assert.are.equal(2, code)
      assert.are.equal("qlua: vm.lua:3: field 'firmware': 'uefi-secure' needs OVMF, and " .. ovmf ..
        "/OVMF_VARS_4M.ms.fd does not exist (QLUA_OVMF_DIR is '" .. ovmf .. "')\n", err)
      -- with both, the images come from there
      assert(os.execute("cp " .. OVMF .. "/OVMF_VARS_4M.ms.fd " .. q(ovmf)))
      code, out, err = qlua_in(d, env, "-n", "vm.lua")
      assert.are.equal(0, code, err)
      assert.truthy(out:find("file=" .. ovmf .. "/OVMF_CODE_4M.secboot.fd \\", 1, true), out)
      assert.truthy(out:find("\ncp " .. ovmf .. "/OVMF_VARS_4M.ms.fd ", 1, true), out)
    end)
  end)

  describe("dry runs", function()
    it("-n prints the mkdir and the cp, and makes nothing", function()
      local d = H.tmpdir()
      H.write(d .. "/vm.lua", "return { name = 'x', machine = { type = 'q35' }, firmware = 'uefi' }\n")
      local before = listing(d)
      local code, out, err = qlua_in(d, nil, "-n", "vm.lua")
      assert.are.equal("", err)
      assert.are.equal(0, code)
      local dir = out:match("^mkdir %-m 0700 (%S+)\n")
      assert.truthy(dir, out)
      assert.matches("^" .. lit(d) .. "/qlua%-uefi%.%x+$", dir)
      assert.are.equal(table.concat({
        "mkdir -m 0700 " .. dir,
        "cp " .. OVMF .. "/OVMF_VARS_4M.fd " .. dir .. "/OVMF_VARS.fd",
        "qemu-system-x86_64 \\",
        "  -name guest=x \\",
        "  -machine q35 \\",
        "  -drive if=pflash,format=raw,unit=0,readonly=on,file=" .. OVMF .. "/OVMF_CODE_4M.fd \\",
        "  -drive if=pflash,format=raw,unit=1,file=" .. dir .. "/OVMF_VARS.fd \\",
        "  -display none \\",
        "  -serial stdio",
        "" }, "\n"), out)
      assert.are.equal(before, listing(d))
      code, out, err = qlua_in(d, nil, "--json", "vm.lua")
      assert.are.equal(0, code, err)
      assert.are.equal(before, listing(d))
    end)
  end)

  describe("qlua --probe and --check", function()
    it("ask QEMU about a uefi-secure description (--check from --probe's cache) and make nothing else", function()
      local d = H.tmpdir()
      H.write(d .. "/vm.lua", "return { machine = { type = 'q35', accel = 'tcg' }, firmware = 'uefi-secure' }\n")
      local before = listing(d)
      for _, flag in ipairs({ "--probe", "--check" }) do
        local code, out, err = qlua_in(d, "XDG_CACHE_HOME=" .. q(d .. "/cache"), flag, "vm.lua")
        assert.are.equal("", err)
        assert.are.equal(0, code)
        assert.matches("^vm%.lua: QEMU [%d.]+ %(%S+%) has every machine type, device and property it uses\n$", out)
      end
      H.sh("rm -rf " .. q(d .. "/cache"))
      assert.are.equal(before, listing(d))
    end)
  end)

  describe("recipes.uefi", function()
    local recipes = require "qemu.recipes"
    it("gives firmware and q35, and merges", function()
      assert.are.same({ firmware = "uefi", machine = { type = "q35" } }, recipes.uefi())
      assert.are.same({ firmware = "uefi", machine = { type = "q35" } }, recipes.uefi { secure = false })
      assert.are.same({ firmware = "uefi-secure", machine = { type = "q35" } }, recipes.uefi { secure = true })
      local vm = qemu.merge(recipes.q35 { accel = "tcg" }, recipes.uefi { secure = true })
      assert.are.same({ type = "q35", accel = "tcg" }, vm.machine)
      local argv = qemu.argv(vm)
      assert.are.equal("q35,smm=on", argv[3])
    end)

    it("checks its options", function()
      local function re(src)
        local ok, msg = pcall(assert(load(src, "=vm.lua", "t", { recipes = recipes })))
        assert.is_false(ok)
        return msg
      end
      assert.are.equal("vm.lua:1: recipes.uefi: unknown field 'secur' (did you mean 'secure'?)",
        re("local vm = recipes.uefi { secur = true }"))
      assert.are.equal("vm.lua:1: recipes.uefi: field 'secure': boolean expected, got string",
        re("local vm = recipes.uefi { secure = 'yes' }"))
    end)
  end)

  describe("the real QEMU", function()
    -- argv with its variables copy made in a directory of the test's own
    local function accepts(vm)
      local argv = qemu.argv(vm)
      local copy = H.tmpdir() .. "/OVMF_VARS.fd"
      local from = vm.firmware == "uefi-secure" and "/OVMF_VARS_4M.ms.fd" or "/OVMF_VARS_4M.fd"
      assert(os.execute("cp " .. OVMF .. from .. " " .. q(copy)))
      local p = vars_path(argv)
      for i, a in ipairs(argv) do argv[i] = a:gsub(lit(p), copy) end
      H.assert_qemu_accepts(argv)
    end

    it("takes the command lines of 'uefi' (q35, pc) and 'uefi-secure'", function()
      accepts({ machine = { type = "q35", accel = "tcg" }, firmware = "uefi", memory = { size = "128M" } })
      accepts({ machine = { type = "pc", accel = "tcg" }, firmware = "uefi", memory = { size = "128M" } })
      accepts({ machine = { type = "q35", accel = "tcg" }, firmware = "uefi-secure", memory = { size = "128M" } })
    end)

    it("two launched VMs get their own copies, wired as flash, removed when qlua exits", function()
      local d = H.tmpdir()
      H.write(d .. "/vms.lua", [[
local function desc(fw)
  return { machine = { type = "q35", accel = "tcg" }, firmware = fw, memory = { size = "128M" },
           knobs = { stopped = true, no_defaults = true }, extra_args = { "-display", "none" } }
end
local function slurp(p)
  local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s
end
for _, fw in ipairs({ "uefi", "uefi-secure", "uefi" }) do
  local vm = qemu.launch(desc(fw), { qmp = true })
  for _, b in ipairs(assert(vm.qmp:execute("query-block"))) do
    if b.inserted then
      local same = slurp(b.inserted.file) == slurp(arg[1] .. (fw == "uefi" and "/OVMF_VARS_4M.fd" or "/OVMF_VARS_4M.ms.fd"))
      print(fw, b.device, b.inserted.file, b.inserted.ro, same)
    end
  end
end
]])
      local code, out, err = qlua_in(d, nil, "vms.lua", OVMF)
      assert.are.equal(0, code, err)
      local lines, copies = {}, {}
      for line in out:gmatch("[^\n]+") do
        local fw, dev, file, ro, same = line:match("^(%S+)\t(%S+)\t(%S+)\t(%S+)\t(%S+)$")
        assert.truthy(fw, line)
        if dev == "pflash1" then
          assert.matches("^" .. lit(d) .. "/qlua%-uefi%.%x+/OVMF_VARS%.fd$", file)
          assert.is_nil(copies[file], "a copy used twice: " .. file)
          copies[file] = true
          file = "COPY"
        end
        lines[#lines + 1] = table.concat({ fw, dev, file, ro, same }, " ")
      end
      assert.are.same({
        "uefi pflash0 " .. OVMF .. "/OVMF_CODE_4M.fd true false",
        "uefi pflash1 COPY false true",
        "uefi-secure pflash0 " .. OVMF .. "/OVMF_CODE_4M.secboot.fd true false",
        "uefi-secure pflash1 COPY false true",
        "uefi pflash0 " .. OVMF .. "/OVMF_CODE_4M.fd true false",
        "uefi pflash1 COPY false true",
      }, lines)
      -- qlua has exited: no copy is left
      assert.are.equal(".\n./vms.lua\n", listing(d))
    end)
  end)

  describe("a VM that runs as another user (uid, gid)", function()
    local _, id = H.sh("id -u")
    if id ~= "0\n" then
      pending("needs root (QEMU started as another user)")
      return
    end
    it("gets its variables copy owned by that user, so QEMU can open it", function()
      local d = H.tmpdir()
      assert(os.execute("chmod 0755 " .. q(d)))
      H.write(d .. "/vm.lua", [[
local vm = qemu.launch({ machine = { type = "q35", accel = "tcg" }, firmware = "uefi", uid = 65534, gid = 65534,
  knobs = { stopped = true, no_defaults = true }, extra_args = { "-display", "none" } }, { qmp = true })
print(assert(vm.qmp:execute("query-status")).status)
for _, b in ipairs(assert(vm.qmp:execute("query-block"))) do
  if b.device == "pflash1" then
    print(io.popen("stat -c '%u:%g %a' " .. b.inserted.file .. " " .. b.inserted.file:match("^(.*)/")):read("a"))
  end
end
]])
      local code, out, err = qlua_in(d, nil, "vm.lua")
      assert.are.equal("", err)
      assert.are.equal(0, code)
      assert.are.equal("prelaunch\n65534:65534 644\n65534:65534 700\n\n", out)
      local _, n = H.sh("find " .. q(d) .. " -name 'qlua-uefi.*' | wc -l")
      assert.are.equal("0\n", n)
    end)
  end)

  describe("boots the test guest under OVMF #guest", function()
    local vmlinuz = G.dir .. "/vmlinuz"
    it("with -kernel (a bzImage through fw_cfg) to its markers; OVMF writes the private copy", function()
      assert(io.open(vmlinuz), vmlinuz .. " is missing: run `make guest` (scripts/build-guest.sh keeps it)")
      local S = G.scope(finally)
      local desc = G.desc("")
      desc.kernel.path = vmlinuz
      desc.firmware = "uefi"
      local vm = S:launch(desc)
      local copy = vars_path(vm.argv)
      -- OVMF under TCG: ~10-20 s more than SeaBIOS
      G.expect(vm, "QLUA%-GUEST%-READY", 240)
      G.expect(vm, "QLUA%-GUEST%-DONE\r?\n", G.STEP)
      assert.are.same({ code = 0 }, G.wait(vm))
      -- unit 1 was the VM's own, writable copy: the variables changed there,
      -- and never in the template
      assert.are_not.equal(H.slurp(OVMF .. "/OVMF_VARS_4M.fd"), H.slurp(copy))
    end)
  end)
end)
