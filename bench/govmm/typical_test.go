// bench/govmm/typical_test.go - govmm's command-line builder on the
// configuration of bench/typical.lua, for bench/govmm.sh (`make bench`).
// It is copied into a copy of govmm's qemu package under build/ (package
// qemu: the config's append methods are unexported) and run with Go's own
// testing.B.  Each iteration builds a new Config (struct literals, the
// Devices slice of interfaces) and calls what LaunchQemu calls before it
// execs, the same 21 appends in the same order, nothing else.
//
// Fields of bench/typical.lua that govmm cannot express, and what stands in:
//   - machine { accel = "tcg" }: govmm renders Machine.Acceleration as
//     -machine q35,accel=tcg (qlua: -machine q35 -accel tcg);
//   - aio = "io_uring": govmm has no constant for it (Threads, Native); the
//     string is given as BlockDeviceAIO("io_uring"), which govmm passes on;
//   - qmp { path, server, wait = false }: govmm's -qmp unix:PATH,server=on,wait=off
//     (qlua: -chardev socket,... -mon ...);
//   - netdev tap with fds: govmm's NetDevice is valid only with an IFName,
//     so IFName = "tap0" is set (not rendered when FDs are given);
//   - the serial chardev's virtconsole: CharDevice{Driver: Console};
//   - qlua's virtio-net-pci mq=on,vectors=6 and govmm's are both derived from
//     the queue count; govmm adds its own defaults (disable-modern, romfile,
//     scsi=off, config-wce=off) that qlua does not render.
package qemu

import (
	"os"
	"strings"
	"syscall"
	"testing"
)

var sink []string

// typicalConfig is bench/typical.lua's description as a govmm Config.
func typicalConfig(queues []*os.File) Config {
	return Config{
		Path:     "qemu-system-x86_64",
		Name:     "bench",
		UUID:     "6f2f2a9e-1c3b-4c1e-9a8e-4b2f1a0c9d11",
		Machine:  Machine{Type: "q35", Acceleration: "tcg"},
		CPUModel: "max",
		SMP:      SMP{CPUs: 2, Sockets: 4, Cores: 1, Threads: 1, MaxCPUs: 4},
		Memory:   Memory{Size: "2048M", Slots: 2, MaxMem: "8G"},
		QMPSockets: []QMPSocket{
			{Type: Unix, Name: "/run/qlua/bench.qmp", Server: true, NoWait: true},
		},
		RTC: RTC{Base: UTC, Clock: Host, DriftFix: Slew},
		Kernel: Kernel{Path: "/boot/vmlinuz", InitrdPath: "/boot/initrd.img",
			Params: "console=ttyS0 root=/dev/vda rw quiet"},
		Knobs: Knobs{NoUserConfig: true, NoDefaults: true, NoGraphic: true},
		Devices: []Device{
			BlockDevice{Driver: VirtioBlock, ID: "disk0", File: "/var/lib/vm/root.qcow2",
				Format: QCOW2, AIO: Threads, Interface: NoInterface},
			BlockDevice{Driver: VirtioBlock, ID: "disk1", File: "/var/lib/vm/data.img",
				Format: "raw", ReadOnly: true, AIO: BlockDeviceAIO("io_uring"), Interface: NoInterface},
			FSDevice{Driver: Virtio9P, FSDriver: Local, ID: "share0", Path: "/srv/share",
				MountTag: "share", SecurityModel: None},
			NetDevice{Type: TAP, Driver: VirtioNet, ID: "net0", IFName: "tap0",
				MACAddress: "52:54:00:12:34:56", FDs: queues},
			SerialDevice{Driver: VirtioSerial, ID: "serial0"},
			CharDevice{Backend: Socket, ID: "charconsole0", Path: "/run/qlua/console.sock",
				Driver: Console, Bus: "serial0.0", DeviceID: "console0"},
			BridgeDevice{Type: PCIBridge, Bus: "pcie.0", ID: "pci-bridge-0", Chassis: 1, SHPC: true},
		},
	}
}

// buildParams is LaunchQemu up to its exec: the same 21 appends, in order.
func buildParams(config *Config) error {
	config.appendName()
	config.appendUUID()
	config.appendMachine()
	config.appendCPUModel()
	config.appendQMPSockets()
	config.appendMemory()
	config.appendDevices()
	config.appendRTC()
	config.appendGlobalParam()
	config.appendPFlashParam()
	config.appendVGA()
	config.appendKnobs()
	config.appendKernel()
	config.appendBios()
	config.appendIOThreads()
	config.appendIncoming()
	config.appendPidFile()
	config.appendLogFile()
	config.appendFwCfg(nil)
	config.appendSeccompSandbox()
	return config.appendCPUs()
}

// The queue descriptors, opened once as bench/typical.lua opens them.
func queues(tb testing.TB) []*os.File {
	var fs []*os.File
	for i := 0; i < 2; i++ {
		f, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
		if err != nil {
			tb.Fatal(err)
		}
		fs = append(fs, f)
	}
	return fs
}

// TestTypicalArgv shows the argv (go test -v) and checks that every device
// was valid for govmm and rendered.
func TestTypicalArgv(t *testing.T) {
	c := typicalConfig(queues(t))
	if err := buildParams(&c); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d arguments: %s", len(c.qemuParams), strings.Join(c.qemuParams, " "))
	for _, want := range []string{"drive=disk0", "drive=disk1", "fsdev=share0", "fds=3:4",
		"id=serial0", "charconsole0", "pci-bridge", "-rtc", "-kernel", "-smp", "-qmp"} {
		if !strings.Contains(strings.Join(c.qemuParams, " "), want) {
			t.Errorf("argv lacks %q", want)
		}
	}
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkTypical: a new Config and its argv per iteration.  Besides Go's
// ns/op (wall time), it reports cpu-ns/op, the process's CPU time (every
// thread: the garbage collector's too) per build, which is what
// bench/argv.lua's os.clock() measures for qlua.
func BenchmarkTypical(b *testing.B) {
	qs := queues(b)
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuNanos()
	for i := 0; i < b.N; i++ {
		c := typicalConfig(qs)
		if err := buildParams(&c); err != nil {
			b.Fatal(err)
		}
		sink = c.qemuParams
	}
	b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
}
