#!/bin/sh
# smoke.sh - boot the Debian image or the installer ISO with plain QEMU (TCG)
# and check that they really work; nothing of qlua is involved.
#
#   scripts/distro/smoke.sh [image] [bios|uefi|both] [virtio|scsi|nvme]
#       Boots build/distro/debian-12.qcow2 through a throw-away qcow2 overlay
#       on q35, 2 vCPUs, 1 GiB, -nodefaults, the serial console in a file, a
#       NoCloud seed (cloud-localds) with a fresh ssh key, user networking
#       with ssh forwarded to 127.0.0.1:PORT and the guest agent on a unix
#       socket.  Checks, in order: the login prompt on the serial console,
#       an ssh login as root with the seeded key (and that systemd reaches
#       running, cloud-init finishes without errors), the agent answering
#       guest-ping.  Default: both firmwares, virtio-blk.
#   scripts/distro/smoke.sh iso [bios|uefi|both]
#       Boots build/distro/debian-12-installer.iso as a cdrom and waits for
#       the installer's first screen on the serial console.
#
# Everything waits under SMOKE_TIMEOUT seconds (default 600 a boot: TCG on a
# loaded machine); QEMU, the overlay, the seed, the key and the sockets are
# removed on exit, whatever happens.  Exit status 0 when every check passed.
# Needs: qemu-system-x86, qemu-utils, ovmf, cloud-image-utils, openssh-client,
# python3 (the agent check).  More: scripts/distro/README.md
set -eu

export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$(dirname "$here")")
image=$top/build/distro/debian-12.qcow2
iso=$top/build/distro/debian-12-installer.iso
limit=${SMOKE_TIMEOUT:-600}
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd

what=image
fw=both
bus=virtio
for a in "$@"; do
	case $a in
	image | iso) what=$a ;;
	bios | uefi | both) fw=$a ;;
	virtio | scsi | nvme) bus=$a ;;
	*)
		echo "usage: $0 [image|iso] [bios|uefi|both] [virtio|scsi|nvme]" >&2
		exit 2
		;;
	esac
done

say() { printf 'smoke: %s\n' "$*"; }
die() {
	printf 'smoke: error: %s\n' "$*" >&2
	exit 1
}

for t in qemu-system-x86_64 qemu-img python3; do
	command -v $t >/dev/null 2>&1 || die "$t not found"
done
if [ "$what" = image ]; then
	[ -f "$image" ] || die "no $image (make distro-image)"
	for t in ssh ssh-keygen cloud-localds; do
		command -v $t >/dev/null 2>&1 || die "$t not found (sh scripts/deps.sh distro)"
	done
else
	[ -f "$iso" ] || die "no $iso (make installer-iso)"
