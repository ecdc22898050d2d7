#!/bin/sh
# deps.sh [fuzz|distro|bench] - install the Debian packages qlua's build and test
# suite need (with "fuzz": also what make fuzz needs, clang and its libFuzzer
# runtime; with "distro": what make distro-image and make installer-iso need,
# mmdebstrap, GRUB for BIOS and EFI, OVMF, the installer's netboot files,
# and Pillow, which make check-distro reads the installer's screendumps with;
# with "bench": what make bench's govmm rows need, Go and govmm's source,
# which bench/govmm.sh skips when missing), when they are missing.  slurm-wlm
# and munge: spec/cluster_spec.lua starts a one-node Slurm cluster of its own
# (scripts/slurm-local.sh); the packages' own services are not needed.  Run as
# root it installs them; otherwise
# it says which are missing and how to get them.  (chromium: spec/html_spec.lua
# loads the matrix's HTML report in it, headless.)
set -eu

# (busybox-static for the test guest is downloaded by build-guest.sh, not
# installed: it conflicts with Debian's busybox.)
PACKAGES="make gcc pkg-config lua5.4 liblua5.4-dev lua-busted libjansson-dev
qemu-system-x86 qemu-utils ovmf iproute2 cpio kmod xz-utils libxml2-utils python3-junitparser
parallel luarocks man-db valgrind slurm-wlm munge chromium xorriso openssh-client openssh-server
python3-yaml"
[ "${1:-}" = fuzz ] && PACKAGES="$PACKAGES clang libclang-rt-14-dev"
[ "${1:-}" = distro ] && PACKAGES="$PACKAGES mmdebstrap grub-pc-bin grub-efi-amd64-bin
grub-common ovmf dosfstools mtools xorriso fdisk cloud-image-utils
debian-installer-12-netboot-amd64 python3-pil"
[ "${1:-}" = bench ] && PACKAGES="$PACKAGES golang-go golang-github-kata-containers-govmm-dev"

missing=""
for p in $PACKAGES; do
	# "install ok installed" only: a removed package leaves its config behind
	if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "qlua needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null
