-- spec/console_spec.lua - console:expect and its relatives (docs/contract.md §5):
-- plain-text matching, expect_line (whole lines only), tail, and what a
-- timeout says (what was waited for, the console's last lines), plus the
-- timeout texts of vm:wait.  The stand-in QEMU (spec/support/fake-qemu)
-- writes given bytes, in given pieces, to the real console socket qlua
-- passes it, so what arrives when is exact; spec/guest_spec.lua does the
-- same with the real guest.
local H = require "helper"
local F = require "support.fake"
local qemu = H.qemu

local T = 20   -- seconds: only bounds a hang

-- Starts the stand-in with a captured console and no QMP; script: shell
-- lines run with $con set to the console's descriptor (`say TEXT` writes
-- TEXT, printf escapes and all, to it).  It sleeps 30 s afterwards.
local function writer(defer, script)
  local d = F.dir()
  H.write(d .. "/config", ([[
for a; do case $a in socket,id=qlua-console,fd=*) con=${a##*fd=} ;; esac; done
say() { printf "$1" >&"$con"; }
%s
echo written >"$FAKE_DIR/written"
FAKE_QEMU_SLEEP=30
]]):gsub("%$FAKE_DIR", d):format(script))
  local vm = qemu.launch(F.vm(d), { console = "capture", qmp = false })
  defer(function() F.stop(vm) end)
  return vm, d
end

-- Waits until the stand-in wrote everything.
local function written(vm, d)
  assert(F.await(d, "written", T, vm), "the stand-in did not write its console text")
end

