-- spec/install_spec.lua - installing qlua the way Lua and Linux users do,
-- and the documentation that is generated from the binary:
--   make install into a temporary DESTDIR, then the installed qlua and
--   lua5.4 (LUA_CPATH/LUA_PATH pointing into DESTDIR, since DESTDIR is not
--   the real prefix) from another directory; make uninstall; the install
--   directories are those lua5.4 searches; luarocks make into a temporary
--   tree; man -l qlua.1 renders without warnings; docs/api.md, qlua.1's
--   OPTIONS and README.md's options table are what scripts/gen-docs.sh
--   writes from ./qlua (make docs); qlua and qemu.so carry no table of
--   fields (packed at build time).
-- luarocks and man are not in every install: those tests are pending
-- without them.
local H = require "helper"

local q = H.q
local ROOT = H.root
local LUA_V = "5.4"

-- make in the tree, without what a `make check` above us exported.
local function make(args)
  return H.sh("cd " .. q(ROOT) .. " && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s " .. args)
end

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

-- The files under dir, relative to it, sorted.
local function files(dir)
  local p = assert(io.popen("cd " .. q(dir) .. " && find . -type f -o -type l | sed 's|^\\./||' | sort"))
  local out = {}
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  return out
end

local function modules()
  local p = assert(io.popen("cd " .. q(ROOT) .. " && ls lua/qemu/*.lua"))
  local out = {}
  for line in p:lines() do out[#out + 1] = line:match("([^/]+)$") end
  p:close()
  return out
end

local function version()
  local _, out = H.qlua("-e", "io.write(qemu.version)")
  return out
end

local function ctx(code, out, err)
  return ("exit %s\n--- stdout ---\n%s\n--- stderr ---\n%s"):format(tostring(code), out or "", err or "")
end

-- lua5.4 -e CHUNK from /, with the C and Lua paths given (only those: no
-- ./?.so, so the tree's qemu.so cannot answer).
local function lua_in(cpath, lpath, chunk)
  return H.sh(("cd / && LUA_CPATH=%s LUA_PATH=%s lua5.4 -e %s"):format(q(cpath), q(lpath), q(chunk)))
end

-- What `make install` copies, relative to PREFIX=/usr/local.
local function expected(prefix)
  prefix = prefix:gsub("^/", "")
  local want = {
    prefix .. "/bin/qlua",
    prefix .. "/lib/lua/" .. LUA_V .. "/qemu.so",
    prefix .. "/share/man/man1/qlua.1",
  }
  for _, m in ipairs(modules()) do want[#want + 1] = prefix .. "/share/lua/" .. LUA_V .. "/qemu/" .. m end
  table.sort(want)
  return want
end

describe("make install", function()
  local dest         -- the DESTDIR of one install, shared by the tests below
  local function installed()
    if not dest then
      dest = H.tmpdir()
      local code, out, err = make("install PREFIX=/usr/local DESTDIR=" .. q(dest))
      assert(code == 0, "make install failed\n" .. ctx(code, out, err))
    end
    return dest
  end

  it("installs qlua, qemu.so, the qemu/*.lua modules and the man page under PREFIX", function()
    assert.are.same(expected("/usr/local"), files(installed()))
    local d = installed()
    local mode = function(f)
      local p = io.popen("stat -c %a " .. q(d .. f))
      local m = p:read("l")
      p:close()
      return m
    end
    assert.are.equal("755", mode("/usr/local/bin/qlua"))
    assert.are.equal("644", mode("/usr/local/share/lua/5.4/qemu/recipes.lua"))
    assert.are.equal(H.slurp(ROOT .. "/lua/qemu/recipes.lua"), H.slurp(d .. "/usr/local/share/lua/5.4/qemu/recipes.lua"))
  end)

  it("the installed qlua runs a chunk and an example's dry run, from another directory", function()
    local d = installed()
    local bin = d .. "/usr/local/bin/qlua"
    local tmp = H.tmpdir()
    local code, out, err = H.sh(("cd %s && %s -e 'print(qemu.version)'"):format(q(tmp), q(bin)))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal(version() .. "\n", out)
    -- the library compiled into it: require works with no file around
    code, out, err = H.sh(("cd %s && %s -e 'print(require(\"qemu.recipes\").q35{}.machine.type)'")
      :format(q(tmp), q(bin)))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal("q35\n", out)
    code, out, err = H.sh(("cd %s && QLUA_EXAMPLE_DIR=%s %s -n %s"):format(q(tmp), q(tmp), q(bin),
      q(ROOT .. "/examples/hello.lua")))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.truthy(out:match("^mkdir %-p " .. tmp:gsub("%p", "%%%0") .. "/share\nqemu%-system%-"), out)
    assert.truthy(out:find("-device virtio-9p-pci", 1, true), out)
  end)

  it("lua5.4 finds require 'qemu' and require 'qemu.recipes' in it, from any directory", function()
    local d = installed()
    local cpath = d .. "/usr/local/lib/lua/5.4/?.so"
    local lpath = d .. "/usr/local/share/lua/5.4/?.lua"
    local code, out, err = lua_in(cpath, lpath, [[
      local qemu = require "qemu"
      print(qemu.version)
      print(package.searchpath("qemu", package.cpath))
      print(package.searchpath("qemu.recipes", package.path))
      print(require("qemu.recipes").q35{}.machine.type)
      print(qemu.kind(qemu.block { id = "hd0", file = "disk.img", format = "raw" }))]])
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal(table.concat({ version(), d .. "/usr/local/lib/lua/5.4/qemu.so",
      d .. "/usr/local/share/lua/5.4/qemu/recipes.lua", "q35", "block" }, "\n") .. "\n", out)
    -- the Lua modules alone, before the C module: they load it themselves
    code, out, err = lua_in(cpath, lpath, [[
      local recipes = require "qemu.recipes"
      print(recipes.share { path = "/tmp", tag = "t" }.devices[1])
      local m = require "qemu.matrix"
      print(type(m.OPTIONS), type(require("qemu.qmp").device_del))]])
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal("qemu.fsdev(t)\ntable\tfunction\n", out)
  end)

  it("README's lines for another PREFIX, run as printed (a temporary directory for /opt/qlua)", function()
    local readme = assert(H.slurp(ROOT .. "/README.md"))
    local block = readme:match("\n```sh\n(make install PREFIX=/opt/qlua\n.-)```\n")
    assert.truthy(block, "README.md has no ```sh block starting with make install PREFIX=/opt/qlua")
    local prefix = H.tmpdir() .. "/opt/qlua"
    local lines = block:gsub("/opt/qlua", prefix)
    assert.are.equal(3, select(2, block:gsub("/opt/qlua", "")))
    -- and then, in the same environment: where the modules came from (not a copy
    -- installed elsewhere on this machine)
    local check = [[lua5.4 -e 'print(package.searchpath("qemu", package.cpath)) ]] ..
      [[print(package.searchpath("qemu.recipes", package.path))']]
    local code, out, err = H.sh("cd " .. q(ROOT) .. " && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u LUA_PATH " ..
      "-u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 sh -ec " .. q(lines .. "cd /\n" .. check .. "\n"))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.same(expected("/opt/qlua"), files(prefix:match("^(.*)/opt/qlua$")))
    -- make's commands, then what the lines print
    local want = table.concat({ version(), "q35", prefix .. "/lib/lua/5.4/qemu.so",
      prefix .. "/share/lua/5.4/qemu/recipes.lua" }, "\n") .. "\n"
    assert.are.equal(want, out:sub(-#want), out)
  end)

  it("the installed man page renders", function()
    if not have("man") then
      pending("no man (Debian: man-db)")
      return
    end
    local d = installed()
    local code, out, err = H.sh("MANWIDTH=80 man --warnings -l " .. q(d .. "/usr/local/share/man/man1/qlua.1"))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal("", err)
    assert.truthy(out:find("QLUA(1)", 1, true), out)
  end)

  it("installs into the directories lua5.4 searches (PREFIX=/usr/local and /usr)", function()
    -- lua5.4's own paths, without LUA_PATH/LUA_CPATH
    local code, out, err = H.sh("env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 " ..
      "lua5.4 -e 'print(package.path) print(package.cpath)'")
    assert.are.equal(0, code, ctx(code, out, err))
    local lpath, cpath = out:match("^([^\n]*)\n([^\n]*)\n$")
    local function contains(list, item)
      return (";" .. list .. ";"):find(";" .. item .. ";", 1, true) ~= nil
    end
    for _, prefix in ipairs({ "/usr/local", "/usr" }) do
      -- what make would run (-n: nothing runs), read back from its commands
      local c2, plan, e2 = make("-n install PREFIX=" .. prefix .. " DESTDIR=")
      assert.are.equal(0, c2, ctx(c2, plan, e2))
      local cmod = plan:match("install %-m 755 qemu%.so (%S+)/qemu%.so")
      local lmod = plan:match("install %-m 644 lua/qemu/[^\n]- (%S+)/qemu/\n")
      assert.are.equal(prefix .. "/lib/lua/5.4", cmod, plan)
      assert.are.equal(prefix .. "/share/lua/5.4", lmod, plan)
      assert.is_true(contains(cpath, cmod .. "/?.so"), cmod .. " is not in lua5.4's package.cpath: " .. cpath)
      assert.is_true(contains(lpath, lmod .. "/?.lua"), lmod .. " is not in lua5.4's package.path: " .. lpath)
    end
  end)

  it("make uninstall removes those files and nothing else", function()
    local d = H.tmpdir()
    -- other files in the same directories, which must stay
    local others = { "usr/local/bin/other", "usr/local/lib/lua/5.4/other.so",
                     "usr/local/share/lua/5.4/other.lua", "usr/local/share/man/man1/other.1" }
    for _, f in ipairs(others) do
      os.execute("mkdir -p " .. q((d .. "/" .. f):match("^(.*)/")))
      H.write(d .. "/" .. f, "not qlua's\n")
    end
    local code, out, err = make("install PREFIX=/usr/local DESTDIR=" .. q(d))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal(#others + #expected("/usr/local"), #files(d))
    code, out, err = make("uninstall PREFIX=/usr/local DESTDIR=" .. q(d))
    assert.are.equal(0, code, ctx(code, out, err))
    table.sort(others)
    assert.are.same(others, files(d))
    for _, f in ipairs(others) do assert.are.equal("not qlua's\n", H.slurp(d .. "/" .. f)) end
    -- the qemu/ directory it made is gone; the shared ones stay
    assert.is_nil(io.open(d .. "/usr/local/share/lua/5.4/qemu/"))
    assert.truthy(io.open(d .. "/usr/local/lib/lua/5.4/"))
    -- twice is harmless
    code, out, err = make("uninstall PREFIX=/usr/local DESTDIR=" .. q(d))
    assert.are.equal(0, code, ctx(code, out, err))
  end)
end)

describe("luarocks make", function()
  if not have("luarocks") then
    pending("no luarocks (Debian: luarocks): `luarocks --lua-version 5.4 make qlua-scm-1.rockspec` is untested here")
    return
  end

  it("builds a copy of the tree and installs the module, the Lua modules and qlua into a tree", function()
    -- a copy of the sources, nothing built: the rock builds it all
    local src = H.tmpdir()
    local code, out, err = H.sh(("cd %s && tar -c --exclude=./build --exclude=./qlua --exclude=./qemu.so " ..
      "--exclude=./.git --exclude=./qlua-runs --exclude=./bench . | tar -x -C %s"):format(q(ROOT), q(src)))
    assert.are.equal(0, code, ctx(code, out, err))
    local tree = H.tmpdir()
    code, out, err = H.sh(("cd %s && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL luarocks --lua-version 5.4 " ..
      "--tree %s make qlua-scm-1.rockspec"):format(q(src), q(tree)))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.truthy(out:find("qlua scm-1 is now installed", 1, true), ctx(code, out, err))
    assert.truthy(io.open(src .. "/qemu.so"), "the rock did not build qemu.so")

    local got = files(tree)
    local function present(f)
      for _, g in ipairs(got) do if g == f then return true end end
      return false
    end
    for _, f in ipairs({ "lib/lua/5.4/qemu.so", "bin/qlua", "lib/luarocks/rocks-5.4/qlua/scm-1/man/man1/qlua.1",
                         "lib/luarocks/rocks-5.4/qlua/scm-1/docs/api.md" }) do
      assert.is_true(present(f), f .. " is not in the tree:\n" .. table.concat(got, "\n"))
    end
    for _, m in ipairs(modules()) do
      assert.is_true(present("share/lua/5.4/qemu/" .. m), m .. " is not in the tree")
    end

    -- the tree's qlua, and lua5.4 with the paths `luarocks path` gives
    code, out, err = H.sh(q(tree .. "/bin/qlua") .. " -e 'print(qemu.version)'")
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal(version() .. "\n", out)
    code, out, err = H.sh(("cd / && eval \"$(luarocks --lua-version 5.4 --tree %s path)\" && lua5.4 -e %s")
      :format(q(tree), q([[local qemu = require "qemu"
        print(package.searchpath("qemu", package.cpath))
        print(require("qemu.recipes").pc{}.machine.type)]])))
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal(tree .. "/lib/lua/5.4/qemu.so\npc\n", out)
  end)
end)

describe("the man page", function()
  if not have("man") then
    pending("no man (Debian: man-db): qlua.1 is not rendered here")
    return
  end

  local function render()
    return H.sh("cd " .. q(ROOT) .. " && MANWIDTH=80 man --warnings -l qlua.1")
  end

  it("renders without warnings (man --warnings, groff -ww)", function()
    local code, out, err = render()
    assert.are.equal(0, code, ctx(code, out, err))
    assert.are.equal("", err)
    if have("groff") then
      code, out, err = H.sh("cd " .. q(ROOT) .. " && groff -ww -man -Tutf8 qlua.1 >/dev/null")
      assert.are.equal(0, code, ctx(code, out, err))
      assert.are.equal("", err)
    end
  end)

  it("has NAME, SYNOPSIS, OPTIONS, EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES", function()
    local _, out = render()
    local plain = out:gsub(".\b", "")
    for _, s in ipairs({ "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "MATRIX OPTIONS", "EXIT STATUS",
                         "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO" }) do
      assert.truthy(plain:find("\n" .. s .. "\n", 1, true), "no section " .. s)
    end
  end)

  it("lists every option of qlua --help, and every QLUA_* variable the code reads", function()
    local _, out = render()
    local plain = out:gsub(".\b", ""):gsub("\u{2010}", "-")
    local options = plain:match("\nOPTIONS\n(.-)\nMATRIX OPTIONS\n")
    local env = plain:match("\nENVIRONMENT\n(.-)\nFILES\n")
    assert.truthy(options and env, plain)
    local _, help = H.qlua("--help")
    local block = help:match("\noptions:\n(.-)\n\n")
    assert.truthy(block, help)
    for line in block:gmatch("[^\n]+") do
      for opt in line:gmatch("%f[%S](%-%-?[%w][%w-]*)") do
        assert.truthy(options:find(opt, 1, true), "the man page's OPTIONS do not list " .. opt)
      end
    end
    local p = assert(io.popen("cd " .. q(ROOT) .. " && cat src/*.c scripts/embed.lua lua/qemu/*.lua"))
    local code = p:read("a")
    p:close()
    local seen = 0
    for var in code:gmatch("getenv%(%s*\"(QLUA_[%w_]+)\"") do
      seen = seen + 1
      assert.truthy(env:find(var, 1, true), "the man page's ENVIRONMENT does not say what " .. var .. " is")
    end
    assert.is_true(seen >= 4)
  end)
end)

-- qlua and qemu.so carry the kinds' fields packed at build time (src/schema.h,
-- kind_fields): a table of fields compiled in would be pointers the dynamic
-- loader relocates at every start.  The static tables are named <kind>_fields.
describe("the built binary", function()
  it("has no table of fields compiled in, qlua nor qemu.so", function()
    for _, bin in ipairs({ H.qlua_bin, ROOT .. "/qemu.so" }) do
      local code, out, err = H.sh("nm " .. q(bin))
      assert.are.equal(0, code, ctx(code, out, err))
      local tables = {}
      for name in out:gmatch("%x+ [dD] ([%w_]+_fields)\n") do tables[#tables + 1] = name end
      assert.are.same({}, tables)
      assert.truthy(out:find(" [tT] schema_unpack\n"), "no unpacking of the packed fields (schema_packed.c) in " .. bin)
    end
  end)
end)

describe("the generated documentation", function()
  it("is what scripts/gen-docs.sh writes from ./qlua (else: make docs)", function()
    local code, out, err = H.sh("cd " .. q(ROOT) .. " && QLUA=" .. q(H.qlua_bin) .. " scripts/gen-docs.sh --check")
    assert.are.equal(0, code, "the generated documentation is stale: run `make docs` and review the diff\n" ..
      ctx(code, out, err))
  end)

  it("docs/api.md has every kind, section and table of options that qlua --describe knows", function()
    -- the list qlua --describe gives for an unknown kind
    local _, _, err = H.qlua("--describe", "?")
    local kinds, sections, options = err:match("%(kinds: (.-); sections: (.-); options: (.-)%)")
    assert.truthy(kinds, err)
    local api = assert(H.slurp(ROOT .. "/docs/api.md"))
    local n = 0
    for name in (kinds .. ", " .. sections .. ", " .. options):gmatch("[^, ]+") do
      n = n + 1
      assert.truthy(api:find("\n## " .. name .. "\n", 1, true), "docs/api.md has no section for " .. name)
      local _, d = H.qlua("--describe", name)
      -- a field's line: name, type, text (not "  transports: ..." and the like)
      for field in d:gmatch("\n  ([%w_]+) +%l[%w%-]*") do
        assert.truthy(api:find("| `" .. field .. "`", 1, true), "docs/api.md lacks " .. name .. "." .. field)
      end
    end
    assert.is_true(n > 50)
    assert.truthy(io.open(ROOT .. "/docs/qmp-wrappers.md"))
  end)

  it("README.md starts with the two commands", function()
    local readme = assert(H.slurp(ROOT .. "/README.md"))
    assert.truthy(readme:find("^# [^\n]*\n\n```sh\n" ..
      "sh scripts/deps%.sh && make demo    # builds qlua and the test guest, boots it with its console here\n" ..
      "sh scripts/deps%.sh && make check   # the whole test suite %(busted specs; real QEMU, real guest%)\n```\n"),
      readme:sub(1, 400))
  end)
end)
