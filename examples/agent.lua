-- examples/agent.lua - running commands in the guest: boot the test guest
-- with the QEMU guest agent (qlua.agent starts qemu-ga in it), run commands
-- through vm.agent, write and read a file, and shut the guest down through
-- the agent.
--
--   ./qlua examples/agent.lua       prints what the guest answered; exits 0
--
-- The script returns nothing: it runs the VM itself (under -n, qemu.launch
-- prints the command line instead and the script stops there).
local recipes = require "qemu.recipes"
local desc = qemu.merge(recipes.test_guest { checks = "qlua.agent" }, { name = "agent" })

local vm <close> = qemu.launch(desc, { agent = true })
assert(vm.agent:wait(120))                          -- until qemu-ga answers (the guest boots first)
local r = assert(vm.agent:exec("uname -r"))         -- { status = 0, stdout = "6.1.0...\n", stderr = "", truncated = false }
print("agent: uname -r: " .. r.stdout:gsub("%s+$", ""))
r = assert(vm.agent:exec({ "cat" }, { input = "data", env = { LANG = "C" }, timeout = 10 }))
print(("agent: cat gave back '%s', status %d"):format(r.stdout, r.status))
assert(vm.agent:write_file("/etc/motd", "hello\n"))
local text = assert(vm.agent:read_file("/etc/motd"))
print(("agent: /etc/motd holds '%s'"):format(text:gsub("\n", "\\n")))
assert(vm.agent:shutdown())                         -- "powerdown" (or "reboot", "halt")
local status = assert(vm:wait(30))
print(("agent: the guest powered off; QEMU exited with code %d"):format(status.code))