describe("console:expect", function()
  it("{ plain = true } matches the text as it is: '-', '%', '(' and '.' are no pattern operators", function()
    local defer = F.cleanups(finally)
    local vm, d = writer(defer, [[say 'booting\r\nQLUA-GUEST-READY 100%% (a.b)\r\nnext\r\n']])
    local c = vm.console
    written(vm, d)
    -- as a pattern ('-': "the letter before, as few times as possible") it
    -- never matches, and the timeout says how it was taken
    local m0, err = c:expect("QLUA-GUEST-READY", 0.2)
    assert.is_nil(m0)
    assert.are.equal("timeout after 0.2 s waiting for 'QLUA-GUEST-READY' (Lua pattern); "
      .. "the console's last lines:\n  booting\n  QLUA-GUEST-READY 100% (a.b)\n  next", err)
    -- the options table, alone or after the timeout
    assert.are.equal("QLUA-GUEST-READY", c:expect("QLUA-GUEST-READY", { plain = true, timeout = T }))
    assert.are.equal(" 100% (a.b)", c:expect(" 100% (a.b)", T, { plain = true }))
    -- plain = false is a pattern again, with its captures
    local m, word = c:expect("(%a+)\r\n", { plain = false, timeout = T })
    assert.are.equal("next\r\n", m)
    assert.are.equal("next", word)
  end)

  it("rejects wrong options before it waits", function()
    local defer = F.cleanups(finally)
    local vm = writer(defer, "")
    local c = vm.console
    -- as a script calls it: a method (self is not counted), from a line
    local function err(...)
      local args = table.pack(...)
      local ok, e = pcall(function()
        local r = c:expect(table.unpack(args, 1, args.n))
        return r
      end)
      assert.is_false(ok)
      local where = "spec/console_spec.lua:" .. debug.getinfo(1, "l").currentline - 4 .. ": "
      assert.are.equal(where, e:sub(1, #where))
      return e:sub(#where + 1)
    end
    assert.are.equal("bad argument #2 to 'expect' (unknown field 'plian' (did you mean 'plain'?))",
      err("x", { plian = true }))
    assert.are.equal("bad argument #2 to 'expect' (field 'plain': boolean expected, got string)",
      err("x", { plain = "yes" }))
    assert.are.equal("bad argument #2 to 'expect' (field 'timeout': number expected, got string)",
      err("x", { timeout = "soon" }))
    assert.are.equal("bad argument #3 to 'expect' (field 'timeout': the timeout was given before the options)",
      err("x", 5, { timeout = 5 }))
    assert.are.equal("bad argument #2 to 'expect' (field 'timeout': -1 is out of range (expected a number >= 0))",
      err("x", { timeout = -1 }))
    assert.are.equal("bad argument #3 to 'expect' (nothing expected after the options)",
      err("x", { plain = true }, 5))
  end)

  it("a timeout says what it waited for and shows the console's last 5 lines", function()
    local defer = F.cleanups(finally)
    local long = ("x"):rep(200)
    local vm, d = writer(defer, ([[
say 'one\r\ntwo\r\nthree\r\nfour\r\nbell\007 and\ttab\r\n%s\r\nsix\r\nhalf a line']]):format(long))
    written(vm, d)
    local c = vm.console
    local tail = "  four\n  bell? and\ttab\n  " .. ("x"):rep(160) .. "...\n  six\n  half a line"
    local m, err = c:expect("QLUA-NEVER", { plain = true, timeout = 0.2 })
    assert.is_nil(m)
    assert.are.equal("timeout after 0.2 s waiting for 'QLUA-NEVER' (plain text); the console's last lines:\n"
      .. tail, err)
    m, err = c:expect("\nEND%d+\n", 0.2)
    assert.is_nil(m)
    assert.are.equal("timeout after 0.2 s waiting for '\\nEND%d+\\n' (Lua pattern); the console's last lines:\n"
      .. tail, err)
    m, err = c:expect_line("^END", 0.2)
    assert.is_nil(m)
    assert.are.equal("timeout after 0.2 s waiting for a line with '^END' (Lua pattern); the console's last lines:\n"
      .. tail, err)
    -- tail(n): the same lines, unindented
    assert.are.equal("six\nhalf a line", c:tail(2))
    assert.are.equal((tail:gsub("  ", "")), c:tail())
  end)

  it("a timeout on a console that printed nothing says so", function()
    local defer = F.cleanups(finally)
    local vm, d = writer(defer, "")
    written(vm, d)
    local m, err = vm.console:expect("READY", 0.2)
    assert.is_nil(m)
    assert.are.equal("timeout after 0.2 s waiting for 'READY' (Lua pattern); the console printed nothing", err)
    assert.are.equal("", vm.console:tail())
  end)
end)

describe("console:expect_line", function()
  it("matches whole lines only: a line that is still coming is not returned in part", function()
    local defer = F.cleanups(finally)
    local vm, d = writer(defer, [[
say 'first line\r\nsecond disk says'
sleep 1
say ' hi\r\nthird: 42 (x)\r\n'
]])
    local c = vm.console
    -- the line comes in two pieces a second apart: expect_line waits for its end
    assert.are.equal("second disk says hi", c:expect_line("second disk says", { plain = true, timeout = T }))
    -- captures come after the line; ^ and $ are the line's ends; no \r
    local line, n, word = c:expect_line("^third: (%d+) %((%a)%)$", T)
    assert.are.equal("third: 42 (x)", line)
    assert.are.equal("42", n)
    assert.are.equal("x", word)
    written(vm, d)
    -- the lines before the last match are behind: nothing is matched twice
    local m, err = c:expect_line("first", { plain = true, timeout = 0.1 })
    assert.is_nil(m)
    assert.matches("^timeout after 0%.1 s waiting for a line with 'first' %(plain text%)", err)
  end)

  it("after expect, the rest of the line it matched in counts as a line", function()
    local defer = F.cleanups(finally)
    local vm = writer(defer, [[say 'QLUA-BLK-OK 0123 hi\r\nQLUA-GUEST-DONE\r\n']])
    local c = vm.console
    assert.are.equal("QLUA-BLK-OK", c:expect("QLUA-BLK-OK", { plain = true, timeout = T }))
    assert.are.equal(" 0123 hi", c:expect_line("", T))
    assert.are.equal("QLUA-GUEST-DONE", c:expect_line("QLUA-GUEST-DONE", { plain = true, timeout = T }))
  end)

  it("ends at once with 'closed (...)' when QEMU exits", function()
    local d = F.dir({ EXIT = 3 })
    local vm = qemu.launch(F.vm(d), { console = "capture", qmp = false })
    local m, err = vm.console:expect_line("never", T)
    assert.is_nil(m)
    assert.matches("^closed %(.*QEMU code 3%)$", err)
  end)
end)

describe("vm:wait", function()
  it("a timeout says what it waited for", function()
    local defer = F.cleanups(finally)
    local vm = writer(defer, "")
    local st, err = vm:wait(0.2)
    assert.is_nil(st)
    assert.are.equal(("timeout after 0.2 s waiting for QEMU (pid %d) to exit"):format(vm.pid), err)
    st, err = vm:wait(0)
    assert.is_nil(st)
    assert.are.equal(("timeout after 0 s waiting for QEMU (pid %d) to exit"):format(vm.pid), err)
  end)
end)
