#!/bin/sh
# Build the small Linux test guest that qlua's boot tests run:
#   build/guest/vmlinux    uncompressed ELF kernel (PVH note: -kernel on q35, pc, microvm)
#   build/guest/vmlinuz    the same kernel as Debian ships it (bzImage, EFI stub): for OVMF
#   build/guest/initrd.gz  busybox-static + virtio/9p/nvdimm/... modules + scripts/guest/init
#                          + /agent.cpio.gz: qemu-ga and its libraries (unpacked on qlua.agent)
#   build/guest/VERSION    kernel version (uname -r in the guest)
#   build/guest/STAMP      the inputs of the build; unchanged inputs => nothing to do
# The kernel is Debian's linux-image-amd64, busybox comes from busybox-static and
# qemu-ga from qemu-guest-agent, all fetched with apt-get download into
# build/guest-cache/ and unpacked there, never installed.  qemu-ga's shared
# libraries (glib, ...) and the dynamic loader are copied from the host (ldd):
# the host is the same Debian release as the package. Tools it needs (cpio, kmod, xz-utils) are installed if missing.
# Usage: scripts/build-guest.sh [--force]
# Contract of the guest (command line checks, markers): scripts/guest/README.md
set -eu

export LC_ALL=C
PATH=$PATH:/usr/sbin:/sbin
umask 022

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
src=$here/guest
out=$top/build/guest
cache=$top/build/guest-cache
work=$top/build/guest-work

force=
case ${1:-} in
--force) force=1 ;;
"") ;;
*)
	echo "usage: $0 [--force]" >&2
	exit 2
	;;
esac

say() { printf 'build-guest: %s\n' "$*"; }
die() {
	printf 'build-guest: error: %s\n' "$*" >&2
	exit 1
}

mkdir -p "$top/build"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$top/build/guest.lock"
	flock 9
fi

# --- tools --------------------------------------------------------------------
missing=
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
command -v depmod >/dev/null 2>&1 || missing="$missing kmod"
command -v xz >/dev/null 2>&1 || missing="$missing xz-utils"
command -v gzip >/dev/null 2>&1 || missing="$missing gzip"
for t in apt-get apt-cache dpkg-deb od sha256sum; do
	command -v $t >/dev/null 2>&1 || die "$t not found (this script needs Debian's apt and coreutils)"
done
apt_updated=
apt_update() {
	[ -z "$apt_updated" ] || return 0
	say "apt-get update"
	apt-get update -qq || die "apt-get update failed"
	apt_updated=1
}
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (install them, or run as root)"
	say "installing$missing"
	# shellcheck disable=SC2086
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
		apt_update
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
			die "apt-get install$missing failed"
	fi
fi

# --- inputs -------------------------------------------------------------------
# Inputs: the kernel package linux-image-amd64 resolves to, busybox-static's
# and qemu-guest-agent's versions, and the content of this script and of scripts/guest/.
srchash=$({
	cat "$here/build-guest.sh"
	(cd "$src" && find . -type f | sort) | while read -r f; do
		printf '\n== %s\n' "$f"
		cat "$src/$f"
	done
} | sha256sum | cut -d' ' -f1)

