-- bench/many.lua [N [MODE [TIMEOUT]]] - many VMs from one qlua process (run
-- by bench/many.sh): N QEMUs (default 32; 0 measures qlua alone), each
-- `-machine none` with its private QMP channel and a captured console, all
-- running at once.  Timed phases: launching all N (qemu.launch returns once
-- QEMU is exec'd), querying all (query-status on each in turn: the first
-- waits for its QEMU to start, the rest have started meanwhile), shutting
-- all down.  MODE says how:
--   quit      (default) vm.qmp:execute("quit") on each, then vm:wait on each
--   shutdown  vm:shutdown{ timeout = TIMEOUT } on each in turn (default 5 s):
--             -machine none has no ACPI, so QEMU ignores the powerdown and
--             each VM costs the whole timeout before shutdown's `quit` step
-- It prints one line of key=value pairs: times in ms, memory in KiB from
-- /proc/self/status (rss_* = VmRSS after each phase, hwm = VmHWM, qlua's
-- peak, read at the very end; anon = the largest RssAnon of those samples:
-- memory of qlua's own, without the shared libraries' and the binary's
-- pages, whose count moves from run to run).
package.cpath = (arg[0]:gsub("many%.lua$", "?.so")) .. ";" .. package.cpath
local now = require("clock").now

local n = tonumber(arg[1] or 32)
local mode = arg[2] or "quit"
local timeout = tonumber(arg[3] or 5)
assert(mode == "quit" or mode == "shutdown", "MODE: quit or shutdown")

local function status(field)
	local f = assert(io.open("/proc/self/status"))
	local s = f:read("a")
	f:close()
	return tonumber(s:match(field .. ":%s*(%d+)"))
end

local out = { string.format("n=%d mode=%s", n, mode) }
local function note(k, v, fmt)
	out[#out + 1] = string.format("%s=" .. (fmt or "%d"), k, v)
end
local anon = 0
local function rss(k)
	note(k, status("VmRSS"))
	anon = math.max(anon, status("RssAnon"))
end
rss("rss_start")

local description = {
	machine = { type = "none" },
	knobs = { no_defaults = true },
	extra_args = { "-display", "none" },
}

local vms = {}
local t0 = now()
for i = 1, n do
	vms[i] = qemu.launch(description, { console = "capture" })
end
local t1 = now()
rss("rss_launched")

for i = 1, n do
	local r, err = vms[i].qmp:execute("query-status")
	assert(r, err)
	assert(r.status == "running", "VM " .. i .. ": " .. tostring(r.status))
end
local t2 = now()
rss("rss_queried")

local steps = {}
if mode == "quit" then
	for i = 1, n do
		assert(vms[i].qmp:execute("quit"))
	end
	for i = 1, n do
		local st = assert(vms[i]:wait(10))
		assert(st.code == 0, "VM " .. i .. " did not exit with code 0")
		steps.quit = (steps.quit or 0) + 1
	end
else
	for i = 1, n do
		local _, step = vms[i]:shutdown{ timeout = timeout }
		steps[step] = (steps[step] or 0) + 1
	end
end
local t3 = now()

note("launch_ms", (t1 - t0) * 1e3, "%.1f")
note("query_ms", (t2 - t1) * 1e3, "%.1f")
note("shutdown_ms", (t3 - t2) * 1e3, "%.1f")
note("total_ms", (t3 - t0) * 1e3, "%.1f")
local s = {}
for k, v in pairs(steps) do
	s[#s + 1] = k .. ":" .. v
end
table.sort(s)
out[#out + 1] = "steps=" .. (#s > 0 and table.concat(s, ",") or "-")
rss("rss_end")
note("hwm", status("VmHWM"))
note("anon", anon)
print(table.concat(out, " "))
