-- spec/distro_iso_spec.lua - install media (issue #12 item 6): examples/installer.lua,
-- run as its header prints it, boots the Debian installer ISO
-- (build/distro/debian-12-installer.iso, `make installer-iso`) from
-- qemu.cdrom by SeaBIOS and by UEFI, and saves the display as PNG with QMP
-- screendump at the boot menu and at the installer's first screen.
--
-- Tagged #distro_full: `make check-distro` runs it (scripts/check.sh
-- --tags=distro_full spec), `make check` leaves it out.  Each boot takes 30 s
-- to 2 minutes under TCG (scripts/distro/README.md); one guest at a time.
-- The pictures are read with a maintained decoder, Pillow (python3-pil,
-- `sh scripts/deps.sh distro`): only the 8-byte PNG signature is checked by
-- hand.
local H = require "helper"
local G = require "support.guest"

local q = H.q
local ISO = H.root .. "/build/distro/debian-12-installer.iso"
local PYTHON = "/usr/bin/python3"   -- Debian's, which python3-pil installs for

-- What Pillow sees in a PNG file: { format, width, height, colours, share },
-- share being the fraction of pixels not of the most common colour.
local function picture(path)
  local code, out, err = H.sh(PYTHON .. " -c " .. q([[
import sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
rgb = im.convert("RGB")
colours = rgb.getcolors(1 << 24)
top = max(n for n, _ in colours)
print(im.format, im.width, im.height, len(colours), 1 - top / (im.width * im.height))
]]) .. " " .. q(path))
  assert.are.equal(0, code, err)
  local format, w, h, n, share = out:match("^(%S+) (%d+) (%d+) (%d+) (%S+)\n$")
  assert.is_truthy(format, out)
  return { format = format, width = tonumber(w), height = tonumber(h), colours = tonumber(n),
           share = tonumber(share) }
end

local function png_signature(path)
  local f = assert(io.open(path, "rb"), "no " .. path)
  local sig = f:read(8)
  f:close()
  return sig
end

-- The QEMUs this example started that are still there (its guest name; the
-- brackets keep pgrep's own shell, whose command line holds the pattern,
-- from matching).
local function left_running(firmware)
  local _, out = H.sh("pgrep -f -- " .. q("-name guest=[i]nstaller-" .. firmware .. " "))
  return out
end

local function boots(firmware)
  local d = H.tmpdir()
  local png = d .. "/installer-" .. firmware .. ".png"
  local t0 = os.time()
  -- as printed: ./qlua examples/installer.lua FIRMWARE [FILE.png], from the
  -- top of the tree; TMPDIR here, so UEFI's variables copy is seen removed
  local code, out, err = H.sh(("cd %s && TMPDIR=%s timeout -k 10 1400 %s examples/installer.lua %s %s </dev/null")
    :format(q(H.root), q(d), H.qlua_cmd, firmware, q(png)))
  local took = os.difftime(os.time(), t0)
  io.stderr:write(("distro_iso: %s boot took %d s\n"):format(firmware, took))
  assert.are.equal(0, code, "stdout:\n" .. out .. "\nstderr:\n" .. err)
  local lines = {}
  for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local pre = "installer (" .. firmware .. "): "
  assert.are.equal(4, #lines, out)
  assert.matches("^" .. G.lit(pre) .. "boot menu after %d+ s, saved to " .. G.lit(d .. "/installer-" .. firmware .. "-menu.png") .. "$", lines[1])
  assert.matches("^" .. G.lit(pre) .. "first screen on the serial console after %d+ s$", lines[2])
  assert.are.equal(pre .. "screen saved to " .. png, lines[3])
  assert.are.equal(pre .. "QEMU exited with code 0", lines[4])
  assert.are.equal("", err)

  -- the boot menu: a real PNG with text on it (GRUB's menu in VGA text mode)
  local menu = d .. "/installer-" .. firmware .. "-menu.png"
  assert.are.equal("\137PNG\r\n\26\n", png_signature(menu))
  local m = picture(menu)
  assert.are.equal("PNG", m.format)
  assert.is_true(m.width >= 640 and m.height >= 400, ("%dx%d"):format(m.width, m.height))
  assert.is_true(m.colours >= 2, "one colour only: a blank picture")
  -- GRUB's menu: a frame, three entries, the help text: a few percent of
  -- the pixels (a screen showing only a cursor has well under 0.1 %)
  assert.is_true(m.share > 0.01, ("%.4f of the pixels differ from the background"):format(m.share))

  -- at the installer's first screen: the display too is a real PNG (the
  -- installer itself is on the serial console, see the example's header)
  assert.are.equal("\137PNG\r\n\26\n", png_signature(png))
  local s = picture(png)
  assert.are.equal("PNG", s.format)
  assert.is_true(s.width >= 640 and s.height >= 400, ("%dx%d"):format(s.width, s.height))

  -- nothing left: no QEMU, no copy of UEFI's variables
  assert.are.equal("", left_running(firmware))
  local _, rest = H.sh("ls -A " .. q(d))
  assert.are.equal(("installer-%s-menu.png\ninstaller-%s.png\n"):format(firmware, firmware), rest)
end

describe("install media #distro_full: examples/installer.lua", function()
  lazy_setup(function()
    assert(io.open(ISO), "no " .. ISO .. " (make installer-iso)")
    assert(io.open(PYTHON), "no " .. PYTHON .. " (sh scripts/deps.sh distro)")
  end)

  it("-n prints the command line (the ISO as an ide-cd, a VGA display) and starts nothing", function()
    local d = H.tmpdir()
    local code, out, err = H.sh(("cd %s && TMPDIR=%s %s -n examples/installer.lua uefi"):format(q(H.root), q(d),
      H.qlua_cmd))
    assert.are.equal(0, code, err)
    assert.is_truthy(out:find("-drive id=cd0,file=./build/distro/debian-12-installer.iso,format=raw,if=none,"
      .. "media=cdrom,readonly=on \\\n  -device ide-cd,drive=cd0,bootindex=0 \\\n", 1, true), out)
    assert.is_truthy(out:find("  -vga std \\\n", 1, true), out)
    assert.is_truthy(out:find("-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd", 1,
      true), out)
    assert.matches("dry run: the script stops at qemu.launch", err)
    local _, rest = H.sh("ls -A " .. q(d))
    assert.are.equal("", rest)
  end)

  it("refuses a firmware it does not know, starting nothing", function()
    local code, out, err = H.sh(("cd %s && %s examples/installer.lua uefi-secure"):format(q(H.root), H.qlua_cmd))
    assert.are.equal(2, code)
    assert.are.equal("", out)
    assert.are.equal("usage: qlua examples/installer.lua bios|uefi [FILE.png]\n", err)
  end)
end)

describe("install media #distro_full: the installer ISO booted by SeaBIOS", function()
  it("shows the boot menu on screen, the installer's first screen on the serial console, then quits", function()
    boots("bios")
  end)
end)

describe("install media #distro_full: the installer ISO booted by UEFI (OVMF)", function()
  it("shows the boot menu on screen, the installer's first screen on the serial console, then quits", function()
    boots("uefi")
  end)
end)