# apt-cache is slow where its binary cache is disabled (Docker images: ~0.5 s a
# call); STAMP remembers what the package lists resolved to, keyed by their
# fingerprint, so an unchanged tree costs no apt-cache call.
aptfp=$(stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* /var/lib/apt/lists/*Release \
	/etc/apt/sources.list /etc/apt/sources.list.d/* /etc/apt/preferences /etc/apt/preferences.d/* \
	2>/dev/null | sha256sum | cut -d' ' -f1)
outputs_exist() { [ -f "$out/vmlinux" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ] && [ -f "$out/VERSION" ] && [ -f "$out/STAMP" ]; }
stamp_line() { sed -n "s/^$1 //p" "$out/STAMP"; }
if [ -z "$force" ] && outputs_exist && [ "$(stamp_line sources)" = "$srchash" ] &&
	[ "$(stamp_line apt-lists)" = "$aptfp" ]; then
	say "guest up to date ($(cat "$out/VERSION"))"
	exit 0
fi

candidate() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'; }
resolve() {
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	kver=
	[ -z "$kpkg" ] || kver=$(candidate "$kpkg")
	bver=$(candidate busybox-static)
	qver=$(candidate qemu-guest-agent)
	[ -n "$kpkg" ] && [ -n "$kver" ] && [ "$kver" != "(none)" ] &&
		[ -n "$bver" ] && [ "$bver" != "(none)" ] &&
		[ -n "$qver" ] && [ "$qver" != "(none)" ]
}
if ! resolve; then
	apt_update
	aptfp=changed
	resolve || die "apt-cache finds no linux-image-amd64 / busybox-static / qemu-guest-agent candidate"
fi

inputs="kernel-package $kpkg $kver
busybox-static $bver
qemu-guest-agent $qver
sources $srchash"
stamp="$inputs
apt-lists $aptfp"

if [ -z "$force" ] && outputs_exist && [ "$(sed 4q "$out/STAMP")" = "$inputs" ]; then
	[ "$aptfp" = changed ] || printf '%s\n' "$stamp" >"$out/STAMP"
	say "guest up to date ($(cat "$out/VERSION"))"
	exit 0
fi

# --- build --------------------------------------------------------------------
start=$(date +%s)
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$cache" "$out" "$work"
rm -f "$out/STAMP"

# fetch PACKAGE VERSION: print the path of that .deb in the cache, downloading
# it if needed (or copying it from apt's own archive cache).
fetch() {
	for f in "$cache/$1"_*.deb /var/cache/apt/archives/"$1"_*.deb; do
		[ -f "$f" ] || continue
		[ "$(dpkg-deb -f "$f" Package 2>/dev/null)" = "$1" ] || continue
		[ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$2" ] || continue
		case $f in
		"$cache"/*) ;;
		*)
			cp "$f" "$cache/" || return 1
			f=$cache/${f##*/}
			;;
		esac
		echo "$f"
		return 0
	done
	return 1
}
download() {
	fetch "$1" "$2" && return 0
	say "downloading $1 $2" >&2
	if ! (cd "$cache" && apt-get download -q "$1=$2" >/dev/null 2>"$work/apt.err"); then
		apt_update >&2
		(cd "$cache" && apt-get download -q "$1=$2" >/dev/null 2>"$work/apt.err") ||
			die "apt-get download $1=$2 failed: $(cat "$work/apt.err")"
	fi
	fetch "$1" "$2" || die "apt-get download $1=$2 left no .deb in $cache"
}
kdeb=$(download "$kpkg" "$kver")
bdeb=$(download busybox-static "$bver")
qdeb=$(download qemu-guest-agent "$qver")

say "unpacking $kpkg $kver"
mkdir -p "$work/k" "$work/b"
dpkg-deb -x "$kdeb" "$work/k" || {
	rm -f "$kdeb"
	die "cannot unpack $kdeb (removed it from the cache; run again)"
}
dpkg-deb -x "$bdeb" "$work/b" || {
	rm -f "$bdeb"
	die "cannot unpack $bdeb (removed it from the cache; run again)"
}
busybox=$work/b/bin/busybox
[ -x "$busybox" ] || die "no bin/busybox in $bdeb"
mkdir -p "$work/q"
dpkg-deb -x "$qdeb" "$work/q" || {
	rm -f "$qdeb"
	die "cannot unpack $qdeb (removed it from the cache; run again)"
}
qga=$work/q/usr/sbin/qemu-ga
[ -x "$qga" ] || die "no usr/sbin/qemu-ga in $qdeb"

# Debian 12 ships /lib/modules; later releases may use /usr/lib/modules.
if [ ! -d "$work/k/lib/modules" ] && [ -d "$work/k/usr/lib/modules" ]; then
	ln -s usr/lib "$work/k/lib"
fi
set -- "$work/k/lib/modules"/*
if [ $# != 1 ] || [ ! -d "$1" ]; then
	die "expected one kernel in $kdeb, found: $*"
fi
kv=${1##*/}
moddir=$1
bz=$work/k/boot/vmlinuz-$kv
config=$work/k/boot/config-$kv
[ -f "$bz" ] || die "no boot/vmlinuz-$kv in $kdeb"
grep -qx 'CONFIG_PVH=y' "$config" || die "kernel $kv lacks CONFIG_PVH: it cannot boot as an ELF with -kernel"

