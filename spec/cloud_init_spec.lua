-- spec/cloud_init_spec.lua - qemu.recipes.cloud_init (lua/qemu/cloud_init.lua):
-- the YAML it writes read back by a real YAML reader (PyYAML, what
-- cloud-init uses), the seed really built at launch and inspected with
-- xorriso and blkid (label cidata, the files' exact texts), a dry run that
-- prints the steps and makes nothing, those printed steps run by sh, the
-- real QEMU opening the seed, and the recipe's errors.
local H = require "helper"
local qemu = require "qemu"
local recipes = require "qemu.recipes"
local CI = require "qemu.cloud_init"

local q = H.q

local function python(code, arg)
  local c, out, err = H.sh("python3 -c " .. q("import sys, json, yaml\n" .. code) .. " " .. q(arg))
  assert(c == 0, err)
  return (out:gsub("\n$", ""))
end

-- YAML text -> PyYAML (what cloud-init reads it with) -> canonical JSON text
local function via_pyyaml_text(text)
  return python("print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sort_keys=True, " ..
    "ensure_ascii=False))", H.write(H.tmpdir() .. "/y.yaml", text))
end

local function via_pyyaml(v)
  return via_pyyaml_text(CI.yaml(v))
end

local function iso_file(iso, name)
  local d = H.tmpdir()
  local code, _, err = H.sh("xorriso -osirrox on -indev " .. q(iso) .. " -extract /" .. name .. " " .. q(d .. "/" .. name))
  assert(code == 0, err)
  return H.slurp(d .. "/" .. name)
end

local function iso_names(iso)
  local _, out = H.sh("xorriso -indev " .. q(iso) .. " -lsl / 2>/dev/null")
  local t = {}
  for name in out:gmatch("'([^'\n]+)'\n") do t[#t + 1] = name end
  table.sort(t)
  return t
end

local function base(t)
  t = t or {}
  return qemu.merge({ path = H.qemu_bin, machine = { type = "q35", accel = "tcg" },
    knobs = { no_defaults = true, stopped = true } }, recipes.cloud_init(t))
end

describe("the YAML writer", function()
  it("writes what PyYAML reads back as the same values", function()
    assert.are.equal('{"a": "x", "b": [1, 2.5, true, false], "c": {"d": []}}',
      via_pyyaml { a = "x", b = { 1, 2.5, true, false }, c = { d = {} } })
    -- strings YAML would read as something else, or that hold its syntax
    local tricky = { "yes", "no", "on", "off", "null", "~", "1", "0x10", "1e3", "- x", "a: b", "#c", "&a",
      "*a", "!t", "%p", "@", "`", "'q'", '"d"', "back\\slash", "tab\there", "line\nbreak\r\n", "",
      " lead", "trail ", "\1\127\194\133", "é ☃ 😀", "\u{2028}\u{feff}" }
    -- the same strings as Python reads them from raw bytes, NUL-separated
    local raw = H.write(H.tmpdir() .. "/raw", table.concat(tricky, "\0"))
    local expect = python("print(json.dumps({'list': open(sys.argv[1], 'rb').read().decode('utf-8').split('\\0')}, " ..
      "sort_keys=True, ensure_ascii=False))", raw)
    assert.are.equal(#tricky, select(2, expect:gsub('", ', "")) + 1)
    assert.are.equal(expect, via_pyyaml { list = tricky })
  end)

  it("quotes keys that would not read as strings, sorts them, nests lists in lists", function()
    assert.are.equal('a-b_c: 2\n"on": true\n"with space": 3\n"yes": 1\n', CI.yaml { on = true, yes = 1, ["a-b_c"] = 2, ["with space"] = 3 })
    assert.are.equal("runcmd:\n  - \"ls\"\n  - - \"touch\"\n    - \"/x y\"\n  - a: 1\n    b:\n      - 2\n",
      CI.yaml { runcmd = { "ls", { "touch", "/x y" }, { a = 1, b = { 2 } } } })
    assert.are.equal('{"on": true, "runcmd": ["ls", ["touch", "/x y"], {"a": 1, "b": [2]}], "yes": 1}',
      via_pyyaml { on = true, yes = 1, runcmd = { "ls", { "touch", "/x y" }, { a = 1, b = { 2 } } } })
  end)

  it("refuses what has no YAML form, naming where", function()
    local function err(v)
      local ok, e = pcall(CI.yaml, v, "user_data")
      assert.is_false(ok)
      return (e:gsub("^[^:]*:%d+: ", ""))
    end
    assert.are.equal("value at 'user_data.a[2]': a function cannot be written as YAML", err { a = { 1, print } })
    assert.are.equal("value at 'user_data.x': a table with both list items and named keys, or keys that " ..
      "are not strings", err { x = { 1, k = 2 } })
    assert.are.equal("value at 'user_data.n': a number that is not finite", err { n = 1 / 0 })
    assert.are.equal("value at 'user_data.s': a string that is not UTF-8 text", err { s = "\255" })
    local loop = {}
    loop.me = loop
    assert.are.equal("value at 'user_data.me': a table that contains itself", err(loop))
  end)
end)

describe("recipes.cloud_init", function()
  it("is a read-only raw virtio disk 'cidata', the prepare steps, and the ssh section", function()
    local d = recipes.cloud_init { hostname = "box", instance_id = "iid-1" }
    local dir = d.prepare[1].argv[4]
    assert.matches("^/tmp/qlua%-run%.%x+$", dir)
    assert.are.same({ "mkdir", "-m", "0700", dir }, d.prepare[1].argv)
    assert.are.equal(dir, d.prepare[1].remove)
    assert.are.same({ "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "qlua", "-f", dir .. "/id_ed25519" },
      d.prepare[2].argv)
    local sh = d.prepare[3].argv
    assert.are.same({ "sh", "-c" }, { sh[1], sh[2] })
    assert.are.same({ "sh", dir .. "/cidata", dir .. "/cidata.iso",
      '#cloud-config\ndisable_root: false\nhostname: "box"\n',
      'instance-id: "iid-1"\nlocal-hostname: "box"\npublic-keys:\n', "", dir .. "/id_ed25519.pub" },
      { table.unpack(sh, 4) })
    assert.are.same({ user = "root", key = dir .. "/id_ed25519", guest_port = 22 }, d.ssh)
    local argv = qemu.argv(base { instance_id = "iid-1" })
    local t = table.concat(argv, " ")
    assert.matches("-drive id=cidata,file=/tmp/qlua%-run%.%x+/cidata%.iso,format=raw,if=none,readonly=on " ..
      "%-device virtio%-blk%-pci,drive=cidata,serial=cidata", t)
  end)

  it("merges hostname, ssh_authorized_keys and run_cmd into a table user_data", function()
    local d = recipes.cloud_init { hostname = "h1", ssh_key = false, instance_id = "i",
      user_data = { packages = { "curl" }, ssh_authorized_keys = { "ssh-ed25519 AAAA one" }, runcmd = { "a" } },
      ssh_authorized_keys = "ssh-ed25519 AAAA two", run_cmd = { "b", { "touch", "/c d" } },
      meta_data = { ["public-keys"] = { "k1" }, zone = "z" } }
    local sh = d.prepare[#d.prepare].argv
    assert.are.equal('#cloud-config\nhostname: "h1"\npackages:\n  - "curl"\nruncmd:\n  - "a"\n  - "b"\n' ..
      '  - - "touch"\n    - "/c d"\nssh_authorized_keys:\n  - "ssh-ed25519 AAAA one"\n  - "ssh-ed25519 AAAA two"\n',
      sh[7])
    assert.are.equal('instance-id: "i"\nlocal-hostname: "h1"\nzone: "z"\npublic-keys:\n  - "k1"\n', sh[8])
    assert.are.equal("", sh[10])   -- no key file: nothing appended at launch
    assert.is_nil(d.ssh)
    assert.are.equal(2, #d.prepare)
    -- a string user_data goes as is; network_config as is or as YAML
    d = recipes.cloud_init { user_data = "#!/bin/sh\necho hi\n", network_config = { version = 2 }, user = "debian",
      instance_id = "i" }
    sh = d.prepare[#d.prepare].argv
    assert.are.equal("#!/bin/sh\necho hi\n", sh[7])
    assert.are.equal("version: 2\n", sh[9])
    assert.are.equal("debian", d.ssh.user)
  end)

  it("errors name the caller's line and the option", function()
    local function err(src)
      local f = assert(load(src, "=vm.lua", "t", setmetatable({ recipes = recipes }, { __index = _G })))
      local ok, e = pcall(f)
      assert.is_false(ok)
      return e
    end
    assert.are.equal("vm.lua:2: recipes.cloud_init: unknown field 'hostnme' (did you mean 'hostname'?)",
      err("local x\nlocal d = recipes.cloud_init { hostnme = 'a' }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: field 'hostname': invalid hostname 'a b' (letters, digits, " ..
      "'-' and '.')", err("local d = recipes.cloud_init { hostname = 'a b' }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: field 'run_cmd' needs 'user_data' to be a table (a string " ..
      "is written as is)", err("local d = recipes.cloud_init { user_data = '#cloud-config', run_cmd = 'ls' }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: field 'user_data': value at 'user_data.write_files[1]': " ..
      "a function cannot be written as YAML", err("local d = recipes.cloud_init { user_data = { write_files = { print } } }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: field 'user_data': string or table expected, got number",
      err("local d = recipes.cloud_init { user_data = 1 }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: field 'run_cmd': string or list of commands expected, got table",
      err("local d = recipes.cloud_init { run_cmd = { { 1 } } }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: field 'hostname' ('a') differs from user_data.hostname ('b')",
      err("local d = recipes.cloud_init { hostname = 'a', user_data = { hostname = 'b' } }"))
    assert.are.equal("vm.lua:1: recipes.cloud_init: give the instance id once: field 'instance_id' or " ..
      "meta_data['instance-id']", err("local d = recipes.cloud_init { instance_id = 'a', meta_data = { ['instance-id'] = 'b' } }"))
  end)

  it("builds the seed at launch: label cidata, the exact files, the key in meta-data", function()
    local vm <close> = qemu.launch(base { hostname = "box", instance_id = "iid-7",
      user_data = { packages = { "curl" } }, network_config = "version: 2\n" }, { stderr = "capture" })
    local iso = vm.description.devices[1].file
    local dir = iso:match("^(.*)/")
    local key = vm.description.ssh.key
    assert.are.equal(dir .. "/id_ed25519", key)
    local pub = H.slurp(key .. ".pub"):gsub("\n$", "")
    assert.matches("^ssh%-ed25519 [%w+/=]+ qlua$", pub)
    -- what cloud-init's NoCloud looks for: an iso9660 filesystem labelled cidata
    local _, out = H.sh("blkid -o export " .. q(iso))
    assert.matches("\nLABEL=cidata\n", "\n" .. out)
    assert.matches("\nTYPE=iso9660\n", "\n" .. out)
    assert.are.same({ "meta-data", "network-config", "user-data" }, iso_names(iso))
    assert.are.equal('#cloud-config\ndisable_root: false\nhostname: "box"\npackages:\n  - "curl"\n',
      iso_file(iso, "user-data"))
    assert.are.equal('instance-id: "iid-7"\nlocal-hostname: "box"\npublic-keys:\n  - "' .. pub .. '"\n',
      iso_file(iso, "meta-data"))
    assert.are.equal("version: 2\n", iso_file(iso, "network-config"))
    assert.are.equal('{"instance-id": "iid-7", "local-hostname": "box", "public-keys": ["' .. pub .. '"]}',
      via_pyyaml_text(iso_file(iso, "meta-data")))
    -- the real QEMU has it open, read-only
    local blocks = assert(vm.qmp:execute("query-block"))
    local found
    for _, b in ipairs(blocks) do
      if b.device == "cidata" then found = b end
    end
    assert.is_truthy(found)
    assert.is_true(found.inserted.ro)
    assert.are.equal(iso, found.inserted.file)
  end)

  it("a dry run prints the steps and makes nothing; sh runs them as printed", function()
    local dir = H.tmpdir() .. "/run dir"
    local script = H.script(([[
local recipes = require "qemu.recipes"
return qemu.merge({ path = "true", machine = { type = "q35" } },
  recipes.cloud_init { dir = %q, hostname = "h", instance_id = "i", user_data = { write_files = {
    { path = "/etc/x", content = "it's \"q\"\n$HOME `x`\n" } } }, network_config = { version = 2 } })
]]):format(dir))
    local code, out, err = H.qlua("-n", script)
    assert.are.equal(0, code, err)
    assert.is_nil(io.open(dir))   -- nothing made
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal("mkdir -p " .. q(dir), lines[1])
    assert.are.equal("rm -f " .. q(dir .. "/id_ed25519") .. " " .. q(dir .. "/id_ed25519.pub"), lines[2])
    assert.are.equal("ssh-keygen -q -t ed25519 -N '' -C qlua -f " .. q(dir .. "/id_ed25519"), lines[3])
    assert.are.equal("sh -c 'set -eu", lines[4])
    -- run it all (the "QEMU" is true): twice, as a given dir may hold an older key
    for _ = 1, 2 do
      code, _, err = H.sh("sh " .. q(H.write(H.tmpdir() .. "/dry.sh", out)))
      assert.are.equal(0, code, err)
    end
    local iso = dir .. "/cidata.iso"
    assert.are.same({ "meta-data", "network-config", "user-data" }, iso_names(iso))
    assert.are.equal('#cloud-config\ndisable_root: false\nhostname: "h"\nwrite_files:\n  - content: "it\'s \\"q\\"\\n$HOME `x`\\n"\n' ..
      '    path: "/etc/x"\n', iso_file(iso, "user-data"))
    assert.are.equal('{"disable_root": false, "hostname": "h", "write_files": [{"content": "it\'s \\"q\\"\\n$HOME `x`\\n", ' ..
      '"path": "/etc/x"}]}', via_pyyaml_text(iso_file(iso, "user-data")))
    local pub = H.slurp(dir .. "/id_ed25519.pub"):gsub("\n$", "")
    assert.are.equal('instance-id: "i"\nlocal-hostname: "h"\npublic-keys:\n  - "' .. pub .. '"\n',
      iso_file(iso, "meta-data"))
  end)

  it("a launch whose seed cannot be made fails naming the step, and starts nothing", function()
    local ok, e = pcall(qemu.launch, base { dir = "/proc/no/such", instance_id = "i" })
    assert.is_false(ok)
    assert.matches("prepare%[1%]: 'mkdir' exited with code 1: mkdir: cannot create directory", e)
  end)
end)
