-- spec/html_spec.lua - the HTML report of a matrix run (--html FILE):
-- a real matrix of QEMU -machine none cells ending in every outcome,
-- with hostile text (</script>, <b>, &, quotes, bytes that are not UTF-8)
-- in an axis value, messages, QEMU's stderr and the console log, and the
-- page loaded in a real browser, Debian's headless chromium: no console
-- errors, no network request, the grid's cells counted in the DOM after
-- its script ran, and a screenshot taken (not kept; to look at it:
-- QLUA_HTML_SHOT=/tmp/page.png scripts/check.sh spec/html_spec.lua).
-- The layout, the log truncation and the terminal play-out are checked on
-- plain data through qemu.html itself, as qlua --merge calls it.
local H = require "helper"
local G = require "support.guest"
local html = require "qemu.html"

local q = H.q

local CHROMIUM = "/usr/bin/chromium"
local have_chromium = io.open(CHROMIUM) and true or false
local have_guest = io.open(G.kernel) and io.open(G.initrd) and true or false

-- ---- helpers -----------------------------------------------------------------

local function count(s, plain)
  local n, i = 0, 1
  while true do
    local a, b = s:find(plain, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

-- A temporary directory, removed at the end of the test.
local function tmpdir(finally)
  local dir = assert(io.popen("mktemp -d /tmp/qlua-html.XXXXXX")):read("l")
  assert(dir and dir ~= "", "mktemp failed")
  finally(function() os.execute("rm -rf " .. q(dir)) end)
  return dir
end

-- Runs `qlua SCRIPT ARGS...` in dir under timeout(1): code, stdout, stderr.
local function qlua(dir, limit, ...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = q(a) end
  local code, out, err = H.sh(("cd %s && timeout -k 5 %d %s %s"):format(q(dir), limit, H.qlua_cmd,
    table.concat(words, " ")))
  assert(code ~= 124 and code ~= 137, ("qlua ran over its %d s:\n%s\n%s"):format(limit, out, err))
  return code, out, err
end

-- The browser: headless chromium with a profile of its own (in dir), every
-- request sent to a proxy on a closed port (so none can succeed), and its
-- log on stderr, where the page's console messages come as lines with
-- ":CONSOLE".  Returns code, stdout, stderr.
local function chromium(dir, url, ...)
  assert(have_chromium, CHROMIUM .. " is missing: scripts/deps.sh installs Debian's chromium")
  local args = { "timeout", "-k", "5", "120", CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                 "--no-first-run", "--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0",
                 "--user-data-dir=" .. dir .. "/chromium-profile", ... }
  args[#args + 1] = url
  local words = {}
  for i, a in ipairs(args) do words[i] = q(a) end
  local code, out, err = H.sh(table.concat(words, " "))
  assert(code ~= 124 and code ~= 137, "chromium ran over 120 s:\n" .. err)
  return code, out, err
end

-- What the page did wrong in the browser: its console messages (script
-- errors, what the Content-Security-Policy blocked) and failed requests.
local function browser_complaints(stderr)
  local found = {}
  for line in stderr:gmatch("[^\n]+") do
    if line:find(":CONSOLE", 1, true) or line:find("net::ERR", 1, true) then found[#found + 1] = line end
  end
  return found
end

-- A PNG's width and height (from its IHDR chunk).
local function png_size(path)
  local s = assert(H.slurp(path), "no screenshot at " .. path)
  assert.are.equal("\137PNG\r\n\26\n", s:sub(1, 8))
  local w, h = string.unpack(">I4I4", s, 17)
  return w, h
end

-- ---- a matrix run, in the browser --------------------------------------------

-- case x label: every outcome, each with a plain and a hostile label (the
-- timeout only with the hostile one: an empty place in the grid).  The
-- cells that launch run QEMU's human monitor on the console, so the test
-- can make QEMU echo the label (and two bytes that are not UTF-8) there,
-- with the monitor's line editing escapes.
local HOSTILE = "</script><b>&\"'"
local MATRIX = ([[
local matrix = require "qemu.matrix"
local function none(extra)
  local x = { "-display", "none" }
  for _, a in ipairs(extra) do x[#x + 1] = a end
  return { name = "qlua-html-spec", machine = { type = "none" }, knobs = { no_defaults = true },
           extra_args = x }
end
return matrix {
  name = "report <&>",
  axes = { case = { "pass", "fail", "timeout", "crash", "error", "skip" }, label = { "plain", %q } },
  exclude = { { case = "timeout", label = "plain" } },
  timeout = 120,
  vm = function(cell)
    if cell.case == "error" then error("no VM for " .. cell.label) end
    if cell.case == "crash" then return none({ "-device", cell.label }) end
    return none({ "-mon", "chardev=qlua-console,mode=readline" })
  end,
  test = function(vm, cell)
    assert(vm.console:expect("(qemu)", { plain = true, timeout = 30 }))
    vm.console:send("echo " .. cell.label .. "\255\254\n")
    assert(vm.console:expect("unknown command", { plain = true, timeout = 30 }))
    assert(vm.qmp:execute("query-status"))
    if cell.case == "fail" then error("deliberate failure: " .. cell.label) end
    if cell.case == "skip" then matrix.skip("skipped: " .. cell.label) end
    if cell.case == "timeout" then vm.console:expect("NEVER", 600) end
  end,
}
]]):format(HOSTILE)

describe("--html FILE on a matrix run", function()
  it("writes one self-contained page: grid, timeline and logs, hostile text escaped", function()
    local dir = tmpdir(finally)
    H.write(dir .. "/m.lua", MATRIX)
    local page_path = dir .. "/report.html"
    local code, out, err = qlua(dir, 120, "m.lua", "-j", "2", "--timeout", "4", "--out", dir .. "/runs",
      "--html", page_path)
    assert.are.equal(1, code, out .. err)
    local code2, list = qlua(dir, 30, "m.lua", "--list")
    assert.are.equal(0, code2)
    local ncells = count(list, "\n")
    assert.are.equal(11, ncells)

    local page = assert(H.slurp(page_path))
    -- valid UTF-8 although the console had bytes that are not
    assert.is_number(utf8.len(page))
    assert.is_truthy(#page < 200 * 1024, #page)
    -- one script, the page's own; no element from the run's text
    assert.are.equal(1, count(page, "<script"))
    assert.are.equal(1, count(page, "</script>"))
    assert.are.equal(0, count(page, "<b>"))
    -- nothing from elsewhere: no src at all, every link within the page,
    -- and a policy that forbids any fetch
    assert.is_nil(page:find("src=", 1, true))
    for href in page:gmatch('href="([^"]*)"') do assert.are.equal("#", href:sub(1, 1), href) end
    assert.is_truthy(page:find([[<meta http-equiv="Content-Security-Policy" content="default-src 'none'; ]]
      .. [[style-src 'unsafe-inline'; script-src 'unsafe-inline'">]], 1, true))

    -- the fixed texts
    assert.is_truthy(page:find("<h1>Matrix report &lt;&amp;&gt;</h1>", 1, true))
    assert.matches('<p class="summary" id="summary">11 cells: 2 passed, 2 failed, 1 timeout, 2 crash, '
      .. '2 error, 2 skipped %(%d+%.%d s%)</p>', page)
    assert.is_truthy(page:find('<ul class="legend"><li class="o-pass">pass 2</li><li class="o-fail">fail 2</li>'
      .. '<li class="o-timeout">timeout 1</li><li class="o-crash">crash 2</li><li class="o-error">error 2</li>'
      .. '<li class="o-skip">skip 2</li></ul>', 1, true))
    assert.is_truthy(page:find('<th class="corner">case \\ label</th><th scope="col">plain</th>'
      .. '<th scope="col">&lt;/script&gt;&lt;b&gt;&amp;&quot;&#39;</th>', 1, true))
    assert.are.equal(1, count(page, '<td class="empty"></td>'))
    assert.is_truthy(page:find('<p class="note">Each bar is a cell, from its start to its end; the darker part '
      .. 'is the time to its first console match (boot to marker). Bars in different lanes ran at the same '
      .. 'time: at most 2 at once.</p>', 1, true))
    assert.is_truthy(page:find('<p class="note">Each log shows at most its last 256 KiB (16 KiB once the page holds 8 MiB of logs).</p>', 1, true))

    -- each cell: the escaped message, argv, console, stderr, QMP transcript
    local esc = "&lt;/script&gt;&lt;b&gt;&amp;&quot;&#39;"
    assert.is_truthy(page:find('<pre class="message">m.lua:23: deliberate failure: ' .. esc .. "</pre>", 1, true))
    assert.is_truthy(page:find('<pre class="message">vm(cell): m.lua:14: no VM for ' .. esc .. "</pre>", 1, true))
    assert.is_truthy(page:find("<pre>qemu-system-x86_64: -device " .. esc .. ": &#39;" .. esc
      .. "&#39; is not a valid device model name", 1, true))
    -- the monitor's line editing played out, the bad bytes as '?'
    assert.is_truthy(page:find("(qemu) echo " .. esc .. "??\nunknown command: &#39;echo&#39;\n", 1, true))
    assert.is_truthy(page:find('&quot;execute&quot;:&quot;query-status&quot;', 1, true))
    -- the cells that launched QEMU (all but the 2 errors), with the argv it ran
    local argv = assert(H.slurp(dir .. "/runs/case=pass,label=plain/argv"))
    assert.are.equal(9, count(page, ("<summary>argv (%d arguments)</summary>"):format(count(argv, "\n"))))
    assert.is_truthy(page:find("<pre>qemu-system-x86_64 \\\n  -name guest=qlua-html-spec \\\n  -machine none \\\n", 1, true))
    assert.are.equal(2, count(page, "<summary>argv (none: QEMU did not start)</summary>"))
    -- boot to marker: known where the test's first expect matched
    assert.are.equal(7, select(2, page:gsub("<dt>first console match</dt><dd>%d+%.%d s %(%d+%.%d s after the start%)</dd>", "")))
    assert.are.equal(4, count(page, "<dt>first console match</dt><dd>none</dd>"))

    -- in the browser: no console message, no failed request, the script ran
    local code3, dom, log = chromium(dir, "file://" .. page_path, "--dump-dom")
    assert.are.equal(0, code3, log)
    assert.are.same({}, browser_complaints(log))
    assert.is_truthy(dom:find('<p class="toolbar" id="toolbar">', 1, true), "the page's script did not run")
    -- the grid has the matrix's cells, the timeline a bar per cell, the
    -- logs a section per cell; no element came from the run's text
    assert.are.equal(ncells, count(dom, '<td class="cell '))
    assert.are.equal(ncells, count(dom, '<g class="bar '))
    assert.are.equal(ncells, count(dom, '<details class="cell '))
    assert.are.equal(0, count(dom, "<b>"))
    assert.are.equal(1, count(dom, "<script>"))

    -- the screenshot (the command that makes it; QLUA_HTML_SHOT keeps it)
    local shot = os.getenv("QLUA_HTML_SHOT") or (dir .. "/report.png")
    local code4, _, log2 = chromium(dir, "file://" .. page_path, "--window-size=1280,1600",
      "--screenshot=" .. shot)
    assert.are.equal(0, code4, log2)
    assert.are.same({}, browser_complaints(log2))
    assert.are.same({ 1280, 1600 }, { png_size(shot) })
  end)

  it("the browser check is not blind: a script error and a blocked fetch are seen", function()
    local dir = tmpdir(finally)
    local page = html.page({ name = "control" }, { { name = "a=1", cell = { a = 1 }, outcome = "pass" } })
    page = page:gsub("<script>", '<img src="http://192.0.2.1/x.png"><script>no_such_function();</script><script>', 1)
    H.write(dir .. "/bad.html", page)
    local code, _, log = chromium(dir, "file://" .. dir .. "/bad.html", "--dump-dom")
    assert.are.equal(0, code, log)
    local found = table.concat(browser_complaints(log), "\n")
    assert.is_truthy(found:find("Uncaught ReferenceError: no_such_function is not defined", 1, true), found)
    assert.is_truthy(found:find("Loading the image 'http://192.0.2.1/x.png' violates the following Content "
      .. "Security Policy directive", 1, true), found)
  end)

  it("an --html FILE that cannot be written: the run's error, exit 2", function()
    local dir = tmpdir(finally)
    H.write(dir .. "/m.lua", [[
local matrix = require "qemu.matrix"
return matrix { name = "w", axes = { a = { 1 } }, vm = function() matrix.skip("nothing") end,
                test = function() end }
]])
    local code, out, err = qlua(dir, 30, "m.lua", "--html", dir .. "/no/such/dir/r.html", "--out", dir .. "/runs")
    assert.are.equal(2, code, out .. err)
    assert.are.equal("qlua: cannot write " .. dir .. "/no/such/dir/r.html: No such file or directory\n", err)
  end)
end)

-- ---- the test guest -------------------------------------------------------------------

describe("--html FILE with the test guest #guest", function()
  if not have_guest then
    pending("build/guest is missing: run `make guest` (make check builds it first)")
    return
  end

  it("shows the guest's boot to its first marker and its console", function()
    local dir = tmpdir(finally)
    H.write(dir .. "/m.lua", ([[
local matrix = require "qemu.matrix"
local GUEST = %q
return matrix {
  name = "guest",
  axes = { machine = { "q35" } },
  vm = function(cell)
    return { name = "qlua-html-guest", machine = { type = cell.machine, accel = "tcg" },
             memory = { size = "256M" },
             kernel = { path = GUEST .. "/vmlinux", initrd = GUEST .. "/initrd.gz",
                        params = "console=ttyS0 quiet panic=-1 no_timer_check" },
             knobs = { no_defaults = true, no_reboot = true }, extra_args = { "-display", "none" } }
  end,
  test = function(vm)
    assert(vm.console:expect("QLUA-GUEST-READY", { plain = true, timeout = 90 }))
    assert(vm:wait(60))
  end,
}
]]):format(G.dir))
    local code, out, err = qlua(dir, 150, "m.lua", "--out", dir .. "/runs", "--html", dir .. "/r.html")
    assert.are.equal(0, code, out .. err)
    local page = assert(H.slurp(dir .. "/r.html"))
    local start, marker, after, stop = page:match("<dt>start</dt><dd>(%d+%.%d) s</dd><dt>first console match</dt>"
      .. "<dd>(%d+%.%d) s %((%d+%.%d) s after the start%)</dd><dt>end</dt><dd>(%d+%.%d) s</dd>")
    assert.is_truthy(start, "no boot-to-marker time in the page")
    -- the marker between the start and the end
    start, marker, after, stop = tonumber(start), tonumber(marker), tonumber(after), tonumber(stop)
    assert.is_truthy(start <= marker and marker <= stop, page:match("<dl>.-</dl>"))
    assert.is_truthy(math.abs(marker - start - after) <= 0.11)
    -- the bar's darker part (to the marker) is drawn, inside the bar
    local x0, w = page:match('<rect class="run" x="([%d.]+)" y="%d+" width="([%d.]+)"')
    local bx, bw = page:match('<rect class="boot" x="([%d.]+)" y="%d+" width="([%d.]+)"')
    assert.are.equal(x0, bx)
    assert.is_truthy(tonumber(bw) > 0 and tonumber(bw) <= tonumber(w), bw .. " " .. w)
    assert.is_truthy(page:find("QLUA-GUEST-READY", 1, true))
  end)
end)

-- ---- console:matched_at, the boot-to-marker time ------------------------------------

describe("console:matched_at()", function()
  it("is nil until an expect matches, then the time of the first match", function()
    local qemu = require "qemu"
    local vm <close> = qemu.launch({ name = "qlua-html-matched", machine = { type = "none" },
      knobs = { no_defaults = true },
      extra_args = { "-display", "none", "-mon", "chardev=qlua-console,mode=readline" } }, { console = "capture" })
    assert.is_nil(vm.console:matched_at())
    local m, err = vm.console:expect("NOT-THERE", 0.2)
    assert.is_nil(m)
    assert.matches("^timeout", err)
    assert.is_nil(vm.console:matched_at())
    local before = qemu.now()
    assert(vm.console:expect("(qemu)", { plain = true, timeout = 30 }))
    local first = vm.console:matched_at()
    assert.is_number(first)
    assert.is_truthy(first >= before and first <= qemu.now())
    vm.console:send("info version\n")
    assert(vm.console:expect_line("^%d+%.%d+", 30))
    assert.are.equal(first, vm.console:matched_at())
  end)
end)

-- ---- plain data, as qlua --merge gives it --------------------------------------------

describe("qemu.html on plain data", function()
  -- The grid's header and rows: { { header... }, { row label, outcome or "" per column }... }
  local function grid_of(page)
    local t = page:match('<table class="grid">(.-)</table>')
    local rows = {}
    for tr in t:gmatch("<tr>(.-)</tr>") do
      local row = {}
      for tag, attrs, body in tr:gmatch("<(t[hd])([^>]*)>(.-)</t[hd]>") do
        if tag == "th" then row[#row + 1] = body
        elseif attrs:find("empty", 1, true) then row[#row + 1] = ""
        else row[#row + 1] = body:match('<span class="outcome">(.-)</span>') end
      end
      rows[#rows + 1] = row
    end
    return rows
  end

  it("one axis: its values as rows, one column", function()
    local page = html.page({ name = "one" }, {
      { name = "case=a", index = 1, cell = { case = "a" }, outcome = "pass", start = 0, duration = 1 },
      { name = "case=b", index = 2, cell = { case = "b" }, outcome = "fail", start = 0, duration = 2 },
      { name = "case=c", index = 3, cell = { case = "c" }, outcome = "skip" },
    })
    assert.are.same({ { "case", "outcome" }, { "a", "pass" }, { "b", "fail" }, { "c", "skip" } }, grid_of(page))
    assert.is_truthy(page:find('<p class="note">Not started: <a href="#cell-3">case=c</a>.</p>', 1, true))
  end)

  it("three axes: the first as rows, the others combined as columns, in the matrix's order", function()
    local results = {}
    for _, a in ipairs({ "x", "y" }) do
      for _, b in ipairs({ 2, 1 }) do
        for _, c in ipairs({ true, false }) do
          if not (a == "y" and b == 1 and c == false) then
            local i = #results + 1
            results[i] = { name = ("a=%s,b=%d,c=%s"):format(a, b, c), index = i, cell = { a = a, b = b, c = c },
                           outcome = i % 2 == 1 and "pass" or "timeout", start = i, duration = 1 }
          end
        end
      end
    end
    -- given in any order (shards): the page sorts by index
    table.sort(results, function(p, r) return p.name > r.name end)
    assert.are.same({
      { "a \\ b, c", "b=2, c=true", "b=2, c=false", "b=1, c=true", "b=1, c=false" },
      { "x", "pass", "timeout", "pass", "timeout" },
      { "y", "pass", "timeout", "pass", "" },
    }, grid_of(html.page({ name = "three" }, results)))
  end)

  it("an axis with one value is a note; too many columns move the next axis to the rows", function()
    -- machine: one value; a: 2, b: 3, c: 3 -> 9 combinations of b and c,
    -- more than 6 columns: rows a x b, columns c
    local results = {}
    for _, a in ipairs({ 1, 2 }) do
      for _, b in ipairs({ "x", "y", "z" }) do
        for _, c in ipairs({ "p", "q", "r" }) do
          local i = #results + 1
          results[i] = { name = ("a=%d,b=%s,c=%s,machine=none"):format(a, b, c), index = i,
                         cell = { a = a, b = b, c = c, machine = "none" }, outcome = "pass" }
        end
      end
    end
    local page = html.page({ name = "wide" }, results)
    assert.is_truthy(page:find('<p class="note">In every cell: machine=none.</p>', 1, true))
    local g = grid_of(page)
    assert.are.same({ "a, b \\ c", "p", "q", "r" }, g[1])
    assert.are.same({ "a=1, b=x", "pass", "pass", "pass" }, g[2])
    assert.are.equal(7, #g)
    assert.are.equal(18, count(page, '<td class="cell '))
  end)

  it("shards get lanes of their own; a missing cell is counted and listed", function()
    local page = html.page({ name = "merged", total = 4 }, {
      { name = "n=1", index = 1, cell = { n = 1 }, outcome = "pass", start = 0, duration = 5, shard = "shard-1-of-2" },
      { name = "n=2", index = 2, cell = { n = 2 }, outcome = "pass", start = 0, duration = 3, shard = "shard-2-of-2" },
      { name = "n=3", index = 3, cell = { n = 3 }, outcome = "pass", start = 1, duration = 1, shard = "shard-1-of-2" },
      { name = "n=4", index = 4, cell = { n = 4 }, outcome = "missing" },
    })
    local lanes = {}
    for l in page:gmatch('<text class="lane" x="4" y="%d+">(.-)</text>') do lanes[#lanes + 1] = l end
    assert.are.same({ "shard-1-of-2 lane 1", "shard-1-of-2 lane 2", "shard-2-of-2 lane 1" }, lanes)
    assert.matches('<p class="summary" id="summary">4 cells: 3 passed, 1 missing</p>', page)
    assert.is_truthy(page:find('<li class="o-missing">missing 1</li>', 1, true))
    assert.is_truthy(page:find("at most 2 at once.", 1, true))
    -- a report of fewer cells than the matrix has says so
    page = html.page({ name = "part", total = 5 }, { { name = "n=1", cell = { n = 1 }, outcome = "pass" } })
    assert.is_truthy(page:find("<p class=\"note\">4 of the matrix's 5 cells are not in this report.</p>", 1, true))
  end)

  it("takes results.json's records as they are: wall times, marker, paths in the shard's directory", function()
    local dir = tmpdir(finally)
    os.execute("mkdir -p " .. q(dir .. "/shard-2-of-2/n=2"))
    H.write(dir .. "/shard-2-of-2/n=2/console.log", "booting\nQLUA-GUEST-READY\n")
    H.write(dir .. "/shard-2-of-2/n=2/argv", "qemu-system-x86_64\n-machine\nq35\n")
    local page = html.page({ name = "merged", total = 2 }, {
      { name = "n=2", index = 2, axes = { n = 2 }, outcome = "fail", message = "no", start = 1700000010.5,
        ended = 1700000014.0, duration = 3.5, marker = { what = "'QLUA-GUEST-READY' (plain text)", at = 1700000012.5 },
        dir = "n=2", console = "n=2/console.log", base = dir .. "/shard-2-of-2", shard = { index = 2, count = 2 } },
      { name = "n=1", index = 1, axes = { n = 1 }, outcome = "pass", start = 1700000010.0, duration = 1,
        shard = { index = 1, count = 2 } },
    })
    assert.are.same({ { "n", "outcome" }, { "1", "pass" }, { "2", "fail" } }, grid_of(page))
    assert.is_truthy(page:find("<dt>start</dt><dd>0.5 s</dd><dt>first console match</dt><dd>2.5 s (2.0 s after the start): "
      .. "&#39;QLUA-GUEST-READY&#39; (plain text)</dd><dt>end</dt><dd>4.0 s</dd><dt>shard</dt><dd>shard 2/2</dd>"
      .. "<dt>run directory</dt><dd><code>" .. dir .. "/shard-2-of-2/n=2</code></dd>", 1, true))
    assert.is_truthy(page:find("<summary>console log (25 bytes)</summary>\n<pre>booting\nQLUA-GUEST-READY\n</pre>", 1, true))
    assert.is_truthy(page:find("<summary>argv (3 arguments)</summary>\n<pre>qemu-system-x86_64 \\\n  -machine q35</pre>", 1, true))
    local lanes = {}
    for l in page:gmatch('<text class="lane" x="4" y="%d+">(.-)</text>') do lanes[#lanes + 1] = l end
    assert.are.same({ "shard 1/2 lane 1", "shard 2/2 lane 1" }, lanes)
  end)

  it("a log longer than 256 KiB: its last 256 KiB, from a character boundary, and a note", function()
    local dir = tmpdir(finally)
    -- "é" is 2 bytes: 300 KiB of them, cut in the middle of one
    local big = ("é"):rep(150 * 1024) .. "THE-END"
    H.write(dir .. "/console.log", big)
    local page = html.page({ name = "big" }, {
      { name = "a=1", cell = { a = 1 }, outcome = "pass", dir = dir, logs = { stderr = "x" .. big } },
    })
    local limit = 256 * 1024
    -- from the file: the whole log's place
    local shown = limit - 1  -- the first byte left is the second of an "é"
    assert.is_truthy(page:find(('<details class="log"><summary>console log (%.1f KiB)</summary>\n'
      .. '<p class="cut">The first %d bytes of %d are not shown: the whole log is %s/console.log.</p>\n<pre>é')
      :format(#big / 1024, #big - shown, #big, dir), 1, true))
    -- given as text: no place to name
    assert.is_truthy(page:find(('<p class="cut">The first %d bytes of %d are not shown.</p>\n<pre>é')
      :format(#big + 1 - shown, #big + 1), 1, true))
    assert.is_truthy(page:find("THE-END</pre>", 1, true))
    assert.is_truthy(#page < 3 * limit, #page)
    assert.are.equal("function", type(html.write))
  end)

  it("once the page holds PAGE_LOGS bytes of logs, the next logs show their last 16 KiB", function()
    local saved = html.PAGE_LOGS
    finally(function() html.PAGE_LOGS = saved end)
    html.PAGE_LOGS = 600 * 1024
    local log = ("x"):rep(300 * 1024)
    local results = {}
    for i = 1, 3 do
      results[i] = { name = "n=" .. i, index = i, cell = { n = i }, outcome = "pass", logs = { console = log } }
    end
    local page = html.page({ name = "budget" }, results)
    local cuts = {}
    for skipped in page:gmatch('<p class="cut">The first (%d+) bytes of 307200 are not shown.</p>') do
      cuts[#cuts + 1] = tonumber(skipped)
    end
    -- 256 KiB, 256 KiB (512 KiB shown: under 600), 256 KiB (768: over), then 16 KiB
    assert.are.same({ 307200 - 262144, 307200 - 262144, 307200 - 262144 }, cuts)
    results[4] = { name = "n=4", index = 4, cell = { n = 4 }, outcome = "pass", logs = { console = log } }
    cuts = {}
    page = html.page({ name = "budget" }, results)
    for skipped in page:gmatch('<p class="cut">The first (%d+) bytes of 307200 are not shown.</p>') do
      cuts[#cuts + 1] = tonumber(skipped)
    end
    assert.are.same({ 45056, 45056, 45056, 307200 - 16384 }, cuts)
  end)

  it("plays out what a terminal would show, and escapes the rest", function()
    assert.are.equal("axc", html.play("abc\27[2Dx"))
    assert.are.equal("progress 20%", html.play("progress 10%\rprogress 20%"))
    assert.are.equal("red plain", html.play("\27[1;31mred\27[0m plain"))
    assert.are.equal("ab", html.play("abcd\27[2D\27[K"))
    assert.are.equal("a b", html.play("a\27[1Cb"))
    assert.are.equal("title gone", html.play("\27]0;a title\7title gone"))
    assert.are.equal("ü!", html.play("üx\8!"))
    assert.are.equal("&lt;/script&gt;&lt;b&gt;&amp;&quot;&#39;??? x", html.escape("</script><b>&\"'\255\254\1 x"))
  end)

  it("html.write: the page in a file; a file that cannot be written is an error", function()
    local dir = tmpdir(finally)
    html.write(dir .. "/r.html", { name = "w" }, { { name = "a=1", cell = { a = 1 }, outcome = "pass" } })
    assert.are.equal("<!DOCTYPE html>\n", H.slurp(dir .. "/r.html"):sub(1, 16))
    local ok, err = pcall(html.write, dir .. "/none/r.html", { name = "w" }, {})
    assert.is_false(ok)
    assert.are.equal("cannot write " .. dir .. "/none/r.html: No such file or directory", err)
  end)
end)
