-- qemu.debian: the body of qemu.recipes.debian, a whole Debian 12 system:
-- the image `make distro-image` builds (scripts/distro/README.md) booted by
-- its firmware through its own boot loader, from a throw-away overlay, with
-- a cloud-init seed and ssh forwarded from a free host port.
--
--   local vm <close> = qemu.launch(recipes.debian { firmware = "uefi", hostname = "box" },
--                                  { agent = true })
--   vm.agent:wait(600)                         -- the guest agent (qemu-guest-agent)
--   print(vm:ssh("uname -a").stdout)           -- over the forward, with the VM's own key
--
-- Options (all optional):
--   firmware   "bios" (SeaBIOS, the default), "uefi" (OVMF) or "uefi-secure"
--              (OVMF with Secure Boot: the image's GRUB is not signed, so
--              OVMF refuses to boot it; for an `image` with a signed shim).
--   disk_bus   the root disk's bus: "virtio-blk" (the default: /dev/vda),
--              "virtio-scsi" (a scsi-hd on a virtio-scsi controller 'scsi0':
--              /dev/sda) or "nvme" (/dev/nvme0n1).  The image finds its root
--              by UUID, so it boots from any of them.
--   cpus, memory   vCPUs (default 2) and memory (default "1G").
--   accel, cpu     as recipes.q35 (default "tcg"; cpu default "max").
--   name       the guest's name (default "debian").
--   hostname, user_data, run_cmd, ssh_authorized_keys, user
--              passed to recipes.cloud_init (lua/qemu/cloud_init.lua): the
--              seed also carries a fresh ed25519 key pair per launch, which
--              cloud-init installs for root and the image's user `debian`;
--              `user` is the account vm:ssh logs in as (default "root").
--              Without `hostname` the guest keeps the image's, "debian".
--   ssh_port   the host port forwarded to the guest's port 22 (default 0:
--              a free port, which vm:forwarded_port(22) reads back).
--   image      the qcow2 image to boot (through an overlay: it is never
--              written); else $QLUA_DISTRO_IMAGE, else
--              build/distro/debian-12.qcow2 of the source tree this library
--              comes from (or of the tree the qlua binary sits in), else
--              ./build/distro/debian-12.qcow2.  Missing: an error naming
--              `make distro-image`.
--   dir        the run directory of the overlay, the seed and the key (as
--              recipes.disk: else recipes.run_dir, a matrix cell's
--              directory, else a fresh $TMPDIR/qlua-run.<hex> removed at exit).
--
-- The result is a whole description (q35, no default devices, the root disk
-- with bootindex 0, the seed disk 'cidata', a user-networking NIC 'net0', the
-- `ssh` section and the `prepare` steps that make the overlay, the key and
-- the seed at launch); merge more into it as into any other.  The guest agent
-- is a launch option, a private channel qlua makes: qemu.launch(vm, { agent
-- = true }) (a matrix: launch = { agent = true }).  The image's kernel writes
-- its console on the first serial port, where qlua puts the console.
local merge = require "qemu.merge"
local U = merge._util

local SELF = debug.getinfo(1, "S").source
U.library[SELF] = true   -- errors go to the caller of the recipe

require "qemu.cloud_init"   -- (its option types, text_or_table and commands)
local H = require("qemu.recipes")._helpers
local R = H.R

local M = {}

local IMAGE = "build/distro/debian-12.qcow2"

H.types.port = function(v)
  return not (math.type(v) == "integer" and v >= 0 and v <= 65535) and "port 0..65535" or nil
end

local SPEC = {
  { "firmware", "string", choices = { "bios", "uefi", "uefi-secure" } },
  { "disk_bus", "string", choices = { "virtio-blk", "virtio-scsi", "nvme" } },
  { "cpus", "count" }, { "memory", "size" }, { "accel", "string" }, { "cpu", "string" },
  { "name", "string" }, { "hostname", "string" }, { "user_data", "text_or_table" },
  { "run_cmd", "commands" }, { "ssh_authorized_keys", "words" }, { "user", "string" },
  { "ssh_port", "port" }, { "image", "string" }, { "dir", "string" },
}

-- The image: a path, or nil and what went wrong.
local function find_image(given)
  local found, tried = H.find_built(given, "QLUA_DISTRO_IMAGE", IMAGE, H.exists)
  if found then return H.absolute(found) end
  if given then return nil, ("field 'image': '%s' does not exist"):format(given) end
  return nil, ("no Debian image at '%s' (build it with 'make distro-image' in qlua's source tree, " ..
    "or give option 'image' or set QLUA_DISTRO_IMAGE)"):format(table.concat(tried, "', '"))
end

-- The root disk on its bus: the devices (a controller first, if any).
local function root_disk(bus, info, file)
  local fields = { id = "root", file = file, format = "qcow2", bootindex = 0 }
  local devices = {}
  if bus == "virtio-scsi" then
    devices[1] = H.build("recipes.debian", info, "scsi_controller", { id = "scsi0" })
    fields.interface, fields.bus = "scsi", "scsi0.0"
  elseif bus == "nvme" then
    fields.driver, fields.serial = "nvme", "root"   -- QEMU's nvme wants a serial
  end
  devices[#devices + 1] = H.build("recipes.debian", info, "block", fields)
  return devices
end

-- Calls another recipe; its error is raised as this recipe's, at the same
-- line: "vm.lua:3: recipes.debian: recipes.cloud_init: option 'hostname': ...".
local function inner(info, recipe, t)
  local ok, res = pcall(recipe, t)
  if ok then return res end
  local w = U.where(info)
  res = tostring(res)
  if res:sub(1, #w) == w then res = res:sub(#w + 1) end
  U.raise(info, "recipes.debian: " .. res)
end

function M.recipe(opts)
  local info = U.caller()
  local o = H.options("recipes.debian", opts, SPEC, info)
  local image, why = find_image(o.image)
  if not image then U.raise(info, "recipes.debian: " .. why) end

  -- one run directory for the overlay, the key and the seed: the steps of
  -- recipes.disk and recipes.cloud_init, minus their own `mkdir -p` of it
  local dir, prepare = H.run_dir(o.dir)
  local function add(steps)
    for _, s in ipairs(steps or {}) do
      local a = s.argv
      if not (#a == 3 and a[1] == "mkdir" and a[2] == "-p" and a[3] == dir) then
        prepare[#prepare + 1] = s
      end
    end
  end
  local disk = inner(info, R.disk, { file = image, format = "qcow2", overlay = true, dir = dir, id = "root" })
  add(disk.prepare)
  local seed = inner(info, R.cloud_init, { hostname = o.hostname, user_data = o.user_data,
    run_cmd = o.run_cmd, ssh_authorized_keys = o.ssh_authorized_keys, user = o.user, dir = dir })
  add(seed.prepare)

  local devices = root_disk(o.disk_bus or "virtio-blk", info, disk.devices[1].file)
  devices[#devices + 1] = seed.devices[1]
  devices[#devices + 1] = H.build("recipes.debian", info, "netdev", {
    type = "user", id = "net0", hostfwd = { { host_port = o.ssh_port or 0, guest_port = 22 } } })

  local firmware = o.firmware ~= "bios" and o.firmware or nil
  return (merge(
    R.q35 { accel = o.accel, cpu = o.cpu or "max" },
    { name = o.name or "debian", firmware = firmware,
      memory = { size = o.memory or "1G" }, smp = { cpus = o.cpus or 2 },
      knobs = { no_defaults = true, no_user_config = true },
      devices = devices, ssh = seed.ssh, prepare = prepare }))
end

return M
