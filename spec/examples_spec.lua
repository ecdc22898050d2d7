-- spec/examples_spec.lua - every script in examples/ runs as the README
-- says: each with -n (the matrix with --list), and each for real, booting
-- the test guest (build/guest; the TAP example in a network namespace this
-- spec creates and deletes).  And README.md's own examples, as printed (at
-- the end of this file).  The examples run from another directory than
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
  ["matrix.lua"] = true, ["tap.lua"] = true, ["agent.lua"] = true,
  -- the Debian image's: -n and --list here, their boots in spec/distro_spec.lua and
  -- spec/distro_matrix_spec.lua
  ["debian.lua"] = true, ["distro-matrix.lua"] = true,
  -- needs the installer ISO and minutes of booting: its tests are in
  -- spec/distro_iso_spec.lua (make check-distro)
  ["installer.lua"] = true,
}

local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

-- Every path under d (d itself is "."), sorted: a dry run leaves it as it was.
local function listing(d)
  local _, out = H.sh("cd " .. q(d) .. " && find . | sort")
  return out
end

-- Runs qlua ARGS... (example paths relative to examples/) from a fresh
-- directory, with QLUA_EXAMPLE_DIR and TMPDIR set to it; `wrap` goes before qlua (ip
-- netns exec NS).  Returns code, stdout, stderr, the directory and its
-- listing before the run (see listing).
local function example(S, wrap, ...)
  local d = S:tmpdir()
  local before = listing(d)
  local words = {}
  for i, a in ipairs({ ... }) do
    words[i] = q(a:match("%.lua$") and not a:match("^/") and EXAMPLES .. a or a)
  end
  local code, out, err = H.sh(("cd %s && QLUA_EXAMPLE_DIR=%s TMPDIR=%s timeout 150 %s %s %s </dev/null"):format(
    q(d), q(d), q(d), wrap or "", H.qlua_cmd, table.concat(words, " ")))
  return code, out or "", err or "", d, before
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

    it("hello.lua -n: a direct kernel boot with the tree's disk and a 9p share made at launch", function()
      local S = G.scope(finally)
      local code, out, err, d, before = example(S, nil, "-n", "hello.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal("", err)
      local first = "mkdir -p " .. d .. "/share\nqemu-system-"
      assert.are.equal(first, out:sub(1, #first))
      for _, want in ipairs({ "-kernel " .. G.kernel, "-initrd " .. G.initrd, "virtio-9p-pci",
                              "-drive id=disk0,file=" .. EXAMPLES .. "disks/hello.img,format=raw,if=none,readonly=on",
                              "virtio-blk-pci,drive=disk0", "qlua.9p=share qlua.blk=/dev/vda" }) do
        assert.truthy(has(out, want), "missing " .. want .. "\n" .. out)
      end
      assert.are.equal(before, listing(d), "the dry run made files")
    end)

    it("overlay-share.lua -n: recipes, an overlay (made by the commands printed first) and a 9p share", function()
      local S = G.scope(finally)
      local code, out, err, d, before = example(S, nil, "-n", "overlay-share.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal("", err)
      local overlay = out:match("file=([^,]*%.overlay%.qcow2),format=qcow2")
      assert.truthy(overlay, out)
      assert.are.equal(d .. "/qlua-run.", overlay:sub(1, #d + 10))   -- in $TMPDIR
      local run = overlay:match("^(.*)/")
      local first = "mkdir -m 0700 " .. run .. "\nqemu-img create -q -f qcow2 -b " .. EXAMPLES ..
        "disks/base.img -F raw " .. overlay .. "\nmkdir -p " .. d .. "/share\nqemu-system-"
      assert.are.equal(first, out:sub(1, #first))
      assert.are.equal(before, listing(d), "the dry run made files")
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
      local code, out, err, d, before = example(S, nil, "matrix.lua", "--list")
      assert.are.equal(0, code, ctx(code, out, err))
      local names = {}
      for name in out:gmatch('"name":"([^"]*)"') do names[#names + 1] = name end
      assert.are.same({ "machine=q35,smp=1", "machine=q35,smp=2", "machine=pc,smp=1",
                        "machine=pc,smp=2", "machine=microvm,smp=1" }, names)
      assert.are.equal(before, listing(d), "--list made files")
    end)

    it("distro-matrix.lua --list: firmware x disk bus, and nothing runs", function()
      local S = G.scope(finally)
      local code, out, err, d = example(S, nil, "distro-matrix.lua", "--list")
      assert.are.equal(0, code, ctx(code, out, err))
      local names = {}
      for name in out:gmatch('"name":"([^"]*)"') do names[#names + 1] = name end
      assert.are.same({ "disk_bus=virtio-blk,firmware=bios", "disk_bus=virtio-blk,firmware=uefi",
                        "disk_bus=virtio-scsi,firmware=bios", "disk_bus=virtio-scsi,firmware=uefi",
                        "disk_bus=nvme,firmware=bios", "disk_bus=nvme,firmware=uefi" }, names)
      assert.is_nil(io.open(d .. "/qlua-runs"), "--list made run directories")
    end)

    it("debian.lua -n: the Debian image booted by SeaBIOS from an overlay, the seed, ssh forwarded", function()
      -- a dry run never reads the image, and the recipe only asks that it
      -- exists: without the built one (make check builds it while the specs
      -- before spec/distro_spec.lua run), an empty stand-in
      local image = H.root .. "/build/distro/debian-12.qcow2"
      local f = io.open(image)
      if f then
        f:close()
      else
        image = os.tmpname()
        finally(function() os.remove(image) end)
      end
      local S = G.scope(finally)
      local code, out, err, d = example(S, "env QLUA_DISTRO_IMAGE=" .. q(image), "-n", "debian.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(has(err, "debian.lua:15: dry run: the script stops at qemu.launch"), err)
      assert.truthy(has(out, "qemu-img create -q -f qcow2 -b " .. image .. " -F qcow2 " .. d .. "/qlua-run."), out)
      assert.truthy(has(out, "-device virtio-blk-pci,drive=root,serial=root,bootindex=0"), out)
      assert.truthy(has(out, "hostfwd=tcp:127.0.0.1:0-:22"), out)
      assert.is_nil(out:find("pflash", 1, true), out)
      -- the firmware is the script's argument
      code, out, err = example(S, "env QLUA_DISTRO_IMAGE=" .. q(image), "-n", "debian.lua", "uefi")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(has(out, "-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"), out)
      assert.truthy(has(out, 'hostname: "qlua-uefi"'), out)
      local p = assert(io.popen("ls -A " .. q(d)))
      assert.are.equal("", p:read("a"), "the dry runs made files")
      p:close()
    end)

    it("tap.lua -n, in a namespace: two queues qlua opened, multiqueue virtio-net", function()
      local S = G.scope(finally)
      local ns = S:netns()
      local code, out, err = example(S, "ip netns exec " .. ns, "-n", "tap.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(out:match("^ip addr add 10%.0%.2%.2/24 dev qt0\nip link set qt0 up\n" ..
                              "# fd 3: tap qt0 queue 1\n# fd 4: tap qt0 queue 2\n"), out)
      -- printed, not run: the namespace has no address
      local _, addrs = H.sh("ip netns exec " .. ns .. " ip -o addr show")
      assert.is_nil(addrs:find("10.0.2.2", 1, true), addrs)
      assert.truthy(has(out, "-netdev tap,id=net0,fds=3:4"), out)
      assert.truthy(has(out, "mq=on,vectors=6"), out)
      assert.truthy(has(out, "-smp 2"), out)
    end)

    -- (a namespace with nothing but lo is one tap.lua takes as made for it)
    local lo_only = (function()
      local names = {}
      for line in io.lines("/proc/net/dev") do names[#names + 1] = line:match("^%s*([^%s:]+):") end
      return #names == 1 and names[1] == "lo"
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
      -- the tree's base image, opened read-only behind the overlay, is as it was
      local base = assert(H.slurp(EXAMPLES .. "disks/base.img"))
      assert.are.equal(8192, #base)
      assert.are.equal("hello from base.img, through a qcow2 overlay\n", base:match("^[^\n]*\n"))
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

    it("agent.lua: runs commands in the guest through the guest agent, then shuts it down", function()
      local S = G.scope(finally)
      local code, out, err = example(S, nil, "agent.lua")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.truthy(has(out, "agent: cat gave back 'data', status 0\n"), out)
      assert.truthy(has(out, "agent: /etc/motd holds 'hello\\n'\n"), out)
      assert.truthy(has(out, "agent: the guest powered off; QEMU exited with code 0\n"), out)
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

-- ---- README.md, as printed -------------------------------------------------------
--
-- Every ```lua block of README.md is a script (its first line `-- NAME.lua
-- ...`) or an excerpt (`-- from examples/NAME.lua`).  The scripts are
-- written, as printed, into a directory that holds this tree's qlua, build/
-- and examples/ (the README's commands run in the top of the tree); the
-- ```sh block right after a script runs there with sh -e; and every
-- transcript (a ``` block of `$ ` lines, each followed by what it prints)
-- runs there line by line, in README order, its output compared with what
-- the README shows: digits may differ (times, pids), a line `...` stands for
-- any lines, and a run of a matrix's result lines (pass ...) may come in any
-- order.  Examples' files go to a fresh QLUA_EXAMPLE_DIR, shown in the
-- README as /tmp/qlua-NAME (the examples' default), and the directory
-- they run in, where a path names it (recipes.disk makes its base
-- absolute), as a reader's checkout: /home/you/qlua.

local RM = require "support.readme"
local README = RM.README
local readme_blocks, matches = RM.blocks, RM.matches

local function script_name(block)
  return block.lang == "lua" and block.lines[1]:match("^%-%- ([%w_%-]+%.lua)%f[%s%z]")
end

local function excerpt_of(block)
  return block.lang == "lua" and block.lines[1]:match("^%-%- from (examples/[%w_%-]+%.lua)$")
end

-- A line of Lua without its trailing comment and surrounding blanks.
local function code_of(line)
  return (line:gsub("%s+%-%-%s.*$", ""):match("^%s*(.-)%s*$"))
end

describe("README.md", function()
  local blocks = readme_blocks()

  it("every ```lua block is a script (-- NAME.lua) or an excerpt (-- from examples/NAME.lua) of that file", function()
    local n = 0
    for _, b in ipairs(blocks) do
      if b.lang == "lua" then
        n = n + 1
        local from = excerpt_of(b)
        assert.truthy(script_name(b) or from, ("README.md:%d: a ```lua block that is neither a script " ..
          "(-- NAME.lua ...) nor an excerpt (-- from examples/NAME.lua)"):format(b.line))
        if from then
          local file = {}
          for line in io.lines(H.root .. "/" .. from) do file[#file + 1] = code_of(line) end
          local pos = 0
          for i = 2, #b.lines do
            local want = code_of(b.lines[i])
            local found
            for k = pos + 1, #file do
              if file[k] == want then found = k break end
            end
            assert.truthy(found, ("README.md:%d: %s has no line '%s' (after its line %d)")
              :format(b.line + i, from, want, pos))
            pos = found
          end
        end
      end
    end
    assert.is_true(n >= 6)
  end)

  describe("run as printed #guest", function()
    if not have_guest then
      pending("build/guest is missing: run `make guest` (make check builds it first)")
      return
    end
    local box   -- the directory they run in, made by the first test
    local function sandbox()
      if not box then
        box = H.tmpdir()
        assert(os.execute(("ln -s %s %s/qlua && ln -s %s/build %s/build && ln -s %s/examples %s/examples && mkdir %s/tmp")
          :format(q(H.qlua_bin), q(box), q(H.root), q(box), q(H.root), q(box), q(box))))
      end
      return box
    end
    local runs = 0
    local function run(cmd)
      runs = runs + 1
      local d = sandbox()
      local ex = ("%s/example-%d"):format(d, runs)
      local code, out = H.sh(("cd %s && QLUA_EXAMPLE_DIR=%s TMPDIR=%s/tmp timeout 300 sh -ec %s 2>&1 </dev/null")
        :format(q(d), q(ex), q(d), q(cmd)))
      out = out:gsub("\r", "")
      local name = cmd:match("examples/([%w_%-]+)%.lua")
      if name then out = out:gsub(ex:gsub("%p", "%%%0"), "/tmp/qlua-" .. name) end
      out = out:gsub((d .. "/tmp/"):gsub("%p", "%%%0"), "/tmp/")   -- $TMPDIR as a reader's
      out = out:gsub(d:gsub("%p", "%%%0") .. "/", "/home/you/qlua/")  -- the top of the tree
      return code, out
    end

    local commands = 0
    for k, b in ipairs(blocks) do
      local script = script_name(b)
      if script then
        local after = blocks[k + 1]
        local runs_it = after and after.lang == "sh"
        it(("README.md:%d: %s%s"):format(b.line, script, runs_it and ", and the sh block after it" or ""), function()
          H.write(sandbox() .. "/" .. script, table.concat(b.lines, "\n") .. "\n")
          if runs_it then
            local code, out = run(table.concat(after.lines, "\n"))
            assert.are.equal(0, code, ("README.md:%d:\n%s"):format(after.line, out))
          end
        end)
      elseif RM.steps(b) then
        -- a transcript: $ lines, each followed by its output
        local elsewhere = RM.run_elsewhere(b)
        for _, step in ipairs(RM.steps(b)) do
          commands = commands + (step.cmd:match("^%./qlua ") and 1 or 0)
          if elsewhere then
            -- a Debian boot: minutes; that spec runs it beside the others
            pending(("README.md:%d: $ %s: run as printed by %s"):format(step.line, step.cmd, elsewhere))
          else
            it(("README.md:%d: $ %s"):format(step.line, step.cmd), function()
              local code, out = run(step.cmd)
              assert.are.equal(0, code, out)
              local actual = {}
              for line in out:gmatch("([^\n]*)\n") do actual[#actual + 1] = line end
              assert.is_true(matches(step.out, actual), ("README.md:%d shows:\n%s\n--- but it printed:\n%s")
                :format(step.line, table.concat(step.out, "\n"), out))
            end)
          end
        end
      end
    end

    it("covered every $ ./qlua line of README.md", function()
      local n = 0
      for line in io.lines(README) do
        if line:match("^%$ %./qlua ") then n = n + 1 end
      end
      assert.are.equal(n, commands)
      assert.is_true(n >= 9)
    end)
  end)
end)
