-- qemu.html - a matrix run as one HTML page people can look at: the cells
-- as a grid of axes coloured by outcome, a timeline of when each ran (and
-- which ran at once), and per cell its argv, console log, stderr and QMP
-- transcript, collapsible.  The page is self-contained: inline CSS and a
-- little inline JS, no fonts, images or scripts from anywhere, and a
-- Content-Security-Policy that forbids the browser any fetch.
--
--   html.write(path, info, results)   writes the page (raises "cannot write ...")
--   html.page(info, results)          -> the page as a string
--   html.from_run(run)                -> info, results of a matrix run (qemu.matrix)
--
-- The input is plain data, so that qlua --merge makes the same page from the
-- shards' results.json records, as they are:
--   info    = { name = "boot", total = 12 (cells in the whole matrix; default
--               #results), t0 = the time the run started (default: the
--               earliest start), duration = s (the run's wall time), date =
--               "text", jobs = n, out = "run directory", base = "directory
--               relative paths are in" }                 (all but name optional)
--   results = { { name = "machine=q35,smp=1", index = 1, axes (or cell) = {
--               machine = "q35", smp = 1 }, outcome = "pass"|"fail"|"timeout"|
--               "crash"|"error"|"skip"|"missing", message = "text", start = t,
--               ended = t or duration = s, marker = t or { what = "text", at =
--               t }, shard = "text" or { index, count }, dir = "path", argv =
--               { ... }, console = "path", stderr = "path", qmp = "path",
--               logs = { console = "text", stderr = "text", qmp = "text" },
--               base = "directory" }, ... }
-- Times (start, ended, marker) are on any one clock (wall time across
-- shards): the page shows them from t0.  No start: the cell never started;
-- no marker: no console expect of its test matched.  A shard groups the
-- timeline's lanes (shards ran on machines of their own).  A log is the
-- text in logs, else the file its field names, else the one in dir (argv,
-- console.log, stderr.log, qmp.log); relative paths are in the result's
-- base, else info.base.
--
-- All text from the run (names, messages, logs) may be any bytes: it is
-- made UTF-8 ('?' for bytes that are not), terminal control sequences are
-- played out (a line the guest redrew shows as it ended) and the rest of
-- the control characters shown as '?', then HTML-escaped.  Each log shows
-- at most its last LOG_LIMIT bytes (SMALL_LIMIT once the page holds
-- PAGE_LOGS bytes of logs), with a note saying so.
local report = require "qemu.report"

local M = {}

M.LOG_LIMIT = 256 * 1024
-- Once the page holds PAGE_LOGS bytes of logs, each further log shows only
-- its last SMALL_LIMIT bytes: a large matrix of chatty guests stays a page
-- a browser opens.
M.PAGE_LOGS, M.SMALL_LIMIT = 8 * 1024 * 1024, 16 * 1024
local shown = 0  -- log bytes on the page being made

-- The outcomes in the order the page lists them; colours: background,
-- border.  "missing" is a cell no shard reported (qlua --merge).
M.OUTCOMES = { "pass", "fail", "timeout", "crash", "error", "skip", "missing" }
local COLOURS = {
  pass = { "#d8f0d8", "#2e7d32" }, fail = { "#f9d6d5", "#c62828" },
  timeout = { "#fbe8c4", "#e08a00" }, crash = { "#ead5f2", "#7b1fa2" },
  error = { "#f6dcc8", "#bf360c" }, skip = { "#e3e7ec", "#607d8b" },
  missing = { "#f4f4f4", "#9e9e9e" },
}
local OTHER = { "#eeeeee", "#555555" }  -- an outcome this page does not know

-- The summary's words, as the terminal summary says them.
local WORDS = { pass = "passed", fail = "failed", skip = "skipped" }

-- ---- text --------------------------------------------------------------------

local ESCAPES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

-- Escaped for HTML text and attribute values (quoted with "): UTF-8 with
-- '?' for invalid bytes, control characters but tab and newline as '?'.
local function esc(s)
  s = report.utf8_clean(s)
  s = s:gsub("[%z\1-\8\11-\31\127]", "?")
  return (s:gsub("[&<>\"']", ESCAPES))
end
M.escape = esc

-- One line as a terminal would leave it: carriage return, backspace and
-- the cursor and erase sequences of line editors (ESC[nD, ESC[nC, ESC[K)
-- played out, other escape sequences (colours, titles) dropped.  s is
-- UTF-8 already; the cursor counts characters.
local function play(s)
  if not s:find("[\27\r\8]") then return s end
  local cells, len, cur, i, n = {}, 0, 1, 1, #s
  local function put(ch)
    for j = len + 1, cur - 1 do cells[j] = " " end
    cells[cur] = ch
    if cur > len then len = cur end
    cur = cur + 1
  end
  while i <= n do
    local b = s:byte(i)
    if b == 27 then
      local params, final, e = s:match("^%[([0-?]*)[ -/]*([@-~])()", i + 1)
      if final then
        local k = math.max(1, tonumber(params:match("^%d+")) or 1)
        if final == "D" then
          cur = math.max(1, cur - k)
        elseif final == "C" then
          cur = cur + k
        elseif final == "G" then
          cur = k
        elseif final == "K" then
          local mode = tonumber(params) or 0
          if mode == 0 then
            for j = cur, len do cells[j] = nil end
            len = math.min(len, cur - 1)
          elseif mode == 1 then
            for j = 1, math.min(cur, len) do cells[j] = " " end
          else
            cells, len = {}, 0
          end
        end
        i = e
      else
        -- OSC (a window title: ESC ] ... BEL or ESC \), else ESC and one byte
        i = s:match("^%][^\7\27]*\7()", i + 1) or s:match("^%][^\7\27]*\27\\()", i + 1) or i + 2
      end
    elseif b == 13 then
      cur, i = 1, i + 1
    elseif b == 8 then
      cur, i = math.max(1, cur - 1), i + 1
    else
      local ch = s:match("^[%z\1-\127\194-\244][\128-\191]*", i) or s:sub(i, i)
      put(ch)
      i = i + #ch
    end
  end
  for j = 1, len do cells[j] = cells[j] or " " end
  return table.concat(cells, "", 1, len)
end
M.play = play

-- A log as the page shows it: lines played out, then escaped.
local function log_text(s)
  s = report.utf8_clean(s)
  if not s:find("[\27\r\8]") then return esc(s) end
  local out = {}
  for line, nl in s:gmatch("([^\n]*)(\n?)") do
    out[#out + 1] = play(line) .. nl
  end
  return esc(table.concat(out))
end

local function slurp(path)
  local f = path and io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The last LOG_LIMIT bytes of text (from a character boundary), and how
-- many bytes before them are not shown.
local function limit()
  return shown < M.PAGE_LOGS and M.LOG_LIMIT or M.SMALL_LIMIT
end

local function tail(text)
  if #text <= limit() then return text, 0 end
  local t = text:sub(#text - limit() + 1):gsub("^[\128-\191]+", "")
  return t, #text - #t
end

-- A log file's last LOG_LIMIT bytes without reading all of it.
local function tail_file(path)
  local f = path and io.open(path, "rb")
  if not f then return nil end
  local size = f:seek("end")
  f:seek("set", math.max(0, size - limit()))
  local t = f:read("a") or ""
  f:close()
  t = t:gsub("^[\128-\191]+", "")
  return t, size - #t
end

-- A word for the shell: quoted when it has to be.
local function shell_word(w)
  if w ~= "" and not w:find("[^%w%-%._/=,:@%%+]") then return w end
  return "'" .. w:gsub("'", "'\\''") .. "'"
end

-- The argv as a copy-pasteable command, one option per line.
local function command(argv)
  local out = {}
  for i, a in ipairs(argv) do
    if i > 1 then out[#out + 1] = a:sub(1, 1) == "-" and " \\\n  " or " " end
    out[#out + 1] = shell_word(a)
  end
  return table.concat(out)
end

local function secs(t)
  return ("%.1f s"):format(t)
end

local function first_line(s)
  return (tostring(s or ""):gsub("\n.*", ""))
end

-- ---- the grid ------------------------------------------------------------------

-- The cell's axes: its cell table, else parsed from its name.
local function axes_of(r)
  if type(r.cell) == "table" then return r.cell end
  local c = {}
  for k, v in tostring(r.name):gmatch("([^,=]+)=([^,]*)") do c[k] = v end
  return c
end

-- How many columns a grid may have before more axes go to its rows.
M.MAX_COLUMNS = 6

-- The grid's shape.  Axes whose value is the same in every cell are left
-- out (named in a note); of the others, in name order, the first makes the
-- rows and the rest, combined, the columns, unless that makes more than
-- MAX_COLUMNS columns: then the next axes join the rows too.  Values come
-- in the order the cells first have them (the matrix's order).  Returns {
-- corner, constant = { "k=v" }, rows = { {key, label} }, cols = { {key,
-- label} }, at = { [rowkey] = { [colkey] = result } } }.
local function layout(results)
  local keyset, keys = {}, {}
  for _, r in ipairs(results) do
    for k in pairs(axes_of(r)) do
      if not keyset[tostring(k)] then keyset[tostring(k)] = true; keys[#keys + 1] = tostring(k) end
    end
  end
  table.sort(keys)
  -- the distinct values of each axis (an absent axis counts as one)
  local distinct = {}
  for _, k in ipairs(keys) do
    local seen, n = {}, 0
    for _, r in ipairs(results) do
      local v = axes_of(r)[k]
      local vk = v == nil and "\0absent" or tostring(v)
      if not seen[vk] then seen[vk] = true; n = n + 1 end
    end
    distinct[k] = n
  end
  local varying, constant = {}, {}
  for _, k in ipairs(keys) do
    if distinct[k] > 1 then varying[#varying + 1] = k
    else
      local v = results[1] and axes_of(results[1])[k]
      constant[#constant + 1] = k .. "=" .. tostring(v)
    end
  end
  if #varying == 0 and #keys > 0 then varying, constant = { keys[1] }, {} end

  -- the text of a cell's values on some axes: "v" for one axis, else "k=v, k=v"
  local function part(a, axes, lo, hi)
    local key, label = {}, {}
    for i = lo, hi do
      local v = a[axes[i]]
      if v ~= nil then
        key[#key + 1] = axes[i] .. "=" .. tostring(v)
        label[#label + 1] = hi == lo and tostring(v) or (axes[i] .. "=" .. tostring(v))
      elseif hi == lo then
        label[#label + 1] = "(no " .. axes[i] .. ")"
      end
    end
    return table.concat(key, ","), table.concat(label, ", ")
  end
  local function columns(k)
    local seen, n = {}, 0
    for _, r in ipairs(results) do
      local key = part(axes_of(r), varying, k + 1, #varying)
      if not seen[key] then seen[key] = true; n = n + 1 end
    end
    return n
  end
  local k = 1
  while k < #varying - 1 and columns(k) > M.MAX_COLUMNS do k = k + 1 end

  local g = { rows = {}, cols = {}, at = {}, constant = constant }
  local seenr, seenc = {}, {}
  for _, r in ipairs(results) do
    local a = axes_of(r)
    local rk, rl = part(a, varying, 1, math.min(k, #varying))
    local ck, cl = "", "outcome"
    if #varying > k then
      ck, cl = part(a, varying, k + 1, #varying)
      if cl == "" then cl = "(none)" end
    end
    if rl == "" then rl = "(none)" end
    rk = "r:" .. rk
    if not seenr[rk] then seenr[rk] = true; g.rows[#g.rows + 1] = { rk, rl } end
    if not seenc[ck] then seenc[ck] = true; g.cols[#g.cols + 1] = { ck, cl } end
    g.at[rk] = g.at[rk] or {}
    if g.at[rk][ck] then
      -- two cells in one place (their names differ only on a constant
      -- axis): the later one gets a column of its own
      ck = ck .. "#" .. tostring(r.index)
      g.cols[#g.cols + 1] = { ck, cl }
    end
    g.at[rk][ck] = r
  end
  local rowaxes = table.concat(varying, ", ", 1, math.min(k, #varying))
  g.corner = #varying > k and (rowaxes .. " \\ " .. table.concat(varying, ", ", k + 1, #varying)) or rowaxes
  return g
end

local function oclass(o)
  return COLOURS[o] and ("o-" .. o) or "o-other"
end

local function grid(out, results)
  local g = layout(results)
  if #g.constant > 0 then
    out[#out + 1] = '<p class="note">In every cell: ' .. esc(table.concat(g.constant, ", ")) .. ".</p>\n"
  end
  out[#out + 1] = '<div class="scroll"><table class="grid">\n<thead><tr><th class="corner">' .. esc(g.corner) .. "</th>"
  for _, c in ipairs(g.cols) do out[#out + 1] = '<th scope="col">' .. esc(c[2]) .. "</th>" end
  out[#out + 1] = "</tr></thead>\n<tbody>\n"
  for _, row in ipairs(g.rows) do
    out[#out + 1] = '<tr><th scope="row">' .. esc(row[2]) .. "</th>"
    for _, col in ipairs(g.cols) do
      local r = g.at[row[1]][col[1]]
      if r then
        local o = tostring(r.outcome)
        local tip = r.name .. ": " .. o .. (r.message and (" - " .. first_line(r.message)) or "")
        out[#out + 1] = ('<td class="cell %s" title="%s"><a href="#cell-%s"><span class="name">%s</span>'
          .. '<span class="outcome">%s</span><span class="time">%s</span></a></td>'):format(
          oclass(o), esc(tip), esc(tostring(r.index)), esc(r.name), esc(o),
          r.start and secs(r.duration or 0) or "not run")
      else
        out[#out + 1] = '<td class="empty"></td>'
      end
    end
    out[#out + 1] = "</tr>\n"
  end
  out[#out + 1] = "</tbody></table></div>\n"
end

-- ---- the timeline ----------------------------------------------------------------

-- Lanes: each cell in the lowest lane free at its start, per shard.
-- Returns { { label, lanes = { { r, ... }, ... } } }, the longest time and
-- the most cells at once.
local function lanes(results)
  local groups, byname, most, T = {}, {}, 0, 0
  local started = {}
  for _, r in ipairs(results) do
    if r.start then started[#started + 1] = r end
  end
  table.sort(started, function(a, b)
    if a.start ~= b.start then return a.start < b.start end
    return (tonumber(a.index) or 0) < (tonumber(b.index) or 0)
  end)
  for _, r in ipairs(started) do
    local key = r.shard and tostring(r.shard) or ""
    local g = byname[key]
    if not g then
      g = { label = key, lanes = {}, ends = {} }
      byname[key] = g
      groups[#groups + 1] = g
    end
    local stop = r.start + (r.duration or 0)
    if stop > T then T = stop end
    local placed
    for i, e in ipairs(g.ends) do
      if e <= r.start + 1e-6 then placed = i break end
    end
    if not placed then
      placed = #g.ends + 1
      g.lanes[placed] = {}
    end
    g.ends[placed] = stop
    table.insert(g.lanes[placed], r)
    if #g.lanes > most then most = #g.lanes end
  end
  table.sort(groups, function(a, b) return a.label < b.label end)
  return groups, T, most
end

-- A tick step of 1, 2 or 5 times a power of ten, giving about 8 ticks.
local function tick_step(T)
  local raw = T / 8
  local p = 10 ^ math.floor(math.log(raw, 10))
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if raw <= m * p then return m * p end
  end
  return 10 * p
end

local function timeline(out, results, info)
  local groups, T, most = lanes(results)
  if info.duration and info.duration > T then T = info.duration end
  if T <= 0 then T = 1 end
  local LEFT, W, LANE, TOP = 90, 900, 24, 24
  local nl = 0
  for _, g in ipairs(groups) do nl = nl + #g.lanes end
  local H = TOP + nl * LANE + 8
  local function x(t) return LEFT + t / T * W end
  out[#out + 1] = ('<svg class="timeline" viewBox="0 0 %d %d" width="100%%" role="img" '
    .. 'aria-label="timeline of the cells">\n'):format(LEFT + W + 10, H)
  local step = tick_step(T)
  -- as many decimals as the step needs: 0.05 s steps say "0.15 s"
  local tick_format = "%." .. math.max(0, -math.floor(math.log(step, 10) + 1e-9)) .. "f s"
  local t = 0
  while t <= T + 1e-9 do
    out[#out + 1] = ('<line class="tick" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>'
      .. '<text class="tick" x="%.1f" y="14">%s</text>\n'):format(x(t), TOP - 4, x(t), H - 4, x(t),
      tick_format:format(t))
    t = t + step
  end
  local y = TOP
  for _, g in ipairs(groups) do
    for li, lane in ipairs(g.lanes) do
      local label = (g.label ~= "" and (g.label .. " ") or "") .. "lane " .. li
      out[#out + 1] = ('<text class="lane" x="4" y="%d">%s</text>\n'):format(y + 16, esc(label))
      for _, r in ipairs(lane) do
        local o = tostring(r.outcome)
        local x0, x1 = x(r.start), x(r.start + (r.duration or 0))
        local w = math.max(2, x1 - x0)
        local tip = ("%s: %s, start %s, end %s%s"):format(r.name, o, secs(r.start),
          secs(r.start + (r.duration or 0)),
          r.marker and (", first console match " .. secs(r.marker)) or "")
        out[#out + 1] = ('<a href="#cell-%s"><g class="bar %s"><title>%s</title>'
          .. '<rect class="run" x="%.1f" y="%d" width="%.1f" height="%d" rx="2"/>'):format(
          esc(tostring(r.index)), oclass(o), esc(tip), x0, y + 3, w, LANE - 6)
        if r.marker and r.marker >= r.start then
          local xm = math.min(x(r.marker), x0 + w)
          out[#out + 1] = ('<rect class="boot" x="%.1f" y="%d" width="%.1f" height="%d" rx="2"/>'
            .. '<line class="marker" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>'):format(
            x0, y + 3, xm - x0, LANE - 6, xm, y + 1, xm, y + LANE - 1)
        end
        -- the name inside the bar when it fits (at most about 7 units a character at font size 11)
        local chars = math.floor((w - 8) / 7)
        if chars >= 4 then
          local name = report.utf8_clean(r.name)
          if utf8.len(name) > chars then
            name = name:sub(1, utf8.offset(name, chars) - 1) .. "…"
          end
          out[#out + 1] = ('<text class="name" x="%.1f" y="%d">%s</text>'):format(x0 + 4, y + 16, esc(name))
        end
        out[#out + 1] = "</g></a>\n"
      end
      y = y + LANE
    end
  end
  out[#out + 1] = "</svg>\n"
  local notrun = {}
  for _, r in ipairs(results) do
    if not r.start then notrun[#notrun + 1] = '<a href="#cell-' .. esc(tostring(r.index)) .. '">' .. esc(r.name) .. "</a>" end
  end
  out[#out + 1] = ('<p class="note">Each bar is a cell, from its start to its end; the darker part is '
    .. 'the time to its first console match (boot to marker). Bars in different lanes ran at the '
    .. 'same time: at most %d at once.</p>\n'):format(most)
  if #notrun > 0 then
    out[#out + 1] = '<p class="note">Not started: ' .. table.concat(notrun, ", ") .. ".</p>\n"
  end
end

-- ---- the cells' logs ---------------------------------------------------------------

local function log_block(out, title, text, skipped, where)
  shown = shown + #(text or "")
  if not text then
    out[#out + 1] = ('<details class="log"><summary>%s (none)</summary></details>\n'):format(title)
    return
  end
  local size = #text + skipped
  out[#out + 1] = ('<details class="log"><summary>%s (%s)</summary>\n'):format(title,
    size == 0 and "empty" or (size < 1024 and (size .. " bytes") or ("%.1f KiB"):format(size / 1024)))
  if skipped > 0 then
    out[#out + 1] = ('<p class="cut">The first %d bytes of %d are not shown%s.</p>\n'):format(
      skipped, size, where and (": the whole log is " .. esc(where)) or "")
  end
  if size > 0 then out[#out + 1] = "<pre>" .. log_text(text) .. "</pre>\n" end
  out[#out + 1] = "</details>\n"
end

-- A log of a result: its text, else its file (read from its end).
local function get_log(r, field, file)
  if type(r.logs) == "table" and r.logs[field] ~= nil then
    local t, skipped = tail(tostring(r.logs[field]))
    return t, skipped, nil
  end
  local path = r[field] or (r.dir and (r.dir .. "/" .. file))
  local t, skipped = tail_file(path)
  return t, skipped or 0, t and path
end

local function get_argv(r)
  if type(r.argv) == "table" then return r.argv end
  local text = slurp(r.dir and (r.dir .. "/argv"))
  if not text then return nil end
  local argv = {}
  for line in text:gmatch("([^\n]*)\n") do argv[#argv + 1] = line end
  return argv
end

local function cell_details(out, r)
  local o = tostring(r.outcome)
  out[#out + 1] = ('<details class="cell %s" id="cell-%s"%s><summary><span class="badge">%s</span> '
    .. '<span class="name">%s</span> <span class="time">%s</span>%s</summary>\n<div class="body">\n'):format(
    oclass(o), esc(tostring(r.index)), "", esc(o), esc(r.name),
    r.start and secs(r.duration or 0) or "not run",
    r.message and o ~= "pass" and (' <span class="msg">' .. esc(first_line(r.message)) .. "</span>") or "")
  local facts = {}
  if r.start then
    facts[#facts + 1] = "<dt>start</dt><dd>" .. secs(r.start) .. "</dd>"
    facts[#facts + 1] = "<dt>first console match</dt><dd>"
      .. (r.marker and (secs(r.marker) .. " (" .. secs(r.marker - r.start) .. " after the start)"
          .. (r.marker_what and (": " .. esc(r.marker_what)) or "")) or "none")
      .. "</dd>"
    facts[#facts + 1] = "<dt>end</dt><dd>" .. secs(r.start + (r.duration or 0)) .. "</dd>"
  end
  if r.shard then facts[#facts + 1] = "<dt>shard</dt><dd>" .. esc(tostring(r.shard)) .. "</dd>" end
  if r.dir then facts[#facts + 1] = "<dt>run directory</dt><dd><code>" .. esc(r.dir) .. "</code></dd>" end
  if #facts > 0 then out[#out + 1] = "<dl>" .. table.concat(facts) .. "</dl>\n" end
  if r.message then out[#out + 1] = '<pre class="message">' .. esc(r.message) .. "</pre>\n" end
  local argv = get_argv(r)
  if argv then
    out[#out + 1] = ('<details class="log"><summary>argv (%d arguments)</summary>\n<pre>%s</pre>\n</details>\n')
      :format(#argv, esc(command(argv)))
  else
    out[#out + 1] = '<details class="log"><summary>argv (none: QEMU did not start)</summary></details>\n'
  end
  log_block(out, "console log", get_log(r, "console", "console.log"))
  log_block(out, "stderr", get_log(r, "stderr", "stderr.log"))
  log_block(out, "QMP transcript", get_log(r, "qmp", "qmp.log"))
  out[#out + 1] = "</div></details>\n"
end

-- ---- the page ------------------------------------------------------------------------

local CSS = [[
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; color: #1d232a; background: #fff; }
h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 17px; margin: 28px 0 8px;
  border-bottom: 1px solid #dde1e6; padding-bottom: 4px; }
.summary { font-size: 16px; margin: 4px 0; } .meta, .note, .cut { color: #5a6470; margin: 4px 0; }
code, pre { font: 12px/1.35 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.legend { list-style: none; padding: 0; margin: 8px 0 12px; display: flex; flex-wrap: wrap; gap: 8px; }
.legend li { padding: 2px 10px; border-radius: 12px; border: 1px solid; font-size: 13px; }
.legend li.zero { opacity: .45; }
.scroll { overflow-x: auto; }
table.grid { border-collapse: separate; border-spacing: 4px; }
table.grid th { font-weight: 600; font-size: 13px; text-align: left; padding: 2px 6px; color: #3a4450; }
table.grid thead th { vertical-align: bottom; } th.corner { color: #7a8490; font-weight: 400; }
td.cell { border-left: 5px solid; border-radius: 4px; padding: 0; min-width: 150px; vertical-align: top; }
td.cell a { display: block; padding: 5px 8px; color: inherit; text-decoration: none; }
td.cell a:hover { outline: 2px solid #1d232a; border-radius: 4px; }
td.cell .name { display: block; font-size: 12px; word-break: break-all; color: #3a4450; }
td.cell .outcome { font-weight: 700; margin-right: 8px; } td.cell .time { font-size: 12px; color: #3a4450; }
td.empty { background: repeating-linear-gradient(45deg, #fafafa, #fafafa 6px, #f0f0f0 6px, #f0f0f0 12px);
  border-radius: 4px; }
svg.timeline { max-width: 1200px; display: block; background: #fcfcfd; border: 1px solid #e4e7eb; border-radius: 4px; }
svg .tick { stroke: #e4e7eb; fill: #7a8490; font-size: 11px; } svg text.tick { stroke: none; text-anchor: middle; }
svg text.lane { font-size: 11px; fill: #5a6470; } svg text.name { font-size: 11px; fill: #1d232a; pointer-events: none; }
svg .bar .run { stroke-width: 1; } svg .bar .boot { opacity: .35; } svg .bar .marker { stroke: #1d232a; stroke-width: 1.5; }
svg a:hover .run { stroke-width: 2.5; }
.toolbar { margin: 8px 0; } .toolbar button { font: inherit; font-size: 13px; padding: 2px 10px; margin-right: 6px; }
details.cell { border: 1px solid #dde1e6; border-left: 5px solid; border-radius: 4px; margin: 6px 0; background: #fff; }
details.cell > summary { cursor: pointer; padding: 6px 10px; list-style-position: inside; }
details.cell > summary .name { font-weight: 600; } details.cell > summary .time { color: #5a6470; }
details.cell > summary .msg { color: #5a6470; font-size: 13px; }
.badge { display: inline-block; min-width: 56px; text-align: center; border-radius: 3px; padding: 0 6px;
  font-size: 12px; font-weight: 700; color: #fff; }
.body { padding: 0 12px 10px 24px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; margin: 6px 0; font-size: 13px; }
dt { color: #5a6470; } dd { margin: 0; }
details.log { margin: 4px 0; } details.log > summary { cursor: pointer; color: #2a4d7a; }
pre { background: #f6f8fa; border: 1px solid #e4e7eb; border-radius: 4px; padding: 8px; margin: 4px 0;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 600px; overflow: auto; }
pre.message { background: #fff8f6; }
details.cell:target { box-shadow: 0 0 0 3px #9ec1f0; }
]]

local JS = [[
(function () {
  // a link to a cell (#cell-N) opens its details
  function openTarget() {
    var el = location.hash ? document.getElementById(location.hash.slice(1)) : null;
    if (el && el.tagName === "DETAILS") el.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  function all(open) {
    return function () {
      var ds = document.querySelectorAll("#cells details.cell");
      for (var i = 0; i < ds.length; i++) ds[i].open = open;
    };
  }
  document.getElementById("expand").addEventListener("click", all(true));
  document.getElementById("collapse").addEventListener("click", all(false));
  // the buttons need this script: shown only once it ran
  document.getElementById("toolbar").hidden = false;
})();
]]

local function colour_rules()
  local out = {}
  local function rule(cls, c)
    out[#out + 1] = ("td.cell.%s, .legend li.%s { background: %s; border-color: %s; }\n"
      .. "details.cell.%s { border-left-color: %s; } .%s .badge { background: %s; }\n"
      .. "svg .bar.%s .run { fill: %s; stroke: %s; } svg .bar.%s .boot { fill: %s; }\n"):format(
      cls, cls, c[1], c[2], cls, c[2], cls, c[2], cls, c[1], c[2], cls, c[2])
  end
  for _, o in ipairs(M.OUTCOMES) do rule("o-" .. o, COLOURS[o]) end
  rule("o-other", OTHER)
  return table.concat(out)
end

-- The counts, as the terminal summary words them: "1 passed, 2 failed".
local function counts(results)
  local n, extra = {}, {}
  for _, r in ipairs(results) do
    local o = tostring(r.outcome)
    if not n[o] then
      n[o] = 0
      if not COLOURS[o] then extra[#extra + 1] = o end
    end
    n[o] = n[o] + 1
  end
  local order = {}
  for _, o in ipairs(M.OUTCOMES) do order[#order + 1] = o end
  for _, o in ipairs(extra) do order[#order + 1] = o end
  return n, order
end

-- A path as given, or in base when relative.
local function in_base(path, base)
  if type(path) ~= "string" or path:sub(1, 1) == "/" or not base then return path end
  return base .. "/" .. path
end

-- The results as the page uses them (copies: the caller's tables stay as
-- they are): cell, index, name; times in seconds from t0, duration; the
-- marker's time and text; the shard's label; paths made whole.
local function normalize(info, results)
  local sorted, t0 = {}, info.t0
  for _, r in ipairs(results) do
    if not info.t0 and tonumber(r.start) and (not t0 or r.start < t0) then t0 = r.start end
  end
  t0 = t0 or 0
  for i, r0 in ipairs(results) do
    local r = {}
    for k, v in pairs(r0) do r[k] = v end
    r.cell = type(r.cell) == "table" and r.cell or r.axes
    r.index = r.index or i
    r.name = tostring(r.name or r.index)
    if type(r.marker) == "table" then
      r.marker_what = r.marker.what and tostring(r.marker.what)
      r.marker = r.marker.at
    end
    r.start, r.marker = tonumber(r.start), tonumber(r.marker)
    if r.start and not r.duration and tonumber(r.ended) then r.duration = r.ended - r.start end
    r.duration = tonumber(r.duration)
    if r.start then r.start = r.start - t0 end
    if r.marker then r.marker = r.marker - t0 end
    if type(r.shard) == "table" then
      r.shard = ("shard %s/%s"):format(tostring(r.shard.index or r.shard[1]), tostring(r.shard.count or r.shard[2]))
    end
    local base = r.base or info.base
    for _, f in ipairs({ "dir", "console", "stderr", "qmp" }) do r[f] = in_base(r[f], base) end
    sorted[i] = r
  end
  return sorted
end

function M.page(info, results)
  info = info or {}
  local name = tostring(info.name or "matrix")
  local sorted = normalize(info, results)
  table.sort(sorted, function(a, b)
    local ia, ib = tonumber(a.index), tonumber(b.index)
    if ia and ib and ia ~= ib then return ia < ib end
    return a.name < b.name
  end)
  local n, order = counts(sorted)
  local total = info.total or #sorted
  local parts = {}
  for _, o in ipairs(order) do
    if n[o] then parts[#parts + 1] = ("%d %s"):format(n[o], WORDS[o] or o) end
  end
  local summary = ("%d cells: %s"):format(total, #parts > 0 and table.concat(parts, ", ") or "none")
  if info.duration then summary = summary .. (" (%s)"):format(secs(info.duration)) end

  local out = {}
  out[#out + 1] = '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
  -- no fetch of any kind: everything the page needs is in it
  out[#out + 1] = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    .. 'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'">\n'
  out[#out + 1] = '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
  out[#out + 1] = ("<title>%s: %s</title>\n"):format(esc(name), esc(summary))
  out[#out + 1] = "<style>\n" .. CSS .. colour_rules() .. "</style>\n</head>\n<body>\n"
  out[#out + 1] = ('<header>\n<h1>Matrix %s</h1>\n<p class="summary" id="summary">%s</p>\n'):format(esc(name), esc(summary))
  local meta = {}
  if info.date then meta[#meta + 1] = "started " .. esc(info.date) end
  if info.jobs then meta[#meta + 1] = ("-j %d"):format(info.jobs) end
  if info.out then meta[#meta + 1] = "logs in <code>" .. esc(info.out) .. "</code>" end
  if #meta > 0 then out[#out + 1] = '<p class="meta">' .. table.concat(meta, "; ") .. "</p>\n" end
  if total > #sorted then
    out[#out + 1] = ('<p class="note">%d of the matrix\'s %d cells are not in this report.</p>\n')
      :format(total - #sorted, total)
  end
  out[#out + 1] = "</header>\n"

  out[#out + 1] = '<section id="grid">\n<h2>Cells</h2>\n<ul class="legend">'
  for _, o in ipairs(order) do
    if n[o] or o ~= "missing" then
      out[#out + 1] = ('<li class="%s%s">%s %d</li>'):format(oclass(o), n[o] and "" or " zero", esc(o), n[o] or 0)
    end
  end
  out[#out + 1] = "</ul>\n"
  grid(out, sorted)
  out[#out + 1] = "</section>\n"

  out[#out + 1] = '<section id="timeline">\n<h2>Timeline</h2>\n'
  timeline(out, sorted, info)
  out[#out + 1] = "</section>\n"

  out[#out + 1] = '<section id="cells">\n<h2>Logs</h2>\n<p class="toolbar" id="toolbar" hidden><button id="expand" type="button">'
    .. 'Expand all</button><button id="collapse" type="button">Collapse all</button></p>\n'
  out[#out + 1] = ('<p class="note">Each log shows at most its last %d KiB (%d KiB once the page holds %d MiB '
    .. 'of logs).</p>\n'):format(M.LOG_LIMIT // 1024, M.SMALL_LIMIT // 1024, M.PAGE_LOGS // (1024 * 1024))
  shown = 0
  for _, r in ipairs(sorted) do cell_details(out, r) end
  out[#out + 1] = "</section>\n<script>\n" .. JS .. "</script>\n</body>\n</html>\n"
  return table.concat(out)
end

function M.write(path, info, results)
  report.write(path, M.page(info, results))
end

-- The page's data from a matrix run (qemu.matrix's run state): times on
-- the runner's clock (qemu.now()), logs read from the cells' directories.
-- The marker: when the test's first console:expect matched.
function M.from_run(run)
  local ended = run.ended or run.started
  local info = {
    name = run.matrix.name, total = #run.records, t0 = run.started, duration = ended - run.started,
    jobs = run.jobs, out = run.results_dir or run.out,
    date = os.date("!%Y-%m-%d %H:%M:%S UTC", os.time() - math.floor(ended - run.started + 0.5)),
  }
  local results = {}
  for i, r in ipairs(run.records) do
    local cell = {}
    for k, v in pairs(r.cell) do cell[k] = v end
    local ok, at = pcall(function() return r.vm and r.vm.console and r.vm.console:matched_at() end)
    results[i] = {
      name = r.name, index = r.cell.index, cell = cell, outcome = r.outcome, message = r.message,
      start = r.started, duration = r.duration, marker = ok and at or nil, dir = r.dir,
    }
  end
  return info, results
end

return M
