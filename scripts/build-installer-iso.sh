#!/bin/sh
# Build a hybrid BIOS/UEFI ISO of the Debian 12 installer that talks on the
# serial console:
#   build/distro/debian-12-installer.iso        the ISO (boots as -cdrom or as a disk)
#   build/distro/debian-12-installer.iso.STAMP  its inputs; unchanged => nothing to do
# The installer's text kernel and initrd come from the Debian package
# debian-installer-12-netboot-amd64; grub-mkrescue (grub-common, with
# grub-pc-bin, grub-efi-amd64-bin, xorriso and mtools) makes the ISO around
# them with scripts/distro/installer-grub.cfg as its menu.
# Usage: scripts/build-installer-iso.sh [--force]
# More: scripts/distro/README.md
set -eu

export LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
out=$top/build/distro
iso=$out/debian-12-installer.iso
stampf=$iso.STAMP
work=$top/build/distro-iso-work
di=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64

force=
case ${1:-} in
--force) force=1 ;;
"") ;;
*)
	echo "usage: $0 [--force]" >&2
	exit 2
	;;
esac

say() { printf 'build-installer-iso: %s\n' "$*"; }
die() {
	printf 'build-installer-iso: error: %s\n' "$*" >&2
	exit 1
}

mkdir -p "$out"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$top/build/distro-iso.lock"
	flock 9
fi

# --- tools ----------------------------------------------------------------------
# deps.sh installs what is missing when run as root, or says what to install.
sh "$here/deps.sh" distro >&2 || die "missing packages (see above)"
[ -f "$di/linux" ] && [ -f "$di/initrd.gz" ] || die "no linux/initrd.gz in $di"

# --- inputs -----------------------------------------------------------------------
# The script, the menu and the installed versions of the packages the ISO is
# made from (the ISO holds GRUB's modules and images, and the installer).
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null; }
stamp="sources $(cat "$here/build-installer-iso.sh" "$here/distro/installer-grub.cfg" | sha256sum | cut -d' ' -f1)
debian-installer-12-netboot-amd64 $(ver debian-installer-12-netboot-amd64)
grub-common $(ver grub-common)
grub-pc-bin $(ver grub-pc-bin)
grub-efi-amd64-bin $(ver grub-efi-amd64-bin)
xorriso $(ver xorriso)
mtools $(ver mtools)"
if [ -z "$force" ] && [ -f "$iso" ] && [ -f "$stampf" ] && [ "$(cat "$stampf")" = "$stamp" ]; then
	say "installer ISO up to date ($iso)"
	exit 0
fi

# --- build -----------------------------------------------------------------------
start=$(date +%s)
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
rm -f "$stampf"
mkdir -p "$work/tree/boot/grub" "$work/tree/install"
say "[1/2] collecting the installer $(ver debian-installer-12-netboot-amd64)"
cp "$di/linux" "$di/initrd.gz" "$work/tree/install/"
cp "$here/distro/installer-grub.cfg" "$work/tree/boot/grub/grub.cfg"
say "[2/2] grub-mkrescue (about 10 s)"
grub-mkrescue -o "$work/installer.iso" "$work/tree" -- -volid DEBIAN12_DI \
	>"$work/mkrescue.log" 2>&1 || die "grub-mkrescue failed: $(tail -5 "$work/mkrescue.log")"
# grub-mkrescue silently leaves out a platform whose modules are missing:
# check that both boot paths made it in (El Torito BIOS image and the EFI
# system image).
report=$(xorriso -indev "$work/installer.iso" -report_el_torito plain 2>/dev/null) || true
case $report in *BIOS*) ;; *) die "the ISO has no BIOS El Torito boot image" ;; esac
case $report in *UEFI*) ;; *) die "the ISO has no UEFI El Torito boot image" ;; esac
mv -f "$work/installer.iso" "$iso"
printf '%s\n' "$stamp" >"$stampf"
say "built $iso in $(($(date +%s) - start)) s ($(du -m "$iso" | cut -f1) MiB)"
