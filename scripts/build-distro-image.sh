#!/bin/sh
# Build qlua's Debian 12 system image: a real installed system on a
# partitioned disk that boots through GRUB under SeaBIOS and under OVMF.
#   build/distro/debian-12.qcow2           the image (qcow2; use it through an overlay)
#   build/distro/debian-12.manifest        kernel, command line, UUIDs, every package and version
#   build/distro/debian-12.qcow2.STAMP     the inputs of the build; unchanged inputs => nothing to do
#   build/distro-cache/                    the installed tree, reused while its inputs hold
# Debian bookworm from the packages (mmdebstrap), with systemd, udev,
# linux-image-amd64 + initramfs-tools, openssh-server, qemu-guest-agent,
# cloud-init (NoCloud seed) and ifupdown/isc-dhcp-client.  The disk is GPT:
#   1  BIOS boot partition (1 MiB): GRUB's core image for SeaBIOS
#   2  EFI system partition (64 MiB, FAT): \EFI\BOOT\BOOTX64.EFI (removable path)
#   3  the ext4 root (label root), the rest of the disk (cloud-init grows it)
# The root file system is filled from the tree with mke2fs -d, the ESP made
# at its offset and filled with mtools, GRUB's images written in place: no
# loop device, no mount (mmdebstrap's own, in its chroot, are taken down
# even if it is killed: trap).  Runs as root (mmdebstrap --mode=root).
# Usage: scripts/build-distro-image.sh [--force]   (--force: the tree too)
# Environment: DISTRO_SIZE (the disk's virtual size, default 4G),
# DISTRO_MIRROR (a Debian mirror URI; default mmdebstrap's deb.debian.org with
# bookworm-updates and security).
# More: scripts/distro/README.md
set -eu

export LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
src=$here/distro/image
out=$top/build/distro
image=$out/debian-12.qcow2
stampf=$image.STAMP
work=$top/build/distro-work
cache=$top/build/distro-cache
size=${DISTRO_SIZE:-4G}

force=
case ${1:-} in
--force) force=1 ;;
"") ;;
*)
	echo "usage: $0 [--force]" >&2
	exit 2
	;;
esac

