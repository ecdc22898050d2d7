-- spec/examples_spec.lua - every script in examples/ runs as the README
-- says: each with -n (the matrix with --list), and each for real, booting
-- the test guest (build/guest; the TAP example in a network namespace this
-- spec creates and deletes).  The examples run from another directory than
-- the tree, with their files in a temporary QLUA_EXAMPLE_DIR, under a
-- timeout; boots take ~3 s each, the matrix ~12 s.
local H = require "helper"
local G = require "support.guest"

local q = H.q
local EXAMPLES = H.root .. "/examples/"

-- Every example and what it is: a test below for each.  A new example
-- without a test here fails the first test.
local KNOWN = {
  ["hello.lua"] = true, ["overlay-share.lua"] = true, ["hotplug.lua"] = true,
  ["matrix.lua"] = true, ["tap.lua"] = true,
}

local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

-- Runs qlua ARGS... (example paths relative to examples/) from a fresh
-- directory, with QLUA_EXAMPLE_DIR and TMPDIR set to it; `wrap` goes before qlua (ip
-- netns exec NS).  Returns code, stdout, stderr and the directory.
local function example(S, wrap, ...)
  local d = S:tmpdir()
  local words = {}
  for i, a in ipairs({ ... }) do
    words[i] = q(a:match("%.lua$") and not a:match("^/") and EXAMPLES .. a or a)
  end
  local code, out, err = H.sh(("cd %s && QLUA_EXAMPLE_DIR=%s TMPDIR=%s timeout 150 %s %s %s </dev/null"):format(
    q(d), q(d), q(d), wrap or "", H.qlua_cmd, table.concat(words, " ")))
  return code, out or "", err or "", d
end

local function ctx(code, out, err)
  return ("exit %s\n--- stdout ---\n%s\n--- stderr ---\n%s"):format(tostring(code), out, err)
end

local function has(text, plain)
  return text:find(plain, 1, true) ~= nil
end

