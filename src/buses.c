/* buses.c - see buses.h.  The buses of QEMU's x86 machines, as `info qtree`
 * lists them (QEMU 7.2, with -nodefaults; the default devices add none):
 *
 *   pc, pc-i440fx-*   pci.0, ide.0, ide.1, isa.0, floppy-bus.0, i2c, main-system-bus
 *   q35, pc-q35-*     pcie.0, ide.0 .. ide.5 (the AHCI's; none with sata=off),
 *                     isa.0, i2c, main-system-bus
 *   isapc             ide.0, ide.1, isa.0, floppy-bus.0, main-system-bus
 *   microvm           virtio-mmio-bus.0 .. 23 (.0 .. 7 with ioapic2=off or
 *                     acpi=off), isa.0, main-system-bus; pcie.0 with pcie=on
 *   none              main-system-bus
 *
 * and usb-bus.0 with usb=on (microvm: with ACPI).  A root PCI bus is never
 * both: pci.0 on q35 or pcie.0 on pc is "Bus 'pci.0' not found" at start. */
#include "buses.h"

#include <string.h>

/* A machine option's value as QEMU's boolean / OnOffAuto parser reads it:
 * 1 on, 0 off, -1 not given (or "auto"). */
static int option(const struct prop *opts, int nopts, const char *key)
{
	static const char *const on[] = { "on", "yes", "true", "y", NULL };
	static const char *const off[] = { "off", "no", "false", "n", NULL };
	for (int i = 0; i < nopts; i++) {
		if (strcmp(opts[i].key, key))
			continue;
		for (int j = 0; on[j]; j++) {
			if (!strcmp(opts[i].val, on[j]))
				return 1;
			if (!strcmp(opts[i].val, off[j]))
				return 0;
		}
	}
	return -1;
}

static const char *const mmio[24] = {
	"virtio-mmio-bus.0", "virtio-mmio-bus.1", "virtio-mmio-bus.2", "virtio-mmio-bus.3",
	"virtio-mmio-bus.4", "virtio-mmio-bus.5", "virtio-mmio-bus.6", "virtio-mmio-bus.7",
	"virtio-mmio-bus.8", "virtio-mmio-bus.9", "virtio-mmio-bus.10", "virtio-mmio-bus.11",
	"virtio-mmio-bus.12", "virtio-mmio-bus.13", "virtio-mmio-bus.14", "virtio-mmio-bus.15",
	"virtio-mmio-bus.16", "virtio-mmio-bus.17", "virtio-mmio-bus.18", "virtio-mmio-bus.19",
	"virtio-mmio-bus.20", "virtio-mmio-bus.21", "virtio-mmio-bus.22", "virtio-mmio-bus.23",
};

static const char *const ide[6] = { "ide.0", "ide.1", "ide.2", "ide.3", "ide.4", "ide.5" };

static int add(const char **v, int n, const char *const *names, int count)
{
	for (int i = 0; i < count && n < MACHINE_BUSES_MAX; i++)
		v[n++] = names[i];
	return n;
}

static int prefixed(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int machine_buses(const char *type, const struct prop *opts, int nopts, const char **v)
{
	int n = 0;
	if (!type)
		return -1;
	int usb = option(opts, nopts, "usb") == 1;
	/* "pc", "pc-i440fx-7.2", and the old "pc-1.3" are i440fx machines */
	if (!strcmp(type, "pc") || prefixed(type, "pc-i440fx-") ||
	    (prefixed(type, "pc-") && type[3] >= '0' && type[3] <= '9')) {
		v[n++] = "pci.0";
		n = add(v, n, ide, 2);
		v[n++] = "isa.0";
		v[n++] = "floppy-bus.0";
		v[n++] = "i2c";
	} else if (!strcmp(type, "q35") || prefixed(type, "pc-q35-")) {
		v[n++] = "pcie.0";
		if (option(opts, nopts, "sata") != 0)
			n = add(v, n, ide, 6);
		v[n++] = "isa.0";
		v[n++] = "i2c";
	} else if (!strcmp(type, "isapc")) {
		n = add(v, n, ide, 2);
		v[n++] = "isa.0";
		v[n++] = "floppy-bus.0";
		usb = 0;
	} else if (!strcmp(type, "microvm")) {
		int acpi = option(opts, nopts, "acpi") != 0;
		if (acpi && option(opts, nopts, "pcie") == 1)
			v[n++] = "pcie.0";
		/* a second IOAPIC gives virtio-mmio 24 lines instead of 8 */
		n = add(v, n, mmio, acpi && option(opts, nopts, "ioapic2") != 0 ? 24 : 8);
		v[n++] = "isa.0";
		usb = usb && acpi;
	} else if (!strcmp(type, "none")) {
		usb = 0;
	} else {
		return -1;
	}
	if (usb)
		v[n++] = "usb-bus.0";
	v[n++] = "main-system-bus";
	return n;
}