step=0
steps=6
say() { printf 'build-distro-image: %s\n' "$*"; }
progress() {
	step=$((step + 1))
	say "[$step/$steps] $*"
}
die() {
	printf 'build-distro-image: error: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap --mode=root)"
mkdir -p "$out"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$top/build/distro.lock"
	flock 9
fi

# --- tools --------------------------------------------------------------------
# deps.sh installs what is missing (we are root).  In a session of its own:
# stopping make check stops this script's process group, and apt-get and
# dpkg are left to finish what they began (this script stops after them).
setsid sh "$here/deps.sh" distro >&2 || die "cannot install the packages this needs (see above)"

# --- inputs -------------------------------------------------------------------
# The packages asked for; their dependencies come along.  mmdebstrap resolves
# them against the archive; the STAMP keeps the candidate versions apt-cache
# sees for these (and the kernel package linux-image-amd64 stands for), so a
# point release or a security update rebuilds the image.
packages="systemd-sysv udev dbus linux-image-amd64 initramfs-tools openssh-server
qemu-guest-agent cloud-init cloud-guest-utils fdisk ifupdown isc-dhcp-client
sudo procps iproute2 netbase"

imghash=$( (cd "$src" && find . -type f | sort) | while read -r f; do
	printf '\n== %s %s\n' "$f" "$(stat -c %a "$src/$f")"
	cat "$src/$f"
done | sha256sum | cut -d' ' -f1)
srchash=$({
	cat "$here/build-distro-image.sh"
	printf '\n== image %s size %s mirror %s\n' "$imghash" "$size" "${DISTRO_MIRROR:-}"
} | sha256sum | cut -d' ' -f1)
aptfp=$(stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* /var/lib/apt/lists/*Release \
	/etc/apt/sources.list /etc/apt/sources.list.d/* /etc/apt/preferences /etc/apt/preferences.d/* \
	2>/dev/null | sha256sum | cut -d' ' -f1)
outputs_exist() { [ -f "$image" ] && [ -f "$out/debian-12.manifest" ] && [ -f "$stampf" ]; }
stamp_line() { sed -n "s/^$1 //p" "$stampf"; }
if [ -z "$force" ] && outputs_exist && [ "$(stamp_line sources)" = "$srchash" ] &&
	[ "$(stamp_line apt-lists)" = "$aptfp" ]; then
	say "image up to date ($image)"
	exit 0
fi

# One apt-cache call for all (each call can cost seconds where apt's binary
# cache is disabled): print "PACKAGE CANDIDATE" lines.
candidates() {
	apt-cache policy "$@" 2>/dev/null | awk '
		/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
		$1 == "Candidate:" && p != "" { print p, $2; p = "" }'
}
resolve() {
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$kpkg" ] || return 1
	# shellcheck disable=SC2086 # one word per package
	set -- $packages "$kpkg" libc6 libssl3
	versions=$(candidates "$@")
	[ "$(printf '%s\n' "$versions" | awk '$2 != "(none)"' | wc -l)" = $# ] || return 1
}
if ! resolve; then
	say "apt-get update"
	apt-get update -qq || die "apt-get update failed"
	aptfp=changed
	resolve || die "apt-cache finds no candidate for one of: $packages"
fi
inputs="sources $srchash
$versions"
stamp="$inputs
apt-lists $aptfp"
if [ -z "$force" ] && outputs_exist && [ "$(grep -v '^apt-lists ' "$stampf")" = "$(printf '%s' "$inputs")" ]; then
	[ "$aptfp" = changed ] || printf '%s\n' "$stamp" >"$stampf"
	say "image up to date ($image)"
	exit 0
fi

# --- build --------------------------------------------------------------------
start=$(date +%s)
cleanup() {
	# Never leave a mount behind: mmdebstrap's in the tree if it was killed.
	# Innermost first.
	awk -v w="$work/" -v c="$cache/" 'index($2, w) == 1 || index($2, c) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" || true
		done
	rm -rf --one-file-system "$work"
}
rm -rf "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$work"
rm -f "$stampf"

# make_tree DIR: the installed system, customized (scripts/distro/image/).
make_tree() {
	dir=$1
	# shellcheck disable=SC2086 # one word per package
	include=$(echo $packages | tr ' ' ,)
	set --
	[ -z "${DISTRO_MIRROR:-}" ] || set -- "$DISTRO_MIRROR"
	QLUA_IMAGE_DIR=$src QLUA_PACKAGES=$cache/packages QLUA_ROOT_UUID=$root_uuid \
		QLUA_ESP_UUID=$esp_uuid QLUA_CMDLINE=$cmdline \
		mmdebstrap --mode=root --variant=minbase --format=directory \
		--include="$include" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--essential-hook='mkdir -p "$1/etc/initramfs-tools" && cp -R "$QLUA_IMAGE_DIR/files/etc/initramfs-tools/." "$1/etc/initramfs-tools/"' \
		--customize-hook='sh "$QLUA_IMAGE_DIR/customize.sh" "$1"' \
		--customize-hook='for t in i386-pc x86_64-efi; do mkdir -p "$1/boot/grub/$t" && cp /usr/lib/grub/$t/*.mod /usr/lib/grub/$t/*.lst "$1/boot/grub/$t/"; done' \
		bookworm "$dir" "$@" >"$work/mmdebstrap.log" 2>&1 ||
		die "mmdebstrap failed: $(tail -15 "$work/mmdebstrap.log")"
}

# The installed tree is kept in build/distro-cache/ (about 600 MB) with the
# key it was made from (the package versions, scripts/distro/image/, the
# mmdebstrap step above) and its UUIDs: a change to the disk steps below
# reuses it instead of installing again.
tree=$cache/tree
treekey=$({
	printf '%s\n' "$imghash" "$versions" "mirror ${DISTRO_MIRROR:-}"
	dpkg-query -W grub-pc-bin grub-efi-amd64-bin
	sed -n '/^make_tree() {/,/^}/p' "$here/build-distro-image.sh"
} | sha256sum | cut -d' ' -f1)
[ -z "$force" ] || rm -f "$cache/tree.key"
if [ -d "$tree" ] && [ -f "$cache/tree.env" ] && [ -f "$cache/packages" ] &&
	[ "$(cat "$cache/tree.key" 2>/dev/null)" = "$treekey" ]; then
	progress "reusing the installed tree in $cache"
	# shellcheck disable=SC1091 # written below
	. "$cache/tree.env"
else
	rm -f "$cache/tree.key"
	rm -rf --one-file-system "$tree"
	mkdir -p "$cache"
	root_uuid=$(cat /proc/sys/kernel/random/uuid)
	esp_id=$(od -An -tx4 -N4 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	esp_uuid=$(printf '%s-%s' "$(echo "$esp_id" | cut -c1-4)" "$(echo "$esp_id" | cut -c5-8)")
	cmdline="root=UUID=$root_uuid ro console=ttyS0,115200n8 quiet"
	progress "mmdebstrap bookworm (about 3-10 min: downloads ~130 MB of packages and installs them)"
	make_tree "$tree"
	printf 'root_uuid=%s\nesp_id=%s\nesp_uuid=%s\ncmdline="%s"\n' \
		"$root_uuid" "$esp_id" "$esp_uuid" "$cmdline" >"$cache/tree.env"
	printf '%s\n' "$treekey" >"$cache/tree.key"
fi
root=$tree
[ -L "$root/vmlinuz" ] && [ -L "$root/initrd.img" ] || die "the tree has no /vmlinuz and /initrd.img links"
kver=$(readlink "$root/vmlinuz" | sed 's|.*vmlinuz-||')
[ -f "$root/boot/initrd.img-$kver" ] || die "no initramfs for kernel $kver"

# --- disk ------------------------------------------------------------------------
# GPT: BIOS boot 1 MiB at 1 MiB, ESP 64 MiB at 2 MiB, root from 66 MiB on.
progress "partitioning a $size disk (GPT: BIOS boot, ESP, root)"
raw=$work/disk.raw
truncate -s "$size" "$raw"
# 0FC63DAF...: Linux file system; 4F68BCE3...: the discoverable x86-64 root type.
sfdisk -q "$raw" >/dev/null <<EOF || die "sfdisk failed"
label: gpt
start=1MiB, size=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios
start=2MiB, size=64MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC3B8, name=esp
start=66MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name=root
EOF
# start and size (sectors) of partition N
part() { sfdisk -d "$raw" | awk -v n="$raw$1" -F'[ ,=]+' '$1 == n { for (i = 2; i < NF; i++) { if ($i == "start") s = $(i+1); if ($i == "size") z = $(i+1) } print s, z }'; }
# shellcheck disable=SC2046 # two numbers
set -- $(part 2)
esp_start=$1 esp_sectors=$2
# shellcheck disable=SC2046 # two numbers
set -- $(part 3)
root_start=$1 root_sectors=$2
[ -n "$root_sectors" ] && [ -n "$esp_sectors" ] || die "cannot read the partition table back"

progress "ext4 root from the tree (mke2fs -d, about 30 s)"
# Inode tables zeroed now (lazy_itable_init=0): the guest's ext4lazyinit would
# otherwise write them at the first boot, slow under TCG, and fill the overlay.
mke2fs -q -F -t ext4 -L root -U "$root_uuid" -d "$root" \
	-E "offset=$((root_start * 512)),lazy_itable_init=0,lazy_journal_init=0,nodiscard" \
	"$raw" "$((root_sectors / 2))k" 2>"$work/mke2fs.err" || die "mke2fs failed: $(cat "$work/mke2fs.err")"
# FAT32 as UEFI asks of an ESP on a disk: 512-byte clusters for 64 MiB.
mkfs.vfat -F 32 -s 1 -n EFI -i "$esp_id" --offset "$esp_start" "$raw" "$((esp_sectors / 2))" >"$work/mkfs.log" 2>&1 ||
	die "mkfs.vfat failed: $(cat "$work/mkfs.log")"

progress "GRUB for BIOS (i386-pc, in the BIOS boot partition) and UEFI (x86_64-efi, removable path)"
# What grub-install does for the two targets, done on the image file: no
# loop device, no mount (this host's kernel has no vfat, and GRUB maps no
# BIOS drive to a loop device's partitions).  Both core images carry the
# same early config, finding the root by its UUID; their modules are in the
# tree's /boot/grub (make_tree).
printf 'search.fs_uuid %s root\nset prefix=($root)/boot/grub\n' "$root_uuid" >"$work/load.cfg"
grub-mkimage -O i386-pc -o "$work/core.img" -c "$work/load.cfg" -p /boot/grub \
	biosdisk part_gpt ext2 search_fs_uuid >"$work/grub.log" 2>&1 ||
	die "grub-mkimage (i386-pc) failed: $(cat "$work/grub.log")"
grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -c "$work/load.cfg" -p /boot/grub \
	part_gpt ext2 search_fs_uuid >"$work/grub.log" 2>&1 ||
	die "grub-mkimage (x86_64-efi) failed: $(cat "$work/grub.log")"
# BIOS, as grub-bios-setup embeds it: core.img fills the BIOS boot partition
# from its first sector; the block list at the end of core.img's first sector
# (diskboot.img: start u64, count u16, segment u16; grub-mkimage set the
# count and segment) points at the rest; boot.img in the MBR's code area
# (the partition table stays) holds core.img's first sector at 0x5c, and
# 0x66 "jmp if not a hard disk" becomes two nops (trust the BIOS's drive).
# shellcheck disable=SC2046 # two numbers
set -- $(part 1)
bios_start=$1 bios_sectors=$2
core_sectors=$((($(stat -c %s "$work/core.img") + 511) / 512))
[ "$core_sectors" -le "$bios_sectors" ] || die "core.img ($core_sectors sectors) does not fit the BIOS boot partition"
le64() { # print N as 8 little-endian bytes
	n=$1 i=0
	while [ $i -lt 8 ]; do
		# shellcheck disable=SC2059 # an octal escape
		printf "\\$(printf %03o $((n % 256)))"
		n=$((n / 256)) i=$((i + 1))
	done
}
le64 $((bios_start + 1)) | dd of="$work/core.img" bs=1 seek=$((0x200 - 12)) conv=notrunc status=none
dd if="$work/core.img" of="$raw" bs=512 seek="$bios_start" conv=notrunc status=none
cp /usr/lib/grub/i386-pc/boot.img "$work/boot.img"
le64 "$bios_start" | dd of="$work/boot.img" bs=1 seek=$((0x5c)) conv=notrunc status=none
printf '\220\220' | dd of="$work/boot.img" bs=1 seek=$((0x66)) conv=notrunc status=none
# jmp (0-2), then the code after the BPB (0x5a) up to the disk signature (0x1b8)
dd if="$work/boot.img" of="$raw" bs=1 count=3 conv=notrunc status=none
dd if="$work/boot.img" of="$raw" bs=1 skip=$((0x5a)) seek=$((0x5a)) count=$((0x1b8 - 0x5a)) conv=notrunc status=none
# UEFI: the removable path on the ESP, written with mtools.
esp="$raw@@$((esp_start * 512))"
{ mmd -i "$esp" ::/EFI ::/EFI/BOOT && mcopy -i "$esp" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI; } \
	>"$work/mtools.log" 2>&1 || die "cannot write EFI/BOOT/BOOTX64.EFI: $(cat "$work/mtools.log")"

progress "qcow2"
qemu-img convert -O qcow2 -o cluster_size=65536 "$raw" "$work/debian-12.qcow2" ||
	die "qemu-img convert failed"

progress "publishing"
{
	echo "kernel $kver"
	echo "cmdline $cmdline"
	echo "root-uuid $root_uuid"
	echo "esp-uuid $esp_uuid"
	echo "size $size"
	echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	sort "$cache/packages"
} >"$work/debian-12.manifest"
mv -f "$work/debian-12.qcow2" "$image"
mv -f "$work/debian-12.manifest" "$out/debian-12.manifest"
printf '%s\n' "$stamp" >"$stampf"
say "built $image in $(($(date +%s) - start)) s: kernel $kver, $(du -m "$image" | cut -f1) MiB on disk, $size virtual, $(grep -c . "$cache/packages") packages"
