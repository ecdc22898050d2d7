-- spec/check_spec.lua - `qlua --probe vm.lua` and qemu.check(vm): the real
-- QEMU binary of a description is asked (over QMP, with -machine none)
-- whether it has the machine type, the devices and the properties the
-- description uses; its answers are cached per binary under
-- $XDG_CACHE_HOME/qlua by --probe and by qemu.check in a run.  `qlua
-- --check vm.lua` is a dry run: the same check from the cache alone, which
-- starts no program and writes no file.  Also qemu.has_device,
-- qemu.qemu_version, qemu.json_decode, qemu.which, and the warnings about
-- deprecated forms.
local H = require "helper"
local qemu = H.qemu
local q = H.q

-- A fresh cache directory for qlua runs (XDG_CACHE_HOME) and its qlua/.
local function cache()
  local d = H.tmpdir()
  return d, d .. "/qlua"
end

-- Runs `qlua ARGS...` with XDG_CACHE_HOME=xdg (and env words) in dir.
local function qlua_in(dir, xdg, env, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  return H.sh("cd " .. q(dir) .. " && env XDG_CACHE_HOME=" .. q(xdg) .. " " .. (env or "") .. " " ..
              H.qlua_cmd .. " " .. table.concat(words, " "))
end

-- Fills the cache as a run does (not a dry one): qemu.check of d/vm.lua's
-- description from `qlua -e` (its verdict is not the point).
local function fill(dir, xdg, env)
  return qlua_in(dir, xdg, env, "-e", 'qemu.check(dofile("vm.lua"))')
end

-- A directory with vm.lua holding text.
local function script(text)
  local d = H.tmpdir()
  H.write(d .. "/vm.lua", text)
  return d
end

-- A stand-in QEMU that counts its starts in COUNT and execs the real one.
local function counting_qemu()
  local d = H.tmpdir()
  local count = d .. "/starts"
  H.write(count, "")
  local path = H.write(d .. "/qemu-system-x86_64",
    "#!/bin/sh\necho start >> " .. q(count) .. "\nexec " .. q(H.qemu_bin) .. ' "$@"\n')
  assert(os.execute("chmod +x " .. q(path)))
  return path, function() return #((H.slurp(count) or ""):gsub("[^\n]", "")) end
end

local VERSION = (function()
  local code, out = H.sh(q(H.qemu_bin) .. " --version")
  assert(code == 0)
  return out:match("version (%d+%.%d+%.%d+)")
end)()
local LABEL = "QEMU " .. VERSION .. " (qemu-system-x86_64)"

describe("qlua --probe (--check that asks QEMU what the cache lacks)", function()
  it("is in --help, beside --check", function()
    local code, out = H.qlua("--help")
    assert.are.equal(0, code)
    assert.truthy(out:find("%-%-check"), out)
    assert.truthy(out:find("%-%-probe"), out)
  end)

  it("exits 0 and says so when QEMU has everything", function()
    local xdg = cache()
    local d = script([[
return {
  machine = { type = "q35", accel = "tcg", options = { nvdimm = true, kernel_irqchip = "split" } },
  memory = { size = "256M" },
  devices = {
    qemu.block { id = "hd0", file = "/d.img", format = "raw", wce = true, serial = "s1" },
    qemu.netdev { type = "tap", id = "n0", ifname = "tap0", mac_address = "52:54:00:00:00:01" },
    qemu.device { driver = "e1000", id = "e0", mac = "52:54:00:00:00:02" },
  },
}
]])
    local code, out, err = qlua_in(d, xdg, nil, "--probe", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal("vm.lua: " .. LABEL .. " has every machine type, device and property it uses\n", out)
    assert.are.equal(0, code)
  end)

  it("catches a misspelt device property, naming the device's line", function()
    local d = script([[
local nic = qemu.device { driver = "e1000", id = "e0",
                          macc = "52:54:00:00:00:02" }
return { devices = { nic } }
]])
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: devices[1] (device): " .. LABEL ..
      ": property 'macc' of device 'e1000' does not exist (did you mean 'mac'?)\n", err)
  end)

  it("catches a machine type the binary lacks, at the return statement", function()
    local d = script([[
local x = 1
return { machine = { type = "q36" } }
]])
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:2: field 'machine.type': " .. LABEL ..
      " has no machine type 'q36' (did you mean 'q35'?)\n", err)
  end)

  it("catches a device the binary lacks: a misspelt driver, a transport QEMU has not built in", function()
    local d = script([[
return {
  devices = {
    qemu.block { id = "hd0", file = "/d.img", format = "raw", driver = "virtio-blk-pcie" },
    qemu.block { id = "hd1", file = "/e.img", format = "raw", transport = "ccw" },
  },
}
]])
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal(
      "qlua: vm.lua:3: devices[1] (block): field 'driver': " .. LABEL ..
        " has no device 'virtio-blk-pcie' (did you mean 'virtio-blk-pci'?)\n" ..
      "qlua: vm.lua:4: devices[2] (block): field 'transport': " .. LABEL ..
        " has no device 'virtio-blk-ccw' (did you mean 'virtio-blk-pci'?)\n", err)
  end)

  -- qlua renders a tdx-guest (govmm's TDX object); whether the binary has
  -- that object type is --probe's and --check's to say (QEMU 7.2 has none)
  it("catches an object type the binary lacks (tdx-guest on QEMU 7.2), from the cache too", function()
    local d = script([[
return {
  devices = {
    qemu.object { type = "tdx-guest", id = "tdx0", qgs_port = 4050 },
    qemu.object { type = "memory-backend-ram", id = "m0", size = "16M" },
  },
}
]])
    local xdg = cache()
    local want = "qlua: vm.lua:3: devices[1] (object): field 'type': " .. LABEL ..
                 " has no object type 'tdx-guest'\n"
    if VERSION:match("^7%.") then
      for i = 1, 2 do  -- asked, then answered from the cache --probe wrote, by --check
        local code, out, err = qlua_in(d, xdg, nil, i == 1 and "--probe" or "--check", "vm.lua")
        assert.are.equal(2, code)
        assert.are.equal("", out)
        assert.are.equal(want, err)
      end
    else
      pending("QEMU " .. VERSION .. " may have tdx-guest")
    end
  end)

  it("catches a machine property the machine lacks, microvm's too", function()
    local d = script([[
return {
  machine = { type = "q35", options = { nvdimmm = true } },
}
]])
    local code, _, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: field 'machine.options.nvdimmm': " .. LABEL ..
      ": machine type 'q35' has no machine property 'nvdimmm' (did you mean 'nvdimm'?)\n", err)
    -- (QEMU 7.2 dies when asked about microvm-machine under -machine none:
    -- qlua asks a microvm QEMU about itself instead)
    d = script('return { machine = { type = "microvm", options = { pcei = true, pit = false } } }')
    code, _, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: field 'machine.options.pcei': " .. LABEL ..
      ": machine type 'microvm' has no machine property 'pcei' (did you mean 'pcie'?)\n", err)
    d = script('return { machine = { type = "microvm", options = { pcie = true, pit = false } } }')
    code, _, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
  end)

  it("checks what qlua emits: the transport's device names and their properties", function()
    local d = script([[
return {
  machine = { type = "microvm" },
  knobs = { iommu_platform = true, no_defaults = true },
  devices = {
    qemu.block { id = "hd0", file = "/d.img", format = "raw", wce = true },
    qemu.netdev { type = "tap", id = "n0", ifname = "tap0" },
    qemu.vhost_user { vhost_user_type = "blk", socket_path = "/s", chardev_id = "c0" },
  },
}
]])
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.truthy(out:find("has every machine type", 1, true))
  end)

  it("says when there is no such binary", function()
    local d = script('return { path = "/nonexistent/qemu-system-s390x" }')
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: field 'path': no QEMU binary: /nonexistent/qemu-system-s390x: " ..
      "No such file or directory\n", err)
    d = script('return { path = "qemu-system-nope" }')
    code, _, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: field 'path': no QEMU binary: qemu-system-nope: not found in $PATH\n", err)
    -- a binary that is not a QEMU: what it said
    local fake = H.write(H.tmpdir() .. "/fake-qemu", "#!/bin/sh\necho 'not a QEMU' >&2\nexit 3\n")
    assert(os.execute("chmod +x " .. q(fake)))
    d = script("return { path = " .. ("%q"):format(fake) .. " }")
    code, _, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: field 'path': '" .. fake .. "' did not answer: QEMU exited (code 3) before " ..
      "query-version: not a QEMU\n", err)
  end)

  it("validates first: an invalid description is the usual error, and nothing is asked", function()
    local qemu_path, starts = counting_qemu()
    local d = script('return { devices = { qemu.block { id = "hd0", file = "/d", format = "qcow3" } } }')
    local code, out, err = qlua_in(d, cache(), "QLUA_QEMU=" .. q(qemu_path), "--check", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: block: field 'format': invalid option 'qcow3' (expected 'raw', 'qcow2', " ..
      "'qcow', 'qed', 'vmdk', 'vdi', 'vhdx', 'vpc', 'luks', 'parallels', 'dmg', 'cloop' or 'bochs')\n", err)
    assert.are.equal(0, starts())
  end)

  -- a regression: bus = "pci.0" on q35 passed --check, then QEMU said "Bus 'pci.0' not found"
  it("refuses a bus the machine type has not, before asking anything", function()
    local qemu_path, starts = counting_qemu()
    local d = script('local b = qemu.block { id = "hd0", file = "/d.img", format = "raw", bus = "pci.0" }\n' ..
                     'return { machine = { type = "q35" }, devices = { b } }')
    local code, out, err = qlua_in(d, cache(), "QLUA_QEMU=" .. q(qemu_path), "--check", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: devices[1] (block): field 'bus': no bus with id 'pci.0' in this " ..
      "description nor on machine type 'q35' (did you mean 'pcie.0'?)\n", err)
    assert.are.equal(0, starts())
  end)

  it("refuses a script that returns no description, or a matrix", function()
    local d = script("local x = 1")
    for _, flag in ipairs({ "--check", "--probe" }) do
      local code, _, err = qlua_in(d, cache(), nil, flag, "vm.lua")
      assert.are.equal(2, code)
      assert.are.equal("qlua: vm.lua returned no VM description to check\n", err)
    end
    d = script('local m = require "qemu.matrix"\nreturn m { axes = { a = { 1 } }, vm = function() return {} end, test = function() end }')
    for _, flag in ipairs({ "--check", "--probe" }) do
      local code, _, err = qlua_in(d, cache(), nil, flag, "vm.lua")
      assert.are.equal(2, code)
      assert.truthy(err:find("returned a matrix: " .. flag .. " checks a VM description", 1, true), err)
    end
  end)

  it("with -n, --check prints the command line once the check (from --probe's answers) passed", function()
    local xdg = cache()
    local d = script('return { machine = { type = "pc" } }')
    assert.are.equal(0, (qlua_in(d, xdg, nil, "--probe", "vm.lua")))
    local code, out, err = qlua_in(d, xdg, nil, "--check", "-n", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("qemu-system-x86_64 \\\n  -machine pc \\\n  -display none \\\n  -serial stdio\n", out)
    d = script('return { machine = { type = "pcc" } }')
    code, out = qlua_in(d, xdg, nil, "--check", "-n", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
  end)

  it("--probe does not go with -n or --json, which start nothing", function()
    local d = script('return { machine = { type = "pc" } }')
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "-n", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: --probe starts the VM's QEMU to ask it, so it cannot go with -n, which starts "
      .. "nothing (run --probe first, then -n)\n", err)
    code, out, err = qlua_in(d, cache(), nil, "--json", "--probe", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: --probe starts the VM's QEMU to ask it, so it cannot go with --json, which "
      .. "starts nothing (run --probe first, then --json)\n", err)
  end)
end)

describe("qlua --check is a dry run", function()
  it("starts no QEMU and writes no file: what the cache lacks is an error that says how to fill it", function()
    local qemu_path, starts = counting_qemu()
    local xdg, dir = cache()
    local d = script([[
local nic = qemu.device { driver = "e1000", id = "e0" }
return { machine = { type = "q35" }, devices = { nic } }
]])
    local env = "QLUA_QEMU=" .. q(qemu_path)
    local code, out, err = qlua_in(d, xdg, env, "--check", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:2: field 'path': a dry run starts no QEMU, and " .. qemu_path ..
      " has not been asked yet (qlua --probe vm.lua asks it and caches its answers)\n", err)
    assert.are.equal(0, starts())
    assert.is_nil(io.open(dir), "a dry run made " .. dir)
    -- --probe asks, and caches; then --check answers from the cache alone
    code, _, err = qlua_in(d, xdg, env, "--probe", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(1, starts())
    code, out, err = qlua_in(d, xdg, env, "--check", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal("vm.lua: " .. LABEL .. " has every machine type, device and property it uses\n", out)
    assert.are.equal(0, code)
    assert.are.equal(1, starts())
    -- a device the cache has not heard of: named, still nothing started
    local more = script([[
return { devices = { qemu.rng { id = "rng0" }, qemu.device { driver = "virtio-mouse-pci", id = "m0" } } }
]])
    code, out, err = qlua_in(more, xdg, env, "--check", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: field 'path': a dry run starts no QEMU, and " .. qemu_path ..
      " has not been asked about device 'virtio-rng-pci', device 'virtio-mouse-pci' yet (qlua --probe vm.lua " ..
      "asks it and caches its answers)\n", err)
    assert.are.equal(1, starts())
  end)

  it("--probe that cannot write the cache says so (the check itself passes)", function()
    local xdg = cache()
    H.write(xdg .. "/qlua", "a file where the cache's directory would be")
    local d = script('return { machine = { type = "pc" } }')
    local code, out, err = qlua_in(d, xdg, nil, "--probe", "vm.lua")
    assert.are.equal(0, code)
    assert.are.equal("vm.lua: " .. LABEL .. " has every machine type, device and property it uses\n", out)
    assert.are.equal("qlua: warning: --probe cannot write the cache of QEMU's answers (" .. xdg ..
      "/qlua/qemu-" .. qemu.which("qemu-system-x86_64"):gsub("[^%w%.%-]", "_") .. ".json: Not a directory): " ..
      "qlua --check will not find them\n", err)
  end)

  it("with no cache directory (cache_dir = false), a dry run's qemu.check says it has no answers", function()
    local d = script('local ok, e = qemu.check({}, { cache_dir = false })\nprint(ok, e[1])\n')
    local code, out = qlua_in(d, cache(), nil, "-n", "vm.lua")
    assert.are.equal(2, code)  -- (and no description to print)
    assert.are.equal("nil\tvm.lua:1: field 'path': a dry run starts no QEMU, and with no cache directory " ..
      "(cache_dir = false, or neither $XDG_CACHE_HOME nor $HOME set) it has no answers from " ..
      qemu.which("qemu-system-x86_64") .. "\n", out)
  end)

  it("qemu.has_device and qemu.qemu_version in a dry run answer from the cache, else raise at their line", function()
    local qemu_path, starts = counting_qemu()
    local xdg = cache()
    local d = script('local x = 1\nprint(qemu.has_device("e1000"), (qemu.qemu_version()))\n')
    local env = "QLUA_QEMU=" .. q(qemu_path)
    local code, out, err = qlua_in(d, xdg, env, "-n", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:2: has_device: a dry run starts no QEMU, and " .. qemu_path ..
      " has not been asked yet (qlua --probe vm.lua asks it and caches its answers)\n", err)
    assert.are.equal(0, starts())
    -- --probe runs the script as --check does, asking QEMU: the answers are cached
    code, out, err = qlua_in(d, xdg, env, "--probe", "vm.lua")
    assert.are.equal("true\t" .. VERSION .. "\n", out)
    assert.are.equal("qlua: vm.lua returned no VM description to check\n", err)
    assert.are.equal(2, code)
    assert.are.equal(1, starts())
    for _, flag in ipairs({ "-n", "--json", "--check" }) do
      code, out = qlua_in(d, xdg, env, flag, "vm.lua")
      assert.are.equal("true\t" .. VERSION .. "\n", out)
      assert.are.equal(2, code)  -- no description to print or check
    end
    assert.are.equal(1, starts())
  end)
end)

describe("the cache of QEMU's answers", function()
  it("is written per binary by --probe and a run's qemu.check, never by --check, which reads it", function()
    local qemu_path, starts = counting_qemu()
    local xdg, dir = cache()
    local d = script([[
return { machine = { type = "q35" },
         devices = { qemu.block { id = "hd0", file = "/d.img", format = "raw" } } }
]])
    local env = "QLUA_QEMU=" .. q(qemu_path)
    local code = qlua_in(d, xdg, env, "--check", "vm.lua")
    assert.are.equal(2, code)  -- not asked yet (above)
    assert.are.equal(0, starts())
    local file = dir .. "/qemu-" .. qemu_path:gsub("[^%w%.%-]", "_") .. ".json"
    assert.is_nil(H.slurp(file), "a dry run wrote the cache")  -- nor its directory:
    assert.is_nil(io.open(dir), "a dry run made " .. dir)
    -- a run's qemu.check writes it
    local err
    code, _, err = fill(d, xdg, env)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(1, starts())
    local c = qemu.json_decode(assert(H.slurp(file), "no cache file " .. file))
    assert.are.equal(qemu_path, c.binary.path)
    assert.are.equal(1, c.format)
    local _, size, mtime = qemu.which(qemu_path)
    assert.are.equal(size, c.binary.size)
    assert.are.equal(mtime, c.binary.mtime)
    assert.are.equal(tonumber(VERSION:match("^(%d+)")), c.version.major)
    assert.are.equal("pc-q35-" .. VERSION:match("^(%d+%.%d+)"), c.machines.q35)
    assert.truthy(c.device_props["virtio-blk-pci"])

    -- --check now: every answer from the cache
    code, _, err = qlua_in(d, xdg, env, "--check", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal(1, starts())
    -- and a wrong description is caught from the cache alone
    local bad = script('return { machine = { type = "q36" } }')
    code = qlua_in(bad, xdg, env, "--check", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal(1, starts())

    -- a device not asked about yet: --check says so and leaves the cache
    -- as it is; --probe asks once and adds it
    local more = script([[
return { devices = { qemu.rng { id = "rng0" } } }
]])
    local before = H.slurp(file)
    assert.are.equal(2, (qlua_in(more, xdg, env, "--check", "vm.lua")))
    assert.are.equal(1, starts())
    assert.are.equal(before, H.slurp(file))
    assert.are.equal(0, (qlua_in(more, xdg, env, "--probe", "vm.lua")))
    assert.are.equal(2, starts())
    assert.are.equal(0, (qlua_in(more, xdg, env, "--probe", "vm.lua")))
    assert.are.equal(2, starts())
    assert.are.equal(0, (qlua_in(more, xdg, env, "--check", "vm.lua")))
    assert.are.equal(2, starts())

    -- a changed binary (size, mtime): its answers are not the cache's
    H.write(qemu_path, (H.slurp(qemu_path):gsub("exec", "# changed\nexec")))
    assert.are.equal(2, (qlua_in(d, xdg, env, "--check", "vm.lua")))
    assert.are.equal(2, starts())
    assert.are.equal(0, (qlua_in(d, xdg, env, "--probe", "vm.lua")))
    assert.are.equal(3, starts())
  end)

  it("goes to ~/.cache/qlua without XDG_CACHE_HOME", function()
    local home = H.tmpdir()
    local d = script('return {}')
    local code, _, err = H.sh("cd " .. q(d) .. " && env -u XDG_CACHE_HOME HOME=" .. q(home) .. " " ..
                              H.qlua_cmd .. " -e 'qemu.check(dofile(\"vm.lua\"))'")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local _, out = H.sh("ls " .. q(home .. "/.cache/qlua"))
    assert.truthy(out:find("^qemu%-.*qemu%-system%-x86_64%.json\n$"), out)
  end)

  it("a corrupt cache file is asked again and rewritten", function()
    local qemu_path, starts = counting_qemu()
    local xdg, dir = cache()
    local d = script('return {}')
    local env = "QLUA_QEMU=" .. q(qemu_path)
    assert.are.equal(0, (fill(d, xdg, env)))
    local file = dir .. "/qemu-" .. qemu_path:gsub("[^%w%.%-]", "_") .. ".json"
    H.write(file, "{ not json")
    assert.are.equal(0, (fill(d, xdg, env)))
    assert.are.equal(2, starts())
    assert.truthy(qemu.json_decode(H.slurp(file)))
    assert.are.equal(0, (qlua_in(d, xdg, env, "--check", "vm.lua")))
    assert.are.equal(2, starts())
  end)
end)

describe("qemu.check(vm)", function()
  local dir = H.tmpdir()

  it("returns true (and the warnings) when QEMU has everything", function()
    local ok, warnings = qemu.check({ machine = { type = "q35" }, devices = {
      qemu.balloon {}, qemu.device { driver = "virtio-rng-pci", id = "r0" } } }, { cache_dir = dir })
    assert.is_true(ok)
    assert.are.same({}, warnings)
  end)

  it("returns nil and every error, naming the lines", function()
    local line = debug.getinfo(1, "l").currentline
    local ok, errors = qemu.check({
      machine = { type = "q36" },
      devices = {
        qemu.device { driver = "e1000", id = "e0", speed = 100 },
        qemu.netdev { type = "tap", id = "n0", ifname = "t0", driver = "virtio-net-pcie" },
      } }, { cache_dir = dir })
    assert.is_nil(ok)
    local here = debug.getinfo(1, "S").short_src
    assert.are.same({
      -- the section: the line of the call; a device: the line it was built at
      here .. ":" .. (line + 1) .. ": field 'machine.type': " .. LABEL ..
        " has no machine type 'q36' (did you mean 'q35'?)",
      here .. ":" .. (line + 4) .. ": devices[1] (device): " .. LABEL ..
        ": property 'speed' of device 'e1000' does not exist",
      here .. ":" .. (line + 5) .. ": devices[2] (netdev): field 'driver': " .. LABEL ..
        " has no device 'virtio-net-pcie' (did you mean 'virtio-net-pci'?)",
    }, errors)
  end)

  it("raises for invalid input, as every function does", function()
    local ok, e = pcall(qemu.check, { devices = { {} } })
    assert.is_false(ok)
    assert.matches("field 'devices[1]': device expected, got table", e, 1, true)
    ok, e = pcall(qemu.check, "vm.lua")
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'check' (VM description expected, got string)", e, 1, true)
    ok, e = pcall(qemu.check, {}, { cache = "x" })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'check' (unknown field 'cache' (did you mean 'cache_dir'?))", e, 1, true)
  end)

  it("cache_dir = false keeps nothing (and asks every time)", function()
    assert.is_true(qemu.check({}, { cache_dir = false }))
    assert.are.equal(1, require("qemu.check").last.started)
    assert.is_true(qemu.check({}, { cache_dir = dir }))
    assert.is_true(qemu.check({}, { cache_dir = dir }))
    assert.are.equal(0, require("qemu.check").last.started)
  end)
end)

describe("qemu.has_device and qemu.qemu_version", function()
  it("answer for the default QEMU or a given binary, from the same cache", function()
    local qemu_path, starts = counting_qemu()
    local xdg = cache()
    local code, out, err = H.sh("env XDG_CACHE_HOME=" .. q(xdg) .. " QLUA_QEMU=" .. q(qemu_path) .. " " ..
      H.qlua_cmd .. " -e " .. q([[
io.write(tostring(qemu.has_device("virtio-blk-pci")), " ", tostring(qemu.has_device("virtio-blk-ccw")), " ",
         tostring(qemu.has_device("virtio-blk-ccw", "/usr/bin/qemu-system-x86_64")), "\n")
local text, v = qemu.qemu_version()
io.write(text, " ", v.major, ".", v.minor, ".", v.micro, " ", type(v.package), "\n")
io.write(qemu.qemu_version("/usr/bin/qemu-system-x86_64"), "\n")]]))
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("true false false\n" .. VERSION .. " " .. VERSION .. " string\n" .. VERSION .. "\n", out)
    assert.are.equal(1, starts())
    -- from the cache now
    H.sh("env XDG_CACHE_HOME=" .. q(xdg) .. " QLUA_QEMU=" .. q(qemu_path) .. " " .. H.qlua_cmd ..
         " -e 'assert(qemu.has_device(\"e1000\"))'")
    assert.are.equal(1, starts())
  end)

  it("raise at the caller's line when there is no such binary", function()
    local ok, e = pcall(qemu.has_device, "e1000", "/nonexistent/qemu")
    assert.is_false(ok)
    assert.matches("has_device: no QEMU binary: /nonexistent/qemu: No such file or directory", e, 1, true)
    ok, e = pcall(qemu.qemu_version, 7)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'qemu_version' (string expected, got number)", e, 1, true)
    local code, _, err = H.qlua("-e", 'local x = 1\nqemu.has_device("e1000", "qemu-system-nope")')
    assert.are.equal(2, code)
    assert.are.equal("qlua: (command line):2: has_device: no QEMU binary: qemu-system-nope: not found in $PATH\n", err)
  end)
end)

describe("deprecated forms are warned about, not refused", function()
  it("removed options, short-form booleans and removed devices", function()
    local d = script([[
return {
  devices = { qemu.device { driver = "ide-drive" } },
  extra_args = { "-enable-kvm", "-realtime", "mlock=off", "--soundhw", "all",
                 "-chardev", "socket,id=c9,path=/tmp/x,,y.sock,server,nowait",
                 "-drive", "if=none,id=d9,file=/x,readonly", "-device", "scsi-disk,drive=d9" },
}
]])
    local code, _, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal(2, code)  -- (QEMU has no ide-drive or scsi-disk device either)
    local warnings = {}
    for line in err:gmatch("qlua: warning: ([^\n]*)") do warnings[#warnings + 1] = line end
    assert.are.same({
      "vm.lua:1: extra_args[2]: '-realtime' was removed in QEMU 6.0 (use knobs.mlock: -overcommit mem-lock=on)",
      "vm.lua:1: extra_args[4]: '--soundhw' was removed in QEMU 7.1 (use -audio, or -device with -audiodev)",
      "vm.lua:1: extra_args[6]: '-chardev socket,id=c9,path=/tmp/x,,y.sock,server,nowait': short-form boolean " ..
        "'server' is deprecated (write 'server=on')",
      "vm.lua:1: extra_args[6]: '-chardev socket,id=c9,path=/tmp/x,,y.sock,server,nowait': short-form boolean " ..
        "'nowait' is deprecated (write 'wait=off')",
      "vm.lua:1: extra_args[8]: '-drive if=none,id=d9,file=/x,readonly': short-form boolean 'readonly' is " ..
        "deprecated (write 'readonly=on')",
      "vm.lua:1: extra_args[10]: '-device scsi-disk,drive=d9': device 'scsi-disk' was removed in QEMU 6.0 " ..
        "(use scsi-hd or scsi-cd)",
      "vm.lua:2: devices[1] (device): field 'driver': 'ide-drive' was removed in QEMU 6.0 (use ide-hd or ide-cd)",
    }, warnings)
    assert.truthy(err:find("has no device 'ide-drive'", 1, true))
  end)

  it("only warnings: the check passes, and qemu.check returns them (warn = false: not printed)", function()
    local vm = { extra_args = { "-machine", "q35,usb", "-enable-kvm", "-m", "256M" } }
    local ok, warnings = qemu.check(vm, { cache_dir = H.tmpdir(), warn = false })
    assert.is_true(ok)
    assert.are.equal(1, #warnings)
    assert.matches("extra_args%[1%]: '%-machine q35,usb': short%-form boolean 'usb' is deprecated %(write 'usb=on'%)$",
      warnings[1])
    local d = script('return { extra_args = { "-enable-kvm", "-accel", "tcg", "-smp", "2,cores=2" } }')
    local code, out, err = qlua_in(d, cache(), nil, "--probe", "vm.lua")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.truthy(out:find("has every machine type", 1, true))
  end)
end)

describe("qemu.json_decode and qemu.which", function()
  it("json_decode: JSON text as Lua data, like QMP replies (null is qemu.null)", function()
    local t = qemu.json_decode('{"a": [1, 2.5, null, true, false], "b": {"c": "d\\u00e9"}, "e": []}')
    assert.are.same({ a = { 1, 2.5, qemu.null, true, false }, b = { c = "dé" }, e = {} }, t)
    assert.are.equal(math.type(t.a[1]), "integer")
    assert.are.equal(3, qemu.json_decode("3"))
    assert.are.equal("x", qemu.json_decode('"x"'))
    local v, e = qemu.json_decode("[1,")
    assert.is_nil(v)
    assert.matches("^invalid JSON at line 1, column %d+: ", e)
    assert.are.same({ k = { 1, 2 } }, qemu.json_decode(qemu.json { k = { 1, 2 } }))
    assert.has_error(function() qemu.json_decode({}) end)
  end)

  it("which: the absolute path exec would run, its size and mtime", function()
    local path, size, mtime = qemu.which("sh")
    assert.matches("^/.*/sh$", path)
    assert.are.equal("number", math.type(size) and "number")
    assert.is_true(mtime > 0)
    assert.are.equal(path, (qemu.which(path)))
    local rel = qemu.which("./qlua")
    assert.are.equal(H.root .. "/qlua", rel)
    local none, why = qemu.which("no-such-program-qlua")
    assert.is_nil(none)
    assert.are.equal("no-such-program-qlua: not found in $PATH", why)
  end)
end)