describe("examples/", function()
  it("has a test here for every example", function()
    local p = assert(io.popen("ls " .. q(EXAMPLES)))
    local found = {}
    for name in p:lines() do
      if name:match("%.lua$") then
        found[#found + 1] = name
        assert.is_true(KNOWN[name] or false, "examples/" .. name .. " has no test in spec/examples_spec.lua")
      end
    end
    p:close()
    for name in pairs(KNOWN) do
      assert.truthy(io.open(EXAMPLES .. name), "examples/" .. name .. " is gone")
    end
  end)

  describe("dry runs", function()
    if not have_guest then
      pending("build/guest is missing: run `make guest` (make check builds it first)")
      return
    end

    it("hello.lua -n: a direct kernel boot with a disk and a 9p share", function()
      local S = G.scope(finally)
      local code, out, err = example(S, nil, "-n", "hello.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal("", err)
      assert.truthy(out:match("^qemu%-system%-"), out)
      for _, want in ipairs({ "-kernel " .. G.kernel, "-initrd " .. G.initrd, "virtio-9p-pci",
                              "virtio-blk-pci,drive=disk0", "qlua.9p=share qlua.blk=/dev/vda" }) do
        assert.truthy(has(out, want), "missing " .. want .. "\n" .. out)
      end
    end)

    it("overlay-share.lua -n: recipes, an overlay (made by the commands printed first) and a 9p share", function()
      local S = G.scope(finally)
      local code, out, err, d = example(S, nil, "-n", "overlay-share.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal("", err)
      local overlay = out:match("file=([^,]*%.overlay%.qcow2),format=qcow2")
      assert.truthy(overlay, out)
      assert.are.equal(d .. "/qlua-run.", overlay:sub(1, #d + 10))   -- in $TMPDIR
      local run = overlay:match("^(.*)/")
      local first = "mkdir -m 0700 " .. run .. "\nqemu-img create -q -f qcow2 -b " .. d .. "/base.img -F raw " ..
        overlay .. "\nqemu-system-"
      assert.are.equal(first, out:sub(1, #first))
      assert.is_nil(io.open(run), "a dry run made the overlay's directory: " .. run)
      assert.truthy(has(out, "-fsdev local,id=share,path=" .. d .. "/share,security_model=none"), out)
      assert.truthy(has(out, "console=ttyS0"), out)
    end)

    it("hotplug.lua -n and --json: qemu.launch prints instead of running, and the script stops", function()
      local S = G.scope(finally)
      local stop = "qlua: " .. EXAMPLES .. "hotplug.lua:29: dry run: the script stops at qemu.launch, " ..
        "which would run the command above (nothing was started)\n"
      local code, out, err, d = example(S, nil, "-n", "hotplug.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal(stop, err)
      assert.truthy(out:match("^# fd 3: qemu.launch's QMP channel\n# fd 4: qemu.launch's console\nqemu%-system%-"), out)
      assert.truthy(has(out, "-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1"), out)
      assert.truthy(has(out, "qlua.blk=/dev/vda qlua.wait"), out)
      assert.is_nil(out:find("hotplug:", 1, true), "the script ran the VM:\n" .. out)
      local p = assert(io.popen("ls -A " .. q(d)))
      assert.are.equal("", p:read("a"), "the dry run made files")
      p:close()
      code, out, err = example(S, nil, "--json", "hotplug.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal(stop, err)
      assert.truthy(out:match('^{%s*"argv"'), out)
    end)

    it("matrix.lua --list: its cells as JSON lines, and nothing runs", function()
      local S = G.scope(finally)
      local code, out, err, d = example(S, nil, "matrix.lua", "--list")
      assert.are.equal(0, code, ctx(code, out, err))
      local names = {}
      for name in out:gmatch('"name":"([^"]*)"') do names[#names + 1] = name end
      assert.are.same({ "machine=q35,smp=1", "machine=q35,smp=2", "machine=pc,smp=1",
                        "machine=pc,smp=2", "machine=microvm,smp=1" }, names)
      assert.is_nil(io.open(d .. "/qlua-runs"), "--list made run directories")
    end)

    it("tap.lua -n, in a namespace: two queues qlua opened, multiqueue virtio-net", function()
      local S = G.scope(finally)
      local ns = S:netns()
      local code, out, err = example(S, "ip netns exec " .. ns, "-n", "tap.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(out:match("^# fd 3: tap qt0 queue 1\n# fd 4: tap qt0 queue 2\n"), out)
      assert.truthy(has(out, "-netdev tap,id=net0,fds=3:4"), out)
      assert.truthy(has(out, "mq=on,vectors=6"), out)
      assert.truthy(has(out, "-smp 2"), out)
    end)

    -- (a namespace with nothing but lo is one tap.lua takes as made for it)
    local lo_only = (function()
      local p = io.popen("ip -o link show 2>/dev/null")
      local links = p:read("a")
      p:close()
      return links:match("^%d+: lo:[^\n]*\n$") ~= nil
    end)()
    local it_host = lo_only and pending or it
    it_host("tap.lua refuses to change the network of a namespace not made for it", function()
      local S = G.scope(finally)
      local code, out, err = example(S, nil, "-n", "tap.lua")
      assert.are.equal(2, code, ctx(code, out, err))
      assert.are.equal("", out)
      assert.truthy(has(err, "ip netns add qlua-x; ip netns exec qlua-x ./qlua examples/tap.lua"), err)
    end)
  end)

  describe("for real (the test guest under TCG) #guest", function()
    if not have_guest then
      pending("build/guest is missing: run `make guest` (make check builds it first)")
      return
    end

    it("hello.lua: boots, reads its disk, writes into its share, exits 0", function()
      local S = G.scope(finally)
      local code, out, err, d = example(S, nil, "hello.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(has(out, "QLUA-GUEST-READY"), out)
      assert.truthy(has(out, "QLUA-9P-OK"), out)
      assert.truthy(out:match("QLUA%-BLK%-OK hello from a virtio%-blk disk\r?\n"), out)
      assert.truthy(has(out, "QLUA-GUEST-DONE"), out)
      assert.are.equal(G.version .. "\n", H.slurp(d .. "/share/guest-was-here"))
    end)

    it("overlay-share.lua: reads base.img through the overlay, writes into the share", function()
      local S = G.scope(finally)
      local code, out, err, d = example(S, nil, "overlay-share.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(out:match("QLUA%-BLK%-OK hello from base%.img, through a qcow2 overlay\r?\n"), out)
      assert.truthy(has(out, "QLUA-9P-OK"), out)
      assert.truthy(has(out, "QLUA-GUEST-DONE"), out)
      assert.are.equal(G.version .. "\n", H.slurp(d .. "/share/guest-was-here"))
      local base = assert(H.slurp(d .. "/base.img"))
      assert.are.equal(1024 * 1024, #base)
      -- the overlay's run directory (in $TMPDIR) is gone with qlua
      local p = assert(io.popen("ls -d " .. q(d) .. "/qlua-run.* 2>/dev/null"))
      local left = p:read("a")
      p:close()
      assert.are.equal("", left)
    end)

    it("hotplug.lua: plugs a disk in over QMP, the guest reads it, unplugs it, powers off", function()
      local S = G.scope(finally)
      local code, out, err = example(S, nil, "hotplug.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(has(out, "hotplug: the guest read: hello from a hotplugged disk\n"), out)
      assert.truthy(has(out, "hotplug: unplugged"), out)
      assert.truthy(has(out, "hotplug: the guest powered off; QEMU exited with code 0\n"), out)
    end)

    it("matrix.lua -j 2: every cell passes; TAP and JUnit say so", function()
      local S = G.scope(finally)
      local d0 = S:tmpdir()
      local code, out, err = example(S, nil, "matrix.lua", "-j", "2", "--tap", "--junit", d0 .. "/boot.xml",
        "--out", d0 .. "/runs")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(out:match("^TAP version 13\n1%.%.5\n"), out)
      local oks = 0
      for _ in out:gmatch("\nok %d+ %- machine=") do oks = oks + 1 end
      assert.are.equal(5, oks, out)
      assert.is_nil(out:find("not ok", 1, true), out)
      local xml = assert(H.slurp(d0 .. "/boot.xml"), "no JUnit file")
      assert.truthy(xml:find('tests="5"', 1, true), xml)
      assert.truthy(xml:find('failures="0"', 1, true), xml)
      assert.are.equal("pass\n", H.slurp(d0 .. "/runs/machine=microvm,smp=1/result"))
    end)

    it("tap.lua, in a namespace: the guest pings the tap's host side over 2 queues", function()
      local S = G.scope(finally)
      local ns = S:netns()
      local code, out, err = example(S, "ip netns exec " .. ns, "tap.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(has(out, "QLUA-NET-OK"), out)
      assert.truthy(has(out, "QLUA-GUEST-DONE"), out)
    end)
  end)
end)
