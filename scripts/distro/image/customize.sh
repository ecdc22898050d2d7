#!/bin/sh
# customize.sh ROOT - mmdebstrap's --customize-hook for qlua's Debian image
# (scripts/build-distro-image.sh): runs on the finished tree ROOT (with /proc,
# /sys and /dev mounted by mmdebstrap) before it becomes the ext4 root.
# Environment: QLUA_IMAGE_DIR (scripts/distro/image), QLUA_ROOT_UUID,
# QLUA_ESP_UUID, QLUA_CMDLINE, QLUA_PACKAGES (where to write the list of the
# installed packages and versions).
set -eu
root=$1
src=$QLUA_IMAGE_DIR
in_root() { chroot "$root" "$@"; }

# Our files (cloud-init settings, the ssh host key fallback unit).
cp -R "$src/files/." "$root/"

# The file systems by UUID: the root must not depend on the disk's bus
# (virtio-blk vda, virtio-scsi sda, nvme0n1).  The ESP is mounted on first
# use only (automount): nothing at boot waits for it.
cat >"$root/etc/fstab" <<EOF
# <file system>	<mount point>	<type>	<options>	<dump>	<pass>
UUID=$QLUA_ROOT_UUID	/	ext4	errors=remount-ro	0	1
UUID=$QLUA_ESP_UUID	/boot/efi	vfat	umask=0077,noauto,x-systemd.automount,x-systemd.idle-timeout=60	0	0
EOF
mkdir -p "$root/boot/efi" "$root/boot/grub"
sed -e "s|@ROOT_UUID@|$QLUA_ROOT_UUID|g" -e "s|@CMDLINE@|$QLUA_CMDLINE|g" \
	"$src/grub.cfg" >"$root/boot/grub/grub.cfg"

echo debian >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF

# ifupdown: cloud-init writes the first NIC's DHCP stanza (its fallback
# network config) into interfaces.d.
cat >"$root/etc/network/interfaces" <<'EOF'
# The loopback here; the NICs in interfaces.d (cloud-init writes
# 50-cloud-init there: DHCP on the first NIC when no seed says otherwise).
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
EOF
mkdir -p "$root/etc/network/interfaces.d"

# Per-instance identity: no host keys, no machine id in the image (systemd
# makes one at first boot, cloud-init the host keys).
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

# Root: no password (locked for password logins; ssh keys work).  cloud-init
# installs the seeded keys for root and for the default user "debian".
in_root usermod -p '*' root

# Units: our fallback on; timers and jobs that only cost time in a test
# guest off (they stay installed: systemctl enable brings them back).
in_root systemctl enable ssh-hostkeys.service >/dev/null 2>&1
for u in apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer \
	e2scrub_reap.service fstrim.timer dpkg-db-backup.timer logrotate.timer \
	systemd-pstore.service; do
	if [ -e "$root/lib/systemd/system/$u" ] || [ -e "$root/usr/lib/systemd/system/$u" ]; then
		in_root systemctl disable "$u" >/dev/null 2>&1 || true
	fi
done
# systemd-firstboot would ask for a locale, a keymap, a time zone and a root
# password on the console at the first boot (the machine id is empty).
in_root systemctl mask systemd-firstboot.service >/dev/null 2>&1

# Smaller: package lists and caches come back with apt-get update.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
rm -f "$root"/var/log/*.log "$root"/var/log/apt/* "$root/var/cache/debconf/"*-old

in_root dpkg-query -W -f='${Package} ${Version}\n' >"$QLUA_PACKAGES"
