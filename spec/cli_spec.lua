-- spec/cli_spec.lua - the qlua command (docs/contract.md §1, §7): options, `arg` and
-- `...`, what a script's return value means, the exit status, the dry run
-- (proved copy-pasteable by running it through sh against a stand-in QEMU),
-- --json, --describe, and the schema introspection it prints.
local H = require "helper"
local qemu = H.qemu

-- ---- helpers ----------------------------------------------------------------

-- Writes src as NAME (default vm.lua) in a fresh directory; returns the directory.
local function scriptdir(src, name)
  local d = H.tmpdir()
  H.write(d .. "/" .. (name or "vm.lua"), src)
  return d
end

-- Runs `qlua ARGS...` inside directory d.  Returns code, stdout, stderr.
local function qlua_in(d, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = H.q(a) end
  return H.sh("cd " .. H.q(d) .. " && " .. H.qlua_cmd .. " " .. table.concat(words, " ") .. " </dev/null")
end

-- Runs the script source src as vm.lua with options before it and script
-- arguments after it.
local function run(src, opts, args)
  local d = scriptdir(src)
  local all = {}
  for _, a in ipairs(opts or {}) do all[#all + 1] = a end
  all[#all + 1] = "vm.lua"
  for _, a in ipairs(args or {}) do all[#all + 1] = a end
  local code, out, e = qlua_in(d, table.unpack(all))
  return code, out, e, d
end

-- Loads a script the way qlua would (global qemu) and returns what it returns.
local function eval(path, ...)
  local env = setmetatable({ qemu = qemu, arg = { [0] = path } }, { __index = _G })
  return assert(loadfile(path, "t", env))(...)
end

-- Splits NUL-terminated records.
local function split0(s)
  local t = {}
  for rec in s:gmatch("([^%z]*)%z") do t[#t + 1] = rec end
  return t
end

-- A stand-in QEMU at `path` that writes its $0 and arguments, each followed
-- by a NUL, to `out`.
local function standin(path, out)
  H.write(path, "#!/bin/sh\nprintf '%s\\0' \"$0\" \"$@\" > " .. H.q(out) .. "\n")
  assert(os.execute("chmod +x " .. H.q(path)))
  return path
end

local OPTIONS = { "-n", "--dry-run", "--json", "-e", "--describe", "--version", "-h", "--help" }

-- ---- options ------------------------------------------------------------------

describe("qlua --help", function()
  it("prints usage on stdout and exits 0", function()
    local code, out, e = H.qlua("--help")
    assert.are.equal(0, code)
    assert.are.equal("", e)
    assert.is_truthy(out:find("^usage: qlua %[options%] script%.lua %[args%.%.%.%]\n"))
  end)

  it("lists every option", function()
    local _, out = H.qlua("--help")
    for _, o in ipairs(OPTIONS) do
      assert.is_truthy(out:find("%f[%w-]" .. o:gsub("%-", "%%-") .. "%f[^%w-]"), "--help does not list " .. o)
    end
    assert.is_truthy(out:find("CHUNK", 1, true))
    assert.is_truthy(out:find("KIND", 1, true))
  end)

  it("documents the exit status and QLUA_QEMU", function()
    local _, out = H.qlua("--help")
    assert.is_truthy(out:find("exit status", 1, true))
    assert.is_truthy(out:find("126/127", 1, true))
    assert.is_truthy(out:find("QLUA_QEMU", 1, true))
  end)

  it("-h is the same", function()
    local _, long = H.qlua("--help")
    local code, short = H.qlua("-h")
    assert.are.equal(0, code)
    assert.are.equal(long, short)
  end)

  it("wins over a script", function()
    local d = scriptdir('io.write("ran")')
    local code, out = qlua_in(d, "--help", "vm.lua")
    assert.are.equal(0, code)
    assert.is_nil(out:find("ran", 1, true))
  end)
end)

describe("qlua --version", function()
  it("prints qlua's and Lua's version", function()
    local code, out, e = H.qlua("--version")
    assert.are.equal(0, code)
    assert.are.equal("", e)
    assert.are.equal("qlua " .. qemu.version .. " (Lua 5.4", out:match("^qlua [^ ]+ %(Lua 5%.4"))
    assert.is_truthy(out:find("^qlua %d+%.%d+%.%d+ %(Lua 5%.4%.%d+%)\n$"))
  end)
end)

-- Each case { args, stderr } run in d: exit 2, nothing on stdout, exactly
-- that on stderr.
local function refused(d, cases)
  for _, c in ipairs(cases) do
    local code, out, e = qlua_in(d, table.unpack(c[1]))
    assert.are.equal(2, code, table.concat(c[1], " "))
    assert.are.equal("", out)
    assert.are.equal(c[2], e)
  end
end

describe("qlua usage errors", function()
  it("an unknown long option: exit 2 with a message", function()
    local code, out, e = H.qlua("--bogus")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: unknown option '--bogus' (see qlua --help)\n", e)
  end)

  it("an unknown short option", function()
    local code, out, e = H.qlua("-x", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: unknown option '-x' (see qlua --help)\n", e)
  end)

  it("a matrix option before the script: where it goes, exit 2, nothing run", function()
    local d = scriptdir('io.write("ran")', "m.lua")
    local cases = {
      { { "-j", "2", "m.lua" }, "qlua: option '-j' is a matrix option: write it after the script (qlua m.lua -j 2)\n" },
      { { "-n", "--only", "q35", "--", "m.lua", "--tap" },
        "qlua: option '--only' is a matrix option: write it after the script (qlua m.lua --only q35)\n" },
      { { "--fail-fast", "-e", "x = 1", "m.lua" },
        "qlua: option '--fail-fast' is a matrix option: write it after the script (qlua m.lua --fail-fast)\n" },
      { { "--only", "smp=2 x", "m.lua" },
        "qlua: option '--only' is a matrix option: write it after the script (qlua m.lua --only 'smp=2 x')\n" },
      { { "--junit" },
        "qlua: option '--junit' is a matrix option: write it after the script (qlua script.lua --junit FILE)\n" },
    }
    refused(d, cases)
    -- every matrix option qemu.matrix takes, and only those
    local seen = {}
    for _, o in ipairs(require("qemu.matrix").OPTIONS) do
      local args = { o[1] }
      if o[2] then args[2] = o[2] end
      args[#args + 1] = "m.lua"
      local code, _, e = qlua_in(d, table.unpack(args))
      assert.are.equal(2, code, o[1])
      assert.are.equal(("qlua: option '%s' is a matrix option: write it after the script (qlua m.lua %s)\n")
        :format(o[1], o[1] .. (o[2] and " " .. o[2] or "")), e)
      seen[#seen + 1] = o[1] .. (o[2] and " " .. o[2] or "")
    end
    local _, help = H.qlua("--help")
    help = help:gsub("%s+", " ")
    assert.is_truthy(help:find("come after the script: " .. table.concat(seen, ", ") .. ".", 1, true),
      "--help's matrix options are not qemu.matrix's:\n" .. help)
  end)

  it("bundled short options are not taken apart", function()
    local code, _, e = H.qlua("-nh")
    assert.are.equal(2, code)
    assert.are.equal("qlua: unknown option '-nh' (see qlua --help)\n", e)
  end)

  it("an option without its argument", function()
    local code, out, e = H.qlua("-e")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: option '-e' needs an argument (CHUNK)\n", e)
    code, out, e = H.qlua("--describe")
    assert.are.equal(2, code)
    assert.are.equal("qlua: option '--describe' needs an argument (KIND)\n", e)
  end)

  -- --describe and --merge run no script: what only a script's run reads
  -- would be dropped beside them without a word, so it is refused
  it("--describe and --merge alone: a script, -e or a dry-run flag beside them is refused, nothing runs", function()
    local d = scriptdir('io.write("ran")')
    local D = "qlua: --describe prints a kind's fields and runs no script, so it cannot go with "
    local M = "qlua: --merge reports a matrix's shards as one and runs no script, so it cannot go with "
    local cases = {
      { { "--describe", "rtc", "vm.lua" }, D .. "the script vm.lua\n" },
      { { "--describe", "rtc", "--", "vm.lua" }, D .. "the script vm.lua\n" },
      { { "-n", "--describe", "rtc" }, D .. "-n\n" },
      { { "--describe", "rtc", "--dry-run" }, D .. "-n\n" },
      { { "--describe", "rtc", "--json" }, D .. "--json\n" },
      { { "--check", "--describe", "rtc" }, D .. "--check\n" },
      { { "--probe", "--describe", "rtc" }, D .. "--probe\n" },
      { { "--describe", "rtc", "-e", "io.write('ran')" }, D .. "-e\n" },
      { { "--describe", "rtc", "--merge", "." }, D .. "--merge\n" },
      { { "-n", "--merge", "." }, M .. "-n\n" },
      { { "--json", "--merge", ".", "--junit", "m.xml" }, M .. "--json\n" },
      { { "--check", "--merge", "." }, M .. "--check\n" },
      { { "--probe", "--merge", "." }, M .. "--probe\n" },
      { { "-e", "io.write('ran')", "--merge", "." }, M .. "-e\n" },
    }
    refused(d, cases)
    -- -L goes with both: --describe of a recipe table loads modules
    local code, out, e = qlua_in(d, "-L", d, "--describe", "rtc")
    assert.are.equal(0, code)
    assert.are.equal("", e)
    assert.is_truthy(out:find("^rtc: "))
  end)

  it("qlua -n --merge of a real run's results writes no report (it wrote --junit's file)", function()
    local d = scriptdir([[
return require("qemu.matrix") {
  name = "tiny", axes = { a = { 1 } },
  vm = function() return { machine = { type = "none" }, knobs = { no_defaults = true } } end,
  test = function(vm) return vm.qmp:execute("query-status") ~= nil end,
}
]], "m.lua")
    local code, out, e = qlua_in(d, "m.lua", "-j", "1", "--out", "runs")
    assert.are.equal(0, code, e)
    refused(d, { { { "-n", "--merge", "runs", "--junit", "merged.xml", "--html", "merged.html" },
                   "qlua: --merge reports a matrix's shards as one and runs no script, so it cannot go with -n\n" } })
    local ls
    code, ls = H.sh("ls -A " .. H.q(d))
    assert.are.equal(0, code)
    assert.are.equal("m.lua\nruns\n", ls)
    -- without -n, the same merge writes them
    code, out, e = qlua_in(d, "--merge", "runs", "--junit", "merged.xml", "--html", "merged.html")
    assert.are.equal(0, code, e)
    code, ls = H.sh("ls -A " .. H.q(d))
    assert.are.equal("m.lua\nmerged.html\nmerged.xml\nruns\n", ls)
  end)

  it("-n with --json: refused (--json printed, -n was dropped)", function()
    local d = scriptdir('return { path = "q", name = "x" }')
    local E = "qlua: -n prints the command line for sh, so it cannot go with --json, which prints it as JSON "
      .. "(give one)\n"
    refused(d, { { { "-n", "--json", "vm.lua" }, E }, { { "--json", "--dry-run", "vm.lua" }, E },
                 { { "--check", "--json", "-n", "vm.lua" }, E } })
  end)

  it("an option that takes one argument, given twice: refused, not the first dropped", function()
    local code, out, e = H.qlua("--describe", "rtc", "--describe", "block")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: option '--describe' can be given once (one KIND)\n", e)
    code, out, e = H.qlua("-L", "/a", "-L", "/b", "-e", "io.write('ran')")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: option '-L' can be given once (one DIR)\n", e)
  end)

  it("no arguments: usage on stderr, exit 2", function()
    local code, out, e = H.qlua()
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.is_truthy(e:find("^usage: qlua "))
    for _, o in ipairs(OPTIONS) do
      assert.is_truthy(e:find(o, 1, true), "usage does not list " .. o)
    end
  end)

  it("a script that does not exist: exit 2", function()
    local d = H.tmpdir()
    local code, out, e = qlua_in(d, "nope.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: cannot open nope.lua: No such file or directory\n", e)
  end)

  it("a script with a syntax error: exit 2", function()
    local code, out, e = run("local x = (\n")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:2: unexpected symbol near <eof>\n", e)
  end)
end)

-- ---- -e, arg and ... -----------------------------------------------------------

describe("qlua -e CHUNK", function()
  it("runs alone", function()
    local code, out, e = H.qlua("-e", "io.write(1 + 1)")
    assert.are.equal(0, code)
    assert.are.equal("", e)
    assert.are.equal("2", out)
  end)

  it("runs before the script, in the same state", function()
    local code, out = run("io.write(X, ' ', tostring(qemu ~= nil))", { "-e", "X = 42" })
    assert.are.equal(0, code)
    assert.are.equal("42 true", out)
  end)

  it("given more than once: each runs, in order, as lua5.4 does", function()
    local code, out, e = run("io.write(X)", { "-e", "X = 'a'", "-e", "io.write(X); X = X .. 'b'", "-e", "X = X .. 'c'" })
    assert.are.equal(0, code)
    assert.are.equal("", e)
    assert.are.equal("aabc", out)
    -- an error in one stops the ones after it and the script
    code, out, e = run("io.write('ran')", { "-e", "io.write(1)", "-e", "error('boom')", "-e", "io.write(3)" })
    assert.are.equal(2, code)
    assert.are.equal("1", out)
    assert.are.equal("qlua: (command line):1: boom\n", e)
  end)

  it("sees arg already set", function()
    local code, out = run("", { "-e", "io.write(arg[0])" })
    assert.are.equal(0, code)
    assert.are.equal("vm.lua", out)
  end)

  it("an error in it: exit 2, named as the command line", function()
    local code, out, e = H.qlua("-e", "error('boom')")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: (command line):1: boom\n", e)
  end)

  it("an error in it stops the script from running", function()
    local code, out, e = run("io.write('ran')", { "-e", "error('boom')" })
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: (command line):1: boom\n", e)
  end)

  it("can describe and print a dry run by itself (qemu is a global)", function()
    local code, out = H.qlua("-e", "io.write(qemu.argv({ path = 'q', name = 'x' })[3])")
    assert.are.equal(0, code)
    assert.are.equal("guest=x", out)
  end)
end)

describe("where require looks: the script's directory, QLUA_PATH and -L", function()
  -- A recipe library of the user's own (myrecipes.lua) that builds on the
  -- built-in one, and a script that uses it.
  local MYRECIPES = [[
local qemu = require "qemu"
local recipes = require "qemu.recipes"
return { small = function() return qemu.merge(recipes.q35 {}, { memory = { size = "64M" } }) end }
]]
  local SCRIPT = [[
local my = require "myrecipes"
return qemu.merge(my.small(), { name = "mine", path = "qemu-system-x86_64" })
]]
  -- what the dry run says of the machine and the memory
  local function vm_of(out)
    return (out:match("\n  %-machine (%S+)") or "no -machine") .. " " .. (out:match("\n  %-m (%S+)") or "no -m")
  end
  local WANT = "q35 64M"

  local function dry(d, env, ...)
    local words, args = {}, table.pack(...)
    for i = 1, args.n do
      if args[i] ~= nil then words[#words + 1] = H.q(args[i]) end
    end
    return H.sh("cd " .. H.q(d) .. " && env -u QLUA_PATH " .. (env or "") .. " " .. H.qlua_cmd .. " " ..
      table.concat(words, " ") .. " </dev/null")
  end

  it("a module beside the script is found from any directory", function()
    local d = scriptdir(SCRIPT)
    H.write(d .. "/myrecipes.lua", MYRECIPES)
    local code, out, e = dry("/", nil, "-n", d .. "/vm.lua")
    assert.are.equal("", e)
    assert.are.equal(0, code)
    assert.are.equal(WANT, vm_of(out))
    -- the script's directory comes after QLUA_PATH's, and never hides the built-in qemu.* modules
    local lib = H.tmpdir()
    H.write(lib .. "/myrecipes.lua", 'return { small = function() return { memory = { size = "32M" } } end }')
    assert.are.equal(os.execute("mkdir " .. H.q(d .. "/qemu")), true)
    H.write(d .. "/qemu/recipes.lua", 'error("the script directory\'s qemu/recipes.lua was loaded")')
    code, out, e = dry("/", "QLUA_PATH=" .. H.q(lib), "-n", d .. "/vm.lua")
    assert.are.equal("", e)
    assert.are.equal("no -machine 32M", vm_of(out))
  end)

  it("QLUA_PATH=DIR and -L DIR come first; the built-in library serves the modules DIR lacks", function()
    local lib = H.tmpdir()
    H.write(lib .. "/myrecipes.lua", MYRECIPES)
    local d = scriptdir(SCRIPT)
    for _, how in ipairs({ { "QLUA_PATH=" .. H.q(lib) }, { nil, "-L", lib } }) do
      local code, out, e = dry(d, how[1], how[2], how[3], "-n", "vm.lua")
      assert.are.equal("", e)
      assert.are.equal(0, code)
      assert.are.equal(WANT, vm_of(out))
    end
    -- a qemu.* module in DIR/qemu/ replaces the built-in one; the others stay built in
    assert.are.equal(os.execute("mkdir " .. H.q(lib .. "/qemu")), true)
    H.write(lib .. "/qemu/recipes.lua", [[
local merge = require "qemu.merge"
return { q35 = function() return merge({ machine = { type = "pc" } }, { memory = { size = "16M" } }) end }
]])
    for _, how in ipairs({ { "QLUA_PATH=" .. H.q(lib) }, { nil, "-L", lib } }) do
      local code, out, e = dry(d, how[1], how[2], how[3], "-n", "vm.lua")
      assert.are.equal("", e)
      assert.are.equal(0, code)
      assert.are.equal("pc 64M", vm_of(out))
    end
    -- DIR's file that does not compile is an error, not a fall back to the built-in copy
    H.write(lib .. "/qemu/recipes.lua", "syntax error here(\n")
    local code, out, e = dry(d, nil, "-L", lib, "-n", "vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: error loading module 'qemu.recipes' from file '" .. lib .. "/qemu/recipes.lua':\n\t"
      .. lib .. "/qemu/recipes.lua:1: syntax error near 'error'\n", e)
    os.remove(lib .. "/qemu/recipes.lua")
    -- the same for the qemu module in plain lua5.4 (DIR/qemu/ holds only a report.lua now)
    H.write(lib .. "/qemu/report.lua", 'return { marker = "DIR/qemu/report.lua" }\n')
    code, out, e = H.sh("cd / && QLUA_PATH=" .. H.q(lib) .. " LUA_CPATH=" .. H.q(H.root .. "/?.so") ..
      " lua5.4 -e " .. H.q('require "qemu"; print(require("qemu.report").marker, ' ..
      'require("qemu.matrix").OPTIONS ~= nil, require("myrecipes").small().memory.size)'))
    assert.are.equal("", e)
    assert.are.equal(0, code)
    assert.are.equal("DIR/qemu/report.lua\ttrue\t64M\n", out)
  end)
end)

describe("-L DIR and QLUA_PATH that are no directory", function()
  -- a typo is said at once: the built-in modules would serve in its
  -- place without a word
  it("are usage errors that name the path and why (exit 2, nothing run)", function()
    local d = scriptdir('io.write("ran")')
    H.write(d .. "/file", "")
    refused(d, {
      { { "-L", d .. "/none", "vm.lua" }, "qlua: option '-L': cannot look in '" .. d .. "/none' (No such file or directory)\n" },
      { { "-L", d .. "/file", "vm.lua" }, "qlua: option '-L': cannot look in '" .. d .. "/file' (Not a directory)\n" },
      { { "-L", "", "vm.lua" }, "qlua: option '-L': cannot look in '' (No such file or directory)\n" },
      { { "-L", "none", "--describe", "rtc" }, "qlua: option '-L': cannot look in 'none' (No such file or directory)\n" },
    })
    local code, out, e = H.sh("cd " .. H.q(d) .. " && QLUA_PATH=none " .. H.qlua_cmd .. " vm.lua")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: QLUA_PATH: cannot look in 'none' (No such file or directory)\n", e)
    -- an empty QLUA_PATH is unset; --version and --help need no module
    code, out, e = H.sh("cd " .. H.q(d) .. " && QLUA_PATH= " .. H.qlua_cmd .. " vm.lua")
    assert.are.equal(0, code, e)
    assert.are.equal("ran", out)
    code, out, e = H.sh("cd " .. H.q(d) .. " && QLUA_PATH=none " .. H.qlua_cmd .. " --version")
    assert.are.equal(0, code, e)
    assert.is_truthy(out:find("^qlua "))
    code, out = qlua_in(d, "-L", "none", "--help")
    assert.are.equal(0, code)
    assert.is_truthy(out:find("^usage: qlua "))
  end)
end)

describe("arg and ...", function()
  local show = [[
local t = {}
for i = -3, #arg do t[#t + 1] = i .. "=" .. tostring(arg[i]) end
t[#t + 1] = "n=" .. select("#", ...)
for i = 1, select("#", ...) do t[#t + 1] = "." .. i .. "=" .. select(i, ...) end
io.write(table.concat(t, "\n"), "\n")
]]

  it("arg[0] is the script, arg[1..] its arguments, arg[-1] the interpreter", function()
    local code, out = run(show, {}, { "a", "b c", "" })
    assert.are.equal(0, code)
    assert.are.equal(table.concat({
      "-3=nil", "-2=nil", "-1=" .. H.qlua_bin, "0=vm.lua", "1=a", "2=b c", "3=",
      "n=3", ".1=a", ".2=b c", ".3=", "" }, "\n"), out)
  end)

  it("negative indices hold the interpreter and its options, like lua", function()
    local code, out = run(show, { "-e", "X=1" }, { "x" })
    assert.are.equal(0, code)
    assert.are.equal(table.concat({
      "-3=" .. H.qlua_bin, "-2=-e", "-1=X=1", "0=vm.lua", "1=x", "n=1", ".1=x", "" }, "\n"), out)
  end)

  it("options after the script are the script's", function()
    local code, out = run(show, {}, { "-n", "--json", "--bogus" })
    assert.are.equal(0, code)
    assert.is_truthy(out:find("\n1=-n\n2=--json\n3=--bogus\nn=3\n", 1, true))
  end)

  it("-- ends qlua's options", function()
    local d = scriptdir(show, "-n.lua")
    local code, out = qlua_in(d, "--", "-n.lua", "x")
    assert.are.equal(0, code)
    assert.is_truthy(out:find("\n0=-n.lua\n1=x\nn=1\n", 1, true))
  end)

  it("- reads the script from standard input", function()
    local code, out = H.sh("printf 'io.write(arg[0], \" \", ...)' | " .. H.qlua_cmd .. " - x")
    assert.are.equal(0, code)
    assert.are.equal("- x", out)
  end)

  it("with -e and no script, arg[0] is the interpreter (as lua sets it)", function()
    local code, out = H.qlua("-e", "io.write(tostring(arg[0]), ' ', tostring(arg[1]), ' ', #arg)")
    assert.are.equal(0, code)
    assert.are.equal(H.qlua_bin .. " -e 2", out)
  end)

  it("the global qemu is require 'qemu'", function()
    local code, out = run("io.write(tostring(qemu == require 'qemu'), ' ', type(qemu.block))")
    assert.are.equal(0, code)
    assert.are.equal("true function", out)
  end)
end)

-- ---- what a script returns -------------------------------------------------------

describe("what a script returns", function()
  it("nothing: exit 0, no output", function()
    local code, out, e = run("local x = 1\n")
    assert.are.equal(0, code)
    assert.are.equal("", out)
    assert.are.equal("", e)
  end)

  it("an explicit nil: exit 0", function()
    local code, _, e = run("return nil\n")
    assert.are.equal(0, code)
    assert.are.equal("", e)
  end)

  it("its own output is kept", function()
    local code, out = run("print('hello')\n")
    assert.are.equal(0, code)
    assert.are.equal("hello\n", out)
  end)

  it("an error: exit 2 with qlua: file:line: msg", function()
    local code, out, e = run("local x = 1\n\nerror('boom')\n")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:3: boom\n", e)
  end)

  it("an error with a non-string value", function()
    local code, _, e = run("error({})\n")
    assert.are.equal(2, code)
    assert.are.equal("qlua: (error object is a table value)\n", e)
  end)

  it("an error at level 0 has no position", function()
    local code, _, e = run("error('plain', 0)\n")
    assert.are.equal(2, code)
    assert.are.equal("qlua: plain\n", e)
  end)

  it("a validation error: exit 2 with the script's line", function()
    local code, out, e = run("local d = qemu.block { id = 'a', file = 'x' }\n")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: block: field 'format' is required\n", e)
  end)

  for _, case in ipairs({ { "42", "number" }, { "'x'", "string" }, { "true", "boolean" }, { "print", "function" },
                          { "io.stdout", "userdata" } }) do
    it("a " .. case[2] .. ": exit 2, naming the line of the return", function()
      local code, out, e = run("local x = 1\n\nreturn " .. case[1] .. "\n")
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.are.equal("qlua: vm.lua:3: vm.lua returned a " .. case[2] .. " (expected a VM description or nothing)\n", e)
    end)
  end

  it("a function returned by a tail call: the line where its return starts", function()
    local code, _, e = run("local function f()\n  return print\nend\nreturn\n  f()\n")
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:4: vm.lua returned a function (expected a VM description or nothing)\n", e)
  end)

  it("-n on a script returning nothing: exit 2 with a message", function()
    local code, out, e = run("local x = 1\n", { "-n" })
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua returned no VM description to print\n", e)
  end)

  it("--json on a script returning nothing: exit 2 with a message", function()
    local code, out, e = run("return\n", { "--json" })
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua returned no VM description to print\n", e)
  end)

  it("-n on a non-table: exit 2", function()
    local code, _, e = run("return 'x'\n", { "-n" })
    assert.are.equal(2, code)
    assert.are.equal("qlua: vm.lua:1: vm.lua returned a string (expected a VM description or nothing)\n", e)
  end)

  it("a description runs QEMU in the foreground and exits with its status", function()
    local d = H.tmpdir()
    local stand = H.write(d .. "/qemu", "#!/bin/sh\necho \"ran $*\"\nexit 5\n")
    os.execute("chmod +x " .. H.q(stand))
    local code, out, e = run(("return { path = %q, name = 'x' }\n"):format(stand))
    assert.are.equal("", e)
    assert.are.equal("ran -name guest=x -display none -serial stdio\n", out)
    assert.are.equal(5, code)
  end)

  it("a QEMU that does not exist: 127", function()
    local code, _, e = run("return { path = '/nonexistent/qemu', name = 'x' }\n")
    assert.are.equal("qlua: cannot execute '/nonexistent/qemu': No such file or directory\n", e)
    assert.are.equal(127, code)
  end)

  it("a QEMU that is not executable: 126", function()
    local d = H.tmpdir()
    local stand = H.write(d .. "/qemu", "#!/bin/sh\n")
    os.execute("chmod -x " .. H.q(stand))
    local code, _, e = run(("return { path = %q, name = 'x' }\n"):format(stand))
    assert.are.equal("qlua: cannot execute '" .. stand .. "': Permission denied\n", e)
    assert.are.equal(126, code)
  end)
end)

-- ---- the dry run ---------------------------------------------------------------------

describe("qlua -n / --dry-run", function()
  -- Values that sh would otherwise split, expand or end on.
  local nasty = {
    "", "a b", "it's", "''", "'", '"dq"', "$HOME", "${x}", "`id`", "$(id)", "a=b", "x,y",
    "back\\slash", "\\'", "*", "?", "~", "~root", "#c", "!x", "{a,b}", "[x]", "tab\there",
    "-starts-with-dash", "semi;colon", "amp&", "pipe|", "<lt>", "(paren)", "%", "^", "a=~",
    "@", "\\", "é", "end\\",
  }

  local function description(stand)
    local extra = {}
    for i, v in ipairs(nasty) do extra[i] = ("%q"):format(v) end
    return ([[
local f = qemu.open("/dev/null", "r")
return {
  path = %q,
  name = "it's a $HOME, `x` \\ \"q\" a=b,c",
  uuid = "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11",
  kernel = { path = "/boot/vm linuz", params = "console=ttyS0 a='b c' $x \\n" },
  devices = {
    qemu.block { id = "hd0", file = "/img/disk, with=comma's $x.img", format = "raw" },
    qemu.block { id = "hd1", file = f, format = "raw" },
    qemu.device { driver = "e1000", serial = "a,b=c 'd' \\e $f" },
  },
  global = "driver.prop=a b,c",
  extra_args = { %s },
}
]]):format(stand, table.concat(extra, ", "))
  end

  it("prints what sh runs as exactly qemu.argv's argv", function()
    local d = H.tmpdir()
    local bindir = d .. "/bin dir 'x' $y"
    assert(os.execute("mkdir -p " .. H.q(bindir)))
    local got = d .. "/argv"
    local stand = standin(bindir .. "/qemu stand'in $z", got)
    H.write(d .. "/vm.lua", description(stand))

    local code, out, e = qlua_in(d, "-n", "vm.lua")
    assert.are.equal("", e)
    assert.are.equal(0, code)
    H.write(d .. "/cmd.sh", out)
    local scode, sout, serr = H.sh("cd / && sh " .. H.q(d .. "/cmd.sh"))
    assert.are.equal("", serr)
    assert.are.equal("", sout)
    assert.are.equal(0, scode)

    local want = qemu.argv(eval(d .. "/vm.lua"), { console = "stdio" })
    assert.are.same(want, split0(H.slurp(got)))
    -- and every nasty value arrived as itself
    local received = split0(H.slurp(got))
    for i = 1, #nasty do
      assert.are.equal(nasty[i], received[#received - #nasty + i])
    end
  end)

  it("--dry-run is the same as -n", function()
    local d = scriptdir(description("/usr/bin/qemu"))
    local _, a = qlua_in(d, "-n", "vm.lua")
    local code, b = qlua_in(d, "--dry-run", "vm.lua")
    assert.are.equal(0, code)
    assert.are.equal(a, b)
  end)

  it("notes the descriptors QEMU would get as comments", function()
    local d = scriptdir(description("/usr/bin/qemu"))
    local _, out = qlua_in(d, "-n", "vm.lua")
    assert.is_truthy(out:find("^# fd 3: open r /dev/null\n"))
  end)

  it("keeps a descriptor comment on one line whatever the file name holds", function()
    local d = H.tmpdir()
    local got = d .. "/argv"
    local stand = standin(d .. "/qemu", got)
    H.write(d .. "/x\ntouch INJECTED\r", "")  -- there: a dry run's "w" may not create it
    H.write(d .. "/vm.lua", ([[
local f = qemu.open(%q, "w")
return { path = %q, devices = { qemu.block { id = "hd0", file = f, format = "raw" } } }
]]):format(d .. "/x\ntouch INJECTED\r", stand))
    local code, out = qlua_in(d, "-n", "vm.lua")
    assert.are.equal(0, code)
    local first = out:match("^[^\n]*\n")
    assert.is_truthy(first:find("^# fd 3: open w "))
    local scode = H.sh("cd " .. H.q(d) .. " && printf '%s' " .. H.q(out) .. " | sh")
    assert.are.equal(0, scode)
    assert.is_nil(io.open(d .. "/INJECTED"))
    assert.are.same(qemu.argv(eval(d .. "/vm.lua"), { console = "stdio" }), split0(H.slurp(got)))
  end)

  it("quotes a binary name that sh would take for an assignment", function()
    local d = H.tmpdir()
    local got = d .. "/argv"
    standin(d .. "/QLUA_T=qemu", got)
    H.write(d .. "/vm.lua", 'return { path = "QLUA_T=qemu", name = "x" }\n')
    local code, out = qlua_in(d, "-n", "vm.lua")
    assert.are.equal(0, code)
    local scode, _, serr = H.sh("cd " .. H.q(d) .. " && printf '%s' " .. H.q(out) .. " | PATH=" .. H.q(d) .. ":$PATH sh")
    assert.are.equal("", serr)
    assert.are.equal(0, scode)
    local received = split0(H.slurp(got))
    assert.are.equal(d .. "/QLUA_T=qemu", received[1]) -- $0 as found on PATH
    assert.are.same({ "-name", "guest=x", "-display", "none", "-serial", "stdio" }, { table.unpack(received, 2) })
  end)

  it("leaves plain words unquoted and puts each option on its own line", function()
    local d = scriptdir('return { path = "/usr/bin/qemu-system-x86_64", name = "vm1", memory = { size = "1G" } }\n')
    local code, out = qlua_in(d, "-n", "vm.lua")
    assert.are.equal(0, code)
    assert.are.equal("/usr/bin/qemu-system-x86_64 \\\n  -name guest=vm1 \\\n  -m 1G \\\n  -display none \\\n  -serial stdio\n", out)
  end)

  it("uses $QLUA_QEMU when the description has no path", function()
    local d = scriptdir('return { name = "x" }\n')
    local code, out = H.sh("cd " .. H.q(d) .. " && QLUA_QEMU=/opt/my\\ qemu " .. H.qlua_cmd .. " -n vm.lua")
    assert.are.equal(0, code)
    assert.are.equal("'/opt/my qemu' \\\n  -name guest=x \\\n  -display none \\\n  -serial stdio\n", out)
  end)

  it("starts nothing", function()
    local d = H.tmpdir()
    local marker = d .. "/started"
    local stand = H.write(d .. "/qemu", "#!/bin/sh\ntouch " .. H.q(marker) .. "\n")
    os.execute("chmod +x " .. H.q(stand))
    local code = run(("return { path = %q }\n"):format(stand), { "-n" })
    assert.are.equal(0, code)
    assert.is_nil(io.open(marker))
  end)
end)

-- ---- --json ----------------------------------------------------------------------------

describe("qlua --json", function()
  -- Parses JSON with python3 and returns argv (a list) and fds ({fd, what} list).
  local function parse(text)
    local d = H.tmpdir()
    H.write(d .. "/out.json", text)
    local code, out, e = H.sh("python3 -c " .. H.q([[
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == ["argv", "fds"], sorted(d)
assert all(isinstance(a, str) for a in d["argv"])
for f in d["fds"]:
    assert sorted(f) == ["fd", "what"], sorted(f)
    assert isinstance(f["fd"], int) and isinstance(f["what"], str)
out = sys.stdout.buffer
for a in d["argv"]:
    out.write(a.encode() + b"\0")
out.write(b"\n")
for f in d["fds"]:
    out.write(b"%d %s\0" % (f["fd"], f["what"].encode()))
]]) .. " " .. H.q(d .. "/out.json"))
    assert.are.equal("", e)
    assert.are.equal(0, code)
    local a, f = out:match("^(.-)\n(.*)$")
    local fds = {}
    for _, rec in ipairs(split0(f)) do
      local n, what = rec:match("^(%d+) (.*)$")
      fds[#fds + 1] = { fd = tonumber(n), what = what }
    end
    return split0(a), fds
  end

  local src = [[
local a, b = qemu.socketpair()
local f = qemu.open("/dev/null", "r")
return {
  path = "/usr/bin/qemu it's \"q\" \\ $x",
  name = "tab\there \1 ctl",
  qmp = { { fd = a } },
  devices = { qemu.block { id = "hd0", file = f, format = "raw" } },
  extra_args = { "é", "" },
}
]]

  it("parses, with exactly qemu.argv's argv", function()
    local code, out, e, d = run(src, { "--json" })
    assert.are.equal("", e)
    assert.are.equal(0, code)
    local argv = parse(out)
    assert.are.same(qemu.argv(eval(d .. "/vm.lua"), { console = "stdio" }), argv)
  end)

  it("maps every descriptor to its number and what it is", function()
    local code, out = run(src, { "--json" })
    assert.are.equal(0, code)
    local argv, fds = parse(out)
    assert.are.same({ { fd = 3, what = "socketpair end 1" }, { fd = 4, what = "open r /dev/null" } }, fds)
    -- the numbers are the ones the argv uses
    local text = table.concat(argv, " ")
    assert.is_truthy(text:find("fd=3", 1, true))
    assert.is_truthy(text:find("-add-fd fd=4,set=4", 1, true))
  end)

  it("has an empty fd map when there are no descriptors", function()
    local code, out = run('return { path = "q", name = "x" }\n', { "--json" })
    assert.are.equal(0, code)
    local argv, fds = parse(out)
    assert.are.same({ "q", "-name", "guest=x", "-display", "none", "-serial", "stdio" }, argv)
    assert.are.same({}, fds)
  end)

  it("reports validation errors like -n", function()
    local code, out, e = run('return { uuid = "x" }\n', { "--json" })
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("qlua: vm.lua:1: field 'uuid': invalid UUID 'x' (expected 8-4-4-4-12 hex digits)\n", e)
  end)
end)

-- ---- --describe and introspection ------------------------------------------------------

-- docs/contract.md §3: the seed device kinds, all of which must exist.
local SEED_KINDS = { "object", "fsdev", "chardev", "netdev", "serial", "block", "vhost_user", "vfio", "bridge", "device" }

-- docs/contract.md, appendix: the fields of the seed kinds (the contract).
local APPENDIX = {
  object = { "type", "id", "device_id", "driver", "mem_path", "size", "read_only", "prealloc", "file" },
  fsdev = { "fs_driver", "id", "path", "mount_tag", "security_model", "multidev", "driver" },
  chardev = { "backend", "id", "path", "device_id", "driver", "bus", "name" },
  netdev = { "type", "id", "ifname", "mac_address", "fds", "vhost", "vhost_fds", "script", "down_script",
             "driver", "bus", "addr" },
  serial = { "id", "driver", "max_ports" },
  block = { "id", "file", "format", "aio", "interface", "driver", "wce", "scsi", "share_rw", "read_only",
            "discard_unmap" },
  vhost_user = { "vhost_user_type", "socket_path", "chardev_id", "type_dev_id", "mac_address", "tag",
                 "queue_size", "cache_size" },
  vfio = { "bdf", "id", "vendor_id", "device_id", "sysfs_dev", "devfs_dev" },
  bridge = { "type", "bus", "id", "chassis", "shpc", "addr", "io_reserve", "mem_reserve", "pref64_reserve" },
  device = { "driver", "id" },
}

local function field_names(kind)
  local t = {}
  for _, f in ipairs(qemu.describe(kind).fields) do t[#t + 1] = f.name end
  return t
end

describe("qlua --describe KIND", function()
  it("prints every field of block", function()
    local code, out, e = H.qlua("--describe", "block")
    assert.are.equal(0, code)
    assert.are.equal("", e)
    assert.is_truthy(out:find("^block: "))
    for _, name in ipairs(APPENDIX.block) do
      assert.is_truthy(out:find("\n  " .. name .. " ", 1, true), "--describe block lacks " .. name)
    end
    for _, name in ipairs(field_names("block")) do
      assert.is_truthy(out:find("\n  " .. name .. " ", 1, true), "--describe block lacks " .. name)
    end
  end)

  it("shows types, requirements, choices and defaults", function()
    local _, out = H.qlua("--describe", "block")
    local format = out:match("\n  (format [^\n]*)")
    assert.is_truthy(format:find(" enum ", 1, true))
    assert.is_truthy(format:find(" required ", 1, true))
    assert.is_truthy(format:find("'qcow2'", 1, true))
    local interface = out:match("\n  (interface [^\n]*)")
    assert.is_truthy(interface:find("[default: none]", 1, true))
    local driver = out:match("\n  (driver [^\n]*)")
    assert.is_truthy(driver:find("[only with interface: none scsi]", 1, true))
  end)

  it("prints every field of every kind, and of the sections", function()
    local names = {}
    for _, k in ipairs(qemu.kinds()) do names[#names + 1] = k end
    for _, s in ipairs({ "vm", "memory", "smp", "machine", "qmp", "knobs", "rtc", "kernel" }) do names[#names + 1] = s end
    for _, k in ipairs(names) do
      local code, out, e = H.qlua("--describe", k)
      assert.are.equal("", e)
      assert.are.equal(0, code)
      assert.is_truthy(out:find("^" .. k .. ": "))
      local fields = field_names(k)
      local _, lines = out:gsub("\n", "")
      assert.are.equal(#fields + 1, lines)
      for _, name in ipairs(fields) do
        assert.is_truthy(out:find("\n  " .. name .. " ", 1, true), "--describe " .. k .. " lacks " .. name)
      end
    end
  end)

  it("--describe reaches the sections of sections (numa's nodes and dists)", function()
    local code, out = H.qlua("--describe", "nodes")
    assert.are.equal(0, code)
    assert.is_truthy(out:find("^nodes: a guest NUMA node\n  node_id "), out)
    assert.are.equal("dists", qemu.describe("dists").kind)
  end)

  -- found by the argv fuzzer (fuzz/corpus/argv/regress-describe-hostfwd):
  -- describe looked at the VM's sections but not at the devices' own
  it("--describe reaches the sections of devices (netdev's hostfwd)", function()
    local code, out, e = H.qlua("--describe", "hostfwd")
    assert.are.equal("", e)
    assert.are.equal(0, code)
    assert.are.equal("hostfwd: a port forward of user networking\n" ..
      "  proto            enum         'tcp' or 'udp' ('tcp', 'udp') [default: tcp]\n" ..
      "  host_addr        string       host IPv4 address to listen on (never all addresses unless given " ..
      "'0.0.0.0') [default: 127.0.0.1]\n" ..
      "  host_port        integer      required host port; 0 picks a free one (vm:forwarded_port(guest_port) " ..
      "says which)\n" ..
      "  guest_port       integer      required guest port\n", out)
    local d = qemu.describe("hostfwd")
    assert.are.equal("hostfwd", d.kind)
    local names = {}
    for i, f in ipairs(d.fields) do names[i] = f.name end
    assert.are.same({ "proto", "host_addr", "host_port", "guest_port" }, names)
  end)

  it("an unknown kind: exit 2 with an error", function()
    local code, out, e = H.qlua("--describe", "nope")
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.is_truthy(e:find("^qlua: unknown kind 'nope' %(kinds: "))
    for _, k in ipairs(qemu.kinds()) do
      assert.is_truthy(e:find("[ (]" .. k .. "[,;)]"), "the message does not list " .. k)
    end
    assert.is_truthy(e:find("; sections: vm, [^;]*, hostfwd; options: "), e)
  end)
end)

describe("qemu.kinds(), qemu.kind(), qemu.describe()", function()
  it("kinds() lists every seed kind, each with a constructor", function()
    local kinds = qemu.kinds()
    local set = {}
    for _, k in ipairs(kinds) do set[k] = true end
    for _, k in ipairs(SEED_KINDS) do
      assert.is_true(set[k], "qemu.kinds() lacks " .. k)
      assert.are.equal("function", type(qemu[k]), "no constructor qemu." .. k)
    end
  end)

  it("kinds() is sorted and fresh each time", function()
    local kinds = qemu.kinds()
    local sorted = { table.unpack(kinds) }
    table.sort(sorted)
    assert.are.same(sorted, kinds)
    kinds[1] = "changed"
    assert.are_not.equal("changed", qemu.kinds()[1])
  end)

  it("kind() names a device value's kind, nil for anything else", function()
    assert.are.equal("block", qemu.kind(qemu.block { id = "a", file = "x", format = "raw" }))
    assert.are.equal("bridge", qemu.kind(qemu.bridge { id = "b", type = "pcie", bus = "pcie.0" }))
    assert.are.equal("device", qemu.kind(qemu.device { driver = "e1000" }))
    assert.is_nil(qemu.kind({}))
    assert.is_nil(qemu.kind("block"))
    assert.is_nil(qemu.kind(nil))
    assert.is_nil(qemu.kind(qemu.open("/dev/null", "r")))
  end)

  it("kind() works in qlua too", function()
    local code, out = H.qlua("-e", "io.write(qemu.kind(qemu.serial { id = 's0' }))")
    assert.are.equal(0, code)
    assert.are.equal("serial", out)
  end)

  it("describe() gives every field's name, type, required, default and choices", function()
    local b = qemu.describe("block")
    assert.are.equal("block", b.kind)
    assert.is_true(b.device)
    assert.are.equal("string", type(b.doc))
    local byname = {}
    for _, f in ipairs(b.fields) do byname[f.name] = f end
    assert.are.equal("enum", byname.format.type)
    assert.is_true(byname.format.required)
    assert.is_truthy(byname.format.choices)
    assert.are.equal("raw", byname.format.choices[1])
    assert.are.equal("none", byname.interface.default)
    assert.is_false(byname.read_only.required)
    assert.are.equal("boolean", byname.read_only.type)
    assert.are.same({ field = "interface", values = { "none", "scsi" } }, byname.driver.only_when)
    for _, f in ipairs(b.fields) do
      assert.are.equal("string", type(f.name))
      assert.are.equal("string", type(f.type))
      assert.are.equal("boolean", type(f.required))
      assert.are.equal("string", type(f.doc))
    end
  end)

  it("describe() gives ranges and type-dependent requirements", function()
    local byname = {}
    for _, f in ipairs(qemu.describe("serial").fields) do byname[f.name] = f end
    assert.are.equal(1, byname.max_ports.min)
    assert.are.equal(511, byname.max_ports.max)
    byname = {}
    for _, f in ipairs(qemu.describe("nodes").fields) do byname[f.name] = f end
    assert.are.equal(0, byname.host_nodes.min)  -- a list's range is each element's
    assert.are.equal(127, byname.host_nodes.max)
    byname = {}
    for _, f in ipairs(qemu.describe("netdev").fields) do byname[f.name] = f end
    assert.are.same({ field = "type", values = { "vhostuser" } }, byname.chardev.required_when)
  end)

  it("describe() covers sections", function()
    local vm = qemu.describe("vm")
    assert.is_false(vm.device)
    local byname = {}
    for _, f in ipairs(vm.fields) do byname[f.name] = f end
    assert.are.equal("memory", byname.memory.section)
    assert.are.same({ "size", "slots", "maxmem", "path" }, field_names("memory"))
    assert.are.same({ "cpus", "cores", "threads", "sockets", "maxcpus" }, field_names("smp"))
  end)

  -- Fields govmm grew after the seed and qlua does not have yet (qlua
  -- has added object.file, vfio.devfs_dev and the knobs file_backed_mem,
  -- mem_shared, iommu_platform): none left.
  local LATER = {}

  it("describe() has every appendix field of every seed kind", function()
    local missing = {}
    for kind, want in pairs(APPENDIX) do
      local have = {}
      for _, n in ipairs(field_names(kind)) do have[n] = true end
      for _, n in ipairs(want) do
        if not have[n] and not LATER[kind .. "." .. n] then missing[#missing + 1] = kind .. "." .. n end
      end
    end
    table.sort(missing)
    assert.are.same({}, missing)
  end)

  it("knobs has every knob docs/contract.md §2 lists", function()
    local have = {}
    for _, n in ipairs(field_names("knobs")) do have[n] = true end
    local missing = {}
    for _, n in ipairs({ "no_user_config", "no_defaults", "no_graphic", "daemonize", "hugepages",
                         "mem_prealloc", "file_backed_mem", "mem_shared", "mlock", "realtime", "stopped",
                         "no_reboot", "no_shutdown", "iommu_platform" }) do
      if not have[n] and not LATER[n] then missing[#missing + 1] = n end
    end
    assert.are.same({}, missing)
  end)

  it("a mistyped kind, section or table of options: exit 2 with the name it was meant to be", function()
    for typo, meant in pairs({ blok = "block", machin = "machine", ["recipes.dsk"] = "recipes.disk",
                               ["qmp.executr"] = "qmp.execute", hostfw = "hostfwd" }) do
      local code, out, e = H.qlua("--describe", typo)
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.are.equal("qlua: unknown kind '" .. typo .. "' (did you mean '" .. meant .. "'?)\n", e)
    end
  end)

  it("describe() of an unknown kind raises", function()
    local ok, e = pcall(qemu.describe, "nope")
    assert.is_false(ok)
    assert.is_truthy(e:find("unknown kind 'nope'", 1, true))
    ok, e = pcall(qemu.describe, "netdv")
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'qemu.describe' (unknown kind 'netdv' (did you mean 'netdev'?))", e)
  end)
end)

-- docs/contract.md, appendix: the later govmm kinds and the sections.
describe("describe() has the appendix fields of the later kinds and sections", function()
  local LATER_KINDS = {
    legacy_serial = { "chardev" },
    pvpanic = { "no_shutdown" },
    loader = { "file", "id" },
    pxb_pcie = { "id", "bus", "bus_nr", "numa_node" },
    pcie_root_port = { "id", "bus", "chassis", "slot", "multifunction", "addr", "bus_reserve", "pref32_reserve",
                       "pref64_reserve", "mem_reserve", "io_reserve" },
    pcie_switch_upstream = { "id", "bus" },
    pcie_switch_downstream = { "id", "bus", "chassis", "slot", "bus_reserve", "pref32_reserve", "pref64_reserve",
                               "mem_reserve", "io_reserve" },
    scsi_controller = { "id", "bus", "addr", "iothread" },
    vsock = { "id", "context_id", "vhost_fd" },
    rng = { "id", "filename", "max_bytes", "period" },
    balloon = { "id", "deflate_on_oom", "free_page_reporting" },
    iommu = { "intremap", "device_iotlb", "caching_mode" },
    vm = { "path", "name", "uuid", "machine", "cpu_model", "qmp", "memory", "smp", "devices", "rtc", "global",
           "vga", "kernel", "bios", "knobs", "pflash", "iothreads", "incoming", "pidfile", "fw_cfg", "sandbox",
           "numa", "uid", "gid", "groups", "debug", "log_file", "extra_args" },
    incoming = { "type", "fd", "exec" },
    fw_cfg = { "name", "file", "string" },
    iothreads = { "id" },
    numa = { "nodes", "dists" },
  }

  for kind, want in pairs(LATER_KINDS) do
    it(kind, function()
      local have = {}
      for _, f in ipairs(qemu.describe(kind).fields) do have[f.name] = true end
      local missing = {}
      for _, n in ipairs(want) do
        if not have[n] then missing[#missing + 1] = n end
      end
      assert.are.same({}, missing)
    end)
  end

  it("every later kind has a constructor", function()
    for kind in pairs(LATER_KINDS) do
      if qemu.describe(kind).device then
        assert.are.equal("function", type(qemu[kind]), "no constructor qemu." .. kind)
      end
    end
  end)
end)