fi
case $fw in bios) ;; *) [ -f "$ovmf_code" ] && [ -f "$ovmf_vars" ] || die "no OVMF in /usr/share/OVMF (apt-get install ovmf)" ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qlua-smoke.XXXXXX")
qpid=
stop_qemu() {
	if [ -n "$qpid" ]; then
		kill "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
		qpid=
	fi
}
cleanup() {
	stop_qemu
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A free TCP port on 127.0.0.1 for the ssh forward.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The seed: a fresh key for root (the image keeps root's ssh login open to
# seeded keys: scripts/distro/cloud.cfg.d/90-qlua.cfg) and the default user.
if [ "$what" = image ]; then
	ssh-keygen -q -t ed25519 -N '' -C qlua-smoke -f "$tmp/key"
	cat >"$tmp/user-data" <<EOF
#cloud-config
ssh_authorized_keys:
  - $(cat "$tmp/key.pub")
EOF
	printf 'instance-id: qlua-smoke-%s\nlocal-hostname: qlua-smoke\n' "$$" >"$tmp/meta-data"
	cloud-localds "$tmp/seed.iso" "$tmp/user-data" "$tmp/meta-data" || die "cloud-localds failed"
fi

now() { date +%s; }
elapsed() { echo $(($(now) - t0)); }
alive() { kill -0 "$qpid" 2>/dev/null; }
# wait_serial TEXT: until TEXT is on the serial console (0), QEMU exits or the
# time is up (1).
wait_serial() {
	while [ "$(now)" -lt "$deadline" ]; do
		grep -qF -- "$1" "$tmp/serial.log" 2>/dev/null && return 0
		alive || return 1
		sleep 1
	done
	return 1
}
fail() {
	say "FAIL ($label): $*"
	say "last lines of the serial console:"
	tail -n 25 "$tmp/serial.log" 2>/dev/null | tr -d '\033' | sed 's/^/  | /' || true
	failed=1
	stop_qemu
}

ssh_guest() {
	ssh -q -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$tmp/key" -p "$port" \
		root@127.0.0.1 "$@"
}

# agent_ping: guest-sync-delimited with a fresh id (skips answers to requests
# that sat in the socket while the agent was not up yet), then guest-ping.
agent_ping() {
	python3 - "$tmp/qga.sock" "$deadline" <<'EOF'
import json, random, socket, sys, time
path, deadline = sys.argv[1], float(sys.argv[2])
def lines(s):
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                raise EOFError
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        line = line.strip(b"\xff \r")
        if line:
            yield json.loads(line)
while time.time() < deadline:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.settimeout(5)
        sid = random.randrange(1, 2**31)
        s.sendall(json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": sid}}).encode() + b"\n")
        it = lines(s)
        while json.dumps(next(it).get("return")) != str(sid):
            pass
        s.sendall(b'{"execute": "guest-ping"}\n')
        reply = next(it)
        if reply == {"return": {}}:
            sys.exit(0)
        print("unexpected answer to guest-ping:", reply, file=sys.stderr)
        sys.exit(1)
    except (OSError, EOFError, StopIteration, ValueError):
        s.close()
        time.sleep(2)
sys.exit(1)
EOF
}

# boot FIRMWARE: start QEMU in the background (qpid) with the serial console
# in $tmp/serial.log.
boot() {
	rm -f "$tmp/serial.log" "$tmp/qga.sock" "$tmp/overlay.qcow2" "$tmp/vars.fd"
	set -- qemu-system-x86_64 -accel tcg -machine q35 -cpu max -smp 2 -m 1G \
		-nodefaults -display none -no-reboot -serial "file:$tmp/serial.log"
	if [ "$1" = uefi ]; then
		cp "$ovmf_vars" "$tmp/vars.fd"
		set -- "$@" -drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code" \
			-drive "if=pflash,format=raw,unit=1,file=$tmp/vars.fd"
	fi
	if [ "$what" = iso ]; then
		set -- "$@" -blockdev "driver=file,filename=$iso,read-only=on,node-name=cd0" \
			-device ide-cd,drive=cd0,bus=ide.0,bootindex=0
	else
		qemu-img create -q -f qcow2 -F qcow2 -b "$image" "$tmp/overlay.qcow2"
		set -- "$@" -blockdev "driver=qcow2,node-name=disk0,file.driver=file,file.filename=$tmp/overlay.qcow2"
		case $bus in
		virtio) set -- "$@" -device virtio-blk-pci,drive=disk0,bootindex=0 ;;
		scsi) set -- "$@" -device virtio-scsi-pci,id=scsi0 -device scsi-hd,drive=disk0,bus=scsi0.0,bootindex=0 ;;
		nvme) set -- "$@" -device nvme,drive=disk0,serial=qlua0,bootindex=0 ;;
		esac
		set -- "$@" -blockdev "driver=file,filename=$tmp/seed.iso,read-only=on,node-name=seed" \
			-device virtio-blk-pci,drive=seed \
			-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
			-device virtio-serial-pci -chardev "socket,path=$tmp/qga.sock,server=on,wait=off,id=qga0" \
			-device virtserialport,chardev=qga0,name=org.qemu.guest_agent.0
	fi
	"$@" </dev/null >"$tmp/qemu.log" 2>&1 &
	qpid=$!
}

failed=
run_one() {
	fwname=$1
	label="$what $fwname${bus:+ $bus}"
	[ "$what" = image ] || label="$what $fwname"
	port=$(free_port)
	t0=$(now)
	deadline=$((t0 + limit))
	boot "$fwname"
	if [ "$what" = iso ]; then
		if wait_serial '<Tab> moves; <Space> selects; <Enter> activates buttons'; then
			say "ok ($label): installer's first screen at $(elapsed) s"
		else
			fail "no installer screen within ${limit}s$(alive || echo " (QEMU exited: $(cat "$tmp/qemu.log"))")"
		fi
		stop_qemu
		return 0
	fi
	if ! wait_serial 'login:'; then
		fail "no login prompt within ${limit}s$(alive || echo " (QEMU exited: $(cat "$tmp/qemu.log"))")"
		return 0
	fi
	t_login=$(elapsed)
	state=
	while [ "$(now)" -lt "$deadline" ]; do
		# systemd's state once the boot is over (running or degraded)
		state=$(ssh_guest 'systemctl is-system-running --wait' 2>/dev/null) && break
		[ -z "$state" ] || break
		alive || break
		sleep 3
	done
	if [ -z "$state" ]; then
		fail "no ssh login as root with the seeded key"
		return 0
	fi
	t_ssh=$(elapsed)
	if ! agent_ping; then
		fail "the guest agent did not answer guest-ping"
		return 0
	fi
	t_agent=$(elapsed)
	info=$(ssh_guest 'printf "%s %s, root=%s, " "$(uname -r)" "$(cat /proc/cmdline | tr " " "\n" | grep "^root=")" "$(findmnt -no SOURCE /)"; ip -4 -o addr show scope global | awk "{printf \"%s %s, \", \$2, \$4}"; cloud-init status --wait >/dev/null 2>&1; cloud-init status --long | grep -E "^(status|errors|recoverable_errors)" | tr "\n" " "' 2>/dev/null) || true
	units=
	[ "$state" = running ] || units=$(ssh_guest 'systemctl --failed --plain --no-legend | cut -d" " -f1 | tr "\n" " "' 2>/dev/null) || true
	say "ok ($label): login prompt at $t_login s, ssh as root at $t_ssh s (systemd: $state${units:+: $units}), agent ping at $t_agent s"
	say "   guest: $info"
	case $info in *"status: done"*) ;; *) fail "cloud-init did not finish cleanly" ;; esac
	stop_qemu
}

case $fw in
both) set -- bios uefi ;;
*) set -- "$fw" ;;
esac
for f in "$@"; do
	run_one "$f"
done
[ -z "$failed" ] || exit 1
say "all checks passed"