# --- vmlinux: decompress the bzImage payload ------------------------------------
# Setup header: setup_sects (u8) at 0x1f1, "HdrS" at 0x202, payload_offset and
# payload_length (u32 LE) at 0x248/0x24c, relative to the protected-mode code at
# (setup_sects + 1) * 512.
say "extracting vmlinux from vmlinuz-$kv"
u8() { od -An -tu1 -j "$1" -N1 "$bz" | tr -d ' \n'; }
u32() { od -An -tu4 --endian=little -j "$1" -N4 "$bz" | tr -d ' \n'; }
[ "$(od -An -c -j 514 -N4 "$bz" | tr -d ' \n')" = HdrS ] || die "vmlinuz-$kv: no Linux setup header"
setup_sects=$(u8 497)
[ "$setup_sects" != 0 ] || setup_sects=4
poff=$(u32 584)
plen=$(u32 588)
[ "$plen" -gt 0 ] || die "vmlinuz-$kv: empty payload"
tail -c +$(((setup_sects + 1) * 512 + poff + 1)) "$bz" | head -c "$plen" >"$work/payload"
magic=$(od -An -tx1 -N6 "$work/payload" | tr -d ' \n')
rc=0
case $magic in
fd377a585a00) xz -dc --single-stream "$work/payload" >"$work/vmlinux" || rc=$? ;;
1f8b*) gzip -dcq "$work/payload" >"$work/vmlinux" 2>/dev/null || rc=$? ;; # 2: trailing size bytes
5d0000*) xz -dcq --format=lzma "$work/payload" >"$work/vmlinux" 2>/dev/null || rc=$? ;;
28b52ffd*)
	command -v zstd >/dev/null 2>&1 || die "the kernel payload is zstd: apt-get install zstd"
	zstd -dcq "$work/payload" >"$work/vmlinux" 2>/dev/null || rc=1
	;;
*) die "vmlinuz-$kv: unknown payload compression (magic $magic)" ;;
esac
# The payload ends with the 4-byte decompressed size: "trailing garbage"
# (exit 2) is expected from some decompressors; check the result instead.
[ "$rc" = 0 ] || [ "$rc" = 2 ] || die "decompressing the kernel payload failed (exit $rc)"
[ "$(od -An -tx1 -N5 "$work/vmlinux" | tr -d ' \n')" = 7f454c4602 ] ||
	die "the decompressed kernel payload is not a 64-bit ELF"

# --- modules ---------------------------------------------------------------------
say "resolving modules"
depmod -b "$work/k" "$kv" 2>"$work/depmod.err" || die "depmod failed: $(cat "$work/depmod.err")"
# Depth-first over modules.dep (each line: path: every dependency path).
# modules: loaded at boot in this order; modules.extra: shipped for modprobe.
for f in modules modules.extra; do
	: >"$work/$f.wanted"
	[ ! -f "$src/$f" ] || sed 's/#.*//' "$src/$f" | tr -s ' \t' '\n' | grep -v '^$' >"$work/$f.wanted" || true
