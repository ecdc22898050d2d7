-- examples/debian.lua - a whole Debian 12 system (`make distro-image`) booted
-- by its firmware from a throw-away overlay, configured by cloud-init, and
-- reached both ways: commands through the guest agent and over ssh (the
-- forward from a free host port, the VM's own key, as root and as the
-- image's user debian).  Then it powers the guest off (ACPI, as a power button).
--
--   ./qlua examples/debian.lua          SeaBIOS
--   ./qlua examples/debian.lua uefi     OVMF
--
-- A boot takes one to two minutes under TCG.  The script returns nothing: it
-- runs the VM itself (under -n, qemu.launch prints the command line instead).
local recipes = require "qemu.recipes"
local firmware = ... or "bios"

local vm <close> = qemu.launch(recipes.debian { firmware = firmware, hostname = "qlua-" .. firmware },
  { agent = true, console = "capture" })
local function check(what, ok, err)                 -- a failure says why, and shows the console's end
  if not ok then error(("%s: %s; the console's last lines:\n%s"):format(what, tostring(err), vm.console:tail(10)), 2) end
  return ok
end
check("the guest agent", vm.agent:wait(600))
local function show(how, cmd, r)
  print(("%s: %s: %s"):format(how, cmd, r.stdout:gsub("%s+$", "")))
end
for _, cmd in ipairs { "uname -a", "systemctl is-system-running --wait" } do
  show("agent", cmd, check("agent: " .. cmd, vm.agent:exec(cmd, { timeout = 300 })))
end
show("ssh root", "uname -a", vm:ssh("uname -a"))    -- { status, stdout, stderr, truncated }
show("ssh root", "systemctl is-system-running", vm:ssh("systemctl is-system-running"))
show("ssh debian", "sudo -n id -un", vm:ssh("sudo -n id -un", { user = "debian" }))
local status, step = vm:shutdown { timeout = 120 }  -- ACPI powerdown: systemd powers the guest off
check("shutdown", step == "powerdown", "QEMU was stopped by " .. step .. ", not by the guest")
print(("the guest powered off; QEMU exited with code %d"):format(status.code))
