-- examples/installer.lua - install media: boot the Debian 12 installer ISO
-- (build/distro/debian-12-installer.iso, `make installer-iso`) from a CD-ROM
-- by SeaBIOS or by UEFI (OVMF); save the display as PNG (QMP screendump)
-- when the ISO's boot menu is up, wait for the installer's first screen on
-- the serial console, save the display again, and quit.
--
--   ./qlua examples/installer.lua bios     -> installer-bios-menu.png, installer-bios.png
--   ./qlua examples/installer.lua uefi [FILE.png]
--                                          -> installer-uefi-menu.png, installer-uefi.png
--                                             (or FILE-menu.png, FILE.png)
--   ./qlua -n examples/installer.lua uefi  the command line, nothing started
--
-- Under TCG on 2 shared cores the first screen takes 30 s to 2 minutes
-- (more under load): the waits allow 600 s.  The display (vga = "std", no
-- window: qlua passes -display none) shows the boot menu, which GRUB draws
-- on the screen and the serial port alike; the installer itself then runs
-- on the serial console only (its kernel's console=ttyS0), so the second
-- picture is the kernel's nearly empty text screen.
local firmware = arg[1] or "bios"
if firmware ~= "bios" and firmware ~= "uefi" then
  io.stderr:write("usage: qlua examples/installer.lua bios|uefi [FILE.png]\n")
  os.exit(2)
end
local png = arg[2] or ("installer-" .. firmware .. ".png")
local menu_png = png:gsub("%.png$", "") .. "-menu.png"
local root = arg[0]:match("^(.*)/examples/[^/]*$") or "."
local iso = root .. "/build/distro/debian-12-installer.iso"
if not io.open(iso) then
  io.stderr:write("installer: no " .. iso .. " (make installer-iso)\n")
  os.exit(1)
end

local t0 = qemu.now()
local vm <close> = qemu.launch({
  name = "installer-" .. firmware,
  machine = { type = "q35", accel = "tcg" },
  cpu_model = "max",
  smp = { cpus = 2 },
  memory = { size = "1G" },
  firmware = firmware,                       -- "uefi": OVMF with a private copy of its variables
  vga = "std",                               -- a display for the screendump
  knobs = { no_defaults = true, no_user_config = true },
  devices = { qemu.cdrom { id = "cd0", file = iso, bootindex = 0 } },   -- ide-cd on q35's AHCI
}, { console = "capture" })                  -- (qlua adds -display none: no window)

-- The boot menu: GRUB draws it on the serial port and on the screen, the
-- countdown last (it waits 2 s, then boots the first entry).
assert(vm.console:expect("Install Debian 12 %(text, serial console%)", 600))
assert(vm.console:expect("will be executed automatically in", 60))
assert(vm.qmp:screendump(menu_png))          -- QEMU writes the file; .png: format "png"
print(("installer (%s): boot menu after %.0f s, saved to %s"):format(firmware, qemu.now() - t0, menu_png))

-- The installer's first screen (language choice), drawn by its newt frontend
-- on ttyS0, ends with this help line.
assert(vm.console:expect("<Tab> moves; <Space> selects; <Enter> activates buttons", 600))
print(("installer (%s): first screen on the serial console after %.0f s"):format(firmware, qemu.now() - t0))

assert(vm.qmp:screendump(png))
print(("installer (%s): screen saved to %s"):format(firmware, png))

assert(vm.qmp:quit())
local status = assert(vm:wait(30))
print(("installer (%s): QEMU exited with code %d"):format(firmware, status.code))
