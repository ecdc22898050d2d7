-- spec/helper.lua - what the specs share: running qlua, golden .args files,
-- temporary directories, and the real QEMU.
local qemu = require "qemu"
local assert = require "luassert"

local H = {}

H.root = assert(io.popen("pwd")):read("l")
H.qemu_bin = os.getenv("QLUA_QEMU") or "qemu-system-x86_64"

-- Quotes s for /bin/sh.
function H.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The qlua under test: ./qlua, or $QLUA_BIN (make check-asan's sanitized
-- build).  Shell commands run it as H.qlua_cmd: $QLUA_WRAP goes before it
-- (make check-valgrind's valgrind), keeping its own path as argv[0].
H.qlua_bin = os.getenv("QLUA_BIN") or H.root .. "/qlua"
H.qlua_cmd = H.q(H.qlua_bin)
if (os.getenv("QLUA_WRAP") or "") ~= "" then
  H.qlua_cmd = os.getenv("QLUA_WRAP") .. " " .. H.qlua_cmd
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
H.slurp = slurp

function H.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- A fresh directory, removed at exit of the busted process.
local tmpdirs = {}
function H.tmpdir()
  local d = assert(io.popen("mktemp -d /tmp/qlua-spec.XXXXXX")):read("l")
  tmpdirs[#tmpdirs + 1] = d
  return d
end
setmetatable(tmpdirs, { __gc = function(t)
  for _, d in ipairs(t) do os.execute("rm -rf " .. H.q(d)) end
end })

-- Runs a shell command line; returns exit code, stdout, stderr.
function H.sh(cmd)
  local d = H.tmpdir()
  local ok, how, code = os.execute("(" .. cmd .. ") >" .. d .. "/out 2>" .. d .. "/err")
  if how == "signal" then code = 128 + code end
  return code, slurp(d .. "/out"), slurp(d .. "/err")
end

-- Runs ./qlua with the given argument words; returns code, stdout, stderr.
function H.qlua(...)
  local words = {}
  for i, a in ipairs({ ... }) do words[i] = H.q(a) end
  return H.sh(H.qlua_cmd .. " " .. table.concat(words, " "))
end

-- Writes a script into a temporary file and returns its path.
function H.script(text, name)
  return H.write(H.tmpdir() .. "/" .. (name or "vm.lua"), text)
end

-- argv as a golden .args text: the binary, then one option per line with
-- its value (libvirt's layout), so a change reads as a diff.
function H.args_text(argv)
  local lines, i = { argv[1] }, 2
  while i <= #argv do
    local a = argv[i]
    if a:sub(1, 1) == "-" and argv[i + 1] and argv[i + 1]:sub(1, 1) ~= "-" then
      lines[#lines + 1] = a .. " " .. argv[i + 1]
      i = i + 2
    else
      lines[#lines + 1] = a
      i = i + 1
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Compares argv with spec/golden/NAME.args.  QLUA_UPDATE_GOLDEN=1 rewrites
-- the file instead (review the diff before committing it).
function H.golden(name, argv)
  local path = H.root .. "/spec/golden/" .. name .. ".args"
  local text = H.args_text(argv)
  if os.getenv("QLUA_UPDATE_GOLDEN") == "1" then
    H.write(path, text)
  end
  local want = slurp(path)
  assert(want, "missing golden file " .. path .. " (run with QLUA_UPDATE_GOLDEN=1 to create it)")
  assert.are.equal(want, text)
end

-- Runs the real QEMU on argv, paused (-S), with QMP on stdio fed
-- qmp_capabilities and quit.  fds are passed as 3, 4, ... (qemu.fd list).
-- Returns exit code, stdout, stderr.
function H.real_qemu(argv, fds, extra)
  local d = H.tmpdir()
  local input = H.write(d .. "/qmp.in",
    '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
  local output = d .. "/qmp.out"
  local args = { "-c", 'exec "$@" <' .. H.q(input) .. " >" .. H.q(output), "sh", H.qemu_bin }
  for i = 2, #argv do args[#args + 1] = argv[i] end
  for _, a in ipairs({ "-S", "-display", "none", "-qmp", "stdio" }) do args[#args + 1] = a end
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local vm = qemu.launch_custom("/bin/sh", args, fds or {}, { stderr = "capture" })
  local status = vm:wait(60)
  if not status then
    vm:kill(9)
    vm:wait(5)
    return -1, slurp(output) or "", "timeout\n" .. vm:stderr()
  end
  return status.code or (128 + status.signal), slurp(output) or "", vm:stderr()
end

-- Asserts that QEMU accepted argv: exit 0, nothing deprecated, no warning.
function H.assert_qemu_accepts(argv, fds, extra)
  local code, _, err = H.real_qemu(argv, fds, extra)
  assert.are.equal("", err)
  assert.are.equal(0, code)
  assert.is_nil(err:lower():find("deprecat"))
  assert.is_nil(err:lower():find("warning"))
end

-- PREFIX and 8 random hex digits from the kernel (qemu._random_hex): a name
-- no other spec process picks.  Not math.random: busted seeds it with the
-- time, so the busted processes of make check's lanes started in the same
-- second draw the same numbers.
function H.unique(prefix)
  return prefix .. qemu._random_hex(4)
end

-- Calls f(name) with a fresh network namespace, removed afterwards.  Taps
-- are made inside it by running a script there:
--   H.sh("ip netns exec " .. name .. " ./qlua script.lua").  Needs root.
function H.in_netns(f)
  local name = H.unique("qlua")
  assert(os.execute("ip netns add " .. name))
  local ok, err = pcall(f, name)
  os.execute("ip netns del " .. name)
  assert(ok, err)
end

H.qemu = qemu
return H