done
: >"$work/order"
: >"$work/order.extra"
awk -v boot="$work/order" -v extra="$work/order.extra" '
function norm(p) { sub(/.*\//, "", p); sub(/\.ko(\.[a-z]+)?$/, "", p); gsub(/-/, "_", p); return p }
function visit(n, out,    k, i, d) {
	if (n in done) return
	done[n] = 1
	k = split(dep[n], d, " ")
	for (i = 1; i <= k; i++) visit(norm(d[i]), out)
	print path[n] > out
}
FILENAME ~ /modules\.dep$/ { c = index($0, ":"); p = substr($0, 1, c - 1); n = norm(p); path[n] = p; dep[n] = substr($0, c + 1); next }
{
	n = $1; gsub(/-/, "_", n)
	if (!(n in path)) { print "build-guest: module not in the kernel package: " $1 > "/dev/stderr"; bad = 1; next }
	visit(n, FILENAME ~ /modules\.extra\.wanted$/ ? extra : boot)
}
END { exit bad }' "$moddir/modules.dep" "$work/modules.wanted" "$work/modules.extra.wanted" ||
	die "scripts/guest/modules or modules.extra names a module that kernel $kv does not have"
[ -s "$work/order" ] || die "scripts/guest/modules lists no module"

# --- initramfs ---------------------------------------------------------------------
say "building initramfs"
root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/etc" "$root/mnt" "$root/proc" "$root/root" \
	"$root/sys" "$root/tmp" "$root/usr" "$root/lib/modules/$kv"
cp "$busybox" "$root/bin/busybox"
"$root/bin/busybox" --list | while read -r a; do
	case $a in busybox | */*) ;; *) ln -s busybox "$root/bin/$a" ;; esac
done
[ -e "$root/bin/sh" ] || die "busybox has no sh applet"
ln -s bin "$root/sbin"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
cat "$work/order" "$work/order.extra" >"$work/order.all"
while read -r m; do
	mkdir -p "$root/lib/modules/$kv/${m%/*}"
	cp "$moddir/$m" "$root/lib/modules/$kv/$m"
done <"$work/order.all"
cp "$work/order" "$root/etc/qlua-modules"
# qemu-ga, the shared libraries ldd finds for it on the host and the dynamic
# loader, at the paths the binary names (the loader's own path included).
# They more than double the initramfs, and the kernel would inflate them at
# every boot: they travel as /agent.cpio.gz, which the outer gzip stores
# as it is (inflating stored blocks is a copy), and /init unpacks only on
# qlua.agent.
agent=$work/agent
mkdir -p "$agent/bin"
cp "$qga" "$agent/bin/qemu-ga"
ldd "$qga" >"$work/ldd" 2>&1 || die "ldd $qga failed: $(cat "$work/ldd")"
grep -q 'not found' "$work/ldd" && die "qemu-ga needs libraries the host lacks: $(grep 'not found' "$work/ldd" | tr -s ' \t\n' ' ')"
awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$work/ldd" | sort -u >"$work/libs"
[ -s "$work/libs" ] || die "ldd lists no library for qemu-ga"
while read -r lib; do
	mkdir -p "$agent${lib%/*}"
	cp -L "$lib" "$agent$lib"
done <"$work/libs"
find "$agent" -type d -exec chmod 755 {} +
find "$agent" -type f -exec chmod 755 {} +
find "$agent" -exec touch -h -d @0 {} +
(cd "$agent" && find . | sort | cpio -o -H newc --reproducible -R 0:0 --quiet) | gzip -n -9 >"$root/agent.cpio.gz"
cp "$src/shutdown" "$root/bin/shutdown"
depmod -b "$root" "$kv" 2>"$work/depmod.err" || die "depmod in the initramfs failed: $(cat "$work/depmod.err")"
cp "$src/init" "$root/init"
find "$root" -type d -exec chmod 755 {} +
find "$root" -type f -exec chmod 644 {} +
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/shutdown"
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | sort | cpio -o -H newc --reproducible -R 0:0 --quiet) | gzip -n -9 >"$work/initrd.gz"

# --- install -----------------------------------------------------------------------
printf '%s\n' "$kv" >"$work/VERSION"
cp "$bz" "$work/vmlinuz"  # OVMF boots no ELF: firmware = "uefi" boots this one
for f in vmlinux vmlinuz initrd.gz VERSION; do
	mv -f "$work/$f" "$out/$f"
done
printf '%s\n' "$stamp" >"$out/STAMP"
# keep only the packages in use in the cache
for f in "$cache"/*.deb; do
	[ "$f" = "$kdeb" ] || [ "$f" = "$bdeb" ] || [ "$f" = "$qdeb" ] || rm -f "$f"
done
say "built guest $kv in $(($(date +%s) - start)) s: $out/vmlinux ($(du -k "$out/vmlinux" | cut -f1) KiB), $out/initrd.gz ($(du -k "$out/initrd.gz" | cut -f1) KiB, $(wc -l <"$work/order") modules at boot, $(wc -l <"$work/order.extra") more on demand)"
