-- spec/kvm_spec.lua - is KVM usable here?  qemu.kvm_usable() and
-- recipes' accel = "auto": a /dev/kvm that opens is no proof (some hosts
-- have one that answers query-kvm and hangs every guest), so qlua runs a
-- vCPU for real (a few bytes of real-mode code ending in hlt), caches the
-- verdict for this boot, and falls back to TCG saying why.
--
-- This machine has no /dev/kvm: the "no device" path runs for real; a device
-- that opens but is not KVM is a real null device, named by
-- $QLUA_KVM_DEVICE or made /dev/kvm in a mount namespace of the spec's own
-- (root); the probe of a real KVM runs where /dev/kvm exists.
local H = require "helper"
local lfs = require "lfs"
local qemu = H.qemu

local BOOT_ID = (H.slurp("/proc/sys/kernel/random/boot_id") or ""):match("^%s*(.-)%s*$")
local NULL_RDEV = lfs.attributes("/dev/null", "rdev")

local NOT_KVM = "/dev/null is not KVM: KVM_GET_API_VERSION failed (Inappropriate ioctl for device)"

-- Runs ./qlua ARGS with environment assignments env (a table) and no
-- inherited XDG/HOME cache places; returns code, out, err.
local function qlua_env(env, ...)
  local words = { "env -u XDG_RUNTIME_DIR -u XDG_CACHE_HOME -u QLUA_KVM_DEVICE HOME=/nonexistent" }
  for k, v in pairs(env) do words[#words + 1] = k .. "=" .. H.q(v) end
  words[#words + 1] = "timeout -s KILL 60"
  words[#words + 1] = H.qlua_cmd
  for _, a in ipairs({ ... }) do words[#words + 1] = H.q(a) end
  return H.sh(table.concat(words, " ") .. " </dev/null")
end

-- A chunk for qlua -e that prints qemu.kvm_usable()'s two results.
local PRINT = "local ok, why = qemu.kvm_usable(); print(ok, why)"

-- A script whose VM is recipes.q35 { accel = "auto" }.
local function auto_script()
  return H.script('local recipes = require "qemu.recipes"\nreturn recipes.q35 { accel = "auto" }\n', "vm.lua")
end

-- Every file under dir, as a sorted list of paths relative to it.
local function files(dir)
  local t = {}
  local function walk(d, rel)
    for e in lfs.dir(d) do
      if e ~= "." and e ~= ".." then
        local p, r = d .. "/" .. e, rel and (rel .. "/" .. e) or e
        if lfs.attributes(p, "mode") == "directory" then walk(p, r) else t[#t + 1] = r end
      end
    end
  end
  walk(dir)
  table.sort(t)
  return t
end

describe("qemu.kvm_usable", function()
  it("without a KVM device: false and why, for real (this machine has no /dev/kvm)", function()
    if lfs.attributes("/dev/kvm") then
      pending("this machine has a /dev/kvm")
      return
    end
    local ok, why = qemu.kvm_usable()
    assert.is_false(ok)
    assert.are.equal("cannot open /dev/kvm (No such file or directory)", why)
    local code, out, err = qlua_env({}, "-e", PRINT)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("false\tcannot open /dev/kvm (No such file or directory)\n", out)
  end)

  it("$QLUA_KVM_DEVICE names the device; one that does not exist is the same 'no device'", function()
    local code, out = qlua_env({ QLUA_KVM_DEVICE = "/nonexistent/kvm" }, "-e", PRINT)
    assert.are.equal(0, code)
    assert.are.equal("false\tcannot open /nonexistent/kvm (No such file or directory)\n", out)
  end)

  it("a device that opens read-write but is not KVM (/dev/null): false, the failed ioctl named", function()
    local run = H.tmpdir()
    local code, out, err = qlua_env({ QLUA_KVM_DEVICE = "/dev/null", XDG_RUNTIME_DIR = run }, "-e", PRINT)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("false\t" .. NOT_KVM .. "\n", out)
  end)

  it("leaves no child and no descriptor behind after a probe", function()
    local chunk = [[
local f = io.open("/proc/self/stat")
local pid = f:read("l"):match("^%d+")
f:close()
local function fds()
  collectgarbage()
  local p = io.popen("ls /proc/" .. pid .. "/fd | wc -l"); local n = p:read("n"); p:close(); return n
end
local before = fds()
local ok = qemu.kvm_usable()
local kids = io.open("/proc/" .. pid .. "/task/" .. pid .. "/children"):read("a")
print(ok, before == fds(), kids == "")
]]
    local code, out, err = qlua_env({ QLUA_KVM_DEVICE = "/dev/null" }, "-e", chunk)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("false\ttrue\ttrue\n", out)
  end)

  it("caches a probe's verdict for this boot, keyed by boot_id, device and device number", function()
    local run = H.tmpdir()
    local env = { QLUA_KVM_DEVICE = "/dev/null", XDG_RUNTIME_DIR = run }
    qlua_env(env, "-e", PRINT)
    assert.are.same({ "qlua/kvm.json" }, files(run))
    local text = H.slurp(run .. "/qlua/kvm.json")
    assert.matches('"boot_id": "' .. BOOT_ID:gsub("%-", "%%-") .. '"', text)
    assert.matches('"device": "/dev/null"', text)
    assert.matches('"rdev": ' .. NULL_RDEV .. "[,\n]", text)
    assert.matches('"usable": false', text)
    -- the second run reads it, and says so
    local code, out = qlua_env(env, "-e", PRINT)
    assert.are.equal(0, code)
    assert.are.equal("false\t" .. NOT_KVM .. " (verdict cached in " .. run .. "/qlua/kvm.json)\n", out)
  end)

  it("uses a cached verdict of this boot as it is (so a probe runs once per boot)", function()
    local run = H.tmpdir()
    lfs.mkdir(run .. "/qlua")
    H.write(run .. "/qlua/kvm.json", ('{"boot_id": "%s", "device": "/dev/null", "rdev": %d, '
      .. '"usable": true, "reason": "written by the spec"}\n'):format(BOOT_ID, NULL_RDEV))
    local code, out = qlua_env({ QLUA_KVM_DEVICE = "/dev/null", XDG_RUNTIME_DIR = run }, "-e", PRINT)
    assert.are.equal(0, code)
    assert.are.equal("true\twritten by the spec (verdict cached in " .. run .. "/qlua/kvm.json)\n", out)
  end)

  it("ignores a verdict of another boot, or of another device, and probes again", function()
    for _, entry in ipairs({
      ('{"boot_id": "00000000-0000-0000-0000-000000000000", "device": "/dev/null", "rdev": %d, '
        .. '"usable": true, "reason": "another boot"}\n'):format(NULL_RDEV),
      ('{"boot_id": "%s", "device": "/dev/null", "rdev": %d, "usable": true, "reason": "another device"}\n')
        :format(BOOT_ID, NULL_RDEV + 1),
      "not json at all\n",
    }) do
      local run = H.tmpdir()
      lfs.mkdir(run .. "/qlua")
      H.write(run .. "/qlua/kvm.json", entry)
      local code, out = qlua_env({ QLUA_KVM_DEVICE = "/dev/null", XDG_RUNTIME_DIR = run }, "-e", PRINT)
      assert.are.equal(0, code)
      assert.are.equal("false\t" .. NOT_KVM .. "\n", out)
      assert.matches('"boot_id": "' .. BOOT_ID:gsub("%-", "%%-") .. '"', H.slurp(run .. "/qlua/kvm.json"))
    end
  end)

  it("keeps the cache in $XDG_CACHE_HOME/qlua without $XDG_RUNTIME_DIR, else in ~/.cache/qlua", function()
    local cache, home = H.tmpdir(), H.tmpdir()
    qlua_env({ QLUA_KVM_DEVICE = "/dev/null", XDG_CACHE_HOME = cache }, "-e", PRINT)
    assert.are.same({ "qlua/kvm.json" }, files(cache))
    qlua_env({ QLUA_KVM_DEVICE = "/dev/null", HOME = home }, "-e", PRINT)
    assert.are.same({ ".cache/qlua/kvm.json" }, files(home))
  end)

  it("probes a real /dev/kvm by running a vCPU to hlt", function()
    if not lfs.attributes("/dev/kvm") then
      pending("no /dev/kvm on this machine: the probe of a real KVM cannot run here")
      return
    end
    local run = H.tmpdir()
    local code, out, err = qlua_env({ XDG_RUNTIME_DIR = run }, "-e", PRINT)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local ok, why = out:match("^(%a+)\t(.*)\n$")
    if ok == "true" then
      assert.are.equal("a test vCPU ran to hlt under KVM_RUN", why)
    else
      -- a KVM that does not run guests: the probe says where it stopped
      assert.matches("^KVM_", why)
    end
  end)
end)

describe("recipes' accel = 'auto'", function()
  it("is tcg, and says why on stderr, without a KVM device", function()
    if lfs.attributes("/dev/kvm") then
      pending("this machine has a /dev/kvm")
      return
    end
    local code, out, err = qlua_env({}, "-n", auto_script())
    assert.are.equal("qlua: accel 'auto' is tcg: cannot open /dev/kvm (No such file or directory)\n", err)
    assert.are.equal(0, code)
    assert.are.equal("qemu-system-x86_64 \\\n  -machine q35 \\\n  -accel tcg \\\n  -display none \\\n"
      .. "  -serial stdio\n", out)
  end)

  it("is tcg when /dev/kvm opens read-write but is not KVM (a null device as /dev/kvm, in a mount namespace)", function()
    if io.popen("id -u"):read("l") ~= "0" or os.execute("command -v unshare >/dev/null") ~= true then
      pending("needs root and unshare(1) for a mount namespace")
      return
    end
    local script = auto_script()
    local inner = table.concat({
      "mount -t tmpfs qlua-dev /dev",
      "mknod -m 666 /dev/null c 1 3",
      "mknod -m 666 /dev/kvm c 1 3",   -- opens read-write, like the broken hosts' device
      "exec env -u XDG_RUNTIME_DIR -u XDG_CACHE_HOME -u QLUA_KVM_DEVICE HOME=/nonexistent "
        .. H.qlua_cmd .. " -n " .. H.q(script),
    }, " && ")
    local code, out, err = H.sh("timeout -s KILL 60 unshare -m --propagation private sh -c " .. H.q(inner)
      .. " </dev/null")
    assert.are.equal("qlua: accel 'auto' is tcg: /dev/kvm is not KVM: KVM_GET_API_VERSION failed "
      .. "(Inappropriate ioctl for device)\n", err)
    assert.are.equal(0, code)
    assert.matches("\n  %-accel tcg \\\n", out)
  end)

  it("says it once per run, however many recipes ask", function()
    local script = H.script([[
local recipes = require "qemu.recipes"
local a = recipes.q35 { accel = "auto" }
local b = recipes.pc { accel = "auto" }
assert(a.machine.accel == b.machine.accel)
return recipes.microvm { accel = "auto", tsc_early_khz = false }
]], "vm.lua")
    local code, _, err = qlua_env({ QLUA_KVM_DEVICE = "/dev/null" }, "-n", script)
    assert.are.equal(0, code)
    assert.are.equal("qlua: accel 'auto' is tcg: " .. NOT_KVM .. "\n", err)
  end)

  it("in a dry run (-n, --json) probes the same way but creates no file", function()
    local run, cache, home = H.tmpdir(), H.tmpdir(), H.tmpdir()
    for _, opt in ipairs({ "-n", "--json" }) do
      local code, _, err = qlua_env({ QLUA_KVM_DEVICE = "/dev/null", XDG_RUNTIME_DIR = run,
                                      XDG_CACHE_HOME = cache, HOME = home }, opt, auto_script())
      assert.are.equal("qlua: accel 'auto' is tcg: " .. NOT_KVM .. "\n", err)
      assert.are.equal(0, code)
    end
    assert.are.same({}, files(run))
    assert.are.same({}, files(cache))
    assert.are.same({}, files(home))
  end)
end)
